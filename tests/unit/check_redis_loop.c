// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * redis_loop: what a faulty or hostile Redis may send on a connection. A
 * fake server (a child process on a Unix socket) answers one request with
 * the bytes a test gives it; the agent's side must drop the connection with
 * a clear error where hiredis 0.14 would abort the process (a reply no
 * request waits for, stop 35's trial) or allocate what a header announces,
 * and take large and subscribed replies as before.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "redis_loop.h"

static char dir[64], path[96];
static pid_t server;

/* Accept one connection, read a request, send reply[0..len), then keep the
 * connection open until the test ends it. */
static void serve(int lfd, const char *reply, size_t len)
{
	char req[4096];
	int c = accept(lfd, NULL, NULL);
	size_t off = 0;
	ssize_t n;

	if (c < 0 || read(c, req, sizeof(req)) <= 0)
		_exit(1);
	while (off < len) {
		n = write(c, reply + off, len - off);
		if (n <= 0)
			_exit(0); /* the agent's side dropped the connection */
		off += (size_t)n;
	}
	while (read(c, req, sizeof(req)) > 0)
		;
	_exit(0);
}

static void start_server(const char *reply, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int lfd;

	strcpy(dir, "/tmp/fgut-rloop.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	server = fork();
	ck_assert_int_ge(server, 0);
	if (!server)
		serve(lfd, reply, len);
	close(lfd);
}

static void stop_server(void)
{
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	unlink(path);
	rmdir(dir);
}

static uv_loop_t loop;
static int replies, last_elements, disconnected;
static char why[256];

static void on_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply *r = reply;

	(void)ac, (void)arg;
	if (!r)
		return; /* the connection went: the request is answered with nothing */
	replies++;
	last_elements = r->type == REDIS_REPLY_ARRAY ? (int)r->elements : -1;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	disconnected = status == REDIS_OK ? 1 : 2;
	snprintf(why, sizeof(why), "%s", ac->errstr);
}

/* Send cmd to the fake server; run the loop until the connection drops or
 * until want replies came and a little longer (a drop would follow them). */
static redisAsyncContext *exchange(const char *cmd, int want)
{
	redisAsyncContext *ac = redisAsyncConnectUnix(path);
	int i, after = 0;

	ck_assert_ptr_nonnull(ac);
	ck_assert_int_eq(ac->err, 0);
	ck_assert_int_eq(redis_loop_attach(ac, &loop), REDIS_OK);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	replies = disconnected = 0;
	last_elements = -1;
	why[0] = 0;
	ck_assert_int_eq(redisAsyncCommand(ac, on_reply, NULL, cmd), REDIS_OK);
	for (i = 0; i < 20000 && !disconnected && after < 50; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (replies >= want)
			after++;
		usleep(200);
	}
	return disconnected ? NULL : ac;
}

static void end(redisAsyncContext *ac)
{
	if (ac)
		redisAsyncFree(ac);
	uv_run(&loop, UV_RUN_NOWAIT);
	stop_server();
}

static void setup(void)
{
	ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void teardown(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

/* Two answers to one PING: hiredis 0.14 asserted and the agent aborted. */
START_TEST(test_reply_nobody_asked_for)
{
	static const char r[] = "+PONG\r\n+PONG\r\n";

	start_server(r, strlen(r));
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "a reply that no request waits for"), "%s", why);
}
END_TEST

/* 14 bytes that announce 500 million elements: 4 GB for hiredis. */
START_TEST(test_huge_array_header)
{
	static const char r[] = "*500000000\r\n";

	start_server(r, strlen(r));
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "more than 4194304 array elements"), "%s", why);
	ck_assert_int_eq(replies, 0);
}
END_TEST

/* Nested headers add up: each is under the bound, the reply is not. */
START_TEST(test_nested_arrays_add_up)
{
	static const char r[] = "*2\r\n*3000000\r\n:1\r\n*3000000\r\n";

	start_server(r, strlen(r));
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "array elements"), "%s", why);
}
END_TEST

/* A bulk of 500 MB: dropped once 4 MiB of it wait, not read whole. */
START_TEST(test_huge_bulk)
{
	size_t len = 6 << 20;
	char *r = malloc(len);
	int n;

	ck_assert_ptr_nonnull(r);
	n = sprintf(r, "$524288000\r\n");
	memset(r + n, 'x', len - n);
	start_server(r, len);
	free(r);
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "a reply item of more than 4194304 bytes"), "%s", why);
}
END_TEST

/* A bulk header alone that announces more than the bound: its bytes may
 * never come, so it is judged by the header (stop 35's re-trial: the
 * connection hung until the requests behind it timed out, the subscriber's
 * for good). Inside an array too. */
START_TEST(test_huge_bulk_header)
{
	static const char r[] = "*2\r\n:1\r\n$999999999\r\n";

	start_server(r, strlen(r));
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "a reply item of more than 4194304 bytes"), "%s", why);
}
END_TEST

/* A type byte RESP2 does not have: hiredis's own protocol error. */
START_TEST(test_unknown_type)
{
	static const char r[] = "%1\r\n";

	start_server(r, strlen(r));
	end(exchange("PING", 1));
	ck_assert_int_eq(disconnected, 2);
	ck_assert_msg(strstr(why, "Protocol error"), "%s", why);
}
END_TEST

/* A fleet set of 200,000 elements, read over many reads, arrives whole. */
START_TEST(test_large_reply_passes)
{
	size_t n = 200000, len = 16 + n * 4;
	char *r = malloc(len), *p = r;
	redisAsyncContext *ac;
	size_t i;

	ck_assert_ptr_nonnull(r);
	p += sprintf(p, "*%zu\r\n", n);
	for (i = 0; i < n; i++)
		p += sprintf(p, ":1\r\n");
	start_server(r, (size_t)(p - r));
	free(r);
	ac = exchange("ZRANGE k 0 -1", 1);
	ck_assert_ptr_nonnull(ac);
	ck_assert_int_eq(replies, 1);
	ck_assert_int_eq(last_elements, (int)n);
	end(ac);
}
END_TEST

/* A subscribed connection takes messages no request asked for. */
START_TEST(test_subscribed_messages_pass)
{
	static const char r[] = "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
				"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\na\r\n"
				"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nb\r\n";
	redisAsyncContext *ac;

	start_server(r, strlen(r));
	ac = exchange("SUBSCRIBE ch", 3);
	ck_assert_ptr_nonnull(ac);
	ck_assert_int_eq(replies, 3);
	end(ac);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("redis_loop");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reply_nobody_asked_for);
	tcase_add_test(tc, test_huge_array_header);
	tcase_add_test(tc, test_nested_arrays_add_up);
	tcase_add_test(tc, test_huge_bulk);
	tcase_add_test(tc, test_huge_bulk_header);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_large_reply_passes);
	tcase_add_test(tc, test_subscribed_messages_pass);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
