// SPDX-License-Identifier: GPL-2.0
/* Eviction: the BPF side never removes an entry that timed out (only the
 * LRU does, under pressure, and a SYN reusing a closed tuple). A pass here
 * walks each flow table with batch lookups, re-reads each expired entry
 * right before removing it (a packet may have refreshed it, or a SYN
 * reopened the tuple, since the batch was read) and removes those still
 * expired with batch deletes. The pending map follows its flows.
 * The timer wheel (evict_wheel_*) does the same for the flows the BPF side
 * reported closed, one by one at their expiry. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "ctev.h"
#include "evict.h"
#include "xdpct_seen.h"

#define BATCH 8192     /* entries per batch lookup */
#define DEL_GROUP 128  /* re-checked keys per batch delete: keeps the time
			* between the re-check and the delete short */

static const char *const state_names[] = XDPCT_CT_STATE_NAMES;
static const unsigned int default_timeouts[] = XDPCT_CT_TIMEOUTS;
_Static_assert(sizeof(default_timeouts) / sizeof(default_timeouts[0]) == XDPCT_CT_MAX,
	       "a timeout per state");

const double evict_buckets[EVICT_NBUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};

__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* == bpf_ktime_get_ns() */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *evict_reason_name(int r)
{
	static char lower[XDPCT_CT_MAX][16];
	int i;

	if (r >= 0 && r < XDPCT_CT_MAX) {
		if (!lower[r][0]) {
			for (i = 0; state_names[r][i] && i < 15; i++) {
				char ch = state_names[r][i];

				lower[r][i] = ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch;
			}
			lower[r][i] = '\0';
		}
		return lower[r];
	}
	switch (r) {
	case EVR_PENDING: return "pending";
	case EVR_ORPHAN: return "orphan";
	case EVR_DONE: return "done";
	}
	return "?";
}

const char *evict_map_name(int m)
{
	static const char *const n[EV_MAPS] = { XDPCT_MAP_FLOWS4, XDPCT_MAP_FLOWS6,
						XDPCT_MAP_PENDING, XDPCT_MAP_OBS4,
						XDPCT_MAP_OBS6 };

	return m >= 0 && m < EV_MAPS ? n[m] : "?";
}

void timeouts_default(struct evict_timeouts *t)
{
	int i;

	for (i = 0; i < XDPCT_CT_MAX; i++)
		t->ns[i] = default_timeouts[i] * 1000000000ull;
	t->pending_ns = XDPCT_COOKIE_VALID_NS;
}

/* "time_wait" == "TIME-WAIT" == "Time_Wait" */
static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (strlen(b) != alen)
		return false;
	for (i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

int timeouts_parse(struct evict_timeouts *t, const char *arg)
{
	const char *p = arg;

	if (!*arg) {
		err("bad --timeout '': expected STATE=SECONDS");
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p), nlen;
		unsigned long long v;
		char num[24];
		int i, which = -2;

		eq = memchr(p, '=', len);
		if (!eq || eq == p) {
			err("bad --timeout '%s': expected STATE=SECONDS, e.g. time_wait=120", arg);
			return -1;
		}
		nlen = eq - p;
		for (i = 0; i < XDPCT_CT_MAX; i++)
			if (name_eq(p, nlen, state_names[i]))
				which = i;
		if (name_eq(p, nlen, "pending"))
			which = -1;
		if (which == -2) {
			err("bad --timeout '%s': unknown state '%.*s' (syn_sent, syn_recv, established, fin_wait, close_wait, last_ack, time_wait, close, syn_sent2, none, pending)",
			    arg, (int)nlen, p);
			return -1;
		}
		if (len - nlen - 1 >= sizeof(num) ||
		    (snprintf(num, sizeof(num), "%.*s", (int)(len - nlen - 1), eq + 1),
		     parse_u64(num, 1, EVICT_TIMEOUT_MAX, &v))) {
			err("bad --timeout '%s': '%.*s' is not a number of seconds (1-%llu)",
			    arg, (int)(len - nlen - 1), eq + 1, EVICT_TIMEOUT_MAX);
			return -1;
		}
		if (which == -1)
			t->pending_ns = v * 1000000000ull;
		else
			t->ns[which] = v * 1000000000ull;
		if (!end)
			return 0;
		p = end + 1;
	}
}

void timeouts_describe(const struct evict_timeouts *t, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 1; i < XDPCT_CT_MAX && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s=%llus", off ? " " : "",
				evict_reason_name(i),
				(unsigned long long)(t->ns[i] / 1000000000ull));
	if (off < len)
		snprintf(buf + off, len - off, " pending=%llus",
			 (unsigned long long)(t->pending_ns / 1000000000ull));
}

