// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "hostaddr.h"

static void add_sockaddr(struct fg_cidr *out, int *n, int max, const struct sockaddr *sa)
{
	struct fg_cidr c = {};

	if (!sa || *n >= max)
		return;
	if (sa->sa_family == AF_INET) {
		c.family = FG_AF_INET;
		c.prefixlen = 32;
		c.addr[0] = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else if (sa->sa_family == AF_INET6) {
		c.family = FG_AF_INET6;
		c.prefixlen = 128;
		memcpy(c.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return;
	}
	out[(*n)++] = c;
}

/* The all-ones host of an IPv4 subnet: a directed broadcast whether or not
 * the interface was given it as its broadcast address (ip addr add without
 * brd leaves none). /31 and /32 have no broadcast. */
static void add_directed_broadcast(struct fg_cidr *out, int *n, int max, const struct ifaddrs *i)
{
	struct sockaddr_in b = { .sin_family = AF_INET };
	uint32_t a, m;

	if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
		return;
	a = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
	m = ((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
	if (ntohl(m) >= 0xfffffffeU)
		return;
	b.sin_addr.s_addr = a | ~m;
	add_sockaddr(out, n, max, (const struct sockaddr *)&b);
}

int hostaddr_read(struct fg_cidr *out, int max, bool broadcasts)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		add_sockaddr(out, &n, max, i->ifa_addr);
		if (!broadcasts)
			continue;
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    (i->ifa_flags & IFF_BROADCAST))
			add_sockaddr(out, &n, max, i->ifa_broadaddr);
		add_directed_broadcast(out, &n, max, i);
	}
	freeifaddrs(ifa);
	return n;
}

const struct fg_cidr *hostaddr_held(const struct fg_cidr *in, const struct fg_cidr *addrs, int n)
{
	struct fg_cidr c = *in;
	int i;

	cidr_unmap(&c);
	for (i = 0; i < n; i++)
		if (cidr_contains(&c, &addrs[i]) || cidr_contains(&addrs[i], &c))
			return &addrs[i];
	return NULL;
}

bool hostaddr_cuts_off(const struct fg_cidr *c, const struct fg_cidr *addrs, int n,
		       struct fg_cidr *held)
{
	const struct fg_cidr *own = hostaddr_held(c, addrs, n);
	struct fg_cidr u = *c;

	cidr_unmap(&u); /* ::ffff:0:0/96 is 0.0.0.0/0 */
	memset(held, 0, sizeof(*held));
	if (own)
		*held = *own;
	return own || !u.prefixlen;
}

void hostaddr_refusal(const struct fg_cidr *c, const struct fg_cidr *held, const char *verb,
		      char *buf, size_t len)
{
	char want[FG_CIDR_STRLEN], own[FG_CIDR_STRLEN];
	struct fg_cidr u = *c;

	cidr_unmap(&u);
	cidr_format(&u, want, sizeof(want));
	if (!u.prefixlen)
		snprintf(buf, len,
			 "refusing to %s %s: it holds every address, this host's gateway and "
			 "management hosts included",
			 verb, want);
	else if (cidr_contains(held, &u))
		snprintf(buf, len, "refusing to %s %s: it is an address of this host", verb, want);
	else
		snprintf(buf, len,
			 "refusing to %s %s: it holds %s, an address of this host, and so its "
			 "neighbours (gateway, resolvers, management hosts); %s a narrower prefix",
			 verb, want, cidr_format(held, own, sizeof(own)), verb);
}

bool hostaddr_refuses(const struct fg_cidr *c, const char *verb, char *buf, size_t len)
{
	static struct fg_cidr local[HOSTADDR_MAX];
	struct fg_cidr held;
	int n = hostaddr_read(local, HOSTADDR_MAX, false);

	if (n < 0) {
		snprintf(buf, len, "cannot %s: this host's addresses cannot be read: %s", verb,
			 strerror(-n));
		return true;
	}
	if (!hostaddr_cuts_off(c, local, n, &held))
		return false;
	hostaddr_refusal(c, &held, verb, buf, len);
	return true;
}
