// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * bench_xdp: ns per packet of fg_xdp on the paths that matter, side by
 * side with a no-op XDP program on the same frame, through
 * BPF_PROG_TEST_RUN (repeat REPEAT, median of RUNS runs). Also the cost of
 * bpf_ktime_get_ns() and bpf_ktime_get_coarse_ns() per call.
 *
 * Prints a markdown section (machine, commit, table) for docs/performance.md.
 * --smoke: repeat 1000, one run; checks verdicts only (for make test).
 * Run as root; nothing is pinned or attached.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "floodgate.skel.h"
#include "bench/noop.skel.h"
#include "bench/clock_bench.skel.h"
#include "pktbuild.h"
#include "xdpmaps.h"

#ifndef FG_COMMIT
#define FG_COMMIT "unknown"
#endif

#define NS_PER_SEC   1000000000ULL
#define MAX_RUNS     9
#define CLOCK_CALLS  10 /* as in clock.bpf.c */
#define DENY_ENTRIES 1000

#define TH_SYN 0x02
#define TH_ACK 0x10

static int repeat = 1000000;
static int runs = 5;

static struct floodgate_bpf *fg;
static struct noop *noop;
static struct clock_bench *clk;
static struct xdpmaps maps;
static struct fg_compiled conf;

struct bench {
	const char *name;
	void (*setup)(void); /* config and maps for this row */
	struct pkt_spec pkt;
	int warm;      /* packets sent first (a UDP flow to know, a burst to spend) */
	__u32 verdict; /* what fg_xdp must answer */
	__u32 reason;  /* and the counter that must move */
};

static struct fg_limit lim(__u32 rate, __u32 burst)
{
	struct fg_limit l = {0};

	if (rate) {
		l.rate = rate;
		l.burst = burst;
		l.interval_ns = NS_PER_SEC / rate;
	}
	return l;
}

/* Every level of both defaults set so high nothing is refused: the new-flow
 * path runs all three buckets and admits. */
