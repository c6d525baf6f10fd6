// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The four limiters. Each keeps a small fixed-size state per key in the
 * store and decides in one store_run() callback, so all windows of a
 * request are checked and charged together (or not at all).
 *
 * window:      GCRA (a theoretical arrival time per limit, in ns): exact,
 *              O(1) memory, no reset edge where twice the limit could pass.
 * progressive: failure count + time of the last failure.
 * events:      a fixed window per connection from its first counted event.
 * budget:      amount used + the UTC period (hour or day) it was used in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "store.h"

#define NS_PER_MS   1000000ULL
#define MS_PER_HOUR (3600ULL * 1000)
#define MS_PER_DAY  (86400ULL * 1000)
#define BLOCK_MAX_S (365ULL * 86400)

/* State layouts; the block comes first in all of them. */
struct st_window {
	uint64_t blocked_until;		 /* ms */
	uint64_t tat[POLICY_MAX_LIMITS]; /* ns; only nlimits are stored */
};

struct st_progressive {
	uint64_t blocked_until;
	uint64_t failures;
	uint64_t last_failure; /* ms */
};

struct st_events {
	uint64_t blocked_until;
	uint64_t count;
	uint64_t start; /* ms, start of the window */
};

struct st_budget {
	uint64_t blocked_until;
	uint64_t used;
	uint64_t period; /* now_ms / period_ms when used was charged */
};

_Static_assert(sizeof(struct st_window) <= STORE_STATE_MAX, "window state");

/* A window limit for one role (index 0 = no role). */
struct wlimit {
	uint64_t limit;	   /* requests */
	uint64_t t_ns;	   /* emission interval: per / limit */
	uint64_t burst_ns; /* limit * t_ns: how far ahead of now the TAT may run */
};

struct policy {
	struct fg_conf_policy conf;
	struct policies *set;
	uint32_t ns;
	uint32_t state_size;
	char wname[POLICY_MAX_LIMITS][24];
	/* window: [role + 1][limit] */
	struct wlimit wl[POLICY_MAX_ROLES + 1][POLICY_MAX_LIMITS];
	struct policy_stats stats;
};

struct policies {
	struct store *store;
	size_t n;
	struct policy **p;
};

static const char *const type_names[] = {"window", "progressive", "events", "budget"};

/* --- config comparison: what "unchanged" means for a reload ------------ */

static bool roles_equal(const struct fg_conf_policy *a, const struct fg_conf_policy *b)
{
	int i;

	if (a->nroles != b->nroles)
		return false;
	for (i = 0; i < a->nroles; i++) {
		if (strcmp(a->roles[i].name, b->roles[i].name) ||
		    a->roles[i].mult_milli != b->roles[i].mult_milli ||
		    a->roles[i].amount != b->roles[i].amount)
			return false;
	}
	return true;
}

static bool conf_equal(const struct fg_conf_policy *a, const struct fg_conf_policy *b)
{
	int i;

	if (strcmp(a->name, b->name) || a->type != b->type || a->warn_at_milli != b->warn_at_milli)
		return false;
	switch (a->type) {
	case POLICY_WINDOW:
		if (a->nlimits != b->nlimits || a->block_for_ms != b->block_for_ms ||
		    !roles_equal(a, b))
			return false;
		for (i = 0; i < a->nlimits; i++) {
			if (a->limits[i].count != b->limits[i].count ||
			    a->limits[i].per_ms != b->limits[i].per_ms)
				return false;
		}
		return true;
	case POLICY_PROGRESSIVE:
		return a->free_failures == b->free_failures &&
		       a->base_delay_ms == b->base_delay_ms && a->factor_milli == b->factor_milli &&
		       a->max_delay_ms == b->max_delay_ms &&
		       a->forget_after_ms == b->forget_after_ms &&
		       a->xdp_ban_after == b->xdp_ban_after &&
		       a->xdp_ban_for_ms == b->xdp_ban_for_ms;
	case POLICY_EVENTS:
		if (a->limit != b->limit || a->window_ms != b->window_ms ||
		    a->nexempt != b->nexempt)
			return false;
		for (i = 0; i < a->nexempt; i++) {
			if (strcmp(a->exempt[i], b->exempt[i]))
				return false;
		}
		return true;
	case POLICY_BUDGET:
		return a->amount == b->amount && a->period == b->period && roles_equal(a, b);
	}
	return false;
}

