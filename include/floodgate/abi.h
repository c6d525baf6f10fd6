/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * floodgate ABI: the map keys, map values, reasons and events shared by the
 * XDP/TC programs (bpf/) and user space (agent/, cli/, tests/).
 *
 * Rules for this file:
 *  - fixed-width types, explicit padding, no bitfields, no #ifdef'd fields;
 *  - every struct has a _Static_assert'ed size;
 *  - reason numbers are stable: never renumber, retire with a placeholder;
 *  - any layout change bumps FG_ABI_VERSION (pinned maps of another version
 *    are not adopted).
 */
#ifndef FLOODGATE_ABI_H
#define FLOODGATE_ABI_H

#ifdef __BPF__
/* vmlinux.h provides __u8..__u64 */
#else
#include <linux/types.h>
#endif

/* 3: reasons 15, 16 widened the stats map (FG_R_MAX).
 * 4: SYN cookies: reasons 17-20, fg_config's cookie fields, misc 7-12.
 * 5: the verified map's value is struct fg_verified (vouches), fg_rule_stat's
 *    pad0 is vouched_passed.
 * 6: bans in hashes: exact addresses in bans_addr, prefixes in bans_pfx
 *    (struct fg_ban_pfx_key) at the lengths fg_config's ban_plens lists,
 *    the bans trie only for a family past FG_BAN_PLENS lengths
 *    (ban_trie_only); fg_config is 96 bytes, its pad0 is tick_us;
 *    fg_src_state is 32 bytes (taken for new_flows, u32 stamps);
 *    fg_global_state's pads are lag_ns and lag_at_ns (issue 18).
 * 7: the ban_filter map counts bans_addr's entries per slot (struct
 *    fg_ban_filter): a packet whose slot is 0 skips the bans_addr lookup.
 * 8: the seen map, the existence filter of src_state, prefix_state and
 *    verified (FG_SEEN_*, fg_seen_bit()).
 * 9: the seen map covers udp_flows too (fg_seen_bit_udp()).
 * 10: and bans_pfx (fg_seen_bit_ban_pfx()).
 * 11: the seen map ends with the prefix ban cover (FG_COVER_*).
 * 12: fg_src_state is 40 bytes: refused_ns, the time of the level's last
 *     refusal (a flooding source's packets are refused on the coarse clock);
 *     the drop_tally map (struct fg_drop_tally).
 * 13: a key's drop tally is in either way of its set (FG_DROP_TALLY_WAYS).
 * 14: the allow and deny lists' exact addresses in hashes (allow_addr,
 *     deny_addr) behind the state filter (fg_seen_bit_list()), flagged by
 *     FG_CFG_F_HAS_ALLOW_ADDR / HAS_DENY_ADDR; the tries keep the prefixes.
 * 15: the ban filter has 2^20 slots (FG_BAN_FILTER_BITS 20; 2^16 before). */
#define FG_ABI_VERSION 15

/*
 * The oldest layout whose pinned maps this one adopts, map by map (a map
 * whose shape changed is replaced; the others keep their bans, buckets and
 * counters across the upgrade). Move it up to FG_ABI_VERSION when a bump
 * changes what an existing map's entries mean, not only its shape: 11 only
 * grew the seen map, which the agent rebuilds from the maps at start,
 * before the new program is attached; 12 only grew src_state's and
 * prefix_state's values (replaced: their buckets start full again); 13
 * reads a layout-12 tally's slots as the first ways of their sets; 14 only
 * added maps (an adopted trie's exact addresses still match there until the
 * agent's list sync moves them to the hashes, adding before removing); 15's
 * larger ban filter replaces the older one, and the agent counts the adopted
 * address bans into it before its program is attached.
 */
#define FG_ABI_COMPAT 10

/* Pinned maps of layout v may be adopted (0: no pins, nothing to adopt). */
static inline int fg_abi_adoptable(__u32 v)
{
	return v >= FG_ABI_COMPAT && v <= FG_ABI_VERSION;
}

/* Address families as stored in keys (the values of AF_INET / AF_INET6). */
#define FG_AF_INET  2
#define FG_AF_INET6 10

/* Rule ids 0 and 1 are the tcp and udp defaults; configured rules follow. */
#define FG_RULE_DEFAULT_TCP 0
#define FG_RULE_DEFAULT_UDP 1

/* Protocol slots in the port -> rule table. */
#define FG_PROTO_TCP 0
#define FG_PROTO_UDP 1

#include "consts.h"

