/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * syncookies: what the kernel of the protected namespace must do for the
 * SYN cookies the XDP program answers (bpf/cookie.h), and the figures the
 * program's SYN-ACKs must share with it.
 *
 * bpf_tcp_gen_syncookie() makes a cookie only with net.ipv4.tcp_syncookies=2
 * (with 1, not before the listener's queue is full), and a SYN-ACK may carry
 * a timestamp (hence SACK and window scaling) only with tcp_timestamps=2:
 * with 1 the kernel adds a per-connection secret offset to it. Those
 * settings are the namespace's, so they are on only while they are needed:
 * while a `syn_cookies: auto` rule is under attack (and 2 minutes after, the
 * life of a cookie), or for as long as a rule says `always`. The agent
 * restores what it found, logs both changes, and the XDP program answers a
 * SYN with a timestamp only while tcp_timestamps=2 is in force.
 */
#ifndef FG_SYNCOOKIES_H
#define FG_SYNCOOKIES_H

#include <stdbool.h>
#include <stdint.h>

#include "compiled.h"
#include "config.h"
#include "xdpmaps.h"

/* Cookies stay valid this long: the settings stay as long after an attack. */
#define FG_COOKIE_HOLD_NS (120ULL * 1000000000ULL)

struct syncookies {
	bool configured;       /* some rule has syn_cookies auto or always */
	bool active;	       /* the sysctls are set for cookies */
	bool warned;	       /* a sysctl write failed (said once) */
	int saved_syncookies;  /* what the agent found; -1 unknown */
	int saved_timestamps;  /* -1 unknown or not changed */
	bool ts;	       /* SYN-ACKs carry timestamps while active */
	uint64_t last_need_ns; /* last tick a rule needed cookies */
	char why[80];	       /* which rule switched them on */
};

/* Add the cookie settings of conf to out (after rules_compile): the rules'
 * modes, max_rate, the MSS of the protected interfaces' smallest MTU, the
 * window scale the kernel will use, and whether SYN-ACKs carry timestamps
 * now. Logs the figures when they change. Returns 0 or -errno. */
int syncookies_fill(struct syncookies *ck, const struct fg_conf *conf, struct fg_compiled *out);

/* Once a tick: switch the namespace's settings on when a rule needs cookies
 * (an auto rule under attack, an always rule) and off FG_COOKIE_HOLD_NS after
 * the last need, and the settings map's FG_CFG_F_COOKIES (and _COOKIE_TS)
 * with them: the program answers no SYN and checks no ACK before the kernel
 * can take cookies, and nothing costs anything in peacetime. */
void syncookies_tick(struct syncookies *ck, const struct fg_conf *conf, struct xdpmaps *maps,
		     struct fg_compiled *compiled, uint64_t now_ns);

/* After attaching to ifname in mode, when conf uses cookies and ifname is a
 * veth in native mode: cookie SYN-ACKs (XDP_TX) leave it only when its peer
 * has an XDP program. -EOPNOTSUPP, logged, when the peer has none and a rule
 * says always (every new connection would stall); a warning when only auto
 * rules would suffer (during attacks) or the peer cannot be checked; else 0. */
int syncookies_check_iface(const struct fg_conf *conf, const char *ifname, enum fg_xdp_mode mode);

/* Whether the peer of veth ifname (in whatever namespace: RTM_GETLINK's
 * IFLA_LINK and IFLA_LINK_NETNSID, then IFLA_TARGET_NETNSID) has an XDP
 * program attached: 1 or 0, -errno when it cannot be told. *peer and
 * *peer_nsid get its ifindex and namespace id (-1: this namespace). */
int syncookies_veth_peer_xdp(const char *ifname, int *peer, int *peer_nsid);

/* At start, before the config is written into adopted maps: when the
 * pinned settings say an agent set the TCP settings for cookies and did not
 * put them back (it crashed), take over what it found, so that they are
 * restored when no rule needs cookies any more. 1 when it did, else 0. */
int syncookies_recover(struct syncookies *ck, struct xdpmaps *maps, uint64_t now_ns);

/* Restore the namespace's settings (agent stop). */
void syncookies_restore(struct syncookies *ck, struct xdpmaps *maps, struct fg_compiled *compiled);

/* The window scale the kernel gives a connection whose receive space is
 * the larger of tcp_rmem_max and rmem_max (tcp_select_initial_window()). */
uint8_t syncookies_wscale(uint64_t tcp_rmem_max, uint64_t rmem_max);

/* The name of a rule's mode, for status and metrics. */
const char *syncookies_mode_name(enum fg_conf_cookies mode);

/* Whether the settings map says cookies are on now (FG_CFG_F_COOKIES: the
 * namespace's TCP settings are set for them). */
bool syncookies_on(struct xdpmaps *maps);

/* The syn_cookies mode of compiled rule id ("auto", "off", "always"), or
 * NULL when it is not a TCP rule. *active: its SYNs are answered with
 * cookies now (on, from syncookies_on(), and the rule says always, or auto
 * and it is under attack at now_ns). For INFO, metrics and the status page. */
const char *syncookies_rule_state(const struct fg_conf *conf, const struct fg_compiled *c,
				  struct xdpmaps *maps, uint32_t id, bool on, uint64_t now_ns,
				  bool *active);

#endif /* FG_SYNCOOKIES_H */
