// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_service: the sections of the agent's services: socket, app_bans,
 * store, metrics and log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "config_int.h"
#include "log.h"

#define CONF_ID_MAX 4294967294LL /* (uid_t)-1 means "no change" to chown() */

static const char *const socket_keys[] = { "path",
					   "mode",
					   "group",
					   "admin_uids",
					   "admin_gids",
					   "max_clients",
					   "max_clients_per_uid",
					   "admin_reserve",
					   "idle_timeout",
					   "max_buffers",
					   "client_output_limit",
					   NULL };
static const char *const store_keys[] = { "type", "max_keys", "redis", NULL };
static const char *const redis_keys[] = { "url",	"username", "password", "db",
					  "timeout_ms", "prefix",   NULL };
static const char *const metrics_keys[] = { "listen", "enabled", "max_connections", "timeout",
					    NULL };
static const char *const log_keys[] = { "format", "level", "violation_lines_per_sec",
					"summary_interval", NULL };

static const char *const app_bans_keys[] = { "peer_uids", "peer_gids", "max", "per_peer", NULL };

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

/* socket: limits on clients (issue: one user must not lock the operator out
 * or exhaust the agent's memory). Defaults come from config_defaults(). */
static int parse_socket_limits(struct cy_parser *p, const yaml_node_t *n, struct fg_conf_socket *so)
{
	yaml_node_t *v, *per_uid, *reserve, *outlim;
	int err;

	if ((v = cy_map_get(p, n, "max_clients")) &&
	    (err = cy_get_u32(p, v, "socket.max_clients", 1, 1000000, &so->max_clients)))
		return err;
	if ((per_uid = cy_map_get(p, n, "max_clients_per_uid"))) {
		err = cy_get_u32(p, per_uid, "socket.max_clients_per_uid", 1, 1000000,
				 &so->max_clients_per_uid);
		if (err)
			return err;
		if (so->max_clients_per_uid > so->max_clients)
			return cy_fail(p, per_uid, "socket.max_clients_per_uid",
				       "%u is more than socket.max_clients (%u)",
				       so->max_clients_per_uid, so->max_clients);
	} else {
		so->max_clients_per_uid = so->max_clients / 4 ? so->max_clients / 4 : 1;
	}
	if ((reserve = cy_map_get(p, n, "admin_reserve"))) {
		err = cy_get_u32(p, reserve, "socket.admin_reserve", 0, 1000000,
				 &so->admin_reserve);
		if (err)
			return err;
		if (so->admin_reserve >= so->max_clients)
			return cy_fail(
				p, reserve, "socket.admin_reserve",
				"%u leaves no connection for applications (socket.max_clients "
				"is %u)",
				so->admin_reserve, so->max_clients);
	} else if (so->admin_reserve >= so->max_clients) {
		so->admin_reserve = so->max_clients / 2;
	}
	if ((v = cy_map_get(p, n, "idle_timeout"))) {
		const char *t;

		/* 0 turns it off: duration_parse() refuses 0, so it is read here. */
		if (v->type == YAML_SCALAR_NODE && (t = cy_text(v)) && !strcmp(t, "0"))
			so->idle_timeout_ms = 0;
		else if ((err = cy_get_duration(p, v, "socket.idle_timeout", &so->idle_timeout_ms)))
			return err;
		else if (so->idle_timeout_ms < 1000)
			return cy_fail(p, v, "socket.idle_timeout",
				       "\"%s\" is shorter than 1s (0 turns the timeout off)",
				       cy_text(v));
	}
	if ((v = cy_map_get(p, n, "max_buffers")) &&
	    (err = cy_get_bytes(p, v, "socket.max_buffers", 1ull << 20, 1ull << 40,
				&so->max_buffers)))
		return err;
	if ((outlim = cy_map_get(p, n, "client_output_limit"))) {
		err = cy_get_bytes(p, outlim, "socket.client_output_limit", 64ull << 10, 1ull << 40,
				   &so->client_output_limit);
		if (err)
			return err;
	}
	if (!outlim && so->client_output_limit > so->max_buffers)
		so->client_output_limit = so->max_buffers;
	if (so->client_output_limit > so->max_buffers)
		return cy_fail(p, outlim, "socket.client_output_limit",
			       "%llu bytes is more than socket.max_buffers (%llu)",
			       (unsigned long long)so->client_output_limit,
			       (unsigned long long)so->max_buffers);
	return 0;
}

