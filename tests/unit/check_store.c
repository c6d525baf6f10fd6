// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* store: the memory store's map, LRU, expiry and namespaces, with an
 * injected clock; and what a key costs in memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "store.h"

#define NOW 1795608000000ULL

static struct store *s;
static uint32_t ns;

struct ctr {
	uint64_t n; /* the state: a counter */
	uint64_t pad;
};

/* Adds 1 and keeps the key for ttl ms (0: delete it). */
struct inc {
	uint64_t now, ttl, seen;
	bool fresh;
};

static uint64_t inc_fn(void *state, bool fresh, void *arg)
{
	struct ctr *c = state;
	struct inc *a = arg;

	a->fresh = fresh;
	c->n++;
	a->seen = c->n;
	return a->ttl ? a->now + a->ttl : 0;
}

static uint64_t inc(const char *key, size_t klen, bool create, uint64_t now, uint64_t ttl)
{
	struct inc a = { .now = now, .ttl = ttl };

	ck_assert_int_eq(store_run(s, ns, key, klen, create, now, inc_fn, &a), 0);
	return a.seen;
}

static void setup(void)
{
	s = store_memory_new(100, 7);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_ns_new(s, sizeof(struct ctr), &ns), 0);
}

static void teardown(void)
{
	store_free(s);
}

static struct store_stats stats(void)
{
	struct store_stats st;

	store_stats(s, &st);
	return st;
}

START_TEST(test_run)
{
	const char k1[] = { 'a', 0, 'b' }, k2[] = { 'a', 0, 'c' };
	char big[STORE_KEY_MAX + 1];
	struct inc a = { .now = NOW, .ttl = 10 };

	ck_assert_uint_eq(inc("k", 1, true, NOW, 1000), 1);
	ck_assert_uint_eq(inc("k", 1, true, NOW, 1000), 2);
	/* Without create a missing key runs on zeroes and stays missing. */
	ck_assert_uint_eq(inc("m", 1, false, NOW, 1000), 1);
	ck_assert_uint_eq(inc("m", 1, false, NOW, 1000), 1);
	/* ...but an existing one is updated. */
	ck_assert_uint_eq(inc("k", 1, false, NOW, 1000), 3);
	/* Binary keys. */
	ck_assert_uint_eq(inc(k1, 3, true, NOW, 1000), 1);
	ck_assert_uint_eq(inc(k2, 3, true, NOW, 1000), 1);
	ck_assert_uint_eq(inc(k1, 3, true, NOW, 1000), 2);
	ck_assert_uint_eq(inc("", 0, true, NOW, 1000), 1);
	ck_assert_uint_eq(stats().keys, 4);
	/* An expiry in the past (0) deletes. */
	ck_assert_uint_eq(inc("k", 1, true, NOW, 0), 4);
	ck_assert_uint_eq(inc("k", 1, true, NOW, 1000), 1);
	ck_assert_uint_eq(stats().keys, 4);
	/* Expired state reads as fresh zeroes. */
	ck_assert_uint_eq(inc("k", 1, true, NOW + 999, 1000), 2);
	ck_assert_uint_eq(inc("k", 1, true, NOW + 1999, 1000), 1);
	ck_assert_int_eq(store_run(s, ns, "k", 1, true, NOW + 5000, inc_fn, &a), 0);
	ck_assert(a.fresh);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(store_run(s, ns, big, sizeof(big), true, NOW, inc_fn, &a), -E2BIG);
	ck_assert_uint_eq(inc(big, STORE_KEY_MAX, true, NOW, 1000), 1);
	ck_assert_uint_eq(inc(big, STORE_KEY_MAX, true, NOW, 1000), 2);
	ck_assert_int_eq(store_del(s, ns, big, sizeof(big), NOW), -E2BIG);
	ck_assert_int_eq(store_del(s, ns, big, STORE_KEY_MAX, NOW), 0);
	ck_assert_uint_eq(inc(big, STORE_KEY_MAX, true, NOW, 1000), 1);
}
END_TEST

