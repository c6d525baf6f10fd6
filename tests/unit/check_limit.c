// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* limit: the XDP program's token buckets (bpf/limit.h) on an injected
 * clock. A take is decided as fg_xdp's take() does: bucket_clock() on the
 * coarse now, then bucket_take() on the clock it names. The coarse clock
 * here is stamped by a tick handler that runs up to 0.9 tick late. */
#include <stdbool.h>
#include <stdint.h>

#include <check.h>

/* clang's "#pragma unroll" is the kernel build's business */
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#include "../../bpf/limit.h"

#define S    1000000000ULL
#define MS   1000000ULL
#define T0   (1000 * S)
#define TICK (4 * MS) /* HZ=250 */
#define LAG  (2 * TICK)

/* The time the handler of tick k ran: up to 0.9 tick late, pseudo-random. */
static uint64_t tick_ran(uint64_t k)
{
	uint64_t z = k * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
	return k * TICK + (z >> 33) % (TICK * 9 / 10);
}

/* The coarse clock at precise time now: when the last handler ran. */
static uint64_t coarse_at(uint64_t now)
{
	uint64_t k = now / TICK;

	return tick_ran(k) <= now ? tick_ran(k) : tick_ran(k - 1);
}

struct bucket {
	struct fg_limit l;
	__u64 tat;
	uint64_t refused; /* coarse now of the last refusal (refused_ns) */
	int precise_reads;
};

static void bucket_init(struct bucket *b, uint32_t rate, uint32_t burst)
{
	*b = (struct bucket){ .l = { .rate = rate, .burst = burst, .interval_ns = S / rate } };
}

/* One take at precise time now, as fg_xdp's take() for a source's level:
 * it floods for a tick after a refusal. */
static bool take(struct bucket *b, uint64_t now)
{
	uint64_t coarse = coarse_at(now);
	bool ok;

	switch (bucket_clock(b->tat, &b->l, coarse, LAG, b->refused + TICK)) {
	case BUCKET_REFUSE:
		ok = false;
		break;
	case BUCKET_COARSE:
		ok = bucket_take(&b->tat, &b->l, coarse);
		break;
	default:
		b->precise_reads++;
		ok = bucket_take(&b->tat, &b->l, now);
	}
	if (!ok && b->refused < coarse)
		b->refused = coarse;
	return ok;
}

static uint64_t rnd(uint64_t *state, uint64_t below)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (*state >> 33) % below;
}

/* A client well inside its per-address limit (20/s, burst 40): a new
 * connection every 0.2-0.9 s for a minute. Every one is admitted, and
 * none needs the precise clock (it costs 25-110 ns here). */
START_TEST(test_inside_limit_coarse)
{
	struct bucket b;
	uint64_t now = T0, seed = 1;
	int i, admitted = 0;

	bucket_init(&b, 20, 40);
	for (i = 0; i < 100; i++) {
		now += 200 * MS + rnd(&seed, 700 * MS);
		admitted += take(&b, now);
	}
	ck_assert_int_eq(admitted, 100);
	ck_assert_int_eq(b.precise_reads, 0);
}
END_TEST

/* A bucket whose whole burst lasts less than the coarse clock's lag (10,000/s,
 * burst 20: 2 ms) takes on the precise clock: on the coarse one it would
 * admit at most burst x HZ (5,000/s). */
START_TEST(test_fine_bucket_precise)
{
	struct bucket b;
	uint64_t now = T0;
	int admitted = 0, tries = 0;

	bucket_init(&b, 10000, 20);
	for (; now < T0 + 2 * S; now += 10000, tries++)
		admitted += take(&b, now);
	ck_assert_int_ge(admitted, 20000);
	ck_assert_int_le(admitted, 20000 + 20 + 1);
	ck_assert_int_gt(b.precise_reads, 0);
}
END_TEST

/* A flood on buckets of every shape still gets the rate it was given:
 * refusals on the coarse clock lose no token. */
START_TEST(test_flood_gets_rate)
{
	static const uint32_t shapes[][2] = { { 20, 40 }, { 1000, 100 }, { 2000, 100 }, { 1, 1 } };
	struct bucket b;
	unsigned i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint64_t now, secs = 10;
		uint64_t want = (uint64_t)shapes[i][0] * secs + shapes[i][1];
		uint64_t admitted = 0;

		bucket_init(&b, shapes[i][0], shapes[i][1]);
		for (now = T0; now < T0 + secs * S; now += 20000)
			admitted += take(&b, now);
		/* all but the tokens due in the last lag; at most one more */
		ck_assert_msg(admitted + LAG / b.l.interval_ns + 1 >= want && admitted <= want + 1,
			      "rate %u burst %u: admitted %llu in %llu s, want about %llu",
			      shapes[i][0], shapes[i][1], (unsigned long long)admitted,
			      (unsigned long long)secs, (unsigned long long)want);
	}
}
END_TEST

/*
 * The bound of a take stamped on the coarse clock: at most burst + (W +
 * lag) x rate admissions in any window W, where the precise clock alone
 * allows burst + W x rate. Bursts of 1-60 connections at random times,
 * each window between two admissions checked.
 */
START_TEST(test_window_bound)
{
	static const uint32_t shapes[][2] = { { 20, 40 }, { 1000, 100 }, { 200, 10 } };
	static uint64_t at[20000];
	struct bucket b;
	unsigned s;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		uint64_t now = T0, seed = 7 + s, extra = 0;
		int n = 0, i, j;

		bucket_init(&b, shapes[s][0], shapes[s][1]);
		while (n < 5000) {
			int burst = 1 + (int)rnd(&seed, 60);

			now += rnd(&seed, 3 * b.l.interval_ns * b.l.burst);
			for (i = 0; i < burst; i++, now += rnd(&seed, 50000))
				if (take(&b, now))
					at[n++] = now;
		}
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n && j < i + 3 * (int)b.l.burst; j++) {
				uint64_t w = at[j] - at[i], got = (uint64_t)(j - i + 1);
				uint64_t precise = b.l.burst + w / b.l.interval_ns;

				ck_assert_msg(got <= b.l.burst + (w + LAG) / b.l.interval_ns,
					      "rate %u burst %u: %llu admitted in %llu ns",
					      b.l.rate, b.l.burst, (unsigned long long)got,
					      (unsigned long long)w);
				if (got > precise && got - precise > extra)
					extra = got - precise;
			}
		/* the lag's worth of tokens, rounded up: one at 20/s */
		ck_assert_uint_le(extra, (LAG + b.l.interval_ns - 1) / b.l.interval_ns);
	}
}
END_TEST

Suite *limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_inside_limit_coarse);
	tcase_add_test(tc, test_fine_bucket_precise);
	tcase_add_test(tc, test_flood_gets_rate);
	tcase_add_test(tc, test_window_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
