/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * config_int: what config.c shares with its section files (config_xdp.c,
 * config_service.c, config_policies.c) and no other module includes: the
 * bounds more than one section checks and each section's entry point.
 */
#ifndef FG_CONFIG_INT_H
#define FG_CONFIG_INT_H

#include "config.h"
#include "config_yaml.h"

_Static_assert(CY_MSG_MAX == FG_CONF_ERR_MAX, "a problem's text fits in a message");

/* 1e9 flows/s keeps interval_ns = 1e9 / rate at 1 ns or more. */
#define CONF_RATE_MAX	   1000000000LL
#define CONF_BAN_AFTER_MAX 1000000LL
#define CONF_MAX_TABLE	   100000000LL

/* config_xdp.c: the keys and readers of interfaces, xdp_mode, sources,
 * defaults, rules, allow and deny (root rows: dst is the struct fg_conf). */
extern const struct cy_key config_sources_keys[];
extern const struct cy_key config_defaults_keys[];
extern const struct cy_key config_syn_cookies_keys[];
int config_parse_ifaces(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			const char *path, void *dst);
int config_parse_xdp_mode(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
			  const char *path, void *dst);
int config_parse_rules(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		       const char *path, void *dst);
int config_parse_allow(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		       const char *path, void *dst);
int config_parse_deny(struct cy_parser *p, const yaml_node_t *map, const yaml_node_t *n,
		      const char *path, void *dst);

/* config_service.c: the tables of socket, app_bans, store, metrics and log
 * (each read at its struct in struct fg_conf). */
extern const struct cy_key config_socket_keys[];
extern const struct cy_key config_app_bans_keys[];
extern const struct cy_key config_vouch_keys[];
extern const struct cy_key config_store_keys[];
extern const struct cy_key config_per_call_keys[];
extern const struct cy_key config_metrics_keys[];
extern const struct cy_key config_log_keys[];

/* config_policies.c: policies, after store (their max_keys must fit in
 * store.max_keys). */
int config_parse_policies(struct cy_parser *p, const yaml_node_t *n, struct fg_conf *c);

#endif /* FG_CONFIG_INT_H */
