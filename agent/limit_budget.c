// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * budget: an amount per hour or day that RL.CHECK charges by cost (API
 * credits, bytes, tokens); roles have their own amounts. Periods are UTC's
 * or those of the policy's time zone (tzone.h: local midnight, 23- and
 * 25-hour days). The state is the amount used and the number of the
 * (local) period it was used in. RL.CHARGE records usage known
 * only afterwards and may go past the amount: the excess is a debt that
 * each new period pays back by its amount before requests pass again.
 */
#include <errno.h>

#include "config_policies.h"
#include "policy_int.h"
#include "policy_lua.h"
#include "tzone.h"

_Static_assert(POLICY_TZ_NAME_MAX == TZONE_NAME_MAX, "a policy's zone is a tzone name");

/* The state; the block comes first. */
struct st_budget {
	uint64_t blocked_until;
	uint64_t used;
	uint64_t period; /* tzone_period() when used was charged */
};

static void budget_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	d->amount = s->amount;
	d->period = s->period;
	memcpy(d->timezone, s->timezone, sizeof(d->timezone));
	d->tz = s->tz;
	policy_canon_roles(d, s);
}

/* used is an amount of the period numbered in the state: another period
 * length renumbers them; another amount or role keeps what was used. A day
 * is numbered by its date in any zone, so another zone keeps the day's use
 * (dropped when the new zone's date has already turned); an hour's number
 * moves with the zone's offset, so another zone starts an hourly budget
 * afresh (blocks stay). */
