// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <floodgate/paths.h>

#include "rpc.h"

/*
 * hiredis 0.14 reports a failed connect() only as strerror(errno) in
 * errstr; recover the errno to explain it.
 */
static int rpc_errno_of(const char *errstr)
{
	static const int known[] = { ENOENT,	 EACCES,   EPERM,	ECONNREFUSED,
				     ENOTDIR,	 ENOTSOCK, EAGAIN,	ETIMEDOUT,
				     ECONNRESET, EPIPE,	   ENAMETOOLONG };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(errstr, strerror(known[i])))
			return known[i];
	return EIO;
}

/* Why the socket cannot be opened, and who may open it. */
static void rpc_explain_eacces(const char *path)
{
	struct stat st;
	struct group *gr;
	struct passwd *pw;
	char gname[64], uname[64];

	if (stat(path, &st)) {
		fprintf(stderr,
			"floodctl: cannot connect to %s: Permission denied — a directory on the "
			"path is not accessible to you; use sudo\n",
			path);
		return;
	}
	gr = getgrgid(st.st_gid);
	pw = getpwuid(st.st_uid);
	snprintf(gname, sizeof(gname), "%s", gr ? gr->gr_name : "");
	if (!gr)
		snprintf(gname, sizeof(gname), "%u", (unsigned)st.st_gid);
	snprintf(uname, sizeof(uname), "%s", pw ? pw->pw_name : "");
	if (!pw)
		snprintf(uname, sizeof(uname), "%u", (unsigned)st.st_uid);
	if ((st.st_mode & 0060) == 0060)
		fprintf(stderr,
			"floodctl: cannot connect to %s: Permission denied — the socket is mode "
			"%04o (owner %s, group %s): join group %s (usermod -aG %s $USER, then log "
			"in again) or use sudo\n",
			path, (unsigned)(st.st_mode & 07777), uname, gname, gname, gname);
	else
		fprintf(stderr,
			"floodctl: cannot connect to %s: Permission denied — the socket is mode "
			"%04o (owner %s): only its owner may connect; use sudo, or set "
			"socket.mode and socket.group in floodgated's config\n",
			path, (unsigned)(st.st_mode & 07777), uname);
}

int rpc_connect(struct rpc *r, const char *path)
{
	struct timeval tv = { RPC_CONNECT_TIMEOUT_MS / 1000, RPC_CONNECT_TIMEOUT_MS % 1000 * 1000 };
	struct sockaddr_un sa;
	int err;

	r->ctx = NULL;
	r->path = path;
	/* An agent that refuses us (max clients) or stops closes the socket:
	 * the write must fail with EPIPE and be explained, not kill us silently. */
	signal(SIGPIPE, SIG_IGN);
	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "floodctl: socket path '%s' is %s (at most %zu bytes)\n", path,
			*path ? "too long" : "empty", sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	r->ctx = redisConnectUnixWithTimeout(path, tv);
	if (!r->ctx) {
		fprintf(stderr, "floodctl: cannot connect to %s: out of memory\n", path);
		return -ENOMEM;
	}
	if (!r->ctx->err) {
		tv.tv_sec = RPC_REPLY_TIMEOUT_MS / 1000;
		tv.tv_usec = RPC_REPLY_TIMEOUT_MS % 1000 * 1000;
		if (redisSetTimeout(r->ctx, tv) == REDIS_OK)
			return 0;
	}
	err = rpc_errno_of(r->ctx->errstr);
	switch (err) {
	case ENOENT:
		fprintf(stderr,
			"floodctl: cannot connect to %s: %s — is floodgated running? "
			"(systemctl status floodgated, or give -s PATH)\n",
			path, strerror(err));
		break;
	case ECONNREFUSED:
		fprintf(stderr,
			"floodctl: cannot connect to %s: %s — nothing listens on it (a stale "
			"socket?): is floodgated running? (systemctl status floodgated, or give "
			"-s PATH)\n",
			path, strerror(err));
		break;
	case EACCES:
	case EPERM:
		rpc_explain_eacces(path);
		break;
	case ENOTSOCK:
		fprintf(stderr, "floodctl: cannot connect to %s: not a socket — give -s PATH\n",
			path);
		break;
	case EAGAIN:
	case ETIMEDOUT:
		fprintf(stderr,
			"floodctl: cannot connect to %s: no answer within %d ms — is floodgated "
			"overloaded or stopped?\n",
			path, RPC_CONNECT_TIMEOUT_MS);
		break;
	default:
		fprintf(stderr, "floodctl: cannot connect to %s: %s\n", path, r->ctx->errstr);
	}
	redisFree(r->ctx);
	r->ctx = NULL;
	return -err;
}

