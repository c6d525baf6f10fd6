#!/bin/bash
# The agent's socket as applications and operators use it: redis-cli for every
# command, pipelining, RESP3, an ioredis application, and hostile clients
# (malformed and oversized requests, stalls, thousands of connections, a
# disconnect mid-pipeline) that must not disturb anyone else or any state.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-cli nc node
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
policies:
  - name: api
    type: window
    limits: [ { count: 3, per: 1m } ]
    roles: { OWNER: 2 }
  - name: socket_events
    type: events
    limit: 10
    window: 1m
    exempt: [ping]
  - name: login
    type: progressive
    xdp_ban: { after: 5, for: 1h }
  - name: ai_tokens
    type: budget
    amount: 1000
    period: day
YAML
fg_agent_start "$FG_TMP/fg.yaml"
SOCK=$FG_SOCK
fg_wait_for -t 10 test -S "$SOCK" || fg_fail "no socket at $SOCK"
rc() { redis-cli -s "$SOCK" "$@"; }
expect() { # expect WANT CMD... : the reply (redis-cli --no-raw) must equal WANT
	local want=$1 got
	shift
	got=$(redis-cli -s "$SOCK" --no-raw "$@" 2>&1 | tr '\n' '|')
	[ "$got" = "$want" ] || fg_fail "$*: got '$got', want '$want'"
	fg_ok "$* -> $want"
}

expect 'PONG|' PING
expect '"hi"|' ECHO hi
expect 'OK|' SELECT 0
rc INFO | grep -q '^# Xdp' || fg_fail "INFO has no xdp section"
rc INFO policies | grep -q '^policy_api:type=window' || fg_fail "INFO policies lacks api"
fg_ok "INFO has the xdp and policies sections"

# RL.CHECK: 3 per minute, a rejection charges nothing, PEEK charges nothing.
out=$(rc RL.CHECK api u1 PEEK | head -3 | tr '\n' ' ')
[ "$out" = "1 3 3 " ] || fg_fail "PEEK: $out"
out=$(rc RL.CHECK api u1 | head -3 | tr '\n' ' ')
[ "$out" = "1 3 2 " ] || fg_fail "first check: $out"
rc RL.CHECK api u1 >/dev/null
rc RL.CHECK api u1 >/dev/null
out=$(rc RL.CHECK api u1 | tr '\n' ' ')
[[ $out == "0 3 0 "*" deny 1m " ]] || fg_fail "4th check not denied: $out"
fg_ok "window policy: 3 allowed, the 4th denied ($out)"
out=$(rc RL.CHECK api u2 ROLE OWNER | head -2 | tr '\n' ' ')
[ "$out" = "1 6 " ] || fg_fail "OWNER multiplier: $out"
fg_ok "ROLE OWNER doubles the limit"
rc RL.CHECK api u2 ROLE NOSUCH | grep -q "unknown role" || fg_fail "unknown role accepted"

# Events: warn once at 8 of 10, disconnect at 10, ping exempt.
states=$(for i in $(seq 1 11); do echo "RL.EVENT socket_events c1 msg"; done | rc | awk 'NR % 3 == 1' | tr '\n' ' ')
[ "$states" = "ok ok ok ok ok ok ok warn ok disconnect disconnect " ] || fg_fail "events: $states"
fg_ok "events: warn once at 80%, disconnect at the limit"
expect '1) "exempt"|2) (integer) 11|3) (integer) 10|' RL.EVENT socket_events c1 ping
expect 'OK|' RL.CONN.CLOSE socket_events c1

# Progressive auth: 0,0,0,1000 ms; check; ok resets.
delays=$(for i in 1 2 3 4; do rc RL.AUTH.FAIL login bob | head -1; done | tr '\n' ' ')
[ "$delays" = "0 0 0 1000 " ] || fg_fail "auth delays: $delays"
fg_ok "auth slowdown 0,0,0,1 s"
wait_ms=$(rc RL.AUTH.CHECK login bob | head -1)
fg_assert_le "$wait_ms" 1000 "auth check wait"
fg_assert_gt "$wait_ms" 0 "auth check wait"
expect 'OK|' RL.AUTH.OK login bob
expect '1) (integer) 0|2) (integer) 0|' RL.AUTH.CHECK login bob
# An operation of another type: refused, the error names the policy's type.
expect "(error) ERR policy 'api' is a window policy: RL.AUTH.OK does not apply to it|" RL.AUTH.OK api bob
expect "(error) ERR policy 'login' is a progressive policy: RL.CONN.CLOSE does not apply to it|" \
	RL.CONN.CLOSE login c1
expect "(error) ERR policy 'socket_events' is an events policy: RL.CHECK does not apply to it|" \
	RL.CHECK socket_events k
expect "(error) ERR policy 'ai_tokens' is a budget policy: RL.AUTH.FAIL does not apply to it|" \
	RL.AUTH.FAIL ai_tokens bob

# App feedback: 5 failures of an IP key ban it at the NIC.
for i in 1 2 3 4 5; do rc RL.AUTH.FAIL login 203.0.113.77 >/dev/null; done
rc XDP.LIST BANS | grep -q '203.0.113.77' || fg_fail "xdp_ban did not ban the address"
rc XDP.LIST BANS | grep -q 'app' || fg_fail "ban origin is not app"
fg_ok "auth failures of an IP escalate to an XDP ban (origin app)"

