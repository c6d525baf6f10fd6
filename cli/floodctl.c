// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floodctl: the operator's command line. It talks to floodgated over its
 * Unix socket (docs/api.md); with -p DIR the XDP commands read and write the
 * pinned maps directly instead, for when the agent is down or on a
 * persist: true host. The commands are the rows of commands.c, the options
 * those of cmdline.c; this file only runs the one asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <floodgate/paths.h>

#include "cmdline.h"
#include "pagecmd.h"
#include "pinned.h"
#include "rpc.h"

int main(int argc, char **argv)
{
	struct cmdline_args a = { 0 };
	const struct cmdline_command *cmd;
	struct xdpmaps m;
	struct rpc r;
	char asked[256], *info;
	int ret;

	cmd = cmdline_parse(argc, argv, &a, &ret);
	if (!cmd)
		return ret;
	/* overview reads the metrics listener (the status page's data). */
	if (!strcmp(cmd->name, "overview"))
		return pagecmd_overview(&a);
	/* rules and count have no socket command: they read the maps. */
	if (a.pin_dir || !cmd->sock) {
		if (!cmd->pin) {
			fprintf(stderr,
				"floodctl: %s needs the agent socket: drop -p (and give -s PATH if "
				"the socket is not %s)\n",
				cmd->name, FG_DEFAULT_SOCKET);
			return EXIT_ERROR;
		}
		/* The agent, when it answers: its pin dir (--pin-dir) without -p,
		 * and for the same pins what only it knows (rule names). */
		info = rpc_info(a.sock, "xdp");
		if (info && rpc_info_get(info, "pin_dir", asked, sizeof(asked))) {
			if (!a.pin_dir)
				a.pin_dir = asked;
			if (!strcmp(a.pin_dir, asked))
				a.agent_info = info;
		}
		ret = pinned_open(&m, a.pin_dir ? a.pin_dir : FG_DEFAULT_PIN_DIR);
		if (!ret) {
			ret = cmd->pin(&m, &a);
			xdpmaps_close(&m);
		}
		free(info);
		return ret;
	}
	if (rpc_connect(&r, a.sock))
		return EXIT_ERROR;
	ret = cmd->sock(&r, &a);
	rpc_close(&r);
	return ret;
}
