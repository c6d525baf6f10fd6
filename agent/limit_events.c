// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * events: events per connection (RL.EVENT; RL.CONN.CLOSE forgets the
 * connection) in a fixed window from the connection's first counted event:
 * "warn" once on the way, "disconnect" at the limit. Exempt events are not
 * counted. The types named under events: each have their own limit and
 * count; the others share the policy's limit (or are refused without one).
 */
#include <errno.h>
#include <stddef.h>

#include "config_policies.h"
#include "policy_int.h"
#include "policy_lua.h"

/*
 * The state; the block comes first. One counter per row (policy_rows): the
 * policy's limit, then each type of events: in the file's order, so that a
 * connection's whole state is one key (RL.CONN.CLOSE forgets every type at
 * once) and its size is fixed by the config, never by what a peer sends.
 */
struct ev_slot {
	uint64_t count;
	uint64_t start; /* ms, start of the window */
};

struct st_events {
	uint64_t blocked_until;
	struct ev_slot slot[];
};

/* The limit, window and warn_at of a row. */
struct ev_limit {
	uint64_t limit, window_ms;
	uint32_t warn_at_milli;
	const char *type; /* the reply's name of it; NULL without events: */
};

static struct ev_limit ev_limit(const struct fg_conf_policy *c, int row)
{
	const struct fg_conf_event_type *t = row ? &c->evtypes[row - 1] : NULL;

	if (!t)
		return (struct ev_limit){ .limit = c->limit,
					  .window_ms = c->window_ms,
					  .warn_at_milli = c->warn_at_milli,
					  .type = c->nevtypes ? "*" : NULL };
	return (struct ev_limit){ .limit = t->limit,
				  .window_ms = t->per_ms,
				  .warn_at_milli =
					  t->warn_at_milli ? t->warn_at_milli : c->warn_at_milli,
				  .type = t->name };
}

static void events_canon(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	d->limit = s->limit;
	d->window_ms = s->window_ms;
	for (i = 0; i < s->nexempt; i++)
		strcpy(d->exempt[i], s->exempt[i]);
	d->nexempt = s->nexempt;
	for (i = 0; i < s->nevtypes; i++) {
		strcpy(d->evtypes[i].name, s->evtypes[i].name);
		d->evtypes[i].limit = s->evtypes[i].limit;
		d->evtypes[i].per_ms = s->evtypes[i].per_ms;
		d->evtypes[i].warn_at_milli = s->evtypes[i].warn_at_milli;
	}
	d->nevtypes = s->nevtypes;
}

/*
 * A counter belongs to the type of its place: the names in order. Limits,
 * windows and warn_at may change and keep every count (as a policy without
 * events: keeps its count when its limit or window changes); a type added,
 * removed or moved starts every count afresh (blocks stay). Without events:
 * the copy is empty, as it was before the types existed.
 */
static void events_layout(struct fg_conf_policy *d, const struct fg_conf_policy *s)
{
	int i;

	for (i = 0; i < s->nevtypes; i++)
		strcpy(d->evtypes[i].name, s->evtypes[i].name);
	d->nevtypes = s->nevtypes;
}

static uint32_t events_state_size(const struct fg_conf_policy *c)
{
	return (uint32_t)(sizeof(struct st_events) +
			  (size_t)policy_rows(c) * sizeof(struct ev_slot));
}

static bool name_is(const char *name, const char *s, size_t len)
{
	return strlen(name) == len && !memcmp(name, s, len);
}

/* Exact, case-sensitive names. An exempt event counts nowhere; a type of
 * events: counts in its row; any other in row 0, if the policy has a limit. */
static int events_validate(struct policy_call *c)
{
	const struct fg_conf_policy *conf = &c->p->conf;
	int i;

	c->role = 0;
	for (i = 0; i < conf->nexempt; i++) {
		if (name_is(conf->exempt[i], c->rq->event, c->rq->elen)) {
			c->exempt = true;
			return 0;
		}
	}
	for (i = 0; i < conf->nevtypes; i++) {
		if (name_is(conf->evtypes[i].name, c->rq->event, c->rq->elen)) {
			c->role = i + 1;
			return 0;
		}
	}
	return conf->limit ? 0 : -ENOENT;
}

/* The type of an exempt event in a reply: counted nowhere. */
static const char *exempt_type(const struct fg_conf_policy *c)
{
	return c->nevtypes ? "" : NULL;
}

static uint64_t events_expiry(const struct policy *p, const void *state)
{
	const struct st_events *s = state;
	uint64_t e = s->blocked_until;
	int i;

	for (i = 0; i < policy_rows(&p->conf); i++) {
		if (s->slot[i].count)
			e = max_u64(e, s->slot[i].start + ev_limit(&p->conf, i).window_ms);
	}
	return e;
}

/*
 * The count answered "warn": ceil(warn_at x limit), but at most limit - 1,
 * so that a limit of 2 or more warns once before the event that
 * disconnects (limit 3, warn_at 0.8: ceil(2.4) = 3 would be the limit
 * itself). A limit of 1 disconnects at the first event: no warning.
 */
