// SPDX-License-Identifier: GPL-2.0
/* Flood generator and reply sink for bench/flood.
 *
 * xdp_gen runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: it
 * writes one whole frame (SYN, ACK, RST or FIN|ACK; in mixed mode SYN, ACK
 * and RST in turn) and returns XDP_TX, which sends it out of the veth given
 * as ingress_ifindex. Live frames come from a page pool that is never
 * re-initialised: every byte of every
 * header is written on every run, never only the fields that change.
 *
 * Crafted ACKs (cfg.crafted_every) carry cookies made with xdpct's own
 * bpf/cookie.h under one or two keys the test read from the defender's
 * config map: valid ones of a given slot age, valid ones of a stale slot,
 * and near misses (one bit the cookie covers flipped), so that a test
 * knows exactly what the defender must accept. All of them belong to one
 * time slot, craft_slot, set by userspace: a frame is sent only while the
 * clock is in that slot and not in its last guard_ns, so that the
 * defender, on the same clock a moment later, sees the same slot.
 *
 * xdp_sink sits on the generator's own veth, counts what the defender sent
 * back (SYN-ACKs, RSTs, other TCP) and drops it: the attacker side should
 * cost as little CPU as possible.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpct.h"
#include "parse.h"
#include "csum.h"
#include "cookie.h"
#include "bench.h"

/* Modes beyond enum gen_mode (bench.h), the same values in bench/flood.c:
 * FIN|ACK to unknown tuples, and SYN, ACK, RST in turn (one flood that
 * needs every path of the defender at once). */
#define GEN_FIN 3
#define GEN_MIXED 4

const volatile struct gen_cfg cfg = {};

/* One generator process runs on one CPU (test_run disables migration), so
 * plain increments. The sink's NAPI instance is single-threaded too. */
__u64 gen_frames = 0;
__u64 gen_idle = 0; /* runs that sent nothing: ahead of the schedule */
__u64 next_ns = 0;
struct sink_counts sink = {};
struct crafted_counts crafted = {};
__u64 craft_slot = 0; /* absolute slot of the crafted cookies (userspace) */

static __always_inline __u32 rnd(void)
{
	return bpf_get_prandom_u32();
}

/* Ethernet + IPv4 header, checksum included. */
static __always_inline void put_eth_ip(void *data, __u16 tot_len, __be32 saddr,
				       __be32 daddr, __u16 id)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 *w = (__u32 *)ip;
	__u64 sum;

	/* byte by byte: a memcpy that casts volatile away lets clang fold
	 * the zero initialiser of cfg in */
#pragma unroll
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = cfg.dmac[i];
		eth->h_source[i] = cfg.smac[i];
	}
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(tot_len);
	ip->id = id;
	ip->frag_off = bpf_htons(0x4000); /* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];
	ip->check = csum_fold64(sum);
}

/* Generic TCP header fields; flags word = doff << 12 | flags. */
static __always_inline void put_tcp(struct tcphdr *tcp, __u16 sport, __u32 seq,
				    __u32 ack, __u16 doff_flags, __u16 win)
{
	__u16 *w = (__u16 *)tcp;

	tcp->source = bpf_htons(sport);
	tcp->dest = cfg.dport;
	tcp->seq = bpf_htonl(seq);
	tcp->ack_seq = bpf_htonl(ack);
	w[6] = bpf_htons(doff_flags);
	tcp->window = bpf_htons(win);
	tcp->check = 0;
	tcp->urg_ptr = 0;
}

static __always_inline __u16 tcp_csum(struct iphdr *ip, __u32 *tw, int nwords)
{
	__u64 sum = bpf_htonl((IPPROTO_TCP << 16) | (nwords * 4));

	sum += (__u64)ip->saddr + ip->daddr;
	for (int i = 0; i < nwords; i++)
		sum += tw[i];
	return csum_fold64(sum);
}

#define L3 sizeof(struct ethhdr)
#define L4 (L3 + sizeof(struct iphdr))

/* A crafted ACK (cfg.crafted_every), GEN_LEN_ACK bytes: NOP NOP TS, or
 * without timestamps 12 NOPs. By group of crafted_every frames, in turn
 * with and without timestamps; the classes (key, age) in the proportions
 * 8:4:2:1 (first key age 0, age 1, second key age 0, age 1; 2:1 when only
 * the ages or the keys vary), so that the defender's totals tell which
 * classes it accepted: every set of them has its own.
 * Random: source, port, client ISN, MSS index, options. */
