// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * CL.THROTTLE: limits given with each call, as redis-cell's command takes
 * them, decided by the window type's GCRA (limit_window.c) and its Redis
 * script, not by a second GCRA. One hidden window policy per set (not in
 * its list, so never found by name, INFO's or RL.POLICY's) holds the
 * namespace, the Redis key prefix and the counters; each call runs on it
 * with the call's limit as its only one (T = period / count, up to
 * max_burst + 1 requests at once), or, while the call waits for Redis, on a
 * copy of it of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limit_window.h"
#include "redis.h"

/* Its name: no policy of a config can have it ('@' is not a name's
 * character), so its Redis keys, {prefix:3:@cl:key}, are no policy's. */
#define CELL_NAME "@cl"

/* The compiled limits of a policy of ours, to set a call's. */
static struct window *win_mut(struct policy *p)
{
	return (struct window *)p->priv;
}

int policy_cell_new(struct policies *ps, const struct fg_conf *conf, const struct policies *prev,
		    struct store *store)
{
	struct fg_conf_policy c;
	struct policy *p;
	uint64_t max_keys = conf->store.max_keys ? conf->store.max_keys : FG_CONF_STORE_MAX_KEYS;
	int err = 0;

	ps->cell_conf = conf->per_call;
	if (!conf->per_call.enabled)
		return 0;
	memset(&c, 0, sizeof(c));
	config_policy_defaults(&c);
	strcpy(c.name, CELL_NAME);
	c.type = POLICY_WINDOW;
	c.algorithm = POLICY_ALGO_GCRA;
	c.on_store_error = POLICY_ON_ERROR_MEMORY;
	/* What the state means is a TAT, whatever a call's limits: one
	 * config id for all of them, so calls with other limits share it. */
	c.nlimits = 1;
	c.limits[0].count = 1;
	c.limits[0].per_ms = 1000;
	p = policy_compile(&c);
	if (!p)
		return -ENOMEM;
	p->set = ps;
	p->per_call = true;
	if (prev && prev->cell) {
		p->ns = prev->cell->ns;
		p->stats = prev->cell->stats;
	} else {
		err = store_ns_new(store, p->state_size, &p->ns);
	}
	if (err) {
		free(p);
		return err;
	}
	p->max_keys = conf->per_call.max_keys < max_keys ? conf->per_call.max_keys : max_keys;
	ps->cell = p;
	return 0;
}

void policy_cell_commit(struct policies *ps, const struct policies *prev, struct store *store)
{
	if (ps->cell)
		store_ns_set_max_keys(store, ps->cell->ns, ps->cell->max_keys, 0);
	else if (prev && prev->cell)
		store_ns_drop(store, prev->cell->ns);
}

void policy_cell_abort(struct policies *ps, const struct policies *prev, struct store *store)
{
	if (ps->cell && !(prev && prev->cell))
		store_ns_drop(store, ps->cell->ns);
	free(ps->cell);
	ps->cell = NULL;
}

bool policies_cell(const struct policies *ps, struct fg_conf_per_call *conf,
		   struct policy_stats *stats)
{
	if (conf)
		*conf = ps->cell_conf;
	if (!ps->cell)
		return false;
	if (stats)
		policy_stats(ps->cell, stats);
	return true;
}

/* One call: the set's policy with the call's limit (decided at once), or,
 * when it goes to Redis, a copy of its own while in flight. */
struct cell_call {
	struct policy *tmpl, *p;
	bool never; /* quantity above max_burst + 1: peeked, answered limited */
	policy_cell_done_fn done;
	void *arg;
};

static long long ms_to_s_ceil(uint64_t ms)
{
	return (long long)(ms / 1000 + (ms % 1000 != 0));
}

/* RL.CHECK's answer as redis-cell writes it: times in whole seconds,
 * rounded up (a client obeying them is never early), -1 for no retry. */
static void cell_answer(const struct cell_call *cc, const struct policy_answer *pa,
			struct policy_cell_answer *out)
{
	const struct rl_result *r = &pa->u.check;

	out->limited = cc->never || !r->allowed;
	out->fallback = pa->fallback;
	out->limit = (long long)win(cc->p)->wl[0][0].limit;
	out->remaining = (long long)r->remaining;
	out->retry_after_s = out->limited && !cc->never ? ms_to_s_ceil(r->retry_after_ms) : -1;
	out->reset_after_s = ms_to_s_ceil(r->reset_ms);
}

/* A call's counts s into the set's policy's t (metrics, INFO). */
static void cell_count(struct policy_stats *t, const struct policy_stats *s, bool never)
{
	/* A quantity that never passes was a peek underneath: it is limited. */
	if (never) {
		t->denied += s->allowed + s->denied;
		return;
	}
	t->allowed += s->allowed;
	t->denied += s->denied;
	t->warned += s->warned;
	t->blocked += s->blocked;
}

