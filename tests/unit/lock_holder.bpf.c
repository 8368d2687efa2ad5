// SPDX-License-Identifier: GPL-2.0
/* test_race's stand-in for a lock holder that stopped running (a softirq
 * interrupted, a vCPU the host descheduled): it takes a flow entry's lock
 * as the data path does (bpf/flow.h) and keeps it for hold_ns. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xdpct.h"

/* the test hands it xdpct_flows4's fd (bpf_map__reuse_fd) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct xdpct_flow4_key);
	__type(value, struct xdpct_flow);
} flows SEC(".maps");

struct xdpct_flow4_key key;
__u64 hold_ns;
__u64 locked_at, released_at; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
int result;                   /* 1 held and released, < 0 not taken */

static long held_long_enough(__u64 i, void *end)
{
	return bpf_ktime_get_ns() >= *(__u64 *)end;
}

SEC("xdp")
int hold_lock(struct xdp_md *ctx)
{
	struct xdpct_flow *f = bpf_map_lookup_elem(&flows, &key);
	__u64 free, end;

	if (!f) {
		result = -1;
		return XDP_PASS;
	}
	free = *(volatile __u64 *)&f->tag & 0xffffffffULL; /* tag, lock 0 */
	if (__sync_val_compare_and_swap((__u64 *)&f->tag, free, free | 1ULL << 32) != free) {
		result = -2;
		return XDP_PASS;
	}
	locked_at = bpf_ktime_get_ns();
	end = locked_at + hold_ns;
	bpf_loop(1 << 23, held_long_enough, &end, 0);
	released_at = bpf_ktime_get_ns();
	__sync_lock_test_and_set((__u64 *)&f->tag, free);
	result = 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
