// SPDX-License-Identifier: GPL-2.0
/* run: attach (or take over an attachment and its pinned maps) and stay in
 * the foreground: eviction (a timer wheel fed by the close events of the
 * BPF side, and passes over the whole tables), cookie key rotation, the
 * metrics endpoint. SIGINT/SIGTERM: stop, detaching unless --keep. SIGHUP:
 * re-execute the binary on disk, which takes over again (an upgrade of
 * both the CLI and the programs without losing a connection). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "auto.h"
#include "ctev.h"
#include "etcd.h"
#include "evict.h"
#include "fleet.h"
#include "metrics.h"
#include "xdpct_seen.h"

#define RUN_DIR XDPCT_RUN_DIR
#define KEY_ROTATE_DEFAULT 60
#define ETCD_LEASE_DEFAULT 10
#define ATTACK_RATE_DEFAULT 10000 /* SYN/s or bad-cookie ACK/s: a flood */
/* a pass takes at most this share of the time: the interval stretches
 * for big tables (1M entries: ~0.5 s a pass here, so ~10 s apart) */
#define EVICT_DUTY 20
/* seconds between passes: with the wheel, only states other than
 * TIME_WAIT and CLOSE (long timeouts) and lost events are left to them */
#define EVICT_INTERVAL_WHEEL 10
#define EVICT_INTERVAL_PASSES 1
#define SUMMARY_NS (60 * 1000000000ull)
#define NS 1000000000ull

static int run_verbose;

static void run_usage(void)
{
	printf("Usage: xdpct run IFACE [--ports LIST] [--observe LIST] [--track-all]\n"
	       "                 [--cookie-nots-options] [--cookie-slot SECONDS]\n"
	       "                 [--mode native|skb]\n"
	       "                 [--max-conns N] [--allow PREFIXES] [--deny PREFIXES]\n"
	       "                 [--syn-limit RATE[/BURST]] [--syn-limit-prefix IPV4[,IPV6]]\n"
	       "                 [--profile PORTS:SETTINGS]...\n"
	       "                 [--pin-dir DIR]\n"
	       "                 [--timeout STATE=SECONDS]... [--key-rotate SECONDS]\n"
	       "                 [--evict-interval SECONDS] [--no-wheel] [--attack-rate N]\n"
	       "                 [--metrics ADDR:PORT]\n"
	       "                 [--auto [--auto-syn-rate N] [--auto-hold SECONDS]]\n"
	       "                 [--etcd URL[,URL]... [--fleet NAME] [--etcd-lease SECONDS]]\n"
	       "                 [--keep] [-v]\n"
	       "\n"
	       "Attach to IFACE as `xdpct attach` does, or, if xdpct is attached already\n"
	       "(after a restart, a crash, kill -9), reload its programs in place over\n"
	       "the pinned maps, losing no connection; then stay in the foreground:\n"
	       "\n"
	       "  - eviction: entries idle for longer than their state's timeout leave\n"
	       "    the flow tables (netfilter's defaults: syn_sent 120, syn_recv 60,\n"
	       "    established 432000, fin_wait 120, close_wait 60, last_ack 30,\n"
	       "    time_wait 120, close 10, syn_sent2 120 s); cookie flows still\n"
	       "    pending leave once their cookie could no longer be valid (pending,\n"
	       "    137 s after the cookie ACK), with their xdpct_pending entries.\n"
	       "    Flows entering TIME_WAIT or CLOSE are reported by the BPF programs\n"
	       "    (ring buffer xdpct_events, read every 0.1 s) and go at their expiry\n"
	       "    from a timer wheel; a pass over the whole tables (batch lookups and\n"
	       "    deletes) takes the other states and any lost event, every\n"
	       "    --evict-interval, further apart when a pass is long;\n"
	       "  - the SYN-cookie key rotates every --key-rotate seconds, or as soon as\n"
	       "    the cookie time slots allow (once per two slots at most: ~137 s by\n"
	       "    default); the previous key keeps the cookies of its slots valid;\n"
	       "  - --metrics serves Prometheus metrics at http://ADDR:PORT/metrics.\n"
	       "\n"
	       "A warning when a table reaches 80%% and 95%% of its size.\n"
	       "Messages go to stderr (under systemd with their syslog priority, for\n"
	       "`journalctl -p`). SIGINT or SIGTERM stops it and detaches (not\n"
	       "with --keep: the programs and maps stay, for a later run or reload).\n"
	       "SIGHUP re-executes the xdpct binary on disk, which takes over in\n"
	       "place. One run per interface (lock: %s/IFACE.pid, or `xdpct\n"
	       "pin-dir IFACE --lock` in another network namespace).\n"
	       "\n"
	       "Options (and those of xdpct attach; --ports, --observe or --track-all\n"
	       "is required only when xdpct is not attached yet):\n"
	       "  -t, --timeout STATE=SECONDS[,...]  timeout of a state (any case, '-' or\n"
	       "                        '_'), or of pending cookie flows ('pending');\n"
	       "                        repeatable, 1-%llu s (conns and status show them)\n"
	       "  -r, --key-rotate S    rotate the cookie key every S seconds (default %d)\n"
	       "  -e, --evict-interval S  seconds between eviction passes (default %d, %d\n"
	       "                        with --no-wheel; 0.05-3600; at least %dx the last\n"
	       "                        pass's duration)\n"
	       "  -W, --no-wheel        no timer wheel: passes only (for comparison)\n"
	       "  -A, --attack-rate N   log a SYN flood (SYNs to protected ports) or an ACK\n"
	       "                        flood (bad cookies) over N per second, and its end\n"
	       "                        (10 s under N/2; default %d)\n"
	       "      --etcd URL[,URL]...  share the cookie key with a fleet through etcd\n"
	       "                        (http://HOST:PORT, its JSON gateway; no TLS: a\n"
	       "                        trusted network): every member installs the\n"
	       "                        fleet's key, so an ACK may come back to another\n"
	       "                        box than its SYN-ACK's (ECMP, anycast, failover).\n"
	       "                        Cookie slots count CLOCK_REALTIME: keep the\n"
	       "                        members' clocks synchronised (NTP). One member,\n"
	       "                        under an etcd lease, rotates the key every\n"
	       "                        --key-rotate seconds (at most once per 3 slots);\n"
	       "                        a member that loses etcd keeps its keys and says\n"
	       "                        so (log, metrics)\n"
	       "      --fleet NAME      the fleet's keys in etcd: /xdpct/fleet/NAME/\n"
	       "                        (default 'default')\n"
	       "      --etcd-lease S    the leader's lease: another member rotates S\n"
	       "                        seconds after the leader is gone (default %d)\n"
	       "  -M, --metrics ADDR:PORT  serve metrics: 127.0.0.1:9790, [::1]:9790,\n"
	       "                        :9790 (every address)\n"
	       "      --auto            cookies only under attack: the kernel answers SYNs\n"
	       "                        to the protected ports (tracked as it does) until a\n"
	       "                        port gets --auto-syn-rate SYNs a second without an\n"
	       "                        entry, or the listeners' queues overflow; then XDP\n"
	       "                        answers it with cookies until its rate stayed under\n"
	       "                        half of that for --auto-hold seconds. Each switch is\n"
	       "                        a log line, a metric and an event (xdpct events).\n"
	       "                        Without run (stopped, crashed) every port gets\n"
	       "                        cookies within 3 s\n"
	       "      --auto-syn-rate N  the attack threshold per port (default %d/s)\n"
	       "      --auto-hold S     calm time before the kernel answers again\n"
	       "                        (default %d s)\n"
	       "  -k, --keep            leave xdpct attached on exit\n"
	       "  -p, --ports LIST      ports to protect: 80,443,8000-8100\n"
	       "  -o, --observe LIST    ports to track without cookies, never dropping\n"
	       "  -a, --track-all       track every TCP flow (observe mode)\n"
	       "      --cookie-nots-options  SACK and window scaling for clients without\n"
	       "                        timestamps too (a weaker cookie: 23 hash bits)\n"
	       "      --cookie-slot S   cookie time slot of about S seconds (1-137, a power\n"
	       "                        of two of ns; default 69; with a port option)\n"
	       "  -m, --mode MODE       XDP mode: native (default) or skb\n"
	       "  -n, --max-conns N     entries of each flow table (default %d)\n"
	       "      --allow PREFIXES  sources that never get cookies (see `xdpct allow`)\n"
	       "      --deny PREFIXES   sources dropped on protected ports (`xdpct deny`)\n"
	       "      --syn-limit RATE[/BURST]  SYN rate limit per source prefix\n"
	       "      --syn-limit-prefix IPV4[,IPV6]  its prefix lengths (`xdpct synlimit`)\n"
	       "      --profile PORTS:SETTINGS  protected ports' SYN-ACK settings (xdpct attach)\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE\n"
	       "  -v, --verbose         log every eviction pass that removed entries, the\n"
	       "                        wheel's evictions (once a second at most) and\n"
	       "                        every key rotation (-vv: libbpf/libxdp messages)\n"
	       "  -h, --help            this help\n",
	       RUN_DIR, EVICT_TIMEOUT_MAX, KEY_ROTATE_DEFAULT, EVICT_INTERVAL_WHEEL,
	       EVICT_INTERVAL_PASSES, EVICT_DUTY, ATTACK_RATE_DEFAULT, ETCD_LEASE_DEFAULT,
	       AUTO_RATE_DEFAULT,
	       AUTO_HOLD_DEFAULT, XDPCT_FLOWS_DEFAULT, XDPCT_PIN_ROOT);
}

