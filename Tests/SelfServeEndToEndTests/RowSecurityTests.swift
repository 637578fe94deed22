import Foundation
import XCTest

/// Issue 18: on PostgreSQL the database proves who acts (the login role) and enforces what each person
/// may read and change (row-level security), so that raw SQL over psql can do no more than selfserve.
///
/// One organization made by a role that owns the database and may create roles — not a superuser — and
/// a login role each for a buyer, another buyer, an admin, a guest, the billing service and a role
/// mapped to nobody. Runs once, in the SQLite pass of the suite (it makes its own server databases).
final class RowSecurityTests: XCTestCase {
    struct Organization {
        let s: Sandbox
        /// The database as each login role connects to it (`owner` ran init).
        let as_: [String: String]
        /// The database's name: login roles are named after it (roles are per server, not per database).
        let db: String
        let bea: String
        let oscar: String
        let beaProfile: String
        let oscarProfile: String
    }

    static let people = [
        "bea": "bea@contoso.com", "oscar": "oscar@contoso.com", "admin": "admin2@contoso.com",
        "guest": "gus@fabrikam.com", "owner": "admin@contoso.com",
    ]

    func organization(file: StaticString = #filePath, line: UInt = #line) throws -> Organization {
        let s = Sandbox()
        if Sandbox.onPostgreSQL { throw XCTSkip("runs once, in the SQLite pass: it makes its own server databases") }
        let server = try s.serverDatabase(file: file, line: line)
        let db = String(server.split(separator: "?")[0].split(separator: "/").last ?? "")
        var uri: [String: String] = [:]
        for who in ["owner", "bea", "oscar", "admin", "guest", "billing", "nobody"] {
            uri[who] = Sandbox.connecting(server, as: "\(db)_\(who)")
        }
        // The DBA's part: an owner that may create roles (no superuser), and one login role per person.
        XCTAssertEqual(
            Sandbox.psql(
                server,
                """
                CREATE ROLE \(db)_owner LOGIN CREATEROLE;
                ALTER DATABASE \(db) OWNER TO \(db)_owner;
                SELECT 'ok'
                """
            ),
            "ok",
            file: file,
            line: line
        )
        func run(_ who: String, _ args: [String], stdin: String? = nil) -> Sandbox.Result {
            s.run(args, stdin: stdin, database: uri[who]!)
        }
        XCTAssertExit(run("owner", ["init", "--org", "Contoso", "--admin", "admin@contoso.com", "--test-clock"]), 0)
        XCTAssertEqual(
            Sandbox.psql(
                server,
                """
                CREATE ROLE \(db)_bea LOGIN; CREATE ROLE \(db)_oscar LOGIN; CREATE ROLE \(db)_admin LOGIN;
                CREATE ROLE \(db)_guest LOGIN; CREATE ROLE \(db)_billing LOGIN; CREATE ROLE \(db)_nobody LOGIN;
                GRANT selfserve_user TO \(db)_bea, \(db)_oscar, \(db)_guest, \(db)_nobody;
                GRANT selfserve_admin TO \(db)_admin;
                GRANT selfserve_billing TO \(db)_billing;
                SELECT 'ok'
                """
            ),
            "ok",
            file: file,
            line: line
        )
        var batch = """
            user add bea@contoso.com --name Bea --db-role \(db)_bea
            user add oscar@contoso.com --name Oscar --db-role \(db)_oscar
            user add admin2@contoso.com --name 'Second Admin' --admin --db-role \(db)_admin
            user add gus@fabrikam.com --name Gus --guest --db-role \(db)_guest

            """
        for i in 1...8 { batch += "user add user\(i)@contoso.com --name 'User \(i)'\n" }
        XCTAssertExit(run("owner", ["-f", "-"], stdin: batch), 0, file: file, line: line)
        let card = "4242424242424242\n12/30\n123\n"
        let add = ["payment-method", "add", "--card-stdin", "--holder", "Card Holder"]
        XCTAssertExit(run("bea", add, stdin: card), 0, file: file, line: line)
        XCTAssertExit(run("oscar", add, stdin: card), 0, file: file, line: line)
        let bea =
            run("bea", ["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"]).object["id"] as? String
        let oscar =
            run("oscar", ["subscription", "buy", "visio-plan-2", "--licenses", "2", "--json"]).object["id"] as? String
        XCTAssertExit(run("bea", ["license", "assign", bea ?? "", "user1@contoso.com", "oscar@contoso.com"]), 0)
        XCTAssertExit(run("bea", ["subscription", "set-licenses", bea ?? "", "6"]), 0, file: file, line: line)
        XCTAssertExit(run("billing", ["billing", "run"]), 0, file: file, line: line)
        let profile = { (email: String) in
            Sandbox.psql(
                server,
                "SELECT p.id FROM billing_profiles p JOIN billing_accounts a ON a.id = p.account WHERE a.owner = '\(email)'"
            )
        }
        return Organization(
            s: s,
            as_: uri.merging(["server": server]) { $1 },
            db: db,
            bea: bea ?? "",
            oscar: oscar ?? "",
            beaProfile: profile("bea@contoso.com"),
            oscarProfile: profile("oscar@contoso.com")
        )
    }

