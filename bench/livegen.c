// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * livegen — a flood generator on the native XDP path, and the loader of the
 * flood benchmark's yardstick programs.
 *
 *   livegen flood --dev IF --dst-mac MAC --dst ADDR --dport PORT
 *                 --count N --seconds S [--src CIDR] [--sources N] [--wide]
 *                 [--udp] [--sport PORT] [--pps RATE] [--batch N] [--threads N]
 *   livegen attach --dev IF --prog parse|lru [--rate R] [--burst B] [--entries N]
 *   livegen mapinfo (--id ID | --pin PATH)
 *
 * flood runs bench/livegen.bpf.c with BPF_PROG_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES, kernel >= 5.18) with IF as the ingress
 * device: each run rewrites the template frame's source and returns XDP_TX,
 * which sends it out of IF. On a veth the peer receives xdp_frames, so the
 * victim's XDP runs natively with no skb, as on a NIC driver (the peer needs
 * NAPI: GRO on, or an XDP program attached). Sources: one address, random
 * addresses of --src, or --sources N distinct ones of --src. --src must be in
 * the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8::/32) unless --wide is given: that is for benchmarks whose frames
 * never leave a veth pair between namespaces they created.
 *
 * Both --count and --seconds are required; the flood stops at the first.
 * --threads (default 4) BPF_PROG_RUN calls run at once, taking frames from
 * one count (and one rate): a call's fixed cost then leaves no gap.
 * The result line: sent (frames the program turned into XDP_TX), xmit and
 * xmit_errors (what IF's ndo_xdp_xmit put on the peer's ring and what it
 * dropped because the ring was full: IF's ethtool counters), seconds, pps.
 *
 * attach loads bench/victim.bpf.c's parse-only program or its minimal
 * per-source LRU limiter and attaches it in native mode to IF (detach with
 * `ip link set dev IF xdpdrv off`); prints prog_id and map_id.
 * mapinfo prints a map's entries, max_entries and memlock bytes.
 *
 * Every subcommand ends with one `key=value ...` line on stdout.
 * Exit: 0 success, 1 setup error, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/livegen.skel.h"
#include "bench/victim.skel.h"
#include "cidr.h"

#define EXIT_SETUP 1
#define EXIT_USAGE 2

#define ETH_ALEN      6
#define ETH_HLEN      14
#define IP4_HLEN      20
#define IP6_HLEN      40
#define TCP_LEN	      24 /* header and an MSS option */
#define UDP_LEN	      24 /* header and 16 bytes of payload */
#define FRAME_LEN_MAX 128
#define CHUNK_MAX     16384 /* runs per BPF_PROG_RUN flat out: a few ms */
#define THREADS_MAX   64
#define THREADS_DEF   4	    /* BPF_PROG_RUN calls in flight (flood_worker()) */

#define pr_err(...) fprintf(stderr, "livegen: " __VA_ARGS__)

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Parses an unsigned number in [min, max] into *out; false if it is not one. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) !=
	    ETH_ALEN)
		return false;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

/* True if c lies inside one of the documentation ranges. */
static bool cidr_is_doc(const struct fg_cidr *c)
{
	static const char *const doc[] = { "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
					   "2001:db8::/32" };

	for (size_t i = 0; i < sizeof(doc) / sizeof(doc[0]); i++) {
		struct fg_cidr d, m;

		if (cidr_parse(doc[i], &d) || d.family != c->family || c->prefixlen < d.prefixlen)
			continue;
		m = *c;
		cidr_mask(&m, d.prefixlen);
		if (!memcmp(m.addr, d.addr, sizeof(m.addr)))
			return true;
	}
	return false;
}

/* ---- ethtool counters ---------------------------------------------------- */

/* Sums dev's per-queue XDP transmit counters (tx_queue_N_xdp_xmit and
 * tx_queue_N_xdp_xmit_errors, veth's names). Returns 0 or -errno. */
