// SPDX-License-Identifier: GPL-2.0
/*
 * fgnet — the traffic tool of floodgate's namespace tests.
 *
 * One binary, one subcommand per job: spoofed SYN/UDP floods (raw sockets or
 * AF_PACKET), real TCP connects, a TCP/UDP server, a UDP echo client, raw frame
 * injection and a frame counter. Every subcommand ends with exactly one
 * `key=value ...` line on stdout. Exit: 0 success, 1 setup error, 2 usage.
 *
 * Floods are always bounded by a packet count and a duration; spoofed sources
 * come only from the CIDR given with --src.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SETUP 1
#define EXIT_USAGE 2

#define BATCH_MAX 64
#define PKT_MAX 256
#define FRAME_MAX 2048
#define MAX_VLAN_TAGS 4
#define UDP_PAYLOAD_LEN 16
#define TCP_MSS_OPT_LEN 4

#define pr_err(...) fprintf(stderr, "fgnet: " __VA_ARGS__)

/* Set by SIGINT/SIGTERM: long-running subcommands stop and print their result. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* No SA_RESTART: a signal interrupts poll()/sleep so the loop sees the flag. */
static void install_stop_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- time ---------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until monotonic time t (seconds); returns early on a signal. */
static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t };

	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void sleep_ms(unsigned int ms)
{
	if (ms)
		sleep_until(now_s() + ms / 1e3);
}

/* ---- PRNG: xorshift64*, seeded from --seed or the clock ------------------- */

struct prng {
	uint64_t s;
};

static void prng_seed(struct prng *r, uint64_t seed)
{
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
		       ((uint64_t)getpid() << 32);
	}
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint64_t prng_next(struct prng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* A random port in [1024, 65535]. */
static uint16_t prng_port(struct prng *r)
{
	return (uint16_t)(1024 + prng_next(r) % (65536 - 1024));
}

/* ---- addresses and CIDRs --------------------------------------------------- */

struct fg_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t b[16]; /* network order; IPv4 uses b[0..3] */
};

struct fg_cidr {
	struct fg_addr base; /* host bits cleared */
	int plen;
};

static int addr_len(const struct fg_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static bool addr_parse(const char *s, struct fg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/* Accepts "ADDR" (a single host) or "ADDR/PLEN". */
static bool cidr_parse(const char *s, struct fg_cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	int bits;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!addr_parse(buf, &c->base))
		return false;
	bits = addr_len(&c->base) * 8;
	c->plen = bits;
	if (slash) {
		long v = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || v < 0 || v > bits)
			return false;
		c->plen = (int)v;
	}
	for (int i = c->plen; i < bits; i++)
		c->base.b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return true;
}

