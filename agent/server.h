/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * server: the agent's Unix socket, speaking RESP2 (RESP3 after HELLO 3) to
 * any Redis client, on the agent's libuv loop. It owns connections,
 * framing, pipelining, backpressure, client limits and eviction, peer
 * credentials and dispatch. The connection commands (PING, ECHO, HELLO,
 * AUTH, CLIENT, INFO, SELECT, QUIT, COMMAND) live in conncmds.c and info.c,
 * pub/sub (SUBSCRIBE...) in pubsub.c, the socket file in sockfile.c;
 * server_new() registers the connection commands, and other modules
 * register theirs (RL.*, XDP.*, CONFIG) with
 * server_register() and answer through the reply_*() writers.
 *
 * Everything runs on the loop thread; nothing here is thread-safe.
 */
#ifndef FG_SERVER_H
#define FG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "config.h"
#include "resp.h"
#include "sbuf.h"

struct server;
struct client;

/* Tunables (see STYLE: one #ifndef each). The client limits
 * (socket.max_clients, max_clients_per_uid, admin_reserve, idle_timeout,
 * max_buffers, client_output_limit) come from the config. */
#ifndef SERVER_MAX_COMMANDS
#define SERVER_MAX_COMMANDS 128 /* registered names, connection commands included */
#endif
#ifndef SERVER_HALF_REQUEST_TIMEOUT_MS
#define SERVER_HALF_REQUEST_TIMEOUT_MS 60000 /* a begun request must complete within */
#endif
#ifndef SERVER_WRITE_STALL_TIMEOUT_MS
#define SERVER_WRITE_STALL_TIMEOUT_MS 60000 /* pending replies must move within */
#endif
#ifndef SERVER_MAX_DEFERRED
#define SERVER_MAX_DEFERRED 1024 /* deferred replies a client may wait for at once */
#endif
#ifndef SERVER_OUT_SOFT_LIMIT
#define SERVER_OUT_SOFT_LIMIT (4u << 20) /* pending replies: stop reading/executing */
#endif
#ifndef SERVER_TRIM_STEP
#define SERVER_TRIM_STEP (8u << 20) /* buffers freed since the last malloc_trim() */
#endif

/* --- commands ---------------------------------------------------------------- */

/*
 * A command handler. argv[0] is the command name as sent; argv[i].ptr/len
 * are binary safe, not NUL-terminated, and valid only during the call (they
 * point into the read buffer: copy what must outlive it). Arity has been
 * checked. The handler writes exactly one reply (reply_array(n) followed by
 * n values counts as one), unless it calls client_defer().
 */
typedef void (*server_cmd_fn)(struct client *c, int argc, const struct resp_arg *argv, void *ctx);

#define SERVER_CMD_ADMIN   0x1u /* only for admin peers (socket.admin_uids/gids) */
#define SERVER_CMD_NOSTATS 0x2u /* not timed (XDP.WATCH: it lasts as long as it is subscribed) */
#define SERVER_CMD_PUBSUB  0x4u /* allowed on a RESP2 connection in subscribed mode */
#define SERVER_CMD_TXCTL   0x8u /* runs after a refused MULTI (EXEC, DISCARD, QUIT, RESET) */

/*
 * Add a command. name is case-insensitive ("RL.CHECK"), copied. arity is
 * redis-style: N = exactly N arguments including the name, -N = at least N.
 * Returns 0, -EEXIST (name taken, connection commands included), -ENOSPC
 * (SERVER_MAX_COMMANDS) or -EINVAL.
 */
int server_register(struct server *s, const char *name, server_cmd_fn fn, int arity, unsigned flags,
		    void *ctx);

/* --- replies: RESP2, or RESP3 once the client said HELLO 3 ------------------ */
void reply_simple(struct client *c, const char *s); /* +s */
void reply_ok(struct client *c);		    /* +OK */
/* -<message>: it must start with an error code ("ERR ", "NOPERM ", ...);
 * CR/LF in it become spaces. Counted in the server's error stats. */
void reply_error(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct client *c, long long v);
void reply_bulk(struct client *c, const void *p, size_t len);
void reply_cstr(struct client *c, const char *s); /* bulk string of s */
void reply_null(struct client *c);		  /* RESP3 _, RESP2 $-1 */
void reply_array(struct client *c, size_t n);	  /* then n values */
void reply_map(struct client *c, size_t npairs);  /* RESP3 %, RESP2 array of 2n; then 2n values */
void reply_verbatim(struct client *c, const void *p, size_t len); /* RESP3 "=txt:", RESP2 bulk */

/*
 * Length not known yet (e.g. a walk of a map): reply_defer() returns a
 * handle, write the elements, then reply_set_array(c, h, n). Both must
 * happen in the same handler call.
 */
size_t reply_defer(struct client *c);
void reply_set_array(struct client *c, size_t handle, size_t n);

/* --- the client -------------------------------------------------------------- */
bool client_is_admin(const struct client *c);
int client_resp_version(const struct client *c); /* 2 or 3 */
uid_t client_uid(const struct client *c);
gid_t client_gid(const struct client *c);
/* The peer's supplementary groups at connect time; *out valid while c is. */
int client_groups(const struct client *c, const gid_t **out);

