#!/bin/bash
# bench/cookies.sh — SYN cookies under a spoofed SYN flood (issue 14), side by
# side in one run, on the native XDP path (bench/livegen's live frames, as in
# bench/flood.sh): what a SYN costs the victim and whether brand-new clients
# still connect, for
#
#   xdp-drop            `return XDP_DROP` (bench/drop.bpf.c): the floor, no-op
#   floodgate-cookies   floodgate, syn_cookies: auto, max_rate above the flood:
#                       every spoofed SYN beyond the global budget is answered
#                       with a cookie SYN-ACK (XDP_TX)
#   floodgate-cap       the same with the default max_rate (50,000 SYN-ACKs/s):
#                       beyond it SYNs are dropped (cookie_cap)
#   floodgate-off       floodgate, syn_cookies: off: under attack unverified
#                       SYNs beyond the global budget are dropped
#   kernel-sc1          no filter, net.ipv4.tcp_syncookies=1 (the default)
#   kernel-sc2          no filter, net.ipv4.tcp_syncookies=2 (always cookies)
#   nft-synproxy        nftables `synproxy` (conntrack; IPv4), no XDP
#
# The flood: random sources over 128.0.0.0/2 (livegen --wide: the frames and
# V's replies stay on this run's veth pair; A drops the replies with XDP),
# flat out from A on CPU 0 for as long as one run lasts (a window of MSECS
# seconds or the clients' time, whichever is longer; hard bound 30 s). During
# the window CLIENTS brand-new clients (addresses of C never used before in
# that row) each connect and fetch 100 kB within 1 s. Victim CPU ns per SYN
# = schedstat of V's NAPI threads and server (and agent) / frames V consumed.
# Every row starts from the namespace's defaults (tcp_syncookies=1,
# tcp_timestamps=1); floodgated sets and restores them itself (its log says
# so); V, with every sysctl of it, goes on exit (bench/lib.sh's trap).
#
#   bench/cookies.sh [--smoke] [--out DIR]   (root; DIR/cookies.csv, cookies.md)
#   FILTERS="..." selects rows.
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
ALL="xdp-drop floodgate-cookies floodgate-cap floodgate-off kernel-sc1 kernel-sc2 nft-synproxy"
if [ $SMOKE = 1 ]; then
	# The two rows with setups of their own (the other floodgate rows differ
	# only in config, the others attach a program or set a sysctl).
	MSECS=0.2 RUNS=1 CLIENTS=2 REST=0 WARM=2000
	FILTERS=${FILTERS:-floodgate-cookies nft-synproxy}
else
	# REST: between floods, for under-attack mode (attack_hold 2s) to end.
	MSECS=${MSECS:-1.5} RUNS=${RUNS:-3} CLIENTS=${CLIENTS:-20} REST=2.5 WARM=50000
	FILTERS=${FILTERS:-$ALL}
fi
DROP_OBJ=$BUILD/bench/drop.bpf.o
PASS_OBJ=$BUILD/bench/noop.bpf.o
LIVEGEN=$BUILD/bench/livegen
REQRESP=$FG_ROOT/tests/netns/reqresp.py
for f in "$DROP_OBJ" "$PASS_OBJ" "$LIVEGEN"; do
	[ -e "$f" ] || fg_fail "$f missing: make bench builds it"
done
fg_require_cmd python3 nft ss
PORT=443
# A scarce global budget, as the namespace tests of under-attack behaviour use:
# the flood arrives in bursts (the sender and V's NAPI share 2 CPUs), and a
# larger budget refills in the gaps, where new clients then get in anyway.
SRC_RATE=100 SRC_BURST=200 GLB_RATE=100 GLB_BURST=100
FLOOD_SRC=128.0.0.0/2
SIZE=100000
CSV=$OUT/cookies.csv
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

