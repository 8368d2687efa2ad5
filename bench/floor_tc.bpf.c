// SPDX-License-Identifier: GPL-2.0
/* The TC floor: a do-nothing classifier for the ingress and egress hooks,
 * next to an XDP_PASS program, in bench/tax.sh (what xdpct's TC side costs
 * an established flow at least). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int floor_tc_ok(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

char _license[] SEC("license") = "GPL";
