#!/bin/bash
# floodctl over the agent's socket, as an operator uses it: status (with each
# TCP rule's syn_cookies mode and whether it answers SYNs now; and first, an
# agent refused because syn_cookies: always cannot answer on a native veth
# whose peer has no XDP program), a manual
# ban that the XDP program enforces on a spoofed flood, unban, allow/deny,
# a ban or deny entry that would cut the host off refused (with -p too),
# the application limits with their exit codes (0 ok, 1 denied, 2 error),
# JSON that parses, usage errors, a missing socket, and admin commands
# refused to a non-admin uid while decisions stay open to it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

fg_require_cmd python3 setpriv
PORT=443
BANNED=203.0.113.5
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
socket: { mode: "0666" }
rules:
  - name: signaling
    proto: tcp
    ports: [$PORT]
    per_source: { rate: 20, burst: 40 }
  - name: pushapi
    proto: tcp
    ports: [8443]
    syn_cookies: always
policies:
  - name: api
    type: window
    limits: [ { count: 3, per: 1m } ]
  - name: login
    type: progressive
    free_failures: 3
    base_delay: 10s
  - name: chat
    type: events
    limit: 3
    window: 1m
    exempt: [ping]
YAML
fg_serve $PORT
# syn_cookies: always sends every SYN-ACK with XDP_TX, which a veth in native
# mode delivers only to a peer with an XDP program: refused, naming the peer
# (in another namespace), until the peers have one.
NOOP=$BUILD/bench/noop.bpf.o
[ -f "$NOOP" ] || fg_fail "$NOOP missing: make test-netns builds it"
fg_bpffs
r=0
timeout 60 nsenter --net="/run/netns/$FG_V" "$FLOODGATED" -c "$FG_TMP/fg.yaml" -i "$FG_V_IF_C" \
	-i "$FG_V_IF_A" --pin-dir "$FG_PIN_DIR" --socket "$FG_TMP/refused.sock" >"$FG_TMP/refused.log" 2>&1 || r=$?
[ $r != 0 ] && grep -q "veth-c is a veth in native XDP mode and its peer (ifindex [0-9]* in namespace id [0-9]*) has no XDP program" \
	"$FG_TMP/refused.log" || fg_fail "syn_cookies: always on a native veth without XDP on its peer was not refused (exit $r): $(cat "$FG_TMP/refused.log")"
[ -z "$(fg_xdp_prog_id "$FG_V" "$FG_V_IF_C")" ] || fg_fail "the refused agent left its program attached"
fg_ok "syn_cookies: always refused on a native veth whose peer has no XDP program"
ip -n "$FG_C" link set dev "$FG_C_IF" xdpdrv obj "$NOOP" sec xdp || fg_fail "cannot attach XDP_PASS on C"
ip -n "$FG_A" link set dev "$FG_A_IF" xdpdrv obj "$NOOP" sec xdp || fg_fail "cannot attach XDP_PASS on A"
fg_agent_start "$FG_TMP/fg.yaml"
fg_wait_for -t 10 test -S "$FG_SOCK" || fg_fail "no socket at $FG_SOCK"

ctl() { "$FLOODCTL" -s "$FG_SOCK" "$@"; }
# rc CMD... — the exit status of CMD (set -e must not end the test).
rc() {
	local r=0
	"$@" >/dev/null 2>&1 || r=$?
	echo "$r"
}
# json_ok CMD... — CMD's stdout is valid JSON.
json_ok() {
	local out
	out=$("$@") || true
	python3 -m json.tool <<<"$out" >/dev/null || fg_fail "not JSON from '$*': $out"
}
# _redraws N — top --watch has drawn its screen at least N times.
_redraws() { [ "$(grep -c 'floodctl top:' "$FG_TMP/watch.out")" -ge "$1" ]; }
# jq_py EXPR JSON — evaluate a Python expression on the parsed JSON (as j).
jq_py() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($1)" "$2"; }

