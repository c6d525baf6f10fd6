// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* log: the line format (escaping, both formats) and the
 * violation line budget of events (clock injected, stderr captured). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <check.h>

#include "cidr.h"
#include "events.h"
#include "log.h"

#define TS 1795638160616LL /* 2026-11-25T20:22:40.616Z */

static char line[1024];

static const char *fmt(enum fg_log_format f, const char *msg, const struct log_field *fl, size_t n)
{
	log_format_line(line, sizeof(line), f, TS, FG_LOG_INFO, msg, fl, n);
	return line;
}

START_TEST(test_logfmt)
{
	const struct log_field f[] = {
		LOG_STR("iface", "veth-a"),
		LOG_INT("n", -3),
		LOG_UINT("u", 7),
		LOG_BOOL("ok", 1),
		LOG_STR("empty", ""),
		LOG_STR("sp", "a b"),
		LOG_STR("q", "say \"hi\"\\"),
		LOG_STR("nl", "a\nb\x01"),
		LOG_STR("bad", "\xff"),
		LOG_STR("level", "x"),
	};

	ck_assert_str_eq(fmt(FG_LOG_LOGFMT, "attached to veth-a", f, 1),
			 "ts=2026-11-25T20:22:40.616Z level=info msg=\"attached to veth-a\" "
			 "iface=veth-a\n");
	ck_assert_str_eq(fmt(FG_LOG_LOGFMT, "m", f, 10),
			 "ts=2026-11-25T20:22:40.616Z level=info msg=m iface=veth-a n=-3 u=7 "
			 "ok=true empty=\"\" sp=\"a b\" q=\"say \\\"hi\\\"\\\\\" "
			 "nl=\"a\\nb\\u0001\" bad=\"\\u00ff\" _level=x\n");
	ck_assert_str_eq(fmt(FG_LOG_LOGFMT, "k=v", NULL, 0),
			 "ts=2026-11-25T20:22:40.616Z level=info msg=\"k=v\"\n");
	ck_assert_str_eq(fmt(FG_LOG_LOGFMT, "café", NULL, 0),
			 "ts=2026-11-25T20:22:40.616Z level=info msg=café\n");
}
END_TEST

START_TEST(test_json)
{
	const struct log_field f[] = { LOG_STR("q", "say \"hi\"\\\n"), LOG_INT("n", 5),
				       LOG_BOOL("b", 0), LOG_STR("bad", "a\xc3") };

	ck_assert_str_eq(fmt(FG_LOG_JSON, "m \"x\"", f, 4),
			 "{\"ts\":\"2026-11-25T20:22:40.616Z\",\"level\":\"info\",\"msg\":\"m "
			 "\\\"x\\\"\",\"q\":\"say \\\"hi\\\"\\\\\\n\",\"n\":5,\"b\":false,"
			 "\"bad\":\"a\\u00c3\"}\n");
}
END_TEST

START_TEST(test_truncated_buffer)
{
	char small[16];
	size_t need =
		log_format_line(small, sizeof(small), FG_LOG_LOGFMT, TS, FG_LOG_WARN, "m", NULL, 0);

	ck_assert_uint_eq(need, strlen("ts=2026-11-25T20:22:40.616Z level=warn msg=m\n"));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

/* Run fn with stderr going to a file; returns what was written (malloc'd). */
static char *captured(void (*fn)(void *), void *arg)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	long n;
	char *out;

	ck_assert(f && saved >= 0);
	dup2(fileno(f), 2);
	fn(arg);
	dup2(saved, 2);
	close(saved);
	n = ftell(f);
	out = calloc(1, (size_t)n + 1);
	rewind(f);
	ck_assert_int_eq(fread(out, 1, (size_t)n, f), n);
	fclose(f);
	return out;
}

static int count(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)); text++)
		n++;
	return n;
}

static struct fg_event ev_of(int i)
{
	struct fg_event e = { 0 };

	e.src.family = FG_AF_INET;
	e.src.prefixlen = 32;
	e.src.addr[0] = htobe32(0xcb007100u | (uint32_t)i); /* 203.0.113.i */
	e.level = 0;
	e.new_flows = 10 + (uint64_t)i;
	e.dropped = (uint64_t)i;
	return e;
}

#define S 1000000000ULL

