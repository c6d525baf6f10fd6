#!/bin/bash
# tests/run.sh — floodgate's test runner (`make test`, `make test-unit|test-bpf|test-netns`).
#
#   BUILD=build STAGES="unit bpf netns" tests/run.sh
#
# unit:  every $BUILD/tests/check_<x> built from tests/unit/check_<x>.c (Check suites);
#        each check counts.
# bpf:   $BUILD/tests/bpf_table; its last "bpf: N passed, N failed" line counts. Then a
#        smoke run of the packet fuzzer $BUILD/tests/fuzz_xdp (FUZZ_XDP_FRAMES, default
#        200000 frames; FUZZ_XDP_SEED, default the time, printed to repeat a run): one check.
# netns: every tests/netns/test_*.sh, sorted, each under a timeout; exit 0 = pass,
#        249 = skip, anything else = fail.
# bench: bench/run.sh --smoke (every benchmark section with tiny counts, so the
#        benchmarks never rot); its "bench: N passed, N failed" line counts.
# A missing binary or an empty stage is a failure. Full logs: $BUILD/test-logs/.
# The last line is "N passed, N failed" (", N skipped" when any); exit 1 when anything
# failed or nothing ran.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
BUILD_ARG=$BUILD # as given, for "make <target>" hints
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
STAGES=${STAGES:-unit bpf netns bench}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
BPF_TIMEOUT=${BPF_TIMEOUT:-300}
NETNS_TIMEOUT=${NETNS_TIMEOUT:-180}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
LOGS="$BUILD/test-logs"
export BUILD FGNET="$BUILD/tests/fgnet"

passed=0
failed=0
skipped=0

mkdir -p "$LOGS" || exit 1

say() { printf '%s\n' "$*"; }
indent() { sed 's/^/    /'; }

# elapsed START_NS — seconds since START_NS, one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# run_logged LOG TIMEOUT CMD... — runs CMD with stdin closed and output to LOG; returns
# its status (124 on timeout).
run_logged() {
	local log=$1 limit=$2
	shift 2
	timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1
}

