// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include "glob.h"

/*
 * Every token but '*' matches exactly one byte, which is what makes the
 * single restart point enough: when a later '*' is reached, any way the
 * earlier '*' could have matched more is covered by the later one, so only
 * the last '*' is ever retried (one more byte each time).
 */

/*
 * The set starting at pat[i] ('['): whether it holds ch, and *end past it.
 * Redis's reading: a backslash escapes the next byte, an unescaped ']' closes it
 * (a range's upper end may be ']'), none closes it at the pattern's end.
 */
static bool set_walk(const char *pat, size_t plen, size_t i, unsigned char ch, size_t *end)
{
	bool neg = false, hit = false;

	i++; /* '[' */
	if (i < plen && pat[i] == '^') {
		neg = true;
		i++;
	}
	while (i < plen) {
		unsigned char lo = (unsigned char)pat[i], hi;

		if (lo == '\\' && i + 1 < plen) {
			hit |= (unsigned char)pat[i + 1] == ch;
			i += 2;
		} else if (lo == ']') {
			i++;
			break;
		} else if (i + 2 < plen && pat[i + 1] == '-') {
			hi = (unsigned char)pat[i + 2];
			if (lo > hi) {
				unsigned char t = lo;

				lo = hi;
				hi = t;
			}
			hit |= ch >= lo && ch <= hi;
			i += 3;
		} else {
			hit |= lo == ch;
			i++;
		}
	}
	*end = i;
	return neg ? !hit : hit;
}

/* Whether the one-byte token at pat[i] (not '*') matches ch; *end past it. */
static bool token_match(const char *pat, size_t plen, size_t i, unsigned char ch, size_t *end)
{
	switch (pat[i]) {
	case '?':
		*end = i + 1;
		return true;
	case '[':
		return set_walk(pat, plen, i, ch, end);
	case '\\':
		if (i + 1 < plen) {
			*end = i + 2;
			return (unsigned char)pat[i + 1] == ch;
		}
		*end = i + 1; /* a trailing backslash is itself */
		return ch == '\\';
	default:
		*end = i + 1;
		return (unsigned char)pat[i] == ch;
	}
}

bool glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star_p = 0, star_s = 0, end;
	bool star = false;

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			while (pi < plen && pat[pi] == '*')
				pi++;
			if (pi == plen)
				return true; /* a trailing '*' takes the rest */
			star = true;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < plen) {
			if (token_match(pat, plen, pi, (unsigned char)s[si], &end)) {
				pi = end;
				si++;
				continue;
			}
		}
		if (!star)
			return false;
		/* the last '*' takes one more byte; retry what follows it */
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}
