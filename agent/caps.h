/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * caps: floodgated's capabilities after start. Loading the program needs
 * more (CAP_PERFMON for the verifier, CAP_CHOWN for socket.group) than
 * running it does: maps, links, attaching a newly listed interface on
 * reload and detaching at exit need only CAP_BPF and CAP_NET_ADMIN.
 */
#ifndef FG_CAPS_H
#define FG_CAPS_H

#include <stdbool.h>

/*
 * Keep CAP_BPF and CAP_NET_ADMIN (those of them the process has; none when
 * xdp is false: app-only mode loads nothing) in the permitted and effective
 * sets, drop every other capability from them,
 * empty the inheritable and ambient sets, shrink the bounding set too when
 * CAP_SETPCAP allows it, and set no_new_privs so an execve cannot win the
 * rest back. Logs one line naming what is kept. Capabilities are per
 * thread: call it before any thread starts. Returns 0 or -errno (logged).
 */
int caps_drop_to_runtime(bool xdp);

/* The effective set holds what loading the XDP program takes:
 * CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON and CAP_NET_ADMIN. */
bool caps_can_load_xdp(void);

#endif /* FG_CAPS_H */
