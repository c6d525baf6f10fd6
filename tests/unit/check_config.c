// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* config: good files load with the values they say; every bad file is
 * refused with the exact "file:line: key: problem" a user would read. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <check.h>

#include "config.h"
#include "log.h"
#include "policy.h"

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
	/* The four example policies and the meeting server's per-type
	 * events, and the socket's defaults. */
	ck_assert_int_eq(conf.npolicies, 5);
	ck_assert_str_eq(conf.policies[0].name, "login");
	ck_assert_int_eq(conf.policies[0].type, POLICY_PROGRESSIVE);
	ck_assert_int_eq(conf.policies[1].type, POLICY_EVENTS);
	ck_assert_int_eq(conf.policies[2].type, POLICY_EVENTS);
	ck_assert_int_eq(conf.policies[2].nevtypes, 3);
	ck_assert_uint_eq(conf.policies[2].limit, 0);
	ck_assert_int_eq(conf.policies[3].type, POLICY_WINDOW);
	ck_assert_int_eq(conf.policies[3].nlimits, 3);
	ck_assert_int_eq(conf.policies[4].type, POLICY_BUDGET);
	ck_assert_str_eq(conf.socket.path, "/run/floodgate/floodgate.sock");
	ck_assert_uint_eq(conf.socket.mode, 0660);
	ck_assert_uint_eq(conf.store.max_keys, 1000000);
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

/* app_only: (floodgated --app-only as a key): off unless set; the file's
 * interfaces are still read (the agent sets them aside in that mode). */
