// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floodctl: the operator's command line. It talks to floodgated over its
 * Unix socket (docs/api.md); with -p DIR the XDP commands read and write the
 * pinned maps directly instead, for when the agent is down or on a
 * persist: true host.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <floodgate/paths.h>

#include "duration.h"
#include "json.h"
#include "live.h"
#include "pinned.h"
#include "rpc.h"
#include "table.h"

enum { EXIT_OK = 0, EXIT_DENIED = 1, EXIT_ERROR = 2 };

/* Which command options a command takes. */
enum {
	O_FOR = 1u << 0,
	O_COST = 1u << 1,
	O_ROLE = 1u << 2,
	O_PEEK = 1u << 3,
	O_DEL = 1u << 4,
	O_N = 1u << 5,
	O_BY = 1u << 6,
	O_WATCH = 1u << 7,
	O_INTERVAL = 1u << 8,
};

struct args {
	bool json;
	const char *sock;
	const char *pin_dir; /* NULL: use the socket */
	unsigned given;	     /* O_* seen */
	uint64_t for_s;
	const char *cost, *role;
	bool peek, del, watch, by_drops;
	int n;
	double interval;
	char **pos; /* positional arguments after the command */
	int npos;
};

struct command {
	const char *name;
	int npos;
	unsigned opts;
	const char *synopsis;
	int (*sock)(struct rpc *r, const struct args *a);    /* NULL: maps only */
	int (*pin)(struct xdpmaps *m, const struct args *a); /* NULL: socket only */
};

static const struct command *find_command(const char *name);

static void usage(FILE *f)
{
	fprintf(f,
		"usage: floodctl [-s SOCKET | -p PIN_DIR] [--json] COMMAND [ARGS]\n"
		"\n"
		"XDP (live counts and bans):\n"
		"  status                        agent version, uptime, clients, interfaces, "
		"policies\n"
		"  top [-n N] [--by new|drops] [--watch [--interval S]]\n"
		"                                the N (default 10) busiest sources; --watch: a\n"
		"                                live screen (attack state, drops/s by reason)\n"
		"                                until q or Ctrl-C\n"
		"  watch [-n COUNT]              violation events as they happen, one a line\n"
		"                                (--json: the agent's JSON objects), until Ctrl-C\n"
		"                                or COUNT events\n"
		"  source ADDR                   counters, tokens and ban of an address and its "
		"prefix\n"
		"  verified ADDR                 whether the host talks to ADDR (exit 1 if not)\n"
		"  stats                         packets and bytes by reason (passed / dropped)\n"
		"  rules                         new flows and drops by rule id, attack state "
		"(maps)\n"
		"  count                         entries in the state maps (maps)\n"
		"  ban CIDR [--for DUR]          ban (DUR like 90s, 10m, 1h, 2d; default until "
		"unbanned)\n"
		"  unban CIDR                    lift a ban (exit 1 if not banned)\n"
		"  allow CIDR [--del]            add (remove) a runtime allow entry\n"
		"  deny CIDR [--del]             add (remove) a runtime deny entry\n"
		"  list bans|allow|deny          entries of a list\n"
		"  reload                        re-read the config (like SIGHUP)\n"
		"\n"
		"application limits (policies):\n"
		"  check POLICY KEY [--cost N] [--role R] [--peek]\n"
		"                                RL.CHECK (exit 1 if not allowed)\n"
		"  auth-fail POLICY KEY          record a failed login; the delay that now "
		"applies\n"
		"  auth-check POLICY KEY         the wait before the next attempt (exit 1 if > 0)\n"
		"  auth-ok POLICY KEY            a successful login: forget the failures\n"
		"  event POLICY CONN EVENT       count a connection's event (exit 1 on "
		"disconnect)\n"
		"\n"
		"options:\n"
		"  -s, --socket PATH    floodgated's socket (default $FLOODGATE_SOCKET, else\n"
		"                       " FG_DEFAULT_SOCKET ")\n"
		"  -p, --pin-dir DIR    read/write the pinned maps in DIR instead of asking the "
		"agent\n"
		"                       (stats, rules, source, list, ban, unban, verified, count;\n"
		"                       rules and count always read the maps, by default in\n"
		"                       " FG_DEFAULT_PIN_DIR ")\n"
		"  -j, --json           JSON output\n"
		"  -h, --help           this help\n"
		"\n"
		"exit status: 0 ok, 1 denied / not found, 2 error\n");
}

