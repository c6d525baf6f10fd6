// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * fuzz_xdp: a differential packet fuzzer of the XDP program.
 *
 * Frames are built from random structure (VLAN stacks of 0-6 tags, IPv4
 * with options and fragments, IPv6 with extension header chains, TCP with
 * any of the 256 flag bytes, UDP, ICMP, VXLAN / GRE / IPIP / IPv6-in-IPv4
 * tunnels, truncations, IP lengths that disagree with the frame) and then
 * mutated (bytes flipped anywhere). Each goes through BPF_PROG_TEST_RUN on
 * the real object, with deny entries and prefix bans configured, and is read a second time
 * by a reference written here the way Linux's receive path reads a frame's
 * source address (tags stripped, version and length checks of ip_rcv and
 * ipv6_rcv, an IPv4-mapped IPv6 source taken as its IPv4 address, as a
 * dual-stack socket sees it). A frame the reference reads as coming from a
 * denied or banned source must not get XDP_PASS; nor may any frame get a verdict
 * other than XDP_PASS or XDP_DROP. Failing frames are printed in hex.
 *
 *   fuzz_xdp [--frames N] [--seed S] [--quiet]
 *
 * Exit 0 when every frame held, 1 when one did not, 2 when it cannot run.
 * Last line: "fuzz-xdp: N passed, N failed" (one check per run).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "cidr.h"
#include "rules.h"
#include "testobj.h"

#define MAX_FAILS 5

/* Deny entries, and where the fuzzer draws sources from. */
static const char *const deny_list[] = { "203.0.113.0/24", "198.51.100.128/25",
					 "2001:db8:bad::/48" };
static struct fg_cidr denied[sizeof(deny_list) / sizeof(deny_list[0])];
/* Prefix bans (the bans_pfx hash behind its cover): a /26 whose cover unit,
 * its /20, holds sources that are not banned, an IPv6 /40 and /64 among
 * the sources drawn. */
static const char *const ban_list[] = { "192.0.2.128/26", "2001:db8:500::/40",
					"2001:db8:300::/64" };
static struct fg_cidr banned[sizeof(ban_list) / sizeof(ban_list[0])];

/* --- random numbers (xorshift64*: reproducible from the seed) ------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(uint32_t percent)
{
	return below(100) < percent;
}

/* --- frame building -------------------------------------------------------- */

struct frame {
	uint8_t b[TESTOBJ_MAX_FRAME];
	int len;
};

static bool room(const struct frame *f, int n)
{
	return f->len + n <= TESTOBJ_MAX_FRAME;
}

