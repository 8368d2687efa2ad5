/* SPDX-License-Identifier: GPL-2.0 */
/* The one definition of everything the BPF programs and userspace share:
 * map keys and values, enums, counter ids, the config struct.
 * Fixed-width types and explicit padding only: both sides see the same bytes.
 */
#ifndef XDPCT_H
#define XDPCT_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XDPCT_PIN_ROOT "/sys/fs/bpf/xdpct"

/* Map names (also the pin file names under the pin directory). */
#define XDPCT_MAP_CONFIG "xdpct_config"
#define XDPCT_MAP_PORTS  "xdpct_ports"
#define XDPCT_MAP_FLOWS4 "xdpct_flows4"
#define XDPCT_MAP_FLOWS6 "xdpct_flows6"
#define XDPCT_MAP_PENDING "xdpct_pending"
#define XDPCT_MAP_EVENTS "xdpct_events"
#define XDPCT_MAP_STATS  "xdpct_stats"
#define XDPCT_MAP_SEEN   "xdpct_seen"

#define XDPCT_FLOWS_DEFAULT 1048576

/* xdpct_ports: ARRAY indexed by host-order port, value = these bits. */
enum xdpct_port_flags {
	XDPCT_PORT_PROTECT = 1, /* SYN cookies + drop of untracked non-SYN */
	XDPCT_PORT_OBSERVE = 2, /* track without cookies */
};

/* xdpct_config.flags */
enum xdpct_config_flags {
	XDPCT_CFG_ENABLED = 1 << 0,    /* key written: answer SYNs. Off = pass all */
	XDPCT_CFG_SACK = 1 << 1,       /* net.ipv4.tcp_sack */
	XDPCT_CFG_TIMESTAMPS = 1 << 2, /* net.ipv4.tcp_timestamps */
	XDPCT_CFG_WSCALE = 1 << 3,     /* net.ipv4.tcp_window_scaling */
	XDPCT_CFG_ECN = 1 << 4,        /* net.ipv4.tcp_ecn != 0 */
	XDPCT_CFG_PREV_KEY = 1 << 5,   /* key_prev is valid (after a rotation) */
	XDPCT_CFG_TRACK_ALL = 1 << 6,  /* track every TCP flow (observe mode) */
};

/* SipHash-2-4 key: two 64-bit halves (k0, k1). */
struct xdpct_siphash_key {
	__u64 k0;
	__u64 k1;
};

/* struct xdpct_config (the config map's value) is defined below the
 * connection states: it holds a timeout per state. */

/*
 * Cookie layout (ISN of our SYN-ACK, cookie = ACK's ack_seq - 1):
 *   SYN with timestamps:    hash:27 | slot:2 | mss:3, and the option bits
 *                           (ecn:1 sack:1 wscale:4) in the low 6 bits of TSval.
 *   SYN without timestamps: hash:21 | opts:6 | slot:2 | mss:3
 * hash = low bits of SipHash-2-4(key, words), words = little-endian u64s:
 *   IPv4: w0 = saddr | daddr << 32 (raw network-order u32s as loaded)
 *         w1 = sport | dport << 16 (raw network-order u16s) | client_isn << 32
 *         w2 = data
 *   IPv6: w0,w1 = saddr, w2,w3 = daddr (raw 8-byte loads), w4 as w1, w5 = data
 *   data = mss | slot << 3 | opts << 5 | has_ts << 11   (host order)
 * client_isn = the SYN's seq (host order). Addresses/ports are the SYN's
 * (client -> server) direction. slot = (now >> 36) & 3 (~68.7 s), now = CLOCK_MONOTONIC_COARSE ns;
 * a cookie is valid for slot ages 0 and 1, "stale" for ages 2 and 3.
 */
#define XDPCT_SLOT_SHIFT 36
#define XDPCT_OPT_WSCALE_NONE 0xf
#define XDPCT_OPT_SACK (1 << 4)
#define XDPCT_OPT_ECN (1 << 5)
#define XDPCT_MSS_TABLE_LEN 8
#define XDPCT_MSS4_TABLE { 536, 1200, 1300, 1360, 1400, 1440, 1460, 8960 }
#define XDPCT_MSS6_TABLE { 1220, 1280, 1300, 1360, 1400, 1420, 1440, 8940 }

