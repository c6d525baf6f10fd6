// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <microhttpd.h>

#include "banguard.h"
#include "vouch.h"
#include "config.h"
#include "floodgate.skel.h"
#include "kernel.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "fleet.h"
#include "policy.h"
#include "redis.h"
#include "rules.h"
#include "sbuf.h"
#include "seen.h"
#include "server.h"
#include "status.h"
#include "syncookies.h"
#include "xdpmaps.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* A request's headers (and the connection's parsing state) fit in this:
 * a larger header gets 431 and the connection closes. */
#define HTTP_MEMORY_LIMIT (16 * 1024)
/* How often the deadline thread looks for connections past their time. */
#define HTTP_REAP_MS 200
#define HEALTH_MAX   256
#define STR_(x)	     #x
#define STR(x)	     STR_(x)
/* Ends the label pairs of u64()/dbl(): a typed NULL through the varargs. */
#define LABELS_END ((const char *)NULL)

/* The maps whose entries are counted (on the thread pool). */
enum count_map {
	CM_SRC,
	CM_PREFIX,
	CM_UDP,
	CM_VERIFIED,
	CM_BANS,      /* the trie of prefix bans (beyond bans_pfx's lengths) */
	CM_BANS_ADDR, /* the hash of address bans */
	CM_BANS_PFX,  /* the hash of prefix bans */
	CM_ALLOW, /* the tries of the lists' prefixes */
	CM_DENY,
	CM_ALLOW_ADDR, /* the hashes of the lists' addresses */
	CM_DENY_ADDR,
	CM__MAX,
};
static const char *const count_map_names[CM__MAX] = {
	"src_state", "prefix_state", "udp_flows", "verified",   "bans",
	"bans_addr", "bans_pfx",     "allow",	  "deny",	"allow_addr",
	"deny_addr",
};

struct count_job {
	uv_work_t req;
	struct metrics *m;
	int fd[CM__MAX];
	uint32_t key_size[CM__MAX], value_size[CM__MAX];
	long entries[CM__MAX]; /* -errno when the count failed */
	uint64_t bans[FG_BAN_ORIGIN_MAX];
	int filter_fd;
	long filter_used; /* ban filter slots counting a ban; -errno */
	int seen_fd;
	int seen_err; /* the state filter and prefix ban cover could not be counted: -errno */
	struct seen_counts seen;
	bool busy;
};

/* RL.AUTH.FAIL delay histogram bounds */
static const double auth_bounds_s[] = { 0, 0.5, 1, 2, 4, 8, 16, 32, 64, 300 };
#define AUTH_BUCKETS (sizeof(auth_bounds_s) / sizeof(auth_bounds_s[0]))

struct metrics {
	int listen_fd;
	char listen[64];
	struct MHD_Daemon *daemon;
	uv_loop_t *loop;
	metrics_view_fn view; /* the agent's state, asked for at each render and count */
	void *view_arg;
	struct metrics_view v; /* loop thread only: as of the last ask */
	uv_timer_t render_timer, count_timer;
	bool timers_on;
	uint32_t prog_id; /* our XDP program: what /healthz expects on each interface */

	/* Loop thread only. */
	struct sbuf spare; /* the next snapshot is rendered here */
	struct count_job job;
	bool counted; /* job results are valid */
	long entries[CM__MAX];
	long filter_used;
	int seen_err;
	struct seen_counts seen;
	uint64_t bans[FG_BAN_ORIGIN_MAX];
	double start_time_s; /* process_start_time_seconds */
	double render_s;     /* how long the last rendering took (loop time) */
	/* le labels of the histogram buckets, formatted once */
	char auth_le[AUTH_BUCKETS][16];
	/* RL.AUTH.FAIL delays, one histogram per policy name ever observed:
	 * bounded by the policies of the configs this process has run. */
	struct auth_hist *auth_hists;
	size_t auth_n, auth_cap;
	char lat_le[SERVER_LAT_BUCKETS][16];
	char redis_le[REDIS_LAT_BUCKETS][16];

	/* Open HTTP connections and their deadlines: the MHD thread adds and
	 * removes them, the reaper thread shuts down those past it. Under
	 * conn_lock; MHD closes a descriptor only after its CLOSED
	 * notification, which takes the lock, so a listed fd is still ours. */
	pthread_mutex_t conn_lock;
	pthread_cond_t reap_cond;
	pthread_t reaper;
	bool reaper_on, reaper_stop;
	struct http_conn *conns;
	uint64_t timeout_ms;
	uint64_t timed_out; /* connections closed at their deadline */
	uint32_t max_conns;

	/* Shared with the HTTP thread, under lock. */
	pthread_mutex_t lock;
	struct sbuf text;	 /* the latest complete snapshot */
	uint64_t rendered_ns;	 /* CLOCK_MONOTONIC of text */
	char health[HEALTH_MAX]; /* "" = healthy, else why not */

	struct status *status; /* GET / and /status.json (status.h); NULL: not served */
};

struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	bool shut;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC */
};

/* --- auth delay histograms (loop thread) ----------------------------------- */

struct auth_hist {
	char policy[FG_CONF_NAME_MAX];
	uint64_t bucket[AUTH_BUCKETS + 1]; /* not cumulative; the last is +Inf */
	uint64_t sum_ms;
};
/* At most POLICY_MAX per config, four configs' worth. */
static struct auth_hist *auth_find(struct metrics *m, const char *policy, bool add)
{
	size_t i;

	for (i = 0; i < m->auth_n; i++)
		if (!strcmp(m->auth_hists[i].policy, policy))
			return &m->auth_hists[i];
	if (!add || m->auth_n >= 4 * POLICY_MAX)
		return NULL;
	if (m->auth_n == m->auth_cap) {
		size_t cap = m->auth_cap ? m->auth_cap * 2 : 16;
		struct auth_hist *grown = realloc(m->auth_hists, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		m->auth_hists = grown;
		m->auth_cap = cap;
	}
	memset(&m->auth_hists[m->auth_n], 0, sizeof(m->auth_hists[m->auth_n]));
	snprintf(m->auth_hists[m->auth_n].policy, sizeof(m->auth_hists[m->auth_n].policy), "%s",
		 policy);
	return &m->auth_hists[m->auth_n++];
}

void metrics_observe_auth_delay(struct metrics *m, const char *policy, uint64_t delay_ms)
{
	struct auth_hist *h = m ? auth_find(m, policy, true) : NULL;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < AUTH_BUCKETS; i++)
		if ((double)delay_ms <= auth_bounds_s[i] * 1000)
			break;
	h->bucket[i]++;
	h->sum_ms += delay_ms;
}

/* --- exposition text ------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	/* Help texts are ours: no backslash or newline to escape. */
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(struct sbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			sbuf_puts(b, "\\\\");
		else if (*v == '"')
			sbuf_puts(b, "\\\"");
		else if (*v == '\n')
			sbuf_puts(b, "\\n");
		else
			sbuf_putc(b, *v);
	}
}

/* name{k1="v1",...} then the value: labels are NULL-terminated key, value pairs. */
static void sample_start(struct sbuf *b, const char *name, va_list ap)
{
	const char *k, *v;
	bool first = true;

	sbuf_puts(b, name);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		sbuf_puts(b, first ? "{" : ",");
		sbuf_puts(b, k);
		sbuf_puts(b, "=\"");
		label_value(b, v);
		sbuf_putc(b, '"');
		first = false;
	}
	if (!first)
		sbuf_putc(b, '}');
	sbuf_putc(b, ' ');
}

static void u64(struct sbuf *b, const char *name, uint64_t v, ...)
{
	va_list ap;

	va_start(ap, v);
	sample_start(b, name, ap);
	va_end(ap);
	sbuf_put_ull(b, v);
	sbuf_putc(b, '\n');
}

static void dbl(struct sbuf *b, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	sample_start(b, name, ap);
	va_end(ap);
	sbuf_printf(b, "%.15g\n", v);
}

/* A family of one sample without labels. */
static void single(struct sbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	family(b, name, type, help);
	u64(b, name, v, LABELS_END);
}

/*
 * One series of a histogram: counts[0..nbounds] per bucket, not cumulative
 * (the last is above every bound), le[] the bounds as labels, sum in their
 * unit; key, value: the series' label (key NULL: none). _count is the total.
 */
