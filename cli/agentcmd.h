/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * agentcmd: floodctl status and reload. Each prints its own output and
 * messages and returns a floodctl exit status (cmdline.h).
 */
#ifndef FG_CLI_AGENTCMD_H
#define FG_CLI_AGENTCMD_H

#include "cmdline.h"

/* INFO all: a summary of the agent for people, every section for --json. */
int agentcmd_status(struct rpc *r, const struct cmdline_args *a);
/* CONFIG RELOAD. */
int agentcmd_reload(struct rpc *r, const struct cmdline_args *a);

#endif /* FG_CLI_AGENTCMD_H */
