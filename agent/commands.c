// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * commands: the socket's product commands (docs/api.md): application limits
 * (RL.*), live XDP counts and lists (XDP.*) and CONFIG RELOAD. Each handler
 * validates its arguments, calls policy or xdpmaps, and writes one reply.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "banguard.h"
#include "cidr.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "fleet.h"
#include "glob.h"
#include "hostaddr.h"
#include "hostpeers.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "redis.h"
#include "rules.h"
#include "server.h"
#include "syncookies.h"
#include "vouch.h"
#include "xdpmaps.h"

#define TOP_MAX 1000

/* A non-negative decimal integer that fits in *out. */
static bool arg_u64(const struct resp_arg *a, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!a->len || a->len > 19)
		return false;
	for (i = 0; i < a->len; i++) {
		if (a->ptr[i] < '0' || a->ptr[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(a->ptr[i] - '0');
	}
	*out = v;
	return true;
}

/* Copy an argument into a NUL-terminated buffer; false if it does not fit
 * or holds a NUL (names and addresses never do). */
static bool arg_str(const struct resp_arg *a, char *buf, size_t len)
{
	if (a->len >= len || memchr(a->ptr, '\0', a->len))
		return false;
	memcpy(buf, a->ptr, a->len);
	buf[a->len] = '\0';
	return true;
}

/* Reply with an error naming the policy set when name is unknown. */
static struct policy *find_policy(const struct commands_env *a, struct client *c,
				  const struct resp_arg *name)
{
	struct policy *p = *a->policies ? policies_find(*a->policies, name->ptr, name->len) : NULL;
	char list[256] = "";
	size_t i, n = *a->policies ? policies_count(*a->policies) : 0;

	if (p)
		return p;
	for (i = 0; i < n && strlen(list) < sizeof(list) - 70; i++) {
		if (i)
			strcat(list, ", ");
		strncat(list, policy_name(policies_at(*a->policies, i)), 64);
	}
	reply_error(c, "ERR unknown policy '%.*s' (configured: %s)",
		    (int)(name->len > 64 ? 64 : name->len), name->ptr,
		    n ? list : "none; add one under policies: in the config");
	return NULL;
}

/* An event type an events policy neither names nor has a limit: for. */
static void event_type_error(struct client *c, struct policy *p, const struct policy_req *rq)
{
	const struct fg_conf_policy *pc = policy_conf(p);
	char list[256] = "";
	int i;

	for (i = 0; i < pc->nevtypes && strlen(list) < sizeof(list) - 70; i++) {
		if (i)
			strcat(list, ", ");
		strncat(list, pc->evtypes[i].name, 64);
	}
	reply_error(c,
		    "ERR unknown event type '%.*s' for policy '%s' (its events: %s): name it "
		    "under events:, or give the policy a limit: and window: for the others",
		    (int)(rq->elen > 64 ? 64 : rq->elen), rq->event, policy_name(p), list);
}

/* Turn a policy function's -errno into a clear error reply. */
static void policy_error(struct client *c, struct policy *p, int err, const char *cmd)
{
	switch (err) {
	case -EOPNOTSUPP: {
		const char *type = policy_type_name(p);

		/* "an events policy", "a window policy": the article follows the sound. */
		reply_error(c, "ERR policy '%s' is %s %s policy: %s does not apply to it",
			    policy_name(p), type[0] && strchr("aeiou", type[0]) ? "an" : "a", type,
			    cmd);
		break;
	}
	case -ENOENT:
		reply_error(c,
			    "ERR unknown role for policy '%s': ROLE takes one of the names listed "
			    "under the policy's roles: in the config",
			    policy_name(p));
		break;
	case -E2BIG:
		reply_error(c, "ERR key is longer than %d bytes", POLICY_KEY_MAX);
		break;
	case -ERANGE:
		reply_error(c,
			    "ERR COST is larger than policy '%s' allows in a window (or a budget's "
			    "period, for this ROLE): it could never pass",
			    policy_name(p));
		break;
	case -EINVAL:
		reply_error(c, "ERR invalid argument for %s on policy '%s'", cmd, policy_name(p));
		break;
	default:
		reply_error(c, "ERR %s failed: %s", cmd, strerror(-err));
	}
}

/* RESP2 arrays in a fixed order; RESP3 maps with the same names. */
static void reply_record(struct client *c, size_t n)
{
	if (client_resp_version(c) == 3)
		reply_map(c, n);
	else
		reply_array(c, n);
}

static void field(struct client *c, const char *name)
{
	if (client_resp_version(c) == 3)
		reply_cstr(c, name);
}

/* Refused app bans are logged at most once a second per result: a peer
 * that asks a million times must not flood the log. */
static bool refusal_line(enum banguard_result r, uint64_t now_ns, uint64_t *suppressed)
{
	static struct log_gate gates[BANGUARD_RESULT_MAX];

	return log_gate_due(&gates[r], now_ns, suppressed);
}

static const char *refusal_msg(enum banguard_result r)
{
	switch (r) {
	case BANGUARD_REFUSED_PEER:
		return "app ban refused: this socket peer may not cause NIC bans "
		       "(list it in app_bans.peer_uids or peer_gids)";
	case BANGUARD_REFUSED_ADDRESS:
		return "app ban refused: the host's own, a special or an allow-listed address";
	case BANGUARD_QUOTA:
		return "app ban refused: app bans are at their share of the ban map "
		       "(app_bans.max, app_bans.per_peer)";
	default:
		return "app ban failed";
	}
}

/* Application feedback: a key that is an IP address is banned at the NIC,
 * if the guard lets this peer ban this address now. */
static void auth_ban(const struct commands_env *a, const char *policy, const char *addr,
		     uint64_t for_ms, uint32_t uid, bool peer_may)
{
	uint64_t secs = (for_ms + 999) / 1000, now = xdpmaps_now_ns(), suppressed = 0;
	enum banguard_result res;
	struct fg_cidr cidr;
	int err;

	if (!addr[0] || cidr_parse_addr(addr, &cidr))
		return;
	/* The peer was judged when its request came (it may be gone now);
	 * quotas count by its uid. */
	err = banguard_app_ban(*a->banguard, a->maps, uid, peer_may, &cidr, secs, now, &res);
	if (err && res == BANGUARD_NO_XDP)
		return; /* app-only mode: counted; the agent said so once per policy at load */
	if (err) {
		if (refusal_line(res, now, &suppressed))
			log_warn(refusal_msg(res), LOG_STR("policy", policy),
				 LOG_STR("source", addr), LOG_UINT("uid", uid),
				 LOG_STR("result", banguard_result_name(res)),
				 LOG_UINT("suppressed", suppressed), LOG_ERRNO(-err));
		return;
	}
	log_warn("app ban", LOG_STR("policy", policy), LOG_STR("source", addr),
		 LOG_UINT("for_s", secs), LOG_UINT("uid", uid));
	fleet_ban(*a->fleet, &cidr, secs);
}

static void reply_auth(struct client *c, const char *first, const struct rl_auth_result *r)
{
	reply_record(c, 2);
	field(c, first);
	reply_int(c, (long long)r->delay_ms);
	field(c, "failures");
	reply_int(c, (long long)r->failures);
}

/* What an answer needs besides itself: the policy's name (the policy may be
 * gone after a reload when a Redis answer arrives) and an IP-looking key. */
struct rl_ctx {
	struct deferred *d; /* the reply's place, when it comes later */
	const struct commands_env *a;
	char policy[FG_CONF_NAME_MAX];
	char addr[FG_CIDR_STRLEN]; /* RL.AUTH.FAIL: the key when it may be an address */
	uint32_t uid;		   /* the peer, for app ban quotas */
	bool may_ban;		   /* the peer may cause NIC bans (app_bans) */
	/* RL.AUTH.OK ... ADDR on a policy with vouch_on_success: the address
	 * to vouch for once the success is recorded, for vouch_s */
	bool vouch;
	bool may_vouch; /* the peer may vouch (vouch.peer_uids/gids) */
	struct fg_cidr vouch_addr;
	uint64_t vouch_s;
};

/* The fields of an RL.CHECK reply (RL_CHECK_FIELDS of them), for a record
 * the caller opened: RL.CHECK's and RL.CHARGE's own, the start of RL.CHECKM's. */
#define RL_CHECK_FIELDS 7
static void reply_check_fields(struct client *c, const struct rl_result *r)
{
	field(c, "allowed");
	reply_int(c, r->allowed);
	field(c, "limit");
	reply_int(c, (long long)r->limit);
	field(c, "remaining");
	reply_int(c, (long long)r->remaining);
	field(c, "reset_ms");
	reply_int(c, (long long)r->reset_ms);
	field(c, "retry_after_ms");
	reply_int(c, (long long)r->retry_after_ms);
	field(c, "state");
	reply_cstr(c, r->state);
	field(c, "window");
	reply_cstr(c, r->window);
}

static void rl_reply(struct client *c, const struct policy_answer *ans)
{
	switch (ans->op) {
	case POLICY_OP_CHECK:
	case POLICY_OP_CHARGE: {
		const struct rl_result *r = &ans->u.check;

		reply_record(c, RL_CHECK_FIELDS);
		reply_check_fields(c, r);
		break;
	}
	case POLICY_OP_AUTH_FAIL:
		reply_auth(c, "delay_ms", &ans->u.auth);
		break;
	case POLICY_OP_AUTH_CHECK:
		reply_auth(c, "wait_ms", &ans->u.auth);
		break;
	case POLICY_OP_EVENT:
		/* A policy with events: says which type's counter it was; one
		 * without keeps the three fields apps have always read. */
		reply_record(c, ans->u.event.type ? 4 : 3);
		field(c, "state");
		reply_cstr(c, ans->u.event.state);
		field(c, "count");
		reply_int(c, (long long)ans->u.event.count);
		field(c, "limit");
		reply_int(c, (long long)ans->u.event.limit);
		if (ans->u.event.type) {
			field(c, "type");
			reply_cstr(c, ans->u.event.type);
		}
		break;
	default:
		reply_ok(c);
	}
}

static void vouch_log_refusal(const char *what, const char *addr, uint32_t uid, enum vouch_result r,
			      uint64_t now_ns);

/* vouch_on_success: the application's word that this client logged in. */
static void auth_vouch(const struct rl_ctx *x)
{
	uint64_t now = xdpmaps_now_ns();
	char buf[FG_CIDR_STRLEN];
	enum vouch_result res;

	if (!*x->a->vouch)
		return; /* the agent is stopping */
	cidr_format(&x->vouch_addr, buf, sizeof(buf));
	if (vouch_add(*x->a->vouch, *x->a->banguard, x->a->maps, x->uid, x->may_vouch,
		      &x->vouch_addr, x->vouch_s, VOUCH_FROM_AUTH_OK, now, &res)) {
		if (res != VOUCH_NO_XDP)
			vouch_log_refusal(x->policy, buf, x->uid, res, now);
		return;
	}
	log_debug("vouch on success", LOG_STR("policy", x->policy), LOG_STR("source", buf),
		  LOG_UINT("for_s", x->vouch_s), LOG_UINT("uid", x->uid));
	fleet_vouch(*x->a->fleet, &x->vouch_addr, vouch_seconds(*x->a->vouch, x->vouch_s));
}

/* Side effects of an answer that do not depend on the client being there. */
static void rl_effects(const struct rl_ctx *x, const struct policy_answer *ans)
{
	if (x->vouch && ans->op == POLICY_OP_RESET)
		auth_vouch(x);
	if (ans->op != POLICY_OP_AUTH_FAIL)
		return;
	metrics_observe_auth_delay(*x->a->metrics, x->policy, ans->u.auth.delay_ms);
	if (ans->u.auth.ban)
		auth_ban(x->a, x->policy, x->addr, ans->u.auth.ban_for_ms, x->uid, x->may_ban);
}

/* A Redis answer (or its fallback), in the place its request left. */
static void rl_done(int err, const struct policy_answer *ans, void *arg)
{
	struct rl_ctx *x = arg;
	struct client *c;

	if (!err)
		rl_effects(x, ans);
	c = deferred_begin(x->d);
	if (c && err)
		reply_error(c, "ERR policy '%s': %s", x->policy, strerror(-err));
	else if (c)
		rl_reply(c, ans);
	deferred_end(x->d);
	free(x);
}

/* Decide rq on p: answered now (memory store, Redis down) or, with Redis,
 * later; the client's next requests go on meanwhile, replies keep their order. */
static struct banguard_peer peer_of(struct client *c);

/* vouch: RL.AUTH.OK's ADDR (NULL: none), used when p has vouch_on_success. */
static void rl_submit(struct client *c, const struct commands_env *a, struct policy *p,
		      const char *cmd, const struct policy_req *rq, const struct fg_cidr *vouch)
{
	struct rl_ctx local, *x = &local;
	struct policy_answer ans;
	int r;

	if (*a->redis) {
		x = malloc(sizeof(*x));
		if (!x) {
			reply_error(c, "ERR out of memory");
			return;
		}
	}
	x->d = NULL;
	x->a = a;
	snprintf(x->policy, sizeof(x->policy), "%s", policy_name(p));
	x->addr[0] = '\0';
	if (rq->op == POLICY_OP_AUTH_FAIL && rq->klen < sizeof(x->addr) &&
	    !memchr(rq->key, '\0', rq->klen)) {
		memcpy(x->addr, rq->key, rq->klen);
		x->addr[rq->klen] = '\0';
	}
	x->uid = client_uid(c);
	x->may_ban = false;
	x->vouch = vouch && policy_conf(p)->vouch_on_success_ms;
	if (rq->op == POLICY_OP_AUTH_FAIL || x->vouch) {
		struct banguard_peer peer = peer_of(c);

		x->may_ban =
			rq->op == POLICY_OP_AUTH_FAIL && banguard_peer_may_ban(*a->banguard, &peer);
		/* judged now: the peer may be gone when a Redis answer comes */
		x->may_vouch = x->vouch && vouch_peer_may(*a->vouch, &peer);
	}
	if (x->vouch) {
		x->vouch_addr = *vouch;
		x->vouch_s = (policy_conf(p)->vouch_on_success_ms + 999) / 1000;
	}
	r = policy_submit(p, rq, clock_realtime_ms(), &ans, rl_done, x);
	if (r == 1) {
		/* The answer comes from the loop, never before this returns. */
		x->d = client_defer(c);
		return;
	}
	if (r == -ENOENT && rq->op == POLICY_OP_EVENT) {
		event_type_error(c, p, rq);
	} else if (r < 0) {
		policy_error(c, p, r, cmd);
	} else {
		rl_effects(x, &ans);
		rl_reply(c, &ans);
	}
	if (x != &local)
		free(x);
}

static void cmd_rl_check(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct policy_req rq = { .op = POLICY_OP_CHECK, .cost = 1 };
	struct policy *p;
	int i;

	for (i = 3; i < argc; i++) {
		if (resp_arg_is(&argv[i], "COST") && i + 1 < argc) {
			if (!arg_u64(&argv[++i], &rq.cost)) {
				reply_error(c, "ERR COST must be a non-negative integer");
				return;
			}
		} else if (resp_arg_is(&argv[i], "ROLE") && i + 1 < argc) {
			rq.role = argv[++i].ptr;
			rq.rlen = argv[i].len;
		} else if (resp_arg_is(&argv[i], "PEEK")) {
			rq.peek = true;
		} else {
			reply_error(c,
				    "ERR syntax error at '%.*s': RL.CHECK policy key [COST n] "
				    "[ROLE r] [PEEK]",
				    (int)(argv[i].len > 32 ? 32 : argv[i].len), argv[i].ptr);
			return;
		}
	}
	p = find_policy(a, c, &argv[1]);
	if (!p)
		return;
	rq.key = argv[2].ptr;
	rq.klen = argv[2].len;
	rl_submit(c, a, p, "RL.CHECK", &rq, NULL);
}

/* --- CL.THROTTLE: limits given with the call (redis-cell's command) -------- */

struct cl_ctx {
	struct deferred *d; /* the reply's place, when it comes later */
	const struct commands_env *a;
};

/* redis-cell's reply: limited, limit, remaining, retry_after, reset_after. */
static void cl_reply(struct client *c, const struct policy_cell_answer *r)
{
	reply_array(c, 5);
	reply_int(c, r->limited);
	reply_int(c, r->limit);
	reply_int(c, r->remaining);
	reply_int(c, r->retry_after_s);
	reply_int(c, r->reset_after_s);
}

static void cl_error(struct client *c, const struct commands_env *a, int err)
{
	struct fg_conf_per_call pc = { 0 };

	if (*a->policies)
		policies_cell(*a->policies, &pc, NULL);
	switch (err) {
	case -EOPNOTSUPP:
		reply_error(c, "ERR CL.THROTTLE is disabled on this agent (per_call_limits.enabled "
			       "is false in its config)");
		break;
	case -EINVAL:
		reply_error(c, "ERR CL.THROTTLE: count and period must be at least 1");
		break;
	case -ERANGE:
		reply_error(c,
			    "ERR CL.THROTTLE: above per_call_limits: max_burst at most %llu, count "
			    "at most %llu, period at most %llu seconds",
			    (unsigned long long)pc.max_burst, (unsigned long long)pc.max_count,
			    (unsigned long long)(pc.max_period_ms / 1000));
		break;
	case -EOVERFLOW:
		reply_error(c,
			    "ERR CL.THROTTLE: (max_burst + 1) x period / count is longer than %llu "
			    "days; lower max_burst or period",
			    (unsigned long long)(FG_CONF_PER_CALL_PERIOD_MAX / 86400000));
		break;
	case -E2BIG:
		reply_error(c, "ERR key is longer than %d bytes", POLICY_KEY_MAX);
		break;
	default:
		reply_error(c, "ERR CL.* failed: %s", strerror(-err));
	}
}

/* CL.THROTTLE's answer (ans), CL.RESET's OK (no ans), or the error. */
static void cl_answer(struct client *c, const struct commands_env *a, int err,
		      const struct policy_cell_answer *ans)
{
	if (err < 0)
		cl_error(c, a, err);
	else if (ans)
		cl_reply(c, ans);
	else
		reply_ok(c);
}

static void cl_done(int err, const struct policy_cell_answer *ans, void *arg)
{
	struct cl_ctx *x = arg;
	struct client *c = deferred_begin(x->d);

	if (c)
		cl_answer(c, x->a, err, ans);
	deferred_end(x->d);
	free(x);
}

static void clr_done(int err, const struct policy_answer *ans, void *arg)
{
	(void)ans;
	cl_done(err, NULL, arg);
}

/* CL.THROTTLE (rq) or CL.RESET (rq NULL) of key: answered now (memory
 * store, Redis down) or, with Redis, later, in the order of requests. */
static void cl_submit(struct client *c, const struct commands_env *a,
		      const struct policy_cell_req *rq, const struct resp_arg *key)
{
	struct policy_cell_answer ans;
	struct cl_ctx *x = NULL;
	int r;

	if (!*a->policies) {
		cl_error(c, a, -EOPNOTSUPP);
		return;
	}
	if (*a->redis && !(x = calloc(1, sizeof(*x)))) {
		reply_error(c, "ERR out of memory");
		return;
	}
	if (x)
		x->a = a;
	r = rq ? policy_submit_cell(*a->policies, rq, clock_realtime_ms(), &ans, cl_done, x)
	       : policy_reset_cell(*a->policies, key->ptr, key->len, clock_realtime_ms(), clr_done,
				   x);
	if (r == 1) {
		x->d = client_defer(c);
		return;
	}
	cl_answer(c, a, r, rq ? &ans : NULL);
	free(x);
}

/* CL.THROTTLE key max_burst count period [quantity]: numbers as redis-cell
 * takes them, each refused with its name when it is not an integer >= 0. */
static void cmd_cl_throttle(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	static const char *const names[] = { "max_burst", "count", "period", "quantity" };
	struct policy_cell_req rq = { .key = argv[1].ptr, .klen = argv[1].len, .quantity = 1 };
	uint64_t *v[] = { &rq.max_burst, &rq.count, &rq.period_s, &rq.quantity };
	int i;

	if (argc != 5 && argc != 6) {
		reply_error(c, "ERR wrong number of arguments: CL.THROTTLE key max_burst count "
			       "period [quantity]");
		return;
	}
	for (i = 2; i < argc; i++) {
		if (!arg_u64(&argv[i], v[i - 2]) || *v[i - 2] > POLICY_COST_MAX) {
			reply_error(c,
				    "ERR CL.THROTTLE %s must be an integer from 0 to %llu, got "
				    "'%.*s'",
				    names[i - 2], (unsigned long long)POLICY_COST_MAX,
				    (int)(argv[i].len > 32 ? 32 : argv[i].len), argv[i].ptr);
			return;
		}
	}
	if (!rq.count || !rq.period_s) {
		reply_error(c, "ERR CL.THROTTLE %s must be at least 1",
			    rq.count ? "period (seconds)" : "count (requests per period)");
		return;
	}
	cl_submit(c, ctx, &rq, &argv[1]);
}

/* CL.RESET key: forget CL.THROTTLE's state of key (floodgate's own; redis-cell
 * has none: there a DEL of the key does it). */
static void cmd_cl_reset(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	cl_submit(c, ctx, NULL, &argv[1]);
}

/* RL.POLICY [name [ROLE r]]: a policy's quotas and parameters and a ready
 * RateLimit-Policy value; without a name the configured names. */
static void cmd_rl_policy(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	static const char *const on_err[] = { "memory", "allow", "deny" };
	const struct commands_env *a = ctx;
	const struct fg_conf_policy *pc;
	const char *role = NULL;
	struct policy_desc d;
	struct policy *p;
	char hdr[4096]; /* 17 event types with 63-character names fit */
	size_t i, n = *a->policies ? policies_count(*a->policies) : 0;
	int k;

	if (argc == 1) {
		reply_array(c, n);
		for (i = 0; i < n; i++)
			reply_cstr(c, policy_name(policies_at(*a->policies, i)));
		return;
	}
	if (argc == 4 && resp_arg_is(&argv[2], "ROLE")) {
		role = argv[3].ptr;
	} else if (argc != 2) {
		reply_error(c, "ERR syntax error: RL.POLICY [policy [ROLE r]]");
		return;
	}
	p = find_policy(a, c, &argv[1]);
	if (!p)
		return;
	if (policy_describe(p, role, role ? argv[3].len : 0, &d, hdr, sizeof(hdr))) {
		policy_error(c, p, -ENOENT, "RL.POLICY");
		return;
	}
	pc = policy_conf(p);
	reply_record(c, 8 + (size_t)d.nparam);
	field(c, "name");
	reply_cstr(c, policy_name(p));
	field(c, "type");
	reply_cstr(c, policy_type_name(p));
	field(c, "quotas");
	reply_array(c, (size_t)d.nq);
	for (k = 0; k < d.nq; k++) {
		reply_record(c, 3);
		field(c, "window");
		reply_cstr(c, d.q[k].window);
		field(c, "quota");
		reply_int(c, (long long)d.q[k].quota);
		field(c, "window_ms");
		reply_int(c, (long long)d.q[k].window_ms);
	}
	for (k = 0; k < d.nparam; k++) {
		field(c, d.param[k].name);
		if (d.param[k].s)
			reply_cstr(c, d.param[k].s);
		else
			reply_int(c, (long long)d.param[k].v);
	}
	field(c, "warn_at_milli");
	reply_int(c, pc->warn_at_milli);
	field(c, "role");
	if (d.role)
		reply_cstr(c, d.role);
	else
		reply_null(c);
	field(c, "roles");
	reply_array(c, (size_t)pc->nroles);
	for (k = 0; k < pc->nroles; k++)
		reply_cstr(c, pc->roles[k].name);
	field(c, "on_store_error");
	reply_cstr(c, on_err[pc->on_store_error]);
	field(c, "ratelimit_policy");
	reply_cstr(c, hdr);
}

/* RL.CHECKM: the pairs' names and keys, for the reply (a Redis answer may
 * come after a reload). */
struct rlm_ctx {
	struct deferred *d;
	size_t n;
	char policy[POLICY_MULTI_MAX][FG_CONF_NAME_MAX];
	const char *key[POLICY_MULTI_MAX]; /* into keys */
	size_t klen[POLICY_MULTI_MAX];
	char keys[];
};

static void rlm_reply(struct client *c, const struct rlm_ctx *x,
		      const struct policy_multi_answer *ans)
{
	const struct rl_result *r = &ans->check;
	int b = ans->binding;

	reply_record(c, RL_CHECK_FIELDS + 3);
	reply_check_fields(c, r);
	field(c, "refused");
	reply_int(c, ans->refused);
	field(c, "policy");
	reply_cstr(c, x->policy[b]);
	field(c, "key");
	reply_bulk(c, x->key[b], x->klen[b]);
}

static void rlm_error(struct client *c, int err)
{
	if (err == -EXDEV)
		reply_error(c, "ERR RL.CHECKM: Redis Cluster keeps these keys in different hash "
			       "slots, so they cannot be decided atomically; nothing was charged "
			       "(docs/redis.md, RL.CHECKM on Redis Cluster)");
	else
		reply_error(c, "ERR RL.CHECKM failed: %s", strerror(-err));
}

static void rlm_done(int err, const struct policy_multi_answer *ans, void *arg)
{
	struct rlm_ctx *x = arg;
	struct client *c = deferred_begin(x->d);

	if (c && err)
		rlm_error(c, err);
	else if (c)
		rlm_reply(c, x, ans);
	deferred_end(x->d);
	free(x);
}

/* RL.CHECKM numpairs policy key [policy key ...] [COST n] [ROLE r] [PEEK] */
static void cmd_rl_checkm(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct policy_pair pairs[POLICY_MULTI_MAX];
	struct policy_multi_answer ans;
	const char *role = NULL;
	size_t rlen = 0, total = 0, off = 0;
	uint64_t n, cost = 1;
	struct rlm_ctx *x;
	bool peek = false;
	int i, r, bad;

	if (!arg_u64(&argv[1], &n) || n < 1 || n > POLICY_MULTI_MAX) {
		reply_error(c, "ERR numpairs must be an integer from 1 to %d", POLICY_MULTI_MAX);
		return;
	}
	if ((uint64_t)argc < 2 + 2 * n) {
		reply_error(c, "ERR RL.CHECKM %llu needs %llu policy key pairs",
			    (unsigned long long)n, (unsigned long long)n);
		return;
	}
	for (i = 2 + 2 * (int)n; i < argc; i++) {
		if (resp_arg_is(&argv[i], "COST") && i + 1 < argc) {
			if (!arg_u64(&argv[++i], &cost)) {
				reply_error(c, "ERR COST must be a non-negative integer");
				return;
			}
		} else if (resp_arg_is(&argv[i], "ROLE") && i + 1 < argc) {
			role = argv[++i].ptr;
			rlen = argv[i].len;
		} else if (resp_arg_is(&argv[i], "PEEK")) {
			peek = true;
		} else {
			reply_error(c,
				    "ERR syntax error at '%.*s': RL.CHECKM numpairs policy key "
				    "[policy key ...] [COST n] [ROLE r] [PEEK]",
				    (int)(argv[i].len > 32 ? 32 : argv[i].len), argv[i].ptr);
			return;
		}
	}
	for (i = 0; i < (int)n; i++) {
		pairs[i].p = find_policy(a, c, &argv[2 + 2 * i]);
		if (!pairs[i].p)
			return;
		pairs[i].key = argv[3 + 2 * i].ptr;
		pairs[i].klen = argv[3 + 2 * i].len;
		total += pairs[i].klen;
	}
	x = malloc(sizeof(*x) + total);
	if (!x) {
		reply_error(c, "ERR out of memory");
		return;
	}
	x->d = NULL;
	x->n = n;
	for (i = 0; i < (int)n; i++) {
		snprintf(x->policy[i], sizeof(x->policy[i]), "%s", policy_name(pairs[i].p));
		memcpy(x->keys + off, pairs[i].key, pairs[i].klen);
		x->key[i] = x->keys + off;
		x->klen[i] = pairs[i].klen;
		off += pairs[i].klen;
	}
	r = policy_submit_multi(*a->policies, pairs, n, cost, role, rlen, peek, clock_realtime_ms(),
				&ans, rlm_done, x, &bad);
	if (r == 1) {
		x->d = client_defer(c);
		return;
	}
	if (r == -EALREADY)
		reply_error(c,
			    "ERR RL.CHECKM: pair %d repeats an earlier pair (%s and the same key)",
			    bad + 1, x->policy[bad]);
	else if (r == -ENOENT && role)
		reply_error(c, "ERR unknown role: none of the RL.CHECKM policies lists it under "
			       "roles: (ROLE applies to the pairs whose policy lists it)");
	else if (r == -EXDEV)
		rlm_error(c, r);
	else if (r < 0)
		policy_error(c, pairs[bad].p, r, "RL.CHECKM");
	else
		rlm_reply(c, x, &ans);
	free(x);
}

/* RL.CHARGE, RL.REFUND policy key amount [ROLE r]. */
static void rl_charge(struct client *c, int argc, const struct resp_arg *argv,
		      const struct commands_env *a, const char *name, bool refund)
{
	struct policy_req rq = { .op = POLICY_OP_CHARGE, .refund = refund };
	struct policy *p;

	if (!arg_u64(&argv[3], &rq.cost) || rq.cost > POLICY_COST_MAX) {
		reply_error(c, "ERR amount must be an integer from 0 to %llu%s", POLICY_COST_MAX,
			    !refund && argv[3].len && argv[3].ptr[0] == '-'
				    ? " (RL.REFUND gives an amount back)"
				    : "");
		return;
	}
	if (argc == 6 && resp_arg_is(&argv[4], "ROLE")) {
		rq.role = argv[5].ptr;
		rq.rlen = argv[5].len;
	} else if (argc != 4) {
		reply_error(c, "ERR syntax error: %s policy key amount [ROLE r]", name);
		return;
	}
	p = find_policy(a, c, &argv[1]);
	if (!p)
		return;
	rq.key = argv[2].ptr;
	rq.klen = argv[2].len;
	rl_submit(c, a, p, name, &rq, NULL);
}

static void cmd_rl_charge(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	rl_charge(c, argc, argv, ctx, "RL.CHARGE", false);
}

static void cmd_rl_refund(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	rl_charge(c, argc, argv, ctx, "RL.REFUND", true);
}

/* RL.AUTH.FAIL, RL.AUTH.CHECK, RL.AUTH.OK, RL.CONN.CLOSE, RL.UNBLOCK,
 * RL.RESET: policy, key. need: what the policy's type must also decide
 * (RL.AUTH.OK resets a policy that takes RL.AUTH.FAIL; POLICY_OP_RESET:
 * any type). One handler each, so the server's lookup already says which. */
static void rl_key_op_vouch(struct client *c, const struct resp_arg *argv,
			    const struct commands_env *a, const char *name, enum policy_op op,
			    enum policy_op need, const struct fg_cidr *vouch)
{
	struct policy_req rq = { .op = op, .key = argv[2].ptr, .klen = argv[2].len };
	struct policy *p = find_policy(a, c, &argv[1]);

	if (!p)
		return;
	if (!policy_supports(p, need)) {
		policy_error(c, p, -EOPNOTSUPP, name);
		return;
	}
	rl_submit(c, a, p, name, &rq, vouch);
}

static void rl_key_op(struct client *c, const struct resp_arg *argv, const struct commands_env *a,
		      const char *name, enum policy_op op, enum policy_op need)
{
	rl_key_op_vouch(c, argv, a, name, op, need, NULL);
}

static bool cidr_arg(struct client *c, const struct resp_arg *arg, bool addr_only,
		     struct fg_cidr *out);

static void cmd_rl_auth_fail(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	rl_key_op(c, argv, ctx, "RL.AUTH.FAIL", POLICY_OP_AUTH_FAIL, POLICY_OP_RESET);
}

static void cmd_rl_auth_check(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	rl_key_op(c, argv, ctx, "RL.AUTH.CHECK", POLICY_OP_AUTH_CHECK, POLICY_OP_RESET);
}

/* RL.AUTH.OK policy key [ADDR addr]: addr is the client's address, which a
 * policy with vouch_on_success vouches for (never guessed from the key). */
static void cmd_rl_auth_ok(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct fg_cidr addr;

	if (argc == 3) {
		rl_key_op(c, argv, ctx, "RL.AUTH.OK", POLICY_OP_RESET, POLICY_OP_AUTH_FAIL);
		return;
	}
	if (argc != 5 || !resp_arg_is(&argv[3], "ADDR")) {
		reply_error(c, "ERR RL.AUTH.OK policy key [ADDR client-address]");
		return;
	}
	if (!cidr_arg(c, &argv[4], true, &addr))
		return;
	rl_key_op_vouch(c, argv, ctx, "RL.AUTH.OK", POLICY_OP_RESET, POLICY_OP_AUTH_FAIL, &addr);
}

static void cmd_rl_conn_close(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	rl_key_op(c, argv, ctx, "RL.CONN.CLOSE", POLICY_OP_RESET, POLICY_OP_EVENT);
}

static void cmd_rl_unblock(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	rl_key_op(c, argv, ctx, "RL.UNBLOCK", POLICY_OP_UNBLOCK, POLICY_OP_RESET);
}

static void cmd_rl_reset(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	rl_key_op(c, argv, ctx, "RL.RESET", POLICY_OP_RESET, POLICY_OP_RESET);
}

static void cmd_rl_event(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct policy_req rq = { .op = POLICY_OP_EVENT };
	struct policy *p = find_policy(ctx, c, &argv[1]);

	(void)argc;
	if (!p)
		return;
	rq.key = argv[2].ptr;
	rq.klen = argv[2].len;
	rq.event = argv[3].ptr;
	rq.elen = argv[3].len;
	rl_submit(c, ctx, p, "RL.EVENT", &rq, NULL);
}

static void cmd_rl_block(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	struct policy_req rq = { .op = POLICY_OP_BLOCK };
	struct policy *p;

	(void)argc;
	if (!arg_u64(&argv[3], &rq.seconds) || !rq.seconds || rq.seconds > POLICY_BLOCK_MAX_S) {
		reply_error(c, "ERR seconds must be an integer from 1 to %llu (365 days)",
			    POLICY_BLOCK_MAX_S);
		return;
	}
	p = find_policy(ctx, c, &argv[1]);
	if (!p)
		return;
	rq.key = argv[2].ptr;
	rq.klen = argv[2].len;
	rl_submit(c, ctx, p, "RL.BLOCK", &rq, NULL);
}

/* --- XDP ----------------------------------------------------------------- */

/* Parse a CIDR argument, replying with an error when it is not one. */
static bool cidr_arg(struct client *c, const struct resp_arg *arg, bool addr_only,
		     struct fg_cidr *out)
{
	char buf[FG_CIDR_STRLEN + 8];

	bool str = arg_str(arg, buf, sizeof(buf));

	if (str && !(addr_only ? cidr_parse_addr(buf, out) : cidr_parse(buf, out)))
		return true;
	if (str && !addr_only && !cidr_parse_loose(buf, out)) {
		char want[FG_CIDR_STRLEN];

		reply_error(c, "ERR '%s' has host bits set beyond /%u (did you mean %s?)", buf,
			    out->prefixlen, cidr_format(out, want, sizeof(want)));
		return false;
	}
	reply_error(c, "ERR '%.*s' is not %s (like 198.51.100.7%s or 2001:db8::1%s)",
		    (int)(arg->len > 64 ? 64 : arg->len), arg->ptr,
		    addr_only ? "an IP address" : "an address or CIDR prefix",
		    addr_only ? "" : ", 198.51.100.0/24", addr_only ? "" : ", 2001:db8::/48");
	return false;
}

/* An operator's ban or deny entry must not cut the host off its network
 * (hostaddr_cuts_off()): refused, saying what it holds. What must go
 * anyway goes in the config file's deny list. */
static bool keeps_host(struct client *c, const struct fg_cidr *cidr, const char *verb)
{
	char why[256];

	if (!hostaddr_refuses(cidr, verb, why, sizeof(why)))
		return true;
	reply_error(c, "ERR %s", why);
	return false;
}

/* A monotonic expiry as Unix ms; 0 stays 0 (no ban), "never" is -1. */
static long long ban_until_ms(const struct fg_ban *b, uint64_t mono_now, uint64_t real_now)
{
	if (!b->expires_ns)
		return -1;
	if (b->expires_ns <= mono_now)
		return 0;
	return (long long)(real_now + (b->expires_ns - mono_now) / 1000000);
}

/* The ban that drops c now (its own, else the longest prefix holding it),
 * as Unix ms (0 when none). */
static long long banned_until(const struct commands_env *a, const struct fg_cidr *c)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_ban b;

	if (xdpmaps_banned(a->maps, c, now, &b))
		return 0;
	return ban_until_ms(&b, now, clock_realtime_ms());
}

