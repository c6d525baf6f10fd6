// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* kernel: the minimum kernel, checked at start (see kernel.h). */
#include "kernel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "log.h"

/* One decimal component, at most 5 digits (no kernel number is longer). */
static int kernel_num(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (isdigit((unsigned char)*s) && n < 6) {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || n > 5)
		return -EINVAL;
	*out = v;
	*p = s;
	return 0;
}

int kernel_parse_release(const char *release, struct kernel_version *v)
{
	const char *p = release;
	struct kernel_version k = { 0, 0, 0 };

	if (!p || kernel_num(&p, &k.major) || *p != '.')
		return -EINVAL;
	p++;
	if (kernel_num(&p, &k.minor))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (kernel_num(&p, &k.patch))
			return -EINVAL;
	}
	/* What follows is the distribution's: "-57-amd64", "+deb12-amd64", "-rc1". */
	if (*p && *p != '-' && *p != '+' && *p != '_' && *p != '~')
		return -EINVAL;
	if (k.major == 0)
		return -EINVAL;
	*v = k;
	return 0;
}

bool kernel_below_floor(const char *release, char *msg, size_t len)
{
	struct kernel_version v;

	if (kernel_parse_release(release, &v))
		return false;
	if (v.major > FG_KERNEL_FLOOR_MAJOR ||
	    (v.major == FG_KERNEL_FLOOR_MAJOR && v.minor >= FG_KERNEL_FLOOR_MINOR))
		return false;
	if (msg && len)
		snprintf(msg, len, "floodgate needs Linux >= %d.%d (%s); this host runs %s",
			 FG_KERNEL_FLOOR_MAJOR, FG_KERNEL_FLOOR_MINOR, FG_KERNEL_FLOOR_WHY,
			 release);
	return true;
}

int kernel_check_floor(void)
{
	struct utsname u;
	struct btf *btf;
	char msg[256];

	if (uname(&u)) {
		log_warn("cannot read the kernel release (uname); not checking the kernel floor",
			 LOG_STR("error", strerror(errno)));
		return 0;
	}
	if (kernel_below_floor(u.release, msg, sizeof(msg))) {
		log_error(msg);
		return -ENOTSUP;
	}
	/* The program's CO-RE relocations (packet headers, xdp_md) are resolved
	 * against the kernel's own BTF: without it libbpf's error is cryptic. */
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(msg, sizeof(msg),
			 "floodgate needs the kernel's BTF (CONFIG_DEBUG_INFO_BTF=y, "
			 "/sys/kernel/btf/vmlinux); this host runs %s without it",
			 u.release);
		log_error(msg);
		return -ENOTSUP;
	}
	btf__free(btf);
	log_debug("kernel at or above the floor", LOG_STR("release", u.release));
	return 0;
}

struct kernel_features kernel_features;

void kernel_probe_features(void)
{
	struct utsname u;

	snprintf(kernel_features.release, sizeof(kernel_features.release), "%s",
		 uname(&u) ? "unknown" : u.release);
	/* SYN cookies answered at XDP use bpf_skc_lookup_tcp (5.2),
	 * bpf_tcp_gen_syncookie (5.3) and bpf_tcp_check_syncookie (5.2), all
	 * below the floor: probed so that a kernel built without them (or
	 * without CONFIG_SYN_COOKIES, where they answer -EOPNOTSUPP at run
	 * time) says so in the log. */
	kernel_features.xdp_syncookies =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_skc_lookup_tcp, NULL) > 0 &&
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_tcp_gen_syncookie, NULL) > 0 &&
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_tcp_check_syncookie, NULL) > 0;
	log_info("kernel features probed", LOG_STR("release", kernel_features.release),
		 LOG_BOOL("xdp_syncookies", kernel_features.xdp_syncookies));
}
