// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The Redis store against the memory store: the same random stream of
 * requests (every policy type and command, roles, COST, PEEK, blocks,
 * resets, time jumps past windows and periods; window policies of both
 * algorithms, gcra and sliding; budgets in time zones, one of them made up
 * to change its offset every few hours, back over midnight too) goes to a
 * set on the memory
 * store and to a set on a real redis-server (started here on a Unix socket,
 * with the scripts on the same injected clock); every answer must be equal. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "clock.h"
#include "config.h"
#include "policy.h"
#include "redis.h"
#include "redisd.h"
#include "tzif_build.h"

#define T0 1795608000000ULL

static const char yaml[] =
	"store: { type: redis, redis: { url: \"unix:///tmp/x\", timeout_ms: 2000, prefix: ut } }\n"
	"policies:\n"
	"  - { name: api, type: window, limits: [ { count: 5, per: 1s }, { count: 20, per: 1m } "
	"],\n"
	"      roles: { PRO: 2.5 }, block_for: 3s }\n"
	"  - { name: w3, type: window, limits: [ { count: 7, per: 700ms }, { count: 3, per: 1s } ] "
	"}\n"
	"  - { name: login, type: progressive, free_failures: 2, base_delay: 100ms, factor: 1.5,\n"
	"      max_delay: 5s, forget_after: 10s, xdp_ban: { after: 6, for: 1h } }\n"
	"  - { name: chat, type: events, limit: 6, window: 2s, exempt: [ping] }\n"
	"  - { name: tokens, type: budget, amount: 100, period: hour, roles: { BIG: 1000, NONE: 0 "
	"} "
	"}\n"
	"  - { name: ev3, type: events, limit: 3, window: 1s }\n"
	"  - { name: meet, type: events, limit: 4, window: 1s, exempt: [ping],\n"
	"      events: { offer: { limit: 3, per: 2s }, ice: { limit: 5, per: 1s, warn_at: 0.5 },\n"
	"                host: { limit: 2, per: 3s } } }\n"
	"  - { name: meet0, type: events, events: { offer: { limit: 2, per: 1s },\n"
	"      ice: { limit: 6, per: 2s } } }\n"
	"  - { name: blk, type: window, limits: [ { count: 2, per: 10s } ], block_for: 3s }\n"
	"  - { name: strict, type: window, limits: [ { count: 5, per: 1s } ], on_store_error: deny "
	"}\n"
	"  - { name: \"x:y\", type: window, limits: [ { count: 1, per: 1m } ] }\n"
	"  - { name: x, type: window, limits: [ { count: 1, per: 1m } ] }\n"
	"  - { name: long, type: window, limits: [ { count: 1000, per: 1h } ] }\n"
	"  - { name: sl, type: window, algorithm: sliding, block_for: 2s, roles: { PRO: 2.5 },\n"
	"      limits: [ { count: 4, per: 1s }, { count: 9, per: 10s }, { count: 15, per: 1m } ] "
	"}\n"
	"  - { name: sl3, type: window, algorithm: sliding, limits: [ { count: 3, per: 1m } ] }\n"
	"  - { name: slbig, type: window, algorithm: sliding, limits: [ { count: 1000, per: 1h } ] "
	"}\n"
	"  - { name: tzd, type: budget, amount: 100, timezone: Test/Flip, roles: { BIG: 1000 } }\n"
	"  - { name: tzh, type: budget, amount: 50, period: hour, timezone: \"+05:30\",\n"
	"      roles: { BIG: 200 } }\n"
	"  - { name: berlin, type: budget, amount: 10, timezone: Europe/Berlin }\n";

/*
 * The stream's reloads (issue 12): reload2 changes parameters that keep
 * the state (counts, roles, block_for, amounts, events' limit and window,
 * progressive's delays, meet's offer limit and ice window) but w3's per (its
 * counters go, blocks stay) and blk's type (fresh); reload3 adds a limit to
 * api, changes the budget's period, adds a type to meet and takes one from
 * meet0 (blocks stay).
 */
static const char reload2[] =
	"store: { type: redis, redis: { url: \"unix:///tmp/x\", timeout_ms: 2000, prefix: ut } }\n"
	"policies:\n"
	"  - { name: api, type: window, limits: [ { count: 8, per: 1s }, { count: 30, per: 1m } "
	"],\n"
	"      roles: { PRO: 3 }, block_for: 2s }\n"
	"  - { name: w3, type: window, limits: [ { count: 7, per: 800ms }, { count: 3, per: 1s } ] "
	"}\n"
	"  - { name: login, type: progressive, free_failures: 1, base_delay: 200ms, factor: 2,\n"
	"      max_delay: 4s, forget_after: 8s }\n"
	"  - { name: chat, type: events, limit: 4, window: 3s, exempt: [ping, pong] }\n"
	"  - { name: tokens, type: budget, amount: 150, period: hour, roles: { BIG: 500, NONE: 0 } "
	"}\n"
	"  - { name: ev3, type: events, limit: 2, window: 1s }\n"
	"  - { name: meet, type: events, limit: 4, window: 1s, exempt: [ping],\n"
	"      events: { offer: { limit: 4, per: 2s }, ice: { limit: 5, per: 2s, warn_at: 0.5 },\n"
	"                host: { limit: 2, per: 3s } } }\n"
	"  - { name: meet0, type: events, events: { offer: { limit: 2, per: 1s },\n"
	"      ice: { limit: 6, per: 2s } } }\n"
	"  - { name: blk, type: budget, amount: 20 }\n"
	"  - { name: sl, type: window, algorithm: sliding, block_for: 2s, roles: { PRO: 2.5 },\n"
	"      limits: [ { count: 5, per: 1s }, { count: 9, per: 10s }, { count: 15, per: 1m } ] "
	"}\n"
	"  - { name: sl3, type: window, algorithm: sliding, limits: [ { count: 3, per: 1m } ] }\n"
	"  - { name: tzd, type: budget, amount: 120, timezone: Test/Flip, roles: { BIG: 900 } }\n"
	"  - { name: tzh, type: budget, amount: 50, period: hour, timezone: \"+05:30\",\n"
	"      roles: { BIG: 200 } }\n";
static const char reload3[] =
	"store: { type: redis, redis: { url: \"unix:///tmp/x\", timeout_ms: 2000, prefix: ut } }\n"
	"policies:\n"
	"  - { name: api, type: window, limits: [ { count: 8, per: 1s }, { count: 30, per: 1m }, "
	"{ count: 50, per: 1h } ],\n"
	"      roles: { PRO: 3 }, block_for: 2s }\n"
	"  - { name: w3, type: window, limits: [ { count: 7, per: 800ms }, { count: 3, per: 1s } ] "
	"}\n"
	"  - { name: login, type: progressive, free_failures: 1, base_delay: 200ms, factor: 2,\n"
	"      max_delay: 4s, forget_after: 8s }\n"
	"  - { name: chat, type: events, limit: 4, window: 3s, exempt: [ping, pong] }\n"
	"  - { name: tokens, type: budget, amount: 150, period: day, roles: { BIG: 500, NONE: 0 } "
	"}\n"
	"  - { name: ev3, type: events, limit: 2, window: 1s }\n"
	"  - { name: meet, type: events, limit: 4, window: 1s, exempt: [ping],\n"
	"      events: { offer: { limit: 4, per: 2s }, ice: { limit: 5, per: 2s, warn_at: 0.5 },\n"
	"                host: { limit: 2, per: 3s }, chat: { limit: 3, per: 1s } } }\n"
	"  - { name: meet0, type: events, events: { offer: { limit: 2, per: 1s } } }\n"
	"  - { name: blk, type: budget, amount: 20 }\n"
	"  - { name: sl, type: window, algorithm: sliding, block_for: 2s, roles: { PRO: 2.5 },\n"
	"      limits: [ { count: 5, per: 1s }, { count: 9, per: 10s }, { count: 15, per: 1m } ] "
	"}\n"
	"  - { name: sl3, type: window, algorithm: sliding, limits: [ { count: 3, per: 1m } ] }\n"
	"  - { name: tzd, type: budget, amount: 120, timezone: Europe/Berlin, roles: { BIG: 900 } "
	"}\n"
	"  - { name: tzh, type: budget, amount: 50, period: hour, timezone: America/New_York,\n"
	"      roles: { BIG: 200 } }\n";

static uv_loop_t loop;
static pid_t redis_pid;
static char dir[64], sock[96];
static int done_n;
static struct policy_answer got;
static int got_err;
struct policy_cell_answer;
static void on_done_c(int err, const struct policy_cell_answer *ans, void *arg);

static void make_dir(void)
{
	ck_assert(redisd_dir(dir, "/tmp/fgut-redis.XXXXXX", sock, sizeof(sock)));
}

/* redis-server on sock, with the extra arguments (NULL-ended, or NULL). */
static void spawn_redis_with(const char *const *extra)
{
	ck_assert_msg(redisd_spawn(dir, sock, extra, &redis_pid),
		      "redis-server did not start (is it installed?)");
}

static void spawn_redis(void)
{
	spawn_redis_with(NULL);
}

static char zdir[64];

/* Test/Flip in zdir (TZDIR, for every test): a new offset every 5 hours from T0 + 1 h on,
 * for 5 days (the stream's clock), some of them back over midnight. */
static int make_zone(void)
{
	static const int32_t offs[] = { 7200, 0, 3600, 19800, -18000, 3600, -3600 };
	int64_t at[24];
	int32_t off[24];
	char path[160];
	int i;

	for (i = 0; i < 24; i++) {
		at[i] = (int64_t)(T0 / 1000) + 3600 + 5 * 3600 * i;
		off[i] = offs[i % 7];
	}
	snprintf(path, sizeof(path), "%s/Test", zdir);
	if (mkdir(path, 0755))
		return -1;
	/* the real zones a reload moves to, beside it */
	snprintf(path, sizeof(path), "%s/Europe", zdir);
	if (symlink("/usr/share/zoneinfo/Europe", path))
		return -1;
	snprintf(path, sizeof(path), "%s/America", zdir);
	if (symlink("/usr/share/zoneinfo/America", path))
		return -1;
	if (tzb_write(zdir, "Test/Flip", 3600, at, off, 24, ""))
		return -1;
	return setenv("TZDIR", zdir, 1);
}