static void histogram(struct sbuf *b, const char *name, const uint64_t *counts, size_t nbounds,
		      const char (*le)[16], double sum, const char *key, const char *value)
{
	char bucket[96], sum_name[96], count_name[96];
	uint64_t cum = 0;
	size_t k;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(sum_name, sizeof(sum_name), "%s_sum", name);
	snprintf(count_name, sizeof(count_name), "%s_count", name);
	for (k = 0; k <= nbounds; k++) {
		const char *bound = k < nbounds ? le[k] : "+Inf";

		cum += counts[k];
		if (key)
			u64(b, bucket, cum, key, value, "le", bound, LABELS_END);
		else
			u64(b, bucket, cum, "le", bound, LABELS_END);
	}
	dbl(b, sum_name, sum, key, value, LABELS_END);
	u64(b, count_name, cum, key, value, LABELS_END);
}

/* --- what the loop checks and counts ---------------------------------------- */

static const char *rule_proto(const struct metrics_view *a, uint32_t id, const char *name)
{
	int i;

	if (id == FG_RULE_DEFAULT_TCP)
		return "tcp";
	if (id == FG_RULE_DEFAULT_UDP)
		return "udp";
	for (i = 0; i < a->conf->nrules; i++)
		if (!strcmp(a->conf->rules[i].name, name))
			return a->conf->rules[i].proto == FG_PROTO_UDP ? "udp" : "tcp";
	return "tcp";
}

/* Entries of a hash map in batches (a syscall per thousands of entries);
 * tries and kernels without batch ops walk the keys. */
static long count_entries(int fd, uint32_t key_size, uint32_t value_size)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = malloc((size_t)BATCH * key_size);
	char *vals = malloc((size_t)BATCH * value_size);
	__u32 in_batch = 0, out_batch = 0, count;
	bool first = true;
	long n = 0;
	int err;

	if (!keys || !vals)
		goto walk;
	for (;;) {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals,
					   &count, &opts);
		if (err && errno != ENOENT) {
			n = 0;
			goto walk; /* EINVAL/ENOTSUPP (LPM trie), ENOSPC (huge bucket) */
		}
		n += count;
		if (err)
			break;
		in_batch = out_batch;
		first = false;
	}
	free(keys);
	free(vals);
	return n;
walk:
	free(keys);
	free(vals);
	return xdpmaps_count(fd, key_size);
}

struct ban_count {
	uint64_t *origins; /* [FG_BAN_ORIGIN_MAX] */
	long addrs, prefixes;
};

static int ban_origin(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	struct ban_count *bc = arg;

	if (ban->origin < FG_BAN_ORIGIN_MAX)
		bc->origins[ban->origin]++;
	if (cidr_is_address(c))
		bc->addrs++;
	else
		bc->prefixes++;
	return 0;
}

/* Thread pool: reads map fds only, writes only the job. */
/* Slots of the ban filter that count at least one address ban: the share
 * of sources whose packets still look the address-ban hash up. */
static long filter_used(int fd)
{
	struct fg_ban_filter *f = malloc(sizeof(*f));
	__u32 zero = 0, i;
	long used = 0;

	if (!f)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, f)) {
		used = -errno;
	} else {
		for (i = 0; i < FG_BAN_FILTER_SLOTS; i++)
			used += f->n[i] != 0;
	}
	free(f);
	return used;
}

static void count_work(uv_work_t *req)
{
	struct count_job *j = req->data;
	int i;

	memset(j->bans, 0, sizeof(j->bans));
	for (i = 0; i < CM__MAX; i++) {
		if (i == CM_BANS || i == CM_BANS_ADDR || i == CM_BANS_PFX) {
			/* One walk of each ban map counts its entries and the
			 * origins (the API walks the maps it is given). */
			struct xdpmaps bm = { .bans = i == CM_BANS ? j->fd[i] : -1,
					      .bans_addr = i == CM_BANS_ADDR ? j->fd[i] : -1,
					      .bans_pfx = i == CM_BANS_PFX ? j->fd[i] : -1 };
			struct ban_count bc = { .origins = j->bans };
			int err = xdpmaps_bans_each(&bm, ban_origin, &bc);

			j->entries[i] = err < 0 ? err : bc.prefixes + bc.addrs;
		} else if (i == CM_ALLOW || i == CM_DENY || i == CM_ALLOW_ADDR || i == CM_DENY_ADDR) {
			j->entries[i] = xdpmaps_count(j->fd[i], j->key_size[i]);
		} else {
			j->entries[i] = count_entries(j->fd[i], j->key_size[i], j->value_size[i]);
		}
	}
	j->filter_used = filter_used(j->filter_fd);
	j->seen_err = seen_count_fd(j->seen_fd, &j->seen);
}

static void render(struct metrics *m);

static void count_done(uv_work_t *req, int status)
{
	struct count_job *j = req->data;
	struct metrics *m = j->m;

	j->busy = false;
	if (status)
		return; /* cancelled at exit */
	memcpy(m->entries, j->entries, sizeof(m->entries));
	memcpy(m->bans, j->bans, sizeof(m->bans));
	m->filter_used = j->filter_used;
	m->seen_err = j->seen_err;
	m->seen = j->seen;
	m->counted = true;
	if (m->timers_on)
		render(m);
}

static struct bpf_map *count_map(struct floodgate_bpf *skel, enum count_map i)
{
	switch (i) {
	case CM_SRC:
		return skel->maps.src_state;
	case CM_PREFIX:
		return skel->maps.prefix_state;
	case CM_UDP:
		return skel->maps.udp_flows;
	case CM_VERIFIED:
		return skel->maps.verified;
	case CM_BANS:
		return skel->maps.bans;
	case CM_BANS_ADDR:
		return skel->maps.bans_addr;
	case CM_BANS_PFX:
		return skel->maps.bans_pfx;
	case CM_ALLOW:
		return skel->maps.allow_lpm;
	case CM_DENY:
		return skel->maps.deny_lpm;
	case CM_ALLOW_ADDR:
		return skel->maps.allow_addr;
	default:
		return skel->maps.deny_addr;
	}
}

static void count_start(struct metrics *m)
{
	struct count_job *j = &m->job;
	struct floodgate_bpf *skel;
	int i;

	if (j->busy)
		return; /* the last count is still running: a huge map; skip a turn */
	m->view(&m->v, m->view_arg);
	skel = m->v.skel;
	if (!skel)
		return; /* app-only mode: no maps to count */
	for (i = 0; i < CM__MAX; i++) {
		struct bpf_map *map = count_map(skel, i);

		j->fd[i] = bpf_map__fd(map);
		j->key_size[i] = bpf_map__key_size(map);
		j->value_size[i] = bpf_map__value_size(map);
	}
	j->filter_fd = bpf_map__fd(skel->maps.ban_filter);
	j->seen_fd = bpf_map__fd(skel->maps.seen);
	j->m = m;
	j->req.data = j;
	if (!uv_queue_work(m->loop, &j->req, count_work, count_done))
		j->busy = true;
}

static void on_count(uv_timer_t *t)
{
	count_start(t->data);
}

/* --- rendering (loop thread) ------------------------------------------------- */

static void render_build(struct sbuf *b, struct metrics *m)
{
	family(b, "floodgate_build_info", "gauge",
	       "Always 1; the labels say which floodgated is running.");
	u64(b, "floodgate_build_info", 1, "version", FG_VERSION, "commit", FG_COMMIT, LABELS_END);
	family(b, "floodgate_mode_info", "gauge",
	       "Always 1; mode: xdp (XDP protection and the socket) or app-only (floodgated "
	       "--app-only: the socket and metrics, no XDP, no floodgate_xdp_* families).");
	u64(b, "floodgate_mode_info", 1, "mode", m->v.app_only ? "app-only" : "xdp", LABELS_END);
	if (m->v.app_only)
		return; /* the kernel's features matter to the XDP program only */
	family(b, "floodgate_kernel_info", "gauge",
	       "Always 1; release: the running kernel (floodgate needs >= 5.12, docs/kernels.md).");
	u64(b, "floodgate_kernel_info", 1, "release", kernel_features.release, LABELS_END);
	family(b, "floodgate_kernel_feature", "gauge",
	       "1 when the kernel offers a feature newer than floodgate's 5.12 floor, 0 when "
	       "the feature is switched off for want of it.");
	u64(b, "floodgate_kernel_feature", kernel_features.xdp_syncookies, "feature",
	    "xdp_syncookies", LABELS_END);
}

