/* SPDX-License-Identifier: GPL-2.0 */
/* Proxy ports (profile handover "proxy"): servers behind this box. XDP
 * answers the client's SYN with a cookie as for a local port; the valid
 * cookie ACK becomes the SYN to the server, with the client's ISN and the
 * options the cookie carries. TC egress takes the server's SYN-ACK (the
 * client never sees it) and answers it with the ACK; from then on both
 * translate: the client sees our cookie as the server's ISN and our
 * SYN-ACK's TSval clock, the server its own. No socket on this box, no
 * netfilter. The flow entry tracks the connection as the client sees it. */
#ifndef XDPCT_PROXY_H
#define XDPCT_PROXY_H

/* The port's profile hands its cookie ACKs over as h (enum xdpct_handover). */
static __always_inline bool profile_is(__u8 profile, __u8 h)
{
	const struct xdpct_profile *pr = profile_of(profile);

	return pr && pr->handover == h;
}

/* The local port (network order) is a proxy port. */
static __always_inline bool port_proxy(__u16 lport)
{
	__u32 port = bpf_ntohs(lport);
	__u8 *pf = bpf_map_lookup_elem(&xdpct_ports, &port);

	return pf && (*pf & XDPCT_PORT_PROTECT) &&
	       profile_is(*pf >> XDPCT_PORT_PROFILE_SHIFT, XDPCT_HANDOVER_PROXY);
}

/* A TCP header being rewritten: the old bytes (for the checksum's diff)
 * and the new, and what the options walk adds. Per-CPU: 0 for XDP, 1 for
 * TC (TC egress runs with softirqs off, XDP in one: they never nest). */
struct proxy_hdr {
	__u8 o[64];
	__u8 b[64];
	__u32 hlen;
	__u32 off;
	__u32 tsval_add;
	__u32 tsecr_add;
	__u32 sack_add;
	__u32 pad;
	/* off the stack: XDP's calls share 512 bytes */
	struct tuple t;          /* the packet's, for the key */
	struct tuple st;         /* proxy_syn_xdp()'s */
	struct xdpct_flow_key k;
	struct xdpct_proxy px;   /* proxy_open_xdp()'s new entry */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct proxy_hdr);
} xdpct_proxy_scratch SEC(".maps");

static __always_inline __u32 hdr_idx(__u32 i)
{
	asm volatile("%0 &= 63" : "+r"(i)); /* clang drops a plain mask */
	return i;
}

static __always_inline __u32 hdr_rd32(const __u8 *b, __u32 i)
{
	return (__u32)b[hdr_idx(i)] << 24 | (__u32)b[hdr_idx(i + 1)] << 16 |
	       (__u32)b[hdr_idx(i + 2)] << 8 | b[hdr_idx(i + 3)];
}

static __always_inline void hdr_wr32(__u8 *b, __u32 i, __u32 v)
{
	b[hdr_idx(i)] = v >> 24;
	b[hdr_idx(i + 1)] = v >> 16;
	b[hdr_idx(i + 2)] = v >> 8;
	b[hdr_idx(i + 3)] = v;
}

static __always_inline void hdr_add32(__u8 *b, __u32 i, __u32 d)
{
	hdr_wr32(b, i, hdr_rd32(b, i) + d);
}

struct proxy_hdr_ref {
	struct proxy_hdr *h; /* bpf_loop() wants a stack pointer */
};

/* One option of b: timestamps and SACK blocks move by the deltas. */
static long proxy_opt_step(__u32 n, struct proxy_hdr_ref *ref)
{
	struct proxy_hdr *h = ref->h;
	__u32 i, kind, len;

	if (!h)
		return 1;
	i = h->off;
	if (i >= h->hlen || i >= 60)
		return 1;
	kind = h->b[hdr_idx(i)];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		h->off = i + 1;
		return 0;
	}
	if (i + 1 >= h->hlen)
		return 1;
	len = h->b[hdr_idx(i + 1)];
	if (len < 2 || i + len > h->hlen)
		return 1;
	if (kind == 8 && len == 10) {
		hdr_add32(h->b, i + 2, h->tsval_add);
		hdr_add32(h->b, i + 6, h->tsecr_add);
	} else if (kind == 5 && h->sack_add) {
		for (__u32 j = 2; j < 34; j += 8) {
			if (j + 8 > len)
				break;
			hdr_add32(h->b, i + j, h->sack_add);
			hdr_add32(h->b, i + j + 4, h->sack_add);
		}
	}
	h->off = i + len;
	return 0;
}

