// SPDX-License-Identifier: GPL-2.0
/* Connection tracking events (include/xdpct.h, "Connection tracking
 * events") through BPF_PROG_TEST_RUN: the remote side's packets through
 * xdpct_xdp, the local side's through xdpct_tc_out, the userspace DESTROY
 * events through the syscall program xdpct_emit (build/emit.bpf.o, its
 * three maps reused from the data path's object). The ring buffer
 * xdpct_ctevents is read with libbpf's ring_buffer; the reader's claim is
 * written to xdpct_evsub as `xdpct events` would. Each check says in a
 * comment which defect it catches. Maps are not pinned.
 *
 * Expected connection states and endpoint states come from the transition
 * table and docs/conntrack.md as tests/unit/test_ct.c follows them; the
 * endpoint states are computed with include/xdpct_ep.h on the event's
 * snapshot. The re-adoption of a lost entry (a kernel socket) runs last,
 * in a network namespace of this process only, as test_ct's lost_entry. */
#define _GNU_SOURCE /* unshare() */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdpct.h"
#include "xdpct_ep.h"
#include "xdpct.skel.h"
#include "emit.skel.h"
#include "check.h"
#include "pktgen.h"
#include "maputil.h"
#include "livens.h"
#include "xdpct_seen.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define CFG_BASE (XDPCT_CFG_ENABLED | XDPCT_CFG_SACK | XDPCT_CFG_TIMESTAMPS | \
		  XDPCT_CFG_WSCALE | XDPCT_CFG_ECN | XDPCT_CFG_NOTS_OPTIONS)
#define WSCALE 7
#define PORT_PROT 80   /* XDPCT_PORT_PROTECT */
#define PORT_OBS 8080  /* XDPCT_PORT_OBSERVE */
#define TC_OK 0
#define R 0            /* XDPCT_REMOTE */
#define L 1            /* XDPCT_LOCAL */
#define CLAIM_NS (20 * 1000000000ULL)
#define FLOOD_SYNS 8000
/* a ring buffer record: the event and its 8-byte header, 8-byte aligned */
#define EV_RECORD ((sizeof(struct xdpct_ct_event) + 8 + 7) / 8 * 8)
#define RING_HOLDS (XDPCT_CTEVENTS_BYTES / EV_RECORD)

static const char *const st_names[] = XDPCT_CT_STATE_NAMES;
static const char *const ep_names[] = XDPCT_EP_STATE_NAMES;

static const uint8_t R_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t L_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t R4[4] = { 192, 0, 2, 1 };
static const uint8_t L4[4] = { 192, 0, 2, 2 };
static const uint8_t R6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t L6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static struct xdpct_bpf *skel;
static struct emit_bpf *emit;
static struct ring_buffer *rb;
static int xdp_fd, tcout_fd, emit_fd, cfg_fd, ports_fd, f4_fd, f6_fd, obs4_fd, obs6_fd;
static int pend_fd, ring_fd, evsub_fd, gone_fd;
static struct xdpct_seen seen = { .lock_fd = -1 };

/* ---- utilities ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint16_t port_seq = 30000;

static uint16_t next_port(void)
{
	if (++port_seq > 60000)
		port_seq = 30000;
	return port_seq;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the BPF clock */
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *st_name(unsigned int st)
{
	return st < XDPCT_CT_MAX ? st_names[st] : "?";
}

static const char *ep_name(unsigned int st)
{
	return st < XDPCT_EP_MAX ? ep_names[st] : "?";
}

static void maps_clear(void)
{
	map_clear(f4_fd);
	map_clear(f6_fd);
	map_clear(obs4_fd);
	map_clear(obs6_fd);
	map_clear(pend_fd);
	map_clear(gone_fd);
	if (seen.w)
		xdpct_seen_reset(&seen);
}

static int set_cfg(uint32_t flags)
{
	struct xdpct_config c = {
		.keys = { { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL } },
		.flags = flags,
		.mss4 = 1460,
		.mss6 = 1440,
		.wscale = WSCALE,
		.ttl = 64,
		.key_epoch = 1,
	};
	uint32_t zero = 0;

	return bpf_map_update_elem(cfg_fd, &zero, &c, BPF_ANY);
}

static int set_port(uint32_t port, uint8_t flags)
{
	return bpf_map_update_elem(ports_fd, &port, &flags, BPF_ANY);
}

/* ---- the reader: xdpct_evsub and the ring ---- */

static int evsub_write(uint64_t until_ns, uint64_t lost)
{
	struct xdpct_evsub s = { .until_ns = until_ns, .lost = lost, .pid = (uint32_t)getpid() };
	uint32_t zero = 0;

	return bpf_map_update_elem(evsub_fd, &zero, &s, BPF_ANY);
}

/* A reader claims the events for CLAIM_NS, its lost count at 0. */
static void claim(void)
{
	evsub_write(mono_ns() + CLAIM_NS, 0);
}

static int release(void)
{
	return evsub_write(0, 0);
}

static uint64_t evsub_lost(void)
{
	struct xdpct_evsub s;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(evsub_fd, &zero, &s))
		return UINT64_MAX;
	return s.lost;
}

#define EVLOG_MAX 64
static struct {
	struct xdpct_ct_event ev[EVLOG_MAX];
	int n;          /* kept in ev[] */
	long total;     /* records consumed */
	long bad_size;  /* records not the size of an event */
} evlog;

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size != sizeof(struct xdpct_ct_event)) {
		evlog.bad_size++;
	} else if (evlog.n < EVLOG_MAX) {
		memcpy(&evlog.ev[evlog.n++], data, size);
	}
	evlog.total++;
	return 0;
}

/* Consumes what the ring holds: the number of records. */
static long ev_take(void)
{
	evlog.n = 0;
	evlog.total = 0;
	evlog.bad_size = 0;
	ring_buffer__consume(rb);
	return evlog.total;
}

/* Empties the ring before a check. */
static void drain(void)
{
	ev_take();
}

/* ---- a connection ---- */

struct conn {
	int family;
	uint8_t raddr[16], laddr[16];
	uint16_t rport, lport;
	uint32_t nxt[2]; /* [R], [L]: next seq of each side */
	int err;
	uint32_t ret;
	uint64_t t0, t1; /* the last run, on the BPF clock */
	uint8_t out[PG_MAX_FRAME];
	int out_len;
	char label[80];  /* the last packet, for failure messages */
};

static struct conn C;

static const char *fam(int family)
{
	return family == 4 ? "v4" : "v6";
}

static bool observed_conn(const struct conn *c)
{
	return c->lport != PORT_PROT;
}

