// SPDX-License-Identifier: GPL-2.0
/* Connection tracking through BPF_PROG_TEST_RUN: packet sequences, remote
 * side (ingress) through xdpct_xdp, local side (egress) through
 * xdpct_tc_out, the flow entry read and compared after every packet.
 *
 * Expected entries come from a model kept here of netfilter's window
 * tracking as docs/conntrack.md states it ("What a segment must pass"):
 * per side end, maxend, maxwin, maxack; the flag check; the four window
 * checks I-IV; a remote RST exact, challenged or outside; a SYN-ACK acks
 * the SYN exactly; the local stack's segments always apply; ignored
 * segments only count. The transition table itself is include/xdpct.h's
 * (data, not code); expected states are written in each case from the
 * docs' tables, never from bpf/conntrack.h. A packet the flow refuses
 * must leave the entry as it was, its idle time included. Maps are not
 * pinned. */
#define _GNU_SOURCE /* unshare() */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/tcp.h>
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
#include "check.h"
#include "pktgen.h"
#include "maputil.h"
#include "livens.h"
#include "xdpct_seen.h"
#include "xdpct_stats.h"

#define S(x) XDPCT_STAT_##x
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

/* The SYNs here have no timestamps: NOTS_OPTIONS keeps the window scale of
 * cookie flows, whose tracking these tests follow. */
#define CFG_BASE (XDPCT_CFG_ENABLED | XDPCT_CFG_SACK | XDPCT_CFG_TIMESTAMPS | \
		  XDPCT_CFG_WSCALE | XDPCT_CFG_ECN | XDPCT_CFG_NOTS_OPTIONS)
#define WSCALE 7       /* the shift our cookie SYN-ACKs advertise */
#define PORT_PROT 80   /* XDPCT_PORT_PROTECT */
#define PORT_OBS 8080  /* XDPCT_PORT_OBSERVE */
#define PORT_PLAIN 443 /* no bit: tracked only under TRACK_ALL */
#define PORT_PLAIN2 9000
#define TC_OK 0        /* TC_ACT_OK */
#define R 0            /* XDPCT_REMOTE */
#define L 1            /* XDPCT_LOCAL */

#define STAT_NAME(id, name, help) #name,
static const char *const stat_name[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_NAME) };
#define STAT_ID(id, name, help) #id,
static const char *const stat_id[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_ID) };
static const char *const st_names[] = XDPCT_CT_STATE_NAMES;

static const uint8_t R_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t L_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t R4[4] = { 192, 0, 2, 1 };
static const uint8_t L4[4] = { 192, 0, 2, 2 };
static const uint8_t R6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t L6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static struct xdpct_bpf *skel;
static int xdp_fd, tcout_fd, cfg_fd, ports_fd, f4_fd, f6_fd, pend_fd, stats_fd, ncpu;
static int obs4_fd, obs6_fd;
static struct xdpct_seen seen = { .lock_fd = -1 }; /* xdpct_seen, mmap()ed */
static int n_runs, n_inv_bad;
static char inv_first[400];

/* ---- utilities ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* ISNs below 2^31 unless a case asks for high ones (see ct.*.high_isn) */
static uint32_t low_isn(void)
{
	return 0x01000000 + (rnd32() & 0x3effffff);
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

static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static const char *st_name(unsigned int st)
{
	return st < XDPCT_CT_MAX ? st_names[st] : "?";
}

static const char *flags_str(uint8_t f)
{
	static char buf[4][40];
	static int k;
	char *s = buf[k++ & 3];

	snprintf(s, 40, "%s%s%s%s%s%s", f & F_SYN ? "S" : "", f & F_ACK ? "A" : "",
		 f & F_FIN ? "F" : "", f & F_RST ? "R" : "", f & F_PSH ? "P" : "",
		 f & ~(F_SYN | F_ACK | F_FIN | F_RST | F_PSH) ? "+" : "");
	if (!s[0])
		strcpy(s, "none");
	return s;
}

/* ---- maps ---- */

static void stats_read(uint64_t out[XDPCT_STAT_MAX])
{
	xdpct_stats_sum(stats_fd, out); /* zeros on failure */
}

static void maps_clear(void)
{
	map_clear(f4_fd);
	map_clear(f6_fd);
	map_clear(obs4_fd);
	map_clear(obs6_fd);
	map_clear(pend_fd);
	/* no entries, no bits: a new tuple's first SYN skips the lookup */
	if (seen.w)
		xdpct_seen_reset(&seen);
}

static int set_cfg(uint32_t flags)
{
	struct xdpct_config c = {
		/* one key for every slot (key_sel 0) */
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

/* ---- a connection and the model of its entry ---- */

enum kind { K_OBS, K_PROT, K_ALL };
static const char *const kind_name[] = { "obs", "prot", "all" };

struct run {
	int side;
	uint8_t flags;
	uint32_t seq, ack, ip_len;
	int plen;
	uint16_t win;
	int ws;
	int err;
	uint32_t ret;
	int64_t d[XDPCT_STAT_MAX];
	uint8_t out[PG_MAX_FRAME];
	int out_len, meta_len;
	uint8_t in[PG_MAX_FRAME]; /* the frame sent */
	int in_len;
	uint64_t t0, t1;
	char what[160]; /* the packet, for failure messages */
};

struct conn {
	char name[120];  /* check prefix */
	char label[60];  /* step, in failure messages of quiet sequences */
	bool quiet;      /* steps share one check */
	int family, kind;
	uint8_t raddr[16], laddr[16];
	uint16_t rport, lport;
	uint32_t isn[2], nxt[2]; /* [R], [L]: ISN and next seq of each side */
	uint16_t win[2], synwin[2];
	int ws[2];       /* shift in the side's SYN; -1: none */
	bool exists;     /* an entry is expected */
	struct xdpct_flow want;
	struct run r;
	bool csum_bad;   /* the next packet's TCP checksum is wrong */
	bool others;     /* other entries share the maps: only this one counted */
	uint32_t cookie;
};

static struct conn C; /* the one in use; big, so static */

static const char *fam(int family)
{
	return family == 4 ? "v4" : "v6";
}

static void conn_init(struct conn *c, int family, int kind, bool remote_opens,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void conn_init(struct conn *c, int family, int kind, bool remote_opens,
		      const char *fmt, ...)
{
	va_list ap;

	ck_end();
	memset(c, 0, sizeof(*c));
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->family = family;
	c->kind = kind;
	memcpy(c->raddr, family == 4 ? R4 : R6, family == 4 ? 4 : 16);
	memcpy(c->laddr, family == 4 ? L4 : L6, family == 4 ? 4 : 16);
	if (kind == K_PROT) {
		c->lport = PORT_PROT;
		c->rport = next_port();
	} else if (remote_opens) {
		c->lport = kind == K_OBS ? PORT_OBS : PORT_PLAIN2;
		c->rport = next_port();
	} else {
		c->lport = next_port();
		c->rport = kind == K_OBS ? PORT_OBS : PORT_PLAIN;
	}
	c->isn[R] = low_isn();
	c->isn[L] = low_isn();
	c->nxt[R] = c->isn[R];
	c->nxt[L] = c->isn[L];
	c->synwin[R] = 64240;
	c->synwin[L] = 65160;
	c->win[R] = 501;
	c->win[L] = 509;
	c->ws[R] = 8;
	c->ws[L] = 7;
	maps_clear();
	set_cfg(CFG_BASE | (kind == K_ALL ? XDPCT_CFG_TRACK_ALL : 0));
}

/* A step: its own check, or (quiet) a label inside the sequence's check. */
static void step(struct conn *c, const char *label)
{
	snprintf(c->label, sizeof(c->label), "%s", label);
	if (c->quiet)
		return;
	ck_end();
	ck_begin("%s.%s", c->name, label);
}

/* One check for a whole sequence (setup steps, then the case). */
static void quiet_begin(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void quiet_begin(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char n[200];

	va_start(ap, fmt);
	vsnprintf(n, sizeof(n), fmt, ap);
	va_end(ap);
	ck_end();
	ck_begin("%s", n);
	c->quiet = true;
}

#define CKC(c, cond, fmt, ...) \
	CK(cond, "%s%s%s" fmt, (c)->quiet ? "[" : "", (c)->quiet ? (c)->label : "", \
	   (c)->quiet ? "] " : "", ##__VA_ARGS__)

/* ---- packets ---- */

static const uint8_t payload[1400] = { 'x' };

static int craft(const struct conn *c, int side, uint8_t flags, uint32_t seq, uint32_t ack,
		 int plen, uint8_t *buf, uint16_t *win, int *ws)
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
	s.win = flags & F_SYN ? c->synwin[side] : c->win[side];
	*ws = -1;
	if (flags & F_SYN) { /* Linux without timestamps: MSS, SACK, WS */
		pgo_mss(&s.opts, c->family == 4 ? 1460 : 1440);
		pgo_nop(&s.opts);
		pgo_nop(&s.opts);
		pgo_sack_perm(&s.opts);
		if (c->ws[side] >= 0) {
			pgo_nop(&s.opts);
			pgo_ws(&s.opts, (uint8_t)c->ws[side]);
			*ws = c->ws[side];
		}
	}
	s.payload = payload;
	s.payload_len = plen;
	*win = s.win;
	n = pg_build(&s, buf, PG_MAX_FRAME, &lay);
	if (n < 0) {
		fprintf(stderr, "pg_build failed\n");
		exit(2);
	}
	if (c->csum_bad) /* one bit off: as a partial (offloaded) sum looks */
		buf[lay.l4_off + 17] ^= 0x40;
	return n;
}

static const char *moved(const int64_t *d)
{
	static char buf[2][400];
	static int k;
	char *b = buf[k++ & 1];
	int n = 0;

	b[0] = 0;
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		if (d[i] && n < 340)
			n += snprintf(b + n, 400 - n, "%s%s%+lld", n ? "," : "", stat_name[i],
				      (long long)d[i]);
	return n ? b : "none";
}

/* Sends one packet of side through its program: remote -> XDP, local ->
 * TC egress. Records it in c->r. Checks the per-program invariants. */
static void xmit(struct conn *c, int side, uint8_t flags, uint32_t seq, uint32_t ack, int plen)
{
	uint64_t before[XDPCT_STAT_MAX], after_[XDPCT_STAT_MAX];
	struct run *r = &c->r;
	uint8_t buf[PG_MAX_FRAME];
	struct xdp_md xin, xout;
	char why[300] = "";
	int64_t vsum = 0;
	int n;

	memset(r, 0, offsetof(struct run, out));
	n = craft(c, side, flags, seq, ack, plen, buf, &r->win, &r->ws);
	c->csum_bad = false;
	memcpy(r->in, buf, (size_t)n);
	r->in_len = n;
	r->side = side;
	r->flags = flags;
	r->seq = seq;
	r->ack = ack;
	r->plen = plen;
	r->ip_len = (uint32_t)(n - 14);
	snprintf(r->what, sizeof(r->what), "%s %s seq %u ack %u len %d",
		 side == R ? "in" : "out", flags_str(flags), seq, ack, plen);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)n,
			    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

		if (side == R) {
			memset(&xin, 0, sizeof(xin));
			memset(&xout, 0, sizeof(xout));
			xin.data_end = (uint32_t)n;
			o.ctx_in = &xin;
			o.ctx_size_in = sizeof(xin);
			o.ctx_out = &xout;
			o.ctx_size_out = sizeof(xout);
		}
		stats_read(before);
		r->t0 = mono_ns();
		r->err = bpf_prog_test_run_opts(side == R ? xdp_fd : tcout_fd, &o);
		r->t1 = mono_ns();
		if (r->err)
			r->err = -errno;
		stats_read(after_);
		r->ret = o.retval;
		r->out_len = r->err ? 0 : (int)o.data_size_out;
		r->meta_len = r->err || side != R ? 0 : (int)xout.data;
	}
	n_runs++;
	for (int i = 0; i < XDPCT_STAT_MAX; i++) {
		r->d[i] = (int64_t)(after_[i] - before[i]);
		if (!strncmp(stat_id[i], "V_", 2))
			vsum += r->d[i];
	}
	if (r->err)
		snprintf(why, sizeof(why), "test_run: %s", strerror(-r->err));
	else if (side == R && (vsum != 1 || r->d[S(XDP_PACKETS)] != 1 ||
			       r->d[S(TC_OUT_PACKETS)]))
		snprintf(why, sizeof(why), "XDP: %lld verdict counters, want 1 (%s)",
			 (long long)vsum, moved(r->d));
	else if (side == L && (vsum || r->d[S(XDP_PACKETS)] || r->d[S(TC_OUT_PACKETS)] != 1))
		snprintf(why, sizeof(why), "TC egress moved XDP counters or not tc_out_packets (%s)",
			 moved(r->d));
	if (why[0]) {
		if (!n_inv_bad++)
			snprintf(inv_first, sizeof(inv_first), "%s: %s: %s", ck.name, r->what, why);
		CKC(c, 0, "%s: %s", r->what, why);
	}
}

/* The side's next segment, acking all the peer has sent; advances nxt. */
static void seg(struct conn *c, int side, uint8_t flags, int plen)
{
	xmit(c, side, flags, c->nxt[side], flags & F_ACK ? c->nxt[!side] : 0, plen);
	c->nxt[side] += (uint32_t)plen + !!(flags & F_SYN) + !!(flags & F_FIN);
}

/* ---- model ---- */

static void key4(const struct conn *c, struct xdpct_flow4_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(&k->raddr, c->raddr, 4);
	memcpy(&k->laddr, c->laddr, 4);
	k->rport = htons(c->rport);
	k->lport = htons(c->lport);
}

static void key6(const struct conn *c, struct xdpct_flow6_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->raddr, c->raddr, 16);
	memcpy(k->laddr, c->laddr, 16);
	k->rport = htons(c->rport);
	k->lport = htons(c->lport);
}

/* The local port decides the table (docs/conntrack.md, Which table):
 * protected -> xdpct_flows4/6, else xdpct_observed4/6. */
static bool in_observed(const struct conn *c)
{
	return c->lport != PORT_PROT;
}

static int flow_read(const struct conn *c, struct xdpct_flow *f)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		return bpf_map_lookup_elem(in_observed(c) ? obs4_fd : f4_fd, &k4, f);
	}
	key6(c, &k6);
	return bpf_map_lookup_elem(in_observed(c) ? obs6_fd : f6_fd, &k6, f);
}

/* The tag the entry of c's key must carry. */
static uint32_t key_tag(const struct conn *c)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		return xdpct_key_tag4(&k4);
	}
	key6(c, &k6);
	return xdpct_key_tag6(&k6);
}

static int flows_total(void)
{
	return map_count(f4_fd) + map_count(f6_fd) + map_count(obs4_fd) + map_count(obs6_fd);
}

static uint8_t seen_flag(int side)
{
	return side == R ? XDPCT_FLOW_SEEN_REMOTE : XDPCT_FLOW_SEEN_LOCAL;
}

static uint8_t ws_of(int ws)
{
	return ws < 0 ? 0xf : ws > 14 ? 14 : (uint8_t)ws;
}

/* The transition table is data shared with the programs (include/xdpct.h,
 * the one definition); what the model adds around it is written from
 * docs/conntrack.md and netfilter's tcp_in_window(). */
static const uint8_t ct_table[2][XDPCT_PKT_MAX][XDPCT_CT_MAX] = XDPCT_CT_TABLE;

