// SPDX-License-Identifier: GPL-2.0
/* mem: memory and scale of xdpct's maps.
 *
 *   mem [--entries N] [--json FILE]
 *
 * Loads build/xdpct.bpf.o (unpinned) with the CLI's default table sizes,
 * reads every map's memory from bpftool, fills xdpct_flows4 with N
 * (default 2^20) distinct IPv4 flows through the map API, and times full
 * passes over it: BPF_MAP_LOOKUP_BATCH (a scan), BPF_MAP_DELETE_BATCH of
 * every key, and BPF_MAP_LOOKUP_AND_DELETE_BATCH (scan and delete in one
 * pass) after a refill: the cost of one eviction sweep over the table.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpct.h"
#include "xdpct.skel.h"

#define CHUNK 65536

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mem: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* bytes_memlock of a map, from `bpftool -j map show id ID` */
static long long memlock(uint32_t id)
{
	char cmd[96], buf[4096];
	long long v = -1;
	size_t n;
	FILE *p;
	char *s;

	snprintf(cmd, sizeof(cmd), "bpftool -j map show id %u 2>/dev/null", id);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = 0;
	pclose(p);
	s = strstr(buf, "\"bytes_memlock\":");
	if (s)
		v = atoll(s + strlen("\"bytes_memlock\":"));
	return v;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static struct xdpct_flow4_key *keys;
static struct xdpct_flow *vals;
static struct xdpct_flow4_key *okeys;
static struct xdpct_flow *ovals;

static void make_entries(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct xdpct_flow *f = &vals[i];

		memset(&keys[i], 0, sizeof(keys[i]));
		/* 10.64.0.0/10 sources, ports 1024..: distinct tuples */
		keys[i].raddr = htonl(0x0a400000u | (i >> 4));
		keys[i].laddr = htonl(0x0a000001u);
		keys[i].rport = htons((uint16_t)(1024 + (i & 15) * 4000 + (i >> 20)));
		keys[i].lport = htons(443);
		memset(f, 0, sizeof(*f));
		f->first_s = 1000;
		f->last_tick = 1000u << 10;
		f->state = XDPCT_CT_ESTABLISHED;
		f->flags = XDPCT_FLOW_COOKIE | XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
		f->dir[0].end = i * 7919u;
		f->dir[1].end = i * 104729u;
		f->wscale[0] = 7;
		f->wscale[1] = 10;
		f->packets[0] = f->packets[1] = 10;
	}
}

static double fill(int fd, uint32_t n)
{
	double t0 = now_s();

	for (uint32_t at = 0; at < n; at += CHUNK) {
		__u32 cnt = n - at < CHUNK ? n - at : CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		if (bpf_map_update_batch(fd, keys + at, vals + at, &cnt, &o))
			die("update_batch at %u: %s", at, strerror(errno));
	}
	return now_s() - t0;
}

/* One full pass with lookup_batch (del = 0) or lookup_and_delete_batch
 * (del = 1); returns the entries seen. Keys land in okeys. */
static uint32_t pass(int fd, int del, uint32_t cap, double *secs)
{
	uint32_t seen = 0;
	__u64 in = 0, out = 0;
	void *inp = NULL;
	double t0 = now_s();
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	for (;;) {
		__u32 cnt = CHUNK;
		int r;

		if (seen + cnt > cap)
			cnt = cap - seen;
		if (!cnt)
			break;
		r = del ? bpf_map_lookup_and_delete_batch(fd, inp, &out, okeys + seen,
							  ovals + seen, &cnt, &o)
			: bpf_map_lookup_batch(fd, inp, &out, okeys + seen, ovals + seen, &cnt, &o);
		seen += cnt;
		if (r && errno == ENOENT)
			break; /* the last batch */
		if (r)
			die("%s: %s", del ? "lookup_and_delete_batch" : "lookup_batch",
			    strerror(errno));
		in = out;
		inp = &in;
	}
	*secs = now_s() - t0;
	return seen;
}