static void conn_init(struct conn *c, int family, uint16_t lport)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	memcpy(c->raddr, family == 4 ? R4 : R6, family == 4 ? 4 : 16);
	memcpy(c->laddr, family == 4 ? L4 : L6, family == 4 ? 4 : 16);
	c->rport = next_port();
	c->lport = lport;
	c->nxt[R] = 0x01000000 + (rnd32() & 0x3effffff);
	c->nxt[L] = 0x01000000 + (rnd32() & 0x3effffff);
	maps_clear();
	set_cfg(CFG_BASE);
}

static const uint8_t payload[1400] = { 'x' };

static int craft(const struct conn *c, int side, uint8_t flags, uint32_t seq, uint32_t ack,
		 int plen, uint8_t *buf)
{
	int alen = c->family == 4 ? 4 : 16;
	bool in = side == R;
	struct pg_layout lay;
	struct pg_spec s;
	int n;

	memset(&s, 0, sizeof(s));
	memcpy(s.smac, in ? R_MAC : L_MAC, 6);
	memcpy(s.dmac, in ? L_MAC : R_MAC, 6);
	s.family = c->family;
	memcpy(s.saddr, in ? c->raddr : c->laddr, alen);
	memcpy(s.daddr, in ? c->laddr : c->raddr, alen);
	if (c->family == 4) {
		s.frag_off = 0x4000;
		s.ip_id = (uint16_t)rnd32();
	}
	s.ttl = 64;
	s.sport = in ? c->rport : c->lport;
	s.dport = in ? c->lport : c->rport;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.win = flags & F_SYN ? (in ? 64240 : 65160) : (in ? 501 : 509);
	if (flags & F_SYN) { /* Linux without timestamps: MSS, SACK, WS */
		pgo_mss(&s.opts, c->family == 4 ? 1460 : 1440);
		pgo_nop(&s.opts);
		pgo_nop(&s.opts);
		pgo_sack_perm(&s.opts);
		pgo_nop(&s.opts);
		pgo_ws(&s.opts, in ? 8 : 7);
	}
	s.payload = payload;
	s.payload_len = plen;
	n = pg_build(&s, buf, PG_MAX_FRAME, &lay);
	if (n < 0) {
		fprintf(stderr, "pg_build failed\n");
		exit(2);
	}
	return n;
}

/* A frame through its program: remote -> XDP, local -> TC egress. */
static void run_frame(struct conn *c, int side, const uint8_t *buf, int n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)n,
		    .data_out = c->out, .data_size_out = sizeof(c->out), .repeat = 1);
	struct xdp_md xin, xout;

	if (side == R) {
		memset(&xin, 0, sizeof(xin));
		memset(&xout, 0, sizeof(xout));
		xin.data_end = (uint32_t)n;
		o.ctx_in = &xin;
		o.ctx_size_in = sizeof(xin);
		o.ctx_out = &xout;
		o.ctx_size_out = sizeof(xout);
	}
	c->t0 = mono_ns();
	c->err = bpf_prog_test_run_opts(side == R ? xdp_fd : tcout_fd, &o);
	c->t1 = mono_ns();
	if (c->err)
		c->err = -errno;
	c->ret = o.retval;
	c->out_len = c->err ? 0 : (int)o.data_size_out;
	CK(!c->err, "%s: test_run: %s", c->label, strerror(-c->err));
}

static const char *flags_str(uint8_t f)
{
	static char buf[4][16];
	static int k;
	char *s = buf[k++ & 3];

	snprintf(s, 16, "%s%s%s%s%s", f & F_SYN ? "S" : "", f & F_ACK ? "A" : "",
		 f & F_FIN ? "F" : "", f & F_RST ? "R" : "", f & F_PSH ? "P" : "");
	return s;
}

static void xmit(struct conn *c, int side, uint8_t flags, uint32_t seq, uint32_t ack, int plen)
{
	uint8_t buf[PG_MAX_FRAME];
	int n = craft(c, side, flags, seq, ack, plen, buf);

	snprintf(c->label, sizeof(c->label), "%s %s len %d", side == R ? "in" : "out",
		 flags_str(flags), plen);
	run_frame(c, side, buf, n);
}

/* The side's next segment, acking all the peer sent; advances nxt. */
static void seg(struct conn *c, int side, uint8_t flags, int plen)
{
	xmit(c, side, flags, c->nxt[side], flags & F_ACK ? c->nxt[!side] : 0, plen);
	c->nxt[side] += (uint32_t)plen + !!(flags & F_SYN) + !!(flags & F_FIN);
}

static void conn_key(const struct conn *c, struct xdpct_flow_key *k)
{
	int alen = c->family == 4 ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)c->family;
	k->rport = htons(c->rport);
	k->lport = htons(c->lport);
	memcpy(k->raddr, c->raddr, alen);
	memcpy(k->laddr, c->laddr, alen);
}

static int flow_read(const struct conn *c, struct xdpct_flow *f)
{
	struct xdpct_flow_key k;
	bool obs = observed_conn(c);

	conn_key(c, &k);
	if (c->family == 4) {
		struct xdpct_flow4_key k4;

		xdpct_key_to4(&k, &k4);
		return bpf_map_lookup_elem(obs ? obs4_fd : f4_fd, &k4, f);
	}
	{
		struct xdpct_flow6_key k6;

		xdpct_key_to6(&k, &k6);
		return bpf_map_lookup_elem(obs ? obs6_fd : f6_fd, &k6, f);
	}
}

static const char *key_str(const struct xdpct_flow_key *k)
{
	static char buf[2][160];
	static int i;
	char *b = buf[i++ & 1], ra[INET6_ADDRSTRLEN], la[INET6_ADDRSTRLEN];
	int af = k->family == 4 ? AF_INET : AF_INET6;

	if (k->family != 4 && k->family != 6) {
		snprintf(b, 160, "family %u?", k->family);
		return b;
	}
	inet_ntop(af, k->raddr, ra, sizeof(ra));
	inet_ntop(af, k->laddr, la, sizeof(la));
	snprintf(b, 160, "r %s:%u l %s:%u", ra, ntohs(k->rport), la, ntohs(k->lport));
	return b;
}

static const char *type_str(int t)
{
	return t == XDPCT_EV_NEW ? "NEW" : t == XDPCT_EV_UPDATE ? "UPDATE" :
	       t == XDPCT_EV_DESTROY ? "DESTROY" : "?";
}

/* One event of c's key: its type, reason, old state, evflags (the table's
 * OBSERVED added for observed connections), the entry's state; its
 * snapshot the map entry as it is now (with_map), lock zeroed; its time
 * within the packet's run. */
