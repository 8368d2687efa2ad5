// SPDX-License-Identifier: GPL-2.0
/* Property tests of the XDP program through BPF_PROG_TEST_RUN: generated
 * frames (random, and valid SYNs/ACKs mutated by bit flips, truncation,
 * byte insertion) across every header layer, each checked against a model
 * written here from the documented behaviour (CONTEXT, include/xdpct.h),
 * with its own header parser, its own checksums (pktgen.c) and its own
 * cookie (siphash_ref.c). Properties, for every frame:
 *  - exactly one V_* verdict counter moves, xdp_packets by one;
 *  - the verdict is the model's (XDP_TX only for a well-formed SYN to a
 *    protected port; the reply parses, checksums verify, addresses and
 *    ports are swapped, ack = seq + 1, the options are those the config
 *    allows, the ISN is the reference cookie; a malformed frame or a
 *    fragment gets its port's verdict, or the kernel's, or is dropped as
 *    hidden TCP, with its error counter; a cookie valid only under the
 *    previous key counts in cookie_prev_key);
 *  - flow entries appear only for a valid cookie ACK or a SYN to an
 *    observed port (a reopened TIME_WAIT/CLOSE entry keeps its key);
 *  - a passed frame is untouched (metadata only in front of cookie ACKs);
 *  - every flow entry's bit is set in the active half of xdpct_seen, and a
 *    SYN to a protected port skips the flow lookup (syn_no_lookup) exactly
 *    when its key's bit is clear. The test's own entries get their bits
 *    as every userspace inserter does (xdpct_seen.h).
 * The config changes every CONF_EVERY frames (option flags, protected and
 * observed ports, track-all, key rotations). Each generator must make its
 * frames (prop.generated) and, from COVERAGE_MIN frames up, every verdict,
 * error counter, model class and kind of config must be reached.
 * Environment:
 *   PROP_N=N       frames (default 100000; `make soak`: 1000000)
 *   PROP_SEED=S    replay a run (the seed is printed as `# seed S`)
 *   PROP_VERBOSE=1 one line per frame on stderr
 *   PROP_HEX=HEX   run one frame (as a failure prints it) through the
 *                  program and the model, on empty flow tables, under the
 *                  first config (80 protected, 8080 observed, every
 *                  option); a frame of a later config replays by its seed
 * A replay sends the same frames, except where the clock feeds in: cookie
 * time slots, TSvals, and what follows from them (a mutated cookie ACK that
 * passes in one run and not in the other changes the flows in play). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdpct.h"
#include "xdpct.skel.h"
#include "check.h"
#include "pktgen.h"
#include "siphash_ref.h"
#include "xdpct_seen.h"

#define S(x) XDPCT_STAT_##x
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

#define CFG_ALL (XDPCT_CFG_ENABLED | XDPCT_CFG_SACK | XDPCT_CFG_TIMESTAMPS | \
		 XDPCT_CFG_WSCALE | XDPCT_CFG_ECN)
#define MSS4 1460
#define MSS6 1440
#define WSCALE 7
#define TTL 64
#define P_PROT prot_port() /* a protected port of the config in force */
#define P_OBS obs_port()   /* an observed one */
#define MAX_V6_EXT 6 /* extension headers the parser walks */
#define MAX_LIVE 8   /* flows kept in the maps at once */
#define OUT_CAP (PG_MAX_FRAME + 256)
#define MAX_FRAME 2400 /* generated frames stay within one test_run page */
/* Below this many frames coverage is not judged (skip): the rarest
 * counters (ct_reopen, pass_syn_tracked) average 14 at 20,000 frames, so
 * a run that reaches none of one is a 1e-6 event, not bad luck. */
#define COVERAGE_MIN 20000
#define CONF_EVERY 1000    /* frames between config changes */

#define STAT_ID(id, name, help) #id,
#define STAT_NAME(id, name, help) name,
static const char *const stat_id[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_ID) };
static const char *const stat_name[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_NAME) };

static const uint8_t CLI_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t SRV_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t SRV4[4] = { 10, 0, 0, 2 };
static const uint8_t SRV6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static struct xdpct_bpf *skel;
static int prog_fd, cfg_fd, ports_fd, flows4_fd, flows6_fd, pending_fd, stats_fd, ncpu;
static struct xdpct_seen seen = { .lock_fd = -1 };
static struct xdpct_siphash_key key; /* the config's current key */
static bool verbose_run;
static unsigned long long seed;
static long n_total;

/* ---- random numbers (splitmix64: one state, replayable) ---- */

static uint64_t rs;

static uint64_t r64(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(r64() % n) : 0;
}

static bool chance(uint32_t pct)
{
	return rn(100) < pct;
}

/* Choices that depend on earlier outcomes (which flow to evict or to
 * send on) draw from a second stream: the main one, and so the frames,
 * stay aligned when a clock-dependent outcome differs in a replay. */
static uint64_t rs2;

