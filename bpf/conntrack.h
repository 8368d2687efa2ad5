/* SPDX-License-Identifier: GPL-2.0 */
/* The TCP state machine: netfilter's transition table (include/xdpct.h),
 * its flag check and its window check (tcp_in_window), applied to a flow
 * entry whose lock the caller holds. A segment that fails a check changes
 * nothing. Deliberate differences from netfilter are marked "netfilter:". */
#ifndef XDPCT_CONNTRACK_H
#define XDPCT_CONNTRACK_H

/* Global, not static: a const table lands in .rodata, which libbpf and
 * iproute2 both load; indexed with a bounded offset. */
const __u8 xdpct_ct_table[2][XDPCT_PKT_MAX][XDPCT_CT_MAX] = XDPCT_CT_TABLE;

/* One segment, as ct_update() needs it. */
struct ct_seg {
	__u32 seq;
	__u32 ack;
	__u32 len;     /* payload bytes */
	__u32 ip_len;  /* bytes counted for the flow */
	__u16 win;
	__u8 flags;    /* TCP flags byte */
	__u8 wscale;   /* SYN's window shift, 0xf none (SYN and SYN-ACK only) */
	__u8 csum_ok;  /* the TCP checksum holds (local segments: always) */
	__u8 pad[3];
};

static __always_inline void ct_seg_from(struct ct_seg *s, const struct tcphdr *tcp,
					__u32 payload, __u32 ip_len)
{
	s->seq = bpf_ntohl(tcp->seq);
	s->ack = bpf_ntohl(tcp->ack_seq);
	s->len = payload;
	s->ip_len = ip_len;
	s->win = bpf_ntohs(tcp->window);
	s->flags = tcp_flags(tcp);
	s->wscale = 0xf;
	s->csum_ok = 0;
	s->pad[0] = s->pad[1] = s->pad[2] = 0;
}

enum ct_result {
	CT_OK = 0,
	CT_INVALID,       /* bad flag combination, or invalid in this state */
	CT_SEQ_WINDOW,    /* sequence outside the receiver's window */
	CT_ACK_WINDOW,    /* acknowledges data never sent, or far too old */
	CT_RST_WINDOW,    /* RST outside the receiver's window, or below its ack */
	CT_RST_CHALLENGE, /* RST in window, not exact: the host challenges it */
	CT_NEED_CSUM,     /* would change state, checksum not verified: unchanged */
	CT_REOPENED,      /* a SYN started a new connection on a closed entry */
	CT_GONE,          /* the entry was reused for another key: none */
	CT_BUSY,          /* the entry's lock stayed taken: unchanged */
};

/* netfilter's MAXACKWINCONST: the lowest ack bound is at least this far
 * below the receiver's end. */
#define CT_MAXACKWIN_MIN 66000

static __always_inline __u32 ct_pkt_class(__u8 flags)
{
	if (flags & TCP_FLAG_RST)
		return XDPCT_PKT_RST;
	if (flags & TCP_FLAG_SYN)
		return flags & TCP_FLAG_ACK ? XDPCT_PKT_SYNACK : XDPCT_PKT_SYN;
	if (flags & TCP_FLAG_FIN)
		return XDPCT_PKT_FIN;
	if (flags & TCP_FLAG_ACK)
		return XDPCT_PKT_ACK;
	return XDPCT_PKT_NONE;
}

/* netfilter's tcp_valid_flags: PSH, ECE and CWR aside, only these. A FIN
 * without ACK, a SYN with FIN or RST, a segment with no flags are never
 * valid. */
static __always_inline bool ct_flags_valid(__u8 flags)
{
	switch (flags & ~(TCP_FLAG_PSH | TCP_FLAG_ECE | TCP_FLAG_CWR)) {
	case TCP_FLAG_SYN:
	case TCP_FLAG_SYN | TCP_FLAG_URG:
	case TCP_FLAG_SYN | TCP_FLAG_ACK:
	case TCP_FLAG_RST:
	case TCP_FLAG_RST | TCP_FLAG_ACK:
	case TCP_FLAG_FIN | TCP_FLAG_ACK:
	case TCP_FLAG_FIN | TCP_FLAG_ACK | TCP_FLAG_URG:
	case TCP_FLAG_ACK:
	case TCP_FLAG_ACK | TCP_FLAG_URG:
		return true;
	}
	return false;
}

static __always_inline bool seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

static __always_inline __u8 side_seen_flag(int side)
{
	return side == XDPCT_REMOTE ? XDPCT_FLOW_SEEN_REMOTE : XDPCT_FLOW_SEEN_LOCAL;
}

