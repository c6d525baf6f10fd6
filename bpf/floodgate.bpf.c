// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floodgate: drop floods of new TCP/UDP flows at the NIC.
 *
 * XDP (ingress): parse, check the source against deny / allow / ban, find
 * the rule of (protocol, destination port), and admit a new flow only
 * within the per-address, per-prefix and global token buckets of the rule.
 * TC (egress): mark the addresses the host is really talking to as
 * verified, which is what lets them through while a rule is under attack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <floodgate/abi.h>

#include "maps.h"
#include "parse.h"
#include "limit.h"
#include "cookie.h"

#define TC_ACT_OK 0
#define EEXIST	  17 /* what a BPF_NOEXIST update of a present key returns, negated */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Everything one packet's decision needs, passed to the helpers. */
struct ctx {
	struct pkt p;
	const struct fg_config *cfg;
	const struct fg_rule *rule;
	__u32 rule_id;
	__u32 ifindex;
	/* CLOCK_MONOTONIC ns: the coarse clock (now_lag() behind at most) until
	 * exact_now() reads the precise one; exact says which */
	__u64 now;
	__u32 l4off;   /* offset of the L4 header in the frame */
	/* the source is verified: VER_TCP (TCP proof within verified_ttl),
	 * VER_VOUCHED (only a vouch holds), 0 not, -1 not looked up yet */
	__s8 verified;
	bool exact;
};

#define VER_TCP	    1
#define VER_VOUCHED 2

/* new_flow()'s reason | this: answer the SYN with a cookie if one can be made. */
#define WANT_COOKIE 0x100

/*
 * The clock of every timestamp in the maps (CLOCK_MONOTONIC, as user space
 * reads it). A take the coarse clock would refuse, and every take from a
 * bucket whose burst lasts less than the coarse clock's lag, is decided at
 * this clock: the coarse one moves once per tick, which alone would cap a
 * bucket at burst x HZ admissions per second whatever its rate. Measured in
 * docs/performance.md.
 */
static __always_inline __u64 fg_now(void)
{
	return bpf_ktime_get_ns();
}

/* now - then, or 0 when then is later: another CPU may have stamped an
 * entry after this CPU read its clock, and the difference must not wrap. */
static __always_inline __u64 since(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

/*
 * The new-flow and UDP paths start from the coarse clock (a few ns where
 * the precise one costs 25-110) and read the precise one only when a bucket
 * may take a token. Everything else they decide (under attack, verified,
 * a UDP flow's idle time, the event interval) is safe a tick late.
 */
static __always_inline void coarse_now(struct ctx *c)
{
	c->now = bpf_ktime_get_coarse_ns();
	c->exact = false;
}

/* The coarse clock's tick (the agent writes it), or the longest there is. */
static __always_inline __u64 tick(const struct ctx *c)
{
	return c->cfg->tick_us ? (__u64)c->cfg->tick_us * 1000 : FG_TICK_MAX_NS;
}

/* Two ticks: the margin of the coarse-clock drop on a timely tick. */
static __always_inline __u64 two_ticks(const struct ctx *c)
{
	return 2 * tick(c);
}

/*
 * The precise clock, read at most once per packet. It is never behind the
 * coarse one, so c->now only moves forward. The difference is the coarse
 * clock's lag right now: a lag beyond two ticks (a slow or preempted
 * timekeeping CPU, an emulated machine) is kept in the rule's global state,
 * and widens the coarse-clock drop's margin for FG_LAG_HOLD_NS. Written only
 * when it grows or the hold ended: no store per packet.
 */
static __always_inline __u64 exact_now(struct ctx *c, struct fg_global_state *gs)
{
	__u64 coarse = c->now, lag;

	if (c->exact)
		return c->now;
	c->now = fg_now();
	c->exact = true;
	lag = since(c->now, coarse);
	if (gs && lag > two_ticks(c) &&
	    (lag > gs->lag_ns || since(c->now, gs->lag_at_ns) > FG_LAG_HOLD_NS)) {
		gs->lag_ns = lag;
		gs->lag_at_ns = c->now;
	}
	return c->now;
}

/*
 * How far c->now may be behind the precise clock: none once it is the
 * precise one; while it is the coarse clock's, two ticks, or a tick more
 * than the largest lag the rule saw within FG_LAG_HOLD_NS. The coarse clock
 * is stamped by the tick handler, which runs late: in this VM (HZ=250) 4-5 %
 * of reads were more than one tick (4 ms) behind, up to 4.2 ms; in a guest
 * under software emulation far more. A lag beyond the margin before any
 * packet saw it could drop one SYN of a source a few ms before its next
 * token, or stamp a take on the coarse clock that much early.
 */
static __always_inline __u64 now_lag(const struct ctx *c, const struct fg_global_state *gs)
{
	__u64 m = two_ticks(c), seen;

	if (c->exact)
		return 0;
	if (gs && since(c->now, gs->lag_at_ns) <= FG_LAG_HOLD_NS) {
		seen = gs->lag_ns + m / 2;
		if (seen > m)
			m = seen;
	}
	return m;
}

static __always_inline void count_misc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&misc, &idx);

	if (v)
		*v += 1;
}

/*
 * bucket_take() for this packet: refused on the coarse clock when the
 * refusal is certain (most of a flood's packets never pay for the precise
 * clock), or when the coarse clock as read refuses it while the source
 * floods (now < flood_until): its next token goes to one of its next
 * packets (bucket_margin()). The margin for the clock's lag is for a client
 * whose next SYN comes a second later: a flood's next packet does not.
 * Taken on the coarse clock when it admits there and the burst outlasts
 * the lag (bucket_admits_early(): a client inside its limit never pays for
 * the precise clock). Else the precise clock decides.
 */
static __always_inline bool take(struct ctx *c, struct fg_global_state *gs, __u64 *tat,
				 const struct fg_limit *l, __u64 flood_until)
{
	__u64 now;

	switch (bucket_clock(*(volatile __u64 *)tat, l, c->now, now_lag(c, gs), flood_until)) {
	case BUCKET_REFUSE:
		return false;
	case BUCKET_COARSE:
		now = c->now;
		break;
	default:
		now = exact_now(c, gs);
	}
	return bucket_take(tat, l, now);
}

