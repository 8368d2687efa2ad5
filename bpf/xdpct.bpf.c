// SPDX-License-Identifier: GPL-2.0
/* xdpct data path: XDP answers SYNs with cookie SYN-ACKs and checks cookie
 * ACKs; TC ingress hands validated ACKs to the local listener. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpct.h"
#include "parse.h"
#include "csum.h"
#include "cookie.h"
#include "conntrack.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpct_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_ports SEC(".maps");

/* max_entries of both flow maps is set by the loader (--max-conns) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_FLOWS_DEFAULT);
	__type(key, struct xdpct_flow4_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_FLOWS_DEFAULT);
	__type(key, struct xdpct_flow6_key);
	__type(value, struct xdpct_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_flows6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPCT_PENDING_MAX);
	__type(key, struct xdpct_flow_key);
	__type(value, struct xdpct_pending);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPCT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPCT_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_events SEC(".maps");

/* Keys that have (or had) a flow entry: layout and hash in xdpct.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPCT_SEEN_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpct_seen SEC(".maps");

/* Keeps the enums in the object's BTF, so bpftool can print names. */
enum xdpct_ct_state xdpct_btf_ct_state __attribute__((unused));
enum xdpct_stat xdpct_btf_stat __attribute__((unused));

/* CLOCK_MONOTONIC_COARSE: a jiffy's resolution is plenty for timeouts,
 * 69 s cookie slots and millisecond TSvals, and it costs a memory read
 * where bpf_ktime_get_ns() reads the TSC (36 ns in this VM, bench/). */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void count(__u32 id)
{
	__u64 *v = bpf_map_lookup_elem(&xdpct_stats, &id);

	if (v)
		*v += 1;
}

/* ---- TCP options ---- */

struct tcp_opts {
	__u32 tsval;
	__u32 tsecr;
	__u16 mss;
	__u8 wscale; /* 0xff: none */
	__u8 sack;
	__u8 ts;
	__u8 err;
};

/* Options are copied to the stack and walked by bpf_loop() with a scalar
 * index: an open-coded loop, or packet pointers that move by a different
 * amount each round, never let the verifier merge states (DESIGN.md s.5). */
#define OPT_BUF 64

struct opt_walk {
	__u8 buf[OPT_BUF];
	__u32 i;
	__u32 optlen;
	struct tcp_opts o;
};

static __always_inline __u8 opt_byte(const __u8 *buf, __u32 i)
{
	asm volatile("%0 &= 63" : "+r"(i)); /* clang drops a plain mask */
	return buf[i];
}

struct opt_walk_ref {
	struct opt_walk *w; /* bpf_loop() wants a stack pointer */
};

static long opt_step(__u32 n, struct opt_walk_ref *ref)
{
	struct opt_walk *w = ref->w;
	__u32 i, kind, len;

	if (!w)
		return 1;
	i = w->i;

	if (i >= w->optlen || i >= 40)
		return 1;
	kind = opt_byte(w->buf, i);
	if (kind == 0) /* end of list */
		return 1;
	if (kind == 1) { /* NOP */
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= w->optlen)
		goto bad;
	len = opt_byte(w->buf, i + 1);
	if (len < 2 || i + len > w->optlen)
		goto bad;
	/* Known options with a wrong length are ignored, as Linux does. */
	if (kind == 2 && len == 4) {
		w->o.mss = opt_byte(w->buf, i + 2) << 8 | opt_byte(w->buf, i + 3);
	} else if (kind == 3 && len == 3) {
		__u8 ws = opt_byte(w->buf, i + 2);

		w->o.wscale = ws > 14 ? 14 : ws; /* RFC 7323 2.3; 0xff is "none" */
	} else if (kind == 4 && len == 2) {
		w->o.sack = 1;
	} else if (kind == 8 && len == 10) {
		w->o.tsval = (__u32)opt_byte(w->buf, i + 2) << 24 |
			     (__u32)opt_byte(w->buf, i + 3) << 16 |
			     (__u32)opt_byte(w->buf, i + 4) << 8 | opt_byte(w->buf, i + 5);
		w->o.tsecr = (__u32)opt_byte(w->buf, i + 6) << 24 |
			     (__u32)opt_byte(w->buf, i + 7) << 16 |
			     (__u32)opt_byte(w->buf, i + 8) << 8 | opt_byte(w->buf, i + 9);
		w->o.ts = 1;
	}
	w->i = i + len;
	return 0;
bad:
	w->o.err = 1;
	return 1;
}

/* Per-CPU scratch for the walk: the stack is too small for it (512 bytes
 * across the global subprograms). XDP and TC do not nest on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct opt_walk);
} xdpct_scratch SEC(".maps");

static __always_inline struct opt_walk *opt_scratch(void)
{
	__u32 zero = 0;
	struct opt_walk *wp = bpf_map_lookup_elem(&xdpct_scratch, &zero);

	if (wp) { /* buf is read only up to optlen: no need to clear it */
		wp->i = 0;
		wp->optlen = 0;
		__builtin_memset(&wp->o, 0, sizeof(wp->o));
		wp->o.wscale = 0xff;
	}
	return wp;
}

