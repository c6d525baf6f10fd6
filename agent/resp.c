// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

/* argv capacity kept between requests; a huge request's array is freed. */
#define ARGV_KEEP 1024

void resp_parser_init(struct resp_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->bulklen = -1;
}

void resp_parser_free(struct resp_parser *p)
{
	free(p->argv);
	resp_parser_init(p);
}

bool resp_parser_pending(const struct resp_parser *p)
{
	return p->begun;
}

static void reset(struct resp_parser *p)
{
	p->scan = 0;
	p->multibulk = 0;
	p->bulklen = -1;
	p->argc = 0;
	p->inline_req = false;
	p->begun = false;
}

static int fail(struct resp_parser *p, int status, const char *msg)
{
	p->errmsg = msg;
	reset(p);
	return status;
}

/* Strict decimal: optional '-', digits, no leading '+', no spaces, fits. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0;
	bool neg = false;
	size_t i = 0;

	if (n == 0 || n > 20)
		return false;
	if (s[0] == '-') {
		neg = true;
		i = 1;
		if (n == 1)
			return false;
	}
	for (; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		/* Checked before v * 10 + d: afterwards a wrapped value (2^64 reads
		 * as 0) is indistinguishable from a small one. */
		if (v > ((unsigned long long)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? -(long long)v : (long long)v;
	return true;
}

static int push_arg(struct resp_parser *p, size_t off, size_t len)
{
	if (p->argc == p->argcap) {
		int cap = p->argcap ? p->argcap * 2 : 16;
		struct resp_arg *a = realloc(p->argv, (size_t)cap * sizeof(*a));

		if (!a)
			return -1;
		p->argv = a;
		p->argcap = cap;
	}
	p->argv[p->argc].ptr = (const char *)(uintptr_t)off;
	p->argv[p->argc].len = len;
	p->argc++;
	return 0;
}

static int done(struct resp_parser *p, char *buf, size_t *consumed, int *argc,
		const struct resp_arg **argv)
{
	int i;

	for (i = 0; i < p->argc; i++)
		p->argv[i].ptr = buf + (uintptr_t)p->argv[i].ptr;
	*consumed = p->scan;
	*argc = p->argc;
	*argv = p->argv;
	reset(p);
	return RESP_DONE;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte a "double quoted" backslash escape \c stands for. */
static char unescape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'b':
		return '\b';
	case 'a':
		return '\a';
	default:
		return c;
	}
}

/*
 * Split line[0..n) into arguments as redis' sdssplitargs() does: spaces
 * separate, "double quotes" take \n \r \t \b \a \\ \" \xHH escapes, 'single
 * quotes' take \', and a closing quote must end the argument. Unescaping is
 * done in place: the write position never passes the read position.
 */
static int split_inline(struct resp_parser *p, char *line, size_t n)
{
	size_t r = 0, w = 0, start;

	for (;;) {
		while (r < n && isspace((unsigned char)line[r]))
			r++;
		if (r == n)
			return 0;
		start = w;
		if (line[r] == '"' || line[r] == '\'') {
			char q = line[r++];

			for (;;) {
				if (r >= n)
					return -1;
				if (q == '"' && line[r] == '\\' && r + 3 < n &&
				    line[r + 1] == 'x' && hexval(line[r + 2]) >= 0 &&
				    hexval(line[r + 3]) >= 0) {
					line[w++] = (char)(hexval(line[r + 2]) * 16 +
							   hexval(line[r + 3]));
					r += 4;
				} else if (line[r] == '\\' && r + 1 < n &&
					   (q == '"' || line[r + 1] == '\'')) {
					line[w++] = unescape(line[r + 1]);
					r += 2;
				} else if (line[r] == q) {
					r++;
					if (r < n && !isspace((unsigned char)line[r]))
						return -1;
					break;
				} else {
					line[w++] = line[r++];
				}
			}
		} else {
			while (r < n && !isspace((unsigned char)line[r]))
				line[w++] = line[r++];
		}
		if (push_arg(p, start, w - start))
			return -2;
	}
}

