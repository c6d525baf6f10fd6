#!/bin/bash
# bench/flood.sh — SYN floods over veth between namespaces: the attacker (A)
# on one CPU, the victim's whole receive path (NAPI thread: XDP, nftables,
# IP, TCP) on the other (bench/lib.sh). Three parts, in one run:
#
# native  frames from bench/livegen (BPF_PROG_RUN live frames + XDP_TX): they
#         reach the victim's veth as xdp_frames, so the victim's XDP runs
#         natively with no skb, as on a NIC driver. Filters side by side: none
#         (kernel SYN cookies), bare XDP_DROP, parse-only, a minimal per-source
#         LRU limiter, floodgate, xdp-filter (a deny list of the flood's
#         sources), nftables netdev ingress per-source limit, nftables
#         `ct state new` + limit in the input hook. Victim CPU ns per packet,
#         Mpps absorbed flat out, what reached the TCP stack, a verified
#         client's connects during the flood. Then a random-source UDP flood
#         (a TURN port's rule; an echo server answers on the port) for the
#         filters that see UDP: none, bare XDP_DROP, floodgate.
# skb     the same with fgnet's raw-socket generator (frames reach the victim
#         as socket buffers: the "skb path", kept for comparison).
# scale   victim CPU per packet, drop rate and map occupancy as the number of
#         distinct spoofed sources grows (1, 1k, 100k, 1M, random), for
#         floodgate and the LRU limiter. The sources span 128.0.0.0/2
#         (livegen --wide): the frames never leave this run's veth pair.
#
# Every figure is the median of RUNS floods; every flood is bounded in count
# and time.
#
#   bench/flood.sh [--smoke] [--out DIR]     (root; writes DIR/flood.csv (skb),
#   flood_native.csv, flood_scale.csv and flood.md)
#   PARTS="native skb scale" selects parts; NATIVE_FILTERS="parse-only
#   lru-limit floodgate" the rows of the native part (the ratio columns need
#   parse-only, lru-limit and nft-ingress among them).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
PARTS=${PARTS:-native skb scale}
if [ $SMOKE = 1 ]; then
	SECS=0.25 COUNT=40000 RUNS=1 CONNECTS=5 INTERVAL=20 REST=0.1
	NSECS=0.2 NCOUNT=50000 SCALE_SOURCES="1 1000"
	# xdp-filter takes one address per run (tens of ms each): a smoke run
	# denies 16 of the random flood's 256 sources, enough to load and fill it.
	XF_RANDOM_DENY=16
else
	# REST: between floods, for limits to refill and under-attack mode
	# (attack_hold 2s) to end.
	SECS=${SECS:-1.5} COUNT=${COUNT:-2000000} RUNS=${RUNS:-3} CONNECTS=${CONNECTS:-60} INTERVAL=20 REST=2.2
	# Native floods are flat out: the time bound ends them (the count is a cap).
	NSECS=${NSECS:-1.0} NCOUNT=${NCOUNT:-30000000} SCALE_SOURCES=${SCALE_SOURCES:-1 1000 100000 1000000 0}
	XF_RANDOM_DENY=256
fi
DROP_OBJ=${BUILD}/bench/drop.bpf.o
LIVEGEN=${BUILD}/bench/livegen
[ -f "$DROP_OBJ" ] || fg_fail "$DROP_OBJ missing: make bench builds it"
[ -x "$LIVEGEN" ] || fg_fail "$LIVEGEN missing: make bench builds it"
PORT=443
UDP_PORT=3478
# The same limits everywhere: 100 new connections/s per address (burst
# 200), 2,000/s for everyone together (burst 4,000).
SRC_RATE=100 SRC_BURST=200 GLB_RATE=2000 GLB_BURST=4000
CSV=$OUT/flood.csv
NCSV=$OUT/flood_native.csv
SCSV=$OUT/flood_scale.csv
SINGLE_SRC=203.0.113.7

bench_topo
fg_bg fg_in "$FG_V" taskset -c "$BENCH_VIC_CPU" "$FGNET" serve --port $PORT \
	--ready-file "$FG_TMP/srv" >/dev/null
