#!/bin/bash
# floodgated keeps only CAP_BPF and CAP_NET_ADMIN after start (every thread; the bounding
# set too; no_new_privs) and still does what a running agent does: a SIGHUP reload that
# attaches a newly listed interface (XDP and the TC egress filter) which then drops a
# flood, XDP.BAN over the socket, detaching at exit. Then the same start under the
# systemd unit's CapabilityBoundingSet with socket.group set (CAP_CHOWN at bind).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd setpriv tc
PORT=443
KEPT=0000008000001000 # CAP_BPF (39) | CAP_NET_ADMIN (12)
UNIT="$FG_ROOT/packaging/floodgated.service.in"
fg_topo_3ns
fg_bpffs
fg_serve $PORT

# write_conf "IFACE, IFACE" [GROUP]
write_conf() {
	cat >"$FG_TMP/fg.yaml" <<YAML
interfaces: [$1]
socket: { group: "${2:-}" }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 5, burst: 10 }
YAML
}

# start LOG [WRAPPER...] — the agent in V, interfaces from the config (no -i: a reload
# must be able to add one). Returns 1 if it exits instead of protecting.
start() {
	FG_AGENT_LOG=$FG_TMP/$1
	shift
	FG_SOCK=$FG_TMP/fg.sock
	fg_bg fg_in "$FG_V" "$@" "$FLOODGATED" -c "$FG_TMP/fg.yaml" --pin-dir "$FG_PIN_DIR" \
		--socket "$FG_SOCK" >"$FG_AGENT_LOG" 2>&1
	FG_AGENT=$FG_LAST_PID
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q "protecting " "$FG_AGENT_LOG" && return 0
		kill -0 "$FG_AGENT" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# cap_field PID FIELD — the same FIELD (CapEff, CapBnd, NoNewPrivs ...) of every thread,
# or "differs: ..." when threads disagree.
cap_field() {
	local v
	v=$(cat /proc/"$1"/task/*/status | awk -v f="$2:" '$1 == f { print $2 }' | sort -u)
	[ "$(wc -l <<<"$v")" = 1 ] && echo "$v" || echo "differs: $(tr '\n' ' ' <<<"$v")"
}

connects() {
	fg_kv ok "$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 3 \
		--timeout-ms 300)"
}

# --- 1. started with every capability (as root) ------------------------------------------
write_conf "$FG_V_IF_C"
start agent1.log || { cat "$FG_AGENT_LOG" >&2; fg_fail "floodgated did not start"; }
grep -q 'msg="capabilities dropped" kept=cap_bpf,cap_net_admin bounding=cap_net_admin,cap_bpf' \
	"$FG_AGENT_LOG" || fg_fail "no log line naming the kept capabilities: $(cat "$FG_AGENT_LOG")"
fg_ok "the log names the kept capabilities"
nthreads=$(find /proc/"$FG_AGENT"/task -mindepth 1 -maxdepth 1 | wc -l)
for f in CapEff CapPrm CapBnd; do
	[ "$(cap_field "$FG_AGENT" $f)" = $KEPT ] ||
		fg_fail "$f of the agent's $nthreads thread(s) is $(cap_field "$FG_AGENT" $f), want $KEPT"
done
for f in CapInh CapAmb; do
	[ "$(cap_field "$FG_AGENT" $f)" = 0000000000000000 ] || fg_fail "$f is not empty"
done
[ "$(cap_field "$FG_AGENT" NoNewPrivs)" = 1 ] || fg_fail "no_new_privs is not set"
fg_ok "all $nthreads thread(s): CapEff = CapPrm = CapBnd = {bpf, net_admin}, no inheritable/ambient, no_new_privs"

# A reload after the drop attaches a newly listed interface, and it protects.
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "$FG_V_IF_A protected before it is listed"
write_conf "$FG_V_IF_C, $FG_V_IF_A"
kill -HUP "$FG_AGENT"
fg_log_wait 'msg="config reloaded".*interfaces=2' || fg_fail "reload not logged: $(cat "$FG_AGENT_LOG")"
[ -n "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")" ] || fg_fail "reload did not attach XDP to $FG_V_IF_A"
fg_in "$FG_V" tc filter show dev "$FG_V_IF_A" egress | grep -q bpf ||
	fg_fail "reload did not attach the TC egress filter to $FG_V_IF_A: $(grep -i warn "$FG_AGENT_LOG")"
fg_ok "SIGHUP after the drop attached XDP and the TC egress filter to $FG_V_IF_A"
fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src 203.0.113.10 --count 1000 \
	--seconds 5 >/dev/null
fg_assert_ge "$(fg_stat source dropped)" 980 "the interface attached on reload drops the flood"

# XDP.BAN over the socket lands in the map and drops the client.
fg_assert_eq "$(connects)" 3 "the client connects before the ban"
"$FLOODCTL" -s "$FG_SOCK" ban "$FG_C_IP4" --for 60s >/dev/null || fg_fail "ban over the socket failed"
fg_ctl list bans | grep -q "$FG_C_IP4" || fg_fail "the ban is not in the pinned map"
fg_assert_eq "$(connects)" 0 "a ban written after the drop drops the client"
"$FLOODCTL" -s "$FG_SOCK" unban "$FG_C_IP4" >/dev/null || fg_fail "unban over the socket failed"

# Removing an interface and exiting detach with the kept capabilities only.
write_conf "$FG_V_IF_A"
kill -HUP "$FG_AGENT"
fg_wait_for grep -q "detached from $FG_V_IF_C" "$FG_AGENT_LOG" || fg_fail "reload did not detach"
fg_stop "$FG_AGENT" || fg_fail "agent exited non-zero: $(tail -5 "$FG_AGENT_LOG")"
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_A")$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_C")" ] ||
	fg_fail "XDP still attached after exit"
! fg_in "$FG_V" tc filter show dev "$FG_V_IF_A" egress | grep -q bpf ||
	fg_fail "TC egress filter left on $FG_V_IF_A after exit"
fg_ok "dropping an interface on reload and the exit detach XDP and TC"

# --- 2. under the unit's CapabilityBoundingSet and NoNewPrivileges ------------------------
# shellcheck disable=SC2046 # one word per capability
set -- $(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ $# -ge 2 ] || fg_fail "no CapabilityBoundingSet= in $UNIT"
unit_caps=-all
for c; do unit_caps="$unit_caps,+$(tr '[:upper:]' '[:lower:]' <<<"${c#CAP_}")"; done
fg_log "unit bounding set: $unit_caps"
under() { # CAPS — setpriv as systemd would leave a uid-0 service
	echo setpriv --bounding-set="$1" --inh-caps=-all --no-new-privs --
}
group=$(getent group nogroup | cut -d: -f1 || true)
write_conf "$FG_V_IF_C, $FG_V_IF_A" "$group"
# shellcheck disable=SC2046 # a command prefix
start agent2.log $(under "$unit_caps") ||
	fg_fail "floodgated does not start with the unit's capabilities: $(cat "$FG_AGENT_LOG")"
fg_assert_eq "$(cap_field "$FG_AGENT" CapPrm)" $KEPT "kept {bpf, net_admin} under the unit's set"
if [ -n "$group" ]; then
	[ "$(stat -c %G "$FG_SOCK")" = "$group" ] || fg_fail "socket not given to group $group"
	fg_ok "socket.group applied (CAP_CHOWN at bind)"
fi
"$FLOODCTL" -s "$FG_SOCK" ban 203.0.113.99 --for 60s >/dev/null || fg_fail "ban failed"
fg_ctl list bans | grep -q 203.0.113.99 || fg_fail "the ban is not in the pinned map"
kill -HUP "$FG_AGENT"
fg_log_wait 'msg="config reloaded"' || fg_fail "reload failed under the unit's capabilities"
fg_ok "ban and reload under the unit's capabilities"
fg_stop "$FG_AGENT" || fg_fail "agent exited non-zero under the unit's capabilities"

# Each of the unit's start-only capabilities is needed (the reason it is in the unit).
if [ -n "$group" ]; then
	# shellcheck disable=SC2046
	if start agent3.log $(under "${unit_caps/,+chown/}"); then
		fg_fail "started and gave the socket to $group without CAP_CHOWN"
	fi
	grep -q "cannot give .* to group $group" "$FG_AGENT_LOG" ||
		fg_fail "no clear error without CAP_CHOWN: $(cat "$FG_AGENT_LOG")"
	fg_ok "without CAP_CHOWN socket.group fails, and says so"
fi
write_conf "$FG_V_IF_C"
# shellcheck disable=SC2046
if start agent4.log $(under "${unit_caps/,+perfmon/}"); then
	fg_log "note: this kernel loads the program without CAP_PERFMON; the unit may not need it"
	fg_stop "$FG_AGENT" || true
else
	grep -q "refused to load" "$FG_AGENT_LOG" || fg_fail "no clear error without CAP_PERFMON"
	fg_ok "without CAP_PERFMON the verifier refuses the program, and the log says so"
fi
fg_pass "capabilities dropped to {bpf, net_admin}; reload, bans and exit work after the drop"