static void ck_event(const struct conn *c, const struct xdpct_ct_event *e, int i, int type,
		     int reason, int old_state, int state, int evflags, bool with_map)
{
	struct xdpct_flow_key k;
	struct xdpct_flow f;
	int evf = evflags | (observed_conn(c) ? XDPCT_EVF_OBSERVED : 0);

	conn_key(c, &k);
	CK(e->type == type, "%s: event %d: %s, want %s", c->label, i, type_str(e->type),
	   type_str(type));
	CK(!memcmp(&e->key, &k, sizeof(k)), "%s: event %d (%s): key %s, want %s", c->label, i,
	   type_str(e->type), key_str(&e->key), key_str(&k));
	CK(e->reason == reason, "%s: event %d (%s): reason %u, want %d", c->label, i,
	   type_str(e->type), e->reason, reason);
	CK(e->old_state == old_state, "%s: event %d (%s): old_state %s, want %s", c->label, i,
	   type_str(e->type), st_name(e->old_state), st_name((unsigned int)old_state));
	CK(e->evflags == evf, "%s: event %d (%s): evflags 0x%x, want 0x%x", c->label, i,
	   type_str(e->type), e->evflags, evf);
	CK(e->flow.state == state, "%s: event %d (%s): state %s, want %s", c->label, i,
	   type_str(e->type), st_name(e->flow.state), st_name((unsigned int)state));
	CK(e->flow.lock == 0 && e->pad == 0, "%s: event %d: lock %u pad %u", c->label, i,
	   e->flow.lock, e->pad);
	CK(e->ns >= c->t0 && e->ns <= c->t1, "%s: event %d: ns %llu outside the run [%llu, %llu]",
	   c->label, i, (unsigned long long)e->ns, (unsigned long long)c->t0,
	   (unsigned long long)c->t1);
	if (with_map && CK(!flow_read(c, &f), "%s: no entry", c->label)) {
		f.lock = 0;
		CK(!memcmp(&e->flow, &f, sizeof(f)),
		   "%s: event %d (%s): snapshot differs from the entry (state %s/%s, flags "
		   "0x%x/0x%x, packets %u+%u/%u+%u)", c->label, i, type_str(e->type),
		   st_name(e->flow.state), st_name(f.state), e->flow.flags, f.flags,
		   e->flow.packets[0], e->flow.packets[1], f.packets[0], f.packets[1]);
	}
}

/* The events of the last packet: exactly n. */
static bool ck_count(const struct conn *c, long n)
{
	long got = ev_take();

	CK(!evlog.bad_size, "%s: %ld records of a wrong size", c->label, evlog.bad_size);
	return CK(got == n, "%s: %ld events, want %ld%s%s", c->label, got, n,
		  got ? "; first " : "", got ? type_str(evlog.ev[0].type) : "");
}

/* An UPDATE (the only event of the last packet) from old to state, the
 * snapshot's ends as want_r/want_l (-1: not checked). */
static void ck_update(const struct conn *c, int old, int state, int want_r, int want_l)
{
	const struct xdpct_ct_event *e = &evlog.ev[0];

	if (!ck_count(c, 1))
		return;
	ck_event(c, e, 0, XDPCT_EV_UPDATE, 0, old, state, 0, true);
	if (want_r >= 0) {
		int gr = xdpct_ep_state(&e->flow, XDPCT_REMOTE);
		int gl = xdpct_ep_state(&e->flow, XDPCT_LOCAL);

		CK(gr == want_r && gl == want_l, "%s: ends remote/local %s/%s, want %s/%s",
		   c->label, ep_name(gr), ep_name(gl), ep_name(want_r), ep_name(want_l));
	}
}

static void ck_none(const struct conn *c)
{
	ck_count(c, 0);
}

/* ---- the checks ---- */

/* The handshake through an observed port, remote opens, without events. */
static void open_quiet(struct conn *c)
{
	seg(c, R, F_SYN, 0);
	seg(c, L, F_SYN | F_ACK, 0);
	seg(c, R, F_ACK, 0);
}

/* 1. No reader: the entries are made, nothing reaches the ring and
 * nothing counts as lost. Catches a ct_event (or its callers) that skips
 * the evsub check, and a claim check that looks only at a non-zero
 * until_ns (an expired claim must not count). */
static void t_no_reader(int family)
{
	struct conn *c = &C;
	struct xdpct_flow f;

	for (int expired = 0; expired < 2; expired++) {
		ck_begin("ev.%s.no_reader%s", fam(family), expired ? ".expired_claim" : "");
		conn_init(c, family, PORT_OBS);
		drain();
		evsub_write(expired ? mono_ns() - 1000000000ULL : 0, 0);
		open_quiet(c);
		seg(c, R, F_ACK | F_PSH, 100);
		seg(c, R, F_FIN | F_ACK, 0);
		seg(c, L, F_ACK, 0);
		CK(!flow_read(c, &f) && f.state == XDPCT_CT_CLOSE_WAIT,
		   "no entry in CLOSE_WAIT: the packets did not run as expected");
		CK(ev_take() == 0, "%ld events in the ring with no reader (first %s)", evlog.total,
		   type_str(evlog.ev[0].type));
		CK(evsub_lost() == 0, "evsub.lost %llu with no reader",
		   (unsigned long long)evsub_lost());
		ck_end();
	}
}

/* 2+3. A reader: the SYN to an observed port -> one NEW (key with the
 * remote in raddr/rport, state SYN_SENT, OBSERVED, the entry's snapshot);
 * the SYN-ACK out -> UPDATE SYN_SENT -> SYN_RECV; the ACK -> UPDATE
 * ESTABLISHED; data either way -> nothing. Catches raddr/laddr or ports
 * swapped, a missing OBSERVED flag, a snapshot not the inserted entry
 * (tag, counts), UPDATEs lost from tc_out or XDP, an old_state that is not
 * the previous state, and UPDATEs sent for packets that change nothing. */
static void t_open(int family)
{
	struct conn *c = &C;

	conn_init(c, family, PORT_OBS);
	drain();
	claim();
	ck_begin("ev.%s.open.syn_new", fam(family));
	seg(c, R, F_SYN, 0);
	CK(c->ret == XDP_PASS, "SYN: verdict %u", c->ret);
	if (ck_count(c, 1))
		ck_event(c, &evlog.ev[0], 0, XDPCT_EV_NEW, 0, 0, XDPCT_CT_SYN_SENT, 0, true);
	ck_end();
	ck_begin("ev.%s.open.synack_update", fam(family));
	seg(c, L, F_SYN | F_ACK, 0);
	ck_update(c, XDPCT_CT_SYN_SENT, XDPCT_CT_SYN_RECV, -1, -1);
	ck_end();
	ck_begin("ev.%s.open.ack_update", fam(family));
	seg(c, R, F_ACK, 0);
	ck_update(c, XDPCT_CT_SYN_RECV, XDPCT_CT_ESTABLISHED, -1, -1);
	ck_end();
	ck_begin("ev.%s.open.data_no_event", fam(family));
	seg(c, R, F_ACK | F_PSH, 300);
	ck_none(c);
	seg(c, L, F_ACK | F_PSH, 1000);
	ck_none(c);
	seg(c, R, F_ACK, 0);
	ck_none(c);
	CK(evsub_lost() == 0, "evsub.lost %llu", (unsigned long long)evsub_lost());
	ck_end();
}