static uint32_t rn2(uint32_t n)
{
	uint64_t z = (rs2 += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n ? (uint32_t)(z % n) : 0;
}

/* ---- the config in force: option flags, ports, keys ---- */

#define MAX_PORTS 3
static struct {
	uint32_t flags;
	uint16_t prot[MAX_PORTS], obs[MAX_PORTS];
	int n_prot, n_obs;
} conf;
/* the previous key (valid with XDPCT_CFG_PREV_KEY), and one no config
 * holds any more: its cookies must fail */
static struct xdpct_siphash_key key_prev, key_dead;
static long n_conf, conf_seen[8], next_conf = CONF_EVERY;
enum { CS_TRACK_ALL, CS_PREV_KEY, CS_NO_TS, CS_NO_SACK, CS_NO_WS, CS_NO_ECN, CS_PORTS, CS_MAX };
static const char *const cs_name[CS_MAX] = {
	"track_all", "previous_key", "no_timestamps", "no_sack", "no_wscale", "no_ecn",
	"new_ports",
};

static bool in_list(const uint16_t *l, int n, uint16_t p)
{
	for (int i = 0; i < n; i++)
		if (l[i] == p)
			return true;
	return false;
}

static bool is_prot(uint16_t p)
{
	return in_list(conf.prot, conf.n_prot, p);
}

static bool is_obs(uint16_t p)
{
	return in_list(conf.obs, conf.n_obs, p);
}

static uint16_t prot_port(void)
{
	return conf.prot[rn((uint32_t)conf.n_prot)];
}

static uint16_t obs_port(void)
{
	return conf.obs[rn((uint32_t)conf.n_obs)];
}

/* A frame from sport to dport goes through the shield (SYN-ACKs,
 * cookies) or is tracked: what a malformed frame or fragment with these
 * ports is dropped for. */
static bool watched(uint16_t sport, uint16_t dport)
{
	return is_prot(dport) || is_obs(dport) || is_obs(sport) ||
	       (conf.flags & XDPCT_CFG_TRACK_ALL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the BPF clock */
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t slot_of(uint64_t ns)
{
	return (ns >> XDPCT_SLOT_SHIFT) & 3;
}

static const char *hexs(const uint8_t *b, int n)
{
	static char buf[2][3 * 700 + 8];
	static int k;
	char *s = buf[k++ & 1];
	int i, m = n < 700 ? n : 700;

	for (i = 0; i < m; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[2 * m] = 0;
	if (m < n)
		strcat(s, "...");
	return s;
}

/* ---- the model's parser: a frame as the documented rules see it ---- */

enum { R_TCP, R_NOT_TCP, R_MALFORMED, R_FRAGMENT, R_TOO_SHORT };

/* What decides the verdict of a malformed frame or a fragment (README):
 * its TCP ports when they can be read; none (the kernel checks it); or
 * TCP that xdpct cannot reach within its limits (dropped). */
enum { BY_PORT, BY_KERNEL, BY_HIDDEN };

struct op {
	int res;
	int err;        /* ERR_* stat for R_MALFORMED */
	int by;         /* R_MALFORMED, R_FRAGMENT: BY_* (sport, dport with BY_PORT) */
	bool atomic;    /* IPv6 with an atomic fragment header: an ordinary packet */
	int l3_off, family, l4_off, thl, tcp_len, ip_len;
	const uint8_t *ip, *tcp, *saddr, *daddr;
	uint8_t flags;
	uint16_t sport, dport;
	uint32_t seq, ack;
	bool ect, rsv;
	/* options, walked as Linux does: the last of a kind wins */
	bool opt_ok, sack, ts;
	int mss, ws; /* -1: absent */
	uint32_t tsval, tsecr;
};

static void walk_opts(struct op *o)
{
	const uint8_t *b = o->tcp + 20;
	int n = o->thl - 20, i = 0;

	o->opt_ok = true;
	o->mss = o->ws = -1;
	while (i < n) {
		int kind = b[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n) {
			o->opt_ok = false; /* a kind with no length byte */
			return;
		}
		len = b[i + 1];
		if (len < 2 || i + len > n) {
			o->opt_ok = false; /* zero/one-byte or overlong option */
			return;
		}
		/* known kinds with a wrong length are ignored, as Linux does */
		if (kind == 2 && len == 4)
			o->mss = pg_rd16(b + i + 2);
		else if (kind == 3 && len == 3)
			o->ws = b[i + 2];
		else if (kind == 4 && len == 2)
			o->sack = true;
		else if (kind == 8 && len == 10) {
			o->ts = true;
			o->tsval = pg_rd32(b + i + 2);
			o->tsecr = pg_rd32(b + i + 6);
		}
		i += len;
	}
}

static int bad(struct op *o, int err)
{
	o->err = err;
	o->by = BY_KERNEL;
	return o->res = R_MALFORMED;
}

static int hidden(struct op *o, int res, int err)
{
	o->err = err;
	o->by = BY_HIDDEN;
	return o->res = res;
}

/* The ports of a TCP header with 4 bytes or more in the segment. */
static bool m_ports(const uint8_t *b, int len, int l4, int l4_len, struct op *o)
{
	if (l4_len < 4 || l4 + 4 > len)
		return false;
	o->sport = pg_rd16(b + l4);
	o->dport = pg_rd16(b + l4 + 2);
	o->by = BY_PORT;
	return true;
}

/* A first fragment: its ports, or hidden TCP when it does not carry them. */
static int m_first_frag(const uint8_t *b, int len, int l4, int l4_len, struct op *o)
{
	if (!m_ports(b, len, l4, l4_len, o))
		o->by = BY_HIDDEN;
	return o->res = R_FRAGMENT;
}

static int m_tcp(const uint8_t *b, int len, int l4, int l4_len, struct op *o)
{
	const uint8_t *t = b + l4;

	if (l4_len < 20 || l4 + 20 > len) {
		bad(o, S(ERR_TCP));
		m_ports(b, len, l4, l4_len, o);
		return o->res;
	}
	o->thl = (t[12] >> 4) * 4;
	if (o->thl < 20 || o->thl > l4_len || l4 + o->thl > len) {
		bad(o, S(ERR_TCP));
		m_ports(b, len, l4, l4_len, o);
		return o->res;
	}
	o->l4_off = l4;
	o->tcp = t;
	o->tcp_len = l4_len;
	o->sport = pg_rd16(t);
	o->dport = pg_rd16(t + 2);
	o->seq = pg_rd32(t + 4);
	o->ack = pg_rd32(t + 8);
	o->flags = t[13];
	o->rsv = t[12] & 0x0f;
	walk_opts(o);
	return o->res = R_TCP;
}

static bool v6_ext(int nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44;
}

/* Up to 2 VLAN tags (802.1Q, 802.1ad; a cut tag: the kernel's; a third:
 * hidden); IPv4: ihl >= 5, ihl <= tot_len <= frame, any options; a TCP
 * fragment with an offset has no ports, one at offset 0 with MF carries
 * them or hides them (under 4 bytes of TCP); IPv6: payload_len non-zero
 * and within the frame, at most 6 extension headers (hop-by-hop, routing,
 * destination, AH, fragment) each within payload_len and all within 2047
 * bytes (else hidden); a fragment header with an offset: no ports; at
 * offset 0 with M set the chain goes on to TCP in this first fragment
 * (cut or without the ports: hidden); with M clear (atomic) the packet is
 * whole; TCP: 20 <= doff * 4 <= segment, or malformed with its ports when
 * 4 bytes of it are there. */
static int m_parse(const uint8_t *b, int len, struct op *o)
{
	int off = 14, room, i;
	uint16_t proto;

	memset(o, 0, sizeof(*o));
	o->mss = o->ws = -1;
	if (len < 14)
		return o->res = R_TOO_SHORT; /* BPF_PROG_TEST_RUN refuses it */
	proto = pg_rd16(b + 12);
	for (i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (off + 4 > len)
			return bad(o, S(ERR_VLAN));
		proto = pg_rd16(b + off + 2);
		off += 4;
	}
	if (proto == 0x8100 || proto == 0x88a8)
		return hidden(o, R_MALFORMED, S(ERR_VLAN)); /* a third tag */
	o->l3_off = off;
	o->ip = b + off;
	room = len - off;
	if (proto == 0x0800) {
		const uint8_t *ip = b + off;
		int ihl, tot;

		o->family = 4;
		if (room < 20 || ip[0] >> 4 != 4)
			return bad(o, S(ERR_IPV4));
		ihl = (ip[0] & 15) * 4;
		tot = pg_rd16(ip + 2);
		if (ihl < 20 || tot < ihl || tot > room)
			return bad(o, S(ERR_IPV4));
		o->ip_len = tot;
		o->saddr = ip + 12;
		o->daddr = ip + 16;
		o->ect = ip[1] & 3;
		if (ip[9] != 6)
			return o->res = R_NOT_TCP;
		if (pg_rd16(ip + 6) & 0x1fff) { /* an offset: a later fragment */
			o->by = BY_KERNEL;
			return o->res = R_FRAGMENT;
		}
		if (pg_rd16(ip + 6) & 0x2000) /* MF */
			return m_first_frag(b, len, off + ihl, tot - ihl, o);
		return m_tcp(b, len, off + ihl, tot - ihl, o);
	}
	if (proto == 0x86dd) {
		const uint8_t *ip = b + off;
		int end, x = 40, nh;
		bool first = false; /* behind a first fragment's header */

		o->family = 6;
		if (room < 40 || ip[0] >> 4 != 6)
			return bad(o, S(ERR_IPV6));
		end = 40 + pg_rd16(ip + 4);
		if (end == 40 || end > room)
			return bad(o, S(ERR_IPV6));
		o->ip_len = end;
		o->saddr = ip + 8;
		o->daddr = ip + 24;
		o->ect = (ip[1] >> 4) & 3;
		nh = ip[6];
		for (i = 0; i < MAX_V6_EXT && nh != 6; i++) {
			const uint8_t *h = ip + x;

			if (!v6_ext(nh))
				return o->res = R_NOT_TCP;
			if (x > 0x7ff) /* a documented bound: no header that deep */
				return hidden(o, R_MALFORMED, S(ERR_IPV6_EXT));
			if (x + 8 > end) /* 8 bytes at least, each */
				goto cut;
			if (nh == 44) {
				int fo = pg_rd16(h + 2);

				if (fo >> 3) { /* a later fragment */
					if (h[0] != 6 && !v6_ext(h[0]))
						return o->res = R_NOT_TCP;
					o->by = BY_KERNEL;
					return o->res = R_FRAGMENT;
				}
				if (fo & 1)
					first = true;
				else
					o->atomic = true;
				x += 8;
			} else {
				x += nh == 51 ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
			}
			nh = h[0];
			if (x > end)
				goto cut;
		}
		if (nh != 6) /* a 7th extension header may hide TCP */
			return v6_ext(nh) ? hidden(o, R_MALFORMED, S(ERR_IPV6_EXT)) : (o->res = R_NOT_TCP);
		if (x > 0x7ff)
			return hidden(o, R_MALFORMED, S(ERR_IPV6_EXT));
		if (first)
			return m_first_frag(b, len, off + x, end - x, o);
		return m_tcp(b, len, off + x, end - x, o);
cut: /* a first fragment holds its whole chain */
		if (first)
			return hidden(o, R_FRAGMENT, -1);
		return bad(o, S(ERR_IPV6_EXT));
	}
	return o->res = R_NOT_TCP;
}

/* ---- the cookie, as include/xdpct.h specifies it ---- */

static const uint16_t mss4_tab[XDPCT_MSS_TABLE_LEN] = XDPCT_MSS4_TABLE;
static const uint16_t mss6_tab[XDPCT_MSS_TABLE_LEN] = XDPCT_MSS6_TABLE;

static uint32_t exp_mss_idx(int family, int client_mss)
{
	const uint16_t *t = family == 4 ? mss4_tab : mss6_tab;
	int mss = client_mss > 0 ? client_mss : 536;
	uint32_t idx = 0;

	for (uint32_t i = 1; i < XDPCT_MSS_TABLE_LEN; i++)
		if (mss >= t[i])
			idx = i;
	return idx;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Layouts: with timestamps hash:28 | slot:2 | mss:2, options in TSval; without,
 * hash:28 | slot:2 | mss:2 and no options; without and XDPCT_CFG_NOTS_OPTIONS,
 * hash:23 | sack:1 | wscale:4 | slot:2 | mss:2 (no ECN). The number is the
 * layout field of the hashed data. Runs with an odd seed set NOTS_OPTIONS. */
enum { L_NOTS = 0, L_TS = 1, L_NOTS_OPTS = 2 };

static uint32_t prop_cfg_flags(void)
{
	return CFG_ALL | (seed & 1 ? XDPCT_CFG_NOTS_OPTIONS : 0);
}

static int layout_of(bool ts)
{
	if (ts)
		return L_TS;
	return prop_cfg_flags() & XDPCT_CFG_NOTS_OPTIONS ? L_NOTS_OPTS : L_NOTS;
}

static uint32_t ref_cookie(int family, const uint8_t *saddr, const uint8_t *daddr,
			   uint16_t sport, uint16_t dport, uint32_t isn, uint32_t mss_idx,
			   uint32_t slot, uint32_t opts, int layout)
{
	uint8_t m[48];
	int alen = family == 4 ? 4 : 16, n = 0;
	uint64_t data = mss_idx | slot << 2 | opts << 4 | (uint64_t)layout << 10;
	uint32_t h;

	memcpy(m + n, saddr, alen);
	n += alen;
	memcpy(m + n, daddr, alen);
	n += alen;
	pg_wr16(m + n, sport);
	pg_wr16(m + n + 2, dport);
	put_le(m + n + 4, isn, 4);
	n += 8;
	put_le(m + n, data, 8);
	n += 8;
	h = (uint32_t)sipref_hash_k(key.k0, key.k1, m, n);
	if (layout == L_NOTS_OPTS)
		return (h & ((1u << 23) - 1)) << 9 | (opts & 0x1f) << 4 | slot << 2 | mss_idx;
	return (h & ((1u << 28) - 1)) << 4 | slot << 2 | mss_idx;
}

enum { CK_BAD, CK_STALE, CK_GOOD };

static int cookie_model(const struct op *o, uint32_t now_slot)
{
	uint32_t cookie = o->ack - 1, isn = o->seq - 1, opts, slot;
	int layout = layout_of(o->ts);

	if (!o->opt_ok)
		return CK_BAD;
	opts = layout == L_TS ? (o->tsecr & 0x3f) :
	       layout == L_NOTS_OPTS ? (cookie >> 4) & 0x1f : XDPCT_OPT_WSCALE_NONE;
	slot = (cookie >> 2) & 3;
	if (ref_cookie(o->family, o->saddr, o->daddr, o->sport, o->dport, isn, cookie & 3,
		       slot, opts, layout) != cookie)
		return CK_BAD;
	return ((now_slot - slot) & 3) > 1 ? CK_STALE : CK_GOOD;
}

/* The cookie model under the config's keys: the current one, then the
 * previous one when the config keeps it valid (counted in cookie_prev_key). */
static int cookie_keys(const struct op *o, uint32_t now_slot, bool *prev)
{
	struct xdpct_siphash_key cur = key;
	int v = cookie_model(o, now_slot);

	*prev = false;
	if (v == CK_BAD && (conf.flags & XDPCT_CFG_PREV_KEY)) {
		key = key_prev;
		v = cookie_model(o, now_slot);
		key = cur;
		*prev = v != CK_BAD;
	}
	return v;
}

/* ---- maps ---- */

static uint64_t stats_now[XDPCT_STAT_MAX];

static int stats_read(uint64_t out[XDPCT_STAT_MAX])
{
	static uint32_t keys[XDPCT_STAT_MAX];
	static uint64_t *vals;
	uint32_t count = XDPCT_STAT_MAX, out_batch;
	int err;

	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	if (!vals)
		vals = calloc((size_t)XDPCT_STAT_MAX * ncpu, sizeof(uint64_t));
	if (!vals)
		return -1;
	err = bpf_map_lookup_batch(stats_fd, NULL, &out_batch, keys, vals, &count, &bo);
	if (err && errno != ENOENT)
		return -1;
	if (count != XDPCT_STAT_MAX)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t sum = 0;

		for (int c = 0; c < ncpu; c++)
			sum += vals[(size_t)i * ncpu + c];
		if (keys[i] < XDPCT_STAT_MAX)
			out[keys[i]] = sum;
	}
	return 0;
}

/* Generic keys: family 4/6, remote = source of the frame */
typedef struct xdpct_flow_key gkey;

static void gkey_of(const struct op *o, gkey *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)o->family;
	k->rport = htons(o->sport);
	k->lport = htons(o->dport);
	memcpy(k->raddr, o->saddr, o->family == 4 ? 4 : 16);
	memcpy(k->laddr, o->daddr, o->family == 4 ? 4 : 16);
}

static void k4_of(const gkey *k, struct xdpct_flow4_key *k4)
{
	memset(k4, 0, sizeof(*k4));
	k4->raddr = k->raddr[0];
	k4->laddr = k->laddr[0];
	k4->rport = k->rport;
	k4->lport = k->lport;
}

static void k6_of(const gkey *k, struct xdpct_flow6_key *k6)
{
	memset(k6, 0, sizeof(*k6));
	memcpy(k6->raddr, k->raddr, 16);
	memcpy(k6->laddr, k->laddr, 16);
	k6->rport = k->rport;
	k6->lport = k->lport;
}

static int flow_get(const gkey *k, struct xdpct_flow *f)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		return bpf_map_lookup_elem(flows4_fd, &k4, f);
	}
	k6_of(k, &k6);
	return bpf_map_lookup_elem(flows6_fd, &k6, f);
}

static int flow_set(const gkey *k, const struct xdpct_flow *f)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		if (bpf_map_update_elem(flows4_fd, &k4, f, BPF_ANY))
			return -1;
		xdpct_seen_set4(&seen, &k4);
		return 0;
	}
	k6_of(k, &k6);
	if (bpf_map_update_elem(flows6_fd, &k6, f, BPF_ANY))
		return -1;
	xdpct_seen_set6(&seen, &k6);
	return 0;
}

/* A key's bit in xdpct_seen. */
static uint32_t seen_bit_of(const gkey *k)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		return xdpct_seen_bit4(&k4);
	}
	k6_of(k, &k6);
	return xdpct_seen_bit6(&k6);
}

static void flow_del(const gkey *k)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		bpf_map_delete_elem(flows4_fd, &k4);
	} else {
		k6_of(k, &k6);
		bpf_map_delete_elem(flows6_fd, &k6);
	}
	bpf_map_delete_elem(pending_fd, k);
}

/* All keys of both flow maps (n <= max); -1 if more. */
static int flows_list(gkey *out, int max)
{
	struct xdpct_flow4_key k4, n4;
	struct xdpct_flow6_key k6, n6;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(flows4_fd, prev, &n4)) {
		if (n >= max)
			return -1;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = 4;
		out[n].raddr[0] = n4.raddr;
		out[n].laddr[0] = n4.laddr;
		out[n].rport = n4.rport;
		out[n].lport = n4.lport;
		n++;
		k4 = n4;
		prev = &k4;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(flows6_fd, prev, &n6)) {
		if (n >= max)
			return -1;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = 6;
		memcpy(out[n].raddr, n6.raddr, 16);
		memcpy(out[n].laddr, n6.laddr, 16);
		out[n].rport = n6.rport;
		out[n].lport = n6.lport;
		n++;
		k6 = n6;
		prev = &k6;
	}
	return n;
}

static int pending_list(gkey *out, int max)
{
	gkey k, nk;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(pending_fd, prev, &nk)) {
		if (n >= max)
			return -1;
		out[n++] = nk;
		k = nk;
		prev = &k;
	}
	return n;
}

