/* SPDX-License-Identifier: GPL-2.0 */
/* Connection tracking events (include/xdpct.h): userspace's part. The
 * DESTROY events of the entries userspace removes go through the syscall
 * program of bpf/emit.bpf.c into the data path's ring buffer. */
#ifndef XDPCT_CTEV_H
#define XDPCT_CTEV_H

#include <stdbool.h>
#include <linux/types.h>

#include "xdpct.h"

struct ctev_emitter;

/* The emitter for the maps pinned in pin_dir; NULL (quietly) where they
 * are not (an attachment made by an older xdpct) or it cannot load. */
struct ctev_emitter *ctev_emitter_open(const char *pin_dir);
void ctev_emitter_free(struct ctev_emitter *em);
/* Whether a reader listens (looked up at most every 100 ms). */
bool ctev_listening(struct ctev_emitter *em);
/* A DESTROY event for an entry just removed: queued, sent by ctev_flush()
 * or when the batch is full. key: struct xdpct_flow4_key or 6. */
void ctev_destroy(struct ctev_emitter *em, int family, bool observed, const void *key,
		  const struct xdpct_flow *f, int reason);
void ctev_flush(struct ctev_emitter *em);
/* Auto mode switched port's cookies on or off: an event, sent at once.
 * f: the figures it carries (packets[0]: SYNs/s). */
void ctev_mode(struct ctev_emitter *em, __u16 port, bool on, const struct xdpct_flow *f);

/* One event as `xdpct events` prints it: a line like `conntrack -E`
 * (head before it), or with json a JSON object on one line (head: fields
 * that come first, each with its comma). The state timeouts in to. */
struct evict_timeouts;
void conns_print_event(const struct xdpct_ct_event *e, const struct evict_timeouts *to,
		       bool json, const char *head);

/* The reason a timeout removes an entry of this state for. */
static inline int ctev_reason_of_state(int state)
{
	return state == XDPCT_CT_TIME_WAIT || state == XDPCT_CT_CLOSE ? XDPCT_DR_CLOSED :
									 XDPCT_DR_TIMEOUT;
}

#endif
