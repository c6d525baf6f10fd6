/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * reply: the agent's replies as floodctl prints them (table cells, JSON
 * values, "name value" lines, a one-line OK) and the checks that a reply has
 * the shape a command expects. The int functions return a floodctl exit
 * status (cmdline.h).
 */
#ifndef FG_CLI_REPLY_H
#define FG_CLI_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "rpc.h"
#include "table.h"

/* 3725 -> "1h 2m", 600 -> "10m", a negative count -> "forever". */
void reply_fmt_duration(char *buf, size_t len, long long s);

/* Send argv and take the reply. An error reply or a failed connection is
 * printed and gives EXIT_ERROR (and *out NULL); else *out is the reply (free it). */
int reply_call(struct rpc *r, redisReply **out, int argc, const char **argv);

/* An error reply whose text holds what. */
bool reply_is_err_containing(const redisReply *rep, const char *what);
/* A string or status reply; one equal to s. */
bool reply_is_str(const redisReply *e);
bool reply_str_eq(const redisReply *e, const char *s);
/* An integer reply, or a string holding one. */
bool reply_ll(const redisReply *e, long long *v);

/* Say that cmd's reply has an unexpected shape (version mismatch). Returns EXIT_ERROR. */
int reply_unexpected(const char *cmd, const redisReply *rep);

/* Any reply as a JSON value (numbers: strings holding numbers become numbers). */
void reply_json(struct json *j, const redisReply *e, bool numbers);
/* Any reply as a table cell. */
void reply_cell(struct table *t, const redisReply *e);

/* A fixed-shape array reply as "name value" lines or a JSON object with names. */
int reply_print_fields(const char *cmd, const redisReply *rep, const char *const *names, size_t n,
		       bool json);
/* A reply of OK: the printf line for people, {"ok":true} for programs. */
int reply_print_ok(const char *cmd, const redisReply *rep, bool json, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* In a flat field/value array (a RESP2 map), the value of name; NULL if absent. */
const redisReply *reply_field(const redisReply *rep, const char *name);

#endif /* FG_CLI_REPLY_H */
