/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * watch: violation events for socket subscribers. Every event consumed from
 * the ring buffer is published (server_publish) as one JSON object on the
 * channels "violations" and "violations:<rule>", which clients SUBSCRIBE or
 * PSUBSCRIBE to (docs/api.md); XDP.WATCH / XDP.UNWATCH (floodctl watch) are
 * SUBSCRIBE / UNSUBSCRIBE violations. A subscriber whose output is backed up
 * past WATCH_MAX_PENDING bytes misses events instead of growing memory; the
 * next event it gets says how many ("missed").
 */
#ifndef FG_WATCH_H
#define FG_WATCH_H

#include <stdint.h>

#include <uv.h>

#include <floodgate/abi.h>

#ifndef WATCH_MAX_PENDING
#define WATCH_MAX_PENDING (1u << 20) /* unsent bytes of a subscriber before it misses events */
#endif

#define WATCH_CHANNEL "violations" /* every event; "violations:<rule>": one rule's */

struct events;
struct server;
struct watch;

/* Register XDP.WATCH and XDP.UNWATCH on s and an INFO watch section, and tap
 * ev. s, ev and loop must outlive the watch. NULL with errno on failure. */
struct watch *watch_new(uv_loop_t *loop, struct server *s, struct events *ev);

/* Free once the loop's handles are closed (the loop's own walk closes the
 * watch's). */
void watch_free(struct watch *w);

/* The JSON object pushed for an event: ts_real_ms is the event's wall clock
 * time (Unix ms); missed is added when not 0. Returns the length, like
 * snprintf. */
size_t watch_format(char *buf, size_t len, const struct fg_event *e, const char *rule,
		    long long ts_real_ms, uint64_t missed);

#endif /* FG_WATCH_H */