/* --- compiling ------------------------------------------------------------ */

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

static void compile_window(struct policy *p)
{
	const struct fg_conf_policy *c = &p->conf;
	int r, i;

	for (i = 0; i < c->nlimits; i++)
		window_name(c->limits[i].per_ms, p->wname[i], sizeof(p->wname[i]));
	for (r = 0; r <= c->nroles; r++) {
		uint64_t mult = r ? c->roles[r - 1].mult_milli : 1000;

		for (i = 0; i < c->nlimits; i++) {
			struct wlimit *w = &p->wl[r][i];
			uint64_t per_ns = c->limits[i].per_ms * NS_PER_MS;

			/* Config validation keeps limit in 1..per_ns; stay safe anyway. */
			w->limit = (uint64_t)((unsigned __int128)c->limits[i].count * mult / 1000);
			if (w->limit < 1)
				w->limit = 1;
			if (w->limit > per_ns)
				w->limit = per_ns;
			w->t_ns = per_ns / w->limit;
			w->burst_ns = w->limit * w->t_ns;
		}
	}
}

static struct policy *policy_compile(const struct fg_conf_policy *c)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->conf = *c;
	switch (c->type) {
	case POLICY_WINDOW:
		p->state_size = (uint32_t)(8 * (1 + c->nlimits));
		compile_window(p);
		break;
	case POLICY_PROGRESSIVE:
		p->state_size = sizeof(struct st_progressive);
		break;
	case POLICY_EVENTS:
		p->state_size = sizeof(struct st_events);
		break;
	case POLICY_BUDGET:
		p->state_size = sizeof(struct st_budget);
		strcpy(p->wname[0], c->period == POLICY_PERIOD_HOUR ? "hour" : "day");
		break;
	}
	return p;
}

static void set_free(struct policies *ps, bool with_store)
{
	size_t i;

	if (!ps)
		return;
	for (i = 0; i < ps->n; i++)
		free(ps->p[i]);
	free(ps->p);
	if (with_store)
		store_free(ps->store);
	free(ps);
}

static struct policy *find_conf(struct policies *ps, const char *name)
{
	size_t i;

	for (i = 0; ps && i < ps->n; i++) {
		if (!strcmp(ps->p[i]->conf.name, name))
			return ps->p[i];
	}
	return NULL;
}

struct policies *policies_new(const struct fg_conf *conf, struct policies *prev, uint64_t seed,
			      char *err, size_t errlen)
{
	struct policies *ps;
	uint64_t max_keys = conf->store.max_keys ? conf->store.max_keys : FG_CONF_STORE_MAX_KEYS;
	struct store *store;
	size_t i, made = 0;
	int ret = 0;
	bool *kept = NULL;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		goto nomem;
	ps->n = conf->npolicies > 0 ? (size_t)conf->npolicies : 0;
	ps->p = calloc(ps->n ? ps->n : 1, sizeof(*ps->p));
	kept = calloc(ps->n ? ps->n : 1, sizeof(*kept));
	if (!ps->p || !kept)
		goto nomem;
	for (i = 0; i < ps->n; i++) {
		struct policy *old = find_conf(prev, conf->policies[i].name);

		ps->p[i] = policy_compile(&conf->policies[i]);
		if (!ps->p[i])
			goto nomem;
		ps->p[i]->set = ps;
		if (old && conf_equal(&old->conf, &conf->policies[i])) {
			ps->p[i]->ns = old->ns;
			ps->p[i]->stats = old->stats;
			kept[i] = true;
		}
	}

	store = prev ? prev->store : store_memory_new(max_keys, seed);
	if (!store) {
		ret = -errno;
		snprintf(err, errlen, "store: cannot create the memory store: %s", strerror(errno));
		goto fail;
	}
	/* Namespaces for new and changed policies; nothing of prev changes
	 * until every step that can fail has succeeded. */
	for (i = 0; i < ps->n; i++, made++) {
		if (kept[i])
			continue;
		ret = store_ns_new(store, ps->p[i]->state_size, &ps->p[i]->ns);
		if (ret) {
			snprintf(err, errlen, "policies: no room for policy \"%s\" in the store",
				 ps->p[i]->conf.name);
			goto fail_ns;
		}
	}
	if (prev) {
		ret = store_set_max_keys(store, max_keys, 0);
		if (ret) {
			snprintf(err, errlen, "store.max_keys: cannot resize the store: %s",
				 strerror(-ret));
			goto fail_ns;
		}
		/* State of changed and removed policies goes. */
		for (i = 0; i < prev->n; i++) {
			size_t k;
			bool still = false;

			for (k = 0; k < ps->n; k++)
				still |= kept[k] && ps->p[k]->ns == prev->p[i]->ns;
			if (!still)
				store_ns_drop(store, prev->p[i]->ns);
		}
		set_free(prev, false);
	}
	ps->store = store;
	free(kept);
	return ps;

fail_ns:
	for (i = 0; i < made; i++) {
		if (!kept[i])
			store_ns_drop(store, ps->p[i]->ns);
	}
	if (!prev)
		store_free(store);
	goto fail;
nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "policies: out of memory");
fail:
	set_free(ps, false);
	free(kept);
	errno = -ret;
	return NULL;
}