/* Same layout as the kernel's struct bpf_tcp_req_attrs (20 bytes). */
struct xdpct_req_attrs {
	__u32 rcv_tsval;
	__u32 rcv_tsecr;
	__u16 mss;
	__u8 rcv_wscale;
	__u8 snd_wscale;
	__u8 ecn_ok;
	__u8 wscale_ok;
	__u8 sack_ok;
	__u8 tstamp_ok;
	__u8 usec_ts_ok;
	__u8 reserved[3];
};

/* XDP metadata in front of a validated cookie ACK, read by TC ingress. */
#define XDPCT_META_MAGIC 0x58445043u /* "XDPC" */
struct xdpct_meta {
	__u32 magic;
	struct xdpct_req_attrs attrs;
};

/* Connection states: netfilter conntrack's model. Packed (one byte) so
 * that a flow entry can hold it as an enum: bpftool prints its name. */
enum __attribute__((packed)) xdpct_ct_state {
	XDPCT_CT_NONE = 0,
	XDPCT_CT_SYN_SENT,
	XDPCT_CT_SYN_RECV,
	XDPCT_CT_ESTABLISHED,
	XDPCT_CT_FIN_WAIT,
	XDPCT_CT_CLOSE_WAIT,
	XDPCT_CT_LAST_ACK,
	XDPCT_CT_TIME_WAIT,
	XDPCT_CT_CLOSE,
	XDPCT_CT_SYN_SENT2,
	XDPCT_CT_MAX,
	/* table results that are not states */
	XDPCT_CT_IGNORE = 0x40, /* pass, state unchanged */
	XDPCT_CT_INVALID = 0x80, /* drop on protected ports, count */
};

#define XDPCT_CT_STATE_NAMES                                               \
	{ "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",           \
	  "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2" }

/* Packet classes, netfilter's get_conntrack_index(). */
enum xdpct_ct_pkt {
	XDPCT_PKT_SYN = 0,
	XDPCT_PKT_SYNACK,
	XDPCT_PKT_FIN,
	XDPCT_PKT_ACK,
	XDPCT_PKT_RST,
	XDPCT_PKT_NONE,
	XDPCT_PKT_MAX,
};
#define XDPCT_CT_PKT_NAMES { "SYN", "SYN-ACK", "FIN", "ACK", "RST", "NONE" }

/* Direction relative to the connection: ORIG is the side that opened it. */
enum xdpct_ct_dir { XDPCT_DIR_ORIG = 0, XDPCT_DIR_REPLY = 1 };

/*
 * The transition table: [direction][packet class][state] -> next state,
 * netfilter's tcp_conntracks. The one place the state machine lives: the
 * BPF programs index it, `xdpct states --dot` draws it (make docs).
 * Refinements made in code (bpf/conntrack.h), on top of the table:
 *  - FIN_WAIT -> CLOSE_WAIT only for an ACK from the other side that
 *    acknowledges the FIN; SYN_RECV -> ESTABLISHED for a cookie flow when
 *    the listener's child socket exists.
 *  - RST: out of the receiver's window is dropped; in window but not at the
 *    exact expected seq is passed to the host stack (which answers it with
 *    an RFC 5961 challenge ACK) and the state stays; exact -> CLOSE.
 */
#define sNO XDPCT_CT_NONE
#define sSS XDPCT_CT_SYN_SENT
#define sSR XDPCT_CT_SYN_RECV
#define sES XDPCT_CT_ESTABLISHED
#define sFW XDPCT_CT_FIN_WAIT
#define sCW XDPCT_CT_CLOSE_WAIT
#define sLA XDPCT_CT_LAST_ACK
#define sTW XDPCT_CT_TIME_WAIT
#define sCL XDPCT_CT_CLOSE
#define sS2 XDPCT_CT_SYN_SENT2
#define sIV XDPCT_CT_INVALID
#define sIG XDPCT_CT_IGNORE
#define XDPCT_CT_TABLE {                                                       \
	{ /* ORIG */                                                          \
	/*          sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */         \
	/*syn*/    { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },        \
	/*synack*/ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },        \
	/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },        \
	/*ack*/    { sIV, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },        \
	/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },        \
	/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },        \
	},                                                                    \
	{ /* REPLY */                                                         \
	/*          sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */         \
	/*syn*/    { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },        \
	/*synack*/ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },        \
	/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },        \
	/*ack*/    { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },        \
	/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },        \
	/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },        \
	},                                                                    \
}