static void put8(struct frame *f, uint8_t v)
{
	if (room(f, 1))
		f->b[f->len++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put_bytes(struct frame *f, const void *p, int n)
{
	if (room(f, n)) {
		memcpy(f->b + f->len, p, (size_t)n);
		f->len += n;
	}
}

static void put_random(struct frame *f, int n)
{
	while (n-- > 0)
		put8(f, (uint8_t)rnd());
}

static void set16(struct frame *f, int off, uint16_t v)
{
	if (off >= 0 && off + 2 <= f->len) {
		f->b[off] = (uint8_t)(v >> 8);
		f->b[off + 1] = (uint8_t)v;
	}
}

/* A source address: half the time in a denied range. */
static void pick_v4(uint8_t a[4], bool deny)
{
	static const uint8_t bad[][3] = { { 203, 0, 113 }, { 198, 51, 100 } };
	static const uint8_t good[][3] = { { 192, 0, 2 }, { 198, 51, 100 } };
	int i = (int)below(2);

	memcpy(a, deny ? bad[i] : good[i], 3);
	a[3] = (uint8_t)rnd();
	/* 198.51.100.0/25 is not denied, /128-255 is. */
	if (i == 1)
		a[3] = deny ? (uint8_t)(a[3] | 0x80) : (uint8_t)(a[3] & 0x7f);
}

static void pick_v6(uint8_t a[16], bool deny)
{
	memset(a, 0, 16);
	if (chance(25)) { /* IPv4-mapped: ::ffff:a.b.c.d */
		a[10] = a[11] = 0xff;
		pick_v4(a + 12, deny);
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	if (deny) {
		a[4] = 0x0b;
		a[5] = 0xad;
	} else {
		a[4] = (uint8_t)below(0x0b);
	}
	for (int i = 8; i < 16; i++)
		a[i] = (uint8_t)rnd();
}

static void build_l3(struct frame *f, int depth);

/* TCP, UDP (maybe VXLAN), ICMP, GRE or an IP-in-IP inner packet. */
static void build_l4(struct frame *f, uint8_t proto, int depth)
{
	int i, n;

	switch (proto) {
	case IPPROTO_TCP:
		put16(f, (uint16_t)rnd());
		put16(f, chance(50) ? 443 : (uint16_t)rnd());
		put_random(f, 8);				     /* seq, ack */
		n = chance(90) ? 5 + (int)below(11) : (int)below(5); /* data offset */
		put8(f, (uint8_t)(n << 4));
		put8(f, (uint8_t)rnd()); /* any flags: SYN, SYN+ACK, SYN+FIN, ... */
		put_random(f, 6);
		for (i = 20; i < n * 4; i++)
			put8(f, chance(50) ? 1 : (uint8_t)rnd());
		break;
	case IPPROTO_UDP:
		put16(f, (uint16_t)rnd());
		if (depth < 2 && chance(25)) { /* VXLAN with an inner frame */
			put16(f, 4789);
			put16(f, 0);
			put16(f, 0);
			put8(f, 0x08);
			put_random(f, 7);
			put_random(f, 12); /* inner MACs */
			put16(f, chance(50) ? 0x0800 : 0x86dd);
			build_l3(f, depth + 1);
			return;
		}
		put16(f, chance(50) ? 3478 : (uint16_t)rnd());
		put16(f, 0);
		put16(f, 0);
		break;
	case 47: /* GRE carrying IP */
		put16(f, 0);
		put16(f, chance(50) ? 0x0800 : 0x86dd);
		if (depth < 2)
			build_l3(f, depth + 1);
		return;
	case 4:	 /* IPIP */
	case 41: /* IPv6 in IPv4/IPv6 */
		if (depth < 2)
			build_l3(f, depth + 1);
		return;
	default: /* ICMP, ICMPv6 or anything */
		put_random(f, 8);
		break;
	}
	put_random(f, (int)below(48));
}

static uint8_t pick_proto(void)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_TCP,
					  IPPROTO_UDP, IPPROTO_UDP, IPPROTO_ICMP,
					  58,	       47,	    4,
					  41 };

	return chance(95) ? protos[below(sizeof(protos))] : (uint8_t)rnd();
}

static void build_ipv4(struct frame *f, int depth)
{
	int start = f->len, ihl = chance(80) ? 5 : 5 + (int)below(11), i;
	uint8_t src[4], dst[4] = { 192, 0, 2, 254 };
	uint8_t proto = pick_proto();
	uint16_t frag = 0;

	pick_v4(src, chance(50));
	if (chance(30)) {
		frag = chance(50) ? 0x2000 : 0; /* MF */
		if (chance(50))
			frag |= (uint16_t)(chance(50) ? below(4) : below(0x2000));
	} else if (chance(30)) {
		frag = 0x4000; /* DF */
	}
	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, 0); /* total length, set below */
	put16(f, (uint16_t)rnd());
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put_bytes(f, src, 4);
	put_bytes(f, dst, 4);
	for (i = 20; i < ihl * 4; i++)
		put8(f, chance(70) ? 1 : (uint8_t)rnd()); /* NOPs, or anything */
	if (!(frag & 0x1fff))
		build_l4(f, proto, depth);
	else
		put_random(f, (int)below(64));
	if (chance(15)) /* a tiny first fragment: an IP length shorter than its L4 */
		set16(f, start + 2, (uint16_t)(ihl * 4 + below(24)));
	else if (chance(5))
		set16(f, start + 2, (uint16_t)rnd());
	else
		set16(f, start + 2, (uint16_t)(f->len - start));
	if (chance(10))
		put_random(f, (int)below(32)); /* trailer after the IP length */
}

