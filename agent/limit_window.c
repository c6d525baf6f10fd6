// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * window: up to POLICY_MAX_LIMITS "count per duration" limits, checked and
 * charged together by RL.CHECK. GCRA (a theoretical arrival time per limit,
 * in ns): exact, O(1) memory, no reset edge where twice the limit could
 * pass. Roles multiply every limit. algorithm: sliding keeps a log instead
 * (limit_window_sliding.c): the row's functions hand such policies to it.
 */
#include <errno.h>
#include <stdio.h>

#include "config_policies.h"
#include "limit_window.h"
#include "policy_lua.h"

/* The state; the block comes first. */
struct st_window {
	uint64_t blocked_until;		 /* ms */
	uint64_t tat[POLICY_MAX_LIMITS]; /* ns; only nlimits are stored */
};

_Static_assert(sizeof(struct st_window) <= STORE_STATE_MAX, "window state");

static void window_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	for (i = 0; i < s->nlimits; i++)
		d->limits[i] = s->limits[i];
	d->nlimits = s->nlimits;
	d->block_for_ms = s->block_for_ms;
	d->algorithm = s->algorithm;
	policy_canon_roles(d, s);
}

/* A TAT is a time debt per limit: it means the same under any count, role
 * or block_for, as long as the limits keep their per, in their order. A
 * sliding log is no TAT (algorithm), and its state's size follows its
 * counts and roles (the cap): a log is kept only while they stay the same. */
static void window_layout(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	for (i = 0; i < s->nlimits; i++)
		d->limits[i].per_ms = s->limits[i].per_ms;
	d->nlimits = s->nlimits;
	d->algorithm = s->algorithm;
	if (s->algorithm == POLICY_ALGO_SLIDING) {
		for (i = 0; i < s->nlimits; i++)
			d->limits[i].count = s->limits[i].count;
		policy_canon_roles(d, s);
	}
}

static uint32_t window_state_size(const struct fg_conf_policy *c)
{
	if (c->algorithm == POLICY_ALGO_SLIDING)
		return window_sliding_state_size(c);
	return (uint32_t)(8 * (1 + c->nlimits));
}

static store_used_fn window_state_used(const struct fg_conf_policy *c)
{
	return c->algorithm == POLICY_ALGO_SLIDING ? window_sliding_used : NULL;
}

static void window_name(uint64_t ms, char *buf, size_t len)
{
	if (ms % MS_PER_DAY == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(ms / MS_PER_DAY));
	else if (ms % MS_PER_HOUR == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / MS_PER_HOUR));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

static void window_compile(struct policy *p)
{
	const struct fg_conf_policy *c = &p->conf;
	struct window *w = (struct window *)p->priv;
	int r, i;

	for (i = 0; i < c->nlimits; i++)
		window_name(c->limits[i].per_ms, w->wname[i], sizeof(w->wname[i]));
	for (r = 0; r <= c->nroles; r++) {
		uint64_t mult = r ? c->roles[r - 1].mult_milli : 1000;

		for (i = 0; i < c->nlimits; i++) {
			struct wlimit *l = &w->wl[r][i];
			uint64_t per_ns = c->limits[i].per_ms * NS_PER_MS;

			/* Config validation keeps limit in 1..per_ns; stay safe anyway. */
			l->limit = (uint64_t)((unsigned __int128)c->limits[i].count * mult / 1000);
			if (l->limit < 1)
				l->limit = 1;
			if (l->limit > per_ns)
				l->limit = per_ns;
			l->t_ns = per_ns / l->limit;
			l->burst_ns = l->limit * l->t_ns;
		}
	}
	if (window_sliding(p))
		window_sliding_compile(c, w);
}

/* A cost above a window's limit could never pass. */
static int window_validate(struct policy_call *c)
{
	const struct wlimit *wl = win(c->p)->wl[c->role];
	int i;

	for (i = 0; i < c->p->conf.nlimits; i++)
		if (c->rq->cost > wl[i].limit)
			return -ERANGE;
	return 0;
}