void timeouts_to_config(const struct evict_timeouts *t, struct xdpct_config *cfg)
{
	int i;

	for (i = 0; i < XDPCT_CT_MAX; i++)
		cfg->timeout_s[i] = t->ns[i] % 1000000000ull ? 0 : t->ns[i] / 1000000000ull;
	cfg->pending_timeout_s = t->pending_ns % 1000000000ull ? 0 :
				 t->pending_ns / 1000000000ull;
}

/* Written by hand (bpftool) past the limit: the limit. */
static __u64 secs_ns(__u32 s)
{
	return (s < EVICT_TIMEOUT_MAX ? s : EVICT_TIMEOUT_MAX) * 1000000000ull;
}

void timeouts_from_config(struct evict_timeouts *t, const struct xdpct_config *cfg)
{
	int i;

	timeouts_default(t);
	for (i = 0; i < XDPCT_CT_MAX; i++)
		if (cfg->timeout_s[i])
			t->ns[i] = secs_ns(cfg->timeout_s[i]);
	if (cfg->pending_timeout_s)
		t->pending_ns = secs_ns(cfg->pending_timeout_s);
	else /* a cookie's validity: two slots of the length in force */
		t->pending_ns = 2ull << xdpct_slot_shift(cfg->slot_shift);
}

bool timeouts_in_config(const struct xdpct_config *cfg)
{
	int i;

	for (i = 0; i < XDPCT_CT_MAX; i++)
		if (cfg->timeout_s[i])
			return true;
	return cfg->pending_timeout_s != 0;
}

static __u32 map_max_entries(int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len))
		return 0;
	return mi.max_entries;
}

int evictor_init(struct evictor *e, const int fd[EV_MAPS], const struct evict_timeouts *to)
{
	int m;

	memset(e, 0, sizeof(*e));
	for (m = 0; m < EV_MAPS; m++)
		e->fd[m] = fd[m];
	e->ports_fd = -1;
	e->handoff_fd = -1;
	e->proxy_fd = -1;
	e->to = *to;
	e->batch = BATCH;
	/* the largest key and value of the three maps */
	e->keys = malloc((size_t)BATCH * sizeof(struct xdpct_flow_key));
	e->vals = malloc((size_t)BATCH * sizeof(struct xdpct_flow));
	if (!e->keys || !e->vals) {
		evictor_free(e);
		return -ENOMEM;
	}
	for (m = 0; m < EV_MAPS; m++)
		e->t.max_entries[m] = map_max_entries(e->fd[m]);
	pthread_mutex_init(&e->lock, NULL);
	return 0;
}

/* Frees the wheel and its scratch buffers (not the ring buffer). */
static void wheel_release(struct evictor *e)
{
	if (e->wheel) {
		wheel_free(e->wheel);
		free(e->wheel);
	}
	free(e->due);
	free(e->wacc);
	free(e->wgroups);
	e->wheel = NULL;
	e->due = NULL;
	e->due_cap = 0;
	e->wacc = NULL;
	e->wgroups = NULL;
}


void evictor_free(struct evictor *e)
{
	if (e->rb)
		ring_buffer__free(e->rb);
	e->rb = NULL;
	wheel_release(e);
	free(e->keys);
	free(e->vals);
	free(e->orphans);
	free(e->orphans_next);
	e->keys = e->vals = NULL;
	e->orphans = e->orphans_next = NULL;
}

static void hist_add(struct evict_hist *h, double v)
{
	int i;

	h->count++;
	h->sum += v;
	for (i = 0; i < EVICT_NBUCKETS; i++)
		if (v <= evict_buckets[i])
			h->le[i]++;
}

static void hist_merge(struct evict_hist *a, const struct evict_hist *b)
{
	int i;

	a->count += b->count;
	a->sum += b->sum;
	for (i = 0; i < EVICT_NBUCKETS; i++)
		a->le[i] += b->le[i];
}

/* What one pass saw, merged into the totals at its end. */
struct pass_acc {
	__u64 evicted[EV_MAPS][EVR_MAX];
	__u64 n_evicted;
	struct evict_hist lag;
	double lag_max;
	__u64 conns[2][XDPCT_CT_MAX];
	__u64 pending_flows;
	__u64 entries[EV_MAPS];
};

/* Reason the entry must go (enum EVR_* or a state), -1 to keep it.
 * *lag_ns: how long ago it expired. */
static int flow_expired(const struct evict_timeouts *to, const struct xdpct_flow *f,
			__u64 now, __u64 *lag_ns)
{
	__u32 st = f->state < XDPCT_CT_MAX ? f->state : XDPCT_CT_NONE;
	/* last_tick may be ahead of now (written after now was read): a
	 * signed difference, never a wrap to "idle for 52 days" */
	__s32 idle = (__s32)((__u32)(now >> XDPCT_TICK_SHIFT) - f->last_tick);
	__u64 idle_ns = idle > 0 ? (__u64)idle << XDPCT_TICK_SHIFT : 0;

	if (idle_ns >= to->ns[st]) {
		*lag_ns = idle_ns - to->ns[st];
		return st;
	}
	if (f->flags & XDPCT_FLOW_PENDING) {
		/* first_s is truncated to the second: count from the next one,
		 * so that a flow never goes early */
		__u64 since = ((__u64)f->first_s + 1) * 1000000000ull;

		if (now > since && now - since >= to->pending_ns) {
			*lag_ns = now - since - to->pending_ns;
			return EVR_PENDING;
		}
	}
	return -1;
}

