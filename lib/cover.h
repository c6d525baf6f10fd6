/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * cover: the bits of the prefix ban cover (FG_COVER_* in abi.h) that a
 * bans_pfx key sets. The program tests one bit per packet, that of its
 * address's unit (an IPv4 /20, an IPv6 /40), before it looks up any
 * prefix length; so every unit a banned prefix covers, or lies in, has its
 * bit set before the prefix is in bans_pfx.
 */
#ifndef FG_COVER_H
#define FG_COVER_H

#include <floodgate/abi.h>

/* Set in generation gen of the seen map's words (mapped) the cover bits of
 * bans_pfx key k: 2^(20 - len) units for an IPv4 prefix up to /20 (one
 * past), 2^(40 - len) hashed units for an IPv6 prefix up to /40 (one
 * past), none for IPv6 shorter than FG_COVER6_MIN_PLEN (the program looks
 * those lengths up whatever the cover says). Reads before it writes: a set
 * bit costs no store to a line the program reads. */
void cover_set(__u64 *words, __u32 gen, const struct fg_ban_pfx_key *k);

#endif /* FG_COVER_H */
