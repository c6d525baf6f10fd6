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
 * nothing echoes. On every (re)connect an agent publishes its own live bans
 * (made while Redis was away) and loads the whole set, dropping expired
 * members. A local ban is never replaced by a fleet one.
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

/* Share the bans of maps through r. NULL with errno on failure. */
struct fleet *fleet_new(uv_loop_t *loop, struct redis *r, struct xdpmaps *maps);
void fleet_free(struct fleet *f);

/* Check others' bans with g (banguard_address_refused()) before applying them. */
struct banguard;
void fleet_set_guard(struct fleet *f, struct banguard *g);

/* A ban (seconds 0: no end) or unban made on this host. f may be NULL. */
void fleet_ban(struct fleet *f, const struct fg_cidr *c, uint64_t seconds);
void fleet_unban(struct fleet *f, const struct fg_cidr *c);

/* A violation event: when the program banned a source, share the ban. */
void fleet_event(struct fleet *f, const struct fg_event *e);

/* Redis is (back) up: publish our bans, load the set, subscribe. */
void fleet_redis_up(struct fleet *f);

struct fleet_stats {
	uint64_t published; /* bans and unbans sent */
	uint64_t applied;   /* others' bans applied to the map */
	uint64_t unbanned;  /* others' unbans applied */
	uint64_t own;	    /* our own messages, ignored */
	uint64_t refused;   /* others' bans of our own, special or allow-listed addresses */
	bool subscribed;
};
void fleet_stats(const struct fleet *f, struct fleet_stats *out);

#endif /* FG_FLEET_H */
