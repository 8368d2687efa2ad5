// SPDX-License-Identifier: GPL-2.0
/* xdpct: SYN-cookie shield and TCP conntrack in XDP. Subcommand dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "attach", cmd_attach, "load and attach to an interface (reload if attached)" },
	{ "reload", cmd_reload, "replace the programs in place, keep the maps" },
	{ "run", cmd_run, "attach and stay: timers, key rotation, metrics" },
	{ "detach", cmd_detach, "detach from an interface, remove the pins" },
	{ "status", cmd_status, "every interface with xdpct: programs, ports, fill" },
	{ "pin-dir", cmd_pin_dir, "print an interface's pin directory (--lock: run's lock)" },
	{ "stats", cmd_stats, "print the counters (--watch: rates)" },
	{ "config", cmd_config, "write key, TCP options and ports into pinned maps" },
	{ "conns", cmd_conns, "list the tracked connections, like conntrack -L" },
	{ "events", cmd_events, "stream connection events, like conntrack -E" },
	{ "states", cmd_states, "print the TCP state machine (--dot: graphviz)" },
	{ "evict", cmd_evict, "one eviction pass now" },
	{ "allow", cmd_allow, "sources that never get cookies: add, del, list, flush" },
	{ "deny", cmd_deny, "sources dropped on protected ports: add, del, list, flush" },
	{ "synlimit", cmd_synlimit, "SYN rate limit per source prefix: set, off, show" },
	{ "nat", cmd_nat, "listeners behind DNAT in other namespaces: add, del, list" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(void)
{
	size_t i;

	printf("Usage: xdpct [-v] COMMAND [ARGS]\n"
	       "       xdpct COMMAND --help\n"
	       "\n"
	       "SYN-cookie shield and TCP connection tracking in XDP + TC.\n"
	       "\n"
	       "Commands:\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %-8s %s\n", cmds[i].name, cmds[i].summary);
	printf("\n"
	       "Options:\n"
	       "  -v, --verbose   show libbpf/libxdp messages\n"
	       "  -V, --version   print the version\n"
	       "  -h, --help      this help\n"
	       "\n"
	       "Example:\n"
	       "  xdpct attach eth0 --ports 80,443\n"
	       "  xdpct run eth0 --ports 80,443 --metrics 127.0.0.1:9790\n"
	       "  xdpct stats eth0 --watch 1\n"
	       "  xdpct conns eth0 --state established\n"
	       "  xdpct events eth0 -j\n"
	       "  xdpct run eth0 --ports 443 --auto\n"
	       "  xdpct detach eth0\n");
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t c;

	setup_lib_logging();
	xdpct_argv = argv;

	/* Global options stop at the first word: the subcommand. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			return EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("xdpct %s\n", XDPCT_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose++;
		} else {
			return usage_err(NULL, "unknown option '%s'", a);
		}
	}
	if (i >= argc)
		return usage_err(NULL, "missing command");
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage();
			return EXIT_OK;
		}
		/* "xdpct help attach" == "xdpct attach --help" */
		for (c = 0; c < NCMDS; c++) {
			if (!strcmp(argv[i + 1], cmds[c].name)) {
				char *args[] = { argv[i + 1], "--help", NULL };

				return cmds[c].fn(2, args);
			}
		}
		return usage_err(NULL, "unknown command '%s'", argv[i + 1]);
	}
	for (c = 0; c < NCMDS; c++) {
		if (!strcmp(argv[i], cmds[c].name)) {
			optind = 1;
			return cmds[c].fn(argc - i, argv + i);
		}
	}
	return usage_err(NULL, "unknown command '%s'", argv[i]);
}
