/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * SYN cookies answered at XDP. A SYN the rule wants answered is turned, in
 * place, into the SYN-ACK the kernel itself would have sent with a SYN
 * cookie: the listener is found with bpf_skc_lookup_tcp(), the cookie made
 * by bpf_tcp_gen_syncookie() (which also stamps the listener's "cookies
 * issued recently", without which the kernel refuses the ACK), and the frame
 * goes back out with XDP_TX. No state is kept for the SYN: a spoofed source
 * never answers, a real client's ACK is checked with
 * bpf_tcp_check_syncookie() and passed, and the kernel's own cookie path
 * creates the connection.
 *
 * The raw helpers (bpf_tcp_raw_gen_syncookie_*) are not used: they do not
 * stamp the listener, so the kernel rejects every ACK they lead to.
 *
 * Both entry points are global functions: the verifier checks each once,
 * with the offsets as unknown scalars, instead of once per parse state of
 * fg_xdp (VLAN tags, IPv4/IPv6), which keeps the program's instruction
 * count close to what it was without cookies.
 */
#ifndef FG_BPF_COOKIE_H
#define FG_BPF_COOKIE_H

#include <floodgate/abi.h>

#include "limit.h"

#define BPF_TCP_LISTEN_FG 10 /* enum bpf_tcp_state: BPF_TCP_LISTEN */

/* The cookie's options are read back from the low 6 bits of the timestamp
 * the client echoes (the kernel's TS_OPT_* encoding, net/ipv4/syncookies.c). */
#define TS_OPT_WSCALE_MASK 0xf
#define TS_OPT_SACK	   0x10
#define TSBITS		   6

#define TCPOPT_EOL	 0
#define TCPOPT_NOP	 1
#define TCPOPT_MSS	 2
#define TCPOPT_WINDOW	 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8

/* Options of a SYN-ACK with timestamps: MSS, SACK-permitted (or 2 NOPs),
 * timestamp, window scale (or 4 NOPs). Without: MSS alone. */
#define SYNACK_TS_LEN	40
#define SYNACK_NOTS_LEN 24

#define MAX_TCP_HDR 60
#define GROW_TO	    (MAX_TCP_HDR + 10) /* room for parse_syn_opts() */

/* The shared SYN-ACK budget of syn_cookies.max_rate: one GCRA word. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cookie_cap SEC(".maps");

/*
 * xdp->data and xdp->data_end, loaded the one way the verifier accepts
 * (ctx register + constant offset): after a resize clang merges the
 * reloads of several paths into a load through a computed ctx pointer,
 * which is refused ("dereference of modified ctx ptr").
 */
static __always_inline void *xdp_data(struct xdp_md *x)
{
	void *p;

	asm volatile("%0 = *(u32 *)(%1 + 0)" : "=r"(p) : "r"(x));
	return p;
}

static __always_inline void *xdp_end(struct xdp_md *x)
{
	void *p;

	asm volatile("%0 = *(u32 *)(%1 + 4)" : "=r"(p) : "r"(x));
	return p;
}

/* x & 0xff, kept by the asm where clang would drop it as known. */
static __always_inline __u32 bound_off(__u32 x)
{
	asm volatile("%0 &= 0xff" : "+r"(x));
	return x;
}

static __always_inline void cookie_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&misc, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/*
 * The listener (or connection) the segment is for, by its 4-tuple in the
 * namespace of the interface. NULL if none. The caller releases it.
 */
static __always_inline struct bpf_sock *cookie_lookup(struct xdp_md *xdp, void *ip, const bool v6,
						      struct tcphdr *th)
{
	struct bpf_sock_tuple t = {};

	if (v6) {
		struct ipv6hdr *ip6 = ip;

		__builtin_memcpy(t.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6->daddr, 16);
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
		return bpf_skc_lookup_tcp(xdp, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	}
	t.ipv4.saddr = ((struct iphdr *)ip)->saddr;
	t.ipv4.daddr = ((struct iphdr *)ip)->daddr;
	t.ipv4.sport = th->source;
	t.ipv4.dport = th->dest;
	return bpf_skc_lookup_tcp(xdp, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
}

/*
 * Where the IP header starts: Ethernet and its VLAN tags walked again
 * (parse.h's cursor is not kept: carrying it would double the states the
 * verifier walks in fg_xdp). True when that header is IPv4 without options
 * or IPv6 without extension headers and ends exactly at l4off: the only
 * SYNs answered, as their SYN-ACK is built in place.
 */
static __always_inline bool plain_l3(void *data, void *end, __u32 l4off, const bool v6,
				     __u32 *l3off)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth), i;
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return false;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < FG_MAX_VLAN; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return false;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (proto != bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP))
		return false;
	*l3off = off;
	return off + (v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) == l4off;
}

