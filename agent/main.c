// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* floodgated: the floodgate agent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <floodgate/paths.h>

#include "agent.h"
#include "commands.h"
#include "log.h"
#include "process.h"
#include "server.h"

/* The commands reach the agent through this (main is the only module that
 * sees both), so neither includes the other. */
static int commands_list_edit(void *arg, bool allow, const struct fg_cidr *c, bool del)
{
	return agent_list_edit(arg, allow, c, del);
}

static int commands_reload_async(void *arg, commands_reload_cb cb, void *cb_arg)
{
	return agent_reload_async(arg, cb, cb_arg);
}

/* agent_opts.on_socket: the product commands on the agent's socket; in
 * app-only mode without maps, so the XDP commands say why they cannot. */
static int register_commands(struct agent *a, struct server *s)
{
	static struct commands_env env; /* outlives the socket */

	env = (struct commands_env){
		.conf = &a->conf,
		.maps = a->app_only ? NULL : &a->maps,
		.loader = a->app_only ? NULL : &a->loader,
		.hostpeers = a->app_only ? NULL : &a->hostpeers,
		.policies = &a->policies,
		.compiled = &a->compiled,
		.banguard = &a->banguard,
		.vouch = &a->vouch,
		.fleet = &a->fleet,
		.redis = &a->redis,
		.metrics = &a->metrics,
		.list_edit = commands_list_edit,
		.reload_async = commands_reload_async,
		.arg = a,
	};
	return commands_register(s, &env);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: floodgated [-c FILE] [-i IFACE ...] [--xdp-mode native|generic|auto]\n"
		"                  [--pin-dir DIR] [--socket PATH] [--metrics-listen ADDR]\n"
		"                  [--log-format logfmt|json] [--app-only] [--check-config] [-v]\n"
		"\n"
		"  -c, --config FILE     config file (default " FG_DEFAULT_CONFIG ")\n"
		"  -i, --iface IFACE     protect IFACE; repeat for several; replaces the\n"
		"                        config's interfaces\n"
		"      --app-only        no XDP: serve the socket and metrics only, as any\n"
		"                        user, no root, bpffs or interface needed (also\n"
		"                        app_only: true in the config)\n"
		"      --xdp-mode MODE   native, generic or auto (native, else generic)\n"
		"      --pin-dir DIR     where maps and links are pinned "
		"(default " FG_DEFAULT_PIN_DIR ")\n"
		"      --socket PATH     the RESP socket (default: socket.path in the config,\n"
		"                        else " FG_DEFAULT_SOCKET "; not root:\n"
		"                        $XDG_RUNTIME_DIR/floodgate/floodgate.sock)\n"
		"      --metrics-listen ADDR  serve /metrics and /healthz on ADDR "
		"(127.0.0.1:PORT,\n"
		"                        [::1]:PORT, 0.0.0.0:PORT); \"\" turns them off\n"
		"                        (default: metrics: in the config, "
		"else " FG_CONF_METRICS_LISTEN ")\n"
		"      --log-format FMT  stderr log lines as logfmt (default) or json (default:\n"
		"                        log.format in the config)\n"
		"      --check-config    validate the config file and exit (0 valid, 2 invalid)\n"
		"  -v, --verbose         more log; -vv also shows libbpf and verifier output\n"
		"  -V, --version         print the version\n"
		"\n"
		"Signals: SIGHUP reloads the config, SIGTERM/SIGINT detach and exit (unless\n"
		"persist: true).\n");
}

static int parse_mode(const char *s, enum fg_xdp_mode *mode)
{
	if (!strcmp(s, "native"))
		*mode = FG_XDP_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = FG_XDP_GENERIC;
	else if (!strcmp(s, "auto"))
		*mode = FG_XDP_AUTO;
	else
		return -EINVAL;
	return 0;
}

/* --check-config: the file as floodgated would take it, in the mode it
 * would run in (--app-only or app_only: true). */
