#!/bin/bash
# bench/topology.sh: decisions per second through one floodgated (app-only,
# store.type: redis) on each Redis deployment, side by side in one run: one
# redis-server (url), the same server found through a sentinel (sentinels +
# master_name: the data path is the same, the probes and the +switch-master
# subscription are what it adds), and a 3-master Redis Cluster made by
# redis-cli --cluster create (the agent routes each key to its slot's master:
# three connections, one CRC16 per decision). Every server listens on the
# loopback of one namespace over TCP (a cluster needs TCP), so the transports
# are the same. redis-benchmark (50 clients, -P 16, random keys) drives
# RL.CHECK on each agent's socket in rounds, single -> sentinel -> cluster, so
# a busy neighbour on a shared machine costs each deployment alike; the
# median round by req/s is reported, the CPU per decision of the agent and of
# the deployment's redis-servers (all masters together), and the ratio to
# one Redis. timeout_ms is 2 s: on a loaded machine a shorter deadline sends
# decisions to the memory fallback, which is not what is measured (the
# fallback decisions of the run are reported). --smoke: tiny counts; --out DIR: where topology.md and
# topology.csv go (default bench/results).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
bench_redis_counts
P=16

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
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]'
declare -A STORE=(
	[single]="url: \"redis://127.0.0.1:$SINGLE\""
	[sentinel]="sentinels: [\"127.0.0.1:$SENT\"], master_name: fgb"
	[cluster]="cluster: [\"127.0.0.1:17000\"]"
)
DEPLOYMENTS="single sentinel cluster"
declare -A AGENTS SOCKS
for d in $DEPLOYMENTS; do
	printf 'store: { type: redis, redis: { %s, timeout_ms: 2000, prefix: bt } }\n%s\n' \
		"${STORE[$d]}" "$POLICIES" >"$FG_TMP/$d.yaml"
	SOCKS[$d]=$FG_TMP/$d.sock
	fg_app_agent_start "$FG_TMP/agent-$d.log" fg_in "$NS" "$FLOODGATED" --app-only \
		-c "$FG_TMP/$d.yaml" --socket "${SOCKS[$d]}" --metrics-listen ""
	AGENTS[$d]=$AGENT
	up() { redis-cli -s "$1" INFO policies | grep -q '^store_fallback_active:0'; }
	fg_wait_for -t 20 up "${SOCKS[$d]}" || fg_fail "the $d agent did not reach redis: $(cat "$FG_TMP/agent-$d.log")"
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

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "deployment,round,rps,p50_ms,p99_ms,redis_ticks,agent_ticks" >"$FG_TMP/rounds.csv"
for ((round = 1; round <= RUNS; round++)); do
	for d in $DEPLOYMENTS; do
		r0=$(redis_ticks "$d") a0=$(cpu_ticks "${AGENTS[$d]}")
		res=$(redis-benchmark -s "${SOCKS[$d]}" -c $CLIENTS -n "$N" -P $P -r $KEYS --csv \
			RL.CHECK api k:__rand_int__ 2>/dev/null | awk -F, 'NR == 2 { gsub(/"/, ""); print $2, $5, $7 }')
		# shellcheck disable=SC2086
		set -- $res
		echo "$d,$round,${1:-0},${2:-0},${3:-0},$(($(redis_ticks "$d") - r0)),$(($(cpu_ticks "${AGENTS[$d]}") - a0))" \
			>>"$FG_TMP/rounds.csv"
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
for d in $DEPLOYMENTS; do
	fb=$(redis-cli -s "${SOCKS[$d]}" INFO policies | tr -d '\r' | sed -n 's/^store_fallback_decisions_total://p')
	echo "$d $fb"
done >"$FG_TMP/fallback.txt"
grep -q "redis cluster: slot map.*slots=16384 nodes=3" "$FG_TMP/agent-cluster.log" ||
	fg_fail "the cluster agent has no map of 3 masters: $(cat "$FG_TMP/agent-cluster.log")"

# The median round of each deployment by req/s; CPU over all its rounds.
awk -F, -v tick="$(getconf CLK_TCK)" -v reqs=$((N * RUNS)) -v runs="$RUNS" '
	NR == 1 { next }
	{ n[$1]++; row[$1, n[$1]] = $3 " " $4 " " $5; rt[$1] += $6; at[$1] += $7 }
	END {
		print "deployment,rps,p50_ms,p99_ms,redis_us_per_req,agent_us_per_req"
		split("single sentinel cluster", ds, " ")
		for (i = 1; i <= 3; i++) {
			d = ds[i]
			for (k = 1; k <= n[d]; k++) { split(row[d, k], x, " "); v[k] = x[1]; line[k] = row[d, k] }
			# the median by rps
			for (a = 1; a <= n[d]; a++) for (b = a + 1; b <= n[d]; b++)
				if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t; t = line[a]; line[a] = line[b]; line[b] = t }
			split(line[int((n[d] + 1) / 2)], x, " ")
			printf "%s,%s,%s,%s,%.1f,%.1f\n", d, x[1], x[2], x[3], rt[d] * 1e6 / tick / reqs, at[d] * 1e6 / tick / reqs
		}
	}' "$FG_TMP/rounds.csv" >"$OUT/topology.csv"
cp "$FG_TMP/rounds.csv" "$OUT/topology_rounds.csv"
{
	echo "- method: one app-only floodgated per deployment, redis-benchmark -c $CLIENTS -P $P -n $N -r $KEYS" \
		"RL.CHECK (3 windows) on its socket; $RUNS round(s) of single -> sentinel -> cluster, the median" \
		"round by req/s; CPU per decision over all rounds; every server on one namespace's loopback (TCP)"
	echo "- load average (1, 5, 15 min) before: $LOAD0; after: $LOAD1 ($(nproc) CPUs, shared)"
	echo "- fallback decisions during the run: $(tr '\n' ' ' <"$FG_TMP/fallback.txt")"
	echo
	echo "| deployment | req/s | vs one Redis | p50 ms | p99 ms | redis-server CPU µs/decision | agent CPU µs/decision |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	awk -F, 'NR == 1 { next }
		NR == 2 { base = $2 }
		{ name = $1 == "single" ? "one Redis (url)" : $1 == "sentinel" ? "Sentinel (1 sentinel, same master)" : "Cluster (3 masters)"
		  printf "| %s | %.0f | %.2fx | %s | %s | %s | %s |\n", name, $2, (base > 0 ? $2 / base : 0), $3, $4, $5, $6 }' "$OUT/topology.csv"
} | tee "$OUT/topology.md"