static bool closing(__u8 state)
{
	return state == XDPCT_CT_TIME_WAIT || state == XDPCT_CT_CLOSE;
}

/* flow_expired() for a pass: with a wheel, the closing entries that just
 * expired are the wheel's (it removes them within a tick); the pass takes
 * only those the wheel missed (a lost event). */
static int pass_expired(const struct evictor *e, const struct xdpct_flow *f, __u64 now,
			__u64 *lag_ns)
{
	int why = flow_expired(&e->to, f, now, lag_ns);

	if (why >= 0 && e->wheel && closing(f->state) && why == f->state &&
	    *lag_ns < WHEEL_GRACE_NS)
		return -1;
	return why;
}

/* When an entry last seen at tick (XDPCT_TICK_SHIFT units, 32 bits) in
 * this state expires: exactly when flow_expired() starts to say so. */
static __u64 due_of(const struct evict_timeouts *to, __u32 tick, __u8 state, __u64 now)
{
	__s64 now_t = (__s64)(now >> XDPCT_TICK_SHIFT);
	__s32 idle = (__s32)((__u32)now_t - tick);
	__s64 need = (__s64)((to->ns[state < XDPCT_CT_MAX ? state : 0] +
			       (1ull << XDPCT_TICK_SHIFT) - 1) >> XDPCT_TICK_SHIFT);
	__s64 due_t = now_t - idle + need;

	return due_t > 0 ? (__u64)due_t << XDPCT_TICK_SHIFT : 0;
}

/* The wheel keeps generic keys; which table the entry is in rides in
 * the key's pad0 (1: observed), set here and read by map_key_of(). */
#define WHEEL_KEY_OBSERVED(pk) ((pk)->pad0)

static void pending_key_of(int m, const void *k, struct xdpct_flow_key *pk)
{
	if (ev_v6(m))
		xdpct_key_from6(k, pk);
	else
		xdpct_key_from4(k, pk);
}

static void wheel_key_of(int m, const void *k, struct xdpct_flow_key *pk)
{
	pending_key_of(m, k, pk);
	WHEEL_KEY_OBSERVED(pk) = m == EV_OBS4 || m == EV_OBS6;
}

static void count_kept(struct pass_acc *a, int m, const struct xdpct_flow *f)
{
	a->entries[m]++;
	a->conns[ev_v6(m)][f->state < XDPCT_CT_MAX ? f->state : 0]++;
	if (f->flags & XDPCT_FLOW_PENDING)
		a->pending_flows++;
}

/* An entry a pass keeps: counted, and scheduled in the wheel when the
 * wheel may have missed its close event. */
static void pass_kept(struct evictor *e, struct pass_acc *a, int m, const void *k,
		      const struct xdpct_flow *f, __u64 now)
{
	struct xdpct_flow_key pk;

	count_kept(a, m, f);
	if (!e->wheel || !e->seeding || !closing(f->state))
		return;
	wheel_key_of(m, k, &pk);
	if (wheel_add(e->wheel, &pk, due_of(&e->to, f->last_tick, f->state, now)))
		e->seed_wheel = true; /* the next pass tries again */
}

/* Batch delete of n keys; keys already gone are skipped. Returns how many
 * went, or -errno. */
static long delete_keys(int fd, const char *keys, size_t ksz, __u32 n)
{
	long done = 0;

	while (n) {
		__u32 cnt = n;
		int r = bpf_map_delete_batch(fd, keys, &cnt, NULL);

		if (!r) {
			done += n;
			break;
		}
		if (errno != ENOENT || cnt >= n)
			return -errno;
		/* keys[cnt] vanished (the BPF side deleted it): go on after it */
		done += cnt;
		keys += (size_t)(cnt + 1) * ksz;
		n -= cnt + 1;
	}
	return done;
}

struct cand {
	__u32 idx;
	int reason;
};

/* Re-checked keys of one map, to delete in one batch. */
struct del_group {
	char keys[DEL_GROUP * sizeof(struct xdpct_flow6_key)];
	int reasons[DEL_GROUP];
	bool pend[DEL_GROUP];
	__u64 lags[DEL_GROUP];
	struct xdpct_flow flows[DEL_GROUP]; /* as last read: DESTROY events */
	__u32 n;
};