# --- status ---------------------------------------------------------------
out=$(ctl status) || fg_fail "status failed: $out"
fg_log "status:"$'\n'"$out"
grep -q "^interfaces .*$FG_V_IF_C" <<<"$out" || fg_fail "status does not list $FG_V_IF_C"
grep -q "^policies .*3: api (window)" <<<"$out" || fg_fail "status does not count the policies"
fg_ok "status shows interfaces and policies"
# syn_cookies: always answers SYNs from the agent's first tick on; auto only
# while its rule is under attack.
_cookies_row() { ctl status | grep -q "^syn cookies .*signaling auto, pushapi always (ACTIVE: answering SYNs)"; }
fg_wait_for -t 10 _cookies_row || fg_fail "status does not show the rules' syn_cookies: $(ctl status)"
ctl status | grep -q "^cookies .*0 SYN-ACKs sent, 0 valid ACKs" || fg_fail "status lacks the cookie counters"
fg_ok "status shows each TCP rule's syn_cookies mode, which answer SYNs now, and the cookie counters"
out=$(ctl --json status)
json_ok ctl --json status
fg_assert_eq "$(jq_py 'j["policies"]["policies"]' "$out")" 3 "status --json: policies section"
[ "$(jq_py 'j["xdp"]["syn_cookies_rule_signaling"], j["xdp"]["syn_cookies_rule_pushapi"]' "$out")" = \
	"mode=auto,active=0 mode=always,active=1" ] || fg_fail "status --json: the rules' syn_cookies: $out"

# --- ban, enforced by XDP -------------------------------------------------------
fg_assert_eq "$(rc ctl ban $BANNED --for 10m)" 0 "ban $BANNED --for 10m"
bans=$(ctl list bans)
fg_log "bans:"$'\n'"$bans"
grep -Eq "^$BANNED +manual +(9m [0-9]+s|10m)$" <<<"$bans" ||
	fg_fail "list bans does not show $BANNED with origin manual and ~10m left"
fg_ok "list bans shows the manual ban"
out=$(ctl --json list bans)
json_ok ctl --json list bans
left=$(jq_py "[b['expires_in_s'] for b in j if b['cidr'] == '$BANNED' and b['origin'] == 'manual'][0]" "$out")
fg_assert_ge "$left" 590 "the ban expires in about 10 minutes"

fg_bg fg_in "$FG_A" "$FGNET" syn --dst "$FG_V_IP4_A" --dport $PORT --src "$BANNED" \
	--count 5000 --pps 5000 --seconds 10 >"$FG_TMP/flood.out"
fg_wait_pid "$FG_LAST_PID" 20 || fg_fail "flood generator failed"
sent=$(fg_kv sent "$(<"$FG_TMP/flood.out")")
fg_log "flood from $BANNED: $(<"$FG_TMP/flood.out")"
fg_assert_ge "$(fg_stat ban dropped)" "$sent" "every SYN from the banned source dropped (reason ban)"
fg_assert_eq "$(fg_stat new_flow passed)" 0 "no new flow from the banned source"

out=$(ctl --json source $BANNED)
json_ok ctl --json source $BANNED
fg_assert_gt "$(jq_py 'j["banned_until_ms"]' "$out")" 0 "source shows the ban's end"

fg_assert_eq "$(rc ctl unban $BANNED)" 0 "unban"
fg_assert_eq "$(rc ctl unban $BANNED)" 1 "unban of a source no longer banned exits 1"
fg_assert_eq "$(ctl list bans | grep -c "$BANNED" || true)" 0 "the ban is gone"
out=$(ctl ban 198.51.100.7/24 2>&1) && fg_fail "a prefix with host bits set was banned: $out"
grep -qF "host bits set beyond /24 (did you mean 198.51.100.0/24?)" <<<"$out" ||
	fg_fail "ban 198.51.100.7/24: $out"
fg_ok "ban of a prefix with host bits set: $out"

