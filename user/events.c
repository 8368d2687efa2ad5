// SPDX-License-Identifier: GPL-2.0
/* events: the connection tracking events of an interface, like
 * `conntrack -E` (include/xdpct.h). One reader at a time: a ring buffer
 * has one consumer position. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "ctev.h"
#include "evict.h"

struct events {
	bool json, stamp;
	unsigned long long max, seen;
	struct evict_timeouts to;
	volatile struct xdpct_evsub *sub; /* mmap of xdpct_evsub */
	__u64 lost_seen, lost_start;
	__u64 mono_to_real_ns; /* realtime - monotonic (coarse), at start */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void events_usage(void)
{
	printf("Usage: xdpct events IFACE [-j] [-t] [-c N] [--pin-dir DIR]\n"
	       "\n"
	       "Stream the connection tracking events of IFACE, like `conntrack -E`:\n"
	       "\n"
	       "      [NEW] tcp      6 120 SYN_SENT src= dst= sport= dport= ...\n"
	       "   [UPDATE] tcp      6 432000 ESTABLISHED src= ...\n"
	       "  [DESTROY] tcp      6 0 TIME_WAIT src= ... reason=closed\n"
	       "\n"
	       "After the tag, each line is the entry as `xdpct conns` shows it at the\n"
	       "time of the event (DESTROY: as it went, in the state it went in).\n"
	       "NEW: an entry is made (a SYN to an observed port, a cookie ACK, a\n"
	       "connection this host opens, an entry restored from its socket).\n"
	       "UPDATE: the connection's state changed, or either end's own state\n"
	       "(local=, remote=). DESTROY reasons: closed (TIME_WAIT or CLOSE ran\n"
	       "out, or a new SYN reused the tuple), timeout (idle past its state's\n"
	       "timeout), evicted (a full table's LRU pushed it out: reported when\n"
	       "the connection's next packet brings the entry back from its socket),\n"
	       "removed (`xdpct conns --delete`). Entries leave on timeout only\n"
	       "while `xdpct run` runs or when `xdpct evict` is run.\n"
	       "Events are sent only while a reader listens, into a ring buffer of\n"
	       "%u KiB (~%zu events); what does not fit is counted and reported as\n"
	       "  [LOST] N events\n"
	       "One reader per interface at a time.\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json            one JSON object per line: \"event\" (NEW, UPDATE,\n"
	       "                        DESTROY, LOST), \"time\" (Unix time), \"reason\"\n"
	       "                        (DESTROY), \"old_state\" (UPDATE), then the\n"
	       "                        fields of `xdpct conns -j`; LOST has \"count\"\n"
	       "  -t, --timestamp       text lines start with [Unix time]\n"
	       "  -c, --count N         exit after N events\n"
	       "  -d, --pin-dir DIR     directory holding %s (default %s/IFACE)\n"
	       "  -h, --help            this help\n",
	       XDPCT_CTEVENTS_BYTES / 1024,
	       XDPCT_CTEVENTS_BYTES / (sizeof(struct xdpct_ct_event) + 8), XDPCT_MAP_CTEVENTS,
	       XDPCT_PIN_ROOT);
}

static void report_lost(struct events *ev)
{
	__u64 lost = ev->sub->lost, n = lost - ev->lost_seen;

	if (!n)
		return;
	ev->lost_seen = lost;
	if (ev->json)
		printf("{\"event\":\"LOST\",\"time\":%.6f,\"count\":%llu}\n",
		       (clock_ns(CLOCK_MONOTONIC_COARSE) + ev->mono_to_real_ns) / 1e9,
		       (unsigned long long)n);
	else
		printf("%*s[LOST] %llu events\n", 3, "", (unsigned long long)n);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct xdpct_ct_event *e = data;
	double t;
	char head[64] = "";

	if (size < sizeof(*e) || (ev->max && ev->seen >= ev->max))
		return 0;
	t = (e->ns + ev->mono_to_real_ns) / 1e9;
	if (ev->json)
		snprintf(head, sizeof(head), "\"time\":%.6f,", t);
	else if (ev->stamp)
		snprintf(head, sizeof(head), "[%.6f] ", t);
	if (e->type == XDPCT_EV_COOKIES) {
		/* auto mode switched a port */
		if (ev->json)
			printf("{\"event\":\"COOKIES\",%s\"port\":%u,\"cookies\":%s,\"syn_rate\":%u}\n",
			       head, ntohs(e->key.lport), e->reason ? "true" : "false",
			       e->flow.packets[0]);
		else
			printf("%s[COOKIES] port=%u %s syn_rate=%u\n", head,
			       ntohs(e->key.lport), e->reason ? "on" : "off", e->flow.packets[0]);
	} else {
		conns_print_event(e, &ev->to, ev->json, head);
	}
	ev->seen++;
	if (ev->max && ev->seen >= ev->max)
		stop = 1;
	return 0;
}

/* The locks of rings gone since (their map ids no longer exist): no
 * reader can hold them. */