static void group_add(struct del_group *g, const void *k, size_t ksz, int why, __u64 lag,
		      const struct xdpct_flow *f)
{
	memcpy(g->keys + (size_t)g->n * ksz, k, ksz);
	g->reasons[g->n] = why;
	g->lags[g->n] = lag;
	g->pend[g->n] = f->flags & XDPCT_FLOW_PENDING;
	g->flows[g->n] = *f;
	g->n++;
}

/* Deletes a group (its pending entries too) and accounts for it. */
static int remove_group(struct evictor *e, int m, struct pass_acc *a, struct del_group *g,
			size_t ksz)
{
	const char *dkeys = g->keys;
	const int *reasons = g->reasons;
	const bool *pend = g->pend;
	const __u64 *lags = g->lags;
	__u32 i, nd = g->n;
	int fd = e->fd[m];
	long r;

	g->n = 0;
	if (!nd)
		return 0;
	if (e->dry_run) {
		r = nd;
	} else {
		r = delete_keys(fd, dkeys, ksz, nd);
		if (r < 0)
			return r;
	}
	/* ENOENT-skipped keys are few: account them all as removed by us */
	for (i = 0; i < nd; i++) {
		double lag = lags[i] / 1e9;

		a->evicted[m][reasons[i]]++;
		if (!e->dry_run)
			ctev_destroy(e->emit, ev_v6(m) ? 6 : 4, m == EV_OBS4 || m == EV_OBS6,
				     dkeys + (size_t)i * ksz, &g->flows[i],
				     ctev_reason_of_state(g->flows[i].state));
		a->n_evicted++;
		hist_add(&a->lag, lag);
		if (lag > a->lag_max)
			a->lag_max = lag;
		if (pend[i] && e->fd[EV_PENDING] >= 0 && (m == EV_FLOWS4 || m == EV_FLOWS6)) {
			struct xdpct_flow_key pk;

			pending_key_of(m, dkeys + (size_t)i * ksz, &pk);
			if (e->dry_run || !bpf_map_delete_elem(e->fd[EV_PENDING], &pk))
				a->evicted[EV_PENDING][EVR_PENDING]++;
		}
	}
	ctev_flush(e->emit);
	return 0;
}

/* Re-read the candidates, delete those still expired, in one batch. */
static int flush_cands(struct evictor *e, int m, struct pass_acc *a,
		       const struct cand *c, __u32 n, size_t ksz)
{
	struct del_group g;
	int fd = e->fd[m];
	__u32 i;

	g.n = 0;
	for (i = 0; i < n; i++) {
		const char *k = (const char *)e->keys + (size_t)c[i].idx * ksz;
		struct xdpct_flow f;
		__u64 lag, now = mono_ns();
		int why;

		if (bpf_map_lookup_elem(fd, k, &f))
			continue; /* gone meanwhile */
		/* a program holds it (a packet right now): not ours to free */
		why = f.lock ? -1 : pass_expired(e, &f, now, &lag);
		if (why < 0) { /* refreshed or reopened since the batch */
			pass_kept(e, a, m, k, &f, now);
			continue;
		}
		if (e->dry_run) /* still there: counted as present too */
			count_kept(a, m, &f);
		group_add(&g, k, ksz, why, lag, &f);
	}
	return remove_group(e, m, a, &g, ksz);
}

/* Walks one map with batch lookups; fn handles each chunk. */
static int walk(struct evictor *e, int m,
		int (*fn)(struct evictor *, int, struct pass_acc *, __u32),
		struct pass_acc *a)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 tok = 0, count;
	bool first = true;
	int r, rr;

	for (;;) {
		count = e->batch;
		r = bpf_map_lookup_batch(e->fd[m], first ? NULL : &tok, &tok,
					 e->keys, e->vals, &count, &bo);
		if (r && errno != ENOENT)
			return -errno; /* ENOSPC cannot happen: BATCH >> a bucket */
		rr = fn(e, m, a, count);
		if (rr)
			return rr;
		if (e->between) {
			__u64 t0 = mono_ns();

			e->between(e->between_arg);
			e->between_ns += mono_ns() - t0;
		}
		if (r) /* ENOENT: that was the last chunk */
			return 0;
		first = false;
	}
}

