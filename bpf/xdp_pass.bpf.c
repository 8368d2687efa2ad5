// SPDX-License-Identifier: GPL-2.0
/* Pass-through XDP program for the client side of veth test labs: XDP_TX
 * frames reach a veth peer only when the peer runs NAPI (an XDP program). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
