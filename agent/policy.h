/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy: the application-layer limiters named under `policies:` in the
 * config and the state they keep per key: in this host's memory store
 * (store.h) and, with store.type redis, in Redis (one Lua script per
 * decision, the state mirrored into memory for the fallback). What each
 * type does is described by its row of the kind table (policy_kind.h) and
 * implemented in its limiter file (limit_<type>.c).
 *
 * Conventions for every function below:
 * - Time is always injected: now_ms is Unix epoch milliseconds (the caller
 *   reads CLOCK_REALTIME), so budget periods reset at exact hour/day
 *   boundaries of UTC or of the budget's zone (tzone.h, resolved at config
 *   load). Nothing in policy or store reads a clock or a file.
 * - Keys (and connection ids) are binary-safe byte strings of 0..
 *   POLICY_KEY_MAX bytes; longer ones are refused with -E2BIG.
 * - Functions that act return 0 or -errno:
 *     -EOPNOTSUPP  the operation does not apply to this policy's type
 *                  (e.g. RL.CHECK on a progressive policy)
 *     -ENOENT      unknown role (a ROLE the policy does not list), or an
 *                  event type an events policy without a limit: does not name
 *     -E2BIG       key longer than POLICY_KEY_MAX
 *     -EINVAL      bad argument (COST above POLICY_COST_MAX, seconds 0 ...)
 *     -ERANGE      COST larger than a window's limit (it could never pass)
 *     -ENOMEM      out of memory
 *   A call that fails changes no state.
 * - Strings in results (state, window) are static; never free them.
 * - Not thread-safe: one event loop owns a struct policies.
 */
#ifndef FG_POLICY_H
#define FG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "policy-t.h"

struct policies; /* the compiled set of a config + the store holding their state */
struct policy;	 /* one policy of a set; valid until the set is freed */

/*
 * Compile conf->policies (and conf->store) into a new set. State of every
 * policy of prev that keeps its name and type in conf is carried over as
 * far as it still means something (all of it when its kind's layout is
 * unchanged, else its blocks; docs/config.md "Reload"); state of removed
 * policies and of policies of another type is dropped. prev may be NULL.
 * On success prev is CONSUMED (freed: do not use it or its struct policy
 * pointers again) and the new set is returned. On failure NULL is returned
 * with errno set and a message in err, and prev is untouched and still
 * valid. seed keys the store's hash (pass random bytes, e.g. getrandom();
 * ignored when prev's store is carried over).
 */
struct policies *policies_new(const struct fg_conf *conf, struct policies *prev, uint64_t seed,
			      char *err, size_t errlen);

/* Free a set, its policies and its store. NULL is fine. */
void policies_free(struct policies *ps);

/* The policy called name (len bytes, not NUL-terminated), or NULL. */
struct policy *policies_find(struct policies *ps, const char *name, size_t len);

/* Number of policies, and the i-th (0 <= i < count) in config order. */
size_t policies_count(const struct policies *ps);
struct policy *policies_at(struct policies *ps, size_t i);

const char *policy_name(const struct policy *p);
enum policy_type policy_type(const struct policy *p);
/* Its type's name in the config ("window", "progressive", ...). */
const char *policy_type_name(const struct policy *p);
/* Whether p's type decides op (block, unblock and reset: every type). */
bool policy_supports(const struct policy *p, enum policy_op op);
/* The policy's config (read-only; lives as long as the set). */
const struct fg_conf_policy *policy_conf(const struct policy *p);

/* RL.CHECK reply. */
struct rl_result {
	bool allowed;
	uint64_t limit;		 /* of the binding window (the one with the least remaining) */
	uint64_t remaining;	 /* in that window, after this request */
	uint64_t reset_ms;	 /* until that window is back to a full limit */
	uint64_t retry_after_ms; /* 0 when allowed; else until a request of this cost passes */
	const char *state;	 /* "ok", "warn", "deny" or "blocked" */
	const char *window;	 /* binding window: "1s", "1m", "90s", "hour", "day" ... */
};

/* RL.AUTH.* replies (progressive policies). */
struct rl_auth_result {
	uint64_t delay_ms; /* auth_fail: slowdown that now applies; auth_check: wait left */
	uint64_t failures; /* remembered failures */
	bool ban; /* auth_fail only: failures >= xdp_ban.after; ban the key if it is an IP */
	uint64_t ban_for_ms; /* xdp_ban.for when ban is set */
};

