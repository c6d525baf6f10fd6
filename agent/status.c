// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "cidr.h"
#include "clock.h"
#include "config.h"
#include "policy-t.h"
#include "rules.h"
#include "sbuf.h"
#include "status.h"
#include "xdpmaps.h"

/* The page, built in from agent/status.html (no file to find at run time). */
__asm__(".pushsection .rodata\n"
	".global status_html\n"
	".type status_html, @object\n"
	"status_html:\n"
	".incbin \"agent/status.html\"\n"
	"status_html_end:\n"
	".byte 0\n"
	".balign 8\n"
	".global status_html_len\n"
	"status_html_len:\n"
	".quad status_html_end - status_html\n"
	".popsection\n");
extern const char status_html[];
extern const uint64_t status_html_len;

/* Only what the page itself needs: its inline script and style, and
 * fetches of /status.json from this origin; nothing else loads. */
#define PAGE_CSP                                                                                   \
	"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "              \
	"connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "                 \
	"frame-ancestors 'none'"

#define NAME_MAX_  FG_CONF_NAME_MAX
#define MAX_RULES  FG_MAX_RULES
#define MAX_POLICY POLICY_MAX
#define MAX_IFACES FG_CONF_MAX_IFACES
#define NLEVELS	   3 /* address, prefix, global: the level labels of dropped_total */
#define MAX_LABELS 4
/* Redis nodes and sentinels shown (the agent keeps at most REDIS_MAX_NODES + sentinels). */
#define STATUS_MAX_NODES 72
/* A render sooner than this after the last sample (the extra one after a
 * map count) refreshes the JSON but takes no sample: one a second. */
#define MIN_SAMPLE_NS 500000000ull

static const char *const level_names[NLEVELS] = { "address", "prefix", "global" };
static const char *const origin_names[] = { "auto", "manual", "app", "fleet" };
#define NORIGINS (sizeof(origin_names) / sizeof(origin_names[0]))

struct st_rule {
	bool used;	 /* the slot holds a rule (present now or within the ring) */
	bool present;	 /* in the latest snapshot */
	bool have_prev;	 /* rates can be taken */
	uint32_t absent; /* samples since it was last present */
	char name[NAME_MAX_];
	char proto[8];
	double new_c, adm_c, drop_c[NLEVELS];
	double new_p, adm_p, drop_p[NLEVELS];
	double new_r, adm_r, drop_r[NLEVELS];
	bool attack;
	uint64_t attack_since_ms; /* Unix ms the status first saw it under attack */
	char cookies[8];	  /* syn_cookies mode in effect; "" none (udp, dry run) */
	bool cookies_active;	  /* its SYNs are answered with cookies now */
	double attacks;
	float pass[STATUS_RING_S], drop[STATUS_RING_S];
};

struct st_policy {
	bool present, have_prev;
	char name[NAME_MAX_];
	double dec_c, den_c, dec_p, den_p, dec_r, den_r;
};

struct st_iface {
	char name[NAME_MAX_];
	char mode[16];
	bool attached;
};

struct top_row {
	struct fg_src_key key;
	uint64_t new_flows, dropped;
	bool banned;
	struct fg_ban ban;
	struct fg_cidr ban_cidr;
};

struct ban_row {
	struct fg_cidr cidr;
	struct fg_ban ban;
};

struct walk_job {
	uv_work_t req;
	struct status *st;
	struct xdpmaps maps; /* fds only: read on the pool thread */
	bool busy;
	int top_err;
	int ntop;
	struct top_row top[STATUS_TOP_N];
	int nbans;
	long bans_total; /* -errno when the walk failed */
	struct ban_row bans[STATUS_TOP_N];
	uint64_t now_ns;
};

struct status {
	/* Loop thread only. */
	struct st_rule *rules; /* MAX_RULES slots */
	struct st_policy policies[MAX_POLICY];
	struct st_iface ifaces[MAX_IFACES];
	int nifaces;
	char version[64], mode[16], store[16];
	double bans_by_origin[NORIGINS];
	bool have_bans;
	double pkts_c[2], pkts_p[2], pkts_r[2]; /* pass, drop */
	bool have_pkts;
	bool redis;
	char deployment[16];
	struct st_node {
		char addr[160]; /* node or sentinel label */
		double up, slots;
		bool sentinel;
	} nodes[STATUS_MAX_NODES];
	int nnodes;
	double fallback, fleet_subscribed, reload_ok;
	bool have_fleet;
	double rt_sum_c, rt_cnt_c, rt_sum_p, rt_cnt_p, err_c, err_p, err_r;
	double rt_ms; /* mean Redis round trip of the last second with requests; <0 none */
	uint64_t sample_ns, sample_ms; /* monotonic / Unix time of the last sample */
	uint32_t head;		       /* next ring slot */
	uint32_t nsamples;	       /* valid samples in the ring (<= STATUS_RING_S) */
	bool sampled;		       /* at least two snapshots: rates are known */
	struct walk_job job;
	bool walked; /* job results below are valid */
	uint64_t walked_ms;
	int ntop, top_err;
	struct top_row top[STATUS_TOP_N];
	int nbans;
	long bans_total;
	struct ban_row bans[STATUS_TOP_N];
	uint64_t walk_due_ns;
	bool stopped;
	bool overflow; /* a rule of this snapshot found no slot */
	struct sbuf spare, spare_text;

