// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_xdp: the sections the XDP program is set from: interfaces, xdp_mode,
 * sources, defaults, rules, allow and deny.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"

#define MS(s)	((s)*1000ULL) /* seconds as a duration row's ms */
#define CONF(f) offsetof(struct fg_conf, f)

/* sources: the sizes of the program's tables and how long their entries live. */
const struct cy_key config_sources_keys[] = {
	CY_VALUE("ipv4_prefix", CY_U8, CONF(ipv4_prefix), 24, 1, 32),
	CY_VALUE("ipv6_prefix", CY_U8, CONF(ipv6_prefix), 64, 1, 128),
	CY_VALUE("max_tracked", CY_U32, CONF(max_tracked), FG_MAX_SOURCES, 1, CONF_MAX_TABLE),
	CY_VALUE("max_prefixes", CY_U32, CONF(max_prefixes), FG_MAX_PREFIXES, 1, CONF_MAX_TABLE),
	CY_VALUE("max_udp_flows", CY_U32, CONF(max_udp_flows), FG_MAX_UDP_FLOWS, 1, CONF_MAX_TABLE),
	CY_VALUE("max_verified", CY_U32, CONF(max_verified), FG_MAX_VERIFIED, 1, CONF_MAX_TABLE),
	CY_VALUE("udp_idle", CY_DURATION, CONF(udp_idle_ms), MS(30), 0, 0),
	CY_VALUE("attack_hold", CY_DURATION, CONF(attack_hold_ms), MS(2), 0, 0),
	CY_VALUE("verified_ttl", CY_DURATION, CONF(verified_ttl_ms), MS(10 * 60), 0, 0),
	CY_TABLE_END,
};

static int parse_burst(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
		       const char *path, void *dst)
{
	struct fg_conf_limit *l = dst;
	int err;

	if (!cy_map_get(p, map, "rate"))
		return cy_fail(p, v, path, "burst without rate (add rate: new flows per second)");
	err = cy_get_u32(p, v, path, 0, CONF_RATE_MAX, &l->burst);
	if (err)
		return err;
	if (l->rate && l->burst < 1)
		return cy_fail(p, v, path, "must be at least 1 when rate is set");
	return 0;
}

static int burst_default(struct cy_parser *p, const yaml_node_t *map, const char *path, void *dst)
{
	struct fg_conf_limit *l = dst;

	(void)path;
	/* No burst given: allow one second's worth at once. */
	if (!cy_map_get(p, map, "burst"))
		l->burst = l->rate;
	return 0;
}

/* A level: new flows per second and the burst. */
static const struct cy_key limit_keys[] = {
	CY_VALUE("rate", CY_U32, offsetof(struct fg_conf_limit, rate), 0, 0, CONF_RATE_MAX),
	CY_READER("burst", 0, parse_burst),
	CY_CHECK_AT(0, burst_default),
	CY_TABLE_END,
};

#define BAN(f) offsetof(struct fg_conf_ban, f)

static const struct cy_key ban_keys[] = {
	CY_REQUIRED("after", CY_U32, BAN(after), 1, CONF_BAN_AFTER_MAX,
		    "violations that make a ban"),
	CY_VALUE("window", CY_DURATION, BAN(window_ms), MS(60), 0, 0),
	CY_VALUE("for", CY_DURATION, BAN(for_ms), MS(300), 0, 0),
	CY_TABLE_END,
};

static int parse_ban(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
		     const char *path, void *dst)
{
	struct fg_conf_ban *ban = dst;
	int err;

	(void)map;
	memset(ban, 0, sizeof(*ban));
	/* "ban:" with nothing after it: no ban, as if absent. */
	if (cy_is_null(v))
		return 0;
	cy_defaults(ban_keys, ban);
	err = cy_walk(p, v, path, ban_keys, ban);
	if (err)
		return err;
	ban->enabled = true;
	return 0;
}

