// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * RL.CHECKM: several (policy, key) pairs of window and budget policies in
 * one decision, all or nothing (per user AND per IP: a refusal by the IP
 * charges the user nothing).
 *
 * Every pair is first checked as with PEEK; then, when all pass, each is
 * charged, or, when one refuses, the refused pairs alone are checked for
 * real (what a refusal brings: block_for). Both steps run the types' own
 * check callbacks, so a pair gets exactly what RL.CHECK would give it.
 *
 * Memory store: both steps in one call, nothing of the loop in between:
 * atomic by construction. Redis: the states are read by one script, the
 * agent decides on them with the callbacks at Redis's time, and a second
 * run of the script applies the decision (the types' own RL.CHECK scripts,
 * on that same time) only if no state changed in between; else it returns
 * the new states and the agent decides again (at most MULTI_TRIES times).
 * One script call covers every key, so the apply step is atomic in Redis
 * too, and the semantics stay in one place per store (the C callbacks, the
 * types' scripts). This agent's decisions on a key take turns (struct
 * multi_queue), so only other agents' decisions (or RL.CHECKs) change a
 * state under one; when they keep doing so past MULTI_TRIES, it is refused
 * (never on_store_error's: Redis answered, and a fallback would admit on
 * this host's older view of the state).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "redis.h"
#include "sbuf.h"

#define MULTI_TRIES 16 /* apply attempts before the decision is refused */

/* Stripes of the keys of RL.CHECKM decisions in Redis (struct multi_queue). */
#define MULTI_STRIPES 1024

/* Per pair in the script's ARGV: type, params, cost, run ('0': check and
 * charge, '-': leave), expected value ('' none, '=' .. value). */
#define MULTI_PAIR_ARGS 5

struct mreq {
	struct policies *set;
	size_t n;
	bool peek;
	uint64_t now_ms; /* the agent's, for a fallback */
	int tries;
	bool ok[POLICY_MULTI_MAX];  /* the first step's verdict */
	bool run[POLICY_MULTI_MAX]; /* the second step's pairs */
	/* Redis: the values the last read found (NULL: no key) and its time. */
	char *val[POLICY_MULTI_MAX];
	size_t vlen[POLICY_MULTI_MAX];
	uint64_t rnow;
	policy_multi_done_fn done;
	void *arg;
	struct policy_multi_answer ans;
	/* Redis: the stripes of the pairs' keys, held while in Redis, or
	 * queued (next) behind a decision that holds one of them. */
	uint16_t stripe[POLICY_MULTI_MAX];
	bool held, contended;
	bool failed; /* Redis failed it: on_store_error decided */
	struct mreq *next;
	struct areq *q[POLICY_MULTI_MAX]; /* each with its key in its data */
};

/*
 * This agent's RL.CHECKM decisions in Redis (but PEEKs, which apply
 * nothing), per set: one that shares a key with another in Redis waits for
 * it to end, in arrival order. Without that, decisions on one key pipelined
 * together all read the same state, the first apply changes it, and every
 * other apply of that round fails: N clients spend N rounds, one success
 * each, and run out of tries. Keys are hashed into stripes: two keys of one
 * stripe wait for each other, which costs time, never a result. When Redis
 * has failed the last two decisions of a key in turn (past timeout_ms,
 * mostly) and answered nothing since, those still queued for it are decided
 * by on_store_error at once: waiting in turn for a hung Redis until the
 * breaker opens, each would add its own timeout_ms to the last one's wait.
 * One failure alone (a slow moment) does not: the next one is sent.
 */
struct multi_queue {
	uint8_t busy[MULTI_STRIPES];	 /* held by a decision in Redis */
	uint8_t failed[MULTI_STRIPES];	 /* its last holders failed by Redis, in a row */
	uint32_t waiting[MULTI_STRIPES]; /* pairs of queued decisions */
	uint32_t seen[MULTI_STRIPES];	 /* claimed by a waiter ahead in scan gen */
	uint32_t gen;
	struct mreq *head, *tail; /* queued, in arrival order */
	bool pumping, again;
};

static void mreq_free(struct mreq *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->q[i]);
		free(m->val[i]);
	}
	free(m);
}

