/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_sync: one call per socket command over policy_submit(), for the
 * unit tests of a set with the memory store only (where policy_submit
 * answers at once). The agent itself submits struct policy_req; these are
 * not part of it.
 */
#ifndef FG_TEST_POLICY_SYNC_H
#define FG_TEST_POLICY_SYNC_H

#include <errno.h>
#include <string.h>

#include "policy.h"

static inline int sync_submit(struct policy *p, const struct policy_req *rq, uint64_t now_ms,
			      struct policy_answer *ans)
{
	struct policy_answer tmp;
	int err = policy_submit(p, rq, now_ms, ans ? ans : &tmp, NULL, NULL);

	return err > 0 ? -EINPROGRESS : err; /* a memory store never defers */
}

static inline int policy_check(struct policy *p, const void *key, size_t klen, uint64_t cost,
			       const char *role, size_t rlen, bool peek, uint64_t now_ms,
			       struct rl_result *out)
{
	struct policy_req rq = { .op = POLICY_OP_CHECK,
				 .key = key,
				 .klen = klen,
				 .cost = cost,
				 .role = role,
				 .rlen = rlen,
				 .peek = peek };
	struct policy_answer ans;
	int err = sync_submit(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.check;
	return err;
}

/* RL.CHARGE (refund false) and RL.REFUND. */
static inline int policy_charge(struct policy *p, const void *key, size_t klen, uint64_t amount,
				bool refund, const char *role, uint64_t now_ms,
				struct rl_result *out)
{
	struct policy_req rq = { .op = POLICY_OP_CHARGE,
				 .key = key,
				 .klen = klen,
				 .cost = amount,
				 .refund = refund,
				 .role = role,
				 .rlen = role ? strlen(role) : 0 };
	struct policy_answer ans;
	int err = sync_submit(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.check;
	return err;
}

static inline int sync_auth(struct policy *p, enum policy_op op, const void *key, size_t klen,
			    uint64_t now_ms, struct rl_auth_result *out)
{
	struct policy_req rq = { .op = op, .key = key, .klen = klen };
	struct policy_answer ans;
	int err = sync_submit(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.auth;
	return err;
}

static inline int policy_auth_fail(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
				   struct rl_auth_result *out)
{
	return sync_auth(p, POLICY_OP_AUTH_FAIL, key, klen, now_ms, out);
}

static inline int policy_auth_check(struct policy *p, const void *key, size_t klen, uint64_t now_ms,
				    struct rl_auth_result *out)
{
	return sync_auth(p, POLICY_OP_AUTH_CHECK, key, klen, now_ms, out);
}

static inline int policy_event(struct policy *p, const void *conn, size_t clen, const char *event,
			       size_t elen, uint64_t now_ms, struct rl_event_result *out)
{
	struct policy_req rq = {
		.op = POLICY_OP_EVENT, .key = conn, .klen = clen, .event = event, .elen = elen
	};
	struct policy_answer ans;
	int err = sync_submit(p, &rq, now_ms, &ans);

	if (!err)
		*out = ans.u.event;
	return err;
}

static inline int policy_block(struct policy *p, const void *key, size_t klen, uint64_t seconds,
			       uint64_t now_ms)
{
	struct policy_req rq = {
		.op = POLICY_OP_BLOCK, .key = key, .klen = klen, .seconds = seconds
	};

	return sync_submit(p, &rq, now_ms, NULL);
}

static inline int policy_unblock(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	struct policy_req rq = { .op = POLICY_OP_UNBLOCK, .key = key, .klen = klen };

	return sync_submit(p, &rq, now_ms, NULL);
}

static inline int policy_reset(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	struct policy_req rq = { .op = POLICY_OP_RESET, .key = key, .klen = klen };

	return sync_submit(p, &rq, now_ms, NULL);
}

/* RL.AUTH.OK: a reset of a policy that takes RL.AUTH.FAIL (as commands.c). */
static inline int policy_auth_ok(struct policy *p, const void *key, size_t klen, uint64_t now_ms)
{
	if (!policy_supports(p, POLICY_OP_AUTH_FAIL))
		return -EOPNOTSUPP;
	return policy_reset(p, key, klen, now_ms);
}

/* RL.CONN.CLOSE: a reset of a policy that takes RL.EVENT. */
static inline int policy_conn_close(struct policy *p, const void *conn, size_t clen,
				    uint64_t now_ms)
{
	if (!policy_supports(p, POLICY_OP_EVENT))
		return -EOPNOTSUPP;
	return policy_reset(p, conn, clen, now_ms);
}

/* CL.THROTTLE key max_burst count period quantity. */
static inline int policy_cell(struct policies *ps, const char *key, uint64_t max_burst,
			      uint64_t count, uint64_t period_s, uint64_t quantity, uint64_t now_ms,
			      struct policy_cell_answer *out)
{
	struct policy_cell_req rq = { .key = key,
				      .klen = strlen(key),
				      .max_burst = max_burst,
				      .count = count,
				      .period_s = period_s,
				      .quantity = quantity };
	int err = policy_submit_cell(ps, &rq, now_ms, out, NULL, NULL);

	return err > 0 ? -EINPROGRESS : err;
}

#endif /* FG_TEST_POLICY_SYNC_H */
