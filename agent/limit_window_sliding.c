// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * window, algorithm: sliding: an exact sliding log. A key keeps the
 * requests it was charged within its longest window, oldest first, as
 * (stamp ms, count) entries (a COST n request is one entry of count n;
 * requests of one millisecond share an entry). A request of cost c passes
 * when, for every limit, the counts stamped less than per ago plus c are at
 * most count: at most count requests in any interval of length per, where
 * GCRA lets count + count * t / per through in an interval t.
 *
 * The log of one key holds at most its longest window's count (x the
 * largest role multiplier) entries, since each charged entry counts at
 * least one request in that window: the config bounds that number
 * (POLICY_SLIDING_MAX), so a key's state is at most 16 + 16 x cap bytes;
 * the memory store keeps what it uses (window_sliding_used), in 128-byte
 * steps.
 */
#include <errno.h>
#include <string.h>

#include "limit_window.h"
#include "policy_lua.h"

struct sl_entry {
	uint64_t at;	/* ms; never decreasing along the log */
	uint64_t count; /* requests charged at that ms, >= 1 */
};

/* The state; the block comes first (block, unblock and reset are generic). */
struct st_sliding {
	uint64_t blocked_until; /* ms */
	uint64_t n;		/* entries in e */
	struct sl_entry e[];	/* cap of them fit */
};

_Static_assert(sizeof(struct st_sliding) + POLICY_SLIDING_MAX * sizeof(struct sl_entry) <=
		       STORE_STATE_MAX,
	       "sliding state");

/* The longest per and the entries its limit needs for the largest multiplier. */
static uint64_t sliding_cap(const struct fg_conf_policy *c, int *longest)
{
	uint64_t mult = 1000, cap;
	int i, lo = 0;

	for (i = 1; i < c->nlimits; i++)
		if (c->limits[i].per_ms > c->limits[lo].per_ms)
			lo = i;
	for (i = 0; i < c->nroles; i++)
		mult = max_u64(mult, c->roles[i].mult_milli);
	cap = c->nlimits ? window_role_limit(c->limits[lo].count, mult) : 1;
	/* The config refuses more (config check below); a hand-built policy
	 * gets the most a key can hold. */
	if (cap > POLICY_SLIDING_MAX)
		cap = POLICY_SLIDING_MAX;
	if (longest)
		*longest = lo;
	return cap;
}

uint32_t window_sliding_state_size(const struct fg_conf_policy *c)
{
	return (uint32_t)(sizeof(struct st_sliding) +
			  sliding_cap(c, NULL) * sizeof(struct sl_entry));
}

uint32_t window_sliding_used(const void *state)
{
	const struct st_sliding *s = state;

	return (uint32_t)(sizeof(*s) + (s->n < POLICY_SLIDING_MAX ? s->n : POLICY_SLIDING_MAX) *
					       sizeof(s->e[0]));
}

void window_sliding_compile(const struct fg_conf_policy *c, struct window *w)
{
	w->cap = sliding_cap(c, &w->longest);
}

static uint64_t longest_per(const struct policy *p)
{
	return p->conf.limits[win(p)->longest].per_ms;
}

/* The entries out of the longest window (nothing counts them) come first:
 * how many. They go when the state is written, as in the scripts' save(),
 * so that this state and Redis's are the same after every decision. */
static uint64_t stale(const struct policy *p, const struct st_sliding *s, uint64_t now)
{
	uint64_t per = longest_per(p), k = 0;

	while (k < s->n && s->e[k].at + per <= now)
		k++;
	return k;
}

static void prune(struct st_sliding *s, uint64_t k)
{
	if (k) {
		memmove(s->e, s->e + k, (s->n - k) * sizeof(s->e[0]));
		s->n -= k;
	}
}

uint64_t window_sliding_expiry(const struct policy *p, const void *state)
{
	const struct st_sliding *s = state;
	uint64_t exp = s->blocked_until;

	if (s->n)
		exp = max_u64(exp, s->e[s->n - 1].at + longest_per(p));
	return exp;
}

/* Requests of the log within per of now. */
static uint64_t used_in(const struct st_sliding *s, uint64_t per, uint64_t now)
{
	uint64_t used = 0, k = s->n;

	while (k > 0 && s->e[k - 1].at + per > now)
		used += s->e[--k].count;
	return used;
}

/* How long until need requests of the window per have left it. */
static uint64_t wait_for(const struct st_sliding *s, uint64_t per, uint64_t now, uint64_t need)
{
	uint64_t k, freed = 0;

	for (k = 0; k < s->n && need; k++) {
		if (s->e[k].at + per <= now)
			continue;
		freed += s->e[k].count;
		if (freed >= need)
			return s->e[k].at + per - now;
	}
	return 0;
}

/* Until the window per is empty. */
static uint64_t reset_of(const struct st_sliding *s, uint64_t per, uint64_t now)
{
	return s->n && s->e[s->n - 1].at + per > now ? s->e[s->n - 1].at + per - now : 0;
}

