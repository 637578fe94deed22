// Lua 5.4 pattern matching (string.find, match, gmatch, gsub) whose every step counts against the
// limits of the running call.
//
// Lua's own matcher is a backtracking matcher written in C: `("a"):rep(2e5):find(".-.-.-.-b")` runs
// for hours, and no count hook fires inside a C function. This one implements the same pattern
// language (as the Lua 5.4 manual, section 6.4.1, defines it) with the same results, and calls
// `ss_charge` every 1024 steps, so a pathological pattern stops at the instruction budget, the
// wall-clock limit or Ctrl-C like any loop in Lua.
#include "CSupport.h"
#include <ctype.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <string.h>

#define SS_MAXCAPTURES 32
#define SS_CAP_UNFINISHED (-1)
#define SS_CAP_POSITION (-2)
#define SS_MAXDEPTH 200
#define SS_SPECIALS "^$*+?.([%-"
#define SS_STEPS 1024

typedef struct {
    const char *src_init, *src_end, *p_end;
    lua_State *L;
    ss_budget *budget;
    unsigned steps;
    int depth;
    int level;
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[SS_MAXCAPTURES];
} Matcher;

static inline unsigned char uc(char c) { return (unsigned char)c; }

static inline void tick(Matcher *m) {
    if (++m->steps == SS_STEPS) {
        m->steps = 0;
        ss_charge(m->L, m->budget, SS_STEPS);
    }
}

static const char *do_match(Matcher *m, const char *s, const char *p);

static int class_matches(int c, int cl) {
    int res;
    switch (tolower(cl)) {
    case 'a': res = isalpha(c); break;
    case 'c': res = iscntrl(c); break;
    case 'd': res = isdigit(c); break;
    case 'g': res = isgraph(c); break;
    case 'l': res = islower(c); break;
    case 'p': res = ispunct(c); break;
    case 's': res = isspace(c); break;
    case 'u': res = isupper(c); break;
    case 'w': res = isalnum(c); break;
    case 'x': res = isxdigit(c); break;
    default: return cl == c;
    }
    return isupper(cl) ? !res : res;
}