static __always_inline __u32 opt_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/* The two layouts nearly every packet that xdpct parses carries, read
 * without the walk: a Linux SYN (MSS, SACK_PERM, TS, NOP, WS: 20 bytes)
 * and an ACK with timestamps (NOP, NOP, TS: 12 bytes). b: len readable
 * bytes. Writes all of *o, as opt_step() would; false: not this layout. */
static __always_inline bool opt_fast(const __u8 *b, __u32 len, struct tcp_opts *o)
{
	if (len == 20 && b[0] == 2 && b[1] == 4 && b[4] == 4 && b[5] == 2 &&
	    b[6] == 8 && b[7] == 10 && b[16] == 1 && b[17] == 3 && b[18] == 3) {
		o->mss = (__u16)(b[2] << 8 | b[3]);
		o->sack = 1;
		o->tsval = opt_be32(b + 8);
		o->tsecr = opt_be32(b + 12);
		o->ts = 1;
		o->wscale = b[19] > 14 ? 14 : b[19];
		o->err = 0;
		return true;
	}
	if (len == 12 && b[0] == 1 && b[1] == 1 && b[2] == 8 && b[3] == 10) {
		o->mss = 0;
		o->sack = 0;
		o->tsval = opt_be32(b + 4);
		o->tsecr = opt_be32(b + 8);
		o->ts = 1;
		o->wscale = 0xff;
		o->err = 0;
		return true;
	}
	return false;
}

/* The same, straight from the packet when the bytes are in its linear
 * part: no copy into the scratch buffer. */
static __always_inline bool opt_fast_pkt(void *data, void *data_end, __u32 tcp_off,
					 __u32 optlen, struct tcp_opts *o)
{
	const __u8 *b = data + (tcp_off & 0xfff) + 20;

	if (optlen == 20 && (void *)(b + 20) <= data_end)
		return opt_fast(b, 20, o);
	if (optlen == 12 && (void *)(b + 12) <= data_end)
		return opt_fast(b, 12, o);
	return false;
}

static __always_inline int opt_walk_run(struct opt_walk *wp, struct tcp_opts *o)
{
	if (wp->optlen && !opt_fast(wp->buf, wp->optlen, &wp->o)) {
		struct opt_walk_ref ref = { .w = wp };

		bpf_loop(40, opt_step, &ref, 0);
	}
	*o = wp->o;
	return o->err ? -1 : 0;
}

/* Global subprograms: verified once, callers only see "o was written".
 * optlen = TCP header length - 20, from the caller's parse. They differ
 * only in the helper that copies the options out of the packet. */
#define DEFINE_PARSE_OPTS(name, ctx_type, load_bytes)                            \
__noinline int name(ctx_type *ctx, __u32 tcp_off, __u32 optlen, struct tcp_opts *o) \
{                                                                              \
	struct opt_walk *wp;                                                   \
	__u64 len;                                                             \
                                                                               \
	if (!o)                                                                \
		return -1;                                                     \
	if (opt_fast_pkt((void *)(long)ctx->data, (void *)(long)ctx->data_end, \
			 tcp_off, optlen, o))                                  \
		return 0;                                                      \
	wp = opt_scratch();                                                    \
	/* a 64-bit copy: clang would test a zero-extended copy of a __u32 */ \
	len = optlen;                                                          \
	asm volatile("%0 &= 63" : "+r"(len));                                  \
	if (!wp || len > 40)                                                   \
		goto bad;                                                      \
	wp->optlen = len;                                                      \
	if (len && load_bytes(ctx, (tcp_off & 0xfff) + 20, wp->buf, len))      \
		goto bad;                                                      \
	return opt_walk_run(wp, o);                                            \
bad:                                                                           \
	__builtin_memset(o, 0, sizeof(*o));                                    \
	o->err = 1;                                                            \
	return -1;                                                             \
}

DEFINE_PARSE_OPTS(parse_opts, struct xdp_md, bpf_xdp_load_bytes)
DEFINE_PARSE_OPTS(parse_opts_skb, struct __sk_buff, bpf_skb_load_bytes)

/* ---- helpers on the parsed packet ---- */

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

/* Flow keys from a tuple. remote_is_src: ingress (XDP, TC ingress) */
union flow_key {
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
};

static __always_inline void flow_key(const struct tuple *t, bool remote_is_src,
				     union flow_key *k)
{
	const __u32 *r = remote_is_src ? t->saddr : t->daddr;
	const __u32 *l = remote_is_src ? t->daddr : t->saddr;
	__u16 rp = remote_is_src ? t->sport : t->dport;
	__u16 lp = remote_is_src ? t->dport : t->sport;