/* Default timeouts in seconds, netfilter's, indexed by state. */
#define XDPCT_CT_TIMEOUTS                                                   \
	{ 10, 120, 60, 432000, 120, 60, 30, 120, 10, 120 }

/* xdpct_config: ARRAY with one entry (key 0). Written by the loader. */
struct xdpct_config {
	struct xdpct_siphash_key key_cur;
	struct xdpct_siphash_key key_prev;
	__u32 flags;      /* enum xdpct_config_flags */
	__u16 mss4;       /* MSS we advertise over IPv4 (MTU - 40) */
	__u16 mss6;       /* MSS we advertise over IPv6 (MTU - 60) */
	__u8 wscale;      /* window shift we advertise: the kernel's own choice */
	__u8 ttl;         /* TTL / hop limit of our SYN-ACKs */
	__u16 pad0;
	__u32 key_epoch;  /* bumped on every key rotation */
	__u64 key_set_ns; /* CLOCK_MONOTONIC of the last rotation */
	/* The eviction timeouts in force, in seconds, for the readers of the
	 * tables (`xdpct conns`, `xdpct status`): written by `xdpct run` at
	 * its start, kept by key rotations and config rewrites; 0 = not set,
	 * the default (XDPCT_CT_TIMEOUTS; pending: the cookie's validity).
	 * The BPF programs do not read them. */
	__u32 timeout_s[XDPCT_CT_MAX]; /* idle time after the last packet */
	__u32 pending_timeout_s;       /* PENDING flows, after the cookie ACK */
	__u32 pad1;
};

/* xdpct_flow.flags */
enum xdpct_flow_flags {
	XDPCT_FLOW_PENDING = 1 << 0, /* cookie ACK handed over, child not seen yet */
	XDPCT_FLOW_COOKIE = 1 << 1,  /* entered through a valid cookie */
	XDPCT_FLOW_REMOTE_OPENED = 1 << 2, /* the remote side sent the first SYN */
	XDPCT_FLOW_ADOPTED = 1 << 3, /* seeded from a kernel socket at attach */
	XDPCT_FLOW_SEEN_REMOTE = 1 << 4, /* dir[REMOTE] seq/ack are known */
	XDPCT_FLOW_SEEN_LOCAL = 1 << 5,  /* dir[LOCAL] seq/ack are known */
};

/* Flow keys, seen from this host: remote = the far side of the interface.
 * XDP (ingress) takes remote = source; TC egress takes remote = destination,
 * so both directions find one entry without comparing addresses.
 * One map per family keeps an IPv4 entry at 64 bytes. */
struct xdpct_flow4_key {
	__be32 raddr;
	__be32 laddr;
	__be16 rport;
	__be16 lport;
};

struct xdpct_flow6_key {
	__be32 raddr[4];
	__be32 laddr[4];
	__be16 rport;
	__be16 lport;
};

/* Either family, for code that handles both (the pending map, userspace). */
struct xdpct_flow_key {
	__u8 family; /* 4 or 6 */
	__u8 pad0;
	__be16 rport;
	__be16 lport;
	__u16 pad1;
	__be32 raddr[4]; /* IPv4 in word 0, the rest zero */
	__be32 laddr[4];
};

/* What one side of a connection has sent, as seen here. */
enum xdpct_side { XDPCT_REMOTE = 0, XDPCT_LOCAL = 1 };
struct xdpct_dir {
	__u32 end;    /* highest seq + len sent: the next expected seq */
	__u32 maxack; /* highest ack sent */
	__u16 win;    /* last window advertised, as on the wire */
	__u8 wscale;  /* shift announced in its SYN; 0xf: none */
	__u8 flags;   /* TCP flags seen from this side, OR-ed */
};

