/* SPDX-License-Identifier: GPL-2.0 */
/* TC ingress (cookie ACKs handed to the listener) and TC egress (the
 * local stack's packets drive its side of the state machine). */
#ifndef XDPCT_TC_H
#define XDPCT_TC_H

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __ksym;

static __always_inline int skb_tuple(struct __sk_buff *skb, struct pkt *p,
				     struct tuple *t)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < 128 ? skb->len : 128;

	/* headers in the linear part; never the payload of a GSO packet */
	if (data + want > data_end) {
		if (bpf_skb_pull_data(skb, want))
			return -1;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	if (parse_pkt(data, data_end, skb->len, p) != PARSE_TCP || !p->tcp)
		return -1;
	pkt_tuple(p, t);
	return 0;
}

SEC("tc")
int xdpct_tc_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct xdpct_meta *m = (void *)(long)skb->data_meta;
	struct bpf_tcp_req_attrs attrs;
	struct bpf_sock_tuple bt = {};
	struct xdpct_flow_key pk;
	struct xdpct_pending *pe;
	struct bpf_sock *skc;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct tuple t;
	__u32 tlen;

	if ((void *)(m + 1) > data || m->magic != XDPCT_META_MAGIC)
		return TC_ACT_OK;
	count(XDPCT_STAT_TC_META);
	__builtin_memcpy(&attrs, &m->attrs, sizeof(attrs));

	if (skb_tuple(skb, &p, &t))
		return TC_ACT_OK;
	if (t.family == 4) {
		bt.ipv4.saddr = t.saddr[0];
		bt.ipv4.daddr = t.daddr[0];
		bt.ipv4.sport = t.sport;
		bt.ipv4.dport = t.dport;
		tlen = sizeof(bt.ipv4);
	} else {
		__builtin_memcpy(bt.ipv6.saddr, t.saddr, 16);
		__builtin_memcpy(bt.ipv6.daddr, t.daddr, 16);
		bt.ipv6.sport = t.sport;
		bt.ipv6.dport = t.dport;
		tlen = sizeof(bt.ipv6);
	}

	skc = bpf_skc_lookup_tcp(skb, &bt, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!skc) {
		count(XDPCT_STAT_TC_NO_LISTENER);
		return TC_ACT_OK; /* the kernel resets it, as for a closed port */
	}
	pending_key(&t, true, &pk);
	if (skc->state == BPF_TCP_LISTEN) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
		__u64 now = now_ns();

		pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
		if (pe && bpf_ntohl(p.tcp->seq) != pe->first_seq) {
			/* the first segment met a full accept queue and a later
			 * one came before its retransmission: handed over, it
			 * would start the connection past the missing bytes */
			count(XDPCT_STAT_TC_DROP_NOT_FIRST);
			bpf_sk_release(skc);
			return TC_ACT_SHOT;
		}
		if (!tp) {
			count(XDPCT_STAT_TC_HANDOFF_FAIL);
		} else if (pe && now - pe->handoff_ns < XDPCT_HANDOFF_DUP_NS &&
			   tp->inet_conn.icsk_inet.sk.sk_ack_backlog <
				   tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog) {
			/* the previous packet will make the child; with room in
			 * the accept queue it cannot fail for lack of space */
			count(XDPCT_STAT_TC_HANDOFF_DUP);
		} else if (bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs,
						   sizeof(attrs)) == 0) {
			if (pe)
				pe->handoff_ns = now;
			count(XDPCT_STAT_TC_HANDOFF);
		} else {
			count(XDPCT_STAT_TC_HANDOFF_FAIL);
		}
	} else if (skc->state != BPF_TCP_NEW_SYN_RECV &&
		   skc->state != BPF_TCP_TIME_WAIT) {
		/* the child exists: the handshake is over */
		flow_key(&t, true, &key);
		f = flow_lookup(t.family, &key);
		if (f && (f->flags & XDPCT_FLOW_PENDING)) {
			f->flags &= ~XDPCT_FLOW_PENDING;
			if (f->state == XDPCT_CT_SYN_RECV)
				f->state = XDPCT_CT_ESTABLISHED;
			count(XDPCT_STAT_TC_CHILD_SEEN);
		}
		bpf_map_delete_elem(&xdpct_pending, &pk);
	}
	bpf_sk_release(skc);
	return TC_ACT_OK;
}

/* Egress: the local side's packets drive its half of the state machine.
 * Its own section name: iproute2 takes the first program of a section, and
 * libbpf 1.1 knows no "tc/egress". */
SEC("classifier")
int xdpct_tc_out(struct __sk_buff *skb)
{
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct ct_seg seg;
	struct tuple t;
	__u32 zero = 0, payload, ip_len;
	__u64 now;

	count(XDPCT_STAT_TC_OUT_PACKETS);
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED))
		return TC_ACT_OK;
	if (skb_tuple(skb, &p, &t))
		return TC_ACT_OK;
	/* skb->len, not the IP length fields: a GSO packet may be bigger */
	ip_len = skb->len - p.l3_off;
	payload = ip_len - ((void *)p.tcp - (void *)p.eth - p.l3_off) - p.tcp->doff * 4;
	ct_seg_from(&seg, p.tcp, payload, ip_len);
	flow_key(&t, false, &key);
	f = flow_lookup(t.family, &key);
	now = now_ns();

	if (f) {
		if (seg.flags & TCP_FLAG_SYN) {
			struct tcp_opts o;

			if (parse_opts_skb(skb, (void *)p.tcp - (void *)(long)skb->data,
					   p.tcp->doff * 4 - 20, &o) == 0 && o.wscale != 0xff)
				seg.wscale = o.wscale;
		}
		if ((seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
		    (f->state == XDPCT_CT_TIME_WAIT || f->state == XDPCT_CT_CLOSE)) {
			count(XDPCT_STAT_CT_REOPEN);
			ct_init_syn(f, XDPCT_LOCAL, &seg, now);
			count(XDPCT_STAT_TC_OUT_CT_NEW);
			return TC_ACT_OK;
		}
		__u8 old_state = f->state;
		int r = ct_update(f, &seg, XDPCT_LOCAL, now);

		close_event(&t, false, f, old_state);
		if (r != CT_OK) {
			count(XDPCT_STAT_CT_INVALID);
		} else if ((f->flags & XDPCT_FLOW_PENDING) && !(seg.flags & TCP_FLAG_RST)) {
			/* the local stack answering a cookie flow: its child exists */
			struct xdpct_flow_key pk;

			f->flags &= ~XDPCT_FLOW_PENDING;
			if (f->state == XDPCT_CT_SYN_RECV)
				f->state = XDPCT_CT_ESTABLISHED;
			pending_key(&t, false, &pk);
			bpf_map_delete_elem(&xdpct_pending, &pk);
		}
		count(XDPCT_STAT_TC_OUT_FLOW);
		return TC_ACT_OK;
	}
	if ((seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) ==
		    TCP_FLAG_SYN && observed(cfg, t.sport, t.dport)) {
		struct xdpct_flow nf;
		struct tcp_opts o;

		if (parse_opts_skb(skb, (void *)p.tcp - (void *)(long)skb->data,
				   p.tcp->doff * 4 - 20, &o) == 0 && o.wscale != 0xff)
			seg.wscale = o.wscale;
		ct_init_syn(&nf, XDPCT_LOCAL, &seg, now);
		flow_insert(t.family, &key, &nf);
		count(XDPCT_STAT_TC_OUT_CT_NEW);
	}
	return TC_ACT_OK;
}

#endif
