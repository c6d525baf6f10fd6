// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "live.h"
#include "table.h"

#define EXIT_OK		 0
#define EXIT_ERROR	 2
#define LIVE_MAX_REASONS 64
#define LIVE_MAX_FIELDS	 24

static volatile sig_atomic_t live_stop;

static void on_stop(int sig)
{
	(void)sig;
	live_stop = 1;
}

/* SIGINT/SIGTERM end the view; no SA_RESTART so a wait returns at once. */
static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool rep_is_str(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS;
}

static bool rep_eq(const redisReply *e, const char *s)
{
	return rep_is_str(e) && e->len == strlen(s) && !memcmp(e->str, s, e->len);
}

static long long rep_ll(const redisReply *e)
{
	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	return rep_is_str(e) ? strtoll(e->str, NULL, 10) : 0;
}

/* A reply that is not an error, or NULL after saying why. */
static redisReply *live_call(struct rpc *r, int argc, const char **argv)
{
	redisReply *rep = rpc_call(r, argc, argv, NULL);

	if (rep && rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

/* --- a flat JSON object --------------------------------------------------- */

static char *json_skip(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The string at p (after its opening quote), decoded in place; returns the
 * position after its closing quote, or NULL. */
static char *json_string(char *p, char **out)
{
	char *w = p;

	*out = p;
	while (*p && *p != '"') {
		if (*p != '\\') {
			*w++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'u': {
			char hex[5] = { 0 };
			unsigned long v;

			if (strlen(p + 1) < 4)
				return NULL;
			memcpy(hex, p + 1, 4);
			v = strtoul(hex, NULL, 16);
			/* what the agent escapes is bytes (\u00XX); show others as '?' */
			*w++ = v < 0x100 && v >= 0x20 && v != 0x7f ? (char)v : '?';
			p += 4;
			break;
		}
		case '\0':
			return NULL;
		default:
			*w++ = *p;
		}
		p++;
	}
	if (*p != '"')
		return NULL;
	*w = '\0';
	return p + 1;
}

int live_json_flat(char *text, char **keys, char **values, int max)
{
	char *p = json_skip(text);
	int n = 0;

	if (*p++ != '{')
		return -1;
	p = json_skip(p);
	if (*p == '}')
		return 0;
	for (;;) {
		if (*p++ != '"' || n == max || !(p = json_string(p, &keys[n])))
			return -1;
		p = json_skip(p);
		if (*p++ != ':')
			return -1;
		p = json_skip(p);
		if (*p == '"') {
			if (!(p = json_string(p + 1, &values[n])))
				return -1;
		} else {
			values[n] = p;
			p += strcspn(p, ",} \t\r\n");
			if (p == values[n])
				return -1;
			if (*p == ',' || *p == '}') {
				char c = *p;

				*p = '\0';
				n++;
				if (c == '}')
					return *json_skip(p + 1) ? -1 : n;
				p = json_skip(p + 1);
				continue;
			}
			*p++ = '\0';
		}
		n++;
		p = json_skip(p);
		if (*p == '}')
			return *json_skip(p + 1) ? -1 : n;
		if (*p++ != ',')
			return -1;
		p = json_skip(p);
	}
}

/* --- floodctl watch --------------------------------------------------------- */

static const char *member(char **keys, char **values, int n, const char *k)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(keys[i], k))
			return values[i];
	return "?";
}

/* One pushed message: print it; false when it is not one of ours. */
static bool print_event(const redisReply *m, bool json)
{
	char *keys[LIVE_MAX_FIELDS], *values[LIVE_MAX_FIELDS], *text;
	const char *ts, *missed;
	int n;

	if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 || !rep_eq(m->element[0], "message") ||
	    !rep_is_str(m->element[2]))
		return false;
	if (json) {
		fwrite(m->element[2]->str, 1, m->element[2]->len, stdout);
		putchar('\n');
		return true;
	}
	text = strndup(m->element[2]->str, m->element[2]->len);
	if (!text)
		return false;
	n = live_json_flat(text, keys, values, LIVE_MAX_FIELDS);
	if (n < 0) {
		printf("%s\n", text);
		free(text);
		return true;
	}
	ts = member(keys, values, n, "ts");
	missed = member(keys, values, n, "missed");
	/* the time of day is what a person follows: 21:22:01.393 */
	printf("%-12.12s  %-20s  %-12s  %-7s  %-10s  new_flows=%s dropped=%s violations=%s  %s",
	       strlen(ts) > 11 ? ts + 11 : ts, member(keys, values, n, "source"),
	       member(keys, values, n, "rule"), member(keys, values, n, "level"),
	       member(keys, values, n, "reason"), member(keys, values, n, "new_flows"),
	       member(keys, values, n, "dropped"), member(keys, values, n, "violations"),
	       member(keys, values, n, "action"));
	if (strcmp(missed, "?"))
		printf("  (missed %s before this one)", missed);
	putchar('\n');
	free(text);
	return true;
}