/*
 * Why a packet got its verdict. Each reason has one natural action; in
 * dry-run mode the drop reasons are counted with action "pass".
 * Stable numbers: shared with metrics and tools, never renumbered.
 */
enum fg_reason {
	FG_R_PASS_NON_IP = 0,	      /* not IPv4/IPv6 (ARP, LLDP, ...) */
	FG_R_PASS_OTHER_L4 = 1,	      /* IP but not TCP/UDP (ICMP, GRE, ...) */
	FG_R_PASS_FRAGMENT = 2,	      /* non-first IP fragment: never a new flow */
	FG_R_PASS_ESTABLISHED = 3,    /* TCP segment that is not a SYN */
	FG_R_PASS_UDP_KNOWN = 4,      /* UDP flow seen within the idle timeout */
	FG_R_PASS_NEW_FLOW = 5,	      /* new TCP/UDP flow within every limit */
	FG_R_PASS_ALLOW = 6,	      /* source on the allow list */
	FG_R_DROP_DENY = 7,	      /* source on the deny list */
	FG_R_DROP_BAN = 8,	      /* source banned (auto, manual, app, fleet) */
	FG_R_DROP_SOURCE = 9,	      /* per-address new-flow limit */
	FG_R_DROP_PREFIX = 10,	      /* per-prefix new-flow limit */
	FG_R_DROP_GLOBAL = 11,	      /* rule's global new-flow budget */
	FG_R_DROP_TCP_FLAGS = 12,     /* SYN+FIN or SYN+RST */
	FG_R_DROP_TRUNCATED = 13,     /* header cut short (L2, L3 or L4) */
	FG_R_DROP_MALFORMED = 14,     /* impossible header field (IHL < 5, ...) */
	FG_R_DROP_BAD_SOURCE = 15,    /* source no host sends from (::ffff:0:0/96) */
	FG_R_DROP_TINY_FRAGMENT = 16, /* first fragment without a whole L4 header */
	FG_R_TX_SYN_COOKIE = 17,      /* SYN answered with a SYN cookie (XDP_TX) */
	FG_R_PASS_COOKIE_ACK = 18,    /* ACK carrying a valid SYN cookie */
	FG_R_DROP_BAD_COOKIE = 19,    /* ACK to a listener without a valid SYN cookie */
	FG_R_DROP_COOKIE_CAP = 20,    /* SYN over syn_cookies.max_rate SYN-ACKs/s */
	FG_R_MAX = 21,
};

/* The reasons whose natural action is a drop (the others pass, or for
 * FG_R_TX_SYN_COOKIE send the SYN-ACK back: counted as not dropped). */
#define FG_R_DROP_MASK                                                                             \
	((((1U << (FG_R_DROP_TINY_FRAGMENT + 1)) - 1) & ~((1U << FG_R_DROP_DENY) - 1)) |           \
	 (1U << FG_R_DROP_BAD_COOKIE) | (1U << FG_R_DROP_COOKIE_CAP))

static inline int fg_reason_drops(__u32 reason)
{
	return reason < FG_R_MAX && ((FG_R_DROP_MASK >> reason) & 1);
}

/* Bucket levels, used in events and per-level drop counters. */
enum fg_level {
	FG_LEVEL_SOURCE = 0,
	FG_LEVEL_PREFIX = 1,
	FG_LEVEL_GLOBAL = 2,
	FG_LEVEL_MAX = 3,
};

/* Who created a ban. */
enum fg_ban_origin {
	FG_BAN_AUTO = 0,   /* the XDP program, after N violations */
	FG_BAN_MANUAL = 1, /* an operator (XDP.BAN, floodctl ban) */
	FG_BAN_APP = 2,	   /* application feedback (a policy's xdp_ban) */
	FG_BAN_FLEET = 3,  /* another host, through the shared store */
	FG_BAN_ORIGIN_MAX = 4,
};

/*
 * Why an address is verified. TCP: the host completed a handshake with it
 * (TC egress data or FIN, a valid SYN cookie). VOUCH: an application vouched
 * for it over the socket (XDP.VOUCH, a policy's vouch_on_success). FLEET:
 * another agent of the fleet did either. HOST: one of the host's own
 * resolvers or default gateways (the agent reads them). Stable numbers.
 */
enum fg_verified_origin {
	FG_VERIFIED_TCP = 0,
	FG_VERIFIED_VOUCH = 1,
	FG_VERIFIED_FLEET = 2,
	FG_VERIFIED_HOST = 3,
	FG_VERIFIED_ORIGIN_MAX = 4,
};

