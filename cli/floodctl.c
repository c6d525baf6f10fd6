// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floodctl: the operator's command line. This version reads and writes the
 * pinned XDP maps directly (root, or whoever may open the pins), so it works
 * whether or not floodgated is running (persist: true keeps the maps).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "loader.h"
#include "xdpmaps.h"

enum { EXIT_OK = 0, EXIT_DENIED = 1, EXIT_ERROR = 2 };

static bool json;

static void usage(FILE *f)
{
	fprintf(f, "usage: floodctl [-p PIN_DIR] [--json] COMMAND\n"
		   "\n"
		   "commands:\n"
		   "  stats                 packets and bytes by reason (passed / dropped)\n"
		   "  rules                 new flows and drops by rule id, attack state\n"
		   "  source ADDR|CIDR      bucket state of an address or prefix, per rule\n"
		   "  list bans|allow|deny  entries of a list\n"
		   "  verified ADDR         whether the host talks to ADDR (exit 1 if not)\n"
		   "  count                 entries in the state maps\n"
		   "  ban CIDR [--for DUR]  ban (DUR like 90s, 10m, 1h; default until unbanned)\n"
		   "  unban CIDR            lift a ban\n"
		   "\n"
		   "  -p, --pin-dir DIR     pinned maps of floodgated (default " FG_DEFAULT_PIN_DIR
		   ")\n"
		   "exit status: 0 ok, 1 not found / denied, 2 error\n");
}

static int cmd_stats(struct xdpmaps *m)
{
	struct fg_stat st[FG_R_MAX];
	uint32_t r;

	if (xdpmaps_stats(m, st))
		return EXIT_ERROR;
	if (json)
		printf("{");
	else
		printf("%-12s %14s %14s %16s %16s\n", "REASON", "PASSED", "DROPPED", "PASSED_BYTES",
		       "DROPPED_BYTES");
	for (r = 0; r < FG_R_MAX; r++) {
		if (json)
			printf("%s\"%s\":{\"passed\":%llu,\"dropped\":%llu,\"passed_bytes\":%llu,"
			       "\"dropped_bytes\":%llu}",
			       r ? "," : "", xdpmaps_reason_name(r),
			       (unsigned long long)st[r].packets[0],
			       (unsigned long long)st[r].packets[1],
			       (unsigned long long)st[r].bytes[0],
			       (unsigned long long)st[r].bytes[1]);
		else
			printf("%-12s %14llu %14llu %16llu %16llu\n", xdpmaps_reason_name(r),
			       (unsigned long long)st[r].packets[0],
			       (unsigned long long)st[r].packets[1],
			       (unsigned long long)st[r].bytes[0],
			       (unsigned long long)st[r].bytes[1]);
	}
	if (json)
		printf("}\n");
	return EXIT_OK;
}

static int cmd_rules(struct xdpmaps *m)
{
	uint64_t now = xdpmaps_now_ns();
	uint32_t id;
	bool first = true;

	if (json)
		printf("[");
	else
		printf("%-4s %12s %12s %12s %12s %12s %6s\n", "RULE", "NEW_FLOWS", "PASSED",
		       "DROP_ADDR", "DROP_PREFIX", "DROP_GLOBAL", "ATTACK");
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_rule_stat rs;
		struct fg_global_state gs;
		int attack;

		if (xdpmaps_rule_stats(m, id, &rs) || xdpmaps_global(m, id, &gs))
			return EXIT_ERROR;
		if (!rs.new_flows && id > 1)
			continue;
		attack = now < gs.attack_until_ns;
		if (json)
			printf("%s{\"rule\":%u,\"new_flows\":%llu,\"passed\":%llu,"
			       "\"dropped_address\":%llu,\"dropped_prefix\":%llu,"
			       "\"dropped_global\":%llu,\"under_attack\":%d}",
			       first ? "" : ",", id, (unsigned long long)rs.new_flows,
			       (unsigned long long)rs.passed, (unsigned long long)rs.dropped[0],
			       (unsigned long long)rs.dropped[1], (unsigned long long)rs.dropped[2],
			       attack);
		else
			printf("%-4u %12llu %12llu %12llu %12llu %12llu %6s\n", id,
			       (unsigned long long)rs.new_flows, (unsigned long long)rs.passed,
			       (unsigned long long)rs.dropped[0], (unsigned long long)rs.dropped[1],
			       (unsigned long long)rs.dropped[2], attack ? "yes" : "no");
		first = false;
	}
	if (json)
		printf("]\n");
	return EXIT_OK;
}

