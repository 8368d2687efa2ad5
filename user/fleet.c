// SPDX-License-Identifier: GPL-2.0
/* The fleet's key through etcd: a thread of `xdpct run --etcd`
 * (user/fleet.h has the design). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "cmd.h"
#include "etcd.h"
#include "fleet.h"
#include "util.h"

#define RECORD_TAG "xdpct-fleet-v1"
#define ETCD_TIMEOUT_MS 1000

int fleet_record_format(const struct fleet_record *r, char *buf, size_t len)
{
	char next[40] = "-";
	int n;

	if (r->has_next)
		snprintf(next, sizeof(next), "%016llx%016llx", (unsigned long long)r->next.k0,
			 (unsigned long long)r->next.k1);
	n = snprintf(buf, len,
		     RECORD_TAG " epoch=%u shift=%u first=%llu set=%llu key=%016llx%016llx "
				"prev=%016llx%016llx next=%s",
		     r->epoch, r->shift, (unsigned long long)r->first, (unsigned long long)r->set_ns,
		     (unsigned long long)r->key.k0, (unsigned long long)r->key.k1,
		     (unsigned long long)r->prev.k0, (unsigned long long)r->prev.k1, next);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int hex_key(const char *s, struct xdpct_siphash_key *k)
{
	char a[17], b[17];

	if (strlen(s) < 32 || strspn(s, "0123456789abcdef") < 32)
		return -1;
	memcpy(a, s, 16);
	memcpy(b, s + 16, 16);
	a[16] = b[16] = '\0';
	k->k0 = strtoull(a, NULL, 16);
	k->k1 = strtoull(b, NULL, 16);
	return 0;
}

int fleet_record_parse(const char *s, struct fleet_record *r)
{
	unsigned int epoch, shift;
	unsigned long long first, set;
	char key[40], prev[40], next[40];
	int end = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(s, RECORD_TAG " epoch=%u shift=%u first=%llu set=%llu key=%39s prev=%39s "
			       "next=%39s%n",
		   &epoch, &shift, &first, &set, key, prev, next, &end) != 7 || s[end] ||
	    strlen(key) != 32 || strlen(prev) != 32 || hex_key(key, &r->key) ||
	    hex_key(prev, &r->prev) || shift < XDPCT_SLOT_SHIFT_MIN || shift > XDPCT_SLOT_SHIFT_MAX)
		return -1;
	if (strcmp(next, "-")) {
		if (strlen(next) != 32 || hex_key(next, &r->next))
			return -1;
		r->has_next = true;
	}
	r->epoch = epoch;
	r->shift = shift;
	r->first = first;
	r->set_ns = set;
	return 0;
}

bool fleet_record_stage(const struct fleet_record *cur, __u64 now_ns,
			const struct xdpct_siphash_key *k, struct fleet_record *out)
{
	/* the members' idle key is cur->prev: it signed the slots before
	 * cur->first, whose cookies hold through cur->first itself */
	if (cur->has_next || (now_ns >> cur->shift) < cur->first + 1)
		return false;
	*out = *cur;
	out->has_next = true;
	out->next = *k;
	return true;
}

bool fleet_record_switch(const struct fleet_record *cur, __u64 now_ns, struct fleet_record *out)
{
	if (!cur->has_next)
		return false;
	*out = *cur;
	out->epoch = cur->epoch + 1;
	out->prev = cur->key;
	out->key = cur->next;
	out->has_next = false;
	memset(&out->next, 0, sizeof(out->next));
	out->set_ns = now_ns;
	out->first = (now_ns >> cur->shift) + 1;
	return true;
}

void fleet_member_state(const struct fleet_record *r, char *buf, size_t len)
{
	snprintf(buf, len, "epoch=%u staged=%d", r->epoch, r->has_next);
}

static bool key_eq(const struct xdpct_siphash_key *a, const struct xdpct_siphash_key *b)
{
	return a->k0 == b->k0 && a->k1 == b->k1;
}

