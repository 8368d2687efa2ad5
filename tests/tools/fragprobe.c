// SPDX-License-Identifier: GPL-2.0
/* fragprobe: one TCP SYN in crafted frames, fragmented or malformed, sent
 * from a packet socket; reports what came back. For the fragment e2e test
 * (what the kernel does with such frames, and what xdpct does). libc only.
 *
 *   fragprobe --dev IF --dmac MAC --src ADDR --dst ADDR --dport P
 *             [--sport P] [--shape S] [--cut N] [--ack] [--timeout MS]
 *
 * Shapes (the SYN carries MSS and 8 bytes of data):
 *   plain        one frame
 *   frag         IPv4: fragments of the TCP segment, the first ends at byte
 *                --cut (a multiple of 8); IPv6: the same behind a fragment
 *                header
 *   frag_dest    IPv6: fragment header, then destination options + TCP as
 *                the fragmentable part, cut at --cut
 *   atomic       IPv6: a fragment header at offset 0 with M clear (RFC 6946)
 *   atomic_dest  IPv6: atomic fragment header, then destination options
 *   bad_doff     one frame, TCP data offset 4 (malformed)
 * --ack: after a SYN-ACK, the ACK that completes the handshake (atomic
 * shapes: in the same shape; the others: plain).
 * Prints one JSON line: {"shape":..,"frames":N,"reply":"synack"|"rst"|
 * "none","acked":true|false}; exit 0, or 2 on usage or system errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define FRAME_MAX 2048

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fragprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; n -= 2, p += 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct probe {
	int family;
	uint8_t smac[6], dmac[6], saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t id;
};

/* The TCP segment (checksum over the whole of it) into t; its length. */
static size_t segment(const struct probe *pr, uint8_t *t, uint8_t flags, uint32_t seq,
		      uint32_t ack, int doff_words)
{
	size_t hl = flags & 0x02 ? 24 : 20, len = hl + (flags & 0x02 ? 8 : 0);
	int alen = pr->family == 4 ? 4 : 16;
	uint32_t s;

	memset(t, 0, len);
	put16(t, pr->sport);
	put16(t + 2, pr->dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((doff_words ? doff_words : (int)hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 64240);
	if (flags & 0x02) {
		t[20] = 2; /* MSS 1400 */
		t[21] = 4;
		put16(t + 22, 1400);
		memcpy(t + 24, "fragment", 8);
	}
	s = sum16(sum16(0, pr->saddr, (size_t)alen), pr->daddr, (size_t)alen);
	s += 6 + (uint32_t)len;
	put16(t + 16, fold(sum16(s, t, len)));
	return len;
}

/* Ethernet + IP header for payload bytes of next header nh; IPv4: frag_off
 * (flags | offset). Returns the header length; the payload goes after. */
static size_t ip_head(const struct probe *pr, uint8_t *f, size_t payload, uint8_t nh,
		      uint16_t frag_off)
{
	uint8_t *ip = f + 14;

	memcpy(f, pr->dmac, 6);
	memcpy(f + 6, pr->smac, 6);
	put16(f + 12, pr->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (pr->family == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + payload));
		put16(ip + 4, (uint16_t)pr->id);
		put16(ip + 6, frag_off);
		ip[8] = 64;
		ip[9] = nh;
		memcpy(ip + 12, pr->saddr, 4);
		memcpy(ip + 16, pr->daddr, 4);
		put16(ip + 10, fold(sum16(0, ip, 20)));
		return 34;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)payload);
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, pr->saddr, 16);
	memcpy(ip + 24, pr->daddr, 16);
	return 54;
}

static size_t frag_hdr(uint8_t *h, uint8_t nh, size_t off, bool more, uint32_t id)
{
	h[0] = nh;
	h[1] = 0;
	put16(h + 2, (uint16_t)((off / 8) << 3 | more));
	put32(h + 4, id);
	return 8;
}

static size_t dest_opts(uint8_t *h, uint8_t nh)
{
	memset(h, 0, 8);
	h[0] = nh;
	h[2] = 1; /* PadN of 4 */
	h[3] = 4;
	return 8;
}

