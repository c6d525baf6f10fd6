// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_service: the sections of the agent's services: socket, app_bans,
 * store, metrics and log.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "config_int.h"
#include "log.h"

#define CONF_ID_MAX 4294967294LL /* (uid_t)-1 means "no change" to chown() */

/* The decimal port after a ':' (1-65535, nothing after it), or 0. */
static uint16_t port_after(const char *colon)
{
	unsigned long port;
	char *e;

	if (colon[1] < '0' || colon[1] > '9')
		return 0;
	errno = 0;
	port = strtoul(colon + 1, &e, 10);
	return *e || errno || port > 65535 ? 0 : (uint16_t)port;
}

static int parse_ids(struct cy_parser *p, const yaml_node_t *n, const char *key, uint32_t *ids,
		     int *count)
{
	char kp[CY_PATH_MAX];
	int i, k, err;

	err = cy_expect_kind(p, n, key, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	*count = 0;
	if (cy_seq_len(n) > FG_CONF_MAX_ADMIN_IDS)
		return cy_fail(p, n, key, "%d entries, at most %d", cy_seq_len(n),
			       FG_CONF_MAX_ADMIN_IDS);
	for (i = 0; i < cy_seq_len(n); i++) {
		snprintf(kp, sizeof(kp), "%s[%d]", key, i);
		err = cy_get_u32(p, cy_seq_item(p, n, i), kp, 0, CONF_ID_MAX, &ids[i]);
		if (err)
			return err;
		for (k = 0; k < i; k++) {
			if (ids[k] == ids[i])
				return cy_fail(p, cy_seq_item(p, n, i), kp, "%u is listed twice",
					       ids[i]);
		}
		*count = i + 1;
	}
	return 0;
}

/* A CY_READER of one id list (uids or gids) of a section: its array and count. */
#define ID_LIST_READER(fn, section, ids, n)                                              \
	static int fn(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v, \
		      const char *path, void *dst)                                        \
	{                                                                                 \
		section *x = dst;                                                         \
                                                                                          \
		(void)map;                                                                \
		return parse_ids(p, v, path, x->ids, &x->n);                              \
	}

static int parse_redis_url(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			   const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;
	const char *s, *h, *end, *colon;
	uint16_t port = 6379;
	size_t hlen;
	int err;

	(void)map;
	err = cy_get_str(p, v, path, "a URL (redis://host:port or unix:///path)", &s);
	if (err)
		return err;
	if (strlen(s) >= sizeof(r->url))
		return cy_fail(p, v, path, "\"%.30s...\" is too long (at most %zu bytes)", s,
			       sizeof(r->url) - 1);
	strcpy(r->url, s);
	r->host[0] = r->path[0] = '\0';
	if (!strncmp(s, "unix://", 7)) {
		if (s[7] != '/')
			return cy_fail(p, v, path,
				       "\"%s\": a Unix socket needs an absolute path "
				       "(unix:///run/redis/redis.sock)",
				       s);
		if (strlen(s + 7) >= sizeof(r->path))
			return cy_fail(
				p, v, path,
				"\"%.30s...\": the socket path is too long (at most %zu bytes)", s,
				sizeof(r->path) - 1);
		strcpy(r->path, s + 7);
		return 0;
	}
	if (strncmp(s, "redis://", 8))
		return cy_fail(p, v, path,
			       "\"%s\" is not redis://host:port or unix:///path (rediss:// is not "
			       "supported)",
			       s);
	h = s + 8;
	if (strpbrk(h, "@/?"))
		return cy_fail(p, v, path,
			       "\"%s\": give only host and port (the password goes in "
			       "store.redis.password, the database in store.redis.db)",
			       s);
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return cy_fail(p, v, path, "\"%s\": no ']' after the IPv6 address", s);
		h++;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return cy_fail(p, v, path, "\"%s\": expected :port after ']'", s);
	} else {
		colon = strchr(h, ':');
		hlen = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (!hlen || hlen >= sizeof(r->host))
		return cy_fail(p, v, path, "\"%s\": %s", s,
			       hlen ? "the host name is too long" : "no host");
	memcpy(r->host, h, hlen);
	r->host[hlen] = '\0';
	if (colon && !(port = port_after(colon)))
		return cy_fail(p, v, path, "\"%s\": the port must be a number from 1 to 65535", s);
	r->port = port;
	return 0;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s, *end;
	uint16_t port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':') {
			*why = "expected [IPv6]:port, like \"[::1]:10150\"";
			return -EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "expected address:port, like \"127.0.0.1:10150\"";
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			*why = "an IPv6 address goes in brackets: \"[::1]:10150\"";
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
	}
	port = port_after(colon);
	if (!port) {
		*why = "the port must be a number from 1 to 65535";
		return -EINVAL;
	}
	if (!hlen || hlen >= sizeof(host)) {
		*why = "give an IP address before the port (127.0.0.1, 0.0.0.0, [::1], [::])";
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (h != s) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			*why = "not an IPv6 address inside the brackets";
			return -EINVAL;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			*why = "not an IPv4 address (host names are not resolved; IPv6 goes in "
			       "brackets)";
			return -EINVAL;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* socket: ------------------------------------------------------------------ */

#define SOCKET(f) offsetof(struct fg_conf_socket, f)

static int parse_socket_path(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			     const char *path, void *dst)
{
	struct fg_conf_socket *so = dst;
	const char *s;
	int err;

	(void)map;
	err = cy_get_str(p, v, path, "a path", &s);
	if (err)
		return err;
	if (*s != '/')
		return cy_fail(p, v, path, "\"%s\" is not an absolute path", s);
	if (strlen(s) >= sizeof(so->path))
		return cy_fail(p, v, path,
			       "\"%.30s...\" is too long for a Unix socket (at most %zu bytes)", s,
			       sizeof(so->path) - 1);
	strcpy(so->path, s);
	return 0;
}

static int parse_socket_mode(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			     const char *path, void *dst)
{
	struct fg_conf_socket *so = dst;
	unsigned long m = 0;
	const char *s, *d;
	char b[64];

	(void)map;
	/* Octal as chmod reads it: "0660", 0660 or 660 (0o660 too). */
	if (v->type != YAML_SCALAR_NODE || cy_is_null(v))
		return cy_fail(p, v, path, "expected an octal mode like \"0660\", got %s",
			       cy_show(v, b, sizeof(b)));
	s = cy_text(v);
	d = !strncmp(s, "0o", 2) ? s + 2 : s;
	if (!*d || strspn(d, "01234567") != strlen(d) || strlen(d) > 12)
		return cy_fail(p, v, path, "\"%s\" is not an octal mode like \"0660\"", s);
	m = strtoul(d, NULL, 8);
	if (m > 0777)
		return cy_fail(p, v, path, "\"%s\" is more than 0777", s);
	if (!(m & 0600))
		return cy_fail(p, v, path,
			       "\"%s\" leaves the owner unable to use the socket (add 0600)", s);
	so->mode = (uint32_t)m;
	return 0;
}

static int parse_socket_group(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			      const char *path, void *dst)
{
	struct fg_conf_socket *so = dst;
	const char *s;
	int err;

	(void)map;
	if (cy_is_null(v)) {
		so->group[0] = '\0';
		return 0;
	}
	err = cy_get_str(p, v, path, "a group name or number", &s);
	if (err)
		return err;
	if (strlen(s) >= sizeof(so->group) || strpbrk(s, ": \t\n/"))
		return cy_fail(p, v, path, "\"%.40s\" is not a group name", s);
	strcpy(so->group, s);
	return 0;
}

ID_LIST_READER(parse_admin_uids, struct fg_conf_socket, admin_uids, nadmin_uids)
ID_LIST_READER(parse_admin_gids, struct fg_conf_socket, admin_gids, nadmin_gids)

/* Limits on clients: one user must not lock the operator out or exhaust the
 * agent's memory. */
static int check_per_uid(struct cy_parser *p, const yaml_node_t *map, const char *path, void *dst)
{
	const yaml_node_t *per_uid = cy_map_get(p, map, "max_clients_per_uid");
	struct fg_conf_socket *so = dst;
	char kp[CY_PATH_MAX];

	if (!per_uid) {
		so->max_clients_per_uid = so->max_clients / 4 ? so->max_clients / 4 : 1;
		return 0;
	}
	if (so->max_clients_per_uid > so->max_clients)
		return cy_fail(p, per_uid, cy_join(kp, sizeof(kp), path, "max_clients_per_uid"),
			       "%u is more than socket.max_clients (%u)", so->max_clients_per_uid,
			       so->max_clients);
	return 0;
}

static int check_admin_reserve(struct cy_parser *p, const yaml_node_t *map, const char *path,
			       void *dst)
{
	const yaml_node_t *reserve = cy_map_get(p, map, "admin_reserve");
	struct fg_conf_socket *so = dst;
	char kp[CY_PATH_MAX];

	if (!reserve) {
		if (so->admin_reserve >= so->max_clients)
			so->admin_reserve = so->max_clients / 2;
		return 0;
	}
	if (so->admin_reserve >= so->max_clients)
		return cy_fail(p, reserve, cy_join(kp, sizeof(kp), path, "admin_reserve"),
			       "%u leaves no connection for applications (socket.max_clients "
			       "is %u)",
			       so->admin_reserve, so->max_clients);
	return 0;
}

static int parse_idle_timeout(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			      const char *path, void *dst)
{
	uint64_t *ms = dst;
	int err;

	(void)map;
	/* 0 turns it off: duration_parse() refuses 0, so it is read here. */
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "0")) {
		*ms = 0;
		return 0;
	}
	err = cy_get_duration(p, v, path, ms);
	if (err)
		return err;
	if (*ms < 1000)
		return cy_fail(p, v, path, "\"%s\" is shorter than 1s (0 turns the timeout off)",
			       cy_text(v));
	return 0;
}

