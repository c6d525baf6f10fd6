#!/bin/bash
# VLAN and QinQ: tagged SYNs from a denied source, injected as raw frames on
# the wire, are dropped by XDP (a sniffer behind XDP sees none of them),
# while tagged frames from other sources pass. The kernel here has no 802.1Q
# module, so frames are written with AF_PACKET (fgnet raw).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

COUNT=200
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
defaults:
  tcp: { per_source: { rate: 100000, burst: 100000 } }
deny: ["203.0.113.66/32"]
YAML
fg_agent_start "$FG_TMP/fg.yaml"

mac() { tr -d : <<<"$1"; }
ip4hex() { printf '%02x' ${1//./ }; }
# syn_frame SRC TAGS: Ethernet + TAGS (hex, each "TPID TCI") + IPv4 + TCP SYN to :443.
syn_frame() {
	printf '%s%s%s0800' "$(mac "$FG_V_MAC_A")" "$(mac "$FG_A_MAC")" "$2"
	printf '450000280001000040060000%s%s' "$(ip4hex "$1")" "$(ip4hex "$FG_V_IP4_A")"
	printf '303901bb000000010000000050022000000000000000'
}
# send SRC TAGS [DENY0] -> how many of those frames V's sniffer saw behind XDP.
# Frames that pass end the sniffer (--until); for a denied source (DENY0: the
# deny counter before) it is stopped once the counter says XDP has seen them all
# (it still reads what is queued), else at its 5 s.
all_denied() { [ "$(fg_stat deny dropped)" -ge "$DENY_WANT" ]; }
send() {
	rm -f "$FG_TMP/sniff.ready"
	fg_bg fg_in "$FG_V" "$FGNET" sniff --dev "$FG_V_IF_A" --seconds 5 --match-src "$1" \
		--until $COUNT --ready-file "$FG_TMP/sniff.ready" >"$FG_TMP/sniff.out"
	local sniff=$FG_LAST_PID
	fg_wait_file "$FG_TMP/sniff.ready" || fg_fail "sniffer did not start"
	fg_in "$FG_A" "$FGNET" raw --dev "$FG_A_IF" --hex "$(syn_frame "$1" "$2")" --count $COUNT --interval-ms 1 \
		>/dev/null || fg_fail "cannot inject frames"
	if [ -n "${3:-}" ]; then
		DENY_WANT=$(($3 + COUNT))
		fg_wait_for -t 5 all_denied >&2 || true
		fg_stop "$sniff" || true
	fi
	fg_wait_pid "$sniff" 10 || true
	fg_kv seen "$(<"$FG_TMP/sniff.out")"
}

seen=$(send 203.0.113.67 81000064)
fg_assert_eq "$seen" $COUNT "VLAN-tagged SYNs from an ordinary source pass XDP"
before=$(fg_stat deny dropped)
seen=$(send 203.0.113.66 81000064 "$before")
fg_assert_eq "$seen" 0 "VLAN-tagged SYNs from a denied source never pass XDP"
seen=$(send 203.0.113.66 88a8006481000065 "$(fg_stat deny dropped)")
fg_assert_eq "$seen" 0 "QinQ SYNs from a denied source never pass XDP"
fg_assert_eq "$(($(fg_stat deny dropped) - before))" $((2 * COUNT)) "all counted as deny"
fg_pass "VLAN and QinQ frames: the deny list holds behind the tags"
