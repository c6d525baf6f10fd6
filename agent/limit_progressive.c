// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * progressive: a slowdown that grows with a key's failures (RL.AUTH.FAIL,
 * RL.AUTH.CHECK; RL.AUTH.OK forgets them), optionally an XDP ban past
 * xdp_ban.after. The state is the failure count and the time of the last
 * failure; failures are forgotten forget_after the last one.
 */
#include "config_policies.h"
#include "policy_int.h"
#include "policy_lua.h"

/* The state; the block comes first. */
struct st_progressive {
	uint64_t blocked_until;
	uint64_t failures;
	uint64_t last_failure; /* ms */
};

static void progressive_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	d->free_failures = s->free_failures;
	d->base_delay_ms = s->base_delay_ms;
	d->factor_milli = s->factor_milli;
	d->max_delay_ms = s->max_delay_ms;
	d->forget_after_ms = s->forget_after_ms;
	d->xdp_ban_after = s->xdp_ban_after;
	d->xdp_ban_for_ms = s->xdp_ban_for_ms;
}

static uint32_t progressive_state_size(const struct fg_conf_policy *c)
{
	(void)c;
	return sizeof(struct st_progressive);
}

/* min(base * factor^(n - free - 1), max) for n > free, else 0. */
static uint64_t progressive_delay(const struct fg_conf_policy *c, uint64_t n)
{
	double f = c->factor_milli / 1000.0, acc = 1.0, limit;
	uint64_t e, d;

	if (n <= c->free_failures)
		return 0;
	e = n - c->free_failures - 1;
	limit = (double)c->max_delay_ms / (double)c->base_delay_ms;
	/* Square-and-multiply, stopping once past max_delay (no libm needed). */
	while (e && acc < limit) {
		if (e & 1)
			acc *= f;
		f *= f;
		e >>= 1;
	}
	if (acc >= limit)
		return c->max_delay_ms;
	d = (uint64_t)((double)c->base_delay_ms * acc + 0.5);
	return d < c->max_delay_ms ? d : c->max_delay_ms;
}

static uint64_t progressive_expiry(const struct policy *p, const void *state)
{
	const struct st_progressive *s = state;

	return max_u64(s->blocked_until,
		       s->failures ? s->last_failure + p->conf.forget_after_ms : 0);
}

/* RL.AUTH.FAIL and RL.AUTH.CHECK. */
static uint64_t progressive_auth(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct fg_conf_policy *c = &op->p->conf;
	struct st_progressive *s = state;
	struct rl_auth_result *out = &op->ans->u.auth;
	uint64_t now = op->now_ms, delay, since;
	bool fail = op->rq->op == POLICY_OP_AUTH_FAIL;

	(void)fresh;
	if (s->failures && since_ms(now, s->last_failure) >= c->forget_after_ms)
		s->failures = 0;
	if (fail) {
		if (s->failures < UINT64_MAX)
			s->failures++;
		s->last_failure = now;
	}
	delay = progressive_delay(c, s->failures);
	since = s->failures ? since_ms(now, s->last_failure) : 0;
	out->failures = s->failures;
	out->delay_ms = delay > since ? delay - since : 0;
	if (s->blocked_until > now)
		out->delay_ms = max_u64(out->delay_ms, s->blocked_until - now);
	if (fail && c->xdp_ban_after && s->failures >= c->xdp_ban_after) {
		out->ban = true;
		out->ban_for_ms = c->xdp_ban_for_ms;
	}
	return progressive_expiry(op->p, s);
}

/* A slowdown, not a quota: parameters only. */
static void progressive_describe(const struct policy *p, int role, struct policy_desc *d)
{
	const struct fg_conf_policy *c = &p->conf;
	const struct {
		const char *name;
		uint64_t v;
	} v[] = {
		{ "free_failures", c->free_failures },	   { "base_delay_ms", c->base_delay_ms },
		{ "factor_milli", c->factor_milli },	   { "max_delay_ms", c->max_delay_ms },
		{ "forget_after_ms", c->forget_after_ms }, { "xdp_ban_after", c->xdp_ban_after },
		{ "xdp_ban_for_ms", c->xdp_ban_for_ms },
		{ "vouch_on_success_ms", c->vouch_on_success_ms },
	};
	size_t i;

	(void)role;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		d->param[d->nparam].name = v[i].name;
		d->param[d->nparam++].v = v[i].v;
	}
}

static void progressive_fallback(struct policy_call *c, bool allow)
{
	c->ans->u.auth.delay_ms = allow ? 0 : c->p->conf.base_delay_ms;
}

/* xp: forget_after ms. */
static void progressive_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	(void)role;
	policy_put_double(buf, off, p->conf.forget_after_ms);
	policy_put_double(buf, off, 0);
	policy_put_double(buf, off, 0);
}