struct frames {
	uint8_t f[2][FRAME_MAX];
	size_t len[2];
	int n;
};

/* The segment in the given shape, as one or two frames. */
static void shape_frames(const struct probe *pr, const char *shape, size_t cut,
			 const uint8_t *seg, size_t slen, struct frames *o)
{
	uint8_t body[FRAME_MAX];
	size_t blen = 0, h;

	o->n = 1;
	if (!strcmp(shape, "plain") || !strcmp(shape, "bad_doff")) {
		h = ip_head(pr, o->f[0], slen, IPPROTO_TCP, pr->family == 4 ? 0x4000 : 0);
		memcpy(o->f[0] + h, seg, slen);
		o->len[0] = h + slen;
		return;
	}
	if (pr->family == 4) {
		if (strcmp(shape, "frag"))
			die("shape %s: IPv6 only", shape);
		if (cut % 8 || cut == 0 || cut >= slen)
			die("--cut %zu: a multiple of 8 inside the segment (%zu bytes)", cut, slen);
		h = ip_head(pr, o->f[0], cut, IPPROTO_TCP, 0x2000);
		memcpy(o->f[0] + h, seg, cut);
		o->len[0] = h + cut;
		h = ip_head(pr, o->f[1], slen - cut, IPPROTO_TCP, (uint16_t)(cut / 8));
		memcpy(o->f[1] + h, seg + cut, slen - cut);
		o->len[1] = h + slen - cut;
		o->n = 2;
		return;
	}
	/* IPv6: the fragmentable part in body */
	if (!strcmp(shape, "frag_dest") || !strcmp(shape, "atomic_dest"))
		blen = dest_opts(body, IPPROTO_TCP);
	memcpy(body + blen, seg, slen);
	blen += slen;
	if (!strncmp(shape, "atomic", 6)) {
		h = ip_head(pr, o->f[0], 8 + blen, 44, 0);
		h += frag_hdr(o->f[0] + h, blen > slen ? 60 : IPPROTO_TCP, 0, false, pr->id);
		memcpy(o->f[0] + h, body, blen);
		o->len[0] = h + blen;
		return;
	}
	if (strcmp(shape, "frag") && strcmp(shape, "frag_dest"))
		die("unknown shape %s", shape);
	if (cut % 8 || cut == 0 || cut >= blen)
		die("--cut %zu: a multiple of 8 inside the fragmentable part (%zu bytes)", cut, blen);
	for (int i = 0; i < 2; i++) {
		size_t from = i ? cut : 0, n = i ? blen - cut : cut;

		h = ip_head(pr, o->f[i], 8 + n, 44, 0);
		h += frag_hdr(o->f[i] + h, blen > slen ? 60 : IPPROTO_TCP, from, !i, pr->id);
		memcpy(o->f[i] + h, body + from, n);
		o->len[i] = h + n;
	}
	o->n = 2;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a TCP segment from dport to sport: its flags, -1 on timeout. */
static int wait_reply(int fd, const struct probe *pr, int64_t deadline, uint32_t *seq)
{
	uint8_t b[FRAME_MAX];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		int64_t left = deadline - now_ms();
		const uint8_t *ip = b + 14, *t;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&sll, &sl);
		if (n < 14 + (pr->family == 4 ? 20 : 40) + 20 ||
		    sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (pr->family == 4) {
			if (get16(b + 12) != ETH_P_IP || ip[9] != IPPROTO_TCP ||
			    memcmp(ip + 12, pr->daddr, 4) || memcmp(ip + 16, pr->saddr, 4))
				continue;
			t = ip + (ip[0] & 15) * 4;
		} else {
			if (get16(b + 12) != ETH_P_IPV6 || ip[6] != IPPROTO_TCP ||
			    memcmp(ip + 8, pr->daddr, 16) || memcmp(ip + 24, pr->saddr, 16))
				continue;
			t = ip + 40;
		}
		if (t + 20 > b + n || get16(t) != pr->dport || get16(t + 2) != pr->sport)
			continue;
		*seq = get32(t + 4);
		return t[13];
	}
}

