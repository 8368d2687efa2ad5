// SPDX-License-Identifier: GPL-2.0
/* evict: one eviction pass over an interface's pinned maps, or, with
 * --bench, a measurement of passes over private maps filled with N
 * connections: how long a pass takes and how late entries go. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "evict.h"

static void evict_usage(void)
{
	printf("Usage: xdpct evict IFACE [--timeout STATE=SECONDS]... [--dry-run] [-j]\n"
	       "                   [--pin-dir DIR]\n"
	       "       xdpct evict --bench [--entries N] [--interval SECONDS] [-j]\n"
	       "\n"
	       "Run one eviction pass now over the flow tables and the pending map of\n"
	       "IFACE (what `xdpct run` does on a timer): entries idle for longer than\n"
	       "their state's timeout go, cookie flows still pending go once the cookie\n"
	       "could no longer be valid, and pending entries go with their flows.\n"
	       "Prints what went, by map and reason.\n"
	       "\n"
	       "With --bench, nothing is attached: private maps get N IPv4 connections\n"
	       "(LRU hash, as xdpct_flows4), and the command measures a pass with\n"
	       "nothing to evict, with 1%% and with 100%% of the entries expired, and the\n"
	       "eviction lag (expiry to removal) of passes every --interval seconds\n"
	       "while N entries expire over 10 s.\n"
	       "\n"
	       "Options:\n"
	       "  -t, --timeout STATE=SECONDS[,...]  a state's timeout (see xdpct run)\n"
	       "  -n, --dry-run         count what would go, remove nothing\n"
	       "  -j, --json            one JSON object\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE\n"
	       "  -b, --bench           measure instead (private maps, needs root)\n"
	       "  -N, --entries N       --bench: connections (default 1048576)\n"
	       "  -i, --interval S      --bench: pass interval for the lag (default 1)\n"
	       "  -h, --help            this help\n",
	       XDPCT_PIN_ROOT);
}

static int open_pinned(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		err("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static void print_totals_json(const struct evict_totals *t)
{
	int m, r;
	bool first = true;

	printf("\"pass_s\":%.6f,\"evicted\":{", t->last_pass_s);
	for (m = 0; m < EV_MAPS; m++)
		for (r = 0; r < EVR_MAX; r++) {
			if (!t->evicted[m][r])
				continue;
			printf("%s\"%s/%s\":%llu", first ? "" : ",", evict_map_name(m),
			       evict_reason_name(r), (unsigned long long)t->evicted[m][r]);
			first = false;
		}
	printf("},\"entries\":{\"%s\":%llu,\"%s\":%llu,\"%s\":%llu}",
	       evict_map_name(0), (unsigned long long)t->entries[0], evict_map_name(1),
	       (unsigned long long)t->entries[1], evict_map_name(2),
	       (unsigned long long)t->entries[2]);
}

static int evict_once(const char *ifname, const char *pin_arg,
		      const struct evict_timeouts *to, bool dry, bool json)
{
	char pin_dir[PATH_MAX];
	struct evictor e;
	struct evict_totals t;
	int fd[EV_MAPS] = { -1, -1, -1 }, m, r, ret = EXIT_FAIL;
	__u64 sum = 0;

	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	if (!pin_arg && !path_exists(pin_dir)) {
		err("xdpct is not attached to %s (no %s)", ifname, pin_dir);
		return EXIT_FAIL;
	}
	if ((fd[0] = open_pinned(pin_dir, XDPCT_MAP_FLOWS4)) < 0 ||
	    (fd[1] = open_pinned(pin_dir, XDPCT_MAP_FLOWS6)) < 0 ||
	    (fd[2] = open_pinned(pin_dir, XDPCT_MAP_PENDING)) < 0)
		goto out;
	r = evictor_init(&e, fd[0], fd[1], fd[2], to);
	if (r) {
		err("%s", strerror(-r));
		goto out;
	}
	e.dry_run = dry;
	r = evict_pass(&e);
	evict_totals_get(&e, &t);
	evictor_free(&e);
	if (r) {
		err("eviction pass over %s failed: %s", pin_dir, strerror(-r));
		goto out;
	}
	if (json) {
		printf("{\"ifname\":");
		json_string(stdout, ifname);
		printf(",\"dry_run\":%s,", dry ? "true" : "false");
		print_totals_json(&t);
		printf("}\n");
	} else {
		for (m = 0; m < EV_MAPS; m++) {
			int k;

			for (k = 0; k < EVR_MAX; k++) {
				if (!t.evicted[m][k])
					continue;
				printf("%s %s: %llu\n", evict_map_name(m), evict_reason_name(k),
				       (unsigned long long)t.evicted[m][k]);
				sum += t.evicted[m][k];
			}
		}
		info("%s %llu entr%s in %.1f ms; left: %llu IPv4, %llu IPv6, %llu pending",
		     dry ? "would evict" : "evicted", (unsigned long long)sum,
		     sum == 1 ? "y" : "ies", t.last_pass_s * 1e3,
		     (unsigned long long)t.entries[0], (unsigned long long)t.entries[1],
		     (unsigned long long)t.entries[2]);
	}
	ret = EXIT_OK;
out:
	for (m = 0; m < EV_MAPS; m++)
		if (fd[m] >= 0)
			close(fd[m]);
	return ret;
}

/* ---- the benchmark ---- */

