// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * events: events per connection (RL.EVENT; RL.CONN.CLOSE forgets the
 * connection) in a fixed window from the connection's first counted event:
 * "warn" once on the way, "disconnect" at the limit. Exempt events are not
 * counted.
 */
#include "config_policies.h"
#include "policy_int.h"
#include "policy_lua.h"

/* The state; the block comes first. */
struct st_events {
	uint64_t blocked_until;
	uint64_t count;
	uint64_t start; /* ms, start of the window */
};

static void events_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	d->limit = s->limit;
	d->window_ms = s->window_ms;
	for (i = 0; i < s->nexempt; i++)
		strcpy(d->exempt[i], s->exempt[i]);
	d->nexempt = s->nexempt;
}

static uint32_t events_state_size(const struct fg_conf_policy *c)
{
	(void)c;
	return sizeof(struct st_events);
}

/* Exact, case-sensitive names. */
static int events_validate(struct policy_call *c)
{
	const struct fg_conf_policy *conf = &c->p->conf;
	int i;

	for (i = 0; i < conf->nexempt; i++) {
		if (strlen(conf->exempt[i]) == c->rq->elen &&
		    !memcmp(conf->exempt[i], c->rq->event, c->rq->elen))
			c->exempt = true;
	}
	return 0;
}

static uint64_t events_expiry(const struct policy *p, const void *state)
{
	const struct st_events *s = state;

	return max_u64(s->blocked_until, s->count ? s->start + p->conf.window_ms : 0);
}

/*
 * The count answered "warn": ceil(warn_at x limit), but at most limit - 1,
 * so that a limit of 2 or more warns once before the event that
 * disconnects (limit 3, warn_at 0.8: ceil(2.4) = 3 would be the limit
 * itself). A limit of 1 disconnects at the first event: no warning.
 */
static uint64_t events_warn_at(const struct fg_conf_policy *c)
{
	uint64_t n = ((uint64_t)c->warn_at_milli * c->limit + 999) / 1000;

	return c->limit >= 2 && n > c->limit - 1 ? c->limit - 1 : n;
}

static uint64_t events_event(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct fg_conf_policy *c = &op->p->conf;
	struct st_events *s = state;
	struct rl_event_result *out = &op->ans->u.event;
	uint64_t warn_n = events_warn_at(c);

	(void)fresh;
	if (s->count && since_ms(op->now_ms, s->start) >= c->window_ms)
		s->count = 0;
	out->limit = c->limit;
	if (op->exempt) {
		out->state = "exempt";
	} else if (s->blocked_until > op->now_ms) {
		out->state = "disconnect";
	} else {
		if (!s->count)
			s->start = op->now_ms;
		s->count++;
		if (s->count >= c->limit)
			out->state = "disconnect";
		else if (s->count == warn_n)
			out->state = "warn";
		else
			out->state = "ok";
	}
	out->count = s->count;
	return events_expiry(op->p, s);
}

/* Per connection, not an HTTP client's quota: no RateLimit-Policy. */
static void events_describe(const struct policy *p, int role, struct policy_desc *d)
{
	(void)role;
	d->q[0].quota = p->conf.limit;
	d->q[0].window_ms = p->conf.window_ms;
	d->q[0].window = "window";
	d->nq = 1;
}

static void events_fallback(struct policy_call *c, bool allow)
{
	c->ans->u.event.state = allow ? "ok" : "disconnect";
	c->ans->u.event.limit = c->p->conf.limit;
}

/* xp: the window in ms. */
static void events_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	(void)role;
	policy_put_double(buf, off, p->conf.window_ms);
	policy_put_double(buf, off, 0);
	policy_put_double(buf, off, 0);
}

/* events_event: ARGV 3 exempt (1). */
#define LUA_EVENT                                                                                  \
	"if ARGV[3] ~= '1' and f[1] <= now then\n"                                                 \
	"  local c, st = f[2], f[3]\n"                                                             \
	"  if c > 0 and now - st >= xp then c = 0 end\n"                                           \
	"  if c == 0 then st = now end\n"                                                          \
	"  f[2] = c + 1; f[3] = st; save() end\n"                                                  \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount events in the current window. */
#define LUA_REPLAY                                                                                 \
	"local a = tonumber(ARGV[3])\n"                                                            \
	"local c, t = f[2], f[3]\n"                                                                \
	"if c > 0 and now - t >= xp then c = 0 end\n"                                              \
	"if c == 0 then t = now end\n"                                                             \
	"f[2] = c + a; f[3] = t\n"                                                                 \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_event[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, LUA_EVENT);
static const char lua_block[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA(POLICY_LUA_STATE_STAMP, LUA_REPLAY);

/* --- config ------------------------------------------------------------------ */

static int events_exempt(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			 const char *path, void *dst)
{
	struct fg_conf_policy *pc = dst;
	char kp[CY_PATH_MAX + 16];
	const char *s;
	int i, k, err;

	(void)map;
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

static const struct cy_key events_keys[] = {
	CONF_POLICY_WARN_AT,
	{ .name = "limit",
	  .kind = CY_U64,
	  .off = CONF_POLICY_AT(limit),
	  .min = 1,
	  .max = CONF_POLICY_COUNT_MAX,
	  .need = "events per window, e.g. 100" },
	{ .name = "window",
	  .kind = CY_DURATION,
	  .off = CONF_POLICY_AT(window_ms),
	  .need = "a duration, e.g. 1m" },
	CY_READER("exempt", 0, events_exempt),
	CY_TABLE_END,
};

const struct policy_kind policy_kind_events = {
	.name = "events",
	.conf_keys = events_keys,
	.canon = events_canon,
	.state_size = events_state_size,
	.decide = { [POLICY_OP_EVENT] = events_event },
	.validate = events_validate,
	.expiry = events_expiry,
	.fallback = events_fallback,
	.describe = events_describe,
	.lua = { [POLICY_LUA_DECIDE] = lua_event,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = events_pack,
};
