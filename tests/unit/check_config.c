// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* config: good files load with the values they say; every bad file is
 * refused with the exact "file:line: key: problem" a user would read. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"

static struct fg_conf conf;
static char err[FG_CONF_ERR_MAX];

static int parse(const char *text)
{
	return config_parse("t.yaml", text, strlen(text), &conf, err, sizeof(err));
}

static const struct fg_conf_rule *rule(const char *name)
{
	int i;

	for (i = 0; i < conf.nrules; i++) {
		if (!strcmp(conf.rules[i].name, name))
			return &conf.rules[i];
	}
	ck_abort_msg("no rule %s", name);
	return NULL;
}

START_TEST(test_example)
{
	const struct fg_conf_rule *r;
	char buf[FG_CIDR_STRLEN];

	ck_assert_msg(config_load("tests/unit/configs/example.yaml", &conf, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(conf.nifaces, 1);
	ck_assert_str_eq(conf.ifaces[0], "eth0");
	ck_assert_int_eq(conf.xdp_mode, FG_XDP_AUTO);
	ck_assert(!conf.dry_run);
	ck_assert(!conf.persist);
	ck_assert_int_eq(conf.ipv4_prefix, 24);
	ck_assert_int_eq(conf.ipv6_prefix, 64);
	ck_assert_uint_eq(conf.max_tracked, 1000000);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.rate, 20);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.burst, 40);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.rate, 50);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.burst, 100);

	ck_assert_int_eq(conf.nrules, 1);
	r = rule("signaling");
	ck_assert_int_eq(r->proto, FG_PROTO_TCP);
	ck_assert_int_eq(r->line, 11);
	ck_assert_int_eq(r->nranges, 2);
	ck_assert_uint_eq(r->ranges[0].lo, 443);
	ck_assert_uint_eq(r->ranges[0].hi, 443);
	ck_assert_uint_eq(r->ranges[1].lo, 8000);
	ck_assert_uint_eq(r->ranges[1].hi, 8100);
	ck_assert_uint_eq(r->limits.per_source.rate, 10);
	ck_assert_uint_eq(r->limits.per_source.burst, 20);
	ck_assert_uint_eq(r->limits.per_prefix.rate, 200);
	ck_assert_uint_eq(r->limits.per_prefix.burst, 400);
	ck_assert_uint_eq(r->limits.global.rate, 5000);
	ck_assert_uint_eq(r->limits.global.burst, 10000);
	ck_assert(r->limits.ban.enabled);
	ck_assert_uint_eq(r->limits.ban.after, 5);
	ck_assert_uint_eq(r->limits.ban.window_ms, 60000);
	ck_assert_uint_eq(r->limits.ban.for_ms, 300000);

	ck_assert_int_eq(conf.nallow, 1);
	ck_assert_str_eq(cidr_format(&conf.allow[0], buf, sizeof(buf)), "192.0.2.0/24");
	ck_assert_int_eq(conf.ndeny, 2);
	ck_assert_str_eq(cidr_format(&conf.deny[0], buf, sizeof(buf)), "203.0.113.66");
	ck_assert_int_eq(conf.deny[1].family, FG_AF_INET6);
	ck_assert_str_eq(cidr_format(&conf.deny[1], buf, sizeof(buf)), "2001:db8:dead::/48");
	config_free(&conf);
	ck_assert_ptr_null(conf.allow);
}
END_TEST

