// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "redis_loop.h"

struct io {
	redisAsyncContext *ac; /* NULL once hiredis has let go of it */
	uv_poll_t poll;
	uv_prepare_t flush; /* before the loop polls */
	int watching;	    /* UV_READABLE / UV_WRITABLE the poll is started with */
	int queued;	    /* commands queued since the last write */
	bool pending;	    /* hiredis has output to write */
	bool flushing;	    /* inside redisAsyncHandleWrite from on_flush */
	int open;	    /* handles not yet closed */
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

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct io *io = h->data;

	/* On an error let hiredis read or write and find it (the adapter
	 * hiredis ships ignores it, leaving the connection hanging). */
	if (status < 0)
		events = io->watching;
	if (io->ac && (events & UV_READABLE))
		redisAsyncHandleRead(io->ac);
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

	if (--io->open == 0)
		free(io);
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
	if (uv_poll_init(loop, &io->poll, ac->c.fd)) {
		free(io);
		return REDIS_ERR;
	}
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