/* ---- systemd (Type=notify), without libsystemd ---- */

static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

/* ---- one run per interface ---- */

static int lock_fd = -1;
static char lock_path[PATH_MAX];

static int take_lock(const char *ifname)
{
	char buf[32], dir[PATH_MAX];
	int r;

	if (run_lock_path(lock_path, sizeof(lock_path), ifname))
		return -1;
	/* its directory: RUN_DIR, or this namespace's under it */
	snprintf(dir, sizeof(dir), "%s", lock_path);
	*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir, 0755);
	if (r) {
		err("cannot create %s: %s", dir, strerror(-r));
		return -1;
	}
	lock_fd = pid_lock(lock_path, buf, sizeof(buf));
	if (lock_fd < 0 && errno == EWOULDBLOCK) {
		err("xdpct run is already running for %s (pid %s, lock %s)", ifname, buf, lock_path);
		return -1;
	}
	if (lock_fd < 0) {
		err("cannot open %s: %s", lock_path, strerror(errno));
		return -1;
	}
	return 0;
}

static void drop_lock(void)
{
	char dir[PATH_MAX];

	if (lock_fd < 0)
		return;
	unlink(lock_path);
	close(lock_fd);
	lock_fd = -1;
	snprintf(dir, sizeof(dir), "%s", lock_path);
	*strrchr(dir, '/') = '\0';
	if (strcmp(dir, RUN_DIR))
		rmdir(dir); /* this namespace's directory, once empty */
}

/* ---- the loop ---- */