static void start_redis(void)
{
	make_dir();
	spawn_redis();
}

static void stop_redis(void)
{
	char cmd[128];

	kill(redis_pid, SIGTERM);
	waitpid(redis_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return;
}

static void on_done(int err, const struct policy_answer *ans, void *arg)
{
	(void)arg;
	got_err = err;
	if (ans)
		got = *ans;
	done_n++;
}

/* A request went to Redis (done_n 0 before it was submitted): its one callback. */
static void wait_done(void)
{
	int i;

	for (i = 0; i < 100000 && !done_n; i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(done_n, 1);
}

static int run(struct policy *p, const struct policy_req *rq, uint64_t now,
	       struct policy_answer *ans)
{
	int r;

	done_n = 0;
	r = policy_submit(p, rq, now, ans, on_done, NULL);
	if (r != 1)
		return r;
	wait_done();
	*ans = got;
	return got_err;
}

static void same(const struct policy_answer *m, const struct policy_answer *r, int step)
{
	ck_assert_msg(!r->fallback, "step %d: answered by the fallback", step);
	switch (m->op) {
	case POLICY_OP_CHECK:
	case POLICY_OP_CHARGE:
		ck_assert_msg(m->u.check.allowed == r->u.check.allowed &&
				      m->u.check.limit == r->u.check.limit &&
				      m->u.check.remaining == r->u.check.remaining &&
				      m->u.check.reset_ms == r->u.check.reset_ms &&
				      m->u.check.retry_after_ms == r->u.check.retry_after_ms &&
				      !strcmp(m->u.check.state, r->u.check.state) &&
				      !strcmp(m->u.check.window, r->u.check.window),
			      "step %d: memory %d %llu %llu %llu %llu %s %s, redis %d %llu %llu "
			      "%llu %llu %s %s",
			      step, m->u.check.allowed, (unsigned long long)m->u.check.limit,
			      (unsigned long long)m->u.check.remaining,
			      (unsigned long long)m->u.check.reset_ms,
			      (unsigned long long)m->u.check.retry_after_ms, m->u.check.state,
			      m->u.check.window, r->u.check.allowed,
			      (unsigned long long)r->u.check.limit,
			      (unsigned long long)r->u.check.remaining,
			      (unsigned long long)r->u.check.reset_ms,
			      (unsigned long long)r->u.check.retry_after_ms, r->u.check.state,
			      r->u.check.window);
		break;
	case POLICY_OP_AUTH_FAIL:
	case POLICY_OP_AUTH_CHECK:
		ck_assert_msg(m->u.auth.delay_ms == r->u.auth.delay_ms &&
				      m->u.auth.failures == r->u.auth.failures &&
				      m->u.auth.ban == r->u.auth.ban,
			      "step %d: auth memory %llu/%llu redis %llu/%llu", step,
			      (unsigned long long)m->u.auth.delay_ms,
			      (unsigned long long)m->u.auth.failures,
			      (unsigned long long)r->u.auth.delay_ms,
			      (unsigned long long)r->u.auth.failures);
		break;
	case POLICY_OP_EVENT:
		ck_assert_msg(
			!strcmp(m->u.event.state, r->u.event.state) &&
				m->u.event.count == r->u.event.count &&
				m->u.event.limit == r->u.event.limit &&
				!m->u.event.type == !r->u.event.type &&
				(!m->u.event.type || !strcmp(m->u.event.type, r->u.event.type)),
			"step %d: event memory %s %llu redis %s %llu", step, m->u.event.state,
			(unsigned long long)m->u.event.count, r->u.event.state,
			(unsigned long long)r->u.event.count);
		break;
	default:
		break;
	}
}

/* The same request to both sets: the same error, and the same answer. */
static void both(struct policies *mem, struct policies *red, const char *pn,
		 const struct policy_req *rq, uint64_t now, int step)
{
	struct policy_answer am, ar;
	int em = run(policies_find(mem, pn, strlen(pn)), rq, now, &am);
	int er = run(policies_find(red, pn, strlen(pn)), rq, now, &ar);

	ck_assert_msg(em == er, "step %d (%s op %d): memory %d, redis %d", step, pn, rq->op, em,
		      er);
	if (!em)
		same(&am, &ar, step);
}

/*
 * Around a reload (the stream's keys have mostly expired by then): before,
 * key kb of every policy blocked for 10 s and key kc given 3 requests of
 * its type; after, a shorter RL.BLOCK must not shorten the block kept
 * (same type), and each type's own request on kb and kc answers the same on
 * both stores (counters kept on one and fresh on the other would differ).
 */
static void reload_blocks(struct policies *mem, struct policies *red, const char *const *names,
			  size_t n, uint64_t now, int step, bool before)
{
	struct policy_req rq = { .op = POLICY_OP_BLOCK, .key = "kb", .klen = 2, .seconds = 10 };
	size_t i;

	for (i = 0; i < n; i++) {
		int t = (int)policy_type(policies_find(mem, names[i], strlen(names[i])));
		struct policy_req op = {
			.key = "kc", .klen = 2, .cost = 1, .event = "msg", .elen = 3
		};

		rq.seconds = before ? 10 : 1;
		both(mem, red, names[i], &rq, now, step);
		op.op = t == POLICY_PROGRESSIVE ? POLICY_OP_AUTH_FAIL
			: t == POLICY_EVENTS	? POLICY_OP_EVENT
						: POLICY_OP_CHECK;
		/* meet and meet0: a named type, whose count a reload that adds or
		 * removes other types keeps (memory and Redis alike). */
		if (!strncmp(names[i], "meet", 4)) {
			op.event = "offer";
			op.elen = 5;
		}
		both(mem, red, names[i], &op, now, step);
		both(mem, red, names[i], &op, now, step);
		if (!before) {
			op.key = "kb";
			both(mem, red, names[i], &op, now + 2000, step);
			continue;
		}
		both(mem, red, names[i], &op, now, step);
	}
}

static struct policy_multi_answer got_m;

static void on_done_m(int err, const struct policy_multi_answer *ans, void *arg)
{
	(void)arg;
	got_err = err;
	if (ans)
		got_m = *ans;
	done_n++;
}

/* RL.CHECKM on set ps (pairs' policies found by name there), waiting for Redis. */
static int run_multi(struct policies *ps, const char *const *names, const char *const *keys,
		     size_t n, uint64_t cost, const char *role, bool peek, uint64_t now,
		     struct policy_multi_answer *ans)
{
	struct policy_pair pp[POLICY_MULTI_MAX];
	size_t i;
	int r, bad;

	for (i = 0; i < n; i++) {
		pp[i].p = policies_find(ps, names[i], strlen(names[i]));
		pp[i].key = keys[i];
		pp[i].klen = strlen(keys[i]);
	}
	r = policy_submit_multi(ps, pp, n, cost, role, role ? strlen(role) : 0, peek, now, ans,
				on_done_m, NULL, &bad);
	if (r != 1)
		return r;
	done_n = 0;
	wait_done();
	*ans = got_m;
	return got_err;
}

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

START_TEST(test_same_answers)
{
	static const char *const names[] = { "api", "w3",  "login", "chat",  "tokens", "ev3", "blk",
					     "sl",  "sl3", "meet",  "meet0", "tzd",    "tzh" };
	struct fg_conf conf, conf2, conf3;
	struct policies *mem, *red;
	struct redis *r;
	char e[256], key[8];
	uint64_t now = T0;
	int step, i, checked = 0, multis = 0;

	/* FG_TEST_SEED: another stream, to hunt what this one does not reach */
	if (getenv("FG_TEST_SEED"))
		rnd_state = strtoull(getenv("FG_TEST_SEED"), NULL, 0);
	start_redis();
	ck_assert_msg(!config_parse("t.yaml", yaml, strlen(yaml), &conf, e, sizeof(e)), "%s", e);
	snprintf(conf.store.redis.path, sizeof(conf.store.redis.path), "%s", sock);
	uv_loop_init(&loop);
	mem = policies_new(&conf, NULL, 1, e, sizeof(e));
	red = policies_new(&conf, NULL, 2, e, sizeof(e));
	ck_assert_ptr_nonnull(mem);
	ck_assert_ptr_nonnull(red);
	r = redis_new(&loop, &conf.store.redis);
	ck_assert_int_eq(policies_set_redis(red, r), 0);
	policies_redis_fixed_clock(red, true);
	for (i = 0; i < 100000 && !redis_up(r); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_msg(redis_up(r), "no connection to redis-server");
	ck_assert_msg(!config_parse("t2.yaml", reload2, strlen(reload2), &conf2, e, sizeof(e)),
		      "%s", e);
	ck_assert_msg(!config_parse("t3.yaml", reload3, strlen(reload3), &conf3, e, sizeof(e)),
		      "%s", e);

	for (step = 0; step < 6000; step++) {
		const char *pn = names[rnd(sizeof(names) / sizeof(names[0]))];
		struct policy *pm = policies_find(mem, pn, strlen(pn));
		struct policy *pr = policies_find(red, pn, strlen(pn));
		struct policy_req rq = { 0 };
		struct policy_answer am, ar;
		int em, er, t = (int)policy_type(pm), x = (int)rnd(100);

		/* Mostly small steps, half of them round (requests land exactly
		 * one window after others); now and then past a window, a period. */
		now += rnd(10) < 8   ? (rnd(2) ? rnd(400) : 250 * rnd(3))
		       : rnd(10) < 9 ? rnd(20000)
				     : rnd(4000000);
		snprintf(key, sizeof(key), "k%d", (int)rnd(4));
		rq.key = key;
		rq.klen = strlen(key);
		if (x < 4) {
			rq.op = POLICY_OP_BLOCK;
			rq.seconds = 1 + rnd(5);
		} else if (x < 7) {
			rq.op = POLICY_OP_UNBLOCK;
		} else if (x < 9) {
			rq.op = POLICY_OP_RESET;
		} else if (t == POLICY_WINDOW || t == POLICY_BUDGET) {
			rq.op = POLICY_OP_CHECK;
			/* Budget costs above the amount (and role NONE's 0): -ERANGE. */
			rq.cost = rnd(10) < 7 ? 1 : rnd(t == POLICY_BUDGET ? 120 : 4);
			rq.peek = rnd(10) == 0;
			if (rnd(3) == 0 && strcmp(pn, "sl3")) {
				rq.role = t == POLICY_BUDGET ? rnd(4) ? "BIG" : "NONE" : "PRO";
				rq.rlen = strlen(rq.role);
			}
			if (rq.role && !strcmp(pn, "blk"))
				rq.role = NULL;
			/* RL.CHARGE past the amount (debts over periods), RL.REFUND. */
			if (t == POLICY_BUDGET && rnd(4) == 0) {
				rq.op = POLICY_OP_CHARGE;
				rq.cost = rnd(5) ? rnd(300) : rnd(3000);
				rq.refund = rnd(3) == 0;
				rq.peek = false;
			}
		} else if (t == POLICY_PROGRESSIVE) {
			rq.op = rnd(3) ? POLICY_OP_AUTH_FAIL : POLICY_OP_AUTH_CHECK;
		} else {
			static const char *const types[] = { "offer", "ice",   "host",
							     "chat",  "other", "ping" };

			rq.op = POLICY_OP_EVENT;
			rq.event = strncmp(pn, "meet", 4) ? rnd(8) ? "msg" : "ping" : types[rnd(6)];
			rq.elen = strlen(rq.event);
		}
		if (rnd(6) == 0) {
			/* RL.CHECKM over 2 or 3 pairs of the window (gcra and sliding) and budget
			 * policies. */
			static const char *const mp[] = { "api", "w3", "tzd", "sl" };
			const char *pn3[3], *keys[3];
			char kb[3][8];
			struct policy_multi_answer mm, mr;
			size_t n = 2 + rnd(2), j;
			const char *role = rnd(3) ? NULL : rnd(2) ? "BIG" : "PRO";
			uint64_t cost = rnd(10) < 7 ? 1 : rnd(4);
			bool peek = rnd(10) == 0;

			for (j = 0; j < n; j++) {
				pn3[j] = mp[rnd(4)];
				snprintf(kb[j], sizeof(kb[j]), "k%d", (int)rnd(4));
				keys[j] = kb[j];
			}
			em = run_multi(mem, pn3, keys, n, cost, role, peek, now, &mm);
			er = run_multi(red, pn3, keys, n, cost, role, peek, now, &mr);
			ck_assert_msg(em == er, "step %d: RL.CHECKM memory %d, redis %d", step, em,
				      er);
			if (!em) {
				am.op = ar.op = POLICY_OP_CHECK;
				am.fallback = false;
				ar.fallback = mr.fallback;
				am.u.check = mm.check;
				ar.u.check = mr.check;
				ck_assert_msg(mm.refused == mr.refused && mm.binding == mr.binding,
					      "step %d: RL.CHECKM refused %d/%d binding %d/%d",
					      step, mm.refused, mr.refused, mm.binding, mr.binding);
				same(&am, &ar, step);
				multis++;
			}
			continue;
		}
		em = run(pm, &rq, now, &am);
		er = run(pr, &rq, now, &ar);

		ck_assert_msg(em == er, "step %d (%s op %d): memory %d, redis %d", step, pn, rq.op,
			      em, er);
		if (!em) {
			same(&am, &ar, step);
			checked++;
		}
		if (step == 1999 || step == 3999) {
			const struct fg_conf *c = step == 1999 ? &conf2 : &conf3;
			size_t nn = sizeof(names) / sizeof(names[0]);

			reload_blocks(mem, red, names, nn, now, step, true);
			mem = policies_new(c, mem, 1, e, sizeof(e));
			ck_assert_msg(mem, "%s", e);
			red = policies_new(c, red, 2, e, sizeof(e));
			ck_assert_msg(red, "%s", e);
			reload_blocks(mem, red, names, nn, now, step, false);
			/* on from the latest time the stores saw: a memory store
			 * forgets what expired by then, Redis's fixed clock would not */
			now += 2000;
		}
	}
	ck_assert_int_gt(checked, 2800);
	ck_assert_int_gt(multis, 400);
	policies_free(mem);
	policies_free(red);
	redis_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	config_free(&conf);
	config_free(&conf2);
	config_free(&conf3);
	stop_redis();
}
END_TEST

START_TEST(test_down_falls_back)
{
	struct fg_conf conf;
	struct policies *red;
	struct redis *r;
	struct policy_answer a;
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "k", .klen = 1, .cost = 1 };
	struct policies_store_stats ss;
	char e[256];

	ck_assert_msg(!config_parse("t.yaml", yaml, strlen(yaml), &conf, e, sizeof(e)), "%s", e);
	strcpy(conf.store.redis.path, "/nonexistent/redis.sock");
	uv_loop_init(&loop);
	red = policies_new(&conf, NULL, 2, e, sizeof(e));
	r = redis_new(&loop, &conf.store.redis);
	ck_assert_int_eq(policies_set_redis(red, r), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	/* No Redis: answered at once, from memory, and counted. */
	ck_assert_int_eq(policy_submit(policies_find(red, "api", 3), &rq, T0, &a, on_done, NULL),
			 0);
	ck_assert(a.fallback);
	ck_assert_int_eq(a.u.check.allowed, 1);
	ck_assert_uint_eq(a.u.check.remaining, 4);
	policies_store_stats(red, &ss);
	ck_assert(ss.shared);
	ck_assert(ss.fallback_active);
	ck_assert_uint_eq(ss.fallback_decisions, 1);
	ck_assert_uint_eq(ss.outage_keys, 1);
	ck_assert_uint_ge(ss.store_errors, 1);
	/* CL.THROTTLE too, from memory, and its count is not journaled for a
	 * replay (the call's limits would be gone by then). */
	{
		struct policy_cell_req cr = { .key = "k",
					      .klen = 1,
					      .max_burst = 1,
					      .count = 1,
					      .period_s = 10,
					      .quantity = 1 };
		struct policy_cell_answer ca;
		int i;

		for (i = 0; i < 3; i++) {
			ck_assert_int_eq(policy_submit_cell(red, &cr, T0, &ca, on_done_c, NULL), 0);
			ck_assert(ca.fallback);
			ck_assert_int_eq(ca.limited, i == 2);
			ck_assert_int_eq(ca.remaining, i < 2 ? 1 - i : 0);
		}
		policies_store_stats(red, &ss);
		ck_assert_uint_eq(ss.outage_keys, 1);
		ck_assert_uint_eq(ss.fallback_decisions, 4);
	}
	policies_free(red);
	redis_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	config_free(&conf);
}
END_TEST

/* A set on a fresh redis-server (or on sock before it starts), timeout_ms given. */
static struct fg_conf tconf;
/* Redis's own TIME (the replay's clock) and the requests' agree. */
#define NOW clock_realtime_ms()
static struct policies *tset;
static struct redis *tred;

/* As the agent does: Redis (back) up, the outage's counts go to it. */
static void on_state(bool up, void *arg)
{
	if (up)
		policies_redis_up(arg);
}

static void setup_set(unsigned timeout_ms, bool wait_up)
{
	char e[256];
	int i;

	ck_assert_msg(!config_parse("t.yaml", yaml, strlen(yaml), &tconf, e, sizeof(e)), "%s", e);
	snprintf(tconf.store.redis.path, sizeof(tconf.store.redis.path), "%s", sock);
	tconf.store.redis.timeout_ms = timeout_ms;
	uv_loop_init(&loop);
	tset = policies_new(&tconf, NULL, 2, e, sizeof(e));
	ck_assert_ptr_nonnull(tset);
	tred = redis_new(&loop, &tconf.store.redis);
	ck_assert_int_eq(policies_set_redis(tset, tred), 0);
	redis_on_state(tred, on_state, tset);
	policies_redis_fixed_clock(tset, true);
	for (i = 0; wait_up && i < 100000 && !redis_up(tred); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert(!wait_up || redis_up(tred));
}

static void teardown_set(void)
{
	policies_free(tset);
	redis_free(tred);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	config_free(&tconf);
	stop_redis();
}

/* A url that names a replica (stop 35's trial: every decision answered
 * READONLY, and the store went up and down each second): the handshake
 * refuses it, says why, and it is never up. */
START_TEST(test_replica_refused)
{
	static const char *const replica[] = { "--replicaof", "127.0.0.1", "1", NULL };
	struct redis_stats st;
	int i;

	make_dir();
	spawn_redis_with(replica);
	setup_set(200, false);
	for (i = 0; i < 2500; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	redis_stats(tred, &st);
	ck_assert(!st.up);
	ck_assert_uint_eq(st.reconnects, 0);
	ck_assert_msg(strstr(st.last_error, "is not a master (ROLE: slave): point "
					    "store.redis.url at the master"),
		      "%s", st.last_error);
	teardown_set();
}
END_TEST

static struct policy *P(const char *name)
{
	struct policy *p = policies_find(tset, name, strlen(name));

	ck_assert_ptr_nonnull(p);
	return p;
}

static int check(const char *policy, const char *key, uint64_t now, struct policy_answer *a)
{
	struct policy_req rq = {
		.op = POLICY_OP_CHECK, .key = key, .klen = strlen(key), .cost = 1
	};

	return run(P(policy), &rq, now, a);
}

static void redis_do(const char *cmd, const char *key)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *rp;

	ck_assert(c && !c->err);
	rp = redisCommand(c, cmd, key);
	ck_assert_ptr_nonnull(rp);
	freeReplyObject(rp);
	redisFree(c);
}

static int single_done;
static struct policy_answer single_ans;

static void on_single(int err, const struct policy_answer *ans, void *arg)
{
	(void)arg;
	ck_assert_int_eq(err, 0);
	single_ans = *ans;
	single_done++;
}

/*
 * Issue 12 item 6: another decision on one of RL.CHECKM's keys lands
 * between its read and its apply (pipelined behind the read): the apply
 * finds the key changed, applies nothing, and the pair is decided again on
 * the new state: charged once each, nothing lost.
 */
START_TEST(test_multi_conflict)
{
	struct policy_pair pp[2];
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "k", .klen = 1, .cost = 1 };
	struct policy_multi_answer m;
	struct policy_answer a;
	uint64_t now = NOW;
	int bad, i;

	start_redis();
	setup_set(2000, true);
	pp[0] = (struct policy_pair){ P("api"), "k", 1 };
	pp[1] = (struct policy_pair){ P("tokens"), "k", 1 };
	done_n = single_done = 0;
	ck_assert_int_eq(
		policy_submit_multi(tset, pp, 2, 1, NULL, 0, false, now, &m, on_done_m, NULL, &bad),
		1);
	ck_assert_int_eq(policy_submit(P("api"), &rq, now, &a, on_single, NULL), 1);
	for (i = 0; i < 100000 && (!done_n || !single_done); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(done_n, 1);
	ck_assert_int_eq(single_done, 1);
	ck_assert_int_eq(got_err, 0);
	ck_assert(!got_m.fallback);
	ck_assert(got_m.check.allowed);
	/* The single check ran between the read and the apply: it took the first. */
	ck_assert_uint_eq(single_ans.u.check.remaining, 4);
	ck_assert_int_eq(got_m.binding, 0);
	ck_assert_uint_eq(got_m.check.remaining, 3);
	rq.peek = true;
	ck_assert_int_eq(run(P("api"), &rq, now, &a), 0);
	ck_assert_uint_eq(a.u.check.remaining, 3);
	teardown_set();
}
END_TEST

/* RL.CHECKM under load: NCONC decisions on the same two keys in flight at
 * once, as clients pipelining on an agent send them. */
#define NCONC 300

static int conc_done, conc_err, conc_allowed, conc_fallback;

static void on_conc(int err, const struct policy_multi_answer *ans, void *arg)
{
	(void)arg;
	conc_done++;
	if (err) {
		conc_err = err;
		return;
	}
	conc_fallback += ans->fallback;
	conc_allowed += ans->check.allowed;
}

/* Submit k decisions on set ps on tokens x and tokens y: of cost 10 (100 an
 * hour), or with role BIG (1000 an hour) of cost 1. */
static void submit_conc(struct policies *ps, int k, bool big)
{
	struct policy_multi_answer m;
	struct policy_pair pp[2];
	int bad, i;

	pp[0] = (struct policy_pair){ policies_find(ps, "tokens", 6), "x", 1 };
	pp[1] = (struct policy_pair){ policies_find(ps, "tokens", 6), "y", 1 };
	for (i = 0; i < k; i++)
		ck_assert_int_eq(policy_submit_multi(ps, pp, 2, big ? 1 : 10, big ? "BIG" : NULL,
						     big ? 3 : 0, false, NOW, &m, on_conc, NULL,
						     &bad),
				 1);
}

static void wait_conc(int n)
{
	int i;

	for (i = 0; i < 1000000 && conc_done < n; i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(conc_done, n);
	ck_assert_int_eq(conc_err, 0);
}

/* What is left of tokens x and y on set ps, read through it (PEEK; BIG's
 * amount when big). */
static void tokens_left(struct policies *ps, uint64_t *x, uint64_t *y, bool big)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "x", .klen = 1, .peek = true };
	struct policy *p = policies_find(ps, "tokens", 6);
	struct policy_answer a;

	if (big) {
		rq.role = "BIG";
		rq.rlen = 3;
	}
	ck_assert_int_eq(run(p, &rq, NOW, &a), 0);
	*x = a.u.check.remaining;
	rq.key = "y";
	ck_assert_int_eq(run(p, &rq, NOW, &a), 0);
	*y = a.u.check.remaining;
}

/*
 * A budget of 100 and decisions of cost 10: whatever the concurrency,
 * at most 10 are allowed, every allowed one is charged in Redis, and a
 * decision that lost the race to the other decisions is neither decided
 * by on_store_error (which would allow from memory) nor journaled as an
 * outage's count. One agent: exactly 10, none refused while budget is left.
 */
START_TEST(test_multi_concurrent)
{
	struct policies_store_stats ss;
	uint64_t x, y;

	start_redis();
	setup_set(2000, true);
	conc_done = conc_err = conc_allowed = conc_fallback = 0;
	submit_conc(tset, NCONC, false);
	wait_conc(NCONC);
	ck_assert_int_eq(conc_allowed, 10);
	ck_assert_int_eq(conc_fallback, 0);
	tokens_left(tset, &x, &y, false);
	ck_assert_uint_eq(x, 0);
	ck_assert_uint_eq(y, 0);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.fallback_decisions, 0);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert_uint_eq(ss.store_errors, 0);
	teardown_set();
}
END_TEST

/* Two agents (two sets, two connections) on one Redis, the same load split. */
START_TEST(test_multi_concurrent_hosts)
{
	struct policies_store_stats ss;
	struct fg_conf conf2;
	struct policies *set2;
	struct redis *red2;
	uint64_t x, y, contended;
	char e[256];
	int i;

	start_redis();
	setup_set(2000, true);
	ck_assert_msg(!config_parse("t.yaml", yaml, strlen(yaml), &conf2, e, sizeof(e)), "%s", e);
	snprintf(conf2.store.redis.path, sizeof(conf2.store.redis.path), "%s", sock);
	conf2.store.redis.timeout_ms = 2000;
	set2 = policies_new(&conf2, NULL, 2, e, sizeof(e));
	ck_assert_ptr_nonnull(set2);
	red2 = redis_new(&loop, &conf2.store.redis);
	ck_assert_int_eq(policies_set_redis(set2, red2), 0);
	for (i = 0; i < 100000 && !redis_up(red2); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert(redis_up(red2));
	conc_done = conc_err = conc_allowed = conc_fallback = 0;
	for (i = 0; i < 6; i++) {
		submit_conc(tset, NCONC / 12, false);
		submit_conc(set2, NCONC / 12, false);
	}
	wait_conc(NCONC);
	ck_assert_int_le(conc_allowed, 10);
	ck_assert_int_ge(conc_allowed, 1);
	ck_assert_int_eq(conc_fallback, 0);
	tokens_left(tset, &x, &y, false);
	ck_assert_uint_eq(x, 100 - 10 * (uint64_t)conc_allowed);
	ck_assert_uint_eq(y, x);
	/* Room for every decision (1000, cost 1): each allowed one is charged, and
	 * one refused is one that lost the race to the other host too often, and
	 * is counted as that (not as a store error). */
	redis_do("DEL %s", "{ut:6:tokens:x}");
	redis_do("DEL %s", "{ut:6:tokens:y}");
	conc_done = conc_err = conc_allowed = conc_fallback = 0;
	for (i = 0; i < 6; i++) {
		submit_conc(tset, NCONC / 6, true);
		submit_conc(set2, NCONC / 6, true);
	}
	wait_conc(2 * NCONC);
	ck_assert_int_eq(conc_fallback, 0);
	tokens_left(tset, &x, &y, true);
	ck_assert_uint_eq(x, 1000 - (uint64_t)conc_allowed);
	ck_assert_uint_eq(y, x);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.fallback_decisions, 0);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert_uint_eq(ss.store_errors, 0);
	contended = ss.multi_contended;
	policies_store_stats(set2, &ss);
	ck_assert_uint_eq(ss.fallback_decisions, 0);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert_uint_eq(ss.store_errors, 0);
	ck_assert_uint_eq(conc_allowed + contended + ss.multi_contended, 2 * NCONC);
	policies_free(set2);
	redis_free(red2);
	config_free(&conf2);
	teardown_set();
}
END_TEST

/* Redis down: each pair gets its on_store_error; a pair that fails closed
 * refuses the decision and the memory pair is not charged (nor journaled). */
START_TEST(test_multi_down)
{
	struct policy_pair pp[2];
	struct policy_multi_answer m;
	struct policies_store_stats ss;
	struct policy_answer a;
	int bad;

	make_dir();
	setup_set(20, false);
	pp[0] = (struct policy_pair){ P("api"), "k", 1 };
	pp[1] = (struct policy_pair){ P("strict"), "k", 1 };
	ck_assert_int_eq(
		policy_submit_multi(tset, pp, 2, 1, NULL, 0, false, NOW, &m, on_done_m, NULL, &bad),
		0);
	ck_assert(m.fallback);
	ck_assert(!m.check.allowed);
	ck_assert_int_eq(m.refused, 1);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 0);
	/* Without the failing-closed pair: decided from memory, journaled. */
	pp[1] = (struct policy_pair){ P("long"), "k", 1 };
	ck_assert_int_eq(
		policy_submit_multi(tset, pp, 2, 1, NULL, 0, false, NOW, &m, on_done_m, NULL, &bad),
		0);
	ck_assert(m.fallback && m.check.allowed);
	ck_assert_int_eq(m.refused, -1);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 2);
	ck_assert_int_eq(check("api", "k", NOW, &a), 0);
	ck_assert_uint_eq(a.u.check.remaining, 3); /* 5 per second: 2 used */
	/* teardown_set() without a redis-server to stop. */
	policies_free(tset);
	redis_free(tred);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	config_free(&tconf);
	rmdir(dir);
}
END_TEST