static void conf_open(struct fg_compiled *c)
{
	__u32 port, r;

	memset(c, 0, sizeof(*c));
	c->cfg.abi_version = FG_ABI_VERSION;
	c->cfg.ipv4_prefix = 24;
	c->cfg.ipv6_prefix = 64;
	c->cfg.udp_idle_ns = 30 * NS_PER_SEC;
	c->cfg.attack_hold_ns = 2 * NS_PER_SEC;
	c->cfg.event_interval_ns = NS_PER_SEC;
	c->cfg.verified_ttl_ns = 600 * NS_PER_SEC;
	for (r = 0; r < 2; r++) {
		c->rules[r].per_source = lim(1000000000, 1000000000);
		c->rules[r].per_prefix = lim(1000000000, 1000000000);
		c->rules[r].global = lim(1000000000, 1000000000);
	}
	snprintf(c->ids.names[0], FG_CONF_NAME_MAX, "tcp-default");
	snprintf(c->ids.names[1], FG_CONF_NAME_MAX, "udp-default");
	for (port = 0; port < 65536; port++) {
		c->port_rule[FG_PROTO_TCP * 65536 + port] = FG_RULE_DEFAULT_TCP;
		c->port_rule[FG_PROTO_UDP * 65536 + port] = FG_RULE_DEFAULT_UDP;
	}
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_xdp: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void clear(int fd)
{
	char key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		bpf_map_delete_elem(fd, key);
}

/* Fresh state and the open config; rows change what they need after. */
static void reset(void)
{
	int err;

	clear(maps.src_state);
	clear(maps.prefix_state);
	clear(maps.udp_flows);
	clear(maps.verified);
	clear(maps.allow);
	clear(maps.deny);
	clear(maps.bans);
	conf_open(&conf);
	err = xdpmaps_apply(&maps, &conf, NULL);
	if (err)
		die("applying the config", err);
}

static void apply(void)
{
	int err = xdpmaps_apply(&maps, &conf, NULL);

	if (err)
		die("applying the config", err);
}

static void setup_open(void)
{
	reset();
}

/* Per address: 1 flow/s, burst 1; a repeated SYN is the flood. */
static void setup_flood(void)
{
	reset();
	conf.rules[FG_RULE_DEFAULT_TCP].per_source = lim(1, 1);
	apply();
}

static struct fg_cidr cidr(const char *s)
{
	struct fg_cidr c;

	if (cidr_parse(s, &c))
		die(s, EINVAL);
	return c;
}

static void setup_ban(void)
{
	struct fg_cidr c = cidr("198.51.100.66");
	int err;

	reset();
	err = xdpmaps_ban(&maps, &c, 3600, FG_BAN_MANUAL);
	if (err)
		die("ban", err);
}

/* 1,000 deny entries: 256 IPv4 /32s and 744 IPv6 /48s. */
static void fill_deny(void)
{
	char s[64];
	int i, err;

	for (i = 0; i < DENY_ENTRIES; i++) {
		struct fg_cidr c;

		if (i < 256)
			snprintf(s, sizeof(s), "203.0.113.%d", i);
		else
			snprintf(s, sizeof(s), "2001:db8:%x::/48", i);
		c = cidr(s);
		err = xdpmaps_list_add(maps.deny, &c);
		if (err)
			die("deny", err);
	}
	err = xdpmaps_list_flags(&maps);
	if (err)
		die("deny flags", err);
}

static void setup_deny(void)
{
	reset();
	fill_deny();
}

/* udp_idle 0: no flow is ever known, every datagram takes the new-flow
 * path and writes udp_flows. */
static void setup_udp_new(void)
{
	reset();
	conf.cfg.udp_idle_ns = 0;
	apply();
}

static const struct bench benches[] = {
	{"TCP established (ACK)",
	 setup_open,
	 {.src = "192.0.2.1", .tcp_flags = TH_ACK},
	 0,
	 XDP_PASS,
	 FG_R_PASS_ESTABLISHED},
	{"TCP established, 1,000 deny entries",
	 setup_deny,
	 {.src = "192.0.2.1", .tcp_flags = TH_ACK},
	 0,
	 XDP_PASS,
	 FG_R_PASS_ESTABLISHED},
	{"new SYN under limit (3 buckets)",
	 setup_open,
	 {.src = "192.0.2.1", .tcp_flags = TH_SYN},
	 0,
	 XDP_PASS,
	 FG_R_PASS_NEW_FLOW},
	{"SYN over limit (flood drop)",
	 setup_flood,
	 {.src = "192.0.2.1", .tcp_flags = TH_SYN},
	 1,
	 XDP_DROP,
	 FG_R_DROP_SOURCE},
	{"banned source",
	 setup_ban,
	 {.src = "198.51.100.66", .tcp_flags = TH_SYN},
	 0,
	 XDP_DROP,
	 FG_R_DROP_BAN},
	{"denied source, 1,000 deny entries",
	 setup_deny,
	 {.src = "203.0.113.77", .tcp_flags = TH_SYN},
	 0,
	 XDP_DROP,
	 FG_R_DROP_DENY},
	{"UDP known flow",
	 setup_open,
	 {.src = "192.0.2.1", .proto = IPPROTO_UDP, .payload = 100},
	 1,
	 XDP_PASS,
	 FG_R_PASS_UDP_KNOWN},
	{"UDP new flow (3 buckets + flow insert)",
	 setup_udp_new,
	 {.src = "192.0.2.1", .proto = IPPROTO_UDP, .payload = 100},
	 0,
	 XDP_PASS,
	 FG_R_PASS_NEW_FLOW},
	{"IPv6 SYN under limit",
	 setup_open,
	 {.src = "2001:db8::1", .tcp_flags = TH_SYN},
	 0,
	 XDP_PASS,
	 FG_R_PASS_NEW_FLOW},
	{"VLAN SYN under limit",
	 setup_open,
	 {.src = "192.0.2.1", .tcp_flags = TH_SYN, .ntags = 1},
	 0,
	 XDP_PASS,
	 FG_R_PASS_NEW_FLOW},
};

/* One BPF_PROG_TEST_RUN of n repetitions; returns ns per packet. */
static __u32 run_once(int prog_fd, const uint8_t *frame, int len, int n, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = n);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		die("BPF_PROG_TEST_RUN", errno);
	*retval = opts.retval;
	return opts.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median over runs of ns per packet. */
static __u32 measure(int prog_fd, const uint8_t *frame, int len, __u32 *retval)
{
	__u32 d[MAX_RUNS];
	int i;

	for (i = 0; i < runs; i++)
		d[i] = run_once(prog_fd, frame, len, repeat, retval);
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	return d[runs / 2];
}

static void machine(void)
{
	char line[256], model[256] = "unknown";
	struct utsname u;
	time_t t = time(NULL);
	char date[32];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&t));
	printf("- CPU: %s, %ld online CPUs\n", model, sysconf(_SC_NPROCESSORS_ONLN));
	printf("- kernel: %s %s\n", u.sysname, u.release);
	printf("- date: %s, commit %s\n", date, FG_COMMIT);
	printf("- method: BPF_PROG_TEST_RUN, repeat %d, median of %d run%s; ns/packet is the "
	       "kernel's average per repetition\n\n",
	       repeat, runs, runs > 1 ? "s" : "");
}

