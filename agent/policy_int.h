/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_int: the insides of the policy module, shared by the set
 * (policy.c), the Redis store (policy_redis.c) and the limiters
 * (limit_*.c). Nothing outside those files includes it.
 */
#ifndef FG_POLICY_INT_H
#define FG_POLICY_INT_H

#include <endian.h>
#include <string.h>

#include "policy.h"
#include "policy_kind.h"
#include "store.h"

#define NS_PER_MS   1000000ULL
#define MS_PER_HOUR (3600ULL * 1000)
#define MS_PER_DAY  (86400ULL * 1000)

#define CONF_ID_LEN 16 /* hex digits of a policy's config id */
/* "{prefix:len:name:" and a whole Redis key. */
#define RKEY_PREFIX_MAX (2 * FG_CONF_NAME_MAX + 16)
#define RKEY_MAX	(RKEY_PREFIX_MAX + STORE_KEY_MAX + 2)
/* The scripts' packed parameters: the ids, 3 doubles, 2 per window limit
 * and 2 more (a sliding window's cap), or 2 per event type and the rest. */
#define PARAMS_PAIRS_MAX                                                                           \
	(POLICY_MAX_LIMITS + 1 > POLICY_MAX_EVENT_TYPES + 1 ? POLICY_MAX_LIMITS + 1                \
							    : POLICY_MAX_EVENT_TYPES + 1)
#define PARAMS_MAX (2 * CONF_ID_LEN + 8 * (3 + 2 * PARAMS_PAIRS_MAX))
_Static_assert(POLICY_MAX_EVENT_TYPES <= POLICY_MAX_ROLES, "a params row per event type");

struct policy {
	struct fg_conf_policy conf;
	const struct policy_kind *kind; /* policy_kinds[conf.type] */
	size_t namelen;			/* strlen(conf.name) */
	struct policies *set;
	uint32_t ns;
	uint32_t state_size;
	uint64_t max_keys; /* its bound in the store: conf.max_keys or a fair share */
	struct policy_stats stats;
	/* The Redis state's id: a tag of the type ('G' + type), then a hash of
	 * what the state means (kind->layout). State of another id is ignored
	 * but for its block when the tag is the same (policy_lua.h). */
	char conf_id[CONF_ID_LEN + 1];
	/* The id agents before issue 12 wrote (a hash of the whole canon copy):
	 * their state of this very config is read as this config's. */
	char legacy_id[CONF_ID_LEN + 1];
	/* The Redis scripts' first argument, per row (policy_rows), packed once. */
	unsigned char params[POLICY_MAX_ROLES + 1][PARAMS_MAX];
	size_t params_len;
	/* The agent time they were packed for, and the last time they hold
	 * for (kind->pack_until; a budget's zone window): repacked after it. */
	uint64_t params_at, params_until;
	char rkey[RKEY_PREFIX_MAX]; /* "{prefix:len(name):name:", its Redis keys' start */
	size_t rkeylen;
	/* CL.THROTTLE's (policy_cell.c): what an outage counted is not
	 * replayed (each call's limits are gone by then). */
	bool per_call;
	uint64_t priv[]; /* the kind's compiled parameters (kind->priv_size bytes) */
};

struct shared_stats {
	uint64_t fallback_decisions, replayed_keys, replay_dropped, late_applied;
	uint64_t multi_contended; /* RL.CHECKMs refused: other decisions kept changing the keys */
};

struct journal; /* the outage journal (policy_redis.c) */

/* RL.CHECKM's decisions in Redis, taking turns per key (policy_multi.c). */
struct multi_queue;

struct policies {
	struct store *store;
	size_t n;
	struct policy **p;
	/* The shared store; carried over by policies_new like the memory store. */
	struct redis *redis;
	int scripts[POLICY_TYPE_N][2][POLICY_LUA_N]; /* [type][lua_alt_of][script] */
	struct journal *journal;		     /* outage counts, per key */
	struct shared_stats *sstats;
	bool fixed_clock;
	int multi_script; /* RL.CHECKM's (policy_multi.c), with Redis */
	/* Its decisions in Redis (NULL until the first), one set's only. */
	struct multi_queue *mq;
	/* CL.THROTTLE's policy (policy_cell.c): not in p[], NULL when disabled. */
	struct policy *cell;
	struct fg_conf_per_call cell_conf;
	/* Requests in flight hold the set: a reload frees it when the last ends. */
	unsigned refs;
	bool dead, dead_with_store;
};

