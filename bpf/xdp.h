/* SPDX-License-Identifier: GPL-2.0 */
/* XDP ingress: the remote side's packets, before the kernel sees them. */
#ifndef XDPCT_XDP_H
#define XDPCT_XDP_H

/* The tuple and flow key of the packet in hand, and the flow path's
 * working state: bytes the 512-byte stack shared by the calls of a
 * packet's path cannot spare. XDP does not nest on a CPU. */
struct xdp_scratch {
	struct tuple t;
	struct flow_ref ref;
	struct ct_seg seg;      /* xdp_flow_packet()'s */
	struct ct_outcome o;
	struct xdpct_req_attrs a;
	struct tcp_opts opt;
	__u32 tcp_off;          /* the packet, for xdp_flow_packet() */
	__u32 tcp_len;
	__u32 ip_len;
	__u32 where;            /* pkt_where() */
	__u32 proxy;            /* a proxy port's server behind this box */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_scratch);
} xdpct_xdp_scratch SEC(".maps");

/* xdp_no_flow(): an entry was made from the kernel's socket, look again */
#define XDP_READOPTED 0x100
/* xdp_no_flow(): a proxy port's cookie ACK, its attributes in the scratch */
#define XDP_PROXY_OPEN 0x200
/* xdp_flow_packet(): a proxied flow's client segment, its state applied */
#define XDP_PROXY_IN 0x300

/* A parsed packet and where its flow lives, shared by the paths below
 * (each a subprogram with its own stack frame: inlined, their locals
 * would not fit in 512 bytes with check_cookie()'s). */
struct xdp_pkt {
	struct pkt p;
	struct tuple *t;       /* in xdpct_xdp_scratch: the stack is short */
	struct flow_ref *ref;  /* there too */
	struct xdpct_config *cfg;
	bool protect; /* the local port is protected (else observed) */
	bool maybe;   /* xdpct_seen: an entry or a socket may exist */
	bool auto_port; /* protected, in auto mode */
	__u8 profile; /* the protected port's profile (its high bits), 0: none */
	bool calm;    /* an auto port with no attack: the kernel answers */
};

/* Sources Linux never answers (martians, RFC 1812 and ip_route_input),
 * and frames not sent to this host's MAC: a SYN-ACK to them would be a
 * reflection or a spoof. */
static __always_inline bool bad_source(const struct xdp_pkt *x)
{
	const __u8 *mac = x->p.eth->h_dest;
	const struct xdpct_config *cfg = x->cfg;

	if (mac[0] & 1) /* multicast or broadcast */
		return true;
	if ((cfg->if_mac[0] | cfg->if_mac[1] | cfg->if_mac[2] | cfg->if_mac[3] |
	     cfg->if_mac[4] | cfg->if_mac[5]) &&
	    ((mac[0] ^ cfg->if_mac[0]) | (mac[1] ^ cfg->if_mac[1]) |
	     (mac[2] ^ cfg->if_mac[2]) | (mac[3] ^ cfg->if_mac[3]) |
	     (mac[4] ^ cfg->if_mac[4]) | (mac[5] ^ cfg->if_mac[5])))
		return true;
	if (x->t->family == 4) {
		__u32 s = bpf_ntohl(x->t->saddr[0]);

		return (s >> 24) == 0 || (s >> 24) == 127 || (s >> 28) == 0xe ||
		       s == 0xffffffff;
	}
	{
		__u32 s0 = bpf_ntohl(x->t->saddr[0]);
		bool hi_zero = !x->t->saddr[0] && !x->t->saddr[1];

		if ((s0 >> 24) == 0xff) /* multicast */
			return true;
		if (hi_zero && !x->t->saddr[2] &&
		    (!x->t->saddr[3] || x->t->saddr[3] == bpf_htonl(1)))
			return true; /* :: and ::1 */
		/* v4-mapped: Linux's TCP drops it on IPv6 */
		return hi_zero && x->t->saddr[2] == bpf_htonl(0xffff);
	}
}

static __always_inline bool dest_local(const struct xdp_pkt *x)
{
	return addr_local(x->cfg, x->t);
}

