/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * redis_loop: hiredis's asynchronous context on a libuv loop, without a
 * system call per command.
 *
 * hiredis asks its event adapter to watch for "writable" after every
 * command it queues; the adapter hiredis ships restarts its uv_poll each
 * time, and libuv turns every restart into an epoll_ctl (two, counting the
 * one at the next poll). This adapter changes the watch only when its mask
 * changes, and writes queued commands itself: before the loop polls again
 * (uv_prepare: nothing queued waits for an event), and as soon as
 * REDIS_LOOP_FLUSH_EVERY commands are queued, so Redis starts on the first
 * commands of a burst while the agent is still reading the rest (the two
 * overlap instead of taking turns). "Writable" is watched only while connecting and while the
 * socket is full.
 */
#ifndef FG_REDIS_LOOP_H
#define FG_REDIS_LOOP_H

#include <hiredis/async.h>
#include <uv.h>

#ifndef REDIS_LOOP_FLUSH_EVERY
#define REDIS_LOOP_FLUSH_EVERY 8
#endif

/*
 * What Redis may send on a connection. hiredis 0.14 aborts the process on a
 * reply that no request waits for, and allocates whatever an array header or
 * a bulk length announces; replies are read through a second, allocation-free
 * parser first, and a connection that sends one of these is dropped as a
 * protocol error instead. The largest reply the agent asks for is a fleet
 * set (two elements per ban or vouch); its longest item is a few hundred
 * bytes.
 */
#define REDIS_LOOP_MAX_ELEMENTS (4U << 20) /* in one reply, nested arrays included */
#define REDIS_LOOP_MAX_ITEM	(4U << 20) /* bytes of one item still being read */

/* Attach ac (just connected, nothing attached yet) to loop: REDIS_OK, or
 * REDIS_ERR (the caller frees ac). */
int redis_loop_attach(redisAsyncContext *ac, uv_loop_t *loop);

/* Read what Redis sent on ac and hand it to hiredis's callbacks, unless it
 * breaks the bounds above: then ac is dropped with that error (its
 * disconnect callback runs). ac may be freed on return. */
void redis_loop_read(redisAsyncContext *ac);

#endif /* FG_REDIS_LOOP_H */
