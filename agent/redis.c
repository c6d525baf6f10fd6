// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>

#include "clock.h"
#include "log.h"
#include "redis.h"
#include "redis_loop.h"
#include "sbuf.h"

const uint32_t redis_lat_bounds_us[REDIS_LAT_BUCKETS] = { 100,	250,   500,   1000,  2500,
							  5000, 10000, 25000, 50000, 100000 };

#define SLOT_NONE 0xff /* a slot no known node serves */

/* A handshake that takes longer than this (or 5 timeouts) counts as failed. */
#define HANDSHAKE_MIN_MS 1000

enum redis_state {
	RS_DOWN = 0,	   /* no connection; the retry timer will make one */
	RS_CONNECTING = 1, /* connection and handshake under way */
	RS_UP = 2,
};

struct req {
	struct req *prev, *next; /* pending list, oldest first */
	struct redis *r;
	redis_reply_fn cb;
	void *arg;
	uint64_t deadline; /* uv_now() ms */
	uint64_t sent_ns;  /* uv_hrtime(), for the round-trip histogram */
	bool answered;	   /* cb has run (timeout, failure): drop the late reply */
	bool listed;
	bool retried;	     /* NOSCRIPT: re-sent once as EVAL */
	bool background;     /* no deadline, never counted by the breaker (outage replay) */
	redis_reply_fn late; /* after a timeout: told what became of the request */
	void *late_arg;
	int script; /* -1 for plain commands */
	/* The command as RESP, in the same allocation (a NOSCRIPT retry
	 * re-sends it as EVAL: argc, and where its third argument starts). */
	int argc;
	size_t cmdlen, tail;
	char cmd[];
};

struct redis {
	uv_loop_t *loop;
	struct fg_conf_redis conf;
	redisAsyncContext *ctx;
	enum redis_state st;
	int hs_left; /* handshake replies still to come */
	const char *scripts[REDIS_MAX_SCRIPTS];
	char sha[REDIS_MAX_SCRIPTS][41];
	int nscripts;
	struct req *head, *tail;
	uint64_t npending;
	uv_timer_t deadline;	/* the oldest pending request's deadline */
	uv_timer_t retry;	/* reconnect (down) or handshake deadline (connecting) */
	int failures;		/* callers' failures in a row */
	uint64_t first_failure; /* uv_now() of the first of them */
	struct req *answering;	/* the request whose timeout is being answered */
	unsigned ctx_inflight;	/* requests on ctx whose reply (callback) is due */
	/* A connection the breaker gave up on, kept to read the late replies. */
	redisAsyncContext *draining;
	unsigned drain_left; /* its replies still due */
	uv_timer_t drain_timer;
	redis_state_fn state_fn;
	void *state_arg;
	struct redis_stats stats;
	char logged_error[160];	 /* the last outage reason logged: do not repeat it every retry */
	int64_t clock_offset_ms; /* Redis's TIME minus this host's wall clock */
	uv_timer_t clock;	 /* asks Redis its TIME again now and then */
	uint64_t time_sent_ms;	 /* wall clock when that TIME was sent */
	/*
	 * Sentinel mode (conf.nsentinels): conf.host and conf.port are the
	 * master the sentinels named last; every connect asks them again.
	 */
	redisAsyncContext *sq; /* asking sentinel sq_idx for the master */
	int sq_idx;
	redisAsyncContext *ssub;   /* subscribed to +switch-master on one sentinel */
	int ssub_next;		   /* the sentinel to subscribe on next */
	uv_timer_t sentinel_timer; /* keeps ssub connected */
	char where[256];	   /* the url, or "sentinel master NAME at host:port" */
	/* Cluster mode (conf.ncluster): a router over one struct redis per master. */
	struct redis *nodes[REDIS_MAX_NODES];
	int nnodes;
	uint8_t *slots; /* REDIS_SLOTS node indexes, SLOT_NONE when unknown */
	bool map_known;
	struct redis *answering_node; /* redis_want_late() goes there */
	struct redis *parent;	      /* a cluster's node: its router */
	bool map_inflight;	      /* CLUSTER SLOTS asked of a node */
	bool closing;		      /* redis_free() under way: start nothing */
	uint64_t wanted_ms; /* a node: uv_now() when a redirection last named it */
	bool map_missed;    /* the router: the last map named masters it had no room for */
	uv_timer_t prune;   /* the router: forgets the masters a new map no longer names */
	/* Sentinel mode: each sentinel asked for the master every REDIS_SENTINEL_PROBE_MS. */
	struct sprobe {
		struct redis *r;
		redisAsyncContext *ac; /* kept open between probes */
		int idx;
		bool asked;	     /* a probe is waiting for its answer */
		bool reachable;	     /* the last probe was answered */
		uint64_t last_ok_ms; /* Unix ms of that answer */
		char master[144];    /* "host:port" it named */
		char error[120];     /* why the last probe failed */
	} probes[FG_CONF_REDIS_MAX_SENTINELS];
	unsigned sentinel_ticks;
	int ssub_idx; /* the sentinel ssub is on */
};

static bool cluster_mode(const struct redis *r)
{
	return r->conf.ncluster > 0;
}

static void cluster_retry(struct redis *r);
static void on_prune(uv_timer_t *t);
static void cluster_refresh_soon(struct redis *r);
static struct redis *any_up_node(const struct redis *r);
static struct redis *node_of(const struct redis *r, const void *key, size_t klen);
static int cl_eval(struct redis *r, int script, bool background, const void *key, size_t klen,
		   int nargs, const char *const *args, const size_t *lens, redis_reply_fn cb,
		   void *arg);
static int cl_command(struct redis *r, int argc, const char *const *argv, const size_t *lens,
		      redis_reply_fn cb, void *arg);
static void cl_stats(const struct redis *r, struct redis_stats *out);

static const char *where(const struct redis *r)
{
	return r->where;
}

static bool sentinel_mode(const struct redis *r)
{
	return r->conf.nsentinels > 0;
}

/* --- pending requests ------------------------------------------------------ */

static void list_del(struct redis *r, struct req *q)
{
	if (!q->listed)
		return;
	if (q->prev)
		q->prev->next = q->next;
	else
		r->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		r->tail = q->prev;
	q->prev = q->next = NULL;
	q->listed = false;
	r->npending--;
}

static void on_deadline(uv_timer_t *t);

static void rearm(struct redis *r)
{
	uint64_t now = uv_now(r->loop);

	if (!r->head) {
		uv_timer_stop(&r->deadline);
		return;
	}
	uv_timer_start(&r->deadline, on_deadline,
		       r->head->deadline > now ? r->head->deadline - now : 0, 0);
}

static void list_add(struct redis *r, struct req *q, bool at_head)
{
	bool was_empty = !r->head;

	if (at_head) {
		q->next = r->head;
		q->prev = NULL;
		if (r->head)
			r->head->prev = q;
		else
			r->tail = q;
		r->head = q;
	} else {
		q->prev = r->tail;
		q->next = NULL;
		if (r->tail)
			r->tail->next = q;
		else
			r->head = q;
		r->tail = q;
	}
	q->listed = true;
	r->npending++;
	if (was_empty || at_head)
		rearm(r);
}

static void answer(struct req *q, redisReply *reply, const char *why)
{
	q->answered = true;
	q->cb(reply, why, q->arg);
}

/* --- state ------------------------------------------------------------------- */

static void set_error(struct redis *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct redis *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->stats.last_error, sizeof(r->stats.last_error), fmt, ap);
	va_end(ap);
}

static void on_retry(uv_timer_t *t);

static void schedule_retry(struct redis *r, uint64_t ms)
{
	uv_timer_start(&r->retry, on_retry, ms, 0);
}

/*
 * The connection is unusable: drop it (pending requests get NULL at once),
 * say so once, and try again in REDIS_RETRY_MS (the retry timer, restarted).
 */
static void go_down(struct redis *r)
{
	redisAsyncContext *ac = r->ctx;
	bool was_up = r->st == RS_UP;

	r->ctx = NULL;
	r->st = RS_DOWN;
	r->failures = 0;
	if (was_up) {
		r->stats.trips++;
		r->stats.switches++;
		r->stats.down_since_ms = clock_realtime_ms();
	}
	if (was_up || strcmp(r->logged_error, r->stats.last_error)) {
		log_warn("redis store unavailable, fallback active", LOG_STR("url", where(r)),
			 LOG_STR("error", r->stats.last_error),
			 LOG_INT("retry_ms", REDIS_RETRY_MS));
		strcpy(r->logged_error, r->stats.last_error);
	}
	schedule_retry(r, REDIS_RETRY_MS);
	if (ac)
		redisAsyncFree(ac); /* inside a hiredis callback, hiredis defers it */
	if (was_up && r->state_fn)
		r->state_fn(false, r->state_arg);
}

static void fail(struct redis *r)
{
	r->stats.errors++;
	go_down(r);
}

/* How long callers must have failed in a row before the breaker opens. */
static uint64_t trip_ms(const struct redis *r)
{
	uint64_t ms = (uint64_t)r->conf.timeout_ms * REDIS_TRIP_TIMEOUTS;

	return ms > REDIS_TRIP_MIN_MS ? ms : REDIS_TRIP_MIN_MS;
}

static void caller_failed(struct redis *r)
{
	if (!r->failures++)
		r->first_failure = uv_now(r->loop);
}

/*
 * Open the breaker only when callers have failed REDIS_TRIP_FAILURES times
 * in a row AND for trip_ms(): a burst of timeouts behind one slow script
 * (each caller already answered at its deadline) is not an outage.
 */
