/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * store: the memory store, where policies keep per-key state on this host:
 * bounded, with expiry, one per agent (carried across reloads). The shared
 * Redis store is not behind this interface: it runs each decision as a Lua
 * script (policy_redis.c) and mirrors the resulting state into this store,
 * which is also what decides while Redis is down (docs/redis.md).
 *
 * State lives in namespaces (one per policy of a config, so a reload can keep
 * or drop a policy's state as a whole). A namespace has a state size, which
 * each key has, or at most when the namespace says what a state uses
 * (store_ns_set_used: a sliding log); a key is 0..STORE_KEY_MAX binary-safe
 * bytes. Every call that can touch state
 * takes now_ms (injected time) and reclaims a few expired entries as it goes:
 * no timers per key and no full scans on the request path.
 *
 * Decisions run through store_run(): the store finds (or makes) the state of
 * a key and hands it to a callback that reads and writes it in place and
 * returns when that state expires. The store runs the callback on its own
 * entry, so one decision is atomic by construction.
 */
#ifndef FG_STORE_H
#define FG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_MAX 512
/* Bytes of state per key, at most (a namespace's own size: a GCRA window
 * policy's 24 to 72 bytes; a sliding log's 16 + 16 per entry up to 1000
 * entries, of which a key holds what it uses: store_ns_set_used). */
#define STORE_STATE_MAX 16384
#define STORE_NS_MAX	1024 /* namespaces alive (or holding keys) at once */

/*
 * Decision callback. state holds the key's state (all zeroes when the key
 * had none or it expired: fresh is then true). The callback changes state in
 * place and returns the time (Unix ms) at which the new state is worth no
 * more than an all-zero one; a time <= now_ms deletes the key (or stores
 * nothing when it had none).
 */
typedef uint64_t (*store_fn)(void *state, bool fresh, void *arg);

/* Bytes of a state in use (a multiple of 8, <= the namespace's state
 * size): of a namespace whose keys grow and shrink (store_ns_set_used). */
typedef uint32_t (*store_used_fn)(const void *state);

struct store_stats {
	const char *type; /* "memory" */
	uint64_t keys;
	uint64_t max_keys;
	uint64_t evictions; /* live keys dropped to stay within max_keys */
	uint64_t expired;   /* expired (or dropped-namespace) keys reclaimed */
	uint64_t bytes;	    /* approximate memory held */
};

/* The memory store: a hash table + one LRU list per namespace. */
struct store;

/* A bounded in-memory store. seed keys SipHash so a client cannot pick
 * colliding keys. NULL with errno on failure. */
struct store *store_memory_new(uint64_t max_keys, uint64_t seed);

/* Free the store and every key. NULL is fine. */
void store_free(struct store *s);

/* A new namespace whose keys hold state_size bytes (<= STORE_STATE_MAX).
 * -ENOSPC when STORE_NS_MAX namespaces are alive. */
int store_ns_new(struct store *s, uint32_t state_size, uint32_t *ns);

/*
 * Keys of ns (new, still empty) hold only the bytes used() says their state
 * uses (in 128-byte steps), not state_size each: a sliding log that grows
 * with its requests. Its callbacks then see, past those bytes, unspecified
 * ones (not zeroes), and a fresh state is zeroed over used(zeroes) bytes.
 * -EINVAL for a namespace with keys.
 */
int store_ns_set_used(struct store *s, uint32_t ns, store_used_fn used);

/* Drop a namespace: its keys become garbage, reclaimed incrementally. */
void store_ns_drop(struct store *s, uint32_t ns);

/*
 * A reload's rewrite of every key of namespace from into namespace to
 * (from == to: in place). fn gets the new state (to's size, zeroed) and the
 * old one, fills the new one and returns its expiry (Unix ms); 0 drops the
 * key, as does a key that had expired by the latest now_ms the store saw.
 * Keys keep their LRU order; a key that cannot be allocated is dropped.
 * Nothing is evicted or reclaimed meanwhile: the caller applies to's bound
 * after. Returns the keys kept.
 */
typedef uint64_t (*store_move_fn)(void *dst, const void *src, void *arg);
uint64_t store_ns_move(struct store *s, uint32_t from, uint32_t to, store_move_fn fn, void *arg);

/* Keys of ns now. */
uint64_t store_ns_keys(const struct store *s, uint32_t ns);

/* A namespace's own bound (0 = only the store's): a new key of a full
 * namespace evicts that namespace's least recently used key, never
 * another namespace's. Evicts down to it at once. */
int store_ns_set_max_keys(struct store *s, uint32_t ns, uint64_t max_keys, uint64_t now_ms);

/* Live keys of ns dropped to stay within a bound. */
uint64_t store_ns_evictions(const struct store *s, uint32_t ns);

/* Run fn on the state of (ns, key); create = keep a fresh key fn left
 * unexpired. Without create a missing key stays missing (fn still runs on
 * zeroes, its changes are discarded). -E2BIG for a key over STORE_KEY_MAX. */
int store_run(struct store *s, uint32_t ns, const void *key, size_t klen, bool create,
	      uint64_t now_ms, store_fn fn, void *arg);

/* Delete (ns, key); 0 whether or not it existed. */
int store_del(struct store *s, uint32_t ns, const void *key, size_t klen, uint64_t now_ms);

/* Change the store's bound; evicts down to it at once (dropped namespaces'
 * keys first, then the largest namespaces' LRU keys). */
int store_set_max_keys(struct store *s, uint64_t max_keys, uint64_t now_ms);

/* Reclaim up to budget expired keys (for an idle-time timer). Returns how many. */
size_t store_sweep(struct store *s, uint64_t now_ms, size_t budget);

void store_stats(const struct store *s, struct store_stats *out);

/* SipHash-1-3 of data under a 128-bit key (exposed for tests). */
uint64_t store_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif /* FG_STORE_H */
