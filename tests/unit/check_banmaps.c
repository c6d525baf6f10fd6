// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xdpmaps' ban API on real (small) maps: addresses into the bans_addr hash,
 * prefixes into the bans trie, the HAS_BAN_PREFIX flag true to the trie,
 * lookups as the program decides. Skipped without the right to create maps. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "banmaps.h"
#include "cidr.h"
#include "xdpmaps.h"

#define NS 1000000000ULL

static struct xdpmaps maps;
static bool have_maps;

static struct fg_cidr C(const char *s) {
	struct fg_cidr c;

	ck_assert_msg(!cidr_parse(s, &c), "parse %s", s);
	return c;
}

static void
setup(void)
{
	memset(&maps, 0xff, sizeof(maps));
	have_maps = banmaps_open(&maps, 4);
	if (!have_maps)
		fprintf(stderr, "check_banmaps: cannot create BPF maps (%s): tests skipped\n",
			strerror(errno));
}

static void teardown(void)
{
	banmaps_close(&maps);
}

static bool prefix_flag(void)
{
	struct fg_config cfg;

	ck_assert_int_eq(xdpmaps_settings(&maps, &cfg), 0);
	return cfg.flags & FG_CFG_F_HAS_BAN_PREFIX;
}

static long in_hash(void)
{
	return xdpmaps_count(maps.bans_addr, sizeof(struct fg_ban_key));
}

static long in_trie(void)
{
	return xdpmaps_count(maps.bans, sizeof(struct fg_lpm_key));
}

static long in_pfx(void)
{
	return xdpmaps_count(maps.bans_pfx, sizeof(struct fg_ban_pfx_key));
}

/* The prefix lengths the settings list for family index fi (0 IPv4, 1
 * IPv6), LPM lengths longest first: "120,112". */
static const char *lengths(int fi)
{
	static char buf[64];
	struct fg_config cfg;
	size_t at = 0;
	int i;

	ck_assert_int_eq(xdpmaps_settings(&maps, &cfg), 0);
	buf[0] = 0;
	for (i = 0; i < cfg.ban_nplens[fi]; i++)
		at += snprintf(buf + at, sizeof(buf) - at, "%s%u", i ? "," : "", cfg.ban_plens[fi][i]);
	return buf;
}

static int ban(const char *s, uint64_t secs)
{
	struct fg_cidr c = C(s);

	return xdpmaps_ban(&maps, &c, secs, FG_BAN_MANUAL);
}

static int unban(const char *s)
{
	struct fg_cidr c = C(s);

	return xdpmaps_unban(&maps, &c);
}

/* Written with an expiry in the past, as a ban the sweep has not reached. */
static void ban_expired(const char *s)
{
	struct fg_cidr c = C(s);
	struct fg_ban b = { .expires_ns = 1, .origin = FG_BAN_APP };

	ck_assert_int_eq(xdpmaps_ban_set(&maps, &c, &b), 0);
}

START_TEST(test_dispatch)
{
	if (!have_maps)
		return;
	ck_assert_int_eq(ban("192.0.2.1", 60), 0);
	ck_assert_int_eq(ban("2001:db8::1", 0), 0);
	ck_assert_int_eq(in_hash(), 2);
	ck_assert_int_eq(in_trie(), 0);
	ck_assert(!prefix_flag());
	ck_assert_str_eq(lengths(0), "");
	ck_assert_int_eq(ban("198.51.100.0/24", 60), 0);
	ck_assert_int_eq(ban("2001:db8:f00::/48", 60), 0);
	ck_assert_int_eq(ban("198.51.0.0/16", 60), 0);
	ck_assert_int_eq(in_hash(), 2);
	ck_assert_int_eq(in_pfx(), 3);
	ck_assert_int_eq(in_trie(), 0);
	ck_assert(!prefix_flag());
	ck_assert_str_eq(lengths(0), "120,112");
	ck_assert_str_eq(lengths(1), "48");
	/* A length leaves the list with its last prefix; addresses do not
	 * matter. */
	ck_assert_int_eq(unban("198.51.100.0/24"), 0);
	ck_assert_str_eq(lengths(0), "112");
	ck_assert_int_eq(unban("2001:db8:f00::/48"), 0);
	ck_assert_str_eq(lengths(1), "");
	ck_assert_int_eq(unban("2001:db8:f00::/48"), -ENOENT);
	ck_assert_int_eq(unban("198.51.0.0/16"), 0);
	ck_assert_str_eq(lengths(0), "");
	ck_assert_int_eq(unban("192.0.2.1"), 0);
	ck_assert_int_eq(unban("192.0.2.1"), -ENOENT);
	ck_assert_int_eq(in_hash(), 1);
}
END_TEST

