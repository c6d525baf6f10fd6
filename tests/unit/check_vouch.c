// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* vouch: who may vouch, for which addresses, how fast, how many, and that a
 * vouch flood leaves TCP-verified entries alone; against real (small) BPF
 * maps when the test may create them, else those skip. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>

#include "banguard.h"
#include "banmaps.h"
#include "config.h"
#include "vouch.h"

#define NS 1000000000ULL

static struct fg_cidr addr(const char *s)
{
	struct fg_cidr c;

	ck_assert_msg(!cidr_parse(s, &c), "parse %s", s);
	return c;
}

static void conf_init(struct fg_conf *c)
{
	config_defaults(c);
	c->socket.admin_uids[0] = 500;
	c->socket.nadmin_uids = 1;
	c->app_bans.peer_uids[0] = 900; /* may ban: not enough to vouch */
	c->app_bans.npeer_uids = 1;
	c->vouch.peer_uids[0] = 1000;
	c->vouch.peer_uids[1] = 1001;
	c->vouch.npeer_uids = 2;
	c->vouch.peer_gids[0] = 2000;
	c->vouch.npeer_gids = 1;
}

/* A ban guard (for the host's own addresses) and a vouch guard on conf. */
static void guards(const struct fg_conf *conf, struct banguard **g, struct vouch **v)
{
	*g = banguard_new(conf);
	*v = vouch_new(conf);
	ck_assert_ptr_nonnull(*g);
	ck_assert_ptr_nonnull(*v);
}

static void guards_free(struct banguard *g, struct vouch *v)
{
	vouch_free(v);
	banguard_free(g);
}

START_TEST(test_peers)
{
	struct fg_conf conf;
	struct vouch *v;
	uint32_t groups[] = { 7, 2000 };

	conf_init(&conf);
	v = vouch_new(&conf);
	ck_assert_ptr_nonnull(v);
#define MAY(u_, g_, grp_, n_)                                                                      \
	vouch_peer_may(v, &(struct banguard_peer){                                                 \
				  .uid = (u_), .gid = (g_), .groups = (grp_), .ngroups = (n_) })
	ck_assert(MAY(0, 0, NULL, 0));		/* root */
	ck_assert(MAY(500, 500, NULL, 0));	/* admin */
	ck_assert(MAY(1000, 1000, NULL, 0));	/* vouch.peer_uids */
	ck_assert(MAY(1002, 1002, groups, 2));	/* vouch.peer_gids, supplementary */
	ck_assert(!MAY(900, 900, NULL, 0));	/* an app_bans peer is not a vouch peer */
	ck_assert(!MAY(65534, 65534, NULL, 0)); /* nobody */
	ck_assert(!MAY((uint32_t)-1, (uint32_t)-1, NULL, 0));
#undef MAY
	vouch_free(v);
}
END_TEST

START_TEST(test_seconds)
{
	struct fg_conf conf;
	struct vouch *v;

	conf_init(&conf);
	conf.verified_ttl_ms = 600 * 1000;
	conf.vouch.max_duration_ms = 3600 * 1000;
	v = vouch_new(&conf);
	ck_assert_uint_eq(vouch_seconds(v, 0), 600); /* default: verified_ttl */
	ck_assert_uint_eq(vouch_seconds(v, 30), 30);
	ck_assert_uint_eq(vouch_seconds(v, 7200), 3600); /* cut to max_duration */
	conf.verified_ttl_ms = 86400 * 1000;
	ck_assert_int_eq(vouch_configure(v, &conf), 0);
	ck_assert_uint_eq(vouch_seconds(v, 0), 3600); /* a default over the max is cut too */
	vouch_free(v);
}
END_TEST

START_TEST(test_map_entries)
{
	struct fg_conf conf;

	config_defaults(&conf);
	conf.max_verified = 1000;
	conf.vouch.max = 0;
	ck_assert_uint_eq(vouch_map_entries(&conf, 4), 1000); /* no vouching: no room for it */
	conf.vouch.max = 100;
	/* TCP's room, the vouches' and the LRU's per-CPU free lists */
	ck_assert_uint_ge(vouch_map_entries(&conf, 4), 1000 + 100 + 4 * 128);
}
END_TEST

/* Real maps when the test may create them (root or CAP_BPF). */
static struct xdpmaps maps;
static bool have_maps;