	/* Shared with the HTTP thread. */
	pthread_mutex_t lock;
	struct sbuf json, text;	  /* under lock */
	uint64_t last_request_ns; /* __atomic */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int status_new(struct status **out)
{
	struct status *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st)
		return -ENOMEM;
	st->rules = calloc(MAX_RULES, sizeof(*st->rules));
	if (!st->rules) {
		free(st);
		return -ENOMEM;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->rt_ms = -1;
	*out = st;
	return 0;
}

void status_stop(struct status *st)
{
	if (!st)
		return;
	st->stopped = true;
	if (st->job.busy)
		uv_cancel((uv_req_t *)&st->job.req); /* fails once running: it then finishes */
}

void status_free(struct status *st)
{
	if (!st)
		return;
	sbuf_free(&st->spare);
	sbuf_free(&st->spare_text);
	sbuf_free(&st->json);
	sbuf_free(&st->text);
	pthread_mutex_destroy(&st->lock);
	free(st->rules);
	free(st);
}

/* --- reading the exposition text -------------------------------------------- */

struct sample {
	char name[96];
	int nlabels;
	char key[MAX_LABELS][32];
	char val[MAX_LABELS][NAME_MAX_ * 2];
	double value;
};

/* One line "name{k="v",...} value" into s; false for comments, blank or
 * malformed lines (ours are well formed: this is a defence, not a parser
 * of other programs' text). Long names and values are cut. */
static bool parse_line(const char *p, const char *end, struct sample *s)
{
	size_t n = 0;
	char *num_end;

	if (p >= end || *p == '#' || *p == '\n')
		return false;
	s->nlabels = 0;
	while (p < end && *p != '{' && *p != ' ' && *p != '\n') {
		if (n + 1 < sizeof(s->name))
			s->name[n++] = *p;
		p++;
	}
	s->name[n] = '\0';
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			int i = s->nlabels < MAX_LABELS ? s->nlabels : MAX_LABELS - 1;
			size_t k = 0, v = 0;

			while (p < end && *p != '=' && *p != '\n') {
				if (k + 1 < sizeof(s->key[i]))
					s->key[i][k++] = *p;
				p++;
			}
			s->key[i][k] = '\0';
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return false;
			p += 2;
			while (p < end && *p != '"' && *p != '\n') {
				char c = *p;

				if (c == '\\' && p + 1 < end) {
					p++;
					c = *p == 'n' ? '\n' : *p;
				}
				if (v + 1 < sizeof(s->val[i]))
					s->val[i][v++] = c;
				p++;
			}
			s->val[i][v] = '\0';
			if (p >= end || *p != '"')
				return false;
			p++;
			if (s->nlabels < MAX_LABELS)
				s->nlabels++;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return false;
		p++; /* '}' */
	}
	if (p >= end || *p != ' ')
		return false;
	s->value = strtod(p + 1, &num_end);
	return num_end != p + 1;
}

static const char *label(const struct sample *s, const char *key)
{
	int i;

	for (i = 0; i < s->nlabels; i++)
		if (!strcmp(s->key[i], key))
			return s->val[i];
	return "";
}

/* A Redis node's (or sentinel's) sample: its row, found by its label. */
static void take_node(struct status *st, const struct sample *s, const char *n)
{
	bool sentinel = !strcmp(n, "floodgate_store_sentinel_up");
	const char *addr = label(s, sentinel ? "sentinel" : "node");
	struct st_node *x = NULL;
	int i;

	for (i = 0; i < st->nnodes && !x; i++)
		if (st->nodes[i].sentinel == sentinel && !strcmp(st->nodes[i].addr, addr))
			x = &st->nodes[i];
	if (!x) {
		if (st->nnodes == STATUS_MAX_NODES)
			return;
		x = &st->nodes[st->nnodes++];
		*x = (struct st_node){ .sentinel = sentinel, .slots = -1 };
		snprintf(x->addr, sizeof(x->addr), "%s", addr);
	}
	if (!strcmp(n, "floodgate_store_node_slots"))
		x->slots = s->value;
	else
		x->up = s->value;
}

static struct st_rule *rule_slot(struct status *st, const char *name)
{
	struct st_rule *free_slot = NULL;
	int i;

	for (i = 0; i < MAX_RULES; i++) {
		struct st_rule *r = &st->rules[i];

		if (r->used && !strcmp(r->name, name))
			return r;
		if (!r->used && !free_slot)
			free_slot = r;
	}
	if (!free_slot) {
		st->overflow = true; /* status_update_at() makes room and reads again */
		return NULL;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
	return free_slot;
}

static struct st_rule *rule_present(struct status *st, const char *name)
{
	struct st_rule *r = rule_slot(st, name);

	if (r && !r->present) {
		r->present = true;
		r->new_c = r->adm_c = 0;
		memset(r->drop_c, 0, sizeof(r->drop_c));
		r->cookies[0] = '\0';
		r->cookies_active = false;
	}
	return r;
}

static struct st_policy *policy_present(struct status *st, const char *name)
{
	struct st_policy *free_slot = NULL;
	int i;