bench_topo
# V's replies to the spoofed sources go to A; A drops them with XDP in its own
# threaded NAPI pinned to the attacker CPU, so the victim CPU counts only the
# victim's work. XDP on A's and C's veths is also what lets a veth deliver the
# SYN-ACKs V's native XDP sends with XDP_TX (docs/config.md).
ip -n "$FG_V" route add default via "$FG_A_IP4" dev "$FG_V_IF_A" || fg_fail "cannot add V's default route"
ip -n "$FG_A" link set dev "$FG_A_IF" xdpdrv obj "$DROP_OBJ" sec xdp || fg_fail "cannot attach XDP_DROP on A"
ip -n "$FG_C" link set dev "$FG_C_IF" xdpdrv obj "$PASS_OBJ" sec xdp || fg_fail "cannot attach XDP_PASS on C"
ip netns exec "$FG_A" sh -c "echo 1 > /sys/class/net/$FG_A_IF/threaded" || fg_fail "cannot make A's NAPI threaded"
pin_attacker_napi() {
	local pid n=0
	for pid in $(ps -eo pid=,comm= | awk -v p="napi/$FG_A_IF-" 'index($2, p) == 1 { print $1 }'); do
		taskset -pc "$BENCH_ATT_CPU" "$pid" >/dev/null || fg_fail "cannot pin napi thread $pid"
		n=$((n + 1))
	done
	[ $n -ge 1 ] || fg_fail "no napi thread of $FG_A_IF"
}
pin_attacker_napi
# The clients' stack leaves TCP checksums to the "hardware" over veth: XDP
# answers only SYNs whose checksum is filled in (a NIC's frames always are).
fg_in "$FG_C" ethtool -K "$FG_C_IF" tx off >/dev/null || fg_fail "cannot turn C's tx checksum offload off"
NADDR=$((RUNS * CLIENTS))
for ((i = 0; i < NADDR; i++)); do
	ip -n "$FG_C" addr add "192.0.2.$((10 + i))/32" dev "$FG_C_IF" || fg_fail "cannot add client address $i"
done

# server_start — a fresh listener for each row: the half-open sockets of the
# row before (they live a minute) go with the old one.
SERVER=
server_start() {
	[ -z "$SERVER" ] || fg_stop "$SERVER" 5 || true
	rm -f "$FG_TMP/srv"
	fg_bg fg_in "$FG_V" taskset -c "$BENCH_VIC_CPU" python3 "$REQRESP" serve $PORT --ready "$FG_TMP/srv"
	SERVER=$FG_LAST_PID
	fg_wait_file "$FG_TMP/srv" || fg_fail "server did not start"
}

sysv() { fg_in "$FG_V" sysctl -n "$1"; }
setv() { fg_in "$FG_V" sysctl -qw "$1=$2" || fg_fail "cannot set $1=$2 in V"; }
SC0=$(sysv net.ipv4.tcp_syncookies) TS0=$(sysv net.ipv4.tcp_timestamps)

# The window scale the kernel gives a connection (as floodgated computes it):
# synproxy must announce the same.
WSCALE=$(fg_in "$FG_V" sh -c 'echo $(cut -f3 /proc/sys/net/ipv4/tcp_rmem) $(cat /proc/sys/net/core/rmem_max)' |
	awk '{ s = $1 > $2 ? $1 : $2; l = 0; while (s > 1) { s = int(s / 2); l++ } l -= 15; print (l < 0 ? 0 : (l > 14 ? 14 : l)) }')
NFT_T=fbsyn$$
nft_synproxy() {
	cat <<NFT
table ip $NFT_T {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport $PORT tcp flags syn notrack
	}
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport $PORT ct state invalid,untracked synproxy mss 1460 wscale $WSCALE timestamp sack-perm
		ct state invalid drop
	}
}
NFT
}

fg_conf() { bench_fg_conf "    syn_cookies: $1" "syn_cookies: { max_rate: $2 }"; } # MODE MAX_RATE

