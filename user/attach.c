// SPDX-License-Identifier: GPL-2.0
/* attach / reload / detach: load the object with its maps pinned under the
 * pin directory, write the config, attach XDP (a link) and TC ingress and
 * egress (libbpf), pin the programs, and undo all of it on any failure or
 * on detach. On an interface that has xdpct already, the new programs reuse
 * the pinned maps and replace the old ones in place.
 *
 * Pin directory (default /sys/fs/bpf/xdpct/IFACE, or .../netns:COOKIE/IFACE
 * outside the initial network namespace: util.c), owned by xdpct alone:
 *   xdpct_config xdpct_ports xdpct_flows4 xdpct_flows6 xdpct_pending
 *   xdpct_stats xdpct_events xdpct_seen xdpct_observed4 xdpct_observed6
 *   xdpct_local                                         maps (pinned by name)
 *   prog_xdp prog_tc_in [prog_tc_out]                   programs
 *   link_xdp                the XDP link (an older xdpct's: none, netlink)
 *   link_tc_in link_tc_out  the TCX links (none: clsact filters)
 *   link_sockops            the sock_ops link on the root cgroup (v2)
 *   xdpct_owner             netns, ifindex, clsact made by xdpct (cmd.h)
 * bpffs holds only BPF objects, so the ports live in the ports map and the
 * XDP mode is read back from the kernel (bpf_xdp_query). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cmd.h" /* xdpct.h first: the skeleton names its enums */
#include "xdpct.skel.h"
#include "probe.h"
#include "sysctl.h"
#include "xdpct_seen.h"

#define PIN_PROG_XDP    "prog_xdp"
#define PIN_PROG_TC_IN  "prog_tc_in"
#define PIN_PROG_TC_OUT "prog_tc_out"
#define PROG_XDP        "xdpct_xdp"
#define PROG_TC_IN      "xdpct_tc_in"
#define PROG_TC_OUT     "xdpct_tc_out" /* optional: attached if present */
#define PIN_LINK_SOCKOPS "link_sockops"
#define PIN_LINK_XDP    "link_xdp"
static const char *const tc_link_pins[2] = { "link_tc_in", "link_tc_out" };

/* Everything attach did so far, for the rollback. */
struct attach_ctx {
	const char *ifname;
	unsigned int ifindex;
	char pin_dir[PATH_MAX];
	bool made_root;          /* created XDPCT_PIN_ROOT */
	bool made_dir;           /* created pin_dir */
	struct xdpct_bpf *skel;
	enum xdp_attach_mode mode;
	bool xdp_attached;
	bool hook_created;       /* clsact qdisc was ours */
	struct bpf_tc_opts tc[2];/* ingress, egress filters we attached */
	bool tc_attached[2];
	bool tc_linked[2];       /* through a TCX link (pinned), not a filter */
	struct xdpct_seen seen;  /* xdpct_seen, mmap()ed */
	bool sockops_pinned;     /* made link_sockops */
	__u8 slot_shift;         /* --cookie-slot, 0: the default */
	bool slot_given;
	struct xdpct_acl_key *acl[2]; /* --allow, --deny */
	size_t nacl[2];
	struct xdpct_synlimit synlimit; /* --syn-limit */
	bool synlimit_given;
	struct xdpct_profile profiles[XDPCT_PROFILES_MAX]; /* --profile */
	unsigned int group;      /* a member (--share): the primary's ifindex */
	char group_dir[PATH_MAX];/* its pin directory */
	struct xdpct_config group_cfg; /* its config: the key to take */
};

static const __u8 acl_actions[2] = { XDPCT_ACL_ALLOW, XDPCT_ACL_DENY };

/* --allow and --deny into xdpct_acl, added to what it holds. */
static int acl_fill(struct attach_ctx *c)
{
	int fd = bpf_map__fd(c->skel->maps.xdpct_acl);

	for (int i = 0; i < 2; i++)
		if (c->nacl[i] && acl_add(fd, c->acl[i], c->nacl[i], acl_actions[i]))
			return -1;
	return 0;
}

/* --syn-limit into xdpct_synlimit; without it, a reload keeps the limit. */
static int synlimit_fill(struct attach_ctx *c)
{
	if (!c->synlimit_given)
		return 0;
	return synlimit_write(bpf_map__fd(c->skel->maps.xdpct_synlimit),
			      bpf_map__fd(c->skel->maps.xdpct_synrate), &c->synlimit);
}

/* The config's XDPCT_CFG_ACL after the config is written; on a reload the
 * flows whose remote changed lists move to their table. */
static int acl_sync(struct attach_ctx *c, bool move)
{
	unsigned int moved = 0;
	int fd = bpf_map__fd(c->skel->maps.xdpct_acl), r;

	if (acl_flag_sync(bpf_map__fd(c->skel->maps.xdpct_config), fd))
		return -1;
	if (move && (c->nacl[0] || c->nacl[1])) {
		r = acl_move_flows(c->pin_dir, fd, &moved);
		if (r)
			warn("cannot move the flows of the listed sources: %s", strerror(-r));
	}
	return 0;
}

/* Unlink xdpct's pins (maps "xdpct_*", programs "prog_*") from a pin
 * directory, then the directory if that left it empty. Other files stay:
 * --pin-dir may name a directory shared with others. */
static int remove_pin_dir(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "xdpct_", 6) &&
		    strncmp(de->d_name, "prog_", 5) && strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && !r)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOTEMPTY && !r)
		r = -errno;
	return r;
}

int owner_read(const char *dir, struct xdpct_owner *o)
{
	__u32 zero = 0;
	int fd = pinned_map(dir, XDPCT_MAP_OWNER), r = 0;

	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, o))
		r = -errno;
	close(fd);
	return r;
}

static int owner_write(const char *dir, const struct xdpct_owner *o)
{
	char path[PATH_MAX + 32];
	__u32 zero = 0;
	int fd = pinned_map(dir, XDPCT_MAP_OWNER), r = 0;

	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, XDPCT_MAP_OWNER, sizeof(zero),
				    sizeof(*o), 1, NULL);
		if (fd < 0)
			return -errno;
		snprintf(path, sizeof(path), "%s/%s", dir, XDPCT_MAP_OWNER);
		if (bpf_obj_pin(fd, path))
			r = -errno;
	}
	if (!r && bpf_map_update_elem(fd, &zero, o, BPF_ANY))
		r = -errno;
	close(fd);
	return r;
}

int owner_check(const char *dir, unsigned int ifindex, bool quiet)
{
	struct xdpct_owner o = {};
	struct xdpct_config cfg;
	__u64 mine;
	__u32 zero = 0;
	int fd;

	if (netns_cookie(&mine))
		return 0; /* no cookies (before 5.14): nothing to compare */
	if (owner_read(dir, &o)) {
		/* no record: the cookie the config holds, if any */
		fd = pinned_map(dir, XDPCT_MAP_CONFIG);
		if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &cfg))
			o.netns_cookie = cfg.netns_cookie;
		if (fd >= 0)
			close(fd);
	}
	if (o.netns_cookie && o.netns_cookie != mine) {
		if (!quiet)
			err("the pins in %s belong to another network namespace (cookie %llu, this one %llu): left alone",
			    dir, (unsigned long long)o.netns_cookie, (unsigned long long)mine);
		return -1;
	}
	if (ifindex && o.ifindex && o.ifindex != ifindex)
		return 1;
	return 0;
}

static void tc_hook_of(struct bpf_tc_hook *hook, unsigned int ifindex,
		       bool ingress)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static void rollback(struct attach_ctx *c)
{
	struct bpf_tc_hook hook;
	int i;

	for (i = 0; i < 2; i++) {
		if (!c->tc_attached[i])
			continue;
		if (c->tc_linked[i]) { /* the pin held the link */
			char path[PATH_MAX + 32];

			snprintf(path, sizeof(path), "%s/%s", c->pin_dir, tc_link_pins[i]);
			unlink(path);
			continue;
		}
		tc_hook_of(&hook, c->ifindex, i == 0);
		c->tc[i].prog_fd = c->tc[i].prog_id = c->tc[i].flags = 0;
		bpf_tc_detach(&hook, &c->tc[i]);
	}
	if (c->hook_created) {
		tc_hook_of(&hook, c->ifindex, true);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	if (c->xdp_attached) { /* the pin held the link: gone with it */
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, PIN_LINK_XDP);
		unlink(path);
	}
	if (c->sockops_pinned) { /* the pin held the link: gone with it */
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, PIN_LINK_SOCKOPS);
		unlink(path);
	}
	xdpct_seen_close(&c->seen);
	xdpct_bpf__destroy(c->skel);
	if (c->made_dir) {
		char root[PATH_MAX];

		remove_pin_dir(c->pin_dir);
		if (!netns_pin_root(root, sizeof(root)) && strcmp(root, XDPCT_PIN_ROOT))
			rmdir(root); /* this namespace's, if that emptied it */
	}
	if (c->made_root)
		rmdir(XDPCT_PIN_ROOT);
}

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? "skb" : m == XDP_MODE_HW ? "hw" : "native";
}

