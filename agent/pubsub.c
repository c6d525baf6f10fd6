// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * pubsub: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE and the publishing
 * side (server_publish), part of the socket server (server_int.h). Replies
 * are Redis's, byte for byte: ["subscribe", channel, count] and the others
 * as RESP2 arrays or RESP3 pushes, count being the client's channels plus
 * patterns. A client's subscriptions are bounded (SERVER_MAX_CHANNELS,
 * SERVER_MAX_PATTERNS, SERVER_MAX_CHANNEL_LEN) and a backed-up subscriber
 * misses messages instead of growing its buffer.
 *
 * A pattern is matched against a channel once, not once per message: a
 * hostile pattern costs tens of microseconds to match, and a few hundred
 * clients holding 64 each would otherwise stall the loop for seconds on
 * every violation event. Channels get small ids as they are first published
 * (there are few: "violations" and one per rule), and each pattern keeps
 * two bitmaps over those ids: matched yet, and matches.
 */
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "server_int.h"

#define CHAN_IDS 128 /* channel ids remembered; then the table starts over */

struct sub {
	char *p;
	size_t len;
	/* patterns: glob_match() per channel id of the table's generation gen */
	uint32_t gen;
	uint64_t seen[CHAN_IDS / 64], hit[CHAN_IDS / 64];
};

struct pubsub_chans {
	char name[CHAN_IDS][SERVER_MAX_CHANNEL_LEN + 1];
	uint32_t n;
	uint32_t gen; /* from 1; bumped when the table starts over: memos are void */
};

struct pubsub_client {
	struct sub ch[SERVER_MAX_CHANNELS];
	struct sub pat[SERVER_MAX_PATTERNS];
	int nch, npat;
	uint64_t missed; /* messages it missed since the last one it got */
};

bool pubsub_subscribed(const struct client *c)
{
	return c->ps && (c->ps->nch || c->ps->npat);
}

uint64_t server_subscribers(const struct server *s)
{
	return s->nsubscribed;
}

static int sub_find(const struct sub *v, int n, const char *p, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i].len == len && !memcmp(v[i].p, p, len))
			return i;
	return -1;
}

/* Subscribed mode follows the count: idle-exempt and "P" in CLIENT LIST. */
static void mode_update(struct client *c, bool was)
{
	bool now = pubsub_subscribed(c);

	if (was == now)
		return;
	if (now)
		c->srv->nsubscribed++;
	else
		c->srv->nsubscribed--;
	client_set_push(c, now);
}

static struct pubsub_client *ps_get(struct client *c)
{
	struct server *s = c->srv;

	if (c->ps)
		return c->ps;
	c->ps = calloc(1, sizeof(*c->ps));
	if (!c->ps)
		return NULL;
	c->sub_prev = NULL;
	c->sub_next = s->subs;
	if (s->subs)
		s->subs->sub_prev = c;
	s->subs = c;
	return c->ps;
}

void pubsub_client_reset(struct client *c)
{
	struct server *s = c->srv;
	struct pubsub_client *ps = c->ps;
	bool was = pubsub_subscribed(c);
	int i;

	if (!ps)
		return;
	for (i = 0; i < ps->nch; i++)
		free(ps->ch[i].p);
	for (i = 0; i < ps->npat; i++)
		free(ps->pat[i].p);
	ps->nch = ps->npat = 0;
	mode_update(c, was);
	if (c->sub_prev)
		c->sub_prev->sub_next = c->sub_next;
	else
		s->subs = c->sub_next;
	if (c->sub_next)
		c->sub_next->sub_prev = c->sub_prev;
	c->sub_prev = c->sub_next = NULL;
	free(ps);
	c->ps = NULL;
}

static long long sub_count(const struct client *c)
{
	return c->ps ? c->ps->nch + c->ps->npat : 0;
}

static void sub_reply(struct client *c, const char *kind, const char *p, size_t len)
{
	reply_push(c, 3);
	reply_cstr(c, kind);
	if (p)
		reply_bulk(c, p, len);
	else
		reply_null(c);
	reply_int(c, sub_count(c));
}

/*
 * Check a (P)SUBSCRIBE's arguments before changing anything, so that a
 * refused command subscribes to none of them: each name within
 * SERVER_MAX_CHANNEL_LEN, and the subscriptions it would add within max.
 */