/* The shift of side's windows: only when both SYNs offered one. */
static __always_inline __u32 ct_scale(const struct xdpct_flow *f, int side)
{
	if (f->wscale[0] == 0xf || f->wscale[1] == 0xf)
		return 0;
	return f->wscale[side & 1] & 0xf;
}

/* (Re)starts an entry from its opening SYN sent by side. The lock and tag
 * are left as they are. */
static __always_inline void ct_init_syn(struct xdpct_flow *f, int side,
					const struct ct_seg *s, __u64 now)
{
	struct xdpct_dir *d = &f->dir[side & 1];
	__u32 end = s->seq + s->len + 1;

	f->first_s = now / 1000000000ULL;
	f->last_tick = now >> XDPCT_TICK_SHIFT;
	f->state = XDPCT_CT_SYN_SENT;
	f->flags = side_seen_flag(side) |
		   (side == XDPCT_REMOTE ? XDPCT_FLOW_REMOTE_OPENED : 0);
	f->wscale[side & 1] = s->wscale;
	f->wscale[(side ^ 1) & 1] = 0xf;
	f->tcp_flags[side & 1] = s->flags;
	f->tcp_flags[(side ^ 1) & 1] = 0;
	f->pad0 = 0;
	d->end = end;
	d->maxend = end;
	d->maxwin = s->win ? s->win : 1;
	d->maxack = 0;
	__builtin_memset(&f->dir[(side ^ 1) & 1], 0, sizeof(struct xdpct_dir));
	f->packets[side & 1] = 1;
	f->bytes[side & 1] = s->ip_len;
	f->packets[(side ^ 1) & 1] = 0;
	f->bytes[(side ^ 1) & 1] = 0;
}

/* tcp_in_window's bounds: the segment's [seq, end) within what the sender
 * may send and the receiver can still be waiting for, its ack neither
 * beyond what the receiver sent nor far below it. */
static __always_inline int ct_window_check(const struct xdpct_dir *snd,
					   const struct xdpct_dir *rcv, __u32 seq,
					   __u32 end, __u32 ack, bool rst)
{
	__u32 maxackwin = snd->maxwin > CT_MAXACKWIN_MIN ? snd->maxwin : CT_MAXACKWIN_MIN;

	if (seq_after(seq, snd->maxend) || !seq_after(end, snd->end - rcv->maxwin - 1))
		return rst ? CT_RST_WINDOW : CT_SEQ_WINDOW;
	if (seq_after(ack, rcv->end) || !seq_after(ack, rcv->end - maxackwin - 1))
		return CT_ACK_WINDOW;
	return CT_OK;
}

/* tcp_in_window's updates once the verdict is in: the sender's end,
 * window and ack, the receiver's window and bound. win: scaled.
 * sent: the flags the sender sent before this segment. */
static __always_inline void ct_window_move(struct xdpct_dir *snd, struct xdpct_dir *rcv,
					   __u32 end, __u32 ack, __u32 win, __u8 flags,
					   __u8 sent, bool snd_seen, bool rcv_seen, bool local)
{
	bool syn = flags & TCP_FLAG_SYN, has_ack = flags & TCP_FLAG_ACK;

	if (snd->maxwin < win)
		snd->maxwin = win;
	if (seq_after(end, snd->end))
		snd->end = end;
	if (has_ack && (!(sent & TCP_FLAG_ACK) || seq_after(ack, snd->maxack)))
		snd->maxack = ack; /* the first ACK is taken as is */
	if (rcv_seen && seq_after(end, snd->maxend))
		rcv->maxwin += end - snd->maxend;
	/* a first SYN without ACK sets its own side only (netfilter): its ack
	 * field means nothing */
	if (!(syn && !has_ack && !snd_seen) && seq_after(ack + win, rcv->maxend - 1))
		rcv->maxend = ack + win + !win;
	if (local && has_ack && seq_after(ack, rcv->end))
		rcv->end = ack; /* the local stack got what we did not see */
	if (local && !syn && seq_after(snd->end, snd->maxend))
		snd->maxend = snd->end; /* what the local stack sent it could send */
}

/* The transition for segment s sent by side, on f (locked by the caller).
 * The remote side's segments are checked as netfilter checks both sides';
 * the local stack's are its own truth: they always apply, and move our
 * view of the other side when it lagged. A state change (and any FIN or
 * closing RST) from the remote side needs s->csum_ok. A global function:
 * verified once, not once per caller. */