/* Issue 10 item 17: a value of the wrong type at one key is that key's error. */
START_TEST(test_key_error_stays_with_key)
{
	struct policy_answer a;
	struct policy_stats st;
	int i;

	start_redis();
	setup_set(2000, true);
	/* The key under its name, and under the old (policy:key) name. */
	redis_do("LPUSH %s x", "{ut:6:strict:bad}");
	redis_do("LPUSH %s x", "{ut:strict:bad}");
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(check("strict", "bad", NOW, &a), 0);
		ck_assert_msg(a.fallback && !a.u.check.allowed,
			      "the bad key gets on_store_error: deny (fallback %d allowed %d)",
			      a.fallback, a.u.check.allowed);
	}
	ck_assert_msg(redis_up(tred), "one bad key opened the breaker");
	for (i = 0; i < 5; i++) {
		char key[16];

		snprintf(key, sizeof(key), "ok%d", i);
		ck_assert_int_eq(check("strict", key, NOW, &a), 0);
		ck_assert_msg(!a.fallback && a.u.check.allowed, "other keys stay on Redis");
	}
	policy_stats(P("strict"), &st);
	ck_assert_uint_eq(st.store_key_errors, 10);
	teardown_set();
}
END_TEST

/* A script reply the agent cannot read (stop 35's trial: a proxy that
 * answered EVALSHA with an integer). Here the script is given an instant
 * past 2^63 ms (the fixed clock), which Redis sends back as a negative
 * integer (its Lua number to long long on x86-64): a "now" no reply may
 * have. That request alone gets on_store_error, counted as a key error,
 * and nothing is journaled for a replay, since Redis did answer. */
