// SPDX-License-Identifier: GPL-2.0
/* evict: passes and the timer wheel of user/evict.c over private maps.
 *
 *   evict [--entries N] [--interval SECONDS] [--close N] [-j] [-v]
 *
 * Nothing is attached: private LRU maps get N IPv4 connections (as
 * xdpct_flows4), and the program times a pass with nothing to evict, with
 * 1% and with 100% of the entries expired, and the eviction lag (expiry
 * to removal) of passes every --interval seconds while N entries expire
 * over 10 s. Then --close TIME_WAIT entries among N others expire over
 * 10 s, removed as `xdpct run` does, by passes only (every --interval, at
 * least 20x a pass), then by the timer wheel (their close events given to
 * it directly; passes every 10 s): lag, CPU time. Needs root.
 * Linked with the CLI's eviction code (user/evict.c, user/wheel.c,
 * user/util.c): it measures the product's passes, not a copy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "evict.h"

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
	double lag_avg, lag_max, lag_max_exact, lag_pass_avg, interval;
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
	{
		int fds[EV_MAPS] = { fd, -1, fdp, -1, -1 };

		r = evictor_init(&e, fds, to);
	}
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
		lag->lag_n = t.lag_s[EVB_PASS].count;
		lag->lag_avg = lag->lag_n ? t.lag_s[EVB_PASS].sum / lag->lag_n : 0;
		lag->lag_max_exact = t.lag_max_s[EVB_PASS];
		lag->lag_passes = t.passes;
		lag->lag_pass_avg = t.passes ? t.pass_s.sum / t.passes : 0;
		lag->lag_max = 0;
		/* the max: the largest bucket not yet full, refined by the
		 * worst pass (lags are per entry, kept only as a histogram) */
		for (i = 0; i < EVICT_NBUCKETS; i++)
			if (t.lag_s[EVB_PASS].le[i] < t.lag_s[EVB_PASS].count)
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

/* ---- closing flows: the timer wheel against passes only ---- */

#define CLOSE_SPREAD_NS 10000000000ull /* the closing entries expire over 10 s */
#define CLOSE_WAIT_MAX_NS 60000000000ull

struct close_res {
	__u64 evicted, by_wheel, by_pass, passes, events;
	double lag_avg, lag_max, window_s, cpu_s, pass_s, wheel_s, interval;
};

/* n background entries (ESTABLISHED, active) and c in TIME_WAIT expiring
 * evenly over CLOSE_SPREAD_NS from now + 0.2 s; evs: the close events the
 * BPF side would have sent for the c. Returns 0 or -errno. */
static int close_fill(int fd, __u32 n, __u32 c, const struct evict_timeouts *to, __u64 now,
		      struct xdpct_close_event *evs)
{
	enum { CH = 8192 };
	static struct xdpct_flow4_key k[CH];
	static struct xdpct_flow v[CH];
	__u32 i = 0, j, cnt, total = n + c;

	while (i < total) {
		for (j = 0; j < CH && i < total; j++, i++) {
			bool closing = i >= n;
			__u32 ci = i - n;
			__u64 last = closing ? now + 200000000ull +
						       (__u64)((double)ci / c * CLOSE_SPREAD_NS) -
						       to->ns[XDPCT_CT_TIME_WAIT] :
					       now;

			memset(&v[j], 0, sizeof(v[j]));
			k[j].raddr = htonl((closing ? 0x0b000000u + ci : 0x0a000000u + i));
			k[j].laddr = htonl(closing ? 0xc0a80002u : 0xc0a80001u);
			k[j].rport = htons(1024 + (i % 60000));
			k[j].lport = htons(443);
			v[j].first_s = last / 1000000000ull;
			v[j].last_tick = last >> XDPCT_TICK_SHIFT;
			v[j].state = closing ? XDPCT_CT_TIME_WAIT : XDPCT_CT_ESTABLISHED;
			v[j].flags = XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE |
				     XDPCT_FLOW_SEEN_LOCAL;
			v[j].packets[0] = v[j].packets[1] = 10;
			if (closing) {
				struct xdpct_close_event *ev = &evs[ci];

				memset(ev, 0, sizeof(*ev));
				ev->key.family = 4;
				ev->key.raddr[0] = k[j].raddr;
				ev->key.laddr[0] = k[j].laddr;
				ev->key.rport = k[j].rport;
				ev->key.lport = k[j].lport;
				ev->tick = v[j].last_tick;
				ev->state = XDPCT_CT_TIME_WAIT;
			}
		}
		cnt = j;
		if (bpf_map_update_batch(fd, k, v, &cnt, NULL))
			return -errno;
	}
	return 0;
}

