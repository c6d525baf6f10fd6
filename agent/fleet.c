// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <hiredis/async.h>

#include "banguard.h"
#include "fleet.h"
#include "log.h"
#include "tbucket.h"
#include "vouch.h"

#define SUB_RETRY_MS 1000
/* A walk's threshold is this much before the walk began: the programs stamp
 * tcp_ns with a coarse clock that may lag CLOCK_MONOTONIC by a tick. */
#define TCP_WALK_SLACK_NS (20 * 1000000ULL)
#define TCP_WALK_BATCH	  1024
/* Batches a tick walks at most: the walk runs on the agent's one thread,
 * and a full default map (278,528 entries) read in one go took ~77 ms, a
 * stall of every socket reply. 16 batches is ~4.5 ms; a map of more than
 * 16,384 entries is walked over several ticks. */
#define TCP_WALK_BATCHES_PER_TICK 16
/* Unbans and unvouches kept while Redis is away, to publish on its return;
 * more are dropped (and logged): each is a linear search on every ban made
 * meanwhile, and an outage with more lifts than this is an operator's to
 * redo. */
#ifndef FLEET_MAX_LIFTS
#define FLEET_MAX_LIFTS 4096
#endif

/* Members the channel changed while a load of the sets was under way, left
 * as the messages left them; more and the load removes nothing. */
#ifndef FLEET_MAX_TOUCHED
#define FLEET_MAX_TOUCHED 1024
#endif

/* An unban or unvouch made while Redis was away; a member a message
 * changed during a load. */
struct lift {
	struct fg_cidr c;
	bool vouch; /* an unvouch; else an unban */
};

struct fleet {
	uv_loop_t *loop;
	struct redis *r;
	struct xdpmaps *maps;
	struct banguard *guard; /* refuses bans of our own, special, allow-listed addresses */
	struct vouch *vouch;	/* checks and counts others' vouches; NULL: not shared */
	redisAsyncContext *sub;
	uv_timer_t timer; /* keeps the subscriber connected */
	char host[64];
	char set[96];
	char vset[96]; /* <prefix>:vouches */
	char channel[96];
	uint32_t share_tcp;	     /* TCP verifications published a second (0: none) */
	struct tbucket tcp_bucket;   /* ... as share_tcp and share_tcp_burst let them */
	bool tcp_bucket_set;	     /* made (full) by the first fleet_set_share_tcp() */
	uint64_t tcp_since;	     /* the next pass publishes tcp_ns newer than this */
	uint64_t tcp_pass_since;     /* this pass publishes tcp_ns newer than this */
	__u32 tcp_cursor;	     /* where this pass goes on (bpf_map_lookup_batch) */
	bool tcp_walking;	     /* a pass is under way */
	struct fg_src_key *tcp_keys; /* the walk's batch buffers */
	struct fg_verified *tcp_vals;
	struct log_gate malformed_gate; /* "malformed" lines: at most one a second */
	struct log_gate ban_gate, vouch_gate, tcp_gate; /* refusals of each: the same */
	struct log_gate failed_gate;	 /* sets that refused a member: the same */
	struct log_gate lifts_gate;	/* "lift dropped" lines: the same */
	struct lift *lifts;		/* made while Redis was away, oldest first */
	uint32_t nlifts, lifts_cap;
	uint32_t loads;				/* loads of the sets under way */
	struct lift touched[FLEET_MAX_TOUCHED]; /* by messages since the first of them */
	uint32_t ntouched;
	bool touched_over; /* more than FLEET_MAX_TOUCHED: remove nothing */
	struct fleet_stats stats;
};

/* A message refused for its form: a line at most once a second (a writer of
 * the shared Redis may send thousands), with how many were not logged. */
static void refused_log(struct fleet *f, const char *msg, const char *member, const char *until)
{
	uint64_t suppressed;

	if (log_gate_due(&f->malformed_gate, xdpmaps_now_ns(), &suppressed))
		log_warn(msg, LOG_STR("source", member), LOG_STR("end", until),
			 LOG_UINT("suppressed", suppressed));
}

static int lift_find(const struct fleet *f, const struct fg_cidr *c, bool vouch)
{
	uint32_t i;

	for (i = 0; i < f->nlifts; i++)
		if (f->lifts[i].vouch == vouch && cidr_equal(&f->lifts[i].c, c))
			return (int)i;
	return -1;
}

