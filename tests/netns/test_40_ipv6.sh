#!/bin/bash
# IPv6: a single-source SYN flood is dropped, per-/64 prefix limits catch a
# flood spread over many addresses of one /64, and a v6 client keeps
# connecting.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
sources: { ipv6_prefix: 64 }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
    per_prefix: { rate: 50, burst: 100 }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"

fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP6_A" --dport $PORT --src "$FG_A_IP6" \
	--count 10000 --pps 5000 --seconds 10 >"$FG_TMP/flood.out"
FLOODER=$FG_LAST_PID
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP6_C" --dport $PORT --count 30 \
	--interval-ms 50 --timeout-ms 1000)
fg_log "client during flood: $out"
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
sent=$(fg_kv sent "$(<"$FG_TMP/flood.out")")
fg_assert_eq "$(fg_kv ok "$out")" 30 "IPv6 client completes every connect during the flood"
fg_assert_ge "$(fg_stat source dropped)" $((sent - 200)) "IPv6 single-source flood dropped"

# Many addresses of one /64 (2001:db8:ff00::/64 is routed back via A): each
# address stays under its own limit, the prefix does not.
fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP6_A" --dport $PORT --src 2001:db8:ff00::/64 \
	--count 5000 --pps 5000 --seconds 10 >"$FG_TMP/flood64.out"
fg_wait_pid "$FG_LAST_PID" 20 || fg_fail "prefix flood generator failed"
fg_log "prefix flood: $(<"$FG_TMP/flood64.out")"
fg_assert_ge "$(fg_stat prefix dropped)" 4500 "flood spread over one /64 dropped by the prefix limit"
fg_ctl source 2001:db8:ff00::/64 >/dev/null || fg_fail "no state for the flooding /64"
fg_ok "the /64 is tracked"
fg_pass "IPv6 floods dropped, v6 client unaffected"
