// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cidr.h"
#include "config.h"
#include "events.h"
#include "log.h"
#include "xdpmaps.h"

#define NSEC_PER_SEC 1000000000ULL
#define INDEX_SLOTS  (2 * EVENTS_MAX_SOURCES)
_Static_assert(EVENTS_MAX_SOURCES < 65535, "index entries are u16");
_Static_assert((INDEX_SLOTS & (INDEX_SLOTS - 1)) == 0, "a power of two");

/* One offending source: the latest event's fields and what came since its
 * last line. */
struct events_src {
	struct fg_src_key key; /* address or prefix, and rule */
	uint32_t level;
	struct fg_event last;
	uint32_t pending; /* events since its last line */
	uint32_t banned;  /* FG_EV_BAN_* bits of them: one banned the source, or failed to */
};

/* banned: FG_EV_BAN_* bits of the events summed up. */
static const char *action_name(bool dry_run, uint32_t banned)
{
	if (dry_run)
		return banned ? "would_ban" : "would_drop";
	if (banned & FG_EV_BAN_DONE)
		return "banned";
	return banned & FG_EV_BAN_FAILED ? "ban_failed" : "dropped";
}

const char *events_action(const struct fg_event *e)
{
	return action_name(e->dry_run, e->banned);
}

const char *events_rule_name(const struct fg_event *e, const struct fg_rule_ids *ids)
{
	if (ids && e->src.rule < FG_MAX_RULES && ids->names[e->src.rule][0])
		return ids->names[e->src.rule];
	return "?";
}