START_TEST(test_lru_eviction)
{
	char key[16];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		inc(key, strlen(key), true, NOW, 60000);
	}
	inc("k0", 2, true, NOW, 60000); /* k0 is now the most recent */
	for (i = 100; i < 110; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		inc(key, strlen(key), true, NOW, 60000);
	}
	ck_assert_uint_eq(stats().keys, 100);
	ck_assert_uint_eq(stats().evictions, 10);
	ck_assert_uint_eq(inc("k0", 2, false, NOW, 60000), 3);
	ck_assert_uint_eq(inc("k10", 3, false, NOW, 60000), 1); /* evicted */
	ck_assert_uint_eq(inc("k11", 3, false, NOW, 60000), 2);
	ck_assert_uint_eq(store_ns_keys(s, ns), 100);

	/* Expired entries go before live ones, and are not evictions. */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "e%d", i);
		inc(key, strlen(key), true, NOW + 1, 1);
	}
	ck_assert_uint_eq(stats().keys, 100);
	ck_assert_uint_eq(stats().evictions, 110);
	inc("late", 4, true, NOW + 5, 60000);
	ck_assert_uint_eq(stats().evictions, 110);
	ck_assert_uint_gt(stats().expired, 0);
}
END_TEST

START_TEST(test_incremental_expiry)
{
	char key[16];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		inc(key, strlen(key), true, NOW, 1000 + (uint64_t)i);
	}
	/* Each later operation reclaims a few expired keys; none is evicted. */
	for (i = 0; i < 60; i++)
		inc("x", 1, false, NOW + 5000, 1);
	ck_assert_uint_eq(stats().keys, 0);
	ck_assert_uint_eq(stats().expired, 100);
	ck_assert_uint_eq(stats().evictions, 0);
	/* A sweep for idle times does the same in one call. */
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		inc(key, strlen(key), true, NOW, 10);
	}
	ck_assert_uint_eq(store_sweep(s, NOW + 10, 1000), 50);
	ck_assert_uint_eq(stats().keys, 0);
}
END_TEST

START_TEST(test_namespaces)
{
	uint32_t ns2;
	int i;

	ck_assert_int_eq(store_ns_new(s, sizeof(struct ctr), &ns2), 0);
	ck_assert_uint_ne(ns, ns2);
	inc("k", 1, true, NOW, 60000);
	inc("k", 1, true, NOW, 60000);
	{
		uint32_t keep = ns;

		ns = ns2;
		ck_assert_uint_eq(inc("k", 1, true, NOW, 60000), 1);
		ns = keep;
	}
	ck_assert_uint_eq(store_ns_keys(s, ns), 1);
	ck_assert_uint_eq(store_ns_keys(s, ns2), 1);
	store_ns_drop(s, ns);
	ck_assert_uint_eq(store_ns_keys(s, ns), 0);
	ck_assert_int_eq(store_run(s, ns, "k", 1, true, NOW, inc_fn, &(struct inc){ 0 }), -EINVAL);
	/* The dropped namespace's key is reclaimed as garbage... */
	ns = ns2;
	for (i = 0; i < 5; i++)
		inc("y", 1, false, NOW, 1);
	ck_assert_uint_eq(stats().keys, 1);
	/* ...and its slot is reused only once empty. */
	ck_assert_int_eq(store_ns_new(s, 8, &ns), 0);
	ck_assert_int_eq(store_ns_new(s, 7, &ns), -EINVAL);
	ck_assert_int_eq(store_ns_new(s, STORE_STATE_MAX + 8, &ns), -EINVAL);
}
END_TEST

/* A reload's rewrite: x10 each counter, drop those at 1 (0 = drop). */
static uint64_t x10_fn(void *dst, const void *src, void *arg)
{
	const struct ctr *o = src;
	uint64_t *d = dst; /* the new state: 3 fields */

	(void)arg;
	d[0] = o->n * 10;
	d[2] = 7;
	return o->n == 1 ? 0 : NOW + 1000;
}