fg_wait_file "$FG_TMP/srv" || fg_fail "server did not start"
SERVER=$FG_LAST_PID
# The UDP flood's port is open, as a TURN server's is: an echo server there
# answers every datagram that reaches it (its CPU counts as the victim's).
fg_bg fg_in "$FG_V" taskset -c "$BENCH_VIC_CPU" "$FGNET" serve --udp --port $UDP_PORT \
	--ready-file "$FG_TMP/srv_udp" >/dev/null
fg_wait_file "$FG_TMP/srv_udp" || fg_fail "UDP server did not start"
SERVERS="$SERVER $FG_LAST_PID"

# syn_cookies off: this section measures the limiter's drop path. With cookies
# (bench/cookies.sh measures them) the rule under attack answers the random
# flood's SYNs with SYN-ACKs, which come back from A's side of the pair as
# non-SYN segments (floodgate passes them as established: 0.2-0.4 M/s here),
# and the row would time that ping-pong, not the filter.
bench_fg_conf "    syn_cookies: off" \
	"  - name: turn" "    proto: udp" "    ports: [$UDP_PORT]" \
	"    per_source: { rate: $SRC_RATE, burst: $SRC_BURST }" "    global: { rate: $GLB_RATE, burst: $GLB_BURST }"
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

# xdp-filter (xdp-tools, when installed): stateless, so the operator's best
# move is a deny list of the flood's sources (it has no prefixes: the random
# flood's /24 is 256 entries). Its maps are pinned by libxdp under bpffs.
XF_DENY=$SINGLE_SRC
xf_on() {
	local a
	fg_bpffs
	fg_in "$FG_V" xdp-filter load "$FG_V_IF_A" --mode native >/dev/null 2>&1 || return 1
	for a in $XF_DENY; do
		fg_in "$FG_V" xdp-filter ip "$a" --mode src >/dev/null 2>&1 || return 1
	done
}
xf_off() { fg_in "$FG_V" xdp-filter unload "$FG_V_IF_A" >/dev/null 2>&1 || true; }
LRU_MAP=
LRU_ENTRIES=${LRU_ENTRIES:-1000000}

# filter_on NAME / filter_off NAME / filter_drops NAME (packets dropped so far)
filter_on() {
	local out
	case $1 in
	none) ;;
	xdp-drop) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv obj "$DROP_OBJ" sec xdp || fg_fail "xdp-drop attach" ;;
	parse-only | lru-limit)
		out=$(fg_in "$FG_V" "$LIVEGEN" attach --dev "$FG_V_IF_A" --prog "${1%%-*}" \
			--rate $SRC_RATE --burst $SRC_BURST --entries "$LRU_ENTRIES") || fg_fail "$1 attach"
		LRU_MAP=$(fg_kv map_id "$out")
		;;
	floodgate)
		fg_agent_start "$FG_TMP/fg.yaml"
		taskset -apc "$BENCH_VIC_CPU" "$FG_AGENT" >/dev/null
		;;
	xdp-filter) xf_on || { xf_off && return 1; } ;;
	nft-input) nft_input | fg_in "$FG_V" nft -f - || fg_fail "nft input table" ;;
	nft-ingress) nft_ingress | fg_in "$FG_V" nft -f - || fg_fail "nft ingress table" ;;
	esac
	bench_pin_napi
}
filter_off() {
	case $1 in
	none) ;;
	xdp-drop | parse-only | lru-limit) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv off ;;
	floodgate)
		fg_stop "$FG_AGENT" 10 || true
		[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "XDP still attached after the agent stopped"
		# A fresh agent next time: no state carried over in the pins.
		rm -rf "$FG_PIN_DIR" && mkdir -p "$FG_PIN_DIR" && chmod 700 "$FG_PIN_DIR"
		;;
	xdp-filter) xf_off ;;
	nft-input) fg_in "$FG_V" nft delete table inet $NFT_T ;;
	nft-ingress) fg_in "$FG_V" nft delete table netdev $NFT_T ;;
	esac
	bench_pin_napi
}
# vstat NAME — V's attacker-side veth counter NAME summed over its queues
# (rx_queue_N_NAME in ethtool -S).
vstat() {
	ip netns exec "$FG_V" ethtool -S "$FG_V_IF_A" | awk -v n="$1" '$1 ~ "^rx_queue_[0-9]+_" n ":$" { s += $2 } END { print s + 0 }'
}
filter_drops() {
	case $1 in
	none) echo 0 ;;
	xdp-drop | parse-only | lru-limit | xdp-filter) vstat xdp_drops ;;
	floodgate) fg_ctl stats | awk 'NR > 1 && $3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' ;;
	nft-*) fg_in "$FG_V" nft list ruleset | grep -o 'counter packets [0-9]*' | awk '{ s += $3 } END { print s + 0 }' ;;
	esac
}
# tcp_in — TCP segments V's stack has received (Tcp InSegs): what reached it.
tcp_in() {
	fg_in "$FG_V" awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ { print $11 }' /proc/net/snmp
}
# l4_in FLOOD — what of FLOOD reached V's stack: TCP segments, or for the UDP
# flood datagrams UDP took in (InDatagrams + NoPorts + InErrors).
l4_in() {
	if [ "$1" = udp ]; then
		fg_in "$FG_V" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $2 + $3 + $4 }' /proc/net/snmp
	else
		tcp_in
	fi
}
# udp_noports — datagrams V's UDP received for a closed port (Udp NoPorts).
udp_noports() {
	fg_in "$FG_V" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $3 }' /proc/net/snmp
}
# occupancy FILTER — "entries max_entries memlock" of the filter's per-source map.
occupancy() {
	local out
	case $1 in
	lru-limit) out=$("$LIVEGEN" mapinfo --id "$LRU_MAP") ;;
	floodgate) out=$("$LIVEGEN" mapinfo --pin "$FG_PIN_DIR/src_state") ;;
	*) echo "0 0 0" && return 0 ;;
	esac
	echo "$(fg_kv entries "$out") $(fg_kv max_entries "$out") $(fg_kv memlock "$out")"
}

