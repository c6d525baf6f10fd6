#!/bin/bash
# bench/redis.sh: floodgated's RL.CHECK with the Redis store (store.type:
# redis, a local redis-server on a Unix socket), side by side in one run with
# a client calling the equivalent Lua limiter (bench/gcra3.lua) on the same
# redis-server directly; and the same for exact sliding windows: a policy
# with algorithm: sliding against a sorted-set sliding-log limiter in Lua
# (bench/sliding2.lua, 10/1s and 100/1m). redis-benchmark drives both: 50 clients at -P 1 and
# -P 16, and one client at -P 16 (an application pipelining on one
# connection, as ioredis does), random keys. Reports requests/s, p50/p99 (ms) and the CPU time
# redis-server and the agent spent per decision (µs, /proc/PID/stat over the
# runs). --smoke: tiny counts; --out DIR: where redis.md and redis.csv go
# (default bench/results). CONFIGS="50:1" runs only those clients:pipeline
# pairs (default "50:1 50:16 1:16"), ROWS="sliding" only the sliding rows
# (default "gcra sliding"): one question measured again, back to back
# (FLOODGATED=path/to/floodgated measures another build).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
bench_redis_counts

fg_require_cmd redis-server redis-benchmark redis-cli
fg_topo_3ns
RSOCK=$FG_TMP/redis.sock
fg_bg redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log"
REDIS=$FG_LAST_PID
fg_wait_for -t 10 test -S "$RSOCK" || fg_fail "redis-server did not start"
cat >"$FG_TMP/fg.yaml" <<YAML
store: { type: redis, redis: { url: "unix://$RSOCK", timeout_ms: 200 } }
policies:
  - name: api
    type: window
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]
  - name: api_sliding
    type: window
    algorithm: sliding
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m } ]
YAML
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen ""
fg_wait_for -t 10 sh -c "redis-cli -s '$FG_SOCK' INFO policies | grep -q '^store_fallback_active:0'" ||
	fg_fail "the agent did not connect to redis"
SHA=$(redis-cli -s "$RSOCK" SCRIPT LOAD "$(cat "$FG_ROOT/bench/gcra3.lua")")
SHA_SL=$(redis-cli -s "$RSOCK" SCRIPT LOAD "$(cat "$FG_ROOT/bench/sliding2.lua")")

# cpu_ticks PID — user + system time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure NAME CLIENTS P SOCK CMD... — one CSV row:
# name,clients,pipeline,rps,p50,p99,redis_us,agent_us.
measure() {
	local name=$1 CLIENTS=$2 p=$3 sock=$4 r0 a0 res
	shift 4
	r0=$(cpu_ticks "$REDIS") a0=$(cpu_ticks "$FG_AGENT")
	res=$(bench_redis_run "$sock" "$p" "$@")
	awk -v n="$name" -v c="$CLIENTS" -v p="$p" -v res="$res" -v tick="$(getconf CLK_TCK)" -v reqs=$((N * RUNS)) \
		-v r=$(($(cpu_ticks "$REDIS") - r0)) -v a=$(($(cpu_ticks "$FG_AGENT") - a0)) '
		BEGIN { split(res, x, " ")
			printf "%s,%d,%d,%s,%s,%s,%.1f,%.1f\n", n, c, p, x[1], x[2], x[3],
				r * 1e6 / tick / reqs, a * 1e6 / tick / reqs }'
}

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
echo "client,clients,pipeline,rps,p50_ms,p99_ms,redis_us_per_req,agent_us_per_req" >"$OUT/redis.csv"
for cp in ${CONFIGS:-$CLIENTS:1 $CLIENTS:16 1:16}; do
	set -- "${cp%:*}" "${cp#*:}"
	case " ${ROWS:-gcra sliding} " in *" gcra "*)
		measure agent "$1" "$2" "$FG_SOCK" RL.CHECK api k:__rand_int__ >>"$OUT/redis.csv"
		measure lua "$1" "$2" "$RSOCK" EVALSHA "$SHA" 1 k:__rand_int__ >>"$OUT/redis.csv"
		;;
	esac
	case " ${ROWS:-gcra sliding} " in *" sliding "*)
		measure agent_sliding "$1" "$2" "$FG_SOCK" RL.CHECK api_sliding s:__rand_int__ >>"$OUT/redis.csv"
		measure lua_sliding "$1" "$2" "$RSOCK" EVALSHA "$SHA_SL" 1 s:__rand_int__ >>"$OUT/redis.csv"
		;;
	esac
done
fb=$(redis-cli -s "$FG_SOCK" INFO policies | tr -d '\r' | sed -n 's/^store_fallback_decisions_total://p')
[ "$fb" = 0 ] || fg_log "warning: $fb decisions fell back during the run"
{
	echo "- method: redis-benchmark -n $N -r $KEYS, median of $RUNS runs by req/s;" \
		"CPU per decision over all $RUNS runs; fallback decisions during the run: $fb;" \
		"load average (1 min) at the start and the end: $LOAD0, $(cut -d' ' -f1 /proc/loadavg)"
	echo
	echo "| client | connections | pipeline | req/s | p50 ms | p99 ms | redis-server CPU µs/decision | agent CPU µs/decision |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	awk -F, 'NR > 1 {
		c = $1 == "agent" ? "floodgated RL.CHECK, Redis store (3 windows)" : $1 == "lua" ? "EVALSHA gcra3.lua on redis-server directly (3 windows)" : $1 == "agent_sliding" ? "floodgated RL.CHECK, Redis store, algorithm: sliding (2 windows)" : "EVALSHA sliding2.lua (sorted-set log) on redis-server directly (2 windows)"
		printf "| %s | %d | %d | %.0f | %s | %s | %s | %s |\n", c, $2, $3, $4, $5, $6, $7, ($1 ~ /^agent/ ? $8 : "-") }' "$OUT/redis.csv"
} | tee "$OUT/redis.md"
