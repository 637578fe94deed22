import SelfServeCore

/// `Store` in SQL that SQLite and PostgreSQL both accept, on one connection (`SQLSession`). The
/// backends differ only in their session: how a statement is prepared and run, and how a savepoint is
/// named. Domain rules stay in Core; what is here is storage.
public final class SQLStore: Store {
    let session: SQLSession

    public init(_ session: SQLSession) { self.session = session }

    func rows(_ sql: String, _ arguments: SQLArguments = []) throws -> [SQLRow] {
        try session.rows(sql, arguments)
    }

    func row(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try session.rows(sql, arguments).first
    }

    func exec(_ sql: String, _ arguments: SQLArguments = []) throws {
        try session.execute(sql, arguments)
    }

    /// Runs a change of exactly one row, `what`. Zero rows is an error: under row-level security an
    /// UPDATE or DELETE of a row one may see but not change affects nothing and says nothing — the
    /// command must not report a change that did not happen.
    func execOne(_ what: String, _ sql: String, _ arguments: SQLArguments) throws {
        guard try session.execute(sql, arguments) == 1 else {
            throw SelfServeError.notFound(
                "\(what) was not changed: it does not exist, or the database does not let you change it"
            )
        }
    }

    /// The first column of every row, as text.
    func strings(_ sql: String, _ arguments: SQLArguments = []) throws -> [String] {
        try session.rows(sql, arguments).map { try $0.decode(String.self, forColumn: $0.columns.first ?? "") }
    }

    func string(_ sql: String, _ arguments: SQLArguments = []) throws -> String? {
        try strings(sql, arguments).first
    }

    /// `?, ?, ?` for an `IN (…)` of `count` values (at least one, so that an empty list matches nothing).
    static func placeholders(_ count: Int) -> String {
        count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `(?, ?), (?, ?)`: the VALUES of a multi-row INSERT of `rows` rows of `columns` values — one
    /// statement, one round trip, however many rows.
    static func rowPlaceholders(_ rows: Int, columns: Int) -> String {
        Array(repeating: "(" + placeholders(columns) + ")", count: rows).joined(separator: ", ")
    }

    /// The first column of the first row as a number (0 when there is no row).
    func int(_ sql: String, _ arguments: SQLArguments = []) throws -> Int {
        guard let r = try row(sql, arguments) else { return 0 }
        return try r.decode(Int.self, forColumn: r.columns.first ?? "")
    }

    /// A savepoint inside the command's transaction, ended on every path.
    public func isolated(_ body: () throws -> Void) throws {
        try session.savepoint(body)
    }

    // MARK: Organization and settings

    public func organization() throws -> Organization? {
        try row("SELECT name, cloud, created_at FROM organization WHERE id = 1").map {
            Organization(
                name: try $0.decode(forColumn: "name"),
                cloud: try $0.decode(forColumn: "cloud"),
                createdAt: try $0.decode(forColumn: "created_at")
            )
        }
    }

    public func saveOrganization(_ org: Organization) throws {
        try exec(
            "INSERT INTO organization (id, name, cloud, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, cloud = excluded.cloud, created_at = excluded.created_at",
            [org.name, org.cloud.rawValue, org.createdAt]
        )
    }

    public func setting(_ key: String) throws -> String? {
        try string("SELECT value FROM settings WHERE key = ?", [key])
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try exec(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value]
        )
    }

    // MARK: Users

    static func user(_ r: SQLRow) throws -> User {
        User(
            email: try r.decode(forColumn: "email"),
            name: try r.decode(forColumn: "name"),
            kind: try r.decode(forColumn: "kind"),
            role: try r.decode(forColumn: "role"),
            status: try r.decode(forColumn: "status"),
            createdAt: try r.decode(forColumn: "created_at")
        )
    }

    public func user(email: String) throws -> User? {
        try row("SELECT * FROM users WHERE email = ?", [email]).map(Self.user)
    }

    public func users(emails: [String]) throws -> [String: User] {
        guard !emails.isEmpty else { return [:] }
        let found = try rows(
            "SELECT * FROM users WHERE email IN (\(Self.placeholders(emails.count)))",
            SQLArguments(emails)
        ).map(Self.user)
        return Dictionary(found.map { ($0.email, $0) }) { first, _ in first }
    }

    public func users(kind: User.Kind?) throws -> [User] {
        if let kind {
            return try rows("SELECT * FROM users WHERE kind = ? ORDER BY email", [kind.rawValue]).map(Self.user)
        }
        return try rows("SELECT * FROM users ORDER BY email").map(Self.user)
    }

