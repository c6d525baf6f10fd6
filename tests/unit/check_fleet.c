// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * fleet: bans and vouches shared through a real redis-server (started here
 * on a Unix socket) with real (small) BPF maps, the agent's side driven on a
 * libuv loop in this thread and "another agent" played by a plain hiredis
 * connection that writes the shared sets and publishes on the channel.
 * Needs root or CAP_BPF (the maps) and redis-server; skips without them.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "redisd.h"
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
	ck_assert(redisd_dir(dir, "/tmp/fgut-fleet.XXXXXX", sock, sizeof(sock)));
	return redisd_spawn(dir, sock, NULL, &redis_pid);
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

static bool never(void)
{
	return false;
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
	spin(never, 100); /* the sets' loads, sent once subscribed */
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

static bool up(void)
{
	return redis_up(r) && subscribed();
}

static void on_ping(redisReply *rp, const char *why, void *arg)
{
	(void)rp;
	(void)why;
	(void)arg;
}

/* Stop redis-server (kill -STOP) and send requests until the breaker opens. */
static void outage_begin(void)
{
	const char *ping[] = { "PING" };
	int i;

	ck_assert_int_eq(kill(redis_pid, SIGSTOP), 0);
	for (i = 0; i < 100 && redis_up(r); i++) {
		redis_command(r, 1, ping, NULL, on_ping, NULL);
		spin(never, 50);
	}
	ck_assert_msg(!redis_up(r), "the breaker did not open");
}

/* kill -CONT: wait until the store is back and the fleet subscribed again. */
static void outage_end(void)
{
	ck_assert_int_eq(kill(redis_pid, SIGCONT), 0);
	ck_assert_msg(spin(up, 5000), "redis did not come back");
}

static const char *want_verified;
static bool is_verified(void)
{
	struct fg_cidr c = addr(want_verified);
	struct fg_verified v;

	return !xdpmaps_verified(&maps, &c, &v);
}

/* A subscriber of the channel, as another agent's; read with a timeout. */
static redisContext *listener(void)
{
	struct timeval tv = { 0, 200000 };
	redisContext *l = redisConnectUnix(sock);
	redisReply *rp;

	ck_assert(l && !l->err);
	rp = redisCommand(l, "SUBSCRIBE ut:bans:events");
	ck_assert_ptr_nonnull(rp);
	freeReplyObject(rp);
	redisSetTimeout(l, tv);
	return l;
}

/* Did l hear a message that starts with kind and ends with " member"? */
static bool heard(redisContext *l, const char *kind, const char *member)
{
	redisReply *rp;
	bool found = false;

	while (!found && redisGetReply(l, (void **)&rp) == REDIS_OK && rp) {
		if (rp->type == REDIS_REPLY_ARRAY && rp->elements == 3 &&
		    rp->element[2]->type == REDIS_REPLY_STRING) {
			const char *m = rp->element[2]->str;
			size_t n = strlen(m), k = strlen(member);

			found = !strncmp(m, kind, strlen(kind)) && m[strlen(kind)] == ' ' &&
				n > k && m[n - k - 1] == ' ' && !strcmp(m + n - k, member);
		}
		freeReplyObject(rp);
	}
	return found;
}

/*
 * An unban or unvouch made while Redis is away reaches the fleet when it
 * is back: removed from the shared set and announced before the set is
 * loaded again. Before, the reload gave the ban (and the vouch) back to
 * this host as the fleet's, and the other hosts kept them.
 */
START_TEST(test_lift_during_outage)
{
	struct fg_cidr ban = addr("203.0.113.100"), ban2 = addr("203.0.113.101");
	struct fg_cidr v = addr("198.51.100.7");
	enum vouch_result res;
	redisContext *l;
	struct fg_ban b;

	SKIP_UNLESS_USABLE();
	/* made and published while Redis is up */
	ck_assert_int_eq(xdpmaps_ban(&maps, &ban, 600, FG_BAN_MANUAL), 0);
	fleet_ban(f, &ban, 600);
	ck_assert_int_eq(xdpmaps_ban(&maps, &ban2, 600, FG_BAN_MANUAL), 0);
	fleet_ban(f, &ban2, 600);
	ck_assert_int_eq(vouch_add(vouch, guard, &maps, 0, true, &v, 600, VOUCH_FROM_SOCKET,
				   xdpmaps_now_ns(), &res),
			 0);
	fleet_vouch(f, &v, 600);
	for (int i = 0; i < 50; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	usleep(20000);
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(other_do("ZSCORE ut:bans 203.0.113.100"), 0);
	ck_assert_int_eq(other_do("ZSCORE ut:vouches 198.51.100.7"), 0);
	/* a member the other agent added unannounced: in once the set is loaded */
	other_do("ZADD ut:bans +inf 203.0.113.199");
	l = listener();
	outage_begin();
	/* XDP.UNBAN and XDP.UNVOUCH; ban2 is unbanned and banned again */
	ck_assert_int_eq(xdpmaps_unban(&maps, &ban), 0);
	fleet_unban(f, &ban);
	ck_assert_int_eq(vouch_remove(vouch, &maps, &v, xdpmaps_now_ns()), 0);
	fleet_unvouch(f, &v);
	ck_assert_int_eq(xdpmaps_unban(&maps, &ban2), 0);
	fleet_unban(f, &ban2);
	ck_assert_int_eq(xdpmaps_ban(&maps, &ban2, 600, FG_BAN_MANUAL), 0);
	fleet_ban(f, &ban2, 600);
	outage_end();
	ck_assert(wait_banned("203.0.113.199"));
	spin(never, 100); /* the vouch set's reply, sent with the ban set's */
	ck_assert_msg(!get_ban("203.0.113.100", &b), "the unban was undone (origin %u)", b.origin);
	want_verified = "198.51.100.7";
	ck_assert_msg(!is_verified(), "the unvouch was undone");
	ck_assert_int_eq(other_do("ZSCORE ut:bans 203.0.113.100"), -1);
	ck_assert_int_eq(other_do("ZSCORE ut:vouches 198.51.100.7"), -1);
	ck_assert(heard(l, "unban", "203.0.113.100"));
	ck_assert(heard(l, "unvouch", "198.51.100.7"));
	/* the ban made again after its unban stands, here and in the set */
	ck_assert(get_ban("203.0.113.101", &b));
	ck_assert_uint_eq(b.origin, FG_BAN_MANUAL);
	ck_assert_int_eq(other_do("ZSCORE ut:bans 203.0.113.101"), 0);
	redisFree(l);
}
END_TEST

static bool not_subscribed(void)
{
	return !subscribed();
}

/* CLIENT KILL TYPE pubsub: the fleet's subscriber goes, comes back within
 * SUB_RETRY_MS, and has loaded the set once the marker the other agent
 * added unannounced is applied. */
static void resubscribe(const char *marker)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "ZADD ut:bans +inf %s", marker);
	other_do(cmd);
	ck_assert_int_eq(other_do("CLIENT KILL TYPE pubsub"), 1);
	ck_assert_msg(spin(not_subscribed, 2000), "the subscriber was not lost");
	ck_assert_msg(wait_banned(marker), "the set was not loaded on re-subscribing");
	spin(never, 100); /* the vouch set's reply, sent with the ban set's */
}

