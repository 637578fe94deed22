import GRDB
import GRDBSQLite
import SelfServeSQL

#if canImport(Glibc)
import Glibc
#endif

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
        let statement = try prepared(sql, arguments)
        let columns = statement.columnNames
        // The cursor steps the statement; the values are read from it by index. A `Row`'s values go
        // through a (name, value) pair and a dynamic call per column (a quarter of the reading of a
        // `subscription show` of 100 assigned users, perf), and a row cursor first builds a dictionary
        // of the lower-cased column names, on every query (7% of a billing run).
        let cursor = try Step.fetchCursor(statement)
        let sqlite = statement.sqliteStatement
        let count = CInt(columns.count)
        var previous = [String](repeating: "", count: columns.count)
        while try cursor.next() != nil {
            var values: [SQLValue] = []
            values.reserveCapacity(columns.count)
            for i in 0..<count {
                if sqlite3_column_type(sqlite, i) == SQLITE_TEXT {
                    values.append(.text(try Self.text(sqlite, i, sql: sql, reusing: &previous[Int(i)])))
                } else {
                    values.append(Self.value(DatabaseValue(sqliteStatement: sqlite, index: i)))
                }
            }
            try body(SQLRow(columns: columns, values: values))
        }
    }

    /// A text column's value, up to its first NUL and with invalid UTF-8 repaired, as GRDB reads it.
    /// When it is the same text as this column's in the row before, that string is returned again: the
    /// rows of one query often repeat a value (the subscription and the assigning admin of each of a
    /// subscription's 100 assignments), and making a string is an allocation and a copy (8% of the
    /// instructions of a `subscription show --json` of 100 users, callgrind) where comparing is a `memcmp`.
    private static func text(
        _ sqlite: OpaquePointer?,
        _ i: CInt,
        sql: String,
        reusing last: inout String
    ) throws
        -> String
    {
        guard let text = sqlite3_column_text(sqlite, i) else {
            throw DatabaseError(resultCode: .SQLITE_NOMEM, message: "out of memory reading a column", sql: sql)
        }
        let bytes = UnsafeBufferPointer(start: text, count: strlen(text))
        guard !bytes.isEmpty else { return "" }
        // Equal bytes are an equal string: a repaired string's bytes are valid UTF-8, and the same
        // valid bytes read again decode to them.
        let same =
            last.utf8.count == bytes.count
            && last.utf8.withContiguousStorageIfAvailable {
                $0.baseAddress.map { memcmp($0, text, bytes.count) == 0 } ?? false
            } == true
        if same { return last }
        last = String(decoding: bytes, as: UTF8.self)
        return last
    }

    @discardableResult func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try prepared(sql, arguments).execute()
        return db.changesCount
    }

    var hasDatabaseRoles: Bool { false }

    func savepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }

    /// The cached statement of `sql`, with `arguments` bound.
    private func prepared(_ sql: String, _ arguments: SQLArguments) throws -> Statement {
        let statement = try db.cachedStatement(sql: sql)
        try Self.bind(arguments, to: statement)
        return statement
    }

    /// Binds the arguments to the statement one by one, as GRDB binds each value. Building GRDB's
    /// `StatementArguments` first copied them through the standard library's unspecialized `map` (5% of
    /// the instructions of a batch of `license assign`, callgrind). `setUncheckedArguments` with none
    /// resets the statement, clears its bindings and marks them set, so that GRDB then steps the
    /// statement with these bindings; the count is checked here as GRDB would.
    static func bind(_ a: SQLArguments, to statement: Statement) throws {
        statement.setUncheckedArguments(StatementArguments())
        let sqlite = statement.sqliteStatement
        guard Int(sqlite3_bind_parameter_count(sqlite)) == a.values.count else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "wrong number of statement arguments: \(a.values.count)",
                sql: statement.sql
            )
        }
        for (i, value) in a.values.enumerated() {
            let index = CInt(i + 1)
            let code: CInt
            switch value {
            case .null: code = sqlite3_bind_null(sqlite, index)
            case .integer(let n): code = sqlite3_bind_int64(sqlite, index, n)
            case .real(let d): code = sqlite3_bind_double(sqlite, index, d)
            case .text(let s): code = Self.bindText(s, sqlite, index)
            }
            guard code == SQLITE_OK else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code),
                    message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqlite))),
                    sql: statement.sql
                )
            }
        }
    }

    /// SQLite's "copy the value now" destructor, as GRDB spells it (its own is internal).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds the string's UTF-8 in place, copied by SQLite (SQLITE_TRANSIENT). GRDB's `String.bind`
    /// first copies it into a new NUL-terminated array (`utf8CString`): an allocation and a free per
    /// value, 8% of a billing run. The length ends at the first NUL, as SQLite reads a C string (what
    /// GRDB bound, and what PostgreSQL's text parameters keep).
    private static func bindText(_ text: String, _ sqlite: OpaquePointer?, _ index: CInt) -> CInt {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                return sqlite3_bind_text(sqlite, index, "", 0, transient)
            }
            let length =
                memchr(base, 0, bytes.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? bytes.count
            // text64: a length past SQLite's limit is its SQLITE_TOOBIG, not a trap converting to CInt.
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(sqlite, index, $0, UInt64(length), transient, UInt8(SQLITE_UTF8))
            }
        }
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