/* --- deciding on states ---------------------------------------------------- */

struct preset {
	const uint64_t *pre;
	uint32_t size;
	store_fn fn;
	void *arg;
};

static uint64_t preset_fn(void *state, bool fresh, void *arg)
{
	struct preset *op = arg;

	(void)fresh;
	memcpy(state, op->pre, op->size);
	return op->fn(state, false, op->arg);
}

/* The state Redis holds for pair i (zeroes: none of this config). */
static void redis_state(const struct mreq *m, size_t i, uint64_t *pre)
{
	const struct policy *p = m->q[i]->p;
	const unsigned char *f;
	size_t k, nf = p->state_size / 8, len = m->vlen[i];

	memset(pre, 0, p->state_size);
	if (!m->val[i] || len < CONF_ID_LEN || (len - CONF_ID_LEN) % 8 ||
	    memcmp(m->val[i], p->conf_id, CONF_ID_LEN))
		return;
	f = (const unsigned char *)m->val[i] + CONF_ID_LEN;
	if (p->kind->decode) {
		if (!p->kind->decode(p, f, (len - CONF_ID_LEN) / 8, pre))
			memset(pre, 0, p->state_size);
		return;
	}
	if (len != CONF_ID_LEN + 8 * nf)
		return;
	for (k = 0; k < nf; k++)
		pre[k] = policy_get_u64(f + 8 * k);
}

/*
 * Pair i's check at now, as PEEK or for real: on the memory store (redis
 * false), or on the state Redis found, into memory (mirror, the applied
 * step) or into a scratch copy.
 */
static int run_pair(struct mreq *m, size_t i, bool peek, uint64_t now, bool redis, bool mirror)
{
	struct areq *q = m->q[i];
	struct policy *p = q->p;
	uint64_t pre[STORE_STATE_MAX / 8], tmp[STORE_STATE_MAX / 8];
	struct policy_call c;
	struct preset po;
	store_fn fn;
	bool create;

	q->rq.peek = peek || m->peek;
	memset(&q->ans.u, 0, sizeof(q->ans.u));
	policy_call_of(q, now, &c, &fn, &create);
	if (!redis)
		return store_run(m->set->store, p->ns, q->rq.key, q->rq.klen, create, now, fn, &c);
	redis_state(m, i, pre);
	if (!mirror || m->set->dead) {
		memcpy(tmp, pre, sizeof(tmp));
		fn(tmp, false, &c);
		return 0;
	}
	po = (struct preset){ .pre = pre, .size = p->state_size, .fn = fn, .arg = &c };
	return store_run(m->set->store, p->ns, q->rq.key, q->rq.klen, create, now, preset_fn, &po);
}

/* Whether pair i is decided by its on_store_error alone (allow, deny). */
static bool by_mode(const struct mreq *m, size_t i, bool fallback)
{
	return fallback && m->q[i]->p->conf.on_store_error != POLICY_ON_ERROR_MEMORY;
}

/* The first step: every pair as with PEEK; which pairs the second runs.
 * Returns whether there is a second step. */
static int first_step(struct mreq *m, uint64_t now, bool redis, bool fallback, bool *second)
{
	bool all = true;
	size_t i;
	int err;

	for (i = 0; i < m->n; i++) {
		struct areq *q = m->q[i];

		if (by_mode(m, i, fallback)) {
			struct policy_call c;
			store_fn fn;
			bool create;

			memset(&q->ans.u, 0, sizeof(q->ans.u));
			policy_call_of(q, now, &c, &fn, &create);
			q->p->kind->fallback(&c,
					     q->p->conf.on_store_error == POLICY_ON_ERROR_ALLOW);
		} else if ((err = run_pair(m, i, true, now, redis, false))) {
			return err;
		}
		m->ok[i] = q->ans.u.check.allowed;
		all &= m->ok[i];
	}
	*second = false;
	for (i = 0; i < m->n; i++) {
		m->run[i] = !m->peek && !by_mode(m, i, fallback) && (all || !m->ok[i]);
		*second |= m->run[i];
	}
	return 0;
}

