// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The cost of the two clocks fg_xdp could read: each program calls one
 * helper CLOCK_CALLS times; bench_xdp subtracts the no-op program's time
 * and divides by CLOCK_CALLS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define CLOCK_CALLS 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Where the readings go, so no call is dead code. */
__u64 sink;

SEC("xdp")
int xdp_ktime(struct xdp_md *ctx)
{
	__u64 sum = 0;
	int i;

	(void)ctx;
#pragma unroll
	for (i = 0; i < CLOCK_CALLS; i++)
		sum += bpf_ktime_get_ns();
	sink = sum;
	return XDP_PASS;
}

SEC("xdp")
int xdp_coarse(struct xdp_md *ctx)
{
	__u64 sum = 0;
	int i;

	(void)ctx;
#pragma unroll
	for (i = 0; i < CLOCK_CALLS; i++)
		sum += bpf_ktime_get_coarse_ns();
	sink = sum;
	return XDP_PASS;
}