bool fleet_install(struct xdpct_config *m, const struct fleet_record *r, __s64 clock_offset_ns)
{
	const struct xdpct_siphash_key *other = r->has_next ? &r->next : &r->prev;
	__u64 sel = __atomic_load_n(&m->key_sel, __ATOMIC_ACQUIRE), want;
	__u32 cur = sel & 1, j;
	bool changed = false;

	/* the clock and the slot length before the slot numbers of key_sel */
	if (m->clock_offset_ns != clock_offset_ns) {
		__atomic_store_n(&m->clock_offset_ns, clock_offset_ns, __ATOMIC_RELEASE);
		changed = true;
	}
	if (m->slot_shift != r->shift) {
		__atomic_store_n(&m->slot_shift, r->shift, __ATOMIC_RELEASE);
		changed = true;
	}
	/* the key goes where it is, or into the slot the data path does not
	 * read for now's cookies; then key_sel; then the previous key */
	j = key_eq(&m->keys[cur], &r->key) ? cur : cur ^ 1;
	want = r->first << 1 | j;
	if (j != cur) {
		m->keys[j] = r->key;
		__atomic_store_n(&m->key_sel, want, __ATOMIC_RELEASE);
		if (!key_eq(&m->keys[cur], other))
			m->keys[cur] = *other;
		changed = true;
	} else {
		if (!key_eq(&m->keys[cur ^ 1], other)) {
			m->keys[cur ^ 1] = *other;
			changed = true;
		}
		if (sel != want) {
			__atomic_store_n(&m->key_sel, want, __ATOMIC_RELEASE);
			changed = true;
		}
	}
	m->key_epoch = r->epoch;
	m->key_set_ns = r->set_ns - clock_offset_ns;
	__atomic_fetch_or(&m->flags, XDPCT_CFG_FLEET | XDPCT_CFG_PREV_KEY, __ATOMIC_SEQ_CST);
	return changed;
}

/* ---- the thread ---- */

struct fleet {
	struct fleet_opts o;
	struct etcd etcd;
	struct fleet_stats *st;
	struct xdpct_config *m;
	unsigned int ifindex;
	int stop_fd;
	pthread_t thread;
	char key_path[300], leader_path[300], members_path[300], member_path[600], id[200];
	char leader_val[240];
	__s64 lease, member_lease;
	__u64 step_from_ns;  /* CLOCK_MONOTONIC: a new leader's first step */
	bool have_record, record_bad_logged;
	struct fleet_record rec;
	__u64 rec_rev;
	char reported[64];   /* the member state etcd has under this lease */
};

#define MEMBERS_MAX 256
/* A member's entry outlives its run by this many leader leases: a run
 * restarted meanwhile (crash, upgrade) is waited for by the rotation. */
#define MEMBER_LEASE_FACTOR 3

/* CLOCK_REALTIME - CLOCK_MONOTONIC; the mapped one while within a
 * millisecond of it (the two reads are not one instant). */
static __s64 clock_offset(const struct fleet *f)
{
	__s64 off = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	__s64 d = off - f->m->clock_offset_ns;

	return d > -1000000 && d < 1000000 ? f->m->clock_offset_ns : off;
}

static void etcd_down(struct fleet *f)
{
	__atomic_add_fetch(&f->st->etcd_errors, 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&f->st->etcd_up, 0, __ATOMIC_RELAXED) != 0) {
		if (f->have_record)
			warn("fleet %s: etcd unreachable (%s): keeping the cookie keys of epoch %u",
			     f->o.name, f->etcd.err, f->rec.epoch);
		else
			warn("fleet %s: etcd unreachable (%s): serving with this box's own key until it answers",
			     f->o.name, f->etcd.err);
	}
}

static void etcd_up(struct fleet *f)
{
	if (__atomic_exchange_n(&f->st->etcd_up, 1, __ATOMIC_RELAXED) == 0)
		info("fleet %s: etcd reachable again", f->o.name);
	__atomic_store_n(&f->st->last_contact_ns, clock_ns(CLOCK_MONOTONIC), __ATOMIC_RELAXED);
}

