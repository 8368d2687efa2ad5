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
#define XDPCT_MAP_OBS4   "xdpct_observed4"
#define XDPCT_MAP_OBS6   "xdpct_observed6"
#define XDPCT_MAP_LOCAL  "xdpct_local"
#define XDPCT_MAP_ACL    "xdpct_acl"
#define XDPCT_MAP_CTEVENTS "xdpct_ctevents"
#define XDPCT_MAP_EVSUB  "xdpct_evsub"
#define XDPCT_MAP_GONE   "xdpct_gone"
#define XDPCT_MAP_SYNLIMIT "xdpct_synlimit"
#define XDPCT_MAP_SYNRATE "xdpct_synrate"
#define XDPCT_MAP_PROFILES "xdpct_profiles"
#define XDPCT_MAP_AUTO   "xdpct_auto"
#define XDPCT_MAP_AUTOSTAT "xdpct_autostat"
#define XDPCT_MAP_HANDOFF "xdpct_handoff"
#define XDPCT_MAP_NAT    "xdpct_nat"
#define XDPCT_MAP_PROXY  "xdpct_proxy"

#define XDPCT_FLOWS_DEFAULT 1048576
/* Entries of each observed table (flows that started with an unvalidated
 * SYN: observed ports, --track-all): apart from the protected tables, so
 * that spoofed SYNs can never push out a protected connection's entry. */
#define XDPCT_OBSERVED_DEFAULT 65536

/* xdpct_ports: ARRAY indexed by host-order port, value = these bits. */
enum xdpct_port_flags {
	XDPCT_PORT_PROTECT = 1, /* SYN cookies + drop of untracked non-SYN */
	XDPCT_PORT_OBSERVE = 2, /* track without cookies */
	XDPCT_PORT_AUTO = 4,    /* with PROTECT: cookies only while COOKIES is
				 * set (or nobody decides: xdpct_auto) */
	XDPCT_PORT_COOKIES = 8, /* an auto port under attack: cookies now */
};

/* Auto mode (`xdpct run --auto`): an auto port's SYNs go to the kernel,
 * tracked as on an observed port, until `xdpct run` sees an attack on it
 * and sets XDPCT_PORT_COOKIES. xdpct_auto (ARRAY of one): run's claim,
 * renewed every tick; once it lapses (run gone), every auto port gets
 * cookies: the fail-safe side. xdpct_autostat (PERCPU_HASH, one entry per
 * auto port made by run, never by the data path): the SYNs seen without
 * an entry, run's measure of the attack. */
struct xdpct_auto {
	__u64 until_ns; /* bpf_ktime_get_coarse_ns() */
	__u64 pad;
};
#define XDPCT_AUTO_HOLD_NS 3000000000ull
#define XDPCT_AUTOSTAT_MAX 1024
struct xdpct_autostat {
	__u64 syns;     /* SYNs without an entry (cookie or kernel) */
};
/* The high 4 bits of a protected port's value: its profile in
 * xdpct_profiles (0: none, the config's settings alone). */
#define XDPCT_PORT_PROFILE_SHIFT 4
#define XDPCT_PROFILES_MAX 16

/* xdpct_profiles: ARRAY of XDPCT_PROFILES_MAX, a protected port range's own
 * SYN-ACK settings (`--profile PORTS:...`), applied on top of the config's
 * (a profile can take away, never add what the sysctls refuse). What the
 * SYN-ACK offers is what its cookie encodes, so the ACK's handover
 * follows. */
enum xdpct_profile_off {
	XDPCT_PROF_NO_SACK = 1 << 0,
	XDPCT_PROF_NO_TS = 1 << 1,    /* no timestamps: the cookie's options
				       * then ride in the ISN only with
				       * --cookie-nots-options */
	XDPCT_PROF_NO_WSCALE = 1 << 2,
	XDPCT_PROF_NO_ECN = 1 << 3,
};
/* Where a profile's ports hand a cookie ACK over. */
enum xdpct_handover {
	XDPCT_HANDOVER_LOCAL = 0, /* the listener of the attached interface's
				   * namespace (TC ingress there) */
	XDPCT_HANDOVER_NAT = 1,   /* a listener behind DNAT in another
				   * namespace of this host: XDP stores the
				   * attributes in xdpct_handoff, the program
				   * `xdpct nat add` put on that namespace's
				   * interface hands the ACK over */
	XDPCT_HANDOVER_PROXY = 2, /* a server behind this box (forwarded, not
				   * an address of this host): XDP opens the
				   * connection to it with the client's
				   * options, TC egress takes its SYN-ACK,
				   * both translate sequence numbers after
				   * (xdpct_proxy) */
};
struct xdpct_profile {
	__u16 mss4;  /* MSS clamp over IPv4: what we advertise and the client's
		      * MSS the handover gives the kernel; 0: none */
	__u16 mss6;  /* the same over IPv6 */
	__u8 off;    /* enum xdpct_profile_off */
	__u8 handover; /* enum xdpct_handover */
	__u8 pad[2];
	__u32 auto_rate; /* `run --auto`: this range's attack threshold in
			  * SYNs/s (0: run's --auto-syn-rate); userspace's */
};

/* xdpct_config.flags */
enum xdpct_config_flags {
	XDPCT_CFG_ENABLED = 1 << 0,    /* key written: answer SYNs. Off = pass all */
	XDPCT_CFG_SACK = 1 << 1,       /* net.ipv4.tcp_sack */
	XDPCT_CFG_TIMESTAMPS = 1 << 2, /* net.ipv4.tcp_timestamps */
	XDPCT_CFG_WSCALE = 1 << 3,     /* net.ipv4.tcp_window_scaling */
	XDPCT_CFG_ECN = 1 << 4,        /* net.ipv4.tcp_ecn != 0 */
	XDPCT_CFG_PREV_KEY = 1 << 5,   /* keys[] holds the previous key too
					* (information: xdpct_config.key_sel
					* decides which key checks a cookie) */
	XDPCT_CFG_TRACK_ALL = 1 << 6,  /* track every TCP flow (observe mode) */
	XDPCT_CFG_NOTS_OPTIONS = 1 << 7, /* SACK and window scale for clients
					  * without timestamps (weaker cookie) */
	XDPCT_CFG_LOCAL_ONLY = 1 << 8, /* act only on packets to xdpct_local's
					* addresses: others pass (routers) */
	XDPCT_CFG_ACL = 1 << 9,        /* xdpct_acl has entries: look sources up
					* (set and cleared by `xdpct allow|deny`
					* only; config commits keep it) */
	XDPCT_CFG_FLEET = 1 << 10,     /* the keys are a fleet's (`run --etcd`):
					* local rewrites keep them, and a cookie
					* that fails its slot's key is checked
					* with the other (a box that signs with
					* the previous key, or one staged) */
};

