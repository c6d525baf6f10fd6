// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "floodgate.skel.h"
#include "caps.h"
#include "dirperm.h"
#include "loader.h"
#include "vouch.h"
#include "log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define LINK_PREFIX "link_xdp_"
/* Our TC egress filter's identity, so a restart replaces rather than adds. */
#define FG_TC_HANDLE 0xf10d
#define FG_TC_PRIO   0xf10d

const char *loader_mode_name(enum fg_xdp_mode mode)
{
	switch (mode) {
	case FG_XDP_NATIVE:
		return "native";
	case FG_XDP_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* mkdir -p of the pin directory, mounting bpffs first when it is missing
 * (a fresh boot, or a namespace entered with `ip netns exec`). */
static int prepare_pin_dir(const char *pin_dir)
{
	char path[PATH_MAX], *p;

	if (!is_bpffs("/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			int err = -errno;

			log_error("cannot mount bpffs at /sys/fs/bpf", LOG_ERRNO(-err),
				  LOG_STR("hint", "mount it with 'mount -t bpf bpf /sys/fs/bpf'"));
			return err;
		}
		log_info("mounted bpffs at /sys/fs/bpf");
	}
	snprintf(path, sizeof(path), "%s", pin_dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		goto fail;
	if (!is_bpffs(path)) {
		log_error("pin directory is not on a bpffs: choose one under /sys/fs/bpf",
			  LOG_STR("pin_dir", pin_dir));
		return -EINVAL;
	}
	return 0;
fail:
	log_error("cannot create the pin directory", LOG_STR("pin_dir", path), LOG_ERRNO(errno));
	return -errno;
}

/*
 * The pin directory holds the XDP link: whoever may unlink there may detach
 * the protection. It must be root's (or ours), writable by no one else, in
 * a parent no one else can rename it out of. Then lock it for the life of
 * the agent: a second agent on the same pins would take the links over and
 * remove every pin on exit. Returns 0 (l->lock_fd open) or -errno, logged.
 */
static int lock_pin_dir(struct loader *l)
{
	char m[512], parent[PATH_MAX], *slash;
	struct stat st, pst;
	int fd;

	fd = open(l->pin_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int err = -errno;

		log_error("cannot open the pin directory (a symlink is refused)",
			  LOG_STR("pin_dir", l->pin_dir), LOG_ERRNO(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!dirperm_owner_ok(&st) || dirperm_others_can_write(&st)) {
		log_error(
			log_fmt(m, sizeof(m),
				"pin directory %s is owned by uid %u with mode %04o: another user "
				"could remove the pins and detach XDP; remove it (rm -r %s) or "
				"make it root's and not writable by others (chown root: %s; "
				"chmod 700 %s)",
				l->pin_dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
				l->pin_dir, l->pin_dir, l->pin_dir),
			LOG_STR("pin_dir", l->pin_dir), LOG_UINT("owner", st.st_uid),
			LOG_UINT("mode", st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	snprintf(parent, sizeof(parent), "%s", l->pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	if (slash && !stat(parent, &pst) && dirperm_others_can_write(&pst) &&
	    !(pst.st_mode & S_ISVTX)) {
		log_error(log_fmt(m, sizeof(m),
				  "the parent of pin directory %s (%s, mode %04o) lets other users "
				  "rename it: choose a pin directory in a directory only root can "
				  "write, or set its sticky bit (chmod +t %s)",
				  l->pin_dir, parent, (unsigned)(pst.st_mode & 07777), parent),
			  LOG_STR("pin_dir", l->pin_dir), LOG_STR("parent", parent));
		close(fd);
		return -EPERM;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		if (err == -EWOULDBLOCK)
			log_error(log_fmt(m, sizeof(m),
					  "pin directory %s is in use by another floodgated: stop "
					  "that one first, or give this one its own --pin-dir",
					  l->pin_dir),
				  LOG_STR("pin_dir", l->pin_dir));
		else
			log_error("cannot lock the pin directory", LOG_STR("pin_dir", l->pin_dir),
				  LOG_ERRNO(-err));
		close(fd);
		return err == -EWOULDBLOCK ? -EBUSY : err;
	}
	l->lock_fd = fd;
	l->locked = true;
	return 0;
}

/* True when the map pinned at path can be reused for map (same shape).
 * sized: the config sets its capacity (else only another build does). */
static bool pinned_compatible(const char *path, const struct bpf_map *map, bool sized,
			      const char **why)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	bool ok;
	int fd = bpf_obj_get(path);

	if (fd < 0) {
		*why = "cannot be opened";
		return false;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		*why = "cannot be inspected";
		return false;
	}
	ok = info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	     info.value_size == bpf_map__value_size(map) &&
	     info.map_flags == bpf_map__map_flags(map);
	*why = "has another layout";
	if (ok && info.max_entries != bpf_map__max_entries(map)) {
		ok = false;
		*why = sized ? "has another capacity (a sources.max_* setting changed)"
			     : "has another capacity (made by another version of floodgated)";
	}
	close(fd);
	return ok;
}

/*
 * Decide which pinned maps libbpf may reuse: all of them when the layout
 * version is ours or one we adopt (fg_abi_adoptable()), minus any whose
 * shape or size differs (those lose their state, and the log says which).
 * Another layout version replaces all.
 */
static void vet_pinned_maps(struct loader *l)
{
	char m[PATH_MAX + 256], replaced[256] = "";
	__u32 version = xdpmaps_pinned_layout(l->pin_dir);
	struct bpf_map *map;
	char path[PATH_MAX];
	const char *why;
	int reused = 0, lost = 0;
	bool replace_all = version && !fg_abi_adoptable(version), filter_kept = false,
	     ban_filter_kept = false;

	/* Said once, before any map is looked at: after an upgrade every map
	 * would otherwise look like one whose capacity setting changed. */
	if (version && version != FG_ABI_VERSION && !replace_all)
		log_info(log_fmt(m, sizeof(m),
				 "the pinned maps in %s are of map layout %u, this floodgated uses "
				 "layout %u: adopting those whose shape is unchanged (their state "
				 "kept), replacing the others",
				 l->pin_dir, version, FG_ABI_VERSION),
			 LOG_STR("pin_dir", l->pin_dir), LOG_UINT("layout", version),
			 LOG_UINT("ours", FG_ABI_VERSION));
	if (replace_all)
		log_warn(log_fmt(m, sizeof(m),
				 "the pinned maps in %s are of map layout %u, this floodgated uses "
				 "layout %u (floodgated was %s): replacing them, so buckets, bans "
				 "and counters start empty",
				 l->pin_dir, version, FG_ABI_VERSION,
				 version < FG_ABI_VERSION ? "upgraded" : "downgraded"),
			 LOG_STR("pin_dir", l->pin_dir), LOG_UINT("layout", version),
			 LOG_UINT("ours", FG_ABI_VERSION));
	bpf_object__for_each_map(map, l->skel->obj)
	{
		if (!bpf_map__pin_path(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->pin_dir, bpf_map__name(map));
		if (access(path, F_OK))
			continue;
		if (replace_all) {
			unlink(path);
			continue;
		}
		if (!pinned_compatible(
			    path, map,
			    map == l->skel->maps.src_state || map == l->skel->maps.prefix_state ||
				    map == l->skel->maps.udp_flows || map == l->skel->maps.verified,
			    &why)) {
			unlink(path);
			/* The filters hold nothing of their own: the agent
			 * counts and marks the adopted maps into new ones
			 * before its program is attached. */
			if (map == l->skel->maps.seen || map == l->skel->maps.ban_filter) {
				log_info("pinned filter does not fit: replacing it (rebuilt from "
					 "the adopted maps)",
					 LOG_STR("path", path), LOG_STR("why", why));
				continue;
			}
			log_warn("pinned map does not fit: replacing it (its state is lost)",
				 LOG_STR("path", path), LOG_STR("why", why));
			snprintf(replaced + strlen(replaced), sizeof(replaced) - strlen(replaced),
				 "%s%s", lost++ ? ", " : "", bpf_map__name(map));
			continue;
		}
		reused++;
		filter_kept |= map == l->skel->maps.seen;
		ban_filter_kept |= map == l->skel->maps.ban_filter;
	}
	l->adopted_maps = reused > 0;
	l->new_filter = l->adopted_maps && !filter_kept;
	l->new_ban_filter = l->adopted_maps && !ban_filter_kept;
	/* Which state survives, said once: a replaced src_state is every
	 * bucket starting full, which "buckets kept" must not claim. */
	if (reused && !lost)
		log_info(log_fmt(m, sizeof(m),
				 "adopting %d pinned maps (buckets, bans and counters kept)",
				 reused),
			 LOG_INT("maps", reused), LOG_STR("pin_dir", l->pin_dir));
	else if (reused)
		log_info(log_fmt(m, sizeof(m),
				 "adopting %d pinned maps (their state kept); %d replaced, their "
				 "state starts empty: %s",
				 reused, lost, replaced),
			 LOG_INT("maps", reused), LOG_INT("replaced", lost),
			 LOG_STR("pin_dir", l->pin_dir));
}

const char *loader_load_error_hint(int err, bool privileged, bool has_btf)
{
	/* EPERM is a missing capability; EACCES is one too, or the
	 * verifier's refusal of a process that has them all. */
	if (err == -EPERM || (err == -EACCES && !privileged))
		return "the kernel refused to load the XDP program: floodgated needs root or "
		       "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON";
	if (!has_btf)
		return "loading failed and this kernel has no BTF (/sys/kernel/btf/vmlinux): "
		       "floodgate needs a kernel built with CONFIG_DEBUG_INFO_BTF";
	return "the kernel's verifier rejected the XDP program; run floodgated -v to see its log";
}

static void explain_load_error(int err)
{
	log_error(loader_load_error_hint(err, caps_can_load_xdp(),
					 !access("/sys/kernel/btf/vmlinux", F_OK)),
		  LOG_ERRNO(-err));
}

int loader_open(struct loader *l, const struct fg_conf *conf, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	int err;

	memset(l, 0, sizeof(*l));
	snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin_dir);
	err = prepare_pin_dir(l->pin_dir);
	if (!err)
		err = lock_pin_dir(l);
	if (err)
		return err;

	opts.pin_root_path = l->pin_dir;
	l->skel = floodgate_bpf__open_opts(&opts);
	if (!l->skel) {
		err = -errno;
		log_error("cannot open the BPF object", LOG_ERRNO(-err));
		return err;
	}
	bpf_map__set_max_entries(l->skel->maps.src_state, conf->max_tracked);
	bpf_map__set_max_entries(l->skel->maps.prefix_state, conf->max_prefixes);
	bpf_map__set_max_entries(l->skel->maps.udp_flows, conf->max_udp_flows);
	/* TCP-verified entries and vouches, each with its own room. */
	bpf_map__set_max_entries(l->skel->maps.verified,
				 vouch_map_entries(conf, libbpf_num_possible_cpus()));
	vet_pinned_maps(l);

	err = floodgate_bpf__load(l->skel);
	if (err) {
		explain_load_error(err);
		floodgate_bpf__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	return 0;
}

static void link_pin_path(const struct loader *l, const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" LINK_PREFIX "%s", l->pin_dir, ifname);
}

static enum fg_xdp_mode attached_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return FG_XDP_AUTO;
	return q.attach_mode == XDP_ATTACHED_SKB ? FG_XDP_GENERIC : FG_XDP_NATIVE;
}

uint32_t loader_xdp_prog_id(const struct floodgate_bpf *skel)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.fg_xdp), &info, &len) ? 0
											 : info.id;
}

bool loader_xdp_attached(uint32_t prog_id, int ifindex, const char **mode, const char **why)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*mode = "none";
	if (ifindex <= 0) {
		*why = "interface missing";
		return false;
	}
	if (bpf_xdp_query(ifindex, 0, &q)) {
		*why = "cannot query its XDP program";
		return false;
	}
	if (q.drv_prog_id && q.drv_prog_id == prog_id)
		*mode = "native";
	else if (q.skb_prog_id && q.skb_prog_id == prog_id)
		*mode = "generic";
	else if (q.hw_prog_id && q.hw_prog_id == prog_id)
		*mode = "offload";
	else {
		*why = q.prog_id || q.drv_prog_id || q.skb_prog_id
			       ? "another XDP program is attached"
			       : LOADER_XDP_DETACHED;
		return false;
	}
	return true;
}

/* Reuse the pinned link of ifname if it still points at ifindex. */
static int adopt_link(struct loader *l, struct loader_iface *li, const char *path)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)li->ifindex) {
		/* Detached, or its interface recreated: it protects nothing. */
		const char *why = info.xdp.ifindex ? "is stale (interface recreated)"
						   : "was detached (by another tool, or its "
						     "interface was deleted)";
		char m[160];

		log_info(log_fmt(m, sizeof(m), "pinned link %s; replacing it", why),
			 LOG_STR("path", path));
		close(fd);
		unlink(path);
		return -ENOENT;
	}
	if (bpf_link_update(fd, bpf_program__fd(l->skel->progs.fg_xdp), NULL)) {
		int err = -errno;

		log_warn("cannot swap the new program into the pinned link", LOG_STR("path", path),
			 LOG_ERRNO(-err));
		close(fd);
		return err;
	}
	li->link_fd = fd;
	li->adopted = true;
	return 0;
}

/* The name of the XDP program attached to ifindex, "" when none or unknown. */
static const char *attached_prog_name(int ifindex, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd;

	buf[0] = '\0';
	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return buf;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return buf;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return buf;
}

static int create_link(struct loader *l, struct loader_iface *li, enum fg_xdp_mode mode)
{
	char m[256];
	int prog_fd = bpf_program__fd(l->skel->progs.fg_xdp);
	enum fg_xdp_mode tries[2] = { FG_XDP_NATIVE, FG_XDP_GENERIC };
	int ntries = 2, i, fd, err = -EINVAL;

	if (mode != FG_XDP_AUTO) {
		tries[0] = mode;
		ntries = 1;
	}
	for (i = 0; i < ntries; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts);

		opts.flags = tries[i] == FG_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, li->ifindex, BPF_XDP, &opts);
		if (fd >= 0) {
			li->link_fd = fd;
			li->mode = tries[i];
			return 0;
		}
		err = -errno;
		if (err == -EBUSY || err == -EEXIST) {
			char name[BPF_OBJ_NAME_LEN];

			attached_prog_name(li->ifindex, name, sizeof(name));
			if (!strcmp(name, "fg_xdp"))
				log_fmt(m, sizeof(m),
					"%s is protected by another floodgated (its pins are "
					"elsewhere): stop that agent, or run with its --pin-dir",
					li->name);
			else
				log_fmt(m, sizeof(m),
					"%s already has an XDP program attached by another tool "
					"(%s): detach it first (ip link set dev %s xdp off, or "
					"bpftool link detach for a link)",
					li->name, *name ? name : "unnamed", li->name);
			log_error(m, LOG_STR("iface", li->name));
			return err;
		}
		if (err == -EPERM) {
			log_error(log_fmt(m, sizeof(m),
					  "attaching to %s was refused: floodgated needs "
					  "CAP_NET_ADMIN",
					  li->name),
				  LOG_STR("iface", li->name), LOG_ERRNO(-err));
			return err;
		}
		if (ntries == 2 && i == 0)
			log_info(log_fmt(m, sizeof(m),
					 "native XDP is not available on %s; trying generic",
					 li->name),
				 LOG_STR("iface", li->name), LOG_ERRNO(-err));
	}
	log_error(log_fmt(m, sizeof(m), "cannot attach XDP to %s", li->name),
		  LOG_STR("iface", li->name), LOG_STR("mode", loader_mode_name(mode)),
		  LOG_ERRNO(-err));
	return err;
}

