/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_kind: what a policy type is, in one place. One const row per type,
 * indexed by enum policy_type (policy_kinds[]); each row is defined in its
 * limiter file (limit_window.c, limit_progressive.c, ...). The set
 * (policy.c), the Redis store (policy_redis.c), the config
 * (config_policies.c), the socket commands and the metrics reach a type
 * only through its row, so a new type is a new row, its limiter file, its
 * docs and its tests (docs/hacking.md, "A policy type").
 *
 * The functions of a row see a policy through policy_int.h (struct policy,
 * struct policy_call); this header names them only.
 */
#ifndef FG_POLICY_KIND_H
#define FG_POLICY_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy-t.h"
#include "store.h"

struct cy_key;
struct policy;
struct policy_desc;
struct policy_call;

/* The Lua scripts of a type (policy_lua.h builds them), by what they do. */
enum policy_lua {
	POLICY_LUA_DECIDE = 0, /* the type's decisions (decide[] below) */
	POLICY_LUA_BLOCK = 1,  /* RL.BLOCK and RL.UNBLOCK */
	POLICY_LUA_REPLAY = 2, /* add what memory counted during an outage */
	POLICY_LUA_N
};

struct policy_kind {
	const char *name; /* the config's `type:`, INFO's and the metrics' */

	/*
	 * The config (config_policies.c): the type's keys of a policy entry
	 * besides name, type, on_store_error and max_keys, as rows of the YAML
	 * reader (config_yaml.h; fields are offsets in struct fg_conf_policy)
	 * in the order they are read and offered by did-you-mean; their
	 * defaults (.def) are every policy's. conf_defaults sets the defaults
	 * no row holds (enums, thousandths); NULL when there are none.
	 */
	const struct cy_key *conf_keys;
	void (*conf_defaults)(struct fg_conf_policy *pc);

	/*
	 * What "unchanged" means for a reload: copy the fields of src that
	 * change this type's decisions into dst (zeroed, with the defaults,
	 * type and warn_at already set). Two policies of one name are
	 * unchanged when their copies are equal byte for byte; the Redis
	 * state's config id is a hash of the copy (policy.c).
	 */
	void (*canon)(struct fg_conf_policy *dst, const struct fg_conf_policy *src);
	/*
	 * What a key's state means (issue 12: a reload keeps what it can):
	 * copy the fields of src without which the state of a key reads as
	 * something else (window: each limit's per; budget: the period) into
	 * dst (zeroed, type set). A change of parameters that leaves this copy
	 * equal keeps every key's state; one that changes it keeps only blocks;
	 * NULL: every change keeps the state. The Redis state's id hashes it.
	 */
	void (*layout)(struct fg_conf_policy *dst, const struct fg_conf_policy *src);

	/*
	 * Optional: a key's state under another layout of the type (old,
	 * old_size bytes, 8-byte fields) into state (zeroed: the block, and
	 * what the old state says of itself that still holds: events' counts
	 * of the types still named). Used by a reload that changes the layout
	 * and by the Redis store on a value of another config (its scripts
	 * do the same, POLICY_LUA_REMAP). NULL: the block alone is kept.
	 */
	void (*remap)(const struct policy *p, const uint64_t *old, uint32_t old_size,
		      uint64_t *state);

	/* Bytes of state per key (<= STORE_STATE_MAX, 8-byte fields, the
	 * block's end in ms first: block, unblock and reset are generic). */
	uint32_t (*state_size)(const struct fg_conf_policy *c);
	/* Optional: for states that grow and shrink, what a state uses
	 * (store_ns_set_used); NULL or returning NULL: state_size per key. */
	store_used_fn (*state_used)(const struct fg_conf_policy *c);
	/* Bytes of compiled parameters (struct policy's priv), filled by
	 * compile; 0 and NULL when the config is all the type needs. */
	size_t priv_size;
	void (*compile)(struct policy *p);

	/*
	 * The decisions, by operation (enum policy_op below
	 * POLICY_OP_DECIDE_N): a store callback whose arg is the struct
	 * policy_call; NULL = the type does not do it (-EOPNOTSUPP).
	 */
	store_fn decide[POLICY_OP_DECIDE_N];
	/* Optional: what to refuse (-ERANGE...) or note (call->exempt) before
	 * any store is asked; the generic checks have passed. */
	int (*validate)(struct policy_call *c);
	/* When state stops being worth more than zeroes (Unix ms). */
	uint64_t (*expiry)(const struct policy *p, const void *state);
	/* RL.POLICY: the quotas and parameters of p for role (0: none, else
	 * 1 + index into conf.roles), into d (zeroed). */
	void (*describe)(const struct policy *p, int role, struct policy_desc *d);
	/* The answer of on_store_error allow (allow) or deny (!allow). */
	void (*fallback)(struct policy_call *c, bool allow);

	/*
	 * Redis: the scripts (each runs the same state change as decide[],
	 * on Redis's clock), the parameters after the config id in ARGV[1]
	 * (pack: doubles xp, x, n, then n pairs; see policy_lua.h) and,
	 * optional, how a stored value (nf doubles after the config id)
	 * becomes the memory state (NULL: field for field, nf = state_size / 8).
	 */
	const char *lua[POLICY_LUA_N];
	void (*pack)(const struct policy *p, int role, unsigned char *buf, size_t *off);
	/* Optional: the last agent time at which what pack packed for the time
	 * p->params_at still holds (packed again after it); NULL: forever. */
	uint64_t (*pack_until)(const struct policy *p, uint64_t at_ms);
	bool (*decode)(const struct policy *p, const unsigned char *f, size_t nf, uint64_t *state);
	/*
	 * Optional: a mode of the type whose state differs (window's
	 * algorithm: sliding): policies for which lua_alt_of() is true run
	 * the POLICY_LUA_N scripts of lua_alt instead of lua[] (one such set
	 * in all: REDIS_MAX_SCRIPTS).
	 */
	bool (*lua_alt_of)(const struct policy *p);
	const char *const *lua_alt;
};

extern const struct policy_kind policy_kind_window, policy_kind_progressive, policy_kind_events,
	policy_kind_budget;

/* Every type's row, by enum policy_type. */
extern const struct policy_kind *const policy_kinds[POLICY_TYPE_N];

/* The type called name (len bytes), or -1. */
int policy_kind_find(const char *name, size_t len);

#endif /* FG_POLICY_KIND_H */
