// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <floodgate/paths.h>

#include "log.h"
#include "server.h"
#include "server_int.h"
#include "sockfile.h"

#define SHARED_RBUF	 65536 /* one read of a client without a pending request */
#define PRIVATE_RBUF_MIN 16384
#define LISTEN_BACKLOG	 511
#define CRON_MS		 1000

const uint32_t server_lat_bounds_us[SERVER_LAT_BUCKETS] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000,
};

static const char *const err_kind_names[SERVER_ERR__MAX] = {
	[SERVER_ERR_PROTOCOL] = "protocol",	[SERVER_ERR_TOO_BIG] = "too_big",
	[SERVER_ERR_UNKNOWN] = "unknown",	[SERVER_ERR_ARITY] = "arity",
	[SERVER_ERR_NOPERM] = "noperm",		[SERVER_ERR_REPLY] = "reply",
	[SERVER_ERR_MAXCLIENTS] = "maxclients", [SERVER_ERR_TIMEOUT] = "timeout",
};

static const char *const reject_names[SERVER_REJECT__MAX] = {
	[SERVER_REJECT_MAX_CLIENTS] = "max_clients",
	[SERVER_REJECT_PER_UID] = "per_uid",
};
static const char *const close_names[SERVER_CLOSE__MAX] = {
	[SERVER_CLOSE_MEMORY] = "memory",
	[SERVER_CLOSE_OUTPUT_LIMIT] = "output_limit",
	[SERVER_CLOSE_IDLE] = "idle",
};

/* Connections of one peer uid (socket.max_clients_per_uid). */
struct uid_count {
	struct uid_count *next;
	uid_t uid;
	uint32_t n;
};

/* A reply held in order: a deferred one, or the replies of the requests
 * that came after a deferred one (held: no deferral, filled at once). */
struct deferred {
	struct deferred *next;
	struct client *c;
	struct sbuf buf;
	struct sbuf *next_ob; /* the client's reply target around deferred_begin/end */
	bool ended;	      /* complete: written once the entries before it are */
	bool held;
};

static void client_close(struct client *c);
static void flush(struct client *c);
static void resume(struct client *c);
static void on_resume_idle(uv_idle_t *h);

/* --- command table ----------------------------------------------------------- */

/* ASCII lower case without the locale machinery: looked up per command. */
static uint8_t lower_tab[256];

static void lower_tab_init(void)
{
	int i;

	for (i = 0; i < 256; i++)
		lower_tab[i] = (uint8_t)(i >= 'A' && i <= 'Z' ? i + 32 : i);
}

static uint32_t hash_lower(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= lower_tab[(uint8_t)s[i]];
		h *= 16777619u;
	}
	return h;
}

/* lname is lower case already */
static bool eq_lower(const char *lname, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((uint8_t)lname[i] != lower_tab[(uint8_t)s[i]])
			return false;
	return true;
}

struct cmd *server_cmd_lookup(struct server *s, const char *name, size_t n)
{
	uint32_t h;
	int16_t i;

	if (n == 0 || n >= CMD_NAME_MAX)
		return NULL;
	h = hash_lower(name, n) & (CMD_HASH_SIZE - 1);
	while ((i = s->hash[h]) >= 0) {
		struct cmd *c = &s->cmds[i];

		if (c->namelen == n && eq_lower(c->name, name, n))
			return c;
		h = (h + 1) & (CMD_HASH_SIZE - 1);
	}
	return NULL;
}

int server_register(struct server *s, const char *name, server_cmd_fn fn, int arity, unsigned flags,
		    void *ctx)
{
	size_t n = name ? strlen(name) : 0, i;
	struct cmd *c;
	uint32_t h;

	if (n == 0 || n >= CMD_NAME_MAX || !fn || arity == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (isspace((unsigned char)name[i]))
			return -EINVAL;
	if (server_cmd_lookup(s, name, n))
		return -EEXIST;
	if (s->ncmds == SERVER_MAX_COMMANDS)
		return -ENOSPC;
	/* "unknown" sits after the last command: move it up one slot */
	s->cmds[s->ncmds + 1] = s->cmds[s->ncmds];
	c = &s->cmds[s->ncmds];
	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++)
		c->name[i] = (char)tolower((unsigned char)name[i]);
	c->namelen = n;
	c->fn = fn;
	c->arity = arity;
	c->flags = flags;
	c->ctx = ctx;
	h = hash_lower(name, n) & (CMD_HASH_SIZE - 1);
	while (s->hash[h] >= 0)
		h = (h + 1) & (CMD_HASH_SIZE - 1);
	s->hash[h] = (int16_t)s->ncmds;
	s->ncmds++;
	return 0;
}

/* --- replies ------------------------------------------------------------------ */

void reply_simple(struct client *c, const char *s)
{
	resp_w_simple(c->ob, s);
}

void reply_ok(struct client *c)
{
	sbuf_append(c->ob, "+OK\r\n", 5);
}

static void reply_verror(struct client *c, enum server_err_kind kind, const char *fmt, va_list ap)
{
	char msg[512];

	size_t i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	c->srv->st.errors[kind]++;
	/* Clients take the first word as the error code: a message without
	 * one ("bad key") gets ERR rather than a code of "bad". */
	for (i = 0; msg[i] >= 'A' && msg[i] <= 'Z'; i++)
		;
	if (i == 0 || msg[i] != ' ') {
		memmove(msg + 4, msg, sizeof(msg) - 4);
		memcpy(msg, "ERR ", 4);
		msg[sizeof(msg) - 1] = '\0';
	}
	resp_w_error(c->ob, msg);
}

void __attribute__((format(printf, 3, 4)))
server_reply_error_kind(struct client *c, enum server_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(c, kind, fmt, ap);
	va_end(ap);
}

void reply_error(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(c, SERVER_ERR_REPLY, fmt, ap);
	va_end(ap);
}

void reply_int(struct client *c, long long v)
{
	resp_w_int(c->ob, v);
}

void reply_bulk(struct client *c, const void *p, size_t len)
{
	resp_w_bulk(c->ob, p, len);
}

void reply_cstr(struct client *c, const char *s)
{
	resp_w_bulk(c->ob, s, strlen(s));
}

void reply_null(struct client *c)
{
	resp_w_null(c->ob, c->proto);
}

void reply_array(struct client *c, size_t n)
{
	resp_w_array(c->ob, n);
}

void reply_map(struct client *c, size_t npairs)
{
	resp_w_map(c->ob, c->proto, npairs);
}

