// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The floor of bench/flood.sh: an XDP program that drops every frame. What
 * any XDP filter costs on this path before it does any work of its own. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}
