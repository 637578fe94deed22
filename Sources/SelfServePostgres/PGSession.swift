import SelfServeSQL

/// The SQL store's session on a PostgreSQL connection: `?` placeholders become `$1…$n` (once per
/// statement text), values go as text beside the statement, and every value comes back as text for the
/// store's strict decoding.
final class PGSession: SQLSession {
    let connection: PGConnection
    private var rewritten: [String: String] = [:]

    init(_ connection: PGConnection) { self.connection = connection }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        let result = try connection.execute(numbered(sql), arguments.values.map(\.text))
        return result.values.map { Self.row(result.columns, $0) }
    }

    /// One row at a time as the server sends it: `admin purchases` and `audit list` stay bounded in memory.
    func each(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        try connection.each(numbered(sql), arguments.values.map(\.text)) { try body(Self.row($0, $1)) }
    }

    /// A row as PostgreSQL's text form gives it (nil for NULL).
    static func row(_ columns: [String], _ values: [String?]) -> SQLRow {
        SQLRow(columns: columns, values: values.map { $0.map(SQLValue.text) ?? .null })
    }

    @discardableResult func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try connection.execute(numbered(sql), arguments.values.map(\.text)).affected
    }

    var hasDatabaseRoles: Bool { true }

    func savepoint(_ body: () throws -> Void) throws {
        try connection.savepoint {
            try body()
            return .commit
        }
    }

    /// `… WHERE a = ? AND b = ?` → `… WHERE a = $1 AND b = $2`; a `?` inside a quoted literal stays.
    func numbered(_ sql: String) -> String {
        if let done = rewritten[sql] { return done }
        var out = ""
        var n = 0
        var quoted = false
        for c in sql {
            if c == "'" { quoted.toggle() }
            if c == "?" && !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        rewritten[sql] = out
        return out
    }
}