    /// The rows of each table a person may read, said without the policies: their own by the rules of
    /// SPEC §3 (admins and the billing service: every row; everyone: the directory and the catalog).
    static func visible(_ table: String, to email: String) -> String {
        let e = "'\(email)'"
        let subs = "(SELECT id FROM subscriptions WHERE buyer = \(e))"
        let profiles =
            "(SELECT p.id FROM billing_profiles p JOIN billing_accounts a ON a.id = p.account WHERE a.owner = \(e))"
        switch table {
        case "subscriptions": return "buyer = \(e)"
        case "assignments": return "email = \(e) OR subscription IN \(subs)"
        case "license_changes": return "subscription IN \(subs)"
        case "trials_taken": return "buyer = \(e)"
        case "payment_methods", "billing_accounts": return "owner = \(e)"
        case "billing_profiles": return "account IN (SELECT id FROM billing_accounts WHERE owner = \(e))"
        case "invoices", "pending_charges": return "billing_profile IN \(profiles)"
        case "invoice_lines": return "invoice IN (SELECT id FROM invoices WHERE billing_profile IN \(profiles))"
        case "idempotency_keys", "batch_marks", "audit_log": return "actor = \(e)"
        default: return "true"
        }
    }

    static let tables = [
        "organization", "settings", "users", "products", "plugins", "audit_log", "payment_methods",
        "billing_accounts", "billing_profiles", "subscriptions", "trials_taken", "assignments", "license_changes",
        "invoices", "invoice_lines", "pending_charges", "idempotency_keys", "batch_marks",
    ]

    /// What each role reads with raw SQL is exactly what its person may see — no more, no less.
    func testEachRoleReadsExactlyItsRowsOverRawSQL() throws {
        let o = try organization()
        let server = o.as_["server"]!
        for (who, email) in [
            ("bea", "bea@contoso.com"), ("oscar", "oscar@contoso.com"), ("guest", "gus@fabrikam.com"),
            ("nobody", ""), ("admin", "*"), ("billing", "*"),
        ] {
            for table in Self.tables {
                let seen = Sandbox.psql(o.as_[who]!, "SELECT count(*) FROM \(table)")
                var rule = email == "*" ? "true" : Self.visible(table, to: email)
                if table == "audit_log" && who == "admin" { rule = "true" }
                if table == "audit_log" && who == "billing" { rule = "false" }
                let expected = Sandbox.psql(server, "SELECT count(*) FROM \(table) WHERE \(rule)")
                XCTAssertEqual(seen, expected, "\(who) reading \(table)")
            }
        }
        // Not a vacuous match: each buyer sees some rows of the personal tables and not all.
        XCTAssertEqual(Sandbox.psql(o.as_["bea"]!, "SELECT id FROM subscriptions"), o.bea)
        // An assignee reads their own assignment (on Bea's subscription), not the subscription itself.
        XCTAssertEqual(Sandbox.psql(o.as_["oscar"]!, "SELECT subscription FROM assignments"), o.bea)
        XCTAssertEqual(Sandbox.psql(o.as_["oscar"]!, "SELECT count(*) FROM subscriptions WHERE id = '\(o.bea)'"), "0")
        XCTAssertEqual(Sandbox.psql(server, "SELECT count(*) FROM subscriptions"), "2")
        XCTAssertEqual(
            Sandbox.psql(o.as_["bea"]!, "SELECT count(*) FROM invoices WHERE billing_profile = '\(o.oscarProfile)'"),
            "0"
        )
    }

