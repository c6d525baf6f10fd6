#!/bin/bash
# bench/run.sh — `make bench`: every benchmark section in one run, one report.
#
#   BUILD=build bench/run.sh            full run (root, a few minutes on 2 CPUs):
#                                       raw CSV and plots in bench/results/, the
#                                       generated blocks of docs/performance.md
#   BUILD=build bench/run.sh --smoke    tiny counts into $BUILD/bench-smoke/,
#                                       docs untouched (make test runs it)
#
# Sections: xdp (bench_xdp paths), scale (bench_xdp scale), bans (bench_xdp
# bans: an empty table vs 1M sources and 100k bans; prefixes at the lengths
# ban lists use, --ban-lengths real), flood
# (bench/flood.sh), cookies (bench/cookies.sh), socket (bench/socket.sh),
# multikey (bench/multikey.sh), redis (bench/redis.sh), topology
# (bench/topology.sh), react (bench/react.sh), node (bench/node.sh: the Express
# middleware of clients/node against express-rate-limit). Each
# prints "PASS|FAIL bench-NAME"; the last line is "bench: N passed, N failed".
# docs/performance.md is rewritten only between `<!-- bench:NAME begin -->`
# and `<!-- bench:NAME end -->` markers: other sections of the file are kept.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export BUILD
SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1
if [ $SMOKE = 1 ]; then
	OUT=$BUILD/bench-smoke
	ARGS=--smoke
else
	OUT=$ROOT/bench/results
	ARGS=
fi
DOC=$ROOT/docs/performance.md
LOGS=$OUT/logs
mkdir -p "$OUT" "$LOGS" || exit 1
SECTIONS=${SECTIONS:-xdp scale bans flood cookies socket multikey redis topology react node}
# xdp-filter's BPF objects ship in libxdp1 (a dependency of xdp-tools).
XF_DIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null)/bpf
f=$(dpkg -L libxdp1 2>/dev/null | grep '/xdpfilt_alw_all\.o$' | head -n 1)
[ -n "$f" ] && XF_DIR=$(dirname "$f")

passed=0 failed=0

# section NAME LIMIT_S CMD... — runs CMD (stdout: the section's markdown) into
# $OUT/NAME.md, its log into $LOGS/NAME.log.
section() {
	local name=$1 limit=$2 t0 rc=0 secs
	shift 2
	t0=$(date +%s%N)
	timeout -k 10 "$limit" "$@" </dev/null >"$LOGS/$name.log" 2>&1 || rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	if [ $rc = 0 ]; then
		echo "  PASS  bench-$name (${secs}s)"
		passed=$((passed + 1))
	else
		echo "  FAIL  bench-$name (${secs}s): exit $rc; log $LOGS/$name.log"
		tail -n 15 "$LOGS/$name.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	return $rc
}

echo "== bench${ARGS:+ ($ARGS)} -> $OUT"
for s in $SECTIONS; do
	case $s in
	xdp) section xdp 300 bash -c "'$BUILD/bench/bench_xdp' $ARGS --xdp-filter '$XF_DIR' --csv '$OUT' paths > '$OUT/xdp.md'" ;;
	scale) section scale 300 bash -c "'$BUILD/bench/bench_xdp' $ARGS --csv '$OUT' scale > '$OUT/scale.md'" ;;
	bans) section bans 300 bash -c "'$BUILD/bench/bench_xdp' $ARGS --csv '$OUT' bans > '$OUT/bans.md'" ;;
	flood) section flood 1500 bash bench/flood.sh $ARGS --out "$OUT" ;;
	cookies) section cookies 600 bash bench/cookies.sh $ARGS --out "$OUT" ;;
	socket) section socket 600 bash bench/socket.sh $ARGS --out "$OUT" ;;
	multikey) section multikey 600 bash bench/multikey.sh $ARGS --out "$OUT" ;;
	redis) section redis 600 bash bench/redis.sh $ARGS --out "$OUT" ;;
	topology) section topology 600 bash bench/topology.sh $ARGS --out "$OUT" ;;
	react) section react 300 bash bench/react.sh $ARGS --out "$OUT" ;;
	node) section node 600 bash bench/node.sh $ARGS --out "$OUT" ;;
	*) echo "  FAIL  unknown section '$s'" && failed=$((failed + 1)) ;;
	esac