/* netfilter's valid flag combinations, PSH, ECE and CWR aside (docs 1) */
static bool flags_valid(uint8_t fl)
{
	switch (fl & ~(F_PSH | F_ECE | F_CWR)) {
	case F_SYN: case F_SYN | F_URG: case F_SYN | F_ACK: case F_RST: case F_RST | F_ACK:
	case F_FIN | F_ACK: case F_FIN | F_ACK | F_URG: case F_ACK: case F_ACK | F_URG:
		return true;
	}
	return false;
}

/* netfilter's get_conntrack_index() */
static unsigned int pkt_class(uint8_t fl)
{
	if (fl & F_RST)
		return XDPCT_PKT_RST;
	if (fl & F_SYN)
		return fl & F_ACK ? XDPCT_PKT_SYNACK : XDPCT_PKT_SYN;
	if (fl & F_FIN)
		return XDPCT_PKT_FIN;
	if (fl & F_ACK)
		return XDPCT_PKT_ACK;
	return XDPCT_PKT_NONE;
}

/* What the model says of a segment. */
enum mres { M_OK, M_IGNORE, M_INVALID, M_SEQ, M_ACK, M_RST_WIN, M_RST_CHAL, M_REOPEN, M_MAX };
static const char *const mres_name[M_MAX] = {
	"accepted", "ignored", "invalid", "seq_window", "ack_window", "rst_window",
	"rst_challenge", "reopened",
};

struct mseg {
	int side;
	uint8_t flags;
	uint32_t seq, ack, len, ip_len;
	uint16_t win;
	int ws; /* the SYN's shift; -1: none */
};



/* A side's windows scale once both SYNs offered a shift (RFC 7323). */
static uint32_t scale_of(const struct xdpct_flow *f, int side)
{
	return f->wscale[R] == 0xf || f->wscale[L] == 0xf ? 0 : f->wscale[side];
}

/* The entry an opening SYN makes (or remakes on a closed entry): the
 * sender's numbers from it, nothing known of the other side. Tag kept. */
static void model_init_syn(struct xdpct_flow *f, const struct mseg *s)
{
	uint32_t tag = f->tag, end = s->seq + s->len + 1;

	memset(f, 0, sizeof(*f));
	f->tag = tag;
	f->state = XDPCT_CT_SYN_SENT;
	f->flags = seen_flag(s->side) | (s->side == R ? XDPCT_FLOW_REMOTE_OPENED : 0);
	f->wscale[s->side] = ws_of(s->ws);
	f->wscale[!s->side] = 0xf;
	f->tcp_flags[s->side] = s->flags;
	f->dir[s->side] = (struct xdpct_dir){ end, end, s->win ? s->win : 1, 0 };
	f->packets[s->side] = 1;
	f->bytes[s->side] = s->ip_len;
}

/* Segment s on entry f0 (docs/conntrack.md, What a segment must pass):
 * the result, and in *f the entry after it (f0 again when refused). */
static int model_seg(const struct xdpct_flow *f0, const struct mseg *s, struct xdpct_flow *f)
{
	int S = s->side, Rv = !s->side, res = M_OK;
	bool syn = s->flags & F_SYN, has_ack = s->flags & F_ACK, rst = s->flags & F_RST;
	bool fin = s->flags & F_FIN, local = S == L, snd_seen, rcv_seen;
	unsigned int st = f0->state, dir, pkt, ns;
	uint32_t seq = s->seq, ack = s->ack, end, w;
	struct xdpct_dir snd, rcv;

	*f = *f0;
	if (!flags_valid(s->flags) || st >= XDPCT_CT_MAX)
		return M_INVALID;
	if (syn && !has_ack && (st == XDPCT_CT_TIME_WAIT || st == XDPCT_CT_CLOSE)) {
		model_init_syn(f, s);
		return M_REOPEN;
	}
	dir = (S == R) == !!(f->flags & XDPCT_FLOW_REMOTE_OPENED) ? XDPCT_DIR_ORIG : XDPCT_DIR_REPLY;
	pkt = pkt_class(s->flags);
	ns = ct_table[dir][pkt][st];
	if (ns == XDPCT_CT_INVALID)
		return M_INVALID;
	if (ns == XDPCT_CT_IGNORE) { /* counted, no window tracking */
		f->packets[S]++;
		f->bytes[S] += s->ip_len;
		return M_IGNORE;
	}
	snd = f->dir[S];
	rcv = f->dir[Rv];
	snd_seen = f->flags & seen_flag(S);
	rcv_seen = f->flags & seen_flag(Rv);
	end = seq + s->len + syn + fin;
	/* a side's first segment gives its numbers; a SYN again with a higher
	 * ISN from the side still opening restarts them */
	if (!snd_seen) {
		if (syn) {
			snd.end = snd.maxend = end;
			snd.maxwin = s->win ? s->win : 1;
		} else { /* mid-stream (netfilter's pickup) */
			w = (uint32_t)s->win << scale_of(f, S);
			snd.end = end;
			snd.maxwin = w ? w : 1;
			snd.maxend = end + snd.maxwin;
			if (!rcv_seen)
				rcv.end = rcv.maxend = ack;
		}
	} else if (syn && after(end, snd.end) &&
		   ((st == XDPCT_CT_SYN_SENT && dir == XDPCT_DIR_ORIG) ||
		    (st == XDPCT_CT_SYN_RECV && dir == XDPCT_DIR_REPLY))) {
		snd.end = snd.maxend = end;
		snd.maxwin = s->win ? s->win : 1;
	}
	if (!(syn && !has_ack && !snd_seen)) { /* a first SYN has nothing to meet */
		uint32_t maxackwin = snd.maxwin > 66000 ? snd.maxwin : 66000;

		if (!has_ack || (rst && ack == 0))
			ack = rcv.end; /* no ACK: as if it acked all */
		if (seq == end && !rst)
			seq = end = snd.end; /* no data: its ack alone is checked */
		if (after(seq, snd.maxend) || (rcv.maxwin && !after(end, snd.end - rcv.maxwin - 1)))
			res = rst ? M_RST_WIN : M_SEQ; /* I, II */
		else if (after(ack, rcv.end) || !after(ack, rcv.end - maxackwin - 1))
			res = M_ACK; /* III, IV */
		else if (syn && has_ack && rcv_seen && ack != rcv.end)
			res = M_ACK; /* a SYN-ACK acks exactly the SYN */
		seq = s->seq;
		if (res != M_OK && !local)
			return res;
		res = M_OK; /* the local stack's own segments always apply */
	}
	/* a remote RST: from a sender never seen, the answer to a SYN, taken
	 * if it acks the SYN exactly; else exact at the receiver's last ack or
	 * the sender's next seq; in the window otherwise: challenged; below
	 * that ack: out */
	if (rst && !local && rcv_seen) {
		bool acked = f->tcp_flags[Rv] & F_ACK;

		if (!snd_seen) {
			if (!(s->flags & F_ACK) || s->ack != rcv.end)
				return M_RST_WIN;
		} else if (acked && after(rcv.maxack, seq)) {
			return M_RST_WIN;
		} else if (!(acked && seq == rcv.maxack) && !(snd_seen && seq == snd.end)) {
			return M_RST_CHAL;
		}
	}
	/* the table's refinements: only the ACK of the other side's FIN; a
	 * cookie flow is established once its child exists */
	if (st == XDPCT_CT_FIN_WAIT && ns == XDPCT_CT_CLOSE_WAIT &&
	    !((f->tcp_flags[Rv] & F_FIN) && !after(rcv.end, ack)))
		ns = st;
	if (st == XDPCT_CT_LAST_ACK && ns == XDPCT_CT_TIME_WAIT && pkt == XDPCT_PKT_ACK &&
	    !((f->tcp_flags[Rv] & F_FIN) && !after(rcv.end, ack)))
		ns = st;
	if ((f->flags & XDPCT_FLOW_PENDING) && ns == XDPCT_CT_ESTABLISHED)
		ns = st;
	/* accepted: netfilter's updates */
	w = syn ? s->win : (uint32_t)s->win << scale_of(f, S);
	if (snd.maxwin < w)
		snd.maxwin = w;
	if (after(end, snd.end))
		snd.end = end;
	if (has_ack && (!(f->tcp_flags[S] & F_ACK) || after(ack, snd.maxack)))
		snd.maxack = ack;
	if (rcv_seen && after(end, snd.maxend))
		rcv.maxwin += end - snd.maxend;
	if (after(ack + w, rcv.maxend - 1))
		rcv.maxend = ack + w + !w;
	if (local && has_ack && after(ack, rcv.end))
		rcv.end = ack; /* the local stack got what we did not see */
	if (local && !syn && after(snd.end, snd.maxend))
		snd.maxend = snd.end; /* and could send what it sent */
	f->dir[S] = snd;
	f->dir[Rv] = rcv;
	if (syn)
		f->wscale[S] = ws_of(s->ws);
	/* its first FIN, acking the other's FIN: it closed second */
	if (fin && !(f0->tcp_flags[S] & F_FIN) && (f0->tcp_flags[Rv] & F_FIN) && !after(rcv.end, s->ack))
		f->flags |= S == R ? XDPCT_FLOW_FIN_AFTER_REMOTE : XDPCT_FLOW_FIN_AFTER_LOCAL;
	f->tcp_flags[S] |= s->flags;
	f->flags |= seen_flag(S);
	f->packets[S]++;
	f->bytes[S] += s->ip_len;
	f->state = (enum xdpct_ct_state)ns;
	return M_OK;
}

/* The last packet as the model takes it. */
static void mseg_of(const struct run *r, struct mseg *s)
{
	s->side = r->side;
	s->flags = r->flags;
	s->seq = r->seq;
	s->ack = r->ack;
	s->len = (uint32_t)r->plen;
	s->ip_len = r->ip_len;
	s->win = r->win;
	s->ws = r->ws;
}

/* The entry the last packet (a SYN) opened. */
static void model_new(struct conn *c)
{
	struct mseg s;

	mseg_of(&c->r, &s);
	memset(&c->want, 0, sizeof(c->want));
	c->want.tag = key_tag(c);
	model_init_syn(&c->want, &s);
	c->exists = true;
}

/* The entry a valid cookie ACK (the last packet) created: as netfilter
 * would hold it after the SYN, our SYN-ACK and this ACK. XDP keeps nothing
 * of its SYN-ACK, so that one's window counts as the largest a SYN-ACK
 * carries (65535, never scaled); the SYN's window is not known. */
static void model_cookie(struct conn *c)
{
	const struct run *r = &c->r;
	struct xdpct_flow *w = &c->want;
	bool ws_ok = c->ws[R] >= 0; /* NOTS_OPTIONS: the cookie keeps the shift */
	uint32_t win = (uint32_t)r->win << (ws_ok ? ws_of(c->ws[R]) : 0);

	memset(w, 0, sizeof(*w));
	w->tag = key_tag(c);
	w->state = XDPCT_CT_SYN_RECV;
	w->flags = XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED |
		   XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	w->wscale[R] = ws_ok ? ws_of(c->ws[R]) : 0xf;
	w->wscale[L] = ws_ok ? WSCALE : 0xf;
	w->tcp_flags[R] = F_SYN | r->flags;
	w->tcp_flags[L] = F_SYN | F_ACK;
	w->dir[R] = (struct xdpct_dir){ r->seq + (uint32_t)r->plen, r->seq + 65535, win ? win : 1,
					r->ack };
	w->dir[L] = (struct xdpct_dir){ r->ack, r->ack + win + !win, 65535, r->seq };
	w->packets[R] = 1;
	w->bytes[R] = r->ip_len;
	c->exists = true;
}

static const char *dir_str(const struct xdpct_dir *d)
{
	static char buf[4][100];
	static int k;
	char *s = buf[k++ & 3];

	snprintf(s, 100, "end %u maxend %u maxwin %u maxack %u", d->end, d->maxend, d->maxwin,
		 d->maxack);
	return s;
}

/* Reads the entry and compares it with the model. touched: the last
 * packet was taken by the flow (last_tick moved), else nothing changed. */
static void ck_entry(struct conn *c, bool touched)
{
	const struct xdpct_flow *w = &c->want;
	const struct run *r = &c->r;
	struct xdpct_flow f;
	int n = flows_total();

	if (!c->exists) {
		CKC(c, flow_read(c, &f) != 0, "after %s: an entry exists (state %s), want none",
		    r->what, st_name(f.state));
		CKC(c, n == 0 || c->others, "after %s: %d entries in the flow maps, want 0", r->what,
		    n);
		return;
	}
	CKC(c, n == 1 || c->others, "after %s: %d entries in the flow maps, want 1", r->what, n);
	if (!CKC(c, flow_read(c, &f) == 0, "after %s: no entry in the %s tables, want state %s",
		 r->what, in_observed(c) ? "observed" : "protected", st_name(w->state)))
		return;
	CKC(c, f.state == w->state, "after %s: state %s, want %s", r->what, st_name(f.state),
	    st_name(w->state));
	CKC(c, f.tag == w->tag && f.lock == 0, "after %s: tag 0x%08x lock %u, want 0x%08x 0",
	    r->what, f.tag, f.lock, w->tag);
	CKC(c, f.flags == w->flags, "after %s: flags 0x%02x, want 0x%02x", r->what, f.flags,
	    w->flags);
	CKC(c, f.wscale[R] == w->wscale[R] && f.wscale[L] == w->wscale[L] &&
		       f.tcp_flags[R] == w->tcp_flags[R] && f.tcp_flags[L] == w->tcp_flags[L],
	    "after %s: wscale %u/%u tcp_flags %s/%s (remote/local), want %u/%u %s/%s", r->what,
	    f.wscale[R], f.wscale[L], flags_str(f.tcp_flags[R]), flags_str(f.tcp_flags[L]),
	    w->wscale[R], w->wscale[L], flags_str(w->tcp_flags[R]), flags_str(w->tcp_flags[L]));
	CKC(c, !memcmp(&f.dir[R], &w->dir[R], sizeof(f.dir[R])), "after %s: remote %s, want %s",
	    r->what, dir_str(&f.dir[R]), dir_str(&w->dir[R]));
	CKC(c, !memcmp(&f.dir[L], &w->dir[L], sizeof(f.dir[L])), "after %s: local %s, want %s",
	    r->what, dir_str(&f.dir[L]), dir_str(&w->dir[L]));
	CKC(c, f.packets[R] == w->packets[R] && f.packets[L] == w->packets[L] &&
		       f.bytes[R] == w->bytes[R] && f.bytes[L] == w->bytes[L],
	    "after %s: packets %u/%u bytes %llu/%llu (remote/local), want %u/%u %llu/%llu",
	    r->what, f.packets[R], f.packets[L], (unsigned long long)f.bytes[R],
	    (unsigned long long)f.bytes[L], w->packets[R], w->packets[L],
	    (unsigned long long)w->bytes[R], (unsigned long long)w->bytes[L]);
	if (touched && c->want.first_s == 0) { /* a new entry: times from the clock */
		CKC(c, f.first_s >= (r->t0 - XDPCT_CLOCK_LAG_NS) / 1000000000ULL &&
			       f.first_s <= r->t1 / 1000000000ULL,
		    "after %s: first_s %u, clock %llu s", r->what, f.first_s,
		    (unsigned long long)(r->t1 / 1000000000ULL));
		c->want.first_s = f.first_s;
	}
	CKC(c, f.first_s == w->first_s, "after %s: first_s %u, want %u", r->what, f.first_s,
	    w->first_s);
	if (touched) {
		CKC(c, f.last_tick >= (uint32_t)((r->t0 - XDPCT_CLOCK_LAG_NS) >> XDPCT_TICK_SHIFT) &&
			       f.last_tick <= (uint32_t)(r->t1 >> XDPCT_TICK_SHIFT),
		    "after %s: last_tick %u, clock %u..%u", r->what, f.last_tick,
		    (uint32_t)(r->t0 >> XDPCT_TICK_SHIFT), (uint32_t)(r->t1 >> XDPCT_TICK_SHIFT));
		c->want.last_tick = f.last_tick;
	} else {
		CKC(c, f.last_tick == w->last_tick, "after %s: last_tick moved %u -> %u", r->what,
		    w->last_tick, f.last_tick);
	}
	if (ck_failed()) { /* follow the real entry, so one slip is reported once */
		uint32_t first = c->want.first_s;

		c->want = f;
		if (!first)
			c->want.first_s = f.first_s;
	}
}