/*
 * Value of the verified map (key: struct fg_src_key of the address, rule 0).
 * The two proofs live side by side, so a TCP handshake with a vouched
 * address keeps it verified after the vouch ends, and an unvouch leaves a
 * TCP-verified address verified. The XDP program admits the source while
 * either holds: tcp_ns within verified_ttl, or now before until_ns.
 */
struct fg_verified {
	__u64 tcp_ns;	/* last TCP proof (CLOCK_MONOTONIC); 0 = none */
	__u64 until_ns; /* vouched until (CLOCK_MONOTONIC); 0 = not vouched */
	__u32 origin;	/* enum fg_verified_origin of until_ns (VOUCH, FLEET or HOST) */
	__u32 pad0;
};
_Static_assert(sizeof(struct fg_verified) == 24, "abi");

/* A token bucket's parameters: rate new flows per second, burst flows. */
struct fg_limit {
	__u32 rate; /* 0 = this level is not limited */
	__u32 burst;
	__u64 interval_ns; /* 1e9 / rate, precomputed by the agent */
};
_Static_assert(sizeof(struct fg_limit) == 16, "abi");

#define FG_RULE_F_BAN 0x1 /* ban sources after ban_after violations */
/* syn_cookies: auto (unverified SYNs beyond the global budget), always (every SYN) */
#define FG_RULE_F_COOKIE_AUTO	0x2
#define FG_RULE_F_COOKIE_ALWAYS 0x4

/* A compiled rule: what limits apply to new flows to its ports. */
struct fg_rule {
	struct fg_limit per_source;
	struct fg_limit per_prefix;
	struct fg_limit global;
	__u64 ban_window_ns; /* violations counted within this window */
	__u64 ban_duration_ns;
	__u32 ban_after; /* violations that make a ban */
	__u32 flags;	 /* FG_RULE_F_* */
};
_Static_assert(sizeof(struct fg_rule) == 72, "abi");

#define FG_CFG_F_DRY_RUN   0x1 /* count everything, drop nothing */
#define FG_CFG_F_HAS_DENY  0x2 /* deny trie not empty (else its lookup is skipped) */
#define FG_CFG_F_HAS_ALLOW 0x4 /* allow trie not empty */
/* The deny (allow) list's hash of exact addresses is not empty. */
#define FG_CFG_F_HAS_DENY_ADDR	0x40
#define FG_CFG_F_HAS_ALLOW_ADDR 0x80
/* Any list map holds an entry: the program looks at the lists. */
#define FG_CFG_F_LISTS                                                                             \
	(FG_CFG_F_HAS_DENY | FG_CFG_F_HAS_ALLOW | FG_CFG_F_HAS_DENY_ADDR | FG_CFG_F_HAS_ALLOW_ADDR)
/* SYN cookies are on (the agent set tcp_syncookies=2 because a rule needs
 * them now): the rules' syn_cookies apply, and ACKs from unverified sources
 * to their listeners are checked. Off, the program behaves as without. */
#define FG_CFG_F_COOKIES 0x8
/* Cookie SYN-ACKs carry timestamps (and so SACK and window scaling): the
 * agent set tcp_timestamps=2, without the per-connection offset a program
 * cannot know. */
#define FG_CFG_F_COOKIE_TS 0x10
/* The ban trie holds prefixes (else its walk is skipped): those of a family
 * that needed more than the FG_BAN_PLENS lengths the bans_pfx hash serves,
 * and any that found bans_pfx full. */
#define FG_CFG_F_HAS_BAN_PREFIX 0x20

/* Distinct prefix lengths a family the bans_pfx hash serves: the program
 * does one hash lookup per length in use, so a packet's cost depends on the
 * lengths banned (typically 1-3: /24, /16, /64, /48), not on the bans. */
#define FG_BAN_PLENS 8

