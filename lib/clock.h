/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * clock: wall-clock time as the agent counts it. Policies and Redis count in
 * Unix epoch milliseconds (budgets reset at UTC boundaries or their zone's,
 * agent/tzone.h); timestamps in
 * the BPF maps are CLOCK_MONOTONIC ns (xdpmaps_now_ns()).
 */
#ifndef FG_CLOCK_H
#define FG_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* FG_CLOCK_H */
