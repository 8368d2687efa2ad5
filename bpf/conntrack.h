/* SPDX-License-Identifier: GPL-2.0 */
/* The TCP state machine: netfilter's transition table (include/xdpct.h)
 * plus sequence tracking per side, applied in place to a flow entry. */
#ifndef XDPCT_CONNTRACK_H
#define XDPCT_CONNTRACK_H

/* Global, not static: a const table lands in .rodata, which libbpf and
 * iproute2 both load; indexed with a bounded offset. */
const __u8 xdpct_ct_table[2][XDPCT_PKT_MAX][XDPCT_CT_MAX] = XDPCT_CT_TABLE;

/* One segment, as ct_update() needs it. */
struct ct_seg {
	__u32 seq;
	__u32 ack;
	__u32 len;    /* payload bytes */
	__u32 ip_len; /* bytes counted for the flow */
	__u16 win;
	__u8 flags;   /* TCP flags byte */
	__u8 wscale;  /* SYN's window shift, 0xf none (SYN and SYN-ACK only) */
};

enum ct_result {
	CT_OK = 0,
	CT_INVALID,       /* the table says invalid for this state */
	CT_RST_WINDOW,    /* RST outside the receiver's window */
	CT_ACK_WINDOW,    /* acknowledges data the other side never sent */
	CT_RST_CHALLENGE, /* RST in window, not exact: the host challenges it */
};

static __always_inline void ct_seg_from(struct ct_seg *s, const struct tcphdr *tcp,
					__u32 payload, __u32 ip_len)
{
	s->seq = bpf_ntohl(tcp->seq);
	s->ack = bpf_ntohl(tcp->ack_seq);
	s->len = payload;
	s->ip_len = ip_len;
	s->win = bpf_ntohs(tcp->window);
	s->flags = tcp_flags(tcp);
	s->wscale = 0xf;
}

static __always_inline __u32 ct_pkt_class(__u8 flags)
{
	if (flags & TCP_FLAG_RST)
		return XDPCT_PKT_RST;
	if (flags & TCP_FLAG_SYN)
		return flags & TCP_FLAG_ACK ? XDPCT_PKT_SYNACK : XDPCT_PKT_SYN;
	if (flags & TCP_FLAG_FIN)
		return XDPCT_PKT_FIN;
	if (flags & TCP_FLAG_ACK)
		return XDPCT_PKT_ACK;
	return XDPCT_PKT_NONE;
}

static __always_inline bool seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

static __always_inline __u8 side_seen_flag(int side)
{
	return side == XDPCT_REMOTE ? XDPCT_FLOW_SEEN_REMOTE : XDPCT_FLOW_SEEN_LOCAL;
}

/* Starts a flow from its opening SYN sent by side. */
static __always_inline void ct_init_syn(struct xdpct_flow *f, int side,
					const struct ct_seg *s, __u64 now)
{
	struct xdpct_dir *d = &f->dir[side & 1];

	__builtin_memset(f, 0, sizeof(*f));
	f->first_s = now / 1000000000ULL;
	f->last_tick = now >> XDPCT_TICK_SHIFT;
	f->state = XDPCT_CT_SYN_SENT;
	f->flags = side_seen_flag(side) |
		   (side == XDPCT_REMOTE ? XDPCT_FLOW_REMOTE_OPENED : 0);
	d->end = s->seq + s->len + 1;
	d->maxack = 0;
	d->win = s->win;
	d->wscale = s->wscale;
	d->flags = s->flags;
	f->dir[(side ^ 1) & 1].wscale = 0xf;
	f->packets[side & 1] = 1;
	f->bytes[side & 1] = s->ip_len;
}

/* Global subprogram: verified once, shared by XDP ingress (side REMOTE)
 * and TC egress (side LOCAL). Writes the entry in place. */
