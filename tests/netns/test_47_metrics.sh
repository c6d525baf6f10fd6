#!/bin/bash
# floodgated's Prometheus endpoint, scraped live: `promtool check metrics`
# passes, every family the operations issue lists is there (with the
# activity of a few commands in it), HTTP answers 404/405 where it should,
# and /healthz turns 503 with a reason when another tool's XDP program
# takes floodgate's place.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd curl promtool bpftool redis-cli
PORT=443
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 100, burst: 200 }
policies:
  - name: login
    type: progressive
    free_failures: 1
  - name: api
    type: window
    limits: [ { count: 2, per: 1m } ]
metrics: { listen: "127.0.0.1:10150" }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"
URL=http://127.0.0.1:10150
get() { fg_in "$FG_V" curl -sS --max-time 5 "$@"; }
scrape() { get "$URL/metrics" >"$FG_TMP/metrics.txt"; }

# Some activity for the counters: connections, decisions, auth failures.
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 5)
fg_assert_eq "$(fg_kv ok "$out")" 5 "client connects"
for i in 1 2 3; do redis-cli -s "$FG_SOCK" RL.CHECK api user:1 >/dev/null; done
for i in 1 2 3; do redis-cli -s "$FG_SOCK" RL.AUTH.FAIL login 192.0.2.77 >/dev/null; done
redis-cli -s "$FG_SOCK" NOSUCHCOMMAND >/dev/null || true

# The snapshot is rendered every second: wait for one that saw the commands.
has_failures() {
	scrape && grep -q '^floodgate_rl_auth_delay_seconds_count{policy="login"} 3$' "$FG_TMP/metrics.txt"
}
fg_wait_for -t 5 has_failures || {
	cat "$FG_TMP/metrics.txt" >&2
	fg_fail "the auth failures never showed in /metrics"
}
# Map entries come from a count on the thread pool, started with the agent.
counted() { scrape && grep -q '^floodgate_xdp_map_entries' "$FG_TMP/metrics.txt"; }
fg_wait_for -t 15 counted || fg_fail "map entries were never counted"

promtool check metrics <"$FG_TMP/metrics.txt" >"$FG_TMP/promtool.out" 2>&1 || {
	cat "$FG_TMP/promtool.out" >&2
	fg_fail "promtool check metrics rejects the scrape"
}
fg_ok "promtool check metrics passes ($(wc -l <"$FG_TMP/metrics.txt") lines)"

missing=
for f in floodgate_build_info floodgate_xdp_attached floodgate_xdp_packets_total \
	floodgate_xdp_bytes_total floodgate_xdp_new_flows_total floodgate_xdp_dropped_total \
	floodgate_xdp_under_attack floodgate_xdp_tracked_sources floodgate_xdp_map_entries \
	floodgate_xdp_map_capacity floodgate_xdp_bans floodgate_xdp_ban_filter_slots_used \
	floodgate_xdp_state_filter_slots_used floodgate_xdp_prefix_ban_cover_units_used \
	floodgate_xdp_events_total \
	floodgate_xdp_events_lost_total floodgate_rl_decisions_total \
	floodgate_rl_auth_delay_seconds floodgate_rl_keys floodgate_rl_evictions_total \
	floodgate_socket_clients floodgate_socket_commands_total floodgate_socket_errors_total \
	floodgate_command_duration_seconds floodgate_config_reloads_total \
	floodgate_config_last_reload_success_timestamp_seconds process_resident_memory_bytes \
	process_cpu_seconds_total process_open_fds process_max_fds process_start_time_seconds; do
	grep -q "^# TYPE $f " "$FG_TMP/metrics.txt" || missing="$missing $f"
done
[ -z "$missing" ] || fg_fail "families missing from /metrics:$missing"
fg_ok "every family of the issue is exposed"
# and every family exposed has a row in docs/metrics.md's tables (its name in
# backquotes in the first cell)
documented() { awk -F'|' -v n="\`$1\`" '/^\|/ && index($2, n) { found = 1 } END { exit !found }' \
	"$FG_ROOT/docs/metrics.md"; }
undocumented=$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$FG_TMP/metrics.txt" | sort -u |
	while read -r f; do documented "$f" || printf ' %s' "$f"; done)
[ -z "$undocumented" ] || fg_fail "families exposed but not in docs/metrics.md:$undocumented"
fg_ok "every family exposed is documented"

