// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "vouch.h"

#define NS_PER_S 1000000000ULL
/* Peer uids whose rate is tracked at once: named peers are few; when more
 * ask (members of a group), the one whose bucket is fullest is replaced,
 * which forgets nothing a full bucket would not say. */
#define RATE_SLOTS 64
/* The BPF LRU map keeps free entries on per-CPU lists (the kernel's
 * LOCAL_FREE_TARGET is 128) and may evict while those hold some. */
#define LRU_PERCPU_HEADROOM 256

/* One vouch the guard counts. */
struct entry {
	struct fg_cidr c;
	uint32_t uid;
	bool fleet; /* another agent's: not published again */
	uint64_t until_ns;
};

struct rate_slot {
	uint32_t uid;
	bool used;
	uint64_t tat_ns; /* GCRA theoretical arrival time */
};

struct vouch {
	struct fg_conf_socket admins;
	struct fg_conf_vouch conf;
	uint64_t default_s; /* verified_ttl, in seconds */
	uint64_t ttl_ns;    /* verified_ttl: how long a TCP proof holds */
	struct entry *e;
	uint32_t n, cap;
	struct rate_slot rate[RATE_SLOTS];
	struct vouch_stats st;
	bool publish_only; /* no verified map here: vouches go to the fleet only */
};

struct vouch *vouch_new(const struct fg_conf *conf)
{
	struct vouch *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (vouch_configure(v, conf)) {
		free(v);
		errno = ENOMEM;
		return NULL;
	}
	return v;
}

void vouch_free(struct vouch *v)
{
	if (!v)
		return;
	free(v->e);
	free(v);
}

