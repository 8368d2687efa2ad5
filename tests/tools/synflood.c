// SPDX-License-Identifier: GPL-2.0
/* synflood: a bounded, paced flood of spoofed TCP SYNs (or bare ACKs with
 * random acknowledgement numbers, or RSTs with random sequence numbers) as
 * raw Ethernet frames on one interface. AF_PACKET, so spoofed sources need
 * no routes or neighbours. Test use only.
 *
 *   synflood --dev IF --dmac MAC --dst ADDR --dport P [--src-net CIDR]
 *            [--src ADDR] [--sport P] [--count N] [--rate PPS]
 *            [--mode syn|ack|rst] [--seed S] [--timeout S]
 * --src / --sport fix the source address / port (default: random in
 * --src-net / 1024-65023): with both, every frame hits one 4-tuple, e.g. a
 * live connection's, to test its window checks.
 * Prints one JSON line: {"sent":N,"failed":N,"elapsed_ms":X,"pps":X}.
 * SYNs carry Linux's option set: MSS, SACK_PERM, TS, NOP, WS 7.
 */
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
	fputs("synflood: ", stderr);
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

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

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
	return htons((uint16_t)~sum);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t, .tv_nsec = (long)((t - (time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
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

int main(int argc, char **argv)
{
	const char *dev = NULL, *dmac_s = NULL, *dst_s = NULL, *src_s = NULL, *mode = "syn";
	const char *fixed_src_s = NULL;
	unsigned fixed_sport = 0;
	int rst_mode;
	unsigned long long count = 1000, seed = 1;
	double rate = 10000, timeout = 60;
	unsigned dport = 0, plen = 0;
	int family = 0, ack_mode;
	uint8_t dmac[6], smac[6], src[16] = { 0 }, dst[16], frame[128];
	struct sockaddr_ll sll;
	struct ifreq ifr;
	unsigned long long sent = 0, failed = 0;
	double t0, deadline;
	size_t l3, l4, tcplen, flen;
	int fd;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--dmac"))
			dmac_s = v;
		else if (!strcmp(a, "--dst"))
			dst_s = v;
		else if (!strcmp(a, "--src-net"))
			src_s = v;
		else if (!strcmp(a, "--dport"))
			dport = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--src"))
			fixed_src_s = v;
		else if (!strcmp(a, "--sport"))
			fixed_sport = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--count"))
			count = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--rate"))
			rate = atof(v);
		else if (!strcmp(a, "--mode"))
			mode = v;
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--timeout"))
			timeout = atof(v);
		else
			die("unknown option %s", a);
	}
	if (!dev || !dmac_s || !dst_s || !dport || dport > 65535 || fixed_sport > 65535)
		die("usage: synflood --dev IF --dmac MAC --dst ADDR --dport P [--src-net CIDR] "
		    "[--src ADDR] [--sport P] [--count N] [--rate PPS] [--mode syn|ack|rst] "
		    "[--seed S] [--timeout S]");
	if (parse_mac(dmac_s, dmac))
		die("bad MAC %s", dmac_s);
	if (strcmp(mode, "syn") && strcmp(mode, "ack") && strcmp(mode, "rst"))
		die("bad mode %s", mode);
	ack_mode = !strcmp(mode, "ack");
	rst_mode = !strcmp(mode, "rst");
	if (rate <= 0 || timeout <= 0)
		die("rate and timeout must be positive");
	if (inet_pton(AF_INET, dst_s, dst) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, dst_s, dst) == 1)
		family = 6;
	else
		die("bad destination %s", dst_s);
	if (!src_s)
		src_s = family == 4 ? "10.201.0.0/16" : "fd00:201::/64";
	{
		char net[64];
		const char *slash = strchr(src_s, '/');

		if (!slash || (size_t)(slash - src_s) >= sizeof(net))
			die("bad source net %s", src_s);
		memcpy(net, src_s, (size_t)(slash - src_s));
		net[slash - src_s] = 0;
		plen = (unsigned)atoi(slash + 1);
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, net, src) != 1 ||
		    plen > (family == 4 ? 32u : 128u))
			die("bad source net %s (must match the destination's family)", src_s);
	}
	if (fixed_src_s) { /* a /32 or /128 "net": no random bits */
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, fixed_src_s, src) != 1)
			die("bad source %s (must match the destination's family)", fixed_src_s);
		plen = family == 4 ? 32 : 128;
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("interface %s: %s", dev, strerror(errno));
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(dev);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dmac, 6);
	if (!sll.sll_ifindex)
		die("interface %s: %s", dev, strerror(errno));

	/* Ethernet header: fixed */
	memset(frame, 0, sizeof(frame));
	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	frame[12] = family == 4 ? 0x08 : 0x86;
	frame[13] = family == 4 ? 0x00 : 0xdd;
	l3 = 14;
	l4 = l3 + (family == 4 ? 20 : 40);
	tcplen = ack_mode || rst_mode ? 20 : 40;
	flen = l4 + tcplen;

	t0 = now_s();
	deadline = t0 + timeout;
	while (sent + failed < count) {
		uint8_t *ip = frame + l3, *tcp = frame + l4, *saddr;
		unsigned alen = family == 4 ? 4 : 16;
		uint64_t r = rnd(), r2 = rnd();
		uint32_t sum;

		/* pace in batches of 16: the veth ring holds 256 frames */
		if ((sent + failed) % 16 == 0) {
			double due = t0 + (double)(sent + failed) / rate;

			if (due > deadline || now_s() > deadline)
				break;
			if (due > now_s())
				sleep_until(due);
		}
		/* every header field rewritten each frame */
		if (family == 4) {
			ip[0] = 0x45;
			ip[1] = 0;
			ip[2] = 0;
			ip[3] = (uint8_t)(20 + tcplen);
			ip[4] = (uint8_t)(r >> 48);
			ip[5] = (uint8_t)(r >> 56);
			ip[6] = 0x40; /* DF */
			ip[7] = 0;
			ip[8] = 64;
			ip[9] = IPPROTO_TCP;
			ip[10] = ip[11] = 0;
			saddr = ip + 12;
			memcpy(ip + 16, dst, 4);
		} else {
			ip[0] = 0x60;
			ip[1] = ip[2] = ip[3] = 0;
			ip[4] = 0;
			ip[5] = (uint8_t)tcplen;
			ip[6] = IPPROTO_TCP;
			ip[7] = 64;
			saddr = ip + 8;
			memcpy(ip + 24, dst, 16);
		}
		/* random host part of the source net */
		memcpy(saddr, src, alen);
		uint64_t a0 = rnd(), a1 = rnd();

		for (unsigned b = plen; b < alen * 8; b++) {
			uint64_t bit = ((b & 64) ? a1 : a0) >> (b & 63) & 1;

			if (bit)
				saddr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			else
				saddr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		}
		if (family == 4) {
			uint16_t c = csum_fold(csum_add(0, ip, 20));

			memcpy(ip + 10, &c, 2);
		}
		/* TCP */
		{
			uint16_t sport = fixed_sport ? (uint16_t)fixed_sport :
						       (uint16_t)(1024 + (r % 64000));
			uint32_t seq = (uint32_t)(r2 >> 16), ack = (uint32_t)rnd();

			tcp[0] = (uint8_t)(sport >> 8);
			tcp[1] = (uint8_t)sport;
			tcp[2] = (uint8_t)(dport >> 8);
			tcp[3] = (uint8_t)dport;
			tcp[4] = (uint8_t)(seq >> 24);
			tcp[5] = (uint8_t)(seq >> 16);
			tcp[6] = (uint8_t)(seq >> 8);
			tcp[7] = (uint8_t)seq;
			if (rst_mode) {
				/* a bare RST, random seq: only the exact one closes */
				memset(tcp + 8, 0, 4);
				tcp[12] = 5 << 4;
				tcp[13] = 0x04; /* RST */
				tcp[14] = tcp[15] = 0;
			} else if (ack_mode) {
				tcp[8] = (uint8_t)(ack >> 24);
				tcp[9] = (uint8_t)(ack >> 16);
				tcp[10] = (uint8_t)(ack >> 8);
				tcp[11] = (uint8_t)ack;
				tcp[12] = 5 << 4;
				tcp[13] = 0x10; /* ACK */
				tcp[14] = 0x01; /* window 502, like a Linux ACK at wscale 7 */
				tcp[15] = 0xf6;
			} else {
				uint32_t tsval = (uint32_t)rnd();
				uint16_t mss = family == 4 ? 1460 : 1440;

				memset(tcp + 8, 0, 4);
				tcp[12] = 10 << 4;
				tcp[13] = 0x02; /* SYN */
				tcp[14] = 0xfa; /* window 64240 */
				tcp[15] = 0xf0;
				tcp[20] = 2, tcp[21] = 4, tcp[22] = (uint8_t)(mss >> 8), tcp[23] = (uint8_t)mss;
				tcp[24] = 4, tcp[25] = 2;
				tcp[26] = 8, tcp[27] = 10;
				tcp[28] = (uint8_t)(tsval >> 24), tcp[29] = (uint8_t)(tsval >> 16);
				tcp[30] = (uint8_t)(tsval >> 8), tcp[31] = (uint8_t)tsval;
				memset(tcp + 32, 0, 4);
				tcp[36] = 1;
				tcp[37] = 3, tcp[38] = 3, tcp[39] = 7;
			}
			tcp[16] = tcp[17] = 0;
			tcp[18] = tcp[19] = 0;
			/* pseudo header + segment */
			sum = csum_add(0, saddr, alen);
			sum = csum_add(sum, family == 4 ? ip + 16 : ip + 24, alen);
			sum += IPPROTO_TCP + (uint32_t)tcplen;
			sum = csum_add(sum, tcp, tcplen);
			{
				uint16_t c = csum_fold(sum);

				memcpy(tcp + 16, &c, 2);
			}
		}
		if (sendto(fd, frame, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
				die("send: %s", strerror(errno));
			failed++;
			continue;
		}
		sent++;
	}
	{
		double el = now_s() - t0;

		printf("{\"sent\":%llu,\"failed\":%llu,\"elapsed_ms\":%.1f,\"pps\":%.0f}\n", sent,
		       failed, el * 1e3, el > 0 ? sent / el : 0.0);
	}
	close(fd);
	return 0;
}
