#!/bin/bash
# Redis Sentinel (store.redis.sentinels + master_name): two floodgated agents
# ask three sentinels for the master of "fgm" (a master and one replica) and
# share limits exactly through it; fleet bans flow between them. Then:
#
# 1. SENTINEL FAILOVER: the replica becomes the master. Decisions go on
#    within the deadline, both agents follow the switch (+switch-master, or
#    the re-check their lost connection starts), decisions are shared again
#    on the new master (exact counts, the key read in Redis there), fleet
#    bans flow again (the subscriber is on the new master).
# 2. The new master is killed: until the sentinels promote the old one
#    (again a master: its replica), decisions take the deadline and the
#    fallback (counted); the hits made meanwhile are replayed on the master
#    that follows; limits and fleet bans are shared again.
#
# Every server runs in one namespace N (its loopback; the agents too, each
# protecting its own veth), so the ports are the test's own; each process
# is recorded by PID and stopped by PID.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-server redis-cli python3 curl
fg_ns_add N && N=$FG_NS_LAST
fg_ns_add P && P=$FG_NS_LAST
fg_veth "$N" veth-a "$P" peer-a
fg_veth "$N" veth-b "$P" peer-b
fg_bpffs
[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"

M1=6379 M2=6380 S1=26379 S2=26380 S3=26381
TIMEOUT_MS=50
fg_ab_setup

rc() { fg_in "$N" redis-cli -p "$@"; }
declare -A RPID
redis_start() { # NAME PORT [ARGS...]
	local name=$1 port=$2
	shift 2
	fg_bg fg_in "$N" redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--dir "$FG_TMP" --logfile "$FG_TMP/$name.log" "$@"
	RPID[$name]=$FG_LAST_PID
	fg_wait_for -t 10 rc "$port" PING >/dev/null || fg_fail "redis-server $name did not start"
}
sentinel_start() { # NAME PORT
	cat >"$FG_TMP/$1.conf" <<CONF
bind 127.0.0.1
port $2
dir $FG_TMP
logfile $FG_TMP/$1.log
sentinel monitor fgm 127.0.0.1 $M1 2
sentinel down-after-milliseconds fgm 1000
sentinel failover-timeout fgm 10000
sentinel parallel-syncs fgm 1
CONF
	fg_bg fg_in "$N" redis-server "$FG_TMP/$1.conf" --sentinel
	RPID[$1]=$FG_LAST_PID
	fg_wait_for -t 10 rc "$2" PING >/dev/null || fg_fail "sentinel $1 did not start"
}
master_is() { [ "$(rc $S1 SENTINEL get-master-addr-by-name fgm | sed -n 2p)" = "$1" ]; }
failover() { rc $S1 SENTINEL FAILOVER fgm 2>&1 | grep -qx OK; }
role_is() { rc "$1" ROLE | head -1 | grep -qx "$2"; }
falling_back() { [ "$(info "$1" store_fallback_active)" = 1 ]; }
left_is() { [ "$(redis-cli -s "$1" RL.CHECK api "$2" PEEK | sed -n 3p)" = "$3" ]; }
# Each sentinel knows the replica (in sync) and the two other sentinels.
sentinels_ready() {
	local s
	for s in $S1 $S2 $S3; do
		[ "$(rc $s SENTINEL sentinels fgm | grep -c '^name$')" = 2 ] || return 1
		rc $s SENTINEL replicas fgm | grep -A1 '^flags$' | grep -qx slave || return 1
	done
}

redis_start m1 $M1
redis_start m2 $M2 --replicaof 127.0.0.1 $M1
sentinel_start s1 $S1
sentinel_start s2 $S2
sentinel_start s3 $S3
fg_wait_for -t 40 sentinels_ready || fg_fail "the sentinels did not find each other and the replica"
fg_ok "master :$M1, replica :$M2, 3 sentinels"

cat >"$FG_TMP/fg.yaml" <<YAML
store:
  type: redis
  redis:
    sentinels: ["127.0.0.1:$S1", "127.0.0.1:$S2", "127.0.0.1:$S3"]
    master_name: fgm
    timeout_ms: $TIMEOUT_MS
    prefix: t88
policies:
  - { name: api, type: window, limits: [ { count: 10, per: 1h } ] }
  - { name: api2, type: window, limits: [ { count: 100000, per: 1m } ] }
YAML
agent_start() { # a|b
	local port=10151
	[ "$1" = b ] && port=10152
	fg_ab_start "$1" "$FG_TMP/fg.yaml" $port fg_in "$N" -- -i "veth-$1"
}
# moved MARK_A MARK_B PORT — both agents logged, after their logs' line MARK,
# that the sentinels sent them to PORT.
moved() {
	tail -n +"$(($1 + 1))" "$FG_TMP/agent-a.log" | grep -q "sentinels name the master.*port=$3" &&
		tail -n +"$(($2 + 1))" "$FG_TMP/agent-b.log" | grep -q "sentinels name the master.*port=$3"
}
marks() { echo "$(wc -l <"$FG_TMP/agent-a.log") $(wc -l <"$FG_TMP/agent-b.log")"; }
# joint KEY — 6 checks of api KEY on A, 6 on B (limit 10): how many were denied.
joint() {
	local i n=0
	for i in 1 2 3 4 5 6; do
		[ "$(ca RL.CHECK api "$1" | head -1)" = 0 ] && n=$((n + 1))
		[ "$(cb RL.CHECK api "$1" | head -1)" = 0 ] && n=$((n + 1))
	done
	echo "$n"
}
# shared PORT KEY — 12 hits on two agents, limit 10: 2 denied, and the key is in
# the Redis at PORT (which is the master).
shared() {
	fg_assert_eq "$(joint "$2")" 2 "$3: 12 hits on two agents, limit 10: 2 denied"
	[ "$(rc "$1" EXISTS "{t88:3:api:$2}")" = 1 ] || fg_fail "$3: key {t88:3:api:$2} not on :$1"
	role_is "$1" master || fg_fail "$3: :$1 is not the master"
	fg_ok "$3: the key is on :$1, the master"
}
fleet() { fg_ab_fleet "$@"; }

agent_start a
agent_start b
fg_wait_for -t 10 up_both || fg_fail "agents did not reach the master through the sentinels"
grep -q "the sentinels name the master.*port=$M1" "$FG_TMP/agent-a.log" ||
	fg_fail "agent a does not say where the sentinels sent it: $(cat "$FG_TMP/agent-a.log")"
fg_ok "both agents reached the master :$M1 through the sentinels"
# floodctl status: the deployment, the master, each sentinel.
status_has() { "$FLOODCTL" -s "$SOCK_A" status | grep -q -- "$1"; }
status_must() { # WHAT PATTERN...
	local what=$1 pat
	shift
	for pat in "$@"; do
		fg_wait_for -t 10 status_has "$pat" ||
			fg_fail "floodctl status ($what): no line like '$pat' in: $("$FLOODCTL" -s "$SOCK_A" status)"
	done
	fg_ok "floodctl status: $what"
}
status_must "sentinel, master fgm at :$M1, 3 of 3 sentinels reachable" \
	"^redis  *sentinel: master fgm at 127.0.0.1:$M1; 3 of 3 sentinels reachable" \
	"^  sentinel  *127.0.0.1:$S2 reachable, names 127.0.0.1:$M1" \
	"^  node  *127.0.0.1:$M1 up, round trip"
shared $M1 u1 "before the fail-over"
# replication is asynchronous: the replica gets the write a moment later
replica_has_u1() { [ "$(rc $M2 EXISTS '{t88:3:api:u1}')" = 1 ]; }
fg_wait_for -t 5 replica_has_u1 || fg_fail "the replica does not hold the key (replication)"
fleet "$SOCK_A" "$SOCK_B" 203.0.113.1 "before the fail-over"

# --- 1. SENTINEL FAILOVER: the replica :M2 becomes the master ----------------------------
read -r MA MB < <(marks)
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 6 api2 f >"$FG_TMP/lat1.out" &
LAT=$!
fg_wait_for -t 20 failover || fg_fail "SENTINEL FAILOVER refused: $(rc $S1 SENTINEL FAILOVER fgm 2>&1)"
fg_wait_for -t 20 master_is $M2 ||
	fg_fail "the sentinels did not switch to :$M2"
fg_ok "SENTINEL FAILOVER: the sentinels name :$M2"
fg_wait_for -t 10 moved "$MA" "$MB" $M2 || fg_fail "the agents did not move to :$M2"
fg_wait_for -t 10 up_both || fg_fail "the agents are not back on Redis after the fail-over"
wait "$LAT"
lat=$(<"$FG_TMP/lat1.out")
fg_log "decisions during the fail-over: $lat"
fg_assert_eq "$(fg_kv errors "$lat")" 0 "fail-over: no decision failed"
fg_assert_le "$(fg_kv max_ms "$lat")" $((TIMEOUT_MS + 100)) "fail-over: no client waited longer than timeout_ms + 100 ms"
grep -q "sentinels switched the master" "$FG_TMP/agent-a.log" ||
	fg_fail "agent a did not log the +switch-master"
sw=$(fg_in "$N" curl -s http://127.0.0.1:10151/metrics | awk '$1 == "floodgate_store_master_switches_total" { print $2 }')
fg_assert_ge "${sw:-0}" 1 "metrics: floodgate_store_master_switches_total"
shared $M2 u2 "after SENTINEL FAILOVER"
fleet "$SOCK_B" "$SOCK_A" 203.0.113.2 "after SENTINEL FAILOVER"
fleet "$SOCK_A" "$SOCK_B" 203.0.113.3 "after SENTINEL FAILOVER (the other way)"
fg_ab_vouch "$SOCK_A" "$SOCK_B" 203.0.113.83 "vouches after SENTINEL FAILOVER"
fg_wait_for -t 30 role_is $M1 slave ||
	fg_fail ":$M1 did not become a replica"
fg_wait_for -t 40 sentinels_ready || fg_fail "the sentinels do not see :$M1 as a replica in sync"

# --- 2. the master :M2 is killed: fallback, then the sentinels promote :M1 ----------------
fb=$(info "$SOCK_A" store_fallback_decisions_total)
read -r MA MB < <(marks)
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 4 api2 k >"$FG_TMP/lat2.out" &
LAT=$!
sleep 0.5
kill -KILL "${RPID[m2]}"
wait "${RPID[m2]}" 2>/dev/null || true
# The connection is lost at once: the fallback decides until the sentinels
# (down-after 1 s, then an election) name another master; the hits made
# meanwhile go to the outage journal ...
fg_wait_for -t 1 falling_back "$SOCK_A" ||
	fg_fail "agent a did not fall back when the master died"
for i in 1 2 3 4; do ca RL.CHECK api r1 >/dev/null; done
status_has "^  node  *127.0.0.1:$M2 DOWN" || status_has "master fgm at 127.0.0.1:$M1" ||
	fg_fail "floodctl status with the master dead: $("$FLOODCTL" -s "$SOCK_A" status)"
fg_assert_eq "$(info "$SOCK_A" store_fallback_active)" 1 "the 4 hits were made during the outage"
wait "$LAT"
lat=$(<"$FG_TMP/lat2.out")
fg_log "decisions while the master was dead: $lat"
fg_assert_eq "$(fg_kv errors "$lat")" 0 "master killed: no decision failed"
fg_assert_le "$(fg_kv max_ms "$lat")" $((TIMEOUT_MS + 100)) "master killed: no client waited longer than timeout_ms + 100 ms"
fg_assert_gt "$(fg_kv n "$lat")" 200 "master killed: decisions went on"
fg_assert_gt "$(info "$SOCK_A" store_fallback_decisions_total)" "$fb" "master killed: fallback decisions counted"
fg_wait_for -t 30 master_is $M1 ||
	fg_fail "the sentinels did not promote :$M1"
fg_ok "the sentinels promoted :$M1"
fg_wait_for -t 10 moved "$MA" "$MB" $M1 || fg_fail "the agents did not move to :$M1"
fg_wait_for -t 10 up_both || fg_fail "the agents are not back on Redis after the master died"
# ... and replayed on the new master: B, which made none of them, sees them.
fg_wait_for -t 5 left_is "$SOCK_B" r1 6 ||
	fg_fail "the outage's 4 hits were not replayed on :$M1: B sees $(cb RL.CHECK api r1 PEEK | sed -n 3p) left"
fg_ok "the outage's 4 hits were replayed on the new master :$M1 (B sees 6 of 10 left)"
status_must "the new master :$M1" "^redis  *sentinel: master fgm at 127.0.0.1:$M1;" \
	"^  node  *127.0.0.1:$M1 up"
fg_assert_gt "$(info "$SOCK_A" store_replayed_keys_total)" 0 "INFO: keys replayed"
shared $M1 u3 "after the master was killed"
fleet "$SOCK_A" "$SOCK_B" 203.0.113.4 "after the master was killed"
fleet "$SOCK_B" "$SOCK_A" 203.0.113.5 "after the master was killed (the other way)"

# --- 3. a sentinel that names a replica: never written to --------------------------------
# :M2 comes back as :M1's replica; a lying (or stale) sentinel names it as the
# master. Agent C must check ROLE, refuse it and decide from its fallback.
redis_start m2 $M2 --replicaof 127.0.0.1 $M1
FAKE=26399
fg_bg fg_in "$N" python3 "$(dirname "$0")/fake_redis.py" $FAKE sentinel $M2
fg_wait_for -t 5 rc $FAKE PING >/dev/null || fg_fail "the fake sentinel did not start"
fg_wait_for -t 20 role_is $M2 slave || fg_fail ":$M2 did not come back as a replica"
sed -e "s/sentinels: .*/sentinels: [\"127.0.0.1:$FAKE\"]/" "$FG_TMP/fg.yaml" >"$FG_TMP/fg-c.yaml"
SOCK_C=$FG_TMP/c.sock
fg_bg fg_in "$N" "$FLOODGATED" --app-only -c "$FG_TMP/fg-c.yaml" --socket "$SOCK_C" \
	>"$FG_TMP/agent-c.log" 2>&1
AGENT_C=$FG_LAST_PID
fg_wait_for -t 10 grep -q "is not a master (ROLE: slave)" "$FG_TMP/agent-c.log" ||
	fg_fail "agent c used a replica: $(cat "$FG_TMP/agent-c.log")"
fg_assert_eq "$(redis-cli -s "$SOCK_C" RL.CHECK api c1 | sed -n 3p)" 9 "a decision is made (from the fallback)"
fg_assert_eq "$(info "$SOCK_C" store_fallback_active)" 1 "the store is down while the sentinel names a replica"
grep -q "redis store connected" "$FG_TMP/agent-c.log" && fg_fail "agent c connected to a replica"
fg_ok "a sentinel naming a replica: refused (ROLE), the fallback decides"
fg_stop "$AGENT_C"

# A sentinel gone: floodctl status counts it out and says why.
kill -KILL "${RPID[s3]}"
wait "${RPID[s3]}" 2>/dev/null || true
status_must "a dead sentinel is unreachable" "2 of 3 sentinels reachable" \
	"^  sentinel  *127.0.0.1:$S3 UNREACHABLE"

fg_stop "$AGENT_A"
fg_stop "$AGENT_B"
fg_pass "Sentinel: shared limits and fleet bans follow a fail-over and a dead master"
