/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * pinned: floodctl commands that read and write floodgate's pinned XDP maps
 * directly (floodctl -p DIR): they work while floodgated is down or on a
 * persist: true host, for whoever may open the pins (root). Each returns a
 * floodctl exit status (0 ok, 1 not found / denied, 2 error) and prints its
 * own messages. The human output format is parsed by tests/netns/agent.sh:
 * keep it.
 */
#ifndef FG_CLI_PINNED_H
#define FG_CLI_PINNED_H

#include <stdbool.h>
#include <stdint.h>

#include "xdpmaps.h"

/* Open the maps in pin_dir; prints what to do on failure. Returns 0 or 2. */
int pinned_open(struct xdpmaps *m, const char *pin_dir);

int pinned_stats(struct xdpmaps *m, bool json);
/* info: the agent's INFO xdp for these pins (its rule_id_N names), or NULL. */
int pinned_rules(struct xdpmaps *m, bool json, const char *info);
int pinned_source(struct xdpmaps *m, const char *addr, bool json);
/* what: "bans", "allow" or "deny". */
int pinned_list(struct xdpmaps *m, const char *what, bool json);
int pinned_verified(struct xdpmaps *m, const char *addr, bool json);
int pinned_count(struct xdpmaps *m, bool json);
/* seconds 0: until unbanned. Origin manual. */
int pinned_ban(struct xdpmaps *m, const char *cidr, uint64_t seconds);
int pinned_unban(struct xdpmaps *m, const char *cidr);

#endif /* FG_CLI_PINNED_H */
