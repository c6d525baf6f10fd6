// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_xdp: the sections the XDP program is set from: interfaces, xdp_mode,
 * sources, defaults, rules, allow and deny.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"

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

static int parse_limit(struct cy_parser *p, const yaml_node_t *n, const char *path,
		       struct fg_conf_limit *out)
{
	yaml_node_t *rate, *burst;
	char kp[CY_PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	err = cy_expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, path, limit_keys);
	if (err)
		return err;
	rate = cy_map_get(p, n, "rate");
	burst = cy_map_get(p, n, "burst");
	if (rate) {
		err = cy_get_u32(p, rate, cy_join(kp, sizeof(kp), path, "rate"), 0, CONF_RATE_MAX,
				 &out->rate);
		if (err)
			return err;
	}
	if (!burst) {
		/* No burst given: allow one second's worth at once. */
		out->burst = out->rate;
		return 0;
	}
	cy_join(kp, sizeof(kp), path, "burst");
	if (!rate)
		return cy_fail(p, burst, kp, "burst without rate (add rate: new flows per second)");
	err = cy_get_u32(p, burst, kp, 0, CONF_RATE_MAX, &out->burst);
	if (err)
		return err;
	if (out->rate && out->burst < 1)
		return cy_fail(p, burst, kp, "must be at least 1 when rate is set");
	return 0;
}

static int parse_ban(struct cy_parser *p, const yaml_node_t *n, const char *path,
		     struct fg_conf_ban *out)
{
	yaml_node_t *after, *window, *dur;
	char kp[CY_PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	/* "ban:" with nothing after it: no ban, as if absent. */
	if (cy_is_null(n))
		return 0;
	err = cy_expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, path, ban_keys);
	if (err)
		return err;
	after = cy_map_get(p, n, "after");
	window = cy_map_get(p, n, "window");
	dur = cy_map_get(p, n, "for");
	if (!after)
		return cy_fail(p, n, cy_join(kp, sizeof(kp), path, "after"),
			       "missing (violations that make a ban)");
	err = cy_get_u32(p, after, cy_join(kp, sizeof(kp), path, "after"), 1, CONF_BAN_AFTER_MAX,
			 &out->after);
	if (err)
		return err;
	out->window_ms = 60 * 1000;
	out->for_ms = 300 * 1000;
	if (window) {
		err = cy_get_duration(p, window, cy_join(kp, sizeof(kp), path, "window"),
				      &out->window_ms);
		if (err)
			return err;
	}
	if (dur) {
		err = cy_get_duration(p, dur, cy_join(kp, sizeof(kp), path, "for"), &out->for_ms);
		if (err)
			return err;
	}
	out->enabled = true;
	return 0;
}

/* per_source, per_prefix, global and ban of a rule or a default. */
static int parse_levels(struct cy_parser *p, const yaml_node_t *map, const char *path,
			struct fg_conf_limits *out)
{
	static const char *const names[] = { "per_source", "per_prefix", "global" };
	struct fg_conf_limit *lims[] = { &out->per_source, &out->per_prefix, &out->global };
	char kp[CY_PATH_MAX];
	yaml_node_t *n;
	int i, err;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3; i++) {
		n = cy_map_get(p, map, names[i]);
		if (!n)
			continue;
		err = parse_limit(p, n, cy_join(kp, sizeof(kp), path, names[i]), lims[i]);
		if (err)
			return err;
	}
	n = cy_map_get(p, map, "ban");
	if (n)
		return parse_ban(p, n, cy_join(kp, sizeof(kp), path, "ban"), &out->ban);
	return 0;
}

int config_parse_defaults(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	static const char *const protos[] = { "tcp", "udp" };
	char kp[CY_PATH_MAX];
	yaml_node_t *d;
	int i, err;

	err = cy_expect_kind(p, n, "defaults", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "defaults", defaults_keys);
	if (err)
		return err;
	for (i = 0; i < 2; i++) {
		/* A protocol left out keeps its built-in defaults. */
		d = cy_map_get(p, n, protos[i]);
		if (!d)
			continue;
		cy_join(kp, sizeof(kp), "defaults", protos[i]);
		err = cy_expect_kind(p, d, kp, YAML_MAPPING_NODE);
		if (!err)
			err = cy_check_keys(p, d, kp, limits_keys);
		if (!err)
			err = parse_levels(p, d, kp, &c->defaults[i]);
		if (err)
			return err;
	}
	return 0;
}

int config_parse_sources(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
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
	char kp[CY_PATH_MAX];
	yaml_node_t *v;
	long long val;
	size_t i;
	int err;

	err = cy_expect_kind(p, n, "sources", YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, "sources", source_keys);
	if (err)
		return err;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		v = cy_map_get(p, n, counts[i].key);
		if (!v)
			continue;
		err = cy_get_int(p, v, cy_join(kp, sizeof(kp), "sources", counts[i].key),
				 counts[i].min, counts[i].max, &val);
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
		v = cy_map_get(p, n, durations[i]);
		if (!v)
			continue;
		err = cy_get_duration(p, v, cy_join(kp, sizeof(kp), "sources", durations[i]),
				      dur_out[i]);
		if (err)
			return err;
	}
	return 0;
}

