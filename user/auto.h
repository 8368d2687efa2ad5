/* SPDX-License-Identifier: GPL-2.0 */
/* Auto mode (include/xdpct.h): `xdpct run --auto` decides, per protected
 * port, when cookies answer and when the kernel does. */
#ifndef XDPCT_AUTO_H
#define XDPCT_AUTO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct ctev_emitter;

#define AUTO_TICK_NS 100000000ull /* decisions every 100 ms */
#define AUTO_RATE_DEFAULT 1000    /* SYNs/s on a port: an attack */
#define AUTO_HOLD_DEFAULT 30      /* s under half of it before the kernel again */

struct auto_port {
	__u16 port;
	bool cookies;           /* XDPCT_PORT_COOKIES, as written */
	__u64 on_rate;          /* its threshold: its profile's, or run's */
	__u64 prev_syns;
	double rate;            /* SYNs/s over the last tick */
	__u64 calm_since_ns;    /* cookies on, rate under half the threshold since */
	__u64 on_ns;            /* last switch to cookies */
	__u64 switches[2];      /* to the kernel, to cookies */
};

struct autoctl {
	int fd_ports, fd_auto, fd_stat;
	unsigned int n;
	struct auto_port *p;
	__u64 hold_ns;
	__u64 prev_ns, next_ns;
	__u64 listen_prev;      /* ListenOverflows + ListenDrops + SyncookiesSent */
	struct ctev_emitter *em; /* COOKIES events (NULL: none) */
	pthread_mutex_t lock;   /* p[] for the metrics thread */
	int ncpu;
	struct xdpct_autostat *percpu; /* one read of xdpct_autostat */
};

/* Every protected port of the pin directory becomes an auto port, calm
 * (the kernel answers) until an attack: 0, or -1 after an error (then
 * a's resources are freed, and any port made auto answers with cookies). */
int auto_start(struct autoctl *a, const char *pin_dir, __u64 on_rate, __u64 hold_s);
/* Renew the claim, measure, switch. Call at least every AUTO_TICK_NS. */
void auto_tick(struct autoctl *a, __u64 now);
/* keep: leave every auto port with cookies (nobody will decide). */
void auto_stop(struct autoctl *a, bool keep);
void auto_metrics(FILE *f, struct autoctl *a);

#endif
