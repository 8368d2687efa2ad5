/* SPDX-License-Identifier: GPL-2.0 */
/* XDP ingress: the remote side's packets, before the kernel sees them. */
#ifndef XDPCT_XDP_H
#define XDPCT_XDP_H

/* The three paths below are separate subprograms, each with its own
 * stack frame: inlined, their locals would not fit in 512 bytes together
 * with check_cookie()'s. */

/* Verdict for a packet whose flow entry exists. */
static __noinline int xdp_flow_packet(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t, struct xdpct_flow *f,
				      bool protect)
{
	__u64 now = now_ns();
	__u8 old_state;
	bool pending_ack = (f->flags & XDPCT_FLOW_PENDING) &&
			   (p->flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) ==
				   TCP_FLAG_ACK;
	struct ct_seg seg;
	int r;

	ct_seg_from(&seg, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (seg.flags & TCP_FLAG_SYN) { /* a SYN-ACK, or a SYN again: its shift */
		void *data = (void *)(long)ctx->data;
		struct tcp_opts o;

		if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &o) == 0 &&
		    o.wscale != 0xff)
			seg.wscale = o.wscale;
	}
	old_state = f->state;
	r = ct_update(f, &seg, XDPCT_REMOTE, now);
	close_event(t, true, f, old_state);
	if (r == CT_RST_CHALLENGE) {
		count(XDPCT_STAT_CT_RST_CHALLENGE);
	} else if (r != CT_OK) {
		count(XDPCT_STAT_CT_INVALID);
		if (protect) { /* observing never drops */
			if (r == CT_RST_WINDOW)
				count(XDPCT_STAT_V_DROP_RST_WINDOW);
			else if (r == CT_ACK_WINDOW)
				count(XDPCT_STAT_V_DROP_ACK_WINDOW);
			else
				count(XDPCT_STAT_V_DROP_CT_INVALID);
			return XDP_DROP;
		}
	}
	if (pending_ack) {
		/* until TC sees the child socket, every ACK carries the
		 * attributes again: the first may have met a full accept queue */
		struct xdpct_flow_key pk;
		struct xdpct_pending *pe;
		struct xdpct_req_attrs a;

		pending_key(t, true, &pk);
		pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
		if (pe) {
			a = pe->attrs;
			if (attach_meta(ctx, &a)) {
				count(XDPCT_STAT_V_DROP_ERROR);
				return XDP_DROP;
			}
		} else {
			count(XDPCT_STAT_CT_PENDING_LOST);
		}
	}
	count(XDPCT_STAT_V_PASS_FLOW);
	return XDP_PASS;
}

/* A valid cookie ACK: the flow starts at SYN_RECV, pending until TC sees
 * the listener's child socket. */
static __noinline int xdp_cookie_flow(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t, const struct xdpct_config *cfg,
				      const struct xdpct_req_attrs *a)
{
	struct xdpct_pending pe = {
		.attrs = *a,
		.first_seq = bpf_ntohl(p->tcp->seq),
	};
	__u64 now = now_ns();
	struct xdpct_flow_key pk;
	struct xdpct_flow nf = {};
	union flow_key k;
	__u32 isn = bpf_ntohl(p->tcp->seq) - 1, cookie = bpf_ntohl(p->tcp->ack_seq) - 1;

	nf.first_s = now / 1000000000ULL;
	nf.last_tick = now >> XDPCT_TICK_SHIFT;
	nf.state = XDPCT_CT_SYN_RECV;
	nf.flags = XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED |
		   XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	nf.dir[XDPCT_REMOTE].end = isn + 1 + p->tcp_len - p->tcp->doff * 4 +
				   !!(p->flags & TCP_FLAG_FIN);
	nf.dir[XDPCT_REMOTE].maxack = cookie + 1;
	nf.dir[XDPCT_REMOTE].win = bpf_ntohs(p->tcp->window);
	nf.dir[XDPCT_REMOTE].wscale = a->wscale_ok ? a->snd_wscale : 0xf;
	nf.dir[XDPCT_REMOTE].flags = TCP_FLAG_SYN | p->flags;
	nf.dir[XDPCT_LOCAL].end = cookie + 1;
	nf.dir[XDPCT_LOCAL].maxack = isn + 1;
	nf.dir[XDPCT_LOCAL].win = 0xffff;
	nf.dir[XDPCT_LOCAL].wscale = a->wscale_ok ? cfg->wscale : 0xf;
	nf.dir[XDPCT_LOCAL].flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	nf.packets[XDPCT_REMOTE] = 1;
	nf.bytes[XDPCT_REMOTE] = pkt_ip_len(p);
	pending_key(t, true, &pk);
	bpf_map_update_elem(&xdpct_pending, &pk, &pe, BPF_ANY);
	flow_key(t, true, &k);
	flow_insert(t->family, &k, &nf);
	if (attach_meta(ctx, a)) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_PASS_COOKIE);
	return XDP_PASS;
}