/*
 * Deferred replies (e.g. a Redis store answering later). A handler calls
 * client_defer(c), which holds the place of its reply, and returns without
 * replying. The server goes on with c's later requests (up to
 * SERVER_MAX_DEFERRED waiting per client; then it waits for them), and
 * sends every reply in request order: replies of later requests are held
 * until the deferred ones before them are written. When the answer is
 * known, deferred_begin(d) returns the client whose reply_*() calls now
 * write d's reply (NULL when the client has gone: write nothing), and
 * deferred_end(d), called in every case, completes and frees d. A client
 * stays allocated until each of its deferred replies has ended.
 * client_defer() returns NULL when out of memory (the client is then
 * closed: its replies could no longer be kept in order).
 */
struct deferred;
struct deferred *client_defer(struct client *c);
struct client *deferred_begin(struct deferred *d);
void deferred_end(struct deferred *d);
bool client_is_closed(const struct client *c);

/*
 * Per-client data of another module (e.g. a watch subscription): set once,
 * free_fn (may be NULL) runs when the client goes away.
 */
void client_set_data(struct client *c, void *data, void (*free_fn)(void *data));
void *client_get_data(const struct client *c);

/*
 * Pushes (floodctl watch): a client subscribed with client_set_push(c, true)
 * may be sent unsolicited messages outside a command: reply_push(c, n)
 * (RESP3 ">" n, RESP2 an array of n as pub/sub messages are) followed by n
 * values, then client_flush(c). Only the loop thread may call these.
 */
void client_set_push(struct client *c, bool on);
void reply_push(struct client *c, size_t n);
void client_flush(struct client *c);
/* Bytes written for c and not yet taken by the socket: a pusher backs off
 * above its own limit instead of growing them. */
size_t client_out_pending(const struct client *c);

/* --- pub/sub (pubsub.c) ---------------------------------------------------- */
/*
 * SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE and PUNSUBSCRIBE as Redis answers them
 * (RESP2 arrays, RESP3 pushes), registered by server_new(). Other modules
 * publish; nothing a client sends publishes (there is no PUBLISH).
 */
#ifndef SERVER_MAX_CHANNELS
#define SERVER_MAX_CHANNELS 64 /* channels a client may be subscribed to */
#endif
#ifndef SERVER_MAX_PATTERNS
#define SERVER_MAX_PATTERNS 64 /* patterns a client may be subscribed to */
#endif
#ifndef SERVER_MAX_CHANNEL_LEN
#define SERVER_MAX_CHANNEL_LEN 256 /* bytes of a channel name or pattern */
#endif

/*
 * One message for server_publish(): payload goes to every client subscribed
 * to one of channels[] ("message") or to a pattern that matches one
 * ("pmessage", once per matching pattern and channel, as Redis does). A
 * client with more than max_pending bytes unsent misses the message (it is
 * counted, not queued); the next one it gets is missed_fmt(buf, cap, n, arg)
 * instead of payload when missed_fmt is set (n: the messages it missed).
 */
struct server_msg {
	const char *const *channels;
	size_t nchannels;
	const char *payload;
	size_t len;
	size_t max_pending;
	size_t (*missed_fmt)(char *buf, size_t cap, uint64_t missed, void *arg);
	void *arg;
};
struct server_pub_result {
	uint64_t delivered; /* clients the message was written for */
	uint64_t missed;    /* clients that missed it (backed up) */
};
/* Write m for its subscribers (sent by server_pubsub_flush()); r may be NULL. */
void server_publish(struct server *s, const struct server_msg *m, struct server_pub_result *r);
/* Send what server_publish() wrote: once after a batch of messages. */
void server_pubsub_flush(struct server *s);
/* Clients subscribed to at least one channel or pattern now. */
uint64_t server_subscribers(const struct server *s);
/* What "SUBSCRIBE channel" / "UNSUBSCRIBE channel" does and replies, for a
 * command that is an alias of it (XDP.WATCH). */
void client_subscribe(struct client *c, const char *channel);
void client_unsubscribe(struct client *c, const char *channel);

/* --- INFO ------------------------------------------------------------------ */
/*
 * INFO <name> (and INFO, INFO all/everything) includes this section: fn
 * appends "key:value\r\n" lines to out (the "# Name" header is written by the
 * server from name: "xdp" -> "# Xdp"). name is copied; at most 16 sections.
 * Returns 0, -EEXIST, -ENOSPC or -EINVAL. (Implemented in info.c.)
 */
typedef void (*server_info_fn)(struct sbuf *out, void *ctx);
int server_info_add_section(struct server *s, const char *name, server_info_fn fn, void *ctx);

