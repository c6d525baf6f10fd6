/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * pktbuild: build test frames from a declarative spec (Ethernet, up to 8
 * VLAN tags, IPv4 with options and fragments, IPv6 with extension headers,
 * TCP, UDP, ICMP, raw ethertypes). Checksums are left zero: XDP and TC see
 * the frame before anything verifies them. Shared by tests/bpf and bench.
 */
#ifndef FG_PKTBUILD_H
#define FG_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define PB_MAX_TAGS 8
#define PB_MAX_EXT  8
#define PB_MAX_LEN  1024

/* IPv6 extension header kinds for pkt_spec.ext[]. */
enum pb_ext {
	PB_EXT_NONE = 0,
	PB_EXT_HOP,	/* hop-by-hop options, 8 bytes of PadN */
	PB_EXT_DEST,	/* destination options */
	PB_EXT_ROUTING, /* type 0 routing header, no addresses */
	PB_EXT_FRAG,	/* fragment header: frag_off / mf below */
	PB_EXT_AUTH,	/* AH with a 12-byte ICV */
};

struct pkt_spec {
	uint16_t ethertype;	    /* non-IP frames (0x0806 ARP); 0 = from src */
	int ntags;		    /* VLAN tags before the ethertype */
	uint16_t tpid[PB_MAX_TAGS]; /* each tag's TPID; 0 = 0x8100 */

	const char *src;	     /* "192.0.2.1" or "2001:db8::1"; picks the family */
	const char *dst;	     /* default 192.0.2.254 / 2001:db8::fe */
	int ihl;		     /* IPv4 header length in words; 0 = 5 + ip_opts / 4 */
	int ip_opts;		     /* IPv4 option bytes (NOPs + EOL), multiple of 4 */
	uint16_t frag_off;	     /* fragment offset in 8-byte units (IPv4 or FRAG ext) */
	int mf;			     /* more-fragments flag */
	enum pb_ext ext[PB_MAX_EXT]; /* IPv6 extension header chain, in order */

	uint8_t proto;	       /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_ICMP(V6); 0 = TCP */
	uint8_t tcp_flags;     /* TH_SYN, ... */
	int doff;	       /* TCP header words; 0 = 5 */
	uint16_t sport, dport; /* host order; 0 = 40000 / 443 */
	int payload;	       /* bytes after the L4 header */
	int cut;	       /* truncate the frame to this many bytes (0 = whole) */
};

/* Build the frame of s into buf (PB_MAX_LEN bytes). Returns its length,
 * or -1 when the spec is invalid (bad address, too long). */
int pkt_build(const struct pkt_spec *s, uint8_t *buf);

#endif /* FG_PKTBUILD_H */