__noinline int ct_update(struct xdpct_flow *f, const struct ct_seg *s, int side,
			 __u64 now)
{
	struct xdpct_dir snd, rcv;
	__u32 st, pkt, dir, idx, ns, seq, ack, end, win, shift;
	bool local, syn, has_ack, rst, fin, snd_seen, rcv_seen;
	int res = CT_OK;

	if (!f || !s) /* arguments of global functions may be NULL */
		return CT_INVALID;
	side &= 1;
	local = side == XDPCT_LOCAL;
	st = f->state;
	if (st >= XDPCT_CT_MAX || !ct_flags_valid(s->flags))
		return CT_INVALID;
	pkt = ct_pkt_class(s->flags);
	dir = (side == XDPCT_REMOTE) == !!(f->flags & XDPCT_FLOW_REMOTE_OPENED) ?
		      XDPCT_DIR_ORIG : XDPCT_DIR_REPLY;
	idx = dir * XDPCT_PKT_MAX * XDPCT_CT_MAX + pkt * XDPCT_CT_MAX + st;
	if (idx >= sizeof(xdpct_ct_table))
		return CT_INVALID;
	ns = ((const __u8 *)xdpct_ct_table)[idx];
	if (ns == XDPCT_CT_INVALID)
		return CT_INVALID;
	if (ns == XDPCT_CT_IGNORE) {
		/* counted, no window tracking: the entry may be out of sync
		 * (netfilter) */
		f->packets[side] += 1;
		f->bytes[side] += s->ip_len;
		f->last_tick = now >> XDPCT_TICK_SHIFT;
		return CT_OK;
	}

	syn = s->flags & TCP_FLAG_SYN;
	has_ack = s->flags & TCP_FLAG_ACK;
	rst = s->flags & TCP_FLAG_RST;
	fin = s->flags & TCP_FLAG_FIN;
	snd = f->dir[side];
	rcv = f->dir[side ^ 1];
	snd_seen = f->flags & side_seen_flag(side);
	rcv_seen = f->flags & side_seen_flag(side ^ 1);
	seq = s->seq;
	ack = s->ack;
	win = s->win;
	end = seq + s->len + syn + fin;

	/* tcp_in_window, on copies: nothing is written before the verdict */
	if (!snd_seen) {
		if (syn) {
			snd.end = snd.maxend = end;
			snd.maxwin = win ? win : 1;
		} else {
			/* mid-stream (an adopted entry whose socket was gone) */
			snd.end = end;
			shift = ct_scale(f, side);
			snd.maxwin = (win << shift) ? (win << shift) : 1;
			snd.maxend = end + snd.maxwin;
			if (!rcv_seen)
				rcv.end = rcv.maxend = ack;
		}
	} else if (((st == XDPCT_CT_SYN_SENT && dir == XDPCT_DIR_ORIG) ||
		    (st == XDPCT_CT_SYN_RECV && dir == XDPCT_DIR_REPLY)) && syn &&
		   seq_after(end, snd.end)) {
		/* the opener restarted with a higher ISN (RFC 793) */
		snd.end = snd.maxend = end;
		snd.maxwin = win ? win : 1;
		snd.maxack = 0;
	}

	if (syn && !has_ack && !snd_seen) {
		res = CT_OK; /* a first SYN: nothing to check it against */
	} else {
		if (!has_ack || (rst && ack == 0))
			ack = rcv.end; /* no ACK: pretend it acks all (netfilter) */
		if (seq == end && !rst)
			seq = end = snd.end; /* no data: only the ack is checked */
		res = ct_window_check(&snd, &rcv, seq, end, ack, rst);
		/* a SYN-ACK must ack exactly the SYN (Linux, stricter than
		 * netfilter's window) */
		if (res == CT_OK && syn && has_ack && rcv_seen && ack != rcv.end)
			res = CT_ACK_WINDOW;
	}
	if (res != CT_OK && !local)
		return res;
	res = CT_OK;

	/* refinements of the table */
	if (rst && !local && rcv_seen) {
		/* RFC 5961 3.2: exact closes, else the endpoint challenges it.
		 * Exact: the receiver's last ack, or the sender's next seq (the
		 * receiver may not have acked all it got). Below the
		 * receiver's ack: invalid (netfilter). */
		bool rcv_acked = f->tcp_flags[side ^ 1] & TCP_FLAG_ACK;

		/* the answer to a SYN (RFC 9293 3.10.7.3): acceptable when it
		 * acks the SYN exactly, whatever its seq (Linux sends 0) */
		if (!snd_seen) {
			if (!has_ack || s->ack != rcv.end)
				return CT_RST_WINDOW;
		} else if (rcv_acked && seq_after(rcv.maxack, s->seq))
			return CT_RST_WINDOW;
		else if (!(rcv_acked && s->seq == rcv.maxack) && !(snd_seen && s->seq == snd.end))
			return CT_RST_CHALLENGE; /* nothing moves */
	}
	if (ns == XDPCT_CT_CLOSE_WAIT && st == XDPCT_CT_FIN_WAIT &&
	    !((f->tcp_flags[side ^ 1] & TCP_FLAG_FIN) && !seq_after(rcv.end, ack)))
		ns = st; /* only the other side's ACK of the FIN */
	if (ns == XDPCT_CT_TIME_WAIT && st == XDPCT_CT_LAST_ACK && pkt == XDPCT_PKT_ACK &&
	    !((f->tcp_flags[side ^ 1] & TCP_FLAG_FIN) && !seq_after(rcv.end, ack)))
		ns = st; /* only the ACK of the last FIN */
	if ((f->flags & XDPCT_FLOW_PENDING) && ns == XDPCT_CT_ESTABLISHED)
		ns = st; /* a cookie flow is established when the child exists */
	if (!local && !s->csum_ok && (fin || rst || ns != st))
		return CT_NEED_CSUM;

	/* the verdict is in: write */
	if (!syn)
		win <<= ct_scale(f, side);
	ct_window_move(&snd, &rcv, end, ack, win, s->flags, f->tcp_flags[side], snd_seen,
		       rcv_seen, local);
	f->dir[side] = snd;
	f->dir[side ^ 1] = rcv;
	if (syn)
		f->wscale[side] = s->wscale;
	/* a first FIN acking the other's: sent after it (endpoint states).
	 * From memory, not the locals: ct_update's stack is at its limit. */
	if ((s->flags & f->tcp_flags[side ^ 1] & ~f->tcp_flags[side] & TCP_FLAG_FIN) &&
	    !seq_after(f->dir[side ^ 1].end, s->ack))
		f->flags |= XDPCT_FLOW_FIN_AFTER_REMOTE << side;
	f->tcp_flags[side] |= s->flags;
	f->flags |= side_seen_flag(side);
	f->packets[side] += 1;
	f->bytes[side] += s->ip_len;
	f->last_tick = now >> XDPCT_TICK_SHIFT;
	if (ns < XDPCT_CT_MAX)
		f->state = ns;
	return res;
}

