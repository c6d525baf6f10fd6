// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * config_policies: the policies section, one entry per policy (policy-t.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "policy-t.h"

/* A policy's name is checked against FG_CONF_NAME_MAX like a rule's. */
_Static_assert(POLICY_NAME_MAX == FG_CONF_NAME_MAX, "policy names are config names");

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
/* One name per enum policy_type, in its order. */
#define CONF_POLICY_TYPES ((int)(sizeof(policy_types) / sizeof(policy_types[0])))
_Static_assert(CONF_POLICY_TYPES == POLICY_BUDGET + 1, "a name for each policy type");

#define CONF_COUNT_MAX	1000000000LL
#define CONF_AMOUNT_MAX 1000000000000000LL /* POLICY_COST_MAX */

static int parse_window_limits(struct cy_parser *p, const yaml_node_t *n, const char *path,
			       struct fg_conf_policy *pc)
{
	char ip[CY_PATH_MAX + 16], kp[CY_PATH_MAX];
	yaml_node_t *item, *v;
	int i, k, err;

	err = cy_expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (!cy_seq_len(n))
		return cy_fail(p, n, path, "at least one { count: N, per: DURATION } is required");
	if (cy_seq_len(n) > POLICY_MAX_LIMITS)
		return cy_fail(p, n, path, "%d limits, at most %d", cy_seq_len(n),
			       POLICY_MAX_LIMITS);
	for (i = 0; i < cy_seq_len(n); i++) {
		struct fg_conf_window_limit *l = &pc->limits[i];

		item = cy_seq_item(p, n, i);
		snprintf(ip, sizeof(ip), "%s[%d]", path, i);
		if (item->type != YAML_MAPPING_NODE) {
			char b[64];

			return cy_fail(p, item, ip, "expected { count: N, per: DURATION }, got %s",
				       cy_show(item, b, sizeof(b)));
		}
		err = cy_check_keys(p, item, ip, limit_entry_keys);
		if (err)
			return err;
		cy_join(kp, sizeof(kp), ip, "count");
		if (!(v = cy_map_get(p, item, "count")))
			return cy_fail(p, item, kp, "missing (requests allowed per `per`)");
		err = cy_get_u64(p, v, kp, 1, CONF_COUNT_MAX, &l->count);
		if (err)
			return err;
		cy_join(kp, sizeof(kp), ip, "per");
		if (!(v = cy_map_get(p, item, "per")))
			return cy_fail(p, item, kp, "missing (a duration, e.g. 1s, 1m, 1h)");
		err = cy_get_duration(p, v, kp, &l->per_ms);
		if (err)
			return err;
		/* GCRA spaces requests at per / count: keep that >= 1 ns (x 1000 roles). */
		if (l->count > l->per_ms * 1000)
			return cy_fail(p, v, ip,
				       "%llu per %llums is more than one request per microsecond",
				       (unsigned long long)l->count, (unsigned long long)l->per_ms);
		for (k = 0; k < i; k++) {
			if (pc->limits[k].per_ms == l->per_ms)
				return cy_fail(p, v, kp, "%s[%d] has the same per already", path,
					       k);
		}
		pc->nlimits = i + 1;
	}
	return 0;
}

static int parse_roles(struct cy_parser *p, const yaml_node_t *n, const char *path,
		       struct fg_conf_policy *pc)
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
		if (pc->type == POLICY_BUDGET) {
			err = cy_get_u64(p, v, kp, 0, CONF_AMOUNT_MAX, &r->amount);
			if (err)
				return err;
		} else {
			uint64_t m;

			err = cy_get_milli(p, v, kp, 1, 1000000, "a multiplier (e.g. 1, 1.5, 3)",
					   &m);
			if (err)
				return err;
			r->mult_milli = (uint32_t)m;
			for (k = 0; k < pc->nlimits; k++) {
				const struct fg_conf_window_limit *l = &pc->limits[k];

				if ((unsigned __int128)l->count * m < 1000)
					return cy_fail(p, v, kp,
						       "%s leaves limits[%d] (%llu per %llums) "
						       "below one request",
						       cy_text(v), k, (unsigned long long)l->count,
						       (unsigned long long)l->per_ms);
				if ((unsigned __int128)l->count * m >
				    (unsigned __int128)l->per_ms * 1000000000ULL)
					return cy_fail(p, v, kp,
						       "%s makes limits[%d] more than one request "
						       "per nanosecond",
						       cy_text(v), k);
			}
		}
		pc->nroles = i + 1;
	}
	return 0;
}

