/* SPDX-License-Identifier: GPL-2.0 */
/* A fleet of boxes sharing one cookie key through etcd (`xdpct run
 * --etcd`): an ACK may come back to another box than the one that sent
 * the SYN-ACK (ECMP, anycast, failover) and still be accepted.
 *
 * etcd holds one record, /xdpct/fleet/NAME/key: the key, its first cookie
 * slot (slots count CLOCK_REALTIME, which the members share), the key
 * before it, an epoch, and during a rotation the next key. Every member
 * installs it: the key signs the slots from `first` on; in a fleet the
 * data path checks a cookie with its slot's key and then with the other
 * one (XDPCT_CFG_FLEET), so a box that is one rotation behind or ahead
 * still agrees with the others. Each member says what it has installed
 * under /xdpct/fleet/NAME/members/ (with its lease).
 *
 * One member, the holder of /xdpct/fleet/NAME/leader under an etcd lease,
 * rotates in two steps, each only when every live member has installed
 * the record before it: stage (the next key into every member's idle key:
 * checked, not yet signing), then switch (the next key signs from the
 * next slot, the old one stays as the other key). A new leader takes its
 * first step a member lease after it took the lead: members whose entries
 * etcd dropped have reported again by then. A member that cannot
 * reach etcd keeps the keys it has and goes on serving; the fleet goes on
 * without it once its lease expires. */
#ifndef XDPCT_FLEET_H
#define XDPCT_FLEET_H

#include <stdbool.h>
#include <linux/types.h>

#include "xdpct.h"

/* Members read etcd this often. */
#define FLEET_TICK_NS (500 * 1000000ull)

struct fleet_record {
	__u32 epoch;
	__u8 shift;        /* the slot length: 2^shift ns */
	__u64 first;       /* the first slot key signs; prev signs before it */
	__u64 set_ns;      /* CLOCK_REALTIME of the rotation */
	struct xdpct_siphash_key key, prev;
	bool has_next;     /* staged: next is checked everywhere, signs nowhere */
	struct xdpct_siphash_key next;
};

/* The record as stored in etcd (one text line), and back. -1: not one. */
int fleet_record_format(const struct fleet_record *r, char *buf, size_t len);
int fleet_record_parse(const char *s, struct fleet_record *r);
/* A leader's two steps from cur at now (fleet clock ns). Stage: cur with
 * next = k; false while cur's previous key may still check cookies (its
 * `first` slot is not over) or a key is staged already. Switch: the staged
 * key signs from the next slot on, cur's key is the previous one; false
 * when nothing is staged. */
bool fleet_record_stage(const struct fleet_record *cur, __u64 now_ns,
			const struct xdpct_siphash_key *k, struct fleet_record *out);
bool fleet_record_switch(const struct fleet_record *cur, __u64 now_ns, struct fleet_record *out);
/* What a member reports under members/: the record it has installed. */
void fleet_member_state(const struct fleet_record *r, char *buf, size_t len);
/* Writes r's keys into a mapped config whose data path may be reading
 * it: r's key where it is or into the key the data path does not sign
 * with, then key_sel (release order, include/xdpct.h), then the other key
 * (r's next if staged, else its previous one). Also the slot length, the
 * clock offset, the epoch and XDPCT_CFG_FLEET. true if anything changed. */
bool fleet_install(struct xdpct_config *m, const struct fleet_record *r, __s64 clock_offset_ns);

/* What `xdpct run` reports (metrics), written by the fleet thread. */
struct fleet_stats {
	bool on;
	int etcd_up;              /* 1 reachable at the last attempt */
	int leader;               /* 1 this box rotates the fleet's key */
	__u32 epoch;              /* the installed record's */
	__u64 etcd_errors;        /* requests that failed */
	__u64 rotations, installs;
	int members, in_step;     /* the leader's view of the members */
	__u64 last_contact_ns;    /* CLOCK_MONOTONIC of the last answer, 0: none */
};

struct fleet_opts {
	const char *endpoints;    /* --etcd */
	const char *name;         /* --fleet */
	unsigned int lease_s;     /* --etcd-lease */
	__u64 rotate_ns;          /* --key-rotate */
	__u8 slot_shift;          /* --cookie-slot of the first record */
	bool verbose;             /* -v: the staging steps too */
};

struct fleet;
/* Checks the options (one-line error, NULL) and starts the thread that
 * keeps the config map (and a group's, attach --share) in the fleet. */
struct fleet *fleet_start(const struct fleet_opts *o, int fd_config, unsigned int ifindex,
			  const char *ifname, struct fleet_stats *st);
/* Stops the thread and gives the lease back, so another member leads. */
void fleet_stop(struct fleet *f);

#endif /* XDPCT_FLEET_H */