stage_unit() {
	local src name bin log rc t0 line c f e n_checks n_bad summaries
	local -a srcs=()

	say "== unit"
	for src in tests/unit/check_*.c; do
		[ -e "$src" ] && srcs+=("$src")
	done
	if [ ${#srcs[@]} -eq 0 ]; then
		say "  FAIL  no test suites (tests/unit/check_*.c)"
		failed=$((failed + 1))
		return
	fi
	for src in "${srcs[@]}"; do
		name=$(basename "$src" .c)
		bin="$BUILD/tests/$name"
		log="$LOGS/unit-$name.log"
		if [ ! -x "$bin" ]; then
			say "  FAIL  $name: $bin missing (build it: make $BUILD_ARG/tests/$name)"
			failed=$((failed + 1))
			continue
		fi
		t0=$(date +%s%N)
		rc=0
		run_logged "$log" "$UNIT_TIMEOUT" "$bin" || rc=$?
		# "100%: Checks: 12, Failures: 0, Errors: 0" — one per srunner run.
		summaries=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log")
		n_checks=0
		n_bad=0
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			c=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
			f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
			e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
			n_checks=$((n_checks + c))
			n_bad=$((n_bad + f + e))
		done <<<"$summaries"
		if [ -z "$summaries" ]; then
			say "  FAIL  $name: no Check summary line (exit $rc, $(elapsed "$t0")s)"
			tail -n 20 "$log" | indent
			failed=$((failed + 1))
			continue
		fi
		say "  $name: $(tr '\n' ' ' <<<"$summaries")($(elapsed "$t0")s)"
		passed=$((passed + n_checks - n_bad))
		failed=$((failed + n_bad))
		if [ "$n_bad" -gt 0 ]; then
			# Check's failure lines: file:line:F|E:tcase:test:iter: message
			grep -E ':[FE]:' "$log" | head -n 40 | indent
		elif [ "$rc" -ne 0 ]; then
			say "  FAIL  $name: exited $rc although every check passed"
			tail -n 20 "$log" | indent
			failed=$((failed + 1))
		fi
	done
}

stage_bpf() {
	local bin="$BUILD/tests/bpf_table" log="$LOGS/bpf-table.log" rc=0 t0 last p f

	say "== bpf"
	if [ ! -x "$bin" ]; then
		say "  FAIL  bpf_table: $bin missing (build it: make $BUILD_ARG/tests/bpf_table)"
		failed=$((failed + 1))
		return
	fi
	t0=$(date +%s%N)
	run_logged "$log" "$BPF_TIMEOUT" "$bin" || rc=$?
	indent <"$log"
	last=$(grep -E '^bpf: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		say "  FAIL  bpf_table: no 'bpf: N passed, N failed' line (exit $rc, $(elapsed "$t0")s)"
		failed=$((failed + 1))
		return
	fi
	p=$(sed -E 's/^bpf: ([0-9]+) passed.*/\1/' <<<"$last")
	f=$(sed -E 's/^bpf: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$last")
	passed=$((passed + p))
	failed=$((failed + f))
	say "  bpf_table: $p passed, $f failed ($(elapsed "$t0")s)"
	if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then
		say "  FAIL  bpf_table: exited $rc although it reported no failure"
		failed=$((failed + 1))
	fi
	stage_fuzz_xdp
}

# The differential packet fuzzer, briefly (make fuzz-xdp runs it long).
stage_fuzz_xdp() {
	local bin="$BUILD/tests/fuzz_xdp" log="$LOGS/bpf-fuzz-xdp.log" rc=0 t0
	local frames=${FUZZ_XDP_FRAMES:-200000} seed=${FUZZ_XDP_SEED:-$(date +%s)}

	if [ ! -x "$bin" ]; then
		say "  FAIL  fuzz_xdp: $bin missing (build it: make $BUILD_ARG/tests/fuzz_xdp)"
		failed=$((failed + 1))
		return
	fi
	t0=$(date +%s%N)
	run_logged "$log" "$BPF_TIMEOUT" "$bin" --frames "$frames" --seed "$seed" || rc=$?
	indent <"$log"
	if [ "$rc" -eq 0 ] && grep -qx 'fuzz-xdp: 1 passed, 0 failed' "$log"; then
		passed=$((passed + 1))
		say "  PASS  fuzz_xdp: $frames frames, seed $seed ($(elapsed "$t0")s)"
	else
		failed=$((failed + 1))
		say "  FAIL  fuzz_xdp: exit $rc, seed $seed (repeat: $bin --frames $frames --seed $seed)"
	fi
}

stage_netns() {
	local t name log rc t0 secs
	local -a tests=()

	say "== netns"
	local LC_COLLATE=C # sorted byte-wise: test_00 first, whatever the locale
	for t in tests/netns/test_*.sh; do
		[ -e "$t" ] && tests+=("$t")
	done
	if [ ${#tests[@]} -eq 0 ]; then
		say "  FAIL  no tests (tests/netns/test_*.sh)"
		failed=$((failed + 1))
		return
	fi
	if [ ! -x "$FGNET" ]; then
		say "  note: $FGNET missing (make $BUILD_ARG/tests/fgnet): the tests will fail"
	fi
	for t in "${tests[@]}"; do
		name=$(basename "$t" .sh)
		log="$LOGS/netns-$name.log"
		t0=$(date +%s%N)
		rc=0
		run_logged "$log" "$NETNS_TIMEOUT" bash "$t" || rc=$?
		secs=$(elapsed "$t0")
		case $rc in
		0)
			say "  PASS  $name (${secs}s)"
			passed=$((passed + 1))
			;;
		249)
			say "  SKIP  $name (${secs}s): $(grep -m1 '^SKIP:' "$log" | cut -c7-)"
			skipped=$((skipped + 1))
			;;
		124 | 137)
			say "  FAIL  $name (${secs}s): timed out after ${NETNS_TIMEOUT}s; log $log"
			tail -n 25 "$log" | indent
			failed=$((failed + 1))
			;;
		*)
			say "  FAIL  $name (${secs}s): exit $rc; log $log"
			tail -n 25 "$log" | indent
			failed=$((failed + 1))
			;;
		esac
	done
}

stage_bench() {
	local log="$LOGS/bench-smoke.log" rc=0 t0 last p f

	say "== bench (smoke)"
	t0=$(date +%s%N)
	run_logged "$log" "$BENCH_TIMEOUT" bash bench/run.sh --smoke || rc=$?
	grep -E '^  (PASS|FAIL|note)' "$log"
	last=$(grep -E '^bench: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		say "  FAIL  bench: no 'bench: N passed, N failed' line (exit $rc, $(elapsed "$t0")s)"
		tail -n 20 "$log" | indent
		failed=$((failed + 1))
		return
	fi
	p=$(sed -E 's/^bench: ([0-9]+) passed.*/\1/' <<<"$last")
	f=$(sed -E 's/^bench: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$last")
	passed=$((passed + p))
	failed=$((failed + f))
	say "  bench: $p passed, $f failed ($(elapsed "$t0")s)"
	if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then
		say "  FAIL  bench: exited $rc although it reported no failure"
		failed=$((failed + 1))
	fi
}

# What the tests may touch on the host, before they run: after them it must
# be the same (CI runs on this machine next; leftovers are a failure).
host_state() {
	stat -f -c %T /sys/fs/bpf 2>/dev/null
	ls -A /sys/fs/bpf 2>/dev/null
	ip netns list 2>/dev/null
	nft list tables 2>/dev/null
}
host_before=$(host_state)

# The netns tests and benchmarks run python3 hundreds of times: not through a shim.
. tests/pydirect.sh
fg_python_direct "$BUILD/tests/python-bin"

for stage in $STAGES; do
	case $stage in
	unit) stage_unit ;;
	bpf) stage_bpf ;;
	netns) stage_netns ;;
	bench) stage_bench ;;
	*)
		say "unknown stage '$stage' (STAGES takes: unit bpf netns bench)"
		failed=$((failed + 1))
		;;
	esac
done

ran=$((passed + failed))
if [ "$(host_state)" = "$host_before" ]; then
	say "  PASS  no leftovers (bpffs, pins, namespaces, nftables as before the tests)"
	passed=$((passed + 1))
else
	say "  FAIL  leftovers on the host:"
	diff <(echo "$host_before") <(host_state) | sed 's/^/    /'
	failed=$((failed + 1))
fi

if [ "$ran" -eq 0 ]; then
	say "no test ran"
fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
say "$summary"
[ "$failed" -eq 0 ] && [ "$ran" -gt 0 ]
