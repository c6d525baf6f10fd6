#!/bin/bash
# make demo, the README's safe lab, as a newcomer runs it: it ends well, and
# its result lines say what happened in the flood each names (the single-source
# line counts that flood's drops, not the spoofed flood's after it, so it never
# claims more drops than SYNs sent), with the client through both floods.
set -eu
. "$(dirname "$0")/lib.sh"

out=$(BUILD=$BUILD bash "$FG_ROOT/scripts/demo.sh" 2>&1) || {
	printf '%s\n' "$out" | tail -20
	fg_fail "make demo failed"
}
single=$(printf '%s\n' "$out" | grep 'single-source flood:') || fg_fail "no single-source result line"
spoofed=$(printf '%s\n' "$out" | grep 'spoofed flood:') || fg_fail "no spoofed-flood result line"
fg_log "$single"
fg_log "$spoofed"

dropped=$(sed -n 's/.*flood: \([0-9]*\) of [0-9]* SYNs dropped.*/\1/p' <<<"$single")
sent=$(sed -n 's/.*flood: [0-9]* of \([0-9]*\) SYNs dropped.*/\1/p' <<<"$single")
fg_assert_le "$dropped" "$sent" "the single-source line counts that flood's drops only"
# burst 40 and 20/s until the ban (3 violations): a few hundred at most get through
fg_assert_ge "$dropped" $((sent - 300)) "the single-source flood is dropped"
fg_assert_eq "$(sed -n 's|.*client: \([0-9]*\)/40 connects.*|\1|p' <<<"$single")" 40 \
	"the client connects through the single-source flood"
fg_assert_ge "$(sed -n 's|.*client: \([0-9]*\)/100 connects.*|\1|p' <<<"$spoofed")" 99 \
	"the client connects through the spoofed flood"
fg_pass