/* The second step, on the states the first saw (Redis: they are applied). */
static int second_step(struct mreq *m, uint64_t now, bool redis, bool journal)
{
	bool all = true;
	size_t i;
	int err;

	for (i = 0; i < m->n; i++)
		all &= m->ok[i];
	for (i = 0; i < m->n; i++) {
		struct areq *q = m->q[i];

		if (!m->run[i])
			continue;
		err = run_pair(m, i, false, now, redis, true);
		if (err)
			return err;
		if (journal && all && q->rq.cost)
			policy_redis_journal(m->set, q->p, q->role, q->rq.key, q->rq.klen,
					     q->rq.cost);
	}
	return 0;
}

/* The answer of the pairs' answers; each pair's policy counts its part.
 * Contended: every pair passed but nothing could be applied; refused. */
static void conclude(struct mreq *m)
{
	struct policy_multi_answer *a = &m->ans;
	bool all = true, warn = false;
	size_t i;
	int b = -1;

	for (i = 0; i < m->n; i++)
		all &= m->ok[i];
	for (i = 0; i < m->n; i++) {
		const struct rl_result *r = &m->q[i]->ans.u.check;
		struct policy_answer counted = m->q[i]->ans;

		warn |= !strcmp(r->state, "warn");
		if (all ? b < 0 || r->remaining < m->q[b]->ans.u.check.remaining
			: !m->ok[i] && (b < 0 ||
					r->retry_after_ms > m->q[b]->ans.u.check.retry_after_ms))
			b = (int)i;
		/* A pair not charged because another refused was refused too. */
		counted.u.check.allowed = all && !m->contended && r->allowed;
		policy_count(m->q[i]->p, &counted);
	}
	a->binding = b;
	a->refused = all && !m->contended ? -1 : b;
	a->check = m->q[b]->ans.u.check;
	if (all && m->contended) {
		/* Nothing in the state refuses: it may pass at once. */
		a->check.allowed = false;
		a->check.state = "deny";
		a->check.retry_after_ms = 1;
	} else if (all && warn) {
		a->check.state = "warn";
	}
}

/* Redis down or failed: each pair's on_store_error; the memory pairs
 * decided together (what they charge goes to the outage journal). */
static int decide_fallback(struct mreq *m, bool journal)
{
	bool second;
	int err;

	m->set->sstats->fallback_decisions++;
	m->ans.fallback = true;
	err = first_step(m, m->now_ms, false, true, &second);
	if (!err && second)
		err = second_step(m, m->now_ms, false, journal);
	if (!err)
		conclude(m);
	return err;
}

static int decide_memory(struct mreq *m)
{
	bool second;
	int err = first_step(m, m->now_ms, false, false, &second);

	if (!err && second)
		err = second_step(m, m->now_ms, false, false);
	if (!err)
		conclude(m);
	return err;
}

/* --- Redis ------------------------------------------------------------------ */

static char *multi_src;

/*
 * The script: each type's own RL.CHECK script as a function of (KEYS, ARGV)
 * (their text is a chunk: as a function body it runs unchanged), and the
 * read / compare-and-apply around them. ARGV 1: a fixed now (tests; 0:
 * TIME); 2: '0' to read, else the now to apply at; then MULTI_PAIR_ARGS per
 * pair. Returns {applied, now, value...}: the values found (false: none).
 */
