// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <yaml.h>

#include <floodgate/paths.h>

#include "config.h"
#include "duration.h"
#include "log.h"
#include "policy-t.h"

/* A policy's name is checked against FG_CONF_NAME_MAX like a rule's. */
_Static_assert(POLICY_NAME_MAX == FG_CONF_NAME_MAX, "policy names are config names");

/* 1e9 flows/s keeps interval_ns = 1e9 / rate at 1 ns or more. */
#define CONF_RATE_MAX	   1000000000LL
#define CONF_BAN_AFTER_MAX 1000000LL
/* A year in ms: every duration times 1e6 stays far inside a u64 of ns. */
#define CONF_DURATION_MAX_MS (365ULL * 86400 * 1000)
#define CONF_MAX_TABLE	     100000000LL
#define CONF_FILE_MAX	     (16 << 20)
/* Bounds checked on libyaml's events before a document is built: libyaml
 * scans deep flow nesting in quadratic time (100k "[" took 18 s) and a
 * document's node count is its memory. A real config is a few levels deep
 * and a maximum-size deny list is 65,536 values. */
#define CONF_MAX_DEPTH	 64
#define CONF_MAX_VALUES	 524288
#define CONF_MAX_ALIASES 1024 /* anchors and aliases: billion-laughs files */
#define CONF_PATH_MAX	 160

struct parser {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	struct fg_conf *conf;
	/* [proto * 65536 + port] -> index + 1 of the rule that owns the port */
	uint8_t *owner;
};

static const char *const top_keys[] = { "interfaces", "xdp_mode", "dry_run", "persist", "sources",
					"defaults",   "rules",	  "allow",   "deny",	"socket",
					"store",      "policies", "metrics", "log",	"app_bans",
					"app_only",   NULL };
static const char *const source_keys[] = {
	"ipv4_prefix",	"ipv6_prefix", "max_tracked", "max_prefixes", "max_udp_flows",
	"max_verified", "udp_idle",    "attack_hold", "verified_ttl", NULL
};
static const char *const defaults_keys[] = { "tcp", "udp", NULL };
static const char *const limits_keys[] = { "per_source", "per_prefix", "global", "ban", NULL };
static const char *const rule_keys[] = { "name",       "proto",	 "ports", "per_source",
					 "per_prefix", "global", "ban",	  NULL };
static const char *const limit_keys[] = { "rate", "burst", NULL };
static const char *const ban_keys[] = { "after", "window", "for", NULL };

static unsigned long node_line(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

/* Every message is "file:line: key: problem"; key may be NULL. */
__attribute__((format(printf, 4, 5))) static int fail(struct parser *p, const yaml_node_t *n,
						      const char *key, const char *fmt, ...)
{
	char msg[FG_CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen) {
		if (key)
			snprintf(p->err, p->errlen, "%s:%lu: %s: %s", p->file, node_line(n), key,
				 msg);
		else
			snprintf(p->err, p->errlen, "%s:%lu: %s", p->file, node_line(n), msg);
	}
	return -EINVAL;
}

/* path.key into buf, cut short if it must be (it only goes into messages). */
static const char *join(char *buf, size_t len, const char *path, const char *key)
{
	size_t n = 0;

	while (path && *path && n + 1 < len)
		buf[n++] = *path++;
	if (n && n + 1 < len)
		buf[n++] = '.';
	while (*key && n + 1 < len)
		buf[n++] = *key++;
	buf[n] = '\0';
	return buf;
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = sval(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* How a node looks in a message: "text" (shortened) or its kind. */
static const char *show(const yaml_node_t *n, char *buf, size_t len)
{
	if (!n)
		return "nothing";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "nothing";
	if (n->data.scalar.length > 40)
		snprintf(buf, len, "\"%.37s...\"", sval(n));
	else
		snprintf(buf, len, "\"%s\"", sval(n));
	return buf;
}

static int expect_kind(struct parser *p, const yaml_node_t *n, const char *path,
		       yaml_node_type_t kind)
{
	char b[64];

	/* An empty value ("key:" or "key: ~") is an empty mapping or list. */
	if (n->type == kind || is_null(n))
		return 0;
	return fail(p, n, path, "expected %s, got %s",
		    kind == YAML_MAPPING_NODE ? "a mapping (key: value)" : "a list",
		    show(n, b, sizeof(b)));
}

static int seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct parser *p, const yaml_node_t *n, int i)
{
	return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

/* Edit distance of short keys, for "did you mean" hints. */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[CONF_PATH_MAX + 1];
	int i, j;

	if (la > CONF_PATH_MAX || lb > CONF_PATH_MAX)
		return CONF_PATH_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			int up = row[j];
			int v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	return row[lb];
}

/* Every key of map must be one of keys, once: a typo must not pass. */
static int check_keys(struct parser *p, const yaml_node_t *map, const char *path,
		      const char *const *keys)
{
	yaml_node_pair_t *pair, *prev;
	char kp[CONF_PATH_MAX];
	char b[64];

	if (map->type != YAML_MAPPING_NODE)
		return 0;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		const char *best = NULL;
		int i, bestd = 3;

		if (!k || k->type != YAML_SCALAR_NODE)
			return fail(p, k, path && *path ? path : NULL, "keys must be names, got %s",
				    show(k, b, sizeof(b)));
		join(kp, sizeof(kp), path, sval(k));
		for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *pk = yaml_document_get_node(p->doc, prev->key);

			if (pk->type == YAML_SCALAR_NODE && !strcmp(sval(pk), sval(k)))
				return fail(p, k, kp, "duplicate key (first at line %lu)",
					    node_line(pk));
		}
		for (i = 0; keys[i]; i++) {
			int d;

			if (!strcmp(keys[i], sval(k)))
				break;
			/* Close enough to be a typo, not a different word. */
			d = distance(keys[i], sval(k));
			if (d < bestd && 2 * d < (int)strlen(sval(k))) {
				bestd = d;
				best = keys[i];
			}
		}
		if (keys[i])
			continue;
		if (best)
			return fail(p, k, kp, "unknown key (did you mean %s?)", best);
		return fail(p, k, kp, "unknown key");
	}
	return 0;
}

/* The value of key in map, or NULL when absent (or map is empty). */
static yaml_node_t *map_get(struct parser *p, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(sval(k), key))
			return yaml_document_get_node(p->doc, pair->value);
	}
	return NULL;
}

