// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The set of policies of a config: compiling it (carrying over a reload
 * what a policy's state still means), finding a policy, and taking a request
 * through the store: generic checks, then the policy's kind (policy_kind.h)
 * decides in one store_run() callback, so all windows of a request are
 * checked and charged together (or not at all). The limiters are in
 * limit_*.c, the Redis store in policy_redis.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "redis.h"

/* --- what "unchanged" means for a reload --------------------------------- */

/*
 * The fields of c that make its decisions, in a copy whose other bytes are
 * fixed (zeroes and the config's defaults): the kind says which are its.
 * The only definition of "unchanged": conf_equal() compares copies (a
 * policy keeps its keys untouched), the Redis legacy id hashes one. The
 * copy starts from every type's defaults, as the parser's policies do, so
 * the ids of configs written before the kinds (which hashed the whole
 * parsed policy) stay the same and Redis state survives the upgrade.
 */
static void conf_canon(const struct fg_conf_policy *c, struct fg_conf_policy *out)
{
	memset(out, 0, sizeof(*out));
	config_policy_defaults(out);
	out->type = c->type;
	out->warn_at_milli = c->warn_at_milli;
	policy_kinds[c->type]->canon(out, c);
}

static bool conf_equal(const struct fg_conf_policy *a, const struct fg_conf_policy *b)
{
	struct fg_conf_policy ca, cb;

	if (strcmp(a->name, b->name) || a->type != b->type)
		return false;
	conf_canon(a, &ca);
	conf_canon(b, &cb);
	return !memcmp(&ca, &cb, sizeof(ca));
}

/* What a key's state means (the kind's layout), in a copy like conf_canon's. */
static void state_canon(const struct fg_conf_policy *c, struct fg_conf_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->type = c->type;
	if (policy_kinds[c->type]->layout)
		policy_kinds[c->type]->layout(out, c);
}

/* Whether a key's state under a reads the same under b (same name and type). */
static bool state_equal(const struct fg_conf_policy *a, const struct fg_conf_policy *b)
{
	struct fg_conf_policy ca, cb;

	if (strcmp(a->name, b->name) || a->type != b->type)
		return false;
	state_canon(a, &ca);
	state_canon(b, &cb);
	return !memcmp(&ca, &cb, sizeof(ca));
}

/*
 * The Redis state's ids (name aside: it is in the key). conf_id: the type's
 * tag ('G' + type: never a lowercase hex digit, so never the first byte of
 * a legacy id) and 15 hex digits of the state's meaning, so that a reload
 * that keeps a key's state in memory keeps it in Redis, and one that keeps
 * only blocks there finds the block (same tag) there too. legacy_id: what
 * agents before that wrote, a hash of conf_canon's copy.
 */
/*
 * A canon copy's hash: the bytes the struct had before the event types and
 * the time zone were added (it ended where evtypes starts), then the event
 * types when there are some, then the zone's name when there is one: the
 * copies with neither hash as they always did.
 */
_Static_assert(offsetof(struct fg_conf_policy, evtypes) == 4952,
	       "fields before evtypes change every policy's Redis id");
static uint64_t conf_hash(const struct fg_conf_policy *c, uint64_t k1)
{
	uint64_t h = store_siphash(0x666c6f6f64676174ULL, k1, c,
				   offsetof(struct fg_conf_policy, evtypes));

	if (c->nevtypes)
		h = store_siphash(h, k1, c->evtypes,
				  offsetof(struct fg_conf_policy, timezone) -
					  offsetof(struct fg_conf_policy, evtypes));
	if (c->timezone[0])
		h = store_siphash(h, k1, c->timezone, strlen(c->timezone));
	return h;
}

static void make_conf_id(struct policy *p)
{
	struct fg_conf_policy c;
	uint64_t h;

	state_canon(&p->conf, &c);
	h = conf_hash(&c, 0x73ULL) >> 4; /* 15 hex digits */
	snprintf(p->conf_id, sizeof(p->conf_id), "%c%015llx", 'G' + (int)p->conf.type,
		 (unsigned long long)h);
	conf_canon(&p->conf, &c);
	snprintf(p->legacy_id, sizeof(p->legacy_id), "%016llx",
		 (unsigned long long)conf_hash(&c, 0x65ULL));
}

/* A key's state under a new config of its policy, from the old one's:
 * all of it (same layout, recomputing the expiry under the new parameters),
 * what the kind's remap keeps, or its block alone. */