	__builtin_memset(k, 0, sizeof(*k));
	if (t->family == 4) {
		k->k4.raddr = r[0];
		k->k4.laddr = l[0];
		k->k4.rport = rp;
		k->k4.lport = lp;
	} else {
		__builtin_memcpy(k->k6.raddr, r, 16);
		__builtin_memcpy(k->k6.laddr, l, 16);
		k->k6.rport = rp;
		k->k6.lport = lp;
	}
}

/* The generic key of the pending map. */
static __always_inline void pending_key(const struct tuple *t, bool remote_is_src,
					struct xdpct_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = t->family;
	k->rport = remote_is_src ? t->sport : t->dport;
	k->lport = remote_is_src ? t->dport : t->sport;
	__builtin_memcpy(k->raddr, remote_is_src ? t->saddr : t->daddr, 16);
	__builtin_memcpy(k->laddr, remote_is_src ? t->daddr : t->saddr, 16);
}

/* One call site per map: clang would otherwise merge the two lookups into
 * one call with the map chosen at run time, which the verifier cannot
 * inline (an indirect call through the map's ops per packet). */
static __always_inline struct xdpct_flow *flow_lookup(int family, union flow_key *k)
{
	struct xdpct_flow *f;

	if (family == 4) {
		f = bpf_map_lookup_elem(&xdpct_flows4, &k->k4);
		asm volatile("" : "+r"(f)); /* keeps this call site apart */
		return f;
	}
	return bpf_map_lookup_elem(&xdpct_flows6, &k->k6);
}

static __always_inline __u32 seen_bit(int family, const union flow_key *k)
{
	if (family == 4)
		return xdpct_seen_bit4(&k->k4);
	return xdpct_seen_bit6(&k->k6);
}

/* The key's bit, in both halves of xdpct_seen. */
static __always_inline void seen_set(__u32 bit)
{
	__u32 i0 = bit / 64, i1 = XDPCT_SEEN_WORDS + bit / 64;
	__u64 m = 1ULL << (bit & 63), *w;

	w = bpf_map_lookup_elem(&xdpct_seen, &i0);
	if (w)
		__sync_fetch_and_or(w, m);
	w = bpf_map_lookup_elem(&xdpct_seen, &i1);
	if (w)
		__sync_fetch_and_or(w, m);
}

/* Whether the key may have a flow entry: its bit in the active half.
 * False only if it surely has none. */
static __always_inline bool seen_maybe(__u32 bit)
{
	__u32 ai = XDPCT_SEEN_ACTIVE, i;
	__u64 *a, *w;

	a = bpf_map_lookup_elem(&xdpct_seen, &ai);
	if (!a)
		return true;
	i = (*a & 1) * XDPCT_SEEN_WORDS + bit / 64;
	w = bpf_map_lookup_elem(&xdpct_seen, &i);
	if (!w)
		return true;
	return (*w >> (bit & 63)) & 1;
}

/* Every flow entry is inserted here: the entry first, then its bit (a
 * rebuild that clears the bit after this sees the entry in its walk). */
static __always_inline int flow_insert(int family, union flow_key *k,
				       struct xdpct_flow *f)
{
	int r;

	if (family == 4)
		r = bpf_map_update_elem(&xdpct_flows4, &k->k4, f, BPF_ANY);
	else
		r = bpf_map_update_elem(&xdpct_flows6, &k->k6, f, BPF_ANY);
	if (!r)
		seen_set(seen_bit(family, k));
	return r;
}

static __always_inline void flow_delete(int family, union flow_key *k)
{
	if (family == 4)
		bpf_map_delete_elem(&xdpct_flows4, &k->k4);
	else
		bpf_map_delete_elem(&xdpct_flows6, &k->k6);
}

