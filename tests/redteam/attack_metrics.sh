#!/bin/bash
# Red team, metrics endpoint (issue 10 item 14): a network peer that can
# reach metrics.listen. Attacks: slowloris with 70 and 1000 connections (a
# header line a second), oversized headers, 1000 idle connections. Each
# prints HELD/BROKE with /healthz's answers and latency while it lasts, how
# the attacking connections ended, and the agent's RSS.
set -u
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

command -v curl >/dev/null && command -v python3 >/dev/null || fg_skip "needs curl and python3"
fg_topo_3ns
SLOW="$FG_ROOT/tests/netns/slowloris.py"
URL=http://127.0.0.1:10150
BROKE=0
held() { printf 'HELD %s\n' "$*"; }
broke() {
	printf 'BROKE %s\n' "$*"
	BROKE=1
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$FG_AGENT/status" 2>/dev/null || echo 0; }
printf 'metrics: { listen: "127.0.0.1:10150" }\n' >"$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
healthy() { fg_in "$FG_V" curl -sf -o /dev/null --max-time 1 "$URL/healthz"; }
fg_wait_for -t 5 healthy || fg_fail "/healthz never answered"

# probes N: N GETs of /healthz and /metrics, 0.3 s apart; sets BAD and WORST
probes() {
	local i out path
	BAD=0
	WORST=0
	for ((i = 0; i < $1; i++)); do
		for path in /healthz /metrics; do
			out=$(fg_in "$FG_V" curl -s -o /dev/null -w '%{http_code} %{time_total}' \
				--max-time 1 "$URL$path" || true)
			[ "${out% *}" = 200 ] || BAD=$((BAD + 1))
			WORST=$(awk -v a="$WORST" -v b="${out#* }" 'BEGIN { print (b + 0 > a) ? b + 0 : a }')
		done
		sleep 0.3
	done
}

base=$(fg_in "$FG_V" curl -s -o /dev/null -w '%{time_total}' --max-time 1 "$URL/healthz")

# slowloris N SECONDS: hold N slow connections, probe meanwhile
slowloris() {
	local n=$1 rss0 rss1 pid res
	rss0=$(rss_kb)
	rm -f "$FG_TMP/ready"
	fg_in "$FG_V" python3 "$SLOW" 127.0.0.1 10150 "$n" 9 "$FG_TMP/ready" >"$FG_TMP/slow.out" &
	pid=$!
	fg_wait_file "$FG_TMP/ready" 30
	sleep 1
	probes 6
	rss1=$(rss_kb)
	wait "$pid"
	res=$(cat "$FG_TMP/slow.out")
	local fig="$n slow clients ($res): /healthz+/metrics $BAD of 12 failed, slowest ${WORST} s (idle ${base} s), RSS ${rss0}->${rss1} kB"
	if [ "$BAD" = 0 ] && awk -v w="$WORST" 'BEGIN { exit !(w < 1) }' &&
		[ "$(fg_kv closed_by_server "$res")" = "$(fg_kv opened "$res")" ]; then
		held "slowloris_$n: $fig"
	else
		broke "slowloris_$n: $fig"
	fi
}
slowloris 70
slowloris 1000

# Oversized headers: 200 requests with a 64 KiB header each, 20 at a time
rss0=$(rss_kb)
big=$(head -c 65536 /dev/zero | tr '\0' a)
codes=$(for i in $(seq 1 10); do
	for j in $(seq 1 20); do
		fg_in "$FG_V" curl -s -o /dev/null -w '%{http_code}\n' --max-time 3 \
			-H "X-Big: $big" "$URL/metrics" &
	done
	wait
done | sort | uniq -c | awk '{ printf "%s x%s ", $2, $1 }')
probes 3
rss1=$(rss_kb)
fig="200 requests with a 64 KiB header: answers ${codes}; then /healthz+/metrics $BAD of 6 failed, slowest ${WORST} s; RSS ${rss0}->${rss1} kB"
if [ "$BAD" = 0 ] && [ $((rss1 - rss0)) -lt 20480 ] && ! echo "$codes" | grep -q '^200 '; then
	held "oversized_headers: $fig"
else
	broke "oversized_headers: $fig"
fi

# 1000 idle connections (connect, send nothing) for 12 s
rss0=$(rss_kb)
fg_in "$FG_V" python3 - "$FG_TMP/idle.ready" >"$FG_TMP/idle.out" <<'PY' &
import socket, sys, time, select
conns, t0 = {}, time.monotonic()
for _ in range(1000):
    if time.monotonic() - t0 > 15:
        break
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", 10150))
        conns[s] = time.monotonic()
    except OSError:
        s.close()
opened = len(conns)
open(sys.argv[1], "w").close()
end, held = time.monotonic() + 12, []
while conns and time.monotonic() < end:
    r, _, _ = select.select(list(conns), [], [], 0.5)
    for s in r:
        if not s.recv(64):
            held.append(time.monotonic() - conns.pop(s))
            s.close()
print("opened=%d closed_by_server=%d max_held_s=%.1f" % (opened, len(held), max(held) if held else 12))
PY
ipid=$!
fg_wait_file "$FG_TMP/idle.ready" 30
sleep 1
probes 6
wait "$ipid"
rss1=$(rss_kb)
res=$(cat "$FG_TMP/idle.out")
fig="1000 idle connections ($res): /healthz+/metrics $BAD of 12 failed, slowest ${WORST} s; RSS ${rss0}->${rss1} kB"
if [ "$BAD" = 0 ] && [ "$(fg_kv closed_by_server "$res")" = "$(fg_kv opened "$res")" ]; then
	held "idle_connections: $fig"
else
	broke "idle_connections: $fig"
fi
exit $BROKE
