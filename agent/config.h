/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * config: floodgate's YAML configuration, parsed and validated as a whole.
 * A config is either wholly valid or rejected with one clear message
 * ("file:line: key: problem"); a rejected file never changes a running one.
 */
#ifndef FG_CONFIG_H
#define FG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "cidr.h"

#define FG_CONF_MAX_IFACES 16
#define FG_CONF_MAX_RULES  62 /* FG_MAX_RULES minus the two defaults */
#define FG_CONF_MAX_RANGES 64 /* port ranges per rule */
#define FG_CONF_NAME_MAX   64
#define FG_CONF_ERR_MAX	   512

/* log: defaults, also what events_* take for 0 */
#define FG_CONF_LOG_LINES_PER_SEC 20
#define FG_CONF_LOG_SUMMARY_MS	  10000

enum fg_xdp_mode {
	FG_XDP_AUTO = 0,
	FG_XDP_NATIVE = 1,
	FG_XDP_GENERIC = 2,
};

/* rate new flows per second, burst flows; rate 0 = level not limited. */
struct fg_conf_limit {
	uint32_t rate;
	uint32_t burst;
};

struct fg_conf_ban {
	bool enabled;
	uint32_t after; /* violations */
	uint64_t window_ms;
	uint64_t for_ms;
};

struct fg_conf_range {
	uint16_t lo, hi; /* inclusive, 1..65535 */
};

/* syn_cookies of a TCP rule: auto (0, the default), off, always. */
enum fg_conf_cookies {
	FG_COOKIES_AUTO = 0,
	FG_COOKIES_OFF = 1,
	FG_COOKIES_ALWAYS = 2,
};

/* Limits of a rule or of a protocol's defaults. */
struct fg_conf_limits {
	struct fg_conf_limit per_source;
	struct fg_conf_limit per_prefix;
	struct fg_conf_limit global;
	struct fg_conf_ban ban;
	enum fg_conf_cookies syn_cookies; /* TCP only */
};

/* syn_cookies: (top level) */
#define FG_CONF_COOKIE_MAX_RATE 50000 /* default SYN-ACKs per second */
struct fg_conf_cookies_opts {
	uint32_t max_rate;   /* SYN-ACKs per second, all rules; 0 in a zeroed struct: default */
	bool timestamps_off; /* timestamps: off (no timestamp, SACK, window scale) */
};

struct fg_conf_rule {
	char name[FG_CONF_NAME_MAX];
	int proto; /* FG_PROTO_TCP or FG_PROTO_UDP */
	struct fg_conf_range ranges[FG_CONF_MAX_RANGES];
	int nranges;
	struct fg_conf_limits limits;
	int line; /* where the rule starts in the file, for messages */
};

#define FG_CONF_MAX_ADMIN_IDS 16

/* socket: the agent's Unix socket (RESP). */
struct fg_conf_socket {
	char path[108]; /* sun_path; default FG_DEFAULT_SOCKET */
	uint32_t mode;	/* default 0660 */
	char group[64]; /* "" = the agent's group */
	uint32_t admin_uids[FG_CONF_MAX_ADMIN_IDS]; /* default [0] */
	int nadmin_uids;
	uint32_t admin_gids[FG_CONF_MAX_ADMIN_IDS];
	int nadmin_gids;
	/* Limits of the socket (docs/config.md); 0 in a zeroed struct (not from
	 * config_load) means the default, except idle_timeout_ms: never. */
	uint32_t max_clients;	      /* default FG_CONF_SOCKET_MAX_CLIENTS */
	uint32_t max_clients_per_uid; /* default max_clients / 4 */
	uint32_t admin_reserve;	      /* default 32, kept for admins and root */
	uint64_t idle_timeout_ms;     /* default 5 min; 0 = never */
	uint64_t max_buffers;	      /* bytes buffered for all clients; default 256 MiB */
	uint64_t client_output_limit; /* pending replies of one client; default 32 MiB */
};

#define FG_CONF_SOCKET_MAX_CLIENTS	   10000
#define FG_CONF_SOCKET_ADMIN_RESERVE	   32
#define FG_CONF_SOCKET_IDLE_TIMEOUT_MS	   (5 * 60 * 1000)
#define FG_CONF_SOCKET_MAX_BUFFERS	   (256ull << 20)
#define FG_CONF_SOCKET_CLIENT_OUTPUT_LIMIT (32ull << 20)
/* app_bans: which socket peers may get addresses banned at the NIC through
 * a policy's xdp_ban, and how much of the ban map those bans may take. */
#define FG_CONF_APP_BANS_MAX	  16384 /* default app_bans.max */
#define FG_CONF_APP_BANS_PER_PEER 4096	/* default app_bans.per_peer */
struct fg_conf_app_bans {
	uint32_t peer_uids[FG_CONF_MAX_ADMIN_IDS]; /* besides root and the admins */
	int npeer_uids;
	uint32_t peer_gids[FG_CONF_MAX_ADMIN_IDS];
	int npeer_gids;
	uint32_t max;	   /* app bans at once, all peers; at most FG_MAX_BANS / 2 */
	uint32_t per_peer; /* app bans at once caused by one peer uid */
};

