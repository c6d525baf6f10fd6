#!/bin/bash
# An upgrade that changes the layout of the pinned maps (FG_ABI_VERSION): the
# new agent finds pins of the older layout (persist: true left them), says so
# in one line that names the layouts and the upgrade, replaces them, and
# protects again; it does not blame a config key (sources.max_*) for it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd bpftool
fg_topo_3ns
printf 'persist: true\n' >"$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
[ -e "$FG_PIN_DIR/settings" ] || fg_fail "persist: pins removed on SIGTERM"

# Make the pins look like an older floodgated's: settings.abi_version one less.
ours=$(sed -n 's/^#define FG_ABI_VERSION \([0-9]*\).*/\1/p' "$FG_ROOT/include/floodgate/abi.h")
old=$((ours - 1))
value=$(bpftool -j map lookup pinned "$FG_PIN_DIR/settings" key 0 0 0 0 |
	python3 -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(" ".join(v[4:] if isinstance(v[0], str) else []))')
[ -n "$value" ] || fg_fail "cannot read the pinned settings"
bpftool map update pinned "$FG_PIN_DIR/settings" key 0 0 0 0 \
	value $(printf '0x%02x 0 0 0' "$old") $value || fg_fail "cannot write the pinned settings"

printf 'persist: false\n' >"$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
grep -q "pinned maps in $FG_PIN_DIR are of map layout $old, this floodgated uses layout $ours (floodgated was upgraded)" \
	"$FG_AGENT_LOG" || fg_fail "no clear line about the older layout: $(grep -i pinned "$FG_AGENT_LOG")"
[ "$(grep -c 'pinned map' "$FG_AGENT_LOG")" = 1 ] || fg_fail "more than one line about pinned maps"
! grep -q "sources.max_" "$FG_AGENT_LOG" || fg_fail "a config key is blamed for the upgrade"
! grep -q "adopting" "$FG_AGENT_LOG" || fg_fail "maps of another layout were adopted"
[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "not attached after the upgrade"
fg_stop "$FG_AGENT" 10 || fg_fail "agent exited with an error on SIGTERM"
fg_pass "pins of an older map layout: one clear line, replaced, protecting again"