static __always_inline void proxy_opts_walk(struct proxy_hdr *h)
{
	struct proxy_hdr_ref ref = { .h = h };

	h->off = 20;
	bpf_loop(40, proxy_opt_step, &ref, 0);
}

/* A window field of a segment sent with shift from, read with shift to. */
static __always_inline __u16 rescale_win(__u16 w, __u8 from, __u8 to)
{
	__u64 bytes = (__u64)w << (from & 0xf);
	__u64 v;

	to &= 0xf;
	/* rounded up: a small window must not read as zero */
	v = (bytes + (1ull << to) - 1) >> to;
	return v > 65535 ? 65535 : v;
}

static __always_inline __u8 shift_of(__u8 ws)
{
	return ws == 0xf ? 0 : ws;
}

/* h->b's options, in place of a SYN-ACK's: NOPs, led by NOP NOP TS when
 * both ends have timestamps (the header keeps its length) */
static __always_inline void hdr_set_opts(struct proxy_hdr *h, bool ts, __u32 tsval, __u32 tsecr)
{
	for (__u32 i = 20; i < 60; i++) {
		if (i >= h->hlen)
			break;
		h->b[hdr_idx(i)] = 1; /* NOP */
	}
	if (ts && h->hlen >= 32) {
		hdr_wr32(h->b, 20, 0x0101080a);
		hdr_wr32(h->b, 24, tsval);
		hdr_wr32(h->b, 28, tsecr);
	}
}

/* h->hlen, in a form the verifier bounds to 20..60 */
static __always_inline __u32 hdr_len(const struct proxy_hdr *h)
{
	__u64 n = (h->hlen >> 2) & 15;

	if (n < 5)
		n = 5;
	asm volatile("%0 <<= 2" : "+r"(n)); /* clang would fold it into a mask */
	return n;
}

/* h->hlen bytes from h->o are the old header, h->b the new one: the diff
 * of their sums, for the checksum. */
static __always_inline __s64 proxy_hdr_diff(struct proxy_hdr *h)
{
	__u32 n = hdr_len(h);

	return bpf_csum_diff((__be32 *)h->o, n, (__be32 *)h->b, n, 0);
}

/* The TCP header at l4 into h (both copies), 0 if it is whole. */
#define DEFINE_PROXY_LOAD(name, ctx_type, load_bytes)                          \
static __always_inline int name(ctx_type *ctx, __u32 l4, struct proxy_hdr *h)  \
{                                                                              \
	__u8 doff;                                                             \
	__u64 n;                                                               \
                                                                               \
	if (load_bytes(ctx, l4 + 12, &doff, 1))                                \
		return -1;                                                     \
	n = doff >> 4;                                                         \
	if (n < 5)                                                             \
		return -1;                                                     \
	asm volatile("%0 <<= 2" : "+r"(n));                                    \
	if (load_bytes(ctx, l4, h->o, n))                                      \
		return -1;                                                     \
	__builtin_memcpy(h->b, h->o, 64);                                      \
	h->hlen = n;                                                           \
	return 0;                                                              \
}
DEFINE_PROXY_LOAD(proxy_load_xdp, struct xdp_md, bpf_xdp_load_bytes)
DEFINE_PROXY_LOAD(proxy_load_tc, struct __sk_buff, bpf_skb_load_bytes)

static __always_inline struct proxy_hdr *proxy_scratch(__u32 which)
{
	struct proxy_hdr *h = bpf_map_lookup_elem(&xdpct_proxy_scratch, &which);

	if (h) {
		h->tsval_add = h->tsecr_add = h->sack_add = 0;
	}
	return h;
}

/* Removes a protected flow's entry (a proxy port's tuple reused after
 * TIME_WAIT: the new connection needs new translation). */
static __always_inline void flow_remove(const struct flow_ref *r)
{
	if (r->family == 4)
		bpf_map_delete_elem(&xdpct_flows4, &r->k.k4);
	else
		bpf_map_delete_elem(&xdpct_flows6, &r->k.k6);
}

/* ---- XDP: the client's side ---- */

/* The cookie SYN-ACK just built (TCP header at tcp_off) offers a zero
 * window: the client sends nothing but its ACK until the server is there. */