static uint64_t window_expiry(const struct policy *p, const void *state)
{
	const struct st_window *s = state;
	uint64_t exp = s->blocked_until;
	int i;

	if (window_sliding(p))
		return window_sliding_expiry(p, state);
	for (i = 0; i < p->conf.nlimits; i++)
		exp = max_u64(exp, ns_to_ms_ceil(s->tat[i]));
	return exp;
}

static uint64_t window_check(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct policy *p = op->p;
	const struct wlimit *wl = win(p)->wl[op->role];
	struct st_window *s = state;
	struct rl_result *out = &op->ans->u.check;
	uint64_t cost = op->rq->cost, now_ns = op->now_ms * NS_PER_MS;
	uint64_t tat[POLICY_MAX_LIMITS] = { 0 }, next[POLICY_MAX_LIMITS] = { 0 };
	uint64_t best_rem = UINT64_MAX, best_reset = 0, best_retry = 0, wait = 0;
	int i, n = p->conf.nlimits, bind = 0;
	bool ok = true, blocked, charge, warn = false, peek = op->rq->peek;

	(void)fresh;
	/* window_validate() refused a cost above any limit before the store was asked. */
	blocked = s->blocked_until > op->now_ms;
	for (i = 0; i < n; i++) {
		tat[i] = max_u64(s->tat[i], now_ns);
		next[i] = tat[i] + cost * wl[i].t_ns;
		if (next[i] - now_ns > wl[i].burst_ns)
			ok = false;
	}
	ok = ok && !blocked;
	charge = ok && !peek && cost;

	/* The binding window: when refused, the one that holds the request back
	 * longest; when allowed, the one with the least left (ties: longest reset). */
	for (i = 0; i < n; i++) {
		const struct wlimit *w = &wl[i];
		uint64_t at = charge ? next[i] : tat[i];
		/* A TAT past the burst (written with a role's or an older config's
		 * limit: a reload keeps state) leaves nothing, not a wrapped count. */
		uint64_t rem =
			at - now_ns < w->burst_ns ? (w->burst_ns - (at - now_ns)) / w->t_ns : 0;
		uint64_t reset = at - now_ns;
		uint64_t retry =
			next[i] - now_ns > w->burst_ns ? next[i] - w->burst_ns - now_ns : 0;

		wait = max_u64(wait, retry);

		/* Used >= warn_at of any window warns, not only the binding one. */
		if ((w->limit - rem) * 1000 >= (uint64_t)p->conf.warn_at_milli * w->limit)
			warn = true;
		if (ok || blocked ? (rem < best_rem || (rem == best_rem && reset > best_reset))
				  : retry > best_retry) {
			bind = i;
			best_rem = rem;
			best_reset = reset;
			best_retry = retry;
		}
	}
	if (charge) {
		for (i = 0; i < n; i++)
			s->tat[i] = next[i];
	}
	out->allowed = ok;
	out->limit = wl[bind].limit;
	out->remaining = best_rem;
	out->reset_ms = ns_to_ms_ceil((charge ? next[bind] : tat[bind]) - now_ns);
	out->window = win(p)->wname[bind];
	if (ok) {
		out->retry_after_ms = 0;
		out->state = warn ? "warn" : "ok";
	} else if (blocked) {
		/* Until the block ends AND every window takes this cost: a client
		 * obeying a shorter wait would be refused (and blocked) again. */
		out->retry_after_ms = max_u64(s->blocked_until - op->now_ms, ns_to_ms_ceil(wait));
		out->state = "blocked";
	} else {
		out->retry_after_ms = ns_to_ms_ceil(best_retry);
		out->state = "deny";
		if (p->conf.block_for_ms && !peek) {
			s->blocked_until = op->now_ms + p->conf.block_for_ms;
			out->retry_after_ms = max_u64(out->retry_after_ms, p->conf.block_for_ms);
			out->state = "blocked";
		}
	}
	return window_expiry(p, s);
}

