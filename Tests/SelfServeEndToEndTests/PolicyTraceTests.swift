import Foundation
import XCTest

/// Issue 19: `--explain` prints every policy decision of a real run — allowed, denied, limits, errors —
/// with the time each hook took, and the audit log keeps the deciding plugin of every denial.
final class PolicyTraceTests: XCTestCase {
    let buyer = "buyer@contoso.com"

    func install(_ s: Sandbox, _ name: String, _ source: String) {
        XCTAssertExit(s.run(["plugin", "install", s.write(name + ".lua", source)], as: Sandbox.admin), 0)
    }

    func traces(_ r: Sandbox.Result) -> [String] {
        r.err.split(separator: "\n").filter { $0.hasPrefix("explain: ") }.map { String($0.dropFirst(9)) }
    }

    /// `plugin hook → answer (N.NN ms)`, the answer without its time.
    func answers(_ r: Sandbox.Result) -> [String] {
        traces(r).map { line in
            guard let open = line.range(of: " (", options: .backwards), line.hasSuffix(" ms)") else {
                return "malformed: \(line)"
            }
            XCTAssertNotNil(Double(line[open.upperBound...].dropLast(4)), line)
            return String(line[..<open.lowerBound])
        }
    }

    func testExplainTracesAllowDenyLimitAndErrors() {
        let s = Sandbox()
        s.initialize()
        install(s, "a-limit", "return { name = 'a-limit', license_limit = function(ctx) return 12 end }")
        install(
            s,
            "b-gate",
            """
            return { name = "b-gate",
              before_set_licenses = function(sub, total) if total > 8 then return false, "at most 8 here" end end,
              before_purchase = function(req) return true end }
            """
        )
        _ = s.addCard(buyer)
        let buy = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "3", "--explain", "--json"], as: buyer)
        XCTAssertExit(buy, 0)
        XCTAssertEqual(answers(buy), ["a-limit license_limit → 12", "b-gate before_purchase → allowed"])
        XCTAssertFalse(buy.out.contains("explain"), "the trace is on stderr only")
        let sub = buy.object["id"] as? String ?? ""

        let denied = s.run(["--explain", "subscription", "set-licenses", sub, "9", "--json"], as: buyer)
        XCTAssertExit(denied, 77)
        XCTAssertEqual(
            answers(denied),
            ["a-limit license_limit → 12", "b-gate before_set_licenses → denied: at most 8 here"]
        )
        XCTAssertEqual(denied.errorObject["plugin"] as? String, "b-gate")

        let limited = s.run(["subscription", "set-licenses", sub, "20", "--explain"], as: buyer)
        XCTAssertExit(limited, 77)
        XCTAssertEqual(answers(limited), ["a-limit license_limit → 12"])

        install(s, "c-broken", "return { name = 'c-broken', before_set_licenses = function() error('boom') end }")
        let broken = s.run(["subscription", "set-licenses", sub, "4", "--explain", "--json"], as: buyer)
        XCTAssertExit(broken, 77)
        XCTAssertEqual(broken.errorObject["code"] as? String, "policy_error")
        XCTAssertEqual(answers(broken).count, 3)
        XCTAssertTrue(
            answers(broken).last?.hasPrefix("c-broken before_set_licenses → error: ") == true,
            "\(answers(broken))"
        )

        // Without --explain nothing is traced; a command no plugin is asked about says so.
        let quiet = s.run(["subscription", "set-licenses", sub, "4"], as: buyer)
        XCTAssertExit(quiet, 77)
        XCTAssertTrue(traces(quiet).isEmpty)
        XCTAssertEqual(traces(s.run(["user", "list", "--explain"], as: buyer)), ["no plugin was asked"])

        // Every denial in the audit log names the plugin that decided it.
        let audit = s.run(["audit", "list", "--action", "subscription.set_licenses", "--json"], as: Sandbox.admin).array
        let refused = audit.filter { $0["outcome"] as? String == "denied" }
        XCTAssertEqual(
            refused.map { ($0["details"] as? [String: Any])?["plugin"] as? String ?? "none" },
            ["b-gate", "a-limit", "c-broken", "c-broken"]
        )
    }
}
