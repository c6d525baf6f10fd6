/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * events: consume the XDP program's violation events (ring buffer) and turn
 * them into log lines, at most a set number per second: the kernel already
 * sends at most one event per source per second, and this bound keeps a
 * flood from many sources from flooding the log.
 */
#ifndef FG_EVENTS_H
#define FG_EVENTS_H

#include <stdint.h>

#include <floodgate/abi.h>

#include "rules.h"

struct ring_buffer;

struct events {
	struct ring_buffer *rb;
	const struct fg_rule_ids *ids; /* names for rule ids; owned by caller */
	uint32_t max_lines_per_sec;
	uint64_t window_start_ns; /* current one-second window */
	uint32_t lines_in_window;
	uint64_t suppressed; /* lines not written in the current window */
	uint64_t total; /* events consumed since start */
	void (*on_event)(const struct fg_event *e, void *arg); /* optional tap */
	void *arg;
};

/* Set up consumption of the ring buffer map events_fd. Returns 0 or -errno. */
int events_open(struct events *ev, int events_fd, const struct fg_rule_ids *ids,
		uint32_t max_lines_per_sec);

/* fd to poll for readability (epoll fd of the ring buffer). */
int events_fd(const struct events *ev);

/* Consume what is there; returns the number of events or -errno. */
int events_consume(struct events *ev);

/* Report suppressed lines of a finished window (call once a second). */
void events_flush(struct events *ev, uint64_t now_ns);

void events_close(struct events *ev);

/* One event as a logfmt fragment (for the log and tests). */
void events_format(const struct fg_event *e, const struct fg_rule_ids *ids, char *buf,
		   size_t len);

#endif /* FG_EVENTS_H */