static int check_output_limit(struct cy_parser *p, const yaml_node_t *map, const char *path,
			      void *dst)
{
	const yaml_node_t *outlim = cy_map_get(p, map, "client_output_limit");
	struct fg_conf_socket *so = dst;
	char kp[CY_PATH_MAX];

	if (!outlim && so->client_output_limit > so->max_buffers)
		so->client_output_limit = so->max_buffers;
	if (so->client_output_limit > so->max_buffers)
		return cy_fail(p, outlim, cy_join(kp, sizeof(kp), path, "client_output_limit"),
			       "%llu bytes is more than socket.max_buffers (%llu)",
			       (unsigned long long)so->client_output_limit,
			       (unsigned long long)so->max_buffers);
	return 0;
}

/* socket.path, mode and admin_uids' defaults are set by config_defaults(). */
const struct cy_key config_socket_keys[] = {
	CY_READER("path", 0, parse_socket_path),
	CY_READER("mode", 0, parse_socket_mode),
	CY_READER("group", 0, parse_socket_group),
	CY_READER("admin_uids", 0, parse_admin_uids),
	CY_READER("admin_gids", 0, parse_admin_gids),
	CY_VALUE("max_clients", CY_U32, SOCKET(max_clients), FG_CONF_SOCKET_MAX_CLIENTS, 1,
		 1000000),
	CY_VALUE("max_clients_per_uid", CY_U32, SOCKET(max_clients_per_uid),
		 FG_CONF_SOCKET_MAX_CLIENTS / 4, 1, 1000000),
	CY_CHECK_AT(0, check_per_uid),
	CY_VALUE("admin_reserve", CY_U32, SOCKET(admin_reserve), FG_CONF_SOCKET_ADMIN_RESERVE, 0,
		 1000000),
	CY_CHECK_AT(0, check_admin_reserve),
	CY_READER("idle_timeout", SOCKET(idle_timeout_ms), parse_idle_timeout),
	CY_VALUE("max_buffers", CY_BYTES, SOCKET(max_buffers), FG_CONF_SOCKET_MAX_BUFFERS,
		 1ll << 20, 1ll << 40),
	CY_VALUE("client_output_limit", CY_BYTES, SOCKET(client_output_limit),
		 FG_CONF_SOCKET_CLIENT_OUTPUT_LIMIT, 64ll << 10, 1ll << 40),
	CY_CHECK_AT(0, check_output_limit),
	CY_TABLE_END,
};