done

# ---- goals: each a ratio from this run's CSVs --------------------------------
goals() {
	local x=$OUT/xdp.csv f=$OUT/flood.csv s=$OUT/socket.csv r=$OUT/redis.csv n=$OUT/flood_native.csv c=$OUT/cookies.csv
	echo "| goal | measured | met |"
	echo "|---|---|---|"
	[ -f "$x" ] && awk -F, '
		function row(g, v, lim, unit) { printf "| %s | %.2f%s | %s |\n", g, v, unit, (v <= lim ? "yes" : sprintf("no: %.2fx over", v / lim)) }
		$1 == "est" { row("established TCP within 2x of the no-op program", $2 / $3, 2, "x of no-op") }
		$1 == "syn_new" { row("new-SYN path within 4x of the no-op program", $2 / $3, 4, "x of no-op")
			if ($4 != "n/a") row("new-SYN path cheaper than xdp-filter (all features, 1,001 entries)", $2 / $4, 1, "x of xdp-filter")
			if ($5 != "n/a") row("new-SYN path cheaper than xdp-filter (IP only, 1,001 entries)", $2 / $5, 1, "x of xdp-filter") }' "$x"
	# Issue 18's XDP table goals were ratios to a 26 ns no-op; this VM's no-op
	# costs 5-9 (helper calls got cheaper too), so each reads as the ns above
	# this run's no-op that the ratio allowed above the issue's: (k - 1) x 26.
	[ -f "$x" ] && awk -F, '
		function row(g, k) { printf "| issue 18, XDP table: %s <= %dx the no-op, read as <= %d ns above it | %d ns above (%d vs %d ns) | %s |\n", g, k, (k - 1) * 26, $2 - $3, $2, $3, ($2 - $3 <= (k - 1) * 26 ? "yes" : sprintf("no: %d ns over", $2 - $3 - (k - 1) * 26)) }
		$1 == "syn_over" { row("SYN over the address limit (drop)", 3) }
		$1 == "syn_over_attack" { row("SYN over the address limit, rule under attack (drop)", 3) }
		$1 == "syn_unverified_attack" { row("unverified source under attack (drop)", 3) }
		$1 == "banned" { row("banned source (drop)", 3) }
		$1 == "denied_deny1k" { row("denied source, 1,000 deny entries (drop)", 3) }
		$1 == "syn_new" { row("new SYN under limit", 4) }
		$1 == "udp_new" { row("UDP new flow", 6) }
		$1 == "udp_known" { row("UDP known flow", 3) }' "$x"
	[ -f "$f" ] && awk -F, -v tick="$(getconf CLK_TCK)" '
		function med(k,   n, i, j, t, v) { n = split(vals[k], v, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
			return v[int((n + 1) / 2)] }
		NR > 1 { k = $1 "/" $2; vals[k "/cpu"] = vals[k "/cpu"] " " ($6 > 0 ? ($14 / 1e6) / ($6 / 1e6) : 0)
			vals[k "/drop"] = vals[k "/drop"] " " ($6 > 0 ? $7 / $6 : 0)
			vals[k "/ok"] = vals[k "/ok"] " " (($10 + $11) > 0 ? 100 * $10 / ($10 + $11) : 0) }
		END {
			fg = med("floodgate/single/cpu"); a = med("nft-input/single/cpu"); b = med("nft-ingress/single/cpu")
			best = (a < b ? a : b)
			d = med("floodgate/single/drop")
			printf "| skb path, single-source flood: drops at the rate veth delivers | %.1f%% of received packets dropped | %s |\n", 100 * d, (d >= 0.99 ? "yes" : "no")
			if (best > 0) { r = best / fg
				printf "| skb path, single-source flood: victim CPU per Mpkt >= 5x lower than the best nftables | %.2fx lower (%.0f vs %.0f ms/Mpkt) | %s |\n", r, fg, best, (r >= 5 ? "yes" : sprintf("no: %.1fx short", 5 / r)) }
			ok = med("floodgate/random/ok")
			printf "| skb path, random-source flood: legitimate clients >= 99%% connect success | %.1f%% | %s |\n", ok, (ok >= 99 ? "yes" : "no") }' "$f"
	# Issue 18's goals on the native path (victim CPU ns per frame consumed).
	[ -f "$n" ] && awk -F, '
		function med(k,   m, i, j, t, v) { m = split(vals[k], v, " ")
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
			return v[int((m + 1) / 2)] }
		NR > 1 && $8 > 0 { vals[$1 "/" $2] = vals[$1 "/" $2] " " $11 / $8 }
		NR > 1 && $19 > 0 { vals[$1 "/" $2 "/prog"] = vals[$1 "/" $2 "/prog"] " " $18 / $19 }
		NR > 1 && $8 > 0 { vals[$1 "/" $2 "/drop"] = vals[$1 "/" $2 "/drop"] " " $9 / $8 }
		END { for (f = 1; f <= 2; f++) { fl = f == 1 ? "single" : "random"
			fg = med("floodgate/" fl "/prog"); po = med("parse-only/" fl "/prog"); lr = med("lru-limit/" fl "/prog")
			# A limiter that dropped little of the flood (every source within
			# its burst: a slow generator) did not do the work floodgate did.
			ld = med("lru-limit/" fl "/drop")
			if (lr > 0 && ld < 0.9) {
				printf "| native path, %s-source flood: floodgate <= 1.0x the minimal LRU limiter | n/a: the LRU limiter dropped %.1f%% of this flood (its sources stayed within their burst), not a like-for-like row | n/a |\n", fl, 100 * ld
				lr = 0; lrv = 1 } else lrv = 0
			if (fg > 0 && po > 0) printf "| native path, %s-source flood: the XDP program'"'"'s own time per packet (kernel BPF stats) <= 1.5x parse-only'"'"'s | %.2fx (%.0f vs %.0f ns) | %s |\n", fl, fg / po, fg, po, (fg / po <= 1.5 ? "yes" : sprintf("no: %.2fx over", fg / po / 1.5))
			if (fg > 0 && lr > 0) printf "| native path, %s-source flood: the XDP program'"'"'s own time per packet (kernel BPF stats) <= 1.0x the minimal LRU limiter'"'"'s | %.2fx (%.0f vs %.0f ns) | %s |\n", fl, fg / lr, fg, lr, (fg <= lr ? "yes" : sprintf("no: %.2fx over", fg / lr))
			fg = med("floodgate/" fl); po = med("parse-only/" fl); lr = lrv ? 0 : med("lru-limit/" fl); nf = med("nft-ingress/" fl)
			if (fg <= 0) continue
			if (po > 0) printf "| native path, %s-source flood: victim CPU per packet <= 1.5x parse-only | %.2fx (%.0f vs %.0f ns) | %s |\n", fl, fg / po, fg, po, (fg / po <= 1.5 ? "yes" : sprintf("no: %.2fx over", fg / po / 1.5))
			if (lr > 0) printf "| native path, %s-source flood: victim CPU per packet <= 1.0x the minimal LRU limiter | %.2fx (%.0f vs %.0f ns) | %s |\n", fl, fg / lr, fg, lr, (fg <= lr ? "yes" : sprintf("no: %.2fx over", fg / lr))
			if (nf > 0) printf "| native path, %s-source flood: victim CPU per packet >= 3x lower than nftables netdev per-source limit | %.2fx lower (%.0f vs %.0f ns) | %s |\n", fl, nf / fg, fg, nf, (nf / fg >= 3 ? "yes" : sprintf("no: %.1fx short", 3 / (nf / fg)))
			# Not the goal: what each filter adds to reading the frame
			# (veth'"'"'s per-frame cost, in every row here, is not a NIC'"'"'s).
			if (nf > 0 && po > 0) { if (fg > po) printf "| native path, %s-source flood, for comparison (not the goal): victim CPU above parse-only, nftables netdev / floodgate | %.2fx (%.0f vs %.0f ns) | - |\n", fl, (nf - po) / (fg - po), nf - po, fg - po
				else printf "| native path, %s-source flood, for comparison (not the goal): victim CPU above parse-only, nftables netdev / floodgate | floodgate within parse-only (%.0f vs %.0f ns; nftables %.0f above) | - |\n", fl, fg, po, nf - po } } }' "$n"
	# Issue 18's "cost flat with scale": the worst repeat-mode row of bench_xdp bans.
	[ -f "$OUT/bans.csv" ] && awk -F, '
		NR > 1 && $1 !~ /^cold_/ && $4 > worst { worst = $4; w = $1 }
		END { if (w != "") printf "| 1M tracked sources and 100k bans (50k addresses, 50k prefixes at /24, /16, /64, /48): per-packet time <= 1.3x the empty table, worst path | %.2fx (%s) | %s |\n", worst, w, (worst <= 1.3 ? "yes" : sprintf("no: %.2fx over", worst / 1.3)) }' "$OUT/bans.csv"
	# Issue 14's goals: SYN cookies at XDP, in the XDP table and under a random-source SYN flood.
	[ -f "$OUT/xdp_cookies.csv" ] && awk -F, '
		$1 == "cookie_syn4" || $1 == "cookie_syn6" { printf "| SYN cookies, XDP table: a cookie SYN-ACK (%s) to a spoofed flood'"'"'s SYN (a source no map holds) <= 8x the no-op program, one packet per run | %.1fx (%d vs %d ns) | %s |\n", ($1 == "cookie_syn4" ? "IPv4" : "IPv6"), $2 / $3, $2, $3, ($2 / $3 <= 8 ? "yes" : sprintf("no: %.2fx over", $2 / $3 / 8)) }' "$OUT/xdp_cookies.csv"
	[ -f "$c" ] && awk -F, '
		function med(k,   m, i, j, t, v) { m = split(vals[k], v, " ")
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
			return v[int((m + 1) / 2)] }
		NR > 1 && $7 > 0 { vals[$1] = vals[$1] " " $8 / $7; ok[$1] += $14; all[$1] += $14 + $15 }
		END { ck = med("floodgate-cookies"); fl = med("xdp-drop"); k1 = med("kernel-sc1"); k2 = med("kernel-sc2")
			if (ck > 0 && fl > 0) printf "| SYN cookies, native path: a cookie SYN-ACK costs the victim <= 8x bare XDP_DROP per SYN | %.1fx (%.0f vs %.0f ns) | %s |\n", ck / fl, ck, fl, (ck / fl <= 8 ? "yes" : sprintf("no: %.2fx over", ck / fl / 8))
			if (all["floodgate-cookies"] > 0) { p = 100 * ok["floodgate-cookies"] / all["floodgate-cookies"]
				printf "| SYN cookies: brand-new clients connect during a random-source SYN flood >= 99%% | %.1f%% (%d of %d) | %s |\n", p, ok["floodgate-cookies"], all["floodgate-cookies"], (p >= 99 ? "yes" : "no") }
			kb = (k1 > 0 && (k2 <= 0 || k1 < k2)) ? k1 : k2
			if (ck > 0 && kb > 0) printf "| SYN cookies: kernel SYN cookies alone (no XDP) need >= 2x the victim CPU per SYN | %.2fx (%.0f vs %.0f ns) | %s |\n", kb / ck, kb, ck, (kb / ck >= 2 ? "yes" : sprintf("no: %.1fx short", 2 / (kb / ck))) }' "$c"
	[ -f "$s" ] && awk -F, '
		$3 == 1 || $3 == 16 { rps[$2 "/" $3] = $4 }
		END { for (p = 1; p <= 16; p += 15) { l = rps["Lua GCRA (3 windows)/" p]; c = rps["RL.CHECK (3 windows)/" p]
			if (l > 0) printf "| socket decisions >= 2x redis-server Lua limiter (-P %d) | %.2fx (RL.CHECK %d vs %d req/s) | %s |\n", p, c / l, c, l, (c / l >= 2 ? "yes" : sprintf("no: %.1fx short", 2 / (c / l)))
			l = rps["Lua sliding log (2 windows)/" p]; c = rps["RL.CHECK sliding (2 windows)/" p]
			if (l > 0) printf "| exact sliding mode (memory store) >= 1x a Lua sliding-log limiter on redis-server (-P %d) | %.2fx (%d vs %d req/s) | %s |\n", p, c / l, c, l, (c >= l ? "yes" : sprintf("no: %.0f%% of it", 100 * c / l)) } }' "$s"
	# Issue 5's goal is for 50 connections; the one-connection row is in the section only.
	[ -f "$r" ] && awk -F, '
		NR > 1 && $2 == 50 { rps[$1 "/" $3] = $4 }
		END { for (p = 1; p <= 16; p += 15) { l = rps["lua/" p]; a = rps["agent/" p]
			if (l > 0) printf "| Redis store: decisions through the agent >= the Lua limiter on Redis directly (50 connections, -P %d) | %.2fx (%d vs %d req/s) | %s |\n", p, a / l, a, l, (a >= l ? "yes" : sprintf("no: %.0f%% of it", 100 * a / l))
			l = rps["lua_sliding/" p]; a = rps["agent_sliding/" p]
			if (l > 0) printf "| Redis store: sliding windows through the agent >= a Lua sliding-log limiter on Redis directly (50 connections, -P %d) | %.2fx (%d vs %d req/s) | %s |\n", p, a / l, a, l, (a >= l ? "yes" : sprintf("no: %.0f%% of it", 100 * a / l)) } }' "$r"
}
goals >"$OUT/goals.md"

facts() {
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) online CPUs"
	echo "- kernel: $(uname -sr)"
	echo "- date: $(date -u '+%F %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree modified)')"
	echo "- tools: $(clang --version | head -1 | sed 's/ (.*//'), $(nft --version 2>/dev/null | awk '{ print $1, $2 }'), xdp-tools $(dpkg-query -W -f='${Version}' xdp-tools 2>/dev/null), $(redis-server --version 2>/dev/null | awk '{ print $1, $3 }' | sed 's/v=//')"
}
facts >"$OUT/machine.md"

# ---- plots (gnuplot, when installed) ------------------------------------------
plots() {
	command -v gnuplot >/dev/null || { echo "  note: gnuplot missing (scripts/deps.sh installs gnuplot-nox): no plots"; return 0; }
	if [ -f "$OUT/scale.csv" ]; then
		gnuplot <<GP || echo "  note: scale plot failed"
set terminal pngcairo size 800,450 noenhanced
set output '$OUT/scale.png'
set datafile separator ','
set logscale x
set xlabel 'tracked sources (src_state entries)'
set ylabel 'ns per SYN (one packet per BPF_PROG_TEST_RUN)'
set title 'floodgate: per-packet cost as tracked sources grow'
set key left top
set grid
set yrange [0:*]
plot '< grep ^insert, $OUT/scale.csv' using 2:4 with linespoints title 'SYN from a new source (insert)', \
     '< grep ^tracked, $OUT/scale.csv' using 2:4 with linespoints title 'SYN from a tracked source', \
     '< grep ^tracked, $OUT/scale.csv' using 2:5 with linespoints title 'no-op program (floor)'
GP
	fi
	if [ -f "$OUT/flood.csv" ]; then
		awk -F, 'NR > 1 && $6 > 0 { print $1, $2, ($14 / 1e6) / ($6 / 1e6) }' "$OUT/flood.csv" |
			sort -k1,1 -k2,2 -k3,3g | awk '{ k = $1 " " $2; v[k] = v[k] " " $3; if (!(k in s)) { s[k] = 1; o[++n] = k } }
			END { for (i = 1; i <= n; i++) { m = split(v[o[i]], a, " "); print o[i], a[int((m + 1) / 2)] } }' >"$OUT/flood_cpu.dat"
		awk '$2 == "single" { s[$1] = $3; o[++n] = $1 } $2 == "random" { r[$1] = $3 } END { for (i = 1; i <= n; i++) print o[i], s[o[i]], r[o[i]] }' \
			"$OUT/flood_cpu.dat" >"$OUT/flood_cpu2.dat"
		gnuplot <<GP || echo "  note: flood plot failed"
set terminal pngcairo size 800,450 noenhanced
set output '$OUT/flood_cpu.png'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'victim CPU ms per million packets received'
set title 'SYN floods over veth: victim CPU per Mpkt (lower is better)'
set grid ytics
set yrange [0:*]
plot '$OUT/flood_cpu2.dat' using 2:xtic(1) title 'single source', '' using 3 title 'random sources'
GP
		rm -f "$OUT/flood_cpu.dat" "$OUT/flood_cpu2.dat"
	fi
	if [ -f "$OUT/flood_native.csv" ]; then
		# filter, median ns/pkt single, random (in the order of the run)
		awk -F, 'NR > 1 && $8 > 0 { k = $1; if (!(k in s)) { s[k] = 1; o[++n] = k } v[k "/" $2] = v[k "/" $2] " " $11 / $8 }
			function med(x,   m, i, j, t, a) { m = split(x, a, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return m ? a[int((m + 1) / 2)] : 0 }
			END { for (i = 1; i <= n; i++) print o[i], med(v[o[i] "/single"]), med(v[o[i] "/random"]) }' \
			"$OUT/flood_native.csv" >"$OUT/flood_native.dat"
		gnuplot <<GP || echo "  note: native flood plot failed"
set terminal pngcairo size 900,450 noenhanced
set output '$OUT/flood_native.png'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'victim CPU ns per packet (log scale)'
set title 'SYN floods on the native XDP path (livegen): victim CPU per packet (lower is better)'
set grid ytics
plot '$OUT/flood_native.dat' using 2:xtic(1) title 'single source', '' using 3 title 'random sources (/24)'
GP
		rm -f "$OUT/flood_native.dat"
	fi
	if [ -f "$OUT/flood_scale.csv" ]; then
		# filter sources (2^30 for random over 128.0.0.0/2) median ns/pkt, median drop %
		awk -F, 'NR > 1 && $8 > 0 { k = $1 " " ($20 == 0 ? 1073741824 : $20); if (!(k in s)) { s[k] = 1; o[++n] = k }
				ns[k] = ns[k] " " $11 / $8; dr[k] = dr[k] " " 100 * $9 / $8 }
			function med(x,   m, i, j, t, a) { m = split(x, a, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return m ? a[int((m + 1) / 2)] : 0 }
			END { for (i = 1; i <= n; i++) print o[i], med(ns[o[i]]), med(dr[o[i]]) }' \
			"$OUT/flood_scale.csv" >"$OUT/flood_scale.dat"
		gnuplot <<GP || echo "  note: scale flood plot failed"
set terminal pngcairo size 800,450 noenhanced
set output '$OUT/flood_scale.png'
set logscale xy
set xlabel 'distinct spoofed sources (2^30: random over 128.0.0.0/2)'
set ylabel 'victim CPU ns per packet (log scale)'
set title 'native-path SYN flood: victim CPU per packet as sources grow'
set key left top
set grid
plot '< grep ^floodgate $OUT/flood_scale.dat' using 2:3 with linespoints title 'floodgate', \
     '< grep ^lru-limit $OUT/flood_scale.dat' using 2:3 with linespoints title 'minimal LRU limiter'
GP
		rm -f "$OUT/flood_scale.dat"
	fi
}
plots

# ---- docs/performance.md: replace the generated blocks -----------------------
# splice NAME FILE — replaces the block NAME of $DOC with FILE's content.
splice() {
	local name=$1 file=$2 tmp
	[ -f "$file" ] || return 0
	if ! grep -q "^<!-- bench:$name begin -->" "$DOC"; then
		printf '\n<!-- bench:%s begin -->\n<!-- bench:%s end -->\n' "$name" "$name" >>"$DOC"
	fi
	tmp=$(mktemp "$DOC.XXXXXX") || return 1
	awk -v name="$name" -v file="$file" '
		$0 == "<!-- bench:" name " begin -->" { print; while ((getline l < file) > 0) print l; skip = 1; next }
		$0 == "<!-- bench:" name " end -->" { skip = 0 }
		!skip { print }' "$DOC" >"$tmp" && mv "$tmp" "$DOC"
}
if [ $SMOKE = 0 ]; then
	for s in machine goals xdp scale bans flood cookies socket multikey redis topology react node; do
		splice "$s" "$OUT/$s.md"
	done
	echo "  report: $DOC, raw data: $OUT"
fi

# A smoke run checks that every section produced its table.
if [ $SMOKE = 1 ]; then
	for s in $SECTIONS; do
		if grep -q '^|' "$OUT/$s.md" 2>/dev/null; then :; else
			echo "  FAIL  bench-$s: no table in $OUT/$s.md"
			failed=$((failed + 1))
		fi
	done
fi
echo "bench: $passed passed, $failed failed"
[ $failed = 0 ]