static int xmit_counters(const char *dev, uint64_t *xmit, uint64_t *errors)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *stats = NULL;
	struct ifreq ifr = { 0 };
	uint32_t n;
	int fd, err = 0;

	*xmit = *errors = 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_STATS;
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !info->sset_mask) {
		err = -errno ? -errno : -EOPNOTSUPP;
		goto out;
	}
	n = info->data[0];
	strs = calloc(1, sizeof(*strs) + (size_t)n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)n * sizeof(uint64_t));
	if (!strs || !stats) {
		err = -ENOMEM;
		goto out;
	}
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	ifr.ifr_data = (void *)stats;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < n && i < stats->n_stats; i++) {
		const char *s = (const char *)strs->data + (size_t)i * ETH_GSTRING_LEN;
		size_t len = strnlen(s, ETH_GSTRING_LEN);

		if (strncmp(s, "tx_queue_", 9))
			continue;
		if (len > 9 && !strncmp(s + len - 9, "_xdp_xmit", 9))
			*xmit += stats->data[i];
		else if (len > 16 && !strncmp(s + len - 16, "_xdp_xmit_errors", 16))
			*errors += stats->data[i];
	}
out:
	free(info);
	free(strs);
	free(stats);
	close(fd);
	return err;
}

/* ---- the template frame ---------------------------------------------------- */

/* One's complement sum of len bytes as native 16-bit words (the loads
 * livegen.bpf.c makes, so its sums and these agree whatever the byte order). */
static uint64_t sum16(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t s = 0;
	uint16_t w;

	for (size_t i = 0; i + 1 < len; i += 2) {
		memcpy(&w, b + i, 2);
		s += w;
	}
	if (len & 1) {
		w = 0;
		memcpy(&w, b + len - 1, 1);
		s += w;
	}
	return s;
}

struct flood_opts {
	const char *dev;
	uint8_t dst_mac[ETH_ALEN];
	struct fg_cidr dst, src;
	uint16_t dport, sport;
	int proto;
	uint64_t count, pps, nsources, batch, threads;
	double seconds;
	bool wide;
};

/*
 * Writes the template into buf with the source address, source port, TCP
 * sequence number and checksums zero; the sums the program finishes from go
 * to ip_sum and l4_sum. Returns the frame length.
 */
static size_t frame_build(const struct flood_opts *o, const uint8_t src_mac[ETH_ALEN], uint8_t *buf,
			  uint64_t *ip_sum, uint64_t *l4_sum)
{
	bool v6 = o->dst.family == FG_AF_INET6;
	size_t l3 = v6 ? IP6_HLEN : IP4_HLEN;
	size_t l4len = o->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN;
	uint8_t *ip = buf + ETH_HLEN, *l4 = ip + l3;
	uint8_t pseudo[40] = { 0 };
	size_t plen;

	memset(buf, 0, FRAME_LEN_MAX);
	memcpy(buf, o->dst_mac, ETH_ALEN);
	memcpy(buf + ETH_ALEN, src_mac, ETH_ALEN);
	buf[12] = v6 ? 0x86 : 0x08;
	buf[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4len >> 8);
		ip[5] = (uint8_t)l4len;
		ip[6] = (uint8_t)o->proto;
		ip[7] = 64;
		memcpy(ip + 24, o->dst.addr, 16);
		/* Pseudo header: source (zero here), destination, length, next header. */
		memcpy(pseudo + 16, o->dst.addr, 16);
		pseudo[34] = (uint8_t)(l4len >> 8);
		pseudo[35] = (uint8_t)l4len;
		pseudo[39] = (uint8_t)o->proto;
		plen = 40;
		*ip_sum = 0;
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((l3 + l4len) >> 8);
		ip[3] = (uint8_t)(l3 + l4len);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = (uint8_t)o->proto;
		memcpy(ip + 16, o->dst.addr, 4);
		*ip_sum = sum16(ip, IP4_HLEN);
		memcpy(pseudo + 4, o->dst.addr, 4);
		pseudo[9] = (uint8_t)o->proto;
		pseudo[10] = (uint8_t)(l4len >> 8);
		pseudo[11] = (uint8_t)l4len;
		plen = 12;
	}
	l4[2] = (uint8_t)(o->dport >> 8);
	l4[3] = (uint8_t)o->dport;
	if (o->proto == IPPROTO_TCP) {
		l4[12] = (TCP_LEN / 4) << 4;
		l4[13] = 0x02; /* SYN */
		l4[14] = 64240 >> 8;
		l4[15] = 64240 & 0xff;
		l4[20] = 2; /* MSS 1460 */
		l4[21] = 4;
		l4[22] = 1460 >> 8;
		l4[23] = 1460 & 0xff;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
		memcpy(l4 + 8, "livegen flood\0\0", 16);
	}
	*l4_sum = sum16(pseudo, plen) + sum16(l4, l4len);
	return ETH_HLEN + l3 + l4len;
}

/* ---- flood ------------------------------------------------------------------- */

