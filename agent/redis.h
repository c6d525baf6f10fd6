/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * redis: the agent's connection to the shared Redis (store.redis), on the
 * agent's libuv loop through hiredis's async API. It owns what every user
 * of Redis needs and none should redo:
 *
 * - connecting (TCP or Unix socket), AUTH and SELECT on every (re)connect,
 *   and loading the registered Lua scripts with SCRIPT LOAD;
 * - a deadline per request (store.redis.timeout_ms): the callback runs
 *   exactly once, with the reply or with NULL when Redis failed, is down, or
 *   did not answer in time; a late reply is dropped;
 * - a circuit breaker: a lost connection, a failed handshake, or callers'
 *   requests failing REDIS_TRIP_FAILURES times in a row for at least
 *   REDIS_TRIP_TIMEOUTS x timeout_ms (REDIS_TRIP_MIN_MS at least) close the
 *   connection; requests then fail at once (no waiting) and a new connection
 *   is tried every REDIS_RETRY_MS until the handshake succeeds again. An
 *   error reply about one key (WRONGTYPE, a script error) is that request's
 *   error only, and background requests (the outage replay) never count.
 *   A connection given up on for missing answers is kept, read only, for
 *   REDIS_DRAIN_MS: its late replies still reach redis_want_late(), and
 *   being up again is announced only after them;
 * - EVALSHA of a registered script, re-sent as EVAL (which caches it again)
 *   when Redis answers NOSCRIPT (a restart, SCRIPT FLUSH);
 * - counters for INFO and metrics.
 *
 * Requests share one connection: hiredis pipelines them (they are written
 * together and answered in order), so concurrent decisions share round trips.
 * Everything runs on the loop thread.
 */
#ifndef FG_REDIS_H
#define FG_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "config.h"

#ifndef REDIS_TRIP_FAILURES
#define REDIS_TRIP_FAILURES 3 /* failures in a row that open the breaker */
#endif
#ifndef REDIS_TRIP_TIMEOUTS
#define REDIS_TRIP_TIMEOUTS 3 /* ... for at least this many timeout_ms */
#endif
#ifndef REDIS_TRIP_MIN_MS
#define REDIS_TRIP_MIN_MS 100 /* ... and at least this long */
#endif
#ifndef REDIS_DRAIN_MS
#define REDIS_DRAIN_MS 60000 /* how long a tripped connection is read for late replies */
#endif
#ifndef REDIS_RETRY_MS
#define REDIS_RETRY_MS 1000 /* between connection attempts while the breaker is open */
#endif
#ifndef REDIS_MAX_SCRIPTS
#define REDIS_MAX_SCRIPTS 16
#endif
#ifndef REDIS_CLOCK_MS
#define REDIS_CLOCK_MS 60000 /* between TIME requests that keep redis_now_ms() right */
#endif
#ifndef REDIS_MAX_NODES
#define REDIS_MAX_NODES 64 /* masters of a cluster */
#endif
#ifndef REDIS_MAX_REDIRECTS
#define REDIS_MAX_REDIRECTS 3 /* MOVED/ASK followed per request */
#endif
#ifndef REDIS_CLUSTER_REFRESH_MS
#define REDIS_CLUSTER_REFRESH_MS 5000 /* between CLUSTER SLOTS without a MOVED */
#endif
#ifndef REDIS_SENTINEL_PROBE_MS
#define REDIS_SENTINEL_PROBE_MS 5000 /* between probes of every sentinel (floodctl status) */
#endif
#define REDIS_SLOTS 16384
#ifndef REDIS_MAX_PENDING
#define REDIS_MAX_PENDING 100000 /* requests in flight; more fail at once */
#endif

struct redis;

/*
 * A reply: reply is hiredis's (valid during the call only; an error reply
 * arrives as REDIS_REPLY_ERROR) or NULL with why saying what went wrong
 * ("timeout", "disconnected", "unavailable", ...).
 */
typedef void (*redis_reply_fn)(redisReply *reply, const char *why, void *arg);

/* Told when the connection becomes usable (up) or stops being so. */
typedef void (*redis_state_fn)(bool up, void *arg);

/* A client for conf on loop; it starts connecting at once. NULL with errno. */
struct redis *redis_new(uv_loop_t *loop, const struct fg_conf_redis *conf);

/* Close the connection (pending callbacks run with NULL first) and free. */
void redis_free(struct redis *r);

/* Set the state callback (one; NULL removes it). */
void redis_on_state(struct redis *r, redis_state_fn fn, void *arg);

/* Register a Lua script (src must stay valid); the same src pointer gives
 * the same id. Loaded on every connect. Returns the id or -errno. */
int redis_script(struct redis *r, const char *src);

/* True when connected, authenticated, scripts loaded and the breaker closed. */
bool redis_up(const struct redis *r);

/* True while callers' requests have failed since the last one answered (one
 * Redis or Sentinel's; false on a cluster, whose nodes count their own). */
bool redis_failing(const struct redis *r);

/*
 * Now in ms on Redis's clock: this host's wall clock corrected by the offset
 * of Redis's TIME, taken at every connect and each REDIS_CLOCK_MS. What hosts
 * write into Redis for each other (ban ends) uses it, so hosts whose clocks
 * disagree still agree on when a ban ends. Without a connection yet: the
 * host's own clock.
 */
uint64_t redis_now_ms(const struct redis *r);

/* The configured key prefix ("fg"). */
const char *redis_prefix(const struct redis *r);

/*
 * EVALSHA script with one key and nargs arguments (binary safe; copied).
 * cb runs exactly once, later, never from inside this call. Returns 0, or
 * -EAGAIN when Redis is not up (cb is not called: decide now instead).
 */