static int load(void)
{
	struct bpf_map *map;
	int err;

	fg = floodgate_bpf__open();
	if (!fg)
		return -errno;
	bpf_object__for_each_map(map, fg->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = floodgate_bpf__load(fg);
	if (err)
		return err;
	xdpmaps_from_skel(&maps, fg);
	noop = noop__open_and_load();
	if (!noop)
		return -errno;
	clk = clock_bench__open_and_load();
	if (!clk)
		return -errno;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	int fg_fd, noop_fd, i, bad = 0, err;
	bool smoke = false;
	uint8_t frame[PB_MAX_LEN];
	__u32 ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			repeat = 1000;
			runs = 1;
		} else {
			fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
			return 2;
		}
	}
	libbpf_set_print(libbpf_quiet);
	err = load();
	if (err)
		die("loading the programs (run as root)", err);
	fg_fd = bpf_program__fd(fg->progs.fg_xdp);
	noop_fd = bpf_program__fd(noop->progs.xdp_noop);

	if (!smoke)
		machine();
	printf("| path | floodgate ns/pkt | no-op ns/pkt | ratio | verdict |\n");
	printf("|---|---:|---:|---:|---|\n");
	for (i = 0; i < (int)(sizeof(benches) / sizeof(benches[0])); i++) {
		const struct bench *b = &benches[i];
		struct fg_stat before[FG_R_MAX], after[FG_R_MAX];
		int len = pkt_build(&b->pkt, frame);
		__u32 t_fg, t_noop, noop_ret;
		__u64 moved;

		if (len < 0)
			die(b->name, EINVAL);
		b->setup();
		for (int w = 0; w < b->warm; w++)
			run_once(fg_fd, frame, len, 1, &ret);
		/* One packet first: it creates the state the repeats find, and
		 * shows the verdict and counter are the ones this row claims. */
		xdpmaps_stats(&maps, before);
		run_once(fg_fd, frame, len, 1, &ret);
		xdpmaps_stats(&maps, after);
		moved = after[b->reason].packets[b->verdict == XDP_DROP] -
			before[b->reason].packets[b->verdict == XDP_DROP];
		if (ret != b->verdict || moved != 1) {
			fprintf(stderr,
				"bench_xdp: %s: verdict %u reason %s moved %llu; want %u %s\n",
				b->name, ret, xdpmaps_reason_name(b->reason),
				(unsigned long long)moved, b->verdict,
				xdpmaps_reason_name(b->reason));
			bad++;
		}
		t_fg = measure(fg_fd, frame, len, &ret);
		if (ret != b->verdict) {
			fprintf(stderr, "bench_xdp: %s: verdict %u in the repeats, want %u\n",
				b->name, ret, b->verdict);
			bad++;
		}
		t_noop = measure(noop_fd, frame, len, &noop_ret);
		printf("| %s | %u | %u | %.1fx | %s %s |\n", b->name, t_fg, t_noop,
		       t_noop ? (double)t_fg / t_noop : 0.0,
		       b->verdict == XDP_DROP ? "DROP" : "PASS", xdpmaps_reason_name(b->reason));
	}

	{
		uint8_t f[64] = {0};
		__u32 t_noop = measure(noop_fd, f, sizeof(f), &ret);
		__u32 t_kt = measure(bpf_program__fd(clk->progs.xdp_ktime), f, sizeof(f), &ret);
		__u32 t_co = measure(bpf_program__fd(clk->progs.xdp_coarse), f, sizeof(f), &ret);

		printf("\n| clock helper | ns/call |\n|---|---:|\n");
		printf("| bpf_ktime_get_ns() | %.1f |\n",
		       t_kt > t_noop ? (double)(t_kt - t_noop) / CLOCK_CALLS : 0.0);
		printf("| bpf_ktime_get_coarse_ns() | %.1f |\n",
		       t_co > t_noop ? (double)(t_co - t_noop) / CLOCK_CALLS : 0.0);
	}

	clock_bench__destroy(clk);
	noop__destroy(noop);
	floodgate_bpf__destroy(fg);
	if (bad) {
		fprintf(stderr, "bench_xdp: %d path(s) did not take the path they measure\n", bad);
		return 1;
	}
	return 0;
}
