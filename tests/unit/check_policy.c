// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* policy: the four limiters with an injected clock (nothing sleeps), as an
 * application sees them through RL.CHECK, RL.AUTH.*, RL.EVENT; reloads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"
#include "policy.h"
#include "policy_int.h" /* the Redis state's ids, which must not move */
#include "policy_kind.h"
#include "policy_sync.h"
#include "tzone.h"

/* 2026-11-25 12:00:00 UTC, a round second: edges are easy to place. */
#define T0     1795608000000ULL
#define DAY_MS 86400000ULL

static struct fg_conf conf;
static struct fg_conf_policy pol[8];
static struct policies *ps;
static char err[256];

static struct fg_conf_policy *add(const char *name, enum policy_type type)
{
	struct fg_conf_policy *c = &pol[conf.npolicies++];

	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->type = type;
	config_policy_defaults(c);
	return c;
}

static void limit(struct fg_conf_policy *c, uint64_t count, uint64_t per_ms)
{
	c->limits[c->nlimits].count = count;
	c->limits[c->nlimits++].per_ms = per_ms;
}

static void role(struct fg_conf_policy *c, const char *name, uint32_t mult_milli, uint64_t amount)
{
	strcpy(c->roles[c->nroles].name, name);
	c->roles[c->nroles].mult_milli = mult_milli;
	c->roles[c->nroles++].amount = amount;
}

static void setup(void)
{
	memset(&conf, 0, sizeof(conf));
	memset(pol, 0, sizeof(pol));
	conf.policies = pol;
	conf.store.max_keys = 1000;
	ps = NULL;
}

static void teardown(void)
{
	policies_free(ps);
	ps = NULL;
}

static struct policy *build(const char *name)
{
	struct policies *n = policies_new(&conf, ps, 42, err, sizeof(err));

	ck_assert_msg(n, "%s", err);
	ps = n;
	return name ? policies_find(ps, name, strlen(name)) : NULL;
}

static struct rl_result chk(struct policy *p, const char *key, uint64_t cost, const char *r,
			    bool peek, uint64_t now)
{
	struct rl_result res;
	int e = policy_check(p, key, strlen(key), cost, r, r ? strlen(r) : 0, peek, now, &res);

	ck_assert_int_eq(e, 0);
	return res;
}

static int allowed_n(struct policy *p, const char *key, int tries, uint64_t now)
{
	int i, n = 0;

	for (i = 0; i < tries; i++)
		n += chk(p, key, 1, NULL, false, now).allowed;
	return n;
}

/* A fixed window lets 10 pass just before its edge and 10 just after; GCRA
 * lets through 10 in the two milliseconds, then one every 100 ms. */
START_TEST(test_window_no_edge_burst)
{
	struct policy *p;
	struct rl_result r;
	uint64_t t;
	int n = 0;

	limit(add("api", POLICY_WINDOW), 10, 1000);
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 15, T0 - 1), 10);
	ck_assert_int_eq(allowed_n(p, "k", 15, T0), 0);
	ck_assert_int_eq(allowed_n(p, "k", 15, T0 + 1), 0);
	r = chk(p, "k", 1, NULL, false, T0);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.state, "deny");
	ck_assert_str_eq(r.window, "1s");
	ck_assert_uint_eq(r.limit, 10);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.retry_after_ms, 99);
	ck_assert_uint_eq(r.reset_ms, 999);
	ck_assert(!chk(p, "k", 1, NULL, false, T0 + 98).allowed);
	ck_assert(chk(p, "k", 1, NULL, false, T0 + 99).allowed);

	/* Hammered every millisecond for a second: never more than the rate. */
	for (t = T0 + 100; t < T0 + 1100; t++)
		n += allowed_n(p, "k", 3, t);
	ck_assert_int_eq(n, 10);
}
END_TEST

/* All windows are checked and charged together; a refused request charges
 * none of them, not even the windows it would have passed. */
START_TEST(test_window_atomic)
{
	struct fg_conf_policy *c = add("api", POLICY_WINDOW);
	struct policy *p;
	struct rl_result r;
	int i;

	limit(c, 2, 1000);
	limit(c, 3, 60000);
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 2, T0), 2);
	for (i = 0; i < 20; i++) {
		r = chk(p, "k", 1, NULL, false, T0);
		ck_assert(!r.allowed);
		ck_assert_str_eq(r.window, "1s");
	}
	/* The 1 min window still has its third request. */
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_str_eq(r.window, "1m");
	ck_assert_uint_eq(r.limit, 3);
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.window, "1m");
	/* One request back every 20 s, from the first one at T0. */
	ck_assert_uint_eq(r.retry_after_ms, 19000);
	/* Refused by 1m: 1s not charged, so 2 pass once 1m allows 2. */
	for (i = 0; i < 20; i++)
		ck_assert(!chk(p, "k", 1, NULL, false, T0 + 1000 + (uint64_t)i).allowed);
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 40000), 2);

	/* A cost above a window's whole limit can never pass. */
	ck_assert_int_eq(policy_check(p, "k", 1, 4, NULL, 0, false, T0, &r), -ERANGE);
}
END_TEST

START_TEST(test_window_peek_cost)
{
	struct policy *p;
	struct rl_result r;

	limit(add("api", POLICY_WINDOW), 10, 1000);
	p = build("api");
	r = chk(p, "k", 4, NULL, true, T0);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 10);
	r = chk(p, "k", 4, NULL, false, T0);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 6);
	r = chk(p, "k", 7, NULL, true, T0);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.remaining, 6);
	ck_assert_uint_eq(r.retry_after_ms, 100);
	r = chk(p, "k", 6, NULL, false, T0);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.reset_ms, 1000);
	/* Peeking refused state stores and blocks nothing either. */
	ck_assert_int_eq(allowed_n(p, "k", 1, T0 + 100), 1);
}
END_TEST

START_TEST(test_window_warn)
{
	struct policy *p;
	int i;

	limit(add("api", POLICY_WINDOW), 10, 1000);
	p = build("api");
	for (i = 1; i <= 11; i++) {
		struct rl_result r = chk(p, "k", 1, NULL, false, T0);

		ck_assert_str_eq(r.state, i < 8 ? "ok" : i <= 10 ? "warn" : "deny");
		ck_assert_uint_eq(r.remaining, i <= 10 ? 10 - (uint64_t)i : 0);
	}
}
END_TEST

START_TEST(test_window_roles)
{
	struct fg_conf_policy *c = add("api", POLICY_WINDOW);
	struct policy *p;
	struct rl_result r;

	limit(c, 10, 1000);
	limit(c, 100, 60000);
	role(c, "OWNER", 3000, 0);
	role(c, "MAINTAINER", 2000, 0);
	role(c, "WRITER", 1500, 0);
	role(c, "READER", 1000, 0);
	p = build("api");
	r = chk(p, "o", 1, "OWNER", false, T0);
	ck_assert_uint_eq(r.limit, 30);
	ck_assert_uint_eq(r.remaining, 29);
	ck_assert_uint_eq(chk(p, "w", 1, "WRITER", false, T0).limit, 15);
	ck_assert_uint_eq(chk(p, "m", 1, "maintainer", false, T0).limit, 20);
	ck_assert_uint_eq(chk(p, "r", 1, "READER", false, T0).limit, 10);
	ck_assert_uint_eq(chk(p, "n", 1, NULL, false, T0).limit, 10);
	ck_assert_int_eq(policy_check(p, "n", 1, 1, "ADMIN", 5, false, T0, &r), -ENOENT);

	/* An OWNER gets 30 at once, a WRITER 15, then both are refused. */
	{
		int i, n = 0;

		for (i = 0; i < 40; i++)
			n += chk(p, "o2", 1, "OWNER", false, T0).allowed;
		ck_assert_int_eq(n, 30);
		for (n = 0, i = 0; i < 40; i++)
			n += chk(p, "w2", 1, "WRITER", false, T0).allowed;
		ck_assert_int_eq(n, 15);
	}
}
END_TEST

START_TEST(test_window_block_for)
{
	struct fg_conf_policy *c = add("api", POLICY_WINDOW);
	struct policy *p;
	struct rl_result r;
	struct policy_stats st;

	limit(c, 2, 1000);
	c->block_for_ms = 5 * 60 * 1000;
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 2, T0), 2);
	/* A peek does not trigger the block. */
	r = chk(p, "k", 1, NULL, true, T0);
	ck_assert_str_eq(r.state, "deny");
	r = chk(p, "k", 1, NULL, false, T0);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 300000);
	r = chk(p, "k", 1, NULL, false, T0 + 10000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 290000);
	/* Retrying does not extend the block. */
	r = chk(p, "k", 1, NULL, false, T0 + 299999);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 1);
	r = chk(p, "k", 1, NULL, false, T0 + 300000);
	ck_assert(r.allowed);
	ck_assert_str_eq(r.state, "ok");
	/* Other keys were never affected. */
	ck_assert(chk(p, "other", 1, NULL, false, T0 + 1).allowed);

	/* RL.BLOCK / RL.UNBLOCK / RL.RESET */
	ck_assert_int_eq(policy_block(p, "x", 1, 60, T0), 0);
	r = chk(p, "x", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 59000);
	ck_assert_int_eq(policy_block(p, "x", 1, 10, T0 + 1000), 0); /* never shortens */
	ck_assert_uint_eq(chk(p, "x", 1, NULL, false, T0 + 2000).retry_after_ms, 58000);
	ck_assert_int_eq(policy_unblock(p, "x", 1, T0 + 2000), 0);
	ck_assert(chk(p, "x", 1, NULL, false, T0 + 2000).allowed);
	ck_assert_int_eq(policy_block(p, "x", 1, 0, T0), -EINVAL);
	ck_assert_int_eq(allowed_n(p, "y", 5, T0), 2);
	ck_assert_int_eq(policy_reset(p, "y", 1, T0), 0);
	ck_assert_int_eq(allowed_n(p, "y", 5, T0), 2);

	policy_stats(p, &st);
	ck_assert_uint_gt(st.blocked, 3);
	ck_assert_uint_gt(st.allowed, 5);
	ck_assert_uint_gt(st.keys, 2);
}
END_TEST

/*
 * Issue 12 item 2: during a block, retry_after_ms is until the block ends
 * AND the window takes the request. 2 per 10 s, block_for 3 s: the third
 * request is blocked with retry 5 s; 1 s later the block has 2 s left but
 * the window 4 s: 4 s, and a request then passes (obeying 2 s was refused
 * and blocked again). remaining and reset_ms are the window's real ones.
 */
START_TEST(test_window_block_retry)
{
	struct fg_conf_policy *c = add("blk_short", POLICY_WINDOW);
	struct policy *p;
	struct rl_result r;

	limit(c, 2, 10000);
	c->block_for_ms = 3000;
	p = build("blk_short");
	ck_assert_int_eq(allowed_n(p, "k", 2, T0), 2);
	r = chk(p, "k", 1, NULL, false, T0);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 5000);
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 4000);
	ck_assert_uint_eq(r.limit, 2);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.reset_ms, 9000);
	/* Obeying the block's 2 s (the old answer): refused and blocked again. */
	r = chk(p, "k", 1, NULL, false, T0 + 3000);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.retry_after_ms, 3000);
	/* Obeying the answer passes. */
	ck_assert_int_eq(policy_reset(p, "k", 1, T0), 0);
	ck_assert_int_eq(allowed_n(p, "k", 2, T0), 2);
	chk(p, "k", 1, NULL, false, T0);
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert(chk(p, "k", 1, NULL, false, T0 + 1000 + r.retry_after_ms).allowed);

	/* RL.BLOCK on a key with room: the block's time, the window's real
	 * remaining (one used of two) and reset. */
	ck_assert_int_eq(allowed_n(p, "b", 1, T0), 1);
	ck_assert_int_eq(policy_block(p, "b", 1, 60, T0), 0);
	r = chk(p, "b", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 59000);
	ck_assert_uint_eq(r.remaining, 1);
	ck_assert_uint_eq(r.reset_ms, 4000);
	/* A cost of 2 needs the window's whole 10 s back: past the block's end. */
	ck_assert_int_eq(policy_block(p, "c", 1, 1, T0), 0);
	ck_assert_int_eq(allowed_n(p, "c", 2, T0), 0);
	ck_assert_int_eq(policy_unblock(p, "c", 1, T0), 0);
	ck_assert_int_eq(allowed_n(p, "c", 2, T0), 2);
	ck_assert_int_eq(policy_block(p, "c", 1, 1, T0), 0);
	r = chk(p, "c", 2, NULL, false, T0 + 500);
	ck_assert_uint_eq(r.retry_after_ms, 9500);
}
END_TEST

/* Issue 12 item 2, the budget: RL.BLOCK k 5 on an exhausted key waits
 * until the budget is back (the next period), not 5 s. */