int main(int argc, char **argv)
{
	uint32_t n = 1u << 20, got, max4;
	const char *json = NULL;
	struct xdpct_bpf *skel;
	struct bpf_map *map;
	double t_fill, t_scan, t_del, t_fill2, t_lad;
	uint32_t n_scan, n_lad, n_left;
	FILE *out;
	int fd;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--entries"))
			n = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--json"))
			json = v;
		else
			die("unknown option %s", a);
	}
	if (n < 1 || n > (1u << 24))
		die("--entries 1..2^24");

	skel = xdpct_bpf__open();
	if (!skel)
		die("open: %s", strerror(errno));
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	/* the CLI's default table size (--max-conns), at least the fill */
	max4 = n > XDPCT_FLOWS_DEFAULT ? n : XDPCT_FLOWS_DEFAULT;
	bpf_map__set_max_entries(skel->maps.xdpct_flows4, max4);
	bpf_map__set_max_entries(skel->maps.xdpct_flows6, max4);
	if (xdpct_bpf__load(skel))
		die("load: %s", strerror(errno));
	fd = bpf_map__fd(skel->maps.xdpct_flows4);

	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	okeys = calloc(n + CHUNK, sizeof(*okeys));
	ovals = calloc(n + CHUNK, sizeof(*ovals));
	if (!keys || !vals || !okeys || !ovals)
		die("out of memory");
	make_entries(n);

	t_fill = fill(fd, n);
	n_scan = pass(fd, 0, n + CHUNK, &t_scan);
	got = n_scan;
	{
		double t0 = now_s();

		for (uint32_t at = 0; at < n_scan; at += CHUNK) {
			__u32 cnt = n_scan - at < CHUNK ? n_scan - at : CHUNK;
			LIBBPF_OPTS(bpf_map_batch_opts, o);

			if (bpf_map_delete_batch(fd, okeys + at, &cnt, &o))
				die("delete_batch: %s", strerror(errno));
		}
		t_del = now_s() - t0;
	}
	t_fill2 = fill(fd, n);
	n_lad = pass(fd, 1, n + CHUNK, &t_lad);
	{
		double t;

		n_left = pass(fd, 0, n + CHUNK, &t);
	}

	out = json ? fopen(json, "w") : stdout;
	if (!out)
		die("%s: %s", json, strerror(errno));
	fprintf(out, "{\"entries_filled\":%u,\"entries_present\":%u,\"key_bytes\":%zu,"
		     "\"value_bytes\":%zu,\"key_value_bytes\":%zu,\"maps\":[",
		n, got, sizeof(struct xdpct_flow4_key), sizeof(struct xdpct_flow),
		sizeof(struct xdpct_flow4_key) + sizeof(struct xdpct_flow));
	{
		int first = 1;

		bpf_object__for_each_map(map, skel->obj) {
			const char *name = bpf_map__name(map);
			long long ml;

			if (strchr(name, '.'))
				continue; /* libbpf's .rodata, .bss */
			ml = memlock(map_id(bpf_map__fd(map)));
			fprintf(out, "%s\n {\"name\":\"%s\",\"type\":\"%s\",\"max_entries\":%u,"
				     "\"key\":%u,\"value\":%u,\"bytes_memlock\":%lld,"
				     "\"bytes_per_entry\":%.1f}",
				first ? "" : ",", name, libbpf_bpf_map_type_str(bpf_map__type(map)),
				bpf_map__max_entries(map), bpf_map__key_size(map),
				bpf_map__value_size(map), ml,
				bpf_map__max_entries(map) ? (double)ml / bpf_map__max_entries(map) : 0);
			first = 0;
		}
	}
	fprintf(out, "\n],\"timings\":{"
		     "\"fill_update_batch_s\":%.4f,\"scan_lookup_batch_s\":%.4f,"
		     "\"scan_entries\":%u,\"delete_batch_s\":%.4f,\"refill_s\":%.4f,"
		     "\"lookup_and_delete_batch_s\":%.4f,\"lookup_and_delete_entries\":%u,"
		     "\"left_after\":%u,\"scan_ns_per_entry\":%.1f,"
		     "\"lookup_and_delete_ns_per_entry\":%.1f,\"scan_plus_delete_s\":%.4f}}\n",
		t_fill, t_scan, n_scan, t_del, t_fill2, t_lad, n_lad, n_left,
		n_scan ? t_scan * 1e9 / n_scan : 0, n_lad ? t_lad * 1e9 / n_lad : 0,
		t_scan + t_del);
	if (json)
		fclose(out);
	fprintf(stderr, "mem: %u/%u entries; fill %.3f s, scan %.3f s, delete %.3f s, "
			"lookup_and_delete %.3f s (%u)\n",
		got, n, t_fill, t_scan, t_del, t_lad, n_lad);
	xdpct_bpf__destroy(skel);
	return 0;
}