static int get_int(struct parser *p, const yaml_node_t *n, const char *path, long long min,
		   long long max, long long *out)
{
	const char *s;
	long long v = 0;
	bool neg = false, digit = false, big = false;
	char b[64];

	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail(p, n, path, "expected an integer, got %s", show(n, b, sizeof(b)));
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(p, n, path, "expected an integer, got the string %s (drop the quotes)",
			    show(n, b, sizeof(b)));
	s = sval(n);
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	/* YAML allows 1_000_000; an '_' must sit between digits. */
	for (; *s; s++) {
		if (*s == '_' && digit && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			return fail(p, n, path, "expected an integer, got %s",
				    show(n, b, sizeof(b)));
		digit = true;
		if (v > (LLONG_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (*s - '0');
	}
	if (!digit)
		return fail(p, n, path, "expected an integer, got %s", show(n, b, sizeof(b)));
	if (neg)
		v = -v;
	if (big || v < min || v > max)
		return fail(p, n, path, "%s is out of range (%lld-%lld)", sval(n), min, max);
	*out = v;
	return 0;
}

static int get_u32(struct parser *p, const yaml_node_t *n, const char *path, long long min,
		   long long max, uint32_t *out)
{
	long long v;
	int err;

	err = get_int(p, n, path, min, max, &v);
	if (!err)
		*out = (uint32_t)v;
	return err;
}

static int get_bool(struct parser *p, const yaml_node_t *n, const char *path, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	char b[64];
	int i;

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; yes[i]; i++) {
			if (!strcasecmp(sval(n), yes[i])) {
				*out = true;
				return 0;
			}
		}
		for (i = 0; no[i]; i++) {
			if (!strcasecmp(sval(n), no[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return fail(p, n, path, "expected true or false, got %s", show(n, b, sizeof(b)));
}

/* A scalar's text (any quoting); NUL bytes inside would cut names short. */
static int get_str(struct parser *p, const yaml_node_t *n, const char *path, const char *what,
		   const char **out)
{
	char b[64];

	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail(p, n, path, "expected %s, got %s", what, show(n, b, sizeof(b)));
	if (strlen(sval(n)) != n->data.scalar.length)
		return fail(p, n, path, "contains a NUL byte");
	*out = sval(n);
	return 0;
}

/* "500ms", "30s", "5m", "1h", "1d" or bare seconds, into ms. */
static int get_duration(struct parser *p, const yaml_node_t *n, const char *path, uint64_t *out_ms)
{
	const char *text;
	int err;

	err = get_str(p, n, path, "a duration (e.g. " DURATION_EXAMPLES ")", &text);
	if (err)
		return err;
	switch (duration_parse(text, CONF_DURATION_MAX_MS, out_ms)) {
	case 0:
		return 0;
	case -EDOM:
		return fail(p, n, path, "\"%s\" must be longer than 0", text);
	case -ERANGE:
		return fail(p, n, path, "\"%s\" is too long (at most 365d)", text);
	default:
		return fail(p, n, path, "\"%s\" is not a duration (e.g. " DURATION_EXAMPLES ")",
			    text);
	}
}

static int parse_limit(struct parser *p, const yaml_node_t *n, const char *path,
		       struct fg_conf_limit *out)
{
	yaml_node_t *rate, *burst;
	char kp[CONF_PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	err = expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, path, limit_keys);
	if (err)
		return err;
	rate = map_get(p, n, "rate");
	burst = map_get(p, n, "burst");
	if (rate) {
		err = get_u32(p, rate, join(kp, sizeof(kp), path, "rate"), 0, CONF_RATE_MAX,
			      &out->rate);
		if (err)
			return err;
	}
	if (!burst) {
		/* No burst given: allow one second's worth at once. */
		out->burst = out->rate;
		return 0;
	}
	join(kp, sizeof(kp), path, "burst");
	if (!rate)
		return fail(p, burst, kp, "burst without rate (add rate: new flows per second)");
	err = get_u32(p, burst, kp, 0, CONF_RATE_MAX, &out->burst);
	if (err)
		return err;
	if (out->rate && out->burst < 1)
		return fail(p, burst, kp, "must be at least 1 when rate is set");
	return 0;
}

static int parse_ban(struct parser *p, const yaml_node_t *n, const char *path,
		     struct fg_conf_ban *out)
{
	yaml_node_t *after, *window, *dur;
	char kp[CONF_PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	/* "ban:" with nothing after it: no ban, as if absent. */
	if (is_null(n))
		return 0;
	err = expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, path, ban_keys);
	if (err)
		return err;
	after = map_get(p, n, "after");
	window = map_get(p, n, "window");
	dur = map_get(p, n, "for");
	if (!after)
		return fail(p, n, join(kp, sizeof(kp), path, "after"),
			    "missing (violations that make a ban)");
	err = get_u32(p, after, join(kp, sizeof(kp), path, "after"), 1, CONF_BAN_AFTER_MAX,
		      &out->after);
	if (err)
		return err;
	out->window_ms = 60 * 1000;
	out->for_ms = 300 * 1000;
	if (window) {
		err = get_duration(p, window, join(kp, sizeof(kp), path, "window"),
				   &out->window_ms);
		if (err)
			return err;
	}
	if (dur) {
		err = get_duration(p, dur, join(kp, sizeof(kp), path, "for"), &out->for_ms);
		if (err)
			return err;
	}
	out->enabled = true;
	return 0;
}

/* per_source, per_prefix, global and ban of a rule or a default. */
static int parse_levels(struct parser *p, const yaml_node_t *map, const char *path,
			struct fg_conf_limits *out)
{
	static const char *const names[] = { "per_source", "per_prefix", "global" };
	struct fg_conf_limit *lims[] = { &out->per_source, &out->per_prefix, &out->global };
	char kp[CONF_PATH_MAX];
	yaml_node_t *n;
	int i, err;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3; i++) {
		n = map_get(p, map, names[i]);
		if (!n)
			continue;
		err = parse_limit(p, n, join(kp, sizeof(kp), path, names[i]), lims[i]);
		if (err)
			return err;
	}
	n = map_get(p, map, "ban");
	if (n)
		return parse_ban(p, n, join(kp, sizeof(kp), path, "ban"), &out->ban);
	return 0;
}

static int parse_defaults(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	static const char *const protos[] = { "tcp", "udp" };
	char kp[CONF_PATH_MAX];
	yaml_node_t *d;
	int i, err;

	err = expect_kind(p, n, "defaults", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "defaults", defaults_keys);
	if (err)
		return err;
	for (i = 0; i < 2; i++) {
		/* A protocol left out keeps its built-in defaults. */
		d = map_get(p, n, protos[i]);
		if (!d)
			continue;
		join(kp, sizeof(kp), "defaults", protos[i]);
		err = expect_kind(p, d, kp, YAML_MAPPING_NODE);
		if (!err)
			err = check_keys(p, d, kp, limits_keys);
		if (!err)
			err = parse_levels(p, d, kp, &c->defaults[i]);
		if (err)
			return err;
	}
	return 0;
}

static int parse_sources(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	static const struct {
		const char *key;
		long long min, max;
	} counts[] = {
		{ "ipv4_prefix", 1, 32 },
		{ "ipv6_prefix", 1, 128 },
		{ "max_tracked", 1, CONF_MAX_TABLE },
		{ "max_prefixes", 1, CONF_MAX_TABLE },
		{ "max_udp_flows", 1, CONF_MAX_TABLE },
		{ "max_verified", 1, CONF_MAX_TABLE },
	};
	static const char *const durations[] = { "udp_idle", "attack_hold", "verified_ttl" };
	uint64_t *dur_out[] = { &c->udp_idle_ms, &c->attack_hold_ms, &c->verified_ttl_ms };
	char kp[CONF_PATH_MAX];
	yaml_node_t *v;
	long long val;
	size_t i;
	int err;

	err = expect_kind(p, n, "sources", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "sources", source_keys);
	if (err)
		return err;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		v = map_get(p, n, counts[i].key);
		if (!v)
			continue;
		err = get_int(p, v, join(kp, sizeof(kp), "sources", counts[i].key), counts[i].min,
			      counts[i].max, &val);
		if (err)
			return err;
		switch (i) {
		case 0:
			c->ipv4_prefix = (uint8_t)val;
			break;
		case 1:
			c->ipv6_prefix = (uint8_t)val;
			break;
		case 2:
			c->max_tracked = (uint32_t)val;
			break;
		case 3:
			c->max_prefixes = (uint32_t)val;
			break;
		case 4:
			c->max_udp_flows = (uint32_t)val;
			break;
		default:
			c->max_verified = (uint32_t)val;
			break;
		}
	}
	for (i = 0; i < 3; i++) {
		v = map_get(p, n, durations[i]);
		if (!v)
			continue;
		err = get_duration(p, v, join(kp, sizeof(kp), "sources", durations[i]), dur_out[i]);
		if (err)
			return err;
	}
	return 0;
}

static int add_iface(struct parser *p, const yaml_node_t *n, const char *path, struct fg_conf *c)
{
	const char *name, *s;
	int i, err;

	err = get_str(p, n, path, "an interface name", &name);
	if (err)
		return err;
	if (!*name)
		return fail(p, n, path, "an interface name cannot be empty");
	if (strlen(name) >= sizeof(c->ifaces[0]))
		return fail(p, n, path, "\"%s\" is too long for an interface name (at most %zu)",
			    name, sizeof(c->ifaces[0]) - 1);
	for (s = name; *s; s++) {
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return fail(p, n, path, "\"%s\" is not an interface name", name);
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return fail(p, n, path, "\"%s\" is not an interface name", name);
	for (i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i], name))
			return fail(p, n, path, "\"%s\" is listed twice", name);
	}
	if (c->nifaces >= FG_CONF_MAX_IFACES)
		return fail(p, n, path, "too many interfaces (at most %d)", FG_CONF_MAX_IFACES);
	strcpy(c->ifaces[c->nifaces++], name);
	return 0;
}

static int parse_ifaces(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, err;

	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return add_iface(p, n, "interfaces", c);
	err = expect_kind(p, n, "interfaces", YAML_SEQUENCE_NODE);
	for (i = 0; !err && i < seq_len(n); i++)
		err = add_iface(p, seq_item(p, n, i), "interfaces", c);
	return err;
}

static int parse_xdp_mode(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	static const char *const modes[] = { "auto", "native", "generic" };
	static const enum fg_xdp_mode vals[] = { FG_XDP_AUTO, FG_XDP_NATIVE, FG_XDP_GENERIC };
	char b[64];
	int i;

	if (n->type == YAML_SCALAR_NODE) {
		for (i = 0; i < 3; i++) {
			if (!strcmp(sval(n), modes[i])) {
				c->xdp_mode = vals[i];
				return 0;
			}
		}
	}
	return fail(p, n, "xdp_mode", "expected native, generic or auto, got %s",
		    show(n, b, sizeof(b)));
}

static int parse_cidrs(struct parser *p, const yaml_node_t *n, const char *key,
		       struct fg_cidr **arr, int *count)
{
	char kp[CONF_PATH_MAX];
	struct fg_cidr c;
	const char *s;
	int i, j, len, err;

	err = expect_kind(p, n, key, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	len = seq_len(n);
	if (!len)
		return 0;
	if (len > FG_MAX_LIST)
		return fail(p, n, key, "%d entries, at most %d", len, FG_MAX_LIST);
	/* Owned by the conf at once, so every error path frees it. */
	*arr = calloc((size_t)len, sizeof(**arr));
	if (!*arr) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		yaml_node_t *item = seq_item(p, n, i);
		char buf[FG_CIDR_STRLEN];

		snprintf(kp, sizeof(kp), "%s[%d]", key, i);
		err = get_str(p, item, kp, "an address or prefix", &s);
		if (err)
			return err;
		if (cidr_parse(s, &c)) {
			if (!cidr_parse_loose(s, &c))
				return fail(
					p, item, kp,
					"\"%s\" has host bits set beyond /%u (did you mean %s?)", s,
					c.prefixlen, cidr_format(&c, buf, sizeof(buf)));
			return fail(p, item, kp,
				    "\"%s\" is not an address or prefix (e.g. 192.0.2.0/24, "
				    "2001:db8::/32)",
				    s);
		}
		/* One trie key per entry: a second spelling of an entry
		 * (::ffff:192.0.2.0/120 after 192.0.2.0/24) would silently
		 * replace or delete the first. */
		for (j = 0; j < *count; j++) {
			char first[FG_CIDR_STRLEN];

			if (!cidr_equal(&(*arr)[j], &c))
				continue;
			return fail(
				p, item, kp,
				"\"%s\" is the same entry as %s[%d] on line %lu (%s): list it once",
				s, key, j, node_line(seq_item(p, n, j)),
				cidr_format(&(*arr)[j], first, sizeof(first)));
		}
		(*arr)[(*count)++] = c;
	}
	return 0;
}

/* Letters, digits, '_', '.', '-' and the characters of extra only. */
static bool name_ok(const char *s, const char *extra)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-' ||
		      strchr(extra, *s)))
			return false;
	}
	return true;
}

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