/* vouch: which socket peers may mark addresses verified (XDP.VOUCH, a
 * policy's vouch_on_success), how fast and how many (docs/security.md). */
#define FG_CONF_VOUCH_MAX	 16384 /* default vouch.max */
#define FG_CONF_VOUCH_MAX_MAX	 1000000
#define FG_CONF_VOUCH_PER_PEER	 4096 /* default vouch.per_peer */
#define FG_CONF_VOUCH_RATE	 100  /* default vouch.rate (per peer uid, per second) */
#define FG_CONF_VOUCH_MAX_DUR_MS (3600ULL * 1000) /* default vouch.max_duration */
#define FG_CONF_VOUCH_SHARE_TCP	 100 /* default vouch.share_tcp (TCP proofs shared a second) */
struct fg_conf_vouch {
	uint32_t peer_uids[FG_CONF_MAX_ADMIN_IDS]; /* besides root and the admins */
	int npeer_uids;
	uint32_t peer_gids[FG_CONF_MAX_ADMIN_IDS];
	int npeer_gids;
	uint32_t max;		  /* vouched addresses at once, all peers (0: no vouching) */
	uint32_t per_peer;	  /* vouched addresses at once per peer uid */
	uint32_t rate;		  /* vouches per second per peer uid */
	uint32_t burst;		  /* and at once; default rate */
	uint64_t max_duration_ms; /* the longest vouch; the default is verified_ttl, at most this */
	uint32_t share_tcp;	  /* TCP proofs published to the fleet per second (0: none) */
	uint32_t share_tcp_burst; /* and at once; default (0) share_tcp */
};

struct fg_conf_policy; /* policies:, see policy-t.h */

enum fg_store_type {
	FG_STORE_MEMORY = 0,
	FG_STORE_REDIS = 1,
};

#define FG_CONF_REDIS_TIMEOUT_MS 20
#define FG_CONF_REDIS_PREFIX	 "fg"
#define FG_CONF_REDIS_MAX_SENTINELS 8
#define FG_CONF_SENTINEL_PORT	    26379

/* A host:port of store.redis.sentinels. */
struct fg_conf_redis_addr {
	char host[128];
	uint16_t port;
};

/* store.redis: the shared store of a fleet (docs/config.md). */
struct fg_conf_redis {
	char url[160];	     /* "redis://host:port" or "unix:///path" */
	char host[128];	     /* from url: host name or IP literal; "" for unix */
	uint16_t port;	     /* from url; default 6379 */
	char path[108];	     /* from url: the Unix socket path; "" for TCP */
	char username[64];   /* Redis 6 ACL user; "" = AUTH with the password alone */
	char password[128];  /* "" = no AUTH */
	uint32_t db;	     /* SELECT db; default 0 */
	uint32_t timeout_ms; /* per request; default FG_CONF_REDIS_TIMEOUT_MS */
	char prefix[64];     /* of every key and channel; default FG_CONF_REDIS_PREFIX */
	/* Sentinel mode (instead of url): the master is asked of these. */
	struct fg_conf_redis_addr sentinels[FG_CONF_REDIS_MAX_SENTINELS];
	int nsentinels;
	char master_name[64];	     /* SENTINEL get-master-addr-by-name */
	char sentinel_username[64];  /* AUTH on the sentinels; "" = the password alone */
	char sentinel_password[128]; /* "" = no AUTH on the sentinels */
	/* Cluster mode (instead of url): seeds the slot map is asked of. */
	struct fg_conf_redis_addr cluster[FG_CONF_REDIS_MAX_SENTINELS];
	int ncluster;
};

/* store: where policies keep their per-key state. */
struct fg_conf_store {
	enum fg_store_type type; /* memory (default) or redis */
	uint64_t max_keys;	 /* default FG_CONF_STORE_MAX_KEYS (memory, and redis's fallback) */
	struct fg_conf_redis redis;
};

#define FG_CONF_STORE_MAX_KEYS 1000000

/* per_call_limits: CL.THROTTLE, limits given with each call (redis-cell's
 * command, docs/api.md), with its own keys apart from the policies'. */
struct fg_conf_per_call {
	bool enabled;	    /* default true */
	uint64_t max_keys;  /* its keys in the memory store; default FG_CONF_PER_CALL_MAX_KEYS */
	uint64_t max_burst; /* the largest max_burst a call may give */
	uint64_t max_count; /* the largest count per period */
	uint64_t max_period_ms; /* the longest period (whole seconds in calls) */
};