struct run {
	const char *ifname;
	unsigned int ifindex;
	char pin_dir[PATH_MAX];
	int fd[EV_MAPS], fd_config, fd_stats, fd_events, fd_ports, fd_local;
	int fd_acl; /* -1: maps of a build without lists */
	int fd_evsub; /* -1: maps of a build without events */
	struct mnl_socket *addr_watch; /* address changes, for xdpct_local */
	struct evictor ev;
	struct xdpct_seen seen;      /* rebuilt by each eviction pass */
	struct evict_timeouts to;
	__u64 rotate_ns, interval_ns;
	__u64 rot_retry_ns;          /* a rotation waits for this (0: none) */
	struct metrics_src msrc;
	__u64 next_evict;
	/* the wheel */
	bool wheel;
	__u64 next_tick;
	__u64 lost_seen, lost_warn_ns;
	__u64 wlog_evicted, wlog_last; /* -v: wheel evictions since the last line */
	double wlog_lag_max;
	__u64 wheel_err_ns;
	/* for the summary line */
	__u64 sum_evicted, sum_wheel, sum_start;
	int fill_level[EV_MAPS];     /* 0 under 80%, 1 from 80%, 2 from 95% full */
	/* floods: SYNs to protected ports, ACKs with bad or stale cookies */
	__u64 attack_rate, next_watch, watch_ns, watch_prev[2];
	/* connections restored from their sockets (ct_readopt): the LRU of a
	 * full table pushed their entry out, or it was deleted */
	__u64 readopt_prev, readopt_pending, readopt_logged_ns;
	struct flood_state {
		bool on;
		__u64 since_ns, calm_ns, total;
		double peak;
	} flood[2];
	/* --auto */
	bool auto_on;
	__u64 auto_rate, auto_hold, next_auto;
	struct autoctl autoctl;
	/* --etcd: the key is the fleet's, no rotation here */
	struct fleet *fleet;
	struct fleet_stats fleet_stats;
};

static int open_map(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		err("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static int rotate_key(struct run *r)
{
	struct xdpct_config old, cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(r->fd_config, &zero, &old)) {
		warn("key rotation: cannot read %s: %s", XDPCT_MAP_CONFIG, strerror(errno));
		return -1;
	}
	if (!(old.flags & XDPCT_CFG_ENABLED))
		return 0; /* nothing to rotate until a config is written */
	if (config_build(&cfg, r->ifname, &old))
		return -1;
	/* everything else as configured (`xdpct config` may have changed it) */
	cfg.flags |= old.flags & (XDPCT_CFG_TRACK_ALL | XDPCT_CFG_LOCAL_ONLY |
			       XDPCT_CFG_NOTS_OPTIONS);
	memcpy(cfg.if_mac, old.if_mac, sizeof(cfg.if_mac));
	cfg.netns_cookie = old.netns_cookie;
	switch (config_commit(r->fd_config, &cfg)) {
	case 1: /* the current key still signs this slot: at the next one */
		r->rot_retry_ns = config_key_free_ns(&old) + 10000000ull;
		return 0;
	case -1:
		return -1;
	}
	r->rot_retry_ns = 0;
	/* the members of the group (attach --share) take the new key */
	if (!bpf_map_lookup_elem(r->fd_config, &zero, &cfg))
		group_sync(r->ifindex, &cfg);
	__atomic_add_fetch(&r->msrc.key_rotations, 1, __ATOMIC_RELAXED);
	if (run_verbose)
		info("cookie key rotated (epoch %u)", cfg.key_epoch);
	return 0;
}

/* The timeouts in force into the config map, for `xdpct conns` and
 * `xdpct status`: read-modify-write, the key and the rest stay. They stay
 * there after this run too (the next one writes its own). */
static void publish_timeouts(struct run *r)
{
	struct xdpct_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(r->fd_config, &zero, &cfg)) {
		warn("cannot read %s: %s; conns and status show the default timeouts",
		     XDPCT_MAP_CONFIG, strerror(errno));
		return;
	}
	timeouts_to_config(&r->to, &cfg);
	if (config_commit(r->fd_config, &cfg))
		warn("conns and status show the default timeouts");
	else if (!bpf_map_lookup_elem(r->fd_config, &zero, &cfg))
		group_sync(r->ifindex, &cfg);
}

/* A run without --etcd after one with it: the keys are this box's again
 * (the next rotation replaces the fleet's; `xdpct config` may meanwhile). */
static void leave_fleet(struct run *r)
{
	struct xdpct_config *m = config_map(r->fd_config);

	if (!m)
		return;
	if (__atomic_fetch_and(&m->flags, ~(__u32)XDPCT_CFG_FLEET, __ATOMIC_SEQ_CST) &
	    XDPCT_CFG_FLEET) {
		info("the cookie key was a fleet's: this run rotates it (no --etcd)");
		group_sync(r->ifindex, m);
	}
	config_unmap(m);
}

/* When the key is due: one period after the last rotation, whoever made it
 * (a run restarted after kill -9 keeps the schedule). */
static __u64 next_rotation(struct run *r, __u64 now)
{
	struct xdpct_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(r->fd_config, &zero, &cfg) || !cfg.key_set_ns ||
	    cfg.key_set_ns > now)
		return now + r->rotate_ns;
	return cfg.key_set_ns + r->rotate_ns;
}

#define WATCH_NS NS               /* the counters are read once a second */
#define FLOOD_CALM_NS (10 * NS)   /* a flood ends after 10 s under half its threshold */
#define READOPT_LOG_NS (60 * NS)  /* restored entries: a line at most a minute */

/* Live connections whose entry went (the LRU of a full table, or a
 * deletion) come back from their socket when they speak: say so at once,
 * then at most once a minute with the count since. */