/* Count the packet under reason and turn the reason into a verdict. */
static __always_inline int verdict(struct xdp_md *xdp, const struct fg_config *cfg, __u32 reason)
{
	bool drop = fg_reason_drops(reason) && !(cfg && (cfg->flags & FG_CFG_F_DRY_RUN));
	__u32 idx = FG_STAT_INDEX(xdp->ingress_ifindex, reason);
	struct fg_stat *st = bpf_map_lookup_elem(&stats, &idx);

	if (st) {
		st->packets[drop] += 1;
		st->bytes[drop] += xdp->data_end - xdp->data;
	}
	if (reason == FG_R_TX_SYN_COOKIE)
		return XDP_TX;
	return drop ? XDP_DROP : XDP_PASS;
}

static __always_inline void lpm_key_of(const struct pkt *p, struct fg_lpm_key *k)
{
	k->prefixlen = 128;
	if (p->family == FG_AF_INET) {
		k->addr[0] = 0;
		k->addr[1] = 0;
		k->addr[2] = bpf_htonl(0xffff);
		k->addr[3] = p->saddr[0];
	} else {
		__builtin_memcpy(k->addr, p->saddr, 16);
	}
}

/* The mask of word j (network order) of a prefix of plen bits: the word's
 * first plen - 32 j bits, without a branch. */
static __always_inline __u32 prefix_mask(__u32 plen, __u32 j)
{
	__u32 bits = plen > j * 32 ? plen - j * 32 : 0;

	bits = bits < 32 ? bits : 32;
	return bpf_htonl((__u32)(0xffffffff00000000ULL >> bits));
}

/* Address (prefixlen 0 = full) of the source as a bucket key. */
static __always_inline void src_key_of(const struct pkt *p, __u8 prefixlen, __u16 rule,
				       struct fg_src_key *k)
{
	__u32 full = p->family == FG_AF_INET ? 32 : 128;
	int i;

	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->rule = rule;
	k->prefixlen = prefixlen && prefixlen < full ? prefixlen : full;
	if (p->family == FG_AF_INET) {
		k->addr[0] = p->saddr[0] & prefix_mask(k->prefixlen, 0);
		return;
	}
#pragma unroll
	for (i = 0; i < 4; i++)
		k->addr[i] = p->saddr[i] & prefix_mask(k->prefixlen, i);
}

/* A map behind the state filter (src_state, prefix_state, verified,
 * udp_flows, bans_pfx, allow_addr, deny_addr) may hold the key of filter
 * bit bit (abi.h, FG_SEEN_*): the bit is set in the generation word 0
 * names (or the filter cannot be read). A clear bit saves the lookup of a
 * key no map holds: each packet of a spoofed random-source flood. */
static __always_inline bool seen_maybe(__u32 bit)
{
	__u32 idx = 0;
	__u64 *w = bpf_map_lookup_elem(&seen, &idx);

	if (!w)
		return true;
	idx = fg_seen_word((__u32)*w, bit);
	w = bpf_map_lookup_elem(&seen, &idx);
	return !w || (*w >> (bit & 63)) & 1;
}

/* Insert into a map behind the state filter: the key's bit (bit) first, in
 * both generations (the one tested now and the one the agent may be
 * rebuilding), so that no key a map holds is ever skipped. Read first: no
 * store, and no cache line taken from the other CPUs, when the bit is
 * already set. Returns bpf_map_update_elem()'s result. */
static __always_inline long seen_insert(void *map, const void *key, const void *val, __u64 flags,
					__u32 bit)
{
	__u32 gen, idx;
	__u64 m = 1ULL << (bit & 63), *w;

#pragma unroll
	for (gen = 0; gen < 2; gen++) {
		idx = fg_seen_word(gen, bit);
		w = bpf_map_lookup_elem(&seen, &idx);
		if (w && !(*w & m))
			__sync_fetch_and_or(w, m);
	}
	return bpf_map_update_elem(map, key, val, flags);
}

/* An allow/deny entry's value is its family: IPv4 is stored under
 * ::ffff:0:0/96, inside IPv6 prefixes such as ::/0, which must not match it. */
static __always_inline bool list_has(void *trie, const struct fg_lpm_key *k, __u32 family)
{
	__u32 *v = bpf_map_lookup_elem(trie, k);

	return v && *v == family;
}

/* The address of k (a full-length LPM key on the stack) is in a list's
 * hash of exact addresses (allow_addr, deny_addr) for its family. */
static __always_inline bool addr_listed(void *hash, const struct fg_lpm_key *k, __u32 family)
{
	__u32 *v = bpf_map_lookup_elem(hash, k->addr);

	return v && *v == family;
}

/*
 * What the allow and deny lists say of the source (k: its full-length LPM
 * key): FG_R_DROP_DENY, FG_R_PASS_ALLOW or PARSE_OK. Deny first; in each
 * list, an address is one hash lookup (none for most addresses: one state
 * filter bit stands for both hashes) and the trie holds only prefixes.
 * Empty maps cost nothing: the agent flags the ones that have entries. A
 * global function, verified once: inlined, its branches doubled the
 * instructions the verifier walked for fg_xdp (6.18).
 */
__noinline int fg_listed(const struct fg_lpm_key *k, const struct fg_config *cfg, __u32 family)
{
	struct fg_lpm_key key;
	__u32 flags;

	if (!k || !cfg)
		return PARSE_OK;
	/* On the stack: 6.1 takes no argument memory as a map key. */
	key = *k;
	flags = cfg->flags;
	if ((flags & (FG_CFG_F_HAS_DENY_ADDR | FG_CFG_F_HAS_ALLOW_ADDR)) &&
	    !seen_maybe(fg_seen_bit_list(key.addr)))
		flags &= ~(FG_CFG_F_HAS_DENY_ADDR | FG_CFG_F_HAS_ALLOW_ADDR);
	if ((flags & FG_CFG_F_HAS_DENY_ADDR) && addr_listed(&deny_addr, &key, family))
		return FG_R_DROP_DENY;
	if ((flags & FG_CFG_F_HAS_DENY) && list_has(&deny_lpm, &key, family))
		return FG_R_DROP_DENY;
	if ((flags & FG_CFG_F_HAS_ALLOW_ADDR) && addr_listed(&allow_addr, &key, family))
		return FG_R_PASS_ALLOW;
	if ((flags & FG_CFG_F_HAS_ALLOW) && list_has(&allow_lpm, &key, family))
		return FG_R_PASS_ALLOW;
	return PARSE_OK;
}

