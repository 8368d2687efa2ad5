// SPDX-License-Identifier: GPL-2.0
/* Auto mode: per protected port, cookies while its SYN rate says attack
 * (or the listeners' queues overflow), the kernel's own handshake
 * otherwise, with hysteresis and a hold time (user/auto.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "auto.h"
#include "cmd.h"
#include "ctev.h"
#include "evict.h"

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the data path's clock */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The listeners' distress in this namespace: accept queue overflows, SYNs
 * dropped, and the kernel's own cookies (its SYN queue overflowed). */
static __u64 listen_trouble(void)
{
	static const char *const want[] = { "ListenOverflows", "ListenDrops", "SyncookiesSent" };
	char names[4096], vals[4096];
	__u64 sum = 0;
	FILE *f = fopen("/proc/net/netstat", "r");

	if (!f)
		return 0;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names + 7, " \n", &sn);
		v = strtok_r(vals + 7, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (!strcmp(n, want[i]))
					sum += strtoull(v, NULL, 10);
	}
	fclose(f);
	return sum;
}

static int set_port(struct autoctl *a, struct auto_port *ap, bool cookies)
{
	__u32 port = ap->port;
	__u8 v;

	if (bpf_map_lookup_elem(a->fd_ports, &port, &v))
		return -errno;
	v = cookies ? v | XDPCT_PORT_COOKIES : v & ~XDPCT_PORT_COOKIES;
	if (bpf_map_update_elem(a->fd_ports, &port, &v, BPF_ANY))
		return -errno;
	ap->cookies = cookies;
	return 0;
}

static void claim(struct autoctl *a, __u64 until)
{
	struct xdpct_auto v = { .until_ns = until };
	__u32 zero = 0;

	if (bpf_map_update_elem(a->fd_auto, &zero, &v, BPF_ANY))
		warn("cannot write %s: %s", XDPCT_MAP_AUTO, strerror(errno));
}

static __u64 syns_of(struct autoctl *a, __u16 port)
{
	__u32 k = port;
	__u64 sum = 0;

	if (!bpf_map_lookup_elem(a->fd_stat, &k, a->percpu))
		for (int c = 0; c < a->ncpu; c++)
			sum += a->percpu[c].syns;
	return sum;
}

int auto_start(struct autoctl *a, const char *pin_dir, __u64 on_rate, __u64 hold_s)
{
	static __u8 ports[NUM_PORTS];
	struct xdpct_profile profiles[XDPCT_PROFILES_MAX];
	bool profiles_ok;
	unsigned int n = 0;
	int pfd;
	__u32 p;

	memset(a, 0, sizeof(*a));
	a->fd_ports = a->fd_auto = a->fd_stat = -1;
	pthread_mutex_init(&a->lock, NULL);
	a->hold_ns = hold_s * 1000000000ull;
	a->ncpu = libbpf_num_possible_cpus();
	a->fd_ports = pinned_map(pin_dir, XDPCT_MAP_PORTS);
	a->fd_auto = pinned_map(pin_dir, XDPCT_MAP_AUTO);
	a->fd_stat = pinned_map(pin_dir, XDPCT_MAP_AUTOSTAT);
	if (a->fd_ports < 0 || a->fd_auto < 0 || a->fd_stat < 0 || a->ncpu <= 0) {
		err("--auto: cannot open the maps in %s (%s)", pin_dir, strerror(errno));
		goto fail;
	}
	for (p = 0; p < NUM_PORTS; p++) {
		if (bpf_map_lookup_elem(a->fd_ports, &p, &ports[p]))
			ports[p] = 0;
		n += !!(ports[p] & XDPCT_PORT_PROTECT);
	}
	if (!n) {
		err("--auto: no protected port (--ports)");
		goto fail;
	}
	if (n > XDPCT_AUTOSTAT_MAX) {
		err("--auto: %u protected ports, at most %d in auto mode", n, XDPCT_AUTOSTAT_MAX);
		goto fail;
	}
	a->p = calloc(n, sizeof(*a->p));
	a->percpu = calloc(a->ncpu, sizeof(*a->percpu)); /* zeros, until read into */
	if (!a->p || !a->percpu) {
		err("--auto: out of memory");
		goto fail;
	}
	pfd = pinned_map(pin_dir, XDPCT_MAP_PROFILES);
	profiles_ok = pfd >= 0 && !profiles_read(pfd, profiles);
	if (pfd >= 0)
		close(pfd);
	/* counters first, then the claim, then the ports: a port is auto
	 * only once all it needs is there */
	for (p = 0; p < NUM_PORTS; p++) {
		__u32 prof = ports[p] >> XDPCT_PORT_PROFILE_SHIFT;

		if (!(ports[p] & XDPCT_PORT_PROTECT))
			continue;
		if (bpf_map_update_elem(a->fd_stat, &p, a->percpu, BPF_ANY)) {
			err("--auto: cannot write %s: %s", XDPCT_MAP_AUTOSTAT, strerror(errno));
			goto fail;
		}
		a->p[a->n].on_rate = prof && profiles_ok && profiles[prof].auto_rate ?
					     profiles[prof].auto_rate : on_rate;
		a->p[a->n++].port = p;
	}
	claim(a, coarse_ns() + XDPCT_AUTO_HOLD_NS);
	for (unsigned int i = 0; i < a->n; i++) {
		__u32 port = a->p[i].port;
		__u8 v = (ports[port] | XDPCT_PORT_AUTO) & ~XDPCT_PORT_COOKIES;

		if (bpf_map_update_elem(a->fd_ports, &port, &v, BPF_ANY)) {
			err("--auto: cannot write %s: %s", XDPCT_MAP_PORTS, strerror(errno));
			goto fail;
		}
		a->p[i].prev_syns = syns_of(a, port);
	}
	a->prev_ns = mono_ns();
	a->listen_prev = listen_trouble();
	a->em = ctev_emitter_open(pin_dir);
	return 0;
fail:
	/* the ports made auto so far get cookies: nobody will decide */
	auto_stop(a, true);
	return -1;
}

