// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_loop.h"

/* Exported by hiredis 0.14 but not declared in its async.h: what
 * redisAsyncHandleRead() does once it has read. */
void redisProcessCallbacks(redisAsyncContext *ac);

struct io {
	redisAsyncContext *ac; /* NULL once hiredis has let go of it */
	uv_poll_t poll;
	uv_prepare_t flush; /* before the loop polls */
	int watching;	    /* UV_READABLE / UV_WRITABLE the poll is started with */
	int queued;	    /* commands queued since the last write */
	bool pending;	    /* hiredis has output to write */
	bool flushing;	    /* inside redisAsyncHandleWrite from on_flush */
	int open;	    /* handles not yet closed */
	redisReader *check; /* the same bytes as hiredis's reader, parsed to nothing */
	size_t elements;    /* array elements in the reply check is reading */
	bool too_long;	    /* ... went over REDIS_LOOP_MAX_ELEMENTS */
};

static void on_poll(uv_poll_t *h, int status, int events);

static void watch(struct io *io, int events)
{
	if (events == io->watching)
		return;
	io->watching = events;
	if (events)
		uv_poll_start(&io->poll, events, on_poll);
	else
		uv_poll_stop(&io->poll);
}

/* The checking parser's objects: nothing is built, arrays are counted. */
static char parsed;

static void *check_string(const redisReadTask *t, char *s, size_t len)
{
	(void)t, (void)s, (void)len;
	return &parsed;
}

static void *check_array(const redisReadTask *t, int n)
{
	struct io *io = t->privdata;

	io->elements += n > 0 ? (size_t)n : 0;
	if (io->elements > REDIS_LOOP_MAX_ELEMENTS) {
		io->too_long = true;
		return NULL; /* the parser stops with an error */
	}
	return &parsed;
}

static void *check_integer(const redisReadTask *t, long long v)
{
	(void)t, (void)v;
	return &parsed;
}

static void *check_nil(const redisReadTask *t)
{
	(void)t;
	return &parsed;
}

static void check_free(void *obj)
{
	(void)obj;
}

static redisReplyObjectFunctions check_fns = {
	.createString = check_string,
	.createArray = check_array,
	.createInteger = check_integer,
	.createNil = check_nil,
	.freeObject = check_free,
};

/* Do at least n requests wait for a reply? (walks at most n callbacks) */
static bool waiting(const redisAsyncContext *ac, size_t n)
{
	const redisCallback *cb = ac->replies.head;

	for (; n && cb; cb = cb->next)
		n--;
	return !n;
}

/* Does the item the parser waits on announce a bulk longer than the bound?
 * Its bytes may never come ("$999999999\r\n" alone): judged by its header. */
static bool bulk_too_long(const redisReader *r)
{
	const char *p = r->buf + r->pos, *end = r->buf + r->len;
	unsigned long long n = 0;

	/* The parser has taken the item's type byte ("$") and waits on its
	 * length line or its bytes. */
	if (r->ridx < 0 || r->rstack[r->ridx].type != REDIS_REPLY_STRING)
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > REDIS_LOOP_MAX_ITEM)
			return true;
	}
	return false;
}

/* Parse buf[0..len) with io->check; why it breaks the bounds into why, or
 * false. */
static bool out_of_bounds(struct io *io, const char *buf, size_t len, char *why, size_t wlen)
{
	redisReader *r = io->check;
	size_t replies = 0;
	void *reply;

	if (redisReaderFeed(r, buf, len) != REDIS_OK) {
		snprintf(why, wlen, "out of memory reading a reply");
		return true;
	}
	while (redisReaderGetReply(r, &reply) == REDIS_OK && reply) {
		replies++;
		io->elements = 0;
	}
	if (io->too_long) {
		snprintf(why, wlen, "a reply of more than %u array elements",
			 REDIS_LOOP_MAX_ELEMENTS);
		return true;
	}
	if (r->err) {
		snprintf(why, wlen, "%s", r->errstr);
		return true;
	}
	if (r->len - r->pos > REDIS_LOOP_MAX_ITEM || bulk_too_long(r)) {
		snprintf(why, wlen, "a reply item of more than %u bytes", REDIS_LOOP_MAX_ITEM);
		return true;
	}
	/* A subscribed connection gets messages no request asked for. */
	if (!(io->ac->c.flags & REDIS_SUBSCRIBED) && !waiting(io->ac, replies)) {
		snprintf(why, wlen, "a reply that no request waits for");
		return true;
	}
	return false;
}

