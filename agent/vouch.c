// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <bpf/bpf.h>

#include "store.h"
#include "tbucket.h"
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
	bool fleet;    /* another agent's: not published again */
	bool proof;    /* of the fleet's, from a TCP proof (in no shared set) */
	uint32_t hpos; /* its place in the expiry heap */
	uint64_t until_ns;
};

/* A peer uid's vouches in force (not the fleet's): its vouch.per_peer. */
struct peer_count {
	uint32_t uid;
	uint32_t n; /* 0: a free slot */
};

struct rate_slot {
	uint32_t uid;
	bool used;
	struct tbucket b; /* vouch.rate a second, vouch.burst at once */
};

/*
 * The vouches: e[0..n) dense (vouch_each_local walks them), found by address
 * through idx (open addressing, linear probing; a slot holds 1 + the entry's
 * index, 0 = empty), ended in order of their end through heap (a min-heap
 * of entry indexes by until_ns), and counted per peer uid in peers; all
 * sized for cap entries, so vouch.max in the thousands costs O(1) per
 * vouch, unvouch and lookup and O(log n) per expiry.
 */
struct vouch {
	struct fg_conf_socket admins;
	struct fg_conf_vouch conf;
	uint64_t default_s; /* verified_ttl, in seconds */
	uint64_t ttl_ns;    /* verified_ttl: how long a TCP proof holds */
	struct entry *e;
	uint32_t n, cap;
	uint32_t *idx, *heap;
	struct peer_count *peers;
	uint32_t mask; /* of idx and peers: a power of two, at least 2 * cap */
	struct rate_slot rate[RATE_SLOTS];
	struct vouch_stats st;
	bool publish_only; /* no verified map here: vouches go to the fleet only */
	uint64_t k0, k1;   /* hash_cidr()'s key, random per process */
};

/* --- the index: by address, by end, by peer ------------------------------ */