/* The ids of the XDP programs on an interface, any mode. */
static int xdp_query(unsigned int ifindex, struct bpf_xdp_query_opts *q)
{
	memset(q, 0, sizeof(*q));
	q->sz = sizeof(*q);
	return bpf_xdp_query(ifindex, 0, q);
}

static __u32 xdp_any_prog(const struct bpf_xdp_query_opts *q)
{
	return q->prog_id ? q->prog_id : q->drv_prog_id ? q->drv_prog_id :
	       q->skb_prog_id ? q->skb_prog_id : q->hw_prog_id;
}

static int prog_name_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info pi = {};
	__u32 pl = sizeof(pi);
	int fd = bpf_prog_get_fd_by_id(id), r = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &pi, &pl))
		r = -errno;
	else
		snprintf(name, len, "%s", pi.name);
	close(fd);
	return r;
}

/* Id of a pinned program, 0 if none. */
static __u32 pinned_prog_id(const char *dir, const char *file)
{
	char path[PATH_MAX + 32];
	struct bpf_prog_info pi = {};
	__u32 pl = sizeof(pi);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &pi, &pl))
		pi.id = 0;
	close(fd);
	return pi.id;
}

static int pin_prog(struct attach_ctx *c, struct bpf_program *p,
		    const char *file)
{
	char path[PATH_MAX + 32];
	int r;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, file);
	r = bpf_program__pin(p, path);
	if (r) {
		err("cannot pin %s: %s", path, strerror(-r));
		return -1;
	}
	return 0;
}

static __u32 xdp_mode_flags(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
	       m == XDP_MODE_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
}

/* XDP through a link pinned as link_xdp, not netlink: nobody else's
 * `ip link set ... xdp` can replace or remove it (EBUSY), a reload swaps
 * its program atomically (bpf_link_update), and unpinning it detaches. */
static int attach_xdp(struct attach_ctx *c)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = xdp_mode_flags(c->mode));
	int prog = bpf_program__fd(c->skel->progs.xdpct_xdp), fd, r;
	char path[PATH_MAX + 32];

	fd = bpf_link_create(prog, c->ifindex, BPF_XDP, &lo);
	r = fd < 0 ? -errno : 0;
	if (r == -EOPNOTSUPP && c->mode == XDP_MODE_NATIVE) {
		err("%s does not support native XDP; use --mode skb", c->ifname);
		return -1;
	}
	if (r) {
		err("cannot attach XDP to %s in %s mode: %s%s", c->ifname,
		    mode_name(c->mode), strerror(-r), vhint());
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, PIN_LINK_XDP);
	if (bpf_obj_pin(fd, path)) {
		err("cannot pin %s: %s", path, strerror(errno));
		close(fd); /* the last reference: detached */
		return -1;
	}
	close(fd);
	c->xdp_attached = true;
	return 0;
}

static bool clsact_asked(void)
{
	const char *e = getenv("XDPCT_TC_CLSACT");

	return e && *e && strcmp(e, "0");
}

static int attach_tc(struct attach_ctx *c, struct bpf_program *p, bool ingress)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts *o = &c->tc[ingress ? 0 : 1];
	char path[PATH_MAX + 32];
	int r, fd, i = ingress ? 0 : 1;

	/* A TCX link, pinned: no qdisc to make or to leave behind, and no
	 * one else's `tc` call can remove it; a reload swaps it in place.
	 * XDPCT_TC_CLSACT asks for the filters of kernels without TCX. */
	if (clsact_asked()) {
		fd = -1;
		errno = EINVAL;
	} else {
		fd = bpf_link_create(bpf_program__fd(p), c->ifindex,
				     ingress ? XDPCT_TCX_INGRESS : XDPCT_TCX_EGRESS, NULL);
	}
	if (fd >= 0) {
		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, tc_link_pins[i]);
		r = bpf_obj_pin(fd, path) ? -errno : 0;
		close(fd); /* without the pin, the last reference: detached */
		if (r) {
			err("cannot pin %s: %s", path, strerror(-r));
			return -1;
		}
		c->tc_attached[i] = c->tc_linked[i] = true;
		return 0;
	}
	if (errno != EINVAL) {
		err("cannot attach TC %s to %s: %s%s", ingress ? "ingress" : "egress", c->ifname,
		    strerror(errno), vhint());
		return -1;
	}
	/* no TCX (before 6.6): a filter on a clsact qdisc */
	tc_hook_of(&hook, c->ifindex, ingress);
	if (!c->hook_created) {
		r = bpf_tc_hook_create(&hook);
		if (!r)
			c->hook_created = true;
		else if (r != -EEXIST) {
			err("cannot create the clsact qdisc on %s: %s", c->ifname,
			    strerror(-r));
			return -1;
		}
	}
	/* Handle and priority 0: the kernel picks free ones; detach finds
	 * the filter again by program id. */
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->prog_fd = bpf_program__fd(p);
	r = bpf_tc_attach(&hook, o);
	if (r) {
		err("cannot attach TC %s to %s: %s%s",
		    ingress ? "ingress" : "egress", c->ifname, strerror(-r),
		    vhint());
		return -1;
	}
	c->tc_attached[ingress ? 0 : 1] = true;
	return 0;
}

/* Where cgroup v2 is mounted (its root), from mountinfo. */
static int cgroup2_root(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(buf, len, "%s", mnt);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/* The sock_ops program on the root cgroup, as a link pinned with the maps
 * (a cookie flow is ESTABLISHED when its child is made: bpf/sockops.h).
 * On reload the pinned link takes the new program in place. Without
 * cgroup v2 a cookie flow is established at its next packet instead. */
static int attach_sockops(struct attach_ctx *c, struct bpf_program *p)
{
	char path[PATH_MAX + 32], cg[PATH_MAX];
	struct bpf_link *l;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, PIN_LINK_SOCKOPS);
	l = bpf_link__open(path);
	if (!libbpf_get_error(l)) {
		r = bpf_link__update_program(l, p);
		bpf_link__destroy(l); /* our fd; the pin keeps the link */
		if (r) {
			err("cannot replace the sock_ops program: %s%s", strerror(-r), vhint());
			return -1;
		}
		return 0;
	}
	if (cgroup2_root(cg, sizeof(cg))) {
		warn("no cgroup v2 mounted: a cookie flow becomes ESTABLISHED at its next packet, not when its socket is made");
		return 0;
	}
	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err("cannot open the cgroup v2 root %s: %s", cg, strerror(errno));
		return -1;
	}
	l = bpf_program__attach_cgroup(p, fd);
	close(fd);
	r = libbpf_get_error(l);
	if (r) {
		err("cannot attach sock_ops to the cgroup v2 root %s: %s%s", cg, strerror(-r),
		    vhint());
		return -1;
	}
	r = bpf_link__pin(l, path);
	bpf_link__destroy(l);
	if (r) {
		err("cannot pin %s: %s", path, strerror(-r));
		return -1;
	}
	c->sockops_pinned = true;
	return 0;
}

static int tcp_sysctls_check(void)
{
	struct tcp_sysctls s;

	if (tcp_sysctls_read(&s))
		return -1;
	if (!s.syncookies) {
		err("net.ipv4.tcp_syncookies is 0: the kernel would reset cookie connections; set it to 1");
		return -1;
	}
	return 0;
}

int parse_xdp_mode(const char *arg, enum xdp_attach_mode *m)
{
	if (!strcmp(arg, "native") || !strcmp(arg, "drv"))
		*m = XDP_MODE_NATIVE;
	else if (!strcmp(arg, "skb") || !strcmp(arg, "generic"))
		*m = XDP_MODE_SKB;
	else
		return -1;
	return 0;
}

int attach_opt(int opt, const char *arg, struct setup_opts *o)
{
	switch (opt) {
	case 'p': o->ports = arg; return 1;
	case 'o': o->observe = arg; return 1;
	case 'a': o->track_all = true; return 1;
	case OPT_COOKIE_NOTS: o->cookie_nots_options = true; return 1;
	case OPT_COOKIE_SLOT: o->cookie_slot = arg; return 1;
	case 'm': o->mode = arg; return 1;
	case 'n': o->max_conns = arg; return 1;
	case 'N': o->max_observed = arg; return 1;
	case 'd': o->pin_dir = arg; return 1;
	case OPT_SYN_LIMIT: o->syn_limit = arg; return 1;
	case OPT_SYN_LIMIT_PREFIX: o->syn_limit_prefix = arg; return 1;
	case OPT_PROFILE:
		if (o->nprofiles == XDPCT_PROFILES_MAX)
			o->profiles_too_many = true;
		else
			o->profiles[o->nprofiles++] = arg;
		return 1;
	case OPT_ALLOW:
	case OPT_DENY: {
		char *l = opt == OPT_ALLOW ? o->allow : o->deny;
		size_t n = strlen(l);

		if (n + strlen(arg) + 2 > sizeof(o->allow))
			o->acl_too_long = true;
		else
			snprintf(l + n, sizeof(o->allow) - n, "%s%s", n ? "," : "", arg);
		return 1;
	}
	}
	return 0;
}

