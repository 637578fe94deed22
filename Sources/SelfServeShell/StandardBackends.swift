import SelfServeCommands
import SelfServeCore
import SelfServeLua
import SelfServePostgres
import SelfServeStore

extension LuaPolicyEngine: SessionPolicy {}

extension Backends {
    /// selfserve as shipped: a SQLite file or a PostgreSQL database, Lua policy plugins, and Ctrl-C as
    /// the C signal handler records it. The one place that names them (the composition root); the executor knows only
    /// `SelfServeDatabase`, `Store` and `SessionPolicy`.
    public static var standard: Backends {
        Backends(
            open: { location, create, interrupted in
                // libpq is loaded only here, when a PostgreSQL database is named (SelfServePostgres).
                if Paths.isPostgreSQL(location) {
                    return try PostgresDatabase.open(location, create: create, interrupted: interrupted)
                }
                return try SQLiteDatabase.open(location, create: create, interrupted: interrupted)
            },
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
