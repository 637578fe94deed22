import Foundation
import SelfServeCore
import SelfServeSQL

/// A selfserve organization kept in a PostgreSQL database: the same store as a SQLite file, on one
/// connection.
///
/// Writers are serialized as SQLite serializes them: every write transaction first takes one
/// transaction-level advisory lock, so a read-check-write (licenses available, then assign) never
/// interleaves with another process's, and two billing runs never charge twice. Reads take no lock.
public final class PostgresDatabase: SQLDatabase {
    /// `pg_advisory_xact_lock` key of selfserve's writers ("SSRV").
    static let writerLock: Int64 = 0x5353_5256

    let connection: PGConnection
    let store: SQLStore
    private let session: PGSession
    public let location: String
    public private(set) var isNew = false
    /// Asked while waiting for another writer: Ctrl-C stops the wait.
    private let interrupted: @Sendable () -> Bool
    /// How long a writer waits for another one before it gives up, as on a SQLite file.
    static let lockTimeoutSeconds = 10.0
    private var depth = 0
    private let assertingIdentity: Bool
    /// Set on a database this process created, until the unit that fills it commits.
    private var needsLockDown = false
    /// The person copying an organization here (`copy --to`): the connecting role becomes them (init's:
    /// the first admin).
    private var copyingAdmin: String?
    private var userTransaction = false
    /// Who connects, as read while opening; stale once anything has run (`init` maps its role).
    private var openedIdentity: DatabaseIdentity?
    /// `now()` of the open transaction, read when it began.
    private var transactionNow: Date?