static void build_ipv6(struct frame *f, int depth)
{
	static const uint8_t exts[] = { 0, 43, 44, 51, 60 };
	int start = f->len, n = chance(50) ? 0 : (int)below(9), i;
	uint8_t src[16], dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xfe };
	uint8_t nh[10];
	bool more_frags = false;

	pick_v6(src, chance(50));
	for (i = 0; i < n; i++)
		nh[i] = exts[below(sizeof(exts))];
	nh[n] = pick_proto();
	put8(f, 0x60);
	put_random(f, 3);
	put16(f, 0); /* payload length, set below */
	put8(f, nh[0]);
	put8(f, 64);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	for (i = 0; i < n; i++) {
		uint8_t next = nh[i + 1];
		int len;

		switch (nh[i]) {
		case 44: { /* fragment */
			uint16_t off = chance(60) ? 0 : (uint16_t)(below(0x2000) << 3);

			more_frags = chance(60);
			put8(f, next);
			put8(f, 0);
			put16(f, (uint16_t)(off | more_frags));
			put_random(f, 4);
			if (off) {
				put_random(f, (int)below(64));
				goto lengths;
			}
			break;
		}
		case 51: /* AH: (len + 2) * 4 bytes */
			len = (int)below(4) + 1;
			put8(f, next);
			put8(f, (uint8_t)len);
			put_random(f, (len + 2) * 4 - 2);
			break;
		default: /* hop-by-hop, routing, destination: (len + 1) * 8 */
			len = (int)below(3);
			put8(f, next);
			put8(f, (uint8_t)len);
			put_random(f, (len + 1) * 8 - 2);
			break;
		}
	}
	build_l4(f, nh[n], depth);
lengths:
	if (chance(15)) /* an L4 header cut by the payload length */
		set16(f, start + 4, (uint16_t)(f->len - start - 40 - (int)below(24)));
	else if (chance(5))
		set16(f, start + 4, chance(50) ? 0 : (uint16_t)rnd());
	else
		set16(f, start + 4, (uint16_t)(f->len - start - 40));
	(void)more_frags;
	if (chance(10))
		put_random(f, (int)below(32));
}

static void build_l3(struct frame *f, int depth)
{
	/* The ethertype was written by the caller: read it back. */
	uint16_t et = (uint16_t)(f->b[f->len - 2] << 8 | f->b[f->len - 1]);

	if (et == 0x0800)
		build_ipv4(f, depth);
	else if (et == 0x86dd)
		build_ipv6(f, depth);
	else
		put_random(f, (int)below(80));
}

static void build_frame(struct frame *f)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8 };
	int tags = chance(60) ? 0 : (int)below(7), i;

	f->len = 0;
	put_random(f, 12);
	for (i = 0; i < tags; i++) {
		put16(f, tpids[below(2)]);
		put16(f, (uint16_t)below(4096));
	}
	if (chance(95))
		put16(f, chance(50) ? 0x0800 : 0x86dd);
	else
		put16(f, chance(50) ? 0x0806 : (uint16_t)rnd());
	build_l3(f, 0);

	/* Mutations: a few bytes anywhere, then maybe a cut. */
	if (chance(30)) {
		int n = 1 + (int)below(4);

		while (n-- > 0 && f->len) {
			int at = (int)below((uint32_t)f->len);

			f->b[at] = chance(50) ? (uint8_t)(f->b[at] ^ (1u << below(8)))
					      : (uint8_t)rnd();
		}
	}
	if (chance(10) && f->len > 1)
		f->len = 1 + (int)below((uint32_t)f->len - 1);
}

