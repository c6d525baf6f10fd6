#!/bin/bash
# Red team, config file (issue 10 item 12): a local user who can write the
# config path (or an operator's mistake) against a running agent. Attacks:
# a FIFO at the path (SIGHUP and --check-config), 100k nested "[", an alias
# bomb, a huge file and /dev/zero, and a SIGHUP storm while the file changes.
# Each prints HELD/BROKE with its figures; a fresh agent per attack, so one
# that broke does not spoil the next.
set -u
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

command -v redis-cli >/dev/null && command -v python3 >/dev/null ||
	fg_skip "needs redis-cli and python3"
fg_topo_3ns
CONF=$FG_TMP/fg.yaml
PING_LAT="$FG_ROOT/tests/netns/ping_latency.py"
BROKE=0

held() { printf 'HELD %s\n' "$*"; }
broke() {
	printf 'BROKE %s\n' "$*"
	BROKE=1
}
now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$FG_AGENT/status" 2>/dev/null || echo 0; }
pong() { [ "$(timeout "${1:-2}" redis-cli -s "$FG_SOCK" PING 2>/dev/null)" = PONG ]; }
rejections() { grep -c 'reload rejected' "$FG_AGENT_LOG" 2>/dev/null || true; }
rejections_gt() { [ "$(rejections)" -gt "$1" ]; }
# gen N: a valid config whose one policy is gN, replaced atomically.
gen() {
	printf 'policies:\n  - name: g%s\n    type: window\n    limits: [ { count: 9, per: 1m } ]\n' \
		"$1" >"$CONF.tmp"
	mv -f "$CONF.tmp" "$CONF"
}
has_policy() { ! timeout 2 redis-cli -s "$FG_SOCK" RL.CHECK "$1" k 2>&1 | grep -q ERR; }
fresh_agent() {
	[ -n "$FG_AGENT" ] && fg_stop "$FG_AGENT" 3
	rm -f "$CONF"
	gen 1
	fg_agent_start "$CONF"
}
# after_hup LIMIT_S: ms until one more rejection is logged (or LIMIT_S*1000)
after_hup() {
	local before t0 limit=$1
	before=$(rejections)
	t0=$(now_ms)
	kill -HUP "$FG_AGENT"
	fg_wait_for -t "$limit" rejections_gt "$before" >/dev/null 2>&1 || true
	echo $(($(now_ms) - t0))
}
# unblock: an old agent stuck in open() on the FIFO gets a writer and EOF
unblock_fifo() { [ -p "$CONF" ] && timeout 2 sh -c ": >'$CONF'" 2>/dev/null || true; }
fg_on_exit unblock_fifo

# 1. FIFO + SIGHUP
fresh_agent
rm -f "$CONF"
mkfifo "$CONF"
rss0=$(rss_kb)
before=$(rejections)
t0=$(now_ms)
kill -HUP "$FG_AGENT"
ping_ok=no
pong 3 && ping_ok=yes
fg_wait_for -t 5 rejections_gt "$before" >/dev/null 2>&1 || true
ms=$(($(now_ms) - t0))
if [ "$(rejections)" -gt "$before" ] && [ $ping_ok = yes ] && has_policy g1; then
	held "fifo_sighup: refused in ${ms} ms, PING answered during it, running config kept"
else
	broke "fifo_sighup: no rejection after ${ms} ms (limit 5 s), PING answered: $ping_ok"
fi
unblock_fifo

# 2. FIFO + --check-config
t0=$(now_ms)
timeout 10 "$FLOODGATED" --check-config -c "$CONF" >"$FG_TMP/check.out" 2>&1 &
cpid=$!
fg_wait_for -t 2 sh -c "! kill -0 $cpid" >/dev/null 2>&1
ms=$(($(now_ms) - t0))
unblock_fifo # an old binary waits for a writer
wait "$cpid"
rc=$?
if grep -q 'not a regular file (fifo)' "$FG_TMP/check.out" && [ "$ms" -lt 1500 ]; then
	held "fifo_check_config: exit $rc in ${ms} ms: $(head -1 "$FG_TMP/check.out")"
else
	broke "fifo_check_config: still waiting for a writer after ${ms} ms (then released; exit $rc)"
fi
rm -f "$CONF"
gen 1

# 3. 100k nested "[" on SIGHUP, PING latency meanwhile
fresh_agent
python3 -c 'print("[" * 100000)' >"$CONF"
python3 "$PING_LAT" "$FG_SOCK" 4 >"$FG_TMP/ping.out" &
ppid=$!
sleep 0.3
ms=$(after_hup 30)
wait "$ppid"
ping=$(cat "$FG_TMP/ping.out")
t0=$(now_ms)
"$FLOODGATED" --check-config -c "$CONF" >/dev/null 2>&1
check_ms=$(($(now_ms) - t0))
max=$(fg_kv max_ms "$ping")
errs=$(fg_kv errors "$ping")
if [ "$ms" -lt 2000 ] && awk -v m="$max" 'BEGIN { exit !(m < 500) }' && [ "$errs" = 0 ]; then
	held "deep_nesting: 100k '[' refused in ${ms} ms after SIGHUP (--check-config ${check_ms} ms); PING meanwhile $ping"
