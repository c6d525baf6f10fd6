#!/bin/bash
# Issue 12 items 6, 7, 10 at the socket, as an application sees them: RL.CHECKM
# (per user AND per IP in one decision: a refusal by the IP charges the user
# nothing and names the pair), RL.CHARGE / RL.REFUND (usage after the call,
# past the budget), RL.POLICY (a ready RateLimit-Policy value), item 9 (a
# budget whose day is America/New_York's: reset_ms points at its midnight, as
# `TZ=America/New_York date` has it, DST days included), with redis-cli
# (RESP2) and ioredis 6 (RESP3), on the memory store and on a Redis store.
# The agent runs as nobody in app-only mode (no namespace, no XDP); every
# process is recorded by PID and stopped by PID.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd setpriv redis-cli redis-server node
fg_ns_setup
[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"
[ -d "$FG_ROOT/tests/node/node_modules/ioredis6" ] ||
	fg_fail "node module ioredis6 missing: run make test-netns (npm ci)"

fg_nobody_dir
# start_agent CONF SOCK LOG
start_agent() {
	fg_app_agent_start "$3" "${AS_NOBODY[@]}" "$FLOODGATED" --app-only -c "$1" --socket "$2" \
		--metrics-listen ""
}
# same GOT WANT WHAT
same() {
	[ "$1" = "$2" ] || fg_fail "$3: got '$1', expected '$2'"
	fg_ok "$3 ($1)"
}
# r SOCK ARGS... — redis-cli's answer on one line.
r() {
	local s=$1
	shift
	redis-cli -s "$s" "$@" | tr '\n' ' ' | sed 's/ *$//'
}

POLICIES='policies:
  - { name: user, type: window, limits: [ { count: 5, per: 1h } ] }
  - { name: ip, type: window, limits: [ { count: 3, per: 1h } ], block_for: 1m }
  - { name: ai, type: budget, amount: 1000, period: day, roles: { PRO: 10000 } }
  - { name: aitz, type: budget, amount: 100, timezone: America/New_York }'

# checks SOCK WHAT — the same answers whatever the store.
checks() {
	local s=$1 w=$2 i got
	for i in 1 2 3; do
		got=$(r "$s" RL.CHECKM 2 user alice ip 192.0.2.7)
		same "$(cut -d' ' -f1,8-10 <<<"$got")" "1 -1 ip 192.0.2.7" "$w: RL.CHECKM pair check $i allowed"
	done
	got=$(r "$s" RL.CHECKM 2 user alice ip 192.0.2.7)
	same "$(cut -d' ' -f1,6,8-10 <<<"$got")" "0 blocked 1 ip 192.0.2.7" \
		"$w: the 4th refused by pair 1, the ip (its block_for applies)"
	same "$(r "$s" RL.CHECK user alice PEEK | cut -d' ' -f3)" 2 \
		"$w: alice was charged 3 times, not 4 (2 of 5 left)"
	got=$(r "$s" RL.CHECKM 2 user alice ip 192.0.2.8 COST 3)
	same "$(cut -d' ' -f1,8-10 <<<"$got")" "0 0 user alice" "$w: COST 3 refused by the user"
	same "$(r "$s" RL.CHECK ip 192.0.2.8 PEEK | cut -d' ' -f3)" 3 "$w: the other ip was not charged"
	same "$(r "$s" RL.CHECKM 2 user alice user alice)" \
		"ERR RL.CHECKM: pair 2 repeats an earlier pair (user and the same key)" "$w: a repeated pair"
	same "$(r "$s" RL.CHECKM 1 user alice ROLE PRO)" \
		"ERR unknown role: none of the RL.CHECKM policies lists it under roles: (ROLE applies to the pairs whose policy lists it)" \
		"$w: a role no pair lists"

	same "$(r "$s" RL.CHECK ai bob COST 900 | cut -d' ' -f1,3)" "1 100" "$w: 900 of 1000 used"
	got=$(r "$s" RL.CHARGE ai bob 5000)
	same "$(cut -d' ' -f1,3,6 <<<"$got")" "0 0 deny" "$w: RL.CHARGE 5000 with 100 left: recorded, in debt"
	fg_assert_gt "$(cut -d' ' -f5 <<<"$got")" $((4 * 86400000)) "$w: retry after the 4 days that pay the debt"
	same "$(r "$s" RL.CHECK ai bob | cut -d' ' -f1,6)" "0 deny" "$w: refused while in debt"
	same "$(r "$s" RL.REFUND ai bob 4950 | cut -d' ' -f1,3)" "1 50" "$w: RL.REFUND 4950: 50 left"
	same "$(r "$s" RL.CHARGE user alice 1)" \
		"ERR policy 'user' is a window policy: RL.CHARGE does not apply to it" "$w: RL.CHARGE on a window"
	same "$(r "$s" RL.CHARGE ai bob -5)" \
		"ERR amount must be an integer from 0 to 1000000000000000 (RL.REFUND gives an amount back)" \
		"$w: a negative charge"

	# The day of aitz ends at New York's midnight (its reply says when).
	local t0 mid reset
	t0=$(date +%s%3N)
	got=$(r "$s" RL.CHECK aitz carol COST 60)
	mid=$(TZ=America/New_York date -d "@$((t0 / 1000))" +%F)
	mid=$(TZ=America/New_York date -d "$mid 00:00 tomorrow" +%s%3N)
	same "$(cut -d' ' -f1,3,7 <<<"$got")" "1 40 day" "$w: aitz: 60 of 100 used"
	reset=$(cut -d' ' -f4 <<<"$got")
	fg_assert_lt "$(((t0 + reset - mid) < 0 ? mid - t0 - reset : t0 + reset - mid))" 5000 \
		"$w: aitz: reset_ms $reset ends at New York's next midnight ($mid)"
	got=$(r "$s" RL.CHECK aitz carol COST 50)
	same "$(cut -d' ' -f1,6 <<<"$got")" "0 deny" "$w: aitz: 50 more refused"
	got=$(($(cut -d' ' -f5 <<<"$got") - reset))
	fg_assert_lt "$((got < 0 ? -got : got))" 5000 "$w: aitz: retry at that midnight"
	same "$(redis-cli -s "$s" RL.POLICY aitz | sed -n 6p)" America/New_York \
		"$w: RL.POLICY aitz names its zone"
	same "$(redis-cli -s "$s" RL.POLICY ai | sed -n 6p)" UTC "$w: RL.POLICY ai: UTC by default"

	same "$(r "$s" RL.POLICY)" "user ip ai aitz" "$w: RL.POLICY lists the policies"
	same "$(redis-cli -s "$s" RL.POLICY ai ROLE PRO | tail -1)" '"ai-day";q=10000;w=86400' \
		"$w: RL.POLICY ai ROLE PRO: RateLimit-Policy"
	same "$(redis-cli -s "$s" RL.POLICY ai ROLE pro | sed -n 8p)" PRO \
		"$w: RL.POLICY ai ROLE pro names the role as configured"
	same "$(redis-cli -s "$s" RL.POLICY ip | sed -n '2,6p' | tr '\n' ' ')" "window 1h 3 3600000 60000 " \
		"$w: RL.POLICY ip: type, quota (1h 3 3600000), block_for_ms"

	out=$(cd "$FG_ROOT/tests/node" && "${AS_NOBODY[@]}" node ioredis6_multikey.js "$s" "$w" 2>&1) ||
		fg_fail "$w: ioredis 6 (RESP3): $out"
	fg_ok "$w: $out"
}

# ---- the memory store ---------------------------------------------------------------------
CONF=$U/mem.yaml
printf 'app_only: true\n%s\n' "$POLICIES" >"$CONF"
chmod 644 "$CONF"
start_agent "$CONF" "$U/m.sock" "$FG_TMP/mem.log"
checks "$U/m.sock" memory
fg_stop "$AGENT" 10 || fg_fail "the agent exited with an error"

# ---- the Redis store ----------------------------------------------------------------------
RSOCK=$U/redis.sock
fg_bg "${AS_NOBODY[@]}" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$U" --logfile "$U/redis.log"
RPID=$FG_LAST_PID
fg_wait_for -t 10 redis-cli -s "$RSOCK" PING || fg_fail "redis-server did not start"
RCONF=$U/redis.yaml
printf 'app_only: true\nstore: { type: redis, redis: { url: "unix://%s", timeout_ms: 200, prefix: mk } }\n%s\n' \
	"$RSOCK" "$POLICIES" >"$RCONF"
chmod 644 "$RCONF"
start_agent "$RCONF" "$U/r.sock" "$FG_TMP/redis.log"
fg_wait_for -t 10 sh -c "redis-cli -s '$U/r.sock' INFO policies | tr -d '\r' | grep -qx 'store_fallback_active:0'" ||
	fg_fail "the Redis store is not in use"
checks "$U/r.sock" redis
same "$(redis-cli -s "$U/r.sock" INFO policies | tr -d '\r' | sed -n 's/^store_fallback_decisions_total://p')" 0 \
	"redis: every decision made by Redis"
fg_assert_gt "$(redis-cli -s "$RSOCK" --scan --pattern '{mk:4:user:alice}' | wc -l)" 0 \
	"redis: the state is in Redis"
# Redis down: RL.CHECKM decides from memory (on_store_error: memory), charges are kept.
fg_stop "$RPID" 10 || true
same "$(r "$U/r.sock" RL.CHECKM 2 user carol ip 192.0.2.9 | cut -d' ' -f1,8)" "1 -1" \
	"redis down: RL.CHECKM decided from memory"
fg_stop "$AGENT" 10 || fg_fail "the Redis agent exited with an error"
fg_pass
