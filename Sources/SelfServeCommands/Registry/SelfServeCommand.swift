import ArgumentParser
import SelfServeCore

/// How a command uses the database; the executor opens the transaction that fits.
public enum DatabaseAccess: Sendable {
    /// No database (e.g. `logout`, `plugin test`).
    case none
    /// Creates the database (`init`).
    case create
    /// Reads only: a deferred transaction, so readers never wait for writers.
    case read
    /// Changes something: an immediate transaction, so two processes never interleave a read-check-write.
    case write
    /// Runs other commands itself (`run`), each in its own transaction.
    case script
}

/// A leaf of the command tree. It parses from words (the CLI, the shell, batch files and Lua's
/// `ss.exec` all give it words) and returns a value; it never opens or commits a transaction (the
/// executor does) and never writes to stdout (the renderer does).
public protocol SelfServeCommand: ParsableCommand, CustomReflectable {
    /// Its name, abstract and discussion (`CommandConfiguration.leaf`); ArgumentParser reads them as
    /// `configuration`, which drops the help flags while `CommandParser.leafParse` parses.
    static var leafConfiguration: CommandConfiguration { get }
    var globals: GlobalOptions { get }
    static var access: DatabaseAccess { get }
    /// The audit action and target recorded when this (mutating) command is refused or fails.
    var auditSubject: (action: String, target: String)? { get }
    /// Runs inside the transaction the executor opened (`read`, `write`, `create`).
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult
    /// Runs without a transaction (`none`, `script`).
    func execute(_ env: CommandEnvironment) throws -> CommandResult
    /// `init --test-clock`: the organization it creates takes `SELFSERVE_NOW` for writes too.
    var createsTestClock: Bool { get }
    /// `login`, `logout`: they change who acts, which a script may never do.
    static var changesActingUser: Bool { get }
    /// Whether the command acts as someone: on a server, the login role must then be mapped to a user
    /// (and `--as` may name only them). The billing run acts for the calendar, not for a person.
    static var needsActor: Bool { get }
    /// `invoice export`: the one command whose `--format` may be `html` (a file format).
    static var acceptsHTML: Bool { get }
    /// `run --atomic`: the executor runs the whole script in one transaction.
    var atomic: Bool { get }
    /// `billing forecast`: it works like a write (the billing run's steps, run ahead) and is always
    /// rolled back, so it is a read for everything else (`SELFSERVE_NOW` in a live organization too).
    static var alwaysRollsBack: Bool { get }
}

extension SelfServeCommand {
    public static var configuration: CommandConfiguration {
        LeafParse.omitsHelpFlags ? leafConfiguration.withoutHelpFlags : leafConfiguration
    }

    /// The runtime's reflection, from a table built once per command type (`StoredProperties.swift`).
    public var customMirror: Mirror { Mirror(storedPropertiesOf: self) }

    public var auditSubject: (action: String, target: String)? { nil }
    public var createsTestClock: Bool { false }
    public static var changesActingUser: Bool { false }
    public static var needsActor: Bool { true }
    public static var acceptsHTML: Bool { false }
    public var atomic: Bool { false }
    public static var alwaysRollsBack: Bool { false }
    public func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult { try execute(env) }
    public func execute(_ env: CommandEnvironment) throws -> CommandResult {
        throw SelfServeError(.usage, "internal: \(Self._commandName) needs the database")
    }

    /// Never called: commands run through `Session.execute`, which owns transactions and output.
    public mutating func run() throws {
        throw SelfServeError(.usage, "internal: \(Self._commandName) must run through the executor")
    }
}

/// What a command hands back to be rendered.
public struct CommandResult {
    public enum Shape: Equatable {
        /// A list of objects: a table, a JSON array, one NDJSON line each, CSV rows.
        case list
        /// One object: a vertical table, a JSON object.
        case object
        /// Something was created: in table mode only its id is printed (scripts capture it).
        case created(id: String)
        /// Nothing to print but a message on stderr (`logout`).
        case none
    }

    public var value: PlainValue
    public var shape: Shape
    /// A line for people, printed on stderr in table mode (never part of the result).
    public var note: String?
    /// Already rendered text that replaces the value in every format (`invoice export`, `history`).
    public var text: String?
    /// Rows produced one at a time inside the command's transaction, for lists too large to hold.
    /// The executor hands them to the session's stream renderer and clears this.
    public var stream: (((PlainValue) throws -> Void) throws -> Void)?
    /// For an object whose one list field streams (`billing run`'s invoices): that field's name. The
    /// rows come after the object's other fields; collected, they become that field of the value.
    public var streamedField: String?
    /// The note, once the rows have streamed: given how many there were (the value cannot say).
    public var noteAfterStream: ((Int) -> String)?
    /// Set when the rows were already written to the output while streaming.
    public var streamed = false
    /// A file the command produced (`invoice export --out`): the executor writes it after the
    /// command's transaction, never under `--dry-run`.
    public var file: File?
    public struct File: Sendable {
        public var path: String
        public var text: String
        /// Whether an existing regular file may be replaced (`--force`).
        public var replace: Bool
    }
    /// The command did its work and it was kept, but part of it failed (a billing run that could not
    /// process some subscriptions): reported after the result, and the exit code is this error's.
    public var failure: SelfServeError?

