// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the XDP program through BPF_PROG_TEST_RUN: SYN -> cookie
 * SYN-ACK, cookie ACK -> metadata + flow entry, bad/stale cookies, the key
 * of each cookie slot across rotations, malformed frames, transit traffic
 * (XDPCT_CFG_LOCAL_ONLY), sources Linux never answers, the allow and deny
 * lists (XDPCT_CFG_ACL), and the one-verdict-counter-per-packet rule.
 * Expected cookies come from
 * tests/unit/siphash_ref.c and the layout in include/xdpct.h, never from
 * bpf/cookie.h; a cookie flow's entry from docs/conntrack.md (netfilter's
 * four numbers per side). Maps are not pinned. */
#define _GNU_SOURCE /* sched_setaffinity(), sched_getcpu() */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdpct.h"
#include "xdpct.skel.h"
#include "nat.skel.h"
#include "livens.h"
#include "check.h"
#include "pktgen.h"
#include "maputil.h"
#include "siphash_ref.h"
#include "xdpct_seen.h"
#include "xdpct_stats.h"

#define S(x) XDPCT_STAT_##x
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_ECE 0x40
#define F_CWR 0x80

#define CFG_ALL (XDPCT_CFG_ENABLED | XDPCT_CFG_SACK | XDPCT_CFG_TIMESTAMPS | \
		 XDPCT_CFG_WSCALE | XDPCT_CFG_ECN)
#define MSS4 1460
#define MSS6 1440
#define WSCALE 7
#define TTL 64
#define PORT 80       /* protected */
#define PORT_OPEN 81  /* not protected */

#define STAT_ID(id, name, help) #id,
#define STAT_NAME(id, name, help) #name,
static const char *const stat_id[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_ID) };
static const char *const stat_name[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_NAME) };

static const struct xdpct_siphash_key K1 = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
static const struct xdpct_siphash_key K2 = { 0x8badf00ddeadbeefULL, 0x0123456789abcdefULL };
static const struct xdpct_siphash_key K3 = { 0x1111111111111111ULL, 0x2222222222222222ULL };

static const uint8_t CLI_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t SRV_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t CLI4[4] = { 10, 0, 0, 1 };
static const uint8_t SRV4[4] = { 10, 0, 0, 2 };
static const uint8_t CLI6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t SRV6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static struct xdpct_bpf *skel;
static int prog_fd, cfg_fd, ports_fd, flows4_fd, flows6_fd, pending_fd, stats_fd, ncpu;
static int obs4_fd, obs6_fd, local_fd, seen_fd, acl_fd;
static struct xdpct_config cfg_now; /* what the config map holds */

/* ---- small utilities ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint16_t port_seq = 20000;

static uint16_t next_port(void)
{
	if (++port_seq < 1024)
		port_seq = 20000;
	return port_seq;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the BPF clock */
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xdpct_config.clock_offset_ns of the configs set_cfg_at() writes: 0, or a
 * fleet's CLOCK_REALTIME offset. */
static int64_t clock_off;

static uint32_t slot_of(uint64_t ns)
{
	return ((ns + clock_off) >> XDPCT_SLOT_SHIFT) & 3;
}

/* ack with its cookie's slot bits set to now's slot: a wrong cookie the
 * hash must refuse (a stale slot is refused before it). */
static uint32_t live_ack(uint32_t ack)
{
	return xdpct_cookie_in_slot(ack - 1, slot_of(mono_ns())) + 1;
}

/* The counter a wrong cookie in ack moves: stale when its slot is two or
 * three back, else bad. */
static int refused_stat(uint32_t ack)
{
	return xdpct_cookie_age(slot_of(mono_ns()), ack - 1) > 1 ? S(V_DROP_COOKIE_STALE) :
								   S(V_DROP_COOKIE_BAD);
}

static const char *vname(uint32_t v)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v < 5 ? n[v] : "?";
}

static const char *hex(const uint8_t *b, int n)
{
	static char buf[4][400];
	static int k;
	char *s = buf[k++ & 3];
	int i;

	for (i = 0; i < n && i < 120; i++)
		sprintf(s + 3 * i, "%02x ", b[i]);
	s[i ? 3 * i - 1 : 0] = 0;
	return s;
}

/* ---- maps ---- */

static void stats_read(uint64_t out[XDPCT_STAT_MAX])
{
	xdpct_stats_sum(stats_fd, out); /* zeros on failure */
}

/* The absolute cookie slot of a time (include/xdpct.h: key_sel counts
 * these), at the default slot length. */
static uint64_t abs_slot(uint64_t ns)
{
	return (ns + clock_off) >> XDPCT_SLOT_SHIFT;
}

/* The key that signs and checks the cookies of absolute slot abs, as
 * include/xdpct.h defines key_sel; *prev: the older one. */
static const struct xdpct_siphash_key *cfg_key_of(uint64_t abs, bool *prev)
{
	unsigned int i = cfg_now.key_sel & 1;
	bool p = abs < (cfg_now.key_sel >> 1);

	if (prev)
		*prev = p;
	return &cfg_now.keys[p ? i ^ 1 : i];
}

/* prev NULL: cur signs every slot. Otherwise a rotation at absolute slot
 * from: prev signs the slots before it, cur from it on. Which of keys[0]
 * and keys[1] holds cur alternates from call to call: the index is the
 * data path's to follow, not a fixed place. */
static int set_cfg_at(uint32_t flags, const struct xdpct_siphash_key *cur,
		      const struct xdpct_siphash_key *prev, uint64_t from)
{
	static unsigned int flip;
	unsigned int i = flip++ & 1;
	uint32_t zero = 0;

	memset(&cfg_now, 0, sizeof(cfg_now));
	cfg_now.keys[i] = *cur;
	/* never a key that checks anything: a cookie of it fails */
	cfg_now.keys[i ^ 1] = prev ? *prev : (struct xdpct_siphash_key){ ~cur->k0, ~cur->k1 };
	cfg_now.key_sel = (prev ? from : 0) << 1 | i;
	cfg_now.flags = flags;
	cfg_now.mss4 = MSS4;
	cfg_now.mss6 = MSS6;
	cfg_now.wscale = WSCALE;
	cfg_now.ttl = TTL;
	cfg_now.key_epoch = 1;
	cfg_now.clock_offset_ns = clock_off;
	return bpf_map_update_elem(cfg_fd, &zero, &cfg_now, BPF_ANY);
}

static int set_cfg(uint32_t flags, const struct xdpct_siphash_key *cur,
		   const struct xdpct_siphash_key *prev)
{
	return set_cfg_at(flags, cur, prev, abs_slot(mono_ns()));
}

static int set_port(uint32_t port, uint8_t flags)
{
	return bpf_map_update_elem(ports_fd, &port, &flags, BPF_ANY);
}

/* Flows of both families in the protected and the observed tables; the
 * pending map goes with them. */
static int flows_count(void)
{
	return map_count(flows4_fd) + map_count(flows6_fd) + map_count(obs4_fd) +
	       map_count(obs6_fd);
}

static struct xdpct_seen seen = { .lock_fd = -1 }; /* xdpct_seen, mmap()ed */

static void flows_clear(void)
{
	map_clear(flows4_fd);
	map_clear(flows6_fd);
	map_clear(obs4_fd);
	map_clear(obs6_fd);
	map_clear(pending_fd);
	/* no entries, no bits: a tuple is looked up only once it has one */
	if (seen.w)
		xdpct_seen_reset(&seen);
}

/* Family key <-> generic key (the pending map's, and the tests' own). */
static void key4_of(const struct xdpct_flow_key *k, struct xdpct_flow4_key *k4)
{
	memset(k4, 0, sizeof(*k4));
	k4->raddr = k->raddr[0];
	k4->laddr = k->laddr[0];
	k4->rport = k->rport;
	k4->lport = k->lport;
}

static void key6_of(const struct xdpct_flow_key *k, struct xdpct_flow6_key *k6)
{
	memset(k6, 0, sizeof(*k6));
	memcpy(k6->raddr, k->raddr, 16);
	memcpy(k6->laddr, k->laddr, 16);
	k6->rport = k->rport;
	k6->lport = k->lport;
}

/* The tag an entry of key k must carry (include/xdpct.h). */
static uint32_t tag_of(const struct xdpct_flow_key *k)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		key4_of(k, &k4);
		return xdpct_key_tag4(&k4);
	}
	key6_of(k, &k6);
	return xdpct_key_tag6(&k6);
}

enum { T_FLOWS = 0, T_OBSERVED = 1 }; /* where flows_first found the entry */
static int first_table;

/* The first flow, protected tables before observed ones, IPv4 before
 * IPv6, with its generic key; first_table says which kind of table. */
static int flows_first(struct xdpct_flow_key *k, struct xdpct_flow *v)
{
	int fd4[2] = { flows4_fd, obs4_fd }, fd6[2] = { flows6_fd, obs6_fd };
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	memset(k, 0, sizeof(*k));
	for (int t = 0; t < 2; t++) {
		first_table = t;
		if (!bpf_map_get_next_key(fd4[t], NULL, &k4)) {
			k->family = 4;
			k->raddr[0] = k4.raddr;
			k->laddr[0] = k4.laddr;
			k->rport = k4.rport;
			k->lport = k4.lport;
			return bpf_map_lookup_elem(fd4[t], &k4, v);
		}
		if (!bpf_map_get_next_key(fd6[t], NULL, &k6)) {
			k->family = 6;
			memcpy(k->raddr, k6.raddr, 16);
			memcpy(k->laddr, k6.laddr, 16);
			k->rport = k6.rport;
			k->lport = k6.lport;
			return bpf_map_lookup_elem(fd6[t], &k6, v);
		}
	}
	return -1;
}

/* Rewrites an entry of the protected tables in place (tests only: the
 * programs and userspace never update an entry through the map API). */
static int flow_put(const struct xdpct_flow_key *k, const struct xdpct_flow *v)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		key4_of(k, &k4);
		return bpf_map_update_elem(flows4_fd, &k4, v, BPF_EXIST);
	}
	key6_of(k, &k6);
	return bpf_map_update_elem(flows6_fd, &k6, v, BPF_EXIST);
}

/* ---- running one packet ---- */

struct res {
	int err;          /* 0 or -errno of BPF_PROG_TEST_RUN */
	uint32_t verdict;
	uint8_t out[PG_MAX_FRAME];
	int out_len;      /* data_out bytes: metadata + frame */
	int meta_len;     /* ctx_out.data: metadata length */
	const uint8_t *frame; /* out + meta_len */
	int frame_len;
	int64_t d[XDPCT_STAT_MAX]; /* counter deltas */
};

static int n_runs, n_inv_bad;
static char inv_first[420];

static const char *moved(const struct res *r)
{
	static char buf[400];
	int n = 0;

	buf[0] = 0;
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		if (r->d[i] && n < (int)sizeof(buf) - 60)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s%+lld", n ? "," : "",
				      stat_name[i], (long long)r->d[i]);
	return n ? buf : "none";
}

/* Runs the XDP program once on pkt (repeat=1: the program rewrites its
 * input). Checks on every packet: exactly one V_* counter and xdp_packets
 * moved by one, ctx_out agrees with data_size_out. */
static void run(const uint8_t *pkt, int len, struct res *r)
{
	uint64_t before[XDPCT_STAT_MAX], after[XDPCT_STAT_MAX];
	struct xdp_md ctx_in = { .data = 0, .data_end = (uint32_t)len }, ctx_out = {};
	int64_t vsum = 0;
	char why[200] = "";
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = pkt,
		    .data_size_in = (uint32_t)len,
		    .data_out = r->out,
		    .data_size_out = sizeof(r->out),
		    .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out),
		    .repeat = 1);

	stats_read(before);
	r->err = bpf_prog_test_run_opts(prog_fd, &o);
	if (r->err)
		r->err = -errno;
	stats_read(after);
	r->verdict = o.retval;
	r->out_len = r->err ? 0 : (int)o.data_size_out;
	r->meta_len = r->err ? 0 : (int)ctx_out.data;
	r->frame = r->out + r->meta_len;
	r->frame_len = r->out_len - r->meta_len;
	for (int i = 0; i < XDPCT_STAT_MAX; i++) {
		r->d[i] = (int64_t)(after[i] - before[i]);
		if (!strncmp(stat_id[i], "V_", 2))
			vsum += r->d[i];
	}
	n_runs++;
	if (r->err) {
		if (vsum || r->d[S(XDP_PACKETS)])
			snprintf(why, sizeof(why), "test_run failed but counters moved: %s",
				 moved(r));
	} else if (vsum != 1 || r->d[S(XDP_PACKETS)] != 1) {
		snprintf(why, sizeof(why), "verdict counters moved %lld, xdp_packets %+lld, want 1 and +1 (%s)",
			 (long long)vsum, (long long)r->d[S(XDP_PACKETS)], moved(r));
	} else if (ctx_out.data_end - ctx_out.data != (uint32_t)r->frame_len) {
		snprintf(why, sizeof(why), "ctx_out data_end-data %u != frame %d",
			 ctx_out.data_end - ctx_out.data, r->frame_len);
	}
	if (why[0]) {
		if (!n_inv_bad++)
			snprintf(inv_first, sizeof(inv_first), "%s: %s", ck.name, why);
		CK(0, "%s", why);
	}
}

/* verdict, its V_* counter, and an optional detail counter (-1: none) */
static bool ck_verdict(const struct res *r, uint32_t verdict, int vstat, int detail)
{
	if (!CK(r->err == 0, "BPF_PROG_TEST_RUN: %s", strerror(-r->err)))
		return false;
	CK(r->verdict == verdict, "verdict %s, want %s (counters: %s)", vname(r->verdict),
	   vname(verdict), moved(r));
	CK(r->d[vstat] == 1, "%s %+lld, want +1 (counters: %s)", stat_name[vstat],
	   (long long)r->d[vstat], moved(r));
	if (detail >= 0)
		CK(r->d[detail] == 1, "%s %+lld, want +1 (counters: %s)", stat_name[detail],
		   (long long)r->d[detail], moved(r));
	return !ck_failed();
}

static bool ck_untouched(const struct res *r, const uint8_t *in, int len)
{
	if (!CK(r->meta_len == 0, "metadata of %d bytes on a passed packet", r->meta_len))
		return false;
	if (!CK(r->frame_len == len, "length %d, want %d (untouched)", r->frame_len, len))
		return false;
	return CK(!memcmp(r->frame, in, len), "bytes changed on a passed packet");
}

static bool ck_no_flows(void)
{
	int n = flows_count();

	if (n)
		flows_clear();
	return CK(n == 0, "flow map has %d entries, want 0", n);
}

/* ---- the cookie, as include/xdpct.h specifies it ---- */

static const uint16_t mss4_tab[XDPCT_MSS_TABLE_LEN] = XDPCT_MSS4_TABLE;
static const uint16_t mss6_tab[XDPCT_MSS_TABLE_LEN] = XDPCT_MSS6_TABLE;

static uint16_t mss_of_idx(int family, uint32_t idx)
{
	return (family == 4 ? mss4_tab : mss6_tab)[idx & 3];
}

/* Largest table entry not above the client's MSS; 536 when it sent none. */
static uint32_t exp_mss_idx(int family, int client_mss)
{
	int mss = client_mss ? client_mss : 536;
	uint32_t idx = 0;

	for (uint32_t i = 1; i < XDPCT_MSS_TABLE_LEN; i++)
		if (mss >= mss_of_idx(family, i))
			idx = i;
	return idx;
}

/* The cookie layouts: with timestamps hash:28 | slot:2 | mss:2 and the
 * options in TSval; without, hash:28 | slot:2 | mss:2 and no options; without
 * and with XDPCT_CFG_NOTS_OPTIONS, hash:23 | sack:1 | wscale:4 | slot:2 | mss:2.
 * The number is the layout field of the hashed data. */
enum { L_NOTS = 0, L_TS = 1, L_NOTS_OPTS = 2, L_MAX };
static const char *const lay_name[L_MAX] = { "no_ts", "ts", "no_ts_opts" };

static uint32_t lay_cfg(int layout)
{
	return CFG_ALL | (layout == L_NOTS_OPTS ? XDPCT_CFG_NOTS_OPTIONS : 0);
}

static uint32_t make_opts(bool has_ws, int ws, bool sack, bool ecn)
{
	uint32_t o = has_ws ? (uint32_t)(ws > 14 ? 14 : ws) : XDPCT_OPT_WSCALE_NONE;

	if (sack)
		o |= XDPCT_OPT_SACK;
	if (ecn)
		o |= XDPCT_OPT_ECN;
	return o;
}

/* ---- frames ---- */

static void base_spec(struct pg_spec *s, int family, uint16_t dport)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, SRV_MAC, 6);
	memcpy(s->smac, CLI_MAC, 6);
	s->family = family;
	if (family == 4) {
		memcpy(s->saddr, CLI4, 4);
		memcpy(s->daddr, SRV4, 4);
		s->frag_off = 0x4000; /* DF, as Linux sends */
		s->ip_id = (uint16_t)rnd32();
	} else {
		memcpy(s->saddr, CLI6, 16);
		memcpy(s->daddr, SRV6, 16);
	}
	s->ttl = 64;
	s->sport = next_port();
	s->dport = dport;
	s->seq = rnd32();
	s->win = 64240;
}

/* Options in the order Linux writes them (tcp_options_write). */
static void linux_opts(struct pg_tcpopts *o, int mss, bool sack, bool ts,
		       uint32_t tsval, uint32_t tsecr, int ws)
{
	memset(o, 0, sizeof(*o));
	if (mss)
		pgo_mss(o, (uint16_t)mss);
	if (ts) {
		if (sack) {
			pgo_sack_perm(o);
		} else {
			pgo_nop(o);
			pgo_nop(o);
		}
		pgo_ts(o, tsval, tsecr);
	} else if (sack) {
		pgo_nop(o);
		pgo_nop(o);
		pgo_sack_perm(o);
	}
	if (ws >= 0) {
		pgo_nop(o);
		pgo_ws(o, (uint8_t)ws);
	}
}

static int build(const struct pg_spec *s, uint8_t *buf, struct pg_layout *lay)
{
	int n = pg_build(s, buf, PG_MAX_FRAME, lay);

	if (n < 0) {
		fprintf(stderr, "pg_build failed\n");
		exit(2);
	}
	return n;
}

/* ---- SYN -> SYN-ACK ---- */

struct syn_case {
	char name[80];
	int family;
	int nvlan;
	struct pg_vlan vlan[3];
	int ip_optlen;    /* IPv4 options bytes, multiple of 4 */
	int n_ext;        /* IPv6 extension headers */
	struct pg_ext ext[8];
	int mss;          /* client MSS; 0: no option */
	bool sack, ts;
	int ws;           /* client window shift; -1: no option */
	int ecn;          /* 1: ECE|CWR; 2: ECE alone; 3: CWR alone */
	uint8_t tos;      /* IP TOS / traffic class of the SYN */
	int style;        /* 0: Linux order; 1: scrambled, unaligned, unknown kinds */
	int payload;      /* SYN payload bytes */
	uint32_t cfg;     /* config flags; 0: CFG_ALL */
	uint16_t dport;   /* 0: PORT */
	uint16_t frag_off; /* IPv4 flags | offset; 0: DF */
	const struct xdpct_profile *prof; /* the port's profile (slot 1); NULL: none */
};

struct synack {
	struct syn_case c;
	struct pg_spec syn;
	struct pg_layout lay;
	uint8_t in[PG_MAX_FRAME];
	int in_len;
	uint8_t out[PG_MAX_FRAME];
	int out_len;
	struct pg_parsed p;
	uint32_t cookie, tsval, opts, mss_idx, slot;
	bool has_ts, has_sack, has_ws, ecn;
	int layout;
	uint16_t our_mss; /* the MSS the SYN-ACK must advertise */
	uint64_t t_syn;  /* clock before the SYN */
};

static uint8_t syn_payload[64] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789abcdefghijkl";

static void syn_spec(const struct syn_case *c, struct pg_spec *s)
{
	uint32_t tsval = rnd32();

	base_spec(s, c->family, c->dport ? c->dport : PORT);
	if (c->frag_off)
		s->frag_off = c->frag_off;
	s->flags = F_SYN;
	if (c->ecn == 1)
		s->flags |= F_ECE | F_CWR;
	else if (c->ecn == 2)
		s->flags |= F_ECE;
	else if (c->ecn == 3)
		s->flags |= F_CWR;
	s->tos = c->tos;
	s->nvlan = c->nvlan;
	memcpy(s->vlan, c->vlan, sizeof(c->vlan));
	s->ip_optlen = c->ip_optlen;
	/* NOPs, a router alert (RFC 2113) when room, EOL last */
	memset(s->ip_opts, 1, sizeof(s->ip_opts));
	if (c->ip_optlen >= 8) {
		s->ip_opts[0] = 0x94;
		s->ip_opts[1] = 4;
		s->ip_opts[2] = s->ip_opts[3] = 0;
	}
	if (c->ip_optlen)
		s->ip_opts[c->ip_optlen - 1] = 0;
	s->n_ext = c->n_ext;
	memcpy(s->ext, c->ext, sizeof(c->ext));
	if (c->style == 0) {
		linux_opts(&s->opts, c->mss, c->sack, c->ts, tsval, 0, c->ws);
	} else {
		static const uint8_t unknown[] = { 30, 4, 0x12, 0x34 }; /* kind 30, len 4 */

		memset(&s->opts, 0, sizeof(s->opts));
		if (c->ws >= 0)
			pgo_ws(&s->opts, (uint8_t)c->ws);
		pgo_bytes(&s->opts, unknown, sizeof(unknown));
		if (c->sack)
			pgo_sack_perm(&s->opts);
		if (c->ts)
			pgo_ts(&s->opts, tsval, 0xdeadbeef); /* TSecr must be ignored */
		pgo_nop(&s->opts);
		if (c->mss)
			pgo_mss(&s->opts, (uint16_t)c->mss);
		pgo_eol(&s->opts);
		pgo_mss(&s->opts, 9000); /* after EOL: must be ignored */
	}
	if (c->payload) {
		s->payload = syn_payload;
		s->payload_len = c->payload;
	}
}

static uint32_t case_cfg(const struct syn_case *c)
{
	return c->cfg ? c->cfg : CFG_ALL;
}

/* What the reply must hold, from the SYN and the config. */
static void synack_expect(struct synack *sa)
{
	const struct syn_case *c = &sa->c;
	uint32_t f = case_cfg(c);

	const struct xdpct_profile *pr = c->prof;
	uint16_t clamp = pr ? (c->family == 4 ? pr->mss4 : pr->mss6) : 0;
	int client_mss = c->mss ? c->mss : 536;

	sa->has_ts = c->ts && (f & XDPCT_CFG_TIMESTAMPS);
	sa->has_sack = c->sack && (f & XDPCT_CFG_SACK);
	sa->has_ws = c->ws >= 0 && (f & XDPCT_CFG_WSCALE);
	/* Linux refuses ECN to a SYN that is itself ECN-marked */
	sa->ecn = c->ecn == 1 && (f & XDPCT_CFG_ECN) && !(c->tos & 3);
	sa->our_mss = c->family == 4 ? MSS4 : MSS6;
	/* the port's profile takes away, and clamps both MSSes */
	if (pr) {
		sa->has_ts = sa->has_ts && !(pr->off & XDPCT_PROF_NO_TS);
		sa->has_sack = sa->has_sack && !(pr->off & XDPCT_PROF_NO_SACK);
		sa->has_ws = sa->has_ws && !(pr->off & XDPCT_PROF_NO_WSCALE);
		sa->ecn = sa->ecn && !(pr->off & XDPCT_PROF_NO_ECN);
		if (clamp && clamp < sa->our_mss)
			sa->our_mss = clamp;
		if (clamp && clamp < client_mss)
			client_mss = clamp;
	}
	sa->layout = L_TS;
	if (!sa->has_ts) { /* no ECN without timestamps; no options at all by default */
		sa->ecn = false;
		sa->layout = L_NOTS_OPTS;
		if (!(f & XDPCT_CFG_NOTS_OPTIONS)) {
			sa->has_sack = sa->has_ws = false;
			sa->layout = L_NOTS;
		}
	}
	sa->opts = make_opts(sa->has_ws, c->ws, sa->has_sack, sa->ecn);
	sa->mss_idx = exp_mss_idx(c->family, client_mss);
}

/* The case's port with its profile in slot 1, or none. */
static void set_profile(const struct syn_case *c)
{
	struct xdpct_profile z = {};
	uint32_t one = 1;
	uint16_t port = c->dport ? c->dport : PORT;

	bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_profiles), &one, c->prof ? c->prof : &z,
			    BPF_ANY);
	uint32_t p32 = port;
	uint8_t v = 0;

	/* the port's other bits (auto mode) stay */
	bpf_map_lookup_elem(ports_fd, &p32, &v);
	v = (v & ((1 << XDPCT_PORT_PROFILE_SHIFT) - 1)) | XDPCT_PORT_PROTECT;
	set_port(port, v | (c->prof ? 1 << XDPCT_PORT_PROFILE_SHIFT : 0));
}