/* Tells `xdpct run` that a flow just entered TIME_WAIT or CLOSE. */
static __always_inline void close_event(const struct tuple *t, bool remote_is_src,
					const struct xdpct_flow *f, __u8 old_state)
{
	struct xdpct_close_event ev;

	if (f->state == old_state ||
	    (f->state != XDPCT_CT_TIME_WAIT && f->state != XDPCT_CT_CLOSE))
		return;
	pending_key(t, remote_is_src, &ev.key);
	ev.tick = f->last_tick;
	ev.state = f->state;
	__builtin_memset(ev.pad, 0, sizeof(ev.pad));
	if (bpf_ringbuf_output(&xdpct_events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		count(XDPCT_STAT_EVENT_LOST);
}

/* Whether a flow on these ports is tracked without cookies. */
static __always_inline bool observed(const struct xdpct_config *cfg, __u16 lport,
				     __u16 rport)
{
	__u32 l = bpf_ntohs(lport), r = bpf_ntohs(rport);
	__u8 *pl, *pr;

	if (cfg->flags & XDPCT_CFG_TRACK_ALL)
		return true;
	pl = bpf_map_lookup_elem(&xdpct_ports, &l);
	pr = bpf_map_lookup_elem(&xdpct_ports, &r);
	return (pl && (*pl & XDPCT_PORT_OBSERVE)) || (pr && (*pr & XDPCT_PORT_OBSERVE));
}

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

static __always_inline __u32 pkt_ip_len(const struct pkt *p)
{
	return p->ip_len;
}

static __always_inline __u32 cookie_slot(__u64 now)
{
	return (now >> XDPCT_SLOT_SHIFT) & 3;
}

/* ---- SYN -> SYN-ACK ---- */

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

/* where = pkt_where(): l3 offset, l4 offset and family in one argument */
__noinline int answer_syn(struct xdp_md *ctx, __u32 where,
			  struct xdpct_config *cfg)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcp_opts o;
	struct tuple t;
	__u32 client_isn, mss_idx, opts, slot, cookie, tsval = 0, optlen, iphl;
	__u32 win, eff_mss, new_len;
	struct tcphdr *syn;
	__u8 syn_flags;
	bool has_ts, has_sack, has_ws, ecn;
	__u16 our_mss;
	__u64 now, sum;
	struct ethhdr *eth;
	struct tcphdr *tcp;
	__u32 *op;
	__u8 mac[6];

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

	opts = has_ws ? (o.wscale > 14 ? 14 : o.wscale) : XDPCT_OPT_WSCALE_NONE;
	if (has_sack)
		opts |= XDPCT_OPT_SACK;
	if (ecn)
		opts |= XDPCT_OPT_ECN;
	mss_idx = mss_to_idx(t.family, o.mss ? o.mss : 536);
	now = now_ns();
	slot = cookie_slot(now);
	cookie = cookie_make(&cfg->key_cur, &t, client_isn, mss_idx, slot, opts,
			     has_ts);
	if (has_ts)
		/* a millisecond clock, never ahead of it, low 6 bits = options */
		tsval = (((__u32)(now / 1000000) - 64) & ~0x3fu) | opts;

	our_mss = t.family == 4 ? cfg->mss4 : cfg->mss6;
	optlen = 4 + (has_ts ? 12 : (has_sack ? 4 : 0)) + (has_ws ? 4 : 0);
	iphl = t.family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	new_len = (where & 0x1f) + iphl + sizeof(struct tcphdr) + optlen;
	eff_mss = our_mss - (has_ts ? 12 : 0);
	win = eff_mss ? 65535 / eff_mss * eff_mss : 65535;

	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)(data_end - data)))
		goto err;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	eth = data;
	if ((void *)(eth + 1) > data_end)
		goto err;
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);

	if (t.family == 4) {
		struct iphdr *ip = data + (where & 0x1f);
		__u32 *w = (__u32 *)ip;

		if ((void *)(ip + 1) > data_end)
			goto err;
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*tcp) + optlen);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = cfg->ttl;
		ip->protocol = IPPROTO_TCP;
		ip->check = 0;
		ip->saddr = t.daddr[0];
		ip->daddr = t.saddr[0];
		sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];
		ip->check = csum_fold64(sum);
		tcp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + (where & 0x1f);

		if ((void *)(ip6 + 1) > data_end)
			goto err;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(sizeof(*tcp) + optlen);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = cfg->ttl;
		__builtin_memcpy(&ip6->saddr, t.daddr, 16);
		__builtin_memcpy(&ip6->daddr, t.saddr, 16);
		tcp = (void *)(ip6 + 1);
	}
	if ((void *)(tcp + 1) > data_end)
		goto err;
	tcp->source = t.dport;
	tcp->dest = t.sport;
	tcp->seq = bpf_htonl(cookie);
	tcp->ack_seq = bpf_htonl(client_isn + 1);
	((__u8 *)tcp)[12] = (sizeof(*tcp) + optlen) / 4 << 4;
	((__u8 *)tcp)[13] = TCP_FLAG_SYN | TCP_FLAG_ACK | (ecn ? TCP_FLAG_ECE : 0);
	tcp->window = bpf_htons(win);
	tcp->check = 0;
	tcp->urg_ptr = 0;

	sum = csum_pseudo(t.daddr, t.saddr, t.family, sizeof(*tcp) + optlen);
	{
		__u32 *w = (__u32 *)tcp;

		sum += (__u64)w[0] + w[1] + w[2] + w[3] + w[4];
	}
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

/* ---- cookie ACK ---- */

enum cookie_verdict { COOKIE_BAD, COOKIE_STALE, COOKIE_GOOD };