/* ct_update() for the established path's segment, in fewer steps: an
 * ACK (PSH, URG, ECE, CWR aside) on an ESTABLISHED entry both sides sent
 * on, inside the window. Netfilter's table keeps it ESTABLISHED, no
 * refinement applies, the checksum is not needed, and no end's state
 * moves (ESTABLISHED: neither side's FIN yet, which would have moved it).
 * CT_OK: applied; -1: not that case, nothing written (ct_update()
 * decides). Inlined: as a call it cost XDP's established path 22 ns more
 * per upload frame (bench/tax.sh's bpf_stats, the two builds alternated). */
static __always_inline int ct_update_established(struct xdpct_flow *f, const struct ct_seg *s,
						 int side, __u64 now)
{
	struct xdpct_dir *snd, *rcv;
	__u32 seq, end;

	side &= 1;
	if (f->state != XDPCT_CT_ESTABLISHED ||
	    (s->flags & ~(TCP_FLAG_PSH | TCP_FLAG_URG | TCP_FLAG_ECE | TCP_FLAG_CWR)) != TCP_FLAG_ACK ||
	    (f->flags & (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL)) !=
		    (XDPCT_FLOW_SEEN_REMOTE | XDPCT_FLOW_SEEN_LOCAL))
		return -1;
	snd = &f->dir[side];
	rcv = &f->dir[side ^ 1];
	seq = s->seq;
	end = seq + s->len;
	if (!s->len)
		seq = end = snd->end; /* no data: only the ack is checked */
	if (ct_window_check(snd, rcv, seq, end, s->ack, false) != CT_OK)
		return -1;
	ct_window_move(snd, rcv, end, s->ack, (__u32)s->win << ct_scale(f, side), s->flags,
		       f->tcp_flags[side], true, true, side == XDPCT_LOCAL);
	f->tcp_flags[side] |= s->flags;
	f->packets[side] += 1;
	f->bytes[side] += s->ip_len;
	f->last_tick = now >> XDPCT_TICK_SHIFT;
	return CT_OK;
}

/* Both ends' states (include/xdpct_ep.h), 4 bits each. Global, so that
 * its branches stay out of every caller's paths. */
