// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* syncookies: the figures a cookie SYN-ACK shares with the kernel, and what
 * the rules' modes compile to. */
#include <string.h>

#include <check.h>

#include "kernel.h"
#include "rules.h"
#include "syncookies.h"

/* tcp_select_initial_window(): ilog2(max(tcp_rmem[2], rmem_max)) - 15, 0-14. */
START_TEST(test_wscale)
{
	ck_assert_uint_eq(syncookies_wscale(6291456, 212992), 7);    /* Linux defaults */
	ck_assert_uint_eq(syncookies_wscale(33554432, 4194304), 10); /* this build machine */
	ck_assert_uint_eq(syncookies_wscale(4096, 4194304), 7);	     /* rmem_max wins */
	ck_assert_uint_eq(syncookies_wscale(65535, 0), 0);
	ck_assert_uint_eq(syncookies_wscale(0, 0), 0);
	ck_assert_uint_eq(syncookies_wscale(1ULL << 40, 0), 14);
}
END_TEST

static struct fg_conf conf;
static struct fg_compiled out;
static struct syncookies ck;

static void compile(const char *text)
{
	char err[FG_CONF_ERR_MAX];

	config_free(&conf);
	ck_assert_msg(config_parse("t.yaml", text, strlen(text), &conf, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(rules_compile(&conf, NULL, &out), 0);
	ck_assert_int_eq(syncookies_fill(&ck, &conf, &out), 0);
}

/* The program reads the modes from the rules; FG_CFG_F_COOKIES is the
 * agent's switch, off until a rule needs cookies (and the kernel is set). */
START_TEST(test_fill)
{
	kernel_features.xdp_syncookies = true;
	memset(&ck, 0, sizeof(ck));
	compile("rules:\n"
		"  - { name: a, proto: tcp, ports: [443] }\n"
		"  - { name: b, proto: tcp, ports: [444], syn_cookies: always }\n"
		"  - { name: c, proto: udp, ports: [443] }\n"
		"syn_cookies: { max_rate: 1000 }\n");
	ck_assert(ck.configured);
	ck_assert_uint_eq(out.cfg.flags & (FG_CFG_F_COOKIES | FG_CFG_F_COOKIE_TS), 0);
	ck_assert_uint_eq(out.rules[2].flags, FG_RULE_F_COOKIE_AUTO);
	ck_assert_uint_eq(out.rules[3].flags, FG_RULE_F_COOKIE_ALWAYS);
	ck_assert_uint_eq(out.rules[4].flags, 0);
	ck_assert_uint_eq(out.cfg.cookie_cap.rate, 1000);
	ck_assert_uint_eq(out.cfg.cookie_cap.burst, 100);
	ck_assert_uint_ge(out.cfg.cookie_mss4, 536);
	ck_assert_uint_ge(out.cfg.cookie_mss6, 1220);
	ck_assert_uint_le(out.cfg.cookie_wscale, 14);

	ck.active = ck.ts = true;
	compile("rules:\n  - { name: a, proto: tcp, ports: [443] }\n");
	ck_assert_uint_eq(out.cfg.flags & (FG_CFG_F_COOKIES | FG_CFG_F_COOKIE_TS),
			  FG_CFG_F_COOKIES | FG_CFG_F_COOKIE_TS);

	/* dry_run, every rule off, or a kernel without the helpers: none. */
	compile("dry_run: true\n");
	ck_assert(!ck.configured);
	ck_assert_uint_eq(out.cfg.flags & FG_CFG_F_COOKIES, 0);
	compile("defaults: { tcp: { syn_cookies: off } }\n");
	ck_assert(!ck.configured);
	kernel_features.xdp_syncookies = false;
	compile("rules:\n  - { name: a, proto: tcp, ports: [443] }\n");
	ck_assert(!ck.configured);
	ck_assert_uint_eq(out.cfg.flags & FG_CFG_F_COOKIES, 0);
	config_free(&conf);
}
END_TEST

static Suite *syncookies_suite(void)
{
	Suite *s = suite_create("syncookies");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_wscale);
	tcase_add_test(tc, test_fill);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(syncookies_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
