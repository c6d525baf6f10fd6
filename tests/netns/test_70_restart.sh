#!/bin/bash
# SIGKILL of the agent leaves the program attached and the counters intact;
# a restarted agent adopts them. SIGTERM detaches and removes the pins.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
YAML
flood() {
	fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" --count 1000 \
		--seconds 5 >/dev/null
}

fg_agent_start "$FG_TMP/fg.yaml"
flood
d1=$(fg_stat source dropped)
fg_assert_ge "$d1" 980 "flood dropped by the first agent"

kill -KILL "$FG_AGENT"
wait "$FG_AGENT" 2>/dev/null || true
[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "program detached when the agent died"
fg_ok "program still attached after SIGKILL"
flood
d2=$(fg_stat source dropped)
fg_assert_ge "$d2" $((d1 + 990)) "still dropping with no agent running (bucket kept)"

fg_agent_start "$FG_TMP/fg.yaml"
grep -q "adopting .* pinned maps" "$FG_AGENT_LOG" || fg_fail "restarted agent did not adopt the pins"
fg_ok "restarted agent adopted the pinned maps"
fg_assert_ge "$(fg_stat source dropped)" "$d2" "counters survived the restart"
flood
fg_assert_ge "$(fg_stat source dropped)" $((d2 + 990)) "the adopted bucket keeps dropping"

fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "still attached after SIGTERM"
[ ! -e "$FG_PIN_DIR/settings" ] || fg_fail "pins left after SIGTERM"
fg_ok "SIGTERM detached and unpinned"
fg_pass "crash keeps protection; restart adopts; stop cleans up"