START_TEST(test_budget_block_retry)
{
	struct fg_conf_policy *c = add("ai_tokens", POLICY_BUDGET);
	uint64_t midnight = (T0 / DAY_MS + 1) * DAY_MS, t = midnight - 74 * 60000;
	struct policy *p;
	struct rl_result r;

	c->amount = 1000;
	p = build("ai_tokens");
	ck_assert(chk(p, "k", 1000, NULL, false, t).allowed);
	ck_assert_int_eq(policy_block(p, "k", 1, 5, t), 0);
	r = chk(p, "k", 1, NULL, false, t + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 74 * 60000 - 1000);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.reset_ms, 74 * 60000 - 1000);
	/* A key with enough left waits for the block only; cost 0 too. */
	ck_assert(chk(p, "m", 400, NULL, false, t).allowed);
	ck_assert_int_eq(policy_block(p, "m", 1, 5, t), 0);
	r = chk(p, "m", 600, NULL, false, t + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 4000);
	ck_assert_uint_eq(r.remaining, 600);
	ck_assert_uint_eq(chk(p, "m", 601, NULL, false, t + 1000).retry_after_ms,
			  74 * 60000 - 1000);
	ck_assert(chk(p, "m", 600, NULL, false, t + 5000).allowed);
}
END_TEST