static __u32 map_max_entries_at(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		mi.max_entries = 0;
	close(fd);
	return mi.max_entries;
}

static __u32 prog_id_of_fd(int fd)
{
	struct bpf_prog_info pi = {};
	__u32 pl = sizeof(pi);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &pi, &pl))
		return 0;
	return pi.id;
}

/* A loaded skeleton over the pin directory: maps pinned there are reused
 * (libbpf checks that their definitions match), missing ones created. */
static int load_skel(struct attach_ctx *c, __u64 max4, __u64 max6, __u64 max_obs, bool reuse)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	int r;

	if (probe_kernel())
		return -1;
	oopts.pin_root_path = c->pin_dir;
	c->skel = xdpct_bpf__open_opts(&oopts);
	if (!c->skel) {
		err("cannot open the BPF object: %s%s", strerror(errno), vhint());
		return -1;
	}
	r = bpf_map__set_max_entries(c->skel->maps.xdpct_flows4, max4);
	if (!r)
		r = bpf_map__set_max_entries(c->skel->maps.xdpct_flows6, max6);
	if (!r)
		r = bpf_map__set_max_entries(c->skel->maps.xdpct_observed4, max_obs);
	if (!r)
		r = bpf_map__set_max_entries(c->skel->maps.xdpct_observed6, max_obs);
	if (!r) /* one translation per protected connection at most */
		r = bpf_map__set_max_entries(c->skel->maps.xdpct_proxy, max4 + max6);
	if (!r) /* 10 bits per protected entry: a full table leaves 90% of
		 * a flood's tuples without one */
		r = bpf_map__set_max_entries(c->skel->maps.xdpct_seen,
					     XDPCT_SEEN_ENTRIES_OF(xdpct_seen_shift_for(max4 + max6)));
	if (r) {
		err("cannot size the flow tables: %s", strerror(-r));
		return -1;
	}
	r = xdpct_bpf__load(c->skel);
	if (r && reuse) {
		err("cannot load the BPF object over the maps pinned in %s: %s (maps of another xdpct version? 'xdpct detach %s' starts afresh)%s",
		    c->pin_dir, strerror(-r), c->ifname, vhint());
		return -1;
	}
	if (r) {
		err("cannot load the BPF object: %s%s", strerror(-r), vhint());
		return -1;
	}
	/* reused, or made now (pins of a build without it: empty, filled by
	 * the rebuild before the new programs go in) */
	return seen_attach_map(bpf_map__fd(c->skel->maps.xdpct_seen), c->pin_dir, &c->seen);
}

/* xdpct_seen from the flow tables and sockets: before the programs that
 * read it go in. */
static int seen_fill(struct attach_ctx *c)
{
	return seen_rebuild(&c->seen, bpf_map__fd(c->skel->maps.xdpct_flows4),
			    bpf_map__fd(c->skel->maps.xdpct_flows6),
			    bpf_map__fd(c->skel->maps.xdpct_ports));
}

static void flow_fds_of(struct attach_ctx *c, struct flow_fds *t)
{
	t->p4 = bpf_map__fd(c->skel->maps.xdpct_flows4);
	t->p6 = bpf_map__fd(c->skel->maps.xdpct_flows6);
	t->o4 = bpf_map__fd(c->skel->maps.xdpct_observed4);
	t->o6 = bpf_map__fd(c->skel->maps.xdpct_observed6);
	t->acl = bpf_map__fd(c->skel->maps.xdpct_acl);
}

/* The config for new ports on a running attachment: this namespace's
 * settings now, the running key kept (cookies in flight stay valid), and
 * the timeouts an `xdpct run` published. */
static int config_for_reload(int cfg_fd, const char *ifname, __u32 track_flags,
			     struct xdpct_config *cfg)
{
	struct xdpct_config old;
	__u32 zero = 0;
	bool have_old;

	if (config_build(cfg, ifname, NULL))
		return -1;
	cfg->flags |= track_flags;
	have_old = !bpf_map_lookup_elem(cfg_fd, &zero, &old);
	if (have_old) {
		memcpy(cfg->timeout_s, old.timeout_s, sizeof(cfg->timeout_s));
		cfg->pending_timeout_s = old.pending_timeout_s;
		cfg->slot_shift = old.slot_shift;
	}
	if (have_old && (old.flags & XDPCT_CFG_ENABLED)) {
		memcpy(cfg->keys, old.keys, sizeof(cfg->keys));
		cfg->key_sel = old.key_sel;
		cfg->flags |= old.flags & (XDPCT_CFG_PREV_KEY | XDPCT_CFG_FLEET);
		cfg->key_epoch = old.key_epoch;
		cfg->key_set_ns = old.key_set_ns;
	}
	return 0;
}

static int apply_tracking(struct attach_ctx *c, const __u8 *ports, bool track_all,
			  const struct xdpct_config *cfg, unsigned int *adopted)
{
	struct flow_fds t;
	unsigned int more;
	int r;

	flow_fds_of(c, &t);
	/* newly protected ports: their connections get entries first */
	r = adopt_sockets(&t, &c->seen, ports, track_all, c->ifname, adopted);
	if (r) {
		err("cannot adopt the existing connections: %s", strerror(-r));
		return -1;
	}
	if (config_write(bpf_map__fd(c->skel->maps.xdpct_config),
			 bpf_map__fd(c->skel->maps.xdpct_ports), ports, cfg))
		return -1;
	if (!adopt_sockets(&t, &c->seen, ports, track_all, c->ifname, &more))
		*adopted += more;
	return 0;
}

/* This namespace and interface as the directory's owners, and whether the
 * clsact qdisc is ours (made now, or by the attach that made the record). */
static int record_owner(struct attach_ctx *c, __u32 flags)
{
	struct xdpct_owner o = { .ifindex = c->ifindex, .flags = flags };
	int r = netns_cookie(&o.netns_cookie);

	if (c->group) {
		o.flags |= XDPCT_OWNER_MEMBER;
		o.group = c->group;
	}
	if (c->hook_created)
		o.flags |= XDPCT_OWNER_CLSACT;
	if (!r)
		r = owner_write(c->pin_dir, &o);
	if (r)
		err("cannot record the owner of %s: %s", c->pin_dir, strerror(-r));
	return r;
}

/* ---- reload: new programs over the pinned maps ---- */

static const char *const prog_pins[3] = { PIN_PROG_XDP, PIN_PROG_TC_IN, PIN_PROG_TC_OUT };

struct tc_swap {
	bool done;      /* replaced in place: restore old_fd on failure */
	bool link;      /* in link_fd (TCX), else the filter at handle, prio */
	int link_fd;
	__u32 handle, prio;
};

/* Replace our filter on a hook in place (same handle and priority: no
 * moment without it), or attach one if it is gone. */
static int swap_tc(struct attach_ctx *c, struct bpf_program *p, bool ingress,
		   __u32 old_id, int old_fd, struct tc_swap *sw)
{
	char path[PATH_MAX + 32];
	struct bpf_tc_hook hook;
	__u32 h = 0, prio = 0;
	int r, lfd;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, tc_link_pins[ingress ? 0 : 1]);
	lfd = bpf_obj_get(path);
	if (lfd >= 0 && old_fd >= 0 && tcx_find(c->ifindex, ingress, old_id) > 0) {
		/* only if the link still runs the old program */
		LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE, .old_prog_fd = old_fd);

		if (bpf_link_update(lfd, bpf_program__fd(p), &uo)) {
			err("cannot replace the TC %s program of %s: %s%s",
			    ingress ? "ingress" : "egress", c->ifname, strerror(errno), vhint());
			close(lfd);
			return -1;
		}
		sw->done = sw->link = true;
		sw->link_fd = lfd;
		return 0;
	}
	if (lfd >= 0) { /* a link detached from the interface: a new one */
		close(lfd);
		unlink(path);
		return attach_tc(c, p, ingress);
	}
	r = tc_find_ours(c->ifindex, ingress, old_id, &h, &prio);
	if (r < 0) {
		err("cannot list the TC filters of %s: %s", c->ifname, strerror(-r));
		return -1;
	}
	if (!r)
		return attach_tc(c, p, ingress);
	{
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = h, .priority = prio,
				    .prog_fd = bpf_program__fd(p), .flags = BPF_TC_F_REPLACE);

		tc_hook_of(&hook, c->ifindex, ingress);
		r = bpf_tc_attach(&hook, &o);
	}
	if (r) {
		err("cannot replace the TC %s filter of %s: %s%s",
		    ingress ? "ingress" : "egress", c->ifname, strerror(-r), vhint());
		return -1;
	}
	sw->done = true;
	sw->handle = h;
	sw->prio = prio;
	return 0;
}

