// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pagecmd.h"
#include "rpc.h"

int pagecmd_parse_url(const char *url, char *host, size_t len, char *port, size_t plen)
{
	const char *p, *h, *hend, *colon;
	size_t n;

	if (strncmp(url, "http://", 7))
		return -EINVAL;
	h = url + 7;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend)
			return -EINVAL;
		h++;
		colon = hend + 1;
	} else {
		hend = h + strcspn(h, ":/");
		colon = hend;
	}
	n = (size_t)(hend - h);
	if (!n || n >= len || *colon != ':')
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	p = colon + 1;
	n = strspn(p, "0123456789");
	if (!n || n > 5 || n >= plen || (p[n] && strcmp(p + n, "/")) || atoi(p) < 1 ||
	    atoi(p) > 65535)
		return -EINVAL;
	memcpy(port, p, n);
	port[n] = '\0';
	return 0;
}

/* Connect to host:port, each try bounded by the timeout. -1 on failure. */
static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = PAGECMD_TIMEOUT_S };
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "floodctl: %s: %s\n", host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr,
			"floodctl: cannot reach the metrics listener at %s:%s: %s (is "
			"metrics.listen "
			"set? give --url)\n",
			host, port, strerror(errno));
	return fd;
}

/*
 * The URL of the agent's own /metrics listener, asked over its socket
 * (INFO server's metrics_listen), a wildcard host made loopback. False,
 * silently, when the agent cannot be asked or serves no metrics: the
 * default URL is tried then.
 */
static bool agent_metrics_url(const char *sock, char *url, size_t len)
{
	char addr[128];

	if (!rpc_info_field(sock, "server", "metrics_listen", addr, sizeof(addr)))
		return false;
	if (!strncmp(addr, "0.0.0.0:", 8))
		snprintf(url, len, "http://127.0.0.1:%s", addr + 8);
	else if (!strncmp(addr, "[::]:", 5))
		snprintf(url, len, "http://[::1]:%s", addr + 5);
	else
		snprintf(url, len, "http://%s", addr);
	return true;
}

int pagecmd_overview(const struct cmdline_args *a)
{
	const char *url = a->url, *path = a->json ? "/status.json" : "/status.txt";
	char asked[160], host[256], port[8], req[512], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, status;

	/* Without --url: where the agent says its listener is, else the default. */
	if (!url)
		url = agent_metrics_url(a->sock, asked, sizeof(asked)) ? asked : PAGECMD_DEFAULT_URL;
	if (pagecmd_parse_url(url, host, sizeof(host), port, sizeof(port)))
		return cmdline_usage_error(cmdline_find_command("overview"),
					   "--url: \"%s\" is not http://HOST:PORT", url);
	fd = dial(host, port);
	if (fd < 0)
		return EXIT_ERROR;
	/* HTTP/1.0: the answer ends when the agent closes (no chunks, no keep-alive). */
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: floodctl\r\n\r\n",
		 path, host);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "floodctl: %s: cannot send the request: %s\n", url,
			strerror(errno));
		close(fd);
		return EXIT_ERROR;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *grown;

			if (cap >= PAGECMD_MAX_BODY) {
				fprintf(stderr, "floodctl: %s: the answer is too big\n", url);
				goto fail;
			}
			grown = realloc(buf, cap ? cap * 2 : 65536);
			if (!grown) {
				fprintf(stderr, "floodctl: out of memory\n");
				goto fail;
			}
			buf = grown;
			cap = cap ? cap * 2 : 65536;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			fprintf(stderr, "floodctl: %s: %s\n", url,
				errno == EAGAIN ? "no answer within 5 s" : strerror(errno));
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !body) {
		fprintf(stderr, "floodctl: %s: not an HTTP answer\n", url);
		goto fail;
	}
	body += 4;
	if (status != 200) {
		fprintf(stderr, "floodctl: %s%s: HTTP %d%s\n", url, path, status,
			status == 404 ? " (an agent without the status page?)" : "");
		goto fail;
	}
	fwrite(body, 1, len - (size_t)(body - buf), stdout);
	free(buf);
	return EXIT_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return EXIT_ERROR;
}
