#!/bin/bash
# Violation events through Redis pub/sub, as client libraries expect it:
# SUBSCRIBE violations and PSUBSCRIBE violations:* with redis-cli (RESP2 and
# -3), a raw RESP client that checks every byte in both protocols, and
# ioredis's ordinary subscribe API, all receiving a real flood's events.
# MULTI is refused with a reason and charges nothing. Every ioredis and
# node-redis package in tests/node/node_modules (and in FG_NODE_MODULES, a
# node_modules directory, when set) is tested: ioredis 6 and node-redis in
# RESP2 and RESP3, ioredis 5 in RESP2 (it has no RESP3).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-cli node python3
PORT=443
SRC=203.0.113.9
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
policies:
  - name: api
    type: window
    limits: [ { count: 3, per: 1m } ]
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"
SOCK=$FG_SOCK
fg_wait_for -t 10 test -S "$SOCK" || fg_fail "no socket at $SOCK"
[ -d "$FG_ROOT/tests/node/node_modules/ioredis" ] || fg_fail "ioredis missing: run make test (npm ci)"

# --- MULTI: refused, saying what to do; nothing in it runs ---------------------------------
out=$(printf 'MULTI\nRL.CHECK api m\nEXEC\nRL.CHECK api m\n' | redis-cli -s "$SOCK" 2>&1)
fg_log "MULTI:"$'\n'"$out"
grep -q "^ERR MULTI is not supported by floodgate: each RL.\* command is already atomic; send the commands without MULTI (pipelining works)" <<<"$out" ||
	fg_fail "MULTI not refused with its reason"
grep -q "^EXECABORT Transaction discarded" <<<"$out" || fg_fail "EXEC after a refused MULTI does not abort"
fg_assert_eq "$(tail -n 7 <<<"$out" | sed -n 3p)" 2 "only the RL.CHECK after EXEC was charged (2 of 3 left)"
[ "$(redis-cli -s "$SOCK" EXEC 2>&1)" = "ERR EXEC without MULTI" ] || fg_fail "EXEC without MULTI"
[ "$(redis-cli -s "$SOCK" DISCARD 2>&1)" = "ERR DISCARD without MULTI" ] || fg_fail "DISCARD without MULTI"
fg_ok "MULTI refused with its reason, nothing in it charged; EXEC and DISCARD without MULTI as Redis"

# node_clients — "script module protocol" lines for each client package found.
node_clients() {
	local dir mod name ver
	for dir in "$FG_ROOT/tests/node/node_modules" ${FG_NODE_MODULES:-}; do
		for mod in "$dir"/ioredis* "$dir"/redis; do
			[ -f "$mod/package.json" ] || continue
			name=$(node -p "require('$mod/package.json').name")
			ver=$(node -p "require('$mod/package.json').version.split('.')[0]")
			case $name in
			ioredis)
				echo "ioredis_pubsub.js $(basename "$mod") 2"
				[ "$ver" -lt 6 ] || echo "ioredis_pubsub.js $(basename "$mod") 3"
				;;
			redis)
				echo "noderedis_pubsub.js redis 2"
				[ "$ver" -lt 5 ] || echo "noderedis_pubsub.js redis 3"
				;;
			esac
		done
	done
}
export NODE_PATH=${FG_NODE_MODULES:-}

# --- subscribers --------------------------------------------------------------------------
fg_bg redis-cli -s "$SOCK" subscribe violations >"$FG_TMP/cli2.out" 2>&1
fg_bg redis-cli -3 -s "$SOCK" psubscribe 'violations:*' >"$FG_TMP/cli3.out" 2>&1
fg_bg python3 "$FG_ROOT/tests/netns/pubsub_raw.py" "$SOCK" 2 "$SRC" >"$FG_TMP/raw2.out" 2>&1
RAW2=$FG_LAST_PID
fg_bg python3 "$FG_ROOT/tests/netns/pubsub_raw.py" "$SOCK" 3 "$SRC" >"$FG_TMP/raw3.out" 2>&1
RAW3=$FG_LAST_PID
NODE_PIDS=() NODE_OUTS=()
while read -r script mod proto; do
	out="$FG_TMP/node-$mod-$proto.out"
	fg_bg node "$FG_ROOT/tests/node/$script" "$SOCK" "$SRC" "$mod" "$proto" >"$out" 2>&1
	NODE_PIDS+=("$FG_LAST_PID") NODE_OUTS+=("$out")
