/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * server_int: the server's insides, shared by the files that make up the
 * socket server — server.c (the connection core), conncmds.c (PING, HELLO,
 * CLIENT, COMMAND...) and info.c (INFO). No other module includes it: they
 * use server.h. Everything here runs on the loop thread.
 */
#ifndef FG_SERVER_INT_H
#define FG_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <uv.h>

#include "config.h"
#include "log.h"
#include "resp.h"
#include "sbuf.h"
#include "server.h"
#include "sockfile.h"

#define CMD_NAME_MAX	  32
#define CMD_HASH_SIZE	  256 /* power of two, >= 2 * SERVER_MAX_COMMANDS */
#define MAX_INFO_SECTIONS 16
#define CLIENT_NAME_MAX	  128
#define UID_BUCKETS	  256 /* power of two */

struct deferred;
struct uid_count;
struct pubsub_client;
struct pubsub_chans;

struct cmd {
	char name[CMD_NAME_MAX]; /* lower case */
	size_t namelen;
	server_cmd_fn fn;
	int arity;
	unsigned flags;
	void *ctx;
	struct server_cmd_stats st;
};

struct info_section {
	char name[24]; /* lower case */
	server_info_fn fn;
	void *ctx;
};

struct client {
	uv_pipe_t pipe; /* pipe.data = the client */
	struct server *srv;
	struct client *prev, *next; /* all clients */
	struct client *resume_next; /* server's resume queue */
	uint64_t id;
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* the peer's supplementary groups (SO_PEERGROUPS) */
	int ngroups;
	pid_t pid;
	bool admin;
	bool counted; /* in the client limits (not a refused connection) */
	int proto;
	char name[CLIENT_NAME_MAX];
	char lib_name[64], lib_ver[64];

	struct resp_parser parser;
	struct sbuf in;	  /* bytes not executed yet (partial request, or held while paused) */
	struct sbuf out;  /* replies waiting for the write in flight */
	struct sbuf wbuf; /* the write in flight */
	struct sbuf *ob;  /* where replies go now: the server's shared buffer or out */
	uv_write_t wreq;

	bool rd_shared; /* the read in progress landed in the shared buffer */
	bool reading, writing, in_process, queued;
	bool paused; /* too much output pending: not executing */
	bool eof, close_after_write, closing, closed;
	bool push;
	/* Replies in request order behind a deferred one (see client_defer()):
	 * deferred entries and, between them, entries holding later replies. */
	struct deferred *dhead, *dtail;
	int ndeferred;	   /* deferred entries not ended yet */
	size_t held_bytes; /* in the entries */
	int refs;	   /* deferred replies outstanding: the struct outlives the handle */
	bool flush_queued; /* on the server's flush_head list (one ref) */
	struct client *flush_next;
	size_t acct;	   /* its buffers' bytes as counted in the server's st.buffered */
	uint64_t created_ms, last_cmd_ms;
	uint64_t partial_since_ms; /* 0: no request begun */
	uint64_t write_progress_ms;
	void *data;
	void (*data_free)(void *data);
	/* pub/sub (pubsub.c): NULL until the first SUBSCRIBE or PSUBSCRIBE */
	struct pubsub_client *ps;
	struct client *sub_prev, *sub_next; /* the server's subscribers while ps is */
	bool multi_refused; /* MULTI was refused: other commands are refused until EXEC */
};

struct server {
	uv_loop_t *loop;
	struct fg_conf_socket conf;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *config_file;
	char metrics_listen[128]; /* INFO server's metrics_listen, "" when off */
	uv_pipe_t listener;
	uv_timer_t cron;
	uv_idle_t resume_idle;
	uv_check_t flush_check; /* writes the clients of flush_head (flush_soon) */
	uv_idle_t flush_idle;
	struct client *flush_head;
	bool listening, handles_open;
	struct sockfile_id sock_id; /* the socket file bound at listen: a file found at
				     * path later is only touched if it is this one */

	struct cmd cmds[SERVER_MAX_COMMANDS + 1]; /* the last slot: "unknown" */
	size_t ncmds;
	int16_t hash[CMD_HASH_SIZE]; /* index into cmds, -1 empty */
	struct info_section sections[MAX_INFO_SECTIONS];
	size_t nsections;

	struct client *clients;
	struct log_gate reject_log[SERVER_REJECT__MAX]; /* refused connections' lines */
	struct client *resume_head;
	uint64_t next_id;
	char *rbuf; /* shared read buffer */
	bool rbuf_busy;
	struct sbuf obuf;    /* shared reply buffer of the client being processed */
	struct deferred *dfree; /* ended entries kept for reuse (entry_add) */
	unsigned ndfree;
	struct sbuf scratch; /* INFO and CLIENT INFO/LIST text before its reply */

	struct server_stats st;
	uint64_t ops_last_total, ops_per_sec;

	/* The client limits in force (socket.*, defaults filled in). */
	uint32_t max_clients, per_uid, reserve;
	uint64_t idle_ms, max_buffers, out_limit, out_soft;
	uint32_t nclients; /* counted clients (refused ones are not) */
	struct uid_count *uids[UID_BUCKETS];
	uint64_t trim_mark; /* st.buffered high-water since the last malloc_trim() */

	struct client *subs;  /* clients with a ps (pubsub.c) */
	uint64_t nsubscribed; /* of them, with at least one subscription */
	struct pubsub_chans *chans; /* channels published so far (pubsub.c) */
};

/* The registered command named name[0..n) (any case), or NULL. */
struct cmd *server_cmd_lookup(struct server *s, const char *name, size_t n);

/* reply_error() counted under kind instead of SERVER_ERR_REPLY. */
void server_reply_error_kind(struct client *c, enum server_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The server's scratch buffer, emptied: build a reply whose length comes
 * first (INFO, CLIENT LIST) there, then server_reply_scratch(c) sends it as
 * a verbatim string and empties it again. */
struct sbuf *server_scratch_begin(struct server *s);
void server_reply_scratch(struct client *c);

/*
 * The connection commands every Redis client library expects (PING, ECHO,
 * HELLO, AUTH, CLIENT, INFO, SELECT, QUIT, RESET, COMMAND; conncmds.c),
 * registered by server_new() before any module's, so that no module can take
 * their names. Returns 0 or -errno of server_register().
 */
int conncmds_register(struct server *s);

/*
 * A push (pub/sub message) to c outside a command: between
 * client_push_begin() and client_push_end() the reply_*() calls write it
 * behind every reply c is still owed (deferred ones and those held behind
 * them), in order. client_push_begin() returns 0 or -ENOMEM (write nothing).
 */
struct push_ctx {
	struct sbuf *ob;
	struct deferred *h;
	size_t before;
};
int client_push_begin(struct client *c, struct push_ctx *p);
void client_push_end(struct client *c, struct push_ctx *p);
/* Bytes of replies held behind a deferred one. */
size_t client_held_bytes(const struct client *c);

/*
 * Pub/sub (pubsub.c): SUBSCRIBE and friends, registered by server_new()
 * right after the connection commands. Returns 0 or -errno.
 */
int pubsub_register(struct server *s);
/* Whether c is in subscribed mode (a channel or a pattern). */
bool pubsub_subscribed(const struct client *c);
/* Drop every subscription of c without a reply (RESET, client gone). */
void pubsub_client_reset(struct client *c);

#endif /* FG_SERVER_INT_H */
