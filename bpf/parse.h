/* SPDX-License-Identifier: GPL-2.0 */
/* Header parsers shared by the XDP and TC programs: Ethernet, up to two VLAN
 * tags, IPv4 (with options), IPv6 (with extension headers), TCP. */
#ifndef XDPCT_PARSE_H
#define XDPCT_PARSE_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_TCP 6

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

#define XDPCT_MAX_VLANS 2
#define XDPCT_MAX_IPV6_EXT 6

enum parse_result {
	PARSE_TCP = 0,   /* p fully filled */
	PARSE_NOT_TCP,   /* not IPv4/IPv6 TCP: not ours */
	PARSE_MALFORMED, /* p->err holds the ERR_* counter; p->ports says more */
	PARSE_FRAGMENT,  /* a TCP fragment (not an IPv6 atomic one); p->ports */
};

/* What a malformed frame or a fragment offers to decide its verdict. */
enum parse_ports {
	PORTS_NONE = 0, /* no TCP ports to read (broken below TCP, a non-first
			 * fragment): the kernel's own checks apply */
	PORTS_READ,     /* p->sport/p->dport hold the TCP ports */
	PORTS_HIDDEN,   /* TCP that xdpct cannot reach within its limits, or a
			 * first fragment without its ports: a way around the
			 * shield, never passed */
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	struct tcphdr *tcp;
	__u32 l3_off;   /* from data: Ethernet + VLAN tags */
	__u32 tcp_len;  /* TCP header + payload, from the IP length fields */
	__u32 ip_len;   /* IP header(s) + payload, from the IP length fields */
	__u8 family;    /* 4 or 6 */
	__u8 flags;     /* TCP flags byte */
	__u8 err;       /* enum xdpct_stat for PARSE_MALFORMED */
	__u8 ports;     /* enum parse_ports, for PARSE_MALFORMED/PARSE_FRAGMENT */
	__be16 sport;   /* with PORTS_READ */
	__be16 dport;
};

static __always_inline __u8 tcp_flags(const struct tcphdr *tcp)
{
	return ((const __u8 *)tcp)[13];
}

/* The ports of a TCP header whose first 4 bytes are in the segment and in
 * the frame: PORTS_READ, else PORTS_NONE. */
static __always_inline int read_ports(void *l4, void *data_end, __u32 l4_len,
				      struct pkt *p)
{
	__be16 *pt = l4;

	if (l4_len < 4 || (void *)(pt + 2) > data_end)
		return PORTS_NONE;
	p->sport = pt[0];
	p->dport = pt[1];
	return PORTS_READ;
}

/* The first fragment of a TCP datagram: its ports decide; one too short to
 * carry them (RFC 1858's tiny fragment, RFC 8200 4.5) is hidden TCP. */
static __always_inline int first_fragment(void *l4, void *data_end, __u32 l4_len,
					  struct pkt *p)
{
	p->ports = read_ports(l4, data_end, l4_len, p) == PORTS_READ ? PORTS_READ
								     : PORTS_HIDDEN;
	return PARSE_FRAGMENT;
}

static __always_inline int parse_tcp(void *l4, void *data_end, __u32 l4_len,
				     struct pkt *p)
{
	struct tcphdr *tcp = l4;
	__u32 hl;

	if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp))
		goto bad;
	hl = tcp->doff * 4;
	if (hl < sizeof(*tcp) || hl > l4_len || l4 + hl > data_end)
		goto bad;
	p->tcp = tcp;
	p->tcp_len = l4_len;
	p->flags = tcp_flags(tcp);
	return PARSE_TCP;
bad:
	p->err = XDPCT_STAT_ERR_TCP;
	p->ports = read_ports(l4, data_end, l4_len, p);
	return PARSE_MALFORMED;
}

/* room = bytes of the packet from l3 on: the IP length fields are checked
 * against it, headers against data_end (an skb's linear part may end
 * before the packet does). */
static __always_inline int parse_ipv4(void *l3, void *data_end, __u32 room,
				      struct pkt *p)
{
	struct iphdr *ip = l3;
	__u32 ihl, tot;

