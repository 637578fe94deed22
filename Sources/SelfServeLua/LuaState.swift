import CLua
import CSupport
import Foundation
import SelfServeCore

/// One sandboxed Lua 5.4 state: only the libraries the README's "Plugins and automation" lists, a memory cap through its own
/// allocator, an instruction budget per call through a count hook, and values converted to and from
/// `PlainValue`.
///
/// Lua errors never cross Swift frames: Lua runs only inside `lua_pcall`, and Swift functions exposed
/// to Lua go through the C trampoline of `CSupport`, which raises their errors from C.
public final class LuaState {
    public enum Flavor { case plugin, script }

    /// Why a call stopped, as the caller must report it.
    public enum Failure: Error, CustomStringConvertible {
        case error(message: String, value: PlainValue?)
        case budget(Int64)
        case memory(Int)
        case interrupted
        /// The call ran past its wall-clock limit (milliseconds).
        case timeout(Int)

        public var description: String {
            switch self {
            case .error(let message, _): return message
            case .budget(let n): return "stopped after its instruction budget of \(n) VM instructions"
            case .memory(let n): return "stopped at its memory cap of \(n >> 20) MiB"
            case .interrupted: return "interrupted"
            case .timeout(let ms): return "stopped at its wall-clock limit of \(ms) ms"
            }
        }
    }

    let L: OpaquePointer
    private var alloc: UnsafeMutablePointer<ss_alloc_state>
    public let memoryLimit: Int
    /// The wall-clock limit of each call, in milliseconds; nil for none (scripts, which Ctrl-C stops).
    public var timeLimitMilliseconds: Int?
    /// Swift functions reachable from Lua by index, so that the trampoline's context stays a plain integer.
    private var functions: [(OpaquePointer) -> Int32] = []
    private var handlerRef: Int32 = 0

    public static let defaultMemoryLimit = 64 << 20
    public static let defaultBudget: Int64 = 10_000_000

    public init(flavor: Flavor, memoryLimit: Int = LuaState.defaultMemoryLimit) throws {
        self.memoryLimit = memoryLimit
        alloc = .allocate(capacity: 1)
        alloc.initialize(to: ss_alloc_state(used: 0, limit: memoryLimit, enforcing: 0, exceeded: 0, stop_reason: 0))
        guard let state = ss_new_state(alloc) else {
            alloc.deallocate()
            throw SelfServeError.invalid("cannot create a Lua state")
        }
        L = state
        try openSandbox(flavor)
    }

    deinit {
        lua_close(L)
        alloc.deallocate()
    }

    // MARK: Sandbox

