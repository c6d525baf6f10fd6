// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* banguard: who may cause app bans, which addresses never, how many; against
 * real (small) BPF tries when the test may create maps, else those skip. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <check.h>

#include "banguard.h"
#include "banmaps.h"
#include "config.h"
#include "hostaddr.h"

#define NS 1000000000ULL

static struct fg_cidr addr(const char *s)
{
	struct fg_cidr c;

	ck_assert_msg(!cidr_parse(s, &c), "parse %s", s);
	return c;
}

static const struct {
	const char *a;
	bool special;
} specials[] = {
	{ "0.0.0.0", true },
	{ "0.1.2.3", true },
	{ "255.255.255.255", true },
	{ "127.0.0.1", true },
	{ "224.0.0.1", true },
	{ "239.255.255.250", true },
	{ "240.0.0.1", true },
	{ "::", true },
	{ "::1", true },
	{ "ff02::1", true },
	{ "::ffff:0.0.0.0", true },
	{ "::ffff:255.255.255.255", true },
	{ "::ffff:127.0.0.1", true },
	/* link-local: the program never bans them (stop 35), nor may anyone */
	{ "169.254.169.254", true },
	{ "fe80::1", true },
	{ "febf::1", true },
	{ "fec0::1", false },
	{ "192.0.2.1", false },
	{ "203.0.113.7", false },
	{ "2001:db8::1", false },
	{ "::ffff:198.51.100.7", false },
};

START_TEST(test_special)
{
	struct fg_cidr c = addr(specials[_i].a);

	ck_assert_msg(banguard_address_special(&c) == specials[_i].special, "%s: expected %d",
		      specials[_i].a, specials[_i].special);
}
END_TEST

static void conf_init(struct fg_conf *c)
{
	config_defaults(c);
	c->socket.admin_uids[1] = 500;
	c->socket.nadmin_uids = 2;
	c->socket.admin_gids[0] = 501;
	c->socket.nadmin_gids = 1;
	c->app_bans.peer_uids[0] = 1000;
	c->app_bans.npeer_uids = 1;
	c->app_bans.peer_gids[0] = 2000;
	c->app_bans.npeer_gids = 1;
}

START_TEST(test_peers)
{
	struct fg_conf conf;
	struct banguard *g;
	uint32_t groups[] = { 7, 2000 }, admin_groups[] = { 501 };

	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_ptr_nonnull(g);
#define MAY(u_, g_, grp_, n_)                                                                      \
	banguard_peer_may_ban(                                                                     \
		g, &(struct banguard_peer){                                                        \
			   .uid = (u_), .gid = (g_), .groups = (grp_), .ngroups = (n_) })
	ck_assert(MAY(0, 0, NULL, 0));		   /* root */
	ck_assert(MAY(500, 500, NULL, 0));	   /* admin uid */
	ck_assert(MAY(600, 600, admin_groups, 1)); /* admin gid (supplementary) */
	ck_assert(MAY(1000, 1000, NULL, 0));	   /* app_bans.peer_uids */
	ck_assert(MAY(1001, 2000, NULL, 0));	   /* app_bans.peer_gids, primary */
	ck_assert(MAY(1002, 1002, groups, 2));	   /* app_bans.peer_gids, supplementary */
	ck_assert(!MAY(65534, 65534, NULL, 0));	   /* nobody */
	ck_assert(!MAY(1003, 1003, groups, 1));
	ck_assert(!MAY((uint32_t)-1, (uint32_t)-1, NULL, 0)); /* unknown credentials */
#undef MAY
	banguard_free(g);
}
END_TEST

START_TEST(test_local_from_interfaces)
{
	struct fg_conf conf;
	struct banguard *g;
	struct fg_cidr lo = addr("::1"), v4 = addr("127.0.0.1"), doc = addr("203.0.113.77");

	config_defaults(&conf);
	g = banguard_new(&conf);
	ck_assert_ptr_nonnull(g);
	/* Every namespace has lo: getifaddrs() sees its addresses. */
	ck_assert(banguard_address_local(g, &v4, 1));
	ck_assert(banguard_address_local(g, &lo, 1) || access("/proc/net/if_inet6", F_OK));
	ck_assert(!banguard_address_local(g, &doc, 1));
	banguard_free(g);
}
END_TEST

/* An operator's ban or deny entry that would cut the host off (stop 34's
 * trial: `floodctl ban 0.0.0.0/0` was accepted) is refused, saying what it
 * holds; anything beside the host's addresses goes through. */
