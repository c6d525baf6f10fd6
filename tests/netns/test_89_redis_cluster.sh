#!/bin/bash
# Redis Cluster (store.redis.cluster: seed nodes): a 3-master cluster made by
# redis-cli --cluster create; two floodgated agents route each key to its
# master by its hash slot and share limits exactly with keys spread over all
# three; fleet bans flow over the cluster's pub/sub. A slot migrated by hand
# sends ASK (the key moved, the slot not yet) and then MOVED: both followed,
# counts continue, no fallback. A master killed: its keys fall back within
# the deadline, the others stay shared.
#
# Everything runs in one namespace N (its loopback; the agents each protect
# their own veth); each process is recorded by PID and stopped by PID.
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

PORTS="7000 7001 7002"
TIMEOUT_MS=50
fg_ab_setup

rc() { fg_in "$N" redis-cli -p "$@"; }
declare -A RPID
for p in $PORTS; do
	mkdir -p "$FG_TMP/n$p"
	fg_bg fg_in "$N" redis-server --bind 127.0.0.1 --port "$p" --save "" --appendonly no \
		--cluster-enabled yes --cluster-config-file "$FG_TMP/n$p/nodes.conf" \
		--cluster-node-timeout 2000 --cluster-require-full-coverage no \
		--dir "$FG_TMP/n$p" --logfile "$FG_TMP/n$p/redis.log"
	RPID[$p]=$FG_LAST_PID
done
for p in $PORTS; do fg_wait_for -t 10 rc "$p" PING >/dev/null || fg_fail "redis-server :$p did not start"; done
fg_in "$N" redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 \
	--cluster-replicas 0 --cluster-yes >"$FG_TMP/create.out" 2>&1 ||
	fg_fail "redis-cli --cluster create: $(cat "$FG_TMP/create.out")"
cluster_ok() { for p in $PORTS; do rc "$p" CLUSTER INFO | grep -q '^cluster_state:ok' || return 1; done; }
fg_wait_for -t 20 cluster_ok || fg_fail "the cluster did not become ok"
fg_ok "a 3-master cluster on :7000-7002"

cat >"$FG_TMP/fg.yaml" <<YAML
store:
  type: redis
  redis:
    cluster: ["127.0.0.1:7000", "127.0.0.1:7001"]
    timeout_ms: $TIMEOUT_MS
    prefix: t89
policies:
  - { name: api, type: window, limits: [ { count: 10, per: 1h } ] }
  - { name: api2, type: window, limits: [ { count: 100000, per: 1m } ] }
  - { name: hot, type: budget, amount: 1000000, period: day }