/* syn_cookies of a TCP rule (or defaults.tcp): auto, off or always. */
static int parse_cookies_mode(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			      const char *path, void *dst)
{
	static const char *const modes[] = { "auto", "off", "always" };
	static const enum fg_conf_cookies vals[] = { FG_COOKIES_AUTO, FG_COOKIES_OFF,
						     FG_COOKIES_ALWAYS };
	char b[64];
	int i;

	(void)map;
	/* YAML 1.1 readers take a bare off for false: so do we. */
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "false")) {
		*(enum fg_conf_cookies *)dst = FG_COOKIES_OFF;
		return 0;
	}
	for (i = 0; v->type == YAML_SCALAR_NODE && i < 3; i++) {
		if (!strcmp(cy_text(v), modes[i])) {
			*(enum fg_conf_cookies *)dst = vals[i];
			return 0;
		}
	}
	return cy_fail(p, v, path, "expected auto, off or always, got %s",
		       cy_show(v, b, sizeof(b)));
}

/* per_source, per_prefix, global, ban and syn_cookies of a protocol's
 * defaults (a rule has the same rows in rule_keys). */
#define LIMITS(f) offsetof(struct fg_conf_limits, f)

static const struct cy_key limits_keys[] = {
	CY_SECTION("per_source", LIMITS(per_source), limit_keys),
	CY_SECTION("per_prefix", LIMITS(per_prefix), limit_keys),
	CY_SECTION("global", LIMITS(global), limit_keys),
	CY_READER("ban", LIMITS(ban), parse_ban),
	CY_READER("syn_cookies", LIMITS(syn_cookies), parse_cookies_mode),
	CY_TABLE_END,
};

/* SYN cookies answer TCP SYNs: on UDP the key would be silently meaningless. */
static int cookies_tcp_only(struct cy_parser *p, const yaml_node_t *map, const char *path)
{
	const yaml_node_t *v = cy_map_get(p, map, "syn_cookies");

	if (!v)
		return 0;
	return cy_fail(p, v, path, "syn_cookies answer TCP SYNs: a udp %s cannot have them",
		       strncmp(path, "rules", 5) ? "default" : "rule");
}

/* defaults.tcp or defaults.udp: given, it replaces the built-in levels wholly. */
static int parse_proto_defaults(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
				const char *path, void *dst)
{
	size_t n = strlen(path);
	int err;

	(void)map;
	memset(dst, 0, sizeof(struct fg_conf_limits));
	err = cy_walk(p, v, path, limits_keys, dst);
	if (!err && n >= 4 && !strcmp(path + n - 4, ".udp") && v->type == YAML_MAPPING_NODE)
		err = cookies_tcp_only(p, v, path);
	return err;
}

/* syn_cookies: (top level) what all rules' cookies share. */
#define COOKIES(f) offsetof(struct fg_conf, syn_cookies.f)

static int parse_cookie_timestamps(struct cy_parser *p, const yaml_node_t *map,
				   const yaml_node_t *v, const char *path, void *dst)
{
	struct fg_conf *c = dst;
	char b[64];

	(void)map;
	if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "auto"))
		c->syn_cookies.timestamps_off = false;
	else if (v->type == YAML_SCALAR_NODE &&
		 (!strcmp(cy_text(v), "off") || !strcmp(cy_text(v), "false")))
		c->syn_cookies.timestamps_off = true;
	else
		return cy_fail(p, v, path, "expected auto or off, got %s",
			       cy_show(v, b, sizeof(b)));
	return 0;
}

const struct cy_key config_syn_cookies_keys[] = {
	CY_VALUE("max_rate", CY_U32, COOKIES(max_rate), FG_CONF_COOKIE_MAX_RATE, 1, CONF_RATE_MAX),
	CY_READER("timestamps", 0, parse_cookie_timestamps),
	CY_TABLE_END,
};

/* A protocol left out keeps its built-in defaults. */
const struct cy_key config_defaults_keys[] = {
	CY_READER("tcp", CONF(defaults[FG_PROTO_TCP]), parse_proto_defaults),
	CY_READER("udp", CONF(defaults[FG_PROTO_UDP]), parse_proto_defaults),
	CY_TABLE_END,
};

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