/* app_bans: ---------------------------------------------------------------- */

ID_LIST_READER(parse_peer_uids, struct fg_conf_app_bans, peer_uids, npeer_uids)
ID_LIST_READER(parse_peer_gids, struct fg_conf_app_bans, peer_gids, npeer_gids)

/* At most half the ban map: the rest is for operators and the XDP program. */
const struct cy_key config_app_bans_keys[] = {
	CY_READER("peer_uids", 0, parse_peer_uids),
	CY_READER("peer_gids", 0, parse_peer_gids),
	CY_VALUE("max", CY_U32, offsetof(struct fg_conf_app_bans, max), FG_CONF_APP_BANS_MAX, 0,
		 FG_MAX_BANS / 2),
	CY_VALUE("per_peer", CY_U32, offsetof(struct fg_conf_app_bans, per_peer),
		 FG_CONF_APP_BANS_PER_PEER, 0, FG_MAX_BANS / 2),
	CY_TABLE_END,
};

/* vouch: ------------------------------------------------------------------- */

#define VOUCH(f) offsetof(struct fg_conf_vouch, f)

ID_LIST_READER(parse_vouch_uids, struct fg_conf_vouch, peer_uids, npeer_uids)
ID_LIST_READER(parse_vouch_gids, struct fg_conf_vouch, peer_gids, npeer_gids)

