import GRDB
import SelfServeSQL

/// The SQL store's session on a GRDB connection. Statements are prepared once and cached by GRDB, so
/// a batch of thousands of commands parses each SQL text once.
final class GRDBSession: SQLSession {
    let db: Database

    init(_ db: Database) { self.db = db }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        // Through a cursor, whose one row reads the statement in place: `Row.fetchAll` would first copy
        // every row into a GRDB row of its own, only for it to be copied again into an SQLRow.
        var rows: [SQLRow] = []
        try each(sql, arguments) { rows.append($0) }
        return rows
    }

    func each(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        // The cursor steps the statement; the values are read from it by index. A `Row`'s values go
        // through a (name, value) pair and a dynamic call per column (a quarter of the reading of a
        // `subscription show` of 100 assigned users, perf), and a row cursor first builds a dictionary
        // of the lower-cased column names, on every query (7% of a billing run).
        let cursor = try Step.fetchCursor(statement, arguments: Self.arguments(arguments))
        let sqlite = statement.sqliteStatement
        let count = CInt(columns.count)
        while try cursor.next() != nil {
            var values: [SQLValue] = []
            values.reserveCapacity(columns.count)
            for i in 0..<count { values.append(Self.value(DatabaseValue(sqliteStatement: sqlite, index: i))) }
            try body(SQLRow(columns: columns, values: values))
        }
    }

    @discardableResult func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    var hasDatabaseRoles: Bool { false }

    func savepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }

    static func arguments(_ a: SQLArguments) -> StatementArguments {
        // As optional existentials: the initializer for a sequence of one concrete type reads each value
        // through a key path built at run time (3% of a batch of `license assign`, perf).
        StatementArguments(
            a.values.map { v -> (any DatabaseValueConvertible)? in
                switch v {
                case .null: return DatabaseValue.null
                case .integer(let i): return i.databaseValue
                case .real(let d): return d.databaseValue
                case .text(let s): return s.databaseValue
                }
            }
        )
    }

    static func value(_ v: DatabaseValue) -> SQLValue {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return .integer(i)
        case .double(let d): return .real(d)
        case .string(let s): return .text(s)
        case .blob(let data): return .text(String(decoding: data, as: UTF8.self))
        }
    }
}

/// What steps a statement for `GRDBSession.each` and reads nothing of it.
private struct Step: DatabaseValueConvertible, StatementColumnConvertible {
    init() {}
    init?(sqliteStatement: SQLiteStatement, index: CInt) {}
    // Never nil, NULL or not: the step is all that matters.
    static func fromStatement(_ sqliteStatement: SQLiteStatement, atUncheckedIndex index: CInt) -> Step? { Step() }
    var databaseValue: DatabaseValue { .null }
    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Step? { Step() }
}
