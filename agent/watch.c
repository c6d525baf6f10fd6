// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "clock.h"
#include "events.h"
#include "log.h"
#include "server.h"
#include "watch.h"
#include "xdpmaps.h"

#define CHANNEL "violations"

struct watch_stats {
	uint64_t subscribers;  /* now */
	uint64_t pushed_total; /* events sent to subscribers */
	uint64_t missed_total; /* events not sent: a subscriber's output was backed up */
};

/* A subscribed client (its client data). */
struct watch_sub {
	struct watch *w;
	struct client *c;
	uint64_t missed; /* events it did not get since the last one it got */
	struct watch_sub *prev, *next;
};

struct watch {
	uv_loop_t *loop;
	struct events *ev;
	uv_idle_t flush;	   /* runs once after events were pushed */
	bool flush_init, flush_on; /* the handle exists once events flowed */
	struct watch_sub *subs;
	struct watch_stats st;
};

size_t watch_format(char *buf, size_t len, const struct fg_event *e, const char *rule,
		    long long ts_real_ms, uint64_t missed)
{
	char src[FG_CIDR_STRLEN], rule_js[6 * 64 + 8], ts[64], missed_js[40] = "";
	struct fg_cidr c;
	int n;

	cidr_from_src_key(&e->src, &c);
	cidr_format(&c, src, sizeof(src));
	/* rule names are plain, but never trust that */
	log_escape(rule_js, sizeof(rule_js), rule);
	log_format_ts(ts, sizeof(ts), ts_real_ms);
	if (missed)
		snprintf(missed_js, sizeof(missed_js), ",\"missed\":%llu",
			 (unsigned long long)missed);
	n = snprintf(buf, len,
		     "{\"ts\":\"%s\",\"source\":\"%s\",\"rule\":\"%s\",\"level\":\"%s\","
		     "\"reason\":\"%s\",\"new_flows\":%llu,\"dropped\":%llu,\"violations\":%u,"
		     "\"action\":\"%s\",\"ifindex\":%u%s}",
		     ts, src, rule_js, xdpmaps_level_name(e->level), xdpmaps_reason_name(e->reason),
		     (unsigned long long)e->new_flows, (unsigned long long)e->dropped,
		     e->violations, events_action(e), e->ifindex, missed_js);
	return n < 0 ? 0 : (size_t)n;
}

/* The event's wall-clock time: its monotonic stamp moved to CLOCK_REALTIME. */
static long long event_real_ms(const struct fg_event *e)
{
	uint64_t mono = xdpmaps_now_ns(), age;

	age = mono > e->ts_ns ? mono - e->ts_ns : 0;
	return (long long)clock_realtime_ms() - (long long)(age / 1000000);
}

static void on_flush(uv_idle_t *h)
{
	struct watch *w = h->data;
	struct watch_sub *s, *next;

	uv_idle_stop(h);
	w->flush_on = false;
	for (s = w->subs; s; s = next) {
		next = s->next; /* a failed write may close (not free) the client */
		if (!client_is_closed(s->c))
			client_flush(s->c);
	}
}

static void push_one(struct watch_sub *s, const char *payload, size_t len)
{
	reply_push(s->c, 3);
	reply_cstr(s->c, "message");
	reply_cstr(s->c, CHANNEL);
	reply_bulk(s->c, payload, len);
}

static void on_event(const struct fg_event *e, void *arg)
{
	struct watch *w = arg;
	struct watch_sub *s;
	const char *rule;
	char buf[512];
	long long ts;
	size_t n;

	if (!w->subs)
		return;
	rule = events_rule_name(e, w->ev->ids);
	ts = event_real_ms(e);
	n = watch_format(buf, sizeof(buf), e, rule, ts, 0);
	for (s = w->subs; s; s = s->next) {
		if (client_is_closed(s->c))
			continue;
		/* Backed up: miss events rather than grow the buffer. */
		if (client_out_pending(s->c) > WATCH_MAX_PENDING) {
			s->missed++;
			w->st.missed_total++;
			continue;
		}
		if (s->missed) {
			char tmp[512];
			size_t m = watch_format(tmp, sizeof(tmp), e, rule, ts, s->missed);

			push_one(s, tmp, m < sizeof(tmp) ? m : sizeof(tmp) - 1);
			s->missed = 0;
		} else {
			push_one(s, buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
		}
		w->st.pushed_total++;
	}
	if (!w->flush_init) {
		uv_idle_init(w->loop, &w->flush);
		w->flush.data = w;
		w->flush_init = true;
	}
	if (!w->flush_on) {
		w->flush_on = true;
		uv_idle_start(&w->flush, on_flush);
	}
}

static void sub_free(void *data)
{
	struct watch_sub *s = data;
	struct watch *w = s->w;

	if (s->prev)
		s->prev->next = s->next;
	else
		w->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->st.subscribers--;
	free(s);
}

static void subscribe_reply(struct client *c, const char *kind, long long n)
{
	/* as Redis answers SUBSCRIBE: a push in RESP3, an array in RESP2 */
	reply_push(c, 3);
	reply_cstr(c, kind);
	reply_cstr(c, CHANNEL);
	reply_int(c, n);
}

static void cmd_watch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct watch *w = ctx;
	struct watch_sub *s = client_get_data(c);

	(void)argc;
	(void)argv;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			reply_error(c, "ERR out of memory");
			return;
		}
		s->w = w;
		s->c = c;
		s->next = w->subs;
		if (w->subs)
			w->subs->prev = s;
		w->subs = s;
		w->st.subscribers++;
		client_set_data(c, s, sub_free);
		client_set_push(c, true);
	}
	subscribe_reply(c, "subscribe", 1);
}

static void cmd_unwatch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct watch_sub *s = client_get_data(c);

	(void)argc;
	(void)argv;
	(void)ctx;
	if (s) {
		client_set_data(c, NULL, NULL);
		client_set_push(c, false);
		sub_free(s);
	}
	subscribe_reply(c, "unsubscribe", 0);
}

static void info_watch(struct sbuf *out, void *ctx)
{
	struct watch *w = ctx;

	sbuf_printf(out,
		    "watch_subscribers:%llu\r\nwatch_pushed_total:%llu\r\n"
		    "watch_missed_total:%llu\r\n",
		    (unsigned long long)w->st.subscribers, (unsigned long long)w->st.pushed_total,
		    (unsigned long long)w->st.missed_total);
}

struct watch *watch_new(uv_loop_t *loop, struct server *s, struct events *ev)
{
	struct watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->loop = loop;
	w->ev = ev;
	err = server_register(s, "XDP.WATCH", cmd_watch, 1, SERVER_CMD_NOSTATS, w);
	if (!err)
		err = server_register(s, "XDP.UNWATCH", cmd_unwatch, 1, SERVER_CMD_NOSTATS, w);
	if (!err)
		err = server_info_add_section(s, "watch", info_watch, w);
	if (!err)
		err = events_add_tap(ev, on_event, w);
	if (err) {
		free(w);
		errno = -err;
		return NULL;
	}
	return w;
}

void watch_free(struct watch *w)
{
	struct watch_sub *s;

	if (!w)
		return;
	/* clients still there (not yet freed) must not call back into w */
	while ((s = w->subs)) {
		w->subs = s->next;
		client_set_data(s->c, NULL, NULL);
		free(s);
	}
	free(w);
}
