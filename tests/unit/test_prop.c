// SPDX-License-Identifier: GPL-2.0
/* Property tests of the XDP program through BPF_PROG_TEST_RUN: generated
 * frames (random, and valid SYNs/ACKs mutated by bit flips, truncation,
 * byte insertion) across every header layer, each checked against a model
 * written here from the documented behaviour (docs/datapath.md's verdict table,
 * docs/conntrack.md, include/xdpct.h), with its own header parser, its own
 * checksums (pktgen.c) and its own cookie (siphash_ref.c). Properties, for
 * every frame:
 *  - exactly one V_* verdict counter moves, xdp_packets by one;
 *  - the verdict is the model's (XDP_TX only for a well-formed SYN to a
 *    protected port; the reply parses, checksums verify, addresses and
 *    ports are swapped, ack = seq + 1, the options are those the config
 *    allows; a malformed frame or a fragment gets its port's verdict, or
 *    the kernel's, or is dropped as hidden TCP, with its error counter);
 *  - netfilter's flag check comes first on watched ports: every invalid
 *    combination is drop_bad_flags on a protected port, counted and
 *    passed on an observed one;
 *  - with XDPCT_CFG_LOCAL_ONLY, a SYN or a packet without an entry to a
 *    protected port whose destination is not in xdpct_local passes
 *    (pass_not_local);
 *  - a source Linux never answers, or a destination MAC that is not
 *    unicast or not the interface's, gets drop_bad_source on a protected
 *    port without an entry, and no entry on an observed one;
 *  - cookies: a SYN-ACK's ISN is the reference cookie under the key of its
 *    time slot (xdpct_config.key_sel), an ACK is checked with exactly that
 *    key (cookie_prev_key when it is the older one), whatever the keys a
 *    forged cookie was made with;
 *  - entries live in the table of their local port: an observed port's SYN
 *    creates an xdpct_observed4/6 entry only, xdpct_flows4/6 gain entries
 *    only from valid cookie ACKs, and an entry in the other table is never
 *    used (a reopened TIME_WAIT/CLOSE entry keeps its key and table);
 *  - a flow's packet gets the verdict of the transition table, its
 *    refinements and the window checks (docs/conntrack.md, "What a segment
 *    must pass": I-IV, the SYN-ACK's ack, RSTs exact, challenged or below
 *    the receiver's ack), dropped on a protected port and counted in
 *    ct_invalid on an observed one; an accepted one moves the state and
 *    the numbers as documented, an ignored one only its counters;
 *  - every entry of the four tables has the tag xdpct_key_tag() of its key,
 *    its lock free and a state below XDPCT_CT_MAX; a packet changes no
 *    entry but its own flow's, and a refused one (dropped, invalid in the
 *    state, challenged RST) not even that;
 *  - a state change (and a FIN or closing RST) from a segment whose TCP
 *    checksum does not verify waits for TC: the frame passes with
 *    XDPCT_META_CT metadata (ct_csum_defer) and the entry stays as it was;
 *  - a passed frame is untouched (metadata only in front of cookie ACKs,
 *    ACKs of pending flows and deferred segments, with the handover
 *    attributes the cookie encodes);
 *  - every protected entry's bit is set in the active half of xdpct_seen, a
 *    SYN to a protected port skips the flow lookup (syn_no_lookup) exactly
 *    when its key's bit is clear, and a packet without entry or valid
 *    cookie looks for the kernel's socket (lost_lookup) exactly when it is
 *    set (there is none in the test: it is dropped all the same). The
 *    test's own entries get their bits as every userspace inserter does
 *    (xdpct_seen.h); now and then the bitmap is rebuilt, as xdpct run does.
 * The config changes every CONF_EVERY frames (option flags, protected and
 * observed ports, track-all, LOCAL_ONLY, the interface MAC, the cookie
 * layout without timestamps, the slot length, key rotations as config_commit()
 * makes them: the new key for the slots from the next one; the state one
 * slot later, both keys signing live slots; a fresh key). Each generator
 * must make its frames (prop.generated) and, from COVERAGE_MIN frames up,
 * every verdict, error counter, model class and kind of config must be
 * reached.
 * Environment:
 *   PROP_N=N       frames (default 100000; `make soak`: 1000000)
 *   PROP_SEED=S    replay a run (the seed is printed as `# seed S`)
 *   PROP_VERBOSE=1 one line per frame on stderr
 *   PROP_HEX=HEX   run one frame (as a failure prints it) through the
 *                  program and the model, on empty flow tables, under the
 *                  first config (80 protected, 8080 observed, every
 *                  option, no LOCAL_ONLY, no MAC check); a frame of a later
 *                  config replays by its seed
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
#define MAX_ENT 24   /* entries the four tables may hold: lives + slack */
#define OUT_CAP (PG_MAX_FRAME + 256)
#define MAX_FRAME 2400 /* generated frames stay within one test_run page */
/* Below this many frames coverage is not judged (skip): the rarest
 * (ct_pending_lost, lost_lookup, a reopening SYN left to TC) average 14
 * to 21 at 20,000 frames, so a run that reaches none of one is a 1e-6
 * event, not bad luck. */
#define COVERAGE_MIN 20000
#define CONF_EVERY 1000    /* frames between config changes */

#define STAT_ID(id, name, help) #id,
#define STAT_NAME(id, name, help) #name,
static const char *const stat_id[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_ID) };
static const char *const stat_name[XDPCT_STAT_MAX] = { XDPCT_STATS_LIST(STAT_NAME) };

static const uint8_t CLI_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t SRV_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t SRV4[4] = { 10, 0, 0, 2 };
static const uint8_t SRV6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* The flow tables: protected (xdpct_flows4/6) and observed (xdpct_observed4/6). */
enum { T_PROT, T_OBS, T_N };
static const char *const t_name[T_N] = { "flows", "observed" };

static struct xdpct_bpf *skel;
static int prog_fd, cfg_fd, ports_fd, pending_fd, stats_fd, local_fd, ncpu;
static int tab_fd[T_N][2]; /* [table][IPv6] */
static struct xdpct_seen seen = { .lock_fd = -1 };
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
	struct xdpct_siphash_key keys[2];
	uint64_t key_sel;   /* first slot of keys[key_sel & 1] << 1 | index */
	uint8_t slot_shift; /* as written (0 or out of range: the default) */
	bool mac_check;     /* if_mac = SRV_MAC; else all zero, not checked */
} conf;
/* a key a rotation overwrote, or one never configured: signs nothing */
static struct xdpct_siphash_key key_dead;
static long n_conf, next_conf = CONF_EVERY;
enum {
	CS_TRACK_ALL, CS_NO_TS, CS_NO_SACK, CS_NO_WS, CS_NO_ECN, CS_PORTS, CS_LOCAL_ONLY,
	CS_MAC, CS_NOTS_OPTS, CS_ROT_NEXT, CS_ROT_SETTLED, CS_FRESH, CS_SHORT_SLOT,
	CS_BAD_SHIFT, CS_MAX
};
static const char *const cs_name[CS_MAX] = {
	"track_all", "no_timestamps", "no_sack", "no_wscale", "no_ecn", "new_ports",
	"local_only", "mac_check", "nots_options", "rotation_from_next_slot",
	"rotation_both_keys_live", "fresh_key", "short_slot", "slot_shift_out_of_range",
};
static long conf_seen[CS_MAX];

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

static uint64_t clock_read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return clock_read_ns(CLOCK_MONOTONIC_COARSE); /* the BPF clock */
}

/* Slots of 2^shift ns: xdpct_config.slot_shift when within
 * XDPCT_SLOT_SHIFT_MIN..MAX, XDPCT_SLOT_SHIFT otherwise (include/xdpct.h). */
static unsigned int shift_now(void)
{
	unsigned int s = conf.slot_shift;

	return s >= XDPCT_SLOT_SHIFT_MIN && s <= XDPCT_SLOT_SHIFT_MAX ? s : XDPCT_SLOT_SHIFT;
}

/* The whole slot count; a cookie carries its low 2 bits. */
static uint64_t abs_slot(uint64_t ns)
{
	return ns >> shift_now();
}

static uint32_t slot_of(uint64_t ns)
{
	return abs_slot(ns) & 3;
}

/* The key of the cookies of slot abs: keys[i] from slot S on, keys[i ^ 1]
 * before (key_sel = S << 1 | i). *older: the key is keys[i ^ 1]. */
static const struct xdpct_siphash_key *key_for(uint64_t abs, bool *older)
{
	unsigned int i = conf.key_sel & 1;

	*older = abs < (conf.key_sel >> 1);
	return &conf.keys[*older ? i ^ 1 : i];
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

/* What decides the verdict of a malformed frame or a fragment (docs/datapath.md):
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
	uint16_t sport, dport, win;
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
	o->win = pg_rd16(t + 14);
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

/* Layouts: with timestamps hash:28 | slot:2 | mss:2, options in TSval; without,
 * hash:28 | slot:2 | mss:2 and no options; without and XDPCT_CFG_NOTS_OPTIONS,
 * hash:23 | sack:1 | wscale:4 | slot:2 | mss:2 (no ECN). The number is the
 * layout field of the hashed data. */
enum { L_NOTS = 0, L_TS = 1, L_NOTS_OPTS = 2 };

static int layout_of(bool ts)
{
	if (ts)
		return L_TS;
	return conf.flags & XDPCT_CFG_NOTS_OPTIONS ? L_NOTS_OPTS : L_NOTS;
}

enum { CK_BAD, CK_STALE, CK_GOOD };

/* The options a cookie ACK's cookie covers. */
static uint32_t ack_opts(const struct op *o)
{
	int layout = layout_of(o->ts);

	return layout == L_TS ? (o->tsecr & 0x3f) :
	       layout == L_NOTS_OPTS ? ((o->ack - 1) >> 4) & 0x1f : XDPCT_OPT_WSCALE_NONE;
}

/* An ACK's cookie at slot now_abs: stale at ages 2 and 3 (its slot back
 * from now), whatever else it holds; else checked with the one key of the
 * cookie's slot. *older: a valid cookie of a slot the older key signs. */
static int cookie_model(const struct op *o, uint64_t now_abs, bool *older)
{
	uint32_t cookie = o->ack - 1, isn = o->seq - 1, slot = (cookie >> 2) & 3, age;
	const struct xdpct_siphash_key *k;

	*older = false;
	age = xdpct_cookie_age(now_abs, cookie);
	if (age > 1)
		return CK_STALE;
	if (!o->opt_ok)
		return CK_BAD;
	k = key_for(now_abs - age, older);
	if (sipref_cookie(k, o->family, o->saddr, o->daddr, o->sport, o->dport, isn, cookie & 3,
		       slot, ack_opts(o), layout_of(o->ts)) != cookie) {
		*older = false;
		return CK_BAD;
	}
	return CK_GOOD;
}

/* ---- maps ---- */

static uint64_t stats_now[XDPCT_STAT_MAX];

static int stats_read(uint64_t out[XDPCT_STAT_MAX])
{
	return xdpct_stats_sum(stats_fd, out) ? -1 : 0;
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

/* The tag an entry of this key must carry (include/xdpct.h). */
static uint32_t tag_of(const gkey *k)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		return xdpct_key_tag4(&k4);
	}
	k6_of(k, &k6);
	return xdpct_key_tag6(&k6);
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

/* As userspace inserts (adoption): the entry, then its bit (protected). */
static int flow_set(const gkey *k, int tbl, const struct xdpct_flow *f)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
	int r;

	if (k->family == 4) {
		k4_of(k, &k4);
		r = bpf_map_update_elem(tab_fd[tbl][0], &k4, f, BPF_ANY);
	} else {
		k6_of(k, &k6);
		r = bpf_map_update_elem(tab_fd[tbl][1], &k6, f, BPF_ANY);
	}
	if (r)
		return -1;
	if (tbl == T_PROT)
		xdpct_seen_set(&seen, seen_bit_of(k));
	return 0;
}

