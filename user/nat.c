// SPDX-License-Identifier: GPL-2.0
/* nat: listeners behind DNAT in other namespaces of this host (containers,
 * pods). The ports of a `--profile PORTS:nat` get cookies on the host's
 * interface as any protected port; XDP stores a valid cookie ACK's
 * handover attributes in xdpct_handoff, and the program `nat add` puts on
 * the namespace's interface (TC ingress, bpf/nat.bpf.c) hands the NAT'ed
 * ACK to the listener there. Each attachment is a TCX link pinned in the
 * host attachment's pin directory and recorded in xdpct_nat; `detach`
 * removes them with the rest. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "sysctl.h"
#include "nat.skel.h"

#define PIN_LINK_NAT "link_nat_"

static void nat_usage(void)
{
	printf("Usage: xdpct nat add IFACE --netns NS [--dev DEV]\n"
	       "       xdpct nat del IFACE --netns NS [--dev DEV]\n"
	       "       xdpct nat del IFACE --gone\n"
	       "       xdpct nat list IFACE [-j]\n"
	       "       (--pin-dir DIR instead of IFACE)\n"
	       "\n"
	       "Listeners behind DNAT in other network namespaces of this host: a\n"
	       "container's published port, a pod's hostPort. Mark the published ports\n"
	       "with `--profile PORTS:nat` (attach, reload, run): their SYNs get cookies\n"
	       "on IFACE as on any protected port, and a valid cookie ACK goes on to\n"
	       "the host's netfilter (DNAT, net.netfilter.nf_conntrack_tcp_loose=1)\n"
	       "with its handover attributes stored under the client's address and\n"
	       "port and the cookie. `nat add` puts the handover program on DEV's\n"
	       "ingress in namespace NS (a TCX link pinned with IFACE's maps): there\n"
	       "the NAT'ed ACK becomes a socket of the listener, with the options the\n"
	       "client offered. The flows are tracked on IFACE (xdpct conns) as the\n"
	       "client sees them. `detach IFACE` removes every nat attachment too.\n"
	       "\n"
	       "Options:\n"
	       "  -n, --netns NS       a name under /run/netns, a path (/proc/PID/ns/net)\n"
	       "                       or a process id\n"
	       "  -D, --dev DEV        the namespace's interface the NAT'ed traffic comes\n"
	       "                       in on (default: its only one besides lo)\n"
	       "  -g, --gone           del: the attachments whose device is gone (the\n"
	       "                       namespace deleted, the container stopped)\n"
	       "  -j, --json           list: a JSON array\n"
	       "  -d, --pin-dir DIR    pin directory instead of %s/IFACE\n"
	       "  -h, --help           this help\n"
	       "\n"
	       "Needs CAP_SYS_ADMIN besides attach's capabilities (to enter NS).\n",
	       XDPCT_PIN_ROOT);
}

/* NS as given: a name under /run/netns, a path, or a pid. An fd, or -1
 * after an error. */
static int netns_open(const char *ns)
{
	char path[PATH_MAX];
	const char *s;
	int fd;

	for (s = ns; *s && isdigit((unsigned char)*s); s++)
		;
	if (!*s)
		snprintf(path, sizeof(path), "/proc/%s/ns/net", ns);
	else if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err("unknown network namespace '%s' (%s: %s)", ns, path, strerror(errno));
	return fd;
}

static int enter(int fd, const char *what)
{
	if (setns(fd, CLONE_NEWNET)) {
		err("cannot enter %s: %s", what,
		    errno == EINVAL ? "not a network namespace" : strerror(errno));
		return -1;
	}
	return 0;
}

/* In the entered namespace: DEV's ifindex, or its only interface besides
 * lo (name into dev). 0 after an error. */
static unsigned int ns_dev(const char *ns, const char *want, char dev[IF_NAMESIZE])
{
	struct if_nameindex *l = if_nameindex(), *i;
	unsigned int idx = 0, n = 0;
	char names[256] = "";

	if (!l) {
		err("cannot list the interfaces of %s: %s", ns, strerror(errno));
		return 0;
	}
	for (i = l; i->if_index; i++) {
		if (want ? strcmp(i->if_name, want) : !strcmp(i->if_name, "lo"))
			continue;
		n++;
		idx = i->if_index;
		snprintf(dev, IF_NAMESIZE, "%s", i->if_name);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? ", " : "", i->if_name);
	}
	if_freenameindex(l);
	if (want && !n) {
		err("no interface '%s' in network namespace %s", want, ns);
		return 0;
	}
	if (!want && n != 1) {
		if (!n)
			err("network namespace %s has no interface besides lo", ns);
		else
			err("network namespace %s has %u interfaces (%s): name one with --dev", ns,
			    n, names);
		return 0;
	}
	return idx;
}