const char *policy_multi_lua(void)
{
	struct sbuf b = { 0 };
	int t;

	if (multi_src)
		return multi_src;
	sbuf_puts(&b, "local D = {}\n");
	for (t = 0; t < POLICY_TYPE_N; t++) {
		if (!policy_kinds[t]->decide[POLICY_OP_CHECK])
			continue;
		sbuf_printf(&b, "D[%d] = function(KEYS, ARGV)\n%s\nend\n", t,
			    policy_kinds[t]->lua[POLICY_LUA_DECIDE]);
		/* A mode with scripts of its own (window's sliding): D[type + N]. */
		if (policy_kinds[t]->lua_alt)
			sbuf_printf(&b, "D[%d] = function(KEYS, ARGV)\n%s\nend\n",
				    t + POLICY_TYPE_N, policy_kinds[t]->lua_alt[POLICY_LUA_DECIDE]);
	}
	sbuf_puts(&b,
		  "local function clock()\n"
		  "  local now = tonumber(ARGV[1])\n"
		  "  if now == 0 then local t = redis.call('TIME')\n"
		  "    now = t[1] * 1000 + math.floor(t[2] / 1000) end\n"
		  "  return now end\n"
		  "local n, at = #KEYS, tonumber(ARGV[2])\n"
		  "local out, same = {0, 0}, at > 0\n"
		  "for i = 1, n do local v = redis.call('GET', KEYS[i])\n"
		  "  local e = ARGV[2 + 5 * (i - 1) + 5]\n"
		  "  if not ((not v and e == '') or (v and e == '=' .. v)) then same = false end\n"
		  "  out[2 + i] = v or false end\n"
		  "if not same then out[2] = clock(); return out end\n"
		  "local now = string.format('%d', at)\n"
		  "for i = 1, n do local b = 2 + 5 * (i - 1)\n"
		  "  if ARGV[b + 4] == '0' then\n"
		  "    D[tonumber(ARGV[b + 1])]({KEYS[i]}, {ARGV[b + 2], now, ARGV[b + 3], '0'}) "
		  "end end\n"
		  "out[1] = 1; out[2] = at\n"
		  "return out\n");
	if (sbuf_failed(&b)) {
		sbuf_free(&b);
		return NULL;
	}
	multi_src = b.data; /* kept until exit: Redis re-loads it on every connect */
	return multi_src;
}

static void on_multi_reply(redisReply *rp, const char *why, void *arg);

/* Send the read (apply false) or the apply of the second step. */
static int multi_send(struct mreq *m, bool apply)
{
	const void *keys[POLICY_MULTI_MAX];
	size_t klens[POLICY_MULTI_MAX];
	char kbuf[POLICY_MULTI_MAX][RKEY_MAX];
	const char *argv[2 + MULTI_PAIR_ARGS * POLICY_MULTI_MAX];
	size_t alen[2 + MULTI_PAIR_ARGS * POLICY_MULTI_MAX];
	char num[2 + 2 * POLICY_MULTI_MAX][24];
	char *exp[POLICY_MULTI_MAX] = { 0 };
	size_t i, a = 0, nn = 0;
	int err = -ENOMEM;

	for (i = 0; i < m->n; i++) {
		struct areq *q = m->q[i];

		klens[i] = policy_redis_key(q->p, q->rq.key, q->rq.klen, kbuf[i], RKEY_MAX);
		if (!klens[i])
			return -E2BIG;
		keys[i] = kbuf[i];
	}
	argv[a] = num[nn];
	alen[a++] =
		(size_t)sbuf_fmt_ll(num[nn++], (long long)(m->set->fixed_clock ? m->now_ms : 0));
	argv[a] = num[nn];
	alen[a++] = (size_t)sbuf_fmt_ll(num[nn++], apply ? (long long)m->rnow : 0);
	for (i = 0; i < m->n; i++) {
		struct areq *q = m->q[i];

		argv[a] = num[nn];
		alen[a++] = (size_t)sbuf_fmt_ll(
			num[nn++], (long long)q->p->conf.type +
					   (q->p->kind->lua_alt_of && q->p->kind->lua_alt_of(q->p)
						    ? POLICY_TYPE_N
						    : 0));
		argv[a] = (const char *)policy_redis_params(q->p, q->role, m->now_ms);
		alen[a++] = q->p->params_len;
		argv[a] = num[nn];
		alen[a++] = (size_t)sbuf_fmt_ll(num[nn++], (long long)q->rq.cost);
		argv[a] = apply && m->run[i] ? "0" : "-";
		alen[a++] = 1;
		if (apply && m->val[i]) {
			exp[i] = malloc(m->vlen[i] + 1);
			if (!exp[i])
				goto out;
			exp[i][0] = '=';
			memcpy(exp[i] + 1, m->val[i], m->vlen[i]);
			argv[a] = exp[i];
			alen[a++] = m->vlen[i] + 1;
		} else {
			argv[a] = "";
			alen[a++] = 0;
		}
	}
	err = redis_evalm(m->set->redis, m->set->multi_script, (int)m->n, keys, klens, (int)a, argv,
			  alen, on_multi_reply, m);
out:
	for (i = 0; i < m->n; i++)
		free(exp[i]);
	return err;
}

