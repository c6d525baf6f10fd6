#!/bin/bash
# Window policies with algorithm: sliding over the socket (issue 12 item 5),
# on the memory store and on the Redis store: an unprivileged app-only
# agent, redis-cli as the application. The issue's figure scaled down 10x
# (the real one takes a minute): "3 per 6s", a request every 200 ms for 5 s
# -> exactly 3 allowed with sliding, more with gcra (count + count * t /
# per: 5 nominally); a refused request's retry_after_ms is when the first
# request leaves the window, and a request sent then passes.
#
# No namespace: the agent serves a Unix socket, as on a laptop. Every process
# is recorded by PID and stopped by PID.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd setpriv redis-cli redis-server
fg_ns_setup
[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"

fg_nobody_dir
start_agent() { fg_app_agent_start "$@"; }
now_ms() { date +%s%3N; }

POLICIES='
policies:
  - { name: sl, type: window, algorithm: sliding, limits: [ { count: 3, per: 6s } ] }
  - { name: gc, type: window, algorithm: gcra, limits: [ { count: 3, per: 6s } ] }'

# figure SOCK WHAT — the scaled figure on the agent at SOCK.
figure() {
	local sock=$1 what=$2 t0 t1='' t nsl=0 ngc=0 r
	t0=$(now_ms)
	# For 5 s: all in one interval of 6 s at the agent, the refused check too.
	while t=$(now_ms) && [ $((t - t0)) -lt 5000 ]; do
		r=$(redis-cli -s "$sock" RL.CHECK sl "$what" | head -1)
		nsl=$((nsl + r))
		[ -n "$t1" ] || t1=$(now_ms) # the first request is stamped by now
		r=$(redis-cli -s "$sock" RL.CHECK gc "$what" | head -1)
		ngc=$((ngc + r))
		# Every 200 ms from t0, whatever the calls took.
		sleep "$(printf '0.%03d' $(((200 - ($(now_ms) - t0) % 200) % 200)))"
	done
	fg_assert_eq "$nsl" 3 "$what: sliding, 3 per 6s, a request every 200 ms: 3 allowed"
	fg_assert_ge "$ngc" 4 "$what: gcra lets more through (count + count * t / per)"

	# The refused reply: retry_after_ms is when the first request (t0)
	# leaves the window; remaining 0; then a request at that time passes.
	t=$(now_ms) # before the agent answers: t + retry <= when the first leaves
	mapfile -t r < <(redis-cli -s "$sock" RL.CHECK sl "$what")
	fg_assert_eq "${r[0]}" 0 "$what: refused after 3"
	fg_assert_eq "${r[2]}" 0 "$what: remaining 0"
	[ "${r[5]}" = deny ] || fg_fail "$what: state '${r[5]}', expected deny"
	fg_assert_gt "${r[4]}" 0 "$what: retry_after_ms > 0"
	fg_assert_le "${r[4]}" 6000 "$what: retry_after_ms <= the window"
	fg_assert_le "$((t + r[4] - t1))" 6000 "$what: retry_after_ms ends when the first request leaves"
	sleep "$(printf '%d.%03d' $((r[4] / 1000)) $((r[4] % 1000)))"
	fg_assert_eq "$(redis-cli -s "$sock" RL.CHECK sl "$what" | head -1)" 1 \
		"$what: a request after retry_after_ms passes"
}

# ---- memory store ---------------------------------------------------------------------
CONF=$U/mem.yaml
printf 'app_only: true\n%s\n' "$POLICIES" >"$CONF"
chmod 644 "$CONF"
start_agent "$FG_TMP/mem.log" "${AS_NOBODY[@]}" "$FLOODGATED" -c "$CONF" --socket "$U/m.sock" \
	--metrics-listen ""
MEM=$AGENT
figure "$U/m.sock" memory
fg_stop "$MEM" 10 || fg_fail "the memory-store agent exited with an error"

# ---- Redis store ------------------------------------------------------------------------
RSOCK=$U/redis.sock
fg_bg "${AS_NOBODY[@]}" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$U" --logfile "$U/redis.log"
RS=$FG_LAST_PID
fg_wait_for -t 10 redis-cli -s "$RSOCK" PING || fg_fail "redis-server did not start"
RCONF=$U/redis.yaml
printf 'app_only: true\nstore: { type: redis, redis: { url: "unix://%s", timeout_ms: 200, prefix: t99 } }\n%s\n' \
	"$RSOCK" "$POLICIES" >"$RCONF"
chmod 644 "$RCONF"
start_agent "$FG_TMP/redis-agent.log" "${AS_NOBODY[@]}" "$FLOODGATED" -c "$RCONF" --socket "$U/r.sock" \
	--metrics-listen ""
RA=$AGENT
fg_wait_for -t 10 sh -c "redis-cli -s '$U/r.sock' INFO policies | tr -d '\r' | grep -qx 'store_fallback_active:0'" ||
	fg_fail "the Redis store is not in use: $(redis-cli -s "$U/r.sock" INFO policies)"
figure "$U/r.sock" redis
# The log is in Redis: its value is the config id, the block, and a
# (stamp, count) pair per live request (16 + 8 + 16 x n bytes).
# 2 or 3 live entries, as the last check came 3 s after the first or later.
len=$(redis-cli -s "$RSOCK" STRLEN '{t99:2:sl:redis}')
[ "$len" = 72 ] || [ "$len" = 56 ] || fg_fail "the sliding log in Redis: $len bytes, expected 56 or 72"
fg_ok "the sliding log is in Redis ($len bytes: the live entries only)"
# A config error names the bound.
BAD=$U/bad.yaml
printf 'policies:\n  - { name: big, type: window, algorithm: sliding, limits: [ { count: 5000, per: 1d } ] }\n' >"$BAD"
chmod 644 "$BAD"
out=$("$FLOODGATED" --check-config "$BAD" 2>&1) && fg_fail "a sliding count of 5000 was accepted"
grep -q "allows 5000, at most 1000; use algorithm: gcra" <<<"$out" ||
	fg_fail "unclear error for a sliding count above the bound: $out"
fg_ok "a sliding count above 1000 is refused: $(head -1 <<<"$out")"
fg_stop "$RA" 10 || fg_fail "the Redis-store agent exited with an error"
fg_stop "$RS" 10 || true
fg_pass
