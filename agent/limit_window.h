/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * limit_window: the insides of the window type, shared by its two
 * algorithms: GCRA (limit_window.c, the type's row) and the sliding log
 * (limit_window_sliding.c), which the row's functions hand a policy with
 * algorithm: sliding. Nothing else includes it.
 */
#ifndef FG_LIMIT_WINDOW_H
#define FG_LIMIT_WINDOW_H

#include "policy_int.h"

/* A window limit for one role (index 0 = no role). */
struct wlimit {
	uint64_t limit;	   /* requests */
	uint64_t t_ns;	   /* emission interval: per / limit */
	uint64_t burst_ns; /* limit * t_ns: how far ahead of now the TAT may run */
};

/* Compiled once per policy (struct policy's priv). */
struct window {
	char wname[POLICY_MAX_LIMITS][24];
	struct wlimit wl[POLICY_MAX_ROLES + 1][POLICY_MAX_LIMITS]; /* [role + 1][limit] */
	int longest;  /* sliding: the limit with the longest per */
	uint64_t cap; /* sliding: entries a key's log may need (every role) */
};

static inline const struct window *win(const struct policy *p)
{
	return (const struct window *)p->priv;
}

static inline bool window_sliding(const struct policy *p)
{
	return p->conf.algorithm == POLICY_ALGO_SLIDING;
}

/* A limit's count for a role's multiplier (x 1000), as compile makes it. */
static inline uint64_t window_role_limit(uint64_t count, uint64_t mult_milli)
{
	uint64_t l = (uint64_t)((unsigned __int128)count * mult_milli / 1000);

	return l ? l : 1;
}

/* --- limit_window_sliding.c: the same functions for algorithm: sliding ---- */

uint32_t window_sliding_state_size(const struct fg_conf_policy *c);
/* What a log uses of its state (the store keeps only that per key). */
uint32_t window_sliding_used(const void *state);
/* Fills w->longest and w->cap (after the GCRA parameters). */
void window_sliding_compile(const struct fg_conf_policy *c, struct window *w);
uint64_t window_sliding_check(void *state, bool fresh, void *arg);
uint64_t window_sliding_expiry(const struct policy *p, const void *state);
void window_sliding_pack(const struct policy *p, int role, unsigned char *buf, size_t *off);
bool window_sliding_decode(const struct policy *p, const unsigned char *f, size_t nf,
			   uint64_t *state);
extern const char *const window_sliding_lua[POLICY_LUA_N];

#endif /* FG_LIMIT_WINDOW_H */
