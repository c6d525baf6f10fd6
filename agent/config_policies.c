// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_policies: the policies section, one entry per policy (policy-t.h).
 * What every policy has (name, type, on_store_error, max_keys) is read
 * here; the keys of each type are its kind's rows (policy_kind.h,
 * conf_keys, in its limiter file), read with the same key walk.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "config_policies.h"
#include "policy_kind.h"

/* A policy's name is checked against FG_CONF_NAME_MAX like a rule's. */
_Static_assert(POLICY_NAME_MAX == FG_CONF_NAME_MAX, "policy names are config names");
_Static_assert(CONF_POLICY_FAILURES_MAX == CONF_BAN_AFTER_MAX, "one bound on failures");
_Static_assert(CONF_POLICY_AMOUNT_MAX == POLICY_COST_MAX, "an amount is a cost");

/* Keys of every type: the first two and the last two of a type's keys. */
static const char *const head_keys[] = { "name", "type" };
static const char *const tail_keys[] = { "on_store_error", "max_keys" };

/* "window, progressive, events or budget": the types, from the kind table. */
static const char *type_list(char *buf, size_t len)
{
	size_t off = 0;
	int t, n;

	buf[0] = '\0';
	for (t = 0; t < POLICY_TYPE_N && off < len; t++) {
		const char *sep = t == POLICY_TYPE_N - 1 ? " or " : ", ";

		n = snprintf(buf + off, len - off, "%s%s", t ? sep : "", policy_kinds[t]->name);
		off += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

static bool kind_has(const struct policy_kind *k, const char *key)
{
	const struct cy_key *r;

	for (r = k->conf_keys; r->kind != CY_END; r++) {
		if (r->name && !strcmp(r->name, key))
			return true;
	}
	return false;
}

/* A key that belongs to another type gets a message that says so; then
 * every key must be one of the type's (did-you-mean from them). */
static int check_policy_keys(struct cy_parser *p, const yaml_node_t *n, const char *path,
			     enum policy_type type)
{
	const char *names[CY_KEYS_MAX + 1];
	const struct cy_key *r;
	yaml_node_pair_t *pair;
	char kp[CY_PATH_MAX];
	size_t i, nn = 0;
	int t;

	for (i = 0; i < 2; i++)
		names[nn++] = head_keys[i];
	for (r = policy_kinds[type]->conf_keys; r->kind != CY_END && nn < CY_KEYS_MAX - 2; r++) {
		if (r->name)
			names[nn++] = r->name;
	}
	for (i = 0; i < 2; i++)
		names[nn++] = tail_keys[i];
	names[nn] = NULL;
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		bool mine = false;

		if (k->type != YAML_SCALAR_NODE)
			continue;
		for (i = 0; names[i]; i++)
			mine |= !strcmp(names[i], cy_text(k));
		for (t = 0; !mine && t < POLICY_TYPE_N; t++) {
			if (kind_has(policy_kinds[t], cy_text(k)))
				return cy_fail(p, k, cy_join(kp, sizeof(kp), path, cy_text(k)),
					       "not a key of %s policies (only of %s)",
					       policy_kinds[type]->name, policy_kinds[t]->name);
		}
	}
	return cy_check_keys(p, n, path, names);
}

/* type: read before the walk (it chooses the rows). */
static int read_type(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
		     const char *path, void *dst)
{
	(void)p;
	(void)map;
	(void)v;
	(void)path;
	(void)dst;
	return 0;
}

static int read_name(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
		     const char *path, void *dst)
{
	struct fg_conf_policy *pc = dst;
	const struct fg_conf *c = p->conf;
	const char *s;
	int i, err;

	(void)map;
	err = cy_get_name(p, v, path, "a policy name", FG_CONF_NAME_MAX, &s);
	if (err)
		return err;
	for (i = 0; &c->policies[i] < pc; i++) {
		if (!strcmp(c->policies[i].name, s))
			return cy_fail(p, v, path,
				       "\"%s\" is already the name of policies[%d] (line %d)", s, i,
				       c->policies[i].line);
	}
	strcpy(pc->name, s);
	return 0;
}

static int read_on_store_error(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			       const char *path, void *dst)
{
	static const char *const modes[] = { "memory", "allow", "deny" };
	char b[64];
	int i;

	(void)map;
	for (i = 0; i < 3; i++) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), modes[i]))
			break;
	}
	if (i == 3)
		return cy_fail(p, v, path, "expected memory, allow or deny, got %s",
			       cy_show(v, b, sizeof(b)));
	*(enum policy_on_error *)dst = (enum policy_on_error)i;
	return 0;
}

static int read_max_keys(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			 const char *path, void *dst)
{
	long long mk;
	int err;

	(void)map;
	err = cy_get_int(p, v, path, 1, CONF_MAX_TABLE, &mk);
	if (!err)
		*(uint64_t *)dst = (uint64_t)mk;
	return err;
}