# --- allow / deny ------------------------------------------------------------------
fg_assert_eq "$(rc ctl deny 203.0.113.0/24)" 0 "deny a prefix"
ctl list deny | grep -qx "203.0.113.0/24" || fg_fail "list deny lacks 203.0.113.0/24"
json_ok ctl --json list deny
fg_assert_eq "$(rc ctl deny 203.0.113.0/24 --del)" 0 "deny --del"
fg_assert_eq "$(ctl list deny | grep -c 203.0.113.0/24 || true)" 0 "the deny entry is gone"
fg_assert_eq "$(rc ctl deny 203.0.113.0/24 --del)" 1 "deny --del of an entry not listed exits 1"
fg_assert_eq "$(rc ctl deny 203.0.113.0/24)" 0 "deny again"
fg_assert_eq "$(rc ctl deny 203.0.113.0/24)" 1 "deny of an entry already listed exits 1"
fg_assert_eq "$(rc ctl deny 203.0.113.0/24 --del)" 0 "deny --del again"

# --- a ban or deny entry that would cut the host off is refused ----------------------
# V holds 198.51.100.1 (A's link) and 2001:db8:1::1 (C's). Over the socket, and
# with -p in V's namespace (the maps written directly, as with the agent down).
refused() { # refused WANT CMD...: CMD fails, saying WANT
	local want=$1 out
	shift
	out=$("$@" 2>&1) && fg_fail "'$*' was accepted"
	grep -qF -- "$want" <<<"$out" || fg_fail "'$*': $out"
}
refused "refusing to ban 0.0.0.0/0: it holds every address" ctl ban 0.0.0.0/0
refused "refusing to ban ::/0: it holds every address" ctl ban ::/0 --for 1m
refused "refusing to deny 198.51.100.0/24: it holds 198.51.100.1, an address of this host" \
	ctl deny 198.51.100.0/24
refused "refusing to ban 2001:db8::/32: it holds 2001:db8:" ctl ban 2001:db8::/32
refused "refusing to ban 198.51.100.1: it is an address of this host" ctl ban ::ffff:198.51.100.1
vctl() { nsenter --net="/run/netns/$FG_V" "$FLOODCTL" -p "$FG_PIN_DIR" "$@"; }
refused "refusing to ban 0.0.0.0/0" vctl ban 0.0.0.0/0
refused "refusing to ban 198.51.100.0/24: it holds 198.51.100.1" vctl ban 198.51.100.0/24
fg_assert_eq "$(ctl list bans | grep -Ec '/0|198\.51\.100|2001:db8' || true)" 0 "nothing was banned"
# The upper half of V's /24 holds its broadcast address, not V: no host sends
# from a broadcast address (stop 35's re-trial found it refused).
fg_assert_eq "$(rc ctl ban 198.51.100.128/25 --for 1m)" 0 \
	"a prefix holding only V's subnet broadcast"
fg_assert_eq "$(rc ctl unban 198.51.100.128/25)" 0 "unban it"
fg_assert_eq "$(ctl list deny | grep -c 198.51.100 || true)" 0 "nothing was denied"
fg_ok "bans and deny entries holding the host's own addresses, and /0, are refused"

# --- the rest of the read side ------------------------------------------------------
out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport $PORT --count 3 \
	--graceful)
fg_assert_eq "$(fg_kv ok "$out")" 3 "the client connects"
# The egress program marks the client once V sends it a non-SYN segment
# (--graceful: V's FIN).
fg_wait_for -t 5 ctl verified "$FG_C_IP4" || fg_fail "verified: the client never was"
fg_assert_eq "$(rc ctl verified "$FG_C_IP4")" 0 "verified: the host talks to the client"
fg_assert_eq "$(rc ctl verified 203.0.113.77)" 1 "verified: not a never-seen address"
fg_assert_eq "$(rc ctl source 203.0.113.77)" 1 "source of an untracked address exits 1"
fg_assert_eq "$(rc ctl source "$FG_C_IP4")" 0 "source of the client"
out=$(ctl --json top -n 5)
json_ok ctl --json top -n 5
grep -q "$FG_C_IP4" <<<"$out" || fg_fail "top lacks the client: $out"
fg_log "top:"$'\n'"$(ctl top -n 5)"
fg_log "source $FG_C_IP4:"$'\n'"$(ctl source "$FG_C_IP4")"
ctl top -n 5 | head -1 | grep -q "^ADDRESS  *RULE  *NEW_FLOWS  *DROPPED$" ||
	fg_fail "top has no header"