/* All the checks on one SYN-ACK; t0/t1 bracket the run. */
static void ck_synack(struct synack *sa, const struct res *r, uint64_t t0, uint64_t t1)
{
	const struct pg_spec *s = &sa->syn;
	const struct syn_case *c = &sa->c;
	struct pg_parsed *p = &sa->p;
	struct pg_tcpopts want;
	int fam = c->family, iphl = fam == 4 ? 20 : 40, optlen, want_len;
	uint32_t tsval = 0, client_tsval = 0, ms_now, slot, ref;
	const uint8_t *ip;

	if (!ck_verdict(r, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN)))
		return;
	CK(r->meta_len == 0, "metadata %d bytes on a SYN-ACK", r->meta_len);
	memcpy(sa->out, r->frame, r->frame_len);
	sa->out_len = r->frame_len;
	if (!CK(pg_parse(sa->out, sa->out_len, p) == 0 && p->proto == 6,
		"reply does not parse as TCP: %s", hex(sa->out, sa->out_len)))
		return;
	/* options: exact bytes, with the TSval we cannot predict taken as sent */
	if (sa->has_ts) {
		struct pg_parsed cp;

		pg_parse(sa->in, sa->in_len, &cp);
		client_tsval = cp.tsval;
		if (CK(p->ts, "no timestamp option in the reply: %s", hex(p->opts, p->optlen)))
			tsval = p->tsval;
	}
	linux_opts(&want, sa->our_mss, sa->has_sack, sa->has_ts, tsval,
		   client_tsval, sa->has_ws ? WSCALE : -1);
	CK(p->optlen == want.len && !memcmp(p->opts, want.b, want.len),
	   "options %s, want %s", hex(p->opts, p->optlen), hex(want.b, want.len));
	optlen = 4 + (sa->has_ts ? 12 : (sa->has_sack ? 4 : 0)) + (sa->has_ws ? 4 : 0);
	want_len = sa->lay.l3_off + iphl + 20 + optlen;
	CK(sa->out_len == want_len, "length %d, want %d", sa->out_len, want_len);

	/* L2: MACs swapped, tags and ethertype byte for byte */
	CK(!memcmp(sa->out, sa->in + 6, 6) && !memcmp(sa->out + 6, sa->in, 6),
	   "MACs not swapped: %s", hex(sa->out, 12));
	CK(!memcmp(sa->out + 12, sa->in + 12, sa->lay.l3_off - 12),
	   "VLAN tags/ethertype changed: %s, want %s", hex(sa->out + 12, sa->lay.l3_off - 12),
	   hex(sa->in + 12, sa->lay.l3_off - 12));

	ip = p->l3;
	if (fam == 4) {
		CK(ip[0] == 0x45, "IPv4 version/ihl 0x%02x, want 0x45", ip[0]);
		CK(pg_rd16(ip + 2) == 20 + 20 + optlen, "tot_len %u, want %d", pg_rd16(ip + 2),
		   40 + optlen);
		CK(pg_rd16(ip + 6) == 0x4000, "frag_off 0x%04x, want DF only", pg_rd16(ip + 6));
		CK(pg_rd16(ip + 4) == 0, "IP id %u, want 0", pg_rd16(ip + 4));
		CK(ip[8] == TTL, "ttl %u, want %u", ip[8], TTL);
		CK(ip[9] == 6, "protocol %u", ip[9]);
		CK(!memcmp(ip + 12, s->daddr, 4) && !memcmp(ip + 16, s->saddr, 4),
		   "IPv4 addresses not swapped: %s", hex(ip + 12, 8));
		CK(pg_ipv4_csum_ok(ip, 20), "IPv4 header checksum 0x%04x wrong (want 0x%04x)",
		   pg_rd16(ip + 10), pg_ipv4_csum(ip, 20));
	} else {
		CK(ip[0] >> 4 == 6, "IPv6 version %u", ip[0] >> 4);
		CK(pg_rd16(ip + 4) == 20 + optlen, "payload_len %u, want %d", pg_rd16(ip + 4),
		   20 + optlen);
		CK(ip[6] == 6, "next header %u, want TCP (no extension headers)", ip[6]);
		CK(ip[7] == TTL, "hop limit %u, want %u", ip[7], TTL);
		CK(!memcmp(ip + 8, s->daddr, 16) && !memcmp(ip + 24, s->saddr, 16),
		   "IPv6 addresses not swapped");
	}

	CK(p->sport == s->dport && p->dport == s->sport, "ports %u->%u, want %u->%u",
	   p->sport, p->dport, s->dport, s->sport);
	CK(p->flags == (F_SYN | F_ACK | (sa->ecn ? F_ECE : 0)), "flags 0x%02x, want 0x%02x",
	   p->flags, F_SYN | F_ACK | (sa->ecn ? F_ECE : 0));
	CK(p->ack == s->seq + 1, "ack %u, want seq+1 = %u", p->ack, s->seq + 1);
	CK(p->tcp_hlen == 20 + optlen, "doff %d bytes, want %d", p->tcp_hlen, 20 + optlen);
	CK(p->tcp_len == 20 + optlen, "TCP length %d, want %d (SYN payload dropped)",
	   p->tcp_len, 20 + optlen);
	if (c->prof && c->prof->handover == XDPCT_HANDOVER_PROXY)
		/* a server behind this router: no data before it is there */
		CK(p->win == 0, "window %u, want 0 on a proxy port's SYN-ACK", p->win);
	else
		CK(p->win > 0, "window 0");
	CK(p->urg == 0, "urg_ptr %u", p->urg);
	CK(pg_tcp_csum_ok(fam, fam == 4 ? ip + 12 : ip + 8, fam == 4 ? ip + 16 : ip + 24,
			  p->tcp, p->tcp_hlen),
	   "TCP checksum 0x%04x wrong (want 0x%04x)", p->csum,
	   pg_tcp_csum(fam, fam == 4 ? ip + 12 : ip + 8, fam == 4 ? ip + 16 : ip + 24,
		       p->tcp, p->tcp_hlen));

	/* the cookie */
	sa->cookie = p->seq;
	sa->tsval = tsval;
	slot = (p->seq >> 2) & 3;
	sa->slot = slot;
	CK((p->seq & 3) == sa->mss_idx, "cookie mss index %u, want %u (client mss %d)",
	   p->seq & 3, sa->mss_idx, c->mss);
	CK(slot == slot_of(t0) || slot == slot_of(t1), "cookie slot %u, clock says %u..%u",
	   slot, slot_of(t0), slot_of(t1));
	/* the key of the SYN's slot (key_sel), never the other */
	ref = sipref_cookie(cfg_key_of((abs_slot(t1) & 3) == slot ? abs_slot(t1) : abs_slot(t0),
				    NULL),
			 fam, s->saddr, s->daddr, s->sport, s->dport, s->seq, sa->mss_idx, slot,
			 sa->opts, sa->layout);
	CK(p->seq == ref, "ISN 0x%08x, reference cookie 0x%08x (opts 0x%02x layout %s)", p->seq,
	   ref, sa->opts, lay_name[sa->layout]);
	if (sa->has_ts) {
		ms_now = (uint32_t)(mono_ns() / 1000000);
		CK((tsval & 0x3f) == sa->opts, "TSval low 6 bits 0x%02x, want opts 0x%02x",
		   tsval & 0x3f, sa->opts);
		CK(ms_now - tsval >= 1 && ms_now - tsval < 1000,
		   "TSval %u vs ms clock %u: ahead of the clock or far behind", tsval, ms_now);
	} else if (sa->layout == L_NOTS_OPTS) {
		CK(((p->seq >> 4) & 0x1f) == sa->opts, "ISN opts bits 0x%02x, want 0x%02x",
		   (p->seq >> 4) & 0x1f, sa->opts);
	} else {
		CK(p->optlen == 4 && !(p->flags & F_ECE),
		   "no timestamps: options %s flags 0x%02x, want MSS only, no ECE",
		   hex(p->opts, p->optlen), p->flags);
	}
}

/* Sends the case's SYN twice; fills sa. Call inside an open check. */
static bool do_syn(const struct syn_case *c, struct synack *sa)
{
	static struct res r;
	uint64_t t0, t1;
	uint32_t first;

	memset(sa, 0, sizeof(*sa));
	sa->c = *c;
	set_cfg(case_cfg(c), &K1, NULL);
	set_profile(c);
	syn_spec(c, &sa->syn);
	sa->in_len = build(&sa->syn, sa->in, &sa->lay);
	synack_expect(sa);
	sa->t_syn = t0 = mono_ns();
	run(sa->in, sa->in_len, &r);
	t1 = mono_ns();
	ck_synack(sa, &r, t0, t1);
	if (ck_failed())
		return false;

	/* moments later the same SYN: the same cookie unless the slot turned */
	first = sa->cookie;
	run(sa->in, sa->in_len, &r);
	if (!ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), -1))
		return false;
	{
		struct pg_parsed p2;

		uint32_t slot2, now_slot = slot_of(mono_ns());

		if (CK(pg_parse(r.frame, r.frame_len, &p2) == 0, "second reply unparsable")) {
			slot2 = (p2.seq >> 2) & 3;
			if (slot2 == sa->slot) /* the usual case */
				CK(p2.seq == first, "second SYN: ISN 0x%08x, first 0x%08x, same slot",
				   p2.seq, first);
			else /* only if a slot boundary passed between the two */
				CK(slot2 == now_slot && now_slot != slot_of(t0),
				   "second SYN: slot %u, first %u, clock %u", slot2, sa->slot, now_slot);
		}
	}
	return !ck_failed();
}

/* ---- cookie ACK ---- */

/* The client's ACK of a SYN-ACK, as Linux sends it. */
static void ack_spec(const struct synack *sa, struct pg_spec *a, uint32_t tsval)
{
	*a = sa->syn;
	a->flags = F_ACK;
	a->seq = sa->syn.seq + 1;
	a->ack = sa->cookie + 1;
	a->win = 502;
	a->payload = NULL;
	a->payload_len = 0;
	memset(&a->opts, 0, sizeof(a->opts));
	if (sa->has_ts) {
		pgo_nop(&a->opts);
		pgo_nop(&a->opts);
		pgo_ts(&a->opts, tsval, sa->tsval);
	}
}

static void attrs_expect(const struct synack *sa, const struct pg_spec *a,
			 struct xdpct_req_attrs *w)
{
	struct pg_parsed p;

	memset(w, 0, sizeof(*w));
	w->mss = mss_of_idx(sa->c.family, sa->mss_idx);
	if (sa->has_ws) {
		w->wscale_ok = 1;
		w->snd_wscale = sa->c.ws > 14 ? 14 : sa->c.ws;
		w->rcv_wscale = WSCALE;
	}
	w->sack_ok = sa->has_sack;
	w->ecn_ok = sa->ecn;
	if (sa->has_ts) {
		uint8_t buf[PG_MAX_FRAME];
		int n = pg_build(a, buf, sizeof(buf), NULL);

		pg_parse(buf, n, &p);
		w->tstamp_ok = 1;
		w->rcv_tsval = p.tsval;
		w->rcv_tsecr = p.tsecr;
	}
}

static const char *attrs_str(const struct xdpct_req_attrs *a)
{
	static char buf[2][200];
	static int k;
	char *s = buf[k++ & 1];

	snprintf(s, 200, "mss=%u wscale_ok=%u snd=%u rcv=%u sack=%u ecn=%u ts=%u tsval=%u tsecr=%u usec=%u rsv=%02x%02x%02x",
		 a->mss, a->wscale_ok, a->snd_wscale, a->rcv_wscale, a->sack_ok, a->ecn_ok,
		 a->tstamp_ok, a->rcv_tsval, a->rcv_tsecr, a->usec_ts_ok, a->reserved[0],
		 a->reserved[1], a->reserved[2]);
	return s;
}

static void flow_key_expect(const struct pg_spec *s, struct xdpct_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)s->family;
	k->rport = htons(s->sport);
	k->lport = htons(s->dport);
	memcpy(k->raddr, s->saddr, s->family == 4 ? 4 : 16);
	memcpy(k->laddr, s->daddr, s->family == 4 ? 4 : 16);
}

static const char *const st_names[] = XDPCT_CT_STATE_NAMES;

static const char *st_name(unsigned int st)
{
	return st < XDPCT_CT_MAX ? st_names[st] : "?";
}

static uint32_t max_seq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0 ? a : b;
}

/* Checks a passed cookie ACK: metadata, frame untouched, one flow entry
 * and one pending entry. prev: the entry before this packet (NULL: the
 * ACK created it, so the entry is seeded from the cookie). */
static void ck_meta_and_flow(const struct res *r, const uint8_t *in, int len,
			     const struct pg_spec *a, const struct xdpct_req_attrs *want,
			     uint64_t t0, const struct xdpct_flow *prev)
{
	const uint8_t want_flags = XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE |
				   XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE |
				   XDPCT_FLOW_SEEN_LOCAL;
	struct xdpct_flow_key k, wk;
	struct xdpct_pending pe;
	struct xdpct_meta m;
	struct xdpct_flow f;
	struct xdpct_dir wr, wl;
	struct pg_parsed pp;
	uint64_t t1 = mono_ns();
	uint32_t plen;
	int n;

	if (CK(r->meta_len == (int)sizeof(m), "metadata length (ctx_out.data) %d, want %zu",
	       r->meta_len, sizeof(m)) &&
	    CK(r->out_len == (int)sizeof(m) + len, "data_out %d bytes, want meta + frame = %zu",
	       r->out_len, sizeof(m) + len)) {
		memcpy(&m, r->out, sizeof(m));
		CK(m.magic == XDPCT_META_MAGIC, "meta magic 0x%08x", m.magic);
		CK(m.what == XDPCT_META_ATTRS, "meta what %u, want XDPCT_META_ATTRS", m.what);
		CK(!memcmp(&m.attrs, want, sizeof(*want)), "attrs %s, want %s",
		   attrs_str(&m.attrs), attrs_str(want));
		CK(!memcmp(r->frame, in, len), "frame changed behind the metadata");
	}
	flow_key_expect(a, &wk);

	/* the attributes live in the pending map until the child exists */
	n = map_count(pending_fd);
	if (CK(n == 1, "pending map has %d entries, want 1", n) &&
	    CK(!bpf_map_lookup_elem(pending_fd, &wk, &pe), "no pending entry under key %s",
	       hex((uint8_t *)&wk, sizeof(wk)))) {
		CK(!memcmp(&pe.attrs, want, sizeof(*want)), "pending attrs %s, want %s",
		   attrs_str(&pe.attrs), attrs_str(want));
		CK(pe.ho.handoff_ns == 0, "pending handoff_ns %llu, want 0 (XDP never hands off)",
		   (unsigned long long)pe.ho.handoff_ns);
		CK(pe.ho.first_seq == a->seq, "pending first_seq %u, want the ACK's seq %u",
		   pe.ho.first_seq, a->seq);
	}

	n = flows_count();
	if (!CK(n == 1, "flow maps have %d entries, want 1", n) || flows_first(&k, &f))
		return;
	CK(!memcmp(&k, &wk, sizeof(k)), "flow key %s, want %s", hex((uint8_t *)&k, sizeof(k)),
	   hex((uint8_t *)&wk, sizeof(wk)));
	CK(f.state == XDPCT_CT_SYN_RECV, "flow state %s, want SYN_RECV", st_name(f.state));
	CK(f.flags == want_flags,
	   "flow flags 0x%x, want 0x%x (PENDING|COOKIE|REMOTE_OPENED|SEEN_REMOTE|SEEN_LOCAL)",
	   f.flags, want_flags);
	CK(f.pad0 == 0, "pad0 %u", f.pad0);
	if (prev) {
		CK(f.first_s == prev->first_s, "first_s moved: %u, was %u", f.first_s,
		   prev->first_s);
	} else {
		CK(f.first_s >= (t0 - XDPCT_CLOCK_LAG_NS) / 1000000000ULL &&
		   f.first_s <= t1 / 1000000000ULL,
		   "first_s %u, test clock %llu..%llu s", f.first_s,
		   (unsigned long long)(t0 / 1000000000ULL), (unsigned long long)(t1 / 1000000000ULL));
	}
	CK(f.last_tick >= (uint32_t)((t0 - XDPCT_CLOCK_LAG_NS) >> XDPCT_TICK_SHIFT) &&
	   f.last_tick <= (uint32_t)(t1 >> XDPCT_TICK_SHIFT),
	   "last_tick %u, test clock %u..%u ticks", f.last_tick,
	   (uint32_t)(t0 >> XDPCT_TICK_SHIFT), (uint32_t)(t1 >> XDPCT_TICK_SHIFT));

	/* per side, netfilter's four numbers (docs/conntrack.md) as if it had
	 * seen the SYN, our SYN-ACK and this ACK: XDP keeps nothing of its
	 * SYN-ACK, so that one's window counts as the largest a SYN-ACK
	 * carries (65535, never scaled); the SYN's window is not known */
	if (!CK(pg_parse(in, len, &pp) == 0, "own frame unparsable"))
		return;
	plen = (uint32_t)(pp.tcp_len - pp.tcp_hlen);
	{
		/* windows scale once both SYNs offered a shift */
		uint32_t win = (uint32_t)a->win << (want->wscale_ok ? want->snd_wscale : 0);
		uint32_t end = a->seq + plen + !!(a->flags & F_FIN);

		if (prev) {
			wr = prev->dir[XDPCT_REMOTE];
			wl = prev->dir[XDPCT_LOCAL];
			if (wr.maxwin < win)
				wr.maxwin = win;
			wr.end = max_seq(wr.end, end);
			wr.maxack = max_seq(wr.maxack, a->ack);
			if (max_seq(end, wr.maxend) != wr.maxend)
				wl.maxwin += end - wr.maxend;
			if ((int32_t)(a->ack + win - (wl.maxend - 1)) > 0)
				wl.maxend = a->ack + win + !win;
		} else {
			wr.end = end;                /* isn + 1 + payload */
			wr.maxack = a->ack;          /* cookie + 1 */
			wr.maxwin = win ? win : 1;
			wr.maxend = a->seq + 65535;  /* isn + 1 + our SYN-ACK's window */
			wl.end = a->ack;             /* cookie + 1 */
			wl.maxack = a->seq;          /* isn + 1 */
			wl.maxwin = 65535;
			wl.maxend = a->ack + win + !win;
		}
	}
	CK(f.tag == tag_of(&wk) && f.lock == 0, "tag 0x%08x lock %u, want 0x%08x 0", f.tag,
	   f.lock, tag_of(&wk));
	CK(f.wscale[XDPCT_REMOTE] == (want->wscale_ok ? want->snd_wscale : 0xf) &&
	   f.wscale[XDPCT_LOCAL] == (want->wscale_ok ? WSCALE : 0xf),
	   "wscale remote %u local %u, want %u %u", f.wscale[0], f.wscale[1],
	   want->wscale_ok ? want->snd_wscale : 0xf, want->wscale_ok ? WSCALE : 0xf);
	CK(f.tcp_flags[XDPCT_REMOTE] == ((prev ? prev->tcp_flags[XDPCT_REMOTE] : F_SYN) | a->flags) &&
	   f.tcp_flags[XDPCT_LOCAL] == (F_SYN | F_ACK),
	   "tcp_flags remote 0x%02x local 0x%02x, want 0x%02x 0x%02x", f.tcp_flags[0],
	   f.tcp_flags[1], (prev ? prev->tcp_flags[XDPCT_REMOTE] : F_SYN) | a->flags,
	   F_SYN | F_ACK);
	CK(!memcmp(&f.dir[XDPCT_REMOTE], &wr, sizeof(wr)),
	   "remote side end %u maxend %u maxwin %u maxack %u, want %u %u %u %u",
	   f.dir[0].end, f.dir[0].maxend, f.dir[0].maxwin, f.dir[0].maxack, wr.end, wr.maxend,
	   wr.maxwin, wr.maxack);
	CK(!memcmp(&f.dir[XDPCT_LOCAL], &wl, sizeof(wl)),
	   "local side end %u maxend %u maxwin %u maxack %u, want %u %u %u %u",
	   f.dir[1].end, f.dir[1].maxend, f.dir[1].maxwin, f.dir[1].maxack, wl.end, wl.maxend,
	   wl.maxwin, wl.maxack);
	CK(f.packets[XDPCT_REMOTE] == (prev ? prev->packets[XDPCT_REMOTE] : 0) + 1 &&
	   f.bytes[XDPCT_REMOTE] == (prev ? prev->bytes[XDPCT_REMOTE] : 0) + (uint32_t)pp.ip_len,
	   "remote packets %u bytes %llu, want %u %llu", f.packets[XDPCT_REMOTE],
	   (unsigned long long)f.bytes[XDPCT_REMOTE],
	   (prev ? prev->packets[XDPCT_REMOTE] : 0) + 1,
	   (unsigned long long)((prev ? prev->bytes[XDPCT_REMOTE] : 0) + (uint32_t)pp.ip_len));
	CK(f.packets[XDPCT_LOCAL] == 0 && f.bytes[XDPCT_LOCAL] == 0,
	   "local packets %u bytes %llu, want 0 0 (the SYN-ACK was ours)", f.packets[XDPCT_LOCAL],
	   (unsigned long long)f.bytes[XDPCT_LOCAL]);
}

/* First ACK of sa's handshake: PASS with metadata, flow entry created. */
static bool do_ack(struct synack *sa, struct xdpct_req_attrs *got)
{
	static struct res r;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	uint64_t t0;
	int n;

	ack_spec(sa, &a, sa->syn.seq ^ 0x5a5a); /* any TSval: echoed as rcv_tsval */
	n = build(&a, buf, NULL);
	attrs_expect(sa, &a, got);
	t0 = mono_ns();
	run(buf, n, &r);
	if (!ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), S(COOKIE_GOOD)))
		return false;
	CK(r.d[S(COOKIE_PREV_KEY)] == 0, "cookie_prev_key moved for a current-key cookie");
	ck_meta_and_flow(&r, buf, n, &a, got, t0, NULL);
	return !ck_failed();
}

/* A second ACK (later TSval, with data): same metadata from the entry. */
static bool do_ack_again(struct synack *sa, const struct xdpct_req_attrs *first)
{
	static struct res r;
	static const uint8_t data[] = "GET / HTTP/1.0\r\n\r\n";
	uint8_t buf[PG_MAX_FRAME];
	struct xdpct_flow_key k;
	struct xdpct_flow prev;
	struct pg_spec a;
	uint64_t t0;
	int n;

	ack_spec(sa, &a, sa->syn.seq ^ 0x5a5a);
	a.flags |= F_PSH;
	a.payload = data;
	a.payload_len = sizeof(data) - 1;
	if (sa->has_ts) {
		memset(&a.opts, 0, sizeof(a.opts));
		pgo_nop(&a.opts);
		pgo_nop(&a.opts);
		pgo_ts(&a.opts, (sa->syn.seq ^ 0x5a5a) + 3, sa->tsval);
	}
	n = build(&a, buf, NULL);
	if (!CK(flows_first(&k, &prev) == 0, "no flow entry before the second ACK"))
		return false;
	t0 = mono_ns();
	run(buf, n, &r);
	if (!ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), -1))
		return false;
	CK(r.d[S(COOKIE_GOOD)] == 0, "cookie checked again for a pending flow");
	ck_meta_and_flow(&r, buf, n, &a, first, t0, &prev);
	return !ck_failed();
}

/* ---- 1 + 2: the SYN matrix, each followed by its ACKs ---- */

static struct syn_case mk(int family, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct syn_case mk(int family, const char *fmt, ...)
{
	struct syn_case c;
	va_list ap;

	memset(&c, 0, sizeof(c));
	va_start(ap, fmt);
	vsnprintf(c.name, sizeof(c.name), fmt, ap);
	va_end(ap);
	c.family = family;
	c.ws = -1;
	return c;
}

/* Linux's SYN: MSS, SACK_PERM, TS, NOP, WS 7 */
static struct syn_case mk_linux(int family, const char *name)
{
	struct syn_case c = mk(family, "%s", name);

	c.mss = family == 4 ? 1460 : 1440;
	c.sack = c.ts = true;
	c.ws = 7;
	return c;
}

static const char *fam(int family)
{
	return family == 4 ? "ipv4" : "ipv6";
}

static struct synack sa_main;


/* SYN check, first ACK check, second ACK check. */
static void syn_ack_case(const struct syn_case *c)
{
	struct xdpct_req_attrs first;
	char name[120];
	bool good;

	flows_clear();
	ck_begin("xdp.syn.%s", c->name);
	good = do_syn(c, &sa_main);
	ck_end();
	snprintf(name, sizeof(name), "xdp.ack.%s", c->name);
	if (!good) {
		ck_skip(name, "its SYN check failed");
		snprintf(name, sizeof(name), "xdp.ack_again.%s", c->name);
		ck_skip(name, "its SYN check failed");
		return;
	}
	ck_begin("%s", name);
	good = do_ack(&sa_main, &first);
	ck_end();
	snprintf(name, sizeof(name), "xdp.ack_again.%s", c->name);
	if (!good) {
		ck_skip(name, "the first ACK check failed");
	} else {
		ck_begin("%s", name);
		do_ack_again(&sa_main, &first);
		ck_end();
	}
	flows_clear();
}

/* Each field of a port's profile, through SYN, SYN-ACK and the cookie
 * ACK's handover attributes; then the port without it again. */
static void test_profiles(void)
{
	static const struct {
		const char *name;
		struct xdpct_profile p;
	} profs[] = {
		{ "mss1300", { .mss4 = 1300, .mss6 = 1280 } },
		{ "mss_above_ours", { .mss4 = 9000, .mss6 = 9000 } },
		{ "mss_below_table", { .mss4 = 600, .mss6 = 1230 } },
		{ "no_sack", { .off = XDPCT_PROF_NO_SACK } },
		{ "no_ts", { .off = XDPCT_PROF_NO_TS } },
		{ "no_wscale", { .off = XDPCT_PROF_NO_WSCALE } },
		{ "no_ecn", { .off = XDPCT_PROF_NO_ECN } },
		{ "all_off_mss1440", { .mss4 = 1440, .mss6 = 1420, .off = 15 } },
	};
	struct syn_case c;
	char nm[80];

	for (size_t i = 0; i < sizeof(profs) / sizeof(profs[0]); i++)
		for (int f = 4; f <= 6; f += 2) {
			snprintf(nm, sizeof(nm), "profile.%s.%s", profs[i].name, fam(f));
			c = mk_linux(f, nm);
			c.ecn = 1;
			c.prof = &profs[i].p;
			syn_ack_case(&c);
		}
	/* the no-timestamp layouts with a profile: options in the ISN */
	c = mk_linux(4, "profile.no_ts.ipv4_nots_options");
	c.cfg = CFG_ALL | XDPCT_CFG_NOTS_OPTIONS;
	c.prof = &profs[4].p;
	syn_ack_case(&c);
	/* a profile on one port leaves the others alone */
	syn_ack_case((c = mk_linux(4, "profile.none_after"), &c));
}

/* A NAT port (--profile PORTS:nat): the cookie ACK passes without
 * metadata (it would not survive the host's forwarding); its attributes
 * are stored in xdpct_handoff under the client's address and port and
 * the cookie, the flow is tracked as any cookie flow, nothing goes into
 * xdpct_pending; the client's next segments pass with nothing attached
 * and are not counted as a lost pending entry. */
static void test_nat(void)
{
	static const struct xdpct_profile nat = { .handover = XDPCT_HANDOVER_NAT };
	int handoff_fd = bpf_map__fd(skel->maps.xdpct_handoff);
	struct xdpct_req_attrs want;
	struct xdpct_handoff_key hk;
	struct xdpct_handoff h;
	struct xdpct_flow_key k;
	struct xdpct_flow f;
	static struct res r;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	struct syn_case c;
	uint64_t t0, t1;
	int n;

	for (int fm = 4; fm <= 6; fm += 2) {
		char nm[64];

		snprintf(nm, sizeof(nm), "nat.%s", fam(fm));
		c = mk_linux(fm, nm);
		c.ecn = 1;
		c.prof = &nat;
		flows_clear();
		map_clear(handoff_fd);
		ck_begin("xdp.nat.syn.%s", fam(fm));
		do_syn(&c, &sa_main);
		if (!ck_end())
			continue;

		ck_begin("xdp.nat.cookie_ack_stored.%s", fam(fm));
		ack_spec(&sa_main, &a, sa_main.syn.seq ^ 0x5a5a);
		n = build(&a, buf, NULL);
		attrs_expect(&sa_main, &a, &want);
		t0 = mono_ns();
		run(buf, n, &r);
		t1 = mono_ns();
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), S(NAT_STORED))) {
			CK(r.meta_len == 0, "metadata %d bytes on a NAT port's cookie ACK", r.meta_len);
			CK(r.frame_len == n && !memcmp(r.frame, buf, n), "frame changed");
			memset(&hk, 0, sizeof(hk));
			memcpy(hk.raddr, a.saddr, fm == 4 ? 4 : 16);
			hk.ack = a.ack;
			hk.rport = htons(a.sport);
			hk.family = (uint8_t)fm;
			CK(map_count(handoff_fd) == 1, "xdpct_handoff has %d entries, want 1",
			   map_count(handoff_fd));
			if (CK(!bpf_map_lookup_elem(handoff_fd, &hk, &h),
			       "no xdpct_handoff entry under client address, port and ack %u",
			       a.ack)) {
				CK(!memcmp(&h.attrs, &want, sizeof(want)), "attrs %s, want %s",
				   attrs_str(&h.attrs), attrs_str(&want));
				CK(h.ho.first_seq == a.seq, "first_seq %u, want %u", h.ho.first_seq, a.seq);
				CK(h.ho.handoff_ns == 0, "handoff_ns %llu, want 0",
				   (unsigned long long)h.ho.handoff_ns);
				CK(h.made_ns + XDPCT_CLOCK_LAG_NS >= t0 && h.made_ns <= t1 + 20000000,
				   "made_ns %llu outside the run [%llu, %llu] (coarse clock)",
				   (unsigned long long)h.made_ns, (unsigned long long)t0,
				   (unsigned long long)t1);
			}
			CK(map_count(pending_fd) == 0, "xdpct_pending has %d entries, want 0",
			   map_count(pending_fd));
			if (CK(flows_count() == 1 && flows_first(&k, &f) == 0, "flow entries %d, want 1",
			       flows_count()))
				CK(f.state == XDPCT_CT_SYN_RECV && (f.flags & XDPCT_FLOW_PENDING) &&
					   (f.flags & XDPCT_FLOW_COOKIE),
				   "flow state %s flags 0x%x, want SYN_RECV PENDING|COOKIE",
				   st_name(f.state), f.flags);
		}
		ck_end();

		/* the same ACK again (a full accept queue in the container):
		 * the entry carries it, nothing attached, nothing lost */
		ck_begin("xdp.nat.ack_again_no_meta.%s", fam(fm));
		run(buf, n, &r);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), -1)) {
			CK(r.meta_len == 0, "metadata %d bytes", r.meta_len);
			CK(r.d[S(CT_PENDING_LOST)] == 0, "ct_pending_lost moved by %llu",
			   (unsigned long long)r.d[S(CT_PENDING_LOST)]);
			CK(r.d[S(NAT_STORED)] == 0, "stored again");
			CK(map_count(handoff_fd) == 1, "xdpct_handoff has %d entries, want 1",
			   map_count(handoff_fd));
		}
		ck_end();
	}
	/* the same port without nat: metadata again, nothing stored */
	map_clear(handoff_fd);
	syn_ack_case((c = mk_linux(4, "nat.local_after"), &c));
	ck_begin("xdp.nat.local_port_stores_nothing");
	CK(map_count(handoff_fd) == 0, "xdpct_handoff has %d entries, want 0",
	   map_count(handoff_fd));
	ck_end();
	flows_clear();
}