/* One decision as a limiter sees it: the arg of its store callback. */
struct policy_call {
	const struct policy *p;
	const struct policy_req *rq;
	uint64_t now_ms; /* the decision's clock: the agent's, or Redis's */
	int role;	 /* check: 0 = no ROLE, else 1 + index into conf.roles;
			  * event: 0 = the policy's limit, else 1 + index into conf.evtypes */
	bool exempt;	 /* event: rq's event is one of conf.exempt */
	struct policy_answer *ans;
};

/* Sets a request's own parameters on the policy it is decided on. */
typedef void (*policy_apply_fn)(struct policy *p, const void *arg);

/* A request on its way through a store (in flight while Redis decides). */
struct areq {
	struct policies *set;
	struct policy *p;
	struct policy_req rq; /* key points into data; role and event are not kept */
	int role;	      /* what validation made of rq's role or event type ... */
	bool exempt;	      /* ... and event */
	uint64_t journaled;   /* what the fallback added to the outage journal */
	uint64_t now_ms;      /* the agent's clock, for a fallback */
	policy_done_fn done;
	void *arg;
	/* Parameters given with the request (CL.THROTTLE's limit): apply sets
	 * them on p before each decision on it (policy_call_of); NULL: none. */
	policy_apply_fn apply;
	const void *apply_arg;
	struct policy_answer ans;
	unsigned char data[];
};

/* --- policy.c for policy_redis.c and policy_cell.c ------------------------------------------ */

/* The call of q at now (its decision function and whether it creates a key). */
void policy_call_of(struct areq *q, uint64_t now_ms, struct policy_call *c, store_fn *fn,
		    bool *create);
/* A policy for c (its kind's compile, ids and Redis parameters); set,
 * ns and max_keys are the caller's. NULL: out of memory. */
struct policy *policy_compile(const struct fg_conf_policy *c);
/* Count ans in p's stats. */
void policy_count(struct policy *p, const struct policy_answer *ans);
/* The memory store decides q (journal: add what it charges to the outage journal). */
int policy_decide_memory(struct areq *q, bool journal);
/* on_store_error decides q (memory: policy_decide_memory). */
int policy_decide_fallback(struct areq *q, bool journal);
/* A request of ps ended: the set goes if a reload replaced it meanwhile. */
void policies_put(struct policies *ps);

/* policy_submit with parameters of the request's own: apply(p, apply_arg)
 * before each decision on p (validation, memory, Redis's reply, a
 * fallback); apply_arg must live until done is called (a return of 1) or
 * the call returns otherwise. The caller packs p's Redis parameters for
 * them (policy_redis_pack) before: they are sent before this returns. */
int policy_submit_apply(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
			struct policy_answer *ans, policy_done_fn done, void *arg,
			policy_apply_fn apply, const void *apply_arg);

/* areq_prepare: q for rq on p at now, validated (q->rq keeps rq's pointers). */
int policy_prepare(struct areq *q, struct policy *p, const struct policy_req *rq, uint64_t now_ms);

/* --- policy_cell.c ---------------------------------------------------------- */

/* ps->cell for conf, in store: prev's namespace and counters when prev had
 * one; -errno with nothing made. policy_cell_commit() once policies_new
 * cannot fail any more (drops prev's namespace when conf disables it);
 * policy_cell_abort() undoes a policy_cell_new() of a set that fails. */
int policy_cell_new(struct policies *ps, const struct fg_conf *conf, const struct policies *prev,
		    struct store *store);
void policy_cell_commit(struct policies *ps, const struct policies *prev, struct store *store);
void policy_cell_abort(struct policies *ps, const struct policies *prev, struct store *store);

/* --- policy_multi.c --------------------------------------------------------- */

/* The RL.CHECKM script's source (built once; lives until exit). NULL: no memory. */
const char *policy_multi_lua(void);
/* Frees ps's RL.CHECKM queue (set_free: no decision of ps is left). */
void policy_multi_free(struct policies *ps);

