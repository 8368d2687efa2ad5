// SPDX-License-Identifier: GPL-2.0
/* The config map and the ports map: building the config from the system,
 * writing both, and the `config` subcommand for maps pinned by others
 * (iproute2's ip link / tc). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "sysctl.h"
#include "xdpct_seen.h"

#define DEFAULT_MTU 1500
#define SYNACK_TTL 64

static int iface_mtu(const char *ifname, int *mtu)
{
	struct ifreq ifr = {};
	int fd, r = 0;

	/* An ioctl, not /sys/class/net: sysfs shows the namespace of its
	 * mounter, the ioctl the namespace we run in. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		r = -errno;
	else
		*mtu = ifr.ifr_mtu;
	close(fd);
	return r;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int config_host(struct xdpct_config *cfg, const char *ifname, int local_fd)
{
	socklen_t len = sizeof(cfg->netns_cookie);
	struct ifreq ifr = {};
	unsigned int n;
	int fd, r;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err("socket: %s", strerror(errno));
		return -1;
	}
	/* sock_ops sees every namespace's sockets: it acts for this one's */
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cfg->netns_cookie, &len)) {
		err("cannot read this network namespace's cookie: %s (Linux 5.14+)",
		    strerror(errno));
		close(fd);
		return -1;
	}
	memset(cfg->if_mac, 0, sizeof(cfg->if_mac));
	if (ifname) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		/* an Ethernet MAC: frames to another are not ours to answer */
		if (!ioctl(fd, SIOCGIFHWADDR, &ifr) && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER)
			memcpy(cfg->if_mac, ifr.ifr_hwaddr.sa_data, sizeof(cfg->if_mac));
	}
	close(fd);
	if (local_fd >= 0) {
		r = local_addrs_sync(local_fd, &n);
		if (r) {
			err("cannot read this namespace's addresses into %s: %s",
			    XDPCT_MAP_LOCAL, strerror(-r));
			return -1;
		}
		cfg->flags |= XDPCT_CFG_LOCAL_ONLY;
	}
	return 0;
}

static __u16 mss_from_mtu(int mtu, int hdrs, int min)
{
	int mss = mtu - hdrs;

	if (mss < min)
		mss = min;
	if (mss > 0xffff)
		mss = 0xffff;
	return mss;
}

