// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* floodctl's output modules: JSON escaping and nesting, table widths; its
 * connection to the agent when the agent turns it away; its command line:
 * parsing, did-you-mean, and --help, the usage lines and the man page
 * naming the same commands and options. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "cmdline.h"
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

/* --- the command line --------------------------------------------------------------- */

/* Parse a command line given as one string of words; *ret the exit status. */
static const struct cmdline_command *parse(const char *line, struct cmdline_args *a, int *ret)
{
	static char buf[256];
	char *argv[16], *save = NULL, *w;
	int argc = 0;
	const struct cmdline_command *c;
	FILE *err = stderr, *out = stdout;

	snprintf(buf, sizeof(buf), "floodctl %s", line);
	for (w = strtok_r(buf, " ", &save); w && argc < 15; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(a, 0, sizeof(*a));
	stderr = fopen("/dev/null", "w"); /* the usage messages and --help */
	stdout = stderr;
	c = cmdline_parse(argc, argv, a, ret);
	fclose(stderr);
	stderr = err;
	stdout = out;
	return c;
}

/* Command lines floodctl refuses. */
static const char *const bad_lines[] = {
	"",
	"frobnicate",
	"ban",
	"ban 192.0.2.1 x",
	"ban 192.0.2.1 --for soon",
	"top -n 0",
	"top --by age",
	"top --interval 1",
	"status --del",
	"-n 3 top",
	"--for 1m ban",
	"check api k --cost -1",
	"list bans --frob",
};

START_TEST(test_parse)
{
	struct cmdline_args a;
	size_t i;
	int ret;

	ck_assert_ptr_eq(parse("-s /x ban 192.0.2.1 --for 90s", &a, &ret),
			 cmdline_find_command("ban"));
	ck_assert_str_eq(a.sock, "/x");
	ck_assert_str_eq(a.pos[0], "192.0.2.1");
	ck_assert_uint_eq(a.for_s, 90);
	ck_assert_ptr_nonnull(parse("top --watch -n 5 --by drops --interval 0.5 --json", &a, &ret));
	ck_assert(a.watch && a.by_drops && a.json);
	ck_assert_int_eq(a.n, 5);
	ck_assert(a.given & O_N);
	ck_assert_ptr_nonnull(parse("check api -- -k", &a, &ret)); /* after --: an argument */
	ck_assert_str_eq(a.pos[1], "-k");
	ck_assert_ptr_null(parse("check api -- -k --cost 3", &a, &ret));
	ck_assert_ptr_nonnull(parse("check api k --cost 3 --peek", &a, &ret));
	ck_assert_str_eq(a.cost, "3");
	ck_assert(a.peek);
	/* Each refusal is exit 2. */
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		ck_assert_msg(!parse(bad_lines[i], &a, &ret), "'%s' parsed", bad_lines[i]);
		ck_assert_msg(ret == EXIT_ERROR, "'%s': exit %d", bad_lines[i], ret);
	}
	ck_assert(!parse("--help", &a, &ret) && ret == EXIT_OK);
	ck_assert(!parse("--version", &a, &ret) && ret == EXIT_OK);
	ck_assert(!parse("status -V", &a, &ret) && ret == EXIT_OK);
}
END_TEST

START_TEST(test_nearest)
{
	static const char *const names[] = { "status", "stats", "source", "watch", "auth-ok" };

	ck_assert_str_eq(cmdline_nearest("stat", names, 5), "stats");
	ck_assert_str_eq(cmdline_nearest("soruce", names, 5), "source");
	ck_assert_str_eq(cmdline_nearest("auth_ok", names, 5), "auth-ok");
	ck_assert_ptr_null(cmdline_nearest("frobnicate", names, 5));
	ck_assert_ptr_null(cmdline_nearest("w", names, 5)); /* too short to guess from */
}
END_TEST

#define MAX_NAMES 64

struct names {
	char *v[MAX_NAMES];
	int n;
};

static void names_add(struct names *s, const char *p, size_t len)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && !strncmp(s->v[i], p, len))
			return;
	ck_assert_int_lt(s->n, MAX_NAMES);
	s->v[s->n++] = strndup(p, len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The two sets as sorted text, "a b c", for a message that shows the difference. */
static void names_assert_eq(struct names *x, struct names *y, const char *what)
{
	char a[2048] = "", b[2048] = "";
	int i;

	qsort(x->v, x->n, sizeof(char *), cmp_str);
	qsort(y->v, y->n, sizeof(char *), cmp_str);
	for (i = 0; i < x->n; i++)
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "%s ", x->v[i]);
	for (i = 0; i < y->n; i++)
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "%s ", y->v[i]);
	ck_assert_msg(!strcmp(a, b), "%s differ:\n  %s\n  %s", what, a, b);
	for (i = 0; i < x->n; i++)
		free(x->v[i]);
	for (i = 0; i < y->n; i++)
		free(y->v[i]);
	x->n = y->n = 0;
}

