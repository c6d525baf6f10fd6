// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "log.h"

static enum fg_log_level log_level = FG_LOG_INFO;

static const char *const level_names[] = { "warn", "info", "debug" };

void log_set_level(enum fg_log_level level)
{
	log_level = level;
}

enum fg_log_level log_get_level(void)
{
	return log_level;
}

void log_vmsg(enum fg_log_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		level_names[level], msg);
}

void log_msg(enum fg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static bool libbpf_debug;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* One level lower than libbpf says: its warnings (a rejected
	 * program's verifier log among them) are our info, its info is our
	 * debug; its debug chatter only when asked for. */
	enum fg_log_level ours = level == LIBBPF_WARN ? FG_LOG_INFO : FG_LOG_DEBUG;

	if (level == LIBBPF_DEBUG && !libbpf_debug)
		return 0;
	log_vmsg(ours, fmt, ap);
	return 0;
}

void log_setup_libbpf(bool debug)
{
	libbpf_debug = debug;
	libbpf_set_print(libbpf_print);
}
