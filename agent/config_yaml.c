// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_yaml.h"
#include "duration.h"
#include "editdist.h"

/* A year in ms: every duration times 1e6 stays far inside a u64 of ns. */

unsigned long cy_line(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

/* Every message is "file:line: key: problem"; key may be NULL. */
int cy_fail(struct cy_parser *p, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[CY_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen) {
		if (key)
			snprintf(p->err, p->errlen, "%s:%lu: %s: %s", p->file, cy_line(n), key,
				 msg);
		else
			snprintf(p->err, p->errlen, "%s:%lu: %s", p->file, cy_line(n), msg);
	}
	return -EINVAL;
}

/* path.key into buf, cut short if it must be (it only goes into messages). */
const char *cy_join(char *buf, size_t len, const char *path, const char *key)
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

const char *cy_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

bool cy_is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = cy_text(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* How a node looks in a message: "text" (shortened) or its kind. */
const char *cy_show(const yaml_node_t *n, char *buf, size_t len)
{
	if (!n)
		return "nothing";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (cy_is_null(n))
		return "nothing";
	if (n->data.scalar.length > 40)
		snprintf(buf, len, "\"%.37s...\"", cy_text(n));
	else
		snprintf(buf, len, "\"%s\"", cy_text(n));
	return buf;
}

int cy_expect_kind(struct cy_parser *p, const yaml_node_t *n, const char *path,
		   yaml_node_type_t kind)
{
	char b[64];

	/* An empty value ("key:" or "key: ~") is an empty mapping or list. */
	if (n->type == kind || cy_is_null(n))
		return 0;
	return cy_fail(p, n, path, "expected %s, got %s",
		       kind == YAML_MAPPING_NODE ? "a mapping (key: value)" : "a list",
		       cy_show(n, b, sizeof(b)));
}

int cy_seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cy_seq_item(struct cy_parser *p, const yaml_node_t *n, int i)
{
	return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

/* Every key of map must be one of keys, once: a typo must not pass. */
int cy_check_keys(struct cy_parser *p, const yaml_node_t *map, const char *path,
		  const char *const *keys)
{
	yaml_node_pair_t *pair, *prev;
	char kp[CY_PATH_MAX];
	char b[64];

	if (map->type != YAML_MAPPING_NODE)
		return 0;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		const char *best = NULL;
		int i, bestd = 3;

		if (!k || k->type != YAML_SCALAR_NODE)
			return cy_fail(p, k, path && *path ? path : NULL,
				       "keys must be names, got %s", cy_show(k, b, sizeof(b)));
		cy_join(kp, sizeof(kp), path, cy_text(k));
		for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *pk = yaml_document_get_node(p->doc, prev->key);

			if (pk->type == YAML_SCALAR_NODE && !strcmp(cy_text(pk), cy_text(k)))
				return cy_fail(p, k, kp, "duplicate key (first at line %lu)",
					       cy_line(pk));
		}
		for (i = 0; keys[i]; i++) {
			int d;

			if (!strcmp(keys[i], cy_text(k)))
				break;
			/* Close enough to be a typo, not a different word. */
			d = editdist(keys[i], cy_text(k));
			if (d < bestd && 2 * d < (int)strlen(cy_text(k))) {
				bestd = d;
				best = keys[i];
			}
		}
		if (keys[i])
			continue;
		if (best)
			return cy_fail(p, k, kp, "unknown key (did you mean %s?)", best);
		return cy_fail(p, k, kp, "unknown key");
	}
	return 0;
}

/* The value of key in map, or NULL when absent (or map is empty). */
yaml_node_t *cy_map_get(struct cy_parser *p, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(cy_text(k), key))
			return yaml_document_get_node(p->doc, pair->value);
	}
	return NULL;
}