	for (i = 0; i < MAX_POLICY; i++) {
		struct st_policy *p = &st->policies[i];

		if (p->name[0] && !strcmp(p->name, name)) {
			if (!p->present) {
				p->present = true;
				p->dec_c = p->den_c = 0;
			}
			return p;
		}
		if (!p->name[0] && !free_slot)
			free_slot = p;
	}
	if (!free_slot) {
		st->overflow = true; /* policies renamed by reloads: room is made */
		return NULL;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
	free_slot->present = true;
	return free_slot;
}

static void take(struct status *st, const struct sample *s, uint64_t now_ms)
{
	const char *n = s->name;
	struct st_rule *r;
	struct st_policy *p;
	int i;

	if (!strcmp(n, "floodgate_build_info")) {
		snprintf(st->version, sizeof(st->version), "%s", label(s, "version"));
	} else if (!strcmp(n, "floodgate_mode_info")) {
		snprintf(st->mode, sizeof(st->mode), "%s", label(s, "mode"));
	} else if (!strcmp(n, "floodgate_xdp_attached")) {
		if (st->nifaces < MAX_IFACES) {
			struct st_iface *f = &st->ifaces[st->nifaces++];

			snprintf(f->name, sizeof(f->name), "%s", label(s, "iface"));
			snprintf(f->mode, sizeof(f->mode), "%s", label(s, "mode"));
			f->attached = s->value == 1;
		}
	} else if (!strcmp(n, "floodgate_xdp_new_flows_total")) {
		if ((r = rule_present(st, label(s, "rule")))) {
			r->new_c = s->value;
			snprintf(r->proto, sizeof(r->proto), "%s", label(s, "proto"));
		}
	} else if (!strcmp(n, "floodgate_xdp_admitted_total")) {
		if ((r = rule_present(st, label(s, "rule"))))
			r->adm_c = s->value;
	} else if (!strcmp(n, "floodgate_xdp_dropped_total")) {
		if ((r = rule_present(st, label(s, "rule"))))
			for (i = 0; i < NLEVELS; i++)
				if (!strcmp(label(s, "level"), level_names[i]))
					r->drop_c[i] = s->value;
	} else if (!strcmp(n, "floodgate_xdp_under_attack")) {
		if ((r = rule_present(st, label(s, "rule")))) {
			bool on = s->value == 1;

			if (on && !r->attack)
				r->attack_since_ms = now_ms;
			r->attack = on;
		}
	} else if (!strcmp(n, "floodgate_xdp_attacks_total")) {
		if ((r = rule_present(st, label(s, "rule"))))
			r->attacks = s->value;
	} else if (!strcmp(n, "floodgate_xdp_syn_cookies")) {
		if (s->value == 1 && (r = rule_present(st, label(s, "rule"))))
			snprintf(r->cookies, sizeof(r->cookies), "%s", label(s, "mode"));
	} else if (!strcmp(n, "floodgate_xdp_syn_cookies_active")) {
		if ((r = rule_present(st, label(s, "rule"))))
			r->cookies_active = s->value == 1;
	} else if (!strcmp(n, "floodgate_xdp_packets_total")) {
		st->have_pkts = true;
		st->pkts_c[!strcmp(label(s, "action"), "drop")] += s->value;
	} else if (!strcmp(n, "floodgate_xdp_bans")) {
		st->have_bans = true;
		for (i = 0; i < (int)NORIGINS; i++)
			if (!strcmp(label(s, "origin"), origin_names[i]))
				st->bans_by_origin[i] = s->value;
	} else if (!strcmp(n, "floodgate_rl_decisions_total")) {
		const char *res = label(s, "result");

		if ((p = policy_present(st, label(s, "policy")))) {
			p->dec_c += s->value;
			if (!strcmp(res, "denied") || !strcmp(res, "blocked"))
				p->den_c += s->value;
		}
	} else if (!strcmp(n, "floodgate_rl_store_keys")) {
		snprintf(st->store, sizeof(st->store), "%s", label(s, "store"));
	} else if (!strcmp(n, "floodgate_store_fallback_active")) {
		st->redis = true;
		st->fallback = s->value;
	} else if (!strcmp(n, "floodgate_store_deployment")) {
		snprintf(st->deployment, sizeof(st->deployment), "%s", label(s, "deployment"));
	} else if (!strcmp(n, "floodgate_store_node_up") ||
		   !strcmp(n, "floodgate_store_node_slots") ||
		   !strcmp(n, "floodgate_store_sentinel_up")) {
		take_node(st, s, n);
	} else if (!strcmp(n, "floodgate_store_errors_total")) {
		st->err_c = s->value;
	} else if (!strcmp(n, "floodgate_store_request_duration_seconds_sum")) {
		st->rt_sum_c = s->value;
	} else if (!strcmp(n, "floodgate_store_request_duration_seconds_count")) {
		st->rt_cnt_c = s->value;
	} else if (!strcmp(n, "floodgate_fleet_subscribed")) {
		st->have_fleet = true;
		st->fleet_subscribed = s->value;
	} else if (!strcmp(n, "floodgate_config_last_reload_successful")) {
		st->reload_ok = s->value;
	}
}

/* A counter's rate from prev to cur over dt s; a reset (agent restart,
 * rule re-created) is no rate for that second rather than a negative one. */
static double rate(double cur, double prev, double dt)
{
	return cur >= prev && dt > 0 ? (cur - prev) / dt : 0;
}

/* Turn this snapshot's counters into rates and, once a second, a sample. */
static void advance(struct status *st, uint64_t now_ns, uint64_t now_ms)
{
	double dt = st->sample_ns ? (double)(now_ns - st->sample_ns) / 1e9 : 0;
	bool sample = !st->sample_ns || now_ns - st->sample_ns >= MIN_SAMPLE_NS;
	int i, l;

	if (!sample)
		return;
	for (i = 0; i < MAX_RULES; i++) {
		struct st_rule *r = &st->rules[i];

		if (!r->used)
			continue;
		if (!r->present) {
			r->have_prev = false;
			if (++r->absent >= STATUS_RING_S) {
				r->used = false; /* out of the chart's window: the slot is free */
				continue;
			}
		} else {
			r->absent = 0;
			if (r->have_prev && dt > 0) {
				r->new_r = rate(r->new_c, r->new_p, dt);
				r->adm_r = rate(r->adm_c, r->adm_p, dt);
				for (l = 0; l < NLEVELS; l++)
					r->drop_r[l] = rate(r->drop_c[l], r->drop_p[l], dt);
			}
			r->new_p = r->new_c;
			r->adm_p = r->adm_c;
			memcpy(r->drop_p, r->drop_c, sizeof(r->drop_p));
		}
		r->pass[st->head] = r->present && r->have_prev ? (float)r->adm_r : 0;
		r->drop[st->head] = r->present && r->have_prev
					    ? (float)(r->drop_r[0] + r->drop_r[1] + r->drop_r[2])
					    : 0;
		r->have_prev = r->present;
	}
	for (i = 0; i < MAX_POLICY; i++) {
		struct st_policy *p = &st->policies[i];

		if (!p->present) {
			p->have_prev = false;
			continue;
		}
		if (p->have_prev) {
			p->dec_r = rate(p->dec_c, p->dec_p, dt);
			p->den_r = rate(p->den_c, p->den_p, dt);
		}
		p->dec_p = p->dec_c;
		p->den_p = p->den_c;
		p->have_prev = true;
	}
	if (st->sample_ns) {
		for (i = 0; i < 2; i++)
			st->pkts_r[i] = rate(st->pkts_c[i], st->pkts_p[i], dt);
		st->err_r = rate(st->err_c, st->err_p, dt);
		if (st->rt_cnt_c > st->rt_cnt_p)
			st->rt_ms =
				(st->rt_sum_c - st->rt_sum_p) / (st->rt_cnt_c - st->rt_cnt_p) * 1e3;
		st->sampled = true;
	}
	memcpy(st->pkts_p, st->pkts_c, sizeof(st->pkts_p));
	st->err_p = st->err_c;
	st->rt_sum_p = st->rt_sum_c;
	st->rt_cnt_p = st->rt_cnt_c;
	st->head = (st->head + 1) % STATUS_RING_S;
	if (st->nsamples < STATUS_RING_S)
		st->nsamples++;
	st->sample_ns = now_ns;
	st->sample_ms = now_ms;
}

/* --- the walk of the top sources and bans (thread pool) ---------------------- */

static int ban_keep(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	struct walk_job *j = arg;
	uint64_t end, e;
	int i, at;

	if (!ban || (ban->expires_ns && ban->expires_ns <= j->now_ns))
		return 0; /* expired: the sweep removes it */
	j->bans_total++;
	/* Latest ending first (a ban's start is not stored; for bans of one
	 * duration that is newest first); permanent ones before them. */
	end = ban->expires_ns ? ban->expires_ns : UINT64_MAX;
	for (at = 0; at < j->nbans; at++) {
		e = j->bans[at].ban.expires_ns ? j->bans[at].ban.expires_ns : UINT64_MAX;
		if (end > e)
			break;
	}
	if (at >= STATUS_TOP_N)
		return 0;
	if (j->nbans < STATUS_TOP_N)
		j->nbans++;
	for (i = j->nbans - 1; i > at; i--)
		j->bans[i] = j->bans[i - 1];
	j->bans[at].cidr = *c;
	j->bans[at].ban = *ban;
	return 0;
}

static void walk_work(uv_work_t *req)
{
	struct walk_job *j = req->data;
	struct xdpmaps_top_entry top[STATUS_TOP_N];
	int i, n, err;

	j->now_ns = xdpmaps_now_ns();
	n = xdpmaps_top(&j->maps, STATUS_TOP_N, true, top);
	j->top_err = n < 0 ? n : 0;
	j->ntop = 0;
	for (i = 0; i < n; i++) {
		struct top_row *t = &j->top[j->ntop];

		if (!top[i].dropped)
			break; /* by drops: the rest dropped nothing */
		t->key = top[i].key;
		t->new_flows = top[i].new_flows;
		t->dropped = top[i].dropped;
		cidr_from_src_key(&top[i].key, &t->ban_cidr);
		/* Its own ban, else the longest banned prefix holding it. */
		t->banned = !xdpmaps_banned(&j->maps, &t->ban_cidr, j->now_ns, &t->ban);
		j->ntop++;
	}
	j->nbans = 0;
	j->bans_total = 0;
	err = xdpmaps_bans_each(&j->maps, ban_keep, j);
	if (err < 0)
		j->bans_total = err;
}

static void walk_done(uv_work_t *req, int status)
{
	struct walk_job *j = req->data;
	struct status *st = j->st;

	j->busy = false;
	if (status)
		return; /* cancelled at exit */
	st->ntop = j->ntop;
	st->top_err = j->top_err;
	memcpy(st->top, j->top, sizeof(st->top));
	st->nbans = j->nbans;
	st->bans_total = j->bans_total;
	memcpy(st->bans, j->bans, sizeof(st->bans));
	st->walked = true;
	st->walked_ms = clock_realtime_ms();
}

static void walk_start(struct status *st, uv_loop_t *loop, const struct status_src *v,
		       uint64_t now_ns)
{
	uint64_t asked = __atomic_load_n(&st->last_request_ns, __ATOMIC_RELAXED);
	struct walk_job *j = &st->job;

	if (st->stopped || j->busy || !v->maps || !loop || now_ns < st->walk_due_ns)
		return;
	if (!asked || now_ns - asked > (uint64_t)STATUS_IDLE_MS * 1000000)
		return; /* nobody is looking: no walk */
	j->st = st;
	j->maps = *v->maps;
	j->req.data = j;
	if (!uv_queue_work(loop, &j->req, walk_work, walk_done))
		j->busy = true;
	st->walk_due_ns = now_ns + (uint64_t)STATUS_WALK_MS * 1000000;
}

/* --- JSON ------------------------------------------------------------------------ */

static void json_str(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
			sbuf_printf(b, "\\u%04x", c); /* inert even if pasted into HTML */
		else
			sbuf_putc(b, (char)c);
	}
	sbuf_putc(b, '"');
}

/* A rate or gauge: finite, one decimal (the page's precision). No printf:
 * the chart writes 600 of these per rule and second. */
static void json_num(struct sbuf *b, double v)
{
	long long tenths;

	if (!isfinite(v) || v < 0)
		v = 0;
	if (v > 1e15)
		v = 1e15;
	tenths = (long long)(v * 10 + 0.5);
	sbuf_put_ll(b, tenths / 10);
	sbuf_putc(b, '.');
	sbuf_putc(b, (char)('0' + tenths % 10));
}

static void json_rate(struct sbuf *b, bool known, double v)
{
	if (known)
		json_num(b, v);
	else
		sbuf_puts(b, "null");
}

static const char *rule_name(const struct status_src *v, uint16_t id)
{
	if (v->compiled && id < FG_MAX_RULES && v->compiled->ids.names[id][0])
		return v->compiled->ids.names[id];
	return "?";
}

/* Seconds a ban has left at now (-1: permanent). */
static long long ban_left_s(const struct fg_ban *b, uint64_t now_ns)
{
	if (!b->expires_ns)
		return -1;
	return b->expires_ns > now_ns
		       ? (long long)((b->expires_ns - now_ns + 999999999) / 1000000000)
		       : 0;
}

static void render_ban(struct sbuf *b, const struct fg_ban *ban, uint64_t now_ns)
{
	long long left = ban_left_s(ban, now_ns);

	sbuf_puts(b, "\"origin\":");
	json_str(b, ban->origin < NORIGINS ? origin_names[ban->origin] : "?");
	sbuf_puts(b, ",\"expires_in_s\":");
	if (left < 0)
		sbuf_puts(b, "null");
	else
		sbuf_put_ll(b, left);
}

static void render_rules(struct sbuf *b, struct status *st)
{
	bool first = true;
	uint32_t k, n = st->nsamples;
	int i, l;

	sbuf_puts(b, ",\"rules\":[");
	for (i = 0; i < MAX_RULES; i++) {
		const struct st_rule *r = &st->rules[i];
		bool known = st->sampled && r->have_prev;

		if (!r->used || !r->present)
			continue;
		sbuf_puts(b, first ? "{" : ",{");
		first = false;
		sbuf_puts(b, "\"name\":");
		json_str(b, r->name);
		sbuf_puts(b, ",\"proto\":");
		json_str(b, r->proto);
		sbuf_puts(b, ",\"new_per_s\":");
		json_rate(b, known, r->new_r);
		sbuf_puts(b, ",\"passed_per_s\":");
		json_rate(b, known, r->adm_r);
		sbuf_puts(b, ",\"dropped_per_s\":");
		json_rate(b, known, r->drop_r[0] + r->drop_r[1] + r->drop_r[2]);
		sbuf_puts(b, ",\"dropped_per_s_by_level\":{");
		for (l = 0; l < NLEVELS; l++) {
			sbuf_printf(b, "%s\"%s\":", l ? "," : "", level_names[l]);
			json_rate(b, known, r->drop_r[l]);
		}
		sbuf_printf(b, "},\"under_attack\":%s,\"attack_since_ms\":",
			    r->attack ? "true" : "false");
		if (r->attack)
			sbuf_put_ull(b, r->attack_since_ms);
		else
			sbuf_puts(b, "null");
		sbuf_puts(b, ",\"attacks\":");
		sbuf_put_ull(b, (unsigned long long)r->attacks);
		sbuf_puts(b, ",\"syn_cookies\":");
		if (r->cookies[0])
			json_str(b, r->cookies);
		else
			sbuf_puts(b, "null");
		sbuf_printf(b, ",\"syn_cookies_active\":%s", r->cookies_active ? "true" : "false");
		/* The chart: oldest first, one sample a second. */
		sbuf_puts(b, ",\"history\":{\"passed_per_s\":[");
		for (k = 0; k < n; k++) {
			if (k)
				sbuf_putc(b, ',');
			json_num(b, r->pass[(st->head + STATUS_RING_S - n + k) % STATUS_RING_S]);
		}
		sbuf_puts(b, "],\"dropped_per_s\":[");
		for (k = 0; k < n; k++) {
			if (k)
				sbuf_putc(b, ',');
			json_num(b, r->drop[(st->head + STATUS_RING_S - n + k) % STATUS_RING_S]);
		}
		sbuf_puts(b, "]}}");
	}
	sbuf_putc(b, ']');
}

static void render_sources(struct sbuf *b, struct status *st, const struct status_src *v,
			   uint64_t now_ns)
{
	char buf[FG_CIDR_STRLEN];
	int i;

	sbuf_puts(b, ",\"top_sources\":");
	if (!st->walked) {
		sbuf_puts(b, "null");
	} else {
		sbuf_puts(b, "{\"updated_ms\":");
		sbuf_put_ull(b, st->walked_ms);
		sbuf_puts(b, ",\"error\":");
		if (st->top_err)
			json_str(b, strerror(-st->top_err));
		else
			sbuf_puts(b, "null");
		sbuf_puts(b, ",\"rows\":[");
		for (i = 0; i < st->ntop; i++) {
			const struct top_row *t = &st->top[i];
			struct fg_cidr a;

			cidr_from_src_key(&t->key, &a);
			sbuf_puts(b, i ? ",{\"address\":" : "{\"address\":");
			json_str(b, cidr_format(&a, buf, sizeof(buf)));
			sbuf_puts(b, ",\"rule\":");
			json_str(b, rule_name(v, t->key.rule));
			sbuf_puts(b, ",\"new_flows\":");
			sbuf_put_ull(b, t->new_flows);
			sbuf_puts(b, ",\"dropped\":");
			sbuf_put_ull(b, t->dropped);
			sbuf_printf(b, ",\"banned\":%s", t->banned ? "true" : "false");
			if (t->banned) {
				sbuf_puts(b, ",\"ban\":{");
				render_ban(b, &t->ban, now_ns);
				sbuf_putc(b, '}');
			}
			sbuf_putc(b, '}');
		}
		sbuf_puts(b, "]}");
	}
	sbuf_puts(b, ",\"bans\":{\"total\":");
	if (st->walked && st->bans_total >= 0)
		sbuf_put_ll(b, st->bans_total);
	else
		sbuf_puts(b, "null");
	sbuf_puts(b, ",\"by_origin\":");
	if (st->have_bans) {
		for (i = 0; i < (int)NORIGINS; i++) {
			sbuf_printf(b, "%s\"%s\":", i ? "," : "{", origin_names[i]);
			sbuf_put_ull(b, (unsigned long long)st->bans_by_origin[i]);
		}
		sbuf_putc(b, '}');
	} else {
		sbuf_puts(b, "null");
	}
	sbuf_puts(b, ",\"newest\":[");
	for (i = 0; st->walked && i < st->nbans; i++) {
		sbuf_puts(b, i ? ",{\"cidr\":" : "{\"cidr\":");
		json_str(b, cidr_format(&st->bans[i].cidr, buf, sizeof(buf)));
		sbuf_putc(b, ',');
		render_ban(b, &st->bans[i].ban, now_ns);
		sbuf_putc(b, '}');
	}
	sbuf_puts(b, "]}");
}

/* The store's deployment, its nodes (up, a cluster master's slots) and sentinels. */
static void json_topology(struct sbuf *b, const struct status *st)
{
	int i, k;

	sbuf_puts(b, ",\"deployment\":");
	json_str(b, st->deployment[0] ? st->deployment : "single");
	for (k = 0; k < 2; k++) {
		bool first = true;

		sbuf_puts(b, k ? ",\"sentinels\":[" : ",\"nodes\":[");
		for (i = 0; i < st->nnodes; i++) {
			const struct st_node *x = &st->nodes[i];

			if (x->sentinel != (k == 1))
				continue;
			sbuf_puts(b, first ? "{\"addr\":" : ",{\"addr\":");
			first = false;
			json_str(b, x->addr);
			sbuf_printf(b, ",\"up\":%s", x->up ? "true" : "false");
			if (x->slots >= 0)
				sbuf_printf(b, ",\"slots\":%.0f", x->slots);
			sbuf_putc(b, '}');
		}
		sbuf_putc(b, ']');
	}
}

static void render_json(struct sbuf *b, struct status *st, const struct status_src *v,
			const char *health, uint64_t now_ms, uint64_t now_ns)
{
	bool first = true;
	int i;

	sbuf_puts(b, "{\"version\":");
	json_str(b, st->version);
	sbuf_puts(b, ",\"mode\":");
	json_str(b, st->mode);
	sbuf_puts(b, ",\"time_ms\":");
	sbuf_put_ull(b, now_ms);
	sbuf_printf(b,
		    ",\"starting\":%s,\"healthy\":%s,\"health\":", st->sampled ? "false" : "true",
		    *health ? "false" : "true");
	json_str(b, *health ? health : "ok");
	sbuf_puts(b, ",\"interfaces\":[");
	for (i = 0; i < st->nifaces; i++) {
		sbuf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		json_str(b, st->ifaces[i].name);
		sbuf_printf(
			b, ",\"attached\":%s,\"mode\":", st->ifaces[i].attached ? "true" : "false");
		json_str(b, st->ifaces[i].mode);
		sbuf_putc(b, '}');
	}
	sbuf_putc(b, ']');
	render_rules(b, st);
	sbuf_puts(b, ",\"packets_per_s\":");
	if (st->have_pkts) {
		sbuf_puts(b, "{\"pass\":");
		json_rate(b, st->sampled, st->pkts_r[0]);
		sbuf_puts(b, ",\"drop\":");
		json_rate(b, st->sampled, st->pkts_r[1]);
		sbuf_putc(b, '}');
	} else {
		sbuf_puts(b, "null");
	}
	render_sources(b, st, v, now_ns);
	sbuf_puts(b, ",\"policies\":[");
	for (i = 0; i < MAX_POLICY; i++) {
		const struct st_policy *p = &st->policies[i];
		bool known = st->sampled && p->have_prev;

		if (!p->present)
			continue;
		sbuf_puts(b, first ? "{\"name\":" : ",{\"name\":");
		first = false;
		json_str(b, p->name);
		sbuf_puts(b, ",\"decisions_per_s\":");
		json_rate(b, known, p->dec_r);
		sbuf_puts(b, ",\"denied_per_s\":");
		json_rate(b, known, p->den_r);
		sbuf_putc(b, '}');
	}
	sbuf_puts(b, "],\"store\":{\"type\":");
	json_str(b, st->store[0] ? st->store : "memory");
	if (st->redis) {
		sbuf_printf(b, ",\"redis_up\":%s,\"fallback\":%s,\"round_trip_ms\":",
			    st->fallback ? "false" : "true", st->fallback ? "true" : "false");
		if (st->rt_ms >= 0)
			sbuf_printf(b, "%.2f", st->rt_ms);
		else
			sbuf_puts(b, "null");
		sbuf_puts(b, ",\"errors_per_s\":");
		json_rate(b, st->sampled, st->err_r);
		sbuf_puts(b, ",\"fleet_subscribed\":");
		sbuf_puts(b, !st->have_fleet ? "null" : st->fleet_subscribed ? "true" : "false");
		json_topology(b, st);
	} else {
		sbuf_puts(b, ",\"redis_up\":null,\"fallback\":false,\"round_trip_ms\":null,"
			     "\"errors_per_s\":null,\"fleet_subscribed\":null");
	}
	sbuf_printf(b, "},\"config\":{\"last_reload_ok\":%s}}\n", st->reload_ok ? "true" : "false");
}

/* --- the same as text (floodctl overview) ------------------------------------------ */

/* "; cluster: 3 masters, 1 down" / "; sentinel: 2 of 3 sentinels reachable" */
static void text_topology(struct sbuf *b, const struct status *st)
{
	int i, n[2] = { 0, 0 }, up[2] = { 0, 0 };

	if (!st->deployment[0])
		return;
	for (i = 0; i < st->nnodes; i++) {
		n[st->nodes[i].sentinel]++;
		up[st->nodes[i].sentinel] += st->nodes[i].up != 0;
	}
	sbuf_printf(b, "; %s", st->deployment);
	if (!strcmp(st->deployment, "cluster"))
		sbuf_printf(b, ": %d masters, %d down", n[0], n[0] - up[0]);
	else if (!strcmp(st->deployment, "sentinel"))
		sbuf_printf(b, ": %d of %d sentinels reachable", up[1], n[1]);
}

static void hhmmss(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

static void text_rate(struct sbuf *b, int width, bool known, double v)
{
	if (known)
		sbuf_printf(b, " %*.1f", width, isfinite(v) ? v : 0);
	else
		sbuf_printf(b, " %*s", width, "-");
}

static void text_ban(struct sbuf *b, const struct fg_ban *ban, uint64_t now_ns)
{
	long long left = ban_left_s(ban, now_ns);

	sbuf_printf(b, "%s, ", ban->origin < NORIGINS ? origin_names[ban->origin] : "?");
	if (left < 0)
		sbuf_puts(b, "until unbanned");
	else
		sbuf_printf(b, "%lld s left", left);
}

static void render_text(struct sbuf *b, struct status *st, const struct status_src *v,
			const char *health, uint64_t now_ms, uint64_t now_ns)
{
	char buf[FG_CIDR_STRLEN], when[16];
	bool attack = false, first = true;
	int i;

	for (i = 0; i < MAX_RULES; i++)
		attack |= st->rules[i].used && st->rules[i].present && st->rules[i].attack;
	hhmmss(now_ms, when, sizeof(when));
	sbuf_printf(b, "floodgate %s (%s) at %s: %s%s\n", st->version, st->mode, when,
		    !st->sampled ? "starting"
		    : *health	 ? "UNHEALTHY: "
		    : attack	 ? "UNDER ATTACK"
				 : "ok",
		    st->sampled && *health ? health : "");
	if (!st->reload_ok)
		sbuf_puts(b, "config: the last reload was REJECTED (the previous config runs)\n");
	sbuf_puts(b, "interfaces:");
	for (i = 0; i < st->nifaces; i++)
		sbuf_printf(b, "%s %s %s (%s)", i ? "," : "", st->ifaces[i].name,
			    st->ifaces[i].attached ? "attached" : "DETACHED", st->ifaces[i].mode);
	sbuf_puts(b, st->nifaces ? "\n" : " none (app-only: no XDP)\n");
	if (st->have_pkts) {
		sbuf_puts(b, "packets/s: passed");
		text_rate(b, 1, st->sampled, st->pkts_r[0]);
		sbuf_puts(b, ", dropped");
		text_rate(b, 1, st->sampled, st->pkts_r[1]);
		sbuf_putc(b, '\n');
	}
	for (i = 0; i < MAX_RULES; i++) {
		const struct st_rule *r = &st->rules[i];
		bool known = st->sampled && r->have_prev;
		char state[40];

		if (!r->used || !r->present)
			continue;
		if (first)
			sbuf_printf(b, "\n%-16s %-27s %9s %9s %9s %7s  %s\n", "RULE", "STATE",
				    "NEW/S", "PASSED/S", "DROPPED/S", "ATTACKS", "SYN COOKIES");
		first = false;
		if (r->attack) {
			hhmmss(r->attack_since_ms, when, sizeof(when));
			snprintf(state, sizeof(state), "UNDER ATTACK since %s", when);
		} else {
			snprintf(state, sizeof(state), "normal");
		}
		sbuf_printf(b, "%-16s %-27s", r->name, state);
		text_rate(b, 9, known, r->new_r);
		text_rate(b, 9, known, r->adm_r);
		text_rate(b, 9, known, r->drop_r[0] + r->drop_r[1] + r->drop_r[2]);
		sbuf_printf(b, " %7llu  %s%s\n", (unsigned long long)r->attacks,
			    r->cookies[0] ? r->cookies : "-", r->cookies_active ? " ACTIVE" : "");
	}
	if (st->walked) {
		hhmmss(st->walked_ms, when, sizeof(when));
		sbuf_printf(b, "\ntop sources by drops (as of %s):", when);
		if (st->top_err)
			sbuf_printf(b, " cannot read them: %s", strerror(-st->top_err));
		else if (!st->ntop)
			sbuf_puts(b, " none dropped");
		else
			sbuf_printf(b, "\n%-39s %-16s %10s %10s  %s", "ADDRESS", "RULE",
				    "NEW FLOWS", "DROPPED", "BAN");
		sbuf_putc(b, '\n');
		for (i = 0; i < st->ntop; i++) {
			const struct top_row *t = &st->top[i];
			struct fg_cidr a;

			cidr_from_src_key(&t->key, &a);
			sbuf_printf(b, "%-39s %-16s %10llu %10llu  ",
				    cidr_format(&a, buf, sizeof(buf)), rule_name(v, t->key.rule),
				    (unsigned long long)t->new_flows,
				    (unsigned long long)t->dropped);
			if (t->banned)
				text_ban(b, &t->ban, now_ns);
			else
				sbuf_puts(b, "no");
			sbuf_putc(b, '\n');
		}
		if (st->bans_total >= 0) {
			sbuf_printf(b, "bans: %ld in force", st->bans_total);
			for (i = 0; i < st->nbans; i++) {
				sbuf_printf(b, "%s%s (", i ? ", " : "; latest: ",
					    cidr_format(&st->bans[i].cidr, buf, sizeof(buf)));
				text_ban(b, &st->bans[i].ban, now_ns);
				sbuf_putc(b, ')');
			}
			sbuf_putc(b, '\n');
		}
	}
	first = true;
	for (i = 0; i < MAX_POLICY; i++) {
		const struct st_policy *p = &st->policies[i];
		bool known = st->sampled && p->have_prev;

		if (!p->present)
			continue;
		if (first)
			sbuf_printf(b, "\n%-24s %12s %10s\n", "POLICY", "DECISIONS/S", "DENIED/S");
		first = false;
		sbuf_printf(b, "%-24s", p->name);
		text_rate(b, 12, known, p->dec_r);
		text_rate(b, 10, known, p->den_r);
		sbuf_putc(b, '\n');
	}
	sbuf_printf(b, "\nstore: %s", st->store[0] ? st->store : "memory");
	if (st->redis) {
		sbuf_printf(b, ", Redis %s",
			    st->fallback ? "DOWN: fallback (on_store_error)" : "up");
		if (st->rt_ms >= 0)
			sbuf_printf(b, ", round trip %.2f ms", st->rt_ms);
		sbuf_puts(b, ", errors/s");
		text_rate(b, 1, st->sampled, st->err_r);
		if (st->have_fleet)
			sbuf_printf(b, ", fleet bans %s",
				    st->fleet_subscribed ? "subscribed" : "NOT subscribed");
		text_topology(b, st);
	}
	sbuf_putc(b, '\n');
}

int status_update(struct status *st, uv_loop_t *loop, const struct status_src *v, const char *text,
		  size_t len, const char *health)
{
	return status_update_at(st, loop, v, text, len, health, mono_ns(), clock_realtime_ms());
}

/* Take a snapshot's text in: its values replace the last one's. */
static void parse_all(struct status *st, const char *text, size_t len, uint64_t now_ms)
{
	const char *p = text, *end = text + len, *nl;
	struct sample s;
	int i;

	st->overflow = false;
	for (i = 0; i < MAX_RULES; i++)
		st->rules[i].present = false;
	for (i = 0; i < MAX_POLICY; i++)
		st->policies[i].present = false;
	st->nifaces = 0;
	st->have_pkts = st->have_bans = st->redis = st->have_fleet = false;
	st->nnodes = 0;
	st->deployment[0] = '\0';
	memset(st->pkts_c, 0, sizeof(st->pkts_c));
	st->store[0] = '\0';
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (parse_line(p, nl, &s))
			take(st, &s, now_ms);
		p = nl + 1;
	}
}

int status_update_at(struct status *st, uv_loop_t *loop, const struct status_src *v,
		     const char *text, size_t len, const char *health, uint64_t now_ns,
		     uint64_t now_ms)
{
	struct sbuf old;
	int i;

	if (!st)
		return 0;
	parse_all(st, text, len, now_ms);
	if (st->overflow) {
		/* Reloads renamed more rules than there are slots within the
		 * chart's 5 minutes (or more policies than slots): those gone
		 * from this snapshot lose their history, and the snapshot is
		 * read again. */
		for (i = 0; i < MAX_RULES; i++)
			if (!st->rules[i].present)
				st->rules[i].used = false;
		for (i = 0; i < MAX_POLICY; i++)
			if (!st->policies[i].present)
				st->policies[i].name[0] = '\0';
		parse_all(st, text, len, now_ms);
	}
	advance(st, now_ns, now_ms);
	walk_start(st, loop, v, now_ns);

	sbuf_clear(&st->spare);
	sbuf_clear(&st->spare_text);
	render_json(&st->spare, st, v, health, now_ms, now_ns);
	render_text(&st->spare_text, st, v, health, now_ms, now_ns);
	if (sbuf_failed(&st->spare) || sbuf_failed(&st->spare_text))
		return -ENOMEM;
	/* Both from this snapshot, swapped together. */
	pthread_mutex_lock(&st->lock);
	old = st->json;
	st->json = st->spare;
	st->spare = old;
	old = st->text;
	st->text = st->spare_text;
	st->spare_text = old;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* --- HTTP (libmicrohttpd's thread) -------------------------------------------------- */

int status_copy(struct status *st, bool text, char **out, size_t *len)
{
	const struct sbuf *b;
	char *copy;

	pthread_mutex_lock(&st->lock);
	b = text ? &st->text : &st->json;
	copy = malloc(b->len + 1);
	if (copy) {
		if (b->len)
			memcpy(copy, b->data, b->len);
		copy[b->len] = '\0';
		*len = b->len;
	}
	pthread_mutex_unlock(&st->lock);
	*out = copy;
	return copy ? 0 : -ENOMEM;
}

bool status_http(struct status *st, const char *url, struct MHD_Response **resp, const char **type)
{
	struct MHD_Response *r = NULL;
	size_t len;
	char *copy;

	if (!st)
		return false;
	if (!strcmp(url, "/")) {
		r = MHD_create_response_from_buffer((size_t)status_html_len, (void *)status_html,
						    MHD_RESPMEM_PERSISTENT);
		*type = "text/html; charset=utf-8";
	} else if (!strcmp(url, "/status.json") || !strcmp(url, "/status.txt")) {
		bool text = url[8] == 't';

		/* copied under the lock, sent (and freed by MHD) outside it */
		if (!status_copy(st, text, &copy, &len)) {
			r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
			if (!r)
				free(copy);
		}
		*type = text ? "text/plain; charset=utf-8" : "application/json";
	} else {
		return false;
	}
	__atomic_store_n(&st->last_request_ns, mono_ns(), __ATOMIC_RELAXED);
	if (r) {
		MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	}
	*resp = r;
	return true;
}