static int parse_inline(struct resp_parser *p, char *buf, size_t len, size_t *consumed, int *argc,
			const struct resp_arg **argv)
{
	char *nl = memchr(buf + p->scan, '\n', len - p->scan);
	size_t linelen, end;
	int err;

	if (!nl) {
		if (len > RESP_MAX_INLINE)
			return fail(p, RESP_ETOOBIG, "Protocol error: too big inline request");
		p->scan = len; /* resume the search where it stopped */
		p->begun = true;
		return RESP_AGAIN;
	}
	end = (size_t)(nl - buf);
	if (end > RESP_MAX_INLINE)
		return fail(p, RESP_ETOOBIG, "Protocol error: too big inline request");
	linelen = end;
	if (linelen && buf[linelen - 1] == '\r')
		linelen--;
	p->argc = 0;
	err = split_inline(p, buf, linelen);
	if (err == -1)
		return fail(p, RESP_EPROTO, "Protocol error: unbalanced quotes in request");
	if (err)
		return fail(p, RESP_ETOOBIG, "Protocol error: out of memory for the request");
	p->scan = end + 1;
	return done(p, buf, consumed, argc, argv);
}

/* Find the "\r\n" ending a header line at p->scan. 1 found (*cr set), 0 need
 * more, <0 error status. */
static int header_line(struct resp_parser *p, const char *buf, size_t len, size_t *cr,
		       const char *toobig)
{
	const char *q = memchr(buf + p->scan, '\r', len - p->scan);

	if (!q) {
		if (len - p->scan > RESP_MAX_INLINE)
			return fail(p, RESP_ETOOBIG, toobig);
		return 0;
	}
	*cr = (size_t)(q - buf);
	if (*cr + 1 >= len)
		return 0;
	if (buf[*cr + 1] != '\n')
		return fail(p, RESP_EPROTO, "Protocol error: expected '\\n' after '\\r'");
	return 1;
}

int resp_parse(struct resp_parser *p, char *buf, size_t len, size_t *consumed, int *argc,
	       const struct resp_arg **argv)
{
	size_t cr;
	long long ll;
	int r;

	p->errmsg = NULL;
	if (len == 0)
		return RESP_AGAIN;
	if (p->argcap > ARGV_KEEP && p->multibulk == 0 && p->scan == 0) {
		free(p->argv);
		p->argv = NULL;
		p->argcap = 0;
	}
	if (p->inline_req || (p->multibulk == 0 && p->scan == 0 && buf[0] != '*')) {
		p->inline_req = true;
		return parse_inline(p, buf, len, consumed, argc, argv);
	}

	if (p->multibulk == 0) {
		r = header_line(p, buf, len, &cr, "Protocol error: too big mbulk count string");
		if (r < 0)
			return r;
		if (r == 0)
			goto again;
		if (!parse_ll(buf + 1, cr - 1, &ll) || ll < 0 || ll > RESP_MAX_MULTIBULK)
			return fail(p, RESP_EPROTO, "Protocol error: invalid multibulk length");
		p->scan = cr + 2;
		p->argc = 0;
		if (ll == 0)
			return done(p, buf, consumed, argc, argv);
		p->multibulk = ll;
		p->bulklen = -1;
	}

	while (p->multibulk > 0) {
		if (p->bulklen < 0) {
			r = header_line(p, buf, len, &cr,
					"Protocol error: too big bulk count string");
			if (r < 0)
				return r;
			if (r == 0)
				goto again;
			if (buf[p->scan] != '$') {
				static char msg[64];

				/* static: errmsg must outlive the call; the loop is one thread */
				snprintf(msg, sizeof(msg), "Protocol error: expected '$', got '%c'",
					 isprint((unsigned char)buf[p->scan]) ? buf[p->scan] : '?');
				return fail(p, RESP_EPROTO, msg);
			}
			if (!parse_ll(buf + p->scan + 1, cr - p->scan - 1, &ll) || ll < 0)
				return fail(p, RESP_EPROTO, "Protocol error: invalid bulk length");
			if (ll > RESP_MAX_BULK)
				return fail(p, RESP_ETOOBIG, "Protocol error: invalid bulk length");
			if (cr + 2 + (size_t)ll + 2 > RESP_MAX_REQUEST)
				return fail(p, RESP_ETOOBIG, "Protocol error: request too big");
			p->bulklen = ll;
			p->scan = cr + 2;
		}
		if (len - p->scan < (size_t)p->bulklen + 2)
			goto again;
		if (buf[p->scan + p->bulklen] != '\r' || buf[p->scan + p->bulklen + 1] != '\n')
			return fail(p, RESP_EPROTO,
				    "Protocol error: expected '\\r\\n' after a bulk string");
		if (push_arg(p, p->scan, (size_t)p->bulklen))
			return fail(p, RESP_ETOOBIG,
				    "Protocol error: out of memory for the request");
		p->scan += (size_t)p->bulklen + 2;
		p->bulklen = -1;
		p->multibulk--;
	}
	return done(p, buf, consumed, argc, argv);

again:
	if (len > RESP_MAX_REQUEST)
		return fail(p, RESP_ETOOBIG, "Protocol error: request too big");
	p->begun = true;
	return RESP_AGAIN;
}

