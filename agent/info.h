/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * info: the INFO command as redis clients read it — "# Section" headers and
 * "key:value\r\n" lines: the built-in sections server, clients, persistence
 * and stats (INFO, INFO default), commandstats and errorstats (INFO all /
 * everything, or by name), then the sections other modules added with
 * server_info_add_section() (server.h; implemented here). Registered among
 * the connection commands (conncmds.c); reads the server's insides
 * (server_int.h).
 */
#ifndef FG_INFO_H
#define FG_INFO_H

#include "resp.h"

struct client;

/* The INFO handler (server_cmd_fn). */
void info_cmd(struct client *c, int argc, const struct resp_arg *argv, void *ctx);

#endif /* FG_INFO_H */
