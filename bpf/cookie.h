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

/* SipHash-2-4 of n little-endian 64-bit words (message length 8n bytes). */
static __always_inline __u64 siphash24(const struct xdpct_siphash_key *k,
				       const __u64 *m, const int n)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ k->k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ k->k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ k->k0;
	__u64 v3 = 0x7465646279746573ULL ^ k->k1;
	__u64 b = (__u64)(n * 8) << 56;

#pragma unroll
	for (int i = 0; i < 6; i++) {
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

#define COOKIE_TS_HASH_BITS 27
#define COOKIE_NOTS_HASH_BITS 21

/* The keys in force: key_idx is read once, first (include/xdpct.h). */
static __always_inline const struct xdpct_siphash_key *
cfg_key_cur(const struct xdpct_config *cfg)
{
	__u32 i = *(volatile const __u32 *)&cfg->key_idx & 1;

	return &cfg->keys[i];
}

static __always_inline const struct xdpct_siphash_key *
cfg_key_prev(const struct xdpct_config *cfg)
{
	__u32 i = (*(volatile const __u32 *)&cfg->key_idx & 1) ^ 1;

	return &cfg->keys[i];
}

static __always_inline __u32 cookie_hash(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 data)
{
	__u64 w1 = (__u64)t->sport | (__u64)t->dport << 16 |
		   (__u64)client_isn << 32;

	if (t->family == 4) {
		__u64 m[3] = {
			(__u64)t->saddr[0] | (__u64)t->daddr[0] << 32, w1, data,
		};
		return (__u32)siphash24(k, m, 3);
	} else {
		__u64 m[6] = {
			(__u64)t->saddr[0] | (__u64)t->saddr[1] << 32,
			(__u64)t->saddr[2] | (__u64)t->saddr[3] << 32,
			(__u64)t->daddr[0] | (__u64)t->daddr[1] << 32,
			(__u64)t->daddr[2] | (__u64)t->daddr[3] << 32,
			w1, data,
		};
		return (__u32)siphash24(k, m, 6);
	}
}

static __always_inline __u32 cookie_data(__u32 mss_idx, __u32 slot, __u32 opts,
					 bool has_ts)
{
	return mss_idx | slot << 3 | opts << 5 | (__u32)has_ts << 11;
}

static __always_inline __u32 cookie_make(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 mss_idx, __u32 slot, __u32 opts,
					 bool has_ts)
{
	__u32 h = cookie_hash(k, t, client_isn,
			      cookie_data(mss_idx, slot, opts, has_ts));

	if (has_ts)
		return (h & ((1u << COOKIE_TS_HASH_BITS) - 1)) << 5 | slot << 3 | mss_idx;
	return (h & ((1u << COOKIE_NOTS_HASH_BITS) - 1)) << 11 | opts << 5 |
	       slot << 3 | mss_idx;
}

/* True when cookie's hash bits match under key k. */
static __always_inline bool cookie_match(const struct xdpct_siphash_key *k,
					 const struct tuple *t, __u32 client_isn,
					 __u32 cookie, __u32 opts, bool has_ts)
{
	__u32 mss_idx = cookie & 7, slot = (cookie >> 3) & 3;
	__u32 h = cookie_hash(k, t, client_isn,
			      cookie_data(mss_idx, slot, opts, has_ts));

	if (has_ts)
		return (h & ((1u << COOKIE_TS_HASH_BITS) - 1)) == cookie >> 5;
	return (h & ((1u << COOKIE_NOTS_HASH_BITS) - 1)) == cookie >> 11;
}

static __always_inline __u32 mss_from_idx(int family, __u32 idx)
{
	/* a switch, not a static table: see DESIGN.md (clang-14 .rodata.cst16) */
	if (family == 4) {
		switch (idx & 7) {
		case 0: return 536;
		case 1: return 1200;
		case 2: return 1300;
		case 3: return 1360;
		case 4: return 1400;
		case 5: return 1440;
		case 6: return 1460;
		default: return 8960;
		}
	}
	switch (idx & 7) {
	case 0: return 1220;
	case 1: return 1280;
	case 2: return 1300;
	case 3: return 1360;
	case 4: return 1400;
	case 5: return 1420;
	case 6: return 1440;
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

static __always_inline __u32 cookie_slot(__u64 now)
{
	return (now >> XDPCT_SLOT_SHIFT) & 3;
}

#endif
