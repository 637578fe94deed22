import Foundation
import XCTest

/// Issue 5: payment methods without card data at rest, billing profiles, the billing run, invoices.
final class BillingTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testCardsAreValidatedAndNeverStored() throws {
        let s = Sandbox()
        s.initialize()
        let number = "5555555555554444"
        let code = "987"
        let pm = s.addCard(buyer, number: number, expiry: "11/29", code: code)
        let shown = s.run(["payment-method", "show", pm, "--json"], as: buyer)
        XCTAssertEqual(
            Set(shown.object.keys),
            ["id", "brand", "last4", "exp_month", "exp_year", "holder", "address", "default", "fingerprint"]
        )
        XCTAssertEqual(shown.object["brand"] as? String, "mastercard")
        XCTAssertEqual(shown.object["last4"] as? String, "4444")
        XCTAssertEqual(shown.object["default"] as? Bool, true)
        let edit = s.run(
            ["payment-method", "edit", pm, "--expiry", "10/30", "--postal-code", "28001", "--card-stdin", "--json"],
            as: buyer,
            stdin: "\(code)\n"
        )
        XCTAssertExit(edit, 0)
        XCTAssertEqual(edit.object["exp_year"] as? Int, 2030)
        XCTAssertExit(
            s.run(["payment-method", "edit", pm, "--expiry", "10/30", "--card-stdin"], as: buyer, stdin: "12\n"),
            1
        )  // wrong code length
        let twice = s.run(
            ["payment-method", "add", "--card-stdin", "--json"],
            as: buyer,
            stdin: "\(number)\n01/31\n123\n"
        )
        XCTAssertEqual(twice.errorObject["code"] as? String, "conflict")
        XCTAssertTrue((twice.errorObject["message"] as? String ?? "").contains(pm))

        for (n, e, c) in [
            ("4242424242424241", "12/29", "123"), ("4242424242424242", "01/26", "123"),
            ("378282246310005", "12/29", "123"),
            ("9999999999999995", "12/29", "123"), ("4242", "12/29", "123"), ("4242424242424242", "99/29", "123"),
        ] {
            let r = s.run(["payment-method", "add", "--card-stdin", "--json"], as: buyer, stdin: "\(n)\n\(e)\n\(c)\n")
            XCTAssertExit(r, 1)
            XCTAssertEqual(r.errorObject["code"] as? String, "payment_declined", "\(n) \(e)")
            XCTAssertFalse(r.err.contains(n) && n.count > 4, "the number must not be echoed")
        }
        XCTAssertEqual(s.query("SELECT count(*) FROM payment_methods"), "1")
        // Dry run through everything and checkpoint nothing: grep the raw bytes of every file.
        for file in try FileManager.default.contentsOfDirectory(atPath: s.dir.path) + ["state/selfserve/logins.json"] {
            guard let data = FileManager.default.contents(atPath: s.dir.appendingPathComponent(file).path) else {
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            XCTAssertFalse(text.contains(number), "card number found in \(file)")
            XCTAssertFalse(data.range(of: Data(number.utf8)) != nil, "card number bytes in \(file)")
        }
        let audit = s.run(["audit", "list", "--json"], as: Sandbox.admin).out
        XCTAssertFalse(audit.contains(number))
        XCTAssertFalse(audit.contains("\"987\""))
    }

    func testProfilesAndRemovingCards() {
        let s = Sandbox()
        s.initialize()
        let a = s.addCard(buyer)
        let b = s.addCard(buyer, number: "378282246310005", code: "1234")
        let accounts = s.run(["billing", "account", "list", "--json"], as: buyer).array
        XCTAssertEqual(accounts.count, 1)
        let bp = (accounts.first?["profiles"] as? [String])?.first ?? ""
        let sub = s.buy(buyer, "teams-premium", licenses: 2)
        let profile = s.run(["billing", "profile", "show", bp, "--json"], as: buyer).object
        XCTAssertEqual(
            Set(profile.keys).isSuperset(of: [
                "id", "account", "name", "payment_method", "invoice_email", "subscriptions",
            ]),
            true
        )
        XCTAssertEqual(profile["subscriptions"] as? [String], [sub])
        XCTAssertEqual(profile["payment_method"] as? String, a)
        XCTAssertEqual(
            s.run(["payment-method", "remove", a, "--json"], as: buyer).errorObject["code"] as? String,
            "conflict"
        )
        XCTAssertExit(s.run(["billing", "profile", "set-payment-method", bp, b], as: buyer), 0)
        XCTAssertExit(s.run(["payment-method", "remove", a], as: buyer), 0)
        XCTAssertEqual(
            s.run(["billing", "profile", "show", bp, "--json"], as: "other@contoso.com").errorObject["code"] as? String,
            "not_found"
        )
        XCTAssertEqual(
            s.run(["payment-method", "show", b, "--json"], as: "other@contoso.com").errorObject["code"] as? String,
            "not_found"
        )
        XCTAssertEqual(
            s.run(["billing", "profile", "set-payment-method", bp, "pm_nope", "--json"], as: buyer).errorObject["code"]
                as? String,
            "not_found"
        )
    }