/* XDP attachment of every configured interface (ifindex: theirs, 0 when
 * missing); fills health. */
static void render_attached(struct sbuf *b, struct metrics *m, const int *ifindex, char *health,
			    size_t hlen)
{
	const struct metrics_view *a = &m->v;
	const char *mode, *why;
	int i;

	family(b, "floodgate_xdp_attached", "gauge",
	       "1 when floodgate's XDP program is attached to the interface (mode: native, "
	       "generic), 0 when it is not (mode none).");
	for (i = 0; i < a->conf->nifaces; i++) {
		bool ok = loader_xdp_attached(m->prog_id, ifindex[i], &mode, &why);

		u64(b, "floodgate_xdp_attached", ok, "iface", a->conf->ifaces[i], "mode", mode,
		    LABELS_END);
		if (!ok && !*health)
			snprintf(health, hlen, "%s: %s", a->conf->ifaces[i], why);
	}
}

/* Label of an interface slot: the configured interfaces that map to it,
 * comma-joined, or "other" (an interface of an earlier config). */
static void slot_label(const struct metrics_view *a, const int *ifindex, int slot, char *buf,
		       size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < a->conf->nifaces; i++) {
		if (ifindex[i] <= 0 || FG_IF_SLOT(ifindex[i]) != slot)
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
				      a->conf->ifaces[i]);
	}
	if (!buf[0])
		snprintf(buf, len, "other");
}

static void render_packets(struct sbuf *b, struct metrics *m, const int *ifindex)
{
	static struct fg_stat st[FG_IF_SLOTS][FG_R_MAX]; /* loop thread only */
	const struct metrics_view *a = &m->v;
	bool used[FG_IF_SLOTS] = { false };
	char label[FG_CONF_MAX_IFACES * 17 + 8];
	int i, s, r, f;

	if (xdpmaps_stats_slots(a->maps, st))
		return;
	for (i = 0; i < a->conf->nifaces; i++)
		if (ifindex[i] > 0)
			used[FG_IF_SLOT(ifindex[i])] = true;
	for (f = 0; f < 2; f++) {
		const char *name = f ? "floodgate_xdp_bytes_total" : "floodgate_xdp_packets_total";

		family(b, name, "counter",
		       f ? "Bytes seen by the XDP program, by interface, verdict and reason."
			 : "Packets seen by the XDP program, by interface, verdict (pass, drop) "
			   "and reason.");
		for (s = 0; s < FG_IF_SLOTS; s++) {
			bool any = used[s];

			/* Slots of no configured interface: only when they counted. */
			for (r = 0; r < FG_R_MAX && !any; r++)
				any = st[s][r].packets[0] || st[s][r].packets[1];
			if (!any)
				continue;
			slot_label(a, ifindex, s, label, sizeof(label));
			for (r = 0; r < FG_R_MAX; r++) {
				const char *reason = xdpmaps_reason_name(r);
				int natural = fg_reason_drops(r) ? 1 : 0, act;

				/* The reason's own verdict always (a zero is a series
				 * rate() can start from); the other (dry-run passes a
				 * drop reason) once it happened. */
				for (act = 0; act < 2; act++) {
					const __u64 *v = f ? st[s][r].bytes : st[s][r].packets;

					if (act != natural && !st[s][r].packets[act])
						continue;
					u64(b, name, v[act], "iface", label, "action",
					    act ? "drop" : "pass", "reason", reason, LABELS_END);
				}
			}
		}
	}
}

static void render_rules(struct sbuf *b, struct metrics *m)
{
	const struct metrics_view *a = &m->v;
	const struct fg_rule_ids *ids = &a->compiled->ids;
	static struct fg_rule_stat rs[FG_MAX_RULES];
	static struct fg_global_state gs[FG_MAX_RULES];
	bool have[FG_MAX_RULES] = { false }, cookies_on;
	uint64_t now = xdpmaps_now_ns();
	uint32_t id;
	int lvl;

	for (id = 0; id < FG_MAX_RULES; id++) {
		if (!ids->names[id][0])
			continue;
		have[id] = !xdpmaps_rule_stats(a->maps, id, &rs[id]) &&
			   !xdpmaps_global(a->maps, id, &gs[id]);
	}
	family(b, "floodgate_xdp_new_flows_total", "counter",
	       "New TCP/UDP flows (SYN without ACK, new UDP source) seen by each rule.");
	for (id = 0; id < FG_MAX_RULES; id++)
		if (have[id])
			u64(b, "floodgate_xdp_new_flows_total", rs[id].new_flows, "rule",
			    ids->names[id], "proto", rule_proto(a, id, ids->names[id]), LABELS_END);
	family(b, "floodgate_xdp_admitted_total", "counter",
	       "New flows each rule let through (within every limit).");
	for (id = 0; id < FG_MAX_RULES; id++)
		if (have[id])
			u64(b, "floodgate_xdp_admitted_total", rs[id].passed, "rule",
			    ids->names[id], LABELS_END);
	family(b, "floodgate_xdp_vouched_admitted_total", "counter",
	       "New flows each rule let through while under attack only because their source "
	       "was vouched for (XDP.VOUCH, vouch_on_success): part of admitted_total.");
	for (id = 0; id < FG_MAX_RULES; id++)
		if (have[id])
			u64(b, "floodgate_xdp_vouched_admitted_total", rs[id].vouched_passed,
			    "rule", ids->names[id], LABELS_END);
	family(b, "floodgate_xdp_dropped_total", "counter",
	       "New flows each rule dropped, by the level whose limit was exceeded "
	       "(address, prefix, global).");
	for (id = 0; id < FG_MAX_RULES; id++)
		for (lvl = 0; have[id] && lvl < FG_LEVEL_MAX; lvl++)
			u64(b, "floodgate_xdp_dropped_total", rs[id].dropped[lvl], "rule",
			    ids->names[id], "level", xdpmaps_level_name(lvl), LABELS_END);
	family(b, "floodgate_xdp_under_attack", "gauge",
	       "1 while the rule's global new-flow budget is exceeded (plus attack_hold): "
	       "unknown sources get no per-address state.");
	for (id = 0; id < FG_MAX_RULES; id++)
		if (have[id])
			u64(b, "floodgate_xdp_under_attack", gs[id].attack_until_ns > now, "rule",
			    ids->names[id], LABELS_END);
	family(b, "floodgate_xdp_attacks_total", "counter",
	       "Times the rule entered under-attack mode.");
	for (id = 0; id < FG_MAX_RULES; id++)
		if (have[id])
			u64(b, "floodgate_xdp_attacks_total", gs[id].attacks, "rule",
			    ids->names[id], LABELS_END);
	family(b, "floodgate_xdp_syn_cookies", "gauge",
	       "1 for each TCP rule's syn_cookies mode (auto: while under attack, off, always); "
	       "0 for every mode under dry_run or on a kernel without the helpers.");
	for (id = 0; id < FG_MAX_RULES; id++) {
		uint32_t f = a->compiled->rules[id].flags;
		bool on = !a->conf->dry_run && kernel_features.xdp_syncookies;

		if (!have[id] || strcmp(rule_proto(a, id, ids->names[id]), "tcp"))
			continue;
		u64(b, "floodgate_xdp_syn_cookies", on && (f & FG_RULE_F_COOKIE_AUTO), "rule",
		    ids->names[id], "mode", "auto", LABELS_END);
		u64(b, "floodgate_xdp_syn_cookies",
		    on && !(f & (FG_RULE_F_COOKIE_AUTO | FG_RULE_F_COOKIE_ALWAYS)), "rule",
		    ids->names[id], "mode", "off", LABELS_END);
		u64(b, "floodgate_xdp_syn_cookies", on && (f & FG_RULE_F_COOKIE_ALWAYS), "rule",
		    ids->names[id], "mode", "always", LABELS_END);
	}
	family(b, "floodgate_xdp_syn_cookies_active", "gauge",
	       "1 while the TCP rule's SYNs are answered with SYN cookies (auto: under attack, "
	       "unverified sources; always: every SYN).");
	cookies_on = syncookies_on(a->maps);
	for (id = 0; id < FG_MAX_RULES; id++) {
		bool active;

		if (have[id] && syncookies_rule_state(a->conf, a->compiled, a->maps, id, cookies_on,
						      now, &active))
			u64(b, "floodgate_xdp_syn_cookies_active", active, "rule", ids->names[id],
			    LABELS_END);
	}
}