static void flow_del(const gkey *k, int tbl)
{
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;

	if (k->family == 4) {
		k4_of(k, &k4);
		bpf_map_delete_elem(tab_fd[tbl][0], &k4);
	} else {
		k6_of(k, &k6);
		bpf_map_delete_elem(tab_fd[tbl][1], &k6);
	}
	if (tbl == T_PROT)
		bpf_map_delete_elem(pending_fd, k);
}

/* One entry of one of the four tables. */
struct ent {
	gkey k;
	int tbl;
	struct xdpct_flow v;
};

/* Every entry of the four tables (n <= max), with its value; -1 if more
 * or on an error. Batch lookups: one call per table. */
static int ents_dump(struct ent *out, int max)
{
	static union {
		struct xdpct_flow4_key k4[MAX_ENT];
		struct xdpct_flow6_key k6[MAX_ENT];
	} keys;
	static struct xdpct_flow vals[MAX_ENT];
	int n = 0;

	for (int t = 0; t < T_N; t++)
		for (int v6 = 0; v6 < 2; v6++) {
			LIBBPF_OPTS(bpf_map_batch_opts, bo);
			uint32_t tok = 0, cnt;
			bool first = true;
			int r;

			do {
				cnt = MAX_ENT;
				r = bpf_map_lookup_batch(tab_fd[t][v6], first ? NULL : &tok, &tok,
							 &keys, vals, &cnt, &bo);
				if (r && errno != ENOENT)
					return -1;
				for (uint32_t i = 0; i < cnt; i++) {
					struct ent *e = &out[n];

					if (n >= max)
						return -1;
					memset(e, 0, sizeof(*e));
					e->tbl = t;
					if (v6)
						xdpct_key_from6(&keys.k6[i], &e->k);
					else
						xdpct_key_from4(&keys.k4[i], &e->k);
					e->v = vals[i];
					n++;
				}
				first = false;
			} while (!r);
		}
	return n;
}

static const struct ent *ent_find(const struct ent *set, int n, const gkey *k, int tbl)
{
	for (int i = 0; i < n; i++)
		if (set[i].tbl == tbl && !memcmp(&set[i].k, k, sizeof(*k)))
			return &set[i];
	return NULL;
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

/* ---- live flows: the entries the maps must hold ---- */

struct live {
	gkey k;
	int tbl;
	struct pg_spec s;   /* a frame of the flow, remote -> local */
	struct xdpct_flow v; /* the entry, after its last frame */
};

static struct live lives[MAX_LIVE + 1];
static int n_live;

static int live_find(const gkey *k, int tbl)
{
	for (int i = 0; i < n_live; i++)
		if (lives[i].tbl == tbl && !memcmp(&lives[i].k, k, sizeof(*k)))
			return i;
	return -1;
}

static void live_drop(int i)
{
	flow_del(&lives[i].k, lives[i].tbl);
	lives[i] = lives[--n_live];
}

static void lives_clear(void)
{
	while (n_live)
		live_drop(0);
	for (int t = 0; t < T_N; t++) {
		map_clear(tab_fd[t][0]);
		map_clear(tab_fd[t][1]);
	}
	map_clear(pending_fd);
}

/* spec: a frame of the flow to build more from; NULL: one from q alone */
static void live_add(const gkey *k, int tbl, const struct pg_spec *spec,
		     const struct op *q, const struct xdpct_flow *v)
{
	struct live *l;

	if (n_live >= MAX_LIVE)
		live_drop((int)rn2(n_live));
	l = &lives[n_live++];
	memset(l, 0, sizeof(*l));
	l->k = *k;
	l->tbl = tbl;
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
	l->v = *v;
}

/* ---- the addresses: xdpct_local, martian sources, MACs ---- */

/* xdpct_local: two addresses per family, and two keys that look like
 * 10.0.0.9 but are not its IPv4 key (family 6; a stray word): the key is
 * the family and all 16 bytes. */
static const uint8_t LOCAL4_2[4] = { 10, 0, 0, 3 };
static const uint8_t LOCAL6_2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };

static bool addr_local(int family, const uint8_t *a)
{
	if (family == 4)
		return !memcmp(a, SRV4, 4) || !memcmp(a, LOCAL4_2, 4);
	return !memcmp(a, SRV6, 16) || !memcmp(a, LOCAL6_2, 16);
}

static int local_fill(void)
{
	struct xdpct_local_key k;
	uint8_t one = 1;
	int err = 0;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	memcpy(k.addr, SRV4, 4);
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	memcpy(k.addr, LOCAL4_2, 4);
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	k.addr[0] = htonl(0x0a000009);
	k.addr[1] = htonl(1); /* not an IPv4 key: the rest is zero */
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	memset(&k, 0, sizeof(k));
	k.family = 6;
	k.addr[0] = htonl(0x0a000009); /* 10.0.0.9 as IPv6 bytes */
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	memcpy(k.addr, SRV6, 16);
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	memcpy(k.addr, LOCAL6_2, 16);
	err |= bpf_map_update_elem(local_fd, &k, &one, BPF_ANY);
	return err;
}

/* Sources Linux never answers: IPv4 0/8, 127/8, multicast, the limited
 * broadcast; IPv6 multicast, ::, ::1, v4-mapped (the kernel's routing
 * input and IPv6 receive path drop them). */
static bool martian(int family, const uint8_t *s)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[15];

	if (family == 4)
		return s[0] == 0 || s[0] == 127 || (s[0] & 0xf0) == 0xe0 ||
		       (s[0] == 255 && s[1] == 255 && s[2] == 255 && s[3] == 255);
	if (s[0] == 0xff)
		return true;
	if (!memcmp(s, zero, 15) && s[15] <= 1)
		return true;
	return !memcmp(s, mapped, 12);
}

/* A destination MAC that is not this host's unicast one. */
static bool mac_bad(const uint8_t *dmac)
{
	return (dmac[0] & 1) || (conf.mac_check && memcmp(dmac, SRV_MAC, 6));
}

/* ---- frames ---- */

static uint8_t junk[4096];

/* A source Linux never answers, or one just beside such a range (answered). */
static void odd_saddr(struct pg_spec *s)
{
	if (s->family == 4) {
		static const uint8_t v[][4] = {
			{ 0, 1, 2, 3 }, { 0, 0, 0, 0 }, { 127, 0, 0, 1 }, { 127, 9, 8, 7 },
			{ 224, 0, 0, 1 }, { 239, 255, 255, 250 }, { 255, 255, 255, 255 },
			/* beside them */
			{ 1, 0, 0, 1 }, { 126, 255, 255, 255 }, { 128, 0, 0, 1 },
			{ 223, 255, 255, 255 }, { 240, 0, 0, 1 }, { 255, 255, 255, 254 },
		};

		memcpy(s->saddr, v[rn(sizeof(v) / sizeof(v[0]))], 4);
		return;
	}
	memset(s->saddr, 0, 16);
	switch (rn(12)) {
	case 0: s->saddr[0] = 0xff; s->saddr[1] = 0x02; s->saddr[15] = 1; break;
	case 1: s->saddr[0] = 0xff; s->saddr[1] = (uint8_t)rn(256); s->saddr[9] = (uint8_t)rn(256); break;
	case 2: break; /* :: */
	case 3: s->saddr[15] = 1; break;
	case 4: /* v4-mapped */
		s->saddr[10] = s->saddr[11] = 0xff;
		s->saddr[12] = 10;
		s->saddr[15] = (uint8_t)rn(256);
		break;
	/* beside them */
	case 5: s->saddr[15] = 2; break;
	case 6: s->saddr[0] = 0xfe; s->saddr[1] = 0x80; s->saddr[15] = 1; break;
	case 7: s->saddr[10] = 0xff; s->saddr[11] = 0xfe; s->saddr[12] = 10; s->saddr[15] = 1; break;
	case 8: s->saddr[7] = 1; s->saddr[15] = 1; break;
	case 9: s->saddr[8] = s->saddr[9] = 0xff; s->saddr[15] = 1; break;
	case 10: s->saddr[0] = 0xfe; s->saddr[15] = 1; break;
	default: s->saddr[14] = 1; s->saddr[15] = 1; break;
	}
}

/* A destination MAC that is not the server's unicast one, or is. */
static void odd_dmac(uint8_t *m)
{
	static const uint8_t v[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, { 0x03, 0, 0, 0, 0, 0x02 },
		{ 0x02, 0, 0, 0, 0, 0x09 }, { 0x02, 0, 0, 0, 0, 0x01 }, { 0x02, 0, 0, 0, 0, 0x02 },
		{ 0x06, 0, 0, 0, 0, 0x02 },
	};

	memcpy(m, v[rn(sizeof(v) / sizeof(v[0]))], 6);
}

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
	if (chance(12)) { /* another destination: local (3), or not */
		static const uint8_t last[] = { 2, 3, 9, 1, 4 };

		s->daddr[s->family == 4 ? 3 : 15] =
			chance(70) ? last[rn(sizeof(last))] : (uint8_t)rn(256);
	}
	if (chance(4))
		odd_saddr(s);
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
	if (chance(4))
		odd_dmac(s->dmac);
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

/* A cookie made here with the reference hash: of a slot the config keeps
 * valid (this one or the last) or a stale one (two or three back), under
 * the key key_sel gives that slot, the config's other key, or a dead one. */
static void forged_ack(struct pg_spec *a)
{
	uint32_t mss_idx = rn(4), opts, isn, age, w = rn(100);
	bool ts = chance(50), older;
	uint32_t tsval = (uint32_t)r64();
	int layout = layout_of(ts);
	const struct xdpct_siphash_key *k;
	uint64_t abs;

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
	age = chance(70) ? rn(2) : 2 + rn(2);
	abs = abs_slot(mono_ns()) - age;
	k = key_for(abs, &older);
	if (w >= 60)
		k = w < 85 ? &conf.keys[k == &conf.keys[0]] : &key_dead;
	isn = (uint32_t)r64();
	a->seq = isn + 1;
	a->ack = sipref_cookie(k, a->family, a->saddr, a->daddr, a->sport, a->dport, isn, mss_idx,
			    (uint32_t)abs & 3, opts, layout) + 1;
	memset(&a->opts, 0, sizeof(a->opts));
	if (ts) {
		pgo_nop(&a->opts);
		pgo_nop(&a->opts);
		pgo_ts(&a->opts, tsval, (uint32_t)(r64() & ~0x3fULL) | opts);
	}
}

/* A sequence number at one of the edges a window check draws around the
 * entry's numbers (docs/conntrack.md), near one, or anywhere. */
static uint32_t edge(const uint32_t *e, int n)
{
	uint32_t x = rn(100), v = e[rn((uint32_t)n)];

	if (x < 55)
		return v + rn(3) - 1;
	if (x < 85)
		return v + rn(3000) - 1500;
	return (uint32_t)r64();
}

/* A frame of a live flow, remote -> local: at the edges of its windows,
 * near them, or anywhere. */