static void unswap_tc(struct attach_ctx *c, bool ingress, int old_fd,
		      const struct tc_swap *sw)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = sw->handle, .priority = sw->prio,
			    .prog_fd = old_fd, .flags = BPF_TC_F_REPLACE);
	struct bpf_tc_hook hook;

	if (!sw->done || old_fd < 0)
		return;
	if (sw->link) {
		bpf_link_update(sw->link_fd, old_fd, NULL);
		return;
	}
	tc_hook_of(&hook, c->ifindex, ingress);
	bpf_tc_attach(&hook, &o);
}

static void tmp_pin_path(char *buf, size_t len, const char *dir, int i)
{
	/* bpffs refuses dots in names; "prog_" so that detach removes it */
	snprintf(buf, len, "%s/%s_new", dir, prog_pins[i]);
}

static int reload(struct attach_ctx *c, bool mode_given, bool max_given,
		  __u64 max_conns, bool obs_given, __u64 max_obs, bool tracking,
		  const __u8 *ports, __u32 track_flags, struct setup_result *res)
{
	struct bpf_program *progs[3];
	struct tc_swap sw[3] = {};
	struct bpf_xdp_query_opts q;
	struct xdpct_config cfg;
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32], list[600] = "", name[64] = "?";
	int old_fd[3] = { -1, -1, -1 }, link_fd = -1, i, r, ret = -1;
	__u32 old_id[3], new_id[3] = {}, cur = 0, max4, max6, maxo;
	unsigned int adopted = 0;
	bool xdp_ours, pinned_tmp = false;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, prog_pins[i]);
		old_fd[i] = bpf_obj_get(path);
		old_id[i] = prog_id_of_fd(old_fd[i]);
	}
	if (!xdp_query(c->ifindex, &q))
		cur = xdp_any_prog(&q);
	xdp_ours = cur && cur == old_id[0];
	if (cur && !xdp_ours) {
		prog_name_by_id(cur, name, sizeof(name));
		err("%s has an XDP program (id %u, %s) that is not the one pinned in %s; run 'xdpct detach %s'",
		    c->ifname, cur, name, c->pin_dir, c->ifname);
		goto out;
	}
	if (xdp_ours) {
		enum xdp_attach_mode now = q.attach_mode == XDP_ATTACHED_SKB ? XDP_MODE_SKB :
					   q.attach_mode == XDP_ATTACHED_HW ? XDP_MODE_HW :
									      XDP_MODE_NATIVE;

		if (mode_given && now != c->mode) {
			err("xdpct runs on %s in %s mode: a mode cannot change in place ('xdpct detach %s' first)",
			    c->ifname, mode_name(now), c->ifname);
			goto out;
		}
		c->mode = now;
	}
	max4 = map_max_entries_at(c->pin_dir, XDPCT_MAP_FLOWS4);
	max6 = map_max_entries_at(c->pin_dir, XDPCT_MAP_FLOWS6);
	if (!max4 || !max6)
		max4 = max6 = max_conns; /* no tables pinned yet: made now */
	else if (max_given && (max4 != max_conns || max6 != max_conns)) {
		err("the flow tables pinned in %s hold %u entries: --max-conns cannot change in place ('xdpct detach %s' first)",
		    c->pin_dir, max4, c->ifname);
		goto out;
	}
	maxo = map_max_entries_at(c->pin_dir, XDPCT_MAP_OBS4);
	if (!maxo)
		maxo = max_obs;
	else if (obs_given && maxo != max_obs) {
		err("the observed tables pinned in %s hold %u entries: --max-observed cannot change in place ('xdpct detach %s' first)",
		    c->pin_dir, maxo, c->ifname);
		goto out;
	}
	if (tracking && tcp_sysctls_check())
		goto out;
	if (load_skel(c, max4, max6, maxo, true))
		goto out;
	/* the lists first: the adoption below puts allowed remotes' flows in
	 * the observed tables */
	if (acl_fill(c) || acl_sync(c, true) || synlimit_fill(c))
		goto out;
	/* with the ports: a reload with ports and no --profile clears them */
	if (tracking && profiles_write(bpf_map__fd(c->skel->maps.xdpct_profiles), c->profiles))
		goto out;
	if (tracking && (config_for_reload(bpf_map__fd(c->skel->maps.xdpct_config),
					   c->ifname, track_flags, &cfg) ||
			 config_host(&cfg, c->ifname, bpf_map__fd(c->skel->maps.xdpct_local))))
		goto out;
	if (tracking && c->slot_given) {
		struct xdpct_config cur;
		__u32 zero = 0;

		/* the slot numbers in key_sel are of the slot length in force */
		if (!bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.xdpct_config), &zero, &cur) &&
		    (cur.flags & XDPCT_CFG_ENABLED) &&
		    xdpct_slot_shift(cur.slot_shift) != c->slot_shift) {
			err("--cookie-slot cannot change in place ('xdpct detach %s' first)", c->ifname);
			goto out;
		}
		cfg.slot_shift = c->slot_shift;
	}

	progs[0] = c->skel->progs.xdpct_xdp;
	progs[1] = c->skel->progs.xdpct_tc_in;
	progs[2] = bpf_object__find_program_by_name(c->skel->obj, PROG_TC_OUT);
	/* new pins under temporary names, renamed over the old ones at the
	 * end: the pins always name programs that are attached */
	pinned_tmp = true;
	for (i = 0; i < 3; i++) {
		if (!progs[i])
			continue;
		tmp_pin_path(tmp, sizeof(tmp), c->pin_dir, i);
		unlink(tmp);
		r = bpf_program__pin(progs[i], tmp);
		if (r) {
			err("cannot pin %s: %s", tmp, strerror(-r));
			goto fail;
		}
		new_id[i] = prog_id_of_fd(bpf_program__fd(progs[i]));
	}
	/* the new XDP program skips the lookup of SYNs whose bit is clear:
	 * every entry in the tables gets its bit first */
	if (seen_fill(c))
		goto fail;
	/* TC before XDP, as at attach: the new XDP program's cookie ACKs
	 * find a TC program that handles them */
	if (swap_tc(c, progs[1], true, old_id[1], old_fd[1], &sw[1]) ||
	    (progs[2] && swap_tc(c, progs[2], false, old_id[2], old_fd[2], &sw[2])))
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, PIN_LINK_XDP);
	link_fd = bpf_obj_get(path);
	if (xdp_ours && link_fd >= 0) {
		/* only if the link still runs the old program */
		LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE,
			    .old_prog_fd = old_fd[0]);

		r = bpf_link_update(link_fd, bpf_program__fd(progs[0]), &uo) ? -errno : 0;
		if (r) {
			err("cannot replace the XDP program of %s: %s%s", c->ifname,
			    strerror(-r), vhint());
			goto fail;
		}
	} else if (xdp_ours) { /* attached by an older xdpct, through netlink */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old_fd[0]);

		r = bpf_xdp_attach(c->ifindex, bpf_program__fd(progs[0]),
				   XDP_FLAGS_REPLACE | xdp_mode_flags(c->mode), &ao);
		if (r) {
			err("cannot replace the XDP program of %s: %s%s", c->ifname,
			    strerror(-r), vhint());
			goto fail;
		}
	} else {
		if (link_fd >= 0) /* a link whose program is gone: its device was */
			unlink(path);
		if (attach_xdp(c))
			goto fail;
	}
	if (!c->group && attach_sockops(c, c->skel->progs.xdpct_sockops))
		goto fail;
	/* Entries the old programs made since the fill (a build without
	 * xdpct_seen sets no bits): once more, now that ours run. */
	if (seen_fill(c))
		warn("SYNs of connections opened during the reload may get a cookie SYN-ACK until the next rebuild ('xdpct run' does one per eviction pass)");
	for (i = 0; i < 3; i++) {
		if (!progs[i])
			continue;
		tmp_pin_path(tmp, sizeof(tmp), c->pin_dir, i);
		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, prog_pins[i]);
		if (rename(tmp, path))
			warn("cannot rename %s to %s: %s", tmp, path, strerror(errno));
	}
	pinned_tmp = false;
	{
		struct xdpct_owner o = {};

		/* pins of an older xdpct: no record, so no qdisc known as ours */
		owner_read(c->pin_dir, &o);
		if (record_owner(c, o.flags & XDPCT_OWNER_CLSACT))
			warn("detach will leave the clsact qdisc of %s", c->ifname);
	}

	if (tracking) {
		if (apply_tracking(c, ports, track_flags & XDPCT_CFG_TRACK_ALL, &cfg, &adopted))
			goto out; /* the programs are in: no rollback */
		tracking_describe(ports, cfg.flags, list, sizeof(list));
		if (verbose)
			config_describe(&cfg);
	}
	if (tracking)
		snprintf(tmp, sizeof(tmp), "; %s; adopted %u connection%s", list, adopted,
			 adopted == 1 ? "" : "s");
	else
		tmp[0] = '\0';
	info("reloaded on %s, attached already (%s mode): programs replaced in place (xdp %u -> %u, tc ingress %u -> %u, tc egress %u -> %u), maps kept%s",
	     c->ifname, mode_name(c->mode), old_id[0], new_id[0], old_id[1], new_id[1],
	     old_id[2], new_id[2], tmp);
	res->reloaded = true;
	ret = 0;
	goto out;