static uint64_t events_warn_at(const struct ev_limit *l)
{
	uint64_t n = ((uint64_t)l->warn_at_milli * l->limit + 999) / 1000;

	return l->limit >= 2 && n > l->limit - 1 ? l->limit - 1 : n;
}

static uint64_t events_event(void *state, bool fresh, void *arg)
{
	struct policy_call *op = arg;
	struct st_events *s = state;
	struct ev_slot *sl = &s->slot[op->role];
	struct rl_event_result *out = &op->ans->u.event;
	struct ev_limit l = ev_limit(&op->p->conf, op->role);
	uint64_t warn_n = events_warn_at(&l);

	(void)fresh;
	if (sl->count && since_ms(op->now_ms, sl->start) >= l.window_ms)
		sl->count = 0;
	out->limit = l.limit;
	out->type = op->exempt ? exempt_type(&op->p->conf) : l.type;
	if (op->exempt) {
		out->state = "exempt";
	} else if (s->blocked_until > op->now_ms) {
		out->state = "disconnect";
	} else {
		if (!sl->count)
			sl->start = op->now_ms;
		sl->count++;
		if (sl->count >= l.limit)
			out->state = "disconnect";
		else if (sl->count == warn_n)
			out->state = "warn";
		else
			out->state = "ok";
	}
	out->count = sl->count;
	return events_expiry(op->p, s);
}

/*
 * Without events: per connection, not an HTTP client's quota: no
 * RateLimit-Policy. With events: one quota per type, named as RL.EVENT's
 * type field ("*": the policy's own limit), and the RateLimit-Policy
 * value of them, for an app that tells its clients its limits that way.
 */
static void events_describe(const struct policy *p, int role, struct policy_desc *d)
{
	int i;

	(void)role;
	for (i = 0; i < policy_rows(&p->conf); i++) {
		struct ev_limit l = ev_limit(&p->conf, i);

		if (!l.limit)
			continue; /* no limit: only the types of events: pass */
		d->q[d->nq].quota = l.limit;
		d->q[d->nq].window_ms = l.window_ms;
		d->q[d->nq].window = l.type ? l.type : "window";
		d->nq++;
	}
	d->http = p->conf.nevtypes > 0;
}

static void events_fallback(struct policy_call *c, bool allow)
{
	struct ev_limit l = ev_limit(&c->p->conf, c->role);

	c->ans->u.event.state = c->exempt ? "exempt" : allow ? "ok" : "disconnect";
	c->ans->u.event.limit = l.limit;
	c->ans->u.event.type = c->exempt ? exempt_type(&c->p->conf) : l.type;
}

/* xp: the window of the row in ms; x: the row; n pairs: every row's limit
 * and window (the expiry looks at all of them). */
static void events_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	int i, n = policy_rows(&p->conf);

	policy_put_double(buf, off, ev_limit(&p->conf, role).window_ms);
	policy_put_double(buf, off, (uint64_t)role);
	policy_put_double(buf, off, (uint64_t)n);
	for (i = 0; i < n; i++) {
		struct ev_limit l = ev_limit(&p->conf, i);

		policy_put_double(buf, off, l.limit);
		policy_put_double(buf, off, l.window_ms);
	}
}

/* A count and its window's start per row x (f[2 + 2x], f[3 + 2x]; its limit and
 * window: limit(x + 1)): the
 * state lasts until the last window of a counted row ends. */
#define LUA_STATE                                                                                  \
	"local nf = 1 + 2 * n\n"                                                                   \
	"local function expiry(f) local e = f[1]\n"                                                \
	"  for i = 0, n - 1 do local _, w = limit(i + 1)\n"                                        \
	"    if f[2 + 2 * i] > 0 and f[3 + 2 * i] + w > e then e = f[3 + 2 * i] + w end end\n"     \
	"  return e end\n"

/* events_event: ARGV 3 exempt (1); row x, its window xp. */
#define LUA_EVENT                                                                                  \
	"if ARGV[3] ~= '1' and f[1] <= now then\n"                                                 \
	"  local i = 2 + 2 * x\n"                                                                  \
	"  local c, st = f[i], f[i + 1]\n"                                                         \
	"  if c > 0 and now - st >= xp then c = 0 end\n"                                           \
	"  if c == 0 then st = now end\n"                                                          \
	"  f[i] = c + 1; f[i + 1] = st; save() end\n"                                              \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount events of row x in its current window. */
#define LUA_REPLAY                                                                                 \
	"local a, i = tonumber(ARGV[3]), 2 + 2 * x\n"                                              \
	"local c, t = f[i], f[i + 1]\n"                                                            \
	"if c > 0 and now - t >= xp then c = 0 end\n"                                              \
	"if c == 0 then t = now end\n"                                                             \
	"f[i] = c + a; f[i + 1] = t\n"                                                             \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_event[] = POLICY_LUA(LUA_STATE, LUA_EVENT);