static bool breaker_trips(const struct redis *r)
{
	return r->st == RS_UP && r->failures >= REDIS_TRIP_FAILURES &&
	       uv_now(r->loop) - r->first_failure >= trip_ms(r);
}

/*
 * The old connection's last reply came (or it closed, or REDIS_DRAIN_MS
 * passed): what was still due is unknown from here on. Being back up is
 * announced only now, so the outage replay starts after the late replies
 * have taken what they prove out of the journal.
 */
static void drain_end(struct redis *r, bool free_ctx)
{
	redisAsyncContext *ac = r->draining;

	if (!ac)
		return;
	r->draining = NULL;
	uv_timer_stop(&r->drain_timer);
	if (free_ctx)
		redisAsyncFree(ac); /* its callbacks run with NULL (deferred inside one) */
	if (r->st == RS_UP && r->state_fn)
		r->state_fn(true, r->state_arg);
}

static void on_drain_timeout(uv_timer_t *t)
{
	drain_end(t->data, true);
}

/*
 * The breaker opens on a Redis that stopped answering in time. The callers
 * still waiting are answered now, and the connection is kept, read only,
 * for up to REDIS_DRAIN_MS: a Redis that was only stopped or slow runs what
 * it had received when it resumes, and each late reply tells whether the
 * request ran (redis_want_late), instead of leaving it unknown.
 */
static void trip(struct redis *r)
{
	redisAsyncContext *ac = r->ctx;

	if (ac && !r->draining && r->ctx_inflight) {
		r->draining = ac;
		r->drain_left = r->ctx_inflight;
		r->ctx_inflight = 0;
		r->ctx = NULL;
		while (r->head) {
			struct req *q = r->head;

			list_del(r, q);
			r->stats.errors++;
			r->answering = q;
			answer(q, NULL, "timeout");
			r->answering = NULL;
		}
		uv_timer_start(&r->drain_timer, on_drain_timeout, REDIS_DRAIN_MS, 0);
	}
	go_down(r);
}

static void on_deadline(uv_timer_t *t)
{
	struct redis *r = t->data;
	uint64_t now = uv_now(r->loop);
	struct pollfd pfd;

	/* libuv runs timers before it reads sockets: replies that arrived while
	 * this process was not scheduled are read first, not taken for timeouts. */
	if (r->ctx && r->st == RS_UP) {
		pfd = (struct pollfd){ .fd = r->ctx->c.fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
			redis_loop_read(r->ctx);
	}

	while (r->head && r->head->deadline <= now) {
		struct req *q = r->head;

		list_del(r, q);
		r->stats.errors++;
		r->stats.timeouts++;
		caller_failed(r);
		r->answering = q;	    /* redis_want_late() */
		answer(q, NULL, "timeout"); /* freed when hiredis hands back its reply */
		r->answering = NULL;
	}
	if (breaker_trips(r)) {
		set_error(r, "%d requests in a row without an answer within %u ms, for %llu ms",
			  r->failures, r->conf.timeout_ms,
			  (unsigned long long)(uv_now(r->loop) - r->first_failure));
		trip(r);
	}
	rearm(r);
}

static void up(struct redis *r)
{
	uint64_t since = r->stats.down_since_ms;

	r->st = RS_UP;
	r->failures = 0;
	r->stats.reconnects++;
	r->stats.switches++;
	r->stats.down_since_ms = 0;
	r->logged_error[0] = '\0';
	uv_timer_stop(&r->retry);
	r->ctx_inflight = 0;
	if (r->stats.reconnects == 1 && !r->stats.trips && !r->stats.errors)
		log_info("redis store connected", LOG_STR("url", where(r)),
			 LOG_UINT("db", r->conf.db), LOG_UINT("timeout_ms", r->conf.timeout_ms));
	else
		log_warn("redis store back, fallback over", LOG_STR("url", where(r)),
			 LOG_UINT("outage_ms", since ? clock_realtime_ms() - since : 0));
	if (r->state_fn && !r->draining)
		r->state_fn(true, r->state_arg);
}

/* --- connection -------------------------------------------------------------- */

/* Redis's TIME (seconds, microseconds): the offset of the fleet's clock from
 * ours, taken at the middle of the round trip. */
static void learn_time(struct redis *r, const redisReply *rp)
{
	uint64_t now = clock_realtime_ms(), mid, redis_ms;

	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 ||
	    rp->element[0]->type != REDIS_REPLY_STRING ||
	    rp->element[1]->type != REDIS_REPLY_STRING)
		return;
	redis_ms = strtoull(rp->element[0]->str, NULL, 10) * 1000 +
		   strtoull(rp->element[1]->str, NULL, 10) / 1000;
	mid = r->time_sent_ms + (now > r->time_sent_ms ? (now - r->time_sent_ms) / 2 : 0);
	r->clock_offset_ms = (int64_t)(redis_ms - mid);
}

static void on_time(redisReply *rp, const char *why, void *arg)
{
	(void)why;
	if (rp)
		learn_time(arg, rp);
}

static void on_clock(uv_timer_t *t)
{
	struct redis *r = t->data;
	const char *argv[] = { "TIME" };

	r->time_sent_ms = clock_realtime_ms();
	redis_command(r, 1, argv, NULL, on_time, r);
}

uint64_t redis_now_ms(const struct redis *r)
{
	if (cluster_mode(r)) {
		const struct redis *n = any_up_node(r);

		return n ? redis_now_ms(n) : clock_realtime_ms();
	}
	return (uint64_t)((int64_t)clock_realtime_ms() + r->clock_offset_ms);
}

/* A ROLE reply that keeps this server from being used: with sentinels
 * anything but "master"; without, only a role that is not it (a proxy that
 * answers something else is not checked). */
static bool role_refused(const struct redis *r, const redisReply *rp)
{
	bool named = rp->type == REDIS_REPLY_ARRAY && rp->elements &&
		     rp->element[0]->type == REDIS_REPLY_STRING;

	if (named)
		return strcmp(rp->element[0]->str, "master") != 0;
	return sentinel_mode(r);
}

static void on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis *r = ac->data;
	const char *step = privdata;
	redisReply *rp = reply;

	if (!r || ac != r->ctx || !rp)
		return; /* a connection we already dropped */
	/* Without sentinels ROLE only guards against a url that names a
	 * replica: an ACL user that may not run it is not refused for it. */
	if (rp->type == REDIS_REPLY_ERROR && !strcmp(step, "ROLE") && !sentinel_mode(r))
		goto done;
	if (rp->type == REDIS_REPLY_ERROR) {
		if (!strcmp(step, "AUTH"))
			set_error(r, "AUTH failed: %s (check store.redis.username and password)",
				  rp->str);
		else if (!strcmp(step, "SELECT"))
			set_error(r, "SELECT %u failed: %s (check store.redis.db)", r->conf.db,
				  rp->str);
		else
			set_error(r, "%s failed: %s", step, rp->str);
		fail(r);
		return;
	}
	if (!strcmp(step, "TIME"))
		learn_time(r, rp);
	if (!strcmp(step, "ROLE") && role_refused(r, rp)) {
		/* A sentinel's answer can be stale (a fail-over under way): never
		 * write to a replica, ask again at the next retry. Without
		 * sentinels the url names one: every write would answer
		 * READONLY, so it is not taken for up (and down) each second. */
		set_error(r, "%s:%u is not a master (ROLE: %.20s): %s", r->conf.host, r->conf.port,
			  rp->type == REDIS_REPLY_ARRAY && rp->elements &&
					  rp->element[0]->type == REDIS_REPLY_STRING
				  ? rp->element[0]->str
				  : "?",
			  sentinel_mode(r) ? "asking the sentinels again"
					   : "point store.redis.url at the master");
		fail(r);
		return;
	}
	if (!strncmp(step, "SCRIPT", 6) && rp->type == REDIS_REPLY_STRING && rp->len == 40) {
		int i = atoi(step + 6);

		memcpy(r->sha[i], rp->str, 40);
		r->sha[i][40] = '\0';
	}
done:
	if (--r->hs_left == 0)
		up(r);
}

/* The handshake labels carry the script index: "SCRIPT<i>". */
static const char *const script_labels[REDIS_MAX_SCRIPTS] = {
	"SCRIPT0",  "SCRIPT1",	"SCRIPT2",  "SCRIPT3",	"SCRIPT4",  "SCRIPT5",
	"SCRIPT6",  "SCRIPT7",	"SCRIPT8",  "SCRIPT9",	"SCRIPT10", "SCRIPT11",
	"SCRIPT12", "SCRIPT13", "SCRIPT14", "SCRIPT15",
};

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	if (!r || ac != r->ctx || status == REDIS_OK)
		return;
	/* hiredis frees ac after this callback. */
	r->ctx = NULL;
	set_error(r, "cannot connect: %s", ac->errstr);
	fail(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	(void)status;
	if (r && ac == r->draining) {
		drain_end(r, false); /* hiredis frees it */
		return;
	}
	if (!r || ac != r->ctx)
		return;
	r->ctx = NULL; /* hiredis frees it */
	set_error(r, "connection lost: %s", ac->err ? ac->errstr : "closed by the server");
	fail(r);
}

static redisAsyncContext *open_addr(struct redis *r, const char *path, const char *host,
				    uint16_t port, const char **err)
{
	redisAsyncContext *ac;

	if (path && path[0])
		ac = redisAsyncConnectUnix(path);
	else
		ac = redisAsyncConnect(host, port);
	if (!ac) {
		*err = "out of memory";
		return NULL;
	}
	if (ac->err) {
		static char buf[128];

		snprintf(buf, sizeof(buf), "%s", ac->errstr);
		*err = buf;
		redisAsyncFree(ac);
		return NULL;
	}
	if (redis_loop_attach(ac, r->loop) != REDIS_OK) {
		*err = "cannot attach to the loop";
		redisAsyncFree(ac);
		return NULL;
	}
	return ac;
}

