// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cover.h"
#include "floodgate.skel.h"
#include "xdpmaps.h"

/*
 * Map the ban filter's slots for the ban API's atomic counts. Should the
 * mapping fail, every slot is made non-zero instead: bans written without
 * counting must never be skipped, and the program then looks up bans_addr
 * for every packet, as it did before the filter.
 */
static __u32 *filter_map(int fd)
{
	static struct fg_ban_filter all;
	__u32 zero = 0, i;
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct fg_ban_filter), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		return p;
	for (i = 0; i < FG_BAN_FILTER_SLOTS; i++)
		all.n[i] = 1U << 30;
	bpf_map_update_elem(fd, &zero, &all, BPF_ANY);
	return NULL;
}

#define SEEN_BYTES ((size_t)FG_SEEN_ENTRIES * sizeof(__u64))

/*
 * Map the state filter's words. Should the mapping fail, every bit of
 * both generations is set instead: entries written without their bits must
 * never be skipped, and the program then looks every source up, as it did
 * before the filter.
 */
static __u64 *seen_map(int fd)
{
	__u64 all = ~0ULL;
	__u32 i;
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, SEEN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		return p;
	for (i = 1; i < FG_SEEN_ENTRIES; i++)
		bpf_map_update_elem(fd, &i, &all, BPF_ANY);
	return NULL;
}

void xdpmaps_unmap(struct xdpmaps *m)
{
	if (m->ban_slots)
		munmap(m->ban_slots, sizeof(struct fg_ban_filter));
	m->ban_slots = NULL;
	if (m->seen_words)
		munmap(m->seen_words, SEEN_BYTES);
	m->seen_words = NULL;
}

void xdpmaps_seen_set(const struct xdpmaps *m, __u32 gen, __u32 bit)
{
	__u64 *w, b = 1ULL << (bit & 63);

	if (!m->seen_words)
		return;
	/* Read first: the sweep marks every ban each second, and a set bit
	 * then costs no store to a line the program reads. */
	w = &m->seen_words[fg_seen_word(gen, bit)];
	if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & b))
		__atomic_fetch_or(w, b, __ATOMIC_SEQ_CST);
}

void xdpmaps_seen_mark(const struct xdpmaps *m, __u32 bit)
{
	xdpmaps_seen_set(m, 0, bit);
	xdpmaps_seen_set(m, 1, bit);
}

void xdpmaps_seen_set_ban_pfx(const struct xdpmaps *m, __u32 gen, const struct fg_ban_pfx_key *k)
{
	xdpmaps_seen_set(m, gen, fg_seen_bit_ban_pfx(k));
	if (m->seen_words)
		cover_set(m->seen_words, gen, k);
}

void xdpmaps_seen_mark_ban_pfx(const struct xdpmaps *m, const struct fg_ban_pfx_key *k)
{
	xdpmaps_seen_set_ban_pfx(m, 0, k);
	xdpmaps_seen_set_ban_pfx(m, 1, k);
}

/* Count (d = 1) or uncount (d = -1) an address ban key (any alignment)
 * in its slot. */
static void filter_add(const struct xdpmaps *m, const void *key, int d)
{
	struct fg_ban_key k;

	if (!m->ban_slots)
		return;
	memcpy(&k, key, sizeof(k));
	__atomic_fetch_add(&m->ban_slots[fg_ban_slot(k.addr)], (__u32)d, __ATOMIC_SEQ_CST);
}

/* The slot of an address ban key (any alignment) counts nothing. */
static bool filter_empty(const struct xdpmaps *m, const void *key)
{
	struct fg_ban_key k;

	memcpy(&k, key, sizeof(k));
	return m->ban_slots &&
	       !__atomic_load_n(&m->ban_slots[fg_ban_slot(k.addr)], __ATOMIC_SEQ_CST);
}

void xdpmaps_from_skel(struct xdpmaps *m, struct floodgate_bpf *skel)
{
	m->settings = bpf_map__fd(skel->maps.settings);
	m->rules = bpf_map__fd(skel->maps.rules);
	m->port_rules = bpf_map__fd(skel->maps.port_rules);
	m->src_state = bpf_map__fd(skel->maps.src_state);
	m->prefix_state = bpf_map__fd(skel->maps.prefix_state);
	m->global_state = bpf_map__fd(skel->maps.global_state);
	m->udp_flows = bpf_map__fd(skel->maps.udp_flows);
	m->verified = bpf_map__fd(skel->maps.verified);
	m->allow = bpf_map__fd(skel->maps.allow_lpm);
	m->deny = bpf_map__fd(skel->maps.deny_lpm);
	m->allow_addr = bpf_map__fd(skel->maps.allow_addr);
	m->deny_addr = bpf_map__fd(skel->maps.deny_addr);
	m->bans = bpf_map__fd(skel->maps.bans);
	m->bans_addr = bpf_map__fd(skel->maps.bans_addr);
	m->bans_pfx = bpf_map__fd(skel->maps.bans_pfx);
	m->stats = bpf_map__fd(skel->maps.stats);
	m->rule_stats = bpf_map__fd(skel->maps.rule_stats);
	m->misc = bpf_map__fd(skel->maps.misc);
	m->events = bpf_map__fd(skel->maps.events);
	m->ban_filter = bpf_map__fd(skel->maps.ban_filter);
	m->seen = bpf_map__fd(skel->maps.seen);
	m->drop_tally = bpf_map__fd(skel->maps.drop_tally);
	m->ban_slots = filter_map(m->ban_filter);
	m->seen_words = seen_map(m->seen);
	m->ncpus = libbpf_num_possible_cpus();
}

/* The fields of struct xdpmaps in the order of their pinned names. */
static int *map_slot(struct xdpmaps *m, int i)
{
	int *slots[] = {
		&m->settings,	  &m->rules,	 &m->port_rules, &m->src_state, &m->prefix_state,
		&m->global_state, &m->udp_flows, &m->verified,	 &m->allow,	&m->deny,
		&m->bans,	  &m->stats,	 &m->rule_stats, &m->misc,	&m->events,
		&m->bans_addr,	  &m->bans_pfx,	 &m->ban_filter, &m->seen,	&m->drop_tally,
		&m->allow_addr,	  &m->deny_addr,
	};

	return i < (int)(sizeof(slots) / sizeof(slots[0])) ? slots[i] : NULL;
}

static const char *const pin_names[] = {
	"settings",	"rules",     "port_rules", "src_state", "prefix_state",
	"global_state", "udp_flows", "verified",   "allow_lpm", "deny_lpm",
	"bans",		"stats",     "rule_stats", "misc",	"events",
	"bans_addr",	"bans_pfx",  "ban_filter", "seen",	"drop_tally",
	"allow_addr",	"deny_addr",
};

uint32_t xdpmaps_pinned_layout(const char *pin_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0, version = 0;
	char path[PATH_MAX];
	void *val;
	int fd;

	snprintf(path, sizeof(path), "%s/settings", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	/* The writer's settings may be larger than ours: read them whole. */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_MAP_TYPE_ARRAY &&
	    info.key_size == sizeof(zero) && info.value_size >= sizeof(version) &&
	    info.max_entries >= 1 && (val = calloc(1, info.value_size))) {
		if (!bpf_map_lookup_elem(fd, &zero, val))
			memcpy(&version, val, sizeof(version));
		free(val);
	}
	close(fd);
	return version;
}

int xdpmaps_open_pinned(struct xdpmaps *m, const char *pin_dir)
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; map_slot(m, i); i++)
		*map_slot(m, i) = -1;
	for (i = 0; map_slot(m, i); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, pin_names[i]);
		*map_slot(m, i) = bpf_obj_get(path);
		if (*map_slot(m, i) < 0) {
			err = -errno;
			xdpmaps_close(m);
			return err;
		}
	}
	m->ban_slots = filter_map(m->ban_filter);
	m->seen_words = seen_map(m->seen);
	m->ncpus = libbpf_num_possible_cpus();
	return 0;
}