static void maps_open(uint32_t verified_entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	memset(&maps, 0xff, sizeof(maps));
	have_maps = banmaps_open(&maps, 8);
	maps.deny = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_deny", sizeof(struct fg_lpm_key),
				   sizeof(__u32), 8, &o);
	maps.verified =
		bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "t_verified", sizeof(struct fg_src_key),
			       sizeof(struct fg_verified), verified_entries, NULL);
	have_maps = have_maps && maps.deny >= 0 && maps.verified >= 0;
	if (!have_maps)
		fprintf(stderr, "check_vouch: cannot create BPF maps (%s): map tests skipped\n",
			strerror(errno));
}

static void maps_setup(void)
{
	maps_open(64);
}

static void maps_teardown(void)
{
	banmaps_close(&maps);
	if (maps.deny >= 0)
		close(maps.deny);
	if (maps.verified >= 0)
		close(maps.verified);
}

static bool get_verified(const char *s, struct fg_verified *out)
{
	struct fg_cidr c = addr(s);
	struct fg_src_key k;

	cidr_to_src_key(&c, 0, &k);
	return !bpf_map_lookup_elem(maps.verified, &k, out);
}

static void put_tcp(const char *s, uint64_t ts)
{
	struct fg_verified v = { .tcp_ns = ts };
	struct fg_cidr c = addr(s);
	struct fg_src_key k;

	cidr_to_src_key(&c, 0, &k);
	ck_assert_int_eq(bpf_map_update_elem(maps.verified, &k, &v, BPF_ANY), 0);
}

static enum vouch_result do_vouch(struct vouch *v, struct banguard *g, uint32_t uid, bool may,
				  const char *s, uint64_t secs, uint64_t now)
{
	struct fg_cidr c = addr(s);
	enum vouch_result r = VOUCH_RESULT_MAX;

	vouch_add(v, g, &maps, uid, may, &c, secs, VOUCH_FROM_SOCKET, now, &r);
	return r;
}

/* Hostile vouches: a peer not named, the host itself, special and mapped
 * forms, a prefix, denied and banned sources. None reaches the map. */
START_TEST(test_refused)
{
	struct fg_cidr own = addr("192.0.2.1"), deny = addr("198.51.100.0/24"),
		       ban = addr("203.0.113.66");
	uint64_t now = xdpmaps_now_ns();
	struct vouch_stats st;
	struct fg_lpm_key k;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	struct fg_verified got;
	__u32 fam = FG_AF_INET;

	if (!have_maps)
		return;
	conf_init(&conf);
	guards(&conf, &g, &v);
	ck_assert_int_eq(banguard_set_local(g, &own, 1), 0);
	cidr_to_lpm(&deny, &k);
	ck_assert_int_eq(bpf_map_update_elem(maps.deny, &k, &fam, BPF_ANY), 0);
	ck_assert_int_eq(xdpmaps_ban(&maps, &ban, 60, FG_BAN_MANUAL), 0);

	ck_assert_int_eq(do_vouch(v, g, 65534, false, "203.0.113.7", 0, now), VOUCH_REFUSED_PEER);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "192.0.2.1", 0, now), VOUCH_REFUSED_ADDRESS);
	/* a mapped form is read as the IPv4 address it spells */
	ck_assert_int_eq(do_vouch(v, g, 0, true, "::ffff:127.0.0.1", 0, now),
			 VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "0.0.0.0", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "255.255.255.255", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "224.0.0.1", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "127.0.0.1", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "::1", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "ff02::1", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "203.0.113.0/24", 0, now), VOUCH_REFUSED_ADDRESS);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "198.51.100.9", 0, now), VOUCH_DENIED);
	ck_assert_int_eq(do_vouch(v, g, 0, true, "203.0.113.66", 0, now), VOUCH_BANNED);
	ck_assert_int_eq(xdpmaps_count(maps.verified, sizeof(struct fg_src_key)), 0);

	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.7", 30, now), VOUCH_VOUCHED);
	ck_assert(get_verified("203.0.113.7", &got));
	ck_assert_uint_eq(got.origin, FG_VERIFIED_VOUCH);
	ck_assert_uint_eq(got.tcp_ns, 0);
	ck_assert_uint_eq(got.until_ns, now + 30 * NS);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "::ffff:203.0.113.8", 30, now), VOUCH_VOUCHED);
	ck_assert(get_verified("203.0.113.8", &got)); /* under the IPv4 key XDP looks up */
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.results[VOUCH_FROM_SOCKET][VOUCH_REFUSED_PEER], 1);
	ck_assert_uint_eq(st.results[VOUCH_FROM_SOCKET][VOUCH_REFUSED_ADDRESS], 9);
	ck_assert_uint_eq(st.results[VOUCH_FROM_SOCKET][VOUCH_DENIED], 1);
	ck_assert_uint_eq(st.results[VOUCH_FROM_SOCKET][VOUCH_BANNED], 1);
	ck_assert_uint_eq(st.results[VOUCH_FROM_SOCKET][VOUCH_VOUCHED], 2);
	ck_assert_uint_eq(st.entries, 2);
	guards_free(g, v);
}
END_TEST

