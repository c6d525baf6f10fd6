/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * status: the operator's live view on the metrics listener. GET / is one
 * self-contained HTML page (agent/status.html, built in: no external
 * script, font or style), GET /status.json the data behind it, GET
 * /status.txt the same as text (floodctl overview).
 *
 * The JSON is rendered on the loop thread right after each /metrics
 * snapshot, from that snapshot's own text (so the page and /metrics never
 * disagree, and no map is read again for it), plus a ring of the last
 * STATUS_RING_S one-second samples of each rule's passes and drops. The top
 * sources and the bans are walked on libuv's thread pool every
 * STATUS_WALK_MS, and only while someone looked at the page or the JSON in
 * the last STATUS_IDLE_MS. The HTTP thread only copies the latest JSON.
 */
#ifndef FG_STATUS_H
#define FG_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define STATUS_RING_S  300   /* seconds of per-rule history kept for the chart */
#define STATUS_TOP_N   10    /* rows of the top sources and of the newest bans */
#define STATUS_WALK_MS 2000  /* top sources and bans walked this often... */
#define STATUS_IDLE_MS 30000 /* ...while the page was requested this recently */

struct MHD_Response;
struct fg_compiled;
struct status;
struct xdpmaps;

/* The agent's state the status reads besides the exposition text: the maps
 * (walked for the top sources and bans; NULL in app-only mode: no walk) and
 * the running config's rule ids (names of the top sources' rules). */
struct status_src {
	const struct xdpmaps *maps;
	const struct fg_compiled *compiled;
};

/* A new status (no sample yet: the JSON says "starting"). 0 or -ENOMEM. */
int status_new(struct status **out);

/*
 * Loop thread, once per /metrics rendering: take text (the exposition just
 * rendered, len bytes) and health ("" or why /healthz fails) as this
 * second's sample, start a walk of the top sources and bans on loop's
 * thread pool when one is due, and render the JSON the HTTP thread serves.
 * Returns 0 or -ENOMEM (the previous JSON is kept).
 */
int status_update(struct status *st, uv_loop_t *loop, const struct status_src *v, const char *text,
		  size_t len, const char *health);

/* The same at a given time: now_ns on CLOCK_MONOTONIC (the samples' clock),
 * now_ms Unix ms (the times the JSON shows). For the unit tests. */
int status_update_at(struct status *st, uv_loop_t *loop, const struct status_src *v,
		     const char *text, size_t len, const char *health, uint64_t now_ns,
		     uint64_t now_ms);

/*
 * HTTP thread: the answer for url when it is the page's ("/" or
 * "/status.json"): *resp (with its security headers; NULL when out of
 * memory) and its content *type. Returns true when url is the page's,
 * false when it is not (nothing is set).
 */
bool status_http(struct status *st, const char *url, struct MHD_Response **resp, const char **type);

/* A copy of the latest JSON (text: its text form) in *out (malloc'ed, NUL
 * terminated; the caller frees it) and its length in *len. Any thread.
 * Returns 0 or -ENOMEM. */
int status_copy(struct status *st, bool text, char **out, size_t *len);

/* Stop walking (a walk in progress finishes on its own: run the loop once
 * more before status_free). NULL is fine. */
void status_stop(struct status *st);
void status_free(struct status *st);

#endif /* FG_STATUS_H */
