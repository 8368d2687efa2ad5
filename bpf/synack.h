/* SPDX-License-Identifier: GPL-2.0 */
/* The cookie handshake: a SYN answered in place with a cookie SYN-ACK,
 * a cookie ACK checked and its handover attributes put in front of it. */
#ifndef XDPCT_SYNACK_H
#define XDPCT_SYNACK_H

static __always_inline int put_opt(__u32 **op, void *data_end, __u32 word,
				   __u64 *sum)
{
	__u32 *o = *op;

	if ((void *)(o + 1) > data_end)
		return -1;
	*o = word;
	*sum += word;
	*op = o + 1;
	return 0;
}

/* The IP header's ECN field (IPv4 TOS, IPv6 traffic class) is not Not-ECT. */
static __always_inline bool syn_ip_ect(void *data, void *data_end, __u32 where)
{
	__u8 *ip = data + (where & 0x1f);

	if ((void *)(ip + 2) > data_end)
		return false;
	if ((where >> 24) == 4)
		return ip[1] & 3;
	return (ip[1] >> 4) & 3;
}

/* Whether t's destination is in xdpct_local. One found is kept per CPU
 * for the rest of the jiffy: a flood to one address pays a compare, not a
 * hash lookup; an address userspace removes stops counting at most a tick
 * later. Never a miss: another destination gets its lookup. Global:
 * verified once, not at each caller's states. */
__noinline int addr_in_local(const struct tuple *t)
{
	struct xdpct_local_key k = {};
	struct xdpct_clock_cache *c;
	__u32 zero = 0;
	__u64 j;

	if (!t)
		return 0;
	c = bpf_map_lookup_elem(&xdpct_clock, &zero);
	j = bpf_jiffies64();
	if (c && c->local_jiffies == j && c->local.family == t->family &&
	    c->local.addr[0] == t->daddr[0] && c->local.addr[1] == t->daddr[1] &&
	    c->local.addr[2] == t->daddr[2] && c->local.addr[3] == t->daddr[3])
		return 1;
	k.family = t->family;
	__builtin_memcpy(k.addr, t->daddr, 16);
	if (!bpf_map_lookup_elem(&xdpct_local, &k))
		return 0;
	if (c) {
		/* the jiffy last: a program that ran in between on this CPU
		 * never pairs it with a half-written address */
		c->local_jiffies = 0;
		asm volatile("" ::: "memory");
		c->local = k;
		asm volatile("" ::: "memory");
		c->local_jiffies = j;
	}
	return 1;
}

/* Whether the destination is an address of this host (a router's or a
 * bridge's transit traffic is not ours to answer). */
static __always_inline bool addr_local(const struct xdpct_config *cfg, const struct tuple *t)
{
	if (!(cfg->flags & XDPCT_CFG_LOCAL_ONLY))
		return true;
	return addr_in_local(t);
}

/* A profile by number (0: none, NULL). */
static __always_inline const struct xdpct_profile *profile_of(__u32 idx)
{
	return idx ? bpf_map_lookup_elem(&xdpct_profiles, &idx) : NULL;
}

/* The frame goes back where it came from: its MAC addresses swapped. */
static __always_inline int eth_swap(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u8 mac[6];

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	return 0;
}

/* A fresh IP header at l3 (IPv4 without options, DF; IPv6 with TCP next)
 * for a TCP segment of tcp_len bytes from saddr to daddr: the TCP header
 * right after it, or NULL if the frame is too short. */