START_TEST(test_unreadable_reply_stays_with_request)
{
	struct policies_store_stats ss;
	struct policy_answer a;
	struct policy_stats st;

	start_redis();
	setup_set(2000, true);
	ck_assert_int_eq(check("strict", "k", 10000000000000000000ULL, &a), 0);
	ck_assert(a.fallback);
	ck_assert_int_eq(check("strict", "k2", NOW, &a), 0);
	ck_assert_msg(!a.fallback && a.u.check.allowed, "the next request stays on Redis");
	policy_stats(P("strict"), &st);
	ck_assert_uint_eq(st.store_key_errors, 1);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert(!ss.fallback_active);
	teardown_set();
}
END_TEST

/* Issue 10 item 18: policy "x:y" key "K" and policy "x" key "y:K" are two keys. */
START_TEST(test_no_key_collision)
{
	struct policy_answer a;
	redisContext *c;
	redisReply *rp;

	start_redis();
	setup_set(2000, true);
	ck_assert_int_eq(check("x:y", "K", NOW, &a), 0);
	ck_assert(!a.fallback && a.u.check.allowed);
	ck_assert_int_eq(check("x", "y:K", NOW, &a), 0);
	ck_assert_msg(!a.fallback && a.u.check.allowed,
		      "policy x key y:K shares policy x:y key K's state");
	c = redisConnectUnix(sock);
	ck_assert(c && !c->err);
	rp = redisCommand(c, "EXISTS {ut:3:x:y:K} {ut:1:x:y:K}");
	ck_assert(rp && rp->type == REDIS_REPLY_INTEGER);
	ck_assert_int_eq(rp->integer, 2);
	freeReplyObject(rp);
	redisFree(c);
	teardown_set();
}
END_TEST