void redis_loop_read(redisAsyncContext *ac)
{
	struct io *io = ac->ev.data;
	char buf[16 * 1024], why[128];
	ssize_t n;

	/* Still connecting: finish that first (and send what is queued);
	 * hiredis's read would read replies past the check. */
	if (!(ac->c.flags & REDIS_CONNECTED)) {
		redisAsyncHandleWrite(ac);
		return;
	}
	/* An error hiredis already holds: its read drops the connection. */
	if (ac->c.err || !io || !io->check) {
		redisAsyncHandleRead(ac);
		return;
	}
	n = read(ac->c.fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		redisAsyncHandleRead(ac); /* reads the end (or error) again, and drops */
		return;
	}
	/* hiredis drops a connection whose reader holds an error (ours, or
	 * the out-of-memory one a feed may leave), and tells the disconnect
	 * callback why. */
	if (out_of_bounds(io, buf, (size_t)n, why, sizeof(why))) {
		ac->c.reader->err = REDIS_ERR_PROTOCOL;
		snprintf(ac->c.reader->errstr, sizeof(ac->c.reader->errstr), "%s", why);
	} else {
		redisReaderFeed(ac->c.reader, buf, (size_t)n);
	}
	redisProcessCallbacks(ac);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct io *io = h->data;

	/* On an error let hiredis read or write and find it (the adapter
	 * hiredis ships ignores it, leaving the connection hanging). */
	if (status < 0)
		events = io->watching;
	if (io->ac && (events & UV_READABLE))
		redis_loop_read(io->ac);
	if (io->ac && (events & UV_WRITABLE))
		redisAsyncHandleWrite(io->ac);
}

static void on_flush(uv_prepare_t *h)
{
	struct io *io = h->data;

	uv_prepare_stop(&io->flush);
	io->queued = 0;
	if (!io->ac || !io->pending)
		return;
	/* hiredis writes, and asks for "writable" again (add_write below)
	 * when the socket did not take everything. It may also drop the
	 * connection on an error: io stays valid until its handles close. */
	io->flushing = true;
	redisAsyncHandleWrite(io->ac);
	io->flushing = false;
}

static bool connected(const struct io *io)
{
	return io->ac && (io->ac->c.flags & REDIS_CONNECTED) && !io->ac->c.err;
}

static void add_read(void *arg)
{
	struct io *io = arg;

	watch(io, io->watching | UV_READABLE);
}

static void del_read(void *arg)
{
	struct io *io = arg;

	watch(io, io->watching & ~UV_READABLE);
}

/* hiredis calls this after queuing each command, and after a write that
 * did not finish. */
static void add_write(void *arg)
{
	struct io *io = arg;
	int done;

	io->pending = true;
	if (!connected(io) || io->flushing) {
		watch(io, io->watching | UV_WRITABLE);
		return;
	}
	if (io->watching & UV_WRITABLE)
		return; /* the socket is full: the poll writes when it drains */
	uv_prepare_start(&io->flush, on_flush);
	if (++io->queued < REDIS_LOOP_FLUSH_EVERY)
		return;
	/* redisBufferWrite never calls back: an error is left in ac->c.err
	 * for on_flush's redisAsyncHandleWrite to act on, from the loop. */
	io->queued = 0;
	if (redisBufferWrite(&io->ac->c, &done) == REDIS_OK && done)
		io->pending = false;
}

static void del_write(void *arg)
{
	struct io *io = arg;

	io->pending = false;
	watch(io, io->watching & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *h)
{
	struct io *io = h->data;

	if (--io->open == 0) {
		if (io->check)
			redisReaderFree(io->check);
		free(io);
	}
}

static void cleanup(void *arg)
{
	struct io *io = arg;

	io->ac = NULL;
	uv_close((uv_handle_t *)&io->poll, on_closed);
	uv_close((uv_handle_t *)&io->flush, on_closed);
}

int redis_loop_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct io *io;

	if (ac->ev.data)
		return REDIS_ERR;
	io = calloc(1, sizeof(*io));
	if (!io)
		return REDIS_ERR;
	io->check = redisReaderCreateWithFunctions(&check_fns);
	if (!io->check || uv_poll_init(loop, &io->poll, ac->c.fd)) {
		if (io->check)
			redisReaderFree(io->check);
		free(io);
		return REDIS_ERR;
	}
	io->check->privdata = io;
	uv_prepare_init(loop, &io->flush);
	io->poll.data = io->flush.data = io;
	io->open = 2;
	io->ac = ac;
	ac->ev.data = io;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	return REDIS_OK;
}
