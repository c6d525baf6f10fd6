// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The baseline of bench_xdp: an XDP program that passes every frame. What
 * BPF_PROG_TEST_RUN costs around any program, measured on the same frame. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_noop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
