import Foundation
import XCTest

/// Issue 7: crash safety, upgrades, injection, and access by guessed ids.
final class ReliabilityTests: XCTestCase {
    func testOldSchemaIsUpgradedInPlace() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("upgrades an old SQLite file")
        let old = s.run(
            ["init", "--org", "Old Co", "--admin", Sandbox.admin, "--test-clock"],
            extraEnv: ["SELFSERVE_SCHEMA_UPTO": "v2-subscriptions"]
        )
        XCTAssertExit(old, 0)
        XCTAssertExit(
            s.run(
                ["user", "add", "bea@contoso.com", "--name", "Bea"],
                as: Sandbox.admin,
                extraEnv: ["SELFSERVE_SCHEMA_UPTO": "v2-subscriptions"]
            ),
            0
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM sqlite_master WHERE name = 'invoices'"), "0")
        // The current binary upgrades it and everything is still there.
        XCTAssertEqual(s.run(["org", "show", "--json"], as: Sandbox.admin).object["name"] as? String, "Old Co")
        XCTAssertEqual(s.query("SELECT count(*) FROM grdb_migrations"), "11")
        XCTAssertEqual(
            s.run(["user", "show", "bea@contoso.com", "--json"], as: Sandbox.admin).object["name"] as? String,
            "Bea"
        )
        _ = s.addCard("bea@contoso.com")
        XCTAssertExit(s.run(["subscription", "buy", "power-bi-pro", "--licenses", "2"], as: "bea@contoso.com"), 0)
        XCTAssertEqual(s.integrityCheck(), "ok")
    }

