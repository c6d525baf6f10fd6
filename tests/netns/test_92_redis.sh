#!/bin/bash
# Several hosts sharing one redis-server (store.type: redis): two floodgated
# agents in two namespaces enforce one limit jointly for every policy type;
# a killed redis-server costs no client more than timeout_ms (decisions go
# on from memory, the log and INFO say so) and its return adds the outage's
# counts; a ban on one agent (manual, made by its XDP program during a
# flood, or by an application's auth failures) reaches the other's ban map
# within a second (its XDP program then drops the source) and its metrics,
# unbans follow, vouches travel the same way (issue 20), an agent started
# later loads the existing bans and vouches; a wrong
# password is a clear error and a fallback, not a crash.
#
# redis-server runs in A (the attacker's side stands in for the network
# between hosts): agent A (in V) reaches it on a Unix socket, agent B (in W)
# over TCP across its own protected link, as a second host would, with its
# wall clock 2 h ahead.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-server redis-cli python3 node curl promtool
fg_topo_3ns
fg_bpffs
# W: a second protected host, reached from A over its own link.
fg_ns_add W && FG_W=$FG_NS_LAST
fg_veth "$FG_A" veth-w "$FG_W" veth-a 02:00:00:00:03:02 02:00:00:00:03:01
fg_addr "$FG_A" veth-w 192.0.2.2/24
fg_addr "$FG_W" veth-a 192.0.2.1/24
# An address of W's own that V (agent A's host) lacks: a fleet ban holding it
# is A's to make and W's to refuse.
ip -n "$FG_W" addr add 2001:db8:77::1/128 dev lo
fg_neigh "$FG_A" veth-w 192.0.2.1 02:00:00:00:03:01
fg_neigh "$FG_W" veth-a 192.0.2.2 02:00:00:00:03:02
ip -n "$FG_W" route add 203.0.113.0/24 via 192.0.2.2 dev veth-a

SKEW_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketimeMT\.so\.1$' | head -1)
[ -n "$SKEW_LIB" ] || fg_fail "libfaketime is not installed (scripts/deps.sh installs it)"
fg_ab_setup
RSOCK=$FG_TMP/redis.sock
RTCP=192.0.2.2:6379 # A's end of the A-W link
# Long enough that a busy 2-core machine (a helper build, a flood) answers in time:
# the exact-sharing checks count on every decision reaching Redis.
TIMEOUT_MS=200
REDIS=

redis_start() { # [ARGS...]
	fg_bg fg_in "$FG_A" redis-server --bind 192.0.2.2 --port 6379 --protected-mode no \
		--unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
		--appendonly no --dir "$FG_TMP" --logfile "$FG_TMP/redis.log" "$@"
	REDIS=$FG_LAST_PID
	fg_wait_for -t 10 redis-cli -s "$RSOCK" ${PASS:+-a "$PASS" --no-auth-warning} PING ||
		fg_fail "redis-server did not start"
}
conf() { # FILE URL [PASSWORD [USERNAME]]
	cat >"$1" <<YAML
store:
  type: redis
  redis: { url: "$2", timeout_ms: $TIMEOUT_MS, prefix: t92${3:+, password: "$3"}${4:+, username: "$4"} }
rules:
  - { name: flood, proto: tcp, ports: [8443], per_source: { rate: 5, burst: 5 },
      ban: { after: 2, window: 60s, for: 600s } }
policies:
  - { name: api, type: window, limits: [ { count: 10, per: 1m } ] }
  - { name: api2, type: window, limits: [ { count: 1000, per: 1m } ] }
  - { name: burst, type: window, limits: [ { count: 50, per: 1m } ] }
  - { name: tokens, type: budget, amount: 10, period: day }
  - { name: login, type: progressive, free_failures: 100 }
  - { name: auth, type: progressive, free_failures: 100, xdp_ban: { after: 3, for: 10m } }
  - { name: chat, type: events, limit: 10, window: 1m }
  - { name: open, type: window, limits: [ { count: 1, per: 1m } ], on_store_error: allow }
YAML
}
agent_start() { # a|b CONF
	if [ "$1" = a ]; then
		fg_ab_start a "$2" 10150 fg_in "$FG_V" -- -i "$FG_V_IF_C" -i "$FG_V_IF_A"
	else
		# B's wall clock runs 2 h ahead (libfaketime; CLOCK_MONOTONIC, which
		# the XDP program shares, is left alone): decisions and bans must
		# still agree, as they take Redis's time.
		fg_ab_start b "$2" 10150 fg_in "$FG_W" env LD_PRELOAD="$SKEW_LIB" FAKETIME=+2h \
			FAKETIME_DONT_FAKE_MONOTONIC=1 -- -i veth-a
	fi
}
# metric NS NAME — a sample's value on the agent in NS (exposition rendered once a second).
metric() {
	fg_in "$1" curl -s http://127.0.0.1:10150/metrics | awk -v n="$2" '$1 == n { print $2 }'
}
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }

redis_start
conf "$FG_TMP/fg.yaml" "unix://$RSOCK"
conf "$FG_TMP/fg-b.yaml" "redis://$RTCP"
agent_start a "$FG_TMP/fg.yaml"
agent_start b "$FG_TMP/fg-b.yaml"
fg_wait_for -t 10 up_both || fg_fail "agents did not connect to redis"
fg_ok "two agents on one redis-server (Unix socket and TCP)"
"$FLOODCTL" -s "$SOCK_B" status >"$FG_TMP/status.out"
grep -Eq "^shared store +redis up" "$FG_TMP/status.out" && grep -Eq "^fleet bans +subscribed" "$FG_TMP/status.out" ||
	fg_fail "floodctl status on B: $(cat "$FG_TMP/status.out")"
fg_ok "floodctl status: shared store up, fleet bans subscribed"
LOADED=floodgate_config_last_reload_success_timestamp_seconds
skew=$(($(metric "$FG_W" $LOADED | cut -d. -f1) - $(metric "$FG_V" $LOADED | cut -d. -f1)))
fg_assert_ge "$skew" 7000 "B's wall clock is 2 h ahead of A's"

# --- one limit, two hosts: 6 hits on each, limit 10 -> exactly 2 denied -----------
# joint WANT CMD... — 6 rounds of CMD on A, then on B: how many answers began with WANT.
joint() {
	local want=$1 i n=0
	shift
	for i in 1 2 3 4 5 6; do
		[ "$(ca "$@" | head -1)" = "$want" ] && n=$((n + 1))
		[ "$(cb "$@" | head -1)" = "$want" ] && n=$((n + 1))
	done
	echo "$n"
}
fg_assert_eq "$(joint 0 RL.CHECK api u1)" 2 "window: 12 hits on two hosts, limit 10"
fg_assert_eq "$(joint 0 RL.CHECK tokens t1)" 2 "budget: 12 units on two hosts, amount 10"
fg_assert_eq "$(joint disconnect RL.EVENT chat c1 msg)" 3 \
	"events: 12 events on two hosts, limit 10 (the 10th, 11th, 12th disconnect)"
for i in 1 2 3 4 5 6; do ca RL.AUTH.FAIL login bob >/dev/null; cb RL.AUTH.FAIL login bob >/dev/null; done
fg_assert_eq "$(ca RL.AUTH.CHECK login bob | sed -n 2p)" 12 "progressive: 12 failures counted across hosts"
cb RL.BLOCK api u9 60 >/dev/null
fg_assert_eq "$(ca RL.CHECK api u9 | sed -n 6p | grep -c blocked)" 1 "a block on B holds on A"
cb RL.UNBLOCK api u9 >/dev/null
fg_assert_eq "$(ca RL.CHECK api u9 | head -1)" 1 "an unblock on B holds on A"
ca RL.RESET api u1 >/dev/null
fg_assert_eq "$(cb RL.CHECK api u1 | sed -n 3p)" 9 "a reset on A holds on B"
redis-cli -s "$RSOCK" --scan --pattern '{t92:3:api:*' | grep -q '{t92:3:api:u1}' ||
	fg_fail "state key is not {prefix:len(policy):policy:key}"