int config_build(struct xdpct_config *cfg, const char *ifname,
		 const struct xdpct_config *old)
{
	struct tcp_sysctls s;
	struct timespec ts;
	int mtu = DEFAULT_MTU, ws, r;

	memset(cfg, 0, sizeof(*cfg));
	if (tcp_sysctls_read(&s))
		return -1;
	if (ifname) {
		r = iface_mtu(ifname, &mtu);
		if (r) {
			err("cannot read the MTU of %s: %s", ifname, strerror(-r));
			return -1;
		}
	}
	/* the new key current (slot 0 of a built config), the old one
	 * previous: config_commit() places them in the map's slots */
	if (getrandom(&cfg->keys[0], sizeof(cfg->keys[0]), 0) != sizeof(cfg->keys[0])) {
		err("getrandom: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts); /* == bpf_ktime_get_ns() */

	cfg->flags = XDPCT_CFG_ENABLED;
	if (s.sack)
		cfg->flags |= XDPCT_CFG_SACK;
	if (s.timestamps)
		cfg->flags |= XDPCT_CFG_TIMESTAMPS;
	ws = kernel_wscale(&s);
	if (ws >= 0) {
		cfg->flags |= XDPCT_CFG_WSCALE;
		cfg->wscale = ws;
	}
	if (s.ecn)
		cfg->flags |= XDPCT_CFG_ECN;
	/* RFC 791/8200 minimum MTUs bound the MSS from below. */
	cfg->mss4 = mss_from_mtu(mtu, 40, 536);
	cfg->mss6 = mss_from_mtu(mtu, 60, 1220);
	cfg->ttl = SYNACK_TTL;
	cfg->key_set_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;

	if (old) {
		/* the slot length and the timeouts `xdpct run` published stay */
		cfg->slot_shift = old->slot_shift;
		memcpy(cfg->timeout_s, old->timeout_s, sizeof(cfg->timeout_s));
		cfg->pending_timeout_s = old->pending_timeout_s;
	}
	if (old && (old->flags & XDPCT_CFG_ENABLED) && (old->flags & XDPCT_CFG_FLEET)) {
		/* the fleet's keys: only `run --etcd` changes them */
		memcpy(cfg->keys, old->keys, sizeof(cfg->keys));
		cfg->key_sel = old->key_sel;
		cfg->flags |= old->flags & (XDPCT_CFG_PREV_KEY | XDPCT_CFG_FLEET);
		cfg->key_epoch = old->key_epoch;
		cfg->key_set_ns = old->key_set_ns;
	} else if (old && (old->flags & XDPCT_CFG_ENABLED)) {
		/* the old key keeps the slots it signed (config_commit) */
		cfg->keys[1] = old->keys[old->key_sel & 1];
		cfg->flags |= XDPCT_CFG_PREV_KEY;
		cfg->key_epoch = old->key_epoch + 1;
	}
	return 0;
}

static int map_info(int fd, struct bpf_map_info *mi)
{
	__u32 len = sizeof(*mi);

	memset(mi, 0, sizeof(*mi));
	return bpf_obj_get_info_by_fd(fd, mi, &len) ? -errno : 0;
}

int config_maps_check(int config_fd, int ports_fd)
{
	struct bpf_map_info mi;

	if (map_info(config_fd, &mi) || mi.type != BPF_MAP_TYPE_ARRAY ||
	    mi.key_size != 4 || mi.value_size != sizeof(struct xdpct_config) ||
	    mi.max_entries < 1) {
		err("%s is not an xdpct config map (ARRAY of 1 x %zu bytes)",
		    XDPCT_MAP_CONFIG, sizeof(struct xdpct_config));
		return -1;
	}
	if (map_info(ports_fd, &mi) || mi.type != BPF_MAP_TYPE_ARRAY ||
	    mi.key_size != 4 || mi.value_size != 1 ||
	    mi.max_entries != NUM_PORTS) {
		err("%s is not an xdpct ports map (ARRAY of %d x 1 byte)",
		    XDPCT_MAP_PORTS, NUM_PORTS);
		return -1;
	}
	return 0;
}

static int ports_write(int fd, const __u8 ports[NUM_PORTS])
{
	static __u32 keys[NUM_PORTS];
	__u32 i, count = NUM_PORTS;
	int r;

	for (i = 0; i < NUM_PORTS; i++)
		keys[i] = i;
	r = bpf_map_update_batch(fd, keys, ports, &count, NULL);
	if (!r && count == NUM_PORTS)
		return 0;
	/* Batch ops may be missing: one by one. */
	for (i = 0; i < NUM_PORTS; i++)
		if (bpf_map_update_elem(fd, &keys[i], &ports[i], BPF_ANY))
			return -errno;
	return 0;
}

/* The fields a commit copies besides the keys and the flags. */
static void config_copy_rest(struct xdpct_config *m, const struct xdpct_config *c)
{
	m->mss4 = c->mss4;
	m->mss6 = c->mss6;
	m->wscale = c->wscale;
	m->ttl = c->ttl;
	memcpy(m->if_mac, c->if_mac, sizeof(m->if_mac));
	m->netns_cookie = c->netns_cookie;
	memcpy(m->timeout_s, c->timeout_s, sizeof(m->timeout_s));
	m->pending_timeout_s = c->pending_timeout_s;
}

static bool key_eq(const struct xdpct_siphash_key *a, const struct xdpct_siphash_key *b)
{
	return a->k0 == b->k0 && a->k1 == b->k1;
}

/* The data path's clock (bpf_ktime_get_coarse_ns + the fleet's offset),
 * in cookie slots; *ns on that clock. */
__u64 config_slot_now(const struct xdpct_config *cfg, unsigned int shift, __u64 *ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	*ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec + cfg->clock_offset_ns;
	return *ns >> shift;
}

int parse_cookie_slot(const char *arg, __u8 *shift)
{
	unsigned long long n;
	unsigned int s;

	if (parse_u64(arg, 1, 137, &n))
		return -1;
	/* the power of two nearest to n seconds */
	for (s = XDPCT_SLOT_SHIFT_MIN; s < XDPCT_SLOT_SHIFT_MAX; s++)
		if (n * 1000000000ull < ((1ull << s) + (1ull << (s + 1))) / 2)
			break;
	*shift = s;
	return 0;
}

/* A rotation that lands this close to a slot boundary starts its key a
 * slot later: the boundary must not pass between the decision and the
 * store (SYNs of the new slot would be signed with the older key). */
#define KEY_BOUNDARY_MARGIN_NS 1000000000ull

__u64 config_key_free_ns(const struct xdpct_config *cfg)
{
	return (((cfg->key_sel >> 1) + 1) << xdpct_slot_shift(cfg->slot_shift)) -
	       cfg->clock_offset_ns;
}

#define CONFIG_MAP_LEN ((sizeof(struct xdpct_config) + 4095) & ~(size_t)4095)

struct xdpct_config *config_map(int config_fd)
{
	struct xdpct_config *m = mmap(NULL, CONFIG_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
				      config_fd, 0);

	if (m == MAP_FAILED) {
		err("cannot map %s: %s (maps of another xdpct version? 'xdpct detach' starts afresh)",
		    XDPCT_MAP_CONFIG, strerror(errno));
		return NULL;
	}
	return m;
}

void config_unmap(struct xdpct_config *m)
{
	if (m)
		munmap(m, CONFIG_MAP_LEN);
}

int config_commit(int config_fd, const struct xdpct_config *c)
{
	const struct xdpct_siphash_key *want = &c->keys[c->key_sel & 1];
	struct xdpct_config *m, old;
	__u64 now_ns, now, first;
	unsigned int shift;
	__u32 i, want_flags, cur;
	int ret = 0;

	/* the map is mmap()ed: stores in an order readers rely on, where a
	 * map update would copy the whole value in no defined order */
	m = config_map(config_fd);
	if (!m)
		return -1;
	old = *m;
	shift = xdpct_slot_shift(old.flags & XDPCT_CFG_ENABLED ? old.slot_shift : c->slot_shift);
	now = config_slot_now(&old, shift, &now_ns);
	if (!(old.flags & XDPCT_CFG_ENABLED)) {
		/* nobody uses the keys yet: all of it, then the flags */
		memcpy(m->keys, c->keys, sizeof(m->keys));
		m->key_sel = c->key_sel;
		m->slot_shift = c->slot_shift;
		m->key_epoch = c->key_epoch;
		m->key_set_ns = c->key_set_ns;
	} else if (!key_eq(want, &old.keys[old.key_sel & 1])) {
		/* a rotation: keys[i ^ 1] signs slots before the current key's
		 * first; free once that first slot is past (include/xdpct.h) */
		i = old.key_sel & 1;
		if (now < (old.key_sel >> 1) + 1) {
			ret = 1; /* too soon: the current key stays */
		} else {
			first = now + 1;
			if (((now + 1) << shift) - now_ns < KEY_BOUNDARY_MARGIN_NS)
				first++;
			m->keys[i ^ 1] = *want;
			__atomic_store_n(&m->key_sel, first << 1 | (i ^ 1), __ATOMIC_RELEASE);
			m->key_epoch = c->key_epoch;
			m->key_set_ns = c->key_set_ns;
		}
	}
	config_copy_rest(m, c);
	/* XDPCT_CFG_ACL belongs to acl_flag_sync(), which may set or clear
	 * it meanwhile: kept as it is in the map */
	want_flags = (ret ? (c->flags & ~XDPCT_CFG_PREV_KEY) | (old.flags & XDPCT_CFG_PREV_KEY) :
			    c->flags) & ~(__u32)XDPCT_CFG_ACL;
	cur = __atomic_load_n(&m->flags, __ATOMIC_ACQUIRE);
	while (!__atomic_compare_exchange_n(&m->flags, &cur, want_flags | (cur & XDPCT_CFG_ACL),
					    false, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
	config_unmap(m);
	return ret;
}

int config_sync_group(int config_fd, const struct xdpct_config *p)
{
	const __u32 group_flags = XDPCT_CFG_TRACK_ALL | XDPCT_CFG_NOTS_OPTIONS |
				  XDPCT_CFG_LOCAL_ONLY | XDPCT_CFG_PREV_KEY | XDPCT_CFG_ACL |
				  XDPCT_CFG_FLEET;
	__u32 cur;
	struct xdpct_config *m;
	unsigned int idle;

	/* silent: the caller names the member that failed */
	m = mmap(NULL, CONFIG_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, config_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	/* the readers' timeouts and the tracking flags are the group's too */
	memcpy(m->timeout_s, p->timeout_s, sizeof(m->timeout_s));
	m->pending_timeout_s = p->pending_timeout_s;
	cur = __atomic_load_n(&m->flags, __ATOMIC_ACQUIRE);
	while (!__atomic_compare_exchange_n(&m->flags, &cur,
					    (cur & ~group_flags) | (p->flags & group_flags), false,
					    __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
	if (!memcmp(m->keys, p->keys, sizeof(m->keys)) && m->key_sel == p->key_sel) {
		config_unmap(m);
		return 0;
	}
	/* the member mirrors the primary, one rotation behind: the key its
	 * key_sel does not name is free (the primary's commit waited for
	 * that); then key_sel, as the primary's commit did */
	idle = (m->key_sel & 1) ^ 1;
	m->keys[idle] = p->keys[idle];
	m->slot_shift = p->slot_shift;
	m->clock_offset_ns = p->clock_offset_ns;
	__atomic_store_n(&m->key_sel, p->key_sel, __ATOMIC_RELEASE);
	m->keys[idle ^ 1] = p->keys[idle ^ 1]; /* equal, unless out of step */
	m->key_epoch = p->key_epoch;
	m->key_set_ns = p->key_set_ns;
	config_unmap(m);
	return 0;
}

int config_write(int config_fd, int ports_fd, const __u8 ports[NUM_PORTS],
		 const struct xdpct_config *cfg)
{
	int r;

	r = ports_write(ports_fd, ports);
	if (r) {
		err("cannot write %s: %s", XDPCT_MAP_PORTS, strerror(-r));
		return -1;
	}
	r = config_commit(config_fd, cfg);
	if (r == 1)
		info("cookie key kept: the current one signs this time slot's cookies (a new key is possible from the next slot, within %d s)",
		     (int)((1ull << xdpct_slot_shift(cfg->slot_shift)) / 1000000000ull) + 1);
	return r < 0 ? -1 : 0;
}

void config_describe(const struct xdpct_config *cfg)
{
	char ws[8] = "off";

	if (cfg->flags & XDPCT_CFG_WSCALE)
		snprintf(ws, sizeof(ws), "%u", cfg->wscale);
	info("config: mss4 %u mss6 %u wscale %s sack %s timestamps %s ecn %s ttl %u key epoch %u track-all %s cookie-nots-options %s",
	     cfg->mss4, cfg->mss6, ws,
	     cfg->flags & XDPCT_CFG_SACK ? "on" : "off",
	     cfg->flags & XDPCT_CFG_TIMESTAMPS ? "on" : "off",
	     cfg->flags & XDPCT_CFG_ECN ? "on" : "off", cfg->ttl,
	     cfg->key_epoch, cfg->flags & XDPCT_CFG_TRACK_ALL ? "on" : "off",
	     cfg->flags & XDPCT_CFG_NOTS_OPTIONS ? "on" : "off");
}

int tracking_parse(const char *cmd, const char *protect, const char *observe,
		   bool track_all, __u8 ports[NUM_PORTS], __u32 *cfg_flags)
{
	memset(ports, 0, NUM_PORTS);
	if (!protect && !observe && !track_all)
		return usage_err(cmd, "one of --ports, --observe or --track-all is required");
	if ((protect && parse_ports(protect, ports, XDPCT_PORT_PROTECT)) ||
	    (observe && parse_ports(observe, ports, XDPCT_PORT_OBSERVE)))
		return EXIT_USAGE;
	for (unsigned int p = 0; protect && observe && p < NUM_PORTS; p++)
		if ((ports[p] & XDPCT_PORT_PROTECT) && (ports[p] & XDPCT_PORT_OBSERVE))
			return usage_err(cmd, "port %u is in both --ports and --observe", p);
	if (track_all)
		*cfg_flags |= XDPCT_CFG_TRACK_ALL;
	return 0;
}

void tracking_describe(const __u8 ports[NUM_PORTS], __u32 cfg_flags, char *buf,
		       size_t len)
{
	char p[256], o[256];
	const char *sep = "";
	size_t off = 0;

	format_ports(ports, XDPCT_PORT_PROTECT, p, sizeof(p));
	format_ports(ports, XDPCT_PORT_OBSERVE, o, sizeof(o));
	buf[0] = '\0';
	/* "protecting ports none" stays when nothing else is said */
	if (strcmp(p, "none") || (!strcmp(o, "none") && !(cfg_flags & XDPCT_CFG_TRACK_ALL))) {
		off += snprintf(buf + off, len - off, "protecting ports %s", p);
		sep = ", ";
	}
	if (strcmp(o, "none") && off < len) {
		off += snprintf(buf + off, len - off, "%sobserving ports %s", sep, o);
		sep = ", ";
	}
	if ((cfg_flags & XDPCT_CFG_TRACK_ALL) && off < len)
		snprintf(buf + off, len - off, "%stracking all TCP flows", sep);
}

static void config_usage(void)
{
	printf("Usage: xdpct config [--ports LIST] [--observe LIST] [--track-all]\n"
	       "                    [--cookie-nots-options] [--cookie-slot SECONDS]\n"
	       "                    [--profile PORTS:SETTINGS]... [--pin-dir DIR]\n"
	       "                    [--ifname IFACE] [-v]\n"
	       "\n"
	       "Write the cookie configuration and the tracked ports into xdpct\n"
	       "maps that are already pinned: by `ip link set dev IFACE xdp obj\n"
	       "xdpct.bpf.o sec xdp` and `tc filter add ... bpf obj xdpct.bpf.o sec tc`\n"
	       "(iproute2 pins them in /sys/fs/bpf/tc/globals), or by `xdpct attach`\n"
	       "(to change the ports of a running attachment).\n"
	       "\n"
	       "The config gets a fresh SipHash key, which signs the cookies from the\n"
	       "next time slot on (the previous one keeps the slots before: cookies\n"
	       "already sent stay valid); while the newest key's first slot has not\n"
	       "passed, the key is kept (\"cookie key kept\"): keys rotate a slot apart\n"
	       "at least; a fleet's key (`xdpct run --etcd`) is always kept. It gets\n"
	       "SACK/timestamps/window scaling/ECN from this\n"
	       "network namespace's sysctls, the window scale the kernel itself would\n"
	       "choose, and MSS = MTU - 40 (IPv4) / MTU - 60 (IPv6). When the flow\n"
	       "tables are pinned there too, the connections that the new ports make\n"
	       "tracked are adopted first, as by attach.\n"
	       "\n"
	       "Options (one of --ports, --observe, --track-all is required; the\n"
	       "ports map is rewritten, ports not listed are neither):\n"
	       "  -p, --ports LIST     ports to protect, e.g. 80,443,8000-8100\n"
	       "  -o, --observe LIST   ports to track without cookies, never dropping\n"
	       "  -a, --track-all      track every TCP flow (observe mode)\n"
	       "      --cookie-nots-options  SACK and window scaling for clients without\n"
	       "                       timestamps too (their cookie: 23 hash bits, not 28)\n"
	       "      --cookie-slot S  cookie time slot of about S seconds (1-137, a power\n"
	       "                       of two of ns; default 69); only as it is while\n"
	       "                       cookies are answered\n"
	       "      --profile PORTS:SETTINGS  protected ports' own SYN-ACK settings\n"
	       "                       (mss=N, mss6=N, no-sack, no-ts, no-wscale, no-ecn,\n"
	       "                       auto-rate=N;\n"
	       "                       see xdpct attach); without, profiles are cleared\n"
	       "  -d, --pin-dir DIR    directory holding %s and %s\n"
	       "                       (default with --ifname: %s/IFACE)\n"
	       "  -i, --ifname IFACE   interface whose MTU gives the MSS (default MTU %d)\n"
	       "  -v, --verbose        print the config written; libbpf messages\n"
	       "  -h, --help           this help\n",
	       XDPCT_MAP_CONFIG, XDPCT_MAP_PORTS, XDPCT_PIN_ROOT, DEFAULT_MTU);
}

static int open_pinned_map(const char *pin_dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return bpf_obj_get(path);
}

static void close_flows(struct flow_fds *t)
{
	int *fds[5] = { &t->p4, &t->p6, &t->o4, &t->o6, &t->acl };

	for (int i = 0; i < 5; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* The pinned flow tables, when present: adoption needs all four. */
static void open_flows(const char *pin_dir, struct flow_fds *t)
{
	t->p4 = open_pinned_map(pin_dir, XDPCT_MAP_FLOWS4);
	t->p6 = open_pinned_map(pin_dir, XDPCT_MAP_FLOWS6);
	t->o4 = open_pinned_map(pin_dir, XDPCT_MAP_OBS4);
	t->o6 = open_pinned_map(pin_dir, XDPCT_MAP_OBS6);
	t->acl = open_pinned_map(pin_dir, XDPCT_MAP_ACL); /* may be absent */
	if (t->p4 < 0 || t->p6 < 0 || t->o4 < 0 || t->o6 < 0)
		close_flows(t);
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "observe", required_argument, NULL, 'o' },
		{ "track-all", no_argument, NULL, 'a' },
		{ "cookie-nots-options", no_argument, NULL, 'N' },
		{ "cookie-slot", required_argument, NULL, 'S' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "profile", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *ports_arg = NULL, *observe_arg = NULL, *pin_arg = NULL;
	const char *ifname = NULL;
	char pin_dir[PATH_MAX], path[PATH_MAX + 32], list[600];
	static __u8 ports[NUM_PORTS];
	struct xdpct_config cfg, old;
	struct xdpct_seen seen = { .lock_fd = -1 };
	struct flow_fds t = { -1, -1, -1, -1, -1 };
	int c, config_fd = -1, ports_fd = -1, local_fd = -1, ret = EXIT_FAIL, r;
	unsigned int ifindex, adopted = 0, more;
	struct tcp_sysctls s;
	__u32 zero = 0, track_flags = 0;
	bool have_old, track_all = false, nots_options = false;
	const char *slot_arg = NULL, *profile_args[XDPCT_PROFILES_MAX];
	struct xdpct_profile profiles[XDPCT_PROFILES_MAX];
	int nprofiles = 0, profiles_fd = -1;
	__u8 slot_shift = 0;

	while ((c = getopt_long(argc, argv, ":p:o:ad:i:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': ports_arg = optarg; break;
		case 'o': observe_arg = optarg; break;
		case 'a': track_all = true; break;
		case 'N': nots_options = true; break;
		case 'S': slot_arg = optarg; break;
		case 'd': pin_arg = optarg; break;
		case 'i': ifname = optarg; break;
		case 'P':
			if (nprofiles == XDPCT_PROFILES_MAX)
				return usage_err("config", "--profile: more than %d given",
						 XDPCT_PROFILES_MAX);
			profile_args[nprofiles++] = optarg;
			break;
		case 'v': verbose++; break;
		case 'h': config_usage(); return EXIT_OK;
		default: return getopt_usage_err("config", c, argv);
		}
	}
	if (optind < argc)
		return usage_err("config", "unexpected argument '%s'", argv[optind]);
	if (!ports_arg && !observe_arg && !track_all)
		return usage_err("config", "one of --ports, --observe or --track-all is required");
	if (!pin_arg && !ifname)
		return usage_err("config", "--pin-dir or --ifname is required");
	if (slot_arg && parse_cookie_slot(slot_arg, &slot_shift))
		return usage_err("config", "bad --cookie-slot '%s' (1-137 seconds)", slot_arg);

	r = tracking_parse("config", ports_arg, observe_arg, track_all, ports, &track_flags);
	if (r)
		return r;
	if (nprofiles && !ports_arg)
		return usage_err("config", "--profile goes with --ports (a profile is a protected port's)");
	if (profiles_parse("config", profile_args, nprofiles, ports, profiles))
		return EXIT_USAGE;
	if (check_caps(XDPCT_CAPS_MAPS))
		return EXIT_FAIL;
	if (ifname && check_ifname(ifname, &ifindex))
		return EXIT_FAIL;
	if (nots_options)
		track_flags |= XDPCT_CFG_NOTS_OPTIONS;
	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	if (tcp_sysctls_read(&s))
		return EXIT_FAIL;
	if (!s.syncookies) {
		err("net.ipv4.tcp_syncookies is 0: the kernel would reset cookie connections; set it to 1");
		return EXIT_FAIL;
	}

	snprintf(path, sizeof(path), "%s/%s", pin_dir, XDPCT_MAP_CONFIG);
	config_fd = bpf_obj_get(path);
	if (config_fd < 0) {
		err("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XDPCT_MAP_PORTS);
	ports_fd = bpf_obj_get(path);
	if (ports_fd < 0) {
		err("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (config_maps_check(config_fd, ports_fd))
		goto out;
	{
		char pd[PATH_MAX], pname[IF_NAMESIZE];

		if (!group_primary_dir(pin_dir, pd, sizeof(pd), pname)) {
			err("%s shares the maps of %s: configure %s", pin_dir, pname, pname);
			goto out;
		}
	}

	have_old = !bpf_map_lookup_elem(config_fd, &zero, &old);
	if (config_build(&cfg, ifname, have_old ? &old : NULL))
		goto out;
	cfg.flags |= track_flags;
	if (slot_arg) {
		if (have_old && (old.flags & XDPCT_CFG_ENABLED) &&
		    xdpct_slot_shift(old.slot_shift) != slot_shift) {
			err("--cookie-slot cannot change while cookies are answered ('xdpct detach' first)");
			goto out;
		}
		cfg.slot_shift = slot_shift;
	}
	/* xdpct_local pinned there too: answer only for this host */
	local_fd = open_pinned_map(pin_dir, XDPCT_MAP_LOCAL);
	if (config_host(&cfg, ifname, local_fd))
		goto out;

	/* Newly protected ports drop the ACKs of connections without an
	 * entry: adopt them before, and once more after to catch those
	 * opened in between. */
	open_flows(pin_dir, &t);
	if (t.p4 >= 0 && seen_open_pinned(pin_dir, &seen))
		goto out;
	if (t.p4 >= 0) {
		r = adopt_sockets(&t, &seen, ports, track_all, ifname, &adopted);
		if (r) {
			err("cannot adopt the existing connections: %s", strerror(-r));
			goto out;
		}
	}
	/* the profiles before the ports that name them; none given clears
	 * them, as the ports are rewritten */
	profiles_fd = open_pinned_map(pin_dir, XDPCT_MAP_PROFILES);
	if (profiles_fd < 0 && nprofiles) {
		err("no %s in %s: an object without profiles", XDPCT_MAP_PROFILES, pin_dir);
		goto out;
	}
	if (profiles_fd >= 0 && profiles_write(profiles_fd, profiles))
		goto out;
	if (config_write(config_fd, ports_fd, ports, &cfg))
		goto out;
	group_sync_dir(pin_dir);
	if (t.p4 >= 0 && !adopt_sockets(&t, &seen, ports, track_all, ifname, &more))
		adopted += more;
	/* xdpct_seen from the tables and sockets: until a rebuild (a map
	 * iproute2 made) the filter lets every tuple look its entry up */
	if (seen.w && seen_rebuild(&seen, t.p4, t.p6, ports_fd))
		warn("xdpct_seen not rebuilt: flood packets are looked up until 'xdpct run' rebuilds it");

	tracking_describe(ports, cfg.flags, list, sizeof(list));
	if (verbose)
		config_describe(&cfg);
	if (t.p4 >= 0)
		info("configured %s, %s; adopted %u connection%s", pin_dir, list,
		     adopted, adopted == 1 ? "" : "s");
	else
		info("configured %s, %s", pin_dir, list);
	ret = EXIT_OK;
out:
	xdpct_seen_close(&seen);
	if (config_fd >= 0)
		close(config_fd);
	if (ports_fd >= 0)
		close(ports_fd);
	if (local_fd >= 0)
		close(local_fd);
	if (profiles_fd >= 0)
		close(profiles_fd);
	close_flows(&t);
	return ret;
}
