#!/bin/bash
# Red team, bans and state (issue 10 items 9, 11, 13, 15), as a local user
# with socket access and as an operator's mistakes would have it:
#   app_bans    nobody asks the agent to ban the host, 0.0.0.0, broadcast;
#               an app fills the ban map, then root bans, then the program bans
#   vouch       nobody vouches (XDP.VOUCH, RL.AUTH.OK ... ADDR) to get past the
#               global budget under attack (issue 20)
#   pin_dir     a pin dir pre-created by nobody (0777); a second agent on the pins
#   full_list   a 65,536-entry deny list replaced by another on reload
#   policy_lru  1.1 M keys of a budget policy against a login policy's state
# One HELD/BROKE line each with figures; exit 0 all held, 1 one broke, 249 cannot run.
set -u
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

fg_require_root
fg_require_cmd redis-cli setpriv timeout
PY=/usr/bin/python3
[ -x "$PY" ] || fg_skip "needs /usr/bin/python3 (runnable by nobody)"
[ -x "$FLOODGATED" ] || fg_skip "$FLOODGATED missing: run make"
fg_topo_3ns
chmod 0711 "$FG_TMP"
install -m 0644 "$FG_ROOT/tests/netns/resp_pipe.py" "$FG_TMP/resp_pipe.py"
broke=0
held() { echo "HELD $*"; }
broken() {
	echo "BROKE $*"
	broke=1
}
as() { # as USER CMD...
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}
pipe() { "$PY" "$FG_TMP/resp_pipe.py" --timeout 120 "$@"; }
nbans() { fg_ctl list bans 2>/dev/null | grep -c "${1:-.}" || true; }
stop_agent() { [ -n "$FG_AGENT" ] && fg_stop "$FG_AGENT" 20 >/dev/null 2>&1; FG_AGENT=; }

# --- app_bans (item 9) ---------------------------------------------------------------
cat >"$FG_TMP/fg.yaml" <<YAML
socket: { mode: "0666" }
rules:
  - name: signaling
    proto: tcp
    ports: [443]
    per_source: { rate: 5, burst: 10 }
    ban: { after: 1, window: 10s, for: 1m }
policies:
  - name: login
    type: progressive
    xdp_ban: { after: 1, for: 1h }
    vouch_on_success: 10m
  - name: ai_tokens
    type: budget
    amount: 1000
YAML
fg_agent_start "$FG_TMP/fg.yaml"
for addr in "$FG_V_IP4_A" 0.0.0.0 255.255.255.255; do
	for i in $(seq 10); do echo "RL.AUTH.FAIL login $addr"; done
done | as nobody "$PY" "$FG_TMP/resp_pipe.py" "$FG_SOCK" >/dev/null
n=$(nbans)
if [ "$n" = 0 ]; then
	held "app_bans_nobody: 30 x RL.AUTH.FAIL as nobody for $FG_V_IP4_A (own), 0.0.0.0, 255.255.255.255: $n bans"
else
	broken "app_bans_nobody: 30 x RL.AUTH.FAIL as nobody for $FG_V_IP4_A (own), 0.0.0.0, 255.255.255.255: $n bans ($(fg_ctl list bans | awk '{print $1}' | tr '\n' ' '))"
fi

# nobody vouches for its own flood sources, directly and through a login success.
for i in $(seq 1 20); do
	echo "XDP.VOUCH 203.0.113.$i 3600"
	echo "RL.AUTH.OK login user:$i ADDR 203.0.113.$((i + 20))"
done | as nobody "$PY" "$FG_TMP/resp_pipe.py" "$FG_SOCK" >/dev/null
v=0
for i in $(seq 1 40); do fg_ctl verified "203.0.113.$i" >/dev/null 2>&1 && v=$((v + 1)); done
if [ "$v" = 0 ]; then
	held "vouch_nobody: 20 x XDP.VOUCH and 20 x RL.AUTH.OK ... ADDR (vouch_on_success) as nobody: $v verified"
