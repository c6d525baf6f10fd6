#!/bin/bash
# bench/topology.sh: decisions per second through two floodgated agents
# (app-only, store.type: redis) sharing each Redis deployment, side by side in
# one run: one redis-server (url), the same server found through a sentinel
# (sentinels + master_name: the data path is the same, the probes and the
# +switch-master subscription are what it adds), and a 3-master Redis Cluster
# made by redis-cli --cluster create (each agent routes each key to its slot's
# master: three connections, one CRC16 per decision). Every server listens on
# the loopback of one namespace over TCP (a cluster needs TCP), so the
# transports are the same. Two redis-benchmark processes (50 clients each,
# -P 16, random keys), one per agent socket, drive RL.CHECK at once, N/2
# decisions each, in rounds single -> sentinel -> cluster, so a busy neighbour
# on a shared machine costs each deployment alike; a round's rate is its N
# decisions over the wall time of the pair (not the sum of two rates that
# may not overlap). The median round by req/s is reported, the CPU per
# decision of the two agents and of the deployment's redis-servers (all
# masters together), and the ratio to one Redis. Each round also times single
# decisions at low load (redis-benchmark -c 1 -P 1 on the first agent): the
# p50/p99 there is the cost of the path, routing included, apart from the
# queueing of a saturated machine. Before the rounds, both agents send the
# same key NX times each at once on a 100-day limit, and the next decision's
# remaining must be exact (the count is shared through Redis, none lost).
# timeout_ms is 2 s: on a loaded machine a shorter deadline sends decisions to
# the memory fallback, which is not what is measured (the fallback decisions
# of the run are reported). --smoke: tiny counts; --out DIR: where
# topology.md and topology.csv go (default bench/results).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
bench_redis_counts
P=16
# NLAT: single decisions per round for the latency; NX: the exactness check's
# decisions per agent.
if [ "$SMOKE" = 1 ]; then NLAT=100 NX=${NX:-100}; else NLAT=${NLAT:-20000} NX=${NX:-2000}; fi
# A window's use drains at count/per: 100,000 a 100 days is 0.01 a second, none
# in the seconds of the check.
EXACT_LIMIT=100000

fg_require_cmd redis-server redis-benchmark redis-cli
fg_ns_add R && NS=$FG_NS_LAST
SINGLE=17010 SENT=17020 CL="17000 17001 17002"
rc() { fg_in "$NS" redis-cli -p "$@"; }
declare -A RPID
redis_start() { # NAME PORT [ARGS...]
	local name=$1 port=$2
	shift 2
	mkdir -p "$FG_TMP/$name"
	fg_bg fg_in "$NS" redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--dir "$FG_TMP/$name" --logfile "$FG_TMP/$name/redis.log" "$@"
	RPID[$name]=$FG_LAST_PID
	fg_wait_for -t 10 rc "$port" PING >/dev/null || fg_fail "redis-server $name did not start"
}
redis_start single $SINGLE
for p in $CL; do
	redis_start "c$p" "$p" --cluster-enabled yes --cluster-config-file "$FG_TMP/c$p/nodes.conf" \
		--cluster-node-timeout 5000 --cluster-require-full-coverage no
done
# shellcheck disable=SC2046,SC2086 # CL: three words
fg_in "$NS" redis-cli --cluster create $(printf '127.0.0.1:%s ' $CL) --cluster-replicas 0 \
	--cluster-yes >"$FG_TMP/create.out" 2>&1 || fg_fail "cluster create: $(cat "$FG_TMP/create.out")"
cluster_ok() { for p in $CL; do rc "$p" CLUSTER INFO | grep -q '^cluster_state:ok' || return 1; done; }
fg_wait_for -t 30 cluster_ok || fg_fail "the cluster did not become ok"
cat >"$FG_TMP/sentinel.conf" <<CONF
bind 127.0.0.1
port $SENT
dir $FG_TMP
logfile $FG_TMP/sentinel.log
sentinel monitor fgb 127.0.0.1 $SINGLE 1
CONF
fg_bg fg_in "$NS" redis-server "$FG_TMP/sentinel.conf" --sentinel
RPID[sentinel]=$FG_LAST_PID
fg_wait_for -t 10 rc $SENT PING >/dev/null || fg_fail "the sentinel did not start"

POLICIES='policies:
  - name: api
    type: window
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]
  - name: exact
    type: window
    limits: [ { count: '$EXACT_LIMIT', per: 100d } ]'
