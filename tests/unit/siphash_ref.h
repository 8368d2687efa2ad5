/* SPDX-License-Identifier: GPL-2.0 */
/* Reference SipHash-2-4 (Aumasson, Bernstein 2012), written from the paper
 * byte by byte, independent of bpf/cookie.h: it predicts xdpct cookies. */
#ifndef XDPCT_SIPHASH_REF_H
#define XDPCT_SIPHASH_REF_H

#include <stddef.h>
#include <stdint.h>

/* key: 16 bytes, k0 = key[0..7] and k1 = key[8..15] read little-endian */
uint64_t sipref_hash(const uint8_t key[16], const uint8_t *msg, size_t len);

/* The same with the key given as the two 64-bit halves xdpct stores. */
uint64_t sipref_hash_k(uint64_t k0, uint64_t k1, const uint8_t *msg, size_t len);

#endif