START_TEST(test_operator_cuts_off_host)
{
	const struct fg_cidr own[] = { addr("192.0.2.1"), addr("2001:db8:1::1") };
	static const struct {
		const char *c;
		bool refused;
		const char *why;
	} cases[] = {
		{ "0.0.0.0/0", true, "refusing to ban 0.0.0.0/0: it holds every address" },
		{ "::/0", true, "refusing to ban ::/0: it holds every address" },
		{ "::ffff:0.0.0.0/96", true, "refusing to ban 0.0.0.0/0: it holds every address" },
		{ "192.0.2.0/24", true,
		  "refusing to ban 192.0.2.0/24: it holds 192.0.2.1, an address of this host" },
		{ "128.0.0.0/1", true, "holds 192.0.2.1" },
		{ "192.0.2.1", true, "refusing to ban 192.0.2.1: it is an address of this host" },
		{ "::ffff:192.0.2.1", true, "refusing to ban 192.0.2.1: it is an address" },
		{ "2001:db8::/32", true, "holds 2001:db8:1::1, an address of this host" },
		{ "192.0.2.128/25", false, NULL },
		{ "203.0.113.0/24", false, NULL },
		{ "0.0.0.0/1", false, NULL },
		{ "2001:db8:2::/48", false, NULL },
	};
	struct fg_cidr held;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_cidr c = addr(cases[i].c);

		ck_assert_msg(hostaddr_cuts_off(&c, own, 2, &held) == cases[i].refused, "%s",
			      cases[i].c);
		if (!cases[i].refused)
			continue;
		hostaddr_refusal(&c, &held, "ban", why, sizeof(why));
		ck_assert_msg(strstr(why, cases[i].why), "%s: %s", cases[i].c, why);
	}
	/* A host without addresses still keeps /0 out. */
	ck_assert(hostaddr_cuts_off(&(struct fg_cidr){ .family = FG_AF_INET }, NULL, 0, &held));
}
END_TEST

/* Real tries when the test may create maps (root or CAP_BPF). */
static struct xdpmaps maps;
static bool have_maps;

static void maps_setup(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	memset(&maps, 0xff, sizeof(maps));
	have_maps = banmaps_open(&maps, 8);
	maps.allow = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_allow", sizeof(struct fg_lpm_key),
				    sizeof(__u32), 8, &o);
	have_maps = have_maps && maps.allow >= 0;
	if (!have_maps)
		fprintf(stderr, "check_banguard: cannot create BPF maps (%s): map tests skipped\n",
			strerror(errno));
}

static void maps_teardown(void)
{
	banmaps_close(&maps);
	if (maps.allow >= 0)
		close(maps.allow);
}

static bool banned(const char *s)
{
	struct fg_cidr c = addr(s);
	struct fg_ban b;

	return !xdpmaps_ban_get(&maps, &c, &b);
}

static long nbans(void)
{
	return banmaps_count(&maps);
}

static enum banguard_result app_ban(struct banguard *g, uint32_t uid, bool may, const char *s,
				    uint64_t secs, uint64_t now)
{
	struct fg_cidr c = addr(s);
	enum banguard_result r = BANGUARD_RESULT_MAX;

	banguard_app_ban(g, &maps, uid, may, &c, secs, now, &r);
	return r;
}

/* The attack of issue 10: a socket peer asks for bans of the host itself,
 * the unspecified and broadcast addresses, an allow-listed one. */
