import SelfServeCore

/// A selfserve database whose store is the SQL store on one `SQLSession`: both backends. What they
/// share beyond the store — copying a whole organization from one to the other — is written once here.
public protocol SQLDatabase: SelfServeDatabase {
    /// Runs `body` on the connection the store runs on (inside the open unit of work, if any).
    func withSession<T>(_ body: (SQLSession) throws -> T) throws -> T
    /// Where the database is, for people (a PostgreSQL password is never in it).
    var displayLocation: String { get }
    /// Called on a copy's target after every row was inserted (with its ids), before the commit: a
    /// server moves its id sequences past the copied ids and maps the connecting role to `admin`; a file
    /// needs nothing.
    func didCopyRows(generatedIDs tables: [String], by admin: String) throws
}

extension SQLDatabase {
    public func copyOrganization(
        to target: SelfServeDatabase,
        by admin: String,
        commit: Bool
    ) throws -> OrganizationCopy {
        guard let target = target as? SQLDatabase else {
            throw SelfServeError.invalid("cannot copy to \(target): not a database selfserve can write")
        }
        return try withSession { from in
            let source = try OrganizationCopier.summary(of: from, at: displayLocation)
            return try target.unit(write: true) { _ in
                try target.withSession { to in
                    let before = try OrganizationCopier.summary(of: to, at: target.displayLocation)
                    guard before.isEmpty else {
                        throw SelfServeError.conflict(
                            "\(target.displayLocation) is not empty (\(before.rows) rows); copy --to needs a new file or an empty database"
                        )
                    }
                    try OrganizationCopier.copyRows(from: from, to: to)
                    try target.didCopyRows(generatedIDs: SQLSchema.generatedIDs, by: admin)
                    let after = try OrganizationCopier.summary(of: to, at: target.displayLocation)
                    guard after.agrees(with: source) else {
                        throw SelfServeError.invalid(
                            "the copy in \(target.displayLocation) does not match \(displayLocation) (\(OrganizationCopier.difference(source, after))); nothing was kept"
                        )
                    }
                    return (OrganizationCopy(source: source, target: after), commit ? .commit : .rollback)
                }
            }
        }
    }
}

/// Table-by-table copying between two SQL sessions. Both schemas match column for column (the same
/// migrations), so rows go across by column name with their values untouched.
enum OrganizationCopier {
    /// At most this many rows per INSERT, and at most `maxArguments` values (SQLite allows 32,766 and
    /// PostgreSQL 65,535): round trips, not rows, are what a copy to a server waits for.
    static let rowsPerStatement = 200
    static let maxArguments = 30_000

    static func copyRows(from source: SQLSession, to target: SQLSession) throws {
        for table in SQLSchema.tables {
            var pending: [SQLRow] = []
            var columns: [String] = []
            func flush() throws {
                guard !pending.isEmpty else { return }
                try insert(pending, columns: columns, into: table, on: target)
                pending.removeAll(keepingCapacity: true)
            }
            // Ordered by the first column (the primary key or its first part): ids stay in order, and
            // the audit log reads back the same.
            try source.each("SELECT * FROM \(table) ORDER BY 1", []) { row in
                if columns.isEmpty { columns = row.columns }
                pending.append(row)
                if pending.count >= min(rowsPerStatement, maxArguments / max(1, columns.count)) { try flush() }
            }
            try flush()
        }
    }

    private static func insert(_ rows: [SQLRow], columns: [String], into table: String, on target: SQLSession) throws {
        let sql =
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            + SQLStore.rowPlaceholders(rows.count, columns: columns.count)
        // The target's own trigger counts assignments as they arrive; the source's counter would count
        // them twice.
        let counter = table == "subscriptions" ? columns.firstIndex(of: "licenses_assigned") : nil
        var arguments = SQLArguments(values: [])
        for row in rows {
            var values = row.values
            if let counter { values[counter] = .integer(0) }
            arguments.values += values
        }
        try target.execute(sql, arguments)
    }

    /// The counts and totals `copy --to` prints for one side.
    static func summary(of session: SQLSession, at location: String) throws -> OrganizationCopy.Side {
        var counts: [OrganizationCopy.TableCount] = []
        for table in SQLSchema.tables {
            let rows = try session.rows("SELECT count(*) AS n FROM \(table)", [])
            counts.append(.init(table: table, rows: try rows.first?.decode(Int64.self, forColumn: "n") ?? 0))
        }
        let totals = try session.rows(
            "SELECT currency, sum(total) AS total FROM invoices GROUP BY currency ORDER BY currency",
            []
        ).map {
            Money(
                minorUnits: try $0.decode(Int64.self, forColumn: "total"),
                currency: try $0.decode(forColumn: "currency")
            )
        }
        let assigned = try session.rows("SELECT coalesce(sum(licenses_assigned), 0) AS n FROM subscriptions", [])
        return .init(
            database: location,
            counts: counts,
            invoiceTotals: totals,
            licensesAssigned: try assigned.first?.decode(Int64.self, forColumn: "n") ?? 0
        )
    }

    /// What differs between two sides, for the error that refuses a copy.
    static func difference(_ a: OrganizationCopy.Side, _ b: OrganizationCopy.Side) -> String {
        var parts: [String] = []
        for (x, y) in zip(a.counts, b.counts) where x.rows != y.rows {
            parts.append("\(x.table): \(x.rows) vs \(y.rows)")
        }
        if a.invoiceTotals != b.invoiceTotals {
            parts.append(
                "invoice totals: \(a.invoiceTotals.map(\.description).joined(separator: ", ")) vs \(b.invoiceTotals.map(\.description).joined(separator: ", "))"
            )
        }
        if a.licensesAssigned != b.licensesAssigned {
            parts.append("licenses assigned: \(a.licensesAssigned) vs \(b.licensesAssigned)")
        }
        return parts.joined(separator: "; ")
    }
}