else
	broke "deep_nesting: 100k '[' refused in ${ms} ms after SIGHUP (--check-config ${check_ms} ms); PING meanwhile $ping"
fi

# 4. Alias bomb: 9 levels of 10 aliases each (10^9 if expanded), under deny:
fresh_agent
{
	echo 'x0: &a0 [203.0.113.1/32]'
	for i in 1 2 3 4 5 6 7 8; do
		p=$((i - 1))
		printf 'x%d: &a%d [' "$i" "$i"
		for j in 1 2 3 4 5 6 7 8 9; do printf '*a%d, ' "$p"; done
		printf '*a%d]\n' "$p"
	done
	printf 'deny: ['
	for j in $(seq 1 1500); do printf '*a8, '; done
	printf '*a8]\n'
} >"$CONF"
rss0=$(rss_kb)
ms=$(after_hup 30)
rss1=$(rss_kb)
why=$(grep 'reload rejected' "$FG_AGENT_LOG" | tail -1 | sed 's/.*error="\([^"]*\)".*/\1/')
if [ "$ms" -lt 2000 ] && pong && [ $((rss1 - rss0)) -lt 51200 ]; then
	held "alias_bomb: refused in ${ms} ms, RSS ${rss0}->${rss1} kB: $why"
else
	broke "alias_bomb: ${ms} ms, RSS ${rss0}->${rss1} kB: $why"
fi

# 5. A huge file (64 MiB) and /dev/zero: refused from their size/kind, nothing read
head -c $((64 << 20)) /dev/zero | tr '\0' '#' >"$FG_TMP/huge.yaml"
t0=$(now_ms)
out=$("$FLOODGATED" --check-config -c "$FG_TMP/huge.yaml" 2>&1)
huge_ms=$(($(now_ms) - t0))
t0=$(now_ms)
out0=$(timeout 10 "$FLOODGATED" --check-config -c /dev/zero 2>&1)
zero_ms=$(($(now_ms) - t0))
rm -f "$FG_TMP/huge.yaml"
# the largest legal-size slow file: 8 MB, 500k values, on SIGHUP with PING meanwhile
python3 -c 'print("x: [" + ", ".join(["203.0.113.7/32"] * 500000) + "]")' >"$CONF"
python3 "$PING_LAT" "$FG_SOCK" 4 >"$FG_TMP/ping.out" &
ppid=$!
sleep 0.3
big_ms=$(after_hup 30)
wait "$ppid"
ping=$(cat "$FG_TMP/ping.out")
max=$(fg_kv max_ms "$ping")
if [ "$huge_ms" -lt 1000 ] && [ "$zero_ms" -lt 1000 ] &&
	awk -v m="$max" 'BEGIN { exit !(m < 250) }'; then
	held "huge_file: 64 MiB refused in ${huge_ms} ms, /dev/zero in ${zero_ms} ms ($out0); 8 MB slow file refused in ${big_ms} ms, PING meanwhile $ping"
else
	broke "huge_file: 64 MiB refused in ${huge_ms} ms, /dev/zero in ${zero_ms} ms ($out0); 8 MB slow file refused in ${big_ms} ms, PING meanwhile $ping"
fi

# 6. SIGHUP storm: 200 in ~10 s while the file changes; the last file must win
fresh_agent
python3 "$PING_LAT" "$FG_SOCK" 11 >"$FG_TMP/ping.out" &
ppid=$!
rss0=$(rss_kb)
for i in $(seq 2 201); do
	gen "$i"
	kill -HUP "$FG_AGENT"
	sleep 0.05
done
fg_wait_for -t 10 has_policy g201 >/dev/null 2>&1
last=no
has_policy g201 && ! has_policy g200 && last=yes
wait "$ppid"
ping=$(cat "$FG_TMP/ping.out")
rss1=$(rss_kb)
alive=no
kill -0 "$FG_AGENT" 2>/dev/null && alive=yes
if [ $last = yes ] && [ $alive = yes ] && [ "$(fg_kv errors "$ping")" = 0 ]; then
	held "sighup_storm: 200 SIGHUPs with 200 file changes: last file in force, agent alive, RSS ${rss0}->${rss1} kB, PING meanwhile $ping"
else
	broke "sighup_storm: last file in force: $last, agent alive: $alive, RSS ${rss0}->${rss1} kB, PING meanwhile $ping"
fi

exit $BROKE