int live_watch(struct rpc *r, bool json, long count)
{
	const char *argv[] = { "XDP.WATCH" };
	struct timeval none = { 0, 0 };
	redisReply *rep;
	long seen = 0;
	int ret = EXIT_OK;

	rep = live_call(r, 1, argv);
	if (!rep)
		return EXIT_ERROR;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
	    !rep_eq(rep->element[0], "subscribe")) {
		fprintf(stderr, "floodctl: unexpected reply to XDP.WATCH: is floodgated the same "
				"version as floodctl?\n");
		freeReplyObject(rep);
		return EXIT_ERROR;
	}
	freeReplyObject(rep);
	/* Events may not come for hours: no reply timeout from here on. */
	redisSetTimeout(r->ctx, none);
	catch_stop();
	while (!live_stop && (count <= 0 || seen < count)) {
		struct pollfd pfd = { .fd = r->ctx->fd, .events = POLLIN };
		void *reply = NULL;

		if (redisGetReplyFromReader(r->ctx, &reply) != REDIS_OK) {
			fprintf(stderr, "floodctl: bad data from floodgated: %s\n", r->ctx->errstr);
			return EXIT_ERROR;
		}
		if (reply) {
			if (print_event(reply, json))
				seen++;
			freeReplyObject(reply);
			continue;
		}
		fflush(stdout);
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = EXIT_ERROR;
			break;
		}
		if (redisBufferRead(r->ctx) != REDIS_OK) {
			fprintf(stderr, "floodctl: connection to floodgated lost: %s\n",
				r->ctx->errstr[0] ? r->ctx->errstr : "closed");
			ret = EXIT_ERROR;
			break;
		}
	}
	fflush(stdout);
	return ret;
}

/* --- floodctl top --watch ----------------------------------------------------- */

struct reason_sample {
	char name[32];
	long long passed, dropped; /* packets */
};

struct top_sample {
	double t;
	int n;
	struct reason_sample r[LIVE_MAX_REASONS];
};

/* XDP.STATS: reason -> [passed pkts, dropped pkts, passed bytes, dropped bytes]. */
static int sample_stats(struct rpc *r, struct top_sample *s)
{
	const char *argv[] = { "XDP.STATS" };
	redisReply *rep = live_call(r, 1, argv);
	size_t i;

	if (!rep)
		return -1;
	s->t = mono_s();
	s->n = 0;
	if (rep->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < rep->elements && s->n < LIVE_MAX_REASONS; i += 2) {
			const redisReply *k = rep->element[i], *v = rep->element[i + 1];

			if (!rep_is_str(k) || v->type != REDIS_REPLY_ARRAY || v->elements < 2)
				continue;
			snprintf(s->r[s->n].name, sizeof(s->r[0].name), "%.*s", (int)k->len,
				 k->str);
			s->r[s->n].passed = rep_ll(v->element[0]);
			s->r[s->n].dropped = rep_ll(v->element[1]);
			s->n++;
		}
	freeReplyObject(rep);
	return 0;
}

struct rate {
	const char *name;
	double pps;
};

