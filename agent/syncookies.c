// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>

#include "kernel.h"
#include "log.h"
#include "rules.h"
#include "syncookies.h"

#define SYSCTL_SYNCOOKIES "/proc/sys/net/ipv4/tcp_syncookies"
#define SYSCTL_TIMESTAMPS "/proc/sys/net/ipv4/tcp_timestamps"
#define SYSCTL_TCP_RMEM	  "/proc/sys/net/ipv4/tcp_rmem"
#define SYSCTL_RMEM_MAX	  "/proc/sys/net/core/rmem_max"

#define TCP_MAX_WSCALE 14

const char *syncookies_mode_name(enum fg_conf_cookies mode)
{
	switch (mode) {
	case FG_COOKIES_OFF:
		return "off";
	case FG_COOKIES_ALWAYS:
		return "always";
	default:
		return "auto";
	}
}

bool syncookies_on(struct xdpmaps *maps)
{
	struct fg_config cfg;

	return !xdpmaps_settings(maps, &cfg) && (cfg.flags & FG_CFG_F_COOKIES);
}

const char *syncookies_rule_state(const struct fg_conf *conf, const struct fg_compiled *c,
				  struct xdpmaps *maps, uint32_t id, bool on, uint64_t now_ns,
				  bool *active)
{
	uint32_t f = c->rules[id].flags;
	bool tcp = id == FG_RULE_DEFAULT_TCP;
	struct fg_global_state gs;
	int i;

	*active = false;
	if (id != FG_RULE_DEFAULT_TCP && id != FG_RULE_DEFAULT_UDP)
		for (i = 0; i < conf->nrules; i++)
			if (!strcmp(conf->rules[i].name, c->ids.names[id]))
				tcp = conf->rules[i].proto == FG_PROTO_TCP;
	if (!tcp)
		return NULL;
	if (!(f & (FG_RULE_F_COOKIE_AUTO | FG_RULE_F_COOKIE_ALWAYS)))
		return "off";
	if (on)
		*active = (f & FG_RULE_F_COOKIE_ALWAYS) ||
			  (!xdpmaps_global(maps, id, &gs) && gs.attack_until_ns > now_ns);
	return f & FG_RULE_F_COOKIE_ALWAYS ? "always" : "auto";
}

uint8_t syncookies_wscale(uint64_t tcp_rmem_max, uint64_t rmem_max)
{
	uint64_t space = tcp_rmem_max > rmem_max ? tcp_rmem_max : rmem_max;
	int log2 = 0;

	while (space >>= 1)
		log2++;
	log2 -= 15;
	return (uint8_t)(log2 < 0 ? 0 : log2 > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : log2);
}

/* The last number of a /proc/sys file (tcp_rmem holds three), or -1.
 * /proc/sys/net is the reading task's namespace: the protected one. */
static long long sysctl_read(const char *path)
{
	char buf[128], *p, *end;
	long long v = -1;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; *p;) {
		long long x = strtoll(p, &end, 10);

		if (end == p)
			break;
		v = x;
		p = end;
	}
	return v;
}

static int sysctl_write(const char *path, int v)
{
	char buf[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0, len;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", v);
	if (write(fd, buf, (size_t)len) != len)
		err = -errno;
	close(fd);
	return err;
}

/* Smallest MTU of the protected interfaces (SIOCGIFMTU answers for the
 * agent's namespace, which /sys/class/net may not), or 1500 if none reads. */
static int min_mtu(const struct fg_conf *conf)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 0, i;

	for (i = 0; fd >= 0 && i < conf->nifaces; i++) {
		struct ifreq ifr = { 0 };

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", conf->ifaces[i]);
		if (!ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0 && (!mtu || ifr.ifr_mtu < mtu))
			mtu = ifr.ifr_mtu;
	}
	if (fd >= 0)
		close(fd);
	return mtu ? mtu : 1500;
}

/* A sysctl value as kept in fg_config's saved_* (+ 1; 0 = none). */
static uint8_t saved_byte(int v)
{
	return v >= 0 && v < 255 ? (uint8_t)(v + 1) : 0;
}

