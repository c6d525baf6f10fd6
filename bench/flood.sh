#!/bin/bash
# bench/flood.sh — SYN floods over veth between namespaces: the attacker (A)
# on one CPU, the victim's whole receive path (NAPI thread: XDP, nftables,
# IP, TCP) on the other (bench/lib.sh). For each filter — none, an XDP
# program that drops everything (the floor of any XDP filter on this path),
# floodgate, nftables per-source meter on new connections in the inet input
# hook, and the same in the netdev ingress hook — and each flood — one source, and
# random sources of 203.0.113.0/24 — it reports the packets/s the victim
# received and dropped, the victim CPU per million packets (schedstat CPU
# time of V's NAPI threads, server and agent), and a legitimate client's connect success and
# latency during the flood. Every figure is the median of RUNS floods.
#
#   bench/flood.sh [--smoke] [--out DIR]     (root; writes DIR/flood.csv, flood.md)
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
if [ $SMOKE = 1 ]; then
	SECS=0.25 COUNT=40000 RUNS=1 CONNECTS=5 INTERVAL=20 REST=0.1
else
	# REST: between floods, for limits to refill and under-attack mode
	# (attack_hold 2s) to end.
	SECS=${SECS:-1.5} COUNT=${COUNT:-2000000} RUNS=${RUNS:-3} CONNECTS=${CONNECTS:-60} INTERVAL=20 REST=2.2
fi
DROP_OBJ=${BUILD}/bench/drop.bpf.o
[ -f "$DROP_OBJ" ] || fg_fail "$DROP_OBJ missing: make bench builds it"
PORT=443
# The same limits everywhere: 100 new connections/s per address (burst
# 200), 2,000/s for everyone together (burst 4,000).
SRC_RATE=100 SRC_BURST=200 GLB_RATE=2000 GLB_BURST=4000
CSV=$OUT/flood.csv

bench_topo
fg_bg fg_in "$FG_V" taskset -c "$BENCH_VIC_CPU" "$FGNET" serve --port $PORT \
	--ready-file "$FG_TMP/srv" >/dev/null
fg_wait_file "$FG_TMP/srv" || fg_fail "server did not start"
SERVER=$FG_LAST_PID

cat >"$FG_TMP/fg.yaml" <<YAML
sources: { attack_hold: 2s }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: $SRC_RATE, burst: $SRC_BURST }
    global: { rate: $GLB_RATE, burst: $GLB_BURST }
YAML
NFT_T=fbench$$
nft_rules() { # MATCH: the new-connection match of the hook
	cat <<NFT
		tcp dport $PORT $1 meter fb4_$$ size 65535 { ip saddr limit rate over $SRC_RATE/second burst $SRC_BURST packets } counter drop
		tcp dport $PORT $1 limit rate over $GLB_RATE/second burst $GLB_BURST packets counter drop
NFT
}
nft_input() {
	cat <<NFT
table inet $NFT_T {
	chain input {
		type filter hook input priority 0; policy accept;
$(nft_rules "ct state new")
	}
}
NFT
}
nft_ingress() {
	cat <<NFT
table netdev $NFT_T {
	chain ingress {
		type filter hook ingress devices = { $FG_V_IF_A, $FG_V_IF_C } priority -500; policy accept;
$(nft_rules "tcp flags & (syn | ack) == syn")
	}
}
NFT
}

