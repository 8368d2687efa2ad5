// SPDX-License-Identifier: GPL-2.0
/* stats: sum the per-CPU counters of the pinned xdpct_stats map; with
 * --watch, their per-second rates, live. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "metrics.h"
#include "xdpct_stats.h"

#define STAT_NAME(id, name, help) #name,
static const char *const stat_names[XDPCT_STAT_MAX] = {
	XDPCT_STATS_LIST(STAT_NAME)
};
#undef STAT_NAME
#define STAT_HELP(id, name, help) help,
static const char *const stat_help[XDPCT_STAT_MAX] = {
	XDPCT_STATS_LIST(STAT_HELP)
};
#undef STAT_HELP
#define STAT_ID(id, name, help) #id,
static const char *const stat_ids[XDPCT_STAT_MAX] = {
	XDPCT_STATS_LIST(STAT_ID)
};
#undef STAT_ID

const char *stat_name(int i) { return stat_names[i]; }
const char *stat_help_text(int i) { return stat_help[i]; }
const char *stat_id(int i) { return stat_ids[i]; }

static void stats_usage(void)
{
	int i;

	printf("Usage: xdpct stats IFACE [-j | --prometheus] [--watch SECONDS [--count N]]\n"
	       "                   [--pin-dir DIR] [-v]\n"
	       "\n"
	       "Print xdpct's counters for IFACE, summed over all CPUs, from the map\n"
	       "%s pinned in %s/IFACE. With --pin-dir, read the map\n"
	       "pinned there instead (e.g. /sys/fs/bpf/tc/globals after `ip link ...\n"
	       "xdp obj`); IFACE is then only a label.\n"
	       "\n"
	       "With --watch, every SECONDS: each counter and its rate per second over\n"
	       "the last interval, in a live view on a terminal (counters at zero\n"
	       "hidden unless -v), a block per interval otherwise, one JSON object per\n"
	       "line with -j. Ctrl-C (SIGINT) or SIGTERM ends it.\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json            one JSON object: {\"ifname\": ..., \"counters\": {...}}\n"
	       "                        (--watch: and \"rates\": {...} per second)\n"
	       "  -P, --prometheus      the counters as `xdpct run --metrics` serves them,\n"
	       "                        each series labelled interface=\"IFACE\": for\n"
	       "                        node_exporter's textfile collector (no xdpct run)\n"
	       "  -w, --watch SECONDS   repeat every SECONDS (0.1-3600), with rates\n"
	       "  -c, --count N         with --watch: stop after N intervals\n"
	       "  -d, --pin-dir DIR     directory holding %s\n"
	       "  -v, --verbose         add a description to each counter\n"
	       "  -h, --help            this help\n"
	       "\n"
	       "Counters:\n",
	       XDPCT_MAP_STATS, XDPCT_PIN_ROOT, XDPCT_MAP_STATS);
	for (i = 0; i < XDPCT_STAT_MAX; i++)
		printf("  %-20s %s\n", stat_names[i], stat_help[i]);
}

/* Sum every counter over the possible CPUs. Missing ids read as 0. */
int stats_read(int fd, __u64 sums[XDPCT_STAT_MAX])
{
	return xdpct_stats_sum(fd, sums);
}

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static double now_s(int clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int stats_watch(int fd, const char *ifname, const char *path, double interval,
		       unsigned long long count, bool json)
{
	static __u64 prev[XDPCT_STAT_MAX], cur[XDPCT_STAT_MAX];
	struct sigaction sa = { .sa_handler = on_stop };
	bool tty = isatty(STDOUT_FILENO) && !json;
	double t0, t1, dt, rate;
	unsigned long long n;
	int i, r, width = 0, hidden;
	char when[32];
	time_t wall;

	/* no SA_RESTART: the signal cuts the sleep short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; i < XDPCT_STAT_MAX; i++)
		if ((int)strlen(stat_names[i]) > width)
			width = strlen(stat_names[i]);
	r = stats_read(fd, prev);
	t0 = now_s(CLOCK_MONOTONIC);
	for (n = 0; !r && !watch_stop && (!count || n < count); n++) {
		struct timespec ts = { .tv_sec = (time_t)interval,
				       .tv_nsec = (long)((interval - (time_t)interval) * 1e9) };

		while (!watch_stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
		if (watch_stop)
			break;
		r = stats_read(fd, cur);
		if (r)
			break;
		t1 = now_s(CLOCK_MONOTONIC);
		dt = t1 - t0;
		wall = time(NULL);
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&wall));
		if (json) {
			printf("{\"ifname\":");
			json_string(stdout, ifname);
			printf(",\"time\":%.3f,\"interval_s\":%.3f,\"counters\":{",
			       now_s(CLOCK_REALTIME), dt);
			for (i = 0; i < XDPCT_STAT_MAX; i++)
				printf("%s\"%s\":%llu", i ? "," : "", stat_names[i],
				       (unsigned long long)cur[i]);
			printf("},\"rates\":{");
			for (i = 0; i < XDPCT_STAT_MAX; i++)
				printf("%s\"%s\":%.1f", i ? "," : "", stat_names[i],
				       (cur[i] - prev[i]) / dt);
			printf("}}\n");
		} else {
			if (tty)
				fputs("\033[H\033[2J", stdout); /* home, clear */
			printf("%s %s: every %.1f s%s\n", when, ifname, interval,
			       tty ? " (Ctrl-C quits)" : "");
			printf("  %-*s %20s %14s\n", width, "counter", "total", "per second");
			hidden = 0;
			for (i = 0; i < XDPCT_STAT_MAX; i++) {
				if (!cur[i] && !verbose && tty) {
					hidden++;
					continue;
				}
				rate = (cur[i] - prev[i]) / dt;
				printf("  %-*s %20llu %14.1f\n", width, stat_names[i],
				       (unsigned long long)cur[i], rate);
			}
			if (hidden)
				printf("  (%d counters at 0 not shown; -v shows them)\n", hidden);
			if (!tty)
				putchar('\n');
		}
		fflush(stdout);
		memcpy(prev, cur, sizeof(prev));
		t0 = t1;
	}
	if (r) {
		err("cannot read %s: %s", path, strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	__u64 sums[XDPCT_STAT_MAX];
	char pin_dir[PATH_MAX], path[PATH_MAX + 32], *end;
	const char *ifname, *pin_arg = NULL, *count_arg = NULL;
	unsigned long long count = 0;
	double watch = 0;
	bool json = false, prom = false;
	int opt, fd, r, i, width = 0;

	while ((opt = getopt_long(argc, argv, ":jPw:c:d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'P': prom = true; break;
		case 'w':
			watch = strtod(optarg, &end);
			if (*end || end == optarg || !(watch >= 0.1 && watch <= 3600))
				return usage_err("stats", "bad --watch '%s' (0.1-3600 seconds)", optarg);
			break;
		case 'c': count_arg = optarg; break;
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': stats_usage(); return EXIT_OK;
		default: return getopt_usage_err("stats", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("stats", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("stats", "unexpected argument '%s'", argv[optind]);
	if (prom && (json || watch))
		return usage_err("stats", "--prometheus goes with neither --json nor --watch");
	if (count_arg && (!watch || parse_u64(count_arg, 1, ~0ull, &count)))
		return usage_err("stats", watch ? "bad --count '%s'" : "--count '%s' goes with --watch",
				 count_arg);

	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XDPCT_MAP_STATS);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		r = errno;
		if (r == ENOENT && !pin_arg)
			err("xdpct is not attached to %s (no %s)", ifname, path);
		else
			err("cannot open %s: %s", path, strerror(r));
		return EXIT_FAIL;
	}
	r = stats_read(fd, sums);
	if (r) {
		close(fd);
		if (r == -EINVAL)
			err("%s is not this xdpct's stats map (PERCPU_ARRAY of struct xdpct_stat_counters)", path);
		else
			err("cannot read %s: %s", path, strerror(-r));
		return EXIT_FAIL;
	}
	if (watch) {
		r = stats_watch(fd, ifname, path, watch, count, json);
		close(fd);
		return r;
	}
	close(fd);

	if (prom) {
		metrics_counters(stdout, sums, ifname);
		return EXIT_OK;
	}
	if (json) {
		fputs("{\"ifname\":", stdout);
		json_string(stdout, ifname);
		fputs(",\"counters\":{", stdout);
		for (i = 0; i < XDPCT_STAT_MAX; i++) {
			printf("%s", i ? "," : "");
			json_string(stdout, stat_names[i]);
			printf(":%llu", (unsigned long long)sums[i]);
		}
		fputs("}}\n", stdout);
		return EXIT_OK;
	}
	for (i = 0; i < XDPCT_STAT_MAX; i++)
		if ((int)strlen(stat_names[i]) > width)
			width = strlen(stat_names[i]);
	printf("%s:\n", ifname);
	for (i = 0; i < XDPCT_STAT_MAX; i++) {
		printf("  %-*s %20llu", width, stat_names[i],
		       (unsigned long long)sums[i]);
		if (verbose)
			printf("  %s", stat_help[i]);
		putchar('\n');
	}
	return EXIT_OK;
}
