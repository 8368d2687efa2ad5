/* SPDX-License-Identifier: GPL-2.0 */
/* TC ingress (cookie ACKs handed to the listener, remote state changes
 * that waited for the kernel's checksum verdict) and TC egress (the local
 * stack's packets drive its side of the state machine). */
#ifndef XDPCT_TC_H
#define XDPCT_TC_H

#define CHECKSUM_UNNECESSARY 1
#define CHECKSUM_PARTIAL 3

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* What a TC program works on besides the packet: off the 512-byte stack,
 * which the calls of its path share. TC programs do not nest on a CPU
 * (egress runs with softirqs off; ingress transmits nothing itself). */
struct tc_scratch {
	struct tuple t;
	struct flow_ref ref;
	struct ct_seg seg;
	struct ct_outcome o;
	struct xdpct_flow nf;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_scratch);
} xdpct_tc_scratch SEC(".maps");

static __always_inline struct tc_scratch *tc_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xdpct_tc_scratch, &zero);
}

/* skb->len, not the IP length fields: a GSO packet may be bigger. */
static __always_inline void skb_seg(struct __sk_buff *skb, const struct pkt *p,
				    struct ct_seg *seg)
{
	__u32 ip_len = skb->len - p->l3_off;
	__u32 payload = ip_len - ((void *)p->tcp - (void *)p->eth - p->l3_off) -
			p->tcp->doff * 4;

	ct_seg_from(seg, p->tcp, payload, ip_len);
	seg->csum_ok = 1;
	if (seg->flags & TCP_FLAG_SYN) {
		struct tcp_opts o;

		if (parse_opts_skb(skb, (void *)p->tcp - (void *)(long)skb->data,
				   p->tcp->doff * 4 - 20, &o) == 0 && o.wscale != 0xff)
			seg->wscale = o.wscale;
	}
}

/* A remote segment that XDP passed without its state change: the checksum
 * did not hold over the frame's bytes, which is what an offloaded (partial)
 * checksum looks like. The kernel's verdict decides. */
