// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * conncmds: the connection commands every Redis client library expects —
 * PING, ECHO, HELLO (RESP2/3), AUTH (the socket's permissions are the
 * authentication: only the default user, any password), CLIENT (ID, SETNAME,
 * GETNAME, SETINFO, INFO, LIST, NO-EVICT/NO-TOUCH, HELP), INFO (info.h),
 * SELECT (db 0 only), QUIT, RESET and COMMAND (COUNT, LIST, INFO, DOCS), and
 * MULTI, EXEC, DISCARD, WATCH refused with a reason (no transactions).
 * They are registered through server_register() like the product commands
 * (RL.*, XDP.*, CONFIG), by server_new(), before any module's: a module
 * cannot take their names. They are part of the socket server and read its
 * insides (server_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "server_int.h"

/* --- connection commands ------------------------------------------------------ */

static bool arg_ll(const struct resp_arg *a, long long *out)
{
	char buf[24];
	char *end;

	if (a->len == 0 || a->len >= sizeof(buf))
		return false;
	memcpy(buf, a->ptr, a->len);
	buf[a->len] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return !errno && *end == '\0' && !isspace((unsigned char)buf[0]);
}

static void cmd_ping(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	if (argc > 2) {
		server_reply_error_kind(c, SERVER_ERR_ARITY,
					"ERR wrong number of arguments for 'ping' command");
		return;
	}
	if (c->proto == 2 && pubsub_subscribed(c)) {
		/* Redis in RESP2 subscribed mode: a reply shaped as a message */
		reply_array(c, 2);
		reply_cstr(c, "pong");
		reply_bulk(c, argc == 2 ? argv[1].ptr : "", argc == 2 ? argv[1].len : 0);
	} else if (argc == 2) {
		reply_bulk(c, argv[1].ptr, argv[1].len);
	} else {
		sbuf_append(c->ob, "+PONG\r\n", 7);
	}
}

static void cmd_echo(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	(void)argc;
	reply_bulk(c, argv[1].ptr, argv[1].len);
}

static bool name_ok(const struct resp_arg *a)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if (a->ptr[i] < '!' || a->ptr[i] > '~')
			return false;
	return true;
}

static int set_name(struct client *c, const struct resp_arg *a)
{
	if (!name_ok(a)) {
		reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
			       "characters.");
		return -1;
	}
	if (a->len >= sizeof(c->name)) {
		reply_error(c, "ERR Client names are limited to %d characters",
			    (int)sizeof(c->name) - 1);
		return -1;
	}
	memcpy(c->name, a->ptr, a->len);
	c->name[a->len] = '\0';
	return 0;
}

/* AUTH as redis answers it with no password set for the default user: the
 * socket's permissions are the authentication. */
static int check_auth(struct client *c, const struct resp_arg *user, const struct resp_arg *pass)
{
	(void)pass;
	if (!user) {
		reply_error(c, "ERR AUTH <password> called without any password configured for the "
			       "default user. Are you sure your configuration is correct?");
		return -1;
	}
	if (!resp_arg_is(user, "default")) {
		reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
		return -1;
	}
	return 0;
}

static void cmd_auth(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)ctx;
	if (argc > 3) {
		server_reply_error_kind(c, SERVER_ERR_ARITY, "ERR syntax error");
		return;
	}
	if (check_auth(c, argc == 3 ? &argv[1] : NULL, &argv[argc - 1]) == 0)
		reply_ok(c);
}

static void cmd_hello(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	int proto = c->proto, i = 1;
	long long v;

	(void)ctx;
	if (argc >= 2) {
		if (!arg_ll(&argv[1], &v)) {
			reply_error(c, "ERR Protocol version is not an integer or out of range");
			return;
		}
		if (v != 2 && v != 3) {
			reply_error(c, "NOPROTO sorry, this protocol version is not supported.");
			return;
		}
		proto = (int)v;
		i = 2;
	}
	for (; i < argc; i++) {
		if (resp_arg_is(&argv[i], "AUTH") && i + 2 < argc) {
			if (check_auth(c, &argv[i + 1], &argv[i + 2]))
				return;
			i += 2;
		} else if (resp_arg_is(&argv[i], "SETNAME") && i + 1 < argc) {
			if (set_name(c, &argv[i + 1]))
				return;
			i++;
		} else {
			reply_error(c, "ERR Syntax error in HELLO option '%.*s'",
				    (int)(argv[i].len < 64 ? argv[i].len : 64), argv[i].ptr);
			return;
		}
	}
	c->proto = proto;
	reply_map(c, 7);
	reply_cstr(c, "server");
	reply_cstr(c, "floodgate");
	reply_cstr(c, "version");
	reply_cstr(c, FG_VERSION);
	reply_cstr(c, "proto");
	reply_int(c, proto);
	reply_cstr(c, "id");
	reply_int(c, (long long)c->id);
	reply_cstr(c, "mode");
	reply_cstr(c, "standalone");
	reply_cstr(c, "role");
	reply_cstr(c, "master");
	reply_cstr(c, "modules");
	reply_array(c, 0);
}