/* The same from the local side: a SYN out through tc_out -> NEW. Catches
 * a tc_out insert without its event, or its key taken the wrong way round
 * (the remote is the destination there). */
static void t_open_local(int family)
{
	struct conn *c = &C;

	ck_begin("ev.%s.open_local.syn_out_new", fam(family));
	conn_init(c, family, PORT_OBS);
	c->lport = next_port(); /* the local side connects to the observed port */
	c->rport = PORT_OBS;
	drain();
	claim();
	seg(c, L, F_SYN, 0);
	if (ck_count(c, 1))
		ck_event(c, &evlog.ev[0], 0, XDPCT_EV_NEW, 0, 0, XDPCT_CT_SYN_SENT, 0, true);
	seg(c, R, F_SYN | F_ACK, 0);
	ck_update(c, XDPCT_CT_SYN_SENT, XDPCT_CT_SYN_RECV, -1, -1);
	seg(c, L, F_ACK, 0);
	ck_update(c, XDPCT_CT_SYN_RECV, XDPCT_CT_ESTABLISHED, -1, -1);
	ck_end();
}

/* 4. A close, remote first: FIN in -> UPDATE FIN_WAIT (remote FIN_WAIT_1,
 * local CLOSE_WAIT); the FIN sender's own ACK -> nothing moves, no event;
 * the local ACK of the FIN -> UPDATE CLOSE_WAIT (remote FIN_WAIT_2); the
 * local FIN -> UPDATE LAST_ACK (TIME_WAIT / LAST_ACK); the remote's ACK
 * of it -> UPDATE TIME_WAIT (local CLOSED); a late local ACK -> nothing.
 * Catches UPDATEs missing on a state change, events for segments that
 * move nothing (ep_changed taken as always set), wrong old_state, and a
 * snapshot taken before the change (its ends would lag). */
static void t_close(int family)
{
	struct conn *c = &C;

	conn_init(c, family, PORT_OBS);
	drain();
	claim();
	ck_begin("ev.%s.close.open", fam(family));
	open_quiet(c);
	ck_count(c, 3);
	ck_end();
	ck_begin("ev.%s.close.fin_in", fam(family));
	seg(c, R, F_FIN | F_ACK, 0);
	ck_update(c, XDPCT_CT_ESTABLISHED, XDPCT_CT_FIN_WAIT, XDPCT_EP_FIN_WAIT_1,
		  XDPCT_EP_CLOSE_WAIT);
	ck_end();
	ck_begin("ev.%s.close.ack_from_fin_sender_no_event", fam(family));
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L], 0);
	ck_none(c);
	ck_end();
	ck_begin("ev.%s.close.local_ack_of_fin", fam(family));
	seg(c, L, F_ACK, 0);
	ck_update(c, XDPCT_CT_FIN_WAIT, XDPCT_CT_CLOSE_WAIT, XDPCT_EP_FIN_WAIT_2,
		  XDPCT_EP_CLOSE_WAIT);
	ck_end();
	ck_begin("ev.%s.close.local_fin", fam(family));
	seg(c, L, F_FIN | F_ACK, 0);
	ck_update(c, XDPCT_CT_CLOSE_WAIT, XDPCT_CT_LAST_ACK, XDPCT_EP_TIME_WAIT,
		  XDPCT_EP_LAST_ACK);
	ck_end();
	ck_begin("ev.%s.close.last_ack", fam(family));
	seg(c, R, F_ACK, 0);
	ck_update(c, XDPCT_CT_LAST_ACK, XDPCT_CT_TIME_WAIT, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	ck_end();
	ck_begin("ev.%s.close.late_ack_no_event", fam(family));
	seg(c, L, F_ACK, 0);
	ck_none(c);
	ck_end();
}

/* 4b. Crossed FINs (simultaneous close, remote first): the remote's ACK of
 * the local FIN takes the connection to TIME_WAIT with the remote still
 * CLOSING; the local ACK of the remote FIN then leaves the connection in
 * TIME_WAIT but moves the remote end CLOSING -> TIME_WAIT: an UPDATE with
 * old_state == state. Catches an UPDATE sent only when the connection
 * state changes (ct_update_ep's endpoint result ignored). */
static void t_simclose(int family)
{
	struct conn *c = &C;

	conn_init(c, family, PORT_OBS);
	drain();
	claim();
	ck_begin("ev.%s.simclose.fins_cross", fam(family));
	open_quiet(c);
	ck_count(c, 3);
	seg(c, R, F_FIN | F_ACK, 0);
	ck_update(c, XDPCT_CT_ESTABLISHED, XDPCT_CT_FIN_WAIT, XDPCT_EP_FIN_WAIT_1,
		  XDPCT_EP_CLOSE_WAIT);
	/* the local FIN, sent before the remote's arrived */
	xmit(c, L, F_FIN | F_ACK, c->nxt[L], c->nxt[R] - 1, 0);
	c->nxt[L]++;
	ck_update(c, XDPCT_CT_FIN_WAIT, XDPCT_CT_LAST_ACK, XDPCT_EP_CLOSING, XDPCT_EP_CLOSING);
	ck_end();
	ck_begin("ev.%s.simclose.remote_acks", fam(family));
	seg(c, R, F_ACK, 0);
	ck_update(c, XDPCT_CT_LAST_ACK, XDPCT_CT_TIME_WAIT, XDPCT_EP_CLOSING,
		  XDPCT_EP_TIME_WAIT);
	ck_end();
	ck_begin("ev.%s.simclose.local_ack_ends_only", fam(family));
	seg(c, L, F_ACK, 0);
	ck_update(c, XDPCT_CT_TIME_WAIT, XDPCT_CT_TIME_WAIT, XDPCT_EP_TIME_WAIT,
		  XDPCT_EP_TIME_WAIT);
	ck_end();
	ck_begin("ev.%s.simclose.again_no_event", fam(family));
	seg(c, L, F_ACK, 0);
	ck_none(c);
	ck_end();
}

/* 4c. An entry adopted in LAST_ACK (sock_diag gives the state, not which
 * side sent a FIN: no FIN flags, so its ends follow the state) takes the
 * remote's retransmitted FIN: the connection stays in LAST_ACK and the
 * ends now come from the FIN flags, an UPDATE with old_state == state
 * whose ends are the entry's. Catches an end-state comparison skipped
 * when only the segment carries a FIN. */