/* A ban or vouch of c made again: a lift of it still waiting is void (the
 * ban or vouch is what this host holds now, and what it publishes). */
static void lift_forget(struct fleet *f, const struct fg_cidr *c, bool vouch)
{
	int i = f->nlifts ? lift_find(f, c, vouch) : -1;

	if (i < 0)
		return;
	memmove(&f->lifts[i], &f->lifts[i + 1], (f->nlifts - (uint32_t)i - 1) * sizeof(*f->lifts));
	f->nlifts--;
}

/* An unban or unvouch of c made while Redis is away: kept for
 * fleet_redis_up(), which removes it from the shared set and announces it
 * before it loads the set (else the set gave the ban or vouch back). */
static void lift_keep(struct fleet *f, const struct fg_cidr *c, bool vouch)
{
	char buf[FG_CIDR_STRLEN];
	uint64_t suppressed;

	if (lift_find(f, c, vouch) >= 0)
		return;
	if (f->nlifts == f->lifts_cap && f->lifts_cap < FLEET_MAX_LIFTS) {
		uint32_t cap = f->lifts_cap ? f->lifts_cap * 2 : 64;
		struct lift *l = realloc(f->lifts, cap * sizeof(*l));

		if (l) {
			f->lifts = l;
			f->lifts_cap = cap;
		}
	}
	if (f->nlifts == f->lifts_cap) {
		if (log_gate_due(&f->lifts_gate, xdpmaps_now_ns(), &suppressed))
			log_warn("fleet: Redis away and too many lifts kept: this one stays local "
				 "(the shared set may give it back)",
				 LOG_STR("kind", vouch ? "unvouch" : "unban"),
				 LOG_STR("source", cidr_format(c, buf, sizeof(buf))),
				 LOG_UINT("kept", f->nlifts), LOG_UINT("suppressed", suppressed));
		return;
	}
	f->lifts[f->nlifts++] = (struct lift){ .c = *c, .vouch = vouch };
}

/* A message changed c (vouch: the vouch set's kind) while a load is under
 * way: its reply may be older than the message, and must not undo it. */
static void touch(struct fleet *f, const struct fg_cidr *c, bool vouch)
{
	if (!f->loads)
		return;
	if (f->ntouched == FLEET_MAX_TOUCHED) {
		f->touched_over = true;
		return;
	}
	f->touched[f->ntouched++] = (struct lift){ .c = *c, .vouch = vouch };
}

static bool touched(const struct fleet *f, const struct fg_cidr *c, bool vouch)
{
	uint32_t i;

	for (i = 0; i < f->ntouched; i++)
		if (f->touched[i].vouch == vouch && cidr_equal(&f->touched[i].c, c))
			return true;
	return false;
}

/* A member added to or removed from a set: published once Redis says so;
 * an error (OOM, READONLY...) or no answer is logged, at most once a second,
 * and counted as failed (the message went out all the same). */
static void on_set_write(redisReply *rp, const char *why, void *arg)
{
	struct fleet *f = arg;
	const char *err = why ? why : "?";
	uint64_t suppressed;

	if (rp && rp->type != REDIS_REPLY_ERROR) {
		f->stats.published++;
		return;
	}
	if (rp)
		err = rp->str;
	f->stats.failed++;
	if (log_gate_due(&f->failed_gate, xdpmaps_now_ns(), &suppressed))
		log_warn("fleet: the shared set was not updated: agents that load it later miss "
			 "this change",
			 LOG_STR("error", err), LOG_UINT("suppressed", suppressed));
}

static void on_ignore(redisReply *rp, const char *why, void *arg)
{
	(void)arg;
	if (!rp || rp->type == REDIS_REPLY_ERROR)
		log_debug("fleet: redis command failed", LOG_STR("why", why ? why : "?"));
}

/* Add member to set (score: until_ms, 0 = +inf) and publish "<kind> <host>
 * <member> <until ms>", or remove it and publish "un<kind> <host> <member>". */
