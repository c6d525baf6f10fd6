// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "pktbuild.h"

struct wr {
	uint8_t *buf;
	size_t len;
	int err;
};

static uint8_t *wr_take(struct wr *w, size_t n)
{
	uint8_t *p;

	if (w->len + n > PB_MAX_LEN) {
		w->err = 1;
		return NULL;
	}
	p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

static void wr_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static int ext_proto(enum pb_ext e)
{
	switch (e) {
	case PB_EXT_HOP:
		return 0;
	case PB_EXT_DEST:
		return 60;
	case PB_EXT_ROUTING:
		return 43;
	case PB_EXT_FRAG:
		return 44;
	case PB_EXT_AUTH:
		return 51;
	default:
		return -1;
	}
}

/* Write the L4 header and payload; returns the L4 length. */
static size_t put_l4(struct wr *w, const struct pkt_spec *s, uint8_t proto)
{
	size_t start = w->len;
	uint8_t *h;

	if (proto == IPPROTO_TCP) {
		int doff = s->doff ? s->doff : 5;

		h = wr_take(w, doff < 5 ? 20 : (size_t)doff * 4);
		if (!h)
			return 0;
		wr_be16(h, s->sport ? s->sport : 40000);
		wr_be16(h + 2, s->dport ? s->dport : 443);
		h[4] = 0x12; /* sequence number: anything */
		h[12] = (uint8_t)(doff << 4);
		h[13] = s->tcp_flags;
		wr_be16(h + 14, 65535);
	} else if (proto == IPPROTO_UDP) {
		h = wr_take(w, 8);
		if (!h)
			return 0;
		wr_be16(h, s->sport ? s->sport : 40000);
		wr_be16(h + 2, s->dport ? s->dport : 443);
		wr_be16(h + 4, (uint16_t)(8 + s->payload));
	} else {
		/* ICMP / ICMPv6 echo request */
		h = wr_take(w, 8);
		if (!h)
			return 0;
		h[0] = proto == IPPROTO_ICMPV6 ? 128 : 8;
	}
	if (s->payload && !wr_take(w, (size_t)s->payload))
		return 0;
	return w->len - start;
}

static void put_ipv4(struct wr *w, const struct pkt_spec *s, const struct in_addr *sa,
		     const struct in_addr *da, uint8_t proto)
{
	int ihl = s->ihl ? s->ihl : 5 + s->ip_opts / 4;
	size_t hlen = (size_t)(ihl < 5 ? 5 : ihl) * 4;
	size_t at = w->len;
	uint8_t *h = wr_take(w, hlen);
	uint16_t frag;
	size_t l4;

	if (!h)
		return;
	h[0] = (uint8_t)(0x40 | (ihl & 0xf));
	h[5] = 0; /* TOS */
	wr_be16(h + 4, 0x1234);
	frag = (uint16_t)((s->frag_off & 0x1fff) | (s->mf ? 0x2000 : 0));
	wr_be16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, sa, 4);
	memcpy(h + 16, da, 4);
	/* Options: NOPs closed by an EOL. */
	if (hlen > 20) {
		memset(h + 20, 1, hlen - 20);
		h[hlen - 1] = 0;
	}
	l4 = put_l4(w, s, proto);
	h = w->buf + at;
	wr_be16(h + 2, (uint16_t)(hlen + l4));
}

static void put_ipv6(struct wr *w, const struct pkt_spec *s, const struct in6_addr *sa,
		     const struct in6_addr *da, uint8_t proto)
{
	size_t at = w->len, plen;
	uint8_t *h = wr_take(w, 40), *nh;
	int i;

	if (!h)
		return;
	h[0] = 0x60;
	h[7] = 64;
	memcpy(h + 8, sa, 16);
	memcpy(h + 24, da, 16);
	nh = &h[6];
	for (i = 0; i < PB_MAX_EXT && s->ext[i] != PB_EXT_NONE; i++) {
		size_t off = (size_t)(nh - w->buf);
		uint8_t *e;

		w->buf[off] = (uint8_t)ext_proto(s->ext[i]);
		switch (s->ext[i]) {
		case PB_EXT_HOP:
		case PB_EXT_DEST:
			e = wr_take(w, 8);
			if (!e)
				return;
			e[1] = 0; /* (0 + 1) * 8 bytes */
			e[2] = 1; /* PadN, 4 bytes of padding */
			e[3] = 4;
			break;
		case PB_EXT_ROUTING:
			e = wr_take(w, 8);
			if (!e)
				return;
			e[1] = 0;
			e[2] = 0; /* type 0 */
			e[3] = 0; /* segments left */
			break;
		case PB_EXT_FRAG:
			e = wr_take(w, 8);
			if (!e)
				return;
			wr_be16(e + 2, (uint16_t)((s->frag_off << 3) | (s->mf ? 1 : 0)));
			e[7] = 0x42; /* identification */
			break;
		case PB_EXT_AUTH:
			e = wr_take(w, 24);
			if (!e)
				return;
			e[1] = 4; /* (4 + 2) * 4 = 24 bytes */
			break;
		default:
			return;
		}
		nh = e;
	}
	*nh = proto;
	put_l4(w, s, proto);
	plen = w->len - at - 40;
	wr_be16(w->buf + at + 4, (uint16_t)plen);
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct wr w = { .buf = buf };
	struct in6_addr sa6, da6;
	struct in_addr sa4, da4;
	uint16_t ethertype = s->ethertype;
	uint8_t proto = s->proto ? s->proto : IPPROTO_TCP;
	uint8_t *h;
	int family = 0, i;

	if (s->src && inet_pton(AF_INET, s->src, &sa4) == 1) {
		family = AF_INET;
		if (inet_pton(AF_INET, s->dst ? s->dst : "192.0.2.254", &da4) != 1)
			return -1;
		ethertype = ethertype ? ethertype : 0x0800;
	} else if (s->src && inet_pton(AF_INET6, s->src, &sa6) == 1) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, s->dst ? s->dst : "2001:db8::fe", &da6) != 1)
			return -1;
		ethertype = ethertype ? ethertype : 0x86dd;
	} else if (s->src || !ethertype) {
		return -1;
	}
	if (s->ntags > PB_MAX_TAGS)
		return -1;

	h = wr_take(&w, 12);
	memcpy(h, dmac, 6);
	memcpy(h + 6, smac, 6);
	for (i = 0; i < s->ntags; i++) {
		h = wr_take(&w, 4);
		wr_be16(h, s->tpid[i] ? s->tpid[i] : 0x8100);
		wr_be16(h + 2, (uint16_t)(100 + i)); /* VLAN id */
	}
	h = wr_take(&w, 2);
	wr_be16(h, ethertype);

	if (family == AF_INET)
		put_ipv4(&w, s, &sa4, &da4, proto);
	else if (family == AF_INET6)
		put_ipv6(&w, s, &sa6, &da6, proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto);
	else if (ethertype == 0x0806 && (h = wr_take(&w, 28))) {
		/* ARP request, Ethernet/IPv4 */
		wr_be16(h, 1);
		wr_be16(h + 2, 0x0800);
		h[4] = 6;
		h[5] = 4;
		wr_be16(h + 6, 1);
	}
	if (w.err)
		return -1;
	if (s->cut && (size_t)s->cut < w.len)
		w.len = (size_t)s->cut;
	return (int)w.len;
}