int vouch_configure(struct vouch *v, const struct fg_conf *conf)
{
	uint32_t cap = conf->vouch.max ? conf->vouch.max : 1;

	if (cap > v->cap) {
		struct entry *grown = realloc(v->e, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		v->e = grown;
		v->cap = cap;
	}
	v->admins = conf->socket;
	v->conf = conf->vouch;
	if (!v->conf.burst)
		v->conf.burst = v->conf.rate ? v->conf.rate : 1;
	if (!v->conf.rate)
		v->conf.rate = 1;
	v->default_s = (conf->verified_ttl_ms + 999) / 1000;
	v->ttl_ns = conf->verified_ttl_ms * 1000000ULL;
	return 0;
}

uint32_t vouch_map_entries(const struct fg_conf *conf, int ncpus)
{
	uint64_t n = (uint64_t)conf->max_verified;

	if (conf->vouch.max)
		n += conf->vouch.max + (uint64_t)(ncpus > 0 ? ncpus : 1) * LRU_PERCPU_HEADROOM;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void vouch_set_publish_only(struct vouch *v, bool on)
{
	v->publish_only = on;
}

bool vouch_peer_may(const struct vouch *v, const struct banguard_peer *p)
{
	return banguard_peer_named(&v->admins, v->conf.peer_uids, v->conf.npeer_uids,
				   v->conf.peer_gids, v->conf.npeer_gids, p);
}

uint64_t vouch_seconds(const struct vouch *v, uint64_t seconds)
{
	uint64_t max = v->conf.max_duration_ms / 1000;

	if (!seconds)
		seconds = v->default_s ? v->default_s : 1;
	return seconds > max ? max : seconds;
}

/* The IPv4-mapped form of an address (the parsers read it as the IPv4
 * address it spells; a caller that did not must not get a key XDP never
 * looks up: it drops ::ffff:0:0/96 sources on the wire). */
static bool mapped(const struct fg_cidr *c)
{
	return c->family == FG_AF_INET6 && !c->addr[0] && !c->addr[1] &&
	       c->addr[2] == htonl(0xffff);
}

/* On the deny list, as the program judges it (the families must agree). */
static bool denied(const struct xdpmaps *m, const struct fg_cidr *c)
{
	struct fg_lpm_key k;
	__u32 family;

	cidr_to_lpm(c, &k);
	return !bpf_map_lookup_elem(m->deny, &k, &family) && family == c->family;
}

static bool banned(const struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns)
{
	struct fg_ban b;

	return !xdpmaps_banned(m, c, now_ns, &b);
}

/* GCRA on the peer's slot: one vouch costs 1/rate s, burst of them at once. */
static bool rate_take(struct vouch *v, uint32_t uid, uint64_t now_ns)
{
	uint64_t interval = NS_PER_S / v->conf.rate, tolerance = interval * (v->conf.burst - 1);
	struct rate_slot *s = NULL, *victim = &v->rate[0];
	uint64_t tat;
	int i;

	for (i = 0; i < RATE_SLOTS && !s; i++) {
		if (v->rate[i].used && v->rate[i].uid == uid)
			s = &v->rate[i];
		else if (!v->rate[i].used || v->rate[i].tat_ns < victim->tat_ns)
			victim = &v->rate[i];
	}
	if (!s) {
		s = victim;
		s->used = true;
		s->uid = uid;
		s->tat_ns = 0;
	}
	tat = s->tat_ns > now_ns ? s->tat_ns : now_ns;
	if (tat - now_ns > tolerance)
		return false;
	s->tat_ns = tat + interval;
	return true;
}

static int find(const struct vouch *v, const struct fg_cidr *c)
{
	uint32_t i;

	for (i = 0; i < v->n; i++)
		if (cidr_equal(&v->e[i].c, c))
			return (int)i;
	return -1;
}

static void remove_at(struct vouch *v, uint32_t i)
{
	v->e[i] = v->e[--v->n];
}

static int refuse(struct vouch *v, enum vouch_origin o, enum vouch_result r, enum vouch_result *res,
		  int err)
{
	v->st.results[o][r]++;
	*res = r;
	return err;
}

/* The checks every vouch gets, whoever made it: a unicast address of a
 * client, not denied, not banned (m NULL: no lists here to check; every
 * receiver checks its own). VOUCH_VOUCHED when it passes. */
static enum vouch_result check_address(struct banguard *g, const struct xdpmaps *m,
				       const struct fg_cidr *c, uint64_t now_ns, int *err)
{
	*err = -EADDRNOTAVAIL;
	if (c->prefixlen != (c->family == FG_AF_INET ? 32 : 128) || mapped(c) ||
	    banguard_address_special(c) || banguard_address_local(g, c, now_ns))
		return VOUCH_REFUSED_ADDRESS;
	*err = -EACCES;
	if (m && denied(m, c))
		return VOUCH_DENIED;
	if (m && banned(m, c, now_ns))
		return VOUCH_BANNED;
	*err = 0;
	return VOUCH_VOUCHED;
}

/* Write the vouch (m NULL: only count it, for the fleet) and count it: at
 * is its entry (-1: a new one). */
static int record(struct vouch *v, struct xdpmaps *m, int at, const struct fg_cidr *c, uint32_t uid,
		  bool fleet, uint64_t until, enum vouch_origin origin, enum vouch_result *res)
{
	uint32_t by = fleet ? FG_VERIFIED_FLEET : FG_VERIFIED_VOUCH;
	int err = m ? xdpmaps_vouch(m, c, until, by, NULL) : 0;

	if (err)
		return refuse(v, origin, VOUCH_FAILED, res, err);
	/* A vouch made again keeps its owner (its quota) and takes the new end. */
	if (at < 0) {
		at = (int)v->n++;
		v->e[at].c = *c;
		v->e[at].uid = uid;
		v->e[at].fleet = fleet;
	} else if (!fleet) {
		v->e[at].fleet = false;
	}
	v->e[at].until_ns = until;
	v->st.results[origin][VOUCH_VOUCHED]++;
	*res = VOUCH_VOUCHED;
	return 0;
}

int vouch_add(struct vouch *v, struct banguard *g, struct xdpmaps *m, uint32_t uid, bool peer_may,
	      const struct fg_cidr *c, uint64_t seconds, enum vouch_origin origin, uint64_t now_ns,
	      enum vouch_result *res)
{
	enum vouch_result r;
	uint32_t i, mine = 0;
	int at, err;

	if (origin >= VOUCH_ORIGIN_MAX || origin == VOUCH_FROM_FLEET)
		origin = VOUCH_FROM_SOCKET;
	if (!m && !v->publish_only)
		return refuse(v, origin, VOUCH_NO_XDP, res, -EOPNOTSUPP);
	if (!peer_may)
		return refuse(v, origin, VOUCH_REFUSED_PEER, res, -EPERM);
	/* Charged before the address is looked at: a flood of bad addresses
	 * is held to the rate as well. */
	if (!rate_take(v, uid, now_ns))
		return refuse(v, origin, VOUCH_RATE, res, -EAGAIN);
	r = check_address(g, m, c, now_ns, &err);
	if (r != VOUCH_VOUCHED)
		return refuse(v, origin, r, res, err);
	vouch_sweep(v, m, now_ns);
	at = find(v, c);
	if (at < 0) {
		for (i = 0; i < v->n; i++)
			mine += v->e[i].uid == uid && !v->e[i].fleet;
		if (v->n >= v->conf.max || v->n >= v->cap || mine >= v->conf.per_peer)
			return refuse(v, origin, VOUCH_QUOTA, res, -EDQUOT);
	}
	return record(v, m, at, c, uid, false, now_ns + vouch_seconds(v, seconds) * NS_PER_S,
		      origin, res);
}

/* A fleet vouch's length in ns: ms as the sender's end says (0: verified_ttl,
 * a TCP proof's), at most vouch.max_duration. In ms, not whole seconds: rounded
 * up, a vouch outlived the sender's end by up to a second on every receiver. */
static uint64_t fleet_ns(const struct vouch *v, uint64_t ms)
{
	if (!ms)
		ms = v->ttl_ns / 1000000 ? v->ttl_ns / 1000000 : 1000;
	if (ms > v->conf.max_duration_ms)
		ms = v->conf.max_duration_ms;
	return ms * 1000000ULL;
}

int vouch_add_fleet(struct vouch *v, struct banguard *g, struct xdpmaps *m, const struct fg_cidr *c,
		    uint64_t ms, uint64_t now_ns, enum vouch_result *res)
{
	const enum vouch_origin o = VOUCH_FROM_FLEET;
	uint64_t until = now_ns + fleet_ns(v, ms);
	enum vouch_result r;
	int at, err;

	if (!m)
		return refuse(v, o, VOUCH_NO_XDP, res, -EOPNOTSUPP);
	r = check_address(g, m, c, now_ns, &err);
	if (r != VOUCH_VOUCHED)
		return refuse(v, o, r, res, err);
	vouch_sweep(v, m, now_ns);
	at = find(v, c);
	if (at >= 0 && v->e[at].until_ns >= until) {
		v->st.results[o][VOUCH_VOUCHED]++;
		*res = VOUCH_VOUCHED;
		return 0;
	}
	if (at < 0 && (v->n >= v->conf.max || v->n >= v->cap))
		return refuse(v, o, VOUCH_QUOTA, res, -EDQUOT);
	return record(v, m, at, c, (uint32_t)-1, at < 0 || v->e[at].fleet, until, o, res);
}

void vouch_each_local(const struct vouch *v, uint64_t now_ns, vouch_each_fn fn, void *arg)
{
	uint32_t i;

	for (i = 0; v && i < v->n; i++)
		if (!v->e[i].fleet && v->e[i].until_ns > now_ns)
			fn(&v->e[i].c, v->e[i].until_ns, arg);
}

int vouch_remove(struct vouch *v, struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns)
{
	int at = find(v, c), err;

	(void)now_ns;
	err = m ? xdpmaps_unvouch(m, c) : at >= 0 ? 0 : -ENOENT;
	if (at >= 0)
		remove_at(v, (uint32_t)at);
	return err;
}

int vouch_sweep(struct vouch *v, struct xdpmaps *m, uint64_t now_ns)
{
	uint32_t i = 0;
	int n = 0;

	if (!v)
		return 0;
	while (i < v->n) {
		struct fg_src_key k;
		struct fg_verified cur;

		if (v->e[i].until_ns > now_ns) {
			i++;
			continue;
		}
		/* Only if the entry is still this vouch: a later vouch (another
		 * agent's, one day) or a TCP proof keeps it. */
		cidr_to_src_key(&v->e[i].c, 0, &k);
		if (m && !bpf_map_lookup_elem(m->verified, &k, &cur) &&
		    xdpmaps_verified_by(&cur, v->ttl_ns, now_ns, NULL) < 0)
			bpf_map_delete_elem(m->verified, &k);
		remove_at(v, i);
		n++;
	}
	return n;
}

void vouch_stats(const struct vouch *v, struct vouch_stats *out)
{
	*out = v->st;
	out->entries = v->n;
}

const char *vouch_result_name(enum vouch_result r)
{
	static const char *const names[VOUCH_RESULT_MAX] = {
		"vouched", "refused_peer", "refused_address", "denied", "banned",
		"rate",	   "quota",	   "failed",	      "no_xdp",
	};

	return r < VOUCH_RESULT_MAX ? names[r] : "unknown";
}

const char *vouch_origin_name(enum vouch_origin o)
{
	static const char *const names[VOUCH_ORIGIN_MAX] = { "socket", "auth_ok", "fleet" };

	return o < VOUCH_ORIGIN_MAX ? names[o] : "unknown";
}