START_TEST(test_app_only)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert(!conf.app_only);
	config_free(&conf);
	ck_assert_int_eq(parse("app_only: true\ninterfaces: [eth0]\n"), 0);
	ck_assert(conf.app_only);
	ck_assert_int_eq(conf.nifaces, 1);
	config_free(&conf);
	ck_assert_int_eq(parse("app_only: false\n"), 0);
	ck_assert(!conf.app_only);
	config_free(&conf);
	ck_assert_int_eq(parse("app_only: maybe\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:1: app_only: expected true or false, got \"maybe\"");
	ck_assert_int_eq(parse("app_onyl: true\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:1: app_onyl: unknown key (did you mean app_only?)");
}
END_TEST

/* vouch: who may, how fast, how many, how long; a progressive policy's
 * vouch_on_success. */
START_TEST(test_vouch)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_int_eq(conf.vouch.npeer_uids, 0);
	ck_assert_uint_eq(conf.vouch.max, FG_CONF_VOUCH_MAX);
	ck_assert_uint_eq(conf.vouch.per_peer, FG_CONF_VOUCH_PER_PEER);
	ck_assert_uint_eq(conf.vouch.rate, FG_CONF_VOUCH_RATE);
	ck_assert_uint_eq(conf.vouch.max_duration_ms, FG_CONF_VOUCH_MAX_DUR_MS);
	ck_assert_uint_eq(conf.vouch.share_tcp, FG_CONF_VOUCH_SHARE_TCP);
	config_free(&conf);
	ck_assert_int_eq(parse("vouch: { share_tcp: 0 }\n"), 0);
	ck_assert_uint_eq(conf.vouch.share_tcp, 0); /* TCP proofs stay local */
	config_free(&conf);
	/* a token bucket: share_tcp a second, share_tcp_burst (default
	 * share_tcp) at once */
	ck_assert_int_eq(parse("vouch: { share_tcp: 20 }\n"), 0);
	ck_assert_uint_eq(conf.vouch.share_tcp_burst, 20);
	config_free(&conf);
	ck_assert_int_eq(parse("vouch: { share_tcp: 20, share_tcp_burst: 500 }\n"), 0);
	ck_assert_uint_eq(conf.vouch.share_tcp, 20);
	ck_assert_uint_eq(conf.vouch.share_tcp_burst, 500);
	config_free(&conf);
	ck_assert_int_eq(parse("vouch: { share_tcp_burst: 0 }\n"), -EINVAL);
	ck_assert_int_eq(parse("vouch: { share_tcp_burst: 1000001 }\n"), -EINVAL);
	ck_assert_int_eq(parse("vouch: { share_tcp: -1 }\n"), -EINVAL);
	ck_assert_int_eq(parse("vouch:\n  peer_uids: [1000]\n  peer_gids: [2000, 2001]\n"
			       "  max: 500\n  per_peer: 100\n  rate: 20\n  max_duration: 2h\n"
			       "policies:\n  - name: login\n    type: progressive\n"
			       "    vouch_on_success: 10m\n"),
			 0);
	ck_assert_int_eq(conf.vouch.npeer_uids, 1);
	ck_assert_uint_eq(conf.vouch.peer_uids[0], 1000);
	ck_assert_int_eq(conf.vouch.npeer_gids, 2);
	ck_assert_uint_eq(conf.vouch.max, 500);
	ck_assert_uint_eq(conf.vouch.per_peer, 100);
	ck_assert_uint_eq(conf.vouch.rate, 20);
	ck_assert_uint_eq(conf.vouch.burst, 20); /* default: rate */
	ck_assert_uint_eq(conf.vouch.max_duration_ms, 7200000);
	ck_assert_uint_eq(conf.policies[0].vouch_on_success_ms, 600000);
	config_free(&conf);
	ck_assert_int_eq(parse("vouch: { rate: 0 }\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:1: vouch.rate: 0 is out of range (1-1000000)");
	ck_assert_int_eq(parse("vouch: { max_duration: 100ms }\n"), -EINVAL);
	ck_assert_int_eq(parse("vouch: { peer_uid: [1] }\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:1: vouch.peer_uid: unknown key (did you mean peer_uids?)");
	ck_assert_int_eq(parse("policies:\n  - { name: a, type: window, limits: [{ max: 1, "
			       "window: 1s }], vouch_on_success: 1m }\n"),
			 -EINVAL);
}
END_TEST

/* A mapped entry alone is its IPv4 address (it used to be deleted from the
 * trie at the first sync, the list still showing it). */
START_TEST(test_mapped_entry)
{
	char buf[FG_CIDR_STRLEN];

	ck_assert_int_eq(parse("deny: [\"::ffff:203.0.113.0/120\", \"::ffff:198.51.100.9\"]\n"), 0);
	ck_assert_int_eq(conf.ndeny, 2);
	ck_assert_uint_eq(conf.deny[0].family, FG_AF_INET);
	ck_assert_str_eq(cidr_format(&conf.deny[0], buf, sizeof(buf)), "203.0.113.0/24");
	ck_assert_str_eq(cidr_format(&conf.deny[1], buf, sizeof(buf)), "198.51.100.9");
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
			   "    ban: { after: 1, window: 5m, for: 1h30m }\n";

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
	ck_assert_uint_eq(conf.rules[0].limits.ban.for_ms, 5400000);
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

/* syn_cookies: per TCP rule (auto by default), and what all rules share. */
START_TEST(test_syn_cookies)
{
	ck_assert_msg(parse("rules:\n"
			    "  - { name: a, proto: tcp, ports: [443] }\n"
			    "  - { name: b, proto: tcp, ports: [444], syn_cookies: off }\n"
			    "  - { name: c, proto: tcp, ports: [445], syn_cookies: always }\n") ==
			      0,
		      "%s", err);
	ck_assert_int_eq(conf.rules[0].limits.syn_cookies, FG_COOKIES_AUTO);
	ck_assert_int_eq(conf.rules[1].limits.syn_cookies, FG_COOKIES_OFF);
	ck_assert_int_eq(conf.rules[2].limits.syn_cookies, FG_COOKIES_ALWAYS);
	ck_assert_int_eq(conf.defaults[FG_PROTO_TCP].syn_cookies, FG_COOKIES_AUTO);
	ck_assert_uint_eq(conf.syn_cookies.max_rate, FG_CONF_COOKIE_MAX_RATE);
	ck_assert(!conf.syn_cookies.timestamps_off);
	config_free(&conf);
	ck_assert_msg(parse("defaults: { tcp: { syn_cookies: off } }\n"
			    "syn_cookies: { max_rate: 2000, timestamps: off }\n") == 0,
		      "%s", err);
	ck_assert_int_eq(conf.defaults[FG_PROTO_TCP].syn_cookies, FG_COOKIES_OFF);
	ck_assert_uint_eq(conf.syn_cookies.max_rate, 2000);
	ck_assert(conf.syn_cookies.timestamps_off);
}
END_TEST

static const struct {
	const char *yaml;
	const char *msg;
} bad[] = {
	/* syn_cookies */
	{ "rules:\n"
	  "  - { name: a, proto: tcp, ports: [443], syn_cookies: sometimes }\n",
	  "t.yaml:2: rules[0].syn_cookies: expected auto, off or always, got \"sometimes\"" },
	{ "rules:\n"
	  "  - { name: a, proto: udp, ports: [443], syn_cookies: always }\n",
	  "t.yaml:2: rules[0]: syn_cookies answer TCP SYNs: a udp rule cannot have them" },
	{ "defaults: { udp: { syn_cookies: off } }\n",
	  "t.yaml:1: defaults.udp: syn_cookies answer TCP SYNs: a udp default cannot have them" },
	{ "syn_cookies: { max_rate: 0 }\n",
	  "t.yaml:1: syn_cookies.max_rate: 0 is out of range (1-1000000000)" },
	{ "syn_cookies: { timestamps: on }\n",
	  "t.yaml:1: syn_cookies.timestamps: expected auto or off, got \"on\"" },
	{ "syn_cookies: { max_rat: 10 }\n",
	  "t.yaml:1: syn_cookies.max_rat: unknown key (did you mean max_rate?)" },
	/* ports */
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports: [443, 70000]\n",
	  "t.yaml:4: rules[0].ports: \"70000\" is not a port (1-65535)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports:\n"
	  "      - 0\n",
	  "t.yaml:5: rules[0].ports: \"0\" is not a port (1-65535)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: udp\n"
	  "    ports: [\"9000-8000\"]\n",
	  "t.yaml:4: rules[0].ports: \"9000-8000\" is not a port range (9000 > 8000)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: udp\n"
	  "    ports: [\"1000-65536\"]\n",
	  "t.yaml:4: rules[0].ports: \"1000-65536\" is not a port range (ports are 1-65535)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: udp\n"
	  "    ports: [\"80 - 90\"]\n",
	  "t.yaml:4: rules[0].ports: \"80 - 90\" is not a port or a port range (e.g. 443, "
	  "\"8000-8100\")" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: udp\n"
	  "    ports: []\n",
	  "t.yaml:4: rules[0].ports: at least one port is required" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports: 443\n",
	  "t.yaml:4: rules[0].ports: expected a list, got \"443\"" },
	{ "rules:\n"
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
	  "at port 8090" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports: [\"1-100\", 50]\n",
	  "t.yaml:4: rules[0].ports: \"50\" overlaps another entry of this rule at port 50" },
	/* names */
	{ "rules:\n"
	  "  - { name: web, proto: tcp, ports: [80] }\n"
	  "  - { name: web, proto: tcp, ports: [81] }\n",
	  "t.yaml:3: rules[1].name: \"web\" is already the name of rules[0] (line 2)" },
	{ "rules:\n"
	  "  - { proto: tcp, ports: [80] }\n",
	  "t.yaml:2: rules[0].name: missing (every rule needs a name)" },
	{ "rules:\n"
	  "  - { name: \"my rule\", proto: tcp, ports: [80] }\n",
	  "t.yaml:2: rules[0].name: \"my rule\": use only letters, digits, '_', '.' and '-'" },
	{ "rules:\n"
	  "  - { name: \"\", proto: tcp, ports: [80] }\n",
	  "t.yaml:2: rules[0].name: cannot be empty" },
	{ "interfaces: [eth0, \"\"]\n", "t.yaml:1: interfaces: an interface name cannot be empty" },
	{ "rules:\n"
	  "  - { name: tcp-default, proto: tcp, ports: [80] }\n",
	  "t.yaml:2: rules[0].name: \"tcp-default\" is reserved (set it under defaults:)" },
	{ "rules:\n"
	  "  - { name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, proto: "
	  "tcp,"
	  " ports: [80] }\n",
	  "t.yaml:2: rules[0].name: \"aaaaaaaaaaaaaaaaaaaa...\" is too long (at most 63 "
	  "characters)" },
	{ "rules:\n"
	  "  - { name: a, ports: [80] }\n",
	  "t.yaml:2: rules[0].proto: missing (tcp or udp)" },
	{ "rules:\n"
	  "  - { name: a, proto: sctp, ports: [80] }\n",
	  "t.yaml:2: rules[0].proto: expected tcp or udp, got \"sctp\"" },
	{ "rules:\n"
	  "  - { name: a, proto: tcp }\n",
	  "t.yaml:2: rules[0].ports: missing (a list of ports and \"lo-hi\" ranges)" },
	{ "rules:\n"
	  "  - just-a-name\n",
	  "t.yaml:2: rules[0]: expected a rule (a mapping with name, proto, ports...), got "
	  "\"just-a-name\"" },
	/* unknown keys, named with their full path */
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports: [80]\n"
	  "    per_sorce: { rate: 10 }\n",
	  "t.yaml:5: rules[0].per_sorce: unknown key (did you mean per_source?)" },
	{ "defaults:\n"
	  "  tcp:\n"
	  "    per_source: { rate: 10, brust: 20 }\n",
	  "t.yaml:3: defaults.tcp.per_source.brust: unknown key (did you mean burst?)" },
	{ "interface: [eth0]\n", "t.yaml:1: interface: unknown key (did you mean interfaces?)" },
	{ "dry_run: false\nsources: { max_tracked: 10, colour: blue }\n",
	  "t.yaml:2: sources.colour: unknown key" },
	{ "defaults:\n  icmp: {}\n", "t.yaml:2: defaults.icmp: unknown key" },
	{ "dry_run: false\ndry_run: true\n", "t.yaml:2: dry_run: duplicate key (first at line 1)" },
	/* ranges */
	{ "sources:\n  ipv4_prefix: 33\n",
	  "t.yaml:2: sources.ipv4_prefix: 33 is out of range (1-32)" },
	{ "sources:\n  ipv6_prefix: 0\n",
	  "t.yaml:2: sources.ipv6_prefix: 0 is out of range (1-128)" },
	{ "sources:\n  max_tracked: -5\n",
	  "t.yaml:2: sources.max_tracked: -5 is out of range (1-100000000)" },
	{ "sources:\n  max_tracked: 99999999999999999999999\n",
	  "t.yaml:2: sources.max_tracked: 99999999999999999999999 is out of range (1-100000000)" },
	{ "defaults:\n  udp: { per_source: { rate: 10, burst: 0 } }\n",
	  "t.yaml:2: defaults.udp.per_source.burst: must be at least 1 when rate is set" },
	{ "defaults:\n  udp: { per_source: { burst: 10 } }\n",
	  "t.yaml:2: defaults.udp.per_source.burst: burst without rate (add rate: new flows per "
	  "second)" },
	{ "defaults:\n  udp: { global: { rate: 2000000000 } }\n",
	  "t.yaml:2: defaults.udp.global.rate: 2000000000 is out of range (0-1000000000)" },
	{ "rules:\n"
	  "  - { name: a, proto: tcp, ports: [80], ban: { after: 0 } }\n",
	  "t.yaml:2: rules[0].ban.after: 0 is out of range (1-1000000)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    proto: tcp\n"
	  "    ports: [80]\n"
	  "    ban: { for: 1h }\n",
	  "t.yaml:5: rules[0].ban.after: missing (violations that make a ban)" },
	/* CIDRs */
	{ "allow: [\"192.0.2.0/24\"]\n"
	  "deny:\n"
	  "  - 203.0.113.66/32\n"
	  "  - 198.51.100.7/24\n",
	  "t.yaml:4: deny[1]: \"198.51.100.7/24\" has host bits set beyond /24 (did you mean "
	  "198.51.100.0/24?)" },
	{ "allow: [\"2001:db8::1/48\"]\n",
	  "t.yaml:1: allow[0]: \"2001:db8::1/48\" has host bits set beyond /48 (did you mean "
	  "2001:db8::/48?)" },
	{ "allow: [\"192.0.2.0/33\"]\n",
	  "t.yaml:1: allow[0]: \"192.0.2.0/33\" is not an address or prefix (e.g. 192.0.2.0/24, "
	  "2001:db8::/32)" },
	{ "deny: \"192.0.2.0/24\"\n", "t.yaml:1: deny: expected a list, got \"192.0.2.0/24\"" },
	/* issue 10: two spellings of one trie key; the second used to switch
	 * the first off while --check-config said ok. */
	{ "deny:\n"
	  "  - 203.0.113.0/24\n"
	  "  - 2001:db8::/32\n"
	  "  - \"::ffff:203.0.113.0/120\"\n",
	  "t.yaml:4: deny[2]: \"::ffff:203.0.113.0/120\" is the same entry as deny[0] on line 2 "
	  "(203.0.113.0/24): list it once" },
	{ "allow: [192.0.2.7, 198.51.100.1, 192.0.2.7]\n",
	  "t.yaml:1: allow[2]: \"192.0.2.7\" is the same entry as allow[0] on line 1 (192.0.2.7): "
	  "list it once" },
	/* the first repeat in list order, and the earlier of its twins; an
	 * error later in the list comes after it, one earlier before it */
	{ "deny: [192.0.2.9, 192.0.2.8, 192.0.2.9, 192.0.2.8, 192.0.2.8, 192.0.2.0/33]\n",
	  "t.yaml:1: deny[2]: \"192.0.2.9\" is the same entry as deny[0] on line 1 (192.0.2.9): "
	  "list it once" },
	{ "deny: [192.0.2.8, 192.0.2.9, 192.0.2.1, 192.0.2.9, 192.0.2.8]\n",
	  "t.yaml:1: deny[3]: \"192.0.2.9\" is the same entry as deny[1] on line 1 (192.0.2.9): "
	  "list it once" },
	{ "deny: [192.0.2.8, 192.0.2.0/33, 192.0.2.8]\n",
	  "t.yaml:1: deny[1]: \"192.0.2.0/33\" is not an address or prefix (e.g. 192.0.2.0/24, "
	  "2001:db8::/32)" },
	/* wrong types */
	{ "rules: {}\n", "t.yaml:1: rules: expected a list, got a mapping" },
	{ "sources: 5\n", "t.yaml:1: sources: expected a mapping (key: value), got \"5\"" },
	{ "defaults:\n  tcp:\n    per_source: { rate: fast }\n",
	  "t.yaml:3: defaults.tcp.per_source.rate: expected an integer, got \"fast\"" },
	{ "defaults:\n  tcp:\n    per_source: { rate: \"20\" }\n",
	  "t.yaml:3: defaults.tcp.per_source.rate: expected an integer, got the string \"20\" "
	  "(drop the quotes)" },
	{ "defaults:\n  tcp:\n    per_source: [20, 40]\n",
	  "t.yaml:3: defaults.tcp.per_source: expected a mapping (key: value), got a list" },
	{ "dry_run: maybe\n", "t.yaml:1: dry_run: expected true or false, got \"maybe\"" },
	{ "persist:\n", "t.yaml:1: persist: expected true or false, got nothing" },
	{ "xdp_mode: turbo\n",
	  "t.yaml:1: xdp_mode: expected native, generic or auto, got \"turbo\"" },
	{ "interfaces: {eth0: yes}\n", "t.yaml:1: interfaces: expected a list, got a mapping" },
	{ "interfaces: [averyveryverylongname]\n",
	  "t.yaml:1: interfaces: \"averyveryverylongname\" is too long for an interface name (at "
	  "most 15)" },
	{ "interfaces: [eth0, eth0]\n", "t.yaml:1: interfaces: \"eth0\" is listed twice" },
	{ "- rules\n",
	  "t.yaml:1: expected a mapping of keys (interfaces:, rules:, ...), got a list" },
	/* durations */
	{ "sources:\n  udp_idle: 30x\n", "t.yaml:2: sources.udp_idle: \"30x\" is not a duration "
					 "(e.g. 500ms, 30s, 5m, 1h30m, 1d)" },
	{ "sources:\n  attack_hold: 1.5s\n", "t.yaml:2: sources.attack_hold: \"1.5s\" is not a "
					     "duration (e.g. 500ms, 30s, 5m, 1h30m, 1d)" },
	{ "sources:\n  verified_ttl: 400d\n",
	  "t.yaml:2: sources.verified_ttl: \"400d\" is too long (at most 365d)" },
	{ "rules:\n"
	  "  - { name: a, proto: tcp, ports: [80], ban: { after: 3, window: 0s } }\n",
	  "t.yaml:2: rules[0].ban.window: \"0s\" must be longer than 0" },
	{ "rules:\n"
	  "  - { name: a, proto: tcp, ports: [80], ban: { after: 3, for: -1 } }\n",
	  "t.yaml:2: rules[0].ban.for: \"-1\" is not a duration (e.g. 500ms, 30s, 5m, 1h30m, 1d)" },
	/* YAML itself */
	{ "rules:\n"
	  "  - name: web\n"
	  "    proto: tcp\n"
	  "   ports: [80]\n",
	  "t.yaml:4: invalid YAML: did not find expected '-' indicator (while parsing a block "
	  "collection at line 2)" },
	{ "rules:\n"
	  "  - name: a\n"
	  "    ports: [443\n",
	  "t.yaml:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence "
	  "at line 3)" },
	{ "rules:\n\t- a\n",
	  "t.yaml:2: invalid YAML: found character that cannot start any token (while scanning for "
	  "the next token at line 2)" },
	{ "dry_run: *x\n", "t.yaml:1: invalid YAML: found undefined alias" },
	{ "dry_run: true\n---\npersist: true\n",
	  "t.yaml:3: a second YAML document (\"---\"); the config is one document" },
};

START_TEST(test_bad)
{
	int ret = parse(bad[_i].yaml);

	ck_assert_msg(ret == -EINVAL, "accepted (%d):\n%s", ret, bad[_i].yaml);
	ck_assert_str_eq(err, bad[_i].msg);
	/* A refused file leaves nothing to free and no half-parsed values. */
	ck_assert_ptr_null(conf.allow);
	ck_assert_ptr_null(conf.deny);
	ck_assert_ptr_null(conf.policies);
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

/* --- hostile files: refused at once, never a hang or a long parse --------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A FIFO with no writer used to block the open (SIGHUP hung ~10 min). */
START_TEST(test_fifo_refused)
{
	char dir[] = "/tmp/fg-check-config-XXXXXX", path[64], want[160];
	double t0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	t0 = now_s();
	ck_assert_int_eq(config_load(path, &conf, err, sizeof(err)), -EINVAL);
	ck_assert_double_lt(now_s() - t0, 1.0);
	snprintf(want, sizeof(want),
		 "%s: not a regular file (fifo): give the path of the YAML config file", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_device_refused)
{
	ck_assert_int_eq(config_load("/dev/zero", &conf, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/dev/zero: not a regular file (character device): give the path "
			      "of the YAML config file");
}
END_TEST

/* A sparse 17 MiB file: refused from its size, nothing read. */
START_TEST(test_size_refused)
{
	char path[] = "/tmp/fg-check-config-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 17 << 20), 0);
	close(fd);
	ck_assert_int_eq(config_load(path, &conf, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err, ": larger than 16 MiB (17825792 bytes), not a config"));
	unlink(path);
}
END_TEST

static char *repeat(const char *head, const char *unit, long n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * (size_t)n + tl + 1), *q = s;
	long i;

	ck_assert_ptr_nonnull(s);
	memcpy(q, head, hl);
	q += hl;
	for (i = 0; i < n; i++, q += ul)
		memcpy(q, unit, ul);
	memcpy(q, tail, tl + 1);
	return s;
}

/* 100k "[" took 18 s (libyaml's scan is quadratic in flow depth). */
START_TEST(test_deep_nesting_refused)
{
	char *text = repeat("", "[", 100000, "\n");
	double t0 = now_s();

	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_double_lt(now_s() - t0, 1.0);
	ck_assert_str_eq(err, "t.yaml:1: nested deeper than 64 levels; a config is a few levels "
			      "deep");
	free(text);
	/* Block nesting counts the same; 64 levels are still read. */
	text = repeat("", "- ", 65, "x\n");
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "nested deeper than 64 levels"));
	free(text);
	/* 64 levels (the top map and 63 lists) reach the schema's checks. */
	text = repeat("dry_run: ", "[", 63, "");
	{
		char *close = repeat(text, "]", 63, "\n");

		ck_assert_int_eq(parse(close), -EINVAL);
		ck_assert_ptr_null(strstr(err, "nested deeper"));
		free(close);
	}
	free(text);
}
END_TEST

START_TEST(test_aliases_refused)
{
	/* A billion-laughs shape: each level refers to the one before ten times. */
	char *text = repeat("a: &a [x]\nb: [", "*a, ", 1100, "*a]\n");

	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:2: more than 1024 anchors and aliases (&name, *name); "
			      "refused as an alias bomb");
	free(text);
}
END_TEST

START_TEST(test_values_refused)
{
	char *text = repeat("deny: [", "1,", 600000, "1]\n");

	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:1: more than 524288 values; the largest config (65,536 "
			      "deny entries) has far fewer");
	free(text);
}
END_TEST

/* --- socket:, store:, policies: -------------------------------------------- */

static const struct fg_conf_policy *policy(const char *name)
{
	int i;

	for (i = 0; i < conf.npolicies; i++) {
		if (!strcmp(conf.policies[i].name, name))
			return &conf.policies[i];
	}
	ck_abort_msg("no policy %s", name);
	return NULL;
}

START_TEST(test_socket_store_defaults)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_str_eq(conf.socket.path, "/run/floodgate/floodgate.sock");
	ck_assert_uint_eq(conf.socket.mode, 0660);
	ck_assert_str_eq(conf.socket.group, "");
	ck_assert_int_eq(conf.socket.nadmin_uids, 1);
	ck_assert_uint_eq(conf.socket.admin_uids[0], 0);
	ck_assert_int_eq(conf.socket.nadmin_gids, 0);
	ck_assert_uint_eq(conf.socket.max_clients, 10000);
	ck_assert_uint_eq(conf.socket.max_clients_per_uid, 2500);
	ck_assert_uint_eq(conf.socket.admin_reserve, 32);
	ck_assert_uint_eq(conf.socket.idle_timeout_ms, 300000);
	ck_assert_uint_eq(conf.socket.max_buffers, 256u << 20);
	ck_assert_uint_eq(conf.socket.client_output_limit, 32u << 20);
	ck_assert_int_eq(conf.store.type, FG_STORE_MEMORY);
	ck_assert_uint_eq(conf.store.max_keys, 1000000);
	ck_assert_int_eq(conf.npolicies, 0);
	ck_assert_ptr_null(conf.policies);
}
END_TEST

