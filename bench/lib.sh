# shellcheck shell=bash
# bench/lib.sh — sourced by the bench/*.sh scripts; it brings the tests'
# tests/netns/lib.sh and agent.sh with it.
#
# The benchmark topology is the tests' three namespaces (client C, victim V,
# attacker A; documentation addresses), with what a flood benchmark on two
# CPUs needs on top:
# - V's veth ends and A's have unique names (fvc<pid>, fva<pid>, fat<pid>):
#   their NAPI kernel threads are named napi/<ifname>-<id>, which is how they
#   are found and pinned (never killed).
# - V receives in NAPI (GRO on, TSO off on the sending peers: veth only
#   queues a frame for NAPI when the sender's TSO is off or XDP is attached)
#   with threaded NAPI, and those threads are pinned to the victim CPU: the
#   whole receive path of the victim (XDP, nftables, IP, TCP) runs there.
# - A's and C's receive work (SYN-ACKs coming back) is steered by RPS to the
#   attacker CPU, so the victim CPU counts only the victim's work.
# Everything is removed by lib.sh's EXIT trap.

. "$(dirname "${BASH_SOURCE[0]}")/../tests/netns/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../tests/netns/agent.sh"

BENCH_ATT_CPU=${BENCH_ATT_CPU:-0}
BENCH_VIC_CPU=${BENCH_VIC_CPU:-1}

# bench_topo — like fg_topo_3ns, with the victim-side names and CPU layout above.
bench_topo() {
	fg_ns_setup
	[ "$(nproc)" -ge 2 ] || fg_skip "needs 2 CPUs (attacker and victim on different cores)"
	fg_require_cmd taskset ethtool
	fg_ns_add V && FG_V=$FG_NS_LAST
	fg_ns_add C && FG_C=$FG_NS_LAST
	fg_ns_add A && FG_A=$FG_NS_LAST
	FG_V_IF_C=fvc$$ FG_C_IF=veth-v
	FG_V_IF_A=fva$$ FG_A_IF=fat$$
	FG_V_MAC_C=02:00:00:00:01:01 FG_C_MAC=02:00:00:00:01:02
	FG_V_MAC_A=02:00:00:00:02:01 FG_A_MAC=02:00:00:00:02:02
	FG_V_IP4_C=192.0.2.1 FG_C_IP4=192.0.2.2
	FG_V_IP4_A=198.51.100.1 FG_A_IP4=198.51.100.2
	FG_SPOOF4=203.0.113.0/24
	export FG_V FG_C FG_A FG_V_IF_C FG_C_IF FG_V_IF_A FG_A_IF FG_V_IP4_C FG_C_IP4 \
		FG_V_IP4_A FG_A_IP4 FG_SPOOF4

	fg_veth "$FG_V" "$FG_V_IF_C" "$FG_C" "$FG_C_IF" "$FG_V_MAC_C" "$FG_C_MAC"
	fg_veth "$FG_V" "$FG_V_IF_A" "$FG_A" "$FG_A_IF" "$FG_V_MAC_A" "$FG_A_MAC"
	fg_addr "$FG_V" "$FG_V_IF_C" "$FG_V_IP4_C/24"
	fg_addr "$FG_C" "$FG_C_IF" "$FG_C_IP4/24"
	fg_addr "$FG_V" "$FG_V_IF_A" "$FG_V_IP4_A/24"
	fg_addr "$FG_A" "$FG_A_IF" "$FG_A_IP4/24"
	fg_neigh "$FG_V" "$FG_V_IF_C" "$FG_C_IP4" "$FG_C_MAC"
	fg_neigh "$FG_C" "$FG_C_IF" "$FG_V_IP4_C" "$FG_V_MAC_C"
	fg_neigh "$FG_V" "$FG_V_IF_A" "$FG_A_IP4" "$FG_A_MAC"
	fg_neigh "$FG_A" "$FG_A_IF" "$FG_V_IP4_A" "$FG_V_MAC_A"
	ip -n "$FG_V" route add "$FG_SPOOF4" via "$FG_A_IP4" dev "$FG_V_IF_A" ||
		fg_fail "cannot route $FG_SPOOF4 via A"

	local ns_if peer mask
	mask=$(printf '%x' $((1 << BENCH_ATT_CPU)))
	for ns_if in "$FG_A $FG_A_IF" "$FG_C $FG_C_IF"; do
		# shellcheck disable=SC2086
		set -- $ns_if
		ip netns exec "$1" ethtool -K "$2" tso off >/dev/null 2>&1 ||
			fg_fail "cannot turn TSO off on $1/$2"
		ip netns exec "$1" sh -c "echo $mask > /sys/class/net/$2/queues/rx-0/rps_cpus" ||
			fg_fail "cannot set RPS on $1/$2"
	done
	for peer in "$FG_V_IF_A" "$FG_V_IF_C"; do
		ip netns exec "$FG_V" ethtool -K "$peer" gro on >/dev/null 2>&1 ||
			fg_fail "cannot turn GRO on on $peer"
		ip netns exec "$FG_V" sh -c "echo 1 > /sys/class/net/$peer/threaded" ||
			fg_fail "cannot make $peer's NAPI threaded"
	done
	bench_pin_napi
}