static void map_clear(int fd)
{
	uint8_t k[64];

	while (!bpf_map_get_next_key(fd, NULL, k))
		if (bpf_map_delete_elem(fd, k))
			break;
}

/* ---- live flows: the keys the maps must hold ---- */

struct live {
	gkey k;
	bool pending;       /* has a pending-map entry (a cookie flow) */
	struct pg_spec s;   /* a frame of the flow, remote -> local */
	uint32_t rseq, lseq; /* the remote's next seq, the local's */
};

static struct live lives[MAX_LIVE + 1];
static int n_live;

static int live_find(const gkey *k)
{
	for (int i = 0; i < n_live; i++)
		if (!memcmp(&lives[i].k, k, sizeof(*k)))
			return i;
	return -1;
}

static void live_drop(int i)
{
	flow_del(&lives[i].k);
	lives[i] = lives[--n_live];
}

static void lives_clear(void)
{
	while (n_live)
		live_drop(0);
	map_clear(flows4_fd);
	map_clear(flows6_fd);
	map_clear(pending_fd);
}

/* spec: a frame of the flow to build more from; NULL: one from q alone */
static void live_add(const gkey *k, bool pending, const struct pg_spec *spec,
		     const struct op *q, uint32_t rseq, uint32_t lseq)
{
	struct live *l;

	if (n_live >= MAX_LIVE)
		live_drop((int)rn2(n_live));
	l = &lives[n_live++];
	memset(l, 0, sizeof(*l));
	l->k = *k;
	l->pending = pending;
	if (spec) {
		l->s = *spec;
	} else {
		memcpy(l->s.dmac, SRV_MAC, 6);
		memcpy(l->s.smac, CLI_MAC, 6);
		l->s.family = q->family;
		memcpy(l->s.saddr, q->saddr, q->family == 4 ? 4 : 16);
		memcpy(l->s.daddr, q->daddr, q->family == 4 ? 4 : 16);
		l->s.sport = q->sport;
		l->s.dport = q->dport;
		l->s.frag_off = 0x4000;
	}
	l->s.payload = NULL;
	l->s.payload_len = 0;
	l->rseq = rseq;
	l->lseq = lseq;
}

/* ---- frames ---- */

static uint8_t junk[4096];

static void rand_saddr(struct pg_spec *s)
{
	if (s->family == 4) {
		s->saddr[0] = 10;
		s->saddr[1] = (uint8_t)(1 + rn(250));
		s->saddr[2] = (uint8_t)rn(256);
		s->saddr[3] = (uint8_t)(1 + rn(254));
		memcpy(s->daddr, SRV4, 4);
	} else {
		static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0 };
		uint64_t lo = r64();

		memcpy(s->saddr, pfx, 8);
		memcpy(s->saddr + 8, &lo, 8);
		memcpy(s->daddr, SRV6, 16);
	}
	if (chance(5)) { /* another local address */
		s->daddr[s->family == 4 ? 3 : 15] = (uint8_t)rn(256);
	}
}

static uint16_t rand_sport(void)
{
	if (chance(2))
		return P_OBS;
	if (chance(2))
		return P_PROT;
	return (uint16_t)(1024 + rn(64512));
}

/* Options in the order Linux writes them. ws -1: none. */
static void linux_opts(struct pg_tcpopts *o, int mss, bool sack, bool ts, uint32_t tsval,
		       uint32_t tsecr, int ws)
{
	memset(o, 0, sizeof(*o));
	if (mss >= 0)
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

static int rand_mss(void)
{
	static const int m[] = { -1, 0, 1, 535, 536, 1200, 1220, 1280, 1300, 1360, 1400,
				 1420, 1440, 1460, 8940, 8960, 9000, 65535 };

	if (chance(20))
		return (int)rn(65536);
	return m[rn(sizeof(m) / sizeof(m[0]))];
}

static int rand_ws(void)
{
	if (chance(25))
		return -1;
	if (chance(15))
		return (int)(15 + rn(241)); /* above 14: clamped */
	return (int)rn(15);
}

/* Valid options of a SYN or ACK, Linux's layout or shuffled. */
static void valid_opts(struct pg_tcpopts *o, bool syn)
{
	if (!syn) {
		memset(o, 0, sizeof(*o));
		if (chance(50)) {
			pgo_nop(o);
			pgo_nop(o);
			pgo_ts(o, (uint32_t)r64(), (uint32_t)r64());
		}
		return;
	}
	if (chance(75)) {
		linux_opts(o, rand_mss(), chance(60), chance(60), (uint32_t)r64(),
			   chance(80) ? 0 : (uint32_t)r64(), rand_ws());
		return;
	}
	/* any order, unknown kinds, NOPs, an EOL with junk after it */
	memset(o, 0, sizeof(*o));
	for (int n = (int)rn(6); n >= 0; n--) {
		int room = 40 - o->len;

		switch (rn(8)) {
		case 0: if (room >= 4) pgo_mss(o, (uint16_t)rand_mss()); break;
		case 1: if (room >= 3) pgo_ws(o, (uint8_t)rn(20)); break;
		case 2: if (room >= 2) pgo_sack_perm(o); break;
		case 3: if (room >= 10) pgo_ts(o, (uint32_t)r64(), (uint32_t)r64()); break;
		case 4: if (room >= 1) pgo_nop(o); break;
		case 5: { /* an unknown kind, or a known one with a wrong length */
			static const uint8_t kinds[] = { 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 254 };
			uint8_t k = kinds[rn(sizeof(kinds))];
			int l = 2 + (int)rn(8);

			if (room >= l) {
				uint8_t b[10] = { k, (uint8_t)l };

				for (int i = 2; i < l; i++)
					b[i] = (uint8_t)r64();
				pgo_bytes(o, b, l);
			}
			break;
		}
		case 6: /* SACK blocks */
			if (room >= 10) {
				uint8_t b[10] = { 5, 10 };

				for (int i = 2; i < 10; i++)
					b[i] = (uint8_t)r64();
				pgo_bytes(o, b, 10);
			}
			break;
		default:
			if (room >= 4 && chance(30)) { /* EOL, then anything */
				uint8_t b[3] = { (uint8_t)r64(), (uint8_t)r64(), (uint8_t)r64() };

				pgo_eol(o);
				pgo_bytes(o, b, 3);
				n = 0;
			}
			break;
		}
	}
}

/* Broken options: truncated, zero-length, one-byte, overlong, a kind with
 * no length byte, random bytes. Exactly the bytes given: a multiple of 4. */
static void broken_opts(struct pg_tcpopts *o)
{
	int kind = (int)rn(7), pre = 0, total;
	static const uint8_t kinds[] = { 2, 3, 4, 5, 8, 30, 254 };
	uint8_t k = kinds[rn(sizeof(kinds))];

	memset(o, 0, sizeof(*o));
	if (kind == 6) { /* random bytes */
		o->len = 4 * (int)(1 + rn(10));
		for (int i = 0; i < o->len; i++)
			o->b[i] = (uint8_t)r64();
		return;
	}
	/* some valid options first (NOPs keep the alignment simple) */
	if (chance(50)) {
		pgo_mss(o, 1460);
		pre = 4;
	}
	for (int i = (int)rn(4); i > 0; i--, pre++)
		pgo_nop(o);
	switch (kind) {
	case 0: /* truncated: its length runs past the header */
	case 4: /* overlong */
		total = (pre + 2 + (int)rn(6) + 3) & ~3;
		if (total > 40)
			total = 40;
		opt_fill:
		o->b[pre] = k;
		o->b[pre + 1] = (uint8_t)(total - pre + 1 + (kind == 4 ? rn(200) : rn(3)));
		for (int i = pre + 2; i < total; i++)
			o->b[i] = (uint8_t)r64();
		o->len = total;
		return;
	case 1: /* zero length */
	case 2: /* length 1 */
		total = (pre + 2 + (int)rn(6) + 3) & ~3;
		if (total > 40)
			total = 40;
		o->b[pre] = k;
		o->b[pre + 1] = kind == 1 ? 0 : 1;
		for (int i = pre + 2; i < total; i++)
			o->b[i] = 1;
		o->len = total;
		return;
	case 3: /* the last byte is a kind without its length */
		total = (pre + 1 + 3) & ~3;
		for (int i = pre; i < total - 1; i++)
			o->b[i] = 1;
		o->b[total - 1] = k;
		o->len = total;
		return;
	default: /* 5: overlong, larger */
		total = (pre + 4 + 3) & ~3;
		goto opt_fill;
	}
}

static void valid_layers(struct pg_spec *s, int family)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, SRV_MAC, 6);
	memcpy(s->smac, CLI_MAC, 6);
	s->family = family;
	s->nvlan = chance(75) ? 0 : (int)(1 + rn(2));
	for (int i = 0; i < s->nvlan; i++) {
		s->vlan[i].tpid = chance(50) ? 0x8100 : 0x88a8;
		s->vlan[i].tci = (uint16_t)rn(65536);
	}
	rand_saddr(s);
	s->ttl = (uint8_t)(1 + rn(255));
	s->tos = chance(80) ? 0 : (uint8_t)rn(256);
	if (family == 4) {
		s->frag_off = chance(85) ? 0x4000 : 0;
		s->ip_id = (uint16_t)rn(65536);
		if (chance(20)) {
			s->ip_optlen = 4 * (int)(1 + rn(10));
			memset(s->ip_opts, 1, sizeof(s->ip_opts));
			if (s->ip_optlen >= 8 && chance(50)) {
				s->ip_opts[0] = 0x94; /* router alert */
				s->ip_opts[1] = 4;
				s->ip_opts[2] = s->ip_opts[3] = 0;
			}
			if (chance(50))
				s->ip_opts[s->ip_optlen - 1] = 0;
		}
	} else if (chance(20)) {
		static const uint8_t types[] = { PG_EXT_HOP, PG_EXT_ROUTING, PG_EXT_DEST,
						 PG_EXT_AH };

		s->n_ext = (int)(1 + rn(MAX_V6_EXT));
		for (int i = 0; i < s->n_ext; i++) {
			s->ext[i].type = types[rn(4)];
			s->ext[i].len = s->ext[i].type == PG_EXT_AH ? (uint16_t)(4 * (2 + rn(6)))
								    : (uint16_t)(8 * (1 + rn(4)));
		}
	}
	s->sport = rand_sport();
	s->seq = (uint32_t)r64();
	s->win = (uint16_t)rn(65536);
}

static void rand_payload(struct pg_spec *s, int max)
{
	s->payload_len = (int)rn((uint32_t)max + 1);
	s->payload = junk + rn(sizeof(junk) - (uint32_t)max);
}

static int build(const struct pg_spec *s, uint8_t *buf, struct pg_layout *lay)
{
	return pg_build(s, buf, MAX_FRAME, lay);
}

/* A well-formed SYN (or ACK) to dport, as a Linux client sends it. */
static void valid_syn(struct pg_spec *s, uint16_t dport)
{
	valid_layers(s, chance(50) ? 4 : 6);
	s->dport = dport;
	s->flags = F_SYN;
	if (chance(20))
		s->flags |= F_ECE | F_CWR;
	if (chance(5))
		s->flags |= (uint8_t)(rn(4) << 6 | (chance(50) ? F_PSH : 0) | (chance(30) ? F_URG : 0));
	valid_opts(&s->opts, true);
	if (chance(10))
		rand_payload(s, 100);
}

static void valid_ack(struct pg_spec *s, uint16_t dport)
{
	valid_layers(s, chance(50) ? 4 : 6);
	s->dport = dport;
	s->flags = F_ACK;
	s->ack = (uint32_t)r64();
	if (chance(30))
		s->flags |= F_PSH;
	if (chance(10))
		s->flags |= F_FIN;
	valid_opts(&s->opts, false);
	if (chance(40))
		rand_payload(s, 300);
}

static uint8_t rand_flags(void)
{
	static const uint8_t common[] = {
		F_SYN, F_SYN | F_ECE | F_CWR, F_ACK, F_ACK | F_PSH, F_FIN | F_ACK, F_RST,
		F_RST | F_ACK, F_SYN | F_ACK, F_SYN | F_RST, F_SYN | F_FIN, F_FIN, 0,
	};

	if (chance(40))
		return (uint8_t)rn(256); /* every combination */
	return common[rn(sizeof(common))];
}