    public static func streaming(
        columns: [String],
        _ rows: @escaping ((PlainValue) throws -> Void) throws -> Void
    ) -> CommandResult {
        var r = CommandResult(.array([]), .list)
        r.columns = columns
        r.stream = rows
        return r
    }

    /// An object whose field `field` is a list of rows too long to hold (`billing run`'s invoices):
    /// the rows stream after the object's other fields; `columns` are the rows' (CSV shows the rows).
    public static func streaming(
        _ object: PlainValue,
        field: String,
        columns: [String],
        note: @escaping (Int) -> String,
        _ rows: @escaping ((PlainValue) throws -> Void) throws -> Void
    ) -> CommandResult {
        var r = CommandResult(object, .object)
        r.columns = columns
        r.streamedField = field
        r.noteAfterStream = note
        r.stream = rows
        return r
    }

    public init(_ value: PlainValue, _ shape: Shape, note: String? = nil) {
        self.value = value
        self.shape = shape
        self.note = note
    }

    /// The list's columns (`Shapes.Columns`): its CSV header, also when empty, in a stable order.
    public var columns: [String]?
    /// Rows that a table (and CSV) shows instead of the value, when the JSON object does not read well
    /// as a vertical table (`copy`: both sides' counts side by side). Their columns are `columns`.
    public var tableRows: [PlainValue]?

    public static func list(_ v: PlainValue, columns: [String]) -> CommandResult {
        var r = CommandResult(v, .list)
        r.columns = columns
        return r
    }
    public static func object(_ v: PlainValue) -> CommandResult { .init(v, .object) }
    public static func created(_ v: PlainValue, id: String, note: String? = nil) -> CommandResult {
        .init(v, .created(id: id), note: note)
    }
    public static func none(note: String) -> CommandResult { .init(.null, .none, note: note) }
    public static func text(_ t: String, value: PlainValue = .null) -> CommandResult {
        var r = CommandResult(value, .object)
        r.text = t
        return r
    }
}

extension CommandResult {
    /// The result as JSON, to be given again for an idempotency key.
    var storedForm: String {
        let shapeName: String
        var id: String?
        switch shape {
        case .list: shapeName = "list"
        case .object: shapeName = "object"
        case .created(let created):
            shapeName = "created"
            id = created
        case .none: shapeName = "none"
        }
        return JSON.write(
            .object([
                ("value", value), ("shape", .string(shapeName)), ("id", PlainValue(id)), ("note", PlainValue(note)),
                ("text", PlainValue(text)), ("columns", columns.map { .array($0.map { .string($0) }) } ?? .null),
            ])
        )
    }

    /// A result kept by `storedForm`.
    init(storedForm text: String) throws {
        let v = try JSON.parse(text)
        let shape: Shape
        switch v["shape"]?.stringValue {
        case "list": shape = .list
        case "created": shape = .created(id: v["id"]?.stringValue ?? "")
        case "none": shape = .none
        default: shape = .object
        }
        self.init(v["value"] ?? .null, shape, note: v["note"]?.stringValue)
        self.text = v["text"]?.stringValue
        self.columns = v["columns"]?.arrayValue?.compactMap(\.stringValue)
    }
}

extension SelfServeCommand {
    /// The command as an idempotency key remembers it: its path and every argument value, whatever
    /// their order on the line, without the options that only shape output or choose the database.
    var canonicalForm: String {
        let values = Mirror(reflecting: self).children.filter { $0.label != "_globals" }
            .map { "\($0.label ?? "?")=\(String(reflecting: $0.value))" }
        return ([Self._commandName] + values).joined(separator: " ")
    }
}

extension CommandConfiguration {
    /// The configuration of a leaf (a command that runs something).
    ///
    /// It names `selfserve` as the leaf's super-command because `CommandParser.leafParse` parses a leaf
    /// on its own: ArgumentParser then takes it for a root and, before parsing, tries two more parses
    /// of the words looking for `--generate-completion-script`, a root's option — 13% of a batch of
    /// `subscription show` lines, a quarter of their parse (perf). It skips that look for a command
    /// with a super-command. Help and usage are unchanged: they come from the whole tree, whose root is
    /// `SelfServeRoot`, and only a root's super-command shows in them.
    static func leaf(commandName: String, abstract: String, discussion: String = "") -> CommandConfiguration {
        CommandConfiguration(
            commandName: commandName,
            _superCommandName: SelfServeRoot._commandName,
            abstract: abstract,
            discussion: discussion
        )
    }

    /// No `-h`/`--help` (nor the `--help-hidden` ArgumentParser derives from `--help`).
    var withoutHelpFlags: CommandConfiguration {
        var c = self
        c.helpNames = []
        return c
    }
}

/// While `CommandParser.leafParse` parses a leaf: `CommandParser.parse` has already answered `--help`,
/// `-h` and `--help-hidden` (they never reach the parse), and the leaf's configuration then names no
/// help flag.
/// ArgumentParser looks for the help flags after every parse, and derives `--help-hidden` from `--help`
/// by printing an enum value into a string: the first print of that type in a process costs thirteen
/// scans of every protocol conformance in the binary (3.4 M of the 12.1 M instructions of `selfserve
/// whoami`, callgrind), and every later one a generic print (a reflection) per parsed line.
public enum LeafParse {
    @TaskLocal public static var omitsHelpFlags = false
}
