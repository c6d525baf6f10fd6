#!/bin/bash
# Slow HTTP clients do not starve the metrics endpoint (issue 10 item 14):
# 70 and then 500 connections that send a header line a second are held
# while /healthz and /metrics keep answering within a second, and each slow
# connection is closed at metrics.timeout (5 s), whatever it sends. An
# oversized header gets 431. libmicrohttpd's start prints no line of its own.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd curl python3
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
metrics: { listen: "127.0.0.1:10150" }
YAML
# -v: MHD's own messages are logged at debug level
fg_agent_start "$FG_TMP/fg.yaml" -v
URL=http://127.0.0.1:10150
fg_wait_for -t 5 sh -c "nsenter --net=/run/netns/$FG_V -- curl -sf -o /dev/null $URL/healthz" ||
	fg_fail "/healthz never answered"

! grep -q 'MHD_OPTION_EXTERNAL_LOGGER' "$FG_AGENT_LOG" ||
	fg_fail "libmicrohttpd printed its logger warning at start"
fg_ok "no libmicrohttpd line about MHD_OPTION_EXTERNAL_LOGGER at start"

# probe PATH: "code seconds" of one GET (1 s at most)
probe() {
	fg_in "$FG_V" curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 1 \
		"$URL$1" || true
}
# under N: hold N slow connections for 9 s once all are connected, probe
# while they are held.
under() {
	local n=$1 worst=0 bad=0 out code t i
	fg_in "$FG_V" python3 "$(dirname "$0")/slowloris.py" 127.0.0.1 10150 "$n" 9 \
		"$FG_TMP/slow.$n.ready" >"$FG_TMP/slow.$n" &
	local pid=$!
	fg_on_exit "kill $pid 2>/dev/null || true"
	fg_wait_file "$FG_TMP/slow.$n.ready" 30 || fg_fail "$n slow clients could not connect"
	sleep 1 # a header byte more on each
	for i in 1 2 3 4 5 6; do
		for path in /healthz /metrics; do
			out=$(probe $path)
			code=${out% *}
			t=${out#* }
			[ "$code" = 200 ] || bad=$((bad + 1))
			worst=$(awk -v a="$worst" -v b="${t:-1}" 'BEGIN { print (b > a) ? b : a }')
		done
		sleep 0.3
	done
	wait "$pid"
	slow=$(cat "$FG_TMP/slow.$n")
	fg_log "$n slow clients: $slow; /healthz and /metrics: $bad of 12 not 200, slowest ${worst} s"
	fg_assert_eq "$bad" 0 "/healthz and /metrics answer 200 beside $n slow clients"
	fg_assert_lt "$worst" 1 "each answer within 1 s beside $n slow clients"
	fg_assert_eq "$(fg_kv opened "$slow")" "$n" "all $n slow clients connected"
	fg_assert_eq "$(fg_kv closed_by_server "$slow")" "$n" "every slow client closed by the server"
	fg_assert_le "$(fg_kv max_held_s "$slow")" 7 "slow clients closed at the 5 s deadline"
}

base=$(probe /healthz)
fg_log "/healthz with no slow client: ${base#* } s"
under 70
under 500

# A 32 KiB header: refused (431), nothing else disturbed.
code=$(fg_in "$FG_V" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	-H "X-Big: $(head -c 32768 /dev/zero | tr '\0' a)" "$URL/healthz" || true)
fg_assert_eq "$code" 431 "a 32 KiB header gets 431"
out=$(probe /healthz)
fg_assert_eq "${out% *}" 200 "/healthz answers after an oversized header"
timeouts() {
	fg_in "$FG_V" curl -s --max-time 2 "$URL/metrics" |
		awk '$1 == "floodgate_metrics_http_timeouts_total" { print $2 }'
}
fg_wait_for -t 5 sh -c "[ \"\$(nsenter --net=/run/netns/$FG_V -- curl -s --max-time 2 $URL/metrics |
	awk '\$1 == \"floodgate_metrics_http_timeouts_total\" { print \$2 }')\" -ge 570 ]" || true
n=$(timeouts)
fg_assert_ge "${n:-0}" 570 "the deadline closes are counted (floodgate_metrics_http_timeouts_total)"
kill -0 "$FG_AGENT" || fg_fail "the agent died"
fg_pass "slow HTTP clients are cut at the deadline; /healthz and /metrics keep answering"