static int check_config(const char *path, const struct agent_opts *o)
{
	char err[FG_CONF_ERR_MAX];
	struct fg_conf conf;
	int ret = 0;

	if (config_load(path, &conf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if ((o->app_only || conf.app_only) && o->nifaces) {
		fprintf(stderr, "%s: -i IFACE and app-only mode exclude each other\n", path);
		ret = 2;
	} else if (o->app_only || conf.app_only) {
		printf("%s: ok (app-only mode: %d policies; %d interfaces, %d rules and the "
		       "allow/deny lists are not used)\n",
		       path, conf.npolicies, conf.nifaces, conf.nrules);
	} else {
		printf("%s: ok (%d rules, %d allow, %d deny)\n", path, conf.nrules, conf.nallow,
		       conf.ndeny);
	}
	config_free(&conf);
	return ret;
}

int main(int argc, char **argv)
{
	enum {
		OPT_MODE = 256,
		OPT_PIN_DIR,
		OPT_CHECK,
		OPT_SOCKET,
		OPT_METRICS,
		OPT_LOG_FORMAT,
		OPT_APP_ONLY,
	};
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "iface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, OPT_MODE },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "app-only", no_argument, NULL, OPT_APP_ONLY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_opts opts = {
		.config_path = FG_DEFAULT_CONFIG,
		.pin_dir = FG_DEFAULT_PIN_DIR,
		.on_socket = register_commands,
	};
	bool check = false;
	int verbose = 0, c, ret;
	static struct agent a;

	while ((c = getopt_long(argc, argv, "c:i:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'i':
			if (opts.nifaces == FG_CONF_MAX_IFACES || strlen(optarg) >= 16) {
				fprintf(stderr,
					"floodgated: -i %s: at most %d interfaces, names "
					"under 16 characters\n",
					optarg, FG_CONF_MAX_IFACES);
				return 2;
			}
			snprintf(opts.ifaces[opts.nifaces++], 16, "%s", optarg);
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &opts.mode)) {
				fprintf(stderr,
					"floodgated: --xdp-mode %s: use native, generic or "
					"auto\n",
					optarg);
				return 2;
			}
			opts.mode_set = true;
			break;
		case OPT_PIN_DIR:
			opts.pin_dir = optarg;
			break;
		case OPT_SOCKET:
			if (!*optarg || strlen(optarg) >= 108) {
				fprintf(stderr,
					"floodgated: --socket %s: give a path under 108 "
					"characters\n",
					optarg);
				return 2;
			}
			opts.socket_path = optarg;
			break;
		case OPT_METRICS: {
			struct sockaddr_storage ss;
			const char *why;
			socklen_t len;

			if (*optarg &&
			    (strlen(optarg) >= sizeof(((struct fg_conf_metrics *)0)->listen) ||
			     config_parse_listen(optarg, &ss, &len, &why))) {
				fprintf(stderr, "floodgated: --metrics-listen %s: %s\n", optarg,
					strlen(optarg) >= 64 ? "too long" : why);
				return 2;
			}
			opts.metrics_listen = optarg;
			break;
		}
		case OPT_CHECK:
			check = true;
			break;
		case OPT_APP_ONLY:
			opts.app_only = true;
			break;
		case OPT_LOG_FORMAT:
			if (log_parse_format(optarg, &opts.log_format)) {
				fprintf(stderr, "floodgated: --log-format %s: use logfmt or json\n",
					optarg);
				return 2;
			}
			opts.log_format_set = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("floodgated %s (%s)\n", FG_VERSION, FG_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* floodgated --check-config FILE reads naturally: accept the path there. */
	if (check && optind == argc - 1)
		opts.config_path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "floodgated: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (opts.app_only && opts.nifaces) {
		fprintf(stderr, "floodgated: -i and --app-only exclude each other: app-only mode "
				"protects no interface\n");
		return 2;
	}
	if (check)
		return check_config(opts.config_path, &opts);

	/* Until the config is read: the command line's settings (which then win). */
	log_set_format(opts.log_format);
	log_set_level(verbose >= 1 ? FG_LOG_DEBUG : FG_LOG_INFO);
	opts.log_level_set = verbose >= 1;
	log_setup_libbpf(verbose >= 2);
	process_setup();
	ret = agent_start(&a, &opts);
	if (ret)
		return ret;
	/* Before the loop accepts anyone: one descriptor per client. */
	process_raise_nofile(server_fd_need(a.server));
	ret = agent_run(&a);
	agent_stop(&a);
	return ret;
}