static uint32_t src_hash(const struct fg_src_key *k, uint32_t level)
{
	const unsigned char *p = (const unsigned char *)k;
	uint32_t h = 2166136261u ^ level;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

static bool src_match(const struct events_src *s, const struct fg_src_key *k, uint32_t level)
{
	return s->level == level && !memcmp(&s->key, k, sizeof(*k));
}

/* The index slot of (k, level): its entry's, or the empty one to fill. */
static uint32_t src_slot(const struct events *ev, const struct fg_src_key *k, uint32_t level)
{
	uint32_t i = src_hash(k, level) & (INDEX_SLOTS - 1);

	/* at most half full: an empty slot is always found */
	while (ev->index[i] && !src_match(&ev->src[ev->index[i] - 1], k, level))
		i = (i + 1) & (INDEX_SLOTS - 1);
	return i;
}

static void reindex(struct events *ev)
{
	uint32_t i;

	memset(ev->index, 0, INDEX_SLOTS * sizeof(*ev->index));
	for (i = 0; i < ev->nsrc; i++)
		ev->index[src_slot(ev, &ev->src[i].key, ev->src[i].level)] = (uint16_t)(i + 1);
}

static void window_roll(struct events *ev, uint64_t now_ns)
{
	if (now_ns - ev->window_start_ns < NSEC_PER_SEC)
		return;
	if (ev->suppressed || ev->untracked)
		log_warn("violation lines suppressed", LOG_UINT("suppressed", ev->suppressed),
			 LOG_UINT("untracked", ev->untracked),
			 LOG_UINT("limit_per_sec", ev->max_lines_per_sec),
			 LOG_UINT("sources", ev->nsrc));
	ev->window_start_ns = now_ns;
	ev->lines_in_window = 0;
	ev->suppressed = 0;
	ev->untracked = 0;
}

/* One violation line, if the second's budget allows it. */
static void violation_line(struct events *ev, const struct fg_event *e, uint64_t now_ns, bool first,
			   uint32_t count, uint32_t banned)
{
	char src[FG_CIDR_STRLEN];
	struct fg_cidr c;

	window_roll(ev, now_ns);
	if (ev->lines_in_window >= ev->max_lines_per_sec) {
		ev->suppressed++;
		ev->suppressed_total++;
		return;
	}
	ev->lines_in_window++;
	ev->lines_total++;
	cidr_from_src_key(&e->src, &c);
	cidr_format(&c, src, sizeof(src));
	/* scope, not level: level is the line's own severity */
	log_warn("violation", LOG_STR("source", src), LOG_STR("rule", events_rule_name(e, ev->ids)),
		 LOG_STR("scope", xdpmaps_level_name(e->level)),
		 LOG_STR("reason", xdpmaps_reason_name(e->reason)),
		 LOG_UINT("new_flows", e->new_flows), LOG_UINT("dropped", e->dropped),
		 LOG_UINT("violations", e->violations),
		 LOG_STR("action", action_name(e->dry_run, banned)),
		 LOG_STR("report", first ? "first" : "interval"), LOG_UINT("events", count));
}

static int by_dropped_desc(const void *x, const void *y)
{
	const struct events_src *a = *(const struct events_src *const *)x;
	const struct events_src *b = *(const struct events_src *const *)y;

	if (a->last.dropped != b->last.dropped)
		return a->last.dropped < b->last.dropped ? 1 : -1;
	return a->pending < b->pending ? 1 : a->pending > b->pending ? -1 : 0;
}

/* End of an interval: one line per source with events since its last one
 * (most drops first, so a cut budget keeps the worst), then forget the
 * sources that had none. */
static void interval_end(struct events *ev, uint64_t now_ns)
{
	struct events_src **order;
	uint32_t i, n = 0, kept = 0;

	order = malloc((ev->nsrc ? ev->nsrc : 1) * sizeof(*order));
	for (i = 0; i < ev->nsrc; i++)
		if (ev->src[i].pending) {
			if (order)
				order[n++] = &ev->src[i];
			else /* no memory to sort: in table order */
				violation_line(ev, &ev->src[i].last, now_ns, false,
					       ev->src[i].pending, ev->src[i].banned);
		}
	if (order) {
		qsort(order, n, sizeof(*order), by_dropped_desc);
		for (i = 0; i < n; i++)
			violation_line(ev, &order[i]->last, now_ns, false, order[i]->pending,
				       order[i]->banned);
		free(order);
	}
	for (i = 0; i < ev->nsrc; i++) {
		if (!ev->src[i].pending)
			continue;
		ev->src[kept] = ev->src[i];
		ev->src[kept].pending = 0;
		ev->src[kept].banned = 0;
		kept++;
	}
	ev->nsrc = kept;
	reindex(ev);
	ev->interval_start_ns = now_ns;
}

void events_flush(struct events *ev, uint64_t now_ns)
{
	if (now_ns - ev->interval_start_ns >= ev->summary_ns)
		interval_end(ev, now_ns);
	window_roll(ev, now_ns);
}

void events_handle(struct events *ev, const struct fg_event *e, uint64_t now_ns)
{
	struct events_src *s;
	uint32_t slot;
	int i;

	ev->total++;
	for (i = 0; i < EVENTS_MAX_TAPS && ev->taps[i].fn; i++)
		ev->taps[i].fn(e, ev->taps[i].arg);
	events_flush(ev, now_ns);
	if (!ev->src)
		return;
	slot = src_slot(ev, &e->src, e->level);
	if (ev->index[slot]) {
		s = &ev->src[ev->index[slot] - 1];
		s->last = *e;
		s->pending++;
		s->banned |= e->banned;
		return;
	}
	if (ev->nsrc == EVENTS_MAX_SOURCES) {
		ev->untracked++;
		ev->untracked_total++;
		return;
	}
	s = &ev->src[ev->nsrc];
	memset(s, 0, sizeof(*s));
	s->key = e->src;
	s->level = e->level;
	s->last = *e;
	ev->index[slot] = (uint16_t)++ev->nsrc;
	violation_line(ev, e, now_ns, true, 1, e->banned);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;

	if (size >= sizeof(struct fg_event))
		events_handle(ev, data, xdpmaps_now_ns());
	return 0;
}

void events_set_limits(struct events *ev, uint32_t max_lines_per_sec, uint64_t summary_ms)
{
	ev->max_lines_per_sec = max_lines_per_sec ? max_lines_per_sec : FG_CONF_LOG_LINES_PER_SEC;
	ev->summary_ns = (summary_ms ? summary_ms : FG_CONF_LOG_SUMMARY_MS) * 1000000ULL;
}

int events_add_tap(struct events *ev, events_tap_fn fn, void *arg)
{
	int i;

	for (i = 0; i < EVENTS_MAX_TAPS; i++)
		if (!ev->taps[i].fn) {
			ev->taps[i].fn = fn;
			ev->taps[i].arg = arg;
			return 0;
		}
	return -ENOSPC;
}

int events_open(struct events *ev, int events_map_fd, const struct fg_rule_ids *ids,
		uint32_t max_lines_per_sec)
{
	uint64_t now = xdpmaps_now_ns();

	memset(ev, 0, sizeof(*ev));
	ev->ids = ids;
	events_set_limits(ev, max_lines_per_sec, 0);
	ev->window_start_ns = ev->interval_start_ns = now;
	ev->src = calloc(EVENTS_MAX_SOURCES, sizeof(*ev->src));
	ev->index = calloc(INDEX_SLOTS, sizeof(*ev->index));
	if (!ev->src || !ev->index) {
		events_close(ev);
		return -ENOMEM;
	}
	if (events_map_fd < 0) /* no ring buffer: events_handle() only (tests) */
		return 0;
	ev->rb = ring_buffer__new(events_map_fd, handle_event, ev, NULL);
	if (!ev->rb) {
		int err = -errno;

		events_close(ev);
		return err;
	}
	return 0;
}

int events_fd(const struct events *ev)
{
	return ring_buffer__epoll_fd(ev->rb);
}

int events_consume(struct events *ev)
{
	return ev->rb ? ring_buffer__consume(ev->rb) : 0;
}

void events_close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	ev->rb = NULL;
	free(ev->src);
	ev->src = NULL;
	free(ev->index);
	ev->index = NULL;
	ev->nsrc = 0;
}