fg_ok "keys carry the hash tag {t92:len(policy):policy:key}"

# --- one connection, pipelined (as ioredis sends): decided together, answered in order --
# 30 RL.CHECKs of one key (limit 10) with a PING after each, in one write:
# the first 10 allowed, the rest denied, every PONG in its place.
python3 - "$SOCK_A" >"$FG_TMP/pipe.out" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b''.join(b'*3\r\n$8\r\nRL.CHECK\r\n$3\r\napi\r\n$2\r\np1\r\n*1\r\n$4\r\nPING\r\n'
                   for _ in range(30)))
f = s.makefile('rb')
def value():
    line = f.readline()
    if line[:1] == b'*':
        return [value() for _ in range(int(line[1:]))]
    if line[:1] == b'$':
        return f.read(int(line[1:]) + 2)[:-2].decode()
    return line.strip().decode()
seq = []
for _ in range(30):
    seq.append('allowed=' + value()[0][1:])  # the record's first field, ':1' or ':0'
    seq.append(value())
print(' '.join(seq))
PY
want=$(for i in $(seq 30); do [ "$i" -le 10 ] && printf 'allowed=1 +PONG ' || printf 'allowed=0 +PONG '; done)
[ "$(<"$FG_TMP/pipe.out")" = "${want% }" ] || fg_fail "pipelined checks: $(<"$FG_TMP/pipe.out")"
fg_ok "a pipeline of 30 checks on one connection: 10 allowed, then denied, PONGs in place"

# --- ioredis with auto-pipelining on both hosts at once: one limit of 50 -------------
# Each agent gets 200 concurrent checks of one key on one connection; the
# two hosts together must allow exactly 50, each in call order.
NODE_BURST="node $FG_ROOT/tests/node/ioredis_burst.js"
$NODE_BURST "$SOCK_A" burst b1 200 >"$FG_TMP/burst-a.out" &
BURST_A=$!
$NODE_BURST "$SOCK_B" burst b1 200 >"$FG_TMP/burst-b.out" ||
	fg_fail "ioredis on B failed: $(<"$FG_TMP/burst-b.out")"
wait "$BURST_A" || fg_fail "ioredis on A failed: $(<"$FG_TMP/burst-a.out")"
fg_log "ioredis A: $(<"$FG_TMP/burst-a.out"); B: $(<"$FG_TMP/burst-b.out")"
ra=$(<"$FG_TMP/burst-a.out") rb=$(<"$FG_TMP/burst-b.out")
fg_assert_eq $(($(fg_kv allowed "$ra") + $(fg_kv allowed "$rb"))) 50 \
	"ioredis, 2 x 200 concurrent checks on two hosts, limit 50: allowed in all"
fg_assert_eq "$(fg_kv first "$ra")" "$(fg_kv allowed "$ra")" "A's allowed checks are its first ones"
fg_assert_eq "$(fg_kv first "$rb")" "$(fg_kv allowed "$rb")" "B's allowed checks are its first ones"

# --- SCRIPT FLUSH (or a Redis that lost its script cache): NOSCRIPT, then EVAL -------
fb=$(info "$SOCK_A" store_fallback_decisions_total)
redis-cli -s "$RSOCK" SCRIPT FLUSH >/dev/null
# api (10 per minute: one hit comes back every 6 s), not api2: api2 gives one
# back every 60 ms, so two redis-cli calls further apart than that both read 999.
fg_assert_eq "$(ca RL.CHECK api ns1 | sed -n 3p)" 9 "a decision right after SCRIPT FLUSH is made by Redis"
fg_assert_eq "$(ca RL.CHECK api ns1 | sed -n 3p)" 8 "and the next one too"
fg_assert_eq "$(info "$SOCK_A" store_fallback_decisions_total)" "$fb" "no fallback on NOSCRIPT"

