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
} ss_alloc_state;
lua_State *ss_new_state(ss_alloc_state *alloc);

/// Installs a count hook that stops the running chunk after `budget` VM instructions (checked every
/// 1000) or when SIGINT was received. The reason is stored in `*stop_reason` (1 budget, 2 interrupt).
void ss_set_budget(lua_State *L, long long budget, int *stop_reason);
void ss_clear_budget(lua_State *L);

/// SIGINT handling without SA_RESTART: the handler only sets a flag.
void ss_install_sigint_handler(void);
int ss_sigint_received(void);
void ss_sigint_clear(void);
#endif
