#!/bin/bash
# Boot each kernel of tests/kernels/kernels.list in qemu and run, inside it,
# the verifier load of every program of the BPF object, the BPF table tests and
# the agent smoke test (tests/kernels/smoke.sh). Prints one table row per kernel.
#
#   tests/kernels/run.sh                          every kernel of the list
#   tests/kernels/run.sh --kernel debian12-6.1    one (repeatable; or KERNELS="a b")
#   tests/kernels/run.sh --verify-only OBJ.bpf.o  verifier only, any object
#
# The kernels are Debian packages fetched with apt-get download into
# $FG_KERNEL_CACHE (default /var/cache/floodgate-kernels), kept there between
# runs. The guest sees the host root read-only over 9p (as virtme does), a
# tmpfs on /tmp and /run, and a writable 9p share for its results. KVM when
# /dev/kvm exists and boots a kernel, TCG emulation otherwise. Every boot is
# under `timeout`; the temporary directory and qemu go when this script exits.
#
# Exit: 0 all passed, 1 a check failed, 2 could not run (usage, no package).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LIST=${FG_KERNEL_LIST:-$HERE/kernels.list}
CACHE=${FG_KERNEL_CACHE:-/var/cache/floodgate-kernels}
BOOT_TIMEOUT=${FG_KERNEL_TIMEOUT:-900}  # seconds per kernel, boot to poweroff
MEM=${FG_KERNEL_MEM:-2048}
HEADROOM_PCT=25                          # fg_xdp's share of the 1M limit, at most