# --- one key of the wrong type: that key's error, not the store's ---------------------
redis-cli -s "$RSOCK" LPUSH '{t92:3:api:bad}' x >/dev/null
for i in 1 2 3 4 5 6; do ca RL.CHECK api bad >/dev/null; done
fg_assert_eq "$(info "$SOCK_A" store_fallback_active)" 0 "a WRONGTYPE key leaves the store on Redis"
fg_assert_eq "$(info "$SOCK_A" store_key_errors_total)" 6 "INFO: the key's errors counted"
fg_assert_eq "$(ca RL.CHECK api good1 | sed -n 3p)" 9 "other keys are decided by Redis"
fg_wait_for -t 3 metric_is "$FG_V" 'floodgate_store_key_errors_total{policy="api"}' 6 ||
	fg_fail "metrics: key errors of api are '$(metric "$FG_V" 'floodgate_store_key_errors_total{policy="api"}')', want 6"
redis-cli -s "$RSOCK" DEL '{t92:3:api:bad}' >/dev/null

# --- fleet bans ----------------------------------------------------------------------
BAN=203.0.113.50
ca XDP.BAN $BAN 600 >/dev/null
fg_wait_for -t 1 sh -c "redis-cli -s '$SOCK_B' XDP.LIST BANS | grep -q '^$BAN\$'" ||
	fg_fail "B did not get A's ban within 1 s"
cb XDP.LIST BANS | grep -A1 "^$BAN\$" | grep -q fleet || fg_fail "B's copy is not origin fleet"
fg_ok "a ban on A reaches B within 1 s (origin fleet)"
fg_bg fg_in "$FG_A" "$FGNET" syn --dst 192.0.2.1 --dport 443 --src $BAN \
	--count 500 --pps 2000 --seconds 5 >"$FG_TMP/flood.out"
fg_wait_pid "$FG_LAST_PID" 20 || fg_fail "flood generator failed"
sent=$(fg_kv sent "$(<"$FG_TMP/flood.out")")
dropped=$("$FLOODCTL" -p "$PIN_B" stats | awk '$1 == "ban" { print $3 }')
fg_assert_ge "$dropped" "$sent" "B's XDP drops every SYN from the source banned on A"
ca XDP.UNBAN $BAN >/dev/null
fg_wait_for -t 1 sh -c "! redis-cli -s '$SOCK_B' XDP.LIST BANS | grep -q '^$BAN\$'" ||
	fg_fail "the unban did not reach B within 1 s"
fg_ok "an unban on A reaches B within 1 s"
# Another host's ban of a prefix holding one of B's own addresses (W has
# 2001:db8:77::1) is refused on B, as an app ban of it would be.
[ "$(ca XDP.BAN 2001:db8:77::/48 60)" = OK ] || fg_fail "A refused to ban 2001:db8:77::/48"
fg_wait_for -t 2 grep -q 'fleet ban refused' "$FG_TMP/agent-b.log" ||
	fg_fail "B did not refuse a fleet ban of a prefix holding its own address"
cb XDP.LIST BANS | grep -q '^2001:db8:77::/48$' && fg_fail "B holds a fleet ban of its own prefix"
ca XDP.UNBAN 2001:db8:77::/48 >/dev/null
fg_ok "B refuses another host's ban of a prefix holding its own address"
# B's clock is 2 h ahead: its 60 s ban must still end on A in 60 s, not 2 h later.
cb XDP.BAN 203.0.113.55 60 >/dev/null
fg_wait_for -t 1 sh -c "redis-cli -s '$SOCK_A' XDP.LIST BANS | grep -q '^203.0.113.55\$'" ||
	fg_fail "A did not get B's ban within 1 s"