/* burst defaults to rate, share_tcp_burst to share_tcp (0: not given; the
 * vouch guard and the fleet read 0 so too, for a config without a vouch:
 * section). */
static int check_vouch_burst(struct cy_parser *p, const yaml_node_t *map, const char *path,
			     void *dst)
{
	struct fg_conf_vouch *vc = dst;

	(void)p;
	(void)map;
	(void)path;
	if (!vc->burst)
		vc->burst = vc->rate;
	if (!vc->share_tcp_burst)
		vc->share_tcp_burst = vc->share_tcp;
	return 0;
}

const struct cy_key config_vouch_keys[] = {
	CY_READER("peer_uids", 0, parse_vouch_uids),
	CY_READER("peer_gids", 0, parse_vouch_gids),
	CY_VALUE("max", CY_U32, VOUCH(max), FG_CONF_VOUCH_MAX, 0, FG_CONF_VOUCH_MAX_MAX),
	CY_VALUE("per_peer", CY_U32, VOUCH(per_peer), FG_CONF_VOUCH_PER_PEER, 0,
		 FG_CONF_VOUCH_MAX_MAX),
	CY_VALUE("rate", CY_U32, VOUCH(rate), FG_CONF_VOUCH_RATE, 1, 1000000),
	CY_VALUE("burst", CY_U32, VOUCH(burst), 0, 1, 1000000),
	CY_VALUE("max_duration", CY_DURATION, VOUCH(max_duration_ms), FG_CONF_VOUCH_MAX_DUR_MS,
		 1000, CY_DURATION_MAX_MS),
	CY_VALUE("share_tcp", CY_U32, VOUCH(share_tcp), FG_CONF_VOUCH_SHARE_TCP, 0, 1000000),
	CY_VALUE("share_tcp_burst", CY_U32, VOUCH(share_tcp_burst), 0, 1, 1000000),
	CY_CHECK_AT(0, check_vouch_burst),
	CY_TABLE_END,
};

/* store: ------------------------------------------------------------------- */

#define REDIS(f) offsetof(struct fg_conf_redis, f)

