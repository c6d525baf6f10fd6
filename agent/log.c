// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "clock.h"
#include "log.h"

/* Longer lines take one malloc. */
#define LOG_STACK_LINE 4096

static enum fg_log_level log_level = FG_LOG_INFO;
static enum fg_log_format log_format = FG_LOG_LOGFMT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum fg_log_level level)
{
	log_level = level;
}

void log_set_format(enum fg_log_format format)
{
	log_format = format;
}

const char *log_level_name(enum fg_log_level level)
{
	return (unsigned)level <= FG_LOG_DEBUG ? level_names[level] : "?";
}

int log_parse_level(const char *s, enum fg_log_level *out)
{
	int i;

	for (i = 0; i <= FG_LOG_DEBUG; i++)
		if (!strcmp(s, level_names[i])) {
			*out = (enum fg_log_level)i;
			return 0;
		}
	return -EINVAL;
}

int log_parse_format(const char *s, enum fg_log_format *out)
{
	if (!strcmp(s, "logfmt"))
		*out = FG_LOG_LOGFMT;
	else if (!strcmp(s, "json"))
		*out = FG_LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

/* --- the line writer: counts what it needs, stores what fits ---------------- */

struct lw {
	char *p;
	size_t cap, len;
};

static void lw_c(struct lw *w, char c)
{
	if (w->len + 1 < w->cap)
		w->p[w->len] = c;
	w->len++;
}

static void lw_s(struct lw *w, const char *s)
{
	while (*s)
		lw_c(w, *s++);
}

static void lw_fmt(struct lw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lw_fmt(struct lw *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	lw_s(w, tmp);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The body of a quoted string: the same escapes for JSON and logfmt (go-logfmt
 * unquotes JSON-style); invalid UTF-8 bytes become \u00XX. */
static void lw_escaped(struct lw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, ul;

	while (i < n) {
		unsigned char c = p[i];

		switch (c) {
		case '"':
			lw_s(w, "\\\"");
			break;
		case '\\':
			lw_s(w, "\\\\");
			break;
		case '\n':
			lw_s(w, "\\n");
			break;
		case '\r':
			lw_s(w, "\\r");
			break;
		case '\t':
			lw_s(w, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				lw_fmt(w, "\\u%04x", c);
				break;
			}
			ul = utf8_len(p + i, n - i);
			if (!ul) {
				lw_fmt(w, "\\u%04x", c);
				break;
			}
			for (k = 0; k < ul; k++)
				lw_c(w, (char)p[i + k]);
			i += ul;
			continue;
		}
		i++;
	}
}

/* A logfmt value is bare when it is not empty and has no space, '=', quote,
 * backslash, control byte or invalid UTF-8. */
static bool logfmt_bare(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, ul;

	if (!n)
		return false;
	while (i < n) {
		if (p[i] <= ' ' || p[i] == '=' || p[i] == '"' || p[i] == '\\' || p[i] == 0x7f)
			return false;
		ul = utf8_len(p + i, n - i);
		if (!ul)
			return false;
		i += ul;
	}
	return true;
}

static void lw_str(struct lw *w, enum fg_log_format format, const char *s)
{
	if (!s)
		s = "";
	if (format == FG_LOG_LOGFMT && logfmt_bare(s)) {
		lw_s(w, s);
		return;
	}
	lw_c(w, '"');
	lw_escaped(w, s);
	lw_c(w, '"');
}

static void lw_key(struct lw *w, enum fg_log_format format, const char *k)
{
	if (format == FG_LOG_JSON) {
		lw_s(w, ",\"");
		lw_escaped(w, k);
		lw_s(w, "\":");
	} else {
		lw_c(w, ' ');
		lw_s(w, k);
		lw_c(w, '=');
	}
}

static void lw_value(struct lw *w, enum fg_log_format format, const struct log_field *f)
{
	switch (f->type) {
	case LOG_T_STR:
		lw_str(w, format, f->s);
		break;
	case LOG_T_INT:
		lw_fmt(w, "%lld", f->i);
		break;
	case LOG_T_UINT:
		lw_fmt(w, "%llu", f->u);
		break;
	case LOG_T_DBL:
		/* JSON has no NaN or infinities */
		if (f->d != f->d || f->d > 1e308 || f->d < -1e308)
			lw_str(w, format, f->d != f->d ? "NaN" : f->d > 0 ? "+Inf" : "-Inf");
		else
			lw_fmt(w, "%.15g", f->d);
		break;
	case LOG_T_BOOL:
		lw_s(w, f->b ? "true" : "false");
		break;
	}
}

const char *log_format_ts(char *buf, size_t len, long long ts_ms)
{
	time_t secs = (time_t)(ts_ms / 1000);
	struct tm tm;
	size_t k;

	gmtime_r(&secs, &tm);
	k = strftime(buf, len > 8 ? len - 8 : 0, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, len - k, ".%03dZ", (int)(ts_ms % 1000));
	return buf;
}

size_t log_escape(char *buf, size_t len, const char *s)
{
	struct lw w = { .p = buf, .cap = len };

	lw_escaped(&w, s);
	if (w.cap)
		w.p[w.len < w.cap ? w.len : w.cap - 1] = '\0';
	return w.len;
}

size_t log_format_line(char *buf, size_t len, enum fg_log_format format, long long ts_ms,
		       enum fg_log_level level, const char *msg, const struct log_field *f,
		       size_t n)
{
	struct lw w = { .p = buf, .cap = len };
	char ts[64];
	size_t i;

	log_format_ts(ts, sizeof(ts), ts_ms);
	if (format == FG_LOG_JSON) {
		lw_s(&w, "{\"ts\":\"");
		lw_s(&w, ts);
		lw_s(&w, "\",\"level\":\"");
		lw_s(&w, log_level_name(level));
		lw_s(&w, "\",\"msg\":");
		lw_str(&w, format, msg);
	} else {
		lw_s(&w, "ts=");
		lw_s(&w, ts);
		lw_s(&w, " level=");
		lw_s(&w, log_level_name(level));
		lw_s(&w, " msg=");
		lw_str(&w, format, msg);
	}
	for (i = 0; i < n; i++) {
		if (!f[i].key || !*f[i].key)
			continue;
		/* a field never shadows the line's own ts, level or msg */
		if (!strcmp(f[i].key, "ts") || !strcmp(f[i].key, "level") ||
		    !strcmp(f[i].key, "msg")) {
			char k[8];

			snprintf(k, sizeof(k), "_%s", f[i].key);
			lw_key(&w, format, k);
		} else {
			lw_key(&w, format, f[i].key);
		}
		lw_value(&w, format, &f[i]);
	}
	if (format == FG_LOG_JSON)
		lw_c(&w, '}');
	lw_c(&w, '\n');
	if (w.cap)
		w.p[w.len < w.cap ? w.len : w.cap - 1] = '\0';
	return w.len;
}

void log_emit(enum fg_log_level level, const char *msg, const struct log_field *f, size_t n)
{
	char stack[LOG_STACK_LINE], *line = stack;
	enum fg_log_format format = log_format;
	long long ms;
	size_t len;
	ssize_t w;

	if (level > log_level)
		return;
	ms = (long long)clock_realtime_ms();
	len = log_format_line(stack, sizeof(stack), format, ms, level, msg, f, n);
	if (len >= sizeof(stack)) {
		line = malloc(len + 1);
		if (line)
			len = log_format_line(line, len + 1, format, ms, level, msg, f, n);
		else /* a whole line saying so, never a torn one */
			len = log_format_line(line = stack, sizeof(stack), format, ms, level,
					      "log line dropped: out of memory", NULL, 0);
	}
	/* One write per line: lines of several threads never interleave. */
	w = write(STDERR_FILENO, line, len);
	(void)w;
	if (line != stack)
		free(line);
}

const char *log_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

static bool libbpf_debug;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* One level lower than libbpf says: its warnings (a rejected
	 * program's verifier log among them) are our info, its info is our
	 * debug; its debug chatter only when asked for. */
	enum fg_log_level ours = level == LIBBPF_WARN ? FG_LOG_INFO : FG_LOG_DEBUG;
	char *text = NULL, *line, *save = NULL;

	if ((level == LIBBPF_DEBUG && !libbpf_debug) || ours > log_level)
		return 0;
	if (vasprintf(&text, fmt, ap) < 0)
		return 0;
	/* The verifier log comes as one message of many lines: one line each,
	 * so it stays readable and every line stays a log line. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_kv(ours, line, LOG_STR("src", "libbpf"));
	free(text);
	return 0;
}

void log_setup_libbpf(bool debug)
{
	libbpf_debug = debug;
	libbpf_set_print(libbpf_print);
}

bool log_gate_due(struct log_gate *g, uint64_t now_ns, uint64_t *suppressed)
{
	if (g->last_ns && now_ns - g->last_ns < 1000000000ULL) {
		g->skipped++;
		return false;
	}
	g->last_ns = now_ns;
	*suppressed = g->skipped;
	g->skipped = 0;
	return true;
}
