// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * bench_xdp: ns per packet of fg_xdp on the paths that matter, side by
 * side with a no-op XDP program and with xdp-filter's own BPF object (from
 * Debian's xdp-tools, its maps filled as `xdp-filter ip` would) on the same
 * frame, through BPF_PROG_TEST_RUN (repeat REPEAT, median of RUNS runs).
 * Also the cost of bpf_ktime_get_ns() and bpf_ktime_get_coarse_ns() per
 * call, and (section "scale") the cost and memory of per-source state as
 * tracked sources grow to FG_MAX_SOURCES, what happens when src_state is
 * full, and under attack; (section "bans") the same paths with an empty
 * table and with 1M tracked sources and 100k bans. "paths" ends with the
 * SYN cookie rows, which "cookies" runs alone.
 *
 *   bench_xdp [--smoke] [--csv DIR] [--xdp-filter DIR] [--ban-mix A:P]
 *             [--ban-lengths real|random] [paths] [cookies] [scale] [bans]
 *
 * Prints markdown tables for docs/performance.md; --csv writes the raw
 * numbers (xdp.csv, clock.csv, scale.csv) into DIR. --smoke: tiny counts,
 * one run; checks every verdict (for make test). Run as root; nothing is
 * pinned or attached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
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
#include "bench/victim.skel.h"
#include "pktbuild.h"
#include "rules.h"
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

/* xdp-filter's map value bits (xdp-tools common_kern_user.h): an entry
 * matches on the source address. */
#define XF_FLAG_SRC 0x1

static int repeat = 1000000;
static int runs = 5;
static bool smoke;
static const char *csv_dir;
static const char *xf_dir = "/usr/lib/x86_64-linux-gnu/bpf";

/* xdp-filter objects compared: the feature set `xdp-filter load` picks by
 * default (all: ethernet, IPv4/IPv6, TCP/UDP ports) and the IP-only one. */
static const char *const xf_names[] = { "xdpfilt_alw_all", "xdpfilt_alw_ip" };
#define XF_N 2
static struct bpf_object *xf_obj[XF_N];
static int xf_fd[XF_N] = { -1, -1 };

static struct floodgate_bpf *fg;
static struct noop *noop;
static struct clock_bench *clk;
static struct xdpmaps maps;
static struct fg_compiled conf;

struct bench {
	const char *name;
	void (*setup)(void); /* config and maps for this row */
	struct pkt_spec pkt;
	int warm;	/* packets sent first (a UDP flow to know, a burst to spend) */
	__u32 verdict;	/* what fg_xdp must answer */
	__u32 reason;	/* and the counter that must move */
	const char *id; /* short name in the CSV */
};

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
		c->rules[r].per_source = rules_limit(1000000000, 1000000000);
		c->rules[r].per_prefix = rules_limit(1000000000, 1000000000);
		c->rules[r].global = rules_limit(1000000000, 1000000000);
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
	clear(maps.allow_addr);
	clear(maps.deny_addr);
	/* The settings' list flags true to the emptied lists and ban maps. */
	err = xdpmaps_bans_clear(&maps);
	err = err ?: xdpmaps_sync_list(&maps, XDPMAPS_ALLOW, NULL, 0);
	if (err)
		die("clearing the lists", err);
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
	conf.rules[FG_RULE_DEFAULT_TCP].per_source = rules_limit(1, 1);
	apply();
}

static struct fg_cidr cidr(const char *s)
{
	struct fg_cidr c;

	if (cidr_parse(s, &c))
		die(s, EINVAL);
	return c;
}

/* An address of the IPv4 documentation ranges other than src whose
 * src_state key (default tcp rule) has the tally set of src's. */
static const char *tally_neighbour(const char *src)
{
	static const char *const nets[] = { "192.0.2", "198.51.100", "203.0.113" };
	static char buf[INET_ADDRSTRLEN];
	struct fg_cidr c = cidr(src);
	struct fg_src_key k;
	__u32 slot, n, i;

	cidr_to_src_key(&c, FG_RULE_DEFAULT_TCP, &k);
	slot = fg_drop_tally_slot(fg_seen_bit(&k));
	for (n = 0; n < 3; n++)
		for (i = 1; i < 255; i++) {
			snprintf(buf, sizeof(buf), "%s.%u", nets[n], i);
			c = cidr(buf);
			cidr_to_src_key(&c, FG_RULE_DEFAULT_TCP, &k);
			if (fg_drop_tally_slot(fg_seen_bit(&k)) == slot && strcmp(buf, src))
				return buf;
		}
	die("no address shares the tally set", ENOENT);
	return NULL;
}

static __u32 run_once(int prog_fd, const uint8_t *frame, int len, int n, __u32 *retval);

/* One SYN of src through fg_xdp (for a row's setup). */
static void send_syn(const char *src)
{
	struct pkt_spec spec = { .src = src, .tcp_flags = TH_SYN };
	uint8_t frame[PB_MAX_LEN];
	int len = pkt_build(&spec, frame);
	__u32 ret;

	if (len < 0)
		die(src, EINVAL);
	run_once(bpf_program__fd(fg->progs.fg_xdp), frame, len, 1, &ret);
}

/* A random-source flood's packet: the rule under attack (its global
 * budget spent by another source) and the row's source over its limit,
 * tracked since before the attack (its first SYN was admitted). */
static void setup_flood_attack(void)
{
	setup_flood();
	conf.rules[FG_RULE_DEFAULT_TCP].global = rules_limit(1, 1);
	apply();
	send_syn("192.0.2.1");
	send_syn("192.0.2.250");
	send_syn("192.0.2.250");
}

/* A spoofed flood's packet: the rule under attack (its global budget spent
 * by another source), the row's source unknown and unverified (no map holds
 * its address or its /24: the state filter says so), dropped by the global
 * budget without state. */
static void setup_attack(void)
{
	reset();
	conf.rules[FG_RULE_DEFAULT_TCP].global = rules_limit(1, 1);
	apply();
	send_syn("192.0.2.250");
	send_syn("192.0.2.250");
}

/* Two sources flood over their limits, and the first holds a way of the
 * drop tally set both keys map to: the row's source is the second. An
 * address with a neighbour in the documentation ranges (192.0.2.1 shares
 * its set today; a change of the filter's hash finds another or says none
 * does). */
