# shellcheck shell=bash
# agent.sh — floodgate helpers for netns tests, sourced after lib.sh.
#
# floodgated runs inside the victim namespace V (nsenter keeps /sys/fs/bpf
# visible), pins under this test's FG_PIN_DIR, listens on $FG_SOCK in the
# test's own directory, and protects both of V's interfaces; floodctl reads
# the same pins.

FLOODGATED=${FLOODGATED:-$BUILD/floodgated}
FLOODCTL=${FLOODCTL:-$BUILD/floodctl}
FG_AGENT=
FG_AGENT_LOG=
FG_SOCK=

# fg_agent_start CONFIG [ARGS...] — start floodgated in V and wait until it
# protects its interfaces. Its log is $FG_AGENT_LOG (appended across restarts).
fg_agent_start() {
	local conf=$1
	shift
	[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"
	fg_bpffs
	FG_AGENT_LOG=$FG_TMP/agent.log
	local mark
	mark=0
	[ -f "$FG_AGENT_LOG" ] && mark=$(wc -l <"$FG_AGENT_LOG")
	FG_SOCK=$FG_TMP/fg.sock
	fg_bg fg_in "$FG_V" "$FLOODGATED" -c "$conf" -i "$FG_V_IF_C" -i "$FG_V_IF_A" \
		--pin-dir "$FG_PIN_DIR" --socket "$FG_SOCK" "$@" >>"$FG_AGENT_LOG" 2>&1
	FG_AGENT=$FG_LAST_PID
	fg_wait_for -t 20 _fg_agent_ready "$mark" || {
		cat "$FG_AGENT_LOG" >&2
		fg_fail "floodgated did not start"
	}
}
_fg_agent_ready() {
	kill -0 "$FG_AGENT" 2>/dev/null || return 2
	tail -n +"$(($1 + 1))" "$FG_AGENT_LOG" | grep -q "protecting "
}

# fg_nobody_dir — a directory U under FG_TMP that nobody (65534) owns, for an
# unprivileged agent's socket and files, and AS_NOBODY: the prefix that runs a
# command as nobody with no capability at all. A prefix, not a function: in
# the background setpriv is then the recorded PID, and it execs the command.
NOBODY=65534
fg_nobody_dir() {
	chmod 711 "$FG_TMP"
	U=$FG_TMP/u
	mkdir -m 700 "$U"
	chown "$NOBODY:$NOBODY" "$U"
	AS_NOBODY=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all
		--bounding-set=-all --)
}

# fg_app_agent_start LOG CMD... — CMD (floodgated --app-only, wrapped as the
# caller wants, e.g. in AS_NOBODY) in the background, output in LOG; waits for
# its ready line. AGENT is its PID.
AGENT=
fg_app_agent_start() {
	local log=$1
	shift
	fg_bg "$@" >"$log" 2>&1
	AGENT=$FG_LAST_PID
	fg_wait_for -t 20 _fg_app_ready "$log" || {
		cat "$log" >&2
		fg_fail "floodgated did not start in app-only mode"
	}
}
_fg_app_ready() {
	kill -0 "$AGENT" 2>/dev/null || return 2
	grep -q "serving applications in app-only mode" "$1"
}

# fg_log_wait PATTERN [SECONDS] — wait for a line matching PATTERN in the agent log.
fg_log_wait() {
	fg_wait_for -t "${2:-10}" grep -q -- "$1" "$FG_AGENT_LOG"
}

# fg_ctl ARGS... — floodctl on this test's pins.
fg_ctl() { "$FLOODCTL" -p "$FG_PIN_DIR" "$@"; }

# fg_stat REASON passed|dropped — a reason's packet counter (summed over CPUs).
fg_stat() {
	local col=2
	[ "$2" = dropped ] && col=3
	fg_ctl stats | awk -v r="$1" -v c=$col '$1 == r { print $c }'
}

# fg_rule_stat RULE_ID FIELD — FIELD of `floodctl rules` (new_flows passed
# drop_addr drop_prefix drop_global attack).
fg_rule_stat() {
	fg_ctl rules | awk -v id="$1" -v f="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) col[tolower($i)] = i; next }
		$1 == id { print $col[f] }'
}

# fg_xdp_take IF — another XDP program (XDP_PASS) in place of floodgate's on
# V's IF, as another tool would put it there. The agent is stopped meanwhile:
# it attaches its own again on its next tick when it finds none.
fg_xdp_take() {
	kill -STOP "$FG_AGENT"
	bpftool link detach pinned "$FG_PIN_DIR/link_xdp_$1" &&
		ip -n "$FG_V" link set dev "$1" xdpdrv obj "$BUILD/bench/noop.bpf.o" sec xdp
	local rc=$?
	kill -CONT "$FG_AGENT"
	[ $rc = 0 ] || fg_fail "cannot put another XDP program on $1"
}

# fg_xdp_prog_id NS IF — id of the XDP program attached to IF ("" if none).
fg_xdp_prog_id() {
	ip -n "$1" -d link show dev "$2" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}

# fg_serve PORT [ARGS...] — a TCP (and UDP with --udp) server in V until the test ends.
fg_serve() {
	local port=$1
	shift
	fg_bg fg_in "$FG_V" "$FGNET" serve --port "$port" "$@" --ready-file "$FG_TMP/serve.$port" \
		>"$FG_TMP/serve.$port.out"
	fg_wait_file "$FG_TMP/serve.$port" || fg_fail "server on $port did not start"
}