static __always_inline struct tcphdr *ip_rewrite(void *data, void *data_end, __u32 l3,
						 int family, const __u32 *saddr,
						 const __u32 *daddr, __u32 tcp_len, __u8 ttl)
{
	if (family == 4) {
		struct iphdr *ip = data + (l3 & 0x1f);
		__u32 *w = (__u32 *)ip;
		/* version 4, IHL 5, TOS 0, length; ID 0, DF; TTL, TCP, check 0 */
		__u32 w0 = bpf_htonl(0x45000000 | (sizeof(*ip) + tcp_len));
		__u32 w1 = bpf_htonl(0x4000), w2 = bpf_htonl((__u32)ttl << 24 | IPPROTO_TCP << 16);

		if ((void *)(ip + 1) > data_end)
			return NULL;
		/* whole words, and the checksum of the values written, not
		 * of loads of them: a load over narrower stores waits for them */
		w[0] = w0;
		w[1] = w1;
		w[2] = w2;
		w[3] = saddr[0];
		w[4] = daddr[0];
		ip->check = csum_fold64((__u64)w0 + w1 + w2 + saddr[0] + daddr[0]);
		return (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + (l3 & 0x1f);

		if ((void *)(ip6 + 1) > data_end)
			return NULL;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(tcp_len);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = ttl;
		__builtin_memcpy(&ip6->saddr, saddr, 16);
		__builtin_memcpy(&ip6->daddr, daddr, 16);
		return (void *)(ip6 + 1);
	}
}

/* Writes a 20-byte TCP header, checksum and urgent pointer 0, as whole
 * words; returns the TCP checksum's sum over the pseudo-header (saddr to
 * daddr, tcp_len bytes) and these words, summed from the values, not
 * loaded back. Ports, seq and ack in network order, as they go out;
 * flags and window in host order. */
static __always_inline __u64 tcp_hdr_put(struct tcphdr *tcp, __be16 sport, __be16 dport,
					 __be32 seq, __be32 ack, __u8 flags, __u16 win,
					 const __u32 *saddr, const __u32 *daddr, int family,
					 __u32 tcp_len)
{
	__u32 *w = (__u32 *)tcp;
	/* the ports as a load of them would read them (little-endian) */
	__u32 w0 = (__u32)sport | (__u32)dport << 16;
	__u32 w3 = bpf_htonl(tcp_len / 4 << 28 | (__u32)flags << 16 | win);

	w[0] = w0;
	w[1] = seq;
	w[2] = ack;
	w[3] = w3;
	w[4] = 0;
	return csum_pseudo(saddr, daddr, family, tcp_len) + w0 + seq + ack + w3;
}

/* where = pkt_where(): l3 offset, l4 offset and family in one argument,
 * and in bits 20-23 the port's profile (the caller read its port's entry
 * already: no second lookup per SYN) */
__noinline int answer_syn(struct xdp_md *ctx, __u32 where,
			  struct xdpct_config *cfg)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcp_opts o;
	struct tuple t;
	__u32 client_isn, mss_idx, opts, slot, cookie, tsval = 0, optlen, iphl, layout;
	__u32 win, eff_mss, new_len;
	struct tcphdr *syn;
	__u8 syn_flags;
	bool prev;
	bool has_ts, has_sack, has_ws, ecn;
	__u16 our_mss, client_mss;
	const struct xdpct_profile *prof;
	__u64 now, sum;
	struct tcphdr *tcp;
	__u32 *op;

	if (!cfg) /* arguments of global functions may be NULL */
		goto err;
	syn = load_tuple(data, data_end, where, &t);
	if (!syn)
		goto err;
	if (parse_opts(ctx, (void *)syn - data, syn->doff * 4 - 20, &o) < 0) {
		count(XDPCT_STAT_ERR_TCP_OPT);
		count(XDPCT_STAT_V_DROP_MALFORMED);
		return XDP_DROP;
	}
	client_isn = bpf_ntohl(syn->seq);
	syn_flags = tcp_flags(syn);
	/* Linux grants ECN to ECE+CWR only on a SYN that is not itself
	 * ECN-marked and has no reserved bits set (tcp_ecn_create_request) */
	ecn = (syn_flags & (TCP_FLAG_ECE | TCP_FLAG_CWR)) ==
		      (TCP_FLAG_ECE | TCP_FLAG_CWR) && (cfg->flags & XDPCT_CFG_ECN) &&
	      !(((__u8 *)syn)[12] & 0x0f) && !syn_ip_ect(data, data_end, where);
	has_ts = o.ts && (cfg->flags & XDPCT_CFG_TIMESTAMPS);
	has_sack = o.sack && (cfg->flags & XDPCT_CFG_SACK);
	has_ws = o.wscale != 0xff && (cfg->flags & XDPCT_CFG_WSCALE);
	our_mss = t.family == 4 ? cfg->mss4 : cfg->mss6;
	client_mss = o.mss ? o.mss : 536;
	prof = profile_of((where >> 20) & 0xf);
	if (prof) {
		__u16 clamp = t.family == 4 ? prof->mss4 : prof->mss6;

		has_sack = has_sack && !(prof->off & XDPCT_PROF_NO_SACK);
		has_ts = has_ts && !(prof->off & XDPCT_PROF_NO_TS);
		has_ws = has_ws && !(prof->off & XDPCT_PROF_NO_WSCALE);
		ecn = ecn && !(prof->off & XDPCT_PROF_NO_ECN);
		if (clamp && clamp < our_mss)
			our_mss = clamp;
		if (clamp && clamp < client_mss)
			client_mss = clamp;
	}
	layout = COOKIE_TS;
	if (!has_ts) {
		/* no echo to carry the options: the ISN keeps its bits for the
		 * hash and the SYN-ACK offers only MSS, as Linux's own cookies;
		 * or, opted in, SACK and window scale ride in the ISN */
		ecn = false;
		layout = COOKIE_NOTS_OPTS;
		if (!(cfg->flags & XDPCT_CFG_NOTS_OPTIONS)) {
			has_sack = has_ws = false;
			layout = COOKIE_NOTS;
		}
	}

	opts = has_ws ? (o.wscale > 14 ? 14 : o.wscale) : XDPCT_OPT_WSCALE_NONE;
	if (has_sack)
		opts |= XDPCT_OPT_SACK;
	if (ecn)
		opts |= XDPCT_OPT_ECN;
	mss_idx = mss_to_idx(t.family, client_mss);
	now = now_ns();
	slot = cookie_abs_slot(cfg, now) & 3;
	cookie = cookie_make(cfg_key_for(cfg, cookie_abs_slot(cfg, now), &prev), &t, client_isn,
			     mss_idx, slot, opts,
			     layout);
	if (has_ts)
		/* a millisecond clock, never ahead of it, low 6 bits = options */
		tsval = (((__u32)(now / 1000000) - 64) & ~0x3fu) | opts;

	optlen = 4 + (has_ts ? 12 : (has_sack ? 4 : 0)) + (has_ws ? 4 : 0);
	iphl = t.family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	new_len = (where & 0x1f) + iphl + sizeof(struct tcphdr) + optlen;
	eff_mss = our_mss - (has_ts ? 12 : 0);
	win = eff_mss ? 65535 / eff_mss * eff_mss : 65535;
	/* Linux's SYN options and ours take the same room: no call then */
	if (new_len != (__u32)(data_end - data) &&
	    bpf_xdp_adjust_tail(ctx, (int)new_len - (int)(data_end - data)))
		goto err;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	if (eth_swap(data, data_end))
		goto err;

	tcp = ip_rewrite(data, data_end, where, t.family, t.daddr, t.saddr, sizeof(*tcp) + optlen,
			 cfg->ttl);
	if (!tcp)
		goto err;
	if ((void *)(tcp + 1) > data_end)
		goto err;
	sum = tcp_hdr_put(tcp, t.dport, t.sport, bpf_htonl(cookie), bpf_htonl(client_isn + 1),
			  TCP_FLAG_SYN | TCP_FLAG_ACK | (ecn ? TCP_FLAG_ECE : 0), win, t.daddr,
			  t.saddr, t.family, sizeof(*tcp) + optlen);
	op = (__u32 *)(tcp + 1);
	if (put_opt(&op, data_end, bpf_htonl(0x02040000 | our_mss), &sum))
		goto err;
	if (has_ts) {
		if (put_opt(&op, data_end, bpf_htonl(has_sack ? 0x0402080a : 0x0101080a), &sum) ||
		    put_opt(&op, data_end, bpf_htonl(tsval), &sum) ||
		    put_opt(&op, data_end, bpf_htonl(o.tsval), &sum))
			goto err;
	} else if (has_sack) {
		if (put_opt(&op, data_end, bpf_htonl(0x01010402), &sum))
			goto err;
	}
	if (has_ws && put_opt(&op, data_end, bpf_htonl(0x01030300 | cfg->wscale), &sum))
		goto err;
	tcp->check = csum_fold64(sum);

	count(XDPCT_STAT_V_TX_SYNACK);
	return XDP_TX;
err:
	count(XDPCT_STAT_V_DROP_ERROR);
	return XDP_DROP;
}