    /// Issue 20: what grows with the organization (subscriptions, assignments, charges, invoices, the
    /// audit log) is only ever searched through an index, by the billing run and by the commands about
    /// one thing — every statement they run, as `SELFSERVE_SQL_TRACE` records it, planned by SQLite. A
    /// scan of one of those tables makes a command grow with the database instead of with its work.
    func testWhatGrowsIsOnlyEverSearchedThroughAnIndex() throws {
        let buyer = "buyer@contoso.com"
        let s = Sandbox()
        try s.requireSQLiteFile("SQLite's query plans")
        s.initialize()
        s.env["SELFSERVE_NOW"] = "2026-01-10"
        let trace = s.dir.appendingPathComponent("trace.sql").path
        s.env["SELFSERVE_SQL_TRACE"] = trace
        let card = s.addCard(buyer)
        let expiring = s.addCard(buyer, number: "5555555555554444", expiry: "03/26")
        let sub = s.buy(buyer, "power-bi-pro", licenses: 5)
        _ = s.buy(buyer, "visio-plan-1", licenses: 2, "--payment-method", expiring)
        let canceled = s.buy(buyer, "project-plan-1", licenses: 1)
        XCTAssertExit(s.run(["trial", "start", "teams-premium", "--payment-method", card], as: buyer), 0)
        XCTAssertExit(s.run(["license", "assign", sub, "user1@contoso.com", "user2@contoso.com"], as: buyer), 0)
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "7"], as: buyer), 0)
        XCTAssertExit(
            s.run(["subscription", "cancel", canceled, "--reason", "no_longer_needed"], as: buyer),
            0
        )
        // A year and a half of runs: renewals, proration, a conversion, a failed payment, the lifecycle.
        for month in ["2026-02-15", "2026-06-01", "2027-07-01"] {
            XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": month]), 0)
        }
        let invoice = s.query("SELECT id FROM invoices LIMIT 1")
        for (args, user) in [
            (["subscription", "show", sub], buyer), (["license", "list", sub], buyer),
            (["license", "unassign", sub, "user2@contoso.com", "--yes"], buyer),
            (["invoice", "list", "--last", "6m"], buyer),
            (["invoice", "show", invoice], buyer), (["billing", "forecast"], buyer),
            (["admin", "purchases", "--buyer", buyer], Sandbox.admin), (["whoami"], buyer),
        ] {
            let r = s.run(args + ["--json"], as: user, extraEnv: ["SELFSERVE_NOW": "2027-07-01"])
            XCTAssertEqual(r.code, 0, "\(args.joined(separator: " ")): \(r.err)")
        }
        let statements = Set(
            ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        )
        XCTAssertTrue(statements.contains { $0.contains("pending_charges") }, "the trace holds the run's statements")
        let growing = [
            "users", "subscriptions", "assignments", "license_changes", "pending_charges", "invoices", "invoice_lines",
            "audit_log", "payment_methods", "billing_accounts", "billing_profiles", "idempotency_keys", "batch_marks",
        ]
        for sql in statements
        where ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(where: { sql.hasPrefix($0) }) {
            let plan = s.query("EXPLAIN QUERY PLAN " + sql)
            for table in growing where plan.contains("SCAN \(table)") {
                XCTFail("\(sql)\nscans \(table):\n\(plan)")
            }
        }
    }

    /// A purchase and an early cancellation made by the old billing run's schema are charged and credited
    /// once after the upgrade to calendar billing.
    func testUpgradeKeepsWhatTheOldRunHadNotInvoiced() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("upgrades an old SQLite file")
        let v5 = ["SELFSERVE_SCHEMA_UPTO": "v5-billing-run"]
        XCTAssertExit(s.run(["init", "--org", "Old Co", "--admin", Sandbox.admin, "--test-clock"], extraEnv: v5), 0)
        XCTAssertExit(s.run(["user", "add", "bea@contoso.com", "--name", "Bea"], as: Sandbox.admin, extraEnv: v5), 0)
        s.env["SELFSERVE_SCHEMA_UPTO"] = "v5-billing-run"
        _ = s.addCard("bea@contoso.com")
        s.env["SELFSERVE_SCHEMA_UPTO"] = nil
        // Written as the old code would have left them: a period not yet charged, a credit waiting.
        XCTAssertEqual(
            s.query(
                """
                INSERT INTO billing_accounts VALUES ('ba_1', 'Bea', 'bea@contoso.com', '2026-03-01T00:00:00Z');
                INSERT INTO billing_profiles VALUES ('bp_1', 'ba_1', 'Bea', (SELECT id FROM payment_methods), 'bea@contoso.com', 1, '2026-03-01T00:00:00Z');
                INSERT INTO subscriptions (id, product, buyer, status, term, licenses_total, unit_price, currency, started, period_start, expires,
                    billing_profile, trial, converts, status_since, created_at)
                    VALUES ('sub_1', 'power-bi-pro', 'bea@contoso.com', 'active', 'monthly', 3, 1400, 'USD', '2026-03-02', '2026-03-02', '2026-04-02',
                    'bp_1', 0, 0, '2026-03-02', '2026-03-02T00:00:00Z');
                INSERT INTO pending_credits (billing_profile, description, subscription, quantity, unit_price, amount)
                    VALUES ('bp_1', 'Credit', 'sub_1', -1, 1400, -500);
                SELECT 'ok';
                """
            ),
            "ok"
        )
        let run = s.run(["billing", "run", "--json"])
        XCTAssertExit(run, 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM grdb_migrations"), "11")
        XCTAssertEqual(s.query("SELECT sum(amount) FROM invoice_lines"), "3700")
        XCTAssertEqual(s.query("SELECT next_step FROM subscriptions"), "2026-04-02")
        XCTAssertExit(s.run(["billing", "run", "--json"]), 0)
        XCTAssertEqual(s.query("SELECT sum(amount) FROM invoice_lines"), "3700", "a second run charges nothing again")
    }

    /// A stored value this version does not know — a status, a role, a day — fails the command with a
    /// clear error; it never reads as a default (a blocked user as active, a bad day as 1970-01-01).
    func testUnknownStoredValuesAreRefusedNotDefaulted() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("damages a copy of the file with sqlite3")
        s.initialize()
        _ = s.addCard("buyer@contoso.com")
        let sub = s.buy("buyer@contoso.com", "power-bi-pro", licenses: 2)
        let damage = [
            ("UPDATE subscriptions SET status = 'superactive'", ["subscription", "show", sub], "buyer@contoso.com"),
            ("UPDATE subscriptions SET expires = '2026-02-30'", ["subscription", "show", sub], "buyer@contoso.com"),
            ("UPDATE subscriptions SET period_start = '2026-3-2'", ["subscription", "list"], "buyer@contoso.com"),
            ("UPDATE users SET role = 'root' WHERE email = 'user1@contoso.com'", ["user", "list"], Sandbox.admin),
            (
                "UPDATE users SET status = 'paused' WHERE email = 'user2@contoso.com'",
                ["user", "show", "user2@contoso.com"], Sandbox.admin
            ),
            (
                "UPDATE products SET self_service = 'sometimes' WHERE id = 'visio-plan-2'", ["product", "list"],
                Sandbox.admin
            ),
        ]
        for (sql, command, user) in damage {
            let copy = s.dir.appendingPathComponent("copy.sqlite").path
            try? FileManager.default.removeItem(atPath: copy)
            XCTAssertNoThrow(try FileManager.default.copyItem(atPath: s.db, toPath: copy))
            XCTAssertEqual(
                Sandbox.sqlite(
                    copy,
                    "PRAGMA ignore_check_constraints = 1; PRAGMA foreign_keys = 0; \(sql); SELECT changes();"
                ),
                "1",
                sql
            )
            let r = s.run(["--db", copy] + command + ["--json"], as: user, useDB: false)
            XCTAssertExit(r, 1)
            XCTAssertEqual(r.errorObject["code"] as? String, "invalid_argument", sql)
            XCTAssertTrue((r.errorObject["message"] as? String ?? "").contains("cannot read"), "\(sql): \(r.err)")
        }
    }

    func testInjectionAttemptsDoNothing() {
        let s = Sandbox()
        s.initialize()
        let attacks = [
            "x'; DROP TABLE users; --", "\" OR 1=1 --", "sub_%", "%", "_", "admin@contoso.com' --",
            "'; UPDATE users SET role='admin'; --",
        ]
        for a in attacks {
            for cmd in [
                ["user", "show", a], ["product", "show", a], ["subscription", "show", a], ["license", "list", a],
                ["audit", "list", "--action", a], ["admin", "purchases", "--buyer", a], ["invoice", "show", a],
                ["payment-method", "show", a], ["billing", "profile", "show", a],
            ] {
                let r = s.run(
                    cmd + ["--json"],
                    as: cmd[0] == "audit" || cmd[0] == "admin" ? Sandbox.admin : "user1@contoso.com"
                )
                if cmd[0] == "audit" {
                    XCTAssertExit(r, 0)
                    XCTAssertEqual(r.array.count, 0, "\(cmd)")
                } else {
                    XCTAssertNotEqual(r.code, 0, "\(cmd)")
                    XCTAssertTrue(
                        ["not_found", "invalid_argument"].contains(r.errorObject["code"] as? String ?? ""),
                        "\(cmd): \(r.err)"
                    )
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
        // Long enough that even the release binary is still running when the kill comes (≤ 250 ms).
        let lines = 4000
        var batch = ""
        for i in 0..<lines { batch += "user add crash\(i)@contoso.com --name 'Crash \(i)'\n" }
        let file = s.write("long.txt", batch)
        var kills = 0
        let rounds = Int(ProcessInfo.processInfo.environment["KILL_ROUNDS"] ?? "") ?? 50
        for round in 0..<rounds {
            let atomic = round % 2 == 0
            // Each round adds other users, so that the checks below see every round's traces.
            let text = batch.replacingOccurrences(of: "crash", with: "r\(round)-")
            let path = s.write("round.txt", text)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = s.arguments(as: Sandbox.admin) + ["-f", path] + (atomic ? ["--atomic"] : [])
            p.environment = s.env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 20_000...250_000))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
            let added = Int(s.query("SELECT count(*) FROM users WHERE email LIKE 'r\(round)-%'")) ?? -1
            let audited =
                Int(
                    s.query(
                        "SELECT count(*) FROM audit_log WHERE action = 'user.add' AND outcome = 'ok' AND target LIKE 'r\(round)-%'"
                    )
                ) ?? -2
            XCTAssertEqual(added, audited, "round \(round): every command wholly applied or not at all")
            if atomic {
                XCTAssertTrue(added == 0 || added == lines, "round \(round): atomic batch half applied (\(added))")
            }
        }
        _ = file
        XCTAssertEqual(s.integrityCheck(), "ok")
        XCTAssertGreaterThan(kills, rounds / 2, "the test must actually kill processes mid-batch")
    }

    /// CLI calls, batches and Lua scripts on one database at once: no "database is locked" reaches the
    /// user, no lost update, no overselling.
    func testMixedConcurrentProcesses() throws {
        let s = Sandbox()
        s.initialize()
        let buyer = "buyer@contoso.com"
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 12)
        let users = (1...30).map { "user\($0)@contoso.com" }
        let script = s.write(
            "churn.lua",
            """
            for i = 1, 15 do
              local u = "user" .. ((i + tonumber(arg[1])) % 30 + 1) .. "@contoso.com"
              pcall(ss.exec, "license", "assign", "\(sub)", u)
              pcall(ss.exec, "license", "unassign", "\(sub)", u, "--yes")
            end
            """
        )
        var batch = ""
        for (i, u) in users.enumerated() {
            batch += "license assign \(sub) \(u)\n" + (i % 2 == 0 ? "license unassign \(sub) \(u) --yes\n" : "")
        }
        let batchFile = s.write("churn.txt", batch)
        let results = Box([String]())
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            var errors: [String] = []
            switch i % 3 {
            case 0:
                for j in 0..<10 {
                    errors.append(s.run(["license", "assign", sub, users[(i * 5 + j) % 30], "--json"], as: buyer).err)
                }
            case 1:
                errors.append(s.run(["-f", batchFile], as: buyer).err)
            default:
                errors.append(s.run(["run", script, String(i)], as: buyer).err)
            }
            let joined = errors.joined(separator: "\n")
            let copy = results
            copy.value = copy.value + [joined]
        }
        for err in results.value {
            XCTAssertFalse(err.contains("locked") || err.contains("busy"), err)
        }
        let assigned = Int(s.query("SELECT count(*) FROM assignments WHERE subscription = '\(sub)'"))!
        XCTAssertLessThanOrEqual(assigned, 12)
        XCTAssertEqual(s.query("SELECT licenses_assigned FROM subscriptions WHERE id = '\(sub)'"), String(assigned))
        XCTAssertEqual(s.integrityCheck(), "ok")
    }
}

