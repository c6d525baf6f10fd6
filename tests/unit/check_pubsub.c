// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Pub/sub on the socket server, byte for byte as Redis answers: SUBSCRIBE,
 * PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE in RESP2 and RESP3, messages and
 * pattern messages, PING and the command rule of RESP2 subscribed mode,
 * RESET, the per-client bounds, a backed-up subscriber, and MULTI/EXEC
 * refused. A real libuv loop and a real Unix socket, run in this thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "glob.h"
#include "server.h"

static uv_loop_t loop;
static struct server *srv;
static char dir[64], path[100];
static int t_calls;
static struct deferred *parked; /* the reply T.LATER deferred */

/* stands for an RL.* command answered later (the Redis store) */
static void cmd_later(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	parked = client_defer(c);
}

/* stands for an RL.* command: counts its runs */
static void cmd_t(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	t_calls++;
	reply_ok(c);
}

static void setup(void)
{
	struct fg_conf_socket conf = { .mode = 0600 };

	snprintf(dir, sizeof(dir), "/tmp/fg-check-pubsub.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fg.sock", dir);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	srv = server_new(&loop, &conf, path);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(server_register(srv, "RL.T", cmd_t, 1, 0, NULL), 0);
	ck_assert_int_eq(server_register(srv, "T.LATER", cmd_later, 1, 0, NULL), 0);
	ck_assert_int_eq(server_listen(srv), 0);
	t_calls = 0;
}

