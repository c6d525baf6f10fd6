// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xdpcmd: the XDP commands (live counts, sources, bans, the allow and deny
 * lists) over the agent's socket, and their -p forms on the pinned maps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "pinned.h"
#include "reply.h"
#include "xdpcmd.h"

static int top_once(struct rpc *r, const struct cmdline_args *a)
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
	ret = reply_call(r, &rep, 3, argv);
	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY) {
		ret = reply_unexpected("XDP.TOP", rep);
		freeReplyObject(rep);
		return ret;
	}
	for (i = 0; i < rep->elements; i++)
		if (rep->element[i]->type != REDIS_REPLY_ARRAY || rep->element[i]->elements < 4) {
			ret = reply_unexpected("XDP.TOP", rep->element[i]);
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
				reply_json(&j, rep->element[i]->element[k], false);
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
				reply_cell(&t, rep->element[i]->element[k]);
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
}

int xdpcmd_top(struct rpc *r, const struct cmdline_args *a)
{
	struct live_top_opts o = {
		.n = a->n, .by_drops = a->by_drops, .interval = a->interval, .json = a->json
	};

	return a->watch ? live_top(r, &o) : top_once(r, a);
}

int xdpcmd_watch(struct rpc *r, const struct cmdline_args *a)
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
		if (reply_is_err_containing(rep, "not tracked"))
			*ret = EXIT_DENIED;
		freeReplyObject(rep);
		return NULL;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2) {
		reply_unexpected("XDP.SOURCE", rep);
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
		if ((v = reply_field(rep, keys[i])) && reply_ll(v, &n) && n)
			return true;
	return false;
}

int xdpcmd_source(struct rpc *r, const struct cmdline_args *a)
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

			if (reply_is_str(k))
				json_key(&j, k->str, k->len);
			else
				json_keyz(&j, "?");
			reply_json(&j, rep->element[i + 1], false);
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

		reply_cell(&t, k);
		/* Ban ends are Unix times in ms: say how far away. */
		if (reply_is_str(k) && k->len >= 15 &&
		    !memcmp(k->str + k->len - 15, "banned_until_ms", 15) && reply_ll(v, &ms)) {
			left = ms - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
			reply_fmt_duration(dur, sizeof(dur), (left + 999) / 1000);
			if (ms == 0)
				table_cell(&t, "not banned");
			else if (ms < 0)
				table_cell(&t, "banned until unbanned");
			else
				table_cell(&t, "%lld (banned for %s more)", ms,
					   left > 0 ? dur : "0s");
			continue;
		}
		/* and so is the end of a verification */
		if (reply_is_str(k) && k->len == 17 && !memcmp(k->str, "verified_until_ms", 17) &&
		    reply_ll(v, &ms)) {
			left = ms - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
			reply_fmt_duration(dur, sizeof(dur), (left + 999) / 1000);
			if (ms == 0)
				table_cell(&t, "not verified");
			else
				table_cell(&t, "%lld (verified for %s more)", ms, left > 0 ? dur : "0s");
			continue;
		}
		reply_cell(&t, v);
	}
	table_print(&t, stdout);
	table_free(&t);
	freeReplyObject(rep);
	return ret;
}