    /// The rows of each table a person may change (update or delete), said without the policies: their
    /// own; the billing service's: all of the personal tables; an admin's: the catalog and directory,
    /// and the subscription rows take-over and a policy change settle. Nil: not even allowed to try.
    static func changeable(_ table: String, by who: String, email: String) -> String? {
        let shared = ["organization", "settings", "users", "products", "plugins"]
        if table == "audit_log" { return nil }
        if shared.contains(table) { return who == "admin" ? "true" : nil }
        if who == "billing" { return "true" }
        if who == "admin" && ["subscriptions", "assignments", "license_changes", "pending_charges"].contains(table) {
            return "true"
        }
        if table == "assignments" {
            // An assignee reads their assignment; only the subscription's buyer changes it.
            return "subscription IN (SELECT id FROM subscriptions WHERE buyer = '\(email)')"
        }
        return visible(table, to: email)
    }

    /// What each role may update and delete with raw SQL is exactly what its person may change: every
    /// table, every role, in transactions rolled back.
    func testEachRoleChangesExactlyItsRowsOverRawSQL() throws {
        let o = try organization()
        let server = o.as_["server"]!
        for (who, email) in [
            ("bea", "bea@contoso.com"), ("oscar", "oscar@contoso.com"), ("guest", "gus@fabrikam.com"),
            ("nobody", ""), ("admin", "admin2@contoso.com"), ("billing", ""),
        ] {
            for table in Self.tables {
                let set = Self.column[table] ?? "id"
                for statement in ["UPDATE \(table) SET \(set) = \(set)", "DELETE FROM \(table)"] {
                    let tried = Sandbox.psql(
                        o.as_[who]!,
                        "BEGIN; WITH c AS (\(statement) RETURNING 1) SELECT count(*) FROM c; ROLLBACK"
                    )
                    guard let rule = Self.changeable(table, by: who, email: email) else {
                        XCTAssertTrue(tried.contains("permission denied"), "\(who): \(statement): \(tried)")
                        continue
                    }
                    let expected = Sandbox.psql(server, "SELECT count(*) FROM \(table) WHERE \(rule)")
                    // A delete may also be refused by a foreign key still pointing at the row: then nothing went.
                    if statement.hasPrefix("DELETE"), tried.contains("foreign key") { continue }
                    XCTAssertEqual(tried, expected, "\(who): \(statement)")
                }
            }
        }
    }

    /// A column to set to itself in an UPDATE (any but the assigned counter, which is not a buyer's).
    static let column = [
        "organization": "name", "settings": "value", "users": "name", "products": "name", "plugins": "version",
        "audit_log": "target",
        "payment_methods": "holder", "billing_accounts": "name", "billing_profiles": "name", "subscriptions": "status",
        "trials_taken": "product", "assignments": "assigned_by", "license_changes": "day", "invoices": "status",
        "invoice_lines": "description", "pending_charges": "description", "idempotency_keys": "result",
        "batch_marks": "committed_at",
    ]

    /// selfserve and psql agree, role by role, on what a person's lists hold.
    func testSelfserveAndRawSQLAgree() throws {
        let o = try organization()
        func ids(_ who: String, _ args: [String], _ key: String = "id") -> [String] {
            o.s.run(args + ["--json"], database: o.as_[who]!).array.compactMap { $0[key] as? String }.sorted()
        }
        func sql(_ who: String, _ query: String) -> [String] {
            Sandbox.psql(o.as_[who]!, query).split(separator: "\n").map(String.init).sorted()
        }
        for who in ["bea", "oscar", "guest"] {
            XCTAssertEqual(ids(who, ["subscription", "list"]), sql(who, "SELECT id FROM subscriptions"), who)
            XCTAssertEqual(ids(who, ["payment-method", "list"]), sql(who, "SELECT id FROM payment_methods"), who)
            XCTAssertEqual(
                ids(who, ["invoice", "list", "--from", "2020-01-01", "--to", "2030-12-31"]),
                sql(who, "SELECT id FROM invoices"),
                who
            )
        }
        XCTAssertEqual(
            ids("admin", ["admin", "purchases"], "subscription"),
            sql("admin", "SELECT id FROM subscriptions")
        )
        XCTAssertEqual(ids("admin", ["admin", "purchases"], "subscription").count, 2)
        XCTAssertEqual(
            o.s.run(["audit", "list", "--json"], database: o.as_["admin"]!).array.count,
            Int(Sandbox.psql(o.as_["admin"]!, "SELECT count(*) FROM audit_log"))
        )
    }

