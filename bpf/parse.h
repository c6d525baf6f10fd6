/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Packet parsing for the floodgate programs: a cursor walks L2 (up to
 * FG_MAX_VLAN tags), L3 (IPv4 with options, IPv6 with a bounded extension
 * header walk) and L4 (TCP, UDP). Parsing is split in two so the caller can
 * check the source address against deny/allow/ban before anything about L4
 * can make it skip that check.
 */
#ifndef FG_BPF_PARSE_H
#define FG_BPF_PARSE_H

#include <floodgate/abi.h>

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8

#define IP_MF	  0x2000
#define IP_OFFSET 0x1FFF

/*
 * bpf_ntohs() of a packet field, bounded in a way every verifier tracks:
 * the 6.1 verifier loses the bounds of a byte swap (an IP length added to
 * a packet pointer was rejected there: "math between pkt pointer and
 * register with unbounded min value"), and the mask makes them explicit
 * again. The lengths are now only compared, never added to a pointer; the
 * mask keeps the values in 0..65535 for the signed compares of l4_fits().
 * The asm keeps clang from folding the mask away.
 */
static __always_inline __u32 ntohs_bounded(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	asm volatile("%0 &= 0xffff" : "+r"(x));
	return x;
}

#define NEXTHDR_HOP	 0
#define NEXTHDR_TCP	 6
#define NEXTHDR_UDP	 17
#define NEXTHDR_ROUTING	 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH	 51
#define NEXTHDR_DEST	 60

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct cursor {
	void *pos;
	void *end;
};

/* What the parser learned; addresses as in struct fg_src_key. */
struct pkt {
	__u32 saddr[4];
	__u32 daddr[4];
	__u8 family;  /* FG_AF_INET / FG_AF_INET6 */
	__u8 l4proto; /* IPPROTO_* after extension headers */
	__u8 tcp_flags;
	__u8 fragment; /* 1: a non-first fragment (no L4 header) */
	__u16 sport;   /* network byte order */
	__u16 dport;
};

/* Status of a parse step: PARSE_OK = go on, otherwise the reason to stop
 * with. Not 0: that is FG_R_PASS_NON_IP, which parse_l3() returns. */
#define PARSE_OK FG_R_MAX

/* Skip Ethernet and VLAN/QinQ tags; returns the L3 ethertype (host order)
 * or a negative fg_reason when the frame is cut short. */
static __always_inline int parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return -FG_R_DROP_TRUNCATED;
	proto = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < FG_MAX_VLAN; i++) {
		struct vlan_hdr *vh = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > c->end)
			return -FG_R_DROP_TRUNCATED;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		c->pos = vh + 1;
	}
	/* A fifth tag: we cannot see the source, so it cannot pass unchecked. */
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return -FG_R_DROP_MALFORMED;
	return proto;
}

/*
 * Bytes of the L4 header the flow decision reads (TCP 20, UDP 8, else 0),
 * all of which must be in the first fragment. Computed without a branch on
 * the protocol: a branch would let the verifier carry the protocol as a
 * constant into everything after it and walk the rest of the program once
 * per protocol (2-4x the instructions processed).
 */
static __always_inline __u64 l4_need(__u64 proto)
{
	__u64 tcp = proto, udp = proto;

	/* (x ^ p) - 1 has its top bit set only when x == p. */
	asm volatile("%0 ^= 6; %0 -= 1; %0 >>= 63; %0 *= 20" : "+r"(tcp));
	asm volatile("%0 ^= 17; %0 -= 1; %0 >>= 63; %0 <<= 3" : "+r"(udp));
	return tcp + udp;
}

/*
 * The IP length leaves room bytes for L4 (the frame may hold more: Ethernet
 * padding, or a trailer made to look like a TCP header). Too little for the
 * header in a first fragment is the tiny-fragment attack (RFC 1858, RFC
 * 7112: the flags we judge by would come in a later fragment, and Linux
 * reassembles a SYN we never saw); in a whole packet Linux drops it as
 * truncated. Decided in parse_l3(), before the lists, so that nothing of it
 * is kept for later for the verifier to tell states apart by.
 */
static __always_inline int l4_fits(__s32 room, __u8 proto, __u32 first_frag)
{
	/* Signed: a negative room must not pass as a huge one. The compare
	 * is never decided by constants (it would make the verifier track
	 * room and walk more states). */
	if (room >= (__s32)l4_need(proto))
		return PARSE_OK;
	return FG_R_DROP_TRUNCATED +
	       (first_frag & 1) * (FG_R_DROP_TINY_FRAGMENT - FG_R_DROP_TRUNCATED);
}

