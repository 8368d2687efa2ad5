// SPDX-License-Identifier: GPL-2.0
/* synlimit: SYN rate limits per source prefix (include/xdpct.h), set,
 * shown and turned off at run time; `attach --syn-limit` sets one too. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cmd.h"

#define RATE_MAX 10000000ull

int synlimit_parse(const char *cmd, const char *spec, const char *prefixes,
		   struct xdpct_synlimit *l)
{
	unsigned long long rate, burst, p4 = 24, p6 = 64;
	char buf[64], *slash, *comma;

	memset(l, 0, sizeof(*l));
	snprintf(buf, sizeof(buf), "%s", spec);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (parse_u64(buf, 1, RATE_MAX, &rate))
		return usage_err(cmd, "bad rate '%s' (SYNs per second per prefix, 1-%llu)", buf,
				 RATE_MAX);
	burst = rate;
	if (slash && parse_u64(slash, 1, RATE_MAX, &burst))
		return usage_err(cmd, "bad burst '%s' (1-%llu SYNs)", slash, RATE_MAX);
	if (prefixes) {
		snprintf(buf, sizeof(buf), "%s", prefixes);
		comma = strchr(buf, ',');
		if (comma)
			*comma++ = '\0';
		if (parse_u64(buf, XDPCT_SYNLIMIT_PREFIX4_MIN, 32, &p4) ||
		    (comma && parse_u64(comma, XDPCT_SYNLIMIT_PREFIX6_MIN, 128, &p6)))
			return usage_err(cmd, "bad prefix lengths '%s' (IPV4[,IPV6]: %d-32, %d-128)",
					 prefixes, XDPCT_SYNLIMIT_PREFIX4_MIN,
					 XDPCT_SYNLIMIT_PREFIX6_MIN);
	}
	l->rate = rate;
	l->burst = burst;
	l->interval_ns = 1000000000ull / rate;
	l->tau_ns = (burst - 1) * l->interval_ns;
	l->prefix4 = p4;
	l->prefix6 = p6;
	return 0;
}

/* Every bucket out: a new limit starts from full ones. */
static int rates_flush(int rate_fd, unsigned long *n)
{
	struct xdpct_synrate_key k, next;
	int r;

	*n = 0;
	while (!(r = bpf_map_get_next_key(rate_fd, NULL, &next))) {
		k = next;
		if (bpf_map_delete_elem(rate_fd, &k) && errno != ENOENT)
			return -errno;
		(*n)++;
	}
	return errno == ENOENT ? 0 : -errno;
}

int synlimit_write(int limit_fd, int rate_fd, const struct xdpct_synlimit *l)
{
	__u32 zero = 0;
	unsigned long n;
	int r;

	if (bpf_map_update_elem(limit_fd, &zero, l, BPF_ANY)) {
		err("cannot write %s: %s", XDPCT_MAP_SYNLIMIT, strerror(errno));
		return -1;
	}
	r = rates_flush(rate_fd, &n);
	if (r)
		warn("cannot empty %s: %s", XDPCT_MAP_SYNRATE, strerror(-r));
	return 0;
}

void synlimit_describe(const struct xdpct_synlimit *l, char *buf, size_t len)
{
	if (!l->interval_ns)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%u SYNs/s, burst %u, per /%u (IPv4) and /%u (IPv6) source prefix",
			 l->rate, l->burst, l->prefix4, l->prefix6);
}

void synlimit_json(FILE *f, const struct xdpct_synlimit *l)
{
	if (!l->interval_ns)
		fputs("null", f);
	else
		fprintf(f, "{\"rate\":%u,\"burst\":%u,\"prefix4\":%u,\"prefix6\":%u}", l->rate,
			l->burst, l->prefix4, l->prefix6);
}

