// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * budget: an amount per UTC hour or day that RL.CHECK charges by cost (API
 * credits, bytes, tokens); roles have their own amounts. The state is the
 * amount used and the period it was used in. RL.CHARGE records usage known
 * only afterwards and may go past the amount: the excess is a debt that
 * each new period pays back by its amount before requests pass again.
 */
#include <errno.h>

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

/* used is an amount of the period numbered in the state: another period
 * length renumbers them; another amount or role keeps what was used. */
static void budget_layout(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	d->period = s->period;
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

/* A cost above the role's whole amount (all of it, for an amount of 0)
 * could never pass: the error a window gives, not a wait until the next
 * period that ends in the same refusal. */
static int budget_validate(struct policy_call *c)
{
	/* RL.CHARGE records what was used, past the amount too (a debt) */
	return c->rq->op == POLICY_OP_CHECK && c->rq->cost > budget_amount(c->p, c->role) ? -ERANGE
											  : 0;
}

/* The smallest amount above 0 of the policy and its roles (0: none): a
 * debt lasts longest when the smallest amount pays it back. */
static uint64_t budget_min_amount(const struct policy *p)
{
	uint64_t m = p->conf.amount;
	int i;

	for (i = 0; i < p->conf.nroles; i++) {
		if (p->conf.roles[i].amount && (!m || p->conf.roles[i].amount < m))
			m = p->conf.roles[i].amount;
	}
	return m;
}

/* Periods from used's until used is paid back at amount per period (1
 * without a debt: the next period starts afresh), at most BUDGET_DEBT_PERIODS
 * (a debt lasting longer is forgiven then: times stay far from overflow). */
#define BUDGET_DEBT_PERIODS 1000000ULL
static uint64_t budget_periods(uint64_t used, uint64_t amount)
{
	uint64_t k = amount && used > amount ? used / amount + (used % amount != 0) : 1;

	return k < BUDGET_DEBT_PERIODS ? k : BUDGET_DEBT_PERIODS;
}

/* Used in period: an older period's use less amount per period since (what
 * a charge took past the amount carries over); nothing when the clock went
 * back past it. */
static uint64_t budget_used(const struct st_budget *s, uint64_t period, uint64_t amount)
{
	unsigned __int128 paid;

	if (s->period == period)
		return s->used;
	if (s->period > period)
		return 0;
	paid = (unsigned __int128)(period - s->period) * amount;
	return paid >= s->used ? 0 : s->used - (uint64_t)paid;
}

static uint64_t budget_expiry(const struct policy *p, const void *state)
{
	const struct st_budget *s = state;
	uint64_t k = budget_periods(s->used, budget_min_amount(p));

	return max_u64(s->blocked_until, s->used ? (s->period + k) * budget_period_ms(p) : 0);
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
	uint64_t used = budget_used(s, period, amount);
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
	out->reset_ms = (period + budget_periods(used, amount)) * period_ms - op->now_ms;
	out->window = budget_window(p);
	if (ok) {
		out->retry_after_ms = 0;
		out->state = amount && used * 1000 >= (uint64_t)p->conf.warn_at_milli * amount
				     ? "warn"
				     : "ok";
	} else {
		/* Until the budget has this cost again: the next period, or, in
		 * debt, the period whose start leaves room for it. */
		uint64_t wait = out->reset_ms;

		if (cost <= amount && used + cost > amount)
			wait = (period + budget_periods(used + cost - amount, amount)) * period_ms -
			       op->now_ms;
		if (blocked) {
			/* until the block ends AND the budget has the cost */
			out->retry_after_ms = s->blocked_until - op->now_ms;
			if (cost > amount || used > amount - cost)
				out->retry_after_ms = max_u64(out->retry_after_ms, wait);
			out->state = "blocked";
		} else {
			out->retry_after_ms = wait;
			out->state = "deny";
		}
	}
	return budget_expiry(p, s);
}

/* RL.CHARGE, RL.REFUND: record cost (or take it back), then answer what a
 * request of cost 1 would get now (budget_check with peek). */
static uint64_t budget_charge(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg, peek = *op;
	struct policy_req rq = *op->rq;
	struct st_budget *s = state;
	uint64_t period = op->now_ms / budget_period_ms(op->p);
	uint64_t used = budget_used(s, period, budget_amount(op->p, op->role));

	if (rq.refund)
		used = used > rq.cost ? used - rq.cost : 0;
	else
		used = used + rq.cost < POLICY_DEBT_MAX ? used + rq.cost : POLICY_DEBT_MAX;
	s->used = used;
	s->period = period;
	rq.cost = 1;
	rq.peek = true;
	peek.rq = &rq;
	return budget_check(state, fresh, &peek);
}

static void budget_describe(const struct policy *p, int role, struct policy_desc *d)
{
	d->q[0].quota = budget_amount(p, role);
	d->q[0].window_ms = budget_period_ms(p);
	d->q[0].window = budget_window(p);
	d->nq = 1;
	d->http = true;
}

static void budget_fallback(struct policy_call *c, bool allow)
{
	policy_check_fallback(&c->ans->u.check, allow, budget_amount(c->p, c->role),
			      budget_window(c->p));
}

/* xp: the period in ms; x: the amount of role; one pair: the smallest
 * amount (budget_min_amount), 0. */
static void budget_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	policy_put_double(buf, off, budget_period_ms(p));
	policy_put_double(buf, off, budget_amount(p, role));
	policy_put_double(buf, off, 1);
	policy_put_double(buf, off, budget_min_amount(p));
	policy_put_double(buf, off, 0);
}

