#!/bin/bash
# The live views: `floodctl watch` gets violation events pushed by the agent
# during a flood (text and --json), and `floodctl top --watch`, drawn in a
# real pseudo-terminal (tmux), shows attack state and drop rates and puts the
# flooding source first.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd node tmux
PORT=443
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
YAML
fg_serve $PORT
fg_agent_start "$FG_TMP/fg.yaml"
fg_wait_for -t 10 test -S "$FG_SOCK" || fg_fail "no socket at $FG_SOCK"
ctl() { "$FLOODCTL" -s "$FG_SOCK" "$@"; }

# flood SRC SECONDS — a bounded SYN flood from A.
flood() {
	fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$1" \
		--count $((3000 * $2)) --pps 3000 --seconds "$2" >"$FG_TMP/flood.out"
	FLOODER=$FG_LAST_PID
}

# --- floodctl top --watch in a pseudo-terminal -------------------------------------------
TMUX_SOCK="fgt-$$"
fg_on_exit "tmux -L $TMUX_SOCK kill-server 2>/dev/null"
# Some normal traffic from the client, so the table has more than one row.
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 5 --interval-ms 10)
fg_assert_eq "$(fg_kv ok "$out")" 5 "the client connects"
flood "$FG_A_IP4" 6
tmux -L "$TMUX_SOCK" new-session -d -x 132 -y 40 \
	"FLOODGATE_SOCKET='$FG_SOCK' '$FLOODCTL' top --watch --interval 0.5 -n 5; sleep 30"
# screen_ready — the pane shows a second refresh (rates) and the table.
_screen_ready() {
	tmux -L "$TMUX_SOCK" capture-pane -p >"$FG_TMP/screen.txt" 2>/dev/null &&
		grep -q "^drops: .*source" "$FG_TMP/screen.txt" &&
		grep -q "^ADDRESS " "$FG_TMP/screen.txt"
}
fg_wait_for -t 10 _screen_ready || fg_fail "top --watch screen never complete:"$'\n'"$(cat "$FG_TMP/screen.txt")"
fg_log "screen:"$'\n'"$(cat "$FG_TMP/screen.txt")"
head -1 "$FG_TMP/screen.txt" | grep -q "^floodctl top: 5 busiest by new flows, every 0.5s, .* (q or Ctrl-C quits)$" ||
	fg_fail "no title line on a terminal"
[ "$(grep -c '^floodctl top:' "$FG_TMP/screen.txt")" = 1 ] || fg_fail "the screen is not redrawn in place"
grep -q "^attack:  none$" "$FG_TMP/screen.txt" || fg_fail "no attack state"
grep -Eq "^rates:   passed [0-9.]+k? pkt/s  dropped [0-9.]+k? pkt/s$" "$FG_TMP/screen.txt" ||
	fg_fail "no packet rates"
first=$(awk '/^ADDRESS / { getline; print $1; exit }' "$FG_TMP/screen.txt")
fg_assert_eq "$(grep -c "^$FG_C_IP4 " "$FG_TMP/screen.txt")" 1 "the client is listed too"
[ "$first" = "$FG_A_IP4" ] || fg_fail "the flooding source is not first: '$first'"
fg_ok "top --watch in a terminal: title, attack state, drops/s by reason, the flooder ($FG_A_IP4) first"
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
tmux -L "$TMUX_SOCK" kill-server

# --- floodctl watch ---------------------------------------------------------------
fg_bg ctl watch -n 3 >"$FG_TMP/watch.txt" 2>"$FG_TMP/watch.err"
W1=$FG_LAST_PID
fg_bg ctl --json watch -n 3 >"$FG_TMP/watch.json" 2>"$FG_TMP/watch.json.err"
W2=$FG_LAST_PID
_subscribed() { ctl status --json >/dev/null && [ "$("$FLOODCTL" -s "$FG_SOCK" --json status |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).watch.watch_subscribers))')" = 2 ]; }
fg_wait_for -t 10 _subscribed || fg_fail "the two watchers never subscribed"
fg_ok "two watchers subscribed (INFO watch)"
flood 203.0.113.7 4
w1=0 w2=0
fg_wait_pid "$W1" 15 || w1=$?
fg_wait_pid "$W2" 15 || w2=$?
fg_wait_pid "$FLOODER" 20 || fg_fail "flood generator failed"
fg_log "watch:"$'\n'"$(cat "$FG_TMP/watch.txt")"
fg_assert_eq "$w1" 0 "floodctl watch -n 3 exits 0 after 3 events"
fg_assert_eq "$w2" 0 "floodctl --json watch -n 3 exits 0 after 3 events"
fg_assert_eq "$(grep -cE '^[0-9:.]{12}  203\.0\.113\.7 +signaling +address +source +new_flows=[0-9]+ dropped=[0-9]+ violations=[0-9]+  (dropped|banned)$' "$FG_TMP/watch.txt")" 3 \
	"three event lines for the flooding source, with rule, level, reason, counters and action"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(l => l);
if (lines.length !== 3) { console.log(`${lines.length} lines`); process.exit(1); }
for (const l of lines) {
	const o = JSON.parse(l);
	for (const k of ["ts", "source", "rule", "level", "reason", "new_flows", "dropped", "violations", "action"])
		if (!(k in o)) { console.log(`no ${k}: ${l}`); process.exit(1); }
	if (o.source !== "203.0.113.7" || o.rule !== "signaling" || typeof o.dropped !== "number" ||
	    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.ts)) { console.log(`bad: ${l}`); process.exit(1); }
}' "$FG_TMP/watch.json" || fg_fail "watch --json: $(cat "$FG_TMP/watch.json")"
fg_ok "watch --json: one JSON object per event with every field"
fg_wait_for -t 5 bash -c "\"$FLOODCTL\" -s \"$FG_SOCK\" status --json | grep -q '\"watch_subscribers\":0'" ||
	fg_fail "subscribers not released after the watchers exited"
fg_ok "subscriptions end with their connections"

fg_pass "floodctl watch streams events; top --watch is a live screen"