static int add_iface(struct cy_parser *p, const yaml_node_t *n, const char *path, struct fg_conf *c)
{
	const char *name, *s;
	int i, err;

	err = cy_get_str(p, n, path, "an interface name", &name);
	if (err)
		return err;
	if (!*name)
		return cy_fail(p, n, path, "an interface name cannot be empty");
	if (strlen(name) >= sizeof(c->ifaces[0]))
		return cy_fail(p, n, path, "\"%s\" is too long for an interface name (at most %zu)",
			       name, sizeof(c->ifaces[0]) - 1);
	for (s = name; *s; s++) {
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return cy_fail(p, n, path, "\"%s\" is not an interface name", name);
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return cy_fail(p, n, path, "\"%s\" is not an interface name", name);
	for (i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i], name))
			return cy_fail(p, n, path, "\"%s\" is listed twice", name);
	}
	if (c->nifaces >= FG_CONF_MAX_IFACES)
		return cy_fail(p, n, path, "too many interfaces (at most %d)", FG_CONF_MAX_IFACES);
	strcpy(c->ifaces[c->nifaces++], name);
	return 0;
}

int config_parse_ifaces(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, err;

	if (cy_is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return add_iface(p, n, "interfaces", c);
	err = cy_expect_kind(p, n, "interfaces", YAML_SEQUENCE_NODE);
	for (i = 0; !err && i < cy_seq_len(n); i++)
		err = add_iface(p, cy_seq_item(p, n, i), "interfaces", c);
	return err;
}

int config_parse_xdp_mode(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	static const char *const modes[] = { "auto", "native", "generic" };
	static const enum fg_xdp_mode vals[] = { FG_XDP_AUTO, FG_XDP_NATIVE, FG_XDP_GENERIC };
	char b[64];
	int i;

	if (n->type == YAML_SCALAR_NODE) {
		for (i = 0; i < 3; i++) {
			if (!strcmp(cy_text(n), modes[i])) {
				c->xdp_mode = vals[i];
				return 0;
			}
		}
	}
	return cy_fail(p, n, "xdp_mode", "expected native, generic or auto, got %s",
		       cy_show(n, b, sizeof(b)));
}

int config_parse_cidrs(struct cy_parser *p, const yaml_node_t *n, const char *key,
		       struct fg_cidr **arr, int *count)
{
	char kp[CY_PATH_MAX];
	struct fg_cidr c;
	const char *s;
	int i, j, len, err;

	err = cy_expect_kind(p, n, key, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	len = cy_seq_len(n);
	if (!len)
		return 0;
	if (len > FG_MAX_LIST)
		return cy_fail(p, n, key, "%d entries, at most %d", len, FG_MAX_LIST);
	/* Owned by the conf at once, so every error path frees it. */
	*arr = calloc((size_t)len, sizeof(**arr));
	if (!*arr) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		yaml_node_t *item = cy_seq_item(p, n, i);
		char buf[FG_CIDR_STRLEN];

		snprintf(kp, sizeof(kp), "%s[%d]", key, i);
		err = cy_get_str(p, item, kp, "an address or prefix", &s);
		if (err)
			return err;
		if (cidr_parse(s, &c)) {
			if (!cidr_parse_loose(s, &c))
				return cy_fail(
					p, item, kp,
					"\"%s\" has host bits set beyond /%u (did you mean %s?)", s,
					c.prefixlen, cidr_format(&c, buf, sizeof(buf)));
			return cy_fail(p, item, kp,
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
			return cy_fail(
				p, item, kp,
				"\"%s\" is the same entry as %s[%d] on line %lu (%s): list it once",
				s, key, j, cy_line(cy_seq_item(p, n, j)),
				cidr_format(&(*arr)[j], first, sizeof(first)));
		}
		(*arr)[(*count)++] = c;
	}
	return 0;
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

static int parse_ports(struct cy_parser *p, const yaml_node_t *n, const char *path, int idx,
		       struct fg_conf_rule *r)
{
	const struct fg_conf *c = p->conf;
	uint8_t *owner = p->scratch; /* [proto * 65536 + port] -> index + 1 of its rule */
	unsigned long lo, hi, port;
	const char *s;
	int i, err;

	err = cy_expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (!cy_seq_len(n))
		return cy_fail(p, n, path, "at least one port is required");
	for (i = 0; i < cy_seq_len(n); i++) {
		yaml_node_t *item = cy_seq_item(p, n, i);

		err = cy_get_str(p, item, path, "a port or a \"lo-hi\" range", &s);
		if (err)
			return err;
		switch (port_range_parse(s, &lo, &hi)) {
		case -1:
			return cy_fail(
				p, item, path,
				"\"%s\" is not a port or a port range (e.g. 443, \"8000-8100\")",
				s);
		case -2:
			if (strchr(s, '-'))
				return cy_fail(p, item, path,
					       "\"%s\" is not a port range (ports are 1-65535)", s);
			return cy_fail(p, item, path, "\"%s\" is not a port (1-65535)", s);
		case -3:
			return cy_fail(p, item, path, "\"%s\" is not a port range (%lu > %lu)", s,
				       lo, hi);
		}
		if (r->nranges >= FG_CONF_MAX_RANGES)
			return cy_fail(p, item, path, "too many entries (at most %d per rule)",
				       FG_CONF_MAX_RANGES);
		for (port = lo; port <= hi; port++) {
			uint8_t o = owner[r->proto * 65536 + port];

			if (!o)
				continue;
			if (o - 1 == idx)
				return cy_fail(
					p, item, path,
					"\"%s\" overlaps another entry of this rule at port %lu", s,
					port);
			return cy_fail(
				p, item, path,
				"\"%s\" overlaps rule \"%s\" (rules[%d], line %d) at port %lu", s,
				c->rules[o - 1].name, o - 1, c->rules[o - 1].line, port);
		}
		memset(owner + r->proto * 65536 + lo, idx + 1, hi - lo + 1);
		r->ranges[r->nranges].lo = (uint16_t)lo;
		r->ranges[r->nranges].hi = (uint16_t)hi;
		r->nranges++;
	}
	return 0;
}

static int parse_rule(struct cy_parser *p, const yaml_node_t *n, int idx, struct fg_conf_rule *r)
{
	struct fg_conf *c = p->conf;
	char path[32], kp[CY_PATH_MAX];
	yaml_node_t *v;
	const char *s;
	int i, err;

	snprintf(path, sizeof(path), "rules[%d]", idx);
	if (n->type != YAML_MAPPING_NODE) {
		char b[64];

		return cy_fail(p, n, path,
			       "expected a rule (a mapping with name, proto, ports...), "
			       "got %s",
			       cy_show(n, b, sizeof(b)));
	}
	err = cy_check_keys(p, n, path, rule_keys);
	if (err)
		return err;
	r->line = (int)cy_line(n);

	cy_join(kp, sizeof(kp), path, "name");
	v = cy_map_get(p, n, "name");
	if (!v)
		return cy_fail(p, n, kp, "missing (every rule needs a name)");
	err = cy_get_str(p, v, kp, "a rule name", &s);
	if (err)
		return err;
	/* An empty name would read as a free slot in struct fg_rule_ids. */
	if (!*s)
		return cy_fail(p, v, kp, "cannot be empty");
	if (strlen(s) >= FG_CONF_NAME_MAX)
		return cy_fail(p, v, kp, "\"%.20s...\" is too long (at most %d characters)", s,
			       FG_CONF_NAME_MAX - 1);
	if (!cy_name_ok(s, ""))
		return cy_fail(p, v, kp, "\"%s\": use only letters, digits, '_', '.' and '-'", s);
	if (!strcmp(s, "tcp-default") || !strcmp(s, "udp-default"))
		return cy_fail(p, v, kp, "\"%s\" is reserved (set it under defaults:)", s);
	for (i = 0; i < idx; i++) {
		if (!strcmp(c->rules[i].name, s))
			return cy_fail(p, v, kp,
				       "\"%s\" is already the name of rules[%d] (line %d)", s, i,
				       c->rules[i].line);
	}
	strcpy(r->name, s);

	cy_join(kp, sizeof(kp), path, "proto");
	v = cy_map_get(p, n, "proto");
	if (!v)
		return cy_fail(p, n, kp, "missing (tcp or udp)");
	if (v->type == YAML_SCALAR_NODE && !strcasecmp(cy_text(v), "tcp")) {
		r->proto = FG_PROTO_TCP;
	} else if (v->type == YAML_SCALAR_NODE && !strcasecmp(cy_text(v), "udp")) {
		r->proto = FG_PROTO_UDP;
	} else {
		char b[64];

		return cy_fail(p, v, kp, "expected tcp or udp, got %s", cy_show(v, b, sizeof(b)));
	}

	cy_join(kp, sizeof(kp), path, "ports");
	v = cy_map_get(p, n, "ports");
	if (!v)
		return cy_fail(p, n, kp, "missing (a list of ports and \"lo-hi\" ranges)");
	err = parse_ports(p, v, kp, idx, r);
	if (err)
		return err;

	return parse_levels(p, n, path, &r->limits);
}

int config_parse_rules(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, err;

	err = cy_expect_kind(p, n, "rules", YAML_SEQUENCE_NODE);
	if (err)
		return err;
	/* Which rule owns each port, to refuse overlaps at once. */
	p->scratch = calloc(2, 65536);
	if (!p->scratch)
		return cy_nomem(p);
	for (i = 0; i < cy_seq_len(n); i++) {
		yaml_node_t *item = cy_seq_item(p, n, i);

		if (i >= FG_CONF_MAX_RULES) {
			err = cy_fail(p, item, "rules", "too many rules (at most %d)",
				      FG_CONF_MAX_RULES);
			break;
		}
		err = parse_rule(p, item, i, &c->rules[i]);
		if (err)
			break;
		c->nrules = i + 1;
	}
	free(p->scratch);
	p->scratch = NULL;
	return err;
}