static void t_adopted_fin(int family)
{
	struct conn *c = &C;
	struct xdpct_flow_key k;
	struct xdpct_flow fl, got;
	int err;

	conn_init(c, family, PORT_OBS);
	drain();
	claim();
	ck_begin("ev.%s.adopted_last_ack.fin_again_ends_moved", fam(family));
	memset(&fl, 0, sizeof(fl));
	fl.first_s = (uint32_t)(mono_ns() / 1000000000ULL) - 5;
	fl.last_tick = (uint32_t)((mono_ns() - 5000000000ULL) >> XDPCT_TICK_SHIFT);
	fl.state = XDPCT_CT_LAST_ACK;
	fl.flags = XDPCT_FLOW_ADOPTED | XDPCT_FLOW_REMOTE_OPENED;
	fl.wscale[R] = fl.wscale[L] = 0xf;
	conn_key(c, &k);
	if (family == 4) {
		struct xdpct_flow4_key k4;

		xdpct_key_to4(&k, &k4);
		fl.tag = xdpct_key_tag4(&k4);
		err = bpf_map_update_elem(obs4_fd, &k4, &fl, BPF_NOEXIST);
	} else {
		struct xdpct_flow6_key k6;

		xdpct_key_to6(&k, &k6);
		fl.tag = xdpct_key_tag6(&k6);
		err = bpf_map_update_elem(obs6_fd, &k6, &fl, BPF_NOEXIST);
	}
	CK(!err, "insert the adopted entry: %s", strerror(errno));
	/* the remote's FIN, sent before we were there: one seq below its next */
	xmit(c, R, F_FIN | F_ACK, c->nxt[R] - 1, c->nxt[L], 0);
	ck_update(c, XDPCT_CT_LAST_ACK, XDPCT_CT_LAST_ACK, -1, -1);
	if (CK(!flow_read(c, &got), "no entry after the FIN") && evlog.n == 1) {
		const struct xdpct_flow *e = &evlog.ev[0].flow;

		CK(got.tcp_flags[R] & F_FIN, "the remote's FIN flag not set: 0x%x",
		   got.tcp_flags[R]);
		CK(xdpct_ep_state(e, XDPCT_REMOTE) == xdpct_ep_state(&got, XDPCT_REMOTE) &&
			   xdpct_ep_state(e, XDPCT_LOCAL) == xdpct_ep_state(&got, XDPCT_LOCAL),
		   "event ends %s/%s, entry's %s/%s", ep_name(xdpct_ep_state(e, XDPCT_REMOTE)),
		   ep_name(xdpct_ep_state(e, XDPCT_LOCAL)),
		   ep_name(xdpct_ep_state(&got, XDPCT_REMOTE)),
		   ep_name(xdpct_ep_state(&got, XDPCT_LOCAL)));
	}
	ck_end();
}

/* 5. A valid cookie ACK on a protected port -> NEW, SYN_RECV, COOKIE |
 * PENDING, not OBSERVED (the SYN before it: a cookie SYN-ACK, no entry, no
 * event); the local side's first segment (its child exists) -> one UPDATE
 * SYN_RECV -> ESTABLISHED. Catches the cookie path's insert without its
 * event, OBSERVED set on the protected tables, the child's UPDATE lost or
 * sent twice (ct_changed and flow_child_made both). */
static void t_cookie(int family)
{
	struct conn *c = &C;
	struct pg_parsed p;

	conn_init(c, family, PORT_PROT);
	drain();
	claim();
	ck_begin("ev.%s.cookie.syn_no_event", fam(family));
	seg(c, R, F_SYN, 0);
	CK(c->ret == XDP_TX, "SYN to a protected port: verdict %u, want XDP_TX", c->ret);
	if (CK(pg_parse(c->out, c->out_len, &p) == 0 && (p.flags & 0x3f) == (F_SYN | F_ACK),
	       "no SYN-ACK out")) {
		c->nxt[L] = p.seq + 1;
	}
	ck_none(c);
	ck_end();
	ck_begin("ev.%s.cookie.ack_new", fam(family));
	seg(c, R, F_ACK, 0);
	CK(c->ret == XDP_PASS, "cookie ACK: verdict %u", c->ret);
	if (ck_count(c, 1)) {
		const struct xdpct_ct_event *e = &evlog.ev[0];
		uint8_t want = XDPCT_FLOW_COOKIE | XDPCT_FLOW_PENDING;

		ck_event(c, e, 0, XDPCT_EV_NEW, 0, 0, XDPCT_CT_SYN_RECV, 0, true);
		CK((e->flow.flags & want) == want, "flags 0x%x, want COOKIE|PENDING",
		   e->flow.flags);
	}
	ck_end();
	ck_begin("ev.%s.cookie.child_update", fam(family));
	seg(c, L, F_ACK | F_PSH, 40);
	ck_update(c, XDPCT_CT_SYN_RECV, XDPCT_CT_ESTABLISHED, -1, -1);
	CK(!(evlog.ev[0].flow.flags & XDPCT_FLOW_PENDING), "still PENDING in the UPDATE");
	ck_end();
}

/* 6. A SYN on a TIME_WAIT entry (remote: XDP; local: tc_out) -> DESTROY
 * (reason CLOSED, old_state TIME_WAIT, NO_COUNTS) then NEW, in this
 * order, both of the new entry. Catches a reopen reported as an UPDATE or
 * not at all, DESTROY and NEW swapped, a wrong reason or missing
 * NO_COUNTS, old_state not the closed entry's. */
static void t_reopen(int family, int side)
{
	struct conn *c = &C;

	conn_init(c, family, PORT_OBS);
	drain();
	claim();
	ck_begin("ev.%s.reopen_time_wait.%s", fam(family), side == R ? "remote" : "local");
	open_quiet(c);
	seg(c, R, F_FIN | F_ACK, 0);
	seg(c, L, F_ACK, 0);
	seg(c, L, F_FIN | F_ACK, 0);
	seg(c, R, F_ACK, 0);
	{
		struct xdpct_flow f;

		CK(!flow_read(c, &f) && f.state == XDPCT_CT_TIME_WAIT, "no TIME_WAIT entry");
	}
	ev_take();
	c->nxt[side] += 100000; /* a new ISN */
	seg(c, side, F_SYN, 0);
	if (ck_count(c, 2)) {
		ck_event(c, &evlog.ev[0], 0, XDPCT_EV_DESTROY, XDPCT_DR_CLOSED,
			 XDPCT_CT_TIME_WAIT, XDPCT_CT_SYN_SENT, XDPCT_EVF_NO_COUNTS, true);
		ck_event(c, &evlog.ev[1], 1, XDPCT_EV_NEW, 0, 0, XDPCT_CT_SYN_SENT, 0, true);
		CK(evlog.ev[0].flow.packets[side] == 1 &&
		   evlog.ev[0].flow.packets[!side] == 0,
		   "DESTROY's snapshot: packets %u/%u, want the new entry's SYN only",
		   evlog.ev[0].flow.packets[0], evlog.ev[0].flow.packets[1]);
	}
	ck_end();
}