START_TEST(test_keys)
{
	struct policy *p;
	struct rl_result r;
	char big[POLICY_KEY_MAX + 1];
	const char a[] = { 'u', 0, 'a' }, b[] = { 'u', 0, 'b' };

	limit(add("api", POLICY_WINDOW), 1, 1000);
	p = build("api");
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(policy_check(p, big, sizeof(big), 1, NULL, 0, false, T0, &r), -E2BIG);
	ck_assert_int_eq(policy_check(p, big, POLICY_KEY_MAX, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(r.allowed);
	ck_assert_int_eq(policy_check(p, big, POLICY_KEY_MAX, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(!r.allowed);
	/* Binary keys: NUL bytes inside are part of the key. */
	ck_assert_int_eq(policy_check(p, a, 3, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(r.allowed);
	ck_assert_int_eq(policy_check(p, b, 3, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(r.allowed);
	ck_assert_int_eq(policy_check(p, a, 3, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(!r.allowed);
	ck_assert_int_eq(policy_check(p, "u", 1, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(r.allowed);
	ck_assert_int_eq(policy_check(p, "", 0, 1, NULL, 0, false, T0, &r), 0);
	ck_assert(r.allowed);
	ck_assert_int_eq(policy_block(p, big, sizeof(big), 1, T0), -E2BIG);
	ck_assert_int_eq(policy_reset(p, big, sizeof(big), T0), -E2BIG);
	ck_assert_int_eq(policy_check(p, "u", 1, POLICY_COST_MAX + 1, NULL, 0, false, T0, &r),
			 -EINVAL);
}
END_TEST

START_TEST(test_wrong_type)
{
	struct policy *w, *a, *e;
	struct rl_result r;
	struct rl_auth_result ar;
	struct rl_event_result er;

	limit(add("api", POLICY_WINDOW), 1, 1000);
	add("login", POLICY_PROGRESSIVE);
	add("ev", POLICY_EVENTS)->limit = 10;
	build(NULL);
	w = policies_find(ps, "api", 3);
	a = policies_find(ps, "login", 5);
	e = policies_find(ps, "ev", 2);
	ck_assert_ptr_null(policies_find(ps, "apix", 4));
	ck_assert_ptr_null(policies_find(ps, "ap", 2));
	ck_assert_uint_eq(policies_count(ps), 3);
	ck_assert_ptr_eq(policies_at(ps, 1), a);
	ck_assert_str_eq(policy_type_name(a), "progressive");
	ck_assert_str_eq(policy_name(e), "ev");
	ck_assert_int_eq(policy_check(a, "k", 1, 1, NULL, 0, false, T0, &r), -EOPNOTSUPP);
	ck_assert_int_eq(policy_check(e, "k", 1, 1, NULL, 0, false, T0, &r), -EOPNOTSUPP);
	ck_assert_int_eq(policy_auth_fail(w, "k", 1, T0, &ar), -EOPNOTSUPP);
	ck_assert_int_eq(policy_auth_check(e, "k", 1, T0, &ar), -EOPNOTSUPP);
	ck_assert_int_eq(policy_auth_ok(w, "k", 1, T0), -EOPNOTSUPP);
	ck_assert_int_eq(policy_event(w, "c", 1, "x", 1, T0, &er), -EOPNOTSUPP);
	ck_assert_int_eq(policy_conn_close(a, "c", 1, T0), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_progressive_sequence)
{
	static const uint64_t want[] = { 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30 };
	struct policy *p;
	struct rl_auth_result r;
	uint64_t t = T0;
	size_t i;

	add("login", POLICY_PROGRESSIVE);
	p = build("login");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(policy_auth_check(p, "ip", 2, t, &r), 0);
		ck_assert_uint_eq(r.delay_ms, 0); /* waited out the last delay */
		ck_assert_int_eq(policy_auth_fail(p, "ip", 2, t, &r), 0);
		ck_assert_msg(r.delay_ms == want[i] * 1000, "failure %zu: delay %llu", i + 1,
			      (unsigned long long)r.delay_ms);
		ck_assert_uint_eq(r.failures, i + 1);
		ck_assert(!r.ban);
		t += r.delay_ms;
	}
	/* auth_check: the delay minus the time since the last failure. */
	ck_assert_int_eq(policy_auth_check(p, "ip", 2, t - 30000 + 12345, &r), 0);
	ck_assert_uint_eq(r.delay_ms, 30000 - 12345);
	ck_assert_uint_eq(r.failures, 11);

	/* A key that never failed has nothing to wait for. */
	ck_assert_int_eq(policy_auth_check(p, "other", 5, t, &r), 0);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_eq(r.delay_ms, 0);
}
END_TEST

START_TEST(test_progressive_forget_reset_ban)
{
	struct fg_conf_policy *c = add("login", POLICY_PROGRESSIVE);
	struct policy *p;
	struct rl_auth_result r;
	struct policy_stats st;
	int i;

	c->xdp_ban_after = 6;
	c->xdp_ban_for_ms = 3600000;
	p = build("login");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(policy_auth_fail(p, "k", 1, T0, &r), 0);
	ck_assert_uint_eq(r.delay_ms, 2000);
	/* Forgotten exactly forget_after after the last failure. */
	ck_assert_int_eq(policy_auth_check(p, "k", 1, T0 + 15 * 60000 - 1, &r), 0);
	ck_assert_uint_eq(r.failures, 5);
	ck_assert_int_eq(policy_auth_check(p, "k", 1, T0 + 15 * 60000, &r), 0);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_int_eq(policy_auth_fail(p, "k", 1, T0 + 15 * 60000, &r), 0);
	ck_assert_uint_eq(r.failures, 1);
	ck_assert_uint_eq(r.delay_ms, 0);

	/* RL.AUTH.OK resets. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(policy_auth_fail(p, "k", 1, T0 + 15 * 60000, &r), 0);
	ck_assert_uint_eq(r.failures, 5);
	ck_assert_int_eq(policy_auth_ok(p, "k", 1, T0 + 15 * 60000 + 1), 0);
	ck_assert_int_eq(policy_auth_check(p, "k", 1, T0 + 15 * 60000 + 1, &r), 0);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_eq(r.delay_ms, 0);

	/* xdp_ban: from the 6th failure on, the caller is told to ban. */
	for (i = 1; i <= 7; i++) {
		ck_assert_int_eq(policy_auth_fail(p, "198.51.100.7", 12, T0, &r), 0);
		ck_assert(r.ban == (i >= 6));
		ck_assert_uint_eq(r.ban_for_ms, i >= 6 ? 3600000 : 0);
	}
	/* A block covers auth waits too. */
	ck_assert_int_eq(policy_block(p, "b", 1, 100, T0), 0);
	ck_assert_int_eq(policy_auth_check(p, "b", 1, T0 + 1000, &r), 0);
	ck_assert_uint_eq(r.delay_ms, 99000);
	policy_stats(p, &st);
	ck_assert_uint_eq(st.xdp_bans, 2);
	ck_assert_uint_eq(st.auth_failures, 5 + 1 + 4 + 7);
}
END_TEST

START_TEST(test_events)
{
	struct fg_conf_policy *c = add("socket_events", POLICY_EVENTS);
	struct rl_event_result r;
	struct policy *p;
	int i, warns = 0;

	c->limit = 100;
	c->window_ms = 60000;
	strcpy(c->exempt[c->nexempt++], "ping");
	strcpy(c->exempt[c->nexempt++], "pong");
	p = build("socket_events");
	for (i = 1; i <= 120; i++) {
		const char *want = i == 80 ? "warn" : i >= 100 ? "disconnect" : "ok";

		ck_assert_int_eq(policy_event(p, "conn1", 5, "msg", 3, T0 + (uint64_t)i, &r), 0);
		ck_assert_msg(!strcmp(r.state, want), "event %d: %s", i, r.state);
		ck_assert_uint_eq(r.count, (uint64_t)i);
		ck_assert_uint_eq(r.limit, 100);
		warns += !strcmp(r.state, "warn");
		/* Exempt events are answered but never counted. */
		ck_assert_int_eq(policy_event(p, "conn1", 5, "ping", 4, T0 + (uint64_t)i, &r), 0);
		ck_assert_str_eq(r.state, "exempt");
		ck_assert_uint_eq(r.count, (uint64_t)i);
	}
	ck_assert_int_eq(warns, 1);
	/* Other connections have their own counts. */
	ck_assert_int_eq(policy_event(p, "conn2", 5, "msg", 3, T0, &r), 0);
	ck_assert_str_eq(r.state, "ok");
	ck_assert_uint_eq(r.count, 1);
	/* "Ping" is not "ping". */
	ck_assert_int_eq(policy_event(p, "conn2", 5, "Ping", 4, T0, &r), 0);
	ck_assert_uint_eq(r.count, 2);
	/* A new window one minute after the first counted event. */
	ck_assert_int_eq(policy_event(p, "conn1", 5, "msg", 3, T0 + 60000, &r), 0);
	ck_assert_str_eq(r.state, "disconnect");
	ck_assert_int_eq(policy_event(p, "conn1", 5, "msg", 3, T0 + 60001, &r), 0);
	ck_assert_str_eq(r.state, "ok");
	ck_assert_uint_eq(r.count, 1);
	/* Close frees the connection's state. */
	for (i = 0; i < 90; i++)
		policy_event(p, "conn3", 5, "msg", 3, T0, &r);
	ck_assert_uint_eq(r.count, 90);
	ck_assert_int_eq(policy_conn_close(p, "conn3", 5, T0), 0);
	ck_assert_int_eq(policy_event(p, "conn3", 5, "msg", 3, T0, &r), 0);
	ck_assert_uint_eq(r.count, 1);
}
END_TEST

/* Issue 12 item 4: a limit of 2 or more warns once before the event that
 * disconnects: at min(ceil(warn_at x limit), limit - 1). */
START_TEST(test_events_small_limits)
{
	static const struct {
		uint64_t limit;
		uint32_t warn_at;
		uint64_t warn_n; /* 0: never */
	} t[] = { { 3, 800, 2 },  { 2, 800, 1 },   { 1, 800, 0 }, { 5, 800, 4 },
		  { 10, 800, 8 }, { 10, 1000, 9 }, { 10, 1, 1 },  { 4, 500, 2 } };
	struct rl_event_result r;
	struct policy *p;
	char name[16];
	size_t i;
	uint64_t n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fg_conf_policy *c;

		setup();
		snprintf(name, sizeof(name), "e%zu", i);
		c = add(name, POLICY_EVENTS);
		c->limit = t[i].limit;
		c->window_ms = 60000;
		c->warn_at_milli = t[i].warn_at;
		p = build(name);
		for (n = 1; n <= t[i].limit; n++) {
			const char *want = n == t[i].limit    ? "disconnect"
					   : n == t[i].warn_n ? "warn"
							      : "ok";

			ck_assert_int_eq(policy_event(p, "c", 1, "m", 1, T0, &r), 0);
			ck_assert_msg(!strcmp(r.state, want),
				      "limit %llu warn_at %u event %llu: %s",
				      (unsigned long long)t[i].limit, t[i].warn_at,
				      (unsigned long long)n, r.state);
		}
		teardown();
	}
}
END_TEST

/* An event type of an events policy (events:). */
static void evtype(struct fg_conf_policy *c, const char *name, uint64_t limit, uint64_t per_ms,
		   uint32_t warn_at_milli)
{
	struct fg_conf_event_type *t = &c->evtypes[c->nevtypes++];

	strcpy(t->name, name);
	t->limit = limit;
	t->per_ms = per_ms;
	t->warn_at_milli = warn_at_milli;
}

static struct rl_event_result ev(struct policy *p, const char *conn, const char *event,
				 uint64_t now)
{
	struct rl_event_result r;

	ck_assert_int_eq(policy_event(p, conn, strlen(conn), event, strlen(event), now, &r), 0);
	return r;
}

/* The meeting server's plan (issue 12 item 8): 50 offers, 50 ICE candidates,
 * 50 host actions: each type answered by its own limit (10/1m, 50/10s,
 * 3/1m with warn_at 0.5), the other types untouched by one's disconnect. */
static struct policy *meeting(uint64_t other_limit)
{
	struct fg_conf_policy *c = add("meet", POLICY_EVENTS);

	c->limit = other_limit;
	c->window_ms = other_limit ? 1000 : 0;
	evtype(c, "offer", 10, 60000, 0);
	evtype(c, "ice-candidate", 50, 10000, 0);
	evtype(c, "host:kick", 3, 60000, 500);
	strcpy(c->exempt[c->nexempt++], "ping");
	return build("meet");
}

START_TEST(test_event_types)
{
	struct policy *p = meeting(0);
	struct rl_event_result r;
	int i;

	for (i = 1; i <= 12; i++) {
		r = ev(p, "c1", "offer", T0 + (uint64_t)i);
		ck_assert_str_eq(r.state, i == 8 ? "warn" : i >= 10 ? "disconnect" : "ok");
		ck_assert_uint_eq(r.count, (uint64_t)i);
		ck_assert_uint_eq(r.limit, 10);
		ck_assert_str_eq(r.type, "offer");
	}
	/* The offers' disconnect leaves the ICE candidates' count alone. */
	for (i = 1; i <= 50; i++) {
		r = ev(p, "c1", "ice-candidate", T0 + 100);
		ck_assert_str_eq(r.state, i == 40 ? "warn" : i == 50 ? "disconnect" : "ok");
		ck_assert_uint_eq(r.count, (uint64_t)i);
		ck_assert_str_eq(r.type, "ice-candidate");
	}
	/* Its own warn_at: 0.5 x 3 -> the 2nd warns, the 3rd disconnects. */
	ck_assert_str_eq(ev(p, "c1", "host:kick", T0 + 200).state, "ok");
	r = ev(p, "c1", "host:kick", T0 + 200);
	ck_assert_str_eq(r.state, "warn");
	ck_assert_uint_eq(r.limit, 3);
	ck_assert_str_eq(ev(p, "c1", "host:kick", T0 + 200).state, "disconnect");
	/* Exempt: counted nowhere, no type. */
	r = ev(p, "c1", "ping", T0 + 200);
	ck_assert_str_eq(r.state, "exempt");
	ck_assert_str_eq(r.type, "");
	/* Names are exact: no limit: for the others, so they are refused, and
	 * refusing them keeps no state. */
	ck_assert_int_eq(policy_event(p, "c1", 2, "Offer", 5, T0, &r), -ENOENT);
	ck_assert_int_eq(policy_event(p, "c9", 2, "chat", 4, T0, &r), -ENOENT);
	/* Each type's own window: the ICE candidates' 10 s is over, the offers'
	 * minute is not. */
	r = ev(p, "c1", "ice-candidate", T0 + 10100);
	ck_assert_str_eq(r.state, "ok");
	ck_assert_uint_eq(r.count, 1);
	ck_assert_str_eq(ev(p, "c1", "offer", T0 + 10100).state, "disconnect");
	/* Another connection has counts of its own. */
	r = ev(p, "c2", "offer", T0 + 10100);
	ck_assert_uint_eq(r.count, 1);
	/* One RL.CONN.CLOSE forgets every type of the connection. */
	ck_assert_int_eq(policy_conn_close(p, "c1", 2, T0 + 10200), 0);
	ck_assert_uint_eq(ev(p, "c1", "offer", T0 + 10200).count, 1);
	ck_assert_uint_eq(ev(p, "c1", "ice-candidate", T0 + 10200).count, 1);
	ck_assert_str_eq(ev(p, "c1", "host:kick", T0 + 10200).state, "ok");
	/* One RL.BLOCK of the connection disconnects every type. */
	ck_assert_int_eq(policy_block(p, "c2", 2, 5, T0 + 10300), 0);
	ck_assert_str_eq(ev(p, "c2", "ice-candidate", T0 + 10300).state, "disconnect");
	ck_assert_str_eq(ev(p, "c2", "host:kick", T0 + 10300).state, "disconnect");
}
END_TEST

/* With a limit: of its own, the types events: does not name share it (one
 * counter, "*"): a peer sending a new name each time gets no new state and
 * no new allowance. A policy without events: answers as it always did. */
START_TEST(test_event_types_others)
{
	struct policy *p = meeting(5), *old;
	struct fg_conf_policy *o = add("plain", POLICY_EVENTS);
	struct rl_event_result r;
	struct policy_stats st;
	char name[32];
	int i;

	o->limit = 3;
	o->window_ms = 1000;
	p = build("meet");
	old = policies_find(ps, "plain", 5);
	for (i = 1; i <= 1000; i++) {
		snprintf(name, sizeof(name), "evil%d", i);
		r = ev(p, "c1", name, T0);
		ck_assert_str_eq(r.type, "*");
		ck_assert_uint_eq(r.limit, 5);
		if (i <= 5)
			ck_assert_str_eq(r.state, i == 4 ? "warn" : i == 5 ? "disconnect" : "ok");
	}
	ck_assert_str_eq(r.state, "disconnect");
	ck_assert_uint_eq(r.count, 1000);
	/* The named types are not held back by the others' disconnect. */
	r = ev(p, "c1", "offer", T0);
	ck_assert_str_eq(r.state, "ok");
	ck_assert_uint_eq(r.count, 1);
	policy_stats(p, &st);
	ck_assert_uint_eq(st.keys, 1);
	/* The others' window is the policy's: 1 s. */
	r = ev(p, "c1", "evil1", T0 + 1000);
	ck_assert_uint_eq(r.count, 1);

	r = ev(old, "c1", "anything", T0);
	ck_assert(r.type == NULL);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.limit, 3);
}
END_TEST

/* One event of each type in want ("type count, ..."), on connection c1 at
 * now: the counts they answer are want's. */
static void counts(struct policy *p, uint64_t now, const char *want)
{
	char got[256] = "", one[96];

	for (const char *w = want; *w;) {
		char type[64];
		int used = 0;

		ck_assert_int_eq(sscanf(w, "%63s %*u%n", type, &used), 1);
		snprintf(one, sizeof(one), "%s%s %llu", *got ? ", " : "", type,
			 (unsigned long long)ev(p, "c1", type, now).count);
		strcat(got, one);
		w += used;
		w += strspn(w, ", ");
	}
	ck_assert_str_eq(got, want);
}

/* A reload keeps each type's count while the type is still named (limits,
 * windows and warn_at may change, types come and go), and the connection's
 * block; a type added starts at nothing. */
START_TEST(test_event_types_reload)
{
	struct policy *p = meeting(0);
	struct fg_conf_policy *c = &pol[0];
	int i;

	for (i = 0; i < 9; i++)
		ev(p, "c1", "offer", T0);
	for (i = 0; i < 20; i++)
		ev(p, "c1", "ice-candidate", T0);
	ev(p, "c1", "host:kick", T0);
	ck_assert_int_eq(policy_block(p, "c2", 2, 60, T0), 0);

	c->evtypes[0].limit = 20;     /* offers: 20/1m */
	c->evtypes[1].per_ms = 30000; /* ICE: a longer window */
	p = build("meet");
	ck_assert_uint_eq(ev(p, "c1", "offer", T0 + 1).count, 10);
	ck_assert_str_eq(ev(p, "c1", "offer", T0 + 1).state, "ok");
	ck_assert_uint_eq(ev(p, "c1", "ice-candidate", T0 + 20000).count, 21);
	ck_assert_uint_eq(ev(p, "c1", "host:kick", T0 + 1).count, 2);

	/* A type added: the others keep their counts, the new one starts at 1. */
	evtype(c, "chat", 30, 60000, 0);
	p = build("meet");
	counts(p, T0 + 2, "offer 12, chat 1");
	ck_assert_str_eq(ev(p, "c2", "offer", T0 + 2).state, "disconnect");
	/* A type removed (and the rest moved up): the others keep theirs. */
	c->evtypes[1] = c->evtypes[2];
	c->evtypes[2] = c->evtypes[3];
	c->nevtypes = 3;
	p = build("meet");
	counts(p, T0 + 3, "host:kick 3, chat 2, offer 13");
	/* Put back, it starts afresh: nothing of it was kept meanwhile. */
	evtype(c, "ice-candidate", 50, 10000, 0);
	p = build("meet");
	counts(p, T0 + 4, "ice-candidate 1, offer 14");
	/* Down to no events: (the policy's own limit): the "*" count would be
	 * kept; a state with only named types has none, so 1. */
	c->nevtypes = 0;
	c->limit = 100;
	c->window_ms = 60000;
	p = build("meet");
	ck_assert_uint_eq(ev(p, "c1", "offer", T0 + 5).count, 1);
	ck_assert_str_eq(ev(p, "c2", "offer", T0 + 5).state, "disconnect");
}
END_TEST

/* RL.POLICY of an events policy with events: every type's quota, named as
 * RL.EVENT's type field, and a RateLimit-Policy value of them. */
START_TEST(test_event_types_describe)
{
	struct policy *p = meeting(5);
	struct policy_desc d;
	char h[512];

	ck_assert_int_eq(policy_describe(p, NULL, 0, &d, h, sizeof(h)), 0);
	ck_assert_int_eq(d.nq, 4);
	ck_assert_str_eq(d.q[0].window, "*");
	ck_assert_uint_eq(d.q[0].quota, 5);
	ck_assert_str_eq(d.q[1].window, "offer");
	ck_assert_uint_eq(d.q[1].quota, 10);
	ck_assert_uint_eq(d.q[1].window_ms, 60000);
	ck_assert_str_eq(d.q[3].window, "host:kick");
	ck_assert_uint_eq(d.q[3].quota, 3);
	ck_assert(d.http);
	ck_assert_str_eq(h, "\"meet-*\";q=5;w=1, \"meet-offer\";q=10;w=60, "
			    "\"meet-ice-candidate\";q=50;w=10, \"meet-host:kick\";q=3;w=60");
	teardown();
	setup();
	p = meeting(0);
	ck_assert_int_eq(policy_describe(p, NULL, 0, &d, h, sizeof(h)), 0);
	ck_assert_int_eq(d.nq, 3);
	ck_assert_str_eq(d.q[0].window, "offer");
}
END_TEST

/* The wall clock stepping back (NTP, an operator) keeps a failure history and
 * an event count: now - stamp would otherwise read as ages and forget them. */
START_TEST(test_clock_steps_back)
{
	struct fg_conf_policy *a = add("login", POLICY_PROGRESSIVE);
	struct fg_conf_policy *e = add("socket_events", POLICY_EVENTS);
	struct rl_auth_result r;
	struct rl_event_result er;
	struct policy *p, *q;
	int i;

	(void)a;
	e->limit = 10;
	e->window_ms = 60000;
	p = build("login");
	q = policies_find(ps, "socket_events", 13);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(policy_auth_fail(p, "k", 1, T0, &r), 0);
	ck_assert_uint_eq(r.delay_ms, 2000);
	ck_assert_int_eq(policy_auth_check(p, "k", 1, T0 - 1000, &r), 0);
	ck_assert_uint_eq(r.failures, 5);
	ck_assert_uint_eq(r.delay_ms, 2000);
	ck_assert_int_eq(policy_auth_fail(p, "k", 1, T0 - 1000, &r), 0);
	ck_assert_uint_eq(r.failures, 6);

	for (i = 0; i < 10; i++)
		ck_assert_int_eq(policy_event(q, "c", 1, "msg", 3, T0, &er), 0);
	ck_assert_str_eq(er.state, "disconnect");
	ck_assert_int_eq(policy_event(q, "c", 1, "msg", 3, T0 - 1000, &er), 0);
	ck_assert_str_eq(er.state, "disconnect");
	ck_assert_uint_eq(er.count, 11);
}
END_TEST

START_TEST(test_budget_utc_midnight)
{
	struct fg_conf_policy *c = add("ai_tokens", POLICY_BUDGET);
	/* 2026-11-25 23:59:59.000 UTC */
	uint64_t midnight = (T0 / DAY_MS + 1) * DAY_MS, t = midnight - 1000;
	struct policy *p;
	struct rl_result r;

	c->amount = 500000;
	role(c, "OWNER", 0, 3000000);
	role(c, "READER", 0, 0);
	p = build("ai_tokens");
	r = chk(p, "user", 400000, NULL, false, t);
	ck_assert(r.allowed);
	ck_assert_str_eq(r.state, "warn");
	ck_assert_uint_eq(r.limit, 500000);
	ck_assert_uint_eq(r.remaining, 100000);
	ck_assert_uint_eq(r.reset_ms, 1000);
	ck_assert_str_eq(r.window, "day");
	r = chk(p, "user", 100001, NULL, false, t);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.state, "deny");
	ck_assert_uint_eq(r.remaining, 100000);
	ck_assert_uint_eq(r.retry_after_ms, 1000);
	r = chk(p, "user", 100000, NULL, false, midnight - 1);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 0);
	r = chk(p, "user", 1, NULL, false, midnight - 1);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.retry_after_ms, 1);
	/* Exactly at 00:00:00.000 UTC the whole amount is back. */
	r = chk(p, "user", 1, NULL, false, midnight);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 499999);
	ck_assert_uint_eq(r.reset_ms, DAY_MS);

	/* Role amounts override the default; READER has none. */
	r = chk(p, "owner", 2999999, "OWNER", false, midnight);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.limit, 3000000);
	ck_assert_uint_eq(r.remaining, 1);
	/* READER's amount is 0: any cost could never pass (the error a window
	 * gives for a cost above its limit), not a wait until midnight. */
	ck_assert_int_eq(policy_check(p, "reader", 6, 1, "READER", 6, false, midnight, &r),
			 -ERANGE);
	r = chk(p, "reader", 0, "READER", false, midnight);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.limit, 0);
	ck_assert_int_eq(policy_check(p, "user", 4, 500001, NULL, 0, false, midnight, &r), -ERANGE);
	ck_assert_int_eq(policy_check(p, "owner", 5, 3000001, "OWNER", 5, true, midnight, &r),
			 -ERANGE);
	ck_assert(chk(p, "owner2", 3000000, "OWNER", false, midnight).allowed);
	ck_assert_int_eq(policy_check(p, "x", 1, 1, "GUEST", 5, false, midnight, &r), -ENOENT);
}
END_TEST

START_TEST(test_budget_hour)
{
	struct fg_conf_policy *c = add("b", POLICY_BUDGET);
	uint64_t hour = 3600000, t = (T0 / hour + 1) * hour - 1;
	struct policy *p;
	struct rl_result r;

	c->amount = 10;
	c->period = POLICY_PERIOD_HOUR;
	p = build("b");
	ck_assert(chk(p, "k", 10, NULL, false, t).allowed);
	r = chk(p, "k", 1, NULL, false, t);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.window, "hour");
	ck_assert_uint_eq(r.retry_after_ms, 1);
	ck_assert(chk(p, "k", 10, NULL, false, t + 1).allowed);
}
END_TEST

static struct rl_result charge(struct policy *p, const char *key, uint64_t amount, bool refund,
			       uint64_t now);

/* Issue 12 item 9: c's periods in the zone spec. */
static void in_zone(struct fg_conf_policy *c, const char *spec)
{
	char e[256];

	ck_assert_msg(!tzone_get(spec, &c->tz, e, sizeof(e)), "%s", e);
	snprintf(c->timezone, sizeof(c->timezone), "%s", c->tz ? spec : "");
}

#define HOUR_MS 3600000ULL

/* A daily budget in Europe/Berlin: the day is Berlin's, 23 hours on
 * 2026-03-29, and reset_ms / retry_after_ms point at Berlin's midnight. */
START_TEST(test_budget_tz_berlin)
{
	struct fg_conf_policy *c = add("ai", POLICY_BUDGET);
	uint64_t d29 = 1774738800000ULL; /* 2026-03-29 00:00 CET = 03-28 23:00 UTC */
	struct policy *p;
	struct rl_result r;

	c->amount = 10;
	in_zone(c, "Europe/Berlin");
	p = build("ai");
	/* 22:30 UTC on the 28th is 23:30 in Berlin: half an hour left */
	r = chk(p, "u", 10, NULL, false, d29 - HOUR_MS / 2);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.reset_ms, HOUR_MS / 2);
	r = chk(p, "u", 1, NULL, false, d29 - 1);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.retry_after_ms, 1);
	/* midnight in Berlin, 23:00 UTC: the amount is back; this day ends 23
	 * hours later (clocks skip 02:00-03:00) */
	r = chk(p, "u", 10, NULL, false, d29);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.reset_ms, 23 * HOUR_MS);
	r = chk(p, "u", 1, NULL, false, d29 + 22 * HOUR_MS);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.retry_after_ms, HOUR_MS);
	ck_assert(chk(p, "u", 10, NULL, false, d29 + 23 * HOUR_MS).allowed);
	/* A debt is paid by Berlin's days: 25 over 10 a day lasts 3 of them. */
	charge(p, "debt", 25, false, d29);
	r = chk(p, "debt", 1, NULL, false, d29);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.reset_ms, (23 + 24 + 24) * HOUR_MS);
}
END_TEST

