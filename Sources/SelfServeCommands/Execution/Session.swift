import Foundation
import SelfServeCore

/// Plugins as the session sees them: a policy engine that is told which store the current command runs on.
public protocol SessionPolicy: PolicyEngine {
    /// Called before every command with its store, and with nil after it, so that read-only helpers
    /// (`ss.user`, …) read inside the command's own transaction.
    func attach(_ store: Store?)
}

extension NoPolicy: SessionPolicy {
    public func attach(_ store: Store?) {}
}

/// What a session is built from: chosen once by the composition root (`SelfServeMain`), so that the
/// executor names no storage or scripting engine.
public struct Backends {
    /// Opens the database named by `--db` (a SQLite file; PostgreSQL later).
    public var open: DatabaseOpener
    /// Makes the policy engine the first time a command needs one (plugins load once per process).
    public var policy: (Session) throws -> SessionPolicy
    /// Whether Ctrl-C was pressed: asked while a command waits for another process's lock.
    public var interrupted: @Sendable () -> Bool

    public init(
        open: @escaping DatabaseOpener,
        policy: @escaping (Session) throws -> SessionPolicy,
        interrupted: @escaping @Sendable () -> Bool
    ) {
        self.open = open
        self.policy = policy
        self.interrupted = interrupted
    }
}

