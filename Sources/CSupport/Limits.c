// The limits of one protected call: an instruction budget, a wall-clock deadline, and Ctrl-C.
//
// A count hook charges the budget and looks at the clock every SS_HOOK_PERIOD VM instructions. That
// alone does not bound wall-clock time: one instruction can take long (comparing two 30 MB strings;
// calling table.concat on a large table), so a thousand of them can take seconds. So a call with a
// deadline also arms a per-thread POSIX timer for it; at the deadline the timer's signal handler does
// what lua.c's SIGINT handler does — only lua_sethook, which the manual allows in a signal handler — so
// that the hook runs at the very next instruction and stops the call. What the hook cannot reach, a C
// function that runs long without returning to the VM, is charged for its work up front
// (ChargedLibrary.c, BoundedPatterns.c).
#define _GNU_SOURCE
#include "CSupport.h"
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SS_HOOK_PERIOD 1000
#ifndef sigev_notify_thread_id /* glibc before 2.41 names the member only in the kernel's header */
#define sigev_notify_thread_id _sigev_un._tid
#endif
/* SIGURG is ignored by default: a timer signal that arrives where no handler is installed is harmless,
   and nothing else in this process uses it. */
#define SS_DEADLINE_SIGNAL SIGURG

static volatile sig_atomic_t ss_sigint_flag = 0;

/* The call running on this thread, for the signal handlers; a plugin called from a script nests. */
static __thread lua_State *armed_state __attribute__((tls_model("initial-exec")));
static __thread ss_budget *armed_budget __attribute__((tls_model("initial-exec")));

static unsigned long long ss_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void ss_count_hook(lua_State *L, lua_Debug *ar);

/* Runs the count hook every `period` instructions; `hook_period` says so, for the hook to charge
   (async-signal-safe: lua_sethook and a store). */
static void set_hook_period(lua_State *L, ss_budget *b, int period) {
    b->hook_period = period;
    lua_sethook(L, ss_count_hook, LUA_MASKCOUNT, period);
}

/* Makes the hook run at the next instruction of the armed call. */
static void poke_armed_call(void) {
    ss_budget *b = armed_budget;
    lua_State *L = armed_state;
    if (b && L) set_hook_period(L, b, 1);
}

/* Where the state keeps why its last budgeted call stopped. */
static ss_alloc_state *alloc_state(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (ss_alloc_state *)ud;
}

// MARK: The deadline's timer

#ifdef SIGEV_THREAD_ID
static __thread timer_t thread_timer;
static __thread int thread_timer_state; /* 0 not made, 1 made, -1 cannot be made here */
static pthread_key_t timer_key;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void on_deadline(int sig) {
    (void)sig;
    poke_armed_call();
}

static void delete_thread_timer(void *unused) {
    (void)unused;
    if (thread_timer_state == 1) timer_delete(thread_timer);
    thread_timer_state = 0;
}

static void set_up_process(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_deadline;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* a read or write the signal lands in goes on */
    sigaction(SS_DEADLINE_SIGNAL, &sa, NULL);
    pthread_key_create(&timer_key, delete_thread_timer);
}

static int thread_timer_ready(void) {
    if (thread_timer_state == 0) {
        pthread_once(&process_once, set_up_process);
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SS_DEADLINE_SIGNAL;
        sev.sigev_notify_thread_id = gettid();
        thread_timer_state = timer_create(CLOCK_MONOTONIC, &sev, &thread_timer) == 0 ? 1 : -1;
        if (thread_timer_state == 1) pthread_setspecific(timer_key, &thread_timer);
    }
    return thread_timer_state == 1;
}

/* Arms this thread's timer for `deadline_ns` (CLOCK_MONOTONIC), or disarms it for 0. */
static void set_alarm(unsigned long long deadline_ns) {
    if (deadline_ns == 0 && thread_timer_state != 1) return;
    if (!thread_timer_ready()) return; /* the count hook still looks at the clock */
    struct itimerspec at;
    memset(&at, 0, sizeof at);
    at.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
    at.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
    timer_settime(thread_timer, TIMER_ABSTIME, &at, NULL);
}
#else
static void set_alarm(unsigned long long deadline_ns) { (void)deadline_ns; }
#endif

// MARK: Budget

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
        /* `steps` may be any size (work charged up front), so it is compared, never subtracted blindly. */
        if (ss_sigint_flag) b->stopped = 2;
        else if (steps >= b->remaining) {
            b->remaining = 0;
            b->stopped = 1;
        } else {
            b->remaining -= steps;
            if (b->deadline_ns && ss_now_ns() >= b->deadline_ns) b->stopped = 3;
        }
    }
    if (b->stopped) {
        alloc_state(L)->stop_reason = b->stopped;
        /* From now on at every instruction: a pcall inside the plugin that catches this error cannot
           keep a loop around it going for another thousand instructions at a time. */
        set_hook_period(L, b, 1);
        luaL_error(L, b->stopped == 1 ? "instruction budget exceeded" : b->stopped == 2 ? "interrupted" : "wall-clock limit exceeded");
    }
}

static void ss_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    ss_budget *b = ss_current_budget(L);
    if (!b) {
        /* A signal that came just as a call ended: no call runs on this state, nothing to stop. */
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    long long steps = b->hook_period;
    /* Poked by a signal, or by a timer that fired for another call: back to the usual period. */
    if (!b->stopped && steps != SS_HOOK_PERIOD) set_hook_period(L, b, SS_HOOK_PERIOD);
    ss_charge(L, b, steps);
}

void ss_set_budget(lua_State *L, long long budget, long long time_limit_ms) {
    ss_budget *b = (ss_budget *)lua_newuserdatauv(L, sizeof(ss_budget), 0);
    b->remaining = budget;
    b->deadline_ns = time_limit_ms > 0 ? ss_now_ns() + (unsigned long long)time_limit_ms * 1000000ull : 0;
    b->stopped = 0;
    b->outer = armed_budget;
    b->outer_state = armed_state;
    alloc_state(L)->stop_reason = 0;
    lua_setfield(L, LUA_REGISTRYINDEX, "selfserve.budget");
    set_hook_period(L, b, SS_HOOK_PERIOD);
    armed_state = L;
    armed_budget = b;
    if (b->deadline_ns) set_alarm(b->deadline_ns);
}

void ss_clear_budget(lua_State *L) {
    ss_budget *b = ss_current_budget(L);
    if (b && armed_budget == b) {
        /* The outer call first, so that a signal from here on pokes the call it belongs to. */
        armed_state = b->outer_state;
        armed_budget = b->outer;
        unsigned long long outer_deadline = b->outer ? b->outer->deadline_ns : 0;
        if (b->deadline_ns || outer_deadline) set_alarm(outer_deadline);
    }
    lua_sethook(L, NULL, 0, 0);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "selfserve.budget");
}

// MARK: Ctrl-C

static void ss_on_sigint(int sig) {
    (void)sig;
    ss_sigint_flag = 1;
    poke_armed_call();
}

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