/* An ACL user name (null: none) into buf[cap]. */
static int read_acl_user(struct cy_parser *p, const yaml_node_t *v, const char *path, char *buf,
			 size_t cap)
{
	const char *s;
	int err;

	if (cy_is_null(v))
		return 0;
	err = cy_get_str(p, v, path, "an ACL user name", &s);
	if (err)
		return err;
	if (!*s || strlen(s) >= cap)
		return cy_fail(p, v, path, "1 to %zu bytes", cap - 1);
	strcpy(buf, s);
	return 0;
}

/* A password (null: none) into buf[cap]. */
static int read_password(struct cy_parser *p, const yaml_node_t *v, const char *path, char *buf,
			 size_t cap)
{
	const char *s;
	int err;

	if (cy_is_null(v))
		return 0;
	err = cy_get_str(p, v, path, "a password", &s);
	if (err)
		return err;
	if (strlen(s) >= cap)
		return cy_fail(p, v, path, "too long (at most %zu bytes)", cap - 1);
	strcpy(buf, s);
	return 0;
}

static int parse_redis_username(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
				const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return read_acl_user(p, v, path, r->username, sizeof(r->username));
}

static int parse_redis_password(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
				const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return read_password(p, v, path, r->password, sizeof(r->password));
}

static int check_redis_auth(struct cy_parser *p, const yaml_node_t *map, const char *path,
			    void *dst)
{
	const struct fg_conf_redis *r = dst;
	char kp[CY_PATH_MAX];

	if (r->username[0] && !r->password[0])
		return cy_fail(p, cy_map_get(p, map, "username"),
			       cy_join(kp, sizeof(kp), path, "username"),
			       "needs store.redis.password (AUTH username password)");
	return 0;
}

static int parse_redis_prefix(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			      const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;
	const char *s;
	int err;

	(void)map;
	err = cy_get_name(p, v, path, "a key prefix", sizeof(r->prefix), &s);
	if (err)
		return err;
	if (strpbrk(s, "{}"))
		return cy_fail(p, v, path, "\"%s\": no braces", s);
	strcpy(r->prefix, s);
	return 0;
}

/* One "host:port" of store.redis.sentinels or cluster ("[v6]:port"; port default
 * def_port). */
static int parse_sentinel_addr(struct cy_parser *p, const yaml_node_t *v, const char *path,
			       struct fg_conf_redis_addr *a, uint16_t def_port)
{
	const char *s, *h, *end, *colon;
	uint16_t port = def_port;
	size_t hlen;
	int err;

	err = cy_get_str(p, v, path, "host:port", &s);
	if (err)
		return err;
	h = s;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return cy_fail(p, v, path, "\"%s\": no ']' after the IPv6 address", s);
		h++;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return cy_fail(p, v, path, "\"%s\": expected :port after ']'", s);
	} else {
		colon = strchr(h, ':');
		if (colon && strchr(colon + 1, ':'))
			return cy_fail(p, v, path, "\"%s\": write an IPv6 address as [addr]:port",
				       s);
		hlen = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (!hlen || hlen >= sizeof(a->host) || strpbrk(s, "/@? "))
		return cy_fail(p, v, path, "\"%s\": %s", s,
			       !hlen			 ? "no host"
			       : hlen >= sizeof(a->host) ? "the host name is too long"
							 : "expected host:port");
	memcpy(a->host, h, hlen);
	a->host[hlen] = '\0';
	if (colon && !(port = port_after(colon)))
		return cy_fail(p, v, path, "\"%s\": the port must be a number from 1 to 65535", s);
	a->port = port;
	return 0;
}