static redisAsyncContext *open_ctx(struct redis *r, const char **err)
{
	return open_addr(r, r->conf.path, r->conf.host, r->conf.port, err);
}

static void auth_select(struct redis *r, redisAsyncContext *ac, redisCallbackFn *fn, int *count)
{
	if (r->conf.password[0]) {
		/* AUTH [username] password: a Redis 6 ACL user, or the default one. */
		const char *argv[] = { "AUTH", r->conf.username, r->conf.password };
		bool user = r->conf.username[0];

		argv[1] = user ? r->conf.username : r->conf.password;
		redisAsyncCommandArgv(ac, fn, (void *)"AUTH", user ? 3 : 2, argv, NULL);
		(*count)++;
	}
	if (r->conf.db) {
		char db[16];
		const char *argv[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%u", r->conf.db);
		redisAsyncCommandArgv(ac, fn, (void *)"SELECT", 2, argv, NULL);
		(*count)++;
	}
}

/* How long a handshake (or a sentinel's answer) may take. */
static uint64_t handshake_ms(const struct redis *r)
{
	return r->conf.timeout_ms * 5 > HANDSHAKE_MIN_MS ? r->conf.timeout_ms * 5
							 : HANDSHAKE_MIN_MS;
}

static void connect_now(struct redis *r)
{
	const char *err = NULL;
	redisAsyncContext *ac = open_ctx(r, &err);
	int i;

	if (!ac) {
		set_error(r, "cannot connect: %s", err);
		fail(r);
		return;
	}
	ac->data = r;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ctx = ac;
	r->ctx_inflight = 0;
	r->st = RS_CONNECTING;
	r->hs_left = 0;
	auth_select(r, ac, on_handshake, &r->hs_left);
	for (i = 0; i < r->nscripts; i++) {
		const char *argv[] = { "SCRIPT", "LOAD", r->scripts[i] };

		redisAsyncCommandArgv(ac, on_handshake, (void *)script_labels[i], 3, argv, NULL);
		r->hs_left++;
	}
	{
		const char *argv[] = { "TIME" };

		r->time_sent_ms = clock_realtime_ms();
		redisAsyncCommandArgv(ac, on_handshake, (void *)"TIME", 1, argv, NULL);
		r->hs_left++;
	}
	{
		const char *argv[] = { "ROLE" };

		redisAsyncCommandArgv(ac, on_handshake, (void *)"ROLE", 1, argv, NULL);
		r->hs_left++;
	}
	{
		const char *argv[] = { "PING" };

		redisAsyncCommandArgv(ac, on_handshake, (void *)"PING", 1, argv, NULL);
		r->hs_left++;
	}
	/* The retry timer is the handshake's deadline while connecting. */
	schedule_retry(r, handshake_ms(r));
}

/* --- sentinel ---------------------------------------------------------------- */

static void sentinel_auth(struct redis *r, redisAsyncContext *ac, redisCallbackFn *fn)
{
	const char *argv[] = { "AUTH", r->conf.sentinel_username, r->conf.sentinel_password };
	bool user = r->conf.sentinel_username[0];

	if (!r->conf.sentinel_password[0])
		return;
	argv[1] = user ? r->conf.sentinel_username : r->conf.sentinel_password;
	redisAsyncCommandArgv(ac, fn, (void *)"AUTH", user ? 3 : 2, argv, NULL);
}

static void ask_sentinel(struct redis *r, int i);

/* The sentinel being asked failed (why is in last_error): ask the next. */
static void sq_next(struct redis *r, redisAsyncContext *ac, bool free_it)
{
	r->sq = NULL;
	if (free_it && ac)
		redisAsyncFree(ac); /* deferred by hiredis inside one of its callbacks */
	ask_sentinel(r, r->sq_idx + 1);
}

static void on_sq_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis *r = ac->data;
	const struct fg_conf_redis_addr *s;
	redisReply *rp = reply;
	unsigned long port;
	char *e;

	(void)privdata;
	if (!r || ac != r->sq || !rp)
		return;
	s = &r->conf.sentinels[r->sq_idx];
	if (rp->type == REDIS_REPLY_ARRAY && rp->elements == 2 &&
	    rp->element[0]->type == REDIS_REPLY_STRING &&
	    rp->element[1]->type == REDIS_REPLY_STRING && rp->element[0]->len > 0 &&
	    rp->element[0]->len < sizeof(r->conf.host) &&
	    !memchr(rp->element[0]->str, '\0', rp->element[0]->len)) {
		errno = 0;
		port = strtoul(rp->element[1]->str, &e, 10);
		if (!*e && !errno && port >= 1 && port <= 65535 && rp->element[1]->str[0] != '-') {
			if (strcmp(r->conf.host, rp->element[0]->str) || r->conf.port != port)
				log_info("redis: the sentinels name the master",
					 LOG_STR("master_name", r->conf.master_name),
					 LOG_STR("addr", rp->element[0]->str),
					 LOG_UINT("port", port), LOG_STR("sentinel", s->host),
					 LOG_UINT("sentinel_port", s->port));
			memcpy(r->conf.host, rp->element[0]->str, rp->element[0]->len + 1);
			r->conf.port = (uint16_t)port;
			r->conf.path[0] = '\0';
			snprintf(r->where, sizeof(r->where), "sentinel master %s at %s:%u",
				 r->conf.master_name, r->conf.host, r->conf.port);
			r->sq = NULL;
			redisAsyncFree(ac);
			connect_now(r);
			return;
		}
	}
	if (rp->type == REDIS_REPLY_NIL)
		set_error(r, "sentinel %s:%u does not know the master %s (check master_name)",
			  s->host, s->port, r->conf.master_name);
	else if (rp->type == REDIS_REPLY_ERROR)
		set_error(r, "sentinel %s:%u: %.80s%s", s->host, s->port, rp->str,
			  strstr(rp->str, "AUTH") || strstr(rp->str, "WRONGPASS")
				  ? " (check store.redis.sentinel_username and sentinel_password)"
				  : "");
	else
		set_error(r, "sentinel %s:%u: not a master address in its answer", s->host,
			  s->port);
	sq_next(r, ac, true);
}

static void on_sq_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
	(void)ac;
	(void)reply;
	(void)privdata; /* an AUTH error shows in the next reply (NOAUTH) */
}

static void on_sq_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;
	const struct fg_conf_redis_addr *s;

	if (!r || ac != r->sq || status == REDIS_OK)
		return;
	s = &r->conf.sentinels[r->sq_idx];
	set_error(r, "sentinel %s:%u: cannot connect: %s", s->host, s->port, ac->errstr);
	sq_next(r, NULL, false); /* hiredis frees ac */
}

static void on_sq_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;
	const struct fg_conf_redis_addr *s;

	(void)status;
	if (!r || ac != r->sq)
		return;
	s = &r->conf.sentinels[r->sq_idx];
	set_error(r, "sentinel %s:%u: connection lost", s->host, s->port);
	sq_next(r, NULL, false);
}

/*
 * Ask sentinel i (or the next that can be reached) for the master's
 * address; its answer connects there. When none answers, the store is down
 * and the retry timer asks again from the first.
 */
static void ask_sentinel(struct redis *r, int i)
{
	const char *err = NULL;
	redisAsyncContext *ac = NULL;

	for (; i < r->conf.nsentinels; i++) {
		const struct fg_conf_redis_addr *s = &r->conf.sentinels[i];

		ac = open_addr(r, NULL, s->host, s->port, &err);
		if (ac)
			break;
		set_error(r, "sentinel %s:%u: cannot connect: %s", s->host, s->port, err);
	}
	if (!ac) {
		fail(r); /* last_error: the last sentinel's failure */
		return;
	}
	ac->data = r;
	redisAsyncSetConnectCallback(ac, on_sq_connect);
	redisAsyncSetDisconnectCallback(ac, on_sq_disconnect);
	r->sq = ac;
	r->sq_idx = i;
	r->st = RS_CONNECTING;
	sentinel_auth(r, ac, on_sq_auth);
	{
		const char *argv[] = { "SENTINEL", "get-master-addr-by-name", r->conf.master_name };

		redisAsyncCommandArgv(ac, on_sq_reply, NULL, 3, argv, NULL);
	}
	/* The retry timer is this sentinel's deadline: then the next one. */
	schedule_retry(r, handshake_ms(r));
}

/* Drop the connection to an old master and ask the sentinels again now. */
static void recheck_master(struct redis *r)
{
	if (r->ctx)
		fail(r);
	if (!r->sq)
		schedule_retry(r, 0);
}

/* "+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>" from a sentinel. */
static void on_switch(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis *r = ac->data;
	redisReply *rp = reply, *m;
	char name[64], host[128];
	unsigned port;

	(void)privdata;
	if (!r || ac != r->ssub || !rp || rp->type != REDIS_REPLY_ARRAY || rp->elements != 3 ||
	    rp->element[0]->type != REDIS_REPLY_STRING || strcmp(rp->element[0]->str, "message"))
		return;
	m = rp->element[2];
	if (m->type != REDIS_REPLY_STRING || m->len > 400 ||
	    sscanf(m->str, "%63s %*s %*s %127s %5u", name, host, &port) != 3 || !port ||
	    port > 65535 || strcmp(name, r->conf.master_name))
		return;
	r->stats.master_switches++;
	log_warn("redis: the sentinels switched the master", LOG_STR("master_name", name),
		 LOG_STR("from", r->conf.host), LOG_UINT("from_port", r->conf.port),
		 LOG_STR("to", host), LOG_UINT("to_port", port));
	if (r->st == RS_UP && !strcmp(r->conf.host, host) && r->conf.port == port)
		return; /* already there (an error made us ask first) */
	set_error(r, "the sentinels switched the master to %s:%u", host, port);
	recheck_master(r);
}