/* The single entry of the config map. */
struct fg_config {
	__u32 abi_version; /* FG_ABI_VERSION of whoever wrote it */
	__u32 flags;	   /* FG_CFG_F_* */
	__u32 active;	   /* which half (0/1) of rules and port_rules is live */
	__u8 ipv4_prefix;  /* prefix length of the per-prefix level */
	__u8 ipv6_prefix;
	/* the kernel's tick in µs (clock_getres(CLOCK_MONOTONIC_COARSE)): how far
	 * bpf_ktime_get_coarse_ns() may be behind bpf_ktime_get_ns(); 0 = not
	 * known, the program then assumes the longest (HZ=100, 10 ms) */
	__u16 tick_us;
	__u64 udp_idle_ns;	 /* a UDP flow unseen this long is new again */
	__u64 attack_hold_ns;	 /* under attack stays on this long after the
				  * global budget was last exceeded */
	__u64 event_interval_ns; /* at most one event per source per interval */
	__u64 verified_ttl_ns;	 /* a verified source expires after this */
	/* SYN cookies: SYN-ACKs per second, all rules (rate 0: no cap) */
	struct fg_limit cookie_cap;
	/* the MSS a cookie SYN-ACK announces: the smallest MTU of the
	 * protected interfaces - 40 (IPv4) / - 60 (IPv6) */
	__u16 cookie_mss4;
	__u16 cookie_mss6;
	/* the window scale the kernel will give the connection: ilog2 of
	 * max(tcp_rmem[2], rmem_max) - 15, at most 14 */
	__u8 cookie_wscale;
	/* the agent's, not the program's: tcp_syncookies and tcp_timestamps
	 * as it found them before setting them for cookies, + 1 (0: it did
	 * not), kept in the pinned map so that the agent after a crash can
	 * put them back */
	__u8 saved_syncookies;
	__u8 saved_timestamps;
	__u8 pad1;
	/* the agent's upkeep of the bans_pfx hash: how many lengths, and the
	 * distinct prefix lengths its keys hold, per family ([0] IPv4, [1]
	 * IPv6), longest first, as fg_ban_pfx_key.prefixlen (IPv4 + 96) */
	__u8 ban_nplens[2];
	/* the agent's: bit fi set, that family needed more than FG_BAN_PLENS
	 * lengths and all its prefixes are in the trie (its ban_nplens 0: a
	 * walk, not FG_BAN_PLENS lookups and a walk) until the trie empties */
	__u8 ban_trie_only;
	__u8 pad2[5];
	__u8 ban_plens[2][FG_BAN_PLENS];
};
_Static_assert(sizeof(struct fg_config) == 96, "abi");

/*
 * Key of per-address and per-prefix bucket state. IPv4 lives in addr[0]
 * (network byte order) with addr[1..3] zero; IPv6 fills addr[0..3].
 * Bytes beyond prefixlen are zero. rule is the rule id the bucket belongs
 * to (0 in the verified map).
 */
struct fg_src_key {
	__u8 family;	/* FG_AF_INET or FG_AF_INET6 */
	__u8 prefixlen; /* 32/128 for an address, else the prefix length */
	__u16 rule;
	__u32 addr[4];
};
_Static_assert(sizeof(struct fg_src_key) == 20, "abi");

/*
 * The existence filter of src_state, prefix_state, verified, udp_flows,
 * bans_pfx, allow_addr and deny_addr (map `seen`, u64 words): one bit
 * (fg_seen_bit() and its siblings below, one per kind of key) for every key
 * in any of them, so
 * that a source they hold nothing for (each SYN or datagram of a spoofed
 * random-source flood; each packet's prefixes in the prefix ban hash)
 * costs a bit test, not hash lookups. A key's bit is set before the key is inserted and stays set while the key is in
 * a map; keys that leave (LRU eviction, a clear) leave their bits, which
 * only cost a lookup. Two generations: word 0 says which one the program
 * tests (bit 0); every writer sets a new key's bit in both; the agent
 * rebuilds the other one from the keys in the maps (zeroed first), then
 * names it in word 0.
 */
#define FG_SEEN_BITS_LOG 24
#define FG_SEEN_WORDS	 (1U << (FG_SEEN_BITS_LOG - 6)) /* u64 words per generation */

/*
 * The prefix ban cover, at the end of the seen map in the same two
 * generations (word 0 names the tested one, the same writers set a bit in
 * both, the same rebuild clears what left): one bit per IPv4 /20 (its
 * number, exact) and per IPv6 /40 (hashed), set for every unit a bans_pfx
 * prefix covers or lies in. A packet whose unit's bit is clear is in no
 * prefix bans_pfx holds: one bit test, whatever the lengths in use and the
 * number of bans. IPv6 lengths below FG_COVER6_MIN_PLEN would cover more
 * than 256 units each (the agent marks every live prefix each second, and
 * the fleet's bans are not ours to trust): they are not marked, and the
 * program looks those lengths up whatever the cover says.
 */
#define FG_COVER4_LOG	     20 /* IPv4 bits: one per /20 */
#define FG_COVER6_LOG	     21 /* IPv6 bits: the /40s hashed */
#define FG_COVER6_UNIT	     40
#define FG_COVER6_MIN_PLEN   32
#define FG_COVER_WORDS	     ((1U << (FG_COVER4_LOG - 6)) + (1U << (FG_COVER6_LOG - 6)))
#define FG_SEEN_COVER_OFFSET (1 + 2 * FG_SEEN_WORDS)
/* word 0, the filter's generations 0 and 1, the cover's 0 and 1 */
#define FG_SEEN_ENTRIES (FG_SEEN_COVER_OFFSET + 2 * FG_COVER_WORDS)