# filter_on NAME / filter_off NAME / filter_drops NAME (packets dropped so far)
filter_on() {
	case $1 in
	none) ;;
	xdp-drop) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv obj "$DROP_OBJ" sec xdp || fg_fail "xdp-drop attach" ;;
	floodgate)
		fg_agent_start "$FG_TMP/fg.yaml"
		taskset -apc "$BENCH_VIC_CPU" "$FG_AGENT" >/dev/null
		;;
	nft-input) nft_input | fg_in "$FG_V" nft -f - || fg_fail "nft input table" ;;
	nft-ingress) nft_ingress | fg_in "$FG_V" nft -f - || fg_fail "nft ingress table" ;;
	esac
	bench_pin_napi
}
filter_off() {
	case $1 in
	none) ;;
	xdp-drop) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv off ;;
	floodgate)
		fg_stop "$FG_AGENT" 10 || true
		[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "XDP still attached after the agent stopped"
		;;
	nft-input) fg_in "$FG_V" nft delete table inet $NFT_T ;;
	nft-ingress) fg_in "$FG_V" nft delete table netdev $NFT_T ;;
	esac
	bench_pin_napi
}
filter_drops() {
	case $1 in
	none) echo 0 ;;
	xdp-drop) ip netns exec "$FG_V" ethtool -S "$FG_V_IF_A" | awk '/xdp_drops:/ { s += $2 } END { print s + 0 }' ;;
	floodgate) fg_ctl stats | awk 'NR > 1 && $3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' ;;
	nft-*) fg_in "$FG_V" nft list ruleset | grep -o 'counter packets [0-9]*' | awk '{ s += $3 } END { print s + 0 }' ;;
	esac
}

# flood_once FILTER FLOOD SRC — one flood with a client running; appends a CSV row.
flood_once() {
	local filter=$1 flood=$2 src=$3 run=$4 busy0 busy1 rx0 rx1 d0 d1 t0 t1 out cli fpid cpid v0 v1 agent=
	[ "$filter" = floodgate ] && agent=$FG_AGENT
	rx0=$(fg_if_stat "$FG_V" "$FG_V_IF_A" rx packets)
	d0=$(filter_drops "$filter")
	busy0=$(bench_cpu_busy "$BENCH_VIC_CPU")
	v0=$(bench_victim_ns "$SERVER" $agent)
	t0=$(date +%s%N)
	fg_bg fg_in "$FG_A" taskset -c "$BENCH_ATT_CPU" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT \
		--src "$src" --count "$COUNT" --seconds "$SECS" >"$FG_TMP/flood.out"
	fpid=$FG_LAST_PID
	# The client on the attacker's CPU: its own cost is the same in every
	# row, so differences in its results are the victim's.
	fg_bg fg_in "$FG_C" taskset -c "$BENCH_ATT_CPU" "$FGNET" connect --dst "$FG_V_IP4_C" \
		--dport $PORT --count "$CONNECTS" --interval-ms $INTERVAL --timeout-ms 1000 >"$FG_TMP/cli.out"
	cpid=$FG_LAST_PID
	fg_wait_pid "$fpid" 30 || fg_fail "flood generator failed"
	busy1=$(bench_cpu_busy "$BENCH_VIC_CPU")
	v1=$(bench_victim_ns "$SERVER" $agent)
	t1=$(date +%s%N)
	fg_wait_pid "$cpid" 30 || fg_fail "client failed"
	rx1=$(fg_if_stat "$FG_V" "$FG_V_IF_A" rx packets)
	d1=$(filter_drops "$filter")
	out=$(<"$FG_TMP/flood.out")
	cli=$(<"$FG_TMP/cli.out")
	echo "$filter,$flood,$run,$(fg_kv sent "$out"),$(fg_kv seconds "$out"),$((rx1 - rx0)),$((d1 - d0)),$((busy1 - busy0)),$(((t1 - t0) / 1000000)),$(fg_kv ok "$cli"),$(fg_kv fail "$cli"),$(fg_kv p50_ms "$cli"),$(fg_kv p99_ms "$cli"),$((v1 - v0))" >>"$CSV"
}

