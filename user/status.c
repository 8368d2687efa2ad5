// SPDX-License-Identifier: GPL-2.0
/* status: every interface xdpct is attached to, found by its pin directory
 * under XDPCT_PIN_ROOT: programs (ids, attached or not, XDP mode), ports,
 * map fill, states, key age, uptime, and the `xdpct run` holding it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "evict.h"

static const char *const prog_files[3] = { "prog_xdp", "prog_tc_in", "prog_tc_out" };
static const char *const prog_labels[3] = { "xdp", "tc_ingress", "tc_egress" };

struct iface_status {
	char ifname[256];
	char pin_dir[PATH_MAX];
	unsigned int ifindex;           /* 0: gone (or made again since) */
	struct xdpct_owner owner;       /* have_owner: xdpct_owner */
	bool have_owner;
	bool foreign;                   /* another namespace's */
	__u32 prog_id[3];
	bool attached[3];
	double prog_age_s;              /* since the XDP program was loaded */
	const char *mode;
	char protect[256], observe[256];
	__u8 ports[NUM_PORTS];          /* have_ports: the ports map */
	bool have_ports;
	bool track_all, have_cfg;
	struct xdpct_config cfg;
	struct evict_timeouts to;       /* in force: the config's, or the defaults */
	bool timeouts_set;              /* some set by `xdpct run` */
	double key_age_s;
	struct evict_totals t;          /* counts (a dry pass) */
	__u64 expired;                  /* past their timeout, not removed yet */
	bool have_maps;
	double uptime_s;                /* since the maps were pinned */
	long run_pid;                   /* 0: no xdpct run */
	long events_pid;                /* 0: no `xdpct events` reader */
	__u64 events_lost;              /* events lost to a full ring */
	struct xdpct_acl_key *acl;      /* the allow and deny lists */
	__u8 *acl_act;
	size_t nacl;
	bool have_acl;
	struct xdpct_synlimit synlimit; /* the SYN rate limit */
	bool have_synlimit;
	struct xdpct_profile profiles[XDPCT_PROFILES_MAX];
	bool have_profiles;
	bool have_proxy;                /* xdpct_proxy read */
	__u64 proxy_open, proxy_waiting; /* its entries: open, SYN sent */
};

static void status_usage(void)
{
	printf("Usage: xdpct status [IFACE...] [-j]\n"
	       "\n"
	       "Show every interface of this network namespace xdpct is attached to\n"
	       "(each pin directory: %s/IFACE in the initial namespace,\n"
	       "%s/netns:COOKIE/IFACE in another), or the ones named: the\n"
	       "programs (ids, whether each is\n"
	       "attached, the XDP mode, time since they were loaded: an attach or the\n"
	       "last reload), the ports, how full the flow tables and the pending map\n"
	       "are and the connections by state (entries past their timeout are\n"
	       "counted apart), the timeouts in force (those `xdpct run` set, else\n"
	       "the defaults), the cookie key's epoch and age, the uptime (since the\n"
	       "maps were pinned) and the `xdpct run` process, if any.\n"
	       "Other namespaces' attachments are not listed; in the initial namespace\n"
	       "a last line counts them. An interface deleted since xdpct attached is\n"
	       "listed as gone.\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json     a JSON array, one object per interface\n"
	       "  -h, --help     this help\n", XDPCT_PIN_ROOT, XDPCT_PIN_ROOT);
}

static __u32 pinned_id(const char *dir, const char *file, double *age_s)
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
	else if (age_s)
		*age_s = (mono_ns() - pi.load_time) / 1e9; /* ns since boot */
	close(fd);
	return pi.id;
}

static long run_pid_of(const char *ifname)
{
	char path[PATH_MAX], buf[32];
	long pid = 0;
	ssize_t n;
	int fd;

	if (run_lock_path(path, sizeof(path), ifname))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* a lock we can take is a lock nobody holds: a stale file */
	if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			pid = strtol(buf, NULL, 10);
		}
		if (pid <= 0)
			pid = -1;
	}
	close(fd);
	return pid;
}