static __u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* user + system */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_until(__u64 t)
{
	__u64 now = mono_ns();
	struct timespec ts;

	if (t <= now)
		return;
	ts.tv_sec = (t - now) / 1000000000ull;
	ts.tv_nsec = (t - now) % 1000000000ull;
	nanosleep(&ts, NULL);
}

static struct {
	struct evictor *e;
	__u64 next_tick;
} g_close;

static void close_tick(void)
{
	struct wheel_tick wt;
	__u64 now = mono_ns();

	evict_wheel_tick(g_close.e, &wt);
	g_close.next_tick += WHEEL_TICK_NS;
	if (g_close.next_tick <= now)
		g_close.next_tick = now + WHEEL_TICK_NS;
}

static void close_between(void *arg)
{
	(void)arg;
	if (mono_ns() >= g_close.next_tick)
		close_tick();
}

/* What `xdpct run` does (passes every max(interval, 20x a pass), with the
 * wheel: ticks every 100 ms too), until the c closing entries are gone. */
static int close_one(__u32 n, __u32 c, bool wheel, double interval, struct close_res *res)
{
	struct evict_timeouts to;
	struct xdpct_close_event *evs = calloc(c, sizeof(*evs));
	struct evict_totals t;
	struct evictor e;
	int fd = -1, fdp = -1, r;
	__u64 now, t0, c0, next_evict, end;
	__u32 i;

	timeouts_default(&to);
	memset(res, 0, sizeof(*res));
	if (!evs)
		return -ENOMEM;
	r = bench_maps(n + c, &fd, &fdp);
	if (r)
		goto out_free;
	r = close_fill(fd, n, c, &to, mono_ns(), evs);
	if (r)
		goto out;
	{
		int fds[EV_MAPS] = { fd, -1, fdp, -1, -1 };

		r = evictor_init(&e, fds, &to);
	}
	if (r)
		goto out;
	if (wheel) {
		r = evict_wheel_start(&e, -1);
		if (r)
			goto out_ev;
		/* the events, read at once (run: within a tick of the close) */
		now = mono_ns();
		for (i = 0; i < c && !r; i++)
			r = evict_wheel_event(&e, &evs[i], now);
		if (r)
			goto out_ev;
		g_close.e = &e;
		e.between = close_between;
	}
	t0 = mono_ns();
	c0 = cpu_ns();
	next_evict = g_close.next_tick = t0;
	end = t0 + CLOSE_WAIT_MAX_NS;
	for (;;) {
		__u64 next = wheel && g_close.next_tick < next_evict ? g_close.next_tick : next_evict;

		sleep_until(next);
		now = mono_ns();
		if (wheel && now >= g_close.next_tick)
			close_tick();
		if (now >= next_evict) {
			double ivl;

			r = evict_pass(&e);
			if (r)
				break;
			evict_totals_get(&e, &t);
			ivl = t.last_pass_s * 20 > interval ? t.last_pass_s * 20 : interval;
			res->interval = ivl;
			next_evict = mono_ns() + (__u64)(ivl * 1e9);
		}
		evict_totals_get(&e, &t);
		if (t.evicted[EV_FLOWS4][XDPCT_CT_TIME_WAIT] >= c || mono_ns() >= end)
			break;
	}
	res->cpu_s = (cpu_ns() - c0) / 1e9;
	res->window_s = (mono_ns() - t0) / 1e9;
	evict_totals_get(&e, &t);
	res->evicted = t.evicted[EV_FLOWS4][XDPCT_CT_TIME_WAIT];
	res->by_wheel = t.by[EVB_WHEEL];
	res->by_pass = t.by[EVB_PASS];
	res->passes = t.passes;
	res->pass_s = t.pass_s.sum;
	res->wheel_s = t.wheel_s;
	res->events = wheel ? c : 0;
	{
		__u64 cnt = t.lag_s[EVB_PASS].count + t.lag_s[EVB_WHEEL].count;

		res->lag_avg = cnt ? (t.lag_s[EVB_PASS].sum + t.lag_s[EVB_WHEEL].sum) / cnt : 0;
		res->lag_max = t.lag_max_s[EVB_PASS] > t.lag_max_s[EVB_WHEEL] ?
				       t.lag_max_s[EVB_PASS] : t.lag_max_s[EVB_WHEEL];
	}
out_ev:
	evictor_free(&e);
	g_close.e = NULL;
out:
	close(fd);
	close(fdp);
out_free:
	free(evs);
	return r;
}