static void synlimit_usage(void)
{
	printf("Usage: xdpct synlimit set IFACE RATE[/BURST] [--prefix IPV4[,IPV6]]\n"
	       "       xdpct synlimit off IFACE\n"
	       "       xdpct synlimit show IFACE [-j]\n"
	       "       (--pin-dir DIR instead of IFACE)\n"
	       "\n"
	       "A SYN rate limit per source prefix, changed at run time: the SYNs to\n"
	       "protected ports that would get a cookie pass a token bucket per remote\n"
	       "/24 (IPv4) and /64 (IPv6) prefix (--prefix to choose others): RATE SYNs\n"
	       "per second on average, BURST at once (default: RATE). Beyond it they\n"
	       "are dropped and counted (drop_syn_rate in xdpct stats); the SYNs an\n"
	       "auto port with no attack passes to the kernel (run --auto) too. SYNs of\n"
	       "observed ports, of allowed sources and of tracked connections are not\n"
	       "limited. The buckets live in an LRU table of %u prefixes: a flood from\n"
	       "random sources is not slowed by them (each prefix sends little) and\n"
	       "pushes buckets out, which start again full. `set` and `off` empty\n"
	       "the buckets.\n"
	       "\n"
	       "Options:\n"
	       "  -P, --prefix IPV4[,IPV6]  prefix lengths (%d-32, %d-128; default 24,64)\n"
	       "  -j, --json                show: one JSON object (null: no limit)\n"
	       "  -d, --pin-dir DIR         pin directory instead of %s/IFACE\n"
	       "  -h, --help                this help\n",
	       XDPCT_SYNRATE_MAX, XDPCT_SYNLIMIT_PREFIX4_MIN, XDPCT_SYNLIMIT_PREFIX6_MIN,
	       XDPCT_PIN_ROOT);
}

int cmd_synlimit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefix", required_argument, NULL, 'P' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *op, *ifname = NULL, *pin_arg = NULL, *prefix = NULL, *spec = NULL;
	struct xdpct_synlimit l = {};
	char pin_dir[PATH_MAX], desc[128];
	int c, limit_fd = -1, rate_fd = -1, ret = EXIT_FAIL;
	unsigned int ifindex;
	__u32 zero = 0;
	bool json = false;

	while ((c = getopt_long(argc, argv, ":P:d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'P': prefix = optarg; break;
		case 'd': pin_arg = optarg; break;
		case 'j': json = true; break;
		case 'h': synlimit_usage(); return EXIT_OK;
		default: return getopt_usage_err("synlimit", c, argv);
		}
	}
	if (optind >= argc)
		return usage_err("synlimit", "missing action: set, off or show");
	op = argv[optind++];
	if (strcmp(op, "set") && strcmp(op, "off") && strcmp(op, "show"))
		return usage_err("synlimit", "unknown action '%s' (set, off or show)", op);
	if (!pin_arg) {
		if (optind >= argc)
			return usage_err("synlimit", "missing interface (or --pin-dir)");
		ifname = argv[optind++];
	}
	if (!strcmp(op, "set")) {
		if (optind >= argc)
			return usage_err("synlimit", "set: missing RATE[/BURST]");
		spec = argv[optind++];
		if (synlimit_parse("synlimit", spec, prefix, &l))
			return EXIT_USAGE;
	} else if (prefix) {
		return usage_err("synlimit", "--prefix goes with set");
	}
	if (optind < argc)
		return usage_err("synlimit", "unexpected argument '%s'", argv[optind]);
	if (json && strcmp(op, "show"))
		return usage_err("synlimit", "--json goes with show");

	if (check_caps(XDPCT_CAPS_MAPS))
		goto out;
	if (pin_arg) {
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	} else if (check_ifname(ifname, &ifindex) ||
		   default_pin_dir(pin_dir, sizeof(pin_dir), ifname)) {
		goto out;
	}
	limit_fd = pinned_map(pin_dir, XDPCT_MAP_SYNLIMIT);
	rate_fd = pinned_map(pin_dir, XDPCT_MAP_SYNRATE);
	if (limit_fd < 0 || rate_fd < 0) {
		if (!path_exists(pin_dir))
			err("xdpct is not attached to %s (no %s)", ifname ? ifname : pin_dir, pin_dir);
		else
			err("cannot open %s/%s: %s (maps of an xdpct without SYN limits: 'xdpct reload')",
			    pin_dir, limit_fd < 0 ? XDPCT_MAP_SYNLIMIT : XDPCT_MAP_SYNRATE,
			    strerror(errno));
		goto out;
	}
	if (!strcmp(op, "show")) {
		if (bpf_map_lookup_elem(limit_fd, &zero, &l)) {
			err("cannot read %s: %s", XDPCT_MAP_SYNLIMIT, strerror(errno));
			goto out;
		}
		if (json) {
			synlimit_json(stdout, &l);
			putchar('\n');
		} else {
			synlimit_describe(&l, desc, sizeof(desc));
			printf("%s\n", desc);
		}
		ret = EXIT_OK;
		goto out;
	}
	if (synlimit_write(limit_fd, rate_fd, &l))
		goto out;
	synlimit_describe(&l, desc, sizeof(desc));
	info("SYN limit of %s: %s", ifname ? ifname : pin_dir, desc);
	ret = EXIT_OK;
out:
	if (limit_fd >= 0)
		close(limit_fd);
	if (rate_fd >= 0)
		close(rate_fd);
	return ret;
}
