#!/bin/bash
# App-only mode (floodgated --app-only, app_only: true): the agent as an
# application's test suite or a developer runs it. As an unprivileged user
# (nobody, no capabilities) with its socket in a directory it owns, it
# answers RL.CHECK and RL.AUTH.* exactly, XDP.* with one clear error (also
# through floodctl), says its mode in INFO and /metrics (scraped over HTTP on
# 127.0.0.1), counts a policy's xdp_ban as not applied, keeps its state
# across SIGHUP and CONFIG RELOAD (its own uid is an admin), limits three
# event types of one connection independently and forgets them with one
# RL.CONN.CLOSE (memory and Redis stores), answers CL.THROTTLE as redis-cell
# does (keys apart from the policies', through Redis too), checks configs,
# shares state through Redis, picks $XDG_RUNTIME_DIR for its socket when none
# is given, keeps the socket's directory and admin checks, and never loads a
# BPF object or touches /sys/fs/bpf. As root with --app-only it does the same
# and keeps no capability.
#
# No namespace: the agent serves a Unix socket and loopback HTTP, as on a
# laptop. Every process is recorded by PID and stopped by PID.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd setpriv redis-cli redis-server curl python3
fg_ns_setup
[ -x "$FLOODGATED" ] || fg_fail "$FLOODGATED missing: run make"
[ -x "$FLOODCTL" ] || fg_fail "$FLOODCTL missing: run make"

APP_ERR="ERR app-only mode: floodgated runs without XDP (--app-only); XDP commands are not available"
# nobody reaches its own directory through the test's (root's, 0711) one.
fg_nobody_dir
as_nobody() { "${AS_NOBODY[@]}" "$@"; }
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# What /sys/fs/bpf looks like now: whether bpffs is mounted, and what it holds.
bpffs_state() {
	if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ]; then
		echo mounted
		find /sys/fs/bpf -user "$NOBODY" 2>/dev/null
	else
		echo "not mounted"
	fi
}
BPFFS_BEFORE=$(bpffs_state)

# no_bpf PID WHAT — the process holds no BPF object (map, program, link, BTF) and
# nothing under /sys/fs/bpf open.
no_bpf() {
	local fd n=0
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in
		anon_inode:bpf* | anon_inode:btf | /sys/fs/bpf*) n=$((n + 1)) ;;
		esac
	done
	fg_assert_eq "$n" 0 "$2: no BPF map, program or link open"
}
# no_caps PID WHAT — nothing in the permitted or effective sets.
no_caps() {
	local prm eff
	prm=$(awk '/^CapPrm:/ { print $2 }' "/proc/$1/status")
	eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$1/status")
	if [ "$prm" != 0000000000000000 ] || [ "$eff" != 0000000000000000 ]; then
		fg_fail "$2: capabilities left: CapPrm=$prm CapEff=$eff"
	fi
	fg_ok "$2: no capability (CapPrm=CapEff=0)"
}

start_agent() { fg_app_agent_start "$@"; }

