# shellcheck shell=bash
# lib.sh — sourced by tests/netns/test_*.sh.
#
# Gives a test its own network namespaces (fgt-<pid>-<name>), veth pairs, addresses,
# background processes and a bpffs pin dir, and removes all of them on EXIT.
# Traffic stays inside these namespaces and uses documentation addresses only.
# Exit codes: 0 pass, 1 fail, 249 skip.
#
# Usage:
#   . "$(dirname "$0")/lib.sh"
#   fg_topo_3ns
#   fg_bg fg_in "$FG_V" "$FGNET" serve --port 443 --ready-file "$FG_TMP/srv"
#   fg_wait_file "$FG_TMP/srv"
#   out=$(fg_in "$FG_C" "$FGNET" connect --dst "$FG_V_IP4_C" --dport 443 --count 5)
#   fg_assert_eq "$(fg_kv ok "$out")" 5 "all connects succeed"
#   fg_pass "topology works"

FG_SKIP=249
FG_PREFIX="fgt-$$-"
FG_PIN_DIR="/sys/fs/bpf/fgt-$$"
FG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$FG_ROOT/tests/pydirect.sh"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$FG_ROOT/$BUILD" ;; esac
FGNET=${FGNET:-$BUILD/tests/fgnet}
export FG_ROOT BUILD FGNET FG_PIN_DIR

FG_NSES=()        # namespaces we created, deleted on exit
FG_PIDS=()        # background processes we started, stopped on exit
FG_LINKS=()       # "ns ifname" of veths we created, deleted on exit
FG_EXIT_HOOKS=()  # extra cleanup commands (fg_on_exit), run first, newest first
FG_LAST_PID=
# Whether bpffs was mounted before this test: if the test (or an agent it
# ran) mounts it, cleanup unmounts it again once nothing is pinned there.
FG_BPFFS_BEFORE=0
[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] && FG_BPFFS_BEFORE=1
FG_TMP=
FG_CLEANED=

# ---- results ------------------------------------------------------------------------

fg_log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fg_ok() { printf 'ok: %s\n' "$*"; }
fg_pass() { printf 'PASS: %s\n' "${*:-$(basename "$0")}"; exit 0; }
fg_fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
fg_skip() { printf 'SKIP: %s\n' "$*"; exit "$FG_SKIP"; }

# ---- requirements ---------------------------------------------------------------------

fg_require_root() { [ "$(id -u)" = 0 ] || fg_skip "needs root (network namespaces)"; }

# fg_require_cmd CMD... — skip when a tool is not installed.
fg_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fg_skip "needs '$c' (see scripts/deps.sh)"
	done
}

# The traffic tool is part of the build: its absence is a failure, not a skip.
fg_require_fgnet() {
	[ -x "$FGNET" ] || fg_fail "$FGNET missing: run 'make $BUILD/tests/fgnet' (or make test)"
}

# ---- processes ------------------------------------------------------------------------

# fg_in NS CMD... — runs CMD in namespace NS. nsenter (not `ip netns exec`) keeps the
# host's /sys, so /sys/fs/bpf pins stay visible.
fg_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# fg_bg CMD... — starts CMD in the background and records its PID (also in FG_LAST_PID)
# for cleanup. `fg_bg fg_in NS CMD...` runs CMD itself as the recorded process.
# Redirect as usual: fg_bg fg_in "$FG_V" "$FGNET" sniff ... >"$FG_TMP/sniff.out"
fg_bg() {
	if [ "$1" = fg_in ]; then
		local ns=$2
		shift 2
		nsenter --net="/run/netns/$ns" -- "$@" &
	else
		"$@" &
	fi
	FG_LAST_PID=$!
	FG_PIDS+=("$FG_LAST_PID")
}