# Budget, blocks, resets.
out=$(rc RL.CHECK ai_tokens team1 COST 600 | head -3 | tr '\n' ' ')
[ "$out" = "1 1000 400 " ] || fg_fail "budget: $out"
[ "$(rc RL.CHECK ai_tokens team1 COST 500 | head -1)" = 0 ] || fg_fail "budget overspent"
fg_ok "budget: COST consumes, over-budget refused"
expect 'OK|' RL.BLOCK api u3 60
[ "$(rc RL.CHECK api u3 | sed -n 6p)" = blocked ] || fg_fail "RL.BLOCK not in force"
expect 'OK|' RL.UNBLOCK api u3
expect 'OK|' RL.RESET api u1
[ "$(rc RL.CHECK api u1 | head -1)" = 1 ] || fg_fail "RL.RESET did not reset"
fg_ok "block, unblock, reset"

# XDP commands.
expect 'OK|' XDP.BAN 203.0.113.9 600
expect 'OK|' XDP.UNBAN 203.0.113.9
rc XDP.UNBAN 203.0.113.9 | grep -q "not banned" || fg_fail "double unban accepted"
expect 'OK|' XDP.DENY 203.0.113.0/24
rc XDP.LIST DENY | grep -qx '203.0.113.0/24' || fg_fail "deny entry not listed"
# The mapped spelling is the same entry: said, not added (issue 10).
rc XDP.DENY ::ffff:203.0.113.0/120 | grep -q "already on the deny list (nothing added)" ||
	fg_fail "a second spelling of a deny entry was not reported as already listed"
[ "$(rc XDP.LIST DENY | grep -c .)" = 1 ] || fg_fail "deny list: $(rc XDP.LIST DENY | tr '\n' ' ')"
expect 'OK|' XDP.DENY 203.0.113.0/24 DEL
expect 'OK|' XDP.ALLOW 2001:db8:1::/48
expect 'OK|' XDP.ALLOW 2001:db8:1::/48 DEL
rc XDP.STATS | grep -q '^new_flow$' || fg_fail "XDP.STATS lacks reasons"
rc XDP.SOURCE 192.0.2.2 | grep -q '^prefix$' || fg_fail "XDP.SOURCE lacks the prefix"
rc XDP.TOP 5 DROPS >/dev/null || fg_fail "XDP.TOP failed"
rc XDP.BAN not-an-ip 10 | grep -q "not an address" || fg_fail "bad CIDR accepted"
fg_ok "XDP.* commands"

# RESP3 after HELLO 3: maps with names.
out=$(printf 'HELLO 3\nRL.CHECK api u9 PEEK\n' | rc -3 2>/dev/null | tr '\n' ' ')
[[ $out == *allowed* && $out == *retry_after_ms* ]] || fg_fail "RESP3 map: $out"
fg_ok "RESP3 replies are maps"

# Bad input: each gets a clear error and the agent keeps serving.
rc NOSUCH | grep -q "unknown command" || fg_fail "unknown command"
rc RL.CHECK api | grep -q "wrong number of arguments" || fg_fail "arity"
rc RL.CHECK api k COST abc | grep -q "COST must be" || fg_fail "non-numeric COST"
rc RL.CHECK api k COST -1 | grep -q "COST must be" || fg_fail "negative COST"
rc RL.CHECK api "$(head -c 513 /dev/zero | tr '\0' k)" | grep -q "longer than 512" || fg_fail "long key"
fg_ok "argument errors"
out=$(printf '*1\r\n$abc\r\n' | nc -U -q 2 "$SOCK" | head -c 200)
[[ $out == -ERR\ Protocol\ error* ]] || fg_fail "malformed RESP: '$out'"
out=$(printf '*2\r\n$4\r\nECHO\r\n$2000000\r\n' | nc -U -q 2 "$SOCK" | head -c 200)
[[ $out == -ERR* ]] || fg_fail "oversized request: '$out'"
fg_ok "malformed and oversized requests refused"

# Many clients holding half requests, while others are served.
fg_bg "$FGNET" resp-clients --unix "$SOCK" --count 3000 --half --hold-ms 3000 >"$FG_TMP/hold.out"
HOLD=$FG_LAST_PID
fg_wait_for -t 10 grep -q opened= "$FG_TMP/hold.out" || fg_fail "clients not opened"
fg_log "hostile clients: $(head -1 "$FG_TMP/hold.out")"
fg_assert_ge "$(fg_kv opened "$(head -1 "$FG_TMP/hold.out")")" 3000 "3000 stalled clients connected"
expect 'PONG|' PING
[ "$(rc RL.CHECK api u4 | head -1)" = 1 ] || fg_fail "decisions stop with stalled clients"
fg_wait_pid "$HOLD" 20 || true

# A client that sends a long pipeline and disconnects without reading.
for i in $(seq 1 5000); do printf 'RL.CHECK api pipe%d\r\n' $((i % 7)); done | nc -U -q 0 "$SOCK" >/dev/null || true
expect 'PONG|' PING
out=$(rc RL.CHECK api u4 | head -3 | tr '\n' ' ')
[ "$out" = "1 3 1 " ] || fg_fail "state of u4 disturbed: $out"
fg_ok "state intact after hostile clients"

# Pipelined input: replies in order.
out=$(printf 'PING\r\nECHO a\r\nECHO b\r\n' | nc -U -q 1 "$SOCK" | tr -d '\r' | tr '\n' ' ')
[ "$out" = "+PONG \$1 a \$1 b " ] || fg_fail "pipelined replies: '$out'"
fg_ok "pipelined requests answered in order"

# An ordinary application through ioredis.
[ -d "$FG_ROOT/tests/node/node_modules/ioredis" ] || fg_fail "ioredis missing: run make test (npm ci)"
node "$FG_ROOT/tests/node/ioredis_app.js" "$SOCK" || fg_fail "ioredis application failed"
fg_ok "ioredis application works unchanged"

kill -0 "$FG_AGENT" || fg_fail "agent died"
fg_pass "socket: every command, RESP2/3, ioredis, hostile clients"