	p->err = XDPCT_STAT_ERR_IPV4;
	if ((void *)(ip + 1) > data_end || ip->version != 4)
		return PARSE_MALFORMED;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ihl < sizeof(*ip) || tot < ihl || l3 + ihl > data_end || tot > room)
		return PARSE_MALFORMED;
	p->ip4 = ip;
	p->ip_len = tot;
	p->family = 4;
	if (ip->protocol != IPPROTO_TCP)
		return PARSE_NOT_TCP;
	if (ip->frag_off & bpf_htons(0x1fff)) { /* an offset: not the first */
		p->ports = PORTS_NONE;
		return PARSE_FRAGMENT;
	}
	if (ip->frag_off & bpf_htons(0x2000)) /* MF at offset 0: the first */
		return first_fragment(l3 + ihl, data_end, tot - ihl, p);
	return parse_tcp(l3 + ihl, data_end, tot - ihl, p);
}

enum {
	NEXTHDR_HOP = 0,
	NEXTHDR_TCP_ = 6,
	NEXTHDR_ROUTING = 43,
	NEXTHDR_FRAGMENT = 44,
	NEXTHDR_AUTH = 51,
	NEXTHDR_DEST = 60,
};

static __always_inline bool ipv6_ext(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST ||
	       nh == NEXTHDR_AUTH || nh == NEXTHDR_FRAGMENT;
}

/* Walks up to XDPCT_MAX_IPV6_EXT extension headers to TCP. A fragment
 * header at offset 0 is walked through: atomic (M = 0), it is processed as
 * an unfragmented packet, as Linux does (RFC 6946); a first fragment
 * (M = 1) is a fragment whose TCP ports follow the rest of the chain. */
static __always_inline int parse_ipv6(void *l3, void *data_end, __u32 room,
				      struct pkt *p)
{
	struct ipv6hdr *ip6 = l3;
	__u32 off = sizeof(*ip6), end;
	bool frag = false;
	__u8 nh;

	p->err = XDPCT_STAT_ERR_IPV6;
	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return PARSE_MALFORMED;
	end = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	/* payload_len 0 (jumbogram) is rejected too */
	if (end == sizeof(*ip6) || end > room)
		return PARSE_MALFORMED;
	p->ip6 = ip6;
	p->ip_len = end;
	p->family = 6;
	nh = ip6->nexthdr;

	p->err = XDPCT_STAT_ERR_IPV6_EXT;
#pragma unroll
	for (int i = 0; i < XDPCT_MAX_IPV6_EXT; i++) {
		__u8 *h;
		__u32 len;

		if (nh == NEXTHDR_TCP_)
			break;
		if (!ipv6_ext(nh))
			return PARSE_NOT_TCP; /* UDP, ICMPv6, ESP, no-next ... */
		if (off > 0x7ff) /* keeps the offset small for the verifier */
			goto limit;
		h = l3 + off;
		/* every extension header has 8 bytes or more */
		if ((void *)(h + 8) > data_end || off + 8 > end)
			goto cut;
		if (nh == NEXTHDR_FRAGMENT) {
			if (h[2] || (h[3] & 0xf8)) { /* an offset: not the first */
				p->ports = PORTS_NONE;
				return h[0] == NEXTHDR_TCP_ || ipv6_ext(h[0]) ? PARSE_FRAGMENT
									     : PARSE_NOT_TCP;
			}
			frag |= h[3] & 1; /* M = 0: atomic, not a fragment */
			len = 8;
		} else {
			len = nh == NEXTHDR_AUTH ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
		}
		nh = h[0];
		off += len;
		if (off > end)
			goto cut;
	}
	if (nh != NEXTHDR_TCP_) {
		if (ipv6_ext(nh))
			goto limit; /* a 7th extension header: TCP may follow */
		return PARSE_NOT_TCP;
	}
	if (off > 0x7ff)
		goto limit;
	if (frag)
		return first_fragment(l3 + off, data_end, end - off, p);
	return parse_tcp(l3 + off, data_end, end - off, p);
limit:
	p->ports = PORTS_HIDDEN;
	return PARSE_MALFORMED;
cut:
	if (frag) { /* a first fragment holds the whole chain (RFC 8200 4.5) */
		p->ports = PORTS_HIDDEN;
		return PARSE_FRAGMENT;
	}
	p->ports = PORTS_NONE;
	return PARSE_MALFORMED;
}

