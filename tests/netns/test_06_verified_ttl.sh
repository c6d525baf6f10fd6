#!/bin/bash
# floodctl says a source is verified only as the XDP program judges it: once
# its stamp is older than verified_ttl it is not (the entry stays in the LRU
# map, but no longer admits the source under attack). Also: the age printed
# never wraps (a stamp can be a little ahead of the clock read).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

PORT=443
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
sources:
  verified_ttl: 2s
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 100, burst: 100 }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"

out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 1 --graceful)
fg_assert_eq "$(fg_kv ok "$out")" 1 "client connects"
fg_wait_for -t 5 fg_ctl verified "$FG_C_IP4" || fg_fail "the client was never marked verified"
out=$(fg_ctl verified "$FG_C_IP4")
fg_log "just after: $out"
grep -qE '^yes \(seen [0-9]+\.[0-9]s ago\)$' <<<"$out" || fg_fail "age looks wrong: $out"
fg_ok "verified while fresh"

sleep 3
rc=0
out=$(fg_ctl verified "$FG_C_IP4") || rc=$?
fg_log "3 s later (ttl 2 s): $out"
fg_assert_eq "$rc" 1 "floodctl -p verified: exit 1 past verified_ttl"
grep -q "^no (seen .*past verified_ttl)" <<<"$out" || fg_fail "not said: $out"
rc=0
out=$("$FLOODCTL" -s "$FG_SOCK" verified "$FG_C_IP4") || rc=$?
fg_assert_eq "$rc" 1 "floodctl verified over the socket: exit 1 past verified_ttl"
[ "$out" = no ] || fg_fail "the socket says: $out"
fg_ok "the socket's XDP.SOURCE says not verified"
fg_pass "verified follows verified_ttl as the program does"