static void flow_frame(const struct live *l, struct pg_spec *s)
{
	static const uint8_t fl[] = { F_ACK, F_ACK | F_PSH, F_FIN | F_ACK, F_RST, F_RST | F_ACK,
				      F_SYN, F_SYN | F_ACK, F_ACK, F_ACK | F_PSH, F_FIN };

	*s = l->s;
	s->flags = chance(15) ? (uint8_t)rn(256) : fl[rn(sizeof(fl))];
	/* what the entry invites: a new connection on a closed one, the
	 * handshake's ACK again on a pending one */
	if ((l->v.state == XDPCT_CT_TIME_WAIT || l->v.state == XDPCT_CT_CLOSE) && chance(50))
		s->flags = F_SYN;
	else if (!(l->v.flags & XDPCT_FLOW_SEEN_REMOTE) && chance(60))
		s->flags = chance(50) ? F_SYN | F_ACK : chance(50) ? F_RST | F_ACK : F_RST;
	else if ((l->v.flags & XDPCT_FLOW_PENDING) && chance(50))
		s->flags = F_ACK;
	{
		const struct xdpct_dir *R = &l->v.dir[XDPCT_REMOTE], *L = &l->v.dir[XDPCT_LOCAL];
		uint32_t maw = R->maxwin > 66000 ? R->maxwin : 66000;
		/* I: seq <= R.maxend; II: end >= R.end - L.maxwin; RST: at
		 * L.maxack or R.end; III: ack <= L.end; IV: ack >= L.end -
		 * max(R.maxwin, 66000) */
		const uint32_t se[] = { R->end, R->end, R->maxend, R->end - L->maxwin, L->maxack };
		const uint32_t ae[] = { L->end, L->end, L->end - maw, R->maxack };

		s->seq = edge(se, sizeof(se) / sizeof(se[0]));
		s->ack = edge(ae, sizeof(ae) / sizeof(ae[0]));
		if (chance(10))
			s->ack = 0; /* a RST's may be 0: as if it acked all */
	}
	s->win = chance(5) ? 0 : (uint16_t)rn(65536);
	if (s->flags & F_SYN)
		valid_opts(&s->opts, true);
	else
		valid_opts(&s->opts, false);
	if (chance(30))
		rand_payload(s, 300);
	if (chance(3))
		odd_dmac(s->dmac);
}

/* An entry written by the test: any state, plausible sides, the right
 * tag; in the table of its local port, or now and then in the other one
 * (where the program must never look for it). pending: a cookie flow
 * waiting for its child (SYN_RECV), with a pending-map entry. */
static void test_flow(struct pg_spec *s, struct xdpct_flow *f, int *tbl, bool *pending)
{
	uint16_t dport = chance(60) ? P_PROT : chance(60) ? P_OBS : (uint16_t)(1024 + rn(60000));
	uint32_t rwin = 1 + rn(1u << 20), lwin = 1 + rn(1u << 20);

	valid_ack(s, dport);
	if (!is_prot(dport) && !is_obs(dport))
		s->sport = P_OBS; /* an observed remote port */
	*tbl = is_prot(dport) ? T_PROT : T_OBS;
	if (chance(10))
		*tbl ^= 1;
	memset(f, 0, sizeof(*f));
	f->state = chance(4) ? XDPCT_CT_NONE : (enum xdpct_ct_state)(1 + rn(XDPCT_CT_MAX - 1));
	f->flags = XDPCT_FLOW_SEEN_REMOTE | (chance(90) ? XDPCT_FLOW_SEEN_LOCAL : 0) |
		   (chance(50) ? XDPCT_FLOW_REMOTE_OPENED : 0) | (chance(20) ? XDPCT_FLOW_ADOPTED : 0);
	*pending = *tbl == T_PROT && chance(25);
	if (*pending) {
		f->state = XDPCT_CT_SYN_RECV;
		f->flags |= XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED |
			    XDPCT_FLOW_SEEN_LOCAL;
	}
	f->wscale[XDPCT_REMOTE] = (uint8_t)(chance(20) ? 0xf : rn(15));
	f->wscale[XDPCT_LOCAL] = (uint8_t)(chance(20) ? 0xf : rn(15));
	f->tcp_flags[XDPCT_REMOTE] = F_SYN | F_ACK | (chance(30) ? F_FIN : 0);
	f->tcp_flags[XDPCT_LOCAL] = F_SYN | F_ACK | (chance(30) ? F_FIN : 0);
	f->dir[XDPCT_REMOTE].end = s->seq;
	f->dir[XDPCT_REMOTE].maxack = s->ack;
	f->dir[XDPCT_REMOTE].maxwin = rwin;
	f->dir[XDPCT_REMOTE].maxend = s->seq + lwin;
	f->dir[XDPCT_LOCAL].end = s->ack;
	f->dir[XDPCT_LOCAL].maxack = s->seq;
	f->dir[XDPCT_LOCAL].maxwin = lwin;
	f->dir[XDPCT_LOCAL].maxend = s->ack + rwin;
	f->packets[0] = f->packets[1] = 1;
	f->bytes[0] = f->bytes[1] = 60;
	if (!*pending && chance(12)) {
		/* this host's SYN, nothing from the remote side yet (TC
		 * egress makes these): its SYN-ACK or RST comes next */
		f->state = XDPCT_CT_SYN_SENT;
		f->flags = XDPCT_FLOW_SEEN_LOCAL;
		memset(&f->dir[XDPCT_REMOTE], 0, sizeof(f->dir[0]));
		f->wscale[XDPCT_REMOTE] = 0xf;
		f->tcp_flags[XDPCT_REMOTE] = 0;
		f->tcp_flags[XDPCT_LOCAL] = F_SYN;
		f->dir[XDPCT_LOCAL].maxack = 0;
		f->dir[XDPCT_LOCAL].maxend = s->ack;
		f->packets[XDPCT_REMOTE] = f->bytes[XDPCT_REMOTE] = 0;
	}
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
	P_FLAGS,       /* netfilter's flag check, before anything else */
	P_LOCAL,       /* LOCAL_ONLY: other destinations pass */
	P_BAD_SOURCE,  /* martian sources, foreign or group MACs */
	P_KEY_SEL,     /* one key per cookie: the key of its slot */
	P_TABLE,       /* entries in the table of their local port only */
	P_ENTRY_INV,   /* tag, lock, state; refused packets change nothing */
	P_CSUM,        /* state changes only with a verified checksum */
	P_LOST,        /* socket lookups only for tuples with a seen bit */
	P_MAX,
};
static const char *const p_name[P_MAX] = {
	"one_verdict_counter_per_packet", "verdict_matches_model",
	"tx_only_for_wellformed_syn_to_protected_port", "synack_wellformed",
	"flow_entries_only_from_cookie_ack_or_observed_syn",
	"cookie_ack_and_observed_syn_create_entries", "passed_frames_untouched",
	"seen_bit_of_every_entry_and_syn_no_lookup_iff_clear",
	"netfilter_flag_validity_first", "local_only_passes_other_destinations",
	"bad_sources_and_macs_dropped_on_protected_ports",
	"cookies_signed_and_checked_by_the_key_of_their_slot",
	"entries_in_the_table_of_their_local_port",
	"entries_well_formed_and_unchanged_by_refused_packets",
	"state_changes_only_with_a_verified_checksum",
	"socket_lookup_only_for_tuples_with_a_seen_bit",
};
static long p_fail[P_MAX];
static char p_first[P_MAX][900];
static int n_reports;
static long n_runs, n_refused, n_tx, n_cookie_good, n_deferred, n_rebuilds;
static long v_seen[XDPCT_STAT_MAX];
static long kind_seen[16], kind_made[16]; /* per generator: tries, frames run */
static int cur_kind;
static long m_cls[2][3][2]; /* model: [fragment][BY_*][dropped] */
static long n_atomic;        /* well-formed TCP behind an atomic fragment header */
/* model classes of the new rules, for coverage: invalid flags (protected,
 * observed), not local, bad source (protected, observed SYN), cookies of
 * the older key's slots and of the newer's, flow packets (invalid in the
 * state, ignored, checked by the window), decoys (an entry in the other
 * table) */
enum {
	MC_FLAGS_PROT, MC_FLAGS_OBS, MC_NOT_LOCAL, MC_BAD_SRC_PROT, MC_BAD_SRC_OBS,
	MC_COOKIE_OLDER, MC_COOKIE_NEWER, MC_FLOW_INVALID, MC_FLOW_IGNORE, MC_FLOW_WINDOW_OK,
	MC_FLOW_WINDOW_OUT, MC_RST_TO_SYN, MC_DECOY, MC_REOPEN_DEFER, MC_MAX
};
static const char *const mc_name[MC_MAX] = {
	"invalid flags, protected", "invalid flags, observed", "not local",
	"bad source, protected", "bad source, observed SYN", "valid cookie of the older key",
	"valid cookie of the newer key", "flow packet invalid in its state",
	"flow packet the table ignores", "flow packet in the window",
	"flow packet out of the window", "RST answering this host's SYN",
	"packet with an entry in the other table only", "reopening SYN deferred (checksum)",
};
static long mc[MC_MAX];

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
	uint64_t abs;
	bool older;
	int optlen, ws = q->ws > 14 ? 14 : q->ws, layout = layout_of(has_ts);
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
	/* the ISN is the reference cookie, from a slot of the run's time,
	 * under the key key_sel gives that slot */
	*cookie = a.seq;
	slot = (a.seq >> 2) & 3;
	abs = (abs_slot(t1) & 3) == slot ? abs_slot(t1) : abs_slot(t0);
	if (slot != (abs & 3)) {
		report(P_SYNACK, r, "cookie slot %u, clock %u..%u", slot, slot_of(t0), slot_of(t1));
		return;
	}
	want = sipref_cookie(key_for(abs, &older), fam, q->saddr, q->daddr, q->sport, q->dport,
			  q->seq, mss_idx, slot, opts, layout);
	if (a.seq != want) {
		/* signed, but with another key: the key choice is wrong */
		bool other = false;

		for (int i = 0; i < 3; i++)
			other |= a.seq == sipref_cookie(i < 2 ? &conf.keys[i] : &key_dead, fam,
						     q->saddr, q->daddr, q->sport, q->dport,
						     q->seq, mss_idx, slot, opts, layout);
		report(other ? P_KEY_SEL : P_SYNACK, r,
		       "ISN 0x%08x, reference cookie 0x%08x under keys[%u] (slot %llu, key_sel %llu << 1 | %llu; mss idx %u opts 0x%02x layout %d)",
		       a.seq, want, (unsigned int)((conf.key_sel & 1) ^ older),
		       (unsigned long long)abs, (unsigned long long)(conf.key_sel >> 1),
		       (unsigned long long)(conf.key_sel & 1), mss_idx, opts, layout);
	}
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

/* The transition table is the documented one (include/xdpct.h). */
static const uint8_t ct_table[2][XDPCT_PKT_MAX][XDPCT_CT_MAX] = XDPCT_CT_TABLE;

/* netfilter's valid flag combinations, PSH, ECE and CWR aside
 * (docs/conntrack.md, "What a segment must pass"). */
static bool flags_valid(uint8_t fl)
{
	switch (fl & ~(F_PSH | F_ECE | F_CWR)) {
	case F_SYN: case F_SYN | F_URG: case F_SYN | F_ACK:
	case F_RST: case F_RST | F_ACK:
	case F_FIN | F_ACK: case F_FIN | F_ACK | F_URG:
	case F_ACK: case F_ACK | F_URG:
		return true;
	}
	return false;
}

