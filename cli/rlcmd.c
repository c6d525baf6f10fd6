// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * rlcmd: the application-limit commands (RL.CHECK, RL.AUTH.*, RL.EVENT):
 * a policy's decision, printed, with exit 1 for "not allowed".
 */
#include <string.h>

#include "reply.h"
#include "rlcmd.h"

int rlcmd_check(struct rpc *r, const struct cmdline_args *a)
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
	ret = reply_call(r, &rep, argc, argv);
	if (ret)
		return ret;
	ret = reply_print_fields("RL.CHECK", rep, names, 7, a->json);
	if (!ret)
		ret = reply_ll(rep->element[0], &allowed) && allowed ? EXIT_OK : EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}

static int auth(struct rpc *r, const struct cmdline_args *a, const char *cmd, const char *first)
{
	const char *const names[] = { first, "failures" };
	const char *argv[] = { cmd, a->pos[0], a->pos[1] };
	redisReply *rep;
	long long wait;
	int ret = reply_call(r, &rep, 3, argv);

	if (ret)
		return ret;
	ret = reply_print_fields(cmd, rep, names, 2, a->json);
	/* auth-check: a wait still to serve is a "not now". */
	if (!ret && !strcmp(first, "wait_ms") && reply_ll(rep->element[0], &wait) && wait > 0)
		ret = EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}

int rlcmd_auth_fail(struct rpc *r, const struct cmdline_args *a)
{
	return auth(r, a, "RL.AUTH.FAIL", "delay_ms");
}

int rlcmd_auth_check(struct rpc *r, const struct cmdline_args *a)
{
	return auth(r, a, "RL.AUTH.CHECK", "wait_ms");
}

int rlcmd_auth_ok(struct rpc *r, const struct cmdline_args *a)
{
	const char *argv[] = { "RL.AUTH.OK", a->pos[0], a->pos[1] };
	redisReply *rep;
	int ret = reply_call(r, &rep, 3, argv);

	if (ret)
		return ret;
	ret = reply_print_ok("RL.AUTH.OK", rep, a->json, "failures forgotten");
	freeReplyObject(rep);
	return ret;
}

int rlcmd_event(struct rpc *r, const struct cmdline_args *a)
{
	static const char *const names[] = { "state", "count", "limit", "type" };
	const char *argv[] = { "RL.EVENT", a->pos[0], a->pos[1], a->pos[2] };
	redisReply *rep;
	int ret = reply_call(r, &rep, 4, argv);

	if (ret)
		return ret;
	/* A policy with per-type limits (events:) adds the type it counted. */
	ret = reply_print_fields("RL.EVENT", rep, names,
				 rep->type == REDIS_REPLY_ARRAY && rep->elements >= 4 ? 4 : 3,
				 a->json);
	if (!ret && reply_str_eq(rep->element[0], "disconnect"))
		ret = EXIT_DENIED;
	freeReplyObject(rep);
	return ret;
}
