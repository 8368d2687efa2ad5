// SPDX-License-Identifier: GPL-2.0
/* /proc/sys is per network namespace: these are the values of the namespace
 * xdpct runs in, which must be the one of the protected servers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysctl.h"
#include "util.h"

#define TCP_MAX_WSCALE 14

/* Reads up to n whitespace-separated integers; returns how many or -errno. */
static int sysctl_read_longs(const char *name, long *vals, int n)
{
	char path[PATH_MAX], buf[256], *p, *end;
	size_t len;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	f = fopen(path, "re");
	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';

	p = buf;
	for (i = 0; i < n; i++) {
		errno = 0;
		vals[i] = strtol(p, &end, 10);
		if (end == p || errno)
			break;
		p = end;
	}
	return i ? i : -EINVAL;
}

int sysctl_read_long(const char *name, long *val)
{
	int r = sysctl_read_longs(name, val, 1);

	return r < 0 ? r : 0;
}

static int read_int(const char *name, int *val)
{
	long v;
	int r = sysctl_read_long(name, &v);

	if (r) {
		err("cannot read sysctl %s: %s", name, strerror(-r));
		return -1;
	}
	*val = (int)v;
	return 0;
}

int tcp_sysctls_read(struct tcp_sysctls *s)
{
	int r;

	if (read_int("net.ipv4.tcp_syncookies", &s->syncookies) ||
	    read_int("net.ipv4.tcp_sack", &s->sack) ||
	    read_int("net.ipv4.tcp_timestamps", &s->timestamps) ||
	    read_int("net.ipv4.tcp_window_scaling", &s->window_scaling) ||
	    read_int("net.ipv4.tcp_ecn", &s->ecn))
		return -1;
	r = sysctl_read_longs("net.ipv4.tcp_rmem", s->tcp_rmem, 3);
	if (r != 3) {
		err("cannot read sysctl net.ipv4.tcp_rmem: %s",
		    strerror(r < 0 ? -r : EINVAL));
		return -1;
	}
	r = sysctl_read_long("net.core.rmem_max", &s->rmem_max);
	if (r) {
		err("cannot read sysctl net.core.rmem_max: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static int ilog2_ul(unsigned long v)
{
	int l = -1;

	while (v) {
		v >>= 1;
		l++;
	}
	return l;
}

int kernel_wscale(const struct tcp_sysctls *s)
{
	unsigned long space;
	int ws;

	if (!s->window_scaling)
		return -1;
	/* The kernel does these in u32. */
	space = (unsigned int)s->tcp_rmem[2];
	if ((unsigned int)s->rmem_max > space)
		space = (unsigned int)s->rmem_max;
	ws = ilog2_ul(space) - 15;
	if (ws < 0)
		ws = 0;
	if (ws > TCP_MAX_WSCALE)
		ws = TCP_MAX_WSCALE;
	return ws;
}
