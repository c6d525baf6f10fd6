// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * fgwatch: reaction times of floodgate, for bench/react.sh. Polls the pinned
 * per-reason counters (one batch syscall per poll) and times, on
 * CLOCK_MONOTONIC:
 *
 *   the first packet the program sees after start  -> first_us
 *   the trigger (a RESP command or a signal)        -> t0 (0 when none)
 *   the reply to the RESP command                   -> reply_us
 *   the first packet dropped for --reason           -> drop_us
 *   the mean time between two polls (the resolution)  -> poll_us
 *
 * All times are microseconds from t0, or from the first packet when there is
 * no trigger. With a trigger, fgwatch first waits for traffic (a counter
 * moving), so the trigger lands in a running stream.
 *
 *   fgwatch --pin-dir DIR --reason NAME [--timeout-ms N=5000] [--ready-file F]
 *           [--signal PID | --resp SOCKET ARG...]
 * Prints one key=value line; exits 1 when no drop came within the timeout.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xdpmaps.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Packets seen (passed + dropped, every reason) and dropped for reason. */
static int sample(struct xdpmaps *m, int reason, uint64_t *seen, uint64_t *dropped)
{
	struct fg_stat st[FG_R_MAX];
	int r, err = xdpmaps_stats(m, st);

	if (err)
		return err;
	*seen = 0;
	for (r = 0; r < FG_R_MAX; r++)
		*seen += st[r].packets[0] + st[r].packets[1];
	*dropped = st[reason].packets[1];
	return 0;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* A RESP array of argv on a fresh connection to path; returns the fd. */
static int resp_send(const char *path, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[1024];
	int fd, i, n;
	size_t len = 0;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	n = snprintf(buf, sizeof(buf), "*%d\r\n", argc);
	len = (size_t)n;
	for (i = 0; i < argc && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "$%zu\r\n%s\r\n",
					strlen(argv[i]), argv[i]);
	if (len >= sizeof(buf) || write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: fgwatch --pin-dir DIR --reason NAME [--timeout-ms N] "
			"[--ready-file F] [--signal PID | --resp SOCKET ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *pin_dir = NULL, *reason_name = NULL, *ready = NULL, *sock = NULL;
	int reason = -1, i, sig_pid = 0, resp_argc = 0, fd = -1, err;
	char **resp_argv = NULL, reply[256] = "";
	long timeout_ms = 5000;
	uint64_t seen0, drop0, seen, drop, start, t0 = 0, t_first = 0, t_reply = 0, t_drop = 0;
	uint64_t polls = 0;
	struct xdpmaps m;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc)
			pin_dir = argv[++i];
		else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			reason_name = argv[++i];
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			timeout_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--ready-file") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--signal") && i + 1 < argc)
			sig_pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--resp") && i + 2 < argc) {
			sock = argv[++i];
			resp_argv = &argv[i + 1];
			resp_argc = argc - i - 1;
			break;
		} else
			usage();
	}
	if (!pin_dir || !reason_name)
		usage();
	for (i = 0; i < FG_R_MAX; i++)
		if (!strcmp(xdpmaps_reason_name((uint32_t)i), reason_name))
			reason = i;
	if (reason < 0) {
		fprintf(stderr, "fgwatch: unknown reason '%s'\n", reason_name);
		return 2;
	}
	err = xdpmaps_open_pinned(&m, pin_dir);
	if (err || sample(&m, reason, &seen0, &drop0)) {
		fprintf(stderr, "fgwatch: %s: cannot read the pinned maps\n", pin_dir);
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	start = now_ns();
	while (!t_drop && now_ns() - start < (uint64_t)timeout_ms * 1000000) {
		if (sample(&m, reason, &seen, &drop))
			break;
		polls++;
		if (!t_first && seen != seen0)
			t_first = now_ns();
		if (t_first && !t0 && (sig_pid || sock)) {
			/* Traffic runs: pull the trigger now, and count drops
			 * from here. */
			drop0 = drop;
			t0 = now_ns();
			if (sig_pid && kill(sig_pid, SIGHUP)) {
				perror("fgwatch: kill");
				return 1;
			}
			if (sock && (fd = resp_send(sock, resp_argc, resp_argv)) < 0) {
				perror("fgwatch: RESP");
				return 1;
			}
			continue;
		}
		if (fd >= 0 && !t_reply) {
			ssize_t n = recv(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);

			if (n > 0) {
				t_reply = now_ns();
				reply[n] = 0;
				reply[strcspn(reply, "\r\n")] = 0;
			}
		}
		if (drop != drop0 && (t0 || !(sig_pid || sock)))
			t_drop = now_ns();
		else
			pause_us(20);
	}
	if (!t0)
		t0 = t_first;
#define US(t) ((t) ? ((double)(int64_t)((t)-t0) / 1000.0) : -1.0)
	printf("first_us=%.0f reply_us=%.0f drop_us=%.0f poll_us=%.0f reply=%s\n", US(t_first),
	       US(t_reply), US(t_drop), polls ? (double)(now_ns() - start) / 1000.0 / polls : 0.0,
	       reply[0] ? reply : "-");
	if (fd >= 0)
		close(fd);
	xdpmaps_close(&m);
	return t_drop ? 0 : 1;
}