/* A proxy port (--profile PORTS:proxy) on a router: a SYN to a server
 * behind it gets our cookie; the cookie ACK becomes the SYN to the server
 * (the client's ISN, its options from the cookie, checksums right) and a
 * translation entry; client segments wait for the server (dropped, the SYN
 * again after a second, an RST past the timeout); once open, the ACK, SACK
 * blocks and TSecr move into the server's sequence space. */
static void proxy_frame_ok(const struct res *r, int fm, uint8_t flags, struct pg_parsed *p)
{
	const uint8_t *ip;

	if (!CK(pg_parse(r->frame, r->frame_len, p) == 0, "output frame does not parse"))
		return;
	ip = p->l3;
	CK(p->flags == flags, "flags 0x%02x, want 0x%02x", p->flags, flags);
	if (fm == 4)
		CK(pg_ipv4_csum_ok(ip, 20), "IPv4 header checksum wrong");
	CK(pg_tcp_csum_ok(fm, fm == 4 ? ip + 12 : ip + 8, fm == 4 ? ip + 16 : ip + 24, p->tcp,
			  p->tcp_len),
	   "TCP checksum 0x%04x wrong", p->csum);
}

static void test_proxy(void)
{
	static const struct xdpct_profile proxy = { .handover = XDPCT_HANDOVER_PROXY };
	int proxy_fd = bpf_map__fd(skel->maps.xdpct_proxy);
	struct xdpct_req_attrs want;
	struct xdpct_flow_key k;
	struct xdpct_proxy px;
	struct xdpct_flow f;
	struct pg_parsed p;
	static struct res r;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	struct syn_case c;
	int n;

	for (int fm = 4; fm <= 6; fm += 2) {
		char nm[64];

		snprintf(nm, sizeof(nm), "proxy.%s", fam(fm));
		c = mk_linux(fm, nm);
		c.prof = &proxy;
		c.cfg = CFG_ALL | XDPCT_CFG_LOCAL_ONLY; /* xdpct_local empty: the server is not us */
		flows_clear();
		map_clear(proxy_fd);
		ck_begin("xdp.proxy.syn_cookie.%s", fam(fm));
		do_syn(&c, &sa_main);
		if (!ck_end())
			continue;

		ck_begin("xdp.proxy.cookie_ack_becomes_syn.%s", fam(fm));
		ack_spec(&sa_main, &a, 777000);
		a.payload = (const uint8_t *)"early";
		a.payload_len = 5;
		n = build(&a, buf, NULL);
		attrs_expect(&sa_main, &a, &want);
		run(buf, n, &r);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_PROXY_SYN), S(COOKIE_GOOD))) {
			proxy_frame_ok(&r, fm, F_SYN, &p);
			CK(p.seq == a.seq - 1 && p.ack == 0, "seq %u ack %u, want the client's ISN %u, 0",
			   p.seq, p.ack, a.seq - 1);
			CK(p.sport == a.sport && p.dport == a.dport, "ports changed");
			CK(!memcmp(fm == 4 ? p.l3 + 12 : p.l3 + 8, a.saddr, fm == 4 ? 4 : 16) &&
				   !memcmp(fm == 4 ? p.l3 + 16 : p.l3 + 24, a.daddr, fm == 4 ? 4 : 16),
			   "addresses changed");
			CK(p.tcp_len == p.tcp_hlen, "%d payload bytes on the SYN", p.tcp_len - p.tcp_hlen);
			CK(p.mss == want.mss, "MSS %d, want the cookie's %u", p.mss, want.mss);
			CK(p.sack_perm == (want.sack_ok ? 1 : -1), "SACK_PERM %d, want %d", p.sack_perm,
			   want.sack_ok);
			CK(p.ts == 1 && p.tsval == 777000 && p.tsecr == 0,
			   "TS %d %u/%u, want the client's TSval 777000 and 0", p.ts, p.tsval, p.tsecr);
			CK(p.ws == (want.wscale_ok ? want.snd_wscale : -1), "WS %d, want the client's %u",
			   p.ws, want.snd_wscale);
			CK(p.win == (a.win << want.snd_wscale > 65535 ? 65535 : a.win << want.snd_wscale),
			   "window %u", p.win);
			flow_key_expect(&a, &k);
			if (CK(!bpf_map_lookup_elem(proxy_fd, &k, &px), "no xdpct_proxy entry")) {
				CK(px.cookie == a.ack - 1 && px.isn == a.seq - 1, "cookie %u isn %u",
				   px.cookie, px.isn);
				CK(px.state == XDPCT_PROXY_SYN_SENT, "state %u", px.state);
				CK(!memcmp(&px.attrs, &want, sizeof(want)), "attrs %s, want %s",
				   attrs_str(&px.attrs), attrs_str(&want));
			}
			CK(map_count(pending_fd) == 0, "xdpct_pending has %d entries", map_count(pending_fd));
			if (CK(flows_count() == 1 && flows_first(&k, &f) == 0, "flow entries %d, want 1",
			       flows_count()))
				CK(f.state == XDPCT_CT_SYN_RECV && (f.flags & XDPCT_FLOW_PENDING),
				   "flow state %s flags 0x%x", st_name(f.state), f.flags);
		}
		ck_end();

		ck_begin("xdp.proxy.data_before_server_dropped.%s", fam(fm));
		n = build(&a, buf, NULL);
		run(buf, n, &r);
		ck_verdict(&r, XDP_DROP, S(V_DROP_PROXY_WAIT), -1);
		ck_end();

		ck_begin("xdp.proxy.clock_ahead_still_waits.%s", fam(fm));
		/* the SYN's times from a CPU whose clock is a tick ahead of this
		 * one's (bpf/stats.h): neither resent nor timed out */
		flow_key_expect(&a, &k);
		if (CK(!bpf_map_lookup_elem(proxy_fd, &k, &px), "no entry")) {
			struct xdpct_proxy was = px;

			px.syn_ns = px.resent_ns = mono_ns() + XDPCT_CLOCK_LAG_NS / 4;
			bpf_map_update_elem(proxy_fd, &k, &px, BPF_EXIST);
			run(buf, n, &r);
			ck_verdict(&r, XDP_DROP, S(V_DROP_PROXY_WAIT), -1);
			CK(!bpf_map_lookup_elem(proxy_fd, &k, &px), "entry gone");
			bpf_map_update_elem(proxy_fd, &k, &was, BPF_EXIST);
		}
		ck_end();

		ck_begin("xdp.proxy.syn_again_after_a_second.%s", fam(fm));
		if (CK(!bpf_map_lookup_elem(proxy_fd, &k, &px), "no entry")) {
			px.resent_ns -= 2000000000ull;
			bpf_map_update_elem(proxy_fd, &k, &px, BPF_EXIST);
			run(buf, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_PROXY_SYN), S(PROXY_SYN_RESENT))) {
				proxy_frame_ok(&r, fm, F_SYN, &p);
				CK(p.seq == a.seq - 1, "seq %u", p.seq);
			}
		}
		ck_end();

		ck_begin("xdp.proxy.rst_past_timeout.%s", fam(fm));
		if (CK(!bpf_map_lookup_elem(proxy_fd, &k, &px), "no entry")) {
			px.syn_ns -= XDPCT_PROXY_TIMEOUT_NS + 1000000000ull;
			bpf_map_update_elem(proxy_fd, &k, &px, BPF_EXIST);
			n = build(&a, buf, NULL);
			run(buf, n, &r);
			if (ck_verdict(&r, XDP_TX, S(V_TX_PROXY_RST), -1)) {
				proxy_frame_ok(&r, fm, F_RST, &p);
				CK(p.seq == a.ack, "RST seq %u, want the client's ack %u", p.seq, a.ack);
				CK(p.sport == a.dport && p.dport == a.sport, "ports not swapped");
				CK(!memcmp(fm == 4 ? p.l3 + 16 : p.l3 + 24, a.saddr, fm == 4 ? 4 : 16),
				   "not to the client");
			}
			CK(bpf_map_lookup_elem(proxy_fd, &k, &px) && errno == ENOENT,
			   "entry left after the RST");
		}
		ck_end();

		/* open: the server's ISN is cookie - 1000, its TSval clock ours - 500 */
		ck_begin("xdp.proxy.open_translated.%s", fam(fm));
		memset(&px, 0, sizeof(px));
		px.cookie = a.ack - 1;
		px.isn = a.seq - 1;
		px.seq_delta = 1000;
		px.ts_delta = 500;
		px.state = XDPCT_PROXY_OPEN;
		px.opts = XDPCT_PROXY_TS;
		px.attrs = want;
		bpf_map_update_elem(proxy_fd, &k, &px, BPF_ANY);
		{
			struct pg_spec d = a;
			uint8_t sack[10] = { 5, 10 };

			d.ack = a.ack; /* all the server sent: its SYN-ACK */
			d.payload = NULL;
			d.payload_len = 0;
			memset(&d.opts, 0, sizeof(d.opts));
			pgo_nop(&d.opts);
			pgo_nop(&d.opts);
			pgo_ts(&d.opts, 778000, sa_main.tsval + 40);
			pg_wr32(sack + 2, a.ack + 1000);
			pg_wr32(sack + 6, a.ack + 2000);
			pgo_nop(&d.opts);
			pgo_nop(&d.opts);
			pgo_bytes(&d.opts, sack, 10);
			n = build(&d, buf, NULL);
			run(buf, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), S(PROXY_XLATE_IN))) {
				proxy_frame_ok(&r, fm, F_ACK, &p);
				CK(p.ack == d.ack - 1000, "ack %u, want %u", p.ack, d.ack - 1000);
				CK(p.seq == d.seq, "seq moved");
				CK(p.tsval == 778000 && p.tsecr == sa_main.tsval + 40 - 500,
				   "TS %u/%u, want 778000/%u", p.tsval, p.tsecr, sa_main.tsval + 40 - 500);
				CK(pg_rd32(p.opts + 16) == a.ack + 1000 - 1000 &&
					   pg_rd32(p.opts + 20) == a.ack + 2000 - 1000,
				   "SACK block %u-%u, want %u-%u", pg_rd32(p.opts + 16),
				   pg_rd32(p.opts + 20), a.ack, a.ack + 1000);
			}
		}
		ck_end();

		/* Linux's own layout (NOP NOP TS): translated in place */
		ck_begin("xdp.proxy.open_translated_in_place.%s", fam(fm));
		{
			struct pg_spec d = a;

			d.payload = (const uint8_t *)"data";
			d.payload_len = 4;
			memset(&d.opts, 0, sizeof(d.opts));
			pgo_nop(&d.opts);
			pgo_nop(&d.opts);
			pgo_ts(&d.opts, 779000, sa_main.tsval + 50);
			n = build(&d, buf, NULL);
			run(buf, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), S(PROXY_XLATE_IN))) {
				proxy_frame_ok(&r, fm, F_ACK, &p);
				CK(p.ack == d.ack - 1000, "ack %u, want %u", p.ack, d.ack - 1000);
				CK(p.tsval == 779000 && p.tsecr == sa_main.tsval + 50 - 500,
				   "TS %u/%u, want 779000/%u", p.tsval, p.tsecr, sa_main.tsval + 50 - 500);
				CK(p.tcp_len == p.tcp_hlen + 4 && !memcmp(p.tcp + p.tcp_hlen, "data", 4),
				   "payload changed");
			}
		}
		ck_end();
	}
	map_clear(proxy_fd);
	flows_clear();
}

static void test_syn_matrix(void)
{
	struct syn_case c;
	static const char *const bit[] = { "mss", "sack", "ts", "ws" };

	syn_ack_case((c = mk(4, "ipv4.no_options"), &c));
	c = mk(4, "ipv4.mss_only");
	c.mss = 1460;
	syn_ack_case(&c);
	syn_ack_case((c = mk_linux(4, "ipv4.linux"), &c));
	syn_ack_case((c = mk_linux(6, "ipv6.linux"), &c));

	/* every subset of {MSS, SACK, TS, WS} (ECN asked), both families; by
	 * default and with options kept for clients without timestamps */
	for (int no = 0; no < 2; no++)
		for (int f = 4; f <= 6; f += 2)
			for (int m = 0; m < 16; m++) {
				char nm[40] = "";

				for (int b = 0; b < 4; b++)
					if (m & 1 << b)
						snprintf(nm + strlen(nm), sizeof(nm) - strlen(nm),
							 "%s%s", nm[0] ? "+" : "", bit[b]);
				c = mk(f, "%s.opts%s.%s", fam(f), no ? "_nots_options" : "",
				       m ? nm : "none");
				c.mss = m & 1 ? (f == 4 ? 1460 : 1440) : 0;
				c.sack = m & 2;
				c.ts = m & 4;
				c.ws = m & 8 ? 7 : -1;
				c.ecn = 1;
				c.cfg = no ? CFG_ALL | XDPCT_CFG_NOTS_OPTIONS : 0;
				syn_ack_case(&c);
			}

	/* ECN: only ECE|CWR asks for it; never granted without timestamps */
	for (int f = 4; f <= 6; f += 2) {
		c = mk_linux(f, "");
		snprintf(c.name, sizeof(c.name), "%s.ecn", fam(f));
		c.ecn = 1;
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.ecn_no_ts", fam(f));
		c.ts = false;
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.ecn_no_ts_nots_options", fam(f));
		c.cfg = CFG_ALL | XDPCT_CFG_NOTS_OPTIONS;
		syn_ack_case(&c);
	}
	for (int f = 4; f <= 6; f += 2) {
		c = mk_linux(f, "");
		snprintf(c.name, sizeof(c.name), "%s.ecn_syn_ect0", fam(f));
		c.ecn = 1;
		c.tos = 0x02; /* ECT(0): no ECN granted */
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.ecn_syn_dscp", fam(f));
		c.tos = 0xb8; /* DSCP EF, Not-ECT: ECN granted */
		syn_ack_case(&c);
	}
	c = mk_linux(4, "ipv4.ece_only");
	c.ecn = 2;
	syn_ack_case(&c);
	c = mk_linux(4, "ipv4.cwr_only");
	c.ecn = 3;
	syn_ack_case(&c);

	/* IPv4 options: ihl 6..15, the reply has a 20-byte header */
	for (int ihl = 6; ihl <= 15; ihl++) {
		c = mk_linux(4, "");
		snprintf(c.name, sizeof(c.name), "ipv4.ihl%d", ihl);
		c.ip_optlen = (ihl - 5) * 4;
		syn_ack_case(&c);
	}

	/* IPv6 extension headers, dropped from the reply */
	c = mk_linux(6, "ipv6.ext_hop_dst_rt");
	c.n_ext = 3;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 16 };
	c.ext[2] = (struct pg_ext){ .type = PG_EXT_ROUTING, .len = 24 };
	syn_ack_case(&c);
	c = mk_linux(6, "ipv6.ext_hop_ah");
	c.n_ext = 2;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_AH, .len = 12 };
	syn_ack_case(&c);
	c = mk_linux(6, "ipv6.ext6_max");
	c.n_ext = 6;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 8 };
	c.ext[2] = (struct pg_ext){ .type = PG_EXT_ROUTING, .len = 8 };
	c.ext[3] = (struct pg_ext){ .type = PG_EXT_AH, .len = 16 };
	c.ext[4] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 32 };
	c.ext[5] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 8 };
	syn_ack_case(&c);

	/* VLAN: one 802.1Q tag; QinQ 802.1ad outer + 802.1Q inner */
	for (int f = 4; f <= 6; f += 2) {
		c = mk_linux(f, "");
		snprintf(c.name, sizeof(c.name), "%s.vlan", fam(f));
		c.nvlan = 1;
		c.vlan[0] = (struct pg_vlan){ 0x8100, 0xa064 }; /* PCP 5, VID 100 */
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.qinq", fam(f));
		c.nvlan = 2;
		c.vlan[0] = (struct pg_vlan){ 0x88a8, 0x00c8 };
		c.vlan[1] = (struct pg_vlan){ 0x8100, 0x3fff };
		syn_ack_case(&c);
	}
	c = mk_linux(4, "ipv4.qinq_ihl15_payload");
	c.nvlan = 2;
	c.vlan[0] = (struct pg_vlan){ 0x88a8, 0x0fff };
	c.vlan[1] = (struct pg_vlan){ 0x8100, 0x0001 };
	c.ip_optlen = 40;
	c.payload = 30;
	syn_ack_case(&c);
	c = mk_linux(6, "ipv6.qinq_ext");
	c.nvlan = 2;
	c.vlan[0] = (struct pg_vlan){ 0x8100, 0x0123 }; /* two 802.1Q tags */
	c.vlan[1] = (struct pg_vlan){ 0x8100, 0x0456 };
	c.n_ext = 2;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 8 };
	syn_ack_case(&c);

	/* one config flag off at a time: that option disappears */
	{
		static const struct { uint32_t flag; const char *n; } off[] = {
			{ XDPCT_CFG_TIMESTAMPS, "no_ts" }, { XDPCT_CFG_SACK, "no_sack" },
			{ XDPCT_CFG_WSCALE, "no_ws" },     { XDPCT_CFG_ECN, "no_ecn" },
		};

		for (int f = 4; f <= 6; f += 2)
			for (unsigned int i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
				c = mk_linux(f, "");
				snprintf(c.name, sizeof(c.name), "%s.cfg_%s", fam(f), off[i].n);
				c.ecn = 1;
				c.cfg = CFG_ALL & ~off[i].flag;
				syn_ack_case(&c);
			}
		c = mk_linux(4, "ipv4.cfg_enabled_only");
		c.ecn = 1;
		c.cfg = XDPCT_CFG_ENABLED;
		syn_ack_case(&c);
		c = mk_linux(4, "ipv4.cfg_no_ts_no_sack");
		c.cfg = CFG_ALL & ~(XDPCT_CFG_TIMESTAMPS | XDPCT_CFG_SACK);
		syn_ack_case(&c);
	}

	/* MSS table boundaries (index = largest entry <= client MSS) */
	{
		static const int m4[] = { 100, 535, 536, 1299, 1300, 1439, 1440, 1459,
					  1460, 1500, 8960, 65535 };
		static const int m6[] = { 500, 1219, 1220, 1419, 1420, 1439, 1440, 1460,
					  8939, 8940, 9000, 65535 };

		for (unsigned int i = 0; i < sizeof(m4) / sizeof(m4[0]); i++) {
			c = mk_linux(4, "");
			snprintf(c.name, sizeof(c.name), "ipv4.mss_%d", m4[i]);
			c.mss = m4[i];
			c.ts = i & 1; /* both cookie layouts */
			syn_ack_case(&c);
		}
		for (unsigned int i = 0; i < sizeof(m6) / sizeof(m6[0]); i++) {
			c = mk_linux(6, "");
			snprintf(c.name, sizeof(c.name), "ipv6.mss_%d", m6[i]);
			c.mss = m6[i];
			c.ts = i & 1;
			syn_ack_case(&c);
		}
		c = mk_linux(6, "ipv6.no_mss_ts");
		c.mss = 0;
		syn_ack_case(&c);
	}

	/* window shifts: 0, 14, and above 14 (capped to 14 as Linux does) */
	{
		static const int ws[] = { 0, 1, 13, 14, 15, 255 };

		for (unsigned int i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
			for (int l = 0; l < L_MAX; l++) {
				c = mk_linux(4, "");
				snprintf(c.name, sizeof(c.name), "ipv4.ws_%d.%s", ws[i], lay_name[l]);
				c.ws = ws[i];
				c.ts = l == L_TS;
				c.cfg = lay_cfg(l);
				syn_ack_case(&c);
			}
	}

	/* SYN payload is dropped; options in odd order and alignment */
	for (int f = 4; f <= 6; f += 2) {
		c = mk_linux(f, "");
		snprintf(c.name, sizeof(c.name), "%s.syn_payload", fam(f));
		c.payload = 50;
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.scrambled_options", fam(f));
		c.payload = 0;
		c.style = 1;
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.scrambled_options_no_ts", fam(f));
		c.ts = false;
		syn_ack_case(&c);
		snprintf(c.name, sizeof(c.name), "%s.scrambled_options_no_ts_nots_options", fam(f));
		c.cfg = CFG_ALL | XDPCT_CFG_NOTS_OPTIONS;
		syn_ack_case(&c);
	}
}

/* ---- flows that already exist ---- */

static void test_existing_flows(void)
{
	static struct res r;
	struct xdpct_req_attrs first;
	struct syn_case c = mk_linux(4, "pending");
	struct xdpct_flow_key k;
	struct xdpct_flow f;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	int n;

	/* a SYN retransmitted while the entry is pending gets the cookie again */
	flows_clear();
	ck_begin("xdp.flow.syn_while_pending");
	if (do_syn(&c, &sa_main) && do_ack(&sa_main, &first)) {
		run(sa_main.in, sa_main.in_len, &r);
		if (ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN))) {
			struct pg_parsed p;

			if (CK(pg_parse(r.frame, r.frame_len, &p) == 0, "reply unparsable") &&
			    ((p.seq >> 2) & 3) == sa_main.slot)
				CK(p.seq == sa_main.cookie, "ISN 0x%08x, first SYN-ACK 0x%08x",
				   p.seq, sa_main.cookie);
		}
		CK(flows_count() == 1, "flow entries %d, want 1", flows_count());
	}
	ck_end();

	/* RST of a pending flow: passed, no metadata (only plain ACKs carry it) */
	ck_begin("xdp.flow.rst_pending_no_meta");
	ack_spec(&sa_main, &a, 1);
	a.flags = F_RST;
	n = build(&a, buf, NULL);
	run(buf, n, &r);
	if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), -1))
		ck_untouched(&r, buf, n);
	ck_end();

	/* the child exists (TC cleared PENDING): SYN goes to the kernel, ACK
	 * passes without metadata */
	ck_begin("xdp.flow.syn_tracked");
	if (CK(flows_first(&k, &f) == 0, "no flow entry")) {
		f.flags &= ~XDPCT_FLOW_PENDING;
		f.state = XDPCT_CT_ESTABLISHED;
		CK(!flow_put(&k, &f), "flow update: %s", strerror(errno));
		memcpy(buf, sa_main.in, sa_main.in_len);
		run(buf, sa_main.in_len, &r);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_SYN_TRACKED), S(SYN_SEEN)))
			ck_untouched(&r, sa_main.in, sa_main.in_len);
	}
	ck_end();
	ck_begin("xdp.flow.ack_tracked_no_meta");
	ack_spec(&sa_main, &a, 7);
	n = build(&a, buf, NULL);
	run(buf, n, &r);
	if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), -1))
		ck_untouched(&r, buf, n);
	CK(r.d[S(COOKIE_GOOD)] == 0, "cookie checked for a tracked flow");
	ck_end();
	flows_clear();
}

/* ---- 3: bad cookies ---- */

enum bad_kind {
	BAD_ACK_PLUS1, BAD_ACK_MINUS1, BAD_ACK_RANDOM, BAD_OPT_WS, BAD_OPT_WS_NONE,
	BAD_OPT_SACK, BAD_OPT_ECN, BAD_TS_TOGGLED, BAD_CFG_TOGGLED, BAD_SEQ_PLUS1,
	BAD_SEQ_MINUS1, BAD_OPTION_LEN0, BAD_MAX,
};

static const char *const bad_name[BAD_MAX] = {
	"ack_plus1", "ack_minus1", "ack_random", "opts_wscale", "opts_wscale_none",
	"opts_sack", "opts_ecn", "ts_option_toggled", "nots_options_toggled", "seq_plus1",
	"seq_minus1", "option_len0",
};

static void set_tsecr(struct pg_spec *a, uint32_t tsval, uint32_t tsecr)
{
	memset(&a->opts, 0, sizeof(a->opts));
	pgo_nop(&a->opts);
	pgo_nop(&a->opts);
	pgo_ts(&a->opts, tsval, tsecr);
}

/* The bad ACK of kind k for sa's handshake; false if k does not apply to
 * sa's layout (options the layout does not carry). */
static bool bad_ack(const struct synack *sa, enum bad_kind k, struct pg_spec *a)
{
	/* opts bits live in TSecr (TS layout) or ISN bits 4-8 (no TS, options) */
	uint32_t tsecr = sa->tsval, cookie = sa->cookie, tsval = 12345;

	ack_spec(sa, a, tsval);
	switch (k) {
	case BAD_ACK_PLUS1: a->ack += 1; break;
	case BAD_ACK_MINUS1: a->ack -= 1; break;
	case BAD_ACK_RANDOM:
		do
			a->ack = rnd32();
		while (a->ack == cookie + 1);
		break;
	case BAD_OPT_WS:
	case BAD_OPT_WS_NONE:
	case BAD_OPT_SACK:
	case BAD_OPT_ECN: {
		uint32_t o = sa->opts;

		if (sa->layout == L_NOTS || (sa->layout == L_NOTS_OPTS && k == BAD_OPT_ECN))
			return false;
		if (k == BAD_OPT_WS)
			o ^= 1; /* another window shift */
		else if (k == BAD_OPT_WS_NONE)
			o = (o & 0xf) == 0xf ? (o & ~0xfu) | 7 : o | 0xf;
		else if (k == BAD_OPT_SACK)
			o ^= XDPCT_OPT_SACK;
		else
			o ^= XDPCT_OPT_ECN;
		if (sa->layout == L_TS)
			set_tsecr(a, tsval, (tsecr & ~0x3fu) | o);
		else
			a->ack = ((cookie & ~(0x1fu << 4)) | o << 4) + 1;
		break;
	}
	case BAD_TS_TOGGLED:
		if (sa->has_ts)
			memset(&a->opts, 0, sizeof(a->opts)); /* TS cookie, ACK without TS */
		else
			set_tsecr(a, tsval, sa->opts); /* no-TS cookie, ACK with TS */
		break;
	case BAD_CFG_TOGGLED: /* the caller flips XDPCT_CFG_NOTS_OPTIONS */
		if (sa->has_ts)
			return false;
		break;
	case BAD_SEQ_PLUS1: a->seq += 1; break;
	case BAD_SEQ_MINUS1: a->seq -= 1; break;
	case BAD_OPTION_LEN0: {
		static const uint8_t z[] = { 1, 1, 5, 0 }; /* kind 5 (SACK) len 0 */

		pgo_bytes(&a->opts, z, sizeof(z));
		break;
	}
	default: break;
	}
	return true;
}

static void test_bad_cookies(void)
{
	static struct res r;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	struct syn_case c;
	int n;

	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++) {
			const char *lay = lay_name[l];

			c = mk_linux(f, "");
			snprintf(c.name, sizeof(c.name), "bad_ack_base.%s.%s", fam(f), lay);
			c.ts = l == L_TS;
			c.ecn = 1;
			c.cfg = lay_cfg(l);
			flows_clear();
			ck_begin("xdp.bad_ack.%s.%s.synack", fam(f), lay);
			if (!do_syn(&c, &sa_main)) {
				ck_end();
				continue;
			}
			ck_end();
			for (int k = 0; k < BAD_MAX; k++) {
				if (!bad_ack(&sa_main, (enum bad_kind)k, &a))
					continue;
				ck_begin("xdp.bad_ack.%s.%s.%s", fam(f), lay, bad_name[k]);
				if (k == BAD_CFG_TOGGLED)
					set_cfg(c.cfg ^ XDPCT_CFG_NOTS_OPTIONS, &K1, NULL);
				n = build(&a, buf, NULL);
				run(buf, n, &r);
				set_cfg(c.cfg, &K1, NULL);
				ck_verdict(&r, XDP_DROP, refused_stat(a.ack), -1);
				CK(r.d[S(COOKIE_GOOD)] == 0, "cookie_good moved");
				ck_no_flows();
				ck_end();
			}
			/* and the right ACK still works after all that */
			ck_begin("xdp.bad_ack.%s.%s.good_after", fam(f), lay);
			{
				struct xdpct_req_attrs at;

				do_ack(&sa_main, &at);
			}
			ck_end();
			flows_clear();
		}
	set_cfg(CFG_ALL, &K1, NULL);
}

/* ---- 3: every bit the cookie covers ---- */

/* The fields of a cookie ACK that the cookie covers, one bit flipped at a
 * time: each flip must make the ACK a bad cookie (not stale, not good). */
enum bit_field { BF_ACK, BF_TSECR, BF_SEQ, BF_SADDR, BF_DADDR, BF_SPORT, BF_DPORT, BF_MAX };
static const char *const bf_name[BF_MAX] = {
	"cookie", "tsecr_opts", "client_isn", "saddr", "daddr", "sport", "dport",
};