    public func insertUser(_ u: User) throws {
        try exec(
            "INSERT INTO users (email, name, kind, role, status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [u.email, u.name, u.kind.rawValue, u.role.rawValue, u.status.rawValue, u.createdAt]
        )
    }

    public func updateUser(_ u: User) throws {
        try execOne(
            "user \(u.email)",
            "UPDATE users SET name = ?, kind = ?, role = ?, status = ? WHERE email = ?",
            [u.name, u.kind.rawValue, u.role.rawValue, u.status.rawValue, u.email]
        )
    }

    public func userCount() throws -> Int { try int("SELECT count(*) FROM users") }

    public func setDatabaseRole(email: String, role: String?) throws {
        try execOne("user \(email)", "UPDATE users SET db_role = ? WHERE email = ?", [role, email])
    }

    public func user(databaseRole: String) throws -> String? {
        try string("SELECT email FROM users WHERE db_role = ?", [databaseRole])
    }

    public func databaseRoleExists(_ role: String) throws -> Bool? {
        guard session.hasDatabaseRoles else { return nil }
        return try int("SELECT count(*) FROM pg_roles WHERE rolname = ?", [role]) > 0
    }

    public func emails(prefix: String, limit: Int) throws -> [String] {
        // A range on the primary key, not LIKE: an index seek however many users there are.
        try strings(
            "SELECT email FROM users WHERE email >= ? AND email < ? ORDER BY email LIMIT ?",
            [prefix, prefix + "\u{10FFFF}", limit]
        )
    }

    // MARK: Products

    static func product(_ r: SQLRow) throws -> Product {
        Product(
            id: try r.decode(forColumn: "id"),
            name: try r.decode(forColumn: "name"),
            unitPrice: Money(
                minorUnits: try r.decode(forColumn: "unit_price"),
                currency: try r.decode(forColumn: "currency")
            ),
            term: try r.decode(forColumn: "term"),
            trialDays: try r.decode(forColumn: "trial_days"),
            trialLicenses: try r.decode(forColumn: "trial_licenses"),
            selfService: try r.decode(forColumn: "self_service")
        )
    }

    public func product(idOrName: String) throws -> Product? {
        if let p = try row("SELECT * FROM products WHERE id = ?", [idOrName]) { return try Self.product(p) }
        return try row("SELECT * FROM products WHERE lower(name) = lower(?)", [idOrName]).map(Self.product)
    }

    public func products() throws -> [Product] {
        try rows("SELECT * FROM products ORDER BY lower(name), id").map(Self.product)
    }

    public func upsertProduct(_ p: Product) throws {
        try exec(
            """
            INSERT INTO products (id, name, unit_price, currency, term, trial_days, trial_licenses, self_service)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price, currency = excluded.currency,
                term = excluded.term, trial_days = excluded.trial_days, trial_licenses = excluded.trial_licenses,
                self_service = excluded.self_service
            """,
            [
                p.id, p.name, p.unitPrice.minorUnits, p.unitPrice.currency, p.term.rawValue, p.trialDays,
                p.trialLicenses, p.selfService.rawValue,
            ]
        )
    }

    // MARK: Audit log

    public func appendAudit(_ e: AuditEntry) throws {
        try exec(
            "INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?)",
            [e.at, e.actor, e.action, e.target, e.outcome.rawValue, e.details]
        )
    }

    public func auditEntries(since: String?, actor: String?, action: String?, each: (AuditEntry) throws -> Void) throws
    {
        var sql = "SELECT * FROM audit_log WHERE 1 = 1"
        var args = SQLArguments()
        if let since {
            sql += " AND at >= ?"
            args += [since]
        }
        if let actor {
            sql += " AND actor = ?"
            args += [actor]
        }
        if let action {
            // `--action subscription` matches subscription.buy, subscription.cancel, …
            sql += " AND (action = ? OR action LIKE ? ESCAPE '\\')"
            args += [
                action,
                action.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + ".%",
            ]
        }
        sql += " ORDER BY id"
        try session.each(sql, args) { r in
            try each(
                AuditEntry(
                    at: try r.decode(forColumn: "at"),
                    actor: try r.decode(forColumn: "actor"),
                    action: try r.decode(forColumn: "action"),
                    target: try r.decode(forColumn: "target"),
                    outcome: try r.decode(forColumn: "outcome"),
                    details: try r.decode(forColumn: "details")
                )
            )
        }
    }
}