static __always_inline void craft_ack(void *data, __be32 saddr, __u32 sport, __u32 r2,
				      __u32 r3, __u32 r4)
{
	struct iphdr *ip = data + L3;
	struct tcphdr *tcp = data + L4;
	__u32 *tw = (__u32 *)tcp;
	__u64 i = gen_frames, group = i / cfg.crafted_every, sel = group >> 1;
	__u32 kind = i % cfg.crafted_every, isn = r3, mss_idx = r4 & 3, opts, layout;
	__u32 age = cfg.ages == 2 ? 1 : 0, k = 0, slot;
	struct xdpct_siphash_key key = { cfg.key0, cfg.key1 };
	__u32 cookie, tsecr, m;
	__be32 daddr = cfg.daddr;
	bool ts = group & 1;
	struct tuple t = {};

	if (kind > 2) { /* a random ACK: the random flood's frame */
		put_eth_ip(data, GEN_LEN_ACK - L3, saddr, daddr, (__u16)r2);
		put_tcp(tcp, sport, r3, r4, 8 << 12 | 0x10, 502);
		tw[5] = bpf_htonl(0x0101080a);
		tw[6] = r2 ^ r3;
		tw[7] = r2 ^ r4;
		tcp->check = tcp_csum(ip, tw, 8);
		crafted.random++;
		return;
	}
	if (cfg.ages == 3 && cfg.two_keys) {
		sel %= 15; /* 0-7: key 0 age 0, 8-11: age 1, 12-13: key 1 age 0, 14 */
		age = (sel >= 8 && sel < 12) || sel == 14;
		k = sel >= 12;
	} else if (cfg.ages == 3) {
		age = sel % 3 == 2;
	} else if (cfg.two_keys) {
		k = sel % 3 == 2;
	}
	if (k) {
		key.k0 = cfg.key2_0;
		key.k1 = cfg.key2_1;
	}
	if (ts) {
		layout = COOKIE_TS;
		opts = (r4 >> 2) & 0x3f; /* ecn, sack, wscale 0..15: all valid */
	} else if (cfg.nots_options) {
		layout = COOKIE_NOTS_OPTS;
		opts = (r4 >> 2) & COOKIE_NOTS_OPTS_MASK;
	} else {
		layout = COOKIE_NOTS;
		opts = XDPCT_OPT_WSCALE_NONE;
	}
	/* the stale one: two slots older than the valid one (ages 2, 3) */
	slot = (craft_slot - age - (kind == 1 ? 2 : 0)) & 3;
	t.family = 4;
	t.saddr[0] = saddr;
	t.daddr[0] = daddr;
	t.sport = bpf_htons(sport);
	t.dport = cfg.dport;
	cookie = cookie_make(&key, &t, isn, mss_idx, slot, opts, layout);
	tsecr = (r2 & ~0x3fu) | opts;
	if (kind == 2) {
		/* one bit the cookie covers: cookie 0-31, client ISN 32-63,
		 * saddr 64-95, daddr 96-127, sport 128-143, TSecr options 144-149 */
		m = (r4 >> 8) % (ts ? 150 : 144);
		if (m < 32) {
			cookie ^= 1u << m;
			if (xdpct_cookie_age(craft_slot, cookie) > 1)
				crafted.near_stale++;
		} else if (m < 64)
			isn ^= 1u << (m - 32);
		else if (m < 96)
			saddr ^= bpf_htonl(1u << (m - 64));
		else if (m < 128) {
			daddr ^= bpf_htonl(1u << (m - 96));
			crafted.near_daddr++;
		}
		else if (m < 144)
			sport ^= 1u << (m - 128);
		else
			tsecr ^= 1u << (m - 144);
		crafted.near++;
	} else if (kind == 1) {
		crafted.stale++;
	} else {
		crafted.valid++;
	}
	crafted.by[k & 1][age & 1][kind]++;
	put_eth_ip(data, GEN_LEN_ACK - L3, saddr, daddr, (__u16)r2);
	put_tcp(tcp, sport & 0xffff, isn + 1, cookie + 1, 8 << 12 | 0x10, 502);
	if (ts) {
		tw[5] = bpf_htonl(0x0101080a);
		tw[6] = r3 ^ r4; /* TSval */
		tw[7] = bpf_htonl(tsecr);
		crafted.ts++;
	} else {
		tw[5] = tw[6] = tw[7] = 0x01010101; /* NOPs */
	}
	tcp->check = tcp_csum(ip, tw, 8);
}

/* Linux's SYN: MSS, SACK_PERM, TS, NOP, WS. GEN_LEN_SYN bytes. */
static __always_inline void put_syn(void *data, __be32 saddr, __u32 sport, __u32 r2,
				    __u32 r3, __u32 r4)
{
	struct iphdr *ip = data + L3;
	struct tcphdr *tcp = data + L4;
	__u32 *tw = (__u32 *)tcp;

	put_eth_ip(data, GEN_LEN_SYN - L3, saddr, cfg.daddr, (__u16)r2);
	put_tcp(tcp, sport, r3, 0, 10 << 12 | 0x02, 64240);
	tw[5] = bpf_htonl(0x02040000 | cfg.mss);
	tw[6] = bpf_htonl(0x0402080a);
	tw[7] = r4; /* TSval */
	tw[8] = 0;  /* TSecr */
	tw[9] = bpf_htonl(0x01030300 | cfg.wscale);
	tcp->check = tcp_csum(ip, tw, 10);
}