START_TEST(test_store_redis)
{
	ck_assert_msg(parse("store:\n  type: redis\n  redis: { url: \"redis://10.0.0.5:6380\", "
			    "password: s3cret, db: 2, timeout_ms: 50, prefix: \"fg.prod\" }\n"
			    "policies:\n  - { name: a, type: events, limit: 1, window: 1s, "
			    "on_store_error: deny }\n"
			    "  - { name: b, type: budget, amount: 5 }\n") == 0,
		      "%s", err);
	ck_assert_int_eq(conf.store.type, FG_STORE_REDIS);
	ck_assert_str_eq(conf.store.redis.host, "10.0.0.5");
	ck_assert_uint_eq(conf.store.redis.port, 6380);
	ck_assert_str_eq(conf.store.redis.path, "");
	ck_assert_str_eq(conf.store.redis.password, "s3cret");
	ck_assert_str_eq(conf.store.redis.username, "");
	ck_assert_uint_eq(conf.store.redis.db, 2);
	ck_assert_uint_eq(conf.store.redis.timeout_ms, 50);
	ck_assert_str_eq(conf.store.redis.prefix, "fg.prod");
	ck_assert_int_eq(policy("a")->on_store_error, POLICY_ON_ERROR_DENY);
	ck_assert_int_eq(policy("b")->on_store_error, POLICY_ON_ERROR_MEMORY);
	config_free(&conf);
	/* Defaults: port 6379, timeout 20 ms, prefix fg, db 0; unix sockets; [IPv6]. */
	ck_assert_msg(
		parse("store: { type: redis, redis: { url: \"redis://redis.example\" } }\n") == 0,
		"%s", err);
	ck_assert_str_eq(conf.store.redis.host, "redis.example");
	ck_assert_uint_eq(conf.store.redis.port, 6379);
	ck_assert_uint_eq(conf.store.redis.timeout_ms, 20);
	ck_assert_str_eq(conf.store.redis.prefix, "fg");
	ck_assert_uint_eq(conf.store.redis.db, 0);
	config_free(&conf);
	ck_assert_msg(parse("store: { type: redis, redis: { url: \"unix:///run/r.sock\" } }\n") ==
			      0,
		      "%s", err);
	ck_assert_str_eq(conf.store.redis.path, "/run/r.sock");
	ck_assert_str_eq(conf.store.redis.host, "");
	config_free(&conf);
	ck_assert_msg(
		parse("store: { type: redis, redis: { url: \"redis://[2001:db8::5]:7000\" } }\n") ==
			0,
		"%s", err);
	ck_assert_str_eq(conf.store.redis.host, "2001:db8::5");
	ck_assert_uint_eq(conf.store.redis.port, 7000);
	config_free(&conf);
	/* A Redis 6 ACL user. */
	ck_assert_msg(parse("store: { type: redis, redis: { url: \"redis://r\", username: "
			    "floodgate, password: pw } }\n") == 0,
		      "%s", err);
	ck_assert_str_eq(conf.store.redis.username, "floodgate");
	ck_assert_str_eq(conf.store.redis.password, "pw");
	config_free(&conf);
	/* Sentinels name the master; their own AUTH is separate from the master's. */
	ck_assert_msg(parse("store: { type: redis, redis: { sentinels: [\"10.0.0.1:26380\", "
			    "s2, \"[2001:db8::7]:5000\"], master_name: media.main, password: "
			    "pw, sentinel_username: sent, sentinel_password: spw } }\n") == 0,
		      "%s", err);
	ck_assert_int_eq(conf.store.redis.nsentinels, 3);
	ck_assert_str_eq(conf.store.redis.sentinels[0].host, "10.0.0.1");
	ck_assert_uint_eq(conf.store.redis.sentinels[0].port, 26380);
	ck_assert_str_eq(conf.store.redis.sentinels[1].host, "s2");
	ck_assert_uint_eq(conf.store.redis.sentinels[1].port, 26379);
	ck_assert_str_eq(conf.store.redis.sentinels[2].host, "2001:db8::7");
	ck_assert_uint_eq(conf.store.redis.sentinels[2].port, 5000);
	ck_assert_str_eq(conf.store.redis.master_name, "media.main");
	ck_assert_str_eq(conf.store.redis.url, "");
	ck_assert_str_eq(conf.store.redis.password, "pw");
	ck_assert_str_eq(conf.store.redis.sentinel_username, "sent");
	ck_assert_str_eq(conf.store.redis.sentinel_password, "spw");
	config_free(&conf);
	ck_assert_msg(
		parse("store: { type: redis, redis: { cluster: [\"10.0.0.1:7000\", n2] } }\n") == 0,
		"%s", err);
	ck_assert_int_eq(conf.store.redis.ncluster, 2);
	ck_assert_str_eq(conf.store.redis.cluster[0].host, "10.0.0.1");
	ck_assert_uint_eq(conf.store.redis.cluster[0].port, 7000);
	ck_assert_str_eq(conf.store.redis.cluster[1].host, "n2");
	ck_assert_uint_eq(conf.store.redis.cluster[1].port, 6379);
}
END_TEST

