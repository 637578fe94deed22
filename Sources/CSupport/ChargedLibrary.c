// Library functions charged for their work before they run.
//
// The count hook and the deadline's signal stop a call at its next VM instruction, but a C function of
// Lua's library runs to its end once called: `string.rep("", 1e15)` and `table.move({}, 1, 1e15, 2)`
// loop for days, `table.sort` of a few million entries or `os.date` of a long format take seconds, all
// in one call. Each function below is replaced by a closure that first works out, from its arguments
// alone, how much work the call asks for and charges it against the call's limits (`ss_charge`), then
// runs Lua's own function in the same frame — its results and its error messages are unchanged. A step
// is about one VM instruction: one element moved or compared, one byte formatted or decoded, sixteen
// bytes copied. The pattern functions count their steps as they go instead (BoundedPatterns.c).
#include "CSupport.h"
#include <limits.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>

/* The steps a call of the function at the bottom of the stack asks for. It never raises for an
   argument of the wrong type (that is left to Lua's function, with its own message); it may call a
   __len metamethod, as Lua's function then does again. */
typedef long long (*ss_cost)(lua_State *L);

static long long add(long long a, long long b) { return a > LLONG_MAX - b ? LLONG_MAX : a + b; }
static long long mul(long long a, long long b) { return a != 0 && b > LLONG_MAX / a ? LLONG_MAX : a * b; }

/* The integer at `i`, `absent` when there is none or it is not an integer (Lua's function decides). */
static lua_Integer integer_at(lua_State *L, int i, lua_Integer absent) {
    int is_integer = 0;
    lua_Integer n = lua_tointegerx(L, i, &is_integer);
    return is_integer ? n : absent;
}

/* Bytes of the string at `i` (0 for anything else, numbers included: they are short). */
static long long bytes_at(lua_State *L, int i) { return lua_type(L, i) == LUA_TSTRING ? (long long)lua_rawlen(L, i) : 0; }

/* The length of the table at `i` as the table library sees it (through __len); 0 for a non-table. */
static long long length_at(lua_State *L, int i) {
    if (lua_type(L, i) != LUA_TTABLE) return 0;
    lua_Integer n = luaL_len(L, i);
    return n > 0 ? n : 0;
}

/* Elements from `first` to `last`, both included. */
static long long span(lua_Integer first, lua_Integer last) {
    if (last < first) return 0;
    lua_Unsigned n = (lua_Unsigned)last - (lua_Unsigned)first;
    return n >= (lua_Unsigned)LLONG_MAX ? LLONG_MAX : (long long)n + 1;
}

static long long rep_cost(lua_State *L) {
    lua_Integer n = integer_at(L, 2, 0);
    if (n <= 0) return 0;
    return add(n, mul(n, add(bytes_at(L, 1), bytes_at(L, 3))) / 16);
}

/* %q escapes a string byte by byte, some bytes through snprintf: a few steps a byte of every string
   argument (the format included). */
static long long format_cost(lua_State *L) {
    long long bytes = 0;
    for (int i = 1, top = lua_gettop(L); i <= top; i++) bytes = add(bytes, bytes_at(L, i));
    return mul(bytes, 4);
}

/* A loop over the bytes of the subject (upper, lower, reverse, utf8.len). */
static long long byte_loop_cost(lua_State *L) { return bytes_at(L, 1) / 4; }
/* string.pack's format: each byte is an option to read and act on. */
static long long format_string_cost(lua_State *L) { return bytes_at(L, 1); }

static long long move_cost(lua_State *L) { return span(integer_at(L, 2, 1), integer_at(L, 3, 0)); }

static long long insert_cost(lua_State *L) {
    if (lua_gettop(L) != 3) return 0; /* appending moves nothing */
    return span(integer_at(L, 2, LUA_MAXINTEGER), length_at(L, 1));
}

static long long remove_cost(lua_State *L) {
    if (lua_gettop(L) < 2) return 0; /* the last element: nothing moves */
    return span(integer_at(L, 2, LUA_MAXINTEGER), length_at(L, 1));
}

static long long concat_cost(lua_State *L) {
    lua_Integer first = integer_at(L, 3, 1);
    lua_Integer last = lua_isnoneornil(L, 4) ? length_at(L, 1) : integer_at(L, 4, 0);
    return span(first, last);
}

/* n·log2 n comparisons, four steps each: two strings compare through strcoll (350,000 short strings
   took 0.4 s to sort). */
static long long sort_cost(lua_State *L) {
    long long n = length_at(L, 1), log2n = 1;
    while (log2n < 63 && (1LL << log2n) < n) log2n++;
    return mul(mul(n, log2n), 4);
}

/* Each conversion of os.date's format is a strftime call: several steps per byte. */
static long long date_cost(lua_State *L) { return mul(bytes_at(L, 1), 8); }

/* Compiling dense code costs up to ~40 ns a byte (a 19 MB chunk of `a=1 ` took 0.7 s): four steps a
   byte of source. */
static long long source_cost(lua_State *L, int i) { return mul(bytes_at(L, i), 4); }

static int charged_reader(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    long long steps = source_cost(L, -1);
    if (steps > 0) ss_charge(L, ss_current_budget(L), steps);
    return 1;
}

/* A chunk given as a function is read piece by piece inside the call: each piece is charged as it
   arrives. */
static long long load_cost(lua_State *L) {
    if (lua_type(L, 1) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushcclosure(L, charged_reader, 1);
        lua_replace(L, 1);
        return 0;
    }
    return source_cost(L, 1);
}

static int charged(lua_State *L) {
    ss_cost cost = (ss_cost)lua_touserdata(L, lua_upvalueindex(2));
    long long steps = cost(L);
    if (steps > 0) ss_charge(L, ss_current_budget(L), steps);
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

void ss_open_charged_library(lua_State *L) {
    static const struct {
        const char *library, *name;
        ss_cost cost;
    } functions[] = {
        {"string", "rep", rep_cost},         {"string", "format", format_cost}, {"string", "upper", byte_loop_cost},
        {"string", "lower", byte_loop_cost}, {"string", "reverse", byte_loop_cost},
        {"string", "pack", format_string_cost}, {"string", "unpack", format_string_cost},
        {"string", "packsize", format_string_cost}, {"utf8", "len", byte_loop_cost},
        {"table", "move", move_cost},        {"table", "insert", insert_cost},  {"table", "remove", remove_cost},
        {"table", "concat", concat_cost},    {"table", "sort", sort_cost},      {"os", "date", date_cost},
        {"_G", "load", load_cost},
    };
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        lua_getglobal(L, functions[i].library);
        lua_getfield(L, -1, functions[i].name);
        if (!lua_tocfunction(L, -1)) { /* not Lua's own C function: nothing of it to call */
            lua_pop(L, 2);
            continue;
        }
        lua_pushlightuserdata(L, (void *)functions[i].cost);
        lua_pushcclosure(L, charged, 2);
        lua_setfield(L, -2, functions[i].name);
        lua_pop(L, 1);
    }
}
