/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * loader: load the floodgate programs, pin and adopt their maps and XDP
 * links under the pin directory, attach to and detach from interfaces.
 *
 * Pinning is what makes protection gap-free: the XDP link and the maps live
 * in bpffs, so an agent that crashes leaves the program attached with its
 * buckets, and the next agent adopts both (it swaps its freshly loaded
 * program into the pinned link, keeping the pinned maps).
 */
#ifndef FG_LOADER_H
#define FG_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define FG_LOADER_MAX_IFACES FG_CONF_MAX_IFACES

struct floodgate_bpf;

struct loader_iface {
	char name[16];
	int ifindex;
	int link_fd;	       /* XDP bpf_link */
	enum fg_xdp_mode mode; /* what it really got: native or generic */
	bool adopted;	       /* the link was pinned by an earlier agent */
	bool tc_attached;
	bool tc_qdisc_ours; /* we added the clsact qdisc: remove it on detach */
	bool taken_logged;  /* the agent said another XDP program took its place */
};

struct loader {
	struct floodgate_bpf *skel;
	char pin_dir[256];
	struct loader_iface ifaces[FG_LOADER_MAX_IFACES];
	int nifaces;
	bool adopted_maps; /* pinned maps of a compatible layout were reused */
	/* with adopted maps, the state filter (map seen) is a new one: what the
	 * program still attached writes until the new one replaces it is
	 * marked in its own filter, not in this one */
	bool new_filter;
	/* with adopted maps, the ban filter is a new one (an older layout's
	 * had another size): it counts none of the adopted bans_addr's
	 * entries until xdpmaps_ban_filter_recount() */
	bool new_ban_filter;
	bool locked;	   /* lock_fd holds the pin dir's flock (one agent per pin dir) */
	int lock_fd;
};

/*
 * Open and load the programs with maps sized from conf, reusing maps pinned
 * in pin_dir when their layout is compatible (an incompatible or resized
 * map is replaced, and the log says so). Mounts bpffs when missing. The pin
 * dir must be root's (or ours) and writable by no one else, and is locked
 * until loader_close(): a second agent on it fails here (-EBUSY).
 * Returns 0 or -errno with the reason already logged.
 */
int loader_open(struct loader *l, const struct fg_conf *conf, const char *pin_dir);

/* The line an operator reads when loading failed with err: privileged, the
 * process had the capabilities loading takes; has_btf, the kernel has BTF. */
const char *loader_load_error_hint(int err, bool privileged, bool has_btf);

/*
 * Protect ifname: adopt its pinned XDP link (swapping in our program) or
 * attach a new one in mode (auto = native, else generic) and pin it; attach
 * the TC egress program that verifies sources. Returns 0 or -errno, logged.
 */
int loader_attach(struct loader *l, const char *ifname, enum fg_xdp_mode mode);

/* Detach from one interface (XDP link, TC filter, link pin). */
int loader_detach(struct loader *l, const char *ifname);

/* Detach links pinned in the pin directory for interfaces not in names
 * (left behind by an earlier agent with another config). */
void loader_detach_stale(struct loader *l, char names[][16], int n);

/*
 * Stop: with keep false, detach every interface and remove every pin (maps
 * included); with keep true leave everything attached and pinned so the
 * program keeps protecting after the agent exits. Frees l's resources.
 */
void loader_close(struct loader *l, bool keep);

const char *loader_mode_name(enum fg_xdp_mode mode);

/* The kernel's id of skel's fg_xdp program (0 when it cannot be read). */
uint32_t loader_xdp_prog_id(const struct floodgate_bpf *skel);

/*
 * Is the XDP program of id prog_id attached to ifindex (0: the interface is
 * missing)? *mode gets "native", "generic", "offload" or "none"; *why, when
 * it is not, a short reason. Asks the kernel, not what was attached: another
 * tool may have detached it. Any thread.
 */
bool loader_xdp_attached(uint32_t prog_id, int ifindex, const char **mode, const char **why);
/* loader_xdp_attached()'s why when no XDP program is attached at all. */
#define LOADER_XDP_DETACHED "XDP program detached"

#endif /* FG_LOADER_H */
