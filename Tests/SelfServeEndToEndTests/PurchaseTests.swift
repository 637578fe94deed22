import Foundation
import XCTest

/// Issue 4: buying, licenses, trials, cancellation, authorization and the admin view.
final class PurchaseTests: XCTestCase {
    let buyer = "buyer@contoso.com"
    let other = "other@contoso.com"
    let users = (1...30).map { "user\($0)@contoso.com" }

    func testTheWholeJourney() {
        let s = Sandbox()
        s.initialize()
        let pm = s.addCard(buyer)
        let buy = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "100", "--json"], as: buyer)
        XCTAssertExit(buy, 0)
        let sub = (buy.object["id"] as? String ?? "")
        XCTAssertTrue(sub.hasPrefix("sub_"))
        XCTAssertEqual(
            Set(buy.object.keys).isSuperset(of: [
                "id", "product", "product_name", "buyer", "buyer_name", "status", "term", "licenses_total",
                "licenses_assigned", "licenses_available", "unit_price", "currency", "started",
                "expires", "billing_profile", "payment_method", "trial",
            ]),
            true
        )
        XCTAssertEqual(buy.object["status"] as? String, "active")
        XCTAssertEqual(buy.object["unit_price"] as? String, "14.00")
        XCTAssertEqual(buy.object["started"] as? String, "2026-03-02")
        XCTAssertEqual(buy.object["expires"] as? String, "2026-04-02")
        XCTAssertEqual(buy.object["payment_method"] as? String, pm)
        XCTAssertEqual(buy.object["trial"] as? Bool, false)

        let up = s.run(["subscription", "set-licenses", sub, "105", "--json"], as: buyer)
        XCTAssertExit(up, 0)
        XCTAssertEqual(up.object["licenses_total"] as? Int, 105)

        let assign = s.run(["license", "assign", sub] + Array(users.prefix(20)) + ["--json"], as: buyer)
        XCTAssertExit(assign, 0)
        XCTAssertEqual((assign.object["assigned"] as? [String])?.count, 20)
        XCTAssertEqual(assign.object["licenses_available"] as? Int, 85)

        let tooMany = s.run(["license", "assign", sub] + Array(users.prefix(21)) + ["--json"], as: buyer)
        XCTAssertExit(tooMany, 1)
        XCTAssertEqual(tooMany.errorObject["code"] as? String, "limit_exceeded")

        let again = s.run(["license", "assign", sub, users[0], users[20], "--json"], as: buyer)
        XCTAssertExit(again, 0)
        XCTAssertEqual(again.object["skipped"] as? [String], [users[0]])
        XCTAssertEqual(again.object["assigned"] as? [String], [users[20]])

        let low = s.run(["subscription", "set-licenses", sub, "20", "--json"], as: buyer)
        XCTAssertExit(low, 1)
        XCTAssertEqual(low.errorObject["code"] as? String, "conflict")
        XCTAssertTrue((low.errorObject["message"] as? String ?? "").contains("unassign 1 license"), low.err)

        XCTAssertExit(s.run(["license", "unassign", sub, users[20]], as: buyer), 64)  // no terminal, no --yes
        XCTAssertExit(s.run(["license", "unassign", sub, users[20], "--yes"], as: buyer), 0)
        let list = s.run(["license", "list", sub, "--json"], as: buyer)
        XCTAssertEqual(list.array.count, 20)
        XCTAssertEqual(Set(list.row(0).keys), ["email", "name", "assigned_at", "assigned_by"])

        XCTAssertExit(s.run(["subscription", "cancel", sub, "--reason", "other"], as: buyer), 1)  // needs a comment
        XCTAssertExit(s.run(["subscription", "cancel", sub, "--reason", "nonsense"], as: buyer), 1)

        // The admin sees it, read-only.
        let purchases = s.run(["admin", "purchases", "--buyer", buyer, "--json"], as: Sandbox.admin)
        XCTAssertExit(purchases, 0)
        XCTAssertEqual(purchases.array.count, 1)
        XCTAssertEqual(
            Set(purchases.row(0).keys),
            [
                "subscription", "product_name", "buyer", "buyer_name", "licenses_total", "licenses_assigned",
                "expires", "unit_price", "currency", "status",
            ]
        )
        XCTAssertEqual(purchases.row(0)["buyer_name"] as? String, "Bea Buyer")
        let one = s.run(["admin", "purchase", sub, "--json"], as: Sandbox.admin)
        XCTAssertEqual((one.object["assigned_users"] as? [[String: Any]])?.count, 20)
        for change in [
            ["subscription", "set-licenses", sub, "110"], ["license", "assign", sub, users[25]],
            ["license", "unassign", sub, users[0], "--yes"],
            ["subscription", "cancel", sub, "--reason", "too_expensive"],
        ] {
            let r = s.run(change + ["--json"], as: Sandbox.admin)
            XCTAssertExit(r, 77)
            XCTAssertEqual(r.errorObject["code"] as? String, "forbidden")
        }
        XCTAssertExit(s.run(["admin", "purchases"], as: other), 77)
        // Someone else does not even learn it exists.
        for peek in [
            ["subscription", "show", sub], ["license", "list", sub], ["subscription", "set-licenses", sub, "1"],
        ] {
            let r = s.run(peek + ["--json"], as: other)
            XCTAssertExit(r, 1)
            XCTAssertEqual(r.errorObject["code"] as? String, "not_found")
        }

        // Cancel later than 7 days after purchase: canceled, licenses kept until it expires.
        let cancel = s.run(
            ["subscription", "cancel", sub, "--reason", "too_expensive", "--comment", "budget", "--json"],
            as: buyer,
            extraEnv: ["SELFSERVE_NOW": "2026-03-20"]
        )
        XCTAssertExit(cancel, 0)
        XCTAssertEqual(cancel.object["status"] as? String, "canceled")
        XCTAssertEqual(cancel.object["licenses_assigned"] as? Int, 20)
        let frozen = s.run(["subscription", "set-licenses", sub, "106", "--json"], as: buyer)
        XCTAssertEqual(frozen.errorObject["code"] as? String, "conflict")
        XCTAssertEqual(
            s.run(["admin", "purchases", "--status", "canceled", "--json"], as: Sandbox.admin).array.count,
            1
        )

        let audit = s.run(["audit", "list", "--json"], as: Sandbox.admin).array
        XCTAssertTrue(
            audit.contains { $0["action"] as? String == "subscription.cancel" && $0["outcome"] as? String == "ok" }
        )
        XCTAssertEqual(
            audit.filter { $0["actor"] as? String == Sandbox.admin && $0["outcome"] as? String == "denied" }.count,
            4
        )
    }

    func testCancelWithinSevenDaysDisablesAtOnce() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "visio-plan-2", licenses: 3)
        let c = s.run(
            ["subscription", "cancel", sub, "--reason", "no_longer_needed", "--json"],
            as: buyer,
            extraEnv: ["SELFSERVE_NOW": "2026-03-05"]
        )
        XCTAssertEqual(c.object["status"] as? String, "disabled")
    }

    func testBuyingRules() {
        let s = Sandbox()
        s.initialize()
        let noCard = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"], as: buyer)
        XCTAssertExit(noCard, 1)
        XCTAssertEqual(noCard.errorObject["code"] as? String, "payment_declined")
        _ = s.addCard(buyer)
        XCTAssertEqual(
            s.run(["subscription", "buy", "power-bi-pro", "--licenses", "0", "--json"], as: buyer).errorObject["code"]
                as? String,
            "invalid_argument"
        )
        let guest = s.run(
            ["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"],
            as: "guest@fabrikam.com"
        )
        XCTAssertExit(guest, 77)
        XCTAssertExit(s.run(["product", "policy", "power-bi-pro", "disabled"], as: Sandbox.admin), 0)
        let disabled = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"], as: buyer)
        XCTAssertEqual(disabled.errorObject["code"] as? String, "product_not_available")
        XCTAssertEqual(
            s.run(["trial", "start", "power-bi-pro", "--json"], as: buyer).errorObject["code"] as? String,
            "product_not_available"
        )
        XCTAssertExit(s.run(["product", "policy", "power-bi-pro", "trials-only"], as: Sandbox.admin), 0)
        XCTAssertEqual(
            s.run(["subscription", "buy", "power-bi-pro", "--licenses", "5", "--json"], as: buyer).errorObject["code"]
                as? String,
            "product_not_available"
        )
        let annual = s.run(
            ["subscription", "buy", "project-plan-1", "--licenses", "2", "--term", "annual", "--json"],
            as: buyer
        )
        XCTAssertEqual(annual.object["expires"] as? String, "2027-03-02")
        let guestAssign = s.run(
            [
                "license", "assign", (annual.object["id"] as? String ?? ""), "guest@fabrikam.com", "nobody@contoso.com",
                "--json",
            ],
            as: buyer
        )
        XCTAssertExit(guestAssign, 1)
        let message = guestAssign.errorObject["message"] as? String ?? ""
        XCTAssertTrue(message.contains("guest@fabrikam.com") && message.contains("nobody@contoso.com"), message)
        let short = s.run(
            ["license", "assign", (annual.object["id"] as? String ?? ""), users[0], users[1], users[2], "--json"],
            as: buyer
        )
        XCTAssertEqual(short.errorObject["code"] as? String, "insufficient_licenses")
        XCTAssertEqual(s.query("SELECT count(*) FROM assignments"), "0")
    }

    func testTrials() {
        let s = Sandbox()
        s.initialize()
        // trials_only: no payment method taken; cannot be converted.
        XCTAssertExit(s.run(["product", "policy", "power-apps-premium", "trials-only"], as: Sandbox.admin), 0)
        let t = s.run(["trial", "start", "power-apps-premium", "--json"], as: buyer)
        XCTAssertExit(t, 0)
        XCTAssertEqual(t.object["status"] as? String, "trial")
        XCTAssertEqual(t.object["trial"] as? Bool, true)
        XCTAssertEqual(t.object["licenses_total"] as? Int, 25)
        XCTAssertEqual(t.object["expires"] as? String, "2026-04-01")
        XCTAssertTrue(t.object["payment_method"] is NSNull)
        let conv = s.run(["trial", "convert", (t.object["id"] as? String ?? ""), "--json"], as: buyer)
        XCTAssertEqual(conv.errorObject["code"] as? String, "product_not_available")
        XCTAssertEqual(
            s.run(["trial", "start", "power-apps-premium", "--json"], as: buyer).errorObject["code"] as? String,
            "conflict"
        )

        // enabled: a payment method is required; converts.
        let noCard = s.run(["trial", "start", "power-bi-pro", "--json"], as: other)
        XCTAssertEqual(noCard.errorObject["code"] as? String, "payment_declined")
        let pm = s.addCard(other, number: "5555555555554444")
        let t2 = s.run(["trial", "start", "power-bi-pro", "--payment-method", pm, "--json"], as: other)
        XCTAssertExit(t2, 0)
        let id = (t2.object["id"] as? String ?? "")
        let c = s.run(["trial", "convert", id, "--licenses", "40", "--json"], as: other)
        XCTAssertExit(c, 0)
        XCTAssertEqual(c.object["status"] as? String, "active")
        XCTAssertEqual(c.object["trial"] as? Bool, false)
        XCTAssertEqual(c.object["licenses_total"] as? Int, 40)
    }

    func testParallelAssignmentsNeverOversell() throws {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 10)
        // Eight processes race for 10 licenses, each wanting 4 different users.
        let groups = (0..<8).map { g in Array(users[(g * 3)..<(g * 3 + 4)].prefix(4)) }
        let box = Box([Int: Sandbox.Result]())
        let buyer = self.buyer
        DispatchQueue.concurrentPerform(iterations: groups.count) { i in
            let r = s.run(["license", "assign", sub] + groups[i] + ["--json"], as: buyer)
            box.value[i] = r
        }
        let results = (0..<groups.count).map { box.value[$0] }
        let assigned = Int(s.query("SELECT count(*) FROM assignments WHERE subscription = '\(sub)'"))!
        XCTAssertLessThanOrEqual(assigned, 10)
        XCTAssertEqual(s.query("SELECT licenses_assigned FROM subscriptions WHERE id = '\(sub)'"), String(assigned))
        for r in results.compactMap({ $0 }) where r.code != 0 {
            XCTAssertTrue(["insufficient_licenses"].contains(r.errorObject["code"] as? String ?? ""), r.err)
        }
        XCTAssertTrue(results.contains { $0?.code == 0 })
    }

    func testAdminPurchasesStreamInEveryFormat() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        for n in 1...3 {
            XCTAssertExit(s.run(["subscription", "buy", "power-bi-pro", "--licenses", "\(n)"], as: buyer), 0)
        }
        let json = s.run(["admin", "purchases", "--json"], as: Sandbox.admin)
        XCTAssertEqual(json.array.compactMap { $0["licenses_total"] as? Int }.sorted(), [1, 2, 3])
        let nd = s.run(["admin", "purchases", "--format", "ndjson"], as: Sandbox.admin).out.split(separator: "\n")
        XCTAssertEqual(nd.count, 3)
        let csv = s.run(["admin", "purchases", "--format", "csv"], as: Sandbox.admin).out
        XCTAssertTrue(csv.hasPrefix("subscription,product_name,buyer,buyer_name,licenses_total,"), csv)
        XCTAssertEqual(csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 4)
        XCTAssertEqual(s.run(["admin", "purchases", "--json"], as: buyer).errorObject["code"] as? String, "forbidden")
        XCTAssertEqual(
            s.run(["admin", "purchases", "--buyer", "nobody@contoso.com", "--json"], as: Sandbox.admin).out,
            "[]\n"
        )
        // ss.exec gets the rows as a value, not printed.
        let script = s.write("count.lua", "print(#ss.exec('admin', 'purchases'))")
        XCTAssertEqual(s.run(["run", script], as: Sandbox.admin).out, "3\n")
    }
}
