import SelfServeCommands
import SelfServeCore
import SelfServeLua
import SelfServePostgres
import SelfServeStore

extension LuaPolicyEngine: SessionPolicy {}

extension Backends {
    /// selfserve as shipped: a SQLite file, Lua policy plugins, and Ctrl-C as the C signal handler
    /// records it. The one place that names them (the composition root); the executor knows only
    /// `SelfServeDatabase`, `Store` and `SessionPolicy`.
    public static var standard: Backends {
        Backends(
            open: { location, create, interrupted in
                guard !Paths.isPostgreSQL(location) else {
                    // The connection layer (SelfServePostgres) is tested against a real server; the
                    // PostgreSQL store is not there yet, and a half-working one must not hold money.
                    throw SelfServeError.invalid(
                        "this selfserve cannot keep an organization in PostgreSQL yet (\(PGConnection.redacted(location))); use a SQLite file (--db PATH)"
                    )
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