int cy_get_int(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, long long *out)
{
	const char *s;
	long long v = 0;
	bool neg = false, digit = false, big = false;
	char b[64];

	if (n->type != YAML_SCALAR_NODE || cy_is_null(n))
		return cy_fail(p, n, path, "expected an integer, got %s", cy_show(n, b, sizeof(b)));
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cy_fail(p, n, path,
			       "expected an integer, got the string %s (drop the quotes)",
			       cy_show(n, b, sizeof(b)));
	s = cy_text(n);
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	/* YAML allows 1_000_000; an '_' must sit between digits. */
	for (; *s; s++) {
		if (*s == '_' && digit && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			return cy_fail(p, n, path, "expected an integer, got %s",
				       cy_show(n, b, sizeof(b)));
		digit = true;
		if (v > (LLONG_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (*s - '0');
	}
	if (!digit)
		return cy_fail(p, n, path, "expected an integer, got %s", cy_show(n, b, sizeof(b)));
	if (neg)
		v = -v;
	if (big || v < min || v > max)
		return cy_fail(p, n, path, "%s is out of range (%lld-%lld)", cy_text(n), min, max);
	*out = v;
	return 0;
}

int cy_get_u32(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, uint32_t *out)
{
	long long v;
	int err;

	err = cy_get_int(p, n, path, min, max, &v);
	if (!err)
		*out = (uint32_t)v;
	return err;
}

int cy_get_bool(struct cy_parser *p, const yaml_node_t *n, const char *path, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	char b[64];
	int i;

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; yes[i]; i++) {
			if (!strcasecmp(cy_text(n), yes[i])) {
				*out = true;
				return 0;
			}
		}
		for (i = 0; no[i]; i++) {
			if (!strcasecmp(cy_text(n), no[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return cy_fail(p, n, path, "expected true or false, got %s", cy_show(n, b, sizeof(b)));
}

/* A scalar's text (any quoting); NUL bytes inside would cut names short. */
int cy_get_str(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
	       const char **out)
{
	char b[64];

	if (n->type != YAML_SCALAR_NODE || cy_is_null(n))
		return cy_fail(p, n, path, "expected %s, got %s", what, cy_show(n, b, sizeof(b)));
	if (strlen(cy_text(n)) != n->data.scalar.length)
		return cy_fail(p, n, path, "contains a NUL byte");
	*out = cy_text(n);
	return 0;
}

/* "500ms", "30s", "5m", "1h", "1d" or bare seconds, into ms. */
int cy_get_duration(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t *out_ms)
{
	const char *text;
	int err;

	err = cy_get_str(p, n, path, "a duration (e.g. " DURATION_EXAMPLES ")", &text);
	if (err)
		return err;
	switch (duration_parse(text, CY_DURATION_MAX_MS, out_ms)) {
	case 0:
		return 0;
	case -EDOM:
		return cy_fail(p, n, path, "\"%s\" must be longer than 0", text);
	case -ERANGE:
		return cy_fail(p, n, path, "\"%s\" is too long (at most 365d)", text);
	default:
		return cy_fail(p, n, path, "\"%s\" is not a duration (e.g. " DURATION_EXAMPLES ")",
			       text);
	}
}

/* A decimal with up to 3 fractional digits, as thousandths: "1.5" -> 1500. */
int cy_get_milli(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t min,
		 uint64_t max, const char *what, uint64_t *out)
{
	const char *s, *text;
	uint64_t v = 0;
	int frac = -1;
	char b[64];

	if (n->type != YAML_SCALAR_NODE || cy_is_null(n) ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cy_fail(p, n, path, "expected %s, got %s", what, cy_show(n, b, sizeof(b)));
	text = cy_text(n);
	for (s = text; *s; s++) {
		if (*s == '.' && frac < 0 && s != text && s[1]) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return cy_fail(p, n, path, "expected %s, got %s", what,
				       cy_show(n, b, sizeof(b)));
		if (frac >= 0 && ++frac > 3)
			return cy_fail(p, n, path, "\"%s\": at most 3 decimals", text);
		if (v > max * 10)
			return cy_fail(p, n, path, "\"%s\" is out of range (%.3g-%.3g)", text,
				       (double)min / 1000, (double)max / 1000);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v *= 10;
	if (v < min || v > max)
		return cy_fail(p, n, path, "\"%s\" is out of range (%g-%g)", text,
			       (double)min / 1000, (double)max / 1000);
	*out = v;
	return 0;
}

/* "256mb", "64kb", "1gb", "512b" or a bare number of bytes (k/m/g and
 * kib/mib/gib too: all powers of 1024, as redis reads them). */
int cy_get_bytes(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t min,
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

	err = cy_get_str(p, n, path, "a size (e.g. 512kb, 32mb, 1gb)", &text);
	if (err)
		return err;
	for (s = text; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return cy_fail(p, n, path, "\"%s\" is too big", text);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == text)
		return cy_fail(p, n, path, "\"%s\" is not a size (e.g. 512kb, 32mb, 1gb)", text);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(s, units[i].sfx))
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return cy_fail(p, n, path, "\"%s\": unknown unit (use b, kb, mb or gb)", text);
	if (v > (max >> units[i].shift) || (v << units[i].shift) < min)
		return cy_fail(p, n, path, "\"%s\" is out of range (%llu-%llu bytes)", text,
			       (unsigned long long)min, (unsigned long long)max);
	*out = v << units[i].shift;
	return 0;
}

int cy_get_text(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
		size_t max, const char **out)
{
	int err = cy_get_str(p, n, path, what, out);

	if (err)
		return err;
	if (!**out)
		return cy_fail(p, n, path, "cannot be empty");
	if (strlen(*out) >= max)
		return cy_fail(p, n, path, "\"%.20s...\" is too long (at most %zu characters)",
			       *out, max - 1);
	return 0;
}

int cy_get_name(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
		size_t max, const char **out)
{
	int err = cy_get_text(p, n, path, what, max, out);

	if (err)
		return err;
	/* Policy, role and event names: no spaces or quotes to trip a client over. */
	if (!cy_name_ok(*out, ":"))
		return cy_fail(p, n, path,
			       "\"%s\": use only letters, digits, '_', '.', ':' and '-'", *out);
	return 0;
}

int cy_get_u64(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, uint64_t *out)
{
	long long v;
	int err = cy_get_int(p, n, path, min, max, &v);

	if (!err)
		*out = (uint64_t)v;
	return err;
}

/* Letters, digits, '_', '.', '-' and the characters of extra only. */
bool cy_name_ok(const char *s, const char *extra)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-' ||
		      strchr(extra, *s)))
			return false;
	}
	return true;
}

/* libyaml's own message, placed at its line. */
static int load_fail(struct cy_parser *p, yaml_parser_t *yp, const char *text, size_t len)
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
static int load_bounds(struct cy_parser *p, const char *text, size_t len)
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
			ret = load_fail(p, &yp, text, len);
			break;
		}
		line = (unsigned long)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CY_MAX_DEPTH) {
				snprintf(p->err, p->errlen,
					 "%s:%lu: nested deeper than %d levels; a config is a few "
					 "levels deep",
					 p->file, line, CY_MAX_DEPTH);
				ret = -EINVAL;
			}
			/* a collection is a value too */
			__attribute__((fallthrough));
		case YAML_SCALAR_EVENT:
			if (!ret && ++values > CY_MAX_VALUES) {
				snprintf(p->err, p->errlen,
					 "%s:%lu: more than %d values; the largest config (65,536 "
					 "deny entries) has far fewer",
					 p->file, line, CY_MAX_VALUES);
				ret = -EINVAL;
			}
			if (!ret &&
			    (ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
			     : ev.type == YAML_SEQUENCE_START_EVENT
				     ? ev.data.sequence_start.anchor
				     : ev.data.mapping_start.anchor) &&
			    ++aliases > CY_MAX_ALIASES)
				ret = -E2BIG;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			if (++aliases > CY_MAX_ALIASES)
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
				 p->file, line, CY_MAX_ALIASES);
			ret = -EINVAL;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ret;
}