    /// The policies find the session's user through the index on users.db_role, whatever the size of
    /// the directory: compared as `session_user::text` ("C" collation) no index could serve, and every
    /// statement of every person scanned all users. Each helper's own SQL is planned with sequential
    /// scans priced out, so a plan that still scans users is one that cannot use the index.
    func testThePoliciesFindTheSessionsUserByIndex() throws {
        let o = try organization()
        for function in ["selfserve_me", "selfserve_is_admin"] {
            let body = Sandbox.psql(o.as_["bea"]!, "SELECT prosrc FROM pg_proc WHERE proname = '\(function)'")
            XCTAssertTrue(body.contains("users"), body)
            let plan = Sandbox.psql(o.as_["bea"]!, "SET enable_seqscan = off; EXPLAIN \(body)")
            XCTAssertTrue(plan.contains("Index") && !plan.contains("Seq Scan on users"), "\(function): \(plan)")
        }
    }

    /// Changes to others' rows do nothing (and selfserve says not_found, never "done"); the audit log
    /// cannot be forged, changed or emptied; nobody can switch row-level security off.
    func testRawSQLCannotChangeOthersRowsOrTheAuditLog() throws {
        let o = try organization()
        let bea = o.as_["bea"]!
        let admin = o.as_["admin"]!
        func changed(_ uri: String, _ statement: String) -> String {
            Sandbox.psql(uri, "WITH c AS (\(statement) RETURNING 1) SELECT count(*) FROM c")
        }
        // Invisible or read-only rows: 0 rows changed, silently — the trap the store checks for.
        XCTAssertEqual(changed(bea, "UPDATE subscriptions SET licenses_total = 99 WHERE id = '\(o.oscar)'"), "0")
        XCTAssertEqual(changed(bea, "DELETE FROM assignments WHERE subscription <> '\(o.bea)'"), "0")
        XCTAssertEqual(changed(bea, "UPDATE payment_methods SET holder = 'x' WHERE owner <> 'bea@contoso.com'"), "0")
        XCTAssertEqual(changed(admin, "UPDATE payment_methods SET holder = 'x'"), "0")
        XCTAssertEqual(changed(admin, "DELETE FROM invoices"), "0")
        XCTAssertEqual(changed(admin, "UPDATE billing_profiles SET name = 'x'"), "0")
        // Rows for someone else are refused outright.
        let insert = """
            INSERT INTO subscriptions (id, product, buyer, status, term, licenses_total, unit_price, currency, started,
                period_start, expires, trial, converts, status_since, created_at)
            VALUES ('sub_forged', 'power-bi-pro', 'oscar@contoso.com', 'active', 'monthly', 1, 0, 'USD', '2026-03-02',
                '2026-03-02', '2026-04-02', 0, 0, '2026-03-02', '2026-03-02')
            """
        XCTAssertTrue(Sandbox.psql(bea, insert).contains("row-level security"))
        // The assigned counter is the trigger's: setting it by hand would allow overselling.
        XCTAssertTrue(
            Sandbox.psql(bea, "UPDATE subscriptions SET licenses_assigned = 0 WHERE id = '\(o.bea)'").contains(
                "permission denied"
            )
        )
        // Privileges: the directory, roles and catalog are not a buyer's to change.
        XCTAssertTrue(
            Sandbox.psql(bea, "UPDATE users SET role = 'admin' WHERE email = 'bea@contoso.com'").contains(
                "permission denied"
            )
        )
        XCTAssertTrue(Sandbox.psql(bea, "UPDATE products SET unit_price = 0").contains("permission denied"))
        XCTAssertTrue(Sandbox.psql(bea, "SET ROLE selfserve_owner").contains("permission denied"))
        XCTAssertTrue(Sandbox.psql(admin, "SET ROLE selfserve_owner").contains("permission denied"))
        XCTAssertTrue(
            Sandbox.psql(admin, "ALTER TABLE subscriptions DISABLE ROW LEVEL SECURITY").contains("must be owner")
        )
        // The audit log: an actor that is not you (or not your login role) is refused; nothing changes or goes.
        let before = Sandbox.psql(o.as_["server"]!, "SELECT count(*), max(id) FROM audit_log")
        let forged =
            "INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES ('2026-03-02T00:00:00Z'"
        for (uri, row) in [
            (bea, "'oscar@contoso.com', 'subscription.cancel', 'x', 'ok', '{}')"),
            (bea, "'system', 'user.add', 'x', 'ok', '{}')"),
            (admin, "'bea@contoso.com', 'subscription.buy', 'x', 'ok', '{}')"),
        ] {
            XCTAssertTrue(Sandbox.psql(uri, "\(forged), \(row)").contains("row-level security"), row)
        }
        // Signed with another login role than one's own: refused too.
        let signed = forged.replacingOccurrences(of: "details)", with: "details, db_role)")
        XCTAssertTrue(
            Sandbox.psql(bea, signed + ", 'bea@contoso.com', 'x', 'x', 'ok', '{}', 'someone_else')").contains(
                "row-level security"
            )
        )
        for uri in [bea, admin, o.as_["billing"]!] {
            XCTAssertTrue(Sandbox.psql(uri, "UPDATE audit_log SET actor = 'x'").contains("permission denied"))
            XCTAssertTrue(Sandbox.psql(uri, "DELETE FROM audit_log").contains("permission denied"))
        }
        XCTAssertEqual(Sandbox.psql(o.as_["server"]!, "SELECT count(*), max(id) FROM audit_log"), before)
        // One's own entry goes in, signed with one's login role.
        XCTAssertEqual(
            Sandbox.psql(bea, "\(forged), 'bea@contoso.com', 'note', 'x', 'ok', '{}') RETURNING db_role"),
            "\(o.db)_bea"
        )
    }