static void publish_in(struct fleet *f, const char *set, const char *kind, const char *member,
		       uint64_t until_ms, bool add)
{
	char msg[160], score[32], now[32];
	const char *pub[] = { "PUBLISH", f->channel, msg };
	const char *zadd[] = { "ZADD", set, score, member };
	const char *zrem[] = { "ZREM", set, member };
	const char *trim[] = { "ZREMRANGEBYSCORE", set, "-inf", now };

	if (!redis_up(f->r))
		return; /* published on the next connect (fleet_redis_up) */
	if (add) {
		snprintf(msg, sizeof(msg), "%s %s %s %llu", kind, f->host, member,
			 (unsigned long long)until_ms);
		if (until_ms)
			snprintf(score, sizeof(score), "%llu", (unsigned long long)until_ms);
		else
			strcpy(score, "+inf");
		redis_command(f->r, 4, zadd, NULL, on_set_write, f);
		snprintf(now, sizeof(now), "(%llu", (unsigned long long)redis_now_ms(f->r));
		redis_command(f->r, 4, trim, NULL, on_ignore, NULL);
	} else {
		snprintf(msg, sizeof(msg), "un%s %s %s", kind, f->host, member);
		redis_command(f->r, 3, zrem, NULL, on_set_write, f);
	}
	redis_command(f->r, 3, pub, NULL, on_ignore, NULL);
}

static void publish(struct fleet *f, const char *cidr, uint64_t until_ms, bool ban)
{
	publish_in(f, f->set, "ban", cidr, until_ms, ban);
}

/* A vouch (until_ms > 0) or an unvouch, as publish() does a ban. */
static void publish_vouch(struct fleet *f, const char *addr, uint64_t until_ms, bool vouch)
{
	publish_in(f, f->vset, "vouch", addr, until_ms, vouch);
}

void fleet_vouch(struct fleet *f, const struct fg_cidr *c, uint64_t seconds)
{
	char buf[FG_CIDR_STRLEN];

	if (f)
		lift_forget(f, c, true);
	if (f && f->vouch && seconds)
		publish_vouch(f, cidr_format(c, buf, sizeof(buf)),
			      redis_now_ms(f->r) + seconds * 1000, true);
}

void fleet_set_share_tcp(struct fleet *f, uint32_t per_second, uint32_t burst)
{
	if (!f)
		return;
	f->share_tcp = per_second;
	if (!burst)
		burst = per_second;
	/* full at first; a reload keeps what the bucket holds */
	if (f->tcp_bucket_set)
		tbucket_set(&f->tcp_bucket, per_second, burst);
	else
		tbucket_init(&f->tcp_bucket, per_second, burst, xdpmaps_now_ns());
	f->tcp_bucket_set = true;
}

/* Only PUBLISH, no sorted set: a TCP proof is renewed by traffic, and a
 * set of them would be a second verified map in Redis. */
static void publish_tcp(struct fleet *f, const struct fg_src_key *k)
{
	char msg[160], buf[FG_CIDR_STRLEN];
	const char *pub[] = { "PUBLISH", f->channel, msg };
	struct fg_cidr c;

	cidr_from_src_key(k, &c);
	snprintf(msg, sizeof(msg), "tcp %s %s", f->host, cidr_format(&c, buf, sizeof(buf)));
	redis_command(f->r, 3, pub, NULL, on_ignore, NULL);
	f->stats.tcp_published++;
}

/* One batch: publish the entries proven over TCP since the last walk, as
 * the token bucket lets them through at now_ns. Entries with no TCP proof
 * (vouches, the fleet's) are never published, so nothing that came from
 * the fleet goes back to it. */
static void share_batch(struct fleet *f, __u32 count, uint64_t since, uint64_t now_ns)
{
	__u32 i;

	for (i = 0; i < count; i++) {
		if (!f->tcp_vals[i].tcp_ns || f->tcp_vals[i].tcp_ns <= since)
			continue;
		if (!tbucket_take(&f->tcp_bucket, now_ns)) {
			f->stats.tcp_suppressed++;
			continue;
		}
		publish_tcp(f, &f->tcp_keys[i]);
	}
}

