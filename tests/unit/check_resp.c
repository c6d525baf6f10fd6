// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "resp.h"
#include "sbuf.h"

#define MAXA 16

struct req {
	int argc;
	size_t len[MAXA];
	char arg[MAXA][64];
};

static void save(struct req *r, int argc, const struct resp_arg *argv)
{
	int i;

	r->argc = argc;
	for (i = 0; i < argc && i < MAXA; i++) {
		ck_assert_uint_lt(argv[i].len, sizeof(r->arg[i]));
		memcpy(r->arg[i], argv[i].ptr, argv[i].len);
		r->arg[i][argv[i].len] = '\0';
		r->len[i] = argv[i].len;
	}
}

/* Feed the whole input at once; parse every request; return how many. */
static int parse_all(const char *in, size_t n, struct req *out, int max, int *status)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	char *buf = malloc(n + 1);
	size_t off = 0, used;
	int argc, k = 0, r = RESP_AGAIN;

	memcpy(buf, in, n);
	resp_parser_init(&p);
	while (off < n) {
		r = resp_parse(&p, buf + off, n - off, &used, &argc, &argv);
		if (r != RESP_DONE)
			break;
		ck_assert_int_lt(k, max);
		save(&out[k++], argc, argv);
		off += used;
	}
	*status = off == n ? RESP_DONE : r;
	resp_parser_free(&p);
	free(buf);
	return k;
}

/*
 * Feed one byte at a time the way the server does: bytes accumulate in a
 * buffer that moves (realloc to a fresh block each time), the request start
 * stays at its front, consumed bytes are dropped.
 */
static int parse_bytewise(const char *in, size_t n, struct req *out, int max)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	char *buf = NULL;
	size_t have = 0, i, used;
	int argc, k = 0, r;

	resp_parser_init(&p);
	for (i = 0; i < n; i++) {
		char *nb = malloc(have + 1);

		if (have)
			memcpy(nb, buf, have);
		memset(buf ? buf : nb, 'Z', buf ? have : 0); /* stale copies must not be read */
		free(buf);
		buf = nb;
		buf[have++] = in[i];
		for (;;) {
			r = resp_parse(&p, buf, have, &used, &argc, &argv);
			ck_assert_int_ge(r, 0);
			if (r == RESP_AGAIN)
				break;
			ck_assert_int_lt(k, max);
			save(&out[k++], argc, argv);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (!have)
				break;
		}
	}
	ck_assert_uint_eq(have, 0);
	ck_assert(!resp_parser_pending(&p));
	resp_parser_free(&p);
	free(buf);
	return k;
}

static const char pipeline[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
			       "PING\r\n"
			       "*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\0c\r\n"
			       "\r\n"
			       "*0\r\n"
			       "echo \"x y\"\n"
			       "*1\r\n$0\r\n\r\n";

static void check_pipeline(struct req *r, int n)
{
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(r[0].argc, 3);
	ck_assert_str_eq(r[0].arg[0], "SET");
	ck_assert_str_eq(r[0].arg[1], "k");
	ck_assert_str_eq(r[0].arg[2], "hello");
	ck_assert_int_eq(r[1].argc, 1);
	ck_assert_str_eq(r[1].arg[0], "PING");
	ck_assert_int_eq(r[2].argc, 2);
	ck_assert_uint_eq(r[2].len[1], 6);
	ck_assert_mem_eq(r[2].arg[1], "a\r\nb\0c", 6);
	ck_assert_int_eq(r[3].argc, 0); /* blank inline line: skipped */
	ck_assert_int_eq(r[4].argc, 0); /* *0: skipped */
	ck_assert_int_eq(r[5].argc, 2);
	ck_assert_str_eq(r[5].arg[1], "x y");
	ck_assert_int_eq(r[6].argc, 1);
	ck_assert_uint_eq(r[6].len[0], 0);
}

START_TEST(test_pipeline_at_once)
{
	struct req r[10];
	int st, n;

	n = parse_all(pipeline, sizeof(pipeline) - 1, r, 10, &st);
	ck_assert_int_eq(st, RESP_DONE);
	check_pipeline(r, n);
}
END_TEST

START_TEST(test_pipeline_bytewise)
{
	struct req r[10];

	check_pipeline(r, parse_bytewise(pipeline, sizeof(pipeline) - 1, r, 10));
}
END_TEST

START_TEST(test_incomplete_waits)
{
	static const char *const partial[] = {
		"*",
		"*2",
		"*2\r",
		"*2\r\n$",
		"*2\r\n$3\r\nGET\r\n$3\r\nab",
		"*2\r\n$3\r\nGET\r\n$3\r\nabc",
		"*2\r\n$3\r\nGET\r\n$3\r\nabc\r",
		"PING",
		"PING\r",
		"SET \"a b",
	};
	struct resp_parser p;
	const struct resp_arg *argv;
	char buf[64];
	size_t used, i;
	int argc;

	for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		resp_parser_init(&p);
		snprintf(buf, sizeof(buf), "%s", partial[i]);
		ck_assert_msg(resp_parse(&p, buf, strlen(buf), &used, &argc, &argv) == RESP_AGAIN,
			      "%s", partial[i]);
		ck_assert(resp_parser_pending(&p));
		resp_parser_free(&p);
	}
}
END_TEST

