#!/bin/bash
# make bench-metrics: what the Prometheus endpoint costs the socket. The
# RL.CHECK benchmark of bench/socket.sh (redis-benchmark, 50 clients, -P 1
# and -P 16, random keys) runs side by side in one run, three ways:
#   off      the agent with --metrics-listen "" (no endpoint, no rendering)
#   idle     the endpoint on (a snapshot rendered every second), nobody scraping
#   scraped  the endpoint on and curl fetching /metrics every second
# idle and scraped alternate run by run on the same agent (drift hits both);
# off runs on a fresh agent first. Median of RUNS by req/s, with the spread.
# --smoke: tiny counts; --out DIR: where metrics.md goes (default bench/results).
set -eu
. "$(dirname "$0")/lib.sh"

bench_args "$@"
if [ $SMOKE = 1 ]; then N=2000 RUNS=1; else N=${N:-300000} RUNS=${RUNS:-7}; fi
KEYS=100000
CLIENTS=50
METRICS=127.0.0.1:10150

fg_require_cmd redis-benchmark redis-cli curl
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
policies:
  - name: api
    type: window
    limits: [ { count: 10, per: 1s }, { count: 100, per: 1m }, { count: 1000, per: 1h } ]
YAML

# one P -> "rps p50 p99" of one redis-benchmark run of RL.CHECK
one() {
	# -P 16 runs 8x faster: give it 4x the requests so a run lasts a second or more.
	redis-benchmark -s "$FG_SOCK" -c $CLIENTS -n $((N * ($1 > 1 ? 4 : 1))) -P "$1" -r $KEYS --csv \
		RL.CHECK api k:__rand_int__ 2>/dev/null |
		awk -F, 'NR == 2 { gsub(/"/, ""); print $2, $5, $7 }'
}
median() { sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
# spread FILE -> "min-max" of the runs' req/s
spread() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%d-%d", lo, hi }'; }

# The scraper: one GET a second, bounded (at most 30 minutes), stopped by PID.
SCRAPES=$FG_TMP/scrapes
scraper() {
	local i s=
	trap 'kill $s 2>/dev/null; exit 0' TERM
	for ((i = 0; i < 1800; i++)); do
		curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
			--max-time 2 "http://$METRICS/metrics" >>"$SCRAPES" || true
		sleep 1 &
		s=$!
		wait $s
	done
}

declare -A RES
# off: no endpoint at all.
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen ""
for p in 1 16; do
	one "$p" >/dev/null # warm the keys
	for ((i = 0; i < RUNS; i++)); do one "$p"; done >"$FG_TMP/off.$p"
	RES[off/$p]=$(median <"$FG_TMP/off.$p")
done
fg_stop "$FG_AGENT" 10 || true

# idle and scraped: the same agent, alternating.
fg_agent_start "$FG_TMP/fg.yaml" --metrics-listen "$METRICS"
fg_wait_for -t 10 fg_in "$FG_V" curl -sf -o /dev/null "http://$METRICS/metrics" ||
	fg_fail "no /metrics"
: >"$SCRAPES"
for p in 1 16; do
	one "$p" >/dev/null
	: >"$FG_TMP/idle.$p"
	: >"$FG_TMP/scraped.$p"
	for ((i = 0; i < RUNS; i++)); do
		one "$p" >>"$FG_TMP/idle.$p"
		fg_bg fg_in "$FG_V" bash -c "$(declare -f scraper); SCRAPES=$SCRAPES METRICS=$METRICS scraper"
		SCRAPER=$FG_LAST_PID
		sleep 1.1 # the first scrape lands before the run starts
		one "$p" >>"$FG_TMP/scraped.$p"
		kill "$SCRAPER" 2>/dev/null || true
		wait "$SCRAPER" 2>/dev/null || true
	done
	RES[idle/$p]=$(median <"$FG_TMP/idle.$p")
	RES[scraped/$p]=$(median <"$FG_TMP/scraped.$p")
done
nscrapes=$(grep -c '^200 ' "$SCRAPES" || true)
[ "$nscrapes" -gt 0 ] || fg_fail "no scrape succeeded"
size=$(awk '$1 == 200 { print $2 }' "$SCRAPES" | median)
scrape_ms=$(awk '$1 == 200 { print $3 * 1000 }' "$SCRAPES" | median)
lines=$(fg_in "$FG_V" curl -s "http://$METRICS/metrics" | wc -l)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
{
	bench_facts
	echo "- method: redis-benchmark -c $CLIENTS -n $N (-P 16: $((N * 4))) -r $KEYS RL.CHECK (3 windows), median of $RUNS runs by req/s"
	echo "- scrapes: $nscrapes, every 1 s, $size bytes ($lines lines) each, median $scrape_ms ms per GET"
	echo
	echo "| pipeline | endpoint off req/s | on, not scraped req/s | on, scraped every 1 s req/s | scraped / off | scraped / not scraped | p99 ms off / scraped |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	SPREAD=
	for p in 1 16; do
		read -r off_rps _ off_p99 <<<"${RES[off/$p]}"
		read -r idle_rps _ _ <<<"${RES[idle/$p]}"
		read -r scr_rps _ scr_p99 <<<"${RES[scraped/$p]}"
		echo "| -P $p | $off_rps | $idle_rps | $scr_rps | $(ratio "$scr_rps" "$off_rps") | $(ratio "$scr_rps" "$idle_rps") | $off_p99 / $scr_p99 |"
		SPREAD="$SPREAD
| -P $p | $(spread "$FG_TMP/off.$p") | $(spread "$FG_TMP/idle.$p") | $(spread "$FG_TMP/scraped.$p") |"
	done
	echo
	echo "Spread of the runs (req/s, min-max):"
	echo
	echo "| pipeline | off | on, not scraped | on, scraped |"
	echo "|---:|---:|---:|---:|$SPREAD"
} | tee "$OUT/metrics.md"
fg_pass "metrics scraping benchmark"