static int parse_addr_list(struct cy_parser *p, const yaml_node_t *v, const char *path,
			   struct fg_conf_redis_addr *list, int *count, uint16_t def_port,
			   const char *what)
{
	char kp[CY_PATH_MAX];
	int i, k, err;

	err = cy_expect_kind(p, v, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	*count = 0;
	if (!cy_seq_len(v) || cy_seq_len(v) > FG_CONF_REDIS_MAX_SENTINELS)
		return cy_fail(p, v, path, "%d entries: give 1 to %d %s", cy_seq_len(v),
			       FG_CONF_REDIS_MAX_SENTINELS, what);
	for (i = 0; i < cy_seq_len(v); i++) {
		struct fg_conf_redis_addr *a = &list[i];

		snprintf(kp, sizeof(kp), "%s[%d]", path, i);
		err = parse_sentinel_addr(p, cy_seq_item(p, v, i), kp, a, def_port);
		if (err)
			return err;
		for (k = 0; k < i; k++)
			if (list[k].port == a->port && !strcmp(list[k].host, a->host))
				return cy_fail(p, cy_seq_item(p, v, i), kp, "%s:%u is listed twice",
					       a->host, a->port);
		*count = i + 1;
	}
	return 0;
}

static int parse_redis_sentinels(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
				 const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return parse_addr_list(p, v, path, r->sentinels, &r->nsentinels, FG_CONF_SENTINEL_PORT,
			       "sentinels");
}

static int parse_redis_cluster(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			       const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return parse_addr_list(p, v, path, r->cluster, &r->ncluster, 6379, "seed nodes");
}

static int parse_master_name(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			     const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;
	const char *s;
	int err;

	(void)map;
	err = cy_get_name(p, v, path, "the master's name in the sentinels' config",
			  sizeof(r->master_name), &s);
	if (err)
		return err;
	strcpy(r->master_name, s);
	return 0;
}

static int parse_sentinel_username(struct cy_parser *p, const yaml_node_t *map,
				   const yaml_node_t *v, const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return read_acl_user(p, v, path, r->sentinel_username, sizeof(r->sentinel_username));
}

static int parse_sentinel_password(struct cy_parser *p, const yaml_node_t *map,
				   const yaml_node_t *v, const char *path, void *dst)
{
	struct fg_conf_redis *r = dst;

	(void)map;
	return read_password(p, v, path, r->sentinel_password, sizeof(r->sentinel_password));
}

/* Either one address (url) or sentinels that name the master: not both. */
static int check_redis_where(struct cy_parser *p, const yaml_node_t *map, const char *path,
			     void *dst)
{
	const struct fg_conf_redis *r = dst;
	char kp[CY_PATH_MAX];

	if ((r->url[0] && r->nsentinels) || (r->ncluster && (r->url[0] || r->nsentinels)))
		return cy_fail(p, cy_map_get(p, map, r->ncluster ? "cluster" : "sentinels"),
			       cy_join(kp, sizeof(kp), path, r->ncluster ? "cluster" : "sentinels"),
			       "give one of url (one Redis), sentinels (the master they name) or "
			       "cluster (seed nodes)");
	if (r->ncluster && r->db)
		return cy_fail(p, cy_map_get(p, map, "db"), cy_join(kp, sizeof(kp), path, "db"),
			       "a Redis Cluster has only database 0");
	if (r->nsentinels && !r->master_name[0])
		return cy_fail(p, cy_map_get(p, map, "sentinels"),
			       cy_join(kp, sizeof(kp), path, "master_name"),
			       "missing: sentinels need the master's name (as in their "
			       "\"sentinel monitor NAME ...\" line)");
	if (!r->nsentinels && (r->master_name[0] || r->sentinel_password[0]))
		return cy_fail(
			p,
			cy_map_get(p, map, r->master_name[0] ? "master_name" : "sentinel_password"),
			cy_join(kp, sizeof(kp), path,
				r->master_name[0] ? "master_name" : "sentinel_password"),
			"only with sentinels");
	if (r->sentinel_username[0] && !r->sentinel_password[0])
		return cy_fail(p, cy_map_get(p, map, "sentinel_username"),
			       cy_join(kp, sizeof(kp), path, "sentinel_username"),
			       "needs store.redis.sentinel_password (AUTH username password)");
	return 0;
}

/* store.redis: the url's port and the prefix's default are set by config_defaults(). */
static const struct cy_key redis_keys[] = {
	CY_READER("url", 0, parse_redis_url),
	CY_READER("sentinels", 0, parse_redis_sentinels),
	CY_READER("master_name", 0, parse_master_name),
	CY_READER("cluster", 0, parse_redis_cluster),
	CY_READER("username", 0, parse_redis_username),
	CY_READER("password", 0, parse_redis_password),
	CY_CHECK_AT(0, check_redis_auth),
	CY_READER("sentinel_username", 0, parse_sentinel_username),
	CY_READER("sentinel_password", 0, parse_sentinel_password),
	CY_VALUE("db", CY_U32, REDIS(db), 0, 0, 1000000),
	CY_CHECK_AT(0, check_redis_where),
	CY_VALUE("timeout_ms", CY_U32, REDIS(timeout_ms), FG_CONF_REDIS_TIMEOUT_MS, 1, 10000),
	CY_READER("prefix", 0, parse_redis_prefix),
	CY_TABLE_END,
};

static int parse_store_type(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			    const char *path, void *dst)
{
	enum fg_store_type *type = dst;
	char b[64];

	(void)map;
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "memory"))
		*type = FG_STORE_MEMORY;
	else if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "redis"))
		*type = FG_STORE_REDIS;
	else
		return cy_fail(p, v, path, "expected memory or redis, got %s",
			       cy_show(v, b, sizeof(b)));
	return 0;
}