fail:
	/* back to the old programs where they were replaced */
	unswap_tc(c, true, old_fd[1], &sw[1]);
	unswap_tc(c, false, old_fd[2], &sw[2]);
	rollback(c);
	c->skel = NULL;
out:
	if (pinned_tmp) {
		for (i = 0; i < 3; i++) {
			tmp_pin_path(tmp, sizeof(tmp), c->pin_dir, i);
			unlink(tmp);
		}
	}
	for (i = 0; i < 3; i++)
		if (old_fd[i] >= 0)
			close(old_fd[i]);
	if (link_fd >= 0)
		close(link_fd);
	for (i = 0; i < 3; i++)
		if (sw[i].link)
			close(sw[i].link_fd);
	xdpct_seen_close(&c->seen);
	xdpct_bpf__destroy(c->skel);
	c->skel = NULL;
	return ret;
}

/* ---- attach ---- */

static int fresh_attach(struct attach_ctx *c, __u64 max_conns, __u64 max_obs,
			const __u8 *ports, __u32 track_flags, bool track_all)
{
	struct bpf_xdp_query_opts q;
	struct xdpct_config cfg;
	struct bpf_program *tc_out;
	struct flow_fds t;
	char list[600], name[64] = "?";
	unsigned int adopted = 0, more;
	__u32 id;
	int r;

	if (!xdp_query(c->ifindex, &q) && (id = xdp_any_prog(&q))) {
		prog_name_by_id(id, name, sizeof(name));
		if (!strcmp(name, PROG_XDP))
			err("%s already has xdpct's XDP program (id %u); run 'xdpct detach %s'",
			    c->ifname, id, c->ifname);
		else
			err("%s already has an XDP program (id %u, %s)", c->ifname,
			    id, name);
		return -1;
	}
	if (config_build(&cfg, c->ifname, NULL))
		return -1;
	cfg.flags |= track_flags;
	cfg.slot_shift = c->slot_shift;
	if (c->group) /* the group's key from the first packet on */
		group_take_key(&cfg, &c->group_cfg);

	/* From here on, every failure rolls back. */
	c->made_root = !path_exists(XDPCT_PIN_ROOT);
	r = mkdir_p(c->pin_dir, 0700);
	if (r) {
		err("cannot create %s: %s", c->pin_dir, strerror(-r));
		goto fail;
	}
	c->made_dir = true;
	if (c->group) {
		/* the primary's maps under their names: the load reuses them
		 * (sized as they are); the owner record first, so that the
		 * rebuilds take the primary's lock */
		r = group_pin_shared(c->group_dir, c->pin_dir);
		if (r) {
			err("cannot pin the maps of %s in %s: %s", c->group_dir, c->pin_dir,
			    strerror(-r));
			goto fail;
		}
		if (record_owner(c, 0))
			goto fail;
		max_conns = map_max_entries_at(c->group_dir, XDPCT_MAP_FLOWS4);
		max_obs = map_max_entries_at(c->group_dir, XDPCT_MAP_OBS4);
	}
	if (check_pin_dir(c->pin_dir, false) ||
	    load_skel(c, max_conns, c->group ? map_max_entries_at(c->group_dir, XDPCT_MAP_FLOWS6) :
					     max_conns, max_obs, c->group) ||
	    (!c->group && (acl_fill(c) || synlimit_fill(c) ||
			   profiles_write(bpf_map__fd(c->skel->maps.xdpct_profiles), c->profiles))))
		goto fail;
	if (config_host(&cfg, c->ifname, bpf_map__fd(c->skel->maps.xdpct_local)))
		goto fail;
	/* Existing connections get entries before XDP can drop their ACKs. */
	flow_fds_of(c, &t);
	r = adopt_sockets(&t, &c->seen, ports, track_all, c->ifname, &adopted);
	if (r) {
		err("cannot adopt the existing connections: %s", strerror(-r));
		goto fail;
	}
	/* a member writes its own config only: the ports are the group's */
	if ((c->group ? config_commit(bpf_map__fd(c->skel->maps.xdpct_config), &cfg) < 0 :
			config_write(bpf_map__fd(c->skel->maps.xdpct_config),
				     bpf_map__fd(c->skel->maps.xdpct_ports), ports, &cfg)) ||
	    acl_sync(c, false) || seen_fill(c))
		goto fail;

	tc_out = bpf_object__find_program_by_name(c->skel->obj, PROG_TC_OUT);
	if (pin_prog(c, c->skel->progs.xdpct_xdp, PIN_PROG_XDP) ||
	    pin_prog(c, c->skel->progs.xdpct_tc_in, PIN_PROG_TC_IN) ||
	    (tc_out && pin_prog(c, tc_out, PIN_PROG_TC_OUT)))
		goto fail;

	/* TC first: once XDP passes a cookie ACK up, TC must be there to
	 * hand it to the listener. */
	/* one sock_ops program per table: the primary's */
	if (attach_tc(c, c->skel->progs.xdpct_tc_in, true) ||
	    (tc_out && attach_tc(c, tc_out, false)) ||
	    (!c->group && attach_sockops(c, c->skel->progs.xdpct_sockops)) ||
	    attach_xdp(c))
		goto fail;

	if (record_owner(c, 0))
		goto fail;

	/* Connections opened between the dump and XDP going live: the
	 * second pass adds only what the first did not see (BPF_NOEXIST). */
	if (!adopt_sockets(&t, &c->seen, ports, track_all, c->ifname, &more))
		adopted += more;

	tracking_describe(ports, cfg.flags, list, sizeof(list));
	if (verbose)
		config_describe(&cfg);
	if (c->group)
		info("attached to %s (%s mode), sharing the maps and key of %s, %s; adopted %u connection%s",
		     c->ifname, mode_name(c->mode), c->group_dir, list, adopted,
		     adopted == 1 ? "" : "s");
	else
		info("attached to %s (%s mode), %s; adopted %u connection%s", c->ifname,
		     mode_name(c->mode), list, adopted, adopted == 1 ? "" : "s");
	/* The kernel keeps the attachments and pins; drop our references. */
	xdpct_seen_close(&c->seen);
	xdpct_bpf__destroy(c->skel);
	c->skel = NULL;
	return 0;
fail:
	rollback(c);
	c->skel = NULL;
	return -1;
}