static void readopt_watch(struct run *r, __u64 now, __u64 readopt)
{
	if (r->watch_ns && readopt > r->readopt_prev)
		r->readopt_pending += readopt - r->readopt_prev;
	r->readopt_prev = readopt;
	if (!r->readopt_pending ||
	    (r->readopt_logged_ns && now - r->readopt_logged_ns < READOPT_LOG_NS))
		return;
	warn("%llu live connection%s on %s had lost %s entry and %s restored from %s socket%s (entries go when a full table's LRU needs room, when idle past their timeout, or when deleted; --max-conns sizes the tables, xdpct status shows their fill)",
	     (unsigned long long)r->readopt_pending, r->readopt_pending == 1 ? "" : "s", r->ifname,
	     r->readopt_pending == 1 ? "its" : "their", r->readopt_pending == 1 ? "was" : "were",
	     r->readopt_pending == 1 ? "its" : "their", r->readopt_pending == 1 ? "" : "s");
	r->readopt_pending = 0;
	r->readopt_logged_ns = now;
}

/* Attack start and end, from the counters: a SYN flood (syn_seen) and an
 * ACK flood (bad and stale cookies), each over --attack-rate per second;
 * ended once the rate stayed under half of it for FLOOD_CALM_NS. */
static void attack_watch(struct run *r, __u64 now)
{
	static const char *const kind[2] = { "SYN", "ACK" };
	__u64 sums[XDPCT_STAT_MAX], cur[2];
	double dt = (now - r->watch_ns) / 1e9;

	if (stats_read(r->fd_stats, sums))
		return;
	readopt_watch(r, now, sums[XDPCT_STAT_CT_READOPT]);
	cur[0] = sums[XDPCT_STAT_SYN_SEEN];
	cur[1] = sums[XDPCT_STAT_V_DROP_COOKIE_BAD] + sums[XDPCT_STAT_V_DROP_COOKIE_STALE];
	for (int k = 0; k < 2 && r->watch_ns && dt > 0; k++) {
		struct flood_state *fs = &r->flood[k];
		__u64 d = cur[k] - r->watch_prev[k];
		double rate = d / dt;

		if (!fs->on && rate >= r->attack_rate) {
			*fs = (struct flood_state){ .on = true, .since_ns = now, .peak = rate };
			warn("%s flood on %s: %.0f %s/s (over %llu/s)%s", kind[k], r->ifname, rate,
			     kind[k], (unsigned long long)r->attack_rate,
			     k ? ": bad cookies, dropped in XDP" :
				 " to protected ports, answered with cookies in XDP");
		}
		if (!fs->on)
			continue;
		fs->total += d;
		if (rate > fs->peak)
			fs->peak = rate;
		if (rate >= r->attack_rate / 2.0)
			fs->calm_ns = 0;
		else if (!fs->calm_ns)
			fs->calm_ns = now;
		else if (now - fs->calm_ns >= FLOOD_CALM_NS) {
			info("%s flood on %s ended after %.0f s: %llu %ss, at most %.0f/s", kind[k],
			     r->ifname, (fs->calm_ns - fs->since_ns) / 1e9,
			     (unsigned long long)fs->total, kind[k], fs->peak);
			fs->on = false;
		}
	}
	r->watch_prev[0] = cur[0];
	r->watch_prev[1] = cur[1];
	r->watch_ns = now;
}

/* A table nearing full is worth a warning before its LRU starts pushing
 * out live entries: at 80% and 95% (once each, again after it was back
 * under 75%). */
static void log_fill(struct run *r, const struct evict_totals *t)
{
	for (int m = 0; m < EV_MAPS; m++) {
		double pct = t->max_entries[m] ? 100.0 * t->entries[m] / t->max_entries[m] : 0;
		int level = pct >= 95 ? 2 : pct >= 80 ? 1 : 0;

		if (level > r->fill_level[m]) {
			warn("%s is %.0f%% full (%llu of %u entries): at 100%% its LRU pushes out the least recently used %s",
			     evict_map_name(m), pct, (unsigned long long)t->entries[m],
			     t->max_entries[m],
			     m == EV_PENDING ? "pending handshakes" :
			     m == EV_OBS4 || m == EV_OBS6 ?
					       "observed flows (--max-observed sizes it)" :
					       "connections, which come back from their sockets when they speak (--max-conns sizes it)");
			r->fill_level[m] = level;
		} else if (r->fill_level[m] && pct < 75) {
			info("%s is under 75%% full again (%llu of %u entries)", evict_map_name(m),
			     (unsigned long long)t->entries[m], t->max_entries[m]);
			r->fill_level[m] = 0;
		}
	}
}

static void log_pass(struct run *r, const struct evict_totals *t, __u64 now, bool force)
{
	if (!force)
		r->sum_evicted += t->last_evicted;
	if (run_verbose && t->last_evicted) {
		info("evicted %llu entr%s in %.1f ms (latest %.2f s after expiry); %llu IPv4, %llu IPv6, %llu pending left",
		     (unsigned long long)t->last_evicted, t->last_evicted == 1 ? "y" : "ies",
		     t->last_pass_s * 1e3, t->last_lag_max_s,
		     (unsigned long long)t->entries[EV_FLOWS4],
		     (unsigned long long)t->entries[EV_FLOWS6],
		     (unsigned long long)t->entries[EV_PENDING]);
	}
	if (now - r->sum_start >= SUMMARY_NS || force) {
		if (r->sum_evicted && !run_verbose)
			info("evicted %llu entr%s in the last %.0f s (%llu by the wheel); %llu IPv4, %llu IPv6, %llu pending; pass %.1f ms",
			     (unsigned long long)r->sum_evicted, r->sum_evicted == 1 ? "y" : "ies",
			     (now - r->sum_start) / 1e9, (unsigned long long)r->sum_wheel,
			     (unsigned long long)t->entries[EV_FLOWS4],
			     (unsigned long long)t->entries[EV_FLOWS6],
			     (unsigned long long)t->entries[EV_PENDING], t->last_pass_s * 1e3);
		r->sum_evicted = r->sum_wheel = 0;
		r->sum_start = now;
	}
}