/// A writer stuck in another process never holds the organization for ever: a write waits for it at
/// most 10 seconds, then fails as `conflict` with nothing changed; reads are never blocked.
final class LockWaitTests: XCTestCase {
    func testAWriterWaitsBoundedlyBehindAnotherAndReadsGoOn() throws {
        let s = Sandbox()
        s.initialize()
        // Another process takes the write lock and keeps it for 14 seconds.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = [
            "-c",
            Sandbox.onPostgreSQL
                ? "psql -X -q -d '\(s.db)' -c 'SELECT pg_advisory_lock(1397969494)' -c 'SELECT pg_sleep(14)'"
                : "(echo 'BEGIN IMMEDIATE;'; sleep 14; echo 'ROLLBACK;') | sqlite3 '\(s.db)'",
        ]
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer {
            holder.terminate()
            holder.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 1)
        let start = Date()
        let read = s.run(["user", "list", "--json"], as: Sandbox.admin)
        XCTAssertExit(read, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "a read does not wait for a writer")
        let write = s.run(["user", "add", "late@contoso.com", "--name", "Late", "--json"], as: Sandbox.admin)
        let waited = Date().timeIntervalSince(start)
        XCTAssertExit(write, 1)
        XCTAssertEqual(write.errorObject["code"] as? String, "conflict", write.err)
        XCTAssertTrue((write.errorObject["message"] as? String ?? "").contains("busy"), write.err)
        XCTAssertGreaterThan(waited, 8, "it waited for the other writer first")
        XCTAssertLessThan(waited, 13.5, "and not for ever")
        XCTAssertEqual(s.query("SELECT count(*) FROM users WHERE email = 'late@contoso.com'"), "0")
    }
}