/* Every option in text: "--name" and "-x" where a word starts. */
static void options_in(const char *text, struct names *s)
{
	const char *p;

	for (p = text; *p; p++) {
		bool start = p == text || strchr(" \t\n[(|,", p[-1]);

		if (!start || p[0] != '-')
			continue;
		if (p[1] == '-' && p[2] >= 'a' && p[2] <= 'z')
			names_add(s, p, 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-"));
		else if (p[1] >= 'a' && p[1] <= 'z' && !isalnum((unsigned char)p[2]) && p[2] != '-')
			names_add(s, p, 2);
	}
}

/* troff text as read: \- is -, font changes (\fB, \fR, \fP...) vanish. */
static void man_unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] == '-') {
			*o++ = '-';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'f' && s[2]) {
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

/* A font macro line (.B, .BR, .BI ...) as rendered: its arguments, quotes
 * dropped, run together (the alternating macros put no space between them). */
static void man_macro_text(const char *line, char *out, size_t len)
{
	const char *p = line + strcspn(line, " ");
	size_t n = 0;

	while (*p && n + 1 < len) {
		if (*p == '"') {
			for (p++; *p && *p != '"' && n + 1 < len; p++)
				out[n++] = *p;
			if (*p)
				p++;
		} else if (*p == ' ') {
			p++;
		} else {
			for (; *p && *p != ' ' && n + 1 < len; p++)
				out[n++] = *p;
		}
	}
	out[n] = '\0';
	man_unescape(out);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	ck_assert_msg(f, "cannot open %s (run from the top of the tree)", path);
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void write_usage(FILE *f, const void *arg)
{
	(void)arg;
	cmdline_usage(f);
}

/* floodctl --help and docs/man/floodctl.8 name the same commands and options. */
START_TEST(test_help_matches_man)
{
	char *help = capture(write_usage, NULL), *man = slurp("docs/man/floodctl.8");
	char *line, *save = NULL, *text;
	struct names h = { 0 }, m = { 0 };
	bool in_commands = false, heading = false;
	size_t i;

	/* Options. */
	options_in(help, &h);
	text = strdup(man);
	man_unescape(text);
	options_in(text, &m);
	free(text);
	names_assert_eq(&h, &m, "options in --help and in floodctl.8");

	/* Commands: --help's entries (two spaces, a name) before "options:"... */
	text = strdup(help);
	for (line = strtok_r(text, "\n", &save); line && strcmp(line, "options:");
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "  ", 2) && line[2] >= 'a' && line[2] <= 'z')
			names_add(&h, line + 2, strcspn(line + 2, " "));
	free(text);
	/* ...and the .TP headings of the man page's COMMANDS, where ", " parts name more than
	 * one ("stats, rules, count"). */
	save = NULL;
	for (line = strtok_r(man, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char out[512], *part;

		if (!strncmp(line, ".SH", 3))
			in_commands = !strcmp(line, ".SH COMMANDS");
		if (!in_commands)
			continue;
		if (!strcmp(line, ".TP")) {
			heading = true;
			continue;
		}
		if (!heading)
			continue;
		heading = false;
		man_macro_text(line, out, sizeof(out));
		for (part = out; part; part = strstr(part, ", ")) {
			part += strspn(part, ", ");
			names_add(&m, part, strcspn(part, " ,"));
		}
	}
	names_assert_eq(&h, &m, "commands in --help and in floodctl.8");

	/* Every command's usage lines name exactly the options it takes. */
	for (i = 0; i < commands_count; i++) {
		const struct cmdline_command *c = &commands_all[i];
		char want[512] = "";
		size_t k;

		for (k = 0; k < cmdline_noptions; k++) {
			const struct cmdline_option *o = &cmdline_options[k];

			if (o->bit & c->opts)
				snprintf(want + strlen(want), sizeof(want) - strlen(want),
					 o->name ? "--%s " : "-%.0s%c ", o->name ? o->name : "",
					 o->short_name);
		}
		options_in(c->synopsis, &h);
		options_in(want, &m);
		names_assert_eq(&h, &m, c->synopsis);
		if (c->help_synopsis) {
			options_in(c->help_synopsis, &h);
			options_in(want, &m);
			names_assert_eq(&h, &m, c->help_synopsis);
		}
	}
	free(help);
	free(man);
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
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_nearest);
	tcase_add_test(tc, test_help_matches_man);
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