__noinline int check_cookie(struct xdp_md *ctx, __u32 where,
			    struct xdpct_config *cfg, struct xdpct_req_attrs *a)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp;
	struct tcp_opts o;
	struct tuple t;
	__u32 cookie, isn, opts, ws, age;
	bool has_ts;

	if (!cfg || !a)
		return COOKIE_BAD;
	tcp = load_tuple(data, data_end, where, &t);
	if (!tcp || parse_opts(ctx, (void *)tcp - data, tcp->doff * 4 - 20, &o) < 0)
		return COOKIE_BAD;
	cookie = bpf_ntohl(tcp->ack_seq) - 1;
	isn = bpf_ntohl(tcp->seq) - 1;
	has_ts = o.ts;
	opts = has_ts ? (o.tsecr & 0x3f) : (cookie >> 5) & 0x3f;
	ws = opts & 0xf;
	if (ws > 14 && ws != XDPCT_OPT_WSCALE_NONE)
		return COOKIE_BAD;

	if (!cookie_match(&cfg->key_cur, &t, isn, cookie, opts, has_ts)) {
		if (!(cfg->flags & XDPCT_CFG_PREV_KEY) ||
		    !cookie_match(&cfg->key_prev, &t, isn, cookie, opts, has_ts))
			return COOKIE_BAD;
		count(XDPCT_STAT_COOKIE_PREV_KEY);
	}
	age = (cookie_slot(now_ns()) - ((cookie >> 3) & 3)) & 3;
	if (age > 1)
		return COOKIE_STALE;

	__builtin_memset(a, 0, sizeof(*a));
	a->mss = mss_from_idx(t.family, cookie & 7);
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

/* Prepends the handover attributes as XDP metadata for TC ingress. */
static __always_inline int attach_meta(struct xdp_md *ctx,
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
	m->attrs = *a;
	return 0;
}

/* The three paths below are separate subprograms, each with its own
 * stack frame: inlined, their locals would not fit in 512 bytes together
 * with check_cookie()'s. */

/* Verdict for a packet whose flow entry exists. */
static __noinline int xdp_flow_packet(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t, struct xdpct_flow *f,
				      bool protect)
{
	__u64 now = now_ns();
	__u8 old_state;
	bool pending_ack = (f->flags & XDPCT_FLOW_PENDING) &&
			   (p->flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) ==
				   TCP_FLAG_ACK;
	struct ct_seg seg;
	int r;

	ct_seg_from(&seg, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (seg.flags & TCP_FLAG_SYN) { /* a SYN-ACK, or a SYN again: its shift */
		void *data = (void *)(long)ctx->data;
		struct tcp_opts o;

		if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &o) == 0 &&
		    o.wscale != 0xff)
			seg.wscale = o.wscale;
	}
	old_state = f->state;
	r = ct_update(f, &seg, XDPCT_REMOTE, now);
	close_event(t, true, f, old_state);
	if (r == CT_RST_CHALLENGE) {
		count(XDPCT_STAT_CT_RST_CHALLENGE);
	} else if (r != CT_OK) {
		count(XDPCT_STAT_CT_INVALID);
		if (protect) { /* observing never drops */
			if (r == CT_RST_WINDOW)
				count(XDPCT_STAT_V_DROP_RST_WINDOW);
			else if (r == CT_ACK_WINDOW)
				count(XDPCT_STAT_V_DROP_ACK_WINDOW);
			else
				count(XDPCT_STAT_V_DROP_CT_INVALID);
			return XDP_DROP;
		}
	}
	if (pending_ack) {
		/* until TC sees the child socket, every ACK carries the
		 * attributes again: the first may have met a full accept queue */
		struct xdpct_flow_key pk;
		struct xdpct_pending *pe;
		struct xdpct_req_attrs a;

		pending_key(t, true, &pk);
		pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
		if (pe) {
			a = pe->attrs;
			if (attach_meta(ctx, &a)) {
				count(XDPCT_STAT_V_DROP_ERROR);
				return XDP_DROP;
			}
		} else {
			count(XDPCT_STAT_CT_PENDING_LOST);
		}
	}
	count(XDPCT_STAT_V_PASS_FLOW);
	return XDP_PASS;
}

/* A valid cookie ACK: the flow starts at SYN_RECV, pending until TC sees
 * the listener's child socket. */
