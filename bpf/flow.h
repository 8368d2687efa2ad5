/* SPDX-License-Identifier: GPL-2.0 */
/* The flow tables: keys from a packet, lookup, insert and delete, the
 * xdpct_seen bitmap, close events for `xdpct run`. */
#ifndef XDPCT_FLOW_H
#define XDPCT_FLOW_H

/* Flow keys from a tuple. remote_is_src: ingress (XDP, TC ingress) */
union flow_key {
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
};

static __always_inline void flow_key(const struct tuple *t, bool remote_is_src,
				     union flow_key *k)
{
	const __u32 *r = remote_is_src ? t->saddr : t->daddr;
	const __u32 *l = remote_is_src ? t->daddr : t->saddr;
	__u16 rp = remote_is_src ? t->sport : t->dport;
	__u16 lp = remote_is_src ? t->dport : t->sport;

	__builtin_memset(k, 0, sizeof(*k));
	if (t->family == 4) {
		k->k4.raddr = r[0];
		k->k4.laddr = l[0];
		k->k4.rport = rp;
		k->k4.lport = lp;
	} else {
		__builtin_memcpy(k->k6.raddr, r, 16);
		__builtin_memcpy(k->k6.laddr, l, 16);
		k->k6.rport = rp;
		k->k6.lport = lp;
	}
}

/* The generic key of the pending map. */
static __always_inline void pending_key(const struct tuple *t, bool remote_is_src,
					struct xdpct_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = t->family;
	k->rport = remote_is_src ? t->sport : t->dport;
	k->lport = remote_is_src ? t->dport : t->sport;
	__builtin_memcpy(k->raddr, remote_is_src ? t->saddr : t->daddr, 16);
	__builtin_memcpy(k->laddr, remote_is_src ? t->daddr : t->saddr, 16);
}

/* One call site per map: clang would otherwise merge the two lookups into
 * one call with the map chosen at run time, which the verifier cannot
 * inline (an indirect call through the map's ops per packet). */
static __always_inline struct xdpct_flow *flow_lookup(int family, union flow_key *k)
{
	struct xdpct_flow *f;

	if (family == 4) {
		f = bpf_map_lookup_elem(&xdpct_flows4, &k->k4);
		asm volatile("" : "+r"(f)); /* keeps this call site apart */
		return f;
	}
	return bpf_map_lookup_elem(&xdpct_flows6, &k->k6);
}

static __always_inline __u32 seen_bit(int family, const union flow_key *k)
{
	if (family == 4)
		return xdpct_seen_bit4(&k->k4);
	return xdpct_seen_bit6(&k->k6);
}

/* The key's bit, in both halves of xdpct_seen. */
static __always_inline void seen_set(__u32 bit)
{
	__u32 i0 = bit / 64, i1 = XDPCT_SEEN_WORDS + bit / 64;
	__u64 m = 1ULL << (bit & 63), *w;

	w = bpf_map_lookup_elem(&xdpct_seen, &i0);
	if (w)
		__sync_fetch_and_or(w, m);
	w = bpf_map_lookup_elem(&xdpct_seen, &i1);
	if (w)
		__sync_fetch_and_or(w, m);
}

/* Whether the key may have a flow entry: its bit in the active half.
 * False only if it surely has none. */
static __always_inline bool seen_maybe(__u32 bit)
{
	__u32 ai = XDPCT_SEEN_ACTIVE, i;
	__u64 *a, *w;

	a = bpf_map_lookup_elem(&xdpct_seen, &ai);
	if (!a)
		return true;
	i = (*a & 1) * XDPCT_SEEN_WORDS + bit / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (!w)
		return true;
	return (*w >> (bit & 63)) & 1;
}

/* Every flow entry is inserted here: the entry first, then its bit (a
 * rebuild that clears the bit after this sees the entry in its walk). */
static __always_inline int flow_insert(int family, union flow_key *k,
				       struct xdpct_flow *f)
{
	int r;

	if (family == 4)
		r = bpf_map_update_elem(&xdpct_flows4, &k->k4, f, BPF_ANY);
	else
		r = bpf_map_update_elem(&xdpct_flows6, &k->k6, f, BPF_ANY);
	if (!r)
		seen_set(seen_bit(family, k));
	return r;
}

static __always_inline void flow_delete(int family, union flow_key *k)
{
	if (family == 4)
		bpf_map_delete_elem(&xdpct_flows4, &k->k4);
	else
		bpf_map_delete_elem(&xdpct_flows6, &k->k6);
}

/* Tells `xdpct run` that a flow just entered TIME_WAIT or CLOSE. */
static __always_inline void close_event(const struct tuple *t, bool remote_is_src,
					const struct xdpct_flow *f, __u8 old_state)
{
	struct xdpct_close_event ev;

	if (f->state == old_state ||
	    (f->state != XDPCT_CT_TIME_WAIT && f->state != XDPCT_CT_CLOSE))
		return;
	pending_key(t, remote_is_src, &ev.key);
	ev.tick = f->last_tick;
	ev.state = f->state;
	__builtin_memset(ev.pad, 0, sizeof(ev.pad));
	if (bpf_ringbuf_output(&xdpct_events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		count(XDPCT_STAT_EVENT_LOST);
}

/* Whether a flow on these ports is tracked without cookies. */
static __always_inline bool observed(const struct xdpct_config *cfg, __u16 lport,
				     __u16 rport)
{
	__u32 l = bpf_ntohs(lport), r = bpf_ntohs(rport);
	__u8 *pl, *pr;

	if (cfg->flags & XDPCT_CFG_TRACK_ALL)
		return true;
	pl = bpf_map_lookup_elem(&xdpct_ports, &l);
	pr = bpf_map_lookup_elem(&xdpct_ports, &r);
	return (pl && (*pl & XDPCT_PORT_OBSERVE)) || (pr && (*pr & XDPCT_PORT_OBSERVE));
}

#endif