void xdpmaps_close(struct xdpmaps *m)
{
	int i;

	xdpmaps_unmap(m);
	for (i = 0; map_slot(m, i); i++) {
		if (*map_slot(m, i) >= 0)
			close(*map_slot(m, i));
		*map_slot(m, i) = -1;
	}
}

uint64_t xdpmaps_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int xdpmaps_settings(struct xdpmaps *m, struct fg_config *out)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->settings, &zero, out) ? -errno : 0;
}

/* Write n consecutive array entries starting at index first. */
static int array_write(int fd, __u32 first, const void *values, __u32 n, size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys, count = n, i;
	int err = 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = first + i;
	if (bpf_map_update_batch(fd, keys, values, &count, &opts)) {
		/* Kernels without batch ops on arrays: one syscall each. */
		err = 0;
		for (i = 0; i < n && !err; i++)
			if (bpf_map_update_elem(fd, &keys[i], (const char *)values + i * value_size,
						BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

/* The one settings entry, written whole. */
static int settings_write(struct xdpmaps *m, const struct fg_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(m->settings, &zero, cfg, BPF_ANY) ? -errno : 0;
}

/* The settings flags that say which list and ban-trie maps hold entries
 * (the program skips an empty one): kept true to the maps by list_flags(). */
#define LIST_FLAGS (FG_CFG_F_LISTS | FG_CFG_F_HAS_BAN_PREFIX)

/* The kernel's tick: the resolution of the coarse clock is one jiffy. */
static __u16 xdpmaps_tick_us(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) || res.tv_sec || res.tv_nsec < 1000 ||
	    res.tv_nsec > 65535000)
		return 0;
	/* rounded up: the margin must not be shorter than the tick */
	return (__u16)((res.tv_nsec + 999) / 1000);
}

int xdpmaps_apply(struct xdpmaps *m, const struct fg_compiled *c, const struct fg_rule_ids *prev)
{
	struct fg_config live = {}, next;
	__u32 zero = 0, half, id;
	int err;

	/* A fresh map reads as zeros: active 0, so the first config goes to 1. */
	if (bpf_map_lookup_elem(m->settings, &zero, &live))
		return -errno;
	/* An adopted older layout's program may still read the live half. */
	half = fg_abi_adoptable(live.abi_version) ? !(live.active & 1) : 1;

	err = array_write(m->rules, half * FG_MAX_RULES, c->rules, FG_MAX_RULES,
			  sizeof(c->rules[0]));
	if (err)
		return err;
	err = array_write(m->port_rules, half * FG_PORT_SLOTS, c->port_rule, FG_PORT_SLOTS,
			  sizeof(c->port_rule[0]));
	if (err)
		return err;

	/* A rule id that now belongs to another name starts a fresh budget. */
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_global_state fresh = {};

		if (!c->ids.names[id][0])
			continue;
		if (prev && !strcmp(prev->names[id], c->ids.names[id]))
			continue;
		if (bpf_map_update_elem(m->global_state, &id, &fresh, BPF_ANY))
			return -errno;
	}

	next = c->cfg;
	next.abi_version = FG_ABI_VERSION;
	next.active = half;
	if (!next.tick_us)
		next.tick_us = xdpmaps_tick_us();
	/* The list flags describe the maps, not the config: keep them, or the
	 * lists would be skipped until the next list change. */
	next.flags |= live.flags & LIST_FLAGS;
	/* So do the prefix lengths in bans_pfx (the ban API keeps them). */
	memcpy(next.ban_nplens, live.ban_nplens, sizeof(next.ban_nplens));
	memcpy(next.ban_plens, live.ban_plens, sizeof(next.ban_plens));
	next.ban_trie_only = live.ban_trie_only;
	return settings_write(m, &next);
}

static bool map_empty(int fd)
{
	struct fg_lpm_key k; /* the largest key of the maps asked */

	return bpf_map_get_next_key(fd, NULL, &k) != 0;
}

/* Set the list and ban-trie flags of the settings from the maps' contents. */
static int list_flags(struct xdpmaps *m)
{
	struct fg_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->settings, &zero, &cfg))
		return -errno;
	cfg.flags &= ~LIST_FLAGS;
	if (!map_empty(m->allow))
		cfg.flags |= FG_CFG_F_HAS_ALLOW;
	if (!map_empty(m->deny))
		cfg.flags |= FG_CFG_F_HAS_DENY;
	if (!map_empty(m->allow_addr))
		cfg.flags |= FG_CFG_F_HAS_ALLOW_ADDR;
	if (!map_empty(m->deny_addr))
		cfg.flags |= FG_CFG_F_HAS_DENY_ADDR;
	if (!map_empty(m->bans))
		cfg.flags |= FG_CFG_F_HAS_BAN_PREFIX;
	else
		cfg.ban_trie_only = 0; /* prefixes go to bans_pfx again */
	return settings_write(m, &cfg);
}

/*
 * One map of a list: the trie of its prefixes, or the hash of its exact
 * addresses. The list code handles the keys of both as full-length LPM
 * keys; a hash's key is their addr. A key goes into the hash after its
 * state filter bit is set (the program skips an address whose bit is
 * clear).
 */
struct list_map {
	const struct xdpmaps *m;
	int fd;
	bool addrs; /* the hash */
};

static struct list_map list_map_of(const struct xdpmaps *m, enum xdpmaps_list l, bool addrs)
{
	bool deny = l == XDPMAPS_DENY;

	return (struct list_map){
		.m = m,
		.fd = addrs ? (deny ? m->deny_addr : m->allow_addr) : (deny ? m->deny : m->allow),
		.addrs = addrs,
	};
}

/* A full-length key: an address, kept in the list's hash. */
static bool lpm_key_exact(const struct fg_lpm_key *k)
{
	return k->prefixlen == 128;
}

static int lm_put(const struct list_map *lm, const struct fg_lpm_key *k, const __u32 *family,
		  __u64 flags)
{
	if (!lm->addrs)
		return bpf_map_update_elem(lm->fd, k, family, flags) ? -errno : 0;
	xdpmaps_seen_mark(lm->m, fg_seen_bit_list(k->addr));
	return bpf_map_update_elem(lm->fd, k->addr, family, flags) ? -errno : 0;
}

static int lm_delete(const struct list_map *lm, const struct fg_lpm_key *k)
{
	return bpf_map_delete_elem(lm->fd, lm->addrs ? (const void *)k->addr : (const void *)k)
		       ? -errno
		       : 0;
}

/* The key after prev (NULL: the first) as an LPM key; 0 or -errno (-ENOENT: no more). */
static int lm_next(const struct list_map *lm, const struct fg_lpm_key *prev,
		   struct fg_lpm_key *next)
{
	struct fg_ban_key a;

	if (!lm->addrs)
		return bpf_map_get_next_key(lm->fd, prev, next) ? -errno : 0;
	if (bpf_map_get_next_key(lm->fd, prev ? prev->addr : NULL, &a))
		return -errno;
	memset(next, 0, sizeof(*next));
	next->prefixlen = 128;
	memcpy(next->addr, a.addr, sizeof(a.addr));
	return 0;
}

static int lm_lookup(const struct list_map *lm, const struct fg_lpm_key *k, __u32 *family)
{
	if (lm->fd < 0)
		return -EBADF;
	return bpf_map_lookup_elem(lm->fd, lm->addrs ? (const void *)k->addr : (const void *)k,
				   family)
		       ? -errno
		       : 0;
}

int xdpmaps_list_add(struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *c)
{
	struct fg_lpm_key k;
	__u32 family = c->family; /* the program matches only its own family */
	struct list_map lm;

	cidr_to_lpm(c, &k);
	lm = list_map_of(m, l, lpm_key_exact(&k));
	return lm_put(&lm, &k, &family, BPF_ANY) ?: list_flags(m);
}