#define FG_CONF_PER_CALL_MAX_KEYS  100000
#define FG_CONF_PER_CALL_MAX_BURST 1000000
#define FG_CONF_PER_CALL_MAX_COUNT 1000000
/* A GCRA debt up to 104 days is exact in the Redis state's doubles (ns). */
#define FG_CONF_PER_CALL_PERIOD_MS  (86400ULL * 1000)
#define FG_CONF_PER_CALL_PERIOD_MAX (100 * 86400ULL * 1000)

/* The default metrics.listen: loopback and floodgate's port (docs/metrics.md). */
#define FG_CONF_METRICS_LISTEN "127.0.0.1:10150"

#define FG_CONF_METRICS_MAX_CONN     1024
#define FG_CONF_METRICS_MAX_CONN_MAX 65536
#define FG_CONF_METRICS_TIMEOUT_MS   5000

/* metrics: the Prometheus endpoint (GET /metrics, GET /healthz). */
struct fg_conf_metrics {
	bool enabled;		  /* default true */
	char listen[64];	  /* "IPv4:port" or "[IPv6]:port"; "" = no endpoint */
	uint32_t max_connections; /* open HTTP connections; default FG_CONF_METRICS_MAX_CONN */
	uint64_t timeout_ms; /* a request's whole deadline; default FG_CONF_METRICS_TIMEOUT_MS */
};

/* log: stderr's format and level, and the violation lines' budget. */
struct fg_conf_log {
	bool format_set;		  /* log.format given (--log-format wins over it) */
	bool json;			  /* format: json (default logfmt) */
	bool level_set;			  /* log.level given (-v wins over it) */
	int level;			  /* enum fg_log_level; default info */
	uint32_t violation_lines_per_sec; /* default FG_CONF_LOG_LINES_PER_SEC */
	uint64_t summary_interval_ms;	  /* default FG_CONF_LOG_SUMMARY_MS */
};

struct fg_conf {
	char ifaces[FG_CONF_MAX_IFACES][16]; /* IFNAMSIZ */
	int nifaces;
	enum fg_xdp_mode xdp_mode;
	bool dry_run;
	bool persist;
	bool app_only; /* no XDP: the socket and metrics only (floodgated --app-only) */

	/* sources: */
	uint8_t ipv4_prefix;	  /* default 24 */
	uint8_t ipv6_prefix;	  /* default 64 */
	uint32_t max_tracked;	  /* per-address states; default FG_MAX_SOURCES */
	uint32_t max_prefixes;	  /* default FG_MAX_PREFIXES */
	uint32_t max_udp_flows;	  /* default FG_MAX_UDP_FLOWS */
	uint32_t max_verified;	  /* default FG_MAX_VERIFIED */
	uint64_t udp_idle_ms;	  /* sources.udp_idle, default 30 s */
	uint64_t attack_hold_ms;  /* sources.attack_hold, default 2 s */
	uint64_t verified_ttl_ms; /* sources.verified_ttl, default 10 min */

	struct fg_conf_limits defaults[2]; /* [FG_PROTO_TCP], [FG_PROTO_UDP] */
	struct fg_conf_cookies_opts syn_cookies;
	struct fg_conf_rule rules[FG_CONF_MAX_RULES];
	int nrules;

	struct fg_cidr *allow; /* malloc'd arrays, owned by the conf */
	int nallow;
	struct fg_cidr *deny;
	int ndeny;

	struct fg_conf_socket socket;
	struct fg_conf_app_bans app_bans;
	struct fg_conf_vouch vouch;
	struct fg_conf_store store;
	struct fg_conf_per_call per_call;
	struct fg_conf_metrics metrics;
	struct fg_conf_log log;
	struct fg_conf_policy *policies; /* malloc'd array, owned by the conf */
	int npolicies;
};

/*
 * Parse and validate the YAML file at path into *out (zeroed first).
 * Returns 0, or -EINVAL with a "file:line: key: problem" message in err
 * (-errno with "file: strerror" when the file cannot be read). On error
 * *out holds nothing that needs freeing.
 */
int config_load(const char *path, struct fg_conf *out, char *err, size_t errlen);

/* Same as config_load() for YAML text in memory; name is used in messages. */
int config_parse(const char *name, const char *text, size_t len, struct fg_conf *out, char *err,
		 size_t errlen);

/* Release what config_load() allocated; *c may be reused afterwards. */
void config_free(struct fg_conf *c);

/*
 * Parse a listen address: "127.0.0.1:10150", "0.0.0.0:PORT", "[::1]:PORT",
 * "[::]:PORT" (IP literals only, port 1-65535) into *ss and *len. Returns 0,
 * or -EINVAL with *why saying what is wrong (static text).
 */
int config_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			const char **why);

/* Fill *c with the built-in defaults (what an empty file means). */
void config_defaults(struct fg_conf *c);

/* The defaults of a policy's optional keys (warn_at, progressive's delays,
 * budget's period), set before the file's values. */
void config_policy_defaults(struct fg_conf_policy *pc);

#endif /* FG_CONFIG_H */