    /// The database decides who acts: --as, SELFSERVE_USER and login cannot name anyone else; a role
    /// mapped to nobody is no one; the billing run is the billing role's.
    func testTheLoginRoleIsWhoActs() throws {
        let o = try organization()
        let s = o.s
        let bea = o.as_["bea"]!
        XCTAssertEqual(s.run(["whoami", "--json"], database: bea).object["email"] as? String, "bea@contoso.com")
        for attempt in [
            s.run(["--as", "admin2@contoso.com", "admin", "purchases", "--json"], database: bea),
            s.run(["admin", "purchases", "--json"], extraEnv: ["SELFSERVE_USER": "admin2@contoso.com"], database: bea),
            s.run(["login", "admin2@contoso.com", "--json"], database: bea),
        ] {
            XCTAssertExit(attempt, 77)
            XCTAssertEqual(attempt.errorObject["code"] as? String, "forbidden")
            XCTAssertTrue(
                (attempt.errorObject["message"] as? String ?? "").contains("the database decides who you are")
            )
        }
        // Naming oneself is fine.
        XCTAssertExit(s.run(["--as", "bea@contoso.com", "whoami"], database: bea), 0)
        let nobody = s.run(["whoami", "--json"], database: o.as_["nobody"]!)
        XCTAssertExit(nobody, 1)
        XCTAssertEqual(nobody.errorObject["code"] as? String, "not_signed_in")
        XCTAssertExit(s.run(["--as", "bea@contoso.com", "subscription", "list"], database: o.as_["nobody"]!), 1)
        // The billing run: the billing role's, not a buyer's or an admin's.
        XCTAssertExit(s.run(["billing", "run"], database: bea), 77)
        XCTAssertExit(s.run(["billing", "run"], database: o.as_["admin"]!), 77)
        XCTAssertExit(s.run(["billing", "run", "--json"], database: o.as_["billing"]!), 0)
        // user map: admins only; the role must exist and be nobody else's.
        let db = o.db
        XCTAssertExit(s.run(["user", "map", "user1@contoso.com", "--db-role", "\(db)_nobody"], database: bea), 77)
        let missing = s.run(
            ["user", "map", "user1@contoso.com", "--db-role", "\(db)_ghost", "--json"],
            database: o.as_["admin"]!
        )
        XCTAssertExit(missing, 1)
        XCTAssertEqual(missing.errorObject["code"] as? String, "not_found")
        let taken = s.run(
            ["user", "map", "user1@contoso.com", "--db-role", "\(db)_bea", "--json"],
            database: o.as_["admin"]!
        )
        XCTAssertEqual(taken.errorObject["code"] as? String, "conflict")
        XCTAssertExit(
            s.run(["user", "map", "user1@contoso.com", "--db-role", "\(db)_nobody"], database: o.as_["admin"]!),
            0
        )
        XCTAssertEqual(
            s.run(["whoami", "--json"], database: o.as_["nobody"]!).object["email"] as? String,
            "user1@contoso.com"
        )
        let audit = s.run(["audit", "list", "--action", "user.map", "--json"], database: o.as_["admin"]!).array
        XCTAssertEqual(audit.last?["actor"] as? String, "admin2@contoso.com")
    }