int fleet_share_tcp(struct fleet *f, uint64_t now_ns)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 out_batch = 0, count;
	bool first = false;
	int n, err;

	if (!f || !f->maps || !f->share_tcp || !f->vouch || f->maps->verified < 0)
		return 0;
	if (!f->tcp_walking) {
		/* A new pass publishes what was proven since the last one began
		 * (entries proven behind its cursor are caught now; some are
		 * published twice, which receivers take as a renewal). */
		f->tcp_pass_since = f->tcp_since;
		f->tcp_since = now_ns > TCP_WALK_SLACK_NS ? now_ns - TCP_WALK_SLACK_NS : 0;
		if (!redis_up(f->r))
			return 0; /* proofs made while Redis is away stay local */
		f->tcp_walking = true;
		first = true;
	} else if (!redis_up(f->r)) {
		f->tcp_walking = false;
		return 0;
	}
	if (!f->tcp_keys) {
		f->tcp_keys = calloc(TCP_WALK_BATCH, sizeof(*f->tcp_keys));
		f->tcp_vals = calloc(TCP_WALK_BATCH, sizeof(*f->tcp_vals));
		if (!f->tcp_keys || !f->tcp_vals) {
			f->tcp_walking = false;
			return -ENOMEM;
		}
	}
	for (n = 0; n < TCP_WALK_BATCHES_PER_TICK; n++) {
		count = TCP_WALK_BATCH;
		err = bpf_map_lookup_batch(f->maps->verified, first ? NULL : &f->tcp_cursor,
					   &out_batch, f->tcp_keys, f->tcp_vals, &count, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			f->tcp_walking = false;
			return err;
		}
		share_batch(f, count, f->tcp_pass_since, now_ns);
		if (err) { /* ENOENT: that was the last batch */
			f->tcp_walking = false;
			return 0;
		}
		f->tcp_cursor = out_batch;
		first = false;
	}
	return 0; /* the pass goes on at the next tick */
}

void fleet_unvouch(struct fleet *f, const struct fg_cidr *c)
{
	char buf[FG_CIDR_STRLEN];

	if (!f || !f->vouch)
		return;
	if (redis_up(f->r))
		publish_vouch(f, cidr_format(c, buf, sizeof(buf)), 0, false);
	else
		lift_keep(f, c, true);
}

/* Another agent's vouch, through this host's vouch guard (never a prefix,
 * our own, special, denied or banned address; within vouch.max). Its end is
 * on Redis's clock, as a ban's. */
static void apply_vouch(struct fleet *f, const char *addr, const char *until)
{
	uint64_t end = strtoull(until, NULL, 10), now = redis_now_ms(f->r), suppressed;
	enum vouch_result res;
	struct fg_cidr c;

	if (!f->vouch || cidr_parse_addr(addr, &c) || end <= now)
		return;
	if (vouch_add_fleet(f->vouch, f->guard, f->maps, &c, end - now, xdpmaps_now_ns(), &res)) {
		f->stats.refused++;
		if (log_gate_due(&f->vouch_gate, xdpmaps_now_ns(), &suppressed))
			log_warn("fleet vouch refused", LOG_STR("source", addr),
				 LOG_STR("result", vouch_result_name(res)),
				 LOG_UINT("suppressed", suppressed));
		return;
	}
	f->stats.applied++;
	log_debug("fleet vouch", LOG_STR("source", addr), LOG_UINT("for_s", (end - now) / 1000));
}

/* Another agent's TCP proof: a fleet vouch for this host's verified_ttl
 * (the default duration), through the same guard. */
static void apply_tcp(struct fleet *f, const char *addr)
{
	enum vouch_result res;
	uint64_t suppressed;
	struct fg_cidr c;

	if (!f->vouch || cidr_parse_addr(addr, &c))
		return;
	if (vouch_add_fleet(f->vouch, f->guard, f->maps, &c, 0, xdpmaps_now_ns(), &res)) {
		f->stats.refused++;
		if (log_gate_due(&f->tcp_gate, xdpmaps_now_ns(), &suppressed))
			log_warn("fleet TCP verification refused", LOG_STR("source", addr),
				 LOG_STR("result", vouch_result_name(res)),
				 LOG_UINT("suppressed", suppressed));
		return;
	}
	f->stats.applied++;
	log_debug("fleet TCP verification", LOG_STR("source", addr));
}

void fleet_ban(struct fleet *f, const struct fg_cidr *c, uint64_t seconds)
{
	char buf[FG_CIDR_STRLEN];

	if (!f)
		return;
	lift_forget(f, c, false);
	publish(f, cidr_format(c, buf, sizeof(buf)),
		seconds ? redis_now_ms(f->r) + seconds * 1000 : 0, true);
}