/* Times: first_s in seconds of CLOCK_MONOTONIC_COARSE (the BPF clock), last in
 * ticks of 2^XDPCT_TICK_SHIFT ns (~1.05 ms): a shift per packet, not a
 * division. Counters are 32-bit to keep an IPv4 entry at 64 bytes: bytes
 * wrap at 4 GiB per direction. */
#define XDPCT_TICK_SHIFT 20
struct xdpct_flow {
	__u32 first_s;
	__u32 last_tick;
	enum xdpct_ct_state state;
	__u8 flags; /* enum xdpct_flow_flags */
	__u16 pad0;
	struct xdpct_dir dir[2]; /* [enum xdpct_side] */
	__u32 packets[2];        /* [enum xdpct_side] */
	__u32 bytes[2];          /* [enum xdpct_side], IP length */
};

/*
 * xdpct_seen: a bitmap filter of the flow keys that have (or had) an entry
 * in xdpct_flows4/6, so that a SYN to a protected port whose tuple surely
 * has none skips the flow-table lookup (a cache and TLB miss per SYN of a
 * flood) and goes straight to the cookie SYN-ACK.
 * ARRAY of __u64, BPF_F_MMAPABLE: words [0, WORDS) are half 0, [WORDS,
 * 2 * WORDS) half 1, word XDPCT_SEEN_ACTIVE holds the half readers use (0/1).
 * Whoever inserts a flow entry sets its key's bit in BOTH halves, with an
 * atomic OR, after the insert: a tuple with an entry always has its bit set
 * in the active half (no false negatives). Bits of deleted entries stay
 * (false positives: a lookup as before) until a rebuild: clear the inactive
 * half, set the bit of every key in both flow tables there, make it the
 * active one (`xdpct attach`/`reload`, and `xdpct run` once per eviction
 * pass). An entry inserted after the clear of its word gets its bit from
 * its inserter; one inserted before is in the tables when the walk starts.
 */
#define XDPCT_SEEN_SHIFT 20                          /* 2^20 bits per half */
#define XDPCT_SEEN_BITS (1u << XDPCT_SEEN_SHIFT)
#define XDPCT_SEEN_WORDS (XDPCT_SEEN_BITS / 64)      /* 16384: 128 KiB */
#define XDPCT_SEEN_ACTIVE (2 * XDPCT_SEEN_WORDS)     /* the active half's index */
#define XDPCT_SEEN_ENTRIES (2 * XDPCT_SEEN_WORDS + 1)

/* The bit of a flow key: multiply-xorshift over the key's 32-bit words as
 * stored (network order; 3 words for struct xdpct_flow4_key, 9 for
 * xdpct_flow6_key), the top XDPCT_SEEN_SHIFT bits of the mix. The one
 * definition: the BPF programs and userspace compile this. */
typedef __u32 __attribute__((may_alias)) xdpct_seen_word; /* keys read as words */

static inline __attribute__((always_inline)) __u32
xdpct_seen_hash(const xdpct_seen_word *w, int n)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ (__u64)n;
	int i;

	for (i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (__u32)(h >> (64 - XDPCT_SEEN_SHIFT));
}

static inline __attribute__((always_inline)) __u32
xdpct_seen_bit4(const struct xdpct_flow4_key *k)
{
	return xdpct_seen_hash((const xdpct_seen_word *)k, sizeof(*k) / 4);
}

static inline __attribute__((always_inline)) __u32
xdpct_seen_bit6(const struct xdpct_flow6_key *k)
{
	return xdpct_seen_hash((const xdpct_seen_word *)k, sizeof(*k) / 4);
}

/* xdpct_pending: cookie flows until the listener's child exists. */
struct xdpct_pending {
	struct xdpct_req_attrs attrs; /* re-attached to every ACK while here */
	__u32 first_seq; /* client ISN + 1: the kernel starts the connection at
			  * the handed-over segment's seq, so only this one may go */
	__u64 handoff_ns; /* last bpf_sk_assign_tcp_reqsk() for this flow */
};
#define XDPCT_PENDING_MAX 65536