static int open_map(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* Where the NAT handovers are pinned: a member's are its primary's. */
static const char *nat_dir(const struct iface_status *s)
{
	static char pd[PATH_MAX];

	return group_primary_dir(s->pin_dir, pd, sizeof(pd), NULL) ? s->pin_dir : pd;
}

static void collect(struct iface_status *s)
{
	static __u8 ports[NUM_PORTS];
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	char path[PATH_MAX + 32];
	struct stat st;
	__u32 zero = 0, key;
	int fd[EV_MAPS], fdc, fdp, i;

	s->ifindex = strlen(s->ifname) < IFNAMSIZ ? if_nametoindex(s->ifname) : 0;
	s->have_owner = !owner_read(s->pin_dir, &s->owner);
	/* an interface made again under the name is not the one attached;
	 * nor is this namespace's, pins another one left at its path (an
	 * older xdpct keyed them by name alone) */
	s->foreign = owner_check(s->pin_dir, 0, true) < 0;
	if (s->ifindex && (s->foreign || owner_check(s->pin_dir, s->ifindex, true)))
		s->ifindex = 0;
	for (i = 0; i < 3; i++)
		s->prog_id[i] = pinned_id(s->pin_dir, prog_files[i], i ? NULL : &s->prog_age_s);
	s->mode = "none";
	timeouts_default(&s->to);
	if (s->ifindex && !bpf_xdp_query(s->ifindex, 0, &q)) {
		__u32 cur = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
			    q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;

		s->attached[0] = cur && cur == s->prog_id[0];
		if (s->attached[0])
			s->mode = q.attach_mode == XDP_ATTACHED_SKB ? "skb" :
				  q.attach_mode == XDP_ATTACHED_HW ? "hw" : "native";
	}
	for (i = 1; i < 3 && s->ifindex; i++) {
		__u32 h, p;

		s->attached[i] = tcx_find(s->ifindex, i == 1, s->prog_id[i]) > 0 ||
				 tc_find_ours(s->ifindex, i == 1, s->prog_id[i], &h, &p) > 0;
	}
	fdc = open_map(s->pin_dir, XDPCT_MAP_CONFIG);
	if (fdc >= 0) {
		s->have_cfg = !bpf_map_lookup_elem(fdc, &zero, &s->cfg);
		if (s->have_cfg) {
			__u64 now = mono_ns();

			s->track_all = s->cfg.flags & XDPCT_CFG_TRACK_ALL;
			s->key_age_s = now > s->cfg.key_set_ns ? (now - s->cfg.key_set_ns) / 1e9 : 0;
			timeouts_from_config(&s->to, &s->cfg);
			s->timeouts_set = timeouts_in_config(&s->cfg);
		}
		close(fdc);
	}
	snprintf(s->protect, sizeof(s->protect), "?");
	snprintf(s->observe, sizeof(s->observe), "?");
	fdp = open_map(s->pin_dir, XDPCT_MAP_PORTS);
	if (fdp >= 0) {
		bool ok = true;

		for (key = 0; key < NUM_PORTS && ok; key++)
			ok = !bpf_map_lookup_elem(fdp, &key, &ports[key]);
		if (ok) {
			memcpy(s->ports, ports, sizeof(s->ports));
			s->have_ports = true;
			format_ports(ports, XDPCT_PORT_PROTECT, s->protect, sizeof(s->protect));
			format_ports(ports, XDPCT_PORT_OBSERVE, s->observe, sizeof(s->observe));
		}
		close(fdp);
	}
	for (i = 0; i < EV_MAPS; i++)
		fd[i] = open_map(s->pin_dir, evict_map_name(i));
	if (fd[EV_FLOWS4] >= 0 && fd[EV_FLOWS6] >= 0 && fd[EV_PENDING] >= 0) {
		struct evictor e;

		if (!evictor_init(&e, fd, &s->to)) {
			int m;

			e.dry_run = true;
			s->have_maps = !evict_pass(&e);
			evict_totals_get(&e, &s->t);
			evictor_free(&e);
			for (m = 0; m < EV_MAPS; m++)
				for (i = 0; i < EVR_MAX && ev_flows(m); i++)
					s->expired += s->t.evicted[m][i];
		}
	}
	for (i = 0; i < EV_MAPS; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	/* bpffs inodes carry their creation time; the map pins are made at
	 * attach and kept by reloads */
	snprintf(path, sizeof(path), "%s/%s", s->pin_dir, XDPCT_MAP_CONFIG);
	if (!stat(path, &st))
		s->uptime_s = difftime(time(NULL), st.st_ctime);
	s->run_pid = run_pid_of(s->ifname);
	fdp = open_map(s->pin_dir, XDPCT_MAP_ACL);
	if (fdp >= 0) {
		s->have_acl = !acl_read(fdp, &s->acl, &s->acl_act, &s->nacl);
		close(fdp);
	}
	fdp = open_map(s->pin_dir, XDPCT_MAP_SYNLIMIT);
	if (fdp >= 0) {
		__u32 zero = 0;

		s->have_synlimit = !bpf_map_lookup_elem(fdp, &zero, &s->synlimit);
		close(fdp);
	}
	fdp = open_map(s->pin_dir, XDPCT_MAP_EVSUB);
	if (fdp >= 0) {
		struct xdpct_evsub es;
		struct timespec ts;
		__u32 zero = 0;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		if (!bpf_map_lookup_elem(fdp, &zero, &es)) {
			if ((__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec < es.until_ns)
				s->events_pid = es.pid;
			s->events_lost = es.lost;
		}
		close(fdp);
	}
	fdp = open_map(s->pin_dir, XDPCT_MAP_PROFILES);
	if (fdp >= 0) {
		s->have_profiles = s->have_ports && !profiles_read(fdp, s->profiles);
		close(fdp);
	}
	fdp = open_map(s->pin_dir, XDPCT_MAP_PROXY);
	if (fdp >= 0) {
		struct xdpct_flow_key k = {}, next; /* family 0: no entry, the walk's start */
		struct xdpct_proxy px;

		while (!bpf_map_get_next_key(fdp, &k, &next)) {
			k = next;
			if (bpf_map_lookup_elem(fdp, &k, &px))
				continue;
			if (px.state == XDPCT_PROXY_OPEN)
				s->proxy_open++;
			else
				s->proxy_waiting++;
		}
		s->have_proxy = true;
		close(fdp);
	}
}

/* One list's prefixes, comma-separated (text) or a JSON array. */
static void print_acl(const struct iface_status *s, __u8 action, bool json)
{
	size_t i, n = 0;
	char p[64];

	if (json)
		printf("[");
	for (i = 0; i < s->nacl; i++) {
		if (s->acl_act[i] != action)
			continue;
		acl_format(&s->acl[i], p, sizeof(p));
		if (json) {
			printf("%s", n ? "," : "");
			json_string(stdout, p);
		} else {
			printf("%s%s", n ? ", " : " ", p);
		}
		n++;
	}
	printf("%s", json ? "]" : n ? "\n" : " none\n");
}

static void dur(char *buf, size_t len, double s)
{
	unsigned long v = s < 0 ? 0 : (unsigned long)s;

	if (v < 120)
		snprintf(buf, len, "%lus", v);
	else if (v < 7200)
		snprintf(buf, len, "%lum%02lus", v / 60, v % 60);
	else if (v < 172800)
		snprintf(buf, len, "%luh%02lum", v / 3600, v / 60 % 60);
	else
		snprintf(buf, len, "%lud%02luh", v / 86400, v / 3600 % 24);
}

static double pct(__u64 n, __u32 max)
{
	return max ? 100.0 * n / max : 0;
}

static void print_text(const struct iface_status *s)
{
	char a[32], b[32];
	int i, n = 0;

	printf("%s:\n", s->ifname);
	if (s->foreign)
		printf("  interface  another network namespace's: not this namespace's %s\n", s->ifname);
	else if (!s->ifindex)
		printf("  interface  gone: deleted since xdpct attached (`xdpct detach %s` removes the pins)\n",
		       s->ifname);
	printf("  pins       %s\n", s->pin_dir);
	dur(a, sizeof(a), s->prog_age_s);
	printf("  programs  ");
	for (i = 0; i < 3; i++)
		printf(" %s %u (%s)%s", prog_labels[i], s->prog_id[i],
		       s->attached[i] ? "attached" : "NOT attached", i < 2 ? "," : "");
	printf("\n  mode       %s; programs loaded %s ago\n", s->mode, a);
	printf("  ports      protecting %s; observing %s; track-all %s\n", s->protect,
	       s->observe, s->track_all ? "on" : "off");
	if (s->have_maps) {
		printf("  flows      ipv4 %llu/%u (%.2f%%), ipv6 %llu/%u (%.2f%%), pending %llu/%u (%.2f%%)\n",
		       (unsigned long long)s->t.entries[0], s->t.max_entries[0],
		       pct(s->t.entries[0], s->t.max_entries[0]),
		       (unsigned long long)s->t.entries[1], s->t.max_entries[1],
		       pct(s->t.entries[1], s->t.max_entries[1]),
		       (unsigned long long)s->t.entries[2], s->t.max_entries[2],
		       pct(s->t.entries[2], s->t.max_entries[2]));
		printf("  states    ");
		for (i = 0; i < XDPCT_CT_MAX; i++) {
			__u64 c = s->t.conns[0][i] + s->t.conns[1][i];

			if (c)
				printf("%s %s %llu", n++ ? "," : "", evict_reason_name(i),
				       (unsigned long long)c);
		}
		printf("%s; %llu pending, %llu past their timeout\n", n ? "" : " none",
		       (unsigned long long)s->t.pending_flows, (unsigned long long)s->expired);
	}
	if (s->have_cfg) {
		char tos[256];

		timeouts_describe(&s->to, tos, sizeof(tos));
		printf("  timeouts   %s%s\n", tos, s->timeouts_set ? "" : " (defaults)");
		dur(a, sizeof(a), s->key_age_s);
		printf("  cookie key epoch %u, age %s%s\n", s->cfg.key_epoch, a,
		       s->cfg.flags & XDPCT_CFG_FLEET ? " (a fleet's: xdpct run --etcd)" : "");
	}
	if (s->have_acl) {
		printf("  allow     ");
		print_acl(s, XDPCT_ACL_ALLOW, false);
		printf("  deny      ");
		print_acl(s, XDPCT_ACL_DENY, false);
	}
	if (s->have_synlimit) {
		char d[128];

		synlimit_describe(&s->synlimit, d, sizeof(d));
		printf("  syn limit  %s\n", d);
	}
	if (s->have_ports) {
		bool any = false;

		for (unsigned int p = 0; p < NUM_PORTS; p++) {
			if ((s->ports[p] & (XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO)) !=
			    (XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO))
				continue;
			printf("%s%u:%s", any ? " " : "  auto       ", p,
			       s->ports[p] & XDPCT_PORT_COOKIES ? "cookies" : "kernel");
			any = true;
		}
		if (any)
			putchar('\n');
	}
	if (s->have_profiles) {
		printf("  profiles   ");
		profiles_print(stdout, s->ports, s->profiles, false);
		putchar('\n');
		if (s->have_proxy && profiles_have(s->profiles, XDPCT_HANDOVER_PROXY))
			printf("  proxy      %llu connections to servers open, %llu waiting for their server\n",
			       (unsigned long long)s->proxy_open, (unsigned long long)s->proxy_waiting);
	}
	if (path_exists(s->pin_dir)) {
		static char buf[8192];
		FILE *m = fmemopen(buf, sizeof(buf), "w");

		/* "  nat        netns ..." then the others aligned under it */
		if (m && nat_print(m, nat_dir(s), false, "             ") > 0) {
			fclose(m);
			m = NULL;
			printf("  nat        %s", buf + 13);
		}
		if (m)
			fclose(m);
	}
	if (s->have_owner && (s->owner.flags & XDPCT_OWNER_MEMBER)) {
		char pn[IF_NAMESIZE] = "?";

		if (!if_indextoname(s->owner.group, pn))
			snprintf(pn, sizeof(pn), "ifindex %u", s->owner.group);
		printf("  group      shares the maps and key of %s\n", pn);
	} else if (s->ifindex) {
		char names[64][16];
		int n = group_members(s->ifindex, names, 64);

		if (n > 0) {
			printf("  group      shared with");
			for (int i = 0; i < n; i++)
				printf("%s%s", i ? "," : " ", names[i]);
			putchar('\n');
		}
	}
	dur(b, sizeof(b), s->uptime_s);
	printf("  uptime     %s\n", b);
	if (s->run_pid > 0)
		printf("  run        pid %ld\n", s->run_pid);
	else
		printf("  run        none\n");
	if (s->events_pid > 0)
		printf("  events     reader pid %ld, %llu lost\n", s->events_pid,
		       (unsigned long long)s->events_lost);
	else
		printf("  events     no reader (nothing sent), %llu lost\n",
		       (unsigned long long)s->events_lost);
}

static void print_json(const struct iface_status *s, bool first)
{
	int i;

	printf("%s{\"ifname\":", first ? "" : ",\n");
	json_string(stdout, s->ifname);
	printf(",\"pin_dir\":");
	json_string(stdout, s->pin_dir);
	printf(",\"in_netns\":%s,\"ifindex\":%u,\"netns_cookie\":%llu,\"mode\":\"%s\",\"programs\":{",
	       s->ifindex ? "true" : "false", s->ifindex,
	       (unsigned long long)(s->have_owner ? s->owner.netns_cookie : s->cfg.netns_cookie),
	       s->mode);
	for (i = 0; i < 3; i++)
		printf("%s\"%s\":{\"id\":%u,\"attached\":%s}", i ? "," : "", prog_labels[i],
		       s->prog_id[i], s->attached[i] ? "true" : "false");
	printf("},\"programs_age_s\":%.0f,\"ports\":{\"protect\":", s->prog_age_s);
	if (s->have_ports)
		json_ports(stdout, s->ports, XDPCT_PORT_PROTECT);
	else
		printf("null");
	printf(",\"observe\":");
	if (s->have_ports)
		json_ports(stdout, s->ports, XDPCT_PORT_OBSERVE);
	else
		printf("null");
	printf(",\"track_all\":%s}", s->track_all ? "true" : "false");
	if (s->have_maps) {
		printf(",\"maps\":{");
		for (i = 0; i < EV_MAPS; i++)
			printf("%s\"%s\":{\"entries\":%llu,\"max_entries\":%u,\"fill\":%.6f}",
			       i ? "," : "", evict_map_name(i), (unsigned long long)s->t.entries[i],
			       s->t.max_entries[i],
			       s->t.max_entries[i] ? (double)s->t.entries[i] / s->t.max_entries[i] : 0);
		printf("},\"states\":{");
		for (i = 0; i < XDPCT_CT_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", evict_reason_name(i),
			       (unsigned long long)(s->t.conns[0][i] + s->t.conns[1][i]));
		printf("},\"pending_flows\":%llu,\"expired\":%llu",
		       (unsigned long long)s->t.pending_flows, (unsigned long long)s->expired);
	}
	if (s->have_cfg) {
		printf(",\"timeouts\":{");
		for (i = 1; i < XDPCT_CT_MAX; i++)
			printf("%s\"%s\":%llu", i > 1 ? "," : "", evict_reason_name(i),
			       (unsigned long long)(s->to.ns[i] / 1000000000ull));
		if (s->to.pending_ns % 1000000000ull)
			printf(",\"pending\":%.3f}", s->to.pending_ns / 1e9);
		else
			printf(",\"pending\":%llu}",
			       (unsigned long long)(s->to.pending_ns / 1000000000ull));
		printf(",\"timeouts_set\":%s,\"key_epoch\":%u,\"key_age_s\":%.1f,\"key_fleet\":%s",
		       s->timeouts_set ? "true" : "false", s->cfg.key_epoch, s->key_age_s,
		       s->cfg.flags & XDPCT_CFG_FLEET ? "true" : "false");
	}
	if (s->have_acl) {
		printf(",\"allow\":");
		print_acl(s, XDPCT_ACL_ALLOW, true);
		printf(",\"deny\":");
		print_acl(s, XDPCT_ACL_DENY, true);
	}
	if (s->have_synlimit) {
		printf(",\"syn_limit\":");
		synlimit_json(stdout, &s->synlimit);
	}
	if (s->have_ports) {
		bool any = false;

		printf(",\"auto\":[");
		for (unsigned int p = 0; p < NUM_PORTS; p++) {
			if ((s->ports[p] & (XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO)) !=
			    (XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO))
				continue;
			printf("%s{\"port\":%u,\"cookies\":%s}", any ? "," : "", p,
			       s->ports[p] & XDPCT_PORT_COOKIES ? "true" : "false");
			any = true;
		}
		putchar(']');
	}
	if (s->have_profiles) {
		printf(",\"profiles\":");
		profiles_print(stdout, s->ports, s->profiles, true);
	}
	if (s->have_proxy)
		printf(",\"proxy\":{\"open\":%llu,\"waiting\":%llu}",
		       (unsigned long long)s->proxy_open, (unsigned long long)s->proxy_waiting);
	if (path_exists(s->pin_dir)) {
		printf(",\"nat\":");
		nat_print(stdout, nat_dir(s), true, "");
	}
	if (s->have_owner && (s->owner.flags & XDPCT_OWNER_MEMBER)) {
		char pn[IF_NAMESIZE] = "";

		printf(",\"shares\":");
		json_string(stdout, if_indextoname(s->owner.group, pn) ? pn : "");
	} else {
		char names[64][16];
		int n = s->ifindex ? group_members(s->ifindex, names, 64) : 0;

		printf(",\"shared_with\":[");
		for (int i = 0; i < n; i++) {
			if (i)
				putchar(',');
			json_string(stdout, names[i]);
		}
		putchar(']');
	}
	printf(",\"uptime_s\":%.0f,\"run_pid\":%ld,\"events_pid\":%ld,\"events_lost\":%llu}",
	       s->uptime_s, s->run_pid > 0 ? s->run_pid : 0, s->events_pid,
	       (unsigned long long)s->events_lost);
}

/* Pin directories under root/sub (another namespace's attachments). */
static unsigned int count_dirs(const char *root, const char *sub)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' && de->d_type == DT_DIR;
	closedir(d);
	return n;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char **names = NULL;
	size_t n = 0, cap = 0, i, shown = 0;
	bool json = false;
	char root[PATH_MAX];
	unsigned int others = 0;
	struct iface_status *s;
	struct dirent *de;
	int opt, ret = EXIT_OK;
	DIR *d;

	while ((opt = getopt_long(argc, argv, ":jvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'v': verbose++; break;
		case 'h': status_usage(); return EXIT_OK;
		default: return getopt_usage_err("status", opt, argv);
		}
	}
	if (check_caps(XDPCT_CAPS_MAPS))
		return EXIT_FAIL;
	if (optind < argc) {
		names = argv + optind;
		n = argc - optind;
	} else {
		if (netns_pin_root(root, sizeof(root)))
			return EXIT_FAIL;
		d = opendir(root);
		if (d) {
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.' || de->d_type != DT_DIR)
					continue;
				/* netns:COOKIE: another namespace's, never an interface */
				if (strchr(de->d_name, ':')) {
					others += count_dirs(root, de->d_name);
					continue;
				}
				if (n == cap) {
					char **p = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*p));

					if (!p)
						break;
					names = p;
				}
				names[n++] = strdup(de->d_name);
			}
			closedir(d);
		}
		if (n)
			qsort(names, n, sizeof(*names), name_cmp);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return EXIT_FAIL;
	if (json)
		fputs("[", stdout);
	for (i = 0; i < n; i++) {
		memset(s, 0, sizeof(*s));
		snprintf(s->ifname, sizeof(s->ifname), "%s", names[i]);
		if (default_pin_dir(s->pin_dir, sizeof(s->pin_dir), s->ifname)) {
			ret = EXIT_FAIL;
			continue;
		}
		if (!path_exists(s->pin_dir)) {
			err("xdpct is not attached to %s (no %s)", s->ifname, s->pin_dir);
			ret = EXIT_FAIL;
			continue;
		}
		collect(s);
		if (json)
			print_json(s, shown++ == 0);
		else
			print_text(s);
		free(s->acl);
		free(s->acl_act);
	}
	if (json)
		fputs(shown ? "\n]\n" : "]\n", stdout);
	else if (!n)
		printf("xdpct is attached to no interface of this network namespace\n");
	if (!json && others)
		printf("(and to %u interface%s of other network namespaces: `xdpct status` there shows them)\n",
		       others, others == 1 ? "" : "s");
	if (optind >= argc) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	free(s);
	return ret;
}

/* pin-dir: the paths xdpct uses for an interface in this namespace, for
 * scripts and tools (bpftool map dump pinned "$(xdpct pin-dir eth0)/...")
 * that must not rebuild the netns key themselves. */
int cmd_pin_dir(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lock", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char path[PATH_MAX];
	bool lock = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":lh", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': lock = true; break;
		case 'h':
			printf("Usage: xdpct pin-dir IFACE [--lock]\n"
			       "\n"
			       "Print the pin directory xdpct uses for IFACE in this network\n"
			       "namespace, attached or not: %s/IFACE in the initial\n"
			       "namespace, %s/netns:COOKIE/IFACE in any other (COOKIE:\n"
			       "the namespace's SO_NETNS_COOKIE, unique until reboot).\n"
			       "\n"
			       "Options:\n"
			       "  -l, --lock     the lock file of `xdpct run` instead (%s/...)\n"
			       "  -h, --help     this help\n",
			       XDPCT_PIN_ROOT, XDPCT_PIN_ROOT, XDPCT_RUN_DIR);
			return EXIT_OK;
		default: return getopt_usage_err("pin-dir", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("pin-dir", "missing interface name");
	if (optind + 1 < argc)
		return usage_err("pin-dir", "unexpected argument '%s'", argv[optind + 1]);
	if ((lock ? run_lock_path : default_pin_dir)(path, sizeof(path), argv[optind]))
		return EXIT_FAIL;
	printf("%s\n", path);
	return EXIT_OK;
}
