/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * config_yaml (prefix cy_): the YAML reader under config.c and its section
 * files. It loads one bounded document (size, depth, values, aliases), reads
 * typed values out of nodes (integers with bounds, bools, durations, sizes,
 * decimals, names), words every error as "file:line: key: problem", and walks
 * a section's key table: a row names a key, its kind, default, bounds and the
 * field it fills, and a key no row names is refused with a did-you-mean taken
 * from the table.
 */
#ifndef FG_CONFIG_YAML_H
#define FG_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#define CY_PATH_MAX 160 /* a key's dotted path in messages */
#define CY_MSG_MAX  512 /* a problem's text; = FG_CONF_ERR_MAX, the whole message */
#define CY_KEYS_MAX 32	/* rows with a key in one table */

struct fg_conf;

struct cy_parser {
	const char *file; /* the name messages start with */
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	struct fg_conf *conf; /* what is being filled */
	void *scratch;	      /* a section's working memory while it is read */
};

/* A config is a few levels deep; 100k "[" took libyaml 18 s to scan. */
#define CY_MAX_DEPTH   64
#define CY_MAX_VALUES  524288 /* a maximum-size deny list is 65,536 values */
#define CY_MAX_ALIASES 1024   /* anchors and aliases: billion-laughs files */

enum cy_kind {
	CY_END = 0,  /* the row that ends a table */
	CY_BOOL,     /* bool */
	CY_U8,	     /* uint8_t, an integer in [min, max] */
	CY_U32,	     /* uint32_t, an integer in [min, max] */
	CY_U64,	     /* uint64_t, an integer in [min, max] */
	CY_DURATION, /* uint64_t ms; [min, max] ms when max is set */
	CY_BYTES,    /* uint64_t bytes ("32mb"), in [min, max] */
	CY_MAP,	     /* a mapping read with the table keys */
	CY_CUSTOM,   /* read by parse() */
	CY_CHECK,    /* no key: check() runs at this place of the walk */
};

struct cy_key;

/* A custom key's reader: v is the key's value (present), map the mapping that
 * holds it, path its dotted path, dst the row's field. 0 or -errno. */
typedef int (*cy_parse_fn)(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			   const char *path, void *dst);
/* A check between or after keys: map is the section (maybe not a mapping when
 * it is empty), path the section's path, dst the row's field. */
typedef int (*cy_check_fn)(struct cy_parser *p, const yaml_node_t *map, const char *path,
			   void *dst);

/*
 * One row of a section's key table. Rows are read in table order, which is
 * also the order did-you-mean tries the names in; a file's keys may come in
 * any order.
 */
struct cy_key {
	const char *name; /* NULL for CY_CHECK and CY_END */
	enum cy_kind kind;
	size_t off;		   /* the field, from the section's base */
	uint64_t def;		   /* default of a number, bool or duration: cy_defaults() */
	long long min, max;	   /* bounds of a number, duration or size */
	const char *need;	   /* set: the key is required; "missing (need)" */
	const struct cy_key *keys; /* CY_MAP: the mapping's table */
	cy_parse_fn parse;	   /* CY_CUSTOM */
	cy_check_fn check;	   /* CY_CHECK */
};

/*
 * A table's rows, one line each: CY_VALUE a number, bool, duration or size
 * with its default and bounds; CY_REQUIRED one without default, "missing
 * (why)" when absent; CY_SECTION a nested mapping; CY_READER a custom reader
 * (CY_NEEDED: required); CY_CHECK_AT a check; CY_TABLE_END the end.
 */
/* The longest duration any key takes (365d). */
#define CY_DURATION_MAX_MS (365ULL * 86400 * 1000)

/* clang-format off */
#define CY_VALUE(n, k, o, d, lo, hi) \
	{ .name = (n), .kind = (k), .off = (o), .def = (d), .min = (lo), .max = (hi) }
#define CY_REQUIRED(n, k, o, lo, hi, why) \
	{ .name = (n), .kind = (k), .off = (o), .min = (lo), .max = (hi), .need = (why) }
#define CY_SECTION(n, o, t) { .name = (n), .kind = CY_MAP, .off = (o), .keys = (t) }
#define CY_READER(n, o, fn) { .name = (n), .kind = CY_CUSTOM, .off = (o), .parse = (fn) }
#define CY_NEEDED(n, o, fn, why) \
	{ .name = (n), .kind = CY_CUSTOM, .off = (o), .parse = (fn), .need = (why) }
