// SPDX-License-Identifier: GPL-2.0
/* mapfill: fill a pinned xdpct flow table with fake connections, count its
 * entries, or look one up; for the full-table e2e test (bpftool map update
 * in a shell loop is far too slow for thousands of entries).
 *
 *   mapfill fill PIN N [--start I] [--laddr A] [--lport P]
 *       N fake ESTABLISHED entries: remote 198.18.0.0/15 (IPv4) or
 *       2001:db8:ffff::/48 (IPv6) + index, remote port 1024 + index % 60000,
 *       local address A (default 10.200.1.1 / fd00:200::1), local port P
 *       (default 9). Index I.. (default 0): other runs make other keys.
 *       BPF_ANY: on an LRU map, a full table evicts its oldest entries.
 *       Each entry's bit is set in the xdpct_seen map pinned beside PIN
 *       (none there: no bits), as every inserter of flow entries must.
 *   mapfill count PIN
 *       entries in the map
 *   mapfill has PIN RADDR RPORT LADDR LPORT
 *       exit 0 if that key is in the map (remote = client side)
 * The family follows the map's key size (struct xdpct_flow4_key or
 * xdpct_flow6_key); the value size must be struct xdpct_flow's.
 * Prints one line; exit 0 on success, 1 when a key is missing, 2 on errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "xdpct.h"
#include "xdpct_seen.h"

static int usage(void)
{
	fprintf(stderr, "usage: mapfill fill PIN N [--start I] [--laddr A] [--lport P]\n"
			"       mapfill count PIN\n"
			"       mapfill has PIN RADDR RPORT LADDR LPORT\n");
	return 2;
}

static int open_map(const char *pin, int *family)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0) {
		fprintf(stderr, "mapfill: %s: %s\n", pin, strerror(errno));
		return -1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "mapfill: %s: map info: %s\n", pin, strerror(errno));
		return -1;
	}
	if (info.value_size != sizeof(struct xdpct_flow)) {
		fprintf(stderr, "mapfill: %s: value size %u, want %zu (struct xdpct_flow)\n", pin,
			info.value_size, sizeof(struct xdpct_flow));
		return -1;
	}
	if (info.key_size == sizeof(struct xdpct_flow4_key)) {
		*family = 4;
	} else if (info.key_size == sizeof(struct xdpct_flow6_key)) {
		*family = 6;
	} else {
		fprintf(stderr, "mapfill: %s: key size %u is no xdpct flow key\n", pin,
			info.key_size);
		return -1;
	}
	return fd;
}

static long count(int fd)
{
	__u8 k[64], next[64];
	void *prev = NULL;
	long n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

/* The xdpct_seen map pinned in PIN's directory. */
static int seen_beside(const char *pin, struct xdpct_seen *seen)
{
	char dir[4096];
	const char *slash = strrchr(pin, '/');
	int r;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - pin) : 1, slash ? pin : ".");
	r = xdpct_seen_open(dir, seen);
	if (r == -ENOENT)
		return 0;
	if (r)
		fprintf(stderr, "mapfill: %s/%s: %s\n", dir, XDPCT_MAP_SEEN, strerror(-r));
	return r;
}