static void close_print(const char *what, const struct close_res *c, bool json, bool comma)
{
	double per = c->evicted ? c->cpu_s * 1e6 / c->evicted : 0;

	if (json) {
		printf("\"%s\":{\"evicted\":%llu,\"by_wheel\":%llu,\"by_pass\":%llu,"
		       "\"lag_avg_s\":%.4f,\"lag_max_s\":%.4f,\"passes\":%llu,"
		       "\"pass_interval_s\":%.3f,\"window_s\":%.2f,\"cpu_s\":%.4f,"
		       "\"cpu_us_per_eviction\":%.2f,\"pass_s\":%.4f,\"wheel_s\":%.4f,"
		       "\"wheel_us_per_eviction\":%.3f}%s",
		       what, (unsigned long long)c->evicted, (unsigned long long)c->by_wheel,
		       (unsigned long long)c->by_pass, c->lag_avg, c->lag_max,
		       (unsigned long long)c->passes, c->interval, c->window_s, c->cpu_s, per,
		       c->pass_s, c->wheel_s, c->by_wheel ? c->wheel_s * 1e6 / c->by_wheel : 0,
		       comma ? "," : "");
		return;
	}
	printf("  %-11s evicted %llu (wheel %llu, passes %llu): lag avg %.3f s, max %.3f s;\n"
	       "              %llu passes (every %.2f s, %.1f ms of passes), CPU %.3f s in %.1f s = %.1f us per eviction",
	       what, (unsigned long long)c->evicted, (unsigned long long)c->by_wheel,
	       (unsigned long long)c->by_pass, c->lag_avg, c->lag_max,
	       (unsigned long long)c->passes, c->interval, c->pass_s * 1e3, c->cpu_s,
	       c->window_s, per);
	if (c->by_wheel)
		printf("; the wheel's own time %.2f us per eviction", c->wheel_s * 1e6 / c->by_wheel);
	printf("\n");
}