/* The allow/deny list on a packet to a protected port: XDPCT_ACL_DENY to
 * drop it (denied, to this host), XDPCT_ACL_ALLOW for no cookies (its flows
 * live in the observed tables), else 0. A global function, verified once:
 * the tuple again from the offsets (pkt_where()). */
__noinline int xdp_acl(struct xdp_md *ctx, const struct xdpct_config *cfg, __u32 where,
		       int protect)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tuple t;
	int a;

	if (!protect || !cfg || !(cfg->flags & XDPCT_CFG_ACL) ||
	    !load_tuple(data, data_end, where, &t))
		return 0;
	a = acl_of(cfg, &t, 1);
	if (a == XDPCT_ACL_ALLOW) {
		count(XDPCT_STAT_ACL_ALLOWED);
		return XDPCT_ACL_ALLOW;
	}
	if (a != XDPCT_ACL_DENY)
		return 0;
	if (!addr_local(cfg, &t))
		return 0; /* a router's transit traffic is not ours to drop */
	count(XDPCT_STAT_V_DROP_DENIED);
	return XDPCT_ACL_DENY;
}

/* An adopted entry's sequence numbers, from its socket. FLOW_GONE: the
 * entry was reused for another key. */
static __noinline int xdp_sync_adopted(struct xdp_md *ctx, struct xdp_scratch *x,
				       struct xdpct_flow *f)
{
	struct sock_view v;
	bool synced = false;
	int r;

	if (sock_find_xdp(ctx, &x->t, &v) != 1)
		return FLOW_LOCKED;
	r = flow_lock(f, &x->ref, false);
	if (r != FLOW_LOCKED)
		return r;
	if ((f->flags & (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL)) !=
	    (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL)) {
		flow_set_from_sock(f, &v);
		synced = true;
	}
	flow_unlock(f);
	if (synced)
		count(XDPCT_STAT_CT_SYNC_SOCKET);
	return FLOW_LOCKED;
}

/* The handover attributes of a pending cookie flow, 0 if found. */
static __noinline int pending_attrs(const struct tuple *t, struct xdpct_req_attrs *a)
{
	struct xdpct_flow_key pk;
	struct xdpct_pending *pe;

	pending_key(t, true, &pk);
	pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
	if (!pe)
		return -1;
	*a = pe->attrs;
	return 0;
}

/* The port (network order) hands its cookie ACKs over behind DNAT. */
static __always_inline bool port_nat(__u16 dport)
{
	__u32 port = bpf_ntohs(dport);
	const struct xdpct_profile *pr;
	__u8 *pf = bpf_map_lookup_elem(&xdpct_ports, &port);

	if (!pf)
		return false;
	pr = profile_of(*pf >> XDPCT_PORT_PROFILE_SHIFT);
	return pr && pr->handover == XDPCT_HANDOVER_NAT;
}

/* The packet goes to a proxy port's server behind this box (profile:
 * its port's). A global function, verified once: callers branch on an
 * unknown, not on each way to it. */
__noinline int xdp_is_proxy(const struct tuple *t, int profile)
{
	__u32 zero = 0;
	struct xdpct_config *cfg = bpf_map_lookup_elem(&xdpct_config, &zero);

	return cfg && t && profile_is(profile, XDPCT_HANDOVER_PROXY) && !addr_local(cfg, t);
}