    /// Opens the database at `uri`. With `create` (`init`), an empty database gets the schema; otherwise it
    /// must already be a selfserve database. A database of another application, or of a newer selfserve,
    /// is refused and left untouched.
    /// With `assertingIdentity`, the acting user is asserted (`--as`) as on a file, whoever connects:
    /// for tests that play many people through one connection (the billing scenarios both backends must
    /// agree on). Never set by the command line, where the login role is who acts.
    public init(
        uri: String,
        create: Bool,
        interrupted: @escaping @Sendable () -> Bool = { false },
        assertingIdentity: Bool = false
    ) throws {
        self.interrupted = interrupted
        self.assertingIdentity = assertingIdentity
        connection = try PGConnection(uri)
        session = PGSession(connection)
        store = SQLStore(session)
        location = connection.location
        // The usual case in one round trip: a selfserve database this role may use, its migrations, and
        // who connects. Anything else (no such table, no privilege) is looked at closely below.
        if !create, let opened = try? connection.execute(Self.openingQuery),
            let migrations = opened.value(0, "migrations")
        {
            openedIdentity = Self.identity(opened)
            try upgrade(applied: Set(migrations.split(separator: ",").map(String.init)))
            return
        }
        // pg_tables lists every table, also those this role has no privilege on (information_schema
        // would hide them, and a locked-down database would look empty).
        let tables = try connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).values.compactMap { $0.first ?? nil }
        if tables.isEmpty {
            guard create else {
                throw SelfServeError.notFound(
                    "no selfserve organization in \(location); create one with 'selfserve --db \(location) init --org NAME --admin EMAIL'"
                )
            }
            try connection.execute(
                script: "BEGIN;\n" + PostgresSchema.create + "\n"
                    + PostgresSchema.migrations.map { "INSERT INTO selfserve_migrations VALUES ('\($0)');" }.joined(
                        separator: "\n"
                    )
                    + "\nCOMMIT;"
            )
            isNew = true
            needsLockDown = true
            return
        }
        guard tables.contains("selfserve_migrations") else {
            throw SelfServeError.invalid(
                "\(location) holds tables of another application, not a selfserve database; it was left untouched"
            )
        }
        let granted = try connection.execute("SELECT has_table_privilege('selfserve_migrations', 'SELECT') AS ok")
        guard granted.value(0, "ok") == "t" else {
            throw SelfServeError.forbidden(
                "the role you connect as may not use the selfserve database \(location); its DBA grants selfserve_user (or selfserve_admin, selfserve_billing) to your login role"
            )
        }
        try upgrade(applied: try appliedMigrations())
    }

    /// Refuses a database of a newer selfserve; brings one of an older selfserve up to this schema.
    private func upgrade(applied: Set<String>) throws {
        let unknown = applied.subtracting(PostgresSchema.migrations)
        guard unknown.isEmpty else {
            throw SelfServeError.invalid(
                "\(location) was written by a newer selfserve (schema \(unknown.sorted().joined(separator: ", "))); upgrade selfserve to open it"
            )
        }
        let missing = PostgresSchema.upgrades.filter { !applied.contains($0.name) }
        guard !missing.isEmpty else { return }
        openedIdentity = nil
        // Upgraded in one unit of work, under the writers' lock: two processes starting at once do not both
        // run it (the second finds it done), and a failure leaves the old schema as it was.
        do {
            try unit(write: true) { _ in
                let now = try appliedMigrations()
                for upgrade in missing where !now.contains(upgrade.name) {
                    try connection.execute(script: upgrade.sql)
                    try connection.execute("INSERT INTO selfserve_migrations VALUES ($1)", [upgrade.name])
                }
                return ((), .commit)
            }
        } catch let error as SelfServeError where error.code == .forbidden {
            throw SelfServeError.forbidden(
                "\(location) needs a schema upgrade (\(missing.map(\.name).joined(separator: ", "))) that only its owner may run; the DBA runs any selfserve command on it once as that role"
            )
        }
    }

    /// The migrations this database has had.
    private func appliedMigrations() throws -> Set<String> {
        Set(try connection.execute("SELECT identifier FROM selfserve_migrations").values.compactMap { $0.first ?? nil })
    }

    /// The opener of the composition root for `postgresql://` locations.
    public static func open(
        _ location: String,
        create: Bool,
        interrupted: @escaping @Sendable () -> Bool
    ) throws
        -> SelfServeDatabase
    {
        try PostgresDatabase(uri: location, create: create, interrupted: interrupted)
    }

    /// Waits for the writers' lock that the transaction's first try (`begin`) did not get. It waits at
    /// most `lockTimeoutSeconds` for another writer — a stuck process never holds everyone else for
    /// ever — and stops at Ctrl-C; both end as `conflict` (the executor words the Ctrl-C case), and
    /// nothing is changed.
    private func waitForWriters() throws {
        let deadline = Date().addingTimeInterval(Self.lockTimeoutSeconds)
        while true {
            if interrupted() || Date() >= deadline {
                throw SelfServeError.conflict(
                    "the database is busy (another selfserve holds the write lock for too long); try again"
                )
            }
            usleep(10_000)
            let got = try connection.execute("SELECT pg_try_advisory_xact_lock($1) AS got", [String(Self.writerLock)])
            if got.value(0, "got") == "t" { return }
        }
    }

    public func unit<T>(write: Bool, _ body: (Store) throws -> (T, Completion)) throws -> T {
        if depth > 0 || userTransaction {
            var result: T?
            try savepointUnit {
                let (value, end) = try body(store)
                result = value
                return end
            }
            guard let result else {
                throw SelfServeError.invalid("a unit of work on \(location) ended without its result")
            }
            return result
        }
        openedIdentity = nil
        try begin(locking: write)
        depth += 1
        defer { depth -= 1 }
        do {
            let (value, completion) = try body(store)
            if completion == .commit && needsLockDown {
                // A new database is locked down in the transaction that filled it (init, copy --to): no
                // other session ever sees it open.
                do {
                    try connection.execute(script: PostgresSecurity.lockDown(mappingConnectingRoleTo: copyingAdmin))
                } catch let error as SelfServeError where error.code == .forbidden {
                    throw SelfServeError.forbidden(
                        "\(location) was left empty: a new selfserve database is locked down by a role that owns it and may create roles (CREATEROLE) — \(error.message)"
                    )
                }
                needsLockDown = false
            }
            transactionNow = nil
            try connection.execute(completion == .commit ? "COMMIT" : "ROLLBACK")
            return value
        } catch {
            transactionNow = nil
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Opens a transaction, reads its clock (`now()` holds still until it ends) and, for a writer,
    /// tries the writers' lock, all in one round trip; waits for the lock only when it was taken.
    private func begin(locking: Bool) throws {
        let lock = locking ? ", pg_try_advisory_xact_lock(\(Self.writerLock)) AS got" : ""
        do {
            let begun = try connection.execute(script: "BEGIN; SELECT extract(epoch FROM now()) AS t" + lock)
            transactionNow = Self.date(begun)
            guard locking, begun.value(0, "got") != "t" else { return }
            try waitForWriters()
        } catch {
            transactionNow = nil
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// A savepoint inside the open transaction, released or rolled back as `body` says.
    private func savepointUnit(_ body: () throws -> Completion) throws {
        depth += 1
        defer { depth -= 1 }
        try connection.savepoint(body)
    }

    public func read<T>(_ body: (Store) throws -> T) throws -> T { try body(store) }

    public func beginTransaction() throws {
        openedIdentity = nil
        try begin(locking: true)
        userTransaction = true
    }

    public func endTransaction(_ completion: Completion) throws {
        userTransaction = false
        transactionNow = nil
        try connection.execute(completion == .commit ? "COMMIT" : "ROLLBACK")
    }

    public var isInTransaction: Bool { userTransaction || depth > 0 }

    /// A failed or dry-run `init` leaves the database as empty as it found it.
    public func undoCreation() {
        guard isNew else { return }
        _ = try? connection.execute(
            script: "BEGIN;\n"
                + PostgresSchema.tables.map { "DROP TABLE IF EXISTS \($0) CASCADE;" }.joined(separator: "\n")
                + "\nDROP FUNCTION IF EXISTS assignments_count();\n"
                + PostgresSecurity.dropFunctions + "\nCOMMIT;"
        )
        isNew = false
    }

    // MARK: SQLDatabase

    public func withSession<T>(_ body: (SQLSession) throws -> T) throws -> T { try body(session) }

    public var displayLocation: String { location }

    /// Identity columns hand out ids from a sequence that rows inserted with their own ids do not move:
    /// without this, the next audit entry would collide with a copied one.
    public func didCopyRows(generatedIDs tables: [String], by admin: String) throws {
        copyingAdmin = admin
        for table in tables {
            try connection.execute(
                "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table)"
            )
        }
    }

    public func serverNow() throws -> Date? {
        if let transactionNow { return transactionNow }
        return Self.date(try connection.execute("SELECT extract(epoch FROM now()) AS t"))
    }

    /// The instant in column `t` (seconds since 1970, as `extract(epoch FROM …)` gives it).
    private static func date(_ r: PGConnection.Rows) -> Date? {
        r.value(0, "t").flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
    }

    public func identity() throws -> DatabaseIdentity {
        if assertingIdentity { return .asserted }
        if let openedIdentity { return openedIdentity }
        return Self.identity(try connection.execute("SELECT " + Self.identityColumns))
    }

    /// Who connects: the login role, the user mapped to it, and whether it may run the billing.
    private static let identityColumns = """
        session_user AS role, (SELECT email FROM users WHERE \(PostgresSecurity.isSessionRole)) AS email,
               pg_has_role(session_user, 'selfserve_billing', 'MEMBER') AS billing
        """

    /// What opening an existing database asks, at once: its migrations, and who connects.
    private static let openingQuery =
        "SELECT (SELECT string_agg(identifier, ',') FROM selfserve_migrations) AS migrations, " + identityColumns

    private static func identity(_ r: PGConnection.Rows) -> DatabaseIdentity {
        .proven(role: r.value(0, "role") ?? "", email: r.value(0, "email"), billing: r.value(0, "billing") == "t")
    }

    /// A server database cannot be replaced under an open session the way a file can.
    public func checkStillThere() throws {}

    public func close() throws {}

    public func describe(_ error: Error) -> SelfServeError {
        if let e = error as? SelfServeError { return e }
        // A status, day or id this version cannot read: refuse rather than guess a default.
        if let e = error as? SQLDecodingError { return e.selfServeError(in: location) }
        return .invalid("\(error)")
    }
}