static __noinline int tc_deferred_ct(struct __sk_buff *skb, struct pkt *p,
				     struct tc_scratch *sc)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct tuple *t = &sc->t;
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	bool protect = port_protected(t->dport);
	__u32 zero = 0;
	__u8 summed;
	int r;

	/* the table XDP chose: an allowed source's flows are observed ones */
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	protect = protect & (acl_of(cfg, t, 1) != XDPCT_ACL_ALLOW);
	flow_ref_of(t, true, !protect, &sc->ref);
	f = flow_lookup(&sc->ref);
	if (!f)
		return TC_ACT_OK;
	summed = BPF_CORE_READ_BITFIELD(kskb, ip_summed);
	if (summed != CHECKSUM_UNNECESSARY && summed != CHECKSUM_PARTIAL) {
		/* XDP summed the bytes and they do not add up */
		count(XDPCT_STAT_TC_CSUM_BAD);
		return protect ? TC_ACT_SHOT : TC_ACT_OK;
	}
	skb_seg(skb, p, &sc->seg);
	sc->seg.ip_len = p->ip_len; /* as XDP counts it */
	r = ct_apply(f, &sc->ref, &sc->seg, XDPCT_REMOTE, now_ns(), &sc->o, true, false);
	if (r == CT_BUSY)
		count(XDPCT_STAT_CT_LOCK_BUSY);
	if (r == CT_GONE || r == CT_BUSY)
		return TC_ACT_OK;
	ct_changed(t, &sc->ref, f, &sc->o, r | 1 << 8);
	if (r == CT_OK || r == CT_REOPENED) {
		count(XDPCT_STAT_TC_CT_APPLIED);
		if (r == CT_REOPENED)
			count(XDPCT_STAT_CT_REOPEN);
		return TC_ACT_OK;
	}
	if (r != CT_RST_CHALLENGE) {
		/* the entry moved since XDP looked */
		count(XDPCT_STAT_CT_INVALID);
		if (protect)
			return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/* The cookie flow's handshake is over: its child socket exists. */
static __always_inline void flow_child_made(struct xdpct_flow *f, const struct flow_ref *ref)
{
	bool done = false;
	__u8 old = 0;

	if (flow_lock(f, ref, false) != FLOW_LOCKED)
		return;
	if (f->flags & XDPCT_FLOW_PENDING) {
		f->flags &= ~XDPCT_FLOW_PENDING;
		old = f->state;
		if (old == XDPCT_CT_SYN_RECV)
			f->state = XDPCT_CT_ESTABLISHED;
		done = true;
	}
	flow_unlock(f);
	if (done) {
		count(XDPCT_STAT_TC_CHILD_SEEN);
		if (old == XDPCT_CT_SYN_RECV)
			ct_event(ref, f, CT_EV(XDPCT_EV_UPDATE, 0, old, 0));
	}
}

/* A validated cookie ACK for the local listener: handed over with its
 * attributes (bpf_sk_assign_tcp_reqsk), or, once the child exists, the
 * flow's handshake is over. */
static __noinline int tc_handover(struct __sk_buff *skb, struct pkt *p,
				  struct tc_scratch *sc, struct bpf_tcp_req_attrs *attrs)
{
	struct tuple *t = &sc->t;
	struct xdpct_flow_key pk;
	struct xdpct_pending *pe;
	struct xdpct_flow *f;
	int r;

	pending_key(t, true, &pk);
	pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
	r = handover(skb, t, bpf_ntohl(p->tcp->seq), attrs, pe ? &pe->ho : NULL);
	switch (r) {
	case HO_NO_LISTENER:
		count(XDPCT_STAT_TC_NO_LISTENER);
		break; /* the kernel resets it, as for a closed port */
	case HO_NOT_FIRST:
		count(XDPCT_STAT_TC_DROP_NOT_FIRST);
		return TC_ACT_SHOT;
	case HO_TWIN:
		count(XDPCT_STAT_TC_DROP_TWIN);
		return TC_ACT_SHOT;
	case HO_FAIL:
		count(XDPCT_STAT_TC_HANDOFF_FAIL);
		break;
	case HO_DUP:
		count(XDPCT_STAT_TC_HANDOFF_DUP);
		break;
	case HO_HANDED:
		count(XDPCT_STAT_TC_HANDOFF);
		break;
	case HO_CHILD:
		/* the handshake is over (cookie flows live in the protected
		 * tables) */
		flow_ref_of(t, true, false, &sc->ref);
		f = flow_lookup(&sc->ref);
		if (f)
			flow_child_made(f, &sc->ref);
		bpf_map_delete_elem(&xdpct_pending, &pk);
		break;
	case HO_WAIT:
		count(XDPCT_STAT_TC_WAIT);
		break;
	}
	return TC_ACT_OK;
}

SEC("tc")
int xdpct_tc_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct xdpct_meta *m = (void *)(long)skb->data_meta;
	struct bpf_tcp_req_attrs attrs;
	struct tc_scratch *sc;
	struct pkt p = {};
	__u32 what;

	if ((void *)(m + 1) > data || m->magic != XDPCT_META_MAGIC)
		return TC_ACT_OK;
	count(XDPCT_STAT_TC_META);
	what = m->what;
	__builtin_memcpy(&attrs, &m->attrs, sizeof(attrs));

	sc = tc_scratch();
	if (!sc || skb_tuple(skb, &p, &sc->t))
		return TC_ACT_OK;
	if ((what & XDPCT_META_CT) && tc_deferred_ct(skb, &p, sc) == TC_ACT_SHOT)
		return TC_ACT_SHOT;
	if (!(what & XDPCT_META_ATTRS))
		return TC_ACT_OK;
	return tc_handover(skb, &p, sc, &attrs);
}

/* Egress: the local side's packets drive its half of the state machine.
 * Its own section name: iproute2 takes the first program of a section, and
 * libbpf 1.1 knows no "tc/egress". */
