// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* rules: what the XDP program will read for a config, and rule ids that
 * stay put across reloads (buckets are keyed by rule id). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules.h"

static struct fg_conf conf;
static struct fg_compiled *out;
static char err[FG_CONF_ERR_MAX];

static void setup(void)
{
	out = malloc(sizeof(*out));
	ck_assert_ptr_nonnull(out);
	config_defaults(&conf);
}

static void teardown(void)
{
	free(out);
	config_free(&conf);
}

static void parse(const char *text)
{
	ck_assert_msg(config_parse("t.yaml", text, strlen(text), &conf, err, sizeof(err)) == 0,
		      "%s", err);
}

static void add_rule(const char *name, int proto, uint16_t lo, uint16_t hi)
{
	struct fg_conf_rule *r = &conf.rules[conf.nrules++];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->proto = proto;
	r->ranges[0].lo = lo;
	r->ranges[0].hi = hi;
	r->nranges = 1;
}

static uint32_t port_rule(int proto, unsigned int port)
{
	return out->port_rule[proto * 65536 + port];
}

START_TEST(test_defaults)
{
	unsigned int port;

	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_uint_eq(out->cfg.abi_version, FG_ABI_VERSION);
	ck_assert_uint_eq(out->cfg.flags, 0);
	ck_assert_uint_eq(out->cfg.active, 0);
	ck_assert_uint_eq(out->cfg.ipv4_prefix, 24);
	ck_assert_uint_eq(out->cfg.ipv6_prefix, 64);
	ck_assert_uint_eq(out->cfg.udp_idle_ns, 30000000000ULL);
	ck_assert_uint_eq(out->cfg.attack_hold_ns, 2000000000ULL);
	ck_assert_uint_eq(out->cfg.event_interval_ns, 1000000000ULL);
	ck_assert_uint_eq(out->cfg.verified_ttl_ns, 600000000000ULL);

	ck_assert_str_eq(out->ids.names[FG_RULE_DEFAULT_TCP], "tcp-default");
	ck_assert_str_eq(out->ids.names[FG_RULE_DEFAULT_UDP], "udp-default");
	ck_assert_str_eq(out->ids.names[2], "");

	ck_assert_uint_eq(out->rules[0].per_source.rate, 20);
	ck_assert_uint_eq(out->rules[0].per_source.burst, 40);
	ck_assert_uint_eq(out->rules[0].per_source.interval_ns, 50000000);
	ck_assert_uint_eq(out->rules[0].per_prefix.interval_ns, 0);
	ck_assert_uint_eq(out->rules[0].global.rate, 5000);
	ck_assert_uint_eq(out->rules[0].global.burst, 10000);
	/* syn_cookies: auto by default, for TCP only */
	ck_assert_uint_eq(out->rules[0].flags, FG_RULE_F_COOKIE_AUTO);
	ck_assert_uint_eq(out->rules[1].flags, 0);
	ck_assert_uint_eq(out->rules[1].global.rate, 20000);
	ck_assert_uint_eq(out->rules[1].per_source.rate, 50);
	ck_assert_uint_eq(out->rules[1].per_source.burst, 100);
	ck_assert_uint_eq(out->rules[1].per_source.interval_ns, 20000000);

	/* Every port, 0 included, goes to its protocol's default. */
	for (port = 0; port < 65536; port++) {
		ck_assert_uint_eq(port_rule(FG_PROTO_TCP, port), FG_RULE_DEFAULT_TCP);
		ck_assert_uint_eq(port_rule(FG_PROTO_UDP, port), FG_RULE_DEFAULT_UDP);
	}
}
END_TEST

START_TEST(test_dry_run_and_sources)
{
	parse("dry_run: true\n"
	      "sources: { ipv4_prefix: 20, ipv6_prefix: 56, udp_idle: 90s, attack_hold: 500ms,"
	      " verified_ttl: 1h }\n");
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_uint_eq(out->cfg.flags, FG_CFG_F_DRY_RUN);
	ck_assert_uint_eq(out->cfg.ipv4_prefix, 20);
	ck_assert_uint_eq(out->cfg.ipv6_prefix, 56);
	ck_assert_uint_eq(out->cfg.udp_idle_ns, 90000000000ULL);
	ck_assert_uint_eq(out->cfg.attack_hold_ns, 500000000ULL);
	ck_assert_uint_eq(out->cfg.verified_ttl_ns, 3600000000000ULL);
}
END_TEST

