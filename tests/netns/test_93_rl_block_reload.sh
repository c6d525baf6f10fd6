#!/bin/bash
# Issue 12 items 2, 4 and 12 at the socket, with redis-cli, as an app sees them:
# - retry_after_ms during a block covers the window's (the budget's) own wait:
#   the issue's repro (2 per 10 s, block_for 3 s) and RL.BLOCK on an exhausted
#   budget; a client that waits what it is told passes;
# - an events limit of 3 warns before it disconnects; a budget COST that could
#   never pass is an error, not a wait until the next period;
# - CONFIG RELOAD keeps a changed policy's counters while they mean the same
#   (another count, same per), its blocks always, nothing on a change of type;
#   with store.type redis too, where a host still on the old config shares
#   the kept state.
# No namespace: floodgated --app-only serves a Unix socket; redis-server runs
# on a Unix socket in the test's directory. Every process is stopped by PID.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-cli redis-server
fg_ns_setup
[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"

# start_agent NAME CONF — floodgated --app-only on $FG_TMP/NAME.sock; its PID in PIDS[NAME].
declare -A PIDS
start_agent() {
	local name=$1 conf=$2
	fg_bg "$FLOODGATED" --app-only -c "$conf" --socket "$FG_TMP/$name.sock" \
		>"$FG_TMP/$name.log" 2>&1
	PIDS[$name]=$FG_LAST_PID
	fg_wait_for -t 20 grep -q "serving applications in app-only mode" "$FG_TMP/$name.log" || {
		cat "$FG_TMP/$name.log" >&2
		fg_fail "floodgated ($name) did not start"
	}
}
# rl SOCKNAME ARGS... — one command; its reply on one line, fields space-separated.
rl() {
	local s=$1
	shift
	redis-cli -s "$FG_TMP/$s.sock" "$@" | tr '\n' ' ' | sed 's/ $//'
}
# field N REPLY — the Nth field (1-based) of an RL.CHECK reply line.
field() { cut -d' ' -f"$1" <<<"$2"; }
same() {
	[ "$1" = "$2" ] || fg_fail "$3: got '$1', expected '$2'"
	fg_ok "$3 ($1)"
}
reload() {
	same "$(rl "$1" CONFIG RELOAD)" OK "CONFIG RELOAD ($1)"
}

# ---- memory store ------------------------------------------------------------------------
M=$FG_TMP/m.yaml
policies_m() { # policies_m BLK_COUNT BLK_PER TCHG_TYPE
	cat >"$M" <<YAML
policies:
  - { name: blk_short, type: window, limits: [ { count: $1, per: $2 } ], block_for: 3s }
  - { name: ai_tokens, type: budget, amount: 100, roles: { READER: 0 } }
  - { name: ev3, type: events, limit: 3, window: 1m }
YAML
	if [ "$3" = window ]; then
		echo "  - { name: tchg, type: window, limits: [ { count: 5, per: 1m } ] }" >>"$M"
	else
		echo "  - { name: tchg, type: budget, amount: 10 }" >>"$M"
	fi
}
policies_m 2 10s window
start_agent m "$M"

# Item 2, the issue's repro: three checks at once (one redis-cli, the machine may be slow).
r=$(printf 'RL.CHECK blk_short k\n%.0s' 1 2 3 | redis-cli -s "$FG_TMP/m.sock" | tail -n 7 |
	tr '\n' ' ' | sed 's/ $//')
same "$(field 6 "$r")" blocked "the third request is blocked"
r3=$(field 5 "$r")
fg_assert_gt "$r3" 4500 "its retry_after_ms is the window's ~5 s, more than block_for"
sleep 1
r=$(rl m RL.CHECK blk_short k)
same "$(field 6 "$r")" blocked "1 s later still blocked"
retry=$(field 5 "$r")
# The block (3 s from the third request) has at most 2 s left; the window
# r3 - 1 s - redis-cli's start: ~4 s (the old answer was the block's).
fg_assert_gt "$retry" 2500 "retry_after_ms 1 s into the block is the window's ~4 s, not the block's <= 2 s"
fg_assert_le "$retry" "$((r3 - 1000))" "retry_after_ms at most the window's wait"
same "$(field 3 "$r") $(field 2 "$r")" "0 2" "remaining 0 of 2 during the block (the window's own)"
fg_assert_gt "$(field 4 "$r")" 5000 "reset_ms during the block is the window's (~9 s), not 0"
sleep "$(awk -v r="$retry" 'BEGIN { printf "%.3f", r / 1000 + 0.05 }')"
r=$(rl m RL.CHECK blk_short k)
same "$(field 1 "$r") $(field 6 "$r")" "1 warn" "after waiting retry_after_ms the request passes"

# Item 2, the budget: RL.BLOCK 5 s on an exhausted budget waits for the next period.
rl m RL.CHECK ai_tokens u COST 100 >/dev/null
same "$(rl m RL.BLOCK ai_tokens u 5)" OK "RL.BLOCK ai_tokens u 5"
r=$(rl m RL.CHECK ai_tokens u)
same "$(field 6 "$r")" blocked "the exhausted budget key is blocked"
fg_assert_gt "$(field 5 "$r")" 5000 "its retry_after_ms is beyond the block's 5 s"
fg_assert_ge "$(field 5 "$r")" "$(field 4 "$r")" "its retry_after_ms reaches the budget's reset"

# Item 4: an events limit of 3 warns once before it disconnects.
got=
for _ in 1 2 3; do got+="$(rl m RL.EVENT ev3 conn msg | cut -d' ' -f1) "; done
same "$got" "ok warn disconnect " "events limit 3: ok, warn, disconnect"
# Item 4: a budget COST that could never pass is the window's error.
out=$(rl m RL.CHECK ai_tokens v COST 101)
grep -q "^ERR COST is larger than policy 'ai_tokens' allows.*could never pass" <<<"$out" ||
	fg_fail "COST 101 on an amount of 100: '$out'"
fg_ok "COST above the amount: $out"
out=$(rl m RL.CHECK ai_tokens v ROLE READER)
grep -q "could never pass" <<<"$out" || fg_fail "a role with amount 0: '$out'"
fg_ok "COST 1 on a role's amount of 0: the same error"

# Item 12: a reload keeps what still means the same.
rl m RL.CHECK blk_short r >/dev/null # 1 of 2 used: half the window
same "$(rl m RL.BLOCK blk_short b 600)" OK "RL.BLOCK blk_short b 600"
same "$(rl m RL.BLOCK tchg x 600)" OK "RL.BLOCK tchg x 600"
policies_m 4 10s budget
reload m
r=$(rl m RL.CHECK blk_short r)
same "$(field 1 "$r") $(field 2 "$r") $(field 3 "$r")" "1 4 1" \
	"count 2 -> 4, same per: the key keeps its half window used (a fresh one would have 3 left)"
r=$(rl m RL.CHECK blk_short b)
same "$(field 6 "$r")" blocked "the block survives the reload"
fg_assert_gt "$(field 5 "$r")" 590000 "with its own end"
same "$(field 1 "$(rl m RL.CHECK tchg x)")" 1 "window -> budget: the block is gone with the type"
policies_m 4 20s budget
reload m
same "$(field 6 "$(rl m RL.CHECK blk_short b)")" blocked "another per: the block still survives"
same "$(field 3 "$(rl m RL.CHECK blk_short r)")" 3 "another per: the counters start fresh"

# ---- redis store: two hosts, one reloads --------------------------------------------------
RS=$FG_TMP/redis.sock
fg_bg redis-server --port 0 --unixsocket "$RS" --save "" --appendonly no --dir "$FG_TMP" \
	--logfile "$FG_TMP/redis.log"
fg_wait_for -t 10 test -S "$RS" || fg_fail "redis-server did not start"
policies_r() { # policies_r FILE COUNT PER
	cat >"$1" <<YAML
store: { type: redis, redis: { url: "unix://$RS" } }
policies:
  - { name: blk_short, type: window, limits: [ { count: $2, per: $3 } ], block_for: 3s }
YAML
}
policies_r "$FG_TMP/r1.yaml" 2 10s
policies_r "$FG_TMP/r2.yaml" 2 10s
start_agent r1 "$FG_TMP/r1.yaml"
start_agent r2 "$FG_TMP/r2.yaml"
_redis_up() { rl "$1" INFO | grep -q "fallback_active:0"; }
fg_wait_for -t 10 _redis_up r1 || fg_fail "r1: no redis store: $(rl r1 INFO | tr ' ' '\n' | grep -i redis)"
fg_wait_for -t 10 _redis_up r2 || fg_fail "r2: no redis store"
rl r1 RL.CHECK blk_short r >/dev/null
same "$(rl r1 RL.BLOCK blk_short b 600)" OK "r1: RL.BLOCK blk_short b 600"
policies_r "$FG_TMP/r1.yaml" 4 10s
reload r1
r=$(rl r1 RL.CHECK blk_short r)
same "$(field 1 "$r") $(field 3 "$r")" "1 1" "redis, r1 with count 4: the key's state is kept"
same "$(field 3 "$(rl r2 RL.CHECK blk_short r PEEK)")" 0 \
	"redis, r2 still on count 2 shares it (3/4 of the window used: none of its 2 left)"
same "$(field 6 "$(rl r1 RL.CHECK blk_short b)")" blocked "redis, r1: the block survives"
policies_r "$FG_TMP/r1.yaml" 4 20s
reload r1
same "$(field 6 "$(rl r1 RL.CHECK blk_short b)")" blocked "redis, r1 with another per: the block survives"
same "$(field 3 "$(rl r1 RL.CHECK blk_short r)")" 3 "redis, r1 with another per: fresh counters"
same "$(field 6 "$(rl r2 RL.CHECK blk_short b)")" blocked "redis, r2 (old config): still blocked"

for a in "${!PIDS[@]}"; do
	grep -q "level=error" "$FG_TMP/$a.log" && fg_fail "$a logged an error: $(grep level=error "$FG_TMP/$a.log")"
done
fg_pass