struct carry {
	const struct policy *p; /* the new policy */
	uint32_t old_size;
	bool all;
};

static uint64_t carry_fn(void *dst, const void *src, void *arg)
{
	const struct carry *c = arg;

	if (c->all)
		memcpy(dst, src, c->old_size);
	else if (c->p->kind->remap)
		c->p->kind->remap(c->p, src, c->old_size, dst);
	else
		memcpy(dst, src, sizeof(uint64_t)); /* the block's end: every state's first field */
	return c->p->kind->expiry(c->p, dst);
}

/* --- compiling ------------------------------------------------------------ */

struct policy *policy_compile(const struct fg_conf_policy *c)
{
	const struct policy_kind *k = policy_kinds[c->type];
	struct policy *p = calloc(1, sizeof(*p) + k->priv_size);

	if (!p)
		return NULL;
	p->conf = *c;
	p->kind = k;
	p->namelen = strlen(c->name);
	p->state_size = k->state_size(c);
	if (k->compile)
		k->compile(p);
	make_conf_id(p);
	policy_redis_pack(p, 0); /* a zone's window: packed again at the first request */
	return p;
}

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
		policy_redis_release(ps->journal);
	policy_multi_free(ps);
	for (i = 0; i < ps->n; i++)
		free(ps->p[i]);
	free(ps->p);
	free(ps->cell);
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
	struct policy **from = NULL; /* prev's policy of the same name and type */

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		goto nomem;
	ps->n = conf->npolicies > 0 ? (size_t)conf->npolicies : 0;
	ps->p = calloc(ps->n ? ps->n : 1, sizeof(*ps->p));
	kept = calloc(ps->n ? ps->n : 1, sizeof(*kept));
	from = calloc(ps->n ? ps->n : 1, sizeof(*from));
	if (!ps->p || !kept || !from)
		goto nomem;
	for (i = 0; i < ps->n; i++) {
		struct policy *old = find_conf(prev, conf->policies[i].name);

		ps->p[i] = policy_compile(&conf->policies[i]);
		if (!ps->p[i])
			goto nomem;
		ps->p[i]->set = ps;
		if (!old || old->conf.type != conf->policies[i].type)
			continue; /* new, or another type: fresh state */
		from[i] = old;
		/* The state means the same: the namespace stays (its keys are
		 * rewritten below when parameters changed); so do the counters. */
		if (state_equal(&old->conf, &conf->policies[i]) &&
		    old->state_size == ps->p[i]->state_size) {
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
		if (!ret && ps->p[i]->kind->state_used &&
		    ps->p[i]->kind->state_used(&ps->p[i]->conf))
			ret = store_ns_set_used(store, ps->p[i]->ns,
						ps->p[i]->kind->state_used(&ps->p[i]->conf));
		if (ret) {
			snprintf(err, errlen, "policies: no room for policy \"%s\" in the store",
				 ps->p[i]->conf.name);
			goto fail_ns;
		}
	}
	ret = policy_cell_new(ps, conf, prev, store);
	if (ret) {
		snprintf(err, errlen,
			 "per_call_limits: no room for CL.THROTTLE's keys in the store");
		goto fail_ns;
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
		/* What a changed policy keeps (issue 12): all of its keys' state
		 * when it still means the same, else their blocks. Only now:
		 * nothing of prev changes before every fallible step is done. */
		for (i = 0; i < ps->n; i++) {
			struct carry c = { .p = ps->p[i], .all = kept[i] };

			if (!from[i] || (kept[i] && conf_equal(&from[i]->conf, &conf->policies[i])))
				continue;
			c.old_size = from[i]->state_size;
			store_ns_move(store, from[i]->ns, ps->p[i]->ns, carry_fn, &c);
			store_ns_set_max_keys(store, ps->p[i]->ns, ps->p[i]->max_keys, 0);
		}
		/* State of removed policies and of the old namespaces goes. */
		for (i = 0; i < prev->n; i++) {
			size_t k;
			bool still = false;

			for (k = 0; k < ps->n; k++)
				still |= kept[k] && ps->p[k]->ns == prev->p[i]->ns;
			if (!still)
				store_ns_drop(store, prev->p[i]->ns);
		}
		policy_cell_commit(ps, prev, store);
		policy_redis_carry(ps, prev);
		set_free(prev, false);
	} else {
		policy_cell_commit(ps, NULL, store);
	}
	ps->store = store;
	free(kept);
	free(from);
	return ps;

fail_ns:
	policy_cell_abort(ps, prev, store);
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
	free(from);
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
	return p->kind->name;
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
	policy_redis_stats(ps, out);
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
/* --- counting answers ---------------------------------------------------- */

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

static void count_event(struct policy *p, const struct rl_event_result *out)
{
	if (!strcmp(out->state, "disconnect")) {
		p->stats.denied++;
	} else {
		p->stats.allowed++;
		p->stats.warned += !strcmp(out->state, "warn");
	}
}

void policy_count(struct policy *p, const struct policy_answer *ans)
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

/* --- block, unblock: the same on every type -------------------------------- */

static uint64_t block_fn(void *state, bool fresh, void *arg)
{
	struct policy_call *c = arg;
	uint64_t *blocked_until = state; /* first field of every state */

	(void)fresh;
	if (c->rq->op == POLICY_OP_UNBLOCK)
		*blocked_until = 0;
	else
		*blocked_until = max_u64(*blocked_until, c->now_ms + c->rq->seconds * 1000);
	return c->p->kind->expiry(c->p, state);
}

/* --- deciding ---------------------------------------------------------------- */

bool policy_supports(const struct policy *p, enum policy_op op)
{
	return op >= POLICY_OP_DECIDE_N || p->kind->decide[op];
}

void policy_call_of(struct areq *q, uint64_t now_ms, struct policy_call *c, store_fn *fn,
		    bool *create)
{
	if (q->apply)
		q->apply(q->p, q->apply_arg);
	*c = (struct policy_call){ .p = q->p,
				   .rq = &q->rq,
				   .now_ms = now_ms,
				   .role = q->role,
				   .exempt = q->exempt,
				   .ans = &q->ans };
	switch (q->rq.op) {
	case POLICY_OP_CHECK:
		*create = !q->rq.peek;
		break;
	case POLICY_OP_AUTH_FAIL:
		*create = true;
		break;
	case POLICY_OP_EVENT:
		*create = !q->exempt;
		break;
	case POLICY_OP_CHARGE:
		*create = !q->rq.refund;
		break;
	default:
		*create = q->rq.op == POLICY_OP_BLOCK;
		break;
	}
	*fn = q->rq.op < POLICY_OP_DECIDE_N ? q->p->kind->decide[q->rq.op] : block_fn;
}

int policy_decide_memory(struct areq *q, bool journal)
{
	struct policy *p = q->p;
	struct policy_call c;
	store_fn fn;
	bool create;
	int err;

	memset(&q->ans.u, 0, sizeof(q->ans.u));
	if (q->rq.op == POLICY_OP_RESET)
		return store_del(q->set->store, p->ns, q->rq.key, q->rq.klen, q->now_ms);
	policy_call_of(q, q->now_ms, &c, &fn, &create);
	err = store_run(q->set->store, p->ns, q->rq.key, q->rq.klen, create, q->now_ms, fn, &c);
	if (err)
		return err;
	policy_count(p, &q->ans);
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
	case POLICY_OP_CHARGE:
		/* A refund takes back what this outage counted, if anything: one
		 * lost is a refund not given, never a charge given twice. */
		if (q->rq.refund)
			policy_redis_unjournal(q->set, p, q->role, q->rq.key, q->rq.klen,
					       q->rq.cost);
		else
			q->journaled = q->rq.cost;
		break;
	default:
		break;
	}
	policy_redis_journal(q->set, p, policy_op_row(q->rq.op, q->role), q->rq.key, q->rq.klen,
			     q->journaled);
	return 0;
}