/*
 * An agent at its client limits answers a new connection with one error
 * line and closes it, often before our request is written (EPIPE): the
 * line is still waiting in our receive queue. Prints it and returns true.
 */
static bool rpc_print_refusal(struct rpc *r)
{
	char buf[512];
	ssize_t n;

	if (r->ctx->fd < 0)
		return false;
	n = recv(r->ctx->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 2 || buf[0] != '-')
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	fprintf(stderr, "floodctl: %s: the agent refused the connection: %s\n", r->path, buf + 1);
	return true;
}

redisReply *rpc_call(struct rpc *r, int argc, const char **argv, const size_t *argvlen)
{
	redisReply *reply = redisCommandArgv(r->ctx, argc, argv, argvlen);

	if (reply)
		return reply;
	if (rpc_print_refusal(r))
		return NULL;
	switch (r->ctx->err == REDIS_ERR_IO ? rpc_errno_of(r->ctx->errstr) : 0) {
	case EAGAIN:
	case ETIMEDOUT:
		fprintf(stderr, "floodctl: %s: no answer to %s within %d ms\n", r->path, argv[0],
			RPC_REPLY_TIMEOUT_MS);
		break;
	default:
		if (r->ctx->err == REDIS_ERR_EOF || r->ctx->err == REDIS_ERR_IO)
			fprintf(stderr,
				"floodctl: %s: connection closed by agent during %s (%s): did "
				"floodgated stop, or refuse clients? (see its log)\n",
				r->path, argv[0], r->ctx->errstr);
		else
			fprintf(stderr, "floodctl: %s: %s: %s\n", r->path, argv[0], r->ctx->errstr);
	}
	return NULL;
}

void rpc_print_error(const redisReply *reply)
{
	fprintf(stderr, "floodctl: %.*s\n", (int)reply->len, reply->str);
	/* The agent may already say who counts as admin. */
	if (reply->len >= 6 && !strncmp(reply->str, "NOPERM", 6) &&
	    !memmem(reply->str, reply->len, "admin_uids", 10))
		fprintf(stderr,
			"  admin commands need a uid in socket.admin_uids or a gid in\n"
			"  socket.admin_gids of floodgated's config (you are uid %u)%s\n",
			(unsigned)getuid(),
			getuid() ? ": use sudo, or ask for your uid to be added" : "");
}

void rpc_close(struct rpc *r)
{
	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
}

char *rpc_info(const char *path, const char *section)
{
	struct timeval tv = { .tv_sec = 2 };
	redisContext *c = redisConnectUnixWithTimeout(path ? path : FG_DEFAULT_SOCKET, tv);
	redisReply *r = NULL;
	char *text = NULL;

	signal(SIGPIPE, SIG_IGN); /* a closed connection is a failed answer */
	if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK)
		goto out;
	r = redisCommand(c, "INFO %s", section);
	if (r && r->type == REDIS_REPLY_STRING)
		text = strndup(r->str, r->len);
out:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return text;
}

bool rpc_info_get(const char *info, const char *field, char *out, size_t len)
{
	size_t flen = strlen(field), n;
	const char *v = info;

	/* at the start of a line: "field:" */
	while (v && (v = strstr(v, field))) {
		if ((v == info || v[-1] == '\n') && v[flen] == ':')
			break;
		v += flen;
	}
	if (!v)
		return false;
	v += flen + 1;
	n = strcspn(v, "\r\n");
	if (!n || n >= len)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

bool rpc_info_field(const char *path, const char *section, const char *field, char *out,
		    size_t len)
{
	char *info = rpc_info(path, section);
	bool ok = info && rpc_info_get(info, field, out, len);

	free(info);
	return ok;
}