/* America/New_York's 2026-11-01 has 25 hours; +05:30's hours start at :30. */
START_TEST(test_budget_tz_new_york_0530)
{
	struct fg_conf_policy *c = add("ny", POLICY_BUDGET), *k = add("in", POLICY_BUDGET);
	uint64_t n1 = 1793505600000ULL;	   /* 2026-11-01 00:00 EDT = 04:00 UTC */
	uint64_t h = 1795545000000ULL + 5; /* 2026-11-25 00:00:00.005 +05:30 */
	struct policy *p, *q;
	struct rl_result r;

	c->amount = 3;
	in_zone(c, "America/New_York");
	k->amount = 2;
	k->period = POLICY_PERIOD_HOUR;
	in_zone(k, "+05:30");
	p = build("ny");
	q = policies_find(ps, "in", 2);
	r = chk(p, "u", 3, NULL, false, n1 + 1);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.reset_ms, 25 * HOUR_MS - 1);
	ck_assert(!chk(p, "u", 1, NULL, false, n1 + 25 * HOUR_MS - 1).allowed);
	ck_assert(chk(p, "u", 1, NULL, false, n1 + 25 * HOUR_MS).allowed);
	/* local midnight is 18:30 UTC: an hour of +05:30 ends at 19:30 UTC */
	r = chk(q, "u", 2, NULL, false, h);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.reset_ms, HOUR_MS - 5);
	ck_assert(!chk(q, "u", 1, NULL, false, h + HOUR_MS - 6).allowed);
	ck_assert(chk(q, "u", 1, NULL, false, h + HOUR_MS - 5).allowed);
}
END_TEST

/* A reload that changes only a daily budget's zone keeps the day's
 * spending (a day is numbered by its date in any zone); an hourly one's
 * starts afresh (its hours are numbered by the zone's offset). */
START_TEST(test_budget_tz_reload)
{
	struct fg_conf_policy *c = add("d", POLICY_BUDGET), *k = add("h", POLICY_BUDGET);
	uint64_t t = T0; /* 12:00 UTC, 13:00 in Berlin: the same date */
	struct policy *p;
	struct rl_result r;

	c->amount = 10;
	k->amount = 10;
	k->period = POLICY_PERIOD_HOUR;
	p = build("d");
	ck_assert(chk(p, "u", 7, NULL, false, t).allowed);
	ck_assert(chk(policies_find(ps, "h", 1), "u", 7, NULL, false, t).allowed);
	in_zone(c, "Europe/Berlin");
	in_zone(k, "Europe/Berlin");
	p = build("d");
	r = chk(p, "u", 0, NULL, true, t + 1);
	ck_assert_uint_eq(r.remaining, 3);
	ck_assert_uint_eq(r.reset_ms, 11 * HOUR_MS - 1); /* Berlin's midnight */
	r = chk(policies_find(ps, "h", 1), "u", 0, NULL, true, t + 1);
	ck_assert_uint_eq(r.remaining, 10);
	/* back to UTC: still the same date, still the same spending */
	in_zone(c, "UTC");
	p = build("d");
	ck_assert_uint_eq(chk(p, "u", 0, NULL, true, t + 2).remaining, 3);
}
END_TEST

/* The Redis state's ids of configs without a zone are those agents before
 * zones wrote (values of a30f093): their state in Redis stays theirs. A
 * daily budget's zone is not part of what its state means; an hourly's is. */
START_TEST(test_budget_tz_ids)
{
	struct fg_conf_policy *c = add("ai", POLICY_BUDGET), *w = add("api", POLICY_WINDOW);
	struct policy *p;
	char id[CONF_ID_LEN + 1];

	c->amount = 500;
	role(c, "BIG", 0, 5000);
	limit(w, 5, 1000);
	p = build("ai");
	ck_assert_str_eq(p->conf_id, "J5ec2b505ce5e67f");
	ck_assert_str_eq(p->legacy_id, "13763e520b12acc1");
	ck_assert_str_eq(policies_find(ps, "api", 3)->conf_id, "Ge48975d7b176e00");
	ck_assert_str_eq(policies_find(ps, "api", 3)->legacy_id, "8cbc20f74cf88e40");
	in_zone(c, "Europe/Berlin");
	p = build("ai");
	ck_assert_str_eq(p->conf_id, "J5ec2b505ce5e67f");
	ck_assert_str_ne(p->legacy_id, "13763e520b12acc1");
	c->period = POLICY_PERIOD_HOUR;
	p = build("ai");
	strcpy(id, p->conf_id);
	in_zone(c, "UTC");
	p = build("ai");
	ck_assert_str_ne(p->conf_id, id);
}
END_TEST

static struct rl_result charge(struct policy *p, const char *key, uint64_t amount, bool refund,
			       uint64_t now)
{
	struct rl_result res;

	ck_assert_int_eq(policy_charge(p, key, strlen(key), amount, refund, NULL, now, &res), 0);
	return res;
}

/* Issue 12 item 7: usage known after the call is recorded whatever is left;
 * the debt is paid back by later periods before requests pass again. */
START_TEST(test_budget_charge)
{
	struct fg_conf_policy *c = add("ai", POLICY_BUDGET);
	struct fg_conf_policy *w = add("w", POLICY_WINDOW);
	uint64_t hour = 3600000, h0 = (T0 / hour + 1) * hour, t = h0 + 1000;
	struct policy *p, *pw;
	struct rl_result r;

	c->amount = 1000;
	c->period = POLICY_PERIOD_HOUR;
	limit(w, 10, 1000);
	p = build("ai");
	pw = policies_find(ps, "w", 1);
	ck_assert(chk(p, "u", 900, NULL, false, t).allowed);
	/* 100 left, the call used 5000: recorded, 4900 of debt. */
	r = charge(p, "u", 5000, false, t);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.state, "deny");
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.limit, 1000);
	/* used 5900: the hours h0+1..h0+5 pay 5000, h0+6 brings room for 1. */
	ck_assert_uint_eq(r.retry_after_ms, 5 * hour - 1000);
	ck_assert_uint_eq(r.reset_ms, 6 * hour - 1000);
	ck_assert(!chk(p, "u", 1, NULL, false, h0 + 4 * hour).allowed);
	r = chk(p, "u", 100, NULL, true, h0 + 5 * hour);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 100);
	/* A refund gives back, never below nothing used. */
	r = charge(p, "u", 600, true, h0 + 5 * hour);
	ck_assert_uint_eq(r.remaining, 700);
	r = charge(p, "u", 1000000, true, h0 + 5 * hour);
	ck_assert_uint_eq(r.remaining, 1000);
	ck_assert_str_eq(r.state, "ok");
	/* Charges are bounded; a refund of a key never seen creates nothing. */
	r = charge(p, "v", POLICY_COST_MAX, false, t);
	r = charge(p, "v", POLICY_COST_MAX, false, t);
	r = charge(p, "v", POLICY_COST_MAX, false, t);
	r = charge(p, "v", POLICY_COST_MAX, false, t);
	r = charge(p, "v", POLICY_COST_MAX, false, t);
	/* A debt is remembered for at most 1000000 periods. */
	ck_assert_uint_eq(r.reset_ms, 1000000 * hour - 1000);
	ck_assert_int_eq(policy_charge(p, "v", 1, POLICY_COST_MAX + 1, false, NULL, t, &r),
			 -EINVAL);
	ck_assert_int_eq(policy_charge(p, "v", 1, 1, false, "NOPE", t, &r), -ENOENT);
	ck_assert_int_eq(policy_charge(pw, "v", 1, 1, false, NULL, t, &r), -EOPNOTSUPP);
}
END_TEST

/* Issue 12: a role with amount 0 pays no debt back itself; its requests
 * read what was used in an earlier period as the smallest amount above 0
 * pays it back (the rate at which the key is forgotten). A charge under it
 * must neither revive a debt the hours since have paid, nor read a key
 * differently before and after the store dropped it; and however many
 * periods pass, its requests still can never pass. */
