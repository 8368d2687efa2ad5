// SPDX-License-Identifier: GPL-2.0
/* Frame builder and parser for the unit tests (see pktgen.h). */
#include <string.h>

#include "pktgen.h"

/* ---- TCP options ---- */

static void opt_put(struct pg_tcpopts *o, uint8_t b)
{
	if (o->len < (int)sizeof(o->b))
		o->b[o->len++] = b;
}

void pgo_mss(struct pg_tcpopts *o, uint16_t mss)
{
	opt_put(o, 2);
	opt_put(o, 4);
	opt_put(o, mss >> 8);
	opt_put(o, mss & 0xff);
}

void pgo_nop(struct pg_tcpopts *o)
{
	opt_put(o, 1);
}

void pgo_eol(struct pg_tcpopts *o)
{
	opt_put(o, 0);
}

void pgo_sack_perm(struct pg_tcpopts *o)
{
	opt_put(o, 4);
	opt_put(o, 2);
}

void pgo_ts(struct pg_tcpopts *o, uint32_t tsval, uint32_t tsecr)
{
	opt_put(o, 8);
	opt_put(o, 10);
	for (int i = 3; i >= 0; i--)
		opt_put(o, (tsval >> (8 * i)) & 0xff);
	for (int i = 3; i >= 0; i--)
		opt_put(o, (tsecr >> (8 * i)) & 0xff);
}

void pgo_ws(struct pg_tcpopts *o, uint8_t shift)
{
	opt_put(o, 3);
	opt_put(o, 3);
	opt_put(o, shift);
}

void pgo_bytes(struct pg_tcpopts *o, const uint8_t *b, int n)
{
	for (int i = 0; i < n; i++)
		opt_put(o, b[i]);
}

/* ---- checksums ---- */

uint32_t pg_sum(const uint8_t *d, int len, uint32_t sum)
{
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	if (i < len)
		sum += (uint32_t)d[i] << 8; /* odd byte: padded with zero */
	return sum;
}

uint16_t pg_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t pg_ipv4_csum(const uint8_t *ip, int hlen)
{
	uint32_t sum = pg_sum(ip, 10, 0);

	sum = pg_sum(ip + 12, hlen - 12, sum); /* skip the checksum field */
	return pg_fold(sum);
}

int pg_ipv4_csum_ok(const uint8_t *ip, int hlen)
{
	return pg_fold(pg_sum(ip, hlen, 0)) == 0;
}

static uint32_t pseudo_sum(int family, const uint8_t *saddr, const uint8_t *daddr,
			   int tcp_len)
{
	int alen = family == 4 ? 4 : 16;
	uint32_t sum = pg_sum(saddr, alen, 0);

	sum = pg_sum(daddr, alen, sum);
	sum += 6; /* zero byte(s) + protocol/next header */
	sum += (uint32_t)tcp_len; /* IPv4: 16-bit length; IPv6: 32-bit */
	if (family == 6)
		sum += (uint32_t)tcp_len >> 16;
	return sum;
}

uint16_t pg_tcp_csum(int family, const uint8_t *saddr, const uint8_t *daddr,
		     const uint8_t *tcp, int tcp_len)
{
	uint32_t sum = pseudo_sum(family, saddr, daddr, tcp_len);

	sum = pg_sum(tcp, 16, sum);
	sum = pg_sum(tcp + 18, tcp_len - 18, sum);
	return pg_fold(sum);
}

int pg_tcp_csum_ok(int family, const uint8_t *saddr, const uint8_t *daddr,
		   const uint8_t *tcp, int tcp_len)
{
	uint32_t sum = pseudo_sum(family, saddr, daddr, tcp_len);

	return pg_fold(pg_sum(tcp, tcp_len, sum)) == 0;
}

/* ---- builder ---- */

static int build_ext(uint8_t *h, const struct pg_ext *e, uint8_t next)
{
	int len = e->type == PG_EXT_FRAG ? 8 : e->len;

	memset(h, 0, len);
	h[0] = next;
	switch (e->type) {
	case PG_EXT_AH:
		h[1] = len / 4 - 2;
		pg_wr32(h + 4, 0x1000); /* SPI */
		break;
	case PG_EXT_FRAG:
		h[1] = 0;
		pg_wr16(h + 2, e->frag);
		pg_wr32(h + 4, 0xabcd1234); /* identification */
		break;
	case PG_EXT_ROUTING:
		h[1] = len / 8 - 1;
		h[2] = 253; /* routing type reserved for experiments */
		h[3] = 0;   /* segments left: 0, nothing to process */
		break;
	default: /* hop-by-hop, destination options: one PadN fills it */
		h[1] = len / 8 - 1;
		h[2] = 1;
		h[3] = len - 4;
		break;
	}
	return len;
}

