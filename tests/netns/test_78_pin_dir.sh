#!/bin/bash
# The pin directory holds the XDP link: an existing one that another user
# owns or can write is refused (that user could unlink the link: XDP
# detached), and a second agent on the pin dir of a running one fails at
# start with a clear error, removing none of the first agent's pins.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
fg_require_cmd timeout
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
YAML
# second OUT [SOCKET]: another floodgated on the same pins, bounded in time.
second() {
	local rc=0
	timeout -s TERM 15 nsenter --net="/run/netns/$FG_V" -- "$FLOODGATED" -c "$FG_TMP/fg.yaml" \
		-i "$FG_V_IF_C" -i "$FG_V_IF_A" --pin-dir "$FG_PIN_DIR" \
		--socket "$FG_TMP/second.sock" >"$1" 2>&1 || rc=$?
	echo "$rc"
}

# 1. A pin dir pre-created by nobody, mode 0777.
fg_bpffs
chown nobody "$FG_PIN_DIR"
chmod 0777 "$FG_PIN_DIR"
rc=$(second "$FG_TMP/nobody.log")
[ "$rc" != 0 ] && [ "$rc" != 124 ] || {
	cat "$FG_TMP/nobody.log" >&2
	fg_fail "an agent started on a pin dir owned by nobody, mode 0777 (rc $rc)"
}
grep -q "pin directory $FG_PIN_DIR is owned by uid $(id -u nobody) with mode 0777" \
	"$FG_TMP/nobody.log" || {
	cat "$FG_TMP/nobody.log" >&2
	fg_fail "the refusal does not name the dir, its owner and mode"
}
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "refused, yet XDP is attached"
fg_ok "a pin dir owned by nobody (0777) is refused (rc $rc), with its owner and mode"
chown root "$FG_PIN_DIR"
chmod 0700 "$FG_PIN_DIR"

# 2. A second agent beside a running one.
fg_agent_start "$FG_TMP/fg.yaml"
prog=$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")
pins_before=$(ls "$FG_PIN_DIR" | sort | tr '\n' ' ')
rc=$(second "$FG_TMP/second.log")
[ "$rc" != 0 ] && [ "$rc" != 124 ] || {
	cat "$FG_TMP/second.log" >&2
	fg_fail "a second agent on the same pin dir started (rc $rc)"
}
grep -q "in use by another floodgated" "$FG_TMP/second.log" || {
	cat "$FG_TMP/second.log" >&2
	fg_fail "the second agent's error does not say the pin dir is in use"
}
fg_ok "a second agent on the same pin dir fails at start (rc $rc)"
[ "$(ls "$FG_PIN_DIR" | sort | tr '\n' ' ')" = "$pins_before" ] ||
	fg_fail "pins of the first agent are gone: now '$(ls "$FG_PIN_DIR" | tr '\n' ' ')'"
fg_ok "every pin of the first agent is still there ($(echo $pins_before | wc -w) pins)"
[ "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" = "$prog" ] ||
	fg_fail "the XDP program changed: $prog -> '$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")'"
fg_ok "the first agent's XDP program (id $prog) stays attached"
kill -0 "$FG_AGENT" || fg_fail "the first agent died"
fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src 203.0.113.9 --count 500 \
	--seconds 5 >/dev/null
fg_assert_ge "$(fg_stat source dropped)" 480 "the first agent still drops a flood"
fg_stop "$FG_AGENT" 10 || fg_fail "the first agent exited with an error"
fg_pass "pin dir: foreign owner/mode refused, one agent per pin dir"