START_TEST(test_budget_role_zero_debt)
{
	struct fg_conf_policy *c = add("ai", POLICY_BUDGET);
	uint64_t hour = 3600000, h0 = (T0 / hour + 1) * hour, t = h0 + 1000;
	struct policy *p;
	struct rl_result r;

	c->amount = 100;
	c->period = POLICY_PERIOD_HOUR;
	role(c, "NONE", 0, 0);
	role(c, "BIG", 0, 1000);
	p = build("ai");
	/* 250 used in hour 0: 150 of debt, which hour 1 pays down to 50. */
	charge(p, "u", 250, false, t);
	ck_assert_int_eq(policy_charge(p, "u", 1, 10, false, "NONE", t + hour, &r), 0);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.remaining, 0);
	/* 160 used in hour 1: hour 2 pays 100, 60 used, 39 left after this one. */
	r = chk(p, "u", 1, NULL, false, t + 2 * hour);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 39);
	/* Used in hour 0 and kept alive by a debt (key v) or not (key w): read the
	 * same in hour 1 under NONE, so both end at 35. */
	charge(p, "v", 101, false, t);
	ck_assert(chk(p, "w", 1, NULL, false, t).allowed);
	ck_assert_int_eq(policy_charge(p, "v", 1, 34, false, "NONE", t + hour, &r), 0);
	ck_assert_int_eq(policy_charge(p, "w", 1, 35, false, "NONE", t + hour, &r), 0);
	ck_assert_uint_eq(chk(p, "v", 1, NULL, true, t + hour).remaining, 65);
	ck_assert_uint_eq(chk(p, "w", 1, NULL, true, t + hour).remaining, 65);
	/* Never passes, in the hour of a charge and any hour after. */
	ck_assert_int_eq(policy_check(p, "u", 1, 1, "NONE", 4, false, t + 2 * hour, &r), -ERANGE);
	ck_assert_int_eq(policy_check(p, "x", 1, 1, "NONE", 4, false, t + 50 * hour, &r), -ERANGE);
}
END_TEST

static int multi(struct policy *a, const char *ka, struct policy *b, const char *kb, uint64_t cost,
		 const char *r, bool peek, uint64_t now, struct policy_multi_answer *out)
{
	struct policy_pair pp[2] = { { a, ka, strlen(ka) }, { b, kb, strlen(kb) } };
	int bad;

	return policy_submit_multi(ps, pp, 2, cost, r, r ? strlen(r) : 0, peek, now, out, NULL,
				   NULL, &bad);
}

/* Issue 12 item 6: per user AND per IP in one decision: a refusal by the
 * IP charges the user nothing, and says which pair refused. */
START_TEST(test_multi)
{
	struct fg_conf_policy *u = add("user", POLICY_WINDOW);
	struct fg_conf_policy *ip = add("ip", POLICY_WINDOW);
	struct fg_conf_policy *bu = add("tok", POLICY_BUDGET);
	struct fg_conf_policy *pr = add("login", POLICY_PROGRESSIVE);
	struct policy *pu, *pi, *pb;
	struct policy_multi_answer m;
	struct rl_result r;
	int i, bad;

	(void)pr;
	limit(u, 5, 1000);
	role(u, "PRO", 2000, 0);
	limit(ip, 3, 1000);
	ip->block_for_ms = 10000;
	bu->amount = 100;
	pu = build("user");
	pi = policies_find(ps, "ip", 2);
	pb = policies_find(ps, "tok", 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(multi(pu, "alice", pi, "192.0.2.7", 1, NULL, false, T0, &m), 0);
		ck_assert(m.check.allowed);
		ck_assert_int_eq(m.refused, -1);
	}
	/* Binding: the ip's window, 0 left (the user has 2). */
	ck_assert_int_eq(m.binding, 1);
	ck_assert_uint_eq(m.check.remaining, 0);
	ck_assert_str_eq(m.check.state, "warn");
	ck_assert_int_eq(multi(pu, "alice", pi, "192.0.2.7", 1, NULL, false, T0, &m), 0);
	ck_assert(!m.check.allowed);
	ck_assert_int_eq(m.refused, 1);
	ck_assert_int_eq(m.binding, 1);
	ck_assert_str_eq(m.check.state, "blocked"); /* the ip's own block_for */
	ck_assert_uint_eq(m.check.retry_after_ms, 10000);
	/* alice was charged 3, not 4: 2 left; the ip is blocked, not charged. */
	r = chk(pu, "alice", 1, NULL, true, T0);
	ck_assert_uint_eq(r.remaining, 2);
	r = chk(pi, "192.0.2.7", 1, NULL, true, T0);
	ck_assert_str_eq(r.state, "blocked");
	/* Another address: alice passes twice more, then the user refuses. */
	ck_assert(!multi(pu, "alice", pi, "192.0.2.8", 2, NULL, false, T0, &m) && m.check.allowed);
	ck_assert_int_eq(multi(pu, "alice", pi, "192.0.2.8", 1, NULL, false, T0, &m), 0);
	ck_assert_int_eq(m.refused, 0);
	ck_assert_uint_eq(chk(pi, "192.0.2.8", 1, NULL, true, T0).remaining, 1);
	/* ROLE applies where the policy lists it (ip has no roles). */
	ck_assert(!multi(pu, "alice", pi, "192.0.2.9", 1, NULL, true, T0 + 100, &m));
	ck_assert(!m.check.allowed);
	ck_assert_int_eq(multi(pu, "alice", pi, "192.0.2.9", 1, "PRO", false, T0 + 100, &m), 0);
	ck_assert(m.check.allowed);
	ck_assert_uint_eq(chk(pu, "alice", 1, "PRO", true, T0 + 100).remaining, 0);
	ck_assert_int_eq(multi(pu, "alice", pi, "192.0.2.9", 1, "NOPE", false, T0, &m), -ENOENT);
	/* A budget with a window; PEEK charges nothing. */
	ck_assert_int_eq(multi(pb, "bob", pu, "bob", 60, NULL, false, T0, &m), -ERANGE);
	ck_assert_int_eq(multi(pb, "bob", pi, "bob", 1, NULL, true, T0, &m), 0);
	ck_assert_uint_eq(chk(pb, "bob", 1, NULL, true, T0).remaining, 100);
	/* Refused before any store: a progressive pair, a repeated pair, n. */
	ck_assert_int_eq(multi(pu, "x", policies_find(ps, "login", 5), "x", 1, NULL, false, T0, &m),
			 -EOPNOTSUPP);
	ck_assert_int_eq(multi(pu, "x", pu, "x", 1, NULL, false, T0, &m), -EALREADY);
	ck_assert_int_eq(
		policy_submit_multi(ps, NULL, 0, 1, NULL, 0, false, T0, &m, NULL, NULL, &bad),
		-EINVAL);
	ck_assert_uint_eq(chk(pu, "x", 1, NULL, true, T0).remaining, 5);
}
END_TEST

/* Issue 12 item 10: RL.POLICY's description and RateLimit-Policy value. */
START_TEST(test_describe)
{
	struct fg_conf_policy *w = add("api", POLICY_WINDOW);
	struct fg_conf_policy *b = add("ai", POLICY_BUDGET);
	struct fg_conf_policy *pr = add("login", POLICY_PROGRESSIVE);
	struct fg_conf_policy *e = add("chat", POLICY_EVENTS);
	struct fg_conf_policy *sl = add("exact", POLICY_WINDOW);
	struct policy_desc d;
	char h[256];

	(void)pr;
	limit(sl, 3, 60000);
	sl->algorithm = POLICY_ALGO_SLIDING;
	limit(w, 10, 1000);
	limit(w, 100, 60000);
	limit(w, 7, 700);
	role(w, "PRO", 2500, 0);
	w->block_for_ms = 3000;
	b->amount = 500000;
	role(b, "OWNER", 0, 3000000);
	e->limit = 100;
	e->window_ms = 60000;
	build(NULL);
	ck_assert_int_eq(policy_describe(policies_find(ps, "api", 3), NULL, 0, &d, h, sizeof(h)),
			 0);
	ck_assert_int_eq(d.nq, 3);
	ck_assert(d.http);
	ck_assert_ptr_null(d.role);
	ck_assert_str_eq(h, "\"api-1s\";q=10;w=1, \"api-1m\";q=100;w=60, \"api-700ms\";q=7;w=1");
	ck_assert_int_eq(d.nparam, 2);
	ck_assert_str_eq(d.param[0].name, "block_for_ms");
	ck_assert_uint_eq(d.param[0].v, 3000);
	ck_assert_ptr_null(d.param[0].s);
	ck_assert_str_eq(d.param[1].name, "algorithm");
	ck_assert_str_eq(d.param[1].s, "gcra");
	ck_assert_int_eq(policy_describe(policies_find(ps, "exact", 5), NULL, 0, &d, h, sizeof(h)),
			 0);
	ck_assert_int_eq(d.nparam, 2);
	ck_assert_str_eq(d.param[1].s, "sliding");
	ck_assert_str_eq(h, "\"exact-1m\";q=3;w=60");
	ck_assert_int_eq(policy_describe(policies_find(ps, "api", 3), "pro", 3, &d, h, sizeof(h)),
			 0);
	ck_assert_uint_eq(d.q[1].quota, 250);
	ck_assert_str_eq(d.role, "PRO"); /* as configured, not as asked */
	ck_assert_int_eq(policy_describe(policies_find(ps, "api", 3), "X", 1, &d, h, sizeof(h)),
			 -ENOENT);
	ck_assert_int_eq(policy_describe(policies_find(ps, "ai", 2), "OWNER", 5, &d, h, sizeof(h)),
			 0);
	ck_assert_str_eq(h, "\"ai-day\";q=3000000;w=86400");
	ck_assert_int_eq(policy_describe(policies_find(ps, "login", 5), NULL, 0, &d, h, sizeof(h)),
			 0);
	ck_assert_str_eq(h, "");
	ck_assert_int_eq(d.nparam, 8); /* vouch_on_success_ms is the 8th */
	ck_assert_int_eq(policy_describe(policies_find(ps, "chat", 4), NULL, 0, &d, h, sizeof(h)),
			 0);
	ck_assert_str_eq(h, "");
	ck_assert_uint_eq(d.q[0].quota, 100);
	/* Too small a buffer: no value rather than a cut one. */
	ck_assert_int_eq(policy_describe(policies_find(ps, "api", 3), NULL, 0, &d, h, 30), 0);
	ck_assert_str_eq(h, "");
}
END_TEST

START_TEST(test_eviction)
{
	struct policies_store_stats ss;
	struct policy_stats st;
	struct rl_auth_result r;
	struct policy *p;
	char key[16];
	int i;

	conf.store.max_keys = 100;
	add("login", POLICY_PROGRESSIVE);
	p = build("login");
	for (i = 0; i < 150; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(policy_auth_fail(p, key, strlen(key), T0 + (uint64_t)i, &r), 0);
		if (i == 60) /* touched: becomes the most recently used */
			policy_auth_fail(p, "k0", 2, T0 + (uint64_t)i, &r);
	}
	policies_store_stats(ps, &ss);
	ck_assert_str_eq(ss.type, "memory");
	ck_assert_uint_eq(ss.keys, 100);
	ck_assert_uint_eq(ss.max_keys, 100);
	ck_assert_uint_eq(ss.evictions, 50);
	policy_stats(p, &st);
	ck_assert_uint_eq(st.keys, 100);
	/* The least recently used went: k1..k50; k0 was used at i=60. */
	ck_assert_int_eq(policy_auth_check(p, "k0", 2, T0 + 200, &r), 0);
	ck_assert_uint_eq(r.failures, 2);
	ck_assert_int_eq(policy_auth_check(p, "k50", 3, T0 + 200, &r), 0);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_int_eq(policy_auth_check(p, "k51", 3, T0 + 200, &r), 0);
	ck_assert_uint_eq(r.failures, 1);
	ck_assert_int_eq(policy_auth_check(p, "k149", 4, T0 + 200, &r), 0);
	ck_assert_uint_eq(r.failures, 1);

	/* Expired state goes without evictions, a little per request. */
	for (i = 0; i < 200; i++)
		policy_auth_check(p, "x", 1, T0 + 16 * 60000, &r);
	policies_store_stats(ps, &ss);
	ck_assert_uint_eq(ss.keys, 0);
	ck_assert_uint_eq(ss.evictions, 50);
	ck_assert_uint_eq(ss.expired, 100);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "s%d", i);
		policy_auth_fail(p, key, strlen(key), T0, &r);
	}
	ck_assert_uint_eq(policies_sweep(ps, T0 + 15 * 60000, 1000), 20);
}
END_TEST

/* --- window, algorithm: sliding ----------------------------------------- */

static struct fg_conf_policy *add_sliding(const char *name)
{
	struct fg_conf_policy *c = add(name, POLICY_WINDOW);

	c->algorithm = POLICY_ALGO_SLIDING;
	return c;
}

/*
 * Issue 12 item 5: "3 per 1m", a client retrying every 2 s for 60 s. The
 * sliding log lets exactly 3 through; GCRA (the default) lets 5: its
 * documented count + count * t / per (3 + 3 * 40 s / 60 s after the burst).
 */