bool xdpmaps_list_has(const struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *c)
{
	struct list_map hash = list_map_of(m, l, true), trie = list_map_of(m, l, false);
	struct fg_lpm_key k;
	__u32 family;

	cidr_to_lpm(c, &k);
	if (lpm_key_exact(&k) && !lm_lookup(&hash, &k, &family) && family == c->family)
		return true;
	return !lm_lookup(&trie, &k, &family) && family == c->family;
}

/* A list entry as the list code handles it: key, value, and where it came
 * from in the caller's list (ties keep list order: the first one wins). */
struct list_entry {
	struct fg_lpm_key k;
	__u32 family;
	int idx;
};

static int lpm_cmp(const void *x, const void *y)
{
	const struct list_entry *a = x, *b = y;
	int d = memcmp(&a->k, &b->k, sizeof(a->k));

	return d ? d : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Every key of one list map (with its value), sorted; *out owned by the caller. */
static int list_read(const struct list_map *lm, struct list_entry **out, int *n)
{
	struct list_entry *v = NULL, *grown;
	struct fg_lpm_key key, next;
	const struct fg_lpm_key *prev = NULL;
	int len = 0, cap = 0;

	while (!lm_next(lm, prev, &next)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1024;
			grown = realloc(v, (size_t)cap * sizeof(*v));
			if (!grown) {
				free(v);
				return -ENOMEM;
			}
			v = grown;
		}
		v[len].k = next;
		v[len].idx = len;
		if (lm_lookup(lm, &next, &v[len].family))
			v[len].family = 0;
		len++;
		key = next;
		prev = &key;
	}
	if (len)
		qsort(v, len, sizeof(*v), lpm_cmp);
	*out = v;
	*n = len;
	return 0;
}

/* What one map's sync changed, kept to undo it. */
struct list_undo {
	struct list_entry *added, *gone;
	int nadded, ngone;
};

/* Put a list map back the way it was: drop what was added, restore what was removed. */
static void list_rollback(const struct list_map *lm, const struct list_undo *u)
{
	int i;

	for (i = 0; i < u->nadded; i++)
		lm_delete(lm, &u->added[i].k);
	for (i = 0; i < u->ngone; i++)
		lm_put(lm, &u->gone[i].k, &u->gone[i].family, BPF_ANY);
}

static void list_undo_free(struct list_undo *u)
{
	free(u->added);
	free(u->gone);
	memset(u, 0, sizeof(*u));
}

/*
 * Make one list map hold exactly want[0..nwant) (sorted, no repeats): a
 * diff, entries that leave first, so a map at its capacity can take a
 * whole new list of that size (adding first needs room for both). An entry
 * in both is never touched, so it is never absent. On failure the map is
 * put back; on success *u says what changed (the caller frees it).
 */
static int list_sync_map(const struct list_map *lm, const struct list_entry *want, int nwant,
			 struct list_undo *u)
{
	struct list_entry *have = NULL;
	int nhave = 0, i, j, err;

	memset(u, 0, sizeof(*u));
	err = list_read(lm, &have, &nhave);
	if (err)
		return err;
	u->gone = calloc(nhave ? nhave : 1, sizeof(*u->gone));
	u->added = calloc(nwant ? nwant : 1, sizeof(*u->added));
	if (!u->gone || !u->added) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0, j = 0; i < nhave; i++) {
		int d = 1;

		while (j < nwant && (d = memcmp(&want[j].k, &have[i].k, sizeof(have[i].k))) < 0)
			j++;
		if (j < nwant && !d)
			continue;
		err = lm_delete(lm, &have[i].k);
		if (err && err != -ENOENT)
			goto undo;
		u->gone[u->ngone++] = have[i];
	}
	for (i = 0, j = 0; i < nwant; i++) {
		int d = 1;

		while (j < nhave && (d = memcmp(&have[j].k, &want[i].k, sizeof(want[i].k))) < 0)
			j++;
		if (j < nhave && !d) {
			/* Kept: only its value may change (the family of a mapped entry). */
			if (have[j].family != want[i].family) {
				err = lm_put(lm, &want[i].k, &want[i].family, BPF_EXIST);
				if (err)
					goto undo;
			}
			continue;
		}
		err = lm_put(lm, &want[i].k, &want[i].family, BPF_NOEXIST);
		if (err && err != -EEXIST)
			goto undo;
		u->added[u->nadded++] = want[i];
	}
	err = 0;
	goto out;
undo:
	list_rollback(lm, u);
out:
	if (err)
		list_undo_free(u);
	free(have);
	return err;
}

int xdpmaps_sync_list(struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *list, int n)
{
	struct list_map hash = list_map_of(m, l, true), trie = list_map_of(m, l, false);
	struct list_undo hash_undo, trie_undo;
	struct list_entry *want, *parts;
	int nwant, nexact, i, j, err, flags_err;

	want = calloc(n ? n : 1, sizeof(*want));
	parts = calloc(n ? n : 1, sizeof(*parts));
	if (!want || !parts) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		cidr_to_lpm(&list[i], &want[i].k);
		want[i].family = list[i].family; /* the program matches only its own family */
		want[i].idx = i;
	}
	qsort(want, n, sizeof(*want), lpm_cmp);
	for (i = 0, j = 0; i < n; i++) /* duplicates: the first in list order stays */
		if (!j || memcmp(&want[j - 1].k, &want[i].k, sizeof(want[i].k)))
			want[j++] = want[i];
	nwant = j;
	/* The exact addresses, then the prefixes, each part still sorted. */
	for (i = 0, nexact = 0; i < nwant; i++)
		if (lpm_key_exact(&want[i].k))
			parts[nexact++] = want[i];
	for (i = 0, j = nexact; i < nwant; i++)
		if (!lpm_key_exact(&want[i].k))
			parts[j++] = want[i];

	/* The hash first: an address an older layout kept in the trie is
	 * added there before the trie lets it go. A failure puts both maps
	 * back: never a half-applied list. */
	err = list_sync_map(&hash, parts, nexact, &hash_undo);
	if (err)
		goto out;
	err = list_sync_map(&trie, parts + nexact, nwant - nexact, &trie_undo);
	if (err)
		list_rollback(&hash, &hash_undo);
	else
		list_undo_free(&trie_undo);
	list_undo_free(&hash_undo);
	/* The flags follow the maps whatever happened; their own failure wins. */
	flags_err = list_flags(m);
	if (flags_err)
		err = flags_err;
out:
	free(want);
	free(parts);
	return err;
}

/* An address's key in bans_addr: the address part of its full-length LPM key. */
static void ban_key(const struct fg_cidr *c, struct fg_ban_key *k)
{
	struct fg_lpm_key lk;

	cidr_to_lpm(c, &lk);
	memcpy(k->addr, lk.addr, sizeof(k->addr));
}

/* A prefix's key in bans_pfx: family, then its LPM key (host bits clear). */
static void pfx_key(const struct fg_cidr *c, struct fg_ban_pfx_key *k)
{
	struct fg_cidr masked = *c;
	struct fg_lpm_key lk;

	cidr_mask(&masked, c->prefixlen);
	cidr_to_lpm(&masked, &lk);
	memset(k, 0, sizeof(*k));
	k->family = c->family;
	k->prefixlen = (__u8)lk.prefixlen;
	memcpy(k->addr, lk.addr, sizeof(k->addr));
}

static void cidr_from_pfx(const struct fg_ban_pfx_key *k, struct fg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = k->family;
	if (k->family == FG_AF_INET) {
		c->prefixlen = (uint8_t)(k->prefixlen - 96);
		c->addr[0] = k->addr[3];
	} else {
		c->prefixlen = k->prefixlen;
		memcpy(c->addr, k->addr, sizeof(c->addr));
	}
}

/* Index of the settings' ban_plens of a family (fam_ix: 0 IPv4, 1 IPv6). */
static int fam_ix(__u8 family)
{
	return family == FG_AF_INET6;
}