/* "Usage: ..." of one command, then exit status 2. */
static int usage_error(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fputs("floodctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "usage: floodctl [-s SOCKET] [--json] %s\n", c->synopsis);
	else
		fputs("try 'floodctl --help'\n", stderr);
	return EXIT_ERROR;
}

/* --- parsing helpers -------------------------------------------------------- */

static bool is_uint(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

/* 3725 -> "1h 2m", 600 -> "10m": the two largest units, a zero second one left out. */
static void fmt_duration(char *buf, size_t len, long long s)
{
	static const struct {
		long long secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;

	if (s < 0) {
		snprintf(buf, len, "forever");
		return;
	}
	for (i = 0; i < 3 && s < units[i].secs; i++)
		;
	if (i == 3 || !(s % units[i].secs / units[i + 1].secs))
		snprintf(buf, len, "%lld%c", s / units[i].secs, units[i].unit);
	else
		snprintf(buf, len, "%lld%c %lld%c", s / units[i].secs, units[i].unit,
			 s % units[i].secs / units[i + 1].secs, units[i + 1].unit);
}

/* --- replies -------------------------------------------------------------- */

/*
 * Send argv and take the reply. An error reply or a failed connection is
 * printed and gives EXIT_ERROR (and *out NULL); else *out is the reply.
 */
static int call(struct rpc *r, redisReply **out, int argc, const char **argv)
{
	redisReply *rep = rpc_call(r, argc, argv, NULL);

	*out = NULL;
	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		freeReplyObject(rep);
		return EXIT_ERROR;
	}
	*out = rep;
	return EXIT_OK;
}

static bool is_err_containing(const redisReply *rep, const char *what)
{
	return rep->type == REDIS_REPLY_ERROR && memmem(rep->str, rep->len, what, strlen(what));
}

static bool is_str(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS;
}

static bool str_eq(const redisReply *e, const char *s)
{
	return is_str(e) && e->len == strlen(s) && !memcmp(e->str, s, e->len);
}

/* An integer reply, or a string holding one (RESP2 doubles and maps of
 * strings). */
static bool reply_ll(const redisReply *e, long long *v)
{
	char buf[32], *end;

	if (e->type == REDIS_REPLY_INTEGER) {
		*v = e->integer;
		return true;
	}
	if (!is_str(e) || !e->len || e->len >= sizeof(buf))
		return false;
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return !errno && !*end;
}

static int unexpected(const char *cmd, const redisReply *rep)
{
	fprintf(stderr,
		"floodctl: unexpected reply to %s (type %d): is floodgated the same version as "
		"floodctl?\n",
		cmd, rep ? rep->type : -1);
	return EXIT_ERROR;
}

/* Any reply as a JSON value; strings that are numbers stay strings unless
 * numbers is set. */
static void json_reply(struct json *j, const redisReply *e, bool numbers)
{
	long long v;
	size_t i;

	switch (e->type) {
	case REDIS_REPLY_INTEGER:
		json_int(j, e->integer);
		break;
	case REDIS_REPLY_NIL:
		json_null(j);
		break;
	case REDIS_REPLY_ARRAY:
		json_arr_begin(j);
		for (i = 0; i < e->elements; i++)
			json_reply(j, e->element[i], numbers);
		json_arr_end(j);
		break;
	case REDIS_REPLY_ERROR:
		json_obj_begin(j);
		json_keyz(j, "error");
		json_str(j, e->str, e->len);
		json_obj_end(j);
		break;
	default:
		if (numbers && reply_ll(e, &v))
			json_int(j, v);
		else
			json_str(j, e->str, e->len);
	}
}

/* Any reply as a table cell. */
static void cell_reply(struct table *t, const redisReply *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	switch (e->type) {
	case REDIS_REPLY_INTEGER:
		table_cell(t, "%lld", e->integer);
		return;
	case REDIS_REPLY_NIL:
		table_cell(t, "-");
		return;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		table_cell_bin(t, e->str, e->len);
		return;
	}
	/* A nested array: its JSON form is readable enough. */
	f = open_memstream(&buf, &len);
	if (f) {
		struct json j;

		json_init(&j, f);
		json_reply(&j, e, false);
		fclose(f);
	}
	table_cell_bin(t, buf ? buf : "?", buf ? len : 1);
	free(buf);
}

/*
 * A fixed-shape array reply (RL.CHECK and friends): as "name value" lines,
 * or a JSON object with those names.
 */
static int print_fields(const char *cmd, const redisReply *rep, const char *const *names, size_t n,
			bool json)
{
	struct table t;
	struct json j;
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < n)
		return unexpected(cmd, rep);
	if (json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (i = 0; i < n; i++) {
			json_keyz(&j, names[i]);
			json_reply(&j, rep->element[i], false);
		}
		json_obj_end(&j);
		json_end(&j);
		return EXIT_OK;
	}
	table_init(&t, 2, "ll", NULL);
	for (i = 0; i < n; i++) {
		table_cell(&t, "%s", names[i]);
		cell_reply(&t, rep->element[i]);
	}
	table_print(&t, stdout);
	table_free(&t);
	return EXIT_OK;
}

/* A reply of OK: a line for people, {"ok":true} for programs. */
static int print_ok(const char *cmd, const redisReply *rep, bool json, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int print_ok(const char *cmd, const redisReply *rep, bool json, const char *fmt, ...)
{
	va_list ap;

	if (!is_str(rep))
		return unexpected(cmd, rep);
	if (json) {
		printf("{\"ok\":true}\n");
		return EXIT_OK;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return EXIT_OK;
}

/* In a flat field/value array (a RESP2 map), the value of name. */
static const redisReply *field(const redisReply *rep, const char *name)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < rep->elements; i += 2)
		if (str_eq(rep->element[i], name))
			return rep->element[i + 1];
	return NULL;
}

/* --- status ------------------------------------------------------------------ */

struct info_line {
	char *section, *key, *value;
};

/* Split INFO's text (modified in place) into lines of its sections. */
static size_t info_parse(char *text, struct info_line *out, size_t max)
{
	char *section = "", *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon, *p;

		if (line[0] == '#') {
			section = line + 1 + strspn(line + 1, " ");
			for (p = section; *p; p++)
				*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || n == max)
			continue;
		*colon = '\0';
		out[n++] = (struct info_line){ section, line, colon + 1 };
	}
	return n;
}