/* "N" or "N-M". Returns 0, -1 (not a port or range), -2 (port out of
 * 1..65535) or -3 (lo > hi). */
static int port_range_parse(const char *s, unsigned long *lo, unsigned long *hi)
{
	unsigned long v[2] = { 0, 0 };
	int i, nd;

	for (i = 0; i < 2; i++) {
		for (nd = 0; *s >= '0' && *s <= '9'; s++, nd++) {
			if (nd < 9)
				v[i] = v[i] * 10 + (unsigned long)(*s - '0');
		}
		if (!nd)
			return -1;
		if (nd >= 9)
			v[i] = ~0UL;
		if (i == 0 && *s == '-') {
			s++;
			continue;
		}
		if (*s)
			return -1;
		if (i == 0)
			v[1] = v[0];
		break;
	}
	*lo = v[0];
	*hi = v[1];
	if (v[0] < 1 || v[0] > 65535 || v[1] < 1 || v[1] > 65535)
		return -2;
	if (v[0] > v[1])
		return -3;
	return 0;
}

static int parse_ports(struct parser *p, const yaml_node_t *n, const char *path, int idx,
		       struct fg_conf_rule *r)
{
	const struct fg_conf *c = p->conf;
	unsigned long lo, hi, port;
	const char *s;
	int i, err;

	err = expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (!seq_len(n))
		return fail(p, n, path, "at least one port is required");
	for (i = 0; i < seq_len(n); i++) {
		yaml_node_t *item = seq_item(p, n, i);

		err = get_str(p, item, path, "a port or a \"lo-hi\" range", &s);
		if (err)
			return err;
		switch (port_range_parse(s, &lo, &hi)) {
		case -1:
			return fail(
				p, item, path,
				"\"%s\" is not a port or a port range (e.g. 443, \"8000-8100\")",
				s);
		case -2:
			if (strchr(s, '-'))
				return fail(p, item, path,
					    "\"%s\" is not a port range (ports are 1-65535)", s);
			return fail(p, item, path, "\"%s\" is not a port (1-65535)", s);
		case -3:
			return fail(p, item, path, "\"%s\" is not a port range (%lu > %lu)", s, lo,
				    hi);
		}
		if (r->nranges >= FG_CONF_MAX_RANGES)
			return fail(p, item, path, "too many entries (at most %d per rule)",
				    FG_CONF_MAX_RANGES);
		for (port = lo; port <= hi; port++) {
			uint8_t o = p->owner[r->proto * 65536 + port];

			if (!o)
				continue;
			if (o - 1 == idx)
				return fail(
					p, item, path,
					"\"%s\" overlaps another entry of this rule at port %lu", s,
					port);
			return fail(p, item, path,
				    "\"%s\" overlaps rule \"%s\" (rules[%d], line %d) at port %lu",
				    s, c->rules[o - 1].name, o - 1, c->rules[o - 1].line, port);
		}
		memset(p->owner + r->proto * 65536 + lo, idx + 1, hi - lo + 1);
		r->ranges[r->nranges].lo = (uint16_t)lo;
		r->ranges[r->nranges].hi = (uint16_t)hi;
		r->nranges++;
	}
	return 0;
}

static int parse_rule(struct parser *p, const yaml_node_t *n, int idx, struct fg_conf_rule *r)
{
	struct fg_conf *c = p->conf;
	char path[32], kp[CONF_PATH_MAX];
	yaml_node_t *v;
	const char *s;
	int i, err;

	snprintf(path, sizeof(path), "rules[%d]", idx);
	if (n->type != YAML_MAPPING_NODE) {
		char b[64];

		return fail(p, n, path,
			    "expected a rule (a mapping with name, proto, ports...), "
			    "got %s",
			    show(n, b, sizeof(b)));
	}
	err = check_keys(p, n, path, rule_keys);
	if (err)
		return err;
	r->line = (int)node_line(n);

	join(kp, sizeof(kp), path, "name");
	v = map_get(p, n, "name");
	if (!v)
		return fail(p, n, kp, "missing (every rule needs a name)");
	err = get_str(p, v, kp, "a rule name", &s);
	if (err)
		return err;
	/* An empty name would read as a free slot in struct fg_rule_ids. */
	if (!*s)
		return fail(p, v, kp, "cannot be empty");
	if (strlen(s) >= FG_CONF_NAME_MAX)
		return fail(p, v, kp, "\"%.20s...\" is too long (at most %d characters)", s,
			    FG_CONF_NAME_MAX - 1);
	if (!name_ok(s, ""))
		return fail(p, v, kp, "\"%s\": use only letters, digits, '_', '.' and '-'", s);
	if (!strcmp(s, "tcp-default") || !strcmp(s, "udp-default"))
		return fail(p, v, kp, "\"%s\" is reserved (set it under defaults:)", s);
	for (i = 0; i < idx; i++) {
		if (!strcmp(c->rules[i].name, s))
			return fail(p, v, kp, "\"%s\" is already the name of rules[%d] (line %d)",
				    s, i, c->rules[i].line);
	}
	strcpy(r->name, s);

	join(kp, sizeof(kp), path, "proto");
	v = map_get(p, n, "proto");
	if (!v)
		return fail(p, n, kp, "missing (tcp or udp)");
	if (v->type == YAML_SCALAR_NODE && !strcasecmp(sval(v), "tcp")) {
		r->proto = FG_PROTO_TCP;
	} else if (v->type == YAML_SCALAR_NODE && !strcasecmp(sval(v), "udp")) {
		r->proto = FG_PROTO_UDP;
	} else {
		char b[64];

		return fail(p, v, kp, "expected tcp or udp, got %s", show(v, b, sizeof(b)));
	}

	join(kp, sizeof(kp), path, "ports");
	v = map_get(p, n, "ports");
	if (!v)
		return fail(p, n, kp, "missing (a list of ports and \"lo-hi\" ranges)");
	err = parse_ports(p, v, kp, idx, r);
	if (err)
		return err;

	return parse_levels(p, n, path, &r->limits);
}

static int parse_rules(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, err;

	err = expect_kind(p, n, "rules", YAML_SEQUENCE_NODE);
	if (err)
		return err;
	for (i = 0; i < seq_len(n); i++) {
		yaml_node_t *item = seq_item(p, n, i);

		if (i >= FG_CONF_MAX_RULES)
			return fail(p, item, "rules", "too many rules (at most %d)",
				    FG_CONF_MAX_RULES);
		err = parse_rule(p, item, i, &c->rules[i]);
		if (err)
			return err;
		c->nrules = i + 1;
	}
	return 0;
}

/* --- socket:, store:, policies: ------------------------------------------ */

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
static const char *const xdp_ban_keys[] = { "after", "for", NULL };
static const char *const limit_entry_keys[] = { "count", "per", NULL };
/* Keys of each policy type, indexed by enum policy_type. */
static const char *const policy_keys[][11] = {
	[POLICY_WINDOW] = { "name", "type", "limits", "roles", "block_for", "warn_at",
			    "on_store_error", "max_keys", NULL },
	[POLICY_PROGRESSIVE] = { "name", "type", "free_failures", "base_delay", "factor",
				 "max_delay", "forget_after", "xdp_ban", "on_store_error",
				 "max_keys", NULL },
	[POLICY_EVENTS] = { "name", "type", "limit", "window", "warn_at", "exempt",
			    "on_store_error", "max_keys", NULL },
	[POLICY_BUDGET] = { "name", "type", "amount", "period", "roles", "warn_at",
			    "on_store_error", "max_keys", NULL },
};
static const char *const policy_types[] = { "window", "progressive", "events", "budget" };

#define CONF_COUNT_MAX	1000000000LL
#define CONF_AMOUNT_MAX 1000000000000000LL /* POLICY_COST_MAX */
#define CONF_ID_MAX	4294967294LL	   /* (uid_t)-1 means "no change" to chown() */

