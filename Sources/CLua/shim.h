#ifndef SELFSERVE_CLUA_SHIM_H
#define SELFSERVE_CLUA_SHIM_H
// Lua 5.4 as Swift sees it. Many entries of the Lua API are C macros, which Swift cannot import:
// they are re-exported here as static inline functions with the same names prefixed `ss_`.
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>

static inline int ss_lua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcallk(L, nargs, nresults, msgh, 0, NULL);
}
static inline void ss_lua_pop(lua_State *L, int n) { lua_settop(L, -(n) - 1); }
static inline void ss_lua_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline const char *ss_lua_tostring(lua_State *L, int i) { return lua_tolstring(L, i, NULL); }
static inline lua_Number ss_lua_tonumber(lua_State *L, int i) { return lua_tonumberx(L, i, NULL); }
static inline lua_Integer ss_lua_tointeger(lua_State *L, int i) { return lua_tointegerx(L, i, NULL); }
static inline int ss_lua_isnil(lua_State *L, int i) { return lua_type(L, i) == LUA_TNIL; }
static inline int ss_lua_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }
static inline int ss_lua_istable(lua_State *L, int i) { return lua_type(L, i) == LUA_TTABLE; }
static inline int ss_lua_isfunction(lua_State *L, int i) { return lua_type(L, i) == LUA_TFUNCTION; }
static inline void ss_lua_pushglobaltable(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
static inline int ss_lua_upvalueindex(int i) { return LUA_REGISTRYINDEX - i; }
static inline int ss_lua_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void ss_lua_remove(lua_State *L, int i) { lua_rotate(L, i, -1); lua_settop(L, -2); }
static inline void ss_lua_insert(lua_State *L, int i) { lua_rotate(L, i, 1); }
static inline int ss_luaL_loadbuffer(lua_State *L, const char *buf, size_t sz, const char *name, const char *mode) {
    return luaL_loadbufferx(L, buf, sz, name, mode);
}
static inline const char *ss_lua_typename_at(lua_State *L, int i) { return lua_typename(L, lua_type(L, i)); }

#endif
