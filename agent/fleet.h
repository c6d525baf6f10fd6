/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * fleet: XDP bans shared by every host that uses the same Redis store.
 *
 * Every ban made on this host (XDP.BAN, the XDP program's own bans, app
 * feedback) is added to the sorted set <prefix>:bans (member: the CIDR,
 * score: its end as Unix ms, +inf for none) and published on the channel
 * <prefix>:bans:events as "ban <host id> <cidr> <end ms>"; unbans as ZREM
 * and "unban <host id> <cidr>". Every agent subscribes (its own connection)
 * and applies the others' messages to its ban map with origin fleet; its own
 * (same host id) are ignored, and fleet bans are never published again, so
 * nothing echoes. On every (re)connect an agent publishes the unbans and
 * unvouches made while Redis was away, then its own live bans, and
 * subscribes again; every confirmed subscription loads the whole set
 * (members not ended), applies it and removes the fleet bans it no longer
 * holds. A local ban is never replaced by a fleet one. A ban's end must be
 * a number and is cut to XDP_BAN_MAX_S.
 *
 * Vouches travel the same way (with fleet_set_vouch()): the sorted set
 * <prefix>:vouches (score: the end, Unix ms on Redis's clock), messages
 * "vouch <host id> <addr> <end ms>" and "unvouch <host id> <addr>" on the
 * same channel (an agent that predates them ignores them). Another agent's
 * vouch goes through this host's vouch guard (vouch_add_fleet(): address,
 * deny, ban, vouch.max) and is written with origin fleet, never published
 * again.
 *
 * The host's own TCP proofs (the verified map's tcp_ns, written by the
 * programs) travel too, found by fleet_share_tcp() once a second: "tcp
 * <host id> <addr>", PUBLISH only (no set: a proof is renewed by traffic),
 * at most vouch.share_tcp a second, vouch.share_tcp_burst at once (a token
 * bucket: a host under a flood verifies many sources; the cap keeps that
 * from becoming a Redis storm; the rest are counted as suppressed). A
 * receiver treats one as a fleet vouch for its own verified_ttl. Entries
 * without a TCP proof (the fleet's vouches among them) are never
 * published, so nothing echoes.
 */
#ifndef FG_FLEET_H
#define FG_FLEET_H

#include <stdint.h>

#include <floodgate/abi.h>
#include <uv.h>

#include "cidr.h"
#include "redis.h"
#include "xdpmaps.h"

struct fleet;

/* Share the bans of maps through r. NULL with errno on failure. maps NULL
 * (app-only mode): publish this host's vouches only (fleet_set_vouch());
 * nothing is subscribed to, loaded or applied. */
struct fleet *fleet_new(uv_loop_t *loop, struct redis *r, struct xdpmaps *maps);
void fleet_free(struct fleet *f);

/* Check others' bans with g (banguard_address_refused()) before applying them. */
struct banguard;
void fleet_set_guard(struct fleet *f, struct banguard *g);

/* Share vouches, checked and counted by v (NULL: vouches stay local). */
struct vouch;
void fleet_set_vouch(struct fleet *f, struct vouch *v);

/* A vouch for seconds (> 0) or an unvouch made on this host. f may be NULL. */
void fleet_vouch(struct fleet *f, const struct fg_cidr *c, uint64_t seconds);
void fleet_unvouch(struct fleet *f, const struct fg_cidr *c);

/* Publish TCP proofs at per_second on average, burst at once (0: per_second),
 * a token bucket (0 per_second: none); a reload keeps what the bucket holds. */
void fleet_set_share_tcp(struct fleet *f, uint32_t per_second, uint32_t burst);
/* Walk the verified map (at most 16 batches a call, a pass going on over
 * calls) and publish the addresses proven over TCP since the last pass
 * began, within the cap. Call once a second. 0 or -errno. */
int fleet_share_tcp(struct fleet *f, uint64_t now_ns);

/* A ban (seconds 0: no end) or unban made on this host. f may be NULL. */
void fleet_ban(struct fleet *f, const struct fg_cidr *c, uint64_t seconds);
void fleet_unban(struct fleet *f, const struct fg_cidr *c);

/* A violation event: when the program banned a source, share the ban. */
void fleet_event(struct fleet *f, const struct fg_event *e);

/* Redis is (back) up: publish our lifts and bans, subscribe (the sets are
 * loaded once the subscription is confirmed). */
void fleet_redis_up(struct fleet *f);

struct fleet_stats {
	uint64_t published;	 /* bans and unbans (vouches...) the shared set took */
	uint64_t failed;	 /* ... it refused (OOM, READONLY...) or left unanswered */
	uint64_t applied;	 /* others' bans (and vouches) applied to the map */
	uint64_t unbanned;	 /* others' unbans (and unvouches) applied, and fleet
				  * entries a load of the set no longer found */
	uint64_t own;		 /* our own messages, ignored */
	uint64_t refused;	 /* others' bans of our own, special or allow-listed addresses
				  * or with a malformed end (and vouches the vouch guard
				  * refused) */
	uint64_t tcp_published;	 /* this host's TCP proofs sent */
	uint64_t tcp_suppressed; /* and not sent: over vouch.share_tcp */
	bool subscribed;
};
void fleet_stats(const struct fleet *f, struct fleet_stats *out);

#endif /* FG_FLEET_H */
