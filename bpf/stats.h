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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpct_clock_cache);
} xdpct_clock SEC(".maps");

/* CLOCK_MONOTONIC_COARSE: a jiffy's resolution is plenty for timeouts,
 * 69 s cookie slots and millisecond TSvals. It only moves at a tick, so
 * each CPU reads it once per jiffy (bpf_jiffies64() is a load, the clock
 * a helper call: 15 ns in bench/micro's part_ktime_coarse) and keeps it
 * until the jiffy changes. The kernel counts the jiffy before it moves the
 * clock: a reading that has not moved yet is not kept. One taken late
 * after an idle spell can still be the previous tick's, so times written
 * on one CPU may be up to a tick ahead of another's now: ns_since(). */
static __always_inline __u64 now_ns(void)
{
	__u32 zero = 0;
	struct xdpct_clock_cache *c = bpf_map_lookup_elem(&xdpct_clock, &zero);
	__u64 j = bpf_jiffies64(), ns;

	if (c && c->jiffies == j)
		return c->ns;
	ns = bpf_ktime_get_coarse_ns();
	if (c && ns != c->ns) {
		/* the reading before its jiffy: a program that ran in between
		 * on this CPU never pairs the new jiffy with the old reading */
		c->ns = ns;
		asm volatile("" ::: "memory");
		c->jiffies = j;
	}
	return ns;
}

/* Time from then (a now_ns() of any CPU) to now: 0, not a wrap, when
 * another CPU's clock ran a tick ahead. */
static __always_inline __u64 ns_since(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

static __always_inline void count(__u32 id)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&xdpct_stats, &zero);

	if (v && id < XDPCT_STAT_MAX)
		v[id] += 1;
}

#endif
