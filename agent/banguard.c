// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "banguard.h"
#include "hostaddr.h"
#include "log.h"

#define LOCAL_REFRESH_NS 1000000000ULL /* interface addresses re-read at most once a second */

/* One app ban the guard counts, oldest first in g->bans. */
struct app_ban {
	struct fg_cidr c;
	uint32_t uid;
	uint64_t expires_ns; /* 0 = never */
};

struct banguard {
	struct fg_conf_socket admins;
	struct fg_conf_app_bans conf;
	struct app_ban *bans; /* in ban order: [0] is the oldest */
	uint32_t n, cap;
	struct fg_cidr *local;
	int nlocal;
	bool local_fixed; /* set by a test: do not re-read */
	bool local_read;
	uint64_t local_read_ns;
	struct banguard_stats st;
};

struct banguard *banguard_new(const struct fg_conf *conf)
{
	struct banguard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	if (banguard_configure(g, conf)) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

void banguard_free(struct banguard *g)
{
	if (!g)
		return;
	free(g->bans);
	free(g->local);
	free(g);
}

int banguard_configure(struct banguard *g, const struct fg_conf *conf)
{
	uint32_t cap = conf->app_bans.max ? conf->app_bans.max : 1;

	if (cap > g->cap) {
		struct app_ban *grown = realloc(g->bans, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		g->bans = grown;
		g->cap = cap;
	}
	g->admins = conf->socket;
	g->conf = conf->app_bans;
	return 0;
}

static bool has_id(const uint32_t *ids, int n, uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool in_groups(const uint32_t *gids, int n, const struct banguard_peer *p)
{
	int i;

	if (has_id(gids, n, p->gid))
		return true;
	for (i = 0; p->groups && i < p->ngroups; i++)
		if (has_id(gids, n, p->groups[i]))
			return true;
	return false;
}

bool banguard_peer_named(const struct fg_conf_socket *admins, const uint32_t *uids, int nuids,
			 const uint32_t *gids, int ngids, const struct banguard_peer *p)
{
	if (p->uid == (uint32_t)-1) /* credentials unknown */
		return false;
	if (p->uid == 0 || has_id(admins->admin_uids, admins->nadmin_uids, p->uid) ||
	    in_groups(admins->admin_gids, admins->nadmin_gids, p))
		return true;
	return has_id(uids, nuids, p->uid) || in_groups(gids, ngids, p);
}

bool banguard_peer_may_ban(const struct banguard *g, const struct banguard_peer *p)
{
	return banguard_peer_named(&g->admins, g->conf.peer_uids, g->conf.npeer_uids,
				   g->conf.peer_gids, g->conf.npeer_gids, p);
}

bool banguard_address_special(const struct fg_cidr *in)
{
	struct fg_cidr c = *in;

	cidr_unmap(&c);
	return fg_addr_never_banned(c.family, c.addr);
}

int banguard_set_local(struct banguard *g, const struct fg_cidr *addrs, int n)
{
	struct fg_cidr *copy = NULL;

	if (n < 0) {
		g->local_fixed = false;
		g->local_read = false;
		return 0;
	}
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, addrs, n * sizeof(*copy));
	}
	free(g->local);
	g->local = copy;
	g->nlocal = n;
	g->local_fixed = true;
	return 0;
}

/* The interfaces' addresses (and IPv4 broadcasts) of our network namespace. */
static void read_local(struct banguard *g)
{
	struct fg_cidr *next = malloc(HOSTADDR_MAX * sizeof(*next));
	int n;

	if (!next)
		return;
	n = hostaddr_read(next, HOSTADDR_MAX, true);
	if (n < 0) {
		free(next);
		return; /* keep the last list */
	}
	free(g->local);
	g->local = next;
	g->nlocal = n;
}

/* The addresses read at most a second ago (*addrs, valid until the next
 * call); their count. */
static int local_addrs(struct banguard *g, uint64_t now_ns, const struct fg_cidr **addrs)
{
	if (!g->local_fixed && (!g->local_read || now_ns - g->local_read_ns >= LOCAL_REFRESH_NS)) {
		read_local(g);
		g->local_read = true;
		g->local_read_ns = now_ns;
	}
	*addrs = g->local;
	return g->nlocal;
}

bool banguard_address_local(struct banguard *g, const struct fg_cidr *c, uint64_t now_ns)
{
	const struct fg_cidr *local;
	int n = local_addrs(g, now_ns, &local);

	return hostaddr_held(c, local, n) != NULL;
}

/* Does the allow list hold c (or a prefix of it), as the program judges? */
static bool allow_listed(const struct xdpmaps *m, const struct fg_cidr *c)
{
	return m && xdpmaps_list_has(m, XDPMAPS_ALLOW, c);
}

static void remove_at(struct banguard *g, uint32_t i)
{
	memmove(&g->bans[i], &g->bans[i + 1], (g->n - i - 1) * sizeof(g->bans[0]));
	g->n--;
}

/* Drop expired bans from the count (the agent's sweep deletes them from the map). */
static void prune(struct banguard *g, uint64_t now_ns)
{
	uint32_t i, j = 0;

	for (i = 0; i < g->n; i++)
		if (!g->bans[i].expires_ns || g->bans[i].expires_ns > now_ns)
			g->bans[j++] = g->bans[i];
	g->n = j;
}

static int find(const struct banguard *g, const struct fg_cidr *c)
{
	uint32_t i;

	for (i = 0; i < g->n; i++)
		if (cidr_equal(&g->bans[i].c, c))
			return (int)i;
	return -1;
}

static int refuse(struct banguard *g, enum banguard_result r, enum banguard_result *res, int err)
{
	g->st.results[r]++;
	*res = r;
	return err;
}

bool banguard_address_refused(struct banguard *g, const struct xdpmaps *m, const struct fg_cidr *c,
			      uint64_t now_ns)
{
	return banguard_address_special(c) || banguard_address_local(g, c, now_ns) ||
	       allow_listed(m, c);
}

int banguard_app_ban(struct banguard *g, struct xdpmaps *m, uint32_t uid, bool peer_may,
		     const struct fg_cidr *addr, uint64_t seconds, uint64_t now_ns,
		     enum banguard_result *res)
{
	struct fg_cidr u = *addr, *c = &u;
	uint32_t i, mine = 0;
	int at, err;