__noinline int ct_ep_pair(const struct xdpct_flow *f)
{
	if (!f)
		return 0;
	return xdpct_ep_state(f, XDPCT_LOCAL) | xdpct_ep_state(f, XDPCT_REMOTE) << 4;
}

/* ct_update(), and whether an end's own state moved: res | moved << 8.
 * Global, so that the calls stay out of the callers' paths. */
__noinline int ct_update_ep(struct xdpct_flow *f, const struct ct_seg *s, int side, __u64 now)
{
	int ep, r;

	if (!f || !s)
		return CT_INVALID;
	/* no FIN before or in it: the ends follow the connection's state,
	 * whose own change says it all (the established path's segments) */
	if (!((f->tcp_flags[0] | f->tcp_flags[1] | s->flags) & TCP_FLAG_FIN))
		return ct_update(f, s, side, now);
	ep = ct_ep_pair(f);
	r = ct_update(f, s, side, now);
	return r | (ct_ep_pair(f) != ep) << 8;
}

/* What ct_apply() did, for the caller's counters and close events. */
struct ct_outcome {
	__u8 old_state;
	__u8 new_state;
	__u8 flags; /* the entry's, after */
	__u8 ep_changed; /* non-zero: an end's own state moved */
	__u32 tick;
};

/* Segment s from side on entry f, under f's lock: a SYN on a closed
 * entry restarts it (the remote's needs a verified checksum), anything
 * else goes through ct_update(). wait: for a busy lock, flow_lock()'s.
 * shortcut: ct_update_established() first (XDP and TC egress, where the
 * established path's segments are; not TC ingress, which applies only
 * what XDP deferred, a state change or a segment that met a held lock,
 * and whose verification the inlined shortcut took from 663,831 to
 * 947,543 instructions). */
static __always_inline int ct_apply(struct xdpct_flow *f, const struct flow_ref *ref,
				    const struct ct_seg *s, int side, __u64 now,
				    struct ct_outcome *o, bool wait, bool shortcut)
{
	int r;

	/* nothing changed, unless the update below says otherwise */
	o->old_state = o->new_state = f->state;
	o->ep_changed = 0;
	r = flow_lock(f, ref, wait);
	if (r != FLOW_LOCKED)
		return r == FLOW_GONE ? CT_GONE : CT_BUSY;
	o->old_state = f->state;
	if ((s->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	    (f->state == XDPCT_CT_TIME_WAIT || f->state == XDPCT_CT_CLOSE)) {
		if (side == XDPCT_REMOTE && !s->csum_ok) {
			r = CT_NEED_CSUM;
		} else {
			ct_init_syn(f, side, s, now);
			r = CT_REOPENED;
		}
	} else {
		r = shortcut ? ct_update_established(f, s, side, now) : -1;
		if (r < 0)
			r = ct_update_ep(f, s, side, now);
		o->ep_changed = r >> 8;
		r &= 0xff;
	}
	o->new_state = f->state;
	o->flags = f->flags;
	o->tick = f->last_tick;
	flow_unlock(f);
	return r;
}

/* After ct_apply() (result res) of a segment on f: the close event for
 * `xdpct run`'s wheel, and the conntrack events of what changed.
 * how: res | remote_is_src << 8. Global: its branches stay here. */
__noinline int ct_changed(const struct tuple *t, const struct flow_ref *r,
			  const struct xdpct_flow *f, const struct ct_outcome *o, int how)
{
	int res = how & 0xff;

	if (!t || !r || !f || !o)
		return 0;
	close_event(t, how >> 8, r, o->old_state, o->new_state, o->tick);
	if (res == CT_REOPENED) {
		ct_event(r, f, CT_EV(XDPCT_EV_DESTROY, XDPCT_DR_CLOSED, o->old_state,
				     XDPCT_EVF_NO_COUNTS));
		ct_event(r, f, CT_EV(XDPCT_EV_NEW, 0, 0, 0));
	} else if (o->old_state != o->new_state || o->ep_changed) {
		ct_event(r, f, CT_EV(XDPCT_EV_UPDATE, 0, o->old_state, 0));
	}
	return 0;
}

/* Whether ct_changed() has anything to do for outcome o, result res: not
 * for most segments. XDP and TC egress ask first and skip the call; TC
 * ingress's deferred segments (rare) call it as is: inlined there, the
 * test costs that program's verification some 50,000 instructions. */
static __always_inline bool ct_moved(const struct ct_outcome *o, int res)
{
	return res == CT_REOPENED || o->old_state != o->new_state || o->ep_changed;
}

#endif
