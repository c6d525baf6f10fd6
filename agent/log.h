/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* log: leveled log lines on stderr; libbpf's messages go through here too. */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum fg_log_level {
	FG_LOG_WARN = 0,
	FG_LOG_INFO = 1,
	FG_LOG_DEBUG = 2,
};

/* Lines above level are dropped. Default FG_LOG_INFO. */
void log_set_level(enum fg_log_level level);
enum fg_log_level log_get_level(void);

void log_msg(enum fg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum fg_log_level level, const char *fmt, va_list ap);

/* Route libbpf's output through log_msg(), one level lower than libbpf
 * gives it; debug adds libbpf's own debug output. */
void log_setup_libbpf(bool debug);

#define pr_warn(...) log_msg(FG_LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(FG_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(FG_LOG_DEBUG, __VA_ARGS__)

#endif /* FG_LOG_H */