void reply_verbatim(struct client *c, const void *p, size_t len)
{
	resp_w_verbatim(c->ob, c->proto, "txt", p, len);
}

void reply_push(struct client *c, size_t n)
{
	resp_w_push(c->ob, c->proto, n);
}

size_t reply_defer(struct client *c)
{
	return c->ob->len;
}

void reply_set_array(struct client *c, size_t handle, size_t n)
{
	struct sbuf *b = c->ob;
	size_t end = b->len, hlen;
	char hdr[32];

	if (handle > end)
		return;
	/* append the header with the RESP writer, then rotate it into place */
	resp_w_array(b, n);
	if (sbuf_failed(b))
		return;
	hlen = b->len - end;
	if (hlen > sizeof(hdr)) {
		b->failed = true;
		return;
	}
	memcpy(hdr, b->data + end, hlen);
	memmove(b->data + handle + hlen, b->data + handle, end - handle);
	memcpy(b->data + handle, hdr, hlen);
}

/* --- client accessors ------------------------------------------------------ */

bool client_is_admin(const struct client *c)
{
	return c->admin;
}

int client_resp_version(const struct client *c)
{
	return c->proto;
}

uid_t client_uid(const struct client *c)
{
	return c->uid;
}

gid_t client_gid(const struct client *c)
{
	return c->gid;
}

int client_groups(const struct client *c, const gid_t **out)
{
	*out = c->groups;
	return c->ngroups;
}

bool client_is_closed(const struct client *c)
{
	return c->closing || c->closed;
}

void client_set_data(struct client *c, void *data, void (*free_fn)(void *data))
{
	c->data = data;
	c->data_free = free_fn;
}

void *client_get_data(const struct client *c)
{
	return c->data;
}

void client_set_push(struct client *c, bool on)
{
	c->push = on;
}

/* Admin rights: the peer's uid in admin_uids, or its primary or one of its
 * supplementary groups in admin_gids. */
static bool is_admin(const struct fg_conf_socket *conf, const struct client *c)
{
	int i, k;

	if (c->uid == (uid_t)-1)
		return false;
	for (i = 0; i < conf->nadmin_uids; i++)
		if (conf->admin_uids[i] == c->uid)
			return true;
	for (i = 0; i < conf->nadmin_gids; i++) {
		if (conf->admin_gids[i] == c->gid)
			return true;
		for (k = 0; k < c->ngroups; k++)
			if (conf->admin_gids[i] == c->groups[k])
				return true;
	}
	return false;
}

/* The peer's supplementary groups, as they were when it connected. */
static void peer_groups(struct client *c, int fd)
{
	socklen_t len = 32 * sizeof(gid_t);
	gid_t *g = malloc(len), *more;
	bool ok = g && !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);

	if (!ok && g && errno == ERANGE && (more = realloc(g, len))) {
		/* More than 32: len is now the size they need. */
		g = more;
		ok = !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);
	}
	if (!ok) {
		free(g);
		return;
	}
	c->groups = g;
	c->ngroups = (int)(len / sizeof(gid_t));
}

/* --- client limits -------------------------------------------------------------- */

static struct uid_count **uid_slot(struct server *s, uid_t uid)
{
	struct uid_count **pp = &s->uids[(uid * 2654435761u) & (UID_BUCKETS - 1)];

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

static uint32_t uid_clients(struct server *s, uid_t uid)
{
	struct uid_count *u = *uid_slot(s, uid);

	return u ? u->n : 0;
}

/* Count c in the limits. -ENOMEM leaves it uncounted. */
static int limits_add(struct client *c)
{
	struct server *s = c->srv;
	struct uid_count **pp = uid_slot(s, c->uid);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
		(*pp)->uid = c->uid;
	}
	(*pp)->n++;
	s->nclients++;
	c->counted = true;
	return 0;
}

static void limits_remove(struct client *c)
{
	struct server *s = c->srv;
	struct uid_count **pp, *u;

	if (!c->counted)
		return;
	c->counted = false;
	s->nclients--;
	pp = uid_slot(s, c->uid);
	u = *pp;
	if (u && --u->n == 0) {
		*pp = u->next;
		free(u);
	}
}

/* Admins of the config and root get the reserve and no per-uid limit. */
static bool privileged(const struct client *c)
{
	return c->admin || c->uid == 0;
}

/* The limits of conf, defaults for what a zeroed struct leaves at 0. */
static void limits_set(struct server *s, const struct fg_conf_socket *conf)
{
	s->max_clients = conf->max_clients ? conf->max_clients : FG_CONF_SOCKET_MAX_CLIENTS;
	s->per_uid = conf->max_clients_per_uid ? conf->max_clients_per_uid : s->max_clients / 4;
	if (!s->per_uid)
		s->per_uid = 1;
	s->reserve = conf->max_clients ? conf->admin_reserve : FG_CONF_SOCKET_ADMIN_RESERVE;
	if (s->reserve >= s->max_clients)
		s->reserve = s->max_clients / 2;
	s->idle_ms = conf->idle_timeout_ms;
	s->max_buffers = conf->max_buffers ? conf->max_buffers : FG_CONF_SOCKET_MAX_BUFFERS;
	s->out_limit = conf->client_output_limit ? conf->client_output_limit
						 : FG_CONF_SOCKET_CLIENT_OUTPUT_LIMIT;
	/* Stop running a client's requests well before its replies reach the
	 * limit: a fast pipeline then waits instead of being closed. */
	s->out_soft =
		SERVER_OUT_SOFT_LIMIT < s->out_limit / 2 ? SERVER_OUT_SOFT_LIMIT : s->out_limit / 2;
}

static size_t client_mem(const struct client *c)
{
	return c->in.cap + c->out.cap + c->wbuf.cap + c->held_bytes +
	       (size_t)c->parser.argcap * sizeof(struct resp_arg);
}

static void client_close(struct client *c);

/*
 * Over socket.max_buffers: close the clients holding the most until under
 * it. Admins (and root) go last: an operator's large XDP.LIST reply must not
 * be what a flood of partial requests costs.
 */