/* --- stats (INFO, Prometheus) ---------------------------------------------- */
enum server_err_kind {
	SERVER_ERR_PROTOCOL = 0, /* malformed RESP */
	SERVER_ERR_TOO_BIG,	 /* request/argument over the limits */
	SERVER_ERR_UNKNOWN,	 /* unknown command */
	SERVER_ERR_ARITY,	 /* wrong number of arguments */
	SERVER_ERR_NOPERM,	 /* admin command from a non-admin peer */
	SERVER_ERR_REPLY,	 /* any other error reply (reply_error) */
	SERVER_ERR_MAXCLIENTS,	 /* connection refused: max clients */
	SERVER_ERR_TIMEOUT,	 /* closed: half request or stalled writes */
	SERVER_ERR__MAX,
};
const char *server_err_kind_name(enum server_err_kind k); /* "protocol", ... */

/* Upper bounds in microseconds of the command duration buckets; the last
 * bucket (index SERVER_LAT_BUCKETS) is +Inf. */
#define SERVER_LAT_BUCKETS 12
extern const uint32_t server_lat_bounds_us[SERVER_LAT_BUCKETS];

/* Why a connection was refused, or a client closed by the server. */
enum server_reject {
	SERVER_REJECT_MAX_CLIENTS = 0, /* socket.max_clients (minus the admin reserve) */
	SERVER_REJECT_PER_UID,	       /* socket.max_clients_per_uid */
	SERVER_REJECT__MAX,
};
enum server_close_reason {
	SERVER_CLOSE_MEMORY = 0,   /* largest buffers while over socket.max_buffers */
	SERVER_CLOSE_OUTPUT_LIMIT, /* pending replies over socket.client_output_limit */
	SERVER_CLOSE_IDLE,	   /* no command for socket.idle_timeout */
	SERVER_CLOSE__MAX,
};
const char *server_reject_name(enum server_reject r);	   /* "max_clients", "per_uid" */
const char *server_close_name(enum server_close_reason r); /* "memory", ... */

struct server_stats {
	uint64_t connected; /* now, refused ones being closed included */
	uint64_t blocked;   /* now: clients waiting for a deferred reply */
	uint64_t connections_total;
	uint64_t rejected_total; /* refused, any reason */
	uint64_t rejected[SERVER_REJECT__MAX];
	uint64_t closed[SERVER_CLOSE__MAX];
	uint64_t buffered; /* now: bytes of input and output buffers held for clients */
	uint64_t commands_total;
	uint64_t bytes_in, bytes_out;
	uint64_t errors[SERVER_ERR__MAX];
	uint64_t start_ms; /* uv_now() when listening began */
};
void server_get_stats(const struct server *s, struct server_stats *out);

/* Per-command counters, i in [0, server_cmd_count()); the last index is
 * "unknown". Returns the name (lower case), or NULL past the end. */
/* One command in SERVER_LAT_SAMPLE is timed: a clock read costs 25-50 ns
 * in these VMs, as much as a PING. Power of two; 1 times every command. */
#ifndef SERVER_LAT_SAMPLE
#define SERVER_LAT_SAMPLE 8
#endif
struct server_cmd_stats {
	uint64_t calls;	   /* every call */
	uint64_t rejected; /* arity/noperm errors before the handler ran */
	uint64_t timed;	   /* calls that were timed (about calls / SERVER_LAT_SAMPLE) */
	uint64_t nsec;	   /* total duration of the timed calls */
	/* timed calls by duration, not cumulative; the last is +Inf */
	uint64_t lat[SERVER_LAT_BUCKETS + 1];
};
size_t server_cmd_count(const struct server *s);
const char *server_cmd_stats(const struct server *s, size_t i, struct server_cmd_stats *out);

/* --- lifetime -------------------------------------------------------------- */
/*
 * Create a server on loop for conf (path, mode, group, admins); path, when
 * not NULL, overrides conf->path. Connection commands are registered; no
 * socket yet. NULL with errno on failure.
 */
struct server *server_new(uv_loop_t *loop, const struct fg_conf_socket *conf, const char *path);

/*
 * Bind and listen: creates the parent directory (0755) if missing, removes
 * a stale socket file only when nothing answers on it, applies mode and
 * group (sockfile.h). Returns 0 or -errno, logged with what to do. The
 * process must ignore SIGPIPE (process_setup()).
 */
int server_listen(struct server *s);

/* Take the admin lists, mode/group and client limits of a reloaded config
 * (a lower limit refuses new clients, it closes none); the path changes only
 * at restart. */
void server_set_conf(struct server *s, const struct fg_conf_socket *conf);

/* Descriptors the process needs for socket.max_clients clients (and some
 * to spare): what main() raises RLIMIT_NOFILE to (process.h). */
uint64_t server_fd_need(const struct server *s);

/* What INFO server reports as config_file (not copied). */
void server_set_config_file(struct server *s, const char *path);
/* What INFO server reports as metrics_listen: the HOST:PORT /metrics is
 * served on ("" when off; copied), so floodctl overview finds it. */
void server_set_metrics_listen(struct server *s, const char *listen);

/*
 * Stop listening, close every client, remove the socket file. Handles are
 * closed on the loop: run it once more, then server_free().
 */
void server_close(struct server *s);
void server_free(struct server *s);

#endif /* FG_SERVER_H */