/* Keep what the read found: {applied, now, value...}. */
static int take_values(struct mreq *m, redisReply *rp, bool *applied)
{
	size_t i;

	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 + m->n ||
	    rp->element[0]->type != REDIS_REPLY_INTEGER ||
	    rp->element[1]->type != REDIS_REPLY_INTEGER || rp->element[1]->integer <= 0)
		return -EPROTO;
	*applied = rp->element[0]->integer == 1;
	if (*applied)
		return 0; /* the values are those of the last read */
	m->rnow = (uint64_t)rp->element[1]->integer;
	for (i = 0; i < m->n; i++) {
		redisReply *e = rp->element[2 + i];

		free(m->val[i]);
		m->val[i] = NULL;
		m->vlen[i] = 0;
		if (e->type == REDIS_REPLY_STRING) {
			m->val[i] = malloc(e->len ? e->len : 1);
			if (!m->val[i])
				return -ENOMEM;
			memcpy(m->val[i], e->str, e->len);
			m->vlen[i] = e->len;
		} else if (e->type != REDIS_REPLY_NIL) {
			return -EPROTO;
		}
	}
	return 0;
}

/* --- this agent's decisions on a key take turns (struct multi_queue) ------- */

/* Whether m may go to Redis: none of its stripes is held, nor wanted by a
 * decision queued before it (queued: claimed in this scan; else: any). */
static bool multi_may_go(const struct multi_queue *mq, const struct mreq *m, bool queued)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		uint16_t s = m->stripe[i];

		if (mq->busy[s] || (queued ? mq->seen[s] == mq->gen : mq->waiting[s] > 0))
			return false;
	}
	return true;
}

static void multi_hold(struct multi_queue *mq, struct mreq *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		mq->busy[m->stripe[i]] = 1;
	m->held = true;
}

/* m holds its stripes (false), or waits for them in the queue (true). */
static bool multi_enqueue(struct policies *ps, struct mreq *m)
{
	struct multi_queue *mq = ps->mq;
	size_t i;

	if (!mq)
		mq = ps->mq = calloc(1, sizeof(*mq));
	if (!mq)
		return false; /* without turns: more tries under load, same results */
	for (i = 0; i < m->n; i++) {
		const struct areq *q = m->q[i];

		m->stripe[i] = store_siphash((uint64_t)(uintptr_t)q->p, 0x6d756c7469ULL, q->rq.key,
					     q->rq.klen) %
			       MULTI_STRIPES;
	}
	if (multi_may_go(mq, m, false)) {
		multi_hold(mq, m);
		return false;
	}
	for (i = 0; i < m->n; i++)
		mq->waiting[m->stripe[i]]++;
	if (mq->tail)
		mq->tail->next = m;
	else
		mq->head = m;
	mq->tail = m;
	return true;
}