# prog_stats — "run_time_ns run_cnt" of the XDP program on V's attacker-side
# veth (kernel BPF stats: its own time, without the driver's work on the frame
# before and after it), "0 0" when none is attached. The kernel counts only
# while kernel.bpf_stats_enabled is 1 (the native part turns it on).
prog_stats() {
	local id
	id=$(ip -n "$FG_V" -d link show dev "$FG_V_IF_A" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$id" ] || { echo "0 0" && return 0; }
	bpftool prog show id "$id" | sed -n 's/.* run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p' | grep . || echo "0 0"
}
# bpf_stats_on — the kernel times every BPF program run until the bench ends
# (a clock read before and after each run, the same for every XDP row).
bpf_stats_on() {
	local old
	old=$(sysctl -n kernel.bpf_stats_enabled)
	[ "$old" = 1 ] && return 0
	sysctl -qw kernel.bpf_stats_enabled=1 || fg_fail "cannot enable kernel.bpf_stats_enabled"
	fg_on_exit sysctl -qw kernel.bpf_stats_enabled="$old"
}

# ---- skb path: fgnet's raw socket -------------------------------------------

# flood_once FILTER FLOOD SRC — one flood with a client running; appends a CSV row.
flood_once() {
	local filter=$1 flood=$2 src=$3 run=$4 busy0 busy1 rx0 rx1 d0 d1 t0 t1 out cli fpid cpid v0 v1 agent=
	[ "$filter" = floodgate ] && agent=$FG_AGENT
	rx0=$(fg_if_stat "$FG_V" "$FG_V_IF_A" rx packets)
	d0=$(filter_drops "$filter")
	busy0=$(bench_cpu_busy "$BENCH_VIC_CPU")
	v0=$(bench_victim_ns $SERVERS $agent)
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
	v1=$(bench_victim_ns $SERVERS $agent)
	t1=$(date +%s%N)
	fg_wait_pid "$cpid" 30 || fg_fail "client failed"
	rx1=$(fg_if_stat "$FG_V" "$FG_V_IF_A" rx packets)
	d1=$(filter_drops "$filter")
	out=$(<"$FG_TMP/flood.out")
	cli=$(<"$FG_TMP/cli.out")
	echo "$filter,$flood,$run,$(fg_kv sent "$out"),$(fg_kv seconds "$out"),$((rx1 - rx0)),$((d1 - d0)),$((busy1 - busy0)),$(((t1 - t0) / 1000000)),$(fg_kv ok "$cli"),$(fg_kv fail "$cli"),$(fg_kv p50_ms "$cli"),$(fg_kv p99_ms "$cli"),$((v1 - v0))" >>"$CSV"
}

# ---- native path: livegen ---------------------------------------------------

# native_once CSV FILTER FLOOD RUN CLIENT LIVEGEN_ARGS... — one livegen flood
# (with a verified client connecting during it when CLIENT is 1); appends a
# row to CSV.
native_once() {
	local csv=$1 filter=$2 flood=$3 run=$4 client=$5 busy0 busy1 c0 c1 d0 d1 i0 i1 t0 t1
	local out cli="ok=0 fail=0 p50_ms=0 p99_ms=0" fpid cpid="" v0 v1 agent="" p0 p1
	shift 5
	[ "$filter" = floodgate ] && agent=$FG_AGENT
	c0=$(vstat xdp_packets)
	d0=$(filter_drops "$filter")
	i0=$(l4_in "$flood")
	busy0=$(bench_cpu_busy "$BENCH_VIC_CPU")
	v0=$(bench_victim_ns $SERVERS $agent)
	p0=($(prog_stats))
	t0=$(date +%s%N)
	fg_bg fg_in "$FG_A" taskset -c "$BENCH_ATT_CPU" "$LIVEGEN" flood --dev "$FG_A_IF" \
		--dst-mac "$FG_V_MAC_A" --dst "$FG_V_IP4_A" --dport $PORT --count "$NCOUNT" \
		--seconds "$NSECS" "$@" >"$FG_TMP/flood.out"
	fpid=$FG_LAST_PID
	if [ "$client" = 1 ]; then
		# During the UDP flood the client talks UDP to the echo server
		# (a new flow each time, of a source the host talks TCP with).
		local talk=(connect --dport $PORT)
		[ "$flood" = udp ] && talk=(udp-talk --new-flows --dport $UDP_PORT)
		fg_bg fg_in "$FG_C" taskset -c "$BENCH_ATT_CPU" "$FGNET" "${talk[@]}" --dst "$FG_V_IP4_C" \
			--count "$CONNECTS" --interval-ms $INTERVAL --timeout-ms 1000 >"$FG_TMP/cli.out"
		cpid=$FG_LAST_PID
	fi
	fg_wait_pid "$fpid" 30 || fg_fail "livegen failed: $(<"$FG_TMP/flood.out")"
	# Frames still on V's ring are part of this flood (its counts and its
	# cost): a few ms to drain a full ring.
	drained() { [ $(($(vstat xdp_packets) - c0)) -ge "$(fg_kv xmit "$(<"$FG_TMP/flood.out")")" ]; }
	fg_wait_for -t 5 drained || fg_log "$filter/$flood run $run: V's ring did not drain within 5 s"
	busy1=$(bench_cpu_busy "$BENCH_VIC_CPU")
	v1=$(bench_victim_ns $SERVERS $agent)
	p1=($(prog_stats))
	t1=$(date +%s%N)
	c1=$(vstat xdp_packets)
	d1=$(filter_drops "$filter")
	if [ -n "$cpid" ]; then
		fg_wait_pid "$cpid" 30 || fg_fail "client failed"
		cli=$(<"$FG_TMP/cli.out")
	fi
	i1=$(l4_in "$flood")
	out=$(<"$FG_TMP/flood.out")
	echo "$filter,$flood,$run,$(fg_kv sent "$out"),$(fg_kv xmit "$out"),$(fg_kv xmit_errors "$out"),$(fg_kv seconds "$out"),$((c1 - c0)),$((d1 - d0)),$((i1 - i0)),$((v1 - v0)),$((busy1 - busy0)),$(((t1 - t0) / 1000000)),$(fg_kv ok "$cli"),$(fg_kv fail "$cli"),$(fg_kv p50_ms "$cli"),$(fg_kv p99_ms "$cli"),$((p1[0] - p0[0])),$((p1[1] - p0[1]))" >>"$csv"
}
NHDR="filter,flood,run,sent,xmit,xmit_errors,seconds,victim_consumed,filter_dropped,l4_in,victim_thread_ns,victim_busy_ticks,wall_ms,client_ok,client_fail,client_p50_ms,client_p99_ms,prog_ns,prog_runs"

# pre_client FILTER — a client the host has talked to before the flood
# (floodgate's egress side marks it verified).
pre_client() {
	fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 1 --graceful >/dev/null ||
		fg_fail "$1: client cannot connect before the flood"
}

XF_OK=0
command -v xdp-filter >/dev/null && XF_OK=1
# libxdp leaves its (empty) pin dir behind; take it away if it was not there before.
[ -e /sys/fs/bpf/xdp ] || fg_on_exit "rmdir /sys/fs/bpf/xdp 2>/dev/null || true"
run_native() {
	local filter flood r src flood_args
	local filters=${NATIVE_FILTERS:-none xdp-drop parse-only lru-limit floodgate xdp-filter nft-ingress nft-input}
	bpf_stats_on
	echo "$NHDR" >"$NCSV"
	for filter in $filters; do
		for flood in single random udp; do
			src=$SINGLE_SRC XF_DENY=$SINGLE_SRC
			flood_args=()
			if [ $flood != single ]; then
				src=$FG_SPOOF4
				XF_DENY=$(seq 0 $((XF_RANDOM_DENY - 1)) | sed 's/^/203.0.113./')
			fi
			if [ $flood = udp ]; then
				# SYN filters (parse-only, the LRU limiter, nftables'
				# SYN matches) do not look at UDP: no row.
				case $filter in none | xdp-drop | floodgate) ;; *) continue ;; esac
				flood_args=(--udp --dport "$UDP_PORT")
			fi
			if [ $filter = xdp-filter ]; then
				[ $XF_OK = 1 ] || continue
				filter_on "$filter" || { fg_log "xdp-filter: cannot load, row skipped" && XF_OK=0 && continue; }
			elif [ $flood = single ]; then
				filter_on "$filter"
			fi
			pre_client "$filter"
			for ((r = 1; r <= RUNS; r++)); do
				native_once "$NCSV" "$filter" "$flood" "$r" 1 --src "$src" "${flood_args[@]}"
				sleep $REST
			done
			[ $filter = xdp-filter ] && filter_off "$filter"
		done
		[ $filter = xdp-filter ] || filter_off "$filter"
	done
}

