#include "CSupport.h"
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <stdlib.h>

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
