/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * store: where policies keep per-key state. An interface (struct store_ops)
 * with one implementation today, the bounded in-memory store; the Redis store
 * of the next issue plugs in behind the same calls.
 *
 * State lives in namespaces (one per policy of a config, so a reload can keep
 * or drop a policy's state as a whole). A namespace has a fixed state size; a
 * key is 0..STORE_KEY_MAX binary-safe bytes. Every call that can touch state
 * takes now_ms (injected time) and reclaims a few expired entries as it goes:
 * no timers per key and no full scans on the request path.
 *
 * Decisions run through store_run(): the store finds (or makes) the state of
 * a key and hands it to a callback that reads and writes it in place and
 * returns when that state expires. The memory store runs the callback on its
 * own entry, so one decision is atomic by construction; a remote store must
 * run the same decision server-side (Redis: one Lua script per decision).
 */
#ifndef FG_STORE_H
#define FG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_MAX	512
#define STORE_STATE_MAX 128  /* bytes of state per key, at most */
#define STORE_NS_MAX	1024 /* namespaces alive (or holding keys) at once */

/*
 * Decision callback. state holds the key's state (all zeroes when the key
 * had none or it expired: fresh is then true). The callback changes state in
 * place and returns the time (Unix ms) at which the new state is worth no
 * more than an all-zero one; a time <= now_ms deletes the key (or stores
 * nothing when it had none).
 */
typedef uint64_t (*store_fn)(void *state, bool fresh, void *arg);

struct store_stats {
	const char *type; /* "memory" */
	uint64_t keys;
	uint64_t max_keys;
	uint64_t evictions; /* live keys dropped to stay within max_keys */
	uint64_t expired;   /* expired (or dropped-namespace) keys reclaimed */
	uint64_t bytes;	    /* approximate memory held */
};

struct store;

struct store_ops {
	/* A new namespace whose keys hold state_size bytes (<= STORE_STATE_MAX). */
	int (*ns_new)(struct store *s, uint32_t state_size, uint32_t *ns);
	/* Drop a namespace: its keys become garbage, reclaimed incrementally. */
	void (*ns_drop)(struct store *s, uint32_t ns);
	uint64_t (*ns_keys)(const struct store *s, uint32_t ns);
	/* A namespace's own bound (0 = only the store's): a new key of a full
	 * namespace evicts that namespace's least recently used key, never
	 * another namespace's. Evicts down to it at once. */
	int (*ns_set_max_keys)(struct store *s, uint32_t ns, uint64_t max_keys, uint64_t now_ms);
	/* Live keys of ns dropped to stay within a bound. */
	uint64_t (*ns_evictions)(const struct store *s, uint32_t ns);
	/* Run fn on the state of (ns, key); create = keep a fresh key fn left
	 * unexpired. Without create a missing key stays missing (fn still runs
	 * on zeroes, its changes are discarded). */
	int (*run)(struct store *s, uint32_t ns, const void *key, size_t klen, bool create,
		   uint64_t now_ms, store_fn fn, void *arg);
	/* Delete (ns, key); 0 whether or not it existed. */
	int (*del)(struct store *s, uint32_t ns, const void *key, size_t klen, uint64_t now_ms);
	/* Change the store's bound; evicts down to it at once (dropped
	 * namespaces' keys first, then the largest namespaces' LRU keys). */
	int (*set_max_keys)(struct store *s, uint64_t max_keys, uint64_t now_ms);
	/* Reclaim up to budget expired keys (for an idle-time timer). Returns how many. */
	size_t (*sweep)(struct store *s, uint64_t now_ms, size_t budget);
	void (*stats)(const struct store *s, struct store_stats *out);
	void (*free)(struct store *s);
};

struct store {
	const struct store_ops *ops;
};

/* A bounded in-memory store (hash table + LRU list). seed keys SipHash so a
 * client cannot pick colliding keys. NULL with errno on failure. */
struct store *store_memory_new(uint64_t max_keys, uint64_t seed);

static inline int store_ns_new(struct store *s, uint32_t state_size, uint32_t *ns)
{
	return s->ops->ns_new(s, state_size, ns);
}

static inline void store_ns_drop(struct store *s, uint32_t ns)
{
	s->ops->ns_drop(s, ns);
}

static inline uint64_t store_ns_keys(const struct store *s, uint32_t ns)
{
	return s->ops->ns_keys(s, ns);
}

static inline int store_ns_set_max_keys(struct store *s, uint32_t ns, uint64_t max_keys,
					uint64_t now_ms)
{
	return s->ops->ns_set_max_keys(s, ns, max_keys, now_ms);
}

static inline uint64_t store_ns_evictions(const struct store *s, uint32_t ns)
{
	return s->ops->ns_evictions(s, ns);
}

static inline int store_run(struct store *s, uint32_t ns, const void *key, size_t klen, bool create,
			    uint64_t now_ms, store_fn fn, void *arg)
{
	return s->ops->run(s, ns, key, klen, create, now_ms, fn, arg);
}

static inline int store_del(struct store *s, uint32_t ns, const void *key, size_t klen,
			    uint64_t now_ms)
{
	return s->ops->del(s, ns, key, klen, now_ms);
}

static inline int store_set_max_keys(struct store *s, uint64_t max_keys, uint64_t now_ms)
{
	return s->ops->set_max_keys(s, max_keys, now_ms);
}

static inline size_t store_sweep(struct store *s, uint64_t now_ms, size_t budget)
{
	return s->ops->sweep(s, now_ms, budget);
}

static inline void store_stats(const struct store *s, struct store_stats *out)
{
	s->ops->stats(s, out);
}

static inline void store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}

/* SipHash-1-3 of data under a 128-bit key (exposed for tests). */
uint64_t store_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif /* FG_STORE_H */
