#!/bin/bash
# Red team: the Redis store (store.type: redis) under a hostile or failing Redis.
#
#   outage-under-load   redis-server killed for 10 s and restarted while redis-benchmark
#                       drives RL.CHECK over 50,000 keys (within the journal's 100,000): the agent must switch to the
#                       fallback once and back once, replay every outage count (none
#                       dropped) and keep each caller within its deadline.
#   sigstop-under-load  the same with redis-server hung (SIGSTOP) for 10 s.
#   wrongtype-key       one policy key set to a list with redis-cli: that key's requests
#                       get the policy's on_store_error, every other key stays on Redis.
#   colliding-names     policy "x:y" key "K" and policy "x" key "y:K": two Redis keys.
#
# One HELD/BROKE line per attack with its figures (switches, dropped counts, latency).
# Bounded: about 90 s. Cleans up (namespaces, agent, redis-server, by PID) on exit.
set -u
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

fg_require_root
fg_require_cmd redis-server redis-cli redis-benchmark python3
fg_topo_3ns
RSOCK=$FG_TMP/redis.sock
TIMEOUT_MS=20
PREFIX=rt
REDIS=
broke=0

verdict() { # OK ATTACK FIGURES
	if [ "$1" = 1 ]; then
		echo "HELD $2: $3"
	else
		echo "BROKE $2: $3"
		broke=1
	fi
}
redis_start() {
	fg_bg redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
		--appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log"
	REDIS=$FG_LAST_PID
	fg_wait_for -t 10 redis-cli -s "$RSOCK" PING >/dev/null || fg_fail "redis-server did not start"
}
rc() { redis-cli -s "$RSOCK" "$@"; }
ca() { redis-cli -s "$FG_SOCK" "$@"; }
info() { ca INFO policies | tr -d '\r' | sed -n "s/^$1://p"; }
up() { [ "$(info store_fallback_active)" = 0 ]; }
backs() { tail -n +"$(($1 + 1))" "$FG_AGENT_LOG" | grep -c "redis store back, fallback over"; }
downs() { tail -n +"$(($1 + 1))" "$FG_AGENT_LOG" | grep -c "redis store unavailable, fallback active"; }

redis_start
cat >"$FG_TMP/fg.yaml" <<YAML
store: { type: redis, redis: { url: "unix://$RSOCK", timeout_ms: $TIMEOUT_MS, prefix: $PREFIX } }
policies:
  - { name: api, type: window, limits: [ { count: 1000, per: 1m } ] }
  - { name: probe, type: window, limits: [ { count: 1000000, per: 1m } ] }
  - { name: strict, type: window, limits: [ { count: 100, per: 1m } ], on_store_error: deny }
  - { name: "x:y", type: window, limits: [ { count: 1, per: 1m } ] }
  - { name: x, type: window, limits: [ { count: 1, per: 1m } ] }
YAML
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen ""
fg_wait_for -t 10 up || fg_fail "the agent did not connect to redis"

# outage ATTACK STOP RESUME — 3 s of load, STOP, 10 s, RESUME, 12 s of load.
outage() {
	local name=$1 stop=$2 resume=$3 mark load probe lat drop0 rep0 drop rep b d sw sw0 ok=1
	mark=$(wc -l <"$FG_AGENT_LOG")
	drop0=$(info store_replay_dropped_total) rep0=$(info store_replayed_keys_total)
	sw0=$(info store_switches_total)
	fg_bg redis-benchmark -s "$FG_SOCK" -c 20 -P 8 -n 100000000 -r 50000 \
		RL.CHECK api k:__rand_int__ >/dev/null 2>&1
	load=$FG_LAST_PID
	sleep 3
	SLOW_MS=$((TIMEOUT_MS + 5)) python3 "$FG_ROOT/tests/netns/rl_latency.py" "$FG_SOCK" 24 probe p >"$FG_TMP/lat.out" &
	probe=$!
	sleep 1
	$stop
	sleep 10
	$resume
	wait "$probe"
	fg_stop "$load"
	fg_wait_for -t 10 up || ok=0
	sleep 1
	lat=$(<"$FG_TMP/lat.out")
	drop=$(($(info store_replay_dropped_total) - drop0))
	rep=$(($(info store_replayed_keys_total) - rep0))
	b=$(backs "$mark") d=$(downs "$mark")
	tail -n +"$((mark + 1))" "$FG_AGENT_LOG" | grep "redis store"
	# Switches as the agent counts them (store_switches_total), where it does.
	sw=$(info store_switches_total)
	[ -n "$sw" ] && d=$((sw - sw0 - b))
	# One switch to the fallback and one back; every outage count replayed;
	# callers answered within the deadline: p99 within it, the slowest within
	# it plus 100 ms of scheduling slack (a Python probe on a shared machine;
	# the same bound as test_92).
	[ "$b" -le 1 ] && [ "$d" -le 1 ] || ok=0
	[ "$drop" = 0 ] || ok=0
	[ "$rep" -gt 0 ] || ok=0
	[ "$(fg_kv p99_ms "$lat" | cut -d. -f1)" -lt "$TIMEOUT_MS" ] || ok=0
	[ "$(fg_kv max_ms "$lat" | cut -d. -f1)" -le $((TIMEOUT_MS + 100)) ] || ok=0
	verdict $ok "$name" "switches=$((b + d)) (to fallback $d, back $b) replayed=$rep dropped=$drop; probe: $lat (deadline ${TIMEOUT_MS} ms)"
}
kill_redis() { fg_stop "$REDIS"; }
stop_redis() { kill -STOP "$REDIS"; }
cont_redis() { kill -CONT "$REDIS"; }
fg_on_exit "kill -CONT \$REDIS 2>/dev/null"

outage outage-under-load kill_redis redis_start
outage sigstop-under-load stop_redis cont_redis

# --- one key of the wrong type -------------------------------------------------------
# Under the old (policy:key) and the new (len(policy):policy:key) key names alike.
rc DEL "{$PREFIX:strict:bad}" "{$PREFIX:6:strict:bad}" >/dev/null
rc LPUSH "{$PREFIX:strict:bad}" x >/dev/null
rc LPUSH "{$PREFIX:6:strict:bad}" x >/dev/null
mark=$(wc -l <"$FG_AGENT_LOG")
for i in $(seq 10); do ca RL.CHECK strict bad >/dev/null; done
good=0
for i in $(seq 10); do
	[ "$(ca RL.CHECK strict "good$i" | head -1)" = 1 ] && good=$((good + 1))
done
fb=$(info store_fallback_active) d=$(downs "$mark")
ok=0
[ "$good" = 10 ] && [ "$fb" = 0 ] && [ "$d" = 0 ] && ok=1
verdict $ok wrongtype-key "10 requests on a WRONGTYPE key, then other keys of the fail-closed policy: allowed=$good/10 fallback_active=$fb switches_to_fallback=$d"

# --- colliding policy and key names ----------------------------------------------------
# On Redis, not on the fallback (whose memory store keeps policies apart).
fg_wait_for -t 5 up || true
a=$(ca RL.CHECK "x:y" K | head -1)
b=$(ca RL.CHECK x "y:K" | head -1)
ok=0
[ "$a" = 1 ] && [ "$b" = 1 ] && ok=1
[ "$(info store_fallback_active)" = 0 ] || ok=0
verdict $ok colliding-names "limit 1/min each, on redis (fallback_active=$(info store_fallback_active)): x:y/K allowed=$a, x/y:K allowed=$b; redis keys: $(rc --scan --pattern "{$PREFIX:*" | grep -E 'K\}$' | tr '\n' ' ')"

exit $broke
