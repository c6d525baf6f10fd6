// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Process-wide settings: see process.h. */
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include "log.h"
#include "process.h"

void process_setup(void)
{
	/* A peer that goes away mid-reply must cost an EPIPE, not the agent. */
	signal(SIGPIPE, SIG_IGN);
#ifdef M_MMAP_THRESHOLD
	/* glibc raises its mmap threshold after each large free, so 1 MB client
	 * buffers end up on the heap, which keeps its peak after the clients
	 * leave (475 MB after 2000 partial requests). A fixed threshold keeps
	 * them mmapped: freed means given back. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
#endif
}

/* Each client is a descriptor: a soft limit of 1024 (systemd's default)
 * would refuse clients long before socket.max_clients. */
void process_raise_nofile(uint64_t want64)
{
	rlim_t want = (rlim_t)want64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_warn("open files limit below what max clients needs",
			 LOG_UINT("limit", rl.rlim_cur), LOG_UINT("want", want));
}