static void on_ssub_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	(void)status;
	if (r && ac == r->ssub)
		r->ssub = NULL; /* hiredis frees it; the timer subscribes again */
}

static void on_ssub_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	if (r && ac == r->ssub && status != REDIS_OK)
		r->ssub = NULL;
}

/* Keep one sentinel connection subscribed to +switch-master (the next
 * sentinel of the list each time one is lost). */
static void sentinel_subscribe(struct redis *r)
{
	redisAsyncContext *ac = NULL;
	const char *err = NULL;
	int n;

	if (r->ssub)
		return;
	for (n = 0; n < r->conf.nsentinels && !ac; n++) {
		const struct fg_conf_redis_addr *s =
			&r->conf.sentinels[r->ssub_next++ % r->conf.nsentinels];

		ac = open_addr(r, NULL, s->host, s->port, &err);
	}
	if (!ac)
		return;
	ac->data = r;
	redisAsyncSetConnectCallback(ac, on_ssub_connect);
	redisAsyncSetDisconnectCallback(ac, on_ssub_disconnect);
	r->ssub = ac;
	r->ssub_idx = (r->ssub_next - 1) % r->conf.nsentinels;
	sentinel_auth(r, ac, on_sq_auth);
	{
		const char *argv[] = { "SUBSCRIBE", "+switch-master" };

		redisAsyncCommandArgv(ac, on_switch, NULL, 2, argv, NULL);
	}
}

/* A probe's answer: the sentinel is reachable and names this master. */
static void on_probe_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct sprobe *p = privdata;
	redisReply *rp = reply;

	if (!rp || p->ac != ac)
		return;
	p->asked = false;
	if (rp->type == REDIS_REPLY_ARRAY && rp->elements == 2 &&
	    rp->element[0]->type == REDIS_REPLY_STRING &&
	    rp->element[1]->type == REDIS_REPLY_STRING) {
		p->reachable = true;
		p->last_ok_ms = clock_realtime_ms();
		p->error[0] = '\0';
		snprintf(p->master, sizeof(p->master), "%.100s:%.8s", rp->element[0]->str,
			 rp->element[1]->str);
		return;
	}
	p->reachable = false;
	p->master[0] = '\0';
	snprintf(p->error, sizeof(p->error), "%.100s",
		 rp->type == REDIS_REPLY_ERROR ? rp->str
		 : rp->type == REDIS_REPLY_NIL ? "does not know the master"
					       : "not a master address in its answer");
}

static void probe_lost(struct sprobe *p, const char *why, const char *detail)
{
	p->ac = NULL;
	p->asked = false;
	p->reachable = false;
	snprintf(p->error, sizeof(p->error), "%s%s%.80s", why, detail ? ": " : "",
		 detail ? detail : "");
}

static void on_probe_connect(const redisAsyncContext *ac, int status)
{
	struct sprobe *p = ac->data;

	if (p && p->ac == ac && status != REDIS_OK)
		probe_lost(p, "cannot connect", ac->errstr); /* hiredis frees ac */
}

static void on_probe_disconnect(const redisAsyncContext *ac, int status)
{
	struct sprobe *p = ac->data;

	(void)status;
	if (p && p->ac == ac)
		probe_lost(p, "connection lost", NULL);
}

/*
 * Ask every sentinel for the master (one connection each, kept): which
 * sentinels answer and what they name is what floodctl status shows. A
 * sentinel still silent since the last probe is counted unreachable and
 * its connection made anew.
 */
static void sentinel_probe(struct redis *r)
{
	int i;

	for (i = 0; i < r->conf.nsentinels; i++) {
		struct sprobe *p = &r->probes[i];
		const struct fg_conf_redis_addr *s = &r->conf.sentinels[i];
		const char *argv[] = { "SENTINEL", "get-master-addr-by-name", r->conf.master_name };
		const char *err = NULL;

		p->r = r;
		p->idx = i;
		if (p->ac && p->asked) {
			redisAsyncContext *ac = p->ac;

			probe_lost(p, "no answer", NULL);
			redisAsyncFree(ac);
		}
		if (!p->ac) {
			p->ac = open_addr(r, NULL, s->host, s->port, &err);
			if (!p->ac) {
				probe_lost(p, "cannot connect", err);
				continue;
			}
			p->ac->data = p;
			redisAsyncSetConnectCallback(p->ac, on_probe_connect);
			redisAsyncSetDisconnectCallback(p->ac, on_probe_disconnect);
			sentinel_auth(r, p->ac, on_sq_auth);
		}
		p->asked = true;
		redisAsyncCommandArgv(p->ac, on_probe_reply, p, 3, argv, NULL);
	}
}

static void on_sentinel_timer(uv_timer_t *t)
{
	struct redis *r = t->data;

	sentinel_subscribe(r);
	if (r->sentinel_ticks++ % (REDIS_SENTINEL_PROBE_MS / REDIS_RETRY_MS) == 0)
		sentinel_probe(r);
}

static void on_retry(uv_timer_t *t)
{
	struct redis *r = t->data;

	if (cluster_mode(r)) {
		cluster_retry(r);
		return;
	}
	if (r->st == RS_CONNECTING && r->sq) {
		const struct fg_conf_redis_addr *s = &r->conf.sentinels[r->sq_idx];

		set_error(r, "sentinel %s:%u: no answer within %llu ms", s->host, s->port,
			  (unsigned long long)handshake_ms(r));
		sq_next(r, r->sq, true);
		return;
	}
	if (r->st == RS_CONNECTING) {
		set_error(r, "no answer to the connection handshake");
		fail(r);
		return;
	}
	if (r->st == RS_DOWN) {
		if (sentinel_mode(r))
			ask_sentinel(r, 0);
		else
			connect_now(r);
	}
}

struct redis *redis_new(uv_loop_t *loop, const struct fg_conf_redis *conf)
{
	struct redis *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->loop = loop;
	r->conf = *conf;
	if (!r->conf.timeout_ms)
		r->conf.timeout_ms = FG_CONF_REDIS_TIMEOUT_MS;
	uv_timer_init(loop, &r->deadline);
	uv_timer_init(loop, &r->retry);
	uv_timer_init(loop, &r->clock);
	uv_timer_init(loop, &r->drain_timer);
	r->deadline.data = r->retry.data = r->clock.data = r->drain_timer.data = r;
	/* A wall clock stepped by NTP moves the offset: look again each minute. */
	uv_timer_start(&r->clock, on_clock, REDIS_CLOCK_MS, REDIS_CLOCK_MS);
	uv_unref((uv_handle_t *)&r->clock);
	r->stats.down_since_ms = clock_realtime_ms();
	set_error(r, "not connected yet");
	strcpy(r->logged_error, r->stats.last_error);
	uv_timer_init(loop, &r->sentinel_timer);
	uv_timer_init(loop, &r->prune);
	r->sentinel_timer.data = r->prune.data = r;
	if (cluster_mode(r)) {
		r->slots = malloc(REDIS_SLOTS);
		if (!r->slots) {
			free(r);
			return NULL;
		}
		memset(r->slots, SLOT_NONE, REDIS_SLOTS);
		snprintf(r->where, sizeof(r->where), "cluster");
	} else if (sentinel_mode(r)) {
		snprintf(r->where, sizeof(r->where), "sentinel master %s", r->conf.master_name);
		/* Subscribed before the first ask: a switch during it is not missed. */
		uv_timer_start(&r->sentinel_timer, on_sentinel_timer, 0, REDIS_RETRY_MS);
		uv_unref((uv_handle_t *)&r->sentinel_timer);
	} else {
		snprintf(r->where, sizeof(r->where), "%s", r->conf.url);
	}
	/* Connect from the loop, after every script has been registered. */
	schedule_retry(r, 0);
	return r;
}

/* The retry timer is closed last: its close callback frees r. */
static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void redis_free(struct redis *r)
{
	redisAsyncContext *ac;
	int i;

	if (!r)
		return;
	r->state_fn = NULL;
	r->closing = true;
	while (r->nnodes > 0)
		redis_free(r->nodes[--r->nnodes]);
	free(r->slots);
	r->slots = NULL;
	ac = r->ctx;
	r->ctx = NULL;
	r->st = RS_DOWN;
	if (ac)
		redisAsyncFree(ac); /* pending callbacks run with NULL */
	ac = r->sq;
	r->sq = NULL;
	if (ac)
		redisAsyncFree(ac);
	ac = r->ssub;
	r->ssub = NULL;
	if (ac)
		redisAsyncFree(ac);
	for (i = 0; i < FG_CONF_REDIS_MAX_SENTINELS; i++) {
		ac = r->probes[i].ac;
		r->probes[i].ac = NULL;
		if (ac)
			redisAsyncFree(ac);
	}
	drain_end(r, true);
	while (r->head) {
		struct req *q = r->head;

		list_del(r, q);
		answer(q, NULL, "shutting down");
	}
	uv_close((uv_handle_t *)&r->deadline, NULL);
	uv_close((uv_handle_t *)&r->clock, NULL);
	uv_close((uv_handle_t *)&r->drain_timer, NULL);
	uv_close((uv_handle_t *)&r->sentinel_timer, NULL);
	uv_close((uv_handle_t *)&r->prune, NULL);
	uv_close((uv_handle_t *)&r->retry, on_closed);
}

