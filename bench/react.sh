#!/bin/bash
# bench/react.sh — how fast floodgate reacts, timed by bench/fgwatch polling
# the pinned counters (CLOCK_MONOTONIC, no sleeps in the measured path):
#   flood   -> first drop: first packet of a single-source flood at full speed
#              to the first per-address drop (the burst must be spent first);
#   XDP.BAN -> first drop: the command written to the socket to the first
#              packet of a running stream dropped as banned;
#   app ban -> first drop: the RL.AUTH.FAIL that reaches xdp_ban.after to
#              the first packet dropped as banned;
#   SIGHUP  -> new limit:  the signal to the first packet dropped under a
#              threshold the reloaded config lowered.
# Each is the median of RUNS, each run with a fresh source address.
#
#   bench/react.sh [--smoke] [--out DIR]     (root; writes DIR/react.csv, react.md)
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
RUNS=${RUNS:-7}
[ $SMOKE = 1 ] && RUNS=1
FGWATCH=${FGWATCH:-$BUILD/bench/fgwatch}
[ -x "$FGWATCH" ] || fg_fail "$FGWATCH missing: make bench builds it"
fg_require_cmd redis-cli
CSV=$OUT/react.csv
FLOOD_PORT=443 STREAM_PORT=8443 STREAM_PPS=20000
BURST=200

bench_topo
conf() { # STREAM_RATE STREAM_BURST
	cat <<YAML
sources: { attack_hold: 2s }
rules:
  - name: signaling
    proto: tcp
    ports: [$FLOOD_PORT]
    per_source: { rate: 100, burst: $BURST }
  - name: stream
    proto: tcp
    ports: [$STREAM_PORT]
    per_source: { rate: $1, burst: $2 }
    per_prefix: { rate: 10000000, burst: 10000000 }
    global: { rate: 10000000, burst: 10000000 }
policies:
  - name: login
    type: progressive
    xdp_ban: { after: 3, for: 60s }
YAML
}
conf 1000000 1000000 >"$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
bench_pin_napi

# stream SRC — a steady SYN stream (STREAM_PPS, bounded) from SRC; sets SPID.
stream() {
	fg_bg fg_in "$FG_A" taskset -c "$BENCH_ATT_CPU" "$FGNET" syn --dst "$FG_V_IP4_A" \
		--dport $STREAM_PORT --src "$1" --pps $STREAM_PPS --count $((STREAM_PPS * 6)) \
		--seconds 6 >/dev/null
	SPID=$FG_LAST_PID
}
# watch REASON ARGS... — fgwatch on this test's pins, pinned beside the attacker.
watch() {
	local reason=$1
	shift
	taskset -c "$BENCH_ATT_CPU" "$FGWATCH" --pin-dir "$FG_PIN_DIR" --reason "$reason" \
		--timeout-ms 4000 "$@"
}

echo "case,run,first_us,reply_us,drop_us,poll_us" >"$CSV"
row() { # CASE RUN LINE
	echo "$1,$2,$(fg_kv first_us "$3"),$(fg_kv reply_us "$3"),$(fg_kv drop_us "$3"),$(fg_kv poll_us "$3")" >>"$CSV"
}
for ((r = 1; r <= RUNS; r++)); do
	# flood -> first drop: a fresh source each run, so its burst is full.
	rm -f "$FG_TMP/ready"
	watch source --ready-file "$FG_TMP/ready" >"$FG_TMP/w.out" &
	wpid=$!
	fg_wait_file "$FG_TMP/ready" || fg_fail "fgwatch did not start"
	fg_in "$FG_A" taskset -c "$BENCH_ATT_CPU" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $FLOOD_PORT \
		--src "203.0.113.$((10 + r))" --count 20000 --seconds 2 >/dev/null
	wait "$wpid" || fg_fail "flood: no drop seen: $(<"$FG_TMP/w.out")"
	row flood "$r" "$(<"$FG_TMP/w.out")"

	# XDP.BAN -> first drop
	src=203.0.113.$((60 + r))
	stream "$src"
	out=$(watch ban --resp "$FG_SOCK" XDP.BAN "$src" 60) || fg_fail "XDP.BAN: no drop: $out"
	fg_stop "$SPID"
	[ "$(fg_kv reply "$out")" = +OK ] || fg_fail "XDP.BAN replied $(fg_kv reply "$out")"
	row xdp_ban "$r" "$out"

	# app feedback: the third RL.AUTH.FAIL bans
	src=203.0.113.$((110 + r))
	redis-cli -s "$FG_SOCK" RL.AUTH.FAIL login "$src" >/dev/null
	redis-cli -s "$FG_SOCK" RL.AUTH.FAIL login "$src" >/dev/null
	stream "$src"
	out=$(watch ban --resp "$FG_SOCK" RL.AUTH.FAIL login "$src") || fg_fail "app ban: no drop: $out"
	fg_stop "$SPID"
	row app_ban "$r" "$out"

	# SIGHUP -> new threshold: per_source on the stream port from 1M/s to 10/s.
	src=203.0.113.$((160 + r))
	conf 10 10 >"$FG_TMP/fg.yaml"
	stream "$src"
	out=$(watch source --signal "$FG_AGENT") || fg_fail "SIGHUP: no drop: $out"
	fg_stop "$SPID"
	row sighup "$r" "$out"
	# Back to the open config, and wait until the agent says it is in force.
	n=$(grep -c "config reloaded" "$FG_AGENT_LOG")
	conf 1000000 1000000 >"$FG_TMP/fg.yaml"
	kill -HUP "$FG_AGENT"
	fg_wait_for -t 10 bash -c "[ \$(grep -c 'config reloaded' '$FG_AGENT_LOG') -gt $((n)) ]" ||
		fg_fail "the agent did not reload"
done

med() { awk -F, -v c="$1" -v col="$2" 'NR > 1 && $1 == c { print $col / 1000 }' "$CSV" | bench_median; }
# A drop seen in the same poll as the first packet: below the resolution.
medp() { local m; m=$(med "$@"); [ "$m" = 0 ] && m="< $(med "$1" 6)"; echo "$m"; }
{
	bench_facts
	echo "- method: bench/fgwatch polls floodgate's pinned per-reason counters (one batch read, then 20 µs pauses) on CLOCK_MONOTONIC; streams are fgnet SYNs at $STREAM_PPS pps (one every $((1000000 / STREAM_PPS)) µs: the resolution of the ban and reload rows); median of $RUNS runs, a fresh source address each run"
	echo
	echo "| from | to | median ms | reply ms | poll interval ms |"
	echo "|---|---|---:|---:|---:|"
	echo "| first packet of a single-source flood at full speed | first drop (per-address limit, burst $BURST) | $(medp flood 5) | | $(med flood 6) |"
	echo "| XDP.BAN written to the socket | first packet dropped as banned | $(med xdp_ban 5) | $(med xdp_ban 4) | $(med xdp_ban 6) |"
	echo "| RL.AUTH.FAIL reaching xdp_ban.after (3) | first packet dropped as banned | $(med app_ban 5) | $(med app_ban 4) | $(med app_ban 6) |"
	echo "| SIGHUP with a lowered per_source | first packet dropped by the new limit | $(med sighup 5) | | $(med sighup 6) |"
} | tee "$OUT/react.md"
fg_pass "reaction-time benchmark"