__noinline int proxy_zero_window(struct xdp_md *ctx, __u32 tcp_off)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp = data + (tcp_off & 0x7f);
	__u16 old;

	if ((void *)(tcp + 1) > data_end)
		return -1;
	old = tcp->window;
	tcp->window = 0;
	tcp->check = csum_fold64((__u64)(__u16)~tcp->check + (__u16)~old);
	return 0;
}

/* The client's segment at where becomes the SYN to the server: the
 * client's ISN, and the options the cookie carried (Linux's layout). The
 * kernel forwards it. */
__noinline int proxy_syn_xdp(struct xdp_md *ctx, __u32 where, const struct xdpct_proxy *px)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 optlen, iphl, new_len, win, l3 = where & 0x1f, zero = 0;
	struct proxy_hdr *h = bpf_map_lookup_elem(&xdpct_proxy_scratch, &zero);
	bool ts, sack, ws;
	struct tuple *tp;
	struct tcphdr *tcp;
	__u8 ttl = 64;
	__u64 sum;
	__u32 *op;

	if (!px || !h || !load_tuple(data, data_end, where, &h->st))
		goto err;
	tp = &h->st;
	if (tp->family == 4) {
		struct iphdr *ip = data + l3;

		if ((void *)(ip + 1) > data_end)
			goto err;
		ttl = ip->ttl;
	} else {
		struct ipv6hdr *ip6 = data + l3;

		if ((void *)(ip6 + 1) > data_end)
			goto err;
		ttl = ip6->hop_limit;
	}
	ts = px->attrs.tstamp_ok;
	sack = px->attrs.sack_ok;
	ws = px->attrs.wscale_ok;
	optlen = 4 + (ts ? 12 : (sack ? 4 : 0)) + (ws ? 4 : 0);
	iphl = tp->family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	new_len = l3 + iphl + sizeof(struct tcphdr) + optlen;
	/* a SYN's window is never scaled */
	win = (__u32)px->client_win << (ws ? px->attrs.snd_wscale & 0xf : 0);
	if (win > 65535)
		win = 65535;

	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)(data_end - data)))
		goto err;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	tcp = ip_rewrite(data, data_end, l3, tp->family, tp->saddr, tp->daddr,
			 sizeof(*tcp) + optlen, ttl);
	if (!tcp)
		goto err;
	if ((void *)(tcp + 1) > data_end)
		goto err;
	sum = tcp_hdr_put(tcp, tp->sport, tp->dport, bpf_htonl(px->isn), 0,
			  TCP_FLAG_SYN | (px->attrs.ecn_ok ? TCP_FLAG_ECE | TCP_FLAG_CWR : 0), win,
			  tp->saddr, tp->daddr, tp->family, sizeof(*tcp) + optlen);
	op = (__u32 *)(tcp + 1);
	if (put_opt(&op, data_end, bpf_htonl(0x02040000 | px->attrs.mss), &sum))
		goto err;
	if (ts) {
		if (put_opt(&op, data_end, bpf_htonl(sack ? 0x0402080a : 0x0101080a), &sum) ||
		    put_opt(&op, data_end, bpf_htonl(px->client_tsval), &sum) ||
		    put_opt(&op, data_end, 0, &sum))
			goto err;
	} else if (sack) {
		if (put_opt(&op, data_end, bpf_htonl(0x01010402), &sum))
			goto err;
	}
	if (ws && put_opt(&op, data_end, bpf_htonl(0x01030300 | (px->attrs.snd_wscale & 0xf)),
			  &sum))
		goto err;
	tcp->check = csum_fold64(sum);
	return XDP_PASS;
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

/* A valid cookie ACK to a proxy port's server: its translation entry,
 * and the ACK becomes the SYN. Data it carries goes: the client sends it
 * again once the server has answered. */
__noinline int proxy_open_xdp(struct xdp_md *ctx, __u32 where, const struct xdpct_req_attrs *a)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct proxy_hdr *h = proxy_scratch(0);
	struct xdpct_proxy *px;
	struct tcphdr *tcp;
	__u64 now = now_ns();
	int r;

	if (!h || !a)
		goto err;
	tcp = load_tuple(data, data_end, where, &h->t);
	if (!tcp)
		goto err;
	px = &h->px;
	__builtin_memset(px, 0, sizeof(*px));
	px->cookie = bpf_ntohl(tcp->ack_seq) - 1;
	px->isn = bpf_ntohl(tcp->seq) - 1;
	px->client_tsval = a->rcv_tsval;
	px->client_win = bpf_ntohs(tcp->window);
	px->state = XDPCT_PROXY_SYN_SENT;
	px->wscale_client = a->wscale_ok ? a->rcv_wscale : 0xf;
	px->wscale_server = 0xf;
	px->syn_ns = px->resent_ns = now;
	px->attrs = *a;
	pending_key(&h->t, true, &h->k);
	if (bpf_map_update_elem(&xdpct_proxy, &h->k, px, BPF_ANY)) {
		count(XDPCT_STAT_V_DROP_PROXY_LOST);
		return XDP_DROP;
	}
	r = proxy_syn_xdp(ctx, where, px);
	if (r == XDP_PASS)
		count(XDPCT_STAT_V_PASS_PROXY_SYN);
	return r;
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

