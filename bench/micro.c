// SPDX-License-Identifier: GPL-2.0
/* micro: ns per packet of xdpct's XDP paths under BPF_PROG_TEST_RUN, next
 * to floors timed in the same harness and the same rounds.
 *
 *   micro [--rounds N] [--calls N] [--repeat N] [--json FILE] [--only NAME]
 *         [--flows N]   (flow table size, default the CLI's 2^20)
 *         [--seen-shift S] (xdpct_seen: 2^S bits per half; default the
 *                       loader's size for those tables)
 *
 * Two methods:
 *  - repeat=N: one call runs the program N times on the same buffer. Only
 *    for paths that leave the packet as it was (drops, passes that write
 *    no packet byte): the kernel does not reset the packet between runs.
 *  - repeat=1 x calls: every call gets a fresh copy of the frame; the
 *    figure is the interquartile mean of the per-call durations. Each call's duration
 *    includes the harness's own cost (clock reads, bh disable/enable), so
 *    the same is measured for floor_pass and subtracted ("net").
 * Each round measures every case once, cases interleaved; a figure is the
 * median over the rounds. Flow state is reset between calls where a path
 * writes maps (cookie ACK), outside the timed part. The flow tables have
 * the CLI's default size (2^20 entries), as a SYN's lookup meets them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/random.h>

#include "xdpct.h"
#include "xdpct_stats.h"
#include "xdpct_seen.h"
#include "xdpct.skel.h"
#include "floors.skel.h"
#include "pktgen.h"

#define PORT 8080
#define MSS4 1460
#define WSCALE 7
#define MAX_CASES 32

static const uint8_t CLI_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t SRV_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t CLI4[4] = { 10, 0, 0, 1 };
static const uint8_t SRV4[4] = { 10, 0, 0, 2 };
static const uint8_t CLI6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t SRV6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static struct xdpct_bpf *skel;
static struct floors_bpf *floors;
static int xdp_fd, flows4_fd, pending_fd, stats_fd, seen_fd, ncpu;

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("micro: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---- frames ---- */

struct frame {
	uint8_t b[PG_MAX_FRAME];
	int len;
};

static void base_spec(struct pg_spec *s, int family, uint8_t flags)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, SRV_MAC, 6);
	memcpy(s->smac, CLI_MAC, 6);
	s->family = family;
	if (family == 4) {
		memcpy(s->saddr, CLI4, 4);
		memcpy(s->daddr, SRV4, 4);
		s->frag_off = 0x4000;
		s->ip_id = 0x1234;
	} else {
		memcpy(s->saddr, CLI6, 16);
		memcpy(s->daddr, SRV6, 16);
	}
	s->ttl = 64;
	s->sport = 40000;
	s->dport = PORT;
	s->seq = 0x11223344;
	s->flags = flags;
	s->win = 64240;
}

enum syn_opts { OPTS_NONE, OPTS_MSS, OPTS_LINUX };

static void syn_spec(struct pg_spec *s, int family, enum syn_opts o)
{
	base_spec(s, family, 0x02);
	if (o >= OPTS_MSS)
		pgo_mss(&s->opts, family == 4 ? 1460 : 1440);
	if (o == OPTS_LINUX) {
		pgo_sack_perm(&s->opts);
		pgo_ts(&s->opts, 0x01020304, 0);
		pgo_nop(&s->opts);
		pgo_ws(&s->opts, 7);
	}
}

static void build(const struct pg_spec *s, struct frame *f)
{
	f->len = pg_build(s, f->b, sizeof(f->b), NULL);
	if (f->len < 0)
		die("pg_build failed");
}

/* ---- running ---- */

struct out {
	uint32_t retval, duration;
	uint8_t data[PG_MAX_FRAME + 64];
	uint32_t data_len, meta_len;
};