/* Where plen is in the family's lengths in use, or -1. */
static int plen_at(const struct fg_config *cfg, int fi, __u8 plen)
{
	int i;

	for (i = 0; i < cfg->ban_nplens[fi] && i < FG_BAN_PLENS; i++)
		if (cfg->ban_plens[fi][i] == plen)
			return i;
	return -1;
}

/* Add plen to the family's lengths in use, kept longest first (the
 * program's lookup order); -ENOSPC when FG_BAN_PLENS are in use. */
static int plen_add(struct fg_config *cfg, int fi, __u8 plen)
{
	int i = cfg->ban_nplens[fi];

	if (i >= FG_BAN_PLENS)
		return -ENOSPC;
	for (; i > 0 && cfg->ban_plens[fi][i - 1] < plen; i--)
		cfg->ban_plens[fi][i] = cfg->ban_plens[fi][i - 1];
	cfg->ban_plens[fi][i] = plen;
	cfg->ban_nplens[fi]++;
	return 0;
}

static void plen_remove(struct fg_config *cfg, int fi, int at)
{
	int n = cfg->ban_nplens[fi];

	memmove(&cfg->ban_plens[fi][at], &cfg->ban_plens[fi][at + 1], n - at - 1);
	cfg->ban_plens[fi][n - 1] = 0;
	cfg->ban_nplens[fi] = n - 1;
}

/* An entry of a ban map (its key, of the map's key size, any alignment,
 * and its ban) to a walk; false ends the walk. */
typedef bool (*ban_visit_fn)(void *arg, const void *key, const struct fg_ban *b);

#define BAN_BATCH   1024 /* entries a batch read returns */
#define BAN_KEY_MAX sizeof(struct fg_lpm_key)
_Static_assert(sizeof(struct fg_ban_pfx_key) <= BAN_KEY_MAX, "ban map keys");

/* Visit the entries of a ban hash (keys of key_size bytes) a batch read at
 * a time. Returns 0, or -errno when the map cannot be read in batches (a
 * trie) before any entry was visited; a batch failing later ends the walk. */
static int ban_batches(int fd, size_t key_size, ban_visit_fn visit, void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct fg_ban *vals = malloc(BAN_BATCH * sizeof(*vals));
	unsigned char *keys = malloc(BAN_BATCH * key_size);
	__u32 in = 0, out = 0, count, i;
	bool first = true, last;
	int err = 0;

	if (!vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	do {
		count = BAN_BATCH;
		last = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					    &opts) != 0;
		if (last && errno != ENOENT) { /* ENOENT: that was the last batch */
			if (first)
				err = -errno;
			break;
		}
		for (i = 0; i < count; i++)
			if (!visit(arg, keys + i * key_size, &vals[i]))
				goto out;
		in = out;
		first = false;
	} while (!last);
out:
	free(vals);
	free(keys);
	return err;
}

/* The same, key by key; an entry gone between its key and its value
 * (swept, unbanned) is skipped. */
static void ban_keys(int fd, size_t key_size, ban_visit_fn visit, void *arg)
{
	unsigned char key[BAN_KEY_MAX], next[BAN_KEY_MAX];
	void *prev = NULL;
	struct fg_ban b;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!bpf_map_lookup_elem(fd, next, &b) && !visit(arg, next, &b))
			return;
		memcpy(key, next, key_size);
		prev = key;
	}
}

/* Visit every entry of ban map fd (keys of key_size bytes): a hash in
 * batch reads, a syscall per BAN_BATCH entries and not two per entry (the
 * agent sweeps them every second on its loop: 60,000 prefix bans held it
 * 40 ms), the trie, which may not read in batches, key by key. */
static void ban_each(int fd, size_t key_size, ban_visit_fn visit, void *arg)
{
	if (ban_batches(fd, key_size, visit, arg))
		ban_keys(fd, key_size, visit, arg);
}

struct plens_scan {
	bool (*used)[129];
	__u8 family, plen;
	bool found;
};

static bool plens_visit(void *arg, const void *key, const struct fg_ban *b)
{
	struct plens_scan *ps = arg;
	struct fg_ban_pfx_key k;

	(void)b;
	memcpy(&k, key, sizeof(k));
	if (ps->family && k.family == ps->family && k.prefixlen == ps->plen) {
		ps->found = true;
		return false;
	}
	if (ps->used && k.prefixlen <= 128)
		ps->used[fam_ix(k.family)][k.prefixlen] = true;
	return true;
}

/* Mark in used[family ix][prefixlen] the lengths bans_pfx holds; stop at the
 * first key of family/plen if family is not 0 (true: one was found). */
static bool plens_scan(int fd, bool used[2][129], __u8 family, __u8 plen)
{
	struct plens_scan ps = { .used = used, .family = family, .plen = plen };

	ban_each(fd, sizeof(struct fg_ban_pfx_key), plens_visit, &ps);
	return ps.found;
}

/* After prefixes left bans_pfx: the lengths no key holds any more leave the
 * settings (the program stops looking them up). Only family/plen if given,
 * found by a walk that stops at the first key of that length; else all. */
static int plens_prune(struct xdpmaps *m, __u8 family, __u8 plen)
{
	bool used[2][129] = {};
	struct fg_config cfg;
	int fi, i, err;

	if (family && plens_scan(m->bans_pfx, NULL, family, plen))
		return 0;
	if (!family)
		plens_scan(m->bans_pfx, used, 0, 0);
	err = xdpmaps_settings(m, &cfg);
	if (err)
		return err;
	if (family) {
		i = plen_at(&cfg, fam_ix(family), plen);
		if (i < 0)
			return 0;
		plen_remove(&cfg, fam_ix(family), i);
		return settings_write(m, &cfg);
	}
	for (fi = 0; fi < 2; fi++)
		for (i = cfg.ban_nplens[fi] - 1; i >= 0; i--)
			if (!used[fi][cfg.ban_plens[fi][i]])
				plen_remove(&cfg, fi, i);
	return settings_write(m, &cfg);
}

/* c is an IPv6 prefix over ::ffff:0:0/96, the IPv4 space of the tries' keys. */
static bool over_mapped_v4(const struct fg_cidr *c)
{
	struct fg_cidr v4 = { .family = FG_AF_INET6, .prefixlen = 96 };

	v4.addr[2] = htonl(0xffff);
	return cidr_contains(c, &v4);
}

/* A family needs a length past FG_BAN_PLENS: all its prefixes move from
 * bans_pfx to the trie (into the trie first, so none is ever unbanned; the
 * lengths unlisted before the hash entries go), and the family stays there
 * until the trie empties. A walk costs less than FG_BAN_PLENS lookups and a
 * walk. -ENOSPC when the trie has no room or a prefix cannot go there. */
static int family_to_trie(struct xdpmaps *m, __u8 family)
{
	struct fg_ban_pfx_key key, next, *moved = NULL;
	int fi = fam_ix(family), n = 0, cap = 0, i, err = 0;
	void *prev = NULL;
	struct fg_config cfg;

	while (!err && !bpf_map_get_next_key(m->bans_pfx, prev, &next)) {
		struct fg_lpm_key lk = { .prefixlen = next.prefixlen };
		struct fg_cidr c;
		struct fg_ban b;

		key = next;
		prev = &key;
		if (next.family != family || bpf_map_lookup_elem(m->bans_pfx, &next, &b))
			continue;
		cidr_from_pfx(&next, &c);
		if (over_mapped_v4(&c)) {
			err = -ENOSPC;
			break;
		}
		if (n == cap) {
			struct fg_ban_pfx_key *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(moved, cap * sizeof(*moved));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			moved = grown;
		}
		memcpy(lk.addr, next.addr, sizeof(lk.addr));
		if (bpf_map_update_elem(m->bans, &lk, &b, BPF_ANY)) {
			err = errno == E2BIG ? -ENOSPC : -errno;
			break;
		}
		moved[n++] = next;
	}
	if (err) {
		/* Undo: the hash still holds them all. */
		for (i = 0; i < n; i++) {
			struct fg_lpm_key lk = { .prefixlen = moved[i].prefixlen };

			memcpy(lk.addr, moved[i].addr, sizeof(lk.addr));
			bpf_map_delete_elem(m->bans, &lk);
		}
		list_flags(m);
		free(moved);
		return err;
	}
	err = list_flags(m) ?: xdpmaps_settings(m, &cfg);
	if (!err) {
		cfg.ban_trie_only |= 1u << fi;
		cfg.ban_nplens[fi] = 0;
		memset(cfg.ban_plens[fi], 0, sizeof(cfg.ban_plens[fi]));
		err = settings_write(m, &cfg);
	}
	for (i = 0; !err && i < n; i++)
		bpf_map_delete_elem(m->bans_pfx, &moved[i]);
	free(moved);
	return err;
}