/* A ban found for the source holds now. Read on the coarse clock: a ban
 * lasts at most a tick longer, and a banned source's packet never pays for
 * the precise one (25-110 ns here, 3 for the coarse one). */
static __always_inline bool ban_live(const struct fg_ban *ban)
{
	return !ban->expires_ns || bpf_ktime_get_coarse_ns() < ban->expires_ns;
}

/* bans_pfx may hold a prefix of the source (k: its full-length LPM key, of
 * family index fi): the prefix ban cover marks its unit, or the family has
 * a length the cover does not mark (IPv6 below FG_COVER6_MIN_PLEN; lengths
 * are listed longest first). One bit test, whatever the number of prefix
 * bans and lengths. A global function, called while the family has prefix
 * bans: inlined, it cost fg_xdp 16 % more instructions processed (6.18),
 * and inside fg_prefix_banned() 6 %, for a nanosecond either way. */
_Static_assert(FG_BAN_PLENS == 8, "fg_prefix_ban_possible()'s mask");
__noinline int fg_prefix_ban_possible(const struct fg_lpm_key *k, const struct fg_config *cfg,
				      __u32 fi)
{
	__u32 n, idx = 0, bit;
	__u64 *w;

	if (!k || !cfg)
		return 1;
	if (fi) {
		n = cfg->ban_nplens[1];
		if (!n || n > FG_BAN_PLENS)
			return 1;
		/* The shortest length, at n - 1. 6.1's verifier loses n's
		 * bounds on the 32-bit subtraction: the mask gives them back
		 * (the asm keeps clang from folding it away). */
		n -= 1;
		asm volatile("%0 &= 7" : "+r"(n));
		if (cfg->ban_plens[1][n] < FG_COVER6_MIN_PLEN)
			return 1;
	}
	bit = fg_cover_bit(fi, k->addr);
	w = bpf_map_lookup_elem(&seen, &idx);
	if (!w)
		return 1;
	idx = fg_cover_word((__u32)*w, bit);
	w = bpf_map_lookup_elem(&seen, &idx);
	return !w || (*w >> (bit & 63)) & 1;
}

/* The source (k: its full-length LPM key) is in a prefix the bans_pfx hash
 * bans now: one lookup per prefix length the agent lists as in use for the
 * family (cfg->ban_plens) whose key has its state filter bit, longest
 * first; the longest live ban applies (an expired one, not swept yet, hides
 * no shorter live one, as for address bans). A global function: the
 * verifier checks it once, on its own (inlined, the paths of its loop
 * multiplied those of everything after it past the 1M-instruction limit). */
__noinline int fg_prefix_banned(const struct fg_lpm_key *k, const struct fg_config *cfg,
				__u32 family)
{
	__u32 fi = family == FG_AF_INET6, n, i, j;
	struct fg_ban_pfx_key pk;
	struct fg_ban *ban;

	if (!k || !cfg)
		return 0;
	n = cfg->ban_nplens[fi];
	for (i = 0; i < FG_BAN_PLENS && i < n; i++) {
		__u32 plen = cfg->ban_plens[fi][i];

		pk.family = family;
		pk.prefixlen = plen;
		pk.pad0 = 0;
#pragma unroll
		for (j = 0; j < 4; j++)
			pk.addr[j] = k->addr[j] & prefix_mask(plen, j);
		/* The state filter knows the hash holds no such prefix. */
		if (!seen_maybe(fg_seen_bit_ban_pfx(&pk)))
			continue;
		ban = bpf_map_lookup_elem(&bans_pfx, &pk);
		if (ban && ban_live(ban))
			return 1;
	}
	return 0;
}

/* fg_ban_slot() as an index the verifier can bound: clang folds the mask
 * into the xor before it, whose bounds 6.1 loses (the asm keeps it last). */
static __always_inline __u32 ban_slot(const __u32 addr[4])
{
	__u32 slot = fg_ban_slot(addr);

	asm volatile("%0 &= %1" : "+r"(slot) : "i"(FG_BAN_FILTER_SLOTS - 1));
	return slot;
}

/* bans_addr may hold addr: its ban filter slot counts an entry (or the
 * filter cannot be read, which never happens to an array). 4 MB, cheap
 * to test for every packet of a flood, exact, and 0 for most with few
 * bans. */
static __always_inline bool address_ban_possible(const __u32 addr[4])
{
	__u32 zero = 0;
	struct fg_ban_filter *f = bpf_map_lookup_elem(&ban_filter, &zero);

	return !f || f->n[ban_slot(addr)];
}

/*
 * The source (k: its full-length LPM key), whose ban filter slot counts a
 * ban, is banned now by an address ban. A global function: the lookup
 * inlined in fg_xdp cost the verifier 15 % more instructions processed
 * (6.18).
 */
__noinline int fg_address_banned(const struct fg_lpm_key *k)
{
	struct fg_ban_key key;
	struct fg_ban *ban;

	if (!k)
		return 0;
	/* On the stack: 6.1 takes no argument memory as a map key. */
	__builtin_memcpy(key.addr, k->addr, sizeof(key.addr));
	ban = bpf_map_lookup_elem(&bans_addr, &key);
	return ban && ban_live(ban);
}

/* Deny, allow, ban on the L3 source. Returns a reason or PARSE_OK. */
static __always_inline __u32 check_lists(const struct pkt *p, const struct fg_config *cfg)
{
	struct fg_lpm_key k;
	struct fg_ban *ban;
	__u32 reason;

	lpm_key_of(p, &k);
	/* Lists without entries cost one test of the flags. */
	if (cfg->flags & FG_CFG_F_LISTS) {
		reason = fg_listed(&k, cfg, p->family);
		if (reason != PARSE_OK)
			return reason;
	}
	/* The address's own ban is one hash lookup, whatever the number of
	 * bans, and none while no ban shares the address's ban filter slot;
	 * a prefix's none while the prefix ban cover's bit of the address is
	 * clear, and then one per length whose state filter bit is set
	 * (fg_prefix_banned()); the trie of prefixes is walked only while it
	 * holds any. An expired address ban (not swept yet) does not hide a
	 * live prefix. */
	if (address_ban_possible(k.addr) && fg_address_banned(&k))
		return FG_R_DROP_BAN;
	if (cfg->ban_nplens[p->family == FG_AF_INET6] &&
	    fg_prefix_ban_possible(&k, cfg, p->family == FG_AF_INET6) &&
	    fg_prefix_banned(&k, cfg, p->family))
		return FG_R_DROP_BAN;
	if (cfg->flags & FG_CFG_F_HAS_BAN_PREFIX) {
		ban = bpf_map_lookup_elem(&bans, &k);
		if (ban && ban_live(ban))
			return FG_R_DROP_BAN;
	}
	return PARSE_OK;
}

