/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Small real ban maps for unit tests that may create BPF maps (root or
 * CAP_BPF): the bans_addr hash, the bans trie and the settings entry that
 * holds their HAS_BAN_PREFIX flag, as xdpmaps_ban() and friends use them.
 */
#ifndef FG_TEST_BANMAPS_H
#define FG_TEST_BANMAPS_H

#include <stdbool.h>
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
	m->bans = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_bans", sizeof(struct fg_lpm_key),
				 sizeof(struct fg_ban), entries, &o);
	return m->settings >= 0 && m->bans_addr >= 0 && m->bans_pfx >= 0 && m->bans >= 0;
}

static inline void banmaps_close(struct xdpmaps *m)
{
	int *fds[] = { &m->settings, &m->bans_addr, &m->bans_pfx, &m->bans };
	unsigned i;

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
