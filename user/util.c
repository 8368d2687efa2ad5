// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xdpct.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int verbose;
char **xdpct_argv;
static FILE *info_stream;

void info_to(FILE *f)
{
	info_stream = f;
}

/* Whether f is the journal's stream: systemd sets JOURNAL_STREAM to the
 * device and inode of the stdout/stderr it connects to journald (a
 * service's), and an inherited variable names another file. */
static bool to_journal(FILE *f)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(fileno(f), &st) &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* prio: the syslog priority, as a "<N>" prefix that journald reads off
 * the line (sd-daemon(3)): `journalctl -p err` then shows the errors */
static void vmsg(FILE *f, int prio, const char *kind, const char *fmt, va_list ap)
{
	if (to_journal(f))
		fprintf(f, "<%d>", prio);
	fprintf(f, "xdpct: %s", kind);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, 3, "error: ", fmt, ap); /* LOG_ERR */
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, 4, "warning: ", fmt, ap); /* LOG_WARNING */
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	FILE *f = info_stream ? info_stream : stdout;

	va_start(ap, fmt);
	vmsg(f, 6, "", fmt, ap); /* LOG_INFO */
	va_end(ap);
	fflush(f);
}

int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("xdpct: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'xdpct %s%s--help')\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

int getopt_usage_err(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_err(cmd, "option '%s' needs an argument", arg);
	if (optopt)
		return usage_err(cmd, "unknown option '-%c'", optopt);
	return usage_err(cmd, "unknown option '%s'", arg);
}

/* Both libraries prefix their messages ("libbpf: ", "libxdp: "). */
static int lib_print(const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	return lib_print(fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	return lib_print(fmt, ap);
}

void setup_lib_logging(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

__u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *vhint(void)
{
	return verbose ? "" : " (run with -v for details)";
}

/* Strict decimal: digits only, no sign, no blanks, bounded. */
int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* One entry of a port list: digits only, 1..65535. */
static int parse_port(const char *list, const char *s, size_t len,
		      unsigned int *port)
{
	unsigned long v = 0;
	size_t i;

	if (!len) {
		err("bad port list '%s': empty port in a range", list);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			err("bad port list '%s': '%.*s' is not a port number",
			    list, (int)len, s);
			return -1;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		err("bad port list '%s': port %.*s is out of range 1-65535",
		    list, (int)len, s);
		return -1;
	}
	*port = v;
	return 0;
}

int parse_ports(const char *list, __u8 ports[NUM_PORTS], __u8 flag)
{
	const char *p = list;

	if (!*list) {
		err("bad port list '': no ports given");
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ','), *dash;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		unsigned int lo, hi, i;

		if (!len) {
			err("bad port list '%s': empty entry (stray comma)", list);
			return -1;
		}
		dash = memchr(p, '-', len);
		if (dash) {
			if (parse_port(list, p, dash - p, &lo) ||
			    parse_port(list, dash + 1, len - (dash - p) - 1, &hi))
				return -1;
			if (lo > hi) {
				err("bad port list '%s': range %u-%u is reversed",
				    list, lo, hi);
				return -1;
			}
		} else {
			if (parse_port(list, p, len, &lo))
				return -1;
			hi = lo;
		}
		for (i = lo; i <= hi; i++)
			ports[i] |= flag;
		if (!end)
			return 0;
		p = end + 1;
	}
}

/* The first run of ports with a mask bit from `from` on: its first port
 * (NUM_PORTS: none left), and its last in *last. */
static unsigned int port_range(const __u8 ports[NUM_PORTS], __u8 mask, unsigned int from,
			       unsigned int *last)
{
	unsigned int p = from, q;

	while (p < NUM_PORTS && !(ports[p] & mask))
		p++;
	for (q = p; q + 1 < NUM_PORTS && (ports[q + 1] & mask); q++)
		;
	*last = q;
	return p;
}

void format_ports(const __u8 ports[NUM_PORTS], __u8 mask, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int p, q;
	int n;

	if (len)
		buf[0] = '\0';
	for (p = port_range(ports, mask, 1, &q); p < NUM_PORTS;
	     p = port_range(ports, mask, q + 1, &q)) {
		if (q == p)
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", p);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u",
				     off ? "," : "", p, q);
		if (n < 0 || (size_t)n >= len - off) {
			/* Truncate visibly rather than silently. */
			if (len >= 4)
				strcpy(buf + len - 4, "...");
			return;
		}
		off += n;
	}
	if (!off)
		snprintf(buf, len, "none");
}

/* The effective set (capget(2)), not the uid: a unit may run xdpct
 * with only the capabilities it needs, and root may lack some. */
static unsigned long long effective_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return d[0].effective | (unsigned long long)d[1].effective << 32;
}

static const char *cap_name(int cap)
{
	switch (cap) {
	case CAP_NET_ADMIN: return "CAP_NET_ADMIN";
	case CAP_SYS_ADMIN: return "CAP_SYS_ADMIN";
	case CAP_BPF: return "CAP_BPF";
	case CAP_PERFMON: return "CAP_PERFMON";
	default: return "?";
	}
}

int check_caps(unsigned long long need)
{
	static const int order[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON };
	unsigned long long have = effective_caps();
	size_t i;

	/* the kernel's bpf_capable() and perfmon_capable(): CAP_SYS_ADMIN
	 * stands in for both */
	if (have & XDPCT_CAP(CAP_SYS_ADMIN))
		have |= XDPCT_CAP(CAP_BPF) | XDPCT_CAP(CAP_PERFMON);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((need & XDPCT_CAP(order[i])) && !(have & XDPCT_CAP(order[i]))) {
			err("missing capability %s (run as root)", cap_name(order[i]));
			return -1;
		}
	}
	return 0;
}