void redis_on_state(struct redis *r, redis_state_fn fn, void *arg)
{
	r->state_fn = fn;
	r->state_arg = arg;
}

int redis_script(struct redis *r, const char *src)
{
	int i;

	for (i = 0; i < r->nscripts; i++)
		if (r->scripts[i] == src)
			return i;
	if (r->nscripts == REDIS_MAX_SCRIPTS)
		return -ENOSPC;
	r->scripts[r->nscripts] = src;
	for (i = 0; i < r->nnodes; i++)
		redis_script(r->nodes[i], src);
	return r->nscripts++;
}

bool redis_up(const struct redis *r)
{
	if (r && cluster_mode(r))
		return r->map_known && any_up_node(r);
	return r && r->st == RS_UP;
}

bool redis_failing(const struct redis *r)
{
	return r && !cluster_mode(r) && r->failures > 0;
}

const char *redis_prefix(const struct redis *r)
{
	return r->conf.prefix;
}

void redis_stats(const struct redis *r, struct redis_stats *out)
{
	if (cluster_mode(r)) {
		cl_stats(r, out);
		return;
	}
	*out = r->stats;
	out->up = r->st == RS_UP;
}

/* --- requests ------------------------------------------------------------- */

static void lat_record(struct redis_stats *st, uint64_t us)
{
	int i;

	for (i = 0; i < REDIS_LAT_BUCKETS && us > redis_lat_bounds_us[i]; i++)
		;
	st->lat[i]++;
	st->lat_sum_us += us;
	/* 1/8 of each new answer: what the round trip is now, not since start */
	st->rtt_us = st->rtt_us ? (st->rtt_us * 7 + us) / 8 : us;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* RESP's "<c><n>\r\n" (an array's or a bulk string's header) at p; its end. */
#define RESP_HDR_MAX 24 /* bytes it takes at most: 1 + 20 digits + 2 */
static char *resp_hdr(char *p, char c, size_t n)
{
	*p++ = c;
	p += sbuf_fmt_ll(p, (long long)n);
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* q (an EVALSHA) again as EVAL with its script's source, after NOSCRIPT. */
static int send_eval(struct redis *r, struct req *q)
{
	const char *src = r->scripts[q->script];
	size_t slen = strlen(src), len;
	char *cmd, *p;
	int ret;

	cmd = malloc(3 * RESP_HDR_MAX + 6 + slen + 2 + q->cmdlen - q->tail);
	if (!cmd)
		return REDIS_ERR;
	p = resp_hdr(cmd, '*', (size_t)q->argc);
	p = resp_hdr(p, '$', 4);
	memcpy(p, "EVAL\r\n", 6);
	p = resp_hdr(p + 6, '$', slen);
	memcpy(p, src, slen);
	p += slen;
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, q->cmd + q->tail, q->cmdlen - q->tail);
	len = (size_t)(p - cmd) + q->cmdlen - q->tail;
	ret = redisAsyncFormattedCommand(r->ctx, on_reply, q, cmd, len);
	free(cmd);
	return ret;
}

static void handle_reply(struct redis *r, struct req *q, redisReply *rp)
{
	bool readonly;

	if (q->answered) {
		/* A late reply (or NULL: the connection went first). */
		if (q->late)
			q->late(rp, rp ? NULL : "disconnected", q->late_arg);
		free(q);
		return;
	}
	list_del(r, q);
	if (!rp) {
		/* The connection is going away: its disconnect path handles the state. */
		r->stats.errors++;
		answer(q, NULL, "disconnected");
		free(q);
		rearm(r);
		return;
	}
	if (rp->type == REDIS_REPLY_ERROR && q->script >= 0 && !q->retried &&
	    !strncmp(rp->str, "NOSCRIPT", 8) && r->ctx) {
		/* Redis restarted or flushed its scripts: EVAL sends the source
		 * and caches it again; later EVALSHAs work. */
		q->retried = true;
		if (send_eval(r, q) == REDIS_OK) {
			r->ctx_inflight++;
			if (!q->background)
				list_add(r, q, true);
			return;
		}
	}
	if (rp->type == REDIS_REPLY_ERROR) {
		r->stats.errors++;
		if (redis_key_error(rp)) {
			/* The key's own error (WRONGTYPE...): Redis is fine. */
			r->stats.key_errors++;
			if (!q->background)
				r->failures = 0;
		} else if (!strncmp(rp->str, "MOVED ", 6) || !strncmp(rp->str, "ASK ", 4)) {
			/* A slot moved (cluster mode): the router follows it; this
			 * node is fine. */
		} else if (!q->background) {
			caller_failed(r);
			set_error(r, "error reply: %.100s", rp->str);
		}
	} else {
		if (!q->background)
			r->failures = 0;
		lat_record(&r->stats, (uv_hrtime() - q->sent_ns) / 1000);
	}
	readonly = rp->type == REDIS_REPLY_ERROR && !strncmp(rp->str, "READONLY", 8);
	answer(q, rp, rp->type == REDIS_REPLY_ERROR ? rp->str : NULL);
	free(q);
	if (readonly && r->ctx && sentinel_mode(r)) {
		/* Our master was made a replica: the sentinels know the new one. */
		set_error(r, "%s:%u answered READONLY (a replica now): asking the sentinels",
			  r->conf.host, r->conf.port);
		recheck_master(r);
	} else if (r->ctx && breaker_trips(r)) {
		go_down(r);
	}
	rearm(r);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct req *q = privdata;
	struct redis *r = q->r;
	bool last = false;

	if (ac == r->draining)
		last = --r->drain_left == 0;
	else if (ac == r->ctx && r->ctx_inflight)
		r->ctx_inflight--;
	handle_reply(r, q, reply);
	/* After the last late reply has been handled (the replay waits for it). */
	if (last)
		drain_end(r, reply != NULL);
}

/*
 * One zeroed allocation of head bytes followed by a copy of argv (pointers,
 * lengths, then the bytes), so a request owns its arguments until it ends:
 * *cargv and *clens point into it. NULL when out of memory.
 */
static void *argv_alloc(size_t head, int argc, const char *const *argv, const size_t *lens,
			const char ***cargv, size_t **clens)
{
	size_t total = 0, off = 0;
	char *block, *data;
	int i;

	for (i = 0; i < argc; i++)
		total += lens[i];
	block = calloc(1, head + (size_t)argc * (sizeof(char *) + sizeof(size_t)) + total);
	if (!block)
		return NULL;
	*cargv = (const char **)(block + head);
	*clens = (size_t *)(*cargv + argc);
	data = (char *)(*clens + argc);
	for (i = 0; i < argc; i++) {
		memcpy(data + off, argv[i], lens[i]);
		(*cargv)[i] = data + off;
		(*clens)[i] = lens[i];
		off += lens[i];
	}
	return block;
}

/*
 * The request is formatted as RESP here, into its own allocation, and
 * handed to hiredis as it is: hiredis's redisAsyncCommandArgv builds it in
 * a growing sds string (an allocation, a reallocation, a printf-style
 * header per argument and a free per command), measurable per decision.
 */
static int send_req(struct redis *r, int script, bool background, int argc, const char *const *argv,
		    const size_t *lens, redis_reply_fn cb, void *arg)
{
	size_t size = RESP_HDR_MAX;
	struct req *q;
	char *p;
	int i;

	if (r->st != RS_UP || !r->ctx)
		return -EAGAIN;
	if (r->npending >= REDIS_MAX_PENDING) {
		r->stats.errors++;
		return -EAGAIN;
	}
	for (i = 0; i < argc; i++)
		size += RESP_HDR_MAX + lens[i] + 2; /* "$<len>\r\n<bytes>\r\n" */
	q = calloc(1, sizeof(*q) + size);
	if (!q)
		return -ENOMEM;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->script = script;
	q->background = background;
	q->argc = argc;
	p = resp_hdr(q->cmd, '*', (size_t)argc);
	for (i = 0; i < argc; i++) {
		if (i == 2)
			q->tail = (size_t)(p - q->cmd);
		p = resp_hdr(p, '$', lens[i]);
		memcpy(p, argv[i], lens[i]);
		p += lens[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	q->cmdlen = (size_t)(p - q->cmd);
	q->deadline = uv_now(r->loop) + r->conf.timeout_ms;
	q->sent_ns = uv_hrtime();
	if (redisAsyncFormattedCommand(r->ctx, on_reply, q, q->cmd, q->cmdlen) != REDIS_OK) {
		free(q);
		r->stats.errors++;
		return -EIO;
	}
	r->stats.requests++;
	r->ctx_inflight++;
	if (!background)
		list_add(r, q, false);
	return 0;
}

/* EVALSHA of script over nkeys keys and nargs arguments (lens NULL: C
 * strings); -EINVAL past REDIS_EVALM_ARGS in all. */
static int evalsha(struct redis *r, int script, bool background, int nkeys, const void *const *keys,
		   const size_t *klens, int nargs, const char *const *args, const size_t *lens,
		   redis_reply_fn cb, void *arg)
{
	const char *argv[REDIS_EVALM_ARGS];
	size_t alen[REDIS_EVALM_ARGS];
	char num[16];
	int i, n = 0;

	if (script < 0 || script >= r->nscripts || nkeys < 1 || nargs < 0 ||
	    3 + nkeys + nargs > REDIS_EVALM_ARGS)
		return -EINVAL;
	argv[n] = "EVALSHA";
	alen[n++] = 7;
	argv[n] = r->sha[script];
	alen[n++] = 40;
	argv[n] = num;
	alen[n++] = sbuf_fmt_ll(num, nkeys);
	for (i = 0; i < nkeys; i++, n++) {
		argv[n] = keys[i];
		alen[n] = klens[i];
	}
	for (i = 0; i < nargs; i++, n++) {
		argv[n] = args[i];
		alen[n] = lens ? lens[i] : strlen(args[i]);
	}
	return send_req(r, script, background, n, argv, alen, cb, arg);
}

static int eval(struct redis *r, int script, bool background, const void *key, size_t klen,
		int nargs, const char *const *args, const size_t *lens, redis_reply_fn cb,
		void *arg)
{
	return evalsha(r, script, background, 1, &key, &klen, nargs, args, lens, cb, arg);
}

int redis_eval(struct redis *r, int script, const void *key, size_t klen, int nargs,
	       const char *const *args, const size_t *lens, redis_reply_fn cb, void *arg)
{
	if (cluster_mode(r))
		return cl_eval(r, script, false, key, klen, nargs, args, lens, cb, arg);
	return eval(r, script, false, key, klen, nargs, args, lens, cb, arg);
}

int redis_eval_background(struct redis *r, int script, const void *key, size_t klen, int nargs,
			  const char *const *args, const size_t *lens, redis_reply_fn cb, void *arg)
{
	if (cluster_mode(r))
		return cl_eval(r, script, true, key, klen, nargs, args, lens, cb, arg);
	return eval(r, script, true, key, klen, nargs, args, lens, cb, arg);
}

int redis_evalm(struct redis *r, int script, int nkeys, const void *const *keys,
		const size_t *klens, int nargs, const char *const *args, const size_t *lens,
		redis_reply_fn cb, void *arg)
{
	int i;

	if (nkeys < 1)
		return -EINVAL;
	if (cluster_mode(r)) {
		/* one script runs on one node: its keys must share a slot */
		uint16_t slot = redis_key_slot(keys[0], klens[0]);

		for (i = 1; i < nkeys; i++)
			if (redis_key_slot(keys[i], klens[i]) != slot)
				return -EXDEV;
		r = node_of(r, keys[0], klens[0]);
		if (!r)
			return -EAGAIN;
	}
	return evalsha(r, script, false, nkeys, keys, klens, nargs, args, lens, cb, arg);
}

int redis_want_late(struct redis *r, redis_reply_fn late, void *arg)
{
	if (r->answering_node)
		return redis_want_late(r->answering_node, late, arg);
	if (!r->answering)
		return -EINVAL;
	r->answering->late = late;
	r->answering->late_arg = arg;
	return 0;
}

/*
 * Errors of the server as a whole (loading, busy with a script, read-only
 * replica, out of memory, not authenticated...) count toward the breaker;
 * any other error reply to a script is about its key or its data.
 */
bool redis_key_error(const redisReply *rp)
{
	static const char *const server_wide[] = { "LOADING",	 "BUSY",      "READONLY",
						   "MASTERDOWN", "MISCONF",   "NOAUTH",
						   "NOPERM",	 "OOM",	      "CLUSTERDOWN",
						   "TRYAGAIN",	 "MOVED",     "ASK",
						   "NOSCRIPT",	 "NOREPLICAS" };
	size_t i, n;

	if (!rp || rp->type != REDIS_REPLY_ERROR || !rp->str)
		return false;
	for (i = 0; i < sizeof(server_wide) / sizeof(server_wide[0]); i++) {
		n = strlen(server_wide[i]);
		if (!strncmp(rp->str, server_wide[i], n) && (rp->str[n] == ' ' || !rp->str[n]))
			return false;
	}
	return true;
}

int redis_command(struct redis *r, int argc, const char *const *argv, const size_t *lens,
		  redis_reply_fn cb, void *arg)
{
	size_t alen[64];
	int i;

	if (argc > 64)
		return -EINVAL;
	for (i = 0; i < argc; i++)
		alen[i] = lens ? lens[i] : strlen(argv[i]);
	if (cluster_mode(r))
		return cl_command(r, argc, argv, alen, cb, arg);
	return send_req(r, -1, false, argc, argv, alen, cb, arg);
}

static void on_extra_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
	redisReply *rp = reply;

	(void)ac;
	if (rp && rp->type == REDIS_REPLY_ERROR)
		log_debug("redis: command failed on the subscriber connection",
			  LOG_STR("command", (const char *)privdata), LOG_STR("error", rp->str));
}

struct redisAsyncContext *redis_connect_extra(struct redis *r)
{
	const char *err = NULL;
	redisAsyncContext *ac;
	int n = 0;

	if (cluster_mode(r)) {
		/* A cluster relays every PUBLISH to every node: any one will do. */
		struct redis *node = any_up_node(r);

		return node ? redis_connect_extra(node) : NULL;
	}
	ac = open_ctx(r, &err);
	if (!ac)
		return NULL;
	auth_select(r, ac, on_extra_handshake, &n);
	return ac;
}

/* --- cluster ------------------------------------------------------------------
 *
 * Cluster mode (conf.ncluster) makes r a router: one struct redis per master
 * (a node: its own connection, handshake, scripts, deadline, breaker and
 * late replies, exactly as a single Redis), and a map of the 16384 slots to
 * them from CLUSTER SLOTS. A request goes to its key's node; a node that is
 * down fails only the requests of its slots (-EAGAIN: the caller's fallback
 * decides them), the others go on. MOVED updates the map (and asks for a new
 * one) and re-sends the request there; ASK sends ASKING and the request to
 * the named node once. Both at most REDIS_MAX_REDIRECTS times.
 */

struct clreq {
	struct redis *r;
	redis_reply_fn cb;
	void *arg;
	int script; /* -1: a plain command */
	bool background;
	int redirects;
	struct redis *late_node; /* the node it was sent to last */
	int argc; /* the key and arguments (eval) or the command (argv[0] its name) */
	const char **argv;
	size_t *lens;
};

static void on_ignore_reply(redisReply *rp, const char *why, void *arg)
{
	(void)rp;
	(void)why;
	(void)arg;
}

/* CRC16-CCITT (XMODEM), as Redis Cluster hashes keys. */
static uint16_t crc16(const char *buf, size_t len)
{
	uint16_t crc = 0;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)((uint8_t)buf[i] << 8);
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* The slot of a key: its hash tag ({...}, non-empty) when it has one. */
uint16_t redis_key_slot(const void *key, size_t len)
{
	const char *k = key, *open = memchr(k, '{', len), *close;

	if (open) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - k));
		if (close && close > open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) & (REDIS_SLOTS - 1);
	}
	return crc16(k, len) & (REDIS_SLOTS - 1);
}