left=$(ca XDP.LIST BANS | grep -A2 '^203.0.113.55$' | sed -n 3p)
fg_assert_le "$left" 60 "B's 60 s ban ends on A within 60 s despite B's clock"
fg_assert_ge "$left" 55 "and lasts about 60 s there"
cb XDP.UNBAN 203.0.113.55 >/dev/null

# Vouches (issue 20): one made on A (the signaling host) is a fleet vouch on
# B within 1 s, ends there when it ends on A (B's clock 2 h ahead does not
# stretch it), and an unvouch follows; B's guard refuses another host's vouch
# of B's own address.
VOUCHED=203.0.113.80
verified_by() { redis-cli -s "$1" XDP.SOURCE "$2" | grep -A1 '^verified_by$' | sed -n 2p; }
until_s() { # SOCK ADDR — seconds until the address's verification ends
	local ms
	ms=$(redis-cli -s "$1" XDP.SOURCE "$2" | grep -A1 '^verified_until_ms$' | sed -n 2p)
	echo $(((ms - $(date +%s%3N)) / 1000))
}
vouch_is() { [ "$(verified_by "$1" "$2")" = "$3" ]; }
t0=$(date +%s%3N)
ca XDP.VOUCH $VOUCHED 60 >/dev/null
fg_wait_for -t 1 vouch_is "$SOCK_B" $VOUCHED fleet ||
	fg_fail "B did not get A's vouch within 1 s: $(verified_by "$SOCK_B" $VOUCHED)"
vouch_ms=$(($(date +%s%3N) - t0))
vouch_is "$SOCK_A" $VOUCHED vouched || fg_fail "A's own vouch is not 'vouched'"
left=$(until_s "$SOCK_B" $VOUCHED)
# B's XDP.SOURCE speaks B's (skewed) wall clock: compare with B's date.
left=$((left - 7200))
fg_assert_le "$left" 60 "A's 60 s vouch ends on B within 60 s"
fg_assert_ge "$left" 55 "and lasts about 60 s there"
ca XDP.UNVOUCH $VOUCHED >/dev/null
fg_wait_for -t 1 vouch_is "$SOCK_B" $VOUCHED none || fg_fail "the unvouch did not reach B within 1 s"
# An address of W's (B's) alone: a client's address to A. B reads its own
# addresses again at most once a second.
fg_addr "$FG_W" veth-a 2001:db8:3::1/64
sleep 1.1
ca XDP.VOUCH 2001:db8:3::1 60 >/dev/null
fg_wait_for -t 2 grep -q 'fleet vouch refused' "$FG_TMP/agent-b.log" ||
	fg_fail "B did not refuse a fleet vouch of its own address"
vouch_is "$SOCK_B" 2001:db8:3::1 none || fg_fail "B holds a fleet vouch of its own address"
ca XDP.UNVOUCH 2001:db8:3::1 >/dev/null
fg_ok "a vouch on A reaches B in $vouch_ms ms (fleet, same end), an unvouch follows, B's own address is refused"
# A's own TCP proof (issue 20): C completes a TCP connection to V (A's host);
# A's once-a-second walk of its verified map publishes it, rate-limited
# (vouch.share_tcp), and B marks the address verified, origin fleet.
fg_serve 8080
vouch_is "$SOCK_B" "$FG_C_IP6" none || fg_fail "C's address is verified on B before it connects"
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP6_C" --dport 8080 --count 1 --graceful)
t0=$(date +%s%3N)
fg_assert_eq "$(fg_kv ok "$out")" 1 "C connects to V over TCP"
# The walk runs once a second: the proof is published within 1 s of the
# connection, applied on B a moment later.
fg_wait_for -t 2 vouch_is "$SOCK_B" "$FG_C_IP6" fleet ||
	fg_fail "B did not get A's TCP verification: $(verified_by "$SOCK_B" "$FG_C_IP6")"