static unsigned long num(const char *opt, const char *v, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || end == v || *end || n > max)
		die("bad value for %s: %s", opt, v);
	return n;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *dmac = NULL, *src = NULL, *dst = NULL, *shape = "plain";
	unsigned long cut = 24, timeout = 1500;
	struct probe pr = { 0 };
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	uint8_t seg[64];
	struct frames fr;
	bool want_ack = false, acked = false;
	uint32_t isn, srv_seq = 0;
	int fd, one = 1, flags;
	unsigned int m[6];
	size_t slen;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--ack")) {
			want_ack = true;
			continue;
		}
		if (!v)
			die("%s needs a value (see the header of tests/tools/fragprobe.c)", a);
		i++;
		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--dmac"))
			dmac = v;
		else if (!strcmp(a, "--src"))
			src = v;
		else if (!strcmp(a, "--dst"))
			dst = v;
		else if (!strcmp(a, "--dport"))
			pr.dport = (uint16_t)num(a, v, 65535);
		else if (!strcmp(a, "--sport"))
			pr.sport = (uint16_t)num(a, v, 65535);
		else if (!strcmp(a, "--shape"))
			shape = v;
		else if (!strcmp(a, "--cut"))
			cut = num(a, v, 1024);
		else if (!strcmp(a, "--timeout"))
			timeout = num(a, v, 60000);
		else
			die("unknown option %s", a);
	}
	if (!dev || !dmac || !src || !dst || !pr.dport)
		die("usage: fragprobe --dev IF --dmac MAC --src ADDR --dst ADDR --dport P [--sport P] [--shape S] [--cut N] [--ack] [--timeout MS]");
	if (sscanf(dmac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		die("bad MAC %s", dmac);
	for (int i = 0; i < 6; i++)
		pr.dmac[i] = (uint8_t)m[i];
	if (inet_pton(AF_INET, src, pr.saddr) == 1 && inet_pton(AF_INET, dst, pr.daddr) == 1)
		pr.family = 4;
	else if (inet_pton(AF_INET6, src, pr.saddr) == 1 && inet_pton(AF_INET6, dst, pr.daddr) == 1)
		pr.family = 6;
	else
		die("--src and --dst: two IPv4 or two IPv6 addresses");
	srandom((unsigned int)(now_ms() ^ getpid()));
	if (!pr.sport)
		pr.sport = (uint16_t)(20000 + random() % 40000);
	pr.id = (uint32_t)random();
	isn = (uint32_t)random();

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	if (strlen(dev) >= IFNAMSIZ)
		die("interface name too long: %s", dev);
	strcpy(ifr.ifr_name, dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die("%s: %s", dev, strerror(errno));
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR %s: %s", dev, strerror(errno));
	memcpy(pr.smac, ifr.ifr_hwaddr.sa_data, 6);
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind %s: %s", dev, strerror(errno));

	slen = segment(&pr, seg, 0x02, isn, 0, !strcmp(shape, "bad_doff") ? 4 : 0);
	shape_frames(&pr, shape, cut, seg, slen, &fr);
	for (int i = 0; i < fr.n; i++)
		if (send(fd, fr.f[i], fr.len[i], 0) != (ssize_t)fr.len[i])
			die("send: %s", strerror(errno));
	flags = wait_reply(fd, &pr, now_ms() + (int64_t)timeout, &srv_seq);
	if (want_ack && flags >= 0 && (flags & 0x12) == 0x12) {
		struct frames fa;

		slen = segment(&pr, seg, 0x10, isn + 1, srv_seq + 1, 0);
		shape_frames(&pr, strncmp(shape, "atomic", 6) ? "plain" : shape, cut, seg, slen,
			     &fa);
		if (send(fd, fa.f[0], fa.len[0], 0) != (ssize_t)fa.len[0])
			die("send: %s", strerror(errno));
		acked = true;
	}
	printf("{\"shape\":\"%s\",\"sport\":%u,\"frames\":%d,\"reply\":\"%s\",\"acked\":%s}\n",
	       shape, pr.sport, fr.n,
	       flags < 0 ? "none" : (flags & 0x12) == 0x12 ? "synack" : flags & 0x04 ? "rst" : "other",
	       acked ? "true" : "false");
	return 0;
}
