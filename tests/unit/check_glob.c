// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Redis glob patterns (PSUBSCRIBE): a table of cases, a comparison with a
 * plain recursive matcher on random patterns, and hostile patterns that
 * would take exponential time in a backtracking matcher.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "glob.h"

static const struct {
	const char *pat, *s;
	bool match;
} cases[] = {
	{ "violations", "violations", true },
	{ "violations", "violations:x", false },
	{ "violations:*", "violations:signaling", true },
	{ "violations:*", "violations:", true },
	{ "violations:*", "violations", false },
	{ "violations*", "violations", true },
	{ "*", "", true },
	{ "", "", true },
	{ "", "a", false },
	{ "?", "", false },
	{ "?", "a", true },
	{ "h?llo", "hello", true },
	{ "h?llo", "hllo", false },
	{ "h*llo", "hllo", true },
	{ "h*llo", "heeeello", true },
	{ "h[ae]llo", "hallo", true },
	{ "h[ae]llo", "hillo", false },
	{ "h[^e]llo", "hallo", true },
	{ "h[^e]llo", "hello", false },
	{ "h[a-b]llo", "hbllo", true },
	{ "h[a-b]llo", "hcllo", false },
	{ "h[b-a]llo", "hallo", true }, /* a reversed range is the same range */
	{ "[]", "a", false },
	{ "[]a", "a", false },
	{ "a\\*b", "a*b", true },
	{ "a\\*b", "axb", false },
	{ "a\\?", "a?", true },
	{ "[\\]]", "]", true },
	{ "[a\\-z]", "-", true },
	{ "[a\\-z]", "b", false },
	{ "[abc", "b", true }, /* an unclosed set runs to the end */
	{ "[abc", "[", false },
	{ "[a-]", "]", true },	/* a range may end with ']': the set is then unclosed */
	{ "[a-]b", "b", true }, /* the set is {a..], b} */
	{ "a\\", "a\\", true }, /* a trailing backslash is itself */
	{ "a\\", "a", false },
	{ "*a*b*c", "xxaxxbxxc", true },
	{ "*a*b*c", "xxaxxcxxb", false },
	{ "a*", "b", false },
	{ "**a**", "a", true },
	{ "*:signal*", "violations:signaling", true },
	{ "violations:[s]ig*", "violations:signaling", true },
};

START_TEST(test_table)
{
	const char *p = cases[_i].pat, *s = cases[_i].s;

	ck_assert_msg(glob_match(p, strlen(p), s, strlen(s)) == cases[_i].match,
		      "\"%s\" ~ \"%s\" should be %s", p, s, cases[_i].match ? "true" : "false");
}
END_TEST

/* The set at p (just past '['): *end past it, as the rules in glob.h say. */
static bool ref_set(const char *p, const char *pend, unsigned char c, const char **end)
{
	bool neg = false, hit = false;

	if (p < pend && *p == '^') {
		neg = true;
		p++;
	}
	while (p < pend) {
		if (*p == '\\' && p + 1 < pend) {
			hit |= (unsigned char)p[1] == c;
			p += 2;
		} else if (*p == ']') {
			p++;
			break;
		} else if (p + 2 < pend && p[1] == '-') {
			unsigned char a = (unsigned char)p[0], b = (unsigned char)p[2];

			hit |= (a <= b) ? (c >= a && c <= b) : (c >= b && c <= a);
			p += 3;
		} else {
			hit |= (unsigned char)*p == c;
			p++;
		}
	}
	*end = p;
	return neg ? !hit : hit;
}

/* Plain recursion: exponential on hostile input, fine on short random ones. */
static bool ref_match(const char *p, const char *pend, const char *s, const char *send)
{
	const char *next;

	if (p == pend)
		return s == send;
	if (*p == '*') {
		for (const char *t = s; t <= send; t++)
			if (ref_match(p + 1, pend, t, send))
				return true;
		return false;
	}
	if (s == send)
		return false;
	if (*p == '?')
		return ref_match(p + 1, pend, s + 1, send);
	if (*p == '[')
		return ref_set(p + 1, pend, (unsigned char)*s, &next) &&
		       ref_match(next, pend, s + 1, send);
	if (*p == '\\' && p + 1 < pend)
		return p[1] == *s && ref_match(p + 2, pend, s + 1, send);
	return *p == *s && ref_match(p + 1, pend, s + 1, send);
}

START_TEST(test_random_against_reference)
{
	static const char pchars[] = "ab*?[]^-\\";
	static const char schars[] = "ab-]^\\[";
	char p[10], s[12];
	unsigned seed = (unsigned)time(NULL);
	int i, k, pl, sl;

	srand(seed);
	for (i = 0; i < 200000; i++) {
		pl = rand() % 9;
		sl = rand() % 11;
		for (k = 0; k < pl; k++)
			p[k] = pchars[rand() % (sizeof(pchars) - 1)];
		for (k = 0; k < sl; k++)
			s[k] = schars[rand() % (sizeof(schars) - 1)];
		p[pl] = s[sl] = '\0';
		ck_assert_msg(
			glob_match(p, (size_t)pl, s, (size_t)sl) == ref_match(p, p + pl, s, s + sl),
			"seed %u: \"%s\" ~ \"%s\": glob %d, reference %d", seed, p, s,
			glob_match(p, (size_t)pl, s, (size_t)sl), ref_match(p, p + pl, s, s + sl));
	}
}
END_TEST

/* A backtracking matcher takes exponential time on these; a bounded one
 * does each in well under a millisecond. */
START_TEST(test_hostile_patterns_are_fast)
{
	char pat[257], s[257];
	struct timespec t0, t1;
	double ms;
	int i;

	for (i = 0; i < 256; i++)
		s[i] = 'a';
	s[256] = '\0';
	for (i = 0; i < 255; i++)
		pat[i] = (i % 2) ? 'a' : '*';
	pat[255] = 'b';
	pat[256] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100; i++)
		ck_assert(!glob_match(pat, 256, s, 256));
	ck_assert(!glob_match("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?b", 33, s, 256));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* 100 matches of 256 x 256 steps at most: milliseconds, not years */
	ck_assert_msg(ms < 2000, "hostile patterns took %.0f ms", ms);
}
END_TEST

static Suite *glob_suite(void)
{
	Suite *s = suite_create("glob");
	TCase *tc = tcase_create("match");

	tcase_add_loop_test(tc, test_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_random_against_reference);
	tcase_add_test(tc, test_hostile_patterns_are_fast);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(glob_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