struct source_sum {
	uint64_t new_flows, dropped, violations;
	long long tokens; /* fewest over the rules; -1 when unlimited */
};

/* Sum an address's (or prefix's) state over every rule that tracks it. */
static void source_sum(const struct commands_env *a, const struct fg_cidr *c, bool prefix,
		       struct source_sum *out)
{
	uint64_t now = xdpmaps_now_ns();
	uint16_t id;

	memset(out, 0, sizeof(*out));
	out->tokens = -1;
	for (id = 0; id < FG_MAX_RULES; id++) {
		const struct fg_rule *r = &(*a->compiled)->rules[id];
		const struct fg_limit *l = prefix ? &r->per_prefix : &r->per_source;
		struct fg_src_state st;
		long long t;

		if (!(*a->compiled)->ids.names[id][0] || xdpmaps_source(a->maps, c, id, &st))
			continue;
		out->new_flows += fg_src_new_flows(&st);
		out->dropped += st.dropped;
		out->violations += st.violations;
		if (!l->rate)
			continue;
		t = (long long)xdpmaps_tokens(st.tat_ns, l, now);
		if (out->tokens < 0 || t < out->tokens)
			out->tokens = t;
	}
}

static void reply_sum(struct client *c, const char *pfx, const struct source_sum *s,
		      long long banned)
{
	char name[32];

	snprintf(name, sizeof(name), "%snew_flows", pfx);
	reply_cstr(c, name);
	reply_int(c, (long long)s->new_flows);
	snprintf(name, sizeof(name), "%sdropped", pfx);
	reply_cstr(c, name);
	reply_int(c, (long long)s->dropped);
	snprintf(name, sizeof(name), "%stokens", pfx);
	reply_cstr(c, name);
	reply_int(c, s->tokens);
	snprintf(name, sizeof(name), "%sviolations", pfx);
	reply_cstr(c, name);
	reply_int(c, (long long)s->violations);
	snprintf(name, sizeof(name), "%sbanned_until_ms", pfx);
	reply_cstr(c, name);
	reply_int(c, banned);
}

