/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* cidr: IPv4/IPv6 addresses and prefixes, parsed, formatted and keyed. */
#ifndef FG_CIDR_H
#define FG_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <floodgate/abi.h>

/* An address or prefix. addr as in struct fg_src_key (network byte order,
 * IPv4 in addr[0]); bits beyond prefixlen are always zero. */
struct fg_cidr {
	uint8_t family;	   /* FG_AF_INET or FG_AF_INET6 */
	uint8_t prefixlen; /* 0..32 or 0..128 */
	uint32_t addr[4];
};

#define FG_CIDR_STRLEN 50 /* "ffff:...:ffff/128" and a NUL */

/* Rewrites ::ffff:a.b.c.d/n (n >= 96) in place as a.b.c.d/(n - 96), the form
 * the LPM tries key both spellings by; anything else is left as it is.
 * cidr_parse() returns it so. */
void cidr_unmap(struct fg_cidr *c);

/*
 * Parse "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/32".
 * A bare address gets the full prefix length. IPv4-mapped IPv6 with a
 * prefix of 96 or more ("::ffff:192.0.2.0/120") is returned as the IPv4
 * address or prefix it names ("192.0.2.0/24"). Host bits set beyond the
 * prefix are an error (-EINVAL; "198.51.100.7/24" is ambiguous), as are
 * out-of-range lengths and trailing junk. Returns 0 or -EINVAL.
 */
int cidr_parse(const char *s, struct fg_cidr *out);

/* Like cidr_parse() but host bits beyond the prefix are cleared instead of
 * rejected ("198.51.100.7/24" -> 198.51.100.0/24); for suggesting what the
 * user meant in messages. Returns 0 or -EINVAL. */
int cidr_parse_loose(const char *s, struct fg_cidr *out);

/* Like cidr_parse() but the prefix is required to be a full address. */
int cidr_parse_addr(const char *s, struct fg_cidr *out);

/* Format as "a.b.c.d/n" or "x::y/n"; a full-length prefix without "/n".
 * buf must hold FG_CIDR_STRLEN bytes; returns buf. */
char *cidr_format(const struct fg_cidr *c, char *buf, size_t len);

/* The LPM trie key: IPv4 is stored IPv4-mapped (::ffff:0:0/96 + prefix). */
void cidr_to_lpm(const struct fg_cidr *c, struct fg_lpm_key *key);
void cidr_from_lpm(const struct fg_lpm_key *key, struct fg_cidr *c);

/* Bucket-state key for c (address or prefix) and rule id. */
void cidr_to_src_key(const struct fg_cidr *c, uint16_t rule, struct fg_src_key *key);
void cidr_from_src_key(const struct fg_src_key *key, struct fg_cidr *c);

/* Truncate c to its first prefixlen bits (prefixlen <= current). */
void cidr_mask(struct fg_cidr *c, uint8_t prefixlen);

/* True if c is one whole address (/32, /128), not a shorter prefix. */
bool cidr_is_address(const struct fg_cidr *c);

/* True if a and b are the same address or prefix. */
bool cidr_equal(const struct fg_cidr *a, const struct fg_cidr *b);

/* Index of c in list[0..n), or -1. */
int cidr_find(const struct fg_cidr *list, int n, const struct fg_cidr *c);

/* True if a contains b (same family, a shorter or equal and matching). */
bool cidr_contains(const struct fg_cidr *a, const struct fg_cidr *b);

#endif /* FG_CIDR_H */
