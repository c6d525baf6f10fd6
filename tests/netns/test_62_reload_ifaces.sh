#!/bin/bash
# The interfaces of the config file on reload: a name that is no interface
# (a typo) refuses the reload, as it refuses a start, and the running config
# stays; an interface added is protected. A program another tool detaches,
# or an interface deleted and made again, is attached again; floodctl status
# says what the kernel has meanwhile ("NOT PROTECTED", as /healthz says).
# floodctl rules and count, which read the maps, find them in the agent's
# pin dir without -p. A second floodgated on an interface the first
# protects is told so.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd bpftool redis-cli
fg_topo_3ns
CONF=$FG_TMP/fg.yaml
conf() {
	printf 'interfaces: [%s]\n' "$1" >"$CONF.tmp"
	mv -f "$CONF.tmp" "$CONF"
}
status() { "$FLOODCTL" -s "$FG_SOCK" status; }
ifaces() { status | sed -n 's/^interfaces  *//p'; }
same() {
	[ "$1" = "$2" ] || fg_fail "$3: got '$1', expected '$2'"
	fg_ok "$3 ($1)"
}

# The config names the interfaces (fg_agent_start's -i would override them).
fg_bpffs
conf "$FG_V_IF_C"
FG_AGENT_LOG=$FG_TMP/agent.log FG_SOCK=$FG_TMP/fg.sock
fg_bg fg_in "$FG_V" "$FLOODGATED" -c "$CONF" --pin-dir "$FG_PIN_DIR" --socket "$FG_SOCK" \
	>>"$FG_AGENT_LOG" 2>&1
FG_AGENT=$FG_LAST_PID
fg_wait_for -t 20 _fg_agent_ready 0 || fg_fail "floodgated did not start: $(cat "$FG_AGENT_LOG")"
same "$(ifaces)" "$FG_V_IF_C (native)" "status: the one interface of the config"

# rules and count read the maps: in the agent's pin dir (FG_PIN_DIR, not
# the default), asked over the socket.
out=$("$FLOODCTL" -s "$FG_SOCK" count 2>&1) || fg_fail "floodctl -s SOCK count: $out"
grep -q "src_state" <<<"$out" || fg_fail "floodctl count: $out"
out=$("$FLOODCTL" -s "$FG_SOCK" rules 2>&1) || fg_fail "floodctl -s SOCK rules: $out"
# the maps hold rule ids; the names come from the agent
awk 'NR > 1 { printf "%s=%s ", $1, $NF }' <<<"$out" | grep -q "^0=tcp-default 1=udp-default " ||
	fg_fail "floodctl rules does not name the rules: $out"
fg_ok "floodctl count and rules find the agent's pin dir; rules are named"
same "$("$FLOODCTL" -s "$FG_SOCK" -p "$FG_PIN_DIR" rules | awk 'NR == 2 { print $NF }')" tcp-default \
	"rules -p on the pins of the agent -s names: named too"

# A typo: refused with the name, nothing attached, the running config stays.
conf "$FG_V_IF_C, $FG_V_IF_A, nosuch0"
rc=0
out=$("$FLOODCTL" -s "$FG_SOCK" reload 2>&1) || rc=$?
fg_assert_ne "$rc" 0 "floodctl reload of a config with a missing interface fails"
grep -qF "cannot protect nosuch0: no such interface" <<<"$out" ||
	fg_fail "the refusal does not name the interface: $out"
fg_ok "reload refused: $out"
same "$(ifaces)" "$FG_V_IF_C (native)" "the running config's interfaces stay"
fg_in "$FG_V" ip -d link show "$FG_V_IF_A" | grep -q xdp &&
	fg_fail "$FG_V_IF_A was left attached by the refused reload"
fg_ok "$FG_V_IF_A not attached by the refused reload"

# Added: protected.
conf "$FG_V_IF_C, $FG_V_IF_A"
out=$("$FLOODCTL" -s "$FG_SOCK" reload 2>&1) || fg_fail "reload with a second interface: $out"
same "$(ifaces)" "$FG_V_IF_C (native), $FG_V_IF_A (native)" "status: both interfaces"

