#!/bin/bash
# make demo — a self-contained lab: three network namespaces joined by veth
# (client C, victim V running floodgated, attacker A), a bounded SYN flood
# from one address and from random spoofed addresses, and a legitimate
# client connecting throughout. Prints what was dropped and what got through,
# then removes everything it made. Documentation addresses only.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/netns/lib.sh"
. "$ROOT/tests/netns/agent.sh"

PORT=443
say() { printf '\n== %s\n' "$*"; }

fg_topo_3ns
cat >"$FG_TMP/demo.yaml" <<YAML
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
    global: { rate: 500, burst: 1000 }
    ban: { after: 3, window: 60s, for: 120s }
YAML
say "lab: client $FG_C_IP4 -> victim $FG_V_IP4_C | victim $FG_V_IP4_A <- attacker $FG_A_IP4"
sed 's/^/   /' "$FG_TMP/demo.yaml"
fg_serve $PORT
fg_agent_start "$FG_TMP/demo.yaml"
attached=$(sed -n 's/.*msg="attached to \([^"]*\)".* mode=\([a-z]*\).*/\1 (\2)/p' "$FG_AGENT_LOG" |
	paste -sd, - | sed 's/,/, /g')
say "floodgated is protecting the victim: $attached"

out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 1 --graceful)
say "the client connects once before any flood: $(fg_kv ok "$out")/1"

say "flood 1: 20000 SYNs from $FG_A_IP4 at 5000/s; the client connects 40 times meanwhile"
fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_A_IP4" \
	--count 20000 --pps 5000 --seconds 10 >"$FG_TMP/f1.out"
F1=$FG_LAST_PID
c1=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 40 --interval-ms 50)
fg_wait_pid "$F1" 20 || true
# This flood's drops, before the next one adds its own: the spoofed sources
# tracked before the rule is under attack are dropped by address and banned too.
d1=$(($(fg_stat source dropped) + $(fg_stat ban dropped)))

say "flood 2: 100000 SYNs from random spoofed sources in $FG_SPOOF4 and $FG_SPOOF6"
fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$FG_SPOOF4" \
	--count 50000 --pps 20000 --seconds 10 >"$FG_TMP/f2.out"
F2=$FG_LAST_PID
fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP6_A" --dport $PORT --src "$FG_SPOOF6" \
	--count 50000 --pps 20000 --seconds 10 >"$FG_TMP/f3.out"
F3=$FG_LAST_PID
# The global budget runs out within a moment of the flood's start.
attack_on() { [ "$(fg_rule_stat 2 attack)" = yes ]; }
attack=no
fg_wait_for -t 5 attack_on && attack=yes
c2=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 100 --interval-ms 50 --timeout-ms 3000)
fg_wait_pid "$F2" 20 || true
fg_wait_pid "$F3" 20 || true

say "what XDP did (floodctl stats)"
fg_ctl stats | awk 'NR == 1 || $2 + $3 > 0' | sed 's/^/   /'
say "per rule (floodctl rules; rule 2 = signaling)"
fg_ctl rules | sed 's/^/   /'
say "bans (floodctl list bans)"
fg_ctl list bans | sed 's/^/   /'
say "violations floodgated logged"
grep 'msg=violation' "$FG_AGENT_LOG" | head -5 | sed 's/^/   /'

say "result"
printf '   single-source flood: %s of 20000 SYNs dropped; client: %s/40 connects ok\n' \
	"$d1" "$(fg_kv ok "$c1")"
printf '   spoofed flood: %s SYNs refused by the global budget, %s of them answered with a SYN cookie instead of dropped (under attack: %s); client: %s/100 connects ok\n' \
	"$(fg_rule_stat 2 drop_global)" "$(fg_stat syn_cookie passed)" "$attack" "$(fg_kv ok "$c2")"
printf '   per-address states created: %s (a spoofed source gets one only before the rule is under attack)\n' \
	"$(fg_ctl count | awk '$1 == "src_state" { print $2 }')"
echo
