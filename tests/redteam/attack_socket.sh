#!/bin/bash
# attack_socket.sh — a local user (uid nobody) against floodgated's socket
# (issue 10 items 6, 7, 8, 10): connection lockout, floodctl's silent death,
# idle connections, memory from partial requests and unread replies, a RESP
# length that overflows, and a symlink put in place of the socket before a
# reload. One HELD/BROKE line per attack with its figures.
#
# FLOODGATED=/path/to/old/floodgated runs the same attacks against another
# build (e.g. main's, to see them break). Bounded: about a minute.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/netns/lib.sh
. tests/netns/agent.sh

fg_require_root
fg_require_cmd python3 redis-cli setpriv
# a python every user can run (not one under root's home, as pyenv's shims are)
PY=/usr/bin/python3
[ -x "$PY" ] || fg_skip "no $PY"
id nobody >/dev/null 2>&1 || fg_skip "no user nobody"
LOAD="$FG_ROOT/tests/netns/sockload.py"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fails=0
held() { echo "HELD $*"; }
broke() {
	echo "BROKE $*"
	fails=$((fails + 1))
}

fg_topo_3ns
chmod 0755 "$FG_TMP"
mkdir -m 0755 "$FG_TMP/run"
mkdir -m 1777 "$FG_TMP/nb" # the attackers' ready files
SOCK=$FG_TMP/run/fg.sock
conf() { # conf [EXTRA socket: LINES]
	cat >"$FG_TMP/fg.yaml" <<YAML
socket:
  mode: "0666"
$(for l in "$@"; do echo "  $l"; done)
policies:
  - name: api
    type: window
    limits: [ { count: 100, per: 1m } ]
YAML
}
conf
fg_agent_start "$FG_TMP/fg.yaml" --socket "$SOCK" --metrics-listen ""
fg_wait_for -t 10 test -S "$SOCK" || fg_fail "no socket at $SOCK"
PID=$FG_AGENT
rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$PID/status"; }
reset_hwm() { echo 5 >"/proc/$PID/clear_refs"; }
# load AS MODE N [ARGS] — sockload as nobody in the background; waits for its
# phase to end; its line is in $FG_TMP/load.out, its pid in LOAD_PID.
load() {
	rm -f "$FG_TMP/nb/load.ready"
	(ulimit -n 12000 && exec "${NOBODY[@]}" "$PY" "$LOAD" "$SOCK" "$@" \
		--ready "$FG_TMP/nb/load.ready") >"$FG_TMP/load.out" 2>"$FG_TMP/load.err" &
	LOAD_PID=$!
	FG_PIDS+=("$LOAD_PID")
	fg_wait_for -t 90 _load_ready
	[ -e "$FG_TMP/nb/load.ready" ] || {
		cat "$FG_TMP/load.err" >&2
		fg_fail "sockload $* did not finish its phase"
	}
}
_load_ready() {
	[ -e "$FG_TMP/nb/load.ready" ] && return 0
	! kill -0 "$LOAD_PID" 2>/dev/null # it died: stop waiting
}
load_end() {
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	true
}
info() { redis-cli -s "$SOCK" INFO "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
ms() { date +%s%3N; }

# --- 6: lockout ------------------------------------------------------------------------------
load hold 10000 --hold 60
got=$(cat "$FG_TMP/load.out")
t0=$(ms)
root_ping=$(timeout 5 redis-cli -s "$SOCK" PING 2>&1 | tr -d '\r\n')
t_root=$(($(ms) - t0))
ctl_out=$(timeout 5 "${NOBODY[@]}" "$FLOODCTL" -s "$SOCK" check api k 2>&1)
ctl_rc=$?
load_end
fig="nobody asked 10000: ${got%% first_refusal=*}; root PING: '$root_ping' in ${t_root} ms"
if [ "$root_ping" = PONG ] && [ "$(fg_kv open "$got")" -lt 10000 ]; then
	held "socket lockout (10000 idle connections as nobody): $fig"
else
	broke "socket lockout (10000 idle connections as nobody): $fig"
fi
ctl_out=$(echo "$ctl_out" | head -2 | tr '\n' ' ')
if [ "$ctl_rc" = 2 ] && [ -n "$ctl_out" ]; then
	held "floodctl refused: exit $ctl_rc, says: $ctl_out"
else
	broke "floodctl refused: exit $ctl_rc (141 = killed by SIGPIPE), says: '$ctl_out'"
fi

# --- 6: lockout by several users: the admin reserve ------------------------------------------
pids=()
for uid in 65530 65531 65532 65533; do
	(ulimit -n 4000 && exec setpriv --reuid=$uid --regid=$uid --clear-groups "$PY" "$LOAD" "$SOCK" \
		hold 2600 --hold 60 --ready "$FG_TMP/nb/u$uid.ready") >"$FG_TMP/u$uid.out" 2>&1 &
	pids+=($!)
	FG_PIDS+=($!)
done
all_ready() {
	local u
	for u in 65530 65531 65532 65533; do [ -e "$FG_TMP/nb/u$u.ready" ] || return 1; done
}
fg_wait_for -t 90 all_ready
(ulimit -n 4000 && exec "${NOBODY[@]}" "$PY" "$LOAD" "$SOCK" hold 100 --hold 60 \
	--ready "$FG_TMP/nb/u65534.ready") >"$FG_TMP/u65534.out" 2>&1 &
pids+=($!)
FG_PIDS+=($!)
fg_wait_for -t 30 test -e "$FG_TMP/nb/u65534.ready"
sleep 1 # the agent has answered every connection
t0=$(ms)
root_ping=$(timeout 5 redis-cli -s "$SOCK" PING 2>&1 | tr -d '\r\n')
t_root=$(($(ms) - t0))
held_total=$(($(info clients connected_clients) - 1))
late=$(info stats rejected_connections_max_clients)
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
fig="5 users asked 10500, held $held_total, refused at max_clients: $late; root PING: '$root_ping' in ${t_root} ms"
if [ "$root_ping" = PONG ]; then
	held "socket lockout by 5 users: $fig"
else
	broke "socket lockout by 5 users: $fig"
fi

# --- 7: memory -------------------------------------------------------------------------------
mem_attack() { # NAME MODE N
	local name=$1 before peak after out
	shift 1
	sleep 1
	before=$(rss)
	reset_hwm
	load "$@" --hold 1
	out=$(cat "$FG_TMP/load.out")
	peak=$(hwm)
	load_end
	sleep 3 # the server gives memory back on its next cron tick
	after=$(rss)
	fig="RSS ${before} MB before, ${peak} MB peak, ${after} MB after; ${out%% first_refusal=*}; closed for memory: $(info stats closed_clients_memory)"
	if [ "$((peak - before))" -le 400 ] && [ "$((after - before))" -le 64 ]; then
		held "$name: $fig"
	else
		broke "$name: $fig"
	fi
}
mem_attack "2000 clients each holding a 1 MB partial request" partial 2000
mem_attack "300 clients sending 1 MB ECHOs, never reading" echo 300

# --- 8: RESP length overflow -----------------------------------------------------------------
reply=$(python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
s.sendall(b"*1\r\n$18446744073709551616\r\n\r\n")
print(s.recv(200).decode(errors="replace").strip())
PY
)
if [[ $reply == *"invalid bulk length"* ]]; then
	held "RESP \$18446744073709551616: '$reply'"
else
	broke "RESP \$18446744073709551616 read as \$0: '$reply'"
fi

# --- 6: idle connections ---------------------------------------------------------------------
conf "idle_timeout: 2s"
kill -HUP "$PID"
sleep 1
load hold 200 --hold 30
sleep 4
left=$(info clients connected_clients)
load_end
if [ "${left:-999}" -le 1 ]; then
	held "idle connections (200 as nobody, idle_timeout 2s): $left left after 4 s, closed idle: $(info stats closed_clients_idle)"
else
	broke "idle connections (200 as nobody, idle_timeout 2s): ${left:-?} still connected after 4 s"
fi

# --- 10: symlink in place of the socket, then SIGHUP -----------------------------------------
conf # a config every build reloads: the reload must succeed to reach the chmod
echo secret >"$FG_TMP/secret"
chmod 0600 "$FG_TMP/secret"
mv "$SOCK" "$FG_TMP/run/saved.sock"
ln -s "$FG_TMP/secret" "$SOCK"
mark=$(grep -c "config reloaded" "$FG_AGENT_LOG")
kill -HUP "$PID"
fg_wait_for -t 10 eval '[ "$(grep -c "config reloaded" "$FG_AGENT_LOG")" -gt '"$mark"' ]'
mode=$(stat -c %a "$FG_TMP/secret")
rm -f "$SOCK"
mv "$FG_TMP/run/saved.sock" "$SOCK"
if [ "$mode" = 600 ]; then
	held "chmod through a symlink: root-owned 0600 file still $mode after SIGHUP"
else
	broke "chmod through a symlink: root-owned 0600 file became $mode after SIGHUP"
fi

kill -0 "$PID" 2>/dev/null || broke "agent died during the attacks"
[ "$fails" -eq 0 ] && exit 0
exit 1
