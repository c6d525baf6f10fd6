/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A redis-server of a unit test's own, on a Unix socket in a fresh
 * directory (no TCP port, nothing saved), for the suites that talk to a
 * real Redis.
 */
#ifndef FG_TEST_REDISD_H
#define FG_TEST_REDISD_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Make dir from tmpl ("/tmp/fgut-x.XXXXXX") and name the socket in it
 * (sock, its r.sock). Whether the directory was made. */
static inline bool redisd_dir(char *dir, const char *tmpl, char *sock, size_t socklen)
{
	strcpy(dir, tmpl);
	if (!mkdtemp(dir))
		return false;
	snprintf(sock, socklen, "%s/r.sock", dir);
	return true;
}

/* Start redis-server on sock in dir with the extra arguments (NULL, or up
 * to 6 ending in NULL); its pid in *pid. Whether the socket came up within
 * 4 s. */
static inline bool redisd_spawn(const char *dir, const char *sock, const char *const *extra,
				pid_t *pid)
{
	const char *argv[20] = { "redis-server", "--port", "0", "--unixsocket", sock,
				 "--save", "", "--appendonly", "no", "--dir", dir,
				 "--logfile", "/dev/null" };
	int i, n = 13;

	for (i = 0; extra && extra[i] && n < 19; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	*pid = fork();
	if (!*pid) {
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock, F_OK); i++)
		usleep(20000);
	return !access(sock, F_OK);
}

#endif /* FG_TEST_REDISD_H */