/* A prefix ban: into bans_pfx if its length is in use or one more fits,
 * else (and when bans_pfx is full) into the trie, so that every ban holds;
 * a family past FG_BAN_PLENS lengths goes to the trie whole. */
static int pfx_ban_set(struct xdpmaps *m, const struct fg_cidr *c, const struct fg_ban *b)
{
	int fi = fam_ix(c->family), err;
	struct fg_ban_pfx_key k;
	struct fg_lpm_key lk;
	struct fg_config cfg;
	bool listed;

	pfx_key(c, &k);
	err = xdpmaps_settings(m, &cfg);
	if (err)
		return err;
	listed = plen_at(&cfg, fi, k.prefixlen) >= 0;
	if (!(cfg.ban_trie_only & (1u << fi)) && !listed && cfg.ban_nplens[fi] >= FG_BAN_PLENS &&
	    !over_mapped_v4(c)) {
		err = family_to_trie(m, c->family);
		if (err)
			return err;
	} else if (!(cfg.ban_trie_only & (1u << fi)) &&
		   (listed || cfg.ban_nplens[fi] < FG_BAN_PLENS)) {
		/* Its state filter and cover bits first: the program skips
		 * a prefix whose bits are clear. */
		xdpmaps_seen_mark_ban_pfx(m, &k);
		if (!bpf_map_update_elem(m->bans_pfx, &k, b, BPF_ANY)) {
			/* After the insert: the program looks up the length
			 * from now on. */
			if (!listed) {
				plen_add(&cfg, fi, k.prefixlen);
				err = settings_write(m, &cfg);
				if (err)
					return err;
			}
			/* The same prefix banned in the trie while its length
			 * had no room moves here. */
			cidr_to_lpm(c, &lk);
			return bpf_map_delete_elem(m->bans, &lk) ? 0 : list_flags(m);
		}
		if (errno != E2BIG)
			return -errno;
	}
	/* A family in the trie, or bans_pfx full: the trie, walked while it
	 * holds any. It has no family: an IPv6 prefix over ::ffff:0:0/96 (where IPv4 is
	 * keyed) would ban IPv4 there, so it needs a length of the hash. */
	if (over_mapped_v4(c))
		return -ENOSPC;
	cidr_to_lpm(c, &lk);
	if (bpf_map_update_elem(m->bans, &lk, b, BPF_ANY))
		return -errno;
	return list_flags(m);
}

int xdpmaps_ban_set(struct xdpmaps *m, const struct fg_cidr *c, const struct fg_ban *b)
{
	struct fg_ban_key k;
	bool created;
	int err;

	if (!cidr_is_address(c))
		return pfx_ban_set(m, c, b);
	ban_key(c, &k);
	/* Counted before it is in the map, as the program counts its own;
	 * an existing entry replaced gives the count back. */
	filter_add(m, &k, 1);
	err = bpf_map_update_elem(m->bans_addr, &k, b, BPF_NOEXIST) ? -errno : 0;
	created = !err;
	if (err == -EEXIST)
		err = bpf_map_update_elem(m->bans_addr, &k, b, BPF_EXIST) ? -errno : 0;
	if (!created)
		filter_add(m, &k, -1);
	/* A full hash says E2BIG, a full trie ENOSPC: callers see one. */
	return err == -E2BIG ? -ENOSPC : err;
}

int xdpmaps_ban(struct xdpmaps *m, const struct fg_cidr *c, uint64_t seconds, uint32_t origin)
{
	struct fg_ban b = { .origin = origin };

	if (seconds)
		b.expires_ns = xdpmaps_now_ns() + seconds * 1000000000ULL;
	return xdpmaps_ban_set(m, c, &b);
}

int xdpmaps_ban_get(const struct xdpmaps *m, const struct fg_cidr *c, struct fg_ban *out)
{
	struct fg_ban_pfx_key pk;
	struct fg_lpm_key lk;
	struct fg_ban_key k;

	if (cidr_is_address(c)) {
		ban_key(c, &k);
		return bpf_map_lookup_elem(m->bans_addr, &k, out) ? -errno : 0;
	}
	pfx_key(c, &pk);
	if (!bpf_map_lookup_elem(m->bans_pfx, &pk, out))
		return 0;
	cidr_to_lpm(c, &lk);
	return bpf_map_lookup_elem(m->bans, &lk, out) ? -errno : 0;
}

bool xdpmaps_ban_live(const struct fg_ban *b, uint64_t now_ns)
{
	return !b->expires_ns || now_ns < b->expires_ns;
}

int xdpmaps_banned(const struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns,
		   struct fg_ban *out)
{
	int fi = fam_ix(c->family), i, top = c->family == FG_AF_INET ? 96 : 0;
	struct fg_ban_pfx_key pk;
	struct fg_config cfg;
	struct fg_lpm_key lk;
	struct fg_ban_key k;
	__u32 zero = 0;

	if (cidr_is_address(c)) {
		ban_key(c, &k);
		if (!bpf_map_lookup_elem(m->bans_addr, &k, out) && xdpmaps_ban_live(out, now_ns))
			return 0;
	}
	/* The hashed prefixes at the lengths in use, longest first, as the
	 * program looks them up (only those up to c's own length hold c). */
	if (!bpf_map_lookup_elem(m->settings, &zero, &cfg)) {
		for (i = 0; i < cfg.ban_nplens[fi] && i < FG_BAN_PLENS; i++) {
			struct fg_cidr p = *c;
			int plen = cfg.ban_plens[fi][i] - top;

			if (plen < 0 || plen > c->prefixlen)
				continue;
			p.prefixlen = (uint8_t)plen;
			pfx_key(&p, &pk);
			if (!bpf_map_lookup_elem(m->bans_pfx, &pk, out) &&
			    xdpmaps_ban_live(out, now_ns))
				return 0;
		}
	}
	/* The trie's lookup is its longest match: the prefix the program finds. */
	cidr_to_lpm(c, &lk);
	if (!bpf_map_lookup_elem(m->bans, &lk, out) && xdpmaps_ban_live(out, now_ns))
		return 0;
	return -ENOENT;
}

int xdpmaps_unban(struct xdpmaps *m, const struct fg_cidr *c)
{
	struct fg_ban_pfx_key pk;
	struct fg_lpm_key lk;
	struct fg_ban_key k;

	if (cidr_is_address(c)) {
		ban_key(c, &k);
		if (bpf_map_delete_elem(m->bans_addr, &k))
			return -errno;
		filter_add(m, &k, -1);
		return 0;
	}
	pfx_key(c, &pk);
	if (!bpf_map_delete_elem(m->bans_pfx, &pk))
		return plens_prune(m, pk.family, pk.prefixlen);
	cidr_to_lpm(c, &lk);
	if (bpf_map_delete_elem(m->bans, &lk))
		return -errno;
	return list_flags(m);
}

