// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The prefix ban cover: which units a banned prefix marks, so that the
 * program, which tests one bit per packet, never skips a banned source. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cover.h"

/* A bans_pfx key of "addr/len", as xdpmaps writes it (IPv4-mapped IPv4). */
static struct fg_ban_pfx_key key_of(const char *addr, unsigned int len)
{
	struct fg_ban_pfx_key k = { 0 };

	if (strchr(addr, ':')) {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, k.addr), 1);
		k.family = FG_AF_INET6;
		k.prefixlen = (__u8)len;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET, addr, &k.addr[3]), 1);
		k.addr[2] = htonl(0xffff);
		k.family = FG_AF_INET;
		k.prefixlen = (__u8)(96 + len);
	}
	return k;
}

/* The cover bit the program tests for a packet from addr. */
static __u32 bit_of(const char *addr)
{
	struct fg_ban_pfx_key k = key_of(addr, 128);

	return fg_cover_bit(k.family == FG_AF_INET6, k.addr);
}

static bool has(const __u64 *words, __u32 gen, __u32 bit)
{
	return words[fg_cover_word(gen, bit)] >> (bit & 63) & 1;
}

static unsigned long bits_set(const __u64 *words, __u32 gen)
{
	unsigned long n = 0;
	__u32 i;

	for (i = 0; i < FG_COVER_WORDS; i++)
		n += (unsigned long)__builtin_popcountll(words[fg_cover_word(gen, 0) + i]);
	return n;
}

static const struct {
	const char *prefix;
	unsigned int len;
	unsigned long min_bits, max_bits; /* IPv6 units are hashed: collisions */
	const char *in[3];		  /* packets the cover must not skip */
	const char *out[2];		  /* IPv4 only (exact): packets it skips */
} cases[] = {
	{ "203.0.113.0",
	  24,
	  1,
	  1,
	  { "203.0.113.0", "203.0.113.255", "203.0.112.1" },
	  { "203.0.128.0", "203.0.111.255" } },
	{ "192.0.2.1",
	  32,
	  1,
	  1,
	  { "192.0.2.1", "192.0.0.0", "192.0.15.255" },
	  { "192.0.16.0", "191.255.255.255" } },
	{ "198.51.0.0",
	  16,
	  16,
	  16,
	  { "198.51.0.0", "198.51.255.255", "198.51.100.7" },
	  { "198.52.0.0", "198.50.255.255" } },
	{ "198.48.0.0",
	  12,
	  256,
	  256,
	  { "198.48.0.0", "198.63.255.255", "198.51.100.7" },
	  { "198.64.0.0", "198.47.255.255" } },
	{ "192.0.0.0",
	  4,
	  65536,
	  65536,
	  { "192.0.0.0", "207.255.255.255", "203.0.113.9" },
	  { "208.0.0.0", "191.255.255.255" } },
	{ "0.0.0.0",
	  0,
	  1UL << 20,
	  1UL << 20,
	  { "0.0.0.0", "255.255.255.255", "10.1.2.3" },
	  { NULL, NULL } },
	{ "2001:db8:1:2::",
	  64,
	  1,
	  1,
	  { "2001:db8:1:2::1", "2001:db8:1:2:ffff::", "2001:db8:1:7::" },
	  { NULL, NULL } },
	{ "2001:db8::", 40, 1, 1, { "2001:db8::", "2001:db8:ff:ffff::1", NULL }, { NULL, NULL } },
	{ "2001:db8::",
	  32,
	  250,
	  256,
	  { "2001:db8::", "2001:db8:ff00::1", "2001:db8:ffff:ffff::" },
	  { NULL, NULL } },
	/* below FG_COVER6_MIN_PLEN: not marked, the program looks it up */
	{ "2001:db8::", 31, 0, 0, { NULL, NULL, NULL }, { NULL, NULL } },
	{ "2001::", 16, 0, 0, { NULL, NULL, NULL }, { NULL, NULL } },
};

START_TEST(test_marks)
{
	__u64 *words = calloc(FG_SEEN_ENTRIES, sizeof(*words));
	struct fg_ban_pfx_key k = key_of(cases[_i].prefix, cases[_i].len);
	unsigned long n;
	int i;

	ck_assert_ptr_nonnull(words);
	cover_set(words, 1, &k);
	n = bits_set(words, 1);
	ck_assert_msg(n >= cases[_i].min_bits && n <= cases[_i].max_bits,
		      "%s/%u: %lu units marked, want %lu-%lu", cases[_i].prefix, cases[_i].len, n,
		      cases[_i].min_bits, cases[_i].max_bits);
	ck_assert_uint_eq(bits_set(words, 0), 0); /* the other generation untouched */
	for (i = 0; i < 3 && cases[_i].in[i]; i++)
		ck_assert_msg(has(words, 1, bit_of(cases[_i].in[i])), "%s/%u: %s skipped",
			      cases[_i].prefix, cases[_i].len, cases[_i].in[i]);
	for (i = 0; i < 2 && cases[_i].out[i]; i++)
		ck_assert_msg(!has(words, 1, bit_of(cases[_i].out[i])), "%s/%u: %s marked",
			      cases[_i].prefix, cases[_i].len, cases[_i].out[i]);
	/* nothing outside the cover, nothing in the filter's words */
	for (i = 0; i < (int)FG_SEEN_COVER_OFFSET; i++)
		ck_assert_uint_eq(words[i], 0);
	cover_set(words, 1, &k); /* again: the same bits */
	ck_assert_uint_eq(bits_set(words, 1), n);
	free(words);
}
END_TEST

/* An IPv4 unit and an IPv6 unit never share a bit. */
START_TEST(test_families_apart)
{
	ck_assert_uint_lt(bit_of("255.255.255.255"), 1U << FG_COVER4_LOG);
	ck_assert_uint_ge(bit_of("::"), 1U << FG_COVER4_LOG);
	ck_assert_uint_lt(bit_of("ffff:ffff:ffff::"),
			  (1U << FG_COVER4_LOG) + (1U << FG_COVER6_LOG));
}
END_TEST

static Suite *cover_suite(void)
{
	Suite *s = suite_create("cover");
	TCase *tc = tcase_create("marks");

	tcase_add_loop_test(tc, test_marks, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_families_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cover_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
