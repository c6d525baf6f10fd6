// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * agentcmd: the commands about floodgated itself: status (INFO, summarised
 * for people or as JSON by section) and reload (CONFIG RELOAD).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "reply.h"

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

/* One Redis node of INFO redis ("addr=...,up=1,..."): a row of the table. */
static void redis_node_row(struct table *t, const char *v)
{
	char addr[160], up[8], rtt[24], slots[16], ranges[256], redir[24], err[160];
	char cell[768];

	kv_get(v, "addr", addr, sizeof(addr));
	kv_get(v, "up", up, sizeof(up));
	kv_get(v, "rtt_us", rtt, sizeof(rtt));
	kv_get(v, "slots", slots, sizeof(slots));
	kv_get(v, "ranges", ranges, sizeof(ranges));
	kv_get(v, "redirects", redir, sizeof(redir));
	kv_get(v, "error", err, sizeof(err));
	cell[0] = '\0';
	list_add(cell, sizeof(cell), "%s %s", addr,
		 strcmp(up, "1") ? "DOWN: its keys fall back" : "up");
	if (*slots)
		list_add(cell, sizeof(cell), "%s slots%s%s", slots, *ranges ? " " : "", ranges);
	if (*rtt && strcmp(up, "0"))
		list_add(cell, sizeof(cell), "round trip %.2f ms", atof(rtt) / 1000.0);
	if (*redir)
		list_add(cell, sizeof(cell), "%s redirect%s", redir, strcmp(redir, "1") ? "s" : "");
	if (*err)
		list_add(cell, sizeof(cell), "%s", err);
	table_cell(t, "  %s", *slots ? "master" : "node");
	table_cell(t, "%s", cell);
}

/* The Redis topology (INFO redis): the deployment, then a row per node
 * and, with Sentinel, per sentinel. */
static void redis_rows(struct table *t, const struct info_line *l, size_t n)
{
	const char *mode = info_get(l, n, "redis", "deployment"), *v;
	char a[160], m[160], e[160], r[8], sub[8];
	size_t i;

	if (!mode || !strcmp(mode, "none"))
		return;
	table_cell(t, "redis");
	if (!strcmp(mode, "sentinel")) {
		v = info_get(l, n, "redis", "master");
		table_cell(t, "sentinel: master %s at %s; %s of %s sentinels reachable",
			   info_get(l, n, "redis", "master_name") ?: "?", v && *v ? v : "(unknown)",
			   info_get(l, n, "redis", "sentinels_reachable") ?: "?",
			   info_get(l, n, "redis", "sentinels") ?: "?");
	} else if (!strcmp(mode, "cluster")) {
		table_cell(t, "cluster: %s masters", info_get(l, n, "redis", "nodes") ?: "?");
	} else {
		table_cell(t, "%s", mode);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(l[i].section, "redis"))
			continue;
		if (!strncmp(l[i].key, "node_", 5)) {
			redis_node_row(t, l[i].value);
		} else if (!strncmp(l[i].key, "sentinel_", 9)) {
			kv_get(l[i].value, "addr", a, sizeof(a));
			kv_get(l[i].value, "reachable", r, sizeof(r));
			kv_get(l[i].value, "subscribed", sub, sizeof(sub));
			kv_get(l[i].value, "master", m, sizeof(m));
			kv_get(l[i].value, "error", e, sizeof(e));
			table_cell(t, "  sentinel");
			if (!strcmp(r, "1"))
				table_cell(t, "%s reachable, names %s%s", a, m,
					   !strcmp(sub, "1") ? ", fail-overs followed here" : "");
			else
				table_cell(t, "%s UNREACHABLE: %s", a, e);
		}
	}
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
		reply_fmt_duration(dur, sizeof(dur), atoll(v));
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
	for (i = 0; i < n; i++) {
		char why[64];

		if (strcmp(l[i].section, "xdp") || strncmp(l[i].key, "iface_", 6))
			continue;
		if (*kv_get(l[i].value, "problem", why, sizeof(why)))
			list_add(cell, sizeof(cell), "%s (NOT PROTECTED: %s)", l[i].key + 6, why);
		else
			list_add(cell, sizeof(cell), "%s (%s)", l[i].key + 6,
				 kv_get(l[i].value, "mode", val, sizeof(val)));
	}
	if (*cell) {
		table_cell(&t, "interfaces");
		table_cell(&t, "%s", cell);
	}
	if ((v = info_get(l, n, "xdp", "mode")) && !strcmp(v, "app-only")) {
		table_cell(&t, "mode");
		table_cell(&t,
			   "app-only: no XDP program, application limits only (%s xdp_ban "
			   "results not applied)",
			   info_get(l, n, "xdp", "xdp_bans_not_applied") ?: "?");
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
	if ((v = info_get(l, n, "xdp", "syn_cookies_on"))) {
		cell[0] = '\0';
		for (i = 0; i < n; i++) {
			char act[8];

			if (strcmp(l[i].section, "xdp") ||
			    strncmp(l[i].key, "syn_cookies_rule_", 17))
				continue;
			kv_get(l[i].value, "active", act, sizeof(act));
			list_add(cell, sizeof(cell), "%s %s%s", l[i].key + 17,
				 kv_get(l[i].value, "mode", val, sizeof(val)),
				 strcmp(act, "1") ? "" : " (ACTIVE: answering SYNs)");
		}
		table_cell(&t, "syn cookies");
		table_cell(&t, "%s%s", *cell ? cell : "no TCP rule",
			   strcmp(v, "0") ? "; tcp_syncookies set for them" : "");
		if ((v = info_get(l, n, "xdp", "syn_cookies_sent"))) {
			table_cell(&t, "cookies");
			table_cell(&t,
				   "%s SYN-ACKs sent, %s valid ACKs (%s sources verified), %s bad "
				   "ACKs "
				   "dropped, %s over max_rate, %s declined",
				   v, info_get(l, n, "xdp", "syn_cookie_acks_valid") ?: "?",
				   info_get(l, n, "xdp", "syn_cookie_verified") ?: "?",
				   info_get(l, n, "xdp", "syn_cookie_acks_bad") ?: "?",
				   info_get(l, n, "xdp", "syn_cookies_capped") ?: "?",
				   info_get(l, n, "xdp", "syn_cookies_declined") ?: "?");
		}
	}
	if ((v = info_get(l, n, "xdp", "bans_auto"))) {
		table_cell(&t, "auto bans");
		table_cell(&t, "%s so far", v);
	}
	if ((v = info_get(l, n, "xdp", "host_peers"))) {
		table_cell(&t, "host peers");
		table_cell(&t, "%s", *v ? v : "none (no resolver or default gateway found)");
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
	redis_rows(&t, l, n);
	table_print(&t, stdout);
	table_free(&t);
}

int agentcmd_status(struct rpc *r, const struct cmdline_args *a)
{
	const char *argv[] = { "INFO", "all" };
	struct info_line *l;
	const char *sect = NULL;
	redisReply *rep;
	struct json j;
	char *text;
	size_t n, i;
	int ret = reply_call(r, &rep, 2, argv);

	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS) {
		ret = reply_unexpected("INFO", rep);
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

int agentcmd_reload(struct rpc *r, const struct cmdline_args *a)
{
	const char *argv[] = { "CONFIG", "RELOAD" };
	redisReply *rep;
	int ret = reply_call(r, &rep, 2, argv);

	if (ret)
		return ret;
	ret = reply_print_ok("CONFIG RELOAD", rep, a->json, "config reloaded");
	freeReplyObject(rep);
	return ret;
}