static uint16_t rand_dport(void)
{
	switch (rn(6)) {
	case 0: case 1: return P_PROT;
	case 2: return P_OBS;
	case 3: return 81;
	case 4: return (uint16_t)rn(65536);
	default: return chance(50) ? 443 : 22;
	}
}

/* Anything: every layer's fields random within reason, then its length
 * fields broken or not. */
static int wild_frame(uint8_t *b)
{
	struct pg_spec s;
	struct pg_layout L;
	int n;

	valid_layers(&s, chance(50) ? 4 : 6);
	if (chance(25)) {
		s.nvlan = (int)rn(4);
		for (int i = 0; i < s.nvlan; i++)
			s.vlan[i].tpid = chance(45) ? 0x8100 : chance(80) ? 0x88a8 : 0x9100;
	}
	if (chance(5))
		s.ethertype = chance(50) ? 0x0806 : (uint16_t)rn(65536);
	else if (chance(3))
		s.ethertype = s.family == 4 ? 0x86dd : 0x0800; /* the other family's */
	if (chance(8)) {
		static const uint8_t pr[] = { 1, 17, 41, 58, 59, 132, 255 };

		s.proto = pr[rn(sizeof(pr))];
		rand_payload(&s, 64);
	}
	if (s.family == 4 && chance(15))
		s.frag_off = (uint16_t)(chance(50) ? 0x2000 : 0) | (uint16_t)rn(8192) |
			     (uint16_t)(chance(50) ? 0x4000 : 0);
	if (s.family == 6 && chance(30)) {
		static const uint8_t types[] = { PG_EXT_HOP, PG_EXT_ROUTING, PG_EXT_DEST,
						 PG_EXT_AH, PG_EXT_FRAG };

		s.n_ext = (int)rn(10);
		for (int i = 0; i < s.n_ext; i++) {
			s.ext[i].type = types[rn(5)];
			s.ext[i].len = s.ext[i].type == PG_EXT_AH ? (uint16_t)(4 * (2 + rn(6)))
								  : (uint16_t)(8 * (1 + rn(4)));
			s.ext[i].frag = chance(50) ? 0 : (uint16_t)rn(65536);
		}
	}
	s.sport = rand_sport();
	s.dport = rand_dport();
	s.seq = (uint32_t)r64();
	s.ack = (uint32_t)r64();
	s.flags = rand_flags();
	if (chance(25))
		broken_opts(&s.opts);
	else
		valid_opts(&s.opts, chance(50));
	if (!s.proto && chance(30))
		rand_payload(&s, 200);
	n = build(&s, b, &L);
	if (n < 0)
		return -1;
	if (chance(10) && n + 64 <= MAX_FRAME) { /* Ethernet padding: fine */
		int pad = (int)rn(64);

		memset(b + n, 0, pad);
		n += pad;
	}
	/* break a length field */
	switch (chance(40) ? rn(6) : 99) {
	case 0: /* ihl / version nibble */
		b[L.l3_off] = (uint8_t)(chance(70) ? (b[L.l3_off] & 0xf0) | rn(16) : rn(256));
		break;
	case 1: /* IPv4 tot_len / IPv6 payload_len */
		if (s.family == 4) {
			int tot = pg_rd16(b + L.l3_off + 2);

			pg_wr16(b + L.l3_off + 2, (uint16_t)(chance(50) ? (int)rn(65536) : tot + (int)rn(41) - 20));
		} else {
			int pl = pg_rd16(b + L.l3_off + 4);

			pg_wr16(b + L.l3_off + 4, (uint16_t)(chance(20) ? 0 : chance(50) ? (int)rn(65536) : pl + (int)rn(41) - 20));
		}
		break;
	case 2: /* doff */
		if (!s.proto)
			b[L.l4_off + 12] = (uint8_t)(rn(16) << 4 | (b[L.l4_off + 12] & 0x0f));
		break;
	case 3: /* TCP reserved bits */
		if (!s.proto)
			b[L.l4_off + 12] ^= (uint8_t)(1 + rn(15));
		break;
	case 4: /* an extension header's length */
		if (s.family == 6 && s.n_ext)
			b[L.l3_off + 40 + 1] = (uint8_t)rn(256);
		break;
	default: /* 5: cut */
		n = 14 + (int)rn((uint32_t)n - 13);
		break;
	}
	return n;
}

/* Mutations of a valid frame: bit flips (mostly in the headers), a cut,
 * inserted or deleted bytes, a byte set to an edge value. */
static int mutate(uint8_t *b, int n, int hdr_len)
{
	int k = 1 + (int)rn(chance(70) ? 2 : 6);

	while (k-- > 0 && n > 0) {
		int pos = (int)rn(chance(80) && hdr_len > 0 ? (uint32_t)hdr_len : (uint32_t)n);

		if (pos >= n)
			pos = n - 1;
		switch (rn(10)) {
		case 0: case 1: case 2: case 3:
			b[pos] ^= (uint8_t)(1u << rn(8));
			break;
		case 4: /* cut */
			n = chance(90) ? 14 + (int)rn((uint32_t)(n > 14 ? n - 13 : 1)) : (int)rn(14);
			break;
		case 5: { /* insert */
			int m = 1 + (int)rn(chance(70) ? 4 : 16);

			if (n + m > MAX_FRAME)
				break;
			memmove(b + pos + m, b + pos, n - pos);
			for (int i = 0; i < m; i++)
				b[pos + i] = (uint8_t)r64();
			n += m;
			break;
		}
		case 6: { /* delete */
			int m = 1 + (int)rn(4);

			if (pos + m > n)
				m = n - pos;
			memmove(b + pos, b + pos + m, n - pos - m);
			n -= m;
			break;
		}
		case 7: {
			static const uint8_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x45, 0x60, 6, 44, 0x81 };

			b[pos] = v[rn(sizeof(v))];
			break;
		}
		default:
			b[pos] = (uint8_t)r64();
			break;
		}
	}
	return n;
}

/* ---- SYN-ACKs we got, for cookie ACKs ---- */

struct synrec {
	struct pg_spec s; /* the SYN */
	uint32_t cookie, tsval;
	bool ts;
};

#define NREC 32
static struct synrec recs[NREC];
static int n_rec, rec_next;

static void rec_add(const struct pg_spec *syn, uint32_t cookie, bool ts, uint32_t tsval)
{
	struct synrec *r = &recs[rec_next];

	rec_next = (rec_next + 1) % NREC;
	if (n_rec < NREC)
		n_rec++;
	r->s = *syn;
	r->s.payload = NULL;
	r->s.payload_len = 0;
	r->cookie = cookie;
	r->ts = ts;
	r->tsval = tsval;
}

/* The client's ACK of a recorded SYN-ACK. */
static void cookie_ack(const struct synrec *r, struct pg_spec *a)
{
	*a = r->s;
	a->flags = F_ACK | (chance(20) ? F_PSH : 0);
	a->seq = r->s.seq + 1;
	a->ack = r->cookie + 1;
	a->win = (uint16_t)rn(65536);
	memset(&a->opts, 0, sizeof(a->opts));
	if (r->ts) {
		pgo_nop(&a->opts);
		pgo_nop(&a->opts);
		pgo_ts(&a->opts, (uint32_t)r64(), r->tsval);
	}
	if (a->flags & F_PSH)
		rand_payload(a, 200);
}

/* A cookie made here with the reference hash: valid, or from a slot two
 * or three periods back (stale). */
static void forged_ack(struct pg_spec *a, bool stale)
{
	uint32_t mss_idx = rn(4), opts, slot, isn;
	bool ts = chance(50);
	uint32_t tsval = (uint32_t)r64();
	int layout = layout_of(ts);

	valid_ack(a, P_PROT);
	a->flags = F_ACK;
	a->payload = NULL;
	a->payload_len = 0;
	opts = (chance(20) ? XDPCT_OPT_WSCALE_NONE : rn(15)) | (chance(50) ? XDPCT_OPT_SACK : 0) |
	       (chance(20) ? XDPCT_OPT_ECN : 0);
	if (layout == L_NOTS_OPTS)
		opts &= ~(uint32_t)XDPCT_OPT_ECN;
	else if (layout == L_NOTS)
		opts = XDPCT_OPT_WSCALE_NONE;
	slot = (slot_of(mono_ns()) + (stale ? 2 + rn(2) : 0)) & 3;
	isn = (uint32_t)r64();
	a->seq = isn + 1;
	a->ack = ref_cookie(a->family, a->saddr, a->daddr, a->sport, a->dport, isn, mss_idx,
			    slot, opts, layout) + 1;
	memset(&a->opts, 0, sizeof(a->opts));
	if (ts) {
		pgo_nop(&a->opts);
		pgo_nop(&a->opts);
		pgo_ts(&a->opts, tsval, (uint32_t)(r64() & ~0x3fULL) | opts);
	}
}

/* A frame of a live flow, remote -> local: near its sequence numbers or not. */
static void flow_frame(const struct live *l, struct pg_spec *s)
{
	static const uint8_t fl[] = { F_ACK, F_ACK | F_PSH, F_FIN | F_ACK, F_RST, F_RST | F_ACK,
				      F_SYN, F_SYN | F_ACK, F_ACK, F_ACK | F_PSH, F_FIN };

	*s = l->s;
	s->flags = chance(15) ? (uint8_t)rn(256) : fl[rn(sizeof(fl))];
	s->seq = chance(70) ? l->rseq + rn(3000) - 1000 : (uint32_t)r64();
	s->ack = chance(70) ? l->lseq + rn(3000) - 1000 : (uint32_t)r64();
	s->win = (uint16_t)rn(65536);
	if (s->flags & F_SYN)
		valid_opts(&s->opts, true);
	else
		valid_opts(&s->opts, false);
	if (chance(30))
		rand_payload(s, 300);
}

/* An entry written by the test: any state, plausible sides. */
static void test_flow(struct pg_spec *s, struct xdpct_flow *f)
{
	uint16_t dport = chance(60) ? P_PROT : chance(60) ? P_OBS : (uint16_t)(1024 + rn(60000));

	valid_ack(s, dport);
	if (!is_prot(dport) && !is_obs(dport))
		s->sport = P_OBS; /* an observed remote port */
	memset(f, 0, sizeof(*f));
	f->state = (enum xdpct_ct_state)(1 + rn(XDPCT_CT_MAX - 1));
	f->flags = XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL |
		   (chance(50) ? XDPCT_FLOW_REMOTE_OPENED : 0) | (chance(20) ? XDPCT_FLOW_ADOPTED : 0);
	f->dir[XDPCT_REMOTE].end = s->seq;
	f->dir[XDPCT_REMOTE].maxack = s->ack;
	f->dir[XDPCT_REMOTE].win = (uint16_t)rn(65536);
	f->dir[XDPCT_REMOTE].wscale = (uint8_t)(chance(20) ? 0xf : rn(15));
	f->dir[XDPCT_REMOTE].flags = F_ACK | F_SYN;
	f->dir[XDPCT_LOCAL].end = s->ack;
	f->dir[XDPCT_LOCAL].maxack = s->seq;
	f->dir[XDPCT_LOCAL].win = (uint16_t)rn(65536);
	f->dir[XDPCT_LOCAL].wscale = (uint8_t)(chance(20) ? 0xf : rn(15));
	f->dir[XDPCT_LOCAL].flags = F_ACK | F_SYN;
	f->packets[0] = f->packets[1] = 1;
}

/* ---- one frame: run it, check every property ---- */

enum {
	P_ONE_VERDICT, /* one V_* counter, xdp_packets +1 */
	P_MODEL,       /* the verdict and its detail counters are the model's */
	P_TX_ONLY,     /* XDP_TX only for a well-formed SYN to a protected port */
	P_SYNACK,      /* the reply is a correct SYN-ACK */
	P_NO_ENTRY,    /* no flow entry but from a cookie ACK / observed SYN */
	P_ENTRY,       /* those do create theirs */
	P_UNTOUCHED,   /* passed frames unchanged, metadata only where due */
	P_SEEN,        /* entries have their xdpct_seen bit; no lookup iff clear */
	P_MAX,
};
static const char *const p_name[P_MAX] = {
	"one_verdict_counter_per_packet", "verdict_matches_model",
	"tx_only_for_wellformed_syn_to_protected_port", "synack_wellformed",
	"flow_entries_only_from_cookie_ack_or_observed_syn",
	"cookie_ack_and_observed_syn_create_entries", "passed_frames_untouched",
	"seen_bit_of_every_entry_and_syn_no_lookup_iff_clear",
};
static long p_fail[P_MAX];
static char p_first[P_MAX][900];
static int n_reports;
static long n_runs, n_refused, n_tx, n_cookie_good;
static long v_seen[XDPCT_STAT_MAX];
static long kind_seen[16], kind_made[16]; /* per generator: tries, frames run */
static int cur_kind;
static long m_cls[2][3][2]; /* model: [fragment][BY_*][dropped] */
static long n_atomic;        /* well-formed TCP behind an atomic fragment header */

