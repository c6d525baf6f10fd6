// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* tzone: local periods across the 2026 DST changes of Europe/Berlin and
 * America/New_York and a +05:30 offset (days of 23 and 25 hours), a zone
 * read from its POSIX TZ footer alone, clocks that go back over midnight,
 * and refused zones and files (hostile bytes included). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tzone.h"
#include "tzif_build.h"

#define H   3600000ULL
#define DAY (24 * H)

static const struct tzone *zone(const char *spec)
{
	const struct tzone *z = NULL;
	char err[256];

	ck_assert_msg(!tzone_get(spec, &z, err, sizeof(err)), "%s: %s", spec, err);
	ck_assert_ptr_nonnull(z);
	return z;
}

/* The local day that starts at start_ms lasts hours hours. */
static void day_is(const struct tzone *z, uint64_t start_ms, uint64_t hours)
{
	uint64_t n = tzone_period(z, start_ms, DAY);

	ck_assert_uint_eq(tzone_period(z, start_ms - 1, DAY), n - 1);
	ck_assert_uint_eq(tzone_period_start(z, n, DAY), start_ms);
	ck_assert_uint_eq(tzone_period_start(z, n + 1, DAY) - start_ms, hours * H);
	ck_assert_uint_eq(tzone_period(z, start_ms + hours * H - 1, DAY), n);
	ck_assert_uint_eq(tzone_period(z, start_ms + hours * H, DAY), n + 1);
}

START_TEST(test_berlin_2026)
{
	const struct tzone *z = zone("Europe/Berlin");

	day_is(z, 1774652400000ULL, 24); /* 2026-03-28 00:00 CET */
	day_is(z, 1774738800000ULL, 23); /* 2026-03-29: 02:00 CET -> 03:00 CEST */
	day_is(z, 1774821600000ULL, 24); /* 2026-03-30 00:00 CEST */
	day_is(z, 1792879200000ULL, 25); /* 2026-10-25: 03:00 CEST -> 02:00 CET */
	day_is(z, 1792969200000ULL, 24); /* 2026-10-26 00:00 CET */
	/* Day numbers are dates: 2026-03-29 is day 20541 since 1970-01-01. */
	ck_assert_uint_eq(tzone_period(z, 1774738800000ULL, DAY), 20541);
	/* The hour 02:00-03:00 CEST repeats as 02:00-03:00 CET: the clock
	 * gone back reads as the last instant reached, a period never twice. */
	ck_assert_uint_eq(tzone_period(z, 1792890000000ULL - 1, H),
			  tzone_period(z, 1792890000000ULL + H - 1, H));
	ck_assert_uint_eq(tzone_period(z, 1792890000000ULL + H, H),
			  tzone_period(z, 1792890000000ULL - 1, H) + 1);
}
END_TEST

START_TEST(test_new_york_2026)
{
	const struct tzone *z = zone("America/New_York");

	day_is(z, 1772946000000ULL, 23); /* 2026-03-08: 02:00 EST -> 03:00 EDT */
	day_is(z, 1773028800000ULL, 24);
	day_is(z, 1793505600000ULL, 25); /* 2026-11-01: 02:00 EDT -> 01:00 EST */
	day_is(z, 1793595600000ULL, 24);
	/* After 2037 the file's own changes end: its TZ rule goes on. */
	day_is(z, 2152155600000ULL, 23); /* 2038-03-14 */
}
END_TEST

START_TEST(test_offset_0530)
{
	const struct tzone *z = zone("+05:30");

	day_is(z, 1795545000000ULL, 24); /* 2026-11-25 00:00 +05:30 is 11-24 18:30 UTC */
	day_is(z, 1795631400000ULL, 24);
	/* hours start at half past in UTC */
	ck_assert_uint_eq(tzone_period_start(z, tzone_period(z, 1795545000000ULL + 1, H) + 1, H),
			  1795545000000ULL + H);
	ck_assert_str_eq(z->name, "+05:30");
	z = zone("-08");
	day_is(z, 1795593600000ULL, 24); /* 2026-11-25 00:00 -08:00 */
}
END_TEST

/* A slim file: no changes, only the rule "CET-1CEST,M3.5.0,M10.5.0/3". */
START_TEST(test_footer_only)
{
	unsigned char buf[512];
	size_t len = tzb_make(buf, 3600, NULL, NULL, 0, "CET-1CEST,M3.5.0,M10.5.0/3");
	static struct tzone z;
	char err[160];

	ck_assert_msg(!tzone_parse_tzif(buf, len, &z, err, sizeof(err)), "%s", err);
	day_is(&z, 1774738800000ULL, 23);
	day_is(&z, 1792879200000ULL, 25);
	/* 2100-03-28: 02:00 CET at 01:00 UTC */
	ck_assert_uint_eq(tzone_period(&z, 4109878800000ULL - 1, H) + 2,
			  tzone_period(&z, 4109878800000ULL, H));
	/* A southern zone: DST across the new year (Australia/Sydney's rule). */
	len = tzb_make(buf, 36000, NULL, NULL, 0, "AEST-10AEDT,M10.1.0,M4.1.0/3");
	ck_assert_msg(!tzone_parse_tzif(buf, len, &z, err, sizeof(err)), "%s", err);
	/* 2026-04-05 03:00 AEDT -> 02:00 AEST at 2026-04-04 16:00 UTC: a 25-hour
	 * day that started at 2026-04-04 13:00 UTC. */
	day_is(&z, 1775307600000ULL, 25);
}
END_TEST

/* Clocks that go back over midnight (01-02 00:30 -> 01-01 23:30): the day
 * of 01-02 does not end and start again, it lasts 25 hours. */
