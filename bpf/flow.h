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

	/* the ports in one 32-bit store: xdpct_key_mix() and the map's hash
	 * read them back as one word, which two 16-bit stores would not
	 * forward to (the load waits for both to reach the cache) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u32 ports = (__u32)rp | (__u32)lp << 16;
#else
	__u32 ports = (__u32)rp << 16 | lp;
#endif

	__builtin_memset(k, 0, sizeof(*k));
	if (t->family == 4) {
		k->k4.raddr = r[0];
		k->k4.laddr = l[0];
		*(__u32 *)&k->k4.rport = ports;
	} else {
		__builtin_memcpy(k->k6.raddr, r, 16);
		__builtin_memcpy(k->k6.laddr, l, 16);
		*(__u32 *)&k->k6.rport = ports;
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

/* A flow's key, where it lives, and what the key hashes to. */
struct flow_ref {
	union flow_key k;
	__u32 tag;      /* struct xdpct_flow.tag of this key's entry */
	__u32 bit;      /* its xdpct_seen bit (protected tables only) */
	__u8 family;
	__u8 observed;  /* in xdpct_observed4/6, not xdpct_flows4/6 */
	__u8 pad[2];
};

static __always_inline void flow_ref_of(const struct tuple *t, bool remote_is_src,
					bool observed, struct flow_ref *r)
{
	__u64 mix;

	flow_key(t, remote_is_src, &r->k);
	r->family = t->family;
	r->observed = observed;
	r->pad[0] = r->pad[1] = 0;
	mix = t->family == 4 ? xdpct_key4_mix(&r->k.k4) : xdpct_key6_mix(&r->k.k6);
	r->tag = xdpct_tag_of_mix(mix);
	r->bit = xdpct_seen_of_mix(mix);
}

/* One call site per map: clang would otherwise merge the lookups into one
 * call with the map chosen at run time, which the verifier cannot inline
 * (an indirect call through the map's ops per packet). */
static __always_inline struct xdpct_flow *flow_lookup(const struct flow_ref *r)
{
	struct xdpct_flow *f;

	if (r->observed) {
		if (r->family == 4) {
			f = bpf_map_lookup_elem(&xdpct_observed4, &r->k.k4);
			asm volatile("" : "+r"(f)); /* keeps this call site apart */
			return f;
		}
		f = bpf_map_lookup_elem(&xdpct_observed6, &r->k.k6);
		asm volatile("" : "+r"(f));
		return f;
	}
	if (r->family == 4) {
		f = bpf_map_lookup_elem(&xdpct_flows4, &r->k.k4);
		asm volatile("" : "+r"(f));
		return f;
	}
	return bpf_map_lookup_elem(&xdpct_flows6, &r->k.k6);
}

/* The header of xdpct_seen, read once, and its shift (the map's size);
 * 0 while no rebuild has said how big the map is (no filter: maybe,
 * always). */
static __always_inline __u64 seen_hdr(__u32 *shift)
{
	__u32 zero = 0;
	__u64 *h = bpf_map_lookup_elem(&xdpct_seen, &zero), hv;

	if (!h)
		return 0;
	hv = *h;
	*shift = (hv >> XDPCT_SEEN_SHIFT_POS) & 0xff;
	if (*shift < XDPCT_SEEN_SHIFT_MIN || *shift > XDPCT_SEEN_SHIFT_MAX)
		return 0;
	return hv;
}

/* The key's bit, then its summary bit, in both halves of xdpct_seen. One
 * key variable for the four lookups: XDP's stack is at its limit. */
static __always_inline void seen_set(__u32 bit)
{
	__u32 shift = 0, pos, words, i;
	__u64 m, *w;

	if (!seen_hdr(&shift))
		return;
	words = 1u << (shift - 6);
	pos = bit >> (XDPCT_SEEN_SHIFT_MAX - shift);
	m = 1ULL << (pos & 63);
	i = XDPCT_SEEN_HDR_WORDS + pos / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (w)
		__sync_fetch_and_or(w, m);
	i += words;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (w)
		__sync_fetch_and_or(w, m);
	pos = bit >> (XDPCT_SEEN_SHIFT_MAX - XDPCT_SEEN_SUM_SHIFT);
	m = 1ULL << (pos & 63);
	i = XDPCT_SEEN_HDR_WORDS + 2 * words + pos / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (w)
		__sync_fetch_and_or(w, m);
	i += XDPCT_SEEN_SUM_WORDS;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (w)
		__sync_fetch_and_or(w, m);
}