void policies_free(struct policies *ps)
{
	set_free(ps, true);
}

struct policy *policies_find(struct policies *ps, const char *name, size_t len)
{
	size_t i;

	for (i = 0; ps && i < ps->n; i++) {
		const char *n = ps->p[i]->conf.name;

		if (strlen(n) == len && !memcmp(n, name, len))
			return ps->p[i];
	}
	return NULL;
}

size_t policies_count(const struct policies *ps)
{
	return ps ? ps->n : 0;
}

struct policy *policies_at(struct policies *ps, size_t i)
{
	return ps && i < ps->n ? ps->p[i] : NULL;
}

const char *policy_name(const struct policy *p)
{
	return p->conf.name;
}

enum policy_type policy_type(const struct policy *p)
{
	return p->conf.type;
}

const char *policy_type_name(const struct policy *p)
{
	return type_names[p->conf.type];
}

const struct fg_conf_policy *policy_conf(const struct policy *p)
{
	return &p->conf;
}

void policy_stats(const struct policy *p, struct policy_stats *out)
{
	*out = p->stats;
	out->keys = store_ns_keys(p->set->store, p->ns);
}

void policies_store_stats(const struct policies *ps, struct policies_store_stats *out)
{
	struct store_stats s;

	store_stats(ps->store, &s);
	out->type = s.type;
	out->keys = s.keys;
	out->max_keys = s.max_keys;
	out->evictions = s.evictions;
	out->expired = s.expired;
	out->bytes = s.bytes;
}

size_t policies_sweep(struct policies *ps, uint64_t now_ms, size_t budget)
{
	return store_sweep(ps->store, now_ms, budget);
}

/* --- helpers ----------------------------------------------------------- */

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t ns_to_ms_ceil(uint64_t ns)
{
	return ns / NS_PER_MS + (ns % NS_PER_MS != 0);
}

/* -1 = unknown; 0 = no role given; else 1 + index. Case-insensitive. */
static int role_index(const struct policy *p, const char *role, size_t rlen)
{
	int i;

	if (!role)
		return 0;
	for (i = 0; i < p->conf.nroles; i++) {
		const char *n = p->conf.roles[i].name;

		if (strlen(n) == rlen && !strncasecmp(n, role, rlen))
			return i + 1;
	}
	return -1;
}

/* --- window ---------------------------------------------------------------- */

struct window_op {
	const struct policy *p;
	const struct wlimit *wl;
	uint64_t cost, now_ms;
	bool peek;
	int err;
	struct rl_result *out;
};

static uint64_t window_expiry(const struct policy *p, const struct st_window *s)
{
	uint64_t exp = s->blocked_until;
	int i;

	for (i = 0; i < p->conf.nlimits; i++)
		exp = max_u64(exp, ns_to_ms_ceil(s->tat[i]));
	return exp;
}

