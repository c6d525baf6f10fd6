// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <floodgate/paths.h>

#include "agent.h"
#include "banguard.h"
#include "vouch.h"
#include "caps.h"
#include "clock.h"
#include "fleet.h"
#include "kernel.h"
#include "log.h"
#include "metrics.h"
#include "policy-t.h"
#include "policy.h"
#include "redis.h"
#include "watch.h"

#define TICK_MS 1000
/* Keys of the state maps a tick walks while it rebuilds their filter: a
 * million tracked sources take ~15 ticks, each a few ms of the loop. */
#define SEEN_KEYS_PER_TICK 65536
/* The policy store's expired keys are reclaimed from here, a slice of the
 * table at a time (requests only check the LRU tail). */
#define SWEEP_MS      100
#define SWEEP_BUCKETS 16384

/* The log settings of c, under --log-format and -v (which win). */
static void apply_log(struct agent *a, const struct fg_conf *c)
{
	if (!a->opts.log_format_set)
		log_set_format(c->log.json ? FG_LOG_JSON : FG_LOG_LOGFMT);
	if (!a->opts.log_level_set)
		log_set_level((enum fg_log_level)c->log.level);
	events_set_limits(&a->events, c->log.violation_lines_per_sec, c->log.summary_interval_ms);
}

/*
 * App-only mode reads the same file as a protecting agent (a developer runs
 * the production config): its interfaces are set aside with a warning, the
 * agent's own uid is an admin (without privileges there is nothing to keep
 * from it: it may signal, reload or stop the agent anyway), and each policy
 * with xdp_ban says once per load that its bans are not applied.
 */
static void apply_app_only(struct fg_conf *c)
{
	uint32_t me = (uint32_t)geteuid();
	struct fg_conf_socket *so = &c->socket;
	int i;

	if (c->nifaces) {
		log_warn("app-only mode: interfaces: in the config are ignored (no XDP)",
			 LOG_INT("interfaces", c->nifaces), LOG_STR("first", c->ifaces[0]));
		c->nifaces = 0;
	}
	for (i = 0; i < so->nadmin_uids && so->admin_uids[i] != me; i++)
		;
	if (i == so->nadmin_uids && so->nadmin_uids < FG_CONF_MAX_ADMIN_IDS)
		so->admin_uids[so->nadmin_uids++] = me;
	else if (i == so->nadmin_uids)
		log_warn("app-only mode: socket.admin_uids is full; the agent's own uid is not "
			 "an admin",
			 LOG_UINT("uid", me));
	for (i = 0; i < c->npolicies; i++)
		if (c->policies[i].xdp_ban_after)
			log_warn("app-only mode: this policy's xdp_ban is not applied (no XDP); "
				 "its answers are unchanged",
				 LOG_STR("policy", c->policies[i].name));
}

/* -i and --xdp-mode win over the file, on start and on every reload; in
 * app-only mode, apply_app_only(). */
static void apply_overrides(const struct agent *a, struct fg_conf *c)
{
	const struct agent_opts *o = &a->opts;
	int i;

	if (o->nifaces) {
		for (i = 0; i < o->nifaces; i++)
			memcpy(c->ifaces[i], o->ifaces[i], sizeof(c->ifaces[i]));
		c->nifaces = o->nifaces;
	}
	if (o->mode_set)
		c->xdp_mode = o->mode;
	if (a->app_only)
		apply_app_only(c);
}

