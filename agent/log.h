/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * log: structured log lines on stderr, one event per line, logfmt (default)
 * or JSON with the same keys. Every line starts with ts (UTC, milliseconds),
 * level and msg, then the caller's fields:
 *
 *   ts=2026-11-25T20:22:40.616Z level=info msg="attached to veth-a" iface=veth-a mode=native
 *   {"ts":"2026-11-25T20:22:40.616Z","level":"info","msg":"attached to veth-a","iface":"veth-a"}
 *
 * Values are escaped by the writer (quotes, backslashes, control bytes,
 * invalid UTF-8), so any string is safe to log. libbpf's messages come
 * through here too, one line per line of theirs, with src=libbpf.
 *
 * A call site gives a fixed message and typed fields:
 *   log_info("attached", LOG_STR("iface", name), LOG_INT("ifindex", idx));
 */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum fg_log_level {
	FG_LOG_ERROR = 0,
	FG_LOG_WARN = 1,
	FG_LOG_INFO = 2,
	FG_LOG_DEBUG = 3,
};

enum fg_log_format {
	FG_LOG_LOGFMT = 0,
	FG_LOG_JSON = 1,
};

enum log_field_type { LOG_T_STR, LOG_T_INT, LOG_T_UINT, LOG_T_DBL, LOG_T_BOOL };

/* One key=value of a line. key: [A-Za-z0-9_.-]+; a NULL string logs "". */
struct log_field {
	const char *key;
	enum log_field_type type;
	union {
		const char *s;
		long long i;
		unsigned long long u;
		double d;
		bool b;
	};
};

#define LOG_STR(k, v) ((struct log_field){ .key = (k), .type = LOG_T_STR, .s = (v) })
#define LOG_INT(k, v) ((struct log_field){ .key = (k), .type = LOG_T_INT, .i = (long long)(v) })
#define LOG_UINT(k, v)                                                                             \
	((struct log_field){ .key = (k), .type = LOG_T_UINT, .u = (unsigned long long)(v) })
#define LOG_DBL(k, v)  ((struct log_field){ .key = (k), .type = LOG_T_DBL, .d = (double)(v) })
#define LOG_BOOL(k, v) ((struct log_field){ .key = (k), .type = LOG_T_BOOL, .b = !!(v) })
/* error=<strerror(e)> for a positive errno value. */
#define LOG_ERRNO(e) LOG_STR("error", strerror(e))

/* Lines above level are dropped. Default FG_LOG_INFO. */
void log_set_level(enum fg_log_level level);
void log_set_format(enum fg_log_format format);

/* "error", "warn", "info", "debug" <-> level; -EINVAL for another name. */
const char *log_level_name(enum fg_log_level level);
int log_parse_level(const char *s, enum fg_log_level *out);
/* "logfmt", "json" <-> format; -EINVAL for another name. */
int log_parse_format(const char *s, enum fg_log_format *out);

/* One line: msg and n fields. Safe from any thread (one write per line). */
void log_emit(enum fg_log_level level, const char *msg, const struct log_field *f, size_t n);

/*
 * Format one line into buf (NUL-terminated, with the newline) as log_emit()
 * would write it, ts given (Unix ms). Returns the length it needed, like
 * snprintf. For tests.
 */
size_t log_format_line(char *buf, size_t len, enum fg_log_format format, long long ts_ms,
		       enum fg_log_level level, const char *msg, const struct log_field *f,
		       size_t n);

/* The ts of a line for ts_ms (Unix ms), "2026-11-25T20:22:40.616Z", into
 * buf (32 bytes are enough); returns buf. */
const char *log_format_ts(char *buf, size_t len, long long ts_ms);

/* s as the body of a JSON string, escaped as log lines escape values
 * (quotes, backslashes, control bytes, invalid UTF-8), NUL-terminated in
 * buf. Returns the length it needed, like snprintf. */
size_t log_escape(char *buf, size_t len, const char *s);

/* log_kv(level, "msg", LOG_STR(...), ...): zero or more fields. */
#define log_kv(level, msg, ...)                                                                    \
	log_emit((level), (msg), (const struct log_field[]){ { 0 }, ##__VA_ARGS__ } + 1,           \
		 sizeof((const struct log_field[]){ { 0 }, ##__VA_ARGS__ }) /                      \
				 sizeof(struct log_field) -                                        \
			 1)
#define log_error(msg, ...) log_kv(FG_LOG_ERROR, msg, ##__VA_ARGS__)
#define log_warn(msg, ...)  log_kv(FG_LOG_WARN, msg, ##__VA_ARGS__)
#define log_info(msg, ...)  log_kv(FG_LOG_INFO, msg, ##__VA_ARGS__)
#define log_debug(msg, ...) log_kv(FG_LOG_DEBUG, msg, ##__VA_ARGS__)

/* snprintf into buf, returning buf: a message naming its object,
 * log_warn(log_fmt(m, sizeof(m), "attached to %s", name), LOG_STR("iface", name)). */
const char *log_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A line a peer can make repeat without bound (a refused connection, ban
 * or vouch): due at most once a second; the ones skipped meanwhile are
 * counted, and *suppressed says how many when the next is due.
 */
struct log_gate {
	uint64_t last_ns, skipped;
};
bool log_gate_due(struct log_gate *g, uint64_t now_ns, uint64_t *suppressed);

/* Route libbpf's output through the log, one level lower than libbpf
 * gives it; debug adds libbpf's own debug output. */
void log_setup_libbpf(bool debug);

#endif /* FG_LOG_H */
