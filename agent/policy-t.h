/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy-t: the types of a policy's configuration (one entry of `policies:`)
 * and the operations on policies, apart from policy.h so that config.c and
 * the policy kind table (policy_kind.h) can use them without depending on
 * the limiters (policy.h includes config.h; this header includes nothing of
 * the agent's, which keeps the include graph free of cycles).
 */
#ifndef FG_POLICY_T_H
#define FG_POLICY_T_H

#include <stdint.h>

#define POLICY_KEY_MAX	       512
#define POLICY_BLOCK_MAX_S     (365ULL * 86400) /* longest RL.BLOCK */
#define POLICY_MAX_LIMITS      8		/* limits of a window policy */
#define POLICY_MAX_ROLES       32
#define POLICY_MAX_EXEMPT      32
#define POLICY_ROLE_NAME_MAX   64
#define POLICY_EVENT_NAME_MAX  64
#define POLICY_MAX_EVENT_TYPES 16 /* an events policy's events: (own counters each) */
#define POLICY_COST_MAX	       1000000000000000ULL /* 1e15 */
#define POLICY_DEBT_MAX	       4000000000000000ULL /* used of a budget, charges included (< 2^53) */
#define POLICY_MAX	       256		   /* policies in a config */
#define POLICY_NAME_MAX	       64		   /* = FG_CONF_NAME_MAX (asserted in config.c) */
#define POLICY_TZ_NAME_MAX     64 /* = TZONE_NAME_MAX (asserted in limit_budget.c) */

struct tzone;

/* Indexes policy_kinds[] (policy_kind.h), where each type is described. */
enum policy_type {
	POLICY_WINDOW = 0,
	POLICY_PROGRESSIVE = 1,
	POLICY_EVENTS = 2,
	POLICY_BUDGET = 3,
	POLICY_TYPE_N /* the number of types; keep last */
};

/* What a request asks of a policy (policy_submit). */
enum policy_op {
	POLICY_OP_CHECK = 0,	  /* RL.CHECK */
	POLICY_OP_AUTH_FAIL = 1,  /* RL.AUTH.FAIL */
	POLICY_OP_AUTH_CHECK = 2, /* RL.AUTH.CHECK */
	POLICY_OP_EVENT = 3,	  /* RL.EVENT */
	POLICY_OP_CHARGE = 4,	  /* RL.CHARGE, RL.REFUND */
	POLICY_OP_BLOCK = 5,	  /* RL.BLOCK */
	POLICY_OP_UNBLOCK = 6,	  /* RL.UNBLOCK */
	POLICY_OP_RESET = 7,	  /* RL.RESET, RL.AUTH.OK, RL.CONN.CLOSE */
};
/* The operations a type decides itself (policy_kind.decide); block, unblock
 * and reset work the same on every type. (Not stored anywhere: renumbered
 * freely.) */
#define POLICY_OP_DECIDE_N (POLICY_OP_CHARGE + 1)

/* What a decision does when the Redis store fails or times out. */
enum policy_on_error {
	POLICY_ON_ERROR_MEMORY = 0, /* decide from this host's memory store (default) */
	POLICY_ON_ERROR_ALLOW = 1,  /* fail open */
	POLICY_ON_ERROR_DENY = 2,   /* fail closed */
};

/* How a window policy counts (its algorithm: key). */
enum policy_algorithm {
	POLICY_ALGO_GCRA = 0,	 /* default: 16 bytes per limit and key, any count */
	POLICY_ALGO_SLIDING = 1, /* a log: at most count in any interval of length per */
};
/* Requests a sliding window's log holds per key (count x a role's multiplier):
 * 16 bytes each (limit_window_sliding.c). */
#define POLICY_SLIDING_MAX 1000

enum policy_period {
	POLICY_PERIOD_HOUR = 0,
	POLICY_PERIOD_DAY = 1,
};

struct fg_conf_window_limit {
	uint64_t count;	 /* requests ... */
	uint64_t per_ms; /* ... per this long */
};

/* An event type of an events policy with its own limit (events:). */
struct fg_conf_event_type {
	char name[POLICY_EVENT_NAME_MAX];
	uint64_t limit;		/* events ... */
	uint64_t per_ms;	/* ... per this long (the window from its first event) */
	uint32_t warn_at_milli; /* default: the policy's warn_at */
	uint32_t pad;
};

/* A role: a multiplier of every window limit (window), or an amount (budget). */
struct fg_conf_role {
	char name[POLICY_ROLE_NAME_MAX];
	uint32_t mult_milli; /* window: multiplier x 1000 (1.5 -> 1500) */
	uint64_t amount;     /* budget: amount per period for this role */
};

/* One entry of `policies:`; which fields count depends on type. */
struct fg_conf_policy {
	char name[POLICY_NAME_MAX]; /* unique, [A-Za-z0-9_.:-]+ */
	enum policy_type type;
	int line; /* where it starts in the file, for messages */

	enum policy_on_error on_store_error; /* Redis store only; default memory */
	/* window. Here, in what was padding, so that the config ids of gcra
	 * policies (a hash of the canonical copy, policy.c) stay the same. */
	enum policy_algorithm algorithm;
	uint64_t max_keys;	/* keys of this policy in the memory store; 0 = a fair share */
	uint32_t warn_at_milli; /* window, events, budget: default 800 (0.8) */
	struct fg_conf_role roles[POLICY_MAX_ROLES]; /* window, budget */
	int nroles;

	/* window */
	struct fg_conf_window_limit limits[POLICY_MAX_LIMITS];
	int nlimits;
	uint64_t block_for_ms; /* 0 = no block after a rejection */

	/* progressive */
	uint32_t free_failures;	  /* default 3 */
	uint64_t base_delay_ms;	  /* default 1 s */
	uint32_t factor_milli;	  /* default 2000 (2) */
	uint64_t max_delay_ms;	  /* default 30 s */
	uint64_t forget_after_ms; /* default 15 min */
	uint32_t xdp_ban_after;	  /* failures; 0 = no XDP ban */
	uint64_t xdp_ban_for_ms;

	/* events */
	/* events per window; with events: of the types it does not name (0: refused) */
	uint64_t limit;
	uint64_t window_ms;
	char exempt[POLICY_MAX_EXEMPT][POLICY_EVENT_NAME_MAX];
	int nexempt;

	/* budget */
	uint64_t amount; /* per period, for requests without a ROLE */
	enum policy_period period;

	/*
	 * events: the event types with their own counters (events:), in the
	 * file's order. Last, and hashed into the Redis ids only when there
	 * are some (policy.c, make_conf_id), so that the ids of every policy
	 * without them stay what they were before they existed.
	 */
	struct fg_conf_event_type evtypes[POLICY_MAX_EVENT_TYPES];
	int nevtypes;
	/*
	 * budget: the zone its periods are local to ("" and NULL: UTC) and its
	 * table (tzone_get). After the event types, on an 8-byte boundary:
	 * hashed into the Redis ids only when there is a name (policy.c).
	 */
	_Alignas(8) char timezone[POLICY_TZ_NAME_MAX];
	const struct tzone *tz;

	/*
	 * progressive: RL.AUTH.OK ... ADDR vouches for ADDR this long; 0 = it
	 * does not. Not in the state's meaning and past every byte the Redis
	 * ids hash (policy.c, conf_hash): a change keeps every key's state.
	 */
	uint64_t vouch_on_success_ms;
};

#endif /* FG_POLICY_T_H */
