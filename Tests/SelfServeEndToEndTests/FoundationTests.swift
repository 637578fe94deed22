import Foundation
import XCTest

/// Issue 3: the database, identity, users, products, output formats, errors and batch mode.
final class FoundationTests: XCTestCase {
    func testInitCreatesPrivateDatabaseAndShowsOrg() throws {
        let s = Sandbox()
        s.initialize()
        if !Sandbox.onPostgreSQL {
            let mode = try FileManager.default.attributesOfItem(atPath: s.db)[.posixPermissions] as? Int ?? 0
            XCTAssertEqual(mode & 0o777, 0o600)
        }
        let org = s.run(["org", "show", "--json"], as: Sandbox.admin)
        XCTAssertExit(org, 0)
        XCTAssertEqual(org.object["name"] as? String, "Contoso")
        XCTAssertEqual(org.object["cloud"] as? String, "global")
        XCTAssertEqual(org.object["portal_url"] as? String, "https://admin.microsoft.com")
        XCTAssertEqual(org.object["users"] as? Int, 34)
        XCTAssertEqual(org.object["subscriptions"] as? Int, 0)
        if !Sandbox.onPostgreSQL { XCTAssertEqual(s.query("PRAGMA journal_mode"), "wal") }
    }

    func testChinaCloudPointsTo21VianetPortal() {
        let s = Sandbox()
        s.initialize(cloud: "china")
        let org = s.run(["org", "show", "--json"], as: Sandbox.admin)
        XCTAssertEqual(org.object["portal_url"] as? String, "https://portal.partner.microsoftonline.cn")
    }

    func testInitTwiceIsAConflictAndKeepsData() {
        let s = Sandbox()
        s.initialize()
        let again = s.run(["init", "--org", "Other", "--admin", "x@y.com", "--json"])
        XCTAssertExit(again, 1)
        XCTAssertEqual(again.errorObject["code"] as? String, "conflict")
        XCTAssertEqual(s.run(["org", "show", "--json"], as: Sandbox.admin).object["name"] as? String, "Contoso")
    }