run_skb() {
	local filter flood r src
	echo "filter,flood,run,sent,seconds,victim_rx,filter_dropped,victim_busy_ticks,wall_ms,client_ok,client_fail,client_p50_ms,client_p99_ms,victim_thread_ns" >"$CSV"
	for filter in none xdp-drop floodgate nft-input nft-ingress; do
		filter_on "$filter"
		pre_client "$filter"
		for flood in single random; do
			src=$SINGLE_SRC
			[ $flood = random ] && src=$FG_SPOOF4
			for ((r = 1; r <= RUNS; r++)); do
				flood_once "$filter" "$flood" "$src" "$r"
				sleep $REST
			done
		done
		filter_off "$filter"
	done
}

# The scale curve: sources spread over a quarter of IPv4 (--wide; the frames
# stay on the veth pair, and V's default route sends its replies to A, which
# drops them). 128.0.0.0/2 rather than /0: it holds no 0/8, loopback,
# multicast or broadcast source, which floodgate drops as bad sources before
# any state (another, cheaper path). Each level starts from an empty map.
SCALE_SRC=128.0.0.0/2
run_scale() {
	local filter n r occ
	bpf_stats_on
	ip -n "$FG_V" route add default via "$FG_A_IP4" dev "$FG_V_IF_A" || fg_fail "cannot add V's default route"
	echo "$NHDR,sources,entries,max_entries,memlock" >"$SCSV"
	for filter in lru-limit floodgate; do
		for n in $SCALE_SOURCES; do
			filter_on "$filter"
			for ((r = 1; r <= RUNS; r++)); do
				if [ "$n" = 0 ]; then
					native_once "$FG_TMP/scale.row" "$filter" scale "$r" 0 --wide --src "$SCALE_SRC"
				else
					native_once "$FG_TMP/scale.row" "$filter" scale "$r" 0 --wide --src "$SCALE_SRC" --sources "$n"
				fi
				occ=$(occupancy "$filter")
				echo "$(tail -n 1 "$FG_TMP/scale.row"),$n,${occ// /,}" >>"$SCSV"
				sleep $REST
			done
			filter_off "$filter"
		done
	done
	ip -n "$FG_V" route del default
}

