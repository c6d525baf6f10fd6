/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * sockfile: the agent's Unix socket file on disk — its directories, a stale
 * file left by an earlier agent, bind and listen, and its group and mode.
 * The server (server.c) calls it at listen and at reload; it knows nothing
 * of clients or RESP.
 *
 * Promises: the socket is never briefly wider than the mode asked for (bound
 * owner-only, opened up before listen()); mode and group are set through a
 * descriptor of the file itself, never by following a path that may have
 * been replaced by a symlink; a directory on the way that someone other than
 * root or the agent's user could write (not sticky) is refused; a file found
 * at the path is removed only when it is a socket nothing answers on.
 * Every function returns 0 (or a descriptor) or -errno, and logs what failed
 * and what to do.
 */
#ifndef FG_SOCKFILE_H
#define FG_SOCKFILE_H

#include <stdbool.h>
#include <sys/types.h>

/* The file bound at listen: later changes touch only this same file. */
struct sockfile_id {
	dev_t dev;
	ino_t ino;
};

/* socket.group's gid in *out: a group name, else a number; (gid_t)-1 when
 * group is ""; -ENOENT (logged) when it is neither. */
int sockfile_group_gid(const char *group, gid_t *out);

/*
 * Create path's directories (0755) if missing, check each directory on the
 * way, remove a stale socket file, bind owner-only, give the file gid
 * ((gid_t)-1: unchanged; group is the name for messages) and mode, then
 * listen(backlog). Returns the listening descriptor (non-blocking, close on
 * exec) with *id set, or -errno; on failure nothing is left at path that
 * this call made.
 */
int sockfile_open(const char *path, const char *group, gid_t gid, mode_t mode, int backlog,
		  struct sockfile_id *id);

/*
 * Give the socket file at path group gid and mode again (reload); only when
 * it is still the file *id names (-ESTALE otherwise, logged).
 */
int sockfile_set_perms(const char *path, const char *group, gid_t gid, mode_t mode,
		       const struct sockfile_id *id);

/* Remove path if it is still the socket *id names (not what replaced it). */
void sockfile_remove(const char *path, const struct sockfile_id *id);

#endif /* FG_SOCKFILE_H */
