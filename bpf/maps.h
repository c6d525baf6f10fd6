/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Maps of the floodgate programs. All are pinned by name under the agent's
 * pin directory, so a restart of the agent adopts them (buckets, bans and
 * counters survive). Capacities marked "sized by the agent" are set from
 * the config before load.
 */
#ifndef FG_BPF_MAPS_H
#define FG_BPF_MAPS_H

#include <floodgate/abi.h>

/* Single entry: run-time settings and the live half of the rule tables. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} settings SEC(".maps");

/* Two halves of FG_MAX_RULES rules; config.active picks one, so a reload
 * writes the idle half and flips in one store. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * FG_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fg_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rules SEC(".maps");

/* [half * FG_PORT_SLOTS + proto * 65536 + dport] -> rule id: O(1) lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * FG_PORT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_rules SEC(".maps");

/* Per-address buckets (sized by the agent). LRU: under attack no state is
 * created for unverified sources, so a spoofed flood cannot evict these. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_MAX_SOURCES);
	__type(key, struct fg_src_key);
	__type(value, struct fg_src_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} src_state SEC(".maps");

/* Per-prefix buckets (sized by the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_MAX_PREFIXES);
	__type(key, struct fg_src_key);
	__type(value, struct fg_src_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefix_state SEC(".maps");

/* Each CPU's drops not yet added to their src_state / prefix_state entry
 * (struct fg_drop_tally). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_DROP_TALLY_SLOTS);
	__type(key, __u32);
	__type(value, struct fg_drop_tally);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_tally SEC(".maps");

/* Per-rule global budget and attack state, indexed by rule id (shared by
 * both halves: a reload keeps the budget of a rule that keeps its id). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fg_global_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} global_state SEC(".maps");

/* UDP flows seen recently: key -> last seen (monotonic ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_MAX_UDP_FLOWS);
	__type(key, struct fg_udp_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} udp_flows SEC(".maps");

/* Verified sources: address key (rule 0) -> struct fg_verified. The host
 * talked to them over TCP (TC egress, SYN cookies) or an application
 * vouched for them (written by the agent). Sized by the agent:
 * sources.max_verified for TCP plus vouch.max plus headroom, so that
 * vouches (counted and capped by the agent) never make the LRU evict a
 * TCP-verified entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_MAX_VERIFIED);
	__type(key, struct fg_src_key);
	__type(value, struct fg_verified);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} verified SEC(".maps");

/* Allow and deny: prefix -> its family (FG_AF_INET / FG_AF_INET6). The
 * longest match is used only when the families agree, so an IPv6 entry
 * like ::/0 does not cover IPv4 (stored at ::ffff:0:0/96). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FG_MAX_LIST);
	__type(key, struct fg_lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FG_MAX_LIST);
	__type(key, struct fg_lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_lpm SEC(".maps");

/* The allow and deny lists' exact addresses (/32, /128) -> family, as the
 * tries' values: one hash lookup (none while the address's state filter
 * bit is clear), however long the list. The tries keep the prefixes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_MAX_LIST);
	__type(key, struct fg_ban_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_MAX_LIST);
	__type(key, struct fg_ban_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_addr SEC(".maps");

/* Bans of exact addresses (/32, /128) -> expiry, written here (auto bans)
 * and by the agent: one hash lookup per packet, whatever the number of
 * bans. A plain hash, not an LRU: a flood of auto bans must not push out
 * an operator's ban; when full, a new ban fails (and is counted). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_MAX_BAN_ADDRS);
	__type(key, struct fg_ban_key);
	__type(value, struct fg_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bans_addr SEC(".maps");

/* Entries of bans_addr per slot (struct fg_ban_filter): most packets skip
 * the bans_addr lookup. mmap-able: the agent counts with atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_ban_filter);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban_filter SEC(".maps");

/* The existence filter of src_state, prefix_state, verified, udp_flows,
 * bans_pfx, allow_addr and deny_addr (FG_SEEN_*, abi.h). mmap-able:
 * xdpmaps marks what user space inserts, the agent rebuilds a generation
 * in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_SEEN_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} seen SEC(".maps");

/* Bans of real prefixes -> expiry, written by the agent only: one lookup
 * per distinct prefix length in use (fg_config's ban_plens), longest first,
 * whatever the number of bans. Plain, preallocated like bans_addr. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_MAX_BANS);
	__type(key, struct fg_ban_pfx_key);
	__type(value, struct fg_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bans_pfx SEC(".maps");

/* Prefix bans at lengths beyond the FG_BAN_PLENS a family bans_pfx serves
 * (and when bans_pfx is full), written by the agent only. Walked only while
 * FG_CFG_F_HAS_BAN_PREFIX says it holds any. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FG_MAX_BANS);
	__type(key, struct fg_lpm_key);
	__type(value, struct fg_ban);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_IF_SLOTS *FG_R_MAX);
	__type(key, __u32);
	__type(value, struct fg_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fg_rule_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_M_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} misc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FG_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

#endif /* FG_BPF_MAPS_H */