START_TEST(test_inline_quoting)
{
	static const char in[] = "  SET  k  \"a b\\x41\\n\\\"\" 'it\\'s' \"\"\r\n";
	struct req r[2];
	int st;

	ck_assert_int_eq(parse_all(in, sizeof(in) - 1, r, 2, &st), 1);
	ck_assert_int_eq(st, RESP_DONE);
	ck_assert_int_eq(r[0].argc, 5);
	ck_assert_str_eq(r[0].arg[0], "SET");
	ck_assert_str_eq(r[0].arg[1], "k");
	ck_assert_str_eq(r[0].arg[2], "a bA\n\"");
	ck_assert_str_eq(r[0].arg[3], "it's");
	ck_assert_uint_eq(r[0].len[4], 0);
}
END_TEST

static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	int status;
	const char *msg; /* substring of errmsg */
} bad[] = {
	{ "*-1\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*1048577\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*abc\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*+1\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*1\r\n$-1\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$x\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$99999999999999999999999\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$1048577\r\n", 0, RESP_ETOOBIG, "invalid bulk length" },
	/* 2^64 and 2^64+1 wrap to 0 and 1 when overflow is checked after v*10+d */
	{ "*1\r\n$18446744073709551616\r\n\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$18446744073709551617\r\nx\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$9223372036854775808\r\n", 0, RESP_EPROTO, "invalid bulk length" },
	{ "*1\r\n$9223372036854775807\r\n", 0, RESP_ETOOBIG, "invalid bulk length" },
	{ "*18446744073709551616\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*18446744073709551617\r\n$1\r\nx\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*99999999999999999999\r\n", 0, RESP_EPROTO, "invalid multibulk length" },
	{ "*2\r\n$1048000\r\n", 0, RESP_AGAIN, NULL },
	{ "*1\r\n:1\r\n", 0, RESP_EPROTO, "expected '$', got ':'" },
	{ "*1\r\n$3\r\nabcd\r\n", 0, RESP_EPROTO, "after a bulk string" },
	{ "*1\rX", 0, RESP_EPROTO, "expected '\\n'" },
	{ "SET \"a\"b\r\n", 0, RESP_EPROTO, "unbalanced quotes" },
	{ "SET \"ab\r\n", 0, RESP_EPROTO, "unbalanced quotes" },
	{ "SET 'ab\r\n", 0, RESP_EPROTO, "unbalanced quotes" },
};

START_TEST(test_bad_input)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	size_t n = bad[_i].len ? bad[_i].len : strlen(bad[_i].in), used;
	char *buf = malloc(n);
	int argc, r;

	memcpy(buf, bad[_i].in, n);
	resp_parser_init(&p);
	r = resp_parse(&p, buf, n, &used, &argc, &argv);
	ck_assert_msg(r == bad[_i].status, "%s: got %d", bad[_i].in, r);
	if (bad[_i].msg) {
		ck_assert_ptr_nonnull(p.errmsg);
		ck_assert_msg(strstr(p.errmsg, bad[_i].msg), "%s: %s", bad[_i].in, p.errmsg);
		ck_assert(!strncmp(p.errmsg, "Protocol error: ", 16));
	}
	resp_parser_free(&p);
	free(buf);
}
END_TEST