static void evict(struct server *s)
{
	struct client *c, *victim;
	char m[192];

	while (s->st.buffered > s->max_buffers) {
		victim = NULL;
		for (c = s->clients; c; c = c->next) {
			if (c->closing || !c->acct)
				continue;
			if (!victim || (privileged(victim) && !privileged(c)) ||
			    (privileged(victim) == privileged(c) && c->acct > victim->acct))
				victim = c;
		}
		if (!victim)
			return;
		log_warn(log_fmt(m, sizeof(m),
				 "socket buffers over socket.max_buffers (%llu bytes): closing the "
				 "client that holds the most",
				 (unsigned long long)s->max_buffers),
			 LOG_UINT("id", victim->id), LOG_UINT("uid", victim->uid),
			 LOG_INT("pid", victim->pid), LOG_UINT("client_bytes", victim->acct),
			 LOG_UINT("input_bytes", victim->in.cap),
			 LOG_UINT("output_bytes",
				  victim->out.cap + victim->wbuf.cap + victim->held_bytes),
			 LOG_UINT("buffered_bytes", s->st.buffered));
		s->st.closed[SERVER_CLOSE_MEMORY]++;
		client_close(victim);
	}
}

/* c's buffers changed: update the total, and keep it under the cap. */
static void account(struct client *c)
{
	struct server *s = c->srv;
	size_t now;

	if (c->closing)
		return;
	now = client_mem(c);
	s->st.buffered = s->st.buffered - c->acct + now;
	c->acct = now;
	if (s->st.buffered > s->trim_mark)
		s->trim_mark = s->st.buffered;
	if (s->st.buffered > s->max_buffers)
		evict(s);
}

/* A large request's buffer goes back once most of it has been used. */
static void shrink_in(struct client *c)
{
	size_t want = c->in.len * 2 + PRIVATE_RBUF_MIN;
	char *p;

	if (c->in.len == 0) {
		if (c->in.cap > PRIVATE_RBUF_MIN * 4)
			sbuf_free(&c->in);
		return;
	}
	if (c->in.cap <= PRIVATE_RBUF_MIN * 4 || c->in.len >= c->in.cap / 4)
		return;
	p = realloc(c->in.data, want);
	if (!p)
		return;
	c->in.data = p;
	c->in.cap = want;
}

/* --- client lifetime ---------------------------------------------------------- */

static void client_free(struct client *c)
{
	struct deferred *e, *next;

	/* Only held entries are left: each deferred one holds a reference. */
	for (e = c->dhead; e; e = next) {
		next = e->next;
		sbuf_free(&e->buf);
		free(e);
	}
	if (c->data_free)
		c->data_free(c->data);
	pubsub_client_reset(c);
	free(c->groups);
	resp_parser_free(&c->parser);
	sbuf_free(&c->in);
	sbuf_free(&c->out);
	sbuf_free(&c->wbuf);
	free(c);
}

static void unlink_client(struct client *c)
{
	struct server *s = c->srv;
	struct client **pp;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (c->queued) {
		for (pp = &s->resume_head; *pp; pp = &(*pp)->resume_next)
			if (*pp == c) {
				*pp = c->resume_next;
				break;
			}
		c->queued = false;
	}
}

static void on_client_close(uv_handle_t *h)
{
	struct client *c = h->data;

	c->closed = true;
	unlink_client(c);
	if (c->refs == 0)
		client_free(c);
}

static void client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	pubsub_client_reset(c); /* no more messages, and the subscriber count is now */
	c->srv->st.connected--;
	c->srv->st.buffered -= c->acct;
	c->acct = 0;
	limits_remove(c);
	/* Its buffers go now, not when the loop gets to the close callback:
	 * evicted clients must make room before the next read of this loop
	 * iteration (up to 1024 events) grows another one. Not while its own
	 * requests run: their arguments point into c->in. */
	if (!c->in_process) {
		sbuf_free(&c->in);
		/* c->ob is &c->out between batches too: out goes whatever ob
		 * says (an evicted never-reading client's megabytes are in it) */
		sbuf_free(&c->out);
	}
	/* A write in flight is cancelled by uv_close: libuv writes no more of
	 * wbuf and its ECANCELED callback does not read it, so it goes now too
	 * (a slow reader's megabytes are what an eviction is for). */
	sbuf_free(&c->wbuf);
	if (c->ndeferred)
		c->srv->st.blocked--;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = false;
	uv_close((uv_handle_t *)&c->pipe, on_client_close);
}

/* Close once nothing is left to do for a client that asked to go. */
static void maybe_finish(struct client *c)
{
	if (c->closing || c->writing || c->out.len || c->dhead)
		return; /* replies still to write, or still to come */
	if (c->close_after_write || (c->eof && !c->paused))
		client_close(c);
}

/* Too many deferred replies outstanding: run none of c's requests for now. */
static bool stalled(const struct client *c)
{
	return c->ndeferred >= SERVER_MAX_DEFERRED;
}

static void resume_queue(struct client *c)
{
	struct server *s = c->srv;

	if (c->queued || c->closing)
		return;
	c->queued = true;
	c->resume_next = s->resume_head;
	s->resume_head = c;
	uv_idle_start(&s->resume_idle, on_resume_idle);
}

static struct deferred *entry_add(struct client *c, bool held)
{
	struct server *s = c->srv;
	struct deferred *e = s->dfree;

	/* One per reply from Redis: taken from the entries that ended, not
	 * allocated each time. */
	if (e) {
		s->dfree = e->next;
		s->ndfree--;
		memset(e, 0, sizeof(*e));
	} else if (!(e = calloc(1, sizeof(*e)))) {
		return NULL;
	}
	e->c = c;
	e->held = held;
	if (c->dtail)
		c->dtail->next = e;
	else
		c->dhead = e;
	c->dtail = e;
	return e;
}

/* Move the entries that may go now (ended, nothing pending before them)
 * behind the client's replies already queued, in order. */
static void entries_flush(struct client *c)
{
	struct deferred *e;

	while ((e = c->dhead) && e->ended) {
		c->dhead = e->next;
		if (!c->dhead)
			c->dtail = NULL;
		c->held_bytes -= e->buf.len;
		if (!client_is_closed(c) && e->buf.len)
			sbuf_append(&c->out, e->buf.data, e->buf.len);
		sbuf_free(&e->buf);
		if (c->srv->ndfree < SERVER_MAX_DEFERRED) {
			e->next = c->srv->dfree;
			c->srv->dfree = e;
			c->srv->ndfree++;
		} else {
			free(e);
		}
	}
}

struct deferred *client_defer(struct client *c)
{
	struct server *s = c->srv;
	struct deferred *e;

