/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * rpc: floodctl's connection to floodgated's Unix socket, over hiredis's
 * synchronous client (RESP2; arguments are binary safe). Failures are
 * explained on stderr in operator terms: agent not running, socket not
 * accessible (and what to do), no answer, connection lost.
 */
#ifndef FG_CLI_RPC_H
#define FG_CLI_RPC_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#ifndef RPC_CONNECT_TIMEOUT_MS
#define RPC_CONNECT_TIMEOUT_MS 2000
#endif
#ifndef RPC_REPLY_TIMEOUT_MS
#define RPC_REPLY_TIMEOUT_MS 15000 /* CONFIG RELOAD may reload BPF state */
#endif

struct rpc {
	redisContext *ctx;
	const char *path; /* not copied */
};

/* Connect to path (SIGPIPE is ignored from then on: a closed connection is
 * an error to explain). Returns 0, or -errno after printing why and what to do. */
int rpc_connect(struct rpc *r, const char *path);

/*
 * Send one command (argv[i], lengths from strlen, or argvlen when not NULL)
 * and wait for its reply. Returns the reply (free with freeReplyObject()),
 * which may be an error reply; NULL after printing why the connection
 * failed (the agent's refusal when it turned the connection away).
 */
redisReply *rpc_call(struct rpc *r, int argc, const char **argv, const size_t *argvlen);

/* Print an error reply as "floodctl: <message>", with a hint for NOPERM. */
void rpc_print_error(const redisReply *reply);

void rpc_close(struct rpc *r);

/*
 * The agent's INFO section (e.g. "xdp") as text, malloc'd; NULL when the
 * agent at path (NULL: the default socket) cannot be asked. Silent: a
 * caller with a fallback asks this first.
 */
char *rpc_info(const char *path, const char *section);

/* The value of field in INFO text (from rpc_info()) into out: true when
 * it is there, non-empty, and fits. */
bool rpc_info_get(const char *info, const char *field, char *out, size_t len);

/* rpc_info_get() of one field of the agent's section, asked now. */
bool rpc_info_field(const char *path, const char *section, const char *field, char *out,
		    size_t len);

#endif /* FG_CLI_RPC_H */