/* SYN to an observed port, or reopening a closed flow: the handshake is
 * tracked from here. */
static __noinline int xdp_observe_syn(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t)
{
	void *data = (void *)(long)ctx->data;
	struct xdpct_flow nf;
	union flow_key k;
	struct tcp_opts o;
	struct ct_seg seg;

	ct_seg_from(&seg, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &o) == 0 &&
	    o.wscale != 0xff)
		seg.wscale = o.wscale;
	ct_init_syn(&nf, XDPCT_REMOTE, &seg, now_ns());
	flow_key(t, true, &k);
	flow_insert(t->family, &k, &nf);
	count(XDPCT_STAT_V_PASS_CT_NEW);
	return XDP_PASS;
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

SEC("xdp")
int xdpct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct tuple t;
	__u32 zero = 0, port;
	bool protect;
	__u8 *pflags;
	int r;

	count(XDPCT_STAT_XDP_PACKETS);
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED)) {
		count(XDPCT_STAT_V_PASS_DISABLED);
		return XDP_PASS;
	}

	r = parse_pkt(data, data_end, data_end - data, &p);
	if (r == PARSE_NOT_TCP) {
		count(XDPCT_STAT_V_PASS_NOT_TCP);
		return XDP_PASS;
	}
	if (r != PARSE_TCP || !p.tcp)
		return xdp_unparsed(cfg, &p, r);

	port = bpf_ntohs(p.tcp->dest);
	pflags = bpf_map_lookup_elem(&xdpct_ports, &port);
	protect = pflags && (*pflags & XDPCT_PORT_PROTECT);
	if (!protect && !observed(cfg, p.tcp->dest, p.tcp->source)) {
		count(XDPCT_STAT_V_PASS_UNPROTECTED);
		return XDP_PASS;
	}

	if ((p.flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) == (TCP_FLAG_SYN | TCP_FLAG_RST) ||
	    (p.flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) == (TCP_FLAG_SYN | TCP_FLAG_FIN)) {
		if (protect) {
			count(XDPCT_STAT_V_DROP_BAD_FLAGS);
			return XDP_DROP;
		}
		count(XDPCT_STAT_CT_INVALID); /* observing never drops */
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}

	pkt_tuple(&p, &t);
	flow_key(&t, true, &key);
	if (protect && (p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	    !seen_maybe(seen_bit(t.family, &key))) {
		/* no entry, surely (xdpct_seen): the answer a lookup that finds
		 * nothing leads to, without the lookup's cache and TLB misses */
		count(XDPCT_STAT_SYN_SEEN);
		count(XDPCT_STAT_SYN_NO_LOOKUP);
		return answer_syn(ctx, pkt_where(&p, data), cfg);
	}
	f = flow_lookup(t.family, &key);

	if ((p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		bool closed = f && (f->state == XDPCT_CT_TIME_WAIT ||
				    f->state == XDPCT_CT_CLOSE);

		if (protect)
			count(XDPCT_STAT_SYN_SEEN);
		if (closed) {
			/* a new connection on an old tuple goes to the kernel, which
			 * may hold a TIME_WAIT socket for it (a cookie ACK could not
			 * be handed over then); tracked from this SYN. Only a known
			 * tuple gets here: no way around the cookies for a flood. */
			count(XDPCT_STAT_CT_REOPEN);
			flow_delete(t.family, &key);
			return xdp_observe_syn(ctx, &p, &t);
		}
		if (protect) {
			/* A live connection's SYN goes to the kernel (challenge
			 * ACK); a pending one gets its cookie again. */
			if (f && !(f->flags & XDPCT_FLOW_PENDING)) {
				count(XDPCT_STAT_V_PASS_SYN_TRACKED);
				return XDP_PASS;
			}
			return answer_syn(ctx, pkt_where(&p, data), cfg);
		}
		if (!f)
			return xdp_observe_syn(ctx, &p, &t);
	}

	if (f)
		return xdp_flow_packet(ctx, &p, &t, f, protect);

	if (!protect) {
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}
	if ((p.flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) == TCP_FLAG_ACK) {
		struct xdpct_req_attrs a;

		r = check_cookie(ctx, pkt_where(&p, data), cfg, &a);
		if (r == COOKIE_BAD) {
			count(XDPCT_STAT_V_DROP_COOKIE_BAD);
			return XDP_DROP;
		}
		if (r == COOKIE_STALE) {
			count(XDPCT_STAT_V_DROP_COOKIE_STALE);
			return XDP_DROP;
		}
		count(XDPCT_STAT_COOKIE_GOOD);
		return xdp_cookie_flow(ctx, &p, &t, cfg, &a);
	}

	count(XDPCT_STAT_V_DROP_NO_FLOW);
	return XDP_DROP;
}

#endif