static const char lua_block[] = POLICY_LUA(LUA_STATE, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA(LUA_STATE, LUA_REPLAY);

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
		/* As RL.EVENT gives them: any characters ("chat message"). */
		err = cy_get_text(p, item, kp, "an event name", POLICY_EVENT_NAME_MAX, &s);
		if (err)
			return err;
		for (k = 0; k < i; k++) {
			if (!strcmp(pc->exempt[k], s))
				return cy_fail(p, item, kp, "\"%s\" is listed twice", s);
		}
		strcpy(pc->exempt[i], s);
		pc->nexempt = i + 1;
	}
	return 0;
}

#define EVTYPE_AT(field) offsetof(struct fg_conf_event_type, field)

static const struct cy_key evtype_keys[] = {
	{ .name = "limit",
	  .kind = CY_U64,
	  .off = EVTYPE_AT(limit),
	  .min = 1,
	  .max = CONF_POLICY_COUNT_MAX,
	  .need = "events of this type per window, e.g. 10" },
	{ .name = "per",
	  .kind = CY_DURATION,
	  .off = EVTYPE_AT(per_ms),
	  .min = 1,
	  .max = 365LL * 86400 * 1000,
	  .need = "the window, a duration, e.g. 1m" },
	CY_READER("warn_at", EVTYPE_AT(warn_at_milli), config_policy_warn_at),
	CY_TABLE_END,
};

/* events: a mapping of event type names to { limit, per, warn_at }. */
static int events_types(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			const char *path, void *dst)
{
	struct fg_conf_policy *pc = dst;
	yaml_node_pair_t *pair;
	char kp[CY_PATH_MAX];
	const char *s;
	int i, k, err;

	(void)map;
	err = cy_expect_kind(p, n, path, YAML_MAPPING_NODE);
	if (err || n->type != YAML_MAPPING_NODE)
		return err;
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > POLICY_MAX_EVENT_TYPES)
		return cy_fail(p, n, path,
			       "more than %d event types (each has a counter in every "
			       "connection's state): share a limit: among the others",
			       POLICY_MAX_EVENT_TYPES);
	for (pair = n->data.mapping.pairs.start, i = 0; pair < n->data.mapping.pairs.top;
	     pair++, i++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		struct fg_conf_event_type *t = &pc->evtypes[i];

		err = cy_get_text(p, kn, path, "an event type name", POLICY_EVENT_NAME_MAX, &s);
		if (err)
			return err;
		if (!strcmp(s, "*"))
			return cy_fail(p, kn, path,
				       "\"*\" is what replies call the policy's own limit: use "
				       "limit: and window: for the events not named here");
		cy_join(kp, sizeof(kp), path, s);
		for (k = 0; k < i; k++) {
			if (!strcmp(pc->evtypes[k].name, s))
				return cy_fail(p, kn, kp, "\"%s\" is listed twice", s);
		}
		strcpy(t->name, s);
		cy_defaults(evtype_keys, t);
		err = cy_walk(p, v, kp, evtype_keys, t);
		if (err)
			return err;
		pc->nevtypes = i + 1;
	}
	return 0;
}

/*
 * limit and window: both, for the events no type of events: names; without
 * events: they are the only limit and so required. An exempt event is
 * counted nowhere: it cannot also be a type with a limit.
 */
static int events_check(struct cy_parser *p, const yaml_node_t *map, const char *path, void *dst)
{
	const struct fg_conf_policy *pc = dst;
	char kp[CY_PATH_MAX];
	int i, k;

	if (!pc->nevtypes && !pc->limit)
		return cy_fail(p, map, cy_join(kp, sizeof(kp), path, "limit"),
			       "missing (events per window, e.g. 100)");
	if (pc->limit && !pc->window_ms)
		return cy_fail(p, map, cy_join(kp, sizeof(kp), path, "window"),
			       "missing (a duration, e.g. 1m)");
	if (pc->window_ms && !pc->limit)
		return cy_fail(p, map, cy_join(kp, sizeof(kp), path, "limit"),
			       "missing (events per window of the types events: does not "
			       "name, e.g. 100; or leave out window: to refuse them)");
	for (i = 0; i < pc->nexempt; i++) {
		for (k = 0; k < pc->nevtypes; k++) {
			if (!strcmp(pc->exempt[i], pc->evtypes[k].name))
				return cy_fail(p, map, cy_join(kp, sizeof(kp), path, "exempt"),
					       "\"%s\" is also under events: an exempt event "
					       "is not counted; list it in one of them",
					       pc->exempt[i]);
		}
	}
	return 0;
}

static const struct cy_key events_keys[] = {
	CONF_POLICY_WARN_AT,
	{ .name = "limit",
	  .kind = CY_U64,
	  .off = CONF_POLICY_AT(limit),
	  .min = 1,
	  .max = CONF_POLICY_COUNT_MAX },
	{ .name = "window", .kind = CY_DURATION, .off = CONF_POLICY_AT(window_ms) },
	CY_READER("events", 0, events_types),
	CY_READER("exempt", 0, events_exempt),
	CY_CHECK_AT(0, events_check),
	CY_TABLE_END,
};

const struct policy_kind policy_kind_events = {
	.name = "events",
	.conf_keys = events_keys,
	.canon = events_canon,
	.layout = events_layout,
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