/* 7. The ring full: a reader that claims but does not consume, more SYNs
 * than the ring holds -> what fits is in the ring (RING_HOLDS records),
 * the rest counted in evsub.lost, consumed + lost == SYNs; then an emit
 * batch into the full ring sends nothing and counts all of it. Catches a
 * lost increment dropped (data path or xdpct_emit), counted twice, or the
 * ring's size off. */
static void emit_batch(struct xdpct_emit_args *a, uint32_t n, int *err, uint32_t *ret);

static void t_ring_full(void)
{
	struct conn *c = &C;
	uint8_t buf[PG_MAX_FRAME];
	long got, fails = 0;
	uint64_t lost;

	ck_begin("ev.ring_full.lost_counted");
	conn_init(c, 4, PORT_OBS);
	drain();
	claim();
	for (int i = 0; i < FLOOD_SYNS; i++) {
		int n;

		c->rport = (uint16_t)(1024 + i);
		n = craft(c, R, F_SYN, c->nxt[R] + (uint32_t)i, 0, 0, buf);
		snprintf(c->label, sizeof(c->label), "SYN %d", i);
		run_frame(c, R, buf, n);
		fails += c->ret != XDP_PASS;
	}
	CK(!fails, "%ld SYNs not passed", fails);
	lost = evsub_lost();
	CK(map_count(obs4_fd) == FLOOD_SYNS, "%d entries, want %d", map_count(obs4_fd),
	   FLOOD_SYNS);
	ck_end();
	/* xdpct_emit into the full ring: nothing sent, all of it lost */
	ck_begin("ev.ring_full.emit_counts_lost");
	if (CK(emit_fd >= 0, "xdpct_emit did not load (ev.setup.emit_load)")) {
		struct xdpct_emit_args *a = calloc(1, sizeof(*a));
		uint32_t ret = 99;
		int err = 0;

		/* the emit batch's keys: not any flow's */
		for (int i = 0; a && i < 3; i++) {
			a->ev[i].type = XDPCT_EV_DESTROY;
			a->ev[i].key.family = 4;
			a->ev[i].key.rport = htons((uint16_t)(100 + i));
			a->ev[i].key.lport = htons(PORT_OBS);
		}
		if (CK(a, "calloc")) {
			emit_batch(a, 3, &err, &ret);
			CK(!err && ret == 0, "emit into the full ring: err %d, sent %u, want 0", err,
			   ret);
			CK(evsub_lost() == lost + 3, "emit into the full ring: lost %llu -> %llu, "
			   "want +3", (unsigned long long)lost, (unsigned long long)evsub_lost());
			lost = evsub_lost() - 3;
		}
		free(a);
	}
	ck_end();
	ck_begin("ev.ring_full.consumed_plus_lost");
	got = ev_take();
	CK(lost > 0, "nothing lost: the ring held all %d events?", FLOOD_SYNS);
	CK(got + (long)lost == FLOOD_SYNS, "%ld events + %llu lost, want %d SYNs", got,
	   (unsigned long long)lost, FLOOD_SYNS);
	CK(got == (long)RING_HOLDS, "%ld events in the ring, want %zu (%d bytes / %zu)", got,
	   (size_t)RING_HOLDS, XDPCT_CTEVENTS_BYTES, (size_t)EV_RECORD);
	CK(!evlog.bad_size, "%ld records of a wrong size", evlog.bad_size);
	for (int i = 0; i < evlog.n; i++)
		if (!CK(evlog.ev[i].type == XDPCT_EV_NEW &&
			ntohs(evlog.ev[i].key.rport) == 1024 + i,
			"event %d: %s rport %u, want NEW of SYN %d in order", i,
			type_str(evlog.ev[i].type), ntohs(evlog.ev[i].key.rport), i))
			break;
	ck_end();
	maps_clear();
}

/* ---- xdpct_emit ---- */

static void emit_batch(struct xdpct_emit_args *a, uint32_t n, int *err, uint32_t *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = a,
		    .ctx_size_in = (uint32_t)(offsetof(struct xdpct_emit_args, ev) +
					      n * sizeof(a->ev[0])));

	a->n = n;
	*err = bpf_prog_test_run_opts(emit_fd, &o) ? -errno : 0;
	*ret = o.retval;
}

static void rnd_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd32();
}

/* Three DESTROY events as userspace makes them, every byte set. */
static void emit_events(struct xdpct_emit_args *a, int salt)
{
	static const int reasons[3] = { XDPCT_DR_REMOVED, XDPCT_DR_TIMEOUT, XDPCT_DR_CLOSED };

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < 3; i++) {
		struct xdpct_ct_event *e = &a->ev[i];
		bool v6 = i == 1;

		rnd_bytes(e, sizeof(*e));
		e->ns = mono_ns();
		memset(&e->key, 0, sizeof(e->key));
		e->key.family = v6 ? 6 : 4;
		e->key.rport = htons((uint16_t)(20000 + salt * 10 + i));
		e->key.lport = htons(i == 2 ? PORT_OBS : PORT_PROT);
		memcpy(e->key.raddr, v6 ? R6 : R4, v6 ? 16 : 4);
		memcpy(e->key.laddr, v6 ? L6 : L4, v6 ? 16 : 4);
		e->type = XDPCT_EV_DESTROY;
		e->reason = (uint8_t)reasons[i];
		e->evflags = i == 2 ? XDPCT_EVF_OBSERVED : 0;
		e->old_state = (uint8_t)(XDPCT_CT_ESTABLISHED + i);
		e->flow.lock = 0;
	}
}

/* 8. xdpct_emit with a reader: a batch of 3 -> 3 sent, out of the ring in
 * order between the data path's events before and after it, every byte as
 * given, each key in xdpct_gone; without a reader: 0 sent, nothing in the
 * ring, xdpct_gone unchanged, nothing lost. Catches a batch cut short or
 * sent twice, events reordered or altered, the gone insert dropped, and
 * emit sending (or filling gone) with nobody listening. */