/* A Linux ACK of the handshake (flags 0x10: NOP NOP TS, random cookie),
 * or a FIN|ACK (0x11) of a tuple nobody knows. GEN_LEN_ACK bytes. */
static __always_inline void put_ack(void *data, __u16 flags, __be32 saddr, __u32 sport,
				    __u32 r1, __u32 r2, __u32 r3, __u32 r4)
{
	struct iphdr *ip = data + L3;
	struct tcphdr *tcp = data + L4;
	__u32 *tw = (__u32 *)tcp;

	put_eth_ip(data, GEN_LEN_ACK - L3, saddr, cfg.daddr, (__u16)r2);
	put_tcp(tcp, sport, r3, r4, 8 << 12 | flags, 502);
	tw[5] = bpf_htonl(0x0101080a);
	tw[6] = r1 ^ r3; /* TSval */
	tw[7] = r2 ^ r4; /* TSecr: its low bits are cookie option bits */
	tcp->check = tcp_csum(ip, tw, 8);
}

/* A bare RST. GEN_LEN_RST bytes. */
static __always_inline void put_rst(void *data, __be32 saddr, __u32 sport, __u32 r2, __u32 r3)
{
	struct iphdr *ip = data + L3;
	struct tcphdr *tcp = data + L4;

	put_eth_ip(data, GEN_LEN_RST - L3, saddr, cfg.daddr, (__u16)r2);
	put_tcp(tcp, sport, r3, 0, 5 << 12 | 0x04, 0);
	tcp->check = tcp_csum(ip, (__u32 *)tcp, 5);
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data, *end;
	__u32 r1, r2, r3, r4, sport, mode = cfg.mode;
	__be32 saddr;

	/* Pacing: one BPF_PROG_RUN call lasts the whole flood (each call
	 * costs ~24 ms of teardown here), so the schedule is kept in here.
	 * A run ahead of it returns the page unsent. */
	if (cfg.gap_ns) {
		__u64 now = bpf_ktime_get_ns();

		if (now < next_ns) {
			gen_idle++;
			return XDP_DROP;
		}
		if (now - next_ns > cfg.burst_ns)
			next_ns = now;
		next_ns += cfg.gap_ns;
	}

	if (cfg.mode == GEN_MIXED) {
		/* Every run hands over a GEN_LEN_SYN frame (test_run puts its
		 * length back after a run that changed it): shrink it to the
		 * ACK's or the RST's, so that each frame is the one its own
		 * mode sends. */
		mode = gen_frames % 3; /* GEN_SYN, GEN_ACK, GEN_RST */
		if (mode != GEN_SYN &&
		    bpf_xdp_adjust_tail(ctx, (mode == GEN_ACK ? GEN_LEN_ACK : GEN_LEN_RST) -
					     GEN_LEN_SYN))
			return XDP_ABORTED;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;

	r1 = rnd();
	r2 = rnd();
	r3 = rnd();
	r4 = rnd();
	saddr = cfg.saddr_base | (r1 & cfg.saddr_rnd);
	sport = 1024 + (((r2 >> 16) * 64512u) >> 16); /* 1024..65535 */
	if (mode == GEN_SYN) {
		if (data + GEN_LEN_SYN > end)
			return XDP_ABORTED;
		put_syn(data, saddr, sport, r2, r3, r4);
	} else if (mode == GEN_ACK && cfg.crafted_every) {
		unsigned int shift = xdpct_slot_shift(cfg.slot_shift);
		__u64 now = bpf_ktime_get_coarse_ns();

		if (data + GEN_LEN_ACK > end)
			return XDP_ABORTED;
		if ((now >> shift) != craft_slot ||
		    now + cfg.guard_ns >= (craft_slot + 1) << shift) {
			crafted.late++;
			return XDP_DROP;
		}
		craft_ack(data, saddr, sport, r2, r3, r4);
	} else if (mode == GEN_ACK || mode == GEN_FIN) {
		if (data + GEN_LEN_ACK > end)
			return XDP_ABORTED;
		put_ack(data, mode == GEN_FIN ? 0x11 : 0x10, saddr, sport, r1, r2, r3, r4);
	} else {
		if (data + GEN_LEN_RST > end)
			return XDP_ABORTED;
		put_rst(data, saddr, sport, r2, r3);
	}
	gen_frames++;
	return XDP_TX;
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 *tcp, flags, proto;
	__u32 l4;

	sink.frames++;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		proto = ip->protocol;
		l4 = L3 + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		proto = ip6->nexthdr;
		l4 = L3 + sizeof(*ip6);
	} else {
		return XDP_PASS; /* ARP, ND: the lab needs them */
	}
	if (proto != IPPROTO_TCP)
		return XDP_PASS;
	tcp = data + (l4 & 0xff);
	if ((void *)(tcp + 14) > end)
		return XDP_PASS;
	flags = tcp[13];
	sink.tcp++;
	if ((flags & 0x12) == 0x12)
		sink.synack++;
	else if (flags & 0x04)
		sink.rst++;
	else if (flags & 0x02)
		sink.syn++;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