static bool cidr_contains(const struct fg_cidr *c, const struct fg_addr *a)
{
	int full = c->plen / 8, rest = c->plen % 8;

	if (a->family != c->base.family || memcmp(a->b, c->base.b, full))
		return false;
	if (!rest)
		return true;
	return ((a->b[full] ^ c->base.b[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/* A uniformly random address inside c (the network part kept, host bits drawn). */
static void cidr_random(const struct fg_cidr *c, struct prng *r, struct fg_addr *out)
{
	int bits = addr_len(&c->base) * 8;
	uint64_t rnd = 0;

	*out = c->base;
	for (int i = c->plen; i < bits; i++) {
		if ((i - c->plen) % 64 == 0)
			rnd = prng_next(r);
		if (rnd & 1)
			out->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		rnd >>= 1;
	}
}

static socklen_t addr_to_sockaddr(const struct fg_addr *a, uint16_t port,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}

/* The source address the kernel would pick to reach dst (no packet is sent). */
static int addr_route_source(const struct fg_addr *dst, struct fg_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(dst, 9, &ss);
	int fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) || getsockname(fd, (struct sockaddr *)&ss, &len))
		err = -errno;
	close(fd);
	if (err)
		return err;
	src->family = dst->family;
	if (dst->family == AF_INET)
		memcpy(src->b, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(src->b, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	return 0;
}

static bool mac_parse(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int m[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
		return false;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (m[i] > 0xff)
			return false;
		mac[i] = (uint8_t)m[i];
	}
	return true;
}

/* ---- checksums --------------------------------------------------------------- */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Internet checksum of an L4 segment including the IPv4/IPv6 pseudo header. */
static uint16_t csum_l4(const struct fg_addr *src, const struct fg_addr *dst, uint8_t proto,
			const void *l4, size_t len)
{
	uint32_t sum = 0;

	sum = csum_add(sum, src->b, addr_len(src));
	sum = csum_add(sum, dst->b, addr_len(dst));
	sum += proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
	sum = csum_add(sum, l4, len);
	return csum_fold(sum);
}

/* ---- argument parsing helpers ------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	v = strtod(s, &end);
	if (*end || !(v >= 0 && v <= 86400)) /* also rejects NaN */
		return false;
	*out = v;
	return true;
}

__attribute__((format(printf, 2, 3))) static int usage_error(const char *cmd, const char *fmt,
								    ...)
{
	va_list ap;

	fprintf(stderr, "fgnet %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(run `fgnet help` for the options)\n");
	return EXIT_USAGE;
}

#define OPT_NUM(cmd, name, min, max, dst)                                                   \
	do {                                                                                \
		uint64_t v_;                                                                \
		if (!parse_u64(optarg, (min), (max), &v_))                                  \
			return usage_error((cmd), "--" name ": \"%s\" is not a number in range", \
					   optarg);                                         \
		(dst) = v_;                                                                 \
	} while (0)

#define OPT_SECONDS(cmd, name, dst)                                                     \
	do {                                                                            \
		if (!parse_seconds(optarg, &(dst)))                                     \
			return usage_error((cmd), "--" name ": \"%s\" is not a duration " \
						  "in seconds (0-86400)", optarg);          \
	} while (0)

/* Creates an empty file so a test can poll for "listening"/"capturing". */
static int touch_ready_file(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		pr_err("cannot create ready file %s: %s\n", path, strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

static int if_index(const char *cmd, const char *dev)
{
	int idx = (int)if_nametoindex(dev);

	if (!idx)
		pr_err("%s: no interface \"%s\" in this network namespace\n", cmd, dev);
	return idx;
}

/* ---- latency statistics ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (p in whole percent) of sorted v[0..n-1]; 0 when n == 0. */
static double percentile(const double *v, size_t n, unsigned int p)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (p * n + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

/* refused: failures the peer answered (a RST, an ICMP port unreachable): the
 * try reached the host, where nothing listened. */
static void print_latency_result(size_t ok, size_t fail, size_t refused, double *ms,
				 const char *last_err)
{
	qsort(ms, ok, sizeof(*ms), cmp_double);
	printf("ok=%zu fail=%zu refused=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f last_err=%s\n",
	       ok, fail, refused, percentile(ms, ok, 50), percentile(ms, ok, 99),
	       ok ? ms[ok - 1] : 0.0, last_err);
}

/* ---- flood: shared by `syn` and `udp` ---------------------------------------- */

enum tcp_kind { TCP_SYN, TCP_SYNFIN, TCP_SYNRST, TCP_ACK };

struct flood_opts {
	const char *cmd;
	int proto; /* IPPROTO_TCP or IPPROTO_UDP */
	struct fg_addr dst;
	bool have_dst;
	uint16_t dport;
	bool have_dport;
	struct fg_cidr src;
	bool have_src;
	uint16_t sport; /* 0: random */
	uint64_t count;
	uint64_t pps; /* 0: as fast as possible */
	double seconds;
	enum tcp_kind tcp_kind;
	bool new_flows; /* udp: a random source port per packet */
	const char *dev; /* set: AF_PACKET on dev; unset: raw IP socket */
	uint8_t dst_mac[ETH_ALEN];
	bool have_dst_mac;
	uint64_t seed;
};

struct flood_sender {
	int fd;
	bool l2;
	uint8_t src_mac[ETH_ALEN];
	struct sockaddr_storage to;
	socklen_t to_len;
};

static int flood_sender_open(const struct flood_opts *o, struct flood_sender *s)
{
	memset(s, 0, sizeof(*s));
	s->l2 = o->dev != NULL;
	if (s->l2) {
		struct sockaddr_ll *sll = (struct sockaddr_ll *)&s->to;
		struct ifreq ifr = { 0 };
		int idx = if_index(o->cmd, o->dev);

		if (!idx)
			return -ENODEV;
		/* Protocol 0: a send-only socket, nothing is queued to it. */
		s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			goto err;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->dev);
		if (ioctl(s->fd, SIOCGIFHWADDR, &ifr))
			goto err;
		memcpy(s->src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
		sll->sll_family = AF_PACKET;
		sll->sll_ifindex = idx;
		sll->sll_halen = ETH_ALEN;
		memcpy(sll->sll_addr, o->dst_mac, ETH_ALEN);
		s->to_len = sizeof(*sll);
		return 0;
	}
	/* IPPROTO_RAW implies IP_HDRINCL / IPV6_HDRINCL: we write the whole IP header. */
	s->fd = socket(o->dst.family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (s->fd < 0)
		goto err;
	s->to_len = addr_to_sockaddr(&o->dst, 0, &s->to);
	return 0;
err:
	pr_err("%s: cannot open %s socket%s%s: %s\n", o->cmd, s->l2 ? "AF_PACKET" : "raw IP",
	       s->l2 ? " on " : "", s->l2 ? o->dev : "", strerror(errno));
	if (s->fd >= 0)
		close(s->fd);
	return -errno;
}

static size_t build_tcp(const struct flood_opts *o, const struct fg_addr *src, uint16_t sport,
			struct prng *r, uint8_t *l4)
{
	struct tcphdr *th = (struct tcphdr *)l4;
	size_t len = sizeof(*th) + TCP_MSS_OPT_LEN;

	memset(th, 0, len);
	th->source = htons(sport);
	th->dest = htons(o->dport);
	th->seq = htonl((uint32_t)prng_next(r));
	th->doff = len / 4;
	th->window = htons(64240);
	switch (o->tcp_kind) {
	case TCP_SYN:
		th->syn = 1;
		break;
	case TCP_SYNFIN:
		th->syn = th->fin = 1;
		break;
	case TCP_SYNRST:
		th->syn = th->rst = 1;
		break;
	case TCP_ACK:
		th->ack = 1;
		th->ack_seq = htonl((uint32_t)prng_next(r));
		break;
	}
	/* MSS 1460: kind 2, length 4. */
	l4[sizeof(*th) + 0] = 2;
	l4[sizeof(*th) + 1] = 4;
	l4[sizeof(*th) + 2] = 1460 >> 8;
	l4[sizeof(*th) + 3] = 1460 & 0xff;
	th->check = csum_l4(src, &o->dst, IPPROTO_TCP, l4, len);
	return len;
}

static size_t build_udp(const struct flood_opts *o, const struct fg_addr *src, uint16_t sport,
			uint64_t seq, uint8_t *l4)
{
	struct udphdr *uh = (struct udphdr *)l4;
	size_t len = sizeof(*uh) + UDP_PAYLOAD_LEN;

	memset(l4, 0, len);
	uh->source = htons(sport);
	uh->dest = htons(o->dport);
	uh->len = htons((uint16_t)len);
	memcpy(l4 + sizeof(*uh), "fgflood", 8);
	memcpy(l4 + sizeof(*uh) + 8, &seq, sizeof(seq));
	uh->check = csum_l4(src, &o->dst, IPPROTO_UDP, l4, len);
	if (!uh->check)
		uh->check = 0xffff;
	return len;
}

/* Writes one packet (Ethernet header first when l2) into buf; returns its length. */
static size_t build_flood_packet(const struct flood_opts *o, const struct flood_sender *s,
				 const struct fg_addr *src, uint16_t sport, uint64_t seq,
				 struct prng *r, uint8_t *buf)
{
	size_t l2len = 0, l3len, l4len;
	uint8_t *l3, *l4;

	if (s->l2) {
		struct ether_header *eh = (struct ether_header *)buf;

		memcpy(eh->ether_dhost, o->dst_mac, ETH_ALEN);
		memcpy(eh->ether_shost, s->src_mac, ETH_ALEN);
		eh->ether_type = htons(o->dst.family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
		l2len = sizeof(*eh);
	}
	l3 = buf + l2len;
	l3len = o->dst.family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	l4 = l3 + l3len;
	if (o->proto == IPPROTO_TCP)
		l4len = build_tcp(o, src, sport, r, l4);
	else
		l4len = build_udp(o, src, sport, seq, l4);

	if (o->dst.family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)l3;

		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons((uint16_t)(l3len + l4len));
		ip->id = htons((uint16_t)prng_next(r));
		ip->ttl = 64;
		ip->protocol = (uint8_t)o->proto;
		memcpy(&ip->saddr, src->b, 4);
		memcpy(&ip->daddr, o->dst.b, 4);
		ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)l3;

		memset(ip6, 0, sizeof(*ip6));
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons((uint16_t)l4len);
		ip6->ip6_nxt = (uint8_t)o->proto;
		ip6->ip6_hlim = 64;
		memcpy(&ip6->ip6_src, src->b, 16);
		memcpy(&ip6->ip6_dst, o->dst.b, 16);
	}
	return l2len + l3len + l4len;
}

/*
 * Sends up to o->count packets within o->seconds, paced to o->pps when set, in
 * sendmmsg() batches. A full device queue (ENOBUFS/EAGAIN) is waited out, not
 * counted as sent.
 */
static int flood_run(const struct flood_opts *o)
{
	static uint8_t bufs[BATCH_MAX][PKT_MAX];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct flood_sender s;
	struct fg_addr fixed_src;
	struct prng r;
	uint64_t sent = 0, errors = 0;
	uint16_t flow_sport;
	size_t batch;
	double start, elapsed;
	int err;

	prng_seed(&r, o->seed);
	if (o->have_src) {
		fixed_src = o->src.base;
	} else {
		err = addr_route_source(&o->dst, &fixed_src);
		if (err) {
			pr_err("%s: no route to the destination: %s\n", o->cmd, strerror(-err));
			return EXIT_SETUP;
		}
	}
	if (flood_sender_open(o, &s))
		return EXIT_SETUP;
	flow_sport = o->sport ? o->sport : prng_port(&r);
	batch = o->pps ? o->pps / 1000 : BATCH_MAX; /* at most ~1 ms of packets per burst */
	batch = batch < 1 ? 1 : batch > BATCH_MAX ? BATCH_MAX : batch;

	install_stop_handlers();
	start = now_s();
	while (sent < o->count && !stop_requested) {
		size_t n = o->count - sent < batch ? o->count - sent : batch;
		int rc;

		elapsed = now_s() - start;
		if (elapsed >= o->seconds)
			break;
		if (o->pps) {
			double due = start + (double)sent / o->pps;

			if (due > start + o->seconds)
				break;
			sleep_until(due);
		}
		for (size_t i = 0; i < n; i++) {
			struct fg_addr src = fixed_src;
			uint16_t sport = flow_sport;

			if (o->have_src && o->src.plen < addr_len(&o->src.base) * 8)
				cidr_random(&o->src, &r, &src);
			/* A random source address is a new flow anyway; TCP floods always
			 * vary the port unless --sport pins it. */
			if (!o->sport && (o->proto == IPPROTO_TCP || o->new_flows))
				sport = prng_port(&r);
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = build_flood_packet(o, &s, &src, sport, sent + i, &r, bufs[i]);
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &s.to,
				.msg_namelen = s.to_len,
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
			};
		}
		rc = sendmmsg(s.fd, msgs, (unsigned int)n, 0);
		if (rc < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				errors++;
				sleep_until(now_s() + 50e-6);
				continue;
			}
			pr_err("%s: send failed after %llu packets: %s\n", o->cmd,
			       (unsigned long long)sent, strerror(errno));
			close(s.fd);
			return EXIT_SETUP;
		}
		sent += (uint64_t)rc;
	}
	elapsed = now_s() - start;
	close(s.fd);
	printf("sent=%llu seconds=%.3f pps=%.0f errors=%llu\n", (unsigned long long)sent, elapsed,
	       elapsed > 0 ? sent / elapsed : 0.0, (unsigned long long)errors);
	return 0;
}

static int flood_parse(int argc, char **argv, struct flood_opts *o)
{
	enum { O_DST = 1, O_DPORT, O_SRC, O_SPORT, O_COUNT, O_PPS, O_SECONDS, O_FLAGS,
	       O_NEW_FLOWS, O_DEV, O_DST_MAC, O_SEED };
	static const struct option tcp_opts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "src", required_argument, NULL, O_SRC },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "pps", required_argument, NULL, O_PPS },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "flags", required_argument, NULL, O_FLAGS },
		{ "dev", required_argument, NULL, O_DEV },
		{ "dst-mac", required_argument, NULL, O_DST_MAC },
		{ "seed", required_argument, NULL, O_SEED },
		{ 0 },
	};
	static const struct option udp_opts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "src", required_argument, NULL, O_SRC },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "pps", required_argument, NULL, O_PPS },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "new-flows", no_argument, NULL, O_NEW_FLOWS },
		{ "dev", required_argument, NULL, O_DEV },
		{ "dst-mac", required_argument, NULL, O_DST_MAC },
		{ "seed", required_argument, NULL, O_SEED },
		{ 0 },
	};
	const char *cmd = o->cmd;
	int c;

	o->count = 1000;
	o->seconds = 5;
	while ((c = getopt_long(argc, argv, "", o->proto == IPPROTO_TCP ? tcp_opts : udp_opts,
				NULL)) != -1) {
		switch (c) {
		case O_DST:
			if (!addr_parse(optarg, &o->dst))
				return usage_error(cmd, "--dst: \"%s\" is not an IP address", optarg);
			o->have_dst = true;
			break;
		case O_DPORT:
			OPT_NUM(cmd, "dport", 1, 65535, o->dport);
			o->have_dport = true;
			break;
		case O_SRC:
			if (!cidr_parse(optarg, &o->src))
				return usage_error(cmd, "--src: \"%s\" is not ADDR or ADDR/PLEN", optarg);
			o->have_src = true;
			break;
		case O_SPORT:
			OPT_NUM(cmd, "sport", 1, 65535, o->sport);
			break;
		case O_COUNT:
			OPT_NUM(cmd, "count", 1, UINT64_MAX, o->count);
			break;
		case O_PPS:
			OPT_NUM(cmd, "pps", 0, 100000000, o->pps);
			break;
		case O_SECONDS:
			OPT_SECONDS(cmd, "seconds", o->seconds);
			break;
		case O_FLAGS:
			if (!strcmp(optarg, "syn"))
				o->tcp_kind = TCP_SYN;
			else if (!strcmp(optarg, "synfin"))
				o->tcp_kind = TCP_SYNFIN;
			else if (!strcmp(optarg, "synrst"))
				o->tcp_kind = TCP_SYNRST;
			else if (!strcmp(optarg, "ack"))
				o->tcp_kind = TCP_ACK;
			else
				return usage_error(cmd, "--flags: \"%s\" is not syn|synfin|synrst|ack",
						   optarg);
			break;
		case O_NEW_FLOWS:
			o->new_flows = true;
			break;
		case O_DEV:
			o->dev = optarg;
			break;
		case O_DST_MAC:
			if (!mac_parse(optarg, o->dst_mac))
				return usage_error(cmd, "--dst-mac: \"%s\" is not aa:bb:cc:dd:ee:ff",
						   optarg);
			o->have_dst_mac = true;
			break;
		case O_SEED:
			OPT_NUM(cmd, "seed", 0, UINT64_MAX, o->seed);
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!o->have_dst || !o->have_dport)
		return usage_error(cmd, "%s", "--dst and --dport are required");
	if (o->have_src && o->src.base.family != o->dst.family)
		return usage_error(cmd, "%s", "--src is not of the --dst address family");
	if (o->dev && !o->have_dst_mac)
		return usage_error(cmd, "%s", "--dev needs --dst-mac (the next hop's MAC)");
	if (!o->dev && o->have_dst_mac)
		return usage_error(cmd, "%s", "--dst-mac needs --dev");
	return 0;
}

