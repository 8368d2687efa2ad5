/* SPDX-License-Identifier: GPL-2.0 */
/* Reference SipHash-2-4 (Aumasson, Bernstein 2012), written from the paper
 * byte by byte, independent of bpf/cookie.h: it predicts xdpct cookies. */
#ifndef XDPCT_SIPHASH_REF_H
#define XDPCT_SIPHASH_REF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "xdpct.h"

/* key: 16 bytes, k0 = key[0..7] and k1 = key[8..15] read little-endian */
uint64_t sipref_hash(const uint8_t key[16], const uint8_t *msg, size_t len);

/* The same with the key given as the two 64-bit halves xdpct stores. */
uint64_t sipref_hash_k(uint64_t k0, uint64_t k1, const uint8_t *msg, size_t len);

/* The cookie xdpct puts in a SYN-ACK, from include/xdpct.h's layout
 * alone: the SYN's addresses (4 or 16 bytes, network order), ports (host
 * order), ISN, and the cookie's MSS index, slot bits, options and layout
 * (0 no timestamps, 1 timestamps, 2 no timestamps with options). */
uint32_t sipref_cookie(const struct xdpct_siphash_key *k, int family, const uint8_t *saddr,
		       const uint8_t *daddr, uint16_t sport, uint16_t dport, uint32_t isn,
		       uint32_t mss_idx, uint32_t slot, uint32_t opts, int layout);

#endif