# native_checks — what the native rows must show whatever the machine: the
# generator's counts are exact (every frame sent was either put on V's ring
# or counted as a ring-full drop; V consumed what was put there, less at most
# a ring still draining), its checksums are right (with no filter, every
# frame reached TCP), XDP_DROP dropped all; and livegen refuses floods that
# are unbounded or leave the documentation ranges without --wide.
native_checks() {
	awk -F, 'NR > 1 {
		if ($4 != $5 + $6) { printf "%s/%s run %s: sent %s != xmit %s + xmit_errors %s\n", $1, $2, $3, $4, $5, $6; bad = 1 }
		if ($8 > $5 + 16 || $5 - $8 > 256) { printf "%s/%s run %s: V consumed %s of %s frames put on its ring\n", $1, $2, $3, $8, $5; bad = 1 }
		if ($1 == "none" && $10 + 256 < $8) { printf "none/%s run %s: %s frames consumed, %s reached TCP (bad checksums?)\n", $2, $3, $8, $10; bad = 1 }
		# A frame that is not the flood'"'"'s (A'"'"'s IPv6 neighbour discovery) may
		# arrive between the two reads: a few more drops than frames.
		if ($1 == "xdp-drop" && ($9 < $8 || $9 > $8 + 4)) { printf "xdp-drop/%s run %s: dropped %s of %s\n", $2, $3, $9, $8; bad = 1 }
	} END { exit bad }' "$NCSV" || fg_fail "native-path counts do not add up"
	local rc=0 base=(flood --dev "$FG_A_IF" --dst-mac "$FG_V_MAC_A" --dst "$FG_V_IP4_A" --dport "$PORT")
	fg_in "$FG_A" "$LIVEGEN" "${base[@]}" --count 10 --seconds 1 --src 10.0.0.0/8 2>/dev/null || rc=$?
	[ $rc = 2 ] || fg_fail "livegen flooded from 10.0.0.0/8 without --wide (exit $rc)"
	rc=0
	fg_in "$FG_A" "$LIVEGEN" "${base[@]}" --seconds 1 2>/dev/null || rc=$?
	[ $rc = 2 ] || fg_fail "livegen flooded with no --count (exit $rc)"
	# UDP: every datagram put on V's ring reaches UDP (to a closed port) with
	# a good checksum. No filter is attached after the native part.
	local u0 u1 c0 c1 out
	u0=$(udp_noports)
	c0=$(vstat xdp_packets)
	out=$(fg_in "$FG_A" "$LIVEGEN" flood --dev "$FG_A_IF" --dst-mac "$FG_V_MAC_A" --dst "$FG_V_IP4_A" \
		--dport 9 --udp --src "$FG_SPOOF4" --count 5000 --pps 100000 --seconds 2) || fg_fail "livegen --udp failed"
	fg_wait_for -t 5 eval '[ $(($(vstat xdp_packets) - c0)) -ge "$(fg_kv xmit "$out")" ]' ||
		fg_fail "V did not consume the UDP flood: $out"
	c1=$(vstat xdp_packets)
	u1=$(udp_noports)
	[ $((u1 - u0)) -ge $((c1 - c0 - 16)) ] ||
		fg_fail "UDP flood: $((c1 - c0)) frames consumed, $((u1 - u0)) reached UDP (bad checksums?)"
	fg_log "native-path counts exact; livegen refuses unbounded and non-documentation floods; UDP checksums right"
}