	/* Replies of this batch so far sit in the shared buffer, which is
	 * written at the batch's end: put them in order before this one. */
	if (c->ob == &s->obuf) {
		sbuf_append(&c->out, s->obuf.data, s->obuf.len);
		sbuf_clear(&s->obuf);
		c->ob = &c->out;
	}
	e = entry_add(c, false);
	if (!e) {
		log_warn("out of memory for a deferred reply; closing client",
			 LOG_UINT("id", c->id));
		client_close(c);
		return NULL;
	}
	if (!c->ndeferred++)
		s->st.blocked++;
	c->refs++;
	return e;
}

/* The first client of the flush queue off it; NULL when it was closed
 * meanwhile (freed now if nothing else holds it) or the queue is empty. */
static struct client *flush_pop(struct server *s, bool *more)
{
	struct client *c = s->flush_head;

	*more = c != NULL;
	if (!c)
		return NULL;
	s->flush_head = c->flush_next;
	c->flush_queued = false;
	if (--c->refs == 0 && c->closed) {
		client_free(c);
		return NULL;
	}
	return client_is_closed(c) ? NULL : c;
}

static void on_flush_check(uv_check_t *h)
{
	struct server *s = h->data;
	struct client *c;
	bool more = true;

	while (more)
		if ((c = flush_pop(s, &more)))
			client_flush(c);
	uv_check_stop(h);
	uv_idle_stop(&s->flush_idle);
}

static void on_flush_idle(uv_idle_t *h)
{
	(void)h; /* active only so that the loop's poll does not block before the check */
}

/*
 * Write c's replies after this loop turn's I/O callbacks (uv_check), not
 * now: the replies Redis sent in one read for a pipelining client leave in
 * one write, not one write each (at -P 16, 16 system calls became one).
 */
static void flush_soon(struct client *c)
{
	struct server *s = c->srv;

	if (c->flush_queued)
		return;
	c->flush_queued = true;
	c->refs++; /* a client closed meanwhile is freed by on_flush_check */
	c->flush_next = s->flush_head;
	s->flush_head = c;
	uv_check_start(&s->flush_check, on_flush_check);
	uv_idle_start(&s->flush_idle, on_flush_idle);
}

struct client *deferred_begin(struct deferred *d)
{
	struct client *c;

	if (!d || client_is_closed(d->c))
		return NULL;
	c = d->c;
	d->next_ob = c->ob;
	/* The oldest reply still due, outside a batch: everything before it is
	 * queued already, so it goes straight behind (no buffer of its own to
	 * fill, copy and free for each reply from Redis). */
	c->ob = c->dhead == d && c->ob == &c->out ? &c->out : &d->buf;
	return c;
}

void deferred_end(struct deferred *d)
{
	struct client *c;
	bool was_stalled;

	if (!d)
		return;
	c = d->c;
	if (c->ob == &d->buf)
		c->ob = d->next_ob;
	d->ended = true;
	c->held_bytes += d->buf.len;
	was_stalled = stalled(c);
	if (--c->ndeferred == 0 && !c->closing)
		c->srv->st.blocked--;
	c->refs--;
	entries_flush(c);
	if (c->closed) {
		if (c->refs == 0)
			client_free(c);
		return;
	}
	if (c->closing)
		return;
	/* From another client's handler or a store callback: written at the
	 * end of this loop turn, and the rest of a stalled client's pipeline
	 * runs from the loop, never nested. */
	flush_soon(c);
	if (was_stalled && !stalled(c) && !c->in_process)
		resume_queue(c);
}

/* --- writing ------------------------------------------------------------------ */

size_t client_out_pending(const struct client *c)
{
	size_t n = c->out.len + c->wbuf.len + c->held_bytes;

	if (c->ob == &c->srv->obuf)
		n += c->srv->obuf.len;
	return n;
}

static void on_write(uv_write_t *req, int status);

/* A client paused for its pending replies goes on once they are below half
 * the limit, however they were written (a write request's end, or at once),
 * from the loop. */
static void maybe_unpause(struct client *c)
{
	if (c->paused && client_out_pending(c) < c->srv->out_soft / 2) {
		c->paused = false;
		resume_queue(c);
	}
}

static void start_write(struct client *c)
{
	struct sbuf tmp;
	uv_buf_t b;
	int err, n;

	if (c->writing || !c->out.len || c->closing)
		return;
	/* Most replies fit the socket: written now, libuv's write request (and
	 * the epoll_ctl that ends it) is only for the rest. */
	b = uv_buf_init(c->out.data, (unsigned)c->out.len);
	n = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
	if (n < 0 && n != UV_EAGAIN) {
		client_close(c);
		return;
	}
	if (n > 0) {
		c->srv->st.bytes_out += (uint64_t)n;
		c->write_progress_ms = uv_now(c->srv->loop);
		sbuf_consume(&c->out, (size_t)n);
		if (!c->out.len)
			return;
	}
	tmp = c->wbuf;
	c->wbuf = c->out;
	c->out = tmp;
	sbuf_clear(&c->out);
	b = uv_buf_init(c->wbuf.data, (unsigned)c->wbuf.len);
	c->write_progress_ms = uv_now(c->srv->loop);
	err = uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &b, 1, on_write);
	if (err) {
		client_close(c);
		return;
	}
	c->writing = true;
}

static void on_write(uv_write_t *req, int status)
{
	struct client *c = req->data;

	c->writing = false;
	if (status < 0 || c->closing) {
		if (!c->closing)
			client_close(c);
		return;
	}
	c->srv->st.bytes_out += c->wbuf.len;
	c->write_progress_ms = uv_now(c->srv->loop);
	/* A slow reader's buffers go; a fast one never gets here. */
	sbuf_free(&c->wbuf);
	if (c->out.len)
		start_write(c);
	maybe_unpause(c);
	maybe_finish(c);
	account(c);
}