uint64_t window_sliding_check(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct policy *p = op->p;
	const struct window *w = win(p);
	const struct wlimit *wl = w->wl[op->role];
	struct st_sliding *s = state;
	struct rl_result *out = &op->ans->u.check;
	uint64_t cost = op->rq->cost, now = op->now_ms, wait = 0, first;
	uint64_t best_rem = UINT64_MAX, best_reset = 0, best_retry = 0;
	int i, n = p->conf.nlimits, bind = 0;
	bool ok, blocked, warn = false, peek = op->rq->peek;

	(void)fresh;
	/* window_validate() refused a cost above any limit before the store was asked. */
	first = stale(p, s, now);
	blocked = s->blocked_until > now;
	ok = !blocked;
	for (i = 0; i < n; i++) {
		if (used_in(s, p->conf.limits[i].per_ms, now) + cost > wl[i].limit)
			ok = false;
	}
	/* Cannot happen (a passing request leaves fewer than cap requests in
	 * the longest window, and an entry holds one at least): a log never
	 * overflows its state, whatever the clock does. */
	if (s->n - first >= w->cap && cost)
		ok = false;
	if (ok && !peek && cost) {
		prune(s, first);
		/* Stamps never decrease, even when the clock steps back. */
		uint64_t at = s->n ? max_u64(now, s->e[s->n - 1].at) : now;

		if (s->n && s->e[s->n - 1].at == at) {
			s->e[s->n - 1].count += cost;
		} else {
			s->e[s->n].at = at;
			s->e[s->n++].count = cost;
		}
	}

	/* Each window on the new log. The binding one, as with GCRA: when
	 * refused, the one that holds the request back longest; else the one
	 * with the least left (ties: longest reset). */
	for (i = 0; i < n; i++) {
		uint64_t per = p->conf.limits[i].per_ms, lim = wl[i].limit;
		uint64_t used = used_in(s, per, now);
		uint64_t rem = lim > used ? lim - used : 0;
		uint64_t reset = reset_of(s, per, now);
		/* Refused: until enough of this window's requests have left it. */
		uint64_t retry =
			!ok && used + cost > lim ? wait_for(s, per, now, used + cost - lim) : 0;

		wait = max_u64(wait, retry);
		/* Used >= warn_at of any window warns, not only the binding one. */
		if ((lim - rem) * 1000 >= (uint64_t)p->conf.warn_at_milli * lim)
			warn = true;
		if (ok || blocked ? (rem < best_rem || (rem == best_rem && reset > best_reset))
				  : retry > best_retry) {
			bind = i;
			best_rem = rem;
			best_reset = reset;
			best_retry = retry;
		}
	}
	out->allowed = ok;
	out->limit = wl[bind].limit;
	out->remaining = best_rem;
	out->reset_ms = best_reset;
	out->window = w->wname[bind];
	if (ok) {
		out->retry_after_ms = 0;
		out->state = warn ? "warn" : "ok";
	} else if (blocked) {
		/* Until the block ends and the windows have room: a client that
		 * waits that long is not refused again. */
		out->retry_after_ms = max_u64(s->blocked_until - now, wait);
		out->state = "blocked";
	} else {
		out->retry_after_ms = wait;
		out->state = "deny";
		if (p->conf.block_for_ms && !peek) {
			prune(s, first);
			s->blocked_until = now + p->conf.block_for_ms;
			out->retry_after_ms = max_u64(wait, p->conf.block_for_ms);
			out->state = "blocked";
		}
	}
	return window_sliding_expiry(p, s);
}

/* xp: the longest per (ms); x: block_for ms; n: the limits, each (per ms,
 * count of role); then (cap, 0): the most entries a stored log may have. */
void window_sliding_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	int i;

	policy_put_double(buf, off, longest_per(p));
	policy_put_double(buf, off, p->conf.block_for_ms);
	policy_put_double(buf, off, (uint64_t)p->conf.nlimits);
	for (i = 0; i < p->conf.nlimits; i++) {
		policy_put_double(buf, off, p->conf.limits[i].per_ms);
		policy_put_double(buf, off, win(p)->wl[role][i].limit);
	}
	policy_put_double(buf, off, win(p)->cap);
	policy_put_double(buf, off, 0);
}

/*
 * In Redis the value holds only the live log: the block, then (stamp,
 * count) per entry, 1 + 2m doubles. A value the scripts cannot have
 * written (too long, a count of 0, stamps going back) is no state.
 */
bool window_sliding_decode(const struct policy *p, const unsigned char *f, size_t nf,
			   uint64_t *state)
{
	struct st_sliding *s = (struct st_sliding *)state;
	size_t k, m;

	if (nf % 2 != 1 || (m = (nf - 1) / 2) > win(p)->cap)
		return false;
	s->blocked_until = policy_get_u64(f);
	s->n = m;
	for (k = 0; k < m; k++) {
		s->e[k].at = policy_get_u64(f + 8 * (1 + 2 * k));
		s->e[k].count = policy_get_u64(f + 8 * (2 + 2 * k));
		if (!s->e[k].at || !s->e[k].count || (k && s->e[k].at < s->e[k - 1].at))
			return false;
	}
	return true;
}

