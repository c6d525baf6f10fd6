#!/bin/bash
# Upgrades that change the layout of the pinned maps (FG_ABI_VERSION), found
# by the new agent in pins an older one left (persist: true):
#  - from a layout it adopts (FG_ABI_COMPAT and later): one line says so, the
#    maps whose shape is unchanged are kept (a prefix ban made before the
#    upgrade still drops the client's SYNs: the state filter and prefix ban
#    cover are rebuilt before the new program is attached), and one line
#    names those replaced because their shape changed (the state maps of
#    layouts 10 and 11, made here with their old value size);
#  - floodctl -p refuses pins of another layout with one line;
#  - a newer layout's settings, larger than ours, are read whole (downgrade);
#  - from an older one: one line names the layouts and the upgrade, every
#    map is replaced (the ban is gone), it protects again, and no config key
#    (sources.max_*) is blamed for it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd bpftool redis-cli
PORT=443
BAN=192.0.2.2/31 # the client (192.0.2.2), not the victim's 192.0.2.1
ADDR_BAN=192.0.2.2  # the client alone: an address ban, behind the ban filter
fg_topo_3ns
fg_serve $PORT

ours=$(sed -n 's/^#define FG_ABI_VERSION \([0-9]*\).*/\1/p' "$FG_ROOT/include/floodgate/abi.h")
compat=$(sed -n 's/^#define FG_ABI_COMPAT \([0-9]*\).*/\1/p' "$FG_ROOT/include/floodgate/abi.h")
[ -n "$ours" ] && [ -n "$compat" ] || fg_fail "cannot read FG_ABI_VERSION and FG_ABI_COMPAT"

