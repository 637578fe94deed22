import Foundation
import XCTest

/// Issue 15: outputs a program can rely on, and unassign that skips like assign.
final class OutputShapeTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func testListsKeepTheirColumnsAndEmptyListsTheirHeader() {
        let s = Sandbox()
        s.initialize()
        let empty = s.run(["subscription", "list", "--format", "csv"], as: buyer)
        XCTAssertExit(empty, 0)
        let header =
            "id,product,product_name,buyer,buyer_name,status,term,licenses_total,licenses_assigned,licenses_available,unit_price,currency,started,expires,billing_profile,payment_method,trial,cancel_reason,cancel_comment\r\n"
        XCTAssertEqual(empty.out, header)
        XCTAssertTrue(s.run(["subscription", "list"], as: buyer).err.contains("(0 rows)"))
        _ = s.addCard(buyer)
        let a = s.buy(buyer, "power-bi-pro", licenses: 2)
        XCTAssertTrue(s.run(["subscription", "list", "--format", "csv"], as: buyer).out.hasPrefix(header))
        XCTAssertExit(s.run(["subscription", "cancel", a, "--reason", "too_expensive"], as: buyer), 0)
        XCTAssertTrue(
            s.run(["subscription", "list", "--format", "csv"], as: buyer).out.hasPrefix(header),
            "same columns once canceled"
        )
        for args in [
            ["invoice", "list"], ["payment-method", "list"], ["billing", "account", "list"], ["license", "list", a],
        ] {
            let r = s.run(args + ["--format", "csv"], as: "other@contoso.com")
            XCTAssertTrue(r.code != 0 || r.out.hasSuffix("\r\n") && !r.out.isEmpty, "\(args): \(r.out) \(r.err)")
        }
        XCTAssertEqual(
            s.run(["audit", "list", "--format", "csv", "--action", "nothing.such"], as: Sandbox.admin).out,
            "at,actor,action,target,outcome,details\r\n"
        )
    }

    func testUnassignSkipsAndReportsWhoHoldsNoLicense() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 3)
        XCTAssertExit(s.run(["license", "assign", sub, "user1@contoso.com", "user2@contoso.com"], as: buyer), 0)
        let r = s.run(
            ["license", "unassign", sub, "user1@contoso.com", "user3@contoso.com", "--yes", "--json"],
            as: buyer
        )
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.object["unassigned"] as? [String], ["user1@contoso.com"])
        XCTAssertEqual(r.object["skipped"] as? [String], ["user3@contoso.com"])
        XCTAssertEqual(r.object["licenses_assigned"] as? Int, 1)
    }

    func testMessagesInTheDomainsWords() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 3)
        let negative = s.run(["subscription", "set-licenses", sub, "-1"], as: buyer)
        XCTAssertExit(negative, 64)
        XCTAssertTrue(negative.err.contains("'-1' is not a valid value"), negative.err)
        let file = s.write("dup.json", #"[{"id": "pbi-copy", "name": "power bi PRO", "unit_price": "1.00"}]"#)
        let dup = s.run(["product", "import", file], as: Sandbox.admin)
        XCTAssertExit(dup, 1)
        XCTAssertTrue(dup.err.contains("taken by product power-bi-pro") && !dup.err.contains("UNIQUE"), dup.err)
        let login = s.run(["login", "other@contoso.com"], as: buyer)
        // A file saves the login and says who still acts; a server refuses to save anyone else.
        XCTAssertTrue(
            login.err.contains(
                Sandbox.onPostgreSQL ? "login as other@contoso.com is refused" : "still acts as \(buyer)"
            ),
            login.err
        )
    }

    func testMultiLineTextKeepsItsLines() {
        let s = Sandbox()
        s.initialize()
        let plugin = s.write("two-lines.lua", "-- first line\nreturn { name = \"two-lines\" }\n")
        XCTAssertExit(s.run(["plugin", "install", plugin], as: Sandbox.admin), 0)
        let shown = s.run(["plugin", "show", "two-lines"], as: Sandbox.admin)
        XCTAssertExit(shown, 0)
        XCTAssertTrue(shown.out.contains("-- first line\nreturn"), shown.out)
        XCTAssertFalse(shown.out.contains("\\u{A}"), shown.out)
    }
}
