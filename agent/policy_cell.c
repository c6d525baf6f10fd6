// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * CL.THROTTLE: limits given with each call, as redis-cell's command takes
 * them, decided by the window type's GCRA (limit_window.c) and its Redis
 * script, not by a second GCRA. One hidden window policy per set (not in
 * its list, so never found by name, INFO's or RL.POLICY's) holds the
 * namespace, the Redis key prefix and the counters; each call runs on it
 * with the call's limit as its only one (T = period / count, up to
 * max_burst + 1 requests at once), set on it before each decision
 * (policy_submit_apply: the event loop runs one at a time), so a call that
 * waits for Redis keeps its limit alone, not a copy of the policy.
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

/* One call: its limit, set on the set's policy before each decision on it
 * (policy_submit_apply); allocated only while the call waits for Redis. */
struct cell_call {
	struct policy *p; /* the set's policy */
	struct wlimit wl;
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
	out->limit = (long long)cc->wl.limit;
	out->remaining = (long long)r->remaining;
	out->retry_after_s = out->limited && !cc->never ? ms_to_s_ceil(r->retry_after_ms) : -1;
	out->reset_after_s = ms_to_s_ceil(r->reset_ms);
}

/* A quantity that never passes was a peek underneath, counted as its answer
 * (policy_count): it is a limited call, and no more. */
static void cell_recount(struct policy_stats *t, const struct rl_result *r)
{
	if (r->allowed) {
		t->allowed--;
		t->denied++;
	}
	if (!strcmp(r->state, "warn"))
		t->warned--;
	else if (!strcmp(r->state, "blocked"))
		t->blocked--;
}

/* policy_apply_fn: the call's limit is the policy's only one. */
static void cell_apply(struct policy *p, const void *arg)
{
	const struct cell_call *cc = arg;

	win_mut(p)->wl[0][0] = cc->wl;
}

/* The decision's answer (or err) for the call. */
static void cell_decided(const struct cell_call *cc, int err, const struct policy_answer *pa,
			 struct policy_cell_answer *ans)
{
	if (err)
		return;
	if (cc->never)
		cell_recount(&cc->p->stats, &pa->u.check);
	cell_answer(cc, pa, ans);
}

static void cell_done(int err, const struct policy_answer *pa, void *arg)
{
	struct cell_call *cc = arg;
	struct policy_cell_answer ans;

	cell_decided(cc, err, pa, &ans);
	cc->done(err, err ? NULL : &ans, cc->arg);
	free(cc);
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
	struct policy_req prq = { .op = POLICY_OP_CHECK, .key = rq->key, .klen = rq->klen };
	struct cell_call local = { .done = done, .arg = arg }, *cc = &local;
	struct policy_answer pa;
	int err;

	if (!ps->cell)
		return -EOPNOTSUPP;
	if (rq->klen > POLICY_KEY_MAX)
		return -E2BIG;
	err = cell_limit(&ps->cell_conf, rq, &local.wl);
	if (err)
		return err;
	local.p = ps->cell;
	/* More than max_burst + 1 at once never passes (redis-cell: limited,
	 * retry_after -1): what the key has left is peeked, nothing charged. */
	local.never = rq->quantity > local.wl.limit;
	prq.cost = local.never ? 0 : rq->quantity;
	prq.peek = !prq.cost;
	if (redis_up(ps->redis)) {
		/* Its limit outlives this call while Redis decides; the script
		 * gets it packed in its parameters. */
		cc = malloc(sizeof(*cc));
		if (!cc)
			return -ENOMEM;
		*cc = local;
		cell_apply(ps->cell, cc);
		policy_redis_pack(ps->cell, now_ms);
	}
	err = policy_submit_apply(ps->cell, &prq, now_ms, &pa, cell_done, cc, cell_apply, cc);
	if (err == 1)
		return 1;
	cell_decided(cc, err, &pa, ans);
	if (cc != &local)
		free(cc);
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