/* Where the single-character class starting at p ends. */
static const char *class_end(Matcher *m, const char *p) {
    switch (*p++) {
    case '%':
        if (p == m->p_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (*p == '^') p++;
        do { /* the first character after '[' (or '[^') is literal, even ']' */
            if (p == m->p_end) luaL_error(m->L, "malformed pattern (missing ']')");
            if (*(p++) == '%' && p < m->p_end) p++;
        } while (*p != ']');
        return p + 1;
    default:
        return p;
    }
}

/* p is at '[', close at the matching ']'. */
static int set_matches(int c, const char *p, const char *close) {
    int found = 1;
    if (*(p + 1) == '^') {
        found = 0;
        p++;
    }
    while (++p < close) {
        if (*p == '%') {
            p++;
            if (class_matches(c, uc(*p))) return found;
        } else if (*(p + 1) == '-' && p + 2 < close) {
            p += 2;
            if (uc(*(p - 2)) <= c && c <= uc(*p)) return found;
        } else if (uc(*p) == c) {
            return found;
        }
    }
    return !found;
}

static int single_matches(Matcher *m, const char *s, const char *p, const char *ep) {
    if (s >= m->src_end) return 0;
    int c = uc(*s);
    switch (*p) {
    case '.': return 1;
    case '%': return class_matches(c, uc(*(p + 1)));
    case '[': return set_matches(c, p, ep - 1);
    default: return uc(*p) == c;
    }
}

static const char *match_balance(Matcher *m, const char *s, const char *p) {
    if (p >= m->p_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != *p) return NULL;
    int open = *p, close = *(p + 1), depth = 1;
    while (++s < m->src_end) {
        tick(m);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *max_expand(Matcher *m, const char *s, const char *p, const char *ep) {
    ptrdiff_t i = 0;
    while (single_matches(m, s + i, p, ep)) {
        tick(m);
        i++;
    }
    for (; i >= 0; i--) { /* the longest repetition that lets the rest match */
        tick(m);
        const char *res = do_match(m, s + i, ep + 1);
        if (res) return res;
    }
    return NULL;
}

static const char *min_expand(Matcher *m, const char *s, const char *p, const char *ep) {
    for (;;) {
        tick(m);
        const char *res = do_match(m, s, ep + 1);
        if (res) return res;
        if (!single_matches(m, s, p, ep)) return NULL;
        s++;
    }
}

static const char *start_capture(Matcher *m, const char *s, const char *p, ptrdiff_t what) {
    if (m->level >= SS_MAXCAPTURES) luaL_error(m->L, "too many captures");
    m->capture[m->level].init = s;
    m->capture[m->level].len = what;
    m->level++;
    const char *res = do_match(m, s, p);
    if (!res) m->level--;
    return res;
}

static const char *end_capture(Matcher *m, const char *s, const char *p) {
    int l = m->level - 1;
    while (l >= 0 && m->capture[l].len != SS_CAP_UNFINISHED) l--;
    if (l < 0) luaL_error(m->L, "invalid pattern capture");
    m->capture[l].len = s - m->capture[l].init;
    const char *res = do_match(m, s, p);
    if (!res) m->capture[l].len = SS_CAP_UNFINISHED;
    return res;
}

static int capture_index(Matcher *m, int c) {
    int l = c - '1';
    if (l < 0 || l >= m->level || m->capture[l].len == SS_CAP_UNFINISHED)
        return luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *match_capture(Matcher *m, const char *s, int c) {
    int l = capture_index(m, c);
    size_t len = (size_t)m->capture[l].len;
    if ((size_t)(m->src_end - s) >= len && memcmp(m->capture[l].init, s, len) == 0) return s + len;
    return NULL;
}

static const char *do_match(Matcher *m, const char *s, const char *p) {
    if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
    for (;;) {
        tick(m);
        if (p == m->p_end) break;
        if (*p == '(') {
            s = *(p + 1) == ')' ? start_capture(m, s, p + 2, SS_CAP_POSITION) : start_capture(m, s, p + 1, SS_CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            s = end_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->p_end) {
            if (s != m->src_end) s = NULL;
            break;
        }
        if (*p == '%' && *(p + 1) == 'b') {
            s = match_balance(m, s, p + 2);
            if (s) {
                p += 4;
                continue;
            }
            break;
        }
        if (*p == '%' && *(p + 1) == 'f') {
            p += 2;
            if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
            const char *ep = class_end(m, p);
            int previous = s == m->src_init ? 0 : uc(*(s - 1));
            int current = s < m->src_end ? uc(*s) : 0;
            if (!set_matches(previous, p, ep - 1) && set_matches(current, p, ep - 1)) {
                p = ep;
                continue;
            }
            s = NULL;
            break;
        }
        if (*p == '%' && isdigit(uc(*(p + 1)))) {
            s = match_capture(m, s, uc(*(p + 1)));
            if (s) {
                p += 2;
                continue;
            }
            break;
        }
        const char *ep = class_end(m, p);
        if (!single_matches(m, s, p, ep)) {
            if (*ep == '*' || *ep == '?' || *ep == '-') { /* zero repetitions are fine */
                p = ep + 1;
                continue;
            }
            s = NULL;
            break;
        }
        if (*ep == '?') {
            const char *res = do_match(m, s + 1, ep + 1);
            if (res) {
                s = res;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (*ep == '+') {
            s = max_expand(m, s + 1, p, ep);
            break;
        }
        if (*ep == '*') {
            s = max_expand(m, s, p, ep);
            break;
        }
        if (*ep == '-') {
            s = min_expand(m, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    m->depth++;
    return s;
}

static void prepare(Matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    m->L = L;
    m->budget = ss_current_budget(L);
    m->steps = 0;
    m->src_init = s;
    m->src_end = s + ls;
    m->p_end = p + lp;
}

static void restart(Matcher *m) {
    m->level = 0;
    m->depth = SS_MAXDEPTH;
}

static void push_one_capture(Matcher *m, int i, const char *s, const char *e) {
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s)); /* the whole match */
        return;
    }
    ptrdiff_t len = m->capture[i].len;
    if (len == SS_CAP_UNFINISHED) luaL_error(m->L, "unfinished capture");
    if (len == SS_CAP_POSITION)
        lua_pushinteger(m->L, (m->capture[i].init - m->src_init) + 1);
    else
        lua_pushlstring(m->L, m->capture[i].init, (size_t)len);
}

static int push_captures(Matcher *m, const char *s, const char *e) {
    int n = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_one_capture(m, i, s, e);
    return n;
}

static size_t start_position(lua_Integer pos, size_t len) {
    if (pos > 0) return (size_t)pos;
    if (pos == 0) return 1;
    if (pos < -(lua_Integer)len) return 1;
    return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t lp) {
    size_t at = 0;
    do {
        if (strpbrk(p + at, SS_SPECIALS)) return 1;
        at += strlen(p + at) + 1; /* past an embedded zero */
    } while (at <= lp);
    return 0;
}

/* A plain substring search that also counts its steps (a naive search is O(n·m)). */
static const char *plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    ss_budget *b = ss_current_budget(L);
    long long work = 0;
    const char *end = s + (ls - lp) + 1;
    while (s < end) {
        const char *hit = memchr(s, *p, (size_t)(end - s));
        if (!hit) return NULL;
        work += (hit - s) / 16 + (long long)lp;
        if (work >= SS_STEPS) {
            ss_charge(L, b, work);
            work = 0;
        }
        if (memcmp(hit, p, lp) == 0) return hit;
        s = hit + 1;
    }
    return NULL;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *hit = plain_find(L, s + init - 1, ls - init + 1, p, lp);
        if (hit) {
            lua_pushinteger(L, (hit - s) + 1);
            lua_pushinteger(L, (lua_Integer)((hit - s) + lp));
            return 2;
        }
    } else {
        Matcher m;
        const char *s1 = s + init - 1;
        int anchor = *p == '^';
        if (anchor) {
            p++;
            lp--;
        }
        prepare(&m, L, s, ls, p, lp);
        do {
            restart(&m);
            const char *e = do_match(&m, s1, p);
            if (e) {
                if (find) {
                    lua_pushinteger(L, (s1 - s) + 1);
                    lua_pushinteger(L, e - s);
                    return push_captures(&m, NULL, NULL) + 2;
                }
                return push_captures(&m, s1, e);
            }
        } while (s1++ < m.src_end && !anchor);
    }
    luaL_pushfail(L);
    return 1;
}

static int ss_find(lua_State *L) { return find_or_match(L, 1); }
static int ss_match(lua_State *L) { return find_or_match(L, 0); }

typedef struct {
    const char *src, *p, *last;
    size_t ls, lp;
    Matcher m;
} Iteration;

static int gmatch_next(lua_State *L) {
    Iteration *it = (Iteration *)lua_touserdata(L, lua_upvalueindex(3));
    /* The iterator may run in a later call, or a coroutine: take that call's limits. */
    it->m.L = L;
    it->m.budget = ss_current_budget(L);
    for (const char *src = it->src; src <= it->m.src_end; src++) {
        restart(&it->m);
        const char *e = do_match(&it->m, src, it->p);
        if (e && e != it->last) {
            it->src = it->last = e;
            return push_captures(&it->m, src, e);
        }
    }
    return 0;
}

static int ss_gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1) init = ls + 1;
    lua_settop(L, 2); /* the subject and the pattern stay alive as upvalues */
    Iteration *it = (Iteration *)lua_newuserdatauv(L, sizeof(Iteration), 0);
    prepare(&it->m, L, s, ls, p, lp);
    it->src = s + init - 1;
    it->p = p;
    it->last = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

static void add_replacement(Matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    size_t l;
    lua_State *L = m->L;
    const char *news = lua_tolstring(L, 3, &l);
    const char *end = news + l;
    for (const char *p = news; p < end; p++) {
        tick(m);
        if (*p != '%') {
            luaL_addchar(b, *p);
            continue;
        }
        p++;
        if (*p == '%') {
            luaL_addchar(b, '%');
        } else if (*p == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit(uc(*p))) {
            push_one_capture(m, *p - '1', s, e);
            if (lua_type(L, -1) == LUA_TNUMBER) { /* a position capture: no metamethod for numbers */
                lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1));
                lua_remove(L, -2);
            }
            luaL_addvalue(b);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
    }
}

/* Adds the replacement of the match s..e; returns whether it changed anything. */
static int add_value(Matcher *m, luaL_Buffer *b, const char *s, const char *e, int type) {
    lua_State *L = m->L;
    switch (type) {
    case LUA_TFUNCTION:
        lua_pushvalue(L, 3);
        lua_call(L, push_captures(m, s, e), 1);
        break;
    case LUA_TTABLE:
        push_one_capture(m, 0, s, e);
        lua_gettable(L, 3);
        break;
    default:
        add_replacement(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int ss_gsub(lua_State *L) {
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last = NULL;
    int type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    int anchor = *p == '^';
    lua_Integer n = 0;
    int changed = 0;
    Matcher m;
    luaL_Buffer b;
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
                     "string/function/table");
    luaL_buffinit(L, &b);
    if (anchor) {
        p++;
        lp--;
    }
    prepare(&m, L, src, ls, p, lp);
    while (n < max) {
        restart(&m);
        const char *e = do_match(&m, src, p);
        if (e && e != last) {
            n++;
            changed = add_value(&m, &b, src, e, type) | changed;
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void ss_open_bounded_patterns(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"find", ss_find}, {"match", ss_match}, {"gmatch", ss_gmatch}, {"gsub", ss_gsub}, {NULL, NULL},
    };
    lua_getglobal(L, "string");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
}
