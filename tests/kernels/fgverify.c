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

#define FGV_LIMIT 1000000 /* BPF_COMPLEXITY_LIMIT_INSNS since 5.2 */
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

/* Load the object with every program's log at `level`; 0 or -errno. */
static int fgv_load(const char *path, unsigned level, char **logs, size_t nlogs,
		    struct bpf_object **out)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	size_t i = 0;
	int err;

	if (!obj)
		return -errno;
	bpf_object__for_each_program(prog, obj) {
		if (i >= nlogs)
			break;
		logs[i][0] = '\0';
		bpf_program__set_log_level(prog, level);
		bpf_program__set_log_buf(prog, logs[i], FGV_LOG_SZ);
		i++;
	}
	err = bpf_object__load(obj);
	*out = obj;
	return err;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	char *logs[16];
	size_t n = 0, i;
	int err, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	libbpf_set_print(fgv_quiet_print);
	for (i = 0; i < 16; i++) {
		logs[i] = malloc(FGV_LOG_SZ);
		if (!logs[i]) {
			fprintf(stderr, "fgverify: out of memory for verifier logs\n");
			return 2;
		}
	}
	/* 4 = BPF_LOG_STATS: only the summary, which says "processed N insns". */
	err = fgv_load(argv[1], 4, logs, 16, &obj);
	if (err) {
		/* Reload with the full log so the failure can be read. */
		bpf_object__close(obj);
		obj = NULL;
		fprintf(stderr, "fgverify: %s failed to load (%s); reloading with the full log\n",
			argv[1], strerror(-err));
		err = fgv_load(argv[1], 1 | 4, logs, 16, &obj);
	}
	if (!obj) {
		fprintf(stderr, "fgverify: cannot open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		long insns = n < 16 ? fgv_processed(logs[n]) : -1;
		int ok = bpf_program__fd(prog) >= 0;

		if (ok && insns >= 0)
			printf("prog %s insns_processed %ld limit %d pct %.1f ok\n", bpf_program__name(prog),
			       insns, FGV_LIMIT, 100.0 * insns / FGV_LIMIT);
		else {
			printf("prog %s insns_processed %ld limit %d pct %.1f FAILED\n",
			       bpf_program__name(prog), insns, FGV_LIMIT,
			       insns < 0 ? 0.0 : 100.0 * insns / FGV_LIMIT);
			if (n < 16 && logs[n][0])
				fgv_tail(logs[n], 40);
			bad++;
		}
		n++;
	}
	printf("programs %zu loaded %zu\n", n, n - bad);
	bpf_object__close(obj);
	return bad || err ? 1 : 0;
}