int syncookies_recover(struct syncookies *ck, struct xdpmaps *maps, uint64_t now_ns)
{
	char m[256];
	struct fg_config cfg;

	if (xdpmaps_settings(maps, &cfg) || !fg_abi_adoptable(cfg.abi_version) ||
	    !cfg.saved_syncookies)
		return 0;
	ck->active = true;
	ck->saved_syncookies = cfg.saved_syncookies - 1;
	ck->saved_timestamps = cfg.saved_timestamps ? cfg.saved_timestamps - 1 : -1;
	ck->ts = (cfg.flags & FG_CFG_F_COOKIE_TS) != 0;
	ck->last_need_ns = now_ns;
	snprintf(ck->why, sizeof(ck->why), "the previous floodgated left them on");
	log_info(log_fmt(m, sizeof(m),
			 "syn cookies: the previous floodgated left the TCP settings for cookies "
			 "(it found net.ipv4.tcp_syncookies=%d): they are put back when no rule "
			 "needs cookies",
			 ck->saved_syncookies));
	return 1;
}

int syncookies_fill(struct syncookies *ck, const struct fg_conf *conf, struct fg_compiled *out)
{
	uint32_t rate =
		conf->syn_cookies.max_rate ? conf->syn_cookies.max_rate : FG_CONF_COOKIE_MAX_RATE;
	long long rmem = sysctl_read(SYSCTL_TCP_RMEM), rmax = sysctl_read(SYSCTL_RMEM_MAX);
	int mtu = min_mtu(conf), i;
	bool any = false;
	uint8_t ws;

	ck->configured = false;
	for (i = 0; i < FG_MAX_RULES; i++)
		any |= (out->rules[i].flags & (FG_RULE_F_COOKIE_AUTO | FG_RULE_F_COOKIE_ALWAYS)) !=
		       0;
	/* Dry-run changes nothing: no SYN is answered, no ACK judged. A
	 * kernel without the helpers logged so at start (kernel features). */
	if (!any || conf->dry_run || !kernel_features.xdp_syncookies)
		return 0;
	ck->configured = true;
	if (ck->active)
		out->cfg.flags |= FG_CFG_F_COOKIES | (ck->ts ? FG_CFG_F_COOKIE_TS : 0);
	out->cfg.saved_syncookies = ck->active ? saved_byte(ck->saved_syncookies) : 0;
	out->cfg.saved_timestamps = ck->active ? saved_byte(ck->saved_timestamps) : 0;
	/* A tenth of a second of the rate at once: enough for a burst of
	 * real clients, little for a reflection. */
	out->cfg.cookie_cap = rules_limit(rate, rate / 10 ? rate / 10 : 1);
	/* The MSS the SYN-ACK announces must fit the smallest link; IPv6
	 * links carry at least 1280. */
	out->cfg.cookie_mss4 = (uint16_t)(mtu > 576 ? mtu - 40 : 536);
	out->cfg.cookie_mss6 = (uint16_t)(mtu > 1280 ? mtu - 60 : 1220);
	ws = syncookies_wscale(rmem > 0 ? (uint64_t)rmem : 0, rmax > 0 ? (uint64_t)rmax : 0);
	out->cfg.cookie_wscale = ws;
	log_debug("syn cookies: SYN-ACK figures", LOG_UINT("mss4", out->cfg.cookie_mss4),
		  LOG_UINT("mss6", out->cfg.cookie_mss6), LOG_UINT("wscale", ws),
		  LOG_UINT("max_rate", rate));
	return 0;
}

static bool conf_uses_cookies(const struct fg_conf *conf)
{
	int i;

	if (conf->dry_run)
		return false;
	if (conf->defaults[FG_PROTO_TCP].syn_cookies != FG_COOKIES_OFF)
		return true;
	for (i = 0; i < conf->nrules; i++)
		if (conf->rules[i].proto == FG_PROTO_TCP &&
		    conf->rules[i].limits.syn_cookies != FG_COOKIES_OFF)
			return true;
	return false;
}

/* The interface's driver ("veth", ...), or "" when it does not say. */
static void driver_of(const char *ifname, char *out, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	out[0] = '\0';
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		snprintf(out, len, "%s", info.driver);
	close(fd);
}