/*
 * Bans published while the subscriber reconnects are read from the set on
 * re-subscribing; the fleet's bans and vouches the set no longer holds (an
 * unban published meanwhile) are removed; this host's own, and the TCP
 * proofs the fleet shared (in no set), stay.
 */
START_TEST(test_resubscribe_reconciles)
{
	struct fg_cidr manual = addr("203.0.113.71");
	unsigned long long end = clock_realtime_ms() + 600000;
	struct fleet_stats st;
	char msg[128];
	struct fg_ban b;

	SKIP_UNLESS_USABLE();
	/* the fleet's ban (.72) and vouch (.9), a TCP proof (.10), a ban of this host's */
	other_do("ZADD ut:bans %llu 203.0.113.72", end);
	snprintf(msg, sizeof(msg), "ban other-1-1 203.0.113.72 %llu", end);
	other_publish(msg);
	other_do("ZADD ut:vouches %llu 198.51.100.9", end);
	snprintf(msg, sizeof(msg), "vouch other-1-1 198.51.100.9 %llu", end);
	other_publish(msg);
	other_publish("tcp other-1-1 198.51.100.10");
	ck_assert_int_eq(xdpmaps_ban(&maps, &manual, 600, FG_BAN_MANUAL), 0);
	ck_assert(wait_banned("203.0.113.72"));
	want_verified = "198.51.100.10";
	ck_assert(spin(is_verified, 3000));
	want_verified = "198.51.100.9";
	ck_assert(is_verified());

	/* a ban published while the subscriber was away: in the set only */
	other_do("ZADD ut:bans %llu 203.0.113.70", end);
	resubscribe("203.0.113.170");
	ck_assert_msg(get_ban("203.0.113.70", &b), "a ban in the set was not loaded");
	ck_assert_uint_eq(b.origin, FG_BAN_FLEET);

	/* unbans and an unvouch published while it was away: gone from the set */
	other_do("ZREM ut:bans 203.0.113.72");
	other_do("ZREM ut:vouches 198.51.100.9");
	resubscribe("203.0.113.171");
	ck_assert_msg(!get_ban("203.0.113.72", &b), "a fleet ban the set lost stayed");
	ck_assert_msg(!is_verified(), "a fleet vouch the set lost stayed");
	fleet_stats(f, &st);
	ck_assert_uint_ge(st.unbanned, 2);
	/* kept: this host's ban, the fleet's bans still in the set, the TCP proof */
	ck_assert(get_ban("203.0.113.71", &b));
	ck_assert_uint_eq(b.origin, FG_BAN_MANUAL);
	ck_assert(get_ban("203.0.113.70", &b));
	ck_assert(get_ban("203.0.113.170", &b));
	want_verified = "198.51.100.10";
	ck_assert_msg(is_verified(), "a TCP proof the fleet shared was taken for a vouch");
}
END_TEST

