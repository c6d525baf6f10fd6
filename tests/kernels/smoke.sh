#!/bin/bash
# The agent smoke test that tests/kernels/run.sh runs on each kernel of the
# matrix (it also runs on the host: BUILD=build bash tests/kernels/smoke.sh).
# On the standard namespace topology (tests/netns/lib.sh: veth pairs,
# documentation addresses, cleaned up on exit), one line per step:
#   smoke-step ok|FAIL <step>: <detail>
# Steps: native XDP attach, TC egress attach, a SYN burst limited, the socket
# answers, /metrics answers, SIGHUP reload, SIGKILL keeps XDP and a new agent
# adopts the pins, SIGTERM leaves nothing. Exit 0 when every step passed.
set -u
[ $# -ge 1 ] && BUILD=$1
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

PORT=443
MPORT=10150
n_ok=0
n_bad=0
step() { # step NAME DETAIL CMD... — one smoke step, never fatal
	local name=$1 detail=$2
	shift 2
	if "$@" >"$FG_TMP/step.out" 2>&1; then
		echo "smoke-step ok $name: $detail"
		n_ok=$((n_ok + 1))
	else
		echo "smoke-step FAIL $name: $detail"
		sed 's/^/    /' "$FG_TMP/step.out" | tail -20
		n_bad=$((n_bad + 1))
	fi
}

fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
xdp_mode: native
metrics: { listen: "127.0.0.1:$MPORT" }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
YAML
flood() {
	fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" --count 1000 \
		--pps 2000 --seconds 10 >/dev/null
}
# fg_agent_start exits on failure; run it in this shell so FG_AGENT is set.
fg_agent_start "$FG_TMP/fg.yaml"

native() { ip -n "$FG_V" -d link show dev "$FG_V_IF_A" | grep -q ' xdp ' &&
	[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ]; }
step attach-native "XDP in driver mode on $FG_V_IF_A" native

tc_egress() { tc -n "$FG_V" filter show dev "$FG_V_IF_A" egress | grep -q 'bpf'; }
step tc-egress "TC egress filter on $FG_V_IF_A" tc_egress

syn_limited() {
	flood
	local d
	d=$(fg_stat source dropped)
	echo "dropped $d of 1000 SYNs (burst 10, 5/s)"
	[ "${d:-0}" -ge 950 ]
}
step syn-limited "a 1000-SYN burst from one source is limited" syn_limited

sock() { "$FLOODCTL" -s "$FG_SOCK" status; }
step socket "floodctl status over the agent socket" sock

metrics() {
	fg_in "$FG_V" curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$FG_TMP/metrics.txt" &&
		grep -q '^floodgate_xdp_attached' "$FG_TMP/metrics.txt" &&
		grep -qF "floodgate_kernel_info{release=\"$(uname -r)\"} 1" "$FG_TMP/metrics.txt" &&
		grep -qE '^floodgate_kernel_feature\{feature="xdp_syncookies"\} [01]$' "$FG_TMP/metrics.txt"
}
step metrics "GET /metrics (kernel release and features included)" metrics

hup() {
	local prog
	prog=$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")
	kill -HUP "$FG_AGENT" && fg_log_wait 'msg="config reloaded"' &&
		[ "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" = "$prog" ]
}
step sighup "SIGHUP reloads without detaching" hup

kill_adopt() {
	local d1
	d1=$(fg_stat source dropped)
	kill -KILL "$FG_AGENT"
	wait "$FG_AGENT" 2>/dev/null
	[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || { echo "detached by SIGKILL"; return 1; }
	fg_agent_start "$FG_TMP/fg.yaml" || return 1
	grep -q "adopting .* pinned maps" "$FG_AGENT_LOG" || { echo "no adoption logged"; return 1; }
	flood
	[ "$(fg_stat source dropped)" -ge $((d1 + 950)) ] || { echo "adopted bucket not dropping"; return 1; }
}
step sigkill-adopt "SIGKILL keeps XDP attached; a new agent adopts the pins" kill_adopt

term() {
	fg_stop "$FG_AGENT" 10 || { echo "exit status $? on SIGTERM"; return 1; }
	[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || { echo "XDP still attached"; return 1; }
	! tc -n "$FG_V" filter show dev "$FG_V_IF_A" egress | grep -q bpf || { echo "TC filter left"; return 1; }
	[ -z "$(ls -A "$FG_PIN_DIR" 2>/dev/null)" ] || { echo "pins left: $(ls "$FG_PIN_DIR")"; return 1; }
}
step sigterm "SIGTERM detaches XDP and TC, removes the pins" term

echo "smoke: $n_ok passed, $n_bad failed"
[ $n_bad -eq 0 ]
