/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * kernel: what floodgate needs from the running kernel, checked at start.
 *
 * The floor is Linux 5.12: the BPF program uses BPF atomics (compare-and-
 * swap, fetch-and-add with a result) that older verifiers reject with a
 * message an operator cannot act on. Below it floodgated refuses to start
 * with one line that says so. Anything newer than the floor is probed with
 * libbpf's feature probes and switched off when missing, never a failed start.
 */
#ifndef FG_KERNEL_H
#define FG_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define FG_KERNEL_FLOOR_MAJOR 5
#define FG_KERNEL_FLOOR_MINOR 12
#define FG_KERNEL_FLOOR_WHY   "BPF atomics"

struct kernel_version {
	unsigned major, minor, patch;
};

/* Parse a uname release ("6.1.0-57-amd64", "5.4.0-150-generic", "6.12.118+deb12-amd64",
 * "5.12-rc1") into major.minor.patch (patch 0 when absent). 0, or -EINVAL when
 * the string does not start with a version. */
int kernel_parse_release(const char *release, struct kernel_version *v);

/* Whether `release` is below the floor. An unparsable release is never below
 * (a kernel we cannot read is given the benefit of the doubt: the verifier
 * still has the last word). When below, `msg` gets the line to print. */
bool kernel_below_floor(const char *release, char *msg, size_t len);

/* The floor check at start, on uname's release and the kernel's BTF (the
 * program's CO-RE relocations need it): 0, or -ENOTSUP after logging one
 * error line naming what is missing and the running release. */
int kernel_check_floor(void);

/* Features newer than the floor, probed once at start (libbpf's probes). A
 * feature that needs one is switched off with a log line when it is false. */
struct kernel_features {
	char release[65];    /* uname -r */
	bool xdp_syncookies; /* bpf_skc_lookup_tcp, bpf_tcp_{gen,check}_syncookie at XDP */
};
extern struct kernel_features kernel_features;

/* Fill kernel_features and log them in one line. Needs CAP_BPF. */
void kernel_probe_features(void);

#endif
