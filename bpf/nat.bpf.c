// SPDX-License-Identifier: GPL-2.0
/* TC ingress on the interface of a namespace whose listener sits behind
 * DNAT on this host (a container, a pod): the cookie ACK XDP validated on
 * the host's interface arrives here NAT'ed, without its XDP metadata;
 * the attributes XDP stored under what NAT leaves alone (client address
 * and port, the cookie) hand it to the listener of this namespace.
 * Attached by `xdpct nat add` (user/nat.c) against the pinned maps of
 * the host's attachment. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpct.h"
#include "stats.h"
#include "parse.h"
#include "handover.h"

SEC("tc")
int xdpct_tc_nat(struct __sk_buff *skb)
{
	struct xdpct_handoff_key k;
	struct bpf_tcp_req_attrs attrs;
	struct xdpct_handoff *h;
	struct pkt p = {};
	struct tuple t;
	int r;

	if (skb_tuple(skb, &p, &t) ||
	    (p.flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) != TCP_FLAG_ACK)
		return TC_ACT_OK;
	handoff_key(&t, bpf_ntohl(p.tcp->ack_seq), &k);
	h = bpf_map_lookup_elem(&xdpct_handoff, &k);
	if (!h)
		return TC_ACT_OK;
	__builtin_memcpy(&attrs, &h->attrs, sizeof(attrs));
	r = handover(skb, &t, bpf_ntohl(p.tcp->seq), &attrs, &h->ho);
	switch (r) {
	case HO_NO_LISTENER:
		count(XDPCT_STAT_NAT_NO_LISTENER);
		break;
	case HO_NOT_FIRST:
		count(XDPCT_STAT_NAT_DROP_NOT_FIRST);
		return TC_ACT_SHOT;
	case HO_TWIN:
		count(XDPCT_STAT_NAT_DROP_TWIN);
		return TC_ACT_SHOT;
	case HO_FAIL:
		count(XDPCT_STAT_NAT_HANDOFF_FAIL);
		break;
	case HO_DUP:
		count(XDPCT_STAT_NAT_HANDOFF_DUP);
		break;
	case HO_HANDED:
		count(XDPCT_STAT_NAT_HANDOFF);
		break;
	case HO_CHILD:
		bpf_map_delete_elem(&xdpct_handoff, &k);
		count(XDPCT_STAT_NAT_CHILD_SEEN);
		break;
	case HO_WAIT:
		count(XDPCT_STAT_NAT_WAIT);
		break;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
