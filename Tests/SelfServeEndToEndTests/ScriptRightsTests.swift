import Foundation
import XCTest

/// Issue 14: a script has exactly the acting user's rights: it sees what they may see and cannot
/// change who it acts as.
final class ScriptRightsTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testReadHelpersSeeOnlyWhatTheActingUserMaySee() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 3)
        XCTAssertExit(s.run(["license", "assign", sub, "user1@contoso.com"], as: buyer), 0)
        XCTAssertExit(s.run(["user", "add", "blocked@contoso.com", "--name", "Blocked"], as: Sandbox.admin), 0)
        XCTAssertExit(s.run(["user", "block", "blocked@contoso.com"], as: Sandbox.admin), 0)
        let script = s.write(
            "peek.lua",
            """
            local all = ss.subscriptions{}
            local theirs = ss.subscriptions{buyer = "\(buyer)"}
            local one = ss.subscription("\(sub)")
            print(#all, #theirs, one and one.payment_method or "nil", ss.assigned_count{buyer = "\(buyer)"}, ss.user("\(buyer)") and "user" or "nil")
            """
        )
        // The buyer and an admin (read-only view) see it; nobody else does, with or without a user.
        let expected: [(String?, String)] = [
            (buyer, "1\t1\tpm_"), (Sandbox.admin, "1\t1\tpm_"), ("other@contoso.com", "0\t0\tnil\t0\tuser"),
            ("guest@fabrikam.com", "0\t0\tnil\t0\tuser"), ("blocked@contoso.com", "0\t0\tnil\t0\tnil"),
            ("nobody@contoso.com", "0\t0\tnil\t0\tnil"), (nil, "0\t0\tnil\t0\tnil"),
        ]
        for (user, prefix) in expected {
            let r = s.run(["run", script], as: user)
            XCTAssertExit(r, 0)
            XCTAssertTrue(r.out.hasPrefix(prefix), "\(user ?? "no user"): \(r.out)")
        }
        // A plugin is the admins' code: it sees the whole organization.
        let plugin = s.write(
            "watch.lua",
            """
            return { name = "watch", before_set_licenses = function(sub, total)
              return false, "seen " .. #ss.subscriptions{} .. " " .. (ss.subscription(sub.id) and "yes" or "no")
            end }
            """
        )
        XCTAssertExit(s.run(["plugin", "install", plugin], as: Sandbox.admin), 0)
        let denied = s.run(["subscription", "set-licenses", sub, "4", "--json"], as: buyer)
        XCTAssertTrue((denied.errorObject["message"] as? String ?? "").contains("seen 1 yes"), denied.err)
    }

    func testAScriptCannotChangeWhoItActsAs() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("asserted identity: on a server the login role decides who acts (RowSecurityTests)")
        s.initialize()
        let script = s.write(
            "become.lua",
            """
            for _, words in ipairs({{"login", "\(Sandbox.admin)"}, {"logout"}, {"whoami", "--as", "\(Sandbox.admin)"}}) do
              local ok, e = pcall(ss.exec, table.unpack(words))
              print(words[1], ok, type(e) == "table" and e.code or "")
            end
            print(ss.exec("whoami").email)
            local ok, e = pcall(ss.exec, "user", "add", "x@contoso.com", "--name", "X")
            print("user add", ok, type(e) == "table" and e.code or "")
            """
        )
        XCTAssertExit(s.run(["login", buyer]), 0)
        let r = s.run(["run", script])
        XCTAssertExit(r, 0)
        XCTAssertEqual(
            r.out.split(separator: "\n").map(String.init),
            [
                "login\tfalse\tforbidden", "logout\tfalse\tforbidden", "whoami\tfalse\tforbidden", buyer,
                "user add\tfalse\tforbidden",
            ]
        )
        XCTAssertEqual(s.run(["whoami", "--json"]).object["email"] as? String, buyer, "the saved login is unchanged")
    }

    /// Ctrl-C (SIGINT) during a one-shot script stops the script, as lua.c does: the process reports it
    /// and exits 1, and what the script had done in its transaction is rolled back. Outside a call,
    /// SIGINT keeps its usual meaning.
    func testCtrlCStopsAOneShotScriptAndRollsItBack() throws {
        let s = Sandbox()
        s.initialize()
        for (name, body) in [
            ("loop", "while true do end"),
            ("patterns", "while true do string.find(string.rep('a', 5000), '.-.-.-b') end"),
            ("pcall", "while true do pcall(function() while true do end end) end"),
        ] {
            let script = s.write(
                "\(name).lua",
                """
                ss.exec("user", "add", "\(name)@contoso.com", "--name", "Before the loop")
                print("started")
                \(body)
                """
            )
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = s.arguments(as: Sandbox.admin) + ["--atomic", "run", script]
            p.environment = s.env.merging(["SELFSERVE_LUA_TIMEOUT_MS": "60000"]) { $1 }
            let out = Pipe()
            let err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            try p.run()
            // Give it time to be inside its loop (its output is buffered, so it cannot tell us), then
            // interrupt it. The budget alone would stop it only after seconds more.
            Thread.sleep(forTimeInterval: 1)
            XCTAssertTrue(p.isRunning, name)
            p.interrupt()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, "\(name): ended by the signal instead of stopping the script")
            XCTAssertEqual(p.terminationStatus, 1, name)
            XCTAssertTrue(message.contains("interrupted"), "\(name): \(message)")
            XCTAssertEqual(
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                "started\n",
                name
            )
            XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email = '\(name)@contoso.com'"), "0", name)
        }
    }

    func testAFileAScriptCannotOpenIsNamedAtTheScriptsLine() {
        let s = Sandbox()
        s.initialize()
        let script = s.write("read.lua", "local n = 0\nfor l in io.lines('missing.csv') do n = n + 1 end\n")
        let r = s.run(["run", script], as: buyer)
        XCTAssertExit(r, 1)
        XCTAssertTrue(r.err.contains("read.lua:2: cannot open file 'missing.csv'") && !r.err.contains("sandbox"), r.err)
    }
}
