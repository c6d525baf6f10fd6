# shellcheck shell=bash
# pydirect.sh — sourced by tests/run.sh and tests/netns/lib.sh.
#
# fg_python_direct DIR — when python3 on PATH is a version manager's shim (pyenv's
# runs a dozen processes before the interpreter: 0.3 s idle, 3 s on a loaded
# machine, and the tests run python3 hundreds of times), puts a link to the
# interpreter the shim picks in DIR and DIR first on PATH (exported: nsenter and
# the tests' children find it too). The same interpreter runs either way. An
# interpreter is a binary and a shim a script: when python3 is already the
# interpreter this runs nothing.
fg_python_direct() {
	local dir=$1 sh py magic=
	sh=$(command -v python3) || return 0
	read -r -n 2 magic <"$sh" 2>/dev/null || true
	[ "$magic" = '#!' ] || return 0
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || return 0
	[ -x "$py" ] && ! [ "$sh" -ef "$py" ] || return 0
	mkdir -p "$dir" && ln -sfn "$py" "$dir/python3" || return 0
	PATH=$dir:$PATH
	export PATH
}