#define SHARED_SET_SRC "192.0.2.179"
static void setup_flood_shared_set(void)
{
	const char *first = tally_neighbour(SHARED_SET_SRC);

	setup_flood();
	send_syn(first);
	send_syn(first);
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

/* 1,000 deny entries: 256 IPv4 /32s and 744 IPv6 /48s. xdp-filter gets
 * the same list (exact addresses: it has no prefixes) in every row. */
static void fill_deny(void)
{
	static struct fg_cidr list[DENY_ENTRIES];
	char s[64];
	int i, err;

	for (i = 0; i < DENY_ENTRIES; i++) {
		if (i < 256)
			snprintf(s, sizeof(s), "203.0.113.%d", i);
		else
			snprintf(s, sizeof(s), "2001:db8:%x::/48", i);
		list[i] = cidr(s);
	}
	err = xdpmaps_sync_list(&maps, XDPMAPS_DENY, list, DENY_ENTRIES);
	if (err)
		die("deny", err);
}

static void setup_deny(void)
{
	reset();
	fill_deny();
}

/* udp_idle 0: no flow is ever known, every datagram takes the new-flow
 * path as a flow back after its idle time (its entry is in udp_flows and
 * is stamped; a flow never seen is inserted, ~65 ns more here). */
static void setup_udp_new(void)
{
	reset();
	conf.cfg.udp_idle_ns = 0;
	apply();
}

/* Fill one xdp-filter object's filter_ipv4 / filter_ipv6 maps (per-CPU
 * hashes of address -> flags) with the deny list of the rows above plus the
 * banned address, as `xdp-filter ip ADDR --mode src` does. A foreign object
 * has no skeleton: its maps are found by the names xdp-filter gives them. */
static int xf_fill(struct bpf_object *obj)
{
	int ncpu = libbpf_num_possible_cpus(), fd4, fd6, i, err;
	struct bpf_map *m4 = bpf_object__find_map_by_name(obj, "filter_ipv4");
	struct bpf_map *m6 = bpf_object__find_map_by_name(obj, "filter_ipv6");
	__u64 *val;

	if (!m4 || !m6 || ncpu <= 0)
		return -ENOENT;
	fd4 = bpf_map__fd(m4);
	fd6 = bpf_map__fd(m6);
	val = calloc((size_t)ncpu, sizeof(*val));
	if (!val)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		val[i] = XF_FLAG_SRC;
	err = 0;
	for (i = 0; i < DENY_ENTRIES + 1 && !err; i++) {
		char s[64];
		unsigned char a[16];

		if (i == DENY_ENTRIES)
			snprintf(s, sizeof(s), "198.51.100.66");
		else if (i < 256)
			snprintf(s, sizeof(s), "203.0.113.%d", i);
		else
			snprintf(s, sizeof(s), "2001:db8:%x::1", i);
		if (inet_pton(AF_INET, s, a) == 1)
			err = bpf_map_update_elem(fd4, a, val, BPF_ANY) ? -errno : 0;
		else if (inet_pton(AF_INET6, s, a) == 1)
			err = bpf_map_update_elem(fd6, a, val, BPF_ANY) ? -errno : 0;
	}
	free(val);
	return err;
}

/* Load the xdp-filter objects found in xf_dir; a missing one is reported
 * and its column shows n/a. */
static void xf_load(void)
{
	int i;

	for (i = 0; i < XF_N; i++) {
		char path[512];
		struct bpf_program *prog;
		struct bpf_map *map;

		snprintf(path, sizeof(path), "%s/%s.o", xf_dir, xf_names[i]);
		if (access(path, R_OK)) {
			fprintf(stderr, "bench_xdp: %s: %s (install xdp-tools)\n", path,
				strerror(errno));
			continue;
		}
		xf_obj[i] = bpf_object__open_file(path, NULL);
		if (!xf_obj[i]) {
			fprintf(stderr, "bench_xdp: opening %s failed\n", path);
			continue;
		}
		/* Its maps pin by name under /sys/fs/bpf: not here. */
		bpf_object__for_each_map(map, xf_obj[i]) bpf_map__set_pin_path(map, NULL);
		prog = bpf_object__next_program(xf_obj[i], NULL);
		if (!prog || bpf_object__load(xf_obj[i]) || xf_fill(xf_obj[i])) {
			fprintf(stderr, "bench_xdp: loading or filling %s failed\n", path);
			bpf_object__close(xf_obj[i]);
			xf_obj[i] = NULL;
			continue;
		}
		xf_fd[i] = bpf_program__fd(prog);
	}
}

static const struct bench benches[] = {
	{ "TCP established (ACK)",
	  setup_open,
	  { .src = "192.0.2.1", .tcp_flags = TH_ACK },
	  0,
	  XDP_PASS,
	  FG_R_PASS_ESTABLISHED,
	  "est" },
	{ "TCP established, 1,000 deny entries",
	  setup_deny,
	  { .src = "192.0.2.1", .tcp_flags = TH_ACK },
	  0,
	  XDP_PASS,
	  FG_R_PASS_ESTABLISHED,
	  "est_deny1k" },
	{ "new SYN under limit (3 buckets)",
	  setup_open,
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN },
	  0,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW,
	  "syn_new" },
	{ "SYN over limit (flood drop)",
	  setup_flood,
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN },
	  1,
	  XDP_DROP,
	  FG_R_DROP_SOURCE,
	  "syn_over" },
	{ "SYN over limit, rule under attack (a spoofed flood's tracked source)",
	  setup_flood_attack,
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN },
	  0,
	  XDP_DROP,
	  FG_R_DROP_SOURCE,
	  "syn_over_attack" },
	{ "unverified source under attack (global budget drop)",
	  setup_attack,
	  { .src = "198.51.100.9", .tcp_flags = TH_SYN },
	  0,
	  XDP_DROP,
	  FG_R_DROP_GLOBAL,
	  "syn_unverified_attack" },
	{ "SYN over limit, a second flooding source in the same tally set",
	  setup_flood_shared_set,
	  { .src = SHARED_SET_SRC, .tcp_flags = TH_SYN },
	  1,
	  XDP_DROP,
	  FG_R_DROP_SOURCE,
	  "syn_over_shared" },
	{ "banned source",
	  setup_ban,
	  { .src = "198.51.100.66", .tcp_flags = TH_SYN },
	  0,
	  XDP_DROP,
	  FG_R_DROP_BAN,
	  "banned" },
	{ "denied source, 1,000 deny entries",
	  setup_deny,
	  { .src = "203.0.113.77", .tcp_flags = TH_SYN },
	  0,
	  XDP_DROP,
	  FG_R_DROP_DENY,
	  "denied_deny1k" },
	{ "UDP known flow",
	  setup_open,
	  { .src = "192.0.2.1", .proto = IPPROTO_UDP, .payload = 100 },
	  1,
	  XDP_PASS,
	  FG_R_PASS_UDP_KNOWN,
	  "udp_known" },
	{ "UDP new flow (3 buckets; a flow back after udp_idle)",
	  setup_udp_new,
	  { .src = "192.0.2.1", .proto = IPPROTO_UDP, .payload = 100 },
	  0,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW,
	  "udp_new" },
	{ "IPv6 SYN under limit",
	  setup_open,
	  { .src = "2001:db8::1", .tcp_flags = TH_SYN },
	  0,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW,
	  "ipv6_syn" },
	{ "VLAN SYN under limit",
	  setup_open,
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN, .ntags = 1 },
	  0,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW,
	  "vlan_syn" },
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

