#!/bin/bash
# A real Prometheus server scrapes floodgated every second during a bounded
# random-source SYN flood: PromQL through its HTTP API sees the flooding
# rule's dropped flows increase and floodgate_xdp_under_attack go to 1.
# Prometheus runs in V (the agent's metrics listen on V's loopback) with its
# config and storage in the test's directory; nothing leaves the namespaces.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd prometheus curl jq
PORT=443
METRICS=127.0.0.1:10150
PROM=127.0.0.1:19090
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
sources: { attack_hold: 2s }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 100, burst: 200 }
    global: { rate: 200, burst: 400 }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen "$METRICS"

cat >"$FG_TMP/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
rule_files: ["$FG_ROOT/packaging/prometheus/floodgate.rules.yml"]
scrape_configs:
  - job_name: floodgate
    static_configs: [ { targets: ["$METRICS"] } ]
YAML
fg_bg fg_in "$FG_V" prometheus --config.file="$FG_TMP/prometheus.yml" \
	--storage.tsdb.path="$FG_TMP/prom" --web.listen-address="$PROM" \
	--log.level=warn >"$FG_TMP/prometheus.log" 2>&1
PROM_PID=$FG_LAST_PID
fg_on_exit "fg_stop $PROM_PID 5"

# query EXPR — the number of series the instant query returns (-1: error).
query() {
	fg_in "$FG_V" curl -sS --max-time 2 "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .status == "success" then (.data.result | length) else -1 end' 2>/dev/null ||
		echo -1
}
has() { [ "$(query "$1")" -gt 0 ]; }

fg_wait_for -t 20 has 'up{job="floodgate"} == 1' || {
	cat "$FG_TMP/prometheus.log" >&2
	fg_fail "Prometheus never scraped floodgated"
}
fg_ok "Prometheus scrapes floodgated (up == 1)"
has 'floodgate_xdp_under_attack{rule="signaling"} == 0' || fg_fail "rule under attack before the flood"
fg_ok "no attack before the flood"

fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_SPOOF4" \
	--count 200000 --pps 20000 --seconds 10 >"$FG_TMP/flood4.out"
F4=$FG_LAST_PID

DROPS='increase(floodgate_xdp_dropped_total{rule="signaling"}[30s]) > 0'
ATTACK='max_over_time(floodgate_xdp_under_attack{rule="signaling"}[30s]) == 1'
fg_wait_for -t 10 has "$ATTACK" || fg_fail "PromQL never saw the rule under attack"
fg_ok "PromQL: $ATTACK"
fg_wait_for -t 10 has "$DROPS" || fg_fail "PromQL never saw dropped flows increase"
levels=$(fg_in "$FG_V" curl -sS "http://$PROM/api/v1/query" --data-urlencode "query=$DROPS" |
	jq -r '[.data.result[].metric.level] | join(",")')
fg_ok "PromQL: $DROPS (levels: $levels)"
case ",$levels," in *,global,*) ;; *) fg_fail "the global level is not among the drops" ;; esac
fg_ok "the random-source flood is dropped at the global level"

# The shipped rules on live data: the dashboard's rate is recorded, and the
# alert is pending (its for: is 1m; the flood is shorter).
REC='instance_rule:floodgate_xdp_dropped:rate1m{job="floodgate",rule="signaling"} > 0'
fg_wait_for -t 10 has "$REC" || fg_fail "the recording rule never recorded the drops"
fg_ok "packaging/prometheus rules: $REC"
PENDING='ALERTS{alertname="FloodgateUnderAttack",alertstate="pending",rule="signaling"}'
fg_wait_for -t 10 has "$PENDING" || fg_fail "FloodgateUnderAttack never went pending"
fg_ok "packaging/prometheus rules: $PENDING"

fg_stop "$F4" 5 || true
fg_log "flood: $(<"$FG_TMP/flood4.out")"
fg_pass "a real Prometheus sees the drops and the attack during the flood"
