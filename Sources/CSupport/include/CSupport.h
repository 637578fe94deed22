#ifndef SELFSERVE_CSUPPORT_H
#define SELFSERVE_CSUPPORT_H
// The C that Swift must not do itself.
//
// Lua reports errors with longjmp; jumping across Swift frames is undefined behaviour. So every Swift
// function exposed to Lua goes through `ss_trampoline`, a C closure that calls the Swift callback and,
// when the callback asks for it, raises the error itself, from C. Swift never calls lua_error.
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

typedef struct lua_State lua_State;

/// A Swift function callable from Lua. Returns the number of results pushed, or -1 when it pushed an
/// error value that the trampoline must raise.
typedef int (*ss_swift_function)(lua_State *L, void *context, int tag);

/// Pushes a C closure that calls `fn(L, context, tag)`. `context` stays owned by the caller.
void ss_push_swift_function(lua_State *L, ss_swift_function fn, void *context, int tag);

/// A Lua state whose allocator refuses to grow past `limit` bytes while `enforcing` is set.
/// `enforcing` is cleared while Swift code runs on the state, so that pushing a value from Swift
/// can never raise a memory error across Swift frames.
typedef struct ss_alloc_state {
    size_t used;
    size_t limit;
    int enforcing;
    int exceeded;
    /// Why the last budgeted call stopped: 0 it did not, 1 budget, 2 interrupt, 3 wall clock. Kept
    /// here, in the state's own C struct, so that no pointer to a Swift local outlives the call.
    int stop_reason;
} ss_alloc_state;
lua_State *ss_new_state(ss_alloc_state *alloc);

/// The limits of one protected call: VM instructions left, a wall-clock deadline, and why it stopped.
typedef struct ss_budget {
    long long remaining;
    unsigned long long deadline_ns; /* CLOCK_MONOTONIC; 0 for none */
    int stopped;                    /* 0 running, 1 budget, 2 interrupt, 3 wall clock */
    /// Instructions between two runs of the count hook: 1000, or 1 once a signal poked the call or it
    /// stopped. Written by signal handlers.
    volatile sig_atomic_t hook_period;
    /// The call this one runs inside on the same thread (a plugin's hook under a script), if any.
    struct ss_budget *outer;
    lua_State *outer_state;
} ss_budget;

/// Installs a count hook that stops the running chunk after `budget` VM instructions (checked every
/// 1000), after `time_limit_ms` milliseconds of wall-clock time (0: none; a per-thread timer's signal
/// makes the hook run at the next instruction once it passes) or when SIGINT was received. The reason
/// is stored in the state's `ss_alloc_state.stop_reason` (reset here). Calls nest on a thread;
/// `ss_clear_budget` ends the innermost.
void ss_set_budget(lua_State *L, long long budget, long long time_limit_ms);
void ss_clear_budget(lua_State *L);
/// The limits of the call running on `L`, or NULL outside a budgeted call.
ss_budget *ss_current_budget(lua_State *L);
/// Counts `steps` of work done in C against the call's limits; raises (from C) once one is passed.
void ss_charge(lua_State *L, ss_budget *b, long long steps);

/// Replaces the library functions whose one call can run long in C (string.rep, table.move,
/// table.sort, os.date, load, …) with versions that first charge the work their arguments ask for
/// against the call's limits.
void ss_open_charged_library(lua_State *L);

/// Replaces string.find, string.match, string.gmatch and string.gsub of the state with versions whose
/// matching counts its steps against the call's limits: Lua's own matcher backtracks without bound
/// and runs in C, where no hook can stop it.
void ss_open_bounded_patterns(lua_State *L);

/// SIGINT handling without SA_RESTART: the handler only sets a flag.
void ss_install_sigint_handler(void);
/// For the length of one call, as lua.c's `docall` does: installs the flag-setting handler and saves
/// the disposition it replaces in `saved`; `ss_sigint_leave` puts that back (a one-shot `run` is
/// stopped cleanly by Ctrl-C inside Lua, and killed by it as usual outside).
void ss_sigint_enter(struct sigaction *saved);
void ss_sigint_leave(const struct sigaction *saved);
int ss_sigint_received(void);
void ss_sigint_clear(void);

/// Process-wide SQLite settings (SQLiteSettings.c), made once before the first connection opens.
/// SQLITE_OK, or SQLite's error when the library was already in use.
int ss_configure_sqlite(void);
#endif
