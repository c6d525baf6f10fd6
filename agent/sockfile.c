// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The socket file on disk: see sockfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "dirperm.h"
#include "sockfile.h"

/* A group given as a number: all digits, at most 4294967294 ((gid_t)-1
 * means "unchanged" to fchownat). */
static bool numeric_gid(const char *group, gid_t *out)
{
	unsigned long long v = 0;
	const char *p;

	for (p = group; *p; p++) {
		if (*p < '0' || *p > '9' || p - group >= 10)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p == group || v >= (gid_t)-1)
		return false;
	*out = (gid_t)v;
	return true;
}

/* socket.group's gid, (gid_t)-1 for none; -ENOENT logged. A name first,
 * then a number (as chown(1) reads it): the docs promise "a group name or
 * number", and a gid needs no entry in the group database to own a file. */
int sockfile_group_gid(const char *group, gid_t *out)
{
	struct group grp, *res = NULL;
	char buf[4096];

	*out = (gid_t)-1;
	if (!group[0])
		return 0;
	if (!getgrnam_r(group, &grp, buf, sizeof(buf), &res) && res) {
		*out = res->gr_gid;
		return 0;
	}
	if (numeric_gid(group, out))
		return 0;
	log_error("socket.group: no such group; create it or fix the config",
		  LOG_STR("group", group));
	return -ENOENT;
}

/*
 * Give the socket file its group and mode through a descriptor of the file
 * itself (O_PATH|O_NOFOLLOW): chmod(path) follows a symlink, so a socket
 * replaced by a link to /etc/shadow would hand that file the socket's mode.
 * At listen the file found is recorded; later (reload) only that same file
 * is changed. Returns 0 or -errno, logged.
 */
static int apply_perms(const char *path, const char *group, gid_t gid, mode_t mode,
		       struct sockfile_id *id, bool first)
{
	char proc[64];
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("cannot open the socket file to set its mode", LOG_STR("path", path),
			  LOG_ERRNO(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    (!first && (st.st_dev != id->dev || st.st_ino != id->ino))) {
		log_error("the socket file was replaced by something else; not changing its mode "
			  "or group (restart the agent to recreate the socket)",
			  LOG_STR("path", path));
		err = -ESTALE;
		goto out;
	}
	if (first) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	if (gid != (gid_t)-1 && st.st_gid != gid &&
	    fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH)) {
		char m[PATH_MAX + 128];

		err = -errno;
		log_error(log_fmt(m, sizeof(m), "cannot give %s to group %s", path, group),
			  LOG_STR("path", path), LOG_STR("group", group), LOG_ERRNO(-err));
		goto out;
	}
	/* fchmod() refuses O_PATH descriptors; the /proc link of one names
	 * the file itself, never what a path would resolve to now. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((st.st_mode & 07777) != mode && chmod(proc, mode)) {
		err = -errno;
		log_error("cannot chmod the socket (through /proc/self/fd: is /proc mounted?)",
			  LOG_STR("path", path), LOG_ERRNO(-err));
	}
out:
	close(fd);
	return err;
}

static int mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Whoever can write the socket's directory (or one above it) can replace
 * the socket: with a symlink, a file of their own, or a socket of their own
 * that collects the agent's clients. Every directory on the way must belong
 * to root or to the agent's user and be writable by no one else, unless it
 * is sticky (/tmp: others cannot rename what is not theirs).
 */
static int check_dirs(const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX], m[PATH_MAX + 256];
	struct stat st;
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p)
		return 0;
	if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if (!realpath(dir, real)) {
		int err = -errno;

		log_error("cannot resolve the directory of the socket", LOG_STR("dir", dir),
			  LOG_ERRNO(-err));
		return err;
	}
	for (p = real;;) {
		char save = *p;

		*p = '\0';
		if (stat(p == real ? "/" : real, &st)) {
			int err = -errno;

			*p = save;
			log_error("cannot stat a directory of the socket", LOG_STR("dir", real),
				  LOG_ERRNO(-err));
			return err;
		}
		if (!dirperm_owner_ok(&st)) {
			log_error(log_fmt(m, sizeof(m),
					  "the socket's directory %s belongs to uid %u, who could "
					  "replace the socket; use a directory owned by root or "
					  "by the agent's user (socket.path)",
					  p == real ? "/" : real, (unsigned)st.st_uid),
				  LOG_STR("dir", p == real ? "/" : real));
			*p = save;
			return -EPERM;
		}
		if (!(st.st_mode & S_ISVTX) && dirperm_others_can_write(&st)) {
			log_error(log_fmt(m, sizeof(m),
					  "the socket's directory %s is writable by others (mode "
					  "%04o): they could replace the socket; chmod go-w it (or "
					  "+t), or choose another socket.path",
					  p == real ? "/" : real, (unsigned)(st.st_mode & 07777)),
				  LOG_STR("dir", p == real ? "/" : real));
			*p = save;
			return -EPERM;
		}
		*p = save;
		if (!save)
			break;
		p = strchr(p + 1, '/');
		if (!p)
			p = real + strlen(real);
	}
	return 0;
}

/* A socket file is stale when nothing accepts on it. */
static int remove_stale(const char *path)
{
	char m[PATH_MAX + 128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error(log_fmt(m, sizeof(m),
				  "%s exists and is not a socket; remove it or choose another "
				  "socket.path",
				  path),
			  LOG_STR("path", path));
		return -EEXIST;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	if (err == 0) {
		log_error("another agent answers on this socket; stop it first or give --socket "
			  "another path",
			  LOG_STR("path", path));
		return -EADDRINUSE;
	}
	if (err != ECONNREFUSED) {
		log_error("cannot tell whether the socket is in use", LOG_STR("path", path),
			  LOG_ERRNO(err));
		return -err;
	}
	if (unlink(path) && errno != ENOENT)
		return -errno;
	log_info("removed a stale socket", LOG_STR("path", path));
	return 0;
}

int sockfile_open(const char *path, const char *group, gid_t gid, mode_t mode, int backlog,
		  struct sockfile_id *id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	err = mkdir_parents(path);
	if (err) {
		log_error("cannot create the directory of the socket", LOG_STR("path", path),
			  LOG_ERRNO(-err));
		return err;
	}
	err = check_dirs(path);
	if (err)
		return err;
	err = remove_stale(path);
	if (err)
		return err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Created owner-only, opened up by chmod below: never briefly wider
	 * than socket.mode. */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err) {
		log_error("cannot bind the socket", LOG_STR("path", path), LOG_ERRNO(-err));
		goto fail_fd;
	}
	/* Nobody can connect before listen(): opened up to socket.mode now. */
	err = apply_perms(path, group, gid, mode, id, true);
	if (err)
		goto fail_unlink;
	if (listen(fd, backlog)) {
		err = -errno;
		log_error("cannot listen on the socket", LOG_STR("path", path), LOG_ERRNO(-err));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail_fd:
	close(fd);
	return err;
}

int sockfile_set_perms(const char *path, const char *group, gid_t gid, mode_t mode,
		       const struct sockfile_id *id)
{
	struct sockfile_id cur = *id;

	return apply_perms(path, group, gid, mode, &cur, false);
}

void sockfile_remove(const char *path, const struct sockfile_id *id)
{
	struct stat st;

	if (!lstat(path, &st) && st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}
