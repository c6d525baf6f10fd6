// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * progressive: a slowdown that grows with a key's failures (RL.AUTH.FAIL,
 * RL.AUTH.CHECK; RL.AUTH.OK forgets them), optionally an XDP ban past
 * xdp_ban.after. The state is the failure count and the time of the last
 * failure; failures are forgotten forget_after the last one.
 */
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

const struct policy_kind policy_kind_progressive = {
	.name = "progressive",
	.canon = progressive_canon,
	.state_size = progressive_state_size,
	.decide = { [POLICY_OP_AUTH_FAIL] = progressive_auth,
		    [POLICY_OP_AUTH_CHECK] = progressive_auth },
	.expiry = progressive_expiry,
	.fallback = progressive_fallback,
	.lua = { [POLICY_LUA_DECIDE] = lua_auth,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = progressive_pack,
};