/* ---- expectations on the last packet ---- */

#define CTRS(...) ((const int[]){ __VA_ARGS__, -1 })

/* verdict and the exact set of counters that moved (each by one) */
static bool ck_out(struct conn *c, uint32_t verdict, const int *ctrs)
{
	const struct run *r = &c->r;
	int64_t want[XDPCT_STAT_MAX] = { 0 };
	char wbuf[400];

	if (r->err)
		return false; /* reported by xmit */
	want[r->side == R ? S(XDP_PACKETS) : S(TC_OUT_PACKETS)] = 1;
	for (int i = 0; ctrs[i] >= 0; i++)
		want[ctrs[i]] += 1;
	snprintf(wbuf, sizeof(wbuf), "%s", moved(want));
	if (r->side == R) {
		static const char *const vn[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

		CKC(c, r->ret == verdict, "%s: verdict %s, want %s (counters %s)", r->what,
		    r->ret < 5 ? vn[r->ret] : "?", verdict < 5 ? vn[verdict] : "?", moved(r->d));
	} else {
		CKC(c, r->ret == verdict, "%s: TC verdict %u, want %u", r->what, r->ret, verdict);
	}
	return CKC(c, !memcmp(r->d, want, sizeof(want)), "%s: counters %s, want %s", r->what,
		   moved(r->d), wbuf);
}

/* The verdict and counters of a packet of a known flow, by the model's
 * result (docs/datapath.md). */
static void ck_out_res(struct conn *c, int res, bool child)
{
	bool prot = c->kind == K_PROT;

	if (c->r.side == L) {
		if (res == M_REOPEN)
			ck_out(c, TC_OK, CTRS(S(TC_OUT_CT_NEW), S(CT_REOPEN), S(TC_OUT_FLOW)));
		else if (child)
			ck_out(c, TC_OK, CTRS(S(TC_OUT_FLOW), S(TC_CHILD_SEEN)));
		else if (res == M_OK || res == M_IGNORE)
			ck_out(c, TC_OK, CTRS(S(TC_OUT_FLOW)));
		else
			ck_out(c, TC_OK, CTRS(S(TC_OUT_FLOW), S(CT_INVALID)));
		return;
	}
	switch (res) {
	case M_OK:
	case M_IGNORE:
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_FLOW)));
		break;
	case M_RST_CHAL:
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_FLOW), S(CT_RST_CHALLENGE)));
		break;
	case M_REOPEN:
		if (prot)
			ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW), S(CT_REOPEN), S(SYN_SEEN)));
		else
			ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW), S(CT_REOPEN)));
		break;
	case M_INVALID:
		if (!flags_valid(c->r.flags)) /* before any lookup */
			ck_out(c, prot ? XDP_DROP : XDP_PASS,
			       prot ? CTRS(S(V_DROP_BAD_FLAGS)) :
				      CTRS(S(V_PASS_UNTRACKED), S(CT_INVALID)));
		else
			ck_out(c, prot ? XDP_DROP : XDP_PASS,
			       CTRS(prot ? S(V_DROP_CT_INVALID) : S(V_PASS_FLOW), S(CT_INVALID)));
		break;
	default:
		ck_out(c, prot ? XDP_DROP : XDP_PASS,
		       CTRS(!prot ? S(V_PASS_FLOW) :
			    res == M_SEQ ? S(V_DROP_SEQ_WINDOW) :
			    res == M_ACK ? S(V_DROP_ACK_WINDOW) : S(V_DROP_RST_WINDOW),
			    S(CT_INVALID)));
		break;
	}
}

/* The last packet against the model: the case says what it expects (res,
 * and the state after, -1 any); the model must agree (else the case is
 * wrong), the program must do it, the entry must be the model's. */
static void expect(struct conn *c, int res, int state)
{
	struct xdpct_flow nf;
	struct mseg s;
	int got;
	bool applied, pass, child;

	mseg_of(&c->r, &s);
	got = model_seg(&c->want, &s, &nf);
	CKC(c, got == res, "%s: the model says %s, the case %s", c->r.what, mres_name[got],
	    mres_name[res]);
	res = got;
	applied = res == M_OK || res == M_IGNORE || res == M_REOPEN;
	/* the local stack answering a cookie flow: its child exists */
	child = applied && c->r.side == L && res != M_REOPEN && !(c->r.flags & F_RST) &&
		(nf.flags & XDPCT_FLOW_PENDING);
	if (child) {
		nf.flags &= (uint8_t)~XDPCT_FLOW_PENDING;
		if (nf.state == XDPCT_CT_SYN_RECV)
			nf.state = XDPCT_CT_ESTABLISHED;
	}
	if (applied && state >= 0)
		CKC(c, nf.state == state, "%s: the model reaches %s, the case %s", c->r.what,
		    st_name(nf.state), st_name(state));
	ck_out_res(c, res, child);
	if (applied) {
		if (res == M_REOPEN)
			nf.first_s = 0; /* a new connection: times from the clock */
		c->want = nf;
	}
	/* a pending flow's plain ACKs carry the handover attributes again */
	pass = c->r.side == R && c->r.ret == XDP_PASS;
	if (pass && res != M_REOPEN)
		CKC(c, c->r.meta_len == ((c->want.flags & XDPCT_FLOW_PENDING) &&
					 (c->r.flags & (F_ACK | F_RST | F_SYN)) == F_ACK ?
						 (int)sizeof(struct xdpct_meta) : 0),
		    "%s: metadata %d bytes (pending %d)", c->r.what, c->r.meta_len,
		    !!(c->want.flags & XDPCT_FLOW_PENDING));
	ck_entry(c, applied);
}

/* The flow took the packet; the state after it. */
static void ok(struct conn *c, int state)
{
	expect(c, M_OK, state);
}

/* Each end's own state derived from the entry (include/xdpct_ep.h): a is
 * side sa's, b the other's. */
static void ends(struct conn *c, int sa, int a, int b)
{
	static const char *const n[] = XDPCT_EP_STATE_NAMES;
	struct xdpct_flow e;
	int ga, gb;

	if (!CKC(c, !flow_read(c, &e), "after %s: no entry", c->label))
		return;
	ga = xdpct_ep_state(&e, sa);
	gb = xdpct_ep_state(&e, !sa);
	CKC(c, ga == a && gb == b, "after %s: ends %s/%s (%s/other), want %s/%s", c->label,
	    n[ga], n[gb], sa == R ? "remote" : "local", n[a], n[b]);
}

/* The table said IGNORE: passed and counted, no window tracking. */
static void ignored(struct conn *c)
{
	expect(c, M_IGNORE, -1);
}

/* A remote RST not taken, per RFC 5961: in window -> challenge, state
 * kept; outside -> dropped on protected ports, passed (counted) when
 * observing. The local stack's RSTs are its own: always taken. */
static void rst_challenged(struct conn *c)
{
	if (c->r.side == R)
		expect(c, M_RST_CHAL, -1);
	else
		expect(c, M_OK, XDPCT_CT_CLOSE);
}

static void rst_out_of_window(struct conn *c)
{
	if (c->r.side == R)
		expect(c, M_RST_WIN, -1);
	else
		expect(c, M_OK, XDPCT_CT_CLOSE);
}

/* An ACK of what the other side never sent: refused from the remote; the
 * local stack's is its own truth (it got what we did not see). */
static void ack_out_of_window(struct conn *c)
{
	if (c->r.side == R)
		expect(c, M_ACK, -1);
	else
		expect(c, M_OK, -1);
}

static void invalid(struct conn *c)
{
	expect(c, M_INVALID, -1);
}

/* ---- openings ---- */

/* A SYN that opens a tracked flow (observed port, TRACK_ALL, or egress). */
static void syn_opens(struct conn *c, int side)
{
	seg(c, side, F_SYN, 0);
	if (side == R)
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW)));
	else
		ck_out(c, TC_OK, CTRS(S(TC_OUT_CT_NEW)));
	model_new(c);
	ck_entry(c, true);
}

/* SYN to a protected port: cookie SYN-ACK, no entry. */
static void syn_cookie(struct conn *c, const int *ctrs)
{
	struct pg_parsed p;

	seg(c, R, F_SYN, 0);
	if (!ck_out(c, XDP_TX, ctrs))
		return;
	if (CKC(c, pg_parse(c->r.out, c->r.out_len, &p) == 0 && (p.flags & 0x3f) == (F_SYN | F_ACK) &&
			   p.ack == c->nxt[R],
		"SYN-ACK unparsable or not acking the SYN (flags 0x%02x ack %u, want %u)",
		p.flags, p.ack, c->nxt[R])) {
		c->cookie = p.seq;
		c->isn[L] = p.seq;
		c->nxt[L] = p.seq + 1;
	}
	ck_entry(c, false);
}

static void cookie_ack(struct conn *c)
{
	struct xdpct_pending pe;
	struct xdpct_flow_key pk;

	seg(c, R, F_ACK, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_COOKIE), S(COOKIE_GOOD)));
	CKC(c, c->r.meta_len == (int)sizeof(struct xdpct_meta), "cookie ACK: metadata %d bytes",
	    c->r.meta_len);
	model_cookie(c);
	ck_entry(c, true);
	memset(&pk, 0, sizeof(pk));
	pk.family = (uint8_t)c->family;
	pk.rport = htons(c->rport);
	pk.lport = htons(c->lport);
	memcpy(pk.raddr, c->raddr, c->family == 4 ? 4 : 16);
	memcpy(pk.laddr, c->laddr, c->family == 4 ? 4 : 16);
	CKC(c, bpf_map_lookup_elem(pend_fd, &pk, &pe) == 0 && pe.attrs.mss,
	    "cookie ACK: no pending entry with attributes");
}

/* The remote opens: up to ESTABLISHED (cookie flows: the local side's
 * first packet makes them so). Steps are named for the state reached. */
static void open_remote(struct conn *c)
{
	if (c->kind == K_PROT) {
		step(c, "open.syn_cookie");
		syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
		step(c, "open.syn_recv_pending");
		cookie_ack(c);
		step(c, "open.established");
		seg(c, L, F_ACK | F_PSH, 40); /* the server speaks first */
		ok(c, XDPCT_CT_ESTABLISHED);
		step(c, "open.ack_in");
		seg(c, R, F_ACK, 0);
		ok(c, XDPCT_CT_ESTABLISHED);
		return;
	}
	step(c, "open.syn_sent");
	syn_opens(c, R);
	step(c, "open.syn_recv");
	seg(c, L, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "open.established");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
}

static void open_local(struct conn *c)
{
	step(c, "open.syn_sent");
	syn_opens(c, L);
	step(c, "open.syn_recv");
	seg(c, R, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "open.established");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
}

/* The opening of a sequence about something else: one check, NAME.open,
 * every packet still checked; its steps name the failing one. */
static void opening(struct conn *c, bool remote)
{
	quiet_begin(c, "%s.open", c->name);
	if (remote)
		open_remote(c);
	else
		open_local(c);
	ck_end();
	c->quiet = false;
}

/* ---- the cases ---- */

/* Three-way handshake, remote opens; data both ways. */
static void t_open_remote(int f, int kind)
{
	struct conn *c = &C;

	conn_init(c, f, kind, true, "ct.%s.open_remote.%s", fam(f), kind_name[kind]);
	step(c, "syn_sent");
	syn_opens(c, R);
	step(c, "syn_recv");
	seg(c, L, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "established");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 300);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 1000);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_in");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();
}

/* A cookie flow: pending SYN_RECV until the local side's first packet. */
static void t_cookie(int f)
{
	struct conn *c = &C;

	conn_init(c, f, K_PROT, true, "ct.%s.cookie", fam(f));
	step(c, "syn_answered");
	syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	step(c, "syn_recv_pending");
	cookie_ack(c);
	step(c, "data_in_still_pending");
	seg(c, R, F_ACK | F_PSH, 200);
	ok(c, XDPCT_CT_SYN_RECV);
	CKC(c, c->r.meta_len == (int)sizeof(struct xdpct_meta),
	    "pending flow: ACK without metadata (%d bytes)", c->r.meta_len);
	step(c, "syn_again_while_pending");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_TX, CTRS(S(V_TX_SYNACK), S(SYN_SEEN)));
	ck_entry(c, false);
	step(c, "established_on_first_out");
	seg(c, L, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_in_no_meta");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	CKC(c, c->r.meta_len == 0, "established flow: metadata %d bytes", c->r.meta_len);
	step(c, "syn_in_established");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_SYN_TRACKED), S(SYN_SEEN)));
	ck_entry(c, false);
	ck_end();

	/* the server's first packet is a FIN: established, then FIN_WAIT */
	conn_init(c, f, K_PROT, true, "ct.%s.cookie_first_out_fin", fam(f));
	step(c, "syn_answered");
	syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	step(c, "syn_recv_pending");
	cookie_ack(c);
	step(c, "fin_wait");
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "close_wait");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	CKC(c, c->r.meta_len == 0, "no longer pending: metadata %d bytes", c->r.meta_len);
	ck_end();
}

/* Local opens: egress SYN to an observed port, or anywhere with TRACK_ALL. */
static void t_open_local(int f, int kind)
{
	struct conn *c = &C;

	conn_init(c, f, kind, false, "ct.%s.open_local.%s", fam(f), kind_name[kind]);
	step(c, "syn_sent");
	syn_opens(c, L);
	step(c, "syn_recv");
	seg(c, R, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "established");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 500);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 1200);
	ok(c, XDPCT_CT_ESTABLISHED);
	/* in the local side's window only once scaled (509 << 7): the shift
	 * both SYNs announced applies */
	step(c, "rst_in_window_scaled");
	xmit(c, R, F_RST | F_ACK, c->nxt[R] + 10000, c->nxt[L], 0);
	rst_challenged(c);
	ck_end();

	if (kind != K_ALL)
		return;
	/* the same without TRACK_ALL: nothing is tracked */
	conn_init(c, f, K_OBS, false, "ct.%s.open_local.untracked_port", fam(f));
	c->rport = PORT_PLAIN;
	step(c, "syn_no_entry");
	seg(c, L, F_SYN, 0);
	ck_out(c, TC_OK, CTRS(-1));
	ck_entry(c, false);
	step(c, "synack_in_passed");
	seg(c, R, F_SYN | F_ACK, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_UNPROTECTED)));
	ck_entry(c, false);
	ck_end();
}

