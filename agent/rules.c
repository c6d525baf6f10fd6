// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

#define NS_PER_MS  1000000ULL
#define NS_PER_SEC 1000000000ULL

struct fg_limit rules_limit(uint32_t rate, uint32_t burst)
{
	struct fg_limit l = { 0 };

	if (rate) {
		l.rate = rate;
		l.burst = burst;
		l.interval_ns = NS_PER_SEC / rate;
	}
	return l;
}

int rules_find(const struct fg_rule_ids *ids, const char *name)
{
	int i;

	if (!ids || !name || !*name)
		return -1;
	for (i = 0; i < FG_MAX_RULES; i++) {
		if (!strncmp(ids->names[i], name, FG_CONF_NAME_MAX))
			return i;
	}
	return -1;
}

static void rule_compile(const struct fg_conf_limits *l, int proto, struct fg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->per_source = rules_limit(l->per_source.rate, l->per_source.burst);
	r->per_prefix = rules_limit(l->per_prefix.rate, l->per_prefix.burst);
	r->global = rules_limit(l->global.rate, l->global.burst);
	if (l->ban.enabled) {
		r->flags |= FG_RULE_F_BAN;
		r->ban_after = l->ban.after;
		r->ban_window_ns = l->ban.window_ms * NS_PER_MS;
		r->ban_duration_ns = l->ban.for_ms * NS_PER_MS;
	}
	/* SYN cookies are TCP's; a UDP rule's setting is not read. */
	if (proto == FG_PROTO_TCP && l->syn_cookies == FG_COOKIES_AUTO)
		r->flags |= FG_RULE_F_COOKIE_AUTO;
	else if (proto == FG_PROTO_TCP && l->syn_cookies == FG_COOKIES_ALWAYS)
		r->flags |= FG_RULE_F_COOKIE_ALWAYS;
}

/* Lowest id >= 2 free in out; with avoid set, also not named in prev (so a
 * removed rule's buckets are not inherited by a new name at once). */
static int free_id(const struct fg_rule_ids *prev, const struct fg_rule_ids *out, bool avoid)
{
	int i;

	for (i = 2; i < FG_MAX_RULES; i++) {
		if (out->names[i][0])
			continue;
		if (avoid && prev && prev->names[i][0])
			continue;
		return i;
	}
	return -1;
}

int rules_compile(const struct fg_conf *conf, const struct fg_rule_ids *prev,
		  struct fg_compiled *out)
{
	int ids[FG_CONF_MAX_RULES];
	int i, id, proto;
	uint32_t port;

	if (conf->nrules > FG_MAX_RULES - 2)
		return -ENOSPC;
	memset(out, 0, sizeof(*out));

	out->cfg.abi_version = FG_ABI_VERSION;
	out->cfg.flags = conf->dry_run ? FG_CFG_F_DRY_RUN : 0;
	out->cfg.ipv4_prefix = conf->ipv4_prefix;
	out->cfg.ipv6_prefix = conf->ipv6_prefix;
	out->cfg.udp_idle_ns = conf->udp_idle_ms * NS_PER_MS;
	out->cfg.attack_hold_ns = conf->attack_hold_ms * NS_PER_MS;
	out->cfg.event_interval_ns = NS_PER_SEC;
	out->cfg.verified_ttl_ns = conf->verified_ttl_ms * NS_PER_MS;

	snprintf(out->ids.names[FG_RULE_DEFAULT_TCP], FG_CONF_NAME_MAX, "tcp-default");
	snprintf(out->ids.names[FG_RULE_DEFAULT_UDP], FG_CONF_NAME_MAX, "udp-default");
	rule_compile(&conf->defaults[FG_PROTO_TCP], FG_PROTO_TCP, &out->rules[FG_RULE_DEFAULT_TCP]);
	rule_compile(&conf->defaults[FG_PROTO_UDP], FG_PROTO_UDP, &out->rules[FG_RULE_DEFAULT_UDP]);

	/* Names that survive keep their ids first, so new names cannot take them. */
	for (i = 0; i < conf->nrules; i++) {
		id = rules_find(prev, conf->rules[i].name);
		if (id < 2 || out->ids.names[id][0])
			id = -1;
		ids[i] = id;
		if (id >= 0)
			snprintf(out->ids.names[id], FG_CONF_NAME_MAX, "%s", conf->rules[i].name);
	}
	for (i = 0; i < conf->nrules; i++) {
		if (ids[i] >= 0)
			continue;
		id = free_id(prev, &out->ids, true);
		if (id < 0)
			id = free_id(prev, &out->ids, false);
		if (id < 0)
			return -ENOSPC;
		ids[i] = id;
		snprintf(out->ids.names[id], FG_CONF_NAME_MAX, "%s", conf->rules[i].name);
	}

	for (port = 0; port < 65536; port++) {
		out->port_rule[FG_PROTO_TCP * 65536 + port] = FG_RULE_DEFAULT_TCP;
		out->port_rule[FG_PROTO_UDP * 65536 + port] = FG_RULE_DEFAULT_UDP;
	}
	for (i = 0; i < conf->nrules; i++) {
		const struct fg_conf_rule *r = &conf->rules[i];
		int k;

		proto = r->proto == FG_PROTO_UDP ? FG_PROTO_UDP : FG_PROTO_TCP;
		rule_compile(&r->limits, proto, &out->rules[ids[i]]);
		for (k = 0; k < r->nranges; k++) {
			for (port = r->ranges[k].lo; port <= r->ranges[k].hi; port++)
				out->port_rule[proto * 65536 + port] = (uint32_t)ids[i];
		}
	}
	return 0;
}