int redis_eval(struct redis *r, int script, const void *key, size_t klen, int nargs,
	       const char *const *args, const size_t *lens, redis_reply_fn cb, void *arg);

/*
 * redis_eval for work no caller waits on (the outage replay): no deadline
 * (it ends with its reply or with the connection) and its failures never
 * open the breaker. The caller bounds how many it keeps in flight.
 */
int redis_eval_background(struct redis *r, int script, const void *key, size_t klen, int nargs,
			  const char *const *args, const size_t *lens, redis_reply_fn cb,
			  void *arg);

/*
 * redis_eval with nkeys keys (one script over several keys, atomic in
 * Redis): 3 + nkeys + nargs <= REDIS_EVALM_ARGS, or -EINVAL. On a cluster
 * the keys must share a slot (-EXDEV, nothing sent) and the script goes to
 * that slot's master as the map knows it (-EAGAIN when none); a MOVED or ASK
 * comes back as the reply (no redirection is followed for it).
 */
#define REDIS_EVALM_ARGS 160
int redis_evalm(struct redis *r, int script, int nkeys, const void *const *keys,
		const size_t *klens, int nargs, const char *const *args, const size_t *lens,
		redis_reply_fn cb, void *arg);

/*
 * Only from inside a reply callback called with why "timeout": the request
 * may still run in Redis. late then runs once, later, with its reply when
 * it arrives, or with NULL when the connection closes first (it may or may
 * not have run). 0, or -EINVAL outside such a callback.
 */
int redis_want_late(struct redis *r, redis_reply_fn late, void *arg);

/* An error reply about the request's key or data (WRONGTYPE, a script
 * error), not about the server (LOADING, BUSY, OOM, READONLY, NOAUTH...). */
bool redis_key_error(const redisReply *rp);

/* Any command (argv[0] is its name), with the same deadline and contract. */
int redis_command(struct redis *r, int argc, const char *const *argv, const size_t *lens,
		  redis_reply_fn cb, void *arg);

/*
 * A second connection to the same server for SUBSCRIBE (a subscribed
 * connection can send nothing else): AUTH and SELECT are queued on it.
 * NULL when it cannot be created. The caller frees it with redisAsyncFree.
 */
struct redisAsyncContext *redis_connect_extra(struct redis *r);

/* Upper bounds (µs) of the round-trip histogram; the last bucket is +Inf. */
#define REDIS_LAT_BUCKETS 10
extern const uint32_t redis_lat_bounds_us[REDIS_LAT_BUCKETS];

struct redis_stats {
	bool up;
	uint64_t requests;	/* sent */
	uint64_t errors;	/* timeouts, error replies, lost connections, refused while down */
	uint64_t timeouts;	/* of errors: no answer within timeout_ms */
	uint64_t trips;		/* times the breaker opened */
	uint64_t switches;	/* changes between Redis and the fallback, both ways */
	uint64_t key_errors;	/* of errors: error replies about one key (WRONGTYPE...) */
	uint64_t reconnects;	/* handshakes that succeeded */
	uint64_t down_since_ms; /* Unix ms the current outage began; 0 when up */
	uint64_t master_switches; /* +switch-master events of our master (sentinel mode) */
	uint64_t redirects;	  /* MOVED and ASK followed (cluster mode; a node's: it sent) */
	uint64_t map_refreshes;	  /* CLUSTER SLOTS answers (cluster mode) */
	char last_error[160];	  /* why the last outage began */
	/* Round trips of the requests Redis answered (not timeouts, not failures). */
	uint64_t lat[REDIS_LAT_BUCKETS + 1];
	uint64_t lat_sum_us;
	uint64_t rtt_us; /* recent round trip: moving average of the last few answers */
};
void redis_stats(const struct redis *r, struct redis_stats *out);

/* Cluster: the slot (0..REDIS_SLOTS-1) of a key, by its {hash tag}. */
uint16_t redis_key_slot(const void *key, size_t len);

/* Nodes behind r: a cluster's masters (as known now), else 1. */
int redis_nodes(const struct redis *r);

/* Node i's stats and address ("redis://host:port"; valid until r changes).
 * 0, or -ENOENT past the last node. */
int redis_node_stats(const struct redis *r, int i, struct redis_stats *out, const char **addr);

/* --- topology (floodctl status, the status page) --- */

enum redis_mode { REDIS_MODE_SINGLE, REDIS_MODE_SENTINEL, REDIS_MODE_CLUSTER };
enum redis_mode redis_mode(const struct redis *r);
const char *redis_mode_name(enum redis_mode m); /* "single", "sentinel", "cluster" */

/* Sentinel mode: the master the sentinels named last ("host:port"), "" before. */
const char *redis_master_addr(const struct redis *r, char *buf, size_t len);

struct redis_sentinel {
	char addr[144];	     /* "host:port" as configured */
	bool reachable;	     /* answered the last probe */
	bool subscribed;     /* +switch-master is followed on this one */
	uint64_t last_ok_ms; /* Unix ms of its last answer; 0 never */
	char master[144];    /* the master it named */
	char error[120];     /* why the last probe failed */
};
/* Sentinel i of the config (probed every REDIS_SENTINEL_PROBE_MS): 0, or
 * -ENOENT past the last (or when r is not in sentinel mode). */
int redis_sentinel(const struct redis *r, int i, struct redis_sentinel *out);

/* Cluster: node i's slots as ranges ("0-5460,10923"; cut with "..." when
 * buf is short; "" for none); returns how many slots it serves. */
unsigned redis_node_slots(const struct redis *r, int i, char *buf, size_t len);

#endif /* FG_REDIS_H */