/* A packet whose flow entry exists (inlined in xdp_flow_packet()). */
static __always_inline int xdp_flow_pkt(struct xdp_md *ctx, struct pkt *p,
					struct xdpct_flow *f, struct xdp_scratch *sc,
					bool protect)
{
	void *data = (void *)(long)ctx->data;
	struct xdpct_req_attrs *a = &sc->a;
	struct ct_outcome *po = &sc->o;
	struct ct_seg *ps = &sc->seg;
	__u32 what = 0;
	__u64 now = now_ns();
	int r;

	ct_seg_from(ps, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (ps->flags & TCP_FLAG_SYN) { /* a SYN-ACK, or a SYN again: its shift */
		if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &sc->opt) == 0 &&
		    sc->opt.wscale != 0xff)
			ps->wscale = sc->opt.wscale;
	}
	/* adopted (sock_diag has no sequence numbers): the socket's first */
	if ((f->flags & XDPCT_FLOW_ADOPTED) &&
	    (f->flags & (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL)) !=
		    (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL) &&
	    xdp_sync_adopted(ctx, sc, f) == FLOW_GONE)
		goto gone;
	r = ct_apply(f, &sc->ref, ps, XDPCT_REMOTE, now, po, false, true);
	if (r == CT_NEED_CSUM) {
		/* a proxied segment is translated before TC ingress could
		 * apply it: its sender's checksum is the server's to check */
		if (sc->proxy || tcp_csum_xdp(ctx, (void *)p->tcp - data, p->tcp_len, &sc->t)) {
			ps->csum_ok = 1; /* a state change: no shortcut */
			r = ct_apply(f, &sc->ref, ps, XDPCT_REMOTE, now, po, false, false);
		} else {
			/* partial (offloaded) or bad: TC ingress applies it if
			 * the kernel's checksum verdict is good */
			what |= XDPCT_META_CT;
			count(XDPCT_STAT_CT_CSUM_DEFER);
			r = CT_OK;
			po->flags = f->flags;
		}
	}
	if (r == CT_GONE)
		goto gone;
	if (r == CT_BUSY) {
		/* another CPU held the entry through the spin: TC ingress
		 * applies the segment a moment later, not never */
		count(XDPCT_STAT_CT_LOCK_BUSY);
		what |= XDPCT_META_CT;
		r = CT_OK;
		po->flags = f->flags;
	}
	if (ct_moved(po, r))
		ct_changed(&sc->t, &sc->ref, f, po, r | 1 << 8);
	if (r == CT_REOPENED) {
		/* a new connection on an old tuple goes to the kernel, which may
		 * hold a TIME_WAIT socket for it; tracked from this SYN. Only a
		 * known tuple gets here: no way around the cookies for a flood */
		count(XDPCT_STAT_CT_REOPEN);
		if (protect)
			count(XDPCT_STAT_SYN_SEEN);
		count(XDPCT_STAT_V_PASS_CT_NEW);
		return XDP_PASS;
	}
	if (r == CT_RST_CHALLENGE) {
		count(XDPCT_STAT_CT_RST_CHALLENGE);
	} else if (r != CT_OK) {
		count(XDPCT_STAT_CT_INVALID);
		if (protect) { /* observing never drops */
			if (r == CT_RST_WINDOW)
				count(XDPCT_STAT_V_DROP_RST_WINDOW);
			else if (r == CT_ACK_WINDOW)
				count(XDPCT_STAT_V_DROP_ACK_WINDOW);
			else if (r == CT_SEQ_WINDOW)
				count(XDPCT_STAT_V_DROP_SEQ_WINDOW);
			else
				count(XDPCT_STAT_V_DROP_CT_INVALID);
			return XDP_DROP;
		}
	}
	if (sc->proxy) /* translated by xdpct_xdp(): one call deep */
		return XDP_PROXY_IN;
	if ((po->flags & XDPCT_FLOW_PENDING) &&
	    (p->flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) == TCP_FLAG_ACK) {
		/* until the child socket exists, every ACK carries the
		 * attributes again: the first may have met a full accept queue */
		if (pending_attrs(&sc->t, a) == 0)
			what |= XDPCT_META_ATTRS;
		else if (!port_nat(sc->t.dport)) /* a NAT port's are in xdpct_handoff */
			count(XDPCT_STAT_CT_PENDING_LOST);
	}
	if (what && attach_meta(ctx, what, (what & XDPCT_META_ATTRS) ? a : NULL)) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_PASS_FLOW);
	return XDP_PASS;
gone:
	/* the entry went (and its element was reused) since the lookup: as
	 * without one, short of a second look: the next packet re-adopts */
	if (protect) {
		count(XDPCT_STAT_V_DROP_NO_FLOW);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_PASS_UNTRACKED);
	return XDP_PASS;
}