/* RL.EVENT reply (events policies). */
struct rl_event_result {
	const char *state; /* "ok", "warn", "disconnect" or "exempt" */
	uint64_t count;	   /* counted events of the connection (of the type) in its window */
	uint64_t limit;
	/* With events: in the policy, the counter the event went to: its type's
	 * name, or "*" (the policy's limit, shared by the types it does not
	 * name); NULL without events:. Lives as long as the policy's set. */
	const char *type;
};

/* Per-policy counters for INFO and metrics (monotonic; kept across a
 * reload while the policy keeps its keys' state). */
struct policy_stats {
	uint64_t keys;		/* keys with state now */
	uint64_t allowed;	/* check: allowed; auth_check: wait 0; event: ok/warn/exempt */
	uint64_t denied;	/* check: deny/blocked; auth_check: wait > 0; event: disconnect */
	uint64_t warned;	/* check and event answers "warn" */
	uint64_t blocked;	/* checks refused because of a block */
	uint64_t auth_failures; /* RL.AUTH.FAIL calls */
	uint64_t xdp_bans;	/* auth failures that asked for an XDP ban */
	uint64_t max_keys;	/* its bound in the memory store (max_keys or a fair share) */
	uint64_t evictions;	/* its live keys its own new keys evicted (at max_keys) */
	uint64_t store_key_errors; /* Redis error replies about one key (WRONGTYPE...) */
};
void policy_stats(const struct policy *p, struct policy_stats *out);

/* The memory-store bound of each policy without max_keys: what the
 * policies with max_keys leave of store.max_keys, shared equally (at
 * least 1); 0 when every policy has its own. */
uint64_t policies_fair_share(const struct fg_conf *conf);

/* Store-wide counters for INFO and metrics. */
struct policies_store_stats {
	const char *type; /* "memory": the local store (with redis: the fallback) */
	uint64_t keys;	  /* all keys of all policies */
	uint64_t max_keys;
	uint64_t evictions; /* live keys dropped because max_keys was reached */
	uint64_t expired;   /* keys reclaimed after their state expired */
	uint64_t bytes;	    /* memory held by the store, approximately */

	/* The shared store (store.type: redis); all 0 without one. */
	bool shared;		     /* store.type is redis */
	bool fallback_active;	     /* Redis is not usable: decisions use on_store_error */
	uint64_t store_errors;	     /* Redis failures: timeouts, errors, lost connections */
	uint64_t store_timeouts;     /* of store_errors: past store.redis.timeout_ms */
	uint64_t fallback_decisions; /* decisions made by on_store_error */
	uint64_t replayed_keys;	     /* outage counts added to Redis after recoveries */
	uint64_t replay_dropped;     /* outage counts not kept (journal full, lost replays) */
	uint64_t outage_keys;	     /* keys with outage counts waiting for Redis */
	uint64_t late_applied;	     /* timed-out requests Redis ran after all (not replayed) */
	uint64_t switches;	     /* changes between Redis and the fallback, both ways */
	uint64_t key_errors;	     /* error replies about one key, every policy */
	uint64_t multi_contended;    /* RL.CHECKMs refused: the keys kept changing in Redis */
};
void policies_store_stats(const struct policies *ps, struct policies_store_stats *out);

/* --- the shared (Redis) store and asynchronous decisions ------------------- */

struct redis;

/*
 * Make decisions of ps go to Redis r (NULL: memory only). The set keeps r
 * across reloads (policies_new carries it over with the memory store); r
 * must outlive every set that uses it. Registers the policy scripts on r.
 */
int policies_set_redis(struct policies *ps, struct redis *r);

/*
 * Redis came back: add what was counted in memory during the outage (per
 * key, replayed into Redis as a cost; docs/redis.md), in the background,
 * at most a few scripts at a time, and forget it.
 */
void policies_redis_up(struct policies *ps);

/* Tests only: the scripts use now_ms instead of Redis's TIME. */
void policies_redis_fixed_clock(struct policies *ps, bool on);