/*
 * What the verified map says of k now: VER_TCP, VER_VOUCHED or 0. A global
 * function, verified once on its own: is_verified() is inlined on several
 * paths of fg_xdp, and the filter's branches in each multiplied the states
 * the verifier walked (+30 % instructions processed on 6.18).
 */
__noinline int fg_verified_by(const struct fg_src_key *k, __u64 now, __u64 ttl_ns)
{
	struct fg_src_key key;
	struct fg_verified *v;

	if (!k)
		return 0;
	/* On the stack: 6.1 takes no argument memory as a map key. */
	key = *k;
	v = bpf_map_lookup_elem(&verified, &key);
	/* A stamp ahead of our now (written by a CPU that read the clock
	 * after us) is fresh, not 2^64 ns old; 0 is "no TCP proof", not a
	 * proof made at boot. */
	if (v && v->tcp_ns && since(now, v->tcp_ns) < ttl_ns)
		return VER_TCP;
	if (v && now < v->until_ns)
		return VER_VOUCHED;
	return 0;
}

/* Looked up at most once per packet (under attack, and again when a
 * violation would ban). */
static __always_inline bool is_verified(struct ctx *c)
{
	struct fg_src_key k;

	if (c->verified >= 0)
		return c->verified;
	src_key_of(&c->p, 0, 0, &k);
	/* The filter inline (a spoofed source's answer), the call only for
	 * a source the map may hold. */
	c->verified = seen_maybe(fg_seen_bit_verified(&k))
			      ? (__s8)fg_verified_by(&k, c->now, c->cfg->verified_ttl_ns)
			      : 0;
	return c->verified;
}

/* Ban the packet's source address for the rule's ban duration; false when
 * the ban map refused it (full): the caller reports a failed ban. */
static __always_inline bool ban_source(struct ctx *c)
{
	struct fg_ban b = {
		.expires_ns = c->now + c->rule->ban_duration_ns,
		.origin = FG_BAN_AUTO,
		.rule = c->rule_id,
	};
	struct fg_ban_filter *f;
	struct fg_lpm_key lk;
	__u32 zero = 0, slot;
	bool created;
	long err;

	/* An address ban: the hash, never the prefix trie (the agent's).
	 * Its filter slot counts it before it is in the map (fg_ban_filter);
	 * replacing an entry another writer counted gives the count back. */
	lpm_key_of(&c->p, &lk);
	slot = ban_slot(lk.addr);
	f = bpf_map_lookup_elem(&ban_filter, &zero);
	if (f)
		__sync_fetch_and_add(&f->n[slot], 1);
	err = bpf_map_update_elem(&bans_addr, lk.addr, &b, BPF_NOEXIST);
	created = !err;
	if (err == -EEXIST)
		err = bpf_map_update_elem(&bans_addr, lk.addr, &b, BPF_EXIST);
	if (f && !created)
		__sync_fetch_and_sub(&f->n[slot], 1);
	if (!err) {
		count_misc(FG_M_BANS_AUTO);
		return true;
	}
	count_misc(FG_M_BANS_FAILED);
	return false;
}

static __always_inline void emit_event(struct ctx *c, const struct fg_src_key *k, __u32 reason,
				       __u32 level, __u32 violations, __u32 banned, __u64 new_flows,
				       __u64 dropped)
{
	struct fg_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_misc(FG_M_EVENTS_LOST);
		return;
	}
	e->ts_ns = c->now;
	e->src = *k;
	e->reason = reason;
	e->level = level;
	e->violations = violations;
	e->banned = banned;
	e->new_flows = new_flows;
	e->dropped = dropped;
	e->ifindex = c->ifindex;
	e->dry_run = !!(c->cfg->flags & FG_CFG_F_DRY_RUN);
	bpf_ringbuf_submit(e, 0);
	count_misc(FG_M_EVENTS);
}

static __always_inline bool is_verified(struct ctx *c);

/*
 * A source (or prefix) went over its limit. At most once per event interval
 * this counts a violation, may ban it, and reports it: a flood is one
 * violation per second, not one per packet, so neither the ring buffer nor
 * the violation count runs away with the packet rate.
 *
 * Bans are for addresses only, never for a verified one nor one of
 * fg_addr_never_banned(): SYNs can be spoofed, and a flood forged "from" a
 * client the host talks to (or from its neighbours' /24, its router, its
 * metadata service) must not get that address banned. Its new flows are
 * still held to its limit. In dry-run the ban is reported, not made.
 */
static __always_inline void violation(struct ctx *c, struct fg_src_state *st,
				      const struct fg_src_key *k, __u32 reason, __u32 level,
				      __u64 held)
{
	__u32 now = FG_STAMP(c->now), last = st->last_event, v, banned = 0;
	/* rounded up: at most one violation per interval, never two */
	__u64 interval = (c->cfg->event_interval_ns + (1ULL << FG_STAMP_SHIFT) - 1) >>
			 FG_STAMP_SHIFT;

	/* Signed: a stamp another CPU wrote after our clock read is recent,
	 * not 52 days old. */
	if (last && (__s32)(now - last) < (__s64)interval)
		return;
	/* Only the CPU that moves last_event reports this interval. */
	if (__sync_val_compare_and_swap(&st->last_event, last, now) != last)
		return;
	/* 0 is "no window yet", not a window that opened at boot: read as a
	 * time, it would end ban_window_ns after boot, and on a host up less
	 * than that the first window would be cut short. */
	if (!st->viol_start ||
	    (__s32)(now - st->viol_start) > (__s64)(c->rule->ban_window_ns >> FG_STAMP_SHIFT)) {
		st->viol_start = now;
		st->violations = 0;
	}
	v = __sync_add_and_fetch(&st->violations, 1);
	if ((c->rule->flags & FG_RULE_F_BAN) && level == FG_LEVEL_SOURCE &&
	    v >= c->rule->ban_after && !fg_addr_never_banned(c->p.family, c->p.saddr) &&
	    !is_verified(c)) {
		banned = FG_EV_BAN_DONE;
		if (!(c->cfg->flags & FG_CFG_F_DRY_RUN) && !ban_source(c))
			banned = FG_EV_BAN_FAILED;
		st->violations = 0;
	}
	/* with the drops this CPU holds (another CPU's come with its tick) */
	emit_event(c, k, reason, level, v, banned, fg_src_new_flows(st) + held, st->dropped + held);
}