static int run(int fd, const struct frame *f, int repeat, struct out *o)
{
	struct xdp_md ctx_in = { .data_end = (uint32_t)f->len }, ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = repeat);

	if (o) {
		t.data_out = o->data;
		t.data_size_out = sizeof(o->data);
		t.ctx_out = &ctx_out;
		t.ctx_size_out = sizeof(ctx_out);
	}
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	if (o) {
		o->retval = t.retval;
		o->duration = t.duration;
		o->data_len = t.data_size_out;
		o->meta_len = ctx_out.data;
	}
	return (int)t.duration;
}

static uint64_t stat_sum(uint32_t id)
{
	uint64_t sums[XDPCT_STAT_MAX];

	return id < XDPCT_STAT_MAX && !xdpct_stats_sum(stats_fd, sums) ? sums[id] : 0;
}

struct kase;

static void flows_reset(void)
{
	uint8_t k[64];

	while (!bpf_map_get_next_key(flows4_fd, NULL, k))
		if (bpf_map_delete_elem(flows4_fd, k))
			break;
	while (!bpf_map_get_next_key(pending_fd, NULL, k))
		if (bpf_map_delete_elem(pending_fd, k))
			break;
}

/* ---- cases ---- */

struct kase;
static void reset_hook(struct kase *k)
{
	(void)k;
	flows_reset();
}

/* A SYN from a new random source each call: the flow-table lookup every
 * SYN makes then lands in a cold bucket, as in a spoofed flood. The frame
 * is rebuilt in userspace between calls, which itself cools the caches:
 * same_source rebuilds one fixed frame the same way, for comparison. */
static uint64_t src_rng = 0x2545f4914f6cdd1dULL;
static void new_source(struct kase *k);
static void same_source(struct kase *k);

enum method { M_REPEAT, M_CALLS };

struct kase {
	const char *name;
	const char *floor;   /* the floor it is set against */
	const char *verdict; /* the xdpct counter it must move */
	int fd;
	enum method method;
	struct frame f;
	void (*before)(struct kase *k); /* untimed, before each call (M_CALLS) */
	int expect_retval;
	double round[64];
	double value;        /* median over rounds */
	double lo, hi;
};

static void source_frame(struct kase *k, uint64_t r)
{
	struct pg_spec s;

	syn_spec(&s, 4, OPTS_LINUX);
	s.saddr[0] = 10;
	s.saddr[1] = (uint8_t)(64 | (r & 63));
	s.saddr[2] = (uint8_t)(r >> 8);
	s.saddr[3] = (uint8_t)(r >> 16);
	s.sport = (uint16_t)(1024 + (r >> 24) % 64000);
	s.seq = (uint32_t)(r >> 32);
	build(&s, &k->f);
}

static void new_source(struct kase *k)
{
	src_rng ^= src_rng << 13;
	src_rng ^= src_rng >> 7;
	src_rng ^= src_rng << 17;
	source_frame(k, src_rng);
}

static void same_source(struct kase *k)
{
	source_frame(k, 0x2545f4914f6cdd1dULL);
}

static struct kase cases[MAX_CASES];
static int ncases;