/* A switch: the port's bit, a log line, an event. */
static void switch_port(struct autoctl *a, struct auto_port *ap, bool on, const char *why,
			__u64 now)
{
	int r = set_port(a, ap, on);

	if (r) {
		warn("port %u: cannot switch %s: %s", ap->port, on ? "cookies on" : "to the kernel",
		     strerror(-r));
		return;
	}
	ap->switches[on]++;
	if (on) {
		ap->on_ns = now;
		ap->calm_since_ns = 0;
		warn("port %u: %s: SYN cookies on", ap->port, why);
	} else {
		info("port %u: %s: cookies off, the kernel answers", ap->port, why);
	}
	if (ctev_listening(a->em)) {
		struct xdpct_flow f = {};

		f.packets[0] = ap->rate > 4e9 ? 4000000000u : (__u32)ap->rate;
		ctev_mode(a->em, ap->port, on, &f);
	}
}

void auto_tick(struct autoctl *a, __u64 now)
{
	double dt = (now - a->prev_ns) / 1e9;
	__u64 trouble = listen_trouble();
	bool overflow = trouble > a->listen_prev;
	char why[128];

	claim(a, coarse_ns() + XDPCT_AUTO_HOLD_NS);
	if (dt <= 0)
		return;
	pthread_mutex_lock(&a->lock);
	for (unsigned int i = 0; i < a->n; i++) {
		struct auto_port *ap = &a->p[i];
		__u64 s = syns_of(a, ap->port);

		ap->rate = (s - ap->prev_syns) / dt;
		ap->prev_syns = s;
		if (!ap->cookies) {
			if (ap->rate >= ap->on_rate) {
				snprintf(why, sizeof(why), "%.0f SYNs/s (over %llu/s)", ap->rate,
					 (unsigned long long)ap->on_rate);
				switch_port(a, ap, true, why, now);
			} else if (overflow && ap->rate > 0) {
				switch_port(a, ap, true, "the listeners' queues overflowed", now);
			}
			continue;
		}
		if (ap->rate >= ap->on_rate / 2.0)
			ap->calm_since_ns = 0;
		else if (!ap->calm_since_ns)
			ap->calm_since_ns = now;
		else if (now - ap->calm_since_ns >= a->hold_ns) {
			snprintf(why, sizeof(why), "under %.0f SYNs/s for %.0f s", ap->on_rate / 2.0,
				 a->hold_ns / 1e9);
			switch_port(a, ap, false, why, now);
		}
	}
	pthread_mutex_unlock(&a->lock);
	a->listen_prev = trouble;
	a->prev_ns = now;
}

void auto_stop(struct autoctl *a, bool keep)
{
	if (keep && a->fd_ports >= 0)
		for (unsigned int i = 0; i < a->n; i++)
			set_port(a, &a->p[i], true);
	ctev_emitter_free(a->em);
	a->em = NULL;
	free(a->p);
	free(a->percpu);
	a->p = NULL;
	a->percpu = NULL;
	a->n = 0;
	if (a->fd_ports >= 0)
		close(a->fd_ports);
	if (a->fd_auto >= 0)
		close(a->fd_auto);
	if (a->fd_stat >= 0)
		close(a->fd_stat);
	a->fd_ports = a->fd_auto = a->fd_stat = -1;
}

void auto_metrics(FILE *f, struct autoctl *a)
{
	pthread_mutex_lock(&a->lock);
	fputs("# HELP xdpct_auto_cookies 1 while an auto port answers SYNs with cookies (attack), 0 while the kernel does\n"
	      "# TYPE xdpct_auto_cookies gauge\n", f);
	for (unsigned int i = 0; i < a->n; i++)
		fprintf(f, "xdpct_auto_cookies{port=\"%u\"} %d\n", a->p[i].port, a->p[i].cookies);
	fputs("# HELP xdpct_auto_syn_rate SYNs per second without an entry to an auto port, last 100 ms\n"
	      "# TYPE xdpct_auto_syn_rate gauge\n", f);
	for (unsigned int i = 0; i < a->n; i++)
		fprintf(f, "xdpct_auto_syn_rate{port=\"%u\"} %.0f\n", a->p[i].port, a->p[i].rate);
	fputs("# HELP xdpct_auto_threshold SYNs per second that make an auto port's attack (its profile's, or --auto-syn-rate)\n"
	      "# TYPE xdpct_auto_threshold gauge\n", f);
	for (unsigned int i = 0; i < a->n; i++)
		fprintf(f, "xdpct_auto_threshold{port=\"%u\"} %llu\n", a->p[i].port,
			(unsigned long long)a->p[i].on_rate);
	fputs("# HELP xdpct_auto_switches_total Switches of an auto port, to cookies or to the kernel\n"
	      "# TYPE xdpct_auto_switches_total counter\n", f);
	for (unsigned int i = 0; i < a->n; i++) {
		fprintf(f, "xdpct_auto_switches_total{port=\"%u\",to=\"cookies\"} %llu\n",
			a->p[i].port, (unsigned long long)a->p[i].switches[1]);
		fprintf(f, "xdpct_auto_switches_total{port=\"%u\",to=\"kernel\"} %llu\n",
			a->p[i].port, (unsigned long long)a->p[i].switches[0]);
	}
	pthread_mutex_unlock(&a->lock);
}
