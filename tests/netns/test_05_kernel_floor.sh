#!/bin/bash
# Below the kernel floor (5.12, BPF atomics) floodgated exits 2 at start with
# one line an operator can act on, attaches and pins nothing. The old kernel
# is real as far as the agent can tell: setarch --uname-2.6 makes uname(2)
# report 2.6.x (the kernel's UNAME26 personality).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd setarch
fg_ns_add V
FG_V=$FG_NS_LAST
fg_bpffs
good=$FG_ROOT/packaging/floodgate.yaml
old=$(setarch "$(uname -m)" --uname-2.6 uname -r 2>/dev/null) || fg_skip "setarch --uname-2.6 does not work here"
case $old in 2.6.*) ;; *) fg_skip "setarch --uname-2.6 reports '$old', not 2.6.x" ;; esac

rc=0
# Bounded: an agent that does not refuse would run until stopped.
out=$(timeout -k 5 20 nsenter --net="/run/netns/$FG_V" -- setarch "$(uname -m)" --uname-2.6 \
	"$FLOODGATED" -c "$good" -i lo \
	--pin-dir "$FG_PIN_DIR" --socket "$FG_TMP/fg.sock" 2>&1) || rc=$?
fg_log "output: $out"
fg_assert_eq "$rc" 2 "below the floor: exit 2 (not restarted by the unit)"
fg_assert_eq "$(wc -l <<<"$out")" 1 "exactly one line"
grep -qF "floodgate needs Linux >= 5.12 (BPF atomics); this host runs $old" <<<"$out" ||
	fg_fail "the line does not name the floor and the release: $out"
fg_ok "one line names the floor, the reason and the release"
[ -z "$(fg_xdp_prog_id "$FG_V" lo)" ] || fg_fail "XDP attached below the floor"
[ ! -e "$FG_PIN_DIR/settings" ] || fg_fail "maps pinned below the floor"
fg_ok "nothing attached or pinned"

# At or above the floor the same command starts (and protects lo).
cfg=$FG_TMP/fg.yaml
printf 'rules: []\n' >"$cfg"
fg_bg fg_in "$FG_V" "$FLOODGATED" -c "$cfg" -i lo --pin-dir "$FG_PIN_DIR" \
	--socket "$FG_TMP/fg.sock" >"$FG_TMP/agent.log" 2>&1
agent=$FG_LAST_PID
fg_wait_for -t 20 grep -q "protecting " "$FG_TMP/agent.log" || {
	cat "$FG_TMP/agent.log" >&2
	fg_fail "floodgated did not start on this host's own kernel ($(uname -r))"
}
! grep -q "floodgate needs Linux" "$FG_TMP/agent.log" || fg_fail "refused on $(uname -r)"
fg_stop "$agent" 10 || fg_fail "agent exited with an error on SIGTERM"
fg_pass "kernel floor: refused with one clear line below 5.12, starts above"
