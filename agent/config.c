// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config: the top level of the config (the root key table), the built-in
 * defaults, reading the file and config.h's API. The sections are read in
 * config_xdp.c, config_service.c and config_policies.c, with the YAML reader
 * config_yaml.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <floodgate/paths.h>

#include "config.h"
#include "config_int.h"
#include "log.h"

#define CONF_FILE_MAX (16 << 20)

/* policies: config_policies.c keeps its own reader, called as a root row. */
static int parse_policies(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			  const char *path, void *dst)
{
	(void)map;
	(void)path;
	return config_parse_policies(p, v, dst);
}

/*
 * The top level, in the order the sections are read (store before policies:
 * the policies' max_keys must fit in store.max_keys). The XDP sections are in
 * config_xdp.c, the services' in config_service.c, policies in
 * config_policies.c.
 */
static const struct cy_key root_keys[] = {
	CY_READER("interfaces", 0, config_parse_ifaces),
	CY_READER("xdp_mode", 0, config_parse_xdp_mode),
	CY_VALUE("dry_run", CY_BOOL, offsetof(struct fg_conf, dry_run), false, 0, 0),
	CY_VALUE("persist", CY_BOOL, offsetof(struct fg_conf, persist), false, 0, 0),
	CY_VALUE("app_only", CY_BOOL, offsetof(struct fg_conf, app_only), false, 0, 0),
	CY_SECTION("sources", 0, config_sources_keys),
	CY_SECTION("defaults", 0, config_defaults_keys),
	CY_READER("rules", 0, config_parse_rules),
	CY_SECTION("syn_cookies", 0, config_syn_cookies_keys),
	CY_READER("allow", 0, config_parse_allow),
	CY_READER("deny", 0, config_parse_deny),
	CY_SECTION("socket", offsetof(struct fg_conf, socket), config_socket_keys),
	CY_SECTION("app_bans", offsetof(struct fg_conf, app_bans), config_app_bans_keys),
	CY_SECTION("vouch", offsetof(struct fg_conf, vouch), config_vouch_keys),
	CY_SECTION("store", offsetof(struct fg_conf, store), config_store_keys),
	CY_SECTION("per_call_limits", offsetof(struct fg_conf, per_call), config_per_call_keys),
	CY_SECTION("metrics", offsetof(struct fg_conf, metrics), config_metrics_keys),
	CY_SECTION("log", offsetof(struct fg_conf, log), config_log_keys),
	CY_READER("policies", 0, parse_policies),
	CY_TABLE_END,
};

static int parse_root(struct cy_parser *p, const yaml_node_t *root)
{
	char b[64];

	/* An empty file, or one with only comments, means all defaults. */
	if (!root || cy_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return cy_fail(p, root, NULL,
			       "expected a mapping of keys (interfaces:, rules:, ...), "
			       "got %s",
			       cy_show(root, b, sizeof(b)));
	return cy_walk(p, root, "", root_keys, p->conf);
}

void config_defaults(struct fg_conf *c)
{
	memset(c, 0, sizeof(*c));
	/* Numbers, bools, durations and sizes: the .def of their rows. */
	cy_defaults(root_keys, c);
	/* The rest: values read by a custom row, and the protocols' levels. */
	c->xdp_mode = FG_XDP_AUTO;
	c->defaults[FG_PROTO_TCP].per_source = (struct fg_conf_limit){ .rate = 20, .burst = 40 };
	c->defaults[FG_PROTO_UDP].per_source = (struct fg_conf_limit){ .rate = 50, .burst = 100 };
	/* A global budget is what turns on under-attack mode: without one a
	 * random-source flood gets one admission per spoofed address. */
	c->defaults[FG_PROTO_TCP].global = (struct fg_conf_limit){ .rate = 5000, .burst = 10000 };
	c->defaults[FG_PROTO_UDP].global = (struct fg_conf_limit){ .rate = 20000, .burst = 40000 };
	strcpy(c->socket.path, FG_DEFAULT_SOCKET);
	c->socket.mode = 0660;
	c->socket.admin_uids[0] = 0;
	c->socket.nadmin_uids = 1;
	c->socket.idle_timeout_ms = FG_CONF_SOCKET_IDLE_TIMEOUT_MS;
	c->store.type = FG_STORE_MEMORY;
	c->store.redis.port = 6379;
	strcpy(c->store.redis.prefix, FG_CONF_REDIS_PREFIX);
	strcpy(c->metrics.listen, FG_CONF_METRICS_LISTEN);
	c->log.level = FG_LOG_INFO;
}

void config_free(struct fg_conf *c)
{
	free(c->allow);
	free(c->deny);
	free(c->policies);
	c->allow = c->deny = NULL;
	c->nallow = c->ndeny = 0;
	c->policies = NULL;
	c->npolicies = 0;
}

int config_parse(const char *name, const char *text, size_t len, struct fg_conf *out, char *err,
		 size_t errlen)
{
	char dummy[1];
	struct cy_parser p = {
		.file = name ? name : "<config>",
		.err = err && errlen ? err : dummy,
		.errlen = err && errlen ? errlen : sizeof(dummy),
		.conf = out,
	};
	int ret;

	config_defaults(out);
	p.err[0] = '\0';
	ret = cy_load(&p, text, len, parse_root);
	if (ret) {
		config_free(out);
		memset(out, 0, sizeof(*out));
	}
	return ret;
}

static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m)   ? "fifo"
	       : S_ISCHR(m)  ? "character device"
	       : S_ISBLK(m)  ? "block device"
	       : S_ISSOCK(m) ? "socket"
			     : "not a file";
}

/* The whole file at fd (a regular file, checked) into *buf, at most
 * CONF_FILE_MAX bytes. */
static int read_all(int fd, size_t hint, char **buf, size_t *len)
{
	size_t cap = hint + 1, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > CONF_FILE_MAX) {
				free(b);
				return -EFBIG; /* grew while we read */
			}
			cap *= 2;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(b);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CONF_FILE_MAX) {
		free(b);
		return -EFBIG;
	}
	*buf = b;
	*len = n;
	return 0;
}

int config_load(const char *path, struct fg_conf *out, char *err, size_t errlen)
{
	char dummy[1], *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, ret;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	memset(out, 0, sizeof(*out));
	/* Non-blocking: opening a FIFO (or a device) must not wait for a
	 * writer; symlinks are followed, as /etc's usually are. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen,
			 "%s: not a regular file (%s): give the path of the YAML config file", path,
			 file_kind(st.st_mode));
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d MiB (%lld bytes), not a config", path,
			 CONF_FILE_MAX >> 20, (long long)st.st_size);
		goto out;
	}
	ret = read_all(fd, (size_t)st.st_size, &buf, &len);
	if (ret == -EFBIG)
		snprintf(err, errlen, "%s: larger than %d MiB, not a config", path,
			 CONF_FILE_MAX >> 20);
	else if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
out:
	close(fd);
	if (ret)
		return ret;
	ret = config_parse(path, buf, len, out, err, errlen);
	free(buf);
	return ret;
}