/* netfilter's packet classes: RST, then SYN (with ACK or not), FIN, ACK. */
static int pkt_class(uint8_t fl)
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

static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The window checks of docs/conntrack.md ("What a segment must pass",
 * 3), for a remote segment on entry f in state st: WIN_OK, or the check
 * it fails. Before them, as netfilter's tcp_in_window, an opener's SYN
 * past its end in SYN_SENT (or the replier's in SYN_RECV) restarts its
 * side (RFC 793): only a SYN, where netfilter takes any segment; and a
 * RST is checked by its seq in every state (netfilter checks one with
 * seq 0 in SYN_SENT by its ack only). A sender not seen yet starts its
 * side with its SYN (a first SYN passes as it is), or, for a RST, with
 * the segment itself (the RST's own rule follows in one()). WIN_ANY: any
 * other segment of a sender not seen yet (a mid-stream pickup, which the
 * test never makes): not judged. */
enum { WIN_OK, WIN_SEQ, WIN_ACK, WIN_ANY };

static int window_model(const struct xdpct_flow *f, const struct op *q, int st, int dir)
{
	struct xdpct_dir S = f->dir[XDPCT_REMOTE], R = f->dir[XDPCT_LOCAL];
	bool syn = q->flags & F_SYN, has_ack = q->flags & F_ACK, rst = q->flags & F_RST;
	uint32_t len = (uint32_t)(q->tcp_len - q->thl), seq = q->seq, ack = q->ack, maxackwin;
	uint32_t end = seq + len + syn + !!(q->flags & F_FIN);

	if (!(f->flags & XDPCT_FLOW_SEEN_REMOTE)) {
		if (syn) {
			S.end = S.maxend = end;
			S.maxwin = q->win ? q->win : 1;
			if (!has_ack)
				return WIN_OK;
		} else if (rst && (f->flags & XDPCT_FLOW_SEEN_LOCAL)) {
			uint32_t sh = f->wscale[0] == 0xf || f->wscale[1] == 0xf ? 0 :
				      f->wscale[XDPCT_REMOTE] & 0xf;

			S.end = end;
			S.maxwin = (uint32_t)q->win << sh ? (uint32_t)q->win << sh : 1;
			S.maxend = end + S.maxwin;
		} else {
			return WIN_ANY;
		}
	} else if (((st == XDPCT_CT_SYN_SENT && dir == XDPCT_DIR_ORIG) ||
	     (st == XDPCT_CT_SYN_RECV && dir == XDPCT_DIR_REPLY)) && after(end, S.end)) {
		if (syn) { /* the opener restarted with a higher ISN */
			S.end = S.maxend = end;
			S.maxwin = q->win ? q->win : 1;
		}
	}
	if (!has_ack || (rst && ack == 0))
		ack = R.end; /* no ACK: it acks all the receiver sent */
	if (seq == end && !rst)
		seq = end = S.end; /* no data: checked by its ack only */
	if (after(seq, S.maxend) || !after(end, S.end - R.maxwin - 1))
		return WIN_SEQ; /* I, II */
	maxackwin = S.maxwin > 66000 ? S.maxwin : 66000;
	if (after(ack, R.end) || !after(ack, R.end - maxackwin - 1))
		return WIN_ACK; /* III, IV */
	if (syn && has_ack && (f->flags & XDPCT_FLOW_SEEN_LOCAL) && ack != R.end)
		return WIN_ACK; /* a SYN-ACK acks exactly the SYN */
	return WIN_OK;
}

/* The property a verdict the model did not expect breaks: the rule the
 * program's counter names, when it names one. */
static int prop_of_stat(int vstat)
{
	if (vstat == S(V_DROP_BAD_FLAGS))
		return P_FLAGS;
	if (vstat == S(V_PASS_NOT_LOCAL))
		return P_LOCAL;
	if (vstat == S(V_DROP_BAD_SOURCE))
		return P_BAD_SOURCE;
	if (vstat == S(V_PASS_COOKIE) || vstat == S(V_DROP_COOKIE_BAD) ||
	    vstat == S(V_DROP_COOKIE_STALE))
		return P_KEY_SEL;
	return P_MODEL;
}

static uint64_t cookie_vm(int ck)
{
	return ck == CK_GOOD ? VM(V_PASS_COOKIE) :
	       ck == CK_STALE ? VM(V_DROP_COOKIE_STALE) : VM(V_DROP_COOKIE_BAD);
}

/* The handover attributes a valid cookie ACK encodes (docs/cookie.md;
 * include/xdpct.h): the MSS of its index, the options it covers, our
 * window shift, the ACK's timestamps. */
static void cookie_attrs(const struct op *q, struct xdpct_req_attrs *a)
{
	uint32_t opts = ack_opts(q), cookie = q->ack - 1;

	memset(a, 0, sizeof(*a));
	a->mss = (q->family == 4 ? mss4_tab : mss6_tab)[cookie & 3];
	if ((opts & 0xf) != XDPCT_OPT_WSCALE_NONE) {
		a->wscale_ok = 1;
		a->snd_wscale = opts & 0xf;
		a->rcv_wscale = WSCALE;
	}
	a->sack_ok = !!(opts & XDPCT_OPT_SACK);
	a->ecn_ok = !!(opts & XDPCT_OPT_ECN);
	if (q->ts) {
		a->tstamp_ok = 1;
		a->rcv_tsval = q->tsval;
		a->rcv_tsecr = q->tsecr;
	}
}

static const char *flow_str(const struct xdpct_flow *f)
{
	static char buf[2][300];
	static int i;
	char *s = buf[i++ & 1];

	snprintf(s, 300,
		 "tag %08x lock %u state %u flags 0x%x ws %u/%u tf 0x%x/0x%x "
		 "R{end %u maxend %u maxwin %u maxack %u} L{end %u maxend %u maxwin %u maxack %u} "
		 "pk %u/%u by %llu/%llu",
		 f->tag, f->lock, f->state, f->flags, f->wscale[0], f->wscale[1], f->tcp_flags[0],
		 f->tcp_flags[1], f->dir[0].end, f->dir[0].maxend, f->dir[0].maxwin,
		 f->dir[0].maxack, f->dir[1].end, f->dir[1].maxend, f->dir[1].maxwin,
		 f->dir[1].maxack, f->packets[0], f->packets[1], (unsigned long long)f->bytes[0],
		 (unsigned long long)f->bytes[1]);
	return s;
}

/* What a remote segment that passed the window checks changed: its own
 * side's end (the highest seq + len), maxack (its highest ACK; its first
 * taken as it is), maxwin (its largest window, scaled once both SYNs
 * offered a shift), the local side's maxend (ack + window, +1 for a zero
 * window) and maxwin (grown by what the remote sent past its maxend), as
 * netfilter does (docs/conntrack.md); counters and flags seen; never the
 * local side's end, maxack, counters, flags or shift, the remote side's
 * maxend, the tag, the first seen time, or the flags but SEEN_REMOTE. A
 * SYN that starts or restarts its side (window_model) sets it first.
 * want_state: the state it must now be in. */
static void check_applied(const struct run *r, const struct op *q, const struct xdpct_flow *b,
			  const struct xdpct_flow *a, int want_state)
{
	const struct xdpct_dir *bl = &b->dir[XDPCT_LOCAL], *al = &a->dir[XDPCT_LOCAL];
	const struct xdpct_dir *bs = &b->dir[XDPCT_REMOTE], *as = &a->dir[XDPCT_REMOTE];
	bool syn = q->flags & F_SYN, has_ack = q->flags & F_ACK;
	int dir = b->flags & XDPCT_FLOW_REMOTE_OPENED ? XDPCT_DIR_ORIG : XDPCT_DIR_REPLY;
	uint32_t len = (uint32_t)(q->tcp_len - q->thl);
	uint32_t end = q->seq + len + syn + !!(q->flags & F_FIN);
	bool empty = !len && !(q->flags & (F_SYN | F_FIN | F_RST));
	bool fresh = !(b->flags & XDPCT_FLOW_SEEN_REMOTE); /* its first segment */
	bool restart = syn && (fresh || (after(end, bs->end) &&
		       ((b->state == XDPCT_CT_SYN_SENT && dir == XDPCT_DIR_ORIG) ||
			(b->state == XDPCT_CT_SYN_RECV && dir == XDPCT_DIR_REPLY))));
	uint32_t want_end = restart ? end : empty || !after(end, bs->end) ? bs->end : end;
	uint32_t ack = !has_ack || ((q->flags & F_RST) && !q->ack) ? bl->end : q->ack;
	uint32_t scale = b->wscale[0] == 0xf || b->wscale[1] == 0xf ? 0 : b->wscale[XDPCT_REMOTE] & 0xf;
	uint32_t win = syn ? q->win : (uint32_t)q->win << scale;
	uint32_t s_maxwin = restart ? (q->win ? q->win : 1) : bs->maxwin;
	uint32_t s_maxend = restart ? end : bs->maxend, e2 = empty ? bs->end : end;
	uint32_t want_maxwin = s_maxwin < win ? win : s_maxwin;
	uint32_t want_maxack = has_ack && (!(b->tcp_flags[XDPCT_REMOTE] & F_ACK) ||
					  after(ack, bs->maxack)) ? ack : bs->maxack;
	/* a first SYN without ACK (simultaneous open) sets its own side
	 * only (netfilter returns there) */
	uint32_t want_lmaxend = fresh && syn && !has_ack ? bl->maxend :
				after(ack + win, bl->maxend - 1) ? ack + win + !win : bl->maxend;
	uint32_t want_lmaxwin = (b->flags & XDPCT_FLOW_SEEN_LOCAL) && after(e2, s_maxend) ?
					bl->maxwin + (e2 - s_maxend) : bl->maxwin;
	/* the remote's first FIN acking the local's: it closed second */
	uint8_t fin_after = (q->flags & F_FIN) && !(b->tcp_flags[XDPCT_REMOTE] & F_FIN) &&
			    (b->tcp_flags[XDPCT_LOCAL] & F_FIN) && !after(bl->end, q->ack) ?
				    XDPCT_FLOW_FIN_AFTER_REMOTE : 0;
	const char *what = NULL;

	if (a->state != want_state)
		what = "state";
	else if (a->tag != b->tag || a->first_s != b->first_s)
		what = "tag or first_s";
	else if (a->flags != (b->flags | XDPCT_FLOW_SEEN_REMOTE | fin_after))
		what = "flags";
	else if (al->end != bl->end || al->maxack != bl->maxack)
		what = "the local side's end or maxack";
	else if (a->packets[XDPCT_LOCAL] != b->packets[XDPCT_LOCAL] ||
		 a->bytes[XDPCT_LOCAL] != b->bytes[XDPCT_LOCAL] ||
		 a->tcp_flags[XDPCT_LOCAL] != b->tcp_flags[XDPCT_LOCAL] ||
		 a->wscale[XDPCT_LOCAL] != b->wscale[XDPCT_LOCAL])
		what = "the local side's counters, flags or shift";
	else if (a->packets[XDPCT_REMOTE] != b->packets[XDPCT_REMOTE] + 1 ||
		 a->bytes[XDPCT_REMOTE] != b->bytes[XDPCT_REMOTE] + (uint32_t)q->ip_len)
		what = "the remote side's counters";
	else if (a->tcp_flags[XDPCT_REMOTE] != (b->tcp_flags[XDPCT_REMOTE] | q->flags))
		what = "the remote side's flags seen";
	else if (!(q->flags & F_SYN) && a->wscale[XDPCT_REMOTE] != b->wscale[XDPCT_REMOTE])
		what = "the remote side's shift (no SYN)";
	else if (fresh && !syn)
		what = NULL; /* a RST that starts its side: its numbers not judged */
	else if (as->end != want_end)
		what = "the remote side's end";
	else if (as->maxend != (restart ? end : bs->maxend))
		what = "the remote side's maxend (only the local stack's segments move their own)";
	else if (as->maxwin != want_maxwin)
		what = "the remote side's maxwin";
	else if (!restart && as->maxack != want_maxack)
		what = "the remote side's maxack";
	else if (al->maxend != want_lmaxend)
		what = "the local side's maxend";
	else if (al->maxwin != want_lmaxwin)
		what = "the local side's maxwin";
	if (what)
		report(P_MODEL, r, "applied segment: %s; want state %d end %u maxwin %u maxack %u, local maxend %u maxwin %u; before %s; after %s",
		       what, want_state, want_end, want_maxwin, want_maxack, want_lmaxend,
		       want_lmaxwin, flow_str(b), flow_str(a));
}

/* The model's expectation for one frame, and all the checks. spec: what
 * the frame was built from when it was not mutated (NULL otherwise). */
static struct run *last_run;

static void one(const char *kind, const uint8_t *in, int len, const struct pg_spec *spec)
{
	static struct run r;
	static struct ent eb[MAX_ENT], ea[MAX_ENT];
	struct op q;
	struct xdpct_flow f;
	struct xdpct_pending pe;
	struct xdpct_req_attrs want_attrs;
	const struct ent *fb = NULL, *fa;
	gkey k, pbefore[MAX_ENT], pafter[MAX_ENT];
	int nb, na, npb, npa, tbl = T_PROT, why = P_MODEL, err_want = -1, creates = 0;
	int ck0 = -1, ck1 = -1, ns = -1, st = 0, cls = 0, dir = 0, ct_inv_want = 0, wres = WIN_ANY;
	bool prot = false, tx_ok = false, have_f = false, syn_only = false, maybe = true;
	bool nl_want = false, lost_want = false, older0 = false, older1 = false;
	bool other_tbl = false, csum_ok = true, window = false, ignore = false, invalid = false;
	bool pend_ack = false, pe_have = false, reopen = false, bad_src = false;
	bool rst_exact = false, rst_below = false, synack_exact = true;
	bool refused = false, challenged = false, deferred = false, own_change = false, vok;
	uint64_t vmask = 0, t0, t1, tm = 0, tp;

	/* room for one more flow, before the model looks at the maps */
	if (n_live >= MAX_LIVE)
		live_drop((int)rn2((uint32_t)n_live));
	memset(&k, 0, sizeof(k));
	r.kind = kind;
	r.idx = n_total++;
	kind_made[cur_kind]++;
	r.in = in;
	r.in_len = len;
	r.out_len = 0;
	nb = ents_dump(eb, MAX_ENT);
	npb = pending_list(pbefore, MAX_ENT);
	if (nb < 0 || npb < 0) {
		report(P_NO_ENTRY, &r, "the tables hold more than %d entries", MAX_ENT);
		lives_clear();
		nb = npb = 0;
	}

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
		if (!prot && !is_obs(q.dport) && !is_obs(q.sport) &&
		    !(conf.flags & XDPCT_CFG_TRACK_ALL)) {
			vmask = VM(V_PASS_UNPROTECTED);
			break;
		}
		if (!flags_valid(q.flags)) {
			/* first, whatever the entry; observing never drops */
			why = P_FLAGS;
			mc[prot ? MC_FLAGS_PROT : MC_FLAGS_OBS]++;
			vmask = prot ? VM(V_DROP_BAD_FLAGS) : VM(V_PASS_UNTRACKED);
			ct_inv_want = !prot;
			break;
		}
		gkey_of(&q, &k);
		tbl = prot ? T_PROT : T_OBS;
		syn_only = (q.flags & (F_SYN | F_ACK)) == F_SYN;
		csum_ok = pg_tcp_csum_ok(q.family, q.saddr, q.daddr, q.tcp, q.tcp_len);
		bad_src = martian(q.family, q.saddr) || mac_bad(in);
		/* the filter first: a clear bit means no entry, no lookup */
		maybe = !prot || xdpct_seen_test(&seen, seen_bit_of(&k));
		fb = ent_find(eb, nb, &k, tbl);
		other_tbl = ent_find(eb, nb, &k, tbl ^ 1) != NULL;
		if (fb && !maybe)
			report(P_SEEN, &r, "entry %s without its xdpct_seen bit", gkey_str(&k));
		have_f = fb && maybe;
		if (other_tbl && !have_f)
			mc[MC_DECOY]++;
		if (have_f) {
			f = fb->v;
			st = f.state < XDPCT_CT_MAX ? f.state : 0;
		}
		if (have_f && prot && syn_only &&
		    ((f.flags & XDPCT_FLOW_PENDING) ||
		     (st != XDPCT_CT_TIME_WAIT && st != XDPCT_CT_CLOSE))) {
			/* the client's SYN again: its cookie again; a live
			 * connection's: the kernel's challenge ACK */
			if (!(f.flags & XDPCT_FLOW_PENDING)) {
				vmask = VM(V_PASS_SYN_TRACKED);
			} else if (bad_src) { /* an answer: never to a martian */
				why = P_BAD_SOURCE;
				vmask = VM(V_DROP_BAD_SOURCE);
			} else if (!q.opt_ok) {
				vmask = VM(V_DROP_MALFORMED);
				err_want = S(ERR_TCP_OPT);
			} else {
				vmask = VM(V_TX_SYNACK);
				tx_ok = true;
			}
			break;
		}
		if (have_f) {
			const struct xdpct_dir *L = &f.dir[XDPCT_LOCAL];
			bool fin_acked = (f.tcp_flags[XDPCT_LOCAL] & F_FIN) && !after(L->end, q.ack);

			dir = f.flags & XDPCT_FLOW_REMOTE_OPENED ? XDPCT_DIR_ORIG : XDPCT_DIR_REPLY;
			cls = pkt_class(q.flags);
			pend_ack = (f.flags & XDPCT_FLOW_PENDING) &&
				   (q.flags & (F_ACK | F_RST | F_SYN)) == F_ACK;
			pe_have = pend_ack && !bpf_map_lookup_elem(pending_fd, &k, &pe);
			if (syn_only && (st == XDPCT_CT_TIME_WAIT || st == XDPCT_CT_CLOSE)) {
				/* a new connection on the old tuple: tracked from
				 * its SYN once its checksum holds */
				reopen = true;
				if (csum_ok) {
					vmask = VM(V_PASS_CT_NEW);
					creates = 3;
				} else {
					why = P_CSUM;
					vmask = VM(V_PASS_FLOW);
					mc[MC_REOPEN_DEFER]++;
				}
				break;
			}
			ns = ct_table[dir][cls][st];
			if (ns == XDPCT_CT_INVALID) {
				invalid = true;
				mc[MC_FLOW_INVALID]++;
				vmask = prot ? VM(V_DROP_CT_INVALID) : VM(V_PASS_FLOW);
				ct_inv_want = 1;
				break;
			}
			if (ns == XDPCT_CT_IGNORE) {
				ignore = true;
				mc[MC_FLOW_IGNORE]++;
				vmask = VM(V_PASS_FLOW);
				break;
			}
			/* the window checks decide between passing and
			 * refusing: the model takes either, then checks what
			 * each must do */
			window = true;
			ct_inv_want = -1;
			if (ns == XDPCT_CT_CLOSE_WAIT && st == XDPCT_CT_FIN_WAIT && !fin_acked)
				ns = st; /* only the other side's ACK of the FIN */
			if (ns == XDPCT_CT_TIME_WAIT && st == XDPCT_CT_LAST_ACK &&
			    cls == XDPCT_PKT_ACK && !fin_acked)
				ns = st; /* only the ACK of the last FIN */
			if ((f.flags & XDPCT_FLOW_PENDING) && ns == XDPCT_CT_ESTABLISHED)
				ns = st; /* established when the child exists */
			if (cls == XDPCT_PKT_RST && (f.flags & XDPCT_FLOW_SEEN_LOCAL) &&
			    !(f.flags & XDPCT_FLOW_SEEN_REMOTE)) {
				/* the answer to this host's SYN: taken when it
				 * acks the SYN exactly, whatever its seq */
				rst_exact = (q.flags & F_ACK) && q.ack == L->end;
				rst_below = !rst_exact;
				mc[MC_RST_TO_SYN]++;
			} else if (cls == XDPCT_PKT_RST && (f.flags & XDPCT_FLOW_SEEN_LOCAL)) {
				bool acked = f.tcp_flags[XDPCT_LOCAL] & F_ACK;

				rst_below = acked && after(L->maxack, q.seq);
				rst_exact = (acked && q.seq == L->maxack) ||
					    ((f.flags & XDPCT_FLOW_SEEN_REMOTE) &&
					     q.seq == f.dir[XDPCT_REMOTE].end);
			} else if (cls == XDPCT_PKT_RST) {
				rst_exact = true; /* nothing to hold it against */
			}
			if (cls == XDPCT_PKT_SYNACK && (f.flags & XDPCT_FLOW_SEEN_LOCAL))
				synack_exact = q.ack == L->end;
			wres = window_model(&f, &q, st, dir);
			if (wres == WIN_OK && rst_below)
				wres = WIN_SEQ; /* below the receiver's ack: as outside */
			if (wres == WIN_ANY) {
				vmask = VM(V_PASS_FLOW);
				if (prot) {
					vmask |= VM(V_DROP_ACK_WINDOW) | (cls == XDPCT_PKT_RST ?
							VM(V_DROP_RST_WINDOW) : VM(V_DROP_SEQ_WINDOW));
					if (rst_below || !synack_exact)
						vmask &= ~VM(V_PASS_FLOW);
				}
				break;
			}
			mc[wres == WIN_OK ? MC_FLOW_WINDOW_OK : MC_FLOW_WINDOW_OUT]++;
			ct_inv_want = wres != WIN_OK;
			vmask = !prot || wres == WIN_OK ? VM(V_PASS_FLOW) :
				wres == WIN_ACK ? VM(V_DROP_ACK_WINDOW) :
				cls == XDPCT_PKT_RST ? VM(V_DROP_RST_WINDOW) : VM(V_DROP_SEQ_WINDOW);
			break;
		}
		/* no entry */
		if (!prot) {
			if (syn_only && !bad_src) {
				vmask = VM(V_PASS_CT_NEW);
				creates = 2;
			} else {
				vmask = VM(V_PASS_UNTRACKED);
				if (syn_only) { /* a SYN Linux would not answer */
					why = P_BAD_SOURCE;
					mc[MC_BAD_SRC_OBS]++;
					ct_inv_want = 1;
				}
			}
			break;
		}
		if ((conf.flags & XDPCT_CFG_LOCAL_ONLY) && !addr_local(q.family, q.daddr)) {
			why = P_LOCAL;
			mc[MC_NOT_LOCAL]++;
			vmask = VM(V_PASS_NOT_LOCAL);
			break;
		}
		if (bad_src) {
			why = P_BAD_SOURCE;
			mc[MC_BAD_SRC_PROT]++;
			vmask = VM(V_DROP_BAD_SOURCE);
			break;
		}
		if (syn_only) {
			nl_want = !maybe;
			if (!q.opt_ok) {
				vmask = VM(V_DROP_MALFORMED);
				err_want = S(ERR_TCP_OPT);
			} else {
				vmask = VM(V_TX_SYNACK);
				tx_ok = true;
			}
			break;
		}
		/* no entry, no cookie: the kernel's socket is looked for only
		 * when the bit says there may be one (none in this test) */
		if ((q.flags & (F_ACK | F_RST | F_SYN)) == F_ACK) {
			why = P_KEY_SEL;
			tm = mono_ns();
			ck0 = cookie_model(&q, abs_slot(tm), &older0);
			vmask = cookie_vm(ck0);
			lost_want = maybe && ck0 != CK_GOOD;
			break;
		}
		lost_want = maybe;
		vmask = VM(V_DROP_NO_FLOW);
		break;
	}

	t0 = mono_ns();
	run_frame(&r);
	t1 = mono_ns();
	last_run = &r;
	/* a slot turned since the model's reading: either (a cookie of the
	 * next slot asks the precise clock, a tick ahead of the BPF clock) */
	tp = clock_read_ns(CLOCK_MONOTONIC); /* bpf_ktime_get_ns() */
	if (ck0 >= 0 && abs_slot(tp) != abs_slot(tm)) {
		ck1 = cookie_model(&q, abs_slot(tp), &older1);
		vmask |= cookie_vm(ck1);
	}
	if (ck0 >= 0) /* the socket is looked for when the cookie failed */
		lost_want = maybe && r.vstat != S(V_PASS_COOKIE);

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

	/* verdict and its counters (the detail counters of another verdict
	 * than the model's are not judged: the verdict's report says it) */
	vok = vmask & (1ULL << r.vstat);
	if (!vok) {
		char want[300] = "";
		int n = 0, p = why != P_MODEL ? why : prop_of_stat(r.vstat);

		for (int i = 0; i < XDPCT_STAT_MAX; i++)
			if (vmask & (1ULL << i))
				n += snprintf(want + n, sizeof(want) - n, "%s%s", n ? "|" : "",
					      stat_name[i]);
		report(p, &r, "counter %s (verdict %s), model says %s (counters: %s)",
		       stat_name[r.vstat], vname(r.verdict), want, moved(&r));
		if (prop_of_stat(r.vstat) != P_MODEL && prop_of_stat(r.vstat) != p)
			report(prop_of_stat(r.vstat), &r, "counter %s, model says %s",
			       stat_name[r.vstat], want);
		/* a flow's verdict for a key whose entry is in the other table */
		if (other_tbl && !have_f && p != P_TABLE &&
		    (r.vstat == S(V_PASS_FLOW) || r.vstat == S(V_PASS_SYN_TRACKED) ||
		     r.vstat == S(V_DROP_CT_INVALID) || r.vstat == S(V_DROP_SEQ_WINDOW) ||
		     r.vstat == S(V_DROP_ACK_WINDOW) || r.vstat == S(V_DROP_RST_WINDOW)))
			report(P_TABLE, &r, "%s has an entry in the other table only: counter %s, model says %s",
			       gkey_str(&k), stat_name[r.vstat], want);
	}
	if (vok) {
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
	refused = !strncmp(stat_id[r.vstat], "V_DROP", 6) || (window && !prot && r.d[S(CT_INVALID)]);
	challenged = r.d[S(CT_RST_CHALLENGE)] != 0;
	deferred = r.d[S(CT_CSUM_DEFER)] != 0;
	if (r.vstat == S(V_TX_SYNACK) && !r.d[S(SYN_SEEN)])
		report(P_MODEL, &r, "a SYN-ACK without syn_seen: %s", moved(&r));
	if (r.d[S(SYN_SEEN)] && !(prot && syn_only))
		report(P_MODEL, &r, "syn_seen on a frame that is no SYN to a protected port: %s",
		       moved(&r));
	if (vok && r.d[S(SYN_NO_LOOKUP)] != (nl_want ? 1 : 0))
		report(P_SEEN, &r, "syn_no_lookup %+lld, want %+d (bit %s; counters %s)",
		       (long long)r.d[S(SYN_NO_LOOKUP)], nl_want ? 1 : 0,
		       nl_want ? "clear" : "set or no protected SYN", moved(&r));
	if (vok && r.d[S(LOST_LOOKUP)] != (lost_want ? 1 : 0))
		report(P_LOST, &r, "lost_lookup %+lld, want %+d (bit %s; counters %s)",
		       (long long)r.d[S(LOST_LOOKUP)], lost_want ? 1 : 0, maybe ? "set" : "clear",
		       moved(&r));
	if (r.d[S(CT_READOPT)] || r.vstat == S(V_PASS_KERNEL_TW))
		report(P_LOST, &r, "a kernel socket found for %s: %s", gkey_str(&k), moved(&r));
	if (r.vstat == S(V_PASS_COOKIE) && !r.d[S(COOKIE_GOOD)])
		report(P_MODEL, &r, "cookie passed without cookie_good: %s", moved(&r));
	if (r.vstat == S(V_PASS_COOKIE)) {
		bool ok = ck1 < 0 ? r.d[S(COOKIE_PREV_KEY)] == older0 :
				    r.d[S(COOKIE_PREV_KEY)] == older0 || r.d[S(COOKIE_PREV_KEY)] == older1;

		if (!ok)
			report(P_KEY_SEL, &r, "cookie_prev_key %+lld, want %+d (slot %llu, key_sel %llu << 1 | %llu)",
			       (long long)r.d[S(COOKIE_PREV_KEY)], older0,
			       (unsigned long long)abs_slot(t0),
			       (unsigned long long)(conf.key_sel >> 1),
			       (unsigned long long)(conf.key_sel & 1));
		mc[r.d[S(COOKIE_PREV_KEY)] ? MC_COOKIE_OLDER : MC_COOKIE_NEWER]++;
	} else if (r.d[S(COOKIE_PREV_KEY)] || r.d[S(COOKIE_GOOD)]) {
		report(P_KEY_SEL, &r, "cookie counters on %s: %s", stat_name[r.vstat], moved(&r));
	}
	if (vok && ct_inv_want >= 0 && r.d[S(CT_INVALID)] != ct_inv_want)
		report(why == P_FLAGS ? P_FLAGS : why == P_BAD_SOURCE ? P_BAD_SOURCE : P_MODEL, &r,
		       "ct_invalid %+lld, want %+d (counters %s)", (long long)r.d[S(CT_INVALID)],
		       ct_inv_want, moved(&r));
	if (vok && r.d[S(CT_REOPEN)] != (reopen && csum_ok ? 1 : 0))
		report(P_MODEL, &r, "ct_reopen %+lld, want %+d", (long long)r.d[S(CT_REOPEN)],
		       reopen && csum_ok);
	if (deferred && (!(window || reopen) || csum_ok || r.vstat != S(V_PASS_FLOW)))
		report(P_CSUM, &r, "ct_csum_defer on %s (%s checksum, %s)", stat_name[r.vstat],
		       csum_ok ? "a good" : "a bad", window || reopen ? "a flow's segment" :
		       "no segment through the window");
	if (challenged && !(window && !refused && cls == XDPCT_PKT_RST && !rst_exact))
		report(P_MODEL, &r, "ct_rst_challenge on %s (%s RST)", stat_name[r.vstat],
		       rst_exact ? "an exact" : "no in-window");
	if (window && !refused && cls == XDPCT_PKT_RST && !rst_exact && !challenged)
		report(P_MODEL, &r, "an in-window RST not at the expected seq, passed without a challenge (%s)",
		       moved(&r));
	if (window && refused && !r.d[S(CT_INVALID)])
		report(P_MODEL, &r, "refused without ct_invalid: %s", moved(&r));
	if (window && !refused && r.d[S(CT_INVALID)])
		report(P_MODEL, &r, "ct_invalid on a passed segment: %s", moved(&r));
	if (r.d[S(CT_PENDING_LOST)] != (r.vstat == S(V_PASS_FLOW) && pend_ack && !pe_have))
		report(P_MODEL, &r, "ct_pending_lost %+lld on %s (pending ACK %d, pending entry %d)",
		       (long long)r.d[S(CT_PENDING_LOST)], stat_name[r.vstat], pend_ack, pe_have);
	if (r.d[S(CT_TAG_MISMATCH)] || r.d[S(CT_LOCK_BUSY)] || r.d[S(CT_SYNC_SOCKET)])
		report(P_ENTRY_INV, &r, "lock or tag trouble on one CPU: %s", moved(&r));

	/* XDP_TX only for a well-formed SYN to a protected port */
	if (r.verdict == XDP_TX) {
		n_tx++;
		if (!tx_ok)
			report(P_TX_ONLY, &r, "XDP_TX, but the model sees %s",
			       q.res != R_TCP ? "no well-formed TCP" :
			       !prot ? "no protected port" :
			       (q.flags & (F_SYN | F_ACK | F_RST | F_FIN)) != F_SYN ? "no SYN" :
			       !q.opt_ok ? "bad options" : "no SYN to answer");
		else {
			uint32_t cookie = 0, tsval = 0;
			long before_fail = p_fail[P_SYNACK] + p_fail[P_KEY_SEL];

			check_synack(&r, &q, t0, t1, &cookie, &tsval);
			/* an unmutated SYN's reply: its ACK comes later */
			if (spec && p_fail[P_SYNACK] + p_fail[P_KEY_SEL] == before_fail)
				rec_add(spec, cookie, q.ts && (conf.flags & XDPCT_CFG_TIMESTAMPS),
					tsval);
		}
	}

	/* passed frames: untouched, metadata only in front of cookie ACKs, of
	 * ACKs of pending flows (their attributes again) and of segments
	 * whose state change waits for TC (XDPCT_META_CT) */
	if (r.verdict == XDP_PASS) {
		uint32_t want_what = 0;
		struct xdpct_meta m;

		memset(&want_attrs, 0, sizeof(want_attrs));
		if (r.vstat == S(V_PASS_COOKIE)) {
			want_what = XDPCT_META_ATTRS;
			cookie_attrs(&q, &want_attrs);
		} else if (r.vstat == S(V_PASS_FLOW)) {
			if (deferred)
				want_what |= XDPCT_META_CT;
			if (pend_ack && pe_have) {
				want_what |= XDPCT_META_ATTRS;
				want_attrs = pe.attrs;
			}
		}
		if (r.meta_len != 0 && r.meta_len != (int)sizeof(struct xdpct_meta))
			report(P_UNTOUCHED, &r, "metadata of %d bytes", r.meta_len);
		else if (r.meta_len && !want_what)
			report(P_UNTOUCHED, &r, "metadata on %s", stat_name[r.vstat]);
		else if (!r.meta_len && want_what)
			report(P_UNTOUCHED, &r, "no metadata on %s (want what 0x%x)",
			       stat_name[r.vstat], want_what);
		else if (r.out_len - r.meta_len != len || memcmp(r.out + r.meta_len, in, len))
			report(P_UNTOUCHED, &r, "frame changed (%d bytes out)", r.out_len - r.meta_len);
		else if (r.meta_len) {
			memcpy(&m, r.out, sizeof(m));
			if (m.magic != XDPCT_META_MAGIC)
				report(P_UNTOUCHED, &r, "metadata magic 0x%08x", m.magic);
			else if (m.what != want_what)
				report(P_UNTOUCHED, &r, "metadata what 0x%x, want 0x%x", m.what,
				       want_what);
			else if (memcmp(&m.attrs, &want_attrs, sizeof(want_attrs)))
				report(P_UNTOUCHED, &r, "handover attributes %s, want %s",
				       hexs((const uint8_t *)&m.attrs, sizeof(m.attrs)),
				       hexs((const uint8_t *)&want_attrs, sizeof(want_attrs)));
		}
	}

	/* the entries after: well formed; the frame's own the only one that
	 * may have changed or appeared */
	na = ents_dump(ea, MAX_ENT);
	npa = pending_list(pafter, MAX_ENT);
	if (na < 0 || npa < 0) {
		report(P_NO_ENTRY, &r, "the tables hold more than %d entries", MAX_ENT);
		lives_clear();
		return;
	}
	for (int i = 0; i < na; i++) {
		const struct xdpct_flow *v = &ea[i].v;

		if (v->tag != tag_of(&ea[i].k) || v->lock || v->state >= XDPCT_CT_MAX) {
			report(P_ENTRY_INV, &r, "%s entry %s on %s: tag %08x (want %08x) lock %u state %u",
			       t_name[ea[i].tbl], gkey_str(&ea[i].k), stat_name[r.vstat], v->tag,
			       tag_of(&ea[i].k), v->lock, v->state);
			break;
		}
		if (ea[i].tbl == T_PROT && !xdpct_seen_test(&seen, seen_bit_of(&ea[i].k))) {
			report(P_SEEN, &r, "entry %s without its xdpct_seen bit on %s",
			       gkey_str(&ea[i].k), stat_name[r.vstat]);
			break;
		}
	}
	fa = have_f ? ent_find(ea, na, &k, tbl) : NULL;
	if (have_f && !fa) {
		report(P_ENTRY, &r, "%s entry %s vanished on %s", t_name[tbl], gkey_str(&k),
		       stat_name[r.vstat]);
		lives_clear();
		return;
	}
	if (have_f) {
		/* a refused, challenged or deferred segment changes nothing */
		bool ident = refused || challenged || deferred || invalid || tx_ok ||
			     r.vstat == S(V_PASS_SYN_TRACKED);

		own_change = !ident;
		if (ident && memcmp(&fb->v, &fa->v, sizeof(fa->v)))
			report(P_ENTRY_INV, &r, "%s changed the entry: before %s; after %s",
			       stat_name[r.vstat], flow_str(&fb->v), flow_str(&fa->v));
		if (vok && ignore) {
			struct xdpct_flow x = fb->v;

			x.packets[XDPCT_REMOTE] += 1;
			x.bytes[XDPCT_REMOTE] += (uint32_t)q.ip_len;
			x.last_tick = fa->v.last_tick;
			if (memcmp(&x, &fa->v, sizeof(x)))
				report(P_MODEL, &r, "a segment the table ignores moved more than its counters: before %s; after %s",
				       flow_str(&fb->v), flow_str(&fa->v));
		}
		if (vok && window && !refused && !challenged && !(cls == XDPCT_PKT_RST && !rst_exact)) {
			bool need = ns != st || (q.flags & (F_FIN | F_RST));

			if (!csum_ok && need && !deferred)
				report(P_CSUM, &r, "a bad checksum, and the state went %u -> %u%s without deferring",
				       st, fa->v.state, q.flags & F_FIN ? " (FIN)" :
				       q.flags & F_RST ? " (RST)" : "");
			else if (deferred && !need)
				report(P_CSUM, &r, "deferred a segment that changes no state (%u)", st);
			else if (!deferred)
				check_applied(&r, &q, &fb->v, &fa->v,
					      cls == XDPCT_PKT_RST ? XDPCT_CT_CLOSE : ns);
		}
		if (vok && window && !prot && (rst_below || !synack_exact) && !refused)
			report(P_MODEL, &r, "observed: %s passed unrefused",
			       rst_below ? "a RST below the receiver's ack" :
			       "a SYN-ACK that does not ack the SYN");
		if (vok && reopen && csum_ok) {
			const struct xdpct_flow *a = &fa->v;
			uint32_t end = q.seq + (uint32_t)(q.tcp_len - q.thl) + 1;

			if (a->state != XDPCT_CT_SYN_SENT || !(a->flags & XDPCT_FLOW_REMOTE_OPENED) ||
			    a->packets[XDPCT_REMOTE] != 1 || a->packets[XDPCT_LOCAL] ||
			    a->dir[XDPCT_REMOTE].end != end)
				report(P_ENTRY, &r, "reopened entry: %s; want SYN_SENT, remote opened, end %u, one packet",
				       flow_str(a), end);
		}
	}
	if (deferred)
		n_deferred++;
	for (int i = 0; i < nb; i++) {
		const struct ent *e = &eb[i], *a = ent_find(ea, na, &e->k, e->tbl);

		if (!a) {
			report(P_ENTRY, &r, "%s entry %s vanished on %s", t_name[e->tbl],
			       gkey_str(&e->k), stat_name[r.vstat]);
			lives_clear();
			return;
		}
		if (own_change && e == fb)
			continue;
		if (memcmp(&e->v, &a->v, sizeof(a->v))) {
			report(P_ENTRY_INV, &r, "%s entry %s (not the frame's flow) changed on %s: before %s; after %s",
			       t_name[e->tbl], gkey_str(&e->k), stat_name[r.vstat], flow_str(&e->v),
			       flow_str(&a->v));
			break;
		}
	}

	/* new entries: a cookie ACK's in the protected table, an observed
	 * SYN's in the observed one, nothing else */
	for (int i = 0; i < na; i++) {
		const struct ent *e = &ea[i];
		bool same = !memcmp(&e->k, &k, sizeof(k));

		if (ent_find(eb, nb, &e->k, e->tbl))
			continue;
		if (same && ((r.vstat == S(V_PASS_COOKIE) && e->tbl == T_PROT) ||
			     (r.vstat == S(V_PASS_CT_NEW) && creates == 2 && e->tbl == T_OBS)))
			continue;
		/* the key's in the other table than its port's: the table rule */
		report(same && e->tbl != tbl ? P_TABLE : P_NO_ENTRY, &r, "%s entry %s appeared on %s",
		       t_name[e->tbl], gkey_str(&e->k), stat_name[r.vstat]);
		lives_clear();
		return;
	}
	if (r.vstat == S(V_PASS_COOKIE) || (r.vstat == S(V_PASS_CT_NEW) && creates == 2)) {
		int t = r.vstat == S(V_PASS_COOKIE) ? T_PROT : T_OBS;
		const struct ent *e = ent_find(ea, na, &k, t);

		if (r.vstat == S(V_PASS_COOKIE))
			n_cookie_good++;
		if (!e) {
			report(P_ENTRY, &r, "%s: no %s entry %s", stat_name[r.vstat], t_name[t],
			       gkey_str(&k));
		} else if (!ent_find(eb, nb, &k, t)) {
			const struct xdpct_flow *v = &e->v;
			uint32_t plen = (uint32_t)(q.tcp_len - q.thl);

			if (t == T_PROT &&
			    (v->state != XDPCT_CT_SYN_RECV ||
			     (v->flags & (XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED)) !=
				     (XDPCT_FLOW_PENDING | XDPCT_FLOW_COOKIE | XDPCT_FLOW_REMOTE_OPENED) ||
			     v->dir[XDPCT_LOCAL].end != q.ack ||
			     v->dir[XDPCT_REMOTE].end != q.seq + plen + !!(q.flags & F_FIN) ||
			     v->packets[XDPCT_REMOTE] != 1))
				report(P_ENTRY, &r, "cookie ACK: entry %s; want SYN_RECV, PENDING|COOKIE|REMOTE_OPENED, local end %u, remote end %u",
				       flow_str(v), q.ack, q.seq + plen + !!(q.flags & F_FIN));
			if (t == T_OBS &&
			    (v->state != XDPCT_CT_SYN_SENT || !(v->flags & XDPCT_FLOW_REMOTE_OPENED) ||
			     v->dir[XDPCT_REMOTE].end != q.seq + plen + 1 ||
			     v->packets[XDPCT_REMOTE] != 1))
				report(P_ENTRY, &r, "observed SYN: entry %s; want SYN_SENT, remote opened, end %u",
				       flow_str(v), q.seq + plen + 1);
			live_add(&k, t, spec, &q, v);
		}
		if (r.vstat == S(V_PASS_COOKIE) && ent_find(ea, na, &k, T_OBS) &&
		    !ent_find(eb, nb, &k, T_OBS))
			report(P_TABLE, &r, "cookie ACK made an observed entry");
	}
	if (have_f) {
		int li = live_find(&k, tbl);

		if (li >= 0) { /* the next frames near the new numbers */
			lives[li].v = fa->v;
		}
	}
	/* the pending map gains an entry only with a cookie ACK */
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

/* Writes conf to the maps: the config, and the ports map (ports of the
 * last config cleared). The test is the only user of the maps: a plain
 * update of the whole value. */
static void write_config(void)
{
	static uint16_t old[2 * MAX_PORTS];
	static int n_old;
	struct xdpct_config cfg = {};
	uint32_t zero = 0, port;
	uint8_t v = 0;
	int err = 0;

	cfg.keys[0] = conf.keys[0];
	cfg.keys[1] = conf.keys[1];
	cfg.key_sel = conf.key_sel;
	cfg.slot_shift = conf.slot_shift;
	cfg.flags = conf.flags;
	cfg.mss4 = MSS4;
	cfg.mss6 = MSS6;
	cfg.wscale = WSCALE;
	cfg.ttl = TTL;
	if (conf.mac_check)
		memcpy(cfg.if_mac, SRV_MAC, 6);
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

/* The cookie keys of a new config (include/xdpct.h, key_sel; user/config.c
 * config_commit()): keys[i] signs the slots from S on, keys[i ^ 1] those
 * before. A rotation writes the new key over keys[i ^ 1], which signs no
 * live slot any more once slot S is past, and makes it sign the slots
 * from the next one (ROT_NEXT), as xdpct does; the test also writes the
 * state such a rotation is in a slot or two later (ROT_SETTLED: the new
 * key signs this slot, maybe the last, the older key the ones before),
 * which the clock alone would take a minute to reach. FRESH: a new key
 * for every slot, the old ones dead (a new attachment); the slot length
 * may change with it. */
enum { ROT_NONE, ROT_NEXT, ROT_SETTLED, ROT_FRESH };

static void rotate(int how)
{
	uint64_t now = abs_slot(mono_ns()), first = conf.key_sel >> 1;
	unsigned int i = conf.key_sel & 1;

	switch (how) {
	case ROT_NEXT:
		if (now <= first) /* too soon: keys[i ^ 1] may sign a live slot */
			return;
		key_dead = conf.keys[i ^ 1];
		rand_key(&conf.keys[i ^ 1]);
		conf.key_sel = (now + 1) << 1 | (i ^ 1);
		conf_seen[CS_ROT_NEXT]++;
		break;
	case ROT_SETTLED:
		key_dead = conf.keys[i ^ 1];
		rand_key(&conf.keys[i ^ 1]);
		conf.key_sel = (now - rn(2)) << 1 | (i ^ 1);
		conf_seen[CS_ROT_SETTLED]++;
		break;
	case ROT_FRESH: {
		static const uint8_t shifts[] = { 0, 0, 30, 31, 33, 36, 37, 29, 38, 255 };
		static int n_fresh;
		/* a short slot first (the clock turns slots within a run), then
		 * one out of range (the default in force), then any */
		uint8_t sh = n_fresh == 0 ? 30 : n_fresh == 1 ? 38 : shifts[rn(sizeof(shifts))];

		n_fresh++;

		key_dead = conf.keys[i];
		i = rn(2);
		rand_key(&conf.keys[0]);
		rand_key(&conf.keys[1]);
		conf.slot_shift = sh;
		conf.key_sel = i; /* slot 0 on */
		conf_seen[CS_FRESH]++;
		conf_seen[CS_SHORT_SLOT] += shift_now() <= 31;
		conf_seen[CS_BAD_SHIFT] += sh && shift_now() != sh;
		break;
	}
	default:
		break;
	}
}

/* A new config, every CONF_EVERY frames: the keys rotated or fresh;
 * option flags as sysctls set them; the cookie layout for clients without
 * timestamps; track-all; LOCAL_ONLY; the MAC check; new protected and
 * observed ports (a port may be both: protection wins). A schedule makes
 * each kind come within the first few configs, chance does the rest.
 * Flows and recorded SYN-ACKs stay. XDPCT_CFG_PREV_KEY is set at random:
 * key_sel alone decides. */
static void new_config(void)
{
	static const uint16_t prot_pool[] = { 80, 443, 8443, 25, 5001, 1, 65535 };
	static const uint16_t obs_pool[] = { 8080, 22, 3306, 9000, 443, 2, 65534 };
	static const uint32_t opt[] = { XDPCT_CFG_TIMESTAMPS, XDPCT_CFG_SACK, XDPCT_CFG_WSCALE,
					XDPCT_CFG_ECN };
	static const int rot[] = { ROT_NEXT, ROT_SETTLED, ROT_FRESH, ROT_NEXT, ROT_NONE,
				   ROT_SETTLED, ROT_NEXT, ROT_FRESH };
	uint32_t x = rn(100);

	n_conf++;
	rotate(n_conf <= 8 ? rot[n_conf - 1] :
	       x < 40 ? ROT_NEXT : x < 70 ? ROT_SETTLED : x < 80 ? ROT_FRESH : ROT_NONE);
	for (unsigned int i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		conf.flags = n_conf % 5 != i && chance(85) ? conf.flags | opt[i] :
							     conf.flags & ~opt[i];
	conf.flags = n_conf % 3 == 1 || chance(10) ? conf.flags | XDPCT_CFG_TRACK_ALL :
						    conf.flags & ~XDPCT_CFG_TRACK_ALL;
	conf.flags = n_conf % 4 == 2 || chance(30) ? conf.flags | XDPCT_CFG_LOCAL_ONLY :
						    conf.flags & ~XDPCT_CFG_LOCAL_ONLY;
	conf.flags = n_conf % 3 == 2 || chance(30) ? conf.flags | XDPCT_CFG_NOTS_OPTIONS :
						    conf.flags & ~XDPCT_CFG_NOTS_OPTIONS;
	conf.flags = chance(50) ? conf.flags | XDPCT_CFG_PREV_KEY : conf.flags & ~XDPCT_CFG_PREV_KEY;
	conf.mac_check = n_conf % 4 == 1 || chance(50);
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
	conf_seen[CS_NO_TS] += !(conf.flags & XDPCT_CFG_TIMESTAMPS);
	conf_seen[CS_NO_SACK] += !(conf.flags & XDPCT_CFG_SACK);
	conf_seen[CS_NO_WS] += !(conf.flags & XDPCT_CFG_WSCALE);
	conf_seen[CS_NO_ECN] += !(conf.flags & XDPCT_CFG_ECN);
	conf_seen[CS_LOCAL_ONLY] += !!(conf.flags & XDPCT_CFG_LOCAL_ONLY);
	conf_seen[CS_NOTS_OPTS] += !!(conf.flags & XDPCT_CFG_NOTS_OPTIONS);
	conf_seen[CS_MAC] += conf.mac_check;
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
	else if (x < 360)
		kind = n_live ? K_FLOW : K_OBS_SYN;
	else if (x < 390) /* entries in every state: SYNs on them are rare otherwise */
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
	case K_FORGED:
		forged_ack(&s);
		n = build(&s, b, &L);
		if (n > 0)
			one(k_name[kind], b, n, &s);
		break;
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
		/* a burst on one flow, each frame from where the last left it */
		int li = (int)rn2((uint32_t)n_live), burst = 1 + (int)rn(4), tbl = lives[li].tbl;
		gkey k = lives[li].k;

		for (; burst > 0 && li >= 0; burst--, li = live_find(&k, tbl)) {
			bool reopen = (lives[li].v.state == XDPCT_CT_TIME_WAIT ||
				       lives[li].v.state == XDPCT_CT_CLOSE);

			flow_frame(&lives[li], &s);
			n = build(&s, b, &L);
			if (n <= 0)
				break;
			reopen &= (s.flags & (F_SYN | F_ACK)) == F_SYN;
			/* a checksum XDP cannot verify: TC decides */
			if (chance(reopen ? 25 : 8))
				b[L.l4_off + 16] ^= (uint8_t)(1 + rn(255));
			if (chance(25)) {
				n = mutate(b, n, L.l4_off + L.tcp_hlen);
				one("flow-frame-mutated", b, n, NULL);
			} else {
				one(k_name[kind], b, n, NULL);
			}
		}
		break;
	}
	case K_TEST_FLOW: {
		struct xdpct_pending pe;
		struct xdpct_flow f;
		bool pending;
		struct op q;
		int tbl;
		gkey k;

		test_flow(&s, &f, &tbl, &pending);
		n = build(&s, b, &L);
		if (n <= 0 || m_parse(b, n, &q) != R_TCP)
			break;
		gkey_of(&q, &k);
		if (live_find(&k, tbl) >= 0)
			break;
		if (n_live >= MAX_LIVE)
			live_drop((int)rn2((uint32_t)n_live));
		f.tag = tag_of(&k);
		memset(&pe, 0, sizeof(pe));
		pe.attrs.mss = (uint16_t)rn(65536);
		pe.attrs.rcv_tsval = (uint32_t)r64();
		pe.attrs.sack_ok = 1;
		pe.ho.first_seq = s.seq;
		/* now and then without its pending-map entry (the LRU took
		 * it): no attributes to hand over, ct_pending_lost */
		if (flow_set(&k, tbl, &f) ||
		    (pending && chance(60) && bpf_map_update_elem(pending_fd, &k, &pe, BPF_ANY))) {
			fprintf(stderr, "test_prop: flow write: %s\n", strerror(errno));
			exit(2);
		}
		live_add(&k, tbl, &s, &q, &f);
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
	/* now and then, a clean table; a rebuilt xdpct_seen (the bits of
	 * entries gone are cleared, as xdpct run does); a new config */
	if (rn(2000) == 0)
		lives_clear();
	if (rn(3000) == 0) {
		if (xdpct_seen_rebuild(&seen, tab_fd[T_PROT][0], tab_fd[T_PROT][1], NULL, 0)) {
			fprintf(stderr, "test_prop: xdpct_seen rebuild: %s\n", strerror(errno));
			exit(2);
		}
		n_rebuilds++;
	}
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
	/* small tables: every frame reads all four, twice, and a batch
	 * lookup walks every bucket; the test holds at most MAX_ENT entries,
	 * far below what makes an LRU evict */
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows4, 512), "flows4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_flows6, 512), "flows6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed4, 512), "observed4 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_observed6, 512), "observed6 max_entries");
	CK(!bpf_map__set_max_entries(skel->maps.xdpct_pending, 512), "pending max_entries");
	err = xdpct_bpf__load(skel);
	if (!CK(!err, "xdpct_bpf__load: %s", strerror(-err)))
		return ck_end(), -1;
	prog_fd = bpf_program__fd(skel->progs.xdpct_xdp);
	cfg_fd = bpf_map__fd(skel->maps.xdpct_config);
	ports_fd = bpf_map__fd(skel->maps.xdpct_ports);
	tab_fd[T_PROT][0] = bpf_map__fd(skel->maps.xdpct_flows4);
	tab_fd[T_PROT][1] = bpf_map__fd(skel->maps.xdpct_flows6);
	tab_fd[T_OBS][0] = bpf_map__fd(skel->maps.xdpct_observed4);
	tab_fd[T_OBS][1] = bpf_map__fd(skel->maps.xdpct_observed6);
	local_fd = bpf_map__fd(skel->maps.xdpct_local);
	pending_fd = bpf_map__fd(skel->maps.xdpct_pending);
	stats_fd = bpf_map__fd(skel->maps.xdpct_stats);
	err = xdpct_seen_map(bpf_map__fd(skel->maps.xdpct_seen), NULL, &seen);
	CK(!err, "mmap of xdpct_seen: %s", strerror(-err));
	ncpu = libbpf_num_possible_cpus();
	CK(ncpu > 0, "possible cpus: %d", ncpu);

	CK(!local_fill(), "xdpct_local: %s", strerror(errno));

	/* the first config: every option, 80 protected, 8080 observed, one
	 * key for every slot, the default slot length; then new_config() now
	 * and then */
	conf.flags = CFG_ALL;
	conf.prot[0] = 80;
	conf.obs[0] = 8080;
	conf.n_prot = conf.n_obs = 1;
	rand_key(&conf.keys[0]);
	rand_key(&conf.keys[1]);
	rand_key(&key_dead);
	conf.key_sel = 0;
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
			S(CT_REOPEN), S(COOKIE_PREV_KEY), S(V_PASS_NOT_LOCAL), S(V_DROP_BAD_SOURCE),
			S(V_DROP_CT_INVALID), S(V_DROP_SEQ_WINDOW), S(V_DROP_ACK_WINDOW),
			S(V_DROP_RST_WINDOW), S(CT_RST_CHALLENGE), S(CT_CSUM_DEFER), S(LOST_LOOKUP),
			S(CT_INVALID), S(CT_PENDING_LOST),
		};
		static const char *const by_name[] = { "port", "kernel", "hidden" };
		ck_begin("prop.coverage");
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			CK(tot[need[i]] > 0, "%s never reached", stat_name[need[i]]);
		for (int i = 0; i < MC_MAX; i++)
			CK(mc[i] > 0, "the model never judged a %s", mc_name[i]);
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
		if (tot[i] && i != S(XDP_PACKETS) && !!strncmp(stat_id[i], "TC_", 3))
			ck_note("%-20s %llu", stat_name[i], (unsigned long long)tot[i]);
	for (int i = 0; i < K_MAX; i++)
		ck_note("kind %-14s %ld", k_name[i], kind_seen[i]);
	for (int fr = 0; fr < 2; fr++)
		ck_note("model: %-9s by port %ld passed %ld dropped, by the kernel %ld, hidden %ld",
			fr ? "fragments" : "malformed", m_cls[fr][BY_PORT][0], m_cls[fr][BY_PORT][1],
			m_cls[fr][BY_KERNEL][0], m_cls[fr][BY_HIDDEN][1]);
	for (int i = 0; i < MC_MAX; i++)
		ck_note("model: %-45s %ld", mc_name[i], mc[i]);
	ck_note("%ld configs:", n_conf + 1);
	for (int i = 0; i < CS_MAX; i++)
		ck_note("  %-26s %ld", cs_name[i], conf_seen[i]);
	ck_note("%ld atomic-fragment TCP frames, %ld deferred segments, %ld xdpct_seen rebuilds",
		n_atomic, n_deferred, n_rebuilds);
	ck_note("%ld frames, %ld test runs, %ld SYN-ACKs, %ld cookie ACKs passed, in %.2f s (seed %llu)",
		n_total, n_runs, n_tx, n_cookie_good, secs, seed);
	xdpct_bpf__destroy(skel);
	rc = ck_finish("test_prop");
	return rc;
}