START_TEST(test_no_xdp)
{
	struct fg_cidr c = addr("203.0.113.7");
	enum vouch_result r;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;

	conf_init(&conf);
	guards(&conf, &g, &v);
	ck_assert_int_eq(vouch_add(v, g, NULL, 0, true, &c, 0, VOUCH_FROM_AUTH_OK, NS, &r),
			 -EOPNOTSUPP);
	ck_assert_int_eq(r, VOUCH_NO_XDP);
	guards_free(g, v);
}
END_TEST

/* App-only mode with a shared store: no map, the vouch is checked, counted
 * and kept for the fleet to publish (vouch_each_local); the guard holds
 * (peer, address, quota) and the vouch ends. */
static void count_local(const struct fg_cidr *c, uint64_t until_ns, void *arg);

START_TEST(test_publish_only)
{
	struct fg_cidr c = addr("203.0.113.7"), own = addr("192.0.2.1");
	struct vouch_stats st;
	enum vouch_result r;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	int n = 0;

	conf_init(&conf);
	conf.vouch.max = 2;
	guards(&conf, &g, &v);
	ck_assert_int_eq(banguard_set_local(g, &own, 1), 0);
	vouch_set_publish_only(v, true);
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &c, 30, VOUCH_FROM_AUTH_OK, NS, &r), 0);
	ck_assert_int_eq(r, VOUCH_VOUCHED);
	ck_assert_int_eq(vouch_add(v, g, NULL, 65534, false, &c, 30, VOUCH_FROM_AUTH_OK, NS, &r),
			 -EPERM);
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &own, 30, VOUCH_FROM_AUTH_OK, NS, &r),
			 -EADDRNOTAVAIL);
	c = addr("224.0.0.1");
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &c, 30, VOUCH_FROM_AUTH_OK, NS, &r),
			 -EADDRNOTAVAIL);
	c = addr("203.0.113.8");
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &c, 30, VOUCH_FROM_AUTH_OK, NS, &r), 0);
	c = addr("203.0.113.9");
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &c, 30, VOUCH_FROM_AUTH_OK, NS, &r),
			 -EDQUOT);
	vouch_each_local(v, NS, count_local, &n);
	ck_assert_int_eq(n, 2); /* what the fleet publishes on a (re)connect */
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.results[VOUCH_FROM_AUTH_OK][VOUCH_VOUCHED], 2);
	ck_assert_uint_eq(st.results[VOUCH_FROM_AUTH_OK][VOUCH_REFUSED_PEER], 1);
	ck_assert_uint_eq(st.results[VOUCH_FROM_AUTH_OK][VOUCH_REFUSED_ADDRESS], 2);
	ck_assert_uint_eq(st.results[VOUCH_FROM_AUTH_OK][VOUCH_QUOTA], 1);
	ck_assert_uint_eq(st.entries, 2);
	/* They end: room again, and nothing left to publish. */
	ck_assert_int_eq(vouch_sweep(v, NULL, 40 * NS), 2);
	ck_assert_int_eq(vouch_add(v, g, NULL, 1000, true, &c, 30, VOUCH_FROM_AUTH_OK, 40 * NS, &r),
			 0);
	c = addr("203.0.113.8");
	ck_assert_int_eq(vouch_remove(v, NULL, &c, 40 * NS), -ENOENT);
	c = addr("203.0.113.9");
	ck_assert_int_eq(vouch_remove(v, NULL, &c, 40 * NS), 0);
	guards_free(g, v);
}
END_TEST

/* vouch.rate per peer uid: a burst, then one per 1/rate s; another uid has
 * its own bucket. */
START_TEST(test_rate)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;

	if (!have_maps)
		return;
	conf_init(&conf);
	conf.vouch.rate = 2;
	conf.vouch.burst = 2;
	guards(&conf, &g, &v);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.1", 10, now), VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.2", 10, now), VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.3", 10, now), VOUCH_RATE);
	ck_assert_int_eq(do_vouch(v, g, 1001, true, "203.0.113.3", 10, now), VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.4", 10, now + NS / 2),
			 VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.5", 10, now + NS / 2), VOUCH_RATE);
	guards_free(g, v);
}
END_TEST

