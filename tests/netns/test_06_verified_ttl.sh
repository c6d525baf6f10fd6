#!/bin/bash
# floodctl says a source is verified only as the XDP program judges it: once
# its stamp is older than verified_ttl it is not (the entry stays in the LRU
# map, but no longer admits the source under attack). Also: the age printed
# never wraps (a stamp can be a little ahead of the clock read). The host's
# default gateway (a UDP-only peer, like its resolvers) is kept verified by
# the agent, so a SYN flood forged from it is held to the limit but never
# gets it banned (stop 35's trial).
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
    ban: { after: 2, window: 60s, for: 300s }
YAML
GW=198.51.100.254 # on A's link, no host: only its address matters
ip -n "$FG_V" route add default via "$GW"
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

# The default gateway: verified by the agent (origin host), shown in INFO.
fg_wait_for -t 5 fg_ctl verified "$GW" || fg_fail "the default gateway is not kept verified"
out=$(fg_ctl verified "$GW")
grep -qE '^yes \(host, for [0-9.]+s more\)$' <<<"$out" || fg_fail "gateway: $out"
redis-cli -s "$FG_SOCK" INFO xdp | grep -q "^host_peers:.*gateway $GW" ||
	fg_fail "INFO xdp: $(redis-cli -s "$FG_SOCK" INFO xdp | grep host_peers)"
"$FLOODCTL" -s "$FG_SOCK" status | grep -q "^host peers .*gateway $GW" ||
	fg_fail "floodctl status: $("$FLOODCTL" -s "$FG_SOCK" status)"
fg_ok "the default gateway is kept verified: $out"
fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$GW" --count 1500 --pps 500 \
	--seconds 10 >"$FG_TMP/flood.out" || fg_fail "flood generator failed"
fg_assert_ge "$(fg_stat source dropped)" 500 "the forged flood is held to the limit"
"$FLOODCTL" -s "$FG_SOCK" list bans | grep -q "$GW" && fg_fail "the gateway was banned"
fg_ok "a SYN flood forged from the gateway is held to the limit, never banned"
fg_pass "verified follows verified_ttl as the program does"
