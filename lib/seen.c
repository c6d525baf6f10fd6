// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "seen.h"

#define BATCH 4096
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* The largest key and value of the maps walked (their values are not used). */
#define KEY_MAX                                                                                    \
	MAX(sizeof(struct fg_src_key), MAX(sizeof(struct fg_udp_key), sizeof(struct fg_ban_pfx_key)))
#define VAL_MAX                                                                                    \
	MAX(MAX(sizeof(struct fg_src_state), sizeof(struct fg_verified)),                          \
	    MAX(sizeof(__u64), sizeof(struct fg_ban)))
#define BOTH_GENS 2 /* walk()'s gen for "both generations" */

static void set_state(const struct xdpmaps *m, __u32 gen, const void *k)
{
	xdpmaps_seen_set(m, gen, fg_seen_bit(k));
}

static void set_verified(const struct xdpmaps *m, __u32 gen, const void *k)
{
	xdpmaps_seen_set(m, gen, fg_seen_bit_verified(k));
}

static void set_udp(const struct xdpmaps *m, __u32 gen, const void *k)
{
	xdpmaps_seen_set(m, gen, fg_seen_bit_udp(k));
}

static void set_ban_pfx(const struct xdpmaps *m, __u32 gen, const void *k)
{
	xdpmaps_seen_set_ban_pfx(m, gen, k);
}

static void set_list_addr(const struct xdpmaps *m, __u32 gen, const void *k)
{
	xdpmaps_seen_set(m, gen, fg_seen_bit_list(((const struct fg_ban_key *)k)->addr));
}

/* The maps behind the filter, in the order a rebuild walks them: where
 * struct xdpmaps keeps each one's fd, its key size (the batch lookup packs
 * keys at it) and how a key sets its bits in a generation. */
static const struct {
	size_t fd;
	size_t key_size;
	void (*set)(const struct xdpmaps *m, __u32 gen, const void *key);
} seen_maps[] = {
	{ offsetof(struct xdpmaps, src_state), sizeof(struct fg_src_key), set_state },
	{ offsetof(struct xdpmaps, prefix_state), sizeof(struct fg_src_key), set_state },
	{ offsetof(struct xdpmaps, verified), sizeof(struct fg_src_key), set_verified },
	{ offsetof(struct xdpmaps, udp_flows), sizeof(struct fg_udp_key), set_udp },
	{ offsetof(struct xdpmaps, bans_pfx), sizeof(struct fg_ban_pfx_key), set_ban_pfx },
	{ offsetof(struct xdpmaps, allow_addr), sizeof(struct fg_ban_key), set_list_addr },
	{ offsetof(struct xdpmaps, deny_addr), sizeof(struct fg_ban_key), set_list_addr },
};
#define SEEN_MAPS ((int)(sizeof(seen_maps) / sizeof(seen_maps[0])))

static int map_fd(const struct seen *s)
{
	return *(const int *)((const char *)s->m + seen_maps[s->map].fd);
}

/* The generation word 0 of the filter at words names. */
static __u32 tested_gen(const __u64 *words)
{
	return (__u32)__atomic_load_n(&words[0], __ATOMIC_SEQ_CST) & 1;
}

/* Bits set in n words from w. */
static uint64_t popcount_words(const __u64 *w, __u32 n)
{
	uint64_t bits = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		bits += (uint64_t)__builtin_popcountll(__atomic_load_n(&w[i], __ATOMIC_RELAXED));
	return bits;
}

/* Bits set in the tested generation of the filter at words. */
static uint64_t tested_bits(const __u64 *words)
{
	return popcount_words(words + fg_seen_word(tested_gen(words), 0), FG_SEEN_WORDS);
}

uint64_t seen_bits_set(const struct seen *s)
{
	return s->m ? tested_bits(s->m->seen_words) : 0;
}

int seen_count_fd(int fd, struct seen_counts *c)
{
	size_t len = (size_t)FG_SEEN_ENTRIES * sizeof(__u64);
	const __u64 *w = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	__u32 gen;

	if (w == MAP_FAILED)
		return -errno;
	gen = tested_gen(w);
	c->filter = (long)tested_bits(w);
	c->cover[0] = (long)popcount_words(w + fg_cover_word(gen, 0), 1U << (FG_COVER4_LOG - 6));
	c->cover[1] = (long)popcount_words(w + fg_cover_word(gen, 1U << FG_COVER4_LOG),
					   1U << (FG_COVER6_LOG - 6));
	munmap((void *)w, len);
	return 0;
}