for part in $PARTS; do
	case $part in
	native) run_native && native_checks ;;
	skb) run_skb ;;
	scale) run_scale ;;
	*) fg_fail "unknown part '$part' (native, skb, scale)" ;;
	esac
done

TICK=$(getconf CLK_TCK)
AWK_MED='
function med(key,   n, i, j, t, v) {
	n = split(vals[key], v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((n + 1) / 2)]
}
function add(k, x) { vals[k] = vals[k] " " x }'

# The native table: medians over runs; ratios are of this run'"'"'s medians.
native_tables() {
	awk -F, -v tick="$TICK" -v udp_port="$UDP_PORT" "$AWK_MED"'
NR > 1 {
	k = $1 "/" $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	secs = $7 > 0 ? $7 : 1; c = $8 > 0 ? $8 : 1
	add(k "/offered", $4 / secs / 1e6); add(k "/absorbed", $8 / secs / 1e6)
	add(k "/drop_pct", 100 * $9 / c); add(k "/tcp", $10 / secs)
	add(k "/ns", $11 / c); add(k "/busy_ns", ($12 / tick) * 1e9 / c)
	add(k "/busy_pct", 100 * ($12 / tick) / ($13 > 0 ? $13 / 1000 : 1))
	add(k "/ok_pct", ($14 + $15) > 0 ? 100 * $14 / ($14 + $15) : 0)
	add(k "/p50", $16); add(k "/p99", $17); add(k "/prog_ns", $19 > 0 ? $18 / $19 : 0)
}
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
END {
	for (fl = 1; fl <= 3; fl++) {
		flood = fl == 1 ? "single" : fl == 2 ? "random" : "udp"
		print (fl == 1 ? "Native path, single-source SYN flood (203.0.113.7, random ports)" : fl == 2 ? "Native path, random-source SYN flood (203.0.113.0/24)" : "Native path, random-source UDP flood (203.0.113.0/24, random ports, to UDP port " udp_port ": a rule like a TURN server'"'"'s); the SYN filters (parse-only, the LRU limiter, nftables) have no row")
		print ""
		print "| filter | offered Mpps | absorbed Mpps | dropped by filter | to " (flood == "udp" ? "UDP" : "TCP") " stack /s | victim CPU ns/pkt | one core absorbs Mpps | CPU 1 busy ns/pkt | CPU 1 busy % | vs parse-only | vs LRU limiter | vs nft netdev | XDP program ns/pkt | program vs parse-only | program vs LRU limiter | client connects ok | client p50 ms | client p99 ms |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		po = med("parse-only/" flood "/ns"); lr = med("lru-limit/" flood "/ns"); nf = med("nft-ingress/" flood "/ns")
		ppo = med("parse-only/" flood "/prog_ns"); plr = med("lru-limit/" flood "/prog_ns")
		for (i = 1; i <= n; i++) { split(order[i], p, "/"); if (p[2] != flood) continue
			k = order[i]; m = med(k "/ns"); pm = med(k "/prog_ns")
			printf "| %s | %.2f | %.2f | %.1f%% | %.0f | %.0f | %.2f | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %.1f%% | %s | %s |\n", p[1], med(k "/offered"), med(k "/absorbed"), med(k "/drop_pct"), med(k "/tcp"), m, (m > 0 ? 1000 / m : 0), med(k "/busy_ns"), med(k "/busy_pct"), ratio(m, po), ratio(m, lr), ratio(m, nf), (pm > 0 ? sprintf("%.0f", pm) : "n/a"), ratio(pm, ppo), ratio(pm, plr), med(k "/ok_pct"), med(k "/p50"), med(k "/p99") }
		print ""
	}
}' "$NCSV"
}