/* attach IFACE --share PRIMARY: a member of PRIMARY's group. */
static int share_attach(struct attach_ctx *c, const char *primary)
{
	static __u8 ports[NUM_PORTS];
	struct xdpct_owner po = {};
	unsigned int pidx;
	__u32 zero = 0, track_flags;
	int fd, r;

	if (check_ifname(primary, &pidx) ||
	    default_pin_dir(c->group_dir, sizeof(c->group_dir), primary))
		return EXIT_FAIL;
	if (!path_exists(c->group_dir)) {
		err("xdpct is not attached to %s (no %s): attach it first", primary, c->group_dir);
		return EXIT_FAIL;
	}
	if (check_pin_dir(c->group_dir, true))
		return EXIT_FAIL;
	r = owner_check(c->group_dir, pidx, false);
	if (r < 0)
		return EXIT_FAIL;
	if (r > 0) {
		err("the pins in %s are of an earlier %s, since deleted", c->group_dir, primary);
		return EXIT_FAIL;
	}
	if (!owner_read(c->group_dir, &po) && (po.flags & XDPCT_OWNER_MEMBER)) {
		err("%s shares the maps of another interface: --share that one", primary);
		return EXIT_FAIL;
	}
	if (path_exists(c->pin_dir)) {
		err("%s is attached already: 'xdpct detach %s' first", c->ifname, c->ifname);
		return EXIT_FAIL;
	}
	fd = pinned_map(c->group_dir, XDPCT_MAP_CONFIG);
	r = fd < 0 || bpf_map_lookup_elem(fd, &zero, &c->group_cfg) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (r || !(c->group_cfg.flags & XDPCT_CFG_ENABLED)) {
		err("cannot read the key of %s in %s/%s", primary, c->group_dir, XDPCT_MAP_CONFIG);
		return EXIT_FAIL;
	}
	fd = pinned_map(c->group_dir, XDPCT_MAP_PORTS);
	r = fd < 0 ? -errno : ports_read(fd, ports);
	if (fd >= 0)
		close(fd);
	if (r) {
		err("cannot read the ports of %s: %s", primary, strerror(-r));
		return EXIT_FAIL;
	}
	if (tcp_sysctls_check())
		return EXIT_FAIL;
	c->group = pidx;
	track_flags = c->group_cfg.flags &
		      (XDPCT_CFG_TRACK_ALL | XDPCT_CFG_NOTS_OPTIONS | XDPCT_CFG_LOCAL_ONLY);
	c->slot_shift = c->group_cfg.slot_shift;
	return fresh_attach(c, 0, 0, ports, track_flags, track_flags & XDPCT_CFG_TRACK_ALL) ?
		       EXIT_FAIL : EXIT_OK;
}

static int setup(const struct setup_opts *o, struct setup_result *res,
		 struct xdpct_acl_key *lists[2])
{
	static __u8 ports[NUM_PORTS];
	struct attach_ctx c = { .mode = XDP_MODE_NATIVE, .ifname = o->ifname,
				.seen = { .lock_fd = -1 } };
	unsigned long long max_conns = XDPCT_FLOWS_DEFAULT, max_obs = XDPCT_OBSERVED_DEFAULT;
	bool tracking = o->ports || o->observe || o->track_all;
	__u8 slot_shift = 0;
	__u32 track_flags = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (o->share) {
		if (o->how != SETUP_ATTACH)
			return usage_err(o->cmd, "--share goes with attach");
		if (tracking || o->nprofiles || o->cookie_slot || o->cookie_nots_options ||
		    o->max_conns || o->max_observed || o->syn_limit || o->syn_limit_prefix ||
		    o->allow[0] || o->deny[0] || o->pin_dir)
			return usage_err(o->cmd, "--share takes the ports, lists, limits, sizes and pins of %s: only --mode goes with it",
					 o->share);
		if (!strcmp(o->share, o->ifname))
			return usage_err(o->cmd, "--share names %s itself", o->ifname);
		if (o->mode && parse_xdp_mode(o->mode, &c.mode))
			return usage_err(o->cmd, "bad --mode '%s' (native or skb)", o->mode);
		if (check_caps(XDPCT_CAPS_LOAD) || check_ifname(c.ifname, &c.ifindex) ||
		    check_bpffs("/sys/fs/bpf") ||
		    default_pin_dir(c.pin_dir, sizeof(c.pin_dir), c.ifname))
			return EXIT_FAIL;
		snprintf(res->pin_dir, sizeof(res->pin_dir), "%s", c.pin_dir);
		res->ifindex = c.ifindex;
		return share_attach(&c, o->share);
	}
	if (o->how == SETUP_ATTACH && !tracking)
		return usage_err(o->cmd, "one of --ports, --observe or --track-all is required");
	if (o->cookie_slot && !tracking)
		return usage_err(o->cmd, "--cookie-slot goes with --ports, --observe or --track-all (the config they write)");
	if (o->cookie_nots_options && !tracking)
		return usage_err(o->cmd, "--cookie-nots-options goes with --ports, --observe or --track-all (the config they write)");
	if (o->mode && parse_xdp_mode(o->mode, &c.mode))
		return usage_err(o->cmd, "bad --mode '%s' (native or skb)", o->mode);
	if (o->max_conns && parse_u64(o->max_conns, 1, UINT32_MAX, &max_conns))
		return usage_err(o->cmd, "bad --max-conns '%s'", o->max_conns);
	if (o->max_observed && parse_u64(o->max_observed, 1, UINT32_MAX, &max_obs))
		return usage_err(o->cmd, "bad --max-observed '%s'", o->max_observed);
	if (o->cookie_slot && parse_cookie_slot(o->cookie_slot, &slot_shift))
		return usage_err(o->cmd, "bad --cookie-slot '%s' (1-137 seconds)", o->cookie_slot);
	c.slot_shift = slot_shift;
	c.slot_given = o->cookie_slot;
	if (o->syn_limit_prefix && !o->syn_limit)
		return usage_err(o->cmd, "--syn-limit-prefix goes with --syn-limit");
	if (o->syn_limit && synlimit_parse(o->cmd, o->syn_limit, o->syn_limit_prefix, &c.synlimit))
		return EXIT_USAGE;
	c.synlimit_given = o->syn_limit;
	if (o->acl_too_long)
		return usage_err(o->cmd, "--allow/--deny: more than 4 KiB of prefixes (add the rest with 'xdpct allow|deny add')");
	r = (o->allow[0] && acl_parse_list(o->cmd, "--allow", o->allow, &c.acl[0], &c.nacl[0])) ||
	    (o->deny[0] && acl_parse_list(o->cmd, "--deny", o->deny, &c.acl[1], &c.nacl[1]));
	lists[0] = c.acl[0];
	lists[1] = c.acl[1];
	if (r)
		return EXIT_USAGE;
	for (size_t i = 0; i < c.nacl[0]; i++)
		for (size_t j = 0; j < c.nacl[1]; j++)
			if (!memcmp(&c.acl[0][i], &c.acl[1][j], sizeof(c.acl[0][i]))) {
				char p[64];

				acl_format(&c.acl[0][i], p, sizeof(p));
				return usage_err(o->cmd, "%s is given to both --allow and --deny", p);
			}

	/* The checks, in a fixed order, before anything is created: the
	 * arguments first (a typo is not a missing privilege) */
	if (tracking) {
		r = tracking_parse(o->cmd, o->ports, o->observe, o->track_all, ports,
				   &track_flags);
		if (r)
			return r;
		if (o->cookie_nots_options)
			track_flags |= XDPCT_CFG_NOTS_OPTIONS;
		if (o->nprofiles && !o->ports)
			return usage_err(o->cmd, "--profile goes with --ports (a profile is a protected port's)");
		if (profiles_parse(o->cmd, o->profiles, o->nprofiles, ports, c.profiles))
			return EXIT_USAGE;
	} else if (o->nprofiles) {
		return usage_err(o->cmd, "--profile goes with --ports (a profile is a protected port's)");
	}
	if (o->profiles_too_many)
		return usage_err(o->cmd, "--profile: more than %d given", XDPCT_PROFILES_MAX);
	if (check_caps(XDPCT_CAPS_LOAD) || check_ifname(c.ifname, &c.ifindex))
		return EXIT_FAIL;
	if (check_bpffs("/sys/fs/bpf"))
		return EXIT_FAIL;
	if (tracking && profiles_have(c.profiles, XDPCT_HANDOVER_PROXY)) {
		long f4 = 0, f6 = 0;

		sysctl_read_long("net.ipv4.ip_forward", &f4);
		sysctl_read_long("net.ipv6.conf.all.forwarding", &f6);
		if (!f4 && !f6) {
			err("--profile ...:proxy protects servers behind this box, but it forwards nothing (net.ipv4.ip_forward and net.ipv6.conf.all.forwarding are 0)");
			return EXIT_FAIL;
		}
	}
	if (o->pin_dir)
		snprintf(c.pin_dir, sizeof(c.pin_dir), "%s", o->pin_dir);
	else if (default_pin_dir(c.pin_dir, sizeof(c.pin_dir), c.ifname))
		return EXIT_FAIL;
	snprintf(res->pin_dir, sizeof(res->pin_dir), "%s", c.pin_dir);
	res->ifindex = c.ifindex;