/* The copy's counts go to the set's policy, then it goes. */
static void cell_end(struct cell_call *cc)
{
	cell_count(&cc->tmpl->stats, &cc->p->stats, cc->never);
	free(cc->p);
	free(cc);
}

static void cell_done(int err, const struct policy_answer *pa, void *arg)
{
	struct cell_call *cc = arg;
	struct policy_cell_answer ans;

	if (!err)
		cell_answer(cc, pa, &ans);
	cc->done(err, err ? NULL : &ans, cc->arg);
	cell_end(cc);
}

/* The call's limit, or -errno for limits per_call_limits refuses. */
static int cell_limit(const struct fg_conf_per_call *pc, const struct policy_cell_req *rq,
		      struct wlimit *wl)
{
	unsigned __int128 burst;

	if (!rq->count || !rq->period_s)
		return -EINVAL;
	if (rq->max_burst > pc->max_burst || rq->count > pc->max_count ||
	    rq->period_s > pc->max_period_ms / 1000)
		return -ERANGE;
	wl->limit = rq->max_burst + 1;
	/* Config bounds: count <= 1e9 and period >= 1 s keep t >= 1 ns. */
	wl->t_ns = rq->period_s * 1000000000ULL / rq->count;
	burst = (unsigned __int128)wl->t_ns * wl->limit;
	if (burst > (unsigned __int128)FG_CONF_PER_CALL_PERIOD_MAX * NS_PER_MS)
		return -EOVERFLOW;
	wl->burst_ns = (uint64_t)burst;
	return 0;
}

int policy_submit_cell(struct policies *ps, const struct policy_cell_req *rq, uint64_t now_ms,
		       struct policy_cell_answer *ans, policy_cell_done_fn done, void *arg)
{
	const struct policy_kind *k = &policy_kind_window;
	struct policy_req prq = { .op = POLICY_OP_CHECK, .key = rq->key, .klen = rq->klen };
	struct policy_answer pa;
	struct cell_call *cc;
	struct wlimit wl;
	bool never;
	int err;

	if (!ps->cell)
		return -EOPNOTSUPP;
	if (rq->klen > POLICY_KEY_MAX)
		return -E2BIG;
	err = cell_limit(&ps->cell_conf, rq, &wl);
	if (err)
		return err;
	/* More than max_burst + 1 at once never passes (redis-cell: limited,
	 * retry_after -1): what the key has left is peeked, nothing charged. */
	never = rq->quantity > wl.limit;
	prq.cost = never ? 0 : rq->quantity;
	prq.peek = !prq.cost;
	if (!redis_up(ps->redis)) {
		/* Decided now (memory, or Redis's fallback): the set's policy
		 * itself, no copy; its counters are the call's meanwhile. */
		struct cell_call now = { .tmpl = ps->cell, .p = ps->cell, .never = never };
		struct policy_stats saved = ps->cell->stats, delta;

		win_mut(ps->cell)->wl[0][0] = wl;
		memset(&ps->cell->stats, 0, sizeof(ps->cell->stats));
		err = policy_submit(ps->cell, &prq, now_ms, &pa, NULL, NULL);
		delta = ps->cell->stats;
		ps->cell->stats = saved;
		cell_count(&ps->cell->stats, &delta, never);
		if (!err)
			cell_answer(&now, &pa, ans);
		return err;
	}
	cc = calloc(1, sizeof(*cc));
	if (cc)
		cc->p = malloc(sizeof(struct policy) + k->priv_size);
	if (!cc || !cc->p) {
		free(cc);
		return -ENOMEM;
	}
	memcpy(cc->p, ps->cell, sizeof(struct policy) + k->priv_size);
	memset(&cc->p->stats, 0, sizeof(cc->p->stats));
	win_mut(cc->p)->wl[0][0] = wl;
	policy_redis_pack(cc->p, now_ms);
	cc->tmpl = ps->cell;
	cc->done = done;
	cc->arg = arg;
	cc->never = never;
	err = policy_submit(cc->p, &prq, now_ms, &pa, cell_done, cc);
	if (err == 1)
		return 1;
	if (!err)
		cell_answer(cc, &pa, ans);
	cell_end(cc);
	return err;
}

int policy_reset_cell(struct policies *ps, const void *key, size_t klen, uint64_t now_ms,
		      policy_done_fn done, void *arg)
{
	struct policy_req rq = { .op = POLICY_OP_RESET, .key = key, .klen = klen };
	struct policy_answer ans;

	if (!ps->cell)
		return -EOPNOTSUPP;
	/* The state does not depend on a call's limits: the set's policy does it. */
	return policy_submit(ps->cell, &rq, now_ms, &ans, done, arg);
}