static void stale_locks_remove(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int id;
	DIR *d = opendir(XDPCT_RUN_DIR);
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "events-%u.lock", &id) != 1)
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			continue;
		snprintf(path, sizeof(path), "%s/%s", XDPCT_RUN_DIR, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* One reader per ring buffer: a lock named after the map's id. */
static int take_reader_lock(int ring_fd, const char *ifname)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	char path[PATH_MAX], holder[32];
	int fd, r;

	if (bpf_obj_get_info_by_fd(ring_fd, &mi, &len))
		return -1;
	r = mkdir_p(XDPCT_RUN_DIR, 0755);
	if (r) {
		err("cannot create %s: %s", XDPCT_RUN_DIR, strerror(-r));
		return -1;
	}
	stale_locks_remove();
	snprintf(path, sizeof(path), "%s/events-%u.lock", XDPCT_RUN_DIR, mi.id);
	fd = pid_lock(path, holder, sizeof(holder));
	if (fd < 0 && errno == EWOULDBLOCK)
		err("another xdpct events is reading %s (pid %s)", ifname, holder);
	else if (fd < 0)
		err("cannot open %s: %s", path, strerror(errno));
	return fd;
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timestamp", no_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct events ev = {};
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb = NULL;
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	char pin_dir[PATH_MAX], ring_path[PATH_MAX + 32];
	const char *ifname, *pin_arg = NULL;
	int opt, ring_fd = -1, sub_fd = -1, lock_fd = -1, ret = EXIT_FAIL, r;
	long page = sysconf(_SC_PAGESIZE);
	void *mem = MAP_FAILED;
	__u64 next_renew = 0, next_check = 0, now;
	struct stat st;

	while ((opt = getopt_long(argc, argv, ":jtc:d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': ev.json = true; break;
		case 't': ev.stamp = true; break;
		case 'c':
			if (parse_u64(optarg, 1, ~0ull, &ev.max))
				return usage_err("events", "bad count '%s' (1 or more)", optarg);
			break;
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': events_usage(); return EXIT_OK;
		default: return getopt_usage_err("events", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("events", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("events", "unexpected argument '%s'", argv[optind]);

	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	snprintf(ring_path, sizeof(ring_path), "%s/%s", pin_dir, XDPCT_MAP_CTEVENTS);
	ring_fd = bpf_obj_get(ring_path);
	if (ring_fd < 0) {
		if (errno == ENOENT && !pin_arg && !path_exists(pin_dir))
			err("xdpct is not attached to %s (no %s)", ifname, pin_dir);
		else if (errno == ENOENT)
			err("no %s: attached by an xdpct without events (xdpct reload %s adds them)",
			    ring_path, ifname);
		else
			err("cannot open %s: %s", ring_path, strerror(errno));
		goto out;
	}
	sub_fd = pinned_map(pin_dir, XDPCT_MAP_EVSUB);
	if (sub_fd < 0 || bpf_obj_get_info_by_fd(sub_fd, &mi, &len) ||
	    mi.value_size != sizeof(struct xdpct_evsub) || !(mi.map_flags & BPF_F_MMAPABLE)) {
		err("%s/%s is missing or not xdpct's", pin_dir, XDPCT_MAP_EVSUB);
		goto out;
	}
	lock_fd = take_reader_lock(ring_fd, ifname);
	if (lock_fd < 0)
		goto out;
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, sub_fd, 0);
	if (mem == MAP_FAILED) {
		err("cannot map %s: %s", XDPCT_MAP_EVSUB, strerror(errno));
		goto out;
	}
	ev.sub = mem;
	timeouts_read_pinned(pin_dir, &ev.to);
	ev.mono_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC_COARSE);
	rb = ring_buffer__new(ring_fd, on_event, &ev, NULL);
	if (!rb) {
		err("cannot read %s: %s", ring_path, strerror(errno));
		goto out;
	}
	/* what a previous reader left unread is not this stream's */
	while (ring_buffer__consume(rb) > 0)
		;
	ev.seen = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ev.sub->pid = getpid();
	ev.lost_seen = ev.lost_start = ev.sub->lost;
	info_to(stderr);
	info("events of %s (Ctrl-C to stop)", ifname);
	while (!stop) {
		now = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (now >= next_renew) {
			ev.sub->until_ns = now + XDPCT_EVSUB_HOLD_NS;
			next_renew = now + XDPCT_EVSUB_RENEW_NS;
		}
		if (now >= next_check) {
			report_lost(&ev);
			if (stat(ring_path, &st)) {
				info_to(stderr);
				info("%s: detached", ifname);
				break;
			}
			next_check = now + 1000000000ull;
		}
		r = ring_buffer__poll(rb, 200);
		if (r < 0 && r != -EINTR) {
			err("cannot read %s: %s", ring_path, strerror(-r));
			goto out;
		}
	}
	if (!ev.max || ev.seen < ev.max)
		report_lost(&ev);
	fflush(stdout);
	ret = EXIT_OK;
out:
	if (ev.sub && ev.sub->pid == (__u32)getpid())
		ev.sub->until_ns = 0; /* nobody listens: the data path stops sending */
	if (ev.sub) {
		info_to(stderr);
		info("%llu event%s, %llu lost", ev.seen, ev.seen == 1 ? "" : "s",
		     (unsigned long long)(ev.sub->lost - ev.lost_start));
	}
	ring_buffer__free(rb);
	if (mem != MAP_FAILED)
		munmap(mem, page);
	if (lock_fd >= 0)
		close(lock_fd); /* the file stays (unlinking it would race a new
				 * reader) until the ring is gone */
	if (ring_fd >= 0)
		close(ring_fd);
	if (sub_fd >= 0)
		close(sub_fd);
	return ret;
}
