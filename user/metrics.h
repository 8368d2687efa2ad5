/* SPDX-License-Identifier: GPL-2.0 */
/* The Prometheus endpoint of `xdpct run`: text exposition format 0.0.4,
 * served over HTTP by libmicrohttpd from its own thread. */
#ifndef XDPCT_METRICS_H
#define XDPCT_METRICS_H

#include <stdio.h>
#include <linux/types.h>

#include "evict.h"
#include "fleet.h"

/* What a scrape reads. Owned by the caller; must outlive the server. */
struct metrics_src {
	const char *ifname;
	const char *mode;            /* "native", "skb" */
	int fd_stats, fd_config;
	int fd_acl;                  /* xdpct_acl, -1: none */
	int fd_evsub;                /* xdpct_evsub, -1: none */
	struct autoctl *autoctl;     /* --auto, NULL: none */
	struct evictor *ev;
	const struct evict_timeouts *to;
	double start_time;           /* Unix time the process started */
	__u64 key_rotations;         /* written with __atomic, by the main loop */
	__u64 key_rotate_ns;         /* the period */
	const struct fleet_stats *fleet; /* --etcd, NULL: none */
};

/* Parse ADDR:PORT ("127.0.0.1:9790", "[::1]:9790", ":9790" for every
 * address), then socket, bind, listen. The fd, or -1 after a one-line
 * error (*usage set when the argument itself is wrong). */
int metrics_listen(const char *arg, int *usage);

struct metrics;
/* Serve on a listening fd (taken over). NULL after a one-line error. */
struct metrics *metrics_start(int fd, struct metrics_src *src);
void metrics_stop(struct metrics *m);

/* The exposition text (malloc'ed, *len set), NULL on allocation failure. */
char *metrics_render(struct metrics_src *src, size_t *len);
/* The BPF counters in the exposition format; ifname: NULL, or the
 * interface label every series gets (`xdpct stats --prometheus`). */
void metrics_counters(FILE *f, const __u64 *sums, const char *ifname);

#endif /* XDPCT_METRICS_H */