    /// A year of runs with a mid-term increase and decrease, checked to the cent.
    func testAYearOfBillingToTheCent() {
        let s = Sandbox.organization(on: "2026-01-10", cardFor: buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 10)
        XCTAssertExit(
            s.run(["subscription", "set-licenses", sub, "15"], as: buyer, extraEnv: ["SELFSERVE_NOW": "2026-01-20"]),
            0
        )
        XCTAssertExit(
            s.run(["subscription", "set-licenses", sub, "12"], as: buyer, extraEnv: ["SELFSERVE_NOW": "2026-02-25"]),
            0
        )
        let run = s.run(["billing", "run", "--json"], extraEnv: ["SELFSERVE_NOW": "2026-12-31"])
        XCTAssertExit(run, 0)
        let invoices = run.object["invoices"] as? [[String: Any]] ?? []
        let byDate = Dictionary(
            uniqueKeysWithValues: invoices.map { (($0["date"] as? String ?? ""), ($0["total"] as? String ?? "")) }
        )
        XCTAssertEqual(byDate["2026-01-10"], "140.00")  // 10 × 14.00
        XCTAssertEqual(byDate["2026-01-20"], "47.42")  // +5 × 14.00 × 21/31 = 47.419…
        XCTAssertEqual(byDate["2026-02-10"], "210.00")  // 15 × 14.00
        XCTAssertEqual(byDate["2026-02-25"], "-19.50")  // −3 × 14.00 × 13/28
        XCTAssertEqual(byDate["2026-03-10"], "168.00")  // 12 × 14.00
        XCTAssertEqual(byDate["2026-12-10"], "168.00")
        XCTAssertEqual(invoices.count, 14)
        let again = s.run(["billing", "run", "--json"], extraEnv: ["SELFSERVE_NOW": "2026-12-31"])
        XCTAssertEqual((again.object["invoices"] as? [Any])?.count, 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "14")

        // Filters at their boundaries, inclusive.
        s.env["SELFSERVE_NOW"] = "2026-12-31"
        let range = s.run(["invoice", "list", "--from", "2026-01-20", "--to", "2026-02-25", "--json"], as: buyer).array
        XCTAssertEqual(range.map { ($0["date"] as? String ?? "") }, ["2026-02-25", "2026-02-10", "2026-01-20"])
        let last3 = s.run(["invoice", "list", "--last", "3m", "--json"], as: buyer).array
        XCTAssertEqual(last3.map { ($0["date"] as? String ?? "") }, ["2026-12-10", "2026-11-10", "2026-10-10"])
        XCTAssertEqual(s.run(["invoice", "list", "--last", "6m", "--json"], as: buyer).array.count, 6)
        XCTAssertEqual(
            s.run(["invoice", "list", "--from", "2026-03-01", "--to", "2026-02-01", "--json"], as: buyer).errorObject[
                "code"
            ] as? String,
            "invalid_argument"
        )
        XCTAssertEqual(
            s.run(["invoice", "list", "--from", "2026-02-30", "--json"], as: buyer).errorObject["code"] as? String,
            "invalid_argument"
        )
        XCTAssertEqual(
            s.run(["invoice", "list", "--last", "5y", "--json"], as: buyer).errorObject["code"] as? String,
            "invalid_argument"
        )
        let id = (range.count > 2 ? range[2]["id"] as? String : nil) ?? ""
        let show = s.run(["invoice", "show", id, "--json"], as: buyer).object
        let lines = show["lines"] as? [[String: Any]] ?? []
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(
            Set((lines.first ?? [:]).keys),
            ["description", "subscription", "quantity", "unit_price", "amount"]
        )
        XCTAssertEqual(lines.first?["quantity"] as? Int, 5)
        XCTAssertEqual(
            s.run(["invoice", "show", id, "--json"], as: "other@contoso.com").errorObject["code"] as? String,
            "not_found"
        )
        let csv = s.run(["invoice", "export", id, "--format", "csv"], as: buyer)
        XCTAssertTrue(csv.out.contains("47.42"), csv.out)
        let html = s.dir.appendingPathComponent("inv.html").path
        XCTAssertExit(s.run(["invoice", "export", id, "--format", "html", "--out", html], as: buyer), 0)
        XCTAssertTrue(((try? String(contentsOfFile: html, encoding: .utf8)) ?? "").contains("<table>"))
    }