/* A global function: verified once, where a static one would be verified
 * again for each caller (two: a found entry and a re-adopted one, about
 * half of xdpct_xdp's verifier budget). The TCP header from the offset,
 * the tuple and key where the caller left them in xdpct_xdp_scratch. */
__noinline int xdp_flow_packet(struct xdp_md *ctx, struct xdpct_flow *f, int protect)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct xdp_scratch *sc;
	struct pkt p = {};
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&xdpct_xdp_scratch, &zero);
	if (!f || !sc)
		goto err;
	p.tcp = data + (sc->tcp_off & 0xfff);
	if ((void *)(p.tcp + 1) > data_end)
		goto err;
	p.tcp_len = sc->tcp_len;
	p.ip_len = sc->ip_len;
	p.flags = tcp_flags(p.tcp);
	/* protect's bits 8-11: the port's profile */
	sc->proxy = (protect >> 8) && xdp_is_proxy(&sc->t, (protect >> 8) & 0xf);
	return xdp_flow_pkt(ctx, &p, f, sc, protect & 1);
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

/* A proxy port's tuple again after its last connection closed: a new
 * one, with its own cookie and translation. Its own frame: xdpct_xdp()'s
 * is at the stack's limit. */
static __noinline void xdp_proxy_reuse(struct xdp_pkt *x)
{
	struct xdpct_flow_key pk;

	pending_key(x->t, true, &pk);
	bpf_map_delete_elem(&xdpct_proxy, &pk);
	flow_remove(x->ref);
}

/* A proxy port's cookie ACK: its attributes where xdpct_xdp() finds them. */
static __always_inline int xdp_proxy_opening(const struct xdpct_req_attrs *a)
{
	__u32 zero = 0;
	struct xdp_scratch *sc = bpf_map_lookup_elem(&xdpct_xdp_scratch, &zero);

	if (!sc) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	sc->a = *a;
	return XDP_PROXY_OPEN;
}

/* A valid cookie ACK: the flow starts at SYN_RECV, pending until the
 * listener's child socket exists. */