static FILE *csv_open(const char *name, const char *header)
{
	char path[512];
	FILE *f;

	if (!csv_dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", csv_dir, name);
	f = fopen(path, "w");
	if (!f)
		die(path, errno);
	fprintf(f, "%s\n", header);
	return f;
}

/* One instance of floodgate's object, its maps not pinned. */
static int fg_load(struct floodgate_bpf **out)
{
	struct floodgate_bpf *o = floodgate_bpf__open();
	struct bpf_map *map;
	int err;

	if (!o)
		return -errno;
	*out = o;
	bpf_object__for_each_map(map, o->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	return floodgate_bpf__load(o);
}

static int load(void)
{
	int err = fg_load(&fg);

	if (err)
		return err;
	xdpmaps_from_skel(&maps, fg);
	noop = noop__open_and_load();
	if (!noop)
		return -errno;
	clk = clock_bench__open_and_load();
	if (!clk)
		return -errno;
	xf_load();
	return 0;
}

static void ratio(char *buf, size_t n, __u32 a, __u32 b)
{
	if (b)
		snprintf(buf, n, "%.1fx", (double)a / b);
	else
		snprintf(buf, n, "n/a");
}

/* Section 1: every path, floodgate vs no-op vs xdp-filter. Returns the
 * number of rows that did not take the path they name. */
static int bench_paths(void)
{
	int fg_fd = bpf_program__fd(fg->progs.fg_xdp);
	int noop_fd = bpf_program__fd(noop->progs.xdp_noop);
	FILE *csv = csv_open("xdp.csv", "path,floodgate_ns,noop_ns,xdpfilt_all_ns,xdpfilt_ip_ns,"
					"fg_verdict,xdpfilt_verdict,reason");
	uint8_t frame[PB_MAX_LEN];
	int i, x, bad = 0;
	__u32 ret;

	printf("- method: BPF_PROG_TEST_RUN, repeat %d, median of %d run%s; ns/packet is the "
	       "kernel's average per repetition\n\n",
	       repeat, runs, runs > 1 ? "s" : "");
	printf("| path | floodgate ns | no-op ns | xdp-filter (all) ns | xdp-filter (ip) ns | "
	       "vs no-op | vs xdp-filter (all) | verdict |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < (int)(sizeof(benches) / sizeof(benches[0])); i++) {
		const struct bench *b = &benches[i];
		struct fg_stat before[FG_R_MAX], after[FG_R_MAX];
		int len = pkt_build(&b->pkt, frame);
		__u32 t_fg, t_noop, t_xf[XF_N] = { 0 }, xf_ret = 0, noop_ret;
		char r1[16], r2[16], xs[XF_N][16];
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
		for (x = 0; x < XF_N; x++) {
			snprintf(xs[x], sizeof(xs[x]), "n/a");
			if (xf_fd[x] < 0)
				continue;
			t_xf[x] = measure(xf_fd[x], frame, len, &xf_ret);
			snprintf(xs[x], sizeof(xs[x]), "%u", t_xf[x]);
			/* xdp-filter drops what its list names and passes the rest,
			 * as floodgate does on the ban and deny rows. */
			if ((xf_ret == XDP_DROP) !=
			    (b->reason == FG_R_DROP_BAN || b->reason == FG_R_DROP_DENY)) {
				fprintf(stderr, "bench_xdp: %s: xdp-filter %s verdict %u\n",
					b->name, xf_names[x], xf_ret);
				bad++;
			}
		}
		ratio(r1, sizeof(r1), t_fg, t_noop);
		ratio(r2, sizeof(r2), t_fg, t_xf[0]);
		printf("| %s | %u | %u | %s | %s | %s | %s | %s %s |\n", b->name, t_fg, t_noop,
		       xs[0], xs[1], r1, r2, b->verdict == XDP_DROP ? "DROP" : "PASS",
		       xdpmaps_reason_name(b->reason));
		if (csv)
			fprintf(csv, "%s,%u,%u,%s,%s,%s,%s,%s\n", b->id, t_fg, t_noop, xs[0], xs[1],
				b->verdict == XDP_DROP ? "DROP" : "PASS",
				xf_ret == XDP_DROP ? "DROP" : "PASS",
				xdpmaps_reason_name(b->reason));
	}

	{
		uint8_t f[64] = { 0 };
		__u32 t_noop = measure(noop_fd, f, sizeof(f), &ret);
		__u32 t_kt = measure(bpf_program__fd(clk->progs.xdp_ktime), f, sizeof(f), &ret);
		__u32 t_co = measure(bpf_program__fd(clk->progs.xdp_coarse), f, sizeof(f), &ret);
		double kt = t_kt > t_noop ? (double)(t_kt - t_noop) / CLOCK_CALLS : 0.0;
		double co = t_co > t_noop ? (double)(t_co - t_noop) / CLOCK_CALLS : 0.0;
		FILE *c = csv_open("clock.csv", "helper,ns_per_call");

		printf("\n| clock helper | ns/call |\n|---|---:|\n");
		printf("| bpf_ktime_get_ns() | %.1f |\n", kt);
		printf("| bpf_ktime_get_coarse_ns() | %.1f |\n", co);
		if (c) {
			fprintf(c, "bpf_ktime_get_ns,%.1f\nbpf_ktime_get_coarse_ns,%.1f\n", kt, co);
			fclose(c);
		}
	}
	if (csv)
		fclose(csv);
	return bad;
}

/* --- a flood from one source on two CPUs at once ---------------------------- */

struct cpu_job {
	int cpu, fd, len;
	const uint8_t *frame;
	pthread_barrier_t *go;
	__u32 ns, ret;
};

static void *cpu_job_run(void *arg)
{
	struct cpu_job *j = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
	pthread_barrier_wait(j->go);
	j->ns = run_once(j->fd, j->frame, j->len, repeat, &j->ret);
	return NULL;
}

/* ns per packet per CPU with CPUs 0 and 1 running the frame at once: the
 * mean of the two, median over runs; *retval the verdict of CPU 0's run. */
static __u32 measure_two_cpus(int fd, const uint8_t *frame, int len, __u32 *retval)
{
	__u32 d[MAX_RUNS];
	int i, c;

	for (i = 0; i < runs; i++) {
		struct cpu_job jobs[2];
		pthread_barrier_t go;
		pthread_t th[2];

		pthread_barrier_init(&go, NULL, 2);
		for (c = 0; c < 2; c++) {
			jobs[c] = (struct cpu_job){
				.cpu = c, .fd = fd, .len = len, .frame = frame, .go = &go
			};
			pthread_create(&th[c], NULL, cpu_job_run, &jobs[c]);
		}
		for (c = 0; c < 2; c++)
			pthread_join(th[c], NULL);
		pthread_barrier_destroy(&go);
		d[i] = (jobs[0].ns + jobs[1].ns) / 2;
		*retval = jobs[0].ret;
	}
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	return d[runs / 2];
}

/*
 * A single-source SYN flood far over its limit, on one CPU and on two at
 * once (a NIC spreads one source's flows over its queues by port), for
 * floodgate and the minimal LRU limiter of bench/victim.bpf.c (same limit:
 * 1/s, burst 1). A refused packet that writes a line every CPU shares pays
 * for the line's trips between them. Returns rows with a wrong verdict.
 */
static int bench_two_cpus(void)
{
	struct pkt_spec syn = { .src = "192.0.2.1", .tcp_flags = TH_SYN };
	struct victim *lru = victim__open();
	uint8_t frame[PB_MAX_LEN];
	int len = pkt_build(&syn, frame), fds[2], i, bad = 0;
	const char *names[2] = { "floodgate", "LRU limiter" };
	FILE *csv = csv_open("xdp_two_cpus.csv", "program,one_cpu_ns,two_cpus_ns");
	__u32 one[2], two[2], ret;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("\n(one CPU: the two-CPU flood rows need two)\n");
		return 0;
	}
	if (!lru || len < 0)
		die("victim__open", errno);
	lru->rodata->cfg_interval_ns = NS_PER_SEC;
	lru->rodata->cfg_tolerance_ns = NS_PER_SEC;
	bpf_map__set_max_entries(lru->maps.lru_src, 1024);
	if (victim__load(lru))
		die("victim__load", errno);
	setup_flood();
	fds[0] = bpf_program__fd(fg->progs.fg_xdp);
	fds[1] = bpf_program__fd(lru->progs.xdp_lru_limit);
	for (i = 0; i < 2; i++) {
		run_once(fds[i], frame, len, 1, &ret); /* the source's state */
		run_once(fds[i], frame, len, 1, &ret); /* its first refusal */
		one[i] = measure(fds[i], frame, len, &ret);
		bad += ret != XDP_DROP;
		two[i] = measure_two_cpus(fds[i], frame, len, &ret);
		bad += ret != XDP_DROP;
	}
	if (bad)
		fprintf(stderr, "bench_xdp: two CPUs: a flood packet was not dropped\n");
	printf("\nA single-source SYN flood over its limit (1/s, burst 1) on one CPU and on "
	       "two at once (CPUs 0 and 1, repeat %d each, ns per packet per CPU, median of %d "
	       "runs):\n\n",
	       repeat, runs);
	printf("| program | one CPU ns | two CPUs ns | two / one |\n|---|---:|---:|---:|\n");
	for (i = 0; i < 2; i++) {
		printf("| %s | %u | %u | %.2fx |\n", names[i], one[i], two[i],
		       one[i] ? (double)two[i] / one[i] : 0.0);
		if (csv)
			fprintf(csv, "%s,%u,%u\n", i ? "lru_limit" : "floodgate", one[i], two[i]);
	}
	if (csv)
		fclose(csv);
	victim__destroy(lru);
	return bad;
}

/* --- section 3: scale ------------------------------------------------------ */

/* Source i of the scale run: 2001:db8:<i/4>::<i+1>, four addresses per
 * /64, so 1M sources fill src_state and a quarter of that fills prefix_state
 * (FG_MAX_PREFIXES is 262,144). Only the address bytes of frame change. */
#define SRC6_OFF (14 + 8) /* Ethernet + IPv6 header up to the source */
static void set_src(uint8_t *frame, __u32 i)
{
	__u32 hi = htonl(i / 4), lo = htonl(i + 1);

	memcpy(frame + SRC6_OFF + 4, &hi, 4);
	memset(frame + SRC6_OFF + 8, 0, 4);
	memcpy(frame + SRC6_OFF + 12, &lo, 4);
}

/* Kernel memory of a map, from its fdinfo (what the map charges). */
static long long map_memlock(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static __u32 median_u32(__u32 *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u32);
	return n ? v[n / 2] : 0;
}

static __u32 rnd(void)
{
	static __u64 x = 88172645463325252ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (__u32)x;
}

/* n single runs (repeat 1), each from a source of idx(i) (idx NULL: the
 * frame as it is): median ns. A single run is one packet in a cold-ish cache
 * (the syscall runs between packets), the case of a flood from many sources;
 * and the only way to time a path that rewrites the frame (SYN cookies). */
static __u32 single_runs(int fd, uint8_t *frame, int len, int n, __u32 (*idx)(int, void *),
			 void *arg, __u32 want, int *bad)
{
	__u32 *d = calloc((size_t)n, sizeof(*d)), ret, m;
	int i;

	if (!d)
		die("calloc", ENOMEM);
	for (i = 0; i < n; i++) {
		if (idx)
			set_src(frame, idx(i, arg));
		d[i] = run_once(fd, frame, len, 1, &ret);
		if (ret != want && bad) {
			(*bad)++;
			want = ret; /* report once */
		}
	}
	m = median_u32(d, n);
	free(d);
	return m;
}

struct idx_arg {
	__u32 base, range;
};
static __u32 idx_seq(int i, void *a)
{
	return ((struct idx_arg *)a)->base + (__u32)i;
}
static __u32 idx_rand(int i, void *a)
{
	(void)i;
	return ((struct idx_arg *)a)->base + rnd() % ((struct idx_arg *)a)->range;
}

static bool tracked(__u32 i)
{
	struct fg_src_state st;
	struct fg_cidr c;
	char s[64];

	snprintf(s, sizeof(s), "2001:db8:%x:%x::%x:%x", (i / 4) >> 16, (i / 4) & 0xffff,
		 (i + 1) >> 16, (i + 1) & 0xffff);
	c = cidr(s);
	return xdpmaps_source(&maps, &c, FG_RULE_DEFAULT_TCP, &st) == 0;
}

/* Fill src_state through the program itself (one SYN per new source, as a
 * flood from many sources would), measuring at each level: the insert of a
 * new source, a SYN from a tracked one, the no-op floor; then what a full
 * map and an attack do. Returns the number of wrong verdicts. */
static int bench_scale(void)
{
	static const __u32 full_levels[] = { 1000, 100000, FG_MAX_SOURCES };
	static const __u32 smoke_levels[] = { 1000, 10000 };
	const __u32 *levels = smoke ? smoke_levels : full_levels;
	int nlev = smoke ? 2 : 3, k = smoke ? 500 : 20000, fg_fd, noop_fd, len, l, bad = 0;
	struct pkt_spec spec = { .src = "2001:db8::1", .tcp_flags = TH_SYN };
	FILE *csv = csv_open("scale.csv", "case,sources,entries,fg_ns,noop_ns");
	uint8_t frame[PB_MAX_LEN];
	__u32 filled = 0;
	long long mem_src, mem_pfx, mem_all = 0;
	struct bpf_map *map;

	fg_fd = bpf_program__fd(fg->progs.fg_xdp);
	noop_fd = bpf_program__fd(noop->progs.xdp_noop);
	len = pkt_build(&spec, frame);
	if (len < 0)
		die("scale frame", EINVAL);
	reset();

	mem_src = map_memlock(maps.src_state);
	mem_pfx = map_memlock(maps.prefix_state);
	bpf_object__for_each_map(map, fg->obj) mem_all += map_memlock(bpf_map__fd(map));

	printf("- method: IPv6 SYNs through BPF_PROG_TEST_RUN, one packet per run (repeat 1, "
	       "so every packet meets a cold-ish cache, as in a many-source flood); median "
	       "of %d packets per cell; sources 2001:db8:<i/4>::<i+1> (4 per /64)\n\n",
	       k);
	printf("| tracked sources | src_state entries | SYN from a new source (insert) ns | "
	       "SYN from a tracked source ns | no-op ns (1 packet) |\n");
	printf("|---:|---:|---:|---:|---:|\n");
	for (l = 0; l < nlev; l++) {
		__u32 target = levels[l], n_ins, t_ins, t_trk, t_noop;
		struct idx_arg seq, rr = { 0, target };
		long entries;

		/* Up to target - n_ins unmeasured, then n_ins measured inserts. */
		n_ins = (__u32)k < target - filled ? (__u32)k : target - filled;
		for (; filled < target - n_ins; filled++) {
			__u32 ret;

			set_src(frame, filled);
			run_once(fg_fd, frame, len, 1, &ret);
		}
		seq.base = filled;
		t_ins = single_runs(fg_fd, frame, len, (int)n_ins, idx_seq, &seq, XDP_PASS, &bad);
		filled = target;
		t_trk = single_runs(fg_fd, frame, len, k, idx_rand, &rr, XDP_PASS, &bad);
		t_noop = single_runs(noop_fd, frame, len, k, idx_rand, &rr, XDP_PASS, NULL);
		entries = xdpmaps_count(maps.src_state, sizeof(struct fg_src_key));
		printf("| %u | %ld | %u | %u | %u |\n", target, entries, t_ins, t_trk, t_noop);
		if (csv) {
			fprintf(csv, "insert,%u,%ld,%u,%u\n", target, entries, t_ins, t_noop);
			fprintf(csv, "tracked,%u,%ld,%u,%u\n", target, entries, t_trk, t_noop);
		}
	}

	printf("\n| when src_state is ... | new sources sent | src_state entries after | "
	       "new sources that got state | ns per SYN | verdict |\n");
	printf("|---|---:|---:|---:|---:|---|\n");
	if (filled >= FG_MAX_SOURCES) {
		/* Full: LRU eviction makes room, one entry per new source. */
		struct idx_arg seq = { filled, 0 };
		__u32 t, got = 0;
		long entries;
		int i;

		t = single_runs(fg_fd, frame, len, k, idx_seq, &seq, XDP_PASS, &bad);
		entries = xdpmaps_count(maps.src_state, sizeof(struct fg_src_key));
		for (i = 0; i < 100; i++)
			got += tracked(filled + (__u32)(rnd() % (__u32)k));
		printf("| full (%u), in peace | %d | %ld | %u%% | %u | PASS new_flow (LRU "
		       "evicts) |\n",
		       FG_MAX_SOURCES, k, entries, got, t);
		if (csv)
			fprintf(csv, "full_peace,%u,%ld,%u,\n", filled + (__u32)k, entries, t);
		filled += (__u32)k;
	}
	{
		/* Under attack: the global budget is spent, unverified sources
		 * get no state; their SYNs are dropped by the budget. */
		struct fg_stat before[FG_R_MAX], after[FG_R_MAX];
		struct idx_arg seq = { filled + 1000000, 0 };
		long e0, e1;
		__u32 t, got = 0, ret;
		uint64_t skipped0[FG_M_MAX], skipped1[FG_M_MAX];
		int i;

		conf.rules[FG_RULE_DEFAULT_TCP].global = rules_limit(1, 1);
		apply();
		set_src(frame, filled + 999999);
		run_once(fg_fd, frame, len, 1, &ret);
		run_once(fg_fd, frame, len, 1, &ret);
		e0 = xdpmaps_count(maps.src_state, sizeof(struct fg_src_key));
		xdpmaps_stats(&maps, before);
		xdpmaps_misc(&maps, skipped0);
		t = single_runs(fg_fd, frame, len, k, idx_seq, &seq, XDP_DROP, &bad);
		xdpmaps_stats(&maps, after);
		xdpmaps_misc(&maps, skipped1);
		e1 = xdpmaps_count(maps.src_state, sizeof(struct fg_src_key));
		for (i = 0; i < 100; i++)
			got += tracked(seq.base + (__u32)(rnd() % (__u32)k));
		if (after[FG_R_DROP_GLOBAL].packets[1] - before[FG_R_DROP_GLOBAL].packets[1] !=
		    (__u64)k)
			bad++;
		printf("| %s, under attack (global budget spent) | %d | %ld (was %ld) | %u%% | %u "
		       "| DROP global (%llu state refusals, address + prefix) |\n",
		       filled >= FG_MAX_SOURCES ? "full" : "filled", k, e1, e0, got, t,
		       (unsigned long long)(skipped1[FG_M_STATE_SKIPPED] -
					    skipped0[FG_M_STATE_SKIPPED]));
		if (csv)
			fprintf(csv, "attack,%u,%ld,%u,\n", filled, e1, t);
	}

	printf("\nMemory: src_state %lld bytes for %u entries (%lld bytes per tracked source), "
	       "prefix_state %lld bytes for %u (%lld per prefix), all maps %lld bytes (%.0f MiB). "
	       "The LRU hashes are preallocated: this memory is taken at load, whatever the "
	       "number of sources.\n",
	       mem_src, FG_MAX_SOURCES, mem_src / FG_MAX_SOURCES, mem_pfx, FG_MAX_PREFIXES,
	       mem_pfx / FG_MAX_PREFIXES, mem_all, (double)mem_all / (1 << 20));
	if (csv) {
		FILE *m = csv_open("memory.csv", "map,bytes,max_entries");

		bpf_object__for_each_map(map, fg->obj)
			fprintf(m, "%s,%lld,%u\n", bpf_map__name(map),
				map_memlock(bpf_map__fd(map)), bpf_map__max_entries(map));
		fclose(m);
		fclose(csv);
	}
	return bad;
}

/* --- SYN cookies ------------------------------------------------------------ */

static __u32 sum16(const uint8_t *p, int len, __u32 s)
{
	int i;

	for (i = 0; i + 1 < len; i += 2)
		s += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (__u32)(p[len - 1] << 8);
	return s;
}

static __u16 fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Fill in the IPv4 header and TCP checksums of pkt_build's untagged frame
 * (it leaves them 0): the cookie path answers only SYNs whose checksum is
 * right, as the kernel would. */
static void tcp_checksums(uint8_t *f, int len)
{
	bool v6 = f[12] == 0x86;
	uint8_t *ip = f + 14, *th = ip + (v6 ? 40 : 20);
	int tlen = len - (int)(th - f);
	__u32 s;
	__u16 c;

	if (!v6) {
		c = fold(sum16(ip, 20, 0));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		s = sum16(ip + 12, 8, 0);
	} else {
		s = sum16(ip + 8, 32, 0);
	}
	s += IPPROTO_TCP + (__u32)tlen;
	c = fold(sum16(th, tlen, s));
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
}

/* The rule under attack (global budget 1/s, spent) with syn_cookies: auto
 * and the settings on, as floodgated sets them while cookies are needed. */
static void setup_cookies(bool on)
{
	struct fg_rule *r = &conf.rules[FG_RULE_DEFAULT_TCP];
	__u32 zero = 0;
	__u64 tat = 0;

	reset();
	r->global = rules_limit(1, 1);
	if (on) {
		r->flags |= FG_RULE_F_COOKIE_AUTO;
		conf.cfg.flags |= FG_CFG_F_COOKIES;
		conf.cfg.cookie_mss4 = 1460;
		conf.cfg.cookie_mss6 = 1440;
		conf.cfg.cookie_wscale = 7;
		conf.cfg.cookie_cap = rules_limit(1000000000, 1000000000);
	}
	apply();
	bpf_map_update_elem(bpf_map__fd(fg->maps.cookie_cap), &zero, &tat, BPF_ANY);
}

/*
 * A SYN from an unverified source while its rule is under attack, answered
 * with a SYN cookie (XDP_TX), against the no-op program and against the
 * same SYN dropped by the global budget with cookies off; one packet per
 * run. Two kinds of source: one the tables have no state for (a spoofed
 * flood's SYN: no level is charged, the budget refuses on the coarse
 * clock), and one they track (a client seen before the attack: its levels
 * take a token on the precise clock). The cookie helpers need a listener
 * where BPF_PROG_TEST_RUN runs (its namespace's loopback) and
 * tcp_syncookies=2 there: this runs in a network namespace of its own and
 * comes back. Returns the number of wrong verdicts.
 */
static int bench_cookies(void)
{
	static const struct {
		const char *name, *id, *src;
		bool on, tracked;
		__u32 verdict, reason;
	} rows[] = {
		{ "IPv4 SYN, under attack: cookie SYN-ACK", "cookie_syn4", "203.0.113.9", true,
		  false, XDP_TX, FG_R_TX_SYN_COOKIE },
		{ "IPv6 SYN, under attack: cookie SYN-ACK", "cookie_syn6", "2001:db8:77::5", true,
		  false, XDP_TX, FG_R_TX_SYN_COOKIE },
		{ "IPv4 SYN, under attack, syn_cookies off: drop", "attack_drop4", "203.0.113.9",
		  false, false, XDP_DROP, FG_R_DROP_GLOBAL },
		{ "IPv4 SYN of a tracked source, under attack: cookie SYN-ACK",
		  "cookie_syn4_tracked", "203.0.113.9", true, true, XDP_TX, FG_R_TX_SYN_COOKIE },
		{ "IPv6 SYN of a tracked source, under attack: cookie SYN-ACK",
		  "cookie_syn6_tracked", "2001:db8:77::5", true, true, XDP_TX, FG_R_TX_SYN_COOKIE },
	};
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), lsn = -1, off = 0, sc;
	int n = smoke ? 200 : 20000, bad = 0, fg_fd = bpf_program__fd(fg->progs.fg_xdp);
	int noop_fd = bpf_program__fd(noop->progs.xdp_noop);
	FILE *csv = csv_open("xdp_cookies.csv", "path,floodgate_ns,noop_ns");
	uint8_t frame[PB_MAX_LEN];
	size_t i;

	if (home < 0 || unshare(CLONE_NEWNET))
		die("a network namespace for the listener", errno);
	sc = open("/proc/sys/net/ipv4/tcp_syncookies", O_WRONLY | O_CLOEXEC);
	if (sc < 0 || write(sc, "2\n", 2) != 2)
		die("tcp_syncookies=2 in the bench's namespace", errno);
	close(sc);
	lsn = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsn < 0 || setsockopt(lsn, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(lsn, (struct sockaddr *)&a, sizeof(a)) || listen(lsn, 16))
		die("a listener on port 443", errno);

	printf("\nSYN cookies: one packet per BPF_PROG_TEST_RUN (the program rewrites the SYN "
	       "into its SYN-ACK), median of %d runs, harness included; a listener on the port "
	       "and tcp_syncookies=2 in the bench's own namespace\n\n",
	       n);
	printf("| path | floodgate ns | no-op ns | vs no-op | verdict "
	       "|\n|---|---:|---:|---:|---|\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pkt_spec spec = { .src = rows[i].src, .tcp_flags = TH_SYN };
		struct fg_stat before[FG_R_MAX], after[FG_R_MAX];
		int len = pkt_build(&spec, frame), k;
		__u32 ret, t_fg, t_noop;
		char r[16];

		if (len < 0)
			die(rows[i].name, EINVAL);
		tcp_checksums(frame, len);
		setup_cookies(rows[i].on);
		/* Spend the global budget (under attack from then on): with the
		 * row's source, which the first SYN gives state, or with another. */
		if (!rows[i].tracked) {
			struct pkt_spec other = spec;
			uint8_t warm[PB_MAX_LEN];
			int wlen;

			other.src = strchr(spec.src, ':') ? "2001:db8:99::5eed" : "198.51.100.250";
			wlen = pkt_build(&other, warm);
			if (wlen < 0)
				die(rows[i].name, EINVAL);
			tcp_checksums(warm, wlen);
			for (k = 0; k < 3; k++)
				run_once(fg_fd, warm, wlen, 1, &ret);
		} else {
			for (k = 0; k < 3; k++)
				run_once(fg_fd, frame, len, 1, &ret);
		}
		xdpmaps_stats(&maps, before);
		run_once(fg_fd, frame, len, 1, &ret);
		xdpmaps_stats(&maps, after);
		if (ret != rows[i].verdict ||
		    after[rows[i].reason].packets[rows[i].verdict == XDP_DROP] ==
			    before[rows[i].reason].packets[rows[i].verdict == XDP_DROP]) {
			__u32 got = FG_R_MAX;

			for (k = 0; k < FG_R_MAX; k++)
				if (after[k].packets[0] + after[k].packets[1] !=
				    before[k].packets[0] + before[k].packets[1])
					got = (__u32)k;
			fprintf(stderr, "bench_xdp: %s: verdict %u %s, want %u %s\n", rows[i].name,
				ret, got < FG_R_MAX ? xdpmaps_reason_name(got) : "?",
				rows[i].verdict, xdpmaps_reason_name(rows[i].reason));
			bad++;
		}
		t_fg = single_runs(fg_fd, frame, len, n, NULL, NULL, rows[i].verdict, &bad);
		t_noop = single_runs(noop_fd, frame, len, n, NULL, NULL, XDP_PASS, &bad);
		ratio(r, sizeof(r), t_fg, t_noop);
		printf("| %s | %u | %u | %s | %s %s |\n", rows[i].name, t_fg, t_noop, r,
		       rows[i].verdict == XDP_TX ? "TX" : "DROP",
		       xdpmaps_reason_name(rows[i].reason));
		if (csv)
			fprintf(csv, "%s,%u,%u\n", rows[i].id, t_fg, t_noop);
	}
	if (csv)
		fclose(csv);
	close(lsn);
	if (setns(home, CLONE_NEWNET))
		die("back to the bench's namespace", errno);
	close(home);
	reset();
	return bad;
}