static uint32_t mix32(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Keyed (the addresses are the clients', which choose them): a fixed hash
 * would let one who controls many addresses pile them on one probe run. */
static uint32_t hash_cidr(const struct vouch *v, const struct fg_cidr *c)
{
	return (uint32_t)store_siphash(v->k0, v->k1 ^ ((uint64_t)c->family << 8 | c->prefixlen),
				       c->addr, sizeof(c->addr));
}

/* Backward-shift deletion of slot i of a linear-probing table of mask + 1
 * slots: later slots of the run move up to where a lookup still finds
 * them. home(j) is where slot j's element hashes to; move(to, from) moves
 * one, clear(i) empties one, used(j) says whether one holds any. */
struct probe_ops {
	uint32_t (*home)(const struct vouch *v, uint32_t j);
	bool (*used)(const struct vouch *v, uint32_t j);
	void (*move)(struct vouch *v, uint32_t to, uint32_t from);
	void (*clear)(struct vouch *v, uint32_t i);
};

static void probe_delete(struct vouch *v, uint32_t i, const struct probe_ops *o)
{
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & v->mask;
		if (!o->used(v, j))
			break;
		/* stays unless its home is cyclically outside (i, j] */
		if (((j - o->home(v, j)) & v->mask) >= ((j - i) & v->mask)) {
			o->move(v, i, j);
			i = j;
		}
	}
	o->clear(v, i);
}

static uint32_t idx_home(const struct vouch *v, uint32_t j)
{
	return hash_cidr(v, &v->e[v->idx[j] - 1].c) & v->mask;
}

static bool idx_used(const struct vouch *v, uint32_t j)
{
	return v->idx[j] != 0;
}

static void idx_move(struct vouch *v, uint32_t to, uint32_t from)
{
	v->idx[to] = v->idx[from];
}

static void idx_clear(struct vouch *v, uint32_t i)
{
	v->idx[i] = 0;
}

static const struct probe_ops idx_ops = { idx_home, idx_used, idx_move, idx_clear };

/* The slot of idx that holds c's entry, or the empty one it would take. */
static uint32_t idx_slot(const struct vouch *v, const struct fg_cidr *c)
{
	uint32_t i = hash_cidr(v, c) & v->mask;

	while (v->idx[i] && !cidr_equal(&v->e[v->idx[i] - 1].c, c))
		i = (i + 1) & v->mask;
	return i;
}

static uint32_t peer_home(const struct vouch *v, uint32_t j)
{
	return mix32(v->peers[j].uid) & v->mask;
}

static bool peer_used(const struct vouch *v, uint32_t j)
{
	return v->peers[j].n != 0;
}

static void peer_move(struct vouch *v, uint32_t to, uint32_t from)
{
	v->peers[to] = v->peers[from];
}

static void peer_clear(struct vouch *v, uint32_t i)
{
	v->peers[i].n = 0;
}

static const struct probe_ops peer_ops = { peer_home, peer_used, peer_move, peer_clear };

static uint32_t peer_slot(const struct vouch *v, uint32_t uid)
{
	uint32_t i = mix32(uid) & v->mask;

	while (v->peers[i].n && v->peers[i].uid != uid)
		i = (i + 1) & v->mask;
	return i;
}

/* uid's vouches in force (not the fleet's). */
static uint32_t peer_n(const struct vouch *v, uint32_t uid)
{
	return v->peers[peer_slot(v, uid)].n;
}

/* One more (d 1) or one less (d -1) for uid; at most cap uids hold some. */
static void peer_add(struct vouch *v, uint32_t uid, int d)
{
	uint32_t i = peer_slot(v, uid);

	if (d > 0) {
		v->peers[i].uid = uid;
		v->peers[i].n++;
	} else if (v->peers[i].n && !--v->peers[i].n) {
		probe_delete(v, i, &peer_ops);
	}
}

static bool heap_less(const struct vouch *v, uint32_t a, uint32_t b)
{
	return v->e[v->heap[a]].until_ns < v->e[v->heap[b]].until_ns;
}

static void heap_swap(struct vouch *v, uint32_t a, uint32_t b)
{
	uint32_t t = v->heap[a];

	v->heap[a] = v->heap[b];
	v->heap[b] = t;
	v->e[v->heap[a]].hpos = a;
	v->e[v->heap[b]].hpos = b;
}

/* Entry at heap place i to where its end puts it. */
static void heap_fix(struct vouch *v, uint32_t i)
{
	while (i && heap_less(v, i, (i - 1) / 2)) {
		heap_swap(v, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;

		if (l < v->n && heap_less(v, l, m))
			m = l;
		if (l + 1 < v->n && heap_less(v, l + 1, m))
			m = l + 1;
		if (m == i)
			break;
		heap_swap(v, i, m);
		i = m;
	}
}

/* A new entry at e[n] (c, uid, fleet, until set): indexed; n + 1 entries. */
static void index_add(struct vouch *v)
{
	uint32_t at = v->n++;
	struct entry *x = &v->e[at];

	v->idx[idx_slot(v, &x->c)] = at + 1;
	x->hpos = at;
	v->heap[at] = at;
	heap_fix(v, at);
	if (!x->fleet)
		peer_add(v, x->uid, 1);
}

/* Entry i leaves the index; the last entry takes its place in e. */
static void index_remove(struct vouch *v, uint32_t i)
{
	uint32_t last = v->n - 1, h = v->e[i].hpos;

	if (!v->e[i].fleet)
		peer_add(v, v->e[i].uid, -1);
	probe_delete(v, idx_slot(v, &v->e[i].c), &idx_ops);
	/* the heap's last place fills the hole, then goes where it belongs */
	heap_swap(v, h, last);
	if (i != last) {
		v->e[i] = v->e[last];
		v->idx[idx_slot(v, &v->e[i].c)] = i + 1;
		v->heap[v->e[i].hpos] = i;
	}
	v->n--;
	if (h < v->n)
		heap_fix(v, h);
}

/* Room for cap entries (more than today's): the tables sized again, the
 * entries indexed again. */
static int grow(struct vouch *v, uint32_t cap)
{
	uint32_t size = 1, n = v->n, i;
	struct entry *e = realloc(v->e, cap * sizeof(*e));
	uint32_t *idx, *heap;
	struct peer_count *peers;

	if (!e)
		return -ENOMEM;
	v->e = e;
	while (size < 2 * (uint64_t)cap)
		size <<= 1;
	idx = calloc(size, sizeof(*idx));
	peers = calloc(size, sizeof(*peers));
	heap = malloc(cap * sizeof(*heap));
	if (!idx || !peers || !heap) {
		free(idx);
		free(peers);
		free(heap);
		return -ENOMEM;
	}
	free(v->idx);
	free(v->peers);
	free(v->heap);
	v->idx = idx;
	v->peers = peers;
	v->heap = heap;
	v->mask = size - 1;
	v->cap = cap;
	for (v->n = 0, i = 0; i < n; i++)
		index_add(v);
	return 0;
}

struct vouch *vouch_new(const struct fg_conf *conf)
{
	struct vouch *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (getrandom(&v->k0, sizeof(v->k0), GRND_NONBLOCK) != sizeof(v->k0) ||
	    getrandom(&v->k1, sizeof(v->k1), GRND_NONBLOCK) != sizeof(v->k1)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v->k0 ^= (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec;
		v->k1 ^= (uint64_t)(uintptr_t)v;
	}
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
	free(v->idx);
	free(v->heap);
	free(v->peers);
	free(v);
}

int vouch_configure(struct vouch *v, const struct fg_conf *conf)
{
	uint32_t cap = conf->vouch.max ? conf->vouch.max : 1;

	if (cap > v->cap && grow(v, cap))
		return -ENOMEM;
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
	return xdpmaps_list_has(m, XDPMAPS_DENY, c);
}

static bool banned(const struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns)
{
	struct fg_ban b;

	return !xdpmaps_banned(m, c, now_ns, &b);
}

/* The peer's token bucket; a peer new to the slots takes the one used
 * longest ago (or a free one), full. The bucket follows a reload's rate. */
static bool rate_take(struct vouch *v, uint32_t uid, uint64_t now_ns)
{
	struct rate_slot *s = NULL, *victim = &v->rate[0];
	int i;

	for (i = 0; i < RATE_SLOTS && !s; i++) {
		if (v->rate[i].used && v->rate[i].uid == uid)
			s = &v->rate[i];
		else if (!v->rate[i].used || v->rate[i].b.at_ns < victim->b.at_ns)
			victim = &v->rate[i];
	}
	if (!s) {
		s = victim;
		s->used = true;
		s->uid = uid;
		tbucket_init(&s->b, v->conf.rate, v->conf.burst, now_ns);
	}
	tbucket_set(&s->b, v->conf.rate, v->conf.burst);
	return tbucket_take(&s->b, now_ns);
}

static int find(const struct vouch *v, const struct fg_cidr *c)
{
	return (int)v->idx[idx_slot(v, c)] - 1;
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
		v->e[v->n] =
			(struct entry){ .c = *c, .uid = uid, .fleet = fleet, .until_ns = until };
		index_add(v);
	} else {
		if (!fleet && v->e[at].fleet) {
			v->e[at].fleet = false;
			peer_add(v, v->e[at].uid, 1);
		}
		v->e[at].until_ns = until;
		heap_fix(v, v->e[at].hpos);
	}
	v->st.results[origin][VOUCH_VOUCHED]++;
	*res = VOUCH_VOUCHED;
	return 0;
}

int vouch_add(struct vouch *v, struct banguard *g, struct xdpmaps *m, uint32_t uid, bool peer_may,
	      const struct fg_cidr *c, uint64_t seconds, enum vouch_origin origin, uint64_t now_ns,
	      enum vouch_result *res)
{
	enum vouch_result r;
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
	if (at < 0 && (v->n >= v->conf.max || v->n >= v->cap || peer_n(v, uid) >= v->conf.per_peer))
		return refuse(v, origin, VOUCH_QUOTA, res, -EDQUOT);
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
	err = record(v, m, at, c, (uint32_t)-1, at < 0 || v->e[at].fleet, until, o, res);
	/* What wrote the end last says whether the shared set backs it. */
	at = err ? -1 : find(v, c);
	if (at >= 0)
		v->e[at].proof = v->e[at].fleet && !ms;
	return err;
}

void vouch_each_local(const struct vouch *v, uint64_t now_ns, vouch_each_fn fn, void *arg)
{
	uint32_t i;

	for (i = 0; v && i < v->n; i++)
		if (!v->e[i].fleet && v->e[i].until_ns > now_ns)
			fn(&v->e[i].c, v->e[i].until_ns, arg);
}

void vouch_each_fleet(const struct vouch *v, vouch_each_fn fn, void *arg)
{
	uint32_t i;

	for (i = 0; v && i < v->n; i++)
		if (v->e[i].fleet && !v->e[i].proof)
			fn(&v->e[i].c, v->e[i].until_ns, arg);
}

int vouch_remove(struct vouch *v, struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns)
{
	int at = find(v, c), err;

	(void)now_ns;
	err = m ? xdpmaps_unvouch(m, c) : at >= 0 ? 0 : -ENOENT;
	if (at >= 0)
		index_remove(v, (uint32_t)at);
	return err;
}

int vouch_sweep(struct vouch *v, struct xdpmaps *m, uint64_t now_ns)
{
	int n = 0;

	if (!v)
		return 0;
	/* In order of their end: only those that have ended are looked at. */
	while (v->n && v->e[v->heap[0]].until_ns <= now_ns) {
		uint32_t i = v->heap[0];
		struct fg_src_key k;
		struct fg_verified cur;

		/* Only if the entry is still this vouch: a later vouch (another
		 * agent's, one day) or a TCP proof keeps it. */
		cidr_to_src_key(&v->e[i].c, 0, &k);
		if (m && !bpf_map_lookup_elem(m->verified, &k, &cur) &&
		    xdpmaps_verified_by(&cur, v->ttl_ns, now_ns, NULL) < 0)
			bpf_map_delete_elem(m->verified, &k);
		index_remove(v, i);
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