int config_parse_socket(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_socket *so = &c->socket;
	yaml_node_t *v;
	const char *s;
	char b[64];
	int err;

	err = cy_expect_kind(p, n, "socket", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "socket", socket_keys);
	if (err)
		return err;
	if ((v = cy_map_get(p, n, "path"))) {
		err = cy_get_str(p, v, "socket.path", "a path", &s);
		if (err)
			return err;
		if (*s != '/')
			return cy_fail(p, v, "socket.path", "\"%s\" is not an absolute path", s);
		if (strlen(s) >= sizeof(so->path))
			return cy_fail(
				p, v, "socket.path",
				"\"%.30s...\" is too long for a Unix socket (at most %zu bytes)", s,
				sizeof(so->path) - 1);
		strcpy(so->path, s);
	}
	if ((v = cy_map_get(p, n, "mode"))) {
		unsigned long m = 0;
		const char *d;

		/* Octal as chmod reads it: "0660", 0660 or 660 (0o660 too). */
		if (v->type != YAML_SCALAR_NODE || cy_is_null(v))
			return cy_fail(p, v, "socket.mode",
				       "expected an octal mode like \"0660\", got %s",
				       cy_show(v, b, sizeof(b)));
		s = cy_text(v);
		d = !strncmp(s, "0o", 2) ? s + 2 : s;
		if (!*d || strspn(d, "01234567") != strlen(d) || strlen(d) > 12)
			return cy_fail(p, v, "socket.mode",
				       "\"%s\" is not an octal mode like \"0660\"", s);
		m = strtoul(d, NULL, 8);
		if (m > 0777)
			return cy_fail(p, v, "socket.mode", "\"%s\" is more than 0777", s);
		if (!(m & 0600))
			return cy_fail(
				p, v, "socket.mode",
				"\"%s\" leaves the owner unable to use the socket (add 0600)", s);
		so->mode = (uint32_t)m;
	}
	if ((v = cy_map_get(p, n, "group"))) {
		if (cy_is_null(v)) {
			so->group[0] = '\0';
		} else {
			err = cy_get_str(p, v, "socket.group", "a group name or number", &s);
			if (err)
				return err;
			if (strlen(s) >= sizeof(so->group) || strpbrk(s, ": \t\n/"))
				return cy_fail(p, v, "socket.group",
					       "\"%.40s\" is not a group name", s);
			strcpy(so->group, s);
		}
	}
	if ((v = cy_map_get(p, n, "admin_uids")) &&
	    (err = parse_ids(p, v, "socket.admin_uids", so->admin_uids, &so->nadmin_uids)))
		return err;
	if ((v = cy_map_get(p, n, "admin_gids")) &&
	    (err = parse_ids(p, v, "socket.admin_gids", so->admin_gids, &so->nadmin_gids)))
		return err;
	return parse_socket_limits(p, n, so);
}

static int parse_redis_url(struct cy_parser *p, const yaml_node_t *v, struct fg_conf_redis *r)
{
	const char *s, *h, *end, *colon;
	uint16_t port = 6379;
	size_t hlen;
	int err;

	err = cy_get_str(p, v, "store.redis.url", "a URL (redis://host:port or unix:///path)", &s);
	if (err)
		return err;
	if (strlen(s) >= sizeof(r->url))
		return cy_fail(p, v, "store.redis.url",
			       "\"%.30s...\" is too long (at most %zu bytes)", s,
			       sizeof(r->url) - 1);
	strcpy(r->url, s);
	r->host[0] = r->path[0] = '\0';
	if (!strncmp(s, "unix://", 7)) {
		if (s[7] != '/')
			return cy_fail(p, v, "store.redis.url",
				       "\"%s\": a Unix socket needs an absolute path "
				       "(unix:///run/redis/redis.sock)",
				       s);
		if (strlen(s + 7) >= sizeof(r->path))
			return cy_fail(
				p, v, "store.redis.url",
				"\"%.30s...\": the socket path is too long (at most %zu bytes)", s,
				sizeof(r->path) - 1);
		strcpy(r->path, s + 7);
		return 0;
	}
	if (strncmp(s, "redis://", 8))
		return cy_fail(p, v, "store.redis.url",
			       "\"%s\" is not redis://host:port or unix:///path (rediss:// is not "
			       "supported)",
			       s);
	h = s + 8;
	if (strpbrk(h, "@/?"))
		return cy_fail(p, v, "store.redis.url",
			       "\"%s\": give only host and port (the password goes in "
			       "store.redis.password, the database in store.redis.db)",
			       s);
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return cy_fail(p, v, "store.redis.url",
				       "\"%s\": no ']' after the IPv6 address", s);
		h++;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return cy_fail(p, v, "store.redis.url", "\"%s\": expected :port after ']'",
				       s);
	} else {
		colon = strchr(h, ':');
		hlen = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (!hlen || hlen >= sizeof(r->host))
		return cy_fail(p, v, "store.redis.url", "\"%s\": %s", s,
			       hlen ? "the host name is too long" : "no host");
	memcpy(r->host, h, hlen);
	r->host[hlen] = '\0';
	if (colon && !(port = port_after(colon)))
		return cy_fail(p, v, "store.redis.url",
			       "\"%s\": the port must be a number from 1 to 65535", s);
	r->port = port;
	return 0;
}