static __noinline int xdp_cookie_flow(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t, const struct xdpct_config *cfg,
				      const struct xdpct_req_attrs *a)
{
	struct xdpct_pending pe = {
		.attrs = *a,
		.first_seq = bpf_ntohl(p->tcp->seq),
	};
	__u64 now = now_ns();
	struct xdpct_flow_key pk;
	struct xdpct_flow nf = {};
	union flow_key k;
	__u32 isn = bpf_ntohl(p->tcp->seq) - 1, cookie = bpf_ntohl(p->tcp->ack_seq) - 1;

	nf.first_s = now / 1000000000ULL;
	nf.last_tick = now >> XDPCT_TICK_SHIFT;
	nf.state = XDPCT_CT_SYN_RECV;
	nf.flags = XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED |
		   XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	nf.dir[XDPCT_REMOTE].end = isn + 1 + p->tcp_len - p->tcp->doff * 4 +
				   !!(p->flags & TCP_FLAG_FIN);
	nf.dir[XDPCT_REMOTE].maxack = cookie + 1;
	nf.dir[XDPCT_REMOTE].win = bpf_ntohs(p->tcp->window);
	nf.dir[XDPCT_REMOTE].wscale = a->wscale_ok ? a->snd_wscale : 0xf;
	nf.dir[XDPCT_REMOTE].flags = TCP_FLAG_SYN | p->flags;
	nf.dir[XDPCT_LOCAL].end = cookie + 1;
	nf.dir[XDPCT_LOCAL].maxack = isn + 1;
	nf.dir[XDPCT_LOCAL].win = 0xffff;
	nf.dir[XDPCT_LOCAL].wscale = a->wscale_ok ? cfg->wscale : 0xf;
	nf.dir[XDPCT_LOCAL].flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	nf.packets[XDPCT_REMOTE] = 1;
	nf.bytes[XDPCT_REMOTE] = pkt_ip_len(p);
	pending_key(t, true, &pk);
	bpf_map_update_elem(&xdpct_pending, &pk, &pe, BPF_ANY);
	flow_key(t, true, &k);
	flow_insert(t->family, &k, &nf);
	if (attach_meta(ctx, a)) {
		count(XDPCT_STAT_V_DROP_ERROR);
		return XDP_DROP;
	}
	count(XDPCT_STAT_V_PASS_COOKIE);
	return XDP_PASS;
}

/* SYN to an observed port, or reopening a closed flow: the handshake is
 * tracked from here. */
static __noinline int xdp_observe_syn(struct xdp_md *ctx, struct pkt *p,
				      struct tuple *t)
{
	void *data = (void *)(long)ctx->data;
	struct xdpct_flow nf;
	union flow_key k;
	struct tcp_opts o;
	struct ct_seg seg;

	ct_seg_from(&seg, p->tcp, p->tcp_len - p->tcp->doff * 4, pkt_ip_len(p));
	if (parse_opts(ctx, (void *)p->tcp - data, p->tcp->doff * 4 - 20, &o) == 0 &&
	    o.wscale != 0xff)
		seg.wscale = o.wscale;
	ct_init_syn(&nf, XDPCT_REMOTE, &seg, now_ns());
	flow_key(t, true, &k);
	flow_insert(t->family, &k, &nf);
	count(XDPCT_STAT_V_PASS_CT_NEW);
	return XDP_PASS;
}

