/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * testobj: the real floodgate object loaded for BPF_PROG_TEST_RUN, shared by
 * the BPF table tests and the packet fuzzer. Nothing is pinned (the maps are
 * LIBBPF_PIN_BY_NAME in the object) and the hash maps are small.
 */
#ifndef FG_TESTOBJ_H
#define FG_TESTOBJ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "floodgate.skel.h"
#include "xdpmaps.h"

#define TESTOBJ_MAX_FRAME 2048

struct testobj {
	struct floodgate_bpf *skel;
	struct xdpmaps maps;
	int xdp_fd, tc_fd;
	bool short_frames_ok; /* test_run takes frames under ETH_HLEN */
};

/* Open and load the object into t, unpinned. Returns 0 or -errno (loading
 * needs root or CAP_BPF + CAP_PERFMON). */
int testobj_open(struct testobj *t);

void testobj_close(struct testobj *t);

/* Run prog_fd (XDP when xdp, else TC) once on frame (at most
 * TESTOBJ_MAX_FRAME bytes; an XDP frame under 14 bytes is preceded by
 * metadata, as the kernel wants 14 bytes of input). Returns 0 or -errno. */
int testobj_run(int prog_fd, bool xdp, const uint8_t *frame, int len, __u32 *retval);

/* The verifier's work on a program (bpf_prog_info.verified_insns, 5.16+),
 * 0 if the kernel does not say. */
__u32 testobj_verified_insns(int prog_fd);

#endif /* FG_TESTOBJ_H */