/* --- section "bans": cost flat with scale ----------------------------------- */

/*
 * The same rows on two instances of the program, measured in turns: one with
 * an empty table (only the ban the row needs), one with 1M tracked sources
 * and 100k bans (50k addresses, 50k prefixes of mixed lengths, IPv4 and
 * IPv6, spread over the address space). The ratio loaded / empty is the
 * cost of scale.
 */
#define SCALE_SOURCES 1000000
/* --ban-mix ADDRS:PREFIXES; addresses half IPv4, half IPv6; prefixes half
 * IPv4, half IPv6, at the lengths --ban-lengths says: "real" (the default):
 * /24 and /16, /64 and /48, the lengths ban lists hold (a network's
 * customers, providers' allocations); "random": IPv4 /8-/31, IPv6 /16-/127,
 * the worst case for anything that costs per distinct length. */
static int scale_ban_addrs = 50000, scale_ban_pfxs = 50000;
static bool scale_ban_random_lengths;

/* The length of the k-th generated prefix. */
static uint8_t ban_plen(int k)
{
	static const uint8_t real4[] = { 24, 16 }, real6[] = { 64, 48 };
	bool v6 = k % 2;

	if (scale_ban_random_lengths)
		return (uint8_t)(v6 ? 16 + rnd() % 112 : 8 + rnd() % 24);
	return v6 ? real6[(k / 2) % 2] : real4[(k / 2) % 2];
}
#define BANNED6_BASE	 2000000 /* set_src() index of the first banned IPv6 address */
#define SCALE_BAN_ROUNDS 7