done < <(node_clients)
[ ${#NODE_PIDS[@]} -gt 0 ] || fg_fail "no Node client package: run make test (npm ci)"
NSUBS=$((4 + ${#NODE_PIDS[@]}))
_subs() { [ "$(redis-cli -s "$SOCK" INFO watch | tr -d '\r' | sed -n 's/^watch_subscribers://p')" = "$1" ]; }
fg_wait_for -t 20 _subs $NSUBS || fg_fail "$NSUBS subscribers never subscribed: $(cat "$FG_TMP"/*.out)"
for f in "$FG_TMP/raw2.out" "$FG_TMP/raw3.out" "${NODE_OUTS[@]}"; do
	fg_wait_for -t 10 grep -q '^ready' "$f" || fg_fail "$f: $(cat "$f")"
done
fg_ok "$NSUBS subscribers: redis-cli RESP2 and RESP3, raw RESP2 and RESP3, $(node_clients | awk '{ print $2 "/RESP" $3 }' | paste -sd, -)"

fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$SRC" \
	--count 12000 --pps 3000 --seconds 4 >"$FG_TMP/flood.out"
FLOODER=$FG_LAST_PID
for p in $RAW2 $RAW3 "${NODE_PIDS[@]}"; do
	rc=0
	fg_wait_pid "$p" 30 || rc=$?
	[ "$rc" = 0 ] || fg_fail "subscriber $p failed ($rc): $(cat "$FG_TMP"/raw*.out "${NODE_OUTS[@]}")"
done
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
grep -qx ok "$FG_TMP/raw2.out" || fg_fail "raw RESP2: $(cat "$FG_TMP/raw2.out")"
fg_ok "raw RESP2: subscribe/psubscribe replies, PING, the command refusal, message and pmessage, unsubscribe counts: byte for byte"
grep -qx ok "$FG_TMP/raw3.out" || fg_fail "raw RESP3: $(cat "$FG_TMP/raw3.out")"
fg_ok "raw RESP3: the same as pushes"
for f in "${NODE_OUTS[@]}"; do
	grep -qx ok "$f" || fg_fail "$(basename "$f" .out): $(cat "$f")"
	fg_ok "$(basename "$f" .out): subscribe, psubscribe, message, pmessage, ping, unsubscribe; .multi() refused, charging nothing"
done

# redis-cli prints each message's elements, one a line
_cli_has() { grep -q "\"source\":\"$SRC\"" "$1"; }
fg_wait_for -t 10 _cli_has "$FG_TMP/cli2.out" || fg_fail "redis-cli subscribe: $(cat "$FG_TMP/cli2.out")"
fg_log "redis-cli subscribe:"$'\n'"$(head -8 "$FG_TMP/cli2.out")"
grep -A1 -x message "$FG_TMP/cli2.out" | grep -qx violations || fg_fail "redis-cli: no message on violations"
fg_ok "redis-cli -s SOCK subscribe violations prints the events"
fg_wait_for -t 10 _cli_has "$FG_TMP/cli3.out" || fg_fail "redis-cli -3 psubscribe: $(cat "$FG_TMP/cli3.out")"
fg_log "redis-cli -3 psubscribe:"$'\n'"$(head -8 "$FG_TMP/cli3.out")"
grep -A2 -x pmessage "$FG_TMP/cli3.out" | grep -qx violations:signaling ||
	fg_fail "redis-cli -3: no pmessage on violations:signaling"
fg_ok "redis-cli -3 psubscribe 'violations:*' prints the events of rule signaling"

fg_pass "violations reach SUBSCRIBE/PSUBSCRIBE clients: redis-cli, raw RESP2/3, Node clients"
