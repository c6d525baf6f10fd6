#!/bin/bash
# make bench (section multikey): one decision over two keys (per user AND per
# IP, two window policies) as one RL.CHECKM against the same two checks as
# two RL.CHECK calls, on the memory store and on a Redis store (redis-server
# on a Unix socket). redis-benchmark drives both (50 clients, -P 1 and -P 16,
# random keys); a decision by separate calls costs two RL.CHECK requests, so
# its decisions/s are RL.CHECK's requests/s / 2. The agent runs unprivileged
# in app-only mode. --smoke: tiny counts; --out DIR: multikey.csv, .md.
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
if [ $SMOKE = 1 ]; then N=2000 RUNS=1 KEYS=1000; else N=${N:-100000} RUNS=${RUNS:-3} KEYS=100000; fi
CLIENTS=50
CSV=$OUT/multikey.csv

fg_require_cmd redis-server redis-benchmark redis-cli setpriv
fg_ns_setup
chmod 711 "$FG_TMP"
U=$FG_TMP/u
mkdir -m 700 "$U"
chown 65534:65534 "$U"
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --)

RSOCK=$U/redis.sock
fg_bg "${AS_NOBODY[@]}" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$U" --logfile "$U/redis.log"
fg_wait_for -t 10 redis-cli -s "$RSOCK" PING >/dev/null || fg_fail "redis-server did not start"

POLICIES='policies:
  - { name: user, type: window, limits: [ { count: 100, per: 1s }, { count: 1000, per: 1m } ] }
  - { name: ip, type: window, limits: [ { count: 100, per: 1s }, { count: 1000, per: 1m } ] }'
printf 'app_only: true\nstore: { max_keys: 2000000 }\n%s\n' "$POLICIES" >"$U/mem.yaml"
printf 'app_only: true\nstore: { type: redis, redis: { url: "unix://%s", timeout_ms: 200 } }\n%s\n' \
	"$RSOCK" "$POLICIES" >"$U/redis.yaml"
chmod 644 "$U"/*.yaml
start() { # CONF SOCK
	fg_bg "${AS_NOBODY[@]}" "$FLOODGATED" --app-only -c "$1" --socket "$2" --metrics-listen "" \
		>"$FG_TMP/$(basename "$2").log" 2>&1
	fg_wait_for -t 20 redis-cli -s "$2" PING >/dev/null || fg_fail "floodgated did not start"
}
start "$U/mem.yaml" "$U/m.sock"
start "$U/redis.yaml" "$U/r.sock"
fg_wait_for -t 10 sh -c "redis-cli -s '$U/r.sock' INFO policies | tr -d '\r' | grep -qx 'store_fallback_active:0'" ||
	fg_fail "the Redis store is not in use"

echo "store,command,pipeline,rps,p50_ms,p99_ms,decisions_per_s" >"$CSV"
declare -A RES
row() { # STORE SOCK P NAME PER_DECISION CMD...
	local store=$1 sock=$2 p=$3 name=$4 per=$5 r rps
	shift 5
	r=$(bench_redis_run "$sock" "$p" "$@")
	rps=${r%% *}
	RES["$store/$name/$p"]="$r $(awk -v a="$rps" -v n="$per" 'BEGIN { printf "%d", a / n }')"
	echo "$store,$name,$p,${r// /,},${RES["$store/$name/$p"]##* }" >>"$CSV"
}
for p in 1 16; do
	for st in memory redis; do
		s=$U/m.sock
		[ $st = redis ] && s=$U/r.sock
		row $st "$s" $p "RL.CHECKM (2 pairs)" 1 RL.CHECKM 2 user u:__rand_int__ ip i:__rand_int__
		row $st "$s" $p "RL.CHECK x 2" 2 RL.CHECK user u:__rand_int__
	done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; load average at the end $load"
	echo "- date: $(date -u +%F), commit $(git -C "$FG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- method: redis-benchmark -c $CLIENTS -n $N -r $KEYS, median of $RUNS runs by req/s; agent as nobody, --app-only"
	echo
	echo "| store | pipeline | RL.CHECKM (2 pairs) decisions/s | p50 / p99 ms | RL.CHECK x 2 decisions/s | p50 / p99 ms per call | one call vs two |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for st in memory redis; do
		for p in 1 16; do
			read -r _ m50 m99 md <<<"${RES["$st/RL.CHECKM (2 pairs)/$p"]}"
			read -r _ c50 c99 cd <<<"${RES["$st/RL.CHECK x 2/$p"]}"
			echo "| $st | $p | $md | $m50 / $m99 | $cd | $c50 / $c99 | $(awk -v a="$md" -v b="$cd" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }') |"
		done
	done
} | tee "$OUT/multikey.md"