/* a and b are the same key (one branch for the verifier, not seven). */
static __always_inline bool src_key_eq(const struct fg_src_key *a, const struct fg_src_key *b)
{
	return !((a->family ^ b->family) | (a->prefixlen ^ b->prefixlen) | (a->rule ^ b->rule) |
		 (a->addr[0] ^ b->addr[0]) | (a->addr[1] ^ b->addr[1]) |
		 (a->addr[2] ^ b->addr[2]) | (a->addr[3] ^ b->addr[3]));
}

/* A drop tally slot holds (k, level). */
static __always_inline bool tally_holds(const struct fg_drop_tally *t, const struct fg_src_key *k,
					__u32 level)
{
	return t->level == level && src_key_eq(&t->key, k);
}

/*
 * This CPU's drop tally slot for (k, level) in the set of state filter bit
 * bit: the way holding it, else a way holding no pending drops (the caller
 * takes it), else NULL.
 */
static __always_inline struct fg_drop_tally *tally_of(__u32 bit, const struct fg_src_key *k,
						      __u32 level)
{
	__u32 slot = fg_drop_tally_slot(bit), other = slot + 1;
	struct fg_drop_tally *t = bpf_map_lookup_elem(&drop_tally, &slot), *u;

	if (!t || tally_holds(t, k, level))
		return t;
	u = bpf_map_lookup_elem(&drop_tally, &other);
	if (!u || tally_holds(u, k, level))
		return u;
	return !t->pending ? t : !u->pending ? u : NULL;
}

/*
 * Count a flow the level dropped for st (key k, state filter bit bit) in
 * this CPU's tally (struct fg_drop_tally), added to st->dropped once the
 * tally is a tick old. A flood from one source arriving on several CPUs
 * then shares the entry's line for reading only: a shared atomic per
 * packet cost 212 ns per packet per CPU with two CPUs on one source, 95
 * without (tests/bpf multi-CPU). Per-CPU values: no other writer. Returns
 * the entry's drops this CPU still holds.
 */
static __always_inline __u64 count_dropped(struct ctx *c, struct fg_src_state *st,
					   const struct fg_src_key *k, __u32 bit, __u32 level)
{
	struct fg_drop_tally *t = tally_of(bit, k, level);

	/* Other entries' drops wait in every way of the set until their next
	 * drop on this CPU adds them. */
	if (!t) {
		__sync_fetch_and_add(&st->dropped, 1);
		return 0;
	}
	if (!tally_holds(t, k, level)) {
		t->key = *k;
		t->level = level;
		t->added_ns = c->now;
	}
	t->pending += 1;
	if (since(c->now, t->added_ns) >= tick(c)) {
		__sync_fetch_and_add(&st->dropped, t->pending);
		t->pending = 0;
		t->added_ns = c->now;
	}
	/* Refused on the coarse clock: so is the rest of this tick
	 * (refused_this_tick()); a precise refusal says nothing of the next
	 * packet's precise now. */
	t->refused_tick = c->exact ? 0 : c->now;
	return t->pending;
}

/*
 * This CPU refused the source (key k, state filter bit bit) on the coarse
 * clock within the current tick: the same coarse now, bucket and margin
 * refuse it again, so the packet is counted in the tally and refused
 * without the bucket's lookup. What may change within the tick (a reload's
 * limits, a token another CPU's precise clock saw due, a deleted entry)
 * applies from the next tick, when the first packet takes the whole path
 * again (and counts a violation, adds the tally, stamps refused_ns).
 */
static __always_inline bool refused_this_tick(struct ctx *c, const struct fg_src_key *k,
					      __u32 bit)
{
	__u32 slot = fg_drop_tally_slot(bit);
	struct fg_drop_tally *t;

	if (c->exact)
		return false;
	/* The tick first: it tells most other sources' ways apart. */
	t = bpf_map_lookup_elem(&drop_tally, &slot);
	if (!t)
		return false;
	if (t->refused_tick != c->now || !tally_holds(t, k, FG_LEVEL_SOURCE)) {
		slot += 1;
		t = bpf_map_lookup_elem(&drop_tally, &slot);
		if (!t || t->refused_tick != c->now || !tally_holds(t, k, FG_LEVEL_SOURCE))
			return false;
	}
	t->pending += 1;
	return true;
}

/* A new entry's value, from .rodata: not a 32-byte zeroed copy on the stack
 * of each inlined level_take() (fg_xdp's stack, with a cookie subprogram's,
 * must stay within 512 bytes). */
static const struct fg_src_state fresh_state = {};

/*
 * One bucket level (address or prefix). Returns true if the flow may go on;
 * *out is the state a token was taken from (to refund if a later level
 * refuses), NULL if none. Under attack an unverified source without state
 * gets none.
 */
static __always_inline bool level_take(struct ctx *c, struct fg_global_state *gs, void *map,
				       const struct fg_limit *lim,
				       __u8 prefixlen, __u32 level, bool no_new_state,
				       struct fg_src_state **out)
{
	struct fg_src_key k;
	struct fg_src_state *st;
	__u64 held;
	__u32 bit;