static void budget_layout(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	d->period = s->period;
	if (s->period == POLICY_PERIOD_HOUR)
		memcpy(d->timezone, s->timezone, sizeof(d->timezone));
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

/* Used in period: an older period's use less what the periods since paid
 * back at the role's amount (what a charge took past the amount carries
 * over). A role of amount 0 pays nothing itself: it reads the debt as the
 * smallest amount pays it back, the rate budget_expiry forgets the key at,
 * so its charges neither revive a paid debt nor read a key differently
 * before and after a store dropped it (issue 12). Nothing once the key has
 * expired, nor when the clock went back past it. */
static uint64_t budget_used(const struct policy *p, const struct st_budget *s, uint64_t period,
			    int role)
{
	uint64_t min = budget_min_amount(p), pay = budget_amount(p, role);
	unsigned __int128 paid;

	if (s->period == period)
		return s->used;
	if (s->period > period || period - s->period >= budget_periods(s->used, min))
		return 0;
	/* min > 0 here: without one every older use has expired */
	paid = (unsigned __int128)(period - s->period) * (pay ? pay : min);
	return paid >= s->used ? 0 : s->used - (uint64_t)paid;
}

/* When local period n starts. */
static uint64_t budget_start(const struct policy *p, uint64_t n)
{
	return tzone_period_start(p->conf.tz, n, budget_period_ms(p));
}

/* When the use is paid back at the smallest amount: the latest local
 * period s->period + k can start (its UTC count less the zone's smallest
 * offset), as the scripts' expiry(f) sets on Redis, so both stores forget
 * a key at the same time and a reload into another zone finds the same
 * keys in both (a key kept a little longer reads the same: budget_used). */
static uint64_t budget_expiry(const struct policy *p, const void *state)
{
	const struct st_budget *s = state;
	uint64_t k = budget_periods(s->used, budget_min_amount(p));
	int64_t late = p->conf.tz ? -p->conf.tz->min_off_ms : 0;
	uint64_t end = (s->period + k) * budget_period_ms(p);

	if (s->used)
		end = late >= 0 ? end + (uint64_t)late : end > (uint64_t)-late ? end + late : 0;
	return max_u64(s->blocked_until, s->used ? end : 0);
}

static uint64_t budget_check(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct policy *p = op->p;
	struct st_budget *s = state;
	struct rl_result *out = &op->ans->u.check;
	uint64_t amount = budget_amount(p, op->role), cost = op->rq->cost;
	/* Unix time has no leap seconds: every UTC day is exactly 86400 s;
	 * a zone's are not (tzone.h). */
	uint64_t period = tzone_period(p->conf.tz, op->now_ms, budget_period_ms(p));
	uint64_t used = budget_used(p, s, period, op->role);
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
	out->reset_ms = budget_start(p, period + budget_periods(used, amount)) - op->now_ms;
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
			wait = budget_start(p,
					    period + budget_periods(used + cost - amount, amount)) -
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
	uint64_t period = tzone_period(op->p->conf.tz, op->now_ms, budget_period_ms(op->p));
	uint64_t used = budget_used(op->p, s, period, op->role);

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
	d->param[d->nparam].name = "timezone";
	d->param[d->nparam++].s = p->conf.tz ? p->conf.timezone : "UTC";
}

static void budget_fallback(struct policy_call *c, bool allow)
{
	policy_check_fallback(&c->ans->u.check, allow, budget_amount(c->p, c->role),
			      budget_window(c->p));
}

/* Zone segments a script gets (policy_lua.h's PARAMS_MAX holds them). */
#define BUDGET_LUA_SEGS 6
/* How far the Redis server's clock may run ahead of the agent's and still
 * find its period in the zone's window. */
#define BUDGET_SKEW_MS MS_PER_DAY

static uint64_t budget_window_at(uint64_t at_ms)
{
	return at_ms > BUDGET_SKEW_MS ? at_ms - BUDGET_SKEW_MS : 0;
}

/*
 * xp: the period in ms; x: the amount of role; pairs: the smallest amount
 * (budget_min_amount) and how much later than its UTC count a period may
 * start (-the zone's smallest offset, for expiries); with a zone, then the
 * floor of the first segment, 0 and the segments (start, offset) in effect
 * from a day before the time packed for (tzone_window): the scripts compute
 * tzone_period from them, on Redis's clock, as the memory store does.
 */
static void budget_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	struct tzone_seg seg[BUDGET_LUA_SEGS];
	uint64_t until;
	size_t n = tzone_window(p->conf.tz, budget_window_at(p->params_at), seg, BUDGET_LUA_SEGS,
				&until),
	       i;

	policy_put_double(buf, off, budget_period_ms(p));
	policy_put_double(buf, off, budget_amount(p, role));
	policy_put_double(buf, off, n ? 2 + n : 1);
	policy_put_double(buf, off, budget_min_amount(p));
	policy_put_sdouble(buf, off, p->conf.tz ? -p->conf.tz->min_off_ms : 0);
	if (!n)
		return;
	policy_put_sdouble(buf, off, seg[0].floor_ms);
	policy_put_double(buf, off, 0);
	for (i = 0; i < n; i++) {
		policy_put_sdouble(buf, off, seg[i].start_ms);
		policy_put_sdouble(buf, off, seg[i].off_ms);
	}
}
_Static_assert(2 * CONF_ID_LEN + 8 * (3 + 4 + 2 * BUDGET_LUA_SEGS) <= PARAMS_MAX, "params");

/* The packed window holds until its first segment left out starts, less
 * the skew; a zone without changes there holds forever. */
static uint64_t budget_pack_until(const struct policy *p, uint64_t at_ms)
{
	struct tzone_seg seg[BUDGET_LUA_SEGS];
	uint64_t until;

	tzone_window(p->conf.tz, budget_window_at(at_ms), seg, BUDGET_LUA_SEGS, &until);
	return until == UINT64_MAX ? until : until > BUDGET_SKEW_MS ? until - BUDGET_SKEW_MS : 0;
}

#define DEBT_MAX "4000000000000000" /* POLICY_DEBT_MAX */
_Static_assert(POLICY_DEBT_MAX == 4000000000000000ULL, "DEBT_MAX");

