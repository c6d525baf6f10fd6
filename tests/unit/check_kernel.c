// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The kernel floor: uname releases as distributions write them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "kernel.h"

static const struct {
	const char *in;
	int err;
	unsigned major, minor, patch;
	bool below; /* below the 5.12 floor: floodgated refuses to start */
} cases[] = {
	{ "6.1.0-57-amd64", 0, 6, 1, 0, false },	  /* Debian 12 */
	{ "6.12.118+deb12-amd64", 0, 6, 12, 118, false }, /* Debian 12 backports */
	{ "6.18.44-fc-v1252", 0, 6, 18, 44, false },
	{ "5.10.0-28-amd64", 0, 5, 10, 0, true },		/* Debian 11 */
	{ "5.4.0-150-generic", 0, 5, 4, 0, true },		/* Ubuntu 20.04 */
	{ "5.15.0-1034-azure", 0, 5, 15, 0, false },		/* Ubuntu 22.04 cloud */
	{ "4.18.0-553.el8_10.x86_64", 0, 4, 18, 0, true },	/* RHEL 8 */
	{ "5.14.0-427.13.1.el9_4.x86_64", 0, 5, 14, 0, false }, /* RHEL 9 */
	{ "5.11.22", 0, 5, 11, 22, true },
	{ "5.12.0", 0, 5, 12, 0, false }, /* the floor itself */
	{ "5.12", 0, 5, 12, 0, false },
	{ "5.12-rc1", 0, 5, 12, 0, false },
	{ "5.9", 0, 5, 9, 0, true },
	{ "10.0.1", 0, 10, 0, 1, false },
	{ "2.6.78-fc-v1252", 0, 2, 6, 78, true }, /* setarch --uname-2.6 */
	{ "3.10.0-1160.el7.x86_64", 0, 3, 10, 0, true },
	/* Unreadable: not refused (the verifier still has the last word). */
	{ "", -EINVAL, 0, 0, 0, false },
	{ "linux", -EINVAL, 0, 0, 0, false },
	{ "5", -EINVAL, 0, 0, 0, false },
	{ "5.", -EINVAL, 0, 0, 0, false },
	{ ".5.10", -EINVAL, 0, 0, 0, false },
	{ "5.x", -EINVAL, 0, 0, 0, false },
	{ "5.10x", -EINVAL, 0, 0, 0, false },
	{ "0.1.0", -EINVAL, 0, 0, 0, false },
	{ "999999.1", -EINVAL, 0, 0, 0, false },
	{ "4294967301.1.0", -EINVAL, 0, 0, 0, false }, /* would wrap to 5.1 */
	{ "-5.10", -EINVAL, 0, 0, 0, false },
};

START_TEST(test_parse)
{
	struct kernel_version v = { 7, 7, 7 };
	int err = kernel_parse_release(cases[_i].in, &v);

	ck_assert_msg(err == cases[_i].err, "\"%s\": %d, want %d", cases[_i].in, err,
		      cases[_i].err);
	if (!err)
		ck_assert_msg(v.major == cases[_i].major && v.minor == cases[_i].minor &&
				      v.patch == cases[_i].patch,
			      "\"%s\": %u.%u.%u, want %u.%u.%u", cases[_i].in, v.major, v.minor,
			      v.patch, cases[_i].major, cases[_i].minor, cases[_i].patch);
	else
		ck_assert_msg(v.major == 7 && v.minor == 7 && v.patch == 7,
			      "\"%s\": written on error", cases[_i].in);
}
END_TEST

START_TEST(test_floor)
{
	char msg[256] = "";
	bool below = kernel_below_floor(cases[_i].in, msg, sizeof(msg));

	ck_assert_msg(below == cases[_i].below, "\"%s\": below=%d, want %d", cases[_i].in, below,
		      cases[_i].below);
	if (below) {
		char want[256];

		snprintf(want, sizeof(want),
			 "floodgate needs Linux >= 5.12 (BPF atomics); this host runs %s",
			 cases[_i].in);
		ck_assert_str_eq(msg, want);
	} else {
		ck_assert_str_eq(msg, "");
	}
}
END_TEST

START_TEST(test_null)
{
	struct kernel_version v;

	ck_assert_int_eq(kernel_parse_release(NULL, &v), -EINVAL);
	ck_assert(!kernel_below_floor(NULL, NULL, 0));
	ck_assert(kernel_below_floor("5.10.0-28-amd64", NULL, 0)); /* no message wanted */
}
END_TEST

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("release");
	size_t n = sizeof(cases) / sizeof(cases[0]);

	tcase_add_loop_test(tc, test_parse, 0, n);
	tcase_add_loop_test(tc, test_floor, 0, n);
	tcase_add_test(tc, test_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kernel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
