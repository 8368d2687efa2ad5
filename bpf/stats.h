/* SPDX-License-Identifier: GPL-2.0 */
/* The counters and the clock: in the data path's object and in the NAT
 * handover program's (bpf/nat.bpf.c), which reuses the pinned map. */
#ifndef XDPCT_STATS_H
#define XDPCT_STATS_H

/* One element: the counters, named (struct xdpct_stat_counters). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpct_stat_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_stats SEC(".maps");

/* Keeps the enum in the object's BTF, so bpftool can print names. */
enum xdpct_stat xdpct_btf_stat __attribute__((unused));

/* CLOCK_MONOTONIC_COARSE: a jiffy's resolution is plenty for timeouts,
 * 69 s cookie slots and millisecond TSvals, and it costs a memory read
 * where bpf_ktime_get_ns() reads the TSC (36 ns in this VM, bench/). */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void count(__u32 id)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&xdpct_stats, &zero);

	if (v && id < XDPCT_STAT_MAX)
		v[id] += 1;
}

#endif
