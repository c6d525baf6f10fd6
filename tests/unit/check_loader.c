// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* What an operator is told when the kernel will not load the program: a
 * missing privilege, a kernel without BTF, or the verifier's refusal (which
 * also answers EACCES: a root agent must not be told to get root). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <check.h>

#include "loader.h"

static const struct {
	int err;
	bool privileged, has_btf;
	const char *says;
} cases[] = {
	{ -EPERM, true, true, "needs root or CAP_BPF" },
	{ -EPERM, false, true, "needs root or CAP_BPF" },
	{ -EACCES, false, true, "needs root or CAP_BPF" },
	{ -EACCES, true, true, "verifier rejected" },
	{ -EINVAL, true, true, "verifier rejected" },
	{ -EACCES, true, false, "no BTF" },
	{ -EINVAL, true, false, "no BTF" },
};

START_TEST(test_hint)
{
	const char *got = loader_load_error_hint(cases[_i].err, cases[_i].privileged,
						 cases[_i].has_btf);

	ck_assert_msg(strstr(got, cases[_i].says), "err %d privileged %d btf %d: \"%s\"",
		      cases[_i].err, cases[_i].privileged, cases[_i].has_btf, got);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("load error");

	tcase_add_loop_test(tc, test_hint, 0, sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
