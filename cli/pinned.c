// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "hostaddr.h"
#include "json.h"
#include "pinned.h"
#include "rpc.h"

enum { EXIT_OK = 0, EXIT_DENIED = 1, EXIT_ERROR = 2 };

int pinned_open(struct xdpmaps *m, const char *pin_dir)
{
	uint32_t layout = xdpmaps_pinned_layout(pin_dir);
	int err;

	/* Another layout's values would be read as ours. */
	if (layout && layout != FG_ABI_VERSION) {
		fprintf(stderr,
			"floodctl: the maps in %s are of map layout %u, this floodctl reads layout "
			"%u\n  use the floodctl of the floodgated that made them, or its socket\n",
			pin_dir, layout, (uint32_t)FG_ABI_VERSION);
		return EXIT_ERROR;
	}
	err = xdpmaps_open_pinned(m, pin_dir);
	if (!err)
		return EXIT_OK;
	fprintf(stderr,
		"floodctl: cannot open floodgate's maps in %s: %s\n"
		"  is floodgated running (or persist: true)? are you root?\n",
		pin_dir, strerror(-err));
	return EXIT_ERROR;
}

int pinned_stats(struct xdpmaps *m, bool json)
{
	struct fg_stat st[FG_R_MAX];
	struct json j;
	uint32_t r;

	if (xdpmaps_stats(m, st))
		return EXIT_ERROR;
	if (json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		for (r = 0; r < FG_R_MAX; r++) {
			json_keyz(&j, xdpmaps_reason_name(r));
			json_obj_begin(&j);
			json_keyz(&j, "passed");
			json_uint(&j, st[r].packets[0]);
			json_keyz(&j, "dropped");
			json_uint(&j, st[r].packets[1]);
			json_keyz(&j, "passed_bytes");
			json_uint(&j, st[r].bytes[0]);
			json_keyz(&j, "dropped_bytes");
			json_uint(&j, st[r].bytes[1]);
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_end(&j);
		return EXIT_OK;
	}
	printf("%-12s %14s %14s %16s %16s\n", "REASON", "PASSED", "DROPPED", "PASSED_BYTES",
	       "DROPPED_BYTES");
	for (r = 0; r < FG_R_MAX; r++)
		printf("%-12s %14llu %14llu %16llu %16llu\n", xdpmaps_reason_name(r),
		       (unsigned long long)st[r].packets[0], (unsigned long long)st[r].packets[1],
		       (unsigned long long)st[r].bytes[0], (unsigned long long)st[r].bytes[1]);
	return EXIT_OK;
}

int pinned_rules(struct xdpmaps *m, bool json, const char *info)
{
	uint64_t now = xdpmaps_now_ns();
	struct json j;
	uint32_t id;

	json_init(&j, stdout);
	if (json)
		json_arr_begin(&j);
	else
		printf("%-4s %12s %12s %12s %12s %12s %6s  %s\n", "RULE", "NEW_FLOWS", "PASSED",
		       "DROP_ADDR", "DROP_PREFIX", "DROP_GLOBAL", "ATTACK", "NAME");
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_rule_stat rs;
		struct fg_global_state gs;
		char key[32], name[64];
		bool named;
		int attack;

		if (xdpmaps_rule_stats(m, id, &rs) || xdpmaps_global(m, id, &gs))
			return EXIT_ERROR;
		snprintf(key, sizeof(key), "rule_id_%u", id);
		named = info && rpc_info_get(info, key, name, sizeof(name));
		/* a rule of the running config is listed even before its first flow */
		if (!rs.new_flows && id > 1 && !named)
			continue;
		attack = now < gs.attack_until_ns;
		if (json) {
			json_obj_begin(&j);
			json_keyz(&j, "rule");
			json_uint(&j, id);
			json_keyz(&j, "name");
			if (named)
				json_strz(&j, name);
			else
				json_null(&j);
			json_keyz(&j, "new_flows");
			json_uint(&j, rs.new_flows);
			json_keyz(&j, "passed");
			json_uint(&j, rs.passed);
			json_keyz(&j, "dropped_address");
			json_uint(&j, rs.dropped[0]);
			json_keyz(&j, "dropped_prefix");
			json_uint(&j, rs.dropped[1]);
			json_keyz(&j, "dropped_global");
			json_uint(&j, rs.dropped[2]);
			json_keyz(&j, "under_attack");
			json_int(&j, attack);
			json_obj_end(&j);
		} else {
			printf("%-4u %12llu %12llu %12llu %12llu %12llu %6s  %s\n", id,
			       (unsigned long long)rs.new_flows, (unsigned long long)rs.passed,
			       (unsigned long long)rs.dropped[0], (unsigned long long)rs.dropped[1],
			       (unsigned long long)rs.dropped[2], attack ? "yes" : "no",
			       named ? name : "-");
		}
	}
	if (json) {
		json_arr_end(&j);
		json_end(&j);
	}
	return EXIT_OK;
}