static int bf_bits(enum bit_field b, const struct synack *sa)
{
	int alen = sa->c.family == 4 ? 4 : 16;

	switch (b) {
	case BF_ACK: case BF_SEQ: return 32;
	case BF_TSECR: return sa->has_ts ? 6 : 0;
	case BF_SADDR: case BF_DADDR: return 8 * alen;
	default: return 16;
	}
}

static void bf_flip(enum bit_field b, int i, struct pg_spec *a)
{
	switch (b) {
	case BF_ACK: a->ack = (a->ack - 1) ^ 1u << i; a->ack += 1; break;
	case BF_TSECR: {
		uint32_t tsval = pg_rd32(a->opts.b + 4), tsecr = pg_rd32(a->opts.b + 8);

		set_tsecr(a, tsval, tsecr ^ 1u << i);
		break;
	}
	case BF_SEQ: a->seq = (a->seq - 1) ^ 1u << i; a->seq += 1; break;
	case BF_SADDR: a->saddr[i / 8] ^= (uint8_t)(0x80 >> i % 8); break;
	case BF_DADDR: a->daddr[i / 8] ^= (uint8_t)(0x80 >> i % 8); break;
	case BF_SPORT: a->sport ^= (uint16_t)(1u << i); break;
	case BF_DPORT: a->dport ^= (uint16_t)(1u << i); break;
	default: break;
	}
}

static void test_cookie_bits(void)
{
	static struct res r;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	struct syn_case c;
	int n;

	/* the ports one bit away from PORT reach the cookie check too */
	for (int i = 0; i < 16; i++)
		set_port(PORT ^ 1u << i, XDPCT_PORT_PROTECT);
	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++) {
			c = mk_linux(f, "");
			snprintf(c.name, sizeof(c.name), "bits.%s.%s", fam(f), lay_name[l]);
			c.ts = l == L_TS;
			c.ecn = 1;
			c.mss = f == 4 ? 1440 : 1420; /* mss index 2 and 1: both bits used */
			if (f == 6)
				c.ws = 10;
			c.cfg = lay_cfg(l);
			flows_clear();
			ck_begin("xdp.cookie_bits.%s.%s.synack", fam(f), lay_name[l]);
			if (!do_syn(&c, &sa_main)) {
				ck_end();
				continue;
			}
			ck_end();
			for (int b = 0; b < BF_MAX; b++) {
				char bits[400] = "";
				int nb = bf_bits((enum bit_field)b, &sa_main), bad = 0, len = 0;

				if (!nb)
					continue;
				ck_begin("xdp.cookie_bits.%s.%s.%s", fam(f), lay_name[l], bf_name[b]);
				for (int i = 0; i < nb; i++) {
					ack_spec(&sa_main, &a, 777);
					bf_flip((enum bit_field)b, i, &a);
					n = build(&a, buf, NULL);
					run(buf, n, &r);
					if (r.err || r.verdict != XDP_DROP ||
					    r.d[refused_stat(a.ack)] != 1) {
						if (!bad++)
							len += snprintf(bits + len, sizeof(bits) - len,
									"first: bit %d %s (%s); bits:", i,
									vname(r.verdict), moved(&r));
						if (len < (int)sizeof(bits) - 8)
							len += snprintf(bits + len, sizeof(bits) - len,
									" %d", i);
						flows_clear();
					}
				}
				CK(bad == 0, "%d of %d single-bit flips not a bad cookie: %s", bad, nb,
				   bits);
				ck_no_flows();
				ck_end();
			}
			ck_begin("xdp.cookie_bits.%s.%s.unflipped_good", fam(f), lay_name[l]);
			{
				struct xdpct_req_attrs at;

				do_ack(&sa_main, &at);
			}
			ck_end();
			flows_clear();
		}
	for (int i = 0; i < 16; i++)
		set_port(PORT ^ 1u << i, 0);
	set_cfg(CFG_ALL, &K1, NULL);
}

/* ---- 3: cookie age and key rotation ---- */

/* An ACK whose cookie only the reference computed: no SYN was sent. */
static int forged_ack(int family, const struct xdpct_siphash_key *key, uint32_t mss_idx,
		      uint32_t slot, uint32_t opts, int layout, uint8_t *buf,
		      struct pg_spec *a)
{
	uint32_t isn = rnd32(), cookie;

	base_spec(a, family, PORT);
	a->flags = F_ACK;
	a->seq = isn + 1;
	cookie = sipref_cookie(key, family, a->saddr, a->daddr, a->sport, a->dport, isn,
			    mss_idx, slot, opts, layout);
	a->ack = cookie + 1;
	a->win = 1000;
	if (layout == L_TS) /* TSecr: a millisecond-ish clock, low 6 bits the options */
		set_tsecr(a, rnd32(), (rnd32() & ~0x3fu) | opts);
	return build(a, buf, NULL);
}

static void attrs_from(int family, uint32_t mss_idx, uint32_t opts, const struct pg_spec *a,
		       int layout, struct xdpct_req_attrs *w)
{
	memset(w, 0, sizeof(*w));
	w->mss = mss_of_idx(family, mss_idx);
	if ((opts & 0xf) != XDPCT_OPT_WSCALE_NONE) {
		w->wscale_ok = 1;
		w->snd_wscale = opts & 0xf;
		w->rcv_wscale = WSCALE;
	}
	w->sack_ok = !!(opts & XDPCT_OPT_SACK);
	w->ecn_ok = !!(opts & XDPCT_OPT_ECN);
	if (layout == L_TS) {
		w->tstamp_ok = 1;
		w->rcv_tsval = pg_rd32(a->opts.b + 4);
		w->rcv_tsecr = pg_rd32(a->opts.b + 8);
	}
}

/* The current slot, read from a fresh SYN-ACK. */
static int current_slot(int family)
{
	static struct res r;
	struct syn_case c = mk_linux(family, "slot");
	struct pg_spec s;
	struct pg_parsed p;
	uint8_t buf[PG_MAX_FRAME];
	int n;

	syn_spec(&c, &s);
	n = build(&s, buf, NULL);
	run(buf, n, &r);
	if (r.err || r.verdict != XDP_TX || pg_parse(r.frame, r.frame_len, &p))
		return -1;
	return (p.seq >> 2) & 3;
}

/* The largest and smallest options each layout carries. */
static uint32_t lay_opts(int layout, bool biggest)
{
	if (layout == L_NOTS)
		return XDPCT_OPT_WSCALE_NONE;
	if (!biggest)
		return 0;
	return 14 | XDPCT_OPT_SACK | (layout == L_TS ? XDPCT_OPT_ECN : 0);
}

static void test_cookie_age(void)
{
	static struct res r;
	static const struct { int age; const char *n; } ages[] = {
		{ 0, "age0" }, { 1, "age1" }, { 2, "age2_stale" }, { 3, "age3_stale" },
	};
	uint8_t buf[PG_MAX_FRAME];
	struct xdpct_req_attrs w;
	struct pg_spec a;
	int n;

	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++)
			for (unsigned int i = 0; i < 4; i++) {
				/* the biggest values every field can carry, and the smallest */
				uint32_t opts = lay_opts(l, !(i & 1)), mss_idx = i & 1 ? 0 : 3;
				int cur, tries = 0;
				uint64_t t0, t1;

				set_cfg(lay_cfg(l), &K1, NULL);
				ck_begin("xdp.cookie_age.%s.%s.%s", fam(f), lay_name[l], ages[i].n);
				flows_clear();
				do { /* retry if a slot boundary passes under the test */
					cur = current_slot(f);
					if (!CK(cur >= 0, "no SYN-ACK to read the slot from"))
						break;
					t0 = mono_ns();
					n = forged_ack(f, &K1, mss_idx, (cur - ages[i].age) & 3, opts,
						       l, buf, &a);
					run(buf, n, &r);
					t1 = mono_ns();
				} while (slot_of(t0) != slot_of(t1) && ++tries < 3);
				if (cur < 0) {
					ck_end();
					continue;
				}
				CK((uint32_t)cur == slot_of(t0), "SYN-ACK slot %d, clock slot %u", cur,
				   slot_of(t0));
				if (ages[i].age <= 1) {
					attrs_from(f, mss_idx, opts, &a, l, &w);
					if (ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), S(COOKIE_GOOD)))
						ck_meta_and_flow(&r, buf, n, &a, &w, t0, NULL);
				} else {
					ck_verdict(&r, XDP_DROP, S(V_DROP_COOKIE_STALE), -1);
					CK(r.d[S(COOKIE_GOOD)] == 0, "cookie_good moved");
					ck_no_flows();
				}
				ck_end();
				flows_clear();
			}
	set_cfg(CFG_ALL, &K1, NULL);
}

/* What an ACK of a key-slot case must get. */
enum { KS_GOOD, KS_GOOD_PREV, KS_GOOD_OTHER, KS_BAD, KS_STALE };
/* Config flags of the key-slot cases besides their layout's. */
static uint32_t ks_flags;

/* Keys belong to slots (include/xdpct.h, key_sel): cur signs the slots from
 * T + from_rel on (T: now's absolute slot), prev those before. An ACK whose
 * cookie signer made for the slot age slots back gets want. Retried when a
 * slot boundary passes under the case. */
static void key_slot_case(const char *name, int family, const struct xdpct_siphash_key *cur,
			  const struct xdpct_siphash_key *prev, int from_rel,
			  const struct xdpct_siphash_key *signer, int age, int layout, int want)
{
	static struct res r;
	uint32_t opts = layout == L_NOTS ? XDPCT_OPT_WSCALE_NONE :
		layout == L_TS ? 7 | XDPCT_OPT_SACK : 3 | XDPCT_OPT_SACK;
	struct xdpct_req_attrs w;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	uint64_t t0, t1, T;
	int n, tries = 0;

	ck_begin("xdp.key_slots.%s.%s.%s", fam(family), lay_name[layout], name);
	do {
		flows_clear();
		t0 = mono_ns();
		T = abs_slot(t0);
		set_cfg_at(lay_cfg(layout) | ks_flags | (prev ? XDPCT_CFG_PREV_KEY : 0), cur, prev,
			   T + from_rel);
		n = forged_ack(family, signer, 2, (uint32_t)(T - age) & 3, opts, layout, buf, &a);
		run(buf, n, &r);
		t1 = mono_ns();
	} while (abs_slot(t1) != T && ++tries < 3);
	switch (want) {
	case KS_GOOD:
	case KS_GOOD_PREV:
	case KS_GOOD_OTHER:
		attrs_from(family, 2, opts, &a, layout, &w);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), S(COOKIE_GOOD)))
			ck_meta_and_flow(&r, buf, n, &a, &w, t0, NULL);
		CK(r.d[S(COOKIE_PREV_KEY)] == (want == KS_GOOD_PREV), "cookie_prev_key %+lld, want %+d",
		   (long long)r.d[S(COOKIE_PREV_KEY)], want == KS_GOOD_PREV);
		CK(r.d[S(COOKIE_FLEET_OTHER_KEY)] == (want == KS_GOOD_OTHER),
		   "cookie_fleet_other_key %+lld, want %+d",
		   (long long)r.d[S(COOKIE_FLEET_OTHER_KEY)], want == KS_GOOD_OTHER);
		break;
	case KS_BAD:
	case KS_STALE:
		ck_verdict(&r, XDP_DROP, want == KS_BAD ? S(V_DROP_COOKIE_BAD) :
			   S(V_DROP_COOKIE_STALE), -1);
		CK(r.d[S(COOKIE_GOOD)] == 0 && r.d[S(COOKIE_PREV_KEY)] == 0 &&
		   r.d[S(COOKIE_FLEET_OTHER_KEY)] == 0, "counted good: %s", moved(&r));
		ck_no_flows();
		break;
	}
	ck_end();
	flows_clear();
}

static void test_prev_key(void)
{
	static struct res r;
	struct xdpct_req_attrs w;
	uint8_t buf[PG_MAX_FRAME];
	struct pg_spec a;
	struct syn_case c;
	int n;

	/* a handshake across a rotation: the SYN-ACK under K1 alone; then K2
	 * from the next slot on (a rotation as config_commit makes it), the
	 * ACK checked with K1, its slot's key. The PREV_KEY flag is only
	 * information: without it the same. Made K2's from the SYN's own slot,
	 * the cookie fails: one key per slot, never two tried. */
	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++)
			for (int v = 0; v < 3; v++) {
				static const char *const vn[] = { "accepted", "no_flag_accepted",
								  "slot_given_to_new_key" };
				uint64_t T;

				c = mk_linux(f, "prev_key");
				c.ts = l == L_TS;
				c.cfg = lay_cfg(l);
				flows_clear();
				ck_begin("xdp.prev_key.%s.%s.%s", fam(f), lay_name[l], vn[v]);
				if (do_syn(&c, &sa_main)) {
					T = abs_slot(sa_main.t_syn);
					if ((T & 3) != sa_main.slot)
						T++; /* the slot turned during the SYN */
					set_cfg_at(c.cfg | (v == 1 ? 0 : XDPCT_CFG_PREV_KEY), &K2, &K1,
						   v == 2 ? T : T + 1);
					ack_spec(&sa_main, &a, 99);
					n = build(&a, buf, NULL);
					attrs_expect(&sa_main, &a, &w);
					run(buf, n, &r);
					if (v == 2) {
						ck_verdict(&r, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);
						ck_no_flows();
					} else if (ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE),
							      S(COOKIE_PREV_KEY))) {
						CK(r.d[S(COOKIE_GOOD)] == 1, "cookie_good %+lld",
						   (long long)r.d[S(COOKIE_GOOD)]);
						ck_meta_and_flow(&r, buf, n, &a, &w, sa_main.t_syn, NULL);
					}
				}
				ck_end();
				flows_clear();
			}

	/* forged ACKs of each slot under each key: K2 from now's slot T on,
	 * K1 before */
	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++) {
			key_slot_case("current_key_not_counted", f, &K2, &K1, 0, &K2, 0, l, KS_GOOD);
			key_slot_case("previous_slot_previous_key", f, &K2, &K1, 0, &K1, 1, l,
				      KS_GOOD_PREV);
			key_slot_case("previous_slot_current_key", f, &K2, &K1, 0, &K2, 1, l, KS_BAD);
			key_slot_case("current_slot_previous_key", f, &K2, &K1, 0, &K1, 0, l, KS_BAD);
			key_slot_case("unknown_key", f, &K2, &K1, 0, &K3, 0, l, KS_BAD);
			key_slot_case("unknown_key_previous_slot", f, &K2, &K1, 0, &K3, 1, l, KS_BAD);
			/* two slots back: too old, whichever key signed it (the
			 * slot is checked before the hash) */
			key_slot_case("previous_key_stale", f, &K2, &K1, 0, &K1, 2, l, KS_STALE);
			key_slot_case("current_key_two_slots_back", f, &K2, &K1, 0, &K2, 2, l,
				      KS_STALE);
			key_slot_case("unknown_key_three_slots_back", f, &K2, &K1, 0, &K3, 3, l,
				      KS_STALE);
			/* a rotation for the next slot: now's slot is still K1's */
			key_slot_case("pending_rotation_old_key", f, &K2, &K1, 1, &K1, 0, l,
				      KS_GOOD_PREV);
			key_slot_case("pending_rotation_new_key", f, &K2, &K1, 1, &K2, 0, l, KS_BAD);
			/* K1 is two keys back: none of its cookies holds */
			key_slot_case("old_key_after_second_rotation", f, &K3, &K2, 0, &K1, 1, l,
				      KS_BAD);
		}

	/* a fleet's clock (`run --etcd`): slots and key_sel count monotonic
	 * time plus clock_offset_ns; here ~1.7e18 ns and 3/4 of a slot, so
	 * both the slot's low bits and its absolute count move with it */
	clock_off = (int64_t)(24000000ll << XDPCT_SLOT_SHIFT) + (3ll << (XDPCT_SLOT_SHIFT - 2));
	for (int f = 4; f <= 6; f += 2) {
		key_slot_case("fleet_clock_current_key", f, &K2, &K1, 0, &K2, 0, L_TS, KS_GOOD);
		key_slot_case("fleet_clock_previous_key", f, &K2, &K1, 0, &K1, 1, L_TS,
			      KS_GOOD_PREV);
		key_slot_case("fleet_clock_pending_rotation", f, &K2, &K1, 1, &K1, 0, L_NOTS,
			      KS_GOOD_PREV);
		key_slot_case("fleet_clock_current_slot_previous_key", f, &K2, &K1, 0, &K1, 0,
			      L_TS, KS_BAD);
		{
			struct syn_case c = mk_linux(f, "fleet_clock");

			flows_clear();
			ck_begin("xdp.fleet_clock.%s.synack_signed_on_fleet_slots", fam(f));
			do_syn(&c, &sa_main); /* checks the cookie against abs_slot() */
			ck_end();
		}
	}

	/* a fleet (XDPCT_CFG_FLEET): a cookie that fails its slot's key is
	 * checked with the other one, which a box a rotation apart signs
	 * with; a third key, or a stale cookie, still fails */
	ks_flags = XDPCT_CFG_FLEET;
	for (int f = 4; f <= 6; f += 2)
		for (int l = 0; l < L_MAX; l++) {
			key_slot_case("fleet_slot_key", f, &K2, &K1, 0, &K2, 0, l, KS_GOOD);
			key_slot_case("fleet_previous_key_in_its_slot", f, &K2, &K1, 0, &K1, 1, l,
				      KS_GOOD_PREV);
			key_slot_case("fleet_previous_key_lagging_box", f, &K2, &K1, 0, &K1, 0, l,
				      KS_GOOD_OTHER);
			key_slot_case("fleet_staged_key_box_ahead", f, &K1, &K2, -5, &K2, 0, l,
				      KS_GOOD_OTHER);
			key_slot_case("fleet_current_key_previous_slot", f, &K2, &K1, 0, &K2, 1, l,
				      KS_GOOD_OTHER);
			key_slot_case("fleet_unknown_key", f, &K2, &K1, 0, &K3, 0, l, KS_BAD);
			key_slot_case("fleet_other_key_stale", f, &K2, &K1, 0, &K2, 2, l, KS_STALE);
		}
	ks_flags = 0;
	clock_off = 0;
	set_cfg(CFG_ALL, &K1, NULL);
}

/* ---- 4: malformed and foreign frames ---- */

struct outcome {
	int err;        /* expected -errno of test_run, 0 normally */
	uint32_t verdict;
	int vstat, detail;
};

/* Every counter that moved: xdp_packets, vstat and detail, by one each. */
static bool ck_exact(const struct res *r, int vstat, int detail, const char *what)
{
	for (int i = 0; i < XDPCT_STAT_MAX; i++) {
		int64_t want = i == S(XDP_PACKETS) || i == vstat || i == detail;

		if (!CK(r->d[i] == want, "%s: %s %+lld, want %+lld (counters: %s)", what,
			stat_name[i], (long long)r->d[i], (long long)want, moved(r)))
			return false;
	}
	return true;
}

/* What the program must say of a SYN cut to len bytes (docs/datapath.md: malformed
 * frames and fragments). fixed: the IP length field was set to what is
 * left, so the cut shows up at the layer it falls in. A case to an
 * unprotected port, or a first fragment (IPv4 MF, IPv6 fragment header
 * with M set), goes by its port as soon as the ports are in. */
static struct outcome trunc_expect(const struct syn_case *c, const struct pg_layout *L,
				   int len, bool fixed)
{
	struct outcome o = { 0, XDP_PASS, S(V_PASS_MALFORMED), -1 };
	int l3 = len - L->l3_off, hdr = L->l4_off - L->l3_off, frag6_end = 0, x = 40;
	bool watched = !c->dport || c->dport == PORT, frag = c->frag_off & 0x2000;

	for (int i = 0; c->family == 6 && i < c->n_ext; i++) {
		x += c->ext[i].type == PG_EXT_FRAG ? 8 : c->ext[i].len;
		if (c->ext[i].type == PG_EXT_FRAG && (c->ext[i].frag & 1) && !frag6_end)
			frag6_end = x;
	}
	frag |= frag6_end > 0;
	if (len < 14) { /* the kernel refuses frames below ETH_HLEN */
		o.err = -EINVAL;
		return o;
	}
	if (len < L->l3_off) { /* no ports: the kernel's checks */
		o.detail = S(ERR_VLAN);
		return o;
	}
	if (len == L->len && !frag) {
		o.verdict = watched ? XDP_TX : XDP_PASS;
		o.vstat = watched ? S(V_TX_SYNACK) : S(V_PASS_UNPROTECTED);
		return o;
	}
	if (c->family == 4) {
		o.detail = S(ERR_IPV4);
		if (len < L->len && (!fixed || l3 < hdr)) /* raw cut: tot_len past the frame */
			return o;
	} else {
		o.detail = S(ERR_IPV6);
		if (len < L->len && (!fixed || l3 <= 40)) /* payload_len 0 is refused too */
			return o;
		o.detail = S(ERR_IPV6_EXT);
		if (len < L->len && l3 < hdr) {
			if (frag6_end && l3 >= frag6_end) { /* a first fragment's chain cut */
				o.verdict = XDP_DROP;
				o.vstat = S(V_DROP_FRAGMENT);
				o.detail = -1;
			}
			return o;
		}
	}
	if (frag) { /* the ports decide; without them, hidden TCP: dropped */
		bool drop = l3 - hdr < 4 || watched;

		o.verdict = drop ? XDP_DROP : XDP_PASS;
		o.vstat = drop ? S(V_DROP_FRAGMENT) : S(V_PASS_FRAGMENT);
		o.detail = -1;
		return o;
	}
	if (l3 - hdr < L->tcp_hlen) {
		o.detail = S(ERR_TCP);
		if (l3 - hdr >= 4 && watched) {
			o.verdict = XDP_DROP;
			o.vstat = S(V_DROP_MALFORMED);
		}
		return o;
	}
	/* the cut only shortened the payload */
	o.verdict = watched ? XDP_TX : XDP_PASS;
	o.vstat = watched ? S(V_TX_SYNACK) : S(V_PASS_UNPROTECTED);
	o.detail = -1;
	return o;
}

static void trunc_test(const struct syn_case *c, bool fixed)
{
	static struct res r;
	uint8_t full[PG_MAX_FRAME], buf[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	int n, cases = 0;

	set_cfg(CFG_ALL, &K1, NULL);
	flows_clear();
	syn_spec(c, &s);
	n = build(&s, full, &L);
	ck_begin("xdp.trunc.%s.%s", c->name, fixed ? "ip_len_fixed" : "raw");
	for (int len = 0; len <= n; len++) {
		struct outcome o = trunc_expect(c, &L, len, fixed);
		int hdr = c->family == 4 ? 20 : 40;
		char what[40];

		memcpy(buf, full, n);
		if (fixed && len >= L.l3_off + hdr && len < n)
			pg_set_l3_len(buf, &L, c->family, len - L.l3_off);
		run(buf, len, &r);
		cases++;
		if (!fixed && len < n)
			CK(r.err || r.verdict != XDP_TX, "len %d of %d: XDP_TX on a cut frame", len, n);
		if (o.err) {
			CK(r.err == o.err, "len %d: test_run %s, want %s", len, strerror(-r.err),
			   strerror(-o.err));
			continue;
		}
		if (!CK(r.err == 0, "len %d: test_run %s", len, strerror(-r.err)))
			continue;
		CK(r.verdict == o.verdict && r.d[o.vstat] == 1 &&
		   (o.detail < 0 || r.d[o.detail] == 1),
		   "len %d of %d: %s (%s), want %s %s%s%s", len, n, vname(r.verdict), moved(&r),
		   vname(o.verdict), stat_name[o.vstat], o.detail >= 0 ? "+" : "",
		   o.detail >= 0 ? stat_name[o.detail] : "");
		snprintf(what, sizeof(what), "len %d of %d", len, n);
		if (o.verdict != XDP_TX) /* a SYN-ACK counts syn_seen too */
			ck_exact(&r, o.vstat, o.detail, what);
		if (o.verdict == XDP_PASS)
			ck_untouched(&r, buf, len);
	}
	ck_no_flows();
	ck_end();
	ck_note("%s: %d lengths", ck.name, cases);
}

static void test_truncation(void)
{
	struct syn_case c;

	c = mk_linux(4, "ipv4_payload");
	c.payload = 8;
	trunc_test(&c, false);
	trunc_test(&c, true);
	c = mk_linux(6, "ipv6_ext");
	c.n_ext = 3;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 16 };
	c.ext[2] = (struct pg_ext){ .type = PG_EXT_ROUTING, .len = 8 };
	c.payload = 4;
	trunc_test(&c, false);
	trunc_test(&c, true);
	c = mk_linux(4, "vlan_ipv4_ihl6");
	c.nvlan = 1;
	c.vlan[0] = (struct pg_vlan){ 0x8100, 0x0064 };
	c.ip_optlen = 4;
	c.payload = 4;
	trunc_test(&c, false);
	trunc_test(&c, true);
	c = mk_linux(6, "qinq_ipv6");
	c.nvlan = 2;
	c.vlan[0] = (struct pg_vlan){ 0x88a8, 0x0064 };
	c.vlan[1] = (struct pg_vlan){ 0x8100, 0x00c8 };
	c.payload = 4;
	trunc_test(&c, false);
	trunc_test(&c, true);
	c = mk_linux(4, "ipv4_payload_port81");
	c.payload = 8;
	c.dport = PORT_OPEN;
	trunc_test(&c, false);
	trunc_test(&c, true);
	/* first fragments, to a protected and an unprotected port */
	for (int p = 0; p < 2; p++) {
		c = mk_linux(4, p ? "ipv4_first_fragment_port81" : "ipv4_first_fragment");
		c.payload = 8;
		c.frag_off = 0x2000;
		c.dport = p ? PORT_OPEN : PORT;
		trunc_test(&c, false);
		trunc_test(&c, true);
		c = mk_linux(6, p ? "ipv6_hop_frag_dest_port81" : "ipv6_hop_frag_dest");
		c.n_ext = 3;
		c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
		c.ext[1] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 1 };
		c.ext[2] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 16 };
		c.payload = 4;
		c.dport = p ? PORT_OPEN : PORT;
		trunc_test(&c, false);
		trunc_test(&c, true);
	}
	/* err_eth cannot be reached: test_run refuses frames under 14 bytes */

}

/* One packet, one expected outcome; untouched: a PASS must not change it. */
static void expect_pkt(const char *name, const uint8_t *pkt, int len, uint32_t verdict,
		       int vstat, int detail)
{
	static struct res r;

	ck_begin("xdp.%s", name);
	run(pkt, len, &r);
	if (ck_verdict(&r, verdict, vstat, detail) && verdict == XDP_PASS)
		ck_untouched(&r, pkt, len);
	if (verdict != XDP_TX)
		CK(r.d[S(V_TX_SYNACK)] == 0, "answered");
	ck_no_flows();
	ck_end();
}

#define DROP_BAD(name, err) expect_pkt(name, b, n, XDP_DROP, S(V_DROP_MALFORMED), S(err))

/* A Linux SYN to port 80 in b; returns its length. */
static int syn_frame(int family, uint8_t *b, struct pg_layout *L, struct pg_spec *s)
{
	struct syn_case c = mk_linux(family, "x");

	syn_spec(&c, s);
	return build(s, b, L);
}

/* What decides the verdict of a malformed frame or a fragment (docs/datapath.md). */
enum by {
	BY_PORT,   /* TCP ports readable: protected or observed -> DROP, else PASS */
	BY_KERNEL, /* no ports (broken below TCP, a later fragment): PASS */
	BY_HIDDEN, /* TCP xdpct cannot reach: DROP whatever the port */
};

struct ucase {
	const char *name;
	int family;
	bool frag; /* fragment verdicts; else malformed ones with err */
	int err;
	enum by by;
};

#define U_MAL(n, f, e, b) { n, f, false, S(e), b }
#define U_FRAG(n, f, b) { n, f, true, -1, b }