/* A request whose parts are each legal but whose total passes 1 MiB. */
START_TEST(test_request_too_big)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	struct sbuf b = SBUF_INIT;
	size_t used;
	int argc, r = RESP_AGAIN, i;

	resp_parser_init(&p);
	sbuf_puts(&b, "*100\r\n");
	for (i = 0; i < 99 && r == RESP_AGAIN; i++) {
		sbuf_puts(&b, "$20000\r\n");
		sbuf_reserve(&b, 20002);
		memset(b.data + b.len, 'a', 20000);
		b.len += 20000;
		sbuf_puts(&b, "\r\n");
		r = resp_parse(&p, b.data, b.len, &used, &argc, &argv);
	}
	ck_assert_int_eq(r, RESP_ETOOBIG);
	ck_assert_str_eq(p.errmsg, "Protocol error: request too big");
	ck_assert_uint_le(b.len, RESP_MAX_REQUEST + 20010);
	resp_parser_free(&p);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_inline_too_big)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	size_t n = RESP_MAX_INLINE + 10, used;
	char *buf = malloc(n);
	int argc;

	memset(buf, 'a', n);
	resp_parser_init(&p);
	ck_assert_int_eq(resp_parse(&p, buf, n, &used, &argc, &argv), RESP_ETOOBIG);
	ck_assert_str_eq(p.errmsg, "Protocol error: too big inline request");
	/* and a multibulk count line that never ends */
	buf[0] = '*';
	memset(buf + 1, '1', n - 1);
	resp_parser_free(&p);
	resp_parser_init(&p);
	ck_assert_int_eq(resp_parse(&p, buf, n, &used, &argc, &argv), RESP_ETOOBIG);
	resp_parser_free(&p);
	free(buf);
}
END_TEST

/* The largest argument allowed parses, binary bytes included. */
START_TEST(test_max_bulk)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	struct sbuf b = SBUF_INIT;
	size_t used, big = RESP_MAX_REQUEST - 64;
	int argc;

	sbuf_printf(&b, "*2\r\n$3\r\nSET\r\n$%zu\r\n", big);
	sbuf_reserve(&b, big + 2);
	memset(b.data + b.len, '\r', big);
	b.len += big;
	sbuf_puts(&b, "\r\n");
	resp_parser_init(&p);
	ck_assert_int_eq(resp_parse(&p, b.data, b.len, &used, &argc, &argv), RESP_DONE);
	ck_assert_int_eq(argc, 2);
	ck_assert_uint_eq(argv[1].len, big);
	ck_assert_uint_eq(used, b.len);
	resp_parser_free(&p);
	sbuf_free(&b);
}
END_TEST

/* Many small arguments: the argv array grows, and shrinks back after. */
START_TEST(test_many_args)
{
	struct resp_parser p;
	const struct resp_arg *argv;
	struct sbuf b = SBUF_INIT;
	size_t used;
	int argc, i;

	sbuf_puts(&b, "*5000\r\n");
	for (i = 0; i < 5000; i++)
		sbuf_printf(&b, "$%d\r\n%d\r\n", i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : 4, i);
	resp_parser_init(&p);
	ck_assert_int_eq(resp_parse(&p, b.data, b.len, &used, &argc, &argv), RESP_DONE);
	ck_assert_int_eq(argc, 5000);
	ck_assert_int_eq(atoi(argv[4321].ptr), 4321);
	sbuf_clear(&b);
	sbuf_puts(&b, "PING\r\n");
	ck_assert_int_eq(resp_parse(&p, b.data, b.len, &used, &argc, &argv), RESP_DONE);
	ck_assert_int_le(p.argcap, 1024);
	resp_parser_free(&p);
	sbuf_free(&b);
}
END_TEST

/* --- replies --------------------------------------------------------------- */

#define W(expr, want)                                                                              \
	do {                                                                                       \
		sbuf_clear(&b);                                                                    \
		expr;                                                                              \
		ck_assert_uint_eq(b.len, sizeof(want) - 1);                                        \
		ck_assert_mem_eq(b.data, want, sizeof(want) - 1);                                  \
	} while (0)

