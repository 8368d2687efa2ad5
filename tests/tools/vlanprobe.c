// SPDX-License-Identifier: GPL-2.0
/* vlanprobe: one TCP handshake in crafted Ethernet frames carrying 0-3 VLAN
 * tags, for the VLAN/QinQ e2e test (this kernel has no 802.1Q support, so no
 * VLAN sub-interface can carry a real client). libc only.
 *
 *   vlanprobe --dev IF --dmac MAC --src ADDR --dst ADDR --dport P
 *             [--sport P] [--tags 0-3] [--timeout MS] [--expect-none]
 *             [--no-ack] [--seed S]
 *
 * Sends a SYN with Linux's options (MSS, SACK_PERM, TS, NOP, WS 7) on an
 * AF_PACKET socket bound to IF, captures the SYN-ACK and checks it with its
 * own code (tags byte for byte, MACs/addresses/ports swapped, ack = seq + 1,
 * flags, options, TS echo, IPv4 and TCP checksums), then sends the ACK that
 * completes the handshake (ack = cookie + 1, TS echo) with the same tags.
 * Tags: 1 = 802.1Q; 2 = 802.1ad outer + 802.1Q inner; 3 = one more 802.1Q
 * (malformed for xdpct: use with --expect-none, which passes only when no
 * reply arrives within the timeout).
 * Prints one JSON line with every check; exit 0 when all passed, 1 when a
 * check failed, 2 on usage or system errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TAGS 3
#define MAX_FRAMES 4096 /* frames inspected before giving up */
#define FRAME_MAX 4096

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define WS_OURS 7

/* Tags of the probe, outer first, per tag count: 802.1Q alone; 802.1ad
 * (S-tag) + 802.1Q (C-tag); one more 802.1Q. PCP and DEI bits are set on
 * purpose so a rewrite of any bit of a TCI shows. */
static const uint16_t tags_tpid[MAX_TAGS + 1][MAX_TAGS] = {
	{ 0 }, { 0x8100 }, { 0x88a8, 0x8100 }, { 0x88a8, 0x8100, 0x8100 },
};
static const uint16_t tags_tci[MAX_TAGS + 1][MAX_TAGS] = {
	{ 0 }, { 0x60c8 }, { 0xb064, 0x60c8 }, { 0xb064, 0x60c8, 0x212c },
};

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vlanprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* ---- byte access and checksums (our own, independent of the BPF side) ---- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the pseudo-header: addresses from the IP header at ip. */
static uint32_t pseudo_sum(int family, const uint8_t *ip, uint32_t tcplen)
{
	uint32_t s;

	if (family == 4) {
		s = csum_add(0, ip + 12, 8);
		s += IPPROTO_TCP + tcplen;
	} else {
		s = csum_add(0, ip + 8, 32);
		s += (tcplen >> 16) + (tcplen & 0xffff) + IPPROTO_TCP;
	}
	return s;
}

/* ---- frame building ---- */

struct probe {
	int family;
	int ntags;
	uint8_t smac[6], dmac[6];
	uint8_t saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t isn, tsval;
};

/* Ethernet + tags + IP + TCP with opts; returns the frame length. */
static size_t build(const struct probe *pr, uint8_t *f, uint8_t flags, uint32_t seq,
		    uint32_t ack, uint16_t win, const uint8_t *opts, size_t optlen)
{
	size_t off = 12, l3, l4, tcplen = 20 + optlen;

	memcpy(f, pr->dmac, 6);
	memcpy(f + 6, pr->smac, 6);
	for (int i = 0; i < pr->ntags; i++) {
		put16(f + off, tags_tpid[pr->ntags][i]);
		put16(f + off + 2, tags_tci[pr->ntags][i]);
		off += 4;
	}
	put16(f + off, pr->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	l3 = off + 2;
	if (pr->family == 4) {
		uint8_t *ip = f + l3;

		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + tcplen));
		put16(ip + 4, (uint16_t)rnd());
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, pr->saddr, 4);
		memcpy(ip + 16, pr->daddr, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		l4 = l3 + 20;
	} else {
		uint8_t *ip = f + l3;

		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)tcplen);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, pr->saddr, 16);
		memcpy(ip + 24, pr->daddr, 16);
		l4 = l3 + 40;
	}
	uint8_t *th = f + l4;

	memset(th, 0, 20);
	put16(th, pr->sport);
	put16(th + 2, pr->dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((tcplen / 4) << 4);
	th[13] = flags;
	put16(th + 14, win);
	memcpy(th + 20, opts, optlen);
	put16(th + 16, csum_fold(csum_add(pseudo_sum(pr->family, f + l3, (uint32_t)tcplen),
					  th, tcplen)));
	return l4 + tcplen;
}