int pg_build(const struct pg_spec *s, uint8_t *buf, int cap, struct pg_layout *lay)
{
	uint8_t proto = s->proto ? s->proto : 6;
	int off = 0, l3, l4, optlen, tcp_hlen = 0, l4_len, i;
	struct pg_layout dummy;

	if (!lay)
		lay = &dummy;
	memset(lay, 0, sizeof(*lay));
	optlen = (s->opts.len + 3) & ~3;
	if (14 + 4 * s->nvlan > cap)
		return -1;

	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	off = 12;
	for (i = 0; i < s->nvlan; i++) {
		pg_wr16(buf + off, s->vlan[i].tpid);
		pg_wr16(buf + off + 2, s->vlan[i].tci);
		off += 4;
	}
	pg_wr16(buf + off, s->ethertype ? s->ethertype :
			   (s->family == 4 ? 0x0800 : 0x86dd));
	off += 2;
	l3 = off;

	if (s->family == 4) {
		int ihl = 20 + s->ip_optlen;

		if (l3 + ihl > cap)
			return -1;
		buf[l3] = 0x40 | (ihl / 4);
		buf[l3 + 1] = s->tos;
		pg_wr16(buf + l3 + 4, s->ip_id);
		pg_wr16(buf + l3 + 6, s->frag_off);
		buf[l3 + 8] = s->ttl ? s->ttl : 64;
		buf[l3 + 9] = proto;
		memcpy(buf + l3 + 12, s->saddr, 4);
		memcpy(buf + l3 + 16, s->daddr, 4);
		memcpy(buf + l3 + 20, s->ip_opts, s->ip_optlen);
		l4 = l3 + ihl;
	} else {
		uint8_t first = s->n_ext ? s->ext[0].type : proto;

		if (l3 + 40 > cap)
			return -1;
		pg_wr32(buf + l3, 0x60000000 | (uint32_t)s->tos << 20);
		buf[l3 + 6] = first;
		buf[l3 + 7] = s->ttl ? s->ttl : 64;
		memcpy(buf + l3 + 8, s->saddr, 16);
		memcpy(buf + l3 + 24, s->daddr, 16);
		l4 = l3 + 40;
		for (i = 0; i < s->n_ext; i++) {
			uint8_t next = i + 1 < s->n_ext ? s->ext[i + 1].type : proto;

			if (l4 + (s->ext[i].len > 8 ? s->ext[i].len : 8) > cap)
				return -1;
			l4 += build_ext(buf + l4, &s->ext[i], next);
		}
	}

	if (proto == 6) {
		tcp_hlen = 20 + optlen;
		if (l4 + tcp_hlen + s->payload_len > cap)
			return -1;
		memset(buf + l4, 0, tcp_hlen);
		pg_wr16(buf + l4, s->sport);
		pg_wr16(buf + l4 + 2, s->dport);
		pg_wr32(buf + l4 + 4, s->seq);
		pg_wr32(buf + l4 + 8, s->ack);
		buf[l4 + 12] = (uint8_t)(tcp_hlen / 4) << 4;
		buf[l4 + 13] = s->flags;
		pg_wr16(buf + l4 + 14, s->win);
		memcpy(buf + l4 + 20, s->opts.b, s->opts.len); /* rest stays EOL */
	} else if (l4 + s->payload_len > cap) {
		return -1;
	}
	if (s->payload_len)
		memcpy(buf + l4 + tcp_hlen, s->payload, s->payload_len);
	l4_len = tcp_hlen + s->payload_len;

	if (s->family == 4) {
		int ihl = 20 + s->ip_optlen;

		pg_wr16(buf + l3 + 2, ihl + l4_len);
		pg_wr16(buf + l3 + 10, pg_ipv4_csum(buf + l3, ihl));
		if (proto == 6)
			pg_wr16(buf + l4 + 16, pg_tcp_csum(4, buf + l3 + 12, buf + l3 + 16,
							   buf + l4, l4_len));
	} else {
		pg_wr16(buf + l3 + 4, l4 - l3 - 40 + l4_len);
		if (proto == 6)
			pg_wr16(buf + l4 + 16, pg_tcp_csum(6, buf + l3 + 8, buf + l3 + 24,
							   buf + l4, l4_len));
	}
	lay->len = l4 + l4_len;
	lay->l3_off = l3;
	lay->l4_off = l4;
	lay->tcp_hlen = tcp_hlen;
	return lay->len;
}