# rl_check SOCK POLICY KEY — "allowed remaining" of one RL.CHECK.
rl_check() {
	redis-cli -s "$1" RL.CHECK "$2" "$3" | sed -n '1p;3p' | tr '\n' ' ' | sed 's/ $//'
}
# window_counts SOCK POLICY KEY N — N checks: the allowed/remaining pairs, comma-joined.
window_counts() {
	local i out=
	for ((i = 0; i < $4; i++)); do
		out+="$(rl_check "$1" "$2" "$3"),"
	done
	printf '%s\n' "${out%,}"
}
# events SOCK POLICY CONN TYPE N — N RL.EVENTs in one redis-cli: each reply's
# state/count/limit/type, comma-joined.
events() {
	local i
	for ((i = 0; i < $5; i++)); do
		printf 'RL.EVENT %s %s %s\n' "$2" "$3" "$4"
	done | redis-cli -s "$1" | paste -d/ - - - - | paste -sd, -
}
# event_types SOCK WHAT — the meeting server's plan on connection sock:1 of
# policy meet: offers, ICE candidates and host actions limited each by its
# own limit on one connection, an unnamed type refused, one RL.CONN.CLOSE
# forgetting all three.
event_types() {
	local o i got
	o=$(events "$1" meet sock:1 offer 11)
	same "$o" "$(for i in 1 2 3 4 5 6 7; do printf 'ok/%d/10/offer,' $i; done
		echo warn/8/10/offer,ok/9/10/offer,disconnect/10/10/offer,disconnect/11/10/offer)" \
		"$2: offers 10/min: warn at the 8th, disconnect at the 10th"
	got=$(events "$1" meet sock:1 ice-candidate 50 | tr , '\n')
	same "$(sed -n '1p;40p;49p;50p' <<<"$got" | paste -sd, -)" \
		"ok/1/50/ice-candidate,warn/40/50/ice-candidate,ok/49/50/ice-candidate,disconnect/50/50/ice-candidate" \
		"$2: ICE candidates 50/min on the same connection, untouched by the offers' disconnect"
	same "$(events "$1" meet sock:1 host-action 3)" \
		"ok/1/3/host-action,warn/2/3/host-action,disconnect/3/3/host-action" \
		"$2: host actions 3/min"
	got=$(redis-cli -s "$1" RL.EVENT meet sock:1 chat)
	grep -q "^ERR unknown event type 'chat' for policy 'meet' (its events: offer, ice-candidate, host-action)" <<<"$got" ||
		fg_fail "$2: an unnamed type is not refused clearly: '$got'"
	fg_ok "$2: an unnamed type is refused ($got)"
	same "$(events "$1" meet sock:2 offer 1)" ok/1/10/offer "$2: another connection counts apart"
	got=$("$FLOODCTL" -s "$1" --json event meet sock:2 offer)
	same "$got" '{"state":"ok","count":2,"limit":10,"type":"offer"}' "$2: floodctl event names the type"
	same "$(redis-cli -s "$1" RL.POLICY meet | tail -1)" \
		'"meet-offer";q=10;w=60, "meet-ice-candidate";q=50;w=60, "meet-host-action";q=3;w=60' \
		"$2: RL.POLICY gives the per-type limits as a RateLimit-Policy value"
	same "$(redis-cli -s "$1" RL.CONN.CLOSE meet sock:1)" OK "$2: one RL.CONN.CLOSE"
	same "$(events "$1" meet sock:1 offer 1),$(events "$1" meet sock:1 ice-candidate 1),$(events "$1" meet sock:1 host-action 1)" \
		"ok/1/10/offer,ok/1/50/ice-candidate,ok/1/3/host-action" \
		"$2: RL.CONN.CLOSE forgot all three types"
}

# same GOT WANT WHAT — string equality (fg_assert_eq compares numbers).
same() {
	[ "$1" = "$2" ] || fg_fail "$3: got '$1', expected '$2'"
	fg_ok "$3 ($1)"
}
# assert_app_err WHAT OUTPUT
assert_app_err() {
	grep -qxF -- "$APP_ERR" <<<"$2" || fg_fail "$1: not the app-only error: '$2'"
	fg_ok "$1: $APP_ERR"
}

# ---- 1. nobody, no capability, memory store, socket in its own directory ----------------
PORT=$(free_port)
CONF=$U/fg.yaml
cat >"$CONF" <<YAML
# The production file a developer reuses: its interface is ignored in app-only mode.
interfaces: [eth0]
rules:
  - { name: https, proto: tcp, ports: [443], per_source: { rate: 5, burst: 5 } }
metrics: { listen: "127.0.0.1:$PORT" }
per_call_limits: { max_keys: 100 }
policies:
  - { name: api, type: window, limits: [ { count: 5, per: 1h } ] }
  - { name: login, type: progressive, free_failures: 2, base_delay: 1s, factor: 2,
      xdp_ban: { after: 3, for: 10m } }
  - name: meet
    type: events
    events:
      offer: { limit: 10, per: 1m }
      ice-candidate: { limit: 50, per: 1m }
      host-action: { limit: 3, per: 1m }
YAML
chown "$NOBODY:$NOBODY" "$CONF"
SOCK=$U/fg.sock
LOG=$FG_TMP/nobody.log
start_agent "$LOG" "${AS_NOBODY[@]}" "$FLOODGATED" --app-only -c "$CONF" --socket "$SOCK"
NB=$AGENT
fg_assert_eq "$(stat -c %u /proc/"$NB")" "$NOBODY" "the agent runs as nobody"
no_caps "$NB" "as nobody"
no_bpf "$NB" "as nobody"
fg_assert_eq "$(stat -c %u "$SOCK")" "$NOBODY" "the socket belongs to the agent's user"
fg_assert_eq "$(stat -c %a "$SOCK")" 660 "the socket's mode is 0660"
grep -q 'interfaces: in the config are ignored' "$LOG" ||
	fg_fail "no warning that the config's interfaces are ignored: $(cat "$LOG")"