static void on_node_state(bool up, void *arg)
{
	struct redis *r = arg;

	/* Each node back replays what the fallback counted (keys of the nodes
	 * still down wait: their send fails with -EAGAIN) and re-subscribes. */
	if (up && r->state_fn)
		r->state_fn(true, r->state_arg);
}

/* The node at host:port, made (connecting in the background) when new. */
static int node_for(struct redis *r, const char *host, uint16_t port)
{
	struct fg_conf_redis cc;
	struct redis *n;
	int i;

	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i]->conf.port == port && !strcmp(r->nodes[i]->conf.host, host))
			return i;
	if (r->nnodes == REDIS_MAX_NODES || strlen(host) >= sizeof(cc.host))
		return -ENOSPC;
	/* A host name or an IP literal: the address becomes a metric label and
	 * an INFO line, so a reply naming anything else is not followed. */
	if (!host[0] || host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-_:%")])
		return -EINVAL;
	cc = r->conf;
	cc.ncluster = 0;
	cc.nsentinels = 0;
	cc.path[0] = '\0';
	memcpy(cc.host, host, strlen(host) + 1); /* length checked above */
	cc.port = port;
	snprintf(cc.url, sizeof(cc.url), strchr(host, ':') ? "redis://[%s]:%u" : "redis://%s:%u",
		 host, port);
	n = redis_new(r->loop, &cc);
	if (!n)
		return -errno;
	for (i = 0; i < r->nscripts; i++)
		redis_script(n, r->scripts[i]);
	redis_on_state(n, on_node_state, r);
	n->parent = r;
	r->nodes[r->nnodes] = n;
	log_info("redis cluster: node", LOG_STR("node", cc.url), LOG_INT("index", r->nnodes));
	return r->nnodes++;
}

static void cluster_ask(struct redis *r, int i);

static void cq_next(struct redis *r, redisAsyncContext *ac, bool free_it)
{
	r->sq = NULL;
	if (free_it && ac)
		redisAsyncFree(ac);
	cluster_ask(r, r->sq_idx + 1);
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, ...], replicas...]. */
static bool slots_entry(struct redis *r, const redisReply *e, const char *seed_host)
{
	const redisReply *m;
	long long lo, hi;
	char host[128];
	int node;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER)
		return false;
	lo = e->element[0]->integer;
	hi = e->element[1]->integer;
	m = e->element[2];
	if (lo < 0 || hi < lo || hi >= REDIS_SLOTS || m->type != REDIS_REPLY_ARRAY ||
	    m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
	    m->element[1]->type != REDIS_REPLY_INTEGER || m->element[1]->integer < 1 ||
	    m->element[1]->integer > 65535 || m->element[0]->len >= sizeof(host) ||
	    memchr(m->element[0]->str, '\0', m->element[0]->len))
		return false;
	/* An empty host (or "?") is the node we asked. */
	snprintf(host, sizeof(host), "%s",
		 m->element[0]->len && strcmp(m->element[0]->str, "?") ? m->element[0]->str
								       : seed_host);
	node = node_for(r, host, (uint16_t)m->element[1]->integer);
	if (node == -ENOSPC)
		r->map_missed = true; /* room is made for it after the map (on_prune) */
	if (node < 0)
		return false;
	memset(r->slots + lo, node, (size_t)(hi - lo + 1));
	return true;
}