START_TEST(test_ns_move)
{
	uint32_t to;
	char key[16];
	int i;

	store_ns_set_max_keys(s, ns, 0, NOW);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		inc(key, strlen(key), true, NOW, 1000);
		if (i % 2 == 0)
			inc(key, strlen(key), true, NOW, 1000); /* even keys: 2 */
	}
	/* In place: the odd keys (at 1) go, the others are rewritten. */
	ck_assert_uint_eq(store_ns_move(s, ns, ns, x10_fn, NULL), 5);
	ck_assert_uint_eq(store_ns_keys(s, ns), 5);
	ck_assert_uint_eq(inc("k2", 2, true, NOW, 1000), 21);
	ck_assert_uint_eq(inc("k3", 2, false, NOW, 1000), 1);
	/* Into a larger namespace: the keys move, the old one is empty. */
	ck_assert_int_eq(store_ns_new(s, 24, &to), 0);
	ck_assert_uint_eq(store_ns_move(s, ns, to, x10_fn, NULL), 5);
	ck_assert_uint_eq(store_ns_keys(s, ns), 0);
	ck_assert_uint_eq(store_ns_keys(s, to), 5);
	/* An expired key stays gone, whatever its new expiry. */
	inc("old", 3, true, NOW - 5000, 1000);
	inc("old", 3, true, NOW - 5000, 1000); /* at 2: x10_fn would keep it */
	ck_assert_uint_eq(store_ns_keys(s, ns), 1);
	ck_assert_uint_eq(store_ns_move(s, ns, to, x10_fn, NULL), 0);
	ck_assert_uint_eq(store_ns_keys(s, to), 5);
	/* The LRU order stays: k0 is the least recently used, evicted first. */
	store_ns_set_max_keys(s, to, 4, NOW);
	ck_assert_uint_eq(store_ns_keys(s, to), 4);
	ck_assert_uint_eq(store_ns_evictions(s, to), 1);
	{
		struct inc b = { .now = NOW, .ttl = 1000 };

		ck_assert_int_eq(store_run(s, to, "k0", 2, false, NOW, inc_fn, &b), 0);
		ck_assert(b.fresh);
		ck_assert_int_eq(store_run(s, to, "k2", 2, false, NOW, inc_fn, &b), 0);
		ck_assert(!b.fresh);
		ck_assert_uint_eq(b.seen, 211);
	}
}
END_TEST

START_TEST(test_siphash)
{
	/* SipHash's key matters: the same data hashes apart under two seeds. */
	ck_assert_uint_ne(store_siphash(1, 2, "abc", 3), store_siphash(1, 3, "abc", 3));
	ck_assert_uint_eq(store_siphash(1, 2, "abc", 3), store_siphash(1, 2, "abc", 3));
	ck_assert_uint_ne(store_siphash(1, 2, "abc", 3), store_siphash(1, 2, "abd", 3));
	ck_assert_uint_ne(store_siphash(1, 2, "", 0), store_siphash(1, 2, "\0", 1));
}
END_TEST

/* A growing state: word 0 counts the words after it. */
static uint32_t list_used(const void *state)
{
	const uint64_t *w = state;

	return (uint32_t)(8 * (1 + w[0]));
}

/* Appends v (0: empties the list), checks what was there. */
struct push {
	uint64_t now, v, want_len, want_sum;
};

static uint64_t push_fn(void *state, bool fresh, void *arg)
{
	uint64_t *w = state, sum = 0, i;
	struct push *a = arg;

	(void)fresh;
	for (i = 1; i <= w[0]; i++)
		sum += w[i];
	ck_assert_uint_eq(w[0], a->want_len);
	ck_assert_uint_eq(sum, a->want_sum);
	if (!a->v)
		w[0] = 0;
	else
		w[++w[0]] = a->v;
	return a->now + 60000;
}

/*
 * store_ns_set_used: keys hold what their state uses (in 128-byte steps),
 * grow and shrink with it, keep their contents, LRU order and hash chains
 * through the moves, and the byte count returns to where it started.
 */
