/* SPDX-License-Identifier: GPL-2.0 */
/* Each endpoint's own TCP state (RFC 9293), derived from what a flow entry
 * (include/xdpct.h) records: the connection state, the flags each side
 * sent, how far each side's data and acks went, and which FIN came after
 * the other's. A view from this host: a segment in flight is not yet
 * counted at the end it goes to. Userspace, the unit tests, and the BPF
 * side (which sends an event when either end's state changes). */
#ifndef XDPCT_EP_H
#define XDPCT_EP_H

#ifndef __bpf__
#include <stdbool.h>
#endif

#include "xdpct.h"

/* The state of side x (enum xdpct_side) of f. */
static inline enum xdpct_ep_state xdpct_ep_state(const struct xdpct_flow *f, int x)
{
	int y = (x ^ 1) & 1, opener;
	bool fin_x, fin_y, acked;

	x &= 1;
	fin_x = f->tcp_flags[x] & 0x01; /* TCP FIN */
	fin_y = f->tcp_flags[y] & 0x01;
	/* y acked all x sent, its FIN included */
	acked = (f->tcp_flags[y] & 0x10) && (__s32)(f->dir[y].maxack - f->dir[x].end) >= 0;
	opener = (f->flags & XDPCT_FLOW_REMOTE_OPENED) ? XDPCT_REMOTE : XDPCT_LOCAL;

	switch (f->state) {
	case XDPCT_CT_CLOSE: /* a RST: both ends are gone */
		return XDPCT_EP_CLOSED;
	case XDPCT_CT_SYN_SENT:
		return x == opener ? XDPCT_EP_SYN_SENT : XDPCT_EP_SYN_RECEIVED;
	case XDPCT_CT_SYN_SENT2: /* simultaneous open: both got a SYN */
		return XDPCT_EP_SYN_RECEIVED;
	case XDPCT_CT_SYN_RECV: /* the SYN-ACK went out: the opener is through */
		return x == opener ? XDPCT_EP_ESTABLISHED : XDPCT_EP_SYN_RECEIVED;
	case XDPCT_CT_ESTABLISHED:
	case XDPCT_CT_FIN_WAIT:
	case XDPCT_CT_CLOSE_WAIT:
	case XDPCT_CT_LAST_ACK:
	case XDPCT_CT_TIME_WAIT:
		break;
	default:
		return XDPCT_EP_UNKNOWN;
	}
	/* an adopted entry's FINs may come from the socket, before anything
	 * was seen: which came first is not known */
	if ((f->flags & XDPCT_FLOW_ADOPTED) && (fin_x || fin_y))
		return XDPCT_EP_UNKNOWN;
	if (!fin_x && !fin_y)
		return XDPCT_EP_ESTABLISHED;
	if (!fin_y)
		return acked ? XDPCT_EP_FIN_WAIT_2 : XDPCT_EP_FIN_WAIT_1;
	if (!fin_x)
		return XDPCT_EP_CLOSE_WAIT;
	if (f->flags & (XDPCT_FLOW_FIN_AFTER_REMOTE << x)) /* x closed second */
		return acked ? XDPCT_EP_CLOSED : XDPCT_EP_LAST_ACK;
	if (f->flags & (XDPCT_FLOW_FIN_AFTER_REMOTE << y)) /* x closed first */
		return XDPCT_EP_TIME_WAIT;
	return acked ? XDPCT_EP_TIME_WAIT : XDPCT_EP_CLOSING; /* simultaneous */
}

#endif