scale_table() {
	awk -F, -v tick="$TICK" -v src="$SCALE_SRC" "$AWK_MED"'
NR > 1 {
	k = $1 "/" $20; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	secs = $7 > 0 ? $7 : 1; c = $8 > 0 ? $8 : 1
	add(k "/absorbed", $8 / secs / 1e6); add(k "/drop_pct", 100 * $9 / c); add(k "/tcp", $10 / secs)
	add(k "/ns", $11 / c); add(k "/busy_ns", ($12 / tick) * 1e9 / c)
	add(k "/prog_ns", $19 > 0 ? $18 / $19 : 0)
	add(k "/entries", $21); maxe[k] = $22; mem[k] = $23
}
END {
	print "| filter | distinct sources | absorbed Mpps | dropped by filter | to TCP stack /s | victim CPU ns/pkt | CPU 1 busy ns/pkt | XDP program ns/pkt | per-source map entries | max entries | map bytes | bytes per tracked source |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) { split(order[i], p, "/"); k = order[i]
		printf "| %s | %s | %.2f | %.1f%% | %.0f | %.0f | %.0f | %.0f | %d | %d | %d | %.0f |\n", p[1], (p[2] == 0 ? "random " src : p[2]), med(k "/absorbed"), med(k "/drop_pct"), med(k "/tcp"), med(k "/ns"), med(k "/busy_ns"), med(k "/prog_ns"), med(k "/entries"), maxe[k], mem[k], (maxe[k] > 0 ? mem[k] / maxe[k] : 0) }
}' "$SCSV"
}