enum cookie_verdict { COOKIE_BAD, COOKIE_STALE, COOKIE_GOOD };

__noinline int check_cookie(struct xdp_md *ctx, __u32 where,
			    struct xdpct_config *cfg, struct xdpct_req_attrs *a)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp;
	struct tcp_opts o;
	struct tuple t;
	__u32 cookie, isn, opts, ws, age, layout, ki;
	bool has_ts, prev, other = false;
	__u64 abs, now;

	if (!cfg || !a)
		return COOKIE_BAD;
	tcp = load_tuple(data, data_end, where, &t);
	if (!tcp)
		return COOKIE_BAD;
	cookie = bpf_ntohl(tcp->ack_seq) - 1;
	isn = bpf_ntohl(tcp->seq) - 1;
	/* the slot first: an expired one is refused without the hash, which
	 * spares it for half of a flood's random cookies (valid or not, such
	 * a cookie opens nothing) */
	now = now_ns();
	abs = cookie_abs_slot(cfg, now);
	age = xdpct_cookie_age(abs, cookie);
	if (age == 3 && ((abs + 1) << xdpct_slot_shift(cfg->slot_shift)) -
				(now + cfg->clock_offset_ns) <=
			    COOKIE_CLOCK_LAG_NS(cfg)) {
		/* a slot ahead, this CPU's reading short of the next slot:
		 * it may be behind the CPU that made the cookie (now_ns():
		 * a tick, or as long as a vCPU stalled between the jiffy and
		 * the clock's update); the precise clock decides */
		abs = cookie_abs_slot(cfg, bpf_ktime_get_ns());
		age = xdpct_cookie_age(abs, cookie);
	}
	if (age > 1)
		return COOKIE_STALE;
	if (parse_opts(ctx, (void *)tcp - data, tcp->doff * 4 - 20, &o) < 0)
		return COOKIE_BAD;
	has_ts = o.ts;
	if (has_ts) {
		layout = COOKIE_TS;
		opts = o.tsecr & 0x3f;
	} else if (cfg->flags & XDPCT_CFG_NOTS_OPTIONS) {
		layout = COOKIE_NOTS_OPTS;
		opts = (cookie >> 4) & COOKIE_NOTS_OPTS_MASK;
	} else {
		layout = COOKIE_NOTS;
		opts = XDPCT_OPT_WSCALE_NONE;
	}
	ws = opts & 0xf; /* all 16 values valid: shifts 0-14, 15 none */

	/* the one key of the cookie's slot: now's slot minus the cookie's age */
	ki = cfg_key_index(cfg, abs - age, &prev) & 1;
	if (!cookie_match(&cfg->keys[ki], &t, isn, cookie, opts, layout)) {
		/* a fleet's members switch keys at their own pace: the other
		 * key too (the previous one, or the next one staged) */
		if (!(cfg->flags & XDPCT_CFG_FLEET) ||
		    !cookie_match(&cfg->keys[ki ^ 1], &t, isn, cookie, opts, layout))
			return COOKIE_BAD;
		other = true;
	}
	if (other)
		count(XDPCT_STAT_COOKIE_FLEET_OTHER_KEY);
	else if (prev)
		count(XDPCT_STAT_COOKIE_PREV_KEY);

	__builtin_memset(a, 0, sizeof(*a));
	a->mss = mss_from_idx(t.family, cookie & 3);
	if (ws != XDPCT_OPT_WSCALE_NONE) {
		a->wscale_ok = 1;
		a->snd_wscale = ws;
		a->rcv_wscale = cfg->wscale;
	}
	a->sack_ok = !!(opts & XDPCT_OPT_SACK);
	a->ecn_ok = !!(opts & XDPCT_OPT_ECN);
	if (has_ts) {
		a->tstamp_ok = 1;
		a->rcv_tsval = o.tsval;
		a->rcv_tsecr = o.tsecr;
	}
	return COOKIE_GOOD;
}

/* Puts XDP metadata in front of the frame for TC ingress: what (enum
 * xdpct_meta_what), with a's handover attributes when a is given. */
static __always_inline int attach_meta(struct xdp_md *ctx, __u32 what,
				       const struct xdpct_req_attrs *a)
{
	struct xdpct_meta *m;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return -1;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return -1;
	m->magic = XDPCT_META_MAGIC;
	m->what = what;
	if (a)
		m->attrs = *a;
	else
		__builtin_memset(&m->attrs, 0, sizeof(m->attrs));
	return 0;
}

#endif