/* xdpct_acl: LPM_TRIE of remote prefixes, for protected ports only.
 * The family byte is part of the prefix, so one lookup serves both
 * families: prefixlen = 8 + the address prefix length. */
#define XDPCT_ACL_MAX 65536
enum xdpct_acl_action {
	XDPCT_ACL_ALLOW = 1, /* no cookies: handled as on an observed port */
	XDPCT_ACL_DENY = 2,  /* every segment to a protected port dropped */
};
struct xdpct_acl_key {
	__u32 prefixlen;
	__u8 family;     /* 4 or 6 */
	__u8 addr[16];   /* IPv4 in the first 4 bytes */
	__u8 pad[3];     /* beyond every prefix: zero */
};

/* SYN rate limits per source prefix (`xdpct synlimit`): the SYNs that
 * would get a cookie pass a token bucket per remote /prefix4 (IPv4) or
 * /prefix6 (IPv6), kept as GCRA's one "theoretical arrival time" per
 * prefix in xdpct_synrate; beyond it they are dropped (drop_syn_rate).
 * xdpct_synlimit: ARRAY of one; interval_ns 0 = off. */
struct xdpct_synlimit {
	__u64 interval_ns; /* 1 s / rate: one SYN per interval on average */
	__u64 tau_ns;      /* (burst - 1) * interval: how far ahead a prefix may run */
	__u32 rate;        /* SYNs per second per prefix (for the readers) */
	__u32 burst;       /* SYNs at once */
	__u8 prefix4;      /* XDPCT_SYNLIMIT_PREFIX4_MIN..32 */
	__u8 prefix6;      /* XDPCT_SYNLIMIT_PREFIX6_MIN..128 */
	__u8 pad[6];
};
#define XDPCT_SYNLIMIT_PREFIX4_MIN 8
#define XDPCT_SYNLIMIT_PREFIX6_MIN 16
/* xdpct_synrate: LRU_HASH, key the masked source, value its arrival time
 * (bpf_ktime_get_coarse_ns()). A flood from random sources churns it
 * without harm: a prefix it pushes out starts again with a full burst. */
#define XDPCT_SYNRATE_MAX 65536
struct xdpct_synrate_key {
	__u8 family;     /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];   /* masked to the prefix; IPv4 in the first 4 bytes */
};

/* xdpct_local: HASH of this namespace's addresses, kept by userspace from
 * netlink; value unused (1). IPv4 in addr[0], the rest zero. */
#define XDPCT_LOCAL_MAX 4096
struct xdpct_local_key {
	__u32 family; /* 4 or 6 */
	__be32 addr[4];
};

/* SipHash-2-4 key: two 64-bit halves (k0, k1). */
struct xdpct_siphash_key {
	__u64 k0;
	__u64 k1;
};

/* struct xdpct_config (the config map's value) is defined below the
 * connection states: it holds a timeout per state. */

/*
 * Cookie layout (ISN of our SYN-ACK, cookie = ACK's ack_seq - 1), bit 31 first:
 *   SYN with timestamps:    hash:28 | slot:2 | mss:2, and the option bits
 *                           (ecn:1 sack:1 wscale:4) in the low 6 bits of our
 *                           TSval, which the client echoes in TSecr.
 *   SYN without timestamps: hash:28 | slot:2 | mss:2, and no options: the
 *                           SYN-ACK carries only MSS (no SACK-permitted, no
 *                           window scale, no ECE), as Linux's own cookies.
 *   without timestamps, XDPCT_CFG_NOTS_OPTIONS set:
 *                           hash:23 | sack:1 | wscale:4 | slot:2 | mss:2
 *                           (no ECN without timestamps, as Linux).
 * hash = low bits of SipHash-2-4(key, message), message = little-endian
 * u64 words, then data as 2 little-endian bytes (the final block's tail):
 *   IPv4: w0 = saddr | daddr << 32 (raw network-order u32s as loaded)
 *         w1 = sport | dport << 16 (raw network-order u16s) | client_isn << 32
 *         18 bytes in all
 *   IPv6: w0,w1 = saddr, w2,w3 = daddr (raw 8-byte loads), w4 as w1; 42 bytes
 *   data = mss | slot << 2 | opts << 4 | layout << 10   (host order)
 *   opts = ecn << 5 | sack << 4 | wscale (0xf: none); without timestamps
 *          0x0f, or (with XDPCT_CFG_NOTS_OPTIONS) the ISN's sack and wscale;
 *   layout = 1 with timestamps, 0 without, 2 without and with
 *            XDPCT_CFG_NOTS_OPTIONS (a cookie of one layout fails the others).
 * client_isn = the SYN's seq (host order). Addresses/ports are the SYN's
 * (client -> server) direction. slot = (now >> shift) & 3, shift 36 (~68.7 s)
 * unless xdpct_config.slot_shift says otherwise (--cookie-slot), now =
 * CLOCK_MONOTONIC_COARSE ns + xdpct_config.clock_offset_ns; a cookie is valid for slot ages 0 and 1,
 * "stale" for ages 2 and 3. mss = index into XDPCT_MSS4/6_TABLE: the largest
 * entry not above the client's MSS (536 when it sent none), 0 if below all.
 * A random ACK passes with 2^-28 (hash) * 1/2 (slot) = 2^-29, or 2^-24 with
 * XDPCT_CFG_NOTS_OPTIONS and no timestamps, across key rotations too: a
 * key signs the cookies of the slots it is assigned (xdpct_config.key_sel),
 * so exactly one key is tried for an ACK, the one of its cookie's slot.
 */
#define XDPCT_SLOT_SHIFT 36     /* the default slot: ~68.7 s */
#define XDPCT_SLOT_SHIFT_MIN 30 /* ~1.07 s (--cookie-slot 1) */
#define XDPCT_SLOT_SHIFT_MAX 37 /* ~137 s */

static inline __attribute__((always_inline)) unsigned int xdpct_slot_shift(unsigned int s)
{
	return s >= XDPCT_SLOT_SHIFT_MIN && s <= XDPCT_SLOT_SHIFT_MAX ? s : XDPCT_SLOT_SHIFT;
}

/* How many slots back from absolute slot now the cookie's 2 slot bits
 * are (mod 4): 0 and 1 live, 2 and 3 stale (refused before the hash). */
static inline __attribute__((always_inline)) unsigned int
xdpct_cookie_age(unsigned long long now, unsigned int cookie)
{
	return (unsigned int)(now - (cookie >> 2)) & 3;
}