# bench_pin_napi — pins V's NAPI threads to the victim CPU and records them in
# BENCH_NAPI_PIDS for bench_victim_ns. Call again after an XDP attach or detach
# (the threads may be recreated).
BENCH_NAPI_PIDS=()
bench_pin_napi() {
	local pid
	# One scan of the process table for both interfaces: ps -e on a busy machine
	# costs a few hundred ms.
	BENCH_NAPI_PIDS=($(ps -eo pid=,comm= | awk -v a="napi/$FG_V_IF_A-" -v c="napi/$FG_V_IF_C-" \
		'index($2, a) == 1 || index($2, c) == 1 { print $1 }'))
	for pid in "${BENCH_NAPI_PIDS[@]}"; do
		taskset -pc "$BENCH_VIC_CPU" "$pid" >/dev/null || fg_fail "cannot pin napi thread $pid"
	done
	[ ${#BENCH_NAPI_PIDS[@]} -ge 2 ] ||
		fg_fail "found ${#BENCH_NAPI_PIDS[@]} napi threads of $FG_V_IF_A/$FG_V_IF_C, want 2 or more"
}

# bench_victim_ns PID... — CPU time (ns, from schedstat) used so far by every
# thread of the victim's processes PID... and by V's NAPI threads (those
# bench_pin_napi found; found again if one of them is gone): the victim's own
# work, whatever else runs on its CPU.
bench_victim_ns() {
	local pid
	for pid in "${BENCH_NAPI_PIDS[@]}"; do
		[ -d /proc/"$pid" ] || { bench_pin_napi && break; }
	done
	for pid in "$@" "${BENCH_NAPI_PIDS[@]}"; do
		[ -n "$pid" ] && cat /proc/"$pid"/task/*/schedstat 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# bench_cpu_busy CPU — busy time of CPU so far, in USER_HZ ticks (/proc/stat:
# user nice system irq softirq steal; idle and iowait excluded).
bench_cpu_busy() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# bench_fg_conf [LINE...] — $FG_TMP/fg.yaml: the benchmarks' floodgate rule on
# TCP $PORT, $SRC_RATE new connections/s per address (burst $SRC_BURST) and
# $GLB_RATE/s in all (burst $GLB_BURST); each LINE is appended as it is (4
# spaces: a key of the rule; none: a top-level key).
bench_fg_conf() {
	{
		echo "sources: { attack_hold: 2s }"
		echo "rules:"
		echo "  - name: signaling"
		echo "    proto: tcp"
		echo "    ports: [$PORT]"
		echo "    per_source: { rate: $SRC_RATE, burst: $SRC_BURST }"
		echo "    global: { rate: $GLB_RATE, burst: $GLB_BURST }"
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$FG_TMP/fg.yaml"
}

# bench_median — the median of the numbers on stdin (one per line).
bench_median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'
}

# bench_facts — the machine lines of a report section.
bench_facts() {
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs"
	echo "- kernel: $(uname -sr); date: $(date -u +%F), commit $(git -C "$FG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# bench_args "$@" — the options every benchmark takes: sets SMOKE (0 or 1, from
# --smoke: tiny counts) and OUT (from --out DIR, default bench/results), which
# it creates.
# shellcheck disable=SC2034 # SMOKE and OUT are the calling script's
bench_args() {
	SMOKE=0 OUT=$FG_ROOT/bench/results
	while [ $# -gt 0 ]; do
		case $1 in
		--smoke) SMOKE=1 ;;
		--out) OUT=$2 && shift ;;
		*) echo "usage: $0 [--smoke] [--out DIR]" >&2 && exit 2 ;;
		esac
		shift
	done
	mkdir -p "$OUT"
}

# bench_redis_counts — N and RUNS (tiny with --smoke; N=, RUNS= from the
# environment win), KEYS and CLIENTS: the redis-benchmark runs of
# bench/redis.sh and bench/topology.sh.
# shellcheck disable=SC2034 # the calling script's
bench_redis_counts() {
	if [ "$SMOKE" = 1 ]; then N=2000 RUNS=1; else N=${N:-200000} RUNS=${RUNS:-3}; fi
	KEYS=100000 CLIENTS=50
}

# bench_redis_run SOCK P CMD... — "rps p50 p99" of redis-benchmark running CMD
# on SOCK with pipeline P (CLIENTS clients, N requests, KEYS random keys):
# the median of RUNS runs by rps.
bench_redis_run() {
	local sock=$1 p=$2 i
	shift 2
	for ((i = 0; i < RUNS; i++)); do
		redis-benchmark -s "$sock" -c "$CLIENTS" -n "$N" -P "$p" -r "$KEYS" --csv "$@" 2>/dev/null |
			awk -F, 'NR == 2 { gsub(/"/, ""); print $2, $5, $7 }'
	done | sort -n | awk -v r="$RUNS" '{ a[NR] = $0 } END { print a[int((r + 1) / 2)] }'
}
