// SPDX-License-Identifier: GPL-2.0
/* attach / detach: load the object with its maps pinned under the pin
 * directory, write the config, attach XDP (libxdp) and TC ingress (libbpf),
 * pin the programs, and undo all of it on any failure or on detach.
 *
 * Pin directory (default /sys/fs/bpf/xdpct/IFACE), owned by xdpct alone:
 *   xdpct_config xdpct_ports xdpct_flows4 xdpct_flows6 xdpct_pending
 *   xdpct_stats                                         maps (pinned by name)
 *   prog_xdp prog_tc_in [prog_tc_out]                   programs
 * bpffs holds only BPF objects, so the ports live in the ports map and the
 * XDP mode is read back from the kernel (bpf_xdp_query). */
#include <dirent.h>
#include <errno.h>
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
#include "sysctl.h"

#define PIN_PROG_XDP    "prog_xdp"
#define PIN_PROG_TC_IN  "prog_tc_in"
#define PIN_PROG_TC_OUT "prog_tc_out"
#define PROG_XDP        "xdpct_xdp"
#define PROG_TC_IN      "xdpct_tc_in"
#define PROG_TC_OUT     "xdpct_tc_out" /* optional: attached if present */

/* Everything attach did so far, for the rollback. */
struct attach_ctx {
	const char *ifname;
	unsigned int ifindex;
	char pin_dir[PATH_MAX];
	bool made_root;          /* created XDPCT_PIN_ROOT */
	bool made_dir;           /* created pin_dir */
	struct xdpct_bpf *skel;
	struct xdp_program *xprog;
	enum xdp_attach_mode mode;
	bool xdp_attached;
	bool hook_created;       /* clsact qdisc was ours */
	struct bpf_tc_opts tc[2];/* ingress, egress filters we attached */
	bool tc_attached[2];
};

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
		    strncmp(de->d_name, "prog_", 5))
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
		tc_hook_of(&hook, c->ifindex, i == 0);
		c->tc[i].prog_fd = c->tc[i].prog_id = c->tc[i].flags = 0;
		bpf_tc_detach(&hook, &c->tc[i]);
	}
	if (c->hook_created) {
		tc_hook_of(&hook, c->ifindex, true);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	if (c->xdp_attached)
		xdp_program__detach(c->xprog, c->ifindex, c->mode, 0);
	xdp_program__close(c->xprog);
	xdpct_bpf__destroy(c->skel);
	if (c->made_dir)
		remove_pin_dir(c->pin_dir);
	if (c->made_root)
		rmdir(XDPCT_PIN_ROOT);
}