	*out = NULL;
	if (!lim->rate)
		return true;
	src_key_of(&c->p, prefixlen, c->rule_id, &k);
	bit = fg_seen_bit(&k);
	if (level == FG_LEVEL_SOURCE && refused_this_tick(c, &k, bit))
		return false;
	st = seen_maybe(bit) ? bpf_map_lookup_elem(map, &k) : NULL;
	if (!st) {
		if (no_new_state) {
			count_misc(FG_M_STATE_SKIPPED);
			return true;
		}
		/* Another CPU may insert the same key first: accept -EEXIST
		 * and use whichever entry is in the map. */
		seen_insert(map, &k, &fresh_state, BPF_NOEXIST, bit);
		st = bpf_map_lookup_elem(map, &k);
		if (!st)
			return true;
	}
	/* A source refused within the last tick floods. */
	if (take(c, gs, &st->tat_ns, lim, st->refused_ns + tick(c))) {
		__sync_fetch_and_add(&st->taken, 1);
		*out = st;
		return true;
	}
	/* The entry is written once per tick, not per packet: the drop goes
	 * to this CPU's tally, the time of the refusal is a coarse now (a
	 * precise one is ahead of the coarse reads of its tick). */
	held = count_dropped(c, st, &k, bit, level);
	if (st->refused_ns < c->now)
		st->refused_ns = c->now;
	violation(c, st, &k, level == FG_LEVEL_SOURCE ? FG_R_DROP_SOURCE : FG_R_DROP_PREFIX, level,
		  held);
	return false;
}

/* The rule's global budget; refusal puts the rule under attack. */
static __always_inline bool global_take(struct ctx *c, struct fg_global_state *gs,
					const struct fg_rule_stat *rs, bool attack)
{
	__u64 until;

	/* Under attack the budget floods: its tokens go to the next packets,
	 * whichever they are, on time or up to the lag late. */
	if (take(c, gs, &gs->tat_ns, &c->rule->global, gs->attack_until_ns))
		return true;
	until = c->now + c->cfg->attack_hold_ns;
	/* Refresh the deadline only when it moved noticeably: a store per
	 * dropped packet would bounce the cache line between CPUs. */
	if (gs->attack_until_ns < until - c->cfg->attack_hold_ns / 4) {
		gs->attack_until_ns = until;
		if (!attack) {
			__sync_fetch_and_add(&gs->attacks, 1);
			count_misc(FG_M_ATTACKS);
		}
	}
	if (!gs->last_event_ns || since(c->now, gs->last_event_ns) >= c->cfg->event_interval_ns) {
		struct fg_src_key k;

		/* One event per rule per interval; the source it names is
		 * a sample of the flood. */
		gs->last_event_ns = c->now;
		src_key_of(&c->p, 0, c->rule_id, &k);
		emit_event(c, &k, FG_R_DROP_GLOBAL, FG_LEVEL_GLOBAL, 0, 0, rs->new_flows,
			   rs->dropped[FG_LEVEL_GLOBAL]);
	}
	return false;
}

/* An unknown source's state, made when the global budget admits it under
 * attack: its bucket as level_take() would leave it with this flow taken
 * at tat (a fresh bucket always admits one); another CPU's insert wins. A
 * global function, verified once: inlined, the new_flow() paths it joins
 * cost 6.18's verifier a third more instructions. */
__noinline int fg_admitted_state(const struct fg_src_key *k, __u64 tat)
{
	struct fg_src_state st = { .tat_ns = tat, .taken = 1 };
	struct fg_src_key key;

	if (!k)
		return 0;
	/* On the stack: 6.1 takes no argument memory as a map key. */
	key = *k;
	return seen_insert(&src_state, &key, &st, BPF_NOEXIST, fg_seen_bit(&key));
}

/* Decide on a new TCP/UDP flow. Returns the reason. */
static __always_inline __u32 new_flow(struct ctx *c)
{
	struct fg_src_state *src = NULL, *pfx = NULL;
	struct fg_global_state *gs;
	struct fg_rule_stat *rs;
	bool attack, unverified = false;
	__u32 want = 0;
	__u8 plen;
	__u32 reason = FG_R_PASS_NEW_FLOW;

	gs = bpf_map_lookup_elem(&global_state, &c->rule_id);
	rs = bpf_map_lookup_elem(&rule_stats, &c->rule_id);
	if (!gs || !rs)
		return FG_R_PASS_NEW_FLOW;
	rs->new_flows += 1;

	attack = c->now < gs->attack_until_ns;
	/* The verified map is read only under attack: in peace every source
	 * is treated alike and this lookup is not paid. */
	if (attack)
		unverified = !is_verified(c);

	if (!level_take(c, gs, &src_state, &c->rule->per_source, 0, FG_LEVEL_SOURCE,
			attack && unverified, &src)) {
		rs->dropped[FG_LEVEL_SOURCE] += 1;
		return FG_R_DROP_SOURCE;
	}
	plen = c->p.family == FG_AF_INET ? c->cfg->ipv4_prefix : c->cfg->ipv6_prefix;
	/* Spoofed SYNs can empty a prefix's bucket (its neighbours' forged
	 * sources): a source the host talks to passes it anyway, held to its
	 * own limit above. The verified map is read only on this refusal. */
	if (!level_take(c, gs, &prefix_state, &c->rule->per_prefix, plen, FG_LEVEL_PREFIX,
			attack && unverified, &pfx) &&
	    !is_verified(c)) {
		reason = FG_R_DROP_PREFIX;
		rs->dropped[FG_LEVEL_PREFIX] += 1;
		goto refund;
	}
	/* syn_cookies: always answers every SYN with a cookie; auto the
	 * unverified SYNs beyond the global budget, which are the ones a
	 * spoofed flood is made of. The budget is still charged, so that
	 * "under attack" means the same with cookies as without. The
	 * reason returned (with WANT_COOKIE) is the answer when no cookie
	 * can be made. FG_CFG_F_COOKIES is on while the agent has the kernel
	 * ready for cookies (tcp_syncookies=2); dry-run answers none. */
	if (c->p.l4proto == IPPROTO_TCP &&
	    (c->cfg->flags & (FG_CFG_F_COOKIES | FG_CFG_F_DRY_RUN)) == FG_CFG_F_COOKIES)
		want = c->rule->flags & (FG_RULE_F_COOKIE_AUTO | FG_RULE_F_COOKIE_ALWAYS);
	/* Under attack the global budget is for unverified sources only:
	 * clients the host already talks to keep opening connections. */
	if (c->rule->global.rate && (!attack || unverified) && !global_take(c, gs, rs, attack)) {
		reason = FG_R_DROP_GLOBAL | (want ? WANT_COOKIE : 0);
		rs->dropped[FG_LEVEL_GLOBAL] += 1;
		/* Under attack an unverified source keeps its own token spent:
		 * given back, it was taken again by the next SYN, so a source
		 * flooding from its own address never went over its limit and
		 * was never banned (nor refused a cookie). A client retrying
		 * once a second spends nothing it will miss. The prefix's is
		 * given back: spoofed SYNs must not empty the bucket its
		 * verified clients pass through. */
		if (unverified)
			src = NULL;
		goto refund_prefix;
	}
	/* Under attack an unknown source got no state (a forged flood must not
	 * churn the maps); one the global budget admits gets it now, at most
	 * the budget's rate of them, so a real source's next flows are held
	 * to its own limit (stop 35's trial: a fresh address opened 391
	 * connections in 3 s of a 200/s budget, 5/s its own limit). */
	if (attack && unverified && !src && c->rule->per_source.rate) {
		struct fg_src_key k;

		src_key_of(&c->p, 0, c->rule_id, &k);
		fg_admitted_state(&k, c->now + c->rule->per_source.interval_ns);
	}
	rs->passed += 1;
	/* verified is -1 in peace (never looked up): one compare, no lookup. */
	if (c->verified == VER_VOUCHED && attack)
		rs->vouched_passed += 1;
	return FG_R_PASS_NEW_FLOW | (want & FG_RULE_F_COOKIE_ALWAYS ? WANT_COOKIE : 0);

refund_prefix:
	if (pfx)
		bucket_refund(&pfx->tat_ns, &c->rule->per_prefix);
refund:
	if (src)
		bucket_refund(&src->tat_ns, &c->rule->per_source);
	return reason;
}

