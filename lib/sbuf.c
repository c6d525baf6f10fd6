// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

int sbuf_reserve(struct sbuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	if (need < b->len) /* overflow */
		goto fail;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = true;
	return -ENOMEM;
}

void sbuf_append(struct sbuf *b, const void *p, size_t n)
{
	if (sbuf_reserve(b, n))
		return;
	if (n) /* p may be NULL then (an empty sbuf's data): memcpy must not see it */
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_append(b, s, strlen(s));
}

void sbuf_putc(struct sbuf *b, char c)
{
	if (sbuf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (sbuf_reserve(b, 64))
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		if (sbuf_reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static size_t fmt_ull(char *buf, unsigned long long v)
{
	/* Two digits per division: the reply path formats many integers. */
	static const char digits[] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";
	char tmp[24];
	size_t i = sizeof(tmp), n;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		tmp[--i] = digits[d + 1];
		tmp[--i] = digits[d];
	}
	if (v >= 10) {
		unsigned d = (unsigned)v * 2;

		tmp[--i] = digits[d + 1];
		tmp[--i] = digits[d];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	n = sizeof(tmp) - i;
	memcpy(buf, tmp + i, n);
	return n;
}

size_t sbuf_fmt_ll(char *buf, long long v)
{
	unsigned long long u;

	if (v >= 0)
		return fmt_ull(buf, (unsigned long long)v);
	u = (unsigned long long)(-(v + 1)) + 1; /* LLONG_MIN safe */
	buf[0] = '-';
	return 1 + fmt_ull(buf + 1, u);
}

void sbuf_put_ll(struct sbuf *b, long long v)
{
	if (sbuf_reserve(b, 21))
		return;
	b->len += sbuf_fmt_ll(b->data + b->len, v);
	b->data[b->len] = '\0';
}

void sbuf_put_ull(struct sbuf *b, unsigned long long v)
{
	if (sbuf_reserve(b, 21))
		return;
	b->len += fmt_ull(b->data + b->len, v);
	b->data[b->len] = '\0';
}

void sbuf_consume(struct sbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->cap)
		b->data[b->len] = '\0';
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