static void cmd_xdp_source(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	char buf[FG_CIDR_STRLEN];
	struct source_sum addr_sum, pfx_sum;
	struct fg_cidr addr, pfx;
	struct fg_verified v;
	uint64_t until = 0, now = xdpmaps_now_ns();
	int by = -1;

	(void)argc;
	if (!cidr_arg(c, &argv[1], true, &addr))
		return;
	if (!xdpmaps_verified(a->maps, &addr, &v))
		by = xdpmaps_verified_by(&v, a->conf->verified_ttl_ms * 1000000ULL, now, &until);
	pfx = addr;
	cidr_mask(&pfx, addr.family == FG_AF_INET ? a->conf->ipv4_prefix : a->conf->ipv6_prefix);
	source_sum(a, &addr, false, &addr_sum);
	source_sum(a, &pfx, true, &pfx_sum);

	reply_map(c, 15);
	reply_cstr(c, "address");
	reply_cstr(c, cidr_format(&addr, buf, sizeof(buf)));
	reply_cstr(c, "verified");
	reply_int(c, by >= 0);
	/* how (tcp, vouched, fleet) and until when (Unix ms; 0: not verified) */
	reply_cstr(c, "verified_by");
	reply_cstr(c, by >= 0 ? xdpmaps_verified_origin_name((uint32_t)by) : "none");
	reply_cstr(c, "verified_until_ms");
	reply_int(c, by >= 0 ? (long long)(clock_realtime_ms() + (until - now) / 1000000) : 0);
	reply_sum(c, "", &addr_sum, banned_until(a, &addr));
	reply_cstr(c, "prefix");
	reply_cstr(c, cidr_format(&pfx, buf, sizeof(buf)));
	reply_sum(c, "prefix_", &pfx_sum, banned_until(a, &pfx));
}