took=$(($(date +%s%3N) - t0))
fg_log "A's TCP verification verified on B after $took ms"
fg_assert_le "$took" 1500 "B has it within the 1-s walk and its delivery"
vouch_is "$SOCK_A" "$FG_C_IP6" tcp || fg_fail "A's own entry is not 'tcp': $(verified_by "$SOCK_A" "$FG_C_IP6")"
tcp_published() {
	[ "$(metric "$FG_V" 'floodgate_fleet_tcp_verified_total{result="published"}')" -ge 1 ] 2>/dev/null
}
fg_wait_for -t 3 tcp_published || fg_fail "A's metrics do not count the published TCP verification"
fg_ok "a TCP connection to A's host makes the client verified on B (origin fleet) within the 1-s walk"

# The XDP program's own ban: A floods V's port 8443 from one address; V's
# program bans it after 2 violations (counted once a second), and the ban
# reaches B like any other.
AUTO=203.0.113.70
fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport 8443 --src $AUTO \
	--count 3000 --pps 1000 --seconds 5 >"$FG_TMP/auto.out"
AUTO_FLOOD=$FG_LAST_PID
fg_wait_for -t 5 sh -c "'$FLOODCTL' -p '$PIN_A' list bans | grep -q '^$AUTO .*auto'" ||
	fg_fail "V's XDP program did not ban the flooding source"
fg_wait_for -t 1 sh -c "redis-cli -s '$SOCK_B' XDP.LIST BANS | grep -q '^$AUTO\$'" ||
	fg_fail "B did not get the XDP program's ban on A within 1 s"
cb XDP.LIST BANS | grep -A1 "^$AUTO\$" | grep -q fleet || fg_fail "B's copy of the auto-ban is not origin fleet"
fg_ok "a ban made by A's XDP program reaches B within 1 s (origin fleet)"
fg_wait_pid "$AUTO_FLOOD" 20 || fg_fail "flood generator failed"

# An application-feedback ban: the 3rd RL.AUTH.FAIL of an address on A.
APP=203.0.113.90
for i in 1 2 3; do ca RL.AUTH.FAIL auth $APP >/dev/null; done
fg_wait_for -t 1 sh -c "redis-cli -s '$SOCK_B' XDP.LIST BANS | grep -q '^$APP\$'" ||
	fg_fail "B did not get A's application-feedback ban within 1 s"
fg_ok "an application-feedback ban on A reaches B within 1 s"
# B's metrics count the two fleet bans in force (the auto-ban and this one;
# the first was lifted). The gauge is recounted every 10 s.
FLEET_BANS='floodgate_xdp_bans{origin="fleet"}'
fg_wait_for -t 12 metric_is "$FG_W" "$FLEET_BANS" 2 ||
	fg_fail "B's $FLEET_BANS is '$(metric "$FG_W" "$FLEET_BANS")', want 2"
fg_assert_ge "$(metric "$FG_W" 'floodgate_fleet_messages_total{kind="applied"}')" 3 \
	"B's metrics: the fleet bans it applied"
fg_ok "B's metrics: floodgate_xdp_bans{origin=\"fleet\"} 2"
# The same count: every address ban in B's hash is counted in a ban filter
# slot (two bans share one with odds of 1 in 65,536).
addr_bans=$(metric "$FG_W" 'floodgate_xdp_map_entries{map="bans_addr"}')
slots=$(metric "$FG_W" 'floodgate_xdp_ban_filter_slots_used')
fg_assert_ge "$addr_bans" 2 "B's address bans"
fg_assert_ge "$slots" 1 "B's ban filter slots in use"
fg_assert_le "$slots" "$addr_bans" "B's ban filter slots in use, at most one per address ban"

ca XDP.BAN 203.0.113.60 600 >/dev/null
ca XDP.VOUCH 203.0.113.81 600 >/dev/null
fg_stop "$AGENT_B"
agent_start b "$FG_TMP/fg-b.yaml"
fg_wait_for -t 5 sh -c "redis-cli -s '$SOCK_B' XDP.LIST BANS | grep -q '^203.0.113.60\$'" ||
	fg_fail "an agent started later did not load the existing bans"
