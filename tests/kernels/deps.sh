#!/bin/sh
# Packages `make test-kernels` needs on top of scripts/deps.sh: qemu, a static
# busybox for the initramfs, kmod (depmod/modprobe --show-depends on the
# fetched kernel's modules) and the decompressors of Debian's modules.
# Kept apart so that `make test` stays lean.
set -eu
PKGS="qemu-system-x86 busybox-static kmod xz-utils zstd cpio gzip bsdextrautils util-linux"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/kernels/deps.sh: missing packages:$missing; run it as root" >&2
	exit 1
fi
echo "tests/kernels/deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