/* A decimal with up to 3 fractional digits, as thousandths: "1.5" -> 1500. */
static int get_milli(struct parser *p, const yaml_node_t *n, const char *path, uint64_t min,
		     uint64_t max, const char *what, uint64_t *out)
{
	const char *s, *text;
	uint64_t v = 0;
	int frac = -1;
	char b[64];

	if (n->type != YAML_SCALAR_NODE || is_null(n) ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(p, n, path, "expected %s, got %s", what, show(n, b, sizeof(b)));
	text = sval(n);
	for (s = text; *s; s++) {
		if (*s == '.' && frac < 0 && s != text && s[1]) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return fail(p, n, path, "expected %s, got %s", what, show(n, b, sizeof(b)));
		if (frac >= 0 && ++frac > 3)
			return fail(p, n, path, "\"%s\": at most 3 decimals", text);
		if (v > max * 10)
			return fail(p, n, path, "\"%s\" is out of range (%.3g-%.3g)", text,
				    (double)min / 1000, (double)max / 1000);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v *= 10;
	if (v < min || v > max)
		return fail(p, n, path, "\"%s\" is out of range (%g-%g)", text, (double)min / 1000,
			    (double)max / 1000);
	*out = v;
	return 0;
}

static int parse_ids(struct parser *p, const yaml_node_t *n, const char *key, uint32_t *ids,
		     int *count)
{
	char kp[CONF_PATH_MAX];
	int i, k, err;

	err = expect_kind(p, n, key, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	*count = 0;
	if (seq_len(n) > FG_CONF_MAX_ADMIN_IDS)
		return fail(p, n, key, "%d entries, at most %d", seq_len(n), FG_CONF_MAX_ADMIN_IDS);
	for (i = 0; i < seq_len(n); i++) {
		snprintf(kp, sizeof(kp), "%s[%d]", key, i);
		err = get_u32(p, seq_item(p, n, i), kp, 0, CONF_ID_MAX, &ids[i]);
		if (err)
			return err;
		for (k = 0; k < i; k++) {
			if (ids[k] == ids[i])
				return fail(p, seq_item(p, n, i), kp, "%u is listed twice", ids[i]);
		}
		*count = i + 1;
	}
	return 0;
}

/* "256mb", "64kb", "1gb", "512b" or a bare number of bytes (k/m/g and
 * kib/mib/gib too: all powers of 1024, as redis reads them). */
static int get_bytes(struct parser *p, const yaml_node_t *n, const char *path, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} units[] = { { "", 0 },     { "b", 0 },   { "k", 10 },	 { "kb", 10 },
		      { "kib", 10 }, { "m", 20 },  { "mb", 20 }, { "mib", 20 },
		      { "g", 30 },   { "gb", 30 }, { "gib", 30 } };
	const char *text, *s;
	uint64_t v = 0;
	size_t i;
	int err;

	err = get_str(p, n, path, "a size (e.g. 512kb, 32mb, 1gb)", &text);
	if (err)
		return err;
	for (s = text; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return fail(p, n, path, "\"%s\" is too big", text);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == text)
		return fail(p, n, path, "\"%s\" is not a size (e.g. 512kb, 32mb, 1gb)", text);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(s, units[i].sfx))
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return fail(p, n, path, "\"%s\": unknown unit (use b, kb, mb or gb)", text);
	if (v > (max >> units[i].shift) || (v << units[i].shift) < min)
		return fail(p, n, path, "\"%s\" is out of range (%llu-%llu bytes)", text,
			    (unsigned long long)min, (unsigned long long)max);
	*out = v << units[i].shift;
	return 0;
}

/* socket: limits on clients (issue: one user must not lock the operator out
 * or exhaust the agent's memory). Defaults come from config_defaults(). */
static int parse_socket_limits(struct parser *p, const yaml_node_t *n, struct fg_conf_socket *so)
{
	yaml_node_t *v, *per_uid, *reserve, *outlim;
	int err;

	if ((v = map_get(p, n, "max_clients")) &&
	    (err = get_u32(p, v, "socket.max_clients", 1, 1000000, &so->max_clients)))
		return err;
	if ((per_uid = map_get(p, n, "max_clients_per_uid"))) {
		err = get_u32(p, per_uid, "socket.max_clients_per_uid", 1, 1000000,
			      &so->max_clients_per_uid);
		if (err)
			return err;
		if (so->max_clients_per_uid > so->max_clients)
			return fail(p, per_uid, "socket.max_clients_per_uid",
				    "%u is more than socket.max_clients (%u)",
				    so->max_clients_per_uid, so->max_clients);
	} else {
		so->max_clients_per_uid = so->max_clients / 4 ? so->max_clients / 4 : 1;
	}
	if ((reserve = map_get(p, n, "admin_reserve"))) {
		err = get_u32(p, reserve, "socket.admin_reserve", 0, 1000000, &so->admin_reserve);
		if (err)
			return err;
		if (so->admin_reserve >= so->max_clients)
			return fail(p, reserve, "socket.admin_reserve",
				    "%u leaves no connection for applications (socket.max_clients "
				    "is %u)",
				    so->admin_reserve, so->max_clients);
	} else if (so->admin_reserve >= so->max_clients) {
		so->admin_reserve = so->max_clients / 2;
	}
	if ((v = map_get(p, n, "idle_timeout"))) {
		const char *t;

		/* 0 turns it off: duration_parse() refuses 0, so it is read here. */
		if (v->type == YAML_SCALAR_NODE && (t = sval(v)) && !strcmp(t, "0"))
			so->idle_timeout_ms = 0;
		else if ((err = get_duration(p, v, "socket.idle_timeout", &so->idle_timeout_ms)))
			return err;
		else if (so->idle_timeout_ms < 1000)
			return fail(p, v, "socket.idle_timeout",
				    "\"%s\" is shorter than 1s (0 turns the timeout off)", sval(v));
	}
	if ((v = map_get(p, n, "max_buffers")) &&
	    (err = get_bytes(p, v, "socket.max_buffers", 1ull << 20, 1ull << 40, &so->max_buffers)))
		return err;
	if ((outlim = map_get(p, n, "client_output_limit"))) {
		err = get_bytes(p, outlim, "socket.client_output_limit", 64ull << 10, 1ull << 40,
				&so->client_output_limit);
		if (err)
			return err;
	}
	if (!outlim && so->client_output_limit > so->max_buffers)
		so->client_output_limit = so->max_buffers;
	if (so->client_output_limit > so->max_buffers)
		return fail(p, outlim, "socket.client_output_limit",
			    "%llu bytes is more than socket.max_buffers (%llu)",
			    (unsigned long long)so->client_output_limit,
			    (unsigned long long)so->max_buffers);
	return 0;
}

static int parse_socket(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_socket *so = &c->socket;
	yaml_node_t *v;
	const char *s;
	char b[64];
	int err;

	err = expect_kind(p, n, "socket", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "socket", socket_keys);
	if (err)
		return err;
	if ((v = map_get(p, n, "path"))) {
		err = get_str(p, v, "socket.path", "a path", &s);
		if (err)
			return err;
		if (*s != '/')
			return fail(p, v, "socket.path", "\"%s\" is not an absolute path", s);
		if (strlen(s) >= sizeof(so->path))
			return fail(
				p, v, "socket.path",
				"\"%.30s...\" is too long for a Unix socket (at most %zu bytes)", s,
				sizeof(so->path) - 1);
		strcpy(so->path, s);
	}
	if ((v = map_get(p, n, "mode"))) {
		unsigned long m = 0;
		const char *d;

		/* Octal as chmod reads it: "0660", 0660 or 660 (0o660 too). */
		if (v->type != YAML_SCALAR_NODE || is_null(v))
			return fail(p, v, "socket.mode",
				    "expected an octal mode like \"0660\", got %s",
				    show(v, b, sizeof(b)));
		s = sval(v);
		d = !strncmp(s, "0o", 2) ? s + 2 : s;
		if (!*d || strspn(d, "01234567") != strlen(d) || strlen(d) > 12)
			return fail(p, v, "socket.mode",
				    "\"%s\" is not an octal mode like \"0660\"", s);
		m = strtoul(d, NULL, 8);
		if (m > 0777)
			return fail(p, v, "socket.mode", "\"%s\" is more than 0777", s);
		if (!(m & 0600))
			return fail(p, v, "socket.mode",
				    "\"%s\" leaves the owner unable to use the socket (add 0600)",
				    s);
		so->mode = (uint32_t)m;
	}
	if ((v = map_get(p, n, "group"))) {
		if (is_null(v)) {
			so->group[0] = '\0';
		} else {
			err = get_str(p, v, "socket.group", "a group name or number", &s);
			if (err)
				return err;
			if (strlen(s) >= sizeof(so->group) || strpbrk(s, ": \t\n/"))
				return fail(p, v, "socket.group", "\"%.40s\" is not a group name",
					    s);
			strcpy(so->group, s);
		}
	}
	if ((v = map_get(p, n, "admin_uids")) &&
	    (err = parse_ids(p, v, "socket.admin_uids", so->admin_uids, &so->nadmin_uids)))
		return err;
	if ((v = map_get(p, n, "admin_gids")) &&
	    (err = parse_ids(p, v, "socket.admin_gids", so->admin_gids, &so->nadmin_gids)))
		return err;
	return parse_socket_limits(p, n, so);
}

static int get_name(struct parser *p, const yaml_node_t *n, const char *path, const char *what,
		    size_t max, const char **out);

/* "redis://host[:port]" (host: a name, an IPv4 literal or [IPv6]) or
 * "unix:///absolute/path" into r. */
static int parse_redis_url(struct parser *p, const yaml_node_t *v, struct fg_conf_redis *r)
{
	const char *s, *h, *end, *colon;
	uint16_t port = 6379;
	size_t hlen;
	int err;

	err = get_str(p, v, "store.redis.url", "a URL (redis://host:port or unix:///path)", &s);
	if (err)
		return err;
	if (strlen(s) >= sizeof(r->url))
		return fail(p, v, "store.redis.url", "\"%.30s...\" is too long (at most %zu bytes)",
			    s, sizeof(r->url) - 1);
	strcpy(r->url, s);
	r->host[0] = r->path[0] = '\0';
	if (!strncmp(s, "unix://", 7)) {
		if (s[7] != '/')
			return fail(p, v, "store.redis.url",
				    "\"%s\": a Unix socket needs an absolute path "
				    "(unix:///run/redis/redis.sock)",
				    s);
		if (strlen(s + 7) >= sizeof(r->path))
			return fail(p, v, "store.redis.url",
				    "\"%.30s...\": the socket path is too long (at most %zu bytes)",
				    s, sizeof(r->path) - 1);
		strcpy(r->path, s + 7);
		return 0;
	}
	if (strncmp(s, "redis://", 8))
		return fail(p, v, "store.redis.url",
			    "\"%s\" is not redis://host:port or unix:///path (rediss:// is not "
			    "supported)",
			    s);
	h = s + 8;
	if (strpbrk(h, "@/?"))
		return fail(p, v, "store.redis.url",
			    "\"%s\": give only host and port (the password goes in "
			    "store.redis.password, the database in store.redis.db)",
			    s);
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return fail(p, v, "store.redis.url",
				    "\"%s\": no ']' after the IPv6 address", s);
		h++;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return fail(p, v, "store.redis.url", "\"%s\": expected :port after ']'", s);
	} else {
		colon = strchr(h, ':');
		hlen = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (!hlen || hlen >= sizeof(r->host))
		return fail(p, v, "store.redis.url", "\"%s\": %s", s,
			    hlen ? "the host name is too long" : "no host");
	memcpy(r->host, h, hlen);
	r->host[hlen] = '\0';
	if (colon && !(port = port_after(colon)))
		return fail(p, v, "store.redis.url",
			    "\"%s\": the port must be a number from 1 to 65535", s);
	r->port = port;
	return 0;
}

static int parse_redis(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_redis *r = &c->store.redis;
	yaml_node_t *v;
	const char *s;
	long long val;
	int err;

	err = expect_kind(p, n, "store.redis", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "store.redis", redis_keys);
	if (err)
		return err;
	if ((v = map_get(p, n, "url")) && (err = parse_redis_url(p, v, r)))
		return err;
	if ((v = map_get(p, n, "username")) && !is_null(v)) {
		err = get_str(p, v, "store.redis.username", "an ACL user name", &s);
		if (err)
			return err;
		if (!*s || strlen(s) >= sizeof(r->username))
			return fail(p, v, "store.redis.username", "1 to %zu bytes",
				    sizeof(r->username) - 1);
		strcpy(r->username, s);
	}
	if ((v = map_get(p, n, "password")) && !is_null(v)) {
		err = get_str(p, v, "store.redis.password", "a password", &s);
		if (err)
			return err;
		if (strlen(s) >= sizeof(r->password))
			return fail(p, v, "store.redis.password", "too long (at most %zu bytes)",
				    sizeof(r->password) - 1);
		strcpy(r->password, s);
	}
	if (r->username[0] && !r->password[0])
		return fail(p, map_get(p, n, "username"), "store.redis.username",
			    "needs store.redis.password (AUTH username password)");
	if ((v = map_get(p, n, "db"))) {
		err = get_int(p, v, "store.redis.db", 0, 1000000, &val);
		if (err)
			return err;
		r->db = (uint32_t)val;
	}
	if ((v = map_get(p, n, "timeout_ms"))) {
		err = get_int(p, v, "store.redis.timeout_ms", 1, 10000, &val);
		if (err)
			return err;
		r->timeout_ms = (uint32_t)val;
	}
	if ((v = map_get(p, n, "prefix"))) {
		err = get_name(p, v, "store.redis.prefix", "a key prefix", sizeof(r->prefix), &s);
		if (err)
			return err;
		if (strpbrk(s, "{}"))
			return fail(p, v, "store.redis.prefix", "\"%s\": no braces", s);
		strcpy(r->prefix, s);
	}
	return 0;
}

static int parse_store(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	yaml_node_t *v, *rv, *tv;
	long long val;
	char b[64];
	int err;

	err = expect_kind(p, n, "store", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "store", store_keys);
	if (err)
		return err;
	if ((v = tv = map_get(p, n, "type"))) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "memory"))
			c->store.type = FG_STORE_MEMORY;
		else if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "redis"))
			c->store.type = FG_STORE_REDIS;
		else
			return fail(p, v, "store.type", "expected memory or redis, got %s",
				    show(v, b, sizeof(b)));
	}
	if ((v = map_get(p, n, "max_keys"))) {
		err = get_int(p, v, "store.max_keys", 1, CONF_MAX_TABLE, &val);
		if (err)
			return err;
		c->store.max_keys = (uint64_t)val;
	}
	rv = map_get(p, n, "redis");
	if (rv && (err = parse_redis(p, rv, c)))
		return err;
	if (c->store.type == FG_STORE_REDIS && !c->store.redis.url[0])
		return fail(p, rv ? rv : tv, rv ? "store.redis.url" : "store.redis",
			    "missing: the redis store needs a url (redis://host:port or "
			    "unix:///path)");
	if (c->store.type != FG_STORE_REDIS && rv && !is_null(rv))
		return fail(p, rv, "store.redis", "set store.type: redis to use it");
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