declare -A STORE=(
	[single]="url: \"redis://127.0.0.1:$SINGLE\""
	[sentinel]="sentinels: [\"127.0.0.1:$SENT\"], master_name: fgb"
	[cluster]="cluster: [\"127.0.0.1:17000\"]"
)
DEPLOYMENTS="single sentinel cluster"
declare -A AGENTS SOCKS
up() { redis-cli -s "$1" INFO policies | grep -q '^store_fallback_active:0'; }
for d in $DEPLOYMENTS; do
	printf 'store: { type: redis, redis: { %s, timeout_ms: 2000, prefix: bt } }\n%s\n' \
		"${STORE[$d]}" "$POLICIES" >"$FG_TMP/$d.yaml"
	for i in 1 2; do
		SOCKS[$d$i]=$FG_TMP/$d$i.sock
		fg_app_agent_start "$FG_TMP/agent-$d$i.log" fg_in "$NS" "$FLOODGATED" --app-only \
			-c "$FG_TMP/$d.yaml" --socket "${SOCKS[$d$i]}" --metrics-listen ""
		AGENTS[$d$i]=$AGENT
	done
	for i in 1 2; do
		fg_wait_for -t 20 up "${SOCKS[$d$i]}" ||
			fg_fail "the $d agent $i did not reach redis: $(cat "$FG_TMP/agent-$d$i.log")"
	done
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# redis_ticks DEPLOYMENT — CPU ticks of its redis-servers (the sentinel's
# own process is counted with sentinel: it is what that deployment adds).
redis_ticks() {
	local t=0 p
	case $1 in
	single) t=$(cpu_ticks "${RPID[single]}") ;;
	sentinel) t=$(($(cpu_ticks "${RPID[single]}") + $(cpu_ticks "${RPID[sentinel]}"))) ;;
	cluster) for p in $CL; do t=$((t + $(cpu_ticks "${RPID[c$p]}"))); done ;;
	esac
	echo "$t"
}