/* Four-way close; closer = the side whose FIN comes first. */
static void t_close(int f, int kind, int closer)
{
	struct conn *c = &C;
	int peer = !closer;

	conn_init(c, f, kind, true, "ct.%s.close_%s_first.%s", fam(f),
		  closer == R ? "remote" : "local", kind_name[kind]);
	opening(c, true);
	ends(c, closer, XDPCT_EP_ESTABLISHED, XDPCT_EP_ESTABLISHED);
	step(c, "fin_wait");
	seg(c, closer, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	ends(c, closer, XDPCT_EP_FIN_WAIT_1, XDPCT_EP_CLOSE_WAIT);
	step(c, "fin_wait.ack_not_of_fin");
	xmit(c, peer, F_ACK, c->nxt[peer], c->nxt[closer] - 1, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	ends(c, closer, XDPCT_EP_FIN_WAIT_1, XDPCT_EP_CLOSE_WAIT);
	step(c, "fin_wait.ack_from_fin_sender");
	xmit(c, closer, F_ACK, c->nxt[closer], c->nxt[peer], 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "close_wait");
	seg(c, peer, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	ends(c, closer, XDPCT_EP_FIN_WAIT_2, XDPCT_EP_CLOSE_WAIT);
	step(c, "last_ack");
	seg(c, peer, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_LAST_ACK);
	step(c, "last_ack.ack_not_of_fin");
	xmit(c, closer, F_ACK, c->nxt[closer], c->nxt[peer] - 1, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_LAST_ACK);
	step(c, "time_wait");
	seg(c, closer, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	step(c, "time_wait.late_ack");
	seg(c, peer, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	ck_end();
}

/* Byte counters are 64-bit: a connection that moved 4 GiB each way keeps
 * counting past 2^32 (the model checks every packet's total exactly). */
static void t_bytes_64(int f, int kind)
{
	struct conn *c = &C;
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
	struct xdpct_flow e;
	int fd = kind == K_OBS ? (f == 4 ? obs4_fd : obs6_fd) : (f == 4 ? f4_fd : f6_fd);
	void *key = f == 4 ? (void *)&k4 : (void *)&k6;

	conn_init(c, f, kind, true, "ct.%s.bytes_past_4gib.%s", fam(f), kind_name[kind]);
	opening(c, true);
	step(c, "preset");
	if (f == 4)
		key4(c, &k4);
	else
		key6(c, &k6);
	if (CKC(c, !flow_read(c, &e), "no entry after the handshake")) {
		e.bytes[R] = e.bytes[L] = c->want.bytes[R] = c->want.bytes[L] = 0xfffffc00u;
		CKC(c, !bpf_map_update_elem(fd, key, &e, BPF_EXIST), "preset bytes: %s",
		    strerror(errno));
	}
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 1000);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 1400);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "past_2^32");
	CKC(c, !flow_read(c, &e) && e.bytes[R] > 0xffffffffull && e.bytes[L] > 0xffffffffull,
	    "bytes %llu/%llu, want both past 2^32", (unsigned long long)e.bytes[R],
	    (unsigned long long)e.bytes[L]);
	ck_end();
}

/* Both FINs cross: FIN_WAIT -> LAST_ACK -> TIME_WAIT, never CLOSE_WAIT. */
static void t_simclose(int f, int kind, int first, bool second_acks_first)
{
	struct conn *c = &C;
	int other = !first;

	conn_init(c, f, kind, true, "ct.%s.simclose_%s_fin_first%s.%s", fam(f),
		  first == R ? "remote" : "local", second_acks_first ? "_acked" : "",
		  kind_name[kind]);
	opening(c, true);
	step(c, "fin_wait");
	seg(c, first, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "last_ack");
	/* the other FIN, sent before the first arrived (acks up to it only),
	 * or acking it too: a FIN either way */
	xmit(c, other, F_FIN | F_ACK, c->nxt[other],
	     second_acks_first ? c->nxt[first] : c->nxt[first] - 1, 0);
	c->nxt[other]++;
	ok(c, XDPCT_CT_LAST_ACK);
	/* crossed FINs: both CLOSING; a FIN acking the first: a normal close */
	if (second_acks_first)
		ends(c, first, XDPCT_EP_TIME_WAIT, XDPCT_EP_LAST_ACK);
	else
		ends(c, first, XDPCT_EP_CLOSING, XDPCT_EP_CLOSING);
	step(c, "time_wait");
	seg(c, first, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	if (second_acks_first)
		ends(c, first, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	else
		ends(c, first, XDPCT_EP_CLOSING, XDPCT_EP_TIME_WAIT);
	step(c, "time_wait.last_ack");
	seg(c, other, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	if (second_acks_first)
		ends(c, first, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	else
		ends(c, first, XDPCT_EP_TIME_WAIT, XDPCT_EP_TIME_WAIT);
	ck_end();
}

/* Half-close: the closer's FIN acked, data keeps flowing the other way. */
static void t_halfclose(int f, int kind, int closer)
{
	struct conn *c = &C;
	int peer = !closer;

	conn_init(c, f, kind, true, "ct.%s.halfclose_%s.%s", fam(f),
		  closer == R ? "remote" : "local", kind_name[kind]);
	opening(c, true);
	step(c, "fin_wait");
	seg(c, closer, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "close_wait");
	seg(c, peer, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	ends(c, closer, XDPCT_EP_FIN_WAIT_2, XDPCT_EP_CLOSE_WAIT);
	for (int i = 0; i < 3; i++) {
		char n[40];

		snprintf(n, sizeof(n), "data_%d", i + 1);
		step(c, n);
		seg(c, peer, F_ACK | F_PSH, 1000 + 100 * i);
		ok(c, XDPCT_CT_CLOSE_WAIT);
		snprintf(n, sizeof(n), "data_%d_acked", i + 1);
		step(c, n);
		seg(c, closer, F_ACK, 0);
		ok(c, XDPCT_CT_CLOSE_WAIT);
		ends(c, closer, XDPCT_EP_FIN_WAIT_2, XDPCT_EP_CLOSE_WAIT);
	}
	step(c, "last_ack");
	seg(c, peer, F_FIN | F_ACK | F_PSH, 10);
	ok(c, XDPCT_CT_LAST_ACK);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_LAST_ACK);
	step(c, "time_wait");
	seg(c, closer, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	ends(c, closer, XDPCT_EP_TIME_WAIT, XDPCT_EP_CLOSED);
	ck_end();
}

/* Simultaneous open: SYN both ways. */
static void t_simopen(int f)
{
	struct conn *c = &C;

	conn_init(c, f, K_OBS, false, "ct.%s.simopen", fam(f));
	step(c, "syn_sent");
	syn_opens(c, L);
	step(c, "syn_sent2");
	seg(c, R, F_SYN, 0);
	ok(c, XDPCT_CT_SYN_SENT2);
	step(c, "syn_recv");
	xmit(c, L, F_SYN | F_ACK, c->isn[L], c->nxt[R], 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "synack_in_ignored");
	xmit(c, R, F_SYN | F_ACK, c->isn[R], c->nxt[L], 0);
	ignored(c);
	step(c, "established");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();
}

/* Retransmitted SYN, SYN-ACK and FIN: one entry, state sane. */
static void t_retrans(int f)
{
	struct conn *c = &C;

	conn_init(c, f, K_OBS, true, "ct.%s.retrans.remote_opens", fam(f));
	step(c, "syn");
	syn_opens(c, R);
	step(c, "syn_again");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ok(c, XDPCT_CT_SYN_SENT);
	step(c, "synack");
	seg(c, L, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	/* the table ignores these retransmissions: counted, not tracked */
	step(c, "synack_again_ignored");
	xmit(c, L, F_SYN | F_ACK, c->isn[L], c->nxt[R], 0);
	ignored(c);
	step(c, "syn_again_in_syn_recv_ignored");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ignored(c);
	step(c, "established");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "synack_again_in_established_ignored");
	xmit(c, L, F_SYN | F_ACK, c->isn[L], c->nxt[R], 0);
	ignored(c);
	step(c, "fin");
	seg(c, R, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	/* netfilter's table: a FIN again from the same
	 * side moves FIN_WAIT to LAST_ACK */
	step(c, "fin_again");
	xmit(c, R, F_FIN | F_ACK, c->nxt[R] - 1, c->nxt[L], 0);
	ok(c, XDPCT_CT_LAST_ACK);
	step(c, "fin_acked");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	ck_end();

	conn_init(c, f, K_OBS, false, "ct.%s.retrans.local_opens", fam(f));
	step(c, "syn");
	syn_opens(c, L);
	step(c, "syn_again");
	xmit(c, L, F_SYN, c->isn[L], 0, 0);
	ok(c, XDPCT_CT_SYN_SENT);
	step(c, "synack");
	seg(c, R, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "synack_again_ignored");
	xmit(c, R, F_SYN | F_ACK, c->isn[R], c->nxt[L], 0);
	ignored(c);
	step(c, "established");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "fin_out");
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "fin_out_again");
	xmit(c, L, F_FIN | F_ACK, c->nxt[L] - 1, c->nxt[R], 0);
	ok(c, XDPCT_CT_LAST_ACK);
	ck_end();
}

/* ACK of data never sent. */
static void t_ack_window(int f, int kind)
{
	struct conn *c = &C;

	conn_init(c, f, kind, true, "ct.%s.ack_window.%s", fam(f), kind_name[kind]);
	opening(c, true);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 700);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_in_beyond_sent");
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L] + 1000, 0);
	ack_out_of_window(c);
	step(c, "ack_in_one_beyond_sent");
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L] + 1, 0);
	ack_out_of_window(c);
	step(c, "ack_in_partial");
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L] - 300, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_in_all_sent");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_out_beyond_sent");
	xmit(c, L, F_ACK, c->nxt[L], c->nxt[R] + 5000, 0);
	ack_out_of_window(c);
	ck_end();
}

/* Packets the table calls invalid in ESTABLISHED. */
static void t_invalid(int f, int kind)
{
	struct conn *c = &C;

	conn_init(c, f, kind, true, "ct.%s.invalid.%s", fam(f), kind_name[kind]);
	opening(c, true);
	step(c, "synack_in");
	xmit(c, R, F_SYN | F_ACK, c->isn[R], c->nxt[L], 0);
	invalid(c);
	step(c, "no_flags_in");
	xmit(c, R, 0, c->nxt[R], 0, 0);
	invalid(c);
	step(c, "still_established");
	seg(c, R, F_ACK | F_PSH, 10);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();
}

/* Reopen: a SYN on a TIME_WAIT or CLOSE entry starts a new connection. */
static void t_reopen(int f, int kind, bool from_close)
{
	struct conn *c = &C;
	const char *st = from_close ? "close" : "time_wait";

	conn_init(c, f, kind, true, "ct.%s.reopen_%s.%s", fam(f), st, kind_name[kind]);
	opening(c, true);
	if (from_close) {
		step(c, "close");
		seg(c, R, F_RST | F_ACK, 0);
		ok(c, XDPCT_CT_CLOSE);
	} else {
		step(c, "fin_wait");
		seg(c, R, F_FIN | F_ACK, 0);
		ok(c, XDPCT_CT_FIN_WAIT);
		step(c, "close_wait");
		seg(c, L, F_ACK, 0);
		ok(c, XDPCT_CT_CLOSE_WAIT);
		step(c, "last_ack");
		seg(c, L, F_FIN | F_ACK, 0);
		ok(c, XDPCT_CT_LAST_ACK);
		step(c, "time_wait");
		seg(c, R, F_ACK, 0);
		ok(c, XDPCT_CT_TIME_WAIT);
	}
	/* the client reuses the port with a new ISN */
	c->isn[R] = c->nxt[R] + 100000;
	c->nxt[R] = c->isn[R];
	/* even on a protected port the SYN goes to the kernel, which may still
	 * hold a TIME_WAIT socket for the tuple (commit 869e7dd) */
	step(c, "new_syn");
	seg(c, R, F_SYN, 0);
	if (kind == K_PROT)
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW), S(CT_REOPEN), S(SYN_SEEN)));
	else
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW), S(CT_REOPEN)));
	c->want.first_s = 0;
	model_new(c);
	ck_entry(c, true);
	step(c, "new_syn_recv");
	c->isn[L] = c->nxt[L] = low_isn(); /* the kernel's ISN, not a cookie */
	seg(c, L, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "new_established");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();
}