static const struct ucase ucases[] = {
	/* malformed TCP header, ports readable */
	U_MAL("ipv4_tot_len_cuts_tcp_header", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_tot_len_cuts_tcp_options", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_tot_len_4_tcp_bytes", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_ihl15_cuts_tcp", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_doff4", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_doff0", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_doff_past_segment", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv4_doff_past_ip_len_in_frame", 4, ERR_TCP, BY_PORT),
	U_MAL("ipv6_payload_cuts_tcp", 6, ERR_TCP, BY_PORT),
	U_MAL("ipv6_hop_then_tcp_cut", 6, ERR_TCP, BY_PORT),
	U_MAL("ipv6_doff4", 6, ERR_TCP, BY_PORT),
	U_MAL("ipv6_doff0", 6, ERR_TCP, BY_PORT),
	U_MAL("ipv6_doff_past_segment", 6, ERR_TCP, BY_PORT),
	U_MAL("ipv6_doff_past_ip_len_in_frame", 6, ERR_TCP, BY_PORT),
	/* malformed, no ports to read */
	U_MAL("ipv4_ihl4", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_ihl0", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_version6", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_tot_len_past_frame", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_tot_len_below_ihl", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_ihl7_tot_len27", 4, ERR_IPV4, BY_KERNEL),
	U_MAL("ipv4_tot_len_equals_ihl", 4, ERR_TCP, BY_KERNEL),
	U_MAL("ipv4_tot_len_3_tcp_bytes", 4, ERR_TCP, BY_KERNEL),
	U_MAL("ipv6_version4", 6, ERR_IPV6, BY_KERNEL),
	U_MAL("ipv6_payload_len_past_frame", 6, ERR_IPV6, BY_KERNEL),
	U_MAL("ipv6_payload_len0", 6, ERR_IPV6, BY_KERNEL),
	U_MAL("ipv6_payload_3_tcp_bytes", 6, ERR_TCP, BY_KERNEL),
	U_MAL("ipv6_ext_len_past_payload", 6, ERR_IPV6_EXT, BY_KERNEL),
	U_MAL("ipv6_ext_header_past_payload", 6, ERR_IPV6_EXT, BY_KERNEL),
	U_MAL("ipv6_fragment_header_cut", 6, ERR_IPV6_EXT, BY_KERNEL),
	U_MAL("vlan_tag_cut", 4, ERR_VLAN, BY_KERNEL),
	U_MAL("qinq_inner_tag_cut", 6, ERR_VLAN, BY_KERNEL),
	/* malformed: more than xdpct parses */
	U_MAL("vlan_three_tags", 4, ERR_VLAN, BY_HIDDEN),
	U_MAL("vlan_three_8021q_tags", 6, ERR_VLAN, BY_HIDDEN),
	U_MAL("ipv6_7_ext_headers", 6, ERR_IPV6_EXT, BY_HIDDEN),
	U_MAL("ipv6_7_ext_headers_with_fragment", 6, ERR_IPV6_EXT, BY_HIDDEN),
	U_MAL("ipv6_ext_past_2047_bytes", 6, ERR_IPV6_EXT, BY_HIDDEN),
	/* first fragments: their ports decide */
	U_FRAG("ipv4_first_fragment", 4, BY_PORT),
	U_FRAG("ipv4_first_fragment_df_mf", 4, BY_PORT),
	U_FRAG("ipv4_first_fragment_8_tcp_bytes", 4, BY_PORT),
	U_FRAG("ipv4_first_fragment_4_tcp_bytes", 4, BY_PORT),
	U_FRAG("ipv4_first_fragment_doff0", 4, BY_PORT),
	U_FRAG("ipv6_first_fragment", 6, BY_PORT),
	U_FRAG("ipv6_first_fragment_after_hop", 6, BY_PORT),
	U_FRAG("ipv6_frag_dest_syn", 6, BY_PORT),
	U_FRAG("ipv6_frag_dest_ack", 6, BY_PORT),
	U_FRAG("ipv6_hop_frag_dest_rt_ah_tcp", 6, BY_PORT),
	U_FRAG("ipv6_atomic_then_first_fragment", 6, BY_PORT),
	U_FRAG("ipv6_first_fragment_8_tcp_bytes", 6, BY_PORT),
	/* later fragments: no ports, the kernel reassembles or drops */
	U_FRAG("ipv4_fragment_offset", 4, BY_KERNEL),
	U_FRAG("ipv4_fragment_offset_mf", 4, BY_KERNEL),
	U_FRAG("ipv4_fragment_offset_last", 4, BY_KERNEL),
	U_FRAG("ipv6_fragment_later", 6, BY_KERNEL),
	U_FRAG("ipv6_fragment_later_last", 6, BY_KERNEL),
	U_FRAG("ipv6_fragment_later_dest_next", 6, BY_KERNEL),
	U_FRAG("ipv6_hop_fragment_later", 6, BY_KERNEL),
	/* first fragments without their ports (RFC 1858, RFC 8200 4.5) */
	U_FRAG("ipv4_first_fragment_3_tcp_bytes", 4, BY_HIDDEN),
	U_FRAG("ipv4_first_fragment_0_tcp_bytes", 4, BY_HIDDEN),
	U_FRAG("ipv6_first_fragment_3_tcp_bytes", 6, BY_HIDDEN),
	U_FRAG("ipv6_first_fragment_chain_cut", 6, BY_HIDDEN),
	U_FRAG("ipv6_first_fragment_ext_past_payload", 6, BY_HIDDEN),
};

/* Builds case u's frame from sport to dport in b; its length. */
static int u_frame(const struct ucase *u, uint16_t sport, uint16_t dport, uint8_t *b)
{
	const char *nm = u->name;
	struct syn_case c = mk_linux(u->family, "x");
	struct pg_layout L;
	struct pg_spec s;
	uint8_t *ip;
	int n, frag_l3 = 0; /* l3 length at which an IPv6 case is cut (0: none) */

#define IS(x) (!strcmp(nm, x))
#define HAS(x) (strstr(nm, x) != NULL)
#define EXT(t, l) (s.ext[s.n_ext++] = (struct pg_ext){ .type = (t), .len = (l) })
#define FRAG(f) (s.ext[s.n_ext++] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = (f) })
	if (IS("ipv4_ihl15_cuts_tcp") || IS("ipv4_ihl7_tot_len27"))
		c.ip_optlen = 8;
	syn_spec(&c, &s);
	s.sport = sport;
	s.dport = dport;
	if (IS("ipv6_frag_dest_ack")) {
		s.flags = F_ACK;
		s.ack = rnd32();
		memset(&s.opts, 0, sizeof(s.opts));
	}
	/* fragments: IPv4 flags and offset, IPv6 fragment headers */
	if (u->family == 4 && u->frag)
		s.frag_off = HAS("offset_last") ? 0x00b9 : HAS("offset_mf") ? 0x2001 :
			     HAS("offset") ? 0x0001 : HAS("df_mf") ? 0x6000 : 0x2000;
	if (IS("ipv6_first_fragment") || IS("ipv6_first_fragment_8_tcp_bytes") ||
	    IS("ipv6_first_fragment_3_tcp_bytes"))
		FRAG(1);
	if (IS("ipv6_first_fragment_after_hop")) {
		EXT(PG_EXT_HOP, 8);
		FRAG(1);
	}
	if (IS("ipv6_frag_dest_syn") || IS("ipv6_frag_dest_ack")) {
		FRAG(1);
		EXT(PG_EXT_DEST, 8);
	}
	if (IS("ipv6_hop_frag_dest_rt_ah_tcp")) {
		EXT(PG_EXT_HOP, 8);
		FRAG(1);
		EXT(PG_EXT_DEST, 16);
		EXT(PG_EXT_ROUTING, 8);
		EXT(PG_EXT_AH, 12);
	}
	if (IS("ipv6_atomic_then_first_fragment")) {
		FRAG(0);
		FRAG(1);
	}
	if (IS("ipv6_fragment_later") || IS("ipv6_fragment_later_dest_next"))
		FRAG(100 << 3 | 1);
	if (IS("ipv6_fragment_later_last"))
		FRAG(100 << 3);
	if (IS("ipv6_fragment_later_dest_next"))
		EXT(PG_EXT_DEST, 8); /* the later fragment's bytes: any */
	if (IS("ipv6_hop_fragment_later")) {
		EXT(PG_EXT_HOP, 8);
		FRAG(7 << 3);
	}
	if (IS("ipv6_first_fragment_chain_cut") || IS("ipv6_first_fragment_ext_past_payload")) {
		FRAG(1);
		EXT(PG_EXT_DEST, 16);
	}
	if (IS("ipv6_hop_then_tcp_cut") || IS("ipv6_ext_len_past_payload"))
		EXT(PG_EXT_HOP, 8);
	if (IS("ipv6_ext_header_past_payload")) {
		EXT(PG_EXT_HOP, 8);
		EXT(PG_EXT_DEST, 8);
	}
	if (IS("ipv6_fragment_header_cut"))
		FRAG(1);
	if (IS("ipv6_7_ext_headers"))
		for (int i = 0; i < 7; i++)
			EXT(i ? PG_EXT_DEST : PG_EXT_HOP, 8);
	if (IS("ipv6_7_ext_headers_with_fragment")) {
		EXT(PG_EXT_HOP, 8);
		FRAG(1);
		for (int i = 0; i < 5; i++)
			EXT(PG_EXT_DEST, 8);
	}
	if (IS("ipv6_ext_past_2047_bytes"))
		EXT(PG_EXT_HOP, 2048);
	if (HAS("vlan_three") || IS("qinq_inner_tag_cut")) {
		s.nvlan = HAS("three") ? 3 : 2;
		s.vlan[0] = (struct pg_vlan){ HAS("8021q") ? 0x8100 : 0x88a8, 1 };
		s.vlan[1] = (struct pg_vlan){ 0x8100, 2 };
		s.vlan[2] = (struct pg_vlan){ 0x8100, 3 };
	}
	if (IS("vlan_tag_cut")) {
		s.nvlan = 1;
		s.vlan[0] = (struct pg_vlan){ 0x8100, 5 };
	}
	n = build(&s, b, &L);
	ip = b + L.l3_off;

	/* then the bytes: lengths and header fields */
	if (IS("ipv4_tot_len_cuts_tcp_header"))
		pg_set_l3_len(b, &L, 4, 20 + 19);
	if (IS("ipv4_tot_len_cuts_tcp_options"))
		pg_set_l3_len(b, &L, 4, 20 + 24);
	if (IS("ipv4_tot_len_4_tcp_bytes") || IS("ipv4_first_fragment_4_tcp_bytes"))
		pg_set_l3_len(b, &L, 4, 20 + 4);
	if (IS("ipv4_first_fragment_8_tcp_bytes"))
		pg_set_l3_len(b, &L, 4, 20 + 8);
	if (IS("ipv4_tot_len_3_tcp_bytes") || IS("ipv4_first_fragment_3_tcp_bytes"))
		pg_set_l3_len(b, &L, 4, 20 + 3);
	if (IS("ipv4_tot_len_equals_ihl") || IS("ipv4_first_fragment_0_tcp_bytes"))
		pg_set_l3_len(b, &L, 4, 20);
	if (IS("ipv4_ihl15_cuts_tcp")) {
		/* ihl 15: "TCP" starts 60 bytes in, 8 bytes before the end */
		ip[0] = 0x4f;
		pg_set_l3_len(b, &L, 4, n - L.l3_off);
		pg_wr16(ip + 60, sport);
		pg_wr16(ip + 62, dport);
	}
	if (IS("ipv4_ihl7_tot_len27"))
		pg_set_l3_len(b, &L, 4, 27);
	if (IS("ipv4_ihl4"))
		ip[0] = 0x44;
	if (IS("ipv4_ihl0"))
		ip[0] = 0x40;
	if (IS("ipv4_version6"))
		ip[0] = 0x65;
	if (IS("ipv4_tot_len_past_frame") || IS("ipv6_payload_len_past_frame"))
		pg_set_l3_len(b, &L, u->family, n - L.l3_off + 1);
	if (IS("ipv4_tot_len_below_ihl"))
		pg_set_l3_len(b, &L, 4, 19);
	if (HAS("doff")) {
		b[L.l4_off + 12] = HAS("doff4") ? 4 << 4 : HAS("doff0") ? 0 : 15 << 4;
		if (HAS("in_frame")) { /* doff inside the frame, past the IP length */
			memset(b + n, 0xee, 40);
			n += 40;
		}
	}
	if (IS("ipv6_version4"))
		ip[0] = 0x40;
	if (IS("ipv6_payload_len0"))
		frag_l3 = 40;
	if (IS("ipv6_payload_cuts_tcp"))
		frag_l3 = 40 + 10;
	if (IS("ipv6_payload_3_tcp_bytes"))
		frag_l3 = 40 + 3;
	if (IS("ipv6_hop_then_tcp_cut"))
		frag_l3 = 40 + 8 + 6;
	if (IS("ipv6_ext_len_past_payload") || IS("ipv6_first_fragment_ext_past_payload"))
		ip[40 + (u->frag ? 8 : 0) + 1] = 200; /* hdr ext len far past the payload */
	if (IS("ipv6_ext_header_past_payload"))
		frag_l3 = 40 + 8;
	if (IS("ipv6_fragment_header_cut"))
		frag_l3 = 40 + 4;
	if (IS("ipv6_first_fragment_8_tcp_bytes"))
		frag_l3 = 40 + 8 + 8;
	if (IS("ipv6_first_fragment_3_tcp_bytes"))
		frag_l3 = 40 + 8 + 3;
	if (IS("ipv6_first_fragment_chain_cut"))
		frag_l3 = 40 + 8 + 8;
	if (frag_l3)
		pg_set_l3_len(b, &L, 6, frag_l3);
	if (IS("vlan_tag_cut"))
		n = 16;
	if (IS("qinq_inner_tag_cut"))
		n = 20;
#undef IS
#undef HAS
#undef EXT
#undef FRAG
	return n;
}

/* The ports a case is sent with, and whether they ask for a drop. */
static const struct {
	const char *n;
	uint16_t sport, dport;
	bool track_all, watched;
} uports[] = {
	{ "protected", 40001, PORT, false, true },
	{ "observed", 40002, 8080, false, true },
	{ "unprotected", 40003, PORT_OPEN, false, false },
	{ "observed_remote_port", 8080, PORT_OPEN, false, true },
	{ "unprotected_track_all", 40004, PORT_OPEN, true, true },
};

static void test_unparsed(void)
{
	static struct res r;
	uint8_t b[PG_MAX_FRAME];

	flows_clear();
	for (unsigned int i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *u = &ucases[i];

		ck_begin("xdp.unparsed.%s", u->name);
		for (unsigned int p = 0; p < sizeof(uports) / sizeof(uports[0]); p++) {
			bool drop = u->by == BY_HIDDEN || (u->by == BY_PORT && uports[p].watched);
			int vstat = u->frag ? (drop ? S(V_DROP_FRAGMENT) : S(V_PASS_FRAGMENT)) :
					      (drop ? S(V_DROP_MALFORMED) : S(V_PASS_MALFORMED));
			int n = u_frame(u, uports[p].sport, uports[p].dport, b), np;

			set_cfg(CFG_ALL | (uports[p].track_all ? XDPCT_CFG_TRACK_ALL : 0), &K1,
				NULL);
			run(b, n, &r);
			if (!CK(r.err == 0, "%s: test_run %s", uports[p].n, strerror(-r.err)))
				continue;
			CK(r.verdict == (drop ? XDP_DROP : XDP_PASS), "%s: verdict %s, want %s",
			   uports[p].n, vname(r.verdict), drop ? "DROP" : "PASS");
			ck_exact(&r, vstat, u->frag ? -1 : u->err, uports[p].n);
			if (r.verdict == XDP_PASS)
				ck_untouched(&r, b, n);
			np = map_count(pending_fd);
			CK(flows_count() == 0 && np == 0, "%s: %d flow and %d pending entries",
			   uports[p].n, flows_count(), np);
			flows_clear();
			map_clear(pending_fd);
		}
		set_cfg(CFG_ALL, &K1, NULL);
		ck_end();
	}
}

/* TC egress (the local stack's packets) tracks no fragment and no
 * malformed packet, even a SYN on an observed port under track-all; a
 * well-formed SYN there, and one behind an atomic fragment header, is. */
static void test_tc_unparsed(void)
{
	int tc_fd = bpf_program__fd(skel->progs.xdpct_tc_out);
	uint8_t b[PG_MAX_FRAME], out[PG_MAX_FRAME];
	uint64_t before[XDPCT_STAT_MAX], after[XDPCT_STAT_MAX];

	set_cfg(CFG_ALL | XDPCT_CFG_TRACK_ALL, &K1, NULL);
	flows_clear();
	ck_begin("xdp.tc_out.unparsed_never_tracked");
	for (unsigned int i = 0; i <= sizeof(ucases) / sizeof(ucases[0]) + 1; i++) {
		bool control = i >= sizeof(ucases) / sizeof(ucases[0]);
		const char *nm = control ? (i & 1 ? "atomic_fragment_syn" : "syn") : ucases[i].name;
		int n, nf;

		if (control) {
			struct syn_case c = mk_linux(6, "x");
			struct pg_layout L;
			struct pg_spec sp;

			if (!strcmp(nm, "atomic_fragment_syn")) {
				c.n_ext = 1;
				c.ext[0] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 0 };
			}
			syn_spec(&c, &sp);
			sp.sport = 40005;
			sp.dport = 8080;
			n = build(&sp, b, &L);
		} else {
			n = u_frame(&ucases[i], 40005, 8080, b);
		}
		{
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = (uint32_t)n,
				    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
			int err;

			stats_read(before);
			err = bpf_prog_test_run_opts(tc_fd, &o);
			stats_read(after);
			if (!CK(!err, "%s: test_run on xdpct_tc_out: %s", nm, strerror(errno)))
				continue;
			CK(after[S(TC_OUT_PACKETS)] - before[S(TC_OUT_PACKETS)] == 1,
			   "%s: tc_out_packets did not move", nm);
			CK(o.retval == 0, "%s: TC verdict %u, want TC_ACT_OK", nm, o.retval);
			nf = flows_count();
			if (control)
				CK(nf == 1 && after[S(TC_OUT_CT_NEW)] - before[S(TC_OUT_CT_NEW)] == 1,
				   "%s: %d flows, want 1 (the control is tracked)", nm, nf);
			else
				CK(nf == 0 && after[S(TC_OUT_CT_NEW)] == before[S(TC_OUT_CT_NEW)],
				   "%s: %d flows from TC egress, want 0", nm, nf);
		}
		flows_clear();
	}
	ck_end();
	set_cfg(CFG_ALL, &K1, NULL);
}

/* An atomic fragment (offset 0, M = 0) is an ordinary packet: Linux
 * processes it unfragmented (RFC 6946). */
static void test_atomic_fragments(void)
{
	static struct res r;
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	struct syn_case c;
	int n;

	c = mk_linux(6, "ipv6.atomic_fragment");
	c.n_ext = 1;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 0 };
	syn_ack_case(&c);
	c = mk_linux(6, "ipv6.hop_atomic_fragment_dest");
	c.n_ext = 3;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_HOP, .len = 8 };
	c.ext[1] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 0 };
	c.ext[2] = (struct pg_ext){ .type = PG_EXT_DEST, .len = 8 };
	syn_ack_case(&c);

	c = mk_linux(6, "x");
	c.n_ext = 1;
	c.ext[0] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 0 };
	syn_spec(&c, &s);
	s.dport = PORT_OPEN;
	n = build(&s, b, &L);
	expect_pkt("atomic_fragment.ipv6_syn_unprotected", b, n, XDP_PASS,
		   S(V_PASS_UNPROTECTED), -1);
	s.dport = 8080;
	n = build(&s, b, &L);
	ck_begin("xdp.atomic_fragment.ipv6_syn_observed_tracked");
	run(b, n, &r);
	if (ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), -1))
		ck_untouched(&r, b, n);
	CK(flows_count() == 1, "flow maps have %d entries, want 1", flows_count());
	flows_clear();
	ck_end();
}

/* A SYN to a protected port with broken options: no SYN-ACK. */
static void test_syn_bad_options(void)
{
	static const struct { const char *n; uint8_t o[8]; int len; } bad[] = {
		{ "opt_len0", { 2, 0, 5, 0xb4 }, 4 },
		{ "opt_len1", { 3, 1, 7, 1 }, 4 },
		{ "opt_len_past_header", { 1, 1, 8, 10, 0, 0, 0, 1 }, 8 },
		{ "opt_kind_at_last_byte", { 1, 1, 1, 2 }, 4 },
		{ "opt_mss_past_header", { 1, 1, 1, 1, 1, 1, 2, 4 }, 8 },
	};
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	int n;

	set_cfg(CFG_ALL, &K1, NULL);
	flows_clear();
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int f = 4; f <= 6; f += 2) {
			char nm[80];

			base_spec(&s, f, PORT);
			s.flags = F_SYN;
			pgo_bytes(&s.opts, bad[i].o, bad[i].len);
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "malformed.%s_syn_%s", fam(f), bad[i].n);
			DROP_BAD(nm, ERR_TCP_OPT);
		}
}

/* ---- issue 9: transit traffic and sources Linux never answers ---- */

/* One packet whose only counters must be xdp_packets, vstat and detail;
 * PASS: untouched; no flow or pending entry made. */
static void expect_exact(const char *name, const uint8_t *pkt, int len, uint32_t verdict,
			 int vstat, int detail)
{
	static struct res r;

	ck_begin("xdp.%s", name);
	run(pkt, len, &r);
	if (CK(r.err == 0, "test_run: %s", strerror(-r.err))) {
		CK(r.verdict == verdict, "verdict %s, want %s (counters %s)", vname(r.verdict),
		   vname(verdict), moved(&r));
		ck_exact(&r, vstat, detail, "counters");
		if (verdict == XDP_PASS)
			ck_untouched(&r, pkt, len);
	}
	CK(flows_count() == 0 && map_count(pending_fd) == 0, "%d flow and %d pending entries",
	   flows_count(), map_count(pending_fd));
	flows_clear();
	ck_end();
}

static int set_local(int family, const uint8_t *addr)
{
	struct xdpct_local_key k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	k.family = (uint32_t)family;
	memcpy(k.addr, addr, family == 4 ? 4 : 16);
	return bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
}

/* XDPCT_CFG_LOCAL_ONLY: a protected port on an address that is not this
 * host's (a router's or a bridge's transit traffic) is not ours: no
 * SYN-ACK, no cookie check, no drop. */
static void test_local_only(void)
{
	static const uint8_t OTHER4[4] = { 10, 0, 0, 99 };
	static const uint8_t OTHER6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0x99 };
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	char nm[100];
	int n;

	flows_clear();
	map_clear(local_fd);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *other = f == 4 ? OTHER4 : OTHER6;
		int alen = f == 4 ? 4 : 16;

		/* no address known yet: nothing is ours */
		set_cfg(CFG_ALL | XDPCT_CFG_LOCAL_ONLY, &K1, NULL);
		n = syn_frame(f, b, &L, &s);
		snprintf(nm, sizeof(nm), "local_only.%s.empty_table_syn_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);

		CK(!set_local(f, f == 4 ? SRV4 : SRV6), "xdpct_local write: %s", strerror(errno));
		n = syn_frame(f, b, &L, &s);
		snprintf(nm, sizeof(nm), "local_only.%s.syn_to_local_answered", fam(f));
		expect_pkt(nm, b, n, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN));

		n = syn_frame(f, b, &L, &s);
		memcpy(s.daddr, other, alen);
		n = build(&s, b, &L);
		snprintf(nm, sizeof(nm), "local_only.%s.syn_to_other_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);

		/* an ACK, a valid cookie even: not checked, not dropped */
		base_spec(&s, f, PORT);
		memcpy(s.daddr, other, alen);
		s.flags = F_ACK;
		s.ack = rnd32();
		n = build(&s, b, &L);
		snprintf(nm, sizeof(nm), "local_only.%s.ack_to_other_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
		{
			struct pg_spec a;
			int na = forged_ack(f, &K1, 1, slot_of(mono_ns()), XDPCT_OPT_WSCALE_NONE,
					    L_NOTS, b, &a);

			memcpy(a.daddr, other, alen);
			na = build(&a, b, &L);
			snprintf(nm, sizeof(nm), "local_only.%s.cookie_ack_to_other_passed", fam(f));
			expect_exact(nm, b, na, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
		}
		s.flags = F_RST;
		n = build(&s, b, &L);
		snprintf(nm, sizeof(nm), "local_only.%s.rst_to_other_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
		/* the same ACK to this host: the cookie check, dropped */
		memcpy(s.daddr, f == 4 ? SRV4 : SRV6, alen);
		s.flags = F_ACK;
		s.ack = live_ack(s.ack);
		n = build(&s, b, &L);
		snprintf(nm, sizeof(nm), "local_only.%s.ack_to_local_checked", fam(f));
		expect_exact(nm, b, n, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);

		/* without the flag every address is ours */
		set_cfg(CFG_ALL, &K1, NULL);
		n = syn_frame(f, b, &L, &s);
		memcpy(s.daddr, other, alen);
		n = build(&s, b, &L);
		snprintf(nm, sizeof(nm), "local_only.%s.flag_off_syn_to_other_answered", fam(f));
		expect_pkt(nm, b, n, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN));
	}
	map_clear(local_fd);
	set_cfg(CFG_ALL, &K1, NULL);
}

/* Pins this process to the CPU it runs on, so that test_run runs there
 * too and the per-CPU element read or planted is that CPU's: the CPU, or
 * -1 (the check name failed). */
static int pin_here(const char *name)
{
	int cpu = sched_getcpu(), ncpu = libbpf_num_possible_cpus();
	cpu_set_t set;

	ck_begin("%s", name);
	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	CK(cpu >= 0 && ncpu > cpu && !sched_setaffinity(0, sizeof(set), &set),
	   "pin to CPU %d: %s", cpu, strerror(errno));
	return ck_end() ? cpu : -1;
}

/* An RST of no flow to daddr (family f: 4 or 16 bytes): dropped if the
 * address is this host's, passed if not. */
static int local_rst(int f, const uint8_t *daddr, uint8_t *b)
{
	struct pg_layout L;
	struct pg_spec s;

	base_spec(&s, f, PORT);
	memcpy(s.daddr, daddr, f == 4 ? 4 : 16);
	s.flags = F_RST;
	return build(&s, b, &L);
}

/* cpu's element of xdpct_clock (every CPU's in c), 0 if read. */
static int clock_read(int cpu, struct xdpct_clock_cache *c, struct xdpct_clock_cache *mine)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.xdpct_clock), &zero, c))
		return -1;
	*mine = c[cpu];
	return 0;
}

/* addr_in_local()'s per-CPU memory of the last address found in
 * xdpct_local: written with the jiffy; another address (the last word
 * apart, or the same words of the other family) is looked up, never taken
 * from it; a planted address is taken from it (the hash lookup skipped)
 * within its jiffy; an address removed from xdpct_local stops counting
 * once the jiffy has turned. Cases whose jiffy turned midway run again. */