int pinned_source(struct xdpmaps *m, const char *arg, bool json)
{
	uint64_t now = xdpmaps_now_ns();
	struct json j;
	struct fg_cidr c;
	uint32_t id;
	int found = 0;

	if (cidr_parse(arg, &c)) {
		fprintf(stderr, "floodctl: source %s: not an address or prefix\n", arg);
		return EXIT_ERROR;
	}
	json_init(&j, stdout);
	if (json)
		json_arr_begin(&j);
	else
		printf("%-4s %12s %12s %12s %12s\n", "RULE", "NEW_FLOWS", "DROPPED", "VIOLATIONS",
		       "TAT_AHEAD_MS");
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_src_state st;
		double ahead;

		if (xdpmaps_source(m, &c, id, &st))
			continue;
		ahead = st.tat_ns > now ? (st.tat_ns - now) / 1e6 : 0;
		if (json) {
			json_obj_begin(&j);
			json_keyz(&j, "rule");
			json_uint(&j, id);
			json_keyz(&j, "new_flows");
			json_uint(&j, fg_src_new_flows(&st));
			json_keyz(&j, "dropped");
			json_uint(&j, st.dropped);
			json_keyz(&j, "violations");
			json_uint(&j, st.violations);
			json_obj_end(&j);
		} else {
			printf("%-4u %12llu %12llu %12u %12.1f\n", id,
			       (unsigned long long)fg_src_new_flows(&st), (unsigned long long)st.dropped,
			       st.violations, ahead);
		}
		found++;
	}
	if (json) {
		json_arr_end(&j);
		json_end(&j);
	}
	return found ? EXIT_OK : EXIT_DENIED;
}

struct list_ctx {
	uint64_t now;
	struct json *j; /* NULL: human lines */
};

static int pinned_entry(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	struct list_ctx *lc = arg;
	char buf[FG_CIDR_STRLEN];

	cidr_format(c, buf, sizeof(buf));
	if (ban && ban->expires_ns && ban->expires_ns <= lc->now)
		return 0;
	if (lc->j) {
		if (!ban) {
			json_strz(lc->j, buf);
			return 0;
		}
		json_obj_begin(lc->j);
		json_keyz(lc->j, "cidr");
		json_strz(lc->j, buf);
		json_keyz(lc->j, "origin");
		json_strz(lc->j, xdpmaps_origin_name(ban->origin));
		json_keyz(lc->j, "expires_in_s");
		if (ban->expires_ns)
			json_uint(lc->j, (ban->expires_ns - lc->now) / 1000000000ULL);
		else
			json_int(lc->j, -1);
		json_obj_end(lc->j);
		return 0;
	}
	if (!ban)
		printf("%s\n", buf);
	else if (ban->expires_ns)
		printf("%-44s %-7s %llus\n", buf, xdpmaps_origin_name(ban->origin),
		       (unsigned long long)((ban->expires_ns - lc->now) / 1000000000ULL));
	else
		printf("%-44s %-7s forever\n", buf, xdpmaps_origin_name(ban->origin));
	return 0;
}