static int parse_exempt(struct cy_parser *p, const yaml_node_t *n, const char *path,
			struct fg_conf_policy *pc)
{
	char kp[CY_PATH_MAX + 16];
	const char *s;
	int i, k, err;

	err = cy_expect_kind(p, n, path, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (cy_seq_len(n) > POLICY_MAX_EXEMPT)
		return cy_fail(p, n, path, "%d events, at most %d", cy_seq_len(n),
			       POLICY_MAX_EXEMPT);
	for (i = 0; i < cy_seq_len(n); i++) {
		yaml_node_t *item = cy_seq_item(p, n, i);

		snprintf(kp, sizeof(kp), "%s[%d]", path, i);
		err = cy_get_str(p, item, kp, "an event name", &s);
		if (err)
			return err;
		if (!*s)
			return cy_fail(p, item, kp, "cannot be empty");
		if (strlen(s) >= POLICY_EVENT_NAME_MAX)
			return cy_fail(p, item, kp,
				       "\"%.20s...\" is too long (at most %d characters)", s,
				       POLICY_EVENT_NAME_MAX - 1);
		for (k = 0; k < i; k++) {
			if (!strcmp(pc->exempt[k], s))
				return cy_fail(p, item, kp, "\"%s\" is listed twice", s);
		}
		strcpy(pc->exempt[i], s);
		pc->nexempt = i + 1;
	}
	return 0;
}

/* A key that belongs to another type gets a message that says so. */
static int check_policy_keys(struct cy_parser *p, const yaml_node_t *n, const char *path,
			     enum policy_type type)
{
	yaml_node_pair_t *pair;
	char kp[CY_PATH_MAX];
	int t, i;

	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		bool mine = false;

		if (k->type != YAML_SCALAR_NODE)
			continue;
		for (i = 0; policy_keys[type][i]; i++)
			mine |= !strcmp(policy_keys[type][i], cy_text(k));
		for (t = 0; !mine && t < CONF_POLICY_TYPES; t++) {
			for (i = 0; policy_keys[t][i]; i++) {
				if (!strcmp(policy_keys[t][i], cy_text(k)))
					return cy_fail(p, k,
						       cy_join(kp, sizeof(kp), path, cy_text(k)),
						       "not a key of %s policies (only of %s)",
						       policy_types[type], policy_types[t]);
			}
		}
	}
	return cy_check_keys(p, n, path, policy_keys[type]);
}

static int parse_policy(struct cy_parser *p, const yaml_node_t *n, int idx,
			struct fg_conf_policy *pc)
{
	struct fg_conf *c = p->conf;
	char path[32], kp[CY_PATH_MAX], b[64];
	yaml_node_t *v, *x;
	const char *s;
	uint64_t m;
	int i, err;

	snprintf(path, sizeof(path), "policies[%d]", idx);
	if (n->type != YAML_MAPPING_NODE)
		return cy_fail(p, n, path,
			       "expected a policy (a mapping with name, type, ...), got %s",
			       cy_show(n, b, sizeof(b)));
	pc->line = (int)cy_line(n);