__noinline int ct_update(struct xdpct_flow *f, struct ct_seg *s, int side,
			 __u64 now)
{
	struct xdpct_dir *snd, *rcv;
	__u32 st, pkt, dir, idx, ns, end;
	bool rcv_seen;

	if (!f || !s)
		return CT_INVALID;
	side &= 1;
	snd = &f->dir[side];
	rcv = &f->dir[side ^ 1];
	rcv_seen = f->flags & side_seen_flag(side ^ 1);
	st = f->state;
	if (st >= XDPCT_CT_MAX)
		return CT_INVALID;
	pkt = ct_pkt_class(s->flags);
	dir = (side == XDPCT_REMOTE) == !!(f->flags & XDPCT_FLOW_REMOTE_OPENED) ?
		      XDPCT_DIR_ORIG : XDPCT_DIR_REPLY;
	idx = dir * XDPCT_PKT_MAX * XDPCT_CT_MAX + pkt * XDPCT_CT_MAX + st;
	if (idx >= sizeof(xdpct_ct_table))
		return CT_INVALID;
	ns = ((const __u8 *)xdpct_ct_table)[idx];

	if (pkt == XDPCT_PKT_RST && rcv_seen && side == XDPCT_REMOTE) {
		/* RFC 5961 3.2: exact seq closes; in window is challenged by
		 * the endpoint; outside is dropped. Exact: the receiver's last
		 * ack, or the sender's next seq (the receiver may not have
		 * acked all it got yet). The local stack's RSTs are its own. */
		__u32 shift = (snd->wscale != 0xf && rcv->wscale != 0xf) ? rcv->wscale & 0xf : 0;
		__u32 wnd = (__u32)rcv->win << shift;
		/* a receiver that never acked (it only sent a SYN): measure
		 * from the sender's own next seq */
		__u32 base = (rcv->flags & TCP_FLAG_ACK) ? rcv->maxack : snd->end;
		__u32 off = s->seq - base;
		bool exact = off == 0 ||
			     ((f->flags & side_seen_flag(side)) && s->seq == snd->end);

		if (!exact) {
			if (off < (wnd ? wnd : 1))
				return CT_RST_CHALLENGE;
			return CT_RST_WINDOW;
		}
	}
	if ((s->flags & TCP_FLAG_ACK) && rcv_seen && seq_after(s->ack, rcv->end)) {
		if (!(f->flags & XDPCT_FLOW_ADOPTED))
			return CT_ACK_WINDOW;
		/* adopted: the other side sent this before the entry existed
		 * (its first packet seen may have been a keepalive or probe) */
		rcv->end = s->ack;
	}
	if (ns == XDPCT_CT_INVALID)
		return CT_INVALID;
	f->packets[side] += 1;
	f->bytes[side] += s->ip_len;
	f->last_tick = now >> XDPCT_TICK_SHIFT;
	if (ns == XDPCT_CT_IGNORE)
		return CT_OK; /* counted, but no window tracking (as netfilter) */

	/* refinements of the table */
	if (ns == XDPCT_CT_CLOSE_WAIT && st == XDPCT_CT_FIN_WAIT &&
	    !((rcv->flags & TCP_FLAG_FIN) && !seq_after(rcv->end, s->ack)))
		ns = st; /* only the other side's ACK of the FIN */
	if (ns == XDPCT_CT_TIME_WAIT && st == XDPCT_CT_LAST_ACK &&
	    pkt == XDPCT_PKT_ACK &&
	    !((rcv->flags & TCP_FLAG_FIN) && !seq_after(rcv->end, s->ack)))
		ns = st; /* only the ACK of the last FIN */
	if ((f->flags & XDPCT_FLOW_PENDING) && ns == XDPCT_CT_ESTABLISHED)
		ns = st; /* a cookie flow is established when the child exists */

	end = s->seq + s->len + !!(s->flags & TCP_FLAG_SYN) + !!(s->flags & TCP_FLAG_FIN);
	if (!(f->flags & side_seen_flag(side))) {
		snd->end = end;
		snd->maxack = s->ack;
		f->flags |= side_seen_flag(side);
	} else {
		if (seq_after(end, snd->end))
			snd->end = end;
		/* the first ACK is taken as is: maxack means nothing before */
		if ((s->flags & TCP_FLAG_ACK) &&
		    (!(snd->flags & TCP_FLAG_ACK) || seq_after(s->ack, snd->maxack)))
			snd->maxack = s->ack;
	}
	if (s->flags & TCP_FLAG_SYN)
		snd->wscale = s->wscale;
	snd->win = s->win;
	snd->flags |= s->flags;
	if (ns < XDPCT_CT_MAX)
		f->state = ns;
	return CT_OK;
}

#endif
