/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * duration: the one syntax of a duration, in the config file and on
 * floodctl's command line: numbers with a unit each, summed, largest unit
 * first or not: "500ms", "30s", "5m", "1h30m", "2d"; a number alone is
 * seconds ("90"). No signs, no fractions, no spaces.
 */
#ifndef FG_DURATION_H
#define FG_DURATION_H

#include <stdint.h>

#define DURATION_EXAMPLES "500ms, 30s, 5m, 1h30m, 1d"

/* s -> milliseconds in *out_ms. 0; -EINVAL when it is not a duration,
 * -EDOM when it is 0, -ERANGE when it is longer than max_ms. */
int duration_parse(const char *s, uint64_t max_ms, uint64_t *out_ms);

#endif /* FG_DURATION_H */