static void cmd_xdp_top(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct xdpmaps_top_entry *top;
	bool by_drops = false;
	uint64_t n;
	int i, got;

	if (!arg_u64(&argv[1], &n) || n < 1 || n > TOP_MAX) {
		reply_error(c, "ERR n must be an integer from 1 to %d", TOP_MAX);
		return;
	}
	if (argc > 3) {
		reply_error(c, "ERR XDP.TOP n [NEW|DROPS]");
		return;
	}
	if (argc == 3) {
		if (resp_arg_is(&argv[2], "DROPS")) {
			by_drops = true;
		} else if (!resp_arg_is(&argv[2], "NEW")) {
			reply_error(c, "ERR XDP.TOP n [NEW|DROPS]");
			return;
		}
	}
	top = calloc(n, sizeof(*top));
	if (!top) {
		reply_error(c, "ERR out of memory");
		return;
	}
	got = xdpmaps_top(a->maps, (int)n, by_drops, top);
	if (got < 0) {
		reply_error(c, "ERR cannot read the source table: %s", strerror(-got));
		free(top);
		return;
	}
	reply_array(c, (size_t)got);
	for (i = 0; i < got; i++) {
		char buf[FG_CIDR_STRLEN];
		struct fg_cidr addr;
		uint16_t rule = top[i].key.rule;

		cidr_from_src_key(&top[i].key, &addr);
		reply_record(c, 4);
		field(c, "address");
		reply_cstr(c, cidr_format(&addr, buf, sizeof(buf)));
		field(c, "rule");
		reply_cstr(c, rule < FG_MAX_RULES && (*a->compiled)->ids.names[rule][0]
				      ? (*a->compiled)->ids.names[rule]
				      : "?");
		field(c, "new_flows");
		reply_int(c, (long long)top[i].new_flows);
		field(c, "dropped");
		reply_int(c, (long long)top[i].dropped);
	}
	free(top);
}