/* Whether the key may have a flow entry or a kernel socket: its summary
 * bit and bit in the active half. False only if it surely has neither.
 * Not inlined: XDP's stack is at its limit. */
static __noinline bool seen_maybe(__u32 bit)
{
	__u32 shift = 0, pos, i;
	__u64 hv = seen_hdr(&shift), *w;

	if (!(hv & XDPCT_SEEN_VALID))
		return true;
	/* the summary first: 128 KiB that a flood keeps in the caches */
	pos = bit >> (XDPCT_SEEN_SHIFT_MAX - XDPCT_SEEN_SUM_SHIFT);
	i = XDPCT_SEEN_HDR_WORDS + 2 * (1u << (shift - 6)) +
	    (hv & XDPCT_SEEN_ACTIVE) * XDPCT_SEEN_SUM_WORDS + pos / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (w && !((*w >> (pos & 63)) & 1))
		return false;
	pos = bit >> (XDPCT_SEEN_SHIFT_MAX - shift);
	i = XDPCT_SEEN_HDR_WORDS + (hv & XDPCT_SEEN_ACTIVE) * (1u << (shift - 6)) + pos / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (!w)
		return true;
	return (*w >> (pos & 63)) & 1;
}

/* Every flow entry is inserted here: the entry first, then its bit (a
 * rebuild that clears the bit after this sees the entry in its walk).
 * how: BPF_NOEXIST: an update of an existing key would free its element
 * for reuse while another CPU may hold it locked (include/xdpct.h); one
 * made meanwhile by another CPU stays. */
static __always_inline int flow_insert(const struct flow_ref *r, struct xdpct_flow *f,
				       __u64 how)
{
	int ret;

	f->tag = r->tag;
	if (r->observed) {
		if (r->family == 4)
			return bpf_map_update_elem(&xdpct_observed4, &r->k.k4, f, how);
		return bpf_map_update_elem(&xdpct_observed6, &r->k.k6, f, how);
	}
	if (r->family == 4)
		ret = bpf_map_update_elem(&xdpct_flows4, &r->k.k4, f, how);
	else
		ret = bpf_map_update_elem(&xdpct_flows6, &r->k.k6, f, how);
	if (!ret)
		seen_set(r->bit);
	return ret;
}

/* The 64-bit word of tag and lock (include/xdpct.h). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FLOW_LOCKWORD(tag, locked) ((__u64)(tag) | (__u64)(locked) << 32)
#else
#define FLOW_LOCKWORD(tag, locked) ((__u64)(tag) << 32 | (__u64)(locked))
#endif
/* A holder keeps the lock for tens of instructions, and no program that
 * takes it can interrupt another on the same CPU (XDP and TC run with
 * softirqs off): a short spin, then give up rather than stall. */
#define FLOW_LOCK_SPINS 64

enum { FLOW_LOCKED = 1, FLOW_GONE = 0, FLOW_BUSY = -1 };

/* The spin, a global function: verified once, not per caller and per
 * round. w: the entry's tag and lock word. */
__noinline int flow_lock_word(__u64 *w, __u32 tag)
{
	__u64 free = FLOW_LOCKWORD(tag, 0), locked = FLOW_LOCKWORD(tag, 1), old;

	if (!w)
		return FLOW_GONE;
	for (int i = 0; i < FLOW_LOCK_SPINS; i++) {
		old = __sync_val_compare_and_swap(w, free, locked);
		if (old == free)
			return FLOW_LOCKED;
		if (old != locked)
			return FLOW_GONE;
	}
	return FLOW_BUSY;
}

