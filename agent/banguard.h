/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * banguard: who may put an address in the XDP ban map on an application's
 * word (a policy's xdp_ban after RL.AUTH.FAIL), and how much of the map
 * those bans may take.
 *
 * An app ban is refused when the socket peer that caused it may not cause
 * NIC bans (root, socket.admin_uids/gids and app_bans.peer_uids/gids may),
 * when the address is one no one should ban (the host's own, unspecified,
 * loopback, link-local, broadcast, multicast, reserved, or allow-listed), or
 * when app bans are at their share of the map (app_bans.max in all,
 * app_bans.per_peer per peer uid). The rest of the map is for operators and
 * the XDP program: an operator ban that finds the map full evicts the
 * oldest app ban.
 */
#ifndef FG_BANGUARD_H
#define FG_BANGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "config.h"
#include "xdpmaps.h"

enum banguard_result {
	BANGUARD_BANNED = 0,
	BANGUARD_REFUSED_PEER = 1,    /* the peer may not cause NIC bans */
	BANGUARD_REFUSED_ADDRESS = 2, /* own, special or allow-listed address */
	BANGUARD_QUOTA = 3,	      /* app_bans.max or app_bans.per_peer reached */
	BANGUARD_FAILED = 4,	      /* the map refused the update */
	BANGUARD_NO_XDP = 5,	      /* app-only mode: there is no ban map */
	BANGUARD_RESULT_MAX = 6,
};

struct banguard_stats {
	uint64_t results[BANGUARD_RESULT_MAX]; /* app ban requests, by result */
	uint64_t evicted;		       /* app bans removed to make room */
	uint64_t app_bans;		       /* app bans the guard counts now */
};

/* The socket peer an app ban comes from (SO_PEERCRED at connect time). */
struct banguard_peer {
	uint32_t uid;
	uint32_t gid;
	const uint32_t *groups; /* supplementary groups; may be NULL */
	int ngroups;
};

struct banguard;

/* A guard with conf's app_bans and socket admin lists. NULL with errno. */
struct banguard *banguard_new(const struct fg_conf *conf);
void banguard_free(struct banguard *g);
/* Take a reloaded config's lists and bounds; tracked bans stay. 0 or -errno. */
int banguard_configure(struct banguard *g, const struct fg_conf *conf);

/* Is peer p root, an admin of admins (socket.admin_uids/gids), or in
 * uids[0..nuids) / gids[0..ngids) (its gid or a supplementary group)? A
 * peer whose credentials are unknown (uid -1) never is. */
bool banguard_peer_named(const struct fg_conf_socket *admins, const uint32_t *uids, int nuids,
			 const uint32_t *gids, int ngids, const struct banguard_peer *p);

/* May this peer cause NIC bans? (root, admins, app_bans.peer_uids/gids) */
bool banguard_peer_may_ban(const struct banguard *g, const struct banguard_peer *p);

/* Addresses no one should ban whoever asks: those the program never bans
 * (fg_addr_never_banned(): unspecified, loopback, link-local, multicast,
 * broadcast, reserved), IPv4-mapped IPv6 read as IPv4. */
bool banguard_address_special(const struct fg_cidr *c);

/* The host's own addresses (and subnet broadcasts): read with getifaddrs()
 * at most once a second (now_ns), or set by tests (fixed until set again
 * with n < 0). */
int banguard_set_local(struct banguard *g, const struct fg_cidr *addrs, int n);
bool banguard_address_local(struct banguard *g, const struct fg_cidr *c, uint64_t now_ns);

/* No one's ban may cover c: special, the host's own (c is or contains one),
 * or on m's allow list. Also for bans that other hosts share (fleet). */
bool banguard_address_refused(struct banguard *g, const struct xdpmaps *m, const struct fg_cidr *c,
			      uint64_t now_ns);

/*
 * An app ban of address c for seconds, asked by the peer of uid, which
 * banguard_peer_may_ban() judged (peer_may) when its request came: checked
 * as above, then written to m's ban map and counted. *res says what
 * happened. Returns 0 when banned, else -EPERM (peer), -EADDRNOTAVAIL
 * (address), -EDQUOT (quota) or the map's -errno; m NULL (app-only mode, no
 * XDP) counts the request as BANGUARD_NO_XDP and returns -EOPNOTSUPP.
 */
int banguard_app_ban(struct banguard *g, struct xdpmaps *m, uint32_t uid, bool peer_may,
		     const struct fg_cidr *c, uint64_t seconds, uint64_t now_ns,
		     enum banguard_result *res);

/*
 * An operator (or other non-app) ban: xdpmaps_ban(), and when the map is
 * full, evict the oldest app ban and try again. The address is no longer
 * counted as an app ban afterwards. 0 or -errno.
 */
int banguard_ban(struct banguard *g, struct xdpmaps *m, const struct fg_cidr *c, uint64_t seconds,
		 uint32_t origin, uint64_t now_ns);

/* c was unbanned: stop counting it. */
void banguard_forget(struct banguard *g, const struct fg_cidr *c);

void banguard_stats(const struct banguard *g, struct banguard_stats *out);
const char *banguard_result_name(enum banguard_result r);

#endif /* FG_BANGUARD_H */