static void multi_end(struct mreq *m, int err);

/* Send m's read; when it cannot go, m ends now (a fallback, or -EXDEV). */
static void multi_go(struct mreq *m)
{
	int err = -ENOTCONN;

	if (redis_up(m->set->redis)) {
		err = multi_send(m, false);
		if (!err)
			return;
	}
	multi_end(m, err == -EXDEV ? err : decide_fallback(m, true));
}

/* Stripes were freed: start the queued decisions that may go now, in order.
 * A decision that ends at once (Redis down) frees its stripes during the
 * scan: the scan is then made again rather than entered twice. */
static void multi_pump(struct policies *ps)
{
	struct multi_queue *mq = ps->mq;
	struct mreq **pp, *w, *prev;
	bool failed;
	size_t i;

	if (mq->pumping) {
		mq->again = true;
		return;
	}
	mq->pumping = true;
	do {
		mq->again = false;
		mq->gen++;
		prev = NULL;
		pp = &mq->head;
		while ((w = *pp)) {
			if (!multi_may_go(mq, w, true)) {
				for (i = 0; i < w->n; i++)
					mq->seen[w->stripe[i]] = mq->gen;
				prev = w;
				pp = &w->next;
				continue;
			}
			*pp = w->next;
			if (mq->tail == w)
				mq->tail = prev;
			w->next = NULL;
			failed = false;
			for (i = 0; i < w->n; i++) {
				mq->waiting[w->stripe[i]]--;
				failed |= mq->failed[w->stripe[i]] >= 2;
			}
			failed &= redis_failing(ps->redis);
			multi_hold(mq, w);
			if (!failed) {
				multi_go(w);
				continue;
			}
			w->failed = true;
			multi_end(w, decide_fallback(w, true));
		}
	} while (mq->again);
	mq->pumping = false;
}

void policy_multi_free(struct policies *ps)
{
	free(ps->mq);
	ps->mq = NULL;
}

static void multi_end(struct mreq *m, int err)
{
	struct policies *set = m->set;
	bool held = m->held;
	size_t i;

	for (i = 0; held && i < m->n; i++) {
		uint8_t *f = &set->mq->failed[m->stripe[i]];

		set->mq->busy[m->stripe[i]] = 0;
		*f = m->failed ? (uint8_t)(*f < 2 ? *f + 1 : 2) : 0;
	}
	m->done(err, err ? NULL : &m->ans, m->arg);
	mreq_free(m);
	if (held)
		multi_pump(set);
	policies_put(set);
}

static void on_multi_reply(redisReply *rp, const char *why, void *arg)
{
	struct mreq *m = arg;
	bool applied = false, second = false;
	int err = -EIO;

	if (rp && rp->type == REDIS_REPLY_ERROR && !strncmp(rp->str, "CROSSSLOT", 9)) {
		multi_end(m, -EXDEV);
		return;
	}
	if (rp && rp->type == REDIS_REPLY_ERROR && redis_key_error(rp)) {
		log_debug("redis store: RL.CHECKM error", LOG_STR("error", rp->str));
		multi_end(m, decide_fallback(m, false));
		return;
	}
	if (rp && rp->type != REDIS_REPLY_ERROR)
		err = take_values(m, rp, &applied);
	if (!err && applied) {
		err = second_step(m, m->rnow, true, false);
		if (!err)
			conclude(m);
		multi_end(m, err);
		return;
	}
	if (!err)
		err = first_step(m, m->rnow, true, false, &second);
	if (!err && second && ++m->tries <= MULTI_TRIES && !(err = multi_send(m, true)))
		return;
	if (!err) {
		/*
		 * PEEK: nothing to apply. Else the states kept changing under
		 * the applies (other decisions on these keys): Redis is fine,
		 * so not on_store_error, whose memory would admit on this
		 * host's older view, and journal it as an outage's. Decided on
		 * the last states Redis gave, nothing applied (a refusal's
		 * block_for neither), and a decision that would pass is refused.
		 */
		if (second) {
			m->contended = true;
			m->set->sstats->multi_contended++;
		}
		conclude(m);
		multi_end(m, 0);
		return;
	}
	/* Redis failed. */
	log_debug("redis store: RL.CHECKM falls back", LOG_STR("why", why ? why : "bad reply"));
	m->failed = true;
	multi_end(m, decide_fallback(m, true));
}

