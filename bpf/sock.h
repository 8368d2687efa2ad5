/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's TCP sockets, read into flow entries: a connection whose
 * entry was lost gets one back, an adopted entry (sock_diag gives no
 * sequence numbers) gets the socket's, and a cookie flow's child socket
 * gives its windows. The socket is the receiver's truth: what it holds is
 * what the windows of bpf/conntrack.h must let through. */
#ifndef XDPCT_SOCK_H
#define XDPCT_SOCK_H

#include <bpf/bpf_core_read.h>

/* What a flow entry needs of a tcp_sock. */
struct sock_view {
	__u32 snd_nxt;
	__u32 snd_una;
	__u32 snd_wnd;    /* the remote's window for us, scaled */
	__u32 max_window; /* the largest window the remote offered */
	__u32 rcv_nxt;
	__u32 rcv_wup;    /* rcv_nxt at our last window update */
	__u32 rcv_wnd;    /* our window, scaled */
	__u8 state;       /* BPF_TCP_* */
	__u8 wscale_ok;
	__u8 snd_wscale;  /* the remote's shift */
	__u8 rcv_wscale;  /* ours */
};

static __always_inline void sock_view_read(struct tcp_sock *tp, struct sock_view *v)
{
	v->snd_nxt = tp->snd_nxt;
	v->snd_una = tp->snd_una;
	v->snd_wnd = tp->snd_wnd;
	v->max_window = tp->max_window;
	v->rcv_nxt = tp->rcv_nxt;
	v->rcv_wup = tp->rcv_wup;
	v->rcv_wnd = tp->rcv_wnd;
	v->state = tp->inet_conn.icsk_inet.sk.__sk_common.skc_state;
	v->wscale_ok = BPF_CORE_READ_BITFIELD(tp, rx_opt.wscale_ok);
	v->snd_wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.snd_wscale);
	v->rcv_wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.rcv_wscale);
}

/* The conntrack state of a socket's connection (as adoption maps them),
 * and which sides have sent a FIN. NONE: nothing to track. */
static __always_inline __u8 sock_ct_state(__u8 sk_state, __u8 *fin_local, __u8 *fin_remote)
{
	*fin_local = *fin_remote = 0;
	switch (sk_state) {
	case BPF_TCP_ESTABLISHED:
		return XDPCT_CT_ESTABLISHED;
	case BPF_TCP_FIN_WAIT1:
	case BPF_TCP_FIN_WAIT2:
		*fin_local = 1;
		return XDPCT_CT_FIN_WAIT;
	case BPF_TCP_CLOSE_WAIT:
		*fin_remote = 1;
		return XDPCT_CT_CLOSE_WAIT;
	case BPF_TCP_CLOSING:
	case BPF_TCP_LAST_ACK:
		*fin_local = *fin_remote = 1;
		return XDPCT_CT_LAST_ACK;
	}
	return XDPCT_CT_NONE;
}

/* Both sides' windows from the socket (f locked, or not yet inserted). */
static __always_inline void flow_set_from_sock(struct xdpct_flow *f, const struct sock_view *v)
{
	struct xdpct_dir *l = &f->dir[XDPCT_LOCAL], *r = &f->dir[XDPCT_REMOTE];

	f->wscale[XDPCT_LOCAL] = v->wscale_ok ? v->rcv_wscale & 0xf : 0xf;
	f->wscale[XDPCT_REMOTE] = v->wscale_ok ? v->snd_wscale & 0xf : 0xf;
	l->end = v->snd_nxt;
	l->maxack = v->rcv_nxt;
	l->maxwin = v->rcv_wnd ? v->rcv_wnd : 1;
	l->maxend = v->snd_una + (v->snd_wnd ? v->snd_wnd : 1);
	if (seq_after(l->end, l->maxend))
		l->maxend = l->end;
	r->end = v->rcv_nxt;
	r->maxack = v->snd_una;
	r->maxwin = v->max_window ? v->max_window : 1;
	r->maxend = v->rcv_wup + l->maxwin;
	if (seq_after(r->end, r->maxend))
		r->maxend = r->end;
	f->tcp_flags[XDPCT_LOCAL] |= TCP_FLAG_ACK;
	f->tcp_flags[XDPCT_REMOTE] |= TCP_FLAG_ACK;
	f->flags |= XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
}

/* The socket of t's connection (t: remote = source, as XDP and TC ingress
 * see it), from this namespace. 1: v filled from a full socket; 2: a
 * TIME_WAIT socket (nothing to read); 0: none, or a listener. */
#define DEFINE_SOCK_FIND(name, ctx_type)                                         \
static __always_inline int name(ctx_type *ctx, const struct tuple *t,            \
				struct sock_view *v)                             \
{                                                                                \
	struct bpf_sock_tuple bt = {};                                           \
	struct bpf_sock *skc;                                                    \
	struct tcp_sock *tp;                                                     \
	__u32 tlen;                                                              \
	int ret = 0;                                                             \
                                                                                 \
	if (t->family == 4) {                                                    \
		bt.ipv4.saddr = t->saddr[0];                                     \
		bt.ipv4.daddr = t->daddr[0];                                     \
		bt.ipv4.sport = t->sport;                                        \
		bt.ipv4.dport = t->dport;                                        \
		tlen = sizeof(bt.ipv4);                                          \
	} else {                                                                 \
		__builtin_memcpy(bt.ipv6.saddr, t->saddr, 16);                   \
		__builtin_memcpy(bt.ipv6.daddr, t->daddr, 16);                   \
		bt.ipv6.sport = t->sport;                                        \
		bt.ipv6.dport = t->dport;                                        \
		tlen = sizeof(bt.ipv6);                                          \
	}                                                                        \
	skc = bpf_skc_lookup_tcp(ctx, &bt, tlen, BPF_F_CURRENT_NETNS, 0);        \
	if (!skc)                                                                \
		return 0;                                                        \
	if (skc->state == BPF_TCP_TIME_WAIT) {                                   \
		ret = 2;                                                         \
	} else if (skc->state != BPF_TCP_LISTEN &&                               \
		   skc->state != BPF_TCP_NEW_SYN_RECV) {                         \
		tp = bpf_skc_to_tcp_sock(skc);                                   \
		if (tp) {                                                        \
			sock_view_read(tp, v);                                   \
			ret = 1;                                                 \
		}                                                                \
	}                                                                        \
	bpf_sk_release(skc);                                                     \
	return ret;                                                              \
}

DEFINE_SOCK_FIND(sock_find_xdp, struct xdp_md)
DEFINE_SOCK_FIND(sock_find_skb, struct __sk_buff)

#endif
