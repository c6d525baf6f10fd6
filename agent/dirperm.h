/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * dirperm: whether other users could change what a directory holds — the
 * one rule the socket's directories and the pin directory are checked by.
 * "Us" is root and the agent's own uid and gid.
 */
#ifndef FG_DIRPERM_H
#define FG_DIRPERM_H

#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* Owned by root or by the agent's user. */
static inline bool dirperm_owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* Writable by someone other than us (a group of root or ours is ours);
 * sticky directories (/tmp) still count: check S_ISVTX where renaming is
 * what matters. */
static inline bool dirperm_others_can_write(const struct stat *st)
{
	if (st->st_mode & S_IWOTH)
		return true;
	return (st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != getegid();
}

#endif /* FG_DIRPERM_H */
