// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "seen.h"

#define BATCH 4096
/* The largest value of the maps walked (their values are not used). */
#define VAL_MAX                                                                                    \
	(sizeof(struct fg_src_state) > sizeof(struct fg_verified) ? sizeof(struct fg_src_state)    \
								  : sizeof(struct fg_verified))

static __u32 tested_gen(const struct seen *s)
{
	return (__u32)__atomic_load_n(&s->words[0], __ATOMIC_SEQ_CST) & 1;
}

static void set_bit(struct seen *s, __u32 gen, __u32 bit)
{
	__atomic_fetch_or(&s->words[fg_seen_word(gen, bit)], 1ULL << (bit & 63), __ATOMIC_SEQ_CST);
}

/* Bits set in the tested generation of the filter at words. */
static uint64_t tested_bits(const __u64 *words)
{
	const __u64 *w =
		words + fg_seen_word((__u32)__atomic_load_n(&words[0], __ATOMIC_SEQ_CST), 0);
	uint64_t n = 0;
	__u32 i;

	for (i = 0; i < FG_SEEN_WORDS; i++)
		n += (uint64_t)__builtin_popcountll(__atomic_load_n(&w[i], __ATOMIC_RELAXED));
	return n;
}

uint64_t seen_bits_set(const struct seen *s)
{
	return s->words ? tested_bits(s->words) : 0;
}

long seen_count_fd(int fd)
{
	size_t len = (size_t)FG_SEEN_ENTRIES * sizeof(__u64);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	long n;

	if (p == MAP_FAILED)
		return -errno;
	n = (long)tested_bits(p);
	munmap(p, len);
	return n;
}

/*
 * Walk at most budget keys of map s->map from s->cursor, setting their
 * bits in generation gen (both when gen > 1). *done: the map has no more.
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
		err = bpf_map_lookup_batch(s->maps[s->map], s->walked_some ? &s->cursor : NULL,
					   &out, s->keys, s->vals, &count, &opts);
		if (err && errno != ENOENT)
			return -errno;
		for (i = 0; i < count; i++) {
			/* the verified map's keys have a bit of their own */
			__u32 bit = s->map == SEEN_VERIFIED ? fg_seen_bit_verified(&s->keys[i])
							    : fg_seen_bit(&s->keys[i]);

			if (gen > 1)
				set_bit(s, 0, bit);
			set_bit(s, gen > 1 ? 1 : gen, bit);
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

/* Every key of the maps into generation gen (both when gen > 1), at once. */
static int walk_all(struct seen *s, __u32 gen)
{
	bool done;
	int err;

	for (s->map = 0; s->map < SEEN_MAPS; s->map++) {
		s->walked_some = false;
		do
			err = walk(s, gen, BATCH, &done);
		while (!err && !done);
		if (err)
			return err;
	}
	return 0;
}

int seen_open(struct seen *s, const struct xdpmaps *m)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (!m->seen_words)
		return 0;
	s->maps[0] = m->src_state;
	s->maps[1] = m->prefix_state;
	s->maps[SEEN_VERIFIED] = m->verified;
	s->words = m->seen_words;
	s->keys = malloc(BATCH * sizeof(*s->keys));
	s->vals = malloc(BATCH * VAL_MAX);
	err = s->keys && s->vals ? walk_all(s, 2) : -ENOMEM;
	if (err) {
		__u32 i;

		/* Keys may be left without their bits: every bit set, so every
		 * source is looked up, and no rebuild (they would go again). */
		for (i = 1; i < FG_SEEN_ENTRIES; i++)
			__atomic_store_n(&s->words[i], ~0ULL, __ATOMIC_SEQ_CST);
		seen_close(s);
		return err;
	}
	s->bits_after = seen_bits_set(s);
	s->rebuilt_ns = xdpmaps_now_ns();
	return 0;
}

void seen_close(struct seen *s)
{
	s->words = NULL;
	free(s->keys);
	free(s->vals);
	s->keys = NULL;
	s->vals = NULL;
}

int seen_tick(struct seen *s, size_t budget, bool force, uint64_t now_ns)
{
	__u32 next;
	bool done;
	int err;

	if (!s->words)
		return 0;
	next = tested_gen(s) ^ 1;
	if (!s->rebuilding) {
		if (!force && now_ns - s->rebuilt_ns < SEEN_REBUILD_NS &&
		    seen_bits_set(s) < s->bits_after + SEEN_REBUILD_BITS)
			return 0;
		/* Zeroed before any key is walked: a key inserted from now on
		 * has its bit set by the program, a key already in a map by
		 * the walk. (The program marks a key and inserts it within
		 * one run, microseconds; the walk starts after 2 MB of
		 * stores.) */
		for (__u32 i = 0; i < FG_SEEN_WORDS; i++)
			__atomic_store_n(&s->words[fg_seen_word(next, 0) + i], 0, __ATOMIC_SEQ_CST);
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
	__atomic_store_n(&s->words[0], (__u64)next, __ATOMIC_SEQ_CST);
	s->rebuilding = false;
	s->rebuilds++;
	s->bits_after = seen_bits_set(s);
	s->rebuilt_ns = now_ns;
	return 1;
}
