/* SPDX-License-Identifier: GPL-2.0 */
/* Ones' complement sums over 32-bit words as they sit in memory: the sum is
 * byte-order neutral, so network-order words go in untouched. */
#ifndef XDPCT_CSUM_H
#define XDPCT_CSUM_H

static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header words: addresses as raw 32-bit loads, then 0|proto|len. */
static __always_inline __u64 csum_pseudo(const __u32 *saddr, const __u32 *daddr,
					 int family, __u32 tcp_len)
{
	__u64 sum = bpf_htonl((IPPROTO_TCP << 16) | tcp_len);

	sum += (__u64)saddr[0] + daddr[0];
	if (family == 6)
		sum += (__u64)saddr[1] + saddr[2] + saddr[3] + daddr[1] +
		       daddr[2] + daddr[3];
	return sum;
}

/* The full TCP checksum of a segment in an XDP frame, for the segments
 * that would change a flow's state (XDP sees offloaded checksums as the
 * sender left them: a mismatch here is not yet a bad segment, see
 * XDPCT_META_CT). Chunks go through a per-CPU buffer: bpf_csum_diff
 * wants memory of a size the verifier can bound. */
#define CSUM_CHUNK 256

struct csum_buf {
	__u8 b[CSUM_CHUNK + 4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct csum_buf);
} xdpct_csum_scratch SEC(".maps");

struct csum_walk {
	struct xdp_md *ctx;
	__u32 off;  /* next byte of the segment, from data */
	__u32 left; /* bytes still to sum */
	__u64 sum;
	int err;
};

static long csum_step(__u32 i, struct csum_walk *w)
{
	__u32 zero = 0, n, n4;
	struct csum_buf *cb;
	__s64 s;

	n = w->left > CSUM_CHUNK ? CSUM_CHUNK : w->left;
	if (!n)
		return 1;
	cb = bpf_map_lookup_elem(&xdpct_csum_scratch, &zero);
	if (!cb) {
		w->err = 1;
		return 1;
	}
	n &= 0x1ff;
	if (n > CSUM_CHUNK)
		return 1;
	/* a short last chunk: zeros up to the next 4 bytes do not change
	 * the sum (the chunk starts at an even offset of the segment) */
	*(__u32 *)&cb->b[n & 0xfc] = 0;
	if (bpf_xdp_load_bytes(w->ctx, w->off, cb->b, n)) {
		w->err = 1;
		return 1;
	}
	n4 = (n + 3) & 0x1fc;
	if (n4 > CSUM_CHUNK)
		return 1;
	s = bpf_csum_diff(NULL, 0, (__be32 *)cb->b, n4, 0);
	if (s < 0) {
		w->err = 1;
		return 1;
	}
	w->sum += (__u32)s;
	w->off += n;
	w->left -= n;
	return w->left == 0;
}

/* 1: the checksum holds; 0: it does not (or the frame is not all in
 * reach). tcp_off: the TCP header from data; t: the frame's addresses.
 * A global function: verified once. */
__noinline int tcp_csum_xdp(struct xdp_md *ctx, __u32 tcp_off, __u32 tcp_len,
			    const struct tuple *t)
{
	struct csum_walk w = {
		.ctx = ctx,
		.off = tcp_off,
		.left = tcp_len,
	};

	if (!t || tcp_len > 0xffff)
		return 0;
	w.sum = csum_pseudo(t->saddr, t->daddr, t->family, tcp_len);
	bpf_loop(0xffff / CSUM_CHUNK + 1, csum_step, &w, 0);
	return !w.err && !w.left && csum_fold64(w.sum) == 0;
}

#endif
