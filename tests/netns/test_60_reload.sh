#!/bin/bash
# SIGHUP applies a lower threshold without detaching (same XDP program, same
# buckets); a bad file is rejected and the running thresholds stay.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
write_conf() {
	cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: $1, burst: $2 }
YAML
}
flood() {
	fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$1" --count 1000 \
		--seconds 5 >/dev/null
}

write_conf 100000 100000
fg_agent_start "$FG_TMP/fg.yaml"
prog=$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")
[ -n "$prog" ] || fg_fail "no XDP program on $FG_V_IF_A"

flood 203.0.113.10
fg_assert_eq "$(fg_stat source dropped)" 0 "a high threshold drops nothing"

write_conf 5 10
kill -HUP "$FG_AGENT"
fg_log_wait 'msg="config reloaded"' || fg_fail "reload not logged"
fg_assert_eq "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" "$prog" "same XDP program after reload (no detach)"
flood 203.0.113.11
fg_assert_ge "$(fg_stat source dropped)" 980 "the lower threshold is in force after SIGHUP"

# A broken file: rejected, the 5/10 limit stays.
printf 'rules:\n  - name: signaling\n    proto: tcp\n    ports: [70000]\n' >"$FG_TMP/fg.yaml"
kill -HUP "$FG_AGENT"
fg_log_wait 'reload rejected' || fg_fail "bad reload not reported"
grep -q 'fg.yaml:4: rules\[0\].ports' "$FG_AGENT_LOG" || fg_fail "rejection does not name file:line: key"
fg_ok "bad file rejected with file:line: key"
before=$(fg_stat source dropped)
flood 203.0.113.12
fg_assert_ge "$(($(fg_stat source dropped) - before))" 980 "running thresholds kept after a bad reload"
kill -0 "$FG_AGENT" || fg_fail "agent died on a bad reload"
fg_pass "SIGHUP reload: new thresholds without detaching, bad files rejected"
