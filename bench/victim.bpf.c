// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Yardsticks for floodgate in bench/flood.sh, attached by `livegen attach`:
 *
 * - xdp_parse_only: reads Ethernet, IPv4 or IPv6 and TCP, drops SYNs
 *   (without ACK), passes the rest. The floor of any filter that looks at
 *   the packet: the frame was written on another core, so reading its
 *   headers costs a cache transfer, as a NIC's DMA does.
 * - xdp_lru_limit: the simplest per-source limiter: one LRU hash of IPv4
 *   source -> token bucket (in GCRA form: one theoretical arrival time),
 *   IPv4 TCP SYNs only, updated in place. What floodgate's levels (prefix,
 *   global budget, verified clients, bans, lists) are compared against.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP    0x0800
#define ETH_P_IPV6  0x86DD
#define IPPROTO_TCP 6

/* Set by the loader: the bucket's refill interval (1 s / rate) and how far
 * its arrival time may run ahead of now (burst intervals). */
const volatile __u64 cfg_interval_ns = 10000000;    /* 100/s */
const volatile __u64 cfg_tolerance_ns = 2000000000; /* burst 200 */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000); /* the loader sets it */
	__type(key, __u32);
	__type(value, __u64);
} lru_src SEC(".maps");

/* The IPv4 header of a TCP SYN (no ACK) frame, or NULL. */
static __always_inline struct iphdr *syn4(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct tcphdr *th;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP)
		return NULL;
	th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > data_end || !th->syn || th->ack)
		return NULL;
	return ip;
}

SEC("xdp")
int xdp_parse_only(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + sizeof(*eth);
	struct tcphdr *th;

	if (syn4(data, data_end))
		return XDP_DROP;
	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    ip6->nexthdr != IPPROTO_TCP)
		return XDP_PASS;
	th = (void *)(ip6 + 1);
	if ((void *)(th + 1) > data_end)
		return XDP_PASS;
	return th->syn && !th->ack ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_lru_limit(struct xdp_md *ctx)
{
	struct iphdr *ip = syn4((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u64 now, tat, *v;
	__u32 src;

	if (!ip)
		return XDP_PASS;
	src = ip->saddr;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&lru_src, &src);
	if (!v) {
		tat = now + cfg_interval_ns;
		bpf_map_update_elem(&lru_src, &src, &tat, BPF_NOEXIST);
		return XDP_PASS;
	}
	tat = *v > now ? *v : now;
	tat += cfg_interval_ns;
	if (tat - now > cfg_tolerance_ns)
		return XDP_DROP;
	*v = tat;
	return XDP_PASS;
}