static int cmd_syn(int argc, char **argv)
{
	struct flood_opts o = { .cmd = "syn", .proto = IPPROTO_TCP };
	int rc = flood_parse(argc, argv, &o);

	return rc ? rc : flood_run(&o);
}

static int cmd_udp(int argc, char **argv)
{
	struct flood_opts o = { .cmd = "udp", .proto = IPPROTO_UDP };
	int rc = flood_parse(argc, argv, &o);

	return rc ? rc : flood_run(&o);
}

/* ---- connect: sequential real TCP handshakes ---------------------------------- */

/* Wait (bounded) until the peer closes, so the close is an orderly FIN exchange. */
static void wait_peer_close(int fd, unsigned int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[512];

	while (!stop_requested && poll(&pfd, 1, (int)timeout_ms) > 0)
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
}

/*
 * One non-blocking connect bounded by timeout_ms; 0 or -errno, *ms = its duration.
 * graceful: wait for the server to close and close normally (a real client's
 * goodbye) instead of resetting.
 */
static int tcp_connect_once(const struct fg_addr *dst, uint16_t dport, const struct fg_addr *src,
			    unsigned int timeout_ms, bool graceful, double *ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd pfd;
	double t0;
	int fd, err = 0, soerr;
	socklen_t elen = sizeof(soerr);

	fd = socket(dst->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (src) {
		len = addr_to_sockaddr(src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len)) {
			err = -errno;
			goto out;
		}
	}
	len = addr_to_sockaddr(dst, dport, &ss);
	t0 = now_s();
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		err = -errno;
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	for (;;) {
		int left = (int)(timeout_ms - (now_s() - t0) * 1e3);
		int rc = poll(&pfd, 1, left > 0 ? left : 0);

		if (rc > 0)
			break;
		if (rc == 0) {
			err = -ETIMEDOUT;
			goto out;
		}
		if (errno != EINTR) {
			err = -errno;
			goto out;
		}
		if (stop_requested) {
			err = -EINTR;
			goto out;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen))
		err = -errno;
	else if (soerr)
		err = -soerr;
	*ms = (now_s() - t0) * 1e3;
	if (!err && graceful) {
		wait_peer_close(fd, timeout_ms);
		close(fd);
		return 0;
	}
out:
	/* Linger 0: close with RST, so thousands of connects leave no TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return err;
}

/* Options of the client subcommands, connect and udp-talk. */
struct client_opts {
	struct fg_addr dst, src;
	bool have_src;
	bool graceful;	/* connect only */
	bool new_flows; /* udp-talk only: a fresh socket (source port) per try */
	uint16_t dport;
	uint64_t count, interval_ms, timeout_ms;
};

/* Parses connect's options (graceful) or udp-talk's into *o; 0 or EXIT_USAGE. */
static int client_parse(const char *cmd, bool graceful_ok, int argc, char **argv,
			struct client_opts *o)
{
	enum { O_DST = 1, O_DPORT, O_COUNT, O_INTERVAL, O_TIMEOUT, O_SRC, O_GRACEFUL, O_NEW };
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "interval-ms", required_argument, NULL, O_INTERVAL },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "src", required_argument, NULL, O_SRC },
		{ "graceful", no_argument, NULL, O_GRACEFUL },
		{ "new-flows", no_argument, NULL, O_NEW },
		{ 0 },
	};
	bool have_dst = false;
	int c;

	*o = (struct client_opts){ .count = 10, .timeout_ms = 1000 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DST:
			if (!addr_parse(optarg, &o->dst))
				return usage_error(cmd, "--dst: \"%s\" is not an IP address", optarg);
			have_dst = true;
			break;
		case O_DPORT:
			OPT_NUM(cmd, "dport", 1, 65535, o->dport);
			break;
		case O_COUNT:
			OPT_NUM(cmd, "count", 1, 10000000, o->count);
			break;
		case O_INTERVAL:
			OPT_NUM(cmd, "interval-ms", 0, 3600000, o->interval_ms);
			break;
		case O_TIMEOUT:
			OPT_NUM(cmd, "timeout-ms", 1, 3600000, o->timeout_ms);
			break;
		case O_SRC:
			if (!addr_parse(optarg, &o->src))
				return usage_error(cmd, "--src: \"%s\" is not an IP address", optarg);
			o->have_src = true;
			break;
		case O_GRACEFUL:
			if (!graceful_ok)
				return usage_error(cmd, "%s", "--graceful is for connect only");
			o->graceful = true;
			break;
		case O_NEW:
			if (graceful_ok)
				return usage_error(cmd, "%s", "--new-flows is for udp-talk only");
			o->new_flows = true;
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!have_dst || !o->dport)
		return usage_error(cmd, "%s", "--dst and --dport are required");
	if (o->have_src && o->src.family != o->dst.family)
		return usage_error(cmd, "%s", "--src is not of the --dst address family");
	return 0;
}