static __always_inline bool rule_of(struct ctx *c, __u32 proto)
{
	__u32 half = c->cfg->active & 1;
	__u32 idx = half * FG_PORT_SLOTS + proto * 65536 + bpf_ntohs(c->p.dport);
	__u32 *id = bpf_map_lookup_elem(&port_rules, &idx);

	if (!id || *id >= FG_MAX_RULES)
		return false;
	c->rule_id = *id;
	idx = half * FG_MAX_RULES + *id;
	c->rule = bpf_map_lookup_elem(&rules, &idx);
	return c->rule != NULL;
}

/*
 * A segment that is not a SYN while some rule answers cookies: for an
 * unverified source on a rule whose cookies are on now, an ACK to a
 * listener must carry a cookie the listener issued. A valid one verifies
 * the source (its next SYNs and its UDP pass while the attack lasts).
 * The coarse clock is enough to tell "under attack" and the verified ttl,
 * and costs a few ns where bpf_ktime_get_ns() costs 25-110.
 */
static __always_inline __u32 cookie_ack(struct xdp_md *xdp, struct ctx *c)
{
	struct fg_global_state *gs;
	struct fg_src_key k;
	__u32 reason;

	if ((c->p.tcp_flags & (TCP_SYN | TCP_RST | TCP_ACK)) != TCP_ACK)
		return FG_R_PASS_ESTABLISHED;
	if (!rule_of(c, FG_PROTO_TCP) ||
	    !(c->rule->flags & (FG_RULE_F_COOKIE_AUTO | FG_RULE_F_COOKIE_ALWAYS)))
		return FG_R_PASS_ESTABLISHED;
	c->now = bpf_ktime_get_coarse_ns();
	if (!(c->rule->flags & FG_RULE_F_COOKIE_ALWAYS)) {
		gs = bpf_map_lookup_elem(&global_state, &c->rule_id);
		if (!gs || c->now >= gs->attack_until_ns)
			return FG_R_PASS_ESTABLISHED;
	}
	if (is_verified(c))
		return FG_R_PASS_ESTABLISHED;
	if (c->p.family == FG_AF_INET6)
		reason = fg_cookie_ack6(xdp, c->l4off);
	else
		reason = fg_cookie_ack4(xdp, c->l4off);
	if (reason == FG_R_PASS_COOKIE_ACK) {
		/* Not verified now: any vouch in the entry has ended, so a
		 * whole new value loses nothing. */
		struct fg_verified v = { .tcp_ns = c->now };

		src_key_of(&c->p, 0, 0, &k);
		if (seen_insert(&verified, &k, &v, BPF_ANY, fg_seen_bit_verified(&k)) == 0)
			count_misc(FG_M_COOKIE_VERIFIED);
	}
	return reason;
}

static __always_inline __u32 tcp_packet(struct xdp_md *xdp, struct ctx *c)
{
	__u8 f = c->p.tcp_flags;
	__u32 reason;
	int r;

	if (!(f & TCP_SYN) || (f & TCP_ACK)) {
		if (c->cfg->flags & FG_CFG_F_COOKIES)
			return cookie_ack(xdp, c);
		return FG_R_PASS_ESTABLISHED;
	}
	if (f & (TCP_FIN | TCP_RST))
		return FG_R_DROP_TCP_FLAGS;
	if (!rule_of(c, FG_PROTO_TCP))
		return FG_R_PASS_NEW_FLOW;
	coarse_now(c);
	reason = new_flow(c);
	if (!(reason & WANT_COOKIE))
		return reason;
	/* The coarse clock will do, when the path has not read the precise
	 * one (a spoofed source without state, refused by the global budget
	 * on the coarse clock): a timestamp behind the kernel's is what it
	 * wants, and the max_rate bucket's burst (a tenth of a second) is at
	 * least a tick's worth at any HZ, so a clock moving a tick at a time
	 * admits no fewer SYN-ACKs, and at most a tick's worth more. */
	if (c->p.family == FG_AF_INET6)
		r = fg_cookie_syn6(xdp, c->l4off, c->now);
	else
		r = fg_cookie_syn4(xdp, c->l4off, c->now);
	return r == FG_R_MAX ? reason & ~WANT_COOKIE : (__u32)r;
}

