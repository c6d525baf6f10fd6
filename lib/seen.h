/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * seen: the upkeep of the existence filter of src_state and prefix_state
 * (map `seen`, FG_SEEN_* in abi.h). The program sets a key's bit in both
 * generations before it inserts the key; the bits of keys that left (LRU
 * eviction, a clear) stay set and cost the program a lookup each. From
 * time to time the generation the program does not test is rebuilt in
 * steps (zeroed, then the bit of every key the maps hold set), then made
 * the tested one: what left no longer counts.
 */
#ifndef FG_SEEN_H
#define FG_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <floodgate/abi.h>

/* A rebuild starts once the tested generation has this many more bits set
 * than right after the last one (1/16 of it: a few % more false "maybe"). */
#define SEEN_REBUILD_BITS (1ULL << (FG_SEEN_BITS_LOG - 4))

struct seen {
	int filter, maps[2]; /* seen, src_state, prefix_state */
	__u64 *words;	     /* the filter mapped; NULL: it could not be */
	bool rebuilding;
	int map;		 /* the map being walked (index in maps) */
	bool walked_some;	 /* of that map: cursor is valid */
	__u32 cursor;		 /* its batch cursor */
	uint64_t bits_after;	 /* bits set in the tested generation after the last rebuild */
	uint64_t rebuilds;	 /* rebuilds completed */
	struct fg_src_key *keys; /* one batch of keys and values */
	struct fg_src_state *vals;
};

/* Map the filter of fds filter / src_state / prefix_state (which stay the
 * caller's) and set the bit of every key the maps hold in both generations:
 * state left by a program without the filter (or a filter map created anew
 * beside pinned state) is never skipped. Should the mapping fail, every bit
 * is set instead (the program then looks every source up, as before the
 * filter). Returns 0 or -errno. */
int seen_open(struct seen *s, int filter, int src_state, int prefix_state);
void seen_close(struct seen *s);

/* One step of upkeep, about once a second: starts a rebuild when due (or
 * when force), walks about budget keys of each map. Returns 1 when a
 * rebuild ended in this step, 0, or -errno (the rebuild starts over next
 * time). */
int seen_tick(struct seen *s, size_t budget, bool force);

/* Bits set in the generation the program tests (0 when not mapped). */
uint64_t seen_bits_set(const struct seen *s);

/* Set k's bit in both generations, as the program does before an insert:
 * for tools that write state entries by hand. */
void seen_mark(struct seen *s, const struct fg_src_key *k);

#endif /* FG_SEEN_H */