/* The local side reopens a TIME_WAIT tuple with an egress SYN. */
static void t_reopen_local(int f)
{
	struct conn *c = &C;

	conn_init(c, f, K_OBS, false, "ct.%s.reopen_time_wait.local", fam(f));
	opening(c, false);
	step(c, "fin_wait");
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "close_wait");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	step(c, "last_ack");
	seg(c, R, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	step(c, "time_wait");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	step(c, "new_syn_out");
	c->isn[L] = c->nxt[L] + 50000;
	c->nxt[L] = c->isn[L];
	seg(c, L, F_SYN, 0);
	ck_out(c, TC_OK, CTRS(S(TC_OUT_CT_NEW), S(CT_REOPEN), S(TC_OUT_FLOW)));
	c->want.first_s = 0;
	model_new(c);
	ck_entry(c, true);
	step(c, "new_syn_recv");
	c->isn[R] = c->nxt[R] + 90000;
	c->nxt[R] = c->isn[R];
	seg(c, R, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	ck_end();
}

/* ---- RST in every state ---- */

enum rst_state {
	RS_SYN_SENT_R,  /* remote's SYN only */
	RS_SYN_SENT_L,  /* local's SYN only */
	RS_SYN_SENT2,
	RS_SYN_RECV,
	RS_ESTABLISHED,
	RS_FIN_WAIT,
	RS_CLOSE_WAIT,
	RS_LAST_ACK,
	RS_TIME_WAIT,
	RS_CLOSE,
	RS_MAX,
};
static const char *const rs_name[RS_MAX] = {
	"syn_sent_by_remote", "syn_sent_by_local", "syn_sent2", "syn_recv", "established",
	"fin_wait", "close_wait", "last_ack", "time_wait", "close",
};
static const int rs_state[RS_MAX] = {
	XDPCT_CT_SYN_SENT, XDPCT_CT_SYN_SENT, XDPCT_CT_SYN_SENT2, XDPCT_CT_SYN_RECV,
	XDPCT_CT_ESTABLISHED, XDPCT_CT_FIN_WAIT, XDPCT_CT_CLOSE_WAIT, XDPCT_CT_LAST_ACK,
	XDPCT_CT_TIME_WAIT, XDPCT_CT_CLOSE,
};

enum rst_kind { RK_EXACT, RK_IN_WINDOW, RK_ABOVE, RK_BELOW, RK_MAX };
static const char *const rk_name[RK_MAX] = { "exact", "in_window", "out_above", "out_below" };

/* Brings c to the state; the RST will come from side rs. The closing
 * order is chosen so that the RST's receiver has acked all its sender
 * sent: the expected seq is then the sender's next seq. */
static void reach(struct conn *c, int st, int rs)
{
	int closer;

	switch (st) {
	case RS_SYN_SENT_R:
		step(c, "syn");
		syn_opens(c, R);
		return;
	case RS_SYN_SENT_L:
	case RS_SYN_SENT2:
		step(c, "syn");
		syn_opens(c, L);
		if (st == RS_SYN_SENT2) {
			step(c, "syn_in");
			seg(c, R, F_SYN, 0);
			ok(c, XDPCT_CT_SYN_SENT2);
		}
		return;
	case RS_SYN_RECV:
		if (c->kind == K_PROT) {
			step(c, "syn_cookie");
			syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
			step(c, "cookie_ack");
			cookie_ack(c);
			return;
		}
		step(c, "syn");
		syn_opens(c, R);
		step(c, "synack");
		seg(c, L, F_SYN | F_ACK, 0);
		ok(c, XDPCT_CT_SYN_RECV);
		return;
	default:
		break;
	}
	open_remote(c);
	if (st == RS_ESTABLISHED)
		return;
	if (st == RS_CLOSE) {
		step(c, "rst");
		seg(c, !rs, F_RST | F_ACK, 0);
		ok(c, XDPCT_CT_CLOSE);
		return;
	}
	/* FIN_WAIT: the RST's receiver closed; LAST_ACK: its sender did
	 * first, the receiver's FIN is the last one (acked by nobody yet) */
	closer = st == RS_LAST_ACK ? rs : !rs;
	step(c, "fin");
	seg(c, closer, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	if (st == RS_FIN_WAIT)
		return;
	step(c, "fin_acked");
	seg(c, !closer, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	if (st == RS_CLOSE_WAIT)
		return;
	step(c, "fin2");
	seg(c, !closer, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	if (st == RS_LAST_ACK)
		return;
	step(c, "fin2_acked");
	seg(c, closer, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
}

static void t_rst(int f, int kind, int st, int rs, int rk)
{
	struct conn *c = &C;
	bool refusal = (st == RS_SYN_SENT_R && rs == L) || (st == RS_SYN_SENT_L && rs == R);
	uint32_t exact, seq, ack;
	uint8_t fl = F_RST | F_ACK;

	conn_init(c, f, kind, st != RS_SYN_SENT_L && st != RS_SYN_SENT2, "x");
	quiet_begin(c, "ct.%s.rst.%s.%s.from_%s.%s", fam(f), kind_name[kind], rs_name[st],
		    rs == R ? "remote" : "local", rk_name[rk]);
	reach(c, st, rs);
	CKC(c, c->want.state == rs_state[st], "setup: at %s, want %s",
	    st_name(c->want.state), st_name(rs_state[st]));
	exact = c->nxt[rs];
	ack = c->nxt[!rs];
	if (refusal) { /* the answer to a SYN (RFC 793): seq 0, acks the SYN */
		exact = 0;
	} else if ((st == RS_SYN_SENT_R && rs == R) || (st == RS_SYN_SENT_L && rs == L)) {
		fl = F_RST; /* the SYN's sender aborts: nothing to ack */
		ack = 0;
	}
	switch (rk) {
	case RK_IN_WINDOW: seq = exact + 1; break;
	case RK_ABOVE: seq = exact + 0x40000000u; break;
	case RK_BELOW: seq = exact - 1000; break;
	default: seq = exact; break;
	}
	step(c, rk_name[rk]);
	xmit(c, rs, fl, seq, ack, 0);
	if (rk == RK_EXACT)
		ok(c, XDPCT_CT_CLOSE);
	else if (rk == RK_IN_WINDOW)
		rst_challenged(c);
	else
		rst_out_of_window(c);
	ck_end();
}

static void t_rst_all(int f)
{
	for (int kind = K_OBS; kind <= K_PROT; kind++)
		for (int st = 0; st < RS_MAX; st++) {
			if (kind == K_PROT && (st == RS_SYN_SENT_R || st == RS_SYN_SENT_L ||
					       st == RS_SYN_SENT2))
				continue; /* no entry before the cookie ACK */
			for (int rs = R; rs <= L; rs++)
				for (int rk = 0; rk < RK_MAX; rk++) {
					/* the RST's receiver never sent: no window known */
					bool blind = (st == RS_SYN_SENT_R && rs == R) ||
						     (st == RS_SYN_SENT_L && rs == L);
					/* an answer to a SYN: judged by its ack (RFC 793) */
					bool refusal = (st == RS_SYN_SENT_R && rs == L) ||
						       (st == RS_SYN_SENT_L && rs == R);

					/* a bare SYN announces no window: a remote RST
					 * there is exact or out (the model says which) */
					bool no_window = st == RS_SYN_SENT2;

					if ((blind || refusal || no_window) && rk != RK_EXACT)
						continue;
					t_rst(f, kind, st, rs, rk);
				}
		}
}

/* Data, then an RST at the sender's next seq before the data is acked:
 * the receiver has the data (it passed here), so the RST is exact for it
 * (RFC 5961 3.2: RCV.NXT). netfilter accepts this "RST train" too. */
static void t_rst_after_data(int f, int kind, int rs)
{
	struct conn *c = &C;

	conn_init(c, f, kind, true, "ct.%s.rst_after_data.%s.from_%s", fam(f),
		  kind_name[kind], rs == R ? "remote" : "local");
	opening(c, true);
	step(c, "data");
	seg(c, rs, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "rst_at_next_seq");
	seg(c, rs, F_RST | F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE);
	ends(c, rs, XDPCT_EP_CLOSED, XDPCT_EP_CLOSED);
	ck_end();
}

/* ISNs at or above 2^31: maxack must follow the first ACK whatever its
 * value, and RSTs must be judged against it. (The remote sends no window
 * scale here, so these checks do not depend on how that is recorded.) */
static void t_high_isn(int f, bool remote_opens)
{
	struct conn *c = &C;

	conn_init(c, f, K_OBS, remote_opens, "ct.%s.high_isn.%s_opens", fam(f),
		  remote_opens ? "remote" : "local");
	c->isn[R] = c->nxt[R] = 0x9abc0000;
	c->isn[L] = c->nxt[L] = 0xc0de0000;
	c->ws[R] = -1;
	opening(c, remote_opens);
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "ack_in");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "rst_in_in_window");
	xmit(c, R, F_RST | F_ACK, c->nxt[R] + 1, c->nxt[L], 0);
	rst_challenged(c);
	step(c, "rst_in_exact");
	seg(c, R, F_RST | F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE);
	ck_end();
}

/* A SYN with a new ISN on an ESTABLISHED observed flow: ignored (the
 * table), so it must not move what the flow tracks; the close after it
 * still ends in TIME_WAIT. */
static void t_syn_in_established(int f)
{
	struct conn *c = &C;

	conn_init(c, f, K_OBS, true, "ct.%s.syn_in_established.obs", fam(f));
	opening(c, true);
	step(c, "syn_new_isn_ignored");
	xmit(c, R, F_SYN, c->nxt[R] + 0x10000000u, 0, 0);
	ignored(c);
	step(c, "fin_wait");
	seg(c, R, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "close_wait");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	step(c, "last_ack");
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	step(c, "time_wait");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_TIME_WAIT);
	ck_end();
}

/* ---- xdpct_seen: the filter in front of a protected SYN's lookup ---- */

static uint32_t seen_bit(const struct conn *c)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		return xdpct_seen_bit4(&k4);
	}
	key6(c, &k6);
	return xdpct_seen_bit6(&k6);
}

/* The bit in the active half (what the XDP program reads); *both: set in
 * both halves, as every inserter must leave it. */
static bool seen_has(const struct conn *c, bool *both)
{
	uint32_t b = seen_bit(c);
	uint64_t m = 1ULL << (b & 63);

	(void)m;
	if (both)
		*both = xdpct_seen_in(&seen, 0, b) && xdpct_seen_in(&seen, 1, b) &&
			xdpct_seen_sum_in(&seen, 0, b) && xdpct_seen_sum_in(&seen, 1, b);
	return xdpct_seen_test(&seen, b);
}

/* An ESTABLISHED entry as adoption writes it: no sequence numbers known. */
static void adopted_established(const struct conn *c, struct xdpct_flow *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->tag = key_tag(c);
	fl->first_s = (uint32_t)(mono_ns() / 1000000000ULL) - 5; /* adopted a while ago */
	fl->last_tick = (uint32_t)((mono_ns() - 5000000000ULL) >> XDPCT_TICK_SHIFT);
	fl->state = XDPCT_CT_ESTABLISHED;
	fl->flags = XDPCT_FLOW_ADOPTED | XDPCT_FLOW_REMOTE_OPENED;
	fl->wscale[R] = fl->wscale[L] = 0xf;
}

/* An entry written by userspace, as adoption and mapfill do: the entry,
 * then its bit through the shared helper (with_bit false: the bit left
 * out, what the helper is for). */
static int flow_insert_user(const struct conn *c, const struct xdpct_flow *f, bool with_bit)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		if (bpf_map_update_elem(f4_fd, &k4, f, BPF_NOEXIST))
			return -1;
		if (with_bit)
			xdpct_seen_set4(&seen, &k4);
		return 0;
	}
	key6(c, &k6);
	if (bpf_map_update_elem(f6_fd, &k6, f, BPF_NOEXIST))
		return -1;
	if (with_bit)
		xdpct_seen_set6(&seen, &k6);
	return 0;
}

static int flow_remove(const struct conn *c)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		return bpf_map_delete_elem(f4_fd, &k4);
	}
	key6(c, &k6);
	return bpf_map_delete_elem(f6_fd, &k6);
}

static void t_seen(int f)
{
	struct conn *c = &C;
	struct xdpct_flow fl;
	unsigned int active;
	bool both = false;

	/* a flow made by packets: the cookie ACK's insert sets the bit */
	conn_init(c, f, K_PROT, true, "ct.%s.seen.packets", fam(f));
	step(c, "fresh_bit_clear");
	CKC(c, !seen_has(c, NULL), "new tuple: bit %u set", seen_bit(c));
	step(c, "syn_no_lookup");
	syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	CKC(c, !seen_has(c, NULL) && flow_read(c, &fl), "a SYN-ACK made an entry or set the bit");
	step(c, "cookie_ack_sets_bit");
	cookie_ack(c);
	CKC(c, seen_has(c, &both) && both, "cookie flow: bit %u not set in both halves",
	    seen_bit(c));
	step(c, "syn_pending_looked_up"); /* found pending: its cookie again */
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_TX, CTRS(S(V_TX_SYNACK), S(SYN_SEEN)));
	ck_entry(c, false);
	step(c, "established");
	seg(c, L, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "syn_live_looked_up");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_SYN_TRACKED), S(SYN_SEEN)));
	ck_entry(c, false);
	/* gone: the bit stays (a lookup that finds nothing) until a rebuild */
	step(c, "deleted_bit_stays");
	CKC(c, !flow_remove(c), "delete: %s", strerror(errno));
	CKC(c, seen_has(c, NULL), "bit cleared without a rebuild");
	step(c, "syn_stale_bit_looked_up");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_TX, CTRS(S(V_TX_SYNACK), S(SYN_SEEN)));
	step(c, "rebuild_clears");
	active = xdpct_seen_active(&seen);
	CKC(c, !xdpct_seen_rebuild(&seen, f4_fd, f6_fd, NULL, 0), "rebuild: %s", strerror(errno));
	CKC(c, xdpct_seen_active(&seen) == (active ^ 1), "rebuild: active half %u, want %u",
	    xdpct_seen_active(&seen), active ^ 1);
	CKC(c, !seen_has(c, NULL), "bit %u still set after the rebuild", seen_bit(c));
	step(c, "syn_no_lookup_again");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_TX, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	ck_end();

	/* entries written from userspace with the shared helper */
	conn_init(c, f, K_PROT, true, "ct.%s.seen.userspace", fam(f));
	adopted_established(c, &fl);
	step(c, "inserted_bit_set");
	CKC(c, !flow_insert_user(c, &fl, true), "insert: %s", strerror(errno));
	CKC(c, seen_has(c, &both) && both, "helper: bit %u not set in both halves", seen_bit(c));
	step(c, "syn_live_looked_up");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_SYN_TRACKED), S(SYN_SEEN)));
	step(c, "bit_kept_by_rebuild");
	CKC(c, !xdpct_seen_rebuild(&seen, f4_fd, f6_fd, NULL, 0), "rebuild: %s", strerror(errno));
	CKC(c, seen_has(c, NULL), "the rebuild lost the bit of an entry");
	step(c, "syn_time_wait_reopens");
	fl.state = XDPCT_CT_TIME_WAIT;
	CKC(c, !flow_remove(c) && !flow_insert_user(c, &fl, true), "rewrite: %s",
	    strerror(errno));
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_CT_NEW), S(CT_REOPEN), S(SYN_SEEN)));
	CKC(c, !flow_read(c, &fl) && fl.state == XDPCT_CT_SYN_SENT,
	    "reopened entry: state %u, want SYN_SENT", fl.state);
	ck_end();

	/* what the helper is for: an entry without its bit is not looked up */
	conn_init(c, f, K_PROT, true, "ct.%s.seen.userspace_no_bit", fam(f));
	adopted_established(c, &fl);
	step(c, "syn_not_looked_up");
	CKC(c, !flow_insert_user(c, &fl, false), "insert: %s", strerror(errno));
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_TX, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	step(c, "rebuild_sets_bit");
	CKC(c, !xdpct_seen_rebuild(&seen, f4_fd, f6_fd, NULL, 0), "rebuild: %s", strerror(errno));
	CKC(c, seen_has(c, NULL), "the rebuild did not set the bit of an entry");
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_SYN_TRACKED), S(SYN_SEEN)));
	ck_end();
}

/* ---- issue 9: what a spoofed segment can do to a tracked connection ---- */

/* ESTABLISHED, one quiet check NAME.open; then the local side has sent 300
 * bytes the remote acked, and the remote 500 the local has not acked yet
 * (its last ack lags its end: the RST edges differ). */
static void established(struct conn *c)
{
	quiet_begin(c, "%s.open", c->name);
	open_remote(c);
	step(c, "data_out");
	seg(c, L, F_ACK | F_PSH, 300);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_out_acked");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_in_unacked");
	seg(c, R, F_ACK | F_PSH, 500);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();
	c->quiet = false;
}

/* The last packet must be refused whatever it is (the model says how):
 * nothing of the entry moves. */
static void refused_any(struct conn *c)
{
	struct xdpct_flow nf;
	struct mseg s;
	int got;

	mseg_of(&c->r, &s);
	got = model_seg(&c->want, &s, &nf);
	CKC(c, got != M_OK && got != M_IGNORE && got != M_REOPEN, "%s: the model takes it (%s)",
	    c->r.what, mres_name[got]);
	expect(c, got, -1);
}

/* Flag combinations of FIN SYN RST ACK URG (PSH, ECE, CWR added in turn:
 * they never matter); the invalid ones by docs/conntrack.md 1. */
static uint8_t flag_combo(int i)
{
	static const uint8_t bit[5] = { F_FIN, F_SYN, F_RST, F_ACK, F_URG };
	static const uint8_t extra[4] = { 0, F_PSH, F_ECE | F_CWR, F_PSH | F_ECE | F_CWR };
	uint8_t fl = extra[i & 3];

	for (int b = 0; b < 5; b++)
		if (i & 1 << b)
			fl |= bit[b];
	return fl;
}

/* Every invalid combination: dropped on a protected port, counted and
 * passed on an observed one, never makes or moves an entry, from either
 * side; two valid ones with odd bits as controls. */
