#!/bin/bash
# make bench (section node): an Express app with no limiter, with floodgate's
# rateLimit (clients/node) on floodgated's socket, with express-rate-limit's
# default memory store and with rate-limit-redis on a local redis-server, side by
# side in one run (bench/node_http.js drives them
# with autocannon, requests/s and p99 latency). The agent and redis-server run as
# nobody (floodgated in app-only mode). --smoke: a few hundred requests each; --out DIR: node.csv, node.md.
# From the environment: ROUNDS, DURATION (s per run), VARIANTS (a comma list of
# none, floodgate, floodgate-compare, express-rate-limit, rate-limit-redis),
# COMPARE_PKG (another tree's clients/node, npm ci'd: its rateLimit is the
# variant floodgate-compare, for a change of the package against its base).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
fg_require_cmd node setpriv redis-cli redis-server
PKG=$FG_ROOT/clients/node
for m in autocannon express express-rate-limit rate-limit-redis ioredis; do
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

fg_bg setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- \
	redis-server --port 0 --unixsocket "$U/redis.sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$U" --logfile "$U/redis.log"
REDIS_PID=$FG_LAST_PID
fg_wait_for -t 20 redis-cli -s "$U/redis.sock" PING >/dev/null || fg_fail "redis-server did not start: $(cat "$U/redis.log")"

args=(--socket "$U/fg.sock" --redis "$U/redis.sock" --redis-pid "$REDIS_PID" --csv "$OUT/node.csv" --agent-pid "$AGENT_PID" --clk-tck "$(getconf CLK_TCK)")
[ "$SMOKE" = 1 ] && args+=(--smoke)
node "$FG_ROOT/bench/node_http.js" "${args[@]}" ${ROUNDS:+--rounds "$ROUNDS"} ${DURATION:+--duration "$DURATION"} \
	${VARIANTS:+--variants "$VARIANTS"} ${COMPARE_PKG:+--compare-pkg "$COMPARE_PKG"} |
	tee "$OUT/node.md"
[ "${PIPESTATUS[0]}" = 0 ]
