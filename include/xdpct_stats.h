/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace side of xdpct_stats (layout: xdpct.h): the counters summed over
 * the CPUs. Header-only: the CLI, the unit tests and bench/ share it. */
#ifndef XDPCT_STATS_H
#define XDPCT_STATS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpct.h"

/* Fills sums (XDPCT_STAT_MAX 64-bit counters; void: __u64 or uint64_t;
 * zeros on failure); 0, or -EINVAL when fd is not a stats map of this layout (an older
 * xdpct's), or -errno. */
static inline int xdpct_stats_sum(int fd, void *sums)
{
	__u64 s[XDPCT_STAT_MAX] = {};
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), key = 0;
	int ncpu = libbpf_num_possible_cpus(), cpu, i, r = 0;
	struct xdpct_stat_counters *vals;

	memcpy(sums, s, sizeof(s));
	if (ncpu < 0)
		return ncpu;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (mi.type != BPF_MAP_TYPE_PERCPU_ARRAY || mi.key_size != 4 ||
	    mi.value_size != sizeof(*vals) || mi.max_entries != 1)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		r = -errno;
	} else {
		for (cpu = 0; cpu < ncpu; cpu++)
			for (i = 0; i < XDPCT_STAT_MAX; i++)
				s[i] += ((const __u64 *)&vals[cpu])[i];
		memcpy(sums, s, sizeof(s));
	}
	free(vals);
	return r;
}

#endif
