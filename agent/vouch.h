/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * vouch: who may mark an address verified on an application's word
 * (XDP.VOUCH, a progressive policy's vouch_on_success), which addresses,
 * how fast and how many.
 *
 * A verified address skips a rule's global budget while the rule is under
 * attack, so a vouch opens the host a little: it is refused when the socket
 * peer is not named (root, socket.admin_uids/gids, vouch.peer_uids/gids),
 * when the peer asks faster than vouch.rate, when the address is one no one
 * should vouch for (the host's own, unspecified, loopback, broadcast,
 * multicast, reserved, IPv4-mapped) or is denied or banned, and when vouches
 * are at their quota (vouch.max in all, vouch.per_peer per peer uid). The
 * quota is kept apart from the TCP-verified entries: the loader sizes the
 * verified map for both (vouch_map_entries()), and an expired vouch leaves
 * the map at the next sweep, so vouches never make the LRU evict a
 * TCP-verified source.
 */
#ifndef FG_VOUCH_H
#define FG_VOUCH_H

#include <stdbool.h>
#include <stdint.h>

#include "banguard.h"
#include "cidr.h"
#include "config.h"
#include "xdpmaps.h"

enum vouch_result {
	VOUCH_VOUCHED = 0,
	VOUCH_REFUSED_PEER = 1,	   /* the peer may not vouch */
	VOUCH_REFUSED_ADDRESS = 2, /* own, special or IPv4-mapped address */
	VOUCH_DENIED = 3,	   /* on the deny list */
	VOUCH_BANNED = 4,	   /* banned now */
	VOUCH_RATE = 5,		   /* the peer is over vouch.rate */
	VOUCH_QUOTA = 6,	   /* vouch.max or vouch.per_peer reached */
	VOUCH_FAILED = 7,	   /* the map refused the update */
	VOUCH_NO_XDP = 8,	   /* app-only mode: there is no verified map */
	VOUCH_RESULT_MAX = 9,
};

/* Where a vouch comes from. */
enum vouch_origin {
	VOUCH_FROM_SOCKET = 0,	/* XDP.VOUCH (floodctl vouch) */
	VOUCH_FROM_AUTH_OK = 1, /* RL.AUTH.OK ... ADDR on a vouch_on_success policy */
	VOUCH_FROM_FLEET = 2,	/* another agent's, through the shared store (fleet.c) */
	VOUCH_ORIGIN_MAX = 3,
};

struct vouch_stats {
	uint64_t results[VOUCH_ORIGIN_MAX][VOUCH_RESULT_MAX]; /* vouch requests */
	uint64_t entries;				      /* vouches in force now */
};

struct vouch;

/* A guard with conf's vouch: section and socket admin lists. NULL with errno. */
struct vouch *vouch_new(const struct fg_conf *conf);
void vouch_free(struct vouch *v);
/* Take a reloaded config's lists and bounds; vouches in force stay
 * (beyond a lower vouch.max they run out, none is added). 0 or -errno. */
int vouch_configure(struct vouch *v, const struct fg_conf *conf);

/* Entries the verified map needs: sources.max_verified for TCP, vouch.max
 * for vouches, and headroom for the LRU's per-CPU free lists (it may evict
 * before it is full otherwise). */
uint32_t vouch_map_entries(const struct fg_conf *conf, int ncpus);

/* App-only mode with a shared store: there is no verified map here, and
 * vouch_add() with m NULL checks (peer, rate, address, quota: not deny or
 * bans, which only the receivers hold), counts and keeps the vouch for the
 * fleet to publish instead of refusing it as VOUCH_NO_XDP. */
void vouch_set_publish_only(struct vouch *v, bool on);

/* May this peer vouch? (root, admins, vouch.peer_uids/gids) */
bool vouch_peer_may(const struct vouch *v, const struct banguard_peer *p);

/* The duration of a vouch asked for seconds (0: the default, verified_ttl),
 * at most vouch.max_duration. */
uint64_t vouch_seconds(const struct vouch *v, uint64_t seconds);

/*
 * Vouch for address c for seconds (0: the default; longer than
 * vouch.max_duration is cut to it), asked by the peer of uid, which
 * vouch_peer_may() judged (peer_may): checked as above (g says which
 * addresses are the host's own), written to m's verified map and counted
 * under origin. *res says what happened. Returns 0, or -EPERM (peer),
 * -EADDRNOTAVAIL (address), -EACCES (denied or banned), -EAGAIN (rate),
 * -EDQUOT (quota), the map's -errno; m NULL: -EOPNOTSUPP (VOUCH_NO_XDP)
 * unless vouch_set_publish_only().
 */
int vouch_add(struct vouch *v, struct banguard *g, struct xdpmaps *m, uint32_t uid, bool peer_may,
	      const struct fg_cidr *c, uint64_t seconds, enum vouch_origin origin, uint64_t now_ns,
	      enum vouch_result *res);

/*
 * Another agent's vouch of c for ms (0: verified_ttl; at most
 * vouch.max_duration; it judged the peer, its rate and its quota; 0 is a
 * TCP proof it shared, which no shared set holds): the
 * address, deny and ban checks as above and vouch.max in all (a shared
 * store's writer must not fill the map either). A longer
 * vouch already in force is kept. Written with origin FG_VERIFIED_FLEET and
 * never published again. Returns as vouch_add().
 */
int vouch_add_fleet(struct vouch *v, struct banguard *g, struct xdpmaps *m, const struct fg_cidr *c,
		    uint64_t ms, uint64_t now_ns, enum vouch_result *res);

/* Visit the vouches made on this host still in force (not the fleet's):
 * what an agent publishes when the shared store comes (back). */
typedef void (*vouch_each_fn)(const struct fg_cidr *c, uint64_t until_ns, void *arg);
void vouch_each_local(const struct vouch *v, uint64_t now_ns, vouch_each_fn fn, void *arg);

/* Visit the fleet's vouches that came from the shared set (not this host's,
 * not TCP proofs), ended or not: what a reload of the set checks. fn must
 * not change v. */
void vouch_each_fleet(const struct vouch *v, vouch_each_fn fn, void *arg);

/* End c's vouch (xdpmaps_unvouch()) and stop counting it. -ENOENT when no
 * vouch holds for c. */
int vouch_remove(struct vouch *v, struct xdpmaps *m, const struct fg_cidr *c, uint64_t now_ns);

/* Forget vouches that have ended and delete their map entries (an entry
 * with a live TCP proof stays, as a TCP-verified one). Returns how many. */
int vouch_sweep(struct vouch *v, struct xdpmaps *m, uint64_t now_ns);

void vouch_stats(const struct vouch *v, struct vouch_stats *out);
const char *vouch_result_name(enum vouch_result r);
const char *vouch_origin_name(enum vouch_origin o);

#endif /* FG_VOUCH_H */
