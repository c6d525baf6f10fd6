#!/bin/bash
# The Prometheus rules and the Grafana dashboard floodgate ships
# (packaging/prometheus, packaging/grafana): `promtool check rules` parses
# them, the unit tests of packaging/prometheus/tests pass (every alert fires
# when it should, stays silent when it should not, waits its `for:`), and
# they fail when an alert loses its `for:` (so they test it); every PromQL
# expression of the dashboard parses; every metric either file reads is
# documented in docs/metrics.md and exported by a live floodgated (XDP mode,
# Redis store, policies: every family the rules name), and every recording
# rule the dashboard reads is recorded.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd promtool python3 curl redis-server redis-cli
RULES=$FG_ROOT/packaging/prometheus/floodgate.rules.yml
DASH=$FG_ROOT/packaging/grafana/floodgate.json
CHECK=$FG_ROOT/tests/netns/promql_check.py

promtool check rules "$RULES" >"$FG_TMP/check.out" 2>&1 || {
	cat "$FG_TMP/check.out" >&2
	fg_fail "promtool check rules rejects $RULES"
}
fg_ok "promtool check rules: $(grep -o '[0-9]* rules found' "$FG_TMP/check.out")"

promtool test rules "$FG_ROOT"/packaging/prometheus/tests/*.yml >"$FG_TMP/test.out" 2>&1 || {
	cat "$FG_TMP/test.out" >&2
	fg_fail "promtool test rules fails"
}
alerts=$(grep -c '^ *- alert: ' "$RULES")
for a in $(sed -n 's/^ *- alert: //p' "$RULES"); do
	grep -q "alertname: $a\$" "$FG_ROOT"/packaging/prometheus/tests/alerts.yml ||
		fg_fail "alert $a has no unit test"
done
fg_ok "promtool test rules passes; each of the $alerts alerts has tests"

# Without its for:, each alert must fail its tests (they exercise it). The
# copy sits beside the tests so their rule_files path finds it.
mkdir -p "$FG_TMP/prom/tests"
cp "$FG_ROOT"/packaging/prometheus/tests/*.yml "$FG_TMP/prom/tests/"
n=0
while read -r line; do
	awk -v L="$line" 'NR != L' "$RULES" >"$FG_TMP/prom/floodgate.rules.yml"
	if promtool test rules "$FG_TMP/prom/tests/alerts.yml" >/dev/null 2>&1; then
		fg_fail "the tests pass with line $line ($(sed -n "${line}p" "$RULES" | xargs)) removed"
	fi
	n=$((n + 1))
done < <(grep -n '^ *for: ' "$RULES" | cut -d: -f1)
fg_ok "each of the $n for: durations is exercised (the tests fail without it)"

python3 "$CHECK" wrap "$DASH" "$FG_TMP/dash.rules.yml" >/dev/null
promtool check rules "$FG_TMP/dash.rules.yml" >"$FG_TMP/dash.out" 2>&1 || {
	cat "$FG_TMP/dash.out" >&2
	fg_fail "a PromQL expression of the dashboard does not parse"
}
fg_ok "every PromQL expression of the dashboard parses ($(grep -o '[0-9]* rules found' "$FG_TMP/dash.out"))"

python3 "$CHECK" exported "$FG_ROOT/docs/metrics.md" >"$FG_TMP/documented"
python3 "$CHECK" names --exported "$FG_TMP/documented" --rules "$RULES" "$RULES" "$DASH" \
	>"$FG_TMP/used" || fg_fail "the rules or the dashboard read undocumented metrics"
fg_ok "the $(wc -l <"$FG_TMP/used") names the rules and the dashboard read are documented (docs/metrics.md) or recorded"

# A live agent in XDP mode with a Redis store and policies: every family.
fg_topo_3ns
RSOCK=$FG_TMP/redis.sock
fg_bg fg_in "$FG_V" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 \
	--save "" --appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log"
fg_wait_for -t 10 redis-cli -s "$RSOCK" PING || fg_fail "redis-server did not start"
cat >"$FG_TMP/fg.yaml" <<YAML
store:
  type: redis
  redis: { url: "unix://$RSOCK", timeout_ms: 200, prefix: t46 }
rules:
  - { name: signaling, proto: tcp, ports: [443], per_source: { rate: 100, burst: 200 } }
policies:
  - { name: login, type: progressive, free_failures: 1 }
  - { name: api, type: window, limits: [ { count: 2, per: 1m } ] }
metrics: { listen: "127.0.0.1:10150" }
YAML
fg_agent_start "$FG_TMP/fg.yaml"
redis-cli -s "$FG_SOCK" RL.CHECK api user:1 >/dev/null
scrape() { fg_in "$FG_V" curl -sS --max-time 5 http://127.0.0.1:10150/metrics >"$FG_TMP/metrics.txt"; }
full() { scrape && grep -q '^floodgate_xdp_map_entries' "$FG_TMP/metrics.txt" &&
	grep -q '^floodgate_store_fallback_active 0' "$FG_TMP/metrics.txt"; }
fg_wait_for -t 15 full || {
	cat "$FG_TMP/metrics.txt" >&2
	fg_fail "the scrape never had the map counts and the Redis store up"
}
python3 "$CHECK" exported "$FG_TMP/metrics.txt" >"$FG_TMP/scraped"
python3 "$CHECK" names --exported "$FG_TMP/scraped" --rules "$RULES" "$RULES" "$DASH" \
	>/dev/null || fg_fail "the rules or the dashboard read metrics the agent does not export"
fg_ok "every metric the rules and the dashboard read is in a live scrape ($(wc -l <"$FG_TMP/scraped") names exported)"
fg_pass "alert and recording rules, their unit tests, the dashboard's PromQL"