/* No generated ban may cover or sit inside the bench's own sources. */
static bool overlaps_test_nets(const struct fg_cidr *c)
{
	static const char *const nets[] = { "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
					    "2001:db8::/32" };
	size_t i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		struct fg_cidr n = cidr(nets[i]);

		if (cidr_contains(&n, c) || cidr_contains(c, &n))
			return true;
	}
	return false;
}

/* A random address (IPv6: in 2000::/3) cut to plen bits. */
static struct fg_cidr random_cidr(bool v6, uint8_t plen)
{
	struct fg_cidr c = { .family = v6 ? FG_AF_INET6 : FG_AF_INET, .prefixlen = v6 ? 128 : 32 };
	int i;

	for (i = 0; i < (v6 ? 4 : 1); i++)
		c.addr[i] = rnd();
	if (v6)
		c.addr[0] = htonl((ntohl(c.addr[0]) & 0x1fffffff) | 0x20000000);
	cidr_mask(&c, plen);
	return c;
}

/* The address set_src(frame, i) writes into the scale frame. */
static struct fg_cidr src_cidr(__u32 i)
{
	struct fg_cidr c = { .family = FG_AF_INET6, .prefixlen = 128 };

	c.addr[0] = htonl(0x20010db8);
	c.addr[1] = htonl(i / 4);
	c.addr[3] = htonl(i + 1);
	return c;
}