static void test_local_cache(void)
{
	static const uint8_t OTHER4[4] = { 10, 0, 0, 99 };
	static const uint8_t OTHER6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0x99 };
	int cpu = pin_here("xdp.local_cache.setup"), ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(skel->maps.xdpct_clock);
	struct xdpct_clock_cache c[ncpu], was, now;
	uint8_t b[PG_MAX_FRAME];
	struct xdpct_local_key k;
	static struct res r;
	uint32_t zero = 0;
	char nm[100];
	int n, tries;
	bool in_jiffy;

	if (cpu < 0)
		return;
	flows_clear();
	map_clear(local_fd);
	set_cfg(CFG_ALL | XDPCT_CFG_LOCAL_ONLY, &K1, NULL);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *srv = f == 4 ? SRV4 : SRV6, *other = f == 4 ? OTHER4 : OTHER6;
		int alen = f == 4 ? 4 : 16;

		CK(!set_local(f, srv), "xdpct_local write: %s", strerror(errno));
		memset(&k, 0, sizeof(k));
		k.family = (uint32_t)f;
		memcpy(k.addr, srv, alen);

		n = local_rst(f, srv, b);
		snprintf(nm, sizeof(nm), "local_cache.%s.found_address_kept", fam(f));
		expect_exact(nm, b, n, XDP_DROP, S(V_DROP_NO_FLOW), -1);
		ck_begin("xdp.local_cache.%s.found_address_kept_read_back", fam(f));
		if (CK(!clock_read(cpu, c, &now), "read xdpct_clock: %s", strerror(errno))) {
			CK(now.local_jiffies != 0, "no jiffy with the address");
			CK(!memcmp(&now.local, &k, sizeof(k)), "kept family %u, want %d and the address",
			   now.local.family, f);
		}
		ck_end();

		/* another address, the cached one fresh: looked up, not ours */
		for (int other_family = 0; other_family < 2; other_family++) {
			int of = other_family ? (f == 4 ? 6 : 4) : f;
			uint8_t oa[16] = { 0 };

			if (other_family && of == 4)
				continue; /* SRV6's words are not an IPv4 address's */
			/* the same words, the other family; or another address */
			memcpy(oa, other_family ? srv : other, alen);
			snprintf(nm, sizeof(nm), "local_cache.%s.%s_looked_up", fam(f),
				 other_family ? "same_words_other_family" : "other_address");
			tries = 0;
			ck_begin("xdp.%s", nm);
			do {
				n = local_rst(f, srv, b);
				run(b, n, &r);
				clock_read(cpu, c, &was);
				n = local_rst(of, oa, b);
				run(b, n, &r);
				in_jiffy = !clock_read(cpu, c, &now) &&
					   now.local_jiffies == was.local_jiffies &&
					   !memcmp(&now.local, &k, sizeof(k));
			} while (!in_jiffy && ++tries < 5);
			if (CK(in_jiffy, "the jiffy turned in each of %d tries", tries))
				ck_verdict(&r, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
			ck_end();
		}

		/* planted: taken from the memory within its jiffy */
		snprintf(nm, sizeof(nm), "local_cache.%s.planted_address_taken", fam(f));
		tries = 0;
		in_jiffy = false;
		ck_begin("xdp.%s", nm);
		do {
			n = local_rst(f, srv, b);
			run(b, n, &r);
			if (!CK(!clock_read(cpu, c, &was), "read xdpct_clock: %s", strerror(errno)))
				break;
			memset(c[cpu].local.addr, 0, sizeof(c[cpu].local.addr));
			memcpy(c[cpu].local.addr, other, alen);
			if (!CK(!bpf_map_update_elem(fd, &zero, c, BPF_ANY), "write xdpct_clock: %s",
				strerror(errno)))
				break;
			n = local_rst(f, other, b);
			run(b, n, &r);
			in_jiffy = !clock_read(cpu, c, &now) &&
				   now.local_jiffies == was.local_jiffies;
		} while (!in_jiffy && ++tries < 5);
		if (CK(in_jiffy, "the jiffy turned in each of %d tries", tries))
			ck_verdict(&r, XDP_DROP, S(V_DROP_NO_FLOW), -1);
		ck_end();
		flows_clear();

		/* removed from xdpct_local: not ours once the jiffy turned */
		n = local_rst(f, srv, b);
		run(b, n, &r);
		CK(!bpf_map_delete_elem(local_fd, &k), "xdpct_local delete: %s", strerror(errno));
		usleep(30 * 1000); /* more than a tick at HZ >= 100 */
		n = local_rst(f, srv, b);
		snprintf(nm, sizeof(nm), "local_cache.%s.removed_address_gone_after_a_tick", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
	}
	map_clear(local_fd);
	set_cfg(CFG_ALL, &K1, NULL);
	flows_clear();
}

/* Sources Linux never answers (martians) and frames not sent to this
 * host's MAC: no SYN-ACK (a reflection), no entry, on a protected port
 * dropped; the neighbours of each range answered. */
static void test_bad_sources(void)
{
	static const struct { const char *n; uint8_t a[4]; bool bad; } s4[] = {
		{ "zero", { 0, 0, 0, 0 }, true },          { "0_8", { 0, 1, 2, 3 }, true },
		{ "loopback", { 127, 0, 0, 1 }, true },    { "127_8_top", { 127, 255, 255, 254 }, true },
		{ "multicast", { 224, 0, 0, 1 }, true },   { "224_4_top", { 239, 255, 255, 255 }, true },
		{ "broadcast", { 255, 255, 255, 255 }, true },
		{ "1_0_0_1", { 1, 0, 0, 1 }, false },      { "126_255", { 126, 255, 255, 255 }, false },
		{ "128_0", { 128, 0, 0, 1 }, false },      { "223_255", { 223, 255, 255, 255 }, false },
		{ "240_0", { 240, 0, 0, 1 }, false },      { "255_255_255_254", { 255, 255, 255, 254 }, false },
	};
	static const struct { const char *n; uint8_t a[16]; bool bad; } s6[] = {
		{ "unspecified", { 0 }, true },
		{ "loopback", { [15] = 1 }, true },
		{ "multicast_ff02", { 0xff, 0x02, [15] = 1 }, true },
		{ "multicast_ff0e", { 0xff, 0x0e, [15] = 1 }, true },
		{ "v4_mapped", { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 }, true },
		{ "v4_mapped_zero", { [10] = 0xff, [11] = 0xff }, true },
		{ "2", { [15] = 2 }, false },
		{ "fe00", { 0xfe, 0x00, [15] = 1 }, false },
		{ "link_local", { 0xfe, 0x80, [15] = 1 }, false },
		{ "v4_compatible_ffff_fffe", { [10] = 0xff, [11] = 0xfe, 10, 0, 0, 1 }, false },
	};
	static const struct { const char *n; uint8_t m[6]; bool if_mac; bool bad; } macs[] = {
		{ "broadcast", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, false, true },
		{ "ipv4_multicast", { 0x01, 0x00, 0x5e, 0, 0, 1 }, false, true },
		{ "ipv6_multicast", { 0x33, 0x33, 0, 0, 0, 1 }, false, true },
		{ "other_unicast_if_mac_set", { 0x02, 0, 0, 0, 0, 0x03 }, true, true },
		{ "other_unicast_if_mac_unset", { 0x02, 0, 0, 0, 0, 0x03 }, false, false },
		{ "own_if_mac_set", { 0x02, 0, 0, 0, 0, 0x02 }, true, false },
		{ "local_bit_neighbour", { 0x06, 0, 0, 0, 0, 0x02 }, true, true },
	};
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	char nm[120];
	int n;

	set_cfg(CFG_ALL, &K1, NULL);
	flows_clear();
	for (int f = 4; f <= 6; f += 2) {
		int cnt = f == 4 ? (int)(sizeof(s4) / sizeof(s4[0])) : (int)(sizeof(s6) / sizeof(s6[0]));

		for (int i = 0; i < cnt; i++) {
			const char *sn = f == 4 ? s4[i].n : s6[i].n;
			bool bad = f == 4 ? s4[i].bad : s6[i].bad;

			n = syn_frame(f, b, &L, &s);
			memcpy(s.saddr, f == 4 ? s4[i].a : s6[i].a, f == 4 ? 4 : 16);
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "bad_source.%s.%s.syn", fam(f), sn);
			if (bad)
				expect_exact(nm, b, n, XDP_DROP, S(V_DROP_BAD_SOURCE), -1);
			else
				expect_pkt(nm, b, n, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN));
			if (!bad)
				continue;
			s.flags = F_ACK;
			s.ack = rnd32();
			memset(&s.opts, 0, sizeof(s.opts));
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "bad_source.%s.%s.ack", fam(f), sn);
			expect_exact(nm, b, n, XDP_DROP, S(V_DROP_BAD_SOURCE), -1);
			/* an observed port: never dropped, never tracked */
			s.flags = F_SYN;
			s.dport = 8080;
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "bad_source.%s.%s.syn_observed_port", fam(f), sn);
			expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNTRACKED), S(CT_INVALID));
		}
		for (unsigned int i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
			set_cfg(CFG_ALL, &K1, NULL);
			if (macs[i].if_mac) {
				uint32_t zero = 0;

				memcpy(cfg_now.if_mac, SRV_MAC, 6);
				CK(!bpf_map_update_elem(cfg_fd, &zero, &cfg_now, BPF_ANY), "config write");
			}
			n = syn_frame(f, b, &L, &s);
			memcpy(s.dmac, macs[i].m, 6);
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "bad_mac.%s.%s.syn", fam(f), macs[i].n);
			if (macs[i].bad)
				expect_exact(nm, b, n, XDP_DROP, S(V_DROP_BAD_SOURCE), -1);
			else
				expect_pkt(nm, b, n, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN));
		}
	}
	set_cfg(CFG_ALL, &K1, NULL);
}

static void test_flags_and_foreign(void)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	int n;

	set_cfg(CFG_ALL, &K1, NULL);
	flows_clear();

	/* invalid flag combinations to a protected port */
	{
		static const struct { const char *n; uint8_t fl; } bad[] = {
			{ "syn_rst", F_SYN | F_RST }, { "syn_fin", F_SYN | F_FIN },
			{ "syn_rst_ack", F_SYN | F_RST | F_ACK }, { "syn_fin_ack", F_SYN | F_FIN | F_ACK },
			{ "syn_fin_rst_psh", F_SYN | F_FIN | F_RST | F_PSH },
		};

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			for (int f = 4; f <= 6; f += 2) {
				char nm[80];

				n = syn_frame(f, b, &L, &s);
				s.flags = bad[i].fl;
				n = build(&s, b, &L);
				snprintf(nm, sizeof(nm), "flags.%s_%s", fam(f), bad[i].n);
				expect_pkt(nm, b, n, XDP_DROP, S(V_DROP_BAD_FLAGS), -1);
			}
	}

	/* non-SYN without a flow to a protected port */
	{
		static const struct { const char *n; uint8_t fl; int vstat; } nf[] = {
			{ "rst", F_RST, S(V_DROP_NO_FLOW) },
			{ "rst_ack", F_RST | F_ACK, S(V_DROP_NO_FLOW) },
			/* invalid flags: dropped before any lookup */
			{ "fin", F_FIN, S(V_DROP_BAD_FLAGS) },
			{ "syn_ack", F_SYN | F_ACK, S(V_DROP_NO_FLOW) },
			{ "no_flags", 0, S(V_DROP_BAD_FLAGS) },
			{ "psh", F_PSH, S(V_DROP_BAD_FLAGS) },
			{ "ack", F_ACK, S(V_DROP_COOKIE_BAD) },
			{ "fin_ack", F_FIN | F_ACK, S(V_DROP_COOKIE_BAD) },
			{ "psh_ack_data", F_PSH | F_ACK, S(V_DROP_COOKIE_BAD) },
		};
		static const uint8_t data[] = "hello";

		for (unsigned int i = 0; i < sizeof(nf) / sizeof(nf[0]); i++)
			for (int f = 4; f <= 6; f += 2) {
				char nm[80];

				base_spec(&s, f, PORT);
				s.flags = nf[i].fl;
				s.ack = live_ack(rnd32());
				if (nf[i].fl & F_PSH) {
					s.payload = data;
					s.payload_len = 5;
				}
				n = build(&s, b, &L);
				snprintf(nm, sizeof(nm), "no_flow.%s_%s", fam(f), nf[i].n);
				expect_pkt(nm, b, n, XDP_DROP, nf[i].vstat, -1);
			}
	}

	/* unprotected port: untouched, whatever the flags */
	for (int f = 4; f <= 6; f += 2) {
		static const uint8_t fl[] = { F_SYN, F_ACK, F_RST, F_SYN | F_FIN };
		static const char *const fn[] = { "syn", "ack", "rst", "syn_fin" };

		for (int i = 0; i < 4; i++) {
			char nm[80];

			n = syn_frame(f, b, &L, &s);
			s.dport = PORT_OPEN;
			s.flags = fl[i];
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "pass.%s_port81_%s", fam(f), fn[i]);
			expect_pkt(nm, b, n, XDP_PASS, S(V_PASS_UNPROTECTED), -1);
		}
		/* a malformed TCP header goes by its port too: the kernel
		 * drops it on an unprotected port */
		n = syn_frame(f, b, &L, &s);
		s.dport = PORT_OPEN;
		n = build(&s, b, &L);
		b[L.l4_off + 12] = 4 << 4;
		expect_pkt(f == 4 ? "pass.ipv4_port81_malformed_passed" :
				    "pass.ipv6_port81_malformed_passed",
			   b, n, XDP_PASS, S(V_PASS_MALFORMED), S(ERR_TCP));
		n = syn_frame(f, b, &L, &s);
		s.dport = 8080; /* OBSERVE only: no cookies, the SYN opens a flow */
		n = build(&s, b, &L);
		{
			static struct res r;
			struct xdpct_flow_key k;
			struct xdpct_flow fl;

			ck_begin("xdp.pass.%s_observe_port_syn", fam(f));
			run(b, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), -1))
				ck_untouched(&r, b, n);
			CK(r.d[S(SYN_SEEN)] == 0 && r.d[S(V_TX_SYNACK)] == 0, "answered: %s",
			   moved(&r));
			CK(map_count(pending_fd) == 0, "pending entry for an observed SYN");
			if (CK(flows_count() == 1, "flow maps have %d entries, want 1",
			       flows_count()) &&
			    CK(flows_first(&k, &fl) == 0, "flow unreadable")) {
				CK(k.family == f && ntohs(k.rport) == s.sport && ntohs(k.lport) == 8080,
				   "flow key family %u ports %u/%u", k.family, ntohs(k.rport),
				   ntohs(k.lport));
				CK(fl.state == XDPCT_CT_SYN_SENT, "state %s, want SYN_SENT",
				   st_name(fl.state));
				CK(fl.flags == (XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE),
				   "flags 0x%x, want REMOTE_OPENED|SEEN_REMOTE", fl.flags);
				/* an unvalidated SYN: the observed tables, never the protected */
				CK(first_table == T_OBSERVED, "entry in the protected tables");
				CK(fl.tag == tag_of(&k) && fl.lock == 0, "tag 0x%08x lock %u, want 0x%08x 0",
				   fl.tag, fl.lock, tag_of(&k));
				CK(fl.dir[XDPCT_REMOTE].end == s.seq + 1 &&
				   fl.dir[XDPCT_REMOTE].maxend == s.seq + 1 &&
				   fl.dir[XDPCT_REMOTE].maxwin == s.win && fl.dir[XDPCT_REMOTE].maxack == 0 &&
				   fl.wscale[XDPCT_REMOTE] == 7 && fl.wscale[XDPCT_LOCAL] == 0xf &&
				   fl.tcp_flags[XDPCT_REMOTE] == F_SYN && fl.tcp_flags[XDPCT_LOCAL] == 0 &&
				   fl.packets[XDPCT_REMOTE] == 1,
				   "remote end %u maxend %u maxwin %u maxack %u ws %u flags 0x%02x, "
				   "local ws %u flags 0x%02x, packets %u; want %u %u %u 0 7 0x02, 15 0, 1",
				   fl.dir[0].end, fl.dir[0].maxend, fl.dir[0].maxwin, fl.dir[0].maxack,
				   fl.wscale[0], fl.tcp_flags[0], fl.wscale[1], fl.tcp_flags[1],
				   fl.packets[0], s.seq + 1, s.seq + 1, s.win);
				CK(!fl.dir[XDPCT_LOCAL].end && !fl.dir[XDPCT_LOCAL].maxend &&
				   !fl.dir[XDPCT_LOCAL].maxwin && !fl.dir[XDPCT_LOCAL].maxack &&
				   !fl.packets[XDPCT_LOCAL] && !fl.bytes[XDPCT_LOCAL],
				   "local side not empty");
			}
			flows_clear();
			ck_end();
		}
		n = syn_frame(f, b, &L, &s);
		s.sport = PORT; /* our port as the source: a reply, not to us */
		s.dport = 40000;
		n = build(&s, b, &L);
		expect_pkt(f == 4 ? "pass.ipv4_from_port80" : "pass.ipv6_from_port80", b, n,
			   XDP_PASS, S(V_PASS_UNPROTECTED), -1);
	}

	/* not TCP */
	{
		static const uint8_t udp[16] = { 0x30, 0x39, 0x00, 0x50, 0x00, 0x10, 0, 0,
						 'p', 'a', 'y', 'l', 'o', 'a', 'd', '!' };

		for (int f = 4; f <= 6; f += 2) {
			char nm[80];

			base_spec(&s, f, PORT);
			s.proto = 17;
			s.payload = udp;
			s.payload_len = sizeof(udp);
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "pass.%s_udp", fam(f));
			expect_pkt(nm, b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
			s.proto = f == 4 ? 1 : 58; /* ICMP / ICMPv6 */
			n = build(&s, b, &L);
			snprintf(nm, sizeof(nm), "pass.%s_icmp", fam(f));
			expect_pkt(nm, b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
		}
		base_spec(&s, 4, PORT);
		s.proto = 17;
		s.frag_off = 0x2000;
		s.payload = udp;
		s.payload_len = sizeof(udp);
		n = build(&s, b, &L);
		expect_pkt("pass.ipv4_udp_fragment", b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
		base_spec(&s, 6, PORT);
		s.proto = 17;
		s.n_ext = 1;
		s.ext[0] = (struct pg_ext){ .type = PG_EXT_FRAG, .frag = 1 };
		s.payload = udp;
		s.payload_len = sizeof(udp);
		n = build(&s, b, &L);
		expect_pkt("pass.ipv6_udp_fragment", b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
		s.n_ext = 0;
		s.proto = 59; /* no next header */
		n = build(&s, b, &L);
		expect_pkt("pass.ipv6_no_next_header", b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
		s.proto = 50; /* ESP: its payload is not ours to parse */
		n = build(&s, b, &L);
		expect_pkt("pass.ipv6_esp", b, n, XDP_PASS, S(V_PASS_NOT_TCP), -1);
	}
	{
		/* ARP request, padded to 60 bytes */
		uint8_t arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1,
				    0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1,
				    10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2 };
		uint8_t q[64];

		expect_pkt("pass.arp", arp, sizeof(arp), XDP_PASS, S(V_PASS_NOT_TCP), -1);
		/* ARP behind QinQ tags */
		memcpy(q, arp, 12);
		q[12] = 0x88;
		q[13] = 0xa8;
		q[14] = 0;
		q[15] = 5;
		q[16] = 0x81;
		q[17] = 0;
		q[18] = 0;
		q[19] = 6;
		memcpy(q + 20, arp + 12, 44);
		expect_pkt("pass.qinq_arp", q, sizeof(q), XDP_PASS, S(V_PASS_NOT_TCP), -1);
		/* LLDP-like unknown ethertype, bare 14-byte frame */
		memcpy(q, arp, 12);
		q[12] = 0x88;
		q[13] = 0xcc;
		expect_pkt("pass.unknown_ethertype_14_bytes", q, 14, XDP_PASS,
			   S(V_PASS_NOT_TCP), -1);
	}

	/* Ethernet padding after a SYN: the reply length comes from headers */
	{
		static struct res r;
		struct syn_case c = mk(4, "x");

		c.mss = 1460;
		syn_spec(&c, &s);
		n = build(&s, b, &L);
		memset(b + n, 0, 60 - n); /* 58-byte SYN padded to 60 */
		ck_begin("xdp.syn.ipv4_ethernet_padding");
		run(b, 60, &r);
		if (ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN)))
			CK(r.frame_len == 14 + 20 + 24, "reply length %d, want %d", r.frame_len,
			   14 + 20 + 24);
		ck_end();
	}

	/* known option, wrong length: ignored as Linux does (no MSS -> 536) */
	{
		static struct res r;
		static const uint8_t o[] = { 2, 3, 5, 1, 4, 2, 1, 1 }; /* MSS len 3, SACK */
		struct pg_parsed p;

		/* no timestamps: SACK is answered only with NOTS_OPTIONS */
		set_cfg(CFG_ALL | XDPCT_CFG_NOTS_OPTIONS, &K1, NULL);
		base_spec(&s, 4, PORT);
		s.flags = F_SYN;
		pgo_bytes(&s.opts, o, sizeof(o));
		n = build(&s, b, &L);
		ck_begin("xdp.syn.ipv4_mss_wrong_length_ignored");
		run(b, n, &r);
		if (ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), -1) &&
		    CK(pg_parse(r.frame, r.frame_len, &p) == 0, "reply unparsable")) {
			CK((p.seq & 3) == 0, "mss index %u, want 0 (no valid MSS)", p.seq & 3);
			CK(p.sack_perm == 1, "SACK not answered");
		}
		ck_end();

		/* 40 NOPs: the longest walk */
		base_spec(&s, 6, PORT);
		s.flags = F_SYN;
		for (int i = 0; i < 40; i++)
			pgo_nop(&s.opts);
		n = build(&s, b, &L);
		ck_begin("xdp.syn.ipv6_40_nops");
		run(b, n, &r);
		if (ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), -1) &&
		    CK(pg_parse(r.frame, r.frame_len, &p) == 0, "reply unparsable"))
			CK(p.optlen == 4 && p.mss == MSS6, "options %s, want MSS only",
			   hex(p.opts, p.optlen));
		ck_end();

		/* a window scale in the last 3 of 40 option bytes */
		base_spec(&s, 4, PORT);
		s.flags = F_SYN;
		for (int i = 0; i < 37; i++)
			pgo_nop(&s.opts);
		pgo_ws(&s.opts, 9);
		n = build(&s, b, &L);
		ck_begin("xdp.syn.ipv4_ws_after_37_nops");
		run(b, n, &r);
		if (ck_verdict(&r, XDP_TX, S(V_TX_SYNACK), -1) &&
		    CK(pg_parse(r.frame, r.frame_len, &p) == 0, "reply unparsable"))
			CK(p.ws == WSCALE && ((p.seq >> 4) & 0xf) == 9,
			   "ws %d, cookie ws bits %u; want ws %d and 9", p.ws, (p.seq >> 4) & 0xf,
			   WSCALE);
		ck_end();
		set_cfg(CFG_ALL, &K1, NULL);
	}

	/* config not enabled: everything passes untouched */
	{
		set_cfg(CFG_ALL & ~XDPCT_CFG_ENABLED, &K1, NULL);
		n = syn_frame(4, b, &L, &s);
		expect_pkt("disabled.ipv4_syn", b, n, XDP_PASS, S(V_PASS_DISABLED), -1);
		n = syn_frame(6, b, &L, &s);
		expect_pkt("disabled.ipv6_syn", b, n, XDP_PASS, S(V_PASS_DISABLED), -1);
		b[L.l3_off] = 0x40;
		expect_pkt("disabled.malformed", b, n, XDP_PASS, S(V_PASS_DISABLED), -1);
		base_spec(&s, 4, PORT);
		s.flags = F_ACK;
		n = build(&s, b, &L);
		expect_pkt("disabled.ipv4_ack", b, n, XDP_PASS, S(V_PASS_DISABLED), -1);
		set_cfg(0, &K1, NULL);
		n = syn_frame(4, b, &L, &s);
		expect_pkt("disabled.flags_zero", b, n, XDP_PASS, S(V_PASS_DISABLED), -1);
		set_cfg(CFG_ALL, &K1, NULL);
	}
}

/* ---- allow and deny lists (XDPCT_CFG_ACL) ---- */

/* One entry of xdpct_acl: the family byte is part of the prefix
 * (prefixlen = 8 + the address prefix), IPv4 in addr[0..3]; bits past the
 * prefix cleared, as userspace writes them. */
static int acl_set(int family, const uint8_t *addr, int plen, uint8_t action)
{
	struct xdpct_acl_key k;

	memset(&k, 0, sizeof(k));
	k.prefixlen = 8 + (uint32_t)plen;
	k.family = (uint8_t)family;
	memcpy(k.addr, addr, family == 4 ? 4 : 16);
	for (int i = plen; i < 128; i++)
		k.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return bpf_map_update_elem(acl_fd, &k, &action, BPF_ANY);
}

/* Leaves no trace for the groups after: no list entry, no flow, the
 * config without XDPCT_CFG_ACL. */
static void acl_reset(void)
{
	map_clear(acl_fd);
	map_clear(local_fd);
	flows_clear();
	set_cfg(CFG_ALL, &K1, NULL);
}

/* A packet from src to dport: a Linux SYN for F_SYN, else a bare segment
 * with these flags (a random ack). */
static int acl_frame(int family, const uint8_t *src, uint16_t dport, uint8_t flags,
		     uint8_t *b, struct pg_spec *s)
{
	struct pg_layout L;

	if (flags == F_SYN) {
		struct syn_case c = mk_linux(family, "acl");

		syn_spec(&c, s);
	} else {
		base_spec(s, family, dport);
		s->flags = flags;
		s->ack = live_ack(rnd32());
	}
	s->dport = dport;
	memcpy(s->saddr, src, family == 4 ? 4 : 16);
	return build(s, b, &L);
}

/* A packet from src to dport that the deny list drops: nothing but
 * xdp_packets and drop_denied moves, no SYN-ACK, no entry. */
static void acl_denied(const char *name, int family, const uint8_t *src, uint16_t dport,
		       uint8_t flags)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	int n = acl_frame(family, src, dport, flags, b, &s);

	expect_exact(name, b, n, XDP_DROP, S(V_DROP_DENIED), -1);
}

/* A SYN from src to the protected port that gets its cookie SYN-ACK. */
static void acl_answered(const char *name, int family, const uint8_t *src)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	int n = acl_frame(family, src, PORT, F_SYN, b, &s);

	expect_pkt(name, b, n, XDP_TX, S(V_TX_SYNACK), S(SYN_SEEN));
}

/* The entry of the flow that SYN s opened: in xdpct_observed4/6 under its
 * key, the only entry anywhere (none in xdpct_flows4/6, none pending). */
static bool acl_observed_entry(const struct pg_spec *s, struct xdpct_flow *v)
{
	struct xdpct_flow_key k;
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
	int err, nprot = map_count(flows4_fd) + map_count(flows6_fd);

	CK(nprot == 0, "%d entries in the protected tables, want 0", nprot);
	CK(map_count(pending_fd) == 0, "%d pending entries, want 0", map_count(pending_fd));
	CK(flows_count() == 1, "%d flow entries in all, want 1", flows_count());
	flow_key_expect(s, &k);
	if (s->family == 4) {
		key4_of(&k, &k4);
		err = bpf_map_lookup_elem(obs4_fd, &k4, v);
	} else {
		key6_of(&k, &k6);
		err = bpf_map_lookup_elem(obs6_fd, &k6, v);
	}
	if (!CK(!err, "no entry in xdpct_observed%d under the SYN's key", s->family == 4 ? 4 : 6))
		return false;
	CK(v->tag == tag_of(&k) && v->lock == 0, "tag 0x%08x lock %u, want 0x%08x 0", v->tag,
	   v->lock, tag_of(&k));
	return !ck_failed();
}

/* A SYN from an allowed source to the protected port: passed untouched as
 * on an observed port, no cookie; its flow in the observed table. */
static void acl_allowed_syn(const char *name, int family, const uint8_t *src)
{
	static struct res r;
	uint8_t b[PG_MAX_FRAME];
	struct xdpct_flow v;
	struct pg_spec s;
	int n = acl_frame(family, src, PORT, F_SYN, b, &s);

	flows_clear();
	ck_begin("xdp.%s", name);
	run(b, n, &r);
	if (ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), S(ACL_ALLOWED))) {
		ck_untouched(&r, b, n);
		ck_exact(&r, S(V_PASS_CT_NEW), S(ACL_ALLOWED), "counters");
	}
	if (acl_observed_entry(&s, &v)) {
		CK(v.state == XDPCT_CT_SYN_SENT, "state %s, want SYN_SENT", st_name(v.state));
		CK(v.flags == (XDPCT_FLOW_REMOTE_OPENED | XDPCT_FLOW_SEEN_REMOTE),
		   "flags 0x%x, want REMOTE_OPENED|SEEN_REMOTE (not a cookie flow)", v.flags);
		CK(v.packets[XDPCT_REMOTE] == 1 && v.packets[XDPCT_LOCAL] == 0 &&
		   v.dir[XDPCT_REMOTE].end == s.seq + 1,
		   "packets %u/%u end %u, want 1/0 %u", v.packets[XDPCT_REMOTE],
		   v.packets[XDPCT_LOCAL], v.dir[XDPCT_REMOTE].end, s.seq + 1);
	}
	flows_clear();
	ck_end();
}

/* Map writes of the groups below: a line only when one fails. */
static void acl_write_failed(const char *what, int err)
{
	ck_begin("xdp.acl.write.%s", what);
	CK(0, "%s: %s", what, strerror(err));
	ck_end();
}

static void acl_cfg(uint32_t flags)
{
	if (set_cfg(flags, &K1, NULL))
		acl_write_failed("config", errno);
}

static void acl_put(int family, const uint8_t *addr, int plen, uint8_t action)
{
	if (acl_set(family, addr, plen, action))
		acl_write_failed(family == 4 ? "xdpct_acl_ipv4" : "xdpct_acl_ipv6", errno);
}