/* --- policy_redis.c for policy.c ------------------------------------------ */

/* Send q to Redis: 0 when sent (its reply ends it), -errno when not. */
int policy_redis_send(struct areq *q);
/* p's scripts' first argument, per role (after conf_id and the kind's compile). */
void policy_redis_pack(struct policy *p, uint64_t at_ms);
/* p's packed parameters for role, repacked first when they do not hold at now_ms. */
const unsigned char *policy_redis_params(struct policy *p, int role, uint64_t now_ms);
/* ps replaces prev (a reload): it takes prev's Redis, scripts and journal. */
void policy_redis_carry(struct policies *ps, const struct policies *prev);
/* What the fallback charged for (policy, role, key): added to Redis later. */
void policy_redis_journal(struct policies *ps, const struct policy *p, int role, const void *key,
			  size_t klen, uint64_t amount);
/* {prefix:len:policy:key} into buf; its length, or 0 when it does not fit. */
size_t policy_redis_key(const struct policy *p, const void *key, size_t klen, char *buf,
			size_t len);
/* A refund during an outage: less of (policy, role, key) to add to Redis. */
void policy_redis_unjournal(struct policies *ps, const struct policy *p, int role, const void *key,
			    size_t klen, uint64_t amount);
/* The set owning j is freed: j goes now or with its last reply. NULL is fine. */
void policy_redis_release(struct journal *j);
/* The shared store's part of policies_store_stats(). */
void policy_redis_stats(const struct policies *ps, struct policies_store_stats *out);

/* Operations that take COST and ROLE. */
static inline bool policy_op_has_role(enum policy_op op)
{
	return op == POLICY_OP_CHECK || op == POLICY_OP_CHARGE;
}

/* The row of p's parameters (params[], the journal's role) a request of op
 * uses: its role, or its event type's; 0 for the others. */
static inline int policy_op_row(enum policy_op op, int role)
{
	return policy_op_has_role(op) || op == POLICY_OP_EVENT ? role : 0;
}

/* Rows of parameters: no role and each role, or the policy's limit and each
 * event type (a policy has one or the other). */
static inline int policy_rows(const struct fg_conf_policy *c)
{
	return 1 + c->nroles + c->nevtypes;
}

/* --- for the limiters ------------------------------------------------------ */

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

/* canon's copy of the roles (of the types that have roles:), names
 * zero-padded so that equal roles compare equal byte for byte. */
static inline void policy_canon_roles(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	for (i = 0; i < s->nroles; i++) {
		strcpy(d->roles[i].name, s->roles[i].name);
		d->roles[i].mult_milli = s->roles[i].mult_milli;
		d->roles[i].amount = s->roles[i].amount;
	}
	d->nroles = s->nroles;
}

/* The RL.CHECK answer of on_store_error. */
static inline void policy_check_fallback(struct rl_result *r, bool allow, uint64_t limit,
					 const char *window)
{
	r->allowed = allow;
	r->limit = limit;
	r->remaining = allow ? limit : 0;
	r->retry_after_ms = allow ? 0 : 1000;
	r->state = allow ? "ok" : "deny";
	r->window = window;
}

/* The scripts' numbers: little-endian doubles (exact below 2^53). */
static inline void policy_put_f64(unsigned char *buf, size_t *off, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	u = htole64(u);
	memcpy(buf + *off, &u, sizeof(u));
	*off += sizeof(u);
}

static inline void policy_put_double(unsigned char *buf, size_t *off, uint64_t v)
{
	policy_put_f64(buf, off, (double)v);
}

/* The same for a signed v (a zone's offsets and times). */
static inline void policy_put_sdouble(unsigned char *buf, size_t *off, int64_t v)
{
	policy_put_f64(buf, off, (double)v);
}

/* A double of a Redis state as the memory store's integer: anything but
 * an integer in range (a value not written by the scripts) counts as 0. */
static inline uint64_t policy_get_u64(const unsigned char *buf)
{
	uint64_t u;
	double d;

	memcpy(&u, buf, sizeof(u));
	u = le64toh(u);
	memcpy(&d, &u, sizeof(d));
	return d >= 1 && d < 18446744073709551616.0 ? (uint64_t)d : 0;
}

#endif /* FG_POLICY_INT_H */
