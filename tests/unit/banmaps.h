/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Small real ban maps for unit tests that may create BPF maps (root or
 * CAP_BPF): the bans_addr hash, the bans trie and the settings entry that
 * holds their HAS_BAN_PREFIX flag, and the ban filter, as xdpmaps_ban() and
 * friends use them.
 */
#ifndef FG_TEST_BANMAPS_H
#define FG_TEST_BANMAPS_H

#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xdpmaps.h"

/* Create them into m (other fds untouched); false if any failed. */
static inline bool banmaps_open(struct xdpmaps *m, __u32 entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	m->settings = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_settings", sizeof(__u32),
				     sizeof(struct fg_config), 1, NULL);
	m->bans_addr = bpf_map_create(BPF_MAP_TYPE_HASH, "t_bans_addr", sizeof(struct fg_ban_key),
				      sizeof(struct fg_ban), entries, NULL);
	m->bans_pfx = bpf_map_create(BPF_MAP_TYPE_HASH, "t_bans_pfx", sizeof(struct fg_ban_pfx_key),
				     sizeof(struct fg_ban), entries, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	void *slots;

	m->bans = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_bans", sizeof(struct fg_lpm_key),
				 sizeof(struct fg_ban), entries, &o);
	/* The ban filter, mapped as xdpmaps maps it: the API's counts are
	 * exercised too. */
	m->ban_filter = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_ban_filter", sizeof(__u32),
				       sizeof(struct fg_ban_filter), 1, &mo);
	slots = MAP_FAILED;
	if (m->ban_filter >= 0)
		slots = mmap(NULL, sizeof(struct fg_ban_filter), PROT_READ | PROT_WRITE, MAP_SHARED,
			     m->ban_filter, 0);
	m->ban_slots = slots == MAP_FAILED ? NULL : slots;
	/* No program reads these maps: no state filter to keep. */
	m->seen = -1;
	m->seen_words = NULL;
	return m->settings >= 0 && m->bans_addr >= 0 && m->bans_pfx >= 0 && m->bans >= 0 &&
	       m->ban_slots;
}

static inline void banmaps_close(struct xdpmaps *m)
{
	int *fds[] = { &m->settings, &m->bans_addr, &m->bans_pfx, &m->bans, &m->ban_filter };
	unsigned i;

	xdpmaps_unmap(m);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Bans in both maps. */
static inline long banmaps_count(const struct xdpmaps *m)
{
	return xdpmaps_count(m->bans_addr, sizeof(struct fg_ban_key)) +
	       xdpmaps_count(m->bans, sizeof(struct fg_lpm_key));
}

#endif /* FG_TEST_BANMAPS_H */
