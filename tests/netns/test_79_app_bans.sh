#!/bin/bash
# App-feedback bans (a policy's xdp_ban) are guarded: a socket peer that may
# not cause NIC bans gets none; nobody gets the host's own, unspecified or
# broadcast addresses banned; a listed peer's bans work up to app_bans.max;
# app bans never stop root's XDP.BAN (a full map evicts the oldest app ban);
# the XDP program's own ban into a full map is logged and counted as failed.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-cli setpriv curl
# A python other users can run (not a per-user shim).
PY=/usr/bin/python3
[ -x "$PY" ] || fg_skip "needs /usr/bin/python3"
PORT=443
MAX=64
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
socket: { mode: "0666" }
metrics: { listen: "127.0.0.1:10150" }
app_bans: { peer_uids: [$(id -u daemon)], max: $MAX, per_peer: $MAX }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
    ban: { after: 1, window: 10s, for: 1m }
policies:
  - name: login
    type: progressive
    xdp_ban: { after: 3, for: 1h }
YAML
chmod 0711 "$FG_TMP" # other users reach the socket (0666), nothing else
install -m 0644 "$FG_ROOT/tests/netns/resp_pipe.py" "$FG_TMP/resp_pipe.py"
fg_agent_start "$FG_TMP/fg.yaml"
fg_wait_for -t 10 test -S "$FG_SOCK" || fg_fail "no socket at $FG_SOCK"
as() { # as USER CMD...
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}
fails() { # fails USER ADDR: 10 x RL.AUTH.FAIL login ADDR as USER
	local i
	for i in $(seq 10); do
		as "$1" redis-cli -s "$FG_SOCK" RL.AUTH.FAIL login "$2" >/dev/null
	done
}
nbans() { fg_ctl list bans | grep -c "$1" || true; }
metric() { # metric NAME{LABELS}: its value on /metrics
	fg_in "$FG_V" curl -sS --max-time 5 http://127.0.0.1:10150/metrics |
		awk -v m="$1" '$1 == m { print $2 }'
}
# metric_ge NAME MIN MSG: the metric reaches MIN (snapshots are rendered each second).
_metric_ge() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; }
metric_ge() {
	fg_wait_for -t 5 _metric_ge "$1" "$2" || true
	fg_assert_ge "$(metric "$1")" "$2" "$3"
}
OWN4=$FG_V_IP4_A

# 1. The issue's attack: nobody asks for the host, 0.0.0.0, broadcast.
for addr in "$OWN4" 0.0.0.0 255.255.255.255 203.0.113.60; do fails nobody "$addr"; done
fg_assert_eq "$(fg_ctl list bans | grep -c . || true)" 0 \
	"40 x RL.AUTH.FAIL as nobody (own address, 0.0.0.0, broadcast, 203.0.113.60): no ban"
# 2. Root may cause bans, but never of these addresses.
for addr in "$OWN4" "$FG_V_IP4_C" 0.0.0.0 255.255.255.255 :: "::ffff:$OWN4" 127.0.0.1; do
	fails root "$addr"
done
fg_assert_eq "$(fg_ctl list bans | grep -c . || true)" 0 \
	"root: own addresses, unspecified, broadcast, mapped own, loopback: no ban"
# 3. A listed peer's ban works.
fails daemon 203.0.113.50
fg_assert_eq "$(nbans '^203\.0\.113\.50 ')" 1 "a listed peer (daemon) bans 203.0.113.50"

# 4. Filling app bans: the listed peer asks for far more than app_bans.max.
for i in $(seq 1 200); do
	printf 'RL.AUTH.FAIL login 2001:db8:ff00::%x\n' "$i" "$i" "$i"
done | as daemon "$PY" "$FG_TMP/resp_pipe.py" "$FG_SOCK" >/dev/null
apps=$(fg_ctl list bans | grep -c ' app ' || true)
fg_assert_eq "$apps" $MAX "app bans stop at app_bans.max ($MAX)"
out=$(redis-cli -s "$FG_SOCK" XDP.BAN 198.51.100.200 60)
fg_assert_eq "$([ "$out" = OK ] && echo 1 || echo 0)" 1 "root's XDP.BAN works with app bans full ($out)"
metric_ge 'floodgate_app_bans_total{result="quota"}' 100 "refusals counted as quota"
metric_ge 'floodgate_app_bans_total{result="refused_peer"}' 4 \
	"nobody's asks counted as refused_peer"
metric_ge 'floodgate_app_bans_total{result="refused_address"}' 7 \
	"root's asks for special addresses counted as refused_address"

# 5. The whole address ban map (bans_addr, FG_MAX_BAN_ADDRS entries; every
# ban so far is an address) full: root still bans (the oldest app ban makes
# room).
FULL=131072
have=$(fg_ctl list bans | grep -c . || true)
for i in $(seq 1 $((FULL - have))); do
	printf 'XDP.BAN 2001:db8:1000::%x:%x 600\n' $((i / 65536)) $((i % 65536))
done | "$PY" "$FG_TMP/resp_pipe.py" --timeout 120 "$FG_SOCK" >"$FG_TMP/fill.out"
fg_log "filling the ban map: $(cat "$FG_TMP/fill.out")"
fg_assert_eq "$(fg_ctl list bans | grep -c . || true)" $FULL "the address ban map is full ($FULL)"
out=$(redis-cli -s "$FG_SOCK" XDP.BAN 198.51.100.201 60)
fg_assert_eq "$([ "$out" = OK ] && echo 1 || echo 0)" 1 "root's XDP.BAN into a full map works ($out)"
fg_assert_eq "$(nbans '^198\.51\.100\.201 ')" 1 "and the ban is there"
metric_ge floodgate_app_bans_evicted_total 1 "an app ban was evicted for it"

# 6. The program's own ban into the full map: reported as failed, not banned.
fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src 203.0.113.9 --count 300 \
	--seconds 5 >/dev/null
fg_log_wait 'source=203.0.113.9 .*action=ban_failed' 10 || {
	grep 'source=203.0.113.9' "$FG_AGENT_LOG" >&2 || true
	fg_fail "the program's failed ban is not logged as action=ban_failed"
}
grep -q 'source=203.0.113.9 .*action=banned' "$FG_AGENT_LOG" &&
	fg_fail "a ban into a full map was logged as action=banned"
fg_ok "the program's ban into a full map is logged action=ban_failed"
metric_ge floodgate_xdp_auto_bans_failed_total 1 \
	"floodgate_xdp_auto_bans_failed_total counts it"
fg_pass "app bans: peers and addresses guarded, bounded, operator and program keep room"