/* Index in the seen map of the word holding bit of generation gen. */
static inline __u32 fg_seen_word(__u32 gen, __u32 bit)
{
	return 1 + (gen & 1) * FG_SEEN_WORDS + (bit >> 6);
}

/* Index in the seen map of the word holding cover bit of generation gen. */
static inline __u32 fg_cover_word(__u32 gen, __u32 bit)
{
	return FG_SEEN_COVER_OFFSET + (gen & 1) * FG_COVER_WORDS + (bit >> 6);
}

/* A u32 in network byte order, in host order (for kernel and user space). */
static inline __u32 fg_ntohl(__u32 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(x);
#else
	return x;
#endif
}

/*
 * An address no host has on the wire (unspecified, loopback, multicast,
 * reserved, broadcast) or a link-local one (on-link routers, a cloud's
 * metadata service at 169.254.169.254): the program never bans such a
 * source, and the agent lets no one ban or vouch for it. addr as in struct
 * fg_src_key (network byte order, IPv4 in addr[0]).
 */
static inline int fg_addr_never_banned(__u8 family, const __u32 addr[4])
{
	__u32 a = fg_ntohl(addr[0]);

	if (family == FG_AF_INET)
		return (a >> 24) == 0 ||      /* 0.0.0.0/8: unspecified, "this network" */
		       (a >> 24) == 127 ||    /* loopback */
		       (a >> 16) == 0xa9fe || /* 169.254/16 link-local */
		       (a >> 28) >= 0xe;      /* 224/4 multicast, 240/4 reserved + broadcast */
	return (a >> 22) == 0x3fa ||	      /* fe80::/10 link-local */
	       (a >> 24) == 0xff ||	      /* ff00::/8 multicast */
	       (!(addr[0] | addr[1] | addr[2]) && fg_ntohl(addr[3]) <= 1); /* :: and ::1 */
}

/* The cover bit of an IPv4 address (network byte order). */
static inline __u32 fg_cover_bit4(__u32 addr)
{
	return fg_ntohl(addr) >> (32 - FG_COVER4_LOG);
}

/* The cover bit of an IPv6 /40, unit: its top 40 bits as a number. Not
 * keyed: a chosen collision costs its sender the lookups every packet
 * paid before the cover. */
static inline __u32 fg_cover_bit6_unit(__u64 unit)
{
	__u32 h = (__u32)unit * 0x9e3779b1U ^ (__u32)(unit >> 32) * 0x85ebca6bU;

	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return (1U << FG_COVER4_LOG) + (h >> (32 - FG_COVER6_LOG));
}

/* The /40 unit of an IPv6 address (network byte order words). */
static inline __u64 fg_cover_unit6(const __u32 addr[4])
{
	return (__u64)fg_ntohl(addr[0]) << 8 | fg_ntohl(addr[1]) >> 24;
}

/* The cover bit the program tests for a source address (addr as in an LPM
 * key: IPv4 in addr[3]; v6: an IPv6 address). */
static inline __u32 fg_cover_bit(__u32 v6, const __u32 addr[4])
{
	return v6 ? fg_cover_bit6_unit(fg_cover_unit6(addr)) : fg_cover_bit4(addr[3]);
}

/*
 * The filter bit of a key's head words a and b and its address: a mix
 * shared by the program and user space. Not keyed: a chosen collision costs
 * its sender a hash lookup, as every packet paid before the filter; nothing
 * is skipped that a map holds.
 */
static inline __u32 fg_seen_mix(__u32 a, __u32 b, const __u32 addr[4])
{
	__u32 h = a * 0x9e3779b1U ^ b * 0x3c6ef372U ^ addr[0] * 0x85ebca6bU ^
		  addr[1] * 0xc2b2ae35U ^ addr[2] * 0x27d4eb2fU ^ addr[3] * 0x165667b1U;

	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h >> (32 - FG_SEEN_BITS_LOG);
}

/* The filter bit of key k with rule in place of its own. */
static inline __u32 fg_seen_hash(const struct fg_src_key *k, __u32 rule)
{
	return fg_seen_mix((__u32)k->family | (__u32)k->prefixlen << 8 | rule << 16, 0, k->addr);
}

/* The filter bit of a src_state or prefix_state key. */
static inline __u32 fg_seen_bit(const struct fg_src_key *k)
{
	return fg_seen_hash(k, k->rule);
}

