/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * editdist: the edit distance behind every "did you mean" (config keys,
 * floodctl's commands and options), so all of them suggest alike.
 */
#ifndef FG_EDITDIST_H
#define FG_EDITDIST_H

#define EDITDIST_MAX 64 /* longer words are this far from everything */

/* Inserts, deletions and substitutions from a to b; EDITDIST_MAX when
 * either is longer than that. */
int editdist(const char *a, const char *b);

#endif /* FG_EDITDIST_H */