static int cmd_source(struct xdpmaps *m, const char *arg)
{
	uint64_t now = xdpmaps_now_ns();
	struct fg_cidr c;
	uint32_t id;
	int found = 0;

	if (cidr_parse(arg, &c)) {
		fprintf(stderr, "floodctl: source %s: not an address or prefix\n", arg);
		return EXIT_ERROR;
	}
	if (!json)
		printf("%-4s %12s %12s %12s %12s\n", "RULE", "NEW_FLOWS", "DROPPED", "VIOLATIONS",
		       "TAT_AHEAD_MS");
	for (id = 0; id < FG_MAX_RULES; id++) {
		struct fg_src_state st;
		double ahead;

		if (xdpmaps_source(m, &c, id, &st))
			continue;
		ahead = st.tat_ns > now ? (st.tat_ns - now) / 1e6 : 0;
		if (json)
			printf("%s{\"rule\":%u,\"new_flows\":%llu,\"dropped\":%llu,"
			       "\"violations\":%u}",
			       found ? "," : "[", id, (unsigned long long)st.new_flows,
			       (unsigned long long)st.dropped, st.violations);
		else
			printf("%-4u %12llu %12llu %12u %12.1f\n", id,
			       (unsigned long long)st.new_flows, (unsigned long long)st.dropped,
			       st.violations, ahead);
		found++;
	}
	if (json)
		printf(found ? "]\n" : "[]\n");
	return found ? EXIT_OK : EXIT_DENIED;
}

static int print_entry(const struct fg_cidr *c, const struct fg_ban *ban, void *arg)
{
	char buf[FG_CIDR_STRLEN];
	uint64_t now = *(uint64_t *)arg;

	cidr_format(c, buf, sizeof(buf));
	if (!ban) {
		printf("%s\n", buf);
		return 0;
	}
	if (ban->expires_ns && ban->expires_ns <= now)
		return 0;
	if (ban->expires_ns)
		printf("%-44s %-7s %llus\n", buf, xdpmaps_origin_name(ban->origin),
		       (unsigned long long)((ban->expires_ns - now) / 1000000000ULL));
	else
		printf("%-44s %-7s forever\n", buf, xdpmaps_origin_name(ban->origin));
	return 0;
}

static int cmd_list(struct xdpmaps *m, const char *what)
{
	uint64_t now = xdpmaps_now_ns();

	if (!strcmp(what, "bans"))
		return xdpmaps_list_each(m->bans, true, print_entry, &now) ? EXIT_ERROR : EXIT_OK;
	if (!strcmp(what, "allow"))
		return xdpmaps_list_each(m->allow, false, print_entry, &now) ? EXIT_ERROR : EXIT_OK;
	if (!strcmp(what, "deny"))
		return xdpmaps_list_each(m->deny, false, print_entry, &now) ? EXIT_ERROR : EXIT_OK;
	fprintf(stderr, "floodctl: list %s: use bans, allow or deny\n", what);
	return EXIT_ERROR;
}

/* "90", "90s", "10m", "1h", "2d" -> seconds; -1 when malformed. */
static long long parse_duration(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}