static void link_pin_path(char *buf, size_t len, const char *pin_dir,
			  const struct xdpct_nat_key *k)
{
	snprintf(buf, len, "%s/" PIN_LINK_NAT "%llu_%u", pin_dir,
		 (unsigned long long)k->netns_cookie, k->ifindex);
}

/* The interface the link's program is on now (0: the device is gone). */
static unsigned int link_ifindex(int link_fd)
{
	/* struct bpf_link_info's tcx member (Linux 6.6) is missing from
	 * older headers: its ifindex is the union's first word */
	__u32 raw[16] = {};
	__u32 len = sizeof(raw);

	if (bpf_obj_get_info_by_fd(link_fd, raw, &len))
		return 0;
	return raw[4];
}

struct nat_fds {
	int handoff, stats, registry;
};

static int nat_maps_open(const char *pin_dir, const char *ifname, struct nat_fds *m)
{
	m->handoff = pinned_map(pin_dir, XDPCT_MAP_HANDOFF);
	m->stats = pinned_map(pin_dir, XDPCT_MAP_STATS);
	m->registry = pinned_map(pin_dir, XDPCT_MAP_NAT);
	if (m->handoff >= 0 && m->stats >= 0 && m->registry >= 0)
		return 0;
	if (!path_exists(pin_dir))
		err("xdpct is not attached to %s (no %s)", ifname ? ifname : pin_dir, pin_dir);
	else
		err("cannot open %s/%s: %s (maps of an xdpct without NAT handover: detach and attach again)",
		    pin_dir, m->handoff < 0 ? XDPCT_MAP_HANDOFF : XDPCT_MAP_NAT, strerror(errno));
	return -1;
}

static void nat_maps_close(struct nat_fds *m)
{
	if (m->handoff >= 0)
		close(m->handoff);
	if (m->stats >= 0)
		close(m->stats);
	if (m->registry >= 0)
		close(m->registry);
}

/* Remove one attachment: its link (detached even if someone holds it),
 * pin and record. */
static int nat_remove(const char *pin_dir, int registry, const struct xdpct_nat_key *k)
{
	char path[PATH_MAX + 64];
	int fd, r = 0;

	link_pin_path(path, sizeof(path), pin_dir, k);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
			r = -errno;
		close(fd);
		if (unlink(path) && !r)
			r = -errno;
	}
	if (bpf_map_delete_elem(registry, k) && errno != ENOENT && !r)
		r = -errno;
	return r;
}

/* The keys of xdpct_nat that match want (netns_cookie 0: all; ifindex
 * 0: every interface), at most XDPCT_NAT_MAX. */
static int nat_keys(int registry, const struct xdpct_nat_key *want, struct xdpct_nat_key *keys)
{
	struct xdpct_nat_key k = {}, next; /* no entry has cookie 0: the walk's start */
	int n = 0;

	while (n < XDPCT_NAT_MAX && !bpf_map_get_next_key(registry, &k, &next)) {
		k = next;
		if ((!want->netns_cookie || k.netns_cookie == want->netns_cookie) &&
		    (!want->ifindex || k.ifindex == want->ifindex))
			keys[n++] = k;
	}
	return n;
}

int nat_remove_all(const char *pin_dir)
{
	static struct xdpct_nat_key keys[XDPCT_NAT_MAX];
	struct xdpct_nat_key all = {};
	int registry = pinned_map(pin_dir, XDPCT_MAP_NAT), r = 0, e, n;

	if (registry < 0)
		return 0;
	n = nat_keys(registry, &all, keys);
	for (int i = 0; i < n; i++) {
		e = nat_remove(pin_dir, registry, &keys[i]);
		if (e && !r)
			r = e;
	}
	close(registry);
	return r;
}