/* RL.CHECK, by the policy's algorithm. */
static uint64_t window_decide_check(void *state, bool fresh, void *arg)
{
	const struct policy_call *op = arg;

	if (window_sliding(op->p))
		return window_sliding_check(state, fresh, arg);
	return window_check(state, fresh, arg);
}

static bool window_lua_alt_of(const struct policy *p)
{
	return window_sliding(p);
}

static void window_describe(const struct policy *p, int role, struct policy_desc *d)
{
	int i;

	for (i = 0; i < p->conf.nlimits; i++) {
		d->q[i].quota = win(p)->wl[role][i].limit;
		d->q[i].window_ms = p->conf.limits[i].per_ms;
		d->q[i].window = win(p)->wname[i];
	}
	d->nq = p->conf.nlimits;
	d->http = true;
	d->param[d->nparam].name = "block_for_ms";
	d->param[d->nparam++].v = p->conf.block_for_ms;
	/* exact (at most count in any interval per) or GCRA (a burst, then a
	 * steady rate): what an app tells its users differs */
	d->param[d->nparam].name = "algorithm";
	d->param[d->nparam++].s = window_sliding(p) ? "sliding" : "gcra";
}

static void window_fallback(struct policy_call *c, bool allow)
{
	policy_check_fallback(&c->ans->u.check, allow, win(c->p)->wl[c->role][0].limit,
			      win(c->p)->wname[0]);
}

/* x: block_for ms; n: the limits, each (t_ns, burst_ns) of role. */
static void window_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	int i;

	if (window_sliding(p)) {
		window_sliding_pack(p, role, buf, off);
		return;
	}
	policy_put_double(buf, off, 0);
	policy_put_double(buf, off, p->conf.block_for_ms);
	policy_put_double(buf, off, (uint64_t)p->conf.nlimits);
	for (i = 0; i < p->conf.nlimits; i++) {
		policy_put_double(buf, off, win(p)->wl[role][i].t_ns);
		policy_put_double(buf, off, win(p)->wl[role][i].burst_ns);
	}
}

/*
 * In Redis the TATs are split into a base (ms) and a debt d_i (ns) per
 * limit, TAT_i = base * 10^6 + d_i, exact in doubles for windows up to
 * 104 days: nlimits + 2 fields (block, base, d_1..d_n).
 */
static bool window_decode(const struct policy *p, const unsigned char *f, size_t nf,
			  uint64_t *state)
{
	size_t i, n = (size_t)p->conf.nlimits;

	if (window_sliding(p))
		return window_sliding_decode(p, f, nf, state);
	if (nf != n + 2)
		return false;
	state[0] = policy_get_u64(f);
	for (i = 1; i <= n; i++)
		state[i] = policy_get_u64(f + 8) * NS_PER_MS + policy_get_u64(f + 8 * (i + 1));
	return true;
}

#define LUA_STATE                                                                                  \
	"local nf = n + 2\n"                                                                       \
	"local function expiry(f) local e, m = f[1], 0\n"                                          \
	"  for i = 3, nf do if f[i] > m then m = f[i] end end\n"                                   \
	"  m = f[2] + math.ceil(m / 1000000); if m > e then e = m end\n"                           \
	"  return e end\n"

/* window_check: ARGV 3 cost, 4 peek. */
#define LUA_CHECK                                                                                  \
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"                                   \
	"local blocked = f[1] > now\n"                                                             \
	"local ok, d, shift = not blocked, {}, (f[2] - now) * 1000000\n"                           \
	"for i = 1, n do local t, b = limit(i)\n"                                                  \
	"  local di = shift + f[i + 2]\n"                                                          \
	"  if di < 0 then di = 0 end\n"                                                            \
	"  di = di + cost * t\n"                                                                   \
	"  if di > b then ok = false end\n"                                                        \
	"  d[i] = di end\n"                                                                        \
	"if ok and not peek and cost > 0 then\n"                                                   \
	"  f[2] = now; for i = 1, n do f[i + 2] = d[i] end; save()\n"                              \
	"elseif not ok and not blocked and x > 0 and not peek then\n"                              \
	"  f[1] = now + x; save() end\n"                                                           \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount requests on every limit, at most a
 * full window. */
