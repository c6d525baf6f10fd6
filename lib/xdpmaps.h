/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xdpmaps: everything user space reads from and writes to the XDP maps:
 * applying a compiled config (into the idle half, then one flip), allow and
 * deny lists, bans, counters and per-source state. Works on map fds, so the
 * agent, the CLI and the tests share it.
 */
#ifndef FG_XDPMAPS_H
#define FG_XDPMAPS_H

#include <stdbool.h>
#include <stdint.h>

#include <floodgate/abi.h>

#include "cidr.h"
#include "compiled.h"

struct floodgate_bpf;

struct xdpmaps {
	int settings, rules, port_rules;
	int src_state, prefix_state, global_state;
	int udp_flows, verified;
	/* the allow and deny lists: prefixes (tries), exact addresses
	 * (hashes): see xdpmaps_sync_list() */
	int allow, deny;
	int allow_addr, deny_addr;
	/* exact addresses (hash), prefixes (hash), prefixes beyond the hash's
	 * lengths (trie): see xdpmaps_ban() */
	int bans_addr, bans_pfx, bans;
	int stats, rule_stats, misc;
	int events;
	int ban_filter;
	int seen; /* the existence filter of the state, UDP flow, prefix ban and list maps (seen.h) */
	int drop_tally; /* each CPU's drops not yet in their state entry (fg_drop_tally) */
	int ncpus; /* possible CPUs: the width of per-CPU values */
	/* ban_filter's slots, mapped: the ban API counts bans_addr's entries
	 * there (struct fg_ban_filter); NULL for maps without a filter */
	__u32 *ban_slots;
	/* seen's words, mapped: a key this API inserts is marked there first;
	 * NULL for maps without the filter (or when every bit had to be set) */
	__u64 *seen_words;
};

/* Fill m with the fds of a loaded skeleton (not duplicated: the skeleton
 * keeps owning them). */
void xdpmaps_from_skel(struct xdpmaps *m, struct floodgate_bpf *skel);

/* The map layout (FG_ABI_VERSION) of the floodgated whose pins are in
 * pin_dir: the first word of its settings, whatever that map's size in its
 * layout; 0 when there are none or they cannot be read. */
uint32_t xdpmaps_pinned_layout(const char *pin_dir);

/* Open the maps pinned in pin_dir (for tools that run beside the agent).
 * Returns 0 or -errno; close with xdpmaps_close(). */
int xdpmaps_open_pinned(struct xdpmaps *m, const char *pin_dir);
void xdpmaps_close(struct xdpmaps *m);
/* Unmap the filters of maps filled by xdpmaps_from_skel() (the skeleton
 * owns the fds). */
void xdpmaps_unmap(struct xdpmaps *m);

/* Set a key's bit in both generations of the state filter, as the program
 * does before an insert: fg_seen_bit() of a src_state or prefix_state key,
 * fg_seen_bit_verified() of a verified one, fg_seen_bit_udp() of a
 * udp_flows one, fg_seen_bit_ban_pfx() of a bans_pfx one,
 * fg_seen_bit_list() of an allow_addr or deny_addr one. For every writer
 * of those maps in user space. */
void xdpmaps_seen_mark(const struct xdpmaps *m, __u32 bit);
/* The same in generation gen only (the agent's rebuild). */
void xdpmaps_seen_set(const struct xdpmaps *m, __u32 gen, __u32 bit);
/* A bans_pfx key's state filter bit and prefix ban cover bits (cover.h),
 * in generation gen; _mark: in both, for every writer of bans_pfx. */
void xdpmaps_seen_set_ban_pfx(const struct xdpmaps *m, __u32 gen, const struct fg_ban_pfx_key *k);
void xdpmaps_seen_mark_ban_pfx(const struct xdpmaps *m, const struct fg_ban_pfx_key *k);

/* CLOCK_MONOTONIC in ns: the clock of every timestamp in the maps. */
uint64_t xdpmaps_now_ns(void);

/*
 * Make c the live config: write the rules and port table into the idle
 * half, then flip settings.active in one store, so the program never sees a
 * half-written config. Global state of rule ids that changed owner is reset
 * (prev: the ids of the config being replaced, NULL on first apply).
 * Returns 0 or -errno.
 */
int xdpmaps_apply(struct xdpmaps *m, const struct fg_compiled *c, const struct fg_rule_ids *prev);

