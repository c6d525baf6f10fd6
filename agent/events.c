// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cidr.h"
#include "events.h"
#include "log.h"
#include "xdpmaps.h"

void events_format(const struct fg_event *e, const struct fg_rule_ids *ids, char *buf, size_t len)
{
	char src[FG_CIDR_STRLEN];
	struct fg_cidr c;
	const char *rule = "?";
	const char *action;

	cidr_from_src_key(&e->src, &c);
	cidr_format(&c, src, sizeof(src));
	if (ids && e->src.rule < FG_MAX_RULES && ids->names[e->src.rule][0])
		rule = ids->names[e->src.rule];
	if (e->dry_run)
		action = e->banned ? "would_ban" : "would_drop";
	else
		action = e->banned ? "banned" : "dropped";
	snprintf(buf, len,
		 "source=%s rule=%s level=%s reason=%s new_flows=%llu dropped=%llu "
		 "violations=%u action=%s",
		 src, rule, xdpmaps_level_name(e->level), xdpmaps_reason_name(e->reason),
		 (unsigned long long)e->new_flows, (unsigned long long)e->dropped, e->violations,
		 action);
}

void events_flush(struct events *ev, uint64_t now_ns)
{
	if (now_ns - ev->window_start_ns < 1000000000ULL)
		return;
	if (ev->suppressed)
		pr_warn("msg=\"violation lines suppressed\" suppressed=%llu",
			(unsigned long long)ev->suppressed);
	ev->window_start_ns = now_ns;
	ev->lines_in_window = 0;
	ev->suppressed = 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct fg_event *e = data;
	char line[512];

	if (size < sizeof(*e))
		return 0;
	ev->total++;
	if (ev->on_event)
		ev->on_event(e, ev->arg);
	events_flush(ev, xdpmaps_now_ns());
	if (ev->lines_in_window >= ev->max_lines_per_sec) {
		ev->suppressed++;
		return 0;
	}
	ev->lines_in_window++;
	events_format(e, ev->ids, line, sizeof(line));
	pr_warn("msg=violation %s", line);
	return 0;
}

int events_open(struct events *ev, int events_map_fd, const struct fg_rule_ids *ids,
		uint32_t max_lines_per_sec)
{
	memset(ev, 0, sizeof(*ev));
	ev->ids = ids;
	ev->max_lines_per_sec = max_lines_per_sec ? max_lines_per_sec : 20;
	ev->rb = ring_buffer__new(events_map_fd, handle_event, ev, NULL);
	if (!ev->rb)
		return -errno;
	return 0;
}

int events_fd(const struct events *ev)
{
	return ring_buffer__epoll_fd(ev->rb);
}

int events_consume(struct events *ev)
{
	return ring_buffer__consume(ev->rb);
}

void events_close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	ev->rb = NULL;
}