#define CY_CHECK_AT(o, fn) { .kind = CY_CHECK, .off = (o), .check = (fn) }
#define CY_TABLE_END { .kind = CY_END }
/* clang-format on */

/* "file:line: key: problem" (key may be NULL) into p->err. Returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int cy_fail(struct cy_parser *p, const yaml_node_t *n,
						  const char *key, const char *fmt, ...);
/* "file: out of memory" into p->err. Returns -ENOMEM. */
int cy_nomem(struct cy_parser *p);

/* path.key into buf (cut short if it must be: it only goes into messages). */
const char *cy_join(char *buf, size_t len, const char *path, const char *key);

/* The node's line, 1-based (1 for NULL). */
unsigned long cy_line(const yaml_node_t *n);
/* A scalar's text. */
const char *cy_text(const yaml_node_t *n);
/* An empty plain scalar, "~" or null. */
bool cy_is_null(const yaml_node_t *n);
/* How a node looks in a message: "text" (shortened, in buf) or its kind. */
const char *cy_show(const yaml_node_t *n, char *buf, size_t len);
/* 0 when n is of kind or empty (an empty mapping or list), else the error. */
int cy_expect_kind(struct cy_parser *p, const yaml_node_t *n, const char *path,
		   yaml_node_type_t kind);
int cy_seq_len(const yaml_node_t *n);
yaml_node_t *cy_seq_item(struct cy_parser *p, const yaml_node_t *n, int i);
/* The value of key in map, or NULL when absent (or map is not a mapping). */
yaml_node_t *cy_map_get(struct cy_parser *p, const yaml_node_t *map, const char *key);
/* Every key of map must be a name of the NULL-ended keys, once; an unknown
 * one gets "did you mean" the closest name when it is close enough. */
int cy_check_keys(struct cy_parser *p, const yaml_node_t *map, const char *path,
		  const char *const *keys);

/* Typed values: 0, or the error in p->err naming path. */
int cy_get_int(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, long long *out);
int cy_get_u32(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, uint32_t *out);
int cy_get_u64(struct cy_parser *p, const yaml_node_t *n, const char *path, long long min,
	       long long max, uint64_t *out);
int cy_get_bool(struct cy_parser *p, const yaml_node_t *n, const char *path, bool *out);
/* A scalar's text (any quoting); what is the expected thing, for the message. */
int cy_get_str(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
	       const char **out);
/* lib/duration's syntax into ms, at most a year. */
int cy_get_duration(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t *out_ms);
/* A decimal with up to 3 fractional digits, as thousandths: "1.5" -> 1500. */
int cy_get_milli(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t min,
		 uint64_t max, const char *what, uint64_t *out);
/* "256mb", "64kb", "1gb", "512b" or bytes (k/m/g, kib/mib/gib: powers of 1024). */
int cy_get_bytes(struct cy_parser *p, const yaml_node_t *n, const char *path, uint64_t min,
		 uint64_t max, uint64_t *out);
/* A non-empty text shorter than max, any characters. */
int cy_get_text(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
		size_t max, const char **out);
/* A non-empty name shorter than max of letters, digits and _ . : - */
int cy_get_name(struct cy_parser *p, const yaml_node_t *n, const char *path, const char *what,
		size_t max, const char **out);
/* Letters, digits, '_', '.', '-' and the characters of extra only. */
bool cy_name_ok(const char *s, const char *extra);

/*
 * Read the mapping n at path with the table keys into base: n must be a
 * mapping (or empty), its keys names of the table, once each; then each row
 * in order: a present key is read into base + off, a missing required one is
 * an error, a check runs. 0 or the first error.
 */
int cy_walk(struct cy_parser *p, const yaml_node_t *n, const char *path, const struct cy_key *keys,
	    void *base);

/* Write the defaults (.def) of keys' number, bool, duration and size rows,
 * and of their CY_MAP tables, into base. Other kinds have their defaults
 * set by the section's owner (config_defaults()). */
void cy_defaults(const struct cy_key *keys, void *base);

/*
 * Load text (len bytes) as one YAML document within the bounds above and
 * call root with its root node (NULL for an empty file). A second document is
 * refused. p->file, err and errlen must be set; p->doc is set while root runs.
 */
int cy_load(struct cy_parser *p, const char *text, size_t len,
	    int (*root)(struct cy_parser *p, const yaml_node_t *root));

#endif /* FG_CONFIG_YAML_H */
