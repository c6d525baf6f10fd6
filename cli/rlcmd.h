/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * rlcmd: floodctl's application-limit commands. Each prints the decision
 * and returns a floodctl exit status (cmdline.h): 1 when it says no.
 */
#ifndef FG_CLI_RLCMD_H
#define FG_CLI_RLCMD_H

#include "cmdline.h"

int rlcmd_check(struct rpc *r, const struct cmdline_args *a);	   /* RL.CHECK */
int rlcmd_auth_fail(struct rpc *r, const struct cmdline_args *a);  /* RL.AUTH.FAIL */
int rlcmd_auth_check(struct rpc *r, const struct cmdline_args *a); /* RL.AUTH.CHECK */
int rlcmd_auth_ok(struct rpc *r, const struct cmdline_args *a);	   /* RL.AUTH.OK */
int rlcmd_event(struct rpc *r, const struct cmdline_args *a);	   /* RL.EVENT */

#endif /* FG_CLI_RLCMD_H */
