#!/bin/bash
# The socket's client limits against local users (issue 10 items 6, 7): one
# uid holds at most max_clients_per_uid, the last admin_reserve places stay
# root's, floodctl says why it was refused (exit 2, no SIGPIPE death), the
# buffers of all clients stay under max_buffers (the biggest client goes) and
# idle clients are closed after idle_timeout, CLIENT LIST shows a peer only
# its own uid's connections. Peers of other uids are made
# with setpriv; small limits keep it fast.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd redis-cli setpriv curl
PY=/usr/bin/python3 # every uid can run it (pyenv's shims live under /root)
[ -x "$PY" ] || fg_skip "no $PY"
LOAD="$FG_ROOT/tests/netns/sockload.py"
fg_topo_3ns
chmod 0755 "$FG_TMP"
mkdir -m 0755 "$FG_TMP/run"
mkdir -m 0777 "$FG_TMP/nb" # the peers' ready files (not the socket's directory)
SOCK=$FG_TMP/run/fg.sock
conf() {
	cat >"$FG_TMP/fg.yaml" <<YAML
socket:
  mode: "0666"
  max_clients: 40
  max_clients_per_uid: 30
  admin_reserve: 5
  idle_timeout: $1
  max_buffers: 16mb
policies:
  - name: api
    type: window
    limits: [ { count: 100, per: 1m } ]
YAML
}
conf 0
METRICS=127.0.0.1:10193
fg_agent_start "$FG_TMP/fg.yaml" --socket "$SOCK" --metrics-listen "$METRICS"
PID=$FG_AGENT
metric() { # metric 'NAME{LABELS}' — its value on /metrics
	fg_in "$FG_V" curl -sS --max-time 2 "http://$METRICS/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}
info() { redis-cli -s "$SOCK" INFO "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }

# load UID NAME MODE N [ARGS] — sockload as UID in the background until its
# phase is done; its line in $out, its pid in LPID[NAME].
declare -A LPID
load() {
	local uid=$1 name=$2
	shift 2
	fg_bg setpriv --reuid="$uid" --regid="$uid" --clear-groups "$PY" "$LOAD" "$SOCK" "$@" \
		--ready "$FG_TMP/nb/$name.ready" >"$FG_TMP/$name.out" 2>"$FG_TMP/$name.err"
	LPID[$name]=$FG_LAST_PID
	fg_wait_for -t 30 test -e "$FG_TMP/nb/$name.ready" || {
		cat "$FG_TMP/$name.err" >&2
		fg_fail "sockload $* as uid $uid did not finish"
	}
	out=$(cat "$FG_TMP/$name.out")
}

# Per-uid limit, then the admin reserve.
load 65534 a hold 40 --hold 60
fg_assert_eq "$(fg_kv open "$out")" 30 "uid 65534 holds max_clients_per_uid connections"
fg_assert_eq "$(fg_kv refused "$out")" 10 "its other 10 are refused"
[[ $out == *"first_refusal=-ERR max clients per uid reached (30): uid 65534 has 30 connections"* ]] ||
	fg_fail "refusal text: $out"
# The operator reads why in the log too: a line a second per reason at most
# (ten refusals in well under a second: one line, or two across a second).
lines=$(grep -c 'msg="connection refused" reason=per_uid uid=65534' "$FG_AGENT_LOG" || true)
[ "$lines" -ge 1 ] && [ "$lines" -le 2 ] ||
	fg_fail "$lines log lines for 10 per-uid refusals: $(grep 'connection refused' "$FG_AGENT_LOG")"
fg_ok "the per-uid refusals are logged ($lines line(s)): $(grep -m1 'connection refused' "$FG_AGENT_LOG")"
load 65533 b hold 10 --hold 60
fg_assert_eq "$(fg_kv open "$out")" 5 "uid 65533 gets the places left outside the reserve"
[[ $out == *"first_refusal=-ERR max number of clients reached (40, the last 5 kept for admins)"* ]] ||
	fg_fail "refusal text: $out"
for _ in 1 2 3; do
	got=$(redis-cli -s "$SOCK" PING 2>&1 | tr -d '\r')
	[ "$got" = PONG ] || fg_fail "root refused while others hold the rest: $got"
done
fg_ok "root gets in from the reserve"
set +e
msg=$(setpriv --reuid=65533 --regid=65533 --clear-groups "$FLOODCTL" -s "$SOCK" check api k 2>&1)
rc=$?
set -e
fg_assert_eq "$rc" 2 "floodctl refused exits 2 (not 141, SIGPIPE)"
[[ $msg == *"max number of clients reached (40"* ]] || fg_fail "floodctl says: $msg"
fg_ok "floodctl says: $msg"
fg_assert_eq "$(info stats rejected_connections_per_uid)" 10 "INFO counts per-uid refusals"
fg_assert_ge "$(info stats rejected_connections_max_clients)" 6 "INFO counts max-clients refusals"
fg_stop "${LPID[b]}"
# CLIENT LIST: every connection for root, a peer's own uid's for others (the
# other uids' names, pids and uids are not theirs to see, stop 35's trial).
all=$(redis-cli -s "$SOCK" CLIENT LIST)
fg_assert_ge "$(grep -c ' uid=65534 ' <<<"$all")" 30 \
	"root's CLIENT LIST shows uid 65534's connections"
mine=$(setpriv --reuid=65533 --regid=65533 --clear-groups redis-cli -s "$SOCK" CLIENT LIST)
fg_assert_eq "$(grep -c . <<<"$mine")" 1 "uid 65533's CLIENT LIST: its own connection only"
grep -q ' uid=65533 ' <<<"$mine" || fg_fail "uid 65533's CLIENT LIST: $mine"
fg_ok "CLIENT LIST shows a peer only its own uid's connections"
fg_stop "${LPID[a]}"
fg_wait_for -t 5 eval '[ "$(info clients connected_clients)" -le 1 ]' || fg_fail "clients did not leave"

# Memory: 30 partial requests of 1 MB against max_buffers 16mb.
load 65534 c partial 30 --hold 2
fg_assert_ge "$(fg_kv closed "$out")" 10 "clients closed for memory"
fg_assert_ge "$(info stats closed_clients_memory)" 10 "INFO counts them"
fg_assert_le "$(info clients client_buffers_bytes)" $((16 << 20)) "buffers under max_buffers"
grep -q 'socket buffers over socket.max_buffers.*uid=65534' "$FG_AGENT_LOG" ||
	fg_fail "no log line naming the evicted client's uid"
fg_stop "${LPID[c]}"
fg_wait_for -t 5 eval '[ "$(info clients client_buffers_bytes)" -lt 1048576 ]' ||
	fg_fail "buffers not given back: $(info clients client_buffers_bytes)"
fg_ok "buffers given back: $(info clients client_buffers_bytes) bytes"

# Idle timeout, set by a reload.
conf 1s
kill -HUP "$PID"
fg_log_wait "config reloaded" 10 || fg_fail "reload failed"
fg_assert_eq "$(info clients idle_timeout_sec)" 1 "reload applies idle_timeout"
load 65534 d hold 20 --hold 30
fg_assert_eq "$(fg_kv open "$out")" 20 "20 idle clients connected"
fg_wait_for -t 5 eval '[ "$(info stats closed_clients_idle)" -ge 20 ]' || fg_fail "idle clients not closed"
fg_ok "idle clients closed: $(info stats closed_clients_idle)"
fg_stop "${LPID[d]}"
fg_assert_eq "$(metric 'floodgate_socket_clients_rejected_total{reason="per_uid"}')" 10 \
	"per-uid refusals on /metrics"
fg_assert_ge "$(metric 'floodgate_socket_clients_closed_total{reason="memory"}')" 10 \
	"clients closed for memory on /metrics"
fg_assert_ge "$(metric 'floodgate_socket_clients_closed_total{reason="idle"}')" 20 \
	"idle clients closed on /metrics"
metric floodgate_socket_buffered_bytes | grep -qx '[0-9]*' || fg_fail "no buffered_bytes gauge"
kill -0 "$PID" || fg_fail "agent died"
fg_pass "socket limits: per uid, admin reserve, floodctl refusal, max_buffers, idle_timeout"