/* The file `make run` uses must load, and protect the media ports. */
START_TEST(test_packaging)
{
	bool tcp443 = false, udp40000 = false;
	int i, k;

	ck_assert_msg(config_load("packaging/floodgate.yaml", &conf, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(conf.nifaces, 0);
	ck_assert(!conf.dry_run);
	ck_assert(!conf.persist);
	for (i = 0; i < conf.nrules; i++) {
		const struct fg_conf_rule *r = &conf.rules[i];

		for (k = 0; k < r->nranges; k++) {
			if (r->proto == FG_PROTO_TCP && r->ranges[k].lo <= 443 &&
			    443 <= r->ranges[k].hi)
				tcp443 = true;
			if (r->proto == FG_PROTO_UDP && r->ranges[k].lo <= 40000 &&
			    40000 <= r->ranges[k].hi)
				udp40000 = true;
		}
	}
	ck_assert(tcp443);
	ck_assert(udp40000);
	config_free(&conf);
}
END_TEST

static void assert_defaults(void)
{
	ck_assert_int_eq(conf.nifaces, 0);
	ck_assert_int_eq(conf.xdp_mode, FG_XDP_AUTO);
	ck_assert_int_eq(conf.ipv4_prefix, 24);
	ck_assert_int_eq(conf.ipv6_prefix, 64);
	ck_assert_uint_eq(conf.max_tracked, FG_MAX_SOURCES);
	ck_assert_uint_eq(conf.max_prefixes, FG_MAX_PREFIXES);
	ck_assert_uint_eq(conf.max_udp_flows, FG_MAX_UDP_FLOWS);
	ck_assert_uint_eq(conf.max_verified, FG_MAX_VERIFIED);
	ck_assert_uint_eq(conf.udp_idle_ms, 30000);
	ck_assert_uint_eq(conf.attack_hold_ms, 2000);
	ck_assert_uint_eq(conf.verified_ttl_ms, 600000);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.rate, 20);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.burst, 40);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.rate, 50);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.burst, 100);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_prefix.rate, 0);
	ck_assert(!conf.defaults[FG_PROTO_TCP].ban.enabled);
	ck_assert_int_eq(conf.nrules, 0);
	ck_assert_int_eq(conf.nallow, 0);
	ck_assert_int_eq(conf.ndeny, 0);
}

START_TEST(test_empty)
{
	ck_assert_int_eq(parse(""), 0);
	assert_defaults();
	ck_assert_int_eq(parse("---\n"), 0);
	assert_defaults();
	ck_assert_int_eq(config_load("tests/unit/configs/empty.yaml", &conf, err, sizeof(err)), 0);
	assert_defaults();
	ck_assert_int_eq(parse("rules:\nallow:\ndeny: []\ninterfaces:\n"), 0);
	assert_defaults();
}
END_TEST

START_TEST(test_defaults_per_proto)
{
	/* A protocol left out keeps the built-in defaults; {} means unlimited. */
	ck_assert_msg(parse("defaults:\n  tcp: { per_source: { rate: 5 } }\n") == 0, "%s", err);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.rate, 5);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.burst, 5);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.rate, 50);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.burst, 100);

	ck_assert_msg(parse("defaults:\n  udp: {}\n  tcp:\n    global: { rate: 100, burst: 300 }\n"
			    "    ban: { after: 3 }\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_UDP].per_source.rate, 0);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].per_source.rate, 0);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].global.rate, 100);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].global.burst, 300);
	ck_assert(conf.defaults[FG_PROTO_TCP].ban.enabled);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].ban.after, 3);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].ban.window_ms, 60000);
	ck_assert_uint_eq(conf.defaults[FG_PROTO_TCP].ban.for_ms, 300000);
}
END_TEST

START_TEST(test_values)
{
	const char *text = "interfaces: veth0\n"
			   "xdp_mode: generic\n"
			   "dry_run: yes\n"
			   "persist: true\n"
			   "sources:\n"
			   "  ipv4_prefix: 16\n"
			   "  ipv6_prefix: 128\n"
			   "  max_tracked: 2_000_000\n"
			   "  max_prefixes: 1000\n"
			   "  max_udp_flows: 5000\n"
			   "  max_verified: 77\n"
			   "  udp_idle: 500ms\n"
			   "  attack_hold: 45\n"
			   "  verified_ttl: 1d\n"
			   "rules:\n"
			   "  - name: rtc.media_1\n"
			   "    proto: UDP\n"
			   "    ports: [\"40000-49999\", 3478]\n"
			   "    per_source: { rate: 0 }\n"
			   "    ban: { after: 1, window: 5m, for: 1h }\n";

	ck_assert_msg(parse(text) == 0, "%s", err);
	ck_assert_int_eq(conf.nifaces, 1);
	ck_assert_str_eq(conf.ifaces[0], "veth0");
	ck_assert_int_eq(conf.xdp_mode, FG_XDP_GENERIC);
	ck_assert(conf.dry_run);
	ck_assert(conf.persist);
	ck_assert_int_eq(conf.ipv4_prefix, 16);
	ck_assert_int_eq(conf.ipv6_prefix, 128);
	ck_assert_uint_eq(conf.max_tracked, 2000000);
	ck_assert_uint_eq(conf.max_prefixes, 1000);
	ck_assert_uint_eq(conf.max_udp_flows, 5000);
	ck_assert_uint_eq(conf.max_verified, 77);
	ck_assert_uint_eq(conf.udp_idle_ms, 500);
	ck_assert_uint_eq(conf.attack_hold_ms, 45000);
	ck_assert_uint_eq(conf.verified_ttl_ms, 86400000);
	ck_assert_int_eq(conf.rules[0].proto, FG_PROTO_UDP);
	ck_assert_uint_eq(conf.rules[0].ranges[0].lo, 40000);
	ck_assert_uint_eq(conf.rules[0].ranges[0].hi, 49999);
	ck_assert_uint_eq(conf.rules[0].ranges[1].lo, 3478);
	ck_assert_uint_eq(conf.rules[0].limits.per_source.rate, 0);
	ck_assert_uint_eq(conf.rules[0].limits.ban.window_ms, 300000);
	ck_assert_uint_eq(conf.rules[0].limits.ban.for_ms, 3600000);
}
END_TEST