/*
 * The attack of issue 20: a named peer vouches for as many addresses as it
 * can. It gets its quota (per_peer, then max in all), and every
 * TCP-verified entry is still there: the map has room for both.
 */
START_TEST(test_flood_keeps_tcp_verified)
{
	uint64_t now = xdpmaps_now_ns();
	int i, vouched = 0, quota = 0;
	struct vouch_stats st;
	struct fg_verified got;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	char a[32];

	conf_init(&conf);
	conf.max_verified = 64;
	conf.vouch.max = 96;
	conf.vouch.per_peer = 64;
	conf.vouch.rate = 1000000;
	conf.vouch.burst = 1000000;
	maps_teardown();
	maps_open(vouch_map_entries(&conf, libbpf_num_possible_cpus()));
	if (!have_maps)
		return;
	guards(&conf, &g, &v);
	for (i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
		put_tcp(a, now);
	}
	for (i = 0; i < 2000; i++) {
		enum vouch_result r;

		snprintf(a, sizeof(a), "10.%d.%d.%d", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		r = do_vouch(v, g, i & 1 ? 1000 : 1001, true, a, 60, now);
		vouched += r == VOUCH_VOUCHED;
		quota += r == VOUCH_QUOTA;
	}
	ck_assert_int_eq(vouched, 96);
	ck_assert_int_eq(quota, 2000 - 96);
	for (i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
		ck_assert_msg(get_verified(a, &got) && got.tcp_ns == now,
			      "TCP-verified %s was evicted by vouches", a);
	}
	/* per_peer: one uid alone gets 64 */
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.entries, 96);
	/* a vouch made again is not a new entry, whoever owns the quota */
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "10.0.0.1", 60, now), VOUCH_VOUCHED);
	guards_free(g, v);
}
END_TEST

START_TEST(test_per_peer)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	char a[32];
	int i;

	if (!have_maps)
		return;
	conf_init(&conf);
	conf.vouch.max = 10;
	conf.vouch.per_peer = 3;
	guards(&conf, &g, &v);
	for (i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i + 1);
		ck_assert_int_eq(do_vouch(v, g, 1000, true, a, 60, now), VOUCH_VOUCHED);
	}
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.9", 60, now), VOUCH_QUOTA);
	ck_assert_int_eq(do_vouch(v, g, 1001, true, "203.0.113.9", 60, now), VOUCH_VOUCHED);
	guards_free(g, v);
}
END_TEST

/* An ended vouch leaves the count and the map, unless the address has a
 * live TCP proof; an unvouch keeps a TCP-verified address verified. */
START_TEST(test_sweep_and_remove)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_cidr tcp = addr("203.0.113.2"), solo = addr("203.0.113.3");
	struct vouch_stats st;
	struct fg_verified got;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;

	if (!have_maps)
		return;
	conf_init(&conf);
	conf.verified_ttl_ms = 600 * 1000;
	guards(&conf, &g, &v);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.1", 1, now), VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.2", 1, now), VOUCH_VOUCHED);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.3", 60, now), VOUCH_VOUCHED);
	ck_assert(get_verified("203.0.113.2", &got));
	got.tcp_ns = now; /* the host talked to it meanwhile */
	{
		struct fg_src_key k;

		cidr_to_src_key(&tcp, 0, &k);
		ck_assert_int_eq(bpf_map_update_elem(maps.verified, &k, &got, BPF_EXIST), 0);
	}
	ck_assert_int_eq(vouch_sweep(v, &maps, now + 2 * NS), 2);
	ck_assert(!get_verified("203.0.113.1", &got));
	ck_assert(get_verified("203.0.113.2", &got));
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.entries, 1);

	ck_assert_int_eq(vouch_remove(v, &maps, &solo, now), 0);
	ck_assert(!get_verified("203.0.113.3", &got));
	ck_assert_int_eq(vouch_remove(v, &maps, &solo, now), -ENOENT);
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.entries, 0);
	guards_free(g, v);
}
END_TEST

static void count_local(const struct fg_cidr *c, uint64_t until_ns, void *arg)
{
	(void)c;
	(void)until_ns;
	(*(int *)arg)++;
}

/* Another agent's vouches: the address checks and vouch.max hold (no peer,
 * rate or per_peer: the other agent judged those), a longer vouch in force
 * is kept, and they are not this host's to publish. */