static void t_emit(void)
{
	struct xdpct_emit_args *a = calloc(1, sizeof(*a));
	struct conn *c = &C;
	uint32_t ret = 0;
	int err = 0, n_gone;
	__u8 v;

	if (!a || emit_fd < 0) {
		static const char *const names[] = { "reader_batch_in_order", "no_reader",
						      "expired_claim" };

		for (int i = 0; i < 3; i++) {
			ck_begin("ev.emit.%s", names[i]);
			CK(0, "%s", a ? "xdpct_emit did not load (ev.setup.emit_load)" : "calloc");
			ck_end();
		}
		free(a);
		return;
	}
	ck_begin("ev.emit.reader_batch_in_order");
	conn_init(c, 4, PORT_OBS);
	drain();
	claim();
	emit_events(a, 0);
	seg(c, R, F_SYN, 0); /* a data path event before */
	emit_batch(a, 3, &err, &ret);
	CK(!err && ret == 3, "emit: err %d, sent %u, want 3", err, ret);
	seg(c, L, F_SYN | F_ACK, 0); /* and one after */
	if (ck_count(c, 5)) {
		CK(evlog.ev[0].type == XDPCT_EV_NEW, "event 0: %s, want the SYN's NEW",
		   type_str(evlog.ev[0].type));
		for (int i = 0; i < 3; i++)
			CK(!memcmp(&evlog.ev[1 + i], &a->ev[i], sizeof(a->ev[i])),
			   "event %d: not emitted event %d byte for byte (type %s key %s)", 1 + i,
			   i, type_str(evlog.ev[1 + i].type), key_str(&evlog.ev[1 + i].key));
		CK(evlog.ev[4].type == XDPCT_EV_UPDATE, "event 4: %s, want the SYN-ACK's UPDATE",
		   type_str(evlog.ev[4].type));
	}
	for (int i = 0; i < 3; i++)
		CK(!bpf_map_lookup_elem(gone_fd, &a->ev[i].key, &v),
		   "key %d (%s) not in xdpct_gone", i, key_str(&a->ev[i].key));
	CK(map_count(gone_fd) == 3, "xdpct_gone: %d keys, want 3", map_count(gone_fd));
	CK(evsub_lost() == 0, "evsub.lost %llu", (unsigned long long)evsub_lost());
	ck_end();

	ck_begin("ev.emit.no_reader");
	release();
	drain();
	n_gone = map_count(gone_fd);
	emit_events(a, 1);
	emit_batch(a, 3, &err, &ret);
	CK(!err && ret == 0, "emit with no reader: err %d, sent %u, want 0", err, ret);
	CK(ev_take() == 0, "%ld events in the ring", evlog.total);
	CK(map_count(gone_fd) == n_gone, "xdpct_gone: %d keys, want the %d of before",
	   map_count(gone_fd), n_gone);
	for (int i = 0; i < 3; i++)
		CK(bpf_map_lookup_elem(gone_fd, &a->ev[i].key, &v),
		   "key %d (%s) put in xdpct_gone with no reader", i, key_str(&a->ev[i].key));
	CK(evsub_lost() == 0, "evsub.lost %llu with no reader", (unsigned long long)evsub_lost());
	ck_end();

	ck_begin("ev.emit.expired_claim");
	evsub_write(mono_ns() - 1000000000ULL, 0);
	emit_batch(a, 3, &err, &ret);
	CK(!err && ret == 0, "emit with an expired claim: err %d, sent %u, want 0", err, ret);
	CK(ev_take() == 0, "%ld events in the ring", evlog.total);
	ck_end();
	free(a);
	maps_clear();
}

/* ---- re-adoption from a kernel socket (in a netns of this process) ---- */

#define LIVE4 LIVENS_ADDR4
#define LIVE6 LIVENS_ADDR6


/* A connection on lo to the protected port: fds[3] listener, client,
 * server; its conn (remote = the client). 0 or -1. */
static int live_open(int family, int fds[3], struct conn *c, char *why, size_t wlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = family == 4 ? sizeof(*s4) : sizeof(*s6);
	int af = family == 4 ? AF_INET : AF_INET6, one = 1;

	fds[0] = fds[1] = fds[2] = -1;
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(PORT_PROT);
		memcpy(&s4->sin_addr, LIVE4, 4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(PORT_PROT);
		memcpy(&s6->sin6_addr, LIVE6, 16);
	}
	fds[0] = socket(af, SOCK_STREAM, 0);
	fds[1] = socket(af, SOCK_STREAM, 0);
	if (fds[0] < 0 || fds[1] < 0 ||
	    setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fds[0], (struct sockaddr *)&ss, sl) || listen(fds[0], 8) ||
	    connect(fds[1], (struct sockaddr *)&ss, sl) ||
	    (fds[2] = accept(fds[0], NULL, NULL)) < 0 ||
	    getsockname(fds[1], (struct sockaddr *)&ss, &sl)) {
		snprintf(why, wlen, "listen/connect on lo: %s", strerror(errno));
		return -1;
	}
	conn_init(c, family, PORT_PROT);
	memcpy(c->raddr, family == 4 ? LIVE4 : LIVE6, family == 4 ? 4 : 16);
	memcpy(c->laddr, c->raddr, 16);
	c->rport = ntohs(family == 4 ? s4->sin_port : s6->sin6_port);
	return 0;
}

