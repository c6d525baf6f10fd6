#!/bin/bash
# A single-source SYN flood is dropped at V's NIC, the source is banned after
# repeated violations, and a legitimate client keeps completing connects.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
FLOOD=20000
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
defaults:
  tcp: { per_source: { rate: 1000, burst: 1000 } }
  udp: { per_source: { rate: 1000, burst: 1000 } }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
    ban: { after: 3, window: 60s, for: 300s }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"

fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" \
	--count $FLOOD --pps 5000 --seconds 10 >"$FG_TMP/flood.out"
FLOODER=$FG_LAST_PID

out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 30 \
	--interval-ms 50 --timeout-ms 1000)
fg_log "client during flood: $out"
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
fg_log "flood: $(<"$FG_TMP/flood.out")"
sent=$(fg_kv sent "$(<"$FG_TMP/flood.out")")

fg_assert_eq "$(fg_kv ok "$out")" 30 "legitimate client completes every connect during the flood"
dropped=$(($(fg_stat source dropped) + $(fg_stat ban dropped)))
fg_log "dropped: source=$(fg_stat source dropped) ban=$(fg_stat ban dropped) of $sent sent"
# 40 burst + 20/s over the flood's few seconds may pass; everything else is dropped.
fg_assert_ge "$dropped" $((sent - 200)) "flood SYNs dropped by the per-address limit and the ban"
fg_assert_le "$(fg_stat new_flow passed)" 300 "new flows admitted stay near burst + rate"

bans=$(fg_ctl list bans)
fg_log "bans: $bans"
grep -q "^$FG_A_IP4 .*auto" <<<"$bans" || fg_fail "flooding source was not auto-banned"
fg_ok "flooding source auto-banned after 3 violations"
fg_assert_eq "$(fg_ctl list bans | grep -c "$FG_C_IP4" || true)" 0 "the client is not banned"

fg_log_wait "level=warn msg=violation source=$FG_A_IP4 rule=signaling scope=address" ||
	fg_fail "no violation line for the flooding source in the agent log"
fg_ok "violation reported in the log"
fg_pass "single-source SYN flood dropped, client unaffected"
