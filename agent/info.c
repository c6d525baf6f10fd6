// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* INFO: see info.h. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "info.h"
#include "server_int.h"

/* The version redis clients see in INFO/HELLO: libraries gate features on it. */
#define REDIS_COMPAT_VERSION "7.2.0"

/* --- INFO --------------------------------------------------------------------- */

static void info_server(struct server *s, struct sbuf *b)
{
	uint64_t up = (uv_now(s->loop) - s->st.start_ms) / 1000;
	struct utsname u;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	sbuf_printf(b,
		    "redis_version:" REDIS_COMPAT_VERSION "\r\n"
		    "floodgate_version:%s\r\n"
		    "floodgate_git_sha1:%s\r\n"
		    "redis_mode:standalone\r\n"
		    "os:%s %s %s\r\n"
		    "arch_bits:%d\r\n"
		    "multiplexing_api:libuv %s\r\n"
		    "process_id:%ld\r\n"
		    "tcp_port:0\r\n"
		    "unix_socket:%s\r\n"
		    "uptime_in_seconds:%llu\r\n"
		    "uptime_in_days:%llu\r\n"
		    "config_file:%s\r\n"
		    "metrics_listen:%s\r\n",
		    FG_VERSION, FG_COMMIT, u.sysname, u.release, u.machine, (int)sizeof(long) * 8,
		    uv_version_string(), (long)getpid(), s->path, (unsigned long long)up,
		    (unsigned long long)up / 86400, s->config_file ? s->config_file : "",
		    s->metrics_listen);
}

static void info_clients(struct server *s, struct sbuf *b)
{
	sbuf_printf(b,
		    "connected_clients:%llu\r\n"
		    "blocked_clients:%llu\r\n"
		    "maxclients:%u\r\n"
		    "maxclients_per_uid:%u\r\n"
		    "admin_reserve:%u\r\n"
		    "idle_timeout_sec:%llu\r\n"
		    "client_buffers_bytes:%llu\r\n"
		    "max_buffers:%llu\r\n"
		    "client_output_limit:%llu\r\n",
		    (unsigned long long)s->st.connected, (unsigned long long)s->st.blocked,
		    s->max_clients, s->per_uid, s->reserve, (unsigned long long)s->idle_ms / 1000,
		    (unsigned long long)s->st.buffered, (unsigned long long)s->max_buffers,
		    (unsigned long long)s->out_limit);
}

static void info_stats(struct server *s, struct sbuf *b)
{
	uint64_t errs = 0;
	int k;

	for (k = 0; k < SERVER_ERR__MAX; k++)
		errs += s->st.errors[k];
	sbuf_printf(b,
		    "total_connections_received:%llu\r\n"
		    "total_commands_processed:%llu\r\n"
		    "instantaneous_ops_per_sec:%llu\r\n"
		    "total_net_input_bytes:%llu\r\n"
		    "total_net_output_bytes:%llu\r\n"
		    "rejected_connections:%llu\r\n"
		    "total_error_replies:%llu\r\n",
		    (unsigned long long)s->st.connections_total,
		    (unsigned long long)s->st.commands_total, (unsigned long long)s->ops_per_sec,
		    (unsigned long long)s->st.bytes_in, (unsigned long long)s->st.bytes_out,
		    (unsigned long long)s->st.rejected_total, (unsigned long long)errs);
	for (k = 0; k < SERVER_ERR__MAX; k++)
		sbuf_printf(b, "errors_%s:%llu\r\n", server_err_kind_name(k),
			    (unsigned long long)s->st.errors[k]);
	for (k = 0; k < SERVER_REJECT__MAX; k++)
		sbuf_printf(b, "rejected_connections_%s:%llu\r\n", server_reject_name(k),
			    (unsigned long long)s->st.rejected[k]);
	for (k = 0; k < SERVER_CLOSE__MAX; k++)
		sbuf_printf(b, "closed_clients_%s:%llu\r\n", server_close_name(k),
			    (unsigned long long)s->st.closed[k]);
}