LOOSE0=
filter_on() {
	server_start
	setv net.ipv4.tcp_syncookies 1
	setv net.ipv4.tcp_timestamps 1
	case $1 in
	xdp-drop) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv obj "$DROP_OBJ" sec xdp || fg_fail "xdp-drop attach" ;;
	floodgate-*)
		case $1 in
		floodgate-cookies) fg_conf auto 100000000 ;;
		floodgate-cap) fg_conf auto 50000 ;;
		floodgate-off) fg_conf off 50000 ;;
		esac
		fg_agent_start "$FG_TMP/fg.yaml" --xdp-mode native
		taskset -apc "$BENCH_VIC_CPU" "$FG_AGENT" >/dev/null
		;;
	kernel-sc1) ;;
	kernel-sc2) setv net.ipv4.tcp_syncookies 2 ;;
	nft-synproxy)
		nft_synproxy | fg_in "$FG_V" nft -f - || fg_fail "nft synproxy table"
		# The ACK of a cookie must be "invalid" to conntrack for synproxy to see it.
		LOOSE0=$(sysv net.netfilter.nf_conntrack_tcp_loose)
		setv net.netfilter.nf_conntrack_tcp_loose 0
		;;
	*) fg_fail "unknown filter '$1'" ;;
	esac
	bench_pin_napi
	pin_attacker_napi
}
filter_off() {
	case $1 in
	xdp-drop) ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv off ;;
	floodgate-*)
		fg_stop "$FG_AGENT" 10 || fg_fail "$1: the agent exited with an error on SIGTERM"
		[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "XDP still attached after the agent stopped"
		# The agent puts back the namespace's TCP settings it changed.
		[ "$(sysv net.ipv4.tcp_syncookies)" = 1 ] || fg_fail "$1: tcp_syncookies not restored"
		[ "$(sysv net.ipv4.tcp_timestamps)" = 1 ] || fg_fail "$1: tcp_timestamps not restored"
		rm -rf "$FG_PIN_DIR" && mkdir -p "$FG_PIN_DIR" && chmod 700 "$FG_PIN_DIR"
		;;
	nft-synproxy)
		fg_in "$FG_V" nft delete table ip $NFT_T
		setv net.netfilter.nf_conntrack_tcp_loose "$LOOSE0"
		;;
	esac
	bench_pin_napi
}

# vstat IF NAME — V's veth IF counter NAME summed over its queues.
vstat() {
	ip netns exec "$FG_V" ethtool -S "$1" | awk -v n="$2" '$1 ~ "^rx_queue_[0-9]+_" n ":$" { s += $2 } END { print s + 0 }'
}
snmp() { # PROTO FIELD — a counter of V's /proc/net/snmp or netstat (TcpExt)
	fg_in "$FG_V" awk -v p="$1:" -v f="$2" '$1 == p { if ($2 ~ /^[0-9]/) { for (i = 2; i <= NF; i++) if (h[i] == f) print $i } else for (i = 2; i <= NF; i++) h[i] = $i }' \
		/proc/net/snmp /proc/net/netstat
}
# replies — what V sent towards the flood: XDP_TX frames and its stack's
# transmissions on the attacker-side veth.
replies() { echo $(($(vstat "$FG_V_IF_A" xdp_tx) + $(fg_if_stat "$FG_V" "$FG_V_IF_A" tx packets))); }
under_attack() { fg_ctl rules | awk 'NR == 1 { for (i = 1; i <= NF; i++) if (tolower($i) == "attack") c = i; next } $c == "yes" { y = 1 } END { exit !y }'; }
# task_ns PID — CPU time (ns, schedstat) of PID's threads so far.
task_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# flood_ns [AGENT] — CPU time so far of what the flood costs V: the NAPI
# threads of its attacker-side veth (XDP, and for the rows without XDP the
# kernel's IP and TCP and the replies' transmission: all in that thread) and
# the agent. Not the server or the client-side veth: the clients' work is the
# same in every row, and divided by the few frames a slow row absorbs it would
# weigh on that row only.
flood_ns() {
	local pid t=0
	for pid in $(ps -eo pid=,comm= | awk -v p="napi/$FG_V_IF_A-" 'index($2, p) == 1 { print $1 }') ${1:-}; do
		t=$((t + $(task_ns "$pid")))
	done
	echo $t
}
warmed() { [ $(($(vstat "$FG_V_IF_A" xdp_packets) - W0)) -ge $WARM ]; }