/* Make list l hold the config's entries plus the run-time ones. */
static int sync_list(struct agent *a, enum xdpmaps_list l, const struct fg_cidr *conf_items,
		     int nconf, const struct agent_list *extra)
{
	struct fg_cidr *all;
	int n = nconf, i, err;

	all = calloc(nconf + extra->n + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	if (nconf)
		memcpy(all, conf_items, nconf * sizeof(*all));
	/* xdpmaps_sync_list() drops repeats itself, in n log n (a search per
	 * entry here was quadratic on full lists) */
	for (i = 0; i < extra->n; i++)
		all[n++] = extra->items[i];
	err = xdpmaps_sync_list(&a->maps, l, all, n);
	free(all);
	return err;
}

/* Compile conf and make it live in the maps (rules, ports, lists). */
static int push_config(struct agent *a, const struct fg_conf *conf, struct fg_compiled *next,
		       const struct fg_rule_ids *prev)
{
	int err;

	err = rules_compile(conf, prev, next);
	if (!err)
		err = syncookies_fill(&a->cookies, conf, next);
	if (err) {
		log_warn("cannot compile rules", LOG_ERRNO(-err));
		return err;
	}
	err = xdpmaps_apply(&a->maps, next, prev);
	if (!err)
		err = sync_list(a, XDPMAPS_ALLOW, conf->allow, conf->nallow, &a->runtime_allow);
	if (!err)
		err = sync_list(a, XDPMAPS_DENY, conf->deny, conf->ndeny, &a->runtime_deny);
	if (err)
		log_warn("cannot write the config into the XDP maps", LOG_ERRNO(-err));
	return err;
}

int agent_list_edit(struct agent *a, bool allow, const struct fg_cidr *c, bool del)
{
	struct agent_list *l = allow ? &a->runtime_allow : &a->runtime_deny;
	const struct fg_cidr *conf_items = allow ? a->conf.allow : a->conf.deny;
	int nconf = allow ? a->conf.nallow : a->conf.ndeny;
	int i = cidr_find(l->items, l->n, c);

	if (cidr_find(conf_items, nconf, c) >= 0)
		return -EEXIST;
	if (!del && i >= 0)
		return -EALREADY;
	if (del) {
		if (i < 0)
			return -ENOENT;
		l->items[i] = l->items[--l->n];
	} else {
		if (l->n == l->cap) {
			int cap = l->cap ? l->cap * 2 : 16;
			struct fg_cidr *grown = realloc(l->items, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			l->items = grown;
			l->cap = cap;
		}
		l->items[l->n++] = *c;
	}
	return sync_list(a, allow ? XDPMAPS_ALLOW : XDPMAPS_DENY, conf_items, nconf, l);
}

/* Build the policy set of conf, keeping the state of unchanged policies. */
static int load_policies(struct agent *a, const struct fg_conf *conf, char *err, size_t errlen)
{
	struct policies *next;
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = xdpmaps_now_ns() ^ (uint64_t)getpid() << 32;
	next = policies_new(conf, a->policies, seed, err, errlen);
	if (!next)
		return errno ? -errno : -EINVAL;
	a->policies = next; /* the old set was consumed */
	return 0;
}

/* Redis (back) up: add the outage's counts, share and load bans. */
static void on_redis_state(bool up, void *arg)
{
	struct agent *a = arg;

	if (!up)
		return;
	policies_redis_up(a->policies);
	fleet_redis_up(a->fleet);
}

static void on_event_tap(const struct fg_event *e, void *arg)
{
	struct agent *a = arg;

	fleet_event(a->fleet, e);
}

/* store.type: redis: connect (in the background: until Redis answers,
 * decisions use each policy's on_store_error) and share bans. */
static int start_redis(struct agent *a)
{
	int err;

	if (a->conf.store.type != FG_STORE_REDIS)
		return 0;
	a->redis = redis_new(a->loop, &a->conf.store.redis);
	if (!a->redis)
		return -errno;
	err = policies_set_redis(a->policies, a->redis);
	if (err)
		return err;
	/* The outage replay in both modes (app-only agents never replayed:
	 * the callback was set with the fleet's). */
	redis_on_state(a->redis, on_redis_state, a);
	if (a->app_only) {
		/* Fleet-wide bans and vouches live in XDP maps this host has not;
		 * a signaling server's vouches (vouch_on_success) still go to the
		 * media hosts that have them. */
		a->fleet = fleet_new(a->loop, a->redis, NULL);
		if (!a->fleet)
			return -errno;
		fleet_set_vouch(a->fleet, a->vouch);
		vouch_set_publish_only(a->vouch, true);
		return 0;
	}
	a->fleet = fleet_new(a->loop, a->redis, &a->maps);
	if (!a->fleet)
		return -errno;
	fleet_set_guard(a->fleet, a->banguard);
	fleet_set_vouch(a->fleet, a->vouch);
	fleet_set_share_tcp(a->fleet, a->conf.vouch.share_tcp, a->conf.vouch.share_tcp_burst);
	return events_add_tap(&a->events, on_event_tap, a);
}

/* --metrics-listen wins over metrics:; "" means no endpoint. */
/* metrics_view_fn: what /metrics renders, as of now. */
static void metrics_view(struct metrics_view *v, void *arg)
{
	struct agent *a = arg;

	*v = (struct metrics_view){
		.app_only = a->app_only,
		.conf = &a->conf,
		.compiled = a->compiled,
		.policies = a->policies,
		.maps = a->app_only ? NULL : &a->maps,
		.skel = a->loader.skel,
		.banguard = a->banguard,
		.vouch = a->vouch,
		.redis = a->redis,
		.fleet = a->fleet,
		.server = a->server,
		.reloads_ok = a->reloads_ok,
		.reloads_failed = a->reloads_failed,
		.last_reload_ok = a->last_reload_ok,
		.last_reload_success_s = a->last_reload_success_s,
	};
}

static const char *metrics_listen(const struct agent *a)
{
	if (a->opts.metrics_listen)
		return a->opts.metrics_listen;
	return a->conf.metrics.enabled ? a->conf.metrics.listen : "";
}

static bool iface_listed(const struct fg_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nifaces; i++)
		if (!strcmp(c->ifaces[i], name))
			return true;
	return false;
}

/* Attach to every interface of c; check_all: check each for cookies (at
 * start), else only those newly attached (a reload checked the others).
 * On failure *failed names the interface. */
static int attach_all(struct agent *a, const struct fg_conf *c, bool check_all,
		      const char **failed)
{
	int i, j, err;

	for (i = 0; i < c->nifaces; i++) {
		bool had = false;

		*failed = c->ifaces[i];
		for (j = 0; j < a->loader.nifaces; j++)
			had |= !strcmp(a->loader.ifaces[j].name, c->ifaces[i]);
		err = loader_attach(&a->loader, c->ifaces[i], c->xdp_mode);
		if (err)
			return err;
		for (j = 0; j < a->loader.nifaces && (check_all || !had); j++) {
			if (strcmp(a->loader.ifaces[j].name, c->ifaces[i]))
				continue;
			err = syncookies_check_iface(c, c->ifaces[i], a->loader.ifaces[j].mode);
			if (err) {
				/* Not protected half-way: a new connection would stall. */
				loader_detach(&a->loader, c->ifaces[i]);
				return err;
			}
			break;
		}
	}
	return 0;
}

/*
 * The XDP half of the start, which app-only mode skips: load the program
 * (or adopt the pins of an earlier agent), write the config into its maps,
 * attach to the interfaces and open the events ring buffer. Returns 0 or
 * nonzero, logged; agent_start()'s failure path undoes what was done.
 */
static int start_xdp(struct agent *a)
{
	const struct fg_rule_ids *prev;
	const char *failed;
	int err;

	kernel_probe_features();
	if (loader_open(&a->loader, &a->conf, a->opts.pin_dir))
		return -EIO;
	xdpmaps_from_skel(&a->maps, a->loader.skel);
	/* Before our program is attached (it would skip every adopted address
	 * ban whose slot counts nothing); no writer uses this filter yet. */
	if (a->loader.new_ban_filter) {
		err = xdpmaps_ban_filter_recount(&a->maps);
		if (err)
			log_warn("ban filter: cannot count the adopted address bans; every "
				 "source looks them up",
				 LOG_ERRNO(-err));
		else
			log_info("ban filter: new, over adopted address bans; counted");
	}
	err = seen_open(&a->seen, &a->maps);
	if (err)
		log_warn("the state filter is off: every source is looked up",
			 LOG_ERRNO(-err));
	if (a->loader.adopted_maps)
		syncookies_recover(&a->cookies, &a->maps, xdpmaps_now_ns());

	/* Adopted maps: rule ids come out the same for the same config, so
	 * treating them as unchanged keeps the global budgets and attack state. */
	err = rules_compile(&a->conf, NULL, a->compiled);
	prev = a->loader.adopted_maps && !err ? &a->compiled->ids : NULL;
	if (err || (err = push_config(a, &a->conf, a->compiled, prev)))
		return err;

	loader_detach_stale(&a->loader, a->conf.ifaces, a->conf.nifaces);
	err = attach_all(a, &a->conf, true, &failed);
	if (err)
		return err;
	/* Until the attach, the program of the floodgated that pinned the
	 * maps marked its inserts in its own filter: a rebuild starts now
	 * (the ticks carry it on) and walks them into ours. */
	if (a->loader.new_filter) {
		int n;

		log_info("state filter: new, over adopted maps; rebuilt once more now that our "
			 "program is attached");
		n = seen_tick(&a->seen, SEEN_KEYS_PER_TICK, true, xdpmaps_now_ns());
		if (n < 0)
			log_warn("state filter: cannot walk the state maps", LOG_ERRNO(-n));
	}

	err = events_open(&a->events, a->maps.events, &a->compiled->ids,
			  a->conf.log.violation_lines_per_sec);
	if (err)
		log_error("cannot read the events ring buffer", LOG_ERRNO(-err));
	return err;
}

/*
 * The socket's path: --socket, else socket.path. A user other than root
 * cannot create the default's directory (/run/floodgate): unless it is there
 * and writable, such an agent listens at $XDG_RUNTIME_DIR/floodgate/ instead
 * (the user's own runtime directory, as systemd-logind makes it), and
 * without XDG_RUNTIME_DIR it says what to set. buf holds a made path.
 * NULL (logged) when there is none.
 */
static const char *socket_path(const struct agent *a, char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[sizeof(FG_DEFAULT_SOCKET)];
	int n;

	if (a->opts.socket_path)
		return a->opts.socket_path;
	if (strcmp(a->conf.socket.path, FG_DEFAULT_SOCKET) || geteuid() == 0)
		return a->conf.socket.path;
	snprintf(dir, sizeof(dir), "%s", FG_DEFAULT_SOCKET);
	*strrchr(dir, '/') = '\0';
	if (!access(dir, W_OK | X_OK))
		return a->conf.socket.path;
	if (!xdg || xdg[0] != '/') {
		log_error("not root: cannot create the default socket " FG_DEFAULT_SOCKET
			  "; give --socket PATH or socket.path in the config (or set "
			  "XDG_RUNTIME_DIR)",
			  LOG_UINT("uid", geteuid()));
		return NULL;
	}
	n = snprintf(buf, len, "%s/floodgate/floodgate.sock", xdg);
	if (n < 0 || (size_t)n >= len) {
		log_error("XDG_RUNTIME_DIR is too long for a socket path; give --socket PATH or "
			  "socket.path in the config",
			  LOG_STR("XDG_RUNTIME_DIR", xdg));
		return NULL;
	}
	return buf;
}

int agent_start(struct agent *a, const struct agent_opts *opts)
{
	char err_msg[FG_CONF_ERR_MAX], sock_buf[sizeof(a->conf.socket.path)];
	const char *sock;
	int err;

	memset(a, 0, sizeof(*a));
	a->opts = *opts;
	if (config_load(opts->config_path, &a->conf, err_msg, sizeof(err_msg))) {
		log_error(err_msg, LOG_STR("file", opts->config_path));
		return 2;
	}
	apply_log(a, &a->conf);
	a->app_only = opts->app_only || a->conf.app_only;
	if (a->app_only && opts->nifaces) {
		log_error("-i IFACE and app-only mode exclude each other: app-only mode protects "
			  "no interface (drop -i, or app_only: true from the config)",
			  LOG_STR("file", opts->config_path));
		config_free(&a->conf);
		return 2;
	}
	/* Below the floor the verifier's dump would be all the operator sees: one
	 * line instead, and exit 2, which the unit does not restart. App-only
	 * mode loads no program: any kernel will do. */
	if (!a->app_only && kernel_check_floor()) {
		config_free(&a->conf);
		return 2;
	}
	log_info("floodgated starting", LOG_STR("version", FG_VERSION),
		 LOG_STR("commit", FG_COMMIT), LOG_STR("mode", a->app_only ? "app-only" : "xdp"));
	apply_overrides(a, &a->conf);
	if (!a->app_only && !a->conf.nifaces) {
		log_error("no interface to protect: give -i IFACE or list interfaces: in the "
			  "config (or run without XDP: --app-only)",
			  LOG_STR("file", opts->config_path));
		config_free(&a->conf);
		return 2;
	}
	sock = socket_path(a, sock_buf, sizeof(sock_buf));
	if (!sock) {
		config_free(&a->conf);
		return 2;
	}
	if (load_policies(a, &a->conf, err_msg, sizeof(err_msg))) {
		log_error(err_msg, LOG_STR("file", opts->config_path));
		config_free(&a->conf);
		return 2;
	}
	a->compiled = calloc(1, sizeof(*a->compiled));
	a->banguard = banguard_new(&a->conf);
	a->vouch = vouch_new(&a->conf);
	if (!a->compiled || !a->banguard || !a->vouch) {
		free(a->compiled);
		a->compiled = NULL;
		banguard_free(a->banguard);
		a->banguard = NULL;
		vouch_free(a->vouch);
		a->vouch = NULL;
		config_free(&a->conf);
		return 1;
	}

	if (!a->app_only && start_xdp(a))
		goto fail;
	apply_log(a, &a->conf);
	/* The socket comes last: failing to bind it leaves no handle to close. */
	a->loop = uv_default_loop();
	err = start_redis(a);
	if (err) {
		log_error("cannot set up the redis store", LOG_ERRNO(-err));
		goto fail;
	}
	a->server = server_new(a->loop, &a->conf.socket, sock);
	if (!a->server)
		goto fail;
	server_set_config_file(a->server, opts->config_path);
	err = opts->on_socket ? opts->on_socket(a, a->server) : 0;
	if (err) {
		log_error("cannot register the socket commands", LOG_ERRNO(-err));
		goto fail;
	}
	/* App-only mode: no events to watch; XDP.WATCH says why (commands.c). */
	if (!a->app_only) {
		a->watch = watch_new(a->loop, a->server, &a->events);
		if (!a->watch) {
			log_error("cannot register XDP.WATCH", LOG_ERRNO(errno));
			goto fail;
		}
	}
	if (server_listen(a->server))
		goto fail;
	/* Bound now (a port below 1024 needs a capability), served from a
	 * thread started after the drop. A busy port costs the metrics, not
	 * the protection: the log says so and Prometheus sees the target down. */
	if (metrics_open(&a->metrics, metrics_listen(a)))
		log_warn("no metrics endpoint: see above");
	else
		server_set_metrics_listen(a->server, metrics_listen(a));
	/* Loaded, attached, bound: from here on CAP_BPF and CAP_NET_ADMIN do
	 * (nothing in app-only mode). Capabilities are per thread: start
	 * threads after this line. */
	if (caps_drop_to_runtime(!a->app_only))
		goto fail;
	a->last_reload_ok = true;
	a->last_reload_success_s = clock_realtime_ms() / 1e3;
	/* logged; a failure leaves no endpoint */
	metrics_start(a->metrics, a->loop, metrics_view, a);
	if (a->app_only)
		log_info("serving applications in app-only mode (no XDP: nothing is dropped at "
			 "the NIC)",
			 LOG_STR("socket", sock), LOG_INT("policies", a->conf.npolicies),
			 LOG_STR("config", opts->config_path));
	else
		log_info(a->conf.dry_run ? "protecting interfaces in dry-run (nothing dropped)"
					 : "protecting interfaces",
			 LOG_INT("interfaces", a->conf.nifaces), LOG_INT("rules", a->conf.nrules),
			 LOG_BOOL("dry_run", a->conf.dry_run), LOG_STR("config", opts->config_path),
			 LOG_STR("pins", opts->pin_dir));
	return 0;

fail:
	metrics_free(a->metrics); /* opened at most: no thread, no timer yet */
	a->metrics = NULL;
	events_close(&a->events);
	server_close(a->server); /* not listening: nothing left on the loop */
	server_free(a->server);
	a->server = NULL;
	watch_free(a->watch); /* no event reached it: it has no handle on the loop */
	a->watch = NULL;
	/* Pins that an earlier agent left keep protecting; our own go. */
	seen_close(&a->seen);
	xdpmaps_unmap(&a->maps);
	loader_close(&a->loader, a->loader.adopted_maps);
	config_free(&a->conf);
	policies_free(a->policies);
	a->policies = NULL;
	free(a->compiled);
	a->compiled = NULL;
	banguard_free(a->banguard);
	a->banguard = NULL;
	vouch_free(a->vouch);
	a->vouch = NULL;
	return 1;
}

/* Why an interface cannot be protected, for a refused reload's reply (the
 * log has the whole story). */
static const char *attach_problem(int err)
{
	if (err == -ENODEV)
		return "no such interface (check the name with 'ip link show')";
	if (err == -EOPNOTSUPP)
		return "its SYN-ACKs (syn_cookies: always) would not be delivered (see the log)";
	return strerror(-err);
}

/* Detach from the interfaces the running config does not list: a reload's
 * new ones, when the reload is refused. */
static void detach_unlisted(struct agent *a, const struct fg_conf *keep)
{
	int i;

	for (i = a->loader.nifaces - 1; i >= 0; i--)
		if (!iface_listed(keep, a->loader.ifaces[i].name))
			loader_detach(&a->loader, a->loader.ifaces[i].name);
}

/* The XDP half of a reload, which app-only mode skips: attach to the
 * interfaces conf adds, conf into the maps (compiled into next), then detach
 * from the interfaces conf no longer lists. An interface that cannot be
 * protected (a typo, a missing device) refuses the reload, as it refuses a
 * start. Returns 0 or -errno with err set (nothing changed). */
static int reload_xdp(struct agent *a, const struct fg_conf *conf, struct fg_compiled *next,
		      char *err, size_t errlen)
{
	const char *failed;
	int i, ret;

	/* Refused before anything changes: a rule made always on an attached
	 * native veth whose peer cannot receive XDP_TX. */
	for (i = 0; i < a->loader.nifaces; i++)
		if (iface_listed(conf, a->loader.ifaces[i].name) &&
		    (ret = syncookies_check_iface(conf, a->loader.ifaces[i].name,
						  a->loader.ifaces[i].mode))) {
			snprintf(err, errlen, "%s: cannot protect %s: %s", a->opts.config_path,
				 a->loader.ifaces[i].name, attach_problem(ret));
			return ret;
		}
	/* New interfaces first, under the running config (the program and
	 * maps are the same): on failure they are detached again. */
	ret = attach_all(a, conf, false, &failed);
	if (ret) {
		snprintf(err, errlen, "%s: cannot protect %s: %s", a->opts.config_path, failed,
			 attach_problem(ret));
		detach_unlisted(a, &a->conf);
		return ret;
	}
	ret = push_config(a, conf, next, &a->compiled->ids);
	if (ret) {
		/* Put the running config back: it is still what we promise. */
		push_config(a, &a->conf, a->compiled, &next->ids);
		detach_unlisted(a, &a->conf);
		snprintf(err, errlen, "cannot apply %s: %s", a->opts.config_path, strerror(-ret));
		return ret;
	}
	detach_unlisted(a, conf);
	return 0;
}

/* Make conf (parsed, owned from here on) the running config; on any error
 * the running config stays. Loop thread. */
static int reload_apply(struct agent *a, struct fg_conf *parsed, char *err, size_t errlen)
{
	struct fg_conf_metrics prev_metrics = a->conf.metrics;
	struct fg_conf_store prev_store = a->conf.store;
	struct fg_compiled *next;
	struct fg_conf conf = *parsed;
	int ret;

	apply_overrides(a, &conf);
	if (!a->opts.app_only && conf.app_only != a->app_only)
		log_warn("app_only changes only at restart; the running mode stays",
			 LOG_STR("mode", a->app_only ? "app-only" : "xdp"));
	if (!a->app_only && !conf.nifaces) {
		snprintf(err, errlen, "%s: no interface to protect", a->opts.config_path);
		ret = -EINVAL;
		config_free(&conf);
		goto rejected;
	}
	if (conf.max_tracked != a->conf.max_tracked || conf.max_prefixes != a->conf.max_prefixes ||
	    conf.max_udp_flows != a->conf.max_udp_flows ||
	    conf.max_verified != a->conf.max_verified)
		log_warn("map sizes (sources.max_*) change only at restart; keeping the running "
			 "sizes");
	/* vouch.max sizes the verified map too: a larger one would let
	 * vouches take TCP-verified room, so it waits for the restart. */
	if (conf.vouch.max > a->conf.vouch.max) {
		log_warn("vouch.max grows only at restart (it sizes the verified map); keeping "
			 "the running one",
			 LOG_UINT("vouch_max", a->conf.vouch.max));
		conf.vouch.max = a->conf.vouch.max;
	}
	/* Maps are sized at load: keep the running sizes so a restart with
	 * this file sees what is really in use. */
	conf.max_tracked = a->conf.max_tracked;
	conf.max_prefixes = a->conf.max_prefixes;
	conf.max_udp_flows = a->conf.max_udp_flows;
	conf.max_verified = a->conf.max_verified;

	next = calloc(1, sizeof(*next));
	if (!next) {
		config_free(&conf);
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto rejected;
	}
	/* Policies first: they can still refuse the file, and nothing may
	 * change before everything has been accepted. */
	ret = load_policies(a, &conf, err, errlen);
	if (ret) {
		config_free(&conf);
		free(next);
		goto rejected;
	}
	ret = a->app_only ? 0 : reload_xdp(a, &conf, next, err, errlen);
	if (ret) {
		config_free(&conf);
		free(next);
		goto rejected;
	}

	free(a->compiled);
	a->compiled = next;
	a->events.ids = &next->ids;
	config_free(&a->conf);
	a->conf = conf;
	server_set_conf(a->server, &a->conf.socket);
	if (banguard_configure(a->banguard, &a->conf))
		log_warn("app_bans: out of memory; the running bounds stay");
	if (vouch_configure(a->vouch, &a->conf))
		log_warn("vouch: out of memory; the running bounds stay");
	fleet_set_share_tcp(a->fleet, a->conf.vouch.share_tcp, a->conf.vouch.share_tcp_burst);
	if (memcmp(&conf.store.redis, &prev_store.redis, sizeof(prev_store.redis)) ||
	    conf.store.type != prev_store.type)
		log_warn("store: type and redis change only at restart; the running store stays");
	if (strcmp(conf.metrics.listen, prev_metrics.listen) ||
	    conf.metrics.enabled != prev_metrics.enabled ||
	    conf.metrics.max_connections != prev_metrics.max_connections ||
	    conf.metrics.timeout_ms != prev_metrics.timeout_ms)
		log_warn("metrics: changes apply at restart; the endpoint stays as it is");
	a->reloads_ok++;
	a->last_reload_ok = true;
	a->last_reload_success_s = clock_realtime_ms() / 1e3;
	apply_log(a, &a->conf);
	log_info("config reloaded", LOG_STR("file", a->opts.config_path),
		 LOG_INT("rules", conf.nrules), LOG_INT("interfaces", conf.nifaces),
		 LOG_BOOL("dry_run", conf.dry_run));
	return 0;

rejected:
	a->reloads_failed++;
	a->last_reload_ok = false;
	return ret;
}

int agent_reload(struct agent *a, char *err, size_t errlen)
{
	struct fg_conf conf;
	int ret;

	ret = config_load(a->opts.config_path, &conf, err, errlen);
	if (ret) {
		a->reloads_failed++;
		a->last_reload_ok = false;
		return ret;
	}
	return reload_apply(a, &conf, err, errlen);
}

/* --- reloads off the loop ---------------------------------------------------- */

struct reload_waiter {
	agent_reload_cb cb;
	void *arg;
	struct reload_waiter *next;
};

/* One parse on libuv's thread pool: the loop keeps serving meanwhile. */
struct reload_job {
	uv_work_t req;
	struct agent *a;
	struct fg_conf conf; /* the worker's result, applied by reload_done() */
	int ret;
	char err[FG_CONF_ERR_MAX];
	bool hup; /* a SIGHUP asked: log the outcome */
	struct reload_waiter *waiters;
};

static void reload_work(uv_work_t *req)
{
	struct reload_job *job = req->data;

	/* Reads only opts.config_path, which never changes. */
	job->ret = config_load(job->a->opts.config_path, &job->conf, job->err, sizeof(job->err));
}

static void reload_start(struct agent *a, bool hup, struct reload_waiter *waiters);

static void reload_answer(struct reload_waiter *w, bool hup, int ret, const char *err)
{
	struct reload_waiter *next;

	if (hup && ret)
		log_warn("reload rejected, running config kept", LOG_STR("error", err));
	for (; w; w = next) {
		next = w->next;
		w->cb(ret, err, w->arg);
		free(w);
	}
}

static void reload_done(uv_work_t *req, int status)
{
	struct reload_job *job = req->data;
	struct agent *a = job->a;

	a->reload_running = NULL;
	if (status || a->stopping) {
		if (!job->ret)
			config_free(&job->conf);
		job->ret = -ECANCELED;
		snprintf(job->err, sizeof(job->err), "the agent is stopping");
		job->hup = false;
	} else if (job->ret) {
		a->reloads_failed++;
		a->last_reload_ok = false;
	} else {
		job->ret = reload_apply(a, &job->conf, job->err, sizeof(job->err));
	}
	reload_answer(job->waiters, job->hup, job->ret, job->err);
	free(job);
	/* Everything asked while this one parsed: one more parse, which reads
	 * the file as it is now. */
	if (a->reload_pending) {
		struct reload_waiter *w = a->reload_waiting;
		bool hup = a->reload_pending_hup;

		a->reload_pending = a->reload_pending_hup = false;
		a->reload_waiting = NULL;
		if (a->stopping)
			reload_answer(w, false, -ECANCELED, "the agent is stopping");
		else
			reload_start(a, hup, w);
	}
}

static void reload_start(struct agent *a, bool hup, struct reload_waiter *waiters)
{
	struct reload_job *job = calloc(1, sizeof(*job));
	int err;

	if (!job) {
		reload_answer(waiters, hup, -ENOMEM, "out of memory");
		return;
	}
	job->a = a;
	job->hup = hup;
	job->waiters = waiters;
	job->req.data = job;
	err = uv_queue_work(a->loop, &job->req, reload_work, reload_done);
	if (err) {
		free(job);
		reload_answer(waiters, hup, -EAGAIN, "cannot queue the config parse");
		return;
	}
	a->reload_running = job;
}

int agent_reload_async(struct agent *a, agent_reload_cb cb, void *arg)
{
	struct reload_waiter *w = NULL;

	if (a->stopping)
		return -ECANCELED;
	if (cb) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->cb = cb;
		w->arg = arg;
	}
	if (!a->reload_running) {
		reload_start(a, !cb, w);
		return 0;
	}
	/* A parse is under way and may have read the file before the change
	 * this request is about: coalesce into one parse after it. */
	a->reload_pending = true;
	if (!cb)
		a->reload_pending_hup = true;
	if (w) {
		w->next = a->reload_waiting;
		a->reload_waiting = w;
	}
	return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;

	if (signum == SIGHUP) {
		/* Parsed off the loop (a slow or hostile file must not stop the
		 * socket and /healthz); the outcome is logged when applied. */
		agent_reload_async(a, NULL, NULL);
		return;
	}
	log_info("stopping", LOG_STR("signal", signum == SIGINT ? "SIGINT" : "SIGTERM"));
	uv_stop(a->loop);
}

