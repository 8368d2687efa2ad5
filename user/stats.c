// SPDX-License-Identifier: GPL-2.0
/* stats: sum the per-CPU counters of the pinned xdpct_stats map. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"

#define STAT_NAME(id, name, help) name,
static const char *const stat_names[XDPCT_STAT_MAX] = {
	XDPCT_STATS_LIST(STAT_NAME)
};
#undef STAT_NAME
#define STAT_HELP(id, name, help) help,
static const char *const stat_help[XDPCT_STAT_MAX] = {
	XDPCT_STATS_LIST(STAT_HELP)
};
#undef STAT_HELP

static void stats_usage(void)
{
	int i;

	printf("Usage: xdpct stats IFACE [-j] [--pin-dir DIR] [-v]\n"
	       "\n"
	       "Print xdpct's counters for IFACE, summed over all CPUs, from the map\n"
	       "%s pinned in %s/IFACE. With --pin-dir, read the map\n"
	       "pinned there instead (e.g. /sys/fs/bpf/tc/globals after `ip link ...\n"
	       "xdp obj`); IFACE is then only a label.\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json            one JSON object: {\"ifname\": ..., \"counters\": {...}}\n"
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
static int stats_read(int fd, __u64 sums[XDPCT_STAT_MAX])
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), key;
	int ncpu = libbpf_num_possible_cpus(), cpu;
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (mi.type != BPF_MAP_TYPE_PERCPU_ARRAY || mi.value_size != 8 ||
	    mi.key_size != 4)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(sums, 0, sizeof(__u64) * XDPCT_STAT_MAX);
	for (key = 0; key < XDPCT_STAT_MAX && key < mi.max_entries; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			int r = -errno;

			free(vals);
			return r;
		}
		for (cpu = 0; cpu < ncpu; cpu++)
			sums[key] += vals[cpu];
	}
	free(vals);
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	__u64 sums[XDPCT_STAT_MAX];
	char pin_dir[PATH_MAX], path[PATH_MAX + 32];
	const char *ifname, *pin_arg = NULL;
	bool json = false;
	int opt, fd, r, i, width = 0;

	while ((opt = getopt_long(argc, argv, ":jd:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
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
	close(fd);
	if (r) {
		if (r == -EINVAL)
			err("%s is not an xdpct stats map (PERCPU_ARRAY of u64)", path);
		else
			err("cannot read %s: %s", path, strerror(-r));
		return EXIT_FAIL;
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