/*
 * Runs once(o, i, ctx, &ms) o->count times, o->interval_ms apart, and prints
 * the latency result line. once returns 0 or -errno.
 */
static int client_run(const char *cmd, const struct client_opts *o,
		      int (*once)(const struct client_opts *o, uint64_t i, void *ctx, double *ms),
		      void *ctx)
{
	size_t ok = 0, fail = 0, refused = 0;
	const char *last_err = "none";
	double *lat = calloc(o->count, sizeof(*lat));

	if (!lat) {
		pr_err("%s: out of memory\n", cmd);
		return EXIT_SETUP;
	}
	install_stop_handlers();
	for (uint64_t i = 0; i < o->count && !stop_requested; i++) {
		double ms = 0;
		int err = once(o, i, ctx, &ms);

		if (err == -EADDRNOTAVAIL && o->have_src && ok + fail == 0) {
			pr_err("%s: cannot bind to --src: %s\n", cmd, strerror(-err));
			free(lat);
			return EXIT_SETUP;
		}
		if (err) {
			fail++;
			refused += err == -ECONNREFUSED;
			last_err = strerrorname_np(-err) ? strerrorname_np(-err) : "unknown";
		} else {
			lat[ok++] = ms;
		}
		if (i + 1 < o->count)
			sleep_ms((unsigned int)o->interval_ms);
	}
	print_latency_result(ok, fail, refused, lat, last_err);
	free(lat);
	return 0;
}