static int nat_add(const char *pin_dir, const char *ifname, const char *ns, const char *dev_arg)
{
	struct nat_fds m = { -1, -1, -1 };
	struct nat_bpf *skel = NULL;
	struct xdpct_nat_dev d = {};
	struct xdpct_nat_key k = {};
	struct bpf_link_info li = {};
	struct tcp_sysctls sc;
	char path[PATH_MAX + 64], dev[IF_NAMESIZE] = "";
	int home = -1, target = -1, link_fd = -1, ret = EXIT_FAIL, r;
	__u32 li_len = sizeof(li);
	bool away = false;
	long loose;

	if (nat_maps_open(pin_dir, ifname, &m))
		goto out;
	/* conntrack must take up the cookie ACK (it never saw a SYN) for DNAT
	 * to apply; without the module loaded there is no DNAT yet */
	if (!sysctl_read_long("net.netfilter.nf_conntrack_tcp_loose", &loose) && !loose) {
		err("net.netfilter.nf_conntrack_tcp_loose is 0: conntrack would not take up a cookie ACK and DNAT would not apply; set it to 1");
		goto out;
	}
	skel = nat_bpf__open();
	if (!skel) {
		err("cannot open the NAT handover program: %s", strerror(errno));
		goto out;
	}
	/* the attachment's maps, never pins by name at the bpffs root */
	if (bpf_map__set_pin_path(skel->maps.xdpct_handoff, NULL) ||
	    bpf_map__set_pin_path(skel->maps.xdpct_stats, NULL) ||
	    bpf_map__reuse_fd(skel->maps.xdpct_handoff, m.handoff) ||
	    bpf_map__reuse_fd(skel->maps.xdpct_stats, m.stats)) {
		err("cannot reuse the maps in %s: %s", pin_dir, strerror(errno));
		goto out;
	}
	if (nat_bpf__load(skel)) {
		err("cannot load the NAT handover program: %s%s", strerror(errno), vhint());
		goto out;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		err("cannot open this network namespace: %s", strerror(errno));
		goto out;
	}
	target = netns_open(ns);
	if (target < 0 || enter(target, ns))
		goto out;
	away = true;
	k.ifindex = ns_dev(ns, dev_arg, dev);
	if (!k.ifindex)
		goto out;
	r = netns_cookie(&k.netns_cookie);
	if (r) {
		err("cannot read the cookie of network namespace %s: %s", ns, strerror(-r));
		goto out;
	}
	/* the kernel makes the child in NS: its sysctls decide */
	if (tcp_sysctls_read(&sc))
		goto out;
	if (!sc.syncookies) {
		err("net.ipv4.tcp_syncookies is 0 in network namespace %s: the kernel there would reset cookie connections; set it to 1",
		    ns);
		goto out;
	}
	if (!bpf_map_lookup_elem(m.registry, &k, &d)) {
		err("%s in network namespace %s is served already", dev, ns);
		goto out;
	}
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.xdpct_tc_nat), k.ifindex,
				  XDPCT_TCX_INGRESS, NULL);
	if (link_fd < 0) {
		err("cannot attach to %s in network namespace %s: %s", dev, ns, strerror(errno));
		goto out;
	}
	if (enter(home, "this network namespace"))
		goto out;
	away = false;

	link_pin_path(path, sizeof(path), pin_dir, &k);
	if (bpf_obj_pin(link_fd, path)) {
		err("cannot pin %s: %s", path, strerror(errno));
		goto out;
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.ifname, sizeof(d.ifname), "%s", dev);
	snprintf(d.netns, sizeof(d.netns), "%s", ns);
	if (!bpf_obj_get_info_by_fd(link_fd, &li, &li_len))
		d.link_id = li.id;
	d.added_s = time(NULL);
	if (bpf_map_update_elem(m.registry, &k, &d, BPF_NOEXIST)) {
		err("cannot record the attachment in %s: %s", XDPCT_MAP_NAT,
		    errno == E2BIG ? "table full" : strerror(errno));
		bpf_link_detach(link_fd);
		unlink(path);
		goto out;
	}
	info("handing %s's NAT'ed cookie ACKs over in network namespace %s on %s", ifname ? ifname : pin_dir,
	     ns, dev);
	ret = EXIT_OK;
out:
	if (away && enter(home, "this network namespace"))
		ret = EXIT_FAIL;
	if (link_fd >= 0)
		close(link_fd); /* the pin holds it; unpinned, it goes */
	if (home >= 0)
		close(home);
	if (target >= 0)
		close(target);
	nat_bpf__destroy(skel);
	nat_maps_close(&m);
	return ret;
}

/* The attachments whose device went (its namespace deleted, a container
 * stopped): links that hand nothing over any more. */
