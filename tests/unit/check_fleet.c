// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * fleet: bans and vouches shared through a real redis-server (started here
 * on a Unix socket) with real (small) BPF maps, the agent's side driven on a
 * libuv loop in this thread and "another agent" played by a plain hiredis
 * connection that writes the shared sets and publishes on the channel.
 * Needs root or CAP_BPF (the maps) and redis-server; skips without them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <check.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "banguard.h"
#include "banmaps.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "redis.h"
#include "vouch.h"

#define NS 1000000000ULL

static uv_loop_t loop;
static pid_t redis_pid;
static char dir[64], sock[96];
static struct fg_conf conf;
static struct xdpmaps maps;
static struct banguard *guard;
static struct vouch *vouch;
static struct redis *r;
static struct fleet *f;
static redisContext *other; /* another agent: writes the sets, publishes */
static bool usable;

static void on_state(bool up, void *arg)
{
	if (up)
		fleet_redis_up(arg);
}

static bool maps_open(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	memset(&maps, 0xff, sizeof(maps));
	if (!banmaps_open(&maps, 64))
		return false;
	maps.deny = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_deny", sizeof(struct fg_lpm_key),
				   sizeof(__u32), 8, &o);
	maps.verified =
		bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "t_verified", sizeof(struct fg_src_key),
			       sizeof(struct fg_verified), 1024, NULL);
	return maps.deny >= 0 && maps.verified >= 0;
}

static void maps_close(void)
{
	banmaps_close(&maps);
	if (maps.deny >= 0)
		close(maps.deny);
	if (maps.verified >= 0)
		close(maps.verified);
}

static bool spawn_redis(void)
{
	int i;

	strcpy(dir, "/tmp/fgut-fleet.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/r.sock", dir);
	redis_pid = fork();
	if (!redis_pid) {
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
		       "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "/dev/null",
		       NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock, F_OK); i++)
		usleep(20000);
	return !access(sock, F_OK);
}

/* Run the loop until done() or ms passed; whether done() came true. */
static bool spin(bool (*done)(void), unsigned ms)
{
	uint64_t end = xdpmaps_now_ns() / 1000000 + ms;

	while (xdpmaps_now_ns() / 1000000 < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (done())
			return true;
		usleep(1000);
	}
	return done();
}

static bool subscribed(void)
{
	struct fleet_stats st;

	fleet_stats(f, &st);
	return st.subscribed;
}

static void setup(void)
{
	usable = false;
	if (!maps_open()) {
		fprintf(stderr, "check_fleet: cannot create BPF maps (%s): skipped\n",
			strerror(errno));
		maps_close();
		return;
	}
	if (!spawn_redis()) {
		fprintf(stderr, "check_fleet: redis-server did not start: skipped\n");
		maps_close();
		return;
	}
	config_defaults(&conf);
	conf.store.type = FG_STORE_REDIS;
	snprintf(conf.store.redis.url, sizeof(conf.store.redis.url), "unix://%s", sock);
	snprintf(conf.store.redis.path, sizeof(conf.store.redis.path), "%s", sock);
	snprintf(conf.store.redis.prefix, sizeof(conf.store.redis.prefix), "ut");
	conf.store.redis.timeout_ms = 100;
	guard = banguard_new(&conf);
	vouch = vouch_new(&conf);
	ck_assert_ptr_nonnull(guard);
	ck_assert_ptr_nonnull(vouch);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	r = redis_new(&loop, &conf.store.redis);
	ck_assert_ptr_nonnull(r);
	f = fleet_new(&loop, r, &maps);
	ck_assert_ptr_nonnull(f);
	fleet_set_guard(f, guard);
	fleet_set_vouch(f, vouch);
	redis_on_state(r, on_state, f);
	ck_assert_msg(spin(subscribed, 5000), "the fleet did not subscribe");
	other = redisConnectUnix(sock);
	ck_assert(other && !other->err);
	usable = true;
}

