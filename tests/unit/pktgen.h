/* SPDX-License-Identifier: GPL-2.0 */
/* Frame crafting and parsing for unit tests: Ethernet, 802.1Q/802.1ad tags,
 * IPv4 with options, IPv6 with extension headers, TCP with any options.
 * Checksums are computed here, byte-wise, not by code shared with bpf/. */
#ifndef XDPCT_PKTGEN_H
#define XDPCT_PKTGEN_H

#include <stdint.h>

#define PG_MAX_FRAME 4096

struct pg_vlan {
	uint16_t tpid; /* 0x8100 or 0x88a8 */
	uint16_t tci;
};

/* IPv6 extension header types pg_build knows how to fill */
enum {
	PG_EXT_HOP = 0,
	PG_EXT_ROUTING = 43,
	PG_EXT_FRAG = 44,
	PG_EXT_AH = 51,
	PG_EXT_DEST = 60,
};

struct pg_ext {
	uint8_t type;
	uint16_t len;      /* bytes: multiple of 8 (AH: 4); FRAG: always 8 */
	uint16_t frag;     /* FRAG only: offset << 3 | M */
};

struct pg_tcpopts {
	uint8_t b[64];
	int len;
};

struct pg_spec {
	uint8_t dmac[6], smac[6];
	int nvlan;
	struct pg_vlan vlan[4];
	uint16_t ethertype; /* 0: from family */
	int family;         /* 4 or 6 */
	uint8_t saddr[16], daddr[16]; /* IPv4: first 4 bytes */
	uint8_t proto;      /* 0: TCP */
	/* IPv4 */
	uint8_t ip_opts[40];
	int ip_optlen;      /* multiple of 4 */
	uint8_t tos, ttl;
	uint16_t frag_off;  /* host order: flags (DF 0x4000, MF 0x2000) | offset */
	uint16_t ip_id;
	/* IPv6 */
	int n_ext;
	struct pg_ext ext[10];
	/* TCP (proto 6) */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	struct pg_tcpopts opts; /* padded with EOL to a multiple of 4 */
	/* payload after the TCP header (or the whole L4 if proto != TCP) */
	const uint8_t *payload;
	int payload_len;
};

struct pg_layout {
	int len;
	int l3_off;
	int l4_off;  /* TCP (or other L4) header */
	int tcp_hlen;
};

/* Builds the frame into buf (cap bytes), all lengths and checksums right.
 * Returns the frame length, or -1 if it does not fit. */
int pg_build(const struct pg_spec *s, uint8_t *buf, int cap, struct pg_layout *lay);

/* TCP option builders, appended in call order. */
void pgo_mss(struct pg_tcpopts *o, uint16_t mss);
void pgo_nop(struct pg_tcpopts *o);
void pgo_eol(struct pg_tcpopts *o);
void pgo_sack_perm(struct pg_tcpopts *o);
void pgo_ts(struct pg_tcpopts *o, uint32_t tsval, uint32_t tsecr);
void pgo_ws(struct pg_tcpopts *o, uint8_t shift);
void pgo_bytes(struct pg_tcpopts *o, const uint8_t *b, int n);

/* Checksums: 16-bit big-endian words, ones' complement. */
uint32_t pg_sum(const uint8_t *d, int len, uint32_t sum);
uint16_t pg_fold(uint32_t sum); /* folded and complemented */
/* IPv4 header checksum field as it should be (field itself counted as 0) */
uint16_t pg_ipv4_csum(const uint8_t *ip, int hlen);
int pg_ipv4_csum_ok(const uint8_t *ip, int hlen);
/* TCP checksum over pseudo-header + segment, checksum field counted as 0 */
uint16_t pg_tcp_csum(int family, const uint8_t *saddr, const uint8_t *daddr,
		     const uint8_t *tcp, int tcp_len);
int pg_tcp_csum_ok(int family, const uint8_t *saddr, const uint8_t *daddr,
		   const uint8_t *tcp, int tcp_len);

/* Sets the IP length field to l3_len bytes of IP (IPv4 tot_len, IPv6
 * payload_len = l3_len - 40) and recomputes the IPv4 header checksum. */
void pg_set_l3_len(uint8_t *buf, const struct pg_layout *lay, int family, int l3_len);

struct pg_parsed {
	int len;
	int nvlan;
	struct pg_vlan vlan[4];
	uint16_t ethertype;
	int l3_off;
	int family;
	const uint8_t *l3;
	int l3_hlen;       /* IPv4 ihl * 4; IPv6 40 + extension headers */
	int ip_len;        /* IPv4 tot_len; IPv6 40 + payload_len */
	uint8_t proto;
	/* IPv4: flags | offset; IPv6: the first fragment header's offset << 3 |
	 * M (frag_seen set) */
	uint16_t frag_off;
	int frag_seen;
	int l4_off;
	const uint8_t *tcp;
	int tcp_len;       /* from the IP length */
	int tcp_hlen;
	uint16_t sport, dport, win, csum, urg;
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *opts;
	int optlen;
	/* decoded options; -1 = absent */
	int mss, ws;
	int sack_perm, ts;
	uint32_t tsval, tsecr;
};

/* Parses an Ethernet frame down to TCP and its options. Returns 0 when an
 * IPv4/IPv6 TCP header with all its options is inside the frame. */
int pg_parse(const uint8_t *buf, int len, struct pg_parsed *p);

static inline uint16_t pg_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pg_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pg_wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void pg_wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

#endif
