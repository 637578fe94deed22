import Foundation
import XCTest

/// Issue 14: card numbers and security codes never reach errors, history, the database or the audit log.
final class CardSecrecyTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    /// Card numbers as people write them, where a command expects something else.
    static let numbers = [
        "5425233430109903", "5425 2334 3010 9903", "5425-2334-3010-9903", "378282246310005", "3782 822463 10005",
        "6011111111111117", "4242424242424242424", "4242424242424241", "30569309025904",
    ]

    func testCardNumbersAreMaskedInEveryError() {
        let s = Sandbox()
        s.initialize()
        for number in Self.numbers {
            let digits = number.filter(\.isNumber)
            for args in [
                ["payment-method", "add", number, "04/28", "836"], [number, "836"], ["subscription", "show", number],
                ["user", "add", "x@contoso.com", "--name", number, "--bogus", "836"],
            ] {
                for json in [false, true] {
                    let r = s.run(args + (json ? ["--json"] : []), as: buyer)
                    XCTAssertNotEqual(r.code, 0)
                    let shown = r.err.filter(\.isNumber)
                    XCTAssertFalse(shown.contains(digits.prefix(12)), "\(args): \(r.err)")
                    XCTAssertFalse(r.err.contains(" 836") || r.err.contains("'836'"), "\(args): \(r.err)")
                }
            }
        }
        let audit = s.run(["audit", "list", "--json"], as: Sandbox.admin).out
        for number in Self.numbers {
            XCTAssertFalse(audit.filter(\.isNumber).contains(number.filter(\.isNumber).prefix(12)), number)
        }
    }

    func testABatchNeverRunsOrShowsCardLines() {
        let s = Sandbox()
        s.initialize()
        // The first card block is one line short; the second is whole; then stray card lines.
        let batch = s.write(
            "cards.txt",
            """
            payment-method add --card-stdin
            4000002500003155
            12/30
            payment-method add --card-stdin
            5425233430109903
            04/31
            836
            whoami
            5425 2334 3010 9903
            04/28
            836
            payment-method add --card-stdin
            4242424242424242
            """
        )
        let r = s.run(["-f", batch], as: buyer)
        XCTAssertExit(r, 1)
        for secret in ["4000002500003155", "5425233430109903", "2334", "836", "4242424242424242", "12/30", "04/28"] {
            XCTAssertFalse(r.err.contains(secret) || r.out.contains(secret), "\(secret) shown:\n\(r.err)")
        }
        XCTAssertTrue(r.err.contains("cards.txt:1: error"), r.err)
        XCTAssertTrue(
            r.err.contains("cards.txt:9: error: card data outside a --card-stdin command (lines 9-11)"),
            r.err
        )
        XCTAssertTrue(r.err.contains("cards.txt:12: error"), r.err)
        XCTAssertTrue(r.out.contains("email"), "whoami ran: \(r.out)")
        XCTAssertEqual(s.query("SELECT last4 FROM payment_methods"), "9903", "the whole card block was added")
        // The same on stdin, and atomically: nothing is kept.
        let atomic = s.run(
            ["--atomic", "-f", "-"],
            as: buyer,
            stdin: "payment-method add --card-stdin\n4000056655665556\n12/30\n123\n4000002500003155\n12/30\n"
        )
        XCTAssertExit(atomic, 1)
        XCTAssertFalse(atomic.err.contains("4000002500003155"), atomic.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM payment_methods"), "1")
    }
}