static int by_rate_desc(const void *x, const void *y)
{
	const struct rate *a = x, *b = y;

	return a->pps < b->pps ? 1 : a->pps > b->pps ? -1 : strcmp(a->name, b->name);
}

/* Drop rates by reason (sorted, busiest first), and the passed rate. */
static int rates(const struct top_sample *prev, const struct top_sample *cur, struct rate *out,
		 double *passed_pps)
{
	double dt = cur->t - prev->t;
	int i, k = 0;

	*passed_pps = 0;
	if (dt <= 0)
		return 0;
	for (i = 0; i < cur->n && i < prev->n; i++) {
		double d = (double)(cur->r[i].dropped - prev->r[i].dropped) / dt;

		if (strcmp(cur->r[i].name, prev->r[i].name))
			continue;
		*passed_pps += (double)(cur->r[i].passed - prev->r[i].passed) / dt;
		if (d > 0)
			out[k++] = (struct rate){ cur->r[i].name, d };
	}
	qsort(out, (size_t)k, sizeof(*out), by_rate_desc);
	return k;
}

/* INFO xdp: the rules under attack ("a, b") and whether dry-run is on. */
static int attack_state(struct rpc *r, char *buf, size_t len, int *nattack, bool *dry_run)
{
	const char *argv[] = { "INFO", "xdp" };
	redisReply *rep = live_call(r, 2, argv);
	char *text, *line, *save = NULL;
	size_t used = 0;

	*buf = '\0';
	*nattack = 0;
	*dry_run = false;
	if (!rep)
		return -1;
	text = rep_is_str(rep) ? strndup(rep->str, rep->len) : NULL;
	freeReplyObject(rep);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!strncmp(line, "under_attack_", 13) && strstr(line, ":1")) {
			*strrchr(line, ':') = '\0';
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 *nattack ? ", " : "", line + 13);
			(*nattack)++;
		} else if (!strcmp(line, "dry_run:1")) {
			*dry_run = true;
		}
	}
	free(text);
	return 0;
}

static void fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

static int top_table(struct rpc *r, const struct live_top_opts *o, struct json *j)
{
	static const char *const hdr[] = { "ADDRESS", "RULE", "NEW_FLOWS", "DROPPED" };
	static const char *const names[] = { "address", "rule", "new_flows", "dropped" };
	char n[16];
	const char *argv[] = { "XDP.TOP", n, o->by_drops ? "DROPS" : "NEW" };
	redisReply *rep;
	struct table t;
	size_t i, k;

	snprintf(n, sizeof(n), "%d", o->n);
	rep = live_call(r, 3, argv);
	if (!rep)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(rep);
		return -1;
	}
	if (j) {
		json_keyz(j, "top");
		json_arr_begin(j);
	} else if (!rep->elements) {
		printf("no tracked sources\n");
	} else {
		table_init(&t, 4, "llrr", hdr);
	}
	for (i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 4)
			continue;
		if (j)
			json_obj_begin(j);
		for (k = 0; k < 4; k++) {
			const redisReply *v = e->element[k];

			if (j) {
				json_keyz(j, names[k]);
				if (k >= 2)
					json_int(j, rep_ll(v));
				else
					json_str(j, v->str ? v->str : "", v->str ? v->len : 0);
			} else if (k >= 2) {
				table_cell(&t, "%lld", rep_ll(v));
			} else {
				table_cell_bin(&t, v->str ? v->str : "?", v->str ? v->len : 1);
			}
		}
		if (j)
			json_obj_end(j);
	}
	if (j) {
		json_arr_end(j);
	} else if (rep->elements) {
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return 0;
}

/* q, Q or Ctrl-C (raw mode reads it as a byte) on the terminal quits. */
static bool key_quits(int fd)
{
	char c[16];
	ssize_t n = read(fd, c, sizeof(c)), i;

	for (i = 0; i < n; i++)
		if (c[i] == 'q' || c[i] == 'Q' || c[i] == 3)
			return true;
	return false;
}