int cy_nomem(struct cy_parser *p)
{
	snprintf(p->err, p->errlen, "%s: out of memory", p->file);
	return -ENOMEM;
}

int cy_load(struct cy_parser *p, const char *text, size_t len,
	    int (*root)(struct cy_parser *p, const yaml_node_t *root))
{
	yaml_document_t doc, extra;
	yaml_parser_t yp;
	int ret;

	ret = load_bounds(p, text, len);
	if (ret)
		return ret;
	if (!yaml_parser_initialize(&yp))
		return cy_nomem(p);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &doc)) {
		ret = load_fail(p, &yp, text, len);
		goto out_parser;
	}
	p->doc = &doc;
	ret = root(p, yaml_document_get_root_node(&doc));
	if (ret)
		goto out_doc;

	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&yp, &extra)) {
		ret = load_fail(p, &yp, text, len);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra)) {
		ret = cy_fail(p, yaml_document_get_root_node(&extra), NULL,
			      "a second YAML document (\"---\"); the config is one document");
	}
	yaml_document_delete(&extra);
out_doc:
	yaml_document_delete(&doc);
	p->doc = NULL;
out_parser:
	yaml_parser_delete(&yp);
	return ret;
}

/* A bound of a duration as the file would say it: 1000 -> "1s", 300000 -> "5m". */
static const char *show_ms(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].ms),
				 units[i].unit);
			return buf;
		}
	}
	snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