/* The client's segment at where answered with an RST in place: its
 * server never answered. The RST's sequence is the segment's ACK, what
 * the client expects next. */
static __always_inline int proxy_rst_xdp(struct xdp_md *ctx, __u32 where)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 iphl, new_len, seq, l3 = where & 0x1f;
	__u32 zero = 0;
	struct proxy_hdr *h = bpf_map_lookup_elem(&xdpct_proxy_scratch, &zero);
	struct tcphdr *tcp;
	struct tuple *tp;

	if (!h)
		goto err;
	tcp = load_tuple(data, data_end, where, &h->st);
	if (!tcp)
		goto err;
	tp = &h->st;
	seq = tcp->ack_seq;
	iphl = tp->family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	new_len = l3 + iphl + sizeof(struct tcphdr);
	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)(data_end - data)))
		goto err;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (eth_swap(data, data_end))
		goto err;
	tcp = ip_rewrite(data, data_end, l3, tp->family, tp->daddr, tp->saddr, sizeof(*tcp), 64);
	if (!tcp)
		goto err;
	if ((void *)(tcp + 1) > data_end)
		goto err;
	tcp->check = csum_fold64(tcp_hdr_put(tcp, tp->dport, tp->sport, seq, 0, TCP_FLAG_RST, 0,
					     tp->daddr, tp->saddr, tp->family, sizeof(*tcp)));
	count(XDPCT_STAT_V_TX_PROXY_RST);
	return XDP_TX;
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

/* A 32-bit field of an XDP frame's TCP header and the checksum over it. */
static __always_inline void xdp_replace32(__u32 *field, __u16 *check, __u32 to)
{
	__u32 from = *field;

	*field = to;
	*check = csum_fold64((__u64)(__u16)~*check + (__u32)~from + to);
}

/* The header Linux sends on an established connection (no options, or
 * NOP NOP TS): translated in place, no copy and no walk. 0: another one. */
static __always_inline int proxy_in_fast(struct tcphdr *tcp, void *data_end,
					 const struct xdpct_proxy *px)
{
	__u8 *o = (__u8 *)(tcp + 1);

	if (tcp->doff == 8) {
		if ((void *)(o + 12) > data_end || o[0] != 1 || o[1] != 1 || o[2] != 8 || o[3] != 10)
			return 0;
		if (px->opts & XDPCT_PROXY_TS)
			xdp_replace32((__u32 *)(o + 8), &tcp->check,
				      bpf_htonl(bpf_ntohl(*(__u32 *)(o + 8)) - px->ts_delta));
	} else if (tcp->doff != 5) {
		return 0;
	}
	if (tcp->ack)
		xdp_replace32(&tcp->ack_seq, &tcp->check,
			      bpf_htonl(bpf_ntohl(tcp->ack_seq) - px->seq_delta));
	return 1;
}

/* A client segment of a proxied flow, its state change applied: until
 * the server answers, dropped (or the SYN again, or past the timeout an
 * RST to the client); then translated to the server's sequence space. */
