/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* commands: RL.*, XDP.* and CONFIG on the agent's socket (docs/api.md). */
#ifndef FG_COMMANDS_H
#define FG_COMMANDS_H

struct agent;
struct server;

/* Register every product command and the INFO xdp/policies sections on s;
 * handlers use a (which must outlive s). Returns 0 or -errno. */
int commands_register(struct server *s, struct agent *a);

#endif /* FG_COMMANDS_H */