/* Deny 10.9.8.0/24 and 2001:db8:aa:bb::/64: every segment from inside to a
 * protected port dropped, its first and last address included; the
 * neighbours on either side of the prefix get cookies as before. */
static void test_acl_deny(void)
{
	static const uint8_t in4[3][4] = { { 10, 9, 8, 0 }, { 10, 9, 8, 77 }, { 10, 9, 8, 255 } };
	static const uint8_t past4[4] = { 10, 9, 9, 0 }, before4[4] = { 10, 9, 7, 255 };
	static const uint8_t in6[3][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb, 0x12, 0x34, [15] = 5 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff },
	};
	static const uint8_t past6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbc };
	static const uint8_t before6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xba, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const char *const where[3] = { "first", "middle", "last" };
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	char nm[100];
	int n;

	acl_reset();
	acl_put(4, in4[1], 24, XDPCT_ACL_DENY);
	acl_put(6, in6[1], 64, XDPCT_ACL_DENY);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	for (int f = 4; f <= 6; f += 2) {
		const char *pfx = f == 4 ? "ipv4_24" : "ipv6_64";

		for (int i = 0; i < 3; i++) {
			const uint8_t *a = f == 4 ? in4[i] : in6[i];

			snprintf(nm, sizeof(nm), "acl.deny.%s.%s.syn_dropped", pfx, where[i]);
			acl_denied(nm, f, a, PORT, F_SYN);
			snprintf(nm, sizeof(nm), "acl.deny.%s.%s.ack_dropped", pfx, where[i]);
			acl_denied(nm, f, a, PORT, F_ACK);
		}
		/* every segment: before the flag check and the flow lookup */
		snprintf(nm, sizeof(nm), "acl.deny.%s.rst_dropped", pfx);
		acl_denied(nm, f, f == 4 ? in4[1] : in6[1], PORT, F_RST);
		snprintf(nm, sizeof(nm), "acl.deny.%s.syn_fin_dropped_as_denied", pfx);
		acl_denied(nm, f, f == 4 ? in4[1] : in6[1], PORT, F_SYN | F_FIN);
		/* just outside: cookies as before */
		snprintf(nm, sizeof(nm), "acl.deny.%s.one_past_syn_answered", pfx);
		acl_answered(nm, f, f == 4 ? past4 : past6);
		snprintf(nm, sizeof(nm), "acl.deny.%s.one_before_syn_answered", pfx);
		acl_answered(nm, f, f == 4 ? before4 : before6);
		n = acl_frame(f, f == 4 ? past4 : past6, PORT, F_ACK, b, &s);
		snprintf(nm, sizeof(nm), "acl.deny.%s.one_past_ack_cookie_checked", pfx);
		expect_exact(nm, b, n, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);
		snprintf(nm, sizeof(nm), "acl.deny.%s.unlisted_syn_answered", pfx);
		acl_answered(nm, f, f == 4 ? CLI4 : CLI6);
	}
	acl_reset();
}

/* A denied /24 and /64 and an allowed /16 and /48, for the groups below. */
static const uint8_t den4[4] = { 10, 9, 8, 7 }, all4[4] = { 10, 7, 0, 1 };
static const uint8_t den6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb, [15] = 7 };
static const uint8_t all6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 1 };

static void acl_put_lists(void)
{
	acl_put(4, den4, 24, XDPCT_ACL_DENY);
	acl_put(6, den6, 64, XDPCT_ACL_DENY);
	acl_put(4, all4, 16, XDPCT_ACL_ALLOW);
	acl_put(6, all6, 48, XDPCT_ACL_ALLOW);
}

/* Entries in the list do nothing while XDPCT_CFG_ACL is clear. */
static void test_acl_flag_gate(void)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	char nm[100];
	int n;

	acl_reset();
	acl_put_lists();
	acl_cfg(CFG_ALL);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *den = f == 4 ? den4 : den6, *all = f == 4 ? all4 : all6;

		snprintf(nm, sizeof(nm), "acl.flag_off.%s.denied_syn_answered", fam(f));
		acl_answered(nm, f, den);
		n = acl_frame(f, den, PORT, F_ACK, b, &s);
		snprintf(nm, sizeof(nm), "acl.flag_off.%s.denied_ack_cookie_checked", fam(f));
		expect_exact(nm, b, n, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);
		snprintf(nm, sizeof(nm), "acl.flag_off.%s.allowed_syn_answered", fam(f));
		acl_answered(nm, f, all);
		n = acl_frame(f, all, PORT, F_ACK, b, &s);
		snprintf(nm, sizeof(nm), "acl.flag_off.%s.allowed_ack_cookie_checked", fam(f));
		expect_exact(nm, b, n, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);
	}
	/* the same entries with the flag: in force (the control) */
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	for (int f = 4; f <= 6; f += 2) {
		snprintf(nm, sizeof(nm), "acl.flag_on.%s.denied_syn_dropped", fam(f));
		acl_denied(nm, f, f == 4 ? den4 : den6, PORT, F_SYN);
	}
	acl_reset();
}

/* Ports that are not protected never consult the list: an unprotected port
 * passes whatever the source, an observed port tracks as always. */
static void test_acl_unprotected(void)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	char nm[100];
	int n;

	acl_reset();
	acl_put_lists();
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *den = f == 4 ? den4 : den6, *all = f == 4 ? all4 : all6;

		n = acl_frame(f, den, PORT_OPEN, F_SYN, b, &s);
		snprintf(nm, sizeof(nm), "acl.unprotected.%s.denied_syn_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNPROTECTED), -1);
		n = acl_frame(f, den, PORT_OPEN, F_ACK, b, &s);
		snprintf(nm, sizeof(nm), "acl.unprotected.%s.denied_ack_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNPROTECTED), -1);
		/* acl_allowed only counts packets to protected ports */
		n = acl_frame(f, all, PORT_OPEN, F_SYN, b, &s);
		snprintf(nm, sizeof(nm), "acl.unprotected.%s.allowed_syn_not_counted", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNPROTECTED), -1);
		{
			static struct res r;
			struct xdpct_flow v;

			n = acl_frame(f, den, 8080, F_SYN, b, &s);
			ck_begin("xdp.acl.observed_port.%s.denied_syn_tracked", fam(f));
			run(b, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), -1)) {
				ck_untouched(&r, b, n);
				ck_exact(&r, S(V_PASS_CT_NEW), -1, "counters");
			}
			if (acl_observed_entry(&s, &v))
				CK(v.state == XDPCT_CT_SYN_SENT, "state %s, want SYN_SENT",
				   st_name(v.state));
			flows_clear();
			ck_end();
		}
	}
	acl_reset();
}

/* XDPCT_CFG_LOCAL_ONLY: a denied source's transit traffic (to an address
 * not in xdpct_local) is not ours to drop; to this host it is dropped. */
static void test_acl_local_only(void)
{
	static const uint8_t OTHER4[4] = { 10, 0, 0, 99 };
	static const uint8_t OTHER6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0x99 };
	static const uint8_t den4[4] = { 10, 9, 8, 7 };
	static const uint8_t den6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb, [15] = 7 };
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	char nm[100];
	int n;

	acl_reset();
	acl_put(4, den4, 24, XDPCT_ACL_DENY);
	acl_put(6, den6, 64, XDPCT_ACL_DENY);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL | XDPCT_CFG_LOCAL_ONLY);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *den = f == 4 ? den4 : den6, *other = f == 4 ? OTHER4 : OTHER6;
		int alen = f == 4 ? 4 : 16;

		if (set_local(f, f == 4 ? SRV4 : SRV6))
			acl_write_failed("xdpct_local", errno);
		for (int fl = 0; fl < 2; fl++) {
			const char *fn = fl ? "ack" : "syn";

			n = acl_frame(f, den, PORT, fl ? F_ACK : F_SYN, b, &s);
			memcpy(s.daddr, other, alen);
			n = build(&s, b, NULL);
			snprintf(nm, sizeof(nm), "acl.local_only.%s.denied_%s_to_other_passed",
				 fam(f), fn);
			expect_exact(nm, b, n, XDP_PASS, S(V_PASS_NOT_LOCAL), -1);
			snprintf(nm, sizeof(nm), "acl.local_only.%s.denied_%s_to_local_dropped",
				 fam(f), fn);
			acl_denied(nm, f, den, PORT, fl ? F_ACK : F_SYN);
		}
	}
	acl_reset();
}

/* Allowed sources: no cookies, handled as on an observed port. */
static void test_acl_allow(void)
{
	static const uint8_t all4[4] = { 10, 20, 3, 4 };
	static const uint8_t all6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, 0, 3, [15] = 4 };
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	char nm[100];
	int n;

	acl_reset();
	acl_put(4, all4, 16, XDPCT_ACL_ALLOW);
	acl_put(6, all6, 48, XDPCT_ACL_ALLOW);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	for (int f = 4; f <= 6; f += 2) {
		const uint8_t *all = f == 4 ? all4 : all6;

		snprintf(nm, sizeof(nm), "acl.allow.%s.syn_passed_observed_entry", fam(f));
		acl_allowed_syn(nm, f, all);
		n = acl_frame(f, all, PORT, F_ACK, b, &s);
		snprintf(nm, sizeof(nm), "acl.allow.%s.ack_no_entry_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNTRACKED), S(ACL_ALLOWED));
		n = acl_frame(f, all, PORT, F_RST, b, &s);
		snprintf(nm, sizeof(nm), "acl.allow.%s.rst_no_entry_passed", fam(f));
		expect_exact(nm, b, n, XDP_PASS, S(V_PASS_UNTRACKED), S(ACL_ALLOWED));
		{
			/* observing never drops: a flag combination that a protected
			 * port drops passes, counted invalid */
			static struct res r;

			n = acl_frame(f, all, PORT, F_SYN | F_FIN, b, &s);
			ck_begin("xdp.acl.allow.%s.syn_fin_passed", fam(f));
			run(b, n, &r);
			if (ck_verdict(&r, XDP_PASS, S(V_PASS_UNTRACKED), S(ACL_ALLOWED))) {
				ck_untouched(&r, b, n);
				CK(r.d[S(CT_INVALID)] == 1, "ct_invalid %+lld, want +1 (counters: %s)",
				   (long long)r.d[S(CT_INVALID)], moved(&r));
			}
			ck_no_flows();
			ck_end();
		}
		/* the address next to the prefix is not allowed: cookies */
		{
			uint8_t out[16];

			memcpy(out, all, 16);
			if (f == 4)
				out[1]++; /* 10.21.3.4 */
			else
				out[5]++; /* 2001:db8:21:3::4 */
			snprintf(nm, sizeof(nm), "acl.allow.%s.outside_syn_answered", fam(f));
			acl_answered(nm, f, out);
		}
	}
	acl_reset();
}

/* Nested prefixes: the longest one decides, both ways round. */
static void test_acl_longest_prefix(void)
{
	static const uint8_t outer4[4] = { 10, 0, 0, 0 }, inner4[4] = { 10, 1, 0, 0 };
	static const uint8_t in_inner4[4] = { 10, 1, 2, 3 }, in_outer4[4] = { 10, 2, 3, 4 };
	static const uint8_t none4[4] = { 11, 0, 0, 1 };
	static const uint8_t outer6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t inner6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	static const uint8_t in_inner6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, [15] = 3 };
	static const uint8_t in_outer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 4 };
	static const uint8_t none6[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };
	char nm[100];

	for (int nest = 0; nest < 2; nest++) {
		/* 0: allow /8 (/32), deny /16 (/48); 1: the reverse */
		uint8_t a_outer = nest ? XDPCT_ACL_DENY : XDPCT_ACL_ALLOW;
		uint8_t a_inner = nest ? XDPCT_ACL_ALLOW : XDPCT_ACL_DENY;
		const char *nn = nest ? "deny_outer_allow_inner" : "allow_outer_deny_inner";

		acl_reset();
		acl_put(4, outer4, 8, a_outer);
		acl_put(4, inner4, 16, a_inner);
		acl_put(6, outer6, 32, a_outer);
		acl_put(6, inner6, 48, a_inner);
		acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
		for (int f = 4; f <= 6; f += 2) {
			const uint8_t *ii = f == 4 ? in_inner4 : in_inner6;
			const uint8_t *io = f == 4 ? in_outer4 : in_outer6;

			if (nest) {
				snprintf(nm, sizeof(nm), "acl.lpm.%s.%s.inner_allowed", nn, fam(f));
				acl_allowed_syn(nm, f, ii);
				snprintf(nm, sizeof(nm), "acl.lpm.%s.%s.outer_denied", nn, fam(f));
				acl_denied(nm, f, io, PORT, F_SYN);
			} else {
				snprintf(nm, sizeof(nm), "acl.lpm.%s.%s.inner_denied", nn, fam(f));
				acl_denied(nm, f, ii, PORT, F_SYN);
				snprintf(nm, sizeof(nm), "acl.lpm.%s.%s.outer_allowed", nn, fam(f));
				acl_allowed_syn(nm, f, io);
			}
			snprintf(nm, sizeof(nm), "acl.lpm.%s.%s.unlisted_answered", nn, fam(f));
			acl_answered(nm, f, f == 4 ? none4 : none6);
		}
	}
	acl_reset();
}

/* The family byte keeps the families apart: ::/0 is every IPv6 source and
 * no IPv4 one, 0.0.0.0/0 the reverse, and an IPv6 prefix whose bytes an
 * IPv4 address starts with does not match it (nor the other way round). */
static void test_acl_families(void)
{
	static const uint8_t zero[16] = { 0 };
	static const uint8_t p6_10[16] = { 0x0a };        /* a00::/8: 10.x's first byte */
	static const uint8_t src6_10[16] = { 0x0a, [15] = 1 };
	static const uint8_t p4_2001[4] = { 0x20, 0x01, 0, 0 }; /* 32.1.0.0/16: 2001::/16 */
	static const uint8_t src4_2001[4] = { 0x20, 0x01, 2, 3 };

	acl_reset();
	acl_put(6, zero, 0, XDPCT_ACL_DENY);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	acl_denied("acl.family.deny_v6_all.ipv6_syn_dropped", 6, CLI6, PORT, F_SYN);
	acl_denied("acl.family.deny_v6_all.ipv6_ack_dropped", 6, CLI6, PORT, F_ACK);
	acl_answered("acl.family.deny_v6_all.ipv4_syn_answered", 4, CLI4);

	acl_reset();
	acl_put(4, zero, 0, XDPCT_ACL_DENY);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	acl_denied("acl.family.deny_v4_all.ipv4_syn_dropped", 4, CLI4, PORT, F_SYN);
	acl_denied("acl.family.deny_v4_all.ipv4_ack_dropped", 4, CLI4, PORT, F_ACK);
	acl_answered("acl.family.deny_v4_all.ipv6_syn_answered", 6, CLI6);

	acl_reset();
	acl_put(6, p6_10, 8, XDPCT_ACL_DENY);
	acl_put(4, p4_2001, 16, XDPCT_ACL_DENY);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	acl_answered("acl.family.same_bytes.ipv4_10_not_in_ipv6_a00_8", 4, CLI4);
	acl_denied("acl.family.same_bytes.ipv6_a00_8_dropped", 6, src6_10, PORT, F_SYN);
	acl_answered("acl.family.same_bytes.ipv6_2001_not_in_ipv4_32_1_16", 6, CLI6);
	acl_denied("acl.family.same_bytes.ipv4_32_1_16_dropped", 4, src4_2001, PORT, F_SYN);

	/* an allow of ::/0 makes no IPv4 source an observed one */
	acl_reset();
	acl_put(6, zero, 0, XDPCT_ACL_ALLOW);
	acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
	acl_allowed_syn("acl.family.allow_v6_all.ipv6_syn_observed", 6, CLI6);
	acl_answered("acl.family.allow_v6_all.ipv4_syn_answered", 4, CLI4);
	acl_reset();
}

/* Runs xdpct_tc_out (TC egress) once on a frame; d: counter deltas. */
static int run_tc_out(const uint8_t *pkt, int len, uint32_t *retval,
		      int64_t d[XDPCT_STAT_MAX])
{
	uint64_t before[XDPCT_STAT_MAX], after[XDPCT_STAT_MAX];
	uint8_t out[PG_MAX_FRAME];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err;

	stats_read(before);
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdpct_tc_out), &o);
	if (err)
		err = -errno;
	stats_read(after);
	*retval = o.retval;
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		d[i] = (int64_t)(after[i] - before[i]);
	return err;
}

/* The local stack's side of an allowed source's connection: TC egress
 * finds the observed entry XDP made (the remote is the destination there),
 * never a protected one. SYN in, SYN-ACK out, ACK in, data out. */
static void test_acl_tc_out(void)
{
	static const uint8_t data[] = "hello";
	static struct res r;
	uint8_t b[PG_MAX_FRAME];
	int64_t d[XDPCT_STAT_MAX];
	struct xdpct_flow v;
	struct pg_spec s, o, a;
	uint32_t isn, rv;
	int n, err;

	for (int f = 4; f <= 6; f += 2) {
		acl_reset();
		acl_put(f, f == 4 ? CLI4 : CLI6, f == 4 ? 32 : 128, XDPCT_ACL_ALLOW);
		acl_cfg(CFG_ALL | XDPCT_CFG_ACL);
		ck_begin("xdp.acl.tc_out.%s.synack_updates_observed_entry", fam(f));
		n = acl_frame(f, f == 4 ? CLI4 : CLI6, PORT, F_SYN, b, &s);
		run(b, n, &r);
		if (!ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), S(ACL_ALLOWED)) ||
		    !acl_observed_entry(&s, &v)) {
			char nm[100];

			ck_end();
			snprintf(nm, sizeof(nm), "xdp.acl.tc_out.%s.handshake_established_observed",
				 fam(f));
			ck_skip(nm, "its SYN check failed");
			continue;
		}
		/* the local SYN-ACK, as Linux sends it */
		isn = rnd32();
		memset(&o, 0, sizeof(o));
		memcpy(o.dmac, CLI_MAC, 6);
		memcpy(o.smac, SRV_MAC, 6);
		o.family = f;
		memcpy(o.saddr, s.daddr, 16);
		memcpy(o.daddr, s.saddr, 16);
		if (f == 4)
			o.frag_off = 0x4000;
		o.ttl = 64;
		o.sport = PORT;
		o.dport = s.sport;
		o.seq = isn;
		o.ack = s.seq + 1;
		o.flags = F_SYN | F_ACK;
		o.win = 65160;
		linux_opts(&o.opts, f == 4 ? MSS4 : MSS6, true, true, rnd32(), 0, WSCALE);
		n = build(&o, b, NULL);
		err = run_tc_out(b, n, &rv, d);
		if (CK(!err, "test_run on xdpct_tc_out: %s", strerror(-err))) {
			CK(rv == 0, "TC verdict %u, want TC_ACT_OK", rv);
			CK(d[S(TC_OUT_FLOW)] == 1 && d[S(TC_OUT_CT_NEW)] == 0 && d[S(CT_INVALID)] == 0,
			   "tc_out_flow %+lld tc_out_ct_new %+lld ct_invalid %+lld, want +1 0 0",
			   (long long)d[S(TC_OUT_FLOW)], (long long)d[S(TC_OUT_CT_NEW)],
			   (long long)d[S(CT_INVALID)]);
		}
		if (acl_observed_entry(&s, &v)) {
			CK(v.packets[XDPCT_LOCAL] == 1 && v.packets[XDPCT_REMOTE] == 1,
			   "packets remote %u local %u, want 1 1", v.packets[XDPCT_REMOTE],
			   v.packets[XDPCT_LOCAL]);
			CK(v.state == XDPCT_CT_SYN_RECV, "state %s, want SYN_RECV", st_name(v.state));
			CK(v.dir[XDPCT_LOCAL].end == isn + 1, "local end %u, want %u",
			   v.dir[XDPCT_LOCAL].end, isn + 1);
		}
		ck_end();

		/* the remote's ACK: the observed entry's, ESTABLISHED */
		ck_begin("xdp.acl.tc_out.%s.handshake_established_observed", fam(f));
		a = s;
		a.flags = F_ACK;
		a.seq = s.seq + 1;
		a.ack = isn + 1;
		a.win = 502;
		memset(&a.opts, 0, sizeof(a.opts));
		n = build(&a, b, NULL);
		run(b, n, &r);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_FLOW), S(ACL_ALLOWED)))
			ck_untouched(&r, b, n);
		/* the local side's data */
		o.flags = F_ACK | F_PSH;
		o.seq = isn + 1;
		memset(&o.opts, 0, sizeof(o.opts));
		o.payload = data;
		o.payload_len = 5;
		n = build(&o, b, NULL);
		err = run_tc_out(b, n, &rv, d);
		if (CK(!err, "test_run on xdpct_tc_out: %s", strerror(-err)))
			CK(d[S(TC_OUT_FLOW)] == 1 && d[S(CT_INVALID)] == 0,
			   "tc_out_flow %+lld ct_invalid %+lld, want +1 0",
			   (long long)d[S(TC_OUT_FLOW)], (long long)d[S(CT_INVALID)]);
		if (acl_observed_entry(&s, &v)) {
			CK(v.state == XDPCT_CT_ESTABLISHED, "state %s, want ESTABLISHED",
			   st_name(v.state));
			CK(v.packets[XDPCT_REMOTE] == 2 && v.packets[XDPCT_LOCAL] == 2,
			   "packets remote %u local %u, want 2 2", v.packets[XDPCT_REMOTE],
			   v.packets[XDPCT_LOCAL]);
			CK(v.dir[XDPCT_LOCAL].end == isn + 1 + 5, "local end %u, want %u",
			   v.dir[XDPCT_LOCAL].end, isn + 6);
		}
		ck_end();
	}
	acl_reset();
}

static void test_acl(void)
{
	acl_fd = bpf_map__fd(skel->maps.xdpct_acl);
	test_acl_deny();
	test_acl_flag_gate();
	test_acl_unprotected();
	test_acl_local_only();
	test_acl_allow();
	test_acl_longest_prefix();
	test_acl_families();
	test_acl_tc_out();
	/* nothing left for the groups after this one */
	ck_begin("xdp.acl.cleaned_up");
	CK(map_count(acl_fd) == 0, "xdpct_acl holds %d entries", map_count(acl_fd));
	CK(!(cfg_now.flags & XDPCT_CFG_ACL), "XDPCT_CFG_ACL still set");
	CK(flows_count() == 0, "%d flow entries left", flows_count());
	ck_end();
}

/* ---- SYN rate limits per source prefix ---- */

static int synlimit_fd, synrate_fd;

static void synlimit_put(uint32_t rate, uint32_t burst, uint8_t p4, uint8_t p6)
{
	struct xdpct_synlimit l = { .rate = rate, .burst = burst, .prefix4 = p4, .prefix6 = p6 };
	uint32_t zero = 0;

	if (rate) {
		l.interval_ns = 1000000000ull / rate;
		l.tau_ns = (burst - 1) * l.interval_ns;
	}
	map_clear(synrate_fd);
	if (bpf_map_update_elem(synlimit_fd, &zero, &l, BPF_ANY)) {
		ck_begin("xdp.synlimit.write");
		CK(0, "cannot write xdpct_synlimit: %s", strerror(errno));
		ck_end();
	}
}

static void synlimit_dropped(const char *name, int family, const uint8_t *src)
{
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	int n = acl_frame(family, src, PORT, F_SYN, b, &s);

	expect_pkt(name, b, n, XDP_DROP, S(V_DROP_SYN_RATE), S(SYN_SEEN));
}

/* The bucket of a prefix: the key as the data path masks it. */
static bool synrate_has(int family, const uint8_t *masked)
{
	struct xdpct_synrate_key k = { .family = (uint8_t)family };
	uint64_t tat;

	memcpy(k.addr, masked, family == 4 ? 4 : 16);
	return !bpf_map_lookup_elem(synrate_fd, &k, &tat);
}

static void test_synlimit(void)
{
	/* one /24 (.1, .200, .255), its neighbours; one /64 and the next */
	static const uint8_t a4[3][4] = { { 198, 51, 100, 1 }, { 198, 51, 100, 200 },
					  { 198, 51, 100, 255 } };
	static const uint8_t b4[4] = { 198, 51, 101, 1 }, c4[4] = { 198, 51, 99, 255 };
	static const uint8_t m4[4] = { 198, 51, 100, 0 };
	static const uint8_t a6[2][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0, 0, 9 } };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t m6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };
	char nm[64];

	synlimit_fd = bpf_map__fd(skel->maps.xdpct_synlimit);
	synrate_fd = bpf_map__fd(skel->maps.xdpct_synrate);
	flows_clear();
	/* 1 per second (slow: a loaded machine's stall cannot refill a
	 * bucket between two checks), 3 at once, per /24 and /64 */
	synlimit_put(1, 3, 24, 64);
	for (int i = 0; i < 3; i++) {
		snprintf(nm, sizeof(nm), "synlimit.ipv4.burst_%d_answered", i + 1);
		acl_answered(nm, 4, a4[i]);
	}
	synlimit_dropped("synlimit.ipv4.beyond_burst_dropped", 4, a4[0]);
	synlimit_dropped("synlimit.ipv4.same_prefix_other_host_dropped", 4, a4[2]);
	acl_answered("synlimit.ipv4.next_prefix_answered", 4, b4);
	acl_answered("synlimit.ipv4.previous_prefix_answered", 4, c4);
	ck_begin("xdp.synlimit.ipv4.bucket_key_masked");
	CK(synrate_has(4, m4), "no bucket for 198.51.100.0/24");
	CK(map_count(synrate_fd) == 3, "%d buckets, want 3", map_count(synrate_fd));
	ck_end();
	for (int i = 0; i < 3; i++) {
		snprintf(nm, sizeof(nm), "synlimit.ipv6.burst_%d_answered", i + 1);
		acl_answered(nm, 6, a6[i & 1]);
	}
	synlimit_dropped("synlimit.ipv6.same_64_dropped", 6, a6[1]);
	acl_answered("synlimit.ipv6.next_64_answered", 6, b6);
	ck_begin("xdp.synlimit.ipv6.bucket_key_masked");
	CK(synrate_has(6, m6), "no bucket for 2001:db8:0:1::/64");
	ck_end();
	/* a token a second: one more after 1.05 s (the coarse clock's tick
	 * included), then none */
	usleep(1050000);
	acl_answered("synlimit.ipv4.refilled_answered", 4, a4[1]);
	synlimit_dropped("synlimit.ipv4.refill_spent_dropped", 4, a4[1]);
	/* other prefix lengths: /16 takes in the neighbour */
	synlimit_put(10, 1, 16, 48);
	acl_answered("synlimit.prefix16.first_answered", 4, a4[0]);
	synlimit_dropped("synlimit.prefix16.neighbour_dropped", 4, b4);
	acl_answered("synlimit.prefix48.first_answered", 6, a6[0]);
	synlimit_dropped("synlimit.prefix48.other_64_dropped", 6, b6);
	/* off: never limited, no bucket */
	synlimit_put(0, 0, 24, 64);
	for (int i = 0; i < 5; i++) {
		snprintf(nm, sizeof(nm), "synlimit.off.syn_%d_answered", i + 1);
		acl_answered(nm, 4, a4[0]);
	}
	ck_begin("xdp.synlimit.off_no_bucket");
	CK(map_count(synrate_fd) == 0, "%d buckets", map_count(synrate_fd));
	ck_end();
}

/* ---- auto mode ---- */

/* run's claim: held for 3 s from now, or lapsed */
static void auto_claim(bool held)
{
	struct xdpct_auto a = { .until_ns = held ? mono_ns() + 3000000000ull : 0 };
	uint32_t zero = 0;

	bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_auto), &zero, &a, BPF_ANY);
}

static uint64_t autostat_syns(uint32_t port)
{
	struct xdpct_autostat v[256];
	uint64_t sum = 0;

	if (ncpu > 256 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.xdpct_autostat), &port, v))
		return ~0ull;
	for (int c = 0; c < ncpu; c++)
		sum += v[c].syns;
	return sum;
}