static void set_leader(struct fleet *f, int on, const char *why)
{
	unsigned int wait_s = f->o.lease_s * MEMBER_LEASE_FACTOR;

	if (__atomic_exchange_n(&f->st->leader, on, __ATOMIC_RELAXED) == on)
		return;
	if (!on) {
		info("fleet %s: %s", f->o.name, why);
		return;
	}
	/* A new leader waits one member lease before its first step: the
	 * entries of members whose leases etcd let expire (etcd stopped,
	 * restarted, or slow) are back by then, from every member alive. A
	 * step counted without them could leave a box two steps behind,
	 * signing with a key the others no longer check. */
	f->step_from_ns = clock_ns(CLOCK_MONOTONIC) + (__u64)wait_s * 1000000000ull;
	info("fleet %s: %s; its first step in %u s, once every member has reported", f->o.name,
	     why, wait_s);
}

static void install(struct fleet *f)
{
	if (!fleet_install(f->m, &f->rec, clock_offset(f)))
		return;
	__atomic_add_fetch(&f->st->installs, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&f->st->epoch, f->rec.epoch, __ATOMIC_RELAXED);
	group_sync(f->ifindex, f->m); /* attach --share: the members too */
}

static int random_key(struct xdpct_siphash_key *k)
{
	return getrandom(k, sizeof(*k), 0) == sizeof(*k) ? 0 : -1;
}

/* Writes next over the record of revision rev: 1 written, 0 someone else
 * wrote first, -1 etcd failed. */
static int publish(struct fleet *f, const struct fleet_record *next, __u64 rev)
{
	char val[300];
	int r;

	if (fleet_record_format(next, val, sizeof(val)))
		return -1;
	r = etcd_put_if(&f->etcd, f->key_path, val, rev, 0);
	if (r == 1) {
		f->rec = *next;
		f->have_record = true;
	}
	return r;
}

/* The record: read, created if there is none, installed. -1: etcd failed. */
static int sync_record(struct fleet *f, __u64 now_real)
{
	struct fleet_record r;
	char val[600];
	__u64 rev;
	int g = etcd_get(&f->etcd, f->key_path, val, sizeof(val), &rev);

	if (g < 0)
		return -1;
	if (g == 0) {
		/* the first member: a key from the next slot on */
		__u8 shift = xdpct_slot_shift(f->o.slot_shift);

		memset(&r, 0, sizeof(r));
		r.epoch = 1;
		r.shift = shift;
		r.set_ns = now_real;
		r.first = (now_real >> shift) + 1;
		if (random_key(&r.key) || random_key(&r.prev))
			return 0;
		g = publish(f, &r, 0);
		if (g < 0)
			return -1;
		if (g == 1)
			info("fleet %s: created the fleet's key (epoch 1)", f->o.name);
		return 0; /* installed from the next read, as everyone's */
	}
	if (fleet_record_parse(val, &r)) {
		if (!f->record_bad_logged)
			warn("fleet %s: %s in etcd is not an xdpct fleet record: keys kept",
			     f->o.name, f->key_path);
		f->record_bad_logged = true;
		return 0;
	}
	f->record_bad_logged = false;
	if (!f->have_record || r.epoch != f->rec.epoch) {
		if (f->o.slot_shift && xdpct_slot_shift(f->o.slot_shift) != r.shift)
			warn("fleet %s: the fleet's cookie slot (2^%u ns) is used, not --cookie-slot's",
			     f->o.name, r.shift);
		info("fleet %s: cookie key epoch %u from etcd, from slot %llu", f->o.name, r.epoch,
		     (unsigned long long)r.first);
	}
	f->rec = r;
	f->rec_rev = rev;
	f->have_record = true;
	install(f);
	return 0;
}

/* The lease, this member's state under it, and the leader key: -1 etcd
 * failed. */
