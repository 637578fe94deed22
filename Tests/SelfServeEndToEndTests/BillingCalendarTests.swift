import Foundation
import XCTest

/// Issue 13: money is right whatever the cron cadence; failed payments, currencies, bounds, the test clock.
final class BillingCalendarTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    /// A test-clock organization whose buyer has a card, and a way to act on a given day.
    func organization(card expiry: String = "12/35") -> Sandbox {
        let s = Sandbox()
        s.env["SELFSERVE_NOW"] = "2027-01-01T09:00:00Z"
        s.initialize()
        _ = s.addCard(buyer, expiry: expiry)
        return s
    }

    func on(
        _ day: String,
        _ s: Sandbox,
        _ args: [String],
        as user: String? = nil,
        stdin: String? = nil
    ) -> Sandbox.Result {
        s.run(args, as: user, stdin: stdin, extraEnv: ["SELFSERVE_NOW": "\(day)T12:00:00Z"])
    }

    func buy(
        _ s: Sandbox,
        on day: String,
        _ product: String = "power-bi-pro",
        licenses: Int,
        _ extra: [String] = [],
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> String {
        let r = on(day, s, ["subscription", "buy", product, "--licenses", "\(licenses)", "--json"] + extra, as: buyer)
        XCTAssertExit(r, 0, file: file, line: line)
        return r.object["id"] as? String ?? ""
    }

    /// Amount invoiced per day for one subscription, from every invoice's lines.
    func charged(_ s: Sandbox, _ sub: String) -> [String: String] {
        let rows = s.query(
            """
            SELECT i.date, sum(l.amount) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice
            WHERE l.subscription = '\(sub)' GROUP BY i.date ORDER BY i.date
            """
        )
        var out: [String: String] = [:]
        for row in rows.split(separator: "\n") {
            let parts = row.split(separator: "|").map(String.init)
            if parts.count == 2 { out[parts[0]] = Sandbox.money(parts[1]) }
        }
        return out
    }

    func status(_ s: Sandbox, _ sub: String, on day: String) -> String? {
        on(day, s, ["subscription", "show", sub, "--json"], as: buyer).object["status"] as? String
    }

    // MARK: The reproductions of the issue

    func testCancelAfterRenewalsNoRunHasProcessed() {
        let s = organization()
        let sub = buy(s, on: "2027-01-15", licenses: 4)
        XCTAssertExit(on("2027-01-15", s, ["billing", "run"]), 0)
        let canceled = on(
            "2027-04-01",
            s,
            ["subscription", "cancel", sub, "--reason", "no_longer_needed", "--json"],
            as: buyer
        )
        XCTAssertEqual(canceled.object["status"] as? String, "canceled")
        XCTAssertEqual(canceled.object["expires"] as? String, "2027-04-15", "the calendar period of the cancel day")
        XCTAssertExit(on("2027-06-20", s, ["billing", "run"]), 0)
        XCTAssertEqual(charged(s, sub), ["2027-01-15": "56.00", "2027-02-15": "56.00", "2027-03-15": "56.00"])
        XCTAssertEqual(
            status(s, sub, on: "2027-06-20"),
            "disabled",
            "expired 04-15, disabled 05-15, deleted only on 08-13"
        )
    }

    func testEarlyCancelAfterAnUnprocessedRenewalIsCredited() {
        let s = organization()
        let sub = buy(s, on: "2027-01-15", licenses: 4)
        XCTAssertExit(on("2027-01-15", s, ["billing", "run"]), 0)
        XCTAssertEqual(
            on("2027-02-17", s, ["subscription", "cancel", sub, "--reason", "too_expensive", "--json"], as: buyer)
                .object["status"] as? String,
            "disabled",
            "two days into the period that began 02-15"
        )
        XCTAssertExit(on("2027-02-20", s, ["billing", "run"]), 0)
        // 26 of 28 days unused, the cancel day included: 56.00 × 26 / 28 = 52.00.
        XCTAssertEqual(charged(s, sub), ["2027-01-15": "56.00", "2027-02-15": "56.00", "2027-02-17": "-52.00"])
        XCTAssertEqual(status(s, sub, on: "2027-02-20"), "disabled")
    }

    func testLicenseChangeOnAPeriodsFirstDayAfterThatDaysRun() {
        let s = organization()
        let up = buy(s, on: "2027-03-10", licenses: 10)
        XCTAssertExit(on("2027-03-10", s, ["billing", "run"]), 0)
        XCTAssertExit(on("2027-03-10", s, ["subscription", "set-licenses", up, "12"], as: buyer), 0)
        XCTAssertExit(on("2027-03-11", s, ["billing", "run"]), 0)
        XCTAssertEqual(charged(s, up), ["2027-03-10": "168.00"])
        // The same on a renewal day, for a decrease, then a cancellation within the grace days.
        let down = buy(s, on: "2027-03-10", "project-plan-1", licenses: 10)
        XCTAssertExit(on("2027-04-10", s, ["billing", "run"]), 0)
        XCTAssertExit(on("2027-04-10", s, ["subscription", "set-licenses", down, "7"], as: buyer), 0)
        XCTAssertExit(on("2027-04-12", s, ["subscription", "cancel", down, "--reason", "too_expensive"], as: buyer), 0)
        XCTAssertExit(on("2027-04-13", s, ["billing", "run"]), 0)
        // 10 × 10.00 on 03-10; 04-10: 100.00 − 30.00; 04-12: 7 licenses × 10.00 × 28/30 days back.
        XCTAssertEqual(charged(s, down), ["2027-03-10": "100.00", "2027-04-10": "70.00", "2027-04-12": "-65.33"])
    }

    func testTrialConversionIsJudgedByThePolicyOnItsEndDay() {
        let s = organization()
        let trial = on("2027-01-10", s, ["trial", "start", "power-bi-pro", "--json"], as: buyer)
        XCTAssertExit(trial, 0)
        let sub = trial.object["id"] as? String ?? ""
        XCTAssertEqual(trial.object["expires"] as? String, "2027-02-09")
        // The trial ended on 02-09 while the product was enabled; the policy changed later, before any run.
        XCTAssertExit(on("2027-02-20", s, ["product", "policy", "power-bi-pro", "trials-only"], as: Sandbox.admin), 0)
        XCTAssertExit(on("2027-02-21", s, ["billing", "run"]), 0)
        XCTAssertEqual(status(s, sub, on: "2027-02-21"), "active")
        XCTAssertEqual(charged(s, sub), ["2027-02-09": "350.00"], "25 trial licenses converted on the end day")
        // A trial that ends after the change is judged by the new policy.
        let later =
            on("2027-02-21", s, ["trial", "start", "teams-premium", "--json"], as: buyer).object["id"] as? String ?? ""
        XCTAssertExit(on("2027-03-01", s, ["product", "policy", "teams-premium", "trials-only"], as: Sandbox.admin), 0)
        XCTAssertExit(on("2027-04-01", s, ["billing", "run"]), 0)
        XCTAssertEqual(status(s, later, on: "2027-04-01"), "expired")
        XCTAssertEqual(charged(s, later), [:])
    }

    // MARK: Failed payments

    func testARenewalOnAnExpiredCardIsPastDueUntilPaid() {
        let s = organization(card: "02/27")
        let sub = buy(s, on: "2027-01-20", licenses: 2)
        // 02-20 is paid (the card is valid to the end of February); 03-20 fails.
        XCTAssertExit(on("2027-04-01", s, ["billing", "run"]), 0)
        XCTAssertEqual(status(s, sub, on: "2027-04-01"), "past_due")
        let invoices = on("2027-04-01", s, ["invoice", "list", "--json"], as: buyer).array
        XCTAssertEqual(invoices.map { $0["status"] as? String }, ["past_due", "paid", "paid"])
        XCTAssertEqual(invoices.first?["date"] as? String, "2027-03-20")
        let unpaid = invoices.first?["id"] as? String ?? ""
        // Licenses keep working, but it takes no changes, and it does not renew.
        XCTAssertEqual(
            on("2027-04-02", s, ["subscription", "set-licenses", sub, "3", "--json"], as: buyer).errorObject["code"]
                as? String,
            "conflict"
        )
        XCTAssertExit(on("2027-04-02", s, ["license", "list", sub], as: buyer), 0)
        // Paying needs a card that works today; the expired one does not.
        XCTAssertEqual(
            on("2027-04-05", s, ["invoice", "pay", unpaid, "--json"], as: buyer).errorObject["code"] as? String,
            "payment_declined"
        )
        let other = s.addCard(buyer, number: "5555555555554444", expiry: "12/35")
        let paid = on("2027-04-05", s, ["invoice", "pay", unpaid, "--payment-method", other, "--json"], as: buyer)
        XCTAssertExit(paid, 0)
        XCTAssertEqual(paid.object["status"] as? String, "paid")
        XCTAssertEqual(status(s, sub, on: "2027-04-05"), "active")
        XCTAssertEqual(
            on("2027-04-05", s, ["invoice", "pay", unpaid, "--json"], as: buyer).errorObject["code"] as? String,
            "conflict"
        )
        // The card that paid the debt pays the next renewal.
        XCTAssertExit(on("2027-04-25", s, ["billing", "run"]), 0)
        XCTAssertEqual(
            charged(s, sub),
            ["2027-01-20": "28.00", "2027-02-20": "28.00", "2027-03-20": "28.00", "2027-04-20": "28.00"]
        )
        XCTAssertEqual(
            on("2027-04-25", s, ["invoice", "list", "--json"], as: buyer).array.first?["status"] as? String,
            "paid"
        )
        XCTAssertTrue(
            on("2027-04-25", s, ["audit", "list", "--action", "invoice.pay", "--json"], as: Sandbox.admin).out.contains(
                unpaid
            )
        )
    }

    func testAnUnpaidSubscriptionIsDisabledThenDeleted() {
        let s = organization(card: "02/27")
        let sub = buy(s, on: "2027-01-20", licenses: 2)
        XCTAssertExit(on("2027-01-20", s, ["license", "assign", sub, "user1@contoso.com"], as: buyer), 0)
        // Unpaid 30 days after the 03-20 charge: disabled on 04-19, deleted 90 days later (07-18).
        XCTAssertExit(on("2027-04-18", s, ["billing", "run"]), 0)
        XCTAssertEqual(status(s, sub, on: "2027-04-18"), "past_due")
        XCTAssertExit(on("2027-04-19", s, ["billing", "run"]), 0)
        XCTAssertEqual(status(s, sub, on: "2027-04-19"), "disabled")
        XCTAssertExit(on("2027-07-17", s, ["billing", "run"]), 0)
        XCTAssertEqual(
            on("2027-07-17", s, ["subscription", "show", sub, "--json"], as: buyer).object["licenses_assigned"] as? Int,
            1
        )
        XCTAssertExit(on("2027-07-18", s, ["billing", "run"]), 0)
        let gone = on("2027-07-18", s, ["subscription", "show", sub, "--json"], as: buyer).object
        XCTAssertEqual(gone["status"] as? String, "deleted")
        XCTAssertEqual(gone["licenses_assigned"] as? Int, 0)
        XCTAssertEqual(
            charged(s, sub),
            ["2027-01-20": "28.00", "2027-02-20": "28.00", "2027-03-20": "28.00"],
            "no renewal while past_due"
        )
    }

    // MARK: Invoices

    func testAnInvoiceNeverMixesCurrencies() {
        let s = organization()
        let file = s.write(
            "eur.json",
            #"[{"id": "contoso-eu-addon", "name": "Contoso EU Add-on", "unit_price": "20.00", "currency": "EUR"}]"#
        )
        XCTAssertExit(on("2027-01-05", s, ["product", "import", file], as: Sandbox.admin), 0)
        let usd = buy(s, on: "2027-01-05", licenses: 10)
        let eur = buy(s, on: "2027-01-05", "contoso-eu-addon", licenses: 1)
        XCTAssertExit(on("2027-01-05", s, ["billing", "run"]), 0)
        let invoices = on("2027-01-05", s, ["invoice", "list", "--json"], as: buyer).array
        XCTAssertEqual(
            Set(invoices.map { "\($0["total"] as? String ?? "") \($0["currency"] as? String ?? "")" }),
            ["140.00 USD", "20.00 EUR"]
        )
        for invoice in invoices {
            let shown = on("2027-01-05", s, ["invoice", "show", invoice["id"] as? String ?? "", "--json"], as: buyer)
                .object
            let subs = (shown["lines"] as? [[String: Any]] ?? []).compactMap { $0["subscription"] as? String }
            XCTAssertEqual(subs, [shown["currency"] as? String == "EUR" ? eur : usd])
        }
    }

    func testALaterChargeForAnInvoicedDayGoesOnASupplementaryInvoice() {
        let s = organization()
        let first = buy(s, on: "2027-01-05", licenses: 1)
        XCTAssertExit(on("2027-01-05", s, ["billing", "run"]), 0)
        let before = s.query("SELECT id, total, status FROM invoices")
        let second = buy(s, on: "2027-01-05", "project-plan-1", licenses: 2)
        XCTAssertExit(on("2027-01-05", s, ["billing", "run"]), 0)
        let id = before.split(separator: "|").first.map(String.init) ?? ""
        XCTAssertEqual(
            s.query("SELECT id, total, status FROM invoices WHERE id = '\(id)'"),
            before,
            "the issued invoice is unchanged"
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices WHERE date = '2027-01-05'"), "2")
        XCTAssertEqual(charged(s, first), ["2027-01-05": "14.00"])
        XCTAssertEqual(charged(s, second), ["2027-01-05": "20.00"])
        XCTAssertExit(on("2027-01-05", s, ["billing", "run"]), 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "2", "a run with nothing due makes nothing")
    }

    // MARK: Bounds

    func testPricesAndLicensesAreBoundedAndOverflowNeverTraps() {
        let s = organization()
        for (price, code) in [("100000.00", 0), ("100000.01", 1), ("9999999999999.99", 1), ("-1.00", 1)]
            as [(String, Int32)]
        {
            let file = s.write("p.json", #"[{"id": "bounded", "name": "Bounded", "unit_price": "\#(price)"}]"#)
            XCTAssertExit(on("2027-01-05", s, ["product", "import", file], as: Sandbox.admin), code)
        }
        XCTAssertEqual(
            on("2027-01-05", s, ["subscription", "buy", "bounded", "--licenses", "100001", "--json"], as: buyer)
                .errorObject["code"] as? String,
            "limit_exceeded"
        )
        let big = buy(s, on: "2027-01-05", "bounded", licenses: 100_000, ["--term", "annual"])
        let small = buy(s, on: "2027-01-05", licenses: 2)
        let other = buy(s, on: "2027-01-05", "project-plan-1", licenses: 1)
        XCTAssertExit(on("2027-01-05", s, ["billing", "run"]), 0)
        XCTAssertEqual(charged(s, big), ["2027-01-05": "120000000000.00"])
        // A price stored before the bound existed (an old database) cannot be multiplied: that one
        // subscription is reported, every other one is still renewed, and nothing traps.
        _ = s.query("UPDATE subscriptions SET unit_price = 5000000000000000000 WHERE id = '\(small)'")
        let run = on("2027-02-05", s, ["billing", "run", "--json"])
        XCTAssertExit(run, 1)
        XCTAssertTrue(run.err.contains(small), run.err)
        XCTAssertEqual(run.errorObject["code"] as? String, "invalid_argument")
        XCTAssertEqual(charged(s, other), ["2027-01-05": "10.00", "2027-02-05": "10.00"])
        XCTAssertEqual(status(s, small, on: "2027-02-05"), "active")
        let audit = on("2027-02-05", s, ["audit", "list", "--action", "billing.settle", "--json"], as: Sandbox.admin)
            .array
        XCTAssertEqual(
            audit.filter { $0["outcome"] as? String == "failed" }.compactMap { $0["target"] as? String },
            [small]
        )
        XCTAssertExit(on("2027-02-05", s, ["subscription", "set-licenses", small, "3"], as: buyer), 1)
    }

    // MARK: The test clock

    func testSimulatedTimeIsNotAWritePathInALiveOrganization() {
        let s = Sandbox()
        s.env["SELFSERVE_NOW"] = nil
        XCTAssertExit(s.run(["init", "--org", "Live", "--admin", Sandbox.admin]), 0)
        XCTAssertExit(s.run(["user", "add", buyer, "--name", "Bea"], as: Sandbox.admin), 0)
        // A card valid past the simulated day: the renewals up to it are all paid, whatever today is.
        _ = s.addCard(buyer, expiry: "12/40")
        let sub =
            s.run(["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"], as: buyer).object["id"]
            as? String ?? ""
        XCTAssertFalse(sub.isEmpty)
        let later = ["SELFSERVE_NOW": "2031-06-01"]
        for args in [
            ["subscription", "cancel", sub, "--reason", "too_expensive"], ["billing", "run"],
            ["subscription", "set-licenses", sub, "9"],
        ] {
            let r = s.run(args + ["--json"], as: buyer, extraEnv: later)
            XCTAssertExit(r, 77)
            XCTAssertEqual(r.errorObject["code"] as? String, "forbidden", args.joined(separator: " "))
        }
        // Reads and dry runs may look ahead: the forecast of a run in 2031 changes nothing.
        XCTAssertExit(s.run(["subscription", "show", sub], as: buyer, extraEnv: later), 0)
        let forecast = s.run(["billing", "run", "--dry-run", "--json"], extraEnv: later)
        XCTAssertExit(forecast, 0)
        XCTAssertGreaterThan((forecast.object["invoices"] as? [Any])?.count ?? 0, 50)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "0")
        XCTAssertEqual(s.query("SELECT status FROM subscriptions"), "active")
        XCTAssertEqual(
            s.query("SELECT count(*) FROM audit_log WHERE at >= '2031'"),
            "0",
            "a refused what-if write is audited at the real time"
        )
        // The real clock writes as usual.
        XCTAssertExit(s.run(["billing", "run"]), 0)
        XCTAssertEqual(s.query("SELECT count(*) FROM invoices"), "1")
    }
}