/* xdpct_events (ring buffer): a flow entered TIME_WAIT or CLOSE. Feeds
 * `xdpct run`'s timer wheel, so these short-lived entries leave on time
 * without a pass over the whole table. Sent without a wakeup: the reader
 * polls once per tick. */
#define XDPCT_EVENTS_BYTES (1 << 20)
struct xdpct_close_event {
	struct xdpct_flow_key key;
	__u32 tick; /* last_tick of the closing packet */
	enum xdpct_ct_state state;
	__u8 pad[3];
};

/* A second handoff of one flow within this time, while the listener's
 * accept queue has room, is a packet of the same receive batch as the
 * first: TC runs for the whole batch before TCP creates the child, and a
 * second reqsk would make the kernel drop that packet as a duplicate. */
#define XDPCT_HANDOFF_DUP_NS (10 * 1000 * 1000ULL)

/* xdpct_stats: PERCPU_ARRAY indexed by these ids. Each packet XDP sees ends
 * in exactly one XDPCT_STAT_V_* verdict counter; other counters add detail. */
#define XDPCT_STATS_LIST(X)                                                   \
	X(XDP_PACKETS, "xdp_packets", "packets seen by XDP")                  \
	X(V_PASS_NOT_TCP, "pass_not_tcp", "passed: not IPv4/IPv6 TCP")        \
	X(V_PASS_UNPROTECTED, "pass_unprotected", "passed: port not protected") \
	X(V_PASS_DISABLED, "pass_disabled", "passed: no config/key loaded yet") \
	X(V_PASS_FLOW, "pass_flow", "passed: packet of a tracked flow")       \
	X(V_PASS_CT_NEW, "pass_ct_new", "passed: SYN that opened a tracked flow") \
	X(V_PASS_UNTRACKED, "pass_untracked", "passed: observed port, no flow")   \
	X(V_PASS_COOKIE, "pass_cookie", "passed: valid cookie ACK, to listener") \
	X(V_PASS_SYN_TRACKED, "pass_syn_tracked", "passed: SYN of an established flow") \
	X(V_TX_SYNACK, "tx_synack", "SYN answered with a cookie SYN-ACK")     \
	X(V_DROP_COOKIE_BAD, "drop_cookie_bad", "dropped: ACK with a bad cookie") \
	X(V_DROP_COOKIE_STALE, "drop_cookie_stale", "dropped: ACK with an expired cookie") \
	X(V_DROP_NO_FLOW, "drop_no_flow", "dropped: non-SYN, no flow, not a cookie ACK") \
	X(V_DROP_CT_INVALID, "drop_ct_invalid", "dropped: invalid in the flow's state") \
	X(V_DROP_RST_WINDOW, "drop_rst_window", "dropped: RST outside the receiver's window") \
	X(V_DROP_ACK_WINDOW, "drop_ack_window", "dropped: ACK of data never sent") \
	X(V_DROP_BAD_FLAGS, "drop_bad_flags", "dropped: invalid TCP flag combination") \
	X(V_DROP_MALFORMED, "drop_malformed", "dropped: malformed headers")   \
	X(V_DROP_FRAGMENT, "drop_fragment", "dropped: TCP fragment")          \
	X(V_DROP_ERROR, "drop_error", "dropped: internal error (adjust/meta)") \
	X(V_PASS_MALFORMED, "pass_malformed", "passed: malformed, not to a protected/observed port") \
	X(V_PASS_FRAGMENT, "pass_fragment", "passed: TCP fragment, not to a protected/observed port") \
	X(SYN_SEEN, "syn_seen", "SYNs to protected ports")                    \
	X(SYN_NO_LOOKUP, "syn_no_lookup", "SYNs answered without a flow lookup (xdpct_seen bit clear)") \
	X(COOKIE_GOOD, "cookie_good", "valid cookies")                        \
	X(COOKIE_PREV_KEY, "cookie_prev_key", "valid cookies under the previous key") \
	X(CT_INVALID, "ct_invalid", "packets invalid in their flow's state (any port)") \
	X(CT_RST_CHALLENGE, "ct_rst_challenge", "in-window RST not at the expected seq") \
	X(CT_REOPEN, "ct_reopen", "SYN reopened a TIME_WAIT/CLOSE flow")      \
	X(CT_PENDING_LOST, "ct_pending_lost", "pending flow without handoff attributes") \
	X(ERR_ETH, "err_eth", "truncated Ethernet header")                    \
	X(ERR_VLAN, "err_vlan", "truncated or too many VLAN tags")            \
	X(ERR_IPV4, "err_ipv4", "bad IPv4 header (truncated, ihl, length)")  \
	X(ERR_IPV6, "err_ipv6", "bad IPv6 header (truncated, length)")        \
	X(ERR_IPV6_EXT, "err_ipv6_ext", "bad or too many IPv6 extension headers") \
	X(ERR_TCP, "err_tcp", "bad TCP header (truncated, doff)")             \
	X(ERR_TCP_OPT, "err_tcp_opt", "bad TCP option")                      \
	X(TC_META, "tc_meta", "TC: packets with cookie metadata")             \
	X(TC_HANDOFF, "tc_handoff", "TC: handed to the listener (reqsk)")     \
	X(TC_HANDOFF_FAIL, "tc_handoff_fail", "TC: bpf_sk_assign_tcp_reqsk failed") \
	X(TC_HANDOFF_DUP, "tc_handoff_dup", "TC: same-batch packet left to the child being made") \
	X(TC_DROP_NOT_FIRST, "tc_drop_not_first", "TC: dropped a later segment of a pending flow (client resends)") \
	X(TC_NO_LISTENER, "tc_no_listener", "TC: no listener for a cookie ACK") \
	X(TC_CHILD_SEEN, "tc_child_seen", "TC: child socket exists, flow established") \
	X(TC_OUT_PACKETS, "tc_out_packets", "TC egress: packets seen")         \
	X(TC_OUT_FLOW, "tc_out_flow", "TC egress: packets of tracked flows")    \
	X(TC_OUT_CT_NEW, "tc_out_ct_new", "TC egress: SYNs that opened a tracked flow") \
	X(EVENT_LOST, "event_lost", "close events lost (ring buffer full)")