YAML
agent_start() { # a|b
	local port=10151
	[ "$1" = b ] && port=10152
	fg_ab_start "$1" "$FG_TMP/fg.yaml" $port fg_in "$N" -- -i "veth-$1"
}
# metric PORT NAME — a sample's value on the agent with metrics on PORT.
metric() { fg_in "$N" curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
metric_ge() { local v; v=$(metric "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
# owners KEY... — the port of the master serving each key's slot (one line
# each), from one CLUSTER NODES and the slot's CRC16 (binascii.crc_hqx is
# Redis's CRC16-XMODEM).
owners() {
	rc 7000 CLUSTER NODES | python3 -c '
import binascii, sys
nodes = []
for line in sys.stdin:
    f = line.split()
    if len(f) < 8 or "master" not in f[2] or "fail" in f[2]:
        continue
    port = f[1].split("@")[0].rsplit(":", 1)[1]
    for r in f[8:]:
        if r.startswith("["):
            continue
        lo, _, hi = r.partition("-")
        nodes.append((int(lo), int(hi or lo), port))
for key in sys.argv[1:]:
    k = key.encode()
    o = k.find(b"{")
    if o >= 0:
        c = k.find(b"}", o + 1)
        if c > o + 1:
            k = k[o + 1:c]
    slot = binascii.crc_hqx(k, 0) % 16384
    print(next((p for lo, hi, p in nodes if lo <= slot <= hi), "?"))
' "$@"
}
owner() { owners "$1"; }
node_id() { rc "$1" CLUSTER MYID; }
# joint KEYS... — for each key, 6 checks on A and 6 on B alternating (limit
# 10): prints the keys' denied counts, space-separated.
joint() {
	python3 - "$SOCK_A" "$SOCK_B" "$@" <<'PY'
import socket, sys
def conn(path):
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s.makefile('rwb')
def check(f, key):
    parts = [b'RL.CHECK', b'api', key.encode()]
    f.write(b'*%d\r\n' % len(parts) + b''.join(b'$%d\r\n%s\r\n' % (len(p), p) for p in parts))
    f.flush()
    n = int(f.readline()[1:])
    first = f.readline()
    for _ in range(n - 1):
        line = f.readline()
        if line[:1] == b'$':
            f.readline()
    return first.strip() == b':0'
a, b = conn(sys.argv[1]), conn(sys.argv[2])
out = []
for key in sys.argv[3:]:
    denied = 0
    for _ in range(6):
        denied += check(a, key)
        denied += check(b, key)
    out.append(str(denied))
print(' '.join(out))
PY
}
fleet() { fg_ab_fleet "$@"; }

agent_start a
agent_start b
fg_wait_for -t 10 up_both || fg_fail "agents did not reach every master"
grep -q 'redis cluster: slot map.*slots=16384 nodes=3' "$FG_TMP/agent-a.log" ||
	fg_fail "agent a has no full slot map: $(grep cluster "$FG_TMP/agent-a.log")"
fg_ok "both agents: a map of the 16384 slots over 3 masters"
# floodctl status: the deployment and each master with its slots, up.
"$FLOODCTL" -s "$SOCK_A" status >"$FG_TMP/status1.out" || fg_fail "floodctl status failed"
grep -q '^redis  *cluster: 3 masters' "$FG_TMP/status1.out" ||
	fg_fail "floodctl status: no 'cluster: 3 masters' row: $(cat "$FG_TMP/status1.out")"
fg_assert_eq "$(grep -c '^  master  *redis://127.0.0.1:700[012] up, [0-9]* slots [0-9]' "$FG_TMP/status1.out")" 3 \
	"floodctl status: a row per master, up, with its slot ranges"
fg_assert_eq "$(sed -n 's/.* up, \([0-9]*\) slots .*/\1/p' "$FG_TMP/status1.out" | paste -sd+ | bc)" 16384 \
	"floodctl status: the masters' slots add up to 16384"

# --- 30 keys, spread over the three masters: each shared exactly ---------------------
KEYS=$(seq -f 'k%g' 1 30 | tr '\n' ' ')
# shellcheck disable=SC2086
got=$(joint $KEYS)
want=$(for k in $KEYS; do printf '2 '; done)
[ "$got" = "${want% }" ] || fg_fail "30 keys x (6 + 6 hits), limit 10: denied per key '$got'"
fg_ok "30 keys, 12 hits each on two agents, limit 10: exactly 2 denied for every key"
for p in $PORTS; do
	n=$(rc "$p" DBSIZE)
	fg_assert_gt "$n" 0 "master :$p holds some of the keys"
done
fleet "$SOCK_A" "$SOCK_B" 203.0.113.1 "fleet bans over the cluster's pub/sub"
fleet "$SOCK_B" "$SOCK_A" 203.0.113.2 "fleet bans over the cluster's pub/sub (the other way)"
fg_ab_vouch "$SOCK_A" "$SOCK_B" 203.0.113.82 "vouches over the cluster's pub/sub"

# --- a slot migrated by hand: ASK, then MOVED --------------------------------------
KEY='{t89:3:api:mv}'
fg_assert_eq "$(ca RL.CHECK api mv | sed -n 3p)" 9 "mv: first hit on its first master"
fg_assert_eq "$(cb RL.CHECK api mv | sed -n 3p)" 8 "mv: second hit"
SRC=$(owner "$KEY")
for p in $PORTS; do [ "$p" != "$SRC" ] && DST=$p && break; done
SLOT=$(rc 7000 CLUSTER KEYSLOT "$KEY")
fb=$(info "$SOCK_A" store_fallback_decisions_total)
rc "$DST" CLUSTER SETSLOT "$SLOT" IMPORTING "$(node_id "$SRC")" >/dev/null
rc "$SRC" CLUSTER SETSLOT "$SLOT" MIGRATING "$(node_id "$DST")" >/dev/null
rc "$SRC" MIGRATE 127.0.0.1 "$DST" "" 0 5000 KEYS "$KEY" | grep -qx OK || fg_fail "MIGRATE failed"
rc "$SRC" EXISTS "$KEY" | grep -q "^ASK $SLOT 127.0.0.1:$DST" ||
	fg_fail ":$SRC does not answer ASK for the migrated key"
fg_ok "the key left :$SRC: slot $SLOT migrating to :$DST, :$SRC answers ASK"
# :SRC answers ASK: the agent sends ASKING and the script to :DST.
fg_assert_eq "$(ca RL.CHECK api mv | sed -n 3p)" 7 "mv during the migration (ASK followed)"
fg_assert_eq "$(cb RL.CHECK api mv | sed -n 3p)" 6 "mv during the migration on the other agent"
for p in $PORTS; do rc "$p" CLUSTER SETSLOT "$SLOT" NODE "$(node_id "$DST")" >/dev/null; done
# Now :SRC answers MOVED: the agents update their map and follow.
fg_assert_eq "$(ca RL.CHECK api mv | sed -n 3p)" 5 "mv after the migration (MOVED followed)"
fg_assert_eq "$(cb RL.CHECK api mv | sed -n 3p)" 4 "mv after the migration on the other agent"
fg_assert_eq "$(ca RL.CHECK api mv | sed -n 3p)" 3 "and again (the map knows the new owner)"
fg_assert_eq "$(info "$SOCK_A" store_fallback_decisions_total)" "$fb" "no decision fell back during the migration"
fg_assert_eq "$(rc "$DST" EXISTS "$KEY")" 1 "the key is on :$DST"
fg_ok "slot $SLOT moved :$SRC -> :$DST: ASK and MOVED followed, counts exact"
# At least the ASK (the MOVED may be spared by a map refresh in between).
fg_wait_for -t 3 metric_ge 10151 floodgate_store_redirects_total 1 ||
	fg_fail "metrics: floodgate_store_redirects_total is '$(metric 10151 floodgate_store_redirects_total)', want >= 1"
fg_ok "metrics: the redirections followed are counted"

# --- slots migrated under load: no decision lost, none counted twice -----------------
# Both agents hit 50 keys of a budget (one request at a time each) while the
# slots of those on :7001 move to :7000 one by one (ASK and MOVED windows
# under load). Afterwards the budget's use over the 50 keys must equal the
# requests the two clients made, and none may have fallen back.
fa=$(info "$SOCK_A" store_fallback_decisions_total) fbb=$(info "$SOCK_B" store_fallback_decisions_total)
ta=$(info "$SOCK_A" store_timeouts_total) tb=$(info "$SOCK_B" store_timeouts_total)
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 4 hot h >"$FG_TMP/hot-a.out" &
HA=$!
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_B" 4 hot h >"$FG_TMP/hot-b.out" &
HB=$!
sleep 0.5
SRC=7001 DST=7000 moved=0
SRC_ID=$(node_id $SRC) DST_ID=$(node_id $DST)
HOT_OWNERS=($(owners $(seq -f '{t89:3:hot:h%g}' 0 49)))
for i in $(seq 0 49); do
	k="{t89:3:hot:h$i}"
	[ "${HOT_OWNERS[$i]}" = $SRC ] || continue
	slot=$(rc 7000 CLUSTER KEYSLOT "$k")
	rc $DST CLUSTER SETSLOT "$slot" IMPORTING "$SRC_ID" >/dev/null
	rc $SRC CLUSTER SETSLOT "$slot" MIGRATING "$DST_ID" >/dev/null
	rc $SRC MIGRATE 127.0.0.1 $DST "" 0 5000 KEYS "$k" >/dev/null
	for p in $PORTS; do rc "$p" CLUSTER SETSLOT "$slot" NODE "$DST_ID" >/dev/null; done
	moved=$((moved + 1))
done
wait "$HA" "$HB"
ra=$(<"$FG_TMP/hot-a.out") rb=$(<"$FG_TMP/hot-b.out")
fg_log "under migration: A $ra; B $rb; $moved keys' slots moved :$SRC -> :$DST"
fg_assert_gt "$moved" 5 "slots of busy keys moved"
fg_assert_eq "$(($(fg_kv errors "$ra") + $(fg_kv errors "$rb")))" 0 "migration under load: no error"
# A decision past timeout_ms (a loaded machine: 2 shared cores) falls back as
# always; a redirection never may: fallbacks are at most the timeouts.
fg_assert_le $(($(info "$SOCK_A" store_fallback_decisions_total) - fa)) \
	$(($(info "$SOCK_A" store_timeouts_total) - ta)) "migration under load: A fell back only on timeouts"
fg_assert_le $(($(info "$SOCK_B" store_fallback_decisions_total) - fbb)) \
	$(($(info "$SOCK_B" store_timeouts_total) - tb)) "migration under load: B fell back only on timeouts"
used=0
for i in $(seq 0 49); do
	left=$(ca RL.CHECK hot "h$i" PEEK | sed -n 3p)
	used=$((used + 1000000 - left))
done
fg_assert_eq "$used" $(($(fg_kv n "$ra") + $(fg_kv n "$rb"))) \
	"migration under load: the 50 keys' use in Redis equals the requests made"

# --- RL.CHECKM ------------------------------------------------------------------------
# RL.CHECKM: one pair is decided by its slot's master; pairs on several slots are
# refused before anything is sent (it used to fall back to memory without a word).
fb=$(info "$SOCK_A" store_fallback_decisions_total)
out=$(ca RL.CHECKM 1 api m1 | head -1)
fg_assert_eq "$out" 1 "RL.CHECKM with one pair on the cluster: allowed"
fg_assert_eq "$(rc "$(owner '{t89:3:api:m1}')" EXISTS '{t89:3:api:m1}')" 1 \
	"RL.CHECKM's one pair is charged on its slot's master"
out=$(ca RL.CHECKM 2 api m2 api m3 2>&1)
[[ $out == *"different hash slots"* ]] || fg_fail "RL.CHECKM over two slots: $out"
fg_assert_eq "$(rc "$(owner '{t89:3:api:m2}')" EXISTS '{t89:3:api:m2}')" 0 \
	"RL.CHECKM over two slots charges nothing"
fg_assert_eq "$(info "$SOCK_A" store_fallback_decisions_total)" "$fb" "RL.CHECKM on the cluster: no fallback"

# --- a master killed: its keys fall back, the others stay shared ----------------------
DEAD=7002
declare -a LIVE_KEYS=() DEAD_KEYS=()
D_OWNERS=($(owners $(seq -f '{t89:3:api:d%g}' 1 60)))
for i in $(seq 1 60); do
	k=d$i
	if [ "${D_OWNERS[$((i - 1))]}" = $DEAD ]; then DEAD_KEYS+=("$k"); else LIVE_KEYS+=("$k"); fi
done
fg_assert_gt "${#DEAD_KEYS[@]}" 3 "keys on :$DEAD"
kill -KILL "${RPID[$DEAD]}"
wait "${RPID[$DEAD]}" 2>/dev/null || true
fb=$(info "$SOCK_A" store_fallback_decisions_total) ta=$(info "$SOCK_A" store_timeouts_total)
got=$(joint "${LIVE_KEYS[@]}")
want=$(for k in "${LIVE_KEYS[@]}"; do printf '2 '; done)
[ "$got" = "${want% }" ] || fg_fail "keys on the live masters: denied per key '$got'"
fg_ok "${#LIVE_KEYS[@]} keys on the live masters: still shared exactly (2 denied each)"
fg_assert_le $(($(info "$SOCK_A" store_fallback_decisions_total) - fb)) \
	$(($(info "$SOCK_A" store_timeouts_total) - ta)) "no fallback for the live masters' keys (but on a timeout)"
# Each agent alone on the dead master's keys: 6 hits each, limit 10: none denied.
got=$(joint "${DEAD_KEYS[@]}")
want=$(for k in "${DEAD_KEYS[@]}"; do printf '0 '; done)
[ "$got" = "${want% }" ] || fg_fail "keys of the dead master: denied per key '$got'"
fg_assert_ge "$(info "$SOCK_A" store_fallback_decisions_total)" $((fb + 6 * ${#DEAD_KEYS[@]})) \
	"the dead master's keys were decided by the fallback"
fg_assert_eq "$(info "$SOCK_A" store_fallback_active)" 1 "INFO: fallback active (one master down)"
# 50 keys (about a third on the dead master), one request at a time.
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 2 api2 x >"$FG_TMP/lat.out"
lat=$(<"$FG_TMP/lat.out")
fg_log "decisions while a master died: $lat"
fg_assert_eq "$(fg_kv errors "$lat")" 0 "master killed: no decision failed"
fg_assert_le "$(fg_kv max_ms "$lat")" $((TIMEOUT_MS + 100)) "master killed: no client waited longer than timeout_ms + 100 ms"
fleet "$SOCK_A" "$SOCK_B" 203.0.113.3 "fleet bans with one master down"
UP='floodgate_store_node_up{node="redis://127.0.0.1:'
fg_wait_for -t 3 metric_is 10151 "${UP}7002\"}" 0 ||
	fg_fail "metrics: ${UP}7002\"} is '$(metric 10151 "${UP}7002\"}")', want 0"
fg_assert_eq "$(metric 10151 "${UP}7000\"}")" 1 "metrics: :7000 up"
fg_assert_eq "$(metric 10151 "${UP}7001\"}")" 1 "metrics: :7001 up"
fg_ok "metrics: the dead master's node_up is 0, the others 1"
"$FLOODCTL" -s "$SOCK_A" status >"$FG_TMP/status2.out"
grep -q '^  master  *redis://127.0.0.1:7002 DOWN: its keys fall back' "$FG_TMP/status2.out" ||
	fg_fail "floodctl status does not show :7002 down: $(cat "$FG_TMP/status2.out")"
fg_ok "floodctl status: :7002 DOWN (its keys fall back), the others up"

# --- replay past a master that is still down -----------------------------------------
# :7001 stops answering writes (CLIENT PAUSE) while :7002 is still dead: the
# hits A makes on :7001's keys meanwhile go to its journal beside :7002's.
# When :7001 answers again its keys are replayed at once; :7002's wait for
# :7002 (they used to block the whole replay behind the first of them).
J0=$(info "$SOCK_A" store_outage_keys)
fg_assert_gt "$J0" 0 "A's journal holds :7002's keys"
R_OWNERS=($(owners $(seq -f '{t89:3:api:r%g}' 1 40)))
declare -a R_KEYS=()
for i in $(seq 1 40); do [ "${R_OWNERS[$((i - 1))]}" = 7001 ] && R_KEYS+=("r$i"); done
fg_assert_gt "${#R_KEYS[@]}" 5 "keys on :7001"
rc 7001 CLIENT PAUSE 2500 WRITE >/dev/null
for k in "${R_KEYS[@]}"; do ca RL.CHECK api "$k" >/dev/null; done
fg_assert_eq "$(info "$SOCK_A" store_fallback_active)" 1 "hits on :7001's keys during the pause"
fg_assert_gt "$(info "$SOCK_A" store_outage_keys)" "$J0" "A's journal holds :7001's keys too"
outage_is() { [ "$(info "$SOCK_A" store_outage_keys)" = "$1" ]; }
fg_wait_for -t 10 outage_is "$J0" ||
	fg_fail "A's journal holds $(info "$SOCK_A" store_outage_keys) keys after :7001 came back, want :7002's $J0"
for k in "${R_KEYS[@]}"; do
	fg_assert_eq "$(cb RL.CHECK api "$k" PEEK | sed -n 3p)" 9 "$k: A's hit during the pause is in :7001 (B sees it)"
done
fg_ok "${#R_KEYS[@]} keys of :7001 replayed while :7002 is still down ($J0 keys wait for it)"

# --- a master that left: forgotten -----------------------------------------------------
# :7002's slots are given to :7000 (as after a fail-over or a reshard of a dead
# master): the next slot map (each second while :7002 is down) no longer names
# :7002, so the agents forget it (its metric series go), and its keys' outage
# hits replay to :7000.
python3 - "$(node_id 7000)" "$(rc 7000 CLUSTER NODES | awk '$2 ~ /:7002@/ { for (i = 9; i <= NF; i++) print $i }')" >"$FG_TMP/setslot.txt" <<'PY'
import sys
to = sys.argv[1]
for r in sys.argv[2].split():
    lo, _, hi = r.partition("-")
    for slot in range(int(lo), int(hi or lo) + 1):  # RESP, for redis-cli --pipe
        a = [b"CLUSTER", b"SETSLOT", b"%d" % slot, b"NODE", to.encode()]
        sys.stdout.buffer.write(b"*5\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
PY
fg_assert_gt "$(grep -c SETSLOT "$FG_TMP/setslot.txt")" 1000 ":7002's slots listed"
for p in 7000 7001; do
	fg_in "$N" redis-cli -p $p --pipe <"$FG_TMP/setslot.txt" >"$FG_TMP/setslot.$p.out" 2>&1
	grep -q '^errors: 0,' "$FG_TMP/setslot.$p.out" || fg_fail "SETSLOT on :$p: $(cat "$FG_TMP/setslot.$p.out")"
done
no_7002() { ! fg_in "$N" curl -s http://127.0.0.1:10151/metrics | grep -q 'node="redis://127.0.0.1:7002"'; }
fg_wait_for -t 8 no_7002 || fg_fail "agent a did not forget :7002 (its series are still exported)"
grep -q 'node left the slot map, forgotten.*7002' "$FG_TMP/agent-a.log" || fg_fail "agent a did not log forgetting :7002"
"$FLOODCTL" -s "$SOCK_A" status >"$FG_TMP/status3.out"
grep -q '^redis  *cluster: 2 masters' "$FG_TMP/status3.out" || fg_fail "floodctl status after :7002 left: $(cat "$FG_TMP/status3.out")"
fg_wait_for -t 5 outage_is 0 || fg_fail "A's journal still holds $(info "$SOCK_A" store_outage_keys) keys after :7002's slots moved to :7000"
# 6 hits on each agent while :7002 was dead, limit 10: both replayed, none left.
left_is() { [ "$(ca RL.CHECK api "$1" PEEK | sed -n 3p)" = "$2" ]; }
fg_wait_for -t 5 left_is "${DEAD_KEYS[0]}" 0 ||
	fg_fail "${DEAD_KEYS[0]}: $(ca RL.CHECK api "${DEAD_KEYS[0]}" PEEK | sed -n 3p) left on :7000, want 0 (12 outage hits replayed)"
fg_ok ":7002 left the slot map: forgotten (no series, 2 masters), its keys' outage hits replayed on :7000"

# --- a hostile slot map: bounded, and forgotten --------------------------------------
# A fake seed answers CLUSTER SLOTS with 200 masters on closed ports and three
# whose host is no address (quote, space, newline): agent C knows at most 64
# (connections and metric series), follows none of the three; once the seed
# answers a sane map (:7000 for every slot) the 64 are forgotten and :7000 is
# used, although the bad map had taken every place.
SEED=7999
fg_bg fg_in "$N" python3 "$(dirname "$0")/fake_redis.py" $SEED seed "$FG_TMP/sane"
fg_wait_for -t 5 rc $SEED PING >/dev/null || fg_fail "the fake seed did not start"
sed -e "s/cluster: .*/cluster: [\"127.0.0.1:$SEED\"]/" "$FG_TMP/fg.yaml" >"$FG_TMP/fg-c.yaml"
fg_bg fg_in "$N" "$FLOODGATED" --app-only -c "$FG_TMP/fg-c.yaml" --socket "$FG_TMP/c.sock" \
	--metrics-listen 127.0.0.1:10153 >"$FG_TMP/agent-c.log" 2>&1
AGENT_C=$FG_LAST_PID
node_series() { fg_in "$N" curl -s http://127.0.0.1:10153/metrics | grep -c '^floodgate_store_node_up{' || true; }
series_is() { [ "$(node_series)" = "$1" ]; }
fg_wait_for -t 10 series_is 64 || fg_fail "agent c: $(node_series) node series for a map of 203 masters, want 64"
fg_in "$N" curl -s http://127.0.0.1:10153/metrics | grep -Eq 'node="redis://(a|x)' &&
	fg_fail "agent c followed a master whose host is no address"
fg_assert_eq "$(redis-cli -s "$FG_TMP/c.sock" INFO redis | tr -d '\r' | sed -n 's/^nodes://p')" 64 "INFO redis: 64 nodes"
fg_ok "a map of 203 masters: 64 known (connections, series), none of the 3 bad hosts"
touch "$FG_TMP/sane"
fg_wait_for -t 10 series_is 1 || fg_fail "agent c: $(node_series) node series after a sane map, want 1"
c_up() { [ "$(info "$FG_TMP/c.sock" store_fallback_active)" = 0 ]; }
fg_wait_for -t 5 c_up || fg_fail "agent c is not on :7000: $(tail -3 "$FG_TMP/agent-c.log")"
CK=$(for i in $(seq 1 20); do [ "$(owner "{t89:3:api:c$i}")" = 7000 ] && echo "c$i" && break; done)
fg_assert_eq "$(redis-cli -s "$FG_TMP/c.sock" RL.CHECK api "$CK" | sed -n 3p)" 9 "agent c decides $CK"
fg_assert_eq "$(rc 7000 EXISTS "{t89:3:api:$CK}")" 1 "agent c's decision is in :7000 (not the fallback)"
fg_ok "the sane map: the 64 forgotten, :7000 used"
fg_stop "$AGENT_C"

fg_stop "$AGENT_A"
fg_stop "$AGENT_B"
fg_pass "Cluster: limits shared per slot, ASK and MOVED followed, a dead master costs only its slots"
