/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * agent: floodgated's running state and its event loop: the live config,
 * the loaded programs and their maps, the ring-buffer consumer, signals
 * (SIGHUP reloads, SIGTERM/SIGINT stop) and periodic work (ban expiry).
 */
#ifndef FG_AGENT_H
#define FG_AGENT_H

#include <stdbool.h>

#include <uv.h>

#include "config.h"
#include "events.h"
#include "hostpeers.h"
#include "loader.h"
#include "log.h"
#include "rules.h"
#include "seen.h"
#include "server.h"
#include "syncookies.h"
#include "xdpmaps.h"

struct agent;

struct agent_opts {
	const char *config_path;
	const char *pin_dir;
	const char *socket_path; /* --socket: overrides socket.path; NULL = config */
	const char
		*metrics_listen; /* --metrics-listen: overrides metrics:; "" = off; NULL = config */
	char ifaces[FG_CONF_MAX_IFACES][16]; /* -i: replaces the config's list */
	int nifaces;
	bool mode_set; /* --xdp-mode given: overrides the config */
	enum fg_xdp_mode mode;
	bool log_format_set; /* --log-format given: overrides log.format */
	enum fg_log_format log_format;
	bool log_level_set; /* -v given: overrides log.level */
	bool app_only;	    /* --app-only: no XDP, whatever app_only: in the config says */
	/* Called once the socket exists, before it listens, to register the
	 * product commands on it (main.c); NULL: none. Returns 0 or -errno. */
	int (*on_socket)(struct agent *a, struct server *s);
};

struct banguard;
struct vouch;
struct fleet;
struct metrics;
struct reload_job;
struct reload_waiter;
struct policies;
struct redis;
struct watch;

/* Allow/deny entries added at run time (XDP.ALLOW / XDP.DENY): kept on top
 * of the config's lists across reloads, until the agent restarts. */
struct agent_list {
	struct fg_cidr *items;
	int n, cap;
};

struct agent {
	struct agent_opts opts;
	struct fg_conf conf;	      /* the running config */
	struct fg_compiled *compiled; /* what the maps hold */
	struct policies *policies;    /* app-layer limiters and their state */
	struct agent_list runtime_allow, runtime_deny;
	struct loader loader;
	struct xdpmaps maps;
	struct seen seen; /* the state maps' existence filter, kept by the tick */
	struct events events;
	struct server *server;	   /* the RESP socket */
	struct metrics *metrics;   /* the Prometheus endpoint; NULL when off */
	struct redis *redis;	   /* store.type: redis: the shared store; else NULL */
	struct fleet *fleet;	   /* fleet-wide bans through redis; NULL without it */
	struct watch *watch;	   /* XDP.WATCH subscribers (floodctl watch) */
	struct banguard *banguard; /* app bans: who may, which addresses, how many */
	struct vouch *vouch;	   /* vouches: who may, which addresses, how fast, how many */
	struct syncookies cookies; /* the namespace's TCP settings for SYN cookies */
	struct hostpeers hostpeers; /* the resolvers and gateways kept verified */
	/* Fixed at start (--app-only or app_only: true): no program, maps,
	 * pins, events or capabilities; loader and maps stay empty. */
	bool app_only;

	uv_loop_t *loop;
	uv_signal_t sig_hup, sig_term, sig_int;
	uv_poll_t events_poll;
	uv_timer_t tick;
	uv_timer_t sweep; /* expired policy state, a slice at a time */
	int exit_code;
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;	      /* the last load or reload was accepted */
	double last_reload_success_s; /* Unix time the running config was loaded */

	/* agent_reload_async(): the parse on the thread pool, and whether
	 * (and for whom) one more is due once it ends. */
	struct reload_job *reload_running;
	struct reload_waiter *reload_waiting;
	bool reload_pending, reload_pending_hup;
	bool stopping; /* agent_stop() began: no reload is applied */
};

/* Load the config, load and attach the programs (not in app-only mode),
 * apply the config, listen. Returns 0, or a process exit code (2: bad
 * config or kernel below the floor, 1: anything else), logged. */
int agent_start(struct agent *a, const struct agent_opts *opts);

/* Run the event loop until SIGTERM/SIGINT; returns the exit code. */
int agent_run(struct agent *a);

/* Re-read the config file and apply it without detaching. On any error the
 * running config stays and err says why. Returns 0 or -errno. */
int agent_reload(struct agent *a, char *err, size_t errlen);

/*
 * The same, with the file parsed on libuv's thread pool and the result
 * applied on the loop thread, so the socket and /metrics keep answering.
 * Requests made while a parse runs are coalesced into one more parse after
 * it. cb (loop thread) gets 0 or -errno and the error text; NULL cb: a
 * SIGHUP, whose rejection is logged here. Returns 0 (cb will be called) or
 * -errno (it will not).
 */
typedef void (*agent_reload_cb)(int ret, const char *err, void *arg);
int agent_reload_async(struct agent *a, agent_reload_cb cb, void *arg);

/* Add (or with del remove) a run-time allow or deny entry and make the
 * trie match. -EEXIST: already in the config's list; -EALREADY: already a
 * run-time entry (nothing changed); -ENOENT: del of an entry that is not a
 * run-time one. */
int agent_list_edit(struct agent *a, bool allow, const struct fg_cidr *c, bool del);

/* Detach and unpin (unless persist), free everything. */
void agent_stop(struct agent *a);

#endif /* FG_AGENT_H */