/*
 * Walk at most budget keys of map s->map from s->cursor, setting their
 * bits in generation gen (or BOTH_GENS). *done: the map has no more.
 */
static int walk(struct seen *s, __u32 gen, size_t budget, bool *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t seen_keys = 0;
	__u32 out, count, i;
	int err;

	*done = false;
	while (seen_keys < budget) {
		count = BATCH;
		err = bpf_map_lookup_batch(map_fd(s), s->walked_some ? &s->cursor : NULL, &out,
					   s->keys, s->vals, &count, &opts);
		if (err && errno != ENOENT)
			return -errno;
		for (i = 0; i < count; i++) {
			const void *key = (const char *)s->keys + i * seen_maps[s->map].key_size;

			if (gen == BOTH_GENS) {
				seen_maps[s->map].set(s->m, 0, key);
				seen_maps[s->map].set(s->m, 1, key);
			} else {
				seen_maps[s->map].set(s->m, gen, key);
			}
		}
		seen_keys += count;
		if (err) { /* ENOENT: that was the last batch */
			*done = true;
			return 0;
		}
		s->cursor = out;
		s->walked_some = true;
	}
	return 0;
}

int seen_open(struct seen *s, const struct xdpmaps *m)
{
	bool done = false;
	int err = 0;

	memset(s, 0, sizeof(*s));
	if (!m->seen_words)
		return 0;
	s->m = m;
	s->keys = malloc(BATCH * KEY_MAX);
	s->vals = malloc(BATCH * VAL_MAX);
	if (!s->keys || !s->vals)
		err = -ENOMEM;
	for (s->map = 0; s->map < SEEN_MAPS && !err; s->map++) {
		s->walked_some = false;
		do
			err = walk(s, BOTH_GENS, BATCH, &done);
		while (!err && !done);
	}
	if (err) {
		__u32 i;

		/* Keys may be left without their bits: every bit set, so every
		 * source is looked up, and no rebuild (they would go again). */
		for (i = 1; i < FG_SEEN_ENTRIES; i++)
			__atomic_store_n(&m->seen_words[i], ~0ULL, __ATOMIC_SEQ_CST);
		seen_close(s);
		return err;
	}
	s->bits_after = seen_bits_set(s);
	s->rebuilt_ns = s->counted_ns = xdpmaps_now_ns();
	return 0;
}

void seen_close(struct seen *s)
{
	s->m = NULL;
	free(s->keys);
	free(s->vals);
	s->keys = NULL;
	s->vals = NULL;
}

int seen_tick(struct seen *s, size_t budget, bool force, uint64_t now_ns)
{
	__u64 *words;
	__u32 next;
	bool done;
	int err;

	if (!s->m)
		return 0;
	words = s->m->seen_words;
	next = tested_gen(words) ^ 1;
	if (!s->rebuilding) {
		if (!force && now_ns - s->rebuilt_ns < SEEN_REBUILD_NS) {
			if (now_ns - s->counted_ns < SEEN_COUNT_NS)
				return 0;
			s->counted_ns = now_ns;
			if (seen_bits_set(s) < s->bits_after + SEEN_REBUILD_BITS)
				return 0;
		}
		/* Zeroed before any key is walked: a key inserted from now on
		 * has its bit set by its writer, a key already in a map by
		 * the walk. (The program marks a key and inserts it within
		 * one run, microseconds; the walk starts after 2 MB of
		 * stores.) */
		for (__u32 i = 0; i < FG_SEEN_WORDS; i++)
			__atomic_store_n(&words[fg_seen_word(next, 0) + i], 0, __ATOMIC_SEQ_CST);
		for (__u32 i = 0; i < FG_COVER_WORDS; i++)
			__atomic_store_n(&words[fg_cover_word(next, 0) + i], 0, __ATOMIC_SEQ_CST);
		s->rebuilding = true;
		s->map = 0;
		s->walked_some = false;
	}
	for (;;) {
		err = walk(s, next, budget, &done);
		if (err) {
			s->rebuilding = false;
			return err;
		}
		if (!done)
			return 0;
		if (++s->map == SEEN_MAPS)
			break;
		s->walked_some = false;
	}
	__atomic_store_n(&words[0], (__u64)next, __ATOMIC_SEQ_CST);
	s->rebuilding = false;
	s->bits_after = seen_bits_set(s);
	s->rebuilt_ns = s->counted_ns = now_ns;
	return 1;
}
