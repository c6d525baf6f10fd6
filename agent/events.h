/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * events: consume the XDP program's violation events (ring buffer) and turn
 * them into log lines that a flood cannot multiply:
 *
 * - the first event of a source (address or prefix, rule, scope) is logged
 *   at once (report=first); later ones are counted, and each source that
 *   had events gets one line per summary interval (report=interval,
 *   events=N), the sources with the most drops first;
 * - at most max_lines_per_sec violation lines in any one-second window; the
 *   rest are counted and reported once a second in a
 *   msg="violation lines suppressed" line;
 * - the table of sources is bounded (EVENTS_MAX_SOURCES): events of sources
 *   that do not fit are counted (untracked=) and reach the log only through
 *   that count.
 *
 * Taps (floodctl watch, fleet bans) see every event, before any of this.
 */
#ifndef FG_EVENTS_H
#define FG_EVENTS_H

#include <stdint.h>

#include <floodgate/abi.h>

#include "rules.h"

#ifndef EVENTS_MAX_SOURCES
#define EVENTS_MAX_SOURCES 4096 /* sources aggregated per summary interval */
#endif
#ifndef EVENTS_MAX_TAPS
#define EVENTS_MAX_TAPS 4
#endif

struct ring_buffer;
struct events_src;

typedef void (*events_tap_fn)(const struct fg_event *e, void *arg);

struct events {
	struct ring_buffer *rb;
	const struct fg_rule_ids *ids; /* names for rule ids; owned by caller */
	uint32_t max_lines_per_sec;
	uint64_t summary_ns;	    /* summary interval */
	uint64_t window_start_ns;   /* current one-second window */
	uint64_t interval_start_ns; /* current summary interval */
	uint32_t lines_in_window;
	uint64_t suppressed; /* lines not written since the last report */
	uint64_t untracked;  /* events of sources the table had no room for, idem */
	uint64_t total;	     /* events consumed since start */
	uint64_t lines_total, suppressed_total, untracked_total;

	/* the aggregation table: entries[0..nsrc), an open-addressing index */
	struct events_src *src;
	uint32_t nsrc;
	uint16_t *index; /* 2 * EVENTS_MAX_SOURCES slots: entry + 1, 0 = empty */

	struct {
		events_tap_fn fn;
		void *arg;
	} taps[EVENTS_MAX_TAPS];
};

/* Set up consumption of the ring buffer map events_fd. max_lines_per_sec
 * and summary_ms: 0 for the defaults. Returns 0 or -errno. */
int events_open(struct events *ev, int events_fd, const struct fg_rule_ids *ids,
		uint32_t max_lines_per_sec);

/* Change the limits (reload). 0 keeps the default. */
void events_set_limits(struct events *ev, uint32_t max_lines_per_sec, uint64_t summary_ms);

/* Call fn(e, arg) for every event. Returns 0 or -ENOSPC. */
int events_add_tap(struct events *ev, events_tap_fn fn, void *arg);

/* fd to poll for readability (epoll fd of the ring buffer). */
int events_fd(const struct events *ev);

/* Consume what is there; returns the number of events or -errno. */
int events_consume(struct events *ev);

/* Feed one event as if read from the ring buffer, at monotonic now_ns
 * (tests). */
void events_handle(struct events *ev, const struct fg_event *e, uint64_t now_ns);

/* Time passes: report suppressed lines of a finished second, write the
 * summaries of a finished interval. Call at least once a second. */
void events_flush(struct events *ev, uint64_t now_ns);

void events_close(struct events *ev);

/* What happened to the packets: dropped, banned, ban_failed (the ban map
 * refused the ban), would_drop, would_ban. */
const char *events_action(const struct fg_event *e);
/* The rule's name, "?" when unknown. */
const char *events_rule_name(const struct fg_event *e, const struct fg_rule_ids *ids);

#endif /* FG_EVENTS_H */
