/* SPDX-License-Identifier: GPL-2.0 */
/* What bench/flood and its BPF programs (bench/gen.bpf.c) share. */
#ifndef XDPCT_BENCH_H
#define XDPCT_BENCH_H

#ifndef __bpf__
#include <linux/types.h>
#endif

enum gen_mode { GEN_SYN = 0, GEN_ACK = 1, GEN_RST = 2 };

/* Frame lengths: Ethernet + IPv4 + TCP with options */
#define GEN_LEN_SYN (14 + 20 + 40) /* MSS, SACK_PERM, TS, NOP, WS */
#define GEN_LEN_ACK (14 + 20 + 32) /* NOP, NOP, TS */
#define GEN_LEN_RST (14 + 20 + 20)

/* Read-only config of xdp_gen, set before load. Network order where the
 * field goes on the wire as is. */
struct gen_cfg {
	__u8 dmac[6];
	__u8 smac[6];
	__be32 saddr_base; /* source net */
	__be32 saddr_rnd;  /* random bits of the source (host part mask) */
	__be32 daddr;
	__be16 dport;
	__u16 mss;         /* host order */
	__u8 wscale;
	__u8 mode;         /* enum gen_mode */
	__u16 pad;
	__u64 gap_ns;      /* pacing: ns between frames, 0 = as fast as possible */
	__u64 burst_ns;    /* how far behind schedule may be caught up at once */
	/* ACK mode, crafted cookies (0: every ACK random): frame i with
	 * i % crafted_every == 0 carries a valid cookie of a slot age in
	 * `ages` under key0/key1 (or key2_0/key2_1, two_keys: alternating by
	 * group), 1 a valid one two slots older (stale), 2 a valid one with
	 * one covered bit flipped; the rest random. The slot is craft_slot
	 * (gen.bpf.c), fixed by userspace: frames outside it, or in its last
	 * guard_ns, are not sent. */
	__u64 key0, key1;
	__u64 key2_0, key2_1;
	__u64 guard_ns;
	__u32 crafted_every;
	__u8 nots_options; /* the defender has XDPCT_CFG_NOTS_OPTIONS */
	__u8 slot_shift;   /* the defender's xdpct_config.slot_shift */
	__u8 two_keys;
	__u8 ages;         /* bit a: valid cookies of slot age a (0, 1); both:
			    * alternating by group */
};

/* What xdp_gen crafted (frames sent, by kind). */
enum crafted_kind { CK_VALID = 0, CK_STALE = 1, CK_NEAR = 2 };
struct crafted_counts {
	__u64 valid;
	__u64 stale;
	__u64 near;   /* one covered bit flipped */
	__u64 near_daddr; /* of which the destination address's: not a
			   * cookie verdict where xdpct acts only for its
			   * host's addresses (XDPCT_CFG_LOCAL_ONLY) */
	__u64 near_stale; /* of which a slot bit, now of a stale slot: stale
			   * before any hash (bpf/synack.h check_cookie) */
	__u64 random;
	__u64 ts;     /* crafted frames with the timestamp option */
	__u64 late;   /* not sent: outside craft_slot or in its last guard_ns */
	/* by key (0: key0/key1, 1: key2_*), slot age of the valid cookie
	 * (the stale one is 2 older), kind */
	__u64 by[2][2][3];
};

/* What xdp_sink saw on the generator's veth. */
struct sink_counts {
	__u64 frames; /* everything, ARP included */
	__u64 tcp;
	__u64 synack;
	__u64 rst;
	__u64 syn; /* SYNs coming back: an echoing floor */
};

#endif