/* The live settings entry. */
int xdpmaps_settings(struct xdpmaps *m, struct fg_config *out);

/* The allow list or the deny list. */
enum xdpmaps_list { XDPMAPS_ALLOW, XDPMAPS_DENY };

/*
 * Make list l hold exactly list[0..n), or add one entry to it. Exact
 * addresses go to the list's hash, prefixes to its trie. sync applies a
 * diff (leaving entries first, so a full map takes a new list of its
 * capacity; kept entries are never absent; the hash before the trie, so an
 * address an older layout kept in the trie never leaves the list) and on
 * failure puts the previous content back. Both keep the settings'
 * HAS_ALLOW / HAS_DENY (/ _ADDR) flags true to the maps (the program skips
 * an empty one). 0 or -errno.
 */
int xdpmaps_sync_list(struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *list, int n);
int xdpmaps_list_add(struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *c);
/* List l covers c as the program judges a source: c's own address entry,
 * or the trie's longest match of c, of c's family. A map whose fd is
 * negative is not looked at. */
bool xdpmaps_list_has(const struct xdpmaps *m, enum xdpmaps_list l, const struct fg_cidr *c);

#define XDP_BAN_MAX_S (10ULL * 365 * 86400) /* the longest ban XDP.BAN and floodctl take */

/*
 * Bans. An address (/32, /128) is banned in the bans_addr hash, a shorter
 * prefix in the bans_pfx hash while its family has no more than
 * FG_BAN_PLENS distinct prefix lengths banned (and the hash has room), else
 * in the bans trie. These functions pick the map from c, so callers never
 * do, and keep the settings true to the maps: the lengths in use in
 * bans_pfx (the program looks up each) and HAS_BAN_PREFIX (it walks the
 * trie only then). A full map is -ENOSPC.
 */
/* Ban c for seconds (0 = until unbanned) with origin (enum fg_ban_origin). */
int xdpmaps_ban(struct xdpmaps *m, const struct fg_cidr *c, uint64_t seconds, uint32_t origin);
/* Write c's ban entry as given (expires_ns on CLOCK_MONOTONIC, 0 = never). */
int xdpmaps_ban_set(struct xdpmaps *m, const struct fg_cidr *c, const struct fg_ban *b);
/* b holds at now_ns (CLOCK_MONOTONIC): no end, or an end still ahead. */
bool xdpmaps_ban_live(const struct fg_ban *b, uint64_t now_ns);
/* c's own entry, expired or not: an address's or a hashed prefix's exactly;
 * for a prefix in the trie the trie's longest match of its first address
 * (c's own entry unless a longer banned prefix starts there). 0 or -ENOENT. */
int xdpmaps_ban_get(const struct xdpmaps *m, const struct fg_cidr *c, struct fg_ban *out);
/* The ban that drops c at now_ns, as the program decides: an address's own
 * ban if it holds, else the longest hashed prefix ban holding c that holds,
 * else the trie's longest match if it holds. 0 or -ENOENT. */
int xdpmaps_banned(const struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns,
		   struct fg_ban *out);
/* Remove c's ban; -ENOENT when c is not banned. */
int xdpmaps_unban(struct xdpmaps *m, const struct fg_cidr *c);
/* Delete bans whose expiry has passed (at most 256 per map a call);
 * returns how many. An address ban some other writer put in bans_addr
 * without counting it in the ban filter is counted here, so the program
 * stops skipping it. */
int xdpmaps_sweep_bans(struct xdpmaps *m, uint64_t now_ns);

/* Count every bans_addr entry in the ban filter, from zero: for a filter
 * no program uses yet (a new one over adopted bans, before the attach);
 * with a writer counting meanwhile, counts could be lost. 0, or -ENXIO
 * when the filter is not mapped (then every slot is set already). */
int xdpmaps_ban_filter_recount(struct xdpmaps *m);

/* Remove every ban (tests, benchmarks). */
int xdpmaps_bans_clear(struct xdpmaps *m);

/* Visit entries; stop when fn returns non-zero (and return that). */
typedef int (*xdpmaps_list_fn)(const struct fg_cidr *c, const struct fg_ban *ban, void *arg);
/* Every entry of list l: its addresses, then its prefixes (ban NULL). */
int xdpmaps_list_each(const struct xdpmaps *m, enum xdpmaps_list l, xdpmaps_list_fn fn, void *arg);
/* Every ban with its entry: addresses, then prefixes (hash, trie). Reads
 * only m->bans_addr, m->bans_pfx and m->bans. */
