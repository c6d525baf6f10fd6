/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * seen: the upkeep of the existence filter of src_state, prefix_state,
 * verified, udp_flows, bans_pfx, allow_addr and deny_addr (map `seen`,
 * FG_SEEN_* in abi.h). The programs (and xdpmaps, for what user space inserts) set a key's bit in
 * both generations before they insert the key; the bits of keys that left
 * (LRU eviction, a clear, an unvouch, an unban) stay set and cost the
 * program a lookup each. From time to time the generation the program does
 * not test is rebuilt in steps (zeroed, then the bit of every key the maps
 * hold set), then made the tested one: what left no longer counts. The
 * prefix ban cover at the end of the map (cover.h) is rebuilt with it.
 */
#ifndef FG_SEEN_H
#define FG_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <floodgate/abi.h>

#include "xdpmaps.h"

/* A rebuild starts once the tested generation has this many more bits set
 * than right after the last one (1/16 of it: a few % more false "maybe"),
 * or this long after the last one (a key written by hand, without its bit,
 * is skipped until then). */
#define SEEN_REBUILD_BITS (1ULL << (FG_SEEN_BITS_LOG - 4))
#define SEEN_REBUILD_NS	  (600ULL * 1000000000ULL)
/* How often the bits are counted for that (2 MB read: a quarter of an idle
 * agent's CPU when it was every second). */
#define SEEN_COUNT_NS (10ULL * 1000000000ULL)

struct seen {
	const struct xdpmaps *m; /* its maps and its mapping of the filter; NULL: no upkeep */
	bool rebuilding;
	int map;		 /* the map being walked (index in seen.c's seen_maps) */
	bool walked_some;	 /* of that map: cursor is valid */
	__u32 cursor;		 /* its batch cursor */
	uint64_t bits_after;	 /* bits set in the tested generation after the last rebuild */
	uint64_t rebuilt_ns;	 /* when the last rebuild ended (or the open) */
	uint64_t counted_ns;	 /* when the bits were last counted for a rebuild */
	void *keys;		 /* one batch of keys, and room for their values */
	void *vals;
};

/* Keep the filter of m (whose maps and mapping stay the caller's, and must
 * outlive s) and set the bit of every key the maps hold in both
 * generations: state left by a program without the filter is never
 * skipped. Nothing to do (0) when xdpmaps could not map it: it set every
 * bit. Returns 0, or -errno with every bit set and no upkeep (the filter
 * is then off). */
int seen_open(struct seen *s, const struct xdpmaps *m);
void seen_close(struct seen *s);

/* One step of upkeep, about once a second (now_ns: CLOCK_MONOTONIC):
 * starts a rebuild when due (or when force), walks about budget keys of
 * each map. Returns 1 when a rebuild ended in this step, 0, or -errno (the
 * rebuild starts over next time). */
int seen_tick(struct seen *s, size_t budget, bool force, uint64_t now_ns);

/* Bits set in the generation the program tests (0 without upkeep). */
uint64_t seen_bits_set(const struct seen *s);

/* What the generation the program tests holds: bits set in the state
 * filter, and units set in the prefix ban cover per family ([0] IPv4 /20s,
 * [1] IPv6 /40 slots). */
struct seen_counts {
	long filter;
	long cover[2];
};

/* Count the filter map fd (mapped read-only for the count, from any
 * thread) into *c. Returns 0, or -errno when it cannot be mapped. */
int seen_count_fd(int fd, struct seen_counts *c);

#endif /* FG_SEEN_H */
