// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the TZif reader (and its POSIX TZ footer) on hostile
 * bytes. A file is either read into a table or refused with a message;
 * nothing may crash, and an accepted table must be one the period
 * functions can walk: ordered segments, periods that never go back and
 * start no later than the instant they are asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tzone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tzone z;
	char err[160];
	uint64_t t, prev = 0, p;
	uint32_t i;

	if (tzone_parse_tzif(data, size, &z, err, sizeof(err))) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		return 0;
	}
	if (!z.n || z.n > TZONE_SEGS_MAX || z.seg[0].start_ms != 0)
		abort();
	for (i = 1; i < z.n; i++) {
		if (z.seg[i].start_ms <= z.seg[i - 1].start_ms)
			abort();
	}
	for (t = 0; t < 8000000000000ULL; t += 7777777777ULL) {
		p = tzone_period(&z, t, 86400000);
		if (p < prev || tzone_period_start(&z, p, 86400000) > t ||
		    tzone_period_start(&z, p + 1, 86400000) <= t)
			abort();
		prev = p;
	}
	return 0;
}
