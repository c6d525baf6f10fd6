// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cidr.h"

static const struct {
	const char *in, *out;
} roundtrips[] = {
	{ "192.0.2.1", "192.0.2.1" },
	{ "192.0.2.1/32", "192.0.2.1" },
	{ "192.0.2.0/24", "192.0.2.0/24" },
	{ "198.51.100.128/25", "198.51.100.128/25" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "2001:db8::1", "2001:db8::1" },
	{ "2001:DB8::1/128", "2001:db8::1" },
	{ "2001:db8::/32", "2001:db8::/32" },
	{ "2001:0db8:0000:0000::/64", "2001:db8::/64" },
	{ "2001:db8:dead::/48", "2001:db8:dead::/48" },
	{ "::/0", "::/0" },
	{ "::1", "::1" },
	/* IPv4-mapped with a prefix of 96 or more is the IPv4 entry. */
	{ "::ffff:192.0.2.1", "192.0.2.1" },
	{ "::ffff:203.0.113.0/120", "203.0.113.0/24" },
	{ "::FFFF:cb00:7100/120", "203.0.113.0/24" },
	{ "::ffff:0:0/96", "0.0.0.0/0" },
	{ "::ffff:203.0.113.7/128", "203.0.113.7" },
	/* Shorter: an IPv6 prefix that happens to cover the mapped block. */
	{ "::fffe:0:0/95", "::fffe:0:0/95" },
	{ "::/64", "::/64" },
	{ "::fffe:cb00:7107", "::fffe:cb00:7107" },
};

START_TEST(test_roundtrip)
{
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr c, again;

	ck_assert_int_eq(cidr_parse(roundtrips[_i].in, &c), 0);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), roundtrips[_i].out);
	ck_assert_int_eq(cidr_parse(buf, &again), 0);
	ck_assert_mem_eq(&again, &c, sizeof(c));
}
END_TEST

static const char *const rejects[] = {
	"",
	"198.51.100.7/24", /* host bits beyond the prefix */
	"2001:db8::1/64",
	"192.0.3.0/23",
	"1.2.3.4/33",
	"2001:db8::/129",
	"1.2.3.4/-1",
	"1.2.3.4/+8",
	"1.2.3.4/",
	"/24",
	"1.2.3.4/24x",
	"1.2.3.4/2 4",
	"1.2.3.4/0x8",
	"1.2.3.4//8",
	"1.2.3.4/1000",
	"1.2.3.4x",
	" 1.2.3.4",
	"1.2.3.4 ",
	"1.2.3.0/24 ",
	"1.2.3",
	"256.1.1.1",
	"01.2.3.4",
	"2001:db8::g",
	"2001:db8:::1",
	"example.com",
	"1.2.3.4/8/8",
};

START_TEST(test_reject)
{
	struct fg_cidr c;

	ck_assert_msg(cidr_parse(rejects[_i], &c) == -EINVAL, "accepted \"%s\"", rejects[_i]);
}
END_TEST

START_TEST(test_reject_null)
{
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse(NULL, &c), -EINVAL);
}
END_TEST

START_TEST(test_ipv4_layout)
{
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	ck_assert_int_eq(c.family, FG_AF_INET);
	ck_assert_int_eq(c.prefixlen, 24);
	ck_assert_uint_eq(c.addr[0], htonl(0xc0000200));
	ck_assert_uint_eq(c.addr[1], 0);
	ck_assert_uint_eq(c.addr[2], 0);
	ck_assert_uint_eq(c.addr[3], 0);

	ck_assert_int_eq(cidr_parse("203.0.113.66", &c), 0);
	ck_assert_int_eq(c.prefixlen, 32);
	ck_assert_uint_eq(c.addr[0], htonl(0xcb007142));
}
END_TEST

START_TEST(test_ipv6_layout)
{
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse("2001:db8:dead::/48", &c), 0);
	ck_assert_int_eq(c.family, FG_AF_INET6);
	ck_assert_int_eq(c.prefixlen, 48);
	ck_assert_uint_eq(c.addr[0], htonl(0x20010db8));
	ck_assert_uint_eq(c.addr[1], htonl(0xdead0000));
	ck_assert_uint_eq(c.addr[2], 0);
	ck_assert_uint_eq(c.addr[3], 0);
}
END_TEST

START_TEST(test_loose)
{
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse_loose("198.51.100.7/24", &c), 0);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "198.51.100.0/24");
	ck_assert_int_eq(cidr_parse_loose("2001:db8:1:2:3::9/33", &c), 0);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "2001:db8::/33");
	ck_assert_int_eq(cidr_parse_loose("1.2.3.4/33", &c), -EINVAL);
}
END_TEST

START_TEST(test_parse_addr)
{
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse_addr("192.0.2.1", &c), 0);
	ck_assert_int_eq(cidr_parse_addr("2001:db8::1/128", &c), 0);
	ck_assert_int_eq(cidr_parse_addr("192.0.2.0/24", &c), -EINVAL);
	ck_assert_int_eq(cidr_parse_addr("2001:db8::/64", &c), -EINVAL);
	ck_assert_int_eq(cidr_parse_addr("nope", &c), -EINVAL);
}
END_TEST

START_TEST(test_lpm_ipv4_mapped)
{
	struct fg_lpm_key k;
	struct fg_cidr c, back;

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	cidr_to_lpm(&c, &k);
	ck_assert_uint_eq(k.prefixlen, 120);
	ck_assert_uint_eq(k.addr[0], 0);
	ck_assert_uint_eq(k.addr[1], 0);
	ck_assert_uint_eq(k.addr[2], htonl(0xffff));
	ck_assert_uint_eq(k.addr[3], htonl(0xc0000200));
	cidr_from_lpm(&k, &back);
	ck_assert_mem_eq(&back, &c, sizeof(c));

	/* 0.0.0.0/0 is all of IPv4, not all of IPv6. */
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), 0);
	cidr_to_lpm(&c, &k);
	ck_assert_uint_eq(k.prefixlen, 96);
	cidr_from_lpm(&k, &back);
	ck_assert_int_eq(back.family, FG_AF_INET);
	ck_assert_int_eq(back.prefixlen, 0);
}
END_TEST