static void teardown(void)
{
	char cmd[128];

	if (!usable)
		return;
	redisFree(other);
	fleet_free(f);
	redis_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	vouch_free(vouch);
	banguard_free(guard);
	maps_close();
	kill(redis_pid, SIGCONT);
	kill(redis_pid, SIGTERM);
	waitpid(redis_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A command of the other agent; its reply's integer (or -1 for nil). */
static long long other_do(const char *fmt, ...)
{
	redisReply *rp;
	long long n = -1;
	va_list ap;

	va_start(ap, fmt);
	rp = redisvCommand(other, fmt, ap);
	va_end(ap);
	ck_assert_msg(rp && rp->type != REDIS_REPLY_ERROR, "%s: %s", fmt,
		      rp ? rp->str : other->errstr);
	if (rp->type == REDIS_REPLY_INTEGER)
		n = rp->integer;
	else if (rp->type == REDIS_REPLY_STRING)
		n = 0;
	freeReplyObject(rp);
	return n;
}

static struct fg_cidr addr(const char *s)
{
	struct fg_cidr c;

	ck_assert_msg(!cidr_parse(s, &c), "parse %s", s);
	return c;
}

static bool get_ban(const char *s, struct fg_ban *b)
{
	struct fg_cidr c = addr(s);

	return !xdpmaps_ban_get(&maps, &c, b);
}

static const char *want_banned;
static bool is_banned(void)
{
	struct fg_ban b;

	return get_ban(want_banned, &b);
}

/* Wait (up to 3 s) until the fleet applied a ban of s. */
static bool wait_banned(const char *s)
{
	want_banned = s;
	return spin(is_banned, 3000);
}

/* Publish msg as the other agent. */
static void other_publish(const char *msg)
{
	other_do("PUBLISH ut:bans:events %s", msg);
}

#define SKIP_UNLESS_USABLE()                                                                       \
	do {                                                                                       \
		if (!usable)                                                                       \
			return;                                                                    \
	} while (0)

/*
 * A ban's end is checked as XDP.BAN checks its seconds: garbage or a sign
 * drops the message (it was a ban without end, or one of 527 years), an end
 * beyond XDP_BAN_MAX_S is cut to it, and nothing overflows on the way to ns.
 */
START_TEST(test_ban_end_checked)
{
	char msg[128];
	struct fleet_stats st;
	struct fg_ban b;
	uint64_t now, max_ns = XDP_BAN_MAX_S * NS;

	SKIP_UNLESS_USABLE();
	other_publish("ban other-1-1 203.0.113.61 garbage");
	other_publish("ban other-1-1 203.0.113.62 -1");
	other_publish("ban other-1-1 203.0.113.63 18446744073709551615");
	other_publish("ban other-1-1 203.0.113.64 99999999999999999999999");
	other_publish("ban other-1-1 203.0.113.65 1e+30");
	other_publish("ban other-1-1 203.0.113.66 12abc");
	other_publish("ban other-1-1 203.0.113.67 0");
	snprintf(msg, sizeof(msg), "ban other-1-1 203.0.113.68 %llu",
		 (unsigned long long)(clock_realtime_ms() + 60000));
	other_publish(msg);
	/* in order: once the last is in, every one before was handled */
	ck_assert(wait_banned("203.0.113.68"));
	now = xdpmaps_now_ns();
	ck_assert_msg(!get_ban("203.0.113.61", &b), "garbage gave a ban without end");
	ck_assert_msg(!get_ban("203.0.113.62", &b), "-1 gave a ban");
	ck_assert_msg(!get_ban("203.0.113.66", &b), "12abc gave a ban");
	ck_assert(get_ban("203.0.113.63", &b));
	ck_assert_uint_eq(b.origin, FG_BAN_FLEET);
	ck_assert_uint_le(b.expires_ns, now + max_ns);
	ck_assert_uint_gt(b.expires_ns, now + max_ns - 60 * NS);
	ck_assert(get_ban("203.0.113.64", &b));
	ck_assert_uint_le(b.expires_ns, now + max_ns);
	ck_assert_uint_gt(b.expires_ns, now + max_ns - 60 * NS);
	ck_assert(get_ban("203.0.113.65", &b));
	ck_assert_uint_le(b.expires_ns, now + max_ns);
	ck_assert_uint_gt(b.expires_ns, now + max_ns - 60 * NS);
	ck_assert(get_ban("203.0.113.67", &b)); /* 0: no end, as this agent publishes one */
	ck_assert_uint_eq(b.expires_ns, 0);
	ck_assert(get_ban("203.0.113.68", &b));
	ck_assert_uint_le(b.expires_ns, now + 60 * NS);
	ck_assert_uint_gt(b.expires_ns, now + 55 * NS);
	fleet_stats(f, &st);
	ck_assert_uint_eq(st.refused, 3);
	ck_assert_uint_eq(st.applied, 5);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ban_end_checked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fleet_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