/* ---- the wheel ---- */

/* Close events the BPF side could not send (ring buffer full), summed. */
static int events_lost(struct run *r, __u64 *sum)
{
	__u64 sums[XDPCT_STAT_MAX];

	if (stats_read(r->fd_stats, sums))
		return -1;
	*sum = sums[XDPCT_STAT_EVENT_LOST];
	return 0;
}

static void wheel_log(struct run *r, __u64 now, bool force)
{
	/* a line at once, then at most one a second */
	if (!run_verbose || !r->wlog_evicted || (!force && now - r->wlog_last < NS))
		return;
	info("wheel: evicted %llu entr%s (latest %.3f s after expiry); %llu scheduled",
	     (unsigned long long)r->wlog_evicted, r->wlog_evicted == 1 ? "y" : "ies",
	     r->wlog_lag_max, (unsigned long long)r->ev.wheel->size);
	r->wlog_evicted = 0;
	r->wlog_lag_max = 0;
	r->wlog_last = now;
}

/* One tick: read the close events, remove what is due. A lost event
 * makes the next pass come soon, and schedule the closing entries it
 * sees. */
static void wheel_service(struct run *r)
{
	struct wheel_tick wt;
	__u64 now, lost;
	int e = evict_wheel_tick(&r->ev, &wt);

	now = mono_ns();
	if (e && now - r->wheel_err_ns >= SUMMARY_NS) {
		warn("timer wheel: %s; passes take over what it misses", strerror(-e));
		r->wheel_err_ns = now;
	}
	if (wt.evicted) {
		r->wlog_evicted += wt.evicted;
		if (wt.lag_max_s > r->wlog_lag_max)
			r->wlog_lag_max = wt.lag_max_s;
		r->sum_evicted += wt.evicted;
		r->sum_wheel += wt.evicted;
	}
	wheel_log(r, now, false);
	if (!events_lost(r, &lost) && lost > r->lost_seen) {
		struct evict_totals t;
		__u64 soon;

		evict_totals_get(&r->ev, &t);
		soon = (__u64)(t.last_pass_s * 1e9) * EVICT_DUTY;
		if (soon < EVICT_INTERVAL_PASSES * NS)
			soon = EVICT_INTERVAL_PASSES * NS;
		if (now - r->lost_warn_ns >= SUMMARY_NS) {
			warn("%llu close event%s lost (ring buffer full): a pass in %.1f s removes their entries",
			     (unsigned long long)(lost - r->lost_seen), lost - r->lost_seen == 1 ? "" : "s",
			     soon / 1e9);
			r->lost_warn_ns = now;
		}
		r->lost_seen = lost;
		r->ev.seed_wheel = true;
		if (now + soon < r->next_evict)
			r->next_evict = now + soon;
	}
	r->next_tick += WHEEL_TICK_NS;
	if (r->next_tick <= now)
		r->next_tick = now + WHEEL_TICK_NS;
}

/* Between the chunks of a long pass: the wheel stays on time. */
static void between_chunks(void *arg)
{
	struct run *r = arg;

	if (mono_ns() >= r->next_tick)
		wheel_service(r);
}

/* The wheel over the pinned ring buffer; without it, passes only. */
static void wheel_setup(struct run *r)
{
	int e;

	r->fd_events = open_map(r->pin_dir, XDPCT_MAP_EVENTS);
	if (r->fd_events < 0) {
		warn("no close events: passes only");
		r->wheel = false;
		return;
	}
	e = evict_wheel_start(&r->ev, r->fd_events);
	if (e) {
		warn("cannot set up the timer wheel: %s; passes only", strerror(-e));
		r->wheel = false;
		return;
	}
	/* losses before this run: the first pass seeds the wheel anyway */
	events_lost(r, &r->lost_seen);
	r->ev.between = between_chunks;
	r->ev.between_arg = r;
	r->next_tick = mono_ns();
}

/* The binary on disk (after an upgrade, /proc/self/exe is "... (deleted)") */
static void reexec(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	const char *del = " (deleted)";

	if (n <= 0) {
		warn("SIGHUP: cannot find the xdpct binary: %s", strerror(errno));
		return;
	}
	path[n] = '\0';
	if ((size_t)n > strlen(del) && !strcmp(path + n - strlen(del), del))
		path[n - strlen(del)] = '\0';
	info("SIGHUP: re-executing %s", path);
	sd_notify_msg("RELOADING=1");
	execv(path, xdpct_argv);
	warn("cannot re-execute %s: %s; going on", path, strerror(errno));
}

enum { STOP_SIGNAL = 1, STOP_DETACHED, STOP_IFACE_GONE, STOP_ERROR, STOP_HUP };