int xdpcmd_verified(struct rpc *r, const struct cmdline_args *a)
{
	const redisReply *v;
	redisReply *rep;
	long long yes = 0;
	int ret;

	rep = source_query(r, a->pos[0], &ret);
	if (!rep)
		return ret == EXIT_DENIED ? EXIT_DENIED : ret;
	v = reply_field(rep, "verified");
	if (!v || !reply_ll(v, &yes)) {
		ret = reply_unexpected("XDP.SOURCE (no verified field)", rep);
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

int xdpcmd_stats(struct rpc *r, const struct cmdline_args *a)
{
	static const char *const hdr[] = { "REASON", "PASSED", "DROPPED", "PASSED_BYTES",
					   "DROPPED_BYTES" };
	static const char *const names[] = { "passed", "dropped", "passed_bytes", "dropped_bytes" };
	const char *argv[] = { "XDP.STATS" };
	redisReply *rep;
	struct table t;
	struct json j;
	size_t i, k;
	int ret = reply_call(r, &rep, 1, argv);

	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
		goto bad;
	for (i = 0; i < rep->elements; i += 2)
		if (!reply_is_str(rep->element[i]) ||
		    rep->element[i + 1]->type != REDIS_REPLY_ARRAY ||
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
				reply_json(&j, rep->element[i + 1]->element[k], true);
			}
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_end(&j);
	} else {
		table_init(&t, 5, "lrrrr", hdr);
		for (i = 0; i < rep->elements; i += 2) {
			reply_cell(&t, rep->element[i]);
			for (k = 0; k < 4; k++)
				reply_cell(&t, rep->element[i + 1]->element[k]);
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
bad:
	ret = reply_unexpected("XDP.STATS", rep);
	freeReplyObject(rep);
	return ret;
}

int xdpcmd_ban(struct rpc *r, const struct cmdline_args *a)
{
	char secs[24], dur[32];
	const char *argv[] = { "XDP.BAN", a->pos[0], secs };
	redisReply *rep;
	int ret;

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)a->for_s);
	ret = reply_call(r, &rep, 3, argv);
	if (ret)
		return ret;
	reply_fmt_duration(dur, sizeof(dur), a->for_s ? (long long)a->for_s : -1);
	ret = reply_print_ok("XDP.BAN", rep, a->json, "banned %s %s%s", a->pos[0],
			     a->for_s ? "for " : "until unbanned", a->for_s ? dur : "");
	freeReplyObject(rep);
	return ret;
}

int xdpcmd_unban(struct rpc *r, const struct cmdline_args *a)
{
	const char *argv[] = { "XDP.UNBAN", a->pos[0] };
	redisReply *rep = rpc_call(r, 2, argv, NULL);
	int ret;

	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		/* Not banned is an answer, not a failure of floodctl. */
		ret = reply_is_err_containing(rep, "not banned") ? EXIT_DENIED : EXIT_ERROR;
		freeReplyObject(rep);
		return ret;
	}
	ret = reply_print_ok("XDP.UNBAN", rep, a->json, "unbanned %s", a->pos[0]);
	freeReplyObject(rep);
	return ret;
}

/* The agent's refusals of a vouch: said, exit 1. */
static int vouch_error(redisReply *rep)
{
	int ret = reply_is_err_containing(rep, "refused") ||
				  reply_is_err_containing(rep, "not vouched")
			  ? EXIT_DENIED
			  : EXIT_ERROR;

	rpc_print_error(rep);
	freeReplyObject(rep);
	return ret;
}

int xdpcmd_vouch(struct rpc *r, const struct cmdline_args *a)
{
	char secs[24], dur[32];
	const char *argv[] = { "XDP.VOUCH", a->pos[0], secs };
	redisReply *rep;

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)a->for_s);
	rep = rpc_call(r, a->for_s ? 3 : 2, argv, NULL);
	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR)
		return vouch_error(rep);
	if (rep->type != REDIS_REPLY_INTEGER) {
		int ret = reply_unexpected("XDP.VOUCH", rep);

		freeReplyObject(rep);
		return ret;
	}
	if (a->json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_keyz(&j, "vouched");
		json_strz(&j, a->pos[0]);
		json_keyz(&j, "for_s");
		json_int(&j, rep->integer);
		json_obj_end(&j);
		json_end(&j);
	} else {
		reply_fmt_duration(dur, sizeof(dur), rep->integer);
		printf("vouched for %s for %s\n", a->pos[0], dur);
	}
	freeReplyObject(rep);
	return EXIT_OK;
}

