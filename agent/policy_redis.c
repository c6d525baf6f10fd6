// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The shared store: decisions of a set with store.type redis go to Redis as
 * the policy kind's Lua scripts (policy_lua.h says how they work), and
 * their replies are decided by the same memory callbacks (policy.c). While
 * Redis fails, on_store_error decides and the outage journal keeps what
 * memory counted, replayed into Redis in the background when it is back
 * (docs/redis.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "policy_int.h"
#include "redis.h"
#include "sbuf.h"

/* Every kind's scripts (and one kind's second set, lua_alt) and RL.CHECKM's
 * fit in what the Redis connection registers. */
_Static_assert((POLICY_TYPE_N + 1) * POLICY_LUA_N + 1 <= REDIS_MAX_SCRIPTS,
	       "raise REDIS_MAX_SCRIPTS");

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
	uint64_t run_later;		/* of it: back in the journal, their node is down */
	struct shared_stats stats;
};

#define JOURNAL_MAX 100000
/* Replay scripts in Redis at once: callers' decisions queue behind at most these. */
#ifndef REPLAY_INFLIGHT
#define REPLAY_INFLIGHT 16
#endif

/* --- the outage journal: what memory counted while Redis was away ---------- */

struct jentry {
	struct jentry *next; /* bucket chain, or the replay list */
	struct journal *j;   /* while its replay script is in Redis */
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
void policy_redis_release(struct journal *j)
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

void policy_redis_journal(struct policies *ps, const struct policy *p, int role, const void *key,
			  size_t klen, uint64_t amount)
{
	struct journal *j = ps->journal;
	struct jentry *e, **pp;

	if (!amount || !j || p->per_call)
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

/*
 * e (off every list) goes back into the journal, merged with what the
 * fallback counted for its key since: replayed at the next recovery.
 */
static void journal_readd(struct journal *j, struct jentry *e)
{
	struct jentry **pp = journal_find(j, e->policy, e->role, e->key, e->klen);

	if (*pp) {
		(*pp)->amount += e->amount;
		free(e);
		return;
	}
	e->next = NULL;
	*pp = e;
	j->n++;
}

void policy_redis_unjournal(struct policies *ps, const struct policy *p, int role, const void *key,
			    size_t klen, uint64_t amount)
{
	if (ps->journal && amount)
		journal_sub(ps->journal, p->conf.name, role, key, klen, amount);
}

/* --- building a script call ------------------------------------------------- */

/* The script of p that does what (its kind's, or the kind's second set). */
static int script_of(const struct policies *ps, const struct policy *p, enum policy_lua what)
{
	bool alt = p->kind->lua_alt_of && p->kind->lua_alt_of(p);

	return ps->scripts[p->conf.type][alt][what];
}

/* ARGV of a script: the parameters, a fixed now and up to two numbers. */
struct rargs {
	const char *v[4];
	size_t len[4];
	char num[3][24];
	int n;
};

static void arg_u64(struct rargs *a, uint64_t v)
{
	char *buf = a->num[a->n - 1];

	a->v[a->n] = buf;
	a->len[a->n++] = sbuf_fmt_ll(buf, (long long)v);
}

/*
 * The scripts' first argument for each role (policy_lua.h): the config id,
 * then the kind's doubles xp, x, n and its pairs. Packed when the policy is
 * compiled, not per decision.
 */
void policy_redis_pack(struct policy *p, uint64_t at_ms)
{
	int role;

	p->params_at = at_ms;
	p->params_until = p->kind->pack_until ? p->kind->pack_until(p, at_ms) : UINT64_MAX;
	for (role = 0; role < policy_rows(&p->conf); role++) {
		size_t off = CONF_ID_LEN;

		memcpy(p->params[role], p->conf_id, off);
		p->kind->pack(p, role, p->params[role], &off);
		memcpy(p->params[role] + off, p->legacy_id, CONF_ID_LEN);
		p->params_len = off + CONF_ID_LEN;
	}
}

const unsigned char *policy_redis_params(struct policy *p, int role, uint64_t now_ms)
{
	if (now_ms > p->params_until || now_ms < p->params_at)
		policy_redis_pack(p, now_ms);
	return p->params[role];
}

/* ARGV 1 and 2 of every script, for row role (window limits, budget amount,
 * an event type's limit),
 * with parameters that hold at now_ms (the agent's clock). */
static void args_common(struct rargs *a, struct policy *p, int role, uint64_t now_ms,
			uint64_t fixed_now)
{
	a->v[0] = (const char *)policy_redis_params(p, role, now_ms);
	a->len[0] = p->params_len;
	a->n = 1;
	arg_u64(a, fixed_now);
}

/*
 * Once Redis is attached: the "{prefix:len:policy:" every key of a policy
 * starts with. The policy name's length makes the split unambiguous: policy
 * "x:y" key "K" and policy "x" key "y:K" are {p:3:x:y:K} and {p:1:x:y:K}.
 */
static void redis_key_init(struct policies *ps, struct policy *p)
{
	int n = snprintf(p->rkey, sizeof(p->rkey), "{%s:%zu:%s:", redis_prefix(ps->redis),
			 p->namelen, p->conf.name);

	p->rkeylen = n > 0 && (size_t)n < sizeof(p->rkey) ? (size_t)n : 0;
}

static void redis_keys_init(struct policies *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		redis_key_init(ps, ps->p[i]);
	if (ps->cell) /* CL.THROTTLE's: "@cl", a name no policy has */
		redis_key_init(ps, ps->cell);
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

size_t policy_redis_key(const struct policy *p, const void *key, size_t klen, char *buf, size_t len)
{
	return redis_key(p, key, klen, buf, len);
}

/* --- asynchronous requests -------------------------------------------------- */

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

/*
 * The memory state in the value a script found (see policy_lua.h): zeros,
 * a fresh state, when it is of another config of the policy (but for the
 * block of the same type's), or not one the scripts wrote (the scripts
 * treat it the same way).
 */
static void decode_state(const struct policy *p, const char *v, size_t len, uint64_t *pre)
{
	const unsigned char *f = (const unsigned char *)v + CONF_ID_LEN;
	size_t i, nf = p->state_size / 8;
	bool ours = len >= CONF_ID_LEN &&
		    (!memcmp(v, p->conf_id, CONF_ID_LEN) || !memcmp(v, p->legacy_id, CONF_ID_LEN));

	if (!ours && len >= CONF_ID_LEN + 8 && v[0] == p->conf_id[0]) {
		uint64_t old[STORE_STATE_MAX / 8];
		size_t n = (len - CONF_ID_LEN) / 8;

		if (!p->kind->remap || (len - CONF_ID_LEN) % 8 || n > STORE_STATE_MAX / 8) {
			pre[0] = policy_get_u64(f);
			return;
		}
		for (i = 0; i < n; i++)
			old[i] = policy_get_u64(f + 8 * i);
		p->kind->remap(p, old, (uint32_t)(n * 8), pre);
		return;
	}
	if (!ours || (len - CONF_ID_LEN) % 8)
		return;
	if (p->kind->decode) {
		if (!p->kind->decode(p, f, (len - CONF_ID_LEN) / 8, pre))
			memset(pre, 0, p->state_size);
		return;
	}
	if (len != CONF_ID_LEN + 8 * nf)
		return;
	for (i = 0; i < nf; i++)
		pre[i] = policy_get_u64(f + 8 * i);
}

/* Redis answered with the time and the state it found: the memory callback
 * computes the reply from them, and leaves the new state in memory. */
static int decide_from_reply(struct areq *q, redisReply *rp)
{
	struct policy *p = q->p;
	uint64_t pre[STORE_STATE_MAX / 8], now;
	struct policy_call c;
	struct preset_op po;
	store_fn fn;
	bool create;
	int err;

	if (q->rq.op == POLICY_OP_RESET) {
		memset(&q->ans.u, 0, sizeof(q->ans.u));
		if (rp->type != REDIS_REPLY_INTEGER)
			return -EPROTO;
		return q->set->dead
			       ? 0
			       : store_del(q->set->store, p->ns, q->rq.key, q->rq.klen, q->now_ms);
	}
	memset(pre, 0, p->state_size);
	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 ||
	    rp->element[0]->type != REDIS_REPLY_INTEGER || rp->element[0]->integer <= 0)
		return -EPROTO;
	now = (uint64_t)rp->element[0]->integer;
	if (rp->element[1]->type == REDIS_REPLY_STRING)
		decode_state(p, rp->element[1]->str, rp->element[1]->len, pre);
	else if (rp->element[1]->type != REDIS_REPLY_NIL)
		return -EPROTO;
	memset(&q->ans.u, 0, sizeof(q->ans.u));
	policy_call_of(q, now, &c, &fn, &create);
	po = (struct preset_op){ .pre = pre, .size = p->state_size, .fn = fn, .arg = &c };
	if (q->set->dead) {
		/* The set was replaced: its memory namespaces may be gone. */
		uint64_t tmp[STORE_STATE_MAX / 8];

		preset_fn(tmp, false, &po);
		err = 0;
	} else {
		err = store_run(q->set->store, p->ns, q->rq.key, q->rq.klen, create, now, preset_fn,
				&po);
	}
	if (!err)
		policy_count(p, &q->ans);
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
	l->role = policy_op_row(q->rq.op, q->role);
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
		err = policy_decide_fallback(q, false);
		goto done;
	}
	if (rp && rp->type != REDIS_REPLY_ERROR) {
		err = decide_from_reply(q, rp);
		if (err == -EPROTO) {
			/* A reply of the wrong shape (a faulty or hostile Redis):
			 * as a key's own error, this request alone gets
			 * on_store_error, counted, and nothing is journaled for a
			 * replay (Redis answered: whatever it did is done). */
			static struct log_gate gate;
			uint64_t suppressed;

			q->p->stats.store_key_errors++;
			if (log_gate_due(&gate, q->now_ms * 1000000ULL, &suppressed))
				log_warn("redis store: unexpected script reply",
					 LOG_STR("policy", q->p->conf.name),
					 LOG_UINT("suppressed", suppressed));
			err = policy_decide_fallback(q, false);
			goto done;
		}
	}
	if (err == -EIO) {
		log_debug("redis store: decision falls back", LOG_STR("policy", q->p->conf.name),
			  LOG_STR("why", why ? why : "bad reply"));
		err = policy_decide_fallback(q, true);
		if (!err && !rp && why && !strcmp(why, "timeout"))
			want_late(q);
	}
done:
	q->done(err, err ? NULL : &q->ans, q->arg);
	policies_put(q->set);
	free(q);
}

/* Send q to Redis: 0 when sent, -EAGAIN when Redis is not up. */
int policy_redis_send(struct areq *q)
{
	struct policies *ps = q->set;
	struct policy *p = q->p;
	char key[RKEY_MAX];
	size_t klen = redis_key(p, q->rq.key, q->rq.klen, key, sizeof(key));
	uint64_t fixed = ps->fixed_clock ? q->now_ms : 0;
	struct rargs a;
	int script = script_of(ps, p, POLICY_LUA_DECIDE);

	if (!klen)
		return -E2BIG;
	if (q->rq.op == POLICY_OP_RESET) {
		const char *argv[] = { "DEL", key };
		size_t lens[] = { 3, klen };

		return redis_command(ps->redis, 2, argv, lens, on_redis_reply, q);
	}
	args_common(&a, p, q->role, q->now_ms, fixed);
	switch (q->rq.op) {
	case POLICY_OP_CHECK:
		arg_u64(&a, q->rq.cost);
		arg_u64(&a, q->rq.peek);
		break;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		arg_u64(&a, q->rq.op == POLICY_OP_AUTH_FAIL);
		break;
	case POLICY_OP_EVENT:
		arg_u64(&a, q->exempt);
		break;
	case POLICY_OP_CHARGE: /* the decide script: ARGV 4 is 2 (charge) or 3 (refund) */
		arg_u64(&a, q->rq.cost);
		arg_u64(&a, q->rq.refund ? 3 : 2);
		break;
	default: /* block, unblock */
		script = script_of(ps, p, POLICY_LUA_BLOCK);
		arg_u64(&a, q->rq.op == POLICY_OP_BLOCK ? q->rq.seconds : 0);
		break;
	}
	return redis_eval(ps->redis, script, key, klen, a.n, a.v, a.len, on_redis_reply, q);
}

void policy_redis_carry(struct policies *ps, const struct policies *prev)
{
	ps->redis = prev->redis;
	if (ps->redis)
		redis_keys_init(ps);
	memcpy(ps->scripts, prev->scripts, sizeof(ps->scripts));
	ps->multi_script = prev->multi_script;
	ps->journal = prev->journal;
	ps->sstats = prev->sstats;
	if (ps->journal)
		ps->journal->owner = ps;
	ps->fixed_clock = prev->fixed_clock;
}

void policy_redis_stats(const struct policies *ps, struct policies_store_stats *out)
{
	struct redis_stats rs;

	if (!ps->redis)
		return;
	redis_stats(ps->redis, &rs);
	out->shared = true;
	out->fallback_active = !rs.up;
	out->store_errors = rs.errors;
	out->store_timeouts = rs.timeouts;
	out->fallback_decisions = ps->sstats->fallback_decisions;
	out->replayed_keys = ps->sstats->replayed_keys;
	out->replay_dropped = ps->sstats->replay_dropped;
	out->late_applied = ps->sstats->late_applied;
	out->multi_contended = ps->sstats->multi_contended;
	out->outage_keys = ps->journal ? ps->journal->n + ps->journal->nreplay : 0;
	out->switches = rs.switches;
	out->key_errors = rs.key_errors;
}

int policies_set_redis(struct policies *ps, struct redis *r)
{
	int t, i, id;

	if (!r || ps->redis == r)
		return 0;
	for (t = 0; t < POLICY_TYPE_N; t++) {
		const struct policy_kind *k = policy_kinds[t];

		for (i = 0; i < POLICY_LUA_N; i++) {
			id = redis_script(r, k->lua[i]);
			if (id < 0)
				return id;
			ps->scripts[t][0][i] = ps->scripts[t][1][i] = id;
			if (!k->lua_alt)
				continue;
			id = redis_script(r, k->lua_alt[i]);
			if (id < 0)
				return id;
			ps->scripts[t][1][i] = id;
		}
	}
	if (!policy_multi_lua())
		return -ENOMEM;
	id = redis_script(r, policy_multi_lua());
	if (id < 0)
		return id;
	ps->multi_script = id;
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
	struct jentry *e = arg;
	struct journal *j = e->j;

	j->inflight--;
	if (rp && rp->type == REDIS_REPLY_ERROR && !redis_key_error(rp)) {
		/* The server refused it (CLUSTERDOWN of a master that is
		 * rejoining, LOADING...): it did not run; the next recovery
		 * replays it. */
		journal_readd(j, e);
		j->run_later++;
		e = NULL;
	} else if (!rp || rp->type == REDIS_REPLY_ERROR) {
		j->stats.replay_dropped++;
		j->run_dropped++;
		log_debug("redis store: outage replay failed", LOG_STR("why", why ? why : "?"));
	} else {
		j->stats.replayed_keys++;
		j->run_sent++;
	}
	free(e);
	replay_pump(j);
	journal_put(j);
}

/*
 * Keep up to REPLAY_INFLIGHT replay scripts in Redis, the next one sent as
 * one comes back: the backlog of a long outage goes in the background, and
 * a caller's decision waits behind at most REPLAY_INFLIGHT short scripts
 * (not behind the whole backlog, which made it time out and the breaker
 * open again, over and over). On a cluster each entry goes to its key's
 * master: one that is still down (-EAGAIN) sends its entries back to the
 * journal, for its own recovery, and the others' entries go on.
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

		if (klen && e->role < policy_rows(&p->conf)) {
			args_common(&a, p, e->role, clock_realtime_ms(), 0);
			arg_u64(&a, e->amount);
			e->j = j;
			err = redis_eval_background(ps->redis, script_of(ps, p, POLICY_LUA_REPLAY),
						    key, klen, a.n, a.v, a.len, on_replay_reply, e);
		}
		j->replay = e->next;
		if (!j->replay)
			j->replay_tail = NULL;
		j->nreplay--;
		if (err == -EAGAIN) {
			/* Its node is down (or all are: redis_up ends the loop). */
			journal_readd(j, e);
			j->run_later++;
			continue;
		}
		if (err) {
			free(e);
			j->stats.replay_dropped++;
			j->run_dropped++;
			continue;
		}
		j->inflight++;
		j->refs++;
	}
	if (!j->replay && !j->inflight && (j->run_sent || j->run_dropped)) {
		log_warn("redis store: outage counts added to redis", LOG_UINT("keys", j->run_sent),
			 LOG_UINT("dropped", j->run_dropped),
			 LOG_UINT("waiting_for_their_node", j->run_later));
		j->run_sent = j->run_dropped = j->run_later = 0;
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