START_TEST(test_sliding_issue_figure)
{
	struct policy *sl, *gc;
	struct rl_result r;
	uint64_t t;
	int nsl = 0, ngc = 0;

	limit(add_sliding("sl"), 3, 60000);
	limit(add("gc", POLICY_WINDOW), 3, 60000);
	sl = build("sl");
	gc = policies_find(ps, "gc", 2);
	for (t = 0; t < 60000; t += 2000) {
		nsl += chk(sl, "k", 1, NULL, false, T0 + t).allowed;
		ngc += chk(gc, "k", 1, NULL, false, T0 + t).allowed;
	}
	ck_assert_int_eq(nsl, 3);
	ck_assert_int_eq(ngc, 5);

	/* The reply: the first request (T0) leaves the window at T0 + 60 s. */
	r = chk(sl, "k", 1, NULL, false, T0 + 58000);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.state, "deny");
	ck_assert_str_eq(r.window, "1m");
	ck_assert_uint_eq(r.limit, 3);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.retry_after_ms, 2000);
	ck_assert_uint_eq(r.reset_ms, 4000 + 60000 - 58000);
	ck_assert(!chk(sl, "k", 1, NULL, false, T0 + 59999).allowed);
	r = chk(sl, "k", 1, NULL, false, T0 + 60000);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.reset_ms, 60000);
	/* A request of cost 2 waits for two to leave: T0 + 2 s and T0 + 4 s. */
	r = chk(sl, "k", 2, NULL, true, T0 + 60000);
	ck_assert(!r.allowed);
	ck_assert_uint_eq(r.retry_after_ms, 4000);
}
END_TEST

/* A reference log: what was allowed, checked against every request. */
struct oracle {
	uint64_t at[4096], cost[4096];
	int n;
};

static uint64_t oracle_used(const struct oracle *o, uint64_t per, uint64_t now)
{
	uint64_t used = 0;
	int i;

	for (i = 0; i < o->n; i++)
		if (o->at[i] + per > now)
			used += o->cost[i];
	return used;
}

/*
 * Random requests (costs, peeks, roles, bursts and pauses) on a policy of
 * three limits: every answer is what an exact log says, and retry_after is
 * exact: one millisecond earlier the same request is refused, at it allowed.
 */
START_TEST(test_sliding_exact)
{
	static const uint64_t per[3] = { 1000, 10000, 60000 }, cnt[3] = { 5, 12, 20 };
	struct fg_conf_policy *c = add_sliding("sl");
	static struct oracle o;
	uint64_t now = T0, rs = 12345;
	struct policy *p;
	int step, i, allowed = 0, refused = 0;

	for (i = 0; i < 3; i++)
		limit(c, cnt[i], per[i]);
	role(c, "PRO", 2000, 0);
	p = build("sl");
	o.n = 0;
	for (step = 0; step < 3000; step++) {
		uint64_t cost, m;
		const char *rl;
		bool peek, want = true;
		struct rl_result r;

		rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
		now += rs % 10 < 7 ? rs % 300 : rs % 10 < 9 ? rs % 5000 : rs % 70000;
		cost = rs % 7 < 5 ? 1 : 1 + rs % 4;
		peek = rs % 11 == 0;
		rl = rs % 13 < 3 ? "PRO" : NULL;
		m = rl ? 2 : 1;
		for (i = 0; i < 3; i++)
			want = want && oracle_used(&o, per[i], now) + cost <= cnt[i] * m;
		r = chk(p, "k", cost, rl, peek, now);
		ck_assert_msg(r.allowed == want,
			      "step %d: cost %llu role %s peek %d got %d %s %s rem %llu", step,
			      (unsigned long long)cost, rl ? rl : "-", peek, r.allowed, r.state,
			      r.window, (unsigned long long)r.remaining);
		if (want && !peek) {
			o.at[o.n] = now;
			o.cost[o.n++] = cost;
		}
		if (want) {
			allowed++;
			continue;
		}
		refused++;
		ck_assert_uint_gt(r.retry_after_ms, 0);
		/* Exact retry: check with peeks (they change nothing); the
		 * clock moves on to it (time only goes forward here). */
		ck_assert(!chk(p, "k", cost, rl, true, now + r.retry_after_ms - 1).allowed);
		ck_assert(chk(p, "k", cost, rl, true, now + r.retry_after_ms).allowed);
		now += r.retry_after_ms;
	}
	/* Never more than count in any interval of length per: every request
	 * starts an interval (the worst ones start at a request). */
	for (i = 0; i < o.n; i++) {
		int k, w;

		for (w = 0; w < 3; w++) {
			uint64_t sum = 0;

			for (k = i; k < o.n && o.at[k] < o.at[i] + per[w]; k++)
				sum += o.cost[k];
			ck_assert_uint_le(sum, cnt[w] * 2);
		}
	}
	ck_assert_int_gt(allowed, 500);
	ck_assert_int_gt(refused, 300);
}
END_TEST

/* All windows are checked and charged at once; the binding window, warn_at,
 * a peek, a refused request: as with GCRA. */
START_TEST(test_sliding_windows_warn_peek)
{
	struct fg_conf_policy *c = add_sliding("sl");
	struct policy *p;
	struct rl_result r;
	int i;

	limit(c, 2, 1000);
	limit(c, 3, 60000);
	p = build("sl");
	ck_assert_int_eq(allowed_n(p, "k", 5, T0), 2);
	r = chk(p, "k", 1, NULL, false, T0 + 500);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.window, "1s");
	ck_assert_uint_eq(r.retry_after_ms, 500);
	/* Refused requests charged nothing: the third passes at 1 s. */
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert(r.allowed);
	ck_assert_str_eq(r.window, "1m");
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_str_eq(r.state, "warn");
	r = chk(p, "k", 1, NULL, false, T0 + 2000);
	ck_assert(!r.allowed);
	ck_assert_str_eq(r.window, "1m");
	ck_assert_uint_eq(r.retry_after_ms, 58000);
	ck_assert_uint_eq(r.reset_ms, 59000);
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 60000), 2);
	/* A cost above a window's whole limit can never pass. */
	ck_assert_int_eq(policy_check(p, "k", 1, 3, NULL, 0, false, T0, &r), -ERANGE);

	/* warn_at 0.8 of 10: the 8th, 9th and 10th warn. */
	limit(add_sliding("w"), 10, 1000);
	p = build("w");
	r = chk(p, "k", 4, NULL, true, T0);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 10);
	for (i = 1; i <= 11; i++) {
		r = chk(p, "k", 1, NULL, false, T0 + (uint64_t)i);
		ck_assert_str_eq(r.state, i < 8 ? "ok" : i <= 10 ? "warn" : "deny");
		ck_assert_uint_eq(r.remaining, i <= 10 ? 10 - (uint64_t)i : 0);
	}
	/* 11th at T0 + 11: until the first leaves at T0 + 1001. */
	ck_assert_uint_eq(r.retry_after_ms, 990);
	ck_assert_uint_eq(r.reset_ms, 999);
}
END_TEST

/* block_for, RL.BLOCK, RL.UNBLOCK, RL.RESET and roles on a log. During a
 * block, retry_after covers the block and the window's own wait. */
START_TEST(test_sliding_block_roles)
{
	struct fg_conf_policy *c = add_sliding("sl");
	struct policy *p;
	struct rl_result r;

	limit(c, 2, 10000);
	c->block_for_ms = 3000;
	role(c, "PRO", 1500, 0);
	p = build("sl");
	ck_assert_int_eq(allowed_n(p, "k", 2, T0), 2);
	r = chk(p, "k", 1, NULL, true, T0);
	ck_assert_str_eq(r.state, "deny");
	r = chk(p, "k", 1, NULL, false, T0);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 10000);
	r = chk(p, "k", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 9000);
	ck_assert_uint_eq(r.remaining, 0);
	ck_assert_uint_eq(r.reset_ms, 9000);
	/* Obeying retry_after passes: no new block. */
	ck_assert(chk(p, "k", 1, NULL, false, T0 + 10000).allowed);

	ck_assert_int_eq(policy_block(p, "x", 1, 60, T0), 0);
	r = chk(p, "x", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 59000);
	ck_assert_uint_eq(r.remaining, 2);
	ck_assert_int_eq(policy_unblock(p, "x", 1, T0 + 2000), 0);
	ck_assert_int_eq(allowed_n(p, "x", 5, T0 + 2000), 2);
	ck_assert_int_eq(policy_reset(p, "x", 1, T0 + 2000), 0);
	ck_assert_int_eq(allowed_n(p, "x", 1, T0 + 2000), 1);

	/* PRO: 3 per 10 s. */
	r = chk(p, "p", 1, "PRO", false, T0);
	ck_assert_uint_eq(r.limit, 3);
	ck_assert_uint_eq(r.remaining, 2);
	/* One log for every role: the PRO request counts for the plain 2. */
	ck_assert(chk(p, "p", 1, NULL, false, T0).allowed);
	ck_assert(chk(p, "p", 1, "PRO", false, T0).allowed);
	ck_assert(!chk(p, "p", 1, "PRO", false, T0).allowed);
}
END_TEST

/* The clock stepping back: stamps never go back, the log stays ordered and
 * nothing is forgotten. */
START_TEST(test_sliding_clock_back)
{
	struct policy *p;

	limit(add_sliding("sl"), 3, 60000);
	p = build("sl");
	ck_assert_int_eq(allowed_n(p, "k", 2, T0 + 30000), 2);
	ck_assert_int_eq(allowed_n(p, "k", 5, T0), 1);
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 89999), 0);
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 90000), 3);
}
END_TEST

/* A log's memory: 16 bytes per entry a key holds (in 128-byte steps), up to
 * the longest window's count (x the largest multiplier), counted in the
 * store's bytes; max_keys still bounds the keys. */
START_TEST(test_sliding_memory)
{
	struct fg_conf_policy *c = add_sliding("sl");
	struct policies_store_stats a, b;
	struct policy_stats st;
	struct policy *p;
	char key[16];
	int i, n = 0;

	limit(c, 10, 1000);
	limit(c, 100, 3600000);
	role(c, "PRO", 2500, 0);
	c->max_keys = 50;
	p = build("sl");
	policies_store_stats(ps, &a);
	ck_assert_int_eq(allowed_n(p, "k", 1, T0), 1);
	policies_store_stats(ps, &b);
	/* One entry: the key, its entry and 128 bytes of state, not 4 KB. */
	ck_assert_uint_ge(b.bytes - a.bytes, 128);
	ck_assert_uint_lt(b.bytes - a.bytes, 200);
	/* 10 per second until the hour's 100 are used; no overflow. */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(allowed_n(p, "k", 30, T0 + 1000 * (uint64_t)(i + 1)), i < 9 ? 10
										       : i == 9
											       ? 9
											       : 0);
	/* PRO: 250 in the hour, 25 per second: its key grows to 250 entries. */
	policies_store_stats(ps, &a);
	for (i = 0; i < 300; i++)
		n += chk(p, "pro", 1, "PRO", false, T0 + 100 * (uint64_t)i).allowed;
	ck_assert_int_eq(n, 250);
	policies_store_stats(ps, &b);
	ck_assert_uint_ge(b.bytes - a.bytes, 16 + 16 * 250);
	ck_assert_uint_lt(b.bytes - a.bytes, 16 + 16 * 250 + 256);
	/* An hour later its log is one entry again, and so is its memory. */
	ck_assert(chk(p, "pro", 1, "PRO", false, T0 + 3600000 + 30000).allowed);
	policies_store_stats(ps, &b);
	ck_assert_uint_lt(b.bytes, a.bytes + 200);
	ck_assert_int_eq(allowed_n(p, "k", 1, T0 + 3600000 + 30000), 1);
	for (i = 0; i < 80; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		chk(p, key, 1, NULL, false, T0);
	}
	policy_stats(p, &st);
	ck_assert_uint_eq(st.keys, 50);
	ck_assert_uint_ge(st.evictions, 30);
}
END_TEST

/* A change of algorithm is a change of the policy: its state starts over
 * (a GCRA state is not a log). The same algorithm keeps it. */
START_TEST(test_sliding_reload)
{
	struct fg_conf_policy *c = add("api", POLICY_WINDOW);
	struct policy *p;

	limit(c, 2, 60000);
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 3, T0), 2);
	c->algorithm = POLICY_ALGO_SLIDING;
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 3, T0), 2);
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 3, T0 + 1), 0);
	/* A change that keeps the log's layout (block_for) moves the logs to
	 * the new config: still full; 200 keys of sized state move intact. */
	{
		char key[16];
		int i;

		for (i = 0; i < 200; i++) {
			snprintf(key, sizeof(key), "m%d", i);
			ck_assert_int_eq(allowed_n(p, key, 1 + i % 3, T0 + 2),
					 1 + i % 3 > 2 ? 2 : 1 + i % 3);
		}
		c->block_for_ms = 1000;
		p = build("api");
		ck_assert_int_eq(allowed_n(p, "k", 3, T0 + 3), 0);
		for (i = 0; i < 200; i++) {
			snprintf(key, sizeof(key), "m%d", i);
			ck_assert_int_eq(allowed_n(p, key, 1, T0 + 4), 1 + i % 3 >= 2 ? 0 : 1);
		}
	}
	/* A change of count changes a log's bound: only blocks stay. */
	c->limits[0].count = 3;
	p = build("api");
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 5), 0); /* blocked at T0 + 3 */
	ck_assert_int_eq(allowed_n(p, "k", 5, T0 + 1003), 3);
}
END_TEST

