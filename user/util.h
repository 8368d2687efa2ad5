/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the xdpct subcommands: messages, exit codes, logging of
 * libbpf/libxdp, the port list parser, pin paths, JSON output. */
#ifndef XDPCT_UTIL_H
#define XDPCT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include <linux/capability.h>
#include <linux/types.h>

/* The build passes the git version (Makefile); this is the fallback. */
#ifndef XDPCT_VERSION
#define XDPCT_VERSION "0.1.0"
#endif

/* Exit codes, as in iproute2/xdp-tools: 1 runtime error, 2 usage error. */
#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

#define NUM_PORTS 65536

extern int verbose;
/* main()'s argv, for `xdpct run` to re-execute itself on SIGHUP. */
extern char **xdpct_argv;

/* "xdpct: error: ..." on stderr, one line. */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "xdpct: warning: ..." on stderr. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "xdpct: ..." on stdout, or the stream given to info_to(). */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info_to(FILE *f);
/* Usage error: one line naming the subcommand's --help, returns EXIT_USAGE. */
int usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Route libbpf and libxdp messages: all of them with -v, none otherwise.
 * Errors are reported by xdpct itself; -v shows the libraries' details. */
void setup_lib_logging(void);
/* Suffix for library failures: " (run with -v for details)" or "". */
const char *vhint(void);
/* clock_gettime(c) in ns: CLOCK_MONOTONIC_COARSE is the data path's clock */
__u64 clock_ns(clockid_t c);

/* Common getopt handling for subcommands: reports an unknown option or a
 * missing argument and returns EXIT_USAGE. optstring must begin with ':'. */
int getopt_usage_err(const char *cmd, int c, char **argv);

/* Port lists like "80,443,8000-8100". Sets ports[p] = flag for each port.
 * Returns 0, or -1 after a one-line error. */
int parse_ports(const char *list, __u8 ports[NUM_PORTS], __u8 flag);
/* Canonical form of the ports with a bit of mask set: "80,443,8000-8100",
 * "none" if there is none. */
void format_ports(const __u8 ports[NUM_PORTS], __u8 mask, char *buf, size_t len);
/* Parse an unsigned decimal in [min, max]; -1 if not. */
int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out);

/* Capabilities a command needs, measured on Linux 6.18 with libbpf 1.1
 * (tests/e2e/e2e_caps.sh, contrib/xdpct@.service):
 * loading and attaching: CAP_NET_ADMIN (XDP and TCX links, clsact,
 * filters), CAP_BPF (maps, programs, pins) and CAP_PERFMON (the verifier
 * refuses our programs' pointer arithmetic without it);
 * detaching: CAP_NET_ADMIN and CAP_BPF; the maps alone: CAP_BPF. */
#define XDPCT_CAP(c)     (1ull << (c))
#define XDPCT_CAPS_LOAD  (XDPCT_CAP(CAP_NET_ADMIN) | XDPCT_CAP(CAP_BPF) | \
			  XDPCT_CAP(CAP_PERFMON))
#define XDPCT_CAPS_DETACH (XDPCT_CAP(CAP_NET_ADMIN) | XDPCT_CAP(CAP_BPF))
#define XDPCT_CAPS_MAPS  XDPCT_CAP(CAP_BPF)

/* Checks with one-line errors; return 0 if fine, -1 otherwise. */
/* check_caps: every capability of need is effective (CAP_SYS_ADMIN counts
 * as CAP_BPF and CAP_PERFMON), else one line naming the first missing one. */
int check_caps(unsigned long long need);
int check_bpffs(const char *path);
int check_ifname(const char *ifname, unsigned int *ifindex);

#define XDPCT_RUN_DIR "/run/xdpct"

/* bpffs and /run are shared by every network namespace, interface names
 * are not: paths of the initial namespace are ROOT/IFACE, of any other
 * ROOT/netns:COOKIE/IFACE (a boot-unique SO_NETNS_COOKIE; ':' is in no
 * interface name). The key: "" or "netns:COOKIE". */
bool netns_is_initial(void);
int netns_cookie(__u64 *cookie); /* 0 or -errno */
int netns_key(char *buf, size_t len);
/* Default pin directory of an interface in this namespace. */
int default_pin_dir(char *buf, size_t len, const char *ifname);
/* The lock of `xdpct run` on an interface in this namespace. */
int run_lock_path(char *buf, size_t len, const char *ifname);
/* Where this namespace's pin directories are: XDPCT_PIN_ROOT[/netns:COOKIE]. */
int netns_pin_root(char *buf, size_t len);
/* A directory xdpct may unlink pins from: on bpffs, and (need_maps) with
 * xdpct's config map in it. 0, or -1 after a one-line error. */
int check_pin_dir(const char *dir, bool need_maps);
/* mkdir -p; returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
bool path_exists(const char *path);
/* An exclusive lock on the file path (made if need be) that holds this
 * process's pid. Its fd; -1 with errno EWOULDBLOCK when another process
 * holds it (its pid in holder, "?" if unknown), or another errno. */
int pid_lock(const char *path, char *holder, size_t len);
/* The map pinned as dir/name: its fd, or -1 with errno. */
int pinned_map(const char *dir, const char *name);

/* JSON output. */
void json_string(FILE *f, const char *s);
/* The ports with a mask bit, as nftables' JSON writes a set: [22,{"range":[8000,8100]}] */
void json_ports(FILE *f, const __u8 ports[NUM_PORTS], __u8 mask);

#endif /* XDPCT_UTIL_H */