/// One run of selfserve — a one-shot command, a shell, a batch or a script — and its executor.
///
/// It opens the database once, resolves the acting user, runs every command in its own transaction
/// (or a savepoint inside `begin`/`--atomic`), writes the audit log, rolls back on error and on
/// `--dry-run`, and delivers plugin events after commit. Commands never do any of this themselves;
/// `run` (access `.script`) gets its transaction — `--atomic`, `--dry-run` — from here too.
public final class Session: CommandEnvironment {
    /// The variables it runs with (`SELFSERVE_NOW`, `SELFSERVE_USER`, …), read per command: a test
    /// may move the simulated clock between commands.
    public var environment: [String: String]
    public let databasePath: String
    /// The location as it was named (`--db`, `SELFSERVE_DB` or the default), before `databasePath`
    /// resolved it: a command naming it again is the same database without resolving it again.
    private let namedLocation: String
    public let logins: LoginStore
    /// `--as` given to the whole session (a script cannot change it).
    public let sessionActor: String?
    public var isInteractive: Bool
    /// Reads lines of stdin for `--card-stdin`; the batch runner replaces it so that card lines do
    /// not get mixed with command lines.
    public var stdinLines: () -> String? = { readLine(strippingNewline: true) }
    public var secretReader: (String) throws -> String = { _ in
        throw SelfServeError(.usage, "no terminal to ask on; pass --card-stdin")
    }
    public var confirmer: (String) -> Bool = { _ in false }
    public var output: (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
    public var errorOutput: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    public let backends: Backends

    private var database: SelfServeDatabase? {
        didSet { knownTestClockOrganization = false }
    }
    /// Set once a write found the open database to be a test-clock organization, which it stays (`init`
    /// alone chooses the clock): the lines of a batch after it need not ask again.
    private var knownTestClockOrganization = false
    private var policy: SessionPolicy?
    private var ids: IdGenerator
    /// Events of commands inside an open `begin`/`--atomic`, delivered when it commits.
    private var pendingEvents: [PlainValue] = []
    private var userTransactionOpen = false

    public init(
        databasePath: String?,
        actingUser: String?,
        isInteractive: Bool,
        environment: [String: String] = ProcessEnvironment.current(),
        backends: Backends
    ) {
        self.backends = backends
        self.environment = environment
        namedLocation =
            databasePath ?? environment["SELFSERVE_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Paths.defaultDatabase(environment)
        self.databasePath = Paths.absolute(namedLocation)
        self.logins = LoginStore(environment: environment)
        self.sessionActor = actingUser
        self.isInteractive = isInteractive
        self.ids = IdGenerator(seed: environment["SELFSERVE_ID_SEED"].flatMap { UInt64($0) })
    }

    /// The acting user of a command: `--as` > `SELFSERVE_USER` > the saved login.
    public func actor(for command: GlobalOptions? = nil) -> String? {
        // On a server the login role is who acts; what else names someone was checked against it.
        if case .proven(_, let email, _) = databaseIdentity { return email }
        return assertedActor(for: command)
    }

    /// Who `--as`, `SELFSERVE_USER` or the saved login name, whatever the database proves.
    private func assertedActor(for command: GlobalOptions?) -> String? {
        if let a = command?.actingUser ?? sessionActor { return a }
        if let a = environment["SELFSERVE_USER"], !a.isEmpty { return a }
        return logins.user(for: databasePath)
    }

    public func clock() throws -> Clock {
        if let now = environment["SELFSERVE_NOW"], !now.isEmpty { return try FixedClock(parsing: now) }
        return SystemClock()
    }

    // MARK: Database

    public func openDatabase(create: Bool = false) throws -> SelfServeDatabase {
        if let database { return database }
        let db = try backends.open(databasePath, create, backends.interrupted)
        // A new database has nobody in it to prove yet (init names its first admin).
        databaseIdentity = db.isNew ? .asserted : try db.identity()
        database = db
        return db
    }

    /// Who the database says is connected, asked once when it is opened (a login role does not change
    /// during a connection).
    public private(set) var databaseIdentity: DatabaseIdentity = .asserted

    /// On a server, `--as`, `SELFSERVE_USER` and the saved login may only name the user the login role
    /// is mapped to: they cannot make anyone else act.
    private func checkAssertedIdentity(_ g: GlobalOptions) throws {
        guard case .proven(let role, let email, _) = databaseIdentity else { return }
        let asserted = assertedActor(for: g).map { (try? Email.normalize($0)) ?? $0.lowercased() }
        guard let email else {
            throw SelfServeError(
                .notSignedIn,
                "the login role \(role) is mapped to no user of this organization\(asserted.map { " (--as \($0) is refused: the database decides who you are)" } ?? ""); an admin maps it with 'user map EMAIL --db-role \(role)'"
            )
        }
        if let asserted, asserted != email {
            throw SelfServeError.forbidden(
                "you are \(email) on this database (login role \(role)); acting as \(asserted) is refused: the database decides who you are"
            )
        }
    }

    /// A failed or dry-run `init` leaves the database as it found it: absent, or empty.
    private func forgetCreatedDatabase(_ db: SelfServeDatabase) {
        guard db.isNew else { return }
        db.undoCreation()
        database = nil
    }

    /// Closes the database, if open, at the end of a one-shot command (errors are moot by then: the
    /// command's transaction has ended either way).
    public func closeDatabase() {
        try? database?.close()
    }

    /// The store of the open database, for a short read outside any command (completion, the prompt,
    /// a script's read-only helpers).
    public func withStore<T>(_ body: (Store) throws -> T) throws -> T {
        try openDatabase().read(body)
    }

    public func copyOrganization(to location: String, by admin: String, commit: Bool) throws -> OrganizationCopy {
        // The copy commits on its own: inside begin/--atomic it would copy what may still be rolled back.
        guard !userTransactionOpen else {
            throw SelfServeError.conflict("copy --to cannot run inside a transaction (begin or --atomic); commit first")
        }
        let source = try openDatabase()
        let target = try backends.open(Paths.absolute(location), true, backends.interrupted)
        defer { try? target.close() }
        do {
            let copy = try source.copyOrganization(to: target, by: admin, commit: commit)
            if !commit { target.undoCreation() }
            return copy
        } catch {
            target.undoCreation()
            throw target.describe(error)
        }
    }

    private func policyEngine() throws -> SessionPolicy {
        if let policy { return policy }
        let p = try backends.policy(self)
        policy = p
        return p
    }

    // MARK: User transactions (shell `begin`, `--atomic`)

    public var inTransaction: Bool { userTransactionOpen }

    public func begin() throws {
        guard !inTransaction else {
            throw SelfServeError.conflict("a transaction is already open; commit or rollback first")
        }
        try openDatabase().beginTransaction()
        userTransactionOpen = true
    }

    public func commit() throws {
        guard inTransaction else { throw SelfServeError.conflict("no transaction is open; 'begin' starts one") }
        let db = try openDatabase()
        userTransactionOpen = false
        do {
            try db.endTransaction(.commit)
        } catch {
            pendingEvents = []
            writeDeferredFailures(db)
            throw db.describe(error)
        }
        let events = pendingEvents
        pendingEvents = []
        writeDeferredFailures(db)
        deliver(events, db)
    }

    public func rollback() throws {
        guard inTransaction else { throw SelfServeError.conflict("no transaction is open; 'begin' starts one") }
        let db = try openDatabase()
        userTransactionOpen = false
        pendingEvents = []
        defer { writeDeferredFailures(db) }
        try db.endTransaction(.rollback)
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
    static func dryRunLines(_ ctx: CommandContext, _ decisions: [PolicyDecision]) -> [String] {
        ctx.auditTrail.map { "  would \($0.action) \($0.target) \($0.details)" }
            + decisions.map { "  plugin \($0.summary)" }
    }

    /// `--explain`: every policy decision of the command, on stderr, whether it succeeded or not.
    private func explain(_ decisions: [PolicyDecision]) {
        if decisions.isEmpty { warn("explain: no plugin was asked") }
        for d in decisions { warn("explain: \(d.trace)") }
    }

    // MARK: Executing

    /// Writes a result whose rows stream (`CommandResult.stream`) while the command's transaction is
    /// open, so that a list of any length is never held whole.
    public typealias StreamWriter = (CommandResult, GlobalOptions) throws -> Void

    /// Parses words and runs them: the one path of the CLI, the shell, batch lines and `ss.exec`.
    /// Without a `writer`, streamed rows are collected into the result's value.
    public func run(words: [String], writer: StreamWriter? = nil) throws -> CommandResult {
        switch try CommandParser.parse(words) {
        case .command(let command): return try execute(command, writer: writer)
        case .help(let text): return .text(text)
        case .session: throw SelfServeError(.usage, CommandParser.missingSubcommand(words))
        }
    }

    /// For `ss.exec`: the result as a value.
    public func execute(words: [String]) throws -> PlainValue {
        try run(words: words).value
    }

    public func execute(_ command: any SelfServeCommand, writer: StreamWriter? = nil) throws -> CommandResult {
        let g = command.globals
        if let db = g.db, db != namedLocation, Paths.absolute(db) != databasePath {
            throw SelfServeError(.usage, "--db cannot change inside a session (this one uses \(databasePath))")
        }
        if scriptRunning, let a = g.actingUser, a.lowercased() != (actor(for: nil) ?? "").lowercased() {
            throw SelfServeError.forbidden("a script cannot change who it acts as (\(actor(for: nil) ?? "nobody"))")
        }
        if scriptRunning, type(of: command).changesActingUser {
            throw SelfServeError.forbidden(
                "a script acts as \(actor(for: nil) ?? "nobody") to its end: \(type(of: command)._commandName) is refused inside it"
            )
        }
        if g.format == .html && !type(of: command).acceptsHTML {
            throw SelfServeError(.usage, "--format html is for 'invoice export'; use table, json, ndjson or csv")
        }
        let access = type(of: command).access
        switch access {
        case .none:
            return try command.execute(self)
        case .script:
            return try executeScript(command)
        case .create:
            let db = try openDatabase(create: true)
            do {
                let result = try executeInTransaction(command, db, access: access, writer: writer)
                if g.dryRun {
                    forgetCreatedDatabase(db)
                } else {
                    // Now there is someone to prove: the rest of this session acts as its login role too.
                    databaseIdentity = try db.identity()
                }
                return result
            } catch {
                forgetCreatedDatabase(db)
                throw error
            }
        case .read, .write:
            if let database { try database.checkStillThere() }
            let db = try openDatabase()
            if type(of: command).needsActor { try checkAssertedIdentity(g) }
            do {
                return try executeInTransaction(command, db, access: access, writer: writer)
            } catch let e as SelfServeError where e.code == .conflict && backends.interrupted() {
                // The wait for another process's lock was stopped by Ctrl-C, not by the timeout.
                throw SelfServeError.invalid("interrupted (Ctrl-C) while waiting for the database; nothing was changed")
            }
        }
    }

    public var scriptRunning = false
    /// The batch line being run (`-f FILE`): a write command that commits records it in its own
    /// transaction, so that `--resume` skips exactly the lines that committed — also after a kill.
    public var batchLine: (file: String, line: Int, textHash: String)?
    /// `--atomic` given on the command line before the command (ArgumentParser gives it to the root).
    public var atomicRequested = false

    /// `run`: the script runs its commands itself (`ss.exec`), each through `execute`; the session
    /// gives it one transaction when it is `--atomic` or a `--dry-run`.
    private func executeScript(_ command: any SelfServeCommand) throws -> CommandResult {
        if scriptRunning { throw SelfServeError.conflict("a script cannot run another script") }
        scriptRunning = true
        defer { scriptRunning = false }
        // A dry run of a script is one transaction rolled back at its end: every ss.exec runs and sees
        // the effects of the ones before it, and nothing is kept.
        if command.globals.dryRun && !inTransaction {
            try beginDryRun()
            let result: CommandResult
            do {
                result = try command.execute(self)
            } catch {
                warn(endDryRun())
                throw error
            }
            var dry = CommandResult.none(note: endDryRun())
            dry.value = result.value
            return dry
        }
        // The script's commands are not the batch line: the line is marked once the script has ended —
        // inside its transaction when it has one (`--atomic`), so a kill never leaves half of it marked.
        let line = batchLine
        batchLine = nil
        defer { batchLine = line }
        let ownTransaction = (command.atomic || atomicRequested) && !inTransaction
        if ownTransaction { try begin() }
        do {
            let result = try command.execute(self)
            if let line { try mark(line) }
            if ownTransaction { try commit() }
            return result
        } catch {
            if ownTransaction { try? rollback() }
            throw error
        }
    }

    private func executeInTransaction(
        _ command: any SelfServeCommand,
        _ db: SelfServeDatabase,
        access: DatabaseAccess,
        writer: StreamWriter?
    ) throws -> CommandResult {
        let g = command.globals
        let nested = inTransaction
        let policy = try policyEngine()
        var context: CommandContext?
        var events: [PlainValue] = []
        var decisions: [PolicyDecision] = []
        do {
            let result = try db.unit(write: access != .read) { store -> (CommandResult, Completion) in
                policy.attach(store)
                defer { policy.attach(nil) }
                let (clock, refusal) = try clockFor(command, access: access, store: store)
                let ctx = CommandContext(
                    store: store,
                    policy: policy,
                    clock: clock,
                    actorEmail: actor(for: g),
                    ids: ids
                )
                context = ctx
                defer { ids = ctx.ids }
                if let refusal { throw refusal }
                let key = access == .write && !g.dryRun ? g.idempotencyKey : nil
                if let key, let replay = try replay(command, key: key, ctx: ctx) { return (replay, .commit) }
                var result = try command.execute(ctx, self)
                if let stream = result.stream {
                    // Inside the transaction: the rows are read (or made) while they are written out.
                    // An idempotency key keeps the whole result, so it needs them collected.
                    result.stream = nil
                    var count = 0
                    if let writer, !g.dryRun, key == nil {
                        var r = result
                        r.stream = { row in
                            try stream {
                                count += 1
                                try row($0)
                            }
                        }
                        try writer(r, g)
                        result.streamed = true
                    } else {
                        var rows: [PlainValue] = []
                        try stream { rows.append($0) }
                        count = rows.count
                        if let field = result.streamedField, case .object(let fields) = result.value {
                            result.value = .object(fields + [(field, .array(rows))])
                        } else {
                            result.value = .array(rows)
                        }
                    }
                    if let note = result.noteAfterStream { result.note = note(count) }
                }
                for entry in ctx.auditTrail { try store.appendAudit(entry) }
                decisions = policy.takeDecisions()
                if dryRunAll && !g.dryRun { dryRunNotes += Self.dryRunLines(ctx, decisions) }
                if g.dryRun {
                    result.note = ([Self.dryRunHeading] + Self.dryRunLines(ctx, decisions)).joined(separator: "\n")
                    return (result, .rollback)
                }
                if type(of: command).alwaysRollsBack { return (result, .rollback) }
                if let line = batchLine, access != .read { try save(line, at: ctx.now, in: store) }
                if let key {
                    try store.saveIdempotencyRecord(
                        IdempotencyRecord(
                            actor: Self.owner(ctx.actorEmail),
                            key: key,
                            command: command.canonicalForm,
                            result: result.storedForm,
                            createdAt: ctx.timestamp
                        )
                    )
                }
                events = ctx.events
                return (result, .commit)
            }
            if let file = result.file, !g.dryRun {
                try OutputFile.write(file.text, to: file.path, force: file.replace)
            }
            if g.explain { explain(decisions) }
            if nested { pendingEvents += events } else { deliver(events, db) }
            return result
        } catch {
            if g.explain { explain(decisions + policy.takeDecisions()) }
            let failure = db.describe(error)
            if access != .read, let subject = command.auditSubject, let ctx = context {
                recordFailure(failure, subject: subject, ctx: ctx, db, nested: nested, dryRun: g.dryRun || dryRunAll)
            }
            throw failure
        }
    }

    /// Records a batch line as committed (in the open transaction, if any).
    private func mark(_ line: (file: String, line: Int, textHash: String)) throws {
        let now = try clock().now
        try openDatabase().unit(write: true) { store in
            try save(line, at: now, in: store)
            return ((), .commit)
        }
    }

    /// Set once this session has forgotten the expired marks: once per run is enough, not once per line.
    private var expiredMarksForgotten = false

    /// Writes a batch line's mark in the store's current transaction.
    private func save(_ line: (file: String, line: Int, textHash: String), at now: Date, in store: Store) throws {
        if !expiredMarksForgotten {
            // Housekeeping: should this transaction roll back, a later run forgets them instead.
            try store.deleteBatchMarks(
                committedBefore: Timestamp.format(now.addingTimeInterval(-BatchMark.lifetimeSeconds))
            )
            expiredMarksForgotten = true
        }
        try store.saveBatchMark(
            BatchMark(
                actor: batchActor,
                file: line.file,
                line: line.line,
                textHash: line.textHash,
                committedAt: Timestamp.format(now)
            )
        )
    }

    /// Who a batch's committed lines belong to: the batch's acting user.
    public var batchActor: String { Self.owner(actor(for: nil)) }

    /// Whether an earlier run of `file` by the batch's acting user committed this line, unchanged.
    public func committedBefore(file: String, line: Int, textHash: String) throws -> Bool {
        // The actor inside: on a server, who acts is known once the database is open.
        try withStore { try $0.hasBatchMark(actor: batchActor, file: file, line: line, textHash: textHash) }
    }

    /// Who a kept result or a batch mark belongs to: the acting user as given (normalized), or `system`
    /// (the billing service) when nobody acts.
    private static func owner(_ actor: String?) -> String {
        guard let raw = actor, !raw.isEmpty else { return "system" }
        return (try? Email.normalize(raw)) ?? raw.lowercased()
    }

    /// The result kept under `key` for this command, if any (and nothing is done again); a key kept for
    /// another command is a conflict. Keys older than a day are forgotten first.
    private func replay(_ command: any SelfServeCommand, key: String, ctx: CommandContext) throws -> CommandResult? {
        try IdempotencyRecord.validate(key)
        let store = ctx.store
        try store.deleteIdempotencyRecords(
            createdBefore: Timestamp.format(ctx.now.addingTimeInterval(-IdempotencyRecord.lifetimeSeconds))
        )
        guard let record = try store.idempotencyRecord(actor: Self.owner(ctx.actorEmail), key: key) else { return nil }
        guard record.command == command.canonicalForm else {
            throw SelfServeError.conflict(
                "the idempotency key '\(Sanitize.forDisplay(key))' was used at \(record.createdAt) for another command; use a new key"
            )
        }
        var result = try CommandResult(storedForm: record.result)
        let replayed =
            "replayed: the result kept at \(record.createdAt) under idempotency key '\(Sanitize.forDisplay(key))'; nothing was done again"
        result.note = result.note.map { $0 + "\n" + replayed } ?? replayed
        return result
    }

    /// The clock a command runs on. `SELFSERVE_NOW` moves it for reads and dry runs everywhere, for
    /// writes only in a test-clock organization; a write under it elsewhere is refused (returned, so
    /// that the refusal is audited like any other).
    private func clockFor(
        _ command: any SelfServeCommand,
        access: DatabaseAccess,
        store: Store
    ) throws -> (Clock, SelfServeError?) {
        let clock = try self.clock()
        // The real calendar: a server's clock when there is one (machines sharing it may disagree).
        let real: Clock = try database?.serverNow().map(FixedClock.init) ?? SystemClock()
        guard clock is FixedClock else { return (real, nil) }
        switch access {
        case .create where !command.createsTestClock:
            // A live organization starts on the real calendar.
            return (real, nil)
        case .write where !command.globals.dryRun && !type(of: command).alwaysRollsBack:
            if !knownTestClockOrganization {
                let organized = try store.organization() != nil
                if organized, try store.setting(CommandContext.testClockSetting) != "1" {
                    return (
                        real,
                        .forbidden(
                            "SELFSERVE_NOW applies to writes only in a test-clock organization (init --test-clock); here it is for reads and --dry-run forecasts"
                        )
                    )
                }
                knownTestClockOrganization = organized
            }
            return (clock, nil)
        default:
            return (clock, nil)
        }
    }

    /// Failed attempts made inside a transaction (`begin`, `--atomic`, a dry-run batch), written once it
    /// ends, committed or rolled back: nobody probes without a trace.
    private var deferredFailures: [AuditEntry] = []

    private func writeDeferredFailures(_ db: SelfServeDatabase) {
        guard !deferredFailures.isEmpty else { return }
        let entries = deferredFailures
        deferredFailures = []
        append(entries, db)
    }

    /// Writes audit rows in a transaction of their own; a failure to write them is not the command's.
    private func append(_ entries: [AuditEntry], _ db: SelfServeDatabase) {
        _ = try? db.unit(write: true) { store in
            for e in entries { try store.appendAudit(e) }
            return ((), .commit)
        }
    }

    /// Refused and failed attempts are audited too, outside the rolled-back transaction (also under
    /// `--dry-run`, marked `"dry_run": true`).
    private func recordFailure(
        _ error: SelfServeError,
        subject: (action: String, target: String),
        ctx: CommandContext,
        _ db: SelfServeDatabase,
        nested: Bool,
        dryRun: Bool
    ) {
        // A usage error or a database error says nothing about the actor's intent worth keeping.
        if error.code == .usage || error.code == .notSignedIn { return }
        var details: [(String, PlainValue)] = [
            ("code", .string(error.code.rawValue)), ("message", .string(error.message)),
        ]
        if let p = error.plugin { details.append(("plugin", .string(p))) }
        if dryRun { details.append(("dry_run", .bool(true))) }
        let entry = AuditEntry(
            at: ctx.timestamp,
            actor: ctx.auditActor,
            action: subject.action,
            target: subject.target,
            outcome: error.isDenial ? .denied : .failed,
            details: .object(details)
        )
        if nested {
            deferredFailures.append(entry)
        } else {
            append([entry], db)
        }
    }

    /// Plugins' `on_event`, after commit. What they log is kept in an audit row of its own; what fails
    /// is reported and undoes nothing.
    private func deliver(_ events: [PlainValue], _ db: SelfServeDatabase) {
        guard !events.isEmpty, let policy else { return }
        for event in events {
            // Outside the committed transaction: the plugin's helpers read the committed state.
            let (problems, logs) =
                (try? db.read { store -> ([String], [String]) in
                    policy.attach(store)
                    defer { policy.attach(nil) }
                    return (policy.notify(event), policy.takeLogMessages())
                }) ?? ([], [])
            for problem in problems { warn("warning: \(problem)") }
            guard !logs.isEmpty || !problems.isEmpty else { continue }
            var details: [(String, PlainValue)] = [("event", event["type"] ?? .null)]
            if !logs.isEmpty { details.append(("plugin_log", .array(logs.map { .string($0) }))) }
            if !problems.isEmpty { details.append(("errors", .array(problems.map { .string($0) }))) }
            append(
                [
                    AuditEntry(
                        at: Timestamp.format((try? clock().now) ?? Date()),
                        actor: event["actor"]?.stringValue ?? "system",
                        action: "plugin.on_event",
                        target: event["target"]?.stringValue ?? "",
                        outcome: problems.isEmpty ? .ok : .failed,
                        details: .object(details)
                    )
                ],
                db
            )
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
            throw SelfServeError.notFound(
                "cannot read \(path): \(FileManager.default.fileExists(atPath: full) ? "permission denied" : "no such file")"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SelfServeError.invalid("\(path) is not UTF-8 text")
        }
        return text
    }

    public func readStdinLine() -> String? { stdinLines() }
    public func readSecret(prompt: String) throws -> String { try secretReader(prompt) }
    public func confirm(_ question: String) -> Bool { confirmer(question) }
    public func printLine(_ text: String) { output(text) }
    public func warn(_ text: String) { errorOutput(text) }
}