fg_ok "the config's interfaces are ignored with a warning"
fg_assert_eq "$(grep -c "xdp_ban is not applied.*policy=login" "$LOG")" 1 \
	"the xdp_ban policy says once that its bans are not applied"
# Its own uid joins root's as an admin, and the start line names them.
grep -q "msg=listening .*admin_uids=0,$NOBODY admin_gids=" "$LOG" ||
	fg_fail "the listening line does not name the admin uids: $(grep -m1 listening "$LOG")"
fg_ok "the listening line names the admin uids: 0,$NOBODY"

# Exact window counts: 5 allowed (remaining 4..0), then denied.
got=$(window_counts "$SOCK" api user:1 7)
[ "$got" = "1 4,1 3,1 2,1 1,1 0,0 0,0 0" ] ||
	fg_fail "RL.CHECK api (5 per hour): got '$got'"
fg_ok "RL.CHECK: 5 of 5 allowed, then denied ($got)"
fg_assert_eq "$(rl_check "$SOCK" api user:2 | cut -d' ' -f1)" 1 "another key has its own window"

# Progressive answers: free, free, then 1 s, 2 s; CHECK waits; OK forgets.
got=
for i in 1 2 3 4; do
	got+="$(redis-cli -s "$SOCK" RL.AUTH.FAIL login 192.0.2.7 | tr '\n' ' ')"
done
[ "$got" = "0 1 0 2 1000 3 2000 4 " ] || fg_fail "RL.AUTH.FAIL delays/failures: got '$got'"
fg_ok "RL.AUTH.FAIL: delay_ms/failures 0/1 0/2 1000/3 2000/4"
read -r wait fails <<<"$(redis-cli -s "$SOCK" RL.AUTH.CHECK login 192.0.2.7 | tr '\n' ' ')"
fg_assert_gt "$wait" 0 "RL.AUTH.CHECK waits after 4 failures"
fg_assert_le "$wait" 2000 "RL.AUTH.CHECK waits at most the last delay"
fg_assert_eq "$fails" 4 "RL.AUTH.CHECK counts 4 failures"
same "$(redis-cli -s "$SOCK" RL.AUTH.OK login 192.0.2.7)" OK "RL.AUTH.OK"
same "$(redis-cli -s "$SOCK" RL.AUTH.CHECK login 192.0.2.7 | tr '\n' ' ')" "0 0 " \
	"RL.AUTH.OK forgets the key (wait 0, 0 failures)"

# Per-event-type limits in one events policy (issue 12 item 8).
event_types "$SOCK" memory

# XDP commands: one clear error, whatever the arguments, also through floodctl.
for cmd in "XDP.STATS" "XDP.BAN 192.0.2.9 60" "XDP.SOURCE 192.0.2.9" "xdp.top 5" \
	"XDP.LIST bans" "XDP.ALLOW 192.0.2.0/24" "XDP.WATCH"; do
	# shellcheck disable=SC2086 # the command's words
	assert_app_err "$cmd" "$(timeout 5 redis-cli -s "$SOCK" $cmd)"
done
for cmd in stats "ban 192.0.2.9" "list bans"; do
	rc=0
	# shellcheck disable=SC2086
	out=$(timeout 5 "$FLOODCTL" -s "$SOCK" $cmd 2>&1) || rc=$?
	fg_assert_ne "$rc" 0 "floodctl $cmd fails"
	grep -qF "$APP_ERR" <<<"$out" || fg_fail "floodctl $cmd: not the app-only error: '$out'"
	fg_ok "floodctl $cmd: the app-only error"
done
same "$(redis-cli -s "$SOCK" PING)" PONG "the agent still serves after XDP commands"

# INFO and /metrics say the mode; the 2 bans the login policy asked for are not applied.
info=$(redis-cli -s "$SOCK" INFO | tr -d '\r')
grep -qx 'mode:app-only' <<<"$info" || fg_fail "INFO has no mode:app-only: $info"
fg_assert_eq "$(sed -n 's/^xdp_bans_not_applied://p' <<<"$info")" 2 \
	"INFO: the 2 bans asked for (failures 3 and 4) are not applied"
