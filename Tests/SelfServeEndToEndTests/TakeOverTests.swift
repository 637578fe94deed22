import Foundation
import XCTest

/// Issue 19: an admin takes over a subscription someone else bought — moving its users to one of the
/// admin's own subscriptions, or cancelling it — all or nothing, with the buyer credited.
final class TakeOverTests: XCTestCase {
    let buyer = "buyer@contoso.com"
    let admin = Sandbox.admin

    /// A buyer's subscription of 5 with three users, and an admin's of `adminLicenses` holding user3.
    func setUp(_ s: Sandbox, adminLicenses: Int) -> (mine: String, theirs: String) {
        s.initialize()
        _ = s.addCard(buyer)
        _ = s.addCard(admin)
        let theirs = s.buy(buyer, "power-bi-pro", licenses: 5)
        XCTAssertExit(
            s.run(
                ["license", "assign", theirs, "user1@contoso.com", "user2@contoso.com", "user3@contoso.com"],
                as: buyer
            ),
            0
        )
        let mine = s.buy(admin, "power-bi-pro", licenses: adminLicenses)
        XCTAssertExit(s.run(["license", "assign", mine, "user3@contoso.com"], as: admin), 0)
        return (mine, theirs)
    }

    func assigned(_ s: Sandbox, _ sub: String) -> [String] {
        s.run(["license", "list", sub, "--json"], as: admin).array.compactMap { $0["email"] as? String }.sorted()
    }

    func testMoveWithEnoughLicensesDeletesItAndCreditsTheBuyer() {
        let s = Sandbox()
        let (mine, theirs) = setUp(s, adminLicenses: 3)
        let r = s.run(
            ["admin", "take-over", theirs, "--move-to", mine, "--json"],
            as: admin,
            extraEnv: ["SELFSERVE_NOW": "2026-03-12"]
        )
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.object["status"] as? String, "deleted")
        XCTAssertEqual(r.object["moved_to"] as? String, mine)
        // 5 × 14.00 for 2026-03-02 to 2026-04-02 (31 days), 21 days unused: −70.00 × 21 / 31.
        XCTAssertEqual(r.object["credit"] as? String, "-47.42")
        XCTAssertEqual(assigned(s, mine), ["user1@contoso.com", "user2@contoso.com", "user3@contoso.com"])
        XCTAssertEqual(
            s.run(["subscription", "show", theirs, "--json"], as: buyer).object["status"] as? String,
            "deleted"
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM assignments WHERE subscription = '\(theirs)'"), "0")
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-03-12"]), 0)
        XCTAssertEqual(
            s.query("SELECT amount FROM invoice_lines WHERE subscription = '\(theirs)' AND amount < 0"),
            "-4742"
        )
        let audit = s.run(["audit", "list", "--action", "admin.take_over", "--json"], as: admin).row(0)
        XCTAssertEqual(audit["actor"] as? String, admin)
        XCTAssertEqual((audit["details"] as? [String: Any])?["buyer"] as? String, buyer)
        XCTAssertEqual(
            s.run(["admin", "take-over", theirs, "--move-to", mine, "--json"], as: admin).errorObject["code"]
                as? String,
            "conflict"
        )
    }

    func testTooFewLicensesMovesNobody() {
        let s = Sandbox()
        let (mine, theirs) = setUp(s, adminLicenses: 2)
        let r = s.run(["admin", "take-over", theirs, "--move-to", mine, "--json"], as: admin)
        XCTAssertExit(r, 1)
        XCTAssertEqual(r.errorObject["code"] as? String, "insufficient_licenses")
        XCTAssertTrue((r.errorObject["message"] as? String ?? "").contains("set-licenses \(mine) 3"), r.err)
        XCTAssertEqual(assigned(s, mine), ["user3@contoso.com"])
        XCTAssertEqual(assigned(s, theirs).count, 3)
        XCTAssertEqual(
            s.run(["subscription", "show", theirs, "--json"], as: buyer).object["status"] as? String,
            "active"
        )
    }

    func testCancelAPluginThatRefusesAndWhoMayTakeOver() {
        let s = Sandbox()
        let (mine, theirs) = setUp(s, adminLicenses: 3)
        // Not an admin, the buyer himself, an admin's own subscription, a missing reason.
        XCTAssertExit(
            s.run(["admin", "take-over", theirs, "--cancel", "--reason", "no_longer_needed"], as: "user1@contoso.com"),
            77
        )
        XCTAssertExit(s.run(["admin", "take-over", mine, "--cancel", "--reason", "no_longer_needed"], as: admin), 1)
        XCTAssertExit(s.run(["admin", "take-over", theirs, "--cancel"], as: admin), 64)
        XCTAssertExit(s.run(["admin", "take-over", theirs], as: admin), 64)
        XCTAssertExit(s.run(["admin", "take-over", theirs, "--move-to", theirs], as: admin), 77)
        let plugin = s.write(
            "keep.lua",
            """
            return { name = "keep", before_take_over = function(sub, how)
              if how.action == "cancel" then return false, "ask " .. sub.buyer .. " first" end
            end }
            """
        )
        XCTAssertExit(s.run(["plugin", "install", plugin], as: admin), 0)
        let refused = s.run(
            ["admin", "take-over", theirs, "--cancel", "--reason", "no_longer_needed", "--json"],
            as: admin
        )
        XCTAssertExit(refused, 77)
        XCTAssertEqual(refused.errorObject["plugin"] as? String, "keep")
        XCTAssertEqual(
            s.run(["subscription", "show", theirs, "--json"], as: buyer).object["status"] as? String,
            "active"
        )
        XCTAssertExit(s.run(["plugin", "disable", "keep"], as: admin), 0)
        let done = s.run(
            ["admin", "take-over", theirs, "--cancel", "--reason", "no_longer_needed", "--json"],
            as: admin
        )
        XCTAssertExit(done, 0)
        XCTAssertEqual(done.object["action"] as? String, "cancel")
        XCTAssertEqual(done.object["credit"] as? String, "-70.00", "taken over on its first day: the whole period back")
        XCTAssertEqual(assigned(s, theirs), [])
        XCTAssertEqual(assigned(s, mine), ["user3@contoso.com"])
    }
}