static int sync_leader(struct fleet *f)
{
	char val[300], state[64];
	__u64 rev;
	int r;

	/* the leader's lease: another member leads once it expires */
	if (f->lease) {
		r = etcd_lease_keepalive(&f->etcd, f->lease);
		if (r < 0)
			return -1;
		if (r == 0) {
			f->lease = 0;
			set_leader(f, 0, "lease lost: another member may rotate the key");
		}
	}
	if (!f->lease) {
		if (etcd_lease_grant(&f->etcd, f->o.lease_s, &f->lease))
			return -1;
		snprintf(f->leader_val, sizeof(f->leader_val), "%s lease %llx", f->id,
			 (unsigned long long)f->lease);
	}
	/* the member's, longer: a run restarted within it is waited for */
	if (f->member_lease) {
		r = etcd_lease_keepalive(&f->etcd, f->member_lease);
		if (r < 0)
			return -1;
		if (r == 0)
			f->member_lease = 0;
	}
	if (!f->member_lease) {
		if (etcd_lease_grant(&f->etcd, f->o.lease_s * MEMBER_LEASE_FACTOR, &f->member_lease))
			return -1;
		f->reported[0] = '\0'; /* went with the old lease */
	}
	if (f->have_record) {
		fleet_member_state(&f->rec, state, sizeof(state));
		if (strcmp(state, f->reported)) {
			if (etcd_put(&f->etcd, f->member_path, state, f->member_lease))
				return -1;
			snprintf(f->reported, sizeof(f->reported), "%s", state);
		}
	}
	r = etcd_get(&f->etcd, f->leader_path, val, sizeof(val), &rev);
	if (r < 0)
		return -1;
	if (r == 0) {
		r = etcd_put_if(&f->etcd, f->leader_path, f->leader_val, 0, f->lease);
		if (r < 0)
			return -1;
		if (r == 1)
			set_leader(f, 1, "this box rotates the fleet's key (leader)");
		return 0;
	}
	set_leader(f, !strcmp(val, f->leader_val), "another member rotates the fleet's key");
	return 0;
}

/* Every live member has installed the record: 1, 0 not yet, -1 etcd. */
static int members_in_step(struct fleet *f)
{
	static char vals[MEMBERS_MAX][64];
	char want[64];
	int n, i, same = 0;

	n = etcd_get_prefix(&f->etcd, f->members_path, &vals[0][0], sizeof(vals[0]), MEMBERS_MAX);
	if (n < 0)
		return -1;
	fleet_member_state(&f->rec, want, sizeof(want));
	for (i = 0; i < n; i++)
		same += !strcmp(vals[i], want);
	__atomic_store_n(&f->st->members, n, __ATOMIC_RELAXED);
	__atomic_store_n(&f->st->in_step, same, __ATOMIC_RELAXED);
	return n > 0 && same == n;
}

/* The leader's step, if one is due: stage the next key once the key is
 * due, switch to it once every member has it. */
static void rotate_if_due(struct fleet *f, __u64 now_real)
{
	struct fleet_record next;
	struct xdpct_siphash_key k;
	int r;

	if (!f->st->leader || !f->have_record || !f->rec_rev ||
	    clock_ns(CLOCK_MONOTONIC) < f->step_from_ns)
		return;
	if (!f->rec.has_next && now_real < f->rec.set_ns + f->o.rotate_ns)
		return;
	r = members_in_step(f);
	if (r < 0) {
		etcd_down(f);
		return;
	}
	if (!r)
		return; /* a member has not installed the record yet */
	if (f->rec.has_next) {
		fleet_record_switch(&f->rec, now_real, &next);
	} else if (random_key(&k) || !fleet_record_stage(&f->rec, now_real, &k, &next)) {
		return; /* the previous key's slots are not over yet */
	}
	r = publish(f, &next, f->rec_rev);
	if (r < 0) {
		etcd_down(f);
		return;
	}
	if (r == 0)
		return; /* written by another: read at the next tick */
	f->rec_rev = 0; /* read back at the next tick */
	install(f);
	if (next.has_next) {
		if (f->o.verbose)
			info("fleet %s: next key staged (epoch %u): every member checks it before any signs with it",
			     f->o.name, next.epoch);
		return;
	}
	__atomic_add_fetch(&f->st->rotations, 1, __ATOMIC_RELAXED);
	info("fleet %s: rotated the cookie key: epoch %u from slot %llu", f->o.name, next.epoch,
	     (unsigned long long)next.first);
}