int policy_decide_fallback(struct areq *q, bool journal)
{
	struct policy *p = q->p;
	struct policy_answer *ans = &q->ans;
	enum policy_on_error mode = p->conf.on_store_error;
	struct policy_call c;
	store_fn fn;
	bool create;

	q->set->sstats->fallback_decisions++;
	ans->fallback = true;
	/* A charge records usage that happened: kept (and replayed) whatever
	 * on_store_error says about decisions. */
	if (mode == POLICY_ON_ERROR_MEMORY || q->rq.op >= POLICY_OP_DECIDE_N ||
	    q->rq.op == POLICY_OP_CHARGE)
		return policy_decide_memory(q, journal);
	memset(&ans->u, 0, sizeof(ans->u));
	policy_call_of(q, q->now_ms, &c, &fn, &create);
	p->kind->fallback(&c, mode == POLICY_ON_ERROR_ALLOW);
	policy_count(p, ans);
	return 0;
}

/* What every request is refused before touching a store. */
static int validate(struct areq *q)
{
	const struct policy_req *rq = &q->rq;
	struct policy *p = q->p;
	struct policy_call c;
	store_fn fn;
	bool create;
	int err;

	if (rq->klen > POLICY_KEY_MAX)
		return -E2BIG;
	if (rq->op == POLICY_OP_BLOCK && (!rq->seconds || rq->seconds > POLICY_BLOCK_MAX_S))
		return -EINVAL;
	if (!policy_supports(p, rq->op))
		return -EOPNOTSUPP;
	if (policy_op_has_role(rq->op)) {
		if (rq->cost > POLICY_COST_MAX)
			return -EINVAL;
		q->role = role_index(p, rq->role, rq->rlen);
		if (q->role < 0)
			return -ENOENT;
	}
	if (rq->op >= POLICY_OP_DECIDE_N || !p->kind->validate)
		return 0;
	policy_call_of(q, q->now_ms, &c, &fn, &create);
	err = p->kind->validate(&c);
	q->exempt = c.exempt;
	if (rq->op == POLICY_OP_EVENT)
		q->role = c.role; /* the event type's row */
	return err;
}