/* The same prefix in two rule protocols is fine; only same-protocol overlap is not. */
START_TEST(test_same_port_two_protos)
{
	ck_assert_msg(parse("rules:\n"
			    "  - { name: turn-tcp, proto: tcp, ports: [3478] }\n"
			    "  - { name: turn-udp, proto: udp, ports: [3478] }\n") == 0,
		      "%s", err);
	ck_assert_int_eq(conf.nrules, 2);
}
END_TEST

static const struct {
	const char *yaml;
	const char *msg;
} bad[] = {
	/* ports */
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports: [443, 70000]\n",
	 "t.yaml:4: rules[0].ports: \"70000\" is not a port (1-65535)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports:\n"
	 "      - 0\n",
	 "t.yaml:5: rules[0].ports: \"0\" is not a port (1-65535)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: udp\n"
	 "    ports: [\"9000-8000\"]\n",
	 "t.yaml:4: rules[0].ports: \"9000-8000\" is not a port range (9000 > 8000)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: udp\n"
	 "    ports: [\"1000-65536\"]\n",
	 "t.yaml:4: rules[0].ports: \"1000-65536\" is not a port range (ports are 1-65535)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: udp\n"
	 "    ports: [\"80 - 90\"]\n",
	 "t.yaml:4: rules[0].ports: \"80 - 90\" is not a port or a port range (e.g. 443, "
	 "\"8000-8100\")"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: udp\n"
	 "    ports: []\n",
	 "t.yaml:4: rules[0].ports: at least one port is required"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports: 443\n",
	 "t.yaml:4: rules[0].ports: expected a list, got \"443\""},
	{"rules:\n"
	 "  - name: signaling\n"
	 "    proto: tcp\n"
	 "    ports: [443, \"8000-8100\"]\n"
	 "  - name: other\n"
	 "    proto: udp\n"
	 "    ports: [8050]\n"
	 "  - name: api\n"
	 "    proto: tcp\n"
	 "    ports:\n"
	 "      - 80\n"
	 "      - \"8090-8200\"\n",
	 "t.yaml:12: rules[2].ports: \"8090-8200\" overlaps rule \"signaling\" (rules[0], line 2) "
	 "at port 8090"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports: [\"1-100\", 50]\n",
	 "t.yaml:4: rules[0].ports: \"50\" overlaps another entry of this rule at port 50"},
	/* names */
	{"rules:\n"
	 "  - { name: web, proto: tcp, ports: [80] }\n"
	 "  - { name: web, proto: tcp, ports: [81] }\n",
	 "t.yaml:3: rules[1].name: \"web\" is already the name of rules[0] (line 2)"},
	{"rules:\n"
	 "  - { proto: tcp, ports: [80] }\n",
	 "t.yaml:2: rules[0].name: missing (every rule needs a name)"},
	{"rules:\n"
	 "  - { name: \"my rule\", proto: tcp, ports: [80] }\n",
	 "t.yaml:2: rules[0].name: \"my rule\": use only letters, digits, '_', '.' and '-'"},
	{"rules:\n"
	 "  - { name: \"\", proto: tcp, ports: [80] }\n",
	 "t.yaml:2: rules[0].name: cannot be empty"},
	{"interfaces: [eth0, \"\"]\n", "t.yaml:1: interfaces: an interface name cannot be empty"},
	{"rules:\n"
	 "  - { name: tcp-default, proto: tcp, ports: [80] }\n",
	 "t.yaml:2: rules[0].name: \"tcp-default\" is reserved (set it under defaults:)"},
	{"rules:\n"
	 "  - { name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, proto: tcp,"
	 " ports: [80] }\n",
	 "t.yaml:2: rules[0].name: \"aaaaaaaaaaaaaaaaaaaa...\" is too long (at most 63 "
	 "characters)"},
	{"rules:\n"
	 "  - { name: a, ports: [80] }\n",
	 "t.yaml:2: rules[0].proto: missing (tcp or udp)"},
	{"rules:\n"
	 "  - { name: a, proto: sctp, ports: [80] }\n",
	 "t.yaml:2: rules[0].proto: expected tcp or udp, got \"sctp\""},
	{"rules:\n"
	 "  - { name: a, proto: tcp }\n",
	 "t.yaml:2: rules[0].ports: missing (a list of ports and \"lo-hi\" ranges)"},
	{"rules:\n"
	 "  - just-a-name\n",
	 "t.yaml:2: rules[0]: expected a rule (a mapping with name, proto, ports...), got "
	 "\"just-a-name\""},
	/* unknown keys, named with their full path */
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports: [80]\n"
	 "    per_sorce: { rate: 10 }\n",
	 "t.yaml:5: rules[0].per_sorce: unknown key (did you mean per_source?)"},
	{"defaults:\n"
	 "  tcp:\n"
	 "    per_source: { rate: 10, brust: 20 }\n",
	 "t.yaml:3: defaults.tcp.per_source.brust: unknown key (did you mean burst?)"},
	{"interface: [eth0]\n", "t.yaml:1: interface: unknown key (did you mean interfaces?)"},
	{"dry_run: false\nsources: { max_tracked: 10, colour: blue }\n",
	 "t.yaml:2: sources.colour: unknown key"},
	{"defaults:\n  icmp: {}\n", "t.yaml:2: defaults.icmp: unknown key"},
	{"dry_run: false\ndry_run: true\n", "t.yaml:2: dry_run: duplicate key (first at line 1)"},
	/* ranges */
	{"sources:\n  ipv4_prefix: 33\n",
	 "t.yaml:2: sources.ipv4_prefix: 33 is out of range (1-32)"},
	{"sources:\n  ipv6_prefix: 0\n",
	 "t.yaml:2: sources.ipv6_prefix: 0 is out of range (1-128)"},
	{"sources:\n  max_tracked: -5\n",
	 "t.yaml:2: sources.max_tracked: -5 is out of range (1-100000000)"},
	{"sources:\n  max_tracked: 99999999999999999999999\n",
	 "t.yaml:2: sources.max_tracked: 99999999999999999999999 is out of range (1-100000000)"},
	{"defaults:\n  udp: { per_source: { rate: 10, burst: 0 } }\n",
	 "t.yaml:2: defaults.udp.per_source.burst: must be at least 1 when rate is set"},
	{"defaults:\n  udp: { per_source: { burst: 10 } }\n",
	 "t.yaml:2: defaults.udp.per_source.burst: burst without rate (add rate: new flows per "
	 "second)"},
	{"defaults:\n  udp: { global: { rate: 2000000000 } }\n",
	 "t.yaml:2: defaults.udp.global.rate: 2000000000 is out of range (0-1000000000)"},
	{"rules:\n"
	 "  - { name: a, proto: tcp, ports: [80], ban: { after: 0 } }\n",
	 "t.yaml:2: rules[0].ban.after: 0 is out of range (1-1000000)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    proto: tcp\n"
	 "    ports: [80]\n"
	 "    ban: { for: 1h }\n",
	 "t.yaml:5: rules[0].ban.after: missing (violations that make a ban)"},
	/* CIDRs */
	{"allow: [\"192.0.2.0/24\"]\n"
	 "deny:\n"
	 "  - 203.0.113.66/32\n"
	 "  - 198.51.100.7/24\n",
	 "t.yaml:4: deny[1]: \"198.51.100.7/24\" has host bits set beyond /24 (did you mean "
	 "198.51.100.0/24?)"},
	{"allow: [\"2001:db8::1/48\"]\n",
	 "t.yaml:1: allow[0]: \"2001:db8::1/48\" has host bits set beyond /48 (did you mean "
	 "2001:db8::/48?)"},
	{"allow: [\"192.0.2.0/33\"]\n",
	 "t.yaml:1: allow[0]: \"192.0.2.0/33\" is not an address or prefix (e.g. 192.0.2.0/24, "
	 "2001:db8::/32)"},
	{"deny: \"192.0.2.0/24\"\n", "t.yaml:1: deny: expected a list, got \"192.0.2.0/24\""},
	/* wrong types */
	{"rules: {}\n", "t.yaml:1: rules: expected a list, got a mapping"},
	{"sources: 5\n", "t.yaml:1: sources: expected a mapping (key: value), got \"5\""},
	{"defaults:\n  tcp:\n    per_source: { rate: fast }\n",
	 "t.yaml:3: defaults.tcp.per_source.rate: expected an integer, got \"fast\""},
	{"defaults:\n  tcp:\n    per_source: { rate: \"20\" }\n",
	 "t.yaml:3: defaults.tcp.per_source.rate: expected an integer, got the string \"20\" "
	 "(drop the quotes)"},
	{"defaults:\n  tcp:\n    per_source: [20, 40]\n",
	 "t.yaml:3: defaults.tcp.per_source: expected a mapping (key: value), got a list"},
	{"dry_run: maybe\n", "t.yaml:1: dry_run: expected true or false, got \"maybe\""},
	{"persist:\n", "t.yaml:1: persist: expected true or false, got nothing"},
	{"xdp_mode: turbo\n",
	 "t.yaml:1: xdp_mode: expected native, generic or auto, got \"turbo\""},
	{"interfaces: {eth0: yes}\n", "t.yaml:1: interfaces: expected a list, got a mapping"},
	{"interfaces: [averyveryverylongname]\n",
	 "t.yaml:1: interfaces: \"averyveryverylongname\" is too long for an interface name (at "
	 "most 15)"},
	{"interfaces: [eth0, eth0]\n", "t.yaml:1: interfaces: \"eth0\" is listed twice"},
	{"- rules\n",
	 "t.yaml:1: expected a mapping of keys (interfaces:, rules:, ...), got a list"},
	/* durations */
	{"sources:\n  udp_idle: 30x\n",
	 "t.yaml:2: sources.udp_idle: \"30x\" is not a duration (e.g. 500ms, 30s, 5m, 1h, 1d)"},
	{"sources:\n  attack_hold: 1.5s\n",
	 "t.yaml:2: sources.attack_hold: \"1.5s\" is not a duration (e.g. 500ms, 30s, 5m, 1h, 1d)"},
	{"sources:\n  verified_ttl: 400d\n",
	 "t.yaml:2: sources.verified_ttl: \"400d\" is too long (at most 365d)"},
	{"rules:\n"
	 "  - { name: a, proto: tcp, ports: [80], ban: { after: 3, window: 0s } }\n",
	 "t.yaml:2: rules[0].ban.window: \"0s\" must be longer than 0"},
	{"rules:\n"
	 "  - { name: a, proto: tcp, ports: [80], ban: { after: 3, for: -1 } }\n",
	 "t.yaml:2: rules[0].ban.for: \"-1\" is not a duration (e.g. 500ms, 30s, 5m, 1h, 1d)"},
	/* YAML itself */
	{"rules:\n"
	 "  - name: web\n"
	 "    proto: tcp\n"
	 "   ports: [80]\n",
	 "t.yaml:4: invalid YAML: did not find expected '-' indicator (while parsing a block "
	 "collection at line 2)"},
	{"rules:\n"
	 "  - name: a\n"
	 "    ports: [443\n",
	 "t.yaml:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence "
	 "at line 3)"},
	{"rules:\n\t- a\n",
	 "t.yaml:2: invalid YAML: found character that cannot start any token (while scanning for "
	 "the next token at line 2)"},
	{"dry_run: *x\n", "t.yaml:1: invalid YAML: found undefined alias"},
	{"dry_run: true\n---\npersist: true\n",
	 "t.yaml:3: a second YAML document (\"---\"); the config is one document"},
};

