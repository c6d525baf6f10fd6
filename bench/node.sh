#!/bin/bash
# make bench (section node): an Express app with no limiter, with floodgate's
# rateLimit (clients/node) on floodgated's socket, and with express-rate-limit's
# default memory store, side by side in one run (bench/node_http.js drives them
# with autocannon, requests/s and p99 latency). The agent runs as nobody in
# app-only mode. --smoke: a few hundred requests each; --out DIR: node.csv, node.md.
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
fg_require_cmd node setpriv redis-cli
PKG=$FG_ROOT/clients/node
for m in autocannon express express-rate-limit; do
	[ -d "$PKG/node_modules/$m" ] || fg_fail "clients/node/node_modules/$m missing: run 'npm ci' in clients/node (make test does)"
done

fg_ns_setup
chmod 711 "$FG_TMP"
U=$FG_TMP/u
mkdir -m 700 "$U"
chown 65534:65534 "$U"
printf 'app_only: true\npolicies:\n  - { name: bench_api, type: window, limits: [ { count: 50000000, per: 1m } ] }\n' >"$U/fg.yaml"
chmod 644 "$U/fg.yaml"
fg_bg setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- \
	"$FLOODGATED" --app-only -c "$U/fg.yaml" --socket "$U/fg.sock" --metrics-listen "" >"$FG_TMP/agent.log" 2>&1
AGENT_PID=$FG_LAST_PID # setpriv execs floodgated: its CPU time is read from /proc
fg_wait_for -t 20 redis-cli -s "$U/fg.sock" PING >/dev/null || { cat "$FG_TMP/agent.log"; fg_fail "floodgated did not start"; }

args=(--socket "$U/fg.sock" --csv "$OUT/node.csv" --agent-pid "$AGENT_PID" --clk-tck "$(getconf CLK_TCK)")
[ "$SMOKE" = 1 ] && args+=(--smoke)
node "$FG_ROOT/bench/node_http.js" "${args[@]}" ${ROUNDS:+--rounds "$ROUNDS"} ${DURATION:+--duration "$DURATION"} |
	tee "$OUT/node.md"
[ "${PIPESTATUS[0]}" = 0 ]