SEC("classifier")
int xdpct_tc_out(struct __sk_buff *skb)
{
	struct xdpct_config *cfg;
	struct tc_scratch *sc;
	struct xdpct_flow *f;
	struct pkt p = {};
	__u32 zero = 0;
	bool protect;
	__u64 now;
	int r;

	count(XDPCT_STAT_TC_OUT_PACKETS);
	if (skb->mark == XDPCT_PROXY_MARK)
		return TC_ACT_OK; /* our window update to a proxied client */
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED))
		return TC_ACT_OK;
	sc = tc_scratch();
	if (!sc || skb_tuple(skb, &p, &sc->t))
		return TC_ACT_OK;
	/* the local port decides the table, as on ingress */
	protect = port_protected(sc->t.sport);
	if (!protect && !observed(cfg, sc->t.sport, sc->t.dport))
		return TC_ACT_OK;
	if (protect && port_proxy(sc->t.sport)) {
		/* a server behind this box: translated to the client's view
		 * before tracking, its SYN-ACK answered here */
		r = proxy_out_tc(skb, p.l3_off | (__u32)((void *)p.tcp - (void *)p.eth) << 8 |
					      (__u32)sc->t.family << 24, &sc->t);
		if (r == TC_ACT_REDIRECT) {
			flow_ref_of(&sc->t, false, false, &sc->ref);
			f = flow_lookup(&sc->ref);
			if (f)
				flow_child_made(f, &sc->ref);
		}
		if (r != PROXY_GO_ON)
			return r;
		__builtin_memset(&p, 0, sizeof(p)); /* its pointers went stale */
		if (skb_tuple(skb, &p, &sc->t))
			return TC_ACT_OK;
	}
	if (cfg->flags & XDPCT_CFG_ACL) /* no call while the lists are empty */
		protect = protect & (acl_of(cfg, &sc->t, 0) != XDPCT_ACL_ALLOW);
	flow_ref_of(&sc->t, false, !protect, &sc->ref);
	f = flow_lookup(&sc->ref);
	skb_seg(skb, &p, &sc->seg);
	now = now_ns();

	if (f) {
		/* a local segment has nowhere else to go: it waits */
		r = ct_apply(f, &sc->ref, &sc->seg, XDPCT_LOCAL, now, &sc->o, true, true);
		if (r == CT_BUSY) {
			count(XDPCT_STAT_CT_LOCK_BUSY);
			count(XDPCT_STAT_TC_OUT_FLOW);
			return TC_ACT_OK;
		}
		if (r != CT_GONE) {
			if (ct_moved(&sc->o, r))
				ct_changed(&sc->t, &sc->ref, f, &sc->o, r);
			if (r == CT_REOPENED) {
				count(XDPCT_STAT_CT_REOPEN);
				count(XDPCT_STAT_TC_OUT_CT_NEW);
			} else if (r != CT_OK) {
				count(XDPCT_STAT_CT_INVALID);
			} else if ((sc->o.flags & XDPCT_FLOW_PENDING) &&
				   !(sc->seg.flags & TCP_FLAG_RST)) {
				/* the local stack answering a cookie flow: its
				 * child exists */
				struct xdpct_flow_key pk;

				flow_child_made(f, &sc->ref);
				pending_key(&sc->t, false, &pk);
				bpf_map_delete_elem(&xdpct_pending, &pk);
			}
			count(XDPCT_STAT_TC_OUT_FLOW);
			return TC_ACT_OK;
		}
	}
	/* a connection this host opens, from any tracked port: its answer
	 * must find an entry */
	if ((sc->seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) ==
	    TCP_FLAG_SYN) {
		__builtin_memset(&sc->nf, 0, sizeof(sc->nf));
		ct_init_syn(&sc->nf, XDPCT_LOCAL, &sc->seg, now);
		if (!flow_insert(&sc->ref, &sc->nf, BPF_NOEXIST))
			ct_event(&sc->ref, &sc->nf, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
		count(XDPCT_STAT_TC_OUT_CT_NEW);
	}
	return TC_ACT_OK;
}

#endif