# The skb table: medians over runs of each derived figure.
skb_tables() {
	awk -F, -v tick="$TICK" "$AWK_MED"'
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
		print (fl == 1 ? "skb path (fgnet raw socket), single-source SYN flood (203.0.113.7, random ports)" : "skb path (fgnet raw socket), random-source SYN flood (203.0.113.0/24)")
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
}' "$CSV"
}

{
	bench_facts
	echo "- load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) when the section ended"
	echo "- limits (floodgate, the LRU limiter and nftables alike): $SRC_RATE new connections/s per address (burst $SRC_BURST); floodgate and nftables also $GLB_RATE/s in all (burst $GLB_BURST), on TCP port $PORT"
	echo
	case " $PARTS " in *" native "*)
		echo "- method (native path): bench/livegen floods flat out from A pinned to CPU $BENCH_ATT_CPU (BPF_PROG_RUN live frames, XDP_TX into A's veth: V's veth receives xdp_frames), up to $NCOUNT SYNs for ${NSECS}s per flood; V's NAPI thread and server pinned to CPU $BENCH_VIC_CPU; absorbed = frames V's NAPI consumed (veth xdp_packets) per second; victim CPU ns/pkt = CPU time (schedstat) of V's NAPI threads, server and agent / frames consumed; CPU 1 busy = /proc/stat of CPU $BENCH_VIC_CPU / frames consumed (includes anything else running there); one core absorbs = 1000 / victim CPU ns/pkt, the rate a core doing only this would take (absorbed is lower whenever the NAPI thread shares CPU $BENCH_VIC_CPU with other work: it runs as an ordinary thread); to TCP stack = V's Tcp InSegs per second (to UDP stack, for the UDP flood: datagrams V's UDP took in, InDatagrams + NoPorts + InErrors, and an echo server on UDP $UDP_PORT answers each one that reaches it); XDP program ns/pkt = the program's own run time per run (kernel BPF stats, kernel.bpf_stats_enabled=1 during the part: it adds two clock reads to every XDP row alike), which leaves out the driver's work on each frame (veth and the page-pool return of the frame to the generator's CPU, whose lock dominates victim CPU on some VMs); ratios are of this run's medians; a verified client connects $CONNECTS times, every ${INTERVAL} ms, 1 s timeout, from C during each flood (during the UDP flood it sends $CONNECTS datagrams, each from a new source port, and waits for each echo: connects ok = echoes received); median of $RUNS floods per row"
		echo
		native_tables
		;;
	esac
	case " $PARTS " in *" scale "*)
		echo "Native path, scale: random sources among N distinct addresses spread over $SCALE_SRC (livegen --wide --sources N; random: any address of it), flat out for ${NSECS}s, no client; each level starts from an empty map; entries = the per-source map after the flood (floodgate: src_state); bytes = the map's memlock (preallocated at load, whatever the entries)"
		echo
		scale_table
		echo
		;;
	esac
	case " $PARTS " in *" skb "*)
		echo "- method (skb path): fgnet syn (raw socket) from A pinned to CPU $BENCH_ATT_CPU, up to $COUNT SYNs for ${SECS}s per flood: V's veth receives socket buffers, and XDP runs on an skb turned into an xdp_buff; victim CPU = CPU time (schedstat, ns) of V's NAPI threads, server and agent over the flood, per million packets V received; median of $RUNS floods per row"
		echo
		skb_tables
		;;
	esac
} | tee "$OUT/flood.md"
fg_pass "flood benchmark"