START_TEST(test_port_table)
{
	parse("rules:\n"
	      "  - name: signaling\n"
	      "    proto: tcp\n"
	      "    ports: [443, \"8000-8100\"]\n"
	      "    per_source: { rate: 10, burst: 20 }\n"
	      "  - name: turn\n"
	      "    proto: udp\n"
	      "    ports: [3478, \"65000-65535\"]\n");
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_str_eq(out->ids.names[2], "signaling");
	ck_assert_str_eq(out->ids.names[3], "turn");

	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 442), 0);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 443), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 444), 0);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 7999), 0);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 8000), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 8050), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 8100), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 8101), 0);
	/* A rule covers its protocol only. */
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 443), 1);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 3478), 0);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 3478), 3);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 64999), 1);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 65000), 3);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 65535), 3);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 0), 1);

	ck_assert_uint_eq(out->rules[2].per_source.rate, 10);
	ck_assert_uint_eq(out->rules[2].per_source.burst, 20);
	ck_assert_uint_eq(out->rules[2].per_source.interval_ns, 100000000);
	/* A rule without limits passes everything, not the defaults'. */
	ck_assert_uint_eq(out->rules[3].per_source.rate, 0);
	ck_assert_uint_eq(out->rules[3].per_source.interval_ns, 0);
}
END_TEST

START_TEST(test_limits_and_ban)
{
	parse("defaults:\n"
	      "  tcp:\n"
	      "    per_prefix: { rate: 3, burst: 9 }\n"
	      "    ban: { after: 2, window: 10s, for: 1m }\n"
	      "rules:\n"
	      "  - name: api\n"
	      "    proto: tcp\n"
	      "    ports: [8443]\n"
	      "    global: { rate: 1000000000 }\n"
	      "    ban: { after: 5, window: 60s, for: 300s }\n");
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);

	ck_assert_uint_eq(out->rules[0].per_source.rate, 0);
	ck_assert_uint_eq(out->rules[0].per_prefix.rate, 3);
	ck_assert_uint_eq(out->rules[0].per_prefix.burst, 9);
	ck_assert_uint_eq(out->rules[0].per_prefix.interval_ns, 333333333);
	ck_assert_uint_eq(out->rules[0].flags, FG_RULE_F_BAN | FG_RULE_F_COOKIE_AUTO);
	ck_assert_uint_eq(out->rules[0].ban_after, 2);
	ck_assert_uint_eq(out->rules[0].ban_window_ns, 10000000000ULL);
	ck_assert_uint_eq(out->rules[0].ban_duration_ns, 60000000000ULL);
	/* udp was left out: built-in default, no ban. */
	ck_assert_uint_eq(out->rules[1].per_source.rate, 50);
	ck_assert_uint_eq(out->rules[1].flags, 0);

	ck_assert_uint_eq(out->rules[2].global.rate, 1000000000);
	ck_assert_uint_eq(out->rules[2].global.burst, 1000000000);
	ck_assert_uint_eq(out->rules[2].global.interval_ns, 1);
	ck_assert_uint_eq(out->rules[2].flags, FG_RULE_F_BAN | FG_RULE_F_COOKIE_AUTO);
	ck_assert_uint_eq(out->rules[2].ban_after, 5);
	ck_assert_uint_eq(out->rules[2].ban_window_ns, 60000000000ULL);
	ck_assert_uint_eq(out->rules[2].ban_duration_ns, 300000000000ULL);
}
END_TEST

START_TEST(test_limit_zero_rate)
{
	struct fg_limit l = rules_limit(0, 50);

	ck_assert_uint_eq(l.rate, 0);
	ck_assert_uint_eq(l.burst, 0);
	ck_assert_uint_eq(l.interval_ns, 0);

	l = rules_limit(7, 1);
	ck_assert_uint_eq(l.rate, 7);
	ck_assert_uint_eq(l.burst, 1);
	ck_assert_uint_eq(l.interval_ns, 142857142);
}
END_TEST

/* Remove one rule and add another: survivors keep their ids (and their
 * buckets), the newcomer does not inherit the removed rule's id at once. */