static int bench(__u32 n, double interval, __u32 nclose, bool json)
{
	struct evict_timeouts to;
	struct bench_res b = { .n = n, .interval = interval };
	struct close_res cl_pass, cl_wheel;
	double s[5];
	__u64 ev;
	long filled;
	int r;

	timeouts_default(&to);
	/* one timeout for both states: an established entry expired by 5
	 * days cannot be faked on a machine up for less */
	to.ns[XDPCT_CT_ESTABLISHED] = to.ns[XDPCT_CT_TIME_WAIT];
	if (check_caps(XDPCT_CAPS_MAPS))
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
	if (nclose) {
		fprintf(stderr, "xdpct: bench: %u closing entries among %u: passes only, then the wheel\n",
			nclose, n);
		r = close_one(n, nclose, false, interval, &cl_pass);
		if (r)
			goto fail;
		r = close_one(n, nclose, true, 10, &cl_wheel);
		if (r)
			goto fail;
	}

	if (json) {
		printf("{\"entries\":%u,\"scan_s\":{\"min\":%.4f,\"median\":%.4f,\"max\":%.4f},"
		       "\"scan_ns_per_entry\":%.1f,"
		       "\"expired_1pct\":{\"evicted\":%llu,\"pass_s\":%.4f},"
		       "\"expired_all\":{\"evicted\":%llu,\"pass_s\":%.4f,\"ns_per_eviction\":%.1f},"
		       "\"lag\":{\"interval_s\":%.3f,\"evicted\":%llu,\"passes\":%llu,"
		       "\"pass_avg_s\":%.4f,\"avg_s\":%.3f,\"max_bucket_s\":%.3f,\"max_s\":%.3f}",
		       n, b.scan_min, b.scan_med, b.scan_max, b.scan_med * 1e9 / n,
		       (unsigned long long)b.pct1_n, b.pct1_s, (unsigned long long)b.all_n,
		       b.all_s, b.all_n ? (b.all_s - b.scan_med) * 1e9 / b.all_n : 0,
		       b.interval, (unsigned long long)b.lag_n,
		       (unsigned long long)b.lag_passes, b.lag_pass_avg, b.lag_avg, b.lag_max,
		       b.lag_max_exact);
		if (nclose) {
			printf(",\"closing\":{\"entries\":%u,\"spread_s\":%.0f,", nclose,
			       CLOSE_SPREAD_NS / 1e9);
			close_print("passes", &cl_pass, true, true);
			close_print("wheel", &cl_wheel, true, false);
			printf("}");
		}
		printf("}\n");
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
		       "lag avg %.3f s, max %.3f s\n",
		       b.interval, (unsigned long long)b.lag_n, (unsigned long long)b.lag_passes,
		       b.lag_pass_avg * 1e3, b.lag_avg, b.lag_max_exact);
		if (nclose) {
			printf("closing: %u TIME_WAIT entries among %u others, expiring over %.0f s, events given at once\n",
			       nclose, n, CLOSE_SPREAD_NS / 1e9);
			close_print("passes only", &cl_pass, false, false);
			close_print("wheel", &cl_wheel, false, false);
		}
	}
	return EXIT_OK;
fail:
	err("bench: %s", strerror(-r));
	return EXIT_FAIL;
}

static void usage(void)
{
	printf("Usage: build/bench/evict [--entries N] [--interval SECONDS] [--close N] [-j]\n"
	       "\n"
	       "Measures eviction passes and the timer wheel over private maps (needs\n"
	       "root; nothing is attached): a pass with nothing to evict, with 1%% and\n"
	       "with 100%% of N IPv4 entries expired, the eviction lag of passes every\n"
	       "--interval seconds while N entries expire over 10 s, then --close\n"
	       "TIME_WAIT entries among N others removed by passes only and by the\n"
	       "timer wheel: lag, CPU time.\n"
	       "\n"
	       "Options:\n"
	       "  -N, --entries N       connections (default 1048576)\n"
	       "  -i, --interval S      pass interval for the lag (default 1)\n"
	       "  -c, --close N         closing entries (default 10000, 0: skip)\n"
	       "  -j, --json            one JSON object\n"
	       "  -v, --verbose         show libbpf messages\n"
	       "  -h, --help            this help\n");
}

/* not util.c's usage_err(): that one points at `xdpct evict --help` */
static __attribute__((format(printf, 1, 2))) int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("evict: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'evict --help')\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entries", required_argument, NULL, 'N' },
		{ "interval", required_argument, NULL, 'i' },
		{ "close", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long long n = XDPCT_FLOWS_DEFAULT, nclose = 10000;
	double interval = 1;
	bool json = false;
	char *end;
	int opt;

	setup_lib_logging();
	while ((opt = getopt_long(argc, argv, ":N:i:c:jvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'N':
			if (parse_u64(optarg, 1000, 1ull << 26, &n))
				return bad("bad --entries '%s' (1000-67108864)", optarg);
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.01 && interval <= 60))
				return bad("bad --interval '%s' (0.01-60 seconds)", optarg);
			break;
		case 'c':
			if (parse_u64(optarg, 0, 1u << 24, &nclose))
				return bad("bad --close '%s' (0-16777216)", optarg);
			break;
		case 'j': json = true; break;
		case 'v': verbose++; break;
		case 'h': usage(); return EXIT_OK;
		case ':': return bad("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return bad("unknown option '-%c'", optopt);
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return bench(n, interval, (__u32)nclose, json);
}
