import Foundation
import XCTest

/// A temporary home for one test: its own database, state directory and environment, and a way to
/// run the built `selfserve` binary in it exactly as a user or a script would.
///
/// The database is a SQLite file, or — when `SELFSERVE_TEST_BACKEND=postgresql` — a fresh database on the
/// PostgreSQL server `SELFSERVE_TEST_PG` names (scripts/test runs the whole suite both ways). `query`
/// reads it with `sqlite3` or `psql`, whose unaligned output looks the same.
final class Sandbox: @unchecked Sendable {
    let dir: URL
    let db: String
    var env: [String: String]

    /// Whether this run keeps its organizations in PostgreSQL.
    static let onPostgreSQL = ProcessInfo.processInfo.environment["SELFSERVE_TEST_BACKEND"] == "postgresql"
    static let server = ProcessInfo.processInfo.environment["SELFSERVE_TEST_PG"] ?? ""

    /// For a test about the file itself (its mode, a FIFO, a copy of it, PRAGMAs): skipped, visibly and
    /// with the reason, when the suite runs on PostgreSQL.
    func requireSQLiteFile(_ why: String) throws {
        if Self.onPostgreSQL { throw XCTSkip("SQLite only: \(why)") }
    }

    /// The leading arguments that run selfserve on `database` (the test's own by default) as `user`.
    func arguments(as user: String?, database: String? = nil, useDB: Bool = true) -> [String] {
        let target = database ?? db
        if Paths.isServer(target), let user {
            // On a server the login role is who acts (--as is refused for anyone else): the command
            // connects as the role mapped to `user`, created and mapped on first use as a DBA would.
            return ["--db", role(for: user, in: target)]
        }
        return (useDB || database != nil ? ["--db", target] : []) + (user.map { ["--as", $0] } ?? [])
    }

    /// Login roles made for users, per database: `user` → the URI that connects as them.
    private var roles: [String: String] = [:]
    private let rolesLock = NSLock()

    /// The URI of `database` as the login role of `email`: the role is created (LOGIN, granted
    /// selfserve_user, and selfserve_admin for an admin) and mapped to the user the first time, by the
    /// server's superuser — the DBA's part. A user not in the organization yet gets a role mapped to
    /// nobody, which selfserve treats as no one, and is mapped on a later call.
    func role(for email: String, in database: String) -> String {
        let key = email.lowercased() + " " + database
        rolesLock.lock()
        defer { rolesLock.unlock() }
        if let uri = roles[key] { return uri }
        let dbName = database.split(separator: "?")[0].split(separator: "/").last.map(String.init) ?? "db"
        let safe = email.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        let name = String("\(dbName)_\(safe)".prefix(63))
        let literal = email.lowercased().replacingOccurrences(of: "'", with: "''")
        let mapped = Self.psql(
            database,
            """
            DO $$ BEGIN CREATE ROLE "\(name)" LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            GRANT selfserve_user TO "\(name)";
            DO $$ BEGIN
                IF EXISTS (SELECT FROM users WHERE email = '\(literal)' AND role = 'admin') THEN GRANT selfserve_admin TO "\(name)"; END IF;
            END $$;
            UPDATE users SET db_role = '\(name)' WHERE email = '\(literal)' RETURNING 'mapped';
            """
        )
        let uri = Self.connecting(database, as: name)
        if mapped.contains("mapped") { roles[key] = uri }
        return uri
    }

    /// `database` connecting as `role` (libpq's `user` parameter replaced).
    static func connecting(_ database: String, as role: String) -> String {
        guard let q = database.firstIndex(of: "?") else { return database + "?user=\(role)" }
        let parameters = database[database.index(after: q)...].split(separator: "&").filter { !$0.hasPrefix("user=") }
        return database[..<q] + "?" + (parameters + ["user=\(role)"]).joined(separator: "&")
    }

    /// A new, empty database on the test server, as a URI.
    static func newServerDatabase() -> String {
        let name = "e2e_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        _ = psql(server, "CREATE DATABASE \(name)")
        return server.replacingOccurrences(of: "postgresql:///postgres", with: "postgresql:///\(name)")
    }