/* A redis store needs its url; redis: without type: redis is a mistake. */
static int check_store(struct cy_parser *p, const yaml_node_t *map, const char *path, void *dst)
{
	const yaml_node_t *rv = cy_map_get(p, map, "redis"), *tv = cy_map_get(p, map, "type");
	const struct fg_conf_store *st = dst;
	char kp[CY_PATH_MAX];

	if (st->type == FG_STORE_REDIS && !st->redis.url[0] && !st->redis.nsentinels &&
	    !st->redis.ncluster)
		return cy_fail(p, rv ? rv : tv,
			       cy_join(kp, sizeof(kp), path, rv ? "redis.url" : "redis"),
			       "missing: the redis store needs a url (redis://host:port or "
			       "unix:///path), sentinels and a master_name, or cluster");
	if (st->type != FG_STORE_REDIS && rv && !cy_is_null(rv))
		return cy_fail(p, rv, cy_join(kp, sizeof(kp), path, "redis"),
			       "set store.type: redis to use it");
	return 0;
}

const struct cy_key config_store_keys[] = {
	CY_READER("type", offsetof(struct fg_conf_store, type), parse_store_type),
	CY_VALUE("max_keys", CY_U64, offsetof(struct fg_conf_store, max_keys),
		 FG_CONF_STORE_MAX_KEYS, 1, CONF_MAX_TABLE),
	CY_SECTION("redis", offsetof(struct fg_conf_store, redis), redis_keys),
	CY_CHECK_AT(0, check_store),
	CY_TABLE_END,
};

/* per_call_limits: ---------------------------------------------------------- */

#define PER_CALL(f) offsetof(struct fg_conf_per_call, f)

/* Bounds on what a socket peer may ask of CL.THROTTLE: its keys share the
 * memory store, and its GCRA debt (max_burst + 1 periods / count) stays
 * exact in Redis's doubles whatever the call gives (commands refuse more). */
const struct cy_key config_per_call_keys[] = {
	CY_VALUE("enabled", CY_BOOL, PER_CALL(enabled), true, 0, 0),
	CY_VALUE("max_keys", CY_U64, PER_CALL(max_keys), FG_CONF_PER_CALL_MAX_KEYS, 1,
		 CONF_MAX_TABLE),
	CY_VALUE("max_burst", CY_U64, PER_CALL(max_burst), FG_CONF_PER_CALL_MAX_BURST, 0,
		 1000000000),
	CY_VALUE("max_count", CY_U64, PER_CALL(max_count), FG_CONF_PER_CALL_MAX_COUNT, 1,
		 1000000000),
	CY_VALUE("max_period", CY_DURATION, PER_CALL(max_period_ms), FG_CONF_PER_CALL_PERIOD_MS,
		 1000, FG_CONF_PER_CALL_PERIOD_MAX),
	CY_TABLE_END,
};