else
	broken "vouch_nobody: 20 x XDP.VOUCH and 20 x RL.AUTH.OK ... ADDR (vouch_on_success) as nobody: $v verified"
fi

# An app (root's socket client) asks for 70,000 distinct bans, then root bans by hand.
t0=$(date +%s%N)
for i in $(seq 1 70000); do
	printf 'RL.AUTH.FAIL login 2001:db8:ff00::%x:%x\n' $((i / 65536)) $((i % 65536))
done | pipe "$FG_SOCK" >"$FG_TMP/fill.out"
ms=$((($(date +%s%N) - t0) / 1000000))
apps=$(fg_ctl list bans | grep -c ' app ' || true)
total=$(nbans)
out=$(redis-cli -s "$FG_SOCK" XDP.BAN 198.51.100.200 600 2>&1)
fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport 443 --src 203.0.113.9 --count 300 \
	--seconds 5 >/dev/null 2>&1
sleep 1
said=$(grep 'source=203.0.113.9 ' "$FG_AGENT_LOG" | grep -o 'action=[a-z_]*' | sort -u | tr '\n' ' ')
inmap=$(nbans '^203\.0\.113\.9 ')
figs="70000 app ban requests in ${ms} ms: app bans $apps, map $total/65536; root XDP.BAN: $out; program's ban of 203.0.113.9: log '${said% }', in map $inmap"
if [ "$out" = OK ] && { [ "$inmap" = 1 ] || ! echo "$said" | grep -q 'action=banned'; }; then
	held "app_bans_fill: $figs"
else
	broken "app_bans_fill: $figs"
fi

# --- policy_lru (item 15) --------------------------------------------------------------
for i in $(seq 8); do echo "RL.AUTH.FAIL login alice"; done | pipe "$FG_SOCK" >/dev/null
redis-cli -s "$FG_SOCK" RL.BLOCK login mallory 300 >/dev/null
t0=$(date +%s%N)
"$PY" -c 'import sys
w = sys.stdout.write
for i in range(1100000): w("RL.CHECK ai_tokens u%d\n" % i)' | pipe "$FG_SOCK" >"$FG_TMP/lru.out"
ms=$((($(date +%s%N) - t0) / 1000000))
fails=$(redis-cli -s "$FG_SOCK" RL.AUTH.CHECK login alice | sed -n 2p)
wait_ms=$(redis-cli -s "$FG_SOCK" RL.AUTH.CHECK login mallory | sed -n 1p)
figs="1.1 M budget keys in ${ms} ms ($(cat "$FG_TMP/lru.out")); alice's failures $fails/8, mallory's block wait ${wait_ms} ms"
if [ "$fails" = 8 ] && [ "${wait_ms:-0}" -gt 0 ]; then
	held "policy_lru: $figs"
else
	broken "policy_lru: $figs"
fi
stop_agent

# --- full_list (item 13) ---------------------------------------------------------------
list() { # list FILE TAG
	awk -v tag="$2" 'BEGIN { print "persist: true"; print "deny:"
		for (i = 0; i < 65536; i++) printf "  - 2001:db8:%s::%x:%x\n", tag, int(i / 65536), i % 65536 }' >"$1"
}
list "$FG_TMP/a.yaml" a
list "$FG_TMP/b.yaml" b
cp "$FG_TMP/a.yaml" "$FG_TMP/list.yaml"
fg_agent_start "$FG_TMP/list.yaml"
cp "$FG_TMP/b.yaml" "$FG_TMP/list.yaml"
mark=$(wc -l <"$FG_AGENT_LOG")
kill -HUP "$FG_AGENT"
fg_wait_for -t 60 sh -c "tail -n +$((mark + 1)) '$FG_AGENT_LOG' | grep -qE 'config reloaded|reload rejected'"
reload=$(tail -n +$((mark + 1)) "$FG_AGENT_LOG" | grep -oE 'config reloaded|reload rejected.*' | head -1 |
	sed 's/, running config kept" error="/: /; s/"$//' | cut -c1-120)