static void t_flags(int f)
{
	struct conn *c = &C;
	int n_invalid = 0;

	for (int kind = K_OBS; kind <= K_PROT; kind++) {
		conn_init(c, f, kind, true, "ct.%s.flags.%s", fam(f), kind_name[kind]);
		established(c);
		quiet_begin(c, "%s.invalid_on_entry", c->name);
		for (int i = 0; i < 32; i++) {
			uint8_t fl = flag_combo(i);

			if (flags_valid(fl))
				continue;
			n_invalid += kind == K_OBS;
			step(c, flags_str(fl));
			xmit(c, R, fl, c->nxt[R], c->nxt[L], 0);
			invalid(c);
			xmit(c, R, fl, c->nxt[R], c->nxt[L], 20); /* with data */
			invalid(c);
			xmit(c, L, fl, c->nxt[L], c->nxt[R], 0); /* the local stack's */
			invalid(c);
		}
		CKC(c, n_invalid == 23 || kind == K_PROT, "%d invalid combinations, want 23", n_invalid);
		step(c, "valid_urg_and_ecn_controls");
		seg(c, R, F_ACK | F_URG, 10);
		ok(c, XDPCT_CT_ESTABLISHED);
		seg(c, R, F_ACK | F_PSH | F_ECE | F_CWR, 10);
		ok(c, XDPCT_CT_ESTABLISHED);
		ck_end();
		c->quiet = false;

		/* no entry: none made, whatever xdpct_seen says (the check
		 * comes before any lookup) */
		conn_init(c, f, kind, true, "ct.%s.flags.%s.no_entry", fam(f), kind_name[kind]);
		quiet_begin(c, "%s", c->name);
		for (int bit = 0; bit < 2; bit++) {
			if (bit && !in_observed(c)) {
				struct xdpct_flow4_key k4;
				struct xdpct_flow6_key k6;

				if (f == 4) {
					key4(c, &k4);
					xdpct_seen_set4(&seen, &k4);
				} else {
					key6(c, &k6);
					xdpct_seen_set6(&seen, &k6);
				}
			}
			for (int i = 0; i < 32; i++) {
				uint8_t fl = flag_combo(i);

				if (flags_valid(fl))
					continue;
				step(c, flags_str(fl));
				xmit(c, R, fl, c->isn[R], rnd32(), 0);
				if (kind == K_PROT)
					ck_out(c, XDP_DROP, CTRS(S(V_DROP_BAD_FLAGS)));
				else
					ck_out(c, XDP_PASS, CTRS(S(V_PASS_UNTRACKED), S(CT_INVALID)));
				ck_entry(c, false);
				xmit(c, L, fl, c->isn[L], rnd32(), 0);
				ck_out(c, TC_OK, CTRS(-1));
				ck_entry(c, false);
			}
		}
		ck_end();
		c->quiet = false;
	}
}

/* netfilter's window bounds, from the remote side (the local stack's
 * segments always apply): each just inside and just outside, for data, a
 * pure ACK, a FIN and a RST. */
enum { B_I, B_II, B_III, B_IV, B_MAX };
enum { P_DATA, P_ACK, P_FIN, P_RST, P_MAX };
static const char *const b_name[B_MAX] = { "I_seq_le_maxend", "II_end_ge_end_minus_maxwin",
					   "III_ack_le_end", "IV_ack_ge_end_minus_maxackwin" };
static const char *const p_name[P_MAX] = { "data", "pure_ack", "fin", "rst" };

static void t_bound(int f, int kind, int b, int p, bool inside)
{
	struct conn *c = &C;
	static const uint8_t pfl[P_MAX] = { F_ACK | F_PSH, F_ACK, F_FIN | F_ACK, F_RST | F_ACK };
	uint32_t len = p == P_DATA ? 10 : 0, fin = p == P_FIN, seq, ack, maxackwin;
	const struct xdpct_dir *S_, *Rv;
	int res, st = XDPCT_CT_ESTABLISHED;

	conn_init(c, f, kind, true, "ct.%s.bound.%s.%s.%s.%s", fam(f), kind_name[kind], b_name[b],
		  p_name[p], inside ? "inside" : "outside");
	established(c);
	S_ = &c->want.dir[R];
	Rv = &c->want.dir[L];
	seq = S_->end;
	ack = Rv->end;
	maxackwin = S_->maxwin > 66000 ? S_->maxwin : 66000;
	switch (b) {
	case B_I: seq = S_->maxend + !inside; break;
	case B_II: seq = S_->end - Rv->maxwin - !inside - len - fin; break; /* end at the edge */
	case B_III: ack = Rv->end + !inside; break;
	default: ack = Rv->end - maxackwin - !inside; break;
	}
	/* what docs/conntrack.md 3 and 4 say */
	if (p == P_RST) {
		if (b == B_I)
			res = inside ? M_RST_CHAL : M_RST_WIN; /* in window, not exact */
		else if (b == B_II)
			res = M_RST_WIN; /* below the receiver's ack either way */
		else
			res = inside ? M_OK : M_ACK; /* at the sender's next seq */
		st = XDPCT_CT_CLOSE;
	} else if (inside || (p == P_ACK && b <= B_II)) {
		res = M_OK; /* a pure ACK is checked by its ack only */
		st = p == P_FIN ? XDPCT_CT_FIN_WAIT : XDPCT_CT_ESTABLISHED;
	} else {
		res = b <= B_II ? M_SEQ : M_ACK;
	}
	step(c, "probe");
	xmit(c, R, pfl[p], seq, ack, (int)len);
	expect(c, res, st);
	ck_end();
}

/* A RST's lower edge is the receiver's last ack; between it and the
 * sender's next seq it is exact at both ends, challenged inside. */
static void t_rst_edges(int f, int kind)
{
	static const struct { const char *n; int at; int d; int res; } e[] = {
		{ "below_last_ack", 0, -1, M_RST_WIN }, { "at_last_ack", 0, 0, M_OK },
		{ "above_last_ack", 0, 1, M_RST_CHAL }, { "below_next_seq", 1, -1, M_RST_CHAL },
		{ "at_next_seq", 1, 0, M_OK }, { "above_next_seq", 1, 1, M_RST_CHAL },
	};
	struct conn *c = &C;

	for (unsigned int i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		uint32_t seq;

		conn_init(c, f, kind, true, "ct.%s.rst_edge.%s.%s", fam(f), kind_name[kind], e[i].n);
		established(c);
		seq = (e[i].at ? c->want.dir[R].end : c->want.dir[L].maxack) + (uint32_t)e[i].d;
		step(c, "rst");
		xmit(c, R, F_RST, seq, 0, 0);
		expect(c, e[i].res, XDPCT_CT_CLOSE);
		ck_end();
	}
}

/* The blind kill of the issue, against a protected ESTABLISHED entry: a
 * FIN without ACK at a random seq, a RST at that seq + 1, then four FIN|ACK
 * guesses each followed by a RST at its seq + 1. ack_known: the attacker
 * has the right ack (it sniffed one direction), guesses only the seq. */
static void t_blind_kill(int f, bool ack_known)
{
	struct conn *c = &C;
	struct xdpct_flow before;
	uint32_t x;

	conn_init(c, f, K_PROT, true, "ct.%s.blind_kill%s", fam(f), ack_known ? ".ack_known" : "");
	established(c);
	before = c->want;
	quiet_begin(c, "%s", c->name);
	x = rnd32();
	step(c, "fin_without_ack");
	xmit(c, R, F_FIN, x, 0, 0);
	invalid(c);
	step(c, "rst_after_fin");
	xmit(c, R, F_RST, x + 1, 0, 0);
	refused_any(c);
	for (int i = 0; i < 4; i++) {
		char n[40];

		x = rnd32();
		snprintf(n, sizeof(n), "fin_ack_guess_%d", i + 1);
		step(c, n);
		xmit(c, R, F_FIN | F_ACK, x, ack_known ? c->want.dir[L].end : rnd32(), 0);
		refused_any(c);
		snprintf(n, sizeof(n), "rst_after_guess_%d", i + 1);
		step(c, n);
		xmit(c, R, F_RST, x + 1, 0, 0);
		refused_any(c);
	}
	step(c, "after");
	CKC(c, c->want.state == XDPCT_CT_ESTABLISHED, "state %s, want ESTABLISHED",
	    st_name(c->want.state));
	CKC(c, !memcmp(&c->want, &before, sizeof(before)), "the entry moved");
	ck_end();
	c->quiet = false;
}

/* XDP left the state change to TC ingress: passed with XDPCT_META_CT in
 * front of the untouched frame, nothing moved. */
static void deferred(struct conn *c)
{
	struct xdpct_meta m, zero;

	ck_out(c, XDP_PASS, CTRS(S(V_PASS_FLOW), S(CT_CSUM_DEFER)));
	memset(&zero, 0, sizeof(zero));
	if (CKC(c, c->r.meta_len == (int)sizeof(m), "%s: metadata %d bytes, want %zu", c->r.what,
		c->r.meta_len, sizeof(m)) &&
	    CKC(c, c->r.out_len == (int)sizeof(m) + c->r.in_len, "%s: data_out %d bytes, want %zu",
		c->r.what, c->r.out_len, sizeof(m) + c->r.in_len)) {
		memcpy(&m, c->r.out, sizeof(m));
		CKC(c, m.magic == XDPCT_META_MAGIC && m.what == XDPCT_META_CT,
		    "%s: metadata magic 0x%08x what %u, want XDPC and XDPCT_META_CT", c->r.what,
		    m.magic, m.what);
		CKC(c, !memcmp(&m.attrs, &zero.attrs, sizeof(m.attrs)),
		    "%s: handover attributes on a deferred segment", c->r.what);
		CKC(c, !memcmp(c->r.out + sizeof(m), c->r.in, (size_t)c->r.in_len),
		    "%s: the frame changed", c->r.what);
	}
	ck_entry(c, false);
}

/* The checksum rule (docs/conntrack.md 5): a remote segment that would
 * change the state, and every remote FIN or closing RST, moves nothing in
 * XDP unless its TCP checksum holds; a wrong one is XDP's guess, not a
 * verdict: the segment goes on with XDPCT_META_CT. Data needs no checksum. */
static void t_csum(int f, int kind)
{
	struct conn *c = &C;

	conn_init(c, f, kind, true, "ct.%s.csum.%s.fin", fam(f), kind_name[kind]);
	established(c);
	step(c, "bad_deferred");
	c->csum_bad = true;
	xmit(c, R, F_FIN | F_ACK, c->nxt[R], c->nxt[L], 0);
	deferred(c);
	step(c, "good_applied");
	seg(c, R, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	ck_end();

	conn_init(c, f, kind, true, "ct.%s.csum.%s.rst", fam(f), kind_name[kind]);
	established(c);
	step(c, "challenge_bad_taken"); /* nothing moves: no checksum needed */
	c->csum_bad = true;
	xmit(c, R, F_RST | F_ACK, c->nxt[R] + 1, c->nxt[L], 0);
	rst_challenged(c);
	step(c, "closing_bad_deferred");
	c->csum_bad = true;
	xmit(c, R, F_RST | F_ACK, c->nxt[R], c->nxt[L], 0);
	deferred(c);
	step(c, "closing_good_applied");
	xmit(c, R, F_RST | F_ACK, c->nxt[R], c->nxt[L], 0);
	ok(c, XDPCT_CT_CLOSE);
	ck_end();

	conn_init(c, f, kind, true, "ct.%s.csum.%s.data", fam(f), kind_name[kind]);
	established(c);
	step(c, "bad_applied");
	c->csum_bad = true;
	seg(c, R, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	CKC(c, c->r.meta_len == 0, "metadata on data");
	ck_end();

	/* a FIN that moves no state: the remote's again, in LAST_ACK */
	conn_init(c, f, kind, true, "ct.%s.csum.%s.fin_again", fam(f), kind_name[kind]);
	established(c);
	step(c, "to_last_ack");
	seg(c, R, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	step(c, "bad_deferred");
	c->csum_bad = true;
	xmit(c, R, F_FIN | F_ACK, c->nxt[R] - 1, c->nxt[L] - 1, 0);
	deferred(c);
	step(c, "good_applied");
	xmit(c, R, F_FIN | F_ACK, c->nxt[R] - 1, c->nxt[L] - 1, 0);
	ok(c, XDPCT_CT_LAST_ACK);
	ck_end();

	/* an ACK that moves FIN_WAIT to CLOSE_WAIT changes the state */
	conn_init(c, f, kind, true, "ct.%s.csum.%s.ack_of_fin", fam(f), kind_name[kind]);
	established(c);
	step(c, "fin_out");
	seg(c, L, F_FIN | F_ACK, 0);
	ok(c, XDPCT_CT_FIN_WAIT);
	step(c, "bad_deferred");
	c->csum_bad = true;
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L], 0);
	deferred(c);
	step(c, "good_applied");
	seg(c, R, F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE_WAIT);
	ck_end();

	/* a SYN that reopens a closed entry */
	conn_init(c, f, kind, true, "ct.%s.csum.%s.reopen", fam(f), kind_name[kind]);
	established(c);
	step(c, "close");
	seg(c, R, F_RST | F_ACK, 0);
	ok(c, XDPCT_CT_CLOSE);
	c->isn[R] = c->nxt[R] + 100000;
	c->nxt[R] = c->isn[R];
	step(c, "syn_bad_deferred");
	c->csum_bad = true;
	xmit(c, R, F_SYN, c->isn[R], 0, 0);
	deferred(c);
	step(c, "syn_good_reopens");
	seg(c, R, F_SYN, 0);
	expect(c, M_REOPEN, XDPCT_CT_SYN_SENT);
	ck_end();
}

/* A SYN-ACK must ack exactly the local SYN (docs/conntrack.md 3, Linux's
 * rule): one acking a byte less, inside netfilter's window, is refused and
 * cannot seed the connection with its sequence number. */
static void t_synack_exact(int f)
{
	struct conn *c = &C;

	for (int kind = K_OBS; kind <= K_PROT; kind++) {
		conn_init(c, f, kind, false, "ct.%s.synack_exact.%s", fam(f), kind_name[kind]);
		step(c, "syn_out");
		syn_opens(c, L);
		step(c, "synack_acks_less");
		xmit(c, R, F_SYN | F_ACK, c->isn[R], c->nxt[L] - 1, 0);
		expect(c, M_ACK, -1);
		step(c, "synack_acks_more");
		xmit(c, R, F_SYN | F_ACK, c->isn[R], c->nxt[L] + 1, 0);
		expect(c, M_ACK, -1);
		step(c, "synack_exact");
		seg(c, R, F_SYN | F_ACK, 0);
		ok(c, XDPCT_CT_SYN_RECV);
		ck_end();
	}
}

/* ---- which table ---- */

static const char *hexs(const uint8_t *b, int n)
{
	static char buf[2][120];
	static int k;
	char *s = buf[k++ & 1];

	for (int i = 0; i < n && i < 36; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	return s;
}

/* The keys of one map, sorted, in a malloc()ed buffer of n * ksz bytes. */
static int key_cmp_sz;
static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)key_cmp_sz);
}

static uint8_t *map_keys(int fd, int ksz, int *n)
{
	uint8_t k[64], next[64], *all = NULL;
	void *prev = NULL;
	int cap = 0;

	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			all = realloc(all, (size_t)cap * (size_t)ksz);
			if (!all)
				exit(2);
		}
		memcpy(all + (size_t)*n * (size_t)ksz, next, (size_t)ksz);
		memcpy(k, next, sizeof(k));
		prev = k;
		(*n)++;
	}
	key_cmp_sz = ksz;
	if (*n)
		qsort(all, (size_t)*n, (size_t)ksz, key_cmp);
	return all;
}

/* Runs one frame through XDP, no checks: the floods below. */
static uint32_t run_raw(const uint8_t *buf, int n)
{
	uint8_t out[PG_MAX_FRAME];
	struct xdp_md xin = { .data_end = (uint32_t)n }, xout = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)n,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &xin,
		    .ctx_size_in = sizeof(xin), .ctx_out = &xout, .ctx_size_out = sizeof(xout),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(xdp_fd, &o))
		return 0xdead;
	n_runs++;
	return o.retval;
}

