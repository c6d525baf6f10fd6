/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * glob: Redis's glob patterns (PSUBSCRIBE, KEYS): '*' any run of bytes, '?'
 * one byte, "[abc]", "[a-z]", "[^a]" a byte of (or not of) a set, '\' makes
 * the next byte literal. A '[' without its ']' runs to the end of the
 * pattern, a trailing '\' is a literal backslash, as in Redis.
 *
 * The matcher never backtracks further than the last '*': at most
 * O(pattern length x string length) steps for any input, so a hostile
 * pattern ("*a*a*a*a*b") cannot stall the loop.
 */
#ifndef FG_GLOB_H
#define FG_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..slen) matches pat[0..plen) (case-sensitive, binary safe). */
bool glob_match(const char *pat, size_t plen, const char *s, size_t slen);

#endif /* FG_GLOB_H */
