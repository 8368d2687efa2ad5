// SPDX-License-Identifier: GPL-2.0
/* Adoption: connections that exist before xdpct protects their port have
 * no flow entry, and XDP would take their ACKs for bad cookies and drop
 * them. So, before the programs go live, dump this network namespace's TCP
 * sockets (NETLINK_SOCK_DIAG, the interface `ss` uses) and seed an entry
 * for each tracked one. Sequence numbers are not in sock_diag: the entries
 * carry no SEEN bits and the BPF side learns each direction from its next
 * packet. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "xdpct_seen.h"

/* The kernel's TCP states (include/net/tcp_states.h), a stable ABI of
 * sock_diag; not exported by the uapi headers. */
enum {
	K_ESTABLISHED = 1, K_SYN_SENT, K_SYN_RECV, K_FIN_WAIT1, K_FIN_WAIT2,
	K_TIME_WAIT, K_CLOSE, K_CLOSE_WAIT, K_LAST_ACK, K_LISTEN, K_CLOSING,
	K_NEW_SYN_RECV, K_MAX
};

/* One socket, as adoption needs it. */
struct sk_rec {
	struct xdpct_flow_key k; /* family 4 also for v4-mapped IPv6 */
	__u8 kstate;
	__u8 snd_wscale;         /* 0xf: no window scaling */
	__u8 rcv_wscale;
};

struct sk_dump {
	struct sk_rec *v;
	size_t n, cap;
	bool listening[NUM_PORTS]; /* local ports with a listener */
	int err;
};

static bool v4_mapped(const __be32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

static bool addr_is_any(int family, const __be32 a[4])
{
	return family == 4 ? !a[0] : !(a[0] | a[1] | a[2] | a[3]);
}

static bool addr_is_loopback(int family, const __be32 a[4])
{
	if (family == 4)
		return (ntohl(a[0]) >> 24) == 127;
	return !a[0] && !a[1] && !a[2] && a[3] == htonl(1);
}

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sk_dump *d = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct sk_rec r = { .snd_wscale = 0xf, .rcv_wscale = 0xf };

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return MNL_CB_OK;
	if (m->idiag_state == K_LISTEN) {
		d->listening[ntohs(m->id.idiag_sport)] = true;
		return MNL_CB_OK;
	}
	if (m->idiag_family == AF_INET) {
		r.k.family = 4;
		r.k.raddr[0] = m->id.idiag_dst[0];
		r.k.laddr[0] = m->id.idiag_src[0];
	} else if (v4_mapped(m->id.idiag_dst) && v4_mapped(m->id.idiag_src)) {
		r.k.family = 4; /* an IPv4 peer of a dual-stack socket */
		r.k.raddr[0] = m->id.idiag_dst[3];
		r.k.laddr[0] = m->id.idiag_src[3];
	} else {
		r.k.family = 6;
		memcpy(r.k.raddr, m->id.idiag_dst, 16);
		memcpy(r.k.laddr, m->id.idiag_src, 16);
	}
	r.k.rport = m->id.idiag_dport;
	r.k.lport = m->id.idiag_sport;
	r.kstate = m->idiag_state;
	mnl_attr_for_each(a, nlh, sizeof(*m)) {
		const struct tcp_info *ti;

		if (mnl_attr_get_type(a) != INET_DIAG_INFO)
			continue;
		/* older kernels send a shorter tcp_info: the fields we read
		 * are in its first bytes */
		if (mnl_attr_get_payload_len(a) <
		    offsetof(struct tcp_info, tcpi_rto))
			continue;
		ti = mnl_attr_get_payload(a);
		if (ti->tcpi_options & TCPI_OPT_WSCALE) {
			r.snd_wscale = ti->tcpi_snd_wscale;
			r.rcv_wscale = ti->tcpi_rcv_wscale;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct sk_rec *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = r;
	return MNL_CB_OK;
}

/* Every TCP socket of one family in this netns, listeners included. */
static int diag_dump(struct mnl_socket *nl, int family, struct sk_dump *d)
{
	/* a dump skb is at most 32 KiB: a smaller buffer would truncate */
	static char buf[32768];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq = time(NULL) + family, portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r = MNL_CB_OK;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* TCPF_SYN_RECV also brings the request sockets (NEW_SYN_RECV) */
	req->idiag_states = ((1u << K_MAX) - 1) & ~(1u << K_NEW_SYN_RECV);
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, n, seq, portid, diag_cb, d);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (d->err)
		return d->err;
	if (n < 0 || r < 0)
		return -errno;
	return 0;
}

/* Kernel socket state -> connection state (enum xdpct_ct_state), 0: skip.
 * The kernel's states are one endpoint's; conntrack's describe the pair,
 * so both ends of the close fold into FIN_WAIT / LAST_ACK. */
static __u8 map_state(__u8 kstate)
{
	switch (kstate) {
	case K_ESTABLISHED: return XDPCT_CT_ESTABLISHED;
	case K_SYN_SENT: return XDPCT_CT_SYN_SENT;
	case K_SYN_RECV: return XDPCT_CT_SYN_RECV;
	case K_FIN_WAIT1:
	case K_FIN_WAIT2: return XDPCT_CT_FIN_WAIT;
	case K_CLOSE_WAIT: return XDPCT_CT_CLOSE_WAIT;
	case K_LAST_ACK: return XDPCT_CT_LAST_ACK;
	case K_CLOSING: return XDPCT_CT_LAST_ACK; /* both FINs sent */
	case K_TIME_WAIT: return XDPCT_CT_TIME_WAIT;
	case K_CLOSE: return XDPCT_CT_CLOSE;
	default: return 0;
	}
}

static bool if_is_loopback(const char *ifname)
{
	struct ifreq ifr = {};
	bool lo = false;
	int fd;

	if (!ifname)
		return true; /* unknown interface: keep everything */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) || (ifr.ifr_flags & IFF_LOOPBACK))
		lo = true;
	close(fd);
	return lo;
}

