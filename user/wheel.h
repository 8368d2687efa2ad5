/* SPDX-License-Identifier: GPL-2.0 */
/* A hashed timer wheel of flow keys: `xdpct run` schedules each flow that
 * entered TIME_WAIT or CLOSE (a close event from the BPF side) at its
 * expiry, and removes it then, instead of waiting for a pass over the
 * whole table. Slots of slot_ns; an entry keeps its absolute due time, so
 * timeouts longer than the wheel's span simply wait for later rounds. */
#ifndef XDPCT_WHEEL_H
#define XDPCT_WHEEL_H

#include <stddef.h>
#include <linux/types.h>

#include "xdpct.h"

struct wheel_ent {
	struct xdpct_flow_key key;
	__u64 due_ns; /* CLOCK_MONOTONIC */
};

struct wheel_slot {
	struct wheel_ent *v;
	__u32 n, cap;
};

struct wheel {
	__u64 slot_ns;
	__u32 nslots;
	struct wheel_slot *slots;
	__u64 cursor; /* absolute slot (ns / slot_ns) next looked at */
	size_t size;  /* entries scheduled */
};

/* Enough slots to cover span_ns (capped: longer timeouts take rounds).
 * 0 or -ENOMEM. */
int wheel_init(struct wheel *w, __u64 slot_ns, __u64 span_ns, __u64 now);
void wheel_free(struct wheel *w);
/* Schedules key at due_ns (a time already past: the next wheel_expire).
 * 0 or -ENOMEM. */
int wheel_add(struct wheel *w, const struct xdpct_flow_key *key, __u64 due_ns);
/* Moves the entries due by now to *out (grown as needed, *cap its size).
 * Returns how many, or -ENOMEM (nothing lost: the rest stays scheduled). */
long wheel_expire(struct wheel *w, __u64 now, struct wheel_ent **out, size_t *cap);

#endif /* XDPCT_WHEEL_H */
