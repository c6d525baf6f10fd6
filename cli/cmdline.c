// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * cmdline: the option table, and the parsing, help and usage messages that
 * both tables drive. getopt_long does the splitting; its long options and
 * option string are built from the rows, so the table is the only list.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <floodgate/paths.h>

#include "cmdline.h"
#include "duration.h"
#include "editdist.h"

/* --- setters: each stores one option's value ------------------------------------ */

static int set_flag(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	(void)v;
	*(bool *)((char *)a + o->field) = true;
	return 0;
}

static int set_str(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	*(const char **)((char *)a + o->field) = v;
	return 0;
}

static int set_help(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	(void)a, (void)o, (void)v;
	return CMDLINE_HELP;
}

static int set_version(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	(void)a, (void)o, (void)v;
	return CMDLINE_VERSION;
}

static int set_n(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	char *end;

	(void)o;
	a->n = (int)strtol(v, &end, 10);
	return *end || end == v || a->n < 1 || a->n > 1000 ? -EINVAL : 0;
}

static int set_for(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	uint64_t ms;

	(void)o;
	if (duration_parse(v, XDP_BAN_MAX_S * 1000, &ms))
		return -EINVAL;
	a->for_s = (ms + 999) / 1000; /* bans last whole seconds */
	return 0;
}

/* The agent takes the cost as given: only its form is checked here. */
static int set_uint_str(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	size_t n = strlen(v);

	if (!n || n > 18 || strspn(v, "0123456789") != n)
		return -EINVAL;
	return set_str(a, o, v);
}

static int set_by(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	(void)o;
	if (!strcmp(v, "drops"))
		a->by_drops = true;
	else if (strcmp(v, "new"))
		return -EINVAL;
	return 0;
}

static int set_interval(struct cmdline_args *a, const struct cmdline_option *o, const char *v)
{
	char *end;

	(void)o;
	a->interval = strtod(v, &end);
	return *end || end == v || !(a->interval >= 0.1 && a->interval <= 3600) ? -EINVAL : 0;
}

#define FIELD(f) .field = offsetof(struct cmdline_args, f)

/*
 * Every option. Global ones (bit 0) go anywhere and are listed by --help;
 * command options go after the command, which must take them (its opts),
 * and show in its synopsis. The order is getopt_long's (it matters for
 * abbreviations such as --pe). Columns: long name, short name, value name,
 * O_* bit, O_* it needs, setter, field, bad-value message, --help text.
 */
const struct cmdline_option cmdline_options[] = {
	{ "socket", 's', "PATH", 0, 0, set_str, FIELD(sock), NULL,
	  "floodgated's socket (default $FLOODGATE_SOCKET, else\n" FG_DEFAULT_SOCKET ")" },
	{ "pin-dir", 'p', "DIR", 0, 0, set_str, FIELD(pin_dir), NULL,
	  "read/write the pinned maps in DIR instead of asking the agent\n"
	  "(stats, rules, source, list, ban, unban, verified, count;\n"
	  "rules and count always read the maps: without -p, in the\n"
	  "agent's pin dir, else " FG_DEFAULT_PIN_DIR ")" },
	{ "json", 'j', NULL, 0, 0, set_flag, FIELD(json), NULL, "JSON output" },
	{ "help", 'h', NULL, 0, 0, set_help, 0, NULL, "this help" },
	{ "version", 'V', NULL, 0, 0, set_version, 0, NULL, "floodctl's version" },
	{ "for", 0, "DURATION", O_FOR, 0, set_for, 0,
	  "give a duration like 90s, 10m, 1h30m or 2d, at most 3650d (leave --for out to ban "
	  "until unbanned, or to vouch for sources.verified_ttl)",
	  NULL },
	{ "cost", 0, "N", O_COST, 0, set_uint_str, FIELD(cost), "give a whole number, 0 or more",
	  NULL },
	{ "role", 0, "ROLE", O_ROLE, 0, set_str, FIELD(role), NULL, NULL },
	{ "peek", 0, NULL, O_PEEK, 0, set_flag, FIELD(peek), NULL, NULL },
	{ "del", 0, NULL, O_DEL, 0, set_flag, FIELD(del), NULL, NULL },
	{ "by", 0, "new|drops", O_BY, 0, set_by, 0, "use new or drops", NULL },
	{ "watch", 0, NULL, O_WATCH, 0, set_flag, FIELD(watch), NULL, NULL },
	{ "interval", 0, "S", O_INTERVAL, O_WATCH, set_interval, 0, "give seconds from 0.1 to 3600",
	  NULL },
	{ NULL, 'n', "N", O_N, 0, set_n, 0, "give a count from 1 to 1000", NULL },
	{ "url", 0, "URL", O_URL, 0, set_str, FIELD(url), NULL, NULL },
};
const size_t cmdline_noptions = sizeof(cmdline_options) / sizeof(cmdline_options[0]);

#define NOPTS (sizeof(cmdline_options) / sizeof(cmdline_options[0]))

/* --- help and usage ------------------------------------------------------------------ */

