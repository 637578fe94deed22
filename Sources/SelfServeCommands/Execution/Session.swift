import Foundation
import SelfServeCore
import SelfServeLua
import SelfServeStore

/// Plugins as the session sees them: a policy engine that is told which store the current command runs on.
public protocol SessionPolicy: PolicyEngine {
    /// Called before every command with its store, and with nil after it, so that read-only helpers
    /// (`ss.user`, …) read inside the command's own transaction.
    func attach(_ store: Store?)
}

extension NoPolicy: SessionPolicy {
    public func attach(_ store: Store?) {}
}

extension LuaPolicyEngine: SessionPolicy {}

/// One run of selfserve — a one-shot command, a shell, a batch or a script — and its executor.
///
/// It opens the database once, resolves the acting user, runs every command in its own transaction
/// (or a savepoint inside `begin`/`--atomic`), writes the audit log, rolls back on error and on
/// `--dry-run`, and delivers plugin events after commit. Commands never do any of this themselves.
public final class Session: CommandEnvironment {
    /// The variables it runs with (`SELFSERVE_NOW`, `SELFSERVE_USER`, …), read per command: a test
    /// may move the simulated clock between commands.
    public var environment: [String: String]
    public let databasePath: String
    public let logins: LoginStore
    /// `--as` given to the whole session (a script cannot change it).
    public let sessionActor: String?
    public var isInteractive: Bool
    /// Reads lines of stdin for `--card-stdin`; the batch runner replaces it so that card lines do
    /// not get mixed with command lines.
    public var stdinLines: () -> String? = { readLine(strippingNewline: true) }
    public var secretReader: (String) throws -> String = { _ in throw SelfServeError(.usage, "no terminal to ask on; pass --card-stdin") }
    public var confirmer: (String) -> Bool = { _ in false }
    public var output: (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
    public var errorOutput: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Makes the policy engine the first time a command needs one (plugins load once per process).
    public var policyFactory: (Session) throws -> SessionPolicy = { session in
        let engine = LuaPolicyEngine(limits: session.luaLimits)
        // Weak: the session owns the engine.
        engine.api.clock = { [weak session] in (try? session?.clock()) ?? SystemClock() }
        engine.api.withStore = { [weak session] body in
            guard let session else { throw SelfServeError.invalid("the session has ended") }
            return try session.withStore(body)
        }
        return engine
    }
    /// Writes streamed rows as they come, in the format of the command; set by the shell layer. Without
    /// one, streamed rows are collected into the result.
    public var streamRenderer: ((CommandResult, GlobalOptions) throws -> Void)?

    private var database: SQLiteDatabase?
    private var policy: SessionPolicy?
    private var ids: IdGenerator
    /// Events of commands inside an open `begin`/`--atomic`, delivered when it commits.
    private var pendingEvents: [PlainValue] = []
    private var savepointDepth = 0

    public init(databasePath: String?, actingUser: String?, isInteractive: Bool,
                environment: [String: String] = ProcessEnvironment.current()) {
        self.environment = environment
        self.databasePath = Paths.absolute(databasePath ?? environment["SELFSERVE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? Paths.defaultDatabase(environment))
        self.logins = LoginStore(environment: environment)
        self.sessionActor = actingUser
        self.isInteractive = isInteractive
        self.ids = IdGenerator(seed: environment["SELFSERVE_ID_SEED"].flatMap { UInt64($0) })
    }

    /// The acting user of a command: `--as` > `SELFSERVE_USER` > the saved login.
    public func actor(for command: GlobalOptions? = nil) -> String? {
        if let a = command?.actingUser ?? sessionActor { return a }
        if let a = environment["SELFSERVE_USER"], !a.isEmpty { return a }
        return logins.user(for: databasePath)
    }

    public func clock() throws -> Clock {
        if let now = environment["SELFSERVE_NOW"], !now.isEmpty { return try FixedClock(parsing: now) }
        return SystemClock()
    }

    // MARK: Database

    public func openDatabase(create: Bool = false) throws -> SQLiteDatabase {
        if let database { return database }
        let db = try SQLiteDatabase(path: databasePath, create: create, interrupted: { LuaState.interruptRequested })
        database = db
        return db
    }

    /// A failed or dry-run `init` leaves the file as it found it: absent, or empty.
    private func forgetCreatedDatabase(_ db: SQLiteDatabase) {
        guard db.origin != .existing else { return }
        db.undoCreation()
        database = nil
    }

    /// Closes the database, if open, at the end of a one-shot command (errors are moot by then: the
    /// command's transaction has ended either way).
    public func closeDatabase() {
        try? database?.close()
    }

    /// The store of the open database, for a short read outside any command (completion, the prompt).
    public func withStore<T>(_ body: (Store) throws -> T) throws -> T {
        try openDatabase().withStore { try body($0) }
    }

    private func policyEngine() throws -> SessionPolicy {
        if let policy { return policy }
        let p = try policyFactory(self)
        policy = p
        return p
    }

    // MARK: User transactions (shell `begin`, `--atomic`)

    public var inTransaction: Bool { savepointDepth > 0 }

    public func begin() throws {
        guard !inTransaction else { throw SelfServeError.conflict("a transaction is already open; commit or rollback first") }
        try openDatabase().withStore { store in try store.begin(write: true) }
        savepointDepth = 1
    }

    public func commit() throws {
        guard inTransaction else { throw SelfServeError.conflict("no transaction is open; 'begin' starts one") }
        try openDatabase().withStore { store in try store.commit() }
        savepointDepth = 0
        let events = pendingEvents
        pendingEvents = []
        try openDatabase().withStore { store in
            writeDeferredFailures(store)
            deliver(events, store: store)
        }
    }

    public func rollback() throws {
        guard inTransaction else { throw SelfServeError.conflict("no transaction is open; 'begin' starts one") }
        try openDatabase().withStore { store in
            if store.isInTransaction { try store.rollback() }
            writeDeferredFailures(store)
        }
        savepointDepth = 0
        pendingEvents = []
    }

    // MARK: Dry runs of a whole batch or script

    /// Set while a whole batch or script is a dry run: one transaction, rolled back at its end.
    public private(set) var dryRunAll = false
    /// What the commands of that dry run did and which policies decided what.
    private var dryRunNotes: [String] = []

    /// Starts a dry run of everything that follows (a batch, a script): later commands see earlier
    /// ones' effects, and `endDryRun` keeps none of them.
    public func beginDryRun() throws {
        try begin()
        dryRunAll = true
        dryRunNotes = []
    }

    /// Rolls the dry run back; returns the note listing every change and policy decision.
    public func endDryRun() -> String {
        if inTransaction { try? rollback() }
        dryRunAll = false
        defer { dryRunNotes = [] }
        return ([Self.dryRunHeading] + dryRunNotes).joined(separator: "\n")
    }

    static let dryRunHeading = "dry run: nothing was changed"

    /// What a command of a dry run would have changed, and each policy decision, one line each.
    static func dryRunLines(_ ctx: CommandContext, _ policy: SessionPolicy) -> [String] {
        ctx.auditTrail.map { "  would \($0.action) \($0.target) \($0.details)" } + policy.takeDecisions().map { "  plugin \($0)" }
    }

    // MARK: Executing

    /// Parses words and runs them: the one path of the CLI, the shell, batch lines and `ss.exec`.
    public func run(words: [String]) throws -> CommandResult {
        switch try CommandParser.parse(words) {
        case .command(let command): return try execute(command)
        case .help(let text): return .text(text)
        }
    }

    /// For `ss.exec`: the result as a value, never streamed to the output.
    public func execute(words: [String]) throws -> PlainValue {
        let saved = streamRenderer
        streamRenderer = nil
        defer { streamRenderer = saved }
        return try run(words: words).value
    }

    public func execute(_ command: any SelfServeCommand) throws -> CommandResult {
        let g = command.globals
        if let db = g.db, Paths.absolute(db) != databasePath {
            throw SelfServeError(.usage, "--db cannot change inside a session (this one uses \(databasePath))")
        }
        if scriptRunning, let a = g.actingUser, a.lowercased() != (actor(for: nil) ?? "").lowercased() {
            throw SelfServeError.forbidden("a script cannot change who it acts as (\(actor(for: nil) ?? "nobody"))")
        }
        if scriptRunning, type(of: command).changesActingUser {
            throw SelfServeError.forbidden("a script acts as \(actor(for: nil) ?? "nobody") to its end: \(type(of: command)._commandName) is refused inside it")
        }
        if g.format == .html && !(command is InvoiceExport) {
            throw SelfServeError(.usage, "--format html is for 'invoice export'; use table, json, ndjson or csv")
        }
        let access = type(of: command).access
        switch access {
        case .none, .script:
            return try command.execute(self)
        case .create:
            let db = try openDatabase(create: true)
            do {
                let result = try db.withStore { store in try executeInTransaction(command, store: store, access: access) }
                if g.dryRun { forgetCreatedDatabase(db) }
                return result
            } catch {
                forgetCreatedDatabase(db)
                throw error
            }
        case .read, .write:
            if let database { try database.checkStillThere() }
            let db = try openDatabase()
            do {
                return try db.withStore { store in try executeInTransaction(command, store: store, access: access) }
            } catch let e as SelfServeError where e.code == .conflict && LuaState.interruptRequested {
                // The wait for another process's lock was stopped by Ctrl-C, not by the timeout.
                throw SelfServeError.invalid("interrupted (Ctrl-C) while waiting for the database; nothing was changed")
            }
        }
    }

    public var scriptRunning = false
    /// `--atomic` given on the command line before the command (ArgumentParser gives it to the root).
    public var atomicRequested = false

    private func executeInTransaction(_ command: any SelfServeCommand, store: SQLiteStore, access: DatabaseAccess) throws -> CommandResult {
        let g = command.globals
        let nested = store.isInTransaction
        let savepoint = "ss_command"
        if nested { try store.savepoint(savepoint) } else { try store.begin(write: access != .read) }
        let policy = try policyEngine()
        policy.attach(store)
        defer { policy.attach(nil) }
        var clock = try self.clock()
        var refusal: SelfServeError?
        if clock is FixedClock {
            switch access {
            case .create where !command.createsTestClock:
                // A live organization starts on the real calendar.
                clock = SystemClock()
            case .write where !g.dryRun:
                if try store.organization() != nil, try store.setting(CommandContext.testClockSetting) != "1" {
                    refusal = .forbidden("SELFSERVE_NOW applies to writes only in a test-clock organization (init --test-clock); here it is for reads and --dry-run forecasts")
                    clock = SystemClock()
                }
            default: break
            }
        }
        let ctx = CommandContext(store: store, policy: policy, clock: clock, actorEmail: actor(for: g), ids: ids)
        do {
            if let refusal { throw refusal }
            var result = try command.execute(ctx, self)
            if let stream = result.stream {
                // Inside the transaction: the rows are read while they are written out.
                result.stream = nil
                if let streamRenderer, !g.dryRun {
                    var r = result
                    r.stream = stream
                    try streamRenderer(r, g)
                    result.streamed = true
                } else {
                    var rows: [PlainValue] = []
                    try stream { rows.append($0) }
                    result.value = .array(rows)
                }
            }
            for entry in ctx.auditTrail { try store.appendAudit(entry) }
            ids = ctx.ids
            if dryRunAll && !g.dryRun { dryRunNotes += Self.dryRunLines(ctx, policy) }
            if g.dryRun {
                if nested { try store.rollbackToSavepoint(savepoint) } else { try store.rollback() }
                result.note = ([Self.dryRunHeading] + Self.dryRunLines(ctx, policy)).joined(separator: "\n")
                return result
            }
            if nested {
                try store.releaseSavepoint(savepoint)
                pendingEvents += ctx.events
            } else {
                try store.commit()
                deliver(ctx.events, store: store)
            }
            return result
        } catch {
            let failure = SQLiteDatabase.selfServeError(error, path: databasePath)
            if nested { try? store.rollbackToSavepoint(savepoint) } else if store.isInTransaction { try? store.rollback() }
            ids = ctx.ids
            if access != .read, let subject = command.auditSubject {
                recordFailure(failure, subject: subject, ctx: ctx, store: store, nested: nested, dryRun: g.dryRun || dryRunAll)
            }
            throw failure
        }
    }

    /// Failed attempts made inside a transaction (`begin`, `--atomic`, a dry-run batch), written once it
    /// ends, committed or rolled back: nobody probes without a trace.
    private var deferredFailures: [AuditEntry] = []

    private func writeDeferredFailures(_ store: SQLiteStore) {
        guard !deferredFailures.isEmpty else { return }
        let entries = deferredFailures
        deferredFailures = []
        do {
            try store.begin(write: true)
            for e in entries { try store.appendAudit(e) }
            try store.commit()
        } catch {
            if store.isInTransaction { try? store.rollback() }
        }
    }

    /// Refused and failed attempts are audited too, outside the rolled-back transaction (also under
    /// `--dry-run`, marked `"dry_run": true`).
    private func recordFailure(_ error: SelfServeError, subject: (action: String, target: String), ctx: CommandContext, store: SQLiteStore,
                               nested: Bool, dryRun: Bool) {
        // A usage error or a database error says nothing about the actor's intent worth keeping.
        if error.code == .usage || error.code == .notSignedIn { return }
        var details: [(String, PlainValue)] = [("code", .string(error.code.rawValue)), ("message", .string(error.message))]
        if let p = error.plugin { details.append(("plugin", .string(p))) }
        if dryRun { details.append(("dry_run", .bool(true))) }
        let entry = AuditEntry(at: ctx.timestamp, actor: ctx.auditActor, action: subject.action, target: subject.target,
                               outcome: error.isDenial ? .denied : .failed, details: .object(details))
        if nested {
            deferredFailures.append(entry)
            return
        }
        do {
            try store.begin(write: true)
            try store.appendAudit(entry)
            try store.commit()
        } catch {
            if store.isInTransaction { try? store.rollback() }
        }
    }

    /// Plugins' `on_event`, after commit. What they log is kept in an audit row of its own; what fails
    /// is reported and undoes nothing.
    private func deliver(_ events: [PlainValue], store: SQLiteStore) {
        guard !events.isEmpty, let policy else { return }
        // Outside the committed transaction; helpers read in autocommit mode.
        policy.attach(store)
        for event in events {
            let problems = policy.notify(event)
            for problem in problems { warn("warning: \(problem)") }
            let logs = policy.takeLogMessages()
            guard !logs.isEmpty || !problems.isEmpty else { continue }
            var details: [(String, PlainValue)] = [("event", event["type"] ?? .null)]
            if !logs.isEmpty { details.append(("plugin_log", .array(logs.map { .string($0) }))) }
            if !problems.isEmpty { details.append(("errors", .array(problems.map { .string($0) }))) }
            let entry = AuditEntry(at: Timestamp.format((try? clock().now) ?? Date()), actor: event["actor"]?.stringValue ?? "system",
                                   action: "plugin.on_event", target: event["target"]?.stringValue ?? "",
                                   outcome: problems.isEmpty ? .ok : .failed, details: .object(details))
            do {
                try store.begin(write: true)
                try store.appendAudit(entry)
                try store.commit()
            } catch {
                if store.isInTransaction { try? store.rollback() }
            }
        }
    }

    // MARK: CommandEnvironment

    public func readTextFile(_ path: String) throws -> String {
        if path == "-" {
            var lines: [String] = []
            while let l = stdinLines() { lines.append(l) }
            return lines.joined(separator: "\n")
        }
        let full = Paths.absolute(path)
        guard let data = FileManager.default.contents(atPath: full) else {
            throw SelfServeError.notFound("cannot read \(path): \(FileManager.default.fileExists(atPath: full) ? "permission denied" : "no such file")")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw SelfServeError.invalid("\(path) is not UTF-8 text") }
        return text
    }

    public func readStdinLine() -> String? { stdinLines() }
    public var luaLimits: LuaLimits { LuaLimits(environment: environment) }
    public func readSecret(prompt: String) throws -> String { try secretReader(prompt) }
    public func confirm(_ question: String) -> Bool { confirmer(question) }
    public func printLine(_ text: String) { output(text) }
    public func warn(_ text: String) { errorOutput(text) }
}
