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
 * The state: the block, then a count and its window's start per row
 * (policy_rows): the policy's limit, then each type of events: in the
 * file's order, so that a connection's whole state is one key
 * (RL.CONN.CLOSE forgets every type at once) and its size is fixed by the
 * config, never by what a peer sends. With events:, each row starts with
 * its type's tag (a hash of its name), so that a reload that adds or
 * removes types keeps the counts of the others (events_remap; the Redis
 * value says the same). Without events: the state is as it always was
 * (block, count, start).
 */
struct ev_row {
	uint64_t *count; /* count[1]: the start of the window, ms */
	uint64_t *tag;	 /* NULL without events: */
};

/* Fields per row: tag, count, start with events:; count, start without. */
static int row_fields(const struct fg_conf_policy *c)
{
	return c->nevtypes ? 3 : 2;
}

static struct ev_row ev_row(const struct fg_conf_policy *c, uint64_t *state, int row)
{
	uint64_t *r = state + 1 + row * row_fields(c);

	if (!c->nevtypes)
		return (struct ev_row){ .count = r };
	return (struct ev_row){ .count = r + 1, .tag = r };
}

/* The tags of the rows (compile): 52 bits of a hash of the type's name, ""
 * for the policy's own limit, never 0; exact in the scripts' doubles. */
struct ev_priv {
	uint64_t tag[POLICY_MAX_EVENT_TYPES + 1];
};

static uint64_t ev_tag_of(const char *name)
{
	return (store_siphash(0x6576656e74746167ULL, 0x74ULL, name, strlen(name)) >> 12) | 1;
}

static const struct ev_priv *ev_priv(const struct policy *p)
{
	return (const struct ev_priv *)p->priv;
}

static void events_compile(struct policy *p)
{
	struct ev_priv *e = (struct ev_priv *)p->priv;
	int i;

	e->tag[0] = ev_tag_of("");
	for (i = 0; i < p->conf.nevtypes; i++)
		e->tag[i + 1] = ev_tag_of(p->conf.evtypes[i].name);
}

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
 * A row's place: the names in order. Limits, windows and warn_at may
 * change and keep every count as it is (as a policy without events: keeps
 * its count when its limit or window changes); a type added, removed or
 * moved changes the places, and events_remap keeps the counts of the types
 * still named by their tags (a new type starts at nothing). Without
 * events: the copy is empty, as it was before the types existed.
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
	return (uint32_t)(8 * (1 + policy_rows(c) * row_fields(c)));
}

/*
 * A state of another layout (a reload that added, removed or moved types;
 * a Redis value of another config): the block, and the count of each old
 * row whose tag is one of p's rows' (a state without events: is one row,
 * the policy's own limit). Anything else is read as nothing.
 */