static bool sub_args_ok(struct client *c, int argc, const struct resp_arg *argv, bool pattern)
{
	const struct sub *have = NULL;
	int i, j, n = 0, fresh = 0, max = pattern ? SERVER_MAX_PATTERNS : SERVER_MAX_CHANNELS;
	const char *what = pattern ? "patterns" : "channels";

	if (c->ps) {
		have = pattern ? c->ps->pat : c->ps->ch;
		n = pattern ? c->ps->npat : c->ps->nch;
	}
	for (i = 1; i < argc; i++)
		if (argv[i].len > SERVER_MAX_CHANNEL_LEN) {
			reply_error(c,
				    "ERR %s longer than %d bytes: nothing subscribed (floodgate's "
				    "limit, docs/api.md)",
				    pattern ? "pattern" : "channel name", SERVER_MAX_CHANNEL_LEN);
			return false;
		}
	/* past max arguments it cannot fit; this also bounds the walk below */
	if (argc - 1 <= max) {
		for (i = 1; i < argc; i++) {
			if (have && sub_find(have, n, argv[i].ptr, argv[i].len) >= 0)
				continue;
			for (j = 1; j < i; j++)
				if (argv[j].len == argv[i].len &&
				    !memcmp(argv[j].ptr, argv[i].ptr, argv[i].len))
					break;
			fresh += j == i;
		}
	}
	if (argc - 1 > max || n + fresh > max) {
		reply_error(c,
			    "ERR too many %s: a client may subscribe to at most %d %s (it has %d): "
			    "nothing subscribed (floodgate's limit, docs/api.md)",
			    what, max, what, n);
		return false;
	}
	return true;
}

static void do_subscribe(struct client *c, int argc, const struct resp_arg *argv, bool pattern)
{
	struct pubsub_client *ps;
	bool was = pubsub_subscribed(c);
	struct sub *v;
	int i, *n;

	if (!sub_args_ok(c, argc, argv, pattern))
		return;
	ps = ps_get(c);
	if (!ps) {
		reply_error(c, "ERR out of memory: nothing subscribed");
		return;
	}
	v = pattern ? ps->pat : ps->ch;
	n = pattern ? &ps->npat : &ps->nch;
	for (i = 1; i < argc; i++) {
		if (sub_find(v, *n, argv[i].ptr, argv[i].len) < 0) {
			char *p = malloc(argv[i].len + 1);

			if (p) {
				memcpy(p, argv[i].ptr, argv[i].len);
				p[argv[i].len] = '\0';
				v[*n] = (struct sub){ .p = p, .len = argv[i].len };
				(*n)++;
			}
			/* out of memory: the count in the reply says it was not added */
		}
		sub_reply(c, pattern ? "psubscribe" : "subscribe", argv[i].ptr, argv[i].len);
	}
	mode_update(c, was);
}

static void sub_remove(struct sub *v, int *n, int i)
{
	free(v[i].p);
	memmove(&v[i], &v[i + 1], (size_t)(*n - i - 1) * sizeof(*v));
	(*n)--;
}

static void do_unsubscribe(struct client *c, int argc, const struct resp_arg *argv, bool pattern)
{
	const char *kind = pattern ? "punsubscribe" : "unsubscribe";
	struct pubsub_client *ps = c->ps;
	bool was = pubsub_subscribed(c);
	struct sub *v = NULL;
	int i, k, *n = NULL;

	if (ps) {
		v = pattern ? ps->pat : ps->ch;
		n = pattern ? &ps->npat : &ps->nch;
	}
	if (argc == 1) {
		/* all of them, each with its reply; none: one reply with a null */
		if (!n || !*n) {
			sub_reply(c, kind, NULL, 0);
			return;
		}
		while (*n) {
			struct sub first = v[0];

			memmove(&v[0], &v[1], (size_t)(*n - 1) * sizeof(*v));
			(*n)--;
			sub_reply(c, kind, first.p, first.len);
			free(first.p);
		}
	} else {
		for (i = 1; i < argc; i++) {
			if (n && (k = sub_find(v, *n, argv[i].ptr, argv[i].len)) >= 0)
				sub_remove(v, n, k);
			sub_reply(c, kind, argv[i].ptr, argv[i].len);
		}
	}
	mode_update(c, was);
}

static void cmd_subscribe(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	do_subscribe(c, argc, argv, false);
}

static void cmd_psubscribe(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	do_subscribe(c, argc, argv, true);
}

static void cmd_unsubscribe(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	do_unsubscribe(c, argc, argv, false);
}

static void cmd_punsubscribe(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	do_unsubscribe(c, argc, argv, true);
}

void client_subscribe(struct client *c, const char *channel)
{
	struct resp_arg argv[2] = { { "subscribe", 9 }, { channel, strlen(channel) } };

	do_subscribe(c, 2, argv, false);
}

void client_unsubscribe(struct client *c, const char *channel)
{
	struct resp_arg argv[2] = { { "unsubscribe", 11 }, { channel, strlen(channel) } };

	do_unsubscribe(c, 2, argv, false);
}

/* The id of channel ch in t (added when new), or -1 for a name too long to be one. */
static int chan_id(struct pubsub_chans *t, const char *ch, size_t len)
{
	uint32_t i;

	if (len > SERVER_MAX_CHANNEL_LEN)
		return -1;
	for (i = 0; i < t->n; i++)
		if (!strncmp(t->name[i], ch, sizeof(t->name[i])))
			return (int)i;
	if (t->n == CHAN_IDS) {
		t->n = 0;
		t->gen++;
	}
	memcpy(t->name[t->n], ch, len + 1);
	return (int)t->n++;
}