static struct kase *add(const char *name, int fd, enum method m, const struct frame *f,
			int retval, const char *floor, const char *verdict)
{
	struct kase *k = &cases[ncases++];

	if (ncases > MAX_CASES)
		die("too many cases");
	k->name = name;
	k->fd = fd;
	k->method = m;
	k->f = *f;
	k->expect_retval = retval;
	k->floor = floor;
	k->verdict = verdict;
	return k;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double tmp[n];

	memcpy(tmp, v, sizeof(double) * (size_t)n);
	qsort(tmp, (size_t)n, sizeof(double), cmp_d);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Interquartile mean: per-call durations come in steps of the clock's
 * resolution (about 10 ns here); a median would keep that step, the mean
 * of the middle half averages it out and still ignores interrupts. */
static double iqm(double *v, int n)
{
	double s = 0;
	int lo = n / 4, hi = n - n / 4;

	qsort(v, (size_t)n, sizeof(double), cmp_d);
	if (hi <= lo)
		return median(v, n);
	for (int i = lo; i < hi; i++)
		s += v[i];
	return s / (hi - lo);
}

static int calls = 3000, repeat = 200000;

static double measure(struct kase *k)
{
	if (k->method == M_REPEAT) {
		int d = run(k->fd, &k->f, repeat, NULL);

		if (d < 0)
			die("%s: test_run: %s", k->name, strerror(-d));
		return d; /* the kernel's mean, whole ns */
	} else {
		double *v = malloc(sizeof(double) * (size_t)calls), m;

		for (int i = 0; i < calls; i++) {
			int d;

			if (k->before)
				k->before(k);
			d = run(k->fd, &k->f, 1, NULL);
			if (d < 0)
				die("%s: test_run: %s", k->name, strerror(-d));
			v[i] = d;
		}
		m = iqm(v, calls);
		free(v);
		return m;
	}
}

/* ---- the handshake, to get a valid cookie and an established flow ---- */

static struct frame ack_good, ack_bad, ack_plain, ack_stale, ack_seen, rst_nf, data_est;

/* An ack number whose cookie is of now's slot, or age slots older: a
 * random cookie is one or the other (2 of 4 slot values are stale, and
 * refused before the hash). */
static uint32_t ack_of_age(uint32_t ack, unsigned int age)
{
	struct timespec ts;
	uint64_t slot;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	slot = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) >> XDPCT_SLOT_SHIFT;
	return xdpct_cookie_in_slot(ack - 1, slot - age) + 1;
}

/* Sends a Linux SYN from sport through xdpct; the client's ACK of the
 * answer (ack = cookie + 1 + ack_off) and, for data, its first segment. */
static void handshake(uint16_t sport, uint32_t ack_off, struct frame *ack, struct frame *data)
{
	static const uint8_t payload[100] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
	struct pg_spec s, a;
	struct frame syn;
	struct pg_parsed p;
	struct out o;

	syn_spec(&s, 4, OPTS_LINUX);
	s.sport = sport;
	build(&s, &syn);
	if (run(xdp_fd, &syn, 1, &o) < 0 || o.retval != XDP_TX)
		die("SYN not answered (retval %u)", o.retval);
	if (pg_parse(o.data + o.meta_len, (int)(o.data_len - o.meta_len), &p))
		die("SYN-ACK unparsable");
	a = s;
	memset(&a.opts, 0, sizeof(a.opts));
	a.flags = 0x10;
	a.seq = s.seq + 1;
	a.ack = p.seq + 1 + ack_off;
	a.win = 502;
	pgo_nop(&a.opts);
	pgo_nop(&a.opts);
	pgo_ts(&a.opts, 0x01020305, p.tsval);
	build(&a, ack);
	if (data) { /* 100 bytes, TS, PSH|ACK */
		a.flags = 0x18;
		a.ack = p.seq + 1;
		memset(&a.opts, 0, sizeof(a.opts));
		pgo_nop(&a.opts);
		pgo_nop(&a.opts);
		pgo_ts(&a.opts, 0x01020306, p.tsval);
		a.payload = payload;
		a.payload_len = sizeof(payload);
		build(&a, data);
	}
}

static void make_frames(void)
{
	struct pg_spec a;

	handshake(40000, 0, &ack_good, &data_est);
	handshake(40001, 1u << 8, &ack_bad, NULL); /* a hash bit off: a bad cookie of a live slot, options right */
	/* an ACK from nowhere: no options, random numbers (an ACK flood),
	 * its cookie of a live slot (checked: the hash) or a stale one */
	base_spec(&a, 4, 0x10);
	a.sport = 41000;
	a.seq = 0x5a5a5a5a;
	a.ack = ack_of_age(0xa5a5a5a5, 2);
	a.win = 502;
	build(&a, &ack_stale);
	a.ack = ack_of_age(0xa5a5a5a5, 0);
	build(&a, &ack_plain);
	a.sport = 41001; /* the same, its tuple's xdpct_seen bit set (seen_set_for) */
	build(&a, &ack_seen);
	a.sport = 41000;
	a.flags = 0x04;
	a.ack = 0;
	build(&a, &rst_nf);
}

