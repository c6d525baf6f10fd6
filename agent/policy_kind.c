// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The kind table: one row per enum policy_type, each from its limiter file. */
#include <string.h>

#include "policy_kind.h"

extern const struct policy_kind policy_kind_window, policy_kind_progressive, policy_kind_events,
	policy_kind_budget;

const struct policy_kind *const policy_kinds[POLICY_TYPE_N] = {
	[POLICY_WINDOW] = &policy_kind_window,
	[POLICY_PROGRESSIVE] = &policy_kind_progressive,
	[POLICY_EVENTS] = &policy_kind_events,
	[POLICY_BUDGET] = &policy_kind_budget,
};

int policy_kind_find(const char *name, size_t len)
{
	int t;

	for (t = 0; t < POLICY_TYPE_N; t++) {
		if (strlen(policy_kinds[t]->name) == len &&
		    !memcmp(policy_kinds[t]->name, name, len))
			return t;
	}
	return -1;
}