static int connect_once(const struct client_opts *o, uint64_t i, void *ctx, double *ms)
{
	(void)i;
	(void)ctx;
	return tcp_connect_once(&o->dst, o->dport, o->have_src ? &o->src : NULL,
				(unsigned int)o->timeout_ms, o->graceful, ms);
}

static int cmd_connect(int argc, char **argv)
{
	struct client_opts o;
	int rc = client_parse("connect", true, argc, argv, &o);

	return rc ? rc : client_run("connect", &o, connect_once, NULL);
}

/* ---- serve: TCP accept-and-close and/or UDP echo --------------------------------- */

struct serve_opts {
	uint16_t port;
	bool tcp, udp;
	struct fg_addr bind;
	bool have_bind;
	double seconds; /* 0: until a signal */
	const char *ready_file;
};

/* Binds a socket of type on the --bind address, or dual-stack [::] when none. */
static int serve_socket(const struct serve_opts *o, int type)
{
	struct sockaddr_storage ss;
	struct fg_addr any = { .family = AF_INET6 };
	const struct fg_addr *a = o->have_bind ? &o->bind : &any;
	socklen_t len = addr_to_sockaddr(a, o->port, &ss);
	int one = 1, zero = 0;
	int fd = socket(a->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 && !o->have_bind && errno == EAFNOSUPPORT) {
		/* IPv6 disabled: fall back to IPv4 only. */
		any.family = AF_INET;
		len = addr_to_sockaddr(&any, o->port, &ss);
		fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !o->have_bind)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto err;
	if (type == SOCK_STREAM && listen(fd, 65535))
		goto err;
	return fd;
err:
	pr_err("serve: cannot listen on %s port %u: %s\n", type == SOCK_STREAM ? "TCP" : "UDP",
	       o->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int serve_loop(const struct serve_opts *o, int tfd, int ufd)
{
	struct pollfd pfd[2] = { { .fd = tfd, .events = POLLIN }, { .fd = ufd, .events = POLLIN } };
	uint64_t accepted = 0, echoed = 0;
	double start = now_s(), deadline = o->seconds > 0 ? start + o->seconds : 0;
	uint8_t buf[FRAME_MAX];

	while (!stop_requested) {
		int timeout = 200;

		if (deadline) {
			double left = deadline - now_s();

			if (left <= 0)
				break;
			if (left * 1e3 < timeout)
				timeout = (int)(left * 1e3) + 1;
		}
		if (poll(pfd, 2, timeout) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int cfd;

			while ((cfd = accept4(tfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				accepted++;
				close(cfd);
			}
		}
		if (pfd[1].revents & POLLIN) {
			struct sockaddr_storage peer;

			for (;;) {
				socklen_t plen = sizeof(peer);
				ssize_t n = recvfrom(ufd, buf, sizeof(buf), 0,
						     (struct sockaddr *)&peer, &plen);

				if (n < 0)
					break;
				if (sendto(ufd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen) == n)
					echoed++;
			}
		}
	}
	printf("accepted=%llu echoed=%llu seconds=%.3f\n", (unsigned long long)accepted,
	       (unsigned long long)echoed, now_s() - start);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	enum { O_PORT = 1, O_TCP, O_UDP, O_BIND, O_SECONDS, O_READY };
	static const struct option opts[] = {
		{ "port", required_argument, NULL, O_PORT },
		{ "tcp", no_argument, NULL, O_TCP },
		{ "udp", no_argument, NULL, O_UDP },
		{ "bind", required_argument, NULL, O_BIND },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "ready-file", required_argument, NULL, O_READY },
		{ 0 },
	};
	const char *cmd = "serve";
	struct serve_opts o = { 0 };
	int c, tfd = -1, ufd = -1, rc = EXIT_SETUP;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_PORT:
			OPT_NUM(cmd, "port", 1, 65535, o.port);
			break;
		case O_TCP:
			o.tcp = true;
			break;
		case O_UDP:
			o.udp = true;
			break;
		case O_BIND:
			if (!addr_parse(optarg, &o.bind))
				return usage_error(cmd, "--bind: \"%s\" is not an IP address", optarg);
			o.have_bind = true;
			break;
		case O_SECONDS:
			OPT_SECONDS(cmd, "seconds", o.seconds);
			break;
		case O_READY:
			o.ready_file = optarg;
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!o.port)
		return usage_error(cmd, "%s", "--port is required");
	if (!o.udp)
		o.tcp = true; /* TCP unless only --udp was asked for */

	install_stop_handlers();
	if (o.tcp && (tfd = serve_socket(&o, SOCK_STREAM)) < 0)
		goto out;
	if (o.udp && (ufd = serve_socket(&o, SOCK_DGRAM)) < 0)
		goto out;
	if (touch_ready_file(o.ready_file))
		goto out;
	rc = serve_loop(&o, tfd, ufd);
out:
	if (tfd >= 0)
		close(tfd);
	if (ufd >= 0)
		close(ufd);
	return rc;
}

/* ---- udp-talk: a legitimate UDP client waiting for each echo ----------------------- */

struct talk_msg {
	char magic[8];
	uint64_t seq;
	uint64_t nonce;
};

/* Sends msg and waits up to timeout_ms for its own echo (stale echoes are skipped). */
static int udp_talk_once(int fd, const struct talk_msg *msg, unsigned int timeout_ms, double *ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double t0 = now_s();
	struct talk_msg in;

	if (send(fd, msg, sizeof(*msg), 0) != (ssize_t)sizeof(*msg))
		return -errno;
	for (;;) {
		int left = (int)(timeout_ms - (now_s() - t0) * 1e3);
		ssize_t n;
		int rc;

		if (left <= 0 || stop_requested)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		n = recv(fd, &in, sizeof(in), 0);
		if (n < 0) {
			/* ICMP port unreachable surfaces here as ECONNREFUSED. */
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n == (ssize_t)sizeof(in) && !memcmp(&in, msg, sizeof(in))) {
			*ms = (now_s() - t0) * 1e3;
			return 0;
		}
	}
}

struct talk_ctx {
	int fd; /* connected to --dst */
	struct talk_msg msg;
};

/* A UDP socket bound to --src (if given) and connected to --dst; -1 with errno. */
static int talk_socket(const struct client_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(o->dst.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	if (o->have_src) {
		len = addr_to_sockaddr(&o->src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len))
			goto fail;
	}
	len = addr_to_sockaddr(&o->dst, o->dport, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len))
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int talk_once(const struct client_opts *o, uint64_t i, void *ctx, double *ms)
{
	struct talk_ctx *t = ctx;
	int rc, fd = t->fd;

	t->msg.seq = i;
	/* --new-flows: each try is a new flow (a new source port) to a
	 * flood limiter, as a client's fresh media socket is. */
	if (o->new_flows && (fd = talk_socket(o)) < 0)
		return -errno;
	rc = udp_talk_once(fd, &t->msg, (unsigned int)o->timeout_ms, ms);
	if (fd != t->fd)
		close(fd);
	return rc;
}

static int cmd_udp_talk(int argc, char **argv)
{
	struct client_opts o;
	struct talk_ctx t = { .fd = -1, .msg = { .magic = "fgtalk" } };
	struct prng r;
	int rc = client_parse("udp-talk", false, argc, argv, &o);

	if (rc)
		return rc;
	t.fd = talk_socket(&o);
	if (t.fd < 0)
		goto setup_err;
	prng_seed(&r, 0);
	t.msg.nonce = prng_next(&r);
	rc = client_run("udp-talk", &o, talk_once, &t);
	close(t.fd);
	return rc;
setup_err:
	pr_err("udp-talk: socket setup failed: %s\n", strerror(errno));
	if (t.fd >= 0)
		close(t.fd);
	return EXIT_SETUP;
}

/* ---- raw: inject one hex-given Ethernet frame N times ------------------------------- */

/* Hex digits with optional separators (space, ':', '-', '.'); returns length or -1. */
static ssize_t hex_decode(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int half = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ' || *s == ':' || *s == '-' || *s == '.' || *s == '\n' || *s == '\t')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (half < 0) {
			half = v;
			continue;
		}
		if (n == max)
			return -1;
		out[n++] = (uint8_t)(half << 4 | v);
		half = -1;
	}
	return half < 0 ? (ssize_t)n : -1;
}