/* "--for" or "-n": how messages name an option. */
static const char *opt_display(const struct cmdline_option *o, char *buf, size_t len)
{
	if (o->name)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

/* One --help entry: the label in a column of width, then the text; a
 * label too wide for the column gets a line of its own. */
static void help_item(FILE *f, const char *label, int width, const char *text)
{
	const char *p;

	if ((int)strlen(label) < width - 1)
		fprintf(f, "  %-*s", width, label);
	else
		fprintf(f, "  %s\n%*s", label, width + 2, "");
	for (p = text; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "%*s", width + 2, "");
	}
	fputc('\n', f);
}

void cmdline_usage(FILE *f)
{
	char label[64];
	size_t i;

	fputs("usage: floodctl [-s SOCKET | -p PIN_DIR] [--json] COMMAND [ARGS]\n", f);
	for (i = 0; i < commands_count; i++) {
		const struct cmdline_command *c = &commands_all[i];

		if (c->section)
			fprintf(f, "\n%s\n", c->section);
		help_item(f, c->help_synopsis ?: c->synopsis, 30, c->help);
	}
	fputs("\noptions:\n", f);
	for (i = 0; i < NOPTS; i++) {
		const struct cmdline_option *o = &cmdline_options[i];
		int n = 0;

		if (o->bit || !o->help)
			continue;
		if (o->short_name)
			n = snprintf(label, sizeof(label), "-%c%s", o->short_name,
				     o->name ? ", " : "");
		if (o->name)
			n += snprintf(label + n, sizeof(label) - n, "--%s", o->name);
		if (o->value)
			snprintf(label + n, sizeof(label) - n, " %s", o->value);
		help_item(f, label, 21, o->help);
	}
	fputs("\nexit status: 0 ok, 1 denied / not found, 2 error\n", f);
}

int cmdline_usage_error(const struct cmdline_command *c, const char *fmt, ...)
{
	va_list ap;

	fputs("floodctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "usage: floodctl [-s SOCKET] [--json] %s\n", c->synopsis);
	else
		fputs("try 'floodctl --help'\n", stderr);
	return EXIT_ERROR;
}

const struct cmdline_command *cmdline_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < commands_count; i++)
		if (!strcmp(commands_all[i].name, name))
			return &commands_all[i];
	return NULL;
}

/* --- did you mean ---------------------------------------------------------------- */

#define NEAR_MAX 32 /* longer words get no suggestion */

const char *cmdline_nearest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	int best_d = 3; /* two edits at most: further is a guess, not a typo */
	size_t i;

	for (i = 0; i < n; i++) {
		int d = editdist(word, names[i]);

		if (d < best_d && d < (int)strlen(word)) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

/* The option most like the unknown argument arg ("--fro=1"), among those
 * cmd takes (all when cmd is NULL); NULL when none is close. */
static const char *nearest_option(const char *arg, const struct cmdline_command *cmd)
{
	const char *names[NOPTS];
	char word[NEAR_MAX + 1];
	size_t i, n = 0;

	if (strncmp(arg, "--", 2))
		return NULL;
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	for (i = 0; i < NOPTS; i++) {
		const struct cmdline_option *o = &cmdline_options[i];

		if (o->name && (!cmd || !o->bit || (cmd->opts & o->bit)))
			names[n++] = o->name;
	}
	return cmdline_nearest(word, names, n);
}

/* --- parsing ------------------------------------------------------------------ */

/* getopt_long's tables, built from the rows; a long-only option's value is
 * 256 + its row. */
static void build_getopt(struct option *longopts, char *optstring, const char *mode)
{
	size_t i, n = 0;
	char *s = optstring + strlen(strcpy(optstring, mode));

	for (i = 0; i < NOPTS; i++) {
		const struct cmdline_option *o = &cmdline_options[i];
		int val = o->short_name ? o->short_name : 256 + (int)i;

		if (o->name)
			longopts[n++] = (struct option){ o->name,
							 o->value ? required_argument : no_argument,
							 NULL, val };
		if (o->short_name) {
			*s++ = o->short_name;
			if (o->value)
				*s++ = ':';
		}
	}
	*s = '\0';
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
}

static const struct cmdline_option *option_of(int c)
{
	size_t i;

	if (c >= 256 && c < 256 + (int)NOPTS)
		return &cmdline_options[c - 256];
	for (i = 0; i < NOPTS; i++)
		if (cmdline_options[i].short_name && cmdline_options[i].short_name == c)
			return &cmdline_options[i];
	return NULL;
}

static const struct cmdline_option *option_of_bit(unsigned bit)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (cmdline_options[i].bit == bit)
			return &cmdline_options[i];
	return NULL;
}

/* "unknown option ARG", with a did-you-mean when one is close. */
static void unknown_option(const struct cmdline_command *cmd, const char *arg)
{
	const char *near = nearest_option(arg, cmd);

	if (near)
		cmdline_usage_error(cmd, "unknown option %s (did you mean --%s?)", arg, near);
	else if (cmd)
		cmdline_usage_error(cmd,
				    "unknown option %s (an argument that starts with '-' goes "
				    "after --)",
				    arg);
	else
		cmdline_usage_error(NULL, "unknown option %s", arg);
}

