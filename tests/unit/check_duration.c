// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The one duration syntax of the config file and floodctl. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "duration.h"

#define DAY_MS (86400ULL * 1000)

static const struct {
	const char *in;
	int err;
	uint64_t ms;
} cases[] = {
	{ "500ms", 0, 500 },	      { "30s", 0, 30000 },
	{ "5m", 0, 300000 },	      { "1h30m", 0, 5400000 },
	{ "30m1h", 0, 5400000 }, /* a sum: the order does not matter */
	{ "2d", 0, 2 * DAY_MS },      { "1d12h", 0, DAY_MS + 12 * 3600000ULL },
	{ "1s500ms", 0, 1500 },	      { "90", 0, 90000 }, /* a number alone is seconds */
	{ "365d", 0, 365 * DAY_MS },  { "366d", -ERANGE, 0 },
	{ "364d24h1ms", -ERANGE, 0 }, { "99999999999999999999999s", -ERANGE, 0 },
	{ "0s", -EDOM, 0 },	      { "0", -EDOM, 0 },
	{ "0h0m", -EDOM, 0 },	      { "", -EINVAL, 0 },
	{ "1h30", -EINVAL, 0 }, /* 30 what? */
	{ "1.5s", -EINVAL, 0 },	      { "-1s", -EINVAL, 0 },
	{ "1 s", -EINVAL, 0 },	      { "s", -EINVAL, 0 },
	{ "1x", -EINVAL, 0 },	      { "1mss", -EINVAL, 0 },
	{ "1S", -EINVAL, 0 },
};

START_TEST(test_parse)
{
	uint64_t ms = 12345;
	int err = duration_parse(cases[_i].in, 365 * DAY_MS, &ms);

	ck_assert_msg(err == cases[_i].err, "\"%s\": %d, want %d", cases[_i].in, err,
		      cases[_i].err);
	if (!err)
		ck_assert_uint_eq(ms, cases[_i].ms);
	else
		ck_assert_uint_eq(ms, 12345); /* untouched on error */
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(duration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