static int flows_chunk(struct evictor *e, int m, struct pass_acc *a, __u32 count)
{
	size_t ksz = ev_v6(m) ? sizeof(struct xdpct_flow6_key) :
				sizeof(struct xdpct_flow4_key);
	const struct xdpct_flow *vals = e->vals;
	struct cand c[DEL_GROUP];
	__u32 i, nc = 0;
	__u64 now = mono_ns(), lag;
	int why, r;

	if (e->seen_on && (m == EV_FLOWS4 || m == EV_FLOWS6))
		/* every key: one that goes keeps a stale bit, no harm */
		for (i = 0; i < count; i++) {
			const void *k = (const char *)e->keys + (size_t)i * ksz;

			xdpct_seen_mark(e->seen, e->seen_half, ev_v6(m) ?
					xdpct_seen_bit6(k) : xdpct_seen_bit4(k));
		}
	for (i = 0; i < count; i++) {
		why = pass_expired(e, &vals[i], now, &lag);
		if (why < 0) {
			pass_kept(e, a, m, (const char *)e->keys + (size_t)i * ksz, &vals[i], now);
			continue;
		}
		c[nc].idx = i;
		c[nc].reason = why;
		if (++nc == DEL_GROUP) {
			r = flush_cands(e, m, a, c, nc, ksz);
			if (r)
				return r;
			nc = 0;
		}
	}
	return nc ? flush_cands(e, m, a, c, nc, ksz) : 0;
}

static int key_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct xdpct_flow_key));
}

static int pending_flush(struct evictor *e, struct pass_acc *a,
			 const struct xdpct_flow_key *del, const int *reasons, __u32 nd)
{
	long r = e->dry_run ? (long)nd :
		 delete_keys(e->fd[EV_PENDING], (const char *)del, sizeof(del[0]), nd);
	__u32 j;

	if (r < 0)
		return r;
	for (j = 0; j < nd; j++)
		a->evicted[EV_PENDING][reasons[j]]++;
	return 0;
}

static int pending_chunk(struct evictor *e, int m, struct pass_acc *a, __u32 count)
{
	const struct xdpct_flow_key *keys = e->keys;
	struct xdpct_flow_key del[DEL_GROUP];
	int reasons[DEL_GROUP];
	__u32 i, nd = 0;
	int r;

	(void)m;
	for (i = 0; i < count; i++) {
		const struct xdpct_flow_key *pk = &keys[i];
		int ffd = e->fd[pk->family == 6 ? EV_FLOWS6 : EV_FLOWS4];
		struct xdpct_flow f;
		int why = -1;

		if (ffd < 0) {
			a->entries[EV_PENDING]++;
			continue;
		}
		if (pk->family == 4) {
			struct xdpct_flow4_key k;

			xdpct_key_to4(pk, &k);
			r = bpf_map_lookup_elem(ffd, &k, &f);
		} else {
			struct xdpct_flow6_key k;

			xdpct_key_to6(pk, &k);
			r = bpf_map_lookup_elem(ffd, &k, &f);
		}
		if (r) {
			if (e->orphans && bsearch(pk, e->orphans, e->n_orphans, sizeof(*pk), key_cmp)) {
				why = EVR_ORPHAN;
			} else if (e->n_orphans_next < e->cap_orphans) {
				e->orphans_next[e->n_orphans_next++] = *pk;
			}
		} else if (!(f.flags & XDPCT_FLOW_PENDING)) {
			why = EVR_DONE;
		}
		if (why < 0) {
			a->entries[EV_PENDING]++;
			continue;
		}
		del[nd] = *pk;
		reasons[nd++] = why;
		if (nd == DEL_GROUP) {
			r = pending_flush(e, a, del, reasons, nd);
			if (r)
				return r;
			nd = 0;
		}
	}
	return nd ? pending_flush(e, a, del, reasons, nd) : 0;
}

static int pending_pass(struct evictor *e, struct pass_acc *a)
{
	size_t cap = e->t.max_entries[EV_PENDING];
	void *p;
	int r;

	if (cap > e->cap_orphans) {
		p = realloc(e->orphans_next, cap * sizeof(struct xdpct_flow_key));
		if (!p)
			return -ENOMEM;
		e->orphans_next = p;
		p = realloc(e->orphans, cap * sizeof(struct xdpct_flow_key));
		if (!p)
			return -ENOMEM;
		e->orphans = p;
		e->cap_orphans = cap;
	}
	e->n_orphans_next = 0;
	r = walk(e, EV_PENDING, pending_chunk, a);
	if (r)
		return r;
	/* this pass's orphans are next pass's candidates */
	p = e->orphans;
	e->orphans = e->orphans_next;
	e->orphans_next = p;
	e->n_orphans = e->n_orphans_next;
	qsort(e->orphans, e->n_orphans, sizeof(struct xdpct_flow_key), key_cmp);
	return 0;
}

/* The rebuild of xdpct_seen marks the sockets on protected ports too: a
 * connection whose entry went is found again at its next packet. */
static int seen_mark_sockets(struct evictor *e)
{
	static __u8 ports[NUM_PORTS];
	struct xdpct_flow_key *keys;
	size_t n;
	__u32 i;
	int r;

	if (e->ports_fd < 0)
		return 0;
	for (i = 0; i < NUM_PORTS; i++)
		if (bpf_map_lookup_elem(e->ports_fd, &i, &ports[i]))
			return -errno;
	r = protected_socket_keys(ports, &keys, &n);
	if (r)
		return r;
	xdpct_seen_mark_keys(e->seen, e->seen_half, keys, n);
	free(keys);
	return 0;
}