kernels=()
verify_obj=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift 2 ;;
	--verify-only) verify_obj=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ ${#kernels[@]} -eq 0 ] && [ -n "${KERNELS:-}" ] && read -r -a kernels <<<"$KERNELS"
if [ ${#kernels[@]} -eq 0 ]; then
	mapfile -t kernels < <(grep -v '^[[:space:]]*\(#\|$\)' "$LIST" | awk '{print $1}')
fi
if [ -n "$verify_obj" ]; then
	case $verify_obj in /*) ;; *) verify_obj=$PWD/$verify_obj ;; esac
	[ -r "$verify_obj" ] || { echo "run.sh: cannot read $verify_obj" >&2; exit 2; }
fi

"$HERE/deps.sh" || exit 2

TMP=$(mktemp -d /tmp/fgkern.XXXXXX)
QEMU_PID=""
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fgverify runs in the guest; built here against the host's libbpf.
FGVERIFY=$TMP/fgverify
gcc -O2 -Wall -Wextra -Werror -std=gnu11 "$HERE/fgverify.c" -lbpf -lelf -lz -o "$FGVERIFY" ||
	{ echo "run.sh: cannot build fgverify" >&2; exit 2; }

apt_updated=0
# The newest package matching regex $1, by Debian version order.
resolve_pkg() {
	local re=$1 names
	names=$(apt-cache pkgnames 2>/dev/null | grep -E "$re")
	if [ -z "$names" ] && [ $apt_updated -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1
		apt_updated=1
		names=$(apt-cache pkgnames 2>/dev/null | grep -E "$re")
	fi
	[ -n "$names" ] || return 1
	printf '%s\n' "$names" | sort -V | tail -1
}

# Fetch and unpack package $1 into $CACHE/$1/root (once); prints that path.
fetch_kernel() {
	local pkg=$1 dir=$CACHE/$1
	mkdir -p "$dir" || return 1
	# Several worktrees may run at once: one fetches, the others wait for it.
	(
		flock 9 || exit 1
		[ -f "$dir/.done" ] && exit 0
		rm -rf "$dir/root" "$dir"/*.deb
		(cd "$dir" && apt-get download -qq "$pkg" >&2) || exit 1
		dpkg-deb -x "$dir"/*.deb "$dir/root" || exit 1
		touch "$dir/.done"
	) 9>"$dir/.lock" || return 1
	echo "$dir/root"
}

# The modules the guest needs, in load order; dependencies resolved by kmod
# on the host against the fetched tree.
GUEST_MODS="virtio_pci virtio_blk 9pnet_virtio 9p veth sch_ingress cls_bpf"

build_initramfs() {
	local kroot=$1 kver=$2 out=$3 d=$TMP/initramfs m src base
	rm -rf "$d"
	mkdir -p "$d"/{bin,dev,proc,sys,root,mods}
	cp /bin/busybox "$d/bin/busybox"
	[ -f "$kroot/lib/modules/$kver/modules.dep" ] || depmod -b "$kroot" "$kver" || return 1
	: >"$d/mods/order"
	for m in $GUEST_MODS; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>/dev/null
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r src; do
		base=$(basename "$src")
		case $base in
		*.xz) xz -dc "$src" >"$d/mods/${base%.xz}"; base=${base%.xz} ;;
		*.zst) zstd -qdc "$src" >"$d/mods/${base%.zst}"; base=${base%.zst} ;;
		*.gz) gzip -dc "$src" >"$d/mods/${base%.gz}"; base=${base%.gz} ;;
		*) cp "$src" "$d/mods/$base" ;;
		esac
		echo "$base" >>"$d/mods/order"
	done
	cat >"$d/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null || echo "init: insmod $m failed"; done
fail() { echo "FGKERN-INIT-FAILED: $*"; reboot -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /root ||
	fail "cannot mount the host root"
mount -t tmpfs tmp /root/tmp && mount -t tmpfs run /root/run || fail "tmpfs"
mkdir -p /root/tmp/fgout
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 fgout /root/tmp/fgout || fail "out share"
# The repository (and build dir) at their own paths: seen through the tmpfs
# when they live under /tmp, as a CI clone may.
for e in $(cat /mounts); do
	tag=${e%%=*} dir=${e#*=}
	mkdir -p "/root$dir" 2>/dev/null
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 "$tag" "/root$dir" ||
		fail "cannot mount $dir"
done
mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts devpts /root/dev/pts
mount -t tmpfs shm /root/dev/shm
mount -t bpf bpf /root/sys/fs/bpf
mount -t tracefs tracefs /root/sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /root/sys/fs/cgroup 2>/dev/null
ip link set lo up
chroot /root /bin/bash /tmp/fgout/guest.sh </dev/console >/dev/console 2>&1
echo "FGKERN-GUEST-EXIT: $?"
sync
reboot -f
INIT
	chmod +x "$d/init"
	printf '%s\n' "${MOUNTS[@]}" >"$d/mounts"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
}

# KVM when /dev/kvm exists and boots kernel $1: a nested guest can have a
# /dev/kvm that hangs the kernel before its first message (seen on an Intel
# VM: no output in 6 minutes with any -cpu model, while TCG boots it in
# seconds). The probe boots $1 without an initramfs, so it panics at once
# and qemu exits; a kernel that printed nothing within KVM_PROBE_S seconds
# means TCG for the rest of the run, said in one line. Sets ACCEL.
ACCEL=""
KVM_PROBE_S=${FG_KERNEL_KVM_PROBE:-30}
choose_accel() {
	local log=$TMP/kvm-probe.log
	[ -n "$ACCEL" ] && return 0
	ACCEL=tcg
	[ -w /dev/kvm ] || return 0
	timeout --kill-after=5 "$KVM_PROBE_S" qemu-system-x86_64 -machine q35,accel=kvm -cpu host \
		-smp 1 -m 512 -nographic -no-reboot -nodefaults -serial stdio -display none \
		-kernel "$1" -append "console=ttyS0 panic=-1" </dev/null >"$log" 2>&1
	if grep -q "Linux version" "$log"; then
		ACCEL=kvm
	else
		echo "run.sh: /dev/kvm did not boot a kernel within ${KVM_PROBE_S}s (a nested guest?): TCG emulation instead" >&2
	fi
}

# Boot kernel $1 (vmlinuz) with initramfs $2 and out dir $3; console to $4.
boot() {
	local vmlinuz=$1 initrd=$2 out=$3 log=$4 accel=tcg cpu=max e extra=()
	for e in "${MOUNTS[@]}"; do
		extra+=(-virtfs "local,path=${e#*=},mount_tag=${e%%=*},security_model=none,readonly=on,multidevs=remap")
	done
	choose_accel "$vmlinuz"
	if [ "$ACCEL" = kvm ]; then accel=kvm; cpu=host; fi
	timeout --kill-after=10 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel=$accel -cpu $cpu -smp 2 -m "$MEM" \
		-nographic -no-reboot -nodefaults -serial stdio -display none \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$out",mount_tag=fgout,security_model=none,multidevs=remap \
		"${extra[@]}" \
		</dev/null >"$log" 2>&1 &
	QEMU_PID=$!
	wait "$QEMU_PID"
	local rc=$?
	QEMU_PID=""
	return $rc
}

# 9p exports mounted at the same path in the guest: tag=dir.
MOUNTS=("fgrepo=$ROOT")
case $BUILD/ in "$ROOT"/*) ;; *) MOUNTS+=("fgbuild=$BUILD") ;; esac

rows=()
fail=0
n_pass=0
n_fail=0
for name in "${kernels[@]}"; do
	re=$(awk -v n="$name" '$1 == n {print $2}' "$LIST")
	if [ -z "$re" ]; then
		echo "run.sh: no kernel named '$name' in $LIST" >&2
		exit 2
	fi
	t0=$(date +%s)
	pkg=$(resolve_pkg "$re") || { echo "run.sh: $name: no package matches $re in the apt sources" >&2; rows+=("$name|-|-|-|-|-|FAIL (no package)"); fail=1; n_fail=$((n_fail + 1)); continue; }
	echo "== $name: $pkg" >&2
	kroot=$(fetch_kernel "$pkg")
	if [ -z "$kroot" ] && [ $apt_updated -eq 0 ]; then
		# An old package list may name a build the archive no longer has:
		# refresh it once, choose again, fetch again.
		echo "run.sh: $name: refreshing apt's package lists and choosing again" >&2
		apt-get update -qq >/dev/null 2>&1
		apt_updated=1
		pkg=$(resolve_pkg "$re") && kroot=$(fetch_kernel "$pkg")
	fi
	[ -n "$kroot" ] || { echo "run.sh: $name: cannot fetch $pkg" >&2; rows+=("$name|$pkg|-|-|-|-|FAIL (fetch failed)"); fail=1; n_fail=$((n_fail + 1)); continue; }
	kver=$(ls "$kroot/lib/modules" | head -1)
	vmlinuz=$kroot/boot/vmlinuz-$kver
	out=$TMP/out-$name
	mkdir -p "$out"
	cp "$FGVERIFY" "$out/fgverify"
	cp "$HERE/guest.sh" "$out/guest.sh"
	# The object under test travels in the results share: it may live anywhere.
	[ -n "$verify_obj" ] && cp "$verify_obj" "$out/object.bpf.o"
	{
		echo "FG_ROOT=$ROOT"
		echo "FG_BUILD=$BUILD"
		echo "FG_VERIFY_OBJ=$([ -n "$verify_obj" ] && echo /tmp/fgout/object.bpf.o || echo "$BUILD/floodgate.bpf.o")"
		echo "FG_VERIFY_ONLY=$([ -n "$verify_obj" ] && echo 1 || echo 0)"
	} >"$out/params"
	build_initramfs "$kroot" "$kver" "$TMP/initrd-$name.gz" ||
		{ echo "run.sh: $name: cannot build the initramfs" >&2; rows+=("$name|$kver|-|-|-|-|FAIL (initramfs)"); fail=1; n_fail=$((n_fail + 1)); continue; }
	boot "$vmlinuz" "$TMP/initrd-$name.gz" "$out" "$out/console.log"
	brc=$?
	# A guest that died before our script began (seen: 6.12 panicked at
	# 1.1 s of its boot under TCG, an int3 in sched_clock_tick) tested
	# nothing: boot it once more, and say so.
	if [ ! -s "$out/result" ] && ! grep -q FGKERN-GUEST-BEGIN "$out/console.log"; then
		echo "run.sh: $name: the guest died while booting ($(grep -m1 -E 'Kernel panic|Oops' "$out/console.log" || echo "no result")): booting it once more" >&2
		boot "$vmlinuz" "$TMP/initrd-$name.gz" "$out" "$out/console.log"
		brc=$?
	fi
	secs=$(( $(date +%s) - t0 ))
	# The guest's own output, for the CI log.
	sed -n '/FGKERN-GUEST-BEGIN/,$p' "$out/console.log" | sed '1d' | sed "s/^/  [$name] /" >&2
	res=$out/result
	if [ ! -s "$res" ]; then
		echo "run.sh: $name: the guest wrote no result (qemu exit $brc); console tail:" >&2
		tail -30 "$out/console.log" | sed "s/^/  [$name] /" >&2
		rows+=("$name|$kver|-|-|-|-|FAIL ${secs}s (no result)")
		fail=1
		n_fail=$((n_fail + 1))
		continue
	fi
	loaded=$(awk '$1 == "programs" {print $4 "/" $2}' "$res")
	insns=$(awk '$1 == "prog" {printf "%s%s %s (%s%%)", sep, $2, $4, $8; sep=", "}' "$res")
	xdp_pct=$(awk '$1 == "prog" && $2 == "fg_xdp" {print $8}' "$res")
	bt=$(awk '$1 == "bpf_table" {print $2}' "$res")
	sm=$(awk '$1 == "smoke" {print $2}' "$res")
	verdict=PASS
	awk '$1 == "programs" && $2 == $4 && $2 > 0 {ok=1} END {exit !ok}' "$res" || verdict=FAIL
	if [ -n "$xdp_pct" ] && awk -v p="$xdp_pct" -v m=$HEADROOM_PCT 'BEGIN {exit !(p > m)}'; then
		echo "run.sh: $name: fg_xdp uses $xdp_pct% of the verifier's limit, over the ${HEADROOM_PCT}% kept as headroom" >&2
		verdict=FAIL
	fi
	[ -z "$xdp_pct" ] && [ -z "$verify_obj" ] && verdict=FAIL
	grep -q '^bpf_table .* FAIL' "$res" && verdict=FAIL
	grep -q '^smoke .* FAIL' "$res" && verdict=FAIL
	# A guest cut short (timeout, crash) reported only part of its stages.
	missing=0
	if [ -z "$verify_obj" ]; then
		[ -n "$bt" ] || missing=$((missing + 1))
		[ -n "$sm" ] || missing=$((missing + 1))
	fi
	if [ $missing -gt 0 ]; then
		echo "run.sh: $name: the guest did not report every stage; console tail:" >&2
		tail -30 "$out/console.log" | sed "s/^/  [$name] /" >&2
		verdict=FAIL
		n_fail=$((n_fail + missing))
	fi
	[ "$verdict" = PASS ] || fail=1
	# Checks for the closing "N passed, N failed" line: each program's load, the
	# headroom, each BPF table case, each smoke step.
	read -r cp cf < <(awk -v m=$HEADROOM_PCT '
		$1 == "prog" { if ($NF == "ok") p++; else f++ }
		$1 == "prog" && $2 == "fg_xdp" { if ($8 <= m) p++; else f++ }
		$1 == "bpf_table" || $1 == "smoke" { split($2, a, "/"); p += a[1]; f += a[2] - a[1] }
		$1 == "programs" && $2 == 0 { f++ }
		END { print p + 0, f + 0 }' "$res")
	n_pass=$((n_pass + cp))
	n_fail=$((n_fail + cf))
	rows+=("$name|$kver|${loaded:--}|${insns:--}|${bt:--}|${sm:--}|$verdict ${secs}s")
done

accel=TCG; [ "$ACCEL" = kvm ] && accel=KVM
echo
echo "Kernel matrix ($accel; verifier limit 1,000,000 insns, fg_xdp must stay <= ${HEADROOM_PCT}%)"
{
	echo "kernel|release|progs loaded|insns processed (% of limit)|bpf table|smoke steps|result"
	printf '%s\n' "${rows[@]}"
} | column -t -s '|'
echo "kernels: $n_pass passed, $n_fail failed"
exit $fail
