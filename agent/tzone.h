/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * tzone: time zones for budget periods (a budget's `timezone:`), resolved
 * once at config load from the system's TZif files (TZDIR, default
 * /usr/share/zoneinfo) into a bounded table of UTC offsets, so that a
 * decision maps an instant to its local period without setenv("TZ") /
 * tzset() (process-wide, not thread-safe) or any file access.
 *
 * Local time is made monotonic: when clocks go back (the 25-hour day),
 * local time stays at the last instant it had reached until it passes it
 * again, so a period never starts twice and period numbers never go back.
 * A period n (of period_ms, counted from the local 1970-01-01 00:00) starts
 * at the first instant whose local time reaches n * period_ms: local
 * midnight, or the first instant after it when a change skips it.
 */
#ifndef FG_TZONE_H
#define FG_TZONE_H

#include <stddef.h>
#include <stdint.h>

#define TZONE_NAME_MAX 64   /* = POLICY_TZ_NAME_MAX (policy-t.h) */
#define TZONE_SEGS_MAX 1024 /* offsets of one zone from 1970 to TZONE_END_YEAR */
#define TZONE_END_YEAR 2200 /* rules are followed until then; the last offset after */
#define TZONE_FILE_MAX (256 * 1024)
#define TZONE_MAX      256 /* distinct zone tables a process keeps (tzone_get): 6 MiB at most */

/* From start_ms on (up to the next segment's start) the offset is off_ms
 * and local time is at least floor_ms (clocks that went back). */
struct tzone_seg {
	int64_t start_ms;
	int64_t floor_ms;
	int64_t off_ms;
};

struct tzone {
	char name[TZONE_NAME_MAX]; /* as the config names it */
	int64_t min_off_ms;	   /* the smallest offset of the table */
	uint32_t n;		   /* segments; seg[0].start_ms is 0 */
	struct tzone_seg seg[TZONE_SEGS_MAX];
};

/*
 * The zone spec names ("UTC"; "+05:30", "-08:00", "+09": an offset east of
 * UTC; else an IANA name read from $TZDIR/spec) into *out: NULL for UTC, or a
 * table kept until exit (loaded once per distinct table, at most TZONE_MAX).
 * 0, or -ENOENT (no such zone), -EINVAL (not a zone name, not a TZif file),
 * -E2BIG (too many changes), -ENOMEM, with what failed in err.
 */
int tzone_get(const char *spec, const struct tzone **out, char *err, size_t errlen);

/* A TZif file (RFC 8536, versions 1 to 4) of len bytes into z (its name
 * left alone): 0, or -EINVAL / -E2BIG with why in err. Any bytes are safe. */
int tzone_parse_tzif(const void *buf, size_t len, struct tzone *z, char *err, size_t errlen);

/* The local period (of period_ms) now_ms is in, by the zone z (NULL: UTC). */
uint64_t tzone_period(const struct tzone *z, uint64_t now_ms, uint64_t period_ms);

/* When local period n of period_ms starts (Unix ms; saturates far out). */
uint64_t tzone_period_start(const struct tzone *z, uint64_t n, uint64_t period_ms);

/*
 * Up to max segments of z in effect from at_ms on, for a Redis script that
 * computes tzone_period itself (the first segment's floor included): the
 * number copied; *until: the last instant the copy holds for (the start of
 * the first segment not copied). z NULL: 0 and UINT64_MAX.
 */
size_t tzone_window(const struct tzone *z, uint64_t at_ms, struct tzone_seg *out, size_t max,
		    uint64_t *until);

#endif /* FG_TZONE_H */