int check_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) || st.f_type != BPF_FS_MAGIC) {
		err("bpffs is not mounted at %s (mount it: mount -t bpf bpf %s)",
		    path, path);
		return -1;
	}
	return 0;
}

int check_ifname(const char *ifname, unsigned int *ifindex)
{
	unsigned int idx = 0;

	if (strlen(ifname) < IFNAMSIZ)
		idx = if_nametoindex(ifname);
	if (!idx) {
		err("unknown interface '%s'", ifname);
		return -1;
	}
	*ifindex = idx;
	return 0;
}

int netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		r = -errno;
	close(fd);
	return r;
}

/* The initial namespace is the only one the kernel numbers itself: init_net
 * has the fixed nsfs inode PROC_NET_INIT_INO (0xEFFFFFF9), every other
 * namespace one from proc_alloc_inum(), 0xF0000000 and up. So a match can
 * never be a container's namespace. Kernels that numbered init_net like any
 * other are told apart through pid 1, when we share the initial pid
 * namespace (fixed PROC_PID_INIT_INO since 3.8) and may read its link. */
#define NET_INIT_INO 0xEFFFFFF9U
#define PID_INIT_INO 0xEFFFFFFCU

bool netns_is_initial(void)
{
	struct stat self, pid, init;

	if (stat("/proc/self/ns/net", &self))
		return false;
	if (self.st_ino == NET_INIT_INO)
		return true;
	return !stat("/proc/self/ns/pid", &pid) && pid.st_ino == PID_INIT_INO &&
	       !stat("/proc/1/ns/net", &init) && init.st_ino == self.st_ino &&
	       init.st_dev == self.st_dev;
}

int netns_key(char *buf, size_t len)
{
	__u64 c;
	int r;

	if (netns_is_initial()) {
		snprintf(buf, len, "%s", "");
		return 0;
	}
	r = netns_cookie(&c);
	if (r) {
		err("cannot read this network namespace's cookie: %s (Linux 5.14+)", strerror(-r));
		return -1;
	}
	snprintf(buf, len, "netns:%llu", (unsigned long long)c);
	return 0;
}

/* root/IFACE in the initial namespace, root/netns:COOKIE/IFACE elsewhere */
static int netns_path(char *buf, size_t len, const char *root, const char *ifname,
		      const char *suffix)
{
	char key[64];
	int n;

	if (strchr(ifname, '/') || strchr(ifname, ':') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, "..") || !*ifname) {
		err("bad interface name '%s'", ifname);
		return -1;
	}
	if (netns_key(key, sizeof(key)))
		return -1;
	n = snprintf(buf, len, "%s/%s%s%s%s", root, key, key[0] ? "/" : "", ifname, suffix);
	if (n < 0 || (size_t)n >= len) {
		err("bad interface name '%s'", ifname);
		return -1;
	}
	return 0;
}

int default_pin_dir(char *buf, size_t len, const char *ifname)
{
	return netns_path(buf, len, XDPCT_PIN_ROOT, ifname, "");
}

int run_lock_path(char *buf, size_t len, const char *ifname)
{
	return netns_path(buf, len, XDPCT_RUN_DIR, ifname, ".pid");
}

int netns_pin_root(char *buf, size_t len)
{
	char key[64];

	if (netns_key(key, sizeof(key)))
		return -1;
	snprintf(buf, len, "%s%s%s", XDPCT_PIN_ROOT, key[0] ? "/" : "", key);
	return 0;
}

/* Before anything in a pin directory is unlinked: bpffs (a --pin-dir on
 * another file system holds someone's files), and with need_maps, xdpct's
 * config map pinned there. */
int check_pin_dir(const char *dir, bool need_maps)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	struct statfs st;
	int fd;

	if (statfs(dir, &st) || st.f_type != BPF_FS_MAGIC) {
		err("%s is not on bpffs: not a pin directory of xdpct", dir);
		return -1;
	}
	if (!need_maps)
		return 0;
	fd = pinned_map(dir, XDPCT_MAP_CONFIG);
	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &mi, &len) ||
			mi.value_size != sizeof(struct xdpct_config))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		err("%s holds no xdpct maps (no %s): not a pin directory of xdpct", dir,
		    XDPCT_MAP_CONFIG);
		return -1;
	}
	close(fd);
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int pinned_map(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

void json_ports(FILE *f, const __u8 ports[NUM_PORTS], __u8 mask)
{
	unsigned int p, q, n = 0;

	fputc('[', f);
	for (p = port_range(ports, mask, 1, &q); p < NUM_PORTS;
	     p = port_range(ports, mask, q + 1, &q)) {
		if (q == p)
			fprintf(f, "%s%u", n++ ? "," : "", p);
		else
			fprintf(f, "%s{\"range\":[%u,%u]}", n++ ? "," : "", p, q);
	}
	fputc(']', f);
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int pid_lock(const char *path, char *holder, size_t len)
{
	char buf[32];
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		e = errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(holder, len, "%s", buf[0] ? buf : "?");
		close(fd);
		errno = e;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		warn("cannot write %s: %s", path, strerror(errno));
	return fd;
}