/* cookie with its slot bits those of absolute slot s */
static inline __attribute__((always_inline)) unsigned int
xdpct_cookie_in_slot(unsigned int cookie, unsigned long long s)
{
	return (cookie & ~0xcu) | (unsigned int)(s & 3) << 2;
}
#define XDPCT_OPT_WSCALE_NONE 0xf
#define XDPCT_OPT_SACK (1 << 4)
#define XDPCT_OPT_ECN (1 << 5)
#define XDPCT_MSS_TABLE_LEN 4 /* the tables of Linux's own SYN cookies */
#define XDPCT_MSS4_TABLE { 536, 1300, 1440, 1460 }
#define XDPCT_MSS6_TABLE { 1220, 1420, 1440, 8940 }

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

/* XDP metadata in front of a packet that TC ingress must act on: a
 * validated cookie ACK (attrs for the handover), or a remote segment whose
 * state change waits for the kernel's checksum verdict (XDP cannot see
 * offloaded checksums: veth and many NICs hand over partial ones). */
#define XDPCT_META_MAGIC 0x58445043u /* "XDPC" */
enum xdpct_meta_what {
	XDPCT_META_ATTRS = 1, /* hand over to the listener with attrs */
	XDPCT_META_CT = 2,    /* apply the remote segment if its checksum holds */
};
struct xdpct_meta {
	__u32 magic;
	__u32 what; /* enum xdpct_meta_what, OR-ed */
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

/* xdpct_config: ARRAY with one entry (key 0), mmap()able. Written by the
 * loader.
 * Keys belong to time slots: key_sel = S << 1 | i says that keys[i] signs
 * and checks the cookies of slots S and later (slot = CLOCK_MONOTONIC_COARSE
 * + clock_offset_ns >> xdpct_slot_shift(slot_shift), the full count),
 * keys[i ^ 1] those
 * before S. A
 * cookie is valid in its slot and the next, so a rotation may reuse
 * keys[i ^ 1] only from slot S + 1 on: it writes the new key there, then
 * key_sel = (T + 1) << 1 | (i ^ 1) with T the current slot, one 64-bit
 * store in release order through the mapping. The data path reads key_sel
 * once, then a key nobody is writing. */
struct xdpct_config {
	struct xdpct_siphash_key keys[2]; /* see key_sel */
	__u32 flags;      /* enum xdpct_config_flags */
	__u16 mss4;       /* MSS we advertise over IPv4 (MTU - 40) */
	__u16 mss6;       /* MSS we advertise over IPv6 (MTU - 60) */
	__u8 wscale;      /* window shift we advertise: the kernel's own choice */
	__u8 ttl;         /* TTL / hop limit of our SYN-ACKs */
	__u8 if_mac[6];   /* the interface's MAC: frames to another are not ours;
			   * all zero: not checked */
	__u32 key_epoch;  /* bumped on every key rotation */
	__u8 slot_shift;  /* cookie time slots of 2^slot_shift ns; 0 or out of
			   * XDPCT_SLOT_SHIFT_MIN..MAX: XDPCT_SLOT_SHIFT */
	__u8 pad0[3];
	__u64 key_sel;    /* first slot of keys[key_sel & 1] << 1 | its index */
	__u64 key_set_ns; /* CLOCK_MONOTONIC of the last rotation */
	__u64 netns_cookie; /* the namespace served: sock_ops sees them all */
	/* The eviction timeouts in force, in seconds, for the readers of the
	 * tables (`xdpct conns`, `xdpct status`): written by `xdpct run` at
	 * its start, kept by key rotations and config rewrites; 0 = not set,
	 * the default (XDPCT_CT_TIMEOUTS; pending: the cookie's validity).
	 * The BPF programs do not read them. */
	__u32 timeout_s[XDPCT_CT_MAX]; /* idle time after the last packet */
	__u32 pending_timeout_s;       /* PENDING flows, after the cookie ACK */
	__u32 pad1;
	/* Added to CLOCK_MONOTONIC_COARSE for the cookie slots (and key_sel):
	 * 0 on a lone host; in a fleet CLOCK_REALTIME - CLOCK_MONOTONIC, so
	 * members with synchronised clocks count the same slots. Written only
	 * by the fleet's `xdpct run --etcd`, together with the keys. */
	__s64 clock_offset_ns;
};

/* xdpct_flow.flags */
enum xdpct_flow_flags {
	XDPCT_FLOW_PENDING = 1 << 0, /* cookie ACK handed over, child not seen yet */
	XDPCT_FLOW_COOKIE = 1 << 1,  /* entered through a valid cookie */
	XDPCT_FLOW_REMOTE_OPENED = 1 << 2, /* the remote side sent the first SYN */
	XDPCT_FLOW_ADOPTED = 1 << 3, /* from a kernel socket: at attach (sock_diag:
				      * sequence numbers unknown until the first
				      * packet reads the socket) or re-adopted */
	XDPCT_FLOW_SEEN_REMOTE = 1 << 4, /* dir[REMOTE] seq/ack are known */
	XDPCT_FLOW_SEEN_LOCAL = 1 << 5,  /* dir[LOCAL] seq/ack are known */
	/* the side's first FIN acked the other's FIN: it closed after
	 * receiving it (LAST_ACK), not simultaneously (CLOSING). << side */
	XDPCT_FLOW_FIN_AFTER_REMOTE = 1 << 6,
	XDPCT_FLOW_FIN_AFTER_LOCAL = 1 << 7,
};

/* One endpoint's own state (RFC 9293 3.3.2), derived from a flow entry
 * by xdpct_ep_state() (include/xdpct_ep.h). UNKNOWN: not derivable. */
enum xdpct_ep_state {
	XDPCT_EP_UNKNOWN = 0,
	XDPCT_EP_SYN_SENT,
	XDPCT_EP_SYN_RECEIVED,
	XDPCT_EP_ESTABLISHED,
	XDPCT_EP_FIN_WAIT_1,
	XDPCT_EP_FIN_WAIT_2,
	XDPCT_EP_CLOSING,
	XDPCT_EP_TIME_WAIT,
	XDPCT_EP_CLOSE_WAIT,
	XDPCT_EP_LAST_ACK,
	XDPCT_EP_CLOSED,
	XDPCT_EP_MAX,
};

#define XDPCT_EP_STATE_NAMES                                               \
	{ "-", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",        \
	  "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK",      \
	  "CLOSED" }

/* Flow keys, seen from this host: remote = the far side of the interface.
 * XDP (ingress) takes remote = source; TC egress takes remote = destination,
 * so both directions find one entry without comparing addresses.
 * One map per family keeps IPv4 keys small. */
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

/* What one side of a connection has sent, as seen here: netfilter's
 * ip_ct_tcp_state, for its window checks (bpf/conntrack.h). */
enum xdpct_side { XDPCT_REMOTE = 0, XDPCT_LOCAL = 1 };
struct xdpct_dir {
	__u32 end;    /* highest seq + len sent: the next expected seq */
	__u32 maxend; /* highest seq this side may send: max of the other
		       * side's ack + window */
	__u32 maxwin; /* largest window this side advertised (scaled) */
	__u32 maxack; /* highest ack sent */
};

/* Times: first_s in seconds of CLOCK_MONOTONIC_COARSE (the BPF clock), last in
 * ticks of 2^XDPCT_TICK_SHIFT ns (~1.05 ms): a shift per packet, not a
 * division. Packet counters are 32-bit (wrap at 4G packets per direction),
 * byte counters 64-bit.
 * XDP, TC and sock_ops update an entry from any CPU: every read-modify-
 * write of it holds lock. tag and lock are one 64-bit word, taken with
 * one compare-and-swap that expects this key's tag: a deleted element
 * reused for another key while a program held a pointer to it is never
 * written for the old key (bpf_spin_lock is not allowed in LRU maps). */
#define XDPCT_TICK_SHIFT 20
/* The BPF clock reads CLOCK_MONOTONIC_COARSE once per jiffy and CPU
 * (bpf/stats.h): a time it writes can be up to a tick (4 ms at HZ=250,
 * 10 ms at HZ=100) behind what the clock said when it was written. */
#define XDPCT_CLOCK_LAG_NS (20 * 1000 * 1000ULL)

/* xdpct_clock (per CPU, one element, unpinned): the BPF clock's last
 * reading on a CPU and the jiffy (bpf_jiffies64()) it was taken in; and
 * the last destination found in xdpct_local on that CPU, with its jiffy:
 * taken as local, without the hash lookup, for the rest of that jiffy. */
struct xdpct_clock_cache {
	__u64 jiffies;
	__u64 ns;
	__u64 local_jiffies;
	struct xdpct_local_key local;
	__u32 pad;
};
/* How long TC waits for a held lock (bpf/flow.h) before it passes the
 * segment unapplied (ct_lock_busy); XDP spins briefly and defers to TC. */
#define XDPCT_FLOW_LOCK_WAIT_NS 500000
struct xdpct_flow {
	__u32 tag;               /* xdpct_key_tag() of the key */
	__u32 lock;              /* 1 while a program updates the entry */
	__u32 first_s;
	__u32 last_tick;
	enum xdpct_ct_state state;
	__u8 flags;              /* enum xdpct_flow_flags */
	__u8 wscale[2];          /* [enum xdpct_side]: shift from its SYN; 0xf none */
	__u8 tcp_flags[2];       /* [enum xdpct_side]: TCP flags seen, OR-ed */
	__u16 pad0;
	struct xdpct_dir dir[2]; /* [enum xdpct_side] */
	__u32 packets[2];        /* [enum xdpct_side] */
	__u64 bytes[2];          /* [enum xdpct_side], IP length */
};

/*
 * xdpct_seen: a bitmap filter of the protected flow keys that have (or
 * had) an entry in xdpct_flows4/6, or a socket of the kernel, so that a
 * packet to a protected port whose tuple surely has neither skips the
 * flow-table lookup (a cache and TLB miss per packet of a flood): a SYN
 * goes straight to the cookie SYN-ACK, an ACK to the cookie check, and a
 * packet that fails it is dropped without a socket lookup. A set bit lets
 * a packet with no entry and no valid cookie look for the kernel's socket
 * (an entry lost to the LRU or removed) before it is dropped.
 * ARRAY of __u64, BPF_F_MMAPABLE, sized by the loader from the flow
 * tables (xdpct_seen_shift_for(): at least 10 bits per protected entry, so
 * that a full table leaves 90% of a flood's tuples without a bit): word 0
 * is the header (the half readers use, whether it is valid, the shift),
 * words [8, 8 + W) half 0, [8 + W, 8 + 2W) half 1, W = 2^shift / 64,
 * then each half's summary: [8 + 2W, 8 + 2W + S) for half 0, [8 + 2W + S,
 * 8 + 2W + 2S) for half 1, S = 2^XDPCT_SEEN_SUM_SHIFT / 64 (128 KiB). A
 * key's summary bit is the top XDPCT_SEEN_SUM_SHIFT bits of its bit: set
 * whenever one of the 2^(shift - 20) bits it covers is. Readers test the
 * summary first: while the tables are far from full, a flood's tuple
 * stops there, in 128 KiB that stay in the caches and the TLB, not in the
 * whole half (4 MiB at the default tables: a TLB and cache miss that cost
 * ~90 ns per spoofed SYN in bench/micro).
 * Whoever inserts a flow entry sets its key's bit and summary bit in BOTH
 * halves, with atomic ORs, after the insert: a tuple with an entry always
 * has both set in the active half (no false negatives). Bits of deleted entries stay
 * (false positives: a lookup as before) until a rebuild: clear the inactive
 * half, set there the bit of every key in both protected flow tables and of
 * every TCP socket of the namespace on a protected local port, make it the
 * active one (`xdpct attach`/`reload`, and `xdpct run` once per eviction
 * pass). An entry inserted after the clear of its word gets its bit from
 * its inserter; one inserted before is in the tables when the walk starts.
 * Until the first rebuild has written the header (a map iproute2 made),
 * the filter says "maybe" to every tuple: lookups as without it.
 */
#define XDPCT_SEEN_SHIFT_MIN 20     /* 2^20 bits per half: 128 KiB */
#define XDPCT_SEEN_SHIFT_MAX 28     /* 32 MiB per half */
#define XDPCT_SEEN_SHIFT_DEFAULT 25 /* the default tables: 2 x 2^20 entries */
#define XDPCT_SEEN_BITS_PER_KEY 10
#define XDPCT_SEEN_HDR_WORDS 8      /* the header's cache line */
#define XDPCT_SEEN_ACTIVE 1ULL      /* header: the half readers use */
#define XDPCT_SEEN_VALID 2ULL       /* header: the active half is a rebuilt one */
#define XDPCT_SEEN_SHIFT_POS 8      /* header: the shift, 8 bits */
#define XDPCT_SEEN_SUM_SHIFT 20     /* the summary: 2^20 bits per half */
#define XDPCT_SEEN_SUM_WORDS (1u << (XDPCT_SEEN_SUM_SHIFT - 6))
#define XDPCT_SEEN_ENTRIES_OF(shift) \
	(XDPCT_SEEN_HDR_WORDS + 2 * (1u << ((shift) - 6)) + 2 * XDPCT_SEEN_SUM_WORDS)
#define XDPCT_SEEN_ENTRIES_DEFAULT XDPCT_SEEN_ENTRIES_OF(XDPCT_SEEN_SHIFT_DEFAULT)

/* The shift for a protected table of n entries (both families). */
static inline __attribute__((always_inline)) unsigned int xdpct_seen_shift_for(__u64 n)
{
	unsigned int s = XDPCT_SEEN_SHIFT_MIN;

	while (s < XDPCT_SEEN_SHIFT_MAX && (1ULL << s) < n * XDPCT_SEEN_BITS_PER_KEY)
		s++;
	return s;
}

/* A flow key's mix: multiply-xorshift over the key's 32-bit words as
 * stored (network order; 3 words for struct xdpct_flow4_key, 9 for
 * xdpct_flow6_key). Its top XDPCT_SEEN_SHIFT_MAX bits are the key's bit
 * in xdpct_seen (the top `shift` of them, at the map's size), 32 lower ones
 * the entry's tag. The one definition: the BPF
 * programs and userspace compile this. */
typedef __u32 __attribute__((may_alias)) xdpct_seen_word; /* keys read as words */

static inline __attribute__((always_inline)) __u64
xdpct_key_mix(const xdpct_seen_word *w, int n)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ (__u64)n;
	int i;

	for (i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h * 0xc4ceb9fe1a85ec53ULL;
}

static inline __attribute__((always_inline)) __u32 xdpct_seen_of_mix(__u64 mix)
{
	return (__u32)(mix >> (64 - XDPCT_SEEN_SHIFT_MAX));
}

/* Never 0: a zeroed value is no entry's. */
static inline __attribute__((always_inline)) __u32 xdpct_tag_of_mix(__u64 mix)
{
	return (__u32)(mix >> 8) | 1;
}

static inline __attribute__((always_inline)) __u64
xdpct_key4_mix(const struct xdpct_flow4_key *k)
{
	return xdpct_key_mix((const xdpct_seen_word *)k, sizeof(*k) / 4);
}

static inline __attribute__((always_inline)) __u64
xdpct_key6_mix(const struct xdpct_flow6_key *k)
{
	return xdpct_key_mix((const xdpct_seen_word *)k, sizeof(*k) / 4);
}

static inline __attribute__((always_inline)) __u32
xdpct_seen_bit4(const struct xdpct_flow4_key *k)
{
	return xdpct_seen_of_mix(xdpct_key4_mix(k));
}

static inline __attribute__((always_inline)) __u32
xdpct_seen_bit6(const struct xdpct_flow6_key *k)
{
	return xdpct_seen_of_mix(xdpct_key6_mix(k));
}

static inline __attribute__((always_inline)) __u32
xdpct_key_tag4(const struct xdpct_flow4_key *k)
{
	return xdpct_tag_of_mix(xdpct_key4_mix(k));
}

static inline __attribute__((always_inline)) __u32
xdpct_key_tag6(const struct xdpct_flow6_key *k)
{
	return xdpct_tag_of_mix(xdpct_key6_mix(k));
}

/* The conversions between the generic key and the per-family ones: the
 * one definition for BPF (close events), userspace and tests. */
static inline __attribute__((always_inline)) void
xdpct_key_to4(const struct xdpct_flow_key *k, struct xdpct_flow4_key *k4)
{
	k4->raddr = k->raddr[0];
	k4->laddr = k->laddr[0];
	k4->rport = k->rport;
	k4->lport = k->lport;
}

static inline __attribute__((always_inline)) void
xdpct_key_to6(const struct xdpct_flow_key *k, struct xdpct_flow6_key *k6)
{
	for (int i = 0; i < 4; i++) {
		k6->raddr[i] = k->raddr[i];
		k6->laddr[i] = k->laddr[i];
	}
	k6->rport = k->rport;
	k6->lport = k->lport;
}

static inline __attribute__((always_inline)) void
xdpct_key_from4(const struct xdpct_flow4_key *k4, struct xdpct_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = 4;
	k->raddr[0] = k4->raddr;
	k->laddr[0] = k4->laddr;
	k->rport = k4->rport;
	k->lport = k4->lport;
}

static inline __attribute__((always_inline)) void
xdpct_key_from6(const struct xdpct_flow6_key *k6, struct xdpct_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = 6;
	for (int i = 0; i < 4; i++) {
		k->raddr[i] = k6->raddr[i];
		k->laddr[i] = k6->laddr[i];
	}
	k->rport = k6->rport;
	k->lport = k6->lport;
}

/* A cookie flow's handover so far (bpf/handover.h). */
struct xdpct_handover_state {
	__u32 first_seq;   /* client ISN + 1: the kernel starts the connection at
			    * the handed-over segment's seq, so only this one may go */
	__u32 handoff_cpu; /* where the last handoff ran: a twin of that segment
			    * on another CPU can reach the listener before the child */
	__u64 handoff_ns;  /* last bpf_sk_assign_tcp_reqsk() for this flow */
};

/* xdpct_pending: cookie flows until the listener's child exists. */
struct xdpct_pending {
	struct xdpct_req_attrs attrs; /* re-attached to every ACK while here */
	__u32 pad;
	struct xdpct_handover_state ho;
};
#define XDPCT_PENDING_MAX 65536

/* xdpct_handoff (LRU_HASH): the handover attributes of a NAT port's
 * cookie flow until the child socket exists in the listener's namespace.
 * Keyed by what DNAT leaves alone: the client's address and port and the
 * ACK's acknowledgement number (our cookie + 1: unforgeable without the
 * SYN-ACK, and the same on every client segment until the server sends). */
struct xdpct_handoff_key {
	__u32 raddr[4]; /* network order; IPv4 in raddr[0] */
	__u32 ack;      /* host order */
	__u16 rport;    /* network order */
	__u8 family;    /* 4 or 6 */
	__u8 pad;
};
struct xdpct_handoff {
	struct xdpct_req_attrs attrs;
	__u32 pad;
	struct xdpct_handover_state ho;
	__u64 made_ns;    /* when XDP stored it */
};
#define XDPCT_HANDOFF_MAX 65536

/* xdpct_proxy (HASH, no prealloc, sized like the flow tables): a
 * connection to a proxy port's server that this box opened on the
 * client's behalf, keyed like xdpct_pending (the flow key). The client
 * sees our cookie as the server's ISN and our SYN-ACK's TSval clock; the
 * server its own: deltas map one onto the other. */
enum xdpct_proxy_state {
	XDPCT_PROXY_SYN_SENT = 1, /* the SYN went to the server, no answer yet */
	XDPCT_PROXY_OPEN = 2,     /* its SYN-ACK was answered: translating */
};
enum xdpct_proxy_opts {
	XDPCT_PROXY_TS = 1,        /* both ends send timestamps */
	XDPCT_PROXY_RESCALE = 2,   /* the server's window shift differs from
				    * the one our SYN-ACK gave the client */
	XDPCT_PROXY_NO_TS_SRV = 4, /* the client has timestamps, the server
				    * declined them */
	XDPCT_PROXY_NO_SACK_SRV = 8, /* the client has SACK, the server not */
	XDPCT_PROXY_NO_WS_SRV = 16, /* the client scales its windows, the
				     * server declined: it reads them unscaled */
};
struct xdpct_proxy {
	__u32 cookie;       /* our SYN-ACK's ISN: the server's, to the client */
	__u32 isn;          /* the client's ISN (the server sees it unchanged) */
	__u32 seq_delta;    /* cookie - the server's ISN */
	__u32 ts_delta;     /* our SYN-ACK's TSval - the server's */
	__u32 client_tsval; /* the cookie ACK's TSval: the ACK to the server's */
	__u16 client_win;   /* the cookie ACK's window field */
	__u8 state;         /* enum xdpct_proxy_state */
	__u8 opts;          /* enum xdpct_proxy_opts */
	__u8 wscale_client; /* the shift our SYN-ACK gave the client (0xf: none) */
	__u8 wscale_server; /* the server's SYN-ACK's (0xf: none) */
	__u8 pad[6];
	__u64 syn_ns;       /* the first SYN to the server */
	__u64 resent_ns;    /* the last */
	struct xdpct_req_attrs attrs; /* the client's options, from the cookie */
	__u32 pad2;
};
/* A client segment while the server has not answered resends the SYN
 * once this long after the last; past the timeout the client gets an RST */
#define XDPCT_PROXY_RESEND_NS 1000000000ull
/* skb->mark of the window update TC egress clones to the client: its own
 * egress run lets it go untouched */
#define XDPCT_PROXY_MARK 0x78647063u
#define XDPCT_PROXY_TIMEOUT_NS 5000000000ull

/* xdpct_nat (HASH, userspace's): the namespaces `xdpct nat add` put the
 * handover program in, each through a TCX link pinned as
 * link_nat_<netns cookie>_<ifindex> in the attachment's pin directory. */
struct xdpct_nat_key {
	__u64 netns_cookie;
	__u32 ifindex; /* in that namespace */
	__u32 pad;
};
struct xdpct_nat_dev {
	char ifname[16];
	char netns[64]; /* as given to `nat add` */
	__u32 link_id;
	__u32 pad;
	__u64 added_s;  /* CLOCK_REALTIME */
};
#define XDPCT_NAT_MAX 256

/* xdpct_events (ring buffer): a flow entered TIME_WAIT or CLOSE. Feeds
 * `xdpct run`'s timer wheel, so these short-lived entries leave on time
 * without a pass over the whole table. Sent without a wakeup: the reader
 * polls once per tick. */
#define XDPCT_EVENTS_BYTES (1 << 20)
struct xdpct_close_event {
	struct xdpct_flow_key key;
	__u32 tick; /* last_tick of the closing packet */
	enum xdpct_ct_state state;
	__u8 observed; /* 1: the entry is in xdpct_observed4/6 */
	__u8 pad[2];
};

/* Connection tracking events, like `conntrack -E`: NEW, UPDATE (the
 * connection's state or an endpoint's changed) and DESTROY, for `xdpct
 * events`. The BPF side sends them, and `xdpct run`/`xdpct evict` through
 * a syscall program (bpf/emit.bpf.c) for the entries they remove, into
 * the xdpct_ctevents ring buffer; only while a reader has renewed
 * xdpct_evsub.until_ns: nobody pays for a stream nobody reads. */
#define XDPCT_CTEVENTS_BYTES (1 << 20) /* ~7,000 events */
/* A reader renews its claim this often, and it holds this long. */
#define XDPCT_EVSUB_RENEW_NS 1000000000ull
#define XDPCT_EVSUB_HOLD_NS 3000000000ull
enum xdpct_ct_event_type {
	XDPCT_EV_NEW = 1,
	XDPCT_EV_UPDATE = 2,
	XDPCT_EV_DESTROY = 3,
	XDPCT_EV_COOKIES = 4, /* auto mode: key.lport's cookies went on (reason
			       * 1) or off (0); flow.packets[0]: SYNs/s */
};
enum xdpct_destroy_reason {
	XDPCT_DR_NONE = 0,
	XDPCT_DR_CLOSED,   /* TIME_WAIT or CLOSE ran out, or a SYN reused the tuple */
	XDPCT_DR_TIMEOUT,  /* idle past its state's timeout */
	XDPCT_DR_EVICTED,  /* pushed out by a full table's LRU (seen when the
			    * connection's next packet finds no entry) */
	XDPCT_DR_REMOVED,  /* deleted by the operator (xdpct conns --delete) */
	XDPCT_DR_MAX
};
#define XDPCT_DR_NAMES { "-", "closed", "timeout", "evicted", "removed" }
/* xdpct_ct_event.evflags */
enum xdpct_ct_event_flags {
	XDPCT_EVF_OBSERVED = 1, /* the entry is in xdpct_observed4/6 */
	XDPCT_EVF_NO_COUNTS = 2, /* DESTROY of an entry already replaced: flow
				  * holds its successor's first packet */
};
struct xdpct_ct_event {
	__u64 ns;                  /* bpf_ktime_get_coarse_ns() / CLOCK_MONOTONIC */
	struct xdpct_flow_key key;
	struct xdpct_flow flow;    /* the entry after the change (DESTROY: as it went) */
	__u8 type;                 /* enum xdpct_ct_event_type */
	__u8 reason;               /* enum xdpct_destroy_reason */
	__u8 evflags;              /* enum xdpct_ct_event_flags */
	__u8 old_state;            /* UPDATE: the state before */
	__u32 pad;
};
/* xdpct_evsub (ARRAY, one element): a reader's claim, and what it missed. */
struct xdpct_evsub {
	__u64 until_ns; /* events are sent while bpf_ktime_get_coarse_ns() < this */
	__u64 lost;     /* events not sent: the ring buffer was full */
	__u32 pid;      /* the reader */
	__u32 pad;
};
/* xdpct_gone (LRU_HASH of struct xdpct_flow_key): entries removed by
 * userspace while a reader listened, so that a connection whose entry
 * comes back from its socket is not reported as evicted by the LRU. */
#define XDPCT_GONE_MAX 65536
/* The syscall program's argument: userspace DESTROY events. */
#define XDPCT_EMIT_MAX 64
struct xdpct_emit_args {
	__u32 n;
	__u32 pad;
	struct xdpct_ct_event ev[XDPCT_EMIT_MAX];
};

/* A second handoff of one flow within this time, while the listener's
 * accept queue has room: on the first one's CPU, a packet of the same
 * receive batch (TC runs for the whole batch before TCP creates the child,
 * and a second reqsk would make the kernel drop it as a duplicate), left
 * to the child; on another CPU, a twin that may reach TCP before the
 * child exists, dropped (bpf/handover.h). */
#define XDPCT_HANDOFF_DUP_NS (10 * 1000 * 1000ULL)

/* xdpct_stats: counters by id, each a named field of struct
 * xdpct_stat_counters. Each packet XDP sees ends in exactly one
 * XDPCT_STAT_V_* verdict counter; other counters add detail.
 * X(ID, name, help): name is the field, the metric and the JSON key. */
#define XDPCT_STATS_LIST(X)                                                   \
	X(XDP_PACKETS, xdp_packets, "packets seen by XDP")                  \
	X(V_PASS_NOT_TCP, pass_not_tcp, "passed: not IPv4/IPv6 TCP")        \
	X(V_PASS_UNPROTECTED, pass_unprotected, "passed: port not protected") \
	X(V_PASS_DISABLED, pass_disabled, "passed: no config/key loaded yet") \
	X(V_PASS_FLOW, pass_flow, "passed: packet of a tracked flow")       \
	X(V_PASS_CT_NEW, pass_ct_new, "passed: SYN that opened a tracked flow") \
	X(V_PASS_UNTRACKED, pass_untracked, "passed: observed port, no flow")   \
	X(V_PASS_COOKIE, pass_cookie, "passed: valid cookie ACK, to listener") \
	X(V_PASS_SYN_TRACKED, pass_syn_tracked, "passed: SYN of an established flow") \
	X(V_TX_SYNACK, tx_synack, "SYN answered with a cookie SYN-ACK")     \
	X(V_DROP_COOKIE_BAD, drop_cookie_bad, "dropped: ACK with a bad cookie") \
	X(V_DROP_COOKIE_STALE, drop_cookie_stale, "dropped: ACK with a cookie of an expired slot (not hashed)") \
	X(V_DROP_NO_FLOW, drop_no_flow, "dropped: non-SYN, no flow, not a cookie ACK") \
	X(V_DROP_CT_INVALID, drop_ct_invalid, "dropped: invalid in the flow's state") \
	X(V_DROP_RST_WINDOW, drop_rst_window, "dropped: RST outside the receiver's window") \
	X(V_DROP_ACK_WINDOW, drop_ack_window, "dropped: ACK of data never sent, or too old") \
	X(V_DROP_BAD_FLAGS, drop_bad_flags, "dropped: invalid TCP flag combination") \
	X(V_DROP_MALFORMED, drop_malformed, "dropped: malformed headers")   \
	X(V_DROP_FRAGMENT, drop_fragment, "dropped: TCP fragment")          \
	X(V_DROP_ERROR, drop_error, "dropped: internal error (adjust/meta)") \
	X(V_PASS_NOT_LOCAL, pass_not_local, "passed: destination not an address of this host") \
	X(V_PASS_KERNEL_TW, pass_kernel_tw, "passed: no entry, the kernel's TIME_WAIT socket answers") \
	X(V_DROP_BAD_SOURCE, drop_bad_source, "dropped: source Linux never answers, or non-unicast/foreign MAC") \
	X(V_DROP_SEQ_WINDOW, drop_seq_window, "dropped: sequence outside the receiver's window") \
	X(V_PASS_MALFORMED, pass_malformed, "passed: malformed, not to a protected/observed port") \
	X(V_PASS_FRAGMENT, pass_fragment, "passed: TCP fragment, not to a protected/observed port") \
	X(SYN_SEEN, syn_seen, "SYNs to protected ports")                    \
	X(SYN_NO_LOOKUP, syn_no_lookup, "SYNs answered without a flow lookup (xdpct_seen bit clear)") \
	X(COOKIE_GOOD, cookie_good, "valid cookies")                        \
	X(COOKIE_PREV_KEY, cookie_prev_key, "valid cookies of slots signed by the previous key") \
	X(COOKIE_FLEET_OTHER_KEY, cookie_fleet_other_key, "valid cookies under the fleet's other key (a box a rotation apart)") \
	X(CT_INVALID, ct_invalid, "packets invalid in their flow's state (any port)") \
	X(CT_RST_CHALLENGE, ct_rst_challenge, "in-window RST not at the expected seq") \
	X(CT_REOPEN, ct_reopen, "SYN reopened a TIME_WAIT/CLOSE flow")      \
	X(CT_PENDING_LOST, ct_pending_lost, "pending flow without handoff attributes") \
	X(ERR_ETH, err_eth, "truncated Ethernet header")                    \
	X(ERR_VLAN, err_vlan, "truncated or too many VLAN tags")            \
	X(ERR_IPV4, err_ipv4, "bad IPv4 header (truncated, ihl, length)")  \
	X(ERR_IPV6, err_ipv6, "bad IPv6 header (truncated, length)")        \
	X(ERR_IPV6_EXT, err_ipv6_ext, "bad or too many IPv6 extension headers") \
	X(ERR_TCP, err_tcp, "bad TCP header (truncated, doff)")             \
	X(ERR_TCP_OPT, err_tcp_opt, "bad TCP option")                      \
	X(TC_META, tc_meta, "TC: packets with cookie metadata")             \
	X(TC_HANDOFF, tc_handoff, "TC: handed to the listener (reqsk)")     \
	X(TC_HANDOFF_FAIL, tc_handoff_fail, "TC: bpf_sk_assign_tcp_reqsk failed") \
	X(TC_HANDOFF_DUP, tc_handoff_dup, "TC: same-batch packet left to the child being made") \
	X(TC_DROP_NOT_FIRST, tc_drop_not_first, "TC: dropped a later segment of a pending flow (client resends)") \
	X(TC_DROP_TWIN, tc_drop_twin, "TC: dropped the first segment's twin, handed on another CPU") \
	X(TC_NO_LISTENER, tc_no_listener, "TC: no listener for a cookie ACK") \
	X(TC_CHILD_SEEN, tc_child_seen, "TC: child socket exists, flow established") \
	X(TC_WAIT, tc_wait, "TC: a TIME_WAIT or request socket holds the tuple: the kernel decides") \
	X(TC_OUT_PACKETS, tc_out_packets, "TC egress: packets seen")         \
	X(TC_OUT_FLOW, tc_out_flow, "TC egress: packets of tracked flows")    \
	X(TC_OUT_CT_NEW, tc_out_ct_new, "TC egress: SYNs that opened a tracked flow") \
	X(EVENT_LOST, event_lost, "close events lost (ring buffer full)") \
	X(LOST_LOOKUP, lost_lookup, "socket lookups for a tuple that may have lost its entry") \
	X(CT_READOPT, ct_readopt, "entries restored from the kernel's socket (lost to the LRU, evicted, deleted)") \
	X(CT_SYNC_SOCKET, ct_sync_socket, "adopted entries set from the kernel socket's sequence numbers") \
	X(CT_TAG_MISMATCH, ct_tag_mismatch, "entry reused for another key between lookup and lock") \
	X(CT_LOCK_BUSY, ct_lock_busy, "entry lock not taken within the spin limit: packet passed unchanged") \
	X(CT_CSUM_DEFER, ct_csum_defer, "state change left to TC ingress (checksum offloaded)") \
	X(TC_CT_APPLIED, tc_ct_applied, "TC: deferred remote state change applied") \
	X(TC_CSUM_BAD, tc_csum_bad, "TC: deferred segment with a bad checksum") \
	X(SOCKOPS_ESTABLISHED, sockops_established, "sock_ops: child socket made, cookie flow ESTABLISHED") \
	X(V_DROP_DENIED, drop_denied, "dropped: source in the deny list, to a protected port") \
	X(ACL_ALLOWED, acl_allowed, "packets to protected ports from the allow list (handled as observed)") \
	X(V_DROP_SYN_RATE, drop_syn_rate, "dropped: SYN beyond its source prefix's rate (xdpct synlimit)") \
	X(AUTO_KERNEL_SYN, auto_kernel_syn, "SYNs to auto ports passed to the kernel (no attack)") \
	X(NAT_STORED, nat_stored, "cookie ACKs of NAT ports whose attributes XDP stored for the handover") \
	X(NAT_HANDOFF, nat_handoff, "NAT: handed to a listener in another namespace (reqsk)") \
	X(NAT_HANDOFF_FAIL, nat_handoff_fail, "NAT: bpf_sk_assign_tcp_reqsk failed") \
	X(NAT_HANDOFF_DUP, nat_handoff_dup, "NAT: same-batch packet left to the child being made") \
	X(NAT_DROP_NOT_FIRST, nat_drop_not_first, "NAT: dropped a later segment of a pending flow (client resends)") \
	X(NAT_DROP_TWIN, nat_drop_twin, "NAT: dropped the first segment's twin, handed on another CPU") \
	X(NAT_NO_LISTENER, nat_no_listener, "NAT: no listener for a stored cookie ACK") \
	X(NAT_CHILD_SEEN, nat_child_seen, "NAT: child socket exists, stored attributes removed") \
	X(NAT_WAIT, nat_wait, "NAT: a TIME_WAIT or request socket holds the tuple: the kernel decides") \
	X(V_PASS_PROXY_SYN, pass_proxy_syn, "passed: valid cookie ACK of a proxy port, turned into the SYN to its server") \
	X(V_DROP_PROXY_WAIT, drop_proxy_wait, "dropped: client segment of a proxied flow before its server answered") \
	X(V_TX_PROXY_RST, tx_proxy_rst, "client segment answered with an RST: its server never answered the SYN") \
	X(V_DROP_PROXY_LOST, drop_proxy_lost, "dropped: proxied flow without its translation entry (table full or removed)") \
	X(PROXY_SYN_RESENT, proxy_syn_resent, "proxy: SYN to the server sent again (a client segment, no answer yet)") \
	X(PROXY_XLATE_IN, proxy_xlate_in, "proxy: client segments translated to the server's sequence space") \
	X(PROXY_OPEN, proxy_open, "proxy TC: server's SYN-ACK answered with the ACK, translation set") \
	X(PROXY_WINDOW_OPENED, proxy_window_opened, "proxy TC: the client's window opened (it had zero from our SYN-ACK)") \
	X(PROXY_REFUSED, proxy_refused, "proxy TC: server reset the SYN, RST passed to the client") \
	X(PROXY_XLATE_OUT, proxy_xlate_out, "proxy TC: server segments translated to the client's sequence space") \
	X(PROXY_OPTS_DIFFER, proxy_opts_differ, "proxy TC: server's SYN-ACK differs from the cookie's options (windows rescaled, or TS/SACK declined)") \
	X(PROXY_DROP_OUT, proxy_drop_out, "proxy TC: server segment dropped (no answer expected, or ACK redirect failed)")

#define XDPCT_STAT_ENUM(id, name, help) XDPCT_STAT_##id,
enum xdpct_stat {
	XDPCT_STATS_LIST(XDPCT_STAT_ENUM)
	XDPCT_STAT_MAX
};
#undef XDPCT_STAT_ENUM

/* The value of xdpct_stats' one per-CPU element: fields named after the
 * counters, so `bpftool map dump` prints names (an array map's key must
 * be a plain u32: an enum key is refused). Indexed by enum xdpct_stat. */
#define XDPCT_STAT_FIELD(id, name, help) __u64 name;
struct xdpct_stat_counters {
	XDPCT_STATS_LIST(XDPCT_STAT_FIELD)
};
#undef XDPCT_STAT_FIELD

#ifndef __bpf__
#include <assert.h>
static_assert(sizeof(struct xdpct_req_attrs) == 20, "reqsk attrs layout");
static_assert(sizeof(struct xdpct_stat_counters) == XDPCT_STAT_MAX * sizeof(__u64),
	      "one u64 per counter id, in enum order");
static_assert(sizeof(struct xdpct_meta) == 28, "meta fits 32 bytes, 4-aligned");
static_assert(sizeof(struct xdpct_handoff_key) == 24, "handoff key: explicit padding");
static_assert(sizeof(struct xdpct_handoff) == 48, "handoff value layout");
static_assert(sizeof(struct xdpct_pending) == 40, "pending value layout");
static_assert(sizeof(struct xdpct_profile) == 12, "profile layout");
static_assert(sizeof(struct xdpct_proxy) == 72, "proxy entry layout: explicit padding");
static_assert(sizeof(struct xdpct_flow_key) == 40, "flow key layout");
static_assert(sizeof(enum xdpct_ct_state) == 1, "state is one byte");
static_assert(sizeof(struct xdpct_close_event) == 48, "close event layout");
static_assert(sizeof(struct xdpct_flow4_key) + sizeof(struct xdpct_flow) <= 92,
	      "an IPv4 connection takes at most 92 bytes of key + value");
static_assert(sizeof(struct xdpct_flow6_key) + sizeof(struct xdpct_flow) <= 116,
	      "an IPv6 connection takes at most 116 bytes of key + value");
static_assert(sizeof(struct xdpct_local_key) == 20, "local address key layout");
static_assert(sizeof(struct xdpct_acl_key) == 24, "acl key layout: explicit padding");
static_assert(__builtin_offsetof(struct xdpct_flow, tag) == 0 &&
	      __builtin_offsetof(struct xdpct_flow, lock) == 4,
	      "tag and lock: one 64-bit word at the start of the value");
static_assert(sizeof(struct xdpct_config) % 8 == 0, "config padding");
static_assert(sizeof(struct xdpct_flow4_key) == 12 && sizeof(struct xdpct_flow6_key) == 36,
	      "flow keys: whole 32-bit words, no padding (xdpct_seen_hash)");
static_assert(sizeof(struct xdpct_config) ==
	      __builtin_offsetof(struct xdpct_config, clock_offset_ns) + sizeof(__s64),
	      "config: explicit padding only");
#endif

#endif /* XDPCT_H */