/* A segment with nowhere else to go (TC: the local stack's, or a remote
 * one XDP left to TC ingress) waits up to XDPCT_FLOW_LOCK_WAIT_NS: a
 * holder interrupted, or on a VM descheduled, keeps the lock for tens of
 * microseconds, and a local segment let through untracked makes the
 * peer's ACK of it look like an ACK of data never sent. Only a holder
 * that stopped running makes anyone wait: each hold is tens of
 * instructions, whatever the traffic. */
#define FLOW_LOCK_WAIT_ROUNDS 4096 /* of FLOW_LOCK_SPINS: ~1 ms here, if the clock stood still */

struct flow_lock_waiter {
	__u64 *w;
	__u64 deadline;
	__u32 tag;
	int r;
};

/* One round of flow_lock_word() for bpf_loop(): 1 stops the loop. */
static long flow_lock_round(__u64 i, void *ctx)
{
	struct flow_lock_waiter *x = ctx;
	__u64 t;

	x->r = flow_lock_word(x->w, x->tag);
	if (x->r != FLOW_BUSY)
		return 1;
	t = bpf_ktime_get_ns();
	if (!x->deadline)
		x->deadline = t + XDPCT_FLOW_LOCK_WAIT_NS;
	return t > x->deadline;
}

/* flow_lock_word() in rounds until XDPCT_FLOW_LOCK_WAIT_NS passed: a
 * bpf_loop(), so that the verifier walks one round, not each; entered only
 * when the first round found the lock held (the common case pays nothing). */
static __always_inline int flow_lock_word_wait(__u64 *w, __u32 tag)
{
	struct flow_lock_waiter x = { .w = w, .tag = tag, .r = flow_lock_word(w, tag) };

	if (x.r == FLOW_BUSY) /* the loop only for a lock that is held */
		bpf_loop(FLOW_LOCK_WAIT_ROUNDS, flow_lock_round, &x, 0);
	return x.r;
}

/* Takes f's lock if f still holds r's key: a deleted element may have
 * been reused for another key since the lookup (FLOW_GONE: treat it as
 * no entry). FLOW_BUSY: another CPU held it through the spin, or with
 * wait through XDPCT_FLOW_LOCK_WAIT_NS (the caller counts ct_lock_busy when it
 * gives up). */
static __always_inline int flow_lock(struct xdpct_flow *f, const struct flow_ref *r, bool wait)
{
	__u64 *w = (__u64 *)&f->tag, free = FLOW_LOCKWORD(r->tag, 0);
	int ret;

	/* a free lock, the common case: taken without a call */
	if (!wait && __sync_val_compare_and_swap(w, free, FLOW_LOCKWORD(r->tag, 1)) == free)
		return FLOW_LOCKED;
	ret = wait ? flow_lock_word_wait(w, r->tag) : flow_lock_word(w, r->tag);

	if (ret == FLOW_GONE)
		count(XDPCT_STAT_CT_TAG_MISMATCH);
	return ret;
}

/* Releases the lock (a full barrier: the entry's writes come first). */
static __always_inline void flow_unlock(struct xdpct_flow *f)
{
	__u64 *w = (__u64 *)&f->tag;

	__sync_lock_test_and_set(w, FLOW_LOCKWORD(f->tag, 0));
}

