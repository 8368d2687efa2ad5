/* SPDX-License-Identifier: GPL-2.0 */
/* The maps of the connection tracking events (include/xdpct.h): in the
 * data path's object and in the syscall program's (bpf/emit.bpf.c), which
 * reuses the pinned ones. */
#ifndef XDPCT_EVMAPS_H
#define XDPCT_EVMAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPCT_CTEVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_ctevents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(map_flags, BPF_F_MMAPABLE); /* the reader renews its claim in place */
	__type(value, struct xdpct_evsub);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_evsub SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_GONE_MAX);
	__type(key, struct xdpct_flow_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_gone SEC(".maps");

/* The reader's claim, if one holds now. */
static __always_inline struct xdpct_evsub *evsub_live(__u64 now)
{
	__u32 zero = 0;
	struct xdpct_evsub *s = bpf_map_lookup_elem(&xdpct_evsub, &zero);

	return s && now < s->until_ns ? s : NULL;
}

#endif