/* A filter's gauge, when its count (-errno if it failed) could be made. */
static void filter_gauge(struct sbuf *b, const char *name, const char *help, long used)
{
	family(b, name, "gauge", help);
	if (used >= 0)
		u64(b, name, (uint64_t)used, LABELS_END);
}

static void render_maps(struct sbuf *b, struct metrics *m)
{
	struct floodgate_bpf *skel = m->v.skel;
	int i;

	if (!m->counted)
		return; /* the first count has not finished: no made-up zeros */
	family(b, "floodgate_xdp_tracked_sources", "gauge",
	       "Per-source bucket states in the XDP maps (address: per address and rule; "
	       "prefix: per prefix and rule). Recounted every 10 s.");
	if (m->entries[CM_SRC] >= 0)
		u64(b, "floodgate_xdp_tracked_sources", (uint64_t)m->entries[CM_SRC], "level",
		    "address", LABELS_END);
	if (m->entries[CM_PREFIX] >= 0)
		u64(b, "floodgate_xdp_tracked_sources", (uint64_t)m->entries[CM_PREFIX], "level",
		    "prefix", LABELS_END);
	family(b, "floodgate_xdp_map_entries", "gauge",
	       "Entries in each bounded XDP map. Recounted every 10 s.");
	for (i = 0; i < CM__MAX; i++)
		if (m->entries[i] >= 0)
			u64(b, "floodgate_xdp_map_entries", (uint64_t)m->entries[i], "map",
			    count_map_names[i], LABELS_END);
	_Static_assert(FG_BAN_FILTER_SLOTS == 1048576, "the help text below");
	filter_gauge(b, "floodgate_xdp_ban_filter_slots_used",
		     "Slots of the ban filter (of 1048576) that count an address "
		     "ban: a packet whose source hashes to a free slot skips the address-ban lookup. "
		     "Recounted every 10 s.",
		     m->filter_used);
	_Static_assert(FG_SEEN_BITS_LOG == 24, "the help text below");
	filter_gauge(b, "floodgate_xdp_state_filter_slots_used",
		     "Slots set (of 16777216, one bit each) in the state filter the program tests: a "
		     "key whose bit is clear skips its lookup (per-source, per-prefix, verified, UDP "
		     "flow, banned prefix). The agent rebuilds it once it has gained 1/16 of its "
		     "bits, or every 10 minutes. Recounted every 10 s.",
		     m->seen_err ? m->seen_err : m->seen.filter);
	_Static_assert(FG_COVER4_LOG == 20 && FG_COVER6_LOG == 21, "the help text below");
	family(b, "floodgate_xdp_prefix_ban_cover_units_used", "gauge",
	       "Units set in the prefix ban cover the program tests (IPv4: of 1048576 /20s; IPv6: "
	       "of 2097152 slots the /40s hash to): a packet whose unit is clear skips every "
	       "prefix-ban lookup. Units of prefixes no longer banned stay set until the state "
	       "filter's next rebuild. Recounted every 10 s.");
	if (!m->seen_err) {
		u64(b, "floodgate_xdp_prefix_ban_cover_units_used", (uint64_t)m->seen.cover[0],
		    "family", "ipv4", LABELS_END);
		u64(b, "floodgate_xdp_prefix_ban_cover_units_used", (uint64_t)m->seen.cover[1],
		    "family", "ipv6", LABELS_END);
	}
	family(b, "floodgate_xdp_map_capacity", "gauge",
	       "Maximum entries of each bounded XDP map (LRU maps evict the least recently "
	       "used entry beyond it).");
	for (i = 0; i < CM__MAX; i++)
		u64(b, "floodgate_xdp_map_capacity", bpf_map__max_entries(count_map(skel, i)),
		    "map", count_map_names[i], LABELS_END);
	family(b, "floodgate_xdp_bans", "gauge",
	       "Addresses and prefixes banned now, by who banned them (auto: the XDP program; "
	       "manual: an operator; app: a policy's xdp_ban; fleet: another host). "
	       "Recounted every 10 s.");
	for (i = 0; i < FG_BAN_ORIGIN_MAX; i++)
		u64(b, "floodgate_xdp_bans", m->bans[i], "origin", xdpmaps_origin_name(i),
		    LABELS_END);
}

static void render_misc(struct sbuf *b, struct metrics *m)
{
	static const struct {
		int idx;
		const char *name, *help;
	} rows[] = {
		{ FG_M_EVENTS, "floodgate_xdp_events_total",
		  "Violation events the XDP program wrote to the ring buffer." },
		{ FG_M_EVENTS_LOST, "floodgate_xdp_events_lost_total",
		  "Violation events lost because the ring buffer was full." },
		{ FG_M_BANS_AUTO, "floodgate_xdp_auto_bans_total",
		  "Bans the XDP program made itself (after repeated violations)." },
		{ FG_M_BANS_FAILED, "floodgate_xdp_auto_bans_failed_total",
		  "Bans the XDP program could not make: the ban map was full." },
		{ FG_M_STATE_SKIPPED, "floodgate_xdp_state_skipped_total",
		  "New flows of unknown sources that got no per-address state under attack." },
		{ FG_M_VERIFIED, "floodgate_xdp_verified_total",
		  "Sources the egress program marked verified (the host talked to them)." },
		{ FG_M_COOKIES_SENT, "floodgate_xdp_syn_cookies_sent_total",
		  "SYN-ACKs with a SYN cookie the XDP program sent (XDP_TX)." },
		{ FG_M_COOKIE_ACKS_VALID, "floodgate_xdp_syn_cookie_acks_valid_total",
		  "ACKs with a valid SYN cookie, passed to the kernel." },
		{ FG_M_COOKIE_ACKS_BAD, "floodgate_xdp_syn_cookie_acks_bad_total",
		  "ACKs to a listener from unverified sources without a valid cookie, dropped." },
		{ FG_M_COOKIE_VERIFIED, "floodgate_xdp_syn_cookie_verified_total",
		  "Sources marked verified by a valid SYN cookie." },
		{ FG_M_COOKIES_CAPPED, "floodgate_xdp_syn_cookies_capped_total",
		  "SYNs not answered: syn_cookies.max_rate SYN-ACKs per second used up." },
		{ FG_M_COOKIES_DECLINED, "floodgate_xdp_syn_cookies_declined_total",
		  "SYNs a cookie was wanted for but not made (no listener, IP options, data, bad "
		  "checksum, tcp_syncookies not 2): the rule's ordinary path." },
	};
	uint64_t misc[FG_M_MAX];
	size_t i;

	if (xdpmaps_misc(m->v.maps, misc))
		return;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		family(b, rows[i].name, "counter", rows[i].help);
		u64(b, rows[i].name, misc[rows[i].idx], LABELS_END);
	}
}

/* Application-feedback bans through the guard (banguard.h). */
static void render_app_bans(struct sbuf *b, struct metrics *m)
{
	static const enum banguard_result shown[] = {
		BANGUARD_BANNED, BANGUARD_REFUSED_PEER, BANGUARD_REFUSED_ADDRESS,
		BANGUARD_QUOTA,	 BANGUARD_FAILED,	BANGUARD_NO_XDP
	};
	struct banguard_stats st;
	size_t i;

	if (!m->v.banguard)
		return;
	banguard_stats(m->v.banguard, &st);
	family(b, "floodgate_app_bans_total", "counter",
	       "XDP bans asked by policies (xdp_ban), by result: banned, refused_peer (the socket "
	       "peer may not cause NIC bans), refused_address (own, special or allow-listed), "
	       "quota (app_bans.max or per_peer reached), failed (the ban map refused it), "
	       "no_xdp (app-only mode: not applied, there is no XDP).");
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		u64(b, "floodgate_app_bans_total", st.results[shown[i]], "result",
		    banguard_result_name(shown[i]), LABELS_END);
	single(b, "floodgate_app_bans_evicted_total", "counter",
	       "App bans removed to make room for an operator's ban in a full ban map.",
	       st.evicted);
	single(b, "floodgate_app_bans", "gauge", "App bans in force, as the agent counts them.",
	       st.app_bans);
}