/* Send what the client's replies so far; called after each batch. */
static void flush(struct client *c)
{
	struct server *s = c->srv;
	struct sbuf *ob = c->ob;
	int n;

	if (c->closing) {
		if (ob == &s->obuf)
			sbuf_clear(ob);
		return;
	}
	if (sbuf_failed(ob) || sbuf_failed(&c->out)) {
		log_warn("out of memory for replies; closing client", LOG_UINT("id", c->id));
		sbuf_clear(ob);
		client_close(c);
		return;
	}
	if (ob == &s->obuf && ob->len) {
		if (c->writing || c->out.len) {
			/* keep the order behind what is already queued */
			sbuf_append(&c->out, ob->data, ob->len);
		} else {
			uv_buf_t b = uv_buf_init(ob->data, (unsigned)ob->len);

			n = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
			if (n < 0 && n != UV_EAGAIN) {
				sbuf_clear(ob);
				client_close(c);
				return;
			}
			if (n < 0)
				n = 0;
			s->st.bytes_out += (uint64_t)n;
			if ((size_t)n < ob->len)
				sbuf_append(&c->out, ob->data + n, ob->len - (size_t)n);
		}
		sbuf_clear(ob);
		/* a huge INFO or XDP.LIST must not pin memory for everyone */
		if (ob->cap > (1u << 20))
			sbuf_free(ob);
	}
	if (c->out.len + c->wbuf.len + c->held_bytes > s->out_limit) {
		log_warn("client not reading its replies: over socket.client_output_limit; closing",
			 LOG_UINT("id", c->id), LOG_UINT("uid", c->uid), LOG_INT("pid", c->pid),
			 LOG_UINT("pending", c->out.len + c->wbuf.len + c->held_bytes),
			 LOG_UINT("limit", s->out_limit));
		s->st.closed[SERVER_CLOSE_OUTPUT_LIMIT]++;
		client_close(c);
		return;
	}
	start_write(c);
	maybe_unpause(c);
	maybe_finish(c);
	if (!c->closing)
		account(c);
}

/* A batch of replies goes to the shared buffer, or behind what c has
 * queued already (order); batch_end() sends it. */
static void batch_begin(struct client *c)
{
	c->ob = (c->writing || c->out.len) ? &c->out : &c->srv->obuf;
}

static void batch_end(struct client *c)
{
	flush(c);
	c->ob = &c->out;
}

int client_push_begin(struct client *c, struct push_ctx *p)
{
	struct deferred *h;

	p->ob = c->ob;
	p->h = NULL;
	if (!c->dtail)
		return 0;
	/* Behind a deferred reply: a message must not overtake the replies
	 * before it (RESP2 cannot tell them apart), so it is held with them. */
	h = c->dtail->held ? c->dtail : entry_add(c, true);
	if (!h)
		return -ENOMEM;
	p->h = h;
	p->before = h->buf.len;
	h->ended = false;
	c->ob = &h->buf;
	return 0;
}

void client_push_end(struct client *c, struct push_ctx *p)
{
	c->ob = p->ob;
	if (p->h) {
		p->h->ended = true;
		c->held_bytes += p->h->buf.len - p->before;
	}
}

size_t client_held_bytes(const struct client *c)
{
	return c->held_bytes;
}

void client_flush(struct client *c)
{
	if (c->in_process)
		return; /* the batch in progress flushes at its end */
	flush(c);
}

/* --- executing ------------------------------------------------------------ */

static void lat_record(struct server_cmd_stats *st, uint64_t ns)
{
	uint64_t us = ns / 1000;
	int i;

	st->timed++;
	st->nsec += ns;
	for (i = 0; i < SERVER_LAT_BUCKETS; i++)
		if (us <= server_lat_bounds_us[i])
			break;
	st->lat[i]++;
}

static void exec_cmd(struct client *c, int argc, const struct resp_arg *argv)
{
	struct server *s = c->srv;
	struct cmd *cmd = server_cmd_lookup(s, argv[0].ptr, argv[0].len);
	uint64_t t0;

	s->st.commands_total++;
	if (!cmd) {
		char args[160];
		size_t n = 0;
		int i;

		args[0] = '\0';
		for (i = 1; i < argc && n < 128; i++) {
			int w = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
					 (int)(argv[i].len < 128 - n ? argv[i].len : 128 - n),
					 argv[i].ptr);
			if (w < 0)
				break;
			n += (size_t)w;
			if (n >= sizeof(args))
				n = sizeof(args) - 1;
		}
		s->cmds[s->ncmds].st.calls++;
		server_reply_error_kind(c, SERVER_ERR_UNKNOWN,
					"ERR unknown command '%.*s', with args beginning with: %s",
					(int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr,
					args);
		return;
	}
	if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
		cmd->st.rejected++;
		server_reply_error_kind(c, SERVER_ERR_ARITY,
					"ERR wrong number of arguments for '%s' command",
					cmd->name);
		return;
	}
	if ((cmd->flags & SERVER_CMD_ADMIN) && !c->admin) {
		cmd->st.rejected++;
		server_reply_error_kind(c, SERVER_ERR_NOPERM,
					"NOPERM this command needs an admin peer (uid in "
					"socket.admin_uids or gid in socket.admin_gids)");
		return;
	}
	if (c->multi_refused && !(cmd->flags & SERVER_CMD_TXCTL)) {
		/* Run nothing a client sent for its transaction: it expects all
		 * of it or none. */
		cmd->st.rejected++;
		reply_error(c,
			    "ERR not run: MULTI is not supported by floodgate (each RL.* command "
			    "is already atomic: send the commands without MULTI); EXEC or DISCARD "
			    "ends the refused transaction");
		return;
	}
	if (c->proto == 2 && !(cmd->flags & SERVER_CMD_PUBSUB) && pubsub_subscribed(c)) {
		/* RESP2 cannot tell a reply from a message: Redis's rule and text */
		cmd->st.rejected++;
		reply_error(c,
			    "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
			    "PING / QUIT / RESET are allowed in this context",
			    cmd->name);
		return;
	}
	/* calls 1, 1 + SAMPLE, ...: a rare command's first call is timed */
	if ((cmd->flags & SERVER_CMD_NOSTATS) || (cmd->st.calls++ & (SERVER_LAT_SAMPLE - 1))) {
		cmd->fn(c, argc, argv, cmd->ctx);
		return;
	}
	t0 = uv_hrtime();
	cmd->fn(c, argc, argv, cmd->ctx);
	lat_record(&cmd->st, uv_hrtime() - t0);
}

/* The reply to a request the parser refused (err: its RESP_E* code). */
static void reply_bad_request(struct client *c, int err, const struct resp_arg *unused)
{
	(void)unused;
	server_reply_error_kind(c, err == RESP_ETOOBIG ? SERVER_ERR_TOO_BIG : SERVER_ERR_PROTOCOL,
				"ERR %s", c->parser.errmsg);
}

/*
 * Answer a request with fn. Behind a deferred reply the answer is held in
 * order (in the last held entry, or a new one) until the replies before it
 * are written.
 */