a_left=$(fg_ctl list deny | grep -c '^2001:db8:a::' || true)
b_in=$(fg_ctl list deny | grep -c '^2001:db8:b::' || true)
stop_agent
cp "$FG_TMP/a.yaml" "$FG_TMP/list.yaml"
rc=0
timeout 60 nsenter --net="/run/netns/$FG_V" -- "$FLOODGATED" -c "$FG_TMP/list.yaml" \
	-i "$FG_V_IF_C" -i "$FG_V_IF_A" --pin-dir "$FG_PIN_DIR" --socket "$FG_TMP/l2.sock" \
	>"$FG_TMP/restart.log" 2>&1 &
pid=$!
FG_PIDS+=("$pid")
fg_wait_for -t 30 sh -c "grep -q 'protecting ' '$FG_TMP/restart.log' || ! kill -0 $pid" || true
kill -0 $pid 2>/dev/null || { wait $pid; rc=$?; }
a_after=$(fg_ctl list deny | grep -c '^2001:db8:a::' || true)
fg_stop "$pid" 20 >/dev/null 2>&1
figs="65536 -> 65536 deny entries: reload '${reload:-none}', old left $a_left, new in $b_in; persist restart rc $rc, list a in $a_after/65536"
if [ "$reload" = "config reloaded" ] && [ "$a_left" = 0 ] && [ "$b_in" = 65536 ] &&
	[ "$rc" = 0 ] && [ "$a_after" = 65536 ]; then
	held "full_list: $figs"
else
	broken "full_list: $figs"
fi
# Leave no persisted pins (persist: true) for the next attack: unpinning the
# links detaches XDP from this test's interfaces.
rm -f "$FG_PIN_DIR"/* 2>/dev/null

# --- pin_dir (item 11) -------------------------------------------------------------------
printf 'rules:\n  - { name: s, proto: tcp, ports: [443], per_source: { rate: 5, burst: 10 } }\n' \
	>"$FG_TMP/pin.yaml"
run2() { # run2 LOG: an agent on FG_PIN_DIR for at most 10 s; prints its exit code
	local rc=0
	timeout -s TERM 10 nsenter --net="/run/netns/$FG_V" -- "$FLOODGATED" -c "$FG_TMP/pin.yaml" \
		-i "$FG_V_IF_C" -i "$FG_V_IF_A" --pin-dir "$FG_PIN_DIR" --socket "$FG_TMP/p2.sock" \
		>"$1" 2>&1 || rc=$?
	echo "$rc"
}
chown nobody "$FG_PIN_DIR"
chmod 0777 "$FG_PIN_DIR"
rc=$(run2 "$FG_TMP/nobody.log")
chown root "$FG_PIN_DIR"
chmod 0700 "$FG_PIN_DIR"
if [ "$rc" != 0 ] && [ "$rc" != 124 ]; then
	held "pin_dir_foreign: agent on a pin dir owned by nobody, mode 0777: refused (rc $rc): $(grep -o 'pin directory [^"]*' "$FG_TMP/nobody.log" | head -1 | cut -c1-90)"
else
	broken "pin_dir_foreign: agent on a pin dir owned by nobody, mode 0777: accepted (ran until stopped, rc $rc)"
fi
fg_agent_start "$FG_TMP/pin.yaml"
before=$(ls "$FG_PIN_DIR" | wc -l)
prog=$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")
rc=$(run2 "$FG_TMP/second.log")
after=$(ls "$FG_PIN_DIR" | wc -l)
prog2=$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")
figs="second agent rc $rc; pins $before -> $after; XDP prog $prog -> ${prog2:-none}"
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$after" = "$before" ] && [ "$prog2" = "$prog" ]; then
	held "pin_dir_second_agent: $figs"
else
	broken "pin_dir_second_agent: $figs"
fi
stop_agent
exit $broke
