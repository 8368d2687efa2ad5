/* SPDX-License-Identifier: GPL-2.0 */
/* xdpct's SYN cookie: SipHash-2-4 over the connection tuple, the client's
 * ISN and the encoded options. Layout and inputs: include/xdpct.h. */
#ifndef XDPCT_COOKIE_H
#define XDPCT_COOKIE_H

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                            \
	do {                                                                \
		v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
		v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                    \
		v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                    \
		v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
	} while (0)

/* SipHash-2-4 of n little-endian 64-bit words and a final tail_len-byte
 * (< 8) little-endian tail: a message of 8n + tail_len bytes. Data short
 * enough for the final block rides there, one compression fewer. */
static __always_inline __u64 siphash24(const struct xdpct_siphash_key *k,
				       const __u64 *m, const int n, __u64 tail,
				       const int tail_len)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ k->k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ k->k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ k->k0;
	__u64 v3 = 0x7465646279746573ULL ^ k->k1;
	__u64 b = (__u64)(n * 8 + tail_len) << 56 | tail;

#pragma unroll
	for (int i = 0; i < 5; i++) {
		if (i < n) {
			v3 ^= m[i];
			SIPROUND;
			SIPROUND;
			v0 ^= m[i];
		}
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Layouts and bit counts: include/xdpct.h. */
enum cookie_layout { COOKIE_NOTS = 0, COOKIE_TS = 1, COOKIE_NOTS_OPTS = 2 };
#define COOKIE_HASH_BITS 28      /* COOKIE_TS, COOKIE_NOTS */
#define COOKIE_OPTS_HASH_BITS 23 /* COOKIE_NOTS_OPTS: 5 bits of options */
#define COOKIE_NOTS_OPTS_MASK (XDPCT_OPT_SACK | 0xf)

/* The key of the cookies of (absolute) slot abs: key_sel is read once,
 * before the key (include/xdpct.h). *prev: the older of the two. */
static __always_inline __u32 cfg_key_index(const struct xdpct_config *cfg, __u64 abs, bool *prev)
{
	__u64 sel = *(volatile const __u64 *)&cfg->key_sel;
	__u32 i = sel & 1;

	*prev = abs < (sel >> 1);
	if (*prev)
		i ^= 1;
	return i;
}

static __always_inline const struct xdpct_siphash_key *
cfg_key_for(const struct xdpct_config *cfg, __u64 abs, bool *prev)
{
	return &cfg->keys[cfg_key_index(cfg, abs, prev)];
}

static __always_inline __u32 cookie_hash(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 data)
{
	__u64 w1 = (__u64)t->sport | (__u64)t->dport << 16 |
		   (__u64)client_isn << 32;

	if (t->family == 4) {
		__u64 m[2] = {
			(__u64)t->saddr[0] | (__u64)t->daddr[0] << 32, w1,
		};
		return (__u32)siphash24(k, m, 2, data & 0xffff, 2);
	} else {
		__u64 m[5] = {
			(__u64)t->saddr[0] | (__u64)t->saddr[1] << 32,
			(__u64)t->saddr[2] | (__u64)t->saddr[3] << 32,
			(__u64)t->daddr[0] | (__u64)t->daddr[1] << 32,
			(__u64)t->daddr[2] | (__u64)t->daddr[3] << 32,
			w1,
		};
		return (__u32)siphash24(k, m, 5, data & 0xffff, 2);
	}
}

static __always_inline __u32 cookie_data(__u32 mss_idx, __u32 slot, __u32 opts,
					 __u32 layout)
{
	return mss_idx | slot << 2 | opts << 4 | layout << 10;
}

/* opts: what the cookie covers (COOKIE_NOTS: XDPCT_OPT_WSCALE_NONE;
 * COOKIE_NOTS_OPTS: sack and wscale only, they ride in the ISN). */
static __always_inline __u32 cookie_make(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 mss_idx, __u32 slot, __u32 opts,
					 __u32 layout)
{
	__u32 h = cookie_hash(k, t, client_isn,
			      cookie_data(mss_idx, slot, opts, layout));

	if (layout == COOKIE_NOTS_OPTS)
		return (h & ((1u << COOKIE_OPTS_HASH_BITS) - 1)) << 9 |
		       (opts & COOKIE_NOTS_OPTS_MASK) << 4 | slot << 2 | mss_idx;
	return (h & ((1u << COOKIE_HASH_BITS) - 1)) << 4 | slot << 2 | mss_idx;
}

/* True when cookie is the one cookie_make gives for its own mss index and
 * slot under key k: every bit of it checked; opts as for cookie_make. */
static __always_inline bool cookie_match(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 cookie, __u32 opts, __u32 layout)
{
	return cookie_make(k, t, client_isn, cookie & 3, (cookie >> 2) & 3, opts,
			   layout) == cookie;
}

static __always_inline __u32 mss_from_idx(int family, __u32 idx)
{
	/* a switch, not a static table: clang-14 may put a table in
	 * .rodata.cst16, which libbpf 1.1 cannot open */
	if (family == 4) {
		switch (idx & 3) {
		case 0: return 536;
		case 1: return 1300;
		case 2: return 1440;
		default: return 1460;
		}
	}
	switch (idx & 3) {
	case 0: return 1220;
	case 1: return 1420;
	case 2: return 1440;
	default: return 8940;
	}
}

/* Largest table entry not above the client's MSS (index 0 if below all). */
static __always_inline __u32 mss_to_idx(int family, __u32 mss)
{
	__u32 idx = 0;

#pragma unroll
	for (int i = 1; i < XDPCT_MSS_TABLE_LEN; i++)
		if (mss >= mss_from_idx(family, i))
			idx = i;
	return idx;
}

/* How far short of the next slot a CPU's reading may be when a cookie of
 * that slot reaches it, an eighth of a slot (134 ms to 17 s): a stalled
 * vCPU can leave a reading tens of ms behind, and the clock is asked
 * only for the 1/32 of random cookies that fall in the window. */
#define COOKIE_CLOCK_LAG_NS(cfg) (1ull << (xdpct_slot_shift((cfg)->slot_shift) - 3))

/* The time slot of now (all of it: cookies carry its low 2 bits), on the
 * fleet's clock when there is one. */
static __always_inline __u64 cookie_abs_slot(const struct xdpct_config *cfg, __u64 now)
{
	return (now + cfg->clock_offset_ns) >> xdpct_slot_shift(cfg->slot_shift);
}

#endif