/* q for rq on p at now_ms, once validate() accepts it; q->rq keeps rq's pointers. */
static int areq_prepare(struct areq *q, struct policy *p, const struct policy_req *rq,
			uint64_t now_ms, policy_apply_fn apply, const void *apply_arg)
{
	memset(q, 0, sizeof(*q));
	q->set = p->set;
	q->p = p;
	q->rq = *rq;
	q->now_ms = now_ms;
	q->apply = apply;
	q->apply_arg = apply_arg;
	q->ans.op = rq->op;
	return validate(q);
}

int policy_prepare(struct areq *q, struct policy *p, const struct policy_req *rq, uint64_t now_ms)
{
	return areq_prepare(q, p, rq, now_ms, NULL, NULL);
}

void policies_put(struct policies *ps)
{
	if (--ps->refs == 0 && ps->dead)
		set_free(ps, ps->dead_with_store);
}

/* --- RL.POLICY -------------------------------------------------------------- */

int policy_describe(const struct policy *p, const char *role, size_t rlen, struct policy_desc *d,
		    char *hdr, size_t hdrlen)
{
	int r = role_index(p, role, rlen), i;
	size_t off = 0;

	if (r < 0)
		return -ENOENT;
	memset(d, 0, sizeof(*d));
	p->kind->describe(p, r, d);
	d->role = r ? p->conf.roles[r - 1].name : NULL;
	hdr[0] = '\0';
	for (i = 0; d->http && i < d->nq; i++) {
		int n = snprintf(hdr + off, hdrlen - off, "%s\"%s-%s\";q=%llu;w=%llu",
				 i ? ", " : "", p->conf.name, d->q[i].window,
				 (unsigned long long)d->q[i].quota,
				 (unsigned long long)((d->q[i].window_ms + 999) / 1000));

		if (n < 0 || (size_t)n >= hdrlen - off) {
			hdr[0] = '\0';
			break;
		}
		off += (size_t)n;
	}
	return 0;
}

/* --- policy_submit ---------------------------------------------------------- */

int policy_submit(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
		  struct policy_answer *ans, policy_done_fn done, void *arg)
{
	return policy_submit_apply(p, rq, now_ms, ans, done, arg, NULL, NULL);
}

int policy_submit_apply(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
			struct policy_answer *ans, policy_done_fn done, void *arg,
			policy_apply_fn apply, const void *apply_arg)
{
	struct policies *ps = p->set;
	struct areq local, *q;
	int err;

	err = areq_prepare(&local, p, rq, now_ms, apply, apply_arg);
	if (err)
		return err;
	if (!redis_up(ps->redis)) {
		/* Memory store, or Redis down: decide now, on the stack. */
		err = ps->redis ? policy_decide_fallback(&local, true)
				: policy_decide_memory(&local, false);
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
	err = policy_redis_send(q);
	if (err) {
		/* Not sent (down a moment ago, too many in flight): decide now. */
		err = policy_decide_fallback(q, true);
		if (!err)
			*ans = q->ans;
		free(q);
		return err;
	}
	ps->refs++;
	return 1;
}