static int loop(struct run *r, int sfd)
{
	__u64 now = mono_ns(), next_rot = next_rotation(r, now);
	struct evict_totals t;

	r->sum_start = now;
	r->next_evict = now;
	r->next_watch = now;
	for (;;) {
		__u64 next = r->next_evict < next_rot ? r->next_evict : next_rot;
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = r->addr_watch ? mnl_socket_get_fd(r->addr_watch) : -1,
					 .events = POLLIN } };
		int ms;

		if (r->wheel && r->next_tick < next)
			next = r->next_tick;
		if (r->next_watch < next)
			next = r->next_watch;
		if (r->auto_on && r->next_auto < next)
			next = r->next_auto;
		ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;

		if (poll(p, 2, ms) > 0 && (p[1].revents & POLLIN)) {
			/* an address came or went: answer for the new set */
			int c = local_addrs_watch_read(r->addr_watch, r->fd_local);

			if (c < 0)
				warn("cannot update %s: %s", XDPCT_MAP_LOCAL, strerror(errno));
			else if (c && run_verbose)
				info("local addresses: %d change%s", c, c == 1 ? "" : "s");
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					return STOP_HUP;
				info("%s: stopping", strsignal(si.ssi_signo));
				return STOP_SIGNAL;
			}
		}
		now = mono_ns();
		if (r->fleet)
			next_rot = UINT64_MAX; /* the fleet's leader rotates */
		else if (now >= next_rot) {
			rotate_key(r);
			/* a key signs whole time slots: too soon, the next one */
			next_rot = r->rot_retry_ns ? r->rot_retry_ns : now + r->rotate_ns;
		}
		if (now >= r->next_watch) {
			attack_watch(r, now);
			r->next_watch = now + WATCH_NS;
		}
		if (r->auto_on && now >= r->next_auto) {
			auto_tick(&r->autoctl, now);
			r->next_auto = now + AUTO_TICK_NS;
		}
		/* before a pass: what is due is the wheel's */
		if (r->wheel && now >= r->next_tick)
			wheel_service(r);
		if (now < r->next_evict)
			continue;
		/* someone ran `xdpct detach`, or the interface went */
		{
			char path[PATH_MAX + 32];

			snprintf(path, sizeof(path), "%s/%s", r->pin_dir, XDPCT_MAP_CONFIG);
			if (!path_exists(path)) {
				info("xdpct was detached from %s (%s is gone): stopping", r->ifname, path);
				return STOP_DETACHED;
			}
		}
		if (if_nametoindex(r->ifname) != r->ifindex) {
			err("interface %s is gone", r->ifname);
			return STOP_IFACE_GONE;
		}
		{
			int e = evict_pass(&r->ev);

			if (e)
				warn("eviction pass failed: %s", strerror(-e));
		}
		evict_totals_get(&r->ev, &t);
		log_pass(r, &t, mono_ns(), false);
		log_fill(r, &t);
		now = mono_ns();
		{
			__u64 stretch = (__u64)(t.last_pass_s * 1e9) * EVICT_DUTY;
			__u64 ivl = stretch > r->interval_ns ? stretch : r->interval_ns;

			/* events lost meanwhile: their entries need a pass soon */
			if (r->ev.seed_wheel && ivl > EVICT_INTERVAL_PASSES * NS)
				ivl = stretch > EVICT_INTERVAL_PASSES * NS ? stretch :
									      EVICT_INTERVAL_PASSES * NS;
			r->next_evict = now + ivl;
			evict_set_pass_interval(&r->ev, ivl / 1e9);
		}
	}
}

