/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * sbuf: a growable byte buffer / string builder. The socket server's read
 * and reply buffers, and what INFO section callbacks write into.
 *
 * Allocation failure is sticky: the buffer stops growing, further appends
 * are dropped and sbuf_failed() says so; callers check once at the end
 * instead of after every append.
 */
#ifndef FG_SBUF_H
#define FG_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *data; /* NUL-terminated after every append (when cap > 0) */
	size_t len;
	size_t cap;
	bool failed;
};

#define SBUF_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

/* Make room for at least extra more bytes (plus the NUL). 0 or -ENOMEM. */
int sbuf_reserve(struct sbuf *b, size_t extra);

void sbuf_append(struct sbuf *b, const void *p, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Decimal v; no printf on the hot path. */
void sbuf_put_ll(struct sbuf *b, long long v);
void sbuf_put_ull(struct sbuf *b, unsigned long long v);

/* Drop the first n bytes (moves the rest to the front). */
void sbuf_consume(struct sbuf *b, size_t n);

/* Empty it, keeping the memory. */
static inline void sbuf_clear(struct sbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->cap)
		b->data[0] = '\0';
}

static inline bool sbuf_failed(const struct sbuf *b)
{
	return b->failed;
}

/* Release the memory; *b is empty and reusable afterwards. */
void sbuf_free(struct sbuf *b);

/* Format v in decimal into buf (at least 21 bytes); returns the length,
 * no NUL written. */
size_t sbuf_fmt_ll(char *buf, long long v);

#endif /* FG_SBUF_H */
