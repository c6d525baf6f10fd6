/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * cmdline: floodctl's command line, driven by two tables: the options
 * (cmdline.c) and the commands (commands.c). Parsing, the --help text, a
 * command's usage line and the "unknown ..." messages (with a did-you-mean)
 * all come from those rows, so adding an option or a command is one row
 * (and, for an option, the field in struct cmdline_args it fills).
 */
#ifndef FG_CLI_CMDLINE_H
#define FG_CLI_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rpc.h"
#include "xdpmaps.h"

/* floodctl's exit statuses (docs/man/floodctl.8). */
enum { EXIT_OK = 0, EXIT_DENIED = 1, EXIT_ERROR = 2 };

/* The command options, one bit each: struct cmdline_command.opts says which a command takes. */
enum {
	O_FOR = 1u << 0,
	O_COST = 1u << 1,
	O_ROLE = 1u << 2,
	O_PEEK = 1u << 3,
	O_DEL = 1u << 4,
	O_N = 1u << 5,
	O_BY = 1u << 6,
	O_WATCH = 1u << 7,
	O_INTERVAL = 1u << 8,
	O_URL = 1u << 9,
};

/* What the command line asked for; the handlers read it. */
struct cmdline_args {
	bool json;
	const char *sock;
	const char *pin_dir; /* NULL: use the socket */
	unsigned given;	     /* O_* seen */
	uint64_t for_s;
	const char *cost, *role;
	bool peek, del, watch, by_drops;
	int n;
	double interval;
	/* overview: the metrics listener's URL; NULL: the default */
	const char *url;
	char *pos[4]; /* positional arguments after the command */
	int npos;
	/* the agent's INFO xdp, when it answered for the pins a command reads
	 * (rule names: the maps hold ids); NULL otherwise */
	const char *agent_info;
};

struct cmdline_command {
	const char *name;
	int npos; /* positional arguments, exactly (at most 4) */
	unsigned opts;
	const char *synopsis;	   /* "ban CIDR [--for DURATION]": the usage line */
	const char *help_synopsis; /* the same in --help; NULL: synopsis */
	const char *help;	   /* --help's text; '\n' continues it under itself */
	const char *section;	   /* a --help heading printed before this row, or NULL */
	int (*sock)(struct rpc *r, const struct cmdline_args *a);    /* NULL: maps only */
	int (*pin)(struct xdpmaps *m, const struct cmdline_args *a); /* NULL: socket only */
};

struct cmdline_option {
	const char *name;  /* long name, NULL: short only */
	char short_name;   /* 0: long only */
	const char *value; /* its value's name in --help ("PATH"); NULL: a flag */
	unsigned bit;	   /* O_*: a command option; 0: global (any place) */
	unsigned needs;	   /* O_* that must be given too ("--interval goes with --watch") */
	/* Store the value (NULL for a flag) in a. Returns 0, CMDLINE_HELP, or
	 * -EINVAL for a value that is not one (then "invalid" is the message). */
	int (*set)(struct cmdline_args *a, const struct cmdline_option *o, const char *value);
	size_t field;	     /* offsetof() the field a generic setter fills */
	const char *invalid; /* "give a whole number, 0 or more" */
	const char *help;    /* global options: --help's text ('\n' continues it) */
};

#define CMDLINE_HELP    1
#define CMDLINE_VERSION 2

/* The tables. */
extern const struct cmdline_command commands_all[];
extern const size_t commands_count;
extern const struct cmdline_option cmdline_options[];
extern const size_t cmdline_noptions;

/*
 * Parse argv (global options, the command, then its arguments and options in
 * any order) into a. Returns the command; NULL after --help or a usage
 * message on stderr, with *ret the exit status (0 for --help, else 2).
 */
const struct cmdline_command *cmdline_parse(int argc, char **argv, struct cmdline_args *a,
					    int *ret);

/* floodctl --help, from the tables. */
void cmdline_usage(FILE *f);

/* "floodctl: <message>", then the command's usage line (or "try 'floodctl
 * --help'" when c is NULL), on stderr. Returns EXIT_ERROR. */
int cmdline_usage_error(const struct cmdline_command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const struct cmdline_command *cmdline_find_command(const char *name);

/* The closest of names[0..n) to word (few edits away, for "did you mean"), or NULL. */
const char *cmdline_nearest(const char *word, const char *const *names, size_t n);

#endif /* FG_CLI_CMDLINE_H */