/* What the flood's threads share: frames are claimed from one counter. */
struct flood {
	const struct flood_opts *o;
	int prog_fd;
	const uint8_t *frame;
	size_t len;
	const struct xdp_md *xmd;
	double start;
	uint64_t claimed; /* frames handed to a BPF_PROG_RUN call (atomic) */
	uint64_t ran;	  /* frames those calls ran (atomic) */
	int err;	  /* the first call that failed, -errno (atomic) */
};

/*
 * Frames the next call of a thread takes, 0 when the flood is over (count,
 * time, a stop or another thread's error), waiting first while a paced
 * flood is ahead of its rate. A paced call takes every frame due by now,
 * at least ~1 ms of them (--batch: at most that many).
 */
static uint64_t flood_claim(struct flood *f)
{
	const struct flood_opts *o = f->o;

	for (;;) {
		uint64_t cur = __atomic_load_n(&f->claimed, __ATOMIC_SEQ_CST), n;
		double elapsed = now_s() - f->start;

		if (stop_requested || __atomic_load_n(&f->err, __ATOMIC_SEQ_CST) ||
		    elapsed >= o->seconds || cur >= o->count)
			return 0;
		n = o->batch ? o->batch : CHUNK_MAX;
		if (o->pps) {
			double due = f->start + (double)cur / (double)o->pps;
			double late = elapsed * (double)o->pps - (double)cur;
			uint64_t ms = o->pps / 1000 ? o->pps / 1000 : 1;

			if (due >= f->start + o->seconds)
				return 0;
			if (late < 0) {
				sleep_until(due);
				continue;
			}
			if (!o->batch)
				n = late > (double)ms ? (uint64_t)late : ms;
			n = n < CHUNK_MAX ? n : CHUNK_MAX;
		}
		n = n < o->count - cur ? n : o->count - cur;
		if (__atomic_compare_exchange_n(&f->claimed, &cur, cur + n, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return n;
	}
}

/*
 * One of the flood's threads. A BPF_PROG_RUN call in live-frames mode has a
 * fixed cost (12-32 ms on a nested VM, the teardown of its page pool): with
 * one thread the frames left in bursts with that much silence between, which
 * capped a flood there at ~0.5 Mpps flat out and 3.2 kpps paced in 100-frame
 * calls, and let a scarce budget refill between bursts. Several threads
 * overlap those waits.
 */
static void *flood_worker(void *arg)
{
	struct flood *f = arg;
	uint64_t n;

	while ((n = flood_claim(f))) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->frame,
			    .data_size_in = (uint32_t)f->len, .ctx_in = f->xmd,
			    .ctx_size_in = sizeof(*f->xmd), .repeat = (uint32_t)n,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
		int err = bpf_prog_test_run_opts(f->prog_fd, &opts);

		/* SIGTERM while the kernel runs a chunk: stop as asked (the
		 * chunk's frames are lost to the count, the xmit counters
		 * still tell). */
		if (err == -EINTR && stop_requested)
			break;
		if (err) {
			int none = 0;

			__atomic_compare_exchange_n(&f->err, &none, err, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
			break;
		}
		__atomic_fetch_add(&f->ran, n, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static int flood_run(const struct flood_opts *o)
{
	struct livegen *skel = NULL;
	uint8_t frame[FRAME_LEN_MAX], src_mac[ETH_ALEN];
	uint64_t ip_sum, l4_sum, x0, e0, x1, e1, sent, aborted, before;
	struct xdp_md xmd = { 0 };
	struct ifreq ifr = { 0 };
	bool v6 = o->dst.family == FG_AF_INET6;
	int ifindex, fd, err, i, nthreads;
	pthread_t tid[THREADS_MAX];
	pthread_attr_t attr;
	cpu_set_t one;
	int cpu;
	double start, elapsed;
	struct flood fl;
	size_t len;

	ifindex = (int)if_nametoindex(o->dev);
	if (!ifindex) {
		pr_err("flood: --dev %s: no such interface in this namespace\n", o->dev);
		return EXIT_SETUP;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		pr_err("flood: cannot read %s's MAC address: %s\n", o->dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_SETUP;
	}
	close(fd);
	memcpy(src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	len = frame_build(o, src_mac, frame, &ip_sum, &l4_sum);

	skel = livegen__open();
	if (!skel) {
		pr_err("flood: cannot open the generator program: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	skel->rodata->cfg_v6 = v6;
	skel->rodata->cfg_proto = (uint32_t)o->proto;
	memcpy((void *)skel->rodata->cfg_base, o->src.addr, 16);
	for (int w = 0; w < (v6 ? 4 : 1); w++) {
		/* Host bits of word w (network order), from the prefix length. */
		uint32_t m = 0;

		for (int b = 0; b < 32; b++)
			if (w * 32 + b >= o->src.prefixlen)
				m |= 1u << (31 - b);
		skel->rodata->cfg_hostmask[w] = htonl(m);
	}
	skel->rodata->cfg_nsources = (uint32_t)o->nsources;
	skel->rodata->cfg_idx_word = v6 ? 3 : 0;
	skel->rodata->cfg_sport = htons(o->sport);
	skel->rodata->cfg_ip_sum = ip_sum;
	skel->rodata->cfg_l4_sum = l4_sum;
	err = livegen__load(skel);
	if (err) {
		pr_err("flood: cannot load the generator program: %s\n", strerror(-err));
		livegen__destroy(skel);
		return EXIT_SETUP;
	}

	/* The kernel checks the context against the frame: data_end is its length. */
	xmd.data_end = (uint32_t)len;
	xmd.ingress_ifindex = (uint32_t)ifindex;
	err = xmit_counters(o->dev, &x0, &e0);
	if (err) {
		pr_err("flood: cannot read %s's XDP counters: %s\n", o->dev, strerror(-err));
		livegen__destroy(skel);
		return EXIT_SETUP;
	}

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	before = skel->bss->bad_frames;
	fl = (struct flood){ .o = o, .prog_fd = bpf_program__fd(skel->progs.xdp_livegen),
			     .frame = frame, .len = len, .xmd = &xmd, .start = now_s() };
	start = fl.start;
	/* All threads on this CPU: veth counts the frames it puts on the peer's
	 * ring (xmit, xmit_errors) outside its lock, so calls on two CPUs lose
	 * counts (16 of 300,000 in test_21); the threads mostly wait anyway. */
	pthread_attr_init(&attr);
	cpu = sched_getcpu();
	if (cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	}
	for (i = 0; i < (int)o->threads; i++)
		if (pthread_create(&tid[i], &attr, flood_worker, &fl))
			break;
	pthread_attr_destroy(&attr);
	nthreads = i;
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	if (fl.err || !nthreads) {
		err = nthreads ? fl.err : -EAGAIN;
		pr_err("flood: BPF_PROG_RUN (live frames) failed after %llu frames: %s%s\n",
		       (unsigned long long)fl.ran, strerror(-err),
		       err == -EINVAL ? " (kernel older than 5.18?)" : "");
		livegen__destroy(skel);
		return EXIT_SETUP;
	}
	aborted = skel->bss->bad_frames - before;
	sent = fl.ran - aborted;
	elapsed = now_s() - start;
	err = xmit_counters(o->dev, &x1, &e1);
	livegen__destroy(skel);
	if (err) {
		pr_err("flood: cannot read %s's XDP counters: %s\n", o->dev, strerror(-err));
		return EXIT_SETUP;
	}
	printf("sent=%llu xmit=%llu xmit_errors=%llu aborted=%llu seconds=%.3f pps=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)(x1 - x0),
	       (unsigned long long)(e1 - e0), (unsigned long long)aborted, elapsed,
	       elapsed > 0 ? (double)sent / elapsed : 0.0);
	return 0;
}

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "livegen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: livegen flood --dev IF --dst-mac MAC --dst ADDR --dport PORT "
			"--count N --seconds S [--src CIDR] [--sources N] [--wide] [--udp] "
			"[--sport PORT] [--pps RATE] [--batch N] [--threads N]\n"
			"       livegen attach --dev IF --prog parse|lru [--rate R] [--burst B] "
			"[--entries N]\n"
			"       livegen mapinfo (--id ID | --pin PATH)\n");
	return EXIT_USAGE;
}

static int cmd_flood(int argc, char **argv)
{
	enum {
		O_DEV = 1,
		O_MAC,
		O_DST,
		O_DPORT,
		O_SRC,
		O_SOURCES,
		O_WIDE,
		O_UDP,
		O_SPORT,
		O_COUNT,
		O_SECONDS,
		O_PPS,
		O_BATCH,
		O_THREADS
	};
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, O_DEV },
		{ "dst-mac", required_argument, NULL, O_MAC },
		{ "dst", required_argument, NULL, O_DST },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "src", required_argument, NULL, O_SRC },
		{ "sources", required_argument, NULL, O_SOURCES },
		{ "wide", no_argument, NULL, O_WIDE },
		{ "udp", no_argument, NULL, O_UDP },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "pps", required_argument, NULL, O_PPS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ 0 },
	};
	struct flood_opts o = { .proto = IPPROTO_TCP, .threads = THREADS_DEF };
	bool have_mac = false, have_dst = false, have_src = false, have_dport = false;
	bool have_count = false;
	uint64_t v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEV:
			o.dev = optarg;
			break;
		case O_MAC:
			if (!parse_mac(optarg, o.dst_mac))
				return usage("--dst-mac: \"%s\" is not aa:bb:cc:dd:ee:ff", optarg);
			have_mac = true;
			break;
		case O_DST:
			if (cidr_parse_addr(optarg, &o.dst))
				return usage("--dst: \"%s\" is not an IP address", optarg);
			have_dst = true;
			break;
		case O_DPORT:
			if (!parse_u64(optarg, 1, 65535, &v))
				return usage("--dport: \"%s\" is not a port (1-65535)", optarg);
			o.dport = (uint16_t)v;
			have_dport = true;
			break;
		case O_SRC:
			if (cidr_parse(optarg, &o.src))
				return usage(
					"--src: \"%s\" is not ADDR or ADDR/PLEN with no host bits",
					optarg);
			have_src = true;
			break;
		case O_SOURCES:
			if (!parse_u64(optarg, 1, UINT32_MAX, &o.nsources))
				return usage("--sources: \"%s\" is not a count (1-4294967295)",
					     optarg);
			break;
		case O_WIDE:
			o.wide = true;
			break;
		case O_UDP:
			o.proto = IPPROTO_UDP;
			break;
		case O_SPORT:
			if (!parse_u64(optarg, 1, 65535, &v))
				return usage("--sport: \"%s\" is not a port (1-65535)", optarg);
			o.sport = (uint16_t)v;
			break;
		case O_COUNT:
			if (!parse_u64(optarg, 1, UINT64_MAX, &o.count))
				return usage("--count: \"%s\" is not a frame count (>= 1)", optarg);
			have_count = true;
			break;
		case O_SECONDS:
			errno = 0;
			o.seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.seconds > 0) || o.seconds > 3600)
				return usage("--seconds: \"%s\" is not a duration (0-3600 s)",
					     optarg);
			break;
		case O_PPS:
			if (!parse_u64(optarg, 1, 1000000000, &o.pps))
				return usage("--pps: \"%s\" is not a rate (1-1000000000)", optarg);
			break;
		case O_BATCH:
			if (!parse_u64(optarg, 1, 1u << 20, &o.batch))
				return usage("--batch: \"%s\" is not a count (1-1048576)", optarg);
			break;
		case O_THREADS:
			if (!parse_u64(optarg, 1, THREADS_MAX, &o.threads))
				return usage("--threads: \"%s\" is not a count (1-64)", optarg);
			break;
		default:
			return usage("%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage("unexpected argument \"%s\"", argv[optind]);
	if (!o.dev || !have_mac || !have_dst || !have_dport)
		return usage("%s", "--dev, --dst-mac, --dst and --dport are required");
	if (!have_count || !(o.seconds > 0))
		return usage("%s", "--count and --seconds are required: every flood is bounded");
	if (!have_src) {
		/* One documentation address of the destination's family. */
		cidr_parse(o.dst.family == FG_AF_INET6 ? "2001:db8:ff::7" : "203.0.113.7", &o.src);
	}
	if (o.src.family != o.dst.family)
		return usage("%s", "--src is not of the --dst address family");
	if (!o.wide && !cidr_is_doc(&o.src)) {
		char buf[FG_CIDR_STRLEN];

		return usage("--src: %s is outside the documentation ranges (192.0.2.0/24, "
			     "198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); --wide allows it "
			     "for benchmarks whose frames stay on their own veth pair",
			     cidr_format(&o.src, buf, sizeof(buf)));
	}
	if (o.nsources) {
		int host = (o.src.family == FG_AF_INET6 ? 128 : 32) - o.src.prefixlen;

		if (host < 33 && o.nsources >= (1ull << host))
			return usage("%s",
				     "--sources: --src has fewer host addresses (2^host_bits - 1, "
				     "the all-zero host excluded)");
	}
	return flood_run(&o);
}

/* ---- attach and mapinfo -------------------------------------------------------- */

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "prog", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "entries", required_argument, NULL, 'e' },
		{ 0 },
	};
	uint64_t rate = 100, burst = 200, entries = 1000000;
	const char *dev = NULL, *prog = NULL;
	struct bpf_program *p;
	struct victim *skel;
	struct bpf_prog_info info = { 0 };
	struct bpf_map_info minfo = { 0 };
	uint32_t ilen = sizeof(info), mlen = sizeof(minfo);
	int ifindex, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'p':
			prog = optarg;
			break;
		case 'r':
			if (!parse_u64(optarg, 1, 1000000000, &rate))
				return usage("--rate: \"%s\" is not a rate (1-1000000000)", optarg);
			break;
		case 'b':
			if (!parse_u64(optarg, 1, 1000000000, &burst))
				return usage("--burst: \"%s\" is not a count (1-1000000000)",
					     optarg);
			break;
		case 'e':
			if (!parse_u64(optarg, 1, 1u << 26, &entries))
				return usage("--entries: \"%s\" is not a count (1-67108864)",
					     optarg);
			break;
		default:
			return usage("%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage("unexpected argument \"%s\"", argv[optind]);
	if (!dev || !prog || (strcmp(prog, "parse") && strcmp(prog, "lru")))
		return usage("%s", "--dev and --prog parse|lru are required");
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		pr_err("attach: --dev %s: no such interface in this namespace\n", dev);
		return EXIT_SETUP;
	}
	skel = victim__open();
	if (!skel) {
		pr_err("attach: cannot open the victim programs: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	skel->rodata->cfg_interval_ns = 1000000000ull / rate;
	skel->rodata->cfg_tolerance_ns = burst * (1000000000ull / rate);
	p = strcmp(prog, "lru") ? skel->progs.xdp_parse_only : skel->progs.xdp_lru_limit;
	/* Load only what is attached: the limiter's map is not made for parse. */
	bpf_program__set_autoload(skel->progs.xdp_parse_only, p == skel->progs.xdp_parse_only);
	bpf_program__set_autoload(skel->progs.xdp_lru_limit, p == skel->progs.xdp_lru_limit);
	bpf_map__set_max_entries(skel->maps.lru_src, (uint32_t)entries);
	err = victim__load(skel);
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(p), XDP_FLAGS_DRV_MODE, NULL);
	if (!err)
		err = bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &ilen);
	if (!err)
		err = bpf_obj_get_info_by_fd(bpf_map__fd(skel->maps.lru_src), &minfo, &mlen);
	if (err) {
		pr_err("attach: cannot load or attach %s on %s (native mode): %s\n", prog, dev,
		       strerror(-err));
		victim__destroy(skel);
		return EXIT_SETUP;
	}
	printf("prog_id=%u map_id=%u\n", info.id, minfo.id);
	/* The attachment holds the program, and the program its map. */
	victim__destroy(skel);
	return 0;
}

