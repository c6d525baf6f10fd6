// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: PSUBSCRIBE's glob matcher (agent/glob.c) on hostile
 * patterns and channel names, compared with a memoised recursive reading of
 * the same rules (glob.h). A difference, crash or sanitizer report is a
 * bug; the input's first byte splits it into pattern and string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

#define MAXLEN 128

static const char *P, *S;
static size_t PL, SL;
static signed char memo[MAXLEN + 1][MAXLEN + 1]; /* -1 unknown, else the answer */

/* The set at P[i] ('['): whether it holds c; *end past it. */
static bool ref_set(size_t i, unsigned char c, size_t *end)
{
	bool neg = false, hit = false;

	i++;
	if (i < PL && P[i] == '^') {
		neg = true;
		i++;
	}
	while (i < PL) {
		if (P[i] == '\\' && i + 1 < PL) {
			hit |= (unsigned char)P[i + 1] == c;
			i += 2;
		} else if (P[i] == ']') {
			i++;
			break;
		} else if (i + 2 < PL && P[i + 1] == '-') {
			unsigned char a = (unsigned char)P[i], b = (unsigned char)P[i + 2];

			hit |= a <= b ? (c >= a && c <= b) : (c >= b && c <= a);
			i += 3;
		} else {
			hit |= (unsigned char)P[i] == c;
			i++;
		}
	}
	*end = i;
	return neg ? !hit : hit;
}

static bool ref(size_t pi, size_t si)
{
	size_t next;
	bool r;

	if (memo[pi][si] >= 0)
		return memo[pi][si];
	if (pi == PL) {
		r = si == SL;
	} else if (P[pi] == '*') {
		r = ref(pi + 1, si) || (si < SL && ref(pi, si + 1));
	} else if (si == SL) {
		r = false;
	} else if (P[pi] == '?') {
		r = ref(pi + 1, si + 1);
	} else if (P[pi] == '[') {
		r = ref_set(pi, (unsigned char)S[si], &next) && ref(next, si + 1);
	} else if (P[pi] == '\\' && pi + 1 < PL) {
		r = P[pi + 1] == S[si] && ref(pi + 2, si + 1);
	} else {
		r = P[pi] == S[si] && ref(pi + 1, si + 1);
	}
	memo[pi][si] = r;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split;

	if (size < 1 || size > 2 * MAXLEN)
		return 0;
	split = data[0] % size;
	P = (const char *)data + 1;
	PL = split;
	S = (const char *)data + 1 + split;
	SL = size - 1 - split;
	if (PL > MAXLEN || SL > MAXLEN)
		return 0;
	memset(memo, -1, sizeof(memo));
	if (glob_match(P, PL, S, SL) != ref(0, 0))
		abort();
	return 0;
}