	if (path_exists(c.pin_dir)) {
		/* never another namespace's maps, nor those of an interface
		 * deleted since: their key, flows and ports are not ours */
		if (check_pin_dir(c.pin_dir, false))
			return EXIT_FAIL;
		r = owner_check(c.pin_dir, c.ifindex, false);
		if (r < 0)
			return EXIT_FAIL;
		if (r > 0) {
			err("the pins in %s are of an earlier %s, since deleted: 'xdpct detach %s' removes them",
			    c.pin_dir, c.ifname, c.ifname);
			return EXIT_FAIL;
		}
		{
			struct xdpct_owner ow = {};

			if (!owner_read(c.pin_dir, &ow) && (ow.flags & XDPCT_OWNER_MEMBER)) {
				char pname[IF_NAMESIZE] = "?";

				group_primary_dir(c.pin_dir, c.group_dir, sizeof(c.group_dir), pname);
				if (tracking || o->nprofiles || o->syn_limit || o->allow[0] ||
				    o->deny[0] || o->cookie_slot || o->max_conns || o->max_observed)
					return usage_err(o->cmd, "%s shares the maps of %s: change its ports, lists, limits and sizes there",
							 c.ifname, pname);
				c.group = ow.group;
			}
		}
		/* attached already: new programs over the same maps */
		if (reload(&c, o->mode, o->max_conns, max_conns, o->max_observed, max_obs,
			   tracking, ports, track_flags, res))
			return EXIT_FAIL;
		group_sync_dir(c.pin_dir); /* a primary's members follow its config */
		return EXIT_OK;
	}
	if (o->how == SETUP_RELOAD) {
		err("xdpct is not attached to %s (no %s)", c.ifname, c.pin_dir);
		return EXIT_FAIL;
	}
	if (!tracking)
		return usage_err(o->cmd, "%s is not attached yet: one of --ports, --observe or --track-all is required",
				 c.ifname);
	if (tcp_sysctls_check())
		return EXIT_FAIL;
	if (fresh_attach(&c, max_conns, max_obs, ports, track_flags, o->track_all))
		return EXIT_FAIL;
	return EXIT_OK;
}

int xdpct_setup(const struct setup_opts *o, struct setup_result *res)
{
	struct xdpct_acl_key *lists[2] = {};
	int r = setup(o, res, lists);

	free(lists[0]);
	free(lists[1]);
	return r;
}

static void attach_usage(const char *cmd)
{
	bool reload = !strcmp(cmd, "reload");

	if (reload)
		printf("Usage: xdpct reload IFACE [--ports LIST] [--observe LIST] [--track-all]\n"
		       "                    [--cookie-nots-options] [--cookie-slot SECONDS]\n"
		       "                    [--mode native|skb]\n"
		       "                    [--max-conns N] [--max-observed N] [--allow PREFIXES]\n"
		       "                    [--deny PREFIXES] [--syn-limit RATE[/BURST]]\n"
		       "                    [--syn-limit-prefix IPV4[,IPV6]] [--profile PORTS:SETTINGS]...\n"
		       "                    [--pin-dir DIR] [-v]\n"
		       "\n"
		       "Replace xdpct's programs on IFACE with this build's, in place,\n"
		       "through their links (bpf_link_update; clsact filters at their handle\n"
		       "and priority, netlink XDP with XDP_FLAGS_REPLACE), so that no packet\n"
		       "meets a missing program. The maps pinned in %s/IFACE are reused: flow\n"
		       "entries, pending handshakes, the cookie key and the counters survive.\n"
		       "With port options, the ports are rewritten as by `xdpct config`\n"
		       "(the key is kept); without, the configuration stays as it is.\n"
		       "`xdpct attach` on an interface that has xdpct does the same.\n"
		       "\n", XDPCT_PIN_ROOT);
	else
		printf("Usage: xdpct attach IFACE [--ports LIST] [--observe LIST] [--track-all]\n"
		       "                    [--cookie-nots-options] [--cookie-slot SECONDS]\n"
		       "                    [--mode native|skb]\n"
		       "                    [--max-conns N] [--max-observed N] [--allow PREFIXES]\n"
		       "                    [--deny PREFIXES] [--syn-limit RATE[/BURST]]\n"
		       "                    [--syn-limit-prefix IPV4[,IPV6]] [--profile PORTS:SETTINGS]...\n"
		       "                    [--pin-dir DIR] [-v]\n"
		       "       xdpct attach IFACE --share PRIMARY [--mode native|skb]\n"
		       "\n"
		       "--share: IFACE joins PRIMARY's group: its programs work on PRIMARY's\n"
		       "maps (flow tables, ports, lists, limits, counters) with PRIMARY's cookie\n"
		       "key, so that a connection whose packets come in over either link (ECMP,\n"
		       "failover) has one entry and one key. `xdpct run PRIMARY` rotates the key\n"
		       "of the whole group; detach of PRIMARY (or run's end) detaches the group.\n"
		       "\n"
		       "Load xdpct, attach its XDP program and its TC ingress and egress\n"
		       "filters to IFACE, answer SYNs to the protected ports with SYN cookies\n"
		       "and track their connections. Maps and programs are pinned in\n"
		       "%s/IFACE (in a network namespace other than the initial\n"
		       "one, under netns:COOKIE/: `xdpct pin-dir IFACE`); everything stays\n"
		       "attached after xdpct exits, until `xdpct detach IFACE`. Pins there of\n"
		       "another namespace or of a deleted namesake of IFACE are refused.\n"
		       "\n"
		       "If xdpct is attached to IFACE already, its programs are reloaded in\n"
		       "place over the pinned maps (see `xdpct reload`), and the ports given\n"
		       "are written: no connection is lost, and the output says \"reloaded\".\n"
		       "\n"
		       "Connections that already exist on tracked ports are adopted: read\n"
		       "from the kernel's sockets (sock_diag) and entered in the flow tables\n"
		       "before the programs go live, so that they are not cut.\n"
		       "\n"
		       "TCP options follow this network namespace's sysctls (tcp_sack,\n"
		       "tcp_timestamps, tcp_window_scaling, tcp_ecn); a client without\n"
		       "timestamps gets only MSS, as from Linux's own cookies (see\n"
		       "--cookie-nots-options). net.ipv4.tcp_syncookies must be non-zero.\n"
		       "Run xdpct in the namespace of the servers.\n"
		       "\n", XDPCT_PIN_ROOT);
	printf("Options:\n"
	       "  -p, --ports LIST      ports to protect: 80,443,8000-8100\n"
	       "  -o, --observe LIST    ports to track without cookies, never dropping\n"
	       "  -a, --track-all       track every TCP flow (observe mode)\n"
	       "%s"
	       "      --cookie-nots-options  SACK and window scaling for clients without\n"
	       "                        timestamps too: their cookie keeps 23 hash bits\n"
	       "                        instead of 28 (default: only MSS, as Linux)\n"
	       "      --cookie-slot S   cookie time slot of about S seconds (1-137, a power\n"
	       "                        of two of ns; default 69): a cookie is valid one\n"
	       "                        to two slots, key rotations are a slot apart at\n"
	       "                        least; cannot change while attached\n"
	       "  -m, --mode MODE       XDP mode: native (default) or skb%s\n"
	       "  -n, --max-conns N     entries of each flow table, IPv4 and IPv6 (default %d)%s\n"
	       "  -N, --max-observed N  entries of each table of observed flows (default %d):\n"
	       "                        flows begun by unvalidated SYNs never share the\n"
	       "                        protected connections' tables\n"
	       "      --allow PREFIXES  sources that never get cookies, tracked as on an\n"
	       "                        observed port: 10.0.0.0/8,2001:db8::/32 (added to\n"
	       "                        the list; see `xdpct allow`)\n"
	       "      --deny PREFIXES   sources whose segments to protected ports are\n"
	       "                        dropped (added to the list; see `xdpct deny`)\n"
	       "      --syn-limit RATE[/BURST]  SYNs per second (and at once: default RATE)\n"
	       "                        per source /24 and /64 that get cookies; beyond,\n"
	       "                        dropped (see `xdpct synlimit`; a reload without it\n"
	       "                        keeps the limit)\n"
	       "      --syn-limit-prefix IPV4[,IPV6]  other prefix lengths (8-32, 16-128)\n"
	       "      --profile PORTS:SETTINGS  protected ports' own SYN-ACK settings, on\n"
	       "                        top of the sysctls': mss=N (clamp; IPv6: N-20),\n"
	       "                        mss6=N, no-sack, no-ts, no-wscale, no-ecn,\n"
	       "                        auto-rate=N (run --auto's threshold for them),\n"
	       "                        nat (listener behind DNAT: xdpct nat), proxy\n"
	       "                        (servers behind this router: the handshake to\n"
	       "                        them and sequence translation);\n"
	       "                        repeatable: 443:mss=1360,no-ecn --profile 22:no-ts\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE (on bpffs)\n"
	       "  -v, --verbose         show libbpf/libxdp messages and the config\n"
	       "  -h, --help            this help\n",
	       reload ? "                        (optional: without them the ports stay)\n" :
			"                        (one of --ports, --observe, --track-all is required)\n",
	       reload ? "; must be the current one" : "",
	       XDPCT_FLOWS_DEFAULT, reload ? ";\n                        must be the pinned size" : "",
	       XDPCT_OBSERVED_DEFAULT, XDPCT_PIN_ROOT);
}