static const char *info_get(const struct info_line *l, size_t n, const char *section,
			    const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].section, section) && !strcmp(l[i].key, key))
			return l[i].value;
	return NULL;
}

#define INFO_MAX_LINES 1024

/* Append to a growing cell: "a, b, c". */
static void list_add(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void list_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used && used + 2 < len) {
		strcpy(buf + used, ", ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "mode=native,ifindex=3": the value of k, copied into out ("" if absent). */
static const char *kv_get(const char *s, const char *k, char *out, size_t len)
{
	size_t kl = strlen(k);

	out[0] = '\0';
	while (s && *s) {
		if (!strncmp(s, k, kl) && s[kl] == '=') {
			size_t n = strcspn(s + kl + 1, ",");

			snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s + kl + 1);
			break;
		}
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return out;
}

/* The human summary of INFO: one line per aspect an operator asks about. */
static void status_print(const struct info_line *l, size_t n)
{
	const char *v, *v2;
	struct table t;
	char cell[1024], val[64], dur[32];
	size_t i;

	table_init(&t, 2, "ll", NULL);
	v = info_get(l, n, "server", "floodgate_version");
	v2 = info_get(l, n, "server", "floodgate_git_sha1");
	cell[0] = '\0';
	list_add(cell, sizeof(cell), "%s%s%s%s", v ? v : "?", v2 ? " (" : "", v2 ? v2 : "",
		 v2 ? ")" : "");
	if ((v = info_get(l, n, "server", "process_id")))
		list_add(cell, sizeof(cell), "pid %s", v);
	if ((v = info_get(l, n, "server", "uptime_in_seconds"))) {
		fmt_duration(dur, sizeof(dur), atoll(v));
		list_add(cell, sizeof(cell), "up %s", dur);
	}
	table_cell(&t, "floodgated");
	table_cell(&t, "%s", cell);
	if ((v = info_get(l, n, "server", "config_file")) && *v) {
		table_cell(&t, "config");
		table_cell(&t, "%s", v);
	}
	cell[0] = '\0';
	if ((v = info_get(l, n, "server", "unix_socket")))
		list_add(cell, sizeof(cell), "%s", v);
	if ((v = info_get(l, n, "clients", "connected_clients")))
		list_add(cell, sizeof(cell), "%s client%s", v, strcmp(v, "1") ? "s" : "");
	table_cell(&t, "socket");
	table_cell(&t, "%s", cell);

	cell[0] = '\0';
	for (i = 0; i < n; i++)
		if (!strcmp(l[i].section, "xdp") && !strncmp(l[i].key, "iface_", 6))
			list_add(cell, sizeof(cell), "%s (%s)", l[i].key + 6,
				 kv_get(l[i].value, "mode", val, sizeof(val)));
	if (*cell) {
		table_cell(&t, "interfaces");
		table_cell(&t, "%s", cell);
	}
	if ((v = info_get(l, n, "xdp", "dry_run"))) {
		table_cell(&t, "mode");
		table_cell(&t, "%s", strcmp(v, "0") ? "dry run (nothing is dropped)" : "enforcing");
	}
	v = info_get(l, n, "xdp", "packets_passed");
	v2 = info_get(l, n, "xdp", "packets_dropped");
	if (v && v2) {
		table_cell(&t, "packets");
		table_cell(&t, "%s passed, %s dropped", v, v2);
	}
	if ((v = info_get(l, n, "xdp", "rules_under_attack"))) {
		cell[0] = '\0';
		for (i = 0; i < n; i++)
			if (!strcmp(l[i].section, "xdp") && !strncmp(l[i].key, "under_attack_", 13))
				list_add(cell, sizeof(cell), "%s", l[i].key + 13);
		table_cell(&t, "attack");
		if (strcmp(v, "0"))
			table_cell(&t, "yes: %s", *cell ? cell : v);
		else
			table_cell(&t, "no");
	}
	if ((v = info_get(l, n, "xdp", "bans_auto"))) {
		table_cell(&t, "auto bans");
		table_cell(&t, "%s so far", v);
	}

	if ((v = info_get(l, n, "policies", "policies"))) {
		cell[0] = '\0';
		for (i = 0; i < n; i++)
			if (!strcmp(l[i].section, "policies") && !strncmp(l[i].key, "policy_", 7))
				list_add(cell, sizeof(cell), "%s (%s)", l[i].key + 7,
					 kv_get(l[i].value, "type", val, sizeof(val)));
		table_cell(&t, "policies");
		table_cell(&t, "%s%s%s", v, *cell ? ": " : "", cell);
	}
	v = info_get(l, n, "policies", "keys");
	v2 = info_get(l, n, "policies", "max_keys");
	if (v && v2) {
		table_cell(&t, "store");
		table_cell(&t, "%s, %s keys of %s", info_get(l, n, "policies", "store") ?: "?", v,
			   v2);
	}
	if ((v = info_get(l, n, "policies", "shared_store"))) {
		const char *fb = info_get(l, n, "policies", "store_fallback_active");
		const char *sub = info_get(l, n, "policies", "fleet_subscribed");

		table_cell(&t, "shared store");
		table_cell(&t, "%s %s; %s fallback decisions, %s errors", v,
			   fb && !strcmp(fb, "0") ? "up" : "UNUSABLE: fallback active",
			   info_get(l, n, "policies", "store_fallback_decisions_total") ?: "?",
			   info_get(l, n, "policies", "store_errors_total") ?: "?");
		table_cell(&t, "fleet bans");
		table_cell(&t, "%s; %s applied, %s published",
			   sub && !strcmp(sub, "1") ? "subscribed" : "NOT subscribed",
			   info_get(l, n, "policies", "fleet_applied_total") ?: "?",
			   info_get(l, n, "policies", "fleet_published_total") ?: "?");
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int sock_status(struct rpc *r, const struct args *a)
{
	const char *argv[] = { "INFO", "all" };
	struct info_line *l;
	const char *sect = NULL;
	redisReply *rep;
	struct json j;
	char *text;
	size_t n, i;
	int ret = call(r, &rep, 2, argv);

	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS) {
		ret = unexpected("INFO", rep);
		freeReplyObject(rep);
		return ret;
	}
	l = calloc(INFO_MAX_LINES, sizeof(*l));
	text = strndup(rep->str, rep->len);
	if (!l || !text) {
		free(l);
		free(text);
		freeReplyObject(rep);
		fprintf(stderr, "floodctl: out of memory\n");
		return EXIT_ERROR;
	}
	n = info_parse(text, l, INFO_MAX_LINES);

	if (a->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (i = 0; i < n; i++) {
			long long ll;
			char *end;

			if (!sect || strcmp(sect, l[i].section)) {
				if (sect)
					json_obj_end(&j);
				sect = l[i].section;
				json_keyz(&j, sect);
				json_obj_begin(&j);
			}
			json_keyz(&j, l[i].key);
			errno = 0;
			ll = strtoll(l[i].value, &end, 10);
			if (*l[i].value && !*end && !errno)
				json_int(&j, ll);
			else
				json_strz(&j, l[i].value);
		}
		if (sect)
			json_obj_end(&j);
		json_obj_end(&j);
		json_end(&j);
		goto out;
	}

	status_print(l, n);
out:
	free(text);
	free(l);
	freeReplyObject(rep);
	return EXIT_OK;
}

/* --- XDP commands ---------------------------------------------------------- */

static int top_once(struct rpc *r, const struct args *a)
{
	char n[16];
	const char *argv[] = { "XDP.TOP", n, a->by_drops ? "DROPS" : "NEW" };
	static const char *const hdr[] = { "ADDRESS", "RULE", "NEW_FLOWS", "DROPPED" };
	static const char *const names[] = { "address", "rule", "new_flows", "dropped" };
	redisReply *rep;
	struct table t;
	struct json j;
	size_t i, k;
	int ret;

	snprintf(n, sizeof(n), "%d", a->n);
	ret = call(r, &rep, 3, argv);
	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY) {
		ret = unexpected("XDP.TOP", rep);
		freeReplyObject(rep);
		return ret;
	}
	for (i = 0; i < rep->elements; i++)
		if (rep->element[i]->type != REDIS_REPLY_ARRAY || rep->element[i]->elements < 4) {
			ret = unexpected("XDP.TOP", rep->element[i]);
			freeReplyObject(rep);
			return ret;
		}
	if (a->json) {
		json_init(&j, stdout);
		json_arr_begin(&j);
		for (i = 0; i < rep->elements; i++) {
			json_obj_begin(&j);
			for (k = 0; k < 4; k++) {
				json_keyz(&j, names[k]);
				json_reply(&j, rep->element[i]->element[k], false);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_end(&j);
	} else if (!rep->elements) {
		printf("no tracked sources\n");
	} else {
		table_init(&t, 4, "llrr", hdr);
		for (i = 0; i < rep->elements; i++)
			for (k = 0; k < 4; k++)
				cell_reply(&t, rep->element[i]->element[k]);
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
}

static int sock_top(struct rpc *r, const struct args *a)
{
	struct live_top_opts o = {
		.n = a->n, .by_drops = a->by_drops, .interval = a->interval, .json = a->json
	};

	return a->watch ? live_top(r, &o) : top_once(r, a);
}

static int sock_watch(struct rpc *r, const struct args *a)
{
	return live_watch(r, a->json, (a->given & O_N) ? a->n : 0);
}

/* XDP.SOURCE addr: the reply, or NULL with *ret set. "Not tracked" is 1. */
static redisReply *source_query(struct rpc *r, const char *addr, int *ret)
{
	const char *argv[] = { "XDP.SOURCE", addr };
	redisReply *rep = rpc_call(r, 2, argv, NULL);

	*ret = EXIT_ERROR;
	if (!rep)
		return NULL;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		if (is_err_containing(rep, "not tracked"))
			*ret = EXIT_DENIED;
		freeReplyObject(rep);
		return NULL;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2) {
		unexpected("XDP.SOURCE", rep);
		freeReplyObject(rep);
		return NULL;
	}
	*ret = EXIT_OK;
	return rep;
}

/*
 * XDP.SOURCE always answers; an address is "tracked" when the address or its
 * prefix has counters, a ban, or the host talks to it.
 */
static bool source_tracked(const redisReply *rep)
{
	static const char *const keys[] = {
		"verified",	  "new_flows",	       "dropped",
		"violations",	  "banned_until_ms",   "prefix_new_flows",
		"prefix_dropped", "prefix_violations", "prefix_banned_until_ms"
	};
	const redisReply *v;
	long long n;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = field(rep, keys[i])) && reply_ll(v, &n) && n)
			return true;
	return false;
}

static int sock_source(struct rpc *r, const struct args *a)
{
	struct timespec now;
	redisReply *rep;
	struct table t;
	struct json j;
	size_t i;
	int ret;

	rep = source_query(r, a->pos[0], &ret);
	if (!rep)
		return ret;
	ret = source_tracked(rep) ? EXIT_OK : EXIT_DENIED;
	if (ret && !a->json)
		fprintf(stderr, "floodctl: %s is not tracked: no counters, no ban, not verified\n",
			a->pos[0]);
	if (a->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (i = 0; i + 1 < rep->elements; i += 2) {
			const redisReply *k = rep->element[i];

			if (is_str(k))
				json_key(&j, k->str, k->len);
			else
				json_keyz(&j, "?");
			json_reply(&j, rep->element[i + 1], false);
		}
		json_obj_end(&j);
		json_end(&j);
		freeReplyObject(rep);
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	table_init(&t, 2, "ll", NULL);
	for (i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		long long ms, left;
		char dur[32];

		cell_reply(&t, k);
		/* Ban ends are Unix times in ms: say how far away. */
		if (is_str(k) && k->len >= 15 &&
		    !memcmp(k->str + k->len - 15, "banned_until_ms", 15) && reply_ll(v, &ms)) {
			left = ms - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
			fmt_duration(dur, sizeof(dur), (left + 999) / 1000);
			if (ms == 0)
				table_cell(&t, "not banned");
			else if (ms < 0)
				table_cell(&t, "banned until unbanned");
			else
				table_cell(&t, "%lld (banned for %s more)", ms,
					   left > 0 ? dur : "0s");
			continue;
		}
		cell_reply(&t, v);
	}
	table_print(&t, stdout);
	table_free(&t);
	freeReplyObject(rep);
	return ret;
}

static int sock_verified(struct rpc *r, const struct args *a)
{
	const redisReply *v;
	redisReply *rep;
	long long yes = 0;
	int ret;

	rep = source_query(r, a->pos[0], &ret);
	if (!rep)
		return ret == EXIT_DENIED ? EXIT_DENIED : ret;
	v = field(rep, "verified");
	if (!v || !reply_ll(v, &yes)) {
		ret = unexpected("XDP.SOURCE (no verified field)", rep);
		freeReplyObject(rep);
		return ret;
	}
	freeReplyObject(rep);
	if (a->json)
		printf("{\"verified\":%s}\n", yes ? "true" : "false");
	else
		printf("%s\n", yes ? "yes" : "no");
	return yes ? EXIT_OK : EXIT_DENIED;
}

static int sock_stats(struct rpc *r, const struct args *a)
{
	static const char *const hdr[] = { "REASON", "PASSED", "DROPPED", "PASSED_BYTES",
					   "DROPPED_BYTES" };
	static const char *const names[] = { "passed", "dropped", "passed_bytes", "dropped_bytes" };
	const char *argv[] = { "XDP.STATS" };
	redisReply *rep;
	struct table t;
	struct json j;
	size_t i, k;
	int ret = call(r, &rep, 1, argv);

	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
		goto bad;
	for (i = 0; i < rep->elements; i += 2)
		if (!is_str(rep->element[i]) || rep->element[i + 1]->type != REDIS_REPLY_ARRAY ||
		    rep->element[i + 1]->elements < 4)
			goto bad;
	if (a->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (i = 0; i < rep->elements; i += 2) {
			json_key(&j, rep->element[i]->str, rep->element[i]->len);
			json_obj_begin(&j);
			for (k = 0; k < 4; k++) {
				json_keyz(&j, names[k]);
				json_reply(&j, rep->element[i + 1]->element[k], true);
			}
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_end(&j);
	} else {
		table_init(&t, 5, "lrrrr", hdr);
		for (i = 0; i < rep->elements; i += 2) {
			cell_reply(&t, rep->element[i]);
			for (k = 0; k < 4; k++)
				cell_reply(&t, rep->element[i + 1]->element[k]);
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
bad:
	ret = unexpected("XDP.STATS", rep);
	freeReplyObject(rep);
	return ret;
}

static int sock_ban(struct rpc *r, const struct args *a)
{
	char secs[24], dur[32];
	const char *argv[] = { "XDP.BAN", a->pos[0], secs };
	redisReply *rep;
	int ret;

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)a->for_s);
	ret = call(r, &rep, 3, argv);
	if (ret)
		return ret;
	fmt_duration(dur, sizeof(dur), a->for_s ? (long long)a->for_s : -1);
	ret = print_ok("XDP.BAN", rep, a->json, "banned %s %s%s", a->pos[0],
		       a->for_s ? "for " : "until unbanned", a->for_s ? dur : "");
	freeReplyObject(rep);
	return ret;
}

static int sock_unban(struct rpc *r, const struct args *a)
{
	const char *argv[] = { "XDP.UNBAN", a->pos[0] };
	redisReply *rep = rpc_call(r, 2, argv, NULL);
	int ret;

	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		/* Not banned is an answer, not a failure of floodctl. */
		ret = is_err_containing(rep, "not banned") ? EXIT_DENIED : EXIT_ERROR;
		freeReplyObject(rep);
		return ret;
	}
	ret = print_ok("XDP.UNBAN", rep, a->json, "unbanned %s", a->pos[0]);
	freeReplyObject(rep);
	return ret;
}

static int sock_list_entry(struct rpc *r, const struct args *a, const char *cmd, const char *list)
{
	const char *argv[] = { cmd, a->pos[0], "DEL" };
	redisReply *rep = rpc_call(r, a->del ? 3 : 2, argv, NULL);
	int ret;

	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		/* Already listed is an answer, not a failure of floodctl. */
		ret = is_err_containing(rep, "already on the") ? EXIT_DENIED : EXIT_ERROR;
		freeReplyObject(rep);
		return ret;
	}
	ret = print_ok(cmd, rep, a->json, "%s %s %s the %s list", a->del ? "removed" : "added",
		       a->pos[0], a->del ? "from" : "to", list);
	freeReplyObject(rep);
	return ret;
}

static int sock_allow(struct rpc *r, const struct args *a)
{
	return sock_list_entry(r, a, "XDP.ALLOW", "allow");
}

static int sock_deny(struct rpc *r, const struct args *a)
{
	return sock_list_entry(r, a, "XDP.DENY", "deny");
}

static int sock_list(struct rpc *r, const struct args *a)
{
	static const char *const hdr[] = { "CIDR", "ORIGIN", "EXPIRES_IN" };
	static const char *const names[] = { "cidr", "origin", "expires_in_s" };
	const char *what = a->pos[0], *arg;
	bool bans = !strcmp(what, "bans");
	redisReply *rep;
	struct table t;
	struct json j;
	size_t i, k;
	int ret;

	if (bans)
		arg = "BANS";
	else if (!strcmp(what, "allow"))
		arg = "ALLOW";
	else if (!strcmp(what, "deny"))
		arg = "DENY";
	else
		return usage_error(find_command("list"), "list %s: use bans, allow or deny", what);
	{
		const char *argv[] = { "XDP.LIST", arg };

		ret = call(r, &rep, 2, argv);
	}
	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY)
		goto bad;
	for (i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];

		if (bans ? e->type != REDIS_REPLY_ARRAY || e->elements < 3 : !is_str(e))
			goto bad;
	}
	if (a->json) {
		json_init(&j, stdout);
		json_arr_begin(&j);
		for (i = 0; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];

			if (!bans) {
				json_reply(&j, e, false);
				continue;
			}
			json_obj_begin(&j);
			for (k = 0; k < 3; k++) {
				json_keyz(&j, names[k]);
				json_reply(&j, e->element[k], k == 2);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_end(&j);
	} else if (rep->elements) {
		table_init(&t, bans ? 3 : 1, "llr", bans ? hdr : NULL);
		for (i = 0; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];
			long long s;
			char dur[32];

			if (!bans) {
				cell_reply(&t, e);
				continue;
			}
			cell_reply(&t, e->element[0]);
			cell_reply(&t, e->element[1]);
			if (reply_ll(e->element[2], &s)) {
				fmt_duration(dur, sizeof(dur), s);
				table_cell(&t, "%s", dur);
			} else {
				cell_reply(&t, e->element[2]);
			}
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
bad:
	ret = unexpected("XDP.LIST", rep);
	freeReplyObject(rep);
	return ret;
}

static int sock_reload(struct rpc *r, const struct args *a)
{
	const char *argv[] = { "CONFIG", "RELOAD" };
	redisReply *rep;
	int ret = call(r, &rep, 2, argv);

	if (ret)
		return ret;
	ret = print_ok("CONFIG RELOAD", rep, a->json, "config reloaded");
	freeReplyObject(rep);
	return ret;
}

/* --- application limits -------------------------------------------------------- */

static int sock_check(struct rpc *r, const struct args *a)
{
	static const char *const names[] = { "allowed",	       "limit", "remaining", "reset_ms",
					     "retry_after_ms", "state", "window" };
	const char *argv[8] = { "RL.CHECK", a->pos[0], a->pos[1] };
	redisReply *rep;
	long long allowed;
	int argc = 3, ret;

	if (a->cost) {
		argv[argc++] = "COST";
		argv[argc++] = a->cost;
	}
	if (a->role) {
		argv[argc++] = "ROLE";
		argv[argc++] = a->role;
	}
	if (a->peek)
		argv[argc++] = "PEEK";
	ret = call(r, &rep, argc, argv);
	if (ret)
		return ret;
	ret = print_fields("RL.CHECK", rep, names, 7, a->json);
	if (!ret)
		ret = reply_ll(rep->element[0], &allowed) && allowed ? EXIT_OK : EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}

static int sock_auth(struct rpc *r, const struct args *a, const char *cmd, const char *first)
{
	const char *const names[] = { first, "failures" };
	const char *argv[] = { cmd, a->pos[0], a->pos[1] };
	redisReply *rep;
	long long wait;
	int ret = call(r, &rep, 3, argv);

	if (ret)
		return ret;
	ret = print_fields(cmd, rep, names, 2, a->json);
	/* auth-check: a wait still to serve is a "not now". */
	if (!ret && !strcmp(first, "wait_ms") && reply_ll(rep->element[0], &wait) && wait > 0)
		ret = EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}

static int sock_auth_fail(struct rpc *r, const struct args *a)
{
	return sock_auth(r, a, "RL.AUTH.FAIL", "delay_ms");
}

static int sock_auth_check(struct rpc *r, const struct args *a)
{
	return sock_auth(r, a, "RL.AUTH.CHECK", "wait_ms");
}

static int sock_auth_ok(struct rpc *r, const struct args *a)
{
	const char *argv[] = { "RL.AUTH.OK", a->pos[0], a->pos[1] };
	redisReply *rep;
	int ret = call(r, &rep, 3, argv);

	if (ret)
		return ret;
	ret = print_ok("RL.AUTH.OK", rep, a->json, "failures forgotten");
	freeReplyObject(rep);
	return ret;
}

static int sock_event(struct rpc *r, const struct args *a)
{
	static const char *const names[] = { "state", "count", "limit" };
	const char *argv[] = { "RL.EVENT", a->pos[0], a->pos[1], a->pos[2] };
	redisReply *rep;
	int ret = call(r, &rep, 4, argv);

	if (ret)
		return ret;
	ret = print_fields("RL.EVENT", rep, names, 3, a->json);
	if (!ret && str_eq(rep->element[0], "disconnect"))
		ret = EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}

/* --- the maps directly ---------------------------------------------------- */

static int pin_stats(struct xdpmaps *m, const struct args *a)
{
	return pinned_stats(m, a->json);
}

static int pin_rules(struct xdpmaps *m, const struct args *a)
{
	return pinned_rules(m, a->json);
}

static int pin_count(struct xdpmaps *m, const struct args *a)
{
	return pinned_count(m, a->json);
}

static int pin_source(struct xdpmaps *m, const struct args *a)
{
	return pinned_source(m, a->pos[0], a->json);
}

static int pin_verified(struct xdpmaps *m, const struct args *a)
{
	return pinned_verified(m, a->pos[0], a->json);
}

static int pin_list(struct xdpmaps *m, const struct args *a)
{
	return pinned_list(m, a->pos[0], a->json);
}

static int pin_ban(struct xdpmaps *m, const struct args *a)
{
	return pinned_ban(m, a->pos[0], a->for_s);
}

static int pin_unban(struct xdpmaps *m, const struct args *a)
{
	return pinned_unban(m, a->pos[0]);
}

/* --- dispatch ---------------------------------------------------------------- */

static const struct command commands[] = {
	{ "status", 0, 0, "status", sock_status, NULL },
	{ "top", 0, O_N | O_BY | O_WATCH | O_INTERVAL,
	  "top [-n N] [--by new|drops] [--watch [--interval S]]", sock_top, NULL },
	{ "watch", 0, O_N, "watch [-n COUNT]", sock_watch, NULL },
	{ "source", 1, 0, "source ADDR", sock_source, pin_source },
	{ "verified", 1, 0, "verified ADDR", sock_verified, pin_verified },
	{ "stats", 0, 0, "stats", sock_stats, pin_stats },
	{ "rules", 0, 0, "rules", NULL, pin_rules },
	{ "count", 0, 0, "count", NULL, pin_count },
	{ "ban", 1, O_FOR, "ban CIDR [--for DURATION]", sock_ban, pin_ban },
	{ "unban", 1, 0, "unban CIDR", sock_unban, pin_unban },
	{ "allow", 1, O_DEL, "allow CIDR [--del]", sock_allow, NULL },
	{ "deny", 1, O_DEL, "deny CIDR [--del]", sock_deny, NULL },
	{ "list", 1, 0, "list bans|allow|deny", sock_list, pin_list },
	{ "reload", 0, 0, "reload", sock_reload, NULL },
	{ "check", 2, O_COST | O_ROLE | O_PEEK,
	  "check POLICY KEY [--cost N] [--role ROLE] [--peek]", sock_check, NULL },
	{ "auth-fail", 2, 0, "auth-fail POLICY KEY", sock_auth_fail, NULL },
	{ "auth-check", 2, 0, "auth-check POLICY KEY", sock_auth_check, NULL },
	{ "auth-ok", 2, 0, "auth-ok POLICY KEY", sock_auth_ok, NULL },
	{ "event", 3, 0, "event POLICY CONN_ID EVENT", sock_event, NULL },
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

enum {
	OPT_FOR = 256,
	OPT_COST,
	OPT_ROLE,
	OPT_PEEK,
	OPT_DEL,
	OPT_BY,
	OPT_WATCH,
	OPT_INTERVAL,
};

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "for", required_argument, NULL, OPT_FOR },
	{ "cost", required_argument, NULL, OPT_COST },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "peek", no_argument, NULL, OPT_PEEK },
	{ "del", no_argument, NULL, OPT_DEL },
	{ "by", required_argument, NULL, OPT_BY },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ NULL, 0, NULL, 0 },
};

