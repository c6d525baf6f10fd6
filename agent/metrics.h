/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * metrics: the Prometheus endpoint. GET /metrics (text format 0.0.4) and
 * GET /healthz on metrics.listen, served by libmicrohttpd's own thread.
 *
 * The event loop renders the whole exposition text on a timer (every
 * second, and at start) into a spare buffer and swaps it in under a mutex;
 * the HTTP thread only copies the latest text. A scrape therefore never
 * blocks the loop, never sees a half-updated set of counters, and never
 * touches a map or a policy. Map entry counts (walks of maps of up to
 * millions of entries) run on libuv's thread pool every METRICS_COUNT_MS.
 */
#ifndef FG_METRICS_H
#define FG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#ifndef METRICS_RENDER_MS
#define METRICS_RENDER_MS 1000 /* a new snapshot this often */
#endif
#ifndef METRICS_COUNT_MS
#define METRICS_COUNT_MS 10000 /* map entries and bans recounted this often */
#endif
#ifndef METRICS_STALE_MS
#define METRICS_STALE_MS 5000 /* /healthz: a snapshot older than this = loop stalled */
#endif

struct banguard;
struct vouch;
struct fg_compiled;
struct fg_conf;
struct fleet;
struct floodgate_bpf;
struct metrics;
struct policies;
struct redis;
struct server;
struct xdpmaps;

/* What a snapshot is rendered from: the running state of whoever owns it
 * (the agent), so metrics depends on the modules it reports and not on
 * the agent. Pointers stay valid until the next call of the view function;
 * policies, banguard, redis, fleet and server may be NULL; in app-only mode
 * maps and skel are NULL and no XDP family is rendered. */
struct metrics_view {
	bool app_only; /* no XDP: the socket and metrics only */
	const struct fg_conf *conf;
	const struct fg_compiled *compiled;
	struct policies *policies;
	struct xdpmaps *maps;
	struct floodgate_bpf *skel;
	struct banguard *banguard;
	struct vouch *vouch;
	struct redis *redis;
	struct fleet *fleet;
	const struct server *server;
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;
	double last_reload_success_s; /* Unix time */
};

/* Fill v with the state as of now; called on the loop thread at each
 * render and each map count. */
typedef void (*metrics_view_fn)(struct metrics_view *v, void *arg);

/*
 * Bind and listen on listen ("127.0.0.1:10150", "[::1]:PORT"; NULL or ""
 * means no endpoint: *out is NULL and 0 is returned). Call before
 * capabilities are dropped (no thread is started here). Returns 0 or
 * -errno, logged with what to do.
 */
int metrics_open(struct metrics **out, const char *listen);

/* Render the first snapshot, start the timers on loop and the HTTP
 * thread; view(v, arg) gives what to render (arg must outlive m). m may be
 * NULL (no endpoint). Returns 0 or -errno, logged. */
int metrics_start(struct metrics *m, uv_loop_t *loop, metrics_view_fn view, void *arg);

/* Stop serving (joins the HTTP thread) and close the timers; run the loop
 * once more (pending counts finish), then metrics_free(). NULL is fine. */
void metrics_stop(struct metrics *m);
void metrics_free(struct metrics *m);

/* Record the delay an RL.AUTH.FAIL answered for policy in m's histogram
 * (loop thread only). m NULL (no endpoint): nothing to record it for. */
void metrics_observe_auth_delay(struct metrics *m, const char *policy, uint64_t delay_ms);

#endif /* FG_METRICS_H */
