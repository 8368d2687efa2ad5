/* SPDX-License-Identifier: GPL-2.0 */
/* The TCP sysctls of the current network namespace that shape a SYN-ACK. */
#ifndef XDPCT_SYSCTL_H
#define XDPCT_SYSCTL_H

#include <stdbool.h>

struct tcp_sysctls {
	int syncookies;      /* net.ipv4.tcp_syncookies */
	int sack;            /* net.ipv4.tcp_sack */
	int timestamps;      /* net.ipv4.tcp_timestamps */
	int window_scaling;  /* net.ipv4.tcp_window_scaling */
	int ecn;             /* net.ipv4.tcp_ecn */
	long tcp_rmem[3];    /* net.ipv4.tcp_rmem */
	long rmem_max;       /* net.core.rmem_max */
};

/* Read one integer sysctl, name in dotted form. 0 or -errno. */
int sysctl_read_long(const char *name, long *val);
/* Read all of struct tcp_sysctls; one-line error on failure. 0 or -1. */
int tcp_sysctls_read(struct tcp_sysctls *s);
/* The window shift the kernel would put in its own SYN-ACK
 * (tcp_select_initial_window): ilog2(max(tcp_rmem[2], rmem_max)) - 15,
 * clamped to [0, 14]. -1 when window scaling is off. */
int kernel_wscale(const struct tcp_sysctls *s);

#endif /* XDPCT_SYSCTL_H */