/* Stored NAT handovers whose child never came, after the pending
 * timeout. Deleted one by one: a handful at most, each a real client's. */
static int handoff_pass(struct evictor *e)
{
	struct xdpct_handoff_key k = {}, next; /* family 0: no entry, the walk's start */
	struct xdpct_handoff h;
	__u64 now = clock_ns(CLOCK_MONOTONIC_COARSE);

	while (!bpf_map_get_next_key(e->handoff_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(e->handoff_fd, &k, &h) ||
		    now < h.made_ns + e->to.pending_ns)
			continue;
		if (!e->dry_run && bpf_map_delete_elem(e->handoff_fd, &k) && errno != ENOENT)
			return -errno;
		e->handoff_expired++;
	}
	return 0;
}

/* Proxy translations whose flow entry went (closed and evicted, or lost
 * to the LRU): the flow entry is made first, so one without is done. */
static int proxy_pass(struct evictor *e)
{
	struct xdpct_flow_key k = {}, next; /* family 0: no entry, the walk's start */
	struct xdpct_flow f;
	int ffd, r;

	while (!bpf_map_get_next_key(e->proxy_fd, &k, &next)) {
		k = next;
		ffd = e->fd[k.family == 4 ? EV_FLOWS4 : EV_FLOWS6];
		if (ffd < 0)
			continue;
		if (k.family == 4) {
			struct xdpct_flow4_key k4;

			xdpct_key_to4(&k, &k4);
			r = bpf_map_lookup_elem(ffd, &k4, &f);
		} else {
			struct xdpct_flow6_key k6;

			xdpct_key_to6(&k, &k6);
			r = bpf_map_lookup_elem(ffd, &k6, &f);
		}
		if (!r || errno != ENOENT)
			continue;
		if (!e->dry_run && bpf_map_delete_elem(e->proxy_fd, &k) && errno != ENOENT)
			return -errno;
		e->proxy_expired++;
	}
	return 0;
}

int evict_pass(struct evictor *e)
{
	struct pass_acc *a = calloc(1, sizeof(*a));
	__u64 t0 = mono_ns(), t1;
	int m, r = 0;

	if (!a)
		return -ENOMEM;
	e->between_ns = 0;
	/* what is lost from now on is for the next pass to seed */
	e->seeding = e->seed_wheel;
	e->seed_wheel = false;
	/* the rebuild of xdpct_seen rides on the walk of both flow tables */
	e->seen_on = e->seen && e->seen->w && !e->dry_run &&
		     e->fd[EV_FLOWS4] >= 0 && e->fd[EV_FLOWS6] >= 0;
	if (e->seen_on)
		e->seen_half = xdpct_seen_rebuild_begin(e->seen);
	for (m = EV_FLOWS4; m <= EV_FLOWS6 && !r; m++)
		if (e->fd[m] >= 0)
			r = walk(e, m, flows_chunk, a);
	if (e->seen_on && !r)
		r = seen_mark_sockets(e);
	if (e->seen_on)
		xdpct_seen_rebuild_end(e->seen, e->seen_half, !r);
	e->seen_on = false;
	for (m = EV_OBS4; m <= EV_OBS6 && !r; m++)
		if (e->fd[m] >= 0)
			r = walk(e, m, flows_chunk, a);
	if (!r && e->fd[EV_PENDING] >= 0)
		r = pending_pass(e, a);
	if (!r && e->handoff_fd >= 0)
		r = handoff_pass(e);
	if (!r && e->proxy_fd >= 0)
		r = proxy_pass(e);
	t1 = mono_ns() - e->between_ns; /* the wheel's ticks meanwhile are not the pass's */
	if (r && e->seeding)
		e->seed_wheel = true;
	e->seeding = false;

	pthread_mutex_lock(&e->lock);
	if (!r) {
		e->t.passes++;
		hist_add(&e->t.pass_s, (t1 - t0) / 1e9);
		e->t.last_pass_s = (t1 - t0) / 1e9;
		e->t.last_pass_end_ns = t1;
		memcpy(e->t.conns, a->conns, sizeof(a->conns));
		e->t.pending_flows = a->pending_flows;
		for (m = 0; m < EV_MAPS; m++)
			e->t.entries[m] = a->entries[m];
	}
	/* what went, went: count it even after an error */
	for (m = 0; m < EV_MAPS; m++) {
		int k;

		for (k = 0; k < EVR_MAX; k++)
			e->t.evicted[m][k] += a->evicted[m][k];
	}
	hist_merge(&e->t.lag_s[EVB_PASS], &a->lag);
	e->t.by[EVB_PASS] += a->n_evicted;
	if (a->lag_max > e->t.lag_max_s[EVB_PASS])
		e->t.lag_max_s[EVB_PASS] = a->lag_max;
	e->t.last_lag_max_s = a->lag_max;
	e->t.last_evicted = a->n_evicted;
	if (e->wheel)
		e->t.wheel_entries = e->wheel->size;
	pthread_mutex_unlock(&e->lock);
	free(a);
	return r;
}

