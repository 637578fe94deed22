import Foundation
import XCTest

/// Issue 7: crash safety, upgrades, injection, and access by guessed ids.
final class ReliabilityTests: XCTestCase {
    func testOldSchemaIsUpgradedInPlace() {
        let s = Sandbox()
        let old = s.run(["init", "--org", "Old Co", "--admin", Sandbox.admin], extraEnv: ["SELFSERVE_SCHEMA_UPTO": "v2-subscriptions"])
        XCTAssertExit(old, 0)
        XCTAssertExit(s.run(["user", "add", "bea@contoso.com", "--name", "Bea"], as: Sandbox.admin, extraEnv: ["SELFSERVE_SCHEMA_UPTO": "v2-subscriptions"]), 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM sqlite_master WHERE name = 'invoices'"), "0")
        // The current binary upgrades it and everything is still there.
        XCTAssertEqual(s.run(["org", "show", "--json"], as: Sandbox.admin).object["name"] as? String, "Old Co")
        XCTAssertEqual(s.query("SELECT count(*) FROM grdb_migrations"), "5")
        XCTAssertEqual(s.run(["user", "show", "bea@contoso.com", "--json"], as: Sandbox.admin).object["name"] as? String, "Bea")
        _ = s.addCard("bea@contoso.com")
        XCTAssertExit(s.run(["subscription", "buy", "power-bi-pro", "--licenses", "2"], as: "bea@contoso.com"), 0)
        XCTAssertEqual(s.query("PRAGMA integrity_check"), "ok")
    }

    func testInjectionAttemptsDoNothing() {
        let s = Sandbox()
        s.initialize()
        let attacks = ["x'; DROP TABLE users; --", "\" OR 1=1 --", "sub_%", "%", "_", "admin@contoso.com' --", "'; UPDATE users SET role='admin'; --"]
        for a in attacks {
            for cmd in [["user", "show", a], ["product", "show", a], ["subscription", "show", a], ["license", "list", a],
                        ["audit", "list", "--action", a], ["admin", "purchases", "--buyer", a], ["invoice", "show", a],
                        ["payment-method", "show", a], ["billing", "profile", "show", a]] {
                let r = s.run(cmd + ["--json"], as: cmd[0] == "audit" || cmd[0] == "admin" ? Sandbox.admin : "user1@contoso.com")
                if cmd[0] == "audit" {
                    XCTAssertExit(r, 0)
                    XCTAssertEqual(r.array.count, 0, "\(cmd)")
                } else {
                    XCTAssertNotEqual(r.code, 0, "\(cmd)")
                    XCTAssertTrue(["not_found", "invalid_argument"].contains(r.errorObject["code"] as? String ?? ""), "\(cmd): \(r.err)")
                }
            }
            XCTAssertNotEqual(s.run(["user", "add", a, "--name", a], as: Sandbox.admin).code, 0)
        }
        XCTAssertEqual(s.query("SELECT count(*) FROM users"), "34")
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE role = 'admin'"), "1")
        XCTAssertEqual(s.run(["audit", "list", "--action", "%", "--json"], as: Sandbox.admin).array.count, 0)
    }

    func testKilledBatchesLoseNothingAndAtomicIsAllOrNothing() throws {
        let s = Sandbox()
        s.initialize()
        var batch = ""
        for i in 0..<400 { batch += "user add crash\(i)@contoso.com --name 'Crash \(i)'\n" }
        let file = s.write("long.txt", batch)
        var kills = 0
        for round in 0..<50 {
            let atomic = round % 2 == 0
            // Each round adds other users, so that the checks below see every round's traces.
            let text = batch.replacingOccurrences(of: "crash", with: "r\(round)-")
            let path = s.write("round.txt", text)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = ["--db", s.db, "--as", Sandbox.admin, "-f", path] + (atomic ? ["--atomic"] : [])
            p.environment = s.env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 20_000...250_000))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
            p.waitUntilExit()
            let added = Int(s.query("SELECT count(*) FROM users WHERE email LIKE 'r\(round)-%'"))!
            let audited = Int(s.query("SELECT count(*) FROM audit_log WHERE action = 'user.add' AND outcome = 'ok' AND target LIKE 'r\(round)-%'"))!
            XCTAssertEqual(added, audited, "round \(round): every command wholly applied or not at all")
            if atomic { XCTAssertTrue(added == 0 || added == 400, "round \(round): atomic batch half applied (\(added))") }
        }
        _ = file
        XCTAssertEqual(s.query("PRAGMA integrity_check"), "ok")
        XCTAssertGreaterThan(kills, 25, "the test must actually kill processes mid-batch")
    }
}