/* --- submitting ------------------------------------------------------------ */

/* Pair i, validated, into m->q[i]; role applies when its policy lists it. */
static int prepare_pair(struct mreq *m, size_t i, const struct policy_pair *pp,
			const struct policy_req *rq, bool *role_used)
{
	struct policy_req r = *rq;
	struct areq *q = malloc(sizeof(*q) + pp->klen);
	int err;

	if (!q)
		return -ENOMEM;
	m->q[i] = q;
	r.key = pp->key;
	r.klen = pp->klen;
	err = policy_prepare(q, pp->p, &r, m->now_ms);
	if (err == -ENOENT) {
		r.role = NULL;
		r.rlen = 0;
		err = policy_prepare(q, pp->p, &r, m->now_ms);
	} else if (!err && r.role) {
		*role_used = true;
	}
	if (err)
		return err;
	memcpy(q->data, pp->key, pp->klen);
	q->rq.key = q->data;
	q->rq.role = NULL;
	return 0;
}

int policy_submit_multi(struct policies *ps, const struct policy_pair *pairs, size_t n,
			uint64_t cost, const char *role, size_t rlen, bool peek, uint64_t now_ms,
			struct policy_multi_answer *ans, policy_multi_done_fn done, void *arg,
			int *bad)
{
	struct policy_req rq = {
		.op = POLICY_OP_CHECK, .cost = cost, .role = role, .rlen = rlen, .peek = peek
	};
	struct mreq *m;
	bool role_used = false;
	size_t i, k;
	int err = 0;

	*bad = 0;
	if (!n || n > POLICY_MULTI_MAX)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->set = ps;
	m->peek = peek;
	m->now_ms = now_ms;
	m->done = done;
	m->arg = arg;
	for (i = 0; i < n && !err; i++) {
		m->n = i + 1;
		*bad = (int)i;
		if (pairs[i].p->set != ps) {
			err = -EINVAL;
			break;
		}
		for (k = 0; k < i && !err; k++) {
			if (pairs[k].p == pairs[i].p && pairs[k].klen == pairs[i].klen &&
			    !memcmp(pairs[k].key, pairs[i].key, pairs[i].klen))
				err = -EALREADY;
		}
		if (!err)
			err = prepare_pair(m, i, &pairs[i], &rq, &role_used);
	}
	if (!err && role && !role_used) {
		*bad = 0;
		err = -ENOENT;
	}
	if (err)
		goto out;
	if (redis_up(ps->redis)) {
		/* A PEEK applies nothing: it has no turn to wait for. */
		if (!peek && multi_enqueue(ps, m)) {
			ps->refs++;
			return 1;
		}
		err = multi_send(m, false);
		if (!err) {
			ps->refs++;
			return 1;
		}
		/* Its stripes were free and nothing queued for them: nobody to start. */
		for (i = 0; m->held && i < m->n; i++)
			ps->mq->busy[m->stripe[i]] = 0;
		m->held = false;
		if (err == -EXDEV) /* keys on several cluster slots: never atomic */
			goto out;
	}
	/* Memory store, or Redis down (or not taking requests a moment ago). */
	err = ps->redis ? decide_fallback(m, true) : decide_memory(m);
	if (!err)
		*ans = m->ans;
out:
	mreq_free(m);
	return err;
}