static void ban_or_die(struct xdpmaps *m, const struct fg_cidr *c)
{
	int err = xdpmaps_ban(m, c, 3600, FG_BAN_MANUAL);

	if (err)
		die("ban", err);
}

/* nsrc tracked sources (one SYN each through the program, as a flood from
 * many sources makes them: address and prefix state), naddr address bans
 * and npfx prefix bans into the instance in use. */
static void fill_scale(__u32 nsrc, int naddr, int npfx)
{
	struct pkt_spec spec = { .src = "2001:db8::1", .tcp_flags = TH_SYN };
	int fd = bpf_program__fd(fg->progs.fg_xdp), len, k;
	uint8_t frame[PB_MAX_LEN];
	__u32 i, ret;

	len = pkt_build(&spec, frame);
	if (len < 0)
		die("scale frame", EINVAL);
	for (i = 0; i < nsrc; i++) {
		set_src(frame, i);
		run_once(fd, frame, len, 1, &ret);
	}
	for (k = 0; k < naddr; k++) {
		struct fg_cidr c;

		if (k % 2) {
			c = src_cidr(BANNED6_BASE + (__u32)k / 2);
		} else {
			do
				c = random_cidr(false, 32);
			while (overlaps_test_nets(&c));
		}
		ban_or_die(&maps, &c);
	}
	for (k = 0; k < npfx; k++) {
		bool v6 = k % 2;
		struct fg_cidr c;

		do
			c = random_cidr(v6, ban_plen(k));
		while (overlaps_test_nets(&c));
		ban_or_die(&maps, &c);
	}
}

struct ban_row {
	const char *name, *id;
	struct pkt_spec pkt;
	const char *ban; /* the ban the row needs, or NULL */
	bool flood;	 /* per-address limit 1/s burst 1 (else every limit open) */
	__u32 verdict, reason;
};