__noinline int proxy_in_xdp(struct xdp_md *ctx, __u32 where)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 l4 = (where >> 8) & 0xfff;
	struct proxy_hdr *h = proxy_scratch(0);
	struct xdpct_proxy *px;
	struct tcphdr *tcp;
	__u8 flags;
	__u64 now;
	__s64 d;
	int r;

	if (!h)
		goto err;
	tcp = load_tuple(data, data_end, where, &h->t);
	if (!tcp)
		goto err;
	flags = tcp_flags(tcp);
	pending_key(&h->t, true, &h->k);
	px = bpf_map_lookup_elem(&xdpct_proxy, &h->k);
	if (!px) {
		count(XDPCT_STAT_V_DROP_PROXY_LOST);
		return XDP_DROP;
	}
	if (px->state != XDPCT_PROXY_OPEN) {
		now = now_ns();
		if (flags & TCP_FLAG_RST) {
			/* the server holds only our SYN: it times out there */
			bpf_map_delete_elem(&xdpct_proxy, &h->k);
			count(XDPCT_STAT_V_DROP_PROXY_WAIT);
			return XDP_DROP;
		}
		if (ns_since(now, px->syn_ns) > XDPCT_PROXY_TIMEOUT_NS) {
			bpf_map_delete_elem(&xdpct_proxy, &h->k);
			return proxy_rst_xdp(ctx, where);
		}
		if (ns_since(now, px->resent_ns) >= XDPCT_PROXY_RESEND_NS) {
			px->resent_ns = now;
			count(XDPCT_STAT_PROXY_SYN_RESENT);
			r = proxy_syn_xdp(ctx, where, px);
			if (r == XDP_PASS)
				count(XDPCT_STAT_V_PASS_PROXY_SYN);
			return r;
		}
		count(XDPCT_STAT_V_DROP_PROXY_WAIT);
		return XDP_DROP;
	}
	if (!(px->opts & XDPCT_PROXY_NO_WS_SRV) && proxy_in_fast(tcp, data_end, px))
		goto done;
	if (proxy_load_xdp(ctx, l4, h))
		goto err;
	if (flags & TCP_FLAG_ACK)
		hdr_add32(h->b, 8, -px->seq_delta);
	h->sack_add = -px->seq_delta;
	if (px->opts & XDPCT_PROXY_TS)
		h->tsecr_add = -px->ts_delta;
	proxy_opts_walk(h);
	if (px->opts & XDPCT_PROXY_NO_WS_SRV) {
		/* the server reads the client's windows unscaled */
		__u16 w = rescale_win(h->b[14] << 8 | h->b[15], px->attrs.snd_wscale, 0);

		h->b[14] = w >> 8;
		h->b[15] = w;
	}
	d = proxy_hdr_diff(h);
	if (d < 0)
		goto err;
	{
		__u16 old = h->o[16] | h->o[17] << 8; /* as in memory */
		__u16 c = csum_fold64((__u64)(__u16)~old + (__u32)d);

		h->b[16] = c;
		h->b[17] = c >> 8;
	}
	if (bpf_xdp_store_bytes(ctx, l4, h->b, hdr_len(h)))
		goto err;
done:
	count(XDPCT_STAT_PROXY_XLATE_IN);
	count(XDPCT_STAT_V_PASS_FLOW);
	return XDP_PASS;
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

/* ---- TC egress: the server's side, forwarded towards the client ---- */

enum { PROXY_GO_ON = -1 };

/* The server's SYN-ACK at l4 (header in h) becomes the ACK that
 * completes its handshake, sent back to it through the device it came in
 * on. */
static __always_inline int proxy_ack_server(struct __sk_buff *skb, __u32 l3, __u32 l4,
					    int family, struct proxy_hdr *h,
					    const struct xdpct_proxy *px, __u32 server_tsval)
{
	__u32 addr[8], alen = family == 4 ? 4 : 16, aoff = family == 4 ? 12 : 8;
	__s64 d;

	if (skb->len > l4 + h->hlen) /* data on a SYN-ACK: not what our SYN asked */
		return TC_ACT_SHOT;
	h->b[0] = h->o[2];
	h->b[1] = h->o[3];
	h->b[2] = h->o[0];
	h->b[3] = h->o[1];
	hdr_wr32(h->b, 4, px->isn + 1);
	hdr_wr32(h->b, 8, px->cookie - px->seq_delta + 1);
	h->b[13] = TCP_FLAG_ACK;
	{
		__u16 w = px->client_win;

		if (px->opts & XDPCT_PROXY_NO_WS_SRV)
			w = rescale_win(w, px->attrs.snd_wscale, 0);
		h->b[14] = w >> 8;
		h->b[15] = w;
	}
	h->b[18] = h->b[19] = 0;
	hdr_set_opts(h, px->opts & XDPCT_PROXY_TS, px->client_tsval, server_tsval);
	d = proxy_hdr_diff(h);
	if (d < 0)
		return TC_ACT_SHOT;
	if (bpf_skb_load_bytes(skb, l3 + aoff, addr, alen * 2 & 0x3f))
		return TC_ACT_SHOT;
	/* swapped addresses and ports change no checksum */
	if (bpf_skb_store_bytes(skb, l3 + aoff, (__u8 *)addr + (alen & 0x1f), alen & 0x1f, 0) ||
	    bpf_skb_store_bytes(skb, l3 + aoff + alen, addr, alen & 0x1f, 0) ||
	    bpf_skb_store_bytes(skb, l4, h->b, hdr_len(h), 0) ||
	    bpf_l4_csum_replace(skb, l4 + 16, 0, d, 0))
		return TC_ACT_SHOT;
	return bpf_redirect_neigh(skb->ingress_ifindex, NULL, 0, 0);
}