fg_ok "top lists the client"
json_ok ctl --json stats

# top --watch redraws until Ctrl-C, then exits 0.
fg_bg "$FLOODCTL" -s "$FG_SOCK" top --watch --interval 0.2 >"$FG_TMP/watch.out"
WATCH=$FG_LAST_PID
fg_wait_for -t 10 _redraws 3 || fg_fail "top --watch did not redraw"
kill -INT "$WATCH"
wrc=0
fg_wait_pid "$WATCH" 5 || wrc=$?
fg_assert_eq "$wrc" 0 "top --watch ends on SIGINT with 0"
fg_assert_ge "$(jq_py 'j["ban"]["dropped"]' "$(ctl --json stats)")" "$sent" "stats --json agrees"
fg_assert_eq "$(rc ctl reload)" 0 "reload"
# -p reads the pinned maps directly: its JSON parses too.
for cmd in stats rules count "list bans" "list allow" "source $FG_C_IP4" "verified $FG_C_IP4"; do
	# shellcheck disable=SC2086 # split the command into words
	json_ok fg_ctl --json $cmd
done
fg_ok "-p --json output parses"

# --- application limits --------------------------------------------------------------
for i in 1 2 3; do
	fg_assert_eq "$(rc ctl check api user:42)" 0 "check $i of 3 allowed"
done
fg_assert_eq "$(rc ctl check api user:42)" 1 "the 4th check is denied (exit 1)"
out=$(ctl --json check api user:42 --peek) || true
json_ok ctl --json check api user:42 --peek
fg_assert_eq "$(jq_py 'j["allowed"]' "$out")" 0 "check --json: allowed 0"
[ "$(jq_py 'j["state"]' "$out")" = deny ] || fg_fail "check --json: state is not deny: $out"
fg_assert_eq "$(rc ctl check api user:43 --cost 2)" 0 "--cost 2 fits in 3"
fg_assert_eq "$(rc ctl check api user:43 --cost 2)" 1 "--cost 2 does not fit in the 1 left"
fg_assert_eq "$(rc ctl check nosuch user:42)" 2 "an unknown policy is an error (exit 2)"
# Keys are binary safe on the way in.
fg_assert_eq "$(rc ctl check api "$(printf 'k\001\377 x')")" 0 "a binary key"

for i in 1 2 3; do
	fg_assert_eq "$(rc ctl auth-fail login 192.0.2.99)" 0 "auth failure $i"
done
fg_assert_eq "$(rc ctl auth-check login 192.0.2.99)" 0 "free failures: no wait"
out=$(ctl --json auth-fail login 192.0.2.99)
fg_assert_eq "$(jq_py 'j["delay_ms"]' "$out")" 10000 "the 4th failure: base_delay"
fg_assert_eq "$(rc ctl auth-check login 192.0.2.99)" 1 "auth-check with a wait exits 1"
fg_assert_eq "$(rc ctl auth-ok login 192.0.2.99)" 0 "auth-ok"
fg_assert_eq "$(rc ctl auth-check login 192.0.2.99)" 0 "after auth-ok: no wait"

fg_assert_eq "$(rc ctl event chat conn1 ping)" 0 "an exempt event"
fg_assert_eq "$(rc ctl event chat conn1 msg)" 0 "event 1 of 3"
fg_assert_eq "$(rc ctl event chat conn1 msg)" 0 "event 2 of 3 (warn)"
fg_assert_eq "$(rc ctl event chat conn1 msg)" 1 "event 3 of 3: disconnect (exit 1)"
json_ok ctl --json event chat conn1 msg

# --- bad command lines and a missing agent ------------------------------------------------
for bad in "" "frobnicate" "ban" "ban 192.0.2.1 extra" "ban 192.0.2.1 --for soon" \
	"check api" "check api k --cost -1" "top -n 0" "top --by age" "list bogus" "status --del"; do
	# shellcheck disable=SC2086 # split the invocation into words
	fg_assert_eq "$(rc ctl $bad)" 2 "bad invocation 'floodctl $bad' exits 2"