/* Whether pattern pt matches channel ch (id in t, or -1: not remembered). */
static bool pat_match(struct sub *pt, const struct pubsub_chans *t, int id, const char *ch,
		      size_t len)
{
	uint64_t bit;
	int w;

	if (!t || id < 0)
		return glob_match(pt->p, pt->len, ch, len);
	if (pt->gen != t->gen) {
		pt->gen = t->gen;
		memset(pt->seen, 0, sizeof(pt->seen));
		memset(pt->hit, 0, sizeof(pt->hit));
	}
	w = id / 64;
	bit = 1ULL << (id % 64);
	if (!(pt->seen[w] & bit)) {
		pt->seen[w] |= bit;
		if (glob_match(pt->p, pt->len, ch, len))
			pt->hit[w] |= bit;
	}
	return pt->hit[w] & bit;
}

#define MSG_IDS 4 /* channels of one message with an id; more are matched each time */

/* Whether m (its channels' ids in ids) has anything for c. */
static bool wants(struct pubsub_client *ps, const struct pubsub_chans *t, const int *ids,
		  const struct server_msg *m)
{
	size_t i;
	int k;

	for (i = 0; i < m->nchannels; i++) {
		size_t len = strlen(m->channels[i]);
		int id = i < MSG_IDS ? ids[i] : -1;

		if (sub_find(ps->ch, ps->nch, m->channels[i], len) >= 0)
			return true;
		for (k = 0; k < ps->npat; k++)
			if (pat_match(&ps->pat[k], t, id, m->channels[i], len))
				return true;
	}
	return false;
}

static void deliver(struct client *c, const struct pubsub_chans *t, const int *ids,
		    const struct server_msg *m, const char *p, size_t len)
{
	struct pubsub_client *ps = c->ps;
	size_t i;
	int k;

	/* as Redis: the channel's subscribers, then its patterns' */
	for (i = 0; i < m->nchannels; i++) {
		const char *ch = m->channels[i];
		size_t chlen = strlen(ch);
		int id = i < MSG_IDS ? ids[i] : -1;

		if (sub_find(ps->ch, ps->nch, ch, chlen) >= 0) {
			reply_push(c, 3);
			reply_cstr(c, "message");
			reply_bulk(c, ch, chlen);
			reply_bulk(c, p, len);
		}
		for (k = 0; k < ps->npat; k++) {
			if (!pat_match(&ps->pat[k], t, id, ch, chlen))
				continue;
			reply_push(c, 4);
			reply_cstr(c, "pmessage");
			reply_bulk(c, ps->pat[k].p, ps->pat[k].len);
			reply_bulk(c, ch, chlen);
			reply_bulk(c, p, len);
		}
	}
}

void server_publish(struct server *s, const struct server_msg *m, struct server_pub_result *r)
{
	struct server_pub_result res = { 0, 0 };
	int ids[MSG_IDS] = { -1, -1, -1, -1 };
	struct push_ctx pc;
	char buf[1024];
	struct client *c;
	size_t i;

	if (!s->chans && (s->chans = calloc(1, sizeof(*s->chans))))
		s->chans->gen = 1;
	for (i = 0; s->chans && i < m->nchannels && i < MSG_IDS; i++) {
		uint32_t gen = s->chans->gen;

		ids[i] = chan_id(s->chans, m->channels[i], strlen(m->channels[i]));
		if (s->chans->gen != gen)
			i = (size_t)-1; /* the table started over: earlier ids are void */
	}
	for (c = s->subs; c; c = c->sub_next) {
		struct pubsub_client *ps = c->ps;

		if (client_is_closed(c) || !wants(ps, s->chans, ids, m))
			continue;
		/* held replies count: they are written once a deferred one is */
		if (client_out_pending(c) + client_held_bytes(c) > m->max_pending ||
		    client_push_begin(c, &pc)) {
			ps->missed++;
			res.missed++;
			continue;
		}
		if (ps->missed && m->missed_fmt) {
			size_t n = m->missed_fmt(buf, sizeof(buf), ps->missed, m->arg);

			deliver(c, s->chans, ids, m, buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
		} else {
			deliver(c, s->chans, ids, m, m->payload, m->len);
		}
		client_push_end(c, &pc);
		ps->missed = 0;
		res.delivered++;
	}
	if (r)
		*r = res;
}

void server_pubsub_flush(struct server *s)
{
	struct client *c, *next;

	for (c = s->subs; c; c = next) {
		next = c->sub_next; /* a failed write closes c: it leaves the list */
		if (!client_is_closed(c))
			client_flush(c);
	}
}

/* In this order in COMMAND and the per-command stats, after the connection
 * commands. */
static const struct {
	const char *name;
	server_cmd_fn fn;
	int arity;
} pubsub_cmds[] = {
	{ "subscribe", cmd_subscribe, -2 },
	{ "psubscribe", cmd_psubscribe, -2 },
	{ "unsubscribe", cmd_unsubscribe, -1 },
	{ "punsubscribe", cmd_punsubscribe, -1 },
};

int pubsub_register(struct server *s)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(pubsub_cmds) / sizeof(pubsub_cmds[0]); i++) {
		err = server_register(s, pubsub_cmds[i].name, pubsub_cmds[i].fn,
				      pubsub_cmds[i].arity, SERVER_CMD_PUBSUB, NULL);
		if (err)
			return err;
	}
	return 0;
}
