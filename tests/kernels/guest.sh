#!/bin/bash
# Runs inside the guest booted by tests/kernels/run.sh (host root read-only,
# /tmp a tmpfs, /tmp/fgout shared with the host). Writes /tmp/fgout/result:
#   prog <name> insns_processed N limit L pct P ok|FAILED   (from fgverify)
#   programs N loaded M
#   bpf_table <passed>/<total> PASS|FAIL
#   smoke <passed>/<total> PASS|FAIL
set -u
OUT=/tmp/fgout
. "$OUT/params"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
res=$OUT/result
: >"$res"
echo "FGKERN-GUEST-BEGIN"
echo "kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"

echo "-- verifier: $FG_VERIFY_OBJ"
timeout 300 "$OUT/fgverify" "$FG_VERIFY_OBJ" | tee -a "$res"

if [ "$FG_VERIFY_ONLY" != 1 ]; then
	echo "-- bpf table: $FG_BUILD/tests/bpf_table"
	cd "$FG_ROOT" || exit 1
	timeout 300 "$FG_BUILD/tests/bpf_table" >"$OUT/bpf_table.log" 2>&1
	rc=$?
	grep -E '^(not ok|FAIL)|bpf: ' "$OUT/bpf_table.log"
	line=$(grep -E '^bpf: [0-9]+ passed, [0-9]+ failed' "$OUT/bpf_table.log" | tail -1)
	p=$(echo "$line" | awk '{print $2}')
	f=$(echo "$line" | awk '{print $4}')
	if [ -n "$p" ] && [ "$rc" -eq 0 ]; then
		echo "bpf_table $p/$((p + f)) PASS" >>"$res"
	else
		echo "bpf_table ${p:-0}/$(( ${p:-0} + ${f:-0} )) FAIL" >>"$res"
	fi

	echo "-- agent smoke test"
	timeout 240 bash "$FG_ROOT/tests/kernels/smoke.sh" "$FG_BUILD" 2>&1 | tee "$OUT/smoke.log"
	ok=$(grep -c '^smoke-step ok ' "$OUT/smoke.log")
	bad=$(grep -c '^smoke-step FAIL ' "$OUT/smoke.log")
	if [ "$bad" -eq 0 ] && [ "$ok" -gt 0 ]; then
		echo "smoke $ok/$((ok + bad)) PASS" >>"$res"
	else
		echo "smoke $ok/$((ok + bad)) FAIL" >>"$res"
	fi
fi
sync