/* periods(used): budget_periods at the smallest amount; expiry:
 * budget_expiry, at the latest a period can start (the zone's smallest
 * offset): a key kept a little longer reads the same. lperiod:
 * tzone_period, from the packed segments. */
#define LUA_STATE                                                                                  \
	"local nf = 3\n"                                                                           \
	"local function periods(used) local ma = limit(1)\n"                                       \
	"  if ma > 0 and used > ma then return math.min(math.ceil(used / ma), 1000000) end\n"      \
	"  return 1 end\n"                                                                         \
	"local function expiry(f) local e, k = f[1], periods(f[2])\n"                              \
	"  local _, late = limit(1)\n"                                                             \
	"  if f[2] > 0 and (f[3] + k) * xp + late > e then e = (f[3] + k) * xp + late end\n"       \
	"  return e end\n"                                                                         \
	"local function lperiod(t) if n < 3 then return math.floor(t / xp) end\n"                  \
	"  local fl = limit(2)\n"                                                                  \
	"  local s, o = limit(3)\n"                                                                \
	"  for i = 4, n do local s2, o2 = limit(i)\n"                                              \
	"    if t < s2 then break end\n"                                                           \
	"    fl = math.max(fl, s2 - 1 + o); s, o = s2, o2 end\n"                                   \
	"  return math.floor(math.max(t + o, fl, 0) / xp) end\n"

/* After the state is loaded (it reads f): budget_used. */
#define LUA_CARRIED                                                                                \
	"local function carried(period)\n"                                                         \
	"  if f[3] == period then return f[2] end\n"                                               \
	"  if f[3] > period or period - f[3] >= periods(f[2]) then return 0 end\n"                 \
	"  local pay = x\n"                                                                        \
	"  if pay == 0 then pay = limit(1) end\n"                                                  \
	"  local u = f[2] - (period - f[3]) * pay\n"                                               \
	"  if u < 0 then u = 0 end\n"                                                              \
	"  return u end\n"

/* budget_check: ARGV 3 cost, 4 peek (1), or budget_charge: 4 is 2 (charge)
 * or 3 (refund). */
#define LUA_CHECK                                                                                  \
	LUA_CARRIED                                                                                \
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"                                   \
	"local period = lperiod(now)\n"                                                            \
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
	"local period = lperiod(now)\n"                                                            \
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

/* timezone: an IANA name or an offset, resolved now (tzone_get): a
 * decision never reads a file, and a zone that is not one is refused here. */
static int budget_timezone(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			   const char *path, void *dst)
{
	static const char what[] = "(an IANA name like Europe/Berlin, or an offset like +05:30)";
	struct fg_conf_policy *pc = dst;
	char b[80], why[320];
	const char *s;
	int err;

	(void)map;
	if (v->type != YAML_SCALAR_NODE)
		return cy_fail(p, v, path, "expected a time zone %s, got %s", what,
			       cy_show(v, b, sizeof(b)));
	s = cy_text(v);
	if (strlen(s) >= sizeof(pc->timezone))
		return cy_fail(p, v, path, "%s is not a time zone %s", cy_show(v, b, sizeof(b)),
			       what);
	why[0] = '\0';
	err = tzone_get(s, &pc->tz, why, sizeof(why));
	if (err == -ENOENT && strncmp(why, "no ", 3))
		return cy_fail(p, v, path, "\"%s\" is not a time zone %s", s, what);
	if (err == -EINVAL && !strcmp(why, "not a zone name"))
		return cy_fail(p, v, path, "%s is not a time zone %s", cy_show(v, b, sizeof(b)),
			       what);
	if (err)
		return cy_fail(p, v, path, "\"%s\" cannot be used: %s", s, why);
	/* UTC under any spelling is the default, whose state ids are unchanged */
	if (pc->tz)
		strcpy(pc->timezone, s);
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
	CY_READER("timezone", 0, budget_timezone),
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
	.pack_until = budget_pack_until,
};
