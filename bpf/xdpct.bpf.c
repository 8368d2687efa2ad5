// SPDX-License-Identifier: GPL-2.0
/* xdpct's data path, one object. Each stage has its own file:
 *   maps.h      the maps, counters, clock
 *   parse.h     Ethernet, VLAN, IPv4, IPv6 and TCP headers
 *   options.h   TCP options
 *   csum.h      checksums
 *   cookie.h    SipHash and the cookie layout
 *   synack.h    SYN -> cookie SYN-ACK in place; cookie ACK -> handover attributes
 *   flow.h      the flow tables and the xdpct_seen bitmap
 *   conntrack.h the TCP state machine
 *   proxy.h     proxy ports: servers behind this box, sequence translation
 *   sock.h      the kernel's sockets, read into flow entries
 *   xdp.h       XDP ingress: the entry point and its paths
 *   tc.h        TC ingress (handover to the listener) and egress
 *   sockops.h   sock_ops: a cookie flow is established when its child is made */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpct.h"
#include "maps.h"
#include "xdpct_ep.h"
#include "parse.h"
#include "handover.h"
#include "options.h"
#include "csum.h"
#include "cookie.h"
#include "synack.h"
#include "flow.h"
#include "conntrack.h"
#include "proxy.h"
#include "sock.h"
#include "xdp.h"
#include "tc.h"
#include "sockops.h"

char _license[] SEC("license") = "GPL";