#define XDPCT_STAT_ENUM(id, name, help) XDPCT_STAT_##id,
enum xdpct_stat {
	XDPCT_STATS_LIST(XDPCT_STAT_ENUM)
	XDPCT_STAT_MAX
};
#undef XDPCT_STAT_ENUM

#ifndef __bpf__
#include <assert.h>
static_assert(sizeof(struct xdpct_req_attrs) == 20, "reqsk attrs layout");
static_assert(sizeof(struct xdpct_meta) == 24, "meta fits 32 bytes, 4-aligned");
static_assert(sizeof(struct xdpct_flow_key) == 40, "flow key layout");
static_assert(sizeof(enum xdpct_ct_state) == 1, "state is one byte");
static_assert(sizeof(struct xdpct_close_event) == 48, "close event layout");
static_assert(sizeof(struct xdpct_flow4_key) + sizeof(struct xdpct_flow) <= 64,
	      "an IPv4 connection takes at most 64 bytes of key + value");
static_assert(sizeof(struct xdpct_flow6_key) + sizeof(struct xdpct_flow) <= 88,
	      "an IPv6 connection takes at most 88 bytes of key + value");
static_assert(sizeof(struct xdpct_config) % 8 == 0, "config padding");
static_assert(sizeof(struct xdpct_flow4_key) == 12 && sizeof(struct xdpct_flow6_key) == 36,
	      "flow keys: whole 32-bit words, no padding (xdpct_seen_hash)");
static_assert(sizeof(struct xdpct_config) ==
	      __builtin_offsetof(struct xdpct_config, pad1) + sizeof(__u32),
	      "config: explicit padding only");
#endif

#endif /* XDPCT_H */