SEC("xdp")
int xdpct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct tuple t;
	__u32 zero = 0, port;
	bool protect;
	__u8 *pflags;
	int r;

	count(XDPCT_STAT_XDP_PACKETS);
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED)) {
		count(XDPCT_STAT_V_PASS_DISABLED);
		return XDP_PASS;
	}

	r = parse_pkt(data, data_end, data_end - data, &p);
	if (r == PARSE_NOT_TCP) {
		count(XDPCT_STAT_V_PASS_NOT_TCP);
		return XDP_PASS;
	}
	if (r == PARSE_FRAGMENT) {
		count(XDPCT_STAT_V_DROP_FRAGMENT);
		return XDP_DROP;
	}
	if (r != PARSE_TCP || !p.tcp) {
		count(p.err);
		count(XDPCT_STAT_V_DROP_MALFORMED);
		return XDP_DROP;
	}

	port = bpf_ntohs(p.tcp->dest);
	pflags = bpf_map_lookup_elem(&xdpct_ports, &port);
	protect = pflags && (*pflags & XDPCT_PORT_PROTECT);
	if (!protect && !observed(cfg, p.tcp->dest, p.tcp->source)) {
		count(XDPCT_STAT_V_PASS_UNPROTECTED);
		return XDP_PASS;
	}

	if ((p.flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) == (TCP_FLAG_SYN | TCP_FLAG_RST) ||
	    (p.flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) == (TCP_FLAG_SYN | TCP_FLAG_FIN)) {
		if (protect) {
			count(XDPCT_STAT_V_DROP_BAD_FLAGS);
			return XDP_DROP;
		}
		count(XDPCT_STAT_CT_INVALID); /* observing never drops */
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}

	pkt_tuple(&p, &t);
	flow_key(&t, true, &key);
	if (protect && (p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	    !seen_maybe(seen_bit(t.family, &key))) {
		/* no entry, surely (xdpct_seen): the answer a lookup that finds
		 * nothing leads to, without the lookup's cache and TLB misses */
		count(XDPCT_STAT_SYN_SEEN);
		count(XDPCT_STAT_SYN_NO_LOOKUP);
		return answer_syn(ctx, pkt_where(&p, data), cfg);
	}
	f = flow_lookup(t.family, &key);

	if ((p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		bool closed = f && (f->state == XDPCT_CT_TIME_WAIT ||
				    f->state == XDPCT_CT_CLOSE);

		if (protect)
			count(XDPCT_STAT_SYN_SEEN);
		if (closed) {
			/* a new connection on an old tuple goes to the kernel, which
			 * may hold a TIME_WAIT socket for it (a cookie ACK could not
			 * be handed over then); tracked from this SYN. Only a known
			 * tuple gets here: no way around the cookies for a flood. */
			count(XDPCT_STAT_CT_REOPEN);
			flow_delete(t.family, &key);
			return xdp_observe_syn(ctx, &p, &t);
		}
		if (protect) {
			/* A live connection's SYN goes to the kernel (challenge
			 * ACK); a pending one gets its cookie again. */
			if (f && !(f->flags & XDPCT_FLOW_PENDING)) {
				count(XDPCT_STAT_V_PASS_SYN_TRACKED);
				return XDP_PASS;
			}
			return answer_syn(ctx, pkt_where(&p, data), cfg);
		}
		if (!f)
			return xdp_observe_syn(ctx, &p, &t);
	}

	if (f)
		return xdp_flow_packet(ctx, &p, &t, f, protect);

	if (!protect) {
		count(XDPCT_STAT_V_PASS_UNTRACKED);
		return XDP_PASS;
	}
	if ((p.flags & (TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_SYN)) == TCP_FLAG_ACK) {
		struct xdpct_req_attrs a;

		r = check_cookie(ctx, pkt_where(&p, data), cfg, &a);
		if (r == COOKIE_BAD) {
			count(XDPCT_STAT_V_DROP_COOKIE_BAD);
			return XDP_DROP;
		}
		if (r == COOKIE_STALE) {
			count(XDPCT_STAT_V_DROP_COOKIE_STALE);
			return XDP_DROP;
		}
		count(XDPCT_STAT_COOKIE_GOOD);
		return xdp_cookie_flow(ctx, &p, &t, cfg, &a);
	}

	count(XDPCT_STAT_V_DROP_NO_FLOW);
	return XDP_DROP;
}

static __always_inline int skb_tuple(struct __sk_buff *skb, struct pkt *p,
				     struct tuple *t)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < 128 ? skb->len : 128;

	/* headers in the linear part; never the payload of a GSO packet */
	if (data + want > data_end) {
		if (bpf_skb_pull_data(skb, want))
			return -1;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	if (parse_pkt(data, data_end, skb->len, p) != PARSE_TCP || !p->tcp)
		return -1;
	pkt_tuple(p, t);
	return 0;
}

SEC("tc")
int xdpct_tc_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct xdpct_meta *m = (void *)(long)skb->data_meta;
	struct bpf_tcp_req_attrs attrs;
	struct bpf_sock_tuple bt = {};
	struct xdpct_flow_key pk;
	struct xdpct_pending *pe;
	struct bpf_sock *skc;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct tuple t;
	__u32 tlen;

	if ((void *)(m + 1) > data || m->magic != XDPCT_META_MAGIC)
		return TC_ACT_OK;
	count(XDPCT_STAT_TC_META);
	__builtin_memcpy(&attrs, &m->attrs, sizeof(attrs));

	if (skb_tuple(skb, &p, &t))
		return TC_ACT_OK;
	if (t.family == 4) {
		bt.ipv4.saddr = t.saddr[0];
		bt.ipv4.daddr = t.daddr[0];
		bt.ipv4.sport = t.sport;
		bt.ipv4.dport = t.dport;
		tlen = sizeof(bt.ipv4);
	} else {
		__builtin_memcpy(bt.ipv6.saddr, t.saddr, 16);
		__builtin_memcpy(bt.ipv6.daddr, t.daddr, 16);
		bt.ipv6.sport = t.sport;
		bt.ipv6.dport = t.dport;
		tlen = sizeof(bt.ipv6);
	}

	skc = bpf_skc_lookup_tcp(skb, &bt, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!skc) {
		count(XDPCT_STAT_TC_NO_LISTENER);
		return TC_ACT_OK; /* the kernel resets it, as for a closed port */
	}
	pending_key(&t, true, &pk);
	if (skc->state == BPF_TCP_LISTEN) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
		__u64 now = now_ns();

		pe = bpf_map_lookup_elem(&xdpct_pending, &pk);
		if (pe && bpf_ntohl(p.tcp->seq) != pe->first_seq) {
			/* the first segment met a full accept queue and a later
			 * one came before its retransmission: handed over, it
			 * would start the connection past the missing bytes */
			count(XDPCT_STAT_TC_DROP_NOT_FIRST);
			bpf_sk_release(skc);
			return TC_ACT_SHOT;
		}
		if (!tp) {
			count(XDPCT_STAT_TC_HANDOFF_FAIL);
		} else if (pe && now - pe->handoff_ns < XDPCT_HANDOFF_DUP_NS &&
			   tp->inet_conn.icsk_inet.sk.sk_ack_backlog <
				   tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog) {
			/* the previous packet will make the child; with room in
			 * the accept queue it cannot fail for lack of space */
			count(XDPCT_STAT_TC_HANDOFF_DUP);
		} else if (bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs,
						   sizeof(attrs)) == 0) {
			if (pe)
				pe->handoff_ns = now;
			count(XDPCT_STAT_TC_HANDOFF);
		} else {
			count(XDPCT_STAT_TC_HANDOFF_FAIL);
		}
	} else if (skc->state != BPF_TCP_NEW_SYN_RECV &&
		   skc->state != BPF_TCP_TIME_WAIT) {
		/* the child exists: the handshake is over */
		flow_key(&t, true, &key);
		f = flow_lookup(t.family, &key);
		if (f && (f->flags & XDPCT_FLOW_PENDING)) {
			f->flags &= ~XDPCT_FLOW_PENDING;
			if (f->state == XDPCT_CT_SYN_RECV)
				f->state = XDPCT_CT_ESTABLISHED;
			count(XDPCT_STAT_TC_CHILD_SEEN);
		}
		bpf_map_delete_elem(&xdpct_pending, &pk);
	}
	bpf_sk_release(skc);
	return TC_ACT_OK;
}