/* A 32-bit field at off of an skb's TCP header at l4, and its checksum
 * (bpf_l4_csum_replace: right for a partial checksum too). */
static __always_inline int skb_replace32(struct __sk_buff *skb, __u32 l4, __u32 off,
					 __u32 from, __u32 to)
{
	from = bpf_htonl(from);
	to = bpf_htonl(to);
	return bpf_skb_store_bytes(skb, l4 + off, &to, 4, 0) ||
	       bpf_l4_csum_replace(skb, l4 + 16, from, to, 4);
}

/* The header Linux sends on an established connection (no options, or
 * NOP NOP TS), h->o its copy: two fields replaced, no walk. 0: another. */
static __always_inline int proxy_out_fast(struct __sk_buff *skb, __u32 l4, struct proxy_hdr *h,
					  const struct xdpct_proxy *px, __u32 seq)
{
	bool ts = h->hlen == 32 && h->o[20] == 1 && h->o[21] == 1 && h->o[22] == 8 &&
		  h->o[23] == 10;

	if (h->hlen != 20 && !ts)
		return 0;
	if (skb_replace32(skb, l4, 4, seq, seq + px->seq_delta))
		return 0;
	if (ts && (px->opts & XDPCT_PROXY_TS)) {
		__u32 tsval = hdr_rd32(h->o, 24);

		skb_replace32(skb, l4, 24, tsval, tsval + px->ts_delta);
	}
	return 1;
}

/* Our cookie SYN-ACK gave the client a zero window (no data before the
 * server is there): the server's SYN-ACK at l4 (h->o) becomes the ACK
 * that opens it, with the server's window in the client's scale; a clone
 * goes to the client (marked: its own run of TC egress leaves it alone).
 * h->b and the skb hold the update after; 0 if it went. */
static __always_inline int proxy_window_update(struct __sk_buff *skb, __u32 l4,
					       struct proxy_hdr *h, const struct xdpct_proxy *px,
					       const struct tcp_opts *o)
{
	__u32 mark = skb->mark;
	__s64 d;
	int r;

	hdr_wr32(h->b, 4, px->cookie + 1);
	h->b[13] = TCP_FLAG_ACK;
	{
		/* a SYN-ACK's window is never scaled */
		__u16 w = rescale_win(h->o[14] << 8 | h->o[15], 0, px->wscale_client);

		h->b[14] = w >> 8;
		h->b[15] = w;
	}
	hdr_set_opts(h, px->opts & XDPCT_PROXY_TS, o->tsval + px->ts_delta, o->tsecr);
	d = proxy_hdr_diff(h);
	if (d < 0 || bpf_skb_store_bytes(skb, l4, h->b, hdr_len(h), 0) ||
	    bpf_l4_csum_replace(skb, l4 + 16, 0, d, 0))
		return -1;
	skb->mark = XDPCT_PROXY_MARK;
	r = bpf_clone_redirect(skb, skb->ifindex, 0);
	skb->mark = mark;
	if (r)
		return -1;
	count(XDPCT_STAT_PROXY_WINDOW_OPENED);
	return 0;
}

/* A segment the server sends towards the client of a proxy port, before
 * TC egress tracks it: TC_ACT_* to end there, PROXY_GO_ON to go on
 * (translated when the flow is proxied). A global function. */