static void on_events(uv_poll_t *h, int status, int events)
{
	struct agent *a = h->data;

	(void)events;
	if (status < 0)
		return;
	events_consume(&a->events);
}

/*
 * Put the program back where the kernel no longer has it on an interface
 * of the config: detached by another tool, or the interface deleted and
 * made again (a driver reset). Protection has no gap the agent can close.
 * Another XDP program in its place is left alone, and said once: removing
 * it is the operator's call. Loop thread, each tick.
 */
static void reattach_lost(struct agent *a)
{
	uint32_t prog = loader_xdp_prog_id(a->loader.skel);
	const char *mode, *why, *failed;
	char m[256];
	bool lost = false;
	int i, err;

	for (i = a->loader.nifaces - 1; i >= 0; i--) {
		struct loader_iface *li = &a->loader.ifaces[i];
		int ifindex = (int)if_nametoindex(li->name);

		if (!ifindex || loader_xdp_attached(prog, ifindex, &mode, &why))
			continue;
		if (strcmp(why, LOADER_XDP_DETACHED)) {
			if (!li->taken_logged)
				log_error(log_fmt(m, sizeof(m),
						  "%s is not protected: %s (detach it, and floodgated "
						  "attaches again)",
						  li->name, why),
					  LOG_STR("iface", li->name));
			li->taken_logged = true;
			continue;
		}
		log_warn(log_fmt(m, sizeof(m),
				 "%s lost floodgate's XDP program (detached by another tool, or the "
				 "interface made again): attaching it again",
				 li->name),
			 LOG_STR("iface", li->name));
		/* A device made again: the egress filter went with the old one,
		 * whose ifindex is not this interface's to detach from. */
		if (ifindex != li->ifindex)
			li->tc_attached = false;
		loader_detach(&a->loader, li->name);
		lost = true;
	}
	if (lost && (err = attach_all(a, &a->conf, false, &failed)))
		log_error(log_fmt(m, sizeof(m), "%s stays unprotected: %s", failed,
				  attach_problem(err)),
			  LOG_STR("iface", failed));
}