static __noinline int xdp_cookie_flow(struct xdp_md *ctx, struct xdp_pkt *x,
				      const struct xdpct_req_attrs *a)
{
	struct pkt *p = &x->p;
	struct xdpct_pending pe = {
		.attrs = *a,
		.ho.first_seq = bpf_ntohl(p->tcp->seq),
	};
	__u64 now = now_ns();
	const struct xdpct_profile *pr;
	struct xdpct_flow_key pk;
	struct xdpct_flow nf = {};
	__u32 isn = bpf_ntohl(p->tcp->seq) - 1, cookie = bpf_ntohl(p->tcp->ack_seq) - 1;
	__u32 rwin = bpf_ntohs(p->tcp->window), shift = 0;

	if (a->wscale_ok)
		shift = a->snd_wscale & 0xf;
	rwin <<= shift;
	nf.first_s = now / 1000000000ULL;
	nf.last_tick = now >> XDPCT_TICK_SHIFT;
	nf.state = XDPCT_CT_SYN_RECV;
	nf.flags = XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED |
		   XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	nf.wscale[XDPCT_REMOTE] = a->wscale_ok ? a->snd_wscale : 0xf;
	nf.wscale[XDPCT_LOCAL] = a->wscale_ok ? x->cfg->wscale : 0xf;
	nf.tcp_flags[XDPCT_REMOTE] = TCP_FLAG_SYN | p->flags;
	nf.tcp_flags[XDPCT_LOCAL] = TCP_FLAG_SYN | TCP_FLAG_ACK;
	/* the remote may send up to our SYN-ACK's window (never scaled, at
	 * most 65535) past its ISN until the child says more */
	nf.dir[XDPCT_REMOTE].end = isn + 1 + p->tcp_len - p->tcp->doff * 4 +
				   !!(p->flags & TCP_FLAG_FIN);
	nf.dir[XDPCT_REMOTE].maxack = cookie + 1;
	nf.dir[XDPCT_REMOTE].maxwin = rwin ? rwin : 1;
	nf.dir[XDPCT_REMOTE].maxend = isn + 1 + 65535;
	nf.dir[XDPCT_LOCAL].end = cookie + 1;
	nf.dir[XDPCT_LOCAL].maxack = isn + 1;
	nf.dir[XDPCT_LOCAL].maxwin = 65535;
	nf.dir[XDPCT_LOCAL].maxend = cookie + 1 + (rwin ? rwin : 1);
	nf.packets[XDPCT_REMOTE] = 1;
	nf.bytes[XDPCT_REMOTE] = pkt_ip_len(p);
	/* asked again rather than carried: a flag on the stack would split
	 * every path of xdp_no_flow() in two for the verifier */
	if (x->profile && xdp_is_proxy(x->t, x->profile)) {
		/* a server behind this box: the ACK becomes our SYN to it */
		if (!flow_insert(x->ref, &nf, BPF_NOEXIST))
			ct_event(x->ref, &nf, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
		/* opened from xdpct_xdp(): one call deep, the stack is short */
		return xdp_proxy_opening(a);
	}
	pr = profile_of(x->profile);
	if (pr && pr->handover == XDPCT_HANDOVER_NAT) {
		/* the listener is behind DNAT: the program on its namespace's
		 * interface hands the ACK over with these (XDP metadata does
		 * not survive forwarding) */
		struct xdpct_handoff h = { .attrs = *a, .ho.first_seq = pe.ho.first_seq, .made_ns = now };
		struct xdpct_handoff_key hk;

		handoff_key(x->t, cookie + 1, &hk);
		bpf_map_update_elem(&xdpct_handoff, &hk, &h, BPF_ANY);
		if (!flow_insert(x->ref, &nf, BPF_NOEXIST))
			ct_event(x->ref, &nf, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
		count(XDPCT_STAT_NAT_STORED);
		count(XDPCT_STAT_V_PASS_COOKIE);
		return XDP_PASS;
	}
	pending_key(x->t, true, &pk);
	bpf_map_update_elem(&xdpct_pending, &pk, &pe, BPF_ANY);
	if (!flow_insert(x->ref, &nf, BPF_NOEXIST))
		ct_event(x->ref, &nf, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
	if (attach_meta(ctx, XDPCT_META_ATTRS, a)) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_PASS_COOKIE);
	return XDP_PASS;
}

/* SYN to an observed port: the handshake is tracked from here. */
static __noinline int xdp_observe_syn(struct xdp_md *ctx, struct xdp_pkt *x)
{
	void *data = (void *)(long)ctx->data;
	struct pkt *p = &x->p;
	struct xdpct_flow nf = {};
	struct tcp_opts o;
	struct ct_seg seg;

	ct_seg_from(&seg, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &o) == 0 &&
	    o.wscale != 0xff)
		seg.wscale = o.wscale;
	ct_init_syn(&nf, XDPCT_REMOTE, &seg, now_ns());
	if (!flow_insert(x->ref, &nf, BPF_NOEXIST))
		ct_event(x->ref, &nf, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
	count(XDPCT_STAT_V_PASS_CT_NEW);
	return XDP_PASS;
}

/* A connection the kernel has but the table lost (the LRU, an eviction
 * race, a delete): its entry again, from the socket. 1: entry made (or
 * made meanwhile by another CPU); 2: a TIME_WAIT socket; 0: none. */
static __noinline int xdp_readopt(struct xdp_md *ctx, struct xdp_pkt *x)
{
	struct xdpct_flow nf = {};
	struct sock_view v;
	__u8 fin_l, fin_r, st;
	__u64 now;
	int r;

	count(XDPCT_STAT_LOST_LOOKUP);
	r = sock_find_xdp(ctx, x->t, &v);
	if (r != 1)
		return r;
	st = sock_ct_state(v.state, &fin_l, &fin_r);
	if (st == XDPCT_CT_NONE)
		return 0;
	now = now_ns();
	nf.first_s = now / 1000000000ULL;
	nf.last_tick = now >> XDPCT_TICK_SHIFT;
	nf.state = st;
	/* who opened it is not known: on a protected port, most likely the
	 * remote side */
	nf.flags = XDPCT_FLOW_ADOPTED | XDPCT_FLOW_REMOTE_OPENED;
	flow_set_from_sock(&nf, &v);
	if (fin_l)
		nf.tcp_flags[XDPCT_LOCAL] |= TCP_FLAG_FIN;
	if (fin_r)
		nf.tcp_flags[XDPCT_REMOTE] |= TCP_FLAG_FIN;
	if (!flow_insert(x->ref, &nf, BPF_NOEXIST)) {
		count(XDPCT_STAT_CT_READOPT);
		ct_event_readopt(x->ref, &nf);
	}
	return 1;
}

/* The network-order mask of the first bits of a 32-bit word. */
static __always_inline __u32 prefix_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(~0u << (32 - bits));
}

/* Whether a SYN from t's source is beyond its prefix's rate (GCRA: the
 * prefix's next arrival time may run at most tau ahead of now); takes its
 * token when not. A global function, called only while a limit is set. */
__noinline int syn_over_rate(const struct tuple *t, const struct xdpct_synlimit *l)
{
	struct xdpct_synrate_key k = {};
	__u64 now = now_ns(), tat, *p;
	int bits, i;

	if (!t || !l)
		return 0;
	k.family = t->family;
	bits = t->family == 4 ? l->prefix4 : l->prefix6;
	for (i = 0; i < 4; i++) {
		__u32 w = t->saddr[i] & prefix_mask(bits - 32 * i);

		__builtin_memcpy(&k.addr[4 * i], &w, 4);
	}
	p = bpf_map_lookup_elem(&xdpct_synrate, &k);
	if (!p) {
		tat = now + l->interval_ns;
		bpf_map_update_elem(&xdpct_synrate, &k, &tat, BPF_ANY);
		return 0;
	}
	tat = *p > now ? *p : now;
	if (tat - now > l->tau_ns)
		return 1;
	/* not atomic: two CPUs may both take the last token of a prefix */
	*p = tat + l->interval_ns;
	return 0;
}

/* A packet with no entry. */
static __noinline int xdp_no_flow(struct xdp_md *ctx, struct xdp_pkt *x)
{
	void *data = (void *)(long)ctx->data;
	struct pkt *p = &x->p;
	struct xdpct_req_attrs a;
	bool syn_only = (p->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	int r = -1;

	if (!x->protect) {
		if (syn_only && !bad_source(x))
			return xdp_observe_syn(ctx, x);
		if (syn_only)
			count(XDPCT_STAT_CT_INVALID); /* tracked never, dropped never */
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}
	if (!dest_local(x) && !(x->profile && xdp_is_proxy(x->t, x->profile))) {
		count(XDPCT_STAT_V_PASS_NOT_LOCAL);
		return XDP_PASS;
	}
	if (bad_source(x)) {
		count(XDPCT_STAT_V_DROP_BAD_SOURCE);
		return XDP_DROP;
	}
	if (syn_only) {
		__u32 zero = 0;
		struct xdpct_synlimit *l;

		if (x->auto_port)
			auto_count_syn(p->tcp->dest);
		l = bpf_map_lookup_elem(&xdpct_synlimit, &zero);
		if (!x->calm) {
			/* no entry: the answer a lookup that finds nothing leads
			 * to; without the lookup when xdpct_seen says there surely
			 * is none */
			count(XDPCT_STAT_SYN_SEEN);
			if (!x->maybe)
				count(XDPCT_STAT_SYN_NO_LOOKUP);
		}
		/* the limit bounds what one prefix gets: cookies, or, calm,
		 * the entries the kernel's handshakes make */
		if (l && l->interval_ns && syn_over_rate(x->t, l)) {
			count(XDPCT_STAT_V_DROP_SYN_RATE);
			return XDP_DROP;
		}
		if (x->calm) {
			/* an auto port, no attack: the kernel answers, tracked
			 * from here in the protected table (a SYN the kernel
			 * answers makes an entry, as on an observed port: at most
			 * the threshold's rate of them) */
			count(XDPCT_STAT_AUTO_KERNEL_SYN);
			return xdp_observe_syn(ctx, x);
		}
		r = answer_syn(ctx, pkt_where(p, data) | (__u32)x->profile << 20, x->cfg);
		/* a proxy port's server behind this box: no client data until
		 * it is there (TC egress opens the window at its SYN-ACK), as
		 * netfilter's SYNPROXY does */
		if (r == XDP_TX && x->profile && xdp_is_proxy(x->t, x->profile))
			proxy_zero_window(ctx, x->p.l3_off + (x->t->family == 4 ? 20 : 40));
		return r;
	}
	if ((p->flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) == TCP_FLAG_ACK) {
		r = check_cookie(ctx, pkt_where(p, data), x->cfg, &a);
		if (r == COOKIE_GOOD) {
			count(XDPCT_STAT_COOKIE_GOOD);
			return xdp_cookie_flow(ctx, x, &a);
		}
	}
	/* no entry, no cookie: a connection that lost its entry gets it
	 * back; a tuple that never had one (a flood) pays no socket lookup */
	if (x->maybe) {
		int s = xdp_readopt(ctx, x);

		if (s == 1)
			return XDP_READOPTED;
		if (s == 2) {
			count(XDPCT_STAT_V_PASS_KERNEL_TW);
			return XDP_PASS;
		}
	}
	if (x->calm) { /* no attack: what the kernel makes of it */
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}
	if (r == COOKIE_BAD) {
		count(XDPCT_STAT_V_DROP_COOKIE_BAD);
		return XDP_DROP;
	}
	if (r == COOKIE_STALE) {
		count(XDPCT_STAT_V_DROP_COOKIE_STALE);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_DROP_NO_FLOW);
	return XDP_DROP;
}

/* Malformed frames and TCP fragments: the port decides where one can be
 * read, as for any packet; the kernel checks what has none; TCP hidden from
 * xdpct is never passed. No state, no SYN-ACK. */
static __always_inline int xdp_unparsed(const struct xdpct_config *cfg,
					const struct pkt *p, int r)
{
	bool drop = p->ports == PORTS_HIDDEN;

	if (p->ports == PORTS_READ) {
		__u32 port = bpf_ntohs(p->dport);
		__u8 *pf = bpf_map_lookup_elem(&xdpct_ports, &port);

		drop = (pf && (*pf & XDPCT_PORT_PROTECT)) || observed(cfg, p->dport, p->sport);
	}
	if (r == PARSE_FRAGMENT) {
		count(drop ? XDPCT_STAT_V_DROP_FRAGMENT : XDPCT_STAT_V_PASS_FRAGMENT);
	} else {
		count(p->err);
		count(drop ? XDPCT_STAT_V_DROP_MALFORMED : XDPCT_STAT_V_PASS_MALFORMED);
	}
	return drop ? XDP_DROP : XDP_PASS;
}

/* The proxy paths, from the scratch: nothing of xdpct_xdp()'s stays live
 * across its calls for them (its frame is at the stack's limit). */
static __always_inline int xdp_proxy_call(struct xdp_md *ctx, int what)
{
	__u32 zero = 0;
	struct xdp_scratch *sc = bpf_map_lookup_elem(&xdpct_xdp_scratch, &zero);

	if (!sc) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	if (what == XDP_PROXY_OPEN)
		return proxy_open_xdp(ctx, sc->where, &sc->a);
	return proxy_in_xdp(ctx, sc->where);
}

SEC("xdp")
int xdpct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	struct xdp_scratch *sc;
	struct xdp_pkt x = {};
	__u32 zero = 0, port;
	bool protect, auto_port;
	__u8 *pflags;
	int r;

	count(XDPCT_STAT_XDP_PACKETS);
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED)) {
		count(XDPCT_STAT_V_PASS_DISABLED);
		return XDP_PASS;
	}

	r = parse_pkt(data, data_end, data_end - data, &x.p);
	if (r == PARSE_NOT_TCP) {
		count(XDPCT_STAT_V_PASS_NOT_TCP);
		return XDP_PASS;
	}
	if (r != PARSE_TCP || !x.p.tcp)
		return xdp_unparsed(cfg, &x.p, r);

	port = bpf_ntohs(x.p.tcp->dest);
	pflags = bpf_map_lookup_elem(&xdpct_ports, &port);
	protect = pflags && (*pflags & XDPCT_PORT_PROTECT);
	auto_port = protect && (*pflags & XDPCT_PORT_AUTO);
	if (!protect && !observed(cfg, x.p.tcp->dest, x.p.tcp->source)) {
		count(XDPCT_STAT_V_PASS_UNPROTECTED);
		return XDP_PASS;
	}
	/* the lists, only while they hold a prefix: no call otherwise */
	r = (cfg->flags & XDPCT_CFG_ACL) ? xdp_acl(ctx, cfg, pkt_where(&x.p, data), protect) : 0;
	if (r == XDPCT_ACL_DENY)
		return XDP_DROP;
	if (r == XDPCT_ACL_ALLOW)
		protect = auto_port = false;
	if (!ct_flags_valid(x.p.flags)) {
		/* netfilter's flag check: a FIN without ACK, SYN+RST, no flags.. */
		if (protect) {
			count(XDPCT_STAT_V_DROP_BAD_FLAGS);
			return XDP_DROP;
		}
		count(XDPCT_STAT_CT_INVALID); /* observing never drops */
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}

	x.cfg = cfg;
	x.protect = protect;
	x.auto_port = auto_port;
	x.profile = protect ? *pflags >> XDPCT_PORT_PROFILE_SHIFT : 0;
	x.calm = auto_port && !auto_cookies(*pflags);
	sc = bpf_map_lookup_elem(&xdpct_xdp_scratch, &zero);
	if (!sc) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	x.t = &sc->t;
	x.ref = &sc->ref;
	sc->tcp_off = (void *)x.p.tcp - data;
	sc->tcp_len = x.p.tcp_len;
	sc->ip_len = x.p.ip_len;
	sc->where = pkt_where(&x.p, data);
	pkt_tuple(&x.p, x.t);
	flow_ref_of(x.t, true, !protect, x.ref);
	/* no bit: surely no entry and no socket, skip the lookup */
	x.maybe = !protect || seen_maybe(x.ref->bit);
	f = x.maybe ? flow_lookup(x.ref) : NULL;
	if (f && x.profile && (x.p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	    (f->state == XDPCT_CT_TIME_WAIT || f->state == XDPCT_CT_CLOSE) &&
	    xdp_is_proxy(x.t, x.profile)) {
		xdp_proxy_reuse(&x);
		f = NULL;
	}
	if (f && protect && (x.p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		__u8 st = f->state, fl = f->flags; /* hints: ct_apply decides */

		if (fl & XDPCT_FLOW_PENDING) {
			/* the client's SYN again: its cookie again, but never to
			 * a source or MAC Linux would not answer */
			if (bad_source(&x)) {
				count(XDPCT_STAT_V_DROP_BAD_SOURCE);
				return XDP_DROP;
			}
			count(XDPCT_STAT_SYN_SEEN);
			return answer_syn(ctx, pkt_where(&x.p, data) | (__u32)x.profile << 20, cfg);
		}
		if (st != XDPCT_CT_TIME_WAIT && st != XDPCT_CT_CLOSE) {
			/* a live connection's: the kernel answers (challenge ACK) */
			count(XDPCT_STAT_SYN_SEEN);
			count(XDPCT_STAT_V_PASS_SYN_TRACKED);
			return XDP_PASS;
		}
	}
	if (!f) {
		r = xdp_no_flow(ctx, &x);
		if (r == XDP_PROXY_OPEN)
			return xdp_proxy_call(ctx, XDP_PROXY_OPEN);
		if (r != XDP_READOPTED)
			return r;
		f = flow_lookup(x.ref);
	}
	if (f) {
		r = xdp_flow_packet(ctx, f, protect | (__u32)x.profile << 8);
		return r == XDP_PROXY_IN ? xdp_proxy_call(ctx, XDP_PROXY_IN) : r;
	}
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

#endif
