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

/* Attach ac (just connected, nothing attached yet) to loop: REDIS_OK, or
 * REDIS_ERR (the caller frees ac). */
int redis_loop_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif /* FG_REDIS_LOOP_H */