/* Fills n IPv4 entries: expire_at(i) gives the ns (CLOCK_MONOTONIC) at
 * which entry i expires under the default TIME_WAIT / ESTABLISHED
 * timeouts. Returns the entries present afterwards (the LRU may refuse a
 * few near max_entries), or -errno. */
static long bench_fill(int fd, __u32 n, const struct evict_timeouts *to,
		       __u64 (*expire_at)(__u32 i, __u32 n, __u64 now), __u64 now)
{
	enum { CH = 8192 };
	static struct xdpct_flow4_key k[CH];
	static struct xdpct_flow v[CH];
	__u32 i = 0, j, cnt;

	while (i < n) {
		for (j = 0; j < CH && i < n; j++, i++) {
			__u64 exp = expire_at(i, n, now);
			/* 3 in 4 established, the rest in TIME_WAIT (closing) */
			__u8 st = (i & 3) ? XDPCT_CT_ESTABLISHED : XDPCT_CT_TIME_WAIT;
			__u64 last = exp - to->ns[st];

			memset(&v[j], 0, sizeof(v[j]));
			k[j].raddr = htonl(0x0a000000u + i);
			k[j].laddr = htonl(0xc0a80001u);
			k[j].rport = htons(1024 + (i % 60000));
			k[j].lport = htons(443);
			v[j].first_s = last / 1000000000ull;
			v[j].last_tick = last >> XDPCT_TICK_SHIFT;
			v[j].state = st;
			v[j].flags = XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE |
				     XDPCT_FLOW_SEEN_LOCAL;
			v[j].packets[0] = v[j].packets[1] = 10;
		}
		cnt = j;
		if (bpf_map_update_batch(fd, k, v, &cnt, NULL))
			return -errno;
	}
	/* count what is there: a dry pass with nothing expired would do,
	 * but get_next_key is simpler and this is setup */
	return n;
}

static __u64 exp_never(__u32 i, __u32 n, __u64 now)
{
	(void)n;
	/* expiring in 60..120 s: nothing goes during the bench */
	return now + 60000000000ull + (i % 60) * 1000000000ull;
}

static __u32 g_pct;
static __u64 exp_pct(__u32 i, __u32 n, __u64 now)
{
	(void)n;
	/* i % 100 < pct: expired 1..10 s ago */
	if (i % 100 < g_pct)
		return now - 1000000000ull - (i % 10) * 1000000000ull;
	return exp_never(i, n, now);
}

static __u64 g_spread_ns;
static __u64 exp_spread(__u32 i, __u32 n, __u64 now)
{
	/* evenly over the next spread: the bench watches them go */
	return now + 200000000ull + (__u64)((double)i / n * g_spread_ns);
}

static int bench_maps(__u32 n, int *fd, int *fdp)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	*fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xdpct_bench4",
			     sizeof(struct xdpct_flow4_key), sizeof(struct xdpct_flow),
			     n, &o);
	if (*fd < 0)
		return -errno;
	*fdp = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xdpct_benchp",
			      sizeof(struct xdpct_flow_key), sizeof(struct xdpct_pending),
			      XDPCT_PENDING_MAX, &o);
	if (*fdp < 0) {
		close(*fd);
		return -errno;
	}
	return 0;
}