static void events_remap(const struct policy *p, const uint64_t *old, uint32_t old_size,
			 uint64_t *state)
{
	const struct fg_conf_policy *c = &p->conf;
	uint32_t n = old_size / 8, j;
	int i;

	if (!n)
		return;
	state[0] = old[0];
	for (j = 0; n == 3 ? j < 1 : (n - 1) % 3 == 0 && j < (n - 1) / 3; j++) {
		uint64_t tag = n == 3 ? ev_priv(p)->tag[0] : old[1 + 3 * j];
		const uint64_t *oc = n == 3 ? old + 1 : old + 2 + 3 * j;

		for (i = 0; i < policy_rows(c); i++) {
			struct ev_row r = ev_row(c, state, i);

			if (ev_priv(p)->tag[i] != tag)
				continue;
			r.count[0] = oc[0];
			r.count[1] = oc[1];
		}
	}
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
	uint64_t *s = (uint64_t *)state, e = s[0];
	int i;

	for (i = 0; i < policy_rows(&p->conf); i++) {
		struct ev_row r = ev_row(&p->conf, s, i);

		if (r.count[0])
			e = max_u64(e, r.count[1] + ev_limit(&p->conf, i).window_ms);
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
	const struct fg_conf_policy *c = &op->p->conf;
	uint64_t *s = state;
	struct ev_row r = ev_row(c, s, op->role);
	uint64_t *count = &r.count[0], *start = &r.count[1];
	struct rl_event_result *out = &op->ans->u.event;
	struct ev_limit l = ev_limit(c, op->role);
	uint64_t warn_n = events_warn_at(&l);
	int i;

	(void)fresh;
	/* Every row says whose it is (a fresh state's tags are zeroes). */
	for (i = 0; c->nevtypes && i < policy_rows(c); i++)
		*ev_row(c, s, i).tag = ev_priv(op->p)->tag[i];
	if (*count && since_ms(op->now_ms, *start) >= l.window_ms)
		*count = 0;
	out->limit = l.limit;
	out->type = op->exempt ? exempt_type(c) : l.type;
	if (op->exempt) {
		out->state = "exempt";
	} else if (s[0] > op->now_ms) {
		out->state = "disconnect";
	} else {
		if (!*count)
			*start = op->now_ms;
		(*count)++;
		if (*count >= l.limit)
			out->state = "disconnect";
		else if (*count == warn_n)
			out->state = "warn";
		else
			out->state = "ok";
	}
	out->count = *count;
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

/* xp: the window of the row in ms; x: the row; n pairs: every row's
 * window and tag (the expiry looks at all of them; the remap at the tags). */
static void events_pack(const struct policy *p, int role, unsigned char *buf, size_t *off)
{
	int i, n = policy_rows(&p->conf);

	policy_put_double(buf, off, ev_limit(&p->conf, role).window_ms);
	policy_put_double(buf, off, (uint64_t)role);
	policy_put_double(buf, off, (uint64_t)n);
	for (i = 0; i < n; i++) {
		policy_put_double(buf, off, ev_limit(&p->conf, i).window_ms);
		policy_put_double(buf, off, ev_priv(p)->tag[i]);
	}
}

/* The rows as in struct ev_row: with events: (n > 1) f[2 + 3i] the tag of
 * row i, f[3 + 3i] its count, f[4 + 3i] its start; without, f[2], f[3].
 * ci(i): the index of row i's count. The state lasts until the last
 * window of a counted row ends. */
#define LUA_STATE                                                                                  \
	"local typed = n > 1\n"                                                                    \
	"local nf = typed and 1 + 3 * n or 3\n"                                                    \
	"local function ci(i) if typed then return 3 + 3 * i end return 2 end\n"                   \
	"local function expiry(f) local e = f[1]\n"                                                \
	"  for i = 0, n - 1 do local w = limit(i + 1)\n"                                           \
	"    if f[ci(i)] > 0 and f[ci(i) + 1] + w > e then e = f[ci(i) + 1] + w end end\n"         \
	"  return e end\n"

/* events_remap: a value of another config: its block, and the count of
 * each of its rows whose tag is one of ours (40 bytes: a state without
 * events:, one row, the policy's own limit). */
#define LUA_REMAP                                                                                  \
	POLICY_LUA_KEEP_BLOCK                                                                      \
	"    local m, typ = 0, false\n"                                                            \
	"    if #v == 40 then m = 1 elseif (#v - 24) % 24 == 0 then m = (#v - 24) / 24;\n"         \
	"      typ = true end\n"                                                                   \
	"    for j = 0, m - 1 do local tg, c, st\n"                                                \
	"      if typ then tg, c, st = struct.unpack('<ddd', v, 25 + 24 * j)\n"                    \
	"      else tg = select(2, limit(1)); c, st = struct.unpack('<dd', v, 25) end\n"           \
	"      for i = 0, n - 1 do local _, t = limit(i + 1)\n"                                    \
	"        if t == tg then f[ci(i)] = c; f[ci(i) + 1] = st; found = true end end end\n"

/* Every row says whose it is (a fresh state's tags are zeroes). */
#define LUA_TAGS                                                                                   \
	"if typed then for i = 0, n - 1 do local _, t = limit(i + 1); f[2 + 3 * i] = t end end\n"

/* events_event: ARGV 3 exempt (1); row x, its window xp. */
#define LUA_EVENT                                                                                  \
	LUA_TAGS                                                                                   \
	"if ARGV[3] ~= '1' and f[1] <= now then\n"                                                 \
	"  local i = ci(x)\n"                                                                      \
	"  local c, st = f[i], f[i + 1]\n"                                                         \
	"  if c > 0 and now - st >= xp then c = 0 end\n"                                           \
	"  if c == 0 then st = now end\n"                                                          \
	"  f[i] = c + 1; f[i + 1] = st; save() end\n"                                              \
	"return {now, v or false}\n"

/* Outage replay (ARGV 3 amount): amount events of row x in its current window. */
#define LUA_REPLAY                                                                                 \
	LUA_TAGS                                                                                   \
	"local a, i = tonumber(ARGV[3]), ci(x)\n"                                                  \
	"local c, t = f[i], f[i + 1]\n"                                                            \
	"if c > 0 and now - t >= xp then c = 0 end\n"                                              \
	"if c == 0 then t = now end\n"                                                             \
	"f[i] = c + a; f[i + 1] = t\n"                                                             \
	"save()\n"                                                                                 \
	"return {now, v or false}\n"

static const char lua_event[] = POLICY_LUA_REMAP(LUA_STATE, LUA_REMAP, LUA_EVENT);
static const char lua_block[] = POLICY_LUA_REMAP(LUA_STATE, LUA_REMAP, POLICY_LUA_BLOCK_BODY);
static const char lua_replay[] = POLICY_LUA_REMAP(LUA_STATE, LUA_REMAP, LUA_REPLAY);

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
	.remap = events_remap,
	.state_size = events_state_size,
	.priv_size = sizeof(struct ev_priv),
	.compile = events_compile,
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