    /// The run's invoices stream as they are issued; every way of asking gives the same invoices: JSON
    /// and NDJSON the object with its `invoices` last, CSV one row per invoice, a table the count, and a
    /// dry run, an idempotency key and a script's `ss.exec` the whole object.
    func testBillingRunGivesItsInvoicesInEveryFormat() {
        // Two monthly subscriptions bought on January 10, on one billing profile.
        func organization() -> Sandbox {
            let s = Sandbox.organization(on: "2026-01-10", cardFor: buyer)
            _ = s.buy(buyer, "power-bi-pro", licenses: 2)
            _ = s.buy(buyer, "project-plan-1", licenses: 3)
            return s
        }
        let s = organization()
        let until = ["SELFSERVE_NOW": "2026-04-10"]
        let expected = s.run(["billing", "run", "--dry-run", "--json"], extraEnv: until)
        XCTAssertExit(expected, 0)
        let ids = { (v: Any?) in ((v as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } }
        let planned = (expected.object["invoices"] as? [[String: Any]]) ?? []
        // Two purchases' first periods on January 10, then three renewals, one invoice a day.
        XCTAssertEqual(planned.count, 4, expected.out)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "0")

        let table = s.run(["billing", "run", "--idempotency-key", "k1"], extraEnv: until)
        XCTAssertExit(table, 0)
        XCTAssertTrue(table.out.contains("invoices") && table.out.contains("4"), table.out)
        XCTAssertTrue(table.err.contains("4 invoices"), table.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "4")
        let stored = s.query("SELECT id FROM invoices").split(separator: "\n").sorted().joined(separator: ",")
        let replay = s.run(["billing", "run", "--idempotency-key", "k1", "--json"], extraEnv: until)
        XCTAssertEqual(ids(replay.object["invoices"]).sorted().joined(separator: ","), stored, replay.out)
        XCTAssertEqual(replay.object["renewals"] as? Int, 6, replay.out)

        // The same run again, on the same organization made anew, in each format.
        for format in ["json", "ndjson", "csv"] {
            let copy = organization()
            let r = copy.run(["billing", "run", "--format", format], extraEnv: until)
            XCTAssertExit(r, 0)
            let rows = copy.query("SELECT count(*) FROM invoices")
            XCTAssertEqual(rows, "4", format)
            switch format {
            case "csv":
                let records = r.out.split(separator: "\r\n", omittingEmptySubsequences: true)
                XCTAssertEqual(records.first, "id,billing_profile,date,period_start,period_end,total,currency,status")
                XCTAssertEqual(records.count, 5, r.out)
            default:
                XCTAssertEqual(r.out.split(separator: "\n").count, 1, r.out)
                let object = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
                XCTAssertEqual(object["date"] as? String, "2026-04-10", r.out)
                XCTAssertEqual(object["renewals"] as? Int, 6, r.out)
                XCTAssertEqual(
                    ids(object["invoices"]).sorted().joined(separator: ","),
                    copy.query("SELECT id FROM invoices").split(separator: "\n").sorted().joined(separator: ","),
                    r.out
                )
            }
        }

        // Nothing is due: an empty list, and a script sees the same object.
        let script = s.write("run.lua", "local r = ss.exec('billing', 'run'); print(#r.invoices, r.date)")
        let lua = s.run(["run", script], extraEnv: until)
        XCTAssertExit(lua, 0)
        XCTAssertEqual(lua.out, "0\t2026-04-10\n")
        XCTAssertEqual(
            s.run(["billing", "run", "--json"], extraEnv: until).out,
            "{\"date\":\"2026-04-10\",\"invoices\":[]}\n"
        )
    }

