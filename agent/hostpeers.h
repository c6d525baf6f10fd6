/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * hostpeers: the peers a host depends on without talking TCP to them, its
 * DNS resolvers (resolv.conf) and default gateways (the routing table), kept
 * verified in the XDP program's verified map (origin FG_VERIFIED_HOST).
 *
 * A verified source is never banned by the program: a SYN flood forged
 * "from" the host's resolver must not cut the host off its DNS. TCP peers
 * verify themselves (the host sends them data); these send the host UDP
 * replies, which never verify.
 */
#ifndef FG_HOSTPEERS_H
#define FG_HOSTPEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "xdpmaps.h"

#define HOSTPEERS_MAX 64 /* resolvers and gateways kept; more are not seen */

/* Where the peers are read from (tests give their own files). */
struct hostpeers_paths {
	const char *resolv[3]; /* resolv.conf files, NULL-ended; missing ones are skipped */
	const char *route4;    /* /proc/net/route */
	const char *route6;    /* /proc/net/ipv6_route */
};

extern const struct hostpeers_paths hostpeers_system;

struct hostpeer {
	struct fg_cidr addr;
	const char *what; /* "resolver" or "gateway" */
};

/* Read the resolvers, then the default gateways, into out[0..max): each
 * address once; unspecified and loopback ones (a local stub resolver) and
 * the host's own addresses are left out. Returns the count (0 when nothing
 * can be read). */
int hostpeers_read(const struct hostpeers_paths *p, struct hostpeer *out, int max);

struct hostpeers {
	const struct hostpeers_paths *paths;
	struct hostpeer peers[HOSTPEERS_MAX];
	int n;
	uint64_t next_ns; /* when to read again */
};

/* Every HOSTPEERS_PERIOD_NS: read the peers again (logging a change) and
 * keep each verified in m for three periods, never shortening a longer
 * vouch. Returns how many were written, or -errno of the first failure. */
#define HOSTPEERS_PERIOD_NS (10 * 1000000000ULL)
int hostpeers_tick(struct hostpeers *h, struct xdpmaps *m, uint64_t now_ns);

/* "resolver 10.0.0.2, gateway 192.0.2.1" (what INFO xdp shows), in buf. */
const char *hostpeers_format(const struct hostpeers *h, char *buf, size_t len);

#endif /* FG_HOSTPEERS_H */
