/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * resp: the Redis protocol. An incremental request parser (multibulk
 * "*N\r\n$len\r\n..." and inline "PING\r\n" commands, as redis-server
 * accepts them) and a reply encoder for RESP2 and RESP3.
 *
 * The parser never copies arguments: argv points into the caller's buffer.
 * It keeps its progress as offsets from the start of the request, so the
 * caller may move or grow the buffer between calls as long as the bytes of
 * the unfinished request keep their order from that start.
 */
#ifndef FG_RESP_H
#define FG_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

/* One request argument: binary safe, not NUL-terminated. */
struct resp_arg {
	const char *ptr;
	size_t len;
};

#ifndef RESP_MAX_REQUEST
#define RESP_MAX_REQUEST (1024 * 1024) /* bytes of one request, framing included */
#endif
#ifndef RESP_MAX_BULK
#define RESP_MAX_BULK (1024 * 1024) /* one argument */
#endif
#ifndef RESP_MAX_MULTIBULK
#define RESP_MAX_MULTIBULK (1024 * 1024) /* arguments in one "*N" request */
#endif
#ifndef RESP_MAX_INLINE
#define RESP_MAX_INLINE (64 * 1024) /* an inline command line, or a "*N"/"$N" line */
#endif

enum resp_status {
	RESP_AGAIN = 0,	   /* incomplete: feed more bytes (the same ones plus new) */
	RESP_DONE = 1,	   /* one request parsed: argc/argv set, *consumed bytes used */
	RESP_EPROTO = -1,  /* malformed; errmsg says how; the connection must close */
	RESP_ETOOBIG = -2, /* over a RESP_MAX_* limit; errmsg; must close */
};

struct resp_parser {
	/* state of the request in progress (offsets from its first byte) */
	size_t scan;	     /* where parsing resumes */
	long long multibulk; /* args still expected; 0 = none begun */
	long long bulklen;   /* -1 = expecting a "$len" line */
	int argc;
	int argcap;
	struct resp_arg *argv; /* during a request .ptr holds an offset */
	bool inline_req;
	bool begun;	    /* bytes of an unfinished request are held */
	const char *errmsg; /* static string after RESP_EPROTO/ETOOBIG */
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_free(struct resp_parser *p);

/* True when a request has begun but is not complete (bytes are held). */
bool resp_parser_pending(const struct resp_parser *p);

/*
 * Parse one request from buf[0..len) (buf = first byte of the request).
 * RESP_DONE: *argc and *argv (owned by the parser, valid until the next
 * call or until buf changes) describe it and *consumed bytes belong to it;
 * an inline request may have been unescaped in place, hence the non-const
 * buf. Blank inline lines and "*0" are consumed and skipped (RESP_DONE with
 * *argc == 0). RESP_AGAIN: call again with the same request start and more
 * bytes. Errors leave p->errmsg set ("Protocol error: ...").
 */
int resp_parse(struct resp_parser *p, char *buf, size_t len, size_t *consumed, int *argc,
	       const struct resp_arg **argv);

/* a is word, ignoring ASCII case (command names, subcommands, options). */
bool resp_arg_is(const struct resp_arg *a, const char *word);

/* --- replies: append one RESP value to out; proto is 2 or 3 ---------------- */
void resp_w_simple(struct sbuf *out, const char *s);  /* "+s"; \r\n in s become spaces */
void resp_w_error(struct sbuf *out, const char *msg); /* "-msg"; msg starts with a code */
void resp_w_int(struct sbuf *out, long long v);
void resp_w_bulk(struct sbuf *out, const void *p, size_t len);
void resp_w_null(struct sbuf *out, int proto);	     /* RESP3 "_", RESP2 "$-1" */
void resp_w_null_array(struct sbuf *out, int proto); /* RESP3 "_", RESP2 "*-1" */
void resp_w_array(struct sbuf *out, size_t n);
void resp_w_map(struct sbuf *out, int proto, size_t npairs); /* RESP2: array of 2n */
void resp_w_set(struct sbuf *out, int proto, size_t n);	     /* RESP2: array */
void resp_w_push(struct sbuf *out, int proto, size_t n);     /* RESP3 ">", RESP2 array */
void resp_w_double(struct sbuf *out, int proto, double d);   /* RESP2: bulk string */
void resp_w_bool(struct sbuf *out, int proto, bool v);	     /* RESP2: :0/:1 */
/* RESP3 verbatim "=len\r\ntxt:..." (fmt is 3 letters), RESP2 a bulk string. */
void resp_w_verbatim(struct sbuf *out, int proto, const char *fmt, const void *p, size_t len);

#endif /* FG_RESP_H */