# Another tool detaches the program: the agent attaches it again within a
# tick or two (through the agent's pinned link: bpftool cannot tell
# another namespace's interfaces apart).
bpftool link detach pinned "$FG_PIN_DIR/link_xdp_$FG_V_IF_A" ||
	fg_fail "bpftool link detach pinned $FG_PIN_DIR/link_xdp_$FG_V_IF_A: $(ls "$FG_PIN_DIR")"
both() { [ "$(ifaces)" = "$FG_V_IF_C (native), $FG_V_IF_A (native)" ]; }
fg_wait_for -t 10 both || fg_fail "not attached again after a detach: $(ifaces)"
grep -q "$FG_V_IF_A lost floodgate's XDP program" "$FG_AGENT_LOG" ||
	fg_fail "the log does not say the program was lost: $(tail -5 "$FG_AGENT_LOG")"
fg_ok "detached by another tool: attached again, and logged"

# Another tool's program in its place: left alone, said once; status says
# NOT PROTECTED. Removed, floodgate's is attached again.
fg_xdp_take "$FG_V_IF_A"
taken() { [ "$(ifaces)" = "$FG_V_IF_C (native), $FG_V_IF_A (NOT PROTECTED: another XDP program is attached)" ]; }
fg_wait_for -t 5 taken || fg_fail "status with another program on $FG_V_IF_A: $(ifaces)"
fg_wait_for -t 5 grep -q "$FG_V_IF_A is not protected: another XDP program is attached" "$FG_AGENT_LOG" ||
	fg_fail "the log does not say another program holds $FG_V_IF_A"
sleep 2 # two ticks more: still one line
fg_assert_eq "$(grep -c "$FG_V_IF_A is not protected" "$FG_AGENT_LOG")" 1 "said once"
taken || fg_fail "floodgate took the interface back from the other program: $(ifaces)"
ip -n "$FG_V" link set dev "$FG_V_IF_A" xdpdrv off
fg_wait_for -t 10 both || fg_fail "not attached again after the other program left: $(ifaces)"
fg_ok "another program: left alone and said once; gone, floodgate's is back"

# The interface deleted (a driver reset): status and INFO say so (the
# kernel's state, not what was attached); made again, it is protected again.
ip -n "$FG_V" link del "$FG_V_IF_A"
same "$(ifaces)" "$FG_V_IF_C (native), $FG_V_IF_A (NOT PROTECTED: interface missing)" \
	"status: the deleted interface"
redis-cli -s "$FG_SOCK" INFO xdp | tr -d '\r' | grep -qx \
	"iface_$FG_V_IF_A:mode=none,ifindex=0,attached=0,problem=interface missing" ||
	fg_fail "INFO xdp: $(redis-cli -s "$FG_SOCK" INFO xdp | grep iface_)"
fg_ok "INFO xdp: attached=0 with the reason"
ip link add "$FG_V_IF_A" netns "$FG_V" type veth peer name "$FG_A_IF" netns "$FG_A"
ip -n "$FG_V" link set "$FG_V_IF_A" up
ip -n "$FG_A" link set "$FG_A_IF" up
fg_wait_for -t 10 both || fg_fail "not attached to the interface made again: $(ifaces)"
fg_ok "the interface made again is protected again"

# A second floodgated (its own pins) on an interface the first protects:
# refused, and told which.
printf 'interfaces: [%s]\n' "$FG_V_IF_C" >"$FG_TMP/second.yaml"
fg_on_exit "rm -rf '$FG_PIN_DIR-second'"
rc=0
fg_in "$FG_V" timeout 20 "$FLOODGATED" -c "$FG_TMP/second.yaml" --pin-dir "$FG_PIN_DIR-second" \
	--socket "$FG_TMP/second.sock" >"$FG_TMP/second.log" 2>&1 || rc=$?
fg_assert_ne "$rc" 0 "a second floodgated on $FG_V_IF_C does not start"
grep -q "$FG_V_IF_C is protected by another floodgated" "$FG_TMP/second.log" ||
	fg_fail "the second agent's error: $(grep -i error "$FG_TMP/second.log")"
fg_ok "the second agent names the first as the holder"
fg_pass "a missing interface refuses the reload; status shows what the kernel has"