static int cmd_raw(int argc, char **argv)
{
	enum { O_DEV = 1, O_HEX, O_COUNT, O_INTERVAL };
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, O_DEV },
		{ "hex", required_argument, NULL, O_HEX },
		{ "count", required_argument, NULL, O_COUNT },
		{ "interval-ms", required_argument, NULL, O_INTERVAL },
		{ 0 },
	};
	const char *cmd = "raw", *dev = NULL, *hex = NULL;
	uint64_t count = 1, interval_ms = 0, sent = 0;
	uint8_t frame[FRAME_MAX];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	ssize_t flen;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEV:
			dev = optarg;
			break;
		case O_HEX:
			hex = optarg;
			break;
		case O_COUNT:
			OPT_NUM(cmd, "count", 1, 10000000, count);
			break;
		case O_INTERVAL:
			OPT_NUM(cmd, "interval-ms", 0, 3600000, interval_ms);
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!dev || !hex)
		return usage_error(cmd, "%s", "--dev and --hex are required");
	flen = hex_decode(hex, frame, sizeof(frame));
	if (flen < ETH_HLEN)
		return usage_error(cmd, "--hex: not an Ethernet frame of whole hex bytes "
					"(14..2048 bytes): %s", hex);
	sll.sll_ifindex = if_index(cmd, dev);
	if (!sll.sll_ifindex)
		return EXIT_SETUP;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_err("raw: cannot open AF_PACKET socket: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	install_stop_handlers();
	for (; sent < count && !stop_requested; sent++) {
		if (sendto(fd, frame, (size_t)flen, 0, (struct sockaddr *)&sll, sizeof(sll)) != flen) {
			pr_err("raw: send on %s failed: %s\n", dev, strerror(errno));
			close(fd);
			return EXIT_SETUP;
		}
		if (sent + 1 < count)
			sleep_ms((unsigned int)interval_ms);
	}
	close(fd);
	printf("sent=%llu bytes=%zd\n", (unsigned long long)sent, flen);
	return 0;
}