static void client_info_line(struct client *c, struct sbuf *b)
{
	uint64_t now = uv_now(c->srv->loop);

	sbuf_printf(b,
		    "id=%llu addr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=0 "
		    "uid=%ld gid=%ld pid=%ld admin=%d qbuf=%zu obl=%zu resp=%d lib-name=%s "
		    "lib-ver=%s\n",
		    (unsigned long long)c->id, c->srv->path, -1, c->name,
		    (unsigned long long)(now - c->created_ms) / 1000,
		    (unsigned long long)(now - c->last_cmd_ms) / 1000,
		    c->ndeferred ? "b" : (c->push ? "P" : "N"), (long)c->uid, (long)c->gid,
		    (long)c->pid, c->admin, c->in.len, c->out.len + c->wbuf.len, c->proto,
		    c->lib_name, c->lib_ver);
}

static void cmd_client(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct resp_arg *sub = &argv[1];

	(void)ctx;
	if (resp_arg_is(sub, "ID") && argc == 2) {
		reply_int(c, (long long)c->id);
	} else if (resp_arg_is(sub, "SETNAME") && argc == 3) {
		if (set_name(c, &argv[2]) == 0)
			reply_ok(c);
	} else if (resp_arg_is(sub, "GETNAME") && argc == 2) {
		if (c->name[0])
			reply_cstr(c, c->name);
		else
			reply_null(c);
	} else if (resp_arg_is(sub, "SETINFO") && argc == 4) {
		char *dst;
		size_t cap;

		if (resp_arg_is(&argv[2], "LIB-NAME")) {
			dst = c->lib_name;
			cap = sizeof(c->lib_name);
		} else if (resp_arg_is(&argv[2], "LIB-VER")) {
			dst = c->lib_ver;
			cap = sizeof(c->lib_ver);
		} else {
			reply_error(c, "ERR Unrecognized option '%.*s'",
				    (int)(argv[2].len < 64 ? argv[2].len : 64), argv[2].ptr);
			return;
		}
		if (!name_ok(&argv[3]) || argv[3].len >= cap) {
			reply_error(c,
				    "ERR %s cannot contain spaces, newlines or special characters "
				    "and is limited to %zu characters",
				    dst == c->lib_name ? "lib-name" : "lib-ver", cap - 1);
			return;
		}
		memcpy(dst, argv[3].ptr, argv[3].len);
		dst[argv[3].len] = '\0';
		reply_ok(c);
	} else if (resp_arg_is(sub, "INFO") && argc == 2) {
		client_info_line(c, server_scratch_begin(c->srv));
		server_reply_scratch(c);
	} else if (resp_arg_is(sub, "LIST") && argc == 2) {
		struct sbuf *b = server_scratch_begin(c->srv);
		struct client *o;

		/* Another uid's connections (their names, pids, uids) are an
		 * admin's to see, as CLIENT LIST is @admin in Redis. */
		for (o = c->srv->clients; o; o = o->next)
			if (!client_is_closed(o) && (c->admin || o->uid == c->uid))
				client_info_line(o, b);
		server_reply_scratch(c);
	} else if ((resp_arg_is(sub, "NO-EVICT") || resp_arg_is(sub, "NO-TOUCH")) && argc == 3) {
		reply_ok(c);
	} else if (resp_arg_is(sub, "HELP")) {
		reply_array(c, 6);
		reply_simple(c, "CLIENT <subcommand>. Subcommands are:");
		reply_simple(c, "ID, INFO, LIST");
		reply_simple(c, "SETNAME <name>, GETNAME");
		reply_simple(c, "SETINFO LIB-NAME|LIB-VER <value>");
		reply_simple(c, "NO-EVICT|NO-TOUCH ON|OFF (accepted, no effect)");
		reply_simple(c, "HELP");
	} else {
		reply_error(c,
			    "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
			    "Try CLIENT HELP.",
			    (int)(sub->len < 64 ? sub->len : 64), sub->ptr);
	}
}

static void cmd_select(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	long long db;

	(void)ctx;
	(void)argc;
	if (!arg_ll(&argv[1], &db))
		reply_error(c, "ERR value is not an integer or out of range");
	else if (db != 0)
		reply_error(c, "ERR DB index is out of range (floodgate has only db 0)");
	else
		reply_ok(c);
}

static void cmd_quit(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	reply_ok(c);
	c->close_after_write = true;
}

static void cmd_reset(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	c->proto = 2;
	c->name[0] = '\0';
	pubsub_client_reset(c); /* as Redis: no unsubscribe replies */
	c->push = false;
	c->multi_refused = false;
	reply_simple(c, "RESET");
}

/* --- transactions: refused, saying why ------------------------------------------ */

/*
 * MULTI is refused rather than half supported: every RL.* command already
 * decides and charges in one step, and a queue would have to hold replies
 * the Redis store defers. What follows a refused MULTI up to EXEC/DISCARD is
 * refused too (server.c): a client that pipelines MULTI, commands, EXEC
 * expects all of them to run or none, and must not be charged for a
 * transaction it is told failed.
 */
