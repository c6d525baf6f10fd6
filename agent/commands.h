/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* commands: RL.*, XDP.* and CONFIG on the agent's socket (docs/api.md). */
#ifndef FG_COMMANDS_H
#define FG_COMMANDS_H

#include <stdbool.h>

struct banguard;
struct vouch;
struct fg_cidr;
struct fg_compiled;
struct fg_conf;
struct fleet;
struct hostpeers;
struct loader;
struct metrics;
struct policies;
struct redis;
struct server;
struct xdpmaps;

/* What XDP.* commands answer in app-only mode (floodgated --app-only). */
#define COMMANDS_APP_ONLY_ERR                                                                      \
	"ERR app-only mode: floodgated runs without XDP (--app-only); XDP commands are not "       \
	"available"

/* Called once a CONFIG RELOAD is decided: 0 or -errno and why. */
typedef void (*commands_reload_cb)(int ret, const char *err, void *arg);

/*
 * What the commands need of the agent, without depending on it (the agent
 * sits above them; main.c fills this). The double pointers are read at
 * each use: a reload replaces the policies and the compiled rules, and
 * agent_stop() clears them all (NULL). maps and loader NULL: app-only mode
 * (no XDP): every XDP.* command answers COMMANDS_APP_ONLY_ERR, the xdp INFO
 * section says so, and a policy's xdp_ban is counted as not applied.
 */
struct commands_env {
	const struct fg_conf *conf;  /* the running config */
	struct xdpmaps *maps;	     /* NULL: app-only mode */
	const struct loader *loader; /* the attached interfaces; NULL: app-only mode */
	const struct hostpeers *hostpeers; /* resolvers, gateways; NULL: app-only mode */
	struct policies *const *policies;
	struct fg_compiled *const *compiled;
	struct banguard *const *banguard;
	struct vouch *const *vouch;
	struct fleet *const *fleet;	/* *fleet NULL: no fleet-wide bans */
	struct redis *const *redis;	/* *redis NULL: the memory store */
	struct metrics *const *metrics; /* RL.AUTH.FAIL delays; *metrics NULL: no endpoint */
	/* XDP.ALLOW / XDP.DENY and CONFIG RELOAD, as agent_list_edit() and
	 * agent_reload_async() promise them; arg is passed through. */
	int (*list_edit)(void *arg, bool allow, const struct fg_cidr *c, bool del);
	int (*reload_async)(void *arg, commands_reload_cb cb, void *cb_arg);
	void *arg;
};

/* Register every product command and the INFO xdp/policies sections on s;
 * handlers use env (which must outlive s). In app-only mode (env->maps
 * NULL) the XDP.* names, XDP.WATCH included, answer COMMANDS_APP_ONLY_ERR.
 * Returns 0 or -errno. */
int commands_register(struct server *s, struct commands_env *env);

#endif /* FG_COMMANDS_H */