static int parse_log(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	enum fg_log_format format;
	enum fg_log_level level;
	const char *s;
	yaml_node_t *v;
	char b[64];
	int err;

	err = expect_kind(p, n, "log", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "log", log_keys);
	if (err)
		return err;
	if ((v = map_get(p, n, "format"))) {
		err = get_str(p, v, "log.format", "logfmt or json", &s);
		if (err)
			return err;
		if (log_parse_format(s, &format))
			return fail(p, v, "log.format", "%s: use logfmt or json",
				    show(v, b, sizeof(b)));
		c->log.format_set = true;
		c->log.json = format == FG_LOG_JSON;
	}
	if ((v = map_get(p, n, "level"))) {
		err = get_str(p, v, "log.level", "error, warn, info or debug", &s);
		if (err)
			return err;
		if (log_parse_level(s, &level))
			return fail(p, v, "log.level", "%s: use error, warn, info or debug",
				    show(v, b, sizeof(b)));
		c->log.level_set = true;
		c->log.level = level;
	}
	if ((v = map_get(p, n, "violation_lines_per_sec")) &&
	    (err = get_u32(p, v, "log.violation_lines_per_sec", 1, 100000,
			   &c->log.violation_lines_per_sec)))
		return err;
	if ((v = map_get(p, n, "summary_interval"))) {
		err = get_duration(p, v, "log.summary_interval", &c->log.summary_interval_ms);
		if (err)
			return err;
		if (c->log.summary_interval_ms < 1000 || c->log.summary_interval_ms > 3600 * 1000)
			return fail(p, v, "log.summary_interval", "\"%s\" is out of range (1s-1h)",
				    sval(v));
	}
	return 0;
}

static int parse_metrics(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct sockaddr_storage ss;
	const char *s, *why;
	yaml_node_t *v;
	socklen_t len;
	char b[64];
	int err;

	err = expect_kind(p, n, "metrics", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "metrics", metrics_keys);
	if (err)
		return err;
	if ((v = map_get(p, n, "enabled")) &&
	    (err = get_bool(p, v, "metrics.enabled", &c->metrics.enabled)))
		return err;
	if ((v = map_get(p, n, "max_connections")) &&
	    (err = get_u32(p, v, "metrics.max_connections", 1, FG_CONF_METRICS_MAX_CONN_MAX,
			   &c->metrics.max_connections)))
		return err;
	if ((v = map_get(p, n, "timeout"))) {
		err = get_duration(p, v, "metrics.timeout", &c->metrics.timeout_ms);
		if (err)
			return err;
		if (c->metrics.timeout_ms < 1000 || c->metrics.timeout_ms > 300 * 1000)
			return fail(p, v, "metrics.timeout", "\"%s\" is out of range (1s-5m)",
				    sval(v));
	}
	if ((v = map_get(p, n, "listen"))) {
		/* "" (or nothing) switches the endpoint off, like enabled: false. */
		if (is_null(v) || (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)) {
			c->metrics.listen[0] = '\0';
			return 0;
		}
		if (v->type != YAML_SCALAR_NODE)
			return fail(p, v, "metrics.listen",
				    "expected an address:port like \"127.0.0.1:10150\", got %s",
				    show(v, b, sizeof(b)));
		err = get_str(p, v, "metrics.listen", "an address:port", &s);
		if (err)
			return err;
		if (strlen(s) >= sizeof(c->metrics.listen) ||
		    config_parse_listen(s, &ss, &len, &why))
			return fail(p, v, "metrics.listen", "%s: %s", show(v, b, sizeof(b)),
				    strlen(s) >= sizeof(c->metrics.listen) ? "too long" : why);
		strcpy(c->metrics.listen, s);
	}
	return 0;
}