void fleet_unban(struct fleet *f, const struct fg_cidr *c)
{
	char buf[FG_CIDR_STRLEN];

	if (!f)
		return;
	if (redis_up(f->r))
		publish(f, cidr_format(c, buf, sizeof(buf)), 0, false);
	else
		lift_keep(f, c, false);
}

/* When a ban ends (0: never) on Redis's clock, from its monotonic expiry. */
static uint64_t ban_end_ms(const struct fleet *f, const struct fg_ban *b)
{
	uint64_t mono = xdpmaps_now_ns();

	if (!b->expires_ns)
		return 0;
	return redis_now_ms(f->r) + (b->expires_ns > mono ? (b->expires_ns - mono) / 1000000 : 0);
}

void fleet_event(struct fleet *f, const struct fg_event *e)
{
	struct fg_cidr c;
	struct fg_ban b;
	char buf[FG_CIDR_STRLEN];

	if (!f || !f->maps || !(e->banned & FG_EV_BAN_DONE) || e->dry_run)
		return;
	cidr_from_src_key(&e->src, &c);
	if (xdpmaps_ban_get(f->maps, &c, &b) || b.origin != FG_BAN_AUTO)
		return;
	lift_forget(f, &c, false);
	publish(f, cidr_format(&c, buf, sizeof(buf)), ban_end_ms(f, &b), true);
}

/*
 * A ban's end as another host wrote it (Unix ms; "0", "inf" or "+inf": no
 * end) into *ms (0: no end). An integer too large for 64 bits, or a score
 * Redis prints with an exponent, is UINT64_MAX (the caller caps it).
 * Anything else (a sign, garbage, nan) is -EINVAL: strtoull() took "-1" for
 * 2^64 - 1 and "garbage" for 0, no end.
 */