echo "filter,flood,run,sent,seconds,victim_rx,filter_dropped,victim_busy_ticks,wall_ms,client_ok,client_fail,client_p50_ms,client_p99_ms,victim_thread_ns" >"$CSV"
FILTERS="none xdp-drop floodgate nft-input nft-ingress"
for filter in $FILTERS; do
	filter_on "$filter"
	# A client the host has talked to before the flood (floodgate's egress
	# side marks it verified).
	fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 1 --graceful >/dev/null ||
		fg_fail "$filter: client cannot connect before the flood"
	for flood in single random; do
		src=203.0.113.7
		[ $flood = random ] && src=$FG_SPOOF4
		for ((r = 1; r <= RUNS; r++)); do
			flood_once "$filter" "$flood" "$src" "$r"
			sleep $REST
		done
	done
	filter_off "$filter"
done

TICK=$(getconf CLK_TCK)
# The table: medians over runs of each derived figure.
awk -F, -v tick="$TICK" -v runs="$RUNS" '
function med(key,   n, i, j, t, v) {
	n = split(vals[key], v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((n + 1) / 2)]
}
function add(k, x) { vals[k] = vals[k] " " x }
NR > 1 {
	k = $1 "/" $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	secs = $5 > 0 ? $5 : 1; busy = $8 / tick; wall = $9 / 1000
	add(k "/sent_pps", $4 / secs); add(k "/rx_pps", $6 / secs); add(k "/drop_pps", $7 / secs)
	add(k "/cpu_pct", 100 * busy / (wall > 0 ? wall : 1))
	add(k "/ms_per_mpkt", $6 > 0 ? ($14 / 1e6) / ($6 / 1e6) : 0)
	add(k "/ok_pct", ($10 + $11) > 0 ? 100 * $10 / ($10 + $11) : 0)
	add(k "/p50", $12); add(k "/p99", $13)
}
END {
	for (fl = 1; fl <= 2; fl++) {
		flood = fl == 1 ? "single" : "random"
		print (fl == 1 ? "Single-source SYN flood (203.0.113.7, random ports)" : "Random-source SYN flood (203.0.113.0/24)")
		print ""
		print "| filter | offered pps | victim received pps | filter drops pps | CPU 1 busy % | victim CPU ms per Mpkt | vs best nftables | client connects ok | client p50 ms | client p99 ms |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		best = 0
		for (i = 1; i <= n; i++) { split(order[i], p, "/"); if (p[2] != flood || p[1] !~ /^nft/) continue
			m = med(order[i] "/ms_per_mpkt"); if (best == 0 || m < best) best = m }
		for (i = 1; i <= n; i++) { split(order[i], p, "/"); if (p[2] != flood) continue
			k = order[i]; m = med(k "/ms_per_mpkt")
			printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.1f%% | %s | %s |\n", p[1], med(k "/sent_pps"), med(k "/rx_pps"), med(k "/drop_pps"), med(k "/cpu_pct"), m, (m > 0 && best > 0 ? sprintf("%.2fx", m / best) : "n/a"), med(k "/ok_pct"), med(k "/p50"), med(k "/p99") }
		print ""
	}
}' "$CSV" >"$FG_TMP/tables.md"
{
	bench_facts
	echo "- method: fgnet syn (raw socket) from A pinned to CPU $BENCH_ATT_CPU, up to $COUNT SYNs for ${SECS}s per flood; V's NAPI threads (threaded NAPI on both veths) and server pinned to CPU $BENCH_VIC_CPU; victim CPU = CPU time (schedstat, ns) of V's NAPI threads, server and agent over the flood, per million packets V received; "CPU 1 busy" = /proc/stat of CPU $BENCH_VIC_CPU (includes anything else running there); a verified client connects $CONNECTS times, every ${INTERVAL} ms, 1 s timeout, from C during each flood; median of $RUNS floods per row"
	echo "- limits (floodgate and nftables alike): $SRC_RATE new connections/s per address (burst $SRC_BURST), $GLB_RATE/s in all (burst $GLB_BURST), on TCP port $PORT"
	echo
	cat "$FG_TMP/tables.md"
} | tee "$OUT/flood.md"
fg_pass "flood benchmark"