START_TEST(test_lpm_ipv6)
{
	struct fg_lpm_key k;
	struct fg_cidr c, back;

	ck_assert_int_eq(cidr_parse("2001:db8:dead::/48", &c), 0);
	cidr_to_lpm(&c, &k);
	ck_assert_uint_eq(k.prefixlen, 48);
	ck_assert_mem_eq(k.addr, c.addr, sizeof(k.addr));
	cidr_from_lpm(&k, &back);
	ck_assert_mem_eq(&back, &c, sizeof(c));
}
END_TEST

START_TEST(test_src_key)
{
	struct fg_src_key k;
	struct fg_cidr c, back;

	ck_assert_int_eq(cidr_parse("198.51.100.0/24", &c), 0);
	memset(&k, 0xaa, sizeof(k));
	cidr_to_src_key(&c, 7, &k);
	ck_assert_int_eq(k.family, FG_AF_INET);
	ck_assert_int_eq(k.prefixlen, 24);
	ck_assert_int_eq(k.rule, 7);
	ck_assert_uint_eq(k.addr[0], htonl(0xc6336400));
	ck_assert_uint_eq(k.addr[1] | k.addr[2] | k.addr[3], 0);
	cidr_from_src_key(&k, &back);
	ck_assert_mem_eq(&back, &c, sizeof(c));

	ck_assert_int_eq(cidr_parse("2001:db8::7", &c), 0);
	cidr_to_src_key(&c, 0, &k);
	ck_assert_int_eq(k.family, FG_AF_INET6);
	ck_assert_int_eq(k.prefixlen, 128);
	ck_assert_int_eq(k.rule, 0);
	ck_assert_mem_eq(k.addr, c.addr, sizeof(k.addr));
}
END_TEST

START_TEST(test_mask)
{
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr c;

	ck_assert_int_eq(cidr_parse("198.51.100.7", &c), 0);
	cidr_mask(&c, 24);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "198.51.100.0/24");
	cidr_mask(&c, 0);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "0.0.0.0/0");

	ck_assert_int_eq(cidr_parse("2001:db8:abcd:1234::1", &c), 0);
	cidr_mask(&c, 64);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "2001:db8:abcd:1234::/64");
	cidr_mask(&c, 44);
	ck_assert_str_eq(cidr_format(&c, buf, sizeof(buf)), "2001:db8:abc0::/44");
}
END_TEST

START_TEST(test_contains)
{
	struct fg_cidr net, host, other, wide, v6;

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &net), 0);
	ck_assert_int_eq(cidr_parse("192.0.2.77", &host), 0);
	ck_assert_int_eq(cidr_parse("192.0.3.1", &other), 0);
	ck_assert_int_eq(cidr_parse("192.0.0.0/16", &wide), 0);
	ck_assert_int_eq(cidr_parse("::ffff:192.0.2.77", &v6), 0);
	ck_assert(cidr_contains(&net, &host));
	ck_assert(cidr_contains(&net, &net));
	ck_assert(!cidr_contains(&net, &other));
	ck_assert(!cidr_contains(&net, &wide));
	ck_assert(cidr_contains(&wide, &net));
	/* ::ffff:192.0.2.77 is 192.0.2.77 (issue 10: a mapped deny entry took
	 * the IPv4 entry's trie key and switched it off). */
	ck_assert(cidr_contains(&net, &v6));
}
END_TEST

START_TEST(test_mapped_is_ipv4)
{
	struct fg_cidr v4, mapped;
	struct fg_lpm_key k4, km;

	ck_assert_int_eq(cidr_parse("203.0.113.0/24", &v4), 0);
	ck_assert_int_eq(cidr_parse("::ffff:203.0.113.0/120", &mapped), 0);
	ck_assert(cidr_equal(&v4, &mapped));
	cidr_to_lpm(&v4, &k4);
	cidr_to_lpm(&mapped, &km);
	ck_assert_mem_eq(&k4, &km, sizeof(k4));
	/* Host bits are judged on the mapped spelling's own prefix. */
	ck_assert_int_eq(cidr_parse("::ffff:203.0.113.7/120", &mapped), -EINVAL);
	ck_assert_int_eq(cidr_parse_addr("::ffff:198.51.100.9", &mapped), 0);
	ck_assert_uint_eq(mapped.family, FG_AF_INET);
	ck_assert_uint_eq(mapped.prefixlen, 32);
}
END_TEST

static Suite *cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("cidr");

	tcase_add_loop_test(tc, test_roundtrip, 0, sizeof(roundtrips) / sizeof(roundtrips[0]));
	tcase_add_loop_test(tc, test_reject, 0, sizeof(rejects) / sizeof(rejects[0]));
	tcase_add_test(tc, test_reject_null);
	tcase_add_test(tc, test_ipv4_layout);
	tcase_add_test(tc, test_ipv6_layout);
	tcase_add_test(tc, test_loose);
	tcase_add_test(tc, test_parse_addr);
	tcase_add_test(tc, test_lpm_ipv4_mapped);
	tcase_add_test(tc, test_lpm_ipv6);
	tcase_add_test(tc, test_src_key);
	tcase_add_test(tc, test_mask);
	tcase_add_test(tc, test_contains);
	tcase_add_test(tc, test_mapped_is_ipv4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cidr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
