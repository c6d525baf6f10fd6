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
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policy.h"
#include "redis.h"
#include "sbuf.h"
#include "store.h"

#define NS_PER_MS   1000000ULL
#define MS_PER_HOUR (3600ULL * 1000)
#define MS_PER_DAY  (86400ULL * 1000)

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

#define CONF_ID_LEN 16 /* hex digits of make_conf_id() */
/* "{prefix:len:name:" and a whole Redis key. */
#define RKEY_PREFIX_MAX (2 * FG_CONF_NAME_MAX + 16)
#define RKEY_MAX	(RKEY_PREFIX_MAX + STORE_KEY_MAX + 2)
/* The scripts' packed parameters (pack_params()): the id, 4 doubles, 2 per limit. */
#define PARAMS_MAX (CONF_ID_LEN + 8 * (4 + 2 * POLICY_MAX_LIMITS))

struct policy {
	struct fg_conf_policy conf;
	size_t namelen; /* strlen(conf.name) */
	struct policies *set;
	uint32_t ns;
	uint32_t state_size;
	uint64_t max_keys; /* its bound in the store: conf.max_keys or a fair share */
	char wname[POLICY_MAX_LIMITS][24];
	/* window: [role + 1][limit] */
	struct wlimit wl[POLICY_MAX_ROLES + 1][POLICY_MAX_LIMITS];
	struct policy_stats stats;
	char conf_id[CONF_ID_LEN + 1]; /* Redis state of another config of this policy is ignored */
	/* The Redis scripts' first argument, per role (window, budget), packed once. */
	unsigned char params[POLICY_MAX_ROLES + 1][PARAMS_MAX];
	size_t params_len;
	char rkey[RKEY_PREFIX_MAX]; /* "{prefix:len(name):name:", its Redis keys' start */
	size_t rkeylen;
};

struct shared_stats {
	uint64_t fallback_decisions, replayed_keys, replay_dropped, late_applied;
};

/*
 * The outage journal: what memory counted while Redis was away (below).
 * Shared by the sets of successive reloads (owner: the current one); it
 * outlives them while replies it waits for (replays, late replies) are due.
 */
struct jentry;
struct journal {
	struct jentry **buckets; /* JOURNAL_BUCKETS chains */
	uint64_t n;
	struct jentry *replay, *replay_tail; /* handed to Redis in the background */
	uint64_t nreplay;
	unsigned inflight;		/* replay scripts in Redis */
	unsigned refs;			/* replies still to come: replays, late replies */
	struct policies *owner;		/* the current set; NULL once it is freed */
	uint64_t run_sent, run_dropped; /* of the replay under way */
	struct shared_stats stats;
};

struct policies {
	struct store *store;
	size_t n;
	struct policy **p;
	/* The shared store; carried over by policies_new like the memory store. */
	struct redis *redis;
	int scripts[8];
	struct journal *journal; /* outage counts, per key */
	struct shared_stats *sstats;
	bool fixed_clock;
	/* Requests in flight hold the set: a reload frees it when the last ends. */
	unsigned refs;
	bool dead, dead_with_store;
};

static const char *const type_names[] = { "window", "progressive", "events", "budget" };

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

/* A short id of everything conf_equal() compares (name aside: it is in the key). */
static void make_conf_id(struct policy *p)
{
	struct fg_conf_policy c;

	memcpy(&c, &p->conf, sizeof(c));
	/* What conf_equal() ignores must not change the id. */
	memset(c.name, 0, sizeof(c.name));
	c.line = 0;
	c.on_store_error = 0;
	c.max_keys = 0;
	if (c.type != POLICY_WINDOW && c.type != POLICY_BUDGET)
		memset(c.roles, 0, sizeof(c.roles));
	snprintf(p->conf_id, sizeof(p->conf_id), "%016llx",
		 (unsigned long long)store_siphash(0x666c6f6f64676174ULL, 0x65ULL, &c, sizeof(c)));
}

static void pack_params(struct policy *p);

static struct policy *policy_compile(const struct fg_conf_policy *c)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->conf = *c;
	p->namelen = strlen(c->name);
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
	make_conf_id(p);
	pack_params(p);
	return p;
}

static void journal_release(struct journal *j);
static void redis_keys_init(struct policies *ps);