struct run {
	const char *kind;
	long idx;
	const uint8_t *in;
	int in_len;
	uint8_t out[OUT_CAP];
	int out_len, meta_len, err;
	uint32_t verdict;
	int64_t d[XDPCT_STAT_MAX];
	int vstat; /* the V_* counter that moved, -1 */
};

static void report(int prop, const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(int prop, const struct run *r, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!p_fail[prop]++)
		snprintf(p_first[prop], sizeof(p_first[prop]), "seed %llu index %ld (%s): %s",
			 seed, r->idx, r->kind, msg);
	if (n_reports++ < 12) {
		ck_note("case seed=%llu index=%ld kind=%s property=%s: %s", seed, r->idx, r->kind,
			p_name[prop], msg);
		ck_note("  in  (%d): %s", r->in_len, hexs(r->in, r->in_len));
		if (r->out_len > 0)
			ck_note("  out (%d, meta %d): %s", r->out_len, r->meta_len,
				hexs(r->out, r->out_len));
	}
}

static const char *vname(uint32_t v)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v < 5 ? n[v] : "?";
}

static uint32_t verdict_of_stat(int id)
{
	const char *s = stat_id[id];

	if (!strncmp(s, "V_PASS", 6))
		return XDP_PASS;
	if (!strncmp(s, "V_TX", 4))
		return XDP_TX;
	return XDP_DROP;
}

static bool is_v(int id)
{
	return !strncmp(stat_id[id], "V_", 2);
}

static bool is_err(int id)
{
	return !strncmp(stat_id[id], "ERR_", 4);
}

static const char *moved(const struct run *r)
{
	static char buf[500];
	int n = 0;

	buf[0] = 0;
	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		if (r->d[i] && n < (int)sizeof(buf) - 60)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s%+lld", n ? "," : "",
				      stat_name[i], (long long)r->d[i]);
	return n ? buf : "none";
}

static void run_frame(struct run *r)
{
	uint64_t after[XDPCT_STAT_MAX];
	struct xdp_md ctx_in = { .data = 0, .data_end = (uint32_t)r->in_len }, ctx_out = {};
	int nv = 0;

	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = r->in,
		    .data_size_in = (uint32_t)r->in_len,
		    .data_out = r->out,
		    .data_size_out = sizeof(r->out),
		    .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out),
		    .repeat = 1);

	r->err = bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
	n_runs++;
	n_refused += r->err != 0;
	if (stats_read(after)) {
		fprintf(stderr, "test_prop: cannot read the stats map: %s\n", strerror(errno));
		exit(2);
	}
	r->verdict = o.retval;
	r->out_len = r->err ? 0 : (int)o.data_size_out;
	r->meta_len = r->err ? 0 : (int)ctx_out.data;
	r->vstat = -1;
	for (int i = 0; i < XDPCT_STAT_MAX; i++) {
		r->d[i] = (int64_t)(after[i] - stats_now[i]);
		stats_now[i] = after[i];
		if (is_v(i) && r->d[i]) {
			nv += (int)r->d[i];
			r->vstat = i;
		}
	}
	if (r->vstat >= 0)
		v_seen[r->vstat]++;
	if (r->err) {
		if (nv || r->d[S(XDP_PACKETS)])
			report(P_ONE_VERDICT, r, "test_run failed (%s) but counters moved: %s",
			       strerror(-r->err), moved(r));
	} else if (nv != 1 || r->d[S(XDP_PACKETS)] != 1) {
		report(P_ONE_VERDICT, r, "verdict counters moved %d, xdp_packets %+lld (%s)", nv,
		       (long long)r->d[S(XDP_PACKETS)], moved(r));
	} else if (r->verdict != verdict_of_stat(r->vstat)) {
		report(P_ONE_VERDICT, r, "verdict %s but counter %s", vname(r->verdict),
		       stat_name[r->vstat]);
	}
	if (verbose_run)
		fprintf(stderr, "%ld %s len %d -> %s %s\n", r->idx, r->kind, r->in_len,
			r->err ? strerror(-r->err) : vname(r->verdict),
			r->vstat >= 0 ? stat_name[r->vstat] : "-");
}

/* The reply to a SYN: its layers, checksums, and the cookie. */
static void check_synack(struct run *r, const struct op *q, uint64_t t0, uint64_t t1,
			 uint32_t *cookie, uint32_t *tsval)
{
	const uint8_t *f = r->out + r->meta_len;
	int n = r->out_len - r->meta_len, fam = q->family, iphl = fam == 4 ? 20 : 40;
	bool has_ts = q->ts && (conf.flags & XDPCT_CFG_TIMESTAMPS);
	bool has_sack = q->sack && (conf.flags & XDPCT_CFG_SACK);
	bool has_ws = q->ws >= 0 && (conf.flags & XDPCT_CFG_WSCALE), ecn;
	uint32_t opts, mss_idx, slot, want;
	int optlen, ws = q->ws > 14 ? 14 : q->ws, layout = layout_of(q->ts);
	uint8_t wopt[40];
	int wl = 0;
	struct op a;

	ecn = (q->flags & (F_ECE | F_CWR)) == (F_ECE | F_CWR) && !q->rsv && !q->ect &&
	      (conf.flags & XDPCT_CFG_ECN);
	if (layout != L_TS) /* no ECN without timestamps, options only if opted in */
		ecn = false;
	if (layout == L_NOTS)
		has_sack = has_ws = false;
	opts = (has_ws ? (uint32_t)ws : XDPCT_OPT_WSCALE_NONE) |
	       (has_sack ? XDPCT_OPT_SACK : 0) | (ecn ? XDPCT_OPT_ECN : 0);
	mss_idx = exp_mss_idx(fam, q->mss);
	optlen = 4 + (has_ts ? 12 : has_sack ? 4 : 0) + (has_ws ? 4 : 0);

	if (r->meta_len) {
		report(P_SYNACK, r, "metadata of %d bytes on a SYN-ACK", r->meta_len);
		return;
	}
	if (m_parse(f, n, &a) != R_TCP || !a.opt_ok) {
		report(P_SYNACK, r, "reply does not parse as TCP (result %d)", a.res);
		return;
	}
	if (n != q->l3_off + iphl + 20 + optlen)
		report(P_SYNACK, r, "length %d, want %d", n, q->l3_off + iphl + 20 + optlen);
	if (memcmp(f, r->in + 6, 6) || memcmp(f + 6, r->in, 6))
		report(P_SYNACK, r, "MACs not swapped");
	if (a.l3_off != q->l3_off || memcmp(f + 12, r->in + 12, q->l3_off - 12))
		report(P_SYNACK, r, "VLAN tags / ethertype changed");
	if (fam == 4) {
		const uint8_t *ip = a.ip;

		if (a.family != 4 || ip[0] != 0x45 || pg_rd16(ip + 2) != 40 + optlen ||
		    pg_rd16(ip + 6) != 0x4000 || ip[8] != TTL || ip[9] != 6)
			report(P_SYNACK, r, "IPv4 header %s", hexs(ip, 20));
		if (!pg_ipv4_csum_ok(ip, 20))
			report(P_SYNACK, r, "IPv4 header checksum 0x%04x, want 0x%04x",
			       pg_rd16(ip + 10), pg_ipv4_csum(ip, 20));
	} else {
		const uint8_t *ip = a.ip;

		if (a.family != 6 || ip[0] >> 4 != 6 || pg_rd16(ip + 4) != 20 + optlen ||
		    ip[6] != 6 || ip[7] != TTL)
			report(P_SYNACK, r, "IPv6 header %s", hexs(ip, 40));
	}
	if (a.family != fam)
		return;
	if (memcmp(a.saddr, q->daddr, fam == 4 ? 4 : 16) ||
	    memcmp(a.daddr, q->saddr, fam == 4 ? 4 : 16))
		report(P_SYNACK, r, "addresses not swapped");
	if (a.sport != q->dport || a.dport != q->sport)
		report(P_SYNACK, r, "ports %u->%u, want %u->%u", a.sport, a.dport, q->dport,
		       q->sport);
	if (a.ack != q->seq + 1)
		report(P_SYNACK, r, "ack %u, want seq + 1 = %u", a.ack, q->seq + 1);
	if (a.flags != (F_SYN | F_ACK | (ecn ? F_ECE : 0)))
		report(P_SYNACK, r, "flags 0x%02x, want 0x%02x", a.flags,
		       F_SYN | F_ACK | (ecn ? F_ECE : 0));
	if (a.thl != 20 + optlen || a.tcp_len != 20 + optlen)
		report(P_SYNACK, r, "TCP header %d / segment %d bytes, want %d", a.thl, a.tcp_len,
		       20 + optlen);
	if (!pg_tcp_csum_ok(fam, a.saddr, a.daddr, a.tcp, a.tcp_len))
		report(P_SYNACK, r, "TCP checksum 0x%04x, want 0x%04x", pg_rd16(a.tcp + 16),
		       pg_tcp_csum(fam, a.saddr, a.daddr, a.tcp, a.tcp_len));
	if (!pg_rd16(a.tcp + 14) || pg_rd16(a.tcp + 18))
		report(P_SYNACK, r, "window %u urg %u", pg_rd16(a.tcp + 14), pg_rd16(a.tcp + 18));

	/* options, byte for byte (our TSval taken as sent) */
	*tsval = a.ts ? a.tsval : 0;
	pg_wr32(wopt, 0x02040000u | (fam == 4 ? MSS4 : MSS6));
	wl = 4;
	if (has_ts) {
		pg_wr32(wopt + wl, has_sack ? 0x0402080a : 0x0101080a);
		pg_wr32(wopt + wl + 4, *tsval);
		pg_wr32(wopt + wl + 8, q->tsval);
		wl += 12;
	} else if (has_sack) {
		pg_wr32(wopt + wl, 0x01010402);
		wl += 4;
	}
	if (has_ws) {
		pg_wr32(wopt + wl, 0x01030300u | WSCALE);
		wl += 4;
	}
	if (a.thl - 20 != wl || memcmp(a.tcp + 20, wopt, wl)) {
		report(P_SYNACK, r, "options %s, want %s", hexs(a.tcp + 20, a.thl - 20),
		       hexs(wopt, wl));
		return;
	}
	if (has_ts) {
		uint32_t ms = (uint32_t)(mono_ns() / 1000000);

		if ((*tsval & 0x3f) != opts || ms - *tsval > 100000)
			report(P_SYNACK, r, "TSval %u: low bits 0x%02x want 0x%02x, clock %u ms",
			       *tsval, *tsval & 0x3f, opts, ms);
	}
	/* the ISN is the reference cookie, from a slot of the run's time */
	*cookie = a.seq;
	slot = (a.seq >> 2) & 3;
	if (slot != slot_of(t0) && slot != slot_of(t1))
		report(P_SYNACK, r, "cookie slot %u, clock %u..%u", slot, slot_of(t0), slot_of(t1));
	want = ref_cookie(fam, q->saddr, q->daddr, q->sport, q->dport, q->seq, mss_idx, slot,
			  opts, layout);
	if (a.seq != want)
		report(P_SYNACK, r, "ISN 0x%08x, reference cookie 0x%08x (mss idx %u opts 0x%02x layout %d)",
		       a.seq, want, mss_idx, opts, layout);
}

static bool key_in(const gkey *set, int n, const gkey *k)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(&set[i], k, sizeof(*k)))
			return true;
	return false;
}

static const char *gkey_str(const gkey *k)
{
	static char buf[2][120];
	static int i;
	char *s = buf[i++ & 1], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->raddr, a, sizeof(a));
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->laddr, b, sizeof(b));
	snprintf(s, 120, "%s.%u>%s.%u", a, ntohs(k->rport), b, ntohs(k->lport));
	return s;
}

#define VM(x) (1ULL << S(x))

