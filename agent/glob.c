// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include "glob.h"

/*
 * Every token but '*' matches exactly one byte, which is what makes the
 * single restart point enough: when a later '*' is reached, any way the
 * earlier '*' could have matched more is covered by the later one, so only
 * the last '*' is ever retried (one more byte each time).
 */

/* The end of the one-byte token starting at pat[i] (not '*'). */
static size_t token_end(const char *pat, size_t plen, size_t i)
{
	if (pat[i] == '\\')
		return i + 2 <= plen ? i + 2 : i + 1;
	if (pat[i] != '[')
		return i + 1;
	i++;
	if (i < plen && pat[i] == '^')
		i++;
	while (i < plen && pat[i] != ']') {
		if (pat[i] == '\\' && i + 1 < plen)
			i++;
		i++;
	}
	return i < plen ? i + 1 : plen; /* past ']', or an unclosed set ends the pattern */
}

/* Whether the set pat[i..end) ("[...]", the ']' may be missing) holds ch. */
static bool set_has(const char *pat, size_t i, size_t end, unsigned char ch)
{
	bool neg = false, hit = false;

	i++; /* '[' */
	if (end > i && pat[end - 1] == ']')
		end--;
	if (i < end && pat[i] == '^') {
		neg = true;
		i++;
	}
	while (i < end) {
		unsigned char lo = (unsigned char)pat[i], hi;

		if (lo == '\\' && i + 1 < end) {
			lo = (unsigned char)pat[++i];
			hit |= lo == ch;
			i++;
		} else if (i + 2 < end && pat[i + 1] == '-') {
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
	return neg ? !hit : hit;
}

/* Whether the token pat[i..end) matches the byte ch. */
static bool token_match(const char *pat, size_t i, size_t end, unsigned char ch)
{
	switch (pat[i]) {
	case '?':
		return true;
	case '[':
		return set_has(pat, i, end, ch);
	case '\\':
		return (unsigned char)pat[end - 1] == ch; /* a trailing '\' is itself */
	default:
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
			end = token_end(pat, plen, pi);
			if (token_match(pat, pi, end, (unsigned char)s[si])) {
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
