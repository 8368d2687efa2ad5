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

#endif