/* The model's expectation for one frame, and all the checks. spec: what
 * the frame was built from when it was not mutated (NULL otherwise). */
static struct run *last_run;

static void one(const char *kind, const uint8_t *in, int len, const struct pg_spec *spec)
{
	static struct run r;
	struct op q;
	struct xdpct_flow f;
	bool have_f = false, prot = false, obs = false, tx_ok = false, f_pending = false;
	bool f_closed = false, nl_want = false, prev_want = false;
	uint64_t vmask = 0, t0, t1;
	int err_want = -1, creates = 0, ck0 = -1, ck1 = -1;
	bool meta_may = false, meta_must = false;
	gkey k, before[MAX_LIVE + 2], after[MAX_LIVE + 4], pbefore[MAX_LIVE + 2],
		pafter[MAX_LIVE + 4];
	int nb, na, npb, npa;

	/* room for one more flow, before the model looks at the maps */
	if (n_live >= MAX_LIVE)
		live_drop((int)rn2((uint32_t)n_live));
	memset(&k, 0, sizeof(k));
	r.kind = kind;
	r.idx = n_total++;
	kind_made[cur_kind]++;
	r.in = in;
	r.in_len = len;
	nb = n_live;
	for (int i = 0; i < n_live; i++)
		before[i] = lives[i].k;
	npb = 0;
	for (int i = 0; i < n_live; i++)
		if (lives[i].pending)
			pbefore[npb++] = lives[i].k;

	/* the model */
	m_parse(in, len, &q);
	switch (q.res) {
	case R_TOO_SHORT:
		break;
	case R_NOT_TCP:
		vmask = VM(V_PASS_NOT_TCP);
		break;
	case R_FRAGMENT:
	case R_MALFORMED: {
		/* the port decides when it can be read, as for any packet */
		bool drop = q.by == BY_HIDDEN || (q.by == BY_PORT && watched(q.sport, q.dport));

		m_cls[q.res == R_FRAGMENT][q.by][drop]++;
		if (q.res == R_FRAGMENT) {
			vmask = drop ? VM(V_DROP_FRAGMENT) : VM(V_PASS_FRAGMENT);
		} else {
			vmask = drop ? VM(V_DROP_MALFORMED) : VM(V_PASS_MALFORMED);
			err_want = q.err;
		}
		break;
	}
	default:
		n_atomic += q.atomic;
		prot = is_prot(q.dport);
		obs = is_obs(q.dport) || is_obs(q.sport) || (conf.flags & XDPCT_CFG_TRACK_ALL);
		if (!prot && !obs) {
			vmask = VM(V_PASS_UNPROTECTED);
			break;
		}
		if ((q.flags & (F_SYN | F_RST)) == (F_SYN | F_RST) ||
		    (q.flags & (F_SYN | F_FIN)) == (F_SYN | F_FIN)) {
			/* observing never drops */
			vmask = prot ? VM(V_DROP_BAD_FLAGS) : VM(V_PASS_UNTRACKED);
			break;
		}
		gkey_of(&q, &k);
		have_f = !flow_get(&k, &f);
		if (have_f) {
			f_pending = f.flags & XDPCT_FLOW_PENDING;
			f_closed = f.state == XDPCT_CT_TIME_WAIT || f.state == XDPCT_CT_CLOSE;
		}
		if ((q.flags & (F_SYN | F_ACK)) == F_SYN) {
			/* the filter first: a clear bit means no entry, no lookup */
			nl_want = prot && !xdpct_seen_test(&seen, seen_bit_of(&k));
			if (nl_want && have_f)
				report(P_SEEN, &r, "entry %s without its xdpct_seen bit", gkey_str(&k));
			if (have_f && f_closed) {
				vmask = VM(V_PASS_CT_NEW);
				creates = 3; /* replaced, same key */
				break;
			}
			if (prot) {
				if (have_f && !f_pending) {
					vmask = VM(V_PASS_SYN_TRACKED);
				} else if (!q.opt_ok) {
					vmask = VM(V_DROP_MALFORMED);
					err_want = S(ERR_TCP_OPT);
				} else {
					vmask = VM(V_TX_SYNACK);
					tx_ok = true;
				}
				break;
			}
			if (!have_f) {
				vmask = VM(V_PASS_CT_NEW);
				creates = 2;
				break;
			}
		}
		if (have_f) {
			vmask = VM(V_PASS_FLOW);
			if (prot)
				vmask |= VM(V_DROP_CT_INVALID) | VM(V_DROP_RST_WINDOW) |
					 VM(V_DROP_ACK_WINDOW);
			if (f_pending && (q.flags & (F_ACK | F_RST | F_SYN)) == F_ACK &&
			    live_find(&k) >= 0 && lives[live_find(&k)].pending)
				meta_must = true; /* when passed */
			break;
		}
		if (!prot) {
			vmask = VM(V_PASS_UNTRACKED);
			break;
		}
		if ((q.flags & (F_ACK | F_RST | F_SYN)) == F_ACK) {
			ck0 = cookie_keys(&q, slot_of(mono_ns()), &prev_want);
			vmask = ck0 == CK_GOOD ? VM(V_PASS_COOKIE) :
				ck0 == CK_STALE ? VM(V_DROP_COOKIE_STALE) : VM(V_DROP_COOKIE_BAD);
			break;
		}
		vmask = VM(V_DROP_NO_FLOW);
		break;
	}

	t0 = mono_ns();
	run_frame(&r);
	t1 = mono_ns();
	last_run = &r;
	if (ck0 >= 0 && slot_of(t1) != slot_of(t0)) { /* a slot turned: either */
		ck1 = cookie_keys(&q, slot_of(t1), &prev_want);
		vmask |= ck1 == CK_GOOD ? VM(V_PASS_COOKIE) :
			 ck1 == CK_STALE ? VM(V_DROP_COOKIE_STALE) : VM(V_DROP_COOKIE_BAD);
	}

	if (q.res == R_TOO_SHORT) {
		if (!r.err)
			report(P_MODEL, &r, "a %d-byte frame ran (%s), want EINVAL", len,
			       vname(r.verdict));
		return;
	}
	if (r.err) {
		report(P_MODEL, &r, "test_run failed: %s", strerror(-r.err));
		return;
	}
	if (r.vstat < 0)
		return; /* reported */

	/* verdict and its counters */
	if (!(vmask & (1ULL << r.vstat))) {
		char want[300] = "";
		int n = 0;

		for (int i = 0; i < XDPCT_STAT_MAX; i++)
			if (vmask & (1ULL << i))
				n += snprintf(want + n, sizeof(want) - n, "%s%s", n ? "|" : "",
					      stat_name[i]);
		report(P_MODEL, &r, "counter %s (verdict %s), model says %s (counters: %s)",
		       stat_name[r.vstat], vname(r.verdict), want, moved(&r));
	}
	{
		int nerr = 0, which = -1;

		for (int i = 0; i < XDPCT_STAT_MAX; i++)
			if (is_err(i) && r.d[i]) {
				nerr += (int)r.d[i];
				which = i;
			}
		if (r.vstat == S(V_DROP_MALFORMED) || r.vstat == S(V_PASS_MALFORMED)) {
			if (nerr != 1 || which != err_want)
				report(P_MODEL, &r, "malformed: error counters %s, want %s +1",
				       moved(&r), err_want >= 0 ? stat_name[err_want] : "?");
		} else if (nerr) {
			report(P_MODEL, &r, "error counter moved on %s: %s", stat_name[r.vstat],
			       moved(&r));
		}
	}
	if (r.vstat == S(V_TX_SYNACK) && !r.d[S(SYN_SEEN)])
		report(P_MODEL, &r, "a SYN-ACK without syn_seen: %s", moved(&r));
	if (r.d[S(SYN_NO_LOOKUP)] != (nl_want ? 1 : 0))
		report(P_SEEN, &r, "syn_no_lookup %+lld, want %+d (bit %s; counters %s)",
		       (long long)r.d[S(SYN_NO_LOOKUP)], nl_want ? 1 : 0,
		       nl_want ? "clear" : "set or no protected SYN", moved(&r));
	if (r.vstat == S(V_PASS_COOKIE) && !r.d[S(COOKIE_GOOD)])
		report(P_MODEL, &r, "cookie passed without cookie_good: %s", moved(&r));
	if (r.d[S(COOKIE_PREV_KEY)] != prev_want)
		report(P_MODEL, &r, "cookie_prev_key %+lld, want %+d (counters %s)",
		       (long long)r.d[S(COOKIE_PREV_KEY)], prev_want, moved(&r));

	/* XDP_TX only for a well-formed SYN to a protected port */
	if (r.verdict == XDP_TX) {
		n_tx++;
		if (!tx_ok)
			report(P_TX_ONLY, &r, "XDP_TX, but the model sees %s",
			       q.res != R_TCP ? "no well-formed TCP" :
			       !prot ? "no protected port" :
			       (q.flags & (F_SYN | F_ACK | F_RST | F_FIN)) != F_SYN ? "no SYN" :
			       !q.opt_ok ? "bad options" : "a tracked flow");
		else {
			uint32_t cookie = 0, tsval = 0;
			long before_fail = p_fail[P_SYNACK];

			check_synack(&r, &q, t0, t1, &cookie, &tsval);
			/* an unmutated SYN's reply: its ACK comes later */
			if (spec && p_fail[P_SYNACK] == before_fail)
				rec_add(spec, cookie, q.ts && (conf.flags & XDPCT_CFG_TIMESTAMPS),
					tsval);
		}
	}

	/* passed frames: untouched, metadata only in front of cookie ACKs
	 * and of ACKs of pending flows */
	if (r.verdict == XDP_PASS) {
		meta_must |= r.vstat == S(V_PASS_COOKIE);
		meta_may = meta_must;
		if (r.meta_len != 0 && r.meta_len != (int)sizeof(struct xdpct_meta))
			report(P_UNTOUCHED, &r, "metadata of %d bytes", r.meta_len);
		else if (r.meta_len && !meta_may)
			report(P_UNTOUCHED, &r, "metadata on %s", stat_name[r.vstat]);
		else if (!r.meta_len && meta_must)
			report(P_UNTOUCHED, &r, "no metadata on %s", stat_name[r.vstat]);
		else if (r.out_len - r.meta_len != len || memcmp(r.out + r.meta_len, in, len))
			report(P_UNTOUCHED, &r, "frame changed (%d bytes out)", r.out_len - r.meta_len);
		else if (r.meta_len) {
			uint32_t magic;

			memcpy(&magic, r.out, 4);
			if (magic != XDPCT_META_MAGIC)
				report(P_UNTOUCHED, &r, "metadata magic 0x%08x", magic);
		}
	}

	/* flow entries: the set before, plus what the model allows */
	na = flows_list(after, MAX_LIVE + 4);
	npa = pending_list(pafter, MAX_LIVE + 4);
	for (int i = 0; i < na; i++)
		if (!xdpct_seen_test(&seen, seen_bit_of(&after[i]))) {
			report(P_SEEN, &r, "entry %s without its xdpct_seen bit on %s",
			       gkey_str(&after[i]), stat_name[r.vstat]);
			break;
		}
	if (r.vstat == S(V_PASS_COOKIE) || r.vstat == S(V_PASS_CT_NEW)) {
		if (r.vstat == S(V_PASS_COOKIE))
			n_cookie_good++;
		if (na < 0 || !key_in(after, na, &k)) {
			report(P_ENTRY, &r, "%s: no entry %s", stat_name[r.vstat], gkey_str(&k));
		} else if (creates != 3 && !key_in(before, nb, &k)) {
			struct xdpct_flow nf;

			if (r.vstat == S(V_PASS_COOKIE))
				live_add(&k, true, spec, &q, q.seq + (uint32_t)(q.tcp_len - q.thl),
					 q.ack);
			else
				live_add(&k, false, spec, &q, q.seq + 1, rn2(0xffffffffu));
			if (!flow_get(&k, &nf) && r.vstat == S(V_PASS_CT_NEW) &&
			    nf.state != XDPCT_CT_SYN_SENT)
				report(P_ENTRY, &r, "observed SYN: entry state %u, want SYN_SENT",
				       nf.state);
			if (!flow_get(&k, &nf) && r.vstat == S(V_PASS_COOKIE) &&
			    (nf.state != XDPCT_CT_SYN_RECV || !(nf.flags & XDPCT_FLOW_PENDING)))
				report(P_ENTRY, &r, "cookie ACK: entry state %u flags 0x%x, want SYN_RECV, PENDING",
				       nf.state, nf.flags);
		}
	}
	{
		gkey want[MAX_LIVE + 2];
		int nw = 0;

		for (int i = 0; i < n_live; i++)
			want[nw++] = lives[i].k;
		if (na < 0) {
			report(P_NO_ENTRY, &r, "more than %d flow entries", MAX_LIVE + 4);
			lives_clear();
			return;
		}
		for (int i = 0; i < na; i++)
			if (!key_in(want, nw, &after[i])) {
				report(P_NO_ENTRY, &r, "entry %s appeared on %s", gkey_str(&after[i]),
				       stat_name[r.vstat]);
				lives_clear();
				return;
			}
		for (int i = 0; i < nw; i++)
			if (!key_in(after, na, &want[i])) {
				report(P_ENTRY, &r, "entry %s vanished on %s", gkey_str(&want[i]),
				       stat_name[r.vstat]);
				lives_clear();
				return;
			}
	}
	/* the pending map gains an entry only with a cookie ACK */
	if (npa < 0) {
		report(P_NO_ENTRY, &r, "pending map overflows the test's bound");
		lives_clear();
		return;
	}
	for (int i = 0; i < npa; i++)
		if (!key_in(pbefore, npb, &pafter[i]) &&
		    !(r.vstat == S(V_PASS_COOKIE) && !memcmp(&pafter[i], &k, sizeof(k)))) {
			report(P_NO_ENTRY, &r, "pending entry %s appeared on %s",
			       gkey_str(&pafter[i]), stat_name[r.vstat]);
			lives_clear();
			return;
		}
	if (r.vstat == S(V_PASS_COOKIE) && !key_in(pafter, npa, &k))
		report(P_ENTRY, &r, "cookie ACK without a pending entry");
}

