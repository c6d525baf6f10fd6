/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Compile-time tunables of floodgate's maps. Run-time thresholds live in
 * maps (see abi.h), not here. Map sizes that an operator may change
 * (sources.max_tracked, ...) are set by the agent before the program loads;
 * these are the defaults and hard limits.
 */
#ifndef FLOODGATE_CONSTS_H
#define FLOODGATE_CONSTS_H

/* Rules per config half, the two defaults included. */
#ifndef FG_MAX_RULES
#define FG_MAX_RULES 64
#endif

/* Default capacity of the per-address state map. */
#ifndef FG_MAX_SOURCES
#define FG_MAX_SOURCES 1000000
#endif

/* Default capacity of the per-prefix state map. */
#ifndef FG_MAX_PREFIXES
#define FG_MAX_PREFIXES 262144
#endif

/* Default capacity of the UDP flow table. */
#ifndef FG_MAX_UDP_FLOWS
#define FG_MAX_UDP_FLOWS 1000000
#endif

/* Default capacity of the verified-sources map. */
#ifndef FG_MAX_VERIFIED
#define FG_MAX_VERIFIED 262144
#endif

/* Entries of each allow / deny / ban trie. */
#ifndef FG_MAX_LIST
#define FG_MAX_LIST 65536
#endif

/* Entries of the prefix ban hash (bans_pfx), and of the ban trie (prefixes
 * at lengths beyond the hash's FG_BAN_PLENS a family). */
#ifndef FG_MAX_BANS
#define FG_MAX_BANS 65536
#endif

/* Entries of the exact-address ban hash (auto, manual, app and fleet bans of
 * one address): preallocated, about 80 bytes each. */
#ifndef FG_MAX_BAN_ADDRS
#define FG_MAX_BAN_ADDRS 131072
#endif

/* Ring buffer bytes (a power of two, page multiple). */
#ifndef FG_RINGBUF_BYTES
#define FG_RINGBUF_BYTES (256 * 1024)
#endif

/* VLAN tags and IPv6 extension headers walked before giving up. */
#ifndef FG_MAX_VLAN
#define FG_MAX_VLAN 4
#endif

#ifndef FG_MAX_IPV6_EXT
#define FG_MAX_IPV6_EXT 6
#endif

/* The longest tick a kernel is built with (HZ=100): the tick the program
 * assumes when fg_config.tick_us is 0 (the coarse clock's margin is two). */
#ifndef FG_TICK_MAX_NS
#define FG_TICK_MAX_NS 10000000ULL
#endif

/* How long a coarse-clock lag beyond two ticks, once seen, widens the margin
 * of the coarse-clock drop (fg_global_state.lag_ns). */
#ifndef FG_LAG_HOLD_NS
#define FG_LAG_HOLD_NS 10000000000ULL
#endif

/* Compare-and-swap attempts on a contended bucket before counting a miss. */
#ifndef FG_CAS_TRIES
#define FG_CAS_TRIES 4
#endif

#endif /* FLOODGATE_CONSTS_H */