static int get_name(struct parser *p, const yaml_node_t *n, const char *path, const char *what,
		    size_t max, const char **out)
{
	int err = get_str(p, n, path, what, out);

	if (err)
		return err;
	if (!**out)
		return fail(p, n, path, "cannot be empty");
	if (strlen(*out) >= max)
		return fail(p, n, path, "\"%.20s...\" is too long (at most %zu characters)", *out,
			    max - 1);
	/* Policy, role and event names: no spaces or quotes to trip a client over. */
	if (!name_ok(*out, ":"))
		return fail(p, n, path, "\"%s\": use only letters, digits, '_', '.', ':' and '-'",
			    *out);
	return 0;
}

static int get_u64(struct parser *p, const yaml_node_t *n, const char *path, long long min,
		   long long max, uint64_t *out)
{
	long long v;
	int err = get_int(p, n, path, min, max, &v);

	if (!err)
		*out = (uint64_t)v;
	return err;
}

static int parse_window_limits(struct parser *p, const yaml_node_t *n, const char *path,
			       struct fg_conf_policy *pc)
{
	char ip[CONF_PATH_MAX + 16], kp[CONF_PATH_MAX];
	yaml_node_t *item, *v;
	int i, k, err;

	err = expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (!seq_len(n))
		return fail(p, n, path, "at least one { count: N, per: DURATION } is required");
	if (seq_len(n) > POLICY_MAX_LIMITS)
		return fail(p, n, path, "%d limits, at most %d", seq_len(n), POLICY_MAX_LIMITS);
	for (i = 0; i < seq_len(n); i++) {
		struct fg_conf_window_limit *l = &pc->limits[i];

		item = seq_item(p, n, i);
		snprintf(ip, sizeof(ip), "%s[%d]", path, i);
		if (item->type != YAML_MAPPING_NODE) {
			char b[64];

			return fail(p, item, ip, "expected { count: N, per: DURATION }, got %s",
				    show(item, b, sizeof(b)));
		}
		err = check_keys(p, item, ip, limit_entry_keys);
		if (err)
			return err;
		join(kp, sizeof(kp), ip, "count");
		if (!(v = map_get(p, item, "count")))
			return fail(p, item, kp, "missing (requests allowed per `per`)");
		err = get_u64(p, v, kp, 1, CONF_COUNT_MAX, &l->count);
		if (err)
			return err;
		join(kp, sizeof(kp), ip, "per");
		if (!(v = map_get(p, item, "per")))
			return fail(p, item, kp, "missing (a duration, e.g. 1s, 1m, 1h)");
		err = get_duration(p, v, kp, &l->per_ms);
		if (err)
			return err;
		/* GCRA spaces requests at per / count: keep that >= 1 ns (x 1000 roles). */
		if (l->count > l->per_ms * 1000)
			return fail(p, v, ip,
				    "%llu per %llums is more than one request per microsecond",
				    (unsigned long long)l->count, (unsigned long long)l->per_ms);
		for (k = 0; k < i; k++) {
			if (pc->limits[k].per_ms == l->per_ms)
				return fail(p, v, kp, "%s[%d] has the same per already", path, k);
		}
		pc->nlimits = i + 1;
	}
	return 0;
}

static int parse_roles(struct parser *p, const yaml_node_t *n, const char *path,
		       struct fg_conf_policy *pc)
{
	yaml_node_pair_t *pair;
	char kp[CONF_PATH_MAX];
	const char *name;
	int i, k, err;

	err = expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (err || n->type != YAML_MAPPING_NODE)
		return err;
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > POLICY_MAX_ROLES)
		return fail(p, n, path, "more than %d roles", POLICY_MAX_ROLES);
	for (pair = n->data.mapping.pairs.start, i = 0; pair < n->data.mapping.pairs.top;
	     pair++, i++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		struct fg_conf_role *r = &pc->roles[i];

		err = get_name(p, kn, path, "a role name", POLICY_ROLE_NAME_MAX, &name);
		if (err)
			return err;
		join(kp, sizeof(kp), path, name);
		/* Roles match case-insensitively: OWNER and owner are one role. */
		for (k = 0; k < i; k++) {
			if (!strcasecmp(pc->roles[k].name, name))
				return fail(p, kn, kp, "the same role as %s", pc->roles[k].name);
		}
		strcpy(r->name, name);
		if (pc->type == POLICY_BUDGET) {
			err = get_u64(p, v, kp, 0, CONF_AMOUNT_MAX, &r->amount);
			if (err)
				return err;
		} else {
			uint64_t m;

			err = get_milli(p, v, kp, 1, 1000000, "a multiplier (e.g. 1, 1.5, 3)", &m);
			if (err)
				return err;
			r->mult_milli = (uint32_t)m;
			for (k = 0; k < pc->nlimits; k++) {
				const struct fg_conf_window_limit *l = &pc->limits[k];

				if ((unsigned __int128)l->count * m < 1000)
					return fail(p, v, kp,
						    "%s leaves limits[%d] (%llu per %llums) "
						    "below one request",
						    sval(v), k, (unsigned long long)l->count,
						    (unsigned long long)l->per_ms);
				if ((unsigned __int128)l->count * m >
				    (unsigned __int128)l->per_ms * 1000000000ULL)
					return fail(p, v, kp,
						    "%s makes limits[%d] more than one request "
						    "per nanosecond",
						    sval(v), k);
			}
		}
		pc->nroles = i + 1;
	}
	return 0;
}

static int parse_exempt(struct parser *p, const yaml_node_t *n, const char *path,
			struct fg_conf_policy *pc)
{
	char kp[CONF_PATH_MAX + 16];
	const char *s;
	int i, k, err;

	err = expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (seq_len(n) > POLICY_MAX_EXEMPT)
		return fail(p, n, path, "%d events, at most %d", seq_len(n), POLICY_MAX_EXEMPT);
	for (i = 0; i < seq_len(n); i++) {
		yaml_node_t *item = seq_item(p, n, i);

		snprintf(kp, sizeof(kp), "%s[%d]", path, i);
		err = get_str(p, item, kp, "an event name", &s);
		if (err)
			return err;
		if (!*s)
			return fail(p, item, kp, "cannot be empty");
		if (strlen(s) >= POLICY_EVENT_NAME_MAX)
			return fail(p, item, kp, "\"%.20s...\" is too long (at most %d characters)",
				    s, POLICY_EVENT_NAME_MAX - 1);
		for (k = 0; k < i; k++) {
			if (!strcmp(pc->exempt[k], s))
				return fail(p, item, kp, "\"%s\" is listed twice", s);
		}
		strcpy(pc->exempt[i], s);
		pc->nexempt = i + 1;
	}
	return 0;
}

/* A key that belongs to another type gets a message that says so. */
static int check_policy_keys(struct parser *p, const yaml_node_t *n, const char *path,
			     enum policy_type type)
{
	yaml_node_pair_t *pair;
	char kp[CONF_PATH_MAX];
	int t, i;

	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		bool mine = false;

		if (k->type != YAML_SCALAR_NODE)
			continue;
		for (i = 0; policy_keys[type][i]; i++)
			mine |= !strcmp(policy_keys[type][i], sval(k));
		for (t = 0; !mine && t < 4; t++) {
			for (i = 0; policy_keys[t][i]; i++) {
				if (!strcmp(policy_keys[t][i], sval(k)))
					return fail(p, k, join(kp, sizeof(kp), path, sval(k)),
						    "not a key of %s policies (only of %s)",
						    policy_types[type], policy_types[t]);
			}
		}
	}
	return check_keys(p, n, path, policy_keys[type]);
}