static int attach_or_reload(int argc, char **argv, const char *cmd, enum setup_how how)
{
	static const struct option opts[] = {
		ATTACH_LONGOPTS,
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct setup_opts o = { .cmd = cmd, .how = how };
	struct setup_result res;
	int opt;

	while ((opt = getopt_long(argc, argv, ":" ATTACH_SHORTOPTS "vh", opts, NULL)) != -1) {
		if (attach_opt(opt, optarg, &o))
			continue;
		switch (opt) {
		case OPT_SHARE:
			if (how != SETUP_ATTACH)
				return usage_err(cmd, "--share goes with attach");
			o.share = optarg;
			break;
		case 'v': verbose++; break;
		case 'h': attach_usage(cmd); return EXIT_OK;
		default: return getopt_usage_err(cmd, opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err(cmd, "missing interface name");
	o.ifname = argv[optind++];
	if (optind < argc)
		return usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	return xdpct_setup(&o, &res);
}

int cmd_attach(int argc, char **argv)
{
	return attach_or_reload(argc, argv, "attach", SETUP_ATTACH);
}

int cmd_reload(int argc, char **argv)
{
	return attach_or_reload(argc, argv, "reload", SETUP_RELOAD);
}

static void detach_usage(void)
{
	printf("Usage: xdpct detach IFACE [--pin-dir DIR] [-v]\n"
	       "\n"
	       "Remove xdpct from IFACE: its XDP program (left alone if another\n"
	       "program replaced it), its TC programs (TCX links, or clsact filters:\n"
	       "other filters stay, the clsact qdisc goes only if xdpct made it and no\n"
	       "filter is left), and the pins\n"
	       "in %s/IFACE (`xdpct pin-dir IFACE`). Another namespace's pins\n"
	       "are left alone; a --pin-dir must be on bpffs and hold xdpct's maps.\n"
	       "If IFACE is gone, only the pins are removed.\n"
	       "\n"
	       "Options:\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE (on bpffs)\n"
	       "  -v, --verbose         show libbpf messages\n"
	       "  -h, --help            this help\n",
	       XDPCT_PIN_ROOT, XDPCT_PIN_ROOT);
}

/* Remove our XDP program; 1 if removed, 0 if none of ours (a foreign one
 * is described in note), -1 on error. */
static int detach_xdp(const char *ifname, unsigned int ifindex, const char *pin_dir,
		      __u32 pinned_id, char *note, size_t note_len)
{
	struct bpf_xdp_query_opts q;
	char name[64] = "";
	__u32 id, flags;
	int fd, r;

	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);

	if (xdp_query(ifindex, &q))
		return 0;
	id = xdp_any_prog(&q);
	if (!id)
		return 0;
	prog_name_by_id(id, name, sizeof(name));
	if (pinned_id ? id != pinned_id : strcmp(name, PROG_XDP)) {
		snprintf(note, note_len,
			 "the XDP program on %s (id %u, %s) is not xdpct's",
			 ifname, id, name);
		return 0;
	}
	/* ours through its link (netlink cannot remove it: EBUSY) */
	fd = pin_dir ? pinned_map(pin_dir, PIN_LINK_XDP) : -1; /* bpf_obj_get: any object */
	if (fd >= 0) {
		r = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		if (r) {
			err("cannot remove the XDP link of %s: %s", ifname, strerror(-r));
			return -1;
		}
		return 1;
	}
	/* attached by an older xdpct: through netlink */
	switch (q.attach_mode) {
	case XDP_ATTACHED_SKB: flags = XDP_FLAGS_SKB_MODE; break;
	case XDP_ATTACHED_HW: flags = XDP_FLAGS_HW_MODE; break;
	default: flags = XDP_FLAGS_DRV_MODE; break;
	}
	/* Replace-with-nothing only if it is still that program. */
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		ao.old_prog_fd = fd;
		flags |= XDP_FLAGS_REPLACE;
	}
	r = bpf_xdp_detach(ifindex, flags, &ao);
	if (fd >= 0)
		close(fd);
	if (r) {
		err("cannot remove the XDP program from %s: %s", ifname, strerror(-r));
		return -1;
	}
	return 1;
}

/* Detach our TCX link on hook i (0 ingress); 1 if one was there, 0 if
 * none is pinned, -errno. The pin goes with the directory. */
static int detach_tc_link(const char *pin_dir, int i)
{
	char path[PATH_MAX + 32];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, tc_link_pins[i]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	r = bpf_link_detach(fd) ? -errno : 1;
	close(fd);
	return r;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *ifname, *pin_arg = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, ":d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': detach_usage(); return EXIT_OK;
		default: return getopt_usage_err("detach", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("detach", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("detach", "unexpected argument '%s'", argv[optind]);
	return xdpct_detach(ifname, pin_arg);
}

int xdpct_detach(const char *ifname, const char *pin_arg)
{
	char pin_dir[PATH_MAX], root[PATH_MAX], note[128] = "";
	unsigned int ifindex;
	bool have_pins, done = false, failed = false, stale = false;
	struct xdpct_owner owner = {};
	__u32 xdp_id, tc_in_id, tc_out_id;
	int r, i;

	if (check_caps(XDPCT_CAPS_DETACH))
		return EXIT_FAIL;
	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	ifindex = strlen(ifname) < IFNAMSIZ ? if_nametoindex(ifname) : 0;
	have_pins = path_exists(pin_dir);
	if (have_pins) {
		/* what is unlinked must be xdpct's: bpffs, and under --pin-dir
		 * its config map; and not another namespace's */
		if (check_pin_dir(pin_dir, pin_arg) || (r = owner_check(pin_dir, ifindex, false)) < 0)
			return EXIT_FAIL;
		if (r > 0) { /* of an interface deleted since: only the pins go */
			stale = true;
			ifindex = 0;
		}
		owner_read(pin_dir, &owner);
	}

	/* Pinned ids identify our programs; without pins, their names do. */
	xdp_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_XDP) : 0;
	tc_in_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_TC_IN) : 0;
	tc_out_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_TC_OUT) : 0;

	if (ifindex) {
		r = detach_xdp(ifname, ifindex, have_pins ? pin_dir : NULL, xdp_id, note,
			       sizeof(note));
		failed |= r < 0;
		done |= r > 0;
		for (i = 0; i < 2; i++) {
			r = have_pins ? detach_tc_link(pin_dir, i) : 0;
			if (!r) /* a filter: an older xdpct's, or before TCX */
				r = tc_detach_ours(ifindex, i == 0, i ? tc_out_id : tc_in_id,
						   i ? PROG_TC_OUT : PROG_TC_IN);
			if (r < 0) {
				err("cannot remove the TC %s program from %s: %s",
				    i ? "egress" : "ingress", ifname, strerror(-r));
				failed = true;
			}
			done |= r > 0;
		}
		/* The clsact qdisc goes only if xdpct made it and nobody has
		 * filters on it. */
		if (done && (owner.flags & XDPCT_OWNER_CLSACT) && tc_count_filters(ifindex) == 0) {
			struct bpf_tc_hook hook;

			tc_hook_of(&hook, ifindex, true);
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (have_pins && !(owner.flags & XDPCT_OWNER_MEMBER) && ifindex) {
		/* a group goes with its primary: the members' maps are its */
		char names[64][16];
		int n = group_members(ifindex, names, 64);

		for (i = 0; i < n; i++)
			if (xdpct_detach(names[i], NULL) != EXIT_OK)
				failed = true;
	}
	/* the NAT handovers are the group's: the primary's to remove */
	if (have_pins) {
		r = owner.flags & XDPCT_OWNER_MEMBER ? 0 : nat_remove_all(pin_dir);
		if (r) {
			err("cannot remove the NAT handover of %s: %s", ifname, strerror(-r));
			failed = true;
		}
		r = remove_pin_dir(pin_dir);
		if (r) {
			err("cannot remove %s: %s", pin_dir, strerror(-r));
			failed = true;
		}
		if (!pin_arg && !netns_pin_root(root, sizeof(root)) && strcmp(root, XDPCT_PIN_ROOT))
			rmdir(root); /* only if empty */
		rmdir(XDPCT_PIN_ROOT);
		done = true;
	}
	if (failed)
		return EXIT_FAIL;
	if (!done) {
		if (note[0])
			err("xdpct is not attached to %s (%s)", ifname, note);
		else
			err("xdpct is not attached to %s", ifname);
		return EXIT_FAIL;
	}
	if (note[0])
		warn("%s; left alone", note);
	if (ifindex)
		info("detached from %s", ifname);
	else if (stale)
		info("the pins in %s were of an earlier %s, since deleted; removed them", pin_dir,
		     ifname);
	else
		info("%s is gone; removed %s", ifname, pin_dir);
	return EXIT_OK;
}
