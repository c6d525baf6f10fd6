// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* floodctl's output modules: JSON escaping and nesting, table widths; its
 * connection to the agent when the agent turns it away. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "json.h"
#include "rpc.h"
#include "table.h"

/* Run fn on a memory stream and return what it wrote (free it). */
static char *capture(void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

struct str {
	const char *p;
	size_t len;
};

static void write_str(FILE *f, const void *arg)
{
	const struct str *s = arg;
	struct json j;

	json_init(&j, f);
	json_str(&j, s->p, s->len);
}

static const struct {
	struct str in;
	const char *out;
} escapes[] = {
	{ { "plain", 5 }, "\"plain\"" },
	{ { "q\"b\\", 4 }, "\"q\\\"b\\\\\"" },
	{ { "\n\r\t", 3 }, "\"\\n\\r\\t\"" },
	{ { "a\0b", 3 }, "\"a\\u0000b\"" },
	{ { "\x01\x1f\x7f", 3 }, "\"\\u0001\\u001f\\u007f\"" },
	{ { "caf\xc3\xa9", 5 }, "\"caf\xc3\xa9\"" }, /* valid UTF-8 passes */
	{ { "\xe2\x82\xac", 3 }, "\"\xe2\x82\xac\"" },
	{ { "\xf0\x9f\x98\x80", 4 }, "\"\xf0\x9f\x98\x80\"" },
	{ { "\xff", 1 }, "\"\\u00ff\"" },				   /* not UTF-8: escaped */
	{ { "\xc3", 1 }, "\"\\u00c3\"" },				   /* truncated sequence */
	{ { "\xc0\xaf", 2 }, "\"\\u00c0\\u00af\"" },			   /* overlong */
	{ { "\xed\xa0\x80", 3 }, "\"\\u00ed\\u00a0\\u0080\"" },		   /* surrogate */
	{ { "\xf4\x90\x80\x80", 4 }, "\"\\u00f4\\u0090\\u0080\\u0080\"" }, /* > U+10FFFF */
	{ { "", 0 }, "\"\"" },
};

START_TEST(test_escape)
{
	char *got = capture(write_str, &escapes[_i].in);

	ck_assert_str_eq(got, escapes[_i].out);
	free(got);
}
END_TEST

static void write_doc(FILE *f, const void *arg)
{
	struct json j;

	(void)arg;
	json_init(&j, f);
	json_obj_begin(&j);
	json_keyz(&j, "a");
	json_arr_begin(&j);
	json_int(&j, -1);
	json_uint(&j, 18446744073709551615ULL);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_null(&j);
	json_bool(&j, true);
	json_double(&j, 0.5);
	json_arr_end(&j);
	json_key(&j, "k\x01", 2);
	json_strz(&j, "v");
	json_obj_end(&j);
	json_end(&j);
	/* A second document after json_end starts without a comma. */
	json_arr_begin(&j);
	json_int(&j, 1);
	json_arr_end(&j);
	json_end(&j);
}

START_TEST(test_nesting)
{
	char *got = capture(write_doc, NULL);

	ck_assert_str_eq(got, "{\"a\":[-1,18446744073709551615,{},[],null,true,0.5],"
			      "\"k\\u0001\":\"v\"}\n[1]\n");
	free(got);
}
END_TEST

static void write_table(FILE *f, const void *arg)
{
	static const char *const hdr[] = { "NAME", "N", "NOTE" };
	struct table t;

	(void)arg;
	table_init(&t, 3, "lrl", hdr);
	table_cell(&t, "a");
	table_cell(&t, "%d", 12345);
	table_cell(&t, "x");
	table_cell(&t, "longer-name");
	table_cell(&t, "7");
	table_cell(&t, "%s", ""); /* trailing empty cell: no trailing spaces */
	table_cell_bin(&t, "b\x01\\", 3);
	table_cell(&t, "0");
	table_print(&t, f); /* the short last row is padded */
	table_free(&t);
}

START_TEST(test_table)
{
	char *got = capture(write_table, NULL);

	ck_assert_str_eq(got, "NAME             N  NOTE\n"
			      "a            12345  x\n"
			      "longer-name      7\n"
			      "b\\x01\\\\          0\n");
	free(got);
}
END_TEST

/*
 * An agent at its client limits writes one error line and closes the
 * connection before floodctl's request is written: floodctl must not die
 * of SIGPIPE, and says what the agent said. A plain close says so too.
 */
static char *refused_call(const char *greeting)
{
	char dir[] = "/tmp/fg-check-cli.XXXXXX", path[64], *out;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[] = { "XDP.BAN", "192.0.2.1", "60" };
	int lfd, cfd, errfd, saved;
	struct rpc r;
	long len;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(rpc_connect(&r, path), 0);
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	if (*greeting)
		ck_assert_int_eq(write(cfd, greeting, strlen(greeting)), (ssize_t)strlen(greeting));
	close(cfd);

	f = tmpfile();
	errfd = fileno(f);
	fflush(stderr);
	saved = dup(2);
	dup2(errfd, 2);
	ck_assert_ptr_null(rpc_call(&r, 3, argv, NULL));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rpc_close(&r);
	len = lseek(errfd, 0, SEEK_END);
	out = calloc(1, (size_t)len + 1);
	ck_assert_int_eq(pread(errfd, out, (size_t)len, 0), len);
	fclose(f);
	close(lfd);
	unlink(path);
	rmdir(dir);
	return out;
}

START_TEST(test_refused)
{
	char *got = refused_call("-ERR max clients per uid reached (3): uid 65534 has 3 "
				 "connections\r\n");

	ck_assert_msg(strstr(got, "the agent refused the connection: ERR max clients per uid "
				  "reached (3): uid 65534 has 3 connections\n"),
		      "%s", got);
	free(got);
	got = refused_call("");
	ck_assert_msg(strstr(got, "connection closed by agent during XDP.BAN"), "%s", got);
	free(got);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_loop_test(tc, test_escape, 0, sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