int xdpcmd_unvouch(struct rpc *r, const struct cmdline_args *a)
{
	const char *argv[] = { "XDP.UNVOUCH", a->pos[0] };
	redisReply *rep = rpc_call(r, 2, argv, NULL);
	int ret;

	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR)
		return vouch_error(rep);
	ret = reply_print_ok("XDP.UNVOUCH", rep, a->json, "unvouched %s", a->pos[0]);
	freeReplyObject(rep);
	return ret;
}

static int list_entry(struct rpc *r, const struct cmdline_args *a, const char *cmd,
		      const char *list)
{
	const char *argv[] = { cmd, a->pos[0], "DEL" };
	redisReply *rep = rpc_call(r, a->del ? 3 : 2, argv, NULL);
	int ret;

	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		/* Already listed, or not listed for --del, is an answer (exit 1, as
		 * unban of what is not banned), not a failure of floodctl. */
		ret = reply_is_err_containing(rep, "already on the") ||
				      reply_is_err_containing(rep, "not on the")
			      ? EXIT_DENIED
			      : EXIT_ERROR;
		freeReplyObject(rep);
		return ret;
	}
	ret = reply_print_ok(cmd, rep, a->json, "%s %s %s the %s list",
			     a->del ? "removed" : "added", a->pos[0], a->del ? "from" : "to", list);
	freeReplyObject(rep);
	return ret;
}

int xdpcmd_allow(struct rpc *r, const struct cmdline_args *a)
{
	return list_entry(r, a, "XDP.ALLOW", "allow");
}

int xdpcmd_deny(struct rpc *r, const struct cmdline_args *a)
{
	return list_entry(r, a, "XDP.DENY", "deny");
}

int xdpcmd_list(struct rpc *r, const struct cmdline_args *a)
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
		return cmdline_usage_error(cmdline_find_command("list"),
					   "list %s: use bans, allow or deny", what);
	{
		const char *argv[] = { "XDP.LIST", arg };

		ret = reply_call(r, &rep, 2, argv);
	}
	if (ret)
		return ret;
	if (rep->type != REDIS_REPLY_ARRAY)
		goto bad;
	for (i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];

		if (bans ? e->type != REDIS_REPLY_ARRAY || e->elements < 3 : !reply_is_str(e))
			goto bad;
	}
	if (a->json) {
		json_init(&j, stdout);
		json_arr_begin(&j);
		for (i = 0; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];

			if (!bans) {
				reply_json(&j, e, false);
				continue;
			}
			json_obj_begin(&j);
			for (k = 0; k < 3; k++) {
				json_keyz(&j, names[k]);
				reply_json(&j, e->element[k], k == 2);
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
				reply_cell(&t, e);
				continue;
			}
			reply_cell(&t, e->element[0]);
			reply_cell(&t, e->element[1]);
			if (reply_ll(e->element[2], &s)) {
				reply_fmt_duration(dur, sizeof(dur), s);
				table_cell(&t, "%s", dur);
			} else {
				reply_cell(&t, e->element[2]);
			}
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	freeReplyObject(rep);
	return EXIT_OK;
bad:
	ret = reply_unexpected("XDP.LIST", rep);
	freeReplyObject(rep);
	return ret;
}

/* --- the same through the pinned maps (-p) ----------------------------------- */

int xdpcmd_pin_stats(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_stats(m, a->json);
}

int xdpcmd_pin_rules(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_rules(m, a->json, a->agent_info);
}

int xdpcmd_pin_count(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_count(m, a->json);
}

int xdpcmd_pin_source(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_source(m, a->pos[0], a->json);
}

int xdpcmd_pin_verified(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_verified(m, a->pos[0], a->json);
}

int xdpcmd_pin_list(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_list(m, a->pos[0], a->json);
}

int xdpcmd_pin_ban(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_ban(m, a->pos[0], a->for_s);
}

int xdpcmd_pin_unban(struct xdpmaps *m, const struct cmdline_args *a)
{
	return pinned_unban(m, a->pos[0]);
}