/* One RTM_GETLINK for ifindex (in the namespace of nsid when >= 0): its
 * IFLA_LINK (*link, 0 when none), IFLA_LINK_NETNSID (*link_nsid, -1 when the
 * link is in this namespace) and whether an XDP program is attached to it.
 * Returns 0 or -errno. */
static int link_query(int ifindex, int nsid, int *link, int *link_nsid, bool *xdp)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifm;
		char attrs[16];
	} req = { 0 };
	union {
		struct nlmsghdr nh;
		char buf[16384];
	} resp;
	struct rtattr *a;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, len, alen, err = 0;

	*link = 0;
	*link_nsid = -1;
	*xdp = false;
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifm));
	req.ifm.ifi_family = AF_UNSPEC;
	req.ifm.ifi_index = ifindex;
	if (nsid >= 0) {
		a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		a->rta_type = IFLA_TARGET_NETNSID;
		a->rta_len = RTA_LENGTH(sizeof(__s32));
		memcpy(RTA_DATA(a), &nsid, sizeof(__s32));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	len = (int)recv(fd, &resp, sizeof(resp), 0);
	if (len < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(&resp.nh, (unsigned int)len)) {
		err = -EBADMSG;
		goto out;
	}
	if (resp.nh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&resp.nh);

		err = e->error ? e->error : -ENODATA;
		goto out;
	}
	if (resp.nh.nlmsg_type != RTM_NEWLINK) {
		err = -EBADMSG;
		goto out;
	}
	alen = (int)IFLA_PAYLOAD(&resp.nh);
	for (a = IFLA_RTA(NLMSG_DATA(&resp.nh)); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == IFLA_LINK && RTA_PAYLOAD(a) >= sizeof(__u32)) {
			memcpy(link, RTA_DATA(a), sizeof(int));
		} else if (a->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(a) >= sizeof(__s32)) {
			memcpy(link_nsid, RTA_DATA(a), sizeof(int));
		} else if (a->rta_type == (IFLA_XDP | NLA_F_NESTED) || a->rta_type == IFLA_XDP) {
			struct rtattr *x;
			int xlen = (int)RTA_PAYLOAD(a);

			for (x = RTA_DATA(a); RTA_OK(x, xlen); x = RTA_NEXT(x, xlen))
				if (x->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(x) >= 1)
					*xdp = *(const __u8 *)RTA_DATA(x) != XDP_ATTACHED_NONE;
		}
	}
out:
	close(fd);
	return err;
}

int syncookies_veth_peer_xdp(const char *ifname, int *peer, int *peer_nsid)
{
	int ifindex = (int)if_nametoindex(ifname), unused, err;
	bool xdp;

	*peer = 0;
	*peer_nsid = -1;
	if (!ifindex)
		return -errno;
	err = link_query(ifindex, -1, peer, peer_nsid, &xdp);
	if (!err && !*peer)
		err = -ENOENT;
	if (!err)
		err = link_query(*peer, *peer_nsid, &unused, &(int){ 0 }, &xdp);
	return err ? err : xdp;
}

/* Whether a rule of conf says syn_cookies: always (the defaults included). */
static bool conf_always(const struct fg_conf *conf)
{
	int i;

	if (conf->defaults[FG_PROTO_TCP].syn_cookies == FG_COOKIES_ALWAYS)
		return true;
	for (i = 0; i < conf->nrules; i++)
		if (conf->rules[i].proto == FG_PROTO_TCP &&
		    conf->rules[i].limits.syn_cookies == FG_COOKIES_ALWAYS)
			return true;
	return false;
}

