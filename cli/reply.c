// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * reply: the agent's replies as floodctl prints them: as table cells, JSON
 * values, "name value" lines or a one-line OK, and the checks that a reply
 * has the shape a command expects.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "reply.h"

/* 3725 -> "1h 2m", 600 -> "10m": the two largest units, a zero second one left out. */
void reply_fmt_duration(char *buf, size_t len, long long s)
{
	static const struct {
		long long secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;

	if (s < 0) {
		snprintf(buf, len, "forever");
		return;
	}
	for (i = 0; i < 3 && s < units[i].secs; i++)
		;
	if (i == 3 || !(s % units[i].secs / units[i + 1].secs))
		snprintf(buf, len, "%lld%c", s / units[i].secs, units[i].unit);
	else
		snprintf(buf, len, "%lld%c %lld%c", s / units[i].secs, units[i].unit,
			 s % units[i].secs / units[i + 1].secs, units[i + 1].unit);
}

/*
 * Send argv and take the reply. An error reply or a failed connection is
 * printed and gives EXIT_ERROR (and *out NULL); else *out is the reply.
 */
int reply_call(struct rpc *r, redisReply **out, int argc, const char **argv)
{
	redisReply *rep = rpc_call(r, argc, argv, NULL);

	*out = NULL;
	if (!rep)
		return EXIT_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		rpc_print_error(rep);
		freeReplyObject(rep);
		return EXIT_ERROR;
	}
	*out = rep;
	return EXIT_OK;
}

bool reply_is_err_containing(const redisReply *rep, const char *what)
{
	return rep->type == REDIS_REPLY_ERROR && memmem(rep->str, rep->len, what, strlen(what));
}

bool reply_is_str(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS;
}

bool reply_str_eq(const redisReply *e, const char *s)
{
	return reply_is_str(e) && e->len == strlen(s) && !memcmp(e->str, s, e->len);
}

/* An integer reply, or a string holding one (RESP2 doubles and maps of
 * strings). */
bool reply_ll(const redisReply *e, long long *v)
{
	char buf[32], *end;

	if (e->type == REDIS_REPLY_INTEGER) {
		*v = e->integer;
		return true;
	}
	if (!reply_is_str(e) || !e->len || e->len >= sizeof(buf))
		return false;
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return !errno && !*end;
}

int reply_unexpected(const char *cmd, const redisReply *rep)
{
	fprintf(stderr,
		"floodctl: unexpected reply to %s (type %d): is floodgated the same version as "
		"floodctl?\n",
		cmd, rep ? rep->type : -1);
	return EXIT_ERROR;
}

/* Any reply as a JSON value; strings that are numbers stay strings unless
 * numbers is set. */
void reply_json(struct json *j, const redisReply *e, bool numbers)
{
	long long v;
	size_t i;

	switch (e->type) {
	case REDIS_REPLY_INTEGER:
		json_int(j, e->integer);
		break;
	case REDIS_REPLY_NIL:
		json_null(j);
		break;
	case REDIS_REPLY_ARRAY:
		json_arr_begin(j);
		for (i = 0; i < e->elements; i++)
			reply_json(j, e->element[i], numbers);
		json_arr_end(j);
		break;
	case REDIS_REPLY_ERROR:
		json_obj_begin(j);
		json_keyz(j, "error");
		json_str(j, e->str, e->len);
		json_obj_end(j);
		break;
	default:
		if (numbers && reply_ll(e, &v))
			json_int(j, v);
		else
			json_str(j, e->str, e->len);
	}
}

/* Any reply as a table cell. */
void reply_cell(struct table *t, const redisReply *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	switch (e->type) {
	case REDIS_REPLY_INTEGER:
		table_cell(t, "%lld", e->integer);
		return;
	case REDIS_REPLY_NIL:
		table_cell(t, "-");
		return;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		table_cell_bin(t, e->str, e->len);
		return;
	}
	/* A nested array: its JSON form is readable enough. */
	f = open_memstream(&buf, &len);
	if (f) {
		struct json j;

		json_init(&j, f);
		reply_json(&j, e, false);
		fclose(f);
	}
	table_cell_bin(t, buf ? buf : "?", buf ? len : 1);
	free(buf);
}

/*
 * A fixed-shape array reply (RL.CHECK and friends): as "name value" lines,
 * or a JSON object with those names.
 */
int reply_print_fields(const char *cmd, const redisReply *rep, const char *const *names, size_t n,
		       bool json)
{
	struct table t;
	struct json j;
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < n)
		return reply_unexpected(cmd, rep);
	if (json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (i = 0; i < n; i++) {
			json_keyz(&j, names[i]);
			reply_json(&j, rep->element[i], false);
		}
		json_obj_end(&j);
		json_end(&j);
		return EXIT_OK;
	}
	table_init(&t, 2, "ll", NULL);
	for (i = 0; i < n; i++) {
		table_cell(&t, "%s", names[i]);
		reply_cell(&t, rep->element[i]);
	}
	table_print(&t, stdout);
	table_free(&t);
	return EXIT_OK;
}

/* A reply of OK: a line for people, {"ok":true} for programs. */
int reply_print_ok(const char *cmd, const redisReply *rep, bool json, const char *fmt, ...)
{
	va_list ap;

	if (!reply_is_str(rep))
		return reply_unexpected(cmd, rep);
	if (json) {
		printf("{\"ok\":true}\n");
		return EXIT_OK;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return EXIT_OK;
}

/* In a flat field/value array (a RESP2 map), the value of name. */
const redisReply *reply_field(const redisReply *rep, const char *name)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < rep->elements; i += 2)
		if (reply_str_eq(rep->element[i], name))
			return rep->element[i + 1];
	return NULL;
}
