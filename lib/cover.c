// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include "cover.h"

/* Set bit of generation gen, reading first. */
static void set_bit(__u64 *words, __u32 gen, __u32 bit)
{
	__u64 *w = &words[fg_cover_word(gen, bit)], b = 1ULL << (bit & 63);

	if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & b))
		__atomic_fetch_or(w, b, __ATOMIC_SEQ_CST);
}

/* Set n bits from first (IPv4 units: a run, whole words once n >= 64,
 * aligned as prefixes are). */
static void set_run(__u64 *words, __u32 gen, __u32 first, __u32 n)
{
	__u32 i;

	if (n < 64) {
		for (i = 0; i < n; i++)
			set_bit(words, gen, first + i);
		return;
	}
	for (i = 0; i < n; i += 64) {
		__u64 *w = &words[fg_cover_word(gen, first + i)];

		if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != ~0ULL)
			__atomic_store_n(w, ~0ULL, __ATOMIC_SEQ_CST);
	}
}

void cover_set(__u64 *words, __u32 gen, const struct fg_ban_pfx_key *k)
{
	if (k->family == FG_AF_INET) {
		/* IPv4 keys are IPv4-mapped: length + 96. */
		__u32 len = k->prefixlen > 96 ? k->prefixlen - 96U : 0;
		__u32 unit = fg_cover_bit4(k->addr[3]);

		if (len >= FG_COVER4_LOG) {
			set_bit(words, gen, unit);
		} else {
			__u32 n = 1U << (FG_COVER4_LOG - len);

			set_run(words, gen, unit & ~(n - 1), n);
		}
	} else if (k->family == FG_AF_INET6 && k->prefixlen >= FG_COVER6_MIN_PLEN) {
		__u64 unit = fg_cover_unit6(k->addr), n = 1, i;

		if (k->prefixlen < FG_COVER6_UNIT) {
			n = 1ULL << (FG_COVER6_UNIT - k->prefixlen);
			unit &= ~(n - 1);
		}
		for (i = 0; i < n; i++)
			set_bit(words, gen, fg_cover_bit6_unit(unit + i));
	}
}