static int cmd_ban(struct xdpmaps *m, int argc, char **argv)
{
	long long secs = 0;
	struct fg_cidr c;
	int err;

	if (argc < 1 || cidr_parse(argv[0], &c)) {
		fprintf(stderr, "floodctl: ban needs a CIDR like 198.51.100.7 or 2001:db8::/48\n");
		return EXIT_ERROR;
	}
	if (argc >= 3 && !strcmp(argv[1], "--for")) {
		secs = parse_duration(argv[2]);
		if (secs <= 0) {
			fprintf(stderr, "floodctl: --for %s: use a duration like 90s, 10m, 1h\n",
				argv[2]);
			return EXIT_ERROR;
		}
	} else if (argc != 1) {
		fprintf(stderr, "floodctl: usage: ban CIDR [--for DURATION]\n");
		return EXIT_ERROR;
	}
	err = xdpmaps_ban(m, &c, (uint64_t)secs, FG_BAN_MANUAL);
	if (err) {
		fprintf(stderr, "floodctl: ban %s: %s\n", argv[0], strerror(-err));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int cmd_unban(struct xdpmaps *m, const char *arg)
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
	return err ? EXIT_ERROR : EXIT_OK;
}

static int cmd_verified(struct xdpmaps *m, const char *arg)
{
	uint64_t seen;
	struct fg_cidr c;

	if (cidr_parse_addr(arg, &c)) {
		fprintf(stderr, "floodctl: verified %s: not an address\n", arg);
		return EXIT_ERROR;
	}
	if (xdpmaps_verified(m, &c, &seen)) {
		printf(json ? "{\"verified\":false}\n" : "no\n");
		return EXIT_DENIED;
	}
	if (json)
		printf("{\"verified\":true,\"seen_ms_ago\":%llu}\n",
		       (unsigned long long)((xdpmaps_now_ns() - seen) / 1000000));
	else
		printf("yes (seen %.1fs ago)\n", (xdpmaps_now_ns() - seen) / 1e9);
	return EXIT_OK;
}

static int cmd_count(struct xdpmaps *m)
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
		{ "bans", m->bans, sizeof(struct fg_lpm_key) },
		{ "allow_lpm", m->allow, sizeof(struct fg_lpm_key) },
		{ "deny_lpm", m->deny, sizeof(struct fg_lpm_key) },
	};
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		long n = xdpmaps_count(maps[i].fd, maps[i].key_size);

		if (n < 0)
			return EXIT_ERROR;
		if (json)
			printf("%s\"%s\":%ld", i ? "," : "{", maps[i].name, n);
		else
			printf("%-14s %ld\n", maps[i].name, n);
	}
	if (json)
		printf("}\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pin_dir = FG_DEFAULT_PIN_DIR, *cmd;
	struct xdpmaps m;
	int c, ret, err;

	while ((c = getopt_long(argc, argv, "+p:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	cmd = argv[optind++];
	err = xdpmaps_open_pinned(&m, pin_dir);
	if (err) {
		fprintf(stderr,
			"floodctl: cannot open floodgate's maps in %s: %s\n"
			"  is floodgated running (or persist: true)? are you root?\n",
			pin_dir, strerror(-err));
		return EXIT_ERROR;
	}
	if (!strcmp(cmd, "stats"))
		ret = cmd_stats(&m);
	else if (!strcmp(cmd, "rules"))
		ret = cmd_rules(&m);
	else if (!strcmp(cmd, "source") && optind < argc)
		ret = cmd_source(&m, argv[optind]);
	else if (!strcmp(cmd, "list") && optind < argc)
		ret = cmd_list(&m, argv[optind]);
	else if (!strcmp(cmd, "verified") && optind < argc)
		ret = cmd_verified(&m, argv[optind]);
	else if (!strcmp(cmd, "count"))
		ret = cmd_count(&m);
	else if (!strcmp(cmd, "ban"))
		ret = cmd_ban(&m, argc - optind, argv + optind);
	else if (!strcmp(cmd, "unban") && optind < argc)
		ret = cmd_unban(&m, argv[optind]);
	else {
		fprintf(stderr, "floodctl: unknown command or missing argument: %s\n", cmd);
		usage(stderr);
		ret = EXIT_ERROR;
	}
	xdpmaps_close(&m);
	return ret;
}