/* --- the reference: how Linux reads the source ----------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where L3 starts and its ethertype, after any number of VLAN tags. */
static int reference_l3(const uint8_t *b, int len, uint16_t *et)
{
	int off = 14;

	if (len < 14)
		return -1;
	*et = get16(b + 12);
	while (*et == 0x8100 || *et == 0x88a8) {
		if (off + 4 > len)
			return -1;
		*et = get16(b + off + 2);
		off += 4;
	}
	return off;
}

/*
 * The source address Linux's IP layer would take this frame to come from,
 * if it takes the frame at all: VLAN tags (any number: stacked VLAN devices)
 * stripped, then ip_rcv's checks (version 4, IHL >= 5, total length at least
 * the header and within the frame) or ipv6_rcv's (version 6, payload within
 * the frame; 0 is a jumbogram, taken here as readable). Checksums are not
 * checked: a frame the reference reads but Linux would drop only asks more
 * of the program. An IPv4-mapped IPv6 source is its IPv4 address, as a
 * dual-stack socket reads it. Returns false when Linux would not read a
 * source at all.
 */
/* The IPv4 header at b + off as Linux takes it: version 4, IHL >= 5, a
 * total length that holds the header and fits the frame. Its IHL in bytes
 * and total length in *ihl and *tot, or false. */
static bool reference_ipv4(const uint8_t *b, int len, int off, int *ihl, int *tot)
{
	const uint8_t *ip = b + off;

	if (len - off < 20 || ip[0] >> 4 != 4)
		return false;
	*ihl = (ip[0] & 15) * 4;
	*tot = get16(ip + 2);
	return *ihl >= 20 && *tot >= *ihl && off + *tot <= len;
}

/* The IPv6 header at b + off as Linux takes it: version 6 and a payload
 * length that fits the frame (0: bounded by the frame). Its payload length
 * in *plen, or false. */
static bool reference_ipv6(const uint8_t *b, int len, int off, int *plen)
{
	const uint8_t *ip6 = b + off;

	if (len - off < 40 || ip6[0] >> 4 != 6)
		return false;
	*plen = get16(ip6 + 4);
	return !*plen || off + 40 + *plen <= len;
}