/* The mapped spelling is the IPv4 address (one key); ::a.b.c.d is not. */
START_TEST(test_mapped_spelling)
{
	struct fg_cidr v4 = C("192.0.2.7"), compat = C("::192.0.2.7");
	struct fg_ban b;

	if (!have_maps)
		return;
	ck_assert_int_eq(ban("::ffff:192.0.2.7", 60), 0);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &v4, &b), 0);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &compat, &b), -ENOENT);
	ck_assert_int_eq(xdpmaps_banned(&maps, &compat, NS, &b), -ENOENT);
	ck_assert_int_eq(in_hash(), 1);
}
END_TEST

/* banned(): the address's own ban if it holds, else the prefix holding it;
 * ban_get(): the entry itself, expired or not. */
START_TEST(test_banned_as_the_program)
{
	struct fg_cidr a = C("203.0.113.5"), other = C("203.0.113.6"), out = C("192.0.2.5");
	uint64_t now = xdpmaps_now_ns();
	struct fg_ban b;

	if (!have_maps)
		return;
	ban_expired("203.0.113.5");
	ck_assert_int_eq(xdpmaps_banned(&maps, &a, now, &b), -ENOENT);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &a, &b), 0);
	ck_assert_uint_eq(b.origin, FG_BAN_APP);
	ck_assert_int_eq(ban("203.0.113.0/24", 0), 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &a, now, &b), 0);
	ck_assert_uint_eq(b.origin, FG_BAN_MANUAL);
	ck_assert_uint_eq(b.expires_ns, 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &other, now, &b), 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &out, now, &b), -ENOENT);
	/* A live address ban wins over the prefix holding it. */
	ck_assert_int_eq(ban("203.0.113.5", 60), 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &a, now, &b), 0);
	ck_assert_uint_ne(b.expires_ns, 0);
}
END_TEST

struct seen {
	int n, addrs, stop_at;
	char first[FG_CIDR_STRLEN];
};

static int visit(const struct fg_cidr *c, const struct fg_ban *b, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->origin, FG_BAN_MANUAL);
	if (!s->n)
		cidr_format(c, s->first, sizeof(s->first));
	s->addrs += cidr_is_address(c);
	return ++s->n == s->stop_at ? 7 : 0;
}

