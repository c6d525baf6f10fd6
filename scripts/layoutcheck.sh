#!/bin/bash
# scripts/layoutcheck.sh — the README's layout table names every module: each
# bpf/*.h, lib/*.h, agent/*.c and cli/*.c is named (as a word) in its folder's
# row, so a newcomer who reads the table finds every file. Run by `make lint`.
set -u
cd "$(dirname "$0")/.." || exit 1
bad=0
check() { # DIR GLOB EXT
	local row f name
	row=$(grep "^| \`$1/\`" README.md) || { echo "README.md: no layout row for $1/"; bad=1; return; }
	for f in $1/$2; do
		name=$(basename "$f" "$3")
		grep -qw -- "$name" <<<"$row" || { echo "README.md: the $1/ row does not name $name"; bad=1; }
	done
}
check bpf '*.h' .h
check lib '*.h' .h
check agent '*.c' .c
check cli '*.c' .c
exit $bad