/* The filter bit of a verified map key. Its bytes are those of rule 0's
 * src_state key for the address (the tcp default rule), which would share
 * the bit and keep it set for every source that rule tracks: it is hashed
 * as if its rule were this one, which no rule id reaches. */
#define FG_SEEN_RULE_VERIFIED 0xffff
static inline __u32 fg_seen_bit_verified(const struct fg_src_key *k)
{
	return fg_seen_hash(k, FG_SEEN_RULE_VERIFIED);
}

/*
 * Per-address / per-prefix state. Written with atomics only. 32 bytes, so
 * that an entry of the LRU hash with its key and the kernel's element header
 * is 112 bytes (120 with the hash buckets): a million tracked sources in
 * 120 MB. A dropped flow writes only dropped (the new flows a level saw are
 * taken + dropped). Times other than the TAT are FG_STAMP()s: CLOCK_MONOTONIC
 * in units of 2^20 ns (~1.05 ms), mod 2^32 (52 days), 0 = none.
 */
struct fg_src_state {
	__u64 tat_ns;	     /* GCRA theoretical arrival time of the bucket */
	__u64 dropped;	     /* new flows dropped by this level */
	/* CLOCK_MONOTONIC of the level's last refusal (the coarse clock's
	 * mostly; moved at most once per tick): a source refused within the
	 * last tick is flooding, and its packets may be refused on the coarse
	 * clock alone (bucket_margin()) */
	__u64 refused_ns;
	__u32 taken;	     /* tokens taken (later refunds included): mod 2^32 */
	__u32 violations;    /* violations within the window */
	__u32 last_event;    /* FG_STAMP of the last violation counted / event */
	__u32 viol_start;    /* FG_STAMP of the start of the violation window */
};
_Static_assert(sizeof(struct fg_src_state) == 40, "abi");

#define FG_STAMP_SHIFT 20
/* A CLOCK_MONOTONIC time as a fg_src_state stamp (never 0: that is "none"). */
#define FG_STAMP(ns)   ((__u32)((ns) >> FG_STAMP_SHIFT) ?: 1)

/*
 * A CPU's count of the new flows it dropped for one entry of src_state or
 * prefix_state and has not added to the entry's dropped yet (map drop_tally:
 * per-CPU, FG_DROP_TALLY_SLOTS slots, the slot fg_drop_tally_slot()). Each
 * packet of a flood from one source would write the entry, a cache line
 * every CPU the flood arrives on shares; a CPU adds its count at most once
 * per tick instead. An entry's drops are its dropped plus the pending of
 * every CPU's tally of its key (xdpmaps_source()). A key's slot is one of
 * the FG_DROP_TALLY_WAYS slots of its set (fg_drop_tally_slot()): the one
 * holding the key, else one holding no pending drops; with every way
 * holding another entry's, the drop goes to the entry directly.
 */
struct fg_drop_tally {
	struct fg_src_key key;
	__u32 level;	 /* FG_LEVEL_SOURCE (src_state) or FG_LEVEL_PREFIX */
	__u64 pending;	 /* drops not added to the entry yet */
	__u64 added_ns; /* when pending was last added to the entry */
	/* the coarse clock's value (its tick) when this CPU last refused the
	 * source on the coarse clock: its next SYNs in that tick are refused
	 * without looking its bucket up */
	__u64 refused_tick;
};
_Static_assert(sizeof(struct fg_drop_tally) == 48, "abi");

#define FG_DROP_TALLY_SLOTS 1024
/* Slots per set: two flooding sources whose keys share a set each keep a
 * slot (one way, 26-32 of a /24's 256 sources had none, and paid the whole
 * path and an atomic per packet). A power of two. */
#define FG_DROP_TALLY_WAYS 2

/* The first slot of the tally set of a src_state or prefix_state key, from
 * its state filter bit (fg_seen_bit()); the set's ways follow it. */
static inline __u32 fg_drop_tally_slot(__u32 seen_bit)
{
	return seen_bit & (FG_DROP_TALLY_SLOTS - FG_DROP_TALLY_WAYS);
}

/* The new flows a level saw for a source: admitted (or refunded) plus dropped. */
static inline __u64 fg_src_new_flows(const struct fg_src_state *s)
{
	return (__u64)s->taken + s->dropped;
}