static const struct ban_row ban_rows[] = {
	{ "TCP established (ACK)",
	  "est",
	  { .src = "192.0.2.1", .tcp_flags = TH_ACK },
	  NULL,
	  false,
	  XDP_PASS,
	  FG_R_PASS_ESTABLISHED },
	{ "new SYN under limit",
	  "syn_new",
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN },
	  NULL,
	  false,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW },
	{ "IPv6 new SYN under limit",
	  "syn_new6",
	  { .src = "2001:db8::1", .tcp_flags = TH_SYN },
	  NULL,
	  false,
	  XDP_PASS,
	  FG_R_PASS_NEW_FLOW },
	{ "SYN over limit (flood drop)",
	  "syn_over",
	  { .src = "192.0.2.1", .tcp_flags = TH_SYN },
	  NULL,
	  true,
	  XDP_DROP,
	  FG_R_DROP_SOURCE },
	{ "banned address (IPv4)",
	  "ban4",
	  { .src = "198.51.100.66", .tcp_flags = TH_SYN },
	  "198.51.100.66",
	  false,
	  XDP_DROP,
	  FG_R_DROP_BAN },
	{ "banned address (IPv6)",
	  "ban6",
	  { .src = "2001:db8:bad::66", .tcp_flags = TH_SYN },
	  "2001:db8:bad::66",
	  false,
	  XDP_DROP,
	  FG_R_DROP_BAN },
	{ "banned by a prefix (IPv4 /24)",
	  "banpfx4",
	  { .src = "203.0.113.200", .tcp_flags = TH_SYN },
	  "203.0.113.0/24",
	  false,
	  XDP_DROP,
	  FG_R_DROP_BAN },
	{ "banned by a prefix (IPv6 /48)",
	  "banpfx6",
	  { .src = "2001:db8:beef::7", .tcp_flags = TH_SYN },
	  "2001:db8:beef::/48",
	  false,
	  XDP_DROP,
	  FG_R_DROP_BAN },
};

/* The program instance a row runs on: its skeleton and maps are made the
 * globals reset() and apply() work on. */
struct fg_inst {
	struct floodgate_bpf *skel;
	struct xdpmaps maps;
};

static void use(const struct fg_inst *in)
{
	fg = in->skel;
	maps = in->maps;
}

static void row_conf(const struct ban_row *r)
{
	conf_open(&conf);
	if (r->flood)
		conf.rules[FG_RULE_DEFAULT_TCP].per_source = rules_limit(1, 1);
	apply();
}

/* One packet: true if it took the row's path (verdict and counter). */
static bool row_check(const struct ban_row *r, const uint8_t *frame, int len, const char *which)
{
	struct fg_stat before[FG_R_MAX], after[FG_R_MAX];
	__u32 ret;
	__u64 moved;

	xdpmaps_stats(&maps, before);
	run_once(bpf_program__fd(fg->progs.fg_xdp), frame, len, 1, &ret);
	xdpmaps_stats(&maps, after);
	moved = after[r->reason].packets[r->verdict == XDP_DROP] -
		before[r->reason].packets[r->verdict == XDP_DROP];
	if (ret == r->verdict && moved == 1)
		return true;
	fprintf(stderr, "bench_xdp: bans: %s (%s table): verdict %u, want %u %s\n", r->name, which,
		ret, r->verdict, xdpmaps_reason_name(r->reason));
	return false;
}

/* Single packets from a different source each (set_src index from idx),
 * on a and b in turns: medians into *ta, *tb. */
static void single_pair(int fa, int fb, uint8_t *frame, int len, int n, __u32 (*ia)(int, void *),
			void *aa, __u32 (*ib)(int, void *), void *ab, __u32 want, __u32 *ta,
			__u32 *tb, int *bad)
{
	__u32 *da = calloc((size_t)n, sizeof(*da)), *db = calloc((size_t)n, sizeof(*db)), ret;
	int i;

	if (!da || !db)
		die("calloc", ENOMEM);
	for (i = 0; i < n; i++) {
		set_src(frame, ia(i, aa));
		da[i] = run_once(fa, frame, len, 1, &ret);
		*bad += ret != want;
		set_src(frame, ib(i, ab));
		db[i] = run_once(fb, frame, len, 1, &ret);
		*bad += ret != want;
	}
	*ta = median_u32(da, n);
	*tb = median_u32(db, n);
	free(da);
	free(db);
}

/* A row of the bans tables, and of bans.csv. */
static void pair_row(FILE *csv, const char *name, const char *id, __u32 ta, __u32 tb,
		     const char *verdict)
{
	double q = ta ? (double)tb / ta : 0.0;

	printf("| %s | %u | %u | %.2fx | %s |\n", name, ta, tb, q, verdict);
	if (csv)
		fprintf(csv, "%s,%u,%u,%.3f\n", id, ta, tb, q);
}

static __u32 idx_fixed(int i, void *a)
{
	(void)i;
	return *(__u32 *)a;
}