/*
 * Issue 10 item 16, the breaker: a few timeouts at once (a slow moment) do
 * not open it; callers failing for 3 x timeout_ms (100 ms at least) do, and
 * no caller waits past its deadline meanwhile.
 */
START_TEST(test_breaker_needs_time)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "b", .klen = 1, .cost = 1 };
	struct policy_answer a;
	uint64_t t0, t, worst = 0, first = 0;
	int i, n;

	start_redis();
	setup_set(20, true);
	kill(redis_pid, SIGSTOP);
	done_n = 0;
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(policy_submit(P("api"), &rq, NOW, &a, on_done, NULL), 1);
	t0 = uv_hrtime();
	while (done_n < 3)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert(got.fallback);
	ck_assert_msg(redis_up(tred), "3 timeouts at once opened the breaker");
	/* One caller at a time until the breaker opens. */
	for (n = 0; n < 200 && redis_up(tred); n++) {
		int r = policy_submit(P("api"), &rq, NOW, &a, on_done, NULL);

		t = uv_hrtime();
		if (r == 1) {
			done_n = 0;
			while (!done_n)
				uv_run(&loop, UV_RUN_ONCE);
		}
		t = (uv_hrtime() - t) / 1000000;
		worst = t > worst ? t : worst;
		if (!first)
			first = 1;
	}
	t = (uv_hrtime() - t0) / 1000000;
	kill(redis_pid, SIGCONT);
	ck_assert_msg(!redis_up(tred), "the breaker never opened on a hung Redis");
	ck_assert_msg(t >= 80, "the breaker opened after %llu ms (< 3 x timeout_ms, 100 ms)",
		      (unsigned long long)t);
	/* The deadline plus scheduling slack on a loaded machine (as test_92). */
	ck_assert_msg(worst <= 20 + 100, "a caller waited %llu ms (timeout_ms 20)",
		      (unsigned long long)worst);
	teardown_set();
}
END_TEST

/*
 * Issue 10 item 16, the replay: 30,000 outage keys are added to Redis in the
 * background: a caller's decision right after the recovery is made by Redis
 * within its deadline (not queued behind the backlog), and nothing is dropped.
 */
START_TEST(test_replay_in_background)
{
	struct policy_answer a;
	struct policies_store_stats ss;
	char key[16];
	int i;

	make_dir();
	setup_set(20, false);
	for (i = 0; i < 30000; i++) {
		struct policy_req rq = { .op = POLICY_OP_CHECK, .key = key, .cost = 1 };

		rq.klen = (size_t)snprintf(key, sizeof(key), "o%d", i);
		ck_assert_int_eq(policy_submit(P("long"), &rq, NOW, &a, on_done, NULL), 0);
		ck_assert(a.fallback);
	}
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 30000);
	spawn_redis();
	for (i = 0; i < 100000 && !redis_up(tred); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert(redis_up(tred));
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(check("api", "fresh", NOW, &a), 0);
		ck_assert_msg(!a.fallback, "a decision after the recovery fell back (check %d)", i);
	}
	policies_store_stats(tset, &ss);
	ck_assert_msg(ss.outage_keys > 0, "the replay did not run in the background");
	for (i = 0; i < 1000000 && ss.replayed_keys + ss.replay_dropped < 30000; i++) {
		uv_run(&loop, UV_RUN_ONCE);
		policies_store_stats(tset, &ss);
	}
	ck_assert_uint_eq(ss.replayed_keys, 30000);
	ck_assert_uint_eq(ss.replay_dropped, 0);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert(redis_up(tred));
	/* The replayed hit is in Redis: 1 of o7's 1000 per hour used. */
	ck_assert_int_eq(check("long", "o7", NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_uint_eq(a.u.check.remaining, 998);
	teardown_set();
}
END_TEST

/* The bytes of a Redis key's value (0: none). */
static long long redis_strlen(const char *key)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *rp;
	long long n;

	ck_assert(c && !c->err);
	rp = redisCommand(c, "STRLEN %s", key);
	ck_assert(rp && rp->type == REDIS_REPLY_INTEGER);
	n = rp->integer;
	freeReplyObject(rp);
	redisFree(c);
	return n;
}

/*
 * Another host writes one of RL.CHECKM's keys between every read and apply
 * (a value of no config: a fresh state, where the decision passes): the
 * apply never finds what the agent read. Redis is fine, so the decision is
 * not on_store_error's (its memory would admit, and journal the charge as
 * an outage's); it is refused, nothing charged, and counted as contended.
 */
START_TEST(test_multi_contended)
{
	struct policy_pair pp[2];
	struct policy_multi_answer m;
	struct policies_store_stats ss;
	redisContext *c;
	redisReply *rp;
	int bad, i;

	start_redis();
	setup_set(2000, true);
	c = redisConnectUnix(sock);
	ck_assert(c && !c->err);
	pp[0] = (struct policy_pair){ P("tokens"), "x", 1 };
	pp[1] = (struct policy_pair){ P("api"), "x", 1 };
	done_n = 0;
	ck_assert_int_eq(
		policy_submit_multi(tset, pp, 2, 1, NULL, 0, false, NOW, &m, on_done_m, NULL, &bad),
		1);
	/* The agent writes a request out when its loop is about to wait: the
	 * other host's write lands before each apply. */
	for (i = 0; i < 1000 && !done_n; i++) {
		rp = redisCommand(c, "SET {ut:6:tokens:x} other%d", i);
		ck_assert(rp && rp->type == REDIS_REPLY_STATUS);
		freeReplyObject(rp);
		uv_run(&loop, UV_RUN_ONCE);
	}
	redisFree(c);
	ck_assert_int_eq(done_n, 1);
	ck_assert_int_eq(got_err, 0);
	ck_assert(!got_m.fallback);
	ck_assert(!got_m.check.allowed);
	ck_assert_str_eq(got_m.check.state, "deny");
	ck_assert_int_eq(got_m.refused, got_m.binding);
	ck_assert_uint_eq(got_m.check.retry_after_ms, 1);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.multi_contended, 1);
	ck_assert_uint_eq(ss.fallback_decisions, 0);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert_uint_eq(ss.store_errors, 0);
	/* Nothing charged: api's key was written by nobody else. */
	ck_assert_int_eq(redis_strlen("{ut:3:api:x}"), 0);
	teardown_set();
}
END_TEST