static int parse_end(const char *s, uint64_t *ms)
{
	char *end;
	double d;

	if (!strcmp(s, "inf") || !strcmp(s, "+inf")) {
		*ms = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	*ms = strtoull(s, &end, 10);
	if (!*end)
		return 0; /* ERANGE: UINT64_MAX */
	d = strtod(s, &end);
	if (*end || !(d >= 0))
		return -EINVAL;
	*ms = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
	return 0;
}

/* Apply another host's ban, unless a local one already covers it. Its end
 * is capped to the longest local ban (XDP_BAN_MAX_S); a malformed one drops
 * it. */
static void apply_ban(struct fleet *f, const char *cidr, const char *until)
{
	uint64_t end, now = redis_now_ms(f->r), secs = 0, suppressed;
	struct fg_cidr c;
	struct fg_ban b;
	int err;

	if (cidr_parse(cidr, &c))
		return;
	if (parse_end(until, &end)) {
		f->stats.refused++;
		refused_log(f, "fleet ban refused: malformed end", cidr, until);
		return;
	}
	if (end) {
		if (end <= now)
			return;
		/* in s, rounded up, without overflowing near UINT64_MAX */
		secs = (end - now) / 1000 + ((end - now) % 1000 != 0);
		if (secs > XDP_BAN_MAX_S)
			secs = XDP_BAN_MAX_S;
	}
	/* Another host's word is no better than a local app's: never our own
	 * addresses (a prefix holding one included), special or allow-listed. */
	if (f->guard && banguard_address_refused(f->guard, f->maps, &c, xdpmaps_now_ns())) {
		f->stats.refused++;
		if (log_gate_due(&f->ban_gate, xdpmaps_now_ns(), &suppressed))
			log_warn("fleet ban refused: own, special or allow-listed address",
				 LOG_STR("source", cidr), LOG_UINT("suppressed", suppressed));
		return;
	}
	if (!xdpmaps_banned(f->maps, &c, xdpmaps_now_ns(), &b) && b.origin != FG_BAN_FLEET)
		return;
	err = xdpmaps_ban(f->maps, &c, secs, FG_BAN_FLEET);
	if (err) {
		log_warn("fleet ban failed", LOG_STR("source", cidr), LOG_ERRNO(-err));
		return;
	}
	f->stats.applied++;
	log_info("fleet ban", LOG_STR("source", cidr), LOG_UINT("for_s", secs));
}

static void load_sets(struct fleet *f);

static void on_message(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct fleet *f = privdata;
	redisReply *rp = reply, *m;
	char kind[8], host[64], cidr[FG_CIDR_STRLEN + 8], until[32] = "0";
	struct fg_cidr c;
	int n;

	if (!rp || rp->type != REDIS_REPLY_ARRAY || rp->elements != 3)
		return;
	if (rp->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(rp->element[0]->str, "message")) {
		if (!strcmp(rp->element[0]->str, "subscribe") && ac == f->sub) {
			f->stats.subscribed = true;
			load_sets(f);
		}
		return;
	}
	m = rp->element[2];
	if (m->type != REDIS_REPLY_STRING)
		return;
	n = sscanf(m->str, "%7s %63s %57s %31s", kind, host, cidr, until);
	if (n < 3)
		return;
	if (!strcmp(host, f->host)) {
		f->stats.own++;
		return;
	}
	if (f->loads && !cidr_parse(cidr, &c))
		touch(f, &c, strcmp(kind, "ban") && strcmp(kind, "unban"));
	if (!strcmp(kind, "ban") && n == 4) {
		apply_ban(f, cidr, until);
	} else if (!strcmp(kind, "vouch") && n == 4) {
		apply_vouch(f, cidr, until);
	} else if (!strcmp(kind, "tcp")) {
		apply_tcp(f, cidr);
	} else if (!strcmp(kind, "unvouch") && f->vouch && !cidr_parse_addr(cidr, &c)) {
		if (!vouch_remove(f->vouch, f->maps, &c, xdpmaps_now_ns()))
			f->stats.unbanned++;
	} else if (!strcmp(kind, "unban") && !cidr_parse(cidr, &c)) {
		if (!xdpmaps_unban(f->maps, &c)) {
			f->stats.unbanned++;
			log_info("fleet unban", LOG_STR("source", cidr));
		}
	}
}

static void on_sub_disconnect(const redisAsyncContext *ac, int status)
{
	struct fleet *f = ac->data;

	(void)status;
	if (f && f->sub == ac) {
		f->sub = NULL;
		f->stats.subscribed = false;
	}
}

static void on_sub_connect(const redisAsyncContext *ac, int status)
{
	struct fleet *f = ac->data;

	if (status != REDIS_OK && f && f->sub == ac) {
		f->sub = NULL; /* hiredis frees it */
		f->stats.subscribed = false;
	}
}

static void subscribe(struct fleet *f)
{
	redisAsyncContext *ac;

	if (f->sub || !redis_up(f->r))
		return;
	ac = redis_connect_extra(f->r);
	if (!ac)
		return;
	ac->data = f;
	redisAsyncSetConnectCallback(ac, on_sub_connect);
	redisAsyncSetDisconnectCallback(ac, on_sub_disconnect);
	f->sub = ac;
	redisAsyncCommand(ac, on_message, f, "SUBSCRIBE %s", f->channel);
}

static void on_timer(uv_timer_t *t)
{
	subscribe(t->data);
}

static int cidr_cmp(const void *pa, const void *pb)
{
	const struct fg_cidr *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefixlen != b->prefixlen)
		return a->prefixlen < b->prefixlen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* What a load of a set removes: the fleet's entries here that the set no
 * longer holds (sorted in keep) and no message changed meanwhile. */
struct stale {
	struct fleet *f;
	bool vouch;
	const struct fg_cidr *keep;
	size_t nkeep;
	struct fg_cidr *out;
	size_t n, cap;
};

static void stale_add(struct stale *st, const struct fg_cidr *c)
{
	if (bsearch(c, st->keep, st->nkeep, sizeof(*st->keep), cidr_cmp) ||
	    touched(st->f, c, st->vouch))
		return;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct fg_cidr *o = realloc(st->out, cap * sizeof(*o));

		if (!o)
			return; /* stays until the next load */
		st->out = o;
		st->cap = cap;
	}
	st->out[st->n++] = *c;
}

static int stale_ban(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	if (ban && ban->origin == FG_BAN_FLEET)
		stale_add(arg, c);
	return 0;
}

static void stale_vouch(const struct fg_cidr *c, uint64_t until_ns, void *arg)
{
	(void)until_ns;
	stale_add(arg, c);
}