/* The entry, then its xdpct_seen bit (after: see xdpct.h); observed
 * entries have no bit. */
static int insert(const struct flow_fds *t, bool observed, const struct xdpct_seen *seen,
		  const struct sk_rec *s, struct xdpct_flow *f)
{
	if (s->k.family == 4) {
		struct xdpct_flow4_key k;

		xdpct_key_to4(&s->k, &k);
		f->tag = xdpct_key_tag4(&k);
		if (bpf_map_update_elem(observed ? t->o4 : t->p4, &k, f, BPF_NOEXIST))
			return -errno;
		if (!observed)
			xdpct_seen_set4(seen, &k);
	} else {
		struct xdpct_flow6_key k;

		xdpct_key_to6(&s->k, &k);
		f->tag = xdpct_key_tag6(&k);
		if (bpf_map_update_elem(observed ? t->o6 : t->p6, &k, f, BPF_NOEXIST))
			return -errno;
		if (!observed)
			xdpct_seen_set6(seen, &k);
	}
	return 0;
}

/* This namespace's TCP sockets, both families. */
static int dump_all(struct sk_dump *d)
{
	struct mnl_socket *nl;
	int r;

	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	r = diag_dump(nl, AF_INET, d);
	if (!r)
		r = diag_dump(nl, AF_INET6, d);
out:
	if (nl)
		mnl_socket_close(nl);
	return r;
}

int protected_socket_keys(const __u8 ports[NUM_PORTS], struct xdpct_flow_key **keys,
			  size_t *n)
{
	struct sk_dump *d = calloc(1, sizeof(*d));
	size_t i, m = 0;
	int r;

	*keys = NULL;
	*n = 0;
	if (!d)
		return -ENOMEM;
	r = dump_all(d);
	if (r)
		goto out;
	*keys = malloc((d->n ? d->n : 1) * sizeof(**keys));
	if (!*keys) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->n; i++)
		if (ports[ntohs(d->v[i].k.lport)] & XDPCT_PORT_PROTECT &&
		    d->v[i].kstate != K_SYN_RECV)
			(*keys)[m++] = d->v[i].k;
	*n = m;
out:
	free(d->v);
	free(d);
	return r;
}

int adopt_sockets(const struct flow_fds *t, const struct xdpct_seen *seen,
		  const __u8 ports[NUM_PORTS], bool track_all, const char *ifname,
		  unsigned int *adopted)
{
	struct sk_dump *d;
	struct timespec ts;
	__u64 now;
	bool keep_lo = if_is_loopback(ifname);
	size_t i;
	int r;

	*adopted = 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = dump_all(d);
	if (r)
		goto out;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* == bpf_ktime_get_ns() */
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (i = 0; i < d->n; i++) {
		const struct sk_rec *s = &d->v[i];
		__u16 lp = ntohs(s->k.lport), rp = ntohs(s->k.rport);
		bool protected = (ports[lp] & XDPCT_PORT_PROTECT) &&
				 acl_lookup(t->acl, s->k.family, s->k.raddr) != XDPCT_ACL_ALLOW;
		bool local_tracked = ports[lp] & (XDPCT_PORT_PROTECT | XDPCT_PORT_OBSERVE);
		struct xdpct_flow f = {};

		/* the BPF side's rules: protection by local port, observation
		 * by either port, or everything */
		if (!local_tracked && !(ports[rp] & XDPCT_PORT_OBSERVE) && !track_all)
			continue;
		f.state = map_state(s->kstate);
		/* not connected (CLOSE before connect()) or never on the wire */
		if (!f.state || !rp || addr_is_any(s->k.family, s->k.raddr) ||
		    (!keep_lo && addr_is_loopback(s->k.family, s->k.laddr)))
			continue;
		f.first_s = now / 1000000000ull;
		f.last_tick = now >> XDPCT_TICK_SHIFT;
		f.flags = XDPCT_FLOW_ADOPTED;
		/* who opened it is not in sock_diag: a tracked or listening
		 * local port means the remote side did */
		if (local_tracked || d->listening[lp])
			f.flags |= XDPCT_FLOW_REMOTE_OPENED;
		/* snd_wscale: the shift the peer announced; rcv: our own */
		f.wscale[XDPCT_REMOTE] = s->snd_wscale;
		f.wscale[XDPCT_LOCAL] = s->rcv_wscale;
		r = insert(t, !protected, seen, s, &f);
		if (r == -EEXIST)
			continue; /* the BPF side (or a first pass) has it */
		if (r)
			goto out;
		(*adopted)++;
	}
	r = 0;
out:
	free(d->v);
	free(d);
	return r;
}