/* Vouches through the guard (vouch.h). */
static void render_vouches(struct sbuf *b, struct metrics *m)
{
	struct vouch_stats st;
	int o, r;

	if (!m->v.vouch)
		return;
	vouch_stats(m->v.vouch, &st);
	family(b, "floodgate_vouches_total", "counter",
	       "Vouch requests by origin (socket: XDP.VOUCH; auth_ok: RL.AUTH.OK on a "
	       "vouch_on_success policy; fleet: another agent's) and result: vouched, "
	       "refused_peer (the socket peer may not vouch), refused_address (own, special or "
	       "IPv4-mapped), denied, banned, rate (vouch.rate), quota (vouch.max or per_peer), "
	       "failed, no_xdp (app-only mode without a shared store).");
	for (o = 0; o < VOUCH_ORIGIN_MAX; o++)
		for (r = 0; r < VOUCH_RESULT_MAX; r++)
			u64(b, "floodgate_vouches_total", st.results[o][r], "origin",
			    vouch_origin_name(o), "result", vouch_result_name(r), LABELS_END);
	single(b, "floodgate_vouched", "gauge",
	       "Addresses vouched for now, as the agent counts them (at most vouch.max).",
	       st.entries);
}

static void render_policies(struct sbuf *b, struct metrics *m)
{
	struct policies *ps = m->v.policies;
	struct policies_store_stats ss;
	struct policy_stats st;
	size_t i, n = ps ? policies_count(ps) : 0;

	family(b, "floodgate_rl_decisions_total", "counter",
	       "Answers of the policies (RL.CHECK, RL.AUTH.CHECK, RL.EVENT), by result: allowed, "
	       "warned (allowed, near the limit), denied, blocked (denied by a block).");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);
		const char *name = policy_name(p);

		policy_stats(p, &st);
		u64(b, "floodgate_rl_decisions_total", st.allowed - st.warned, "policy", name,
		    "result", "allowed", LABELS_END);
		u64(b, "floodgate_rl_decisions_total", st.warned, "policy", name, "result",
		    "warned", LABELS_END);
		u64(b, "floodgate_rl_decisions_total", st.denied - st.blocked, "policy", name,
		    "result", "denied", LABELS_END);
		u64(b, "floodgate_rl_decisions_total", st.blocked, "policy", name, "result",
		    "blocked", LABELS_END);
	}
	family(b, "floodgate_rl_auth_failures_total", "counter",
	       "RL.AUTH.FAIL calls of each progressive policy.");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);

		if (!policy_supports(p, POLICY_OP_AUTH_FAIL))
			continue;
		policy_stats(p, &st);
		u64(b, "floodgate_rl_auth_failures_total", st.auth_failures, "policy",
		    policy_name(p), LABELS_END);
	}
	family(b, "floodgate_rl_xdp_bans_total", "counter",
	       "Auth failures that asked for an XDP ban of the key (xdp_ban.after reached).");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);

		if (!policy_supports(p, POLICY_OP_AUTH_FAIL))
			continue;
		policy_stats(p, &st);
		u64(b, "floodgate_rl_xdp_bans_total", st.xdp_bans, "policy", policy_name(p),
		    LABELS_END);
	}
	family(b, "floodgate_rl_auth_delay_seconds", "histogram",
	       "Slowdown RL.AUTH.FAIL answered (0 while failures are free).");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);
		const struct auth_hist *h;
		static const struct auth_hist none;

		if (!policy_supports(p, POLICY_OP_AUTH_FAIL))
			continue;
		h = auth_find(m, policy_name(p), false);
		if (!h)
			h = &none;
		histogram(b, "floodgate_rl_auth_delay_seconds", h->bucket, AUTH_BUCKETS, m->auth_le,
			  (double)h->sum_ms / 1000, "policy", policy_name(p));
	}
	family(b, "floodgate_rl_keys", "gauge", "Keys with state, per policy.");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);

		policy_stats(p, &st);
		u64(b, "floodgate_rl_keys", st.keys, "policy", policy_name(p), LABELS_END);
	}
	family(b, "floodgate_rl_policy_max_keys", "gauge",
	       "Keys each policy may hold in the memory store (its max_keys, or a fair share "
	       "of store.max_keys).");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);

		policy_stats(p, &st);
		u64(b, "floodgate_rl_policy_max_keys", st.max_keys, "policy", policy_name(p),
		    LABELS_END);
	}
	family(b, "floodgate_rl_policy_evictions_total", "counter",
	       "Live keys of a policy evicted by its own new keys at its max_keys (never by "
	       "another policy's).");
	for (i = 0; i < n; i++) {
		const struct policy *p = policies_at(ps, i);

		policy_stats(p, &st);
		u64(b, "floodgate_rl_policy_evictions_total", st.evictions, "policy",
		    policy_name(p), LABELS_END);
	}
	/* CL.THROTTLE: one series per result, never per key or per limit
	 * (callers choose both: a label of them would grow without bound). */
	if (ps && policies_cell(ps, NULL, &st)) {
		family(b, "floodgate_cl_throttle_total", "counter",
		       "CL.THROTTLE answers (limits given per call), by result: allowed, limited.");
		u64(b, "floodgate_cl_throttle_total", st.allowed, "result", "allowed", LABELS_END);
		u64(b, "floodgate_cl_throttle_total", st.denied, "result", "limited", LABELS_END);
		single(b, "floodgate_cl_throttle_keys", "gauge",
		       "Keys with CL.THROTTLE state in the memory store (at most "
		       "per_call_limits.max_keys).",
		       st.keys);
	}
	if (!ps)
		return;
	policies_store_stats(ps, &ss);
	family(b, "floodgate_rl_store_keys", "gauge", "Keys in the policy store, all policies.");
	u64(b, "floodgate_rl_store_keys", ss.keys, "store", ss.type, LABELS_END);
	family(b, "floodgate_rl_store_max_keys", "gauge",
	       "Capacity of the policy store (store.max_keys).");
	u64(b, "floodgate_rl_store_max_keys", ss.max_keys, "store", ss.type, LABELS_END);
	family(b, "floodgate_rl_evictions_total", "counter",
	       "Live keys dropped because the store was full (store.max_keys).");
	u64(b, "floodgate_rl_evictions_total", ss.evictions, "store", ss.type, LABELS_END);
	family(b, "floodgate_rl_expired_total", "counter",
	       "Keys reclaimed after their state expired.");
	u64(b, "floodgate_rl_expired_total", ss.expired, "store", ss.type, LABELS_END);
	family(b, "floodgate_rl_store_bytes", "gauge",
	       "Memory the policy store holds, approximately.");
	u64(b, "floodgate_rl_store_bytes", ss.bytes, "store", ss.type, LABELS_END);
}

/* The deployment, a cluster master's slots and redirections, the sentinels. */
static void render_store_topology(struct sbuf *b, struct metrics *m)
{
	enum redis_mode mode = redis_mode(m->v.redis);
	int i, n = redis_nodes(m->v.redis);
	struct redis_sentinel sn;
	struct redis_stats rs;
	const char *addr;
	char none[1];

	family(b, "floodgate_store_deployment", "gauge",
	       "1 for the shared store's deployment: single, sentinel or cluster.");
	u64(b, "floodgate_store_deployment", 1, "deployment", redis_mode_name(mode), LABELS_END);
	if (mode == REDIS_MODE_CLUSTER) {
		family(b, "floodgate_store_node_slots", "gauge",
		       "Hash slots this cluster master serves in the agent's slot map.");
		for (i = 0; i < n; i++)
			if (!redis_node_stats(m->v.redis, i, &rs, &addr))
				u64(b, "floodgate_store_node_slots",
				    redis_node_slots(m->v.redis, i, none, sizeof(none)), "node",
				    addr, LABELS_END);
		family(b, "floodgate_store_node_redirects_total", "counter",
		       "MOVED and ASK replies this cluster master sent (followed elsewhere).");
		for (i = 0; i < n; i++)
			if (!redis_node_stats(m->v.redis, i, &rs, &addr))
				u64(b, "floodgate_store_node_redirects_total", rs.redirects, "node",
				    addr, LABELS_END);
	}
	if (mode == REDIS_MODE_SENTINEL) {
		family(b, "floodgate_store_sentinel_up", "gauge",
		       "1 while this sentinel answers the agent's probe (every 5 s) with a "
		       "master.");
		for (i = 0; !redis_sentinel(m->v.redis, i, &sn); i++)
			u64(b, "floodgate_store_sentinel_up", sn.reachable, "sentinel", sn.addr,
			    LABELS_END);
	}
}

/* Per Redis node: a cluster's masters, or the one server (url, or the master
 * the sentinels name), so a dashboard shows which node fails. */