/*
 * The log is a packed string (the frame's GET and SET of policy_lua.h),
 * not a sorted set: one read and one write per decision whatever the
 * number of limits, COST n as one entry, the block in the same value, and
 * the value the agent mirrors into memory as it is (a sorted set would
 * need a ZRANGE more per decision to mirror it, a member per request of a
 * COST, and a second key or a sentinel member for the block). The log only
 * holds the live entries, so the value is short for a short log; its
 * length varies, so the load is this file's own (f: block, then stamp,
 * count pairs; m entries of which first..m are in the longest window). As
 * the frame's load: a value of the legacy id is this config's, one of
 * another config of the type keeps its block alone.
 */
#define LUA_LOAD                                                                                   \
	"local cap = limit(n + 1)\n"                                                               \
	"local v = redis.call('GET', KEYS[1])\n"                                                   \
	"local f, found, m = {0}, false, 0\n"                                                      \
	"local vid = v and string.sub(v, 1, 16)\n"                                                 \
	"if v and #v >= 24 and (#v - 24) % 16 == 0 and (#v - 24) / 16 <= cap\n"                    \
	"  and (vid == cid or vid == lid) then m = (#v - 24) / 16\n"                               \
	"  f = {struct.unpack('<' .. string.rep('d', 1 + 2 * m), v, 17)}\n"                        \
	"  f[2 + 2 * m] = nil; found = true\n"                                                     \
	"elseif v and vid ~= cid and vid ~= lid and #v >= 24 and\n"                                \
	"    string.byte(v, 1) == string.byte(cid, 1) then\n"                                      \
	"  local b = struct.unpack('<d', v, 17)\n"                                                 \
	"  if b >= 1 and b < 18446744073709551616 then f[1] = math.floor(b); found = true end\n"   \
	"end\n"                                                                                    \
	"local first = 1\n"                                                                        \
	"while first <= m and f[2 * first] + xp <= now do first = first + 1 end\n"                 \
	"local function save() local o, e = {f[1]}, f[1]\n"                                        \
	"  for k = first, m do o[#o + 1] = f[2 * k]; o[#o + 1] = f[2 * k + 1] end\n"               \
	"  if m >= first and f[2 * m] + xp > e then e = f[2 * m] + xp end\n"                       \
	"  if e > now then local s = cid .. struct.pack('<' .. string.rep('d', #o), unpack(o))\n"  \
	"    redis.call('SET', KEYS[1], s, 'PX', string.format('%d', e - now))\n"                  \
	"  else redis.call('DEL', KEYS[1]) end end\n"                                              \
	"local function charge(c)\n"                                                               \
	"  if m >= first and f[2 * m] >= now then f[2 * m + 1] = f[2 * m + 1] + c\n"               \
	"  else m = m + 1; f[2 * m] = now; f[2 * m + 1] = c end end\n"

/* window_sliding_check: ARGV 3 cost, 4 peek. */
#define LUA_CHECK                                                                                  \
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"                                   \
	"local blocked = f[1] > now\n"                                                             \
	"local ok = not blocked\n"                                                                 \
	"for i = 1, n do local per, l = limit(i)\n"                                                \
	"  local used, k = 0, m\n"                                                                 \
	"  while k >= first and f[2 * k] + per > now do used = used + f[2 * k + 1]; k = k - 1 "    \
	"end\n"                                                                                    \
	"  if used + cost > l then ok = false end end\n"                                           \
	"if m - first + 1 >= cap and cost > 0 then ok = false end\n"                               \
	"if ok and not peek and cost > 0 then charge(cost); save()\n"                              \
	"elseif not ok and not blocked and x > 0 and not peek then\n"                              \
	"  f[1] = now + x; save() end\n"                                                           \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount requests now, at most what the
 * longest window has left (a full window, as GCRA's replay). */
#define LUA_REPLAY                                                                                 \
	"local a, ll, used = tonumber(ARGV[3]), 0, 0\n"                                            \
	"for i = 1, n do local per, l = limit(i); if per == xp then ll = l end end\n"              \
	"for k = first, m do used = used + f[2 * k + 1] end\n"                                     \
	"if a > ll - used then a = ll - used end\n"                                                \
	"if a > 0 and m - first + 1 < cap then charge(a) end\n"                                    \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_check[] = POLICY_LUA_HEAD LUA_LOAD LUA_CHECK;
static const char lua_block[] = POLICY_LUA_HEAD LUA_LOAD POLICY_LUA_BLOCK_BODY;
static const char lua_replay[] = POLICY_LUA_HEAD LUA_LOAD LUA_REPLAY;

const char *const window_sliding_lua[POLICY_LUA_N] = {
	[POLICY_LUA_DECIDE] = lua_check,
	[POLICY_LUA_BLOCK] = lua_block,
	[POLICY_LUA_REPLAY] = lua_replay,
};