fg_wait_for -t 5 vouch_is "$SOCK_B" 203.0.113.81 fleet ||
	fg_fail "an agent started later did not load the vouches in force"
fg_ok "an agent started later loads the existing bans and vouches"

# --- redis-server dies mid-stream -----------------------------------------------------
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 3 api2 s >"$FG_TMP/lat.out" &
LAT=$!
sleep 1
fg_stop "$REDIS"
wait "$LAT"
lat=$(<"$FG_TMP/lat.out")
fg_log "decisions while redis-server died: $lat"
fg_assert_eq "$(fg_kv errors "$lat")" 0 "no decision failed"
fg_assert_le "$(fg_kv max_ms "$lat")" $((TIMEOUT_MS + 100)) "no client waited longer than timeout_ms + 100 ms"
fg_assert_gt "$(fg_kv n "$lat")" 200 "decisions went on"
grep -q "redis store unavailable, fallback active" "$FG_TMP/agent-a.log" || fg_fail "no fallback log line"
fg_assert_eq "$(info "$SOCK_A" store_fallback_active)" 1 "INFO: store_fallback_active"
fg_assert_gt "$(info "$SOCK_A" store_fallback_decisions_total)" 0 "INFO: fallback decisions counted"
fg_wait_for -t 3 metric_is "$FG_V" floodgate_store_fallback_active 1 ||
	fg_fail "metrics: floodgate_store_fallback_active is '$(metric "$FG_V" floodgate_store_fallback_active)', want 1"
fg_assert_gt "$(metric "$FG_V" floodgate_store_fallback_decisions_total)" 0 "metrics: fallback decisions counted"
"$FLOODCTL" -s "$SOCK_A" status | grep -Eq "^shared store +redis UNUSABLE: fallback active" ||
	fg_fail "floodctl status does not say the fallback is active: $("$FLOODCTL" -s "$SOCK_A" status)"
fg_ok "floodctl status: the shared store is unusable, fallback active"
fg_assert_eq "$(ca RL.CHECK open o1 | head -1)" 1 "on_store_error: allow lets through"
fg_assert_eq "$(ca RL.CHECK open o1 | head -1)" 1 "on_store_error: allow lets through again"
for i in 1 2 3 4; do ca RL.CHECK api u7 >/dev/null; done
# 50 keys of the stream above and u7.
fg_assert_eq "$(info "$SOCK_A" store_outage_keys)" 51 "the outage's hits are kept per key"

redis_start
fg_wait_for -t 5 up_both || fg_fail "agents did not go back to redis"
grep -q "redis store back, fallback over" "$FG_TMP/agent-a.log" || fg_fail "no recovery log line"
# All 51 keys: the replay runs in the background, u7 may be among the last.
fg_wait_for -t 2 sh -c "[ \"\$(redis-cli -s '$SOCK_A' INFO policies | tr -d '\r' | sed -n 's/^store_replayed_keys_total://p')\" -ge 51 ]" ||
	fg_fail "the outage's hits were not replayed"
fg_assert_eq "$(cb RL.CHECK api u7 | sed -n 3p)" 5 "B sees A's 4 outage hits (10 - 4 - 1 left)"
fg_wait_for -t 3 metric_is "$FG_V" floodgate_store_fallback_active 0 ||
	fg_fail "metrics: floodgate_store_fallback_active stays '$(metric "$FG_V" floodgate_store_fallback_active)' after recovery"
fg_assert_ge "$(metric "$FG_V" floodgate_store_replayed_keys_total)" 1 "metrics: outage keys replayed"
fg_assert_gt "$(metric "$FG_V" floodgate_store_request_duration_seconds_count)" 100 "metrics: Redis round trips timed"
fg_in "$FG_V" curl -s http://127.0.0.1:10150/metrics >"$FG_TMP/metrics.txt"
promtool check metrics <"$FG_TMP/metrics.txt" >"$FG_TMP/promtool.out" 2>&1 || {
	cat "$FG_TMP/promtool.out" >&2
	fg_fail "promtool check metrics rejects the scrape of a Redis-store agent"
}
fg_ok "redis back: shared again, outage hits added"