/* Egress: the local side's packets drive its half of the state machine.
 * Its own section name: iproute2 takes the first program of a section, and
 * libbpf 1.1 knows no "tc/egress". */
SEC("classifier")
int xdpct_tc_out(struct __sk_buff *skb)
{
	struct xdpct_config *cfg;
	struct xdpct_flow *f;
	union flow_key key;
	struct pkt p = {};
	struct ct_seg seg;
	struct tuple t;
	__u32 zero = 0, payload, ip_len;
	__u64 now;

	count(XDPCT_STAT_TC_OUT_PACKETS);
	cfg = bpf_map_lookup_elem(&xdpct_config, &zero);
	if (!cfg || !(cfg->flags & XDPCT_CFG_ENABLED))
		return TC_ACT_OK;
	if (skb_tuple(skb, &p, &t))
		return TC_ACT_OK;
	/* skb->len, not the IP length fields: a GSO packet may be bigger */
	ip_len = skb->len - p.l3_off;
	payload = ip_len - ((void *)p.tcp - (void *)p.eth - p.l3_off) - p.tcp->doff * 4;
	ct_seg_from(&seg, p.tcp, payload, ip_len);
	flow_key(&t, false, &key);
	f = flow_lookup(t.family, &key);
	now = now_ns();

	if (f) {
		if (seg.flags & TCP_FLAG_SYN) {
			struct tcp_opts o;

			if (parse_opts_skb(skb, (void *)p.tcp - (void *)(long)skb->data,
					   p.tcp->doff * 4 - 20, &o) == 0 && o.wscale != 0xff)
				seg.wscale = o.wscale;
		}
		if ((seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
		    (f->state == XDPCT_CT_TIME_WAIT || f->state == XDPCT_CT_CLOSE)) {
			count(XDPCT_STAT_CT_REOPEN);
			ct_init_syn(f, XDPCT_LOCAL, &seg, now);
			count(XDPCT_STAT_TC_OUT_CT_NEW);
			return TC_ACT_OK;
		}
		__u8 old_state = f->state;
		int r = ct_update(f, &seg, XDPCT_LOCAL, now);

		close_event(&t, false, f, old_state);
		if (r != CT_OK) {
			count(XDPCT_STAT_CT_INVALID);
		} else if ((f->flags & XDPCT_FLOW_PENDING) && !(seg.flags & TCP_FLAG_RST)) {
			/* the local stack answering a cookie flow: its child exists */
			struct xdpct_flow_key pk;

			f->flags &= ~XDPCT_FLOW_PENDING;
			if (f->state == XDPCT_CT_SYN_RECV)
				f->state = XDPCT_CT_ESTABLISHED;
			pending_key(&t, false, &pk);
			bpf_map_delete_elem(&xdpct_pending, &pk);
		}
		count(XDPCT_STAT_TC_OUT_FLOW);
		return TC_ACT_OK;
	}
	if ((seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) ==
		    TCP_FLAG_SYN && observed(cfg, t.sport, t.dport)) {
		struct xdpct_flow nf;
		struct tcp_opts o;

		if (parse_opts_skb(skb, (void *)p.tcp - (void *)(long)skb->data,
				   p.tcp->doff * 4 - 20, &o) == 0 && o.wscale != 0xff)
			seg.wscale = o.wscale;
		ct_init_syn(&nf, XDPCT_LOCAL, &seg, now);
		flow_insert(t.family, &key, &nf);
		count(XDPCT_STAT_TC_OUT_CT_NEW);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