grep -qx "unix_socket:$SOCK" <<<"$info" || fg_fail "INFO unix_socket is not $SOCK"
fg_ok "INFO says mode:app-only"
out=$(timeout 5 "$FLOODCTL" -s "$SOCK" status 2>&1) || fg_fail "floodctl status: $out"
grep -qE '^mode +app-only: no XDP program, application limits only \(2 xdp_ban results not applied\)$' \
	<<<"$out" || fg_fail "floodctl status does not say app-only: $out"
fg_ok "floodctl status says app-only"
# CONFIG GET answers the settings tools read on connect, truthfully, and
# redis-benchmark runs against the socket without a warning.
same "$(redis-cli -s "$SOCK" CONFIG GET appendonly | tr '\n' ' ')" "appendonly no " "CONFIG GET appendonly"
same "$(redis-cli -s "$SOCK" CONFIG GET '*' | wc -l)" 4 "CONFIG GET * names save and appendonly"
same "$(redis-cli -s "$SOCK" CONFIG GET maxmemory | wc -w)" 0 "CONFIG GET of another setting: nothing"
if command -v redis-benchmark >/dev/null; then
	out=$(timeout 20 redis-benchmark -s "$SOCK" -n 200 -c 1 -q PING 2>&1)
	! grep -qi warning <<<"$out" || fg_fail "redis-benchmark warns: $out"
	fg_ok "redis-benchmark runs without a warning"
fi
metrics() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics"; }
_metric_is() { [ "$(metrics | awk -v m="$1" '$1 == m { print $2 }')" = "$2" ]; }
fg_wait_for -t 10 _metric_is 'floodgate_app_bans_total{result="no_xdp"}' 2 ||
	fg_fail "/metrics: no_xdp app bans not 2: $(metrics | grep app_bans)"
fg_ok '/metrics: floodgate_app_bans_total{result="no_xdp"} 2'
m=$(metrics)
grep -qx 'floodgate_mode_info{mode="app-only"} 1' <<<"$m" ||
	fg_fail "/metrics has no floodgate_mode_info{mode=\"app-only\"} 1"
fg_ok '/metrics: floodgate_mode_info{mode="app-only"} 1'
! grep -q '^floodgate_xdp_' <<<"$m" || fg_fail "/metrics shows XDP families in app-only mode"
fg_ok "/metrics: no floodgate_xdp_* family"
grep -q '^floodgate_rl_decisions_total{policy="api",result="denied"} 2$' <<<"$m" ||
	fg_fail "/metrics: api's denials are not 2: $(grep rl_decisions <<<"$m")"
fg_ok "/metrics: the policy decisions (api denied 2)"
fg_assert_eq "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$PORT/healthz")" 200 "/healthz: 200"

# CL.THROTTLE (limits given per call): redis-cell's README example and reply, a burst of
# max_burst + 1 then limited, quantity 0 peeks, keys apart from api's, errors by argument.
cl() { redis-cli -s "$SOCK" CL.THROTTLE "$@" | tr '\n' ' ' | sed 's/ *$//'; }
# cl_is WANT WHAT ARGS... — CL.THROTTLE ARGS answers WANT: its first three fields exactly,
# its two times (seconds, rounded up; -1 exactly) up to 10 s lower, as time has passed
# since the key's first call on a loaded machine (unit tests check them to the second).
cl_is() {
	local want=$1 what=$2 got i
	shift 2
	got=$(cl "$@")
	local -a g=($got) w=($want)
	[ "${#g[@]}" = 5 ] && [ "${g[*]:0:3}" = "${w[*]:0:3}" ] || fg_fail "$what: got '$got', expected '$want'"
	for i in 3 4; do
		if [ "${w[i]}" = -1 ]; then
			[ "${g[i]}" = -1 ] || fg_fail "$what: got '$got', expected '$want'"
		elif ((g[i] > w[i] || g[i] < w[i] - 10)); then
			fg_fail "$what: got '$got', expected '$want' (times within 10 s)"
		fi
	done
	fg_ok "$what ($got)"
}
same "$(cl user123 15 30 60)" "0 16 15 -1 2" "CL.THROTTLE user123 15 30 60 (redis-cell's README)"
cl_is "0 3 2 -1 60" "CL.THROTTLE user:1 2 1 60: 1 of 3 at once" user:1 2 1 60
cl_is "0 3 1 -1 120" "2 of 3" user:1 2 1 60
cl_is "0 3 0 -1 180" "3 of 3" user:1 2 1 60
cl_is "1 3 0 60 180" "then limited for 60 s" user:1 2 1 60
cl_is "0 3 0 -1 180" "quantity 0 peeks" user:1 2 1 60 0
cl_is "1 3 0 -1 180" "quantity above max_burst + 1: never (-1)" user:1 2 1 60 4
same "$(rl_check "$SOCK" api user:1)" "0 0" "RL.CHECK api user:1 is api's own key (still used up)"
cl_is "0 1 0 -1 60" "CL key 'api' is no policy's" api 0 1 60
same "$(redis-cli -3 -s "$SOCK" CL.THROTTLE r3 15 30 60 | tr '\n' ' ' | sed 's/ $//')" \
	"0 16 15 -1 2" "CL.THROTTLE in RESP3: the same five integers"