static void test_auto(void)
{
	static const uint8_t src4[4] = { 203, 0, 113, 9 };
	struct xdpct_autostat zero[256] = {};
	uint8_t b[PG_MAX_FRAME];
	struct pg_spec s;
	struct synack sa;
	struct xdpct_req_attrs got;
	static struct res r;
	uint32_t port = PORT;
	int n;

	flows_clear();
	bpf_map_update_elem(bpf_map__fd(skel->maps.xdpct_autostat), &port, zero, BPF_ANY);
	set_port(PORT, XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO);
	auto_claim(true);

	/* calm: the kernel answers, and the flow is tracked from its SYN */
	n = acl_frame(4, src4, PORT, F_SYN, b, &s);
	ck_begin("xdp.auto.calm_syn_to_kernel");
	run(b, n, &r);
	ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), S(AUTO_KERNEL_SYN));
	CK(r.d[S(V_TX_SYNACK)] == 0, "answered with a cookie");
	CK(map_count(flows4_fd) == 1, "%d entries in xdpct_flows4, want the SYN's", map_count(flows4_fd));
	CK(autostat_syns(PORT) == 1, "autostat %llu SYNs, want 1", (unsigned long long)autostat_syns(PORT));
	ck_end();
	/* a bare ACK without entry and cookie: the kernel's to judge */
	n = acl_frame(4, src4, PORT, F_ACK, b, &s);
	s.sport ^= 0x100; /* never the SYN's port (the one before it) */
	n = build(&s, b, NULL);
	ck_begin("xdp.auto.calm_stray_ack_passed");
	run(b, n, &r);
	ck_verdict(&r, XDP_PASS, S(V_PASS_UNTRACKED), -1);
	ck_end();
	flows_clear();

	/* calm, with a SYN limit: a prefix past its bucket makes no entry */
	synlimit_fd = bpf_map__fd(skel->maps.xdpct_synlimit);
	synrate_fd = bpf_map__fd(skel->maps.xdpct_synrate);
	synlimit_put(1, 1, 24, 64);
	n = acl_frame(4, src4, PORT, F_SYN, b, &s);
	s.sport ^= 2;
	n = build(&s, b, NULL);
	ck_begin("xdp.auto.calm_syn_within_limit");
	run(b, n, &r);
	ck_verdict(&r, XDP_PASS, S(V_PASS_CT_NEW), S(AUTO_KERNEL_SYN));
	ck_end();
	s.sport ^= 4;
	n = build(&s, b, NULL);
	ck_begin("xdp.auto.calm_syn_over_limit_dropped");
	run(b, n, &r);
	ck_verdict(&r, XDP_DROP, S(V_DROP_SYN_RATE), -1);
	CK(r.d[S(AUTO_KERNEL_SYN)] == 0, "passed to the kernel");
	ck_end();
	synlimit_put(0, 0, 24, 64);
	flows_clear();

	/* under attack: cookies */
	set_port(PORT, XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO | XDPCT_PORT_COOKIES);
	acl_answered("auto.attack_syn_cookie", 4, src4);
	ck_begin("xdp.auto.attack_syn_counted");
	CK(autostat_syns(PORT) == 4, "autostat %llu SYNs, want 4 (the calm ones too)", (unsigned long long)autostat_syns(PORT));
	ck_end();
	n = acl_frame(4, src4, PORT, F_ACK, b, &s);
	ck_begin("xdp.auto.attack_stray_ack_dropped");
	run(b, n, &r);
	ck_verdict(&r, XDP_DROP, S(V_DROP_COOKIE_BAD), -1);
	ck_end();

	/* nobody decides (run gone, its claim lapsed): cookies, calm or not */
	set_port(PORT, XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO);
	auto_claim(false);
	acl_answered("auto.lapsed_claim_cookie", 4, src4);
	auto_claim(true);

	/* a cookie sent under attack is taken after the switch back */
	{
		struct syn_case c = mk_linux(4, "auto.cookie_across_switch");

		flows_clear();
		set_port(PORT, XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO | XDPCT_PORT_COOKIES);
		ck_begin("xdp.syn.auto.cookie_across_switch");
		do_syn(&c, &sa);
		ck_end();
		set_port(PORT, XDPCT_PORT_PROTECT | XDPCT_PORT_AUTO);
		ck_begin("xdp.ack.auto.cookie_across_switch");
		do_ack(&sa, &got);
		ck_end();
	}
	flows_clear();
	bpf_map_delete_elem(bpf_map__fd(skel->maps.xdpct_autostat), &port);
	auto_claim(false);
	set_port(PORT, XDPCT_PORT_PROTECT);
}

/* ---- setup and main ---- */

static void test_siphash_ref(void)
{
	uint8_t key[16], msg[64];
	uint64_t k0 = 0, k1 = 0;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int i = 7; i >= 0; i--) {
		k0 = k0 << 8 | key[i];
		k1 = k1 << 8 | key[8 + i];
	}
	ck_begin("xdp.siphash_ref.vectors");
	/* the paper's example (15 bytes) and the first reference vectors */
	CK(sipref_hash(key, msg, 15) == 0xa129ca6149be45e5ULL, "15-byte vector 0x%016llx",
	   (unsigned long long)sipref_hash(key, msg, 15));
	CK(sipref_hash(key, msg, 0) == 0x726fdb47dd0e0e31ULL, "empty vector 0x%016llx",
	   (unsigned long long)sipref_hash(key, msg, 0));
	CK(sipref_hash(key, msg, 1) == 0x74f839c593dc67fdULL, "1-byte vector 0x%016llx",
	   (unsigned long long)sipref_hash(key, msg, 1));
	CK(sipref_hash_k(k0, k1, msg, 48) == sipref_hash(key, msg, 48), "key halves");
	ck_end();
}

/* The checker's own checksum code against a published header. */
static void test_pktgen_csum(void)
{
	/* IPv4 header with checksum 0xb861 (Wikipedia, "IPv4 header checksum") */
	static const uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
				       0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
				       0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t b[PG_MAX_FRAME];
	struct pg_layout L;
	struct pg_spec s;
	struct pg_parsed p;
	int n;

	ck_begin("xdp.pktgen.checksums");
	CK(pg_ipv4_csum(h, 20) == 0xb861, "IPv4 vector: 0x%04x", pg_ipv4_csum(h, 20));
	CK(pg_ipv4_csum_ok(h, 20), "IPv4 vector does not verify");
	/* an odd-length segment verifies, and one flipped bit breaks it */
	base_spec(&s, 6, PORT);
	s.flags = F_ACK;
	s.payload = (const uint8_t *)"odd";
	s.payload_len = 3;
	n = build(&s, b, &L);
	CK(pg_parse(b, n, &p) == 0 && p.tcp_len == 23, "parse of a built frame");
	CK(pg_tcp_csum_ok(6, b + L.l3_off + 8, b + L.l3_off + 24, b + L.l4_off, 23),
	   "built IPv6 TCP checksum does not verify");
	b[n - 1] ^= 1;
	CK(!pg_tcp_csum_ok(6, b + L.l3_off + 8, b + L.l3_off + 24, b + L.l4_off, 23),
	   "flipped bit still verifies");
	ck_end();
}

#define STATS_LOG 4096

static int setup(void)
{
	static char *stats_log[16];
	struct bpf_program *prog;
	struct bpf_map *map;
	int err, nstats = 0;

	ck_begin("xdp.setup.load");
	skel = xdpct_bpf__open();
	if (!CK(skel, "xdpct_bpf__open: %s", strerror(errno)))
		return ck_end(), -1;
	/* no pinning: tests never touch /sys/fs/bpf */
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__set_pin_path(map, NULL), "unpin %s", bpf_map__name(map));
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows4, 4096), "flows4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows6, 4096), "flows6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_pending, 4096), "pending max_entries");
	/* the verifier's statistics: how much of its budget each program takes */
	bpf_object__for_each_program(prog, skel->obj) {
		int i = nstats++;

		if (i >= 16)
			break;
		stats_log[i] = calloc(1, STATS_LOG);
		if (stats_log[i])
			bpf_program__set_log_buf(prog, stats_log[i], STATS_LOG);
		bpf_program__set_log_level(prog, 4); /* BPF_LOG_STATS */
	}
	err = xdpct_bpf__load(skel);
	if (!CK(!err, "xdpct_bpf__load: %s", strerror(-err)))
		return ck_end(), -1;
	ck_end();

	/* A program near the verifier's 1M-instruction limit fails to load
	 * after the next small change (or on another kernel): keep a quarter
	 * of the budget free. */
	ck_begin("xdp.setup.verifier_headroom");
	nstats = 0;
	bpf_object__for_each_program(prog, skel->obj) {
		if (nstats >= 16)
			break;
		const char *s = stats_log[nstats] ? strstr(stats_log[nstats], "processed ") : NULL;
		long n = s ? strtol(s + 10, NULL, 10) : -1;

		CK(n > 0 && n <= 750000, "%s: %ld instructions processed of the verifier's 1,000,000",
		   bpf_program__name(prog), n);
		if (n > 0)
			printf("# %s: %ld instructions verified\n", bpf_program__name(prog), n);
		free(stats_log[nstats++]);
	}
	ck_end();

	ck_begin("xdp.setup.no_pinning");
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__is_pinned(map) && !bpf_map__pin_path(map), "map %s pinned at %s",
		   bpf_map__name(map), bpf_map__pin_path(map) ? bpf_map__pin_path(map) : "?");
	ck_end();

	prog_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	cfg_fd = bpf_map__fd(skel->maps.xdpct_config);
	ports_fd = bpf_map__fd(skel->maps.xdpct_ports);
	flows4_fd = bpf_map__fd(skel->maps.xdpct_flows4);
	flows6_fd = bpf_map__fd(skel->maps.xdpct_flows6);
	pending_fd = bpf_map__fd(skel->maps.xdpct_pending);
	stats_fd = bpf_map__fd(skel->maps.xdpct_stats);
	obs4_fd = bpf_map__fd(skel->maps.xdpct_observed4);
	obs6_fd = bpf_map__fd(skel->maps.xdpct_observed6);
	local_fd = bpf_map__fd(skel->maps.xdpct_local);
	seen_fd = bpf_map__fd(skel->maps.xdpct_seen);
	ncpu = libbpf_num_possible_cpus();
	ck_begin("xdp.setup.maps");
	err = xdpct_seen_map(seen_fd, NULL, &seen);
	CK(!err, "mmap of xdpct_seen: %s", strerror(-err));
	CK(ncpu > 0, "possible cpus: %d", ncpu);
	CK(!set_cfg(CFG_ALL, &K1, NULL), "config write: %s", strerror(errno));
	CK(!set_port(PORT, XDPCT_PORT_PROTECT), "ports write: %s", strerror(errno));
	CK(!set_port(8080, XDPCT_PORT_OBSERVE), "ports write: %s", strerror(errno));
	CK(flows_count() == 0 && map_count(pending_fd) == 0, "flows not empty");
	if (!ck_end())
		return -1;

	/* BPF_PROG_TEST_RUN hands metadata back: data_out starts at data_meta
	 * and ctx_out.data is the metadata length. Shown with a forged ACK. */
	{
		static struct res r;
		uint8_t buf[PG_MAX_FRAME];
		struct pg_spec a;
		uint32_t magic;
		int n;

		ck_begin("xdp.setup.test_run_returns_metadata");
		n = forged_ack(4, &K1, 3, slot_of(mono_ns()), XDPCT_OPT_WSCALE_NONE, L_NOTS, buf, &a);
		run(buf, n, &r);
		if (ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), -1)) {
			memcpy(&magic, r.out, 4);
			CK(r.meta_len == 28, "ctx_out.data %d, want 28", r.meta_len);
			CK(r.out_len == n + 28, "data_size_out %d, want %d", r.out_len, n + 28);
			CK(magic == XDPCT_META_MAGIC, "data_out starts with 0x%08x, want magic",
			   magic);
			CK(!memcmp(r.out + 28, buf, n), "frame after the metadata differs");
		}
		ck_end();
		flows_clear();
	}
	return 0;
}

/* ---- the NAT handover program (bpf/nat.bpf.c), against real sockets ---- */

static struct nat_bpf *nat_skel;

/* One ACK through xdpct_tc_nat: its TC verdict, and each counter's move in
 * d. -1 if the run failed. */
static int nat_run(const uint8_t *frame, int n, uint64_t d[XDPCT_STAT_MAX])
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)n,
		    .repeat = 1);
	int fd = bpf_map__fd(nat_skel->maps.xdpct_stats);
	uint64_t b[XDPCT_STAT_MAX], a[XDPCT_STAT_MAX];

	xdpct_stats_sum(fd, b);
	if (bpf_prog_test_run_opts(bpf_program__fd(nat_skel->progs.xdpct_tc_nat), &o))
		return -1;
	xdpct_stats_sum(fd, a);
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		d[i] = a[i] - b[i];
	return (int)o.retval;
}

/* The counters that moved are exactly want (each by one). */
static void nat_moved(const uint64_t d[XDPCT_STAT_MAX], int want)
{
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		CK(d[i] == (i == want), "counter %s moved by %llu, want %d", stat_name[i],
		   (unsigned long long)d[i], i == want);
}

/* The stored handover's key of the cookie ACK a. */
static void nat_key(const struct pg_spec *a, struct xdpct_handoff_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->raddr, a->saddr, a->family == 4 ? 4 : 16);
	k->ack = a->ack;
	k->rport = htons(a->sport);
	k->family = (uint8_t)a->family;
}

/* The cookie flow's stored handover as XDP left it, the last handoff
 * ago_ns back on CPU cpu (handoff_ns 0: none yet). */
static void nat_store(const struct pg_spec *a, uint32_t cpu, uint64_t ago_ns, bool handed)
{
	struct xdpct_handoff_key k;
	struct xdpct_handoff h;

	nat_key(a, &k);
	memset(&h, 0, sizeof(h));
	h.attrs.mss = 1400;
	h.ho.first_seq = a->seq;
	h.ho.handoff_cpu = cpu;
	h.ho.handoff_ns = handed ? mono_ns() - ago_ns : 0;
	h.made_ns = mono_ns() - ago_ns;
	CK(!bpf_map_update_elem(bpf_map__fd(nat_skel->maps.xdpct_handoff), &k, &h, BPF_ANY),
	   "store the handover: %s", strerror(errno));
}

static int tcp_socket(int family, uint16_t port, bool listening)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memcpy(&s4.sin_addr, LIVENS_ADDR4, 4);
	memcpy(&s6.sin6_addr, LIVENS_ADDR6, 16);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((family == 4 ? bind(fd, (struct sockaddr *)&s4, sizeof(s4)) :
			   bind(fd, (struct sockaddr *)&s6, sizeof(s6))) ||
	    (listening && listen(fd, 8))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* now_ns() keeps one clock reading per CPU and jiffy (bpf/stats.h); a
 * CPU's can be a tick behind the one that made a cookie, or more when a
 * vCPU stalled between the jiffy and the clock's update. Just past a slot
 * boundary, a cookie of now's slot is then one slot ahead of this CPU's
 * reading: the clock itself decides it, for a reading a tick behind (age
 * 3) and one a second behind (age 5: a stall). A cookie two slots behind
 * the reading stays stale without it (age 2), and so does a cookie a slot
 * ahead of a reading half a slot short of the boundary (age 4: past the
 * eighth of a slot in which the clock is asked).
 * The reading is planted in this CPU's xdpct_clock element; a case where
 * the jiffy turned before the ACK ran (the reading was not used) is run
 * again. */
static void clock_behind_case(int family, int age, int cpu, int ncpu)
{
	int fd = bpf_map__fd(skel->maps.xdpct_clock), cur = -1, tries = 0;
	struct xdpct_clock_cache c[ncpu], planted;
	uint8_t buf[PG_MAX_FRAME];
	struct xdpct_req_attrs w;
	static struct res r;
	struct pg_spec a;
	uint32_t zero = 0;
	bool used = false;
	int n;

	ck_begin("xdp.clock_behind.%s.%s", fam(family),
		 age == 3 ? "cookie_ahead_checked_on_clock" :
		 age == 5 ? "cookie_ahead_of_stalled_reading_checked_on_clock" :
		 age == 2 ? "cookie_two_back_stale" : "cookie_ahead_far_from_boundary_stale");
	flows_clear();
	do {
		/* no reading: the SYN reads the clock (an earlier case's planted
		 * one stays in effect until the jiffy turns) */
		memset(c, 0, sizeof(c));
		if (!CK(!bpf_map_update_elem(fd, &zero, c, BPF_ANY), "clear xdpct_clock: %s",
			strerror(errno)))
			break;
		cur = current_slot(family); /* fills this CPU's reading */
		if (!CK(cur >= 0, "no SYN-ACK to read the slot from") ||
		    !CK(!bpf_map_lookup_elem(fd, &zero, c), "read xdpct_clock: %s", strerror(errno)))
			break;
		/* behind the slot boundary that the clock has passed: a tick,
		 * a second (a stall), or half a slot (no CPU lags that far: a
		 * cookie a slot ahead of it is refused without asking the
		 * clock, wherever in its slot the clock is) */
		planted = c[cpu];
		planted.ns = (((planted.ns + clock_off) >> XDPCT_SLOT_SHIFT) << XDPCT_SLOT_SHIFT) -
			     clock_off -
			     (age == 4 ? 1ull << (XDPCT_SLOT_SHIFT - 1) :
			      age == 5 ? 1000000000ull : XDPCT_CLOCK_LAG_NS / 4);
		c[cpu] = planted;
		if (!CK(!bpf_map_update_elem(fd, &zero, c, BPF_ANY), "write xdpct_clock: %s",
			strerror(errno)))
			break;
		/* from the planted reading, now's slot is age 3 and the next
		 * one (age 3 on the clock too) age 2 */
		n = forged_ack(family, &K1, 3, (cur + (age == 2 ? 1 : 0)) & 3,
			       XDPCT_OPT_WSCALE_NONE, L_NOTS, buf, &a);
		run(buf, n, &r);
		used = !bpf_map_lookup_elem(fd, &zero, c) && c[cpu].jiffies == planted.jiffies &&
		       c[cpu].ns == planted.ns;
	} while (!used && ++tries < 5);
	if (CK(used, "the planted reading was never in effect (%d tries)", tries)) {
		if (age == 3 || age == 5) {
			attrs_from(family, 3, XDPCT_OPT_WSCALE_NONE, &a, L_NOTS, &w);
			ck_verdict(&r, XDP_PASS, S(V_PASS_COOKIE), S(COOKIE_GOOD));
		} else {
			ck_verdict(&r, XDP_DROP, S(V_DROP_COOKIE_STALE), -1);
			ck_no_flows();
		}
	}
	ck_end();
	flows_clear();
}

static void test_clock_behind(void)
{
	int cpu = pin_here("xdp.clock_behind.setup"), ncpu = libbpf_num_possible_cpus();

	if (cpu < 0)
		return;
	set_cfg(CFG_ALL, &K1, NULL);
	for (int f = 4; f <= 6; f += 2) {
		clock_behind_case(f, 3, cpu, ncpu);
		clock_behind_case(f, 5, cpu, ncpu);
		clock_behind_case(f, 2, cpu, ncpu);
		clock_behind_case(f, 4, cpu, ncpu);
	}
}

/* A cookie ACK behind DNAT reaches the listener's namespace: handed over
 * once; the client's first segment again (its bare ACK and first data
 * share one seq) is left to the child being made when that handoff ran on
 * this CPU, and dropped when it ran on another (the child may not exist
 * when this one reaches TCP: the listener would reset the client); a later
 * segment is dropped; once the child exists the stored handover goes. */
static void test_nat_handover(void)
{
	char why[200];
	int cpu, other, err;
	cpu_set_t set;

	ck_begin("xdp.nat_handover.setup");
	if (livens_setup(why, sizeof(why))) {
		ck_end();
		ck_skip("xdp.nat_handover", why);
		return;
	}
	nat_skel = nat_bpf__open();
	if (!CK(nat_skel, "nat_bpf__open: %s", strerror(errno)))
		return (void)ck_end();
	{
		struct bpf_map *map;

		bpf_object__for_each_map(map, nat_skel->obj)
			CK(!bpf_map__set_pin_path(map, NULL), "unpin %s", bpf_map__name(map));
	}
	err = nat_bpf__load(nat_skel);
	if (!CK(!err, "nat_bpf__load: %s", strerror(-err))) {
		nat_bpf__destroy(nat_skel);
		return (void)ck_end();
	}
	/* test_run runs on this CPU: stay on one */
	cpu = sched_getcpu();
	other = cpu ^ 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	CK(cpu >= 0 && !sched_setaffinity(0, sizeof(set), &set), "pin to CPU %d: %s", cpu,
	   strerror(errno));
	if (!ck_end()) {
		nat_bpf__destroy(nat_skel);
		return;
	}

	for (int fm = 4; fm <= 6; fm += 2) {
		uint16_t port = (uint16_t)(18000 + fm);
		int lfd = tcp_socket(fm, port, true);
		uint8_t buf[PG_MAX_FRAME];
		uint64_t d[XDPCT_STAT_MAX];
		struct pg_spec a;
		int n, v;

		ck_begin("xdp.nat_handover.%s.listener", fam(fm));
		CK(lfd >= 0, "listen on port %u: %s", port, strerror(errno));
		if (!ck_end())
			continue;
		base_spec(&a, fm, port);
		memcpy(a.daddr, fm == 4 ? LIVENS_ADDR4 : LIVENS_ADDR6, fm == 4 ? 4 : 16);
		a.flags = F_ACK;
		a.ack = rnd32();
		n = build(&a, buf, NULL);

		ck_begin("xdp.nat_handover.%s.twin_same_cpu_left_to_child", fam(fm));
		nat_store(&a, (uint32_t)cpu, 1000000, true);
		v = nat_run(buf, n, d);
		CK(v == 0, "TC verdict %d, want TC_ACT_OK", v);
		nat_moved(d, S(NAT_HANDOFF_DUP));
		ck_end();

		ck_begin("xdp.nat_handover.%s.twin_other_cpu_dropped", fam(fm));
		nat_store(&a, (uint32_t)other, 1000000, true);
		v = nat_run(buf, n, d);
		CK(v == 2, "TC verdict %d, want TC_ACT_SHOT", v);
		nat_moved(d, S(NAT_DROP_TWIN));
		ck_end();

		ck_begin("xdp.nat_handover.%s.twin_other_cpu_clock_ahead_dropped", fam(fm));
		/* that CPU's clock a tick ahead of this one's (bpf/stats.h) */
		nat_store(&a, (uint32_t)other, -(uint64_t)XDPCT_CLOCK_LAG_NS / 4, true);
		v = nat_run(buf, n, d);
		CK(v == 2, "TC verdict %d, want TC_ACT_SHOT", v);
		nat_moved(d, S(NAT_DROP_TWIN));
		ck_end();

		ck_begin("xdp.nat_handover.%s.old_handoff_tried_again", fam(fm));
		/* past the window: the first packet failed, hand this one over
		 * (test_run's skb is not at TC ingress: the kfunc refuses it) */
		nat_store(&a, (uint32_t)other, XDPCT_HANDOFF_DUP_NS + 5000000, true);
		v = nat_run(buf, n, d);
		CK(v == 0, "TC verdict %d, want TC_ACT_OK", v);
		CK(d[S(NAT_HANDOFF)] + d[S(NAT_HANDOFF_FAIL)] == 1 && !d[S(NAT_DROP_TWIN)] &&
		   !d[S(NAT_HANDOFF_DUP)], "handoff %llu, fail %llu, twin %llu, dup %llu: want one try",
		   (unsigned long long)d[S(NAT_HANDOFF)], (unsigned long long)d[S(NAT_HANDOFF_FAIL)],
		   (unsigned long long)d[S(NAT_DROP_TWIN)], (unsigned long long)d[S(NAT_HANDOFF_DUP)]);
		ck_end();

		ck_begin("xdp.nat_handover.%s.later_segment_dropped", fam(fm));
		nat_store(&a, (uint32_t)cpu, 0, false);
		a.seq += 1000;
		n = build(&a, buf, NULL);
		v = nat_run(buf, n, d);
		CK(v == 2, "TC verdict %d, want TC_ACT_SHOT", v);
		nat_moved(d, S(NAT_DROP_NOT_FIRST));
		a.seq -= 1000;
		n = build(&a, buf, NULL);
		ck_end();

		ck_begin("xdp.nat_handover.%s.no_listener", fam(fm));
		{
			struct pg_spec b = a;

			b.dport = (uint16_t)(port + 100);
			nat_store(&b, (uint32_t)cpu, 0, false);
			n = build(&b, buf, NULL);
			v = nat_run(buf, n, d);
			CK(v == 0, "TC verdict %d, want TC_ACT_OK (the kernel resets it)", v);
			nat_moved(d, S(NAT_NO_LISTENER));
		}
		ck_end();

		ck_begin("xdp.nat_handover.%s.child_seen_entry_gone", fam(fm));
		{
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct xdpct_handoff_key k;
			struct xdpct_handoff h;
			int cfd = tcp_socket(fm, 0, false), afd = -1;
			struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
			struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(port) };

			memcpy(&to4.sin_addr, LIVENS_ADDR4, 4);
			memcpy(&to6.sin6_addr, LIVENS_ADDR6, 16);
			if (CK(cfd >= 0 && !(fm == 4 ? connect(cfd, (struct sockaddr *)&to4, sizeof(to4)) :
						      connect(cfd, (struct sockaddr *)&to6, sizeof(to6))) &&
				   (afd = accept(lfd, NULL, NULL)) >= 0 &&
				   !getsockname(cfd, (struct sockaddr *)&ss, &sl),
			       "a real connection: %s", strerror(errno))) {
				struct pg_spec c = a;

				memcpy(c.saddr, fm == 4 ? LIVENS_ADDR4 : LIVENS_ADDR6, fm == 4 ? 4 : 16);
				c.sport = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in v6 */
				nat_store(&c, (uint32_t)cpu, 1000000, true);
				n = build(&c, buf, NULL);
				v = nat_run(buf, n, d);
				CK(v == 0, "TC verdict %d, want TC_ACT_OK", v);
				nat_moved(d, S(NAT_CHILD_SEEN));
				nat_key(&c, &k);
				CK(bpf_map_lookup_elem(bpf_map__fd(nat_skel->maps.xdpct_handoff), &k, &h) &&
					   errno == ENOENT,
				   "the stored handover is still there");
				ck_end();

				/* the server closes first: its end of the tuple
				 * waits in TIME_WAIT, which answers the segment */
				ck_begin("xdp.nat_handover.%s.time_wait_left_to_kernel", fam(fm));
				{
					char b[16];

					shutdown(afd, SHUT_WR);
					while (read(cfd, b, sizeof(b)) > 0)
						;
					close(cfd);
					cfd = -1;
					while (read(afd, b, sizeof(b)) > 0)
						;
					close(afd);
					afd = -1;
				}
				nat_store(&c, (uint32_t)cpu, 0, false);
				v = nat_run(buf, n, d);
				CK(v == 0, "TC verdict %d, want TC_ACT_OK", v);
				nat_moved(d, S(NAT_WAIT));
			}
			if (afd >= 0)
				close(afd);
			if (cfd >= 0)
				close(cfd);
		}
		ck_end();
		close(lfd);
	}
	nat_bpf__destroy(nat_skel);
}

int main(void)
{
	uint64_t t0 = mono_ns();
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		ck_skip("xdp", "needs root (BPF_PROG_TEST_RUN, map creation)");
		return ck_finish("test_xdp");
	}
	test_siphash_ref();
	test_pktgen_csum();
	if (setup()) {
		xdpct_bpf__destroy(skel);
		return ck_finish("test_xdp");
	}
	test_syn_matrix();
	test_profiles();
	test_nat();
	test_proxy();
	test_existing_flows();
	test_bad_cookies();
	test_cookie_bits();
	test_cookie_age();
	test_prev_key();
	test_truncation();
	test_unparsed();
	test_atomic_fragments();
	test_tc_unparsed();
	test_syn_bad_options();
	test_flags_and_foreign();
	test_local_only();
	test_local_cache();
	test_bad_sources();
	test_acl();
	test_synlimit();
	test_auto();
	test_clock_behind();
	/* last: this process in a network namespace of its own */
	test_nat_handover();

	/* xdpct_tc_in needs its XDP metadata: covered by tests/e2e */
	ck_begin("xdp.counters.one_verdict_per_packet");
	CK(n_inv_bad == 0, "%d of %d packets broke it; first: %s", n_inv_bad, n_runs, inv_first);
	ck_end();

	xdpct_bpf__destroy(skel);
	ck_note("%d test runs in %.2f s", n_runs, (mono_ns() - t0) / 1e9);
	rc = ck_finish("test_xdp");
	return rc;
}