/* Set the frame to len bytes (grow or shrink its tail); 0 or -errno. */
static __always_inline int frame_resize(struct xdp_md *xdp, __u32 len)
{
	int cur = (int)(xdp_end(xdp) - xdp_data(xdp));

	if (cur == (int)len)
		return 0;
	return bpf_xdp_adjust_tail(xdp, (int)len - cur);
}

/* What the client's SYN asks for. */
struct syn_opts {
	__u64 tsval;
	__u64 ts;
	__u64 sack;
	__u64 ws; /* 1 + its shift (not clamped), 0 = none */
};

/*
 * Comparisons as 0/1 values the verifier cannot turn into branches (which
 * it would walk one by one: an option walk written with ifs cost 240k
 * instructions processed, this one a few hundred). The asm keeps clang
 * from rewriting them into branches.
 */
#define EQ(x, k)                                                                                   \
	({                                                                                         \
		__u64 _v = (x);                                                                    \
		asm volatile("%0 ^= " #k "; %0 -= 1; %0 >>= 63" : "+r"(_v));                       \
		_v;                                                                                \
	})
/* a < b for a, b < 2^63 */
static __always_inline __u64 lt(__u64 a, __u64 b)
{
	asm volatile("%0 -= %1; %0 >>= 63" : "+r"(a) : "r"(b));
	return a;
}

/* Walk the SYN's options, within olen bytes after th (the kernel's
 * tcp_parse_options() rules: stop at EOL, at a length under 2 or one that
 * runs past the header). The frame reaches th + GROW_TO, so 10 bytes from
 * any option start are in it. */
static __always_inline void parse_syn_opts(struct tcphdr *th, void *end, __u64 olen,
					   struct syn_opts *o)
{
	__u64 i = 0, n, ts = 0, sack = 0, ws = 0, tsval = 0;

	/* Real SYNs carry at most 8 options (macOS; Linux 5, Windows 6). */
#pragma unroll
	for (n = 0; n < 10; n++) {
		__u64 kind, len, nop, stop, m;
		__u8 *p;

		if (i >= olen || i > 39)
			break;
		/* One bound per option: the verifier cannot add the option's
		 * offset to th's and keep th's range. */
		p = (__u8 *)(th + 1) + i;
		if ((void *)p + 10 > end)
			break;
		kind = p[0];
		len = p[1];
		nop = EQ(kind, 1);
		stop = EQ(kind, 0) | ((1 - nop) & (lt(len, 2) | lt(olen, i + len)));
		if (stop)
			break;
		m = -((1 - nop) & EQ(kind, 3) & EQ(len, 3));
		ws = (ws & ~m) | ((p[2] + 1ULL) & m);
		sack |= (1 - nop) & EQ(kind, 4) & EQ(len, 2);
		m = -((1 - nop) & EQ(kind, 8) & EQ(len, 10));
		ts |= m & 1;
		tsval = (tsval & ~m) |
			(((__u64)p[2] << 24 | (__u64)p[3] << 16 | (__u64)p[4] << 8 | p[5]) & m);
		i += nop + (1 - nop) * len;
		/* A no-op (i <= olen <= 40) the verifier cannot see through:
		 * the offset is "0-63" on every path, so all paths of the next
		 * option are one. */
		asm volatile("%0 &= 0x3f" : "+r"(i));
	}
	o->ts = ts;
	o->sack = sack;
	o->ws = ws;
	o->tsval = tsval;
}

/*
 * Answer the SYN at l4off (no IP options or IPv6 extension headers before
 * it) with a SYN cookie. Returns FG_R_TX_SYN_COOKIE when the frame is now
 * the SYN-ACK, FG_R_DROP_COOKIE_CAP when max_rate is used up, or FG_R_MAX
 * when no cookie can be made (no listener, SYN with data, bad checksum, a
 * kernel that declines): the frame is then as it came and the caller goes
 * on with the rule's ordinary path. now: CLOCK_MONOTONIC ns, precise or
 * coarse (never ahead of the precise clock).
 */
static __always_inline int cookie_syn(struct xdp_md *xdp, __u32 l4off, const bool v6, __u64 now)
{
	__u32 zero = 0, l3len = v6 ? 40 : 20, l3off, thlen, orig_len, newlen, cookie, seq;
	const struct fg_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	struct syn_opts o = {};
	void *data, *end, *ip;
	struct bpf_sock *sk;
	struct tcphdr *th;
	__u64 sum, *tat;
	__s64 ret;
	__u16 mss, win;

	data = xdp_data(xdp);
	end = xdp_end(xdp);
	if (!cfg || !plain_l3(data, end, l4off, v6, &l3off))
		return FG_R_MAX;
	/* Bounds on the registers themselves: clang turns the compares
	 * above into a range trick on a copy the verifier does not link. */
	l3off = bound_off(l3off);
	l4off = l3off + l3len;
	orig_len = end - data;
	ip = data + l3off;
	th = data + l4off;
	/* Bounds the verifier can use: it does not know ip + l3len == th. */
	if ((void *)(th + 1) > end || ip + sizeof(struct ipv6hdr) > end)
		return FG_R_MAX;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th))
		return FG_R_MAX;
	/* Only a bare SYN: data on a SYN (Fast Open) is the kernel's to judge. */
	if (v6) {
		struct ipv6hdr *ip6 = ip;

		if (ip6->version != 6 || ip6->nexthdr != IPPROTO_TCP ||
		    bpf_ntohs(ip6->payload_len) != thlen)
			return FG_R_MAX;
	} else {
		struct iphdr *ip4 = ip;

		if (ip4->version != 4 || ip4->ihl != 5 || ip4->protocol != IPPROTO_TCP ||
		    bpf_ntohs(ip4->tot_len) != 20 + thlen)
			return FG_R_MAX;
	}
	sk = cookie_lookup(xdp, ip, v6, th);
	if (!sk)
		return FG_R_MAX;
	if (sk->state != BPF_TCP_LISTEN_FG)
		goto declined;

	/* bpf_tcp_gen_syncookie() takes the TCP header's real length, which
	 * the verifier can only bound if the frame reaches th + 60: grow it
	 * past there (the SYN-ACK is built in place anyway). */
	if (orig_len < l4off + GROW_TO && frame_resize(xdp, l4off + GROW_TO))
		goto declined;
	data = xdp_data(xdp);
	end = xdp_end(xdp);
	ip = data + l3off;
	th = data + l4off;
	if ((void *)th + MAX_TCP_HDR > end || ip + sizeof(struct ipv6hdr) > end)
		goto restore;
	thlen = (th->doff & 0xf) * 4;
	if (thlen < sizeof(*th))
		goto restore;

	/* The SYN's checksum: the kernel would drop a corrupt SYN, so it
	 * must not get an answer (nor a cookie a third party could use). */
	if (v6)
		ret = bpf_csum_diff(NULL, 0, ip + 8, 32, 0);
	else
		ret = bpf_csum_diff(NULL, 0, ip + 12, 8, 0);
	ret = bpf_csum_diff(NULL, 0, (void *)th, thlen, (__u32)ret);
	sum = (__u32)ret + bpf_htons(IPPROTO_TCP) + bpf_htons((__u16)thlen);
	if (csum_fold(sum) != 0xffff)
		goto restore;

	tat = bpf_map_lookup_elem(&cookie_cap, &zero);
	if (tat && !bucket_take(tat, &cfg->cookie_cap, now)) {
		bpf_sk_release(sk);
		frame_resize(xdp, orig_len);
		cookie_count(FG_M_COOKIES_CAPPED);
		return FG_R_DROP_COOKIE_CAP;
	}

	ret = bpf_tcp_gen_syncookie(sk, ip, v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr), th,
				    thlen);
	bpf_sk_release(sk);
	sk = NULL;
	if (ret < 0)
		goto restore;
	cookie = (__u32)ret;
	seq = bpf_ntohl(th->seq) + 1;
	if (cfg->flags & FG_CFG_F_COOKIE_TS)
		parse_syn_opts(th, end, thlen - sizeof(*th), &o);

	newlen = o.ts ? SYNACK_TS_LEN : SYNACK_NOTS_LEN;
	if (frame_resize(xdp, l4off + newlen))
		goto restore;
	data = xdp_data(xdp);
	end = xdp_end(xdp);
	ip = data + l3off;
	th = data + l4off;
	if ((void *)th + SYNACK_NOTS_LEN > end || ip + sizeof(struct ipv6hdr) > end)
		goto restore;

	{
		struct ethhdr *eth = data;
		__u8 mac[6];

		if ((void *)(eth + 1) > end)
			goto restore;
		__builtin_memcpy(mac, eth->h_source, 6);
		__builtin_memcpy(eth->h_source, eth->h_dest, 6);
		__builtin_memcpy(eth->h_dest, mac, 6);
	}
	if (v6) {
		struct ipv6hdr *ip6 = ip;
		__u32 a[4];

		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(newlen);
		ip6->hop_limit = 64;
		__builtin_memcpy(a, &ip6->saddr, 16);
		__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->daddr, a, 16);
		mss = cfg->cookie_mss6 ? cfg->cookie_mss6 : 1440;
	} else {
		struct iphdr *ip4 = ip;
		__be32 a = ip4->saddr;

		ip4->saddr = ip4->daddr;
		ip4->daddr = a;
		ip4->tos = 0;
		ip4->tot_len = bpf_htons(20 + newlen);
		ip4->id = 0;
		ip4->frag_off = bpf_htons(0x4000); /* DF */
		ip4->ttl = 64;
		ip4->check = 0;
		ret = bpf_csum_diff(NULL, 0, (void *)ip4, sizeof(*ip4), 0);
		ip4->check = ~csum_fold((__u32)ret);
		mss = cfg->cookie_mss4 ? cfg->cookie_mss4 : 1460;
	}

	{
		__be16 port = th->source;
		__u8 *opt = (__u8 *)(th + 1);

		th->source = th->dest;
		th->dest = port;
		th->seq = bpf_htonl(cookie);
		th->ack_seq = bpf_htonl(seq);
		/* doff and flags: SYN | ACK, nothing else (no ECN). */
		((__u8 *)th)[12] = (newlen / 4) << 4;
		((__u8 *)th)[13] = 0x12;
		/* The SYN-ACK's window is never scaled; the kernel announces its
		 * initial window rounded to whole segments, so do we. */
		win = 65535 / mss * mss;
		th->window = bpf_htons(win);
		th->check = 0;
		th->urg_ptr = 0;
		opt[0] = TCPOPT_MSS;
		opt[1] = 4;
		opt[2] = mss >> 8;
		opt[3] = mss & 0xff;
		if (o.ts) {
			/* The echoed timestamp tells the kernel the client's
			 * window scale and SACK; it must not run ahead of the
			 * clock the connection's later timestamps come from. */
			__u64 now_ms = now / 1000000;
			__u64 tsv = (now_ms >> TSBITS) << TSBITS;
			__u32 tso = TS_OPT_WSCALE_MASK;

			/* The kernel takes a client's shift above 14 as 14. */
			if (o.ws)
				tso = o.ws - 1 > 14 ? 14 : o.ws - 1;

			if ((void *)th + SYNACK_TS_LEN > end)
				goto restore;
			if (o.sack)
				tso |= TS_OPT_SACK;
			tsv |= tso;
			if (tsv > now_ms)
				tsv -= 1ULL << TSBITS;
			opt[4] = o.sack ? TCPOPT_SACK_PERM : TCPOPT_NOP;
			opt[5] = o.sack ? 2 : TCPOPT_NOP;
			opt[6] = TCPOPT_TIMESTAMP;
			opt[7] = 10;
			*(__be32 *)&opt[8] = bpf_htonl((__u32)tsv);
			*(__be32 *)&opt[12] = bpf_htonl((__u32)o.tsval);
			opt[16] = TCPOPT_NOP;
			opt[17] = o.ws ? TCPOPT_WINDOW : TCPOPT_NOP;
			opt[18] = o.ws ? 3 : TCPOPT_NOP;
			opt[19] = o.ws ? cfg->cookie_wscale : TCPOPT_NOP;
			ret = bpf_csum_diff(NULL, 0, (void *)th, SYNACK_TS_LEN, 0);
		} else {
			ret = bpf_csum_diff(NULL, 0, (void *)th, SYNACK_NOTS_LEN, 0);
		}
		sum = (__u32)ret;
		if (v6)
			ret = bpf_csum_diff(NULL, 0, ip + 8, 32, 0);
		else
			ret = bpf_csum_diff(NULL, 0, ip + 12, 8, 0);
		sum += (__u32)ret + bpf_htons(IPPROTO_TCP) + bpf_htons((__u16)newlen);
		th->check = ~csum_fold(sum);
	}
	cookie_count(FG_M_COOKIES_SENT);
	return FG_R_TX_SYN_COOKIE;