static void on_tick(uv_timer_t *h)
{
	struct agent *a = h->data;
	uint64_t now = xdpmaps_now_ns();
	int n;

	n = xdpmaps_sweep_bans(&a->maps, now);
	if (n > 0)
		log_debug("expired bans removed", LOG_INT("count", n));
	n = vouch_sweep(a->vouch, &a->maps, now);
	if (n > 0)
		log_debug("ended vouches removed", LOG_INT("count", n));
	n = fleet_share_tcp(a->fleet, now);
	if (n < 0)
		log_debug("fleet: cannot walk the verified map", LOG_ERRNO(-n));
	/* The ring buffer is also drained here: an idle poll never misses
	 * events that arrived between two wakeups. */
	events_consume(&a->events);
	events_flush(&a->events, now);
	reattach_lost(a);
	n = hostpeers_tick(&a->hostpeers, &a->maps, now);
	if (n < 0)
		log_warn("cannot keep the host's resolvers and gateways verified", LOG_ERRNO(-n));
	syncookies_tick(&a->cookies, &a->conf, &a->maps, a->compiled, now);
	n = seen_tick(&a->seen, SEEN_KEYS_PER_TICK, false, now);
	if (n > 0)
		log_debug("state filter rebuilt",
			  LOG_UINT("bits_set", seen_bits_set(&a->seen)));
	else if (n < 0)
		log_warn("state filter: cannot walk the state maps", LOG_ERRNO(-n));
}