#define DEBT_MAX "4000000000000000" /* POLICY_DEBT_MAX */
_Static_assert(POLICY_DEBT_MAX == 4000000000000000ULL, "DEBT_MAX");

/* expiry: budget_expiry. */
#define LUA_STATE                                                                                  \
	"local nf = 3\n"                                                                           \
	"local function expiry(f) local e, ma, k = f[1], limit(1), 1\n"                            \
	"  if ma > 0 and f[2] > ma then k = math.min(math.ceil(f[2] / ma), 1000000) end\n"         \
	"  if f[2] > 0 and (f[3] + k) * xp > e then e = (f[3] + k) * xp end\n"                     \
	"  return e end\n"

/* After the state is loaded (it reads f): budget_used. */
#define LUA_CARRIED                                                                                \
	"local function carried(period)\n"                                                         \
	"  if f[3] == period then return f[2] end\n"                                               \
	"  if f[3] > period then return 0 end\n"                                                   \
	"  local u = f[2] - (period - f[3]) * x\n"                                                 \
	"  if u < 0 then u = 0 end\n"                                                              \
	"  return u end\n"

/* budget_check: ARGV 3 cost, 4 peek (1), or budget_charge: 4 is 2 (charge)
 * or 3 (refund). */
#define LUA_CHECK                                                                                  \
	LUA_CARRIED                                                                                \
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"                                   \
	"local period = math.floor(now / xp)\n"                                                    \
	"local used = carried(period)\n"                                                           \
	"if ARGV[4] == '2' or ARGV[4] == '3' then\n"                                               \
	"  if ARGV[4] == '2' then used = math.min(used + cost, " DEBT_MAX ")\n"                    \
	"  else used = math.max(used - cost, 0) end\n"                                             \
	"  f[2] = used; f[3] = period; save(); return {now, v or false} end\n"                     \
	"if f[1] <= now and cost <= x and used <= x - cost and not peek and cost > 0 then\n"       \
	"  f[2] = used + cost; f[3] = period; save() end\n"                                        \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount used in the current period. */
#define LUA_REPLAY                                                                                 \
	LUA_CARRIED                                                                                \
	"local a = tonumber(ARGV[3])\n"                                                            \
	"local period = math.floor(now / xp)\n"                                                    \
	"f[2] = math.min(carried(period) + a, " DEBT_MAX "); f[3] = period\n"                      \
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
	.layout = budget_layout,
	.state_size = budget_state_size,
	.decide = { [POLICY_OP_CHECK] = budget_check, [POLICY_OP_CHARGE] = budget_charge },
	.validate = budget_validate,
	.expiry = budget_expiry,
	.fallback = budget_fallback,
	.describe = budget_describe,
	.lua = { [POLICY_LUA_DECIDE] = lua_check,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = budget_pack,
};
