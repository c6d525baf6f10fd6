/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xdpcmd: floodctl's XDP commands over the socket (xdpcmd_*) and on the
 * pinned maps (xdpcmd_pin_*, floodctl -p). Each prints its own output and
 * messages and returns a floodctl exit status (cmdline.h): 1 for "not
 * tracked", "not banned", "already listed".
 */
#ifndef FG_CLI_XDPCMD_H
#define FG_CLI_XDPCMD_H

#include "cmdline.h"

int xdpcmd_top(struct rpc *r, const struct cmdline_args *a);   /* --watch: live_top() */
int xdpcmd_watch(struct rpc *r, const struct cmdline_args *a); /* live_watch() */
int xdpcmd_source(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_verified(struct rpc *r, const struct cmdline_args *a);
/* XDP.VOUCH / XDP.UNVOUCH; a refusal is an answer (exit 1), not a failure. */
int xdpcmd_vouch(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_unvouch(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_stats(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_ban(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_unban(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_allow(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_deny(struct rpc *r, const struct cmdline_args *a);
int xdpcmd_list(struct rpc *r, const struct cmdline_args *a);

int xdpcmd_pin_stats(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_rules(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_count(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_source(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_verified(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_list(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_ban(struct xdpmaps *m, const struct cmdline_args *a);
int xdpcmd_pin_unban(struct xdpmaps *m, const struct cmdline_args *a);

#endif /* FG_CLI_XDPCMD_H */