/* Mark the state filter and cover bits of a bans_pfx key (any alignment)
 * whose filter bit is clear in the tested generation, as its writers do:
 * one written by hand is looked up from now on. A key with the bit has its
 * cover (its writer or a rebuild set both): not marked again, as an IPv6
 * /32 sets 256 cover bits (60,000 of them: a sweep of 40 ms, not 115). */
static void seen_mark_pfx(const struct xdpmaps *m, const void *key)
{
	struct fg_ban_pfx_key pk;
	const __u64 *w;
	__u32 bit, gen;

	memcpy(&pk, key, sizeof(pk));
	if (m->seen_words) {
		bit = fg_seen_bit_ban_pfx(&pk);
		gen = (__u32)__atomic_load_n(&m->seen_words[0], __ATOMIC_SEQ_CST);
		w = &m->seen_words[fg_seen_word(gen, bit)];
		if (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> (bit & 63) & 1)
			return;
	}
	xdpmaps_seen_mark_ban_pfx(m, &pk);
}

#define SWEEP_MAX 256 /* expired entries deleted per map and sweep */

/* One sweep of one ban map. */
struct sweep {
	const struct xdpmaps *m;
	bool addrs, pfxs; /* the map is bans_addr, bans_pfx */
	size_t key_size;
	uint64_t now_ns;
	int n; /* expired keys collected */
	unsigned char expired[SWEEP_MAX][BAN_KEY_MAX];
};

/* One entry of the walk (key of s->key_size bytes, any alignment): an
 * expired one is collected; a live one of bans_addr whose slot counts
 * nothing (written by someone who did not count it) is counted, one of
 * bans_pfx without its state filter bit is marked (the same writers).
 * False once SWEEP_MAX expired entries are collected. */
static bool sweep_visit(void *arg, const void *key, const struct fg_ban *b)
{
	struct sweep *s = arg;

	if (b->expires_ns && b->expires_ns <= s->now_ns) {
		memcpy(s->expired[s->n++], key, s->key_size);
		return s->n < SWEEP_MAX;
	}
	if (s->addrs && filter_empty(s->m, key))
		filter_add(s->m, key, 1);
	if (s->pfxs)
		seen_mark_pfx(s->m, key);
	return true;
}

/* Delete up to SWEEP_MAX expired entries of one ban map (key_size bytes of
 * key); returns how many went. For bans_addr, each entry deleted leaves
 * the ban filter. Collected first, then deleted: deleting while walking
 * restarts the walk. */
static int sweep_map(const struct xdpmaps *m, int fd, size_t key_size, uint64_t now_ns)
{
	struct sweep s = { .m = m,
			   .addrs = fd == m->bans_addr,
			   .pfxs = fd == m->bans_pfx,
			   .key_size = key_size,
			   .now_ns = now_ns };
	int i, removed = 0;

	ban_each(fd, key_size, sweep_visit, &s);
	for (i = 0; i < s.n; i++) {
		if (bpf_map_delete_elem(fd, s.expired[i]))
			continue;
		if (s.addrs)
			filter_add(m, s.expired[i], -1);
		removed++;
	}
	return removed;
}

static bool recount_visit(void *arg, const void *key, const struct fg_ban *b)
{
	(void)b;
	filter_add(arg, key, 1);
	return true;
}

int xdpmaps_ban_filter_recount(struct xdpmaps *m)
{
	__u32 i;

	if (!m->ban_slots)
		return -ENXIO;
	for (i = 0; i < FG_BAN_FILTER_SLOTS; i++)
		__atomic_store_n(&m->ban_slots[i], 0, __ATOMIC_SEQ_CST);
	ban_each(m->bans_addr, sizeof(struct fg_ban_key), recount_visit, m);
	return 0;
}

int xdpmaps_sweep_bans(struct xdpmaps *m, uint64_t now_ns)
{
	int addrs = sweep_map(m, m->bans_addr, sizeof(struct fg_ban_key), now_ns);
	int hashed = sweep_map(m, m->bans_pfx, sizeof(struct fg_ban_pfx_key), now_ns);
	int prefixes = sweep_map(m, m->bans, sizeof(struct fg_lpm_key), now_ns);

	/* The last prefix of a length gone: the program stops looking it up;
	 * the last of the trie: it stops walking the trie. */
	if (hashed)
		plens_prune(m, 0, 0);
	if (prefixes)
		list_flags(m);
	return addrs + hashed + prefixes;
}

int xdpmaps_bans_clear(struct xdpmaps *m)
{
	int fds[] = { m->bans_addr, m->bans_pfx, m->bans };
	unsigned char key[sizeof(struct fg_lpm_key)];
	struct fg_config cfg;
	size_t i;
	int err;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		while (!bpf_map_get_next_key(fds[i], NULL, key)) {
			if (bpf_map_delete_elem(fds[i], key))
				return -errno;
			if (fds[i] == m->bans_addr)
				filter_add(m, key, -1);
		}
	err = xdpmaps_settings(m, &cfg);
	if (err)
		return err;
	memset(cfg.ban_nplens, 0, sizeof(cfg.ban_nplens));
	memset(cfg.ban_plens, 0, sizeof(cfg.ban_plens));
	cfg.ban_trie_only = 0;
	cfg.flags &= ~FG_CFG_F_HAS_BAN_PREFIX;
	return settings_write(m, &cfg);
}

int xdpmaps_list_each(const struct xdpmaps *m, enum xdpmaps_list l, xdpmaps_list_fn fn, void *arg)
{
	struct list_map maps[2] = { list_map_of(m, l, true), list_map_of(m, l, false) };
	struct fg_lpm_key key, next;
	const struct fg_lpm_key *prev;
	int i, ret;

	for (i = 0; i < 2; i++)
		for (prev = NULL; !lm_next(&maps[i], prev, &next); prev = &key) {
			struct fg_cidr c;

			cidr_from_lpm(&next, &c);
			ret = fn(&c, NULL, arg);
			if (ret)
				return ret;
			key = next;
		}
	return 0;
}

struct bans_walk {
	void (*to_cidr)(const void *key, struct fg_cidr *c);
	xdpmaps_list_fn fn;
	void *arg;
	int ret;
};

static bool bans_walk_visit(void *arg, const void *key, const struct fg_ban *b)
{
	struct bans_walk *w = arg;
	struct fg_cidr c;

	w->to_cidr(key, &c);
	w->ret = w->fn(&c, b, w->arg);
	return !w->ret;
}

/* Every entry of one ban map, keys of key_size bytes made a cidr by
 * to_cidr; fn's first non-zero return ends the walk and is returned. */
static int bans_walk(int fd, size_t key_size, void (*to_cidr)(const void *key, struct fg_cidr *c),
		     xdpmaps_list_fn fn, void *arg)
{
	struct bans_walk w = { .to_cidr = to_cidr, .fn = fn, .arg = arg };

	ban_each(fd, key_size, bans_walk_visit, &w);
	return w.ret;
}

/* An address key is the addr of a full-length LPM key. */
static void cidr_of_addr(const void *key, struct fg_cidr *c)
{
	struct fg_lpm_key lk = { .prefixlen = 128 };

	memcpy(lk.addr, key, sizeof(lk.addr));
	cidr_from_lpm(&lk, c);
}

static void cidr_of_pfx(const void *key, struct fg_cidr *c)
{
	cidr_from_pfx(key, c);
}

static void cidr_of_lpm(const void *key, struct fg_cidr *c)
{
	cidr_from_lpm(key, c);
}

int xdpmaps_bans_each(const struct xdpmaps *m, xdpmaps_list_fn fn, void *arg)
{
	return bans_walk(m->bans_addr, sizeof(struct fg_ban_key), cidr_of_addr, fn, arg) ?:
		       bans_walk(m->bans_pfx, sizeof(struct fg_ban_pfx_key), cidr_of_pfx, fn, arg) ?:
		       bans_walk(m->bans, sizeof(struct fg_lpm_key), cidr_of_lpm, fn, arg);
}

