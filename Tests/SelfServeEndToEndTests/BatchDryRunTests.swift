import Foundation
import XCTest

/// Issue 15: batches and scripts under --dry-run and --atomic, line endings, and denied attempts that
/// leave a trace however they were rolled back.
final class BatchDryRunTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testADryRunOfABatchOrScriptKeepsNothingAndSaysWhatWouldHappen() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let before = s.query("SELECT count(*) FROM audit_log")
        let plan = "subscription buy power-bi-pro --licenses 3\nsubscription list --json\n"
        for (args, stdin) in [
            (["--dry-run", "-f", s.write("plan.txt", plan)], nil), (["--dry-run", "-f", "-"], plan),
        ] as [([String], String?)] {
            let r = s.run(args, as: buyer, stdin: stdin)
            XCTAssertExit(r, 0)
            XCTAssertTrue(r.out.contains("\"licenses_total\":3"), "a later line sees the earlier one: \(r.out)")
            XCTAssertTrue(
                r.err.contains("dry run: nothing was changed") && r.err.contains("would subscription.buy"),
                r.err
            )
            XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "0")
            XCTAssertEqual(s.query("SELECT count(*) FROM audit_log"), before)
        }
        let script = s.write(
            "plan.lua",
            """
            local sub = ss.exec("subscription", "buy", "power-bi-pro", "--licenses", "4")
            print(ss.exec("subscription", "show", sub.id).licenses_total)
            """
        )
        let r = s.run(["--dry-run", "run", script], as: buyer)
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.out, "4\n")
        XCTAssertTrue(r.err.contains("would subscription.buy"), r.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "0")
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "0")
        // begin/commit cannot escape a dry run.
        XCTAssertExit(
            s.run(
                ["--dry-run", "-f", "-"],
                as: buyer,
                stdin: "begin\nsubscription buy power-bi-pro --licenses 1\ncommit\n"
            ),
            1
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "0")
    }

    func testAnAtomicBatchThatCannotBeReadToItsEndKeepsNothing() {
        let s = Sandbox()
        s.initialize()
        let early = Data("user add early@contoso.com --name Early\n".utf8)
        let endings = [
            Data("user add \"late@contoso.com --name Late\n".utf8),
            Data("user add late@contoso.com --name Late \\\n".utf8),
            Data([0x75, 0x73, 0x65, 0x72, 0x20, 0xFF, 0xFE, 0x0A]),
        ]
        for (n, ending) in endings.enumerated() {
            let file = s.dir.appendingPathComponent("end\(n).txt")
            XCTAssertNoThrow(try (early + ending).write(to: file))
            let r = s.run(["--atomic", "-f", file.path], as: Sandbox.admin)
            XCTAssertExit(r, 1)
            XCTAssertTrue(r.err.contains("rolled back"), r.err)
            XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email = 'early@contoso.com'"), "0", "ending \(n)")
        }
    }

    func testLineEndingsOfEverySystemAndABOM() {
        let s = Sandbox()
        s.initialize()
        for text in ["whoami\r\nwhoami\r\n", "whoami\rwhoami", "\u{FEFF}whoami\nwhoami\n", "whoami\r\n\r\nwhoami"] {
            let r = s.run(["--json", "-f", s.write("w.txt", text)], as: buyer)
            XCTAssertExit(r, 0)
            XCTAssertEqual(r.out.split(separator: "\n").count, 2, text.debugDescription)
        }
    }

    func testDeniedAttemptsLeaveATraceHoweverTheyWereRolledBack() {
        let s = Sandbox()
        s.initialize()
        let probes: [([String], String?)] = [
            (["--dry-run", "user", "block", "user1@contoso.com"], nil),
            (["-f", "-"], "begin\nuser block user2@contoso.com\nrollback\n"),
            (["--atomic", "-f", "-"], "whoami\nuser block user3@contoso.com\n"),
            (["--dry-run", "-f", "-"], "user block user4@contoso.com\n"),
        ]
        for (args, stdin) in probes {
            XCTAssertNotEqual(s.run(args, as: buyer, stdin: stdin).code, 0, args.joined(separator: " "))
        }
        let denied = s.run(["audit", "list", "--action", "user.block", "--json"], as: Sandbox.admin).array.filter {
            $0["outcome"] as? String == "denied"
        }
        XCTAssertEqual(
            Set(denied.compactMap { $0["target"] as? String }),
            ["user1@contoso.com", "user2@contoso.com", "user3@contoso.com", "user4@contoso.com"]
        )
        XCTAssertTrue(denied.allSatisfy { $0["actor"] as? String == buyer })
        let dry = denied.filter { (($0["details"] as? [String: Any])?["dry_run"] as? Bool) == true }.compactMap {
            $0["target"] as? String
        }
        XCTAssertEqual(Set(dry), ["user1@contoso.com", "user4@contoso.com"])
    }
}
