/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * conncmds: the connection commands every Redis client library expects —
 * PING, ECHO, HELLO (RESP2/3), AUTH (the socket's permissions are the
 * authentication: only the default user, any password), CLIENT (ID, SETNAME,
 * GETNAME, SETINFO, INFO, LIST, NO-EVICT/NO-TOUCH, HELP), INFO (info.h),
 * SELECT (db 0 only), QUIT, RESET and COMMAND (COUNT, LIST, INFO, DOCS).
 * They are registered through server_register() like the product commands
 * (RL.*, XDP.*, CONFIG), by server_new(), before any module's: a module
 * cannot take their names. They are part of the socket server and read its
 * insides (server_int.h).
 */
#ifndef FG_CONNCMDS_H
#define FG_CONNCMDS_H

struct server;

/* Register the connection commands on s. Returns 0 or -errno of
 * server_register(). */
int conncmds_register(struct server *s);

#endif /* FG_CONNCMDS_H */