int live_top(struct rpc *r, const struct live_top_opts *o)
{
	bool tty = isatty(STDOUT_FILENO), keys = tty && isatty(STDIN_FILENO), first = true;
	struct top_sample *prev, *cur, *tmp;
	struct termios saved, raw;
	int ret = EXIT_OK;

	prev = calloc(1, sizeof(*prev));
	cur = calloc(1, sizeof(*cur));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		fprintf(stderr, "floodctl: out of memory\n");
		return EXIT_ERROR;
	}
	catch_stop();
	if (keys && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		keys = false;
	}
	while (!live_stop) {
		struct rate rt[LIVE_MAX_REASONS];
		char attack[512], when[32], v[32];
		double passed = 0, dropped = 0;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int nrates = 0, nattack, i;
		bool dry_run;
		struct json j;
		time_t now = time(NULL);
		double until;

		if (sample_stats(r, cur) ||
		    attack_state(r, attack, sizeof(attack), &nattack, &dry_run)) {
			ret = EXIT_ERROR;
			break;
		}
		if (!first)
			nrates = rates(prev, cur, rt, &passed);
		for (i = 0; i < nrates; i++)
			dropped += rt[i].pps;
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		if (o->json) {
			json_init(&j, stdout);
			json_obj_begin(&j);
			json_keyz(&j, "time");
			json_int(&j, (long long)now);
			json_keyz(&j, "under_attack");
			json_arr_begin(&j);
			for (char *p = attack, *e; *p; p = *e ? e + 2 : e) {
				e = strstr(p, ", ");
				if (!e)
					e = p + strlen(p);
				json_str(&j, p, (size_t)(e - p));
			}
			json_arr_end(&j);
			json_keyz(&j, "passed_pps");
			if (first)
				json_null(&j);
			else
				json_double(&j, passed);
			json_keyz(&j, "dropped_pps");
			json_obj_begin(&j);
			for (i = 0; i < nrates; i++) {
				json_keyz(&j, rt[i].name);
				json_double(&j, rt[i].pps);
			}
			json_obj_end(&j);
			if (top_table(r, o, &j)) {
				ret = EXIT_ERROR;
				break;
			}
			json_obj_end(&j);
			json_end(&j);
		} else {
			/* Home and clear: one screen, redrawn (a file gets every screen). */
			if (tty)
				printf("\033[H\033[2J");
			else if (!first)
				putchar('\n');
			printf("floodctl top: %d busiest by %s, every %gs, %s (%s quits)\n", o->n,
			       o->by_drops ? "drops" : "new flows", o->interval, when,
			       keys ? "q or Ctrl-C" : "Ctrl-C");
			printf("attack:  %s%s\n", nattack ? attack : "none",
			       dry_run ? "  (dry-run: nothing is dropped)" : "");
			if (first) {
				printf("rates:   from the next refresh\n");
			} else {
				fmt_rate(v, sizeof(v), passed);
				printf("rates:   passed %s pkt/s", v);
				fmt_rate(v, sizeof(v), dropped);
				printf("  dropped %s pkt/s\n", v);
				printf("drops:   ");
				if (!nrates)
					printf("none");
				for (i = 0; i < nrates; i++) {
					fmt_rate(v, sizeof(v), rt[i].pps);
					printf("%s%s %s/s", i ? "  " : "", rt[i].name, v);
				}
				putchar('\n');
			}
			putchar('\n');
			if (top_table(r, o, NULL)) {
				ret = EXIT_ERROR;
				break;
			}
		}
		fflush(stdout);
		first = false;
		tmp = prev;
		prev = cur;
		cur = tmp;
		/* Wait for the next refresh, a key, or a signal. */
		until = mono_s() + o->interval;
		while (!live_stop) {
			double left = until - mono_s();
			int rc;

			if (left <= 0)
				break;
			rc = poll(&pfd, keys ? 1 : 0, (int)(left * 1000) + 1);
			if (rc > 0 && key_quits(STDIN_FILENO))
				live_stop = 1;
		}
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	free(prev);
	free(cur);
	return ret;
}