static __always_inline __u32 udp_packet(struct ctx *c)
{
	struct fg_udp_key k = {
		.family = c->p.family,
		.sport = c->p.sport,
		.dport = c->p.dport,
	};
	__u64 *seen;
	__u32 reason, bit;

	__builtin_memcpy(k.addr, c->p.saddr, 16);
	/* A flow seen within udp_idle of the coarse now is known: it may stay
	 * known a tick longer than udp_idle, and a refresh stamps it up to a
	 * tick early; neither matters against an idle time of seconds. A
	 * flow the filter says no map holds (each datagram of a spoofed
	 * flood) is new without the lookup. */
	coarse_now(c);
	bit = fg_seen_bit_udp(&k);
	seen = seen_maybe(bit) ? bpf_map_lookup_elem(&udp_flows, &k) : NULL;
	if (seen && since(c->now, *seen) < c->cfg->udp_idle_ns) {
		/* Refresh at most a few times per idle period, not per packet. */
		if (since(c->now, *seen) > c->cfg->udp_idle_ns / 8)
			*seen = c->now;
		return FG_R_PASS_UDP_KNOWN;
	}
	if (!rule_of(c, FG_PROTO_UDP))
		return FG_R_PASS_NEW_FLOW;
	reason = new_flow(c);
	if (fg_reason_drops(reason))
		return reason;
	/* A flow back after udp_idle is still in the map: stamped in place.
	 * An update replaces the whole entry (65 of a new flow's 170 ns in
	 * the XDP table); looked up again, not kept across new_flow(): on
	 * 6.1, fg_xdp's stack with a cookie subprogram's must stay <= 512. */
	seen = seen_maybe(bit) ? bpf_map_lookup_elem(&udp_flows, &k) : NULL;
	if (seen)
		*seen = c->now;
	else
		seen_insert(&udp_flows, &k, &c->now, BPF_ANY, bit);
	return reason;
}

SEC("xdp")
int fg_xdp(struct xdp_md *xdp)
{
	struct cursor cur = {
		.pos = (void *)(long)xdp->data,
		.end = (void *)(long)xdp->data_end,
	};
	struct ctx c = { .ifindex = xdp->ingress_ifindex, .verified = -1 };
	__u32 zero = 0, reason;

	c.cfg = bpf_map_lookup_elem(&settings, &zero);
	if (!c.cfg)
		return XDP_PASS;

	reason = parse_l3(&cur, &c.p);
	if (reason != PARSE_OK)
		return verdict(xdp, c.cfg, reason);

	/* Lists first, for every IP packet, before any L4 shortcut. */
	reason = check_lists(&c.p, c.cfg);
	if (reason != PARSE_OK)
		return verdict(xdp, c.cfg, reason);

	if (c.p.fragment)
		return verdict(xdp, c.cfg, FG_R_PASS_FRAGMENT);
	if (c.p.l4proto != IPPROTO_TCP && c.p.l4proto != IPPROTO_UDP)
		return verdict(xdp, c.cfg, FG_R_PASS_OTHER_L4);

	reason = parse_l4(&cur, &c.p);
	if (reason != PARSE_OK)
		return verdict(xdp, c.cfg, reason);

	if (c.p.l4proto == IPPROTO_TCP) {
		c.l4off = (long)cur.pos - (long)xdp->data;
		reason = tcp_packet(xdp, &c);
	} else
		reason = udp_packet(&c);
	return verdict(xdp, c.cfg, reason);
}

/*
 * A UDP datagram the host sends opens the flow for its replies: a DNS or
 * NTP answer to our own query is not a new flow from that server.
 */
static __always_inline void egress_udp(const struct pkt *p, const struct fg_config *cfg)
{
	struct fg_udp_key k = {
		.family = p->family,
		.sport = p->dport, /* the reply comes from where we sent to */
		.dport = p->sport,
	};
	__u64 now = fg_now(), *seen;
	__u32 bit;

	__builtin_memcpy(k.addr, p->daddr, 16);
	bit = fg_seen_bit_udp(&k);
	seen = seen_maybe(bit) ? bpf_map_lookup_elem(&udp_flows, &k) : NULL;
	if (seen && since(now, *seen) < cfg->udp_idle_ns / 8)
		return;
	seen_insert(&udp_flows, &k, &now, BPF_ANY, bit);
}

/*
 * Egress: the host sending data or a FIN to an address means a handshake
 * with that address completed, which a spoofed source cannot do (it never
 * sees our SYN-ACK). A pure ACK proves nothing: the kernel sends one to any
 * source whose second SYN hits a pending connection's 4-tuple (an
 * out-of-window answer of the request socket, RFC 5961's challenge ACK), so
 * two spoofed SYNs from one address and port made it verified. UDP does not
 * verify: a reply to a spoofed UDP packet goes to the spoofed address.
 */
SEC("tc")
int fg_tc_egress(struct __sk_buff *skb)
{
	struct cursor cur = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};
	__u32 zero = 0;
	const struct fg_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	struct fg_src_key k = {};
	struct fg_verified *seen, fresh = {};
	struct pkt p = {};
	__u64 now;

	if (!cfg || parse_l3(&cur, &p) != PARSE_OK || p.fragment)
		return TC_ACT_OK;
	if (p.l4proto != IPPROTO_TCP && p.l4proto != IPPROTO_UDP)
		return TC_ACT_OK;
	if (parse_l4(&cur, &p) != PARSE_OK)
		return TC_ACT_OK;
	if (p.l4proto == IPPROTO_UDP) {
		egress_udp(&p, cfg);
		return TC_ACT_OK;
	}
	if (p.tcp_flags & (TCP_SYN | TCP_RST) || !(p.tcp_flags & TCP_ACK))
		return TC_ACT_OK;
	if (!(p.tcp_flags & TCP_FIN)) {
		struct tcphdr *th = cur.pos;
		/* what follows the TCP header in this skb (GSO: all its segments) */
		long hdrs = (long)cur.pos - (long)skb->data;

		if ((void *)(th + 1) > cur.end || (long)skb->len <= hdrs + th->doff * 4)
			return TC_ACT_OK;
	}

	k.family = p.family;
	k.prefixlen = p.family == FG_AF_INET ? 32 : 128;
	__builtin_memcpy(k.addr, p.daddr, 16);
	now = fg_now();
	seen = bpf_map_lookup_elem(&verified, &k);
	if (seen) {
		/* Refresh rarely: this runs for every segment we send. A
		 * vouched entry gets its TCP proof beside the vouch. */
		if (!seen->tcp_ns || since(now, seen->tcp_ns) > cfg->verified_ttl_ns / 4)
			seen->tcp_ns = now;
		return TC_ACT_OK;
	}
	fresh.tcp_ns = now;
	if (seen_insert(&verified, &k, &fresh, BPF_ANY, fg_seen_bit_verified(&k)) == 0)
		count_misc(FG_M_VERIFIED);
	return TC_ACT_OK;
}
