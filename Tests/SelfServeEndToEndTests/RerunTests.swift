import Foundation
import XCTest

/// Issue 19: safe re-runs — `--idempotency-key` on one command, `--resume` on a batch file.
final class RerunTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testTheSameKeyAndCommandIsDoneOnce() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let first = s.run(
            ["subscription", "buy", "power-bi-pro", "--licenses", "4", "--idempotency-key", "order-17", "--json"],
            as: buyer
        )
        XCTAssertExit(first, 0)
        // The same command, its options in another order, output in another format: the same result again.
        let again = s.run(
            ["--idempotency-key", "order-17", "subscription", "buy", "--licenses", "4", "power-bi-pro"],
            as: buyer
        )
        XCTAssertExit(again, 0)
        XCTAssertEqual(again.out.trimmingCharacters(in: .whitespacesAndNewlines), first.object["id"] as? String)
        XCTAssertTrue(again.err.contains("replayed"), again.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "1")
        XCTAssertEqual(s.query("SELECT count(*) FROM pending_charges"), "1", "charged once")
        // Another command under the same key is a conflict; another user's same key is theirs.
        let other = s.run(
            ["subscription", "buy", "power-bi-pro", "--licenses", "5", "--idempotency-key", "order-17", "--json"],
            as: buyer
        )
        XCTAssertExit(other, 1)
        XCTAssertEqual(other.errorObject["code"] as? String, "conflict")
        _ = s.addCard("other@contoso.com")
        XCTAssertExit(
            s.run(
                ["subscription", "buy", "power-bi-pro", "--licenses", "4", "--idempotency-key", "order-17"],
                as: "other@contoso.com"
            ),
            0
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "2")
        // A failed command keeps nothing under its key: mended, it runs.
        let sub = first.object["id"] as? String ?? ""
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "0", "--idempotency-key", "fix-1"], as: buyer), 1)
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "6", "--idempotency-key", "fix-1"], as: buyer), 0)
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "6", "--idempotency-key", "fix-1"], as: buyer), 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM license_changes WHERE subscription = '\(sub)'"), "2")
        // A dry run keeps nothing either; a bad key is a usage error.
        XCTAssertExit(
            s.run(
                ["user", "add", "x@contoso.com", "--name", "X", "--idempotency-key", "u-1", "--dry-run"],
                as: Sandbox.admin
            ),
            0
        )
        XCTAssertExit(
            s.run(["user", "add", "x@contoso.com", "--name", "X", "--idempotency-key", "u-1"], as: Sandbox.admin),
            0
        )
        XCTAssertExit(
            s.run(
                ["user", "add", "y@contoso.com", "--name", "Y", "--idempotency-key", "has space"],
                as: Sandbox.admin
            ),
            64
        )
        // After 24 hours the key is forgotten: the same command is a new purchase.
        XCTAssertExit(
            s.run(
                ["subscription", "buy", "power-bi-pro", "--licenses", "4", "--idempotency-key", "order-17"],
                as: buyer,
                extraEnv: ["SELFSERVE_NOW": "2026-03-03T10:00:01Z"]
            ),
            0
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions WHERE buyer = '\(buyer)'"), "2")
    }

    func testResumeSkipsWhatCommittedAndRunsTheMendedLine() {
        for bail in [false, true] {
            let s = Sandbox()
            s.initialize()
            let lines = (1...5).map { "user add new\($0)@contoso.com --name 'New \($0)'" }
            var broken = lines
            broken[2] = "user add not-an-email --name 'New 3'"
            let plan = s.write("plan.txt", broken.joined(separator: "\n") + "\n")
            let first = s.run(["-f", plan] + (bail ? ["--bail"] : []), as: Sandbox.admin)
            XCTAssertExit(first, 1)
            _ = s.write("plan.txt", lines.joined(separator: "\n") + "\n")
            let resumed = s.run(["-f", plan, "--resume"] + (bail ? ["--bail"] : []), as: Sandbox.admin)
            XCTAssertExit(resumed, 0)
            XCTAssertTrue(resumed.err.contains("skipped \(bail ? 2 : 4) lines"), resumed.err)
            XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email LIKE 'new%'"), "5")
            let third = s.run(["-f", plan, "--resume"], as: Sandbox.admin)
            XCTAssertExit(third, 0)
            XCTAssertTrue(third.err.contains("skipped 5 lines"), third.err)
            // Another acting user's run, or a run without --resume, skips nothing.
            let otherUser = s.run(["-f", plan, "--resume"], as: "user1@contoso.com")
            XCTAssertExit(otherUser, 1)
            XCTAssertEqual(otherUser.err.components(separatedBy: "only admins may add users").count, 6, otherUser.err)
            XCTAssertExit(s.run(["-f", plan], as: Sandbox.admin), 1)
        }
        XCTAssertExit(Sandbox().run(["--resume"], stdin: "org show\n"), 64)
    }

    /// Killed at random moments, a batch resumed until it succeeds leaves the database as one
    /// uninterrupted run does: every line's effect once, none twice.
    func testResumeAfterSIGKILLEqualsOneRun() throws {
        // Long enough that even the release binary is still running when the kill comes (≤ 300 ms).
        let lines = (1...1000).map { i in
            i % 50 == 0
                ? "product policy visio-plan-\(i % 100 == 0 ? 1 : 2) \(i % 100 == 0 ? "disabled" : "enabled")"
                : "user add k\(i)@contoso.com --name 'Killed \(i)'"
        }
        let reference = Sandbox()
        reference.initialize()
        XCTAssertExit(
            reference.run(["-f", reference.write("plan.txt", lines.joined(separator: "\n"))], as: Sandbox.admin),
            0
        )
        func state(_ s: Sandbox) -> [String] {
            [
                // One row per line: the same SQL (and output) on SQLite and PostgreSQL.
                s.query("SELECT email || ':' || name FROM users ORDER BY email"),
                s.query("SELECT id || ':' || self_service FROM products ORDER BY id"),
                s.query(
                    "SELECT action || ' ' || count(*) FROM audit_log WHERE action IN ('user.add', 'product.policy') GROUP BY action ORDER BY action"
                ),
            ]
        }
        var generator = SystemRandomNumberGenerator()
        var killedMidway = 0
        for round in 0..<4 {
            let s = Sandbox()
            s.initialize()
            let plan = s.write("plan.txt", lines.joined(separator: "\n"))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = s.arguments(as: Sandbox.admin) + ["-f", plan]
            p.environment = s.env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.3, using: &generator))
            if p.isRunning { killedMidway += 1 }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            var resumed = s.run(["-f", plan, "--resume"], as: Sandbox.admin)
            for _ in 0..<3 where resumed.code != 0 { resumed = s.run(["-f", plan, "--resume"], as: Sandbox.admin) }
            XCTAssertExit(resumed, 0)
            XCTAssertEqual(state(s), state(reference), "round \(round)")
        }
        XCTAssertGreaterThan(killedMidway, 0, "the test must kill batches mid-run")
    }
}