/* Tells `xdpct run` that a flow just entered TIME_WAIT or CLOSE. */
static __always_inline void close_event(const struct tuple *t, bool remote_is_src,
					const struct flow_ref *r, __u8 old_state,
					__u8 new_state, __u32 tick)
{
	struct xdpct_close_event ev;

	if (new_state == old_state ||
	    (new_state != XDPCT_CT_TIME_WAIT && new_state != XDPCT_CT_CLOSE))
		return;
	pending_key(t, remote_is_src, &ev.key);
	ev.tick = tick;
	ev.state = new_state;
	ev.observed = r->observed;
	ev.pad[0] = ev.pad[1] = 0;
	if (bpf_ringbuf_output(&xdpct_events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		count(XDPCT_STAT_EVENT_LOST);
}

/* The generic key of a flow reference. */
static __always_inline void flow_ref_key(const struct flow_ref *r, struct xdpct_flow_key *k)
{
	if (r->family == 4)
		xdpct_key_from4(&r->k.k4, k);
	else
		xdpct_key_from6(&r->k.k6, k);
}

/* what: type | reason << 8 | old state << 16 | event flags << 24 */
#define CT_EV(type, reason, old, evf) \
	((__u32)(type) | (__u32)(reason) << 8 | (__u32)(old) << 16 | (__u32)(evf) << 24)

/* A conntrack event for `xdpct events`, while a reader listens; f as it
 * is now. Global: verified once, not at every caller. */
__noinline int ct_event(const struct flow_ref *r, const struct xdpct_flow *f, __u32 what)
{
	struct xdpct_ct_event *e;
	struct xdpct_evsub *s;
	__u64 now = now_ns();

	if (!r || !f)
		return 0;
	s = evsub_live(now);
	if (!s)
		return 0;
	e = bpf_ringbuf_reserve(&xdpct_ctevents, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&s->lost, 1);
		return 0;
	}
	e->ns = now;
	flow_ref_key(r, &e->key);
	__builtin_memcpy(&e->flow, f, sizeof(e->flow));
	e->flow.lock = 0;
	e->type = what & 0xff;
	e->reason = (what >> 8) & 0xff;
	e->old_state = (what >> 16) & 0xff;
	e->evflags = (what >> 24) | (r->observed ? XDPCT_EVF_OBSERVED : 0);
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

/* A connection's entry came back from its socket: NEW, after a DESTROY
 * "evicted" unless userspace removed the old entry (and said so). */
__noinline int ct_event_readopt(const struct flow_ref *r, const struct xdpct_flow *f)
{
	struct xdpct_flow_key k;

	if (!r || !f || !evsub_live(now_ns()))
		return 0;
	flow_ref_key(r, &k);
	if (bpf_map_delete_elem(&xdpct_gone, &k))
		ct_event(r, f, CT_EV(XDPCT_EV_DESTROY, XDPCT_DR_EVICTED, f->state,
				     XDPCT_EVF_NO_COUNTS));
	return ct_event(r, f, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
}

/* Whether an auto port answers with cookies now: under attack, or
 * nobody (no `xdpct run`) decides. */
static __always_inline bool auto_cookies(__u8 pflags)
{
	__u32 zero = 0;
	struct xdpct_auto *a;

	if (pflags & XDPCT_PORT_COOKIES)
		return true;
	a = bpf_map_lookup_elem(&xdpct_auto, &zero);
	return !a || now_ns() >= a->until_ns;
}

/* A SYN without an entry to an auto port: counted for run's decision. */
static __always_inline void auto_count_syn(__u16 lport)
{
	__u32 l = bpf_ntohs(lport);
	struct xdpct_autostat *s = bpf_map_lookup_elem(&xdpct_autostat, &l);

	if (s)
		s->syns += 1;
}

/* Whether a local port is protected: its flows live in xdpct_flows4/6
 * (an auto port's too, in both modes). */
static __always_inline bool port_protected(__u16 lport)
{
	__u32 l = bpf_ntohs(lport);
	__u8 *pl = bpf_map_lookup_elem(&xdpct_ports, &l);

	return pl && (*pl & XDPCT_PORT_PROTECT);
}

/* What the allow/deny list says of a tuple's remote address (0:
 * nothing), looked up only while the list has entries. A global
 * function, verified once: inlined, its branches would double the paths
 * of every caller after it. */
__noinline int acl_of(const struct xdpct_config *cfg, const struct tuple *t, int remote_is_src)
{
	struct xdpct_acl_key k = {};
	const __u32 *a;
	__u8 *v;

	if (!cfg || !t || !(cfg->flags & XDPCT_CFG_ACL))
		return 0;
	a = remote_is_src ? t->saddr : t->daddr;
	k.family = t->family;
	k.prefixlen = t->family == 4 ? 8 + 32 : 8 + 128;
	__builtin_memcpy(k.addr, a, 16); /* IPv4: the rest is zero, past the prefix */
	v = bpf_map_lookup_elem(&xdpct_acl, &k);
	return v ? *v : 0;
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
