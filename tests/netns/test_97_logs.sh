#!/bin/bash
# floodgated's log is machine-readable and a flood cannot flood it:
# - every line parses as strict logfmt (logfmt.awk), or as JSON with
#   --log-format json (node's JSON.parse), and starts with ts, level, msg;
#   values that need it (a config path with a quote, a backslash and spaces)
#   are escaped;
# - under a flood from all 256 addresses of 203.0.113.0/24 plus random IPv6
#   sources of 2001:db8:ff00::/40, violation lines stay within
#   log.violation_lines_per_sec in every second, the rest are reported as a
#   suppressed count, and sources get summary lines (report=interval).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd node
PORT=443
LIMIT=5
fg_topo_3ns
# A directory name that must be quoted and escaped in logfmt and JSON.
WEIRD="$FG_TMP/we\"ird \\ dir"
mkdir -p "$WEIRD"
CONF=$WEIRD/fg.yaml
cat >"$CONF" <<YAML
# /32 for IPv4: the prefix limit must not spare the addresses (a prefix drop
# refunds the address token); IPv6 random sources all fall in one /40.
sources: { ipv4_prefix: 32, ipv6_prefix: 40 }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 1, burst: 1 }
    per_prefix: { rate: 50, burst: 50 }
    global: { rate: 1000000, burst: 1000000 }
log:
  level: info
  violation_lines_per_sec: $LIMIT
  summary_interval: 2s
YAML
fg_serve $PORT

# flood SECONDS — every address of FG_SPOOF4 (about 80 SYNs/s each) and random
# FG_SPOOF6 sources, bounded in count and time.
flood() {
	fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_SPOOF4" \
		--count $((20000 * $1)) --pps 20000 --seconds "$1" >"$FG_TMP/flood4.out"
	local f4=$FG_LAST_PID
	fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP6_A" --dport $PORT --src "$FG_SPOOF6" \
		--count $((5000 * $1)) --pps 5000 --seconds "$1" >"$FG_TMP/flood6.out"
	local f6=$FG_LAST_PID
	fg_wait_pid "$f4" $(($1 + 20)) || fg_fail "v4 flood generator failed"
	fg_wait_pid "$f6" $(($1 + 20)) || fg_fail "v6 flood generator failed"
	fg_log "flood v4: $(<"$FG_TMP/flood4.out"); v6: $(<"$FG_TMP/flood6.out")"
}

# --- logfmt, under a flood ---------------------------------------------------------
fg_agent_start "$CONF"
flood 6
sleep 2.5 # one more summary interval and suppressed report
fg_stop "$FG_AGENT" 5 || true
LOG=$FG_AGENT_LOG
fg_log "agent log: $(wc -l <"$LOG") lines; first violation lines:"
grep -m 5 "msg=violation " "$LOG" || true

out=$(awk -f "$(dirname "$0")/logfmt.awk" "$LOG") || fg_fail "not strict logfmt:"$'\n'"$out"
fg_ok "every one of $(wc -l <"$LOG") lines is logfmt with ts, level and msg first"
grep -qF "config=\"$FG_TMP/we\\\"ird \\\\ dir/fg.yaml\"" "$LOG" ||
	fg_fail "the config path is not quoted and escaped: $(grep -m1 'protecting ' "$LOG")"
fg_ok "a value with a quote, a backslash and spaces is quoted and escaped"

viol=$(grep -c "level=warn msg=violation source=" "$LOG" || true)
fg_assert_ge "$viol" "$LIMIT" "violation lines were written"
# Lines per wall-clock second (ts=YYYY-MM-DDTHH:MM:SS): the budget is per
# one-second window of the agent's own clock, which can straddle two of these
# seconds, so no second may hold more than LIMIT and no two seconds in a row
# more than 2 * LIMIT.
per_sec=$(grep "level=warn msg=violation source=" "$LOG" | cut -c4-22 | uniq -c | awk '{ print $1 }')
max=$(sort -n <<<"$per_sec" | tail -1)
fg_log "violation lines per second: $(tr '\n' ' ' <<<"$per_sec")"
fg_assert_le "$max" "$LIMIT" "no second has more than log.violation_lines_per_sec violation lines"
sup=$(grep 'msg="violation lines suppressed"' "$LOG" | sed -n 's/.* suppressed=\([0-9]*\).*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
fg_log "suppressed lines reported: $sup; lines: $(grep -c 'msg="violation lines suppressed"' "$LOG")"
fg_assert_gt "$sup" 250 "the lines over the budget are counted in 'violation lines suppressed'"
grep -q "msg=violation source=203\.0\.113\.[0-9]* rule=signaling scope=address reason=source .* action=dropped report=first events=1$" "$LOG" ||
	fg_fail "no first-sight line for an address of $FG_SPOOF4"
grep -q "msg=violation source=[0-9.]* rule=signaling scope=[a-z]* .* report=interval events=[0-9]*$" "$LOG" ||
	fg_fail "no summary line (report=interval)"
fg_ok "first sight logged at once, later events in summary lines"
grep -q "msg=violation source=2001:db8:ff00::/40 rule=signaling scope=prefix" "$LOG" ||
	fg_fail "no line for the IPv6 prefix flood"
fg_ok "the IPv6 random-source flood is reported as its prefix"

# --- JSON ------------------------------------------------------------------------
: >"$LOG"
fg_agent_start "$CONF" --log-format json
flood 3
sleep 2.5
fg_stop "$FG_AGENT" 5 || true
fg_log "json log: $(wc -l <"$LOG") lines, e.g. $(grep -m1 '"msg":"violation"' "$LOG")"
node -e '
const fs = require("fs");
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(l => l.length);
let bad = 0, viol = 0, weird = 0;
for (const [i, l] of lines.entries()) {
	let o;
	try { o = JSON.parse(l); } catch (e) { console.log(`line ${i + 1}: ${e.message}: ${l}`); bad++; continue; }
	const k = Object.keys(o);
	if (k[0] !== "ts" || k[1] !== "level" || k[2] !== "msg" ||
	    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.ts) ||
	    !["error", "warn", "info", "debug"].includes(o.level) || typeof o.msg !== "string" || !o.msg) {
		console.log(`line ${i + 1}: no ts, level, msg first: ${l}`); bad++;
	}
	if (o.msg === "violation") {
		viol++;
		if (typeof o.new_flows !== "number" || typeof o.source !== "string" || !o.scope)
			{ console.log(`line ${i + 1}: violation fields: ${l}`); bad++; }
	}
	if (o.config === process.argv[2]) weird++;
}
if (!lines.length || !viol || !weird) { console.log(`lines ${lines.length} violations ${viol} weird path ${weird}`); bad++; }
process.exit(bad ? 1 : 0);
' "$LOG" "$CONF" || fg_fail "the --log-format json log does not parse"
fg_ok "every line of --log-format json parses, ts, level and msg first, the path unescaped intact"
fg_pass "logs are logfmt / JSON, and a flood stays within the line budget"