/* The present value v of row k, at path, into dst. */
static int read_key(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
		    const char *path, const struct cy_key *k, void *dst)
{
	char lo[24], hi[24];
	long long val;
	int err;

	switch (k->kind) {
	case CY_BOOL:
		return cy_get_bool(p, v, path, dst);
	case CY_U8:
		err = cy_get_int(p, v, path, k->min, k->max, &val);
		if (!err)
			*(uint8_t *)dst = (uint8_t)val;
		return err;
	case CY_U32:
		return cy_get_u32(p, v, path, k->min, k->max, dst);
	case CY_U64:
		return cy_get_u64(p, v, path, k->min, k->max, dst);
	case CY_DURATION:
		err = cy_get_duration(p, v, path, dst);
		if (err || !k->max)
			return err;
		if (*(uint64_t *)dst < (uint64_t)k->min || *(uint64_t *)dst > (uint64_t)k->max)
			return cy_fail(p, v, path, "\"%s\" is out of range (%s-%s)", cy_text(v),
				       show_ms((uint64_t)k->min, lo, sizeof(lo)),
				       show_ms((uint64_t)k->max, hi, sizeof(hi)));
		return 0;
	case CY_BYTES:
		return cy_get_bytes(p, v, path, (uint64_t)k->min, (uint64_t)k->max, dst);
	case CY_MAP:
		return cy_walk(p, v, path, k->keys, dst);
	case CY_CUSTOM:
		return k->parse(p, map, v, path, dst);
	default:
		return -EINVAL; /* CY_END, CY_CHECK: not keys */
	}
}

int cy_walk(struct cy_parser *p, const yaml_node_t *n, const char *path, const struct cy_key *keys,
	    void *base)
{
	const char *names[CY_KEYS_MAX + 1];
	const struct cy_key *k;
	char kp[CY_PATH_MAX];
	yaml_node_t *v;
	int nn = 0, err;

	for (k = keys; k->kind != CY_END; k++) {
		if (!k->name)
			continue;
		/* A table larger than names[] is a bug of ours, not of the file. */
		if (nn == CY_KEYS_MAX) {
			snprintf(p->err, p->errlen, "%s: %s: more than %d keys in a table", p->file,
				 path, CY_KEYS_MAX);
			return -E2BIG;
		}
		names[nn++] = k->name;
	}
	names[nn] = NULL;
	err = cy_expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (!err)
		err = cy_check_keys(p, n, path, names);
	for (k = keys; !err && k->kind != CY_END; k++) {
		if (k->kind == CY_CHECK) {
			err = k->check(p, n, path, (char *)base + k->off);
			continue;
		}
		cy_join(kp, sizeof(kp), path, k->name);
		v = cy_map_get(p, n, k->name);
		if (v)
			err = read_key(p, n, v, kp, k, (char *)base + k->off);
		else if (k->need)
			err = cy_fail(p, n, kp, "missing (%s)", k->need);
	}
	return err;
}

void cy_defaults(const struct cy_key *keys, void *base)
{
	const struct cy_key *k;

	for (k = keys; k->kind != CY_END; k++) {
		void *dst = (char *)base + k->off;

		switch (k->kind) {
		case CY_BOOL:
			*(bool *)dst = k->def;
			break;
		case CY_U8:
			*(uint8_t *)dst = (uint8_t)k->def;
			break;
		case CY_U32:
			*(uint32_t *)dst = (uint32_t)k->def;
			break;
		case CY_U64:
		case CY_DURATION:
		case CY_BYTES:
			*(uint64_t *)dst = k->def;
			break;
		case CY_MAP:
			cy_defaults(k->keys, dst);
			break;
		default:
			break;
		}
	}
}