/*
 * Until the next CLUSTER SLOTS: REDIS_CLUSTER_REFRESH_MS, but each
 * REDIS_RETRY_MS while a master is down, so that the replica the cluster
 * promotes (or the master its slots are given to) is used within a second
 * of the new map, and a master removed is forgotten as soon.
 */
static uint64_t refresh_ms(const struct redis *r)
{
	int i;

	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i]->st != RS_UP)
			return REDIS_RETRY_MS;
	return REDIS_CLUSTER_REFRESH_MS;
}

/* Counters of a node the router forgets stay in its totals (they are
 * Prometheus counters: they never go down). */
static void stats_add(struct redis_stats *to, const struct redis_stats *from)
{
	int j;

	to->requests += from->requests;
	to->errors += from->errors;
	to->timeouts += from->timeouts;
	to->trips += from->trips;
	to->switches += from->switches;
	to->key_errors += from->key_errors;
	to->reconnects += from->reconnects;
	for (j = 0; j <= REDIS_LAT_BUCKETS; j++)
		to->lat[j] += from->lat[j];
	to->lat_sum_us += from->lat_sum_us;
}

/*
 * After a map: forget the masters it no longer names (removed from the
 * cluster, emptied by a reshard, or made up by a bad reply), unless named
 * by a redirection within REDIS_CLUSTER_REFRESH_MS (a master being filled
 * by a migration is named by ASK before it owns a slot).
 * Their connections close, their requests end as lost connections, their
 * metric series go; their counters stay in the totals.
 */
static void on_prune(uv_timer_t *t)
{
	struct redis *r = t->data, *gone[REDIS_MAX_NODES];
	uint64_t now = uv_now(r->loop);
	bool owns[REDIS_MAX_NODES] = { false }, any = false;
	uint8_t remap[REDIS_MAX_NODES];
	int i, kept = 0, ngone = 0;

	if (r->closing || !r->map_known)
		return;
	for (i = 0; i < REDIS_SLOTS; i++)
		if (r->slots[i] != SLOT_NONE)
			owns[r->slots[i]] = any = true;
	if (!any && !r->map_missed)
		return; /* a map of nothing says nothing about who left */
	for (i = 0; i < r->nnodes; i++) {
		struct redis *n = r->nodes[i];

		if (owns[i] || now - n->wanted_ms < REDIS_CLUSTER_REFRESH_MS) {
			remap[i] = (uint8_t)kept;
			r->nodes[kept++] = n;
		} else {
			remap[i] = SLOT_NONE;
			gone[ngone++] = n;
		}
	}
	if (!ngone)
		return;
	if (r->map_missed) {
		/* Masters of the map had no room (a bad map had filled the
		 * REDIS_MAX_NODES places): now there is, ask again. */
		r->map_missed = false;
		cluster_refresh_soon(r);
	}
	r->nnodes = kept;
	for (i = 0; i < REDIS_SLOTS; i++)
		if (r->slots[i] != SLOT_NONE)
			r->slots[i] = remap[r->slots[i]];
	/* The router is whole again before the nodes' callbacks run. */
	for (i = 0; i < ngone; i++) {
		struct redis_stats ns;

		redis_stats(gone[i], &ns);
		stats_add(&r->stats, &ns);
		log_info("redis cluster: node left the slot map, forgotten",
			 LOG_STR("node", gone[i]->where));
		redis_free(gone[i]);
	}
	/* The fleet's subscription may have been on one of them; the journal
	 * may hold keys whose slots moved to a node that is up. */
	if (any_up_node(r) && r->state_fn)
		r->state_fn(true, r->state_arg);
}

/* A CLUSTER SLOTS answer from host:port becomes the map: false when it is
 * not one (the map is then left as it was). */
static bool apply_map(struct redis *r, const redisReply *rp, const char *host, uint16_t port)
{
	size_t i, covered = 0;
	bool was_full;

	if (!rp || rp->type != REDIS_REPLY_ARRAY || !rp->elements)
		return false;
	for (i = 0; i < REDIS_SLOTS; i++)
		covered += r->slots[i] != SLOT_NONE;
	was_full = r->map_known && covered == REDIS_SLOTS;
	memset(r->slots, SLOT_NONE, REDIS_SLOTS);
	r->map_missed = false;
	for (i = 0; i < rp->elements; i++)
		slots_entry(r, rp->element[i], host);
	for (i = 0, covered = 0; i < REDIS_SLOTS; i++)
		covered += r->slots[i] != SLOT_NONE;
	if (!r->map_known || !was_full || covered != REDIS_SLOTS)
		log_info("redis cluster: slot map", LOG_UINT("slots", covered),
			 LOG_INT("nodes", r->nnodes), LOG_STR("from", host),
			 LOG_UINT("from_port", port));
	r->map_known = true;
	r->stats.map_refreshes++;
	/* Not from inside this reply's callback: forgetting frees nodes. */
	uv_timer_start(&r->prune, on_prune, 0, 0);
	return true;
}

static void on_cq_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis *r = ac->data;
	const struct fg_conf_redis_addr *s;
	redisReply *rp = reply;

	(void)privdata;
	if (!r || ac != r->sq || !rp)
		return;
	s = &r->conf.cluster[r->sq_idx];
	if (!apply_map(r, rp, s->host, s->port)) {
		set_error(r, "cluster seed %s:%u: CLUSTER SLOTS: %.80s", s->host, s->port,
			  rp->type == REDIS_REPLY_ERROR ? rp->str : "no slots");
		cq_next(r, ac, true);
		return;
	}
	r->sq = NULL;
	redisAsyncFree(ac);
	schedule_retry(r, refresh_ms(r));
}

/* The map asked of a master already connected (no new connection to a seed
 * every few seconds); the seeds are for the start and when none is up. */
static void on_node_map(redisReply *rp, const char *why, void *arg)
{
	struct redis *n = arg, *r = n->parent;

	(void)why;
	r->map_inflight = false;
	if (r->closing || apply_map(r, rp, n->conf.host, n->conf.port))
		return;
	cluster_ask(r, 0); /* that master failed to answer: the seeds */
}

static void on_cq_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;
	const struct fg_conf_redis_addr *s;

	if (!r || ac != r->sq || status == REDIS_OK)
		return;
	s = &r->conf.cluster[r->sq_idx];
	set_error(r, "cluster seed %s:%u: cannot connect: %s", s->host, s->port, ac->errstr);
	cq_next(r, NULL, false);
}

static void on_cq_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	(void)status;
	if (!r || ac != r->sq)
		return;
	set_error(r, "cluster seed: connection lost");
	cq_next(r, NULL, false);
}

/* Ask seed i (or the next reachable one) for CLUSTER SLOTS; then the known
 * nodes. Without an answer the map stays as it was, asked again later. */
static void cluster_ask(struct redis *r, int i)
{
	redisAsyncContext *ac = NULL;
	const char *err = NULL;
	int dummy = 0;

	for (; i < r->conf.ncluster; i++) {
		const struct fg_conf_redis_addr *s = &r->conf.cluster[i];

		ac = open_addr(r, NULL, s->host, s->port, &err);
		if (ac)
			break;
		set_error(r, "cluster seed %s:%u: cannot connect: %s", s->host, s->port, err);
	}
	if (!ac) {
		if (!r->map_known)
			log_warn("redis cluster: no seed answered CLUSTER SLOTS",
				 LOG_STR("error", r->stats.last_error));
		schedule_retry(r, REDIS_RETRY_MS);
		return;
	}
	ac->data = r;
	redisAsyncSetConnectCallback(ac, on_cq_connect);
	redisAsyncSetDisconnectCallback(ac, on_cq_disconnect);
	r->sq = ac;
	r->sq_idx = i;
	auth_select(r, ac, on_sq_auth, &dummy);
	{
		const char *argv[] = { "CLUSTER", "SLOTS" };

		redisAsyncCommandArgv(ac, on_cq_reply, NULL, 2, argv, NULL);
	}
	schedule_retry(r, handshake_ms(r));
}

/* The retry timer in cluster mode: the map's refresh (or a seed's deadline). */
static void cluster_retry(struct redis *r)
{
	struct redis *n = any_up_node(r);

	if (r->sq) {
		set_error(r, "cluster seed: no answer to CLUSTER SLOTS");
		cq_next(r, r->sq, true);
		return;
	}
	if (n && r->map_known && !r->map_inflight) {
		const char *argv[] = { "CLUSTER", "SLOTS" };
		size_t lens[] = { 7, 5 };

		/* With the node's deadline; its failure is counted as a caller's. */
		if (!send_req(n, -1, false, 2, argv, lens, on_node_map, n)) {
			r->map_inflight = true;
			schedule_retry(r, refresh_ms(r));
			return;
		}
	}
	r->map_inflight = false;
	cluster_ask(r, 0);
}

/* Ask for a new map soon (after MOVED), once at a time. */
static void cluster_refresh_soon(struct redis *r)
{
	if (!r->sq)
		schedule_retry(r, 0);
}

static struct redis *node_of(const struct redis *r, const void *key, size_t klen)
{
	uint8_t n;

	if (!r->map_known)
		return NULL;
	n = r->slots[redis_key_slot(key, klen)];
	return n == SLOT_NONE ? NULL : r->nodes[n];
}