static void cmd_xdp_ban(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr cidr;
	uint64_t secs;
	int err;

	(void)argc;
	if (!cidr_arg(c, &argv[1], false, &cidr) || !keeps_host(c, &cidr, "ban"))
		return;
	if (!arg_u64(&argv[2], &secs) || secs > XDP_BAN_MAX_S) {
		reply_error(c, "ERR seconds must be an integer from 0 (no end) to %llu",
			    (unsigned long long)XDP_BAN_MAX_S);
		return;
	}
	/* A full map makes room by evicting the oldest app ban. */
	err = banguard_ban(*a->banguard, a->maps, &cidr, secs, FG_BAN_MANUAL, xdpmaps_now_ns());
	if (err) {
		reply_error(c, "ERR cannot ban: %s", strerror(-err));
		return;
	}
	log_info("manual ban", LOG_STR("source", cidr_format(&cidr, buf, sizeof(buf))),
		 LOG_UINT("for_s", secs), LOG_UINT("uid", client_uid(c)));
	fleet_ban(*a->fleet, &cidr, secs);
	reply_ok(c);
}

static void cmd_xdp_unban(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr cidr;
	int err;

	(void)argc;
	if (!cidr_arg(c, &argv[1], false, &cidr))
		return;
	err = xdpmaps_unban(a->maps, &cidr);
	if (err == -ENOENT) {
		reply_error(c, "ERR %s is not banned (see XDP.LIST BANS)",
			    cidr_format(&cidr, buf, sizeof(buf)));
		return;
	}
	if (err) {
		reply_error(c, "ERR cannot unban: %s", strerror(-err));
		return;
	}
	banguard_forget(*a->banguard, &cidr);
	log_info("unban", LOG_STR("source", cidr_format(&cidr, buf, sizeof(buf))),
		 LOG_UINT("uid", client_uid(c)));
	fleet_unban(*a->fleet, &cidr);
	reply_ok(c);
}

/* The socket peer as the guards judge it. */
static struct banguard_peer peer_of(struct client *c)
{
	struct banguard_peer peer = { .uid = client_uid(c), .gid = client_gid(c) };
	const gid_t *groups;

	peer.ngroups = client_groups(c, &groups);
	peer.groups = groups;
	return peer;
}

