/* SPDX-License-Identifier: GPL-2.0 */
/* Eviction of expired entries from the flow tables and the pending map:
 * a pass reads every entry with batch lookups, re-checks the expired ones
 * and removes them with batch deletes. Used by `xdpct run` (on a timer),
 * `xdpct evict` (one pass), `xdpct status` (counting) and bench/evict.c.
 * With a timer wheel (`xdpct run`), the flows that entered TIME_WAIT or
 * CLOSE (close events from the BPF side, through a ring buffer) are removed
 * on time by the wheel, one lookup and a batch delete each, and the passes
 * that remain for every other state can be far apart. */
#ifndef XDPCT_EVICT_H
#define XDPCT_EVICT_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>

#include "xdpct.h"
#include "wheel.h"

/* The maps a pass walks: the protected flow tables, the pending map, the
 * observed flow tables. */
enum { EV_FLOWS4, EV_FLOWS6, EV_PENDING, EV_OBS4, EV_OBS6, EV_MAPS };

static inline bool ev_flows(int m)
{
	return m != EV_PENDING;
}

static inline bool ev_v6(int m)
{
	return m == EV_FLOWS6 || m == EV_OBS6;
}

/* Why an entry went: 0..XDPCT_CT_MAX-1 its state's timeout, then: */
enum {
	EVR_PENDING = XDPCT_CT_MAX, /* a cookie flow whose child never came,
				     * past the cookie's validity */
	EVR_ORPHAN,                 /* pending entry without a flow entry */
	EVR_DONE,                   /* pending entry of a flow no longer pending */
	EVR_MAX
};

/* The longest a cookie is accepted: two slots of 2^36 ns (~137 s). */
#define XDPCT_COOKIE_VALID_NS (2ull << XDPCT_SLOT_SHIFT)
/* Timeouts must fit the signed 32-bit tick difference (2^31 ticks of
 * 2^20 ns, ~26 days): an entry cannot look idle for longer. */
#define EVICT_TIMEOUT_MAX 2000000ull

struct evict_timeouts {
	__u64 ns[XDPCT_CT_MAX]; /* idle time after the last packet, per state */
	__u64 pending_ns;       /* PENDING flows: after the cookie ACK */
};

/* Who removed an entry. */
enum { EVB_PASS, EVB_WHEEL, EVB_MAX };
/* What the wheel found when an entry came due. */
enum {
	WH_EVICTED,   /* expired: removed */
	WH_REFRESHED, /* still closing, but a packet came since: rescheduled */
	WH_REOPENED,  /* a SYN reused the tuple: a new close event will come */
	WH_GONE,      /* not there (removed by a pass, a SYN, the LRU) */
	WH_MAX
};
/* The wheel: slots of 100 ms, looked at every 100 ms (the ring buffer is
 * read then too: the BPF side sends without a wakeup). */
#define WHEEL_TICK_NS 100000000ull
/* A pass leaves the TIME_WAIT and CLOSE entries expired for less than this
 * to the wheel: the pass then removes only those whose event was lost. */
#define WHEEL_GRACE_NS 1000000000ull

/* Fixed histogram buckets (seconds), for pass duration and lag. */
#define EVICT_NBUCKETS 12
extern const double evict_buckets[EVICT_NBUCKETS];

struct evict_hist {
	__u64 count;
	double sum;
	__u64 le[EVICT_NBUCKETS]; /* cumulative: observations <= bucket */
};

/* Cumulative figures, plus what the last pass saw. */
struct evict_totals {
	__u64 passes;
	__u64 evicted[EV_MAPS][EVR_MAX];
	struct evict_hist pass_s;   /* duration of a pass */
	struct evict_hist lag_s[EVB_MAX]; /* expiry -> removal, per entry removed */
	__u64 by[EVB_MAX];          /* entries removed, by whom */
	double lag_max_s[EVB_MAX];  /* the largest lag so far */
	double last_pass_s;
	double last_lag_max_s;
	__u64 last_evicted;
	__u64 last_pass_end_ns;     /* CLOCK_MONOTONIC */
	/* after the last pass (entries that stayed) */
	__u64 conns[2][XDPCT_CT_MAX]; /* [ipv4, ipv6][state] */
	__u64 pending_flows;          /* flows with the PENDING flag */
	__u64 entries[EV_MAPS];
	__u32 max_entries[EV_MAPS];
	double pass_interval_s;       /* between passes, as `xdpct run` set it */
	/* the wheel */
	bool wheel_on;
	__u64 wheel_events;           /* close events read */
	__u64 wheel_checks[WH_MAX];   /* entries that came due, by outcome */
	__u64 wheel_entries;          /* scheduled now */
	double wheel_s;               /* time spent reading events and evicting */
};

/* What one wheel tick did. */
struct wheel_tick {
	__u64 events;
	__u64 evicted;
	double lag_max_s;
};

struct ring_buffer;
struct xdpct_seen;
struct pass_acc;
struct del_group;
struct ctev_emitter;

