/* SPDX-License-Identifier: GPL-2.0 */
/* A fleet of boxes sharing one cookie key through etcd (`xdpct run
 * --etcd`): an ACK may come back to another box than the one that sent
 * the SYN-ACK (ECMP, anycast, failover) and still be accepted.
 *
 * etcd holds one record, /xdpct/fleet/NAME/key: the key, the previous
 * one, the first cookie slot of the key (slots counted on CLOCK_REALTIME,
 * the clock the members share) and an epoch. Every member installs it:
 * the key for slots from `first` on, the previous key before. One member,
 * the holder of /xdpct/fleet/NAME/leader under an etcd lease, writes the
 * next record when the key is due, dated at least FLEET_LEAD_NS ahead so
 * that every member installs it before any box signs with it. A member
 * that cannot reach etcd keeps the keys it has: the current key goes on
 * signing, and members that stay in step with it accept its cookies. */
#ifndef XDPCT_FLEET_H
#define XDPCT_FLEET_H

#include <stdbool.h>
#include <linux/types.h>

#include "xdpct.h"

/* A new key is dated this far ahead, and more to start on a slot boundary:
 * members poll every FLEET_TICK_NS, well within it. */
#define FLEET_LEAD_NS (3 * 1000000000ull)
#define FLEET_TICK_NS (500 * 1000000ull)

struct fleet_record {
	__u32 epoch;
	__u8 shift;        /* the slot length: 2^shift ns */
	__u64 first;       /* the first slot key signs; prev signs before it */
	__u64 set_ns;      /* CLOCK_REALTIME of the rotation */
	struct xdpct_siphash_key key, prev;
};

/* The record as stored in etcd (one text line), and back. -1: not one. */
int fleet_record_format(const struct fleet_record *r, char *buf, size_t len);
int fleet_record_parse(const char *s, struct fleet_record *r);
/* The record that follows cur at now (fleet clock ns) with key k; false
 * while cur's key is not yet free to replace: its `first` slot is not
 * over, so the members' idle key (cur's prev) still checks cookies. */
bool fleet_record_next(const struct fleet_record *cur, __u64 now_ns,
		       const struct xdpct_siphash_key *k, struct fleet_record *next);
/* Writes r's keys into a mapped config whose data path may be reading
 * it: the key the data path does not use first, then key_sel, in release
 * order (include/xdpct.h). Also the slot length, the clock offset, the
 * epoch and XDPCT_CFG_FLEET. true if anything changed. */
bool fleet_install(struct xdpct_config *m, const struct fleet_record *r, __s64 clock_offset_ns);

/* What `xdpct run` reports (metrics), written by the fleet thread. */
struct fleet_stats {
	bool on;
	int etcd_up;              /* 1 reachable at the last attempt */
	int leader;               /* 1 this box rotates the fleet's key */
	__u32 epoch;              /* the installed record's */
	__u64 etcd_errors;        /* requests that failed */
	__u64 rotations, installs;
	__u64 last_contact_ns;    /* CLOCK_MONOTONIC of the last answer, 0: none */
};

struct fleet_opts {
	const char *endpoints;    /* --etcd */
	const char *name;         /* --fleet */
	unsigned int lease_s;     /* --etcd-lease */
	__u64 rotate_ns;          /* --key-rotate */
	__u8 slot_shift;          /* --cookie-slot of the first record */
};

struct fleet;
/* Checks the options (one-line error, NULL) and starts the thread that
 * keeps the config map (and a group's, attach --share) in the fleet. */
struct fleet *fleet_start(const struct fleet_opts *o, int fd_config, unsigned int ifindex,
			  const char *ifname, struct fleet_stats *st);
/* Stops the thread and gives the lease back, so another member leads. */
void fleet_stop(struct fleet *f);

#endif /* XDPCT_FLEET_H */
