#!/bin/sh
# Install every Debian package that floodgate's build, tests, lint and benchmarks need.
# Idempotent: prints nothing and touches nothing when all packages are present.
set -eu

PKGS="clang llvm lld libbpf-dev bpftool libelf-dev zlib1g-dev check pkg-config make gcc
      iproute2 util-linux libyaml-dev libuv1-dev libcap-dev libhiredis-dev libmicrohttpd-dev
      redis-tools redis-server netsniff-ng hping3 nftables tcpdump ethtool xdp-tools
      procps psmisc coreutils netcat-openbsd python3 curl jq prometheus gnuplot-nox tmux
      libfaketime chromium tzdata cppcheck"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The socket tests drive floodgated from Node (ioredis) as applications do.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An old package list cannot find new packages: refresh it once before installing.
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
