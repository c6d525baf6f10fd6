#!/bin/bash
# make install / uninstall into a staging DESTDIR: the files, the unit's ExecStart on the
# installed binary, a config kept across installs; then `systemd-analyze verify` on the
# unit as installed (skipped, after the install checks, when systemd-analyze is absent).
set -eu
. "$(dirname "$0")/lib.sh"

fg_ns_setup
fg_require_cmd make
M=(make --no-print-directory -C "$FG_ROOT" BUILD="$BUILD")
D=$FG_TMP/dest

# Every file make install writes for PREFIX=/usr.
expected() {
	local d
	printf '%s\n' /usr/sbin/floodgated /usr/bin/floodctl /usr/lib/floodgate/floodgate.bpf.o \
		/usr/lib/systemd/system/floodgated.service /etc/floodgate/floodgate.yaml \
		/usr/share/doc/floodgate/README.md /usr/share/floodgate/prometheus/floodgate.rules.yml \
		/usr/share/floodgate/grafana/floodgate.json
	for d in "$FG_ROOT"/docs/*.md; do
		echo "/usr/share/doc/floodgate/$(basename "$d")"
	done
	printf '%s\n' /usr/share/man/man8/floodgated.8 /usr/share/man/man8/floodctl.8 \
		/usr/share/man/man5/floodgate.yaml.5
}
installed() { (cd "$D" && find . -type f | sed 's/^\.//' | sort); }

"${M[@]}" -s install DESTDIR="$D" PREFIX=/usr >"$FG_TMP/install.out" ||
	fg_fail "make install failed: $(cat "$FG_TMP/install.out")"
diff <(expected | sort) <(installed) >"$FG_TMP/diff" ||
	fg_fail "installed files differ from the expected list: $(cat "$FG_TMP/diff")"
fg_ok "make install DESTDIR PREFIX=/usr writes the expected $(installed | wc -l) files"

UNIT_FILE=$D/usr/lib/systemd/system/floodgated.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT_FILE")
[ "$exec_start" = "/usr/sbin/floodgated -c /etc/floodgate/floodgate.yaml" ] ||
	fg_fail "ExecStart is '$exec_start'"
[ -x "$D/${exec_start%% *}" ] || fg_fail "ExecStart's binary is not installed"
"$D/${exec_start%% *}" --version | grep -q '^floodgated ' || fg_fail "installed floodgated does not run"
! grep -qE "@[A-Z]+@" "$UNIT_FILE" || fg_fail "placeholders left in the unit: $(grep -E "@[A-Z]+@" "$UNIT_FILE")"
"$D/usr/sbin/floodgated" --check-config "$D/etc/floodgate/floodgate.yaml" >/dev/null ||
	fg_fail "the installed example config does not validate"
[ "$(stat -c %a "$D/etc/floodgate/floodgate.yaml")" = 640 ] || fg_fail "config is not 0640"
fg_ok "ExecStart runs the installed floodgated on the installed config (0640, valid)"

# A second install keeps the operator's config and puts the new one beside it.
echo "# edited" >>"$D/etc/floodgate/floodgate.yaml"
"${M[@]}" -s install DESTDIR="$D" PREFIX=/usr >/dev/null || fg_fail "second make install failed"
tail -1 "$D/etc/floodgate/floodgate.yaml" | grep -q edited || fg_fail "install overwrote the config"
cmp -s "$FG_ROOT/packaging/floodgate.yaml" "$D/etc/floodgate/floodgate.yaml.example" ||
	fg_fail "no floodgate.yaml.example beside the kept config"
fg_ok "reinstall keeps an edited config, the example goes to floodgate.yaml.example"

"${M[@]}" -s uninstall DESTDIR="$D" PREFIX=/usr >/dev/null || fg_fail "make uninstall failed"
[ "$(installed)" = /etc/floodgate/floodgate.yaml ] ||
	fg_fail "uninstall left: $(installed | tr '\n' ' ')"
fg_ok "make uninstall removes everything but the edited config"

fg_require_cmd systemd-analyze
# verify checks that ExecStart's binary exists, so install under a real prefix here.
P=$FG_TMP/prefix
"${M[@]}" -s install PREFIX="$P/usr" SYSCONFDIR="$P/etc" >/dev/null ||
	fg_fail "make install PREFIX=$P/usr failed"
out=$(systemd-analyze verify "$P/usr/lib/systemd/system/floodgated.service" 2>&1) ||
	fg_fail "systemd-analyze verify: $out"
# Unknown keys and bad values are only warnings: any output is a finding.
[ -z "$out" ] || fg_fail "systemd-analyze verify: $out"
fg_ok "systemd-analyze verify: no warnings"
fg_pass "make install/uninstall and the systemd unit"