#define LUA_REPLAY                                                                                 \
	"local a = tonumber(ARGV[3])\n"                                                            \
	"local shift = (f[2] - now) * 1000000\n"                                                   \
	"for i = 1, n do local t, b = limit(i)\n"                                                  \
	"  local di = shift + f[i + 2]\n"                                                          \
	"  if di < 0 then di = 0 end\n"                                                            \
	"  di = di + a * t\n"                                                                      \
	"  if di > b then di = b end\n"                                                            \
	"  f[i + 2] = di end\n"                                                                    \
	"f[2] = now\n"                                                                             \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_check[] = POLICY_LUA(LUA_STATE, LUA_CHECK);
static const char lua_block[] = POLICY_LUA(LUA_STATE, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA(LUA_STATE, LUA_REPLAY);

/* --- config ------------------------------------------------------------------ */

static const char *const limit_entry_keys[] = { "count", "per", NULL };

static int window_limits(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			 const char *path, void *dst)
{
	struct fg_conf_policy *pc = dst;
	char ip[CY_PATH_MAX + 16], kp[CY_PATH_MAX];
	yaml_node_t *item, *v;
	int i, k, err;

	(void)map;
	err = cy_expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (!cy_seq_len(n))
		return cy_fail(p, n, path, "at least one { count: N, per: DURATION } is required");
	if (cy_seq_len(n) > POLICY_MAX_LIMITS)
		return cy_fail(p, n, path, "%d limits, at most %d", cy_seq_len(n),
			       POLICY_MAX_LIMITS);
	for (i = 0; i < cy_seq_len(n); i++) {
		struct fg_conf_window_limit *l = &pc->limits[i];

		item = cy_seq_item(p, n, i);
		snprintf(ip, sizeof(ip), "%s[%d]", path, i);
		if (item->type != YAML_MAPPING_NODE) {
			char b[64];

			return cy_fail(p, item, ip, "expected { count: N, per: DURATION }, got %s",
				       cy_show(item, b, sizeof(b)));
		}
		err = cy_check_keys(p, item, ip, limit_entry_keys);
		if (err)
			return err;
		cy_join(kp, sizeof(kp), ip, "count");
		if (!(v = cy_map_get(p, item, "count")))
			return cy_fail(p, item, kp, "missing (requests allowed per `per`)");
		err = cy_get_u64(p, v, kp, 1, CONF_POLICY_COUNT_MAX, &l->count);
		if (err)
			return err;
		cy_join(kp, sizeof(kp), ip, "per");
		if (!(v = cy_map_get(p, item, "per")))
			return cy_fail(p, item, kp, "missing (a duration, e.g. 1s, 1m, 1h)");
		err = cy_get_duration(p, v, kp, &l->per_ms);
		if (err)
			return err;
		/* GCRA spaces requests at per / count: keep that >= 1 ns (x 1000 roles). */
		if (l->count > l->per_ms * 1000)
			return cy_fail(p, v, ip,
				       "%llu per %llums is more than one request per microsecond",
				       (unsigned long long)l->count, (unsigned long long)l->per_ms);
		for (k = 0; k < i; k++) {
			if (pc->limits[k].per_ms == l->per_ms)
				return cy_fail(p, v, kp, "%s[%d] has the same per already", path,
					       k);
		}
		pc->nlimits = i + 1;
	}
	return 0;
}

/* A multiplier of every limit; none may fall below one request or above
 * one per nanosecond. */
static int window_role(struct cy_parser *p, const yaml_node_t *v, const char *path,
		       struct fg_conf_policy *pc, struct fg_conf_role *r)
{
	uint64_t m;
	int k, err;

	err = cy_get_milli(p, v, path, 1, 1000000, "a multiplier (e.g. 1, 1.5, 3)", &m);
	if (err)
		return err;
	r->mult_milli = (uint32_t)m;
	for (k = 0; k < pc->nlimits; k++) {
		const struct fg_conf_window_limit *l = &pc->limits[k];

		if ((unsigned __int128)l->count * m < 1000)
			return cy_fail(p, v, path,
				       "%s leaves limits[%d] (%llu per %llums) below one request",
				       cy_text(v), k, (unsigned long long)l->count,
				       (unsigned long long)l->per_ms);
		if ((unsigned __int128)l->count * m > (unsigned __int128)l->per_ms * 1000000000ULL)
			return cy_fail(p, v, path,
				       "%s makes limits[%d] more than one request per nanosecond",
				       cy_text(v), k);
	}
	return 0;
}

static int window_roles(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			const char *path, void *dst)
{
	(void)map;
	return config_policy_roles(p, v, path, dst, window_role);
}

static int window_algorithm(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			    const char *path, void *dst)
{
	char b[64];

	(void)map;
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "gcra"))
		*(enum policy_algorithm *)dst = POLICY_ALGO_GCRA;
	else if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "sliding"))
		*(enum policy_algorithm *)dst = POLICY_ALGO_SLIDING;
	else
		return cy_fail(p, v, path, "expected sliding or gcra, got %s",
			       cy_show(v, b, sizeof(b)));
	return 0;
}