/* A frame from a random remote (2001:db8:1::/64, 198.18.0.0/15: not
 * martians) to the local address. */
static int flood_frame(int family, uint16_t dport, uint8_t flags, uint8_t *buf)
{
	struct pg_spec s;
	uint32_t r = rnd32();
	int n;

	memset(&s, 0, sizeof(s));
	memcpy(s.smac, R_MAC, 6);
	memcpy(s.dmac, L_MAC, 6);
	s.family = family;
	if (family == 4) {
		s.saddr[0] = 198;
		s.saddr[1] = (uint8_t)(18 + (r & 1));
		s.saddr[2] = (uint8_t)(r >> 8);
		s.saddr[3] = (uint8_t)(r >> 16);
		memcpy(s.daddr, L4, 4);
	} else {
		static const uint8_t p6[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0 };

		memcpy(s.saddr, p6, 8);
		for (int i = 8; i < 16; i++)
			s.saddr[i] = (uint8_t)rnd32();
		memcpy(s.daddr, L6, 16);
	}
	s.ttl = 64;
	s.sport = (uint16_t)(1024 + (r >> 20));
	s.dport = dport;
	s.seq = rnd32();
	s.ack = flags & F_ACK ? rnd32() : 0;
	s.flags = flags;
	s.win = 64240;
	n = pg_build(&s, buf, PG_MAX_FRAME, NULL);
	if (n < 0)
		exit(2);
	return n;
}

static void t_tables(int f)
{
	struct conn *c = &C;
	int ksz = f == 4 ? (int)sizeof(struct xdpct_flow4_key) : (int)sizeof(struct xdpct_flow6_key);
	int pfd = f == 4 ? f4_fd : f6_fd, ofd = f == 4 ? obs4_fd : obs6_fd;

	conn_init(c, f, K_OBS, true, "ct.%s.tables.observed_syn", fam(f));
	step(c, "syn");
	syn_opens(c, R);
	CKC(c, map_count(pfd) == 0 && map_count(ofd) == 1, "protected %d observed %d, want 0 1",
	    map_count(pfd), map_count(ofd));
	ck_end();

	conn_init(c, f, K_PROT, true, "ct.%s.tables.cookie_ack", fam(f));
	step(c, "syn");
	syn_cookie(c, CTRS(S(V_TX_SYNACK), S(SYN_SEEN), S(SYN_NO_LOOKUP)));
	step(c, "ack");
	cookie_ack(c);
	CKC(c, map_count(pfd) == 1 && map_count(ofd) == 0, "protected %d observed %d, want 1 0",
	    map_count(pfd), map_count(ofd));
	ck_end();

	/* the local stack's SYN from a protected port: its answer must find
	 * the entry, in the protected table */
	conn_init(c, f, K_PROT, false, "ct.%s.tables.local_syn_protected_port", fam(f));
	step(c, "syn_out");
	syn_opens(c, L);
	CKC(c, map_count(pfd) == 1 && map_count(ofd) == 0, "protected %d observed %d, want 1 0",
	    map_count(pfd), map_count(ofd));
	step(c, "synack_in");
	seg(c, R, F_SYN | F_ACK, 0);
	ok(c, XDPCT_CT_SYN_RECV);
	step(c, "ack_out");
	seg(c, L, F_ACK, 0);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "data_in");
	seg(c, R, F_ACK | F_PSH, 100);
	ok(c, XDPCT_CT_ESTABLISHED);
	ck_end();

	/* the protected table full of other keys, a cookie connection among
	 * them; then floods of SYNs to an observed port (each makes an
	 * entry), to the protected port (cookies) and of bad cookie ACKs:
	 * every protected entry stays, the connection's untouched */
	conn_init(c, f, K_PROT, true, "ct.%s.tables.floods_leave_protected", fam(f));
	quiet_begin(c, "%s", c->name);
	{
		uint64_t before[XDPCT_STAT_MAX], after_[XDPCT_STAT_MAX];
		struct xdpct_flow x, junk, now;
		uint8_t *k0, *k1, buf[PG_MAX_FRAME];
		int n0, n1, nobs, bad = 0;

		for (int i = 0; i < 1100; i++) { /* 1024 entries: full */
			struct xdpct_flow4_key k4;
			struct xdpct_flow6_key k6;
			int r;

			memset(&junk, 0, sizeof(junk));
			junk.state = XDPCT_CT_ESTABLISHED;
			junk.flags = XDPCT_FLOW_ADOPTED | XDPCT_FLOW_REMOTE_OPENED;
			junk.wscale[R] = junk.wscale[L] = 0xf;
			if (f == 4) {
				k4 = (struct xdpct_flow4_key){ htonl(0xc6120000u | (uint32_t)i), 0,
							       htons(5000), htons(PORT_PROT) };
				memcpy(&k4.laddr, L4, 4);
				junk.tag = xdpct_key_tag4(&k4);
				r = bpf_map_update_elem(f4_fd, &k4, &junk, BPF_NOEXIST);
			} else {
				memset(&k6, 0, sizeof(k6));
				k6.raddr[0] = htonl(0x20010db8);
				k6.raddr[3] = htonl((uint32_t)i);
				memcpy(k6.laddr, L6, 16);
				k6.rport = htons(5000);
				k6.lport = htons(PORT_PROT);
				junk.tag = xdpct_key_tag6(&k6);
				r = bpf_map_update_elem(f6_fd, &k6, &junk, BPF_NOEXIST);
			}
			bad += r != 0;
		}
		CKC(c, bad == 0, "%d junk inserts failed", bad);
		c->others = true;
		open_remote(c);
		step(c, "floods");
		if (CKC(c, !flow_read(c, &x), "the connection's entry is not there before the floods")) {
			k0 = map_keys(pfd, ksz, &n0);
			stats_read(before);
			for (int i = 0; i < 2048; i++)
				run_raw(buf, flood_frame(f, PORT_OBS, F_SYN, buf));
			for (int i = 0; i < 1024; i++)
				run_raw(buf, flood_frame(f, PORT_PROT, F_SYN, buf));
			for (int i = 0; i < 1024; i++)
				run_raw(buf, flood_frame(f, PORT_PROT, F_ACK, buf));
			stats_read(after_);
			k1 = map_keys(pfd, ksz, &n1);
			nobs = map_count(ofd);
			{
				int gone = 0, came = 0, i0 = 0, i1 = 0;
				char g[100] = "", a[100] = "";

				while (i0 < n0 || i1 < n1) {
					int d = i0 == n0 ? 1 : i1 == n1 ? -1 :
						memcmp(k0 + (size_t)i0 * ksz, k1 + (size_t)i1 * ksz, (size_t)ksz);

					if (d < 0 && !gone++)
						snprintf(g, sizeof(g), "%s", hexs(k0 + (size_t)i0 * ksz, ksz));
					if (d > 0 && !came++)
						snprintf(a, sizeof(a), "%s", hexs(k1 + (size_t)i1 * ksz, ksz));
					i0 += d <= 0;
					i1 += d >= 0;
				}
				CKC(c, n0 > 512 && !gone && !came, /* the LRU evicts before max_entries */
				    "protected table: %d keys before the floods, %d after: %d gone (first %s), "
				    "%d new (first %s)", n0, n1, gone, g, came, a);
			}
			CKC(c, nobs > 512 && nobs <= 1024,
			    "observed table: %d entries after 2048 SYNs, want it full (1024 max)", nobs);
			CKC(c, after_[S(V_PASS_CT_NEW)] - before[S(V_PASS_CT_NEW)] == 2048 &&
				       after_[S(V_TX_SYNACK)] - before[S(V_TX_SYNACK)] == 1024 &&
				       after_[S(V_DROP_COOKIE_BAD)] - before[S(V_DROP_COOKIE_BAD)] +
						       after_[S(V_DROP_COOKIE_STALE)] -
						       before[S(V_DROP_COOKIE_STALE)] ==
					       1024,
			    "pass_ct_new %+lld tx_synack %+lld drop_cookie_bad %+lld stale %+lld, "
			    "want 2048 1024 1024 (bad and stale)",
			    (long long)(after_[S(V_PASS_CT_NEW)] - before[S(V_PASS_CT_NEW)]),
			    (long long)(after_[S(V_TX_SYNACK)] - before[S(V_TX_SYNACK)]),
			    (long long)(after_[S(V_DROP_COOKIE_BAD)] - before[S(V_DROP_COOKIE_BAD)]),
			    (long long)(after_[S(V_DROP_COOKIE_STALE)] - before[S(V_DROP_COOKIE_STALE)]));
			CKC(c, !flow_read(c, &now) && !memcmp(&now, &x, sizeof(x)),
			    "the connection's entry changed");
			free(k0);
			free(k1);
		}
	}
	ck_end();
	c->quiet = false;
	maps_clear();
}

/* ---- a lost entry is not a lost connection: real sockets ---- */

/* BPF_PROG_TEST_RUN runs XDP on the loopback device of the caller's
 * network namespace, so bpf_skc_lookup_tcp() there finds the sockets of
 * this process. The process moves into a namespace of its own (the last
 * checks), with one address per family on lo that is no martian: a
 * connection from that address to itself, as XDP would see one from a
 * remote host. Sequence numbers are read from a packet socket on lo (the
 * handshake's and the last segment of each side), not from the kernel. */
#define LIVE_PORT PORT_PROT
#define LIVE4 LIVENS_ADDR4
#define LIVE6 LIVENS_ADDR6


/* A connection of this process on lo and what the wire showed of it. */
struct live {
	int family;
	int lfd, cfd, sfd; /* listener, client, the server's accepted socket */
	uint16_t cport;
	uint32_t cisn, sisn;
	int cws, sws;          /* shifts of the client's SYN and the server's SYN-ACK */
	uint32_t c_nxt, s_nxt; /* each side's next seq */
	uint16_t c_win, s_win; /* the last window each advertised, as on the wire */
	uint32_t c_maxwin;     /* the largest the client advertised after its SYN, scaled */
	uint32_t s_ack;        /* the server's last ack */
};

static void live_close(struct live *lv)
{
	if (lv->cfd >= 0)
		close(lv->cfd);
	if (lv->sfd >= 0)
		close(lv->sfd);
	if (lv->lfd >= 0)
		close(lv->lfd);
	lv->cfd = lv->sfd = lv->lfd = -1;
}

static int unacked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return (int)ti.tcpi_unacked;
}

/* Connects, sends 100 bytes client -> server and 50 + LIVE_UNREAD back,
 * of which the client reads 50 (its window shrinks: the server's
 * max_window and snd_wnd differ), waits until all is acked, reads the
 * wire. 0 or -1 (why says). */
#define LIVE_UNREAD 40000
static int live_open(struct live *lv, int family, char *why, size_t wlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = family == 4 ? sizeof(*s4) : sizeof(*s6);
	int af = family == 4 ? AF_INET : AF_INET6, one = 1, pfd, n;
	static char data[LIVE_UNREAD];
	uint8_t frame[PG_MAX_FRAME];
	uint64_t t0;
	struct sockaddr_ll sll;

	memset(lv, 0, sizeof(*lv));
	lv->family = family;
	lv->lfd = lv->cfd = lv->sfd = -1;
	lv->cws = lv->sws = -1;
	pfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (pfd < 0) {
		snprintf(why, wlen, "packet socket: %s", strerror(errno));
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex("lo");
	if (bind(pfd, (struct sockaddr *)&sll, sizeof(sll))) {
		snprintf(why, wlen, "packet socket bind: %s", strerror(errno));
		close(pfd);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(LIVE_PORT);
		memcpy(&s4->sin_addr, LIVE4, 4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(LIVE_PORT);
		memcpy(&s6->sin6_addr, LIVE6, 16);
	}
	lv->lfd = socket(af, SOCK_STREAM, 0);
	lv->cfd = socket(af, SOCK_STREAM, 0);
	if (lv->lfd < 0 || lv->cfd < 0 ||
	    setsockopt(lv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lv->lfd, (struct sockaddr *)&ss, sl) || listen(lv->lfd, 8) ||
	    connect(lv->cfd, (struct sockaddr *)&ss, sl)) {
		snprintf(why, wlen, "listen/connect on lo: %s", strerror(errno));
		goto fail;
	}
	lv->sfd = accept(lv->lfd, NULL, NULL);
	memset(data, 'd', sizeof(data));
	if (lv->sfd < 0 || write(lv->cfd, data, 100) != 100 || read(lv->sfd, data, 100) != 100 ||
	    write(lv->sfd, data, 50) != 50 || read(lv->cfd, data, 50) != 50 ||
	    write(lv->sfd, data, LIVE_UNREAD) != LIVE_UNREAD) {
		snprintf(why, wlen, "data on lo: %s", strerror(errno));
		goto fail;
	}
	t0 = mono_ns();
	while (unacked(lv->cfd) || unacked(lv->sfd)) {
		if (mono_ns() - t0 > 5000000000ULL) {
			snprintf(why, wlen, "data not acked within 5 s");
			goto fail;
		}
		usleep(1000);
	}
	usleep(50000); /* a delayed ACK of the last data, if any, goes out */
	if (getsockname(lv->cfd, (struct sockaddr *)&ss, &sl)) {
		snprintf(why, wlen, "getsockname: %s", strerror(errno));
		goto fail;
	}
	lv->cport = ntohs(family == 4 ? s4->sin_port : s6->sin6_port);
	/* the wire: each segment seen once, as it arrives (not outgoing) */
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pg_parsed p;
		bool from_client;

		n = (int)recvfrom(pfd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING || pg_parse(frame, n, &p) ||
		    p.family != family || p.proto != 6)
			continue;
		if (p.sport == lv->cport && p.dport == LIVE_PORT)
			from_client = true;
		else if (p.sport == LIVE_PORT && p.dport == lv->cport)
			from_client = false;
		else
			continue;
		if (from_client) {
			if (p.flags & F_SYN) {
				lv->cisn = p.seq;
				lv->cws = p.ws;
			} else if (lv->cws >= 0 && lv->sws >= 0 &&
				   (uint32_t)p.win << lv->cws > lv->c_maxwin) {
				lv->c_maxwin = (uint32_t)p.win << lv->cws;
			}
			lv->c_win = p.win;
			lv->c_nxt = p.seq + (uint32_t)(p.tcp_len - p.tcp_hlen) +
				    !!(p.flags & F_SYN) + !!(p.flags & F_FIN);
		} else {
			if (p.flags & F_SYN) {
				lv->sisn = p.seq;
				lv->sws = p.ws;
			}
			lv->s_win = p.win;
			lv->s_ack = p.ack;
			lv->s_nxt = p.seq + (uint32_t)(p.tcp_len - p.tcp_hlen) +
				    !!(p.flags & F_SYN) + !!(p.flags & F_FIN);
		}
	}
	close(pfd);
	if (lv->cws < 0 || lv->sws < 0 || lv->c_nxt != lv->cisn + 101 ||
	    lv->s_nxt != lv->sisn + 51 + LIVE_UNREAD) {
		snprintf(why, wlen, "the wire does not show the handshake and the data "
			 "(client ws %d next %u isn %u, server ws %d next %u isn %u)", lv->cws,
			 lv->c_nxt, lv->cisn, lv->sws, lv->s_nxt, lv->sisn);
		live_close(lv);
		return -1;
	}
	return 0;
fail:
	close(pfd);
	live_close(lv);
	return -1;
}

/* A conn for a live connection: remote = the client, local = the server. */
static void live_conn(struct conn *c, const struct live *lv, const char *name)
{
	conn_init(c, lv->family, K_PROT, true, "%s", name);
	memcpy(c->raddr, lv->family == 4 ? LIVE4 : LIVE6, lv->family == 4 ? 4 : 16);
	memcpy(c->laddr, c->raddr, 16);
	c->rport = lv->cport;
	c->lport = LIVE_PORT;
	c->isn[R] = lv->cisn;
	c->isn[L] = lv->sisn;
	c->nxt[R] = lv->c_nxt;
	c->nxt[L] = lv->s_nxt;
	c->win[R] = lv->c_win;
	c->win[L] = lv->s_win;
	c->ws[R] = lv->cws;
	c->ws[L] = lv->sws;
}

/* The entry of a connection read from its server socket (docs/conntrack.md,
 * A lost entry...): each side's end and last ack, the windows each gave
 * the other, the shifts of their SYNs. */
static void live_entry(const struct live *lv, uint8_t flags, struct xdpct_flow *f)
{
	uint32_t swnd = (uint32_t)lv->c_win << lv->cws, rwnd = (uint32_t)lv->s_win << lv->sws;

	f->state = XDPCT_CT_ESTABLISHED;
	f->flags = flags | XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL;
	f->wscale[R] = ws_of(lv->cws);
	f->wscale[L] = ws_of(lv->sws);
	f->tcp_flags[R] |= F_ACK;
	f->tcp_flags[L] |= F_ACK;
	/* all acked both ways: snd_una = snd_nxt, rcv_wup = rcv_nxt */
	f->dir[L] = (struct xdpct_dir){ lv->s_nxt, lv->s_nxt + swnd, rwnd, lv->c_nxt };
	f->dir[R] = (struct xdpct_dir){ lv->c_nxt, lv->s_ack + rwnd, lv->c_maxwin, lv->s_nxt };
}

static void seen_set_conn(const struct conn *c)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (c->family == 4) {
		key4(c, &k4);
		xdpct_seen_set4(&seen, &k4);
	} else {
		key6(c, &k6);
		xdpct_seen_set6(&seen, &k6);
	}
}