    private func openSandbox(_ flavor: Flavor) throws {
        let libraries: [(String, lua_CFunction)] = [
            ("_G", luaopen_base), ("string", luaopen_string), ("table", luaopen_table), ("math", luaopen_math),
            ("utf8", luaopen_utf8), ("os", luaopen_os), ("debug", luaopen_debug), ("io", luaopen_io),
        ]
        for (name, open) in libraries {
            luaL_requiref(L, name, open, 1)
            ss_lua_pop(L, 1)
        }
        // Pattern matching that counts its steps: Lua's own runs unbounded in C.
        ss_open_bounded_patterns(L)
        // Library functions whose one call can run long in C are charged for their work first.
        ss_open_charged_library(L)
        // Trim what must not be there, keeping private references the sandbox code needs.
        let prelude = """
            local getinfo, rawload, cg, open, lines, type, tostring, error = debug.getinfo, load, collectgarbage, io.open, io.lines, type, tostring, error
            local rawget, setmt = rawget, setmetatable
            local script = ...
            -- Finalizers run with hooks off, where no limit can stop them: none may be set. Lua marks an
            -- object for finalization only when setmetatable sees __gc, so checking here is enough.
            setmetatable = function(t, mt)
              if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
                error("setmetatable: __gc finalizers are not allowed", 2)
              end
              return setmt(t, mt)
            end
            -- Lua calls a message handler from inside the error it handles; when that error came from
            -- the limits' hook, hooks are off and nothing could stop the handler. So xpcall calls its
            -- handler after the protected call has returned, where the limits hold.
            local pcall, pack, unpack = pcall, table.pack, table.unpack
            xpcall = function(f, handler, ...)
              local r = pack(pcall(f, ...))
              if r[1] then return unpack(r, 1, r.n) end
              return false, handler(r[2])
            end
            -- Every string shares one metatable; nobody may change it (a __tostring there would run
            -- whenever an error message is made).
            getmetatable("").__metatable = false
            dofile, loadfile, debug, package, require = nil, nil, nil, nil, nil
            string.dump = nil
            os = { time = os.time, date = os.date, clock = os.clock }
            load = function(chunk, name, mode, env)
              if mode ~= nil and mode ~= "t" then error("load: only text chunks are allowed", 2) end
              if type(chunk) == "string" and chunk:sub(1, 1) == "\\27" then error("load: binary chunks are not allowed", 2) end
              return rawload(chunk, name, "t", env)
            end
            collectgarbage = function(opt, ...)
              if opt == "count" then return cg("count") end
              error("collectgarbage: only 'count' is allowed", 2)
            end
            if script then
              io = {
                open = function(path, mode)
                  mode = mode or "r"
                  if type(mode) ~= "string" or not mode:match("^r") or mode:find("+", 1, true) then
                    error("io.open: files can only be opened for reading", 2)
                  end
                  return open(path, mode)
                end,
                lines = function(path, ...)
                  if path == nil then error("io.lines: name a file", 2) end
                  -- The error names the script's line, not this wrapper's.
                  local ok, it, a, b, c = pcall(lines, path, ...)
                  if not ok then error((tostring(it):gsub("^sandbox:%d+: ", "")), 2) end
                  return it, a, b, c
                end,
              }
            else
              io = nil
            end
            -- The message handler: tables raised by ss.exec get the position of the Lua line that raised.
            -- It never calls a metamethod of the error value: it runs after a limit has stopped the call.
            return function(e)
              local t = type(e)
              if t == "string" then return e end
              if t == "table" then
                local code, message = rawget(e, "code"), rawget(e, "message")
                if type(message) ~= "string" then return "(error object is a table value)" end
                for level = 2, 30 do
                  local info = getinfo(level, "Sl")
                  if not info then break end
                  if info.what ~= "C" and (info.currentline or 0) > 0 then
                    return { code = code, message = message, where = info.short_src .. ":" .. info.currentline }
                  end
                end
                return { code = code, message = message }
              end
              if t == "number" or t == "boolean" or t == "nil" then return tostring(e) end
              return "(error object is a " .. t .. " value)"
            end
            """
        guard ss_luaL_loadbuffer(L, prelude, prelude.utf8.count, "=sandbox", "t") == LUA_OK else {
            throw SelfServeError.invalid("internal: sandbox prelude: \(popString())")
        }
        lua_pushboolean(L, flavor == .script ? 1 : 0)
        guard ss_lua_pcall(L, 1, 1, 0) == LUA_OK else {
            throw SelfServeError.invalid("internal: sandbox prelude: \(popString())")
        }
        handlerRef = luaL_ref(L, ss_lua_registryindex())
    }

    // MARK: Running

    /// Loads and runs a text chunk; returns its results.
    @discardableResult
    public func run(
        _ source: String,
        chunkName: String,
        arguments: [PlainValue] = [],
        results: Int32 = LUA_MULTRET,
        budget: Int64 = LuaState.defaultBudget
    ) throws -> [PlainValue] {
        let base = lua_gettop(L)
        try load(source, chunkName: chunkName)
        return try callLoaded(base: base, arguments: arguments, results: results, budget: budget)
    }

    /// Pushes a compiled text chunk, or throws its syntax error.
    private func load(_ source: String, chunkName: String) throws {
        guard ss_luaL_loadbuffer(L, source, source.utf8.count, chunkName, "t") == LUA_OK else {
            throw Failure.error(message: popString(), value: nil)
        }
    }

    /// Calls the function on top of the stack (pushed by the caller above `base`) with `arguments`.
    func callLoaded(base: Int32, arguments: [PlainValue], results: Int32, budget: Int64) throws -> [PlainValue] {
        _ = lua_checkstack(L, Int32(min(arguments.count, 10_000)) + 2)
        for a in arguments { push(a) }
        return try callPrepared(base: base, argumentCount: Int32(arguments.count), results: results, budget: budget)
    }

