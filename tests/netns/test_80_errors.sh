#!/bin/bash
# floodgated's failures say what failed and how to fix it, with the right
# exit code, and leave nothing attached or pinned behind.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_ns_add V
FG_V=$FG_NS_LAST
fg_bpffs
good=$FG_ROOT/packaging/floodgate.yaml

out=$("$FLOODGATED" --check-config "$good" 2>&1) || fg_fail "shipped config invalid: $out"
fg_ok "--check-config accepts the shipped config: $out"

printf 'rules:\n  - name: a\n    proto: tcp\n    ports: ["9000-8000"]\n' >"$FG_TMP/bad.yaml"
rc=0
out=$("$FLOODGATED" --check-config "$FG_TMP/bad.yaml" 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "--check-config exits 2 on a bad file"
grep -q "bad.yaml:4: rules\[0\].ports" <<<"$out" || fg_fail "no file:line: key in '$out'"
fg_ok "bad config names file:line: key ($out)"

rc=0
out=$(fg_in "$FG_V" "$FLOODGATED" -c "$FG_TMP/bad.yaml" -i lo --pin-dir "$FG_PIN_DIR" 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "floodgated exits 2 on a bad config"

rc=0
out=$(fg_in "$FG_V" "$FLOODGATED" -c "$good" -i fg-nosuch0 --pin-dir "$FG_PIN_DIR" 2>&1) || rc=$?
fg_assert_eq "$rc" 1 "floodgated exits 1 on an unknown interface"
grep -q "unknown interface fg-nosuch0" <<<"$out" || fg_fail "no clear message: $out"
fg_ok "unknown interface named"
[ ! -e "$FG_PIN_DIR/settings" ] || fg_fail "a failed start left pinned maps"
fg_ok "a failed start leaves no pins"

rc=0
out=$(fg_in "$FG_V" "$FLOODGATED" -c "$good" --pin-dir "$FG_PIN_DIR" 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "no interface at all is a usage error"
grep -q "no interface to protect" <<<"$out" || fg_fail "no clear message: $out"

rc=0
out=$("$FLOODGATED" --xdp-mode turbo 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "bad --xdp-mode is a usage error"

# Without CAP_BPF/CAP_NET_ADMIN the load is refused with a hint.
if command -v setpriv >/dev/null; then
	rc=0
	out=$(fg_in "$FG_V" setpriv --inh-caps=-all --bounding-set=-all \
		"$FLOODGATED" -c "$good" -i lo --pin-dir "$FG_PIN_DIR" 2>&1) || rc=$?
	fg_assert_eq "$rc" 1 "floodgated without capabilities exits 1"
	grep -q "CAP_BPF" <<<"$out" || fg_fail "no privilege hint: $out"
	fg_ok "missing privileges explained"
fi
fg_pass "errors are clear and leave nothing behind"
