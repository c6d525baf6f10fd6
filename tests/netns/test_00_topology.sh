#!/bin/bash
# The harness itself, without floodgate: the 3-namespace topology carries real TCP and
# UDP (v4 and v6) from the client, and a bounded spoofed SYN flood from the attacker
# arrives at the victim whole. Every later netns test builds on these facts.
set -eu
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

PORT=8443
fg_topo_3ns

fg_bg fg_in "$FG_V" "$FGNET" serve --port $PORT --udp --tcp --seconds 60 \
	--ready-file "$FG_TMP/serve.ready" >"$FG_TMP/serve.out"
SERVE=$FG_LAST_PID
fg_wait_file "$FG_TMP/serve.ready" || fg_fail "server did not start"

for dst in "$FG_V_IP4_C" "$FG_V_IP6_C"; do
	out=$(fg_in "$FG_C" "$FGNET" connect --dst "$dst" --dport $PORT --count 20 --timeout-ms 1000)
	fg_log "connect $dst: $out"
	fg_assert_eq "$(fg_kv ok "$out")" 20 "TCP connects from C to $dst"
	out=$(fg_in "$FG_C" "$FGNET" udp-talk --dst "$dst" --dport $PORT --count 20)
	fg_log "udp-talk $dst: $out"
	fg_assert_eq "$(fg_kv ok "$out")" 20 "UDP echoes from C to $dst"
done

# A port nobody listens on is refused: connect really can fail.
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $((PORT + 1)) --count 2)
fg_assert_eq "$(fg_kv fail "$out")" 2 "connects to a closed port fail"

# Spoofed SYNs from A reach V's attacker-side interface, every one of them.
COUNT=2000
for fam in 4 6; do
	if [ $fam = 4 ]; then src=$FG_SPOOF4 dst=$FG_V_IP4_A; else src=$FG_SPOOF6 dst=$FG_V_IP6_A; fi
	rm -f "$FG_TMP/sniff.ready"
	fg_bg fg_in "$FG_V" "$FGNET" sniff --dev "$FG_V_IF_A" --seconds 20 --match-src "$src" \
		--match-dport $PORT --until $COUNT --ready-file "$FG_TMP/sniff.ready" \
		>"$FG_TMP/sniff.out"
	SNIFF=$FG_LAST_PID
	fg_wait_file "$FG_TMP/sniff.ready" || fg_fail "sniffer did not start"
	out=$(fg_in "$FG_A" "$FGNET" syn --dst "$dst" --dport $PORT --src "$src" \
		--count $COUNT --seconds 5)
	fg_log "syn flood $src -> $dst: $out"
	fg_assert_eq "$(fg_kv sent "$out")" $COUNT "SYNs sent from $src"
	fg_wait_pid "$SNIFF" 20 || fg_fail "sniffer failed"
	seen=$(<"$FG_TMP/sniff.out")
	fg_log "sniff: $seen"
	fg_assert_eq "$(fg_kv seen "$seen")" $COUNT "spoofed SYNs from $src seen by V"
done

# V answered the spoofed SYNs towards A (the route for the spoofed ranges), not C.
# (A full peer queue drops some at the veth: those count as attempts too.)
tx_a=$(($(fg_if_stat "$FG_V" "$FG_V_IF_A" tx packets) + $(fg_if_stat "$FG_V" "$FG_V_IF_A" tx dropped)))
fg_assert_ge "$tx_a" $((2 * COUNT)) "V's replies to spoofed sources leave towards A"

fg_stop "$SERVE" || fg_fail "server exited with an error"
fg_log "serve: $(<"$FG_TMP/serve.out")"
fg_assert_ge "$(fg_kv accepted "$(<"$FG_TMP/serve.out")")" 40 "server accepted the connects"
fg_pass "topology carries TCP/UDP v4/v6 and spoofed floods"
