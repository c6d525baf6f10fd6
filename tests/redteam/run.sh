#!/bin/bash
# tests/redteam/run.sh — `make redteam`: hostile-user attacks on a running floodgate.
#
# Each tests/redteam/attack_*.sh is one area (socket, metrics, config, redis, packets...).
# It starts what it needs (its own agent, namespaces, redis-server), attacks it, cleans up
# (trap EXIT, PIDs it started only) and prints one line per attack:
#
#   HELD  <attack>: <figures: RSS before/after, latency, counts>
#   BROKE <attack>: <figures>
#
# and exits 0 when every attack held, 1 when one broke, 249 when it cannot run here.
# Every attack is bounded in count and time. The last line is "N held, N broke".
set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
REDTEAM_TIMEOUT=${REDTEAM_TIMEOUT:-300}
LOGS="$BUILD/redteam-logs"
export BUILD FGNET="$BUILD/tests/fgnet"
mkdir -p "$LOGS" || exit 1

held=0
broke=0
for script in tests/redteam/attack_*.sh; do
	[ -e "$script" ] || continue
	name=$(basename "$script" .sh)
	log="$LOGS/$name.log"
	echo "== $name"
	rc=0
	timeout -k 10 "$REDTEAM_TIMEOUT" bash "$script" </dev/null >"$log" 2>&1 || rc=$?
	grep -E '^(HELD|BROKE) ' "$log" | sed 's/^/  /'
	h=$(grep -c '^HELD ' "$log")
	b=$(grep -c '^BROKE ' "$log")
	held=$((held + h))
	broke=$((broke + b))
	case $rc in
	0) ;;
	249) echo "  SKIP  $name: $(grep -m1 '^SKIP' "$log")" ;;
	*)
		if [ "$b" -eq 0 ]; then
			echo "  BROKE $name: exited $rc without a verdict (log: $log)"
			broke=$((broke + 1))
		fi
		;;
	esac
done
echo "$held held, $broke broke"
[ "$broke" -eq 0 ] && [ "$held" -gt 0 ]