START_TEST(test_socket_store_values)
{
	ck_assert_msg(parse("socket: { path: /tmp/fg.sock, mode: \"0600\", group: floodgate,\n"
			    "          admin_uids: [0, 1000], admin_gids: [27] }\n"
			    "store: { type: memory, max_keys: 2_000 }\n") == 0,
		      "%s", err);
	ck_assert_str_eq(conf.socket.path, "/tmp/fg.sock");
	ck_assert_uint_eq(conf.socket.mode, 0600);
	ck_assert_str_eq(conf.socket.group, "floodgate");
	ck_assert_int_eq(conf.socket.nadmin_uids, 2);
	ck_assert_uint_eq(conf.socket.admin_uids[1], 1000);
	ck_assert_int_eq(conf.socket.nadmin_gids, 1);
	ck_assert_uint_eq(conf.socket.admin_gids[0], 27);
	ck_assert_uint_eq(conf.store.max_keys, 2000);
	/* per_call_limits (CL.THROTTLE): on by default, bounded. */
	ck_assert(conf.per_call.enabled);
	ck_assert_uint_eq(conf.per_call.max_keys, 100000);
	ck_assert_uint_eq(conf.per_call.max_period_ms, 86400000);
	config_free(&conf);
	ck_assert_msg(parse("per_call_limits: { enabled: false, max_keys: 10, max_burst: 0,\n"
			    "                   max_count: 5, max_period: 1h }\n") == 0,
		      "%s", err);
	ck_assert(!conf.per_call.enabled);
	ck_assert_uint_eq(conf.per_call.max_keys, 10);
	ck_assert_uint_eq(conf.per_call.max_burst, 0);
	ck_assert_uint_eq(conf.per_call.max_count, 5);
	ck_assert_uint_eq(conf.per_call.max_period_ms, 3600000);
	config_free(&conf);
	/* A mode is octal however it is written; an empty admin list is allowed. */
	ck_assert_msg(parse("socket: { mode: 0640, admin_uids: [] }\n") == 0, "%s", err);
	ck_assert_uint_eq(conf.socket.mode, 0640);
	ck_assert_int_eq(conf.socket.nadmin_uids, 0);
	config_free(&conf);
	ck_assert_msg(parse("socket: { mode: 660 }\n") == 0, "%s", err);
	ck_assert_uint_eq(conf.socket.mode, 0660);
	config_free(&conf);
	/* Client limits; max_clients_per_uid follows max_clients when not given. */
	ck_assert_msg(parse("socket: { max_clients: 400, admin_reserve: 8, idle_timeout: 90s,\n"
			    "          max_buffers: 64mb, client_output_limit: 512kb }\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(conf.socket.max_clients, 400);
	ck_assert_uint_eq(conf.socket.max_clients_per_uid, 100);
	ck_assert_uint_eq(conf.socket.admin_reserve, 8);
	ck_assert_uint_eq(conf.socket.idle_timeout_ms, 90000);
	ck_assert_uint_eq(conf.socket.max_buffers, 64u << 20);
	ck_assert_uint_eq(conf.socket.client_output_limit, 512u << 10);
	config_free(&conf);
	ck_assert_msg(parse("socket: { max_clients_per_uid: 7, idle_timeout: 0,\n"
			    "          max_buffers: 16MB }\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(conf.socket.max_clients_per_uid, 7);
	ck_assert_uint_eq(conf.socket.idle_timeout_ms, 0);
	ck_assert_uint_eq(conf.socket.max_buffers, 16u << 20);
	ck_assert_uint_eq(conf.socket.client_output_limit, 16u << 20); /* follows max_buffers */
}
END_TEST

START_TEST(test_metrics)
{
	static const char *const good[] = { "127.0.0.1:10150", "0.0.0.0:9100", "[::1]:10150",
					    "[::]:1", "192.0.2.1:65535" };
	size_t i;

	ck_assert_int_eq(parse(""), 0);
	ck_assert(conf.metrics.enabled);
	ck_assert_str_eq(conf.metrics.listen, "127.0.0.1:10150");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "metrics: { listen: \"%s\" }\n", good[i]);
		ck_assert_msg(parse(text) == 0, "%s: %s", good[i], err);
		ck_assert_str_eq(conf.metrics.listen, good[i]);
		ck_assert(conf.metrics.enabled);
	}
	ck_assert_msg(parse("metrics:\n  enabled: false\n") == 0, "%s", err);
	ck_assert(!conf.metrics.enabled);
	ck_assert_str_eq(conf.metrics.listen, "127.0.0.1:10150");
	/* An empty listen turns the endpoint off too. */
	ck_assert_msg(parse("metrics: { listen: \"\" }\n") == 0, "%s", err);
	ck_assert_str_eq(conf.metrics.listen, "");
	ck_assert_msg(parse("metrics:\n  listen:\n") == 0, "%s", err);
	ck_assert_str_eq(conf.metrics.listen, "");
	ck_assert_msg(parse("metrics:\n") == 0, "%s", err);
	ck_assert_str_eq(conf.metrics.listen, "127.0.0.1:10150");
	ck_assert_uint_eq(conf.metrics.max_connections, 1024);
	ck_assert_uint_eq(conf.metrics.timeout_ms, 5000);
	ck_assert_msg(parse("metrics: { max_connections: 64, timeout: 2s, listen: \"\" }\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(conf.metrics.max_connections, 64);
	ck_assert_uint_eq(conf.metrics.timeout_ms, 2000);
	ck_assert_int_eq(parse("metrics:\n  max_connections: 0\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:2: metrics.max_connections: 0 is out of range (1-65536)");
	ck_assert_int_eq(parse("metrics:\n  timeout: 500ms\n"), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:2: metrics.timeout: \"500ms\" is out of range (1s-5m)");
}
END_TEST

START_TEST(test_log)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert(!conf.log.format_set && !conf.log.json);
	ck_assert(!conf.log.level_set);
	ck_assert_int_eq(conf.log.level, FG_LOG_INFO);
	ck_assert_uint_eq(conf.log.violation_lines_per_sec, 20);
	ck_assert_uint_eq(conf.log.summary_interval_ms, 10000);
	ck_assert_msg(parse("log:\n  format: json\n  level: debug\n  violation_lines_per_sec: 5\n"
			    "  summary_interval: 30s\n") == 0,
		      "%s", err);
	ck_assert(conf.log.format_set && conf.log.json);
	ck_assert(conf.log.level_set);
	ck_assert_int_eq(conf.log.level, FG_LOG_DEBUG);
	ck_assert_uint_eq(conf.log.violation_lines_per_sec, 5);
	ck_assert_uint_eq(conf.log.summary_interval_ms, 30000);
	ck_assert_msg(parse("log: { format: logfmt, level: warn }\n") == 0, "%s", err);
	ck_assert(conf.log.format_set && !conf.log.json);
	ck_assert_int_eq(conf.log.level, FG_LOG_WARN);
	ck_assert_msg(parse("log: { level: error }\n") == 0, "%s", err);
	ck_assert_int_eq(conf.log.level, FG_LOG_ERROR);
}
END_TEST

/* Issue 12 item 8: an events policy's types, each with its limit, window and
 * warn_at; without limit: the policy has no counter for the other types. */
START_TEST(test_policies_event_types)
{
	const struct fg_conf_policy *p;

	ck_assert_msg(parse("policies:\n"
			    "  - name: meet\n"
			    "    type: events\n"
			    "    events:\n"
			    "      offer: { limit: 10, per: 1m }\n"
			    "      \"ice candidate\": { limit: 50, per: 1m }\n"
			    "      host-action: { limit: 3, per: 1m, warn_at: 0.5 }\n"
			    "    exempt: [ping]\n"
			    "  - { name: chat, type: events, limit: 100, window: 1m,\n"
			    "      events: { typing: { limit: 20, per: 10s } } }\n") == 0,
		      "%s", err);
	p = policy("meet");
	ck_assert_int_eq(p->nevtypes, 3);
	ck_assert_uint_eq(p->limit, 0);
	ck_assert_str_eq(p->evtypes[1].name, "ice candidate");
	ck_assert_uint_eq(p->evtypes[1].limit, 50);
	ck_assert_uint_eq(p->evtypes[1].per_ms, 60000);
	ck_assert_uint_eq(p->evtypes[0].warn_at_milli, 0); /* the policy's */
	ck_assert_uint_eq(p->evtypes[2].warn_at_milli, 500);
	p = policy("chat");
	ck_assert_uint_eq(p->limit, 100);
	ck_assert_int_eq(p->nevtypes, 1);
	ck_assert_uint_eq(p->evtypes[0].per_ms, 10000);
}
END_TEST

/* The four policies of the issue, as an application owner writes them. */
START_TEST(test_policies_values)
{
	const struct fg_conf_policy *p;
	const char *text =
		"policies:\n"
		"  - name: login\n"
		"    type: progressive\n"
		"    free_failures: 3\n"
		"    base_delay: 1s\n"
		"    factor: 2\n"
		"    max_delay: 30s\n"
		"    forget_after: 15m\n"
		"    xdp_ban: { after: 50, for: 1h }\n"
		"  - name: socket_events\n"
		"    type: events\n"
		"    limit: 100\n"
		"    window: 1m\n"
		"    warn_at: 0.8\n"
		"    exempt: [ping, pong, disconnect, error]\n"
		"  - name: api\n"
		"    type: window\n"
		"    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, "
		"per: "
		"1h } ]\n"
		"    roles: { OWNER: 3, MAINTAINER: 2, WRITER: 1.5, READER: 1 }\n"
		"    block_for: 5m\n"
		"  - name: ai_tokens\n"
		"    type: budget\n"
		"    amount: 500000\n"
		"    period: day\n"
		"    roles: { OWNER: 3000000, MAINTAINER: 1000000, WRITER: 500000, READER: 0 }\n"
		"  - name: \"tenant:v2.x-y\"\n"
		"    type: progressive\n"
		"  - { name: hourly, type: budget, amount: 0, period: hour, warn_at: 1 }\n"
		"  - { name: exact, type: window, algorithm: sliding, roles: { PRO: 2.5 },\n"
		"      limits: [ { count: 3, per: 1m }, { count: 400, per: 1h } ] }\n"
		"  - { name: gc, type: window, algorithm: gcra, limits: [ { count: 1, per: 1s } ] "
		"}\n"
		"  - { name: berlin, type: budget, amount: 5, timezone: Europe/Berlin }\n"
		"  - { name: india, type: budget, amount: 5, period: hour, timezone: \"+05:30\" }\n"
		"  - { name: utc, type: budget, amount: 5, timezone: \"+00:00\" }\n";

	ck_assert_msg(parse(text) == 0, "%s", err);
	ck_assert_int_eq(conf.npolicies, 11);
	/* The default is gcra; sliding when asked. */
	ck_assert_int_eq(policy("api")->algorithm, POLICY_ALGO_GCRA);
	ck_assert_int_eq(policy("gc")->algorithm, POLICY_ALGO_GCRA);
	ck_assert_int_eq(policy("exact")->algorithm, POLICY_ALGO_SLIDING);
	p = policy("login");
	ck_assert_int_eq(p->type, POLICY_PROGRESSIVE);
	ck_assert_int_eq(p->line, 2);
	ck_assert_uint_eq(p->free_failures, 3);
	ck_assert_uint_eq(p->base_delay_ms, 1000);
	ck_assert_uint_eq(p->factor_milli, 2000);
	ck_assert_uint_eq(p->max_delay_ms, 30000);
	ck_assert_uint_eq(p->forget_after_ms, 900000);
	ck_assert_uint_eq(p->xdp_ban_after, 50);
	ck_assert_uint_eq(p->xdp_ban_for_ms, 3600000);
	p = policy("socket_events");
	ck_assert_int_eq(p->type, POLICY_EVENTS);
	ck_assert_uint_eq(p->limit, 100);
	ck_assert_uint_eq(p->window_ms, 60000);
	ck_assert_uint_eq(p->warn_at_milli, 800);
	ck_assert_int_eq(p->nexempt, 4);
	ck_assert_str_eq(p->exempt[0], "ping");
	ck_assert_str_eq(p->exempt[3], "error");
	p = policy("api");
	ck_assert_int_eq(p->type, POLICY_WINDOW);
	ck_assert_int_eq(p->nlimits, 3);
	ck_assert_uint_eq(p->limits[0].count, 10);
	ck_assert_uint_eq(p->limits[0].per_ms, 1000);
	ck_assert_uint_eq(p->limits[2].count, 1000);
	ck_assert_uint_eq(p->limits[2].per_ms, 3600000);
	ck_assert_int_eq(p->nroles, 4);
	ck_assert_str_eq(p->roles[2].name, "WRITER");
	ck_assert_uint_eq(p->roles[2].mult_milli, 1500);
	ck_assert_uint_eq(p->roles[0].mult_milli, 3000);
	ck_assert_uint_eq(p->block_for_ms, 300000);
	ck_assert_uint_eq(p->warn_at_milli, 800);
	p = policy("ai_tokens");
	ck_assert_int_eq(p->type, POLICY_BUDGET);
	ck_assert_uint_eq(p->amount, 500000);
	ck_assert_int_eq(p->period, POLICY_PERIOD_DAY);
	ck_assert_uint_eq(p->roles[0].amount, 3000000);
	ck_assert_uint_eq(p->roles[3].amount, 0);
	/* Defaults of a bare progressive policy. */
	p = policy("tenant:v2.x-y");
	ck_assert_uint_eq(p->free_failures, 3);
	ck_assert_uint_eq(p->base_delay_ms, 1000);
	ck_assert_uint_eq(p->factor_milli, 2000);
	ck_assert_uint_eq(p->max_delay_ms, 30000);
	ck_assert_uint_eq(p->forget_after_ms, 900000);
	ck_assert_uint_eq(p->xdp_ban_after, 0);
	p = policy("hourly");
	ck_assert_int_eq(p->period, POLICY_PERIOD_HOUR);
	ck_assert_uint_eq(p->warn_at_milli, 1000);
	/* No zone is UTC; a zone is resolved to its table when read. */
	ck_assert_str_eq(policy("ai_tokens")->timezone, "");
	ck_assert_ptr_null(policy("ai_tokens")->tz);
	p = policy("berlin");
	ck_assert_str_eq(p->timezone, "Europe/Berlin");
	ck_assert_ptr_nonnull(p->tz);
	ck_assert_str_eq(policy("india")->timezone, "+05:30");
	ck_assert_ptr_nonnull(policy("india")->tz);
	/* UTC under any spelling is the default (same state ids) */
	ck_assert_str_eq(policy("utc")->timezone, "");
	ck_assert_ptr_null(policy("utc")->tz);
	config_free(&conf);
	ck_assert_ptr_null(conf.policies);
	ck_assert_int_eq(conf.npolicies, 0);
}
END_TEST

static const struct {
	const char *yaml;
	const char *msg;
} bad_pol[] = {
	/* socket */
	{ "socket: { mode: \"0669\" }\n",
	  "t.yaml:1: socket.mode: \"0669\" is not an octal mode like \"0660\"" },
	{ "socket: { mode: \"01777\" }\n", "t.yaml:1: socket.mode: \"01777\" is more than 0777" },
	{ "socket: { mode: \"0060\" }\n",
	  "t.yaml:1: socket.mode: \"0060\" leaves the owner unable to use the socket (add 0600)" },
	{ "socket:\n  path: run/fg.sock\n",
	  "t.yaml:2: socket.path: \"run/fg.sock\" is not an absolute path" },
	{ "socket:\n  admin_uids: [0, -1]\n",
	  "t.yaml:2: socket.admin_uids[1]: -1 is out of range (0-4294967294)" },
	{ "socket:\n  admin_gids: [4, 4]\n", "t.yaml:2: socket.admin_gids[1]: 4 is listed twice" },
	{ "socket:\n  max_clients: 0\n",
	  "t.yaml:2: socket.max_clients: 0 is out of range (1-1000000)" },
	{ "socket:\n  max_clients: 100\n  max_clients_per_uid: 101\n",
	  "t.yaml:3: socket.max_clients_per_uid: 101 is more than socket.max_clients (100)" },
	{ "socket:\n  max_clients: 100\n  admin_reserve: 100\n",
	  "t.yaml:3: socket.admin_reserve: 100 leaves no connection for applications "
	  "(socket.max_clients is 100)" },
	{ "socket:\n  idle_timeout: 500ms\n",
	  "t.yaml:2: socket.idle_timeout: \"500ms\" is shorter than 1s (0 turns the timeout off)" },
	{ "socket:\n  idle_timeout: -1\n", "t.yaml:2: socket.idle_timeout: \"-1\" is not a "
					   "duration (e.g. 500ms, 30s, 5m, 1h30m, 1d)" },
	{ "socket:\n  max_buffers: 256 mb\n",
	  "t.yaml:2: socket.max_buffers: \"256 mb\": unknown unit (use b, kb, mb or gb)" },
	{ "socket:\n  max_buffers: 100kb\n",
	  "t.yaml:2: socket.max_buffers: \"100kb\" is out of range (1048576-1099511627776 bytes)" },
	{ "socket:\n  max_buffers: 99999999999999999999999\n",
	  "t.yaml:2: socket.max_buffers: \"99999999999999999999999\" is too big" },
	{ "socket:\n  max_buffers: mb\n",
	  "t.yaml:2: socket.max_buffers: \"mb\" is not a size (e.g. 512kb, 32mb, 1gb)" },
	{ "socket:\n  max_buffers: 16mb\n  client_output_limit: 32mb\n",
	  "t.yaml:3: socket.client_output_limit: 33554432 bytes is more than socket.max_buffers "
	  "(16777216)" },
	{ "socket:\n  admin_uid: [0]\n",
	  "t.yaml:2: socket.admin_uid: unknown key (did you mean admin_uids?)" },
	{ "socket: /run/fg.sock\n",
	  "t.yaml:1: socket: expected a mapping (key: value), got \"/run/fg.sock\"" },
	/* store */
	{ "store:\n  type: redis\n",
	  "t.yaml:2: store.redis: missing: the redis store needs a url (redis://host:port or "
	  "unix:///path), sentinels and a master_name, or cluster" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [s1]\n    master_name: m\n"
	  "    cluster: [c1]\n",
	  "t.yaml:6: store.redis.cluster: give one of url (one Redis), sentinels (the master they "
	  "name) or cluster (seed nodes)" },
	{ "store:\n  type: redis\n  redis:\n    cluster: [c1]\n    db: 2\n",
	  "t.yaml:5: store.redis.db: a Redis Cluster has only database 0" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    sentinels: [\"s1:26379\"]\n"
	  "    master_name: m\n",
	  "t.yaml:5: store.redis.sentinels: give one of url (one Redis), sentinels (the master "
	  "they name) or cluster (seed nodes)" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [\"s1:26379\"]\n",
	  "t.yaml:4: store.redis.master_name: missing: sentinels need the master's name (as in "
	  "their \"sentinel monitor NAME ...\" line)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    master_name: m\n",
	  "t.yaml:5: store.redis.master_name: only with sentinels" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: []\n    master_name: m\n",
	  "t.yaml:4: store.redis.sentinels: 0 entries: give 1 to 8 sentinels" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [\"s1:0\"]\n    master_name: m\n",
	  "t.yaml:4: store.redis.sentinels[0]: \"s1:0\": the port must be a number from 1 to "
	  "65535" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [\"2001:db8::1:26379\"]\n"
	  "    master_name: m\n",
	  "t.yaml:4: store.redis.sentinels[0]: \"2001:db8::1:26379\": write an IPv6 address as "
	  "[addr]:port" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [\"s1\", \"s1:26379\"]\n"
	  "    master_name: m\n",
	  "t.yaml:4: store.redis.sentinels[1]: s1:26379 is listed twice" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [\"redis://s1\"]\n    master_name: m\n",
	  "t.yaml:4: store.redis.sentinels[0]: \"redis://s1\": expected host:port" },
	{ "store:\n  type: redis\n  redis:\n    sentinels: [s1]\n    master_name: m\n"
	  "    sentinel_username: u\n",
	  "t.yaml:6: store.redis.sentinel_username: needs store.redis.sentinel_password (AUTH "
	  "username password)" },
	{ "store:\n  type: disk\n",
	  "t.yaml:2: store.type: expected memory or redis, got \"disk\"" },
	{ "store:\n  redis: { url: \"redis://r:6379\" }\n",
	  "t.yaml:2: store.redis: set store.type: redis to use it" },
	{ "store:\n  type: redis\n  redis:\n    url: \"http://r:6379\"\n",
	  "t.yaml:4: store.redis.url: \"http://r:6379\" is not redis://host:port or unix:///path "
	  "(rediss:// is not supported)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r:0\"\n",
	  "t.yaml:4: store.redis.url: \"redis://r:0\": the port must be a number from 1 to 65535" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://:pw@r:6379\"\n",
	  "t.yaml:4: store.redis.url: \"redis://:pw@r:6379\": give only host and port (the "
	  "password goes in store.redis.password, the database in store.redis.db)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    username: fg\n",
	  "t.yaml:5: store.redis.username: needs store.redis.password (AUTH username password)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"unix://run/redis.sock\"\n",
	  "t.yaml:4: store.redis.url: \"unix://run/redis.sock\": a Unix socket needs an absolute "
	  "path (unix:///run/redis/redis.sock)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    timeout_ms: 0\n",
	  "t.yaml:5: store.redis.timeout_ms: 0 is out of range (1-10000)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    db: -1\n",
	  "t.yaml:5: store.redis.db: -1 is out of range (0-1000000)" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    prefix: \"a{b\"\n",
	  "t.yaml:5: store.redis.prefix: \"a{b\": use only letters, digits, '_', '.', ':' and "
	  "'-'" },
	{ "store:\n  type: redis\n  redis:\n    url: \"redis://r\"\n    timeout: 20\n",
	  "t.yaml:5: store.redis.timeout: unknown key" },
	{ "policies:\n  - name: a\n    type: events\n    limit: 1\n    window: 1s\n"
	  "    on_store_error: open\n",
	  "t.yaml:6: policies[0].on_store_error: expected memory, allow or deny, got \"open\"" },
	{ "store:\n  max_keys: 0\n", "t.yaml:2: store.max_keys: 0 is out of range (1-100000000)" },
	{ "per_call_limits:\n  max_count: 0\n",
	  "t.yaml:2: per_call_limits.max_count: 0 is out of range (1-1000000000)" },
	{ "per_call_limits:\n  max_period: 200d\n",
	  "t.yaml:2: per_call_limits.max_period: \"200d\" is out of range (1s-100d)" },
	{ "per_call_limits:\n  max_burts: 3\n",
	  "t.yaml:2: per_call_limits.max_burts: unknown key (did you mean max_burst?)" },
	/* metrics */
	{ "metrics:\n  listen: 127.0.0.1\n", "t.yaml:2: metrics.listen: \"127.0.0.1\": expected "
					     "address:port, like \"127.0.0.1:10150\"" },
	{ "metrics:\n  listen: \"127.0.0.1:0\"\n",
	  "t.yaml:2: metrics.listen: \"127.0.0.1:0\": the port must be a number from 1 to 65535" },
	{ "metrics:\n  listen: \"127.0.0.1:70000\"\n",
	  "t.yaml:2: metrics.listen: \"127.0.0.1:70000\": the port must be a number from 1 to "
	  "65535" },
	{ "metrics:\n  listen: \"127.0.0.1: 80\"\n", "t.yaml:2: metrics.listen: \"127.0.0.1: 80\": "
						     "the port must be a number from 1 to 65535" },
	{ "metrics:\n  listen: \"localhost:10150\"\n",
	  "t.yaml:2: metrics.listen: \"localhost:10150\": not an IPv4 address (host names are not "
	  "resolved; IPv6 goes in brackets)" },
	{ "metrics:\n  listen: \"::1:10150\"\n",
	  "t.yaml:2: metrics.listen: \"::1:10150\": an IPv6 address goes in brackets: "
	  "\"[::1]:10150\"" },
	{ "metrics:\n  listen: \"[::1]10150\"\n",
	  "t.yaml:2: metrics.listen: \"[::1]10150\": expected [IPv6]:port, like \"[::1]:10150\"" },
	{ "metrics:\n  listen: \"[127.0.0.1]:10150\"\n",
	  "t.yaml:2: metrics.listen: \"[127.0.0.1]:10150\": not an IPv6 address inside the "
	  "brackets" },
	{ "metrics:\n  listen: \":10150\"\n",
	  "t.yaml:2: metrics.listen: \":10150\": give an IP address before the port (127.0.0.1, "
	  "0.0.0.0, [::1], [::])" },
	{ "metrics:\n  listen: [127.0.0.1, 10150]\n",
	  "t.yaml:2: metrics.listen: expected an address:port like \"127.0.0.1:10150\", got a "
	  "list" },
	{ "metrics:\n  enabled: maybe\n",
	  "t.yaml:2: metrics.enabled: expected true or false, got \"maybe\"" },
	{ "metrics:\n  lsten: \"127.0.0.1:9100\"\n",
	  "t.yaml:2: metrics.lsten: unknown key (did you mean listen?)" },
	{ "metrics: 127.0.0.1:10150\n",
	  "t.yaml:1: metrics: expected a mapping (key: value), got \"127.0.0.1:10150\"" },
	/* log */
	{ "log:\n  format: text\n", "t.yaml:2: log.format: \"text\": use logfmt or json" },
	{ "log:\n  level: verbose\n",
	  "t.yaml:2: log.level: \"verbose\": use error, warn, info or debug" },
	{ "log:\n  violation_lines_per_sec: 0\n",
	  "t.yaml:2: log.violation_lines_per_sec: 0 is out of range (1-100000)" },
	{ "log:\n  violation_lines_per_sec: many\n",
	  "t.yaml:2: log.violation_lines_per_sec: expected an integer, got \"many\"" },
	{ "log:\n  summary_interval: 500ms\n",
	  "t.yaml:2: log.summary_interval: \"500ms\" is out of range (1s-1h)" },
	{ "log:\n  summary_interval: 2h\n",
	  "t.yaml:2: log.summary_interval: \"2h\" is out of range (1s-1h)" },
	{ "log:\n  sumary_interval: 10s\n",
	  "t.yaml:2: log.sumary_interval: unknown key (did you mean summary_interval?)" },
	{ "log: json\n", "t.yaml:1: log: expected a mapping (key: value), got \"json\"" },
	/* policies: common */
	{ "policies:\n  - name: a\n",
	  "t.yaml:2: policies[0].type: missing (window, progressive, events or budget)" },
	{ "policies:\n  - name: a\n    type: leaky\n",
	  "t.yaml:3: policies[0].type: expected window, progressive, events or budget, got "
	  "\"leaky\"" },
	{ "policies:\n  - type: progressive\n",
	  "t.yaml:2: policies[0].name: missing (every policy needs a name)" },
	{ "policies:\n  - { name: \"a b\", type: progressive }\n",
	  "t.yaml:2: policies[0].name: \"a b\": use only letters, digits, '_', '.', ':' and '-'" },
	{ "policies:\n  - { name: a, type: progressive }\n  - { name: a, type: progressive }\n",
	  "t.yaml:3: policies[1].name: \"a\" is already the name of policies[0] (line 2)" },
	{ "policies:\n  - name: a\n    type: progressive\n    limit: 10\n",
	  "t.yaml:4: policies[0].limit: not a key of progressive policies (only of events)" },
	{ "policies:\n  - name: a\n    type: progressive\n    fre_failures: 10\n",
	  "t.yaml:4: policies[0].fre_failures: unknown key (did you mean free_failures?)" },
	{ "policies:\n  - name: a\n    type: events\n    limit: 10\n    window: 1m\n    warn_at: "
	  "1.2\n",
	  "t.yaml:6: policies[0].warn_at: \"1.2\" is out of range (0.001-1)" },
	{ "policies:\n  - name: a\n    type: events\n    limit: 10\n    window: 1m\n    warn_at: "
	  "80%\n",
	  "t.yaml:6: policies[0].warn_at: expected a fraction of the limit (e.g. 0.8), got "
	  "\"80%\"" },
	{ "policies:\n  - a\n",
	  "t.yaml:2: policies[0]: expected a policy (a mapping with name, type, ...), got \"a\"" },
	/* window */
	{ "policies:\n  - { name: a, type: window }\n",
	  "t.yaml:2: policies[0].limits: missing (e.g. [ { count: 10, per: 1s }, { count: 100, "
	  "per: 1m } ])" },
	{ "policies:\n  - name: a\n    type: window\n    limits: []\n",
	  "t.yaml:4: policies[0].limits: at least one { count: N, per: DURATION } is required" },
	{ "policies:\n  - name: a\n    type: window\n    limits:\n      - { count: 10 }\n",
	  "t.yaml:5: policies[0].limits[0].per: missing (a duration, e.g. 1s, 1m, 1h)" },
	{ "policies:\n  - name: a\n    type: window\n    limits:\n      - { count: 0, per: 1s }\n",
	  "t.yaml:5: policies[0].limits[0].count: 0 is out of range (1-1000000000)" },
	{ "policies:\n  - name: a\n    type: window\n    limits:\n      - { count: 1, per: 1.5s "
	  "}\n",
	  "t.yaml:5: policies[0].limits[0].per: \"1.5s\" is not a duration (e.g. 500ms, 30s, 5m, "
	  "1h30m, 1d)" },
	{ "policies:\n  - name: a\n    type: window\n    limits:\n      - { count: 1, per: 1s }\n"
	  "      - { count: 2, per: 1000ms }\n",
	  "t.yaml:6: policies[0].limits[1].per: policies[0].limits[0] has the same per already" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    roles: { OWNER: 0 }\n",
	  "t.yaml:5: policies[0].roles.OWNER: \"0\" is out of range (0.001-1000)" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    roles: { GUEST: 0.05 }\n",
	  "t.yaml:5: policies[0].roles.GUEST: 0.05 leaves limits[0] (10 per 1000ms) below one "
	  "request" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    roles: { OWNER: 1.2345 }\n",
	  "t.yaml:5: policies[0].roles.OWNER: \"1.2345\": at most 3 decimals" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    roles: { OWNER: 2, owner: 3 }\n",
	  "t.yaml:5: policies[0].roles.owner: the same role as OWNER" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    roles: { OWNER: \"2\" }\n",
	  "t.yaml:5: policies[0].roles.OWNER: expected a multiplier (e.g. 1, 1.5, 3), got \"2\"" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    block_for: 0s\n",
	  "t.yaml:5: policies[0].block_for: \"0s\" must be longer than 0" },
	{ "policies:\n  - name: a\n    type: window\n    limits: [ { count: 10, per: 1s } ]\n"
	  "    algorithm: fixed\n",
	  "t.yaml:5: policies[0].algorithm: expected sliding or gcra, got \"fixed\"" },
	{ "policies:\n  - name: a\n    type: window\n    algorithm: sliding\n"
	  "    limits: [ { count: 10, per: 1s }, { count: 5000, per: 1d } ]\n",
	  "t.yaml:4: policies[0].algorithm: sliding keeps one entry per request (16 bytes per key "
	  "each): limits[1] (5000 per 86400000ms) allows 5000, at most 1000; use algorithm: gcra "
	  "for it" },
	{ "policies:\n  - name: a\n    type: window\n    algorithm: sliding\n"
	  "    limits: [ { count: 500, per: 1h } ]\n    roles: { PRO: 2.5 }\n",
	  "t.yaml:4: policies[0].algorithm: sliding keeps one entry per request (16 bytes per key "
	  "each): limits[0] (500 per 3600000ms for role PRO) allows 1250, at most 1000; use "
	  "algorithm: gcra for it" },
	{ "policies:\n  - name: a\n    type: events\n    limit: 5\n    window: 1s\n"
	  "    algorithm: sliding\n",
	  "t.yaml:6: policies[0].algorithm: not a key of events policies (only of window)" },
	/* progressive */
	{ "policies:\n  - name: a\n    type: progressive\n    factor: 0.5\n",
	  "t.yaml:4: policies[0].factor: \"0.5\" is out of range (1-1000)" },
	{ "policies:\n  - name: a\n    type: progressive\n    base_delay: 1m\n",
	  "t.yaml:2: policies[0].max_delay: 30000ms is shorter than base_delay (60000ms)" },
	{ "policies:\n  - name: a\n    type: progressive\n    xdp_ban: { after: 5 }\n",
	  "t.yaml:4: policies[0].xdp_ban.for: missing (how long the ban lasts, e.g. 1h)" },
	{ "policies:\n  - name: a\n    type: progressive\n    xdp_ban: { after: 0, for: 1h }\n",
	  "t.yaml:4: policies[0].xdp_ban.after: 0 is out of range (1-1000000)" },
	/* max_keys: the policies' own bounds fit in the store's */
	{ "store: { max_keys: 100 }\npolicies:\n  - { name: a, type: progressive, max_keys: 60 }\n"
	  "  - { name: b, type: progressive, max_keys: 50 }\n",
	  "t.yaml:3: policies: the policies' max_keys add up to 110, more than store.max_keys "
	  "(100): "
	  "lower them or raise store.max_keys" },
	{ "policies:\n  - { name: a, type: progressive, max_keys: 0 }\n",
	  "t.yaml:2: policies[0].max_keys: 0 is out of range (1-100000000)" },
	{ "app_bans: { max: 40000 }\n", "t.yaml:1: app_bans.max: 40000 is out of range (0-32768)" },
	/* events */
	{ "policies:\n  - { name: a, type: events, window: 1m }\n",
	  "t.yaml:2: policies[0].limit: missing (events per window, e.g. 100)" },
	{ "policies:\n  - { name: a, type: events, limit: 5 }\n",
	  "t.yaml:2: policies[0].window: missing (a duration, e.g. 1m)" },
	{ "policies:\n  - name: a\n    type: events\n    limit: 5\n    window: 1m\n"
	  "    exempt: [ping, ping]\n",
	  "t.yaml:6: policies[0].exempt[1]: \"ping\" is listed twice" },
	{ "policies:\n  - { name: a, type: events, events: { offer: { per: 1m } } }\n",
	  "t.yaml:2: policies[0].events.offer.limit: missing (events of this type per window, "
	  "e.g. 10)" },
	{ "policies:\n  - { name: a, type: events, events: { offer: { limit: 3 } } }\n",
	  "t.yaml:2: policies[0].events.offer.per: missing (the window, a duration, e.g. 1m)" },
	{ "policies:\n  - { name: a, type: events, events: { offer: { limit: 3, per: 1m, "
	  "window: 1m } } }\n",
	  "t.yaml:2: policies[0].events.offer.window: unknown key" },
	{ "policies:\n  - { name: a, type: events, window: 1m, events: { o: { limit: 3, per: "
	  "1m } } }\n",
	  "t.yaml:2: policies[0].limit: missing (events per window of the types events: does not "
	  "name, e.g. 100; or leave out window: to refuse them)" },
	{ "policies:\n  - { name: a, type: events, exempt: [o], events: { o: { limit: 3, per: "
	  "1m } } }\n",
	  "t.yaml:2: policies[0].exempt: \"o\" is also under events: an exempt event is not "
	  "counted; list it in one of them" },
	{ "policies:\n  - { name: a, type: events, events: { \"*\": { limit: 3, per: 1m } } }\n",
	  "t.yaml:2: policies[0].events: \"*\" is what replies call the policy's own limit: use "
	  "limit: and window: for the events not named here" },
	{ "policies:\n  - { name: a, type: events, events: [offer] }\n",
	  "t.yaml:2: policies[0].events: expected a mapping (key: value), got a list" },
	{ "policies:\n  - { name: a, type: events, events: { a: { limit: 1, per: 1s }, b: { "
	  "limit: 1, per: 1s }, c: { limit: 1, per: 1s }, d: { limit: 1, per: 1s }, e: { limit: "
	  "1, per: 1s }, f: { limit: 1, per: 1s }, g: { limit: 1, per: 1s }, h: { limit: 1, per: "
	  "1s }, i: { limit: 1, per: 1s }, j: { limit: 1, per: 1s }, k: { limit: 1, per: 1s }, l: "
	  "{ limit: 1, per: 1s }, m: { limit: 1, per: 1s }, n: { limit: 1, per: 1s }, o: { limit: "
	  "1, per: 1s }, p: { limit: 1, per: 1s }, q: { limit: 1, per: 1s } } }\n",
	  "t.yaml:2: policies[0].events: more than 16 event types (each has a counter in every "
	  "connection's state): share a limit: among the others" },
	{ "policies:\n  - { name: a, type: events, events: { o: { limit: 1, per: 1s }, o: { "
	  "limit: 2, per: 1s } } }\n",
	  "t.yaml:2: policies[0].events.o: \"o\" is listed twice" },
	/* budget */
	{ "policies:\n  - { name: a, type: budget }\n",
	  "t.yaml:2: policies[0].amount: missing (the amount per period, e.g. 500000)" },
	{ "policies:\n  - { name: a, type: budget, amount: 5, period: week }\n",
	  "t.yaml:2: policies[0].period: expected hour or day, got \"week\"" },
	{ "policies:\n  - name: a\n    type: budget\n    amount: 5\n    roles: { OWNER: 1.5 }\n",
	  "t.yaml:5: policies[0].roles.OWNER: expected an integer, got \"1.5\"" },
	{ "policies:\n  - name: a\n    type: budget\n    amount: 5\n    block_for: 1m\n",
	  "t.yaml:5: policies[0].block_for: not a key of budget policies (only of window)" },
	/* budget: timezone (issue 12 item 9) */
	{ "policies:\n  - name: a\n    type: budget\n    amount: 5\n    timezone: Europe/Berln\n",
	  "t.yaml:5: policies[0].timezone: \"Europe/Berln\" is not a time zone (an IANA name like "
	  "Europe/Berlin, or an offset like +05:30)" },
	{ "policies:\n  - { name: a, type: budget, amount: 5, timezone: \"+25:00\" }\n",
	  "t.yaml:2: policies[0].timezone: \"+25:00\" is not a time zone (an IANA name like "
	  "Europe/Berlin, or an offset like +05:30)" },
	{ "policies:\n  - { name: a, type: budget, amount: 5, timezone: ../../etc/passwd }\n",
	  "t.yaml:2: policies[0].timezone: \"../../etc/passwd\" is not a time zone (an IANA name "
	  "like Europe/Berlin, or an offset like +05:30)" },
	{ "policies:\n  - { name: a, type: budget, amount: 5, timezone: [Europe/Berlin] }\n",
	  "t.yaml:2: policies[0].timezone: expected a time zone (an IANA name like Europe/Berlin, "
	  "or an offset like +05:30), got a list" },
	{ "policies:\n  - { name: a, type: window, limits: [ { count: 1, per: 1s } ],\n"
	  "      timezone: UTC }\n",
	  "t.yaml:3: policies[0].timezone: not a key of window policies (only of budget)" },
};

START_TEST(test_bad_policies)
{
	int ret = parse(bad_pol[_i].yaml);

	ck_assert_msg(ret == -EINVAL, "accepted (%d):\n%s", ret, bad_pol[_i].yaml);
	ck_assert_str_eq(err, bad_pol[_i].msg);
	ck_assert_ptr_null(conf.policies);
	ck_assert_int_eq(conf.npolicies, 0);
}
END_TEST

START_TEST(test_bad_policy_file)
{
	ck_assert_int_eq(config_load("tests/unit/configs/bad-policy.yaml", &conf, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "tests/unit/configs/bad-policy.yaml:12: policies[1].roles.WRITER: "
			      "expected a multiplier (e.g. 1, 1.5, 3), got \"lots\"");
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
	tcase_add_test(good, test_policies_event_types);
	tcase_add_test(good, test_example);
	tcase_add_test(good, test_packaging);
	tcase_add_test(good, test_empty);
	tcase_add_test(good, test_app_only);
	tcase_add_test(good, test_mapped_entry);
	tcase_add_test(good, test_vouch);
	tcase_add_test(good, test_defaults_per_proto);
	tcase_add_test(good, test_values);
	tcase_add_test(good, test_same_port_two_protos);
	tcase_add_test(good, test_syn_cookies);
	tcase_add_test(good, test_socket_store_defaults);
	tcase_add_test(good, test_socket_store_values);
	tcase_add_test(good, test_store_redis);
	tcase_add_test(good, test_metrics);
	tcase_add_test(good, test_log);
	tcase_add_test(good, test_policies_values);
	suite_add_tcase(s, good);

	tcase_add_checked_fixture(bads, NULL, teardown);
	tcase_add_loop_test(bads, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(bads, test_bad_port_file);
	tcase_add_test(bads, test_syntax_error_file);
	tcase_add_test(bads, test_missing_file);
	tcase_add_test(bads, test_error_after_lists);
	tcase_add_test(bads, test_too_many_rules);
	tcase_add_test(bads, test_err_null);
	tcase_add_loop_test(bads, test_bad_policies, 0, sizeof(bad_pol) / sizeof(bad_pol[0]));
	tcase_add_test(bads, test_bad_policy_file);
	tcase_add_test(bads, test_fifo_refused);
	tcase_add_test(bads, test_device_refused);
	tcase_add_test(bads, test_size_refused);
	tcase_add_test(bads, test_deep_nesting_refused);
	tcase_add_test(bads, test_aliases_refused);
	tcase_add_test(bads, test_values_refused);
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