START_TEST(test_replies)
{
	struct sbuf b = SBUF_INIT;

	W(resp_w_simple(&b, "OK"), "+OK\r\n");
	W(resp_w_simple(&b, "a\r\nb"), "+a  b\r\n");
	W(resp_w_error(&b, "ERR bad\nthing"), "-ERR bad thing\r\n");
	W(resp_w_int(&b, 0), ":0\r\n");
	W(resp_w_int(&b, -42), ":-42\r\n");
	W(resp_w_int(&b, LLONG_MIN), ":-9223372036854775808\r\n");
	W(resp_w_int(&b, LLONG_MAX), ":9223372036854775807\r\n");
	W(resp_w_bulk(&b, "a\r\n\0", 4), "$4\r\na\r\n\0\r\n");
	W(resp_w_bulk(&b, "", 0), "$0\r\n\r\n");
	W(resp_w_array(&b, 7), "*7\r\n");
	W(resp_w_null(&b, 2), "$-1\r\n");
	W(resp_w_null(&b, 3), "_\r\n");
	W(resp_w_null_array(&b, 2), "*-1\r\n");
	W(resp_w_null_array(&b, 3), "_\r\n");
	W(resp_w_map(&b, 2, 3), "*6\r\n");
	W(resp_w_map(&b, 3, 3), "%3\r\n");
	W(resp_w_set(&b, 2, 2), "*2\r\n");
	W(resp_w_set(&b, 3, 2), "~2\r\n");
	W(resp_w_push(&b, 2, 3), "*3\r\n");
	W(resp_w_push(&b, 3, 3), ">3\r\n");
	W(resp_w_double(&b, 3, 1.5), ",1.5\r\n");
	W(resp_w_double(&b, 2, 1.5), "$3\r\n1.5\r\n");
	W(resp_w_double(&b, 3, INFINITY), ",inf\r\n");
	W(resp_w_double(&b, 3, -INFINITY), ",-inf\r\n");
	W(resp_w_double(&b, 2, 0.1), "$19\r\n0.10000000000000001\r\n");
	W(resp_w_bool(&b, 3, true), "#t\r\n");
	W(resp_w_bool(&b, 2, false), ":0\r\n");
	W(resp_w_verbatim(&b, 3, "txt", "a:b", 3), "=7\r\ntxt:a:b\r\n");
	W(resp_w_verbatim(&b, 2, "txt", "a:b", 3), "$3\r\na:b\r\n");
	ck_assert(!sbuf_failed(&b));
	sbuf_free(&b);
}
END_TEST

START_TEST(test_sbuf)
{
	struct sbuf b = SBUF_INIT;
	char num[24];
	int i;

	for (i = 0; i < 1000; i++)
		sbuf_put_ll(&b, i % 2 ? -i : i);
	ck_assert_uint_gt(b.cap, b.len);
	ck_assert_int_eq(b.data[b.len], '\0');
	sbuf_clear(&b);
	sbuf_printf(&b, "%s:%d\r\n", "a", 1);
	sbuf_printf(&b, "%0300d", 7); /* longer than the first reserve */
	ck_assert_uint_eq(b.len, 5 + 300);
	sbuf_consume(&b, 5);
	ck_assert_uint_eq(b.len, 300);
	ck_assert_int_eq(b.data[299], '7');
	sbuf_free(&b);
	num[sbuf_fmt_ll(num, 100)] = '\0';
	ck_assert_str_eq(num, "100");
	num[sbuf_fmt_ll(num, 9)] = '\0';
	ck_assert_str_eq(num, "9");
	num[sbuf_fmt_ll(num, -10)] = '\0';
	ck_assert_str_eq(num, "-10");
}
END_TEST

static Suite *resp_suite(void)
{
	Suite *s = suite_create("resp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pipeline_at_once);
	tcase_add_test(tc, test_pipeline_bytewise);
	tcase_add_test(tc, test_incomplete_waits);
	tcase_add_test(tc, test_inline_quoting);
	tcase_add_loop_test(tc, test_bad_input, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_request_too_big);
	tcase_add_test(tc, test_inline_too_big);
	tcase_add_test(tc, test_max_bulk);
	tcase_add_test(tc, test_many_args);
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_sbuf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