/* The client -> server direction of a connection, as carried by its SYN. */
struct tuple {
	__u32 saddr[4]; /* network order, raw loads */
	__u32 daddr[4];
	__u16 sport;    /* network order */
	__u16 dport;
	__u8 family;
};

static __always_inline void pkt_tuple(const struct pkt *p, struct tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->sport = p->tcp->source;
	t->dport = p->tcp->dest;
	/* test the pointers, not p->family: the verifier may have merged
	 * states in which the two are not linked */
	if (p->ip4) {
		t->family = 4;
		t->saddr[0] = p->ip4->saddr;
		t->daddr[0] = p->ip4->daddr;
	} else if (p->ip6) {
		t->family = 6;
		__builtin_memcpy(t->saddr, &p->ip6->saddr, 16);
		__builtin_memcpy(t->daddr, &p->ip6->daddr, 16);
	}
}

static __always_inline __u32 pkt_ip_len(const struct pkt *p)
{
	return p->ip_len;
}

/* Re-derives the tuple and TCP header from offsets found by parse_pkt():
 * the global subprograms below are verified on their own, with no
 * knowledge of the caller's parse, which keeps verification small. */
static __always_inline __u32 pkt_where(const struct pkt *p, void *data)
{
	return p->l3_off | (__u32)((void *)p->tcp - data) << 8 | (__u32)p->family << 24;
}

static __always_inline struct tcphdr *load_tuple(void *data, void *data_end,
						 __u32 where, struct tuple *t)
{
	__u32 l3_off = where & 0x1f, l4_off = (where >> 8) & 0xfff;
	__u32 family = where >> 24;
	struct tcphdr *tcp;

	__builtin_memset(t, 0, sizeof(*t));
	if (family == 4) {
		struct iphdr *ip = data + l3_off;

		if ((void *)(ip + 1) > data_end)
			return NULL;
		t->saddr[0] = ip->saddr;
		t->daddr[0] = ip->daddr;
	} else {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > data_end)
			return NULL;
		__builtin_memcpy(t->saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->daddr, &ip6->daddr, 16);
	}
	tcp = data + l4_off;
	if ((void *)(tcp + 1) > data_end)
		return NULL;
	t->family = family;
	t->sport = tcp->source;
	t->dport = tcp->dest;
	return tcp;
}

/* Fills p from the frame; pkt_len: the whole packet from data on (XDP:
 * data_end - data; TC: skb->len). Works for XDP and TC (where the VLAN tag may
 * already be stripped to skb->vlan_tci: then there is simply no tag). */
static __always_inline int parse_pkt(void *data, void *data_end, __u32 pkt_len,
				     struct pkt *p)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__be16 proto;

	if ((void *)(eth + 1) > data_end) {
		p->err = XDPCT_STAT_ERR_ETH;
		return PARSE_MALFORMED;
	}
	p->eth = eth;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < XDPCT_MAX_VLANS; i++) {
		struct vlan_tag *tag = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(tag + 1) > data_end) {
			p->err = XDPCT_STAT_ERR_VLAN; /* cut: PORTS_NONE */
			return PARSE_MALFORMED;
		}
		proto = tag->proto;
		off += sizeof(*tag);
	}
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		/* a third tag: more than xdpct parses, and a host with stacked
		 * VLAN devices would deliver its TCP */
		p->err = XDPCT_STAT_ERR_VLAN;
		p->ports = PORTS_HIDDEN;
		return PARSE_MALFORMED;
	}
	p->l3_off = off;
	if (pkt_len < off) {
		p->err = XDPCT_STAT_ERR_ETH;
		return PARSE_MALFORMED;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data + off, data_end, pkt_len - off, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data + off, data_end, pkt_len - off, p);
	return PARSE_NOT_TCP;
}

#endif