int pinned_list(struct xdpmaps *m, const char *what, bool json)
{
	struct list_ctx lc = { .now = xdpmaps_now_ns() };
	struct json j;
	bool bans = !strcmp(what, "bans");
	enum xdpmaps_list l = XDPMAPS_DENY;
	int err;

	if (!strcmp(what, "allow"))
		l = XDPMAPS_ALLOW;
	else if (strcmp(what, "deny") && !bans) {
		fprintf(stderr, "floodctl: list %s: use bans, allow or deny\n", what);
		return EXIT_ERROR;
	}
	if (json) {
		json_init(&j, stdout);
		lc.j = &j;
		json_arr_begin(&j);
	}
	err = bans ? xdpmaps_bans_each(m, pinned_entry, &lc)
		   : xdpmaps_list_each(m, l, pinned_entry, &lc);
	if (json) {
		json_arr_end(&j);
		json_end(&j);
	}
	if (err) {
		fprintf(stderr, "floodctl: list %s: %s\n", what, strerror(-err));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* As the agent refuses them (hostaddr_refuses()), with this namespace's
 * addresses: floodctl -p runs beside the agent. */
static bool keeps_host(const struct fg_cidr *c, const char *verb)
{
	char why[256];

	if (!hostaddr_refuses(c, verb, why, sizeof(why)))
		return true;
	fprintf(stderr, "floodctl: %s\n", why);
	return false;
}

int pinned_ban(struct xdpmaps *m, const char *arg, uint64_t seconds)
{
	struct fg_cidr c;
	int err;

	if (cidr_parse(arg, &c)) {
		fprintf(stderr, "floodctl: ban %s: not a CIDR like 198.51.100.7 or 2001:db8::/48\n",
			arg);
		return EXIT_ERROR;
	}
	if (!keeps_host(&c, "ban"))
		return EXIT_ERROR;
	err = xdpmaps_ban(m, &c, seconds, FG_BAN_MANUAL);
	if (err) {
		fprintf(stderr, "floodctl: ban %s: %s\n", arg, strerror(-err));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int pinned_unban(struct xdpmaps *m, const char *arg)
{
	struct fg_cidr c;
	int err;

	if (cidr_parse(arg, &c)) {
		fprintf(stderr, "floodctl: unban %s: not an address or prefix\n", arg);
		return EXIT_ERROR;
	}
	err = xdpmaps_unban(m, &c);
	if (err == -ENOENT) {
		fprintf(stderr, "floodctl: %s is not banned\n", arg);
		return EXIT_DENIED;
	}
	if (err) {
		fprintf(stderr, "floodctl: unban %s: %s\n", arg, strerror(-err));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int pinned_verified(struct xdpmaps *m, const char *arg, bool json)
{
	struct fg_verified v;
	struct fg_config cfg;
	struct fg_cidr c;
	uint64_t now = xdpmaps_now_ns(), until = 0, age;
	int by;

	if (cidr_parse_addr(arg, &c)) {
		fprintf(stderr, "floodctl: verified %s: not an address\n", arg);
		return EXIT_ERROR;
	}
	int err = xdpmaps_verified(m, &c, &v);

	if (err && err != -ESTALE) {
		printf(json ? "{\"verified\":false}\n" : "no\n");
		return EXIT_DENIED;
	}
	if (xdpmaps_settings(m, &cfg))
		cfg.verified_ttl_ns = 0;
	by = xdpmaps_verified_by(&v, cfg.verified_ttl_ns, now, &until);
	age = xdpmaps_age_ns(now, v.tcp_ns);
	if (json) {
		printf("{\"verified\":%s,\"verified_by\":\"%s\",\"for_ms\":%llu",
		       by < 0 ? "false" : "true",
		       by < 0 ? "none" : xdpmaps_verified_origin_name((uint32_t)by),
		       (unsigned long long)(by < 0 ? 0 : (until - now) / 1000000));
		if (v.tcp_ns)
			printf(",\"seen_ms_ago\":%llu", (unsigned long long)(age / 1000000));
		printf("}\n");
	} else if (by == FG_VERIFIED_TCP) {
		printf("yes (seen %.1fs ago)\n", age / 1e9);
	} else if (by >= 0) {
		printf("yes (%s, for %.1fs more)\n", xdpmaps_verified_origin_name((uint32_t)by),
		       (until - now) / 1e9);
	} else if (v.tcp_ns) {
		printf("no (seen %.1fs ago, past verified_ttl)\n", age / 1e9);
	} else {
		printf("no (vouch ended)\n");
	}
	return by < 0 ? EXIT_DENIED : EXIT_OK;
}

int pinned_count(struct xdpmaps *m, bool json)
{
	const struct {
		const char *name;
		int fd;
		uint32_t key_size;
	} maps[] = {
		{ "src_state", m->src_state, sizeof(struct fg_src_key) },
		{ "prefix_state", m->prefix_state, sizeof(struct fg_src_key) },
		{ "udp_flows", m->udp_flows, sizeof(struct fg_udp_key) },
		{ "verified", m->verified, sizeof(struct fg_src_key) },
		{ "bans_addr", m->bans_addr, sizeof(struct fg_ban_key) },
		{ "bans_pfx", m->bans_pfx, sizeof(struct fg_ban_pfx_key) },
		{ "bans", m->bans, sizeof(struct fg_lpm_key) },
		{ "allow_lpm", m->allow, sizeof(struct fg_lpm_key) },
		{ "deny_lpm", m->deny, sizeof(struct fg_lpm_key) },
		{ "allow_addr", m->allow_addr, sizeof(struct fg_ban_key) },
		{ "deny_addr", m->deny_addr, sizeof(struct fg_ban_key) },
	};
	struct json j;
	size_t i;

	json_init(&j, stdout);
	if (json)
		json_obj_begin(&j);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		long n = xdpmaps_count(maps[i].fd, maps[i].key_size);

		if (n < 0) {
			fprintf(stderr, "floodctl: count %s: %s\n", maps[i].name, strerror(-n));
			return EXIT_ERROR;
		}
		if (json) {
			json_keyz(&j, maps[i].name);
			json_int(&j, n);
		} else {
			printf("%-14s %ld\n", maps[i].name, n);
		}
	}
	if (json) {
		json_obj_end(&j);
		json_end(&j);
	}
	return EXIT_OK;
}