/* ---- reply parsing ---- */

struct reply {
	int ntags, tags_from_aux;
	uint16_t tpid[MAX_TAGS + 1], tci[MAX_TAGS + 1];
	const uint8_t *eth, *ip, *th;
	uint16_t ethertype;
	int family;
	size_t iplen_hdr, tcplen; /* tcplen from the IP length fields */
	bool len_ok;              /* IP lengths fit the frame */
};

/* Walks tags, IP and TCP of f; false when it is not a TCP segment of our
 * family or does not fit. */
static bool parse_reply(const uint8_t *f, size_t len, int family, struct reply *r)
{
	size_t off = 12;
	uint16_t et;

	r->ntags = 0;
	r->eth = f;
	if (len < 14)
		return false;
	et = get16(f + off);
	while (et == 0x8100 || et == 0x88a8) {
		if (r->ntags > MAX_TAGS || len < off + 6)
			return false;
		r->tpid[r->ntags] = et;
		r->tci[r->ntags] = get16(f + off + 2);
		r->ntags++;
		off += 4;
		et = get16(f + off);
	}
	r->ethertype = et;
	off += 2;
	r->ip = f + off;
	if (family == 4) {
		if (et != ETH_P_IP || len < off + 20 || (r->ip[0] >> 4) != 4 || r->ip[9] != IPPROTO_TCP)
			return false;
		size_t ihl = (size_t)(r->ip[0] & 0xf) * 4, tot = get16(r->ip + 2);

		if (ihl < 20 || tot < ihl + 20 || len < off + ihl + 20)
			return false;
		r->iplen_hdr = ihl;
		r->tcplen = tot - ihl;
		r->len_ok = len >= off + tot;
	} else {
		if (et != ETH_P_IPV6 || len < off + 40 + 20 || (r->ip[0] >> 4) != 6 ||
		    r->ip[6] != IPPROTO_TCP)
			return false;
		r->iplen_hdr = 40;
		r->tcplen = get16(r->ip + 4);
		r->len_ok = r->tcplen >= 20 && len >= off + 40 + r->tcplen;
	}
	r->family = family;
	r->th = r->ip + r->iplen_hdr;
	return true;
}

/* ---- checks and output ---- */

#define MAX_CHECKS 40
static struct {
	const char *name;
	bool ok;
} checks[MAX_CHECKS];
static int nchecks;

static bool check(const char *name, bool ok)
{
	if (nchecks < MAX_CHECKS) {
		checks[nchecks].name = name;
		checks[nchecks].ok = ok;
		nchecks++;
	}
	return ok;
}

