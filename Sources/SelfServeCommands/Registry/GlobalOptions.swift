import ArgumentParser
import SelfServeCore

/// Options every command accepts, before or after its name (`selfserve --json user list` and
/// `selfserve user list --json` are the same), so that scripts can put them where they like.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Database file (default $XDG_DATA_HOME/selfserve/selfserve.sqlite; env SELFSERVE_DB).",
            valueName: "path"
        ),
        completion: .file()
    )
    public var db: String?

    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "Act as this user (env SELFSERVE_USER; else the user saved by 'login').",
            valueName: "email"
        ),
        completion: .emails
    )
    public var actingUser: String?

    @Flag(name: .long, help: "Same as --format json.")
    public var json = false

    @Option(
        name: .long,
        help: ArgumentHelp("Output format: table, json, ndjson or csv.", valueName: "format"),
        completion: .outputFormats
    )
    public var format: OutputFormat?

    @Flag(
        name: .customLong("dry-run"),
        help: "Do everything (validation, policies), then roll back and show what would have happened."
    )
    public var dryRun = false

    @Flag(help: "Print every policy decision of the command on stderr: plugin, hook, answer, time.")
    public var explain = false

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp(
            "A write command: keep its result 24 hours under KEY; the same KEY and command returns it again and does nothing.",
            valueName: "key"
        )
    )
    public var idempotencyKey: String?

    public init() {}

    /// The format asked for on this command line, if any.
    public var requestedFormat: OutputFormat? { json ? .json : format }

    /// Combines the root's options with a command's: the command's win where both are given.
    public func merged(over outer: GlobalOptions) -> GlobalOptions {
        var m = self
        m.db = db ?? outer.db
        m.actingUser = actingUser ?? outer.actingUser
        m.json = json || outer.json
        m.format = format ?? outer.format
        m.dryRun = dryRun || outer.dryRun
        m.explain = explain || outer.explain
        m.idempotencyKey = idempotencyKey ?? outer.idempotencyKey
        return m
    }
}

/// The output formats of `--format` (docs/COMMANDS.md).
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv
    /// Only for `invoice export`.
    case html
}

// ArgumentParser finds a type's options by reflecting a fresh instance, twice per parse of every command
// (the global options are part of each). The children listed here are what the runtime's reflection
// finds — the property wrappers' storage, under its names — without decoding a type (commands use a
// table of their properties built once per type, `StoredProperties.swift`; these seven are in every
// command, so not even a one-shot command decodes their types). A test checks they are the stored
// properties, all of them and in order, so that an option added above and not here fails the tests
// instead of vanishing.
extension GlobalOptions: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: MirrorChildren([
                ("_db", _db), ("_actingUser", _actingUser), ("_json", _json), ("_format", _format),
                ("_dryRun", _dryRun), ("_explain", _explain), ("_idempotencyKey", _idempotencyKey),
            ]),
            displayStyle: .struct
        )
    }
}

// The values of an option's enum, for its help and completion, are listed once: ArgumentParser asks for
// them each time it builds the option's definition — on every parse of every command, as `--format` is
// a global option — and its default builds a key path at run time for each (perf: 2% of a batch line).
// Their descriptions are none (a value describes itself by its raw value, so ArgumentParser's default
// finds none either, a test checks): its default reduces `allCases` through a generic function, which
// costs a one-shot command a first-time conformance scan (~270,000 instructions, 3% of `whoami`).
extension OutputFormat: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
    public static let allValueDescriptions: [String: String] = [:]
}
extension Term: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
    public static let allValueDescriptions: [String: String] = [:]
}
extension Organization.Cloud: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
    public static let allValueDescriptions: [String: String] = [:]
}
extension Subscription.Status: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
    public static let allValueDescriptions: [String: String] = [:]
}

extension SelfServicePolicy: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["enabled", "disabled", "trials-only"] }
}
