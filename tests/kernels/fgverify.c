// fgverify: load every program of a BPF object through the running kernel's
// verifier and print, per program, the instructions it processed.
//
// Usage: fgverify OBJECT.bpf.o
// Output, one line per program, then a summary:
//   prog fg_xdp insns_processed 61416 limit 1000000 pct 6.1 ok
// Exit 0 when every program loaded, 1 otherwise (the verifier log's tail of
// the program that failed is printed, so a CI log says why).
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FGV_LIMIT  1000000 /* BPF_COMPLEXITY_LIMIT_INSNS since 5.2 */
#define FGV_LOG_SZ (16u << 20)

static int fgv_quiet_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The last "processed N insns" line of a verifier log, or -1. */
static long fgv_processed(const char *log)
{
	const char *p = log, *hit = NULL;
	long n = -1;

	while ((p = strstr(p, "processed ")) != NULL) {
		hit = p;
		p++;
	}
	if (hit && sscanf(hit, "processed %ld insns", &n) != 1)
		n = -1;
	return n;
}

static void fgv_tail(const char *log, size_t lines)
{
	size_t len = strlen(log), seen = 0;
	const char *p = log + len;

	while (p > log && seen <= lines)
		if (*--p == '\n')
			seen++;
	fprintf(stderr, "--- verifier log (tail) ---\n%s\n---\n", p);
}

/* Load only program `idx` of the object with its log at `level` into `log`;
 * 0 or -errno. The other programs are not loaded, so each program's verdict is
 * its own (libbpf unloads every program when one fails). */
static int fgv_load_one(const char *path, size_t idx, unsigned level, char *log, const char **name)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	size_t i = 0;
	int err;

	if (!obj)
		return -errno;
	log[0] = '\0';
	bpf_object__for_each_program(prog, obj) {
		bpf_program__set_autoload(prog, i == idx);
		if (i == idx) {
			*name = strdup(bpf_program__name(prog));
			bpf_program__set_log_level(prog, level);
			bpf_program__set_log_buf(prog, log, FGV_LOG_SZ);
		}
		i++;
	}
	err = idx < i ? bpf_object__load(obj) : -ENOENT;
	bpf_object__close(obj);
	return err;
}

static size_t fgv_count(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	size_t n = 0;

	if (!obj)
		return 0;
	bpf_object__for_each_program(prog, obj)
		n++;
	bpf_object__close(obj);
	return n;
}

int main(int argc, char **argv)
{
	char *log = malloc(FGV_LOG_SZ);
	size_t n, i, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	if (!log) {
		fprintf(stderr, "fgverify: out of memory for the verifier log\n");
		return 2;
	}
	libbpf_set_print(fgv_quiet_print);
	n = fgv_count(argv[1]);
	if (!n) {
		fprintf(stderr, "fgverify: %s: cannot open it or it holds no program\n", argv[1]);
		printf("programs 0 loaded 0\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *name = "?";
		long insns;
		/* 4 = BPF_LOG_STATS: only the summary, which says "processed N insns". */
		int err = fgv_load_one(argv[1], i, 4, log, &name);

		insns = fgv_processed(log);
		if (!err) {
			printf("prog %s insns_processed %ld limit %d pct %.1f ok\n", name, insns,
			       FGV_LIMIT, insns < 0 ? 0.0 : 100.0 * insns / FGV_LIMIT);
			continue;
		}
		bad++;
		printf("prog %s insns_processed %ld limit %d pct %.1f FAILED\n", name, insns,
		       FGV_LIMIT, insns < 0 ? 0.0 : 100.0 * insns / FGV_LIMIT);
		/* Again with the whole log, so the rejection can be read. */
		fprintf(stderr, "fgverify: %s: program %s rejected (%s)\n", argv[1], name,
			strerror(-err));
		fgv_load_one(argv[1], i, 1 | 4, log, &name);
		fgv_tail(log, 60);
	}
	printf("programs %zu loaded %zu\n", n, n - bad);
	free(log);
	return bad ? 1 : 0;
}