START_TEST(test_id_stability)
{
	struct fg_rule_ids first, second;

	add_rule("a", FG_PROTO_TCP, 80, 80);
	add_rule("b", FG_PROTO_TCP, 81, 81);
	add_rule("c", FG_PROTO_UDP, 82, 82);
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "a"), 2);
	ck_assert_int_eq(rules_find(&out->ids, "b"), 3);
	ck_assert_int_eq(rules_find(&out->ids, "c"), 4);
	first = out->ids;

	/* Reload: b removed, d added in front, order shuffled. */
	conf.nrules = 0;
	add_rule("d", FG_PROTO_TCP, 81, 81);
	add_rule("c", FG_PROTO_UDP, 82, 82);
	add_rule("a", FG_PROTO_TCP, 80, 80);
	ck_assert_int_eq(rules_compile(&conf, &first, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "a"), 2);
	ck_assert_int_eq(rules_find(&out->ids, "c"), 4);
	ck_assert_int_eq(rules_find(&out->ids, "d"), 5);
	ck_assert_int_eq(rules_find(&out->ids, "b"), -1);
	ck_assert_str_eq(out->ids.names[3], "");
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 80), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 81), 5);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 82), 4);
	second = out->ids;

	/* One reload later id 3 is free in both and is taken again. */
	add_rule("e", FG_PROTO_TCP, 90, 90);
	ck_assert_int_eq(rules_compile(&conf, &second, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "e"), 3);
	ck_assert_int_eq(rules_find(&out->ids, "d"), 5);
	ck_assert_str_eq(out->ids.names[0], "tcp-default");
	ck_assert_str_eq(out->ids.names[1], "udp-default");
}
END_TEST

/* With every id named in prev, new names still get ids: any free one. */
START_TEST(test_ids_exhausted)
{
	struct fg_rule_ids prev;
	char name[16];
	int i;

	for (i = 0; i < FG_CONF_MAX_RULES; i++) {
		snprintf(name, sizeof(name), "old%d", i);
		add_rule(name, FG_PROTO_TCP, (uint16_t)(1000 + i), (uint16_t)(1000 + i));
	}
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "old61"), FG_MAX_RULES - 1);
	prev = out->ids;

	conf.nrules = 0;
	add_rule("old7", FG_PROTO_TCP, 1007, 1007);
	add_rule("new", FG_PROTO_TCP, 2000, 2000);
	ck_assert_int_eq(rules_compile(&conf, &prev, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "old7"), 9);
	ck_assert_int_eq(rules_find(&out->ids, "new"), 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 2000), 2);
}
END_TEST

START_TEST(test_find)
{
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	ck_assert_int_eq(rules_find(&out->ids, "tcp-default"), 0);
	ck_assert_int_eq(rules_find(&out->ids, "udp-default"), 1);
	ck_assert_int_eq(rules_find(&out->ids, "nope"), -1);
	ck_assert_int_eq(rules_find(&out->ids, ""), -1);
	ck_assert_int_eq(rules_find(NULL, "tcp-default"), -1);
}
END_TEST

/* The shipped config compiles, and its media ports reach their rules. */
START_TEST(test_packaging)
{
	int sig, rtc;

	config_free(&conf);
	ck_assert_msg(config_load("packaging/floodgate.yaml", &conf, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(rules_compile(&conf, NULL, out), 0);
	sig = rules_find(&out->ids, "signaling");
	rtc = rules_find(&out->ids, "rtc-udp");
	ck_assert_int_ge(sig, 2);
	ck_assert_int_ge(rtc, 2);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 443), (uint32_t)sig);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 40000), (uint32_t)rtc);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 49999), (uint32_t)rtc);
	ck_assert_uint_eq(port_rule(FG_PROTO_UDP, 50000), FG_RULE_DEFAULT_UDP);
	ck_assert_uint_eq(port_rule(FG_PROTO_TCP, 22), FG_RULE_DEFAULT_TCP);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_dry_run_and_sources);
	tcase_add_test(tc, test_port_table);
	tcase_add_test(tc, test_limits_and_ban);
	tcase_add_test(tc, test_limit_zero_rate);
	tcase_add_test(tc, test_id_stability);
	tcase_add_test(tc, test_ids_exhausted);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_packaging);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