static const char *vouch_refusal(enum vouch_result r)
{
	switch (r) {
	case VOUCH_REFUSED_PEER:
		return "this socket peer may not vouch (root, socket.admin_uids/gids and "
		       "vouch.peer_uids/peer_gids may)";
	case VOUCH_REFUSED_ADDRESS:
		return "not a unicast address of a client: the host's own, unspecified, "
		       "loopback, broadcast, multicast, reserved or IPv4-mapped (give the IPv4 "
		       "address)";
	case VOUCH_DENIED:
		return "the address is on the deny list";
	case VOUCH_BANNED:
		return "the address is banned (XDP.UNBAN it first if that is wrong)";
	case VOUCH_RATE:
		return "this peer vouches faster than vouch.rate; try again later";
	case VOUCH_QUOTA:
		return "vouches are at their quota (vouch.max, vouch.per_peer); XDP.UNVOUCH some "
		       "or wait for them to end";
	default:
		return "the verified map refused it";
	}
}

/* Refused vouches are logged at most once a second per result. */
static void vouch_log_refusal(const char *what, const char *addr, uint32_t uid, enum vouch_result r,
			      uint64_t now_ns)
{
	static struct log_gate gates[VOUCH_RESULT_MAX];
	uint64_t suppressed;

	if (log_gate_due(&gates[r], now_ns, &suppressed))
		log_warn("vouch refused", LOG_STR("by", what), LOG_STR("source", addr),
			 LOG_UINT("uid", uid), LOG_STR("result", vouch_result_name(r)),
			 LOG_UINT("suppressed", suppressed));
}

/* XDP.VOUCH addr [seconds]: the answer is the seconds granted. */
static void cmd_xdp_vouch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct banguard_peer peer = peer_of(c);
	uint64_t secs = 0, now = xdpmaps_now_ns();
	char buf[FG_CIDR_STRLEN];
	enum vouch_result res;
	struct fg_cidr cidr;
	int err;

	if (argc > 3) {
		reply_error(c, "ERR XDP.VOUCH addr [seconds]");
		return;
	}
	if (!cidr_arg(c, &argv[1], true, &cidr))
		return;
	if (argc == 3 &&
	    (!arg_u64(&argv[2], &secs) || !secs || secs > a->conf->vouch.max_duration_ms / 1000)) {
		reply_error(c,
			    "ERR seconds must be an integer from 1 to %llu (vouch.max_duration); "
			    "without it the vouch lasts sources.verified_ttl",
			    (unsigned long long)(a->conf->vouch.max_duration_ms / 1000));
		return;
	}
	err = vouch_add(*a->vouch, *a->banguard, a->maps, peer.uid,
			vouch_peer_may(*a->vouch, &peer), &cidr, secs, VOUCH_FROM_SOCKET, now,
			&res);
	cidr_format(&cidr, buf, sizeof(buf));
	if (err) {
		vouch_log_refusal("XDP.VOUCH", buf, peer.uid, res, now);
		reply_error(c, "%s vouch for %s refused: %s",
			    res == VOUCH_REFUSED_PEER ? "NOPERM" : "ERR", buf, vouch_refusal(res));
		return;
	}
	secs = vouch_seconds(*a->vouch, secs);
	log_info("vouch", LOG_STR("source", buf), LOG_UINT("for_s", secs),
		 LOG_UINT("uid", peer.uid));
	fleet_vouch(*a->fleet, &cidr, secs);
	reply_int(c, (long long)secs);
}

static void cmd_xdp_unvouch(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct banguard_peer peer = peer_of(c);
	char buf[FG_CIDR_STRLEN];
	struct fg_cidr cidr;
	int err;

	(void)argc;
	if (!cidr_arg(c, &argv[1], true, &cidr))
		return;
	cidr_format(&cidr, buf, sizeof(buf));
	if (!vouch_peer_may(*a->vouch, &peer)) {
		reply_error(c, "NOPERM unvouch %s refused: %s", buf,
			    vouch_refusal(VOUCH_REFUSED_PEER));
		return;
	}
	err = vouch_remove(*a->vouch, a->maps, &cidr, xdpmaps_now_ns());
	if (err == -ENOENT) {
		reply_error(c, "ERR %s is not vouched for (see XDP.SOURCE %s)", buf, buf);
		return;
	}
	if (err) {
		reply_error(c, "ERR cannot unvouch %s: %s", buf, strerror(-err));
		return;
	}
	log_info("unvouch", LOG_STR("source", buf), LOG_UINT("uid", peer.uid));
	fleet_unvouch(*a->fleet, &cidr);
	reply_ok(c);
}

/* XDP.ALLOW / XDP.DENY cidr [DEL]; ctx of the registration says which. */
static void list_edit(struct client *c, int argc, const struct resp_arg *argv,
		      const struct commands_env *a, bool allow)
{
	bool del = false;
	struct fg_cidr cidr;
	int err;

	if (!cidr_arg(c, &argv[1], false, &cidr))
		return;
	if (argc > 3 || (argc == 3 && !resp_arg_is(&argv[2], "DEL"))) {
		reply_error(c, "ERR %s cidr [DEL]", allow ? "XDP.ALLOW" : "XDP.DENY");
		return;
	}
	del = argc == 3;
	if (!allow && !del && !keeps_host(c, &cidr, "deny"))
		return;
	err = a->list_edit(a->arg, allow, &cidr, del);
	if (err == -ENOENT) {
		reply_error(c, "ERR not on the %s list", allow ? "allow" : "deny");
		return;
	}
	if (err == -EEXIST) {
		reply_error(c,
			    del ? "ERR that entry comes from the config file's %s list: remove it "
				  "there and reload"
				: "ERR already on the %s list of the config file (nothing added)",
			    allow ? "allow" : "deny");
		return;
	}
	/* Said, not answered OK: "::ffff:192.0.2.1" is 192.0.2.1, and an
	 * operator who thinks an entry was added must learn it was there. */
	if (err == -EALREADY) {
		reply_error(c, "ERR already on the %s list (nothing added)",
			    allow ? "allow" : "deny");
		return;
	}
	if (err) {
		reply_error(c, "ERR cannot change the %s list: %s", allow ? "allow" : "deny",
			    strerror(-err));
		return;
	}
	reply_ok(c);
}

static void cmd_xdp_allow(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	list_edit(c, argc, argv, ctx, true);
}

static void cmd_xdp_deny(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	list_edit(c, argc, argv, ctx, false);
}

struct list_reply {
	struct client *c;
	size_t n;
	uint64_t mono_now;
};

static int list_one(const struct fg_cidr *cidr, const struct fg_ban *ban, void *arg)
{
	struct list_reply *lr = arg;
	char buf[FG_CIDR_STRLEN];

	cidr_format(cidr, buf, sizeof(buf));
	if (!ban) {
		reply_cstr(lr->c, buf);
		lr->n++;
		return 0;
	}
	if (ban->expires_ns && ban->expires_ns <= lr->mono_now)
		return 0; /* expired, not swept yet */
	reply_array(lr->c, 3);
	reply_cstr(lr->c, buf);
	reply_cstr(lr->c, xdpmaps_origin_name(ban->origin));
	reply_int(lr->c, ban->expires_ns
				 ? (long long)((ban->expires_ns - lr->mono_now) / 1000000000ULL)
				 : -1);
	lr->n++;
	return 0;
}

static void cmd_xdp_list(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct list_reply lr = { .c = c, .mono_now = xdpmaps_now_ns() };
	enum xdpmaps_list l = XDPMAPS_DENY;
	bool bans = false;
	size_t h;

	(void)argc;
	if (resp_arg_is(&argv[1], "BANS")) {
		bans = true;
	} else if (resp_arg_is(&argv[1], "ALLOW")) {
		l = XDPMAPS_ALLOW;
	} else if (!resp_arg_is(&argv[1], "DENY")) {
		reply_error(c, "ERR XDP.LIST BANS|ALLOW|DENY");
		return;
	}
	h = reply_defer(c);
	if (bans)
		xdpmaps_bans_each(a->maps, list_one, &lr);
	else
		xdpmaps_list_each(a->maps, l, list_one, &lr);
	reply_set_array(c, h, lr.n);
}

static void cmd_xdp_stats(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct fg_stat st[FG_R_MAX];
	uint32_t r;
	int err;

	(void)argc;
	(void)argv;
	err = xdpmaps_stats(a->maps, st);
	if (err) {
		reply_error(c, "ERR cannot read the counters: %s", strerror(-err));
		return;
	}
	reply_map(c, FG_R_MAX);
	for (r = 0; r < FG_R_MAX; r++) {
		reply_cstr(c, xdpmaps_reason_name(r));
		reply_array(c, 4);
		reply_int(c, (long long)st[r].packets[0]);
		reply_int(c, (long long)st[r].packets[1]);
		reply_int(c, (long long)st[r].bytes[0]);
		reply_int(c, (long long)st[r].bytes[1]);
	}
}

/* A CONFIG RELOAD's answer, once the parse (off the loop) is applied. */
struct reload_reply {
	struct deferred *d;
	uid_t uid;
};