bool resp_arg_is(const struct resp_arg *a, const char *word)
{
	size_t n = strlen(word);

	return a->len == n && !strncasecmp(a->ptr, word, n);
}

/* --- replies --------------------------------------------------------------- */

static void w_hdr(struct sbuf *out, char type, long long n)
{
	char *q;

	if (sbuf_reserve(out, 24))
		return;
	q = out->data + out->len;
	*q++ = type;
	q += sbuf_fmt_ll(q, n);
	*q++ = '\r';
	*q++ = '\n';
	*q = '\0';
	out->len = (size_t)(q - out->data);
}

static void w_line(struct sbuf *out, char type, const char *s)
{
	size_t n = strlen(s), i, start;

	if (sbuf_reserve(out, n + 3))
		return;
	start = out->len;
	out->data[out->len++] = type;
	memcpy(out->data + out->len, s, n);
	/* A CR or LF would end the line early and desync the client. */
	for (i = start + 1; i < start + 1 + n; i++)
		if (out->data[i] == '\r' || out->data[i] == '\n')
			out->data[i] = ' ';
	out->len += n;
	out->data[out->len++] = '\r';
	out->data[out->len++] = '\n';
	out->data[out->len] = '\0';
}

void resp_w_simple(struct sbuf *out, const char *s)
{
	w_line(out, '+', s);
}

void resp_w_error(struct sbuf *out, const char *msg)
{
	w_line(out, '-', msg);
}

void resp_w_int(struct sbuf *out, long long v)
{
	w_hdr(out, ':', v);
}

void resp_w_bulk(struct sbuf *out, const void *p, size_t len)
{
	if (sbuf_reserve(out, len + 26))
		return;
	w_hdr(out, '$', (long long)len);
	memcpy(out->data + out->len, p, len);
	out->len += len;
	out->data[out->len++] = '\r';
	out->data[out->len++] = '\n';
	out->data[out->len] = '\0';
}

void resp_w_null(struct sbuf *out, int proto)
{
	if (proto >= 3)
		sbuf_append(out, "_\r\n", 3);
	else
		sbuf_append(out, "$-1\r\n", 5);
}

void resp_w_null_array(struct sbuf *out, int proto)
{
	if (proto >= 3)
		sbuf_append(out, "_\r\n", 3);
	else
		sbuf_append(out, "*-1\r\n", 5);
}

void resp_w_array(struct sbuf *out, size_t n)
{
	w_hdr(out, '*', (long long)n);
}

void resp_w_map(struct sbuf *out, int proto, size_t npairs)
{
	if (proto >= 3)
		w_hdr(out, '%', (long long)npairs);
	else
		w_hdr(out, '*', (long long)npairs * 2);
}

void resp_w_set(struct sbuf *out, int proto, size_t n)
{
	w_hdr(out, proto >= 3 ? '~' : '*', (long long)n);
}

void resp_w_push(struct sbuf *out, int proto, size_t n)
{
	w_hdr(out, proto >= 3 ? '>' : '*', (long long)n);
}

void resp_w_double(struct sbuf *out, int proto, double d)
{
	char buf[64];
	int n;

	if (isinf(d))
		n = snprintf(buf, sizeof(buf), "%s", d > 0 ? "inf" : "-inf");
	else if (isnan(d))
		n = snprintf(buf, sizeof(buf), "nan");
	else
		n = snprintf(buf, sizeof(buf), "%.17g", d);
	if (proto >= 3) {
		sbuf_putc(out, ',');
		sbuf_append(out, buf, (size_t)n);
		sbuf_append(out, "\r\n", 2);
	} else {
		resp_w_bulk(out, buf, (size_t)n);
	}
}

void resp_w_bool(struct sbuf *out, int proto, bool v)
{
	if (proto >= 3)
		sbuf_append(out, v ? "#t\r\n" : "#f\r\n", 4);
	else
		sbuf_append(out, v ? ":1\r\n" : ":0\r\n", 4);
}

void resp_w_verbatim(struct sbuf *out, int proto, const char *fmt, const void *p, size_t len)
{
	if (proto < 3) {
		resp_w_bulk(out, p, len);
		return;
	}
	if (sbuf_reserve(out, len + 30))
		return;
	w_hdr(out, '=', (long long)len + 4);
	sbuf_append(out, fmt, 3);
	sbuf_putc(out, ':');
	sbuf_append(out, p, len);
	sbuf_append(out, "\r\n", 2);
}