/* Sum the per-CPU values of one entry of a per-CPU array of u64 fields. */
static int percpu_sum(struct xdpmaps *m, int fd, __u32 key, __u64 *out, size_t nfields)
{
	size_t width = nfields * sizeof(__u64);
	__u64 *vals = calloc(m->ncpus, width);
	int cpu;
	size_t f;

	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, width);
	for (cpu = 0; cpu < m->ncpus; cpu++)
		for (f = 0; f < nfields; f++)
			out[f] += vals[cpu * nfields + f];
	free(vals);
	return 0;
}

int xdpmaps_stats_slots(struct xdpmaps *m, struct fg_stat out[FG_IF_SLOTS][FG_R_MAX])
{
	enum { N = FG_IF_SLOTS * FG_R_MAX, F = sizeof(struct fg_stat) / sizeof(__u64) };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(N, sizeof(*keys)), count = N, out_batch, i;
	__u64 *vals = calloc((size_t)N * m->ncpus, sizeof(struct fg_stat));
	int cpu, err = 0;
	size_t f;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* One syscall for the whole table (an array map's batch lookup). */
	if (bpf_map_lookup_batch(m->stats, NULL, &out_batch, keys, vals, &count, &opts) &&
	    errno != ENOENT) {
		err = -errno;
		goto out;
	}
	memset(out, 0, sizeof(struct fg_stat) * N);
	for (i = 0; i < count; i++) {
		__u64 *dst = (__u64 *)&out[keys[i] / FG_R_MAX][keys[i] % FG_R_MAX];

		if (keys[i] >= N)
			continue;
		for (cpu = 0; cpu < m->ncpus; cpu++)
			for (f = 0; f < F; f++)
				dst[f] += vals[((size_t)i * m->ncpus + cpu) * F + f];
	}
out:
	free(keys);
	free(vals);
	return err;
}

int xdpmaps_stats(struct xdpmaps *m, struct fg_stat out[FG_R_MAX])
{
	struct fg_stat(*slots)[FG_R_MAX] = calloc(FG_IF_SLOTS, sizeof(*slots));
	int err, slot, r, f;

	if (!slots)
		return -ENOMEM;
	err = xdpmaps_stats_slots(m, slots);
	if (!err) {
		memset(out, 0, sizeof(struct fg_stat) * FG_R_MAX);
		for (slot = 0; slot < FG_IF_SLOTS; slot++)
			for (r = 0; r < FG_R_MAX; r++)
				for (f = 0; f < 2; f++) {
					out[r].packets[f] += slots[slot][r].packets[f];
					out[r].bytes[f] += slots[slot][r].bytes[f];
				}
	}
	free(slots);
	return err;
}

int xdpmaps_rule_stats(struct xdpmaps *m, uint32_t rule, struct fg_rule_stat *out)
{
	return percpu_sum(m, m->rule_stats, rule, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int xdpmaps_misc(struct xdpmaps *m, uint64_t out[FG_M_MAX])
{
	__u32 i;
	int err;

	for (i = 0; i < FG_M_MAX; i++) {
		err = percpu_sum(m, m->misc, i, (__u64 *)&out[i], 1);
		if (err)
			return err;
	}
	return 0;
}

int xdpmaps_global(struct xdpmaps *m, uint32_t rule, struct fg_global_state *out)
{
	return bpf_map_lookup_elem(m->global_state, &rule, out) ? -errno : 0;
}

/*
 * Each CPU's tally of slot (ncpus values) into out: false when it cannot be
 * read (maps without the tally: nothing pending then).
 */
static bool tally_slot(const struct xdpmaps *m, __u32 slot, struct fg_drop_tally *out)
{
	return m->drop_tally >= 0 && m->ncpus > 0 && !bpf_map_lookup_elem(m->drop_tally, &slot, out);
}

/* Every CPU's tally of every slot into out (FG_DROP_TALLY_SLOTS x ncpus),
 * in one batch read (slot by slot where batches are refused); false when
 * it cannot be read. */
static bool tally_all(const struct xdpmaps *m, struct fg_drop_tally *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 keys[FG_DROP_TALLY_SLOTS], out_batch = 0, count = FG_DROP_TALLY_SLOTS, slot;

	if (m->drop_tally < 0 || m->ncpus <= 0)
		return false;
	if (!bpf_map_lookup_batch(m->drop_tally, NULL, &out_batch, keys, out, &count, &opts) ||
	    (errno == ENOENT && count == FG_DROP_TALLY_SLOTS))
		return count == FG_DROP_TALLY_SLOTS;
	for (slot = 0; slot < FG_DROP_TALLY_SLOTS; slot++)
		if (!tally_slot(m, slot, &out[(size_t)slot * m->ncpus]))
			return false;
	return true;
}

/* The drops of k (at level) that the CPUs' tallies of a set hold: set is
 * its FG_DROP_TALLY_WAYS slots' values, ncpus each. */
static uint64_t tally_pending(const struct xdpmaps *m, const struct fg_drop_tally *set,
			      const struct fg_src_key *k, __u32 level)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < FG_DROP_TALLY_WAYS * m->ncpus; i++)
		if (set[i].level == level && !memcmp(&set[i].key, k, sizeof(*k)))
			n += set[i].pending;
	return n;
}

int xdpmaps_source(struct xdpmaps *m, const struct fg_cidr *c, uint16_t rule,
		   struct fg_src_state *out)
{
	bool address = cidr_is_address(c);
	struct fg_drop_tally *set;
	struct fg_src_key k;
	__u32 slot, way;
	bool read;

	cidr_to_src_key(c, rule, &k);
	if (bpf_map_lookup_elem(address ? m->src_state : m->prefix_state, &k, out))
		return -errno;
	set = calloc((size_t)FG_DROP_TALLY_WAYS * (m->ncpus > 0 ? m->ncpus : 1), sizeof(*set));
	slot = fg_drop_tally_slot(fg_seen_bit(&k));
	for (way = 0, read = set != NULL; read && way < FG_DROP_TALLY_WAYS; way++)
		read = tally_slot(m, slot + way, &set[(size_t)way * m->ncpus]);
	if (read)
		out->dropped +=
			tally_pending(m, set, &k, address ? FG_LEVEL_SOURCE : FG_LEVEL_PREFIX);
	free(set);
	return 0;
}

int xdpmaps_verified_by(const struct fg_verified *v, uint64_t ttl_ns, uint64_t now_ns,
			uint64_t *until_ns)
{
	bool tcp = v->tcp_ns && xdpmaps_age_ns(now_ns, v->tcp_ns) < ttl_ns;
	bool vouched = now_ns < v->until_ns;
	uint64_t tcp_until = tcp ? v->tcp_ns + ttl_ns : 0;

	if (until_ns)
		*until_ns = vouched && v->until_ns > tcp_until ? v->until_ns : tcp_until;
	if (tcp)
		return FG_VERIFIED_TCP;
	if (vouched)
		return v->origin < FG_VERIFIED_ORIGIN_MAX ? (int)v->origin : FG_VERIFIED_VOUCH;
	return -1;
}

int xdpmaps_verified(struct xdpmaps *m, const struct fg_cidr *c, struct fg_verified *out)
{
	struct fg_config cfg;
	struct fg_src_key k;

	cidr_to_src_key(c, 0, &k);
	if (bpf_map_lookup_elem(m->verified, &k, out))
		return -errno;
	/* An entry past its proofs is still in the map (LRU) but no longer
	 * lets the source through: say so, as the program would. */
	if (xdpmaps_settings(m, &cfg))
		cfg.verified_ttl_ns = 0;
	return xdpmaps_verified_by(out, cfg.verified_ttl_ns, xdpmaps_now_ns(), NULL) < 0 ? -ESTALE
											 : 0;
}

/*
 * The agent reads, changes and writes back a whole value while the TC
 * program may refresh tcp_ns in place: a refresh lost that way is made
 * again by the next segment (it refreshes once tcp_ns is a quarter ttl old).
 */
int xdpmaps_vouch(struct xdpmaps *m, const struct fg_cidr *c, uint64_t until_ns, uint32_t origin,
		  bool *was_vouched)
{
	struct fg_verified v = {};
	struct fg_src_key k;
	uint64_t now = xdpmaps_now_ns();

	cidr_to_src_key(c, 0, &k);
	if (bpf_map_lookup_elem(m->verified, &k, &v))
		memset(&v, 0, sizeof(v));
	if (was_vouched)
		*was_vouched = now < v.until_ns;
	v.until_ns = until_ns;
	v.origin = origin;
	v.pad0 = 0;
	xdpmaps_seen_mark(m, fg_seen_bit_verified(&k));
	return bpf_map_update_elem(m->verified, &k, &v, BPF_ANY) ? -errno : 0;
}

int xdpmaps_unvouch(struct xdpmaps *m, const struct fg_cidr *c)
{
	struct fg_config cfg;
	struct fg_verified v;
	struct fg_src_key k;
	uint64_t now = xdpmaps_now_ns();

	cidr_to_src_key(c, 0, &k);
	if (bpf_map_lookup_elem(m->verified, &k, &v) || now >= v.until_ns)
		return -ENOENT;
	if (xdpmaps_settings(m, &cfg))
		cfg.verified_ttl_ns = 0;
	if (xdpmaps_verified_by(&v, cfg.verified_ttl_ns, now, NULL) == FG_VERIFIED_TCP) {
		v.until_ns = 0;
		v.origin = FG_VERIFIED_TCP;
		return bpf_map_update_elem(m->verified, &k, &v, BPF_EXIST) ? -errno : 0;
	}
	return bpf_map_delete_elem(m->verified, &k) && errno != ENOENT ? -errno : 0;
}

const char *xdpmaps_verified_origin_name(uint32_t origin)
{
	static const char *const names[FG_VERIFIED_ORIGIN_MAX] = { "tcp", "vouched", "fleet",
								  "host" };

	return origin < FG_VERIFIED_ORIGIN_MAX ? names[origin] : "unknown";
}

long xdpmaps_count(int map_fd, uint32_t key_size)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(map_fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

static uint64_t top_score(const struct xdpmaps_top_entry *e, bool by_drops)
{
	return by_drops ? e->dropped : e->new_flows;
}

/* Keep out[0..*len) sorted busiest first, at most n long. */
static void top_insert(struct xdpmaps_top_entry *out, int n, int *len,
		       const struct xdpmaps_top_entry *e, bool by_drops)
{
	uint64_t score = top_score(e, by_drops);
	int i;

	if (*len == n && score <= top_score(&out[n - 1], by_drops))
		return;
	i = *len < n ? (*len)++ : n - 1;
	while (i > 0 && top_score(&out[i - 1], by_drops) < score) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = *e;
}

int xdpmaps_top(struct xdpmaps *m, int n, bool by_drops, struct xdpmaps_top_entry *out)
{
	enum { BATCH = 1024 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct fg_src_key *keys = malloc(BATCH * sizeof(*keys));
	struct fg_src_state *vals = malloc(BATCH * sizeof(*vals));
	/* every CPU's tally of every slot, and which sets hold an address's
	 * pending drops */
	struct fg_drop_tally *tally = calloc((size_t)FG_DROP_TALLY_SLOTS * (m->ncpus > 0 ? m->ncpus : 1),
					     sizeof(*tally));
	bool pending[FG_DROP_TALLY_SLOTS] = { false };
	__u32 in_batch = 0, out_batch = 0, count, i, slot;
	bool first = true;
	int len = 0, err = 0, cpu;

	if (!keys || !vals || !tally || n <= 0) {
		err = n <= 0 ? -EINVAL : -ENOMEM;
		goto out;
	}
	if (!tally_all(m, tally))
		memset(tally, 0, (size_t)FG_DROP_TALLY_SLOTS * m->ncpus * sizeof(*tally));
	for (slot = 0; slot < FG_DROP_TALLY_SLOTS; slot++)
		for (cpu = 0; cpu < m->ncpus; cpu++) {
			const struct fg_drop_tally *t = &tally[(size_t)slot * m->ncpus + cpu];

			pending[slot & ~(FG_DROP_TALLY_WAYS - 1)] |=
				t->pending && t->level == FG_LEVEL_SOURCE;
		}
	for (;;) {
		count = BATCH;
		err = bpf_map_lookup_batch(m->src_state, first ? NULL : &in_batch, &out_batch, keys,
					   vals, &count, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (i = 0; i < count; i++) {
			struct xdpmaps_top_entry e = { .key = keys[i] };

			slot = fg_drop_tally_slot(fg_seen_bit(&keys[i]));
			if (pending[slot])
				vals[i].dropped += tally_pending(m, &tally[(size_t)slot * m->ncpus],
								 &keys[i], FG_LEVEL_SOURCE);
			e.new_flows = fg_src_new_flows(&vals[i]);
			e.dropped = vals[i].dropped;
			top_insert(out, n, &len, &e, by_drops);
		}
		if (err) /* ENOENT: that was the last batch */
			break;
		in_batch = out_batch;
		first = false;
	}
	err = len;
out:
	free(keys);
	free(vals);
	free(tally);
	return err;
}

uint64_t xdpmaps_tokens(uint64_t tat_ns, const struct fg_limit *l, uint64_t now_ns)
{
	uint64_t tau, ahead;

	if (!l->rate || !l->interval_ns)
		return 0;
	tau = l->interval_ns * l->burst;
	ahead = tat_ns > now_ns ? tat_ns - now_ns : 0;
	return ahead >= tau ? 0 : (tau - ahead) / l->interval_ns;
}

const char *xdpmaps_reason_name(uint32_t reason)
{
	static const char *const names[FG_R_MAX] = {
		[FG_R_PASS_NON_IP] = "non_ip",
		[FG_R_PASS_OTHER_L4] = "other_l4",
		[FG_R_PASS_FRAGMENT] = "fragment",
		[FG_R_PASS_ESTABLISHED] = "established",
		[FG_R_PASS_UDP_KNOWN] = "udp_known",
		[FG_R_PASS_NEW_FLOW] = "new_flow",
		[FG_R_PASS_ALLOW] = "allow",
		[FG_R_DROP_DENY] = "deny",
		[FG_R_DROP_BAN] = "ban",
		[FG_R_DROP_SOURCE] = "source",
		[FG_R_DROP_PREFIX] = "prefix",
		[FG_R_DROP_GLOBAL] = "global",
		[FG_R_DROP_TCP_FLAGS] = "tcp_flags",
		[FG_R_DROP_TRUNCATED] = "truncated",
		[FG_R_DROP_MALFORMED] = "malformed",
		[FG_R_DROP_BAD_SOURCE] = "bad_source",
		[FG_R_DROP_TINY_FRAGMENT] = "tiny_fragment",
		[FG_R_TX_SYN_COOKIE] = "syn_cookie",
		[FG_R_PASS_COOKIE_ACK] = "cookie_ack",
		[FG_R_DROP_BAD_COOKIE] = "bad_cookie",
		[FG_R_DROP_COOKIE_CAP] = "cookie_cap",
	};

	return reason < FG_R_MAX && names[reason] ? names[reason] : "unknown";
}

const char *xdpmaps_level_name(uint32_t level)
{
	static const char *const names[FG_LEVEL_MAX] = { "address", "prefix", "global" };

	return level < FG_LEVEL_MAX ? names[level] : "unknown";
}

const char *xdpmaps_origin_name(uint32_t origin)
{
	static const char *const names[FG_BAN_ORIGIN_MAX] = { "auto", "manual", "app", "fleet" };

	return origin < FG_BAN_ORIGIN_MAX ? names[origin] : "unknown";
}
