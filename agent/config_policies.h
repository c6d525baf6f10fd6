/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * config_policies: what the policies section (config_policies.c) offers the
 * policy kinds, whose rows declare their own keys (policy_kind.h,
 * conf_keys): the bounds and the readers of keys several types have.
 */
#ifndef FG_CONFIG_POLICIES_H
#define FG_CONFIG_POLICIES_H

#include <stddef.h>

#include "config_yaml.h"
#include "policy-t.h"

#define CONF_POLICY_COUNT_MAX	 1000000000LL	    /* requests, events per window */
#define CONF_POLICY_AMOUNT_MAX	 1000000000000000LL /* = POLICY_COST_MAX */
#define CONF_POLICY_FAILURES_MAX 1000000LL	    /* = CONF_BAN_AFTER_MAX */

/* A row's field in struct fg_conf_policy. */
#define CONF_POLICY_AT(field) offsetof(struct fg_conf_policy, field)

/* warn_at: a fraction of the limit (0.001-1), as thousandths. */
int config_policy_warn_at(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *v,
			  const char *path, void *dst);
#define CONF_POLICY_WARN_AT                                                                        \
	CY_READER("warn_at", CONF_POLICY_AT(warn_at_milli), config_policy_warn_at)

/* One role's value (v, at path) into r: a type's part of a roles: mapping. */
typedef int (*config_role_fn)(struct cy_parser *p, const yaml_node_t *v, const char *path,
			      struct fg_conf_policy *pc, struct fg_conf_role *r);
/* roles: a mapping of role names (at most POLICY_MAX_ROLES, case-insensitively
 * distinct) to values read by value. dst is the struct fg_conf_policy. */
int config_policy_roles(struct cy_parser *p, const yaml_node_t *v, const char *path,
			struct fg_conf_policy *pc, config_role_fn value);

#endif /* FG_CONFIG_POLICIES_H */
