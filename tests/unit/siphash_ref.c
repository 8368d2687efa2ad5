// SPDX-License-Identifier: GPL-2.0
/* Byte-wise SipHash-2-4: message bytes are taken one at a time and the
 * 64-bit words assembled little-endian, as the paper defines them; this
 * avoids sharing the word-at-a-time shortcuts of the BPF implementation. */
#include "siphash_ref.h"

static uint64_t rotl(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

struct sipstate {
	uint64_t v0, v1, v2, v3;
};

static void sipround(struct sipstate *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

static void compress(struct sipstate *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s); /* c = 2 */
	sipround(s);
	s->v0 ^= m;
}

uint64_t sipref_hash(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	struct sipstate s = {
		.v0 = k0 ^ 0x736f6d6570736575ULL, /* "somepseu" */
		.v1 = k1 ^ 0x646f72616e646f6dULL, /* "dorandom" */
		.v2 = k0 ^ 0x6c7967656e657261ULL, /* "lygenera" */
		.v3 = k1 ^ 0x7465646279746573ULL, /* "tedbytes" */
	};
	uint8_t last[8] = { 0 };
	size_t full = len - len % 8, i;

	for (i = 0; i < full; i += 8)
		compress(&s, le64(msg + i));
	/* final block: remaining bytes, zero padding, len mod 256 on top */
	for (i = full; i < len; i++)
		last[i - full] = msg[i];
	last[7] = (uint8_t)len;
	compress(&s, le64(last));

	s.v2 ^= 0xff;
	for (i = 0; i < 4; i++) /* d = 4 */
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t sipref_hash_k(uint64_t k0, uint64_t k1, const uint8_t *msg, size_t len)
{
	uint8_t key[16];

	for (int i = 0; i < 8; i++) {
		key[i] = (uint8_t)(k0 >> (8 * i));
		key[8 + i] = (uint8_t)(k1 >> (8 * i));
	}
	return sipref_hash(key, msg, len);
}

uint32_t sipref_cookie(const struct xdpct_siphash_key *k, int family, const uint8_t *saddr,
		       const uint8_t *daddr, uint16_t sport, uint16_t dport, uint32_t isn,
		       uint32_t mss_idx, uint32_t slot, uint32_t opts, int layout)
{
	uint8_t m[42];
	int alen = family == 4 ? 4 : 16, n = 0, i;
	uint32_t data = mss_idx | slot << 2 | opts << 4 | (uint32_t)layout << 10, h;

	for (i = 0; i < alen; i++)
		m[n++] = saddr[i];
	for (i = 0; i < alen; i++)
		m[n++] = daddr[i];
	m[n++] = (uint8_t)(sport >> 8); /* ports as on the wire */
	m[n++] = (uint8_t)sport;
	m[n++] = (uint8_t)(dport >> 8);
	m[n++] = (uint8_t)dport;
	for (i = 0; i < 4; i++) /* the ISN's value, little-endian */
		m[n++] = (uint8_t)(isn >> (8 * i));
	m[n++] = (uint8_t)data; /* the 2-byte tail */
	m[n++] = (uint8_t)(data >> 8);
	h = (uint32_t)sipref_hash_k(k->k0, k->k1, m, (size_t)n);
	if (layout == 2)
		return (h & ((1u << 23) - 1)) << 9 | (opts & 0x1f) << 4 | slot << 2 | mss_idx;
	return (h & ((1u << 28) - 1)) << 4 | slot << 2 | mss_idx;
}