static int attach_tc(struct loader *l, struct loader_iface *li)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = li->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FG_TC_HANDLE, .priority = FG_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	opts.prog_fd = bpf_program__fd(l->skel->progs.fg_tc_egress);
	err = bpf_tc_hook_create(&hook);
	li->tc_qdisc_ours = !err;
	if (err && err != -EEXIST) {
		log_warn("cannot add a clsact qdisc for the egress program",
			 LOG_STR("iface", li->name), LOG_ERRNO(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_warn("cannot attach the TC egress program", LOG_STR("iface", li->name),
			 LOG_ERRNO(-err));
		return err;
	}
	li->tc_attached = true;
	return 0;
}

static void detach_tc(int ifindex, bool remove_qdisc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FG_TC_HANDLE, .priority = FG_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
	if (remove_qdisc) {
		/* Only a clsact qdisc we added: others may hang filters on theirs. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

int loader_attach(struct loader *l, const char *ifname, enum fg_xdp_mode mode)
{
	char m[256];
	struct loader_iface *li;
	char path[PATH_MAX];
	int err, i;

	for (i = 0; i < l->nifaces; i++)
		if (!strcmp(l->ifaces[i].name, ifname))
			return 0;
	if (l->nifaces == FG_LOADER_MAX_IFACES) {
		log_error(log_fmt(m, sizeof(m), "cannot protect %s: at most %d interfaces", ifname,
				  FG_LOADER_MAX_IFACES),
			  LOG_STR("iface", ifname));
		return -E2BIG;
	}
	li = &l->ifaces[l->nifaces];
	memset(li, 0, sizeof(*li));
	li->link_fd = -1;
	snprintf(li->name, sizeof(li->name), "%s", ifname);
	li->ifindex = if_nametoindex(ifname);
	if (!li->ifindex) {
		log_error(log_fmt(m, sizeof(m),
				  "unknown interface %s: check the name with 'ip link show'",
				  ifname),
			  LOG_STR("iface", ifname));
		return -ENODEV;
	}

	link_pin_path(l, ifname, path, sizeof(path));
	err = adopt_link(l, li, path);
	if (err == -ENOENT) {
		err = create_link(l, li, mode);
		if (err)
			return err;
		if (bpf_obj_pin(li->link_fd, path)) {
			err = -errno;
			log_error("cannot pin the XDP link", LOG_STR("iface", ifname),
				  LOG_STR("path", path), LOG_ERRNO(-err));
			close(li->link_fd);
			return err;
		}
	} else if (err) {
		return err;
	} else {
		li->mode = attached_mode(li->ifindex);
		if (mode != FG_XDP_AUTO && mode != li->mode)
			log_warn(log_fmt(m, sizeof(m),
					 "%s keeps its XDP attachment from the earlier agent; "
					 "restart "
					 "without persist to change the mode",
					 ifname),
				 LOG_STR("iface", ifname),
				 LOG_STR("mode", loader_mode_name(li->mode)),
				 LOG_STR("asked", loader_mode_name(mode)));
	}

	err = attach_tc(l, li);
	if (err) {
		/* Without the egress program nothing becomes verified, which
		 * only matters under attack: protect anyway, and say so. */
		log_warn("sources cannot be verified; under attack only the global budget admits "
			 "new "
			 "clients",
			 LOG_STR("iface", ifname));
	}
	l->nifaces++;
	log_info(log_fmt(m, sizeof(m), "%s %s", li->adopted ? "adopted" : "attached to", ifname),
		 LOG_STR("iface", ifname), LOG_INT("ifindex", li->ifindex),
		 LOG_STR("mode", loader_mode_name(li->mode)));
	return 0;
}

static void detach_one(struct loader *l, struct loader_iface *li)
{
	char m[256];
	char path[PATH_MAX];

	link_pin_path(l, li->name, path, sizeof(path));
	unlink(path);
	if (li->link_fd >= 0)
		close(li->link_fd); /* last reference: the kernel detaches */
	li->link_fd = -1;
	if (li->tc_attached)
		detach_tc(li->ifindex, li->tc_qdisc_ours);
	li->tc_attached = false;
	log_info(log_fmt(m, sizeof(m), "detached from %s", li->name), LOG_STR("iface", li->name));
}

int loader_detach(struct loader *l, const char *ifname)
{
	int i;

	for (i = 0; i < l->nifaces; i++) {
		if (strcmp(l->ifaces[i].name, ifname))
			continue;
		detach_one(l, &l->ifaces[i]);
		l->ifaces[i] = l->ifaces[--l->nifaces];
		return 0;
	}
	return -ENOENT;
}

void loader_detach_stale(struct loader *l, char names[][16], int n)
{
	char m[256];
	struct dirent *de;
	DIR *d = opendir(l->pin_dir);
	char path[PATH_MAX];
	int i;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *ifname = de->d_name + strlen(LINK_PREFIX);
		bool wanted = false;
		unsigned int ifindex;

		if (strncmp(de->d_name, LINK_PREFIX, strlen(LINK_PREFIX)))
			continue;
		for (i = 0; i < n; i++)
			wanted |= !strcmp(names[i], ifname);
		if (wanted)
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->pin_dir, de->d_name);
		unlink(path);
		ifindex = if_nametoindex(ifname);
		if (ifindex)
			detach_tc(ifindex, false);
		log_info(log_fmt(m, sizeof(m), "detached from %s: no longer in the config", ifname),
			 LOG_STR("iface", ifname));
	}
	closedir(d);
}

void loader_close(struct loader *l, bool keep)
{
	struct bpf_map *map;
	int i;

	for (i = 0; i < l->nifaces; i++) {
		if (keep) {
			if (l->ifaces[i].link_fd >= 0)
				close(l->ifaces[i].link_fd);
		} else {
			detach_one(l, &l->ifaces[i]);
		}
	}
	l->nifaces = 0;
	if (!l->skel)
		goto unlock;
	if (!keep) {
		bpf_object__for_each_map(map, l->skel->obj)
		{
			if (bpf_map__pin_path(map))
				bpf_map__unpin(map, NULL);
		}
		if (rmdir(l->pin_dir) && errno != ENOENT)
			log_info("pin directory left in place", LOG_STR("pin_dir", l->pin_dir),
				 LOG_ERRNO(errno));
	} else {
		log_info("persist: XDP stays attached, state stays pinned",
			 LOG_STR("pin_dir", l->pin_dir));
	}
	floodgate_bpf__destroy(l->skel);
	l->skel = NULL;
unlock:
	/* Last: the next agent may only start once our pins are settled. */
	if (l->locked)
		close(l->lock_fd);
	l->locked = false;
}