START_TEST(test_back_over_midnight)
{
	const int64_t at[] = { 1767310200 }; /* 2026-01-01 23:30 UTC */
	const int32_t off[] = { 0 };
	unsigned char buf[512];
	size_t len = tzb_make(buf, 3600, at, off, 1, "");
	static struct tzone z;
	char err[160];
	uint64_t d2 = 1767222000000ULL + DAY; /* 2026-01-02 00:00 +01:00 */

	ck_assert_msg(!tzone_parse_tzif(buf, len, &z, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(tzone_period(&z, 1767310200000ULL - 1, DAY),
			  tzone_period(&z, 1767310200000ULL, DAY));
	ck_assert_uint_eq(tzone_period_start(&z, tzone_period(&z, d2, DAY), DAY), d2);
	day_is(&z, d2, 25);
}
END_TEST

START_TEST(test_refused)
{
	static const char *const bad[] = { "Europe/Berln",
					   "../../etc/passwd",
					   "/etc/localtime",
					   "+25:00",
					   "+05:3",
					   "Europe/./Berlin",
					   "",
					   "Europe/Berlin\n",
					   "05:30" };
	const struct tzone *z = (const struct tzone *)1;
	char err[256], dir[] = "/tmp/fgut-tz.XXXXXX", path[300];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = tzone_get(bad[i], &z, err, sizeof(err));

		ck_assert_msg(e == -ENOENT || e == -EINVAL, "%s: %d", bad[i], e);
		ck_assert_ptr_null(z);
	}
	ck_assert_int_eq(tzone_get("UTC", &z, err, sizeof(err)), 0);
	ck_assert_ptr_null(z);
	ck_assert_int_eq(tzone_get("+00:00", &z, err, sizeof(err)), 0);
	ck_assert_ptr_null(z);
	ck_assert_uint_eq(tzone_period(NULL, 5 * DAY + 1, DAY), 5);
	ck_assert_uint_eq(tzone_period_start(NULL, 5, DAY), 5 * DAY);

	/* TZDIR is honoured; a file that is not TZif, a missing directory */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Bad", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("TZif2 not really\n", f);
	fclose(f);
	setenv("TZDIR", dir, 1);
	ck_assert_int_eq(tzone_get("Bad", &z, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a TZif file"), "%s", err);
	ck_assert_int_eq(tzone_get("Europe/Berlin", &z, err, sizeof(err)), -ENOENT);
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(tzone_get("Europe/Berlin", &z, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "install tzdata or set TZDIR"), "%s", err);
	unsetenv("TZDIR");
	/* the same table twice is one table */
	ck_assert_ptr_eq(zone("Europe/Berlin"), zone("Europe/Berlin"));
}
END_TEST

/* Every cut of a real file, and bytes changed all over it: read or refused
 * with a message, and a table read is one the period functions can walk. */
/* An agent whose reloads move a budget through zones (stop 35's trial: the
 * 28th new zone was refused until a restart, with 32 kept): 100 distinct
 * tables load; past TZONE_MAX the refusal says to restart. */
START_TEST(test_many_zones)
{
	const struct tzone *z;
	char spec[16], err[256];
	int i, e = 0;

	for (i = 1; i <= TZONE_MAX + 1 && !e; i++) {
		snprintf(spec, sizeof(spec), "+%02d:%02d", i / 60, i % 60);
		e = tzone_get(spec, &z, err, sizeof(err));
		ck_assert_msg(e == 0 || i > 100, "zone %d (%s): %s", i, spec, err);
	}
	ck_assert_int_eq(e, -E2BIG);
	ck_assert_int_eq(i - 1, TZONE_MAX + 1);
	ck_assert_msg(strstr(err, "restart it to free the ones no longer used"), "%s", err);
	/* A table kept already is found again, past the limit too. */
	ck_assert_int_eq(tzone_get("+00:01", &z, err, sizeof(err)), 0);
	ck_assert_str_eq(z->name, "+00:01");
}
END_TEST

START_TEST(test_hostile_bytes)
{
	static unsigned char buf[8192], m[8192];
	static struct tzone z;
	FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
	size_t len, i, ok = 0;
	char err[160];
	uint64_t t;

	ck_assert_ptr_nonnull(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_uint_gt(len, 1000);
	for (i = 0; i <= len; i++) {
		if (!tzone_parse_tzif(buf, i, &z, err, sizeof(err)))
			ok++;
		else
			ck_assert(err[0]);
	}
	ck_assert_uint_ge(ok, 1);
	srandom(7);
	for (i = 0; i < 20000; i++) {
		memcpy(m, buf, len);
		m[(size_t)random() % len] = (unsigned char)random();
		m[(size_t)random() % len] ^= (unsigned char)(1 << (random() % 8));
		if (tzone_parse_tzif(m, len, &z, err, sizeof(err)))
			continue;
		for (t = 0; t < 4000000000000ULL; t += 99999999999ULL) {
			uint64_t p = tzone_period(&z, t, DAY);

			ck_assert_uint_le(tzone_period_start(&z, p, DAY), t);
			ck_assert_uint_gt(tzone_period_start(&z, p + 1, DAY), t);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tzone");
	TCase *t = tcase_create("tzone");
	SRunner *r;
	int failed;

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_berlin_2026);
	tcase_add_test(t, test_new_york_2026);
	tcase_add_test(t, test_offset_0530);
	tcase_add_test(t, test_footer_only);
	tcase_add_test(t, test_back_over_midnight);
	tcase_add_test(t, test_refused);
	tcase_add_test(t, test_hostile_bytes);
	tcase_add_test(t, test_many_zones);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
