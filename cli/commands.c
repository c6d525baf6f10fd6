// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * commands: every floodctl command, one row each, in --help's order. A row
 * says what the command takes (positional arguments, O_* options), how its
 * usage line and --help entry read, and which handler runs it over the
 * socket and on the pinned maps (-p). docs/man/floodctl.8 lists the same
 * commands: tests/unit/check_cli.c compares them.
 */
#include "agentcmd.h"
#include "cmdline.h"
#include "rlcmd.h"
#include "xdpcmd.h"

const struct cmdline_command commands_all[] = {
	{ "status", 0, 0, "status", NULL,
	  "agent version, uptime, clients, interfaces, policies,\n"
	  "the shared store's Redis topology",
	  "XDP (live counts and bans):", agentcmd_status, NULL },
	{ "overview", 0, O_URL, "overview [--url URL]", NULL,
	  "the status page's summary (GET /status.txt, --json:\n"
	  "/status.json on metrics.listen; default URL\n"
	  "http://127.0.0.1:10150)",
	  NULL, NULL, NULL }, /* neither: floodctl.c runs pagecmd_overview() */
	{ "top", 0, O_N | O_BY | O_WATCH | O_INTERVAL,
	  "top [-n N] [--by new|drops] [--watch [--interval S]]", NULL,
	  "the N (default 10) busiest sources; --watch: a\n"
	  "live screen (attack state, drops/s by reason)\n"
	  "until q or Ctrl-C",
	  NULL, xdpcmd_top, NULL },
	{ "watch", 0, O_N, "watch [-n COUNT]", NULL,
	  "violation events as they happen, one a line\n"
	  "(--json: the agent's JSON objects), until Ctrl-C\n"
	  "or COUNT events",
	  NULL, xdpcmd_watch, NULL },
	{ "source", 1, 0, "source ADDR", NULL,
	  "counters, tokens and ban of an address and its prefix", NULL, xdpcmd_source,
	  xdpcmd_pin_source },
	{ "verified", 1, 0, "verified ADDR", NULL, "whether the host talks to ADDR (exit 1 if not)",
	  NULL, xdpcmd_verified, xdpcmd_pin_verified },
	{ "stats", 0, 0, "stats", NULL, "packets and bytes by reason (passed / dropped)", NULL,
	  xdpcmd_stats, xdpcmd_pin_stats },
	{ "rules", 0, 0, "rules", NULL,
	  "new flows and drops by rule (id, name), attack state (maps)", NULL, NULL,
	  xdpcmd_pin_rules },
	{ "count", 0, 0, "count", NULL, "entries in the state maps (maps)", NULL, NULL,
	  xdpcmd_pin_count },
	{ "ban", 1, O_FOR, "ban CIDR [--for DURATION]", "ban CIDR [--for DUR]",
	  "ban (DUR like 90s, 10m, 1h, 2d; default until unbanned)", NULL, xdpcmd_ban,
	  xdpcmd_pin_ban },
	{ "unban", 1, 0, "unban CIDR", NULL, "lift a ban (exit 1 if not banned)", NULL,
	  xdpcmd_unban, xdpcmd_pin_unban },
	{ "vouch", 1, O_FOR, "vouch ADDR [--for DURATION]", "vouch ADDR [--for DUR]",
	  "mark ADDR verified: under attack it skips the\n"
	  "global budget (default sources.verified_ttl, at\n"
	  "most vouch.max_duration); exit 1 if refused",
	  NULL, xdpcmd_vouch, NULL },
	{ "unvouch", 1, 0, "unvouch ADDR", NULL, "end a vouch (exit 1 if none holds)", NULL,
	  xdpcmd_unvouch, NULL },
	{ "allow", 1, O_DEL, "allow CIDR [--del]", NULL, "add (remove) a runtime allow entry", NULL,
	  xdpcmd_allow, NULL },
	{ "deny", 1, O_DEL, "deny CIDR [--del]", NULL, "add (remove) a runtime deny entry", NULL,
	  xdpcmd_deny, NULL },
	{ "list", 1, 0, "list bans|allow|deny", NULL, "entries of a list", NULL, xdpcmd_list,
	  xdpcmd_pin_list },
	{ "reload", 0, 0, "reload", NULL, "re-read the config (like SIGHUP)", NULL, agentcmd_reload,
	  NULL },
	{ "check", 2, O_COST | O_ROLE | O_PEEK,
	  "check POLICY KEY [--cost N] [--role ROLE] [--peek]",
	  "check POLICY KEY [--cost N] [--role R] [--peek]", "RL.CHECK (exit 1 if not allowed)",
	  "application limits (policies):", rlcmd_check, NULL },
	{ "auth-fail", 2, 0, "auth-fail POLICY KEY", NULL,
	  "record a failed login; the delay that now applies", NULL, rlcmd_auth_fail, NULL },
	{ "auth-check", 2, 0, "auth-check POLICY KEY", NULL,
	  "the wait before the next attempt (exit 1 if > 0)", NULL, rlcmd_auth_check, NULL },
	{ "auth-ok", 2, 0, "auth-ok POLICY KEY", NULL, "a successful login: forget the failures",
	  NULL, rlcmd_auth_ok, NULL },
	{ "event", 3, 0, "event POLICY CONN_ID EVENT", "event POLICY CONN EVENT",
	  "count a connection's event (exit 1 on disconnect)", NULL, rlcmd_event, NULL },
};
const size_t commands_count = sizeof(commands_all) / sizeof(commands_all[0]);
