// SPDX-License-Identifier: GPL-2.0
/* evict: one eviction pass over an interface's pinned maps (the
 * benchmark of passes and the wheel is bench/evict.c). */
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
#include "ctev.h"
#include "evict.h"

static void evict_usage(void)
{
	printf("Usage: xdpct evict IFACE [--timeout STATE=SECONDS]... [--dry-run] [-j]\n"
	       "                   [--pin-dir DIR]\n"
	       "\n"
	       "Run one eviction pass now over the flow tables and the pending map of\n"
	       "IFACE (what `xdpct run` does on a timer): entries idle for longer than\n"
	       "their state's timeout go, cookie flows still pending go once the cookie\n"
	       "could no longer be valid, and pending entries go with their flows.\n"
	       "Prints what went, by map and reason.\n"
	       "\n"
	       "Options:\n"
	       "  -t, --timeout STATE=SECONDS[,...]  a state's timeout (see xdpct run);\n"
	       "                        unset ones: those `xdpct run` set, else the defaults\n"
	       "  -n, --dry-run         count what would go, remove nothing\n"
	       "  -j, --json            one JSON object\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE\n"
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
	printf("},\"entries\":{");
	for (m = 0; m < EV_MAPS; m++)
		printf("%s\"%s\":%llu", m ? "," : "", evict_map_name(m),
		       (unsigned long long)t->entries[m]);
	printf("}");
}

/* targs: the --timeout arguments, applied over the timeouts in force */
static int evict_once(const char *ifname, const char *pin_arg, char **targs, int ntargs,
		      bool dry, bool json)
{
	struct evict_timeouts tos, *to = &tos;
	int i;
	char pin_dir[PATH_MAX];
	struct evictor e;
	struct evict_totals t;
	int fd[EV_MAPS], m, r, ret = EXIT_FAIL;
	__u64 sum = 0, handoff_expired, proxy_expired;

	for (m = 0; m < EV_MAPS; m++)
		fd[m] = -1;

	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	if (!pin_arg && !path_exists(pin_dir)) {
		err("xdpct is not attached to %s (no %s)", ifname, pin_dir);
		return EXIT_FAIL;
	}
	timeouts_read_pinned(pin_dir, to);
	for (i = 0; i < ntargs; i++)
		if (timeouts_parse(to, targs[i]))
			return EXIT_USAGE;
	for (m = 0; m < EV_MAPS; m++)
		if ((fd[m] = open_pinned(pin_dir, evict_map_name(m))) < 0)
			goto out;
	r = evictor_init(&e, fd, to);
	if (r) {
		err("%s", strerror(-r));
		goto out;
	}
	e.dry_run = dry;
	if (!dry)
		e.emit = ctev_emitter_open(pin_dir);
	e.handoff_fd = pinned_map(pin_dir, XDPCT_MAP_HANDOFF); /* -1: an older xdpct's maps */
	e.proxy_fd = pinned_map(pin_dir, XDPCT_MAP_PROXY);
	r = evict_pass(&e);
	evict_totals_get(&e, &t);
	handoff_expired = e.handoff_expired;
	proxy_expired = e.proxy_expired;
	if (e.handoff_fd >= 0)
		close(e.handoff_fd);
	if (e.proxy_fd >= 0)
		close(e.proxy_fd);
	ctev_emitter_free(e.emit);
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
		printf(",\"handoff_expired\":%llu,\"proxy_expired\":%llu}\n",
		       (unsigned long long)handoff_expired, (unsigned long long)proxy_expired);
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
		if (handoff_expired)
			printf("%s expired: %llu\n", XDPCT_MAP_HANDOFF,
			       (unsigned long long)handoff_expired);
		if (proxy_expired)
			printf("%s expired: %llu\n", XDPCT_MAP_PROXY,
			       (unsigned long long)proxy_expired);
		info("%s %llu entr%s in %.1f ms; left: %llu IPv4, %llu IPv6, %llu pending, %llu observed",
		     dry ? "would evict" : "evicted", (unsigned long long)sum,
		     sum == 1 ? "y" : "ies", t.last_pass_s * 1e3,
		     (unsigned long long)t.entries[EV_FLOWS4],
		     (unsigned long long)t.entries[EV_FLOWS6],
		     (unsigned long long)t.entries[EV_PENDING],
		     (unsigned long long)(t.entries[EV_OBS4] + t.entries[EV_OBS6]));
	}
	ret = EXIT_OK;
out:
	for (m = 0; m < EV_MAPS; m++)
		if (fd[m] >= 0)
			close(fd[m]);
	return ret;
}

int cmd_evict(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct evict_timeouts to;
	const char *pin_arg = NULL, *ifname;
	bool dry = false, json = false;
	int opt;

	char *targs[32];
	int ntargs = 0;

	timeouts_default(&to);
	while ((opt = getopt_long(argc, argv, ":t:njd:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			/* checked now, applied over the attachment's timeouts later */
			if (timeouts_parse(&to, optarg))
				return EXIT_USAGE;
			if (ntargs == (int)(sizeof(targs) / sizeof(targs[0])))
				return usage_err("evict", "too many --timeout options");
			targs[ntargs++] = optarg;
			break;
		case 'n': dry = true; break;
		case 'j': json = true; break;
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': evict_usage(); return EXIT_OK;
		default: return getopt_usage_err("evict", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("evict", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("evict", "unexpected argument '%s'", argv[optind]);
	if (check_caps(XDPCT_CAPS_MAPS))
		return EXIT_FAIL;
	return evict_once(ifname, pin_arg, targs, ntargs, dry, json);
}