static void answer_in_order(struct client *c,
			    void (*fn)(struct client *, int, const struct resp_arg *), int argc,
			    const struct resp_arg *argv)
{
	struct deferred *prev = c->dtail, *h;
	struct sbuf *ob = c->ob;
	size_t before;

	if (!prev) {
		fn(c, argc, argv);
		return;
	}
	h = prev->held ? prev : entry_add(c, true);
	if (!h) {
		log_warn("out of memory for a held reply; closing client", LOG_UINT("id", c->id));
		client_close(c);
		return;
	}
	before = h->buf.len;
	h->ended = false; /* not written while it is being filled */
	c->ob = &h->buf;
	fn(c, argc, argv);
	c->ob = ob;
	h->ended = true;
	c->held_bytes += h->buf.len - before;
	if (h != prev && !h->buf.len && h->next) {
		/* The request deferred its reply: the empty entry goes. */
		prev->next = h->next;
		free(h);
	}
	entries_flush(c);
}

/*
 * Run every complete request in buf[0..len) (the first byte is the start of
 * a request or of the parser's pending one). Returns the bytes used; the
 * rest is the start of an unfinished request, or held because the client
 * paused, stalled or is going away (then the caller discards it).
 */
static size_t process(struct client *c, char *buf, size_t len)
{
	struct server *s = c->srv;
	const struct resp_arg *argv;
	size_t off = 0, n;
	int argc, r;

	c->in_process = true;
	while (off < len && !c->closing && !c->close_after_write && !stalled(c)) {
		if (client_out_pending(c) > s->out_soft) {
			c->paused = true;
			break;
		}
		r = resp_parse(&c->parser, buf + off, len - off, &n, &argc, &argv);
		if (r == RESP_AGAIN)
			break;
		if (r < 0) {
			answer_in_order(c, reply_bad_request, r, NULL);
			log_debug("closing client", LOG_UINT("id", c->id),
				  LOG_STR("error", c->parser.errmsg));
			c->close_after_write = true;
			off = len;
			break;
		}
		off += n;
		if (argc > 0) {
			c->last_cmd_ms = uv_now(s->loop);
			answer_in_order(c, exec_cmd, argc, argv);
		}
	}
	c->in_process = false;
	if (resp_parser_pending(&c->parser)) {
		if (!c->partial_since_ms)
			c->partial_since_ms = uv_now(s->loop);
	} else {
		c->partial_since_ms = 0;
	}
	return off;
}

/* sbuf_reserve() for a read buffer: doubling, but never past the largest
 * request (sbuf's power of two would make a 1 MB request hold 2 MB). */
static int in_reserve(struct sbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1, top = RESP_MAX_REQUEST + 4096 + 1, cap;
	char *p;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : PRIVATE_RBUF_MIN;
	while (cap < need)
		cap *= 2;
	if (cap > top && need <= top)
		cap = top;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	struct server *s = c->srv;
	size_t want;

	(void)suggested;
	if (c->in.len == 0 && !s->rbuf_busy) {
		s->rbuf_busy = true;
		c->rd_shared = true;
		*buf = uv_buf_init(s->rbuf, SHARED_RBUF);
		return;
	}
	c->rd_shared = false;
	/* a big request grows the buffer toward its size, not past the limit */
	want = c->in.len < PRIVATE_RBUF_MIN ? PRIVATE_RBUF_MIN : c->in.len;
	if (want > RESP_MAX_REQUEST + 4096 - c->in.len)
		want = RESP_MAX_REQUEST + 4096 > c->in.len ? RESP_MAX_REQUEST + 4096 - c->in.len
							   : 4096;
	if (in_reserve(&c->in, want)) {
		*buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
		return;
	}
	*buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void pause_reading(struct client *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	}
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = stream->data;
	struct server *s = c->srv;
	bool shared = c->rd_shared;
	size_t used;

	(void)buf;
	if (shared)
		s->rbuf_busy = false;
	c->rd_shared = false;
	if (c->closing)
		return;
	if (nread == 0) {
		/* EAGAIN: on_alloc may have grown c->in all the same */
		account(c);
		return;
	}
	if (nread < 0) {
		pause_reading(c);
		if (nread != UV_EOF) {
			client_close(c);
			return;
		}
		/* half-close: answer what came, then go */
		c->eof = true;
		if (!c->paused && !stalled(c))
			sbuf_clear(&c->in);
		maybe_finish(c);
		return;
	}
	s->st.bytes_in += (uint64_t)nread;
	batch_begin(c);
	if (shared) {
		used = process(c, s->rbuf, (size_t)nread);
		if (used < (size_t)nread && !c->close_after_write && !c->closing)
			sbuf_append(&c->in, s->rbuf + used, (size_t)nread - used);
	} else {
		c->in.len += (size_t)nread;
		c->in.data[c->in.len] = '\0';
		used = process(c, c->in.data, c->in.len);
		if (c->close_after_write || c->closing)
			sbuf_free(&c->in);
		else
			sbuf_consume(&c->in, used);
	}
	shrink_in(c);
	/* A stalled client keeps being read (stopping and restarting the read
	 * costs two epoll_ctl) until it has sent a buffer's worth. */
	if (c->paused || c->close_after_write || (stalled(c) && c->in.len >= PRIVATE_RBUF_MIN))
		pause_reading(c);
	batch_end(c);
}

/* Continue a client that was paused or stalled: run what it sent meanwhile. */
static void resume(struct client *c)
{
	size_t used;

	if (c->closing)
		return;
	batch_begin(c);
	if (c->in.len && !stalled(c)) {
		used = process(c, c->in.data, c->in.len);
		if (c->close_after_write)
			sbuf_free(&c->in);
		else
			sbuf_consume(&c->in, used);
		shrink_in(c);
	}
	batch_end(c);
	if (c->closing)
		return;
	if (!c->paused && !stalled(c) && !c->close_after_write && !c->eof && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
			c->reading = true;
	}
	if (c->eof && !c->paused && !stalled(c))
		sbuf_clear(&c->in);
	maybe_finish(c);
}

static void on_resume_idle(uv_idle_t *h)
{
	struct server *s = h->data;
	struct client *c;

	while ((c = s->resume_head)) {
		s->resume_head = c->resume_next;
		c->queued = false;
		resume(c);
	}
	uv_idle_stop(h);
}

/* --- accepting ---------------------------------------------------------------- */

