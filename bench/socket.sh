#!/bin/bash
# make bench-socket: floodgated's decisions over its Unix socket, side by side
# in one run with redis-server doing the same job the common way (a Lua
# GCRA limiter; for the exact sliding mode, a sorted-set sliding log in Lua,
# bench/sliding2.lua; and plain INCR as the floor). redis-benchmark drives both:
# 50 clients, -P 1 and -P 16, random keys. Reports requests/s, p50/p99 and
# the agent's RSS after 1,000,000 keys. --smoke: tiny counts (make test);
# --out DIR: where socket.csv and socket.md go (default bench/results).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
if [ $SMOKE = 1 ]; then N=2000 RUNS=1 KEYS=10000; else N=${N:-200000} RUNS=${RUNS:-3} KEYS=1000000; fi
CLIENTS=50
CSV=$OUT/socket.csv

fg_require_cmd redis-server redis-benchmark redis-cli
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
# api_sliding's own bound leaves the other three their 666,666 keys each.
store: { max_keys: 2100000 }
policies:
  - name: api
    type: window
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]
  - name: api_sliding
    type: window
    algorithm: sliding
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m } ]
    max_keys: 100000
  - name: login
    type: progressive
  - name: socket_events
    type: events
    limit: 100
    window: 1m
YAML
fg_agent_start "$FG_TMP/fg.yaml"
fg_wait_for -t 10 test -S "$FG_SOCK" || fg_fail "agent socket missing"

RSOCK=$FG_TMP/redis.sock
fg_bg redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log"
fg_wait_for -t 10 test -S "$RSOCK" || fg_fail "redis-server did not start"
SHA=$(redis-cli -s "$RSOCK" SCRIPT LOAD "$(cat "$FG_ROOT/bench/gcra3.lua")")
SHA_SL=$(redis-cli -s "$RSOCK" SCRIPT LOAD "$(cat "$FG_ROOT/bench/sliding2.lua")")

echo "side,command,pipeline,rps,p50_ms,p99_ms" >"$CSV"
declare -A RES
bench_row() { # NAME SIDE SOCK P CMD...
	local name=$1 side=$2 sock=$3 p=$4 r
	shift 4
	r=$(bench_redis_run "$sock" "$p" "$@")
	RES["$name/$p"]=$r
	echo "$side,$name,$p,${r// /,}" >>"$CSV"
}
for p in 1 16; do
	bench_row "RL.CHECK (3 windows)" floodgate "$FG_SOCK" $p RL.CHECK api k:__rand_int__
	bench_row "RL.CHECK sliding (2 windows)" floodgate "$FG_SOCK" $p RL.CHECK api_sliding s:__rand_int__
	bench_row "RL.AUTH.FAIL" floodgate "$FG_SOCK" $p RL.AUTH.FAIL login k:__rand_int__
	bench_row "RL.EVENT" floodgate "$FG_SOCK" $p RL.EVENT socket_events c:__rand_int__ message
	bench_row "Lua GCRA (3 windows)" redis "$RSOCK" $p EVALSHA "$SHA" 1 k:__rand_int__
	bench_row "Lua sliding log (2 windows)" redis "$RSOCK" $p EVALSHA "$SHA_SL" 1 s:__rand_int__
	bench_row "INCR" redis "$RSOCK" $p INCR k:__rand_int__
done

# Memory with KEYS keys: touch (nearly) all of them, then read the RSS.
redis-benchmark -s "$FG_SOCK" -c $CLIENTS -n $((KEYS * 3)) -P 16 -r "$KEYS" -q \
	RL.CHECK api k:__rand_int__ >/dev/null
keys=$(redis-cli -s "$FG_SOCK" INFO policies | tr -d '\r' | sed -n 's/^keys://p')
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$FG_AGENT/status")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
table() {
	local p=$1 lua lua_sl incr name r base
	lua=${RES["Lua GCRA (3 windows)/$p"]%% *}
	lua_sl=${RES["Lua sliding log (2 windows)/$p"]%% *}
	incr=${RES["INCR/$p"]%% *}
	echo "| command (50 clients, -P $p) | req/s | p50 ms | p99 ms | vs its Lua limiter | vs INCR |"
	echo "|---|---:|---:|---:|---:|---:|"
	for name in "RL.CHECK (3 windows)" "RL.CHECK sliding (2 windows)" "RL.AUTH.FAIL" "RL.EVENT" "Lua GCRA (3 windows)" "Lua sliding log (2 windows)" "INCR"; do
		read -r rps p50 p99 <<<"${RES["$name/$p"]}"
		# The sliding rows are compared with the sliding log, the rest with GCRA.
		case $name in *liding*) base=$lua_sl ;; *) base=$lua ;; esac
		echo "| $name | $rps | $p50 | $p99 | $(ratio "$rps" "$base") | $(ratio "$rps" "$incr") |"
	done
}
{
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs"
	echo "- kernel: $(uname -sr); redis-server $(redis-server --version | awk '{ print $3 }' | cut -d= -f2)"
	echo "- date: $(date -u +%F), commit $(git -C "$FG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- method: redis-benchmark -c $CLIENTS -n $N -r $KEYS, median of $RUNS runs by req/s"
	echo
	table 1
	echo
	table 16
	echo
	echo "Agent RSS after $keys keys of the 3-window policy: $((rss_kb / 1024)) MiB ($((rss_kb * 1024 / (keys > 0 ? keys : 1))) bytes per key, the agent's base included)."
} | tee "$OUT/socket.md"
