#!/bin/bash
# persist: true keeps the program attached and its state pinned after
# floodgated exits, so protection outlives the agent; the next agent adopts
# it, and one with persist: false removes everything on SIGTERM.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
write_conf() {
	cat >"$FG_TMP/fg.yaml" <<YAML
persist: $1
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
YAML
}
flood() {
	fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" --count 500 \
		--seconds 5 >/dev/null
}

write_conf true
fg_agent_start "$FG_TMP/fg.yaml"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
grep -q "persist" "$FG_AGENT_LOG" || fg_fail "the log does not say the program stays"
[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "persist: program detached on SIGTERM"
[ -e "$FG_PIN_DIR/settings" ] || fg_fail "persist: pins removed on SIGTERM"
fg_ok "persist: SIGTERM leaves the program attached and the maps pinned"
flood
fg_assert_ge "$(fg_stat source dropped)" 480 "no agent running, the flood is still dropped"

write_conf false
fg_agent_start "$FG_TMP/fg.yaml"
grep -q "adopting .* pinned maps" "$FG_AGENT_LOG" || fg_fail "the next agent did not adopt"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "persist: false left XDP attached"
[ ! -e "$FG_PIN_DIR/settings" ] || fg_fail "persist: false left pins"
fg_pass "persist keeps protection after exit; persist: false cleans up"
