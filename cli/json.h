/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * json: a small streaming JSON writer for floodctl's --json output. It keeps
 * track of nesting and commas; strings are binary safe (valid UTF-8 passes
 * through, every other byte below 0x20, 0x7f or outside valid UTF-8 is
 * written as \u00XX), so keys and values from the agent always make valid
 * JSON.
 */
#ifndef FG_CLI_JSON_H
#define FG_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 32
#endif

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH]; /* a value was written at this level */
	bool after_key;			 /* the next value completes a "key": pair */
};

void json_init(struct json *j, FILE *f);
/* Containers. Past JSON_MAX_DEPTH levels commas are not tracked (no overflow). */
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* An object key (binary safe), then exactly one value. */
void json_key(struct json *j, const char *k, size_t len);
void json_keyz(struct json *j, const char *k); /* NUL-terminated */
void json_str(struct json *j, const char *s, size_t len);
void json_strz(struct json *j, const char *s);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* End of the document: a newline. */
void json_end(struct json *j);

#endif /* FG_CLI_JSON_H */