agent_ticks() { echo $(($(cpu_ticks "${AGENTS[${1}1]}") + $(cpu_ticks "${AGENTS[${1}2]}"))); }
# bench CLIENTS N P CMD... on both agents of $d at once: "rps p50 p99" with rps =
# the pair's decisions over its wall time, p50 the mean, p99 the worse one.
bench_pair() {
	local c=$1 n=$2 p=$3 t0 t1 pids=()
	shift 3
	t0=$(date +%s%N)
	for i in 1 2; do
		redis-benchmark -s "${SOCKS[$d$i]}" -c "$c" -n "$n" -P "$p" -r "$KEYS" --csv "$@" \
			>"$FG_TMP/pair$i.csv" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" # only these two: the servers and agents are children too
	t1=$(date +%s%N)
	cat "$FG_TMP/pair1.csv" "$FG_TMP/pair2.csv" | awk -F, -v n=$((2 * n)) -v ns=$((t1 - t0)) '
		$1 ~ /^"test"/ { next }
		{ gsub(/"/, ""); k++; p50 += $5; if ($7 > p99) p99 = $7 }
		END { if (k != 2) exit 1; printf "%.0f %.3f %.3f\n", n * 1e9 / ns, p50 / 2, p99 }'
}

# Exactness: both agents add NX to one key at once (through redis-cli, which
# sends exactly the lines it reads: redis-benchmark overshoots -n with -P > 1);
# the next decision must see 2 * NX + 1 of EXACT_LIMIT taken.
for d in $DEPLOYMENTS; do
	pids=()
	for i in 1 2; do
		yes "RL.CHECK exact x:$d:$$" | head -n "$NX" | redis-cli -s "${SOCKS[$d$i]}" >"$FG_TMP/x$d$i.out" &
		pids+=($!)
	done
	wait "${pids[@]}" || fg_fail "$d: the exactness run failed"
	left=$(redis-cli -s "${SOCKS[${d}1]}" RL.CHECK exact "x:$d:$$" | sed -n 3p)
	[ "$left" = $((EXACT_LIMIT - 2 * NX - 1)) ] ||
		fg_fail "$d: two agents counted $((EXACT_LIMIT - left)) decisions on one key, not $((2 * NX + 1));" \
			"replies: $(cat "$FG_TMP/x${d}1.out" "$FG_TMP/x${d}2.out" | grep -v '^[0-9]*$' | sort | uniq -c | head)"
done
echo "- shared counts: two agents x $NX decisions on one key, exact on every deployment" >"$FG_TMP/exact.txt"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "deployment,round,rps,p50_ms,p99_ms,redis_ticks,agent_ticks,lat_p50_ms,lat_p99_ms" >"$FG_TMP/rounds.csv"
for ((round = 1; round <= RUNS; round++)); do
	for d in $DEPLOYMENTS; do
		r0=$(redis_ticks "$d") a0=$(agent_ticks "$d")
		res=$(bench_pair "$CLIENTS" $((N / 2)) $P RL.CHECK api k:__rand_int__) || res="0 0 0"
		r1=$(redis_ticks "$d") a1=$(agent_ticks "$d")
		lat=$(redis-benchmark -s "${SOCKS[${d}1]}" -c 1 -n "$NLAT" -P 1 -r "$KEYS" --csv \
			RL.CHECK api k:__rand_int__ 2>/dev/null | awk -F, 'NR == 2 { gsub(/"/, ""); print $5, $7 }')
		# shellcheck disable=SC2086
		set -- $res $lat
		echo "$d,$round,$1,$2,$3,$((r1 - r0)),$((a1 - a0)),${4:-0},${5:-0}" >>"$FG_TMP/rounds.csv"
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
for d in $DEPLOYMENTS; do
	fb=0
	for i in 1 2; do
		fb=$((fb + $(redis-cli -s "${SOCKS[$d$i]}" INFO policies | tr -d '\r' |
			sed -n 's/^store_fallback_decisions_total://p')))
	done
	echo "$d $fb"
done >"$FG_TMP/fallback.txt"
for i in 1 2; do
	grep -q "redis cluster: slot map.*slots=16384 nodes=3" "$FG_TMP/agent-cluster$i.log" ||
		fg_fail "cluster agent $i has no map of 3 masters: $(cat "$FG_TMP/agent-cluster$i.log")"
done

# The median round of each deployment by req/s; CPU over all its rounds; the
# low-load p50 and p99 each the median over the rounds.
awk -F, -v tick="$(getconf CLK_TCK)" -v reqs=$((N * RUNS)) '
	function median(arr, m,   a, b, t) {
		for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
			if (arr[b] < arr[a]) { t = arr[a]; arr[a] = arr[b]; arr[b] = t }
		return arr[int((m + 1) / 2)]
	}
	NR == 1 { next }
	{ n[$1]++; row[$1, n[$1]] = $3 " " $4 " " $5; rt[$1] += $6; at[$1] += $7; l50[$1, n[$1]] = $8; l99[$1, n[$1]] = $9 }
	END {
		print "deployment,rps,p50_ms,p99_ms,redis_us_per_req,agent_us_per_req,lowload_p50_us,lowload_p99_us"
		split("single sentinel cluster", ds, " ")
		for (i = 1; i <= 3; i++) {
			d = ds[i]
			for (k = 1; k <= n[d]; k++) {
				split(row[d, k], x, " "); v[k] = x[1]; line[k] = row[d, k]; q50[k] = l50[d, k]; q99[k] = l99[d, k]
			}
			# the median by rps
			for (a = 1; a <= n[d]; a++) for (b = a + 1; b <= n[d]; b++)
				if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t; t = line[a]; line[a] = line[b]; line[b] = t }
			split(line[int((n[d] + 1) / 2)], x, " ")
			printf "%s,%s,%s,%s,%.1f,%.1f,%.0f,%.0f\n", d, x[1], x[2], x[3], rt[d] * 1e6 / tick / reqs,
				at[d] * 1e6 / tick / reqs, median(q50, n[d]) * 1000, median(q99, n[d]) * 1000
		}
	}' "$FG_TMP/rounds.csv" >"$OUT/topology.csv"
cp "$FG_TMP/rounds.csv" "$OUT/topology_rounds.csv"
{
	echo "- method: two app-only floodgated per deployment, each driven at once by its own redis-benchmark" \
		"-c $CLIENTS -P $P -n $((N / 2)) -r $KEYS RL.CHECK (3 windows); a round's req/s is its $N decisions over" \
		"the pair's wall time; $RUNS round(s) of single -> sentinel -> cluster, the median round by req/s;" \
		"CPU per decision over all rounds (both agents; all the deployment's redis-servers); low load:" \
		"-c 1 -P 1 -n $NLAT on the first agent after each round, median p50/p99 of the rounds; every server" \
		"on one namespace's loopback (TCP)"
	cat "$FG_TMP/exact.txt"
	echo "- load average (1, 5, 15 min) before: $LOAD0; after: $LOAD1 ($(nproc) CPUs, shared)"
	echo "- fallback decisions during the run: $(tr '\n' ' ' <"$FG_TMP/fallback.txt")"
	echo
	echo "| deployment | req/s (2 agents) | vs one Redis | p50 ms | p99 ms | redis-server CPU µs/decision | agents CPU µs/decision | low-load p50 µs | low-load p99 µs | routing added (p50) µs |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F, 'NR == 1 { next }
		NR == 2 { base = $2; lbase = $7 }
		{ name = $1 == "single" ? "one Redis (url)" : $1 == "sentinel" ? "Sentinel (1 sentinel, same master)" : "Cluster (3 masters)"
		  printf "| %s | %.0f | %.2fx | %s | %s | %s | %s | %s | %s | %+d |\n", name, $2, (base > 0 ? $2 / base : 0),
			$3, $4, $5, $6, $7, $8, $7 - lbase }' "$OUT/topology.csv"
} | tee "$OUT/topology.md"