struct evictor {
	int fd[EV_MAPS];             /* -1: that map is skipped */
	struct evict_timeouts to;
	bool dry_run;                /* count what would go, delete nothing */
	pthread_mutex_t lock;        /* guards t (read by the metrics thread) */
	struct evict_totals t;
	/* scratch */
	void *keys, *vals;
	__u32 batch;
	/* pending entries seen without a flow in the previous pass: a cookie
	 * ACK writes the pending entry just before the flow entry */
	struct xdpct_flow_key *orphans, *orphans_next;
	size_t n_orphans, n_orphans_next, cap_orphans;
	/* the wheel (NULL: passes only) */
	struct wheel *wheel;
	struct ring_buffer *rb;
	bool seed_wheel;             /* the next pass schedules the TIME_WAIT and
				      * CLOSE entries it keeps (events missed) */
	bool seeding;                /* this pass does */
	struct wheel_ent *due;       /* scratch of a tick */
	size_t due_cap;
	struct pass_acc *wacc;
	struct wheel_tick *cur_tick; /* while consuming events */
	__u64 cur_now;
	struct del_group *wgroups;   /* [EV_*] of the flow tables */
	int wheel_err;
	/* xdpct_seen (NULL: none): a pass that is not a dry run rebuilds it,
	 * marking every protected flow key it reads, and the kernel's sockets
	 * on the ports in ports_fd (-1: none) */
	const struct xdpct_seen *seen;
	int ports_fd;
	/* xdpct_handoff (-1: none): stored NAT handovers older than the
	 * pending timeout go (the child never came: its entry would wait for
	 * the LRU) */
	int handoff_fd;
	__u64 handoff_expired;
	/* xdpct_proxy (-1: none): translations whose flow entry went */
	int proxy_fd;
	__u64 proxy_expired;
	bool seen_on;                /* this pass does */
	unsigned int seen_half;      /* the half it fills */
	/* called between the chunks of a pass (the wheel's ticks go on
	 * during a long pass); its time is not counted as the pass's */
	/* DESTROY events of what it removes (NULL: none; set by the caller) */
	struct ctev_emitter *emit;
	void (*between)(void *arg);
	void *between_arg;
	__u64 between_ns;
};

void timeouts_default(struct evict_timeouts *t);
/* "time_wait=30,close=5" (repeatable option): states by name, any case,
 * and "pending". One line on stderr and -1 on error. */
int timeouts_parse(struct evict_timeouts *t, const char *arg);
/* "syn_sent=120s ... pending=137s" */
void timeouts_describe(const struct evict_timeouts *t, char *buf, size_t len);
/* The timeouts in the config map (xdpct_config.timeout_s[] and
 * pending_timeout_s, seconds, 0 = the default): into cfg (the other
 * fields untouched; a timeout that is not a whole number of seconds, the
 * default pending one, is written as 0), and back (0 -> the default). */
void timeouts_to_config(const struct evict_timeouts *t, struct xdpct_config *cfg);
void timeouts_from_config(struct evict_timeouts *t, const struct xdpct_config *cfg);
/* Whether any timeout is set in cfg (else all are the defaults). */
bool timeouts_in_config(const struct xdpct_config *cfg);
/* The timeouts in force on an attachment: its config map's (what `xdpct
 * run` set), the defaults where none is set or the map cannot be read (a
 * warning then). */
void timeouts_read_pinned(const char *pin_dir, struct evict_timeouts *t);

/* fds ([EV_*], -1: skipped) are borrowed (not closed by evictor_free).
 * 0 or -errno. */
int evictor_init(struct evictor *e, const int fd[EV_MAPS], const struct evict_timeouts *to);
void evictor_free(struct evictor *e);
/* One pass over every map. 0 or -errno (the pass stops at the error). */
int evict_pass(struct evictor *e);
/* A copy of the totals, taken under the lock. */
void evict_totals_get(struct evictor *e, struct evict_totals *out);
void evict_set_pass_interval(struct evictor *e, double s);

/* The wheel: events_fd is the xdpct_events ring buffer (-1: none, events
 * are given with evict_wheel_event: bench/evict.c). 0 or -errno. The next
 * pass seeds the wheel. */
int evict_wheel_start(struct evictor *e, int events_fd);
/* A flow entered TIME_WAIT or CLOSE: schedule it at its expiry. 0 or -errno. */
int evict_wheel_event(struct evictor *e, const struct xdpct_close_event *ev, __u64 now);
/* Reads the events, then checks the entries due and removes the expired
 * ones (batch deletes); refreshed ones are rescheduled. 0 or -errno. */
int evict_wheel_tick(struct evictor *e, struct wheel_tick *res);

const char *evict_reason_name(int r); /* "time_wait", "pending", ... */
const char *evict_map_name(int m);    /* "xdpct_flows4", ... */

__u64 mono_ns(void);

#endif /* XDPCT_EVICT_H */
