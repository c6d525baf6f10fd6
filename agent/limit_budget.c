// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * budget: an amount per UTC hour or day that RL.CHECK charges by cost (API
 * credits, bytes, tokens); roles have their own amounts. The state is the
 * amount used and the period it was used in.
 */
#include "config_policies.h"
#include "policy_int.h"
#include "policy_lua.h"

/* The state; the block comes first. */
struct st_budget {
	uint64_t blocked_until;
	uint64_t used;
	uint64_t period; /* now_ms / period_ms when used was charged */
};

static void budget_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	d->amount = s->amount;
	d->period = s->period;
	policy_canon_roles(d, s);
}

static uint32_t budget_state_size(const struct fg_conf_policy *c)
{
	(void)c;
	return sizeof(struct st_budget);
}

/* The amount per period for role (0: no ROLE, else 1 + index). */
static uint64_t budget_amount(const struct policy *p, int role)
{
	return role ? p->conf.roles[role - 1].amount : p->conf.amount;
}

static uint64_t budget_period_ms(const struct policy *p)
{
	return p->conf.period == POLICY_PERIOD_HOUR ? MS_PER_HOUR : MS_PER_DAY;
}

/* RL.CHECK's window. */
static const char *budget_window(const struct policy *p)
{
	return p->conf.period == POLICY_PERIOD_HOUR ? "hour" : "day";
}

static uint64_t budget_expiry(const struct policy *p, const void *state)
{
	const struct st_budget *s = state;

	return max_u64(s->blocked_until, s->used ? (s->period + 1) * budget_period_ms(p) : 0);
}

static uint64_t budget_check(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct policy *p = op->p;
	struct st_budget *s = state;
	struct rl_result *out = &op->ans->u.check;
	uint64_t amount = budget_amount(p, op->role), cost = op->rq->cost;
	uint64_t period_ms = budget_period_ms(p);
	/* Unix time has no leap seconds: every UTC day is exactly 86400 s. */
	uint64_t period = op->now_ms / period_ms;
	uint64_t used = s->period == period ? s->used : 0;
	bool blocked = s->blocked_until > op->now_ms;
	bool ok = !blocked && cost <= amount && used <= amount - cost;

	(void)fresh;
	if (ok && !op->rq->peek && cost) {
		used += cost;
		s->used = used;
		s->period = period;
	}
	out->allowed = ok;
	out->limit = amount;
	out->remaining = used < amount ? amount - used : 0;
	out->reset_ms = (period + 1) * period_ms - op->now_ms;
	out->window = budget_window(p);
	if (ok) {
		out->retry_after_ms = 0;
		out->state = amount && used * 1000 >= (uint64_t)p->conf.warn_at_milli * amount
				     ? "warn"
				     : "ok";
	} else if (blocked) {
		out->retry_after_ms = s->blocked_until - op->now_ms;
		out->state = "blocked";
	} else {
		out->retry_after_ms = out->reset_ms;
		out->state = "deny";
	}
	return budget_expiry(p, s);
}

static void budget_fallback(struct policy_call *c, bool allow)
{
	policy_check_fallback(&c->ans->u.check, allow, budget_amount(c->p, c->role),
			      budget_window(c->p));
}

/* xp: the period in ms; x: the amount of role. */
static void budget_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	policy_put_double(buf, off, budget_period_ms(p));
	policy_put_double(buf, off, budget_amount(p, role));
	policy_put_double(buf, off, 0);
}

#define LUA_STATE                                                                                  \
	"local nf = 3\n"                                                                           \
	"local function expiry(f) local e = f[1]\n"                                                \
	"  if f[2] > 0 and (f[3] + 1) * xp > e then e = (f[3] + 1) * xp end\n"                     \
	"  return e end\n"

/* budget_check: ARGV 3 cost, 4 peek. */
#define LUA_CHECK                                                                                  \
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"                                   \
	"local period = math.floor(now / xp)\n"                                                    \
	"local used = 0\n"                                                                         \
	"if f[3] == period then used = f[2] end\n"                                                 \
	"if f[1] <= now and cost <= x and used <= x - cost and not peek and cost > 0 then\n"       \
	"  f[2] = used + cost; f[3] = period; save() end\n"                                        \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount used in the current period. */
#define LUA_REPLAY                                                                                 \
	"local a = tonumber(ARGV[3])\n"                                                            \
	"local period = math.floor(now / xp)\n"                                                    \
	"local used = 0\n"                                                                         \
	"if f[3] == period then used = f[2] end\n"                                                 \
	"f[2] = used + a; f[3] = period\n"                                                         \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_check[] = POLICY_LUA(LUA_STATE, LUA_CHECK);
static const char lua_block[] = POLICY_LUA(LUA_STATE, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA(LUA_STATE, LUA_REPLAY);

/* --- config ------------------------------------------------------------------ */

static int budget_period(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			 const char *path, void *dst)
{
	char b[64];

	(void)map;
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "hour"))
		*(enum policy_period *)dst = POLICY_PERIOD_HOUR;
	else if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "day"))
		*(enum policy_period *)dst = POLICY_PERIOD_DAY;
	else
		return cy_fail(p, v, path, "expected hour or day, got %s",
			       cy_show(v, b, sizeof(b)));
	return 0;
}

/* A role's own amount per period. */
static int budget_role(struct cy_parser *p, const yaml_node_t *v, const char *path,
		       struct fg_conf_policy *pc, struct fg_conf_role *r)
{
	(void)pc;
	return cy_get_u64(p, v, path, 0, CONF_POLICY_AMOUNT_MAX, &r->amount);
}

static int budget_roles(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			const char *path, void *dst)
{
	(void)map;
	return config_policy_roles(p, v, path, dst, budget_role);
}

static void budget_defaults(struct fg_conf_policy *pc)
{
	pc->period = POLICY_PERIOD_DAY;
}

static const struct cy_key budget_keys[] = {
	CONF_POLICY_WARN_AT,
	{ .name = "amount",
	  .kind = CY_U64,
	  .off = CONF_POLICY_AT(amount),
	  .max = CONF_POLICY_AMOUNT_MAX,
	  .need = "the amount per period, e.g. 500000" },
	CY_READER("period", CONF_POLICY_AT(period), budget_period),
	CY_READER("roles", 0, budget_roles),
	CY_TABLE_END,
};

const struct policy_kind policy_kind_budget = {
	.name = "budget",
	.conf_keys = budget_keys,
	.conf_defaults = budget_defaults,
	.canon = budget_canon,
	.state_size = budget_state_size,
	.decide = { [POLICY_OP_CHECK] = budget_check },
	.expiry = budget_expiry,
	.fallback = budget_fallback,
	.lua = { [POLICY_LUA_DECIDE] = lua_check,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = budget_pack,
};