/*
 * Issue 12 item 5 on the shared store: "3 per 1m", a request every 2 s for
 * 60 s, from two hosts in turn: exactly 3 pass, the 4th exactly when the
 * first leaves the window. Redis holds the live log only (16 bytes an entry).
 */
START_TEST(test_sliding_two_hosts)
{
	struct policies *set2;
	struct redis *red2;
	struct policy *p2, *sl2;
	struct policy_answer a;
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "k", .klen = 1, .cost = 1 };
	char e[256];
	uint64_t t;
	int i, n = 0;

	make_dir();
	spawn_redis();
	setup_set(2000, true);
	set2 = policies_new(&tconf, NULL, 3, e, sizeof(e));
	ck_assert_ptr_nonnull(set2);
	red2 = redis_new(&loop, &tconf.store.redis);
	ck_assert_int_eq(policies_set_redis(set2, red2), 0);
	policies_redis_fixed_clock(set2, true);
	for (i = 0; i < 100000 && !redis_up(red2); i++)
		uv_run(&loop, UV_RUN_ONCE);
	p2 = policies_find(set2, "sl3", 3);
	for (t = 0; t < 60000; t += 2000) {
		if (t / 2000 % 2)
			ck_assert_int_eq(run(p2, &rq, T0 + t, &a), 0);
		else
			ck_assert_int_eq(check("sl3", "k", T0 + t, &a), 0);
		ck_assert(!a.fallback);
		n += a.u.check.allowed;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(redis_strlen("{ut:3:sl3:k}"), 16 + 8 * (1 + 2 * 3));
	ck_assert_int_eq(run(p2, &rq, T0 + 59999, &a), 0);
	ck_assert(!a.u.check.allowed);
	ck_assert_uint_eq(a.u.check.retry_after_ms, 1);
	ck_assert_uint_eq(a.u.check.reset_ms, 4001);
	ck_assert_int_eq(check("sl3", "k", T0 + 60000, &a), 0);
	ck_assert(!a.fallback && a.u.check.allowed);
	ck_assert_uint_eq(a.u.check.remaining, 0);
	ck_assert_int_eq(run(p2, &rq, T0 + 60000, &a), 0);
	ck_assert(!a.u.check.allowed);
	ck_assert_uint_eq(a.u.check.retry_after_ms, 2000);
	/* The entry of T0 went with the last write. */
	ck_assert_int_eq(redis_strlen("{ut:3:sl3:k}"), 16 + 8 * (1 + 2 * 3));
	/* COST 2 on a fresh key: one entry of count 2. */
	rq.key = "c";
	rq.cost = 2;
	ck_assert_int_eq(run(p2, &rq, T0, &a), 0);
	ck_assert(a.u.check.allowed);
	ck_assert_int_eq(redis_strlen("{ut:3:sl3:c}"), 16 + 8 * 3);
	ck_assert_int_eq(check("sl3", "c", T0 + 1, &a), 0);
	ck_assert(a.u.check.allowed);
	ck_assert_uint_eq(a.u.check.remaining, 0);
	/* sl's 4 per 1s: 4 at T0, then at T0 + 1 s (the 4 have left that
	 * window, not the 10 s one of 9) 4 more from both hosts, not 5. */
	rq.key = "s";
	rq.cost = 1;
	sl2 = policies_find(set2, "sl", 2);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(run(i % 2 ? sl2 : P("sl"), &rq, T0, &a), 0);
		ck_assert(a.u.check.allowed);
	}
	for (n = 0, i = 0; i < 6; i++) {
		ck_assert_int_eq(run(i % 2 ? sl2 : P("sl"), &rq, T0 + 1000, &a), 0);
		n += a.u.check.allowed;
	}
	ck_assert_int_eq(n, 4);
	/* The largest log (1000 entries) goes through the scripts' unpack and
	 * pack, and both hosts see it. */
	rq.key = "b";
	for (n = 0, i = 0; i < 1003; i++) {
		ck_assert_int_eq(run(i % 2 ? policies_find(set2, "slbig", 5) : P("slbig"), &rq,
				     T0 + (uint64_t)i, &a),
				 0);
		ck_assert(!a.fallback);
		n += a.u.check.allowed;
	}
	ck_assert_int_eq(n, 1000);
	ck_assert_int_eq(redis_strlen("{ut:5:slbig:b}"), 16 + 8 + 16 * 1000);
	ck_assert_uint_eq(a.u.check.retry_after_ms, 3600000 - 1002);
	policies_free(set2);
	redis_free(red2);
	teardown_set();
}
END_TEST

/*
 * The replay of every type (each has its own script): what the fallback
 * counted during an outage is in Redis after the recovery, with a ROLE's
 * own parameters for a budget.
 */