static void render_store_nodes(struct sbuf *b, struct metrics *m)
{
	int i, n = redis_nodes(m->v.redis);
	struct redis_stats rs;
	const char *addr;

	redis_stats(m->v.redis, &rs);
	single(b, "floodgate_store_redirects_total", "counter",
	       "Redis Cluster MOVED and ASK redirections followed.", rs.redirects);
	single(b, "floodgate_store_master_switches_total", "counter",
	       "Fail-overs of the master announced by the sentinels (+switch-master).",
	       rs.master_switches);
	family(b, "floodgate_store_node_up", "gauge",
	       "1 while this Redis node is connected and usable; its keys fall back while 0.");
	for (i = 0; i < n; i++)
		if (!redis_node_stats(m->v.redis, i, &rs, &addr))
			u64(b, "floodgate_store_node_up", rs.up, "node", addr, LABELS_END);
	family(b, "floodgate_store_node_errors_total", "counter",
	       "Requests for this node that failed (timeouts, errors, lost connections) or were "
	       "refused while it was down.");
	for (i = 0; i < n; i++)
		if (!redis_node_stats(m->v.redis, i, &rs, &addr))
			u64(b, "floodgate_store_node_errors_total", rs.errors, "node", addr,
			    LABELS_END);
	family(b, "floodgate_store_node_request_duration_seconds", "histogram",
	       "Round trip of the requests this node answered.");
	for (i = 0; i < n; i++)
		if (!redis_node_stats(m->v.redis, i, &rs, &addr))
			histogram(b, "floodgate_store_node_request_duration_seconds", rs.lat,
				  REDIS_LAT_BUCKETS, m->redis_le, (double)rs.lat_sum_us / 1e6,
				  "node", addr);
	render_store_topology(b, m);
}

/* The shared store (store.type: redis) and fleet-wide bans; nothing without them. */
static void render_shared_store(struct sbuf *b, struct metrics *m)
{
	struct policies_store_stats ss;
	struct redis_stats rs;
	struct fleet_stats fs = { 0 };

	if (!m->v.redis || !m->v.policies)
		return;
	policies_store_stats(m->v.policies, &ss);
	redis_stats(m->v.redis, &rs);
	if (m->v.fleet)
		fleet_stats(m->v.fleet, &fs);
	single(b, "floodgate_store_fallback_active", "gauge",
	       "1 while Redis is not usable and decisions follow each policy's on_store_error.",
	       ss.fallback_active);
	single(b, "floodgate_store_fallback_decisions_total", "counter",
	       "Decisions made by on_store_error (Redis down, slow past timeout_ms, or failing).",
	       ss.fallback_decisions);
	single(b, "floodgate_store_errors_total", "counter",
	       "Redis requests that failed: timeouts, error replies, lost connections.",
	       ss.store_errors);
	single(b, "floodgate_store_timeouts_total", "counter",
	       "Redis requests without an answer within store.redis.timeout_ms.",
	       ss.store_timeouts);
	single(b, "floodgate_store_outage_keys", "gauge",
	       "Keys whose hits during a Redis outage wait to be added to Redis.", ss.outage_keys);
	single(b, "floodgate_store_replayed_keys_total", "counter",
	       "Keys whose outage hits were added to Redis after it came back.", ss.replayed_keys);
	single(b, "floodgate_store_replay_dropped_total", "counter",
	       "Outage hits not added to Redis (journal full, replay failed).", ss.replay_dropped);
	single(b, "floodgate_store_switches_total", "counter",
	       "Changes between Redis and the fallback (either way; the first connect is one).",
	       ss.switches);
	single(b, "floodgate_store_late_applied_total", "counter",
	       "Requests that timed out but ran in Redis after all: their fallback hits are not "
	       "replayed.",
	       ss.late_applied);
	single(b, "floodgate_store_multi_contended_total", "counter",
	       "RL.CHECKM decisions refused, nothing charged, because other decisions kept "
	       "changing their keys in Redis (not a store error).",
	       ss.multi_contended);
	family(b, "floodgate_store_key_errors_total", "counter",
	       "Redis error replies about one key (WRONGTYPE...): that request got "
	       "on_store_error.");
	for (size_t i = 0; i < policies_count(m->v.policies); i++) {
		struct policy *p = policies_at(m->v.policies, i);
		struct policy_stats st;

		policy_stats(p, &st);
		u64(b, "floodgate_store_key_errors_total", st.store_key_errors, "policy",
		    policy_name(p), LABELS_END);
	}
	family(b, "floodgate_store_request_duration_seconds", "histogram",
	       "Round trip of the Redis requests that were answered (decisions, bans).");
	histogram(b, "floodgate_store_request_duration_seconds", rs.lat, REDIS_LAT_BUCKETS,
		  m->redis_le, (double)rs.lat_sum_us / 1e6, NULL, NULL);
	render_store_nodes(b, m);
	single(b, "floodgate_fleet_subscribed", "gauge",
	       "1 while subscribed to the fleet's ban channel.", fs.subscribed);
	family(b, "floodgate_fleet_messages_total", "counter",
	       "Fleet ban messages: published (this host's bans and unbans), applied (other "
	       "hosts' bans), unbanned (other hosts' unbans), refused, failed (this host's the "
	       "shared set did not take).");
	u64(b, "floodgate_fleet_messages_total", fs.published, "kind", "published", LABELS_END);
	u64(b, "floodgate_fleet_messages_total", fs.applied, "kind", "applied", LABELS_END);
	u64(b, "floodgate_fleet_messages_total", fs.unbanned, "kind", "unbanned", LABELS_END);
	u64(b, "floodgate_fleet_messages_total", fs.refused, "kind", "refused", LABELS_END);
	u64(b, "floodgate_fleet_messages_total", fs.failed, "kind", "failed", LABELS_END);
	family(b, "floodgate_fleet_tcp_verified_total", "counter",
	       "This host's TCP verifications found by the once-a-second walk: published to "
	       "the fleet, or suppressed (over vouch.share_tcp that second).");
	u64(b, "floodgate_fleet_tcp_verified_total", fs.tcp_published, "result", "published",
	    LABELS_END);
	u64(b, "floodgate_fleet_tcp_verified_total", fs.tcp_suppressed, "result", "suppressed",
	    LABELS_END);
}

static void render_socket(struct sbuf *b, struct metrics *m)
{
	const struct server *s = m->v.server;
	struct server_stats st;
	struct server_cmd_stats cs;
	const char *name;
	size_t i;
	int k;

	if (!s)
		return;
	server_get_stats(s, &st);
	single(b, "floodgate_socket_clients", "gauge", "Clients connected to the socket now.",
	       st.connected);
	single(b, "floodgate_socket_blocked_clients", "gauge",
	       "Clients waiting for a deferred reply now.", st.blocked);
	single(b, "floodgate_socket_connections_total", "counter",
	       "Connections accepted by the socket.", st.connections_total);
	single(b, "floodgate_socket_received_bytes_total", "counter", "Bytes read from clients.",
	       st.bytes_in);
	single(b, "floodgate_socket_sent_bytes_total", "counter", "Bytes written to clients.",
	       st.bytes_out);
	family(b, "floodgate_socket_errors_total", "counter",
	       "Errors of the socket by kind: protocol, too_big, unknown (command), arity, "
	       "noperm, reply (any other error answer), maxclients, timeout.");
	for (k = 0; k < SERVER_ERR__MAX; k++)
		u64(b, "floodgate_socket_errors_total", st.errors[k], "kind",
		    server_err_kind_name(k), LABELS_END);
	family(b, "floodgate_socket_clients_rejected_total", "counter",
	       "Connections refused by the socket's limits, by reason: max_clients (the "
	       "last admin_reserve places are for admins), per_uid (max_clients_per_uid).");
	for (k = 0; k < SERVER_REJECT__MAX; k++)
		u64(b, "floodgate_socket_clients_rejected_total", st.rejected[k], "reason",
		    server_reject_name(k), LABELS_END);
	family(b, "floodgate_socket_clients_closed_total", "counter",
	       "Clients closed by the socket, by reason: memory (held the most while over "
	       "max_buffers), output_limit (replies over client_output_limit), idle "
	       "(idle_timeout).");
	for (k = 0; k < SERVER_CLOSE__MAX; k++)
		u64(b, "floodgate_socket_clients_closed_total", st.closed[k], "reason",
		    server_close_name(k), LABELS_END);
	single(b, "floodgate_socket_buffered_bytes", "gauge",
	       "Bytes of input and output buffers held for socket clients now.", st.buffered);
	family(b, "floodgate_socket_commands_total", "counter",
	       "Commands run, by command (\"unknown\": names no command has).");
	for (i = 0; (name = server_cmd_stats(s, i, &cs)); i++)
		u64(b, "floodgate_socket_commands_total", cs.calls, "command", name, LABELS_END);
	family(b, "floodgate_command_duration_seconds", "histogram",
	       "Time to run a command, from a sample (one call in " STR(
		       SERVER_LAT_SAMPLE) " is timed: _count counts the timed calls).");
	for (i = 0; (name = server_cmd_stats(s, i, &cs)); i++) {
		if (!cs.timed)
			continue; /* never run: no 14 series of zeros per command */
		histogram(b, "floodgate_command_duration_seconds", cs.lat, SERVER_LAT_BUCKETS,
			  m->lat_le, (double)cs.nsec / 1e9, "command", name);
	}
}