static void cmd_multi(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	if (c->multi_refused) {
		reply_error(c, "ERR MULTI calls can not be nested");
		return;
	}
	c->multi_refused = true;
	reply_error(c, "ERR MULTI is not supported by floodgate: each RL.* command is already "
		       "atomic; send the commands without MULTI (pipelining works). Commands up to "
		       "EXEC or DISCARD are refused");
}

static void cmd_exec(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	if (!c->multi_refused) {
		reply_error(c, "ERR EXEC without MULTI");
		return;
	}
	c->multi_refused = false;
	reply_error(c, "EXECABORT Transaction discarded: MULTI is not supported by floodgate; "
		       "send the commands without MULTI (pipelining works)");
}

static void cmd_discard(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	if (!c->multi_refused) {
		reply_error(c, "ERR DISCARD without MULTI");
		return;
	}
	c->multi_refused = false;
	reply_ok(c);
}

static void cmd_watch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	reply_error(c, "ERR WATCH is not supported by floodgate: there are no transactions (see "
		       "MULTI) and no Redis keys to watch");
}

static void cmd_unwatch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	reply_ok(c); /* nothing is watched: as Redis answers then */
}

static void command_entry(struct client *c, const struct cmd *cmd)
{
	reply_array(c, 10);
	reply_cstr(c, cmd->name);
	reply_int(c, cmd->arity);
	if (cmd->flags & SERVER_CMD_ADMIN) {
		resp_w_set(c->ob, c->proto, 1);
		resp_w_simple(c->ob, "admin");
	} else {
		resp_w_set(c->ob, c->proto, 0);
	}
	reply_int(c, 0); /* first key: floodgate keys are not redis keys */
	reply_int(c, 0);
	reply_int(c, 0);
	resp_w_set(c->ob, c->proto, 0); /* acl categories */
	reply_array(c, 0);		/* tips */
	reply_array(c, 0);		/* key specs */
	reply_array(c, 0);		/* subcommands */
}

static void cmd_command(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct server *s = c->srv;
	struct cmd *cmd;
	size_t i;
	int j;

	(void)ctx;
	/* COMMAND INFO without names is every command, as Redis 7 answers. */
	if (argc == 1 || (argc == 2 && resp_arg_is(&argv[1], "INFO"))) {
		reply_array(c, s->ncmds);
		for (i = 0; i < s->ncmds; i++)
			command_entry(c, &s->cmds[i]);
	} else if (resp_arg_is(&argv[1], "COUNT") && argc == 2) {
		reply_int(c, (long long)s->ncmds);
	} else if (resp_arg_is(&argv[1], "LIST") && argc == 2) {
		reply_array(c, s->ncmds);
		for (i = 0; i < s->ncmds; i++)
			reply_cstr(c, s->cmds[i].name);
	} else if (resp_arg_is(&argv[1], "INFO")) {
		reply_array(c, (size_t)(argc - 2));
		for (j = 2; j < argc; j++) {
			cmd = server_cmd_lookup(s, argv[j].ptr, argv[j].len);
			if (cmd)
				command_entry(c, cmd);
			else
				resp_w_null_array(c->ob, c->proto);
		}
	} else if (resp_arg_is(&argv[1], "DOCS")) {
		/* No docs to give; an empty map is a valid answer (redis-cli asks on
		 * connect for its hints). */
		reply_map(c, 0);
	} else {
		reply_error(c, "ERR unknown subcommand '%.*s'. Try COMMAND HELP.",
			    (int)(argv[1].len < 64 ? argv[1].len : 64), argv[1].ptr);
	}
}

#define PUBSUB SERVER_CMD_PUBSUB
#define TXCTL  SERVER_CMD_TXCTL
/* In this order in COMMAND, COMMAND LIST and the per-command stats. */
static const struct {
	const char *name;
	server_cmd_fn fn;
	int arity;
	unsigned flags;
} conn_cmds[] = {
	{ "ping", cmd_ping, -1, PUBSUB },
	{ "echo", cmd_echo, 2, 0 },
	{ "hello", cmd_hello, -1, 0 },
	{ "auth", cmd_auth, -2, 0 },
	{ "client", cmd_client, -2, 0 },
	{ "info", info_cmd, -1, 0 },
	{ "select", cmd_select, 2, 0 },
	{ "quit", cmd_quit, -1, PUBSUB | TXCTL },
	{ "reset", cmd_reset, 1, PUBSUB | TXCTL },
	{ "command", cmd_command, -1, 0 },
	{ "multi", cmd_multi, 1, TXCTL },
	{ "exec", cmd_exec, 1, TXCTL },
	{ "discard", cmd_discard, 1, TXCTL },
	{ "watch", cmd_watch, -2, 0 },
	{ "unwatch", cmd_unwatch, 1, 0 },
};

int conncmds_register(struct server *s)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(conn_cmds) / sizeof(conn_cmds[0]); i++) {
		err = server_register(s, conn_cmds[i].name, conn_cmds[i].fn, conn_cmds[i].arity,
				      conn_cmds[i].flags, NULL);
		if (err)
			return err;
	}
	return 0;
}