/*
 * Remove the fleet's bans (vouch: vouches) that the set, whose members are
 * keep, no longer holds: their unban was published while this agent was
 * not subscribed (a reconnect), and no message will ever tell it again.
 * Only origin fleet: this host's own bans and vouches are its own.
 */
static void reconcile(struct fleet *f, bool vouch, const struct fg_cidr *keep, size_t nkeep)
{
	struct stale st = { .f = f, .vouch = vouch, .keep = keep, .nkeep = nkeep };
	char buf[FG_CIDR_STRLEN];
	size_t i, gone = 0;

	if (vouch)
		vouch_each_fleet(f->vouch, stale_vouch, &st);
	else
		xdpmaps_bans_each(f->maps, stale_ban, &st);
	for (i = 0; i < st.n; i++) {
		if (vouch ? vouch_remove(f->vouch, f->maps, &st.out[i], xdpmaps_now_ns())
			  : xdpmaps_unban(f->maps, &st.out[i]))
			continue;
		f->stats.unbanned++;
		gone++;
		log_debug(vouch ? "fleet unvouch: not in the shared set"
				: "fleet unban: not in the shared set",
			  LOG_STR("source", cidr_format(&st.out[i], buf, sizeof(buf))));
	}
	if (gone)
		log_info("fleet: entries the shared set no longer holds removed",
			 LOG_STR("set", vouch ? "vouch" : "ban"), LOG_UINT("removed", gone));
	free(st.out);
}

/* A ZRANGEBYSCORE ... WITHSCORES reply: apply each (member, score) but those
 * a message changed since the load was sent, then reconcile(). */
static void load_set(struct fleet *f, redisReply *rp, const char *why, bool vouch,
		     void (*apply)(struct fleet *f, const char *member, const char *score))
{
	const char *what = vouch ? "vouch" : "ban";
	struct fg_cidr *keep = NULL;
	size_t i, nkeep = 0;

	if (!rp || rp->type != REDIS_REPLY_ARRAY) {
		log_warn("fleet: cannot load a shared set", LOG_STR("set", what),
			 LOG_STR("why", why ? why : "?"));
		return;
	}
	keep = calloc(rp->elements / 2 + 1, sizeof(*keep));
	for (i = 0; i + 1 < rp->elements; i += 2) {
		struct fg_cidr c;

		if (rp->element[i]->type != REDIS_REPLY_STRING ||
		    rp->element[i + 1]->type != REDIS_REPLY_STRING ||
		    cidr_parse(rp->element[i]->str, &c))
			continue;
		/* kept even when refused: what the set holds is not stale */
		if (keep)
			keep[nkeep++] = c;
		if (!touched(f, &c, vouch))
			apply(f, rp->element[i]->str, rp->element[i + 1]->str);
	}
	log_info("fleet: shared set loaded", LOG_STR("set", what),
		 LOG_UINT("members", rp->elements / 2));
	/* out of memory or too many messages meanwhile: remove nothing */
	if (keep && !f->touched_over) {
		qsort(keep, nkeep, sizeof(*keep), cidr_cmp);
		reconcile(f, vouch, keep, nkeep);
	}
	free(keep);
}

static void load_done(struct fleet *f)
{
	if (f->loads && !--f->loads) {
		f->ntouched = 0;
		f->touched_over = false;
	}
}

static void on_set(redisReply *rp, const char *why, void *arg)
{
	load_set(arg, rp, why, false, apply_ban);
	load_done(arg);
}

static void on_vset(redisReply *rp, const char *why, void *arg)
{
	load_set(arg, rp, why, true, apply_vouch);
	load_done(arg);
}

/*
 * Load both sets whole: at every (re)subscribe, once the subscription is
 * confirmed, so a ban published while this agent was not subscribed is
 * read from the set, and one published from now on arrives as a message.
 */
static void load_sets(struct fleet *f)
{
	char min[32];
	const char *load[5] = { "ZRANGEBYSCORE", f->set, min, "+inf", "WITHSCORES" };

	if (!f->maps || !redis_up(f->r))
		return;
	snprintf(min, sizeof(min), "(%llu", (unsigned long long)redis_now_ms(f->r));
	if (!redis_command(f->r, 5, load, NULL, on_set, f))
		f->loads++;
	if (f->vouch) {
		load[1] = f->vset;
		if (!redis_command(f->r, 5, load, NULL, on_vset, f))
			f->loads++;
	}
}