static void flood(void *arg)
{
	struct events *ev = arg;
	struct fg_event e;
	int i, round;

	/* 0 s: 10 sources seen first; 3 lines, 7 suppressed. */
	for (i = 0; i < 10; i++) {
		e = ev_of(i);
		events_handle(ev, &e, 100 + (uint64_t)i);
	}
	events_flush(ev, 1 * S + 200);
	/* 2..9 s: all of them again every second: no line until the interval ends */
	for (round = 2; round < 10; round++)
		for (i = 0; i < 10; i++) {
			e = ev_of(i);
			events_handle(ev, &e, (uint64_t)round * S + 300 + (uint64_t)i);
		}
	/* 10 s: the summaries, the worst first, 3 of them; then the report. */
	events_flush(ev, 10 * S + 400);
	events_flush(ev, 11 * S + 500);
}

START_TEST(test_violation_budget)
{
	struct events ev;
	char *out;

	log_set_format(FG_LOG_LOGFMT);
	ck_assert_int_eq(events_open(&ev, -1, NULL, 3), 0);
	events_set_limits(&ev, 3, 10000);
	ev.window_start_ns = ev.interval_start_ns = 0;
	out = captured(flood, &ev);
	ck_assert_int_eq(count(out, "msg=violation "), 6);
	ck_assert_int_eq(count(out, "report=first events=1\n"), 3);
	ck_assert_int_eq(count(out, "report=interval events=8\n"), 3);
	/* the interval's lines are the sources with the most drops */
	ck_assert_msg(strstr(out, "source=203.0.113.9 rule=? scope=address reason="), "%s", out);
	ck_assert_int_eq(count(out, "msg=\"violation lines suppressed\" suppressed=7 "), 2);
	ck_assert_uint_eq(ev.suppressed_total, 14);
	ck_assert_uint_eq(ev.total, 90);
	ck_assert_uint_eq(ev.nsrc, 10);
	free(out);
	events_close(&ev);
}
END_TEST

static void overflow(void *arg)
{
	struct events *ev = arg;
	struct fg_event e;
	int i;

	for (i = 0; i < EVENTS_MAX_SOURCES + 5; i++) {
		e = ev_of(0);
		e.src.addr[0] = htobe32(0x0a000000u + (uint32_t)i);
		events_handle(ev, &e, 10);
	}
	events_flush(ev, S + 20);
}

START_TEST(test_table_bounded)
{
	struct events ev;
	char *out;

	ck_assert_int_eq(events_open(&ev, -1, NULL, 1), 0);
	ev.window_start_ns = ev.interval_start_ns = 0;
	out = captured(overflow, &ev);
	ck_assert_uint_eq(ev.nsrc, EVENTS_MAX_SOURCES);
	ck_assert_uint_eq(ev.untracked_total, 5);
	ck_assert_ptr_nonnull(strstr(out, "suppressed=4095 untracked=5 "));
	free(out);
	events_close(&ev);
}
END_TEST

static libbpf_print_fn_t libbpf_cb;

static void libbpf_say(enum libbpf_print_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	libbpf_cb(level, fmt, ap);
	va_end(ap);
}

static void libbpf_lines(void *arg)
{
	(void)arg;
	libbpf_say(LIBBPF_WARN, "prog '%s': BPF program load failed\n0: R1=ctx\n", "xdp_main");
	libbpf_say(LIBBPF_INFO, "libbpf info %d\n", 1);
	libbpf_say(LIBBPF_DEBUG, "libbpf debug %d\n", 1);
	log_set_level(FG_LOG_DEBUG);
	libbpf_say(LIBBPF_INFO, "libbpf info %d\n", 2);
	libbpf_say(LIBBPF_DEBUG, "libbpf debug %d\n", 2);
	log_set_level(FG_LOG_WARN);
	libbpf_say(LIBBPF_WARN, "libbpf warn %d\n", 3);
	log_set_level(FG_LOG_INFO);
}

/* libbpf's output: one level lower, one log line per line of its text (the
 * verifier log), src=libbpf; its debug output only when asked for. */
START_TEST(test_libbpf)
{
	char *out;

	log_set_format(FG_LOG_LOGFMT);
	log_setup_libbpf(false);
	libbpf_cb = libbpf_set_print(NULL);
	libbpf_set_print(libbpf_cb);
	ck_assert_ptr_nonnull(libbpf_cb);
	out = captured(libbpf_lines, NULL);
	ck_assert_msg(strstr(out, " level=info msg=\"prog 'xdp_main': BPF program load failed\" "
				  "src=libbpf\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, " level=info msg=\"0: R1=ctx\" src=libbpf\n"), "%s", out);
	ck_assert_msg(strstr(out, " level=debug msg=\"libbpf info 2\" src=libbpf\n"), "%s", out);
	ck_assert_int_eq(count(out, "\n"), 3);
	free(out);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_logfmt);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_truncated_buffer);
	tcase_add_test(tc, test_violation_budget);
	tcase_add_test(tc, test_table_bounded);
	tcase_add_test(tc, test_libbpf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