void evict_totals_get(struct evictor *e, struct evict_totals *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->t;
	pthread_mutex_unlock(&e->lock);
}

void evict_set_pass_interval(struct evictor *e, double s)
{
	pthread_mutex_lock(&e->lock);
	e->t.pass_interval_s = s;
	pthread_mutex_unlock(&e->lock);
}

/* ---- the timer wheel ---- */

int evict_wheel_event(struct evictor *e, const struct xdpct_close_event *ev, __u64 now)
{
	struct xdpct_flow_key k = ev->key;

	if (!closing(ev->state) || (k.family != 4 && k.family != 6))
		return -EINVAL;
	WHEEL_KEY_OBSERVED(&k) = !!ev->observed;
	return wheel_add(e->wheel, &k, due_of(&e->to, ev->tick, ev->state, now));
}

/* ring_buffer__consume() calls this for each event. An event not taken
 * (no memory) leaves its entry to a pass, which then seeds the wheel. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct evictor *e = ctx;
	int r;

	e->cur_tick->events++;
	r = size < sizeof(struct xdpct_close_event) ? -EINVAL :
						      evict_wheel_event(e, data, e->cur_now);
	if (r == -ENOMEM)
		e->seed_wheel = true;
	if (r)
		e->wheel_err = r; /* reported by the tick */
	return 0;
}

int evict_wheel_start(struct evictor *e, int events_fd)
{
	__u64 span = e->to.ns[XDPCT_CT_TIME_WAIT] > e->to.ns[XDPCT_CT_CLOSE] ?
			     e->to.ns[XDPCT_CT_TIME_WAIT] : e->to.ns[XDPCT_CT_CLOSE];
	int r;

	e->wheel = calloc(1, sizeof(*e->wheel));
	e->wacc = calloc(1, sizeof(*e->wacc));
	e->wgroups = calloc(EV_MAPS, sizeof(*e->wgroups));
	if (!e->wheel || !e->wacc || !e->wgroups)
		goto nomem;
	if (wheel_init(e->wheel, WHEEL_TICK_NS, span, mono_ns()))
		goto nomem;
	if (events_fd >= 0) {
		e->rb = ring_buffer__new(events_fd, on_event, e, NULL);
		if (!e->rb) {
			r = -errno;
			goto fail;
		}
	}
	e->seed_wheel = true; /* the closing entries already there */
	pthread_mutex_lock(&e->lock);
	e->t.wheel_on = true;
	pthread_mutex_unlock(&e->lock);
	return 0;
nomem:
	r = -ENOMEM;
fail:
	wheel_release(e);
	return r;
}

static int went_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct wheel_ent *)x)->key, &((const struct wheel_ent *)y)->key,
		      sizeof(struct xdpct_flow_key));
}

/* The map key of a wheel key: the map's index (EV_FLOWS4/6, EV_OBS4/6). */
static int map_key_of(const struct xdpct_flow_key *pk, void *out)
{
	bool obs = WHEEL_KEY_OBSERVED(pk);

	if (pk->family == 4) {
		xdpct_key_to4(pk, out);
		return obs ? EV_OBS4 : EV_FLOWS4;
	}
	xdpct_key_to6(pk, out);
	return obs ? EV_OBS6 : EV_FLOWS6;
}

/* The n entries due: each read again; expired: removed (a batch delete per
 * DEL_GROUP of a map), still closing but refreshed: rescheduled. */
