#!/bin/bash
# The Node.js package (clients/node, npm name floodgate): its node:test suites
# against a real floodgated, which they start themselves (test/helpers/agent.js:
# --app-only, as nobody when run as root; an agent without that mode runs as
# root in a namespace of their own with a veth pair).
# npm ci from the committed lockfile when node_modules is older than it.
set -eu
. "$(dirname "$0")/lib.sh"

fg_require_cmd node npm setpriv
[ -x "$BUILD/floodgated" ] || fg_fail "$BUILD/floodgated missing: run make"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || fg_skip "needs Node.js 18 or later (have $(node --version))"

PKG="$FG_ROOT/clients/node"
if [ ! -f "$PKG/node_modules/.package-lock.json" ] ||
	[ "$PKG/package-lock.json" -nt "$PKG/node_modules/.package-lock.json" ]; then
	fg_log "npm ci in clients/node"
	(cd "$PKG" && npm ci --no-audit --no-fund --silent) || fg_fail "npm ci failed in clients/node"
fi

# Whatever a killed test file leaves (namespaces, pins of the fallback without
# --app-only) carries this prefix.
export FG_NS_PREFIX="fgt-$$-n"
cleanup_node() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk -v p="$FG_NS_PREFIX" 'index($1, p) == 1 { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/sys/fs/bpf/$ns"
	done
}
trap cleanup_node EXIT

# One file at a time where node can (20.10+): each starts its own agent, the machine is shared.
# A test that hangs fails by name after 60 s (where node has --test-timeout).
conc=()
help=$(node --help 2>/dev/null)
grep -q -- --test-concurrency <<<"$help" && conc+=(--test-concurrency=1)
grep -q -- --test-timeout <<<"$help" && conc+=(--test-timeout=60000)
out=$(mktemp "/tmp/fgt-$$.node.XXXXXX")
trap 'cleanup_node; rm -f "$out"' EXIT # a test killed by its timeout leaves no file
rc=0
(cd "$PKG" && BUILD="$BUILD" node --test "${conc[@]}" --test-reporter=spec test/*.test.js) >"$out" 2>&1 || rc=$?
cat "$out"
pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -1)
fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$out" | tail -1)
rm -f "$out"
fg_log "node: ${pass:-?} passed, ${fail:-?} failed (exit $rc)"
[ "$rc" = 0 ] || fg_fail "node --test failed: ${fail:-?} of $((${pass:-0} + ${fail:-0})) tests"
[ "${pass:-0}" -gt 0 ] || fg_fail "node --test ran no tests"
fg_pass "node package: $pass tests passed"
