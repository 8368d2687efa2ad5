/* SPDX-License-Identifier: GPL-2.0 */
/* The maps of the data path (keys and values: include/xdpct.h), the
 * counters and the clock. */
#ifndef XDPCT_MAPS_H
#define XDPCT_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE); /* key rotation: ordered stores */
	__type(key, __u32);
	__type(value, struct xdpct_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_ports SEC(".maps");

/* max_entries of both flow maps is set by the loader (--max-conns) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_FLOWS_DEFAULT);
	__type(key, struct xdpct_flow4_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_FLOWS_DEFAULT);
	__type(key, struct xdpct_flow6_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_flows6 SEC(".maps");

/* Flows that began with an unvalidated SYN (observed ports, --track-all):
 * apart, so that they never push out a protected entry. Sized by the
 * loader (--max-observed). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_OBSERVED_DEFAULT);
	__type(key, struct xdpct_flow4_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_observed4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_OBSERVED_DEFAULT);
	__type(key, struct xdpct_flow6_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_observed6 SEC(".maps");

/* This namespace's addresses (XDPCT_CFG_LOCAL_ONLY), kept by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPCT_LOCAL_MAX);
	__type(key, struct xdpct_local_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_local SEC(".maps");

/* Allow and deny lists of remote prefixes (XDPCT_CFG_ACL), kept by
 * userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XDPCT_ACL_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpct_acl_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_acl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_PENDING_MAX);
	__type(key, struct xdpct_flow_key);
	__type(value, struct xdpct_pending);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_pending SEC(".maps");

/* Proxy ports' connections to their servers (attach sizes it like the
 * flow tables; entries cost memory only while they exist). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpct_flow_key);
	__type(value, struct xdpct_proxy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_proxy SEC(".maps");

/* Auto mode: run's claim, and the SYN counts of the auto ports. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpct_auto);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_auto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XDPCT_AUTOSTAT_MAX);
	__type(key, __u32);
	__type(value, struct xdpct_autostat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_autostat SEC(".maps");

/* Per-port SYN-ACK profiles, indexed by a port's high bits, kept by
 * userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPCT_PROFILES_MAX);
	__type(key, __u32);
	__type(value, struct xdpct_profile);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_profiles SEC(".maps");

/* SYN rate limits per source prefix, kept by userspace, and the buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpct_synlimit);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_synlimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_SYNRATE_MAX);
	__type(key, struct xdpct_synrate_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_synrate SEC(".maps");

#include "stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPCT_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_events SEC(".maps");

/* Keys that have (or had) a flow entry: layout and hash in xdpct.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPCT_SEEN_ENTRIES_DEFAULT); /* the loader sizes it */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_seen SEC(".maps");

#include "evmaps.h"

/* The namespaces `xdpct nat add` serves (userspace's registry). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPCT_NAT_MAX);
	__type(key, struct xdpct_nat_key);
	__type(value, struct xdpct_nat_dev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_nat SEC(".maps");

/* Keeps the enums in the object's BTF, so bpftool can print names. */
enum xdpct_ct_state xdpct_btf_ct_state __attribute__((unused));

#endif