START_TEST(test_each_visits_both)
{
	struct seen s = { 0 };

	if (!have_maps)
		return;
	ck_assert_int_eq(ban("192.0.2.1", 60), 0);
	ck_assert_int_eq(ban("2001:db8::1", 60), 0);
	ck_assert_int_eq(ban("198.51.100.0/24", 60), 0);
	ck_assert_int_eq(xdpmaps_bans_each(&maps, visit, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.addrs, 2);
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	ck_assert_int_eq(xdpmaps_bans_each(&maps, visit, &s), 7);
	ck_assert_int_eq(s.n, 1);
	ck_assert_msg(strcmp(s.first, "198.51.100.0/24"), "prefixes come after addresses");
}
END_TEST

START_TEST(test_sweep)
{
	if (!have_maps)
		return;
	ban_expired("192.0.2.1");
	ck_assert_int_eq(ban("192.0.2.2", 60), 0);
	ban_expired("198.51.100.0/24");
	ck_assert_int_eq(ban("198.51.0.0/16", 60), 0);
	ck_assert_str_eq(lengths(0), "120,112");
	ck_assert_int_eq(xdpmaps_sweep_bans(&maps, xdpmaps_now_ns()), 2);
	ck_assert_int_eq(in_hash(), 1);
	ck_assert_int_eq(in_pfx(), 1);
	ck_assert_str_eq(lengths(0), "112");
	ck_assert_int_eq(xdpmaps_sweep_bans(&maps, xdpmaps_now_ns()), 0);
}
END_TEST

/* A sweep reads the hashes in batches of 1024: more entries than a batch,
 * more expired ones than a sweep deletes (256: the next sweep takes the
 * rest), and a live ban written without its ban filter count (by hand) is
 * counted, wherever it lies in the walk. */
START_TEST(test_sweep_batches)
{
	struct fg_ban forever = { .origin = FG_BAN_MANUAL };
	struct fg_ban_key hand = { .addr = { htonl(0x20010db8), 0, htonl(0xffff), htonl(1) } };
	char s[64];
	int i;

	if (!have_maps)
		return;
	banmaps_close(&maps);
	have_maps = banmaps_open(&maps, 4096);
	ck_assert(have_maps);
	for (i = 0; i < 1500; i++) {
		snprintf(s, sizeof(s), "2001:db8::1:%x", i);
		ck_assert_int_eq(ban(s, 60), 0);
	}
	for (i = 0; i < 300; i++) {
		snprintf(s, sizeof(s), "2001:db8::2:%x", i);
		ban_expired(s);
	}
	ck_assert_int_eq(bpf_map_update_elem(maps.bans_addr, &hand, &forever, BPF_NOEXIST), 0);
	ck_assert_int_eq(in_hash(), 1801);
	ck_assert_int_eq(xdpmaps_sweep_bans(&maps, xdpmaps_now_ns()), 256);
	ck_assert_int_eq(xdpmaps_sweep_bans(&maps, xdpmaps_now_ns()), 44);
	ck_assert_int_eq(xdpmaps_sweep_bans(&maps, xdpmaps_now_ns()), 0);
	ck_assert_int_eq(in_hash(), 1501);
	ck_assert_uint_ne(maps.ban_slots[fg_ban_slot(hand.addr)], 0);
}
END_TEST

/* A new filter over adopted bans (an upgrade that replaced the filter):
 * the recount gives every slot exactly its entries, whatever it held. */
START_TEST(test_filter_recount)
{
	struct fg_ban forever = { .origin = FG_BAN_MANUAL };
	struct fg_ban_key hand = { .addr = { htonl(0x20010db8), 0, 0, htonl(0x77) } };
	uint64_t sum = 0;
	__u32 i;

	if (!have_maps)
		return;
	ck_assert_int_eq(ban("192.0.2.1", 60), 0);
	ck_assert_int_eq(ban("2001:db8::1", 0), 0);
	ck_assert_int_eq(bpf_map_update_elem(maps.bans_addr, &hand, &forever, BPF_NOEXIST), 0);
	ck_assert_int_eq(in_hash(), 3);
	for (i = 0; i < FG_BAN_FILTER_SLOTS; i++)
		maps.ban_slots[i] = i % 3 ? 0 : 5; /* what a fresh or stale filter may hold */
	ck_assert_int_eq(xdpmaps_ban_filter_recount(&maps), 0);
	for (i = 0; i < FG_BAN_FILTER_SLOTS; i++)
		sum += maps.ban_slots[i];
	ck_assert_uint_eq(sum, 3);
	ck_assert_uint_ne(maps.ban_slots[fg_ban_slot(hand.addr)], 0);
}
END_TEST

/* Each map is full on its own, and says so as ENOSPC. */
START_TEST(test_full)
{
	char s[64];
	int i;

	if (!have_maps)
		return;
	for (i = 0; i < 4; i++) {
		snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
		ck_assert_int_eq(ban(s, 60), 0);
	}
	ck_assert_int_eq(ban("192.0.2.99", 60), -ENOSPC);
	ck_assert_int_eq(ban("192.0.2.1", 120), 0); /* an existing one is updated */
	ck_assert_int_eq(ban("198.51.100.0/24", 60), 0);
}
END_TEST

/* A full prefix hash: the next prefix goes to the trie (the program walks
 * it), so the ban still holds; get, banned, each and unban find it. */
START_TEST(test_pfx_full_falls_back)
{
	struct fg_cidr c = C("203.0.113.0/24"), a = C("203.0.113.1");
	struct seen s = { 0 };
	struct fg_ban b;
	char p[64];
	int i;

	if (!have_maps)
		return;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "198.51.%d.0/24", i);
		ck_assert_int_eq(ban(p, 60), 0);
	}
	ck_assert(!prefix_flag());
	ck_assert_int_eq(ban("203.0.113.0/24", 60), 0);
	ck_assert_int_eq(in_pfx(), 4);
	ck_assert_int_eq(in_trie(), 1);
	ck_assert(prefix_flag());
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &c, &b), 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &a, xdpmaps_now_ns(), &b), 0);
	ck_assert_int_eq(xdpmaps_bans_each(&maps, visit, &s), 0);
	ck_assert_int_eq(s.n, 5);
	ck_assert_int_eq(unban("203.0.113.0/24"), 0);
	ck_assert(!prefix_flag());
	ck_assert_str_eq(lengths(0), "120");
}
END_TEST