declined:
	bpf_sk_release(sk);
	cookie_count(FG_M_COOKIES_DECLINED);
	return FG_R_MAX;
restore:
	if (sk)
		bpf_sk_release(sk);
	frame_resize(xdp, orig_len);
	cookie_count(FG_M_COOKIES_DECLINED);
	return FG_R_MAX;
}

/*
 * An ACK (no SYN, no RST) at l4off from a source that is not verified,
 * while its rule answers cookies. Returns FG_R_PASS_ESTABLISHED when it
 * belongs to a connection (or to no socket: the kernel answers it as
 * always), FG_R_PASS_COOKIE_ACK when it carries a cookie the listener
 * issued, FG_R_DROP_BAD_COOKIE when it is for a listener and carries
 * anything else (a spoofed ACK flood).
 */
static __always_inline int cookie_ack_check(struct xdp_md *xdp, __u32 l4off, const bool v6)
{
	__u32 l3len = v6 ? 40 : 20, l3off;
	void *data = xdp_data(xdp), *end = xdp_end(xdp), *ip;
	struct bpf_sock *sk;
	struct tcphdr *th;
	long ret;

	if (!plain_l3(data, end, l4off, v6, &l3off))
		return FG_R_PASS_ESTABLISHED;
	l3off = bound_off(l3off);
	l4off = l3off + l3len;
	ip = data + l3off;
	th = data + l4off;
	if ((void *)(th + 1) > end || ip + sizeof(struct ipv6hdr) > end)
		return FG_R_PASS_ESTABLISHED;
	if (v6 ? ((struct ipv6hdr *)ip)->nexthdr != IPPROTO_TCP : ((struct iphdr *)ip)->ihl != 5)
		return FG_R_PASS_ESTABLISHED;
	if (!v6 && ((struct iphdr *)ip)->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return FG_R_PASS_ESTABLISHED;
	sk = cookie_lookup(xdp, ip, v6, th);
	if (!sk)
		return FG_R_PASS_ESTABLISHED;
	if (sk->state != BPF_TCP_LISTEN_FG) {
		bpf_sk_release(sk);
		return FG_R_PASS_ESTABLISHED;
	}
	/* The check reads only the ports and sequence numbers of the header. */
	ret = bpf_tcp_check_syncookie(sk, ip, v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr),
				      th, sizeof(*th));
	bpf_sk_release(sk);
	if (ret == 0) {
		cookie_count(FG_M_COOKIE_ACKS_VALID);
		return FG_R_PASS_COOKIE_ACK;
	}
	/* -EINVAL: cookies are off in the namespace (tcp_syncookies=0): not
	 * ours to judge, the kernel answers it as it would without us.
	 * Anything else (-ENOENT for a wrong cookie, or none issued in the
	 * last two minutes) is an ACK no connection and no cookie explains:
	 * the kernel would only answer it with a RST. */
	if (ret != -22) {
		cookie_count(FG_M_COOKIE_ACKS_BAD);
		return FG_R_DROP_BAD_COOKIE;
	}
	return FG_R_PASS_ESTABLISHED;
}

/* One global function per family: the family is a constant in each, so
 * clang cannot fold the two into selects the verifier walks crosswise. */
__noinline int fg_cookie_syn4(struct xdp_md *xdp, __u32 l4off, __u64 now)
{
	return cookie_syn(xdp, l4off, false, now);
}

__noinline int fg_cookie_syn6(struct xdp_md *xdp, __u32 l4off, __u64 now)
{
	return cookie_syn(xdp, l4off, true, now);
}

__noinline int fg_cookie_ack4(struct xdp_md *xdp, __u32 l4off)
{
	return cookie_ack_check(xdp, l4off, false);
}

__noinline int fg_cookie_ack6(struct xdp_md *xdp, __u32 l4off)
{
	return cookie_ack_check(xdp, l4off, true);
}

#endif /* FG_BPF_COOKIE_H */