static void push_own_vouch(const struct fg_cidr *c, uint64_t until_ns, void *arg)
{
	struct fleet *f = arg;
	uint64_t mono = xdpmaps_now_ns();
	char buf[FG_CIDR_STRLEN];

	publish_vouch(f, cidr_format(c, buf, sizeof(buf)),
		      redis_now_ms(f->r) + (until_ns > mono ? (until_ns - mono) / 1000000 : 0),
		      true);
}

static int push_own(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	struct fleet *f = arg;
	char buf[FG_CIDR_STRLEN];

	if (ban && ban->origin != FG_BAN_FLEET && xdpmaps_ban_live(ban, xdpmaps_now_ns()))
		publish(f, cidr_format(c, buf, sizeof(buf)), ban_end_ms(f, ban), true);
	return 0;
}

/* The lifts made while Redis was away: ZREM and "un..." each, oldest first. */
static void publish_lifts(struct fleet *f)
{
	char buf[FG_CIDR_STRLEN];
	uint32_t i;

	if (!f->nlifts)
		return;
	for (i = 0; i < f->nlifts; i++) {
		cidr_format(&f->lifts[i].c, buf, sizeof(buf));
		if (f->lifts[i].vouch)
			publish_vouch(f, buf, 0, false);
		else
			publish(f, buf, 0, false);
	}
	log_info("fleet: unbans and unvouches made while Redis was away published",
		 LOG_UINT("count", f->nlifts));
	f->nlifts = 0;
}

void fleet_redis_up(struct fleet *f)
{
	if (!f)
		return;
	/* Before the set is read again (commands on one connection run in
	 * order): else it gave back what was lifted. */
	if (redis_up(f->r))
		publish_lifts(f);
	if (!f->maps) {
		/* Publish only: nothing here to apply the fleet's word to. */
		if (f->vouch)
			vouch_each_local(f->vouch, xdpmaps_now_ns(), push_own_vouch, f);
		return;
	}
	/* A new connection may be to another server (a Sentinel fail-over):
	 * subscribe anew there, so bans published on the new master arrive. */
	if (f->sub) {
		redisAsyncContext *ac = f->sub;

		f->sub = NULL;
		f->stats.subscribed = false;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	xdpmaps_bans_each(f->maps, push_own, f);
	if (f->vouch)
		vouch_each_local(f->vouch, xdpmaps_now_ns(), push_own_vouch, f);
	/* The sets are loaded once the subscription is confirmed (load_sets()),
	 * after what was just sent. */
	subscribe(f);
}

void fleet_set_vouch(struct fleet *f, struct vouch *v)
{
	if (f)
		f->vouch = v;
}

void fleet_set_guard(struct fleet *f, struct banguard *g)
{
	if (f)
		f->guard = g;
}

struct fleet *fleet_new(uv_loop_t *loop, struct redis *r, struct xdpmaps *maps)
{
	struct fleet *f = calloc(1, sizeof(*f));
	char hn[32] = "host";
	uint32_t rnd = 0;

	if (!f)
		return NULL;
	f->loop = loop;
	f->r = r;
	f->maps = maps;
	/* Proofs older than the agent were made before it could share them. */
	f->tcp_since = xdpmaps_now_ns();
	gethostname(hn, sizeof(hn) - 1);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)xdpmaps_now_ns();
	snprintf(f->host, sizeof(f->host), "%.31s-%d-%08x", hn, (int)getpid(), rnd);
	snprintf(f->set, sizeof(f->set), "%s:bans", redis_prefix(r));
	snprintf(f->vset, sizeof(f->vset), "%s:vouches", redis_prefix(r));
	snprintf(f->channel, sizeof(f->channel), "%s:bans:events", redis_prefix(r));
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	if (maps)
		uv_timer_start(&f->timer, on_timer, SUB_RETRY_MS, SUB_RETRY_MS);
	return f;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct fleet *f = h->data;

	free(f->tcp_keys);
	free(f->tcp_vals);
	free(f->lifts);
	free(f);
}

void fleet_free(struct fleet *f)
{
	redisAsyncContext *ac;

	if (!f)
		return;
	ac = f->sub;
	f->sub = NULL;
	if (ac) {
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

void fleet_stats(const struct fleet *f, struct fleet_stats *out)
{
	*out = f->stats;
}