static bool all_ok(void)
{
	for (int i = 0; i < nchecks; i++)
		if (!checks[i].ok)
			return false;
	return nchecks > 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static unsigned long parse_num(const char *opt, const char *v, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || end == v || *end || n > max)
		die("bad value for %s: %s", opt, v);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives one frame; rebuilds an outer tag the kernel moved to the aux data.
 * Returns the length in out, 0 for frames to skip, -1 on timeout. */
static ssize_t recv_frame(int fd, uint8_t *out, int64_t deadline, int *from_aux)
{
	uint8_t buf[FRAME_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cbuf;
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &sll, .msg_namelen = sizeof(sll), .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
	};
	struct tpacket_auxdata *aux = NULL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left = deadline - now_ms();
	ssize_t n;

	*from_aux = 0;
	if (left <= 0)
		return -1;
	n = poll(&pfd, 1, (int)left);
	if (n < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	if (n <= 0)
		return deadline - now_ms() <= 0 ? -1 : 0;
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		die("recvmsg: %s", strerror(errno));
	}
	if (sll.sll_pkttype == PACKET_OUTGOING || (msg.msg_flags & MSG_TRUNC) || n < 14)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*aux)))
			aux = (struct tpacket_auxdata *)CMSG_DATA(c);
	/* The receive path (__netif_receive_skb_core -> skb_vlan_untag) moves
	 * the outer tag into skb->vlan_tci whatever the rxvlan offload says,
	 * before AF_PACKET taps see the frame; AF_PACKET reports it in the aux
	 * data. Put it back where it was on the wire (after the MACs). */
	if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
		uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
									      : ETH_P_8021Q;

		memcpy(out, buf, 12);
		put16(out + 12, tpid);
		put16(out + 14, aux->tp_vlan_tci);
		memcpy(out + 16, buf + 12, (size_t)n - 12);
		*from_aux = 1;
		return n + 4;
	}
	memcpy(out, buf, (size_t)n);
	return n;
}