static void config_reloaded(int ret, const char *err, void *arg)
{
	struct reload_reply *r = arg;
	struct client *c = deferred_begin(r->d);

	if (ret)
		log_warn("reload rejected, running config kept", LOG_STR("error", err),
			 LOG_UINT("uid", r->uid));
	if (c && ret)
		reply_error(c, "ERR %s (the running config is kept)", err);
	else if (c)
		reply_ok(c);
	deferred_end(r->d);
	free(r);
}

/* What CONFIG GET answers: the settings tools read on connect
 * (redis-benchmark warns without them), truthfully: the agent persists
 * nothing the way Redis does. */
static const char *const config_settings[][2] = { { "save", "" }, { "appendonly", "no" } };
#define CONFIG_SETTINGS (sizeof(config_settings) / sizeof(config_settings[0]))

static void config_get(struct client *c, const struct resp_arg *pattern)
{
	bool hit[CONFIG_SETTINGS] = { false };
	size_t i, n = 0;

	for (i = 0; i < CONFIG_SETTINGS; i++) {
		hit[i] = glob_match(pattern->ptr, pattern->len, config_settings[i][0],
				    strlen(config_settings[i][0]));
		n += hit[i];
	}
	reply_map(c, n);
	for (i = 0; i < CONFIG_SETTINGS; i++)
		if (hit[i]) {
			reply_cstr(c, config_settings[i][0]);
			reply_cstr(c, config_settings[i][1]);
		}
}

static void cmd_config(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	const struct commands_env *a = ctx;
	struct reload_reply *r;
	int err;

	if (resp_arg_is(&argv[1], "GET") && argc == 3) {
		config_get(c, &argv[2]);
		return;
	}
	if (!resp_arg_is(&argv[1], "RELOAD")) {
		reply_error(c, "ERR CONFIG RELOAD is the only CONFIG subcommand");
		return;
	}
	if (argc != 2) {
		reply_error(c, "ERR wrong number of arguments: CONFIG RELOAD takes none");
		return;
	}
	if (!client_is_admin(c)) {
		reply_error(c, "NOPERM CONFIG RELOAD needs an admin peer (uid in socket.admin_uids "
			       "or gid in socket.admin_gids)");
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		reply_error(c, "ERR out of memory (the running config is kept)");
		return;
	}
	r->uid = client_uid(c);
	r->d = client_defer(c);
	if (!r->d) {
		free(r); /* the client was closed */
		return;
	}
	/* The answer waits for the parse; this client's and everyone else's
	 * other requests are served meanwhile. */
	err = a->reload_async(a->arg, config_reloaded, r);
	if (err)
		config_reloaded(err, strerror(-err), r);
}

/* App-only mode: every XDP.* name, whatever its arguments, says why it
 * cannot answer (rather than "unknown command" or an arity error). */
static void cmd_xdp_app_only(struct client *c, int argc, const struct resp_arg *argv, void *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	reply_error(c, COMMANDS_APP_ONLY_ERR);
}

/* --- INFO sections --------------------------------------------------------- */

/* Whether the namespace is set for cookies now, and each TCP rule's mode
 * and whether its SYNs are answered with cookies now. */
static void info_syn_cookies(struct sbuf *out, const struct commands_env *a, uint64_t now)
{
	const struct fg_compiled *c = *a->compiled;
	bool on = syncookies_on(a->maps), active;
	const char *mode;
	uint32_t id;

	sbuf_printf(out, "syn_cookies_on:%d\r\n", on);
	for (id = 0; id < FG_MAX_RULES; id++) {
		if (!c->ids.names[id][0])
			continue;
		mode = syncookies_rule_state(a->conf, c, a->maps, id, on, now, &active);
		if (mode)
			sbuf_printf(out, "syn_cookies_rule_%s:mode=%s,active=%d\r\n",
				    c->ids.names[id], mode, active);
	}
}

static void info_xdp(struct sbuf *out, void *ctx)
{
	const struct commands_env *a = ctx;
	struct fg_stat st[FG_R_MAX];
	uint64_t misc[FG_M_MAX] = { 0 }, now = xdpmaps_now_ns();
	uint64_t passed = 0, dropped = 0;
	int i, attack = 0;
	uint32_t r, id, prog;
	char peers[1024];

	if (!a->maps) {
		struct banguard_stats bs = { 0 };

		if (*a->banguard)
			banguard_stats(*a->banguard, &bs);
		sbuf_printf(out, "mode:app-only\r\nxdp_bans_not_applied:%llu\r\n",
			    (unsigned long long)bs.results[BANGUARD_NO_XDP]);
		return;
	}
	sbuf_printf(out, "mode:xdp\r\npin_dir:%s\r\n", a->loader->pin_dir);
	sbuf_printf(out, "host_peers:%s\r\n",
		    hostpeers_format(a->hostpeers, peers, sizeof(peers)));
	/* What the kernel has now, as /healthz reads it: another tool may
	 * have detached the program, an interface may have gone. */
	prog = loader_xdp_prog_id(a->loader->skel);
	for (i = 0; i < a->conf->nifaces; i++) {
		const char *name = a->conf->ifaces[i], *mode, *why = "";
		int ifindex = (int)if_nametoindex(name);
		bool on = loader_xdp_attached(prog, ifindex, &mode, &why);

		sbuf_printf(out, "iface_%s:mode=%s,ifindex=%d,attached=%d%s%s\r\n", name, mode,
			    ifindex, on, on ? "" : ",problem=", why);
	}
	sbuf_printf(out, "dry_run:%d\r\n", a->conf->dry_run);
	if (!xdpmaps_stats(a->maps, st))
		for (r = 0; r < FG_R_MAX; r++) {
			passed += st[r].packets[0];
			dropped += st[r].packets[1];
			sbuf_printf(out, "reason_%s:passed=%llu,dropped=%llu\r\n",
				    xdpmaps_reason_name(r), (unsigned long long)st[r].packets[0],
				    (unsigned long long)st[r].packets[1]);
		}
	sbuf_printf(out, "packets_passed:%llu\r\npackets_dropped:%llu\r\n",
		    (unsigned long long)passed, (unsigned long long)dropped);
	for (id = 0; id < FG_MAX_RULES; id++)
		if ((*a->compiled)->ids.names[id][0])
			sbuf_printf(out, "rule_id_%u:%s\r\n", id, (*a->compiled)->ids.names[id]);
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_global_state gs;

		if ((*a->compiled)->ids.names[id][0] && !xdpmaps_global(a->maps, id, &gs) &&
		    now < gs.attack_until_ns) {
			sbuf_printf(out, "under_attack_%s:1\r\n", (*a->compiled)->ids.names[id]);
			attack++;
		}
	}
	sbuf_printf(out, "rules_under_attack:%d\r\n", attack);
	info_syn_cookies(out, a, now);
	if (!xdpmaps_misc(a->maps, misc))
		sbuf_printf(out,
			    "events:%llu\r\nevents_lost:%llu\r\nbans_auto:%llu\r\n"
			    "syn_cookies_sent:%llu\r\nsyn_cookie_acks_valid:%llu\r\n"
			    "syn_cookie_acks_bad:%llu\r\nsyn_cookie_verified:%llu\r\n"
			    "syn_cookies_capped:%llu\r\nsyn_cookies_declined:%llu\r\n",
			    (unsigned long long)misc[FG_M_EVENTS],
			    (unsigned long long)misc[FG_M_EVENTS_LOST],
			    (unsigned long long)misc[FG_M_BANS_AUTO],
			    (unsigned long long)misc[FG_M_COOKIES_SENT],
			    (unsigned long long)misc[FG_M_COOKIE_ACKS_VALID],
			    (unsigned long long)misc[FG_M_COOKIE_ACKS_BAD],
			    (unsigned long long)misc[FG_M_COOKIE_VERIFIED],
			    (unsigned long long)misc[FG_M_COOKIES_CAPPED],
			    (unsigned long long)misc[FG_M_COOKIES_DECLINED]);
}