static void tick(struct fleet *f)
{
	__u64 now_real = clock_ns(CLOCK_REALTIME);

	if (sync_record(f, now_real) || sync_leader(f)) {
		etcd_down(f);
		return;
	}
	etcd_up(f);
	rotate_if_due(f, now_real);
}

static void *fleet_main(void *arg)
{
	struct fleet *f = arg;

	for (;;) {
		struct pollfd p = { .fd = f->stop_fd, .events = POLLIN };

		tick(f);
		if (poll(&p, 1, FLEET_TICK_NS / 1000000) > 0)
			break;
	}
	return NULL;
}

struct fleet *fleet_start(const struct fleet_opts *o, int fd_config, unsigned int ifindex,
			  const char *ifname, struct fleet_stats *st)
{
	struct fleet *f = calloc(1, sizeof(*f));
	char host[64] = "";
	struct stat ns;

	if (!f) {
		err("out of memory");
		return NULL;
	}
	f->o = *o;
	f->st = st;
	f->ifindex = ifindex;
	f->stop_fd = -1;
	if (etcd_init(&f->etcd, o->endpoints, ETCD_TIMEOUT_MS)) {
		err("%s", f->etcd.err);
		goto fail;
	}
	if (!*o->name || strlen(o->name) > 64 || strspn(o->name, "abcdefghijklmnopqrstuvwxyz"
							      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
							      strlen(o->name)) {
		err("bad --fleet name '%s' (letters, digits, '-', '_', '.', at most 64)", o->name);
		goto fail;
	}
	snprintf(f->key_path, sizeof(f->key_path), "/xdpct/fleet/%s/key", o->name);
	snprintf(f->leader_path, sizeof(f->leader_path), "/xdpct/fleet/%s/leader", o->name);
	snprintf(f->members_path, sizeof(f->members_path), "/xdpct/fleet/%s/members/", o->name);
	gethostname(host, sizeof(host) - 1);
	/* the same for a restarted run: it takes its entry over */
	if (stat("/proc/self/ns/net", &ns))
		ns.st_ino = 0;
	snprintf(f->id, sizeof(f->id), "%s/%s/net:%lu", host, ifname, (unsigned long)ns.st_ino);
	snprintf(f->member_path, sizeof(f->member_path), "%s%s", f->members_path, f->id);
	f->m = config_map(fd_config);
	if (!f->m)
		goto fail;
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (f->stop_fd < 0) {
		err("eventfd: %s", strerror(errno));
		goto fail;
	}
	st->on = true;
	st->etcd_up = -1; /* not tried: the first failure is logged */
	if (pthread_create(&f->thread, NULL, fleet_main, f)) {
		err("cannot start the fleet thread");
		goto fail;
	}
	info("fleet %s: etcd %s, member %s", o->name, o->endpoints, f->id);
	return f;
fail:
	config_unmap(f->m);
	if (f->stop_fd >= 0)
		close(f->stop_fd);
	free(f);
	return NULL;
}

void fleet_stop(struct fleet *f)
{
	__u64 one = 1;

	if (!f)
		return;
	if (write(f->stop_fd, &one, sizeof(one)) != sizeof(one))
		warn("cannot stop the fleet thread: %s", strerror(errno));
	pthread_join(f->thread, NULL);
	/* another member leads at once rather than after the lease's TTL;
	 * the member entry stays until its own lease ends (a restart) */
	if (f->st->leader)
		etcd_delete_if(&f->etcd, f->leader_path, f->leader_val);
	if (f->lease)
		etcd_lease_revoke(&f->etcd, f->lease);
	config_unmap(f->m);
	close(f->stop_fd);
	free(f);
}