/* Sets the xdpct_seen bit of the client's tuple from sport, in both
 * halves: to XDP the tuple may have lost its entry, so an ACK without a
 * valid cookie pays the socket lookup that finds out (issue 9, item 3). */
static void seen_set_for(uint16_t sport)
{
	struct xdpct_flow4_key k = { 0 };
	struct xdpct_seen seen;
	int r;

	memcpy(&k.raddr, CLI4, 4);
	memcpy(&k.laddr, SRV4, 4);
	k.rport = htons(sport);
	k.lport = htons(PORT);
	r = xdpct_seen_map(seen_fd, NULL, &seen);
	if (r)
		die("xdpct_seen: %s", strerror(-r));
	xdpct_seen_reset(&seen); /* valid and empty, as after a rebuild */
	xdpct_seen_set4(&seen, &k);
	xdpct_seen_close(&seen);
}

/* Leaves one ESTABLISHED entry for the data packet's flow, as TC would
 * after the listener's child appeared. */
static void establish(void)
{
	struct xdpct_flow4_key k = { 0 };
	struct xdpct_flow f;
	struct out o;

	flows_reset();
	if (run(xdp_fd, &ack_good, 1, &o) < 0 || o.retval != XDP_PASS)
		die("cookie ACK not passed (retval %u)", o.retval);
	memcpy(&k.raddr, CLI4, 4);
	memcpy(&k.laddr, SRV4, 4);
	k.rport = htons(40000);
	k.lport = htons(PORT);
	if (bpf_map_lookup_elem(flows4_fd, &k, &f))
		die("no flow entry after the cookie ACK");
	f.state = XDPCT_CT_ESTABLISHED;
	f.flags &= ~XDPCT_FLOW_PENDING;
	if (bpf_map_update_elem(flows4_fd, &k, &f, BPF_EXIST))
		die("flow update: %s", strerror(errno));
	{
		uint8_t pk[64];

		while (!bpf_map_get_next_key(pending_fd, NULL, pk))
			if (bpf_map_delete_elem(pending_fd, pk))
				break;
	}
}

static void verify(struct kase *k)
{
	uint32_t id = XDPCT_STAT_MAX;
	uint64_t before = 0;
	struct out o;

	if (k->verdict) {
#define FIND(sid, sname, help) if (!strcmp(k->verdict, #sname)) id = XDPCT_STAT_##sid;
		XDPCT_STATS_LIST(FIND)
#undef FIND
		if (id == XDPCT_STAT_MAX)
			die("unknown counter %s", k->verdict);
		before = stat_sum(id);
	}
	if (k->before)
		k->before(k);
	if (run(k->fd, &k->f, 1, &o) < 0)
		die("%s: test_run failed", k->name);
	if ((int)o.retval != k->expect_retval)
		die("%s: verdict %u, want %d", k->name, o.retval, k->expect_retval);
	if (k->verdict && stat_sum(id) != before + 1)
		die("%s: counter %s did not move", k->name, k->verdict);
}