static int parse_policy(struct parser *p, const yaml_node_t *n, int idx, struct fg_conf_policy *pc)
{
	struct fg_conf *c = p->conf;
	char path[32], kp[CONF_PATH_MAX], b[64];
	yaml_node_t *v, *x;
	const char *s;
	uint64_t m;
	int i, err;

	snprintf(path, sizeof(path), "policies[%d]", idx);
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, path,
			    "expected a policy (a mapping with name, type, ...), got %s",
			    show(n, b, sizeof(b)));
	pc->line = (int)node_line(n);

	join(kp, sizeof(kp), path, "type");
	v = map_get(p, n, "type");
	if (!v)
		return fail(p, n, kp, "missing (window, progressive, events or budget)");
	for (i = 0; i < 4; i++) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), policy_types[i]))
			break;
	}
	if (i == 4)
		return fail(p, v, kp, "expected window, progressive, events or budget, got %s",
			    show(v, b, sizeof(b)));
	pc->type = (enum policy_type)i;
	err = check_policy_keys(p, n, path, pc->type);
	if (err)
		return err;

	join(kp, sizeof(kp), path, "name");
	v = map_get(p, n, "name");
	if (!v)
		return fail(p, n, kp, "missing (every policy needs a name)");
	err = get_name(p, v, kp, "a policy name", FG_CONF_NAME_MAX, &s);
	if (err)
		return err;
	for (i = 0; i < idx; i++) {
		if (!strcmp(c->policies[i].name, s))
			return fail(p, v, kp,
				    "\"%s\" is already the name of policies[%d] (line %d)", s, i,
				    c->policies[i].line);
	}
	strcpy(pc->name, s);

	/* Defaults first, then what the file says. */
	config_policy_defaults(pc);

	if ((v = map_get(p, n, "on_store_error"))) {
		static const char *const modes[] = { "memory", "allow", "deny" };

		join(kp, sizeof(kp), path, "on_store_error");
		for (i = 0; i < 3; i++) {
			if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), modes[i]))
				break;
		}
		if (i == 3)
			return fail(p, v, kp, "expected memory, allow or deny, got %s",
				    show(v, b, sizeof(b)));
		pc->on_store_error = (enum policy_on_error)i;
	}
	if ((v = map_get(p, n, "max_keys"))) {
		long long mk;

		err = get_int(p, v, join(kp, sizeof(kp), path, "max_keys"), 1, CONF_MAX_TABLE, &mk);
		if (err)
			return err;
		pc->max_keys = (uint64_t)mk;
	}
	if ((v = map_get(p, n, "warn_at"))) {
		err = get_milli(p, v, join(kp, sizeof(kp), path, "warn_at"), 1, 1000,
				"a fraction of the limit (e.g. 0.8)", &m);
		if (err)
			return err;
		pc->warn_at_milli = (uint32_t)m;
	}

	switch (pc->type) {
	case POLICY_WINDOW:
		join(kp, sizeof(kp), path, "limits");
		if (!(v = map_get(p, n, "limits")))
			return fail(p, n, kp,
				    "missing (e.g. [ { count: 10, per: 1s }, { count: 100, per: 1m "
				    "} ])");
		if ((err = parse_window_limits(p, v, kp, pc)))
			return err;
		if ((v = map_get(p, n, "block_for")) &&
		    (err = get_duration(p, v, join(kp, sizeof(kp), path, "block_for"),
					&pc->block_for_ms)))
			return err;
		break;
	case POLICY_PROGRESSIVE:
		if ((v = map_get(p, n, "free_failures")) &&
		    (err = get_u32(p, v, join(kp, sizeof(kp), path, "free_failures"), 0,
				   CONF_BAN_AFTER_MAX, &pc->free_failures)))
			return err;
		if ((v = map_get(p, n, "base_delay")) &&
		    (err = get_duration(p, v, join(kp, sizeof(kp), path, "base_delay"),
					&pc->base_delay_ms)))
			return err;
		if ((v = map_get(p, n, "factor"))) {
			err = get_milli(p, v, join(kp, sizeof(kp), path, "factor"), 1000, 1000000,
					"a growth factor (e.g. 2)", &m);
			if (err)
				return err;
			pc->factor_milli = (uint32_t)m;
		}
		if ((v = map_get(p, n, "max_delay")) &&
		    (err = get_duration(p, v, join(kp, sizeof(kp), path, "max_delay"),
					&pc->max_delay_ms)))
			return err;
		if (pc->max_delay_ms < pc->base_delay_ms)
			return fail(p, v ? v : n, join(kp, sizeof(kp), path, "max_delay"),
				    "%llums is shorter than base_delay (%llums)",
				    (unsigned long long)pc->max_delay_ms,
				    (unsigned long long)pc->base_delay_ms);
		if ((v = map_get(p, n, "forget_after")) &&
		    (err = get_duration(p, v, join(kp, sizeof(kp), path, "forget_after"),
					&pc->forget_after_ms)))
			return err;
		if ((v = map_get(p, n, "xdp_ban"))) {
			char bp[CONF_PATH_MAX];

			join(bp, sizeof(bp), path, "xdp_ban");
			err = expect_kind(p, v, bp, YAML_MAPPING_NODE);
			if (!err)
				err = check_keys(p, v, bp, xdp_ban_keys);
			if (err)
				return err;
			if (is_null(v))
				break;
			join(kp, sizeof(kp), bp, "after");
			if (!(x = map_get(p, v, "after")))
				return fail(p, v, kp, "missing (failures before the XDP ban)");
			if ((err = get_u32(p, x, kp, 1, CONF_BAN_AFTER_MAX, &pc->xdp_ban_after)))
				return err;
			join(kp, sizeof(kp), bp, "for");
			if (!(x = map_get(p, v, "for")))
				return fail(p, v, kp, "missing (how long the ban lasts, e.g. 1h)");
			if ((err = get_duration(p, x, kp, &pc->xdp_ban_for_ms)))
				return err;
		}
		break;
	case POLICY_EVENTS:
		join(kp, sizeof(kp), path, "limit");
		if (!(v = map_get(p, n, "limit")))
			return fail(p, n, kp, "missing (events per window, e.g. 100)");
		if ((err = get_u64(p, v, kp, 1, CONF_COUNT_MAX, &pc->limit)))
			return err;
		join(kp, sizeof(kp), path, "window");
		if (!(v = map_get(p, n, "window")))
			return fail(p, n, kp, "missing (a duration, e.g. 1m)");
		if ((err = get_duration(p, v, kp, &pc->window_ms)))
			return err;
		if ((v = map_get(p, n, "exempt")) &&
		    (err = parse_exempt(p, v, join(kp, sizeof(kp), path, "exempt"), pc)))
			return err;
		break;
	case POLICY_BUDGET:
		join(kp, sizeof(kp), path, "amount");
		if (!(v = map_get(p, n, "amount")))
			return fail(p, n, kp, "missing (the amount per period, e.g. 500000)");
		if ((err = get_u64(p, v, kp, 0, CONF_AMOUNT_MAX, &pc->amount)))
			return err;
		if ((v = map_get(p, n, "period"))) {
			join(kp, sizeof(kp), path, "period");
			if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "hour"))
				pc->period = POLICY_PERIOD_HOUR;
			else if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "day"))
				pc->period = POLICY_PERIOD_DAY;
			else
				return fail(p, v, kp, "expected hour or day, got %s",
					    show(v, b, sizeof(b)));
		}
		break;
	}
	/* Roles last: a window role is checked against every limit. */
	if ((v = map_get(p, n, "roles")) &&
	    (err = parse_roles(p, v, join(kp, sizeof(kp), path, "roles"), pc)))
		return err;
	return 0;
}

static int parse_policies(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, len, err;

	err = expect_kind(p, n, "policies", YAML_SEQUENCE_NODE);
	if (err)
		return err;
	len = seq_len(n);
	if (!len)
		return 0;
	if (len > POLICY_MAX)
		return fail(p, n, "policies", "%d policies, at most %d", len, POLICY_MAX);
	/* Owned by the conf at once, so every error path frees it. */
	c->policies = calloc((size_t)len, sizeof(*c->policies));
	if (!c->policies) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		err = parse_policy(p, seq_item(p, n, i), i, &c->policies[i]);
		if (err)
			return err;
		c->npolicies = i + 1;
	}
	/* Policies' own bounds must fit in the store's, leaving at least a key
	 * for each policy that shares the rest (store: comes before policies:). */
	{
		uint64_t fixed = 0, shared = 0;

		for (i = 0; i < len; i++) {
			fixed += c->policies[i].max_keys;
			shared += !c->policies[i].max_keys;
		}
		if (fixed + shared > c->store.max_keys)
			return fail(
				p, n, "policies",
				"the policies' max_keys add up to %llu, more than store.max_keys "
				"(%llu)%s: lower them or raise store.max_keys",
				(unsigned long long)fixed, (unsigned long long)c->store.max_keys,
				shared ? " with a key left for each policy without max_keys" : "");
	}
	return 0;
}

static const char *const app_bans_keys[] = { "peer_uids", "peer_gids", "max", "per_peer", NULL };

static int parse_app_bans(struct parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	struct fg_conf_app_bans *ab = &c->app_bans;
	yaml_node_t *v;
	int err;

	err = expect_kind(p, n, "app_bans", YAML_MAPPING_NODE);
	if (!err)
		err = check_keys(p, n, "app_bans", app_bans_keys);
	if (err)
		return err;
	if ((v = map_get(p, n, "peer_uids")) &&
	    (err = parse_ids(p, v, "app_bans.peer_uids", ab->peer_uids, &ab->npeer_uids)))
		return err;
	if ((v = map_get(p, n, "peer_gids")) &&
	    (err = parse_ids(p, v, "app_bans.peer_gids", ab->peer_gids, &ab->npeer_gids)))
		return err;
	/* At most half the ban map: the rest is for operators and the XDP program. */
	if ((v = map_get(p, n, "max")) &&
	    (err = get_u32(p, v, "app_bans.max", 0, FG_MAX_BANS / 2, &ab->max)))
		return err;
	if ((v = map_get(p, n, "per_peer")) &&
	    (err = get_u32(p, v, "app_bans.per_peer", 0, FG_MAX_BANS / 2, &ab->per_peer)))
		return err;
	return 0;
}