static void unknown_command(const char *name)
{
	const char *names[64];
	const char *near;
	size_t i, n = 0;

	for (i = 0; i < commands_count && n < 64; i++)
		names[n++] = commands_all[i].name;
	near = cmdline_nearest(name, names, n);
	if (near)
		cmdline_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", name, near);
	else
		cmdline_usage_error(NULL, "unknown command '%s'", name);
}

/* Apply option o with value v (cmd NULL: before the command). Returns 0 to
 * go on, else stops parsing with *ret set. */
static int apply(const struct cmdline_option *o, const char *v, const struct cmdline_command *cmd,
		 struct cmdline_args *a, int *ret)
{
	char name[40];
	int r;

	opt_display(o, name, sizeof(name));
	if (!cmd && o->bit) {
		cmdline_usage_error(NULL, "%s goes after the command", name);
		return -EINVAL;
	}
	r = o->set(a, o, v);
	if (r == CMDLINE_HELP) {
		if (cmd)
			printf("usage: floodctl [-s SOCKET] [--json] %s\n", cmd->synopsis);
		else
			cmdline_usage(stdout);
		*ret = EXIT_OK;
		return r;
	}
	if (r == CMDLINE_VERSION) {
		printf("floodctl %s (%s)\n", FG_VERSION, FG_COMMIT);
		*ret = EXIT_OK;
		return r;
	}
	if (r < 0) {
		cmdline_usage_error(cmd, "%s %s: %s", name, v, o->invalid);
		return r;
	}
	if (cmd && o->bit && !(cmd->opts & o->bit)) {
		cmdline_usage_error(cmd, "%s does not take %s", cmd->name, name);
		return -EINVAL;
	}
	a->given |= o->bit;
	return 0;
}

static int add_positional(const struct cmdline_command *cmd, struct cmdline_args *a, char *arg)
{
	/* The bound keeps a row that asks for more arguments than pos holds safe. */
	if (a->npos == cmd->npos || a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0]))) {
		cmdline_usage_error(cmd, "%s: unexpected argument '%s'", cmd->name, arg);
		return -EINVAL;
	}
	a->pos[a->npos++] = arg;
	return 0;
}

const struct cmdline_command *cmdline_parse(int argc, char **argv, struct cmdline_args *a, int *ret)
{
	struct option longopts[NOPTS + 1];
	char optstring[3 + 2 * NOPTS + 1];
	const struct cmdline_command *cmd = NULL;
	size_t i;
	int c;

	*ret = EXIT_ERROR;
	a->n = 10;
	a->interval = 1;
	a->sock = getenv("FLOODGATE_SOCKET");
	if (!a->sock || !*a->sock)
		a->sock = FG_DEFAULT_SOCKET;
	opterr = 0;
	optind = 0; /* getopt starts afresh: floodctl's tests parse more than once */
	/* First the options before the command ("+": stop at it)... */
	build_getopt(longopts, optstring, "+:");
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (c == ':') {
			cmdline_usage_error(NULL, "option %s needs a value", argv[optind - 1]);
			return NULL;
		}
		if (c == '?' || !option_of(c)) {
			unknown_option(NULL, argv[optind - 1]);
			return NULL;
		}
		if (apply(option_of(c), optarg, NULL, a, ret))
			return NULL;
	}
	if (optind >= argc) {
		cmdline_usage(stderr);
		return NULL;
	}
	cmd = cmdline_find_command(argv[optind]);
	if (!cmd) {
		unknown_command(argv[optind]);
		return NULL;
	}
	/* ...then the command's own (permuted: options may follow arguments). */
	argc -= optind;
	argv += optind;
	optind = 0;
	build_getopt(longopts, optstring, "-:");
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (c == 1) { /* a positional argument, in order */
			if (add_positional(cmd, a, optarg))
				return NULL;
		} else if (c == ':') {
			cmdline_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
			return NULL;
		} else if (c == '?' || !option_of(c)) {
			unknown_option(cmd, argv[optind - 1]);
			return NULL;
		} else if (apply(option_of(c), optarg, cmd, a, ret)) {
			return NULL;
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		if (add_positional(cmd, a, argv[optind]))
			return NULL;
	if (a->npos < cmd->npos) {
		cmdline_usage_error(cmd, "%s: missing argument%s", cmd->name,
				    cmd->npos - a->npos > 1 ? "s" : "");
		return NULL;
	}
	for (i = 0; i < NOPTS; i++) {
		const struct cmdline_option *o = &cmdline_options[i];
		char name[40], needs[40];

		if ((a->given & o->bit) && o->needs && !(a->given & o->needs)) {
			cmdline_usage_error(
				cmd, "%s goes with %s", opt_display(o, name, sizeof(name)),
				opt_display(option_of_bit(o->needs), needs, sizeof(needs)));
			return NULL;
		}
	}
	return cmd;
}
