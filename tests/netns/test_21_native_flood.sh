#!/bin/bash
# A random-source SYN flood on the native XDP path (bench/livegen: live frames
# reach V's veth as xdp_frames, no skb, as from a NIC driver). livegen's
# counts are exact, so the test can check what got through, frame by frame:
# the spoofed SYNs floodgate passed are at most the rule's global budget
# (burst + rate over the flood), the rule is under attack, and a client that
# talked to the host before the flood completes >= 99% of its connects.
#
# Then the flood that once turned spoofed sources into verified ones: IPv4
# from one /24 and one source port, so most SYNs hit the 4-tuple of a request
# socket an earlier SYN created, and V answers each with a pure ACK (the
# request socket's out-of-window answer). The egress program used to take
# any ACK the host sent as a finished handshake: all 256 spoofed addresses
# became verified and 92% of that flood passed. Now no spoofed address is
# verified and the passes stay within the budget.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

LIVEGEN=${LIVEGEN:-$BUILD/bench/livegen}
[ -x "$LIVEGEN" ] || fg_fail "$LIVEGEN missing: run make $LIVEGEN (make test builds it)"
PORT=443
CONNECTS=100
GLB_RATE=200 GLB_BURST=400
FLOOD_COUNT=300000 FLOOD_PPS=100000 FLOOD_SECS=5
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
sources: { attack_hold: 2s }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 100, burst: 200 }
    global: { rate: $GLB_RATE, burst: $GLB_BURST }
    syn_cookies: off # the budget itself; SYN cookies under attack are test_22's
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"

out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 1 --graceful)
fg_assert_eq "$(fg_kv ok "$out")" 1 "client connects before the flood"
fg_wait_for -t 5 fg_ctl verified "$FG_C_IP4" || fg_fail "the client was never marked verified"

# vstat NAME — V's attacker-side veth counter rx_queue_N_NAME, summed.
vstat() {
	ip netns exec "$FG_V" ethtool -S "$FG_V_IF_A" |
		awk -v n="$1" '$1 ~ "^rx_queue_[0-9]+_" n ":$" { s += $2 } END { print s + 0 }'
}
c0=$(vstat xdp_packets)
d0=$(vstat xdp_drops)
fg_bg fg_in "$FG_A" "$LIVEGEN" flood --dev "$FG_A_IF" --dst-mac "$FG_V_MAC_A" \
	--dst "$FG_V_IP6_A" --dport $PORT --src "$FG_SPOOF6" --count $FLOOD_COUNT \
	--pps $FLOOD_PPS --seconds $FLOOD_SECS >"$FG_TMP/flood.out"
FLOOD=$FG_LAST_PID
attack_on() { [ "$(fg_rule_stat 2 attack)" = yes ]; }
fg_wait_for -t 5 attack_on || fg_fail "rule never went under attack"
fg_ok "rule under attack during the native-path flood"
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count $CONNECTS \
	--interval-ms 20 --timeout-ms 1000)
fg_log "client during flood: $out"
attack_after=$(fg_rule_stat 2 attack)
fg_wait_pid "$FLOOD" 30 || fg_fail "livegen failed: $(<"$FG_TMP/flood.out")"
flood=$(<"$FG_TMP/flood.out")
fg_log "flood: $flood"
# The ring drains within a poll: wait until V consumed every frame put on it.
xmit=$(fg_kv xmit "$flood")
consumed_all() { [ $(($(vstat xdp_packets) - c0)) -ge "$xmit" ]; }
fg_wait_for -t 5 consumed_all || fg_fail "V consumed $(($(vstat xdp_packets) - c0)) of $xmit frames"
consumed=$(($(vstat xdp_packets) - c0))
dropped=$(($(vstat xdp_drops) - d0))
secs=$(fg_kv seconds "$flood")
fg_log "rules: $(fg_ctl rules | tr '\n' ' ')"
fg_log "maps: $(fg_ctl count | tr '\n' ' ')"
fg_log "consumed $consumed, dropped $dropped, passed $((consumed - dropped)) in ${secs}s"

fg_assert_eq "$(fg_kv sent "$flood")" "$((xmit + $(fg_kv xmit_errors "$flood")))" \
	"livegen: every frame sent is on V's ring or counted as a ring-full drop"
fg_assert_ge "$xmit" $((FLOOD_COUNT / 2)) "at least half the flood reached V"
[ "$attack_after" = yes ] || fg_fail "the flood ended before the client run did"
fg_assert_ge "$(fg_kv ok "$out")" $((CONNECTS * 99 / 100)) "pre-flood client completes >= 99% of connects"
# What passed: the global budget's burst and its rate over the flood (plus
# a second for the flood's start and end), and A's own IPv6 control frames
# (router solicitations, MLD reports: a few dozen), nothing more.
budget=$(awk -v b=$GLB_BURST -v r=$GLB_RATE -v s="$secs" 'BEGIN { printf "%d", b + r * (s + 1) + 100 }')
fg_assert_le "$((consumed - dropped))" "$budget" "spoofed SYNs passed <= the global budget"

# --- IPv4, one /24 and one source port: challenge ACKs must not verify ---------
c0=$(vstat xdp_packets)
d0=$(vstat xdp_drops)
fg_in "$FG_A" "$LIVEGEN" flood --dev "$FG_A_IF" --dst-mac "$FG_V_MAC_A" \
	--dst "$FG_V_IP4_A" --dport $PORT --src "$FG_SPOOF4" --sport 40000 --count $FLOOD_COUNT \
	--pps $FLOOD_PPS --seconds $FLOOD_SECS >"$FG_TMP/flood4.out" ||
	fg_fail "livegen failed: $(<"$FG_TMP/flood4.out")"
flood=$(<"$FG_TMP/flood4.out")
xmit=$(fg_kv xmit "$flood")
fg_wait_for -t 5 consumed_all || fg_fail "V consumed $(($(vstat xdp_packets) - c0)) of $xmit frames"
passed=$(($(vstat xdp_packets) - c0 - ($(vstat xdp_drops) - d0)))
verified=0
for i in $(seq 1 254); do
	fg_ctl verified "203.0.113.$i" >/dev/null 2>&1 && verified=$((verified + 1))
done
fg_log "IPv4 one-port flood: $flood; passed $passed; spoofed sources verified: $verified"
fg_assert_eq "$verified" 0 "no spoofed source of the one-port flood is verified"
budget=$(awk -v b=$GLB_BURST -v r=$GLB_RATE -v s="$(fg_kv seconds "$flood")" \
	'BEGIN { printf "%d", b + r * (s + 1) + 100 }')
fg_assert_le "$passed" "$budget" "one-port flood: spoofed SYNs passed <= the global budget"
fg_pass "native-path random-source flood: exact counts, passes within the global budget"