static void info_policies(struct sbuf *out, void *ctx)
{
	const struct commands_env *a = ctx;
	struct policies_store_stats ss;
	size_t i, n;

	if (!*a->policies) {
		sbuf_puts(out, "policies:0\r\n");
		return;
	}
	n = policies_count(*a->policies);
	policies_store_stats(*a->policies, &ss);
	sbuf_printf(out,
		    "policies:%zu\r\nstore:%s\r\nkeys:%llu\r\nmax_keys:%llu\r\n"
		    "evictions:%llu\r\nexpired:%llu\r\nstore_bytes:%llu\r\n",
		    n, ss.type, (unsigned long long)ss.keys, (unsigned long long)ss.max_keys,
		    (unsigned long long)ss.evictions, (unsigned long long)ss.expired,
		    (unsigned long long)ss.bytes);
	if (ss.shared) {
		struct fleet_stats fs = { 0 };

		if (*a->fleet)
			fleet_stats(*a->fleet, &fs);
		sbuf_printf(out,
			    "shared_store:redis\r\nstore_fallback_active:%d\r\n"
			    "store_errors_total:%llu\r\nstore_timeouts_total:%llu\r\n"
			    "store_fallback_decisions_total:%llu\r\nstore_outage_keys:%llu\r\n"
			    "store_replayed_keys_total:%llu\r\nstore_replay_dropped_total:%llu\r\n"
			    "store_switches_total:%llu\r\nstore_key_errors_total:%llu\r\n"
			    "store_late_applied_total:%llu\r\nstore_multi_contended_total:%llu\r\n"
			    "fleet_subscribed:%d\r\nfleet_published_total:%llu\r\n"
			    "fleet_applied_total:%llu\r\nfleet_unbanned_total:%llu\r\n",
			    ss.fallback_active, (unsigned long long)ss.store_errors,
			    (unsigned long long)ss.store_timeouts,
			    (unsigned long long)ss.fallback_decisions,
			    (unsigned long long)ss.outage_keys,
			    (unsigned long long)ss.replayed_keys,
			    (unsigned long long)ss.replay_dropped, (unsigned long long)ss.switches,
			    (unsigned long long)ss.key_errors, (unsigned long long)ss.late_applied,
			    (unsigned long long)ss.multi_contended, fs.subscribed,
			    (unsigned long long)fs.published, (unsigned long long)fs.applied,
			    (unsigned long long)fs.unbanned);
	}
	for (i = 0; i < n; i++) {
		struct policy *p = policies_at(*a->policies, i);
		struct policy_stats ps;

		policy_stats(p, &ps);
		sbuf_printf(out,
			    "policy_%s:type=%s,keys=%llu,allowed=%llu,denied=%llu,warned=%llu\r\n",
			    policy_name(p), policy_type_name(p), (unsigned long long)ps.keys,
			    (unsigned long long)ps.allowed, (unsigned long long)ps.denied,
			    (unsigned long long)ps.warned);
	}
	{
		struct policy_stats ps;
		bool on = policies_cell(*a->policies, NULL, &ps);

		/* "per_call", not "policy_...": no policy of the config is it. */
		if (on)
			sbuf_printf(out,
				    "per_call:enabled=1,keys=%llu,max_keys=%llu,allowed=%llu,"
				    "denied=%llu\r\n",
				    (unsigned long long)ps.keys, (unsigned long long)ps.max_keys,
				    (unsigned long long)ps.allowed, (unsigned long long)ps.denied);
		else
			sbuf_puts(out, "per_call:enabled=0\r\n");
	}
}

/* An INFO field's free text (an address, an error): no comma, CR or LF, which
 * would split the field or the line. */
static void info_text(struct sbuf *out, const char *s)
{
	for (; *s; s++)
		sbuf_putc(out, *s == ',' ? ';' : *s == '\r' || *s == '\n' ? ' ' : *s);
}

/* One node: "node_I:addr=...,up=...,..." (docs/api.md, INFO redis). */
static void info_redis_node(struct sbuf *out, const struct redis *r, int i, const char *addr)
{
	struct redis_stats rs;
	const char *where;
	char ranges[256];
	unsigned slots;

	if (redis_node_stats(r, i, &rs, &where))
		return;
	sbuf_printf(out, "node_%d:addr=", i);
	info_text(out, addr ? addr : where);
	sbuf_printf(out, ",up=%d,fallback=%d,rtt_us=%llu,requests=%llu,errors=%llu,timeouts=%llu",
		    rs.up, !rs.up, (unsigned long long)rs.rtt_us, (unsigned long long)rs.requests,
		    (unsigned long long)rs.errors, (unsigned long long)rs.timeouts);
	if (redis_mode(r) == REDIS_MODE_CLUSTER) {
		slots = redis_node_slots(r, i, ranges, sizeof(ranges));
		for (char *c = ranges; *c; c++)
			*c = *c == ',' ? ' ' : *c; /* a list inside one field */
		sbuf_printf(out, ",redirects=%llu,slots=%u,ranges=%s",
			    (unsigned long long)rs.redirects, slots, ranges);
	}
	if (!rs.up) {
		sbuf_puts(out, ",error=");
		info_text(out, rs.last_error);
	}
	sbuf_puts(out, "\r\n");
}

/* INFO redis: the shared store's deployment and each node (floodctl status). */
static void info_redis(struct sbuf *out, void *ctx)
{
	const struct commands_env *a = ctx;
	const struct redis *r = *a->redis;
	enum redis_mode mode;
	struct redis_sentinel sn;
	char master[160];
	int i, n, reachable = 0;

	if (!r) {
		sbuf_puts(out, "deployment:none\r\n");
		return;
	}
	mode = redis_mode(r);
	n = redis_nodes(r);
	sbuf_printf(out, "deployment:%s\r\nnodes:%d\r\n", redis_mode_name(mode), n);
	if (mode == REDIS_MODE_SENTINEL) {
		sbuf_puts(out, "master_name:");
		info_text(out, (*a->conf).store.redis.master_name);
		sbuf_puts(out, "\r\nmaster:");
		info_text(out, redis_master_addr(r, master, sizeof(master)));
		for (i = 0; !redis_sentinel(r, i, &sn); i++)
			reachable += sn.reachable;
		sbuf_printf(out, "\r\nsentinels:%d\r\nsentinels_reachable:%d\r\n", i, reachable);
		for (i = 0; !redis_sentinel(r, i, &sn); i++) {
			sbuf_printf(out, "sentinel_%d:addr=", i);
			info_text(out, sn.addr);
			sbuf_printf(out, ",reachable=%d,subscribed=%d,master=", sn.reachable,
				    sn.subscribed);
			info_text(out, sn.master);
			sbuf_printf(out,
				    ",last_ok_ms=%llu,error=", (unsigned long long)sn.last_ok_ms);
			info_text(out, sn.error);
			sbuf_puts(out, "\r\n");
		}
		info_redis_node(out, r, 0, master[0] ? master : NULL);
		return;
	}
	for (i = 0; i < n; i++)
		info_redis_node(out, r, i, NULL);
}

int commands_register(struct server *s, struct commands_env *a)
{
	static const struct {
		const char *name;
		server_cmd_fn fn;
		int arity;
		unsigned flags;
	} cmds[] = {
		{ "RL.CHECK", cmd_rl_check, -3, 0 },
		{ "RL.CHECKM", cmd_rl_checkm, -4, 0 },
		{ "RL.POLICY", cmd_rl_policy, -1, 0 },
		{ "RL.CHARGE", cmd_rl_charge, -4, 0 },
		{ "RL.REFUND", cmd_rl_refund, -4, 0 },
		{ "RL.AUTH.FAIL", cmd_rl_auth_fail, 3, 0 },
		{ "RL.AUTH.CHECK", cmd_rl_auth_check, 3, 0 },
		{ "RL.AUTH.OK", cmd_rl_auth_ok, -3, 0 },
		{ "RL.EVENT", cmd_rl_event, 4, 0 },
		{ "RL.CONN.CLOSE", cmd_rl_conn_close, 3, 0 },
		{ "RL.BLOCK", cmd_rl_block, 4, 0 },
		{ "RL.UNBLOCK", cmd_rl_unblock, 3, 0 },
		{ "RL.RESET", cmd_rl_reset, 3, 0 },
		{ "CL.THROTTLE", cmd_cl_throttle, -2, 0 },
		{ "CL.RESET", cmd_cl_reset, 2, 0 },
		{ "XDP.SOURCE", cmd_xdp_source, 2, 0 },
		{ "XDP.TOP", cmd_xdp_top, -2, 0 },
		{ "XDP.BAN", cmd_xdp_ban, 3, SERVER_CMD_ADMIN },
		{ "XDP.UNBAN", cmd_xdp_unban, 2, SERVER_CMD_ADMIN },
		/* the vouch guard names its own peers (vouch.peer_uids/gids) */
		{ "XDP.VOUCH", cmd_xdp_vouch, -2, 0 },
		{ "XDP.UNVOUCH", cmd_xdp_unvouch, 2, 0 },
		{ "XDP.ALLOW", cmd_xdp_allow, -2, SERVER_CMD_ADMIN },
		{ "XDP.DENY", cmd_xdp_deny, -2, SERVER_CMD_ADMIN },
		{ "XDP.LIST", cmd_xdp_list, 2, 0 },
		{ "XDP.STATS", cmd_xdp_stats, 1, 0 },
		{ "CONFIG", cmd_config, -2, 0 }, /* RELOAD checks admin itself */
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!a->maps && !strncmp(cmds[i].name, "XDP.", 4))
			err = server_register(s, cmds[i].name, cmd_xdp_app_only, -1, 0, a);
		else
			err = server_register(s, cmds[i].name, cmds[i].fn, cmds[i].arity,
					      cmds[i].flags, a);
		if (err)
			return err;
	}
	/* watch.c registers XDP.WATCH when there are events to watch. */
	if (!a->maps && (err = server_register(s, "XDP.WATCH", cmd_xdp_app_only, -1, 0, a)))
		return err;
	err = server_info_add_section(s, "xdp", info_xdp, a);
	err = err ?: server_info_add_section(s, "policies", info_policies, a);
	return err ?: server_info_add_section(s, "redis", info_redis, a);
}