static void info_commandstats(struct server *s, struct sbuf *b)
{
	size_t i;

	for (i = 0; i <= s->ncmds; i++) {
		const struct server_cmd_stats *st = &s->cmds[i].st;
		double per_call = st->timed ? (double)st->nsec / 1000.0 / (double)st->timed : 0.0;

		if (!st->calls && !st->rejected)
			continue;
		sbuf_printf(b,
			    "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%"
			    "llu\r\n",
			    i == s->ncmds ? "unknown" : s->cmds[i].name,
			    (unsigned long long)st->calls,
			    /* usec is estimated from the timed sample */
			    (unsigned long long)(per_call * (double)st->calls), per_call,
			    (unsigned long long)st->rejected);
	}
}

static void info_errorstats(struct server *s, struct sbuf *b)
{
	int k;

	for (k = 0; k < SERVER_ERR__MAX; k++)
		if (s->st.errors[k])
			sbuf_printf(b, "errorstat_%s:count=%llu\r\n", server_err_kind_name(k),
				    (unsigned long long)s->st.errors[k]);
}

static void info_persistence(struct server *s, struct sbuf *b)
{
	(void)s;
	/* ioredis' ready check waits while loading is not 0 */
	sbuf_puts(b, "loading:0\r\n");
}

enum { SEC_DEFAULT = 1, SEC_ALL = 2 };

static const struct {
	const char *name, *title;
	void (*fn)(struct server *s, struct sbuf *b);
	int in; /* SEC_DEFAULT: in INFO and INFO all; SEC_ALL: only INFO all */
} builtin_sections[] = {
	{ "server", "Server", info_server, SEC_DEFAULT },
	{ "clients", "Clients", info_clients, SEC_DEFAULT },
	{ "persistence", "Persistence", info_persistence, SEC_DEFAULT },
	{ "stats", "Stats", info_stats, SEC_DEFAULT },
	{ "commandstats", "Commandstats", info_commandstats, SEC_ALL },
	{ "errorstats", "Errorstats", info_errorstats, SEC_ALL },
};

static bool wanted(int argc, const struct resp_arg *argv, const char *name, int in)
{
	int i;

	if (argc == 1)
		return in == SEC_DEFAULT;
	for (i = 1; i < argc; i++) {
		if (resp_arg_is(&argv[i], name) || resp_arg_is(&argv[i], "all") ||
		    resp_arg_is(&argv[i], "everything"))
			return true;
		if (resp_arg_is(&argv[i], "default") && in == SEC_DEFAULT)
			return true;
	}
	return false;
}

static void section_header(struct sbuf *b, const char *title, bool *first)
{
	if (!*first)
		sbuf_append(b, "\r\n", 2);
	*first = false;
	sbuf_printf(b, "# %c%s\r\n", toupper((unsigned char)title[0]), title + 1);
}

void info_cmd(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct server *s = c->srv;
	struct sbuf *b = server_scratch_begin(s);
	bool first = true;
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(builtin_sections) / sizeof(builtin_sections[0]); i++) {
		if (!wanted(argc, argv, builtin_sections[i].name, builtin_sections[i].in))
			continue;
		section_header(b, builtin_sections[i].title, &first);
		builtin_sections[i].fn(s, b);
	}
	for (i = 0; i < s->nsections; i++) {
		if (!wanted(argc, argv, s->sections[i].name, SEC_DEFAULT))
			continue;
		section_header(b, s->sections[i].name, &first);
		s->sections[i].fn(b, s->sections[i].ctx);
	}
	server_reply_scratch(c);
}

int server_info_add_section(struct server *s, const char *name, server_info_fn fn, void *ctx)
{
	struct info_section *sec;
	size_t n = name ? strlen(name) : 0, i;

	if (!fn || n == 0 || n >= sizeof(sec->name))
		return -EINVAL;
	for (i = 0; i < sizeof(builtin_sections) / sizeof(builtin_sections[0]); i++)
		if (!strcasecmp(builtin_sections[i].name, name))
			return -EEXIST;
	for (i = 0; i < s->nsections; i++)
		if (!strcasecmp(s->sections[i].name, name))
			return -EEXIST;
	if (s->nsections == MAX_INFO_SECTIONS)
		return -ENOSPC;
	sec = &s->sections[s->nsections++];
	for (i = 0; i <= n; i++)
		sec->name[i] = (char)tolower((unsigned char)name[i]);
	sec->fn = fn;
	sec->ctx = ctx;
	return 0;
}