/* The option of getopt value c, for messages. */
static const char *opt_name(int c)
{
	const struct option *o;

	for (o = longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	return c == 'n' ? "n" : "?";
}

/*
 * Parse argv (global options, the command, its arguments and options, in
 * any order after the command). Returns the command, or NULL after a usage
 * message (*ret is the exit status: 0 for --help).
 */
static const struct command *parse_args(int argc, char **argv, struct args *a, int *ret)
{
	const struct command *cmd = NULL;
	char *end;
	int c, i;

	*ret = EXIT_ERROR;
	a->n = 10;
	a->interval = 1;
	a->sock = getenv("FLOODGATE_SOCKET");
	if (!a->sock || !*a->sock)
		a->sock = FG_DEFAULT_SOCKET;
	opterr = 0;
	/* First the options before the command ("+": stop at it)... */
	while ((c = getopt_long(argc, argv, "+:s:p:jhn:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->sock = optarg;
			break;
		case 'p':
			a->pin_dir = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			*ret = EXIT_OK;
			return NULL;
		case ':':
			usage_error(NULL, "option %s needs a value", argv[optind - 1]);
			return NULL;
		case '?':
			usage_error(NULL, "unknown option %s", argv[optind - 1]);
			return NULL;
		default:
			usage_error(NULL, "--%s goes after the command", opt_name(c));
			return NULL;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return NULL;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		usage_error(NULL, "unknown command '%s'", argv[optind]);
		return NULL;
	}
	/* ...then the command's own (permuted: options may follow arguments). */
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:s:p:jhn:", longopts, NULL)) != -1) {
		unsigned bit = 0;

		switch (c) {
		case 1: /* a positional argument, in order */
			if (a->npos == cmd->npos) {
				usage_error(cmd, "%s: unexpected argument '%s'", cmd->name, optarg);
				return NULL;
			}
			a->pos[a->npos++] = optarg;
			continue;
		case 's':
			a->sock = optarg;
			continue;
		case 'p':
			a->pin_dir = optarg;
			continue;
		case 'j':
			a->json = true;
			continue;
		case 'h':
			printf("usage: floodctl [-s SOCKET] [--json] %s\n", cmd->synopsis);
			*ret = EXIT_OK;
			return NULL;
		case ':':
			usage_error(cmd, "option %s needs a value", argv[optind - 1]);
			return NULL;
		case '?':
			usage_error(cmd,
				    "unknown option %s (an argument that starts with '-' goes "
				    "after --)",
				    argv[optind - 1]);
			return NULL;
		case 'n':
			bit = O_N;
			a->n = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || a->n < 1 || a->n > 1000) {
				usage_error(cmd, "-n %s: give a count from 1 to 1000", optarg);
				return NULL;
			}
			break;
		case OPT_FOR: {
			uint64_t ms;

			bit = O_FOR;
			if (duration_parse(optarg, XDP_BAN_MAX_S * 1000, &ms)) {
				usage_error(
					cmd,
					"--for %s: give a duration like 90s, 10m, 1h30m or 2d, at "
					"most 3650d (leave --for out to ban until unbanned)",
					optarg);
				return NULL;
			}
			a->for_s = (ms + 999) / 1000; /* bans last whole seconds */
			break;
		}
		case OPT_COST:
			bit = O_COST;
			if (!is_uint(optarg)) {
				usage_error(cmd, "--cost %s: give a whole number, 0 or more",
					    optarg);
				return NULL;
			}
			a->cost = optarg;
			break;
		case OPT_ROLE:
			bit = O_ROLE;
			a->role = optarg;
			break;
		case OPT_PEEK:
			bit = O_PEEK;
			a->peek = true;
			break;
		case OPT_DEL:
			bit = O_DEL;
			a->del = true;
			break;
		case OPT_BY:
			bit = O_BY;
			if (!strcmp(optarg, "drops"))
				a->by_drops = true;
			else if (strcmp(optarg, "new")) {
				usage_error(cmd, "--by %s: use new or drops", optarg);
				return NULL;
			}
			break;
		case OPT_WATCH:
			bit = O_WATCH;
			a->watch = true;
			break;
		case OPT_INTERVAL:
			bit = O_INTERVAL;
			a->interval = strtod(optarg, &end);
			if (*end || end == optarg || !(a->interval >= 0.1 && a->interval <= 3600)) {
				usage_error(cmd, "--interval %s: give seconds from 0.1 to 3600",
					    optarg);
				return NULL;
			}
			break;
		}
		if (!(cmd->opts & bit)) {
			usage_error(cmd, "%s does not take %s%s", cmd->name, c == 'n' ? "-" : "--",
				    opt_name(c));
			return NULL;
		}
		a->given |= bit;
	}
	for (i = optind; i < argc; i++) { /* after "--" */
		if (a->npos == cmd->npos) {
			usage_error(cmd, "%s: unexpected argument '%s'", cmd->name, argv[i]);
			return NULL;
		}
		a->pos[a->npos++] = argv[i];
	}
	if (a->npos < cmd->npos) {
		usage_error(cmd, "%s: missing argument%s", cmd->name,
			    cmd->npos - a->npos > 1 ? "s" : "");
		return NULL;
	}
	if ((a->given & O_INTERVAL) && !a->watch) {
		usage_error(cmd, "--interval goes with --watch");
		return NULL;
	}
	return cmd;
}

int main(int argc, char **argv)
{
	char *pos[4] = { NULL };
	struct args a = { .pos = pos };
	const struct command *cmd;
	struct xdpmaps m;
	struct rpc r;
	int ret;

	cmd = parse_args(argc, argv, &a, &ret);
	if (!cmd)
		return ret;
	/* rules and count have no socket command: they always read the maps. */
	if (a.pin_dir || !cmd->sock) {
		if (!cmd->pin) {
			fprintf(stderr,
				"floodctl: %s needs the agent socket: drop -p (and give -s PATH if "
				"the socket is not %s)\n",
				cmd->name, FG_DEFAULT_SOCKET);
			return EXIT_ERROR;
		}
		ret = pinned_open(&m, a.pin_dir ? a.pin_dir : FG_DEFAULT_PIN_DIR);
		if (ret)
			return ret;
		ret = cmd->pin(&m, &a);
		xdpmaps_close(&m);
		return ret;
	}
	if (rpc_connect(&r, a.sock))
		return EXIT_ERROR;
	ret = cmd->sock(&r, &a);
	rpc_close(&r);
	return ret;
}