static void set_free(struct policies *ps, bool with_store)
{
	size_t i;

	if (!ps)
		return;
	if (ps->refs) {
		ps->dead = true;
		ps->dead_with_store = with_store;
		return;
	}
	if (with_store)
		journal_release(ps->journal);
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
	/* Each policy's own bound: its keys evict only its own (issue 10:
	 * a flood of one policy's keys must not push out another's blocks and
	 * auth failures). Bounds first, so the store's bound below only
	 * reclaims what they left over. */
	{
		uint64_t share = policies_fair_share(conf);

		for (i = 0; i < ps->n; i++) {
			struct policy *pp = ps->p[i];

			pp->max_keys = pp->conf.max_keys ? pp->conf.max_keys : share;
			store_ns_set_max_keys(store, pp->ns, pp->max_keys, 0);
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
		ps->redis = prev->redis;
		if (ps->redis)
			redis_keys_init(ps);
		memcpy(ps->scripts, prev->scripts, sizeof(ps->scripts));
		ps->journal = prev->journal;
		ps->sstats = prev->sstats;
		if (ps->journal)
			ps->journal->owner = ps;
		ps->fixed_clock = prev->fixed_clock;
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
		if (ps->p[i]->namelen == len && !memcmp(ps->p[i]->conf.name, name, len))
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
	out->max_keys = p->max_keys;
	out->evictions = store_ns_evictions(p->set->store, p->ns);
}

uint64_t policies_fair_share(const struct fg_conf *conf)
{
	uint64_t total = conf->store.max_keys ? conf->store.max_keys : FG_CONF_STORE_MAX_KEYS;
	uint64_t fixed = 0, n = 0;
	int i;

	for (i = 0; i < conf->npolicies; i++) {
		if (conf->policies[i].max_keys)
			fixed += conf->policies[i].max_keys;
		else
			n++;
	}
	if (!n)
		return 0;
	return fixed < total && (total - fixed) / n ? (total - fixed) / n : 1;
}

void policies_store_stats(const struct policies *ps, struct policies_store_stats *out)
{
	struct store_stats s;

	memset(out, 0, sizeof(*out));
	if (ps->redis) {
		struct redis_stats rs;

		redis_stats(ps->redis, &rs);
		out->shared = true;
		out->fallback_active = !rs.up;
		out->store_errors = rs.errors;
		out->store_timeouts = rs.timeouts;
		out->fallback_decisions = ps->sstats->fallback_decisions;
		out->replayed_keys = ps->sstats->replayed_keys;
		out->replay_dropped = ps->sstats->replay_dropped;
		out->late_applied = ps->sstats->late_applied;
		out->outage_keys = ps->journal ? ps->journal->n + ps->journal->nreplay : 0;
		out->switches = rs.switches;
		out->key_errors = rs.key_errors;
	}
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

/* Time since a stamp, 0 when the stamp is ahead of now: the wall clock can
 * step back (NTP, an operator), and an unsigned now - stamp would then read
 * as ages of time and forget a count or a failure history. */
static inline uint64_t since_ms(uint64_t now, uint64_t stamp)
{
	return now > stamp ? now - stamp : 0;
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

/* A budget's amount per period for role (an index from role_index()). */
static uint64_t budget_amount(const struct policy *p, int role)
{
	return role ? p->conf.roles[role - 1].amount : p->conf.amount;
}

/* --- window ---------------------------------------------------------------- */

struct window_op {
	const struct policy *p;
	const struct wlimit *wl;
	uint64_t cost, now_ms;
	bool peek;
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
	uint64_t tat[POLICY_MAX_LIMITS] = { 0 }, next[POLICY_MAX_LIMITS] = { 0 };
	uint64_t best_rem = UINT64_MAX, best_reset = 0, best_retry = 0;
	int i, n = p->conf.nlimits, bind = 0;
	bool ok = true, blocked, charge, warn = false;

	(void)fresh;
	/* validate() refused a cost above any limit before the store was asked. */
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

static void count_check(struct policy *p, const struct rl_result *out)
{
	if (out->allowed)
		p->stats.allowed++;
	else
		p->stats.denied++;
	if (!strcmp(out->state, "warn"))
		p->stats.warned++;
	else if (!strcmp(out->state, "blocked"))
		p->stats.blocked++;
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
	if (s->failures && since_ms(now, s->last_failure) >= c->forget_after_ms)
		s->failures = 0;
	if (op->fail) {
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
	if (op->fail && c->xdp_ban_after && s->failures >= c->xdp_ban_after) {
		out->ban = true;
		out->ban_for_ms = c->xdp_ban_for_ms;
	}
	return progressive_expiry(op->p, s);
}

static void count_auth(struct policy *p, bool fail, const struct rl_auth_result *out)
{
	if (fail) {
		p->stats.auth_failures++;
		p->stats.xdp_bans += out->ban;
	} else if (out->delay_ms) {
		p->stats.denied++;
	} else {
		p->stats.allowed++;
	}
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
	if (s->count && since_ms(op->now_ms, s->start) >= c->window_ms)
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

static void count_event(struct policy *p, const struct rl_event_result *out)
{
	if (!strcmp(out->state, "disconnect")) {
		p->stats.denied++;
	} else {
		p->stats.allowed++;
		p->stats.warned += !strcmp(out->state, "warn");
	}
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

/* --- the shared store: Redis ------------------------------------------------ */
/*
 * Each decision is one Lua script run atomically by Redis on one key,
 * {prefix:policy:key} (one hash slot). The value is the policy's config id
 * (16 bytes: state of another config of the policy counts as none) and then
 * the memory state as little-endian doubles, which Lua's struct library
 * reads and writes without text conversions (they cost more than the rest of
 * a script). Every field is an integer below 2^53, exact in a double;
 * window TATs are split for that into base (ms) and a debt d_i (ns) with
 * TAT_i = base * 10^6 + d_i, exact for windows up to 104 days.
 *
 * Each script applies the same state change as the memory callback, with
 * the time of the Redis server (TIME, in ms), and returns that time and
 * the value it found. The agent then runs the very memory callback on that
 * state and time: the reply is computed by the same code as with the memory
 * store (identical results by construction), and the new state is mirrored
 * into the memory store, so a fallback continues from the last shared state
 * this host saw.
 *
 * ARGV: 1 the parameters (args_common()): config id, then doubles kind
 * (enum policy_type), xp (the expiry parameter: forget_after, window,
 * period ms), x (window: block_for ms; budget: amount), n (window: limits)
 * and n pairs (t_ns, burst_ns); 2 a fixed now in ms (0: TIME); then the
 * script's own.
 */
#define LUA_PRELUDE                                                                                \
	"local P, now = ARGV[1], tonumber(ARGV[2])\n"                                              \
	"if now == 0 then local t = redis.call('TIME')\n"                                          \
	"  now = t[1] * 1000 + math.floor(t[2] / 1000) end\n"                                      \
	"local cid = string.sub(P, 1, 16)\n"                                                       \
	"local kind, xp, x, n = struct.unpack('<dddd', P, 17)\n"                                   \
	"local nf = 3\n"                                                                           \
	"if kind == 0 then nf = n + 2 end\n"                                                       \
	"local fmt = '<' .. string.rep('d', nf)\n"                                                 \
	"local v = redis.call('GET', KEYS[1])\n"                                                   \
	"local f, found = nil, false\n"                                                            \
	"if v and #v == 16 + 8 * nf and string.sub(v, 1, 16) == cid then\n"                        \
	"  f = {struct.unpack(fmt, v, 17)}; found = true\n"                                        \
	"else f = {}; for i = 1, nf do f[i] = 0 end end\n"                                         \
	"local function limit(i) return struct.unpack('<dd', P, 33 + 16 * i) end\n"                \
	"local function save() local e = f[1]\n"                                                   \
	"  if kind == 0 then local m = 0\n"                                                        \
	"    for i = 3, nf do if f[i] > m then m = f[i] end end\n"                                 \
	"    m = f[2] + math.ceil(m / 1000000); if m > e then e = m end\n"                         \
	"  elseif f[2] > 0 then local y\n"                                                         \
	"    if kind == 3 then y = (f[3] + 1) * xp else y = f[3] + xp end\n"                       \
	"    if y > e then e = y end end\n"                                                        \
	"  if e > now then local s = cid .. struct.pack(fmt, unpack(f, 1, nf))\n"                  \
	"    redis.call('SET', KEYS[1], s, 'PX', string.format('%d', e - now))\n"                  \
	"  else redis.call('DEL', KEYS[1]) end end\n"

/* window_fn: ARGV 3 cost, 4 peek. */
static const char lua_window[] =
	LUA_PRELUDE "local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"
		    "local blocked = f[1] > now\n"
		    "local ok, d, shift = not blocked, {}, (f[2] - now) * 1000000\n"
		    "for i = 1, n do local t, b = limit(i)\n"
		    "  local di = shift + f[i + 2]\n"
		    "  if di < 0 then di = 0 end\n"
		    "  di = di + cost * t\n"
		    "  if di > b then ok = false end\n"
		    "  d[i] = di end\n"
		    "if ok and not peek and cost > 0 then\n"
		    "  f[2] = now; for i = 1, n do f[i + 2] = d[i] end; save()\n"
		    "elseif not ok and not blocked and x > 0 and not peek then\n"
		    "  f[1] = now + x; save() end\n"
		    "return {now, v or false}\n";

/* budget_fn: ARGV 3 cost, 4 peek. */
static const char lua_budget[] = LUA_PRELUDE
	"local cost, peek = tonumber(ARGV[3]), ARGV[4] == '1'\n"
	"local period = math.floor(now / xp)\n"
	"local used = 0\n"
	"if f[3] == period then used = f[2] end\n"
	"if f[1] <= now and cost <= x and used <= x - cost and not peek and cost > 0 then\n"
	"  f[2] = used + cost; f[3] = period; save() end\n"
	"return {now, v or false}\n";

/* auth_fn: ARGV 3 fail (1) or check (0). */
static const char lua_auth[] = LUA_PRELUDE "if ARGV[3] == '1' then\n"
					   "  if f[2] > 0 and now - f[3] >= xp then f[2] = 0 end\n"
					   "  f[2] = f[2] + 1; f[3] = now; save() end\n"
					   "return {now, v or false}\n";

/* event_fn: ARGV 3 exempt (1). */
static const char lua_event[] = LUA_PRELUDE "if ARGV[3] ~= '1' and f[1] <= now then\n"
					    "  local c, st = f[2], f[3]\n"
					    "  if c > 0 and now - st >= xp then c = 0 end\n"
					    "  if c == 0 then st = now end\n"
					    "  f[2] = c + 1; f[3] = st; save() end\n"
					    "return {now, v or false}\n";

/* block_fn: ARGV 3 seconds (0: unblock, only an existing key). */
static const char lua_block[] = LUA_PRELUDE "local secs = tonumber(ARGV[3])\n"
					    "if secs > 0 then local u = now + secs * 1000\n"
					    "  if u > f[1] then f[1] = u end; save()\n"
					    "elseif found then f[1] = 0; save() end\n"
					    "return {now, v or false}\n";

/*
 * Outage replay (ARGV 3 amount): add amount to a key without deciding
 * anything. window: amount requests on every limit, at most a full window;
 * budget: amount used in the current period; progressive: amount failures,
 * the last now; events: amount events in the current window.
 */
static const char lua_replay[] =
	LUA_PRELUDE "local a = tonumber(ARGV[3])\n"
		    "if kind == 0 then local shift = (f[2] - now) * 1000000\n"
		    "  for i = 1, n do local t, b = limit(i)\n"
		    "    local di = shift + f[i + 2]\n"
		    "    if di < 0 then di = 0 end\n"
		    "    di = di + a * t\n"
		    "    if di > b then di = b end\n"
		    "    f[i + 2] = di end\n"
		    "  f[2] = now\n"
		    "elseif kind == 3 then local period = math.floor(now / xp)\n"
		    "  local used = 0\n"
		    "  if f[3] == period then used = f[2] end\n"
		    "  f[2] = used + a; f[3] = period\n"
		    "else local c, t = f[2], f[3]\n"
		    "  if c > 0 and now - t >= xp then c = 0 end\n"
		    "  if kind == 1 or c == 0 then t = now end\n"
		    "  f[2] = c + a; f[3] = t end\n"
		    "save()\n"
		    "return {now, v or false}\n";

enum {
	SCRIPT_WINDOW,
	SCRIPT_BUDGET,
	SCRIPT_AUTH,
	SCRIPT_EVENT,
	SCRIPT_BLOCK,
	SCRIPT_REPLAY,
	SCRIPT_N
};
static const char *const lua_src[SCRIPT_N] = { lua_window, lua_budget, lua_auth,
					       lua_event,  lua_block,  lua_replay };

#define JOURNAL_MAX 100000
/* Replay scripts in Redis at once: callers' decisions queue behind at most these. */
#ifndef REPLAY_INFLIGHT
#define REPLAY_INFLIGHT 16
#endif

/* --- the outage journal: what memory counted while Redis was away ---------- */

struct jentry {
	struct jentry *next; /* bucket chain, or the replay list */
	uint64_t amount;
	uint8_t role; /* window: the role index the limits came from */
	uint16_t klen;
	char policy[FG_CONF_NAME_MAX];
	unsigned char key[];
};

#define JOURNAL_BUCKETS 65536

static void chain_free(struct jentry *e)
{
	struct jentry *next;

	for (; e; e = next) {
		next = e->next;
		free(e);
	}
}

static void journal_free(struct journal *j)
{
	uint64_t i;

	if (!j)
		return;
	for (i = 0; i < JOURNAL_BUCKETS; i++)
		chain_free(j->buckets[i]);
	chain_free(j->replay);
	free(j->buckets);
	free(j);
}

static struct journal *journal_new(void)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j && !(j->buckets = calloc(JOURNAL_BUCKETS, sizeof(struct jentry *)))) {
		free(j);
		j = NULL;
	}
	return j;
}

/* Its set is freed: free it now, or when the last reply it waits for comes. */
static void journal_release(struct journal *j)
{
	if (!j)
		return;
	j->owner = NULL;
	if (!j->refs)
		journal_free(j);
}

static void journal_put(struct journal *j)
{
	if (--j->refs == 0 && !j->owner)
		journal_free(j);
}

static uint64_t journal_hash(const char *policy, int role, const void *key, size_t klen)
{
	return store_siphash(0x6a6f75726e616cULL, (uint64_t)role, key, klen) ^
	       store_siphash(1, 2, policy, strlen(policy));
}

static struct jentry **journal_find(struct journal *j, const char *policy, int role,
				    const void *key, size_t klen)
{
	struct jentry **pp = &j->buckets[journal_hash(policy, role, key, klen) % JOURNAL_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		struct jentry *e = *pp;

		if (e->role == role && e->klen == klen && !strcmp(e->policy, policy) &&
		    !memcmp(e->key, key, klen))
			break;
	}
	return pp;
}

static void journal_add(struct policies *ps, const struct policy *p, int role, const void *key,
			size_t klen, uint64_t amount)
{
	struct journal *j = ps->journal;
	struct jentry *e, **pp;

	if (!amount || !j)
		return;
	pp = journal_find(j, p->conf.name, role, key, klen);
	if (*pp) {
		(*pp)->amount += amount;
		return;
	}
	if (j->n + j->nreplay >= JOURNAL_MAX || !(e = calloc(1, sizeof(*e) + klen))) {
		ps->sstats->replay_dropped++;
		return;
	}
	e->amount = amount;
	e->role = (uint8_t)role;
	e->klen = (uint16_t)klen;
	strcpy(e->policy, p->conf.name);
	memcpy(e->key, key, klen);
	*pp = e;
	j->n++;
}

/* amount of (policy, role, key) did reach Redis after all: not to replay. */
static bool journal_sub(struct journal *j, const char *policy, int role, const void *key,
			size_t klen, uint64_t amount)
{
	struct jentry **pp = journal_find(j, policy, role, key, klen), *e = *pp;

	if (!e)
		return false;
	if (e->amount > amount) {
		e->amount -= amount;
		return true;
	}
	*pp = e->next;
	free(e);
	j->n--;
	return true;
}

/* --- building a script call ------------------------------------------------- */

/* ARGV of a script: the parameters, a fixed now and up to two numbers. */
struct rargs {
	const char *v[4];
	size_t len[4];
	char num[3][24];
	int n;
};

static void put_double(unsigned char *buf, size_t *off, uint64_t v)
{
	double d = (double)v;
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	u = htole64(u);
	memcpy(buf + *off, &u, sizeof(u));
	*off += sizeof(u);
}

static double get_double(const unsigned char *buf)
{
	uint64_t u;
	double d;

	memcpy(&u, buf, sizeof(u));
	u = le64toh(u);
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* The expiry parameter of a type (see save() in the script). */
static uint64_t xparam(const struct policy *p)
{
	switch (p->conf.type) {
	case POLICY_PROGRESSIVE:
		return p->conf.forget_after_ms;
	case POLICY_EVENTS:
		return p->conf.window_ms;
	case POLICY_BUDGET:
		return budget_period_ms(p);
	default:
		return 0;
	}
}

static void arg_u64(struct rargs *a, uint64_t v)
{
	char *buf = a->num[a->n - 1];

	a->v[a->n] = buf;
	a->len[a->n++] = sbuf_fmt_ll(buf, (long long)v);
}

/*
 * The scripts' first argument for each role (see the comment above the
 * scripts): the config id, then doubles kind, xp, x, n and the limits.
 * Packed when the policy is compiled, not per decision.
 */
static void pack_params(struct policy *p)
{
	bool window = p->conf.type == POLICY_WINDOW;
	int role, i;

	for (role = 0; role <= p->conf.nroles; role++) {
		unsigned char *buf = p->params[role];
		size_t off = CONF_ID_LEN;

		memcpy(buf, p->conf_id, off);
		put_double(buf, &off, p->conf.type);
		put_double(buf, &off, xparam(p));
		put_double(buf, &off,
			   window ? p->conf.block_for_ms
				  : (p->conf.type == POLICY_BUDGET ? budget_amount(p, role) : 0));
		put_double(buf, &off, window ? (uint64_t)p->conf.nlimits : 0);
		for (i = 0; window && i < p->conf.nlimits; i++) {
			put_double(buf, &off, p->wl[role][i].t_ns);
			put_double(buf, &off, p->wl[role][i].burst_ns);
		}
		p->params_len = off;
	}
}

/* ARGV 1 and 2 of every script, for role (window limits, budget amount). */
static void args_common(struct rargs *a, const struct policy *p, int role, uint64_t fixed_now)
{
	a->v[0] = (const char *)p->params[role];
	a->len[0] = p->params_len;
	a->n = 1;
	arg_u64(a, fixed_now);
}

/*
 * Once Redis is attached: the "{prefix:len:policy:" every key of a policy
 * starts with. The policy name's length makes the split unambiguous: policy
 * "x:y" key "K" and policy "x" key "y:K" are {p:3:x:y:K} and {p:1:x:y:K}.
 */
static void redis_keys_init(struct policies *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		struct policy *p = ps->p[i];
		int n = snprintf(p->rkey, sizeof(p->rkey), "{%s:%zu:%s:", redis_prefix(ps->redis),
				 p->namelen, p->conf.name);

		p->rkeylen = n > 0 && (size_t)n < sizeof(p->rkey) ? (size_t)n : 0;
	}
}

/* {prefix:len:policy:key} into buf; the length, or 0 when it does not fit. */
static size_t redis_key(const struct policy *p, const void *key, size_t klen, char *buf, size_t len)
{
	if (!p->rkeylen || p->rkeylen + klen + 2 > len)
		return 0;
	memcpy(buf, p->rkey, p->rkeylen);
	memcpy(buf + p->rkeylen, key, klen);
	buf[p->rkeylen + klen] = '}';
	return p->rkeylen + klen + 1;
}

/* --- asynchronous requests -------------------------------------------------- */

struct areq {
	struct policies *set;
	struct policy *p;
	struct policy_req rq; /* key points into data; role and event are not kept */
	int role;	      /* from rq's role: index into wl (window), or budget_amount() */
	bool exempt;	      /* event: rq's event is one of exempt */
	uint64_t journaled;   /* what the fallback added to the outage journal */
	uint64_t now_ms;      /* the agent's clock, for a fallback */
	policy_done_fn done;
	void *arg;
	struct policy_answer ans;
	unsigned char data[];
};

static void set_put(struct policies *ps)
{
	if (--ps->refs == 0 && ps->dead)
		set_free(ps, ps->dead_with_store);
}

/* Run the memory callback of the request on pre (the state Redis found) at now. */
struct preset_op {
	const uint64_t *pre;
	uint32_t size;
	store_fn fn;
	void *arg;
};

static uint64_t preset_fn(void *state, bool fresh, void *arg)
{
	struct preset_op *op = arg;

	(void)fresh;
	memcpy(state, op->pre, op->size);
	return op->fn(state, false, op->arg);
}

/* The memory store's view of a request: callback, its argument, create. */
struct mem_call {
	store_fn fn;
	bool create;
	union {
		struct window_op w;
		struct budget_op b;
		struct auth_op au;
		struct event_op ev;
		struct block_op bl;
	} u;
};

static void mem_call_of(struct areq *q, uint64_t now_ms, struct mem_call *mc)
{
	struct policy *p = q->p;
	struct policy_answer *ans = &q->ans;

	memset(mc, 0, sizeof(*mc));
	switch (q->rq.op) {
	case POLICY_OP_CHECK:
		if (p->conf.type == POLICY_WINDOW) {
			mc->u.w = (struct window_op){ .p = p,
						      .wl = p->wl[q->role],
						      .cost = q->rq.cost,
						      .now_ms = now_ms,
						      .peek = q->rq.peek,
						      .out = &ans->u.check };
			mc->fn = window_fn;
		} else {
			mc->u.b = (struct budget_op){ .p = p,
						      .amount = budget_amount(p, q->role),
						      .cost = q->rq.cost,
						      .now_ms = now_ms,
						      .peek = q->rq.peek,
						      .out = &ans->u.check };
			mc->fn = budget_fn;
		}
		mc->create = !q->rq.peek;
		break;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		mc->u.au = (struct auth_op){ .p = p,
					     .now_ms = now_ms,
					     .fail = q->rq.op == POLICY_OP_AUTH_FAIL,
					     .out = &ans->u.auth };
		mc->fn = auth_fn;
		mc->create = mc->u.au.fail;
		break;
	case POLICY_OP_EVENT:
		mc->u.ev = (struct event_op){
			.p = p, .now_ms = now_ms, .exempt = q->exempt, .out = &ans->u.event
		};
		mc->fn = event_fn;
		mc->create = !mc->u.ev.exempt;
		break;
	case POLICY_OP_BLOCK:
	case POLICY_OP_UNBLOCK:
		mc->u.bl = (struct block_op){ .p = p,
					      .until = q->rq.op == POLICY_OP_BLOCK
							       ? now_ms + q->rq.seconds * 1000
							       : 0 };
		mc->fn = block_fn;
		mc->create = q->rq.op == POLICY_OP_BLOCK;
		break;
	case POLICY_OP_RESET:
		break;
	}
}

static void count_answer(struct policy *p, const struct policy_answer *ans)
{
	switch (ans->op) {
	case POLICY_OP_CHECK:
		count_check(p, &ans->u.check);
		break;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		count_auth(p, ans->op == POLICY_OP_AUTH_FAIL, &ans->u.auth);
		break;
	case POLICY_OP_EVENT:
		count_event(p, &ans->u.event);
		break;
	default:
		break;
	}
}

/* The memory store decides (no Redis, Redis down, or on_store_error: memory). */
static int decide_memory(struct areq *q, bool journal)
{
	struct policy *p = q->p;
	struct mem_call mc;
	int err;

	memset(&q->ans.u, 0, sizeof(q->ans.u));
	if (q->rq.op == POLICY_OP_RESET)
		return store_del(q->set->store, p->ns, q->rq.key, q->rq.klen, q->now_ms);
	mem_call_of(q, q->now_ms, &mc);
	err = store_run(q->set->store, p->ns, q->rq.key, q->rq.klen, mc.create, q->now_ms, mc.fn,
			&mc.u);
	if (err)
		return err;
	count_answer(p, &q->ans);
	if (!journal)
		return 0;
	switch (q->rq.op) {
	case POLICY_OP_CHECK:
		if (q->ans.u.check.allowed && !q->rq.peek)
			q->journaled = q->rq.cost;
		break;
	case POLICY_OP_AUTH_FAIL:
		q->journaled = 1;
		break;
	case POLICY_OP_EVENT:
		q->journaled = !q->exempt;
		break;
	default:
		break;
	}
	journal_add(q->set, p, q->rq.op == POLICY_OP_CHECK ? q->role : 0, q->rq.key, q->rq.klen,
		    q->journaled);
	return 0;
}

/* Redis failed or is down: the policy's on_store_error decides now; with
 * journal, what memory charges is added to Redis when it is back. */
static int decide_fallback(struct areq *q, bool journal)
{
	struct policy *p = q->p;
	struct policy_answer *ans = &q->ans;
	enum policy_on_error mode = p->conf.on_store_error;

	q->set->sstats->fallback_decisions++;
	ans->fallback = true;
	if (mode == POLICY_ON_ERROR_MEMORY || q->rq.op >= POLICY_OP_BLOCK)
		return decide_memory(q, journal);
	memset(&ans->u, 0, sizeof(ans->u));
	switch (q->rq.op) {
	case POLICY_OP_CHECK: {
		struct rl_result *r = &ans->u.check;

		r->allowed = mode == POLICY_ON_ERROR_ALLOW;
		r->limit = p->conf.type == POLICY_WINDOW ? p->wl[q->role][0].limit
							 : budget_amount(p, q->role);
		r->remaining = r->allowed ? r->limit : 0;
		r->retry_after_ms = r->allowed ? 0 : 1000;
		r->state = r->allowed ? "ok" : "deny";
		r->window = p->wname[0];
		break;
	}
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		ans->u.auth.delay_ms = mode == POLICY_ON_ERROR_ALLOW ? 0 : p->conf.base_delay_ms;
		break;
	case POLICY_OP_EVENT:
		ans->u.event.state = mode == POLICY_ON_ERROR_ALLOW ? "ok" : "disconnect";
		ans->u.event.limit = p->conf.limit;
		break;
	default:
		break;
	}
	count_answer(p, ans);
	return 0;
}

/* A double of a Redis state as the memory store's integer: anything but
 * an integer in range (a value not written by these scripts) counts as 0. */
static uint64_t state_u64(double d)
{
	return d >= 1 && d < 18446744073709551616.0 ? (uint64_t)d : 0;
}

/*
 * The memory state in the value a script found (see the scripts): zeros,
 * a fresh state, when it is of another config of the policy, or not one
 * the scripts wrote (the scripts treat it the same way).
 */
static void decode_state(const struct policy *p, const char *v, size_t len, uint64_t *pre)
{
	const unsigned char *f = (const unsigned char *)v + CONF_ID_LEN;
	size_t i, nf = p->state_size / 8;

	if (p->conf.type == POLICY_WINDOW) {
		if (len != CONF_ID_LEN + 8 * (nf + 1) || memcmp(v, p->conf_id, CONF_ID_LEN))
			return;
		pre[0] = state_u64(get_double(f));
		for (i = 1; i < nf; i++)
			pre[i] = state_u64(get_double(f + 8)) * NS_PER_MS +
				 state_u64(get_double(f + 8 * (i + 1)));
		return;
	}
	if (len != CONF_ID_LEN + 8 * nf || memcmp(v, p->conf_id, CONF_ID_LEN))
		return;
	for (i = 0; i < nf; i++)
		pre[i] = state_u64(get_double(f + 8 * i));
}

/* Redis answered with the time and the state it found: the memory callback
 * computes the reply from them, and leaves the new state in memory. */
static int decide_from_reply(struct areq *q, redisReply *rp)
{
	struct policy *p = q->p;
	uint64_t pre[STORE_STATE_MAX / 8] = { 0 }, now;
	struct mem_call mc;
	struct preset_op po;
	int err;

	if (q->rq.op == POLICY_OP_RESET) {
		memset(&q->ans.u, 0, sizeof(q->ans.u));
		if (rp->type != REDIS_REPLY_INTEGER)
			return -EPROTO;
		return q->set->dead
			       ? 0
			       : store_del(q->set->store, p->ns, q->rq.key, q->rq.klen, q->now_ms);
	}
	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 ||
	    rp->element[0]->type != REDIS_REPLY_INTEGER || rp->element[0]->integer <= 0)
		return -EPROTO;
	now = (uint64_t)rp->element[0]->integer;
	if (rp->element[1]->type == REDIS_REPLY_STRING)
		decode_state(p, rp->element[1]->str, rp->element[1]->len, pre);
	else if (rp->element[1]->type != REDIS_REPLY_NIL)
		return -EPROTO;
	memset(&q->ans.u, 0, sizeof(q->ans.u));
	mem_call_of(q, now, &mc);
	po = (struct preset_op){ .pre = pre, .size = p->state_size, .fn = mc.fn, .arg = &mc.u };
	if (q->set->dead) {
		/* The set was replaced: its memory namespaces may be gone. */
		uint64_t tmp[STORE_STATE_MAX / 8];

		preset_fn(tmp, false, &po);
		err = 0;
	} else {
		err = store_run(q->set->store, p->ns, q->rq.key, q->rq.klen, mc.create, now,
				preset_fn, &po);
	}
	if (!err)
		count_answer(p, &q->ans);
	return err;
}

/* What a timed-out request charged in the fallback, until its late reply. */
struct late {
	struct journal *j;
	uint64_t amount;
	int role;
	size_t klen;
	char policy[FG_CONF_NAME_MAX];
	unsigned char key[];
};

/*
 * The reply of a request that timed out: Redis ran it after all, so what
 * the fallback journaled for it is already in Redis: replaying it would
 * charge it twice. Without a reply (the connection closed first) nobody
 * knows: the journal keeps it (docs/redis.md, "After a timeout").
 */
static void on_late_reply(redisReply *rp, const char *why, void *arg)
{
	struct late *l = arg;
	struct journal *j = l->j;

	(void)why;
	if (rp && rp->type != REDIS_REPLY_ERROR &&
	    journal_sub(j, l->policy, l->role, l->key, l->klen, l->amount))
		j->stats.late_applied++;
	free(l);
	journal_put(j);
}

static void want_late(struct areq *q)
{
	struct journal *j = q->set->journal;
	struct late *l;

	if (!j || !q->journaled || !(l = malloc(sizeof(*l) + q->rq.klen)))
		return;
	l->j = j;
	l->amount = q->journaled;
	l->role = q->rq.op == POLICY_OP_CHECK ? q->role : 0;
	l->klen = q->rq.klen;
	strcpy(l->policy, q->p->conf.name);
	memcpy(l->key, q->rq.key, q->rq.klen);
	if (redis_want_late(q->set->redis, on_late_reply, l)) {
		free(l);
		return;
	}
	j->refs++;
}

static void on_redis_reply(redisReply *rp, const char *why, void *arg)
{
	struct areq *q = arg;
	char e[101]; /* a script's error, cut short */
	int err = -EIO;

	if (rp && rp->type == REDIS_REPLY_ERROR && redis_key_error(rp)) {
		/* This key's own error (a value of the wrong type...): this
		 * request alone gets on_store_error, nothing to replay. */
		q->p->stats.store_key_errors++;
		log_debug("redis store: error on one key", LOG_STR("policy", q->p->conf.name),
			  LOG_STR("error", log_fmt(e, sizeof(e), "%s", rp->str)));
		err = decide_fallback(q, false);
		goto done;
	}
	if (rp && rp->type != REDIS_REPLY_ERROR) {
		err = decide_from_reply(q, rp);
		if (err == -EPROTO)
			log_warn("redis store: unexpected script reply",
				 LOG_STR("policy", q->p->conf.name));
	}
	if (err == -EIO || err == -EPROTO) {
		log_debug("redis store: decision falls back", LOG_STR("policy", q->p->conf.name),
			  LOG_STR("why", why ? why : "bad reply"));
		err = decide_fallback(q, true);
		if (!err && !rp && why && !strcmp(why, "timeout"))
			want_late(q);
	}
done:
	q->done(err, err ? NULL : &q->ans, q->arg);
	set_put(q->set);
	free(q);
}

/* Send q to Redis: 0 when sent, -EAGAIN when Redis is not up. */
static int send_redis(struct areq *q)
{
	struct policies *ps = q->set;
	struct policy *p = q->p;
	char key[RKEY_MAX];
	size_t klen = redis_key(p, q->rq.key, q->rq.klen, key, sizeof(key));
	uint64_t fixed = ps->fixed_clock ? q->now_ms : 0;
	struct rargs a;
	int script;

	if (!klen)
		return -E2BIG;
	if (q->rq.op == POLICY_OP_RESET) {
		const char *argv[] = { "DEL", key };
		size_t lens[] = { 3, klen };

		return redis_command(ps->redis, 2, argv, lens, on_redis_reply, q);
	}
	args_common(&a, p, q->role, fixed);
	switch (q->rq.op) {
	case POLICY_OP_CHECK:
		script = p->conf.type == POLICY_WINDOW ? SCRIPT_WINDOW : SCRIPT_BUDGET;
		arg_u64(&a, q->rq.cost);
		arg_u64(&a, q->rq.peek);
		break;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		script = SCRIPT_AUTH;
		arg_u64(&a, q->rq.op == POLICY_OP_AUTH_FAIL);
		break;
	case POLICY_OP_EVENT:
		script = SCRIPT_EVENT;
		arg_u64(&a, q->exempt);
		break;
	default: /* block, unblock */
		script = SCRIPT_BLOCK;
		arg_u64(&a, q->rq.op == POLICY_OP_BLOCK ? q->rq.seconds : 0);
		break;
	}
	return redis_eval(ps->redis, ps->scripts[script], key, klen, a.n, a.v, a.len,
			  on_redis_reply, q);
}

/* What every call refuses before touching a store. */
static int validate(struct policy *p, const struct policy_req *rq, int *role, bool *exempt)
{
	int i;

	*role = 0;
	*exempt = false;
	if (rq->klen > POLICY_KEY_MAX)
		return -E2BIG;
	switch (rq->op) {
	case POLICY_OP_CHECK:
		if (p->conf.type != POLICY_WINDOW && p->conf.type != POLICY_BUDGET)
			return -EOPNOTSUPP;
		if (rq->cost > POLICY_COST_MAX)
			return -EINVAL;
		*role = role_index(p, rq->role, rq->rlen);
		if (*role < 0)
			return -ENOENT;
		if (p->conf.type == POLICY_WINDOW) {
			for (i = 0; i < p->conf.nlimits; i++)
				if (rq->cost > p->wl[*role][i].limit)
					return -ERANGE;
		}
		return 0;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		return p->conf.type == POLICY_PROGRESSIVE ? 0 : -EOPNOTSUPP;
	case POLICY_OP_EVENT:
		if (p->conf.type != POLICY_EVENTS)
			return -EOPNOTSUPP;
		*exempt = event_exempt(&p->conf, rq->event, rq->elen);
		return 0;
	case POLICY_OP_BLOCK:
		return !rq->seconds || rq->seconds > POLICY_BLOCK_MAX_S ? -EINVAL : 0;
	default:
		return 0;
	}
}

/* q for rq on p at now_ms, once validate() accepts it; q->rq keeps rq's pointers. */
static int areq_prepare(struct areq *q, struct policy *p, const struct policy_req *rq,
			uint64_t now_ms)
{
	memset(q, 0, sizeof(*q));
	q->set = p->set;
	q->p = p;
	q->rq = *rq;
	q->now_ms = now_ms;
	q->ans.op = rq->op;
	return validate(p, rq, &q->role, &q->exempt);
}

/* --- the synchronous calls: the memory store decides at once ------------ */

static int decide_now(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
		      struct policy_answer *ans)
{
	struct areq q;
	int err = areq_prepare(&q, p, rq, now_ms);

	if (!err)
		err = decide_memory(&q, false);
	if (!err && ans)
		*ans = q.ans;
	return err;
}

int policy_check(struct policy *p, const void *key, size_t klen, uint64_t cost, const char *role,
		 size_t rlen, bool peek, uint64_t now_ms, struct rl_result *out)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK,
				 .key = key,
				 .klen = klen,
				 .cost = cost,
				 .role = role,
				 .rlen = rlen,
				 .peek = peek };
	struct policy_answer ans;
	int err = decide_now(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.check;
	return err;
}

static int auth_now(struct policy *p, enum policy_op op, const void *key, size_t klen,
		    uint64_t now_ms, struct rl_auth_result *out)
{
	struct policy_req rq = { .op = op, .key = key, .klen = klen };
	struct policy_answer ans;
	int err = decide_now(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.auth;
	return err;
}

int policy_auth_fail(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
		     struct rl_auth_result *out)
{
	return auth_now(p, POLICY_OP_AUTH_FAIL, key, klen, now_ms, out);
}

int policy_auth_check(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
		      struct rl_auth_result *out)
{
	return auth_now(p, POLICY_OP_AUTH_CHECK, key, klen, now_ms, out);
}

int policy_auth_ok(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	if (p->conf.type != POLICY_PROGRESSIVE)
		return -EOPNOTSUPP;
	return policy_reset(p, key, klen, now_ms);
}

int policy_event(struct policy *p, const void *conn, size_t clen, const char *event, size_t elen,
		 uint64_t now_ms, struct rl_event_result *out)
{
	struct policy_req rq = {
		.op = POLICY_OP_EVENT, .key = conn, .klen = clen, .event = event, .elen = elen
	};
	struct policy_answer ans;
	int err = decide_now(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.event;
	return err;
}

int policy_conn_close(struct policy *p, const void *conn, size_t clen, uint64_t now_ms)
{
	if (p->conf.type != POLICY_EVENTS)
		return -EOPNOTSUPP;
	return policy_reset(p, conn, clen, now_ms);
}

int policy_block(struct policy *p, const void *key, size_t klen, uint64_t seconds, uint64_t now_ms)
{
	struct policy_req rq = {
		.op = POLICY_OP_BLOCK, .key = key, .klen = klen, .seconds = seconds
	};

	return decide_now(p, &rq, now_ms, NULL);
}

int policy_unblock(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	struct policy_req rq = { .op = POLICY_OP_UNBLOCK, .key = key, .klen = klen };

	return decide_now(p, &rq, now_ms, NULL);
}

int policy_reset(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	struct policy_req rq = { .op = POLICY_OP_RESET, .key = key, .klen = klen };

	return decide_now(p, &rq, now_ms, NULL);
}

/* --- policy_submit ---------------------------------------------------------- */

int policy_submit(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
		  struct policy_answer *ans, policy_done_fn done, void *arg)
{
	struct policies *ps = p->set;
	struct areq local, *q;
	int err;

	err = areq_prepare(&local, p, rq, now_ms);
	if (err)
		return err;
	if (!redis_up(ps->redis)) {
		/* Memory store, or Redis down: decide now, on the stack. */
		err = ps->redis ? decide_fallback(&local, true) : decide_memory(&local, false);
		if (!err)
			*ans = local.ans;
		return err;
	}
	q = malloc(sizeof(*q) + rq->klen);
	if (!q)
		return -ENOMEM;
	*q = local;
	q->done = done;
	q->arg = arg;
	memcpy(q->data, rq->key, rq->klen);
	q->rq.key = q->data;
	/* Already turned into role and exempt; the caller's buffers go away. */
	q->rq.role = NULL;
	q->rq.event = NULL;
	err = send_redis(q);
	if (err) {
		/* Not sent (down a moment ago, too many in flight): decide now. */
		err = decide_fallback(q, true);
		if (!err)
			*ans = q->ans;
		free(q);
		return err;
	}
	ps->refs++;
	return 1;
}

int policies_set_redis(struct policies *ps, struct redis *r)
{
	int i, id;

	if (!r || ps->redis == r)
		return 0;
	for (i = 0; i < SCRIPT_N; i++) {
		id = redis_script(r, lua_src[i]);
		if (id < 0)
			return id;
		ps->scripts[i] = id;
	}
	if (!ps->journal) {
		ps->journal = journal_new();
		if (!ps->journal)
			return -ENOMEM;
		ps->journal->owner = ps;
		ps->sstats = &ps->journal->stats;
	}
	ps->redis = r;
	redis_keys_init(ps);
	return 0;
}

void policies_redis_fixed_clock(struct policies *ps, bool on)
{
	ps->fixed_clock = on;
}

static void replay_pump(struct journal *j);

static void on_replay_reply(redisReply *rp, const char *why, void *arg)
{
	struct journal *j = arg;

	j->inflight--;
	if (!rp || rp->type == REDIS_REPLY_ERROR) {
		j->stats.replay_dropped++;
		j->run_dropped++;
		log_debug("redis store: outage replay failed", LOG_STR("why", why ? why : "?"));
	} else {
		j->stats.replayed_keys++;
		j->run_sent++;
	}
	replay_pump(j);
	journal_put(j);
}

/*
 * Keep up to REPLAY_INFLIGHT replay scripts in Redis, the next one sent as
 * one comes back: the backlog of a long outage goes in the background, and
 * a caller's decision waits behind at most REPLAY_INFLIGHT short scripts
 * (not behind the whole backlog, which made it time out and the breaker
 * open again, over and over). Entries not sent stay for the next recovery.
 */
static void replay_pump(struct journal *j)
{
	struct policies *ps = j->owner;
	char key[RKEY_MAX];

	while (ps && j->inflight < REPLAY_INFLIGHT && j->replay && redis_up(ps->redis)) {
		struct jentry *e = j->replay;
		struct policy *p = policies_find(ps, e->policy, strlen(e->policy));
		size_t klen = p ? redis_key(p, e->key, e->klen, key, sizeof(key)) : 0;
		struct rargs a;
		int err = -EINVAL;

		if (klen && (p->conf.type != POLICY_WINDOW || e->role <= p->conf.nroles)) {
			args_common(&a, p, e->role, 0);
			arg_u64(&a, e->amount);
			err = redis_eval_background(ps->redis, ps->scripts[SCRIPT_REPLAY], key,
						    klen, a.n, a.v, a.len, on_replay_reply, j);
			if (err == -EAGAIN)
				break; /* down again: the rest waits for the next recovery */
		}
		j->replay = e->next;
		if (!j->replay)
			j->replay_tail = NULL;
		j->nreplay--;
		free(e);
		if (err) {
			j->stats.replay_dropped++;
			j->run_dropped++;
			continue;
		}
		j->inflight++;
		j->refs++;
	}
	if (!j->replay && !j->inflight && (j->run_sent || j->run_dropped)) {
		log_warn("redis store: outage counts added to redis", LOG_UINT("keys", j->run_sent),
			 LOG_UINT("dropped", j->run_dropped));
		j->run_sent = j->run_dropped = 0;
	}
}

void policies_redis_up(struct policies *ps)
{
	struct journal *j = ps ? ps->journal : NULL;
	uint64_t i;

	if (!j || !ps->redis)
		return;
	/* The journal's entries join the replay list (after those a new outage
	 * interrupted); what the fallback counts from now on starts a new journal. */
	for (i = 0; i < JOURNAL_BUCKETS && j->n; i++) {
		struct jentry *e = j->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = NULL;
			if (j->replay_tail)
				j->replay_tail->next = e;
			else
				j->replay = e;
			j->replay_tail = e;
			j->nreplay++;
			j->n--;
		}
		j->buckets[i] = NULL;
	}
	if (j->nreplay)
		log_info("redis store: adding the outage's counts to redis in the background",
			 LOG_UINT("keys", j->nreplay));
	replay_pump(j);
}
