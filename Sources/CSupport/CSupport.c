#include "CSupport.h"
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int ss_trampoline(lua_State *L) {
    ss_swift_function fn = (ss_swift_function)lua_touserdata(L, lua_upvalueindex(1));
    void *context = lua_touserdata(L, lua_upvalueindex(2));
    int tag = (int)lua_tointegerx(L, lua_upvalueindex(3), NULL);
    int n = fn(L, context, tag);
    if (n < 0) {
        return lua_error(L); /* raised from C, never from Swift */
    }
    return n;
}

void ss_push_swift_function(lua_State *L, ss_swift_function fn, void *context, int tag) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, context);
    lua_pushinteger(L, tag);
    lua_pushcclosure(L, ss_trampoline, 3);
}

static void *ss_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    ss_alloc_state *st = (ss_alloc_state *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        st->used -= old;
        return NULL;
    }
    if (st->enforcing && nsize > old && st->used - old + nsize > st->limit) {
        st->exceeded = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) st->used = st->used - old + nsize;
    return p;
}

lua_State *ss_new_state(ss_alloc_state *alloc) {
    return lua_newstate(ss_alloc, alloc);
}

static volatile sig_atomic_t ss_sigint_flag = 0;

static unsigned long long ss_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void ss_count_hook(lua_State *L, lua_Debug *ar);

ss_budget *ss_current_budget(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "selfserve.budget");
    ss_budget *b = (ss_budget *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

/* Once a call is stopped it stays stopped: every later check raises again, so no plugin code (a
   message handler, a __close metamethod) can run long after its limit. */
void ss_charge(lua_State *L, ss_budget *b, long long steps) {
    if (!b) return;
    if (!b->stopped) {
        if (ss_sigint_flag) b->stopped = 2;
        else if ((b->remaining -= steps) <= 0) b->stopped = 1;
        else if (b->deadline_ns && ss_now_ns() >= b->deadline_ns) b->stopped = 3;
    }
    if (b->stopped) {
        void *ud = NULL;
        lua_getallocf(L, &ud);
        ((ss_alloc_state *)ud)->stop_reason = b->stopped;
        /* From now on at every instruction: a pcall inside the plugin that catches this error cannot
           keep a loop around it going for another thousand instructions at a time. */
        lua_sethook(L, ss_count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, b->stopped == 1 ? "instruction budget exceeded" : b->stopped == 2 ? "interrupted" : "wall-clock limit exceeded");
    }
}

static void ss_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    ss_charge(L, ss_current_budget(L), 1000);
}

void ss_set_budget(lua_State *L, long long budget, long long time_limit_ms) {
    ss_budget *b = (ss_budget *)lua_newuserdatauv(L, sizeof(ss_budget), 0);
    b->remaining = budget;
    b->deadline_ns = time_limit_ms > 0 ? ss_now_ns() + (unsigned long long)time_limit_ms * 1000000ull : 0;
    b->stopped = 0;
    void *ud = NULL;
    lua_getallocf(L, &ud);
    ((ss_alloc_state *)ud)->stop_reason = 0;
    lua_setfield(L, LUA_REGISTRYINDEX, "selfserve.budget");
    lua_sethook(L, ss_count_hook, LUA_MASKCOUNT, 1000);
}

void ss_clear_budget(lua_State *L) {
    lua_sethook(L, NULL, 0, 0);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "selfserve.budget");
}

static void ss_on_sigint(int sig) { (void)sig; ss_sigint_flag = 1; }

void ss_install_sigint_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ss_on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: readline() returns on Ctrl-C */
    sigaction(SIGINT, &sa, NULL);
}
void ss_sigint_enter(struct sigaction *saved) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ss_on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, saved);
}

void ss_sigint_leave(const struct sigaction *saved) { sigaction(SIGINT, saved, NULL); }

int ss_sigint_received(void) { return ss_sigint_flag != 0; }
void ss_sigint_clear(void) { ss_sigint_flag = 0; }
