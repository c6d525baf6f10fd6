// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "duration.h"

int duration_parse(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { /* "ms" before "m": the longest unit that matches */
		      { "ms", 1 },
		      { "s", 1000 },
		      { "m", 60 * 1000 },
		      { "h", 3600 * 1000 },
		      { "d", 86400 * 1000 }
	};
	const char *start = s;
	uint64_t total = 0;

	while (*s) {
		uint64_t v = 0, mul = 0;
		const char *digits = s;
		size_t i, n;

		for (; *s >= '0' && *s <= '9'; s++) {
			if (v >= UINT64_MAX / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s - '0');
		}
		if (s == digits)
			return -EINVAL;
		for (i = 0; i < sizeof(units) / sizeof(units[0]) && !mul; i++) {
			n = strlen(units[i].unit);
			if (!strncmp(s, units[i].unit, n)) {
				mul = units[i].ms;
				s += n;
			}
		}
		if (!mul) {
			/* No unit: seconds, only as the whole text ("90", not "1h30"). */
			if (*s || digits != start)
				return -EINVAL;
			mul = 1000;
		}
		if (v > (max_ms - total) / mul)
			return -ERANGE;
		total += v * mul;
	}
	if (s == start)
		return -EINVAL;
	if (!total)
		return -EDOM;
	*out_ms = total;
	return 0;
}
