/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * rules: compile a validated config into what the XDP program reads: the
 * rule table, the port -> rule table and the config entry. Rule ids are
 * kept stable across reloads by rule name, so a reload keeps the buckets
 * of rules that still exist (buckets are keyed by rule id).
 */
#ifndef FG_RULES_H
#define FG_RULES_H

#include <stdint.h>

#include <floodgate/abi.h>

#include "compiled.h"
#include "config.h"

_Static_assert(FG_RULE_NAME_MAX == FG_CONF_NAME_MAX, "a rule id's name holds any rule name");

/*
 * Compile conf into *out. prev (may be NULL) holds the ids of the running
 * config: a rule whose name is in prev keeps its id; new names take ids
 * unused by both. Returns 0 or -ENOSPC when ids run out (cannot happen for
 * a validated config).
 */
int rules_compile(const struct fg_conf *conf, const struct fg_rule_ids *prev,
		  struct fg_compiled *out);

/* A limit in the kernel's form (interval_ns = 1e9 / rate; rate 0: none). */
struct fg_limit rules_limit(uint32_t rate, uint32_t burst);

/* Id of the rule named name in ids, or -1. */
int rules_find(const struct fg_rule_ids *ids, const char *name);

#endif /* FG_RULES_H */