# run_once FILTER RUN — one flood with the clients during it; appends a CSV row.
run_once() {
	local filter=$1 run=$2 lpid c0 c1 v0 v1 a0=0 a1=0 b0 b1 t0 t1 r0 r1 i0 i1 out srcs="" i el cli half agent=""
	[ "${filter%%-*}" = floodgate ] && agent=$FG_AGENT
	W0=$(vstat "$FG_V_IF_A" xdp_packets)
	fg_bg fg_in "$FG_A" taskset -c "$BENCH_ATT_CPU" "$LIVEGEN" flood --dev "$FG_A_IF" \
		--dst-mac "$FG_V_MAC_A" --dst "$FG_V_IP4_A" --dport $PORT --count 1000000000 \
		--seconds 30 --wide --src "$FLOOD_SRC" >"$FG_TMP/flood.out"
	lpid=$FG_LAST_PID
	fg_wait_for -t 10 warmed || fg_fail "$filter: the flood did not reach V: $(cat "$FG_TMP/flood.out")"
	if [ "$agent" ]; then
		fg_wait_for -t 10 under_attack || fg_fail "$filter: the rule never went under attack"
		if [ "$filter" != floodgate-off ]; then
			fg_log_wait "syn cookies on" 10 || fg_fail "$filter: the agent did not switch cookies on"
		fi
	fi
	c0=$(vstat "$FG_V_IF_A" xdp_packets) r0=$(replies) i0=$(snmp Tcp InSegs)
	b0=$(bench_cpu_busy "$BENCH_VIC_CPU") v0=$(flood_ns $agent) t0=$(date +%s%N)
	[ -z "$agent" ] || a0=$(task_ns "$agent")
	# Brand-new clients, all at once, on the attacker CPU: their own cost is
	# the same in every row.
	for ((i = 0; i < CLIENTS; i++)); do
		srcs+=" 192.0.2.$((10 + (run - 1) * CLIENTS + i))"
	done
	# shellcheck disable=SC2086
	fg_bg fg_in "$FG_C" taskset -c "$BENCH_ATT_CPU" python3 "$REQRESP" clients "$FG_V_IP4_C" $PORT $srcs \
		--size $SIZE --timeout 1 --parallel "$CLIENTS" >"$FG_TMP/cli.out"
	fg_wait_pid "$FG_LAST_PID" 30 || fg_fail "$filter: clients failed"
	el=$(awk -v a="$t0" -v b="$(date +%s%N)" -v m="$MSECS" 'BEGIN { d = m - (b - a) / 1e9; print (d > 0 ? d : 0) }')
	sleep "$el" # the rest of the measured window
	c1=$(vstat "$FG_V_IF_A" xdp_packets) r1=$(replies) i1=$(snmp Tcp InSegs)
	b1=$(bench_cpu_busy "$BENCH_VIC_CPU") v1=$(flood_ns $agent) t1=$(date +%s%N)
	[ -z "$agent" ] || a1=$(task_ns "$agent")
	[ $((v1 - v0)) -gt 0 ] || fg_fail "$filter: no CPU time measured for V's NAPI thread"
	half=$(fg_in "$FG_V" ss -Htn state syn-recv | wc -l)
	kill -0 "$lpid" 2>/dev/null || fg_fail "$filter: the flood ended before the window did: $(cat "$FG_TMP/flood.out")"
	fg_stop "$lpid" 10 || fg_fail "$filter: livegen failed: $(cat "$FG_TMP/flood.out")"
	out=$(<"$FG_TMP/flood.out")
	cli=$(<"$FG_TMP/cli.out")
	[ "$(fg_kv fail "$cli")" = 0 ] || fg_log "$filter run $run clients: $cli"
	echo "$filter,$run,$(fg_kv sent "$out"),$(fg_kv xmit "$out"),$(fg_kv xmit_errors "$out"),$(((t1 - t0) / 1000000)),$((c1 - c0)),$((v1 - v0)),$((a1 - a0)),$((b1 - b0)),$((r1 - r0)),$((i1 - i0)),$half,$(fg_kv ok "$cli"),$(fg_kv fail "$cli"),$(fg_kv max_ms "$cli"),$(cut -d' ' -f1 /proc/loadavg)" >>"$CSV"
}