/* Answer a connection over the limits with why, then close it. */
static void __attribute__((format(printf, 3, 4)))
refuse(struct client *c, enum server_reject why, const char *fmt, ...)
{
	struct server *s = c->srv;
	uint64_t suppressed;
	va_list ap;

	s->st.rejected_total++;
	s->st.rejected[why]++;
	/* Said, or an operator whose application is refused finds no reason
	 * anywhere but in metrics; at most a line a second per reason, so a
	 * flood of refused connections does not flood the log too. */
	if (log_gate_due(&s->reject_log[why], uv_now(s->loop) * 1000000ULL, &suppressed))
		log_warn("connection refused", LOG_STR("reason", reject_names[why]),
			 LOG_UINT("uid", c->uid), LOG_INT("pid", c->pid),
			 LOG_UINT("suppressed", suppressed));
	batch_begin(c);
	va_start(ap, fmt);
	reply_verror(c, SERVER_ERR_MAXCLIENTS, fmt, ap);
	va_end(ap);
	c->close_after_write = true;
	batch_end(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *s = listener->data;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct client *c;
	uv_os_fd_t fd;

	if (status < 0) {
		log_warn("cannot accept a connection", LOG_STR("socket", s->path),
			 LOG_STR("error", uv_strerror(status)));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || uv_pipe_init(s->loop, &c->pipe, 0)) {
		free(c);
		log_warn("out of memory accepting a connection");
		return;
	}
	c->pipe.data = c;
	c->wreq.data = c;
	c->srv = s;
	c->proto = 2;
	c->ob = &c->out;
	resp_parser_init(&c->parser);
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->st.connected++;
	if (uv_accept(listener, (uv_stream_t *)&c->pipe)) {
		client_close(c);
		return;
	}
	c->id = ++s->next_id;
	c->created_ms = c->last_cmd_ms = uv_now(s->loop);
	s->st.connections_total++;

	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		peer_groups(c, fd);
		c->admin = is_admin(&s->conf, c);
	}

	/*
	 * The last admin_reserve places are for admins and root, and no uid
	 * but theirs may hold more than max_clients_per_uid: one local user
	 * with idle connections cannot lock the operator out.
	 */
	if (s->nclients >= s->max_clients ||
	    (!privileged(c) && s->nclients >= s->max_clients - s->reserve)) {
		refuse(c, SERVER_REJECT_MAX_CLIENTS,
		       "ERR max number of clients reached (%u, the last %u kept for admins): close "
		       "idle connections or raise socket.max_clients",
		       s->max_clients, s->reserve);
		return;
	}
	if (!privileged(c) && uid_clients(s, c->uid) >= s->per_uid) {
		refuse(c, SERVER_REJECT_PER_UID,
		       "ERR max clients per uid reached (%u): uid %u has %u connections; close "
		       "some or raise socket.max_clients_per_uid",
		       s->per_uid, (unsigned)c->uid, uid_clients(s, c->uid));
		return;
	}
	if (limits_add(c)) {
		log_warn("out of memory accepting a connection");
		client_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) {
		client_close(c);
		return;
	}
	c->reading = true;
}

static void on_cron(uv_timer_t *h)
{
	struct server *s = h->data;
	uint64_t now = uv_now(s->loop), half_request_ms;
	struct client *c, *next;

	s->ops_per_sec = s->st.commands_total - s->ops_last_total;
	s->ops_last_total = s->st.commands_total;
	/* A begun request holds its place no longer than an idle client:
	 * one byte sent once must not keep a connection past idle_timeout. */
	half_request_ms = s->idle_ms && s->idle_ms < SERVER_HALF_REQUEST_TIMEOUT_MS
				  ? s->idle_ms
				  : SERVER_HALF_REQUEST_TIMEOUT_MS;
	for (c = s->clients; c; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		if (c->partial_since_ms && now - c->partial_since_ms > half_request_ms) {
			log_debug("closing client: request incomplete for too long",
				  LOG_UINT("id", c->id));
			s->st.errors[SERVER_ERR_TIMEOUT]++;
			client_close(c);
		} else if (c->writing &&
			   now - c->write_progress_ms > SERVER_WRITE_STALL_TIMEOUT_MS) {
			log_debug("closing client: not reading its replies", LOG_UINT("id", c->id));
			s->st.errors[SERVER_ERR_TIMEOUT]++;
			client_close(c);
		} else if (s->idle_ms && now - c->last_cmd_ms > s->idle_ms && !c->push &&
			   !c->partial_since_ms && !c->ndeferred && !c->writing && !c->out.len) {
			/* As redis' timeout: subscribers and clients waiting for a
			 * reply are not idle. Closed silently: clients reconnect. */
			log_debug("closing client: idle past socket.idle_timeout",
				  LOG_UINT("id", c->id), LOG_UINT("uid", c->uid));
			s->st.closed[SERVER_CLOSE_IDLE]++;
			client_close(c);
		}
	}
	/* Buffers of gone clients go back to the system, not to a free list
	 * that keeps the peak (the big ones are mmapped, see server_new()). */
	if (s->trim_mark > s->st.buffered + SERVER_TRIM_STEP) {
		malloc_trim(0);
		s->trim_mark = s->st.buffered;
	}
}

/* The server's scratch buffer, empty: text whose length the reply states
 * first is built here, not in a buffer allocated per request. */
struct sbuf *server_scratch_begin(struct server *s)
{
	sbuf_clear(&s->scratch);
	return &s->scratch;
}

/* Reply with the scratch text as a verbatim string. */
void server_reply_scratch(struct client *c)
{
	struct sbuf *b = &c->srv->scratch;

	if (sbuf_failed(b))
		reply_error(c, "ERR out of memory");
	else
		reply_verbatim(c, b->data ? b->data : "", b->len);
	sbuf_clear(b);
	/* a huge CLIENT LIST must not pin memory */
	if (b->cap > (1u << 20))
		sbuf_free(b);
}

/* --- stats ------------------------------------------------------------------- */

const char *server_reject_name(enum server_reject r)
{
	return r < SERVER_REJECT__MAX ? reject_names[r] : "";
}

const char *server_close_name(enum server_close_reason r)
{
	return r < SERVER_CLOSE__MAX ? close_names[r] : "";
}

const char *server_err_kind_name(enum server_err_kind k)
{
	return (unsigned)k < SERVER_ERR__MAX ? err_kind_names[k] : "?";
}

void server_get_stats(const struct server *s, struct server_stats *out)
{
	*out = s->st;
}

size_t server_cmd_count(const struct server *s)
{
	return s->ncmds + 1;
}