static void live_close(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* No entry, the key's bit set (it had one): an ACK from the client ->
 * entry made from the server socket (readopt). */
static void readopt_ack(struct conn *c)
{
	struct xdpct_flow_key k;
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	map_clear(c->family == 4 ? f4_fd : f6_fd);
	conn_key(c, &k);
	if (c->family == 4) {
		xdpct_key_to4(&k, &k4);
		xdpct_seen_set4(&seen, &k4);
	} else {
		xdpct_key_to6(&k, &k6);
		xdpct_seen_set6(&seen, &k6);
	}
	/* its numbers do not matter: the entry comes from the socket first */
	xmit(c, R, F_ACK, rnd32(), rnd32(), 0);
}

/* 9. readopt: key not in xdpct_gone -> DESTROY (EVICTED, NO_COUNTS,
 * old_state the socket's) then NEW; key in xdpct_gone (userspace removed
 * the entry and said so through xdpct_emit) -> NEW only, the gone key
 * deleted; no reader -> the entry, no event. Catches readopt reported as
 * EVICTED after a userspace removal (gone not looked up), or never
 * reported as EVICTED, the gone key kept (a later LRU eviction of the
 * same key would not be reported), NEW before DESTROY, events with no
 * reader. */
static void t_readopt(int family)
{
	struct conn *c = &C;
	struct xdpct_flow_key gk;
	char why[200];
	int fds[3];
	__u8 v;

	if (live_open(family, fds, c, why, sizeof(why))) {
		ck_skip("ev.readopt", why);
		live_close(fds);
		return;
	}
	ck_begin("ev.%s.readopt.evicted", fam(family));
	drain();
	claim();
	readopt_ack(c);
	if (ck_count(c, 2)) {
		ck_event(c, &evlog.ev[0], 0, XDPCT_EV_DESTROY, XDPCT_DR_EVICTED,
			 XDPCT_CT_ESTABLISHED, XDPCT_CT_ESTABLISHED, XDPCT_EVF_NO_COUNTS, false);
		ck_event(c, &evlog.ev[1], 1, XDPCT_EV_NEW, 0, 0, XDPCT_CT_ESTABLISHED, 0, false);
		CK(evlog.ev[0].flow.flags & evlog.ev[1].flow.flags & XDPCT_FLOW_ADOPTED,
		   "not ADOPTED: flags 0x%x", evlog.ev[1].flow.flags);
		CK(!memcmp(&evlog.ev[0].flow, &evlog.ev[1].flow, sizeof(evlog.ev[0].flow)),
		   "DESTROY and NEW: different snapshots");
	}
	CK(!flow_read(c, &(struct xdpct_flow){ 0 }), "no entry re-adopted");
	ck_end();

	ck_begin("ev.%s.readopt.removed_by_userspace", fam(family));
	/* userspace removed the entry and said so: its key in xdpct_gone, as
	 * xdpct_emit leaves it (ev.emit.* check that part) */
	conn_key(c, &gk);
	v = 1;
	CK(!bpf_map_update_elem(gone_fd, &gk, &v, BPF_ANY), "gone insert: %s", strerror(errno));
	readopt_ack(c);
	if (ck_count(c, 1))
		ck_event(c, &evlog.ev[0], 0, XDPCT_EV_NEW, 0, 0, XDPCT_CT_ESTABLISHED, 0, false);
	CK(bpf_map_lookup_elem(gone_fd, &gk, &v), "the key still in xdpct_gone");
	ck_end();

	ck_begin("ev.%s.readopt.no_reader", fam(family));
	release();
	readopt_ack(c);
	CK(!flow_read(c, &(struct xdpct_flow){ 0 }), "no entry re-adopted");
	CK(ev_take() == 0, "%ld events with no reader", evlog.total);
	CK(evsub_lost() == 0, "evsub.lost %llu", (unsigned long long)evsub_lost());
	ck_end();
	live_close(fds);
	maps_clear();
}

/* ---- setup and main ---- */

static int setup(void)
{
	struct bpf_map *map, *em[3];
	int err, fds[3];

	ck_begin("ev.setup.load");
	skel = xdpct_bpf__open();
	if (!CK(skel, "xdpct_bpf__open: %s", strerror(errno)))
		return ck_end(), -1;
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__set_pin_path(map, NULL), "unpin %s", bpf_map__name(map));
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows4, 1024), "flows4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows6, 1024), "flows6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_pending, 1024), "pending max_entries");
	/* the ring-full check's SYNs all get an entry */
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed4, 4 * FLOOD_SYNS),
	   "observed4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed6, 1024), "observed6 max_entries");
	err = xdpct_bpf__load(skel);
	if (!CK(!err, "xdpct_bpf__load: %s", strerror(-err)))
		return ck_end(), -1;
	xdp_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	tcout_fd = bpf_program__fd(skel->progs.xdpct_tc_out);
	cfg_fd = bpf_map__fd(skel->maps.xdpct_config);
	ports_fd = bpf_map__fd(skel->maps.xdpct_ports);
	f4_fd = bpf_map__fd(skel->maps.xdpct_flows4);
	f6_fd = bpf_map__fd(skel->maps.xdpct_flows6);
	obs4_fd = bpf_map__fd(skel->maps.xdpct_observed4);
	obs6_fd = bpf_map__fd(skel->maps.xdpct_observed6);
	pend_fd = bpf_map__fd(skel->maps.xdpct_pending);
	ring_fd = bpf_map__fd(skel->maps.xdpct_ctevents);
	evsub_fd = bpf_map__fd(skel->maps.xdpct_evsub);
	gone_fd = bpf_map__fd(skel->maps.xdpct_gone);
	err = xdpct_seen_map(bpf_map__fd(skel->maps.xdpct_seen), NULL, &seen);
	CK(!err, "mmap of xdpct_seen: %s", strerror(-err));

	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__is_pinned(map), "map %s pinned", bpf_map__name(map));
	rb = ring_buffer__new(ring_fd, ev_cb, NULL, NULL);
	CK(rb, "ring_buffer__new: %s", strerror(errno));
	CK(!set_cfg(CFG_BASE), "config write: %s", strerror(errno));
	CK(!set_port(PORT_PROT, XDPCT_PORT_PROTECT) && !set_port(PORT_OBS, XDPCT_PORT_OBSERVE),
	   "ports write: %s", strerror(errno));
	CK(!release(), "evsub write: %s", strerror(errno));
	if (!ck_end())
		return -1;

	/* the syscall program on the same three maps, nothing pinned. Its
	 * failure to load is a failure of its own (user/ctev.c gives up on
	 * the emitter quietly: no userspace DESTROY event would ever be
	 * sent); the data path's checks go on without it. */
	ck_begin("ev.setup.emit_load");
	emit_fd = -1;
	emit = emit_bpf__open();
	if (!CK(emit, "emit_bpf__open: %s", strerror(errno)))
		return ck_end(), 0;
	em[0] = emit->maps.xdpct_ctevents;
	em[1] = emit->maps.xdpct_evsub;
	em[2] = emit->maps.xdpct_gone;
	fds[0] = ring_fd;
	fds[1] = evsub_fd;
	fds[2] = gone_fd;
	for (int i = 0; i < 3; i++)
		CK(!bpf_map__set_pin_path(em[i], NULL) && !bpf_map__reuse_fd(em[i], fds[i]),
		   "reuse %s: %s", bpf_map__name(em[i]), strerror(errno));
	err = emit_bpf__load(emit);
	if (!CK(!err, "emit_bpf__load: %s (the verifier's log: above, on stderr)",
		strerror(-err)))
		return ck_end(), 0;
	emit_fd = bpf_program__fd(emit->progs.xdpct_emit);
	bpf_object__for_each_map(map, emit->obj)
		CK(!bpf_map__is_pinned(map), "map %s pinned", bpf_map__name(map));
	ck_end();
	return 0;
}

static void teardown(void)
{
	if (evsub_fd > 0)
		release();
	ring_buffer__free(rb);
	emit_bpf__destroy(emit);
	xdpct_bpf__destroy(skel);
}

int main(void)
{
	uint64_t t0 = mono_ns();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		ck_skip("ev", "needs root (BPF_PROG_TEST_RUN, map creation)");
		return ck_finish("test_events");
	}
	if (setup()) {
		teardown();
		return ck_finish("test_events");
	}
	for (int f = 4; f <= 6; f += 2) {
		t_no_reader(f);
		t_open(f);
		t_open_local(f);
		t_close(f);
		t_simclose(f);
		t_adopted_fin(f);
		t_cookie(f);
		t_reopen(f, R);
		t_reopen(f, L);
	}
	t_ring_full();
	t_emit();
	/* the last checks: this process in a network namespace of its own */
	{
		char why[200];

		if (livens_setup(why, sizeof(why))) {
			ck_skip("ev.readopt", why);
		} else {
			t_readopt(4);
			t_readopt(6);
		}
	}
	teardown();
	ck_note("%.2f s", (mono_ns() - t0) / 1e9);
	return ck_finish("test_events");
}