static int nat_del_gone(const char *pin_dir, const char *ifname)
{
	static struct xdpct_nat_key keys[XDPCT_NAT_MAX];
	struct xdpct_nat_key all = {};
	char path[PATH_MAX + 64];
	int registry = pinned_map(pin_dir, XDPCT_MAP_NAT), n, gone = 0, fd, r;

	if (registry < 0) {
		err("xdpct is not attached to %s (no %s/%s)", ifname ? ifname : pin_dir, pin_dir,
		    XDPCT_MAP_NAT);
		return EXIT_FAIL;
	}
	n = nat_keys(registry, &all, keys);
	for (int i = 0; i < n; i++) {
		link_pin_path(path, sizeof(path), pin_dir, &keys[i]);
		fd = bpf_obj_get(path);
		if (fd >= 0 && link_ifindex(fd) == keys[i].ifindex) {
			close(fd);
			continue;
		}
		if (fd >= 0)
			close(fd);
		r = nat_remove(pin_dir, registry, &keys[i]);
		if (r) {
			err("cannot remove %s: %s", path, strerror(-r));
			close(registry);
			return EXIT_FAIL;
		}
		gone++;
	}
	close(registry);
	info("removed %d NAT handover%s whose device is gone", gone, gone == 1 ? "" : "s");
	return EXIT_OK;
}

static int nat_del(const char *pin_dir, const char *ifname, const char *ns, const char *dev_arg)
{
	static struct xdpct_nat_key keys[XDPCT_NAT_MAX];
	struct xdpct_nat_key want = {};
	int registry, home = -1, target = -1, ret = EXIT_FAIL, r, n = 0;
	char dev[IF_NAMESIZE] = "";
	bool away = false;

	registry = pinned_map(pin_dir, XDPCT_MAP_NAT);
	if (registry < 0) {
		if (!path_exists(pin_dir))
			err("xdpct is not attached to %s (no %s)", ifname ? ifname : pin_dir, pin_dir);
		else
			err("cannot open %s/%s: %s", pin_dir, XDPCT_MAP_NAT, strerror(errno));
		return EXIT_FAIL;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target = netns_open(ns);
	if (home < 0 || target < 0 || enter(target, ns))
		goto out;
	away = true;
	r = netns_cookie(&want.netns_cookie);
	if (r) {
		err("cannot read the cookie of network namespace %s: %s", ns, strerror(-r));
		goto out;
	}
	if (dev_arg) {
		want.ifindex = ns_dev(ns, dev_arg, dev);
		if (!want.ifindex)
			goto out;
	}
	if (enter(home, "this network namespace"))
		goto out;
	away = false;
	n = nat_keys(registry, &want, keys);
	for (int i = 0; i < n; i++) {
		r = nat_remove(pin_dir, registry, &keys[i]);
		if (r) {
			err("cannot remove the attachment in %s: %s", ns, strerror(-r));
			goto out;
		}
		ret = EXIT_OK;
	}
	if (ret != EXIT_OK) {
		err("nothing of %s is served in network namespace %s%s%s", ifname ? ifname : pin_dir,
		    ns, dev_arg ? " on " : "", dev_arg ? dev_arg : "");
		goto out;
	}
	info("removed the NAT handover in network namespace %s", ns);
out:
	if (away && enter(home, "this network namespace"))
		ret = EXIT_FAIL;
	if (home >= 0)
		close(home);
	if (target >= 0)
		close(target);
	close(registry);
	return ret;
}

int nat_print(FILE *f, const char *pin_dir, bool json, const char *indent)
{
	static struct xdpct_nat_key keys[XDPCT_NAT_MAX];
	struct xdpct_nat_key all = {}, k;
	struct xdpct_nat_dev d;
	char path[PATH_MAX + 64];
	int registry = pinned_map(pin_dir, XDPCT_MAP_NAT), n = 0, nk, fd;
	bool first = true;

	if (json)
		fputc('[', f);
	if (registry < 0)
		goto end;
	nk = nat_keys(registry, &all, keys);
	for (int i = 0; i < nk; i++) {
		unsigned int now_idx = 0;

		k = keys[i];
		if (bpf_map_lookup_elem(registry, &k, &d))
			continue;
		link_pin_path(path, sizeof(path), pin_dir, &k);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			now_idx = link_ifindex(fd);
			close(fd);
		}
		d.ifname[sizeof(d.ifname) - 1] = d.netns[sizeof(d.netns) - 1] = '\0';
		if (json) {
			fprintf(f, "%s{\"netns\":", first ? "" : ",");
			json_string(f, d.netns);
			fprintf(f, ",\"netns_cookie\":%llu,\"dev\":", (unsigned long long)k.netns_cookie);
			json_string(f, d.ifname);
			fprintf(f, ",\"ifindex\":%u,\"link_id\":%u,\"attached\":%s,\"added\":%llu}",
				k.ifindex, d.link_id, now_idx == k.ifindex ? "true" : "false",
				(unsigned long long)d.added_s);
		} else {
			fprintf(f, "%snetns %s dev %s ifindex %u link %u%s\n", indent, d.netns,
				d.ifname, k.ifindex, d.link_id,
				now_idx == k.ifindex ? "" : " (gone: the device was removed)");
		}
		first = false;
		n++;
	}
	close(registry);
end:
	if (json)
		fputc(']', f);
	return n;
}