static void render_config(struct sbuf *b, struct metrics *m)
{
	const struct metrics_view *a = &m->v;

	family(b, "floodgate_config_reloads_total", "counter",
	       "Config reloads (SIGHUP, CONFIG RELOAD), by result: success, failure.");
	u64(b, "floodgate_config_reloads_total", a->reloads_ok, "result", "success", LABELS_END);
	u64(b, "floodgate_config_reloads_total", a->reloads_failed, "result", "failure",
	    LABELS_END);
	single(b, "floodgate_config_last_reload_successful", "gauge",
	       "1 when the last load or reload of the config succeeded, 0 when it was rejected "
	       "(the running config was kept).",
	       a->last_reload_ok);
	family(b, "floodgate_config_last_reload_success_timestamp_seconds", "gauge",
	       "Unix time the running config was loaded (at start or by a reload).");
	dbl(b, "floodgate_config_last_reload_success_timestamp_seconds", a->last_reload_success_s,
	    LABELS_END);
}

/* --- process_* (the client libraries' standard set) -------------------------- */

#define STAT_FIELDS 25 /* of /proc/self/stat: up to 24, rss */

/* /proc/self/stat's numeric fields by their number in proc(5) (f[22] is
 * starttime); fields not read are 0. False when the file cannot be read. */
static bool self_stat(unsigned long long f[STAT_FIELDS])
{
	char buf[1024];
	const char *p;
	FILE *fp;
	size_t n;
	int i;

	memset(f, 0, STAT_FIELDS * sizeof(*f));
	fp = fopen("/proc/self/stat", "r");
	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p)
		return false;
	/* p is before the space that starts field 3 */
	for (i = 3; i < STAT_FIELDS && (p = strchr(p + 1, ' ')); i++)
		f[i] = strtoull(p + 1, NULL, 10);
	return true;
}

static double process_start_time(void)
{
	char line[256];
	unsigned long long st[STAT_FIELDS], btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if (!self_stat(st))
		return 0;
	return (double)btime + (hz > 0 ? (double)st[22] / (double)hz : 0);
}

static void render_process(struct sbuf *b, struct metrics *m)
{
	unsigned long long st[STAT_FIELDS], utime, stime, vsize, rss;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *de;
	DIR *d;
	long fds = 0;

	self_stat(st);
	utime = st[14];
	stime = st[15];
	vsize = st[23];
	rss = st[24]; /* pages */
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			fds += de->d_name[0] != '.';
		closedir(d);
		fds--; /* the directory's own fd */
	}
	family(b, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	dbl(b, "process_cpu_seconds_total", hz > 0 ? (double)(utime + stime) / (double)hz : 0,
	    LABELS_END);
	family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	u64(b, "process_resident_memory_bytes", rss * (unsigned long long)(page > 0 ? page : 4096),
	    LABELS_END);
	single(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
	single(b, "process_open_fds", "gauge", "Number of open file descriptors.",
	       fds > 0 ? (uint64_t)fds : 0);
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		u64(b, "process_max_fds", rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur,
		    LABELS_END);
	}
	family(b, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	dbl(b, "process_start_time_seconds", m->start_time_s, LABELS_END);
}

static void render_http(struct sbuf *b, struct metrics *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->conn_lock);
	n = m->timed_out;
	pthread_mutex_unlock(&m->conn_lock);
	single(b, "floodgate_metrics_http_timeouts_total", "counter",
	       "Connections to this endpoint closed because a request was not received and "
	       "answered within metrics.timeout (slow or idle clients).",
	       n);
}

/* A whole snapshot into the spare buffer, then one swap under the lock. */
static void render(struct metrics *m)
{
	struct sbuf *b = &m->spare;
	char health[HEALTH_MAX] = "";
	int ifindex[FG_CONF_MAX_IFACES];
	uint64_t t0 = mono_ns();
	struct sbuf old;
	int i;

	m->view(&m->v, m->view_arg); /* the agent's state now (a reload may have changed it) */
	/* looked up once a snapshot: attachment and packet labels both need them */
	for (i = 0; i < m->v.conf->nifaces; i++)
		ifindex[i] = (int)if_nametoindex(m->v.conf->ifaces[i]);
	sbuf_clear(b);
	render_build(b, m);
	if (!m->v.app_only) {
		render_attached(b, m, ifindex, health, sizeof(health));
		render_packets(b, m, ifindex);
		render_rules(b, m);
		render_maps(b, m);
		render_misc(b, m);
	}
	render_app_bans(b, m);
	render_vouches(b, m);
	render_policies(b, m);
	render_shared_store(b, m);
	render_socket(b, m);
	render_config(b, m);
	render_process(b, m);
	render_http(b, m);
	family(b, "floodgate_metrics_render_seconds", "gauge",
	       "Event-loop time the previous snapshot of these metrics took to render "
	       "(one every second).");
	dbl(b, "floodgate_metrics_render_seconds", m->render_s, LABELS_END);
	if (sbuf_failed(b)) {
		log_warn("metrics: out of memory rendering a snapshot; serving the last one");
		return;
	}
	pthread_mutex_lock(&m->lock);
	old = m->text;
	m->text = *b;
	m->rendered_ns = mono_ns();
	memcpy(m->health, health, sizeof(health));
	pthread_mutex_unlock(&m->lock);
	*b = old; /* the old snapshot's memory renders the next one */
	/* The status page reads the snapshot just made (only this thread writes it). */
	if (status_update(m->status, m->loop, &(struct status_src){ m->v.maps, m->v.compiled },
			  m->text.data, m->text.len, health))
		log_warn("metrics: out of memory rendering the status page; serving the last one");
	m->render_s = (double)(mono_ns() - t0) / 1e9;
}

static void on_render(uv_timer_t *t)
{
	render(t->data);
}

/* --- HTTP (libmicrohttpd's thread) --------------------------------------------- */

/* Queue r with our headers, then release it; a NULL r (no memory) is MHD_NO. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status, const char *type,
			     struct MHD_Response *r, bool allow)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const char *body, size_t len, bool allow)
{
	return queue(conn, status, type,
		     MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY),
		     allow);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	const char *type;
	char body[HEALTH_MAX + 64];
	struct MHD_Response *r;
	uint64_t age_ms;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_size = 0; /* a body is not read: the answer is the same */
		snprintf(body, sizeof(body), "method %s not allowed: use GET\n", method);
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", body,
			     strlen(body), true);
	}
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&m->lock);
		r = MHD_create_response_from_buffer(m->text.len, m->text.data,
						    MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&m->lock);
		/* copied under the lock, sent outside it */
		return queue(conn, MHD_HTTP_OK, CONTENT_TYPE, r, false);
	}
	if (!strcmp(url, "/healthz")) {
		pthread_mutex_lock(&m->lock);
		age_ms = (mono_ns() - m->rendered_ns) / 1000000;
		if (age_ms > METRICS_STALE_MS)
			snprintf(body, sizeof(body), "event loop stalled for %llu s\n",
				 (unsigned long long)(age_ms / 1000));
		else if (m->health[0])
			snprintf(body, sizeof(body), "%s\n", m->health);
		else
			snprintf(body, sizeof(body), "ok\n");
		pthread_mutex_unlock(&m->lock);
		return reply(conn,
			     strcmp(body, "ok\n") ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
			     "text/plain; charset=utf-8", body, strlen(body), false);
	}
	if (status_http(m->status, url, &r, &type))
		return queue(conn, MHD_HTTP_OK, type, r, false);
	snprintf(body, sizeof(body),
		 "not found: try /, /status.txt, /status.json, /metrics or /healthz\n");
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", body, strlen(body),
		     false);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256] = "metrics http: ";
	size_t n = strlen(msg);

	(void)cls;
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug(msg);
}

