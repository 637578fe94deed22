import CLua
import CSupport
import Foundation
import SelfServeLua
import XCTest

/// The bounded pattern matcher must give exactly what Lua's own gives: a differential test against the
/// `string` library of a plain Lua state, over seeded random patterns and subjects.
final class BoundedPatternTests: XCTestCase {
    /// Runs `chunk` (which returns one string) in a plain state, or in one with the bounded functions.
    func evaluate(_ chunk: String, bounded: Bool) -> String {
        guard let L = luaL_newstate() else { return "no state" }
        defer { lua_close(L) }
        luaL_openlibs(L)
        if bounded { ss_open_bounded_patterns(L) }
        guard ss_luaL_loadbuffer(L, chunk, chunk.utf8.count, "=t", "t") == LUA_OK, ss_lua_pcall(L, 0, 1, 0) == LUA_OK
        else {
            return "chunk error: " + (ss_lua_tostring(L, -1).map { String(cString: $0) } ?? "?")
        }
        return ss_lua_tostring(L, -1).map { String(cString: $0) } ?? "nil"
    }

    static let pieces = [
        "a", "b", "c", "%a", "%d", "%s", "%w", "%A", ".", "[ab]", "[^a]", "[a-c]", "[%d]", "[]]", "%%", "%.",
        "(", ")", "()", "*", "+", "-", "?", "^", "$", "%b()", "%f[%w]", "%f[%W]", "%1", "%2", "[", "%",
    ]
    static let letters = ["a", "b", "c", "1", "2", " ", "(", ")", ".", "%", "]", "A"]

    func testSameResultsAsLuasOwnMatcher() {
        var rng = SeededRandom(state: UInt64(ProcessInfo.processInfo.environment["PATTERN_SEED"] ?? "") ?? 7)
        let count = Int(ProcessInfo.processInfo.environment["PATTERN_CASES"] ?? "") ?? 3000
        var cases: [String] = []
        for _ in 0..<count {
            let pattern = (0..<rng.int(0...6)).map { _ in rng.pick(Self.pieces) }.joined()
            let subject = (0..<rng.int(0...10)).map { _ in rng.pick(Self.letters) }.joined()
            let p = String(reflecting: pattern)
            let s = String(reflecting: subject)
            let initial = rng.pick(["", ", 2", ", -3", ", 20"])
            cases.append("find(\(s), \(p)\(initial))")
            cases.append("find(\(s), \(p)\(initial.isEmpty ? ", 1" : initial), true)")
            cases.append("match(\(s), \(p)\(initial))")
            cases.append("gmatch(\(s), \(p))")
            cases.append(
                "gsub(\(s), \(p), \(rng.pick(["\"<%0>\"", "\"%1\"", "\"x%%\"", "{a = 'A', b = false}", "function(x) return x == 'a' and 'Z' end"])), \(rng.pick(["nil", "1", "3"])))"
            )
        }
        var shown = 0
        for start in stride(from: 0, to: cases.count, by: 5000) {
            let batch = Array(cases[start..<min(start + 5000, cases.count)])
            let expected = evaluate(chunk(batch), bounded: false).split(
                separator: "\n",
                omittingEmptySubsequences: false
            )
            let actual = evaluate(chunk(batch), bounded: true).split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(expected.count, batch.count, expected.prefix(3).joined(separator: "\n"))
            for (i, (e, a)) in zip(expected, actual).enumerated() where e != a && shown < 10 {
                XCTFail("\(batch[i]): Lua says \(e), bounded says \(a)")
                shown += 1
            }
        }
    }

    /// A chunk that runs each case and returns their results (errors as 'error', not their wording), one a line.
    func chunk(_ cases: [String]) -> String {
        """
        local out = {}
        local function ser(ok, ...)
          if not ok then return "error" end
          local t = {}
          for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
          return table.concat(t, ",")
        end
        local function gm(s, p) local t = {} for a, b in string.gmatch(s, p) do t[#t + 1] = tostring(a) .. "/" .. tostring(b) if #t > 50 then break end end return table.concat(t, " ") end
        local find, match, gsub = string.find, string.match, string.gsub
        local gmatch = function(s, p) return gm(s, p) end
        local cases = {
        \(cases.map { "  function() return \($0) end," }.joined(separator: "\n"))
        }
        for i, f in ipairs(cases) do out[#out + 1] = ser(pcall(f)) end
        return table.concat(out, "\\n")
        """
    }

    func testPathologicalPatternsStopAtTheLimit() throws {
        let lua = try LuaState(flavor: .plugin)
        lua.timeLimitMilliseconds = 300
        for pattern in [".-.-.-.-.-.-.-b", "(.-)(.-)(.-)(.-)(.-)b", "(a*)*b", "%f[a]a*a*a*a*a*b"] {
            let start = Date()
            XCTAssertThrowsError(
                try lua.run("return string.find(string.rep('a', 200000), '\(pattern)')", chunkName: "=p", budget: .max)
            ) {
                XCTAssertTrue("\($0)".contains("wall-clock"), "\($0)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 0.3 + 0.5, pattern)
        }
    }

    /// A string handed to Lua keeps every byte, a NUL included, and comes back whole.
    func testStringsCrossIntoLuaWithTheirLength() throws {
        let lua = try LuaState(flavor: .plugin)
        for text in ["a\u{0}b", "\u{0}", "tail\u{0}", "ünï\u{0}cødé ✓", ""] {
            let back = try lua.run(
                "local s, k = ... return #s, s, k.key",
                chunkName: "=t",
                arguments: [.string(text), .object([("key", .string(text))])]
            )
            XCTAssertEqual(back, [.int(Int64(text.utf8.count)), .string(text), .string(text)], text.debugDescription)
        }
    }
}