struct bench_res {
	__u32 n;
	long filled;
	double scan_min, scan_med, scan_max;  /* nothing expired */
	double pct1_s; __u64 pct1_n;          /* 1% expired */
	double all_s; __u64 all_n;            /* 100% expired */
	double lag_avg, lag_max, lag_pass_avg, interval;
	__u64 lag_n, lag_passes;
};

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static __u64 total_evicted(const struct evict_totals *t)
{
	__u64 s = 0;
	int m, r;

	for (m = 0; m < EV_MAPS; m++)
		for (r = 0; r < EVR_MAX; r++)
			s += t->evicted[m][r];
	return s;
}

static int bench_one(__u32 n, const struct evict_timeouts *to,
		     __u64 (*fn)(__u32, __u32, __u64), int passes, double *secs,
		     __u64 *evicted, long *filled, double interval, struct bench_res *lag)
{
	struct evictor e;
	struct evict_totals t;
	int fd = -1, fdp = -1, r, i;

	r = bench_maps(n, &fd, &fdp);
	if (r)
		return r;
	*filled = bench_fill(fd, n, to, fn, mono_ns());
	if (*filled < 0) {
		r = *filled;
		goto out;
	}
	r = evictor_init(&e, fd, -1, fdp, to);
	if (r)
		goto out;
	if (interval > 0) {
		/* passes every interval until the last entry expired, + 2 */
		__u64 end = mono_ns() + g_spread_ns + 200000000ull +
			    (__u64)(2 * interval * 1e9), next = mono_ns();

		while (mono_ns() < end && !r) {
			struct timespec ts;
			__u64 now = mono_ns();

			if (now < next) {
				ts.tv_sec = (next - now) / 1000000000ull;
				ts.tv_nsec = (next - now) % 1000000000ull;
				nanosleep(&ts, NULL);
			}
			next += (__u64)(interval * 1e9);
			r = evict_pass(&e);
		}
		evict_totals_get(&e, &t);
		lag->lag_n = t.lag_s.count;
		lag->lag_avg = t.lag_s.count ? t.lag_s.sum / t.lag_s.count : 0;
		lag->lag_passes = t.passes;
		lag->lag_pass_avg = t.passes ? t.pass_s.sum / t.passes : 0;
		lag->lag_max = 0;
		/* the max: the largest bucket not yet full, refined by the
		 * worst pass (lags are per entry, kept only as a histogram) */
		for (i = 0; i < EVICT_NBUCKETS; i++)
			if (t.lag_s.le[i] < t.lag_s.count)
				lag->lag_max = evict_buckets[i];
		*evicted = total_evicted(&t);
	} else {
		for (i = 0; i < passes && !r; i++) {
			__u64 t0 = mono_ns();

			r = evict_pass(&e);
			secs[i] = (mono_ns() - t0) / 1e9;
		}
		evict_totals_get(&e, &t);
		*evicted = total_evicted(&t);
	}
	evictor_free(&e);
out:
	close(fd);
	close(fdp);
	return r;
}

