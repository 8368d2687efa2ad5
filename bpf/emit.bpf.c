// SPDX-License-Identifier: GPL-2.0
/* DESTROY events of the entries userspace removes (`xdpct run`, `xdpct
 * evict`, `xdpct conns --delete`), and auto mode's COOKIES events: run with BPF_PROG_RUN on a batch, they
 * join the data path's events in the one ring buffer, in order. Loaded on
 * demand against the pinned maps (user/ctev.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xdpct.h"
#include "evmaps.h"

SEC("syscall")
int xdpct_emit(struct xdpct_emit_args *args)
{
	struct xdpct_ct_event *e;
	struct xdpct_evsub *s;
	__u32 n = args->n, i, sent = 0;
	__u8 one = 1;

	/* the coarse clock is not a syscall program's: the precise one runs
	 * ahead of it by at most a tick, nothing next to a claim's 3 s */
	s = evsub_live(bpf_ktime_get_ns());
	if (!s)
		return 0;
	if (n > XDPCT_EMIT_MAX)
		n = XDPCT_EMIT_MAX;
	for (i = 0; i < n && i < XDPCT_EMIT_MAX; i++) {
		e = bpf_ringbuf_reserve(&xdpct_ctevents, sizeof(*e), 0);
		if (!e) {
			__sync_fetch_and_add(&s->lost, n - i);
			break;
		}
		/* the context is readable only at constant offsets */
		if (bpf_probe_read_kernel(e, sizeof(*e), &args->ev[i])) {
			bpf_ringbuf_discard(e, 0);
			break;
		}
		/* a removal: its socket may bring it back, then not "evicted"
		 * (auto mode's COOKIES events name a port, not a flow) */
		if (e->type == XDPCT_EV_DESTROY)
			bpf_map_update_elem(&xdpct_gone, &e->key, &one, BPF_ANY);
		bpf_ringbuf_submit(e, 0);
		sent++;
	}
	return sent;
}

char _license[] SEC("license") = "GPL";
