/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * compiled: a config in the form the XDP program reads it (the rule table,
 * the port -> rule table, the config entry) and the names of the rule ids.
 * rules (agent/) produces it; xdpmaps (lib/) writes it into the maps, so
 * floodctl and the bench use it without the agent's config types.
 */
#ifndef FG_COMPILED_H
#define FG_COMPILED_H

#include <stdint.h>

#include <floodgate/abi.h>

/* Room for a rule name and its NUL: config.h's FG_CONF_NAME_MAX (rules.h checks). */
#define FG_RULE_NAME_MAX 64

/* Which rule id belongs to which name; kept by the agent across reloads. */
struct fg_rule_ids {
	char names[FG_MAX_RULES][FG_RULE_NAME_MAX]; /* "" = free id */
};

struct fg_compiled {
	struct fg_config cfg; /* active is left 0; xdpmaps picks the half */
	struct fg_rule rules[FG_MAX_RULES];
	uint32_t port_rule[FG_PORT_SLOTS]; /* [proto * 65536 + port] -> id */
	struct fg_rule_ids ids;		   /* names of rules[i]: "tcp-default", ... */
};

#endif /* FG_COMPILED_H */
