/* SPDX-License-Identifier: GPL-2.0 */
/* Handing a validated cookie ACK to its listener at TC ingress
 * (bpf_sk_assign_tcp_reqsk): the listener of the attached interface's
 * namespace (tc.h), or one behind DNAT in another namespace of this host
 * (bpf/nat.bpf.c, with the attributes XDP stored in xdpct_handoff). */
#ifndef XDPCT_HANDOVER_H
#define XDPCT_HANDOVER_H

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_HANDOFF_MAX);
	__type(key, struct xdpct_handoff_key);
	__type(value, struct xdpct_handoff);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_handoff SEC(".maps");

static __always_inline void handoff_key(const struct tuple *t, __u32 ack,
					struct xdpct_handoff_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->raddr, t->saddr, 16);
	k->ack = ack;
	k->rport = t->sport;
	k->family = t->family;
}

/* The headers, parsed where they lie: only a packet whose headers are
 * not all in the linear part pays a pull (never the payload of a GSO
 * packet). */
static __always_inline int skb_tuple(struct __sk_buff *skb, struct pkt *p,
				     struct tuple *t)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < 128 ? skb->len : 128;
	int r;

	r = parse_pkt(data, data_end, skb->len, p);
	if (r == PARSE_MALFORMED && data + want > data_end) {
		if (bpf_skb_pull_data(skb, want))
			return -1;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		__builtin_memset(p, 0, sizeof(*p));
		r = parse_pkt(data, data_end, skb->len, p);
	}
	if (r != PARSE_TCP || !p->tcp)
		return -1;
	pkt_tuple(p, t);
	return 0;
}

enum handover_result {
	HO_NO_LISTENER, /* nothing listens: the kernel resets it */
	HO_HANDED,      /* the kernel makes the child from this packet */
	HO_DUP,         /* left to the child the previous packet makes */
	HO_FAIL,        /* the kfunc refused */
	HO_NOT_FIRST,   /* a later segment while the first is missing: drop */
	HO_CHILD,       /* the child exists: the handshake is over */
	HO_WAIT,        /* a request or TIME_WAIT socket: the kernel decides */
	HO_TWIN,        /* the first segment's twin, handed on another CPU a
			 * moment ago: drop */
};

/* The packet's listener in the skb's namespace takes it with attrs.
 * hs: the flow's stored handover, if there is one. */
static __always_inline int handover(struct __sk_buff *skb, const struct tuple *t, __u32 seq,
				    struct bpf_tcp_req_attrs *attrs,
				    struct xdpct_handover_state *hs)
{
	struct bpf_sock_tuple bt = {};
	struct bpf_sock *skc;
	__u32 tlen;
	int r;

	if (t->family == 4) {
		bt.ipv4.saddr = t->saddr[0];
		bt.ipv4.daddr = t->daddr[0];
		bt.ipv4.sport = t->sport;
		bt.ipv4.dport = t->dport;
		tlen = sizeof(bt.ipv4);
	} else {
		__builtin_memcpy(bt.ipv6.saddr, t->saddr, 16);
		__builtin_memcpy(bt.ipv6.daddr, t->daddr, 16);
		bt.ipv6.sport = t->sport;
		bt.ipv6.dport = t->dport;
		tlen = sizeof(bt.ipv6);
	}
	skc = bpf_skc_lookup_tcp(skb, &bt, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!skc)
		return HO_NO_LISTENER;
	if (skc->state == BPF_TCP_LISTEN) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
		__u64 now = now_ns();
		__u32 cpu = bpf_get_smp_processor_id();

		if (hs && seq != hs->first_seq) {
			/* the first segment met a full accept queue and a later
			 * one came before its retransmission: handed over, it
			 * would start the connection past the missing bytes */
			r = HO_NOT_FIRST;
		} else if (!tp) {
			r = HO_FAIL;
		} else if (hs && ns_since(now, *(volatile __u64 *)&hs->handoff_ns) < XDPCT_HANDOFF_DUP_NS &&
			   tp->inet_conn.icsk_inet.sk.sk_ack_backlog <
				   tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog) {
			/* the previous packet will make the child; with room in
			 * the accept queue it cannot fail for lack of space. On
			 * this CPU it does so before this packet reaches TCP;
			 * from another, this one may get there first, find only
			 * the listener and be answered with a reset */
			r = *(volatile __u32 *)&hs->handoff_cpu == cpu ? HO_DUP : HO_TWIN;
		} else if (bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, attrs,
						   sizeof(*attrs)) == 0) {
			if (hs) {
				/* the CPU first: a reader on another CPU that sees
				 * the new time sees its CPU, not the one before
				 * (x86 keeps stores and loads in order; the loads
				 * above read time, then CPU) */
				*(volatile __u32 *)&hs->handoff_cpu = cpu;
				*(volatile __u64 *)&hs->handoff_ns = now;
			}
			r = HO_HANDED;
		} else {
			r = HO_FAIL;
		}
	} else if (skc->state != BPF_TCP_NEW_SYN_RECV && skc->state != BPF_TCP_TIME_WAIT) {
		r = HO_CHILD;
	} else {
		r = HO_WAIT;
	}
	bpf_sk_release(skc);
	return r;
}

#endif