int main(int argc, char **argv)
{
	const char *json = NULL, *only = NULL;
	uint32_t flows = XDPCT_FLOWS_DEFAULT;
	unsigned int seen_shift = 0;
	int rounds = 7;
	struct bpf_map *map;
	struct xdpct_config cfg = { 0 };
	uint32_t zero = 0, port = PORT;
	uint8_t pflag = XDPCT_PORT_PROTECT;
	struct frame f;
	struct pg_spec s;
	FILE *out;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--rounds"))
			rounds = atoi(v);
		else if (!strcmp(a, "--calls"))
			calls = atoi(v);
		else if (!strcmp(a, "--repeat"))
			repeat = atoi(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else if (!strcmp(a, "--only"))
			only = v;
		else if (!strcmp(a, "--flows"))
			flows = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--seen-shift"))
			seen_shift = (unsigned int)strtoul(v, NULL, 0);
		else
			die("unknown option %s", a);
	}
	if (rounds < 1 || rounds > 64 || calls < 1 || repeat < 1)
		die("--rounds 1..64, --calls >= 1, --repeat >= 1");

	skel = xdpct_bpf__open();
	if (!skel)
		die("xdpct_bpf__open: %s", strerror(errno));
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL); /* never touch /sys/fs/bpf */
	/* the CLI's default size: a SYN's flow lookup touches a table this big */
	bpf_map__set_max_entries(skel->maps.xdpct_flows4, flows);
	bpf_map__set_max_entries(skel->maps.xdpct_flows6, flows);
	/* the loader's size for these tables, unless --seen-shift */
	bpf_map__set_max_entries(skel->maps.xdpct_seen,
				 XDPCT_SEEN_ENTRIES_OF(seen_shift ? seen_shift : xdpct_seen_shift_for(2 * flows)));
	if (xdpct_bpf__load(skel))
		die("xdpct_bpf__load: %s", strerror(errno));
	floors = floors_bpf__open_and_load();
	if (!floors)
		die("floors: %s", strerror(errno));
	xdp_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	flows4_fd = bpf_map__fd(skel->maps.xdpct_flows4);
	pending_fd = bpf_map__fd(skel->maps.xdpct_pending);
	seen_fd = bpf_map__fd(skel->maps.xdpct_seen);
	stats_fd = bpf_map__fd(skel->maps.xdpct_stats);
	ncpu = libbpf_num_possible_cpus();

	if (getrandom(&cfg.keys[0], sizeof(cfg.keys[0]), 0) != sizeof(cfg.keys[0]))
		die("getrandom");
	/* as `xdpct attach` sets it up: this host's addresses in xdpct_local
	 * (LOCAL_ONLY), the interface's MAC */
	cfg.flags = XDPCT_CFG_ENABLED | XDPCT_CFG_SACK | XDPCT_CFG_TIMESTAMPS | XDPCT_CFG_WSCALE |
		    XDPCT_CFG_ECN | XDPCT_CFG_LOCAL_ONLY;
	memcpy(cfg.if_mac, SRV_MAC, 6);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct xdpct_local_key lk = { .family = fam };
		uint8_t one = 1;

		memcpy(lk.addr, fam == 4 ? SRV4 : SRV6, fam == 4 ? 4 : 16);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_local), &lk, &one, BPF_ANY))
			die("xdpct_local: %s", strerror(errno));
	}
	cfg.mss4 = MSS4;
	cfg.mss6 = MSS4 - 20;
	cfg.wscale = WSCALE;
	cfg.ttl = 64;
	cfg.key_epoch = 1;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_config), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_ports), &port, &pflag, BPF_ANY))
		die("config: %s", strerror(errno));

	make_frames();
	seen_set_for(41001);
	syn_spec(&s, 4, OPTS_LINUX);
	build(&s, &f);
	int pass = bpf_program__fd(floors->progs.floor_pass);
	int drop = bpf_program__fd(floors->progs.floor_drop);
	int tx = bpf_program__fd(floors->progs.floor_tx);
	int rd = bpf_program__fd(floors->progs.floor_read);

	/* floors, both methods */
	add("floor_pass", pass, M_REPEAT, &f, XDP_PASS, NULL, NULL);
	add("floor_drop", drop, M_REPEAT, &f, XDP_DROP, NULL, NULL);
	add("floor_tx", tx, M_REPEAT, &f, XDP_TX, NULL, NULL);
	/* the headers read, then dropped: on a warm frame, next to floor_drop */
	add("floor_read", rd, M_REPEAT, &f, XDP_DROP, NULL, NULL);
	add("floor_pass", pass, M_CALLS, &f, XDP_PASS, NULL, NULL);
	add("floor_drop", drop, M_CALLS, &f, XDP_DROP, NULL, NULL);
	add("floor_tx", tx, M_CALLS, &f, XDP_TX, NULL, NULL);
	/* building blocks: a clock read (precise, and coarse as xdpct's now_ns()),
	 * a per-CPU counter, an LRU hit (what a flow packet pays) */
	{
		struct xdpct_flow4_key k = { 0 };
		struct xdpct_flow v = { 0 };

		memcpy(&k.raddr, CLI4, 4);
		memcpy(&k.laddr, SRV4, 4);
		k.rport = htons(40000);
		k.lport = htons(PORT);
		if (bpf_map_update_elem(bpf_map__fd(floors->maps.floor_flows), &k, &v, BPF_ANY))
			die("floor_flows: %s", strerror(errno));
	}
	add("part_ktime", bpf_program__fd(floors->progs.floor_ktime), M_REPEAT, &f, XDP_PASS,
	    "floor_pass", NULL);
	add("part_jiffies", bpf_program__fd(floors->progs.floor_jiffies), M_REPEAT, &f, XDP_PASS,
	    "floor_pass", NULL);
	add("part_ktime_coarse", bpf_program__fd(floors->progs.floor_ktime_coarse), M_REPEAT, &f,
	    XDP_PASS, "floor_pass", NULL);
	add("part_counter", bpf_program__fd(floors->progs.floor_counter), M_REPEAT, &f, XDP_PASS,
	    "floor_pass", NULL);
	add("part_lru_hit", bpf_program__fd(floors->progs.floor_lru), M_REPEAT, &f, XDP_PASS,
	    "floor_pass", NULL);
	/* SYN -> SYN-ACK rewrites the packet: repeat=1 only */
	syn_spec(&s, 4, OPTS_NONE);
	build(&s, &f);
	add("syn_synack_no_opts", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack");
	syn_spec(&s, 4, OPTS_MSS);
	build(&s, &f);
	add("syn_synack_mss", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack");
	syn_spec(&s, 4, OPTS_LINUX);
	build(&s, &f);
	add("syn_synack_linux", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack");
	add("syn_synack_linux_rebuilt", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack")
		->before = same_source;
	add("syn_synack_linux_spoofed", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack")
		->before = new_source;
	syn_spec(&s, 6, OPTS_LINUX);
	build(&s, &f);
	add("syn_synack_linux_ipv6", xdp_fd, M_CALLS, &f, XDP_TX, "floor_tx", "tx_synack");
	/* valid cookie ACK writes two entries and metadata: reset each call */
	add("cookie_ack_valid", xdp_fd, M_CALLS, &ack_good, XDP_PASS, "floor_pass", "pass_cookie")
		->before = reset_hook;
	/* drops write nothing: both methods */
	add("cookie_ack_bad", xdp_fd, M_REPEAT, &ack_bad, XDP_DROP, "floor_drop", "drop_cookie_bad");
	add("cookie_ack_bad", xdp_fd, M_CALLS, &ack_bad, XDP_DROP, "floor_drop", "drop_cookie_bad");
	add("ack_unknown", xdp_fd, M_REPEAT, &ack_plain, XDP_DROP, "floor_drop", "drop_cookie_bad");
	add("ack_unknown", xdp_fd, M_CALLS, &ack_plain, XDP_DROP, "floor_drop", "drop_cookie_bad");
	add("ack_unknown_stale", xdp_fd, M_REPEAT, &ack_stale, XDP_DROP, "floor_drop",
	    "drop_cookie_stale");
	/* the same ACK, its tuple's bit set: the socket lookup a flood never pays */
	add("ack_unknown_seen", xdp_fd, M_REPEAT, &ack_seen, XDP_DROP, "floor_drop", "lost_lookup");
	add("rst_unknown", xdp_fd, M_REPEAT, &rst_nf, XDP_DROP, "floor_drop", "drop_no_flow");
	add("rst_unknown", xdp_fd, M_CALLS, &rst_nf, XDP_DROP, "floor_drop", "drop_no_flow");
	/* data of an established flow updates the entry, not the packet */
	add("data_established", xdp_fd, M_REPEAT, &data_est, XDP_PASS, "floor_pass", "pass_flow");
	add("data_established", xdp_fd, M_CALLS, &data_est, XDP_PASS, "floor_pass", "pass_flow");

	if (only) { /* for profiling one path: perf record -- micro --only NAME */
		int n = 0;

		for (int i = 0; i < ncases; i++)
			if (strstr(cases[i].name, only) || !strcmp(cases[i].name, "floor_pass"))
				cases[n++] = cases[i];
		ncases = n;
	}
	/* each case once, with its verdict checked; then the flow for data */
	for (int i = 0; i < ncases; i++) {
		if (!strcmp(cases[i].name, "data_established"))
			establish();
		verify(&cases[i]);
	}
	for (int r = 0; r < rounds; r++) {
		establish();
		for (int i = 0; i < ncases; i++) {
			if (cases[i].before == reset_hook) {
				cases[i].round[r] = measure(&cases[i]);
				establish(); /* flows_reset removed the data flow */
			} else {
				cases[i].round[r] = measure(&cases[i]);
			}
		}
	}
	for (int i = 0; i < ncases; i++) {
		struct kase *k = &cases[i];

		k->value = median(k->round, rounds);
		k->lo = k->hi = k->round[0];
		for (int r = 1; r < rounds; r++) {
			if (k->round[r] < k->lo)
				k->lo = k->round[r];
			if (k->round[r] > k->hi)
				k->hi = k->round[r];
		}
	}

	out = json ? fopen(json, "w") : stdout;
	if (!out)
		die("%s: %s", json, strerror(errno));
	fprintf(out, "{\"rounds\":%d,\"calls\":%d,\"repeat\":%d,\"cases\":[", rounds, calls, repeat);
	for (int i = 0; i < ncases; i++) {
		struct kase *k = &cases[i], *b = NULL;
		double net[64], base = 0, net_med = 0;

		/* net: per round, minus floor_pass of the same method and round */
		for (int j = 0; j < ncases; j++)
			if (!strcmp(cases[j].name, "floor_pass") && cases[j].method == k->method)
				b = &cases[j];
		if (b) {
			for (int r = 0; r < rounds; r++)
				net[r] = k->round[r] - b->round[r];
			net_med = median(net, rounds);
			base = b->value;
		}
		fprintf(out, "%s\n {\"name\":\"%s\",\"method\":\"%s\",\"ns\":%.1f,\"min\":%.1f,"
			"\"max\":%.1f,\"pass_baseline\":%.1f,\"net\":%.1f,\"floor\":%s%s%s,"
			"\"verdict\":\"%s\",\"rounds\":[",
			i ? "," : "", k->name, k->method == M_REPEAT ? "repeat" : "calls", k->value,
			k->lo, k->hi, base, net_med, k->floor ? "\"" : "",
			k->floor ? k->floor : "null", k->floor ? "\"" : "",
			k->verdict ? k->verdict : (k->expect_retval == XDP_TX ? "XDP_TX" :
						   k->expect_retval == XDP_DROP ? "XDP_DROP" :
										  "XDP_PASS"));
		for (int r = 0; r < rounds; r++)
			fprintf(out, "%s%.1f", r ? "," : "", k->round[r]);
		fprintf(out, "]}");
	}
	fprintf(out, "\n]}\n");
	if (json)
		fclose(out);
	for (int i = 0; i < ncases; i++)
		fprintf(stderr, "micro: %-24s %-6s %7.1f ns (rounds %.0f..%.0f)\n", cases[i].name,
			cases[i].method == M_REPEAT ? "repeat" : "calls", cases[i].value, cases[i].lo,
			cases[i].hi);
	floors_bpf__destroy(floors);
	xdpct_bpf__destroy(skel);
	return 0;
}