/* The client's ACK of all it got, as the kernel would send it (no
 * timestamps: XDP has no PAWS). */
static void live_ack(struct conn *c)
{
	xmit(c, R, F_ACK, c->nxt[R], c->nxt[L], 0);
}

/* What the cookie check makes of an ack that is no cookie: stale when its
 * slot bits are two or three slots back (checked before the hash), else
 * bad. The default slot, no fleet clock. */
static int refused_stat(uint32_t ack)
{
	return xdpct_cookie_age(mono_ns() >> XDPCT_SLOT_SHIFT, ack - 1) > 1 ?
		       S(V_DROP_COOKIE_STALE) :
		       S(V_DROP_COOKIE_BAD);
}

static void t_lost_entry(int family)
{
	struct conn *c = &C;
	struct live lv;
	char why[200], name[120];

	snprintf(name, sizeof(name), "ct.%s.lost_entry", fam(family));
	if (live_open(&lv, family, why, sizeof(why))) {
		ck_end();
		ck_skip(name, why);
		return;
	}
	/* no bit: a tuple that never had an entry pays no socket lookup */
	live_conn(c, &lv, name);
	step(c, "client_window_shrank"); /* else max_window and snd_wnd are one */
	CKC(c, (uint32_t)lv.c_win << lv.cws < lv.c_maxwin,
	    "the client's last window %u << %d, its largest %u", lv.c_win, lv.cws, lv.c_maxwin);
	step(c, "bit_clear_no_lookup");
	live_ack(c);
	ck_out(c, XDP_DROP, CTRS(refused_stat(c->nxt[L])));
	ck_entry(c, false);

	/* its bit set (it had an entry): the socket's numbers back */
	step(c, "bit_set_readopted");
	seen_set_conn(c);
	live_ack(c);
	ck_out(c, XDP_PASS, CTRS(S(V_PASS_FLOW), S(LOST_LOOKUP), S(CT_READOPT)));
	{
		struct xdpct_flow e0, e1;
		struct mseg s;

		memset(&e0, 0, sizeof(e0));
		e0.tag = key_tag(c);
		/* who opened it is not known: on a protected port, the remote */
		live_entry(&lv, XDPCT_FLOW_ADOPTED | XDPCT_FLOW_REMOTE_OPENED, &e0);
		mseg_of(&c->r, &s);
		CKC(c, model_seg(&e0, &s, &e1) == M_OK, "the model refuses the client's ACK");
		c->want = e1;
		c->exists = true;
	}
	ck_entry(c, true);
	step(c, "next_ack_tracked");
	live_ack(c);
	ok(c, XDPCT_CT_ESTABLISHED);
	step(c, "spoofed_far_seq_dropped");
	xmit(c, R, F_ACK | F_PSH, c->nxt[R] + 0x40000000u, c->nxt[L], 100);
	expect(c, M_SEQ, -1);
	ck_end();

	/* the server closes first: its socket goes to TIME_WAIT; the entry
	 * lost then, an ACK is left to the kernel's TIME_WAIT socket */
	snprintf(name, sizeof(name), "ct.%s.lost_entry.kernel_time_wait", fam(family));
	ck_begin("%s", name);
	{
		uint64_t t0 = mono_ns();
		char b[16];
		int st = 0;

		shutdown(lv.sfd, SHUT_WR);
		while (read(lv.cfd, b, sizeof(b)) > 0)
			;
		close(lv.cfd);
		lv.cfd = -1;
		while (read(lv.sfd, b, sizeof(b)) > 0)
			;
		close(lv.sfd); /* the orphan goes to TIME_WAIT */
		lv.sfd = -1;
		maps_clear();
		seen_set_conn(c);
		c->exists = false;
		for (;;) { /* lo is synchronous, but wait if the state lags */
			xmit(c, R, F_ACK, c->nxt[R] + 1, c->nxt[L] + 1, 0);
			st = c->r.d[S(V_PASS_KERNEL_TW)] == 1;
			if (st || mono_ns() - t0 > 5000000000ULL)
				break;
			maps_clear(); /* a FIN_WAIT socket was re-adopted: again */
			seen_set_conn(c);
			usleep(2000);
		}
		ck_out(c, XDP_PASS, CTRS(S(V_PASS_KERNEL_TW), S(LOST_LOOKUP)));
		ck_entry(c, false);
	}
	ck_end();
	live_close(&lv);
	maps_clear();
}

/* An entry adopted through sock_diag has no sequence numbers: the first
 * remote packet reads them from the socket (ct_sync_socket), whatever the
 * packet says; a spoofed one is then judged against them. */
static void t_adopted_sync(int family)
{
	struct conn *c = &C;
	struct xdpct_flow fl, e0, e1;
	struct live lv;
	struct mseg s;
	char why[200], name[120];

	for (int spoof = 0; spoof < 2; spoof++) {
		snprintf(name, sizeof(name), "ct.%s.adopted_sync.%s", fam(family),
			 spoof ? "spoofed_first_packet_refused" : "first_packet");
		if (live_open(&lv, family, why, sizeof(why))) {
			ck_end();
			ck_skip(name, why);
			return;
		}
		live_conn(c, &lv, name);
		step(c, "adopted");
		adopted_established(c, &fl);
		CKC(c, !flow_insert_user(c, &fl, true), "insert: %s", strerror(errno));
		c->want = fl;
		c->exists = true;
		memset(&e0, 0, sizeof(e0));
		e0 = fl;
		live_entry(&lv, fl.flags, &e0);
		if (spoof) { /* far off: learnt, it would move the window there */
			step(c, "spoofed_data");
			xmit(c, R, F_ACK | F_PSH, c->nxt[R] + 0x40000000u, c->nxt[L], 100);
			ck_out(c, XDP_DROP, CTRS(S(V_DROP_SEQ_WINDOW), S(CT_INVALID), S(CT_SYNC_SOCKET)));
			c->want = e0; /* the socket's numbers, not the packet's */
			ck_entry(c, false);
			step(c, "then_the_real_ack");
			live_ack(c);
			ok(c, XDPCT_CT_ESTABLISHED);
		} else {
			step(c, "first_ack");
			live_ack(c);
			ck_out(c, XDP_PASS, CTRS(S(V_PASS_FLOW), S(CT_SYNC_SOCKET)));
			mseg_of(&c->r, &s);
			CKC(c, model_seg(&e0, &s, &e1) == M_OK, "the model refuses the client's ACK");
			c->want = e1;
			ck_entry(c, true);
			step(c, "second_ack_no_sync");
			live_ack(c);
			ok(c, XDPCT_CT_ESTABLISHED);
		}
		ck_end();
		live_close(&lv);
		maps_clear();
	}

	/* no socket (gone): the packet's numbers, as netfilter picks up. At
	 * zero: numbers the entry's empty windows would admit as they are */
	for (int zero = 0; zero < 2; zero++) {
		snprintf(name, sizeof(name), "ct.%s.adopted_sync.no_socket_pickup%s",
			 fam(family), zero ? "_at_zero" : "");
		conn_init(c, family, K_PROT, true, "%s", name);
		memcpy(c->raddr, family == 4 ? LIVE4 : LIVE6, family == 4 ? 4 : 16);
		memcpy(c->laddr, c->raddr, 16);
		if (zero)
			c->nxt[R] = c->nxt[L] = 0;
		step(c, "adopted");
		adopted_established(c, &fl);
		CKC(c, !flow_insert_user(c, &fl, true), "insert: %s", strerror(errno));
		c->want = fl;
		c->exists = true;
		step(c, zero ? "first_data_picked_up" : "first_ack_picked_up");
		seg(c, R, zero ? F_ACK | F_PSH : F_ACK, zero ? 100 : 0);
		ok(c, XDPCT_CT_ESTABLISHED);
		step(c, "data");
		seg(c, R, F_ACK | F_PSH, 100);
		ok(c, XDPCT_CT_ESTABLISHED);
		ck_end();
		maps_clear();
	}
}

/* ---- setup and main ---- */

/* Does BPF_PROG_TEST_RUN run the TC egress program on a full frame? */
static void t_tc_test_run(void)
{
	struct conn *c = &C;

	conn_init(c, 4, K_OBS, false, "ct.setup.tc_out_test_run");
	ck_begin("ct.setup.tc_out_test_run");
	seg(c, L, F_SYN, 0);
	CK(c->r.err == 0, "BPF_PROG_TEST_RUN on xdpct_tc_out: %s", strerror(-c->r.err));
	CK(c->r.d[S(TC_OUT_PACKETS)] == 1, "tc_out_packets %+lld: the program did not run",
	   (long long)c->r.d[S(TC_OUT_PACKETS)]);
	CK(c->r.out_len == (int)c->r.ip_len + 14, "data_out %d bytes, want the frame (%u)",
	   c->r.out_len, c->r.ip_len + 14);
	ck_end();
	maps_clear();
}

static int setup(void)
{
	struct bpf_map *map;
	int err;

	ck_begin("ct.setup.load");
	skel = xdpct_bpf__open();
	if (!CK(skel, "xdpct_bpf__open: %s", strerror(errno)))
		return ck_end(), -1;
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__set_pin_path(map, NULL), "unpin %s", bpf_map__name(map));
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows4, 1024), "flows4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows6, 1024), "flows6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_pending, 1024), "pending max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed4, 1024), "observed4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed6, 1024), "observed6 max_entries");
	err = xdpct_bpf__load(skel);
	if (!CK(!err, "xdpct_bpf__load: %s", strerror(-err)))
		return ck_end(), -1;
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__is_pinned(map), "map %s pinned", bpf_map__name(map));
	xdp_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	tcout_fd = bpf_program__fd(skel->progs.xdpct_tc_out);
	cfg_fd = bpf_map__fd(skel->maps.xdpct_config);
	ports_fd = bpf_map__fd(skel->maps.xdpct_ports);
	f4_fd = bpf_map__fd(skel->maps.xdpct_flows4);
	f6_fd = bpf_map__fd(skel->maps.xdpct_flows6);
	pend_fd = bpf_map__fd(skel->maps.xdpct_pending);
	stats_fd = bpf_map__fd(skel->maps.xdpct_stats);
	obs4_fd = bpf_map__fd(skel->maps.xdpct_observed4);
	obs6_fd = bpf_map__fd(skel->maps.xdpct_observed6);
	err = xdpct_seen_map(bpf_map__fd(skel->maps.xdpct_seen), NULL, &seen);
	CK(!err, "mmap of xdpct_seen: %s", strerror(-err));
	ncpu = libbpf_num_possible_cpus();
	CK(ncpu > 0, "possible cpus %d", ncpu);
	CK(!set_cfg(CFG_BASE), "config write: %s", strerror(errno));
	CK(!set_port(PORT_PROT, XDPCT_PORT_PROTECT) && !set_port(PORT_OBS, XDPCT_PORT_OBSERVE),
	   "ports write: %s", strerror(errno));
	return ck_end() ? 0 : -1;
}

int main(void)
{
	uint64_t t0 = mono_ns();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		ck_skip("ct", "needs root (BPF_PROG_TEST_RUN, map creation)");
		return ck_finish("test_ct");
	}
	if (setup()) {
		xdpct_bpf__destroy(skel);
		return ck_finish("test_ct");
	}
	t_tc_test_run();
	for (int f = 4; f <= 6; f += 2) {
		t_open_remote(f, K_OBS);
		t_open_remote(f, K_ALL);
		t_cookie(f);
		t_open_local(f, K_OBS);
		t_open_local(f, K_ALL);
		for (int kind = K_OBS; kind <= K_PROT; kind++) {
			t_close(f, kind, R);
			t_close(f, kind, L);
			t_bytes_64(f, kind);
			t_simclose(f, kind, R, false);
			t_simclose(f, kind, L, false);
			t_simclose(f, kind, R, true);
			t_halfclose(f, kind, R);
			t_halfclose(f, kind, L);
			t_ack_window(f, kind);
			t_invalid(f, kind);
			t_reopen(f, kind, false);
			t_reopen(f, kind, true);
			t_rst_after_data(f, kind, R);
			t_rst_after_data(f, kind, L);
		}
		t_reopen_local(f);
		t_simopen(f);
		t_retrans(f);
		t_high_isn(f, true);
		t_high_isn(f, false);
		t_syn_in_established(f);
		t_rst_all(f);
		t_seen(f);
		t_flags(f);
		for (int kind = K_OBS; kind <= K_PROT; kind++) {
			for (int b = 0; b < B_MAX; b++)
				for (int p = 0; p < P_MAX; p++) {
					t_bound(f, kind, b, p, true);
					t_bound(f, kind, b, p, false);
				}
			t_rst_edges(f, kind);
			t_csum(f, kind);
		}
		t_blind_kill(f, false);
		t_blind_kill(f, true);
		t_tables(f);
		t_synack_exact(f);
	}
	/* the last checks: this process in a network namespace of its own */
	{
		char why[200];

		if (livens_setup(why, sizeof(why))) {
			ck_skip("ct.lost_entry", why);
		} else {
			for (int f = 4; f <= 6; f += 2) {
				t_lost_entry(f);
				t_adopted_sync(f);
			}
		}
	}
	ck_begin("ct.counters.invariants");
	CK(n_inv_bad == 0, "%d of %d packets broke them; first: %s", n_inv_bad, n_runs,
	   inv_first);
	ck_end();
	xdpct_bpf__destroy(skel);
	ck_note("%d test runs in %.2f s", n_runs, (mono_ns() - t0) / 1e9);
	return ck_finish("test_ct");
}