/* ---- the stream ---- */

enum {
	K_SYN, K_COOKIE_ACK, K_FORGED, K_OBS_SYN, K_FLOW, K_TEST_FLOW, K_MUTATED, K_WILD,
	K_FRAG, K_BYTES, K_MAX
};
static const char *const k_name[K_MAX] = {
	"valid-syn", "cookie-ack", "forged-cookie", "observed-syn", "flow-frame", "test-flow",
	"mutated", "wild", "fragment", "random-bytes",
};

/* Writes conf and the keys to the maps: the config, and the ports map
 * (ports of the last config cleared). */
static void write_config(void)
{
	static uint16_t old[2 * MAX_PORTS];
	static int n_old;
	struct xdpct_config cfg = {};
	uint32_t zero = 0, port;
	uint8_t v = 0;
	int err = 0;

	cfg.key_cur = key;
	cfg.key_prev = key_prev;
	cfg.flags = conf.flags;
	cfg.mss4 = MSS4;
	cfg.mss6 = MSS6;
	cfg.wscale = WSCALE;
	cfg.ttl = TTL;
	cfg.key_epoch = (uint32_t)n_conf + 1;
	err |= bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
	for (int i = 0; i < n_old; i++) {
		port = old[i];
		err |= bpf_map_update_elem(ports_fd, &port, &v, BPF_ANY);
	}
	n_old = 0;
	for (int i = 0; i < conf.n_prot + conf.n_obs; i++) {
		port = i < conf.n_prot ? conf.prot[i] : conf.obs[i - conf.n_prot];
		v = (is_prot((uint16_t)port) ? XDPCT_PORT_PROTECT : 0) |
		    (is_obs((uint16_t)port) ? XDPCT_PORT_OBSERVE : 0);
		err |= bpf_map_update_elem(ports_fd, &port, &v, BPF_ANY);
		old[n_old++] = (uint16_t)port;
	}
	if (err) {
		fprintf(stderr, "test_prop: config write: %s\n", strerror(errno));
		exit(2);
	}
}

static void rand_key(struct xdpct_siphash_key *k)
{
	k->k0 = r64();
	k->k1 = r64();
}

/* A new config, every CONF_EVERY frames: the keys rotated (the previous
 * one kept valid), replaced, or the previous one expired; option flags as
 * sysctls set them; track-all; new protected and observed ports (a port
 * may be both: protection wins). A schedule makes each kind come within
 * the first few configs, chance does the rest. Flows and recorded
 * SYN-ACKs stay. */
static void new_config(void)
{
	static const uint16_t prot_pool[] = { 80, 443, 8443, 25, 5001, 1, 65535 };
	static const uint16_t obs_pool[] = { 8080, 22, 3306, 9000, 443, 2, 65534 };
	static const uint32_t opt[] = { XDPCT_CFG_TIMESTAMPS, XDPCT_CFG_SACK, XDPCT_CFG_WSCALE,
					XDPCT_CFG_ECN };
	uint32_t x = n_conf % 4;

	n_conf++;
	if (x < 2) { /* rotation, as xdpct run does it */
		key_dead = key_prev;
		key_prev = key;
		rand_key(&key);
		conf.flags |= XDPCT_CFG_PREV_KEY;
	} else if (x == 2) { /* a new key (xdpct config): the old ones are dead */
		key_dead = key;
		rand_key(&key);
		conf.flags &= ~XDPCT_CFG_PREV_KEY;
	} else if (conf.flags & XDPCT_CFG_PREV_KEY) { /* the previous key expired */
		key_dead = key_prev;
		conf.flags &= ~XDPCT_CFG_PREV_KEY;
	}
	for (unsigned int i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		conf.flags = n_conf % 5 != i && chance(85) ? conf.flags | opt[i] :
							     conf.flags & ~opt[i];
	conf.flags = n_conf % 3 == 1 || chance(10) ? conf.flags | XDPCT_CFG_TRACK_ALL :
						    conf.flags & ~XDPCT_CFG_TRACK_ALL;
	if (n_conf % 2 || chance(20)) {
		conf.n_prot = (int)(1 + rn(MAX_PORTS));
		conf.n_obs = (int)(1 + rn(MAX_PORTS));
		for (int i = 0; i < conf.n_prot; i++)
			conf.prot[i] = prot_pool[rn(sizeof(prot_pool) / sizeof(prot_pool[0]))];
		for (int i = 0; i < conf.n_obs; i++)
			conf.obs[i] = obs_pool[rn(sizeof(obs_pool) / sizeof(obs_pool[0]))];
		conf_seen[CS_PORTS]++;
	}
	conf_seen[CS_TRACK_ALL] += !!(conf.flags & XDPCT_CFG_TRACK_ALL);
	conf_seen[CS_PREV_KEY] += !!(conf.flags & XDPCT_CFG_PREV_KEY);
	conf_seen[CS_NO_TS] += !(conf.flags & XDPCT_CFG_TIMESTAMPS);
	conf_seen[CS_NO_SACK] += !(conf.flags & XDPCT_CFG_SACK);
	conf_seen[CS_NO_WS] += !(conf.flags & XDPCT_CFG_WSCALE);
	conf_seen[CS_NO_ECN] += !(conf.flags & XDPCT_CFG_ECN);
	write_config();
}

/* A fragment of a SYN or an ACK: IPv4 MF and/or an offset; IPv6 a
 * fragment header anywhere in the chain (first, later, atomic), often
 * with a destination options header after it; a first fragment often
 * ends early, at a multiple of 8 bytes or anywhere. */
static int frag_frame(uint8_t *b)
{
	struct pg_spec s;
	struct pg_layout L;
	int n, kind = (int)rn(3), unfrag, l3_len;
	uint16_t dport = chance(40) ? P_PROT : chance(40) ? P_OBS : rand_dport();

	if (chance(60))
		valid_syn(&s, dport);
	else
		valid_ack(&s, dport);
	if (s.family == 4) {
		if (kind == 1)
			s.frag_off = (uint16_t)(1 + rn(0x1fff)) | (chance(60) ? 0x2000 : 0);
		else
			s.frag_off = 0x2000;
		s.frag_off |= chance(20) ? 0x4000 : 0;
		unfrag = 20 + s.ip_optlen;
	} else {
		int at = (int)rn((uint32_t)s.n_ext + 1);

		if (s.n_ext >= MAX_V6_EXT && chance(80))
			s.n_ext = (int)rn(MAX_V6_EXT);
		at = at > s.n_ext ? s.n_ext : at;
		memmove(&s.ext[at + 1], &s.ext[at], (size_t)(s.n_ext - at) * sizeof(s.ext[0]));
		s.n_ext++;
		s.ext[at] = (struct pg_ext){ .type = PG_EXT_FRAG,
					     .frag = (uint16_t)(kind == 0 ? 1 :
						     kind == 1 ? (1 + rn(8191)) << 3 | rn(2) : 0) };
		if (chance(50) && s.n_ext < 9) { /* destination options after it */
			memmove(&s.ext[at + 2], &s.ext[at + 1],
				(size_t)(s.n_ext - at - 1) * sizeof(s.ext[0]));
			s.ext[at + 1] = (struct pg_ext){ .type = PG_EXT_DEST,
							 .len = (uint16_t)(8 * (1 + rn(3))) };
			s.n_ext++;
		}
		unfrag = 40;
		for (int i = 0; i <= at; i++)
			unfrag += s.ext[i].type == PG_EXT_FRAG ? 8 :
				  s.ext[i].len;
	}
	n = build(&s, b, &L);
	if (n < 0)
		return -1;
	l3_len = n - L.l3_off;
	if (kind == 0 && chance(60) && l3_len > unfrag) { /* the first fragment ends early */
		int cut = chance(70) ? unfrag + 8 * (int)rn((uint32_t)(l3_len - unfrag) / 8 + 1) :
				       unfrag + (int)rn((uint32_t)(l3_len - unfrag));

		if (cut > 40 || s.family == 4) {
			pg_set_l3_len(b, &L, s.family, cut);
			n = L.l3_off + cut + (chance(20) ? (int)rn((uint32_t)(l3_len - cut) + 1) : 0);
		}
	}
	return n;
}

static void step(void)
{
	static uint8_t b[MAX_FRAME + 64];
	struct pg_spec s;
	struct pg_layout L;
	uint32_t x = rn(1000);
	int n = -1, kind;

	if (x < 150)
		kind = K_SYN;
	else if (x < 190)
		kind = n_rec ? K_COOKIE_ACK : K_SYN;
	else if (x < 210)
		kind = K_FORGED;
	else if (x < 240)
		kind = K_OBS_SYN;
	else if (x < 340)
		kind = n_live ? K_FLOW : K_OBS_SYN;
	else if (x < 370) /* entries in every state: SYNs on them are rare otherwise */
		kind = K_TEST_FLOW;
	else if (x < 670)
		kind = K_MUTATED;
	else if (x < 720)
		kind = K_FRAG;
	else if (x < 960)
		kind = K_WILD;
	else
		kind = K_BYTES;
	kind_seen[kind]++;
	cur_kind = kind;

	switch (kind) {
	case K_SYN:
		valid_syn(&s, chance(85) ? P_PROT : chance(50) ? P_OBS : rand_dport());
		n = build(&s, b, &L);
		if (n > 0)
			one(k_name[kind], b, n, &s);
		break;
	case K_COOKIE_ACK: {
		const struct synrec *rc = &recs[rn((uint32_t)n_rec)];

		cookie_ack(rc, &s);
		n = build(&s, b, &L);
		if (n > 0)
			one(k_name[kind], b, n, &s);
		break;
	}
	case K_FORGED: {
		/* under the current key, the previous one (valid only while the
		 * config says so) or a dead one */
		struct xdpct_siphash_key cur = key;
		uint32_t k = rn(100);

		if (k >= 60)
			key = k < 85 ? key_prev : key_dead;
		forged_ack(&s, chance(30));
		key = cur;
		n = build(&s, b, &L);
		if (n > 0)
			one(k_name[kind], b, n, &s);
		break;
	}
	case K_OBS_SYN:
		valid_syn(&s, P_OBS);
		if (chance(10)) { /* an observed remote port */
			s.sport = P_OBS;
			s.dport = (uint16_t)(1024 + rn(60000));
		}
		n = build(&s, b, &L);
		if (n > 0)
			one(k_name[kind], b, n, &s);
		break;
	case K_FLOW: {
		struct live *l = &lives[rn2((uint32_t)n_live)];

		flow_frame(l, &s);
		n = build(&s, b, &L);
		if (n <= 0)
			break;
		if (chance(30)) {
			n = mutate(b, n, L.l4_off + L.tcp_hlen);
			one("flow-frame-mutated", b, n, NULL);
		} else {
			one(k_name[kind], b, n, NULL);
		}
		break;
	}
	case K_TEST_FLOW: {
		struct xdpct_flow f;
		struct op q;
		gkey k;

		test_flow(&s, &f);
		n = build(&s, b, &L);
		if (n <= 0 || m_parse(b, n, &q) != R_TCP)
			break;
		gkey_of(&q, &k);
		if (live_find(&k) >= 0)
			break;
		if (n_live >= MAX_LIVE)
			live_drop((int)rn2((uint32_t)n_live));
		if (flow_set(&k, &f)) {
			fprintf(stderr, "test_prop: flow write: %s\n", strerror(errno));
			exit(2);
		}
		live_add(&k, false, &s, &q, s.seq, s.ack);
		kind_made[kind]++; /* an entry, not a frame */
		break;
	}
	case K_MUTATED: {
		bool from_rec = chance(15) && n_rec;

		if (from_rec) {
			cookie_ack(&recs[rn((uint32_t)n_rec)], &s);
		} else {
			switch (rn(5)) {
			case 0: case 1: valid_syn(&s, P_PROT); break;
			case 2: valid_syn(&s, chance(50) ? P_OBS : rand_dport()); break;
			case 3: valid_ack(&s, P_PROT); break;
			default: valid_ack(&s, rand_dport()); break;
			}
		}
		n = build(&s, b, &L);
		if (n <= 0)
			break;
		n = mutate(b, n, L.l4_off + L.tcp_hlen);
		one(k_name[kind], b, n, NULL);
		break;
	}
	case K_WILD:
		n = wild_frame(b);
		if (n > 0)
			one(k_name[kind], b, n, NULL);
		break;
	case K_FRAG:
		n = frag_frame(b);
		if (n > 0)
			one(k_name[kind], b, n, NULL);
		break;
	default:
		n = 14 + (int)rn(200);
		for (int i = 0; i < n; i++)
			b[i] = (uint8_t)r64();
		if (chance(70)) /* an IP ethertype, so the parsers get past L2 */
			pg_wr16(b + 12, chance(50) ? 0x0800 : 0x86dd);
		if (chance(40))
			b[14] = (b[13] == 0 ? 0x45 : 0x60) | (b[14] & 0x0f);
		one(k_name[kind], b, n, NULL);
		break;
	}
	/* now and then, a clean table; a new config */
	if (rn(2000) == 0)
		lives_clear();
	if (n_total >= next_conf) {
		new_config();
		next_conf += CONF_EVERY;
	}
}

static int setup(void)
{
	struct bpf_map *map;
	int err;

	ck_begin("prop.setup");
	skel = xdpct_bpf__open();
	if (!CK(skel, "xdpct_bpf__open: %s", strerror(errno)))
		return ck_end(), -1;
	bpf_object__for_each_map(map, skel->obj)
		CK(!bpf_map__set_pin_path(map, NULL), "unpin %s", bpf_map__name(map));
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows4, 4096), "flows4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows6, 4096), "flows6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_pending, 4096), "pending max_entries");
	err = xdpct_bpf__load(skel);
	if (!CK(!err, "xdpct_bpf__load: %s", strerror(-err)))
		return ck_end(), -1;
	prog_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	cfg_fd = bpf_map__fd(skel->maps.xdpct_config);
	ports_fd = bpf_map__fd(skel->maps.xdpct_ports);
	flows4_fd = bpf_map__fd(skel->maps.xdpct_flows4);
	flows6_fd = bpf_map__fd(skel->maps.xdpct_flows6);
	pending_fd = bpf_map__fd(skel->maps.xdpct_pending);
	stats_fd = bpf_map__fd(skel->maps.xdpct_stats);
	err = xdpct_seen_map(bpf_map__fd(skel->maps.xdpct_seen), NULL, &seen);
	CK(!err, "mmap of xdpct_seen: %s", strerror(-err));
	ncpu = libbpf_num_possible_cpus();
	CK(ncpu > 0, "possible cpus: %d", ncpu);

	/* the first config: every option, 80 protected, 8080 observed; then
	 * new_config() now and then */
	conf.flags = CFG_ALL;
	conf.prot[0] = 80;
	conf.obs[0] = 8080;
	conf.n_prot = conf.n_obs = 1;
	rand_key(&key_prev);
	rand_key(&key_dead);
	write_config();
	CK(!stats_read(stats_now), "batch read of the stats map: %s", strerror(errno));
	return ck_end() ? 0 : -1;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 0);
	return *end || v < 0 ? def : v;
}

