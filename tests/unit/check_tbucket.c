// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* tbucket: the fleet's TCP-proof publishing rate (vouch.share_tcp,
 * share_tcp_burst) on an injected clock: a burst at once, then exactly the
 * rate, whatever the ticks, and a reload that keeps what is left. */
#include <stdint.h>

#include <check.h>

#include "tbucket.h"

#define S  1000000000ULL
#define T0 (1000 * S)

static int take_n(struct tbucket *b, int tries, uint64_t now)
{
	int i, n = 0;

	for (i = 0; i < tries; i++)
		n += tbucket_take(b, now);
	return n;
}

/* The default (100 a second, 100 at once): what a once-a-second walk let
 * through before, at 1 s ticks; unused tokens never pile up past the burst. */
START_TEST(test_default_per_tick)
{
	struct tbucket b;
	int tick;

	tbucket_init(&b, 100, 100, T0);
	ck_assert_int_eq(take_n(&b, 500, T0), 100);
	for (tick = 1; tick <= 5; tick++)
		ck_assert_int_eq(take_n(&b, 500, T0 + tick * S), 100);
	/* a quiet minute: still 100 at once, not 6000 */
	ck_assert_int_eq(take_n(&b, 500, T0 + 65 * S), 100);
}
END_TEST

/* Between ticks the rate holds: half a second after an empty bucket gives
 * 50; a late tick (1.7 s) gives 170 capped at the burst; irregular ticks
 * add up to exactly rate x time. */
START_TEST(test_rate_between_ticks)
{
	struct tbucket b;
	uint64_t t = T0;
	int n = 0, i;

	tbucket_init(&b, 100, 100, T0);
	take_n(&b, 100, T0);
	ck_assert_int_eq(take_n(&b, 500, T0 + S / 2), 50);
	ck_assert_int_eq(take_n(&b, 500, T0 + S / 2 + 1700 * 1000000ULL), 100);
	/* 3 a second (1/3 s is no whole number of ns): 30 in 10 s of 7 ms
	 * steps (at burst 1 a token that comes while one waits is lost) */
	tbucket_init(&b, 3, 2, T0);
	take_n(&b, 2, T0);
	for (i = 1; t < T0 + 10 * S; i++) {
		t = T0 + (uint64_t)i * 7000000ULL;
		if (t > T0 + 10 * S)
			t = T0 + 10 * S;
		n += take_n(&b, 5, t);
	}
	ck_assert_int_eq(n, 30);
}
END_TEST

/* A reload: another rate and burst, what the bucket holds stays (at most
 * the new burst); 0 a second lets nothing more through; a clock that goes
 * back adds nothing. */
START_TEST(test_reload_and_clock)
{
	struct tbucket b;

	tbucket_init(&b, 100, 100, T0);
	ck_assert_int_eq(take_n(&b, 60, T0), 60);
	tbucket_set(&b, 1000, 2000);
	ck_assert_int_eq(take_n(&b, 500, T0), 40);
	ck_assert_int_eq(take_n(&b, 5000, T0 + S), 1000);
	ck_assert_int_eq(take_n(&b, 5000, T0 + 3 * S), 2000);
	tbucket_set(&b, 10, 5);
	ck_assert_int_eq(take_n(&b, 50, T0 + 10 * S), 5);
	ck_assert_int_eq(take_n(&b, 50, T0 + 5 * S), 0);
	ck_assert_int_eq(take_n(&b, 50, T0 + 10 * S + S / 10), 1);
	tbucket_set(&b, 0, 5);
	ck_assert_int_eq(take_n(&b, 50, T0 + 100 * S), 0);
	/* the largest rate and burst, an hour later: no overflow */
	tbucket_init(&b, 1000000, 1000000, T0);
	ck_assert_int_eq(take_n(&b, 1000001, T0), 1000000);
	ck_assert_int_eq(take_n(&b, 2000000, T0 + 3600 * S), 1000000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tbucket");
	TCase *t = tcase_create("tbucket");
	SRunner *r;
	int failed;

	tcase_add_test(t, test_default_per_tick);
	tcase_add_test(t, test_rate_between_ticks);
	tcase_add_test(t, test_reload_and_clock);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
