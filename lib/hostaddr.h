/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * hostaddr: the host's own addresses, and the one check that keeps an
 * operator's ban or deny entry from cutting the host off its network. The
 * agent (banguard) and floodctl -p share it, so both refuse alike.
 */
#ifndef FG_HOSTADDR_H
#define FG_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

#define HOSTADDR_MAX 4096 /* addresses read at most; the rest are not seen */

/* The addresses of this network namespace's interfaces (and with
 * broadcasts, each IPv4 subnet's broadcast) into out[0..max) as full-length
 * prefixes. The count, or -errno (getifaddrs() failed). */
int hostaddr_read(struct fg_cidr *out, int max, bool broadcasts);

/* The first of addrs[0..n) that c is or holds (IPv4-mapped c read as
 * IPv4), or NULL. */
const struct fg_cidr *hostaddr_held(const struct fg_cidr *c, const struct fg_cidr *addrs, int n);

/*
 * Would a ban or deny entry c cut the host off: a /0 (every address), or c
 * is or holds one of the host's addrs[0..n)? A prefix that holds the host
 * holds its neighbours too: the gateway, resolvers, management hosts. The
 * address held goes to *held (family 0 for a /0 that holds none).
 */
bool hostaddr_cuts_off(const struct fg_cidr *c, const struct fg_cidr *addrs, int n,
		       struct fg_cidr *held);

/* Why hostaddr_cuts_off() refused c with held, to an operator who asked to
 * verb ("ban", "deny") it: "refusing to ban 192.0.2.0/24: it holds ...". */
void hostaddr_refusal(const struct fg_cidr *c, const struct fg_cidr *held, const char *verb,
		      char *buf, size_t len);

/* The whole check, as an operator's ban or deny command makes it: this
 * namespace's addresses read now (broadcasts left out: no host sends from
 * them), then hostaddr_cuts_off(). True when c is refused, with why in
 * buf (also when the addresses cannot be read). Not thread-safe. */
bool hostaddr_refuses(const struct fg_cidr *c, const char *verb, char *buf, size_t len);

#endif /* FG_HOSTADDR_H */
