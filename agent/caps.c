// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "log.h"

/*
 * What the running agent still does, and what it takes:
 *   CAP_BPF        every bpf() call once kernel.unprivileged_bpf_disabled
 *                  is set (the default): map reads and writes (bans, lists,
 *                  config), pinning a new interface's link, ban sweeps.
 *   CAP_NET_ADMIN  creating an XDP link on an interface a reload adds, and
 *                  the TC egress filter (netlink) on it; removing the TC
 *                  filter of a dropped interface and at exit.
 * Given up: CAP_PERFMON (only the verifier needs it, at load), CAP_CHOWN
 * (socket.group, at bind), CAP_SYS_ADMIN (mounting bpffs), and the rest.
 */
static const cap_value_t keep[] = { CAP_BPF, CAP_NET_ADMIN };

/* Is c among the first nkeep of keep[] (all, or none in app-only mode)? */
static bool kept(cap_value_t c, size_t nkeep)
{
	size_t i;

	for (i = 0; i < nkeep; i++)
		if (keep[i] == c)
			return true;
	return false;
}

static bool has(cap_t set, cap_value_t c, cap_flag_t flag)
{
	cap_flag_value_t v = CAP_CLEAR;

	return !cap_get_flag(set, c, flag, &v) && v == CAP_SET;
}

/* Append cap's name to buf ("cap_bpf,cap_net_admin"). */
static void name_append(char *buf, size_t len, cap_value_t c)
{
	char *name = cap_to_name(c);
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? "," : "", name ? name : "?");
	cap_free(name);
}

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

bool caps_can_load_xdp(void)
{
	cap_t cur = cap_get_proc();
	bool can;

	if (!cur)
		return false;
	can = has(cur, CAP_SYS_ADMIN, CAP_EFFECTIVE) ||
	      (has(cur, CAP_BPF, CAP_EFFECTIVE) && has(cur, CAP_PERFMON, CAP_EFFECTIVE) &&
	       has(cur, CAP_NET_ADMIN, CAP_EFFECTIVE));
	cap_free(cur);
	return can;
}

int caps_drop_to_runtime(bool xdp)
{
	char kept_names[128] = "", bound_names[1024] = "";
	cap_t cur, next = NULL;
	bool can_bound;
	int nthreads = thread_count(), err = 0;
	size_t nkeep = xdp ? sizeof(keep) / sizeof(keep[0]) : 0;
	cap_value_t c;
	size_t i;

	cur = cap_get_proc();
	if (!cur) {
		err = -errno;
		log_warn("cannot read the process capabilities", LOG_ERRNO(-err));
		return err;
	}
	next = cap_init();
	if (!next)
		goto fail_build;
	for (i = 0; i < nkeep; i++) {
		if (!has(cur, keep[i], CAP_PERMITTED))
			continue;
		if (cap_set_flag(next, CAP_PERMITTED, 1, &keep[i], CAP_SET) ||
		    cap_set_flag(next, CAP_EFFECTIVE, 1, &keep[i], CAP_SET))
			goto fail_build;
		name_append(kept_names, sizeof(kept_names), keep[i]);
	}

	/* The bounding set only shrinks with CAP_SETPCAP, so before the
	 * permitted set loses it. Without it (systemd's CapabilityBoundingSet=
	 * already bounds us) no_new_privs below does the same job. */
	can_bound = has(cur, CAP_SETPCAP, CAP_EFFECTIVE);
	for (c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_get_bound(c) != 1)
			continue;
		if (can_bound && !kept(c, nkeep) && !cap_drop_bound(c))
			continue;
		name_append(bound_names, sizeof(bound_names), c);
	}
	/* Ambient capabilities would pass to anything we exec: none do. */
	if (CAP_AMBIENT_SUPPORTED())
		cap_reset_ambient();
	if (cap_set_proc(next)) {
		err = -errno;
		log_warn("cannot drop capabilities", LOG_ERRNO(-err));
		goto out;
	}
	/* A uid-0 process gets its bounding set back on execve; no_new_privs
	 * caps it at what we keep now. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		log_warn("cannot set no_new_privs", LOG_ERRNO(-err));
		goto out;
	}
	log_info("capabilities dropped", LOG_STR("kept", kept_names[0] ? kept_names : "none"),
		 LOG_STR("bounding", bound_names[0] ? bound_names : "none"),
		 LOG_UINT("no_new_privs", 1));
	if (nthreads > 1)
		log_warn("capabilities are per thread: threads started before the drop keep "
			 "theirs",
			 LOG_INT("threads", nthreads - 1));
	goto out;
fail_build:
	err = -errno;
	log_warn("cannot build the capability set to keep", LOG_ERRNO(-err));
out:
	cap_free(next);
	cap_free(cur);
	return err;
}