static int parse_redis(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_redis *r = &c->store.redis;
	yaml_node_t *v;
	const char *s;
	long long val;
	int err;

	err = cy_expect_kind(p, n, "store.redis", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "store.redis", redis_keys);
	if (err)
		return err;
	if ((v = cy_map_get(p, n, "url")) && (err = parse_redis_url(p, v, r)))
		return err;
	if ((v = cy_map_get(p, n, "username")) && !cy_is_null(v)) {
		err = cy_get_str(p, v, "store.redis.username", "an ACL user name", &s);
		if (err)
			return err;
		if (!*s || strlen(s) >= sizeof(r->username))
			return cy_fail(p, v, "store.redis.username", "1 to %zu bytes",
				       sizeof(r->username) - 1);
		strcpy(r->username, s);
	}
	if ((v = cy_map_get(p, n, "password")) && !cy_is_null(v)) {
		err = cy_get_str(p, v, "store.redis.password", "a password", &s);
		if (err)
			return err;
		if (strlen(s) >= sizeof(r->password))
			return cy_fail(p, v, "store.redis.password", "too long (at most %zu bytes)",
				       sizeof(r->password) - 1);
		strcpy(r->password, s);
	}
	if (r->username[0] && !r->password[0])
		return cy_fail(p, cy_map_get(p, n, "username"), "store.redis.username",
			       "needs store.redis.password (AUTH username password)");
	if ((v = cy_map_get(p, n, "db"))) {
		err = cy_get_int(p, v, "store.redis.db", 0, 1000000, &val);
		if (err)
			return err;
		r->db = (uint32_t)val;
	}
	if ((v = cy_map_get(p, n, "timeout_ms"))) {
		err = cy_get_int(p, v, "store.redis.timeout_ms", 1, 10000, &val);
		if (err)
			return err;
		r->timeout_ms = (uint32_t)val;
	}
	if ((v = cy_map_get(p, n, "prefix"))) {
		err = cy_get_name(p, v, "store.redis.prefix", "a key prefix", sizeof(r->prefix),
				  &s);
		if (err)
			return err;
		if (strpbrk(s, "{}"))
			return cy_fail(p, v, "store.redis.prefix", "\"%s\": no braces", s);
		strcpy(r->prefix, s);
	}
	return 0;
}

int config_parse_store(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	yaml_node_t *v, *rv, *tv;
	long long val;
	char b[64];
	int err;

	err = cy_expect_kind(p, n, "store", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "store", store_keys);
	if (err)
		return err;
	if ((v = tv = cy_map_get(p, n, "type"))) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "memory"))
			c->store.type = FG_STORE_MEMORY;
		else if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "redis"))
			c->store.type = FG_STORE_REDIS;
		else
			return cy_fail(p, v, "store.type", "expected memory or redis, got %s",
				       cy_show(v, b, sizeof(b)));
	}
	if ((v = cy_map_get(p, n, "max_keys"))) {
		err = cy_get_int(p, v, "store.max_keys", 1, CONF_MAX_TABLE, &val);
		if (err)
			return err;
		c->store.max_keys = (uint64_t)val;
	}
	rv = cy_map_get(p, n, "redis");
	if (rv && (err = parse_redis(p, rv, c)))
		return err;
	if (c->store.type == FG_STORE_REDIS && !c->store.redis.url[0])
		return cy_fail(p, rv ? rv : tv, rv ? "store.redis.url" : "store.redis",
			       "missing: the redis store needs a url (redis://host:port or "
			       "unix:///path)");
	if (c->store.type != FG_STORE_REDIS && rv && !cy_is_null(rv))
		return cy_fail(p, rv, "store.redis", "set store.type: redis to use it");
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