static void usage(void)
{
	fputs("usage: vlanprobe --dev IF --dmac MAC --src ADDR --dst ADDR --dport P\n"
	      "                 [--sport P] [--tags 0-3] [--timeout MS] [--expect-none]\n"
	      "                 [--no-ack] [--seed S]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *dmac_s = NULL, *src_s = NULL, *dst_s = NULL;
	unsigned long timeout_ms = 2000, seed = 0;
	bool expect_none = false, send_ack = true;
	struct probe pr = { 0 };
	uint8_t frame[256], rx[FRAME_MAX + 4], opts[40];
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	struct reply r = { 0 };
	int fd, ifindex, one = 1, frames_seen = 0, sport_set = 0;
	size_t flen;
	int64_t deadline;
	bool found = false;
	int mss = -1, wscale = -1;
	uint32_t srv_tsval = 0, srv_seq = 0;
	bool ack_sent = false;

	pr.ntags = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--expect-none")) {
			expect_none = true;
			continue;
		}
		if (!strcmp(a, "--no-ack")) {
			send_ack = false;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		if (strcmp(a, "--dev") && strcmp(a, "--dmac") && strcmp(a, "--src") &&
		    strcmp(a, "--dst") && strcmp(a, "--dport") && strcmp(a, "--sport") &&
		    strcmp(a, "--tags") && strcmp(a, "--timeout") && strcmp(a, "--seed"))
			die("unknown option %s", a);
		if (i + 1 >= argc)
			die("%s needs a value", a);
		const char *v = argv[++i];

		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--dmac"))
			dmac_s = v;
		else if (!strcmp(a, "--src"))
			src_s = v;
		else if (!strcmp(a, "--dst"))
			dst_s = v;
		else if (!strcmp(a, "--dport"))
			pr.dport = (uint16_t)parse_num(a, v, 65535);
		else if (!strcmp(a, "--sport")) {
			pr.sport = (uint16_t)parse_num(a, v, 65535);
			sport_set = 1;
		} else if (!strcmp(a, "--tags"))
			pr.ntags = (int)parse_num(a, v, MAX_TAGS);
		else if (!strcmp(a, "--timeout"))
			timeout_ms = parse_num(a, v, 600000);
		else if (!strcmp(a, "--seed"))
			seed = parse_num(a, v, ~0UL);
		else
			die("unknown option %s", a);
	}
	if (!dev || !dmac_s || !src_s || !dst_s || !pr.dport)
		usage();
	if (parse_mac(dmac_s, pr.dmac))
		die("bad MAC %s", dmac_s);
	if (inet_pton(AF_INET, src_s, pr.saddr) == 1 && inet_pton(AF_INET, dst_s, pr.daddr) == 1)
		pr.family = 4;
	else if (inet_pton(AF_INET6, src_s, pr.saddr) == 1 &&
		 inet_pton(AF_INET6, dst_s, pr.daddr) == 1)
		pr.family = 6;
	else
		die("--src and --dst must be IPv4 or IPv6 addresses of one family");

	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec << 20 ^ (unsigned long)getpid();
	}
	rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	if (!sport_set)
		pr.sport = (uint16_t)(32768 + rnd() % 28000);
	pr.isn = (uint32_t)rnd();
	pr.tsval = (uint32_t)rnd() | 1;

	/* protocol 0 until bound: no frame of another interface gets queued */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	if (strlen(dev) >= IFNAMSIZ)
		die("interface name too long: %s", dev);
	strcpy(ifr.ifr_name, dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die("%s: %s", dev, strerror(errno));
	ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR %s: %s", dev, strerror(errno));
	memcpy(pr.smac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		die("PACKET_AUXDATA: %s", strerror(errno));
	/* our own frames would only be skipped (PACKET_OUTGOING) anyway */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind %s: %s", dev, strerror(errno));

	/* SYN, Linux's option layout: MSS, SACK_PERM, TS, NOP, WS */
	uint16_t mss_ours = pr.family == 4 ? 1460 : 1440;
	uint8_t synopts[20] = { 2, 4, (uint8_t)(mss_ours >> 8), (uint8_t)mss_ours, 4, 2, 8, 10 };

	put32(synopts + 8, pr.tsval);
	put32(synopts + 12, 0);
	synopts[16] = 1;
	synopts[17] = 3;
	synopts[18] = 3;
	synopts[19] = WS_OURS;
	flen = build(&pr, frame, TH_SYN, pr.isn, 0, 64240, synopts, sizeof(synopts));
	sll.sll_protocol = htons(get16(frame + 12));
	if (sendto(fd, frame, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)flen)
		die("send SYN: %s", strerror(errno));

	/* capture until the reply, the timeout or MAX_FRAMES frames */
	deadline = now_ms() + (int64_t)timeout_ms;
	int from_aux = 0;

	for (int k = 0; k < MAX_FRAMES; k++) {
		ssize_t n = recv_frame(fd, rx, deadline, &from_aux);

		if (n < 0)
			break;
		if (n == 0)
			continue;
		frames_seen++;
		if (!parse_reply(rx, (size_t)n, pr.family, &r))
			continue;
		if (get16(r.th) != pr.dport || get16(r.th + 2) != pr.sport)
			continue;
		r.tags_from_aux = from_aux;
		found = true;
		flen = (size_t)n;
		break;
	}

	if (expect_none) {
		check("no_reply", !found);
		goto out;
	}
	if (!check("reply", found))
		goto out;

	/* L2: MACs swapped, the tags exactly as sent (TPID and TCI, in order) */
	check("eth_dst_is_client", !memcmp(r.eth, pr.smac, 6));
	check("eth_src_is_server", !memcmp(r.eth + 6, pr.dmac, 6));
	bool tags_ok = r.ntags == pr.ntags;

	for (int i = 0; tags_ok && i < pr.ntags; i++)
		tags_ok = r.tpid[i] == tags_tpid[pr.ntags][i] && r.tci[i] == tags_tci[pr.ntags][i];
	check("tags_kept", tags_ok);
	check("ethertype", r.ethertype == (pr.family == 4 ? ETH_P_IP : ETH_P_IPV6));

	/* L3 */
	check("ip_lengths", r.len_ok);
	if (pr.family == 4) {
		check("ip_addrs_swapped",
		      !memcmp(r.ip + 12, pr.daddr, 4) && !memcmp(r.ip + 16, pr.saddr, 4));
		check("ip_header", r.iplen_hdr == 20 && !(get16(r.ip + 6) & 0x3fff) && r.ip[8] > 0);
		check("ip_csum", r.len_ok && csum_fold(csum_add(0, r.ip, r.iplen_hdr)) == 0);
	} else {
		check("ip_addrs_swapped",
		      !memcmp(r.ip + 8, pr.daddr, 16) && !memcmp(r.ip + 24, pr.saddr, 16));
		check("ip_header", r.ip[7] > 0);
	}

	/* L4 */
	const uint8_t *th = r.th;
	size_t doff = (size_t)(th[12] >> 4) * 4;
	bool doff_ok = r.len_ok && doff >= 20 && doff <= r.tcplen;

	check("ports_swapped", get16(th) == pr.dport && get16(th + 2) == pr.sport);
	check("tcp_csum", r.len_ok && csum_fold(csum_add(pseudo_sum(pr.family, r.ip,
								  (uint32_t)r.tcplen),
							 th, r.tcplen)) == 0);
	check("flags_syn_ack", (th[13] & 0x3f) == (TH_SYN | TH_ACK));
	srv_seq = get32(th + 4);
	check("ack_eq_seq_plus_1", get32(th + 8) == pr.isn + 1);
	check("tcp_doff", doff_ok);
	check("no_payload", doff_ok && r.tcplen == doff);

	/* options: walk them, each must fit */
	bool opts_ok = doff_ok, sack = false, ts = false, ts_echo = false;

	for (size_t o = 20; opts_ok && o < doff;) {
		uint8_t kind = th[o], ol;

		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 2 > doff || (ol = th[o + 1]) < 2 || o + ol > doff) {
			opts_ok = false;
			break;
		}
		if (kind == 2 && ol == 4)
			mss = get16(th + o + 2);
		else if (kind == 3 && ol == 3)
			wscale = th[o + 2];
		else if (kind == 4 && ol == 2)
			sack = true;
		else if (kind == 8 && ol == 10) {
			ts = true;
			srv_tsval = get32(th + o + 2);
			ts_echo = get32(th + o + 6) == pr.tsval;
		}
		o += ol;
	}
	check("opts_wellformed", opts_ok);
	check("opt_mss", mss > 0);
	check("opt_sack_perm", sack);
	check("opt_ts", ts);
	check("ts_echo", ts_echo);
	check("opt_wscale", wscale >= 0 && wscale <= 14);

	/* the ACK that completes the handshake: NOP NOP TS, same tags */
	if (send_ack) {
		size_t ol = 0;

		if (ts) {
			opts[0] = 1;
			opts[1] = 1;
			opts[2] = 8;
			opts[3] = 10;
			put32(opts + 4, pr.tsval + 1);
			put32(opts + 8, srv_tsval);
			ol = 12;
		}
		flen = build(&pr, frame, TH_ACK, pr.isn + 1, srv_seq + 1,
			     (uint16_t)(64256 >> (wscale >= 0 ? WS_OURS : 0)), opts, ol);
		ack_sent = sendto(fd, frame, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
			   (ssize_t)flen;
		check("ack_sent", ack_sent);
	}

out:
	printf("{\"ok\":%s,\"family\":%d,\"tags\":%d,\"sport\":%u,\"dport\":%u,"
	       "\"isn\":%" PRIu32 ",\"tsval\":%" PRIu32 ",\"frames_seen\":%d",
	       all_ok() ? "true" : "false", pr.family, pr.ntags, pr.sport, pr.dport, pr.isn,
	       pr.tsval, frames_seen);
	if (found && !expect_none) {
		printf(",\"reply_tags\":%d,\"tags_from_aux\":%d,\"cookie\":%" PRIu32
		       ",\"reply_tsval\":%" PRIu32 ",\"mss\":%d,\"wscale\":%d,\"tcp_flags\":%u",
		       r.ntags, r.tags_from_aux, srv_seq, srv_tsval, mss, wscale, r.th[13]);
		printf(",\"reply_tag_list\":\"");
		for (int i = 0; i < r.ntags; i++)
			printf("%s%04x:%04x", i ? " " : "", r.tpid[i], r.tci[i]);
		printf("\"");
	}
	printf(",\"checks\":{");
	for (int i = 0; i < nchecks; i++)
		printf("%s\"%s\":%s", i ? "," : "", checks[i].name, checks[i].ok ? "true" : "false");
	printf("},\"failed\":\"");
	for (int i = 0, first = 1; i < nchecks; i++)
		if (!checks[i].ok) {
			printf("%s%s", first ? "" : " ", checks[i].name);
			first = 0;
		}
	printf("\"}\n");
	close(fd);
	return all_ok() ? 0 : 1;
}
