import Foundation
import XCTest

/// Issue 19: `billing forecast` shows what later billing runs will invoice, computed by their own code.
final class ForecastTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testTheForecastIsWhatLaterRunsInvoice() {
        for (monthly, trial, cancel) in [(true, true, false), (false, false, true), (true, false, true)] {
            let s = Sandbox()
            s.initialize()
            _ = s.addCard(buyer)
            let sub = s.buy(buyer, "power-bi-pro", licenses: 7, "--term", monthly ? "monthly" : "annual")
            if trial { XCTAssertExit(s.run(["trial", "start", "teams-premium"], as: buyer), 0) }
            // A change made before the forecast is part of it; one made after would change it.
            XCTAssertExit(
                s.run(
                    ["subscription", "set-licenses", sub, "9"],
                    as: buyer,
                    extraEnv: ["SELFSERVE_NOW": "2026-03-20"]
                ),
                0
            )
            if cancel {
                XCTAssertExit(
                    s.run(
                        ["subscription", "cancel", sub, "--reason", "no_longer_needed"],
                        as: buyer,
                        extraEnv: ["SELFSERVE_NOW": "2026-03-21"]
                    ),
                    0
                )
            }
            XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-03-21"]), 0)
            let forecast = s.run(
                ["billing", "forecast", "--until", "2027-05-01", "--json"],
                as: buyer,
                extraEnv: ["SELFSERVE_NOW": "2026-03-21"]
            )
            XCTAssertExit(forecast, 0)
            XCTAssertEqual(s.query("SELECT count(*) FROM pending_charges"), "0", "the forecast is rolled back")
            // Nothing happens between now and then: every run invoices exactly what the forecast said.
            XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2027-05-01"]), 0)
            let invoiced = s.query(
                """
                SELECT l.subscription, i.date, l.amount FROM invoice_lines l
                JOIN invoices i ON i.id = l.invoice WHERE i.date > '2026-03-21' ORDER BY 1, 2, 3
                """
            )
            let expected = forecast.array.map {
                "\($0["subscription"] as? String ?? "")|\($0["date"] as? String ?? "")|\($0["amount"] as? String ?? "")"
            }
            XCTAssertEqual(
                invoiced.split(separator: "\n").map { line -> String in
                    let f = line.split(separator: "|").map(String.init)
                    return f.count == 3 ? "\(f[0])|\(f[1])|\(Sandbox.money(f[2]))" : String(line)
                }.sorted(),
                expected.sorted(),
                "monthly \(monthly), trial \(trial), cancel \(cancel)"
            )
            if !cancel { XCTAssertFalse(expected.isEmpty, "a live subscription has coming charges") }
        }
    }

    func testAForecastIsTheBuyersAndOnlyReads() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 2)
        let only = s.run(["billing", "forecast", "--subscription", sub, "--until", "2026-06-30", "--json"], as: buyer)
        XCTAssertExit(only, 0)
        XCTAssertEqual(only.array.map { $0["date"] as? String ?? "" }, ["2026-04-02", "2026-05-02", "2026-06-02"])
        XCTAssertEqual(
            Set(only.row(0).keys),
            ["date", "subscription", "product_name", "licenses", "amount", "currency", "description"]
        )
        XCTAssertEqual(
            s.run(["billing", "forecast", "--subscription", sub, "--json"], as: "other@contoso.com").errorObject["code"]
                as? String,
            "not_found"
        )
        XCTAssertExit(s.run(["billing", "forecast", "--subscription", sub], as: Sandbox.admin), 77)
        XCTAssertEqual(
            s.run(["billing", "forecast", "--json"], as: "other@contoso.com").out.trimmingCharacters(
                in: .whitespacesAndNewlines
            ),
            "[]"
        )
        XCTAssertExit(s.run(["billing", "forecast", "--until", "2026-01-01"], as: buyer), 1)
        XCTAssertExit(s.run(["billing", "forecast", "--until", "2040-01-01"], as: buyer), 1)
        XCTAssertExit(s.run(["billing", "forecast", "--until", "someday"], as: buyer), 1)
        let before = s.query("SELECT count(*) FROM audit_log")
        XCTAssertExit(s.run(["billing", "forecast"], as: buyer), 0)
        XCTAssertEqual(
            s.query("SELECT count(*) FROM audit_log"),
            before,
            "a forecast changes nothing, the log included"
        )
    }

    /// In a live organization a forecast is a read: `SELFSERVE_NOW` may move it (a what-if).
    func testALiveOrganizationForecastsUnderASimulatedClock() {
        let s = Sandbox()
        s.env["SELFSERVE_NOW"] = nil
        XCTAssertExit(s.run(["init", "--org", "Live", "--admin", Sandbox.admin]), 0)
        XCTAssertExit(s.run(["user", "add", buyer, "--name", "Bea"], as: Sandbox.admin), 0)
        _ = s.addCard(buyer, expiry: "12/40")
        _ = s.buy(buyer, "power-bi-pro", licenses: 2)
        let what = s.run(
            ["billing", "forecast", "--until", "2031-01-01", "--json"],
            as: buyer,
            extraEnv: ["SELFSERVE_NOW": "2030-01-01"]
        )
        XCTAssertExit(what, 0)
        XCTAssertFalse(what.array.isEmpty)
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2030-01-01"]), 77)
    }
}