int config_parse_log(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	enum fg_log_format format;
	enum fg_log_level level;
	const char *s;
	yaml_node_t *v;
	char b[64];
	int err;

	err = cy_expect_kind(p, n, "log", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "log", log_keys);
	if (err)
		return err;
	if ((v = cy_map_get(p, n, "format"))) {
		err = cy_get_str(p, v, "log.format", "logfmt or json", &s);
		if (err)
			return err;
		if (log_parse_format(s, &format))
			return cy_fail(p, v, "log.format", "%s: use logfmt or json",
				       cy_show(v, b, sizeof(b)));
		c->log.format_set = true;
		c->log.json = format == FG_LOG_JSON;
	}
	if ((v = cy_map_get(p, n, "level"))) {
		err = cy_get_str(p, v, "log.level", "error, warn, info or debug", &s);
		if (err)
			return err;
		if (log_parse_level(s, &level))
			return cy_fail(p, v, "log.level", "%s: use error, warn, info or debug",
				       cy_show(v, b, sizeof(b)));
		c->log.level_set = true;
		c->log.level = level;
	}
	if ((v = cy_map_get(p, n, "violation_lines_per_sec")) &&
	    (err = cy_get_u32(p, v, "log.violation_lines_per_sec", 1, 100000,
			      &c->log.violation_lines_per_sec)))
		return err;
	if ((v = cy_map_get(p, n, "summary_interval"))) {
		err = cy_get_duration(p, v, "log.summary_interval", &c->log.summary_interval_ms);
		if (err)
			return err;
		if (c->log.summary_interval_ms < 1000 || c->log.summary_interval_ms > 3600 * 1000)
			return cy_fail(p, v, "log.summary_interval",
				       "\"%s\" is out of range (1s-1h)", cy_text(v));
	}
	return 0;
}

int config_parse_metrics(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct sockaddr_storage ss;
	const char *s, *why;
	yaml_node_t *v;
	socklen_t len;
	char b[64];
	int err;

	err = cy_expect_kind(p, n, "metrics", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "metrics", metrics_keys);
	if (err)
		return err;
	if ((v = cy_map_get(p, n, "enabled")) &&
	    (err = cy_get_bool(p, v, "metrics.enabled", &c->metrics.enabled)))
		return err;
	if ((v = cy_map_get(p, n, "max_connections")) &&
	    (err = cy_get_u32(p, v, "metrics.max_connections", 1, FG_CONF_METRICS_MAX_CONN_MAX,
			      &c->metrics.max_connections)))
		return err;
	if ((v = cy_map_get(p, n, "timeout"))) {
		err = cy_get_duration(p, v, "metrics.timeout", &c->metrics.timeout_ms);
		if (err)
			return err;
		if (c->metrics.timeout_ms < 1000 || c->metrics.timeout_ms > 300 * 1000)
			return cy_fail(p, v, "metrics.timeout", "\"%s\" is out of range (1s-5m)",
				       cy_text(v));
	}
	if ((v = cy_map_get(p, n, "listen"))) {
		/* "" (or nothing) switches the endpoint off, like enabled: false. */
		if (cy_is_null(v) || (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)) {
			c->metrics.listen[0] = '\0';
			return 0;
		}
		if (v->type != YAML_SCALAR_NODE)
			return cy_fail(p, v, "metrics.listen",
				       "expected an address:port like \"127.0.0.1:10150\", got %s",
				       cy_show(v, b, sizeof(b)));
		err = cy_get_str(p, v, "metrics.listen", "an address:port", &s);
		if (err)
			return err;
		if (strlen(s) >= sizeof(c->metrics.listen) ||
		    config_parse_listen(s, &ss, &len, &why))
			return cy_fail(p, v, "metrics.listen", "%s: %s", cy_show(v, b, sizeof(b)),
				       strlen(s) >= sizeof(c->metrics.listen) ? "too long" : why);
		strcpy(c->metrics.listen, s);
	}
	return 0;
}

int config_parse_app_bans(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_app_bans *ab = &c->app_bans;
	yaml_node_t *v;
	int err;

	err = cy_expect_kind(p, n, "app_bans", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "app_bans", app_bans_keys);
	if (err)
		return err;
	if ((v = cy_map_get(p, n, "peer_uids")) &&
	    (err = parse_ids(p, v, "app_bans.peer_uids", ab->peer_uids, &ab->npeer_uids)))
		return err;
	if ((v = cy_map_get(p, n, "peer_gids")) &&
	    (err = parse_ids(p, v, "app_bans.peer_gids", ab->peer_gids, &ab->npeer_gids)))
		return err;
	/* At most half the ban map: the rest is for operators and the XDP program. */
	if ((v = cy_map_get(p, n, "max")) &&
	    (err = cy_get_u32(p, v, "app_bans.max", 0, FG_MAX_BANS / 2, &ab->max)))
		return err;
	if ((v = cy_map_get(p, n, "per_peer")) &&
	    (err = cy_get_u32(p, v, "app_bans.per_peer", 0, FG_MAX_BANS / 2, &ab->per_peer)))
		return err;
	return 0;
}