/// Issue 17: the database itself refuses a subscription with more licenses assigned than it has — the
/// last line of defence behind the store's checks, on both backends, also against raw SQL.
final class AssignedWithinTotalTests: XCTestCase {
    func testTheDatabaseRefusesMoreAssignedThanTotal() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard("buyer@contoso.com")
        let sub = s.buy("buyer@contoso.com", "power-bi-pro", licenses: 3)
        XCTAssertExit(
            s.run(["license", "assign", sub, "user1@contoso.com", "user2@contoso.com"], as: "buyer@contoso.com"),
            0
        )
        for sql in [
            "UPDATE subscriptions SET licenses_total = 1 WHERE id = '\(sub)'",
            "UPDATE subscriptions SET licenses_assigned = 4 WHERE id = '\(sub)'",
            "UPDATE subscriptions SET licenses_assigned = -1 WHERE id = '\(sub)'",
            "INSERT INTO assignments VALUES ('\(sub)', 'user3@contoso.com', '2026-03-02', 'x'), ('\(sub)', 'user4@contoso.com', '2026-03-02', 'x')",
        ] {
            let out = s.query(sql)
            XCTAssertTrue(out.contains("assigned_within_total"), "\(sql): \(out)")
        }
        XCTAssertEqual(
            s.query("SELECT licenses_total, licenses_assigned FROM subscriptions WHERE id = '\(sub)'"),
            "3|2"
        )
        // Exactly full is allowed.
        XCTAssertExit(s.run(["license", "assign", sub, "user3@contoso.com"], as: "buyer@contoso.com"), 0)
        XCTAssertEqual(s.query("SELECT licenses_assigned FROM subscriptions WHERE id = '\(sub)'"), "3")
    }

    /// A database made before the rule gets it on open, its counters recounted from the assignments.
    func testAnOlderDatabaseGetsTheRuleAndItsCountersRecounted() {
        let s = Sandbox()
        // SQLite: a file of schema v7 made by the migrations up to it.
        if !Sandbox.onPostgreSQL { s.env["SELFSERVE_SCHEMA_UPTO"] = "v7-safe-reruns" }
        s.initialize()
        _ = s.addCard("buyer@contoso.com")
        let sub = s.buy("buyer@contoso.com", "power-bi-pro", licenses: 3)
        XCTAssertExit(s.run(["license", "assign", sub, "user1@contoso.com"], as: "buyer@contoso.com"), 0)
        // PostgreSQL: what a selfserve of schema v7 left, without the constraint. On both, a counter that drifted.
        let v7 =
            Sandbox.onPostgreSQL
            ? """
            ALTER TABLE subscriptions DROP CONSTRAINT assigned_within_total;
            DELETE FROM selfserve_migrations WHERE identifier = 'v8-assigned-within-total';
            """ : ""
        XCTAssertEqual(
            s.query(v7 + "UPDATE subscriptions SET licenses_assigned = 3 WHERE id = '\(sub)'; SELECT 'ok'"),
            "ok"
        )
        s.env["SELFSERVE_SCHEMA_UPTO"] = nil
        if Sandbox.onPostgreSQL {
            // An upgrade changes tables: a buyer's role may not, and is told so; the DBA's role does it.
            let buyerTry = s.run(["subscription", "show", sub], as: "buyer@contoso.com")
            XCTAssertExit(buyerTry, 77)
            XCTAssertTrue(buyerTry.err.contains("only its owner"), buyerTry.err)
            XCTAssertExit(s.run(["billing", "run"]), 0)
        }
        XCTAssertExit(s.run(["subscription", "show", sub], as: "buyer@contoso.com"), 0)
        XCTAssertEqual(s.query("SELECT licenses_assigned FROM subscriptions WHERE id = '\(sub)'"), "1")
        XCTAssertTrue(
            s.query("UPDATE subscriptions SET licenses_total = 0 WHERE id = '\(sub)'").contains("assigned_within_total")
        )
    }
}