START_TEST(test_replay_every_type)
{
	struct policy_req big = {
		.op = POLICY_OP_CHECK, .key = "t", .klen = 1, .cost = 10, .role = "BIG", .rlen = 3
	};
	struct policy_req fail = { .op = POLICY_OP_AUTH_FAIL, .key = "l", .klen = 1 };
	struct policy_req ev = {
		.op = POLICY_OP_EVENT, .key = "c", .klen = 1, .event = "msg", .elen = 3
	};
	struct policy_req ping = ev;
	struct policy_answer a;
	struct policies_store_stats ss;
	int i;

	ping.event = "ping";
	ping.elen = 4;
	make_dir();
	setup_set(20, false);
	ck_assert_int_eq(check("x", "k", NOW, &a), 0);
	ck_assert(a.fallback && a.u.check.allowed);
	ck_assert_int_eq(policy_submit(P("tokens"), &big, NOW, &a, on_done, NULL), 0);
	ck_assert(a.fallback && a.u.check.allowed);
	/* RL.CHARGE 100 and RL.REFUND 30 go into the journal as 70 more. */
	big.op = POLICY_OP_CHARGE;
	big.cost = 100;
	ck_assert_int_eq(policy_submit(P("tokens"), &big, NOW, &a, on_done, NULL), 0);
	big.refund = true;
	big.cost = 30;
	ck_assert_int_eq(policy_submit(P("tokens"), &big, NOW, &a, on_done, NULL), 0);
	ck_assert(a.fallback);
	ck_assert_uint_eq(a.u.check.remaining, 920);
	big.op = POLICY_OP_CHECK;
	big.refund = false;
	big.cost = 10;
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(policy_submit(P("login"), &fail, NOW, &a, on_done, NULL), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(policy_submit(P("chat"), &ev, NOW, &a, on_done, NULL), 0);
	ck_assert_int_eq(policy_submit(P("chat"), &ping, NOW, &a, on_done, NULL), 0);
	ck_assert_int_eq(check("sl3", "k", NOW, &a), 0);
	ck_assert_int_eq(check("sl3", "k", NOW, &a), 0);
	ck_assert(a.fallback && a.u.check.allowed);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 5);
	/* Redis's answers start from the state Redis holds, not this host's memory. */
	spawn_redis();
	for (i = 0; i < 1000000 && ss.replayed_keys + ss.replay_dropped < 5; i++) {
		uv_run(&loop, UV_RUN_ONCE);
		policies_store_stats(tset, &ss);
	}
	ck_assert_uint_eq(ss.replayed_keys, 5);
	ck_assert_uint_eq(ss.replay_dropped, 0);
	/* window: its one request per minute is used. */
	ck_assert_int_eq(check("x", "k", NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_int_eq(a.u.check.allowed, 0);
	/* budget: 10 + 100 - 30 of BIG's 1000 per hour used, and now 10 more. */
	ck_assert_int_eq(run(P("tokens"), &big, NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_uint_eq(a.u.check.remaining, 910);
	/* progressive: the 3 failures are remembered. */
	fail.op = POLICY_OP_AUTH_CHECK;
	ck_assert_int_eq(run(P("login"), &fail, NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_uint_eq(a.u.auth.failures, 3);
	/* events: 2 counted (ping is exempt), this one is the third. */
	ck_assert_int_eq(run(P("chat"), &ev, NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_uint_eq(a.u.event.count, 3);
	/* sliding: 2 of the 3 per minute used, and now the third. */
	ck_assert_int_eq(check("sl3", "k", NOW, &a), 0);
	ck_assert(!a.fallback && a.u.check.allowed);
	ck_assert_uint_eq(a.u.check.remaining, 0);
	teardown_set();
}
END_TEST

/*
 * Issue 10 item 19: a request that timed out (answered and journaled by the
 * fallback) but ran in Redis later is recognised by its late reply and not
 * replayed: charged once.
 */
START_TEST(test_late_reply_not_replayed)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "late", .klen = 4, .cost = 1 };
	struct policy_answer a;
	struct policies_store_stats ss;
	int i;

	start_redis();
	setup_set(20, true);
	kill(redis_pid, SIGSTOP);
	done_n = 0;
	ck_assert_int_eq(policy_submit(P("long"), &rq, NOW, &a, on_done, NULL), 1);
	while (!done_n)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert(got.fallback);
	policies_store_stats(tset, &ss);
	ck_assert_uint_eq(ss.outage_keys, 1);
	kill(redis_pid, SIGCONT);
	for (i = 0; i < 100000 && !ss.late_applied; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		policies_store_stats(tset, &ss);
		usleep(100);
	}
	ck_assert_uint_eq(ss.late_applied, 1);
	ck_assert_uint_eq(ss.outage_keys, 0);
	ck_assert(redis_up(tred));
	/* Trigger a replay (nothing left) and read the key: charged once. */
	policies_redis_up(tset);
	ck_assert_int_eq(check("long", "late", NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_uint_eq(a.u.check.remaining, 998);
	teardown_set();
}
END_TEST

/*
 * Issue 10 item 19 when the breaker opens: a hung Redis (SIGSTOP) trips it;
 * the requests that timed out were charged by the fallback and journaled.
 * When Redis resumes it runs them; their late replies, read on the tripped
 * connection, take them out of the journal before the replay: charged once.
 */
START_TEST(test_trip_late_replies_not_replayed)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "t", .klen = 1, .cost = 1 };
	struct policy_answer a;
	struct policies_store_stats ss;
	uint64_t sent = 0, t0;
	int i;

	start_redis();
	setup_set(20, true);
	kill(redis_pid, SIGSTOP);
	for (i = 0; i < 200 && redis_up(tred); i++) {
		int r = policy_submit(P("long"), &rq, NOW, &a, on_done, NULL);

		if (r == 1) {
			sent++;
			done_n = 0;
			while (!done_n)
				uv_run(&loop, UV_RUN_ONCE);
		}
	}
	ck_assert(!redis_up(tred));
	ck_assert_uint_ge(sent, 3);
	kill(redis_pid, SIGCONT);
	policies_store_stats(tset, &ss);
	t0 = uv_hrtime();
	/* Back up (a retry each second), replay done, late replies in (5 s at most). */
	while (uv_hrtime() - t0 < 5000000000ULL &&
	       (!redis_up(tred) || ss.outage_keys || ss.late_applied < sent)) {
		uv_run(&loop, UV_RUN_NOWAIT);
		policies_store_stats(tset, &ss);
		usleep(1000);
	}
	ck_assert(redis_up(tred));
	ck_assert_uint_eq(ss.outage_keys, 0);
	/* PEEK (charges nothing, even from a fallback), until Redis answers. */
	rq.peek = true;
	for (i = 0, a.fallback = true; i < 20 && a.fallback; i++)
		ck_assert_int_eq(run(P("long"), &rq, NOW, &a), 0);
	ck_assert(!a.fallback);
	ck_assert_msg(a.u.check.remaining == 1000 - sent,
		      "%llu requests ran in Redis, remaining %llu (want %llu): charged twice",
		      (unsigned long long)sent, (unsigned long long)a.u.check.remaining,
		      (unsigned long long)(1000 - sent));
	ck_assert_msg(ss.late_applied == sent, "late replies %llu of %llu",
		      (unsigned long long)ss.late_applied, (unsigned long long)sent);
	teardown_set();
}
END_TEST

/* SCRIPT FLUSH (a Redis that lost its script cache): NOSCRIPT, then EVAL, no fallback. */
/* Cluster routing: Redis's own CLUSTER KEYSLOT answers (redis-cli, 7.0). */
/* Issue 12 item 9 on the Redis store: Berlin's 2026-03-29 has 23 hours,
 * decided by the scripts on the same clock as memory. */
START_TEST(test_budget_berlin_dst)
{
	const uint64_t d29 = 1774738800000ULL, h = 3600000; /* 03-29 00:00 CET */
	struct policy_answer a;
	struct policy_req rq = { .op = POLICY_OP_CHECK, .key = "u", .klen = 1, .cost = 10 };
	static const struct {
		uint64_t at, cost;
		bool allowed;
		uint64_t reset, retry;
	} want[] = {
		{ d29 - h / 2, 10, true, h / 2, 0 },   { d29 - 1, 1, false, 1, 1 },
		{ d29, 10, true, 23 * h, 0 },	       { d29 + 23 * h - 1, 1, false, 1, 1 },
		{ d29 + 23 * h, 10, true, 24 * h, 0 },
	};
	size_t i;

	start_redis();
	setup_set(2000, true);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		rq.cost = want[i].cost;
		ck_assert_int_eq(run(P("berlin"), &rq, want[i].at, &a), 0);
		ck_assert_msg(!a.fallback, "%zu: fell back", i);
		ck_assert_int_eq(a.u.check.allowed, want[i].allowed);
		ck_assert_uint_eq(a.u.check.reset_ms, want[i].reset);
		ck_assert_uint_eq(a.u.check.retry_after_ms, want[i].retry);
	}
	teardown_set();
}
END_TEST

/* Issue 12: a budget role of amount 0 (tokens' NONE) reads a debt as the
 * smallest amount pays it back, on Redis as in memory; neither store's
 * answer depends on whether it still holds a key (Redis's keys outlive the
 * fixed clock here, as they outlive a memory store's sweep), and a debt
 * past its 1000000 periods is forgotten by both. */
START_TEST(test_budget_role_zero_same)
{
	const uint64_t h = 3600000, t = (T0 / h + 1) * h + 1000;
	static const struct {
		const char *key, *role;
		int op; /* 0 check, 1 peek, 2 charge */
		uint64_t at, cost;
		bool allowed;
		uint64_t remaining;
	} step[] = {
		/* 250 used in hour 0; NONE charges 10 in hour 1 (150 - 100 + 10) */
		{ "u", NULL, 2, t, 250, false, 0 },
		{ "u", "NONE", 2, t + h, 10, false, 0 },
		{ "u", NULL, 0, t + 2 * h, 1, true, 39 },
		/* used 1 in hour 1 (gone by hour 2); NONE charges 35 in hour 2 */
		{ "w", NULL, 0, t + h, 1, true, 99 },
		{ "w", "NONE", 2, t + 2 * h, 35, false, 0 },
		{ "w", NULL, 1, t + 2 * h, 1, true, 65 },
		{ "w", "BIG", 1, t + 2 * h, 1, true, 965 },
		/* the longest debt remembered, then forgotten on both */
		{ "c", NULL, 2, t, 1000000000000000ULL, false, 0 },
		{ "c", NULL, 2, t, 1000000000000000ULL, false, 0 },
		{ "c", NULL, 1, t + 999999 * h, 1, false, 0 },
		{ "c", NULL, 0, t + 1000000 * h, 1, true, 99 },
	};
	struct policies *mem;
	struct policy_answer a, m;
	char e[256];
	size_t i;

	start_redis();
	setup_set(2000, true);
	mem = policies_new(&tconf, NULL, 1, e, sizeof(e));
	ck_assert_msg(mem, "%s", e);
	for (i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		struct policy_req rq = { .op = step[i].op == 2 ? POLICY_OP_CHARGE : POLICY_OP_CHECK,
					 .key = step[i].key,
					 .klen = 1,
					 .cost = step[i].cost,
					 .peek = step[i].op == 1,
					 .role = step[i].role,
					 .rlen = step[i].role ? strlen(step[i].role) : 0 };

		ck_assert_int_eq(run(policies_find(mem, "tokens", 6), &rq, step[i].at, &m), 0);
		ck_assert_int_eq(run(P("tokens"), &rq, step[i].at, &a), 0);
		same(&m, &a, (int)i);
		ck_assert_msg(a.u.check.allowed == step[i].allowed &&
				      a.u.check.remaining == step[i].remaining,
			      "%zu: allowed %d remaining %llu", i, a.u.check.allowed,
			      (unsigned long long)a.u.check.remaining);
	}
	/* and never passes under NONE, in any hour */
	{
		struct policy_req rq = { .op = POLICY_OP_CHECK,
					 .key = "u",
					 .klen = 1,
					 .cost = 1,
					 .role = "NONE",
					 .rlen = 4 };

		ck_assert_int_eq(run(P("tokens"), &rq, t + 3 * h, &a), -ERANGE);
	}
	policies_free(mem);
	teardown_set();
}
END_TEST

START_TEST(test_key_slot)
{
	ck_assert_uint_eq(redis_key_slot("foo", 3), 12182);
	ck_assert_uint_eq(redis_key_slot("somekey", 7), 11058);
	ck_assert_uint_eq(redis_key_slot("{user1000}.following", 20), 3443);
	ck_assert_uint_eq(redis_key_slot("user1000", 8), 3443);
	/* An empty tag is no tag: the whole key is hashed. */
	ck_assert_uint_eq(redis_key_slot("{}foo", 5), 9500);
	ck_assert_uint_eq(redis_key_slot("{t:3:api:u1}", 12), redis_key_slot("t:3:api:u1", 10));
	ck_assert_uint_eq(redis_key_slot("a{b", 3), redis_key_slot("a{b", 3));
}
END_TEST

START_TEST(test_script_flush)
{
	struct policy_answer a;
	struct policies_store_stats ss;
	uint64_t fb;
	int i;

	start_redis();
	setup_set(2000, true);
	for (i = 0; i < 20; i++) {
		policies_store_stats(tset, &ss);
		fb = ss.fallback_decisions;
		redis_do("SCRIPT %s", "FLUSH");
		ck_assert_int_eq(check("long", "f1", NOW, &a), 0);
		ck_assert_msg(!a.fallback, "round %d: fell back after SCRIPT FLUSH", i);
		ck_assert_uint_eq(a.u.check.remaining, 999 - 2 * (uint64_t)i);
		ck_assert_int_eq(check("long", "f1", NOW, &a), 0);
		ck_assert_msg(!a.fallback, "round %d: the next one fell back", i);
		ck_assert_uint_eq(a.u.check.remaining, 998 - 2 * (uint64_t)i);
		policies_store_stats(tset, &ss);
		ck_assert_uint_eq(ss.fallback_decisions, fb);
	}
	teardown_set();
}
END_TEST

/* CL.THROTTLE on a set, waiting for Redis when it defers. */
static struct policy_cell_answer got_c;

static void on_done_c(int err, const struct policy_cell_answer *ans, void *arg)
{
	(void)arg;
	got_err = err;
	if (ans)
		got_c = *ans;
	done_n++;
}

static int run_cell(struct policies *ps, const struct policy_cell_req *rq, uint64_t now,
		    struct policy_cell_answer *ans)
{
	int r;

	done_n = 0;
	r = policy_submit_cell(ps, rq, now, ans, on_done_c, NULL);
	if (r != 1)
		return r;
	wait_done();
	*ans = got_c;
	return got_err;
}

/*
 * CL.THROTTLE (limits given per call) on memory and on Redis: a random
 * stream of calls (limits changing now and then on a key, quantities 0 to
 * above the burst, time jumps) answers alike, through Redis (no fallback),
 * interleaved with RL.CHECK of policy x on the same key names and CL.RESET; the Redis
 * keys are {ut:3:@cl:key}, never a policy's.
 */
START_TEST(test_cell_same_answers)
{
	static const uint64_t lim[][3] = { { 4, 1, 1 },	 { 15, 30, 60 }, { 0, 1, 10 },
					   { 9, 10, 1 }, { 2, 3, 7 },	 { 99, 1000, 3600 } };
	struct policies *mem;
	struct policy_answer am, ar;
	char e[256], key[8];
	uint64_t now = T0;
	int step, checked = 0, limited = 0, resets = 0;
	redisContext *c;
	redisReply *rp;

	start_redis();
	setup_set(2000, true);
	mem = policies_new(&tconf, NULL, 1, e, sizeof(e));
	ck_assert_msg(mem, "%s", e);
	for (step = 0; step < 3000; step++) {
		const uint64_t *l = lim[rnd(6)];
		struct policy_cell_req rq = { .key = key };
		struct policy_cell_answer cm, cr;
		int em, er;

		now += rnd(10) < 8 ? rnd(700) : rnd(10) < 9 ? rnd(30000) : rnd(4000000);
		snprintf(key, sizeof(key), "k%d", (int)rnd(4));
		rq.klen = strlen(key);
		if (rnd(8) == 0) {
			/* The policy's keys of the same names: apart from CL's. */
			struct policy_req pr = {
				.op = POLICY_OP_CHECK, .key = key, .klen = rq.klen, .cost = 1
			};

			ck_assert_int_eq(run(policies_find(mem, "x", 1), &pr, now, &am), 0);
			ck_assert_int_eq(run(P("x"), &pr, now, &ar), 0);
			same(&am, &ar, step);
			continue;
		}
		if (rnd(40) == 0) {
			/* CL.RESET on both. */
			ck_assert_int_eq(policy_reset_cell(mem, key, rq.klen, now, on_done, NULL),
					 0);
			done_n = 0;
			ck_assert_int_eq(policy_reset_cell(tset, key, rq.klen, now, on_done, NULL),
					 1);
			wait_done();
			ck_assert_int_eq(got_err, 0);
			resets++;
			continue;
		}
		/* Mostly one key's own limits; now and then another's. */
		if (rnd(5))
			l = lim[key[1] - '0'];
		rq.max_burst = l[0];
		rq.count = l[1];
		rq.period_s = l[2];
		rq.quantity = rnd(10) < 7 ? 1 : rnd(10) ? rnd(l[0] + 3) : 1000000000000ULL;
		em = run_cell(mem, &rq, now, &cm);
		er = run_cell(tset, &rq, now, &cr);
		ck_assert_msg(em == er, "step %d: memory %d, redis %d", step, em, er);
		ck_assert_int_eq(em, 0);
		ck_assert_msg(!cr.fallback, "step %d: answered by the fallback", step);
		ck_assert_msg(cm.limited == cr.limited && cm.limit == cr.limit &&
				      cm.remaining == cr.remaining &&
				      cm.retry_after_s == cr.retry_after_s &&
				      cm.reset_after_s == cr.reset_after_s,
			      "step %d: CL.THROTTLE %s %llu %llu %llu %llu: memory [%d %lld %lld "
			      "%lld %lld], redis [%d %lld %lld %lld %lld]",
			      step, key, (unsigned long long)rq.max_burst,
			      (unsigned long long)rq.count, (unsigned long long)rq.period_s,
			      (unsigned long long)rq.quantity, cm.limited, cm.limit, cm.remaining,
			      cm.retry_after_s, cm.reset_after_s, cr.limited, cr.limit,
			      cr.remaining, cr.retry_after_s, cr.reset_after_s);
		checked++;
		limited += cm.limited;
	}
	ck_assert_int_gt(checked, 2300);
	ck_assert_int_gt(limited, 200);
	ck_assert_int_gt(resets, 30);
	c = redisConnectUnix(sock);
	ck_assert(c && !c->err);
	rp = redisCommand(c, "KEYS {ut:3:@cl:*");
	ck_assert(rp && rp->type == REDIS_REPLY_ARRAY);
	ck_assert_int_gt((int)rp->elements, 0);
	freeReplyObject(rp);
	redisFree(c);
	policies_free(mem);
	teardown_set();
}
END_TEST

/* CL.THROTTLE calls of different limits in flight on Redis at once (the
 * set's one policy takes each call's limit in turn): each is decided with
 * its own, as the same calls one at a time in memory are, and the counts
 * (a quantity above the burst is a limited call) are the same. */
static struct policy_cell_answer fl_ans[24];
static int fl_err[24], fl_n;

static void on_done_fl(int err, const struct policy_cell_answer *ans, void *arg)
{
	int i = (int)(intptr_t)arg;

	fl_err[i] = err;
	if (ans)
		fl_ans[i] = *ans;
	fl_n++;
}

START_TEST(test_cell_in_flight)
{
	static const uint64_t lim[][3] = { { 4, 1, 1 }, { 15, 30, 60 }, { 0, 1, 10 }, { 2, 3, 7 } };
	struct policy_stats sm, sr;
	struct policies *mem;
	char e[256], key[24][8];
	int round, i, j;

	start_redis();
	setup_set(2000, true);
	mem = policies_new(&tconf, NULL, 1, e, sizeof(e));
	ck_assert_msg(mem, "%s", e);
	for (round = 0; round < 6; round++) {
		struct policy_cell_req rq[24];
		uint64_t now = T0 + 700 * (uint64_t)round;

		fl_n = 0;
		for (i = 0; i < 24; i++) {
			const uint64_t *l = lim[i % 4];

			snprintf(key[i], sizeof(key[i]), "f%d", i & 0xff);
			rq[i] = (struct policy_cell_req){
				.key = key[i],
				.klen = strlen(key[i]),
				.max_burst = l[0],
				.count = l[1],
				.period_s = l[2],
				.quantity = i % 7 == 6 ? 99 : 1 + (uint64_t)(i % 3)
			};
			ck_assert_int_eq(policy_submit_cell(tset, &rq[i], now, &fl_ans[i],
							    on_done_fl, (void *)(intptr_t)i),
					 1);
		}
		for (j = 0; j < 100000 && fl_n < 24; j++)
			uv_run(&loop, UV_RUN_ONCE);
		ck_assert_int_eq(fl_n, 24);
		for (i = 0; i < 24; i++) {
			struct policy_cell_answer cm;

			ck_assert_int_eq(fl_err[i], 0);
			ck_assert_int_eq(run_cell(mem, &rq[i], now, &cm), 0);
			ck_assert_msg(!fl_ans[i].fallback, "%d: fell back", i);
			ck_assert_msg(
				cm.limited == fl_ans[i].limited && cm.limit == fl_ans[i].limit &&
					cm.remaining == fl_ans[i].remaining &&
					cm.retry_after_s == fl_ans[i].retry_after_s &&
					cm.reset_after_s == fl_ans[i].reset_after_s,
				"round %d call %d: memory [%d %lld %lld %lld %lld], redis [%d "
				"%lld %lld %lld %lld]",
				round, i, cm.limited, cm.limit, cm.remaining, cm.retry_after_s,
				cm.reset_after_s, fl_ans[i].limited, fl_ans[i].limit,
				fl_ans[i].remaining, fl_ans[i].retry_after_s,
				fl_ans[i].reset_after_s);
		}
	}
	ck_assert(policies_cell(mem, NULL, &sm));
	ck_assert(policies_cell(tset, NULL, &sr));
	ck_assert_uint_eq(sm.allowed, sr.allowed);
	ck_assert_uint_eq(sm.denied, sr.denied);
	ck_assert_uint_eq(sm.warned, sr.warned);
	ck_assert_uint_eq(sm.blocked, sr.blocked);
	/* 24 calls a round, 3 of them above the burst, and some refused */
	ck_assert_uint_eq(sr.allowed + sr.denied, 6 * 24);
	ck_assert_uint_ge(sr.denied, 6 * 3 + 1);
	policies_free(mem);
	teardown_set();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redisstore");
	TCase *tc = tcase_create("redisstore");
	SRunner *sr;
	int failed;
	char rm[96];

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_same_answers);
	tcase_add_test(tc, test_sliding_two_hosts);
	tcase_add_test(tc, test_multi_conflict);
	tcase_add_test(tc, test_multi_down);
	tcase_add_test(tc, test_multi_concurrent);
	tcase_add_test(tc, test_multi_concurrent_hosts);
	tcase_add_test(tc, test_multi_contended);
	tcase_add_test(tc, test_down_falls_back);
	tcase_add_test(tc, test_replica_refused);
	tcase_add_test(tc, test_key_error_stays_with_key);
	tcase_add_test(tc, test_unreadable_reply_stays_with_request);
	tcase_add_test(tc, test_no_key_collision);
	tcase_add_test(tc, test_breaker_needs_time);
	tcase_add_test(tc, test_replay_in_background);
	tcase_add_test(tc, test_late_reply_not_replayed);
	tcase_add_test(tc, test_replay_every_type);
	tcase_add_test(tc, test_script_flush);
	tcase_add_test(tc, test_key_slot);
	tcase_add_test(tc, test_budget_berlin_dst);
	tcase_add_test(tc, test_budget_role_zero_same);
	tcase_add_test(tc, test_trip_late_replies_not_replayed);
	tcase_add_test(tc, test_cell_same_answers);
	tcase_add_test(tc, test_cell_in_flight);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	strcpy(zdir, "/tmp/fgut-tz.XXXXXX");
	if (!mkdtemp(zdir) || make_zone()) {
		perror(zdir);
		return 1;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(rm, sizeof(rm), "rm -rf %s", zdir);
	if (system(rm))
		failed++;
	return failed ? 1 : 0;
}
