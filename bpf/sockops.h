/* SPDX-License-Identifier: GPL-2.0 */
/* sock_ops on the root cgroup: the kernel says when a passive connection
 * is established, which for a cookie flow is the moment its child socket
 * exists; the entry becomes ESTABLISHED then, with the child's windows,
 * not at the next packet. Every namespace's sockets come here: only those
 * of the namespace xdpct serves count (its netns cookie in the config). */
#ifndef XDPCT_SOCKOPS_H
#define XDPCT_SOCKOPS_H

#define AF_INET 2
#define AF_INET6 10

/* t from a socket, remote = source as XDP sees the connection; a v4-mapped
 * IPv6 socket (a dual-stack listener) is the IPv4 connection it carries. */
static __always_inline int sock_tuple_of(struct tcp_sock *tp, struct tuple *t)
{
	struct sock_common *c = &tp->inet_conn.icsk_inet.sk.__sk_common;

	__builtin_memset(t, 0, sizeof(*t));
	t->sport = c->skc_dport;
	t->dport = bpf_htons(c->skc_num);
	if (c->skc_family == AF_INET) {
		t->family = 4;
		t->saddr[0] = c->skc_daddr;
		t->daddr[0] = c->skc_rcv_saddr;
		return 0;
	}
	if (c->skc_family != AF_INET6)
		return -1;
	__builtin_memcpy(t->saddr, &c->skc_v6_daddr, 16);
	__builtin_memcpy(t->daddr, &c->skc_v6_rcv_saddr, 16);
	if (!t->saddr[0] && !t->saddr[1] && t->saddr[2] == bpf_htonl(0xffff)) {
		t->family = 4;
		t->saddr[0] = t->saddr[3];
		t->daddr[0] = t->daddr[3];
		t->saddr[1] = t->saddr[2] = t->saddr[3] = 0;
		t->daddr[1] = t->daddr[2] = t->daddr[3] = 0;
		return 0;
	}
	t->family = 6;
	return 0;
}

SEC("sockops")
int xdpct_sockops(struct bpf_sock_ops *ops)
{
	struct xdpct_flow_key pk;
	struct xdpct_config *cfg;
	struct flow_ref ref;
	struct xdpct_flow *f;
	struct sock_view v;
	struct tcp_sock *tp;
	struct bpf_sock *sk;
	struct tuple t;
	__u32 zero = 0;
	bool done = false;
	__u8 old = 0;

	if (ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED) || !cfg->netns_cookie ||
	    bpf_get_netns_cookie(ops) != cfg->netns_cookie)
		return 1;
	sk = ops->sk;
	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || sock_tuple_of(tp, &t))
		return 1;
	flow_ref_of(&t, true, false, &ref); /* cookie flows: protected tables */
	f = flow_lookup(&ref);
	if (!f || !(f->flags & XDPCT_FLOW_PENDING))
		return 1;
	sock_view_read(tp, &v);
	if (flow_lock(f, &ref, false) != FLOW_LOCKED)
		return 1;
	if (f->flags & XDPCT_FLOW_PENDING) {
		f->flags &= ~XDPCT_FLOW_PENDING;
		old = f->state;
		if (old == XDPCT_CT_SYN_RECV)
			f->state = XDPCT_CT_ESTABLISHED;
		flow_set_from_sock(f, &v);
		done = true;
	}
	flow_unlock(f);
	if (done) {
		pending_key(&t, true, &pk);
		bpf_map_delete_elem(&xdpct_pending, &pk);
		count(XDPCT_STAT_SOCKOPS_ESTABLISHED);
		if (old == XDPCT_CT_SYN_RECV)
			ct_event(&ref, f, CT_EV(XDPCT_EV_UPDATE, 0, old, 0));
	}
	return 1;
}

#endif