/* IPv4: fills addresses and protocol; the cursor ends at L4. */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot_len, frag;
	int r;

	if ((void *)(ip + 1) > c->end)
		return FG_R_DROP_TRUNCATED;
	/* Linux drops any other version under this ethertype: so do we. */
	if (ip->version != 4)
		return FG_R_DROP_MALFORMED;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return FG_R_DROP_MALFORMED;
	tot_len = ntohs_bounded(ip->tot_len);
	frag = ntohs_bounded(ip->frag_off);
	/* A length of 0 is not sent on the wire (Linux drops it); our own
	 * stack's BIG TCP packets carry it, and the frame end bounds them. */
	if (tot_len) {
		if (tot_len < hlen)
			return FG_R_DROP_MALFORMED;
		if (!(frag & IP_OFFSET)) {
			r = l4_fits((__s32)(tot_len - hlen), ip->protocol, frag >> 13);
			if (r != PARSE_OK)
				return r;
		}
	}
	p->family = FG_AF_INET;
	p->saddr[0] = ip->saddr;
	p->daddr[0] = ip->daddr;
	p->l4proto = ip->protocol;
	p->fragment = (frag & IP_OFFSET) != 0;
	/* Options make the header longer; the bound keeps the verifier happy. */
	if (c->pos + hlen > c->end)
		return FG_R_DROP_TRUNCATED;
	c->pos += hlen;
	return PARSE_OK;
}

struct ipv6_opt_hdr_fg {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct frag_hdr_fg {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* ::ffff:0:0/96: how a dual-stack socket spells an IPv4 peer, never an
 * address a packet comes from. Linux would deliver it to such a socket as
 * if the IPv4 host had sent it. */
static __always_inline bool ipv6_is_v4mapped(const __u32 *a)
{
	return (a[0] | a[1]) == 0 && a[2] == bpf_htonl(0xffff);
}

/* IPv6 with a bounded walk of extension headers; the cursor ends at L4. */
static __always_inline int parse_ipv6(struct cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen, first_frag = 0;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return FG_R_DROP_TRUNCATED;
	if (ip6->version != 6)
		return FG_R_DROP_MALFORMED;
	p->family = FG_AF_INET6;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	if (ipv6_is_v4mapped(p->saddr))
		return FG_R_DROP_BAD_SOURCE;
	/* 0: a jumbogram or a BIG TCP packet of our own stack; the frame end
	 * bounds those. */
	plen = ntohs_bounded(ip6->payload_len);
	nh = ip6->nexthdr;
	c->pos = ip6 + 1;

#pragma unroll
	for (i = 0; i < FG_MAX_IPV6_EXT; i++) {
		struct ipv6_opt_hdr_fg *oh = c->pos;

		switch (nh) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			if ((void *)(oh + 1) > c->end)
				return FG_R_DROP_TRUNCATED;
			nh = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case NEXTHDR_AUTH:
			if ((void *)(oh + 1) > c->end)
				return FG_R_DROP_TRUNCATED;
			nh = oh->nexthdr;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case NEXTHDR_FRAGMENT: {
			struct frag_hdr_fg *fh = c->pos;
			__u32 off;

			if ((void *)(fh + 1) > c->end)
				return FG_R_DROP_TRUNCATED;
			nh = fh->nexthdr;
			c->pos = fh + 1;
			off = ntohs_bounded(fh->frag_off);
			if (off & 0xFFF8) {
				p->fragment = 1;
				p->l4proto = nh;
				return PARSE_OK;
			}
			first_frag = off & 1; /* M flag */
			break;
		}
		default:
			goto l4;
		}
	}
	/* Still in extension headers after the walk's bound: an attacker can
	 * stack them to hide a SYN, so this is not passed as "other". */
	switch (nh) {
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
	case NEXTHDR_AUTH:
	case NEXTHDR_FRAGMENT:
		return FG_R_DROP_MALFORMED;
	}
l4:
	/* Extension headers longer than the payload (Linux drops it) leave a
	 * negative room, which is too little for any header. */
	if (plen) {
		/* pkt - pkt: an unknown scalar to the verifier (CAP_PERFMON). */
		__s32 ext = (__s32)((long)c->pos - (long)(ip6 + 1));
		int r = l4_fits((__s32)plen - ext, nh, first_frag);

		if (r != PARSE_OK)
			return r;
	}
	p->l4proto = nh;
	return PARSE_OK;
}

/* L2 + L3. Returns PARSE_OK with saddr/daddr/l4proto set, FG_R_PASS_NON_IP
 * for non-IP frames, or a drop reason. */
static __always_inline int parse_l3(struct cursor *c, struct pkt *p)
{
	int proto = parse_eth(c);

	if (proto < 0)
		return -proto;
	if (proto == ETH_P_IP)
		return parse_ipv4(c, p);
	if (proto == ETH_P_IPV6)
		return parse_ipv6(c, p);
	return FG_R_PASS_NON_IP;
}

/* L4 ports and flags of a TCP or UDP packet that is not a non-first
 * fragment (its IP length was checked to hold the header by parse_l3()).
 * Returns PARSE_OK or a drop reason. */
static __always_inline int parse_l4(struct cursor *c, struct pkt *p)
{
	if (p->l4proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end)
			return FG_R_DROP_TRUNCATED;
		if (th->doff < 5)
			return FG_R_DROP_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return PARSE_OK;
	}
	if (p->l4proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if ((void *)(uh + 1) > c->end)
			return FG_R_DROP_TRUNCATED;
		p->sport = uh->source;
		p->dport = uh->dest;
		return PARSE_OK;
	}
	return PARSE_OK;
}

#endif /* FG_BPF_PARSE_H */