/* ---- sniff: count incoming frames by L3 source ------------------------------------- */

struct sniff_filter {
	struct fg_cidr src;
	bool have_src;
	uint16_t dport; /* 0: any */
};

/*
 * Parses frame (Ethernet, then up to MAX_VLAN_TAGS 802.1Q/802.1ad tags) and says
 * whether it matches f. *tagged is set when a tag was seen in the frame bytes.
 */
static bool sniff_match(const uint8_t *p, size_t len, const struct sniff_filter *f, bool *tagged)
{
	size_t off = 12, l4off;
	uint16_t type;
	struct fg_addr src = { 0 };
	uint8_t proto;

	*tagged = false;
	if (len < ETH_HLEN)
		return false;
	type = (uint16_t)(p[off] << 8 | p[off + 1]);
	off += 2;
	for (int i = 0; i < MAX_VLAN_TAGS && (type == ETH_P_8021Q || type == ETH_P_8021AD); i++) {
		if (len < off + 4)
			return false;
		*tagged = true;
		type = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (type == ETH_P_IP) {
		if (len < off + 20 || p[off] >> 4 != 4)
			return false;
		src.family = AF_INET;
		memcpy(src.b, p + off + 12, 4);
		proto = p[off + 9];
		l4off = off + (p[off] & 0xf) * 4u;
		/* Non-first fragments carry no ports. */
		if ((p[off + 6] & 0x1f) || p[off + 7])
			proto = 0;
	} else if (type == ETH_P_IPV6) {
		if (len < off + 40 || p[off] >> 4 != 6)
			return false;
		src.family = AF_INET6;
		memcpy(src.b, p + off + 8, 16);
		proto = p[off + 6]; /* extension headers are not walked: no port match then */
		l4off = off + 40;
	} else {
		return !f->have_src && !f->dport;
	}
	if (f->have_src && !cidr_contains(&f->src, &src))
		return false;
	if (f->dport) {
		if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || len < l4off + 4)
			return false;
		if ((uint16_t)(p[l4off + 2] << 8 | p[l4off + 3]) != f->dport)
			return false;
	}
	return true;
}

static int sniff_open(const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, rcvbuf = 64 << 20;
	int fd;

	sll.sll_ifindex = if_index("sniff", dev);
	if (!sll.sll_ifindex)
		return -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		goto err;
	/* A big queue so a bounded flood is counted, not dropped, by a slow reader. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	/* The kernel moves the outer VLAN tag into metadata; auxdata brings it back. */
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		goto err;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto err;
	return fd;
err:
	pr_err("sniff: cannot capture on %s: %s\n", dev, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static bool aux_has_vlan(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct tpacket_auxdata aux;

		if (cm->cmsg_level != SOL_PACKET || cm->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
		return aux.tp_status & TP_STATUS_VLAN_VALID;
	}
	return false;
}

static int cmd_sniff(int argc, char **argv)
{
	enum { O_DEV = 1, O_SECONDS, O_MATCH_SRC, O_MATCH_DPORT, O_UNTIL, O_READY };
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, O_DEV },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "match-src", required_argument, NULL, O_MATCH_SRC },
		{ "match-dport", required_argument, NULL, O_MATCH_DPORT },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "ready-file", required_argument, NULL, O_READY },
		{ 0 },
	};
	const char *cmd = "sniff", *dev = NULL, *ready_file = NULL;
	struct sniff_filter f = { 0 };
	double seconds = -1, start, deadline;
	uint64_t until = 0, seen = 0, total = 0, vlan = 0;
	static uint8_t bufs[BATCH_MAX][PKT_MAX];
	static uint8_t ctrl[BATCH_MAX][CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_ll from[BATCH_MAX];
	struct tpacket_stats st = { 0 };
	socklen_t stlen = sizeof(st);
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEV:
			dev = optarg;
			break;
		case O_SECONDS:
			OPT_SECONDS(cmd, "seconds", seconds);
			break;
		case O_MATCH_SRC:
			if (!cidr_parse(optarg, &f.src))
				return usage_error(cmd, "--match-src: \"%s\" is not ADDR or ADDR/PLEN",
						   optarg);
			f.have_src = true;
			break;
		case O_MATCH_DPORT:
			OPT_NUM(cmd, "match-dport", 1, 65535, f.dport);
			break;
		case O_UNTIL:
			OPT_NUM(cmd, "until", 1, UINT64_MAX, until);
			break;
		case O_READY:
			ready_file = optarg;
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!dev || seconds <= 0)
		return usage_error(cmd, "%s", "--dev and --seconds (> 0) are required");

	fd = sniff_open(dev);
	if (fd < 0)
		return EXIT_SETUP;
	/* Reading the stats resets them: start counting drops from here. */
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	if (touch_ready_file(ready_file)) {
		close(fd);
		return EXIT_SETUP;
	}
	install_stop_handlers();
	start = now_s();
	deadline = start + seconds;
	/*
	 * Stopped by a signal, it still reads what is queued: a test that stops it once a
	 * counter says every frame went past XDP gets every frame that passed.
	 */
	for (bool draining = false; !until || seen < until;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();
		int n;

		if (stop_requested) {
			draining = true;
		} else {
			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)(left * 1e3) + 1) <= 0)
				continue;
		}
		for (int i = 0; i < BATCH_MAX; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = PKT_MAX };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = ctrl[i],
				.msg_controllen = sizeof(ctrl[i]),
			};
		}
		n = recvmmsg(fd, msgs, BATCH_MAX, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len < PKT_MAX ? msgs[i].msg_len : PKT_MAX;
			bool tagged;

			if (from[i].sll_pkttype == PACKET_OUTGOING)
				continue;
			total++;
			if (sniff_match(bufs[i], len, &f, &tagged))
				seen++;
			if (tagged || aux_has_vlan(&msgs[i].msg_hdr))
				vlan++;
		}
		if (draining && n < BATCH_MAX)
			break;
	}
	stlen = sizeof(st);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	close(fd);
	printf("seen=%llu total=%llu vlan=%llu drops=%u seconds=%.3f\n", (unsigned long long)seen,
	       (unsigned long long)total, (unsigned long long)vlan, st.tp_drops, now_s() - start);
	return 0;
}