    /// The session that created the organization is no exception: once init has committed, its login
    /// role (mapped to the first admin) is who acts for the rest of the batch.
    func testTheSessionThatRanInitActsAsItsLoginRoleToo() throws {
        let s = Sandbox()
        if Sandbox.onPostgreSQL { throw XCTSkip("runs once, in the SQLite pass: it makes its own server databases") }
        let server = try s.serverDatabase()
        let batch = """
            init --org Contoso --admin admin@contoso.com --test-clock
            user add bea@contoso.com --name Bea
            whoami --as admin@contoso.com
            whoami --as bea@contoso.com

            """
        let r = s.run(["-f", "-", "--json"], stdin: batch, database: server)
        XCTAssertExit(r, 1)
        XCTAssertEqual(r.errorObject["line"] as? Int, 4, r.err)
        XCTAssertTrue(r.err.contains("the database decides who you are"), r.err)
    }

    /// A role that owns the database but may not create roles cannot lock it down: init says why and
    /// leaves the database as empty as it found it.
    func testInitByARoleThatMayNotCreateRolesLeavesTheDatabaseEmpty() throws {
        let s = Sandbox()
        if Sandbox.onPostgreSQL { throw XCTSkip("runs once, in the SQLite pass: it makes its own server databases") }
        let server = try s.serverDatabase()
        let db = String(server.split(separator: "?")[0].split(separator: "/").last ?? "")
        XCTAssertEqual(
            Sandbox.psql(server, "CREATE ROLE \(db)_weak LOGIN; ALTER DATABASE \(db) OWNER TO \(db)_weak; SELECT 'ok'"),
            "ok"
        )
        let r = s.run(
            ["init", "--org", "Contoso", "--admin", "admin@contoso.com", "--json"],
            database: Sandbox.connecting(server, as: "\(db)_weak")
        )
        XCTAssertExit(r, 77)
        XCTAssertTrue((r.errorObject["message"] as? String ?? "").contains("CREATEROLE"), r.err)
        XCTAssertEqual(Sandbox.psql(server, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0")
    }

    /// A buyer racing selfserve with raw INSERTs over psql for the last licenses never oversells: the
    /// counter follows every row, and the database's CHECK refuses the one too many.
    func testRacingSelfserveAndRawSQLNeverOversells() throws {
        let o = try organization()
        let bea = o.as_["bea"]!
        // 6 licenses, 2 assigned: 4 left, and 3 + 3 are asked for at once.
        let group = DispatchGroup()
        let results = Box<[String]>([])
        let lock = NSLock()
        group.enter()
        DispatchQueue.global().async {
            let r = o.s.run(
                ["license", "assign", o.bea, "user2@contoso.com", "user3@contoso.com", "user4@contoso.com"],
                database: bea
            )
            lock.lock()
            results.value.append("selfserve \(r.code)")
            lock.unlock()
            group.leave()
        }
        for email in ["user5@contoso.com", "user6@contoso.com", "user7@contoso.com"] {
            group.enter()
            DispatchQueue.global().async {
                let r = Sandbox.psql(
                    bea,
                    "INSERT INTO assignments VALUES ('\(o.bea)', '\(email)', '2026-03-02T00:00:00Z', 'bea@contoso.com')"
                )
                lock.lock()
                results.value.append("psql \(r)")
                lock.unlock()
                group.leave()
            }
        }
        group.wait()
        let server = o.as_["server"]!
        let rows = Int(Sandbox.psql(server, "SELECT count(*) FROM assignments WHERE subscription = '\(o.bea)'")) ?? -1
        XCTAssertLessThanOrEqual(rows, 6, "\(results.value)")
        XCTAssertGreaterThan(rows, 2, "\(results.value)")
        XCTAssertEqual(
            Sandbox.psql(server, "SELECT licenses_assigned FROM subscriptions WHERE id = '\(o.bea)'"),
            String(rows)
        )
    }
}