START_TEST(test_bad)
{
	int ret = parse(bad[_i].yaml);

	ck_assert_msg(ret == -EINVAL, "accepted (%d):\n%s", ret, bad[_i].yaml);
	ck_assert_str_eq(err, bad[_i].msg);
	/* A refused file leaves nothing to free and no half-parsed values. */
	ck_assert_ptr_null(conf.allow);
	ck_assert_ptr_null(conf.deny);
	ck_assert_int_eq(conf.nrules, 0);
}
END_TEST

/* The message the design names: file, line, key, problem. */
START_TEST(test_bad_port_file)
{
	ck_assert_int_eq(config_load("tests/unit/configs/bad-port.yaml", &conf, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "tests/unit/configs/bad-port.yaml:14: rules[2].ports: \"70000\" is "
			      "not a port (1-65535)");
}
END_TEST

START_TEST(test_syntax_error_file)
{
	ck_assert_int_eq(
		config_load("tests/unit/configs/syntax-error.yaml", &conf, err, sizeof(err)),
		-EINVAL);
	ck_assert_str_eq(err,
			 "tests/unit/configs/syntax-error.yaml:5: invalid YAML: did not find "
			 "expected '-' indicator (while parsing a block collection at line 3)");
}
END_TEST

START_TEST(test_missing_file)
{
	ck_assert_int_eq(config_load("tests/unit/configs/nope.yaml", &conf, err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "tests/unit/configs/nope.yaml: No such file or directory");
	ck_assert_int_eq(config_load("tests/unit/configs", &conf, err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "tests/unit/configs: Is a directory");
}
END_TEST

/* An error past the allow list must not leak it (ASan checks the rest). */
START_TEST(test_error_after_lists)
{
	ck_assert_int_eq(parse("allow: [192.0.2.0/24, 198.51.100.0/24]\n"
			       "deny: [203.0.113.0/24, 2001:db8::/32, oops]\n"),
			 -EINVAL);
	ck_assert_str_eq(err, "t.yaml:2: deny[2]: \"oops\" is not an address or prefix (e.g. "
			      "192.0.2.0/24, 2001:db8::/32)");
	ck_assert_ptr_null(conf.allow);
	ck_assert_int_eq(conf.nallow, 0);
}
END_TEST

/* "rules:" and n one-line rules r0, r1, ... on tcp ports 1000, 1001, ... */
static char *rules_text(int n)
{
	size_t cap = 64 * ((size_t)n + 1), len;
	char *text = malloc(cap);
	int i;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "rules:\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"  - { name: r%d, proto: tcp, ports: [%d] }\n", i,
					1000 + i);
	return text;
}

START_TEST(test_too_many_rules)
{
	char *text = rules_text(FG_CONF_MAX_RULES + 1);

	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:64: rules: too many rules (at most 62)");
	free(text);

	text = rules_text(FG_CONF_MAX_RULES);
	ck_assert_msg(parse(text) == 0, "%s", err);
	ck_assert_int_eq(conf.nrules, FG_CONF_MAX_RULES);
	free(text);
}
END_TEST

START_TEST(test_err_null)
{
	/* Callers that only want the verdict may pass no buffer. */
	ck_assert_int_eq(config_parse("t.yaml", "dry_run: 3\n", 11, &conf, NULL, 0), -EINVAL);
	ck_assert_int_eq(config_load("tests/unit/configs/nope.yaml", &conf, NULL, 0), -ENOENT);
}
END_TEST

static void teardown(void)
{
	config_free(&conf);
}

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *good = tcase_create("good");
	TCase *bads = tcase_create("bad");

	tcase_add_checked_fixture(good, NULL, teardown);
	tcase_add_test(good, test_example);
	tcase_add_test(good, test_packaging);
	tcase_add_test(good, test_empty);
	tcase_add_test(good, test_defaults_per_proto);
	tcase_add_test(good, test_values);
	tcase_add_test(good, test_same_port_two_protos);
	suite_add_tcase(s, good);

	tcase_add_checked_fixture(bads, NULL, teardown);
	tcase_add_loop_test(bads, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(bads, test_bad_port_file);
	tcase_add_test(bads, test_syntax_error_file);
	tcase_add_test(bads, test_missing_file);
	tcase_add_test(bads, test_error_after_lists);
	tcase_add_test(bads, test_too_many_rules);
	tcase_add_test(bads, test_err_null);
	suite_add_tcase(s, bads);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
