/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * process: settings of the whole agent process, made once by main() (and
 * by tests that run the server the way the agent does) rather than by the
 * module that happens to need them first: SIGPIPE ignored, glibc's malloc
 * tuned for many short-lived client buffers, and the open files limit
 * raised for the socket's clients. Not thread-safe: call before threads.
 */
#ifndef FG_PROCESS_H
#define FG_PROCESS_H

#include <stdint.h>

/* SIGPIPE ignored (a peer gone mid-reply costs an EPIPE, not the agent) and
 * malloc's mmap/trim thresholds fixed. Call once, before the loop runs. */
void process_setup(void);

/* Raise the soft RLIMIT_NOFILE to want descriptors, up to the hard limit;
 * logs a warning when it stays below. */
void process_raise_nofile(uint64_t want);

#endif /* FG_PROCESS_H */