static int parse_root(struct parser *p, const yaml_node_t *root, struct fg_conf *c)
{
	yaml_node_t *v;
	char b[64];
	int err;

	/* An empty file, or one with only comments, means all defaults. */
	if (!root || is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return fail(p, root, NULL,
			    "expected a mapping of keys (interfaces:, rules:, ...), "
			    "got %s",
			    show(root, b, sizeof(b)));
	err = check_keys(p, root, "", top_keys);
	if (err)
		return err;

	if ((v = map_get(p, root, "interfaces")) && (err = parse_ifaces(p, v, c)))
		return err;
	if ((v = map_get(p, root, "xdp_mode")) && (err = parse_xdp_mode(p, v, c)))
		return err;
	if ((v = map_get(p, root, "dry_run")) && (err = get_bool(p, v, "dry_run", &c->dry_run)))
		return err;
	if ((v = map_get(p, root, "persist")) && (err = get_bool(p, v, "persist", &c->persist)))
		return err;
	if ((v = map_get(p, root, "app_only")) && (err = get_bool(p, v, "app_only", &c->app_only)))
		return err;
	if ((v = map_get(p, root, "sources")) && (err = parse_sources(p, v, c)))
		return err;
	if ((v = map_get(p, root, "defaults")) && (err = parse_defaults(p, v, c)))
		return err;
	if ((v = map_get(p, root, "rules")) && (err = parse_rules(p, v, c)))
		return err;
	if ((v = map_get(p, root, "allow")) &&
	    (err = parse_cidrs(p, v, "allow", &c->allow, &c->nallow)))
		return err;
	if ((v = map_get(p, root, "deny")) &&
	    (err = parse_cidrs(p, v, "deny", &c->deny, &c->ndeny)))
		return err;
	if ((v = map_get(p, root, "socket")) && (err = parse_socket(p, v, c)))
		return err;
	if ((v = map_get(p, root, "app_bans")) && (err = parse_app_bans(p, v, c)))
		return err;
	if ((v = map_get(p, root, "store")) && (err = parse_store(p, v, c)))
		return err;
	if ((v = map_get(p, root, "metrics")) && (err = parse_metrics(p, v, c)))
		return err;
	if ((v = map_get(p, root, "log")) && (err = parse_log(p, v, c)))
		return err;
	if ((v = map_get(p, root, "policies")) && (err = parse_policies(p, v, c)))
		return err;
	return 0;
}

/* libyaml's own message, placed at its line. */
static int yaml_fail(struct parser *p, yaml_parser_t *yp, const char *text, size_t len)
{
	unsigned long line = (unsigned long)yp->problem_mark.line + 1;
	size_t i;

	if (yp->error == YAML_MEMORY_ERROR) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	if (yp->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a line. */
		line = 1;
		for (i = 0; i < yp->problem_offset && i < len; i++)
			line += text[i] == '\n';
	}
	if (yp->context)
		snprintf(p->err, p->errlen, "%s:%lu: invalid YAML: %s (%s at line %lu)", p->file,
			 line, yp->problem ? yp->problem : "syntax error", yp->context,
			 (unsigned long)yp->context_mark.line + 1);
	else
		snprintf(p->err, p->errlen, "%s:%lu: invalid YAML: %s", p->file, line,
			 yp->problem ? yp->problem : "syntax error");
	return -EINVAL;
}

/* Depth, values and aliases of the whole stream, from libyaml's events,
 * before a document is built: each stops the scan at once, at its line. */
static int yaml_bounds(struct parser *p, const char *text, size_t len)
{
	long depth = 0, values = 0, aliases = 0;
	unsigned long line;
	yaml_parser_t yp;
	yaml_event_t ev;
	int ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&yp)) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (!done && !ret) {
		if (!yaml_parser_parse(&yp, &ev)) {
			ret = yaml_fail(p, &yp, text, len);
			break;
		}
		line = (unsigned long)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CONF_MAX_DEPTH) {
				snprintf(p->err, p->errlen,
					 "%s:%lu: nested deeper than %d levels; a config is a few "
					 "levels deep",
					 p->file, line, CONF_MAX_DEPTH);
				ret = -EINVAL;
			}
			/* a collection is a value too */
			__attribute__((fallthrough));
		case YAML_SCALAR_EVENT:
			if (!ret && ++values > CONF_MAX_VALUES) {
				snprintf(p->err, p->errlen,
					 "%s:%lu: more than %d values; the largest config (65,536 "
					 "deny entries) has far fewer",
					 p->file, line, CONF_MAX_VALUES);
				ret = -EINVAL;
			}
			if (!ret &&
			    (ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
			     : ev.type == YAML_SEQUENCE_START_EVENT
				     ? ev.data.sequence_start.anchor
				     : ev.data.mapping_start.anchor) &&
			    ++aliases > CONF_MAX_ALIASES)
				ret = -E2BIG;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			if (++aliases > CONF_MAX_ALIASES)
				ret = -E2BIG;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		if (ret == -E2BIG) {
			snprintf(p->err, p->errlen,
				 "%s:%lu: more than %d anchors and aliases (&name, *name); refused "
				 "as an alias bomb",
				 p->file, line, CONF_MAX_ALIASES);
			ret = -EINVAL;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ret;
}

void config_policy_defaults(struct fg_conf_policy *pc)
{
	pc->warn_at_milli = 800;
	pc->free_failures = 3;
	pc->base_delay_ms = 1000;
	pc->factor_milli = 2000;
	pc->max_delay_ms = 30000;
	pc->forget_after_ms = 15 * 60 * 1000;
	pc->period = POLICY_PERIOD_DAY;
}

void config_defaults(struct fg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->xdp_mode = FG_XDP_AUTO;
	c->ipv4_prefix = 24;
	c->ipv6_prefix = 64;
	c->max_tracked = FG_MAX_SOURCES;
	c->max_prefixes = FG_MAX_PREFIXES;
	c->max_udp_flows = FG_MAX_UDP_FLOWS;
	c->max_verified = FG_MAX_VERIFIED;
	c->udp_idle_ms = 30 * 1000;
	c->attack_hold_ms = 2 * 1000;
	c->verified_ttl_ms = 10 * 60 * 1000;
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
	c->app_bans.max = FG_CONF_APP_BANS_MAX;
	c->app_bans.per_peer = FG_CONF_APP_BANS_PER_PEER;
	c->socket.max_clients = FG_CONF_SOCKET_MAX_CLIENTS;
	c->socket.max_clients_per_uid = FG_CONF_SOCKET_MAX_CLIENTS / 4;
	c->socket.admin_reserve = FG_CONF_SOCKET_ADMIN_RESERVE;
	c->socket.idle_timeout_ms = FG_CONF_SOCKET_IDLE_TIMEOUT_MS;
	c->socket.max_buffers = FG_CONF_SOCKET_MAX_BUFFERS;
	c->socket.client_output_limit = FG_CONF_SOCKET_CLIENT_OUTPUT_LIMIT;
	c->store.type = FG_STORE_MEMORY;
	c->store.max_keys = FG_CONF_STORE_MAX_KEYS;
	c->store.redis.port = 6379;
	c->store.redis.timeout_ms = FG_CONF_REDIS_TIMEOUT_MS;
	strcpy(c->store.redis.prefix, FG_CONF_REDIS_PREFIX);
	c->metrics.enabled = true;
	strcpy(c->metrics.listen, FG_CONF_METRICS_LISTEN);
	c->metrics.max_connections = FG_CONF_METRICS_MAX_CONN;
	c->metrics.timeout_ms = FG_CONF_METRICS_TIMEOUT_MS;
	c->log.level = FG_LOG_INFO;
	c->log.violation_lines_per_sec = FG_CONF_LOG_LINES_PER_SEC;
	c->log.summary_interval_ms = FG_CONF_LOG_SUMMARY_MS;
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
	struct parser p = {
		.file = name ? name : "<config>",
		.err = err && errlen ? err : dummy,
		.errlen = err && errlen ? errlen : sizeof(dummy),
		.conf = out,
	};
	yaml_parser_t yp;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int ret;

	config_defaults(out);
	p.err[0] = '\0';
	p.owner = calloc(2, 65536);
	if (!p.owner) {
		snprintf(p.err, p.errlen, "%s: out of memory", p.file);
		return -ENOMEM;
	}
	ret = yaml_bounds(&p, text, len);
	if (ret) {
		free(p.owner);
		memset(out, 0, sizeof(*out));
		return ret;
	}
	if (!yaml_parser_initialize(&yp)) {
		free(p.owner);
		snprintf(p.err, p.errlen, "%s: out of memory", p.file);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &doc)) {
		ret = yaml_fail(&p, &yp, text, len);
		goto out_parser;
	}
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	ret = parse_root(&p, root, out);
	if (ret)
		goto out_doc;

	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&yp, &extra)) {
		ret = yaml_fail(&p, &yp, text, len);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra)) {
		ret = fail(&p, yaml_document_get_root_node(&extra), NULL,
			   "a second YAML document (\"---\"); the config is one document");
	}
	yaml_document_delete(&extra);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&yp);
	free(p.owner);
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
