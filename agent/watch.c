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

struct watch_stats {
	uint64_t pushed_total; /* events sent to subscribers (one per subscriber and event) */
	uint64_t missed_total; /* events not sent: a subscriber's output was backed up */
};

struct watch {
	uv_loop_t *loop;
	struct server *srv;
	struct events *ev;
	uv_idle_t flush;	   /* runs once after events were published */
	bool flush_init, flush_on; /* the handle exists once events flowed */
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

	uv_idle_stop(h);
	w->flush_on = false;
	server_pubsub_flush(w->srv);
}

/* The event being published, for the payload of a subscriber that missed
 * some before it. */
struct pub_event {
	const struct fg_event *e;
	const char *rule;
	long long ts;
};

static size_t missed_fmt(char *buf, size_t cap, uint64_t missed, void *arg)
{
	const struct pub_event *p = arg;

	return watch_format(buf, cap, p->e, p->rule, p->ts, missed);
}

static void on_event(const struct fg_event *e, void *arg)
{
	struct watch *w = arg;
	struct server_pub_result r;
	char buf[512], per_rule[SERVER_MAX_CHANNEL_LEN + 1];
	const char *channels[2] = { WATCH_CHANNEL, per_rule };
	struct pub_event pe;
	struct server_msg m;
	size_t n;

	if (!server_subscribers(w->srv))
		return;
	pe.e = e;
	pe.rule = events_rule_name(e, w->ev->ids);
	pe.ts = event_real_ms(e);
	n = watch_format(buf, sizeof(buf), e, pe.rule, pe.ts, 0);
	snprintf(per_rule, sizeof(per_rule), WATCH_CHANNEL ":%s", pe.rule);
	m = (struct server_msg){
		.channels = channels,
		.nchannels = 2,
		.payload = buf,
		.len = n < sizeof(buf) ? n : sizeof(buf) - 1,
		/* backed up: miss events rather than grow the buffer */
		.max_pending = WATCH_MAX_PENDING,
		.missed_fmt = missed_fmt,
		.arg = &pe,
	};
	server_publish(w->srv, &m, &r);
	w->st.pushed_total += r.delivered;
	w->st.missed_total += r.missed;
	if (!r.delivered)
		return;
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

/* XDP.WATCH and XDP.UNWATCH: SUBSCRIBE / UNSUBSCRIBE violations, kept for
 * floodctl watch and scripts written before SUBSCRIBE existed. */
static void cmd_watch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	client_subscribe(c, WATCH_CHANNEL);
}

static void cmd_unwatch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	client_unsubscribe(c, WATCH_CHANNEL);
}

static void info_watch(struct sbuf *out, void *ctx)
{
	struct watch *w = ctx;

	sbuf_printf(out,
		    "watch_subscribers:%llu\r\nwatch_pushed_total:%llu\r\n"
		    "watch_missed_total:%llu\r\n",
		    (unsigned long long)server_subscribers(w->srv),
		    (unsigned long long)w->st.pushed_total, (unsigned long long)w->st.missed_total);
}

struct watch *watch_new(uv_loop_t *loop, struct server *s, struct events *ev)
{
	struct watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->loop = loop;
	w->srv = s;
	w->ev = ev;
	/* open to every socket peer, as SUBSCRIBE (they only read) */
	err = server_register(s, "XDP.WATCH", cmd_watch, 1, SERVER_CMD_PUBSUB, w);
	if (!err)
		err = server_register(s, "XDP.UNWATCH", cmd_unwatch, 1, SERVER_CMD_PUBSUB, w);
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
	free(w);
}