# fg_stop PID [SECONDS] — SIGTERM, then SIGKILL after SECONDS (default 5); returns the
# process's exit status (fgnet prints its result line on SIGTERM and exits 0).
fg_stop() {
	local pid=$1 limit=${2:-5} i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < limit * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# fg_wait_pid PID [SECONDS] — waits for a background process to end by itself (default
# 30 s, then it is stopped); returns its exit status.
fg_wait_pid() {
	local pid=$1 limit=${2:-30} i rc=0
	for ((i = 0; i < limit * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		fg_log "pid $pid still running after ${limit}s, stopping it"
		fg_stop "$pid"
		return 124
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# fg_on_exit CMD... — adds a cleanup command (run before namespaces are removed).
fg_on_exit() { FG_EXIT_HOOKS+=("$*"); }

# ---- polling --------------------------------------------------------------------------

# fg_wait_for [-t SECONDS] CMD... — polls CMD every 50 ms until it succeeds; returns 1
# when it never does within SECONDS (default 10).
fg_wait_for() {
	local limit=10 deadline
	if [ "$1" = -t ]; then
		limit=$2
		shift 2
	fi
	deadline=$(($(date +%s%N) + limit * 1000000000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -ge "$deadline" ]; then
			fg_log "timed out after ${limit}s waiting for: $*"
			return 1
		fi
		sleep 0.05
	done
}

# fg_wait_file FILE [SECONDS] — waits for a --ready-file to appear.
fg_wait_file() { fg_wait_for -t "${2:-10}" test -e "$1"; }

# fg_wait_tcp NS PORT [SECONDS] — waits until something listens on TCP PORT in NS.
fg_wait_tcp() {
	fg_wait_for -t "${3:-10}" _fg_listening "$1" "$2"
}
_fg_listening() { [ -n "$(fg_in "$1" ss -Hltn "sport = :$2")" ]; }

# ---- results of fgnet -----------------------------------------------------------------

# fg_kv KEY LINE — the value of KEY in a `key=value ...` line (empty when absent).
fg_kv() {
	local kv
	for kv in $2; do
		[ "${kv%%=*}" = "$1" ] && { printf '%s\n' "${kv#*=}"; return 0; }
	done
	return 1
}

# ---- assertions (numeric, floats allowed; fail the test when false) --------------------

_fg_cmp() {
	local a=$1 op=$2 b=$3 msg=$4
	if ! [[ $a =~ ^-?[0-9]+(\.[0-9]+)?$ && $b =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
		fg_fail "$msg: not numbers: '$a' $op '$b'"
	fi
	if awk -v a="$a" -v b="$b" -v op="$op" 'BEGIN { a += 0; b += 0
		if (op == "==") r = a == b; else if (op == "!=") r = a != b
		else if (op == ">=") r = a >= b; else if (op == ">") r = a > b
		else if (op == "<=") r = a <= b; else r = a < b
		exit !r }'; then
		fg_ok "$msg ($a $op $b)"
	else
		fg_fail "$msg: expected $a $op $b"
	fi
}
fg_assert_eq() { _fg_cmp "$1" == "$2" "$3"; }
fg_assert_ne() { _fg_cmp "$1" != "$2" "$3"; }
fg_assert_ge() { _fg_cmp "$1" '>=' "$2" "$3"; }
fg_assert_gt() { _fg_cmp "$1" '>' "$2" "$3"; }
fg_assert_le() { _fg_cmp "$1" '<=' "$2" "$3"; }
fg_assert_lt() { _fg_cmp "$1" '<' "$2" "$3"; }

# fg_assert_ok MSG CMD... / fg_assert_fails MSG CMD... — on a command's exit status.
fg_assert_ok() {
	local msg=$1
	shift
	"$@" || fg_fail "$msg: '$*' exited $?"
	fg_ok "$msg"
}
fg_assert_fails() {
	local msg=$1
	shift
	if "$@"; then fg_fail "$msg: '$*' succeeded"; fi
	fg_ok "$msg"
}

# ---- namespaces and links -------------------------------------------------------------

# fg_ns_setup — once per test, before anything else: checks root and the traffic tool,
# makes FG_TMP, registers fg_ns_cleanup on EXIT (and INT/TERM, e.g. the runner's timeout).
fg_ns_setup() {
	[ -n "$FG_TMP" ] && return 0
	fg_require_root
	fg_require_cmd ip nsenter ss
	fg_require_fgnet
	FG_TMP=$(mktemp -d "/tmp/fgt-$$.XXXXXX") || fg_fail "mktemp failed"
	trap fg_ns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# python3 itself, not a shim (tests/run.sh did it already when it runs the test).
	fg_python_direct "$FG_TMP/bin"
}

# fg_ns_add NAME — creates namespace fgt-<pid>-NAME (loopback up, IPv6 DAD off) and
# sets FG_NS_LAST to its full name (fg_ns_name NAME prints it too).
fg_ns_add() {
	local ns="$FG_PREFIX$1"
	fg_ns_setup
	ip netns add "$ns" || fg_fail "cannot create namespace $ns"
	FG_NSES+=("$ns")
	FG_NS_LAST=$ns
	ip -n "$ns" link set lo up
	fg_in "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
		>/dev/null 2>&1 || true
}
fg_ns_name() { printf '%s%s\n' "$FG_PREFIX" "$1"; }

# fg_veth NS1 IF1 NS2 IF2 [MAC1 MAC2] — a veth pair created directly inside the two
# namespaces (names are per namespace, so parallel tests never collide), both ends up.
fg_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4 mac1=${5:-} mac2=${6:-}
	ip link add "$if1" netns "$ns1" ${mac1:+address "$mac1"} type veth \
		peer name "$if2" netns "$ns2" ${mac2:+address "$mac2"} ||
		fg_fail "cannot create veth $ns1/$if1 <-> $ns2/$if2"
	FG_LINKS+=("$ns1 $if1")
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
}

# fg_addr NS IF ADDR/PLEN — adds an address; IPv6 ones without DAD (usable at once).
fg_addr() {
	case $3 in
	*:*) ip -n "$1" -6 addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac || fg_fail "cannot add $3 to $1/$2"
}

# fg_neigh NS IF ADDR MAC — a permanent neighbour entry: floods start at full speed,
# with no ARP/ND round trip queueing (and dropping) the first packets.
fg_neigh() {
	ip -n "$1" neigh replace "$3" lladdr "$4" dev "$2" nud permanent ||
		fg_fail "cannot add neighbour $3 on $1/$2"
}

# fg_mac NS IF — the interface's MAC address.
fg_mac() {
	ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# fg_if_stat NS IF rx|tx FIELD — an interface counter (FIELD: packets, bytes, dropped,
# errors...). Read via netlink: under nsenter, /sys/class/net is still the host's.
fg_if_stat() {
	ip -n "$1" -s -j link show dev "$2" |
		sed -E "s/.*\"$3\":\{([^}]*)\}.*/\1/" | tr ',' '\n' | sed -n "s/^\"$4\"://p"
}

# fg_bpffs — mounts bpffs at /sys/fs/bpf when missing (it is not mounted by default
# here) and creates this test's pin dir FG_PIN_DIR, removed on exit.
fg_bpffs() {
	fg_ns_setup
	if ! mountpoint -q /sys/fs/bpf || [ "$(stat -f -c %T /sys/fs/bpf)" != bpf_fs ]; then
		mount -t bpf bpf /sys/fs/bpf || fg_fail "cannot mount bpffs at /sys/fs/bpf"
	fi
	mkdir -p "$FG_PIN_DIR" || fg_fail "cannot create $FG_PIN_DIR"
	# floodgated refuses a pin dir others can write, whatever the umask.
	chmod 700 "$FG_PIN_DIR"
}

# Unmount a bpffs this test mounted, unless something is pinned there now
# (the kernel's own maps.debug/progs.debug iterators do not count).
_fg_bpffs_restore() {
	[ "$FG_BPFFS_BEFORE" = 0 ] || return 0
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] || return 0
	if [ -z "$(ls -A /sys/fs/bpf | grep -vx -e maps.debug -e progs.debug)" ]; then
		umount /sys/fs/bpf || fg_log "cleanup: cannot unmount /sys/fs/bpf"
	fi
}

# fg_topo_3ns — the standard topology:
#
#   C (client) veth-v ---- veth-c  V (victim)  veth-a ---- veth-v A (attacker)
#   192.0.2.2/24             192.0.2.1/24     198.51.100.1/24    198.51.100.2/24
#   2001:db8:1::2/64         2001:db8:1::1/64 2001:db8:2::1/64   2001:db8:2::2/64
#
# V routes the spoofed ranges FG_SPOOF4 (203.0.113.0/24) and FG_SPOOF6
# (2001:db8:ff00::/40) via A, so replies to spoofed sources leave on the attacker link
# (A does not forward: they die there). Fixed MACs and permanent neighbours.
fg_topo_3ns() {
	fg_ns_setup
	fg_ns_add V && FG_V=$FG_NS_LAST
	fg_ns_add C && FG_C=$FG_NS_LAST
	fg_ns_add A && FG_A=$FG_NS_LAST
	FG_V_IF_C=veth-c FG_C_IF=veth-v
	FG_V_IF_A=veth-a FG_A_IF=veth-v
	FG_V_MAC_C=02:00:00:00:01:01 FG_C_MAC=02:00:00:00:01:02
	FG_V_MAC_A=02:00:00:00:02:01 FG_A_MAC=02:00:00:00:02:02
	FG_V_IP4_C=192.0.2.1 FG_C_IP4=192.0.2.2
	FG_V_IP6_C=2001:db8:1::1 FG_C_IP6=2001:db8:1::2
	FG_V_IP4_A=198.51.100.1 FG_A_IP4=198.51.100.2
	FG_V_IP6_A=2001:db8:2::1 FG_A_IP6=2001:db8:2::2
	FG_SPOOF4=203.0.113.0/24 FG_SPOOF6=2001:db8:ff00::/40
	export FG_V FG_C FG_A FG_V_IF_C FG_C_IF FG_V_IF_A FG_A_IF \
		FG_V_MAC_C FG_C_MAC FG_V_MAC_A FG_A_MAC \
		FG_V_IP4_C FG_C_IP4 FG_V_IP6_C FG_C_IP6 FG_V_IP4_A FG_A_IP4 FG_V_IP6_A FG_A_IP6 \
		FG_SPOOF4 FG_SPOOF6

	# The same as fg_veth, fg_addr, fg_neigh and ip route, in one ip -batch per
	# namespace: every test starts here, and 30 ip processes took seconds on a
	# loaded machine.
	ip -batch - <<-EOF || fg_fail "cannot create the veth pairs"
		link add $FG_V_IF_C netns $FG_V address $FG_V_MAC_C type veth peer name $FG_C_IF netns $FG_C address $FG_C_MAC
		link add $FG_V_IF_A netns $FG_V address $FG_V_MAC_A type veth peer name $FG_A_IF netns $FG_A address $FG_A_MAC
	EOF
	FG_LINKS+=("$FG_V $FG_V_IF_C" "$FG_V $FG_V_IF_A")
	ip -n "$FG_V" -batch - <<-EOF || fg_fail "cannot set up $FG_V"
		link set $FG_V_IF_C up
		link set $FG_V_IF_A up
		addr add $FG_V_IP4_C/24 dev $FG_V_IF_C
		addr add $FG_V_IP6_C/64 dev $FG_V_IF_C nodad
		addr add $FG_V_IP4_A/24 dev $FG_V_IF_A
		addr add $FG_V_IP6_A/64 dev $FG_V_IF_A nodad
		neigh replace $FG_C_IP4 lladdr $FG_C_MAC dev $FG_V_IF_C nud permanent
		neigh replace $FG_C_IP6 lladdr $FG_C_MAC dev $FG_V_IF_C nud permanent
		neigh replace $FG_A_IP4 lladdr $FG_A_MAC dev $FG_V_IF_A nud permanent
		neigh replace $FG_A_IP6 lladdr $FG_A_MAC dev $FG_V_IF_A nud permanent
		route add $FG_SPOOF4 via $FG_A_IP4 dev $FG_V_IF_A
		route add $FG_SPOOF6 via $FG_A_IP6 dev $FG_V_IF_A
	EOF
	_fg_peer_batch "$FG_C" "$FG_C_IF" "$FG_C_IP4" "$FG_C_IP6" "$FG_V_IP4_C" "$FG_V_IP6_C" "$FG_V_MAC_C"
	_fg_peer_batch "$FG_A" "$FG_A_IF" "$FG_A_IP4" "$FG_A_IP6" "$FG_V_IP4_A" "$FG_V_IP6_A" "$FG_V_MAC_A"
}

# _fg_peer_batch NS IF IP4 IP6 V_IP4 V_IP6 V_MAC — C's or A's side of fg_topo_3ns.
_fg_peer_batch() {
	ip -n "$1" -batch - <<-EOF || fg_fail "cannot set up $1"
		link set $2 up
		addr add $3/24 dev $2
		addr add $4/64 dev $2 nodad
		neigh replace $5 lladdr $7 dev $2 nud permanent
		neigh replace $6 lladdr $7 dev $2 nud permanent
	EOF
}

# ---- cleanup --------------------------------------------------------------------------

# fg_ns_cleanup — the EXIT trap: runs fg_on_exit hooks, stops recorded processes (and
# any process still inside one of our namespaces, by PID), deletes links, namespaces,
# FG_PIN_DIR and FG_TMP. Keeps the test's exit status.
fg_ns_cleanup() {
	local rc=$? i pid ns link left
	[ -n "$FG_CLEANED" ] && return
	FG_CLEANED=1
	set +e
	trap - INT TERM
	for ((i = ${#FG_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${FG_EXIT_HOOKS[i]}"
	done
	for pid in "${FG_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && fg_stop "$pid" 3
		wait "$pid" 2>/dev/null
	done
	for ns in "${FG_NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			fg_log "cleanup: stopping pid $pid left in $ns: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for link in "${FG_LINKS[@]}"; do
		# shellcheck disable=SC2086 # "ns ifname"
		set -- $link
		ip -n "$1" link del "$2" 2>/dev/null
	done
	for ns in "${FG_NSES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -d "$FG_PIN_DIR" ]; then
		rm -rf "$FG_PIN_DIR"
	fi
	_fg_bpffs_restore
	[ -n "$FG_TMP" ] && rm -rf "$FG_TMP"
	left=$(ip netns list 2>/dev/null | grep -c "^$FG_PREFIX")
	[ "$left" = 0 ] || { echo "cleanup: $left namespaces $FG_PREFIX* left" >&2; rc=1; }
	exit "$rc"
}