	cidr_unmap(&u);
	/* Whoever asks: without XDP there is nothing to ban in (said at load). */
	if (!m)
		return refuse(g, BANGUARD_NO_XDP, res, -EOPNOTSUPP);
	if (!peer_may)
		return refuse(g, BANGUARD_REFUSED_PEER, res, -EPERM);
	if (banguard_address_refused(g, m, c, now_ns))
		return refuse(g, BANGUARD_REFUSED_ADDRESS, res, -EADDRNOTAVAIL);
	/* An operator's, the program's or the fleet's ban that lasts at least
	 * as long stays as it is: an app ban must not shorten (or take over)
	 * a permanent manual ban. */
	{
		uint64_t until = seconds ? now_ns + seconds * 1000000000ULL : 0;
		struct fg_ban b;

		if (!xdpmaps_banned(m, c, now_ns, &b) && b.origin != FG_BAN_APP &&
		    (!b.expires_ns || (until && b.expires_ns >= until))) {
			g->st.results[BANGUARD_BANNED]++;
			*res = BANGUARD_BANNED;
			return 0;
		}
	}
	prune(g, now_ns);
	at = find(g, c);
	if (at < 0) {
		for (i = 0; i < g->n; i++)
			mine += g->bans[i].uid == uid;
		if (g->n >= g->conf.max || mine >= g->conf.per_peer)
			return refuse(g, BANGUARD_QUOTA, res, -EDQUOT);
	}
	err = xdpmaps_ban(m, c, seconds, FG_BAN_APP);
	if (err)
		return refuse(g, BANGUARD_FAILED, res, err);
	/* A ban made again counts as new: it is the youngest now. */
	if (at >= 0)
		remove_at(g, (uint32_t)at);
	g->bans[g->n].c = *c;
	g->bans[g->n].uid = uid;
	g->bans[g->n].expires_ns = seconds ? now_ns + seconds * 1000000000ULL : 0;
	g->n++;
	g->st.results[BANGUARD_BANNED]++;
	*res = BANGUARD_BANNED;
	return 0;
}

/* Remove the oldest app ban still in the map as one; false when none. */
static bool evict_oldest(struct banguard *g, struct xdpmaps *m)
{
	while (g->n) {
		struct fg_cidr c = g->bans[0].c;
		struct fg_ban b;
		bool app;

		/* Overwritten since (an operator's or the program's ban): not ours to drop. */
		app = !xdpmaps_ban_get(m, &c, &b) && b.origin == FG_BAN_APP;
		remove_at(g, 0);
		if (app && !xdpmaps_unban(m, &c)) {
			g->st.evicted++;
			return true;
		}
	}
	return false;
}

struct soonest {
	struct fg_cidr c;
	uint64_t expires_ns; /* 0: none found */
};

static int soonest_auto(const struct fg_cidr *c, const struct fg_ban *b, void *arg)
{
	struct soonest *s = arg;

	if (!cidr_is_address(c))
		return 1; /* the prefixes come after the addresses */
	if (b->origin == FG_BAN_AUTO && b->expires_ns &&
	    (!s->expires_ns || b->expires_ns < s->expires_ns)) {
		s->c = *c;
		s->expires_ns = b->expires_ns;
	}
	return 0;
}

/* The program's address ban that ends first goes: spoofed sources can fill
 * the map with the program's bans, and the operator must still get in. */
static bool evict_soonest_auto(struct xdpmaps *m, uint64_t now_ns)
{
	struct soonest s = { .expires_ns = 0 };
	char buf[FG_CIDR_STRLEN];
	uint64_t left;

	xdpmaps_bans_each(m, soonest_auto, &s);
	if (!s.expires_ns || xdpmaps_unban(m, &s.c))
		return false;
	left = s.expires_ns > now_ns ? s.expires_ns - now_ns : 0;
	log_warn("ban map full: the program's ban that ended first made room for an operator's",
		 LOG_STR("source", cidr_format(&s.c, buf, sizeof(buf))),
		 LOG_UINT("ends_in_s", left / 1000000000ULL));
	return true;
}

int banguard_ban(struct banguard *g, struct xdpmaps *m, const struct fg_cidr *c, uint64_t seconds,
		 uint32_t origin, uint64_t now_ns)
{
	int err = xdpmaps_ban(m, c, seconds, origin);

	/* App bans are addresses: evicting one makes room only in their map.
	 * With none left, an operator's ban takes the place of the program's. */
	if (err == -ENOSPC && cidr_is_address(c)) {
		prune(g, now_ns);
		if (evict_oldest(g, m) ||
		    (origin == FG_BAN_MANUAL && evict_soonest_auto(m, now_ns)))
			err = xdpmaps_ban(m, c, seconds, origin);
	}
	if (!err)
		banguard_forget(g, c);
	return err;
}

void banguard_forget(struct banguard *g, const struct fg_cidr *c)
{
	struct fg_cidr u = *c;
	int at;

	cidr_unmap(&u);
	at = find(g, &u);
	if (at >= 0)
		remove_at(g, (uint32_t)at);
}

void banguard_stats(const struct banguard *g, struct banguard_stats *out)
{
	*out = g->st;
	out->app_bans = g->n;
}

const char *banguard_result_name(enum banguard_result r)
{
	static const char *const names[BANGUARD_RESULT_MAX] = {
		"banned", "refused_peer", "refused_address", "quota", "failed", "no_xdp",
	};

	return r < BANGUARD_RESULT_MAX ? names[r] : "unknown";
}