    func testForeignFilesAreRefusedAndNeverOverwritten() throws {
        let s = Sandbox()
        let text = s.write("notes.txt", "these are my notes, not a database\n")
        let r = s.run(["--db", text, "init", "--org", "X", "--admin", "a@b.com"], useDB: false)
        XCTAssertExit(r, 1)
        XCTAssertTrue(r.err.contains("not a selfserve database"), r.err)
        XCTAssertEqual(try String(contentsOfFile: text, encoding: .utf8), "these are my notes, not a database\n")

        let other = s.dir.appendingPathComponent("other.sqlite").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [other, "CREATE TABLE t(x); INSERT INTO t VALUES (42);"]
        try p.run()
        p.waitUntilExit()
        let r2 = s.run(["--db", other, "org", "show"], as: "a@b.com", useDB: false)
        XCTAssertExit(r2, 1)
        XCTAssertTrue(r2.err.contains("another application"), r2.err)

        let missing = s.run(
            ["--db", s.dir.appendingPathComponent("nope.sqlite").path, "org", "show", "--json"],
            useDB: false
        )
        XCTAssertExit(missing, 1)
        XCTAssertEqual(missing.errorObject["code"] as? String, "not_found")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("nope.sqlite").path))
    }

    func testNewerSchemaIsRefused() {
        let s = Sandbox()
        s.initialize()
        let migrations = Sandbox.onPostgreSQL ? "selfserve_migrations" : "grdb_migrations"
        _ = s.query("INSERT INTO \(migrations) VALUES ('v99-from-the-future')")
        let r = s.run(["org", "show"], as: Sandbox.admin)
        XCTAssertExit(r, 1)
        XCTAssertTrue(r.err.contains("newer selfserve"), r.err)
    }

    func testUsageErrorsSuggestTheClosestCommand() {
        let s = Sandbox()
        s.initialize()
        let r = s.run(["usr", "list"], as: Sandbox.admin)
        XCTAssertExit(r, 64)
        XCTAssertTrue(r.err.contains("Did you mean 'user'?"), r.err)
        let sub = s.run(["subscription", "bye", "x"], as: Sandbox.admin)
        XCTAssertExit(sub, 64)
        XCTAssertTrue(sub.err.contains("Did you mean 'buy'?"), sub.err)
        let flag = s.run(["user", "list", "--jsn"], as: Sandbox.admin)
        XCTAssertExit(flag, 64)
        let missing = s.run(["user", "add", "--json"], as: Sandbox.admin)
        XCTAssertExit(missing, 64)
        XCTAssertEqual(missing.errorObject["code"] as? String, "usage")
    }

    func testActingUserPrecedence() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("asserted identity: on a server the login role decides who acts (RowSecurityTests)")
        s.initialize()
        let none = s.run(["whoami", "--json"])
        XCTAssertExit(none, 1)
        XCTAssertEqual(none.errorObject["code"] as? String, "not_signed_in")
        XCTAssertExit(s.run(["login", "user1@contoso.com"]), 0)
        XCTAssertEqual(s.run(["whoami", "--json"]).object["email"] as? String, "user1@contoso.com")
        XCTAssertEqual(
            s.run(["whoami", "--json"], extraEnv: ["SELFSERVE_USER": "user2@contoso.com"]).object["email"] as? String,
            "user2@contoso.com"
        )
        XCTAssertEqual(
            s.run(["whoami", "--json"], as: "user3@contoso.com", extraEnv: ["SELFSERVE_USER": "user2@contoso.com"])
                .object["email"] as? String,
            "user3@contoso.com"
        )
        XCTAssertExit(s.run(["logout"]), 0)
        XCTAssertExit(s.run(["whoami"]), 1)
    }

    /// A saved login belongs to the file, whatever name reaches it: a relative path, `..`, a link to the
    /// file, a link to a directory, a relative link in the middle of the path, `-f` naming a batch
    /// the same way.
    func testALoginBelongsToTheFileHoweverItIsNamed() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("a login is kept per database file")
        s.initialize()
        let fm = FileManager.default
        let real = s.dir.appendingPathComponent("real/inner")
        try fm.createDirectory(at: real, withIntermediateDirectories: true)
        for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: s.db + suffix) {
            try fm.moveItem(atPath: s.db + suffix, toPath: real.appendingPathComponent("org.sqlite" + suffix).path)
        }
        // Relative links: `alias` → real, `real/via` → inner, and a link to the file itself.
        try fm.createSymbolicLink(atPath: s.dir.appendingPathComponent("alias").path, withDestinationPath: "real")
        try fm.createSymbolicLink(
            atPath: real.deletingLastPathComponent().appendingPathComponent("via").path,
            withDestinationPath: "inner"
        )
        try fm.createSymbolicLink(
            atPath: s.dir.appendingPathComponent("file.sqlite").path,
            withDestinationPath: "real/inner/org.sqlite"
        )
        XCTAssertExit(s.run(["login", "user1@contoso.com"], database: "real/inner/org.sqlite"), 0)
        for name in [
            real.appendingPathComponent("org.sqlite").path, "./real/inner/../inner/org.sqlite",
            "alias/inner/org.sqlite",
            "alias/via/org.sqlite", "real/via/org.sqlite", "file.sqlite", s.dir.path + "//alias/./via/org.sqlite",
        ] {
            let r = s.run(["whoami", "--json"], database: name)
            XCTAssertExit(r, 0)
            XCTAssertEqual(r.object["email"] as? String, "user1@contoso.com", name)
            // The same name given again to a command is the same database, not a change of --db.
            XCTAssertExit(s.run(["whoami", "--db", name], database: name), 0)
        }
        // A file that does not exist yet is named as it will be once created: its directory resolved.
        let missing = s.run(["whoami", "--json"], as: "user1@contoso.com", database: "alias/via/new.sqlite")
        XCTAssertEqual(missing.errorObject["code"] as? String, "not_found")
        XCTAssertTrue(
            (missing.errorObject["message"] as? String ?? "").contains("no database at \(real.path)/new.sqlite"),
            missing.err
        )
        // A file that is not the same one is not signed in.
        try fm.copyItem(
            atPath: real.appendingPathComponent("org.sqlite").path,
            toPath: s.dir.appendingPathComponent("copy.sqlite").path
        )
        XCTAssertEqual(
            s.run(["whoami", "--json"], database: "copy.sqlite").errorObject["code"] as? String,
            "not_signed_in"
        )
        // A batch line naming the session's database by another name is the same database.
        let batch = s.run(["-f", "-"], stdin: "whoami --db alias/via/org.sqlite\n", database: "file.sqlite")
        XCTAssertExit(batch, 0)
        let other = s.run(["-f", "-", "--json"], stdin: "whoami --db copy.sqlite\n", database: "file.sqlite")
        XCTAssertExit(other, 1)
        XCTAssertEqual(other.errorObject["code"] as? String, "usage")
        XCTAssertTrue((other.errorObject["message"] as? String ?? "").contains("--db cannot change"), other.err)
    }

    func testOnlyAdminsManageUsersAndDenialsAreAudited() {
        let s = Sandbox()
        s.initialize()
        let r = s.run(["user", "add", "new@contoso.com", "--name", "New", "--json"], as: "user1@contoso.com")
        XCTAssertExit(r, 77)
        XCTAssertEqual(r.errorObject["code"] as? String, "forbidden")
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email = 'new@contoso.com'"), "0")
        let audit = s.run(
            ["audit", "list", "--action", "user.add", "--actor", "user1@contoso.com", "--json"],
            as: Sandbox.admin
        )
        XCTAssertExit(audit, 0)
        XCTAssertEqual(audit.array.count, 1)
        XCTAssertEqual(audit.array.first?["outcome"] as? String, "denied")
        XCTAssertEqual(audit.array.first?["target"] as? String, "new@contoso.com")
        XCTAssertExit(s.run(["audit", "list"], as: "user1@contoso.com"), 77)
        XCTAssertExit(s.run(["user", "block", "user2@contoso.com"], as: Sandbox.admin), 0)
        XCTAssertExit(s.run(["whoami"], as: "user2@contoso.com"), 77)
    }

    func testUserImportIsAllOrNothingAndNamesLines() {
        let s = Sandbox()
        s.initialize()
        let bad = s.write(
            "bad.csv",
            "email,name,kind,role\nok1@contoso.com,Ok One,member,user\nnot-an-email,Broken,member,user\nok2@contoso.com,Ok Two,visitor,user\n"
        )
        let r = s.run(["user", "import", bad], as: Sandbox.admin)
        XCTAssertExit(r, 1)
        XCTAssertTrue(r.err.contains("bad.csv:3:"), r.err)
        XCTAssertTrue(r.err.contains("bad.csv:4:"), r.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email LIKE 'ok%'"), "0")
        let good = s.write(
            "good.csv",
            "email,name,kind,role\nok1@contoso.com,\"One, Ok\",member,user\nguest2@fabrikam.com,Guest Two,guest,user\n"
        )
        XCTAssertExit(s.run(["user", "import", good], as: Sandbox.admin), 0)
        XCTAssertEqual(
            s.run(["user", "show", "ok1@contoso.com", "--json"], as: Sandbox.admin).object["name"] as? String,
            "One, Ok"
        )
        XCTAssertEqual(s.run(["user", "list", "--guests", "--json"], as: Sandbox.admin).array.count, 2)
    }

    func testProductsCatalogPolicyAndImport() {
        let s = Sandbox()
        s.initialize()
        let list = s.run(["product", "list", "--json"], as: "user1@contoso.com")
        XCTAssertExit(list, 0)
        XCTAssertGreaterThanOrEqual(list.array.count, 10)
        let first = list.row(0)
        XCTAssertEqual(
            Set(first.keys),
            ["id", "name", "unit_price", "currency", "term", "trial_days", "trial_licenses", "self_service"]
        )
        XCTAssertTrue(list.array.allSatisfy { $0["self_service"] as? String == "enabled" })
        XCTAssertExit(s.run(["product", "policy", "power-bi-pro", "trials-only"], as: "user1@contoso.com"), 77)
        XCTAssertExit(s.run(["product", "policy", "Power BI Pro", "trials-only"], as: Sandbox.admin), 0)
        XCTAssertExit(s.run(["product", "policy", "visio-plan-1", "disabled"], as: Sandbox.admin), 0)
        XCTAssertEqual(
            s.run(["product", "show", "power-bi-pro", "--json"], as: Sandbox.admin).object["self_service"] as? String,
            "trials_only"
        )
        let selfService = s.run(["product", "list", "--self-service", "--json"], as: Sandbox.admin).array
        XCTAssertEqual(selfService.count, list.array.count - 1)
        XCTAssertFalse(selfService.contains { $0["id"] as? String == "visio-plan-1" })
        XCTAssertExit(s.run(["product", "policy", "power-bi-pro", "sometimes"], as: Sandbox.admin), 64)

        let file = s.write(
            "p.json",
            #"[{"id": "contoso-widget", "name": "Contoso Widget", "unit_price": "3.50", "term": "monthly", "trial_days": 14, "trial_licenses": 5}]"#
        )
        XCTAssertExit(s.run(["product", "import", file], as: Sandbox.admin), 0)
        let w = s.run(["product", "show", "Contoso Widget", "--json"], as: Sandbox.admin).object
        XCTAssertEqual(w["unit_price"] as? String, "3.50")
        XCTAssertEqual(w["currency"] as? String, "USD")
        let bad = s.write("bad.json", #"[{"id": "x", "name": "X", "unit_price": 3.5}]"#)
        XCTAssertExit(s.run(["product", "import", bad], as: Sandbox.admin), 1)
    }

    func testOutputFormats() {
        let s = Sandbox()
        s.initialize()
        XCTAssertExit(s.run(["user", "add", "q@contoso.com", "--name", "Quote \"Q\", Esq."], as: Sandbox.admin), 0)
        let csv = s.run(["user", "show", "q@contoso.com", "--format", "csv"], as: Sandbox.admin)
        XCTAssertEqual(
            csv.out,
            "email,name,kind,role,status\r\nq@contoso.com,\"Quote \"\"Q\"\", Esq.\",member,user,active\r\n"
        )
        let nd = s.run(["user", "list", "--format", "ndjson"], as: Sandbox.admin)
        let lines = nd.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 35)
        XCTAssertTrue(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
        let table = s.run(["user", "list", "--members"], as: Sandbox.admin)
        let rows = table.out.split(separator: "\n")
        XCTAssertTrue(rows[0].hasPrefix("EMAIL"))
        // Aligned: every row's NAME column starts at the same offset as the header's.
        let offset = rows[0].range(of: "NAME")!.lowerBound.utf16Offset(in: rows[0])
        XCTAssertTrue(
            rows.dropFirst().allSatisfy {
                $0.count > offset && $0[$0.index($0.startIndex, offsetBy: offset - 1)] == " "
            }
        )
        let created = s.run(["user", "add", "c@contoso.com", "--name", "C"], as: Sandbox.admin)
        XCTAssertEqual(created.out, "c@contoso.com\n")
    }

    func testEscapeSequencesInNamesAreNotReplayed() {
        let s = Sandbox()
        s.initialize()
        let file = s.write("evil.csv", "email,name\nevil@contoso.com,Evil\u{1b}]0;pwned\u{07}Name\n")
        let r = s.run(["user", "import", file], as: Sandbox.admin)
        XCTAssertExit(r, 1)  // control characters are refused in names
        XCTAssertFalse(r.err.contains("\u{1b}"))
    }

    func testBatchBailAtomicAndLineNumbers() {
        let s = Sandbox()
        s.initialize()
        let batch = s.write(
            "b.txt",
            """
            # a comment
            user add a1@contoso.com --name "A \\"One\\""
            user add 'bad address' --name Bad
            user add a2@contoso.com \\
                --name 'A Two'   # trailing comment
            """
        )
        let r = s.run(["-f", batch], as: Sandbox.admin)
        XCTAssertExit(r, 1)
        XCTAssertTrue(r.err.contains("b.txt:3: error:"), r.err)
        XCTAssertEqual(
            s.query("SELECT name FROM users WHERE email LIKE 'a_@contoso.com' ORDER BY email"),
            "A \"One\"\nA Two"
        )

        let bail = s.write(
            "bail.txt",
            "user add b1@contoso.com --name B1\nuser add b1@contoso.com --name Again\nuser add b2@contoso.com --name B2\n"
        )
        let rb = s.run(["-f", bail, "--bail", "--json"], as: Sandbox.admin)
        XCTAssertExit(rb, 1)
        XCTAssertEqual(rb.errorObject["line"] as? Int, 2)
        XCTAssertEqual(rb.errorObject["code"] as? String, "conflict")
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email LIKE 'b_@contoso.com'"), "1")

        let atomic = s.write(
            "atomic.txt",
            "user add c1@contoso.com --name C1\nuser add c2@contoso.com --name C2\nproduct policy no-such-product disabled\n"
        )
        let before = s.query("SELECT count(*) FROM audit_log WHERE outcome = 'ok'")
        let ra = s.run(["-f", atomic, "--atomic"], as: Sandbox.admin)
        XCTAssertExit(ra, 1)
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email LIKE 'c_@contoso.com'"), "0")
        XCTAssertEqual(s.query("SELECT count(*) FROM audit_log WHERE outcome = 'ok'"), before)

        let ok = s.run(
            ["--atomic"],
            as: Sandbox.admin,
            stdin: "user add d1@contoso.com --name D1\nuser add d2@contoso.com --name D2\n"
        )
        XCTAssertExit(ok, 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email LIKE 'd_@contoso.com'"), "2")
    }

    func testDryRunChangesNothing() {
        let s = Sandbox()
        s.initialize()
        let r = s.run(["user", "add", "dry@contoso.com", "--name", "Dry", "--dry-run", "--json"], as: Sandbox.admin)
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.object["email"] as? String, "dry@contoso.com")
        XCTAssertTrue(r.err.contains("dry run"), r.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email = 'dry@contoso.com'"), "0")
    }

    func testHelpComesFromTheCommandTree() {
        let s = Sandbox()
        let r = s.run(["subscription", "buy", "--help"], useDB: false)
        XCTAssertExit(r, 0)
        XCTAssertTrue(r.out.contains("--licenses"), r.out)
        let h = s.run(["help", "license", "assign"], useDB: false)
        XCTAssertExit(h, 0)
        XCTAssertTrue(h.out.contains("20"), h.out)
        // One rule everywhere (issue 15): a group alone does nothing and is a usage error naming its
        // subcommands, one-shot as in a batch; its help is `--help`.
        let group = s.run(["user"], useDB: false)
        XCTAssertExit(group, 64)
        XCTAssertTrue(group.err.contains("'user' needs a subcommand: add, import, list"), group.err)
        XCTAssertTrue(group.out.isEmpty)
        let groupHelp = s.run(["user", "--help"], useDB: false)
        XCTAssertExit(groupHelp, 0)
        XCTAssertTrue(groupHelp.out.hasPrefix("OVERVIEW: The organization's people."), groupHelp.out)
        let batch = s.run(["-f", "-"], stdin: "user\nsubscription bye\nsubscription cancel\n", useDB: false)
        XCTAssertExit(batch, 1)
        XCTAssertTrue(batch.err.contains("'user' needs a subcommand"), batch.err)
        // Hints name the shell's own help, not the command line's.
        XCTAssertTrue(
            batch.err.contains("See 'help subscription'.") && batch.err.contains("See 'help subscription cancel'."),
            batch.err
        )
        XCTAssertFalse(batch.err.contains("selfserve "), batch.err)
        // The shell's own commands have help too, and the list of commands names them.
        let shellHelp = s.run(["-f", "-"], stdin: "help format\nhelp lua\nhelp begin\nhelp\n", useDB: false)
        XCTAssertExit(shellHelp, 0)
        for text in [
            "format table|json|ndjson|csv", "lua — run a Lua chunk", "begin — open a transaction", "SHELL COMMANDS:",
        ] {
            XCTAssertTrue(shellHelp.out.contains(text), shellHelp.out)
        }
    }
}
