#!/bin/bash
# A flood of new UDP flows (random source ports from one address) is dropped
# by the per-address limit of a UDP rule, while a legitimate UDP client's
# flow, already known, keeps getting its echoes.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=3478
FLOOD=20000
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: turn-udp
    proto: udp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
YAML
fg_serve $PORT --udp
fg_agent_start "$FG_TMP/fg.yaml"

fg_bg fg_in "$FG_A" "$FGNET" udp --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" \
	--new-flows --count $FLOOD --pps 5000 --seconds 10 >"$FG_TMP/flood.out"
FLOODER=$FG_LAST_PID
out=$(fg_in "$FG_C" "$FGNET" udp-talk --dst "$FG_V_IP4_C" --dport $PORT --count 100 \
	--interval-ms 20 --timeout-ms 1000)
fg_log "client during flood: $out"
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
fg_log "flood: $(<"$FG_TMP/flood.out")"
sent=$(fg_kv sent "$(<"$FG_TMP/flood.out")")

fg_assert_eq "$(fg_kv ok "$out")" 100 "legitimate UDP client gets every echo"
fg_assert_ge "$(fg_stat source dropped)" $((sent - 200)) "new UDP flows over the limit dropped"
fg_assert_ge "$(fg_stat udp_known passed)" 99 "the client's flow passes as a known flow"
fg_pass "UDP new-flow flood dropped, known flow unaffected"
