#!/bin/bash
# bench/redis.sh: floodgated's RL.CHECK with the Redis store (store.type:
# redis, a local redis-server on a Unix socket), side by side in one run with
# a client calling the equivalent Lua limiter (bench/gcra3.lua) on the same
# redis-server directly. redis-benchmark drives both: 50 clients, -P 1 and
# -P 16, random keys. Reports requests/s and p50/p99 (ms). --smoke: tiny counts;
# --out DIR: where redis.md goes (default bench/results).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/netns/lib.sh"
. "$ROOT/tests/netns/agent.sh"
. "$ROOT/bench/lib.sh"

bench_args "$@"
if [ $SMOKE = 1 ]; then N=2000 RUNS=1; else N=${N:-200000} RUNS=${RUNS:-3}; fi
KEYS=100000
CLIENTS=50
mkdir -p "$OUT"

fg_require_cmd redis-server redis-benchmark redis-cli
fg_topo_3ns
RSOCK=$FG_TMP/redis.sock
fg_bg redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log"
fg_wait_for -t 10 test -S "$RSOCK" || fg_fail "redis-server did not start"
cat >"$FG_TMP/fg.yaml" <<YAML
store: { type: redis, redis: { url: "unix://$RSOCK", timeout_ms: 200 } }
policies:
  - name: api
    type: window
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]
YAML
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen ""
fg_wait_for -t 10 sh -c "redis-cli -s '$FG_SOCK' INFO policies | grep -q '^store_fallback_active:0'" ||
	fg_fail "the agent did not connect to redis"
SHA=$(redis-cli -s "$RSOCK" SCRIPT LOAD "$(cat "$ROOT/bench/gcra3.lua")")

declare -A RES
for p in 1 16; do
	RES["agent/$p"]=$(bench_redis_run "$FG_SOCK" $p RL.CHECK api k:__rand_int__)
	RES["lua/$p"]=$(bench_redis_run "$RSOCK" $p EVALSHA "$SHA" 1 k:__rand_int__)
done
fb=$(redis-cli -s "$FG_SOCK" INFO policies | tr -d '\r' | sed -n 's/^store_fallback_decisions_total://p')
[ "$fb" = 0 ] || fg_log "warning: $fb decisions fell back during the run"
{
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs"
	echo "- redis-server $(redis-server --version | awk '{ print $3 }' | cut -d= -f2) on a Unix socket, same machine; date $(date -u +%F), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- method: redis-benchmark -c $CLIENTS -n $N -r $KEYS, median of $RUNS runs by req/s; fallback decisions during the run: $fb"
	echo
	echo "| client (50 clients) | pipeline | req/s | p50 ms | p99 ms |"
	echo "|---|---:|---:|---:|---:|"
	for p in 1 16; do
		read -r rps p50 p99 <<<"${RES["agent/$p"]}"
		echo "| floodgated RL.CHECK, Redis store (3 windows) | $p | $rps | $p50 | $p99 |"
		read -r rps p50 p99 <<<"${RES["lua/$p"]}"
		echo "| EVALSHA gcra3.lua on redis-server directly (3 windows) | $p | $rps | $p50 | $p99 |"
	done
} | tee "$OUT/redis.md"