/*
 * libmicrohttpd's connection timeout restarts on every byte received, so a
 * client sending a header byte a second holds a connection for ever (70 of
 * them took every slot). Each connection gets a deadline instead: its
 * request must arrive and be answered within metrics.timeout of the
 * connection's start or of its previous request's end (keep-alive).
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *h = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		h = calloc(1, sizeof(*h));
		if (!h || !ci) {
			free(h); /* no deadline: MHD's idle timeout still applies */
			return;
		}
		h->fd = ci->connect_fd;
		h->deadline_ns = mono_ns() + m->timeout_ms * 1000000;
		pthread_mutex_lock(&m->conn_lock);
		h->next = m->conns;
		if (m->conns)
			m->conns->prev = h;
		m->conns = h;
		pthread_mutex_unlock(&m->conn_lock);
		*socket_context = h;
		return;
	}
	if (!h)
		return;
	pthread_mutex_lock(&m->conn_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		m->conns = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&m->conn_lock);
	*socket_context = NULL;
	free(h);
}

/* A request answered: the next one on this connection gets a full timeout. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *h;

	(void)con_cls;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	h = ci ? ci->socket_context : NULL;
	if (!h)
		return;
	pthread_mutex_lock(&m->conn_lock);
	h->deadline_ns = mono_ns() + m->timeout_ms * 1000000;
	pthread_mutex_unlock(&m->conn_lock);
}

/* Shut down (not close: the descriptor stays MHD's) what is past its
 * deadline; MHD then sees the end of the stream and frees the slot. */
static void *reaper_main(void *arg)
{
	struct metrics *m = arg;
	struct http_conn *h;
	struct timespec ts;
	uint64_t now;

	pthread_mutex_lock(&m->conn_lock);
	while (!m->reaper_stop) {
		now = mono_ns();
		for (h = m->conns; h; h = h->next) {
			if (h->shut || now < h->deadline_ns)
				continue;
			shutdown(h->fd, SHUT_RDWR);
			h->shut = true;
			m->timed_out++;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += HTTP_REAP_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&m->reap_cond, &m->conn_lock, &ts);
	}
	pthread_mutex_unlock(&m->conn_lock);
	return NULL;
}

/* --- lifetime ------------------------------------------------------------------ */

int metrics_open(struct metrics **out, const char *listen_addr)
{
	struct sockaddr_storage ss;
	struct metrics *m;
	const char *why, *hint;
	socklen_t len;
	int fd, one = 1, err;

	*out = NULL;
	if (!listen_addr || !*listen_addr)
		return 0;
	if (config_parse_listen(listen_addr, &ss, &len, &why)) {
		log_warn("metrics.listen: not an address to listen on",
			 LOG_STR("listen", listen_addr), LOG_STR("why", why));
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		log_warn("metrics: cannot create a socket", LOG_STR("listen", listen_addr),
			 LOG_ERRNO(-err));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A deep backlog: a burst of connections (a scrape storm, or slow
	 * clients holding slots) waits to be accepted instead of having its
	 * handshakes dropped and retried seconds later. */
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, SOMAXCONN)) {
		err = -errno;
		hint = err == -EADDRINUSE ? "another program has the port: set metrics.listen to a "
					    "free one"
		       : err == -EADDRNOTAVAIL ? "no interface has that address"
					       : NULL;
		if (hint)
			log_warn("metrics: cannot listen", LOG_STR("listen", listen_addr),
				 LOG_ERRNO(-err), LOG_STR("hint", hint));
		else
			log_warn("metrics: cannot listen", LOG_STR("listen", listen_addr),
				 LOG_ERRNO(-err));
		close(fd);
		return err;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	m->listen_fd = fd;
	snprintf(m->listen, sizeof(m->listen), "%s", listen_addr);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->conn_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&m->reap_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	*out = m;
	return 0;
}

int metrics_start(struct metrics *m, uv_loop_t *loop, metrics_view_fn view, void *arg)
{
	size_t i;
	int err;

	if (!m)
		return 0;
	m->loop = loop;
	m->view = view;
	m->view_arg = arg;
	view(&m->v, arg);
	if (m->v.skel)
		m->prog_id = loader_xdp_prog_id(m->v.skel);
	m->start_time_s = process_start_time();
	if (status_new(&m->status))
		log_warn("metrics: out of memory: no status page (/metrics is served)");
	for (i = 0; i < AUTH_BUCKETS; i++)
		snprintf(m->auth_le[i], sizeof(m->auth_le[i]), "%g", auth_bounds_s[i]);
	for (i = 0; i < SERVER_LAT_BUCKETS; i++)
		snprintf(m->lat_le[i], sizeof(m->lat_le[i]), "%g", server_lat_bounds_us[i] / 1e6);
	for (i = 0; i < REDIS_LAT_BUCKETS; i++)
		snprintf(m->redis_le[i], sizeof(m->redis_le[i]), "%g",
			 redis_lat_bounds_us[i] / 1e6);
	uv_timer_init(loop, &m->render_timer);
	uv_timer_init(loop, &m->count_timer);
	m->render_timer.data = m->count_timer.data = m;
	m->timers_on = true;
	render(m);
	count_start(m);
	uv_timer_start(&m->render_timer, on_render, METRICS_RENDER_MS, METRICS_RENDER_MS);
	uv_timer_start(&m->count_timer, on_count, METRICS_COUNT_MS, METRICS_COUNT_MS);

	m->max_conns = m->v.conf->metrics.max_connections;
	m->timeout_ms = m->v.conf->metrics.timeout_ms;
	if (!m->max_conns)
		m->max_conns = FG_CONF_METRICS_MAX_CONN;
	if (!m->timeout_ms)
		m->timeout_ms = FG_CONF_METRICS_TIMEOUT_MS;
	/* The logger first: MHD reports options it reads before it on stderr
	 * (and says so, on every start). epoll: no FD_SETSIZE bound on
	 * max_connections. */
	m->daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)m->max_conns,
		/* idle: a second past the deadline, which always comes first */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)((m->timeout_ms + 999) / 1000 + 1),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, m, MHD_OPTION_END);
	if (!m->daemon) {
		log_warn("metrics: cannot start the HTTP server", LOG_STR("listen", m->listen));
		return -EIO;
	}
	m->listen_fd = -1; /* the daemon owns it now */
	err = pthread_create(&m->reaper, NULL, reaper_main, m);
	if (err)
		log_warn("metrics: no deadline thread: slow clients are closed only when idle for "
			 "metrics.timeout",
			 LOG_ERRNO(err));
	m->reaper_on = !err;
	log_info("metrics listening", LOG_STR("listen", m->listen),
		 LOG_STR("paths", "/metrics,/healthz,/,/status.json"),
		 LOG_UINT("max_connections", m->max_conns), LOG_UINT("timeout_ms", m->timeout_ms));
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->reaper_on) {
		pthread_mutex_lock(&m->conn_lock);
		m->reaper_stop = true;
		pthread_cond_signal(&m->reap_cond);
		pthread_mutex_unlock(&m->conn_lock);
		pthread_join(m->reaper, NULL);
		m->reaper_on = false;
	}
	if (m->daemon)
		MHD_stop_daemon(m->daemon); /* joins the thread, closes the socket */
	status_stop(m->status);
	m->daemon = NULL;
	if (m->timers_on) {
		uv_timer_stop(&m->render_timer);
		uv_timer_stop(&m->count_timer);
		if (!uv_is_closing((uv_handle_t *)&m->render_timer))
			uv_close((uv_handle_t *)&m->render_timer, NULL);
		if (!uv_is_closing((uv_handle_t *)&m->count_timer))
			uv_close((uv_handle_t *)&m->count_timer, NULL);
		m->timers_on = false;
	}
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	sbuf_free(&m->spare);
	sbuf_free(&m->text);
	free(m->auth_hists);
	status_free(m->status);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->conn_lock);
	pthread_cond_destroy(&m->reap_cond);
	free(m);
}