same "$(cl k x 1 1)" "ERR CL.THROTTLE max_burst must be an integer from 0 to 1000000000000000, got 'x'" \
	"CL.THROTTLE refuses a non-integer by name"
same "$(cl k -1 1 1)" "ERR CL.THROTTLE max_burst must be an integer from 0 to 1000000000000000, got '-1'" \
	"CL.THROTTLE refuses a negative"
same "$(cl k 1 1 0)" "ERR CL.THROTTLE period (seconds) must be at least 1" "CL.THROTTLE period 0"
same "$(cl k 1 1 999999)" \
	"ERR CL.THROTTLE: above per_call_limits: max_burst at most 1000000, count at most 1000000, period at most 86400 seconds" \
	"CL.THROTTLE period above per_call_limits.max_period"
same "$(cl k 1000000 1 86400)" \
	"ERR CL.THROTTLE: (max_burst + 1) x period / count is longer than 100 days; lower max_burst or period" \
	"CL.THROTTLE burst x period overflowing what Redis keeps exact"
same "$(cl k 1 1)" "ERR wrong number of arguments: CL.THROTTLE key max_burst count period [quantity]" \
	"CL.THROTTLE with too few arguments"
# /metrics renders a snapshot taken about once a second: poll it.
fg_wait_for -t 10 _metric_is 'floodgate_cl_throttle_total{result="limited"}' 2 ||
	fg_fail "/metrics: CL.THROTTLE limited not 2: $(metrics | grep cl_throttle)"
fg_ok '/metrics: floodgate_cl_throttle_total{result="limited"} 2'

# SIGHUP and CONFIG RELOAD (by the agent's own uid: an admin) keep the state.
cat >>"$CONF" <<YAML
  - { name: extra, type: window, limits: [ { count: 1, per: 1h } ] }
YAML
kill -HUP "$NB"
_reloads() { [ "$(grep -c 'config reloaded' "$LOG")" -ge "$1" ]; }
fg_wait_for -t 10 _reloads 1 || fg_fail "SIGHUP: no reload: $(tail -5 "$LOG")"
same "$(rl_check "$SOCK" api user:1)" "0 0" "after SIGHUP: api's key is still used up"
same "$(rl_check "$SOCK" extra k)" "1 0" "after SIGHUP: the new policy answers"
same "$(as_nobody redis-cli -s "$SOCK" CONFIG RELOAD)" OK \
	"CONFIG RELOAD by the agent's own uid (an admin in app-only mode)"
same "$(rl_check "$SOCK" extra k)" "0 0" "after CONFIG RELOAD: the state is kept"
cl_is "0 3 0 -1 180" "after both: CL.THROTTLE's key is kept" user:1 2 1 60 0
# A peer's flood of new keys stays within per_call_limits.max_keys (100) and evicts only
# CL.THROTTLE's keys: api's used-up key is still used up.
for ((i = 0; i < 1000; i++)); do printf 'CL.THROTTLE flood:%d 0 1 3600\n' "$i"; done |
	redis-cli -s "$SOCK" >/dev/null
same "$(redis-cli -s "$SOCK" INFO policies | tr -d '\r' | sed -n 's/^per_call:enabled=1,keys=\([0-9]*\),max_keys=\([0-9]*\),.*/\1 of \2/p')" \
	"100 of 100" "1000 new CL.THROTTLE keys: the memory store keeps per_call_limits.max_keys"