echo "filter,run,sent,xmit,xmit_errors,wall_ms,victim_consumed,victim_thread_ns,agent_ns,victim_busy_ticks,replies,tcp_in,half_open,client_ok,client_fail,client_max_ms,load1" >"$CSV"
for filter in $FILTERS; do
	fg_log "row $filter (load $(cut -d' ' -f1 /proc/loadavg))"
	filter_on "$filter"
	for ((r = 1; r <= RUNS; r++)); do
		run_once "$filter" "$r"
		sleep $REST
	done
	filter_off "$filter"
done
setv net.ipv4.tcp_syncookies "$SC0"
setv net.ipv4.tcp_timestamps "$TS0"

TICK=$(getconf CLK_TCK)
table() {
	awk -F, -v tick="$TICK" '
function med(key,   n, i, j, t, v) {
	n = split(vals[key], v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((n + 1) / 2)]
}
function add(k, x) { vals[k] = vals[k] " " x }
NR > 1 {
	k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	secs = $6 > 0 ? $6 / 1000 : 1; c = $7 > 0 ? $7 : 1
	add(k "/absorbed", $7 / secs / 1e6); add(k "/ns", $8 / c); add(k "/agent_ns", $9 / c)
	add(k "/busy_ns", ($10 / tick) * 1e9 / c)
	add(k "/replies", $11 / secs); add(k "/tcp", $12 / secs); add(k "/half", $13)
	add(k "/max", $16); okn[k] += $14; all[k] += $14 + $15; add(k "/load", $17)
}
END {
	floor = med("xdp-drop/ns")
	print "| filter | absorbed Mpps | victim CPU ns/SYN | of which agent | vs XDP_DROP | CPU 1 busy ns/SYN | replies to the flood /s | to TCP stack /s | half-open at the end | new clients ok | slowest client ms | load (1 min) |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) { k = order[i]; m = med(k "/ns")
		printf "| %s | %.2f | %.0f | %.0f | %s | %.0f | %.0f | %.0f | %d | %d/%d (%.0f%%) | %.0f | %s |\n", k, med(k "/absorbed"), m, med(k "/agent_ns"), (floor > 0 ? sprintf("%.1fx", m / floor) : "n/a"), med(k "/busy_ns"), med(k "/replies"), med(k "/tcp"), med(k "/half"), okn[k], all[k], (all[k] ? 100 * okn[k] / all[k] : 0), med(k "/max"), med(k "/load") }
}' "$CSV"
}

{
	bench_facts
	echo "- load average (1, 5, 15 min): $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end: the machine was shared, so absolute figures are noisy; the ratios of this run are what counts"
	echo "- flood: bench/livegen flat out from A on CPU $BENCH_ATT_CPU, random sources over $FLOOD_SRC (--wide), to V's TCP port $PORT, for a window of at least ${MSECS}s per run (until the clients are done); V's NAPI threads, server and agent on CPU $BENCH_VIC_CPU; victim CPU ns/SYN = schedstat of the NAPI thread of V's attacker-side veth (XDP and, without XDP, the kernel's IP, TCP and replies) and of the agent / frames V consumed there (the agent's share beside it; the server and the clients' veth, the same work in every row, are not counted); replies = V's XDP_TX frames and transmissions on the attacker-side veth per second; half-open = V's sockets in SYN-RECV at the end of the window"
	echo "- clients: $CLIENTS brand-new clients per run (addresses of C never used before in that row, so never verified), all at once, each connects and fetches $SIZE bytes within 1 s, during the flood"
	echo "- floodgate: native XDP, rule $GLB_RATE new connections/s in all (burst $GLB_BURST), $SRC_RATE/s per address; cookies: syn_cookies: auto with max_rate 100,000,000 (every SYN answered); cap: max_rate 50,000 (the default); nft-synproxy: conntrack, SYN notrack + synproxy mss 1460 wscale $WSCALE timestamp sack-perm, nf_conntrack_tcp_loose=0; median of $RUNS runs per row"
	echo
	table
} | tee "$OUT/cookies.md"
fg_pass "cookies benchmark"