static void teardown(void)
{
	server_close(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	server_free(srv);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	rmdir(dir);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	uv_run(&loop, UV_RUN_NOWAIT); /* accept */
	return fd;
}

static void say(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Run the loop and read until want bytes came or 1 s passed. */
static size_t hear(int fd, char *buf, size_t cap, size_t want)
{
	uint64_t end = now_ms() + 1000;
	size_t got = 0;
	ssize_t n;

	while (got < want && now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		else
			usleep(200);
	}
	buf[got] = '\0';
	return got;
}

static void expect(int fd, const char *want)
{
	char buf[8192];

	hear(fd, buf, sizeof(buf), strlen(want));
	ck_assert_str_eq(buf, want);
}

/* Nothing more arrives within 50 ms. */
static void expect_nothing(int fd)
{
	char buf[256];
	uint64_t end = now_ms() + 50;
	ssize_t n;

	while (now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			ck_abort_msg("unexpected: %s", buf);
		}
		usleep(500);
	}
}

static const char *const chans[] = { "violations", "violations:signaling" };

static struct server_pub_result publish_with(const char *payload, size_t max_pending)
{
	struct server_msg m = {
		.channels = chans,
		.nchannels = 2,
		.payload = payload,
		.len = strlen(payload),
		.max_pending = max_pending,
	};
	struct server_pub_result r;

	server_publish(srv, &m, &r);
	return r;
}

static void publish(const char *payload)
{
	publish_with(payload, 1u << 20);
	server_pubsub_flush(srv);
}

START_TEST(test_resp2_subscribe_message_unsubscribe)
{
	int fd = dial();

	say(fd, "SUBSCRIBE violations other\r\n");
	expect(fd, "*3\r\n$9\r\nsubscribe\r\n$10\r\nviolations\r\n:1\r\n"
		   "*3\r\n$9\r\nsubscribe\r\n$5\r\nother\r\n:2\r\n");
	ck_assert_uint_eq(server_subscribers(srv), 1);
	publish("{\"x\":1}");
	expect(fd, "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$7\r\n{\"x\":1}\r\n");
	/* subscribing again changes nothing but answers */
	say(fd, "SUBSCRIBE violations\r\n");
	expect(fd, "*3\r\n$9\r\nsubscribe\r\n$10\r\nviolations\r\n:2\r\n");
	say(fd, "PSUBSCRIBE violations:* v?olations\r\n");
	expect(fd, "*3\r\n$10\r\npsubscribe\r\n$12\r\nviolations:*\r\n:3\r\n"
		   "*3\r\n$10\r\npsubscribe\r\n$10\r\nv?olations\r\n:4\r\n");
	/* the channel's message, then each matching pattern's, per channel */
	publish("p");
	expect(fd, "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$1\r\np\r\n"
		   "*4\r\n$8\r\npmessage\r\n$10\r\nv?olations\r\n$10\r\nviolations\r\n$1\r\np\r\n"
		   "*4\r\n$8\r\npmessage\r\n$12\r\nviolations:*\r\n$20\r\nviolations:signaling\r\n"
		   "$1\r\np\r\n");
	say(fd, "UNSUBSCRIBE nope\r\n");
	expect(fd, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnope\r\n:4\r\n");
	say(fd, "UNSUBSCRIBE\r\n");
	expect(fd, "*3\r\n$11\r\nunsubscribe\r\n$10\r\nviolations\r\n:3\r\n"
		   "*3\r\n$11\r\nunsubscribe\r\n$5\r\nother\r\n:2\r\n");
	say(fd, "PUNSUBSCRIBE v?olations\r\n");
	expect(fd, "*3\r\n$12\r\npunsubscribe\r\n$10\r\nv?olations\r\n:1\r\n");
	say(fd, "PUNSUBSCRIBE\r\n");
	expect(fd, "*3\r\n$12\r\npunsubscribe\r\n$12\r\nviolations:*\r\n:0\r\n");
	ck_assert_uint_eq(server_subscribers(srv), 0);
	/* none left: one reply with a null name */
	say(fd, "UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\n");
	expect(fd, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
		   "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
	/* out of subscribed mode: commands and PING as usual, no messages */
	publish("q");
	say(fd, "PING\r\nRL.T\r\n");
	expect(fd, "+PONG\r\n+OK\r\n");
	expect_nothing(fd);
	close(fd);
}
END_TEST

START_TEST(test_resp2_subscribed_mode)
{
	int fd = dial();

	say(fd, "SUBSCRIBE violations\r\n");
	expect(fd, "*3\r\n$9\r\nsubscribe\r\n$10\r\nviolations\r\n:1\r\n");
	say(fd, "PING\r\nPING hi\r\n");
	expect(fd, "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
	say(fd, "RL.T\r\nECHO x\r\n");
	expect(fd, "-ERR Can't execute 'rl.t': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
		   "QUIT / RESET are allowed in this context\r\n"
		   "-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
		   "QUIT / RESET are allowed in this context\r\n");
	ck_assert_int_eq(t_calls, 0);
	/* XDP.WATCH's alias would be allowed too; RESET leaves the mode silently */
	say(fd, "RESET\r\nRL.T\r\n");
	expect(fd, "+RESET\r\n+OK\r\n");
	ck_assert_uint_eq(server_subscribers(srv), 0);
	publish("gone");
	expect_nothing(fd);
	say(fd, "PSUBSCRIBE *\r\nQUIT\r\n");
	expect(fd, "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n+OK\r\n");
	close(fd);
}
END_TEST

START_TEST(test_resp3_pushes)
{
	char buf[2048];
	size_t n = 0;
	int fd = dial();

	say(fd, "HELLO 3\r\n");
	/* the map, which ends with its empty "modules" array */
	while (n < 4 || strcmp(buf + n - 4, "*0\r\n"))
		ck_assert_uint_gt(n += hear(fd, buf + n, sizeof(buf) - n, 1), 0);
	say(fd, "SUBSCRIBE violations:signaling\r\n");
	expect(fd, ">3\r\n$9\r\nsubscribe\r\n$20\r\nviolations:signaling\r\n:1\r\n");
	/* RESP3 tells pushes from replies: every command works */
	say(fd, "RL.T\r\nPING\r\n");
	expect(fd, "+OK\r\n+PONG\r\n");
	publish("e");
	expect(fd, ">3\r\n$7\r\nmessage\r\n$20\r\nviolations:signaling\r\n$1\r\ne\r\n");
	say(fd, "PSUBSCRIBE *:signal*\r\n");
	expect(fd, ">3\r\n$10\r\npsubscribe\r\n$9\r\n*:signal*\r\n:2\r\n");
	publish("f");
	expect(fd, ">3\r\n$7\r\nmessage\r\n$20\r\nviolations:signaling\r\n$1\r\nf\r\n"
		   ">4\r\n$8\r\npmessage\r\n$9\r\n*:signal*\r\n$20\r\nviolations:signaling\r\n"
		   "$1\r\nf\r\n");
	say(fd, "UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\n");
	expect(fd, ">3\r\n$11\r\nunsubscribe\r\n$20\r\nviolations:signaling\r\n:1\r\n"
		   ">3\r\n$12\r\npunsubscribe\r\n$9\r\n*:signal*\r\n:0\r\n"
		   ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
	close(fd);
}
END_TEST

START_TEST(test_limits)
{
	char cmd[SERVER_MAX_CHANNELS * 8 + 64], longpat[SERVER_MAX_CHANNEL_LEN + 2];
	int fd = dial(), i, n;

	n = snprintf(cmd, sizeof(cmd), "SUBSCRIBE");
	for (i = 0; i <= SERVER_MAX_CHANNELS; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " c%d", i);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, "\r\n");
	say(fd, cmd);
	expect(fd, "-ERR too many channels: a client may subscribe to at most 64 channels (it has "
		   "0): nothing subscribed (floodgate's limit, docs/api.md)\r\n");
	ck_assert_uint_eq(server_subscribers(srv), 0);
	/* 64 fit; one more does not, and the refusal changes nothing */
	cmd[n] = '\0';
	*strrchr(cmd, ' ') = '\0';
	strcat(cmd, "\r\n");
	say(fd, cmd);
	for (i = 0; i < SERVER_MAX_CHANNELS; i++) {
		char want[64], got[64];

		snprintf(want, sizeof(want), "*3\r\n$9\r\nsubscribe\r\n$%d\r\nc%d\r\n:%d\r\n",
			 i < 10 ? 2 : 3, i, i + 1);
		hear(fd, got, strlen(want) + 1, strlen(want));
		ck_assert_str_eq(got, want);
	}
	say(fd, "SUBSCRIBE c1 c64\r\n");
	expect(fd, "-ERR too many channels: a client may subscribe to at most 64 channels (it has "
		   "64): nothing subscribed (floodgate's limit, docs/api.md)\r\n");
	say(fd, "SUBSCRIBE c1 c1\r\n"); /* nothing new: fine at the limit */
	expect(fd, "*3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:64\r\n"
		   "*3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:64\r\n");
	memset(longpat, 'a', sizeof(longpat) - 1);
	longpat[sizeof(longpat) - 1] = '\0';
	snprintf(cmd, sizeof(cmd), "PSUBSCRIBE %s\r\n", longpat);
	say(fd, cmd);
	expect(fd, "-ERR pattern longer than 256 bytes: nothing subscribed (floodgate's limit, "
		   "docs/api.md)\r\n");
	close(fd);
	/* a connection that goes takes its subscriptions */
	for (i = 0; i < 20 && server_subscribers(srv); i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_uint_eq(server_subscribers(srv), 0);
}
END_TEST

/* Linked with -Wl,--wrap=glob_match: counts the pattern matches pubsub.c does. */
static unsigned long glob_calls;
bool __real_glob_match(const char *pat, size_t plen, const char *s, size_t slen);
bool __wrap_glob_match(const char *pat, size_t plen, const char *s, size_t slen);
bool __wrap_glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	glob_calls++;
	return __real_glob_match(pat, plen, s, slen);
}

/*
 * A pattern is matched against a channel once, not once per message: 64
 * costly patterns held by each of a few hundred clients would otherwise
 * stall the loop on every violation event (tens of us per match).
 */
START_TEST(test_pattern_matched_once_per_channel)
{
	char cmd[SERVER_MAX_PATTERNS * 40 + 64], got[SERVER_MAX_PATTERNS * 64], want[4096];
	int fd = dial(), i, n;

	n = snprintf(cmd, sizeof(cmd), "PSUBSCRIBE");
	for (i = 0; i < SERVER_MAX_PATTERNS - 1; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " *[a-z]*[a-z]*[a-z]*x%d", i);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " violations:sig*\r\n");
	say(fd, cmd);
	/* the replies (their bytes are tested above), up to the 64th */
	n = 0;
	while (!memmem(got, (size_t)n, ":64\r\n", 5) && n < (int)sizeof(got) - 1) {
		size_t k = hear(fd, got + n, sizeof(got) - (size_t)n, 1);

		ck_assert_uint_gt(k, 0);
		n += (int)k;
	}
	expect_nothing(fd);
	glob_calls = 0;
	for (i = 0; i < 50; i++)
		publish("e");
	/* each message: one pmessage, from the one pattern that matches */
	want[0] = '\0';
	for (i = 0; i < 50; i++)
		strcat(want, "*4\r\n$8\r\npmessage\r\n$15\r\nviolations:sig*\r\n"
			     "$20\r\nviolations:signaling\r\n$1\r\ne\r\n");
	expect(fd, want);
	ck_assert_uint_le(glob_calls, 2 * SERVER_MAX_PATTERNS);
	close(fd);
}
END_TEST

/* More channels than ids are remembered: the table starts over, no answer goes stale. */
START_TEST(test_many_channels_match_right)
{
	static char buf[1 << 16];
	char name[16];
	const char *one[1] = { name };
	struct server_msg m = {
		.channels = one, .nchannels = 1, .payload = "e", .len = 1, .max_pending = 1u << 20
	};
	int fd = dial(), round, i;
	size_t got = 0, k;
	const char *p;
	unsigned hits = 0;

	say(fd, "PSUBSCRIBE c1*\r\n");
	expect(fd, "*3\r\n$10\r\npsubscribe\r\n$3\r\nc1*\r\n:1\r\n");
	for (round = 0; round < 2; round++)
		for (i = 0; i < 200; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			server_publish(srv, &m, NULL);
		}
	server_pubsub_flush(srv);
	/* c1, c10..c19, c100..c199 match: 111 a round */
	while ((k = hear(fd, buf + got, sizeof(buf) - got, 1)) > 0)
		got += k;
	for (p = buf; (p = strstr(p, "pmessage")); p++)
		hits++;
	ck_assert_uint_eq(hits, 2 * 111);
	close(fd);
}
END_TEST

static size_t with_missed(char *buf, size_t cap, uint64_t missed, void *arg)
{
	(void)arg;
	return (size_t)snprintf(buf, cap, "missed=%llu", (unsigned long long)missed);
}

START_TEST(test_backed_up_subscriber_misses)
{
	struct server_msg m = { .channels = chans,
				.nchannels = 1,
				.payload = "x",
				.len = 1,
				.max_pending = 0,
				.missed_fmt = with_missed };
	struct server_pub_result r;
	int fd = dial();

	say(fd, "SUBSCRIBE violations\r\n");
	expect(fd, "*3\r\n$9\r\nsubscribe\r\n$10\r\nviolations\r\n:1\r\n");
	/* not flushed between them: the first is pending when the next comes */
	server_publish(srv, &m, &r);
	ck_assert_uint_eq(r.delivered, 1);
	server_publish(srv, &m, &r);
	ck_assert_uint_eq(r.missed, 1);
	server_publish(srv, &m, &r);
	ck_assert_uint_eq(r.missed, 1);
	server_pubsub_flush(srv);
	expect(fd, "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$1\r\nx\r\n");
	server_publish(srv, &m, &r);
	ck_assert_uint_eq(r.delivered, 1);
	server_pubsub_flush(srv);
	expect(fd, "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$8\r\nmissed=2\r\n");
	close(fd);
}
END_TEST

/* A message never overtakes a reply the client is still owed: RESP2 could
 * not tell them apart. */
START_TEST(test_message_waits_for_deferred_reply)
{
	struct client *c;
	int fd = dial();

	say(fd, "T.LATER\r\nSUBSCRIBE violations\r\n");
	expect_nothing(fd);
	ck_assert_ptr_nonnull(parked);
	publish("m1");
	expect_nothing(fd);
	c = deferred_begin(parked);
	ck_assert_ptr_nonnull(c);
	reply_cstr(c, "later");
	deferred_end(parked);
	publish("m2");
	expect(fd, "$5\r\nlater\r\n*3\r\n$9\r\nsubscribe\r\n$10\r\nviolations\r\n:1\r\n"
		   "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$2\r\nm1\r\n"
		   "*3\r\n$7\r\nmessage\r\n$10\r\nviolations\r\n$2\r\nm2\r\n");
	close(fd);
}
END_TEST

START_TEST(test_multi_refused)
{
	int fd = dial();

	say(fd, "EXEC\r\nDISCARD\r\nUNWATCH\r\nWATCH k\r\n");
	expect(fd,
	       "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n"
	       "-ERR WATCH is not supported by floodgate: there are no transactions (see MULTI) "
	       "and no Redis keys to watch\r\n");
	/* node-redis .multi().exec(): MULTI, the commands, EXEC in one write */
	say(fd, "MULTI\r\nRL.T\r\nMULTI\r\nEXEC\r\nRL.T\r\n");
	expect(fd, "-ERR MULTI is not supported by floodgate: each RL.* command is already "
		   "atomic; send the commands without MULTI (pipelining works). Commands up to "
		   "EXEC or DISCARD are refused\r\n"
		   "-ERR not run: MULTI is not supported by floodgate (each RL.* command is "
		   "already atomic: send the commands without MULTI); EXEC or DISCARD ends the "
		   "refused transaction\r\n"
		   "-ERR MULTI calls can not be nested\r\n"
		   "-EXECABORT Transaction discarded: MULTI is not supported by floodgate; send "
		   "the commands without MULTI (pipelining works)\r\n"
		   "+OK\r\n");
	ck_assert_int_eq(t_calls, 1); /* only the one after EXEC ran */
	say(fd, "MULTI\r\nDISCARD\r\nRL.T\r\n");
	expect(fd, "-ERR MULTI is not supported by floodgate: each RL.* command is already "
		   "atomic; send the commands without MULTI (pipelining works). Commands up to "
		   "EXEC or DISCARD are refused\r\n+OK\r\n+OK\r\n");
	ck_assert_int_eq(t_calls, 2);
	close(fd);
}
END_TEST

static Suite *pubsub_suite(void)
{
	Suite *s = suite_create("pubsub");
	TCase *tc = tcase_create("socket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_resp2_subscribe_message_unsubscribe);
	tcase_add_test(tc, test_resp2_subscribed_mode);
	tcase_add_test(tc, test_resp3_pushes);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_backed_up_subscriber_misses);
	tcase_add_test(tc, test_message_waits_for_deferred_reply);
	tcase_add_test(tc, test_multi_refused);
	tcase_add_test(tc, test_pattern_matched_once_per_channel);
	tcase_add_test(tc, test_many_channels_match_right);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pubsub_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
