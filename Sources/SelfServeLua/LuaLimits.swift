/// What one plugin call may use: VM instructions, memory, and wall-clock time. The wall-clock limit is
/// what keeps a plugin from holding the database's write lock: it holds whatever the plugin does.
public struct LuaLimits: Sendable, Equatable {
    public var budget: Int64
    public var memoryLimit: Int
    public var timeLimitMilliseconds: Int

    public static let defaultTimeLimitMilliseconds = 2000

    public init(
        budget: Int64 = LuaState.defaultBudget,
        memoryLimit: Int = LuaState.defaultMemoryLimit,
        timeLimitMilliseconds: Int = LuaLimits.defaultTimeLimitMilliseconds
    ) {
        self.budget = budget
        self.memoryLimit = memoryLimit
        self.timeLimitMilliseconds = timeLimitMilliseconds
    }

    /// `SELFSERVE_LUA_BUDGET` (instructions), `SELFSERVE_LUA_MEMORY_MB`, `SELFSERVE_LUA_TIMEOUT_MS`; a value
    /// that is not a positive whole number keeps the default.
    public init(environment: [String: String]) {
        func positive(_ key: String) -> Int64? { environment[key].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } }
        self.init(
            budget: positive("SELFSERVE_LUA_BUDGET") ?? LuaState.defaultBudget,
            memoryLimit: positive("SELFSERVE_LUA_MEMORY_MB").map { Int(min($0, 1 << 20)) << 20 }
                ?? LuaState.defaultMemoryLimit,
            timeLimitMilliseconds: positive("SELFSERVE_LUA_TIMEOUT_MS").map { Int(min($0, 3_600_000)) }
                ?? Self.defaultTimeLimitMilliseconds
        )
    }
}