same "$(rl_check "$SOCK" api user:1)" "0 0" "the flood evicted no policy's state (api user:1 still used up)"
fg_assert_eq "$(rl_check "$SOCK" api user:1 | cut -d' ' -f1)" 0 "after both: api still denies"
same "$(rl_check "$SOCK" api user:2 | tr ' ' /)" 1/3 "after both: user:2's count goes on"
kill -0 "$NB" || fg_fail "the agent died"
fg_stop "$NB" 10 || fg_fail "the agent exited with an error on SIGTERM"
fg_ok "SIGTERM: exit 0"
[ ! -e "$SOCK" ] || fg_fail "the socket was left behind"
fg_ok "the socket is removed at exit"

# ---- 2. the config check, and what app-only mode refuses ---------------------------------
out=$(as_nobody "$FLOODGATED" --check-config --app-only "$CONF" 2>&1) ||
	fg_fail "--check-config --app-only: $out"
grep -q "ok (app-only mode: 4 policies" <<<"$out" || fg_fail "--check-config --app-only: $out"
fg_ok "--check-config --app-only, as nobody: $out"
KEYCONF=$U/key.yaml
printf 'app_only: true\npolicies:\n  - { name: api, type: window, limits: [ { count: 3, per: 1h } ] }\n' \
	>"$KEYCONF"
