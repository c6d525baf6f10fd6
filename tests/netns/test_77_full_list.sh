#!/bin/bash
# A deny list of the trie's full capacity (65,536 entries) replaces another
# one of that size: on SIGHUP (the old entries leave before the new ones
# come in) and on a restart with persist: true over the full pinned trie.
# Afterwards the trie holds every new entry and none of the old.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

N=65536
fg_topo_3ns
# list FILE TAG: N /128s under 2001:db8:TAG::/48 (documentation space).
list() {
	awk -v n=$N -v tag="$2" 'BEGIN {
		print "persist: true"
		print "rules:"
		print "  - name: signaling"
		print "    proto: tcp"
		print "    ports: [443]"
		print "    per_source: { rate: 5, burst: 10 }"
		print "deny:"
		for (i = 0; i < n; i++)
			printf "  - 2001:db8:%s::%x:%x\n", tag, int(i / 65536), i % 65536
	}' >"$1"
}
# expected TAG: the addresses floodctl prints, sorted.
expected() {
	awk -v n=$N -v tag="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "2001:db8:%s::%x\n", tag, i }' | sed 's/::0$/::/' | sort
}
# deny_now: the addresses in the deny trie, sorted.
deny_now() { fg_ctl list deny | awk '{ print $1 }' | grep '^2001:' | sort; }
# check TAG WHAT: the trie holds exactly list TAG.
check() {
	deny_now >"$FG_TMP/have"
	expected "$1" >"$FG_TMP/want"
	local extra missing
	extra=$(comm -23 "$FG_TMP/have" "$FG_TMP/want" | wc -l)
	missing=$(comm -13 "$FG_TMP/have" "$FG_TMP/want" | wc -l)
	fg_assert_eq "$missing" 0 "$2: every entry of list $1 is in the trie"
	fg_assert_eq "$extra" 0 "$2: no other entry is left in the trie"
}

list "$FG_TMP/a.yaml" a
list "$FG_TMP/b.yaml" b
"$FLOODGATED" --check-config "$FG_TMP/b.yaml" >/dev/null 2>&1 ||
	fg_fail "--check-config rejects a $N-entry deny list"
fg_ok "--check-config accepts a $N-entry deny list"

cp "$FG_TMP/a.yaml" "$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
check a "start"

cp "$FG_TMP/b.yaml" "$FG_TMP/fg.yaml"
kill -HUP "$FG_AGENT"
fg_wait_for -t 60 grep -qE 'config reloaded|reload rejected' "$FG_AGENT_LOG" ||
	fg_fail "reload not logged"
grep -q 'reload rejected' "$FG_AGENT_LOG" && {
	grep 'reload rejected' "$FG_AGENT_LOG" >&2
	fg_fail "reload of a full list over a full list was rejected"
}
check b "reload"

# persist: the pinned trie stays full of b; the next agent starts with a.
fg_stop "$FG_AGENT" 20 || fg_fail "agent exited with an error on SIGTERM"
cp "$FG_TMP/a.yaml" "$FG_TMP/fg.yaml"
fg_agent_start "$FG_TMP/fg.yaml"
check a "restart with persist over a full trie"
fg_pass "a $N-entry deny list replaces another on reload and on a persist restart"
