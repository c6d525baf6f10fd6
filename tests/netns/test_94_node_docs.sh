#!/bin/bash
# docs/api.md's Node.js code, run as an application copies it, with ioredis 5
# (RESP2), ioredis 6 and node-redis 6 (RESP3, their default, and RESP2): exact
# decisions (10 of 15 on 10/s), every field by name with its type, the login
# order, clear errors, and fail open / closed while the agent does not answer;
# and docs/config.md lists every top-level key the config parser takes.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

# docs/config.md's table of top-level keys lists every key the config parser
# takes (the rows of its root_keys table in agent/config.c).
docs_keys_missing() { # CONFIG_MD
	local k keys
	keys=$(sed -n '/root_keys\[\] = {/,/};/p' "$FG_ROOT"/agent/config.c |
		grep -o 'CY_[A-Z]*("[a-z_]*"' | grep -o '"[a-z_]*"' | tr -d '"')
	[ -n "$keys" ] || { echo "(no root_keys table found in agent/config.c)"; return; }
	for k in $keys; do
		sed -n '/^## Top-level keys/,/^## [^T]/p' "$1" | grep -q "^| \`$k\` " || echo "$k"
	done
}
missing=$(docs_keys_missing "$FG_ROOT/docs/config.md")
[ -z "$missing" ] || fg_fail "docs/config.md's top-level keys lack: $missing"
fg_ok "docs/config.md lists every top-level key the parser takes"

fg_require_cmd node
for m in ioredis ioredis6 redis; do
	[ -d "$FG_ROOT/tests/node/node_modules/$m" ] || fg_fail "node module $m missing: run make test-netns (npm ci)"
done
fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
policies:
  - { name: api10, type: window, limits: [ { count: 10, per: 1m } ], roles: { OWNER: 2 } }
  - { name: events10, type: events, limit: 10, window: 1m }
  - { name: login, type: progressive }
YAML
fg_agent_start "$FG_TMP/fg.yaml"
fg_wait_for -t 10 test -S "$FG_SOCK" || fg_fail "no socket at $FG_SOCK"

for run in "ioredis5 2" "ioredis6 3" "ioredis6 2" "node-redis 3" "node-redis 2"; do
	read -r cl proto <<<"$run"
	rc=0
	out=$(node "$FG_ROOT/tests/node/docs_api.js" "$cl" "$proto" "$FG_SOCK" "$FG_ROOT/docs/api.md" \
		"$FG_AGENT" 2>&1) || rc=$?
	# The script stops the agent for a moment: never leave it stopped.
	kill -CONT "$FG_AGENT" 2>/dev/null || true
	if [ "$rc" != 0 ]; then
		printf '%s\n' "$out" >&2
		fg_fail "docs/api.md's code with $cl in RESP$proto"
	fi
	fg_log "$(printf '%s\n' "$out" | grep -v ': ok$' | tr '\n' ' ')"
	fg_ok "docs/api.md's code with $cl in RESP$proto: exact decisions, fail open/closed"
done

kill -0 "$FG_AGENT" || fg_fail "agent died"
fg_pass "docs/api.md's Node.js code with ioredis 5, ioredis 6, node-redis 6, RESP2 and RESP3"