/* Issue 10: 1.1 M keys of a low-value budget policy evicted another
 * policy's 8 login failures and its active 5-minute block. Each policy now
 * has its own bound (a fair share of store.max_keys by default). */
START_TEST(test_policy_bounds)
{
	struct policy_stats sl, sb;
	struct policies_store_stats ss;
	struct rl_auth_result r;
	struct policy *l, *b;
	char key[24];
	int i;

	conf.store.max_keys = 1000000;
	add("login", POLICY_PROGRESSIVE);
	add("ai_tokens", POLICY_BUDGET)->amount = 1000;
	build(NULL);
	l = policies_find(ps, "login", 5);
	b = policies_find(ps, "ai_tokens", 9);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(policy_auth_fail(l, "alice", 5, T0, &r), 0);
	ck_assert_int_eq(policy_block(l, "mallory", 7, 300, T0), 0);
	for (i = 0; i < 1100000; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		chk(b, key, 1, NULL, false, T0 + (uint64_t)i / 10000);
	}
	ck_assert_int_eq(policy_auth_check(l, "alice", 5, T0 + 120000, &r), 0);
	ck_assert_uint_eq(r.failures, 8);
	ck_assert_int_eq(policy_auth_check(l, "mallory", 7, T0 + 120000, &r), 0);
	ck_assert_uint_eq(r.delay_ms, 180000); /* the block's remaining 3 minutes */
	policy_stats(l, &sl);
	policy_stats(b, &sb);
	ck_assert_uint_eq(sl.max_keys, 500000);
	ck_assert_uint_eq(sb.max_keys, 500000);
	ck_assert_uint_eq(sl.evictions, 0);
	ck_assert_uint_eq(sb.keys, 500000);
	ck_assert_uint_eq(sb.evictions, 600000);
	policies_store_stats(ps, &ss);
	ck_assert_uint_le(ss.keys, 1000000);
}
END_TEST

/* A policy's own max_keys: its least recently used key goes, no other's. */
START_TEST(test_policy_max_keys)
{
	struct policy_stats st;
	struct rl_auth_result r;
	struct policy *a, *o;

	conf.store.max_keys = 100;
	add("a", POLICY_PROGRESSIVE)->max_keys = 3;
	add("o", POLICY_PROGRESSIVE);
	build(NULL);
	a = policies_find(ps, "a", 1);
	o = policies_find(ps, "o", 1);
	ck_assert_uint_eq(policies_fair_share(&conf), 97);
	policy_auth_fail(o, "x", 1, T0, &r);
	policy_auth_fail(a, "1", 1, T0, &r);
	policy_auth_fail(a, "2", 1, T0 + 1, &r);
	policy_auth_fail(a, "3", 1, T0 + 2, &r);
	policy_auth_fail(a, "1", 1, T0 + 3, &r); /* 1 is the most recent now */
	policy_auth_fail(a, "4", 1, T0 + 4, &r);
	ck_assert_int_eq(policy_auth_check(a, "2", 1, T0 + 5, &r), 0);
	ck_assert_uint_eq(r.failures, 0); /* 2 was the least recently used */
	ck_assert_int_eq(policy_auth_check(a, "1", 1, T0 + 5, &r), 0);
	ck_assert_uint_eq(r.failures, 2);
	ck_assert_int_eq(policy_auth_check(o, "x", 1, T0 + 5, &r), 0);
	ck_assert_uint_eq(r.failures, 1);
	policy_stats(a, &st);
	ck_assert_uint_eq(st.keys, 3);
	ck_assert_uint_eq(st.evictions, 1);
}
END_TEST

/* A reload keeps the state of unchanged policies and what still means
 * something of changed ones (issue 12); removed policies' goes. */
START_TEST(test_reload)
{
	struct fg_conf_policy *api, *login;
	struct policy *p, *l;
	struct rl_auth_result ar;
	struct policy_stats st;
	struct rl_result r;

	api = add("api", POLICY_WINDOW);
	limit(api, 5, 1000);
	login = add("login", POLICY_PROGRESSIVE);
	limit(add("gone", POLICY_WINDOW), 1, 1000);
	build(NULL);
	p = policies_find(ps, "api", 3);
	l = policies_find(ps, "login", 5);
	ck_assert_int_eq(allowed_n(p, "k", 3, T0), 3);
	policy_auth_fail(l, "k", 1, T0, &ar);
	policy_auth_fail(l, "k", 1, T0, &ar);
	p = policies_find(ps, "gone", 4);
	ck_assert_int_eq(allowed_n(p, "k", 1, T0), 1);

	/* Same api, login with another free_failures, gone removed, new added. */
	conf.npolicies = 2;
	login->free_failures = 4;
	add("fresh", POLICY_EVENTS)->limit = 3;
	p = build("api");
	l = policies_find(ps, "login", 5);
	ck_assert_ptr_null(policies_find(ps, "gone", 4));
	r = chk(p, "k", 1, NULL, false, T0);
	ck_assert(r.allowed);
	ck_assert_uint_eq(r.remaining, 1);
	policy_stats(p, &st);
	ck_assert_uint_eq(st.allowed, 4); /* counters carried over too */
	/* Another free_failures: the failures stay. */
	ck_assert_int_eq(policy_auth_check(l, "k", 1, T0, &ar), 0);
	ck_assert_uint_eq(ar.failures, 2);

	/* Another count, the same per: the key's state stays, as the share
	 * of the window used (4 of 5 used: 800 ms of 1 s; of 6, one left). */
	pol[0].limits[0].count = 6;
	p = build("api");
	ck_assert_ptr_nonnull(policies_find(ps, "fresh", 5));
	ck_assert_uint_eq(chk(p, "k", 1, NULL, true, T0).remaining, 1);
	ck_assert_int_eq(allowed_n(p, "k", 3, T0), 1);
	policy_stats(p, &st);
	ck_assert_uint_eq(st.allowed, 6);
	ck_assert_uint_eq(st.keys, 1);
}
END_TEST

/*
 * Issue 12: what a change of parameters keeps. Blocks always (same type);
 * window counters while the limits keep their per (in order); budget
 * counters while the period stays; every other type's state always. A
 * change of type starts fresh, blocks included.
 */
START_TEST(test_reload_keeps_blocks)
{
	struct fg_conf_policy *w, *b;
	struct policy *p, *q;
	struct rl_result r;
	struct rl_auth_result ar;

	w = add("w", POLICY_WINDOW);
	limit(w, 10, 1000);
	limit(w, 100, 60000);
	w->block_for_ms = 60000;
	b = add("b", POLICY_BUDGET);
	b->amount = 100;
	build(NULL);
	p = policies_find(ps, "w", 1);
	q = policies_find(ps, "b", 1);
	ck_assert_int_eq(allowed_n(p, "used", 5, T0), 5);
	ck_assert_int_eq(allowed_n(p, "full", 12, T0), 10); /* the 11th blocks it for 1 min */
	ck_assert_int_eq(policy_block(p, "manual", 6, 600, T0), 0);
	ck_assert(chk(q, "spent", 60, NULL, false, T0).allowed);
	ck_assert_int_eq(policy_block(q, "bb", 2, 600, T0), 0);

	/* Counts, roles and block_for change; the pers stay: all of it stays. */
	w->limits[0].count = 20;
	w->limits[1].count = 50;
	w->block_for_ms = 1000;
	role(w, "PRO", 2000, 0);
	b->amount = 200;
	p = build("w");
	q = policies_find(ps, "b", 1);
	r = chk(p, "used", 1, NULL, true, T0);
	ck_assert_uint_eq(r.remaining, 10); /* 5 of 10 per 1s used: 10 of 20 */
	ck_assert_str_eq(r.window, "1s");
	r = chk(p, "full", 1, NULL, false, T0 + 1000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 59000);
	ck_assert_str_eq(chk(p, "manual", 1, NULL, false, T0 + 1000).state, "blocked");
	ck_assert_uint_eq(chk(q, "spent", 1, NULL, true, T0).remaining, 140);
	ck_assert_str_eq(chk(q, "bb", 1, NULL, false, T0).state, "blocked");

	/* A limit added: the counters start fresh, the blocks stay. */
	limit(w, 1000, 3600000);
	b->period = POLICY_PERIOD_HOUR;
	p = build("w");
	q = policies_find(ps, "b", 1);
	ck_assert_uint_eq(chk(p, "used", 1, NULL, true, T0).remaining, 20);
	r = chk(p, "full", 1, NULL, false, T0 + 2000);
	ck_assert_str_eq(r.state, "blocked");
	ck_assert_uint_eq(r.retry_after_ms, 58000);
	ck_assert_str_eq(chk(p, "manual", 1, NULL, false, T0 + 2000).state, "blocked");
	ck_assert_uint_eq(chk(q, "spent", 1, NULL, true, T0).remaining, 200);
	ck_assert_str_eq(chk(q, "bb", 1, NULL, false, T0).state, "blocked");
	/* The block ends when it did: then the key passes. */
	ck_assert(chk(p, "full", 1, NULL, false, T0 + 60000).allowed);

	/* Another type: nothing stays, blocks neither. */
	w->type = POLICY_PROGRESSIVE;
	build(NULL);
	p = policies_find(ps, "w", 1);
	ck_assert_int_eq(policy_auth_check(p, "manual", 6, T0 + 2000, &ar), 0);
	ck_assert_uint_eq(ar.delay_ms, 0);
}
END_TEST

/* What "unchanged" means, per type: a field the type decides with drops its
 * state, anything else (another type's field, on_store_error, max_keys) keeps it. */
START_TEST(test_reload_unchanged_per_type)
{
	struct fg_conf_policy *w, *b, *e, *g;
	struct rl_auth_result ar;
	struct rl_event_result er;

	w = add("w", POLICY_WINDOW);
	limit(w, 5, 1000);
	role(w, "PRO", 2000, 0);
	b = add("b", POLICY_BUDGET);
	b->amount = 100;
	e = add("e", POLICY_EVENTS);
	e->limit = 10;
	e->window_ms = 60000;
	strcpy(e->exempt[e->nexempt++], "ping");
	g = add("g", POLICY_PROGRESSIVE);
	build(NULL);
	chk(policies_find(ps, "w", 1), "k", 1, "PRO", false, T0);
	chk(policies_find(ps, "b", 1), "k", 7, NULL, false, T0);
	ck_assert_int_eq(policy_event(policies_find(ps, "e", 1), "c", 1, "m", 1, T0, &er), 0);
	ck_assert_int_eq(policy_auth_fail(policies_find(ps, "g", 1), "k", 1, T0, &ar), 0);

	/* Not theirs: all four keep their state. */
	w->amount = 5;
	w->on_store_error = POLICY_ON_ERROR_DENY;
	b->free_failures = 9;
	b->max_keys = 10;
	e->block_for_ms = 1000;
	g->limit = 3;
	build(NULL);
	ck_assert_uint_eq(chk(policies_find(ps, "w", 1), "k", 1, "PRO", true, T0).remaining, 9);
	ck_assert_uint_eq(chk(policies_find(ps, "b", 1), "k", 1, NULL, true, T0).remaining, 93);
	ck_assert_int_eq(policy_event(policies_find(ps, "e", 1), "c", 1, "m", 1, T0, &er), 0);
	ck_assert_uint_eq(er.count, 2);
	ck_assert_int_eq(policy_auth_check(policies_find(ps, "g", 1), "k", 1, T0, &ar), 0);
	ck_assert_uint_eq(ar.failures, 1);

	/* Theirs, and the state still means the same (issue 12): a role's
	 * multiplier (1 of PRO's 10: 10% of the window, 13 of 15 left), an
	 * exempt event, xdp_ban keep it; the budget's period does not. */
	w->roles[0].mult_milli = 3000;
	b->period = POLICY_PERIOD_HOUR;
	strcpy(e->exempt[0], "pong");
	g->xdp_ban_after = 5;
	build(NULL);
	ck_assert_uint_eq(chk(policies_find(ps, "w", 1), "k", 1, "PRO", true, T0).remaining, 13);
	ck_assert_uint_eq(chk(policies_find(ps, "b", 1), "k", 1, NULL, true, T0).remaining, 100);
	ck_assert_int_eq(policy_event(policies_find(ps, "e", 1), "c", 1, "m", 1, T0, &er), 0);
	ck_assert_uint_eq(er.count, 3);
	ck_assert_int_eq(policy_auth_check(policies_find(ps, "g", 1), "k", 1, T0, &ar), 0);
	ck_assert_uint_eq(ar.failures, 1);

	/* A window's per changes: its counters start fresh. */
	w->limits[0].per_ms = 2000;
	build(NULL);
	ck_assert_uint_eq(chk(policies_find(ps, "w", 1), "k", 1, "PRO", true, T0).remaining, 15);
}
END_TEST