static int wheel_check(struct evictor *e, __u32 n, __u64 now, __u64 checks[WH_MAX])
{
	static const size_t ksz[EV_MAPS] = {
		[EV_FLOWS4] = sizeof(struct xdpct_flow4_key),
		[EV_FLOWS6] = sizeof(struct xdpct_flow6_key),
		[EV_OBS4] = sizeof(struct xdpct_flow4_key),
		[EV_OBS6] = sizeof(struct xdpct_flow6_key),
	};
	struct del_group *g = e->wgroups;
	struct wheel_ent *d = e->due;
	__u32 i, j = 0;
	int m, r = 0;

	/* a key twice (its events, a seeding pass): checked once */
	qsort(d, n, sizeof(*d), went_cmp);
	for (i = 0; i < n; i++)
		if (!j || went_cmp(&d[j - 1], &d[i]))
			d[j++] = d[i];
	n = j;
	for (m = 0; m < EV_MAPS; m++)
		g[m].n = 0;
	for (i = 0; i < n && !r; i++) {
		union {
			struct xdpct_flow4_key k4;
			struct xdpct_flow6_key k6;
		} k;
		struct xdpct_flow f;
		__u64 lag;
		int why;

		m = map_key_of(&d[i].key, &k);
		if (e->fd[m] < 0 || bpf_map_lookup_elem(e->fd[m], &k, &f)) {
			checks[WH_GONE]++;
			continue;
		}
		if (!closing(f.state)) {
			checks[WH_REOPENED]++;
			continue;
		}
		why = f.lock ? -1 : flow_expired(&e->to, &f, now, &lag);
		if (why < 0) { /* a packet since: its new expiry */
			__u64 due = due_of(&e->to, f.last_tick, f.state, now);

			if (due <= now)
				due = now + WHEEL_TICK_NS;
			checks[WH_REFRESHED]++;
			if (wheel_add(e->wheel, &d[i].key, due))
				e->seed_wheel = true;
			continue;
		}
		checks[WH_EVICTED]++;
		group_add(&g[m], &k, ksz[m], why, lag, &f);
		if (g[m].n == DEL_GROUP)
			r = remove_group(e, m, e->wacc, &g[m], ksz[m]);
	}
	for (m = 0; m < EV_MAPS && !r; m++)
		if (m != EV_PENDING)
			r = remove_group(e, m, e->wacc, &g[m], ksz[m]);
	return r;
}

int evict_wheel_tick(struct evictor *e, struct wheel_tick *res)
{
	__u64 t0 = mono_ns(), checks[WH_MAX] = {};
	struct pass_acc *a = e->wacc;
	long n;
	int r = 0, m, k;

	memset(res, 0, sizeof(*res));
	if (!e->wheel)
		return 0;
	if (e->rb) {
		e->cur_tick = res;
		e->cur_now = t0;
		e->wheel_err = 0;
		n = ring_buffer__consume(e->rb);
		e->cur_tick = NULL;
		r = n < 0 ? (int)n : e->wheel_err;
	}
	memset(a, 0, sizeof(*a));
	n = wheel_expire(e->wheel, mono_ns(), &e->due, &e->due_cap);
	if (n < 0 && !r)
		r = (int)n;
	if (n > 0) {
		int rr = wheel_check(e, (__u32)n, mono_ns(), checks);

		if (rr && !r)
			r = rr;
	}
	res->evicted = a->n_evicted;
	res->lag_max_s = a->lag_max;

	pthread_mutex_lock(&e->lock);
	for (m = 0; m < EV_MAPS; m++) {
		for (k = 0; k < EVR_MAX; k++) {
			__u64 c = a->evicted[m][k];

			e->t.evicted[m][k] += c;
			/* the pass's counts stay about right until the next pass */
			e->t.entries[m] -= c < e->t.entries[m] ? c : e->t.entries[m];
			if (m != EV_PENDING && k < XDPCT_CT_MAX) {
				__u64 *cs = &e->t.conns[ev_v6(m)][k];

				*cs -= c < *cs ? c : *cs;
			}
		}
	}
	hist_merge(&e->t.lag_s[EVB_WHEEL], &a->lag);
	e->t.by[EVB_WHEEL] += a->n_evicted;
	if (a->lag_max > e->t.lag_max_s[EVB_WHEEL])
		e->t.lag_max_s[EVB_WHEEL] = a->lag_max;
	e->t.wheel_events += res->events;
	for (k = 0; k < WH_MAX; k++)
		e->t.wheel_checks[k] += checks[k];
	e->t.wheel_entries = e->wheel->size;
	e->t.wheel_s += (mono_ns() - t0) / 1e9;
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* The timeouts in force: those `xdpct run` wrote into the config map, the
 * defaults where it set none (or when the map cannot be read). */
void timeouts_read_pinned(const char *pin_dir, struct evict_timeouts *to)
{
	char path[PATH_MAX + 32];
	struct bpf_map_info mi = {};
	struct xdpct_config cfg;
	__u32 len = sizeof(mi), zero = 0;
	int fd;

	timeouts_default(to);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XDPCT_MAP_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		warn("cannot open %s: %s; TIMEOUT by the default timeouts", path,
		     strerror(errno));
		return;
	}
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) || mi.type != BPF_MAP_TYPE_ARRAY ||
	    mi.key_size != 4 || mi.value_size != sizeof(cfg) || mi.max_entries < 1)
		warn("%s is not an xdpct config map (ARRAY of 1 x %zu bytes); TIMEOUT by the default timeouts",
		     path, sizeof(cfg));
	else if (bpf_map_lookup_elem(fd, &zero, &cfg))
		warn("cannot read %s: %s; TIMEOUT by the default timeouts", path,
		     strerror(errno));
	else
		timeouts_from_config(to, &cfg);
	close(fd);
}