/* Past FG_BAN_PLENS IPv6 lengths the family's prefixes move to the trie,
 * which has no family: one over ::ffff:0:0/96 (::/0) would ban IPv4 there,
 * so it is refused in the trie and keeps the family hashed; IPv4 stays
 * hashed; the family is hashed again once the trie empties. */
START_TEST(test_family_to_trie)
{
	struct fg_cidr v4 = C("192.0.2.1"), v6 = C("2001:db8::1");
	struct fg_ban b;
	char p[64];
	int len;

	if (!have_maps)
		return;
	banmaps_close(&maps);
	have_maps = banmaps_open(&maps, 64);
	ck_assert(have_maps);
	ck_assert_int_eq(ban("198.51.100.0/24", 60), 0);
	for (len = 40; len < 40 + FG_BAN_PLENS - 1; len++) {
		snprintf(p, sizeof(p), "2001:db8::/%d", len);
		ck_assert_int_eq(ban(p, 60), 0);
	}
	ck_assert_int_eq(ban("::/0", 60), 0); /* the 8th length, hashed */
	ck_assert_int_eq(ban("2001:db8:1::/112", 60), -ENOSPC); /* ::/0 cannot move */
	ck_assert_int_eq(unban("::/0"), 0);
	ck_assert_int_eq(ban("2001:db8:2::/100", 60), 0);
	ck_assert_int_eq(ban("2001:db8:1::/112", 60), 0); /* the 9th: all to the trie */
	ck_assert_int_eq(in_trie(), 9);
	ck_assert_int_eq(in_pfx(), 1);
	ck_assert(prefix_flag());
	ck_assert_str_eq(lengths(1), "");
	ck_assert_str_eq(lengths(0), "120");
	ck_assert_int_eq(ban("::/0", 60), -ENOSPC);
	ck_assert_int_eq(xdpmaps_banned(&maps, &v6, xdpmaps_now_ns(), &b), 0);
	ck_assert_int_eq(xdpmaps_banned(&maps, &v4, xdpmaps_now_ns(), &b), -ENOENT);
	/* New IPv6 prefixes follow into the trie, until it empties. */
	ck_assert_int_eq(ban("2001:db8:3::/64", 60), 0);
	ck_assert_int_eq(in_trie(), 10);
	for (len = 40; len < 40 + FG_BAN_PLENS - 1; len++) {
		snprintf(p, sizeof(p), "2001:db8::/%d", len);
		ck_assert_int_eq(unban(p), 0);
	}
	ck_assert_int_eq(unban("2001:db8:2::/100"), 0);
	ck_assert_int_eq(unban("2001:db8:1::/112"), 0);
	ck_assert_int_eq(unban("2001:db8:3::/64"), 0);
	ck_assert(!prefix_flag());
	ck_assert_int_eq(ban("::/0", 60), 0);
	ck_assert_str_eq(lengths(1), "0");
	ck_assert_int_eq(xdpmaps_banned(&maps, &v4, xdpmaps_now_ns(), &b), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("banmaps");
	TCase *tc = tcase_create("banmaps");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dispatch);
	tcase_add_test(tc, test_mapped_spelling);
	tcase_add_test(tc, test_banned_as_the_program);
	tcase_add_test(tc, test_each_visits_both);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_sweep_batches);
	tcase_add_test(tc, test_filter_recount);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_pfx_full_falls_back);
	tcase_add_test(tc, test_family_to_trie);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
