// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The attacker side of bench/livegen: run with BPF_PROG_RUN in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES) on a template frame, it rewrites the
 * source address, source port and (TCP) sequence number of each frame and
 * returns XDP_TX, which the kernel turns into a redirect out of the ingress
 * device given to BPF_PROG_RUN. On a veth the peer receives an xdp_frame,
 * so the victim's native XDP runs with no skb, as on a NIC driver.
 *
 * The kernel does not restore the frame between runs over a recycled page:
 * every field written here is written whole from the configuration, never
 * from what the frame held, so each frame is right whatever ran before.
 * Checksums are finished from sums the loader took over the template with
 * those fields zero.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_HLEN    14
#define IP4_HLEN    20
#define IP6_HLEN    40
#define IPPROTO_TCP 6

/* Set by the loader before load (rodata). Addresses and the masks are in
 * network byte order, IPv4 in word 0. */
const volatile __u32 cfg_v6;	      /* 0: IPv4, 1: IPv6 */
const volatile __u32 cfg_proto;	      /* IPPROTO_TCP or IPPROTO_UDP */
const volatile __u32 cfg_base[4];     /* the source prefix */
const volatile __u32 cfg_hostmask[4]; /* its host bits: 0 = a single source */
const volatile __u32 cfg_nsources;    /* > 0: only this many distinct sources */
const volatile __u32 cfg_idx_word;    /* which word the source index goes into */
const volatile __u32 cfg_sport;	      /* network order; 0: random per frame */
const volatile __u64 cfg_ip_sum;      /* IPv4 header sum with saddr zero */
const volatile __u64 cfg_l4_sum;      /* L4 sum (pseudo header too), fields zero */

/* Frames the program could not rewrite (shorter than the template). */
__u64 bad_frames;

static __always_inline __u16 csum_finish(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_livegen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3 = cfg_v6 ? IP6_HLEN : IP4_HLEN;
	__u32 addr[4];
	__u64 l4sum = cfg_l4_sum;
	__u32 *saddr;
	void *l4;
	__u16 sport;
	int i;

	if (data + ETH_HLEN + IP6_HLEN + 24 > data_end && cfg_v6)
		goto bad;
	if (data + ETH_HLEN + IP4_HLEN + 24 > data_end)
		goto bad;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 host = 0;

		/* The source: the prefix with random host bits, or one of
		 * cfg_nsources sources: (index + 1) times an odd constant is a
		 * bijection modulo 2^host_bits, so up to 2^host_bits - 1
		 * sources are distinct, spread over the prefix, and none is
		 * the prefix's all-zero host. */
		if (cfg_hostmask[i]) {
			if (cfg_nsources && (__u32)i == cfg_idx_word)
				host = bpf_htonl((bpf_get_prandom_u32() % cfg_nsources + 1) *
						 0x9e3779b1u);
			else if (!cfg_nsources)
				host = bpf_get_prandom_u32();
		}
		addr[i] = cfg_base[i] | (host & cfg_hostmask[i]);
	}

	if (cfg_v6) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		saddr = (__u32 *)&ip6->saddr;
#pragma unroll
		for (i = 0; i < 4; i++) {
			saddr[i] = addr[i];
			l4sum += addr[i];
		}
	} else {
		struct iphdr *ip = data + ETH_HLEN;

		ip->saddr = addr[0];
		l4sum += addr[0];
		ip->check = csum_finish(cfg_ip_sum + addr[0]);
	}

	l4 = data + ETH_HLEN + l3;
	if (l4 + 24 > data_end)
		goto bad;
	sport = cfg_sport ? (__u16)cfg_sport : (__u16)(bpf_get_prandom_u32() | 0x400);
	l4sum += sport;
	if (cfg_proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u32 seq = bpf_get_prandom_u32();

		th->source = sport;
		th->seq = seq;
		l4sum += seq;
		th->check = csum_finish(l4sum);
	} else {
		struct udphdr *uh = l4;
		__u16 c = csum_finish(l4sum);

		uh->source = sport;
		uh->check = c ? c : 0xffff;
	}
	return XDP_TX;
bad:
	bad_frames++;
	return XDP_ABORTED;
}