/* Prints "entries=N max_entries=N memlock=BYTES" of the map behind fd. */
static int mapinfo_print(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	uint8_t key[256], next[256];
	unsigned long long memlock = 0;
	uint64_t n = 0;
	char path[64], line[256];
	FILE *f;
	void *prev = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size > sizeof(key)) {
		pr_err("mapinfo: cannot read the map's info: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info.key_size);
		prev = key;
		n++;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &memlock) == 1)
			break;
	if (f)
		fclose(f);
	printf("entries=%llu max_entries=%u memlock=%llu\n", (unsigned long long)n,
	       info.max_entries, memlock);
	return 0;
}

static int cmd_mapinfo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "pin", required_argument, NULL, 'p' },
		{ 0 },
	};
	const char *pin = NULL;
	uint64_t id = 0;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!parse_u64(optarg, 1, UINT32_MAX, &id))
				return usage("--id: \"%s\" is not a map id", optarg);
			break;
		case 'p':
			pin = optarg;
			break;
		default:
			return usage("%s", "unknown option");
		}
	}
	if (optind < argc || (!id == !pin))
		return usage("%s", "mapinfo takes one of --id ID or --pin PATH");
	fd = pin ? bpf_obj_get(pin) : bpf_map_get_fd_by_id((uint32_t)id);
	if (fd < 0) {
		pr_err("mapinfo: cannot open map %s: %s\n", pin ? pin : "by id", strerror(errno));
		return EXIT_SETUP;
	}
	rc = mapinfo_print(fd);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage("%s", "a subcommand is required");
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(argv[1], "flood"))
		return cmd_flood(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "mapinfo"))
		return cmd_mapinfo(argc - 1, argv + 1);
	return usage("unknown subcommand \"%s\"", argv[1]);
}