	cy_join(kp, sizeof(kp), path, "type");
	v = cy_map_get(p, n, "type");
	if (!v)
		return cy_fail(p, n, kp, "missing (window, progressive, events or budget)");
	for (i = 0; i < CONF_POLICY_TYPES; i++) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), policy_types[i]))
			break;
	}
	if (i == CONF_POLICY_TYPES)
		return cy_fail(p, v, kp, "expected window, progressive, events or budget, got %s",
			       cy_show(v, b, sizeof(b)));
	pc->type = (enum policy_type)i;
	err = check_policy_keys(p, n, path, pc->type);
	if (err)
		return err;

	cy_join(kp, sizeof(kp), path, "name");
	v = cy_map_get(p, n, "name");
	if (!v)
		return cy_fail(p, n, kp, "missing (every policy needs a name)");
	err = cy_get_name(p, v, kp, "a policy name", FG_CONF_NAME_MAX, &s);
	if (err)
		return err;
	for (i = 0; i < idx; i++) {
		if (!strcmp(c->policies[i].name, s))
			return cy_fail(p, v, kp,
				       "\"%s\" is already the name of policies[%d] (line %d)", s, i,
				       c->policies[i].line);
	}
	strcpy(pc->name, s);

	/* Defaults first, then what the file says. */
	config_policy_defaults(pc);

	if ((v = cy_map_get(p, n, "on_store_error"))) {
		static const char *const modes[] = { "memory", "allow", "deny" };

		cy_join(kp, sizeof(kp), path, "on_store_error");
		for (i = 0; i < 3; i++) {
			if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), modes[i]))
				break;
		}
		if (i == 3)
			return cy_fail(p, v, kp, "expected memory, allow or deny, got %s",
				       cy_show(v, b, sizeof(b)));
		pc->on_store_error = (enum policy_on_error)i;
	}
	if ((v = cy_map_get(p, n, "max_keys"))) {
		long long mk;

		err = cy_get_int(p, v, cy_join(kp, sizeof(kp), path, "max_keys"), 1, CONF_MAX_TABLE,
				 &mk);
		if (err)
			return err;
		pc->max_keys = (uint64_t)mk;
	}
	if ((v = cy_map_get(p, n, "warn_at"))) {
		err = cy_get_milli(p, v, cy_join(kp, sizeof(kp), path, "warn_at"), 1, 1000,
				   "a fraction of the limit (e.g. 0.8)", &m);
		if (err)
			return err;
		pc->warn_at_milli = (uint32_t)m;
	}

	switch (pc->type) {
	case POLICY_WINDOW:
		cy_join(kp, sizeof(kp), path, "limits");
		if (!(v = cy_map_get(p, n, "limits")))
			return cy_fail(
				p, n, kp,
				"missing (e.g. [ { count: 10, per: 1s }, { count: 100, per: 1m "
				"} ])");
		if ((err = parse_window_limits(p, v, kp, pc)))
			return err;
		if ((v = cy_map_get(p, n, "block_for")) &&
		    (err = cy_get_duration(p, v, cy_join(kp, sizeof(kp), path, "block_for"),
					   &pc->block_for_ms)))
			return err;
		break;
	case POLICY_PROGRESSIVE:
		if ((v = cy_map_get(p, n, "free_failures")) &&
		    (err = cy_get_u32(p, v, cy_join(kp, sizeof(kp), path, "free_failures"), 0,
				      CONF_BAN_AFTER_MAX, &pc->free_failures)))
			return err;
		if ((v = cy_map_get(p, n, "base_delay")) &&
		    (err = cy_get_duration(p, v, cy_join(kp, sizeof(kp), path, "base_delay"),
					   &pc->base_delay_ms)))
			return err;
		if ((v = cy_map_get(p, n, "factor"))) {
			err = cy_get_milli(p, v, cy_join(kp, sizeof(kp), path, "factor"), 1000,
					   1000000, "a growth factor (e.g. 2)", &m);
			if (err)
				return err;
			pc->factor_milli = (uint32_t)m;
		}
		if ((v = cy_map_get(p, n, "max_delay")) &&
		    (err = cy_get_duration(p, v, cy_join(kp, sizeof(kp), path, "max_delay"),
					   &pc->max_delay_ms)))
			return err;
		if (pc->max_delay_ms < pc->base_delay_ms)
			return cy_fail(p, v ? v : n, cy_join(kp, sizeof(kp), path, "max_delay"),
				       "%llums is shorter than base_delay (%llums)",
				       (unsigned long long)pc->max_delay_ms,
				       (unsigned long long)pc->base_delay_ms);
		if ((v = cy_map_get(p, n, "forget_after")) &&
		    (err = cy_get_duration(p, v, cy_join(kp, sizeof(kp), path, "forget_after"),
					   &pc->forget_after_ms)))
			return err;
		if ((v = cy_map_get(p, n, "xdp_ban"))) {
			char bp[CY_PATH_MAX];

			cy_join(bp, sizeof(bp), path, "xdp_ban");
			err = cy_expect_kind(p, v, bp, YAML_MAPPING_NODE);
			if (!err)
				err = cy_check_keys(p, v, bp, xdp_ban_keys);
			if (err)
				return err;
			if (cy_is_null(v))
				break;
			cy_join(kp, sizeof(kp), bp, "after");
			if (!(x = cy_map_get(p, v, "after")))
				return cy_fail(p, v, kp, "missing (failures before the XDP ban)");
			if ((err = cy_get_u32(p, x, kp, 1, CONF_BAN_AFTER_MAX, &pc->xdp_ban_after)))
				return err;
			cy_join(kp, sizeof(kp), bp, "for");
			if (!(x = cy_map_get(p, v, "for")))
				return cy_fail(p, v, kp,
					       "missing (how long the ban lasts, e.g. 1h)");
			if ((err = cy_get_duration(p, x, kp, &pc->xdp_ban_for_ms)))
				return err;
		}
		break;
	case POLICY_EVENTS:
		cy_join(kp, sizeof(kp), path, "limit");
		if (!(v = cy_map_get(p, n, "limit")))
			return cy_fail(p, n, kp, "missing (events per window, e.g. 100)");
		if ((err = cy_get_u64(p, v, kp, 1, CONF_COUNT_MAX, &pc->limit)))
			return err;
		cy_join(kp, sizeof(kp), path, "window");
		if (!(v = cy_map_get(p, n, "window")))
			return cy_fail(p, n, kp, "missing (a duration, e.g. 1m)");
		if ((err = cy_get_duration(p, v, kp, &pc->window_ms)))
			return err;
		if ((v = cy_map_get(p, n, "exempt")) &&
		    (err = parse_exempt(p, v, cy_join(kp, sizeof(kp), path, "exempt"), pc)))
			return err;
		break;
	case POLICY_BUDGET:
		cy_join(kp, sizeof(kp), path, "amount");
		if (!(v = cy_map_get(p, n, "amount")))
			return cy_fail(p, n, kp, "missing (the amount per period, e.g. 500000)");
		if ((err = cy_get_u64(p, v, kp, 0, CONF_AMOUNT_MAX, &pc->amount)))
			return err;
		if ((v = cy_map_get(p, n, "period"))) {
			cy_join(kp, sizeof(kp), path, "period");
			if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "hour"))
				pc->period = POLICY_PERIOD_HOUR;
			else if (v->type == YAML_SCALAR_NODE && !strcmp(cy_text(v), "day"))
				pc->period = POLICY_PERIOD_DAY;
			else
				return cy_fail(p, v, kp, "expected hour or day, got %s",
					       cy_show(v, b, sizeof(b)));
		}
		break;
	}
	/* Roles last: a window role is checked against every limit. */
	if ((v = cy_map_get(p, n, "roles")) &&
	    (err = parse_roles(p, v, cy_join(kp, sizeof(kp), path, "roles"), pc)))
		return err;
	return 0;
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
	pc->warn_at_milli = 800;
	pc->free_failures = 3;
	pc->base_delay_ms = 1000;
	pc->factor_milli = 2000;
	pc->max_delay_ms = 30000;
	pc->forget_after_ms = 15 * 60 * 1000;
	pc->period = POLICY_PERIOD_DAY;
}