static struct redis *any_up_node(const struct redis *r)
{
	int i;

	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i]->st == RS_UP)
			return r->nodes[i];
	return NULL;
}

static int cl_send(struct redis *n, struct clreq *c);

/* "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381": the node, or -1. */
static int redirect_target(struct redis *r, const char *s, bool *ask, long *slot)
{
	char host[128];
	const char *sp, *colon;
	unsigned long port;
	char *e;
	int t;

	*ask = !strncmp(s, "ASK ", 4);
	if (!*ask && strncmp(s, "MOVED ", 6))
		return -1;
	s += *ask ? 4 : 6;
	*slot = strtol(s, &e, 10);
	if (e == s || *e != ' ' || *slot < 0 || *slot >= REDIS_SLOTS)
		return -1;
	sp = e + 1;
	colon = strrchr(sp, ':');
	if (!colon || (size_t)(colon - sp) >= sizeof(host))
		return -1;
	memcpy(host, sp, (size_t)(colon - sp));
	host[colon - sp] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &e, 10);
	if (*e || errno || !port || port > 65535)
		return -1;
	if (!host[0]) /* "MOVED 1 :6380": the host the reply came from (not kept): refresh */
		return -1;
	t = node_for(r, host, (uint16_t)port);
	if (t >= 0) /* kept a while even without slots: an ASK names a master being filled */
		r->nodes[t]->wanted_ms = uv_now(r->loop);
	return t;
}

static void cl_on_reply(redisReply *rp, const char *why, void *arg)
{
	struct clreq *c = arg;
	struct redis *r = c->r;
	bool ask;
	long slot;
	int t;

	if (rp && rp->type == REDIS_REPLY_ERROR && c->redirects < REDIS_MAX_REDIRECTS &&
	    (t = redirect_target(r, rp->str, &ask, &slot)) >= 0) {
		struct redis *n = r->nodes[t];

		c->redirects++;
		r->stats.redirects++;
		if (c->late_node)
			c->late_node->stats.redirects++; /* the node that sent it */
		if (!ask) {
			r->slots[slot] = (uint8_t)t;
			cluster_refresh_soon(r);
		} else if (n->st == RS_UP) {
			const char *argv[] = { "ASKING" };
			size_t len = 6;

			send_req(n, -1, true, 1, argv, &len, on_ignore_reply, NULL);
		}
		if (!cl_send(n, c))
			return;
		rp = NULL;
		why = "redirected to a node that is down";
	} else if (rp && rp->type == REDIS_REPLY_ERROR && !strncmp(rp->str, "MOVED ", 6)) {
		cluster_refresh_soon(r);
	}
	if (why && !strcmp(why, "timeout"))
		r->answering_node = c->late_node;
	c->cb(rp, why, c->arg);
	r->answering_node = NULL;
	free(c);
}

static int cl_send(struct redis *n, struct clreq *c)
{
	c->late_node = n;
	if (c->script >= 0)
		return eval(n, c->script, c->background, c->argv[0], c->lens[0], c->argc - 1,
			    c->argv + 1, c->lens + 1, cl_on_reply, c);
	return send_req(n, -1, c->background, c->argc, c->argv, c->lens, cl_on_reply, c);
}

static struct clreq *cl_req(struct redis *r, int script, bool background, int argc,
			    const char *const *argv, const size_t *lens, redis_reply_fn cb,
			    void *arg)
{
	const char **cargv;
	size_t *clens;
	struct clreq *c;

	c = argv_alloc(sizeof(*c), argc, argv, lens, &cargv, &clens);
	if (!c)
		return NULL;
	c->r = r;
	c->cb = cb;
	c->arg = arg;
	c->script = script;
	c->background = background;
	c->argc = argc;
	c->argv = cargv;
	c->lens = clens;
	return c;
}

/* A request to n (the key's node): -EAGAIN when it is down or unknown. */
static int cl_submit(struct redis *r, struct redis *n, int script, bool background, int argc,
		     const char *const *argv, const size_t *lens, redis_reply_fn cb, void *arg)
{
	struct clreq *c;
	int err;

	if (!n || n->st != RS_UP) {
		if (n)
			n->stats.errors++; /* refused while down: its slots fall back */
		return -EAGAIN;
	}
	c = cl_req(r, script, background, argc, argv, lens, cb, arg);
	if (!c)
		return -ENOMEM;
	err = cl_send(n, c);
	if (err)
		free(c);
	return err;
}

static int cl_eval(struct redis *r, int script, bool background, const void *key, size_t klen,
		   int nargs, const char *const *args, const size_t *lens, redis_reply_fn cb,
		   void *arg)
{
	const char *argv[64];
	size_t alen[64];
	int i;

	if (script < 0 || script >= r->nscripts || nargs > 60)
		return -EINVAL;
	argv[0] = key;
	alen[0] = klen;
	for (i = 0; i < nargs; i++) {
		argv[1 + i] = args[i];
		alen[1 + i] = lens ? lens[i] : strlen(args[i]);
	}
	return cl_submit(r, node_of(r, key, klen), script, background, 1 + nargs, argv, alen, cb,
			 arg);
}

/* Commands without a key (TIME, PING, PUBLISH: a cluster relays it to every
 * node) go to any node that is up; the others to their key's node. */
static int cl_command(struct redis *r, int argc, const char *const *argv, const size_t *lens,
		      redis_reply_fn cb, void *arg)
{
	bool keyless = argc < 2 || !strcasecmp(argv[0], "PUBLISH") ||
		       !strcasecmp(argv[0], "TIME") || !strcasecmp(argv[0], "PING");

	return cl_submit(r, keyless ? any_up_node(r) : node_of(r, argv[1], lens[1]), -1, false,
			 argc, argv, lens, cb, arg);
}

static void cl_stats(const struct redis *r, struct redis_stats *out)
{
	int i;

	*out = r->stats;
	out->up = r->map_known && r->nnodes > 0;
	for (i = 0; i < r->nnodes; i++) {
		struct redis_stats ns;

		redis_stats(r->nodes[i], &ns);
		out->up = out->up && ns.up;
		stats_add(out, &ns);
		if (!ns.up && (!out->down_since_ms || ns.down_since_ms < out->down_since_ms)) {
			out->down_since_ms = ns.down_since_ms;
			snprintf(out->last_error, sizeof(out->last_error), "%.40s: %.110s",
				 r->nodes[i]->where, ns.last_error);
		}
	}
	if (out->up)
		out->down_since_ms = 0;
}

int redis_nodes(const struct redis *r)
{
	return r->conf.ncluster ? r->nnodes : 1;
}

int redis_node_stats(const struct redis *r, int i, struct redis_stats *out, const char **addr)
{
	if (!r->conf.ncluster) {
		if (i)
			return -ENOENT;
		redis_stats(r, out);
		*addr = r->where;
		return 0;
	}
	if (i < 0 || i >= r->nnodes)
		return -ENOENT;
	redis_stats(r->nodes[i], out);
	*addr = r->nodes[i]->where;
	return 0;
}

enum redis_mode redis_mode(const struct redis *r)
{
	return cluster_mode(r)	  ? REDIS_MODE_CLUSTER
	       : sentinel_mode(r) ? REDIS_MODE_SENTINEL
				  : REDIS_MODE_SINGLE;
}

const char *redis_mode_name(enum redis_mode m)
{
	return m == REDIS_MODE_CLUSTER	  ? "cluster"
	       : m == REDIS_MODE_SENTINEL ? "sentinel"
					  : "single";
}

const char *redis_master_addr(const struct redis *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (sentinel_mode(r) && r->conf.host[0])
		snprintf(buf, len, strchr(r->conf.host, ':') ? "[%s]:%u" : "%s:%u", r->conf.host,
			 r->conf.port);
	return buf;
}

int redis_sentinel(const struct redis *r, int i, struct redis_sentinel *out)
{
	const struct sprobe *p;
	const struct fg_conf_redis_addr *s;

	if (!sentinel_mode(r) || i < 0 || i >= r->conf.nsentinels)
		return -ENOENT;
	p = &r->probes[i];
	s = &r->conf.sentinels[i];
	memset(out, 0, sizeof(*out));
	snprintf(out->addr, sizeof(out->addr), strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
		 s->port);
	out->reachable = p->reachable;
	out->subscribed = r->ssub && r->ssub_idx == i;
	out->last_ok_ms = p->last_ok_ms;
	snprintf(out->master, sizeof(out->master), "%s", p->master);
	snprintf(out->error, sizeof(out->error), "%s",
		 p->error[0] || p->last_ok_ms ? p->error : "not probed yet");
	return 0;
}

unsigned redis_node_slots(const struct redis *r, int i, char *buf, size_t len)
{
	unsigned count = 0;
	size_t used = 0;
	bool cut = false;
	int lo = -1, slot;

	if (len)
		buf[0] = '\0';
	if (!cluster_mode(r) || i < 0 || i >= r->nnodes || !r->map_known)
		return 0;
	cut = len < 8; /* count only */
	for (slot = 0; slot <= REDIS_SLOTS; slot++) {
		if (slot < REDIS_SLOTS && r->slots[slot] == i) {
			count++;
			lo = lo < 0 ? slot : lo;
			continue;
		}
		if (lo < 0)
			continue;
		/* 24: the longest range and room for "..." after it */
		if (!cut && used + 24 < len)
			used += (size_t)snprintf(buf + used, len - used,
						 lo == slot - 1 ? "%s%d" : "%s%d-%d",
						 used ? "," : "", lo, slot - 1);
		else if (!cut) {
			used += (size_t)snprintf(buf + used, len - used, "...");
			cut = true;
		}
		lo = -1;
	}
	return count;
}