int main(int argc, char **argv)
{
	uint64_t t0 = mono_ns(), tot[XDPCT_STAT_MAX];
	long n_want = env_long("PROP_N", 100000), vsum = 0;
	const char *ss = getenv("PROP_SEED");
	double secs;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		n_want = strtol(argv[1], NULL, 0);
	verbose_run = env_long("PROP_VERBOSE", 0) != 0;
	seed = ss && *ss ? strtoull(ss, NULL, 0) : (unsigned long long)(t0 ^ (uint64_t)getpid() << 32);
	ck_note("seed %llu", seed);
	ck_note("replay: PROP_SEED=%llu PROP_N=%ld build/test_prop", seed, n_want);
	rs = seed;
	rs2 = seed ^ 0x5bd1e995u;
	rand_key(&key);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)r64();

	if (geteuid() != 0) {
		ck_skip("prop", "needs root (BPF_PROG_TEST_RUN, map creation)");
		return ck_finish("test_prop");
	}
	if (setup()) {
		xdpct_bpf__destroy(skel);
		return ck_finish("test_prop");
	}

	if (getenv("PROP_HEX")) { /* one frame, as a failure printed it */
		static uint8_t b[MAX_FRAME + 64];
		const char *h = getenv("PROP_HEX");
		int n = 0;
		unsigned int x;

		while (h[0] && h[1] && n < MAX_FRAME && sscanf(h, "%2x", &x) == 1) {
			b[n++] = (uint8_t)x;
			h += 2;
		}
		ck_begin("prop.hex_frame");
		one("hex", b, n, NULL);
		for (int p = 0; p < P_MAX; p++)
			CK(!p_fail[p], "%s: %s", p_name[p], p_first[p]);
		if (last_run) {
			ck_note("%d bytes: %s, counters %s", n,
				last_run->err ? strerror(-last_run->err) : vname(last_run->verdict),
				moved(last_run));
			if (last_run->out_len > 0)
				ck_note("out (meta %d): %s", last_run->meta_len,
					hexs(last_run->out, last_run->out_len));
		}
		ck_end();
		xdpct_bpf__destroy(skel);
		return ck_finish("test_prop");
	}
	while (n_total < n_want)
		step();
	secs = (mono_ns() - t0) / 1e9;

	/* every generator made its frames (a build that fails loses them) */
	ck_begin("prop.generated");
	for (int i = 0; i < K_MAX; i++)
		CK(kind_made[i] > 0 && kind_seen[i] - kind_made[i] <= kind_seen[i] / 100,
		   "%s: %ld of %ld tries made a frame", k_name[i], kind_made[i], kind_seen[i]);
	ck_end();
	for (int p = 0; p < P_MAX; p++) {
		ck_begin("prop.%s", p_name[p]);
		CK(!p_fail[p], "%ld frames broke it; first: %s", p_fail[p], p_first[p]);
		ck_end();
	}

	/* totals: every run counted once, the verdicts add up to it; runs
	 * refused by test_run (frames under 14 bytes) are no packets */
	ck_begin("prop.counters_add_up");
	if (CK(!stats_read(tot), "stats read")) {
		for (int i = 0; i < XDPCT_STAT_MAX; i++)
			if (is_v(i))
				vsum += (long)tot[i];
		CK(vsum == (long)tot[S(XDP_PACKETS)], "verdict counters sum %ld, xdp_packets %llu",
		   vsum, (unsigned long long)tot[S(XDP_PACKETS)]);
	}
	ck_end();
	ck_begin("prop.xdp_packets_equals_runs");
	CK((long)tot[S(XDP_PACKETS)] == n_runs - n_refused,
	   "xdp_packets %llu, test runs %ld of which %ld refused (frames < 14 bytes)",
	   (unsigned long long)tot[S(XDP_PACKETS)], n_runs, n_refused);
	ck_end();

	/* the generator reached every verdict and every error counter, every
	 * way the model judges malformed frames and fragments, every kind of
	 * config; below COVERAGE_MIN frames that cannot be asked for */
	if (n_want < COVERAGE_MIN) {
		char why[120];

		snprintf(why, sizeof(why), "%ld frames, coverage is judged from %d", n_want,
			 COVERAGE_MIN);
		ck_skip("prop.coverage", why);
	} else {
		static const int need[] = {
			S(V_PASS_NOT_TCP), S(V_PASS_UNPROTECTED), S(V_PASS_FLOW), S(V_PASS_CT_NEW),
			S(V_PASS_UNTRACKED), S(V_PASS_COOKIE), S(V_PASS_SYN_TRACKED),
			S(V_TX_SYNACK), S(V_DROP_COOKIE_BAD), S(V_DROP_COOKIE_STALE),
			S(V_DROP_NO_FLOW), S(V_DROP_BAD_FLAGS), S(V_DROP_MALFORMED),
			S(V_DROP_FRAGMENT), S(V_PASS_MALFORMED), S(V_PASS_FRAGMENT), S(ERR_VLAN),
			S(ERR_IPV4), S(ERR_IPV6), S(ERR_IPV6_EXT), S(ERR_TCP), S(ERR_TCP_OPT),
			S(CT_REOPEN), S(COOKIE_PREV_KEY),
		};
		static const char *const by_name[] = { "port", "kernel", "hidden" };
		long flow_drops = (long)(tot[S(V_DROP_CT_INVALID)] + tot[S(V_DROP_RST_WINDOW)] +
					 tot[S(V_DROP_ACK_WINDOW)]);

		ck_begin("prop.coverage");
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			CK(tot[need[i]] > 0, "%s never reached", stat_name[need[i]]);
		CK(flow_drops > 0, "no flow drop (ct_invalid/rst_window/ack_window)");
		for (int fr = 0; fr < 2; fr++)
			for (int by = 0; by < 3; by++)
				for (int d = 0; d < 2; d++)
					/* by port both ways; the kernel's passed, hidden dropped */
					if (by == BY_PORT || d == (by == BY_HIDDEN))
						CK(m_cls[fr][by][d] > 0, "no %s by %s %s",
						   fr ? "fragment" : "malformed frame", by_name[by],
						   d ? "dropped" : "passed");
		CK(n_atomic > 0, "no well-formed TCP behind an atomic fragment header");
		for (int i = 0; i < CS_MAX; i++)
			CK(conf_seen[i] > 0, "no config with %s in %ld", cs_name[i], n_conf);
		ck_end();
	}

	for (int i = 0; i < XDPCT_STAT_MAX; i++)
		if (tot[i] && (is_v(i) || is_err(i) || i == S(CT_REOPEN) || i == S(COOKIE_GOOD) ||
			       i == S(COOKIE_PREV_KEY)))
			ck_note("%-20s %llu", stat_name[i], (unsigned long long)tot[i]);
	for (int i = 0; i < K_MAX; i++)
		ck_note("kind %-14s %ld", k_name[i], kind_seen[i]);
	for (int fr = 0; fr < 2; fr++)
		ck_note("model: %-9s by port %ld passed %ld dropped, by the kernel %ld, hidden %ld",
			fr ? "fragments" : "malformed", m_cls[fr][BY_PORT][0], m_cls[fr][BY_PORT][1],
			m_cls[fr][BY_KERNEL][0], m_cls[fr][BY_HIDDEN][1]);
	ck_note("%ld configs (%ld track-all, %ld with a previous key, %ld new port sets); %ld atomic-fragment TCP frames",
		n_conf + 1, conf_seen[CS_TRACK_ALL], conf_seen[CS_PREV_KEY], conf_seen[CS_PORTS],
		n_atomic);
	ck_note("%ld frames, %ld test runs, %ld SYN-ACKs, %ld cookie ACKs passed, in %.2f s (seed %llu)",
		n_total, n_runs, n_tx, n_cookie_good, secs, seed);
	xdpct_bpf__destroy(skel);
	rc = ck_finish("test_prop");
	return rc;
}
