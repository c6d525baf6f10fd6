// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostaddr.h"
#include "hostpeers.h"
#include "log.h"

const struct hostpeers_paths hostpeers_system = {
	/* systemd-resolved's stub (127.0.0.53) in the first; its upstreams
	 * in the second. */
	.resolv = { "/etc/resolv.conf", "/run/systemd/resolve/resolv.conf", NULL },
	.route4 = "/proc/net/route",
	.route6 = "/proc/net/ipv6_route",
};

static void add(struct hostpeer *out, int *n, int max, const struct fg_cidr *c, const char *what)
{
	struct fg_cidr u = *c;
	uint32_t a;
	int i;

	cidr_unmap(&u);
	a = ntohl(u.addr[0]);
	if (u.family == FG_AF_INET ? !a || (a >> 24) == 127
				   : !(u.addr[0] | u.addr[1] | u.addr[2]) && ntohl(u.addr[3]) <= 1)
		return;
	for (i = 0; i < *n; i++)
		if (cidr_equal(&out[i].addr, &u))
			return;
	if (*n < max)
		out[(*n)++] = (struct hostpeer){ .addr = u, .what = what };
}

/* "nameserver ADDR" lines; an IPv6 zone ("%eth0") is dropped. */
static void read_resolv(const char *path, struct hostpeer *out, int *n, int max)
{
	char line[512], addr[128];
	struct fg_cidr c;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		addr[strcspn(addr, "%")] = '\0';
		if (!cidr_parse_addr(addr, &c))
			add(out, n, max, &c, "resolver");
	}
	fclose(f);
}

/* Default routes of /proc/net/route: destination 0, a gateway (host-order
 * hex of the network-order address). */
static void read_route4(const char *path, struct hostpeer *out, int *n, int max)
{
	unsigned int dst, gw, flags;
	char line[512], ifname[64];
	struct fg_cidr c = { .family = FG_AF_INET, .prefixlen = 32 };
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %x", ifname, &dst, &gw, &flags) != 4)
			continue; /* the header */
		if (dst || !gw || !(flags & 0x2 /* RTF_GATEWAY */))
			continue;
		c.addr[0] = gw; /* the kernel prints the address's bytes as a host u32 */
		add(out, n, max, &c, "gateway");
	}
	fclose(f);
}

static bool hex128(const char *s, uint32_t out[4])
{
	unsigned char b[16];
	int i;

	for (i = 0; i < 16; i++)
		if (sscanf(s + 2 * i, "%2hhx", &b[i]) != 1)
			return false;
	memcpy(out, b, 16);
	return true;
}

/* Default routes of /proc/net/ipv6_route: ::/0 with a next hop. */
static void read_route6(const char *path, struct hostpeer *out, int *n, int max)
{
	char dst[33], src[33], hop[33], line[512];
	unsigned int dlen, slen;
	struct fg_cidr c = { .family = FG_AF_INET6, .prefixlen = 128 };
	uint32_t d[4];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %32s %x %32s", dst, &dlen, src, &slen, hop) != 5)
			continue;
		if (dlen || !hex128(dst, d) || (d[0] | d[1] | d[2] | d[3]) || !hex128(hop, c.addr))
			continue;
		add(out, n, max, &c, "gateway");
	}
	fclose(f);
}

int hostpeers_read(const struct hostpeers_paths *p, struct hostpeer *out, int max)
{
	static struct fg_cidr local[HOSTADDR_MAX];
	int i, j, n = 0, nlocal;

	for (i = 0; p->resolv[i]; i++)
		read_resolv(p->resolv[i], out, &n, max);
	if (p->route4)
		read_route4(p->route4, out, &n, max);
	if (p->route6)
		read_route6(p->route6, out, &n, max);
	/* A resolver on one of the host's own addresses (its own DNS server)
	 * is no peer: a packet from it on the wire is forged, and verified it
	 * would skip the global budget under attack. */
	nlocal = hostaddr_read(local, HOSTADDR_MAX, false);
	for (i = j = 0; i < n; i++)
		if (nlocal <= 0 || !hostaddr_held(&out[i].addr, local, nlocal))
			out[j++] = out[i];
	return j;
}

const char *hostpeers_format(const struct hostpeers *h, char *buf, size_t len)
{
	char a[FG_CIDR_STRLEN];
	size_t at = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < h->n && at < len; i++) {
		cidr_format(&h->peers[i].addr, a, sizeof(a));
		at += (size_t)snprintf(buf + at, len - at, "%s%s %s", i ? ", " : "",
				       h->peers[i].what, a);
	}
	return buf;
}

static bool same_peers(const struct hostpeer *a, int na, const struct hostpeer *b, int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!cidr_equal(&a[i].addr, &b[i].addr) || strcmp(a[i].what, b[i].what))
			return false;
	return true;
}

int hostpeers_tick(struct hostpeers *h, struct xdpmaps *m, uint64_t now_ns)
{
	struct hostpeer next[HOSTPEERS_MAX];
	uint64_t until = now_ns + 3 * HOSTPEERS_PERIOD_NS;
	int i, n, written = 0, err;
	char buf[1024];

	if (h->next_ns && now_ns < h->next_ns)
		return 0;
	h->next_ns = now_ns + HOSTPEERS_PERIOD_NS;
	n = hostpeers_read(h->paths ? h->paths : &hostpeers_system, next, HOSTPEERS_MAX);
	if (!same_peers(h->peers, h->n, next, n)) {
		memcpy(h->peers, next, n * sizeof(next[0]));
		h->n = n;
		log_info("host peers kept verified (never banned)",
			 LOG_STR("peers", hostpeers_format(h, buf, sizeof(buf))));
	}
	for (i = 0; i < h->n; i++) {
		struct fg_verified v;
		struct fg_ban b;

		/* A ban the program made before the peer was seen (a flood
		 * forged from a gateway just configured) goes: it would have
		 * made none. An operator's or the fleet's stays. */
		if (!xdpmaps_ban_get(m, &h->peers[i].addr, &b) && b.origin == FG_BAN_AUTO &&
		    !xdpmaps_unban(m, &h->peers[i].addr)) {
			char a[FG_CIDR_STRLEN];

			log_warn("the program's ban of a host peer lifted",
				 LOG_STR("peer", h->peers[i].what),
				 LOG_STR("source", cidr_format(&h->peers[i].addr, a, sizeof(a))));
		}
		/* Written again only when its end comes within two periods:
		 * a longer vouch stays as it is. */
		if (xdpmaps_verified(m, &h->peers[i].addr, &v) != -ENOENT &&
		    v.until_ns >= now_ns + 2 * HOSTPEERS_PERIOD_NS)
			continue;
		err = xdpmaps_vouch(m, &h->peers[i].addr, until, FG_VERIFIED_HOST, NULL);
		if (err)
			return err;
		written++;
	}
	return written;
}