void pg_set_l3_len(uint8_t *buf, const struct pg_layout *lay, int family, int l3_len)
{
	uint8_t *ip = buf + lay->l3_off;

	if (family == 4) {
		pg_wr16(ip + 2, (uint16_t)l3_len);
		pg_wr16(ip + 10, pg_ipv4_csum(ip, (ip[0] & 0xf) * 4));
	} else {
		pg_wr16(ip + 4, (uint16_t)(l3_len - 40));
	}
}

/* ---- parser ---- */

static void parse_opts(struct pg_parsed *p)
{
	const uint8_t *o = p->opts;
	int i = 0, n = p->optlen;

	p->mss = p->ws = -1;
	p->sack_perm = p->ts = 0;
	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			break;
		if (kind == 2 && len == 4)
			p->mss = pg_rd16(o + i + 2);
		else if (kind == 3 && len == 3)
			p->ws = o[i + 2];
		else if (kind == 4 && len == 2)
			p->sack_perm = 1;
		else if (kind == 8 && len == 10) {
			p->ts = 1;
			p->tsval = pg_rd32(o + i + 2);
			p->tsecr = pg_rd32(o + i + 6);
		}
		i += len;
	}
}

int pg_parse(const uint8_t *buf, int len, struct pg_parsed *p)
{
	int off = 12;
	uint16_t et;
	uint8_t nh;

	memset(p, 0, sizeof(*p));
	p->len = len;
	p->mss = p->ws = -1;
	if (len < 14)
		return -1;
	et = pg_rd16(buf + off);
	while ((et == 0x8100 || et == 0x88a8) && p->nvlan < 4) {
		if (off + 6 > len)
			return -1;
		p->vlan[p->nvlan].tpid = et;
		p->vlan[p->nvlan].tci = pg_rd16(buf + off + 2);
		p->nvlan++;
		off += 4;
		et = pg_rd16(buf + off);
	}
	p->ethertype = et;
	off += 2;
	p->l3_off = off;
	p->l3 = buf + off;
	if (et == 0x0800) {
		if (off + 20 > len)
			return -1;
		p->family = 4;
		p->l3_hlen = (p->l3[0] & 0xf) * 4;
		p->ip_len = pg_rd16(p->l3 + 2);
		p->frag_off = pg_rd16(p->l3 + 6);
		p->proto = p->l3[9];
	} else if (et == 0x86dd) {
		int e = off + 40;

		if (off + 40 > len)
			return -1;
		p->family = 6;
		p->ip_len = 40 + pg_rd16(p->l3 + 4);
		nh = p->l3[6];
		/* a fragment header is walked too: callers that care read
		 * frag_off (the first one's) */
		while (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44) {
			if (e + 8 > len)
				return -1;
			int el = nh == 51 ? (buf[e + 1] + 2) * 4 :
				 nh == 44 ? 8 : (buf[e + 1] + 1) * 8;

			if (nh == 44 && !p->frag_seen) {
				p->frag_seen = 1;
				p->frag_off = pg_rd16(buf + e + 2);
			}

			nh = buf[e];
			e += el;
		}
		p->proto = nh;
		p->l3_hlen = e - off;
	} else {
		return -1;
	}
	p->l4_off = off + p->l3_hlen;
	if (p->proto != 6 || p->l4_off + 20 > len)
		return -1;
	p->tcp = buf + p->l4_off;
	p->tcp_len = p->ip_len - p->l3_hlen;
	p->sport = pg_rd16(p->tcp);
	p->dport = pg_rd16(p->tcp + 2);
	p->seq = pg_rd32(p->tcp + 4);
	p->ack = pg_rd32(p->tcp + 8);
	p->tcp_hlen = (p->tcp[12] >> 4) * 4;
	p->flags = p->tcp[13];
	p->win = pg_rd16(p->tcp + 14);
	p->csum = pg_rd16(p->tcp + 16);
	p->urg = pg_rd16(p->tcp + 18);
	if (p->tcp_hlen < 20 || p->l4_off + p->tcp_hlen > len)
		return -1;
	p->opts = p->tcp + 20;
	p->optlen = p->tcp_hlen - 20;
	parse_opts(p);
	return 0;
}