static int bench_bans(void)
{
	__u32 nsrc = smoke ? 10000 : SCALE_SOURCES;
	int naddr = smoke ? 1000 : scale_ban_addrs, npfx = smoke ? 1000 : scale_ban_pfxs;
	int rounds = smoke ? 1 : SCALE_BAN_ROUNDS, k = smoke ? 200 : 20000, bad = 0, err, rr;
	FILE *csv = csv_open("bans.csv", "path,empty_ns,loaded_ns,ratio");
	struct fg_inst empty = { fg, maps }, loaded = { 0 };
	uint8_t frame[PB_MAX_LEN];
	struct timespec t0, t1;
	size_t i;

	err = fg_load(&loaded.skel);
	if (err)
		die("loading a second instance", err);
	xdpmaps_from_skel(&loaded.maps, loaded.skel);
	use(&loaded);
	reset();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fill_scale(nsrc, naddr, npfx);
	for (i = 0; i < sizeof(ban_rows) / sizeof(ban_rows[0]); i++)
		if (ban_rows[i].ban) {
			struct fg_cidr c = cidr(ban_rows[i].ban);

			ban_or_die(&maps, &c);
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("- method: the same rows on two instances of fg_xdp, measured in turns "
	       "(BPF_PROG_TEST_RUN, repeat %d, median of %d runs each): **empty** holds only "
	       "the ban the row needs; **loaded** holds %ld tracked sources (src_state) and "
	       "%ld bans (bans_addr %ld, bans_pfx %ld, bans trie %ld): %d addresses (half "
	       "IPv4, half IPv6) and %d prefixes (%s, random places, none over the bench's "
	       "own sources; repeats counted once), filled in %.1f s; ban maps' memory %lld "
	       "bytes\n\n",
	       repeat, rounds, xdpmaps_count(maps.src_state, sizeof(struct fg_src_key)),
	       xdpmaps_count(maps.bans_addr, sizeof(struct fg_ban_key)) +
		       xdpmaps_count(maps.bans_pfx, sizeof(struct fg_ban_pfx_key)) +
		       xdpmaps_count(maps.bans, sizeof(struct fg_lpm_key)),
	       xdpmaps_count(maps.bans_addr, sizeof(struct fg_ban_key)),
	       xdpmaps_count(maps.bans_pfx, sizeof(struct fg_ban_pfx_key)),
	       xdpmaps_count(maps.bans, sizeof(struct fg_lpm_key)), naddr, npfx,
	       scale_ban_random_lengths ? "IPv4 /8-/31, IPv6 /16-/127, random lengths"
					: "IPv4 /24 and /16, IPv6 /64 and /48",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       map_memlock(maps.bans) + map_memlock(maps.bans_addr) + map_memlock(maps.bans_pfx));
	printf("| path | empty ns | loaded ns | loaded / empty | verdict |\n");
	printf("|---|---:|---:|---:|---|\n");
	for (i = 0; i < sizeof(ban_rows) / sizeof(ban_rows[0]); i++) {
		const struct ban_row *r = &ban_rows[i];
		int len = pkt_build(&r->pkt, frame), fa, fb;
		__u32 ta[MAX_RUNS], tb[MAX_RUNS], ret;
		char verdict[32];

		if (len < 0)
			die(r->name, EINVAL);
		use(&empty);
		reset();
		if (r->ban) {
			struct fg_cidr c = cidr(r->ban);

			ban_or_die(&maps, &c);
		}
		row_conf(r);
		if (r->flood)
			run_once(bpf_program__fd(fg->progs.fg_xdp), frame, len, 1, &ret);
		bad += !row_check(r, frame, len, "empty");
		fa = bpf_program__fd(fg->progs.fg_xdp);
		use(&loaded);
		row_conf(r);
		if (r->flood)
			run_once(bpf_program__fd(fg->progs.fg_xdp), frame, len, 1, &ret);
		bad += !row_check(r, frame, len, "loaded");
		fb = bpf_program__fd(fg->progs.fg_xdp);
		for (rr = 0; rr < rounds && rr < MAX_RUNS; rr++) {
			ta[rr] = run_once(fa, frame, len, repeat, &ret);
			bad += ret != r->verdict;
			tb[rr] = run_once(fb, frame, len, repeat, &ret);
			bad += ret != r->verdict;
		}
		snprintf(verdict, sizeof(verdict), "%s %s",
			 r->verdict == XDP_DROP ? "DROP" : "PASS", xdpmaps_reason_name(r->reason));
		pair_row(csv, r->name, r->id, median_u32(ta, rr), median_u32(tb, rr), verdict);
	}

	{
		/* One packet per run, a different source each: the ban
		 * lookups (and src_state) meet a cold-ish cache. */
		struct pkt_spec ack = { .src = "2001:db8::1", .tcp_flags = TH_ACK };
		struct pkt_spec syn = { .src = "2001:db8::1", .tcp_flags = TH_SYN };
		struct idx_arg few = { 0, 1000 }, all = { 0, nsrc };
		struct idx_arg banned = { BANNED6_BASE, (__u32)naddr / 2 };
		__u32 one = BANNED6_BASE, ta, tb;
		struct fg_cidr c = src_cidr(BANNED6_BASE);
		int len = pkt_build(&ack, frame), fa, fb;
		char name[96];

		if (len < 0)
			die("bans frame", EINVAL);
		use(&empty);
		reset();
		ban_or_die(&maps, &c);
		fa = bpf_program__fd(fg->progs.fg_xdp);
		fb = bpf_program__fd(loaded.skel->progs.fg_xdp);
		use(&loaded);
		conf_open(&conf);
		apply();
		use(&empty);

		printf("\nOne packet per BPF_PROG_TEST_RUN (repeat 1), a different source each, "
		       "empty and loaded in turns, median of %d packets each:\n\n",
		       k);
		printf("| path | empty ns | loaded ns | loaded / empty | verdict |\n");
		printf("|---|---:|---:|---:|---|\n");
		single_pair(fa, fb, frame, len, k, idx_rand, &few, idx_rand, &all, XDP_PASS, &ta,
			    &tb, &bad);
		snprintf(name, sizeof(name), "IPv6 ACK, unbanned source (1,000 / %u sources)",
			 nsrc);
		pair_row(csv, name, "cold_ack6", ta, tb, "PASS established");
		single_pair(fa, fb, frame, len, k, idx_fixed, &one, idx_rand, &banned, XDP_DROP,
			    &ta, &tb, &bad);
		snprintf(name, sizeof(name), "IPv6 banned address (1 ban / one of %d)", naddr / 2);
		pair_row(csv, name, "cold_ban6", ta, tb, "DROP ban");
		len = pkt_build(&syn, frame);
		/* The empty instance's 1,000 sources get their state first. */
		for (rr = 0; rr < 1000; rr++) {
			__u32 ret;

			set_src(frame, (__u32)rr);
			run_once(fa, frame, len, 1, &ret);
		}
		single_pair(fa, fb, frame, len, k, idx_rand, &few, idx_rand, &all, XDP_PASS, &ta,
			    &tb, &bad);
		snprintf(name, sizeof(name), "IPv6 SYN, tracked source (1,000 / %u tracked)", nsrc);
		pair_row(csv, name, "cold_syn6", ta, tb, "PASS new_flow");
	}
	{
		/* The agent's side of the same ban maps: it sweeps them every
		 * second, on the loop that answers its socket. */
		__u32 ms10[SCALE_BAN_ROUNDS];

		for (rr = 0; rr < rounds; rr++) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			xdpmaps_sweep_bans(&loaded.maps, xdpmaps_now_ns());
			clock_gettime(CLOCK_MONOTONIC, &t1);
			ms10[rr] = (__u32)(((t1.tv_sec - t0.tv_sec) * 1000000000LL +
					    (t1.tv_nsec - t0.tv_nsec)) /
					   100000);
		}
		printf("\nThe agent's expiry sweep of the loaded instance's ban maps "
		       "(`xdpmaps_sweep_bans()`, every second on the agent's event loop; none "
		       "expired), median of %d: %.1f ms\n",
		       rounds, median_u32(ms10, rr) / 10.0);
	}
	use(&empty);
	reset();
	floodgate_bpf__destroy(loaded.skel);
	if (csv)
		fclose(csv);
	return bad;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	/* xdp-filter's objects carry sections libbpf does not know. */
	if (strstr(fmt, "skipping unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	bool do_paths = false, do_scale = false, do_bans = false, do_cookies = false;
	int i, bad = 0, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			repeat = 1000;
			runs = 1;
		} else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv_dir = argv[++i];
		} else if (!strcmp(argv[i], "--ban-mix") && i + 1 < argc) {
			if (sscanf(argv[++i], "%d:%d", &scale_ban_addrs, &scale_ban_pfxs) != 2 ||
			    scale_ban_addrs < 2 || scale_ban_pfxs < 0) {
				fprintf(stderr,
					"bench_xdp: --ban-mix ADDRS:PREFIXES (ADDRS >= 2)\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--ban-lengths") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "real") && strcmp(argv[i], "random")) {
				fprintf(stderr, "bench_xdp: --ban-lengths real|random\n");
				return 2;
			}
			scale_ban_random_lengths = !strcmp(argv[i], "random");
		} else if (!strcmp(argv[i], "--xdp-filter") && i + 1 < argc) {
			xf_dir = argv[++i];
		} else if (!strcmp(argv[i], "paths")) {
			do_paths = true;
		} else if (!strcmp(argv[i], "cookies")) {
			do_cookies = true;
		} else if (!strcmp(argv[i], "scale")) {
			do_scale = true;
		} else if (!strcmp(argv[i], "bans")) {
			do_bans = true;
		} else {
			fprintf(stderr,
				"usage: %s [--smoke] [--csv DIR] [--xdp-filter DIR] "
				"[--ban-mix ADDRS:PREFIXES] [--ban-lengths real|random] [paths] [cookies] "
				"[scale] [bans]\n",
				argv[0]);
			return 2;
		}
	}
	if (!do_paths && !do_scale && !do_bans && !do_cookies)
		do_paths = true;
	libbpf_set_print(libbpf_quiet);
	err = load();
	if (err)
		die("loading the programs (run as root)", err);

	/* paths includes the cookie rows; cookies alone is for A/B runs. */
	if (do_paths) {
		bad += bench_paths();
		bad += bench_two_cpus();
	}
	if (do_paths || do_cookies)
		bad += bench_cookies();
	if (do_paths && do_scale)
		printf("\n");
	if (do_scale)
		bad += bench_scale();
	if (do_bans) {
		if (do_paths || do_scale)
			printf("\n");
		bad += bench_bans();
	}

	for (i = 0; i < XF_N; i++)
		bpf_object__close(xf_obj[i]);
	clock_bench__destroy(clk);
	noop__destroy(noop);
	floodgate_bpf__destroy(fg);
	if (bad) {
		fprintf(stderr,
			"bench_xdp: %d check(s) failed: a row did not take the path it "
			"measures\n",
			bad);
		return 1;
	}
	return 0;
}