    func testTrialEndsAndLifecycle() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        XCTAssertExit(s.run(["product", "policy", "power-apps-premium", "trials-only"], as: Sandbox.admin), 0)
        let converting = (s.run(["trial", "start", "power-bi-pro", "--json"], as: buyer).object["id"] as? String ?? "")
        let expiring =
            (s.run(["trial", "start", "power-apps-premium", "--json"], as: buyer).object["id"] as? String ?? "")
        let canceled = s.buy(buyer, "visio-plan-1", licenses: 2, "--term", "monthly")
        XCTAssertExit(s.run(["license", "assign", canceled, "user1@contoso.com"], as: buyer), 0)
        XCTAssertExit(
            s.run(
                ["subscription", "cancel", canceled, "--reason", "no_longer_needed"],
                as: buyer,
                extraEnv: ["SELFSERVE_NOW": "2026-03-20"]
            ),
            0
        )

        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-04-05"]), 0)
        func status(_ id: String) -> String { s.query("SELECT status FROM subscriptions WHERE id = '\(id)'") }
        XCTAssertEqual(status(converting), "active")
        XCTAssertEqual(s.query("SELECT trial FROM subscriptions WHERE id = '\(converting)'"), "0")
        XCTAssertEqual(status(expiring), "expired")
        XCTAssertEqual(status(canceled), "expired")
        // Users keep access.
        XCTAssertEqual(s.query("SELECT count(*) FROM assignments WHERE subscription = '\(canceled)'"), "1")
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-05-05"]), 0)
        XCTAssertEqual(status(canceled), "disabled")
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-08-05"]), 0)
        XCTAssertEqual(status(canceled), "deleted")
        XCTAssertEqual(s.query("SELECT count(*) FROM assignments WHERE subscription = '\(canceled)'"), "0")
        let audit = s.run(["audit", "list", "--actor", "system", "--json"], as: Sandbox.admin).array
        XCTAssertTrue(audit.contains { $0["action"] as? String == "billing.run" })
    }

    func testCancellationWithinSevenDaysIsCredited() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 10)
        let c = s.run(
            ["subscription", "cancel", sub, "--reason", "no_longer_needed", "--json"],
            as: buyer,
            extraEnv: ["SELFSERVE_NOW": "2026-03-05"]
        )
        XCTAssertEqual(c.object["status"] as? String, "disabled")
        let run = s.run(["billing", "run", "--json"], extraEnv: ["SELFSERVE_NOW": "2026-03-06"])
        let totals = (run.object["invoices"] as? [[String: Any]] ?? []).map { ($0["total"] as? String ?? "") }
        // Charged 140.00 for March 2 → April 2 (31 days); 28 unused days credited: −140 × 28/31 = −126.45.
        XCTAssertEqual(totals.sorted(), ["-126.45", "140.00"].sorted())
    }

    func testChinaCloudInvoiceNamesItsPortal() {
        let s = Sandbox()
        s.initialize(cloud: "china")
        _ = s.addCard(buyer)
        _ = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "1"], as: buyer)
        _ = s.run(["billing", "run"])
        let id = s.run(["invoice", "list", "--json"], as: buyer).row(0)["id"] as? String ?? ""
        let html = s.run(["invoice", "export", id, "--format", "html"], as: buyer).out
        XCTAssertTrue(html.contains("https://portal.partner.microsoftonline.cn"), html)
    }

    func testRenewalsKeepTheAnchorDay() {
        let s = Sandbox.organization(on: "2026-01-31", cardFor: buyer)
        let sub = s.buy(buyer, "teams-premium", licenses: 1)
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-05-01"]), 0)
        let dates = s.query("SELECT date FROM invoices ORDER BY date").split(separator: "\n").map(String.init)
        XCTAssertEqual(dates, ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"])
        XCTAssertEqual(s.query("SELECT expires FROM subscriptions WHERE id = '\(sub)'"), "2026-05-31")
    }
}