int config_parse_ifaces(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			const char *path, void *dst)
{
	struct fg_conf *c = dst;
	int i, err;

	(void)map;
	(void)path;
	if (cy_is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return add_iface(p, n, "interfaces", c);
	err = cy_expect_kind(p, n, "interfaces", YAML_SEQUENCE_NODE);
	for (i = 0; !err && i < cy_seq_len(n); i++)
		err = add_iface(p, cy_seq_item(p, n, i), "interfaces", c);
	return err;
}

int config_parse_xdp_mode(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			  const char *path, void *dst)
{
	struct fg_conf *c = dst;
	static const char *const modes[] = { "auto", "native", "generic" };
	static const enum fg_xdp_mode vals[] = { FG_XDP_AUTO, FG_XDP_NATIVE, FG_XDP_GENERIC };
	char b[64];
	int i;

	(void)map;
	(void)path;
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

/* items[i] of parse_cidrs: an address or prefix, into *c. */
static int parse_cidr_item(struct cy_parser *p, const yaml_node_t *item, const char *kp,
			   struct fg_cidr *c)
{
	char buf[FG_CIDR_STRLEN];
	const char *s;
	int err;

	err = cy_get_str(p, item, kp, "an address or prefix", &s);
	if (err)
		return err;
	if (!cidr_parse(s, c))
		return 0;
	if (!cidr_parse_loose(s, c))
		return cy_fail(p, item, kp,
			       "\"%s\" has host bits set beyond /%u (did you mean %s?)", s,
			       c->prefixlen, cidr_format(c, buf, sizeof(buf)));
	return cy_fail(p, item, kp,
		       "\"%s\" is not an address or prefix (e.g. 192.0.2.0/24, "
		       "2001:db8::/32)",
		       s);
}

static const struct fg_cidr *sort_base; /* qsort has no argument for it */

/* By entry, then by position: equal entries end up side by side, earliest first. */
static int cmp_entry(const void *a, const void *b)
{
	int i = *(const int *)a, j = *(const int *)b;
	const struct fg_cidr *x = &sort_base[i], *y = &sort_base[j];
	int d = (int)x->family - (int)y->family;

	if (!d)
		d = (int)x->prefixlen - (int)y->prefixlen;
	if (!d)
		d = memcmp(x->addr, y->addr, sizeof(x->addr));
	return d ? d : i - j;
}

/*
 * The first entry of arr[0..n) (in list order) that repeats an earlier one:
 * its index, and the earlier one's in *first; -1 when all differ. Sorting
 * keeps a full list (65,536 entries) at n log n: comparing each entry with
 * every earlier one took 3 s of CPU for one config load.
 */
static int first_repeat(const struct fg_cidr *arr, int n, int *first)
{
	int *idx = malloc((size_t)n * sizeof(*idx));
	int i, best = -1;

	if (!idx)
		return -2;
	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_base = arr;
	qsort(idx, (size_t)n, sizeof(*idx), cmp_entry);
	for (i = 1; i < n; i++) {
		/* in a run of equal entries, the second is the first repeat */
		if (!cidr_equal(&arr[idx[i - 1]], &arr[idx[i]]) ||
		    (i > 1 && cidr_equal(&arr[idx[i - 2]], &arr[idx[i]])))
			continue;
		if (best < 0 || idx[i] < best) {
			best = idx[i];
			*first = idx[i - 1];
		}
	}
	free(idx);
	return best;
}

static int parse_cidrs(struct cy_parser *p, const yaml_node_t *n, const char *key,
		       struct fg_cidr **arr, int *count)
{
	char kp[CY_PATH_MAX], first_s[FG_CIDR_STRLEN];
	int i, j = 0, len, err = 0, dup;

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
	for (i = 0; i < len && !err; i++) {
		snprintf(kp, sizeof(kp), "%s[%d]", key, i);
		err = parse_cidr_item(p, cy_seq_item(p, n, i), kp, &(*arr)[i]);
		if (!err)
			*count = i + 1;
	}
	/*
	 * One trie key per entry: a second spelling of an entry
	 * (::ffff:192.0.2.0/120 after 192.0.2.0/24) would silently replace or
	 * delete the first. A repeat before a bad item is reported first, as
	 * a reading in list order would.
	 */
	dup = first_repeat(*arr, *count, &j);
	if (dup == -2) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	if (dup >= 0) {
		const yaml_node_t *item = cy_seq_item(p, n, dup);

		snprintf(kp, sizeof(kp), "%s[%d]", key, dup);
		return cy_fail(p, item, kp,
			       "\"%s\" is the same entry as %s[%d] on line %lu (%s): list it once",
			       cy_text(item), key, j, cy_line(cy_seq_item(p, n, j)),
			       cidr_format(&(*arr)[j], first_s, sizeof(first_s)));
	}
	return err;
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

static int rule_index(const struct cy_parser *p, const struct fg_conf_rule *r)
{
	return (int)(r - p->conf->rules);
}

static int parse_rule_name(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			   const char *path, void *dst)
{
	const struct fg_conf *c = p->conf;
	struct fg_conf_rule *r = dst;
	int i, idx = rule_index(p, r);
	const char *s;
	int err;

	(void)map;
	err = cy_get_str(p, v, path, "a rule name", &s);
	if (err)
		return err;
	/* An empty name would read as a free slot in struct fg_rule_ids. */
	if (!*s)
		return cy_fail(p, v, path, "cannot be empty");
	if (strlen(s) >= FG_CONF_NAME_MAX)
		return cy_fail(p, v, path, "\"%.20s...\" is too long (at most %d characters)", s,
			       FG_CONF_NAME_MAX - 1);
	if (!cy_name_ok(s, ""))
		return cy_fail(p, v, path, "\"%s\": use only letters, digits, '_', '.' and '-'", s);
	if (!strcmp(s, "tcp-default") || !strcmp(s, "udp-default"))
		return cy_fail(p, v, path, "\"%s\" is reserved (set it under defaults:)", s);
	for (i = 0; i < idx; i++) {
		if (!strcmp(c->rules[i].name, s))
			return cy_fail(p, v, path,
				       "\"%s\" is already the name of rules[%d] (line %d)", s, i,
				       c->rules[i].line);
	}
	strcpy(r->name, s);
	return 0;
}

static int parse_rule_proto(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			    const char *path, void *dst)
{
	struct fg_conf_rule *r = dst;
	char b[64];

	(void)map;
	if (v->type == YAML_SCALAR_NODE && !strcasecmp(cy_text(v), "tcp"))
		r->proto = FG_PROTO_TCP;
	else if (v->type == YAML_SCALAR_NODE && !strcasecmp(cy_text(v), "udp"))
		r->proto = FG_PROTO_UDP;
	else
		return cy_fail(p, v, path, "expected tcp or udp, got %s", cy_show(v, b, sizeof(b)));
	return 0;
}

static int parse_rule_ports(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			    const char *path, void *dst)
{
	(void)map;
	return parse_ports(p, v, path, rule_index(p, dst), dst);
}

/* A rule: name, proto and ports first (the ports' overlap check needs the
 * proto), then the levels as in limits_keys. */
#define RULE(f) offsetof(struct fg_conf_rule, f)

static const struct cy_key rule_keys[] = {
	CY_NEEDED("name", 0, parse_rule_name, "every rule needs a name"),
	CY_NEEDED("proto", 0, parse_rule_proto, "tcp or udp"),
	CY_NEEDED("ports", 0, parse_rule_ports, "a list of ports and \"lo-hi\" ranges"),
	CY_SECTION("per_source", RULE(limits.per_source), limit_keys),
	CY_SECTION("per_prefix", RULE(limits.per_prefix), limit_keys),
	CY_SECTION("global", RULE(limits.global), limit_keys),
	CY_READER("ban", RULE(limits.ban), parse_ban),
	CY_READER("syn_cookies", RULE(limits.syn_cookies), parse_cookies_mode),
	CY_TABLE_END,
};

static int parse_rule(struct cy_parser *p, const yaml_node_t *n, int idx, struct fg_conf_rule *r)
{
	char path[32];
	int err;

	snprintf(path, sizeof(path), "rules[%d]", idx);
	if (n->type != YAML_MAPPING_NODE) {
		char b[64];

		return cy_fail(p, n, path,
			       "expected a rule (a mapping with name, proto, ports...), "
			       "got %s",
			       cy_show(n, b, sizeof(b)));
	}
	r->line = (int)cy_line(n);
	err = cy_walk(p, n, path, rule_keys, r);
	if (!err && r->proto == FG_PROTO_UDP)
		err = cookies_tcp_only(p, n, path);
	return err;
}

int config_parse_rules(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		       const char *path, void *dst)
{
	struct fg_conf *c = dst;
	int i, err;

	(void)map;
	(void)path;
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

int config_parse_allow(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		       const char *path, void *dst)
{
	struct fg_conf *c = dst;

	(void)map;
	(void)path;
	return parse_cidrs(p, n, "allow", &c->allow, &c->nallow);
}

int config_parse_deny(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		      const char *path, void *dst)
{
	struct fg_conf *c = dst;

	(void)map;
	(void)path;
	return parse_cidrs(p, n, "deny", &c->deny, &c->ndeny);
}