/* ---- resp-clients: many idle (or half-request) clients on a Unix socket ------- */

/*
 * Opens --count connections to a RESP Unix socket and holds them for --hold-ms
 * (or until a signal), each silent or, with --half, holding the first half of a
 * request. Hostile-client stand-in for the agent's socket tests.
 */
static int cmd_resp_clients(int argc, char **argv)
{
	enum { O_UNIX = 1, O_COUNT, O_HOLD, O_HALF };
	static const struct option opts[] = {
		{ "unix", required_argument, NULL, O_UNIX },
		{ "count", required_argument, NULL, O_COUNT },
		{ "hold-ms", required_argument, NULL, O_HOLD },
		{ "half", no_argument, NULL, O_HALF },
		{ 0 },
	};
	static const char half[] = "*2\r\n$4\r\nECHO\r\n$10\r\nhal";
	const char *cmd = "resp-clients", *path = NULL;
	uint64_t count = 100, hold_ms = 1000;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rlimit rl;
	bool send_half = false;
	size_t opened = 0, refused = 0, closed_by_peer = 0;
	int *fds, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_UNIX:
			path = optarg;
			break;
		case O_COUNT:
			OPT_NUM(cmd, "count", 1, 100000, count);
			break;
		case O_HOLD:
			OPT_NUM(cmd, "hold-ms", 0, 3600000, hold_ms);
			break;
		case O_HALF:
			send_half = true;
			break;
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (!path || strlen(path) >= sizeof(sun.sun_path))
		return usage_error(cmd, "%s", "--unix PATH is required (under 108 bytes)");
	memcpy(sun.sun_path, path, strlen(path));
	/* Room for the connections: raise the soft fd limit to the hard one. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < count + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = calloc(count, sizeof(*fds));
	if (!fds) {
		pr_err("resp-clients: out of memory\n");
		return EXIT_SETUP;
	}
	install_stop_handlers();
	for (uint64_t i = 0; i < count && !stop_requested; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			if (fd >= 0)
				close(fd);
			refused++;
			continue;
		}
		if (send_half && write(fd, half, sizeof(half) - 1) < 0) {
			close(fd);
			refused++;
			continue;
		}
		fds[opened++] = fd;
	}
	printf("opened=%zu refused=%zu\n", opened, refused);
	fflush(stdout);
	for (double t0 = now_s(); !stop_requested && (now_s() - t0) * 1e3 < (double)hold_ms;)
		sleep_ms(20);
	for (size_t i = 0; i < opened; i++) {
		char b;

		/* A peer that closed us reads EOF (or an error reply then EOF). */
		if (recv(fds[i], &b, 1, MSG_DONTWAIT) == 0)
			closed_by_peer++;
		close(fds[i]);
	}
	printf("held=%zu closed_by_peer=%zu\n", opened, closed_by_peer);
	free(fds);
	return 0;
}

/* ---- main --------------------------------------------------------------------------- */

static const char usage_text[] =
	"usage: fgnet SUBCOMMAND [OPTIONS]   (one key=value result line on stdout)\n"
	"  syn      --dst ADDR --dport N [--src ADDR|CIDR] [--sport N] [--count N=1000]\n"
	"           [--pps N=0 (max)] [--seconds S=5] [--flags syn|synfin|synrst|ack]\n"
	"           [--dev IFACE --dst-mac MAC] [--seed N]\n"
	"             -> sent= seconds= pps= errors=\n"
	"  udp      --dst ADDR --dport N [--src ADDR|CIDR] [--sport N] [--count N=1000]\n"
	"           [--pps N=0] [--seconds S=5] [--new-flows] [--dev IFACE --dst-mac MAC]\n"
	"           [--seed N]                 -> sent= seconds= pps= errors=\n"
	"  connect  --dst ADDR --dport N [--count N=10] [--interval-ms N=0]\n"
	"           [--timeout-ms N=1000] [--src ADDR] [--graceful]\n"
	"             -> ok= fail= refused= p50_ms= p99_ms= max_ms= last_err=\n"
	"  serve    --port N [--tcp] [--udp] [--bind ADDR] [--seconds S=0 (until signal)]\n"
	"           [--ready-file PATH]        -> accepted= echoed= seconds=\n"
	"  udp-talk --dst ADDR --dport N [--count N=10] [--timeout-ms N=1000] [--new-flows]\n"
	"           [--interval-ms N=0] [--src ADDR]\n"
	"             -> ok= fail= refused= p50_ms= p99_ms= max_ms= last_err=\n"
	"  raw      --dev IFACE --hex HEXBYTES [--count N=1] [--interval-ms N=0]\n"
	"             -> sent= bytes=\n"
	"  sniff    --dev IFACE --seconds S [--match-src ADDR|CIDR] [--match-dport N]\n"
	"           [--until N] [--ready-file PATH]\n"
	"             -> seen= total= vlan= drops= seconds=\n"
	"  resp-clients --unix PATH [--count N=100] [--hold-ms N=1000] [--half]\n"
	"             -> opened= refused= (at once), held= closed_by_peer= (at the end)\n"
	"Without --dev, syn/udp send through a raw IP socket (the kernel routes and\n"
	"resolves the next hop); with --dev they write whole frames with AF_PACKET.\n"
	"SIGINT/SIGTERM end any subcommand early; it still prints its result line.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "syn", cmd_syn },	    { "udp", cmd_udp }, { "connect", cmd_connect },
		{ "serve", cmd_serve },	    { "udp-talk", cmd_udp_talk },
		{ "raw", cmd_raw },	    { "sniff", cmd_sniff },
		{ "resp-clients", cmd_resp_clients },
	};

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	/* Line-buffered so a killed or timed-out run still leaves its result line. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			optind = 1; /* getopt restarts at the subcommand's own argv[1] */
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "fgnet: unknown subcommand \"%s\"\n", argv[1]);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
