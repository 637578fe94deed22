import Foundation
import XCTest

/// Issue 6: plugins (validation, sandbox, limits, composition, fail-closed) and automation scripts.
final class PluginTests: XCTestCase {
    let buyer = "buyer@contoso.com"
    static let pluginsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("plugins")

    func example(_ name: String) -> String { Self.pluginsDir.appendingPathComponent(name).path }

    func install(_ s: Sandbox, _ name: String, _ source: String) -> Sandbox.Result {
        s.run(["plugin", "install", s.write(name, source), "--json"], as: Sandbox.admin)
    }

    func testExamplePluginsPassTheirTestsAndInstall() {
        let s = Sandbox()
        s.initialize()
        for file in ["finance-reasons.lua", "payment-policy.lua", "license-limits.lua", "event-notifier.lua"] {
            let t = s.run(["plugin", "test", example(file), "--json"], useDB: false)
            XCTAssertExit(t, 0)
            XCTAssertTrue(t.array.allSatisfy { $0["passed"] as? Bool == true }, t.out)
            XCTAssertExit(s.run(["plugin", "install", example(file)], as: Sandbox.admin), 0)
        }
        let list = s.run(["plugin", "list", "--json"], as: Sandbox.admin).array
        XCTAssertEqual(
            list.map { ($0["name"] as? String ?? "") },
            ["event-notifier", "finance-reasons", "license-limits", "payment-policy"]
        )
        XCTAssertEqual(
            Set((list.first ?? [:]).keys),
            ["name", "version", "enabled", "hooks", "installed_by", "installed_at", "sha256"]
        )
        XCTAssertEqual((list.first?["sha256"] as? String)?.count, 64)
        // A duplicate name.
        XCTAssertExit(s.run(["plugin", "install", example("finance-reasons.lua")], as: Sandbox.admin), 1)
        XCTAssertExit(s.run(["plugin", "install", example("finance-reasons.lua")], as: buyer), 77)

        // Payment policy.
        let amex = s.run(
            ["payment-method", "add", "--card-stdin", "--postal-code", "1", "--json"],
            as: buyer,
            stdin: "378282246310005\n12/29\n1234\n"
        )
        XCTAssertEqual(amex.errorObject["code"] as? String, "payment_declined")
        XCTAssertEqual(amex.errorObject["plugin"] as? String, "payment-policy")
        let soon = s.run(
            ["payment-method", "add", "--card-stdin", "--postal-code", "1", "--json"],
            as: buyer,
            stdin: "4242424242424242\n04/26\n123\n"
        )
        XCTAssertEqual(soon.errorObject["code"] as? String, "payment_declined")
        XCTAssertExit(
            s.run(
                ["payment-method", "add", "--card-stdin", "--postal-code", "28001"],
                as: buyer,
                stdin: "4242424242424242\n12/29\n123\n"
            ),
            0
        )

        // License limit: 25 for non-admins, on buy and set-licenses.
        let big = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "26", "--json"], as: buyer)
        XCTAssertExit(big, 77)
        XCTAssertEqual(big.errorObject["code"] as? String, "policy_denied")
        XCTAssertEqual(big.errorObject["plugin"] as? String, "license-limits")
        let sub = s.buy(buyer, "power-bi-pro", licenses: 25)
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "26"], as: buyer), 77)

        // Reasons: union, comment required, before_cancel.
        let reasons = s.run(["subscription", "reasons", "--json"], as: buyer).array
        XCTAssertTrue(
            reasons.contains {
                $0["code"] as? String == "budget_cut" && $0["source"] as? String == "finance-reasons"
                    && $0["comment_required"] as? Bool == true
            }
        )
        XCTAssertEqual(
            s.run(["subscription", "cancel", sub, "--reason", "budget_cut", "--json"], as: buyer).errorObject["code"]
                as? String,
            "invalid_argument"
        )
        XCTAssertExit(
            s.run(["subscription", "cancel", sub, "--reason", "budget_cut", "--comment", "no"], as: buyer),
            77
        )
        XCTAssertExit(
            s.run(["subscription", "cancel", sub, "--reason", "budget_cut", "--comment", "CC-7 closed"], as: buyer),
            0
        )

        let audit = s.run(["audit", "list", "--json"], as: Sandbox.admin).array
        XCTAssertTrue(
            audit.contains {
                ($0["details"] as? [String: Any])?["plugin"] as? String == "license-limits"
                    && $0["outcome"] as? String == "denied"
            }
        )
        XCTAssertTrue(
            audit.contains {
                $0["action"] as? String == "plugin.on_event"
                    && "\($0["details"] ?? "")".contains("subscription.canceled")
            }
        )
        XCTAssertTrue(audit.contains { $0["action"] as? String == "plugin.install" })

        XCTAssertExit(s.run(["plugin", "disable", "license-limits"], as: Sandbox.admin), 0)
        XCTAssertExit(s.run(["subscription", "buy", "power-bi-pro", "--licenses", "26"], as: buyer), 0)
        XCTAssertExit(s.run(["plugin", "remove", "license-limits"], as: Sandbox.admin), 0)
        XCTAssertEqual(
            s.run(["plugin", "show", "license-limits", "--json"], as: Sandbox.admin).errorObject["code"] as? String,
            "not_found"
        )
    }

    /// Events go to the plugins enabled when the command runs, every one of them (a billing run's
    /// renewals included), and to no one once the listener is disabled.
    func testEventsReachTheEnabledListenersOnly() {
        let s = Sandbox.organization(on: "2026-01-10", cardFor: buyer)
        _ = s.buy(buyer, "power-bi-pro", licenses: 2)
        let listener = "return { name = 'listener', on_event = function(e) ss.log(e.type) end }"
        XCTAssertExit(install(s, "listener.lua", listener), 0)
        let delivered = {
            s.query(
                "SELECT count(*) FROM audit_log WHERE action = 'plugin.on_event' AND details LIKE '%subscription.renewed%'"
            )
        }
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-04-10"]), 0)
        XCTAssertEqual(delivered(), "3")
        XCTAssertExit(s.run(["plugin", "disable", "listener"], as: Sandbox.admin), 0)
        XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-06-10"]), 0)
        XCTAssertEqual(delivered(), "3")
        // Enabled again inside the same batch transaction as the run: the run's events reach it. (On a
        // server the billing run is the billing role's, never an admin's: there, one after the other.)
        if Sandbox.onPostgreSQL {
            XCTAssertExit(s.run(["plugin", "enable", "listener"], as: Sandbox.admin), 0)
            XCTAssertExit(s.run(["billing", "run"], extraEnv: ["SELFSERVE_NOW": "2026-07-10"]), 0)
        } else {
            let batch = "begin\nplugin enable listener\nbilling run\ncommit\n"
            XCTAssertExit(
                s.run(["-f", "-"], as: Sandbox.admin, stdin: batch, extraEnv: ["SELFSERVE_NOW": "2026-07-10"]),
                0
            )
        }
        XCTAssertEqual(delivered(), "4")
    }

    /// A subscription the run cannot process is undone with what it recorded: listeners hear every
    /// renewal that was kept once, and none that was rolled back (the run retries a failed page one
    /// subscription at a time).
    func testListenersHearOnlyWhatARunKept() {
        let s = Sandbox.organization(on: "2026-01-10", cardFor: buyer)
        let kept = s.buy(buyer, "power-bi-pro", licenses: 2)
        let broken = s.buy(buyer, "project-plan-1", licenses: 2)
        XCTAssertExit(
            install(s, "listener.lua", "return { name = 'listener', on_event = function(e) ss.log(e.type) end }"),
            0
        )
        // A price stored before prices were bounded (an old database) cannot be multiplied.
        _ = s.query("UPDATE subscriptions SET unit_price = 5000000000000000000 WHERE id = '\(broken)'")
        let run = s.run(["billing", "run", "--json"], extraEnv: ["SELFSERVE_NOW": "2026-03-10"])
        XCTAssertExit(run, 1)
        XCTAssertTrue(run.err.contains(broken), run.err)
        let heard = { (sub: String) in
            s.query(
                "SELECT count(*) FROM audit_log WHERE action = 'plugin.on_event' AND target = '\(sub)' AND details LIKE '%subscription.renewed%'"
            )
        }
        XCTAssertEqual(heard(kept), "2")
        XCTAssertEqual(heard(broken), "0")
    }

    func testMalformedPluginsAreRefusedAndNothingIsStored() {
        let s = Sandbox()
        s.initialize()
        let cases: [(String, String)] = [
            ("syntax", "return { name = 'x' "),
            ("no table", "return 42"),
            ("no name", "return { version = '1' }"),
            ("bad name", "return { name = 'Bad Name' }"),
            ("unknown hook", "return { name = 'typo', before_purchse = function() end }"),
            ("bad reason", "return { name = 'r', cancellation_reasons = { { code = 'x' } } }"),
            ("taken reason", "return { name = 'r2', cancellation_reasons = { { code = 'other', label = 'Again' } } }"),
            ("hook not a function", "return { name = 'h', before_cancel = 'no' }"),
            ("loops at load", "while true do end"),
        ]
        for (what, source) in cases {
            let r = install(s, "p.lua", source)
            XCTAssertExit(r, 1)
            XCTAssertEqual(r.errorObject["code"] as? String, "invalid_argument", what)
        }
        XCTAssertTrue(
            install(s, "p.lua", "return { name = 'typo', before_purchse = function() end }").err.contains(
                "before_purchase"
            )
        )
        XCTAssertEqual(s.query("SELECT count(*) FROM plugins"), "0")
    }

    func testSandboxEscapesAndLimitsFailClosed() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 5)
        let attempts: [(String, String)] = [
            ("os.execute", "os.execute('touch /tmp/pwned')"),
            ("io.open", "io.open('/etc/passwd')"),
            ("require", "require('os')"),
            ("dofile", "dofile('/etc/passwd')"),
            ("debug", "debug.getinfo(1)"),
            ("bytecode", "load('\\27Lua')"),
            ("collectgarbage", "collectgarbage('stop')"),
            ("os.getenv", "os.getenv('HOME')"),
            ("infinite loop", "while true do end"),
            ("memory", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end"),
        ]
        for (i, (what, body)) in attempts.enumerated() {
            let name = "escape-\(i)"
            XCTAssertExit(
                install(
                    s,
                    "\(name).lua",
                    "return { name = '\(name)', before_set_licenses = function(sub, total) \(body) end }"
                ),
                0
            )
            let r = s.run(
                ["subscription", "set-licenses", sub, "\(6 + i)", "--json"],
                as: buyer,
                extraEnv: ["SELFSERVE_LUA_MEMORY_MB": "16"]
            )
            XCTAssertExit(r, 77)
            XCTAssertEqual(r.errorObject["code"] as? String, "policy_error", "\(what): \(r.err)")
            XCTAssertEqual(r.errorObject["plugin"] as? String, name, what)
            if what == "os.execute" {
                XCTAssertTrue((r.errorObject["message"] as? String ?? "").contains("\(name).lua:1"), r.err)
            }
            XCTAssertExit(s.run(["plugin", "disable", name], as: Sandbox.admin), 0)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/pwned"))
        XCTAssertEqual(s.query("SELECT licenses_total FROM subscriptions WHERE id = '\(sub)'"), "5")

        // One plugin cannot see another's globals.
        XCTAssertExit(install(s, "a.lua", "secret = 'mine'; return { name = 'a-globals' }"), 0)
        XCTAssertExit(
            install(
                s,
                "b.lua",
                "return { name = 'b-globals', before_set_licenses = function() if secret ~= nil then return false, 'saw it' end end }"
            ),
            0
        )
        XCTAssertExit(s.run(["subscription", "set-licenses", sub, "7"], as: buyer), 0)
        // A malformed answer fails closed.
        XCTAssertExit(
            install(s, "m.lua", "return { name = 'malformed', before_set_licenses = function() return 42 end }"),
            0
        )
        XCTAssertEqual(
            s.run(["subscription", "set-licenses", sub, "8", "--json"], as: buyer).errorObject["code"] as? String,
            "policy_error"
        )
    }

    func testCompositionDenyWinsSmallestLimitWinsAndOnEventNeverUndoes() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        XCTAssertExit(
            install(
                s,
                "a.lua",
                "return { name = 'a-allows', license_limit = function() return 50 end, before_purchase = function() return true end }"
            ),
            0
        )
        XCTAssertExit(
            install(
                s,
                "b.lua",
                "return { name = 'b-denies', license_limit = function() return 8 end, before_purchase = function(req) if req.product == 'visio-plan-2' then return false, 'no Visio here' end end }"
            ),
            0
        )
        XCTAssertExit(
            install(
                s,
                "c.lua",
                "return { name = 'c-broken-events', on_event = function(e) error('mail server down') end }"
            ),
            0
        )
        let denied = s.run(["subscription", "buy", "visio-plan-2", "--licenses", "1", "--json"], as: buyer)
        XCTAssertEqual(denied.errorObject["code"] as? String, "policy_denied")
        XCTAssertEqual(denied.errorObject["plugin"] as? String, "b-denies")
        XCTAssertTrue((denied.errorObject["message"] as? String ?? "").hasPrefix("b-denies: no Visio here"))
        let limited = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "9", "--json"], as: buyer)
        XCTAssertEqual(limited.errorObject["plugin"] as? String, "b-denies")
        let dry = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "8", "--dry-run"], as: buyer)
        XCTAssertExit(dry, 0)
        XCTAssertTrue(dry.err.contains("b-denies: license_limit 8"), dry.err)
        let ok = s.run(["subscription", "buy", "power-bi-pro", "--licenses", "8", "--json"], as: buyer)
        XCTAssertExit(ok, 0)
        XCTAssertTrue(ok.err.contains("mail server down"), ok.err)
        XCTAssertEqual(s.query("SELECT count(*) FROM subscriptions"), "1")
    }

    func testAutomationScripts() {
        let s = Sandbox()
        s.initialize()
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 30)
        let csv = s.write(
            "people.csv",
            "email,name\n" + (1...25).map { "user\($0)@contoso.com,User \($0)" }.joined(separator: "\n") + "\n"
        )
        let r = s.run(["run", example("bulk-assign.lua"), sub, csv], as: buyer)
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.out, "assigned 25, skipped 0; 25 of 30 licenses in use\n")

        let script = s.write(
            "s.lua",
            """
            local ok, err = pcall(ss.exec, "subscription", "show", "sub_nope")
            print(ok, err.code)
            print(ss.user("user1@contoso.com").name, #ss.subscriptions{buyer = "\(buyer)"}, ss.assigned_count{buyer = "\(buyer)"})
            print(arg[1], arg[2])
            print(pcall(ss.exec, "whoami", "--as", "admin@contoso.com"))
            """
        )
        let out = s.run(["run", script, "x", "y z"], as: buyer)
        XCTAssertExit(out, 0)
        let lines = out.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "false\tnot_found")
        XCTAssertEqual(lines[1], "User 1\t1\t25")
        XCTAssertEqual(lines[2], "x\ty z")
        XCTAssertTrue(lines[3].hasPrefix("false"), lines[3])

        let failing = s.write(
            "fail.lua",
            "ss.exec('subscription', 'set-licenses', '\(sub)', '29')\nss.exec('license', 'unassign', '\(sub)', 'user1@contoso.com', '--yes')\nerror('boom')\n"
        )
        let f = s.run(["run", "--atomic", failing], as: buyer)
        XCTAssertExit(f, 1)
        XCTAssertTrue(f.err.contains("fail.lua:3: boom"), f.err)
        XCTAssertEqual(
            s.query("SELECT licenses_total, licenses_assigned FROM subscriptions WHERE id = '\(sub)'"),
            "30|25"
        )
        let kept = s.run(["run", failing], as: buyer)
        XCTAssertExit(kept, 1)
        XCTAssertEqual(
            s.query("SELECT licenses_total, licenses_assigned FROM subscriptions WHERE id = '\(sub)'"),
            "29|24"
        )

        let loop = s.write("loop.lua", "while true do end")
        let l = s.run(["run", "--budget", "100000", loop], as: buyer)
        XCTAssertExit(l, 1)
        XCTAssertTrue(l.err.contains("budget"), l.err)
        let write = s.write("w.lua", "io.open('/tmp/x', 'w')")
        XCTAssertExit(s.run(["run", write], as: buyer), 1)
    }

    func testShellLuaCommandSharesOneState() {
        let s = Sandbox()
        s.initialize()
        let r = s.run([], as: buyer, stdin: "lua\nx = 41\nprint(ss.exec('whoami').email)\n.\nlua\nprint(x + 1)\n.\n")
        XCTAssertExit(r, 0)
        XCTAssertEqual(r.out, "\(buyer)\n42\n")
        let bad = s.run([], as: buyer, stdin: "lua\nerror('nope')\n.\n")
        XCTAssertExit(bad, 1)
        XCTAssertTrue(bad.err.contains("<stdin>:1: error: lua#1:1: nope"), bad.err)
        // A chunk the input ends inside is not run: the line that opened it is named.
        let open = s.run([], as: buyer, stdin: "whoami\nlua\nprint('never')\n")
        XCTAssertExit(open, 1)  // a batch with a failed line exits 1, whatever the line's own code
        XCTAssertFalse(open.out.contains("never"), open.out)
        XCTAssertTrue(
            open.err.contains("<stdin>:2: error: the lua chunk starting here has no closing '.' line"),
            open.err
        )
    }
}