# --- redis-server hangs (SIGSTOP): the deadline and the circuit breaker --------------
python3 "$(dirname "$0")/rl_latency.py" "$SOCK_A" 2.5 api2 h >"$FG_TMP/lat2.out" &
LAT=$!
sleep 0.5
kill -STOP "$REDIS"
fg_on_exit "kill -CONT $REDIS 2>/dev/null"
wait "$LAT"
kill -CONT "$REDIS"
lat=$(<"$FG_TMP/lat2.out")
fg_log "decisions while redis-server hung: $lat"
fg_assert_eq "$(fg_kv errors "$lat")" 0 "no decision failed while redis hung"
fg_assert_le "$(fg_kv max_ms "$lat")" $((TIMEOUT_MS + 100)) "no client waited longer than timeout_ms + 100 ms on a hung redis"
fg_assert_gt "$(info "$SOCK_A" store_timeouts_total)" 0 "INFO: timeouts counted"
fg_wait_for -t 5 up_both || fg_fail "agents did not go back to redis after the hang"
fg_ok "a hung redis-server costs at most timeout_ms, then the breaker stops waiting"

# --- a wrong password: clear error, fallback, no crash --------------------------------
fg_stop "$REDIS"
PASS=s3cret redis_start --requirepass s3cret
conf "$FG_TMP/bad.yaml" "redis://$RTCP" wrong
fg_stop "$AGENT_B"
agent_start b "$FG_TMP/bad.yaml"
fg_wait_for -t 5 grep -q "AUTH failed" "$FG_TMP/agent-b.log" || { cat "$FG_TMP/agent-b.log"; fg_fail "no AUTH error in the log"; }
grep "AUTH failed" "$FG_TMP/agent-b.log" | head -1
fg_assert_eq "$(cb RL.CHECK api w1 | head -1)" 1 "decisions go on with a wrong password"
fg_assert_eq "$(info "$SOCK_B" store_fallback_active)" 1 "wrong password: fallback active"
kill -0 "$AGENT_B" || fg_fail "the agent died"
conf "$FG_TMP/good.yaml" "redis://$RTCP" s3cret
fg_stop "$AGENT_B"
agent_start b "$FG_TMP/good.yaml"
fg_wait_for -t 5 sh -c "[ \"\$(redis-cli -s '$SOCK_B' INFO policies | tr -d '\r' | sed -n 's/^store_fallback_active://p')\" = 0 ]" ||
	fg_fail "the right password does not connect"
fg_ok "the right password connects"

# --- a Redis 6 ACL user (AUTH username password) ---------------------------------------
redis-cli -s "$RSOCK" -a s3cret --no-auth-warning \
	ACL SETUSER floodgate on '>fgpw' '~*' '&*' '+@all' >/dev/null || fg_fail "ACL SETUSER failed"
conf "$FG_TMP/acl.yaml" "redis://$RTCP" fgpw floodgate
fg_stop "$AGENT_B"
agent_start b "$FG_TMP/acl.yaml"
fg_wait_for -t 5 sh -c "[ \"\$(redis-cli -s '$SOCK_B' INFO policies | tr -d '\r' | sed -n 's/^store_fallback_active://p')\" = 0 ]" ||
	fg_fail "the ACL user does not connect"
fg_assert_eq "$(cb RL.CHECK api acl1 | sed -n 3p)" 9 "decisions on Redis as the ACL user"
redis-cli -s "$RSOCK" -a s3cret --no-auth-warning CLIENT LIST | grep -q "user=floodgate" ||
	fg_fail "no connection of user floodgate in CLIENT LIST"
fg_ok "an ACL user (store.redis.username) connects as itself"
fg_pass "redis store: shared limits, fallback, recovery, fleet bans"