int xdpmaps_bans_each(const struct xdpmaps *m, xdpmaps_list_fn fn, void *arg);

/* Per-reason counters summed over CPUs and interfaces. */
int xdpmaps_stats(struct xdpmaps *m, struct fg_stat out[FG_R_MAX]);
/* Per-reason counters of every interface slot (FG_IF_SLOT(ifindex)),
 * summed over CPUs: out[slot][reason]. */
int xdpmaps_stats_slots(struct xdpmaps *m, struct fg_stat out[FG_IF_SLOTS][FG_R_MAX]);
/* Per-rule counters summed over CPUs. */
int xdpmaps_rule_stats(struct xdpmaps *m, uint32_t rule, struct fg_rule_stat *out);
/* Miscellaneous counters (enum fg_misc) summed over CPUs. */
int xdpmaps_misc(struct xdpmaps *m, uint64_t out[FG_M_MAX]);
int xdpmaps_global(struct xdpmaps *m, uint32_t rule, struct fg_global_state *out);

/* Bucket state of an address or prefix under rule, its dropped including
 * the drops CPUs still tally (fg_drop_tally); -ENOENT if untracked. */
int xdpmaps_source(struct xdpmaps *m, const struct fg_cidr *c, uint16_t rule,
		   struct fg_src_state *out);

/* How an address is verified as the XDP program judges it at now_ns with
 * verified_ttl ttl_ns: FG_VERIFIED_TCP when its TCP proof holds (it wins: it
 * needs no vouch), else the vouch's origin while the vouch holds, else -1.
 * *until_ns (may be NULL) gets the end of what holds (the later of both). */
int xdpmaps_verified_by(const struct fg_verified *v, uint64_t ttl_ns, uint64_t now_ns,
			uint64_t *until_ns);

/* Address c's entry of the verified map into *out: 0 when it is verified
 * now (xdpmaps_verified_by() >= 0), -ESTALE when in the map but no proof
 * holds any more, -ENOENT if not there (never, or evicted). */
int xdpmaps_verified(struct xdpmaps *m, const struct fg_cidr *c, struct fg_verified *out);

/* Vouch for address c until until_ns (CLOCK_MONOTONIC) with origin
 * (FG_VERIFIED_VOUCH or _FLEET): its TCP proof, if any, is kept. *was_vouched
 * (may be NULL) says whether a vouch held already. 0 or -errno. */
int xdpmaps_vouch(struct xdpmaps *m, const struct fg_cidr *c, uint64_t until_ns, uint32_t origin,
		  bool *was_vouched);

/* End c's vouch: the entry goes, or stays with its TCP proof alone when
 * that holds. -ENOENT when no vouch holds for c. */
int xdpmaps_unvouch(struct xdpmaps *m, const struct fg_cidr *c);

/* Stable names of enum fg_verified_origin: "tcp", "vouched", "fleet". */
const char *xdpmaps_verified_origin_name(uint32_t origin);

/* now - then, 0 when then is later (another CPU stamped after now was read;
 * a clock read just after boot is small): never a wrapped 2^64. */
static inline uint64_t xdpmaps_age_ns(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? now_ns - then_ns : 0;
}

/* Entries in a hash or trie map (walks the keys: O(entries)). */
long xdpmaps_count(int map_fd, uint32_t key_size);

/* One row of xdpmaps_top(). */
struct xdpmaps_top_entry {
	struct fg_src_key key; /* address and rule */
	uint64_t new_flows;
	uint64_t dropped;
};

/* The n busiest tracked addresses (by dropped when by_drops, else by new
 * flows, both with the drops CPUs still tally), busiest first, into
 * out[0..n). Walks src_state in batches.
 * Returns how many were written or -errno. */
int xdpmaps_top(struct xdpmaps *m, int n, bool by_drops, struct xdpmaps_top_entry *out);

/* Tokens left in a bucket with TAT tat for limit l at now (for reports). */
uint64_t xdpmaps_tokens(uint64_t tat_ns, const struct fg_limit *l, uint64_t now_ns);

/* Stable names of reasons ("deny", "source", ...) and levels. */
const char *xdpmaps_reason_name(uint32_t reason);
const char *xdpmaps_level_name(uint32_t level);
const char *xdpmaps_origin_name(uint32_t origin);

#endif /* FG_XDPMAPS_H */
