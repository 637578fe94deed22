import SelfServeCommands
import SelfServeCore
import SelfServeLua
import SelfServeStore

extension LuaPolicyEngine: SessionPolicy {}

extension Backends {
    /// selfserve as shipped: a SQLite file, Lua policy plugins, and Ctrl-C as the C signal handler
    /// records it. The one place that names them (the composition root); the executor knows only
    /// `SelfServeDatabase`, `Store` and `SessionPolicy`.
    public static var standard: Backends {
        Backends(
            open: SQLiteDatabase.open,
            policy: { session in
                let engine = LuaPolicyEngine(limits: LuaLimits(environment: session.environment))
                // Weak: the session owns the engine.
                engine.api.clock = { [weak session] in (try? session?.clock()) ?? SystemClock() }
                engine.api.withStore = { [weak session] body in
                    guard let session else { throw SelfServeError.invalid("the session has ended") }
                    return try session.withStore(body)
                }
                return engine
            },
            interrupted: { LuaState.interruptRequested }
        )
    }
}