/* Per-rule global state (array indexed by rule id). */
struct fg_global_state {
	__u64 tat_ns;	       /* GCRA TAT of the rule's global budget */
	__u64 attack_until_ns; /* under attack while now < this */
	/* the largest lag of the coarse clock behind the precise one this
	 * rule's packets saw (ns), and when it was seen: the coarse-clock drop
	 * widens its margin to it for FG_LAG_HOLD_NS (counters live in
	 * rule_stats, per-CPU: no shared line) */
	__u64 lag_ns;
	__u64 lag_at_ns;
	__u64 attacks;	     /* times the rule entered under-attack */
	__u64 last_event_ns; /* last global-drop event of this rule */
};
_Static_assert(sizeof(struct fg_global_state) == 48, "abi");

/*
 * LPM key of the allow, deny and ban tries. IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d, prefixlen + 96) so one trie serves both families.
 */
struct fg_lpm_key {
	__u32 prefixlen;
	__u32 addr[4];
};
_Static_assert(sizeof(struct fg_lpm_key) == 20, "abi");

/*
 * Key of the exact-address hashes (bans_addr, allow_addr, deny_addr): the
 * address as the tries store it at full length, IPv4 IPv4-mapped
 * (::ffff:a.b.c.d). It is the addr of an fg_lpm_key, so one key built per
 * packet serves hashes and tries. A mapped IPv6 source never reaches the
 * lookup (dropped as bad_source), so IPv4 and IPv6 addresses cannot share
 * a key.
 */
struct fg_ban_key {
	__u32 addr[4];
};
_Static_assert(sizeof(struct fg_ban_key) == 16, "abi");
_Static_assert(sizeof(((struct fg_lpm_key *)0)->addr) == sizeof(struct fg_ban_key), "abi");

/*
 * How many bans_addr entries hash to each slot (fg_ban_slot() of the key):
 * a source whose slot is 0 is banned by no address ban, and the program
 * skips the hash lookup (a cache and TLB miss per packet of a spoofed
 * flood). Every writer keeps a slot at least its number of entries: +1
 * before an insert, -1 after a delete or a failed insert (an existing
 * entry replaced changes nothing). The single value of an mmap-able array,
 * so user space counts with atomics as the program does. 2^20 slots (4 MB):
 * with 50,000 address bans 5 % of sources pay the lookup (53 % with 2^16).
 */
#define FG_BAN_FILTER_BITS  20
#define FG_BAN_FILTER_SLOTS (1U << FG_BAN_FILTER_BITS)
struct fg_ban_filter {
	__u32 n[FG_BAN_FILTER_SLOTS];
};
_Static_assert(sizeof(struct fg_ban_filter) == 4 * FG_BAN_FILTER_SLOTS, "abi");

/* The slot of an address ban key: a mix of all four words (IPv4 keys vary
 * in the last only), shared by the program and user space. */
static inline __u32 fg_ban_slot(const __u32 addr[4])
{
	__u32 h = addr[0] * 0x9e3779b1U ^ addr[1] * 0x85ebca6bU ^ addr[2] * 0xc2b2ae35U ^
		  addr[3] * 0x27d4eb2fU;

	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	return h & (FG_BAN_FILTER_SLOTS - 1);
}

/*
 * Key of the prefix ban hash (bans_pfx): family, then the prefix as the
 * tries store it (IPv4 IPv4-mapped, prefixlen + 96), bits beyond prefixlen
 * zero. The family keeps an IPv6 prefix over ::ffff:0:0/96 (::/0) off IPv4.
 */
struct fg_ban_pfx_key {
	__u8 family;	/* FG_AF_INET or FG_AF_INET6 */
	__u8 prefixlen; /* as fg_lpm_key's: 96-128 for IPv4, 0-128 for IPv6 */
	__u16 pad0;	/* 0 */
	__u32 addr[4];
};
_Static_assert(sizeof(struct fg_ban_pfx_key) == 20, "abi");

/* The state filter's bit of a bans_pfx key (FG_SEEN_*: its b word is one no
 * other map's keys have). */
static inline __u32 fg_seen_bit_ban_pfx(const struct fg_ban_pfx_key *k)
{
	return fg_seen_mix((__u32)k->family | (__u32)k->prefixlen << 8, 0x200U, k->addr);
}

/* The state filter's bit of an allow_addr or deny_addr key, one for both
 * lists: a packet from an address on neither skips both lookups after one
 * bit test. */
static inline __u32 fg_seen_bit_list(const __u32 addr[4])
{
	return fg_seen_mix(128U << 8, 0x300U, addr);
}

struct fg_ban {
	__u64 expires_ns; /* CLOCK_MONOTONIC ns; 0 = never */
	__u32 origin;	  /* enum fg_ban_origin */
	__u32 rule;	  /* rule that caused an auto ban, else 0 */
};
_Static_assert(sizeof(struct fg_ban) == 16, "abi");