int syncookies_check_iface(const struct fg_conf *conf, const char *ifname, enum fg_xdp_mode mode)
{
	char drv[32], m[640], where[48] = "";
	int peer, nsid, r;

	if (!conf_uses_cookies(conf) || mode != FG_XDP_NATIVE || !kernel_features.xdp_syncookies)
		return 0;
	driver_of(ifname, drv, sizeof(drv));
	if (strcmp(drv, "veth"))
		return 0;
	/* The SYN-ACK goes out with XDP_TX, which a veth in native mode hands
	 * to its peer only when the peer runs an XDP program itself: without
	 * one the SYN-ACKs sit in the peer's queue until other traffic comes
	 * (the clients see a handshake that stalls). The peer, often in
	 * another namespace, is found by its ifindex and namespace id. */
	r = syncookies_veth_peer_xdp(ifname, &peer, &nsid);
	if (r == 1)
		return 0;
	if (r == 0 && nsid >= 0)
		snprintf(where, sizeof(where), " (ifindex %d in namespace id %d)", peer, nsid);
	else if (r == 0)
		snprintf(where, sizeof(where), " (ifindex %d)", peer);
	if (r == 0 && conf_always(conf)) {
		log_error(log_fmt(m, sizeof(m),
				  "%s is a veth in native XDP mode and its peer%s has no XDP "
				  "program: the SYN-ACKs of syn_cookies: always are sent with "
				  "XDP_TX, which a veth delivers only to a peer with an XDP "
				  "program, so every new TCP connection would stall; attach one "
				  "to the peer (any program that passes), or use xdp_mode: "
				  "generic, or syn_cookies: auto or off",
				  ifname, where),
			  LOG_STR("iface", ifname));
		return -EOPNOTSUPP;
	}
	log_fmt(m, sizeof(m),
		"%s is a veth in native XDP mode and its peer%s %s: the SYN-ACKs of syn_cookies "
		"are sent with XDP_TX, which a veth delivers only to a peer with an XDP program "
		"(during an attack new clients would stall); attach one there (any program "
		"that passes), or use xdp_mode: generic, or syn_cookies: off",
		ifname, where,
		r == 0 ? "has no XDP program" : "cannot be checked for an XDP program");
	if (r < 0)
		log_warn(m, LOG_STR("iface", ifname), LOG_ERRNO(-r));
	else
		log_warn(m, LOG_STR("iface", ifname));
	return 0;
}

/* Which rule needs cookies now, if any ("" = none). */
static bool need_cookies(const struct syncookies *ck, const struct fg_compiled *c,
			 struct xdpmaps *maps, uint64_t now, char *why, size_t len)
{
	int id;

	if (!ck->configured)
		return false;
	for (id = 0; id < FG_MAX_RULES; id++) {
		const struct fg_rule *r = &c->rules[id];
		struct fg_global_state gs;

		if (!c->ids.names[id][0])
			continue;
		if (r->flags & FG_RULE_F_COOKIE_ALWAYS) {
			snprintf(why, len, "rule %s says syn_cookies: always", c->ids.names[id]);
			return true;
		}
		if ((r->flags & FG_RULE_F_COOKIE_AUTO) &&
		    !xdpmaps_global(maps, (uint32_t)id, &gs) && gs.attack_until_ns > now) {
			snprintf(why, len, "rule %s is under attack", c->ids.names[id]);
			return true;
		}
	}
	return false;
}

/* Write the live settings entry's cookie flags (and those of the copy a
 * reload starts from): FG_CFG_F_COOKIES, and FG_CFG_F_COOKIE_TS with ts. */
static void set_flags(const struct syncookies *ck, struct xdpmaps *maps,
		      struct fg_compiled *compiled, bool on)
{
	__u32 mask = FG_CFG_F_COOKIES | FG_CFG_F_COOKIE_TS, set = 0, zero = 0;
	uint8_t sc = on ? saved_byte(ck->saved_syncookies) : 0;
	uint8_t ts = on ? saved_byte(ck->saved_timestamps) : 0;
	struct fg_config cfg;

	if (on)
		set = FG_CFG_F_COOKIES | (ck->ts ? FG_CFG_F_COOKIE_TS : 0);
	compiled->cfg.flags = (compiled->cfg.flags & ~mask) | set;
	compiled->cfg.saved_syncookies = sc;
	compiled->cfg.saved_timestamps = ts;
	if (xdpmaps_settings(maps, &cfg))
		return;
	cfg.flags = (cfg.flags & ~mask) | set;
	cfg.saved_syncookies = sc;
	cfg.saved_timestamps = ts;
	if (bpf_map_update_elem(maps->settings, &zero, &cfg, BPF_ANY))
		log_warn("cannot update the XDP settings for SYN cookies", LOG_ERRNO(errno));
}

