// SPDX-License-Identifier: GPL-2.0
/* The xdpct_seen bitmap, for the subcommands (helpers: xdpct_seen.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "cmd.h"
#include "xdpct_seen.h"

/* A group's rebuilds take the primary's lock: one table, one lock. */
static void seen_group_lock(const char *pin_dir, struct xdpct_seen *s)
{
	char p[PATH_MAX];
	int fd;

	if (s->lock_fd < 0 || group_primary_dir(pin_dir, p, sizeof(p), NULL))
		return;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = fd;
	}
}

int seen_attach_map(int map_fd, const char *pin_dir, struct xdpct_seen *s)
{
	int r = xdpct_seen_map(map_fd, pin_dir, s);

	if (!r)
		seen_group_lock(pin_dir, s);

	if (r == -EINVAL)
		err("the %s map in %s is not this build's (an mmap-able array of %u + 2 x 2^(shift - 6) + 2 x %u words): 'xdpct detach' starts afresh",
		    XDPCT_MAP_SEEN, pin_dir, XDPCT_SEEN_HDR_WORDS, XDPCT_SEEN_SUM_WORDS);
	else if (r)
		err("cannot mmap() the %s map: %s (xdpct needs a kernel with mmap-able BPF arrays, 5.5+)",
		    XDPCT_MAP_SEEN, strerror(-r));
	return r ? -1 : 0;
}

int seen_open_pinned(const char *pin_dir, struct xdpct_seen *s)
{
	int r = xdpct_seen_open(pin_dir, s);

	if (!r)
		seen_group_lock(pin_dir, s);
	if (r == -ENOENT)
		return 0; /* maps of a build without it: its programs do not read it */
	if (r == -EINVAL)
		err("the %s map in %s is not this build's (an mmap-able array of %u + 2 x 2^(shift - 6) + 2 x %u words): 'xdpct detach' starts afresh",
		    XDPCT_MAP_SEEN, pin_dir, XDPCT_SEEN_HDR_WORDS, XDPCT_SEEN_SUM_WORDS);
	else if (r)
		err("cannot open or mmap() %s/%s: %s (xdpct needs mmap-able BPF arrays, Linux 5.5+)",
		    pin_dir, XDPCT_MAP_SEEN, strerror(-r));
	return r ? -1 : 0;
}

/* The ports map, whole. */
int ports_read(int fd, __u8 ports[NUM_PORTS])
{
	for (__u32 i = 0; i < NUM_PORTS; i++)
		if (bpf_map_lookup_elem(fd, &i, &ports[i]))
			return -errno;
	return 0;
}

int seen_rebuild(const struct xdpct_seen *s, int fd4, int fd6, int ports_fd)
{
	static __u8 ports[NUM_PORTS];
	struct xdpct_flow_key *keys = NULL;
	size_t n = 0;
	int r = 0;

	if (!s->w)
		return 0;
	/* the sockets too: a connection whose entry went keeps its bit, so
	 * that its next packet finds the socket (bpf/xdp.h) */
	if (ports_fd >= 0) {
		r = ports_read(ports_fd, ports);
		if (!r)
			r = protected_socket_keys(ports, &keys, &n);
	}
	if (!r)
		r = xdpct_seen_rebuild(s, fd4, fd6, keys, n);
	free(keys);
	if (r)
		err("cannot rebuild the %s filter: %s", XDPCT_MAP_SEEN, strerror(-r));
	return r ? -1 : 0;
}