const char *server_cmd_stats(const struct server *s, size_t i, struct server_cmd_stats *out)
{
	if (i > s->ncmds)
		return NULL;
	*out = s->cmds[i].st;
	return i == s->ncmds ? "unknown" : s->cmds[i].name;
}

/* --- lifetime ------------------------------------------------------------------ */

struct server *server_new(uv_loop_t *loop, const struct fg_conf_socket *conf, const char *path)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->rbuf = malloc(SHARED_RBUF);
	if (!s->rbuf) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->loop = loop;
	s->conf = *conf;
	limits_set(s, conf);
	if (!path || !*path)
		path = conf->path[0] ? conf->path : FG_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(s->path)) {
		log_error("socket path is too long; use a shorter socket.path or --socket",
			  LOG_STR("path", path), LOG_UINT("max_bytes", sizeof(s->path) - 1));
		free(s->rbuf);
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	lower_tab_init();
	memset(s->hash, 0xff, sizeof(s->hash));
	snprintf(s->cmds[0].name, sizeof(s->cmds[0].name), "unknown");
	/* Through server_register() like any module's commands; the first
	 * registered, so a module cannot take their names. */
	(void)conncmds_register(s); /* cannot fail on an empty table */
	(void)pubsub_register(s);
	return s;
}

void server_set_conf(struct server *s, const struct fg_conf_socket *conf)
{
	struct client *c;
	gid_t gid;

	if (!s)
		return;
	if (conf->path[0] && strcmp(conf->path, s->path) && strcmp(conf->path, s->conf.path))
		log_warn("socket.path changes only at restart", LOG_STR("running", s->path));
	s->conf = *conf;
	limits_set(s, conf);
	/* Rights follow the config: a peer removed from admin_uids loses them now. */
	for (c = s->clients; c; c = c->next)
		c->admin = is_admin(&s->conf, c);
	if (s->listening && sockfile_group_gid(s->conf.group, &gid) == 0)
		sockfile_set_perms(s->path, s->conf.group, gid, s->conf.mode ? s->conf.mode : 0660,
				   &s->sock_id);
}

uint64_t server_fd_need(const struct server *s)
{
	return (uint64_t)s->max_clients + 256;
}

void server_set_metrics_listen(struct server *s, const char *listen)
{
	snprintf(s->metrics_listen, sizeof(s->metrics_listen), "%s", listen ? listen : "");
}

void server_set_config_file(struct server *s, const char *path)
{
	s->config_file = path;
}

/* ids[0..n) as "0,1000" into buf ("" for none); returns buf. */
static const char *ids_format(char *buf, size_t len, const uint32_t *ids, int n)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "," : "", ids[i]);
	return buf;
}

int server_listen(struct server *s)
{
	/* 16 ids of up to 10 digits and their commas */
	char m[PATH_MAX + 128], uids[FG_CONF_MAX_ADMIN_IDS * 11 + 1],
		gids[FG_CONF_MAX_ADMIN_IDS * 11 + 1];
	gid_t gid;
	int fd, err;

	err = sockfile_group_gid(s->conf.group, &gid);
	if (err)
		return err;
	fd = sockfile_open(s->path, s->conf.group, gid, s->conf.mode ? s->conf.mode : 0660,
			   LISTEN_BACKLOG, &s->sock_id);
	if (fd < 0)
		return fd;

	uv_pipe_init(s->loop, &s->listener, 0);
	s->listener.data = s;
	err = uv_pipe_open(&s->listener, fd);
	if (!err)
		err = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
	uv_timer_init(s->loop, &s->cron);
	s->cron.data = s;
	uv_idle_init(s->loop, &s->resume_idle);
	s->resume_idle.data = s;
	uv_check_init(s->loop, &s->flush_check);
	s->flush_check.data = s;
	uv_idle_init(s->loop, &s->flush_idle);
	s->handles_open = true;
	if (err) {
		log_error("cannot listen on the socket", LOG_STR("path", s->path),
			  LOG_STR("error", uv_strerror(err)));
		unlink(s->path);
		err = -EIO;
		return err; /* server_close() closes the handles */
	}
	uv_timer_start(&s->cron, on_cron, CRON_MS, CRON_MS);
	s->listening = true;
	s->st.start_ms = uv_now(s->loop);
	log_info("listening", LOG_STR("socket", s->path),
		 LOG_STR("mode", log_fmt(m, sizeof(m), "%04o", s->conf.mode ? s->conf.mode : 0660)),
		 LOG_STR("admin_uids", ids_format(uids, sizeof(uids), s->conf.admin_uids,
						  s->conf.nadmin_uids)),
		 LOG_STR("admin_gids", ids_format(gids, sizeof(gids), s->conf.admin_gids,
						  s->conf.nadmin_gids)));
	return 0;
}

void server_close(struct server *s)
{
	struct client *c, *next;
	bool more;

	if (!s)
		return;
	for (c = s->clients; c; c = next) {
		next = c->next;
		client_close(c);
	}
	/* The flushes still due go with their clients (the check will not run). */
	do
		flush_pop(s, &more);
	while (more);
	if (s->handles_open) {
		uv_close((uv_handle_t *)&s->listener, NULL);
		uv_close((uv_handle_t *)&s->cron, NULL);
		uv_close((uv_handle_t *)&s->resume_idle, NULL);
		uv_close((uv_handle_t *)&s->flush_check, NULL);
		uv_close((uv_handle_t *)&s->flush_idle, NULL);
		s->handles_open = false;
	}
	if (s->listening) {
		/* Only the socket this agent made: not what replaced it since. */
		sockfile_remove(s->path, &s->sock_id);
		s->listening = false;
	}
}

void server_free(struct server *s)
{
	struct client *c, *next;
	struct uid_count *u;
	int i;

	if (!s)
		return;
	/* Closed clients still waiting for a deferred reply belong to its
	 * module until it ends; at exit nothing will. */
	for (c = s->clients; c; c = next) {
		next = c->next;
		client_free(c);
	}
	for (i = 0; i < UID_BUCKETS; i++)
		while ((u = s->uids[i])) {
			s->uids[i] = u->next;
			free(u);
		}
	while (s->dfree) {
		struct deferred *e = s->dfree;

		s->dfree = e->next;
		free(e);
	}
	sbuf_free(&s->obuf);
	sbuf_free(&s->scratch);
	free(s->rbuf);
	free(s->chans);
	free(s);
}
