// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * hostpeers: the host's resolvers and default gateways, read from files in
 * the formats of resolv.conf, /proc/net/route and /proc/net/ipv6_route, and
 * kept verified in a real verified map (stop 35's trial: a SYN flood forged
 * from the host's UDP resolver got it banned, and the host lost DNS).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <check.h>

#include "banmaps.h"
#include "hostaddr.h"
#include "hostpeers.h"

#define NS 1000000000ULL

static char dir[64], resolv[96], resolved[96], route4[96], route6[96];
static struct hostpeers_paths paths;

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void files_setup(void)
{
	strcpy(dir, "/tmp/fgut-hostpeers.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	snprintf(resolved, sizeof(resolved), "%s/resolved.conf", dir);
	snprintf(route4, sizeof(route4), "%s/route", dir);
	snprintf(route6, sizeof(route6), "%s/ipv6_route", dir);
	put(resolv, "# generated\n"
		    "search example.org\n"
		    "nameserver 127.0.0.53\n"
		    "nameserver 198.51.100.53\n"
		    "  nameserver\tfe80::53%eth0\n"
		    "nameserver not-an-address\n"
		    "options edns0\n");
	/* systemd-resolved's upstreams: one seen already, one new */
	put(resolved, "nameserver 198.51.100.53\nnameserver 2001:db8::53\n");
	/* 192.0.2.1 is C0 00 02 01: printed as the host-order u32 010200C0 */
	put(route4, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
		    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n"
		    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"
		    "eth1\t0071CB00\t017100CB\t0003\t0\t0\t0\t00FFFFFF\n");
	put(route6, "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
		    "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 "
		    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n");
	paths = (struct hostpeers_paths){ .resolv = { resolv, resolved, NULL },
					  .route4 = route4,
					  .route6 = route6 };
}

static void files_teardown(void)
{
	unlink(resolv);
	unlink(resolved);
	unlink(route4);
	unlink(route6);
	rmdir(dir);
}

START_TEST(test_read)
{
	struct hostpeers h = { .paths = &paths };
	char buf[512];

	h.n = hostpeers_read(&paths, h.peers, HOSTPEERS_MAX);
	ck_assert_str_eq(hostpeers_format(&h, buf, sizeof(buf)),
			 "resolver 198.51.100.53, resolver fe80::53, resolver 2001:db8::53, "
			 "gateway 192.0.2.1, gateway fe80::1");
}
END_TEST

/* A resolver on one of the host's own addresses is no peer. */
START_TEST(test_own_address_left_out)
{
	struct fg_cidr local[16];
	struct hostpeer out[8];
	char line[96], a[FG_CIDR_STRLEN];
	int i, n = hostaddr_read(local, 16, false);

	for (i = 0; i < n && local[i].family != FG_AF_INET; i++)
		;
	ck_assert_msg(i < n, "no IPv4 address in this namespace (lo has 127.0.0.1)");
	/* 127.0.0.1 would be left out as loopback anyway: any other will do */
	for (; i < n && (local[i].family != FG_AF_INET || local[i].addr[0] == htonl(0x7f000001));
	     i++)
		;
	if (i == n)
		return; /* only lo here: nothing to show */
	snprintf(line, sizeof(line), "nameserver %s\nnameserver 198.51.100.53\n",
		 cidr_format(&local[i], a, sizeof(a)));
	put(resolv, line);
	put(resolved, "");
	n = hostpeers_read(&(struct hostpeers_paths){ .resolv = { resolv, NULL } }, out, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(cidr_format(&out[0].addr, a, sizeof(a)), "198.51.100.53");
}
END_TEST

START_TEST(test_missing_files)
{
	static const struct hostpeers_paths none = {
		.resolv = { "/nonexistent/resolv.conf", NULL },
		.route4 = "/nonexistent/route",
		.route6 = NULL,
	};
	struct hostpeer out[4];

	ck_assert_int_eq(hostpeers_read(&none, out, 4), 0);
}
END_TEST

static struct xdpmaps maps;
static bool have_maps;

static void maps_setup(void)
{
	struct fg_config cfg = { .verified_ttl_ns = 600 * NS };
	__u32 zero = 0;

	files_setup();
	memset(&maps, 0xff, sizeof(maps));
	have_maps = banmaps_open(&maps, 8);
	maps.verified = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "t_verified",
				       sizeof(struct fg_src_key), sizeof(struct fg_verified), 64,
				       NULL);
	have_maps = have_maps && maps.verified >= 0 &&
		    !bpf_map_update_elem(maps.settings, &zero, &cfg, BPF_ANY);
	if (!have_maps)
		fprintf(stderr, "check_hostpeers: cannot create BPF maps (%s): map tests skipped\n",
			strerror(errno));
}

static void maps_teardown(void)
{
	banmaps_close(&maps);
	if (maps.verified >= 0)
		close(maps.verified);
	files_teardown();
}

static int origin_of(const char *s, uint64_t *until)
{
	struct fg_verified v;
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse(s, &c), 0);
	if (xdpmaps_verified(&maps, &c, &v))
		return -1;
	*until = v.until_ns;
	return (int)v.origin;
}

/* Every peer verified (origin host) for three periods, read again each
 * period; a longer vouch is left as it is, and so is an operator's ban; the
 * program's ban of a peer is lifted. */
START_TEST(test_tick_verifies)
{
	struct hostpeers h = { .paths = &paths };
	uint64_t now = xdpmaps_now_ns(), until;
	struct fg_cidr c, gw, res;
	struct fg_ban b;

	if (!have_maps)
		return;
	ck_assert_int_eq(cidr_parse("2001:db8::53", &c), 0);
	ck_assert_int_eq(xdpmaps_vouch(&maps, &c, now + 3600 * NS, FG_VERIFIED_VOUCH, NULL), 0);
	/* The program banned the gateway before it was seen (stop 35's
	 * re-trial: a flood forged from a gateway just configured); an
	 * operator banned the resolver. */
	ck_assert_int_eq(cidr_parse("192.0.2.1", &gw), 0);
	ck_assert_int_eq(xdpmaps_ban(&maps, &gw, 300, FG_BAN_AUTO), 0);
	ck_assert_int_eq(cidr_parse("198.51.100.53", &res), 0);
	ck_assert_int_eq(xdpmaps_ban(&maps, &res, 300, FG_BAN_MANUAL), 0);
	ck_assert_int_eq(hostpeers_tick(&h, &maps, now), 4);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &gw, &b), -ENOENT);
	ck_assert_int_eq(xdpmaps_ban_get(&maps, &res, &b), 0);
	ck_assert_int_eq(origin_of("198.51.100.53", &until), FG_VERIFIED_HOST);
	ck_assert_uint_eq(until, now + 3 * HOSTPEERS_PERIOD_NS);
	ck_assert_int_eq(origin_of("192.0.2.1", &until), FG_VERIFIED_HOST);
	ck_assert_int_eq(origin_of("fe80::1", &until), FG_VERIFIED_HOST);
	ck_assert_int_eq(origin_of("2001:db8::53", &until), FG_VERIFIED_VOUCH);
	ck_assert_uint_eq(until, now + 3600 * NS);
	ck_assert_int_eq(origin_of("203.0.113.1", &until), -1); /* a route's gateway, not default */
	/* Within the period: nothing read or written. */
	ck_assert_int_eq(hostpeers_tick(&h, &maps, now + NS), 0);
	/* The resolver goes from resolv.conf: not renewed, its entry ends. */
	put(resolv, "nameserver 198.51.100.54\n");
	put(resolved, "");
	ck_assert_int_eq(hostpeers_tick(&h, &maps, now + 2 * HOSTPEERS_PERIOD_NS), 3);
	ck_assert_int_eq(origin_of("198.51.100.54", &until), FG_VERIFIED_HOST);
	ck_assert_int_eq(origin_of("198.51.100.53", &until), FG_VERIFIED_HOST);
	ck_assert_uint_eq(until, now + 3 * HOSTPEERS_PERIOD_NS);
	ck_assert_int_eq(h.n, 3);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hostpeers");
	TCase *tc = tcase_create("read");
	TCase *tm = tcase_create("maps");

	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_missing_files);
	tcase_add_test(tc, test_own_address_left_out);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tm, maps_setup, maps_teardown);
	tcase_add_test(tm, test_tick_verifies);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