int cmd_nat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "dev", required_argument, NULL, 'D' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "gone", no_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *op, *ifname = NULL, *pin_arg = NULL, *ns = NULL, *dev = NULL;
	bool gone = false;
	char pin_dir[PATH_MAX];
	unsigned int ifindex;
	bool json = false, list;
	int c;

	while ((c = getopt_long(argc, argv, ":n:D:d:gjh", opts, NULL)) != -1) {
		switch (c) {
		case 'g': gone = true; break;
		case 'n': ns = optarg; break;
		case 'D': dev = optarg; break;
		case 'd': pin_arg = optarg; break;
		case 'j': json = true; break;
		case 'h': nat_usage(); return EXIT_OK;
		default: return getopt_usage_err("nat", c, argv);
		}
	}
	if (optind >= argc)
		return usage_err("nat", "missing action: add, del or list");
	op = argv[optind++];
	if (strcmp(op, "add") && strcmp(op, "del") && strcmp(op, "list"))
		return usage_err("nat", "unknown action '%s' (add, del or list)", op);
	list = !strcmp(op, "list");
	if (!pin_arg) {
		if (optind >= argc)
			return usage_err("nat", "missing interface (or --pin-dir)");
		ifname = argv[optind++];
	}
	if (optind < argc)
		return usage_err("nat", "unexpected argument '%s'", argv[optind]);
	if (list && (ns || dev))
		return usage_err("nat", "--netns and --dev go with add and del");
	if (gone && (strcmp(op, "del") || ns || dev))
		return usage_err("nat", "--gone goes with del, without --netns and --dev");
	if (!list && !ns && !gone)
		return usage_err("nat", "%s: missing --netns NS", op);
	if (!list && json)
		return usage_err("nat", "--json goes with list");
	if (dev && (!*dev || strlen(dev) >= IF_NAMESIZE || strchr(dev, '/')))
		return usage_err("nat", "bad interface name '%s'", dev);

	if (check_caps(list || gone ? XDPCT_CAPS_MAPS :
			      XDPCT_CAPS_LOAD | XDPCT_CAP(CAP_SYS_ADMIN)))
		return EXIT_FAIL;
	if (pin_arg) {
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
		if (check_pin_dir(pin_dir, true))
			return EXIT_FAIL;
	} else if (check_ifname(ifname, &ifindex) ||
		   default_pin_dir(pin_dir, sizeof(pin_dir), ifname)) {
		return EXIT_FAIL;
	}
	{
		/* a member's NAT handovers are its group's: the primary's pins */
		char pd[PATH_MAX];

		if (!group_primary_dir(pin_dir, pd, sizeof(pd), NULL))
			snprintf(pin_dir, sizeof(pin_dir), "%s", pd);
	}
	if (!strcmp(op, "add"))
		return nat_add(pin_dir, ifname, ns, dev);
	if (!strcmp(op, "del"))
		return gone ? nat_del_gone(pin_dir, ifname) : nat_del(pin_dir, ifname, ns, dev);
	if (!path_exists(pin_dir)) {
		err("xdpct is not attached to %s (no %s)", ifname ? ifname : pin_dir, pin_dir);
		return EXIT_FAIL;
	}
	if (nat_print(stdout, pin_dir, json, "") == 0 && !json)
		printf("no NAT handover\n");
	if (json)
		putchar('\n');
	return EXIT_OK;
}
