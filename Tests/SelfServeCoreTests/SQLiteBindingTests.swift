import Foundation
import SelfServeSQL
import SelfServeStore
import XCTest

/// Statement arguments are bound by selfserve itself (GRDBSession), not by GRDB: what is stored must be
/// what GRDB stored — the same text, an empty string as '' (never NULL), a string cut at its first NUL
/// as SQLite reads a C string (and as PostgreSQL's text parameters are).
final class SQLiteBindingTests: XCTestCase {
    // XCTest makes an instance per test method: each test has a file of its own.
    let file = TemporaryDatabaseFile("bind")
    var path: String { file.path }

    override func tearDown() { file.remove() }

    func testTextIsStoredAsGRDBStoredIt() throws {
        let db = try SQLiteDatabase(path: path, create: true)
        // Nothing in this process opens SQLite before SQLiteDatabase does: the settings took effect.
        XCTAssertEqual(SQLiteDatabase.sqliteSettings, 0, "sqlite3_config failed (SQLITE_MISUSE: used before)")
        var cases: [(String, String)] = [
            ("", ""), ("a", "a"), ("é山👍 e\u{301}", "é山👍 e\u{301}"), ("a\u{0}b", "a"), ("\u{0}", ""),
            ("fifteen bytes!!", "fifteen bytes!!"), ("sixteen bytes!!!", "sixteen bytes!!!"),
            (String(repeating: "x", count: 100_000), String(repeating: "x", count: 100_000)),
        ]
        // Strings Foundation made (bridged, possibly not contiguous UTF-8) bind like native ones.
        let bridged = NSString(string: "naïve café").appending(" ✓")
        cases.append((bridged, "naïve café ✓"))
        try db.withSession { session in
            try session.execute("CREATE TEMP TABLE bound (n INTEGER PRIMARY KEY, v)", [])
            for (n, (input, _)) in cases.enumerated() {
                try session.execute("INSERT INTO bound (n, v) VALUES (?, ?)", [n, input])
            }
            for (n, (input, expected)) in cases.enumerated() {
                // Its bytes as stored, too: reading a value back stops at a NUL whatever was stored.
                let row = try XCTUnwrap(
                    session.rows("SELECT v, typeof(v), length(CAST(v AS BLOB)) FROM bound WHERE n = ?", [n]).first
                )
                XCTAssertEqual(
                    row.values,
                    [.text(expected), .text("text"), .integer(Int64(expected.utf8.count))],
                    input.debugDescription
                )
                // The same string as a WHERE argument finds the row it stored.
                let found = try session.rows("SELECT n FROM bound WHERE v = ?", [input]).map(\.values)
                XCTAssertTrue(found.contains([.integer(Int64(n))]), "\(input.debugDescription): \(found)")
            }
        }
    }

    /// Columns come back as every decoder expects them (GRDB's `DatabaseValue`, then `SQLValue`): integers,
    /// reals and NULL as such, text up to its first NUL, invalid UTF-8 repaired, a blob's bytes as text.
    func testColumnsAreReadAsGRDBReadThem() throws {
        let db = try SQLiteDatabase(path: path, create: true)
        let cases: [(String, SQLValue)] = [
            ("NULL", .null), ("42", .integer(42)), ("-9223372036854775808", .integer(.min)), ("2.5", .real(2.5)),
            ("''", .text("")), ("'é山👍'", .text("é山👍")), ("'a' || char(0) || 'b'", .text("a")),
            ("CAST(X'61FF62' AS TEXT)", .text("a\u{FFFD}b")), ("X'C3A9'", .text("é")), ("X''", .text("")),
            ("X'61FF'", .text("a\u{FFFD}")), ("zeroblob(3)", .text("\u{0}\u{0}\u{0}")),
            ("printf('%.*c', 100000, 'x')", .text(String(repeating: "x", count: 100_000))),
        ]
        try db.withSession { session in
            for (sql, expected) in cases {
                let values = try session.rows("SELECT \(sql) AS v, 7 AS n", []).map(\.values)
                XCTAssertEqual(values, [[expected, .integer(7)]], sql)
            }
        }
    }

    /// A column's text equal to the row before's is that same string again (GRDBSession reuses it): every
    /// row still reads its own value, whatever the sequence — repeats, changes of one byte, prefixes, empty text, text
    /// cut at a NUL, invalid UTF-8 and its repaired form, NULL and numbers in between.
    func testRepeatedTextReadsEachRowsOwnValue() throws {
        let db = try SQLiteDatabase(path: path, create: true)
        let sequence: [(String, SQLValue)] = [
            ("'user000001@contoso.com'", .text("user000001@contoso.com")),
            ("'user000001@contoso.com'", .text("user000001@contoso.com")),
            ("'user000002@contoso.com'", .text("user000002@contoso.com")),
            ("'user000002@contoso.con'", .text("user000002@contoso.con")),
            ("'user000001@contoso.co'", .text("user000001@contoso.co")),
            ("'user000001@contoso.comm'", .text("user000001@contoso.comm")), ("''", .text("")), ("''", .text("")),
            ("'a'", .text("a")), ("'a' || char(0) || 'b'", .text("a")), ("'ab'", .text("ab")), ("'ac'", .text("ac")),
            ("CAST(X'61FF62' AS TEXT)", .text("a\u{FFFD}b")), ("CAST(X'61FF62' AS TEXT)", .text("a\u{FFFD}b")),
            ("'a\u{FFFD}b'", .text("a\u{FFFD}b")), ("NULL", .null), ("'a\u{FFFD}b'", .text("a\u{FFFD}b")),
            ("7", .integer(7)), ("'7'", .text("7")), ("X'C3A9'", .text("é")), ("'é'", .text("é")),
        ]
        try db.withSession { session in
            try session.execute("CREATE TEMP TABLE seq (n INTEGER PRIMARY KEY, v, w)", [])
            // The same values in a second column, in the opposite order, read in the same rows.
            for (n, (sql, _)) in sequence.enumerated() {
                let other = sequence[sequence.count - 1 - n].0
                try session.execute("INSERT INTO seq (n, v, w) VALUES (?, \(sql), \(other))", [n])
            }
            let rows = try session.rows("SELECT v, w FROM seq ORDER BY n", []).map(\.values)
            XCTAssertEqual(rows, sequence.indices.map { [sequence[$0].1, sequence[sequence.count - 1 - $0].1] })
        }
    }
}