    /// Calls the function at `base + 1` with the `argumentCount` values above it; returns its results.
    func callPrepared(
        base: Int32,
        argumentCount: Int32,
        results: Int32 = LUA_MULTRET,
        budget: Int64
    ) throws -> [PlainValue] {
        try protectedCall(base: base, argumentCount: argumentCount, results: results, budget: budget)
        defer { lua_settop(L, base) }
        do {
            return try (base + 2..<lua_gettop(L) + 1).map { try convert($0) }
        } catch let e as ConversionError {
            throw Failure.error(message: "returned \(e), which is refused", value: nil)
        }
    }

    /// The one `lua_pcall` of this type: message handler below the function, instruction budget, memory
    /// cap enforced only while Lua runs. On success the results are left above the handler (`base + 1`);
    /// on failure the stack is back at `base` and the reason is thrown.
    private func protectedCall(base: Int32, argumentCount: Int32, results: Int32, budget: Int64) throws {
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(handlerRef))
        ss_lua_insert(L, base + 1)
        ss_set_budget(L, budget, Int64(timeLimitMilliseconds ?? 0))
        var savedSigint = sigaction()
        ss_sigint_enter(&savedSigint)
        alloc.pointee.exceeded = 0
        alloc.pointee.enforcing = 1
        let status = ss_lua_pcall(L, argumentCount, results, base + 1)
        alloc.pointee.enforcing = 0
        ss_sigint_leave(&savedSigint)
        ss_clear_budget(L)
        let stopReason = alloc.pointee.stop_reason
        // A stopped call has failed even when it returned: code that caught the stop (`pcall`, `load`
        // with a reader) can return right after, through a tail call, before the hook raises again.
        guard status != LUA_OK || stopReason != 0 else { return }
        defer { lua_settop(L, base) }
        if stopReason == 1 { throw Failure.budget(budget) }
        if stopReason == 2 { throw Failure.interrupted }
        if stopReason == 3 { throw Failure.timeout(timeLimitMilliseconds ?? 0) }
        if status == LUA_ERRMEM || alloc.pointee.exceeded != 0 { throw Failure.memory(memoryLimit) }
        if ss_lua_istable(L, -1) != 0 {
            let value = toValue(-1)
            let where_ = value["where"]?.stringValue.map { $0 + ": " } ?? ""
            throw Failure.error(message: where_ + (value["message"]?.stringValue ?? "error"), value: value)
        }
        throw Failure.error(message: ss_lua_tostring(L, -1).map { String(cString: $0) } ?? "error", value: nil)
    }

    /// Calls `table[field]` (a function) with arguments, where `table` is a registry reference.
    public func callField(
        _ tableRef: Int32,
        _ field: String,
        _ arguments: [PlainValue],
        budget: Int64 = LuaState.defaultBudget
    ) throws -> [PlainValue]? {
        let base = lua_gettop(L)
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(tableRef))
        lua_pushstring(L, field)
        lua_rawget(L, -2)
        ss_lua_remove(L, -2)
        guard ss_lua_isfunction(L, -1) != 0 else {
            lua_settop(L, base)
            return nil
        }
        return try callLoaded(base: base, arguments: arguments, results: LUA_MULTRET, budget: budget)
    }

    /// Runs the chunk and keeps its first result (a table) in the registry.
    public func loadTable(_ source: String, chunkName: String, budget: Int64 = LuaState.defaultBudget) throws -> Int32 {
        let base = lua_gettop(L)
        try load(source, chunkName: chunkName)
        try protectedCall(base: base, argumentCount: 0, results: 1, budget: budget)
        defer { lua_settop(L, base) }
        guard ss_lua_istable(L, -1) != 0 else {
            throw Failure.error(
                message: "the file must return a table (it returned \(String(cString: ss_lua_typename_at(L, -1))))",
                value: nil
            )
        }
        return luaL_ref(L, ss_lua_registryindex())
    }

    /// The keys of a referenced table with the type of each value ("function", "string", …).
    public func fieldTypes(_ ref: Int32) -> [(String, String)] {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(ref))
        var out: [(String, String)] = []
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            let key =
                lua_type(L, -2) == LUA_TSTRING
                ? String(cString: ss_lua_tostring(L, -2)) : "[\(String(cString: ss_lua_typename_at(L, -2)))]"
            out.append((key, String(cString: ss_lua_typename_at(L, -1))))
            ss_lua_pop(L, 1)
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// A field of a referenced table as a plain value, read raw (no metamethod runs).
    public func field(_ ref: Int32, _ name: String) throws -> PlainValue {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(ref))
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        return try convert(-1)
    }

    /// The names of the functions in a table field (`tests`).
    public func functionNames(_ ref: Int32, _ name: String) -> [String] {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(ref))
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        guard ss_lua_istable(L, -1) != 0 else { return [] }
        var names: [String] = []
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING && ss_lua_isfunction(L, -1) != 0 {
                names.append(String(cString: ss_lua_tostring(L, -2)))
            }
            ss_lua_pop(L, 1)
        }
        return names.sorted()
    }

    // MARK: Swift functions

    /// Sets `global[table][name]` (or the global `name` when `table` is nil) to a Swift function.
    /// The body reads its arguments from the stack and returns how many results it pushed, or -1
    /// after pushing an error value that the C trampoline raises.
    public func register(_ table: String?, _ name: String, _ body: @escaping (LuaState) -> Int32) {
        let index = functions.count
        functions.append { [unowned self] _ in body(self) }
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        ss_lua_pushglobaltable(L)
        if let table {
            lua_pushstring(L, table)
            lua_rawget(L, -2)
            if ss_lua_istable(L, -1) == 0 {
                ss_lua_pop(L, 1)
                ss_lua_newtable(L)
                lua_pushstring(L, table)
                lua_pushvalue(L, -2)
                lua_rawset(L, -4)
            }
        }
        lua_pushstring(L, name)
        // The context is unretained: the Lua state, and so the closure, never outlives this object.
        ss_push_swift_function(L, luaSwiftTrampoline, Unmanaged.passUnretained(self).toOpaque(), Int32(index))
        lua_rawset(L, -3)
    }

    /// Called by the trampoline with the index given at registration.
    fileprivate func invoke(_ index: Int) -> Int32 {
        let saved = alloc.pointee.enforcing
        alloc.pointee.enforcing = 0
        defer { alloc.pointee.enforcing = saved }
        guard index < functions.count else { return 0 }
        return functions[index](L)
    }

    // MARK: Arguments and results inside Swift functions

    public var argumentCount: Int32 { lua_gettop(L) }

    public func argument(_ i: Int32) -> PlainValue { toValue(i) }

    /// Pushes an error value for the trampoline to raise; returns -1 for the body to return.
    public func raise(_ value: PlainValue) -> Int32 {
        push(value)
        return -1
    }

    public func returning(_ values: PlainValue...) -> Int32 {
        for v in values { push(v) }
        return Int32(values.count)
    }

    // MARK: Conversion

    /// Pushes the string's UTF-8 bytes with their length: a NUL inside it is kept, not an end.
    func pushString(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// Pushes a value; tables nest as deep as the value does, and every level first makes room on the
    /// Lua stack (the API guarantees only LUA_MINSTACK free slots; Swift never raises, so it asks).
    public func push(_ v: PlainValue) {
        _ = lua_checkstack(L, 3)
        switch v {
        case .null: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, lua_Integer(i))
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): pushString(s)
        case .array(let items):
            lua_createtable(L, Int32(items.count), 0)
            for (i, item) in items.enumerated() {
                push(item)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .object(let pairs):
            lua_createtable(L, 0, Int32(pairs.count))
            for (k, item) in pairs {
                pushString(k)
                push(item)
                lua_rawset(L, -3)
            }
        }
    }

    /// The most values (tables, strings, numbers, …) one conversion reads, and how deep tables may nest.
    public static let maxConvertedValues = 100_000
    public static let maxConvertedDepth = 64

    /// Why a Lua value could not become a plain value.
    public enum ConversionError: Error, CustomStringConvertible {
        case cycle, tooLarge, tooDeep
        public var description: String {
            switch self {
            case .cycle: return "a table that contains itself"
            case .tooLarge: return "more than \(LuaState.maxConvertedValues) values"
            case .tooDeep: return "tables nested deeper than \(LuaState.maxConvertedDepth)"
            }
        }
    }

    /// Reads the value at `index`, or nil when it cannot be converted (see `convert`).
    public func toValue(_ index: Int32) -> PlainValue { (try? convert(index)) ?? .null }

    /// Reads the value at `index` without calling metamethods (no Lua error can be raised here). Cycles,
    /// more than `maxConvertedValues` values and deep nesting are refused, never walked: a table that
    /// refers to itself twice would otherwise be walked 2^depth times.
    public func convert(_ index: Int32) throws -> PlainValue {
        var remaining = Self.maxConvertedValues
        var path = Set<UnsafeRawPointer>()
        return try convert(lua_absindex(L, index), depth: 0, remaining: &remaining, path: &path)
    }

    private func convert(
        _ i: Int32,
        depth: Int,
        remaining: inout Int,
        path: inout Set<UnsafeRawPointer>
    ) throws -> PlainValue {
        remaining -= 1
        guard remaining >= 0 else { throw ConversionError.tooLarge }
        switch lua_type(L, i) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, i) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, i) != 0 { return .int(Int64(ss_lua_tointeger(L, i))) }
            return .double(ss_lua_tonumber(L, i))
        case LUA_TSTRING:
            var len = 0
            guard let p = lua_tolstring(L, i, &len) else { return .string("") }
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
        case LUA_TTABLE:
            guard depth < Self.maxConvertedDepth else { throw ConversionError.tooDeep }
            guard let identity = lua_topointer(L, i), path.insert(identity).inserted else {
                throw ConversionError.cycle
            }
            defer { path.remove(identity) }
            // Each level pushes a key, a value and the iteration's nil: the Lua API guarantees only
            // LUA_MINSTACK free slots, so ask for them — 60 levels deep wrote past the stack's end.
            guard lua_checkstack(L, 4) != 0 else { throw ConversionError.tooDeep }
            let base = lua_gettop(L)
            defer { lua_settop(L, base) }
            var pairs: [(PlainValue, PlainValue)] = []
            lua_pushnil(L)
            while lua_next(L, i) != 0 {
                let key: PlainValue
                switch lua_type(L, -2) {
                case LUA_TSTRING:
                    key = try convert(lua_absindex(L, -2), depth: depth + 1, remaining: &remaining, path: &path)
                case LUA_TNUMBER where lua_isinteger(L, -2) != 0: key = .int(Int64(ss_lua_tointeger(L, -2)))
                default: key = .null
                }
                if !key.isNull {
                    pairs.append(
                        (key, try convert(lua_absindex(L, -1), depth: depth + 1, remaining: &remaining, path: &path))
                    )
                }
                ss_lua_pop(L, 1)
            }
            let ints = pairs.compactMap { $0.0.intValue }.sorted()
            if !pairs.isEmpty && ints.count == pairs.count && ints == Array(1...Int64(ints.count)) {
                return .array(pairs.sorted { $0.0.intValue! < $1.0.intValue! }.map(\.1))
            }
            if pairs.isEmpty { return .array([]) }
            return .object(pairs.map { (k, v) in (k.stringValue ?? "\(k.intValue ?? 0)", v) }.sorted { $0.0 < $1.0 })
        default:
            return .string("<\(String(cString: ss_lua_typename_at(L, i)))>")
        }
    }

    private func popString() -> String {
        let s = ss_lua_tostring(L, -1).map { String(cString: $0) } ?? "error"
        ss_lua_pop(L, 1)
        return s
    }
}

/// The C-callable entry of every Swift function: `context` is the state, `tag` the function's index.
private let luaSwiftTrampoline: ss_swift_function = { L, context, tag in
    guard let context else { return 0 }
    return Unmanaged<LuaState>.fromOpaque(context).takeUnretainedValue().invoke(Int(tag))
}

extension LuaState {
    /// Runs a chunk with a referenced table and one more value as its arguments (`...`).
    func runWithTable(
        _ source: String,
        table: Int32,
        extra: PlainValue,
        budget: Int64 = LuaState.defaultBudget
    ) throws -> [PlainValue] {
        let base = lua_gettop(L)
        try load(source, chunkName: "=tests")
        // The table goes as a live Lua value, not a copy: the chunk calls its functions.
        lua_rawgeti(L, ss_lua_registryindex(), lua_Integer(table))
        push(extra)
        return try callPrepared(base: base, argumentCount: 2, budget: budget)
    }
}

extension LuaState {
    /// Ctrl-C sets a flag that the count hook checks: a running script stops cleanly.
    public static func clearInterrupt() { ss_sigint_clear() }
    /// Whether Ctrl-C was pressed since the flag was last cleared (only where the handler is installed).
    public static var interruptRequested: Bool { ss_sigint_received() != 0 }
}