int config_policy_warn_at(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			  const char *path, void *dst)
{
	uint64_t m;
	int err;

	(void)map;
	err = cy_get_milli(p, v, path, 1, 1000, "a fraction of the limit (e.g. 0.8)", &m);
	if (!err)
		*(uint32_t *)dst = (uint32_t)m;
	return err;
}

int config_policy_roles(struct cy_parser *p, const yaml_node_t *n, const char *path,
			struct fg_conf_policy *pc, config_role_fn value)
{
	yaml_node_pair_t *pair;
	char kp[CY_PATH_MAX];
	const char *name;
	int i, k, err;

	err = cy_expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (err || n->type != YAML_MAPPING_NODE)
		return err;
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > POLICY_MAX_ROLES)
		return cy_fail(p, n, path, "more than %d roles", POLICY_MAX_ROLES);
	for (pair = n->data.mapping.pairs.start, i = 0; pair < n->data.mapping.pairs.top;
	     pair++, i++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		struct fg_conf_role *r = &pc->roles[i];

		err = cy_get_name(p, kn, path, "a role name", POLICY_ROLE_NAME_MAX, &name);
		if (err)
			return err;
		cy_join(kp, sizeof(kp), path, name);
		/* Roles match case-insensitively: OWNER and owner are one role. */
		for (k = 0; k < i; k++) {
			if (!strcasecmp(pc->roles[k].name, name))
				return cy_fail(p, kn, kp, "the same role as %s", pc->roles[k].name);
		}
		strcpy(r->name, name);
		err = value(p, v, kp, pc, r);
		if (err)
			return err;
		pc->nroles = i + 1;
	}
	return 0;
}

static int parse_policy(struct cy_parser *p, const yaml_node_t *n, int idx,
			struct fg_conf_policy *pc)
{
	struct cy_key rows[CY_KEYS_MAX + 1] = {
		CY_READER("type", 0, read_type),
		CY_NEEDED("name", 0, read_name, "every policy needs a name"),
		CY_READER("on_store_error", CONF_POLICY_AT(on_store_error), read_on_store_error),
		CY_READER("max_keys", CONF_POLICY_AT(max_keys), read_max_keys),
	};
	char path[32], kp[CY_PATH_MAX], b[64], types[128];
	const struct cy_key *r;
	const yaml_node_t *v;
	size_t nr = 4;
	int t, err;

	snprintf(path, sizeof(path), "policies[%d]", idx);
	if (n->type != YAML_MAPPING_NODE)
		return cy_fail(p, n, path,
			       "expected a policy (a mapping with name, type, ...), got %s",
			       cy_show(n, b, sizeof(b)));
	pc->line = (int)cy_line(n);

	cy_join(kp, sizeof(kp), path, "type");
	v = cy_map_get(p, n, "type");
	if (!v)
		return cy_fail(p, n, kp, "missing (%s)", type_list(types, sizeof(types)));
	t = v->type == YAML_SCALAR_NODE ? policy_kind_find(cy_text(v), strlen(cy_text(v))) : -1;
	if (t < 0)
		return cy_fail(p, v, kp, "expected %s, got %s", type_list(types, sizeof(types)),
			       cy_show(v, b, sizeof(b)));
	pc->type = (enum policy_type)t;
	err = check_policy_keys(p, n, path, pc->type);
	if (err)
		return err;

	/* Defaults first, then what the file says: the common keys, then the
	 * type's in its rows' order. */
	config_policy_defaults(pc);
	for (r = policy_kinds[t]->conf_keys; r->kind != CY_END && nr < CY_KEYS_MAX; r++)
		rows[nr++] = *r;
	rows[nr] = (struct cy_key)CY_TABLE_END;
	return cy_walk(p, n, path, rows, pc);
}

int config_parse_policies(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c)
{
	int i, len, err;

	err = cy_expect_kind(p, n, "policies", YAML_SEQUENCE_NODE);
	if (err)
		return err;
	len = cy_seq_len(n);
	if (!len)
		return 0;
	if (len > POLICY_MAX)
		return cy_fail(p, n, "policies", "%d policies, at most %d", len, POLICY_MAX);
	/* Owned by the conf at once, so every error path frees it. */
	c->policies = calloc((size_t)len, sizeof(*c->policies));
	if (!c->policies) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		err = parse_policy(p, cy_seq_item(p, n, i), i, &c->policies[i]);
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
			return cy_fail(
				p, n, "policies",
				"the policies' max_keys add up to %llu, more than store.max_keys "
				"(%llu)%s: lower them or raise store.max_keys",
				(unsigned long long)fixed, (unsigned long long)c->store.max_keys,
				shared ? " with a key left for each policy without max_keys" : "");
	}
	return 0;
}

void config_policy_defaults(struct fg_conf_policy *pc)
{
	int t;

	pc->warn_at_milli = 800;
	for (t = 0; t < POLICY_TYPE_N; t++) {
		cy_defaults(policy_kinds[t]->conf_keys, pc);
		if (policy_kinds[t]->conf_defaults)
			policy_kinds[t]->conf_defaults(pc);
	}
}
