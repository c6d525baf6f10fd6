/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * pagecmd: floodctl overview, the status page's summary, read over HTTP
 * from the agent's metrics listener (GET /status.txt, or /status.json with
 * --json): the text and the JSON the page shows come from one rendering,
 * so the page and the command line agree.
 */
#ifndef FG_CLI_PAGECMD_H
#define FG_CLI_PAGECMD_H

#include "cmdline.h"

#define PAGECMD_DEFAULT_URL "http://127.0.0.1:10150"
#define PAGECMD_TIMEOUT_S   5
#define PAGECMD_MAX_BODY    (8u << 20) /* a bigger answer is not the agent's */

/* Print the summary (a->json: the JSON) of a->url (NULL: the default) on
 * stdout. Returns EXIT_OK, or EXIT_ERROR with the reason on stderr. */
int pagecmd_overview(const struct cmdline_args *a);

/* Split "http://HOST:PORT[/]" (HOST a name, an IPv4 address or [IPv6]) into
 * host (len bytes) and port. Returns 0 or -EINVAL. */
int pagecmd_parse_url(const char *url, char *host, size_t len, char *port, size_t plen);

#endif /* FG_CLI_PAGECMD_H */