# fg_udp_tries PORT SRC N [TIMEOUT_MS] — N new UDP flows (a fresh socket, so a
# fresh source port, each) from SRC in C to V's PORT, one after another (each
# waits TIMEOUT_MS, default 150, for its echo); prints how many got their echo.
fg_udp_tries() {
	local out
	out=$(fg_in "$FG_C" "$FGNET" udp-talk --dst "$FG_V_IP4_C" --dport "$1" --src "$2" \
		--count "$3" --timeout-ms "${4:-150}" --new-flows)
	fg_log "udp-talk from $2: $out" >&2
	fg_kv ok "$out"
}

# ---- two agents sharing a Redis (test_88, test_89, test_92) ---------------------------
# fg_ab_setup — A's and B's pin directories PIN_A, PIN_B (removed on exit) and
# sockets SOCK_A, SOCK_B; ca/cb talk to each, info reads INFO policies.
# shellcheck disable=SC2034 # AGENT_A, AGENT_B are the tests'
AGENT_A='' AGENT_B=''
fg_ab_setup() {
	PIN_A=$FG_PIN_DIR-a PIN_B=$FG_PIN_DIR-b
	mkdir -p "$PIN_A" "$PIN_B" && chmod 700 "$PIN_A" "$PIN_B"
	fg_on_exit "rm -rf '$PIN_A' '$PIN_B'"
	SOCK_A=$FG_TMP/a.sock SOCK_B=$FG_TMP/b.sock
}

# fg_ab_start a|b CONF PORT PREFIX... [-- ARGS...] — floodgated -c CONF with a's
# (b's) pins and socket, /metrics on 127.0.0.1:PORT, run by PREFIX (fg_in NS,
# env ...), ARGS added (-i IFACE...); log $FG_TMP/agent-a.log (appended across
# restarts). Waits for its "protecting " line: AGENT_A (AGENT_B) is its PID.
fg_ab_start() {
	local who=$1 conf=$2 port=$3 log=$FG_TMP/agent-$1.log mark=0 pin=$PIN_A sock=$SOCK_A
	local -a prefix=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		prefix+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	[ "$who" = b ] && pin=$PIN_B sock=$SOCK_B
	[ -f "$log" ] && mark=$(wc -l <"$log")
	fg_bg "${prefix[@]}" "$FLOODGATED" -c "$conf" --pin-dir "$pin" --socket "$sock" \
		--metrics-listen "127.0.0.1:$port" "$@" >>"$log" 2>&1
	# shellcheck disable=SC2034
	if [ "$who" = a ]; then AGENT_A=$FG_LAST_PID; else AGENT_B=$FG_LAST_PID; fi
	fg_wait_for -t 20 _fg_ab_ready "$FG_LAST_PID" "$log" "$mark" || {
		cat "$log" >&2
		fg_fail "agent $who did not start"
	}
}
_fg_ab_ready() {
	kill -0 "$1" 2>/dev/null || return 2
	tail -n +"$(($3 + 1))" "$2" | grep -q "protecting "
}
ca() { redis-cli -s "$SOCK_A" "$@"; }
cb() { redis-cli -s "$SOCK_B" "$@"; }
# info SOCK FIELD — FIELD of INFO policies (the shared store's counters).
info() { redis-cli -s "$1" INFO policies | tr -d '\r' | sed -n "s/^$2://p"; }
up_both() { [ "$(info "$SOCK_A" store_fallback_active)" = 0 ] && [ "$(info "$SOCK_B" store_fallback_active)" = 0 ]; }
# fg_ab_fleet FROM_SOCK TO_SOCK ADDR WHAT — a ban on one agent reaches the
# other's ban map, with origin fleet.
fg_ab_fleet() {
	redis-cli -s "$1" XDP.BAN "$3" 600 >/dev/null
	fg_wait_for -t 2 sh -c "redis-cli -s '$2' XDP.LIST BANS | grep -q '^$3\$'" ||
		fg_fail "$4: the ban of $3 did not reach the other agent"
	redis-cli -s "$2" XDP.LIST BANS | grep -A1 "^$3\$" | grep -q fleet || fg_fail "$4: not origin fleet"
	fg_ok "$4: a ban of $3 reached the other agent (origin fleet)"
}
# fg_ab_vouch FROM_SOCK TO_SOCK ADDR WHAT — a vouch on one agent is a fleet vouch
# on the other within 1 s (the time it took is in the ok line), and the unvouch
# follows it there.
_fg_verified_by() { redis-cli -s "$1" XDP.SOURCE "$2" | grep -A1 '^verified_by$' | sed -n 2p; }
_fg_verified_is() { [ "$(_fg_verified_by "$1" "$2")" = "$3" ]; }
fg_ab_vouch() {
	local t0 ms
	t0=$(date +%s%3N)
	redis-cli -s "$1" XDP.VOUCH "$3" 60 >/dev/null
	fg_wait_for -t 1 _fg_verified_is "$2" "$3" fleet ||
		fg_fail "$4: the vouch of $3 did not reach the other agent within 1 s: $(_fg_verified_by "$2" "$3")"
	ms=$(($(date +%s%3N) - t0))
	redis-cli -s "$1" XDP.UNVOUCH "$3" >/dev/null
	fg_wait_for -t 1 _fg_verified_is "$2" "$3" none || fg_fail "$4: the unvouch of $3 did not follow within 1 s"
	fg_ok "$4: a vouch of $3 reached the other agent in $ms ms (origin fleet), the unvouch followed"
}
