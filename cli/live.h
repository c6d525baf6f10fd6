/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * live: floodctl's views that keep running until q or Ctrl-C: `watch`
 * (violation events pushed by the agent, XDP.WATCH) and `top --watch` (a
 * refreshing screen: attack state, drop rates by reason, busiest sources).
 * On a terminal the screen is redrawn in place; into a pipe or file every
 * refresh is a block of its own.
 */
#ifndef FG_CLI_LIVE_H
#define FG_CLI_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc.h"

struct live_top_opts {
	int n;		 /* sources shown */
	bool by_drops;	 /* XDP.TOP n DROPS, else NEW */
	double interval; /* seconds between refreshes */
	bool json;	 /* one JSON object per refresh */
};

/* floodctl top --watch. Returns the exit status (0 after q, SIGINT or SIGTERM). */
int live_top(struct rpc *r, const struct live_top_opts *o);

/* floodctl watch: one line (or JSON object) per event until SIGINT/SIGTERM,
 * or count events when count > 0. Returns the exit status. */
int live_watch(struct rpc *r, bool json, long count);

/* A flat JSON object's members ("k": string | number | true | false |
 * null) into keys/values (pointers into text, which is modified in place;
 * escapes decoded). Returns the number of members, or -1 if text is not such
 * an object. */
int live_json_flat(char *text, char **keys, char **values, int max);

#endif /* FG_CLI_LIVE_H */