/* progressive_auth: ARGV 3 fail (1) or check (0). */
#define LUA_AUTH                                                                                   \
	"if ARGV[3] == '1' then\n"                                                                 \
	"  if f[2] > 0 and now - f[3] >= xp then f[2] = 0 end\n"                                   \
	"  f[2] = f[2] + 1; f[3] = now; save() end\n"                                              \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount failures, the last now. */
#define LUA_REPLAY                                                                                 \
	"local a = tonumber(ARGV[3])\n"                                                            \
	"local c = f[2]\n"                                                                         \
	"if c > 0 and now - f[3] >= xp then c = 0 end\n"                                           \
	"f[2] = c + a; f[3] = now\n"                                                               \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_auth[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, LUA_AUTH);
static const char lua_block[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, LUA_REPLAY);

/* --- config ------------------------------------------------------------------ */

static const char *const xdp_ban_keys[] = { "after", "for", NULL };

static int progressive_factor(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			      const char *path, void *dst)
{
	uint64_t m;
	int err;

	(void)map;
	err = cy_get_milli(p, v, path, 1000, 1000000, "a growth factor (e.g. 2)", &m);
	if (!err)
		*(uint32_t *)dst = (uint32_t)m;
	return err;
}

/* After max_delay (with the defaults of what the file leaves out). */
static int progressive_delays(struct cy_parser *p, const yaml_node_t *map, const char *path,
			      void *dst)
{
	const struct fg_conf_policy *pc = dst;
	const yaml_node_t *v = cy_map_get(p, map, "max_delay");
	char kp[CY_PATH_MAX];

	if (pc->max_delay_ms >= pc->base_delay_ms)
		return 0;
	return cy_fail(p, v ? v : map, cy_join(kp, sizeof(kp), path, "max_delay"),
		       "%llums is shorter than base_delay (%llums)",
		       (unsigned long long)pc->max_delay_ms, (unsigned long long)pc->base_delay_ms);
}

/* xdp_ban: { after: N, for: DURATION }; empty = no ban. */
static int progressive_xdp_ban(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			       const char *path, void *dst)
{
	struct fg_conf_policy *pc = dst;
	char kp[CY_PATH_MAX];
	yaml_node_t *x;
	int err;

	(void)map;
	err = cy_expect_kind(p, v, path, YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, v, path, xdp_ban_keys);
	if (err || cy_is_null(v))
		return err;
	cy_join(kp, sizeof(kp), path, "after");
	if (!(x = cy_map_get(p, v, "after")))
		return cy_fail(p, v, kp, "missing (failures before the XDP ban)");
	if ((err = cy_get_u32(p, x, kp, 1, CONF_POLICY_FAILURES_MAX, &pc->xdp_ban_after)))
		return err;
	cy_join(kp, sizeof(kp), path, "for");
	if (!(x = cy_map_get(p, v, "for")))
		return cy_fail(p, v, kp, "missing (how long the ban lasts, e.g. 1h)");
	return cy_get_duration(p, x, kp, &pc->xdp_ban_for_ms);
}

static void progressive_defaults(struct fg_conf_policy *pc)
{
	pc->factor_milli = 2000;
}

static const struct cy_key progressive_keys[] = {
	CY_VALUE("free_failures", CY_U32, CONF_POLICY_AT(free_failures), 3, 0,
		 CONF_POLICY_FAILURES_MAX),
	CY_VALUE("base_delay", CY_DURATION, CONF_POLICY_AT(base_delay_ms), 1000, 0, 0),
	CY_READER("factor", CONF_POLICY_AT(factor_milli), progressive_factor),
	CY_VALUE("max_delay", CY_DURATION, CONF_POLICY_AT(max_delay_ms), 30000, 0, 0),
	CY_CHECK_AT(0, progressive_delays),
	CY_VALUE("forget_after", CY_DURATION, CONF_POLICY_AT(forget_after_ms), 15 * 60 * 1000, 0,
		 0),
	CY_READER("xdp_ban", 0, progressive_xdp_ban),
	CY_VALUE("vouch_on_success", CY_DURATION, CONF_POLICY_AT(vouch_on_success_ms), 0, 1000,
		 CY_DURATION_MAX_MS),
	CY_TABLE_END,
};

const struct policy_kind policy_kind_progressive = {
	.name = "progressive",
	.conf_keys = progressive_keys,
	.conf_defaults = progressive_defaults,
	.canon = progressive_canon,
	.state_size = progressive_state_size,
	.decide = { [POLICY_OP_AUTH_FAIL] = progressive_auth,
		    [POLICY_OP_AUTH_CHECK] = progressive_auth },
	.expiry = progressive_expiry,
	.fallback = progressive_fallback,
	.describe = progressive_describe,
	.lua = { [POLICY_LUA_DECIDE] = lua_auth,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = progressive_pack,
};
