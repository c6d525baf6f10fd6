// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * events: events per connection (RL.EVENT; RL.CONN.CLOSE forgets the
 * connection) in a fixed window from the connection's first counted event:
 * "warn" once on the way, "disconnect" at the limit. Exempt events are not
 * counted.
 */
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

static uint64_t events_event(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	const struct fg_conf_policy *c = &op->p->conf;
	struct st_events *s = state;
	struct rl_event_result *out = &op->ans->u.event;
	uint64_t warn_n = ((uint64_t)c->warn_at_milli * c->limit + 999) / 1000;

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

const struct policy_kind policy_kind_events = {
	.name = "events",
	.canon = events_canon,
	.state_size = events_state_size,
	.decide = { [POLICY_OP_EVENT] = events_event },
	.validate = events_validate,
	.expiry = events_expiry,
	.fallback = events_fallback,
	.lua = { [POLICY_LUA_DECIDE] = lua_event,
		 [POLICY_LUA_BLOCK] = lua_block,
		 [POLICY_LUA_REPLAY] = lua_replay },
	.pack = events_pack,
};