static bool reference_source(const uint8_t *b, int len, struct fg_cidr *src)
{
	uint16_t et;
	int off = reference_l3(b, len, &et);

	if (off < 0)
		return false;
	memset(src, 0, sizeof(*src));
	if (et == 0x0800) {
		const uint8_t *ip = b + off;
		int ihl, tot;

		if (!reference_ipv4(b, len, off, &ihl, &tot))
			return false;
		src->family = FG_AF_INET;
		src->prefixlen = 32;
		memcpy(&src->addr[0], ip + 12, 4);
		return true;
	}
	if (et == 0x86dd) {
		const uint8_t *ip6 = b + off;
		int plen;

		if (!reference_ipv6(b, len, off, &plen))
			return false;
		if (!memcmp(ip6 + 8, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			src->family = FG_AF_INET;
			src->prefixlen = 32;
			memcpy(&src->addr[0], ip6 + 20, 4);
			return true;
		}
		src->family = FG_AF_INET6;
		src->prefixlen = 128;
		memcpy(src->addr, ip6 + 8, 16);
		return true;
	}
	return false;
}

/*
 * True for a TCP or UDP packet Linux takes (as reference_source() does)
 * that is whole or the first fragment, but whose IP length leaves less than
 * the whole TCP (20) or UDP (8) header after the IP headers: the first
 * fragment of the tiny-fragment attack (RFC 1858: Linux reassembles flags
 * nobody judged), or a packet Linux drops itself. Either way it must not
 * pass. IPv6 extension headers are walked as far as the payload goes.
 */
static bool reference_l4_short(const uint8_t *b, int len)
{
	uint16_t et;
	int off = reference_l3(b, len, &et), room, need;
	uint8_t proto;

	if (off < 0)
		return false;
	if (et == 0x0800) {
		const uint8_t *ip = b + off;
		int ihl, tot;

		if (!reference_ipv4(b, len, off, &ihl, &tot) || (get16(ip + 6) & 0x1fff))
			return false;
		proto = ip[9];
		room = tot - ihl;
	} else if (et == 0x86dd) {
		const uint8_t *ip6 = b + off;
		int plen, at;

		if (!reference_ipv6(b, len, off, &plen) || !plen)
			return false;
		proto = ip6[6];
		at = 0; /* bytes of the payload taken by extension headers */
		for (;;) {
			const uint8_t *h = ip6 + 40 + at;
			int hl;

			if (proto != 0 && proto != 43 && proto != 44 && proto != 51 && proto != 60)
				break;
			if (at + 8 > plen)
				return false; /* Linux drops the packet, no L4 to judge */
			if (proto == 44) {
				if (get16(h + 2) & 0xfff8)
					return false; /* not the first fragment */
				hl = 8;
			} else {
				hl = proto == 51 ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
			}
			proto = h[0];
			at += hl;
		}
		room = plen - at;
	} else {
		return false;
	}
	need = proto == 6 ? 20 : proto == 17 ? 8 : 0;
	return room < need;
}

/* src is denied or banned. */
static bool is_refused(const struct fg_cidr *src)
{
	size_t i;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (cidr_contains(&denied[i], src))
			return true;
	for (i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (cidr_contains(&banned[i], src))
			return true;
	return false;
}

/* --- running ---------------------------------------------------------------- */

static void print_hex(const char *what, const uint8_t *b, int len)
{
	int i;

	printf("%s (%d bytes): ", what, len);
	for (i = 0; i < len; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Rules as the agent would write them: limits on, so new flows go the
 * whole way through the program (buckets, attack mode, events). */
static int configure(struct testobj *t)
{
	static struct fg_compiled c; /* 1 MB of port table: not on the stack */
	__u32 port;
	size_t i;
	int err;

	memset(&c, 0, sizeof(c));
	c.cfg.abi_version = FG_ABI_VERSION;
	c.cfg.ipv4_prefix = 24;
	c.cfg.ipv6_prefix = 64;
	c.cfg.udp_idle_ns = 30ULL * 1000000000;
	c.cfg.attack_hold_ns = 10ULL * 1000000000;
	c.cfg.event_interval_ns = 1000000000;
	c.cfg.verified_ttl_ns = 600ULL * 1000000000;
	for (i = 0; i < 2; i++) {
		c.rules[i].per_source = rules_limit(100, 200);
		c.rules[i].per_prefix = rules_limit(1000, 2000);
		c.rules[i].global = rules_limit(10000, 20000);
		c.rules[i].flags = FG_RULE_F_BAN;
		c.rules[i].ban_after = 3;
		c.rules[i].ban_window_ns = 60ULL * 1000000000;
		c.rules[i].ban_duration_ns = 60ULL * 1000000000;
	}
	snprintf(c.ids.names[0], FG_CONF_NAME_MAX, "tcp-default");
	snprintf(c.ids.names[1], FG_CONF_NAME_MAX, "udp-default");
	for (port = 0; port < 65536; port++) {
		c.port_rule[FG_PROTO_TCP * 65536 + port] = FG_RULE_DEFAULT_TCP;
		c.port_rule[FG_PROTO_UDP * 65536 + port] = FG_RULE_DEFAULT_UDP;
	}
	err = xdpmaps_apply(&t->maps, &c, NULL);
	for (i = 0; !err && i < sizeof(deny_list) / sizeof(deny_list[0]); i++) {
		if (cidr_parse(deny_list[i], &denied[i]))
			return -EINVAL;
		err = xdpmaps_list_add(&t->maps, XDPMAPS_DENY, &denied[i]);
	}
	for (i = 0; !err && i < sizeof(ban_list) / sizeof(ban_list[0]); i++) {
		if (cidr_parse(ban_list[i], &banned[i]))
			return -EINVAL;
		err = xdpmaps_ban(&t->maps, &banned[i], 0, FG_BAN_MANUAL);
	}
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "frames", required_argument, NULL, 'n' },
					      { "seed", required_argument, NULL, 's' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	unsigned long long frames = 200000, seed = 0, i, n_ref_denied = 0, n_dropped = 0;
	unsigned long long n_read = 0, n_short = 0;
	struct testobj t;
	struct timespec t0, t1;
	int fails = 0, err, o;
	bool quiet = false;

	while ((o = getopt_long(argc, argv, "n:s:q", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			frames = strtoull(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			fprintf(stderr, "usage: fuzz_xdp [--frames N] [--seed S] [--quiet]\n");
			return 2;
		}
	}
	if (!seed)
		seed = (unsigned long long)time(NULL);
	rng_state = seed * 0x9E3779B97F4A7C15ULL | 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);

	err = testobj_open(&t);
	err = err ?: configure(&t);
	if (err) {
		fprintf(stderr,
			"fuzz_xdp: loading and configuring floodgate.bpf.o: %s (run as root)\n",
			strerror(-err));
		printf("fuzz-xdp: 0 passed, 1 failed\n");
		testobj_close(&t);
		return 2;
	}
	printf("# fuzz-xdp: %llu frames, seed %llu (repeat a run with --seed %llu)\n", frames, seed,
	       seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < frames && fails < MAX_FAILS; i++) {
		struct frame f;
		struct fg_cidr src;
		bool read, deny, l4_short;
		__u32 verdict;
		char s[FG_CIDR_STRLEN];

		build_frame(&f);
		read = reference_source(f.b, f.len, &src);
		deny = read && is_refused(&src);
		l4_short = reference_l4_short(f.b, f.len);
		if (f.len < 14 && !t.short_frames_ok)
			continue;
		err = testobj_run(t.xdp_fd, true, f.b, f.len, &verdict);
		if (err) {
			printf("not ok - frame %llu: BPF_PROG_TEST_RUN: %s\n", i, strerror(-err));
			print_hex("  frame", f.b, f.len);
			fails++;
			continue;
		}
		n_read += read;
		n_ref_denied += deny;
		n_dropped += verdict == XDP_DROP;
		n_short += l4_short;
		if (verdict != XDP_PASS && verdict != XDP_DROP) {
			printf("not ok - frame %llu: verdict %u (want XDP_PASS or XDP_DROP)\n", i,
			       verdict);
			print_hex("  frame", f.b, f.len);
			fails++;
		} else if (deny && verdict == XDP_PASS) {
			printf("not ok - frame %llu: XDP_PASS of a frame Linux reads as from "
			       "denied or banned %s\n",
			       i, cidr_format(&src, s, sizeof(s)));
			print_hex("  frame", f.b, f.len);
			fails++;
		} else if (l4_short && verdict == XDP_PASS) {
			printf("not ok - frame %llu: XDP_PASS of a TCP/UDP packet (or first "
			       "fragment) "
			       "whose IP length leaves less than its whole L4 header\n",
			       i);
			print_hex("  frame", f.b, f.len);
			fails++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!quiet || fails)
		printf("# fuzz-xdp: %llu frames in %.1f s: %llu read by the reference as IP, %llu "
		       "of "
		       "them from a denied or banned source, %llu with less than their whole "
		       "TCP/UDP header "
		       "within the IP length; %llu dropped by the program; %d failures%s\n",
		       i, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		       n_read, n_ref_denied, n_short, n_dropped, fails,
		       fails >= MAX_FAILS ? " (stopped at the first ones)" : "");
	testobj_close(&t);
	printf("fuzz-xdp: %d passed, %d failed\n", fails ? 0 : 1, fails ? 1 : 0);
	return fails ? 1 : 0;
}