static int fill(int fd, int family, long n, long start, const char *laddr_s, int lport,
		const struct xdpct_seen *seen)
{
	struct timespec ts;
	struct xdpct_flow v;
	__u8 laddr[16] = {};
	__u64 now;
	long i;

	if (inet_pton(family == 4 ? AF_INET : AF_INET6,
		      laddr_s ? laddr_s : family == 4 ? "10.200.1.1" : "fd00:200::1", laddr) != 1) {
		fprintf(stderr, "mapfill: bad --laddr\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the programs' clock */
	now = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	memset(&v, 0, sizeof(v));
	v.first_s = now / 1000000000ULL;
	v.last_tick = now >> XDPCT_TICK_SHIFT;
	v.state = XDPCT_CT_ESTABLISHED;
	v.flags = XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	v.wscale[0] = v.wscale[1] = 0xf;
	v.dir[0].maxwin = v.dir[1].maxwin = 65535;
	v.tcp_flags[0] = v.tcp_flags[1] = 0x12;
	for (i = start; i < start + n; i++) {
		__u32 idx = (__u32)i;
		int r;

		v.dir[0].end = v.dir[1].maxack = idx * 7919u;
		v.dir[1].end = v.dir[0].maxack = idx * 104729u;
		v.dir[0].maxend = v.dir[0].end + 65535;
		v.dir[1].maxend = v.dir[1].end + 65535;
		v.packets[0] = v.packets[1] = 1;
		if (family == 4) {
			struct xdpct_flow4_key k = {
				.raddr = htonl(0xc6120000u + (idx & 0x1ffff)), /* 198.18/15 */
				.rport = htons(1024 + idx % 60000),
				.lport = htons(lport),
			};

			memcpy(&k.laddr, laddr, 4);
			v.tag = xdpct_key_tag4(&k);
			r = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
			if (!r)
				xdpct_seen_set4(seen, &k);
		} else {
			struct xdpct_flow6_key k = { .rport = htons(1024 + idx % 60000),
						     .lport = htons(lport) };
			__u8 *ra = (__u8 *)k.raddr;

			ra[0] = 0x20, ra[1] = 0x01, ra[2] = 0x0d, ra[3] = 0xb8;
			ra[4] = ra[5] = 0xff;
			ra[12] = idx >> 24, ra[13] = idx >> 16, ra[14] = idx >> 8, ra[15] = idx;
			memcpy(k.laddr, laddr, 16);
			v.tag = xdpct_key_tag6(&k);
			r = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
			if (!r)
				xdpct_seen_set6(seen, &k);
		}
		if (r) {
			fprintf(stderr, "mapfill: update %ld: %s\n", i, strerror(errno));
			return 2;
		}
	}
	printf("filled %ld entries, %ld in the map\n", n, count(fd));
	return 0;
}

static int has(int fd, int family, char **a)
{
	struct xdpct_flow v;
	int af = family == 4 ? AF_INET : AF_INET6, r;

	if (family == 4) {
		struct xdpct_flow4_key k = { .rport = htons(atoi(a[1])), .lport = htons(atoi(a[3])) };

		if (inet_pton(af, a[0], &k.raddr) != 1 || inet_pton(af, a[2], &k.laddr) != 1)
			return usage();
		r = bpf_map_lookup_elem(fd, &k, &v);
	} else {
		struct xdpct_flow6_key k = { .rport = htons(atoi(a[1])), .lport = htons(atoi(a[3])) };

		if (inet_pton(af, a[0], k.raddr) != 1 || inet_pton(af, a[2], k.laddr) != 1)
			return usage();
		r = bpf_map_lookup_elem(fd, &k, &v);
	}
	if (r) {
		printf("absent\n");
		return 1;
	}
	printf("present state %u packets %u/%u\n", v.state, v.packets[0], v.packets[1]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *laddr = NULL;
	long n, start = 0;
	int fd, family, lport = 9, i;

	if (argc < 3)
		return usage();
	fd = open_map(argv[2], &family);
	if (fd < 0)
		return 2;
	if (!strcmp(argv[1], "count") && argc == 3) {
		printf("%ld\n", count(fd));
		return 0;
	}
	if (!strcmp(argv[1], "has") && argc == 7)
		return has(fd, family, argv + 3);
	if (strcmp(argv[1], "fill") || argc < 4)
		return usage();
	n = strtol(argv[3], NULL, 0);
	for (i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--start"))
			start = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--laddr"))
			laddr = argv[i + 1];
		else if (!strcmp(argv[i], "--lport"))
			lport = atoi(argv[i + 1]);
		else
			return usage();
	}
	if (i != argc || n < 0)
		return usage();
	{
		struct xdpct_seen seen;
		int r;

		if (seen_beside(argv[2], &seen))
			return 2;
		r = fill(fd, family, n, start, laddr, lport, &seen);
		xdpct_seen_close(&seen);
		return r;
	}
}