START_TEST(test_refused)
{
	struct fg_cidr own = addr("192.0.2.1"), allow = addr("198.51.100.0/24");
	struct fg_lpm_key k;
	struct banguard_stats st;
	struct fg_conf conf;
	struct banguard *g;
	__u32 fam = FG_AF_INET;

	if (!have_maps)
		return;
	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_int_eq(banguard_set_local(g, &own, 1), 0);
	cidr_to_lpm(&allow, &k);
	ck_assert_int_eq(bpf_map_update_elem(maps.allow, &k, &fam, BPF_ANY), 0);

	ck_assert_int_eq(app_ban(g, 65534, false, "203.0.113.7", 3600, NS), BANGUARD_REFUSED_PEER);
	ck_assert_int_eq(app_ban(g, 0, true, "192.0.2.1", 3600, NS), BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(app_ban(g, 0, true, "::ffff:192.0.2.1", 3600, NS),
			 BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(app_ban(g, 0, true, "0.0.0.0", 3600, NS), BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(app_ban(g, 0, true, "255.255.255.255", 3600, NS),
			 BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(app_ban(g, 0, true, "::", 3600, NS), BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(app_ban(g, 0, true, "198.51.100.7", 3600, NS), BANGUARD_REFUSED_ADDRESS);
	ck_assert_int_eq(nbans(), 0);
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.7", 3600, NS), BANGUARD_BANNED);
	ck_assert(banned("203.0.113.7"));
	banguard_stats(g, &st);
	ck_assert_uint_eq(st.results[BANGUARD_REFUSED_PEER], 1);
	ck_assert_uint_eq(st.results[BANGUARD_REFUSED_ADDRESS], 6);
	ck_assert_uint_eq(st.results[BANGUARD_BANNED], 1);
	ck_assert_uint_eq(st.app_bans, 1);
	banguard_free(g);
}
END_TEST

START_TEST(test_quota)
{
	struct fg_conf conf;
	struct banguard *g;

	if (!have_maps)
		return;
	conf_init(&conf);
	conf.app_bans.max = 4;
	conf.app_bans.per_peer = 2;
	g = banguard_new(&conf);
	ck_assert_int_eq(banguard_set_local(g, NULL, 0), 0);
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.1", 10, NS), BANGUARD_BANNED);
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.2", 10, NS), BANGUARD_BANNED);
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.3", 10, NS), BANGUARD_QUOTA);
	/* Banning an address it banned already is no new ban. */
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.2", 10, NS), BANGUARD_BANNED);
	ck_assert_int_eq(app_ban(g, 1001, true, "203.0.113.3", 10, NS), BANGUARD_BANNED);
	ck_assert_int_eq(app_ban(g, 1001, true, "203.0.113.4", 10, NS), BANGUARD_BANNED);
	ck_assert_int_eq(app_ban(g, 1002, true, "203.0.113.5", 10, NS), BANGUARD_QUOTA);
	ck_assert_int_eq(nbans(), 4);
	ck_assert(!banned("203.0.113.5"));
	/* Expired bans give their room back: 10 s bans from t=1 s are over at 12 s. */
	ck_assert_int_eq(app_ban(g, 1002, true, "203.0.113.5", 10, 12 * NS), BANGUARD_BANNED);
	banguard_free(g);
}
END_TEST

/* A full ban map: an operator's ban evicts the oldest app ban, never an
 * operator's or the program's. */
/* Spoofed sources filled the map with the program's own bans (stop 35's
 * trial: 131,072 auto bans, then "cannot ban: No space left on device"): an
 * operator's ban takes the place of the one that ends first. */
START_TEST(test_operator_evicts_soonest_auto_ban)
{
	struct fg_cidr c;
	struct fg_conf conf;
	struct banguard *g;
	char a[32];
	int i;

	if (!have_maps)
		return;
	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_int_eq(banguard_set_local(g, NULL, 0), 0);
	/* 8 auto bans (the map's size); 203.0.113.5 ends first. */
	for (i = 1; i <= 8; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		c = addr(a);
		ck_assert_int_eq(xdpmaps_ban(&maps, &c, i == 5 ? 30 : 300 + i, FG_BAN_AUTO), 0);
	}
	c = addr("198.51.100.9");
	/* Not for a fleet ban: another host does not get to drop this one's. */
	ck_assert_int_eq(banguard_ban(g, &maps, &c, 60, FG_BAN_FLEET, NS), -ENOSPC);
	ck_assert_int_eq(banguard_ban(g, &maps, &c, 60, FG_BAN_MANUAL, NS), 0);
	ck_assert(banned("198.51.100.9"));
	ck_assert(!banned("203.0.113.5"));
	for (i = 1; i <= 8; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		ck_assert_msg(i == 5 || banned(a), "%s", a);
	}
	/* A manual ban is never evicted for another. */
	for (i = 1; i <= 8; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		c = addr(a);
		if (i != 5)
			ck_assert_int_eq(xdpmaps_ban(&maps, &c, 60, FG_BAN_MANUAL), 0);
	}
	c = addr("198.51.100.10");
	ck_assert_int_eq(banguard_ban(g, &maps, &c, 60, FG_BAN_MANUAL, NS), -ENOSPC);
	banguard_free(g);
}
END_TEST

START_TEST(test_operator_evicts_oldest_app_ban)
{
	struct banguard_stats st;
	struct fg_conf conf;
	struct banguard *g;
	char a[32];
	int i;

	if (!have_maps)
		return;
	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_int_eq(banguard_set_local(g, NULL, 0), 0);
	for (i = 1; i <= 4; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		ck_assert_int_eq(app_ban(g, 1000, true, a, 3600, NS), BANGUARD_BANNED);
	}
	/* The oldest app ban was overwritten by the program's own ban: not an app ban now. */
	{
		struct fg_cidr c = addr("203.0.113.1");

		ck_assert_int_eq(xdpmaps_ban(&maps, &c, 60, FG_BAN_AUTO), 0);
	}
	for (i = 1; i <= 4; i++) {
		struct fg_cidr c;

		snprintf(a, sizeof(a), "198.51.100.%d", i);
		c = addr(a);
		ck_assert_int_eq(banguard_ban(g, &maps, &c, 60, FG_BAN_MANUAL, NS), 0);
	}
	ck_assert_int_eq(nbans(), 8);
	{
		struct fg_cidr c = addr("198.51.100.9");

		ck_assert_int_eq(banguard_ban(g, &maps, &c, 60, FG_BAN_MANUAL, NS), 0);
	}
	ck_assert(banned("198.51.100.9"));
	ck_assert(banned("203.0.113.1"));  /* the program's ban stays */
	ck_assert(!banned("203.0.113.2")); /* the oldest real app ban went */
	ck_assert(banned("203.0.113.3"));
	banguard_stats(g, &st);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert_uint_eq(st.app_bans, 2);
	banguard_free(g);
}
END_TEST

/* An app ban never shortens a stronger ban (a permanent manual one). */
START_TEST(test_app_ban_keeps_stronger_ban)
{
	struct fg_cidr c = addr("203.0.113.8");
	struct fg_conf conf;
	struct banguard *g;
	struct fg_ban b;

	if (!have_maps)
		return;
	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_int_eq(banguard_set_local(g, NULL, 0), 0);
	ck_assert_int_eq(banguard_ban(g, &maps, &c, 0, FG_BAN_MANUAL, NS), 0);
	ck_assert_int_eq(app_ban(g, 1000, true, "203.0.113.8", 3600, NS), BANGUARD_BANNED);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &c, &b), 0);
	ck_assert_uint_eq(b.origin, FG_BAN_MANUAL);
	ck_assert_uint_eq(b.expires_ns, 0);
	banguard_free(g);
}
END_TEST

/* App-only mode has no ban map: every app ban, from whoever, is counted as
 * no_xdp and nothing else (no quota used, no refusal counted). */
START_TEST(test_app_only_no_map)
{
	struct fg_cidr c = addr("198.51.100.7");
	struct banguard_stats st;
	enum banguard_result r = BANGUARD_BANNED;
	struct fg_conf conf;
	struct banguard *g;

	conf_init(&conf);
	g = banguard_new(&conf);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(banguard_app_ban(g, NULL, 0, true, &c, 60, 1, &r), -EOPNOTSUPP);
	ck_assert_int_eq(r, BANGUARD_NO_XDP);
	ck_assert_int_eq(banguard_app_ban(g, NULL, 65534, false, &c, 60, 2, &r), -EOPNOTSUPP);
	ck_assert_int_eq(r, BANGUARD_NO_XDP);
	ck_assert(!banguard_address_refused(g, NULL, &c, 3));
	banguard_stats(g, &st);
	ck_assert_uint_eq(st.results[BANGUARD_NO_XDP], 2);
	ck_assert_uint_eq(st.results[BANGUARD_BANNED], 0);
	ck_assert_uint_eq(st.results[BANGUARD_REFUSED_PEER], 0);
	ck_assert_uint_eq(st.app_bans, 0);
	ck_assert_str_eq(banguard_result_name(BANGUARD_NO_XDP), "no_xdp");
	banguard_free(g);
}
END_TEST

static Suite *banguard_suite(void)
{
	Suite *s = suite_create("banguard");
	TCase *tc = tcase_create("banguard");

	tcase_add_checked_fixture(tc, maps_setup, maps_teardown);
	tcase_add_loop_test(tc, test_special, 0, sizeof(specials) / sizeof(specials[0]));
	tcase_add_test(tc, test_peers);
	tcase_add_test(tc, test_local_from_interfaces);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_operator_cuts_off_host);
	tcase_add_test(tc, test_quota);
	tcase_add_test(tc, test_operator_evicts_oldest_app_ban);
	tcase_add_test(tc, test_operator_evicts_soonest_auto_ban);
	tcase_add_test(tc, test_app_ban_keeps_stronger_ban);
	tcase_add_test(tc, test_app_only_no_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(banguard_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
