// SPDX-License-Identifier: GPL-2.0
/* Floors: what any XDP program costs at least. Timed next to xdpct in
 * bench/micro (test_run) and put on the veth in bench/macro.sh. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpct.h"
#include "parse.h"

SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int floor_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* The cheapest responder: swap the MACs, send the frame back. */
SEC("xdp")
int floor_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char mac[6];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	return XDP_TX;
}

/* Building blocks of xdpct's per-packet work, for what bounds a figure. */
__u64 floor_sink = 0;

/* The cheapest reader: the fields any TCP filter reads (EtherType, the
 * IPv4 header, the TCP ports, flags and numbers), then XDP_DROP. It pays
 * what floor_drop never does, the first touch of the frame's bytes (in
 * the veth lab a cache line the generator's CPU wrote). */
SEC("xdp")
int floor_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(tcp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	floor_sink += ip->saddr ^ ip->daddr ^ tcp->source ^ tcp->dest ^ tcp->seq ^
		      tcp->ack_seq ^ ((__u8 *)tcp)[13];
	return XDP_DROP;
}

/* one clock read: bpf_ktime_get_ns() (CLOCK_MONOTONIC, a TSC read);
 * kept for comparison: xdpct itself reads the coarse clock below */
SEC("xdp")
int floor_ktime(struct xdp_md *ctx)
{
	floor_sink += bpf_ktime_get_ns();
	return XDP_PASS;
}

/* one clock read as xdpct's now_ns() does it: bpf_ktime_get_coarse_ns()
 * (CLOCK_MONOTONIC_COARSE, the last tick's time, no TSC read) */
SEC("xdp")
int floor_ktime_coarse(struct xdp_md *ctx)
{
	floor_sink += bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

/* the tick count, bpf_jiffies64(): the verifier inlines it into a load of
 * jiffies on x86-64 (no call); not xdpct's clock, a candidate for one */
SEC("xdp")
int floor_jiffies(struct xdp_md *ctx)
{
	floor_sink += bpf_jiffies64();
	return XDP_PASS;
}

/* one per-CPU counter bumped, as xdpct's count() does it */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} floor_stats SEC(".maps");

SEC("xdp")
int floor_counter(struct xdp_md *ctx)
{
	__u32 id = 7;
	__u64 *v = bpf_map_lookup_elem(&floor_stats, &id);

	if (v)
		*v += 1;
	return XDP_PASS;
}

/* one hit in an LRU hash shaped like xdpct_flows4, a counter bumped */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xdpct_flow4_key);
	__type(value, struct xdpct_flow);
} floor_flows SEC(".maps");

SEC("xdp")
int floor_lru(struct xdp_md *ctx)
{
	struct xdpct_flow4_key k = { .raddr = 0x0100000a, .laddr = 0x0200000a,
				     .rport = 0x409c, .lport = 0x901f };
	struct xdpct_flow *f = bpf_map_lookup_elem(&floor_flows, &k);

	if (f)
		f->packets[0]++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