START_TEST(test_sized_state)
{
	static uint64_t len[64], sum[64];
	struct store_stats st0, st;
	uint64_t rs = 99;
	uint32_t lns;
	char key[16];
	int i, k;

	ck_assert_int_eq(store_ns_new(s, 4096, &lns), 0);
	ck_assert_int_eq(store_ns_set_used(s, lns, list_used), 0);
	ck_assert_int_eq(store_ns_set_max_keys(s, lns, 64, NOW), 0);
	store_stats(s, &st0);
	for (i = 0; i < 20000; i++) {
		struct push a = { .now = NOW };

		rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
		k = (int)(rs % 64);
		a.v = rs % 50 ? 1 + rs % 1000 : 0;
		if (len[k] == 511)
			a.v = 0;
		a.want_len = len[k];
		a.want_sum = sum[k];
		snprintf(key, sizeof(key), "k%d", k);
		ck_assert_int_eq(store_run(s, lns, key, strlen(key), true, NOW, push_fn, &a), 0);
		len[k] = a.v ? len[k] + 1 : 0;
		sum[k] = a.v ? sum[k] + a.v : 0;
	}
	store_stats(s, &st);
	ck_assert_uint_eq(st.keys, 64);
	{
		uint64_t want = 0;

		for (k = 0; k < 64; k++) {
			uint64_t c = (8 * (1 + len[k]) + 127) / 128 * 128;

			want += c; /* at least what each uses, at most 256 bytes more */
		}
		ck_assert_uint_ge(st.bytes - st0.bytes, want);
		ck_assert_uint_le(st.bytes - st0.bytes, want + 64 * (256 + 64 + 8));
	}
	/* A 65th key evicts the least recently used: k's order survived the moves. */
	for (k = 0; k < 64; k++) {
		struct push a = { .now = NOW, .v = 1, .want_len = len[k], .want_sum = sum[k] };

		snprintf(key, sizeof(key), "k%d", k);
		ck_assert_int_eq(store_run(s, lns, key, strlen(key), true, NOW, push_fn, &a), 0);
		len[k]++;
		sum[k]++;
	}
	{
		struct push a = { .now = NOW, .v = 1 };

		ck_assert_int_eq(store_run(s, lns, "new", 3, true, NOW, push_fn, &a), 0);
		/* k0 went: a missing key runs on zeroes; k1 is intact. */
		ck_assert_int_eq(store_run(s, lns, "k0", 2, false, NOW, push_fn, &a), 0);
		a.want_len = len[1];
		a.want_sum = sum[1];
		a.v = 0;
		ck_assert_int_eq(store_run(s, lns, "k1", 2, true, NOW, push_fn, &a), 0);
	}
	for (k = 1; k < 64; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		ck_assert_int_eq(store_del(s, lns, key, strlen(key), NOW), 0);
	}
	ck_assert_int_eq(store_del(s, lns, "new", 3, NOW), 0);
	store_stats(s, &st);
	ck_assert_uint_eq(st.bytes, st0.bytes);
	/* Only a namespace without keys changes its kind of state. */
	inc("x", 1, true, NOW, 1000);
	ck_assert_int_eq(store_ns_set_used(s, ns, list_used), -EINVAL);
}
END_TEST

/* What a million keys cost: the bound the issue sets is ~100-200 bytes. */
START_TEST(test_memory_per_key)
{
	struct store *big = store_memory_new(1000000, 1);
	struct store *keep = s;
	struct timespec a, b;
	char key[40];
	uint32_t n2;
	int i;

	ck_assert_int_eq(store_ns_new(big, 32, &n2), 0);
	s = big;
	ns = n2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 1000000; i++) {
		int len = snprintf(key, sizeof(key), "user:%08d", i);

		inc(key, (size_t)len, true, NOW, 3600000);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("store: 1M keys (16-byte keys, 32-byte state): %.0f bytes/key (store's count, "
	       "malloc overhead excluded), %.0f ns/insert\n",
	       (double)stats().bytes / 1e6,
	       ((b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e6);
	ck_assert_uint_eq(stats().keys, 1000000);
	ck_assert_uint_lt(stats().bytes / 1000000, 120);
	s = keep;
	store_free(big);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("memory");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_run);
	tcase_add_test(tc, test_lru_eviction);
	tcase_add_test(tc, test_incremental_expiry);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_ns_move);
	tcase_add_test(tc, test_siphash);
	tcase_add_test(tc, test_sized_state);
	tcase_add_test(tc, test_memory_per_key);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