/*
 * One request; pointers need to stay valid only during policy_submit().
 * What each operation does (docs/api.md has the replies):
 * - CHECK (window, budget): check every window (or the budget) for cost and
 *   charge all of them at once, or none when the request is refused. peek
 *   checks without charging or blocking; cost 0 behaves like peek. role
 *   may be NULL (multiplier 1 / default amount); otherwise it must be one
 *   the policy lists (-ENOENT). -ERANGE: cost above a window's limit.
 * - AUTH_FAIL (progressive): record a failure (forgetting old ones first),
 *   answer the delay. AUTH_CHECK: wait = max(0, delay - (now - last
 *   failure)); changes nothing.
 * - EVENT (events): count one event of connection key. The window is fixed
 *   per connection and starts at its first counted event. The event
 *   bringing the count to ceil(warn_at x limit) is "warn" (once per
 *   window), the one reaching limit and every later one in the window
 *   "disconnect"; events in the exempt list (exact, case-sensitive names)
 *   are "exempt", not counted. An event type the policy's events: names
 *   has a counter, limit, window and warn_at of its own (on the same key:
 *   RESET forgets all of them); any other shares the policy's limit, or is
 *   refused with -ENOENT when the policy has none.
 * - CHARGE (budget): record cost as used whatever is left (actual usage
 *   known after the request: AI tokens), up to POLICY_DEBT_MAX; used above
 *   the amount is a debt paid back by the amount of each new period (the
 *   amount of the request's role) before requests pass again. refund takes
 *   cost back instead, never below nothing used. The answer is RL.CHECK's
 *   for a request of cost 1 with peek, after the charge (role as given).
 * - BLOCK (every type): block key for seconds from now: checks answer
 *   "blocked", auth waits cover the block, events "disconnect". A block
 *   never shortens a longer one already in place. UNBLOCK lifts a block
 *   (by RL.BLOCK or block_for); counters stay. RESET forgets everything
 *   about key (counters, failures, block).
 */
struct policy_req {
	enum policy_op op;
	const void *key; /* or the connection of RL.EVENT */
	size_t klen;
	uint64_t cost; /* check */
	const char *role;
	size_t rlen;
	bool peek;
	bool refund;	   /* charge: take cost back */
	const char *event; /* event */
	size_t elen;
	uint64_t seconds; /* block */
};

struct policy_answer {
	enum policy_op op;
	bool fallback; /* decided by on_store_error (Redis failed or is down) */
	union {
		struct rl_result check;
		struct rl_auth_result auth;
		struct rl_event_result event;
	} u;
};

/* err is 0 or -errno (then ans holds nothing). */
typedef void (*policy_done_fn)(int err, const struct policy_answer *ans, void *arg);

/*
 * Decide rq on p. With the memory store (or Redis down: on_store_error
 * decides) the answer is written to *ans and 0 returned; with Redis up the
 * request is sent, 1 is returned and done runs later, exactly once, from
 * the loop (within store.redis.timeout_ms: past it on_store_error decides).
 * -errno (see the top of this file) when the request is refused before
 * any store is asked; then done never runs.
 */
int policy_submit(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
		  struct policy_answer *ans, policy_done_fn done, void *arg);

/* --- introspection (RL.POLICY) ---------------------------------------------- */

#define POLICY_DESC_PARAMS 8
/* Quotas of a description: a window's limits, or an events policy's limit
 * and event types. */
#define POLICY_DESC_QUOTAS (POLICY_MAX_EVENT_TYPES + 1)
_Static_assert(POLICY_DESC_QUOTAS >= POLICY_MAX_LIMITS, "a quota per window limit");

/* What a policy allows, for a role: from its kind's describe row. */
struct policy_desc {
	struct {
		uint64_t quota;	    /* requests, amount or events ... */
		uint64_t window_ms; /* ... per this long */
		const char *window; /* its name, as RL.CHECK's window field (RL.EVENT's type) */
	} q[POLICY_DESC_QUOTAS];
	int nq;
	bool http; /* the quotas are an HTTP client's (RateLimit-Policy applies) */
	const char *role; /* the role's name as configured (NULL: no role) */
	/* The type's other parameters, by name (block_for_ms, base_delay_ms, ...):
	 * a number v, or a string s when s is set (window: algorithm; budget:
	 * timezone). */
	struct {
		const char *name;
		uint64_t v;
		const char *s; /* a string value instead of v (NULL: v) */
	} param[POLICY_DESC_PARAMS];
	int nparam;
};

/*
 * Describe p for role (NULL: none; -ENOENT unknown), and write the value
 * of an IETF RateLimit-Policy field (draft-ietf-httpapi-ratelimit-headers:
 * a List of "policy-window";q=quota;w=seconds, windows rounded up to whole
 * seconds) into hdr ("" when the type has no HTTP quotas, or it does not fit).
 */
int policy_describe(const struct policy *p, const char *role, size_t rlen, struct policy_desc *d,
		    char *hdr, size_t hdrlen);