/* A sliding log keeps an entry per request: every limit x every role's
 * multiplier at most POLICY_SLIDING_MAX, so a key's state stays bounded. */
static int window_sliding_bound(struct cy_parser *p, const yaml_node_t *map, const char *path,
				void *dst)
{
	const struct fg_conf_policy *pc = dst;
	const yaml_node_t *at = cy_map_get(p, map, "algorithm");
	char kp[CY_PATH_MAX];
	int i, r;

	if (pc->algorithm != POLICY_ALGO_SLIDING)
		return 0;
	cy_join(kp, sizeof(kp), path, "algorithm");
	for (i = 0; i < pc->nlimits; i++) {
		const struct fg_conf_window_limit *l = &pc->limits[i];

		for (r = 0; r <= pc->nroles; r++) {
			uint64_t m = r ? pc->roles[r - 1].mult_milli : 1000;

			if (window_role_limit(l->count, m) <= POLICY_SLIDING_MAX)
				continue;
			return cy_fail(
				p, at, kp,
				"sliding keeps one entry per request (16 bytes per key each): "
				"limits[%d] (%llu per %llums%s%s) allows %llu, at most %d; "
				"use algorithm: gcra for it",
				i, (unsigned long long)l->count, (unsigned long long)l->per_ms,
				r ? " for role " : "", r ? pc->roles[r - 1].name : "",
				(unsigned long long)window_role_limit(l->count, m),
				POLICY_SLIDING_MAX);
		}
	}
	return 0;
}

/* In the order they are read: roles last, checked against every limit. */
static const struct cy_key window_keys[] = {
	CONF_POLICY_WARN_AT,
	CY_READER("algorithm", CONF_POLICY_AT(algorithm), window_algorithm),
	CY_NEEDED("limits", 0, window_limits,
		  "e.g. [ { count: 10, per: 1s }, { count: 100, per: 1m } ]"),
	CY_VALUE("block_for", CY_DURATION, CONF_POLICY_AT(block_for_ms), 0, 0, 0),
	CY_READER("roles", 0, window_roles),
	CY_CHECK_AT(0, window_sliding_bound),
	CY_TABLE_END,
};

const struct policy_kind policy_kind_window = {
	.name = "window",
	.conf_keys = window_keys,
	.canon = window_canon,
	.layout = window_layout,
	.state_size = window_state_size,
	.state_used = window_state_used,
	.priv_size = sizeof(struct window),
	.compile = window_compile,
	.decide = { [POLICY_OP_CHECK] = window_decide_check },
	.validate = window_validate,
	.expiry = window_expiry,
	.fallback = window_fallback,
	.describe = window_describe,
	.lua = { [POLICY_LUA_DECIDE] = lua_check,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = window_pack,
	.decode = window_decode,
	.lua_alt_of = window_lua_alt_of,
	.lua_alt = window_sliding_lua,
};