static uint64_t want_failed;
static bool failed_seen(void)
{
	struct fleet_stats st;

	fleet_stats(f, &st);
	return st.failed >= want_failed;
}

/* A shared set that refuses a member (Redis out of memory) is counted as
 * failed, not published, and said in the log. */
START_TEST(test_set_write_failed)
{
	struct fg_cidr c = addr("203.0.113.80");
	struct fleet_stats st, was;

	SKIP_UNLESS_USABLE();
	fleet_stats(f, &was);
	other_do("CONFIG SET maxmemory-policy noeviction");
	other_do("CONFIG SET maxmemory 1");
	fleet_ban(f, &c, 600);
	want_failed = was.failed + 1;
	ck_assert_msg(spin(failed_seen, 2000), "a refused ZADD was not counted");
	fleet_stats(f, &st);
	ck_assert_uint_eq(st.published, was.published);
	other_do("CONFIG SET maxmemory 0");
	fleet_ban(f, &c, 600);
	spin(never, 200);
	fleet_stats(f, &st);
	ck_assert_uint_eq(st.published, was.published + 1);
	ck_assert_uint_eq(st.failed, was.failed + 1);
}
END_TEST

/* Hostile messages: a warning a second, not one each. */
START_TEST(test_refusals_rate_limited)
{
	char path[128], line[512], msg[128];
	int fd, saved, i, lines = 0;
	struct fleet_stats st;
	FILE *in;

	SKIP_UNLESS_USABLE();
	snprintf(path, sizeof(path), "%s/log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < 200; i++) {
		other_publish("ban other-1-1 127.0.0.1 0");		   /* special */
		other_publish("ban other-1-1 203.0.113.90 nope");	   /* malformed */
		other_publish("vouch other-1-1 127.0.0.1 99999999999999"); /* special */
		other_publish("tcp other-1-1 127.0.0.1");		   /* special */
	}
	snprintf(msg, sizeof(msg), "ban other-1-1 203.0.113.91 0");
	other_publish(msg);
	ck_assert(wait_banned("203.0.113.91"));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	fleet_stats(f, &st);
	ck_assert_uint_eq(st.refused, 800);
	in = fopen(path, "r");
	ck_assert_ptr_nonnull(in);
	while (fgets(line, sizeof(line), in))
		lines += strstr(line, "level=warn") != NULL;
	fclose(in);
	ck_assert_msg(lines <= 8, "%d warnings for 800 refused messages", lines);
	ck_assert_int_ge(lines, 4); /* each kind said once */
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ban_end_checked);
	tcase_add_test(tc, test_lift_during_outage);
	tcase_add_test(tc, test_resubscribe_reconciles);
	tcase_add_test(tc, test_set_write_failed);
	tcase_add_test(tc, test_refusals_rate_limited);
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