chmod 644 "$KEYCONF"
out=$(as_nobody "$FLOODGATED" --check-config "$KEYCONF" 2>&1) || fg_fail "--check-config: $out"
grep -q "ok (app-only mode: 1 policies" <<<"$out" || fg_fail "app_only: true not seen: $out"
fg_ok "--check-config of a file with app_only: true: $out"
printf 'app_only: maybe\n' >"$U/bad.yaml"
chmod 644 "$U/bad.yaml"
rc=0
out=$(as_nobody "$FLOODGATED" --check-config "$U/bad.yaml" 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "app_only: maybe is refused"
grep -q "bad.yaml:1: app_only" <<<"$out" || fg_fail "no file:line: key in '$out'"
rc=0
out=$(as_nobody timeout 10 "$FLOODGATED" --app-only -i eth0 -c "$CONF" --socket "$U/x.sock" 2>&1) ||
	rc=$?
fg_assert_eq "$rc" 2 "-i with --app-only: exit 2"
grep -q "exclude each other" <<<"$out" || fg_fail "-i with --app-only: '$out'"
rc=0
out=$(as_nobody timeout 10 "$FLOODGATED" -i eth0 -c "$KEYCONF" --socket "$U/x.sock" 2>&1) || rc=$?
fg_assert_eq "$rc" 2 "-i with app_only: true in the file: exit 2"

# ---- 3. no socket given: $XDG_RUNTIME_DIR, else a clear error ------------------------------
mkdir -m 700 "$U/xdg"
chown "$NOBODY:$NOBODY" "$U/xdg"
if [ -w /run/floodgate ] 2>/dev/null && [ "$(stat -c %u /run/floodgate)" = "$NOBODY" ]; then
	fg_log "skipping the default-socket checks: /run/floodgate is nobody's here"
else
	start_agent "$FG_TMP/xdg.log" "${AS_NOBODY[@]}" env XDG_RUNTIME_DIR="$U/xdg" \
		"$FLOODGATED" -c "$KEYCONF" --metrics-listen ""
	XS=$U/xdg/floodgate/floodgate.sock
	same "$(redis-cli -s "$XS" PING)" PONG \
		"no socket given, not root: \$XDG_RUNTIME_DIR/floodgate/floodgate.sock"
	same "$(window_counts "$XS" api k 4)" "1 2,1 1,1 0,0 0" \
		"app_only: true (no flag): 3 per hour, then denied"
	fg_stop "$AGENT" 10 || fg_fail "the XDG agent exited with an error"
	rc=0
	out=$(as_nobody env -u XDG_RUNTIME_DIR timeout 10 "$FLOODGATED" -c "$KEYCONF" \
		--metrics-listen "" 2>&1) || rc=$?
	fg_assert_eq "$rc" 2 "no socket, no XDG_RUNTIME_DIR, not root: exit 2"
	grep -q "give --socket PATH or socket.path" <<<"$out" || fg_fail "unclear: '$out'"
	fg_ok "it says to give --socket or socket.path"
fi

# ---- 4. the socket's checks hold for a non-root owner ------------------------------------
# A directory another user owns and anyone may write: refused, as for root.
mkdir -m 777 "$FG_TMP/w"
chown 1 "$FG_TMP/w"
rc=0
out=$(as_nobody timeout 10 "$FLOODGATED" -c "$KEYCONF" --socket "$FG_TMP/w/fg.sock" \
	--metrics-listen "" 2>&1) || rc=$?
fg_assert_ne "$rc" 0 "a socket directory owned by uid 1, mode 0777: refused"
grep -q "belongs to uid 1" <<<"$out" || fg_fail "the refusal does not name the owner: '$out'"
[ ! -e "$FG_TMP/w/fg.sock" ] || fg_fail "a socket was left in the refused directory"
# An open socket (mode 0666): another uid decides, but is no admin; the agent's uid is.
PEERCONF=$U/peer.yaml
printf 'app_only: true
socket: { mode: "0666" }
policies:
  - { name: api, type: window, limits: [ { count: 3, per: 1h } ] }
' \
	>"$PEERCONF"
chmod 644 "$PEERCONF"
chmod 711 "$U"
start_agent "$FG_TMP/peer.log" "${AS_NOBODY[@]}" "$FLOODGATED" -c "$PEERCONF" \
	--socket "$U/p/fg.sock" --metrics-listen ""
as_uid1() { setpriv --reuid=1 --regid=1 --clear-groups -- "$@"; }
same "$(as_uid1 redis-cli -s "$U/p/fg.sock" RL.CHECK api k | head -1)" 1 \
	"another uid (1) may decide on an open socket"
out=$(as_uid1 redis-cli -s "$U/p/fg.sock" CONFIG RELOAD)
grep -q "^NOPERM" <<<"$out" || fg_fail "CONFIG RELOAD from uid 1 was not refused: '$out'"
fg_ok "CONFIG RELOAD from uid 1: NOPERM"
same "$(as_nobody redis-cli -s "$U/p/fg.sock" CONFIG RELOAD)" OK "CONFIG RELOAD from the agent's uid"
fg_stop "$AGENT" 10 || fg_fail "the open-socket agent exited with an error"
chmod 700 "$U"

# ---- 5. the Redis store, as nobody ---------------------------------------------------------
RSOCK=$U/redis.sock
fg_bg "${AS_NOBODY[@]}" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$U" --logfile "$U/redis.log"
RPID=$FG_LAST_PID
fg_wait_for -t 10 redis-cli -s "$RSOCK" PING || fg_fail "redis-server did not start"
RCONF=$U/redis.yaml
cat >"$RCONF" <<YAML
app_only: true
store: { type: redis, redis: { url: "unix://$RSOCK", timeout_ms: 200, prefix: t99 } }
policies:
  - { name: api, type: window, limits: [ { count: 4, per: 1h } ] }
  - { name: meet, type: events, events: { offer: { limit: 10, per: 1m },
      ice-candidate: { limit: 50, per: 1m }, host-action: { limit: 3, per: 1m } } }
YAML
chmod 644 "$RCONF"
start_agent "$FG_TMP/redis-agent.log" "${AS_NOBODY[@]}" "$FLOODGATED" -c "$RCONF" --socket "$U/r.sock" \
	--metrics-listen ""
RA=$AGENT
fg_wait_for -t 10 sh -c "redis-cli -s '$U/r.sock' INFO policies | tr -d '\r' | grep -qx 'store_fallback_active:0'" ||
	fg_fail "the Redis store is not in use: $(redis-cli -s "$U/r.sock" INFO policies)"
same "$(window_counts "$U/r.sock" api k 5)" "1 3,1 2,1 1,1 0,0 0" \
	"Redis store: 4 per hour, then denied"
fg_assert_gt "$(redis-cli -s "$RSOCK" --scan --pattern '{t99:*' | wc -l)" 0 \
	"the state is in Redis ({t99:...} keys)"
event_types "$U/r.sock" "Redis store"
fg_assert_eq "$(redis-cli -s "$RSOCK" --scan --pattern '{t99:4:meet:sock:1}' | wc -l)" 1 \
	"Redis store: one key holds every type of the connection"
# CL.THROTTLE through Redis: its state is the key {t99:3:@cl:k} (a policy's never is);
# deleting it there gives the key its burst back.
SOCK=$U/r.sock
cl_is "0 2 1 -1 3600" "Redis store: CL.THROTTLE k 1 1 3600, 1 of 2" k 1 1 3600
cl_is "0 2 0 -1 7200" "2 of 2" k 1 1 3600
cl_is "1 2 0 3600 7200" "then limited" k 1 1 3600
same "$(redis-cli -s "$RSOCK" EXISTS '{t99:3:@cl:k}')" 1 "its state is {t99:3:@cl:k} in Redis"
redis-cli -s "$RSOCK" DEL '{t99:3:@cl:k}' >/dev/null
cl_is "0 2 1 -1 3600" "Redis decides CL.THROTTLE (its key deleted there: a fresh burst)" k 1 1 3600
same "$(redis-cli -s "$SOCK" CL.RESET k)" OK "CL.RESET k"
same "$(redis-cli -s "$RSOCK" EXISTS '{t99:3:@cl:k}')" 0 "CL.RESET deletes its Redis key"
cl_is "0 2 1 -1 3600" "after CL.RESET: a fresh burst" k 1 1 3600
# Redis gone: 2 hits on o from the fallback; back: they are replayed into it
# (an app-only agent used to keep them in its journal for good).
fg_stop "$RPID" || true
for i in 1 2; do redis-cli -s "$U/r.sock" RL.CHECK api o >/dev/null; done
fg_assert_eq "$(redis-cli -s "$U/r.sock" INFO policies | tr -d '\r' | sed -n 's/^store_outage_keys://p')" 1 \
	"Redis down: o's hits journalled"
fg_bg "${AS_NOBODY[@]}" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$U" --logfile "$U/redis.log"
replayed() { [ "$(redis-cli -s "$U/r.sock" INFO policies | tr -d '\r' | sed -n 's/^store_replayed_keys_total://p')" = 1 ]; }
fg_wait_for -t 10 replayed || fg_fail "the outage's hits were not replayed: $(redis-cli -s "$U/r.sock" INFO policies | grep -E 'outage|replay')"
same "$(redis-cli -s "$U/r.sock" RL.CHECK api o PEEK | sed -n 3p)" 2 "the 2 outage hits are in Redis (2 of 4 left)"
no_bpf "$RA" "Redis store, as nobody"
fg_stop "$RA" 10 || fg_fail "the Redis agent exited with an error"

# ---- 6. root with --app-only: the same, and no capability kept -------------------------------
mkdir -m 700 "$FG_TMP/root"
# Root's own copy (the production-like file, interfaces and all): without
# CAP_DAC_OVERRIDE (dropped) it could not re-read one in nobody's 0700
# directory on SIGHUP.
cp "$CONF" "$FG_TMP/root/fg.yaml"
start_agent "$FG_TMP/root.log" "$FLOODGATED" --app-only -c "$FG_TMP/root/fg.yaml" \
	--socket "$FG_TMP/root/fg.sock" --pin-dir "$FG_PIN_DIR" --metrics-listen ""
RT=$AGENT
no_caps "$RT" "as root in app-only mode"
no_bpf "$RT" "as root in app-only mode"
same "$(window_counts "$FG_TMP/root/fg.sock" api k 6)" "1 4,1 3,1 2,1 1,1 0,0 0" \
	"as root: 5 per hour, then denied"
assert_app_err "as root: XDP.STATS" "$(redis-cli -s "$FG_TMP/root/fg.sock" XDP.STATS)"
redis-cli -s "$FG_TMP/root/fg.sock" INFO xdp | tr -d '\r' | grep -qx 'mode:app-only' ||
	fg_fail "as root: INFO has no mode:app-only"
fg_ok "as root: INFO mode:app-only"
kill -HUP "$RT"
fg_wait_for -t 10 grep -q 'config reloaded' "$FG_TMP/root.log" || fg_fail "as root: no reload"
same "$(rl_check "$FG_TMP/root/fg.sock" api k)" "0 0" "as root: SIGHUP keeps the state"
fg_stop "$RT" 10 || fg_fail "the root agent exited with an error"
[ ! -e "$FG_PIN_DIR" ] || fg_fail "a pin dir was created: $FG_PIN_DIR"
fg_ok "as root: no pin dir created"

same "$(bpffs_state | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$BPFFS_BEFORE")" \
	"/sys/fs/bpf as before (mount state; nothing of nobody's in it)"
fg_pass "app-only mode: unprivileged socket + metrics, exact limits, clear XDP errors"