static uint64_t window_fn(void *state, bool fresh, void *arg)
{
	struct window_op *op = arg;
	const struct policy *p = op->p;
	struct st_window *s = state;
	struct rl_result *out = op->out;
	uint64_t now_ns = op->now_ms * NS_PER_MS;
	uint64_t tat[POLICY_MAX_LIMITS], next[POLICY_MAX_LIMITS];
	uint64_t best_rem = UINT64_MAX, best_reset = 0, best_retry = 0;
	int i, n = p->conf.nlimits, bind = 0;
	bool ok = true, blocked, charge, warn = false;

	(void)fresh;
	for (i = 0; i < n; i++) {
		if (op->cost > op->wl[i].limit) {
			op->err = -ERANGE;
			return window_expiry(p, s);
		}
	}
	blocked = s->blocked_until > op->now_ms;
	for (i = 0; i < n; i++) {
		tat[i] = max_u64(s->tat[i], now_ns);
		next[i] = tat[i] + op->cost * op->wl[i].t_ns;
		if (next[i] - now_ns > op->wl[i].burst_ns)
			ok = false;
	}
	ok = ok && !blocked;
	charge = ok && !op->peek && op->cost;

	/* The binding window: when refused, the one that holds the request back
	 * longest; when allowed, the one with the least left (ties: longest reset). */
	for (i = 0; i < n; i++) {
		const struct wlimit *w = &op->wl[i];
		uint64_t at = charge ? next[i] : tat[i];
		uint64_t rem = (w->burst_ns - (at - now_ns)) / w->t_ns;
		uint64_t reset = at - now_ns;
		uint64_t retry =
			next[i] - now_ns > w->burst_ns ? next[i] - w->burst_ns - now_ns : 0;

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
	out->limit = op->wl[bind].limit;
	out->remaining = (op->wl[bind].burst_ns - ((charge ? next[bind] : tat[bind]) - now_ns)) /
			 op->wl[bind].t_ns;
	out->reset_ms = ns_to_ms_ceil((charge ? next[bind] : tat[bind]) - now_ns);
	out->window = p->wname[bind];
	if (ok) {
		out->retry_after_ms = 0;
		out->state = warn ? "warn" : "ok";
	} else if (blocked) {
		out->retry_after_ms = s->blocked_until - op->now_ms;
		out->state = "blocked";
	} else {
		out->retry_after_ms = ns_to_ms_ceil(best_retry);
		out->state = "deny";
		if (p->conf.block_for_ms && !op->peek) {
			s->blocked_until = op->now_ms + p->conf.block_for_ms;
			out->retry_after_ms = max_u64(out->retry_after_ms, p->conf.block_for_ms);
			out->state = "blocked";
		}
	}
	return window_expiry(p, s);
}

/* --- budget ---------------------------------------------------------------- */

struct budget_op {
	const struct policy *p;
	uint64_t amount, cost, now_ms;
	bool peek;
	struct rl_result *out;
};

static uint64_t budget_period_ms(const struct policy *p)
{
	return p->conf.period == POLICY_PERIOD_HOUR ? MS_PER_HOUR : MS_PER_DAY;
}

static uint64_t budget_expiry(const struct policy *p, const struct st_budget *s)
{
	return max_u64(s->blocked_until, s->used ? (s->period + 1) * budget_period_ms(p) : 0);
}

static uint64_t budget_fn(void *state, bool fresh, void *arg)
{
	struct budget_op *op = arg;
	const struct policy *p = op->p;
	struct st_budget *s = state;
	struct rl_result *out = op->out;
	uint64_t period_ms = budget_period_ms(p);
	/* Unix time has no leap seconds: every UTC day is exactly 86400 s. */
	uint64_t period = op->now_ms / period_ms;
	uint64_t used = s->period == period ? s->used : 0;
	bool blocked = s->blocked_until > op->now_ms;
	bool ok = !blocked && op->cost <= op->amount && used <= op->amount - op->cost;

	(void)fresh;
	if (ok && !op->peek && op->cost) {
		used += op->cost;
		s->used = used;
		s->period = period;
	}
	out->allowed = ok;
	out->limit = op->amount;
	out->remaining = used < op->amount ? op->amount - used : 0;
	out->reset_ms = (period + 1) * period_ms - op->now_ms;
	out->window = p->wname[0];
	if (ok) {
		out->retry_after_ms = 0;
		out->state =
			op->amount && used * 1000 >= (uint64_t)p->conf.warn_at_milli * op->amount
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

static int check_key(const struct policy *p, size_t klen)
{
	(void)p;
	return klen > POLICY_KEY_MAX ? -E2BIG : 0;
}

int policy_check(struct policy *p, const void *key, size_t klen, uint64_t cost, const char *role,
		 size_t rlen, bool peek, uint64_t now_ms, struct rl_result *out)
{
	int r, err;

	if (p->conf.type != POLICY_WINDOW && p->conf.type != POLICY_BUDGET)
		return -EOPNOTSUPP;
	if ((err = check_key(p, klen)))
		return err;
	if (cost > POLICY_COST_MAX)
		return -EINVAL;
	r = role_index(p, role, rlen);
	if (r < 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	if (p->conf.type == POLICY_WINDOW) {
		struct window_op op = {.p = p,
				       .wl = p->wl[r],
				       .cost = cost,
				       .now_ms = now_ms,
				       .peek = peek,
				       .out = out};

		err = store_run(p->set->store, p->ns, key, klen, !peek, now_ms, window_fn, &op);
		if (!err)
			err = op.err;
	} else {
		struct budget_op op = {.p = p,
				       .amount = r ? p->conf.roles[r - 1].amount : p->conf.amount,
				       .cost = cost,
				       .now_ms = now_ms,
				       .peek = peek,
				       .out = out};

		err = store_run(p->set->store, p->ns, key, klen, !peek, now_ms, budget_fn, &op);
	}
	if (err)
		return err;
	if (out->allowed)
		p->stats.allowed++;
	else
		p->stats.denied++;
	if (!strcmp(out->state, "warn"))
		p->stats.warned++;
	else if (!strcmp(out->state, "blocked"))
		p->stats.blocked++;
	return 0;
}

/* --- progressive ----------------------------------------------------------- */

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

struct auth_op {
	const struct policy *p;
	uint64_t now_ms;
	bool fail;
	struct rl_auth_result *out;
};

static uint64_t progressive_expiry(const struct policy *p, const struct st_progressive *s)
{
	return max_u64(s->blocked_until,
		       s->failures ? s->last_failure + p->conf.forget_after_ms : 0);
}

static uint64_t auth_fn(void *state, bool fresh, void *arg)
{
	struct auth_op *op = arg;
	const struct fg_conf_policy *c = &op->p->conf;
	struct st_progressive *s = state;
	struct rl_auth_result *out = op->out;
	uint64_t now = op->now_ms, delay, since;

	(void)fresh;
	if (s->failures && now - s->last_failure >= c->forget_after_ms)
		s->failures = 0;
	if (op->fail) {
		if (s->failures < UINT64_MAX)
			s->failures++;
		s->last_failure = now;
	}
	delay = progressive_delay(c, s->failures);
	since = s->failures ? now - s->last_failure : 0;
	out->failures = s->failures;
	out->delay_ms = delay > since ? delay - since : 0;
	if (s->blocked_until > now)
		out->delay_ms = max_u64(out->delay_ms, s->blocked_until - now);
	if (op->fail && c->xdp_ban_after && s->failures >= c->xdp_ban_after) {
		out->ban = true;
		out->ban_for_ms = c->xdp_ban_for_ms;
	}
	return progressive_expiry(op->p, s);
}

static int auth_run(struct policy *p, const void *key, size_t klen, uint64_t now_ms, bool fail,
		    struct rl_auth_result *out)
{
	struct auth_op op = {.p = p, .now_ms = now_ms, .fail = fail, .out = out};
	int err;

	if (p->conf.type != POLICY_PROGRESSIVE)
		return -EOPNOTSUPP;
	if ((err = check_key(p, klen)))
		return err;
	memset(out, 0, sizeof(*out));
	return store_run(p->set->store, p->ns, key, klen, fail, now_ms, auth_fn, &op);
}

int policy_auth_fail(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
		     struct rl_auth_result *out)
{
	int err = auth_run(p, key, klen, now_ms, true, out);

	if (!err) {
		p->stats.auth_failures++;
		p->stats.xdp_bans += out->ban;
	}
	return err;
}

int policy_auth_check(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
		      struct rl_auth_result *out)
{
	int err = auth_run(p, key, klen, now_ms, false, out);

	if (!err) {
		if (out->delay_ms)
			p->stats.denied++;
		else
			p->stats.allowed++;
	}
	return err;
}

int policy_auth_ok(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	if (p->conf.type != POLICY_PROGRESSIVE)
		return -EOPNOTSUPP;
	return policy_reset(p, key, klen, now_ms);
}

/* --- events ---------------------------------------------------------------- */

struct event_op {
	const struct policy *p;
	uint64_t now_ms;
	bool exempt;
	struct rl_event_result *out;
};

static uint64_t events_expiry(const struct policy *p, const struct st_events *s)
{
	return max_u64(s->blocked_until, s->count ? s->start + p->conf.window_ms : 0);
}

static uint64_t event_fn(void *state, bool fresh, void *arg)
{
	struct event_op *op = arg;
	const struct fg_conf_policy *c = &op->p->conf;
	struct st_events *s = state;
	struct rl_event_result *out = op->out;
	uint64_t warn_n = ((uint64_t)c->warn_at_milli * c->limit + 999) / 1000;

	(void)fresh;
	if (s->count && op->now_ms - s->start >= c->window_ms)
		s->count = 0;
	out->limit = c->limit;
	if (op->exempt) {
		out->state = "exempt";
	} else if (s->blocked_until > op->now_ms) {
		out->state = "disconnect";
	} else {
		if (!s->count)
			s->start = op->now_ms;
		s->count++;
		if (s->count >= c->limit)
			out->state = "disconnect";
		else if (s->count == warn_n)
			out->state = "warn";
		else
			out->state = "ok";
	}
	out->count = s->count;
	return events_expiry(op->p, s);
}

static bool event_exempt(const struct fg_conf_policy *c, const char *ev, size_t elen)
{
	int i;

	for (i = 0; i < c->nexempt; i++) {
		if (strlen(c->exempt[i]) == elen && !memcmp(c->exempt[i], ev, elen))
			return true;
	}
	return false;
}

int policy_event(struct policy *p, const void *conn, size_t clen, const char *event, size_t elen,
		 uint64_t now_ms, struct rl_event_result *out)
{
	struct event_op op = {.p = p, .now_ms = now_ms, .out = out};
	int err;

	if (p->conf.type != POLICY_EVENTS)
		return -EOPNOTSUPP;
	if ((err = check_key(p, clen)))
		return err;
	memset(out, 0, sizeof(*out));
	op.exempt = event_exempt(&p->conf, event, elen);
	err = store_run(p->set->store, p->ns, conn, clen, !op.exempt, now_ms, event_fn, &op);
	if (err)
		return err;
	if (!strcmp(out->state, "disconnect")) {
		p->stats.denied++;
	} else {
		p->stats.allowed++;
		p->stats.warned += !strcmp(out->state, "warn");
	}
	return 0;
}

int policy_conn_close(struct policy *p, const void *conn, size_t clen, uint64_t now_ms)
{
	if (p->conf.type != POLICY_EVENTS)
		return -EOPNOTSUPP;
	return policy_reset(p, conn, clen, now_ms);
}

/* --- block, unblock, reset --------------------------------------------------- */

struct block_op {
	const struct policy *p;
	uint64_t until; /* 0 = unblock */
};

static uint64_t state_expiry(const struct policy *p, const void *state)
{
	switch (p->conf.type) {
	case POLICY_WINDOW:
		return window_expiry(p, state);
	case POLICY_PROGRESSIVE:
		return progressive_expiry(p, state);
	case POLICY_EVENTS:
		return events_expiry(p, state);
	case POLICY_BUDGET:
		return budget_expiry(p, state);
	}
	return 0;
}

static uint64_t block_fn(void *state, bool fresh, void *arg)
{
	struct block_op *op = arg;
	uint64_t *blocked_until = state; /* first field of every state */

	(void)fresh;
	if (!op->until)
		*blocked_until = 0;
	else
		*blocked_until = max_u64(*blocked_until, op->until);
	return state_expiry(op->p, state);
}

int policy_block(struct policy *p, const void *key, size_t klen, uint64_t seconds, uint64_t now_ms)
{
	struct block_op op = {.p = p, .until = now_ms + seconds * 1000};
	int err;

	if ((err = check_key(p, klen)))
		return err;
	if (!seconds || seconds > BLOCK_MAX_S)
		return -EINVAL;
	return store_run(p->set->store, p->ns, key, klen, true, now_ms, block_fn, &op);
}

int policy_unblock(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	struct block_op op = {.p = p, .until = 0};
	int err;

	if ((err = check_key(p, klen)))
		return err;
	return store_run(p->set->store, p->ns, key, klen, false, now_ms, block_fn, &op);
}

int policy_reset(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	int err;

	if ((err = check_key(p, klen)))
		return err;
	return store_del(p->set->store, p->ns, key, klen, now_ms);
}
