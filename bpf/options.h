/* SPDX-License-Identifier: GPL-2.0 */
/* TCP options: the two common layouts read straight from the packet,
 * any other walked by bpf_loop(). */
#ifndef XDPCT_OPTIONS_H
#define XDPCT_OPTIONS_H

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
 * amount each round, never let the verifier merge states. */
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

#endif
