import CLua
import CSupport
import Foundation
import SelfServeLua
import XCTest

/// The limits of one Lua call, in process: the wall-clock limit holds whatever the call does (one VM
/// instruction or one library call can take long), and a library call that would run long in C is charged
/// for its work before it runs, with results and error messages unchanged.
final class LuaLimitTests: XCTestCase {
    /// Bodies that spend their time in few, long steps: long-string comparisons and concatenations, and
    /// library calls on large inputs in a loop. The count hook alone looked at the clock every 1000
    /// instructions — seconds, or days, here. (Strings are grown by doubling: few instructions, little
    /// charged work.)
    static let longSteps: [(String, String)] = [
        ("table.concat", #"local t = {} for i = 1, 200000 do t[i] = "xxxxxxxx" end while true do table.concat(t) end"#),
        (
            "table.sort",
            "local t = {} for i = 1, 300000 do t[i] = (i * 7919) % 1000003 end while true do table.sort(t) end"
        ),
        (
            "table.insert at the front",
            #"local t = {string.byte(string.rep("a", 500000), 1, -1)} while true do table.insert(t, 1, 1) end"#
        ),
        (
            "table.remove from the front",
            #"local t = {string.byte(string.rep("a", 500000), 1, -1)} while true do table.remove(t, 1) t[#t + 1] = 1 end"#
        ),
        (
            "table.unpack",
            ##"local t = {string.byte(string.rep("a", 900000), 1, -1)} while true do select("#", table.unpack(t)) end"##
        ),
        ("string.byte", ##"local s = string.rep("a", 900000) while true do select("#", s:byte(1, -1)) end"##),
        (
            "< on long strings",
            #"local a = "x" for i = 1, 23 do a = a .. a end local b = a:sub(1, -2) .. "y" while true do local _ = a < b end"#
        ),
        (
            "== on long strings",
            #"local a = "x" for i = 1, 23 do a = a .. a end local b = a:sub(1, -2) .. "x" while true do local _ = a == b end"#
        ),
        (".. of a long string", #"local s = "x" for i = 1, 24 do s = s .. s end while true do local _ = s .. "y" end"#),
        ("utf8.len", #"local s = "a" for i = 1, 24 do s = s .. s end while true do utf8.len(s) end"#),
        ("string.upper", #"local s = "a" for i = 1, 24 do s = s .. s end while true do s:upper() end"#),
        ("string.reverse", #"local s = "a" for i = 1, 24 do s = s .. s end while true do s:reverse() end"#),
        (
            "string.format %q",
            #"local s = "\0" for i = 1, 22 do s = s .. s end while true do string.format("%q", s) end"#
        ),
        ("tonumber", #"local s = "1" for i = 1, 22 do s = s .. s end while true do tonumber(s) end"#),
        ("string.rep", #"while true do string.rep("abc", 3000000) end"#),
        (
            "string.find, plain",
            #"local s = "a" for i = 1, 23 do s = s .. s end while true do s:find("b", 1, true) end"#
        ),
        (
            "load",
            #"local s = "a" for i = 1, 18 do s = s .. s end s = "return '" .. s .. "'" while true do load(s) end"#
        ),
        ("os.date", #"local f = "%c" for i = 1, 14 do f = f .. f end while true do os.date(f) end"#),
        (
            "a comparator in table.sort",
            "local t = {} for i = 1, 1000 do t[i] = i end table.sort(t, function(a, b) while true do end end)"
        ),
        (
            "pcall around long steps",
            #"local s = "x" for i = 1, 24 do s = s .. s end while true do pcall(function() while true do local _ = s .. "y" end end) end"#
        ),
    ]

    /// With no instruction budget to speak of, only the wall clock can stop these.
    func testTheWallClockHoldsWhateverOneStepCosts() throws {
        let limit = 0.3
        for (name, body) in Self.longSteps {
            let lua = try LuaState(flavor: .plugin)
            lua.timeLimitMilliseconds = Int(limit * 1000)
            let start = Date()
            XCTAssertThrowsError(try lua.run(body, chunkName: "=hostile", budget: .max), name) {
                XCTAssertTrue("\($0)".contains("wall-clock"), "\(name): \($0)")
            }
            // The longest single step above takes well under 0.1 s on this machine.
            XCTAssertLessThan(Date().timeIntervalSince(start), limit + 0.5, name)
        }
    }

    /// Calls that never return to the VM for a very long time: only charging their work up front stops
    /// them (no wall-clock limit here, the default budget).
    static let longCalls: [(String, String)] = [
        ("string.rep of an empty string", #"return string.rep("", 1e15)"#),
        ("string.rep with an empty separator", #"return string.rep("", 1e15, "")"#),
        ("table.move of a huge range", "table.move({}, 1, 1e15, 2)"),
        ("table.move backwards", "table.move({}, -1e15, 0, -1e15 + 1)"),
        (
            "table.insert under a huge __len",
            "table.insert(setmetatable({}, {__len = function() return 1e15 end}), 1, 1)"
        ),
        ("table.remove under a huge __len", "table.remove(setmetatable({}, {__len = function() return 1e15 end}), 1)"),
        ("table.sort of millions", "local t = {} for i = 1, 2000000 do t[i] = -i end table.sort(t)"),
        // These two take 0.4 s and 0.7 s in one call when charged too little (a step per comparison, half
        // a step per byte of source).
        (
            "table.sort of 350,000 strings",
            "local t = {} for i = 1, 350000 do t[i] = tostring(i * 7919 % 1000003) end table.sort(t)"
        ),
        ("load of a 4 MB chunk", #"local s = "a=1 " for i = 1, 20 do s = s .. s end return load(s)"#),
        ("os.date of a long format", #"local f = "%c" for i = 1, 22 do f = f .. f end return os.date(f)"#),
        ("load of a huge chunk", #"local s = "a=1 " for i = 1, 23 do s = s .. s end return load(s)"#),
        (
            "load through a reader",
            #"local s = "a=1 " for i = 1, 23 do s = s .. s end local n = 0 return load(function() n = n + 1 if n < 4 then return s end end)"#
        ),
        (
            "string.format %q of a long string",
            #"local s = "\0" for i = 1, 23 do s = s .. s end return string.format("%q", s)"#
        ),
        ("string.pack of a long format", #"local f = "x" for i = 1, 24 do f = f .. f end return string.pack(f)"#),
    ]

    func testALongLibraryCallIsChargedBeforeItRuns() throws {
        for (name, body) in Self.longCalls {
            let lua = try LuaState(flavor: .plugin)
            let start = Date()
            XCTAssertThrowsError(try lua.run(body, chunkName: "=hostile"), name) {
                XCTAssertTrue("\($0)".contains("instruction budget"), "\(name): \($0)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, name)
        }
    }

    /// The charged functions give what Lua's own give — results and error messages — on ordinary input.
    func testChargedFunctionsAnswerAsLuasOwn() throws {
        let calls = [
            #"string.rep("ab", 3, ",")"#, #"string.rep("x", 0)"#, #"string.rep("x", -1)"#, "string.rep()",
            #"string.rep("x", "y")"#, #"string.rep("x", 2.5)"#,
            #"string.format("%q|%5.2f|%s", "a\0b\n", 3.14159, {} ~= nil)"#,
            "string.format()", #"string.upper("abc")"#, #"string.lower("ÀBC")"#, #"string.reverse("abc")"#,
            "string.upper()",
            #"string.pack("i4s1", 7, "hi")"#, #"string.unpack("i4", string.pack("i4", 9))"#,
            #"string.packsize("i4i8")"#,
            #"string.pack("q")"#, #"utf8.len("añb")"#, #"utf8.len("\xff")"#, "utf8.len()",
            "table.concat({1, 2, 3}, '-')", "table.concat({1, 2, 3}, '-', 2)", "table.concat({1, 2, 3}, '-', 2, 3)",
            "table.concat({1, {}, 3})", "table.concat()", "table.concat({}, '', 1, 2)",
            "(function() local t = {1, 2, 3} table.insert(t, 1, 0) return table.concat(t, ',') end)()",
            "(function() local t = {1, 2, 3} table.insert(t, 4) return table.concat(t, ',') end)()",
            "(function() local t = {1, 2, 3} table.insert(t, 9, 1) end)()", "table.insert({}, 1, 2, 3)",
            "(function() local t = {1, 2, 3} return table.remove(t, 1), table.concat(t, ',') end)()",
            "(function() local t = {1, 2, 3} return table.remove(t), #t end)()", "table.remove({}, 5)",
            "(function() local t = table.move({1, 2, 3}, 1, 3, 2) return table.concat(t, ',') end)()",
            "(function() local t = table.move({1, 2, 3}, 1, 3, 1, {}) return table.concat(t, ',') end)()",
            "table.move({1, 2}, 1, 0, 5)", "table.move()",
            "(function() local t = {3, 1, 2} table.sort(t) return table.concat(t, ',') end)()",
            "(function() local t = {3, 1, 2} table.sort(t, function(a, b) return a > b end) return table.concat(t, ',') end)()",
            "table.sort({1, 'a'})", "table.sort()",
            #"os.date("!%Y-%m-%d", 0)"#, #"os.date("%Ez", 0)"#, "os.date(1)",
            #"load("return 1 + 1")()"#, #"load("return +")"#, "load()",
            #"(function() local n = 0 return load(function() n = n + 1 if n == 1 then return "return 4" end end)() end)()"#,
            "load(function() return {} end)", #"load(function() error("in the reader") end)"#,
        ]
        let chunk = """
            local out = {}
            local function ser(ok, ...)
              local t = {ok and "ok" or "error"}
              for i = 1, select("#", ...) do t[#t + 1] = (tostring((select(i, ...))):gsub("[%z\\n]", { ["\\0"] = "\\\\0", ["\\n"] = "\\\\n" })) end
              return table.concat(t, "|")
            end
            local cases = {
            \(calls.map { "  function() return \($0) end," }.joined(separator: "\n"))
            }
            for i, f in ipairs(cases) do out[#out + 1] = ser(pcall(f)) end
            return table.concat(out, "\\n")
            """
        func evaluate(charged: Bool) -> [Substring] {
            // The limits keep their state in the allocator's user data: the charged state needs ours.
            let alloc = UnsafeMutablePointer<ss_alloc_state>.allocate(capacity: 1)
            alloc.initialize(to: ss_alloc_state(used: 0, limit: .max, enforcing: 0, exceeded: 0, stop_reason: 0))
            defer { alloc.deallocate() }
            guard let L = charged ? ss_new_state(alloc) : luaL_newstate() else { return ["no state"] }
            defer { lua_close(L) }
            luaL_openlibs(L)
            if charged {
                ss_open_charged_library(L)
                ss_set_budget(L, LuaState.defaultBudget, 0)
            }
            let status =
                ss_luaL_loadbuffer(L, chunk, chunk.utf8.count, "=t", "t") == LUA_OK ? ss_lua_pcall(L, 0, 1, 0) : -1
            let text = ss_lua_tostring(L, -1).map { String(cString: $0) } ?? "nil"
            if charged { ss_clear_budget(L) }
            return status == LUA_OK ? text.split(separator: "\n", omittingEmptySubsequences: false) : ["chunk: " + text]
        }
        let expected = evaluate(charged: false)
        let actual = evaluate(charged: true)
        XCTAssertEqual(expected.count, calls.count, expected.prefix(2).joined(separator: "\n"))
        for (call, (e, a)) in zip(calls, zip(expected, actual)) {
            // Tables print with their addresses: only the kind of answer can be compared there.
            if e.contains("table: ") {
                XCTAssertEqual(e.prefix(3), a.prefix(3), call)
            } else {
                XCTAssertEqual(e, a, call)
            }
        }
    }

    /// A plugin's call with a deadline inside a script's call without one (ss.exec running a hook): the
    /// inner call stops at its limit, the outer one goes on untouched; and an outer deadline still holds
    /// after an inner call has come and gone.
    func testCallsNestWithTheirOwnDeadlines() throws {
        let inner = try LuaState(flavor: .plugin)
        inner.timeLimitMilliseconds = 200
        let outer = try LuaState(flavor: .script)
        var innerFailure = ""
        outer.register(nil, "hook") { state in
            do {
                _ = try inner.run(
                    #"local s = "x" for i = 1, 24 do s = s .. s end while true do local _ = s .. "y" end"#,
                    chunkName: "=inner",
                    budget: .max
                )
            } catch {
                innerFailure = "\(error)"
            }
            return state.returning()
        }
        let result = try outer.run(
            "hook() local n = 0 for i = 1, 20000000 do n = n + 1 end return n",
            chunkName: "=outer",
            budget: .max
        )
        XCTAssertEqual(result, [.int(20_000_000)])
        XCTAssertTrue(innerFailure.contains("wall-clock"), innerFailure)

        outer.timeLimitMilliseconds = 400
        let start = Date()
        XCTAssertThrowsError(
            try outer.run(
                #"hook() local s = "x" for i = 1, 24 do s = s .. s end while true do local _ = s .. "y" end"#,
                chunkName: "=outer",
                budget: .max
            )
        ) {
            XCTAssertTrue("\($0)".contains("wall-clock"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.4 + 0.5)
    }
}