/* --- several (policy, key) pairs in one decision (RL.CHECKM) ----------------- */

#define POLICY_MULTI_MAX 16 /* pairs of one decision */

struct policy_pair {
	struct policy *p; /* of the set the decision is submitted to */
	const void *key;
	size_t klen;
};

struct policy_multi_answer {
	bool fallback; /* decided by on_store_error (Redis failed or is down) */
	int refused;   /* the pair that refused (the one holding it back longest), or -1 */
	int binding;   /* the pair whose fields are in check: refused, else the least remaining */
	struct rl_result check; /* that pair's; state "warn" when any pair warns */
};

typedef void (*policy_multi_done_fn)(int err, const struct policy_multi_answer *ans, void *arg);

/*
 * RL.CHECKM: check n (1..POLICY_MULTI_MAX) pairs of window and budget
 * policies for cost (PEEK: charge nothing) and charge all of them, or none
 * when any pair refuses: a refused pair alone gets what a refusal brings it
 * (block_for). role applies to the pairs whose policy lists it (-ENOENT when
 * none does). Memory store: decided now, in one callback per pair with
 * nothing in between (atomic by construction), 0 returned. Redis: one
 * script over every key (CAS on the states it found, decided by the same
 * callbacks), 1 returned and done runs later, exactly once; Redis down:
 * each pair's on_store_error, memory pairs decided together. -errno with
 * *bad the pair at fault when refused before any store is asked (those of
 * policy_submit, and -EALREADY: a pair repeats an earlier one; -EINVAL:
 * n out of range). done may get -EXDEV: Redis Cluster put the keys in
 * several hash slots (no atomic decision possible; nothing charged).
 */
int policy_submit_multi(struct policies *ps, const struct policy_pair *pairs, size_t n,
			uint64_t cost, const char *role, size_t rlen, bool peek, uint64_t now_ms,
			struct policy_multi_answer *ans, policy_multi_done_fn done, void *arg,
			int *bad);

/* --- limits given per call (CL.THROTTLE, redis-cell's command) --------------- */

/*
 * GCRA (the window type's) with the limits of the call: max_burst + 1
 * requests at once, count per period_s seconds on average; quantity 0
 * peeks. State per key in a namespace of its own (the memory store's
 * namespace of per_call_limits, a Redis key no policy's can be), kept
 * across calls with other limits (a TAT, as redis-cell keeps it).
 */
struct policy_cell_req {
	const void *key;
	size_t klen;
	uint64_t max_burst, count, period_s, quantity;
};

/* redis-cell's reply: retry_after_s -1 when allowed or never (quantity
 * above max_burst + 1); both times rounded up to whole seconds. */
struct policy_cell_answer {
	bool limited;
	bool fallback; /* decided by this host's memory (Redis failed or is down) */
	long long limit, remaining, retry_after_s, reset_after_s;
};

typedef void (*policy_cell_done_fn)(int err, const struct policy_cell_answer *ans, void *arg);

/*
 * CL.THROTTLE: as policy_submit (0: *ans written now; 1: done runs later,
 * exactly once). Refused before any store: -EOPNOTSUPP per_call_limits is
 * disabled; -EINVAL count or period 0; -ERANGE max_burst, count or period
 * above per_call_limits; -EOVERFLOW (max_burst + 1) x period / count past
 * FG_CONF_PER_CALL_PERIOD_MAX; -E2BIG key too long.
 */
int policy_submit_cell(struct policies *ps, const struct policy_cell_req *rq, uint64_t now_ms,
		       struct policy_cell_answer *ans, policy_cell_done_fn done, void *arg);

/* CL.RESET: forget key's CL.THROTTLE state (memory and Redis), as
 * policy_submit's RESET (0 now, 1 when done runs later). -EOPNOTSUPP when
 * per_call_limits is disabled, -E2BIG for a key too long. */
int policy_reset_cell(struct policies *ps, const void *key, size_t klen, uint64_t now_ms,
		      policy_done_fn done, void *arg);

/* per_call_limits of ps (its bounds), and CL.THROTTLE's counters (as a
 * policy's); false when it is disabled. */
bool policies_cell(const struct policies *ps, struct fg_conf_per_call *conf,
		   struct policy_stats *stats);

/* Reclaim up to budget expired keys now (for an idle-time timer; requests
 * already reclaim a few each). Returns how many went. */
size_t policies_sweep(struct policies *ps, uint64_t now_ms, size_t budget);

#endif /* FG_POLICY_H */
