// SPDX-License-Identifier: GPL-2.0
/* segsend: crafted TCP segments for one 4-tuple, as raw Ethernet frames
 * on one interface (AF_PACKET: the local TCP stack never sees them), for
 * the hostile-peer tests: an off-path attacker who knows or guesses a
 * connection's tuple and spoofs its client. Test use only.
 *
 *   segsend --dev IF --dmac MAC --src ADDR --dst ADDR --sport P --dport P
 *           [--bad-csum] [--gap-ms N] SEG...
 * SEG is FLAGS:SEQ:ACK[:LEN[:WIN]]: FLAGS letters F S R P A U (or "-" for
 * none), SEQ/ACK decimal or 0x hex, LEN payload bytes (zeros), WIN the
 * window field (default 502). --bad-csum flips the TCP checksum.
 * Prints one JSON line: {"sent":N}. Exit 2 on a usage or socket error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("segsend: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_flags(const char *s, size_t n, uint8_t *out)
{
	static const char letters[] = "FSRPAU";

	*out = 0;
	if (n == 1 && *s == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = memchr(letters, s[i], sizeof(letters) - 1);

		if (!c)
			return -1;
		*out |= (uint8_t)(1u << (c - letters));
	}
	return 0;
}

struct seg {
	uint8_t flags;
	uint32_t seq, ack, len, win;
};

static int parse_seg(const char *s, struct seg *g)
{
	const char *colon = strchr(s, ':');
	unsigned long long v[4] = { 0, 0, 0, 502 };
	int n = 0;
	char *end;

	if (!colon || parse_flags(s, (size_t)(colon - s), &g->flags))
		return -1;
	s = colon + 1;
	while (n < 4) {
		v[n++] = strtoull(s, &end, 0);
		if (end == s)
			return -1;
		if (!*end)
			break;
		if (*end != ':')
			return -1;
		s = end + 1;
	}
	if (n < 2 || v[0] > 0xffffffffull || v[1] > 0xffffffffull || v[2] > 1400 ||
	    v[3] > 0xffff)
		return -1;
	g->seq = (uint32_t)v[0];
	g->ack = (uint32_t)v[1];
	g->len = (uint32_t)v[2];
	g->win = (uint32_t)v[3];
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *dmac_s = NULL, *src_s = NULL, *dst_s = NULL;
	unsigned sport = 0, dport = 0, gap_ms = 0, sent = 0;
	int family = 0, bad_csum = 0, first_seg = 0, fd, i;
	uint8_t dmac[6], smac[6], src[16], dst[16], frame[1600];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct ifreq ifr = {};

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--bad-csum")) {
			bad_csum = 1;
			continue;
		}
		if (a[0] != '-' || a[1] != '-') {
			first_seg = i;
			break;
		}
		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--dmac"))
			dmac_s = v;
		else if (!strcmp(a, "--src"))
			src_s = v;
		else if (!strcmp(a, "--dst"))
			dst_s = v;
		else if (!strcmp(a, "--sport"))
			sport = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--dport"))
			dport = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--gap-ms"))
			gap_ms = (unsigned)strtoul(v, NULL, 0);
		else
			die("unknown option %s", a);
	}
	if (!dev || !dmac_s || !src_s || !dst_s || !sport || sport > 65535 || !dport ||
	    dport > 65535 || !first_seg)
		die("usage: segsend --dev IF --dmac MAC --src ADDR --dst ADDR --sport P --dport P "
		    "[--bad-csum] [--gap-ms N] FLAGS:SEQ:ACK[:LEN[:WIN]]...");
	if (parse_mac(dmac_s, dmac))
		die("bad MAC %s", dmac_s);
	if (inet_pton(AF_INET, src_s, src) == 1 && inet_pton(AF_INET, dst_s, dst) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, src_s, src) == 1 && inet_pton(AF_INET6, dst_s, dst) == 1)
		family = 6;
	else
		die("bad addresses %s -> %s (one family)", src_s, dst_s);

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("interface %s: %s", dev, strerror(errno));
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex(dev);
	memcpy(sll.sll_addr, dmac, 6);

	for (i = first_seg; i < argc; i++) {
		struct seg g;
		size_t l3 = 14, l4 = l3 + (family == 4 ? 20 : 40), tcplen, flen;
		uint8_t *ip = frame + l3, *tcp = frame + l4;
		unsigned alen = family == 4 ? 4 : 16;
		uint32_t sum;

		if (parse_seg(argv[i], &g))
			die("bad segment %s (FLAGS:SEQ:ACK[:LEN[:WIN]])", argv[i]);
		tcplen = 20 + g.len;
		flen = l4 + tcplen;
		memset(frame, 0, flen);
		memcpy(frame, dmac, 6);
		memcpy(frame + 6, smac, 6);
		put16(frame + 12, family == 4 ? 0x0800 : 0x86dd);
		if (family == 4) {
			ip[0] = 0x45;
			put16(ip + 2, (uint16_t)(20 + tcplen));
			ip[6] = 0x40;
			ip[8] = 64;
			ip[9] = IPPROTO_TCP;
			memcpy(ip + 12, src, 4);
			memcpy(ip + 16, dst, 4);
			put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		} else {
			ip[0] = 0x60;
			put16(ip + 4, (uint16_t)tcplen);
			ip[6] = IPPROTO_TCP;
			ip[7] = 64;
			memcpy(ip + 8, src, 16);
			memcpy(ip + 24, dst, 16);
		}
		put16(tcp, (uint16_t)sport);
		put16(tcp + 2, (uint16_t)dport);
		put32(tcp + 4, g.seq);
		put32(tcp + 8, g.ack);
		tcp[12] = 5 << 4;
		tcp[13] = g.flags;
		put16(tcp + 14, (uint16_t)g.win);
		sum = csum_add(0, src, alen);
		sum = csum_add(sum, dst, alen);
		sum += IPPROTO_TCP + (uint32_t)tcplen;
		sum = csum_add(sum, tcp, tcplen);
		put16(tcp + 16, (uint16_t)(csum_fold(sum) ^ (bad_csum ? 0x5a5a : 0)));
		if (sendto(fd, frame, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			die("send: %s", strerror(errno));
		sent++;
		if (gap_ms)
			usleep(gap_ms * 1000);
	}
	printf("{\"sent\":%u}\n", sent);
	close(fd);
	return 0;
}