# val 'name{labels}' — the sample's value (exact series).
val() { awk -v s="$1" '$1 == s { print $2 }' "$FG_TMP/metrics.txt"; }
fg_assert_eq "$(val 'floodgate_xdp_attached{iface="veth-a",mode="native"}')" 1 "veth-a attached (native)"
fg_assert_ge "$(val 'floodgate_xdp_new_flows_total{rule="signaling",proto="tcp"}')" 5 "the client's SYNs counted on the rule"
fg_assert_eq "$(val 'floodgate_xdp_syn_cookies{rule="signaling",mode="auto"}')" 1 "syn_cookies: auto by default"
grep -q '^floodgate_xdp_syn_cookies_sent_total ' "$FG_TMP/metrics.txt" || fg_fail "no cookie counters"
fg_assert_ge "$(val 'floodgate_xdp_packets_total{iface="veth-c",action="pass",reason="new_flow"}')" 5 "new flows counted on veth-c"
fg_assert_eq "$(val 'floodgate_rl_decisions_total{policy="api",result="allowed"}')" 1 "api: first check allowed"
fg_assert_eq "$(val 'floodgate_rl_decisions_total{policy="api",result="warned"}')" 1 "api: second allowed with a warning"
fg_assert_eq "$(val 'floodgate_rl_decisions_total{policy="api",result="denied"}')" 1 "api: the third denied"
fg_assert_eq "$(val 'floodgate_rl_auth_delay_seconds_bucket{policy="login",le="0"}')" 1 "login: the free failure had no delay"
fg_assert_eq "$(val 'floodgate_rl_keys{policy="login"}')" 1 "login: one key"
fg_assert_eq "$(val 'floodgate_socket_errors_total{kind="unknown"}')" 1 "the unknown command counted"
fg_assert_ge "$(val 'floodgate_command_duration_seconds_count{command="rl.check"}')" 1 "rl.check timed"
fg_assert_eq "$(val 'floodgate_xdp_map_capacity{map="src_state"}')" 1000000 "src_state capacity"
fg_assert_eq "$(val 'floodgate_xdp_ban_filter_slots_used')" 0 "no ban: no ban filter slot in use"
# Counted at the same time: a tracked source has its bit set before it is tracked.
if [ "$(val 'floodgate_xdp_map_entries{map="src_state"}')" -gt 0 ]; then
	fg_assert_ge "$(val 'floodgate_xdp_state_filter_slots_used')" 1 "tracked sources: their state filter bits set"
fi
fg_assert_le "$(val 'floodgate_xdp_state_filter_slots_used')" 16777216 "state filter bits within the filter"
fg_assert_eq "$(val 'floodgate_xdp_prefix_ban_cover_units_used{family="ipv4"}')" 0 "no prefix ban: no IPv4 cover unit"
# Prefix bans set their cover units: a /24 its /20, an IPv6 /33 the slots of
# its 128 /40s (hashed: a collision or two among them is allowed). The /33
# is the half of 2001:db8::/32 that holds none of V's addresses.
redis-cli -s "$FG_SOCK" XDP.BAN 203.0.113.0/24 60 >/dev/null
redis-cli -s "$FG_SOCK" XDP.BAN 2001:db8:8000::/33 60 >/dev/null
covered() { scrape && [ "$(val 'floodgate_xdp_prefix_ban_cover_units_used{family="ipv4"}')" = 1 ]; }
fg_wait_for -t 15 covered || fg_fail "a /24 ban did not show as one IPv4 cover unit"
v6=$(val 'floodgate_xdp_prefix_ban_cover_units_used{family="ipv6"}')
fg_assert_ge "$v6" 120 "an IPv6 /33 ban: about 128 cover units"
fg_assert_le "$v6" 128 "an IPv6 /33 ban: at most 128 cover units"
fg_assert_eq "$(val 'floodgate_config_last_reload_successful')" 1 "config loaded"
fg_assert_gt "$(val 'process_resident_memory_bytes')" 1000000 "process RSS reported"

# A reload with a bad file: counted, and the gauge says so.
cp "$FG_TMP/fg.yaml" "$FG_TMP/good.yaml"
echo "rules: [ { name: x, proto: sctp } ]" >"$FG_TMP/fg.yaml"
kill -HUP "$FG_AGENT"
bad_reload() { scrape && [ "$(val 'floodgate_config_reloads_total{result="failure"}')" = 1 ]; }
fg_wait_for -t 5 bad_reload || fg_fail "the rejected reload was not counted"
fg_assert_eq "$(val 'floodgate_config_last_reload_successful')" 0 "rejected reload shows in the gauge"
cp "$FG_TMP/good.yaml" "$FG_TMP/fg.yaml"

code() { fg_in "$FG_V" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
fg_assert_eq "$(code "$URL/nope")" 404 "unknown path: 404"
fg_assert_eq "$(code -X POST "$URL/metrics")" 405 "POST: 405"
ctype=$(get -o /dev/null -w '%{content_type}' "$URL/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fg_fail "content type '$ctype'"
fg_ok "content type is the 0.0.4 text format"

body=$(get "$URL/healthz")
fg_assert_eq "$(code "$URL/healthz")" 200 "healthz 200 while attached ($body)"

# Another tool's program in floodgate's place (the agent attaches its own
# again only where no program is left): /healthz says so.
fg_xdp_take "$FG_V_IF_A"
unhealthy() { [ "$(code "$URL/healthz")" = 503 ]; }
fg_wait_for -t 5 unhealthy || fg_fail "healthz stayed 200 after the detach"
body=$(get "$URL/healthz")
[ "$body" = "$FG_V_IF_A: another XDP program is attached" ] || fg_fail "healthz reason: '$body'"
fg_ok "healthz 503: $body"
scrape
fg_assert_eq "$(val 'floodgate_xdp_attached{iface="veth-a",mode="none"}')" 0 "veth-a reported detached"
fg_assert_eq "$(val 'floodgate_xdp_attached{iface="veth-c",mode="native"}')" 1 "veth-c still attached"
fg_log "render: $(grep "^floodgate_metrics_render_seconds" "$FG_TMP/metrics.txt")"
fg_pass "metrics endpoint: valid exposition, every family, healthz follows the attachment"