# Make the pins look like those of a floodgated of layout $1.
pin_layout() {
	local value
	value=$(bpftool -j map lookup pinned "$FG_PIN_DIR/settings" key 0 0 0 0 |
		python3 -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(" ".join(v[4:] if isinstance(v[0], str) else []))')
	[ -n "$value" ] || fg_fail "cannot read the pinned settings"
	bpftool map update pinned "$FG_PIN_DIR/settings" key 0 0 0 0 \
		value $(printf '0x%02x 0 0 0' "$1") $value || fg_fail "cannot write the pinned settings"
}
# The agent's log since the mark (its log is appended across restarts).
mark=0
since() { tail -n +$((mark + 1)) "$FG_AGENT_LOG"; }
mark_log() { mark=$(wc -l <"$FG_AGENT_LOG"); }
# Connections from the client that went through (of 3).
connects() {
	fg_kv ok "$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 3 --timeout-ms 300)"
}

printf 'persist: true\n' >"$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
fg_assert_eq "$(connects)" 3 "the client connects before any ban"
redis-cli -s "$FG_SOCK" XDP.BAN "$BAN" 3600 >/dev/null
redis-cli -s "$FG_SOCK" XDP.BAN "$ADDR_BAN" 3600 >/dev/null
fg_assert_eq "$(connects)" 0 "the client's prefix banned"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
[ -e "$FG_PIN_DIR/settings" ] || fg_fail "persist: pins removed on SIGTERM"

if [ "$compat" -lt "$ours" ]; then
	pin_layout "$compat"
	# floodctl -p reads another layout's values as its own: it refuses.
	err=$("$FLOODCTL" -p "$FG_PIN_DIR" stats 2>&1) && fg_fail "floodctl -p read maps of layout $compat"
	echo "$err" | grep -q "are of map layout $compat, this floodctl reads layout $ours" ||
		fg_fail "floodctl -p on pins of layout $compat: $err"
	# The map 11 grew: gone here as if replaced, so the new agent must
	# rebuild the state filter and the cover from the adopted maps.
	rm -f "$FG_PIN_DIR/seen"
	# The ban filter of layouts 7-14 (65,536 slots): replaced by 15's
	# larger one, which must count the adopted address ban before the new
	# program is attached, or the program skips its lookup.
	rm -f "$FG_PIN_DIR/ban_filter"
	bpftool map create "$FG_PIN_DIR/ban_filter" type array key 4 value 262144 entries 1 \
		name ban_filter flags 1024 || fg_fail "cannot make a layout-$compat ban_filter"
	# The state maps of layouts 10 and 11, whose values 12 grew (32 -> 40
	# bytes): the new agent replaces them and says their state is lost.
	for m in src_state prefix_state; do
		entries=$(bpftool -j map show pinned "$FG_PIN_DIR/$m" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["max_entries"])')
		rm -f "$FG_PIN_DIR/$m"
		bpftool map create "$FG_PIN_DIR/$m" type lru_hash key 20 value 32 \
			entries "$entries" name "$m" || fg_fail "cannot make a layout-$compat $m"
	done
	mark_log
	fg_agent_start "$FG_TMP/fg.yaml"
	since | grep -q "pinned maps in $FG_PIN_DIR are of map layout $compat, this floodgated uses layout $ours: adopting" ||
		fg_fail "no line about adopting layout $compat: $(since | grep -i pinned)"
	! since | grep -q "start empty" || fg_fail "maps of an adoptable layout were all replaced"
	since | grep -q "2 replaced, their state starts empty: src_state, prefix_state" ||
		fg_fail "no line naming the replaced state maps: $(since | grep -i adopting)"
	! since | grep -q "buckets, bans and counters kept" ||
		fg_fail "buckets said to be kept although src_state was replaced"
	since | grep -q "state filter: new, over adopted maps" ||
		fg_fail "no rebuild asked for after the attach (the old program marked another filter)"
	fg_ctl list bans | grep -q "$BAN" || fg_fail "the ban was lost in the upgrade"
	fg_assert_eq "$(connects)" 0 "the ban made before the upgrade still drops the client"
	since | grep -q "pinned filter does not fit: replacing it (rebuilt from the adopted maps).*ban_filter" ||
		fg_fail "no line about the replaced ban filter: $(since | grep -i filter)"
	! since | grep -q "state is lost.*ban_filter" || fg_fail "the ban filter said to lose state"
	since | grep -q "ban filter: new, over adopted address bans; counted" ||
		fg_fail "the adopted address bans were not counted into the new filter"
	# Without the prefix ban, the address ban made before the upgrade drops
	# the client on its own: the new filter counts it.
	redis-cli -s "$FG_SOCK" XDP.UNBAN "$BAN" >/dev/null
	fg_assert_eq "$(connects)" 0 "the address ban made before the upgrade drops the client"
	redis-cli -s "$FG_SOCK" XDP.UNBAN "$ADDR_BAN" >/dev/null
	fg_assert_eq "$(connects)" 3 "the client connects once both bans are lifted"
	redis-cli -s "$FG_SOCK" XDP.BAN "$BAN" 3600 >/dev/null
	fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
	fg_ok "pins of layout $compat adopted: the ban kept and enforced"
fi

old=$((compat - 1))
pin_layout "$old"
printf 'persist: false\n' >"$FG_TMP/fg.yaml"
mark_log
fg_agent_start "$FG_TMP/fg.yaml"
since | grep -q "pinned maps in $FG_PIN_DIR are of map layout $old, this floodgated uses layout $ours (floodgated was upgraded)" ||
	fg_fail "no clear line about the older layout: $(since | grep -i pinned)"
[ "$(since | grep -c 'pinned map')" = 1 ] || fg_fail "more than one line about pinned maps"
! since | grep -q "sources.max_" || fg_fail "a config key is blamed for the upgrade"
! since | grep -q "adopting" || fg_fail "maps of another layout were adopted"
[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "not attached after the upgrade"
fg_assert_eq "$(connects)" 3 "bans start empty after a layout that cannot be adopted"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"

# A newer floodgated's pins (a downgrade) whose settings are larger than
# ours: the layout is read from them whole, not into our smaller struct.
mkdir -p "$FG_PIN_DIR"
bpftool map create "$FG_PIN_DIR/settings" type array key 4 value 256 entries 1 name settings ||
	fg_fail "cannot make a larger settings map"
bpftool map update pinned "$FG_PIN_DIR/settings" key 0 0 0 0 value 99 $(printf '0 %.0s' $(seq 255)) ||
	fg_fail "cannot write the larger settings"
err=$("$FLOODCTL" -p "$FG_PIN_DIR" stats 2>&1) && fg_fail "floodctl -p read maps of layout 99"
echo "$err" | grep -q "are of map layout 99, this floodctl reads layout $ours" ||
	fg_fail "floodctl -p on larger settings of layout 99: $err"
mark_log
fg_agent_start "$FG_TMP/fg.yaml"
since | grep -q "are of map layout 99, this floodgated uses layout $ours (floodgated was downgraded)" ||
	fg_fail "no clear line about the newer layout: $(since | grep -i pinned)"
fg_assert_eq "$(connects)" 3 "protecting after the downgrade"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
fg_pass "pins of an older map layout: adopted from FG_ABI_COMPAT on, replaced before it, protecting again"