static void activate(struct syncookies *ck, const struct fg_conf *conf, struct xdpmaps *maps,
		     struct fg_compiled *compiled)
{
	char m[384];
	long long sc = sysctl_read(SYSCTL_SYNCOOKIES), ts = sysctl_read(SYSCTL_TIMESTAMPS);
	int err = 0;

	ck->saved_syncookies = (int)sc;
	ck->saved_timestamps = -1;
	ck->ts = false;
	/* Timestamps first: no cookie is made before tcp_syncookies=2, and by
	 * then every SYN-ACK's timestamp is one the kernel can read back. */
	if (!conf->syn_cookies.timestamps_off && ts == 1) {
		err = sysctl_write(SYSCTL_TIMESTAMPS, 2);
		if (!err) {
			ck->saved_timestamps = 1;
			ck->ts = true;
		}
	} else if (!conf->syn_cookies.timestamps_off && ts == 2) {
		ck->ts = true;
	}
	if (!err && sc != 2)
		err = sysctl_write(SYSCTL_SYNCOOKIES, 2);
	if (err) {
		if (!ck->warned)
			log_warn(log_fmt(m, sizeof(m),
					 "syn cookies: %s, but the namespace's TCP settings cannot "
					 "be changed: SYNs take the rules' ordinary path (let "
					 "floodgated write /proc/sys/net/ipv4, or set "
					 "net.ipv4.tcp_syncookies=2 yourself)",
					 ck->why),
				 LOG_ERRNO(-err));
		ck->warned = true;
		if (ck->saved_timestamps == 1)
			sysctl_write(SYSCTL_TIMESTAMPS, 1);
		ck->saved_timestamps = -1;
		return;
	}
	ck->active = true;
	set_flags(ck, maps, compiled, true);
	log_info(log_fmt(m, sizeof(m),
			 "syn cookies on: %s; net.ipv4.tcp_syncookies %lld -> 2%s until %llu s "
			 "after it ends; SYN-ACKs %s timestamps",
			 ck->why, sc,
			 ck->saved_timestamps == 1 ? ", net.ipv4.tcp_timestamps 1 -> 2" : "",
			 FG_COOKIE_HOLD_NS / 1000000000ULL,
			 ck->ts ? "with" : "without (so without SACK and window scaling)"),
		 LOG_INT("tcp_syncookies_was", sc), LOG_INT("tcp_timestamps_was", ts));
}

void syncookies_restore(struct syncookies *ck, struct xdpmaps *maps, struct fg_compiled *compiled)
{
	char m[256];

	if (!ck->active)
		return;
	if (compiled)
		set_flags(ck, maps, compiled, false);
	/* Only what the agent changed, and only if nobody changed it since. */
	if (ck->saved_syncookies >= 0 && ck->saved_syncookies != 2 &&
	    sysctl_read(SYSCTL_SYNCOOKIES) == 2)
		sysctl_write(SYSCTL_SYNCOOKIES, ck->saved_syncookies);
	if (ck->saved_timestamps == 1 && sysctl_read(SYSCTL_TIMESTAMPS) == 2)
		sysctl_write(SYSCTL_TIMESTAMPS, 1);
	log_info(log_fmt(m, sizeof(m), "syn cookies off: net.ipv4.tcp_syncookies back to %d%s",
			 ck->saved_syncookies,
			 ck->saved_timestamps == 1 ? ", net.ipv4.tcp_timestamps back to 1" : ""));
	ck->active = false;
	ck->ts = false;
}

void syncookies_tick(struct syncookies *ck, const struct fg_conf *conf, struct xdpmaps *maps,
		     struct fg_compiled *compiled, uint64_t now_ns)
{
	char why[sizeof(ck->why)];

	if (need_cookies(ck, compiled, maps, now_ns, why, sizeof(why))) {
		ck->last_need_ns = now_ns;
		if (!ck->active) {
			snprintf(ck->why, sizeof(ck->why), "%s", why);
			activate(ck, conf, maps, compiled);
		}
		return;
	}
	if (ck->active && now_ns - ck->last_need_ns > FG_COOKIE_HOLD_NS)
		syncookies_restore(ck, maps, compiled);
}