/* Every type's row is whole: what the set and the Redis store call is there. */
START_TEST(test_kind_table)
{
	int t, u, i, ops;

	for (t = 0; t < POLICY_TYPE_N; t++) {
		const struct policy_kind *k = policy_kinds[t];

		ck_assert_ptr_nonnull(k);
		ck_assert_ptr_nonnull(k->name);
		ck_assert_int_eq(policy_kind_find(k->name, strlen(k->name)), t);
		for (u = 0; u < t; u++)
			ck_assert_str_ne(policy_kinds[u]->name, k->name);
		ck_assert(k->canon && k->state_size && k->expiry && k->fallback && k->pack &&
			  k->describe);
		ck_assert_int_eq(!k->priv_size, !k->compile);
		for (i = 0, ops = 0; i < POLICY_OP_DECIDE_N; i++)
			ops += !!k->decide[i];
		ck_assert_msg(ops, "%s decides nothing", k->name);
		for (i = 0; i < POLICY_LUA_N; i++)
			ck_assert_ptr_nonnull(k->lua[i]);
	}
	ck_assert_int_eq(policy_kind_find("windows", 7), -1);
	ck_assert_int_eq(policy_kind_find("window", 5), -1);
}
END_TEST

START_TEST(test_reload_store_size)
{
	struct policies_store_stats ss;
	struct policy *p;
	char key[16];
	int i;

	limit(add("api", POLICY_WINDOW), 5, 1000);
	conf.store.max_keys = 100;
	p = build("api");
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		chk(p, key, 1, NULL, false, T0);
	}
	conf.store.max_keys = 10;
	p = build("api");
	policies_store_stats(ps, &ss);
	ck_assert_uint_eq(ss.keys, 10);
	ck_assert_uint_eq(ss.max_keys, 10);
	conf.store.max_keys = 5000;
	p = build("api");
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		chk(p, key, 1, NULL, false, T0);
	}
	policies_store_stats(ps, &ss);
	ck_assert_uint_eq(ss.keys, 3000);
	/* k99 survived both reloads with its one request charged. */
	ck_assert_uint_eq(chk(p, "k99", 1, NULL, true, T0).remaining, 3);
}
END_TEST

START_TEST(test_empty_set)
{
	build(NULL);
	ck_assert_uint_eq(policies_count(ps), 0);
	ck_assert_ptr_null(policies_find(ps, "x", 1));
	ck_assert_ptr_null(policies_at(ps, 0));
}
END_TEST

/* --- CL.THROTTLE: limits given per call ------------------------------------ */

static void cell_on(uint64_t max_keys)
{
	conf.per_call = (struct fg_conf_per_call){ .enabled = true,
						   .max_keys = max_keys,
						   .max_burst = 1000000,
						   .max_count = 1000000,
						   .max_period_ms = DAY_MS };
}

/* limited, limit, remaining, retry_after, reset_after of one call. */
static void cell_is(const char *key, uint64_t burst, uint64_t count, uint64_t period, uint64_t q,
		    uint64_t now, int limited, long long limit, long long rem, long long retry,
		    long long reset)
{
	struct policy_cell_answer a;

	ck_assert_int_eq(policy_cell(ps, key, burst, count, period, q, now, &a), 0);
	ck_assert_msg(a.limited == limited && a.limit == limit && a.remaining == rem &&
			      a.retry_after_s == retry && a.reset_after_s == reset,
		      "CL.THROTTLE %s %llu %llu %llu %llu at +%llums: [%d %lld %lld %lld %lld], "
		      "want [%d %lld %lld %lld %lld]",
		      key, (unsigned long long)burst, (unsigned long long)count,
		      (unsigned long long)period, (unsigned long long)q,
		      (unsigned long long)(now - T0), a.limited, a.limit, a.remaining,
		      a.retry_after_s, a.reset_after_s, limited, limit, rem, retry, reset);
}

/*
 * redis-cell's documented answers: its README's first call (15 30 60:
 * 0 16 15 -1 2) and the table of its limiter's own test (max_burst 4, one
 * per second), times rounded up to whole seconds as its command does.
 */
START_TEST(test_cell_redis_cell_cases)
{
	cell_on(1000);
	build(NULL);
	cell_is("user123", 15, 30, 60, 1, T0, 0, 16, 15, -1, 2);

	/* More than max_burst + 1 at once never passes: nothing charged. */
	cell_is("foo", 4, 1, 1, 6, T0, 1, 5, 5, -1, 0);
	cell_is("foo", 4, 1, 1, 1, T0, 0, 5, 4, -1, 1);
	cell_is("foo", 4, 1, 1, 1, T0, 0, 5, 3, -1, 2);
	cell_is("foo", 4, 1, 1, 1, T0, 0, 5, 2, -1, 3);
	cell_is("foo", 4, 1, 1, 1, T0, 0, 5, 1, -1, 4);
	cell_is("foo", 4, 1, 1, 1, T0, 0, 5, 0, -1, 5);
	cell_is("foo", 4, 1, 1, 1, T0, 1, 5, 0, 1, 5);
	cell_is("foo", 4, 1, 1, 1, T0 + 3000, 0, 5, 2, -1, 3);
	cell_is("foo", 4, 1, 1, 1, T0 + 3100, 0, 5, 1, -1, 4); /* 3.9 s: 4 */
	cell_is("foo", 4, 1, 1, 1, T0 + 4000, 0, 5, 1, -1, 4);
	cell_is("foo", 4, 1, 1, 1, T0 + 8000, 0, 5, 4, -1, 1);
	cell_is("foo", 4, 1, 1, 1, T0 + 9500, 0, 5, 4, -1, 1);
	/* Quantity 0 peeks; 2 takes two; 5 does not fit in the 2 left: 3 s. */
	cell_is("foo", 4, 1, 1, 0, T0 + 9500, 0, 5, 4, -1, 1);
	cell_is("foo", 4, 1, 1, 2, T0 + 9500, 0, 5, 2, -1, 3);
	cell_is("foo", 4, 1, 1, 5, T0 + 9500, 1, 5, 2, 3, 3);
}
END_TEST

/* Its keys are no policy's: CL "login" and policy login's "login" are two
 * states; a reload keeps CL state, disabling drops it; errors. */
START_TEST(test_cell_apart_reload_errors)
{
	struct policy_cell_answer a;
	struct policy_stats st;
	struct fg_conf_per_call pc;
	struct policy *p;

	limit(add("login", POLICY_WINDOW), 1, 60000);
	cell_on(2);
	p = build("login");
	cell_is("login", 0, 1, 60, 1, T0, 0, 1, 0, -1, 60);
	ck_assert(chk(p, "login", 1, NULL, false, T0).allowed);
	ck_assert(!chk(p, "login", 1, NULL, false, T0).allowed);
	cell_is("login", 0, 1, 60, 1, T0, 1, 1, 0, 60, 60);

	/* Limits of another call on the same key read the same TAT. */
	cell_is("login", 1, 1, 60, 1, T0, 0, 2, 0, -1, 120);

	/* max_keys: the third key evicts the least recently used. */
	cell_is("k2", 0, 1, 60, 1, T0, 0, 1, 0, -1, 60);
	cell_is("k3", 0, 1, 60, 1, T0, 0, 1, 0, -1, 60);
	ck_assert(policies_cell(ps, &pc, &st));
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.allowed, 4);
	ck_assert_uint_eq(st.denied, 1);
	ck_assert_uint_eq(pc.max_burst, 1000000);

	/* A reload keeps the keys and the counters. */
	p = build("login");
	cell_is("k3", 0, 1, 60, 1, T0, 1, 1, 0, 60, 60);
	ck_assert(policies_cell(ps, NULL, &st));
	ck_assert_uint_eq(st.denied, 2);
	cell_is("k3", 0, 1, 60, 2, T0, 1, 1, 0, -1, 60); /* never: counted as limited */
	ck_assert(policies_cell(ps, NULL, &st));
	ck_assert_uint_eq(st.denied, 3);
	ck_assert_uint_eq(st.allowed, 4);

	/* Bad limits, refused before any store. */
	ck_assert_int_eq(policy_cell(ps, "x", 0, 0, 60, 1, T0, &a), -EINVAL);
	ck_assert_int_eq(policy_cell(ps, "x", 0, 1, 0, 1, T0, &a), -EINVAL);
	ck_assert_int_eq(policy_cell(ps, "x", 1000001, 1, 1, 1, T0, &a), -ERANGE);
	ck_assert_int_eq(policy_cell(ps, "x", 0, 1000001, 1000, 1, T0, &a), -ERANGE);
	ck_assert_int_eq(policy_cell(ps, "x", 0, 1, 86401, 1, T0, &a), -ERANGE);
	/* 1e6 + 1 periods of a day: far past what Redis's doubles keep exact. */
	ck_assert_int_eq(policy_cell(ps, "x", 1000000, 1, 86400, 1, T0, &a), -EOVERFLOW);
	/* A huge quantity is refused as never passing, not multiplied. */
	cell_is("x", 0, 1, 1, 1000000000000000ULL, T0, 1, 1, 1, -1, 0);

	/* CL.RESET forgets a key: its burst is back. */
	ck_assert_int_eq(policy_reset_cell(ps, "k3", 2, T0, NULL, NULL), 0);
	cell_is("k3", 0, 1, 60, 1, T0, 0, 1, 0, -1, 60);
	ck_assert_int_eq(policy_reset_cell(ps, "k3", 2, T0, NULL, NULL), 0);

	/* Disabled: refused, and its keys go with the reload. */
	conf.per_call.enabled = false;
	build(NULL);
	ck_assert(!policies_cell(ps, NULL, NULL));
	ck_assert_int_eq(policy_cell(ps, "k3", 0, 1, 60, 1, T0, &a), -EOPNOTSUPP);
	ck_assert_int_eq(policy_reset_cell(ps, "k3", 2, T0, NULL, NULL), -EOPNOTSUPP);
	cell_on(2);
	build(NULL);
	cell_is("k3", 0, 1, 60, 1, T0, 0, 1, 0, -1, 60);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *w = tcase_create("window");
	TCase *o = tcase_create("other");
	TCase *big = tcase_create("bounds");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(w, setup, teardown);
	tcase_add_test(w, test_window_no_edge_burst);
	tcase_add_test(w, test_window_atomic);
	tcase_add_test(w, test_window_peek_cost);
	tcase_add_test(w, test_window_warn);
	tcase_add_test(w, test_window_roles);
	tcase_add_test(w, test_window_block_for);
	tcase_add_test(w, test_window_block_retry);
	tcase_add_test(w, test_keys);
	tcase_add_test(w, test_sliding_issue_figure);
	tcase_add_test(w, test_sliding_exact);
	tcase_add_test(w, test_sliding_windows_warn_peek);
	tcase_add_test(w, test_sliding_block_roles);
	tcase_add_test(w, test_sliding_clock_back);
	tcase_add_test(w, test_sliding_memory);
	tcase_add_test(w, test_sliding_reload);
	suite_add_tcase(s, w);

	tcase_add_checked_fixture(o, setup, teardown);
	tcase_add_test(o, test_wrong_type);
	tcase_add_test(o, test_progressive_sequence);
	tcase_add_test(o, test_progressive_forget_reset_ban);
	tcase_add_test(o, test_events);
	tcase_add_test(o, test_clock_steps_back);
	tcase_add_test(o, test_budget_utc_midnight);
	tcase_add_test(o, test_budget_hour);
	tcase_add_test(o, test_budget_block_retry);
	tcase_add_test(o, test_events_small_limits);
	tcase_add_test(o, test_event_types);
	tcase_add_test(o, test_event_types_others);
	tcase_add_test(o, test_event_types_reload);
	tcase_add_test(o, test_event_types_describe);
	tcase_add_test(o, test_budget_charge);
	tcase_add_test(o, test_budget_role_zero_debt);
	tcase_add_test(o, test_budget_tz_berlin);
	tcase_add_test(o, test_budget_tz_new_york_0530);
	tcase_add_test(o, test_budget_tz_reload);
	tcase_add_test(o, test_budget_tz_ids);
	tcase_add_test(o, test_multi);
	tcase_add_test(o, test_describe);
	tcase_add_test(o, test_policy_max_keys);
	tcase_add_test(o, test_eviction);
	tcase_add_test(o, test_reload);
	tcase_add_test(o, test_reload_store_size);
	tcase_add_test(o, test_reload_unchanged_per_type);
	tcase_add_test(o, test_reload_keeps_blocks);
	tcase_add_test(o, test_kind_table);
	tcase_add_test(o, test_empty_set);
	tcase_add_test(o, test_cell_redis_cell_cases);
	tcase_add_test(o, test_cell_apart_reload_errors);
	suite_add_tcase(s, o);

	/* 1.1 M keys: seconds, more under the sanitizers. */
	tcase_add_checked_fixture(big, setup, teardown);
	tcase_set_timeout(big, 120);
	tcase_add_test(big, test_policy_bounds);
	suite_add_tcase(s, big);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