__noinline int proxy_out_tc(struct __sk_buff *skb, __u32 where, const struct tuple *t)
{
	__u32 l3 = where & 0x1f, l4 = (where >> 8) & 0xfff, family = where >> 24;
	struct xdpct_flow_key k;
	struct xdpct_proxy *px;
	struct proxy_hdr *h;
	struct tcp_opts o;
	__u32 seq, ack;
	bool first;
	__u8 flags;
	__s64 d;

	if (!t)
		return PROXY_GO_ON;
	/* the flow key from the client's side: the remote is the destination */
	pending_key(t, false, &k);
	px = bpf_map_lookup_elem(&xdpct_proxy, &k);
	if (!px)
		return PROXY_GO_ON; /* this box's own service on the port */
	h = proxy_scratch(1);
	if (!h || proxy_load_tc(skb, l4, h))
		return TC_ACT_SHOT;
	flags = h->o[13];
	seq = hdr_rd32(h->o, 4);
	ack = hdr_rd32(h->o, 8);
	if ((flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == (TCP_FLAG_SYN | TCP_FLAG_ACK) &&
	    ack == px->isn + 1) {
		if (parse_opts_skb(skb, l4, h->hlen - 20, &o) < 0)
			return TC_ACT_SHOT;
		first = px->state != XDPCT_PROXY_OPEN;
		if (first) {
			__u8 opts = 0, ws_srv = 0xf;

			if (px->attrs.tstamp_ok && o.ts)
				opts |= XDPCT_PROXY_TS;
			else if (px->attrs.tstamp_ok)
				opts |= XDPCT_PROXY_NO_TS_SRV;
			if (px->attrs.sack_ok && !o.sack)
				opts |= XDPCT_PROXY_NO_SACK_SRV;
			if (px->attrs.wscale_ok) {
				if (o.wscale == 0xff)
					opts |= XDPCT_PROXY_NO_WS_SRV;
				else
					ws_srv = o.wscale;
			}
			if (shift_of(ws_srv) != shift_of(px->wscale_client))
				opts |= XDPCT_PROXY_RESCALE;
			if (opts & ~XDPCT_PROXY_TS)
				count(XDPCT_STAT_PROXY_OPTS_DIFFER);
			px->seq_delta = px->cookie - seq;
			px->ts_delta = px->attrs.rcv_tsecr - o.tsval;
			px->wscale_server = ws_srv;
			px->opts = opts;
			px->state = XDPCT_PROXY_OPEN;
			count(XDPCT_STAT_PROXY_OPEN);
		} else if (px->cookie - px->seq_delta != seq) {
			count(XDPCT_STAT_PROXY_DROP_OUT);
			return TC_ACT_SHOT;
		}
		if (first && proxy_window_update(skb, l4, h, px, &o) == 0) {
			/* the skb holds the update now: the ACK is made from it */
			__builtin_memcpy(h->o, h->b, 64);
			__builtin_memcpy(h->b, h->o, 64);
		}
		/* (again: our ACK was lost) */
		return proxy_ack_server(skb, l3, l4, family, h, px, o.tsval);
	}
	if (px->state != XDPCT_PROXY_OPEN) {
		if ((flags & TCP_FLAG_RST) && (!(flags & TCP_FLAG_ACK) || ack == px->isn + 1)) {
			/* refused: the client gets the RST, at the sequence
			 * it expects (our cookie + 1) */
			hdr_wr32(h->b, 4, px->cookie + 1);
			bpf_map_delete_elem(&xdpct_proxy, &k);
			count(XDPCT_STAT_PROXY_REFUSED);
			goto store;
		}
		count(XDPCT_STAT_PROXY_DROP_OUT);
		return TC_ACT_SHOT;
	}
	if (!(px->opts & XDPCT_PROXY_RESCALE) && proxy_out_fast(skb, l4, h, px, seq)) {
		count(XDPCT_STAT_PROXY_XLATE_OUT);
		return PROXY_GO_ON;
	}
	hdr_wr32(h->b, 4, seq + px->seq_delta);
	if (px->opts & XDPCT_PROXY_TS)
		h->tsval_add = px->ts_delta;
	proxy_opts_walk(h);
	if ((px->opts & XDPCT_PROXY_RESCALE) && !(flags & TCP_FLAG_SYN)) {
		__u16 w = rescale_win(h->o[14] << 8 | h->o[15], px->wscale_server,
				      px->wscale_client);

		h->b[14] = w >> 8;
		h->b[15] = w;
	}
	count(XDPCT_STAT_PROXY_XLATE_OUT);
store:
	d = proxy_hdr_diff(h);
	if (d < 0 || bpf_skb_store_bytes(skb, l4, h->b, hdr_len(h), 0) ||
	    bpf_l4_csum_replace(skb, l4 + 16, 0, d, 0))
		return TC_ACT_SHOT;
	return PROXY_GO_ON;
}

#endif