START_TEST(test_fleet)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_cidr own = addr("192.0.2.1"), c;
	struct vouch_stats st;
	struct fg_verified got;
	enum vouch_result r;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	int i, n = 0;
	char a[32];

	if (!have_maps)
		return;
	conf_init(&conf);
	conf.vouch.max = 4;
	conf.vouch.per_peer = 1;
	conf.vouch.rate = 1;
	guards(&conf, &g, &v);
	ck_assert_int_eq(banguard_set_local(g, &own, 1), 0);
	c = addr("192.0.2.1");
	ck_assert_int_eq(vouch_add_fleet(v, g, &maps, &c, 60000, now, &r), -EADDRNOTAVAIL);
	c = addr("224.0.0.1");
	ck_assert_int_eq(vouch_add_fleet(v, g, &maps, &c, 60000, now, &r), -EADDRNOTAVAIL);
	ck_assert_int_eq(do_vouch(v, g, 1000, true, "203.0.113.1", 600, now), VOUCH_VOUCHED);
	c = addr("203.0.113.1");
	ck_assert_int_eq(vouch_add_fleet(v, g, &maps, &c, 60000, now, &r), 0);
	ck_assert(get_verified("203.0.113.1", &got));
	ck_assert_uint_eq(got.until_ns, now + 600 * NS); /* the longer local vouch stays */
	ck_assert_uint_eq(got.origin, FG_VERIFIED_VOUCH);
	for (i = 2; i <= 10; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		c = addr(a);
		vouch_add_fleet(v, g, &maps, &c, 60000, now, &r);
		n += r == VOUCH_VOUCHED;
	}
	ck_assert_int_eq(n, 3); /* vouch.max 4, one local */
	ck_assert(get_verified("203.0.113.2", &got));
	ck_assert_uint_eq(got.origin, FG_VERIFIED_FLEET);
	/* The sender's end to the ms, not rounded up to a second. */
	ck_assert_uint_eq(got.until_ns, now + 60 * NS);
	c = addr("203.0.113.2");
	ck_assert_int_eq(vouch_add_fleet(v, g, &maps, &c, 61500, now, &r), 0);
	ck_assert(get_verified("203.0.113.2", &got));
	ck_assert_uint_eq(got.until_ns, now + 61500 * (NS / 1000));
	n = 0;
	vouch_each_local(v, now, count_local, &n);
	ck_assert_int_eq(n, 1);
	vouch_stats(v, &st);
	ck_assert_uint_eq(st.results[VOUCH_FROM_FLEET][VOUCH_QUOTA], 6);
	ck_assert_uint_eq(st.results[VOUCH_FROM_FLEET][VOUCH_REFUSED_ADDRESS], 2);
	guards_free(g, v);
}
END_TEST

/*
 * vouch.max in the thousands (a map sized by vouch_map_entries, the clock
 * injected from the map's now on): a random stream of vouches by three peers, vouches made again,
 * unvouches and time passing, against a plain list of what should be in
 * force: every result, the count, each peer's quota (vouch.per_peer exact to
 * the last one) and what vouch_each_local publishes agree; ended vouches
 * leave in order of their end; a reload to a larger vouch.max keeps them.
 */
#define MANY  4000
#define ADDRS 6000
struct model {
	bool live;
	uint32_t uid;
	uint64_t until;
};
static struct model mdl[ADDRS];

/* Address i: 500 IPv4 ones, then IPv6; all apart. */
static struct fg_cidr many_addr(int i)
{
	char a[48];

	if (i < 250)
		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
	else if (i < 500)
		snprintf(a, sizeof(a), "203.0.113.%d", i - 249);
	else
		snprintf(a, sizeof(a), "2001:db8::1:%x", i);
	return addr(a);
}

static void count_each(const struct fg_cidr *c, uint64_t until_ns, void *arg)
{
	(void)c;
	(void)until_ns;
	++*(int *)arg;
}

static uint64_t many_rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