static void attach_usage(void)
{
	printf("Usage: xdpct attach IFACE [--ports LIST] [--observe LIST] [--track-all]\n"
	       "                    [--mode native|skb] [--max-conns N] [--pin-dir DIR] [-v]\n"
	       "\n"
	       "Load xdpct, attach its XDP program and its TC ingress and egress\n"
	       "filters to IFACE, answer SYNs to the protected ports with SYN cookies\n"
	       "and track their connections. Maps and programs are pinned in\n"
	       "%s/IFACE; everything stays attached after xdpct exits,\n"
	       "until `xdpct detach IFACE`.\n"
	       "\n"
	       "Connections that already exist on tracked ports are adopted: read\n"
	       "from the kernel's sockets (sock_diag) and entered in the flow tables\n"
	       "before the programs go live, so that they are not cut.\n"
	       "\n"
	       "TCP options follow this network namespace's sysctls (tcp_sack,\n"
	       "tcp_timestamps, tcp_window_scaling, tcp_ecn); net.ipv4.tcp_syncookies\n"
	       "must be non-zero. Run xdpct in the namespace of the servers.\n"
	       "\n"
	       "Options:\n"
	       "  -p, --ports LIST      ports to protect: 80,443,8000-8100\n"
	       "  -o, --observe LIST    ports to track without cookies, never dropping\n"
	       "  -a, --track-all       track every TCP flow (observe mode)\n"
	       "                        (one of --ports, --observe, --track-all is required)\n"
	       "  -m, --mode MODE       XDP mode: native (default) or skb\n"
	       "  -n, --max-conns N     entries of each flow table, IPv4 and IPv6 (default %d)\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE\n"
	       "  -v, --verbose         show libbpf/libxdp messages and the config\n"
	       "  -h, --help            this help\n",
	       XDPCT_PIN_ROOT, XDPCT_FLOWS_DEFAULT, XDPCT_PIN_ROOT);
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

static int attach_xdp(struct attach_ctx *c)
{
	char buf[256];
	int r;

	c->xprog = xdp_program__from_fd(bpf_program__fd(c->skel->progs.xdpct_xdp));
	r = libxdp_get_error(c->xprog);
	if (r) {
		c->xprog = NULL;
		libxdp_strerror(r, buf, sizeof(buf));
		err("libxdp cannot use the XDP program: %s%s", buf, vhint());
		return -1;
	}
	/* No freplace on some kernels: libxdp then attaches this one program
	 * directly instead of through its dispatcher. */
	r = xdp_program__attach(c->xprog, c->ifindex, c->mode, 0);
	if (r == -EOPNOTSUPP && c->mode == XDP_MODE_NATIVE) {
		err("%s does not support native XDP; use --mode skb", c->ifname);
		return -1;
	}
	if (r) {
		libxdp_strerror(r, buf, sizeof(buf));
		err("cannot attach XDP to %s in %s mode: %s%s", c->ifname,
		    mode_name(c->mode), buf, vhint());
		return -1;
	}
	c->xdp_attached = true;
	return 0;
}

static int attach_tc(struct attach_ctx *c, struct bpf_program *p, bool ingress)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts *o = &c->tc[ingress ? 0 : 1];
	int r;

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

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "observe", required_argument, NULL, 'o' },
		{ "track-all", no_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-conns", required_argument, NULL, 'n' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *ports_arg = NULL, *mode_arg = "native", *max_arg = NULL;
	const char *pin_arg = NULL, *observe_arg = NULL;
	bool track_all = false;
	__u32 track_flags = 0;
	unsigned int adopted = 0, more;
	static __u8 ports[NUM_PORTS];
	unsigned long long max_conns = XDPCT_FLOWS_DEFAULT;
	struct attach_ctx c = { .mode = XDP_MODE_NATIVE };
	struct bpf_xdp_query_opts q;
	struct xdpct_config cfg;
	struct tcp_sysctls s;
	struct bpf_program *tc_out;
	char list[600], name[64] = "?";
	__u32 id;
	int opt, r;

	LIBBPF_OPTS(bpf_object_open_opts, oopts);

	while ((opt = getopt_long(argc, argv, ":p:o:am:n:d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': ports_arg = optarg; break;
		case 'o': observe_arg = optarg; break;
		case 'a': track_all = true; break;
		case 'm': mode_arg = optarg; break;
		case 'n': max_arg = optarg; break;
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': attach_usage(); return EXIT_OK;
		default: return getopt_usage_err("attach", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("attach", "missing interface name");
	c.ifname = argv[optind++];
	if (optind < argc)
		return usage_err("attach", "unexpected argument '%s'", argv[optind]);
	if (!ports_arg && !observe_arg && !track_all)
		return usage_err("attach", "one of --ports, --observe or --track-all is required");
	if (!strcmp(mode_arg, "native") || !strcmp(mode_arg, "drv"))
		c.mode = XDP_MODE_NATIVE;
	else if (!strcmp(mode_arg, "skb") || !strcmp(mode_arg, "generic"))
		c.mode = XDP_MODE_SKB;
	else
		return usage_err("attach", "bad --mode '%s' (native or skb)", mode_arg);
	if (max_arg && parse_u64(max_arg, 1, UINT32_MAX, &max_conns))
		return usage_err("attach", "bad --max-conns '%s'", max_arg);

	/* The checks, in a fixed order, before anything is created. */
	if (check_root() || check_ifname(c.ifname, &c.ifindex))
		return EXIT_FAIL;
	r = tracking_parse("attach", ports_arg, observe_arg, track_all, ports, &track_flags);
	if (r)
		return r;
	if (check_bpffs("/sys/fs/bpf"))
		return EXIT_FAIL;
	if (pin_arg)
		snprintf(c.pin_dir, sizeof(c.pin_dir), "%s", pin_arg);
	else if (default_pin_dir(c.pin_dir, sizeof(c.pin_dir), c.ifname))
		return EXIT_FAIL;
	if (tcp_sysctls_read(&s))
		return EXIT_FAIL;
	if (!s.syncookies) {
		err("net.ipv4.tcp_syncookies is 0: the kernel would reset cookie connections; set it to 1");
		return EXIT_FAIL;
	}
	if (path_exists(c.pin_dir)) {
		err("xdpct is already attached to %s (%s exists; run 'xdpct detach %s')",
		    c.ifname, c.pin_dir, c.ifname);
		return EXIT_FAIL;
	}
	if (!xdp_query(c.ifindex, &q) && (id = xdp_any_prog(&q))) {
		prog_name_by_id(id, name, sizeof(name));
		if (!strcmp(name, PROG_XDP))
			err("%s already has xdpct's XDP program (id %u); run 'xdpct detach %s'",
			    c.ifname, id, c.ifname);
		else
			err("%s already has an XDP program (id %u, %s)", c.ifname,
			    id, name);
		return EXIT_FAIL;
	}
	if (config_build(&cfg, c.ifname, NULL))
		return EXIT_FAIL;
	cfg.flags |= track_flags;

	/* From here on, every failure rolls back. */
	c.made_root = !path_exists(XDPCT_PIN_ROOT);
	r = mkdir_p(c.pin_dir, 0700);
	if (r) {
		err("cannot create %s: %s", c.pin_dir, strerror(-r));
		goto fail;
	}
	c.made_dir = true;

	oopts.pin_root_path = c.pin_dir;
	c.skel = xdpct_bpf__open_opts(&oopts);
	if (!c.skel) {
		err("cannot open the BPF object: %s%s", strerror(errno), vhint());
		goto fail;
	}
	r = bpf_map__set_max_entries(c.skel->maps.xdpct_flows4, max_conns);
	if (!r)
		r = bpf_map__set_max_entries(c.skel->maps.xdpct_flows6, max_conns);
	if (r) {
		err("cannot size the flow tables: %s", strerror(-r));
		goto fail;
	}
	r = xdpct_bpf__load(c.skel);
	if (r) {
		err("cannot load the BPF object: %s%s", strerror(-r), vhint());
		goto fail;
	}
	/* Existing connections get entries before XDP can drop their ACKs. */
	r = adopt_sockets(bpf_map__fd(c.skel->maps.xdpct_flows4),
			  bpf_map__fd(c.skel->maps.xdpct_flows6), ports, track_all,
			  c.ifname, &adopted);
	if (r) {
		err("cannot adopt the existing connections: %s", strerror(-r));
		goto fail;
	}
	if (config_write(bpf_map__fd(c.skel->maps.xdpct_config),
			 bpf_map__fd(c.skel->maps.xdpct_ports), ports, &cfg))
		goto fail;

	tc_out = bpf_object__find_program_by_name(c.skel->obj, PROG_TC_OUT);
	if (pin_prog(&c, c.skel->progs.xdpct_xdp, PIN_PROG_XDP) ||
	    pin_prog(&c, c.skel->progs.xdpct_tc_in, PIN_PROG_TC_IN) ||
	    (tc_out && pin_prog(&c, tc_out, PIN_PROG_TC_OUT)))
		goto fail;

	/* TC first: once XDP passes a cookie ACK up, TC must be there to
	 * hand it to the listener. */
	if (attach_tc(&c, c.skel->progs.xdpct_tc_in, true) ||
	    (tc_out && attach_tc(&c, tc_out, false)) ||
	    attach_xdp(&c))
		goto fail;

	/* Connections opened between the dump and XDP going live: the
	 * second pass adds only what the first did not see (BPF_NOEXIST). */
	if (!adopt_sockets(bpf_map__fd(c.skel->maps.xdpct_flows4),
			   bpf_map__fd(c.skel->maps.xdpct_flows6), ports, track_all,
			   c.ifname, &more))
		adopted += more;

	tracking_describe(ports, cfg.flags, list, sizeof(list));
	if (verbose)
		config_describe(&cfg);
	info("attached to %s (%s mode), %s; adopted %u connection%s", c.ifname,
	     mode_name(c.mode), list, adopted, adopted == 1 ? "" : "s");
	/* The kernel keeps the attachments and pins; drop our references. */
	xdp_program__close(c.xprog);
	xdpct_bpf__destroy(c.skel);
	return EXIT_OK;
fail:
	rollback(&c);
	return EXIT_FAIL;
}

static void detach_usage(void)
{
	printf("Usage: xdpct detach IFACE [--pin-dir DIR] [-v]\n"
	       "\n"
	       "Remove xdpct from IFACE: its XDP program (left alone if another\n"
	       "program replaced it), its TC filters (other filters stay; the clsact\n"
	       "qdisc goes when no filter is left), and the pins in %s/IFACE.\n"
	       "If IFACE is gone, only the pins are removed.\n"
	       "\n"
	       "Options:\n"
	       "  -d, --pin-dir DIR     pin directory instead of %s/IFACE\n"
	       "  -v, --verbose         show libbpf messages\n"
	       "  -h, --help            this help\n",
	       XDPCT_PIN_ROOT, XDPCT_PIN_ROOT);
}

/* Remove our XDP program; 1 if removed, 0 if none of ours (a foreign one
 * is described in note), -1 on error. */
static int detach_xdp(const char *ifname, unsigned int ifindex, __u32 pinned_id,
		      char *note, size_t note_len)
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

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char pin_dir[PATH_MAX], note[128] = "";
	const char *ifname, *pin_arg = NULL;
	unsigned int ifindex;
	bool have_pins, done = false, failed = false;
	__u32 xdp_id, tc_in_id, tc_out_id;
	int opt, r, i;

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

	if (check_root())
		return EXIT_FAIL;
	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	ifindex = strlen(ifname) < IFNAMSIZ ? if_nametoindex(ifname) : 0;
	have_pins = path_exists(pin_dir);

	/* Pinned ids identify our programs; without pins, their names do. */
	xdp_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_XDP) : 0;
	tc_in_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_TC_IN) : 0;
	tc_out_id = have_pins ? pinned_prog_id(pin_dir, PIN_PROG_TC_OUT) : 0;

	if (ifindex) {
		r = detach_xdp(ifname, ifindex, xdp_id, note, sizeof(note));
		failed |= r < 0;
		done |= r > 0;
		for (i = 0; i < 2; i++) {
			r = tc_detach_ours(ifindex, i == 0, i ? tc_out_id : tc_in_id,
					   i ? PROG_TC_OUT : PROG_TC_IN);
			if (r < 0) {
				err("cannot remove the TC %s filter from %s: %s",
				    i ? "egress" : "ingress", ifname, strerror(-r));
				failed = true;
			}
			done |= r > 0;
		}
		/* The clsact qdisc goes once nobody has filters on it. */
		if (done && tc_count_filters(ifindex) == 0) {
			struct bpf_tc_hook hook;

			tc_hook_of(&hook, ifindex, true);
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (have_pins) {
		r = remove_pin_dir(pin_dir);
		if (r) {
			err("cannot remove %s: %s", pin_dir, strerror(-r));
			failed = true;
		}
		rmdir(XDPCT_PIN_ROOT); /* only if empty */
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
	else
		info("%s is gone; removed %s", ifname, pin_dir);
	return EXIT_OK;
}