static void on_sweep(uv_timer_t *h)
{
	struct agent *a = h->data;

	if (a->policies)
		policies_sweep(a->policies, clock_realtime_ms(), SWEEP_BUCKETS);
	/* App-only mode has no tick: ended vouches (kept for the fleet) leave
	 * the count here, so floodgate_vouched and the quota follow them. */
	if (a->app_only)
		vouch_sweep(a->vouch, NULL, xdpmaps_now_ns());
}

int agent_run(struct agent *a)
{
	a->sig_hup.data = a->sig_term.data = a->sig_int.data = a;
	a->events_poll.data = a->tick.data = a;

	uv_signal_init(a->loop, &a->sig_hup);
	uv_signal_start(&a->sig_hup, on_signal, SIGHUP);
	uv_signal_init(a->loop, &a->sig_term);
	uv_signal_start(&a->sig_term, on_signal, SIGTERM);
	uv_signal_init(a->loop, &a->sig_int);
	uv_signal_start(&a->sig_int, on_signal, SIGINT);
	/* XDP's events and ban expiry: nothing to read or sweep in app-only mode. */
	if (!a->app_only) {
		uv_poll_init(a->loop, &a->events_poll, events_fd(&a->events));
		uv_poll_start(&a->events_poll, UV_READABLE, on_events);
		uv_timer_init(a->loop, &a->tick);
		uv_timer_start(&a->tick, on_tick, TICK_MS, TICK_MS);
	}
	a->sweep.data = a;
	uv_timer_init(a->loop, &a->sweep);
	uv_timer_start(&a->sweep, on_sweep, SWEEP_MS, SWEEP_MS);

	uv_run(a->loop, UV_RUN_DEFAULT);
	return a->exit_code;
}

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void agent_stop(struct agent *a)
{
	/* A parse in flight is dropped, not applied, when it ends below. */
	a->stopping = true;
	if (a->reload_running)
		uv_cancel((uv_req_t *)&a->reload_running->req);
	/* The server closes its own handles first: their callbacks free clients. */
	server_close(a->server);
	metrics_stop(a->metrics); /* no scrape reads the state freed below */
	/* Before the handle walk: they close their own handles (and answer
	 * what is still in flight from the memory store). */
	fleet_free(a->fleet);
	a->fleet = NULL;
	redis_free(a->redis);
	a->redis = NULL;
	if (a->loop) {
		uv_walk(a->loop, close_handle, NULL);
		uv_run(a->loop, UV_RUN_DEFAULT);
		uv_loop_close(a->loop);
		a->loop = NULL;
	}
	server_free(a->server); /* its clients freed: no subscription points to the watch */
	a->server = NULL;
	watch_free(a->watch);
	a->watch = NULL;
	metrics_free(a->metrics);
	a->metrics = NULL;
	events_close(&a->events);
	if (a->compiled)
		syncookies_restore(&a->cookies, &a->maps, a->compiled);
	seen_close(&a->seen);
	xdpmaps_unmap(&a->maps);
	loader_close(&a->loader, a->conf.persist);
	config_free(&a->conf);
	policies_free(a->policies);
	a->policies = NULL;
	free(a->runtime_allow.items);
	free(a->runtime_deny.items);
	free(a->compiled);
	a->compiled = NULL;
	banguard_free(a->banguard);
	a->banguard = NULL;
	vouch_free(a->vouch);
	a->vouch = NULL;
}