START_TEST(test_many)
{
	static const uint32_t uids[] = { 1000, 1001, 500 };
	uint64_t now = xdpmaps_now_ns();
	struct vouch_stats st;
	struct fg_conf conf;
	struct banguard *g;
	struct vouch *v;
	int step, i, live = 0, quota = 0, by_peer = 0, ended = 0;

	conf_init(&conf);
	conf.vouch.max = MANY;
	conf.vouch.per_peer = 1400;
	conf.vouch.rate = 1000000000;
	conf.vouch.burst = 1000000000;
	conf.vouch.max_duration_ms = 3600 * 1000;
	if (!have_maps)
		return;
	maps_teardown();
	maps_open(vouch_map_entries(&conf, libbpf_num_possible_cpus()) + 1000);
	ck_assert(have_maps);
	guards(&conf, &g, &v);
	memset(mdl, 0, sizeof(mdl));
	for (step = 0; step < 60000; step++) {
		uint64_t r = many_rnd();
		int a = (int)(r % ADDRS), u = (int)((r >> 20) % 3), x = (int)((r >> 32) % 100);
		struct fg_cidr c = many_addr(a);
		enum vouch_result res, want;
		int err, n;

		if (step == 30000) {
			/* a reload to more: everything in force stays */
			conf.vouch.max = MANY + 1000;
			ck_assert_int_eq(vouch_configure(v, &conf), 0);
		}
		if (x < 1) {
			now += (r >> 8) % (20 * NS);
			/* what has ended by now leaves, and nothing else */
			for (n = 0, i = 0; i < ADDRS; i++) {
				if (mdl[i].live && mdl[i].until <= now) {
					mdl[i].live = false;
					n++;
				}
			}
			ck_assert_int_eq(vouch_sweep(v, &maps, now), n);
			live -= n;
			ended += n;
		} else if (x < 12) {
			err = vouch_remove(v, &maps, &c, now);
			/* in force: gone from the map too; ended, not swept yet:
			 * gone from the count as well */
			if (mdl[a].live && mdl[a].until > now)
				ck_assert_int_eq(err, 0);
			if (mdl[a].live) {
				mdl[a].live = false;
				live--;
			}
		} else {
			uint64_t secs = 1 + (r >> 44) % 3000, mine = 0, lim;

			/* vouch_add sweeps first */
			for (i = 0; i < ADDRS; i++) {
				if (mdl[i].live && mdl[i].until <= now) {
					mdl[i].live = false;
					live--;
				}
				mine += mdl[i].live && mdl[i].uid == uids[u];
			}
			lim = (uint64_t)(step < 30000 ? MANY : MANY + 1000);
			want = mdl[a].live || ((uint64_t)live < lim && mine < conf.vouch.per_peer)
				       ? VOUCH_VOUCHED
				       : VOUCH_QUOTA;
			err = vouch_add(v, g, &maps, uids[u], true, &c, secs, VOUCH_FROM_SOCKET,
					now, &res);
			ck_assert_msg(res == want, "step %d: %s, want %s (live %d, mine %llu)",
				      step, vouch_result_name(res), vouch_result_name(want), live,
				      (unsigned long long)mine);
			ck_assert_int_eq(err, want == VOUCH_VOUCHED ? 0 : -EDQUOT);
			quota += want == VOUCH_QUOTA;
			by_peer += want == VOUCH_QUOTA && (uint64_t)live < lim;
			if (want == VOUCH_VOUCHED) {
				/* made again: its owner stays, the end is the new one */
				if (!mdl[a].live) {
					mdl[a].uid = uids[u];
					live++;
				}
				mdl[a].live = true;
				mdl[a].until = now + secs * NS;
			}
		}
		vouch_stats(v, &st);
		ck_assert_uint_eq(st.entries, (uint64_t)live);
		if (step % 5000 == 0) {
			n = 0;
			vouch_each_local(v, 0, count_each, &n);
			ck_assert_int_eq(n, live);
		}
	}
	/* the stream reached vouch.max and vouch.per_peer, and time ended many */
	ck_assert_int_gt(quota - by_peer, 300);
	ck_assert_int_gt(by_peer, 300);
	ck_assert_int_gt(ended, 5000);
	ck_assert_int_gt(live, 1000);
	guards_free(g, v);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vouch");
	TCase *t = tcase_create("guard");
	TCase *m = tcase_create("maps");

	tcase_add_test(t, test_peers);
	tcase_add_test(t, test_seconds);
	tcase_add_test(t, test_map_entries);
	tcase_add_test(t, test_no_xdp);
	tcase_add_test(t, test_publish_only);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(m, maps_setup, maps_teardown);
	tcase_add_test(m, test_refused);
	tcase_add_test(m, test_rate);
	tcase_add_test(m, test_per_peer);
	tcase_add_test(m, test_flood_keeps_tcp_verified);
	tcase_add_test(m, test_sweep_and_remove);
	tcase_add_test(m, test_fleet);
	tcase_add_test(m, test_many);
	suite_add_tcase(s, m);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