/* metrics: ----------------------------------------------------------------- */

static int parse_metrics_listen(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
				const char *path, void *dst)
{
	struct fg_conf_metrics *m = dst;
	struct sockaddr_storage ss;
	const char *s, *why;
	socklen_t len;
	char b[64];
	int err;

	(void)map;
	/* "" (or nothing) switches the endpoint off, like enabled: false. */
	if (cy_is_null(v) || (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)) {
		m->listen[0] = '\0';
		return 0;
	}
	if (v->type != YAML_SCALAR_NODE)
		return cy_fail(p, v, path,
			       "expected an address:port like \"127.0.0.1:10150\", got %s",
			       cy_show(v, b, sizeof(b)));
	err = cy_get_str(p, v, path, "an address:port", &s);
	if (err)
		return err;
	if (strlen(s) >= sizeof(m->listen) || config_parse_listen(s, &ss, &len, &why))
		return cy_fail(p, v, path, "%s: %s", cy_show(v, b, sizeof(b)),
			       strlen(s) >= sizeof(m->listen) ? "too long" : why);
	strcpy(m->listen, s);
	return 0;
}

#define METRICS(f) offsetof(struct fg_conf_metrics, f)

/* listen last: its default is set by config_defaults(). */
const struct cy_key config_metrics_keys[] = {
	CY_VALUE("enabled", CY_BOOL, METRICS(enabled), true, 0, 0),
	CY_VALUE("max_connections", CY_U32, METRICS(max_connections), FG_CONF_METRICS_MAX_CONN, 1,
		 FG_CONF_METRICS_MAX_CONN_MAX),
	CY_VALUE("timeout", CY_DURATION, METRICS(timeout_ms), FG_CONF_METRICS_TIMEOUT_MS, 1000,
		 300 * 1000),
	CY_READER("listen", 0, parse_metrics_listen),
	CY_TABLE_END,
};

/* log: --------------------------------------------------------------------- */

static int parse_log_format(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			    const char *path, void *dst)
{
	struct fg_conf_log *l = dst;
	enum fg_log_format format;
	const char *s;
	char b[64];
	int err;

	(void)map;
	err = cy_get_str(p, v, path, "logfmt or json", &s);
	if (err)
		return err;
	if (log_parse_format(s, &format))
		return cy_fail(p, v, path, "%s: use logfmt or json", cy_show(v, b, sizeof(b)));
	l->format_set = true;
	l->json = format == FG_LOG_JSON;
	return 0;
}

static int parse_log_level(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			   const char *path, void *dst)
{
	struct fg_conf_log *l = dst;
	enum fg_log_level level;
	const char *s;
	char b[64];
	int err;

	(void)map;
	err = cy_get_str(p, v, path, "error, warn, info or debug", &s);
	if (err)
		return err;
	if (log_parse_level(s, &level))
		return cy_fail(p, v, path, "%s: use error, warn, info or debug",
			       cy_show(v, b, sizeof(b)));
	l->level_set = true;
	l->level = level;
	return 0;
}

#define LOG(f) offsetof(struct fg_conf_log, f)

/* log.level's default (info) is set by config_defaults(). */
const struct cy_key config_log_keys[] = {
	CY_READER("format", 0, parse_log_format),
	CY_READER("level", 0, parse_log_level),
	CY_VALUE("violation_lines_per_sec", CY_U32, LOG(violation_lines_per_sec),
		 FG_CONF_LOG_LINES_PER_SEC, 1, 100000),
	CY_VALUE("summary_interval", CY_DURATION, LOG(summary_interval_ms), FG_CONF_LOG_SUMMARY_MS,
		 1000, 3600 * 1000),
	CY_TABLE_END,
};
