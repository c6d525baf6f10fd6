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

const uint32_t redis_lat_bounds_us[REDIS_LAT_BUCKETS] = { 100,	250,   500,   1000,  2500,
							  5000, 10000, 25000, 50000, 100000 };

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
	int argc;
	const char **argv; /* copies, in the same allocation */
	size_t *lens;
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
};

static const char *where(const struct redis *r)
{
	return r->conf.url;
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
			redisAsyncHandleRead(r->ctx);
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
	return (uint64_t)((int64_t)clock_realtime_ms() + r->clock_offset_ms);
}

static void on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis *r = ac->data;
	const char *step = privdata;
	redisReply *rp = reply;

	if (!r || ac != r->ctx || !rp)
		return; /* a connection we already dropped */
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
	if (!strncmp(step, "SCRIPT", 6) && rp->type == REDIS_REPLY_STRING && rp->len == 40) {
		int i = atoi(step + 6);

		memcpy(r->sha[i], rp->str, 40);
		r->sha[i][40] = '\0';
	}
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

static redisAsyncContext *open_ctx(struct redis *r, const char **err)
{
	redisAsyncContext *ac;

	if (r->conf.path[0])
		ac = redisAsyncConnectUnix(r->conf.path);
	else
		ac = redisAsyncConnect(r->conf.host, r->conf.port);
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
		const char *argv[] = { "PING" };

		redisAsyncCommandArgv(ac, on_handshake, (void *)"PING", 1, argv, NULL);
		r->hs_left++;
	}
	/* The retry timer is the handshake's deadline while connecting. */
	schedule_retry(r, r->conf.timeout_ms * 5 > HANDSHAKE_MIN_MS ? r->conf.timeout_ms * 5
								    : HANDSHAKE_MIN_MS);
}

static void on_retry(uv_timer_t *t)
{
	struct redis *r = t->data;

	if (r->st == RS_CONNECTING) {
		set_error(r, "no answer to the connection handshake");
		fail(r);
		return;
	}
	if (r->st == RS_DOWN)
		connect_now(r);
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

	if (!r)
		return;
	r->state_fn = NULL;
	ac = r->ctx;
	r->ctx = NULL;
	r->st = RS_DOWN;
	if (ac)
		redisAsyncFree(ac); /* pending callbacks run with NULL */
	drain_end(r, true);
	while (r->head) {
		struct req *q = r->head;

		list_del(r, q);
		answer(q, NULL, "shutting down");
	}
	uv_close((uv_handle_t *)&r->deadline, NULL);
	uv_close((uv_handle_t *)&r->clock, NULL);
	uv_close((uv_handle_t *)&r->drain_timer, NULL);
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
	return r->nscripts++;
}

bool redis_up(const struct redis *r)
{
	return r && r->st == RS_UP;
}

const char *redis_prefix(const struct redis *r)
{
	return r->conf.prefix;
}

void redis_stats(const struct redis *r, struct redis_stats *out)
{
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
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

static void handle_reply(struct redis *r, struct req *q, redisReply *rp)
{
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
		q->argv[0] = "EVAL";
		q->argv[1] = r->scripts[q->script];
		q->lens[0] = 4;
		q->lens[1] = strlen(r->scripts[q->script]);
		if (redisAsyncCommandArgv(r->ctx, on_reply, q, q->argc, q->argv, q->lens) ==
		    REDIS_OK) {
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
		} else if (!q->background) {
			caller_failed(r);
			set_error(r, "error reply: %.100s", rp->str);
		}
	} else {
		if (!q->background)
			r->failures = 0;
		lat_record(&r->stats, (uv_hrtime() - q->sent_ns) / 1000);
	}
	answer(q, rp, rp->type == REDIS_REPLY_ERROR ? rp->str : NULL);
	free(q);
	if (r->ctx && breaker_trips(r))
		go_down(r);
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

static int send_req(struct redis *r, int script, bool background, int argc, const char *const *argv,
		    const size_t *lens, redis_reply_fn cb, void *arg)
{
	size_t total = 0, off;
	struct req *q;
	char *data;
	int i;

	if (r->st != RS_UP || !r->ctx)
		return -EAGAIN;
	if (r->npending >= REDIS_MAX_PENDING) {
		r->stats.errors++;
		return -EAGAIN;
	}
	for (i = 0; i < argc; i++)
		total += lens[i];
	q = malloc(sizeof(*q) + (size_t)argc * (sizeof(char *) + sizeof(size_t)) + total);
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->script = script;
	q->background = background;
	q->argc = argc;
	q->argv = (const char **)(q + 1);
	q->lens = (size_t *)(q->argv + argc);
	data = (char *)(q->lens + argc);
	for (i = 0, off = 0; i < argc; i++) {
		memcpy(data + off, argv[i], lens[i]);
		q->argv[i] = data + off;
		q->lens[i] = lens[i];
		off += lens[i];
	}
	q->deadline = uv_now(r->loop) + r->conf.timeout_ms;
	q->sent_ns = uv_hrtime();
	if (redisAsyncCommandArgv(r->ctx, on_reply, q, argc, q->argv, q->lens) != REDIS_OK) {
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

static int eval(struct redis *r, int script, bool background, const void *key, size_t klen,
		int nargs, const char *const *args, const size_t *lens, redis_reply_fn cb,
		void *arg)
{
	const char *argv[64];
	size_t alen[64];
	int i;

	if (script < 0 || script >= r->nscripts || nargs > 60)
		return -EINVAL;
	argv[0] = "EVALSHA";
	alen[0] = 7;
	argv[1] = r->sha[script];
	alen[1] = 40;
	argv[2] = "1";
	alen[2] = 1;
	argv[3] = key;
	alen[3] = klen;
	for (i = 0; i < nargs; i++) {
		argv[4 + i] = args[i];
		alen[4 + i] = lens ? lens[i] : strlen(args[i]);
	}
	return send_req(r, script, background, 4 + nargs, argv, alen, cb, arg);
}

int redis_eval(struct redis *r, int script, const void *key, size_t klen, int nargs,
	       const char *const *args, const size_t *lens, redis_reply_fn cb, void *arg)
{
	return eval(r, script, false, key, klen, nargs, args, lens, cb, arg);
}

int redis_eval_background(struct redis *r, int script, const void *key, size_t klen, int nargs,
			  const char *const *args, const size_t *lens, redis_reply_fn cb, void *arg)
{
	return eval(r, script, true, key, klen, nargs, args, lens, cb, arg);
}

int redis_evalm(struct redis *r, int script, int nkeys, const void *const *keys,
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
	alen[n++] = (size_t)snprintf(num, sizeof(num), "%d", nkeys);
	for (i = 0; i < nkeys; i++, n++) {
		argv[n] = keys[i];
		alen[n] = klens[i];
	}
	for (i = 0; i < nargs; i++, n++) {
		argv[n] = args[i];
		alen[n] = lens[i];
	}
	return send_req(r, script, false, n, argv, alen, cb, arg);
}

int redis_want_late(struct redis *r, redis_reply_fn late, void *arg)
{
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
	redisAsyncContext *ac = open_ctx(r, &err);
	int n = 0;

	if (!ac)
		return NULL;
	auth_select(r, ac, on_extra_handshake, &n);
	return ac;
}