static const char *mode_of(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_SKB: return "skb";
	case XDP_ATTACHED_HW: return "hw";
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_MULTI: return "multi";
	}
	return "none";
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		ATTACH_LONGOPTS,
		{ "timeout", required_argument, NULL, 't' },
		{ "key-rotate", required_argument, NULL, 'r' },
		{ "evict-interval", required_argument, NULL, 'e' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "no-wheel", no_argument, NULL, 'W' },
		{ "attack-rate", required_argument, NULL, 'A' },
		{ "keep", no_argument, NULL, 'k' },
		{ "auto", no_argument, NULL, OPT_AUTO },
		{ "auto-syn-rate", required_argument, NULL, OPT_AUTO_RATE },
		{ "auto-hold", required_argument, NULL, OPT_AUTO_HOLD },
		{ "etcd", required_argument, NULL, OPT_ETCD },
		{ "fleet", required_argument, NULL, OPT_FLEET },
		{ "etcd-lease", required_argument, NULL, OPT_ETCD_LEASE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct setup_opts so = { .cmd = "run", .how = SETUP_RUN };
	struct setup_result sr;
	struct run r = { .fd = { -1, -1, -1, -1, -1 }, .fd_config = -1, .fd_acl = -1, .fd_evsub = -1, .fd_stats = -1,
			 .seen = { .lock_fd = -1 }, .fd_ports = -1, .fd_local = -1,
			 .fd_events = -1, .wheel = true, .attack_rate = ATTACK_RATE_DEFAULT,
			 .auto_rate = AUTO_RATE_DEFAULT, .auto_hold = AUTO_HOLD_DEFAULT };
	struct metrics *mx = NULL;
	const char *metrics_arg = NULL;
	unsigned long long rot = KEY_ROTATE_DEFAULT, lease = ETCD_LEASE_DEFAULT;
	struct fleet_opts fo = { .name = "default" };
	bool fleet_given = false;
	double interval = 0; /* 0: the default of the mode */
	bool keep = false, ev_init = false, auto_given = false, auto_init = false;
	struct timespec wall;
	sigset_t mask;
	int opt, mfd = -1, sfd = -1, usage, ret = EXIT_FAIL, stop = STOP_ERROR, m;
	char *end, tos[256], rotdesc[96];

	timeouts_default(&r.to);
	while ((opt = getopt_long(argc, argv, ":" ATTACH_SHORTOPTS "t:r:e:M:WA:kvh", opts,
				  NULL)) != -1) {
		if (attach_opt(opt, optarg, &so))
			continue;
		switch (opt) {
		case 't':
			if (timeouts_parse(&r.to, optarg))
				return EXIT_USAGE;
			break;
		case 'r':
			if (parse_u64(optarg, 1, 86400 * 7, &rot))
				return usage_err("run", "bad --key-rotate '%s' (1-604800 seconds)", optarg);
			break;
		case 'e':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.05 && interval <= 3600))
				return usage_err("run", "bad --evict-interval '%s' (0.05-3600 seconds)",
						 optarg);
			break;
		case 'M': metrics_arg = optarg; break;
		case 'W': r.wheel = false; break;
		case 'A':
			if (parse_u64(optarg, 1, 1000000000, &r.attack_rate))
				return usage_err("run", "bad --attack-rate '%s' (1-1000000000 per second)",
						 optarg);
			break;
		case 'k': keep = true; break;
		case OPT_AUTO: r.auto_on = true; break;
		case OPT_AUTO_RATE:
			auto_given = true;
			if (parse_u64(optarg, 1, 1000000000, &r.auto_rate))
				return usage_err("run", "bad --auto-syn-rate '%s' (1-1000000000 SYNs per second)",
						 optarg);
			break;
		case OPT_AUTO_HOLD:
			auto_given = true;
			if (parse_u64(optarg, 1, 86400, &r.auto_hold))
				return usage_err("run", "bad --auto-hold '%s' (1-86400 seconds)", optarg);
			break;
		case OPT_ETCD: fo.endpoints = optarg; break;
		case OPT_FLEET: fo.name = optarg; fleet_given = true; break;
		case OPT_ETCD_LEASE:
			fleet_given = true;
			if (parse_u64(optarg, 2, 3600, &lease))
				return usage_err("run", "bad --etcd-lease '%s' (2-3600 seconds)", optarg);
			break;
		case 'v': run_verbose++; break;
		case 'h': run_usage(); return EXIT_OK;
		default: return getopt_usage_err("run", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("run", "missing interface name");
	if (auto_given && !r.auto_on)
		return usage_err("run", "--auto-syn-rate and --auto-hold go with --auto");
	if (r.auto_on && !so.ports)
		return usage_err("run", "--auto goes with --ports (the ports it decides for)");
	if (fleet_given && !fo.endpoints)
		return usage_err("run", "--fleet and --etcd-lease go with --etcd");
	if (fo.endpoints) {
		struct etcd probe;

		if (etcd_init(&probe, fo.endpoints, 0))
			return usage_err("run", "%s", probe.err);
		if (so.cookie_slot && parse_cookie_slot(so.cookie_slot, &fo.slot_shift))
			return usage_err("run", "bad --cookie-slot '%s' (1-137 seconds)", so.cookie_slot);
		fo.lease_s = lease;
	}
	so.ifname = r.ifname = argv[optind++];
	if (optind < argc)
		return usage_err("run", "unexpected argument '%s'", argv[optind]);
	/* -v: the loop's own messages; -vv: the libraries' too */
	verbose += run_verbose > 1 ? run_verbose - 1 : 0;
	r.rotate_ns = rot * 1000000000ull;
	if (so.ports || so.observe || so.track_all) {
		/* a typo in the lists is a usage error, whoever runs it */
		static __u8 ports_checked[NUM_PORTS];
		__u32 flags = 0;
		int t = tracking_parse("run", so.ports, so.observe, so.track_all, ports_checked,
				       &flags);

		if (t)
			return t;
	}
	if (check_caps(XDPCT_CAPS_LOAD))
		return EXIT_FAIL;

	/* before anything is attached: a port in use changes nothing */
	if (metrics_arg) {
		mfd = metrics_listen(metrics_arg, &usage);
		if (mfd < 0)
			return usage ? EXIT_USAGE : EXIT_FAIL;
	}
	{
		char pd[PATH_MAX], primary_dir[PATH_MAX], pname[IF_NAMESIZE];

		if (!so.pin_dir && !default_pin_dir(pd, sizeof(pd), r.ifname) &&
		    !group_primary_dir(pd, primary_dir, sizeof(primary_dir), pname)) {
			err("%s shares the maps and key of %s: 'xdpct run %s' serves both", r.ifname,
			    pname, pname);
			goto out;
		}
	}
	if (take_lock(r.ifname))
		goto out;
	/* signals read from a signalfd; blocked before libmicrohttpd starts
	 * its thread, which inherits the mask */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		err("signalfd: %s", strerror(errno));
		goto out;
	}

	info_to(stderr);
	ret = xdpct_setup(&so, &sr);
	if (ret != EXIT_OK)
		goto out;
	ret = EXIT_FAIL;
	r.ifindex = sr.ifindex;
	snprintf(r.pin_dir, sizeof(r.pin_dir), "%s", sr.pin_dir);
	for (m = 0; m < EV_MAPS; m++)
		if ((r.fd[m] = open_map(r.pin_dir, evict_map_name(m))) < 0)
			goto detach;
	r.fd_acl = pinned_map(r.pin_dir, XDPCT_MAP_ACL);
	r.fd_evsub = pinned_map(r.pin_dir, XDPCT_MAP_EVSUB);
	if ((r.fd_config = open_map(r.pin_dir, XDPCT_MAP_CONFIG)) < 0 ||
	    (r.fd_ports = open_map(r.pin_dir, XDPCT_MAP_PORTS)) < 0 ||
	    (r.fd_local = open_map(r.pin_dir, XDPCT_MAP_LOCAL)) < 0 ||
	    (r.fd_stats = open_map(r.pin_dir, XDPCT_MAP_STATS)) < 0 ||
	    seen_open_pinned(r.pin_dir, &r.seen))
		goto detach;
	publish_timeouts(&r);
	if (fo.endpoints) {
		fo.rotate_ns = r.rotate_ns;
		fo.verbose = run_verbose > 0;
		r.fleet = fleet_start(&fo, r.fd_config, r.ifindex, r.ifname, &r.fleet_stats);
		if (!r.fleet)
			goto detach;
	} else {
		leave_fleet(&r);
	}
	/* the addresses as of now (setup wrote them), then every change */
	r.addr_watch = local_addrs_watch();
	if (!r.addr_watch || local_addrs_sync(r.fd_local, NULL))
		warn("cannot follow this namespace's addresses: %s; XDP answers for those of the start",
		     strerror(errno));
	m = evictor_init(&r.ev, r.fd, &r.to);
	if (m) {
		err("cannot set up eviction: %s", strerror(-m));
		goto detach;
	}
	ev_init = true;
	r.ev.emit = ctev_emitter_open(r.pin_dir);
	r.ev.seen = &r.seen;
	r.ev.ports_fd = r.fd_ports;
	r.ev.handoff_fd = pinned_map(r.pin_dir, XDPCT_MAP_HANDOFF);
	r.ev.proxy_fd = pinned_map(r.pin_dir, XDPCT_MAP_PROXY);
	if (r.wheel)
		wheel_setup(&r);
	if (!interval) /* the wheel may have failed: passes as often as without */
		interval = r.wheel ? EVICT_INTERVAL_WHEEL : EVICT_INTERVAL_PASSES;
	r.interval_ns = (__u64)(interval * 1e9);
	evict_set_pass_interval(&r.ev, interval);
	if (r.auto_on) {
		if (auto_start(&r.autoctl, r.pin_dir, r.auto_rate, r.auto_hold))
			goto detach;
		auto_init = true;
		r.next_auto = mono_ns() + AUTO_TICK_NS;
		info("auto mode on %u port%s: the kernel answers SYNs until %llu SYNs/s on a port (or its listener's queue overflows), cookies until under half of it for %llu s",
		     r.autoctl.n, r.autoctl.n == 1 ? "" : "s", (unsigned long long)r.auto_rate,
		     (unsigned long long)r.auto_hold);
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	r.msrc = (struct metrics_src){
		.ifname = r.ifname, .mode = mode_of(r.ifindex), .fd_stats = r.fd_stats,
		.fd_config = r.fd_config, .fd_acl = r.fd_acl, .fd_evsub = r.fd_evsub, .ev = &r.ev, .to = &r.to,
		.start_time = wall.tv_sec + wall.tv_nsec / 1e9, .key_rotate_ns = r.rotate_ns,
		.autoctl = auto_init ? &r.autoctl : NULL,
		.fleet = r.fleet ? &r.fleet_stats : NULL,
	};
	if (mfd >= 0) {
		mx = metrics_start(mfd, &r.msrc);
		mfd = -1; /* taken over */
		if (!mx)
			goto detach;
	}
	timeouts_describe(&r.to, tos, sizeof(tos));
	{
		struct xdpct_config c;
		__u32 zero = 0;
		double slot = (double)(1ull << XDPCT_SLOT_SHIFT) / 1e9;

		if (!bpf_map_lookup_elem(r.fd_config, &zero, &c))
			slot = (double)(1ull << xdpct_slot_shift(c.slot_shift)) / 1e9;
		/* a key signs whole slots: a new one at most every two */
		snprintf(rotdesc, sizeof(rotdesc), "%llu s%s", rot,
			 rot < 2 * slot ? " (a new key once per two cookie slots at most)" : "");
	}
	if (r.fleet)
		snprintf(rotdesc, sizeof(rotdesc), "the fleet's (%s), every %llu s at most", fo.name,
			 rot);
	info("running on %s: key rotation every %s, eviction %s every %.2f s; timeouts %s%s%s",
	     r.ifname, rotdesc, r.wheel ? "by the timer wheel (close events), a pass" : "pass",
	     interval, tos, metrics_arg ? "; metrics on http://" : "",
	     metrics_arg ? metrics_arg : "");
	sd_notify_msg("READY=1");

	stop = loop(&r, sfd);
	sd_notify_msg("STOPPING=1");
	ret = stop == STOP_SIGNAL || stop == STOP_DETACHED || stop == STOP_HUP ? EXIT_OK : EXIT_FAIL;
detach:
	metrics_stop(mx);
	fleet_stop(r.fleet);
	if (auto_init) /* --keep: nobody will decide, cookies then */
		auto_stop(&r.autoctl, keep || stop == STOP_HUP || (stop == STOP_ERROR && sr.reloaded));
	if (ev_init) {
		struct evict_totals t;

		if (r.wheel)
			wheel_log(&r, mono_ns(), true);
		evict_totals_get(&r.ev, &t);
		log_pass(&r, &t, mono_ns(), true);
		ctev_emitter_free(r.ev.emit);
		evictor_free(&r.ev);
	}
	if (r.fd_events >= 0)
		close(r.fd_events);
	for (m = 0; m < EV_MAPS; m++)
		if (r.fd[m] >= 0)
			close(r.fd[m]);
	if (r.fd_config >= 0)
		close(r.fd_config);
	if (r.fd_stats >= 0)
		close(r.fd_stats);
	if (r.fd_ports >= 0)
		close(r.fd_ports);
	if (ev_init && r.ev.handoff_fd >= 0)
		close(r.ev.handoff_fd);
	if (ev_init && r.ev.proxy_fd >= 0)
		close(r.ev.proxy_fd);
	if (r.fd_local >= 0)
		close(r.fd_local);
	if (r.fd_acl >= 0)
		close(r.fd_acl);
	if (r.fd_evsub >= 0)
		close(r.fd_evsub);
	if (r.addr_watch)
		mnl_socket_close(r.addr_watch);
	xdpct_seen_close(&r.seen);
	if (stop == STOP_HUP) {
		close(sfd);
		drop_lock();
		reexec(); /* returns only on failure */
		ret = EXIT_FAIL;
		goto out;
	}
	/* a failure right after taking over a working attachment leaves it */
	if (stop == STOP_ERROR && sr.reloaded)
		keep = true;
	if (!keep && stop != STOP_DETACHED) {
		if (xdpct_detach(r.ifname, so.pin_dir) != EXIT_OK)
			ret = EXIT_FAIL;
	} else if (keep && ret == EXIT_OK) {
		info("left attached to %s (--keep)", r.ifname);
	}
out:
	if (mfd >= 0)
		close(mfd);
	if (sfd >= 0)
		close(sfd);
	drop_lock();
	return ret;
}