    /// An empty database on the test server for a test that needs one whatever the suite's backend
    /// (`copy --to`). Without a server the test is skipped visibly — or fails under CI or
    /// `SELFSERVE_REQUIRE_PG=1`, where a missing server is a broken set-up, never a pass.
    func serverDatabase(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard !Self.server.isEmpty else {
            let env = ProcessInfo.processInfo.environment
            if env["CI"] != nil || env["SELFSERVE_REQUIRE_PG"] == "1" {
                XCTFail("SELFSERVE_TEST_PG names no PostgreSQL server", file: file, line: line)
            }
            throw XCTSkip("no PostgreSQL server (SELFSERVE_TEST_PG)")
        }
        return Self.newServerDatabase()
    }

    static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["SELFSERVE_BIN"] { return b }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/selfserve").path
    }()

    init(_ name: String = #function) {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "selfserve-e2e-\(UUID().uuidString.prefix(8))"
        )
        // A directory that cannot be made shows up as the first command's failure, at its line.
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if Self.onPostgreSQL {
            db = Self.newServerDatabase()
        } else {
            db = dir.appendingPathComponent("test.sqlite").path
        }
        env = [
            "HOME": dir.path, "XDG_STATE_HOME": dir.appendingPathComponent("state").path,
            "XDG_DATA_HOME": dir.appendingPathComponent("data").path, "PATH": "/usr/bin:/bin", "NO_COLOR": "1",
            "SELFSERVE_NOW": "2026-03-02T10:00:00Z",
        ]
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    struct Result: @unchecked Sendable {
        let out: String
        let err: String
        let code: Int32
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(out.utf8), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        /// Row `i` of a JSON list; a missing row is a failure at the caller's line (and an empty row),
        /// never an index out of range that stops every test.
        func row(_ i: Int, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
            let rows = array
            guard rows.indices.contains(i) else {
                XCTFail(
                    "no row \(i) in \(rows.count) (stdout: \(out.prefix(300)), stderr: \(err.prefix(300)))",
                    file: file,
                    line: line
                )
                return [:]
            }
            return rows[i]
        }
        /// The `{"error": …}` object of a `--json` failure: the last line of stderr (messages for people,
        /// such as `--explain` traces, may come before it).
        var errorObject: [String: Any] {
            let last = err.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? err
            return ((try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any])?["error"]
                as? [String: Any]
                ?? [:]
        }
    }

    /// Runs `selfserve --db DB ARGS…` (as `user` when given) with `stdin`.
    @discardableResult
    /// Never traps: a binary that cannot be started is a failure at the caller's line and a result with
    /// exit code -1, and the test goes on.
    func run(
        _ args: [String],
        as user: String? = nil,
        stdin: String? = nil,
        extraEnv: [String: String] = [:],
        useDB: Bool = true,
        database: String? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = arguments(as: user, database: database, useDB: useDB) + args
        p.environment = env.merging(extraEnv) { $1 }
        p.currentDirectoryURL = dir
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        do {
            try p.run()
        } catch {
            XCTFail("cannot start \(Self.binary): \(error)", file: file, line: line)
            return Result(out: "", err: "cannot start \(Self.binary): \(error)", code: -1)
        }
        // A command that exits before reading its stdin (a usage error) closes the pipe: writing to it
        // must be an error here, not a SIGPIPE that ends the whole test run.
        Self.ignoreBrokenPipes
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so that a large output cannot block the child.
        let outBox = Box<Data>(Data())
        let group = DispatchGroup()
        group.enter()
        let reader = out.fileHandleForReading
        DispatchQueue.global().async {
            outBox.value = reader.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.value
        p.waitUntilExit()
        return Result(
            out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData, as: UTF8.self),
            code: p.terminationStatus
        )
    }

    /// Writes a file in the sandbox and returns its path (a failure is recorded at the caller's line).
    func write(_ name: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let path = dir.appendingPathComponent(name).path
        XCTAssertNoThrow(try text.write(toFile: path, atomically: true, encoding: .utf8), file: file, line: line)
        return path
    }

    static let admin = "admin@contoso.com"

    /// SIGPIPE ignored in the test process, once.
    static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// `initialize()`, then every command on `day` (SELFSERVE_NOW) unless it says otherwise, with a card
    /// for `buyer`: the start of most billing scenarios.
    static func organization(
        on day: String,
        cardFor buyer: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Sandbox {
        let s = Sandbox()
        s.initialize(file: file, line: line)
        s.env["SELFSERVE_NOW"] = day
        _ = s.addCard(buyer, file: file, line: line)
        return s
    }

    /// A fresh test-clock organization (SELFSERVE_NOW applies to its writes) with a few members and a guest.
    /// A helper that fails records the failure at the caller's line and lets the run go on.
    func initialize(cloud: String = "global", file: StaticString = #filePath, line: UInt = #line) {
        let r = run([
            "init", "--org", "Contoso", "--admin", Self.admin, "--admin-name", "Ada Admin", "--cloud", cloud,
            "--test-clock",
        ])
        guard r.code == 0 else { return XCTFail("init failed: \(r.err)", file: file, line: line) }
        var batch = ""
        for i in 1...30 { batch += "user add user\(i)@contoso.com --name 'User \(i)'\n" }
        batch += "user add buyer@contoso.com --name 'Bea Buyer'\nuser add other@contoso.com --name 'Oscar Other'\n"
        batch += "user add guest@fabrikam.com --name 'Gus Guest' --guest\n"
        let b = run(["-f", "-"], as: Self.admin, stdin: batch)
        if b.code != 0 { XCTFail("users failed: \(b.err)", file: file, line: line) }
    }

    /// Adds a public test card for `user` and returns its id ("" after recording a failure).
    func addCard(
        _ user: String,
        number: String = "4242424242424242",
        expiry: String = "12/30",
        code: String = "123",
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> String {
        let r = run(
            ["payment-method", "add", "--card-stdin", "--holder", "Card Holder", "--json"],
            as: user,
            stdin: "\(number)\n\(expiry)\n\(code)\n"
        )
        guard r.code == 0, let id = r.object["id"] as? String else {
            XCTFail("card failed: \(r.err)", file: file, line: line)
            return ""
        }
        return id
    }

    /// Buys `licenses` of `product` as `user` (who needs a card) and returns the subscription id ("" after
    /// recording a failure).
    func buy(
        _ user: String,
        _ product: String,
        licenses: Int,
        _ extra: String...,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> String {
        let r = run(["subscription", "buy", product, "--licenses", String(licenses)] + extra + ["--json"], as: user)
        guard r.code == 0, let id = r.object["id"] as? String else {
            XCTFail("purchase failed: \(r.err)", file: file, line: line)
            return ""
        }
        return id
    }

    /// "ok" when the database is consistent: SQLite's integrity check; PostgreSQL checks its own pages,
    /// so there it asks only that the database answers.
    func integrityCheck() -> String {
        Self.onPostgreSQL ? (query("SELECT 'ok'") == "ok" ? "ok" : "no answer") : query("PRAGMA integrity_check")
    }

    /// Minor units as an amount (`-5233` → `-52.33`), to compare sums read with `query` to JSON amounts.
    static func money(_ minor: String) -> String {
        guard let n = Int64(minor) else { return minor }
        let sign = n < 0 ? "-" : ""
        let a = n.magnitude
        return "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
    }

    /// Runs SQL on the test's database and returns its output, errors included (as psql's are).
    func query(_ sql: String) -> String {
        Self.onPostgreSQL ? Self.psql(db, sql) : Self.output(of: "/usr/bin/sqlite3", [db, sql], errorsToo: true)
    }

    /// Runs `psql URI -c SQL` (unaligned, no headers: `a|b` per row, as sqlite3 prints) and returns its
    /// output, trimmed; an error comes back as its message, which the caller's comparison shows.
    static func psql(_ uri: String, _ sql: String) -> String {
        output(
            of: "/usr/bin/psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
            errorsToo: true
        )
    }

    /// Runs `sqlite3 PATH SQL` and returns what it printed, trimmed.
    static func sqlite(_ path: String, _ sql: String) -> String {
        output(of: "/usr/bin/sqlite3", [path, sql], errorsToo: false)
    }

    /// What a tool printed (with its errors when `errorsToo`), trimmed. A tool that cannot start says so
    /// in the returned text, which the caller's comparison then shows.
    static func output(of tool: String, _ arguments: [String], errorsToo: Bool) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        if errorsToo { p.standardError = out }
        guard (try? p.run()) != nil else { return "cannot start \(tool)" }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

func XCTAssertExit(_ r: Sandbox.Result, _ code: Int32, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.code, code, "stdout: \(r.out)\nstderr: \(r.err)", file: file, line: line)
}

/// A value handed between threads where the test itself orders the accesses.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
        set {
            lock.lock()
            stored = newValue
            lock.unlock()
        }
    }
}

/// Where a test's database lives.
enum Paths {
    static func isServer(_ location: String) -> Bool { location.hasPrefix("postgresql:") }
}