done
# A typo gets a suggestion from the command and option tables.
err=$(ctl verfied 192.0.2.1 2>&1) && fg_fail "an unknown command succeeded"
grep -q "^floodctl: unknown command 'verfied' (did you mean 'verified'?)$" <<<"$err" ||
	fg_fail "no did-you-mean for a mistyped command: $err"
err=$(ctl ban 192.0.2.1 --fro 1h 2>&1) && fg_fail "an unknown option succeeded"
grep -q "^floodctl: unknown option --fro (did you mean --for?)$" <<<"$err" ||
	fg_fail "no did-you-mean for a mistyped option: $err"
fg_ok "typos get a did-you-mean"
err=$("$FLOODCTL" -s "$FG_TMP/nothing.sock" status 2>&1) && fg_fail "status without an agent succeeded"
fg_assert_eq "$(rc "$FLOODCTL" -s "$FG_TMP/nothing.sock" status)" 2 "no socket: exit 2"
grep -q "cannot connect to $FG_TMP/nothing.sock: No such file or directory — is floodgated running?" \
	<<<"$err" || fg_fail "unhelpful message without an agent: $err"
fg_ok "a missing socket says what to do"
err=$(FLOODGATE_SOCKET="$FG_TMP/env.sock" "$FLOODCTL" status 2>&1) || true
grep -q "$FG_TMP/env.sock" <<<"$err" || fg_fail "FLOODGATE_SOCKET is not used: $err"
fg_ok "FLOODGATE_SOCKET chooses the socket"
err=$("$FLOODCTL" -p "$FG_PIN_DIR" check api k 2>&1) && fg_fail "check with -p succeeded"
grep -q "needs the agent socket" <<<"$err" || fg_fail "check with -p: $err"
fg_ok "-p refuses the socket-only commands"

# --- a non-admin peer ------------------------------------------------------------------
# The socket is 0666 here; nobody (65534) must reach it through FG_TMP.
chmod 0711 "$FG_TMP"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$FLOODCTL" -s "$FG_SOCK" "$@"; }
fg_assert_eq "$(rc nobody check api nobody:1)" 0 "a non-admin may check"
fg_assert_eq "$(rc nobody status)" 0 "a non-admin may read status"
err=$(nobody ban 203.0.113.9 2>&1) && fg_fail "a non-admin could ban"
fg_assert_eq "$(rc nobody ban 203.0.113.9)" 2 "a non-admin ban exits 2"
grep -q "^floodctl: NOPERM" <<<"$err" || fg_fail "no NOPERM message: $err"
fg_ok "admin commands refused to a non-admin: $(head -1 <<<"$err")"
fg_assert_eq "$(ctl list bans | grep -c 203.0.113.9 || true)" 0 "and nothing was banned"

# --- admin by a supplementary group -----------------------------------------------------
# An operator added to the agent's admin group (usermod -aG) is admin: the
# group is one of the peer's supplementary groups, not its primary one.
member() { setpriv --reuid=65534 --regid=65534 --groups=4242 "$FLOODCTL" -s "$FG_SOCK" "$@"; }
err=$(member ban 203.0.113.9 2>&1) && fg_fail "gid 4242 could ban before it was an admin group"
grep -q "^floodctl: NOPERM" <<<"$err" || fg_fail "no NOPERM message: $err"
fg_ok "gid 4242 is not an admin group yet"
sed -i 's/^socket: { mode: "0666" }$/socket: { mode: "0666", admin_gids: [4242] }/' "$FG_TMP/fg.yaml"
ctl reload >/dev/null || fg_fail "reload failed"
fg_assert_eq "$(rc member ban 203.0.113.9)" 0 "a peer whose supplementary group is in admin_gids may ban"
fg_assert_eq "$(ctl list bans | grep -c 203.0.113.9 || true)" 1 "and the ban is in force"
fg_assert_eq "$(rc nobody unban 203.0.113.9)" 2 "a peer without that group still may not unban"
ctl unban 203.0.113.9 >/dev/null

fg_pass "floodctl over the socket: status, bans enforced by XDP, limits, exit codes, JSON, permissions"