/* Key of the UDP flow table. */
struct fg_udp_key {
	__u8 family;
	__u8 pad0;
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u16 pad1;
	__u32 addr[4];
};
_Static_assert(sizeof(struct fg_udp_key) == 24, "abi");

/* The filter bit of a udp_flows key (a b word no src_state, prefix_state
 * or verified key has: their b is 0). */
static inline __u32 fg_seen_bit_udp(const struct fg_udp_key *k)
{
	return fg_seen_mix((__u32)k->sport << 16 | k->dport, 0x100U | k->family, k->addr);
}

/*
 * Per-CPU packet counters, indexed by FG_STAT_INDEX(ifindex, reason): a row
 * of reasons per interface slot, so metrics can say which interface. Two
 * interfaces whose ifindex share a slot share a row (the agent reports them
 * together); 64 slots make that rare on one host.
 */
#define FG_IF_SLOTS		       64
#define FG_IF_SLOT(ifindex)	       ((ifindex) % FG_IF_SLOTS)
#define FG_STAT_INDEX(ifindex, reason) (FG_IF_SLOT(ifindex) * FG_R_MAX + (reason))
struct fg_stat {
	__u64 packets[2]; /* [0] passed, [1] dropped */
	__u64 bytes[2];
};
_Static_assert(sizeof(struct fg_stat) == 32, "abi");

/* Ring buffer event: a source exceeded a limit (at most one per interval). */
struct fg_event {
	__u64 ts_ns;	       /* CLOCK_MONOTONIC */
	struct fg_src_key src; /* address or prefix that violated */
	__u32 reason;	       /* enum fg_reason */
	__u32 level;	       /* enum fg_level */
	__u32 violations;      /* in the current window, after this one */
	__u32 banned;	       /* FG_EV_BAN_* bits: what this violation did about a ban */
	__u64 new_flows;       /* counters of the source at the time */
	__u64 dropped;
	__u32 ifindex;
	__u32 dry_run;
};
_Static_assert(sizeof(struct fg_event) == 72, "abi");

/* fg_event.banned: bits, so events of one source can be or'ed together. */
#define FG_EV_BAN_DONE	 0x1 /* banned (in dry-run: would have been) */
#define FG_EV_BAN_FAILED 0x2 /* a ban was due but the ban map refused it (full) */

/* Per-CPU per-rule counters (array indexed by rule id). */
struct fg_rule_stat {
	__u64 new_flows;	     /* new flows seen by the rule */
	__u64 passed;		     /* new flows admitted */
	__u64 dropped[FG_LEVEL_MAX]; /* new flows dropped, by level */
	__u64 vouched_passed;	     /* under attack, admitted only by a vouch */
};
_Static_assert(sizeof(struct fg_rule_stat) == 48, "abi");

/* Per-CPU counters of things that are not packets (array indexed by these). */
enum fg_misc {
	FG_M_EVENTS = 0,	/* violation events written to the ring buffer */
	FG_M_EVENTS_LOST = 1,	/* events not written: ring buffer full */
	FG_M_BANS_AUTO = 2,	/* bans the program made itself */
	FG_M_ATTACKS = 3,	/* times a rule entered under-attack mode */
	FG_M_STATE_SKIPPED = 4, /* unverified sources refused new state under attack */
	FG_M_VERIFIED = 5,	/* sources the egress side marked verified */
	FG_M_BANS_FAILED = 6,	/* bans the program could not make (ban map full) */
	/* SYN cookies: SYN-ACKs sent (XDP_TX); ACKs with a valid cookie
	 * passed; ACKs to a listener without one dropped; sources verified by
	 * a valid one; SYNs not answered over syn_cookies.max_rate; SYNs a
	 * cookie was wanted for but not made (no listener, IP options or
	 * extension headers, data, bad checksum, the kernel declined): those
	 * took the rule's ordinary path. */
	FG_M_COOKIES_SENT = 7,
	FG_M_COOKIE_ACKS_VALID = 8,
	FG_M_COOKIE_ACKS_BAD = 9,
	FG_M_COOKIE_VERIFIED = 10,
	FG_M_COOKIES_CAPPED = 11,
	FG_M_COOKIES_DECLINED = 12,
	FG_M_MAX = 16,
};

/* Size of the port -> rule table: one half holds tcp then udp ports. */
#define FG_PORT_SLOTS (2 * 65536)

#endif /* FLOODGATE_ABI_H */