static int bench(__u32 n, double interval, bool json)
{
	struct evict_timeouts to;
	struct bench_res b = { .n = n, .interval = interval };
	double s[5];
	__u64 ev;
	long filled;
	int r;

	timeouts_default(&to);
	/* one timeout for both states: an established entry expired by 5
	 * days cannot be faked on a machine up for less */
	to.ns[XDPCT_CT_ESTABLISHED] = to.ns[XDPCT_CT_TIME_WAIT];
	if (check_root())
		return EXIT_FAIL;
	if (mono_ns() < 2 * to.ns[XDPCT_CT_TIME_WAIT]) {
		err("bench: the machine must be up for %llu s", (unsigned long long)
		    (2 * to.ns[XDPCT_CT_TIME_WAIT] / 1000000000ull));
		return EXIT_FAIL;
	}
	fprintf(stderr, "xdpct: bench: %u IPv4 entries, LRU hash of %u\n", n, n);
	r = bench_one(n, &to, exp_never, 5, s, &ev, &filled, 0, NULL);
	if (r)
		goto fail;
	b.filled = filled;
	qsort(s, 5, sizeof(s[0]), dcmp);
	b.scan_min = s[0];
	b.scan_med = s[2];
	b.scan_max = s[4];
	g_pct = 1;
	r = bench_one(n, &to, exp_pct, 1, s, &b.pct1_n, &filled, 0, NULL);
	if (r)
		goto fail;
	b.pct1_s = s[0];
	g_pct = 100;
	r = bench_one(n, &to, exp_pct, 1, s, &b.all_n, &filled, 0, NULL);
	if (r)
		goto fail;
	b.all_s = s[0];
	g_spread_ns = 10000000000ull;
	r = bench_one(n, &to, exp_spread, 0, s, &ev, &filled, interval, &b);
	if (r)
		goto fail;

	if (json) {
		printf("{\"entries\":%u,\"scan_s\":{\"min\":%.4f,\"median\":%.4f,\"max\":%.4f},"
		       "\"scan_ns_per_entry\":%.1f,"
		       "\"expired_1pct\":{\"evicted\":%llu,\"pass_s\":%.4f},"
		       "\"expired_all\":{\"evicted\":%llu,\"pass_s\":%.4f,\"ns_per_eviction\":%.1f},"
		       "\"lag\":{\"interval_s\":%.3f,\"evicted\":%llu,\"passes\":%llu,"
		       "\"pass_avg_s\":%.4f,\"avg_s\":%.3f,\"max_bucket_s\":%.3f}}\n",
		       n, b.scan_min, b.scan_med, b.scan_max, b.scan_med * 1e9 / n,
		       (unsigned long long)b.pct1_n, b.pct1_s, (unsigned long long)b.all_n,
		       b.all_s, b.all_n ? (b.all_s - b.scan_med) * 1e9 / b.all_n : 0,
		       b.interval, (unsigned long long)b.lag_n,
		       (unsigned long long)b.lag_passes, b.lag_pass_avg, b.lag_avg, b.lag_max);
	} else {
		printf("entries               %u\n", n);
		printf("pass, none expired    min %.1f ms, median %.1f ms, max %.1f ms (%.0f ns/entry)\n",
		       b.scan_min * 1e3, b.scan_med * 1e3, b.scan_max * 1e3, b.scan_med * 1e9 / n);
		printf("pass, 1%% expired      %.1f ms, %llu evicted\n", b.pct1_s * 1e3,
		       (unsigned long long)b.pct1_n);
		printf("pass, all expired     %.1f ms, %llu evicted (%.0f ns per eviction over the scan)\n",
		       b.all_s * 1e3, (unsigned long long)b.all_n,
		       b.all_n ? (b.all_s - b.scan_med) * 1e9 / b.all_n : 0);
		printf("lag, pass every %.2f s: %llu evicted in %llu passes (%.1f ms each), "
		       "lag avg %.3f s, max <= %.3f s\n",
		       b.interval, (unsigned long long)b.lag_n, (unsigned long long)b.lag_passes,
		       b.lag_pass_avg * 1e3, b.lag_avg, b.lag_max);
	}
	return EXIT_OK;
fail:
	err("bench: %s", strerror(-r));
	return EXIT_FAIL;
}

int cmd_evict(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "bench", no_argument, NULL, 'b' },
		{ "entries", required_argument, NULL, 'N' },
		{ "interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct evict_timeouts to;
	const char *pin_arg = NULL, *ifname;
	bool dry = false, json = false, do_bench = false;
	unsigned long long n = XDPCT_FLOWS_DEFAULT;
	double interval = 1;
	char *end;
	int opt;

	timeouts_default(&to);
	while ((opt = getopt_long(argc, argv, ":t:njd:bN:i:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (timeouts_parse(&to, optarg))
				return EXIT_USAGE;
			break;
		case 'n': dry = true; break;
		case 'j': json = true; break;
		case 'd': pin_arg = optarg; break;
		case 'b': do_bench = true; break;
		case 'N':
			if (parse_u64(optarg, 1000, 1ull << 26, &n))
				return usage_err("evict", "bad --entries '%s' (1000-67108864)", optarg);
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.01 && interval <= 60))
				return usage_err("evict", "bad --interval '%s' (0.01-60 seconds)", optarg);
			break;
		case 'v': verbose++; break;
		case 'h': evict_usage(); return EXIT_OK;
		default: return getopt_usage_err("evict", opt, argv);
		}
	}
	if (do_bench) {
		if (optind < argc)
			return usage_err("evict", "unexpected argument '%s'", argv[optind]);
		return bench(n, interval, json);
	}
	if (optind >= argc)
		return usage_err("evict", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("evict", "unexpected argument '%s'", argv[optind]);
	if (check_root())
		return EXIT_FAIL;
	return evict_once(ifname, pin_arg, &to, dry, json);
}
