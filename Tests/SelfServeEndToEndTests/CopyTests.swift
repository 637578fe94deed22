import Foundation
import XCTest

/// Issue 17: `copy --to` moves a whole organization between a SQLite file and PostgreSQL (both ways):
/// every row, the counts and invoice totals of both sides printed, and the copy a working organization
/// that goes on where the source left off.
final class CopyTests: XCTestCase {
    let admin = Sandbox.admin
    let buyer = "buyer@contoso.com"

    /// An organization that fills every table: cards, purchases, assignments, license changes, a
    /// cancellation's credit waiting for the next run, invoices, a plugin, an idempotency key, batch marks.
    func busyOrganization(_ s: Sandbox, file: StaticString = #filePath, line: UInt = #line) -> String {
        s.initialize(file: file, line: line)
        _ = s.addCard(buyer, file: file, line: line)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 5, file: file, line: line)
        let other = s.buy(buyer, "visio-plan-2", licenses: 3, file: file, line: line)
        let steps: [([String], String?)] = [
            (["license", "assign", sub, "user1@contoso.com", "user2@contoso.com", "user3@contoso.com"], buyer),
            (["license", "assign", other, "user4@contoso.com"], buyer),
            (["subscription", "set-licenses", sub, "7"], buyer),
            (["trial", "start", "project-plan-3"], buyer),
            (["plugin", "install", s.write("reasons.lua", Self.plugin)], admin),
            (["billing", "run"], nil),
            (["subscription", "cancel", other, "--reason", "budget_cut", "--comment", "ünïcödé 'quoted'"], buyer),
            (["user", "add", "late@contoso.com", "--name", "Late Comer", "--idempotency-key", "k-1"], admin),
        ]
        for (args, user) in steps {
            XCTAssertExit(
                s.run(args, as: user, extraEnv: ["SELFSERVE_NOW": "2026-03-20T10:00:00Z"]),
                0,
                file: file,
                line: line
            )
        }
        let plan = s.write("plan.txt", "license assign \(sub) user5@contoso.com\n")
        XCTAssertExit(s.run(["-f", plan, "--resume"], as: buyer), 0, file: file, line: line)
        return sub
    }

    static let plugin = """
        return {
          name = "reasons", version = "1.0", description = "Finance's reasons",
          cancellation_reasons = { { code = "budget_cut", label = "Budget was cut", comment_required = true } },
          before_purchase = function(req) end,
        }
        """

    /// What people see through selfserve, as JSON: the same on both sides of a copy.
    func views(_ s: Sandbox, _ db: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let reads: [([String], String)] = [
            (["org", "show"], admin), (["user", "list"], admin), (["admin", "purchases"], admin),
            (["subscription", "list"], buyer),
            (["invoice", "list", "--from", "2026-01-01", "--to", "2026-12-31"], buyer),
            (["audit", "list"], admin), (["plugin", "list"], admin), (["payment-method", "list"], buyer),
            (["billing", "forecast", "--until", "2026-09-01"], buyer),
        ]
        return reads.map { args, user in
            let r = s.run(args + ["--json"], as: user, database: db)
            XCTAssertExit(r, 0, file: file, line: line)
            return r.out
        }
    }

    func copy(
        _ s: Sandbox,
        from: String,
        to: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Sandbox.Result {
        let r = s.run(["copy", "--to", to, "--json"], as: admin, database: from)
        XCTAssertExit(r, 0, file: file, line: line)
        XCTAssertEqual(r.object["matches"] as? Bool, true, file: file, line: line)
        XCTAssertEqual(r.object["kept"] as? Bool, true, file: file, line: line)
        return r
    }

    /// A file's SQL text, every row, but for which login role each user is: a copy to a server maps
    /// the role that made it to the admin (and the test maps a role per user it acts as).
    func dumpWithoutLoginRoles(_ s: Sandbox, _ path: String) -> String {
        let scratch = s.dir.appendingPathComponent("scratch-\(UUID().uuidString.prefix(8)).sqlite").path
        try? FileManager.default.copyItem(atPath: path, toPath: scratch)
        _ = Sandbox.sqlite(scratch, "UPDATE users SET db_role = NULL")
        return Sandbox.sqlite(scratch, ".dump")
    }

    /// File → server → file (or, on a PostgreSQL suite, server → file → server → file): the last file is
    /// the first, row for row, and every view reads the same on each database along the way.
    func testRoundTripKeepsEveryRowAndEveryView() throws {
        let s = Sandbox()
        _ = busyOrganization(s)
        let server = try s.serverDatabase()
        let first = s.dir.appendingPathComponent("first.sqlite").path
        let last = s.dir.appendingPathComponent("last.sqlite").path
        let expected = views(s, s.db)
        let start: String
        if Sandbox.onPostgreSQL {
            _ = copy(s, from: s.db, to: first)
            start = first
        } else {
            start = s.db
        }
        let out = copy(s, from: start, to: server)
        let counts = (out.object["source"] as? [String: Any])?["counts"] as? [String: Int] ?? [:]
        XCTAssertEqual(counts.count, 18, "every table is counted: \(counts)")
        XCTAssertTrue(counts.filter { $0.key != "pending_charges" }.allSatisfy { $0.value > 0 }, "\(counts)")
        XCTAssertEqual(
            (out.object["target"] as? [String: Any])?["invoice_totals"] as? [String: String],
            (out.object["source"] as? [String: Any])?["invoice_totals"] as? [String: String]
        )
        _ = copy(s, from: server, to: last)
        for (a, b) in zip(views(s, server), expected) { XCTAssertEqual(a, b) }
        for (a, b) in zip(views(s, last), expected) { XCTAssertEqual(a, b) }
        XCTAssertEqual(dumpWithoutLoginRoles(s, last), dumpWithoutLoginRoles(s, start))
        XCTAssertEqual(Sandbox.sqlite(last, "PRAGMA integrity_check; PRAGMA foreign_key_check"), "ok")
    }

    /// A copy is a working organization: the same commands afterwards give the same results on both
    /// sides (ids the database hands out continue after the copied ones, assigned counts are right).
    func testTheCopyGoesOnWhereTheSourceLeftOff() throws {
        let s = Sandbox()
        let sub = busyOrganization(s)
        let target = Sandbox.onPostgreSQL ? s.dir.appendingPathComponent("copy.sqlite").path : try s.serverDatabase()
        _ = copy(s, from: s.db, to: target)
        let later: [([String], String?)] = [
            (["license", "assign", sub, "user6@contoso.com", "user7@contoso.com"], buyer),
            (["subscription", "set-licenses", sub, "9"], buyer),
            (["user", "add", "newer@contoso.com", "--name", "Newer"], admin),
            (["billing", "run"], nil),
        ]
        for db in [s.db, target] {
            for (args, user) in later {
                XCTAssertExit(
                    s.run(
                        args,
                        as: user,
                        // The same ids on both sides, so that their views can be compared whole.
                        extraEnv: ["SELFSERVE_NOW": "2026-04-25T10:00:00Z", "SELFSERVE_ID_SEED": "17"],
                        database: db
                    ),
                    0
                )
            }
            // Six of nine are assigned: three more fill it — a counter copied twice (row and trigger) would
            // refuse them — and a tenth is one too many.
            let assign = ["license", "assign", sub]
            XCTAssertExit(
                s.run(
                    assign + ["user8@contoso.com", "user9@contoso.com", "user10@contoso.com"],
                    as: buyer,
                    database: db
                ),
                0
            )
            XCTAssertExit(s.run(assign + ["user11@contoso.com"], as: buyer, database: db), 1)
        }
        for (a, b) in zip(views(s, target), views(s, s.db)) { XCTAssertEqual(a, b) }
        let show = s.run(["subscription", "show", sub, "--json"], as: buyer, database: target)
        XCTAssertEqual(show.object["licenses_assigned"] as? Int, 9)
    }

    func testRefusalsLeaveBothSidesAsTheyWere() throws {
        let s = Sandbox()
        _ = busyOrganization(s)
        let dump = s.query("SELECT count(*) FROM audit_log")
        let target = s.dir.appendingPathComponent("target.sqlite").path

        // Only an admin copies the organization; nothing is created for anyone else.
        let buyerTry = s.run(["copy", "--to", target, "--json"], as: buyer)
        XCTAssertExit(buyerTry, 77)
        XCTAssertEqual(buyerTry.errorObject["code"] as? String, "forbidden")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))

        // A dry run copies and checks, and keeps nothing.
        let dry = s.run(["copy", "--to", target, "--dry-run", "--json"], as: admin)
        XCTAssertExit(dry, 0)
        XCTAssertEqual(dry.object["kept"] as? Bool, false)
        XCTAssertEqual(dry.object["matches"] as? Bool, true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))

        // A target that already holds an organization (here: the copy itself) is never written to.
        XCTAssertExit(s.run(["copy", "--to", target], as: admin), 0)
        let before = Sandbox.sqlite(target, ".dump")
        let again = s.run(["copy", "--to", target, "--json"], as: admin)
        XCTAssertExit(again, 1)
        XCTAssertEqual(again.errorObject["code"] as? String, "conflict")
        XCTAssertTrue((again.errorObject["message"] as? String ?? "").contains("not empty"), again.err)
        XCTAssertEqual(Sandbox.sqlite(target, ".dump"), before)

        // Nor is the source itself, or another application's file.
        XCTAssertExit(s.run(["copy", "--to", s.db], as: admin), 1)
        let foreign = s.dir.appendingPathComponent("foreign.sqlite").path
        _ = Sandbox.sqlite(foreign, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')")
        XCTAssertExit(s.run(["copy", "--to", foreign], as: admin), 1)
        XCTAssertEqual(Sandbox.sqlite(foreign, "SELECT t FROM notes"), "keep me")

        // Inside a transaction it would copy what may still be rolled back.
        let inside = s.run(["-f", "-", "--atomic"], as: admin, stdin: "copy --to \(target)-2\n")
        XCTAssertExit(inside, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "-2"))

        // A PostgreSQL target that is not empty is refused too, and left as it was.
        if !Sandbox.server.isEmpty {
            let server = Sandbox.newServerDatabase()
            _ = Sandbox.psql(server, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')")
            XCTAssertExit(s.run(["copy", "--to", server], as: admin), 1)
            XCTAssertEqual(Sandbox.psql(server, "SELECT t FROM notes"), "keep me")
        }
        XCTAssertEqual(s.query("SELECT count(*) FROM audit_log"), dump)
    }
}
