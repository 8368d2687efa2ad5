// SPDX-License-Identifier: GPL-2.0
/* xdpct_local: the addresses of this network namespace, so that XDP
 * answers and drops only for this host (XDPCT_CFG_LOCAL_ONLY) and passes a
 * router's or a bridge's transit traffic untouched. Filled from an
 * RTM_GETADDR dump at attach, config and reload; `xdpct run` keeps it
 * current from the kernel's address notifications. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "cmd.h"

struct addr_set {
	struct xdpct_local_key *v;
	size_t n, cap;
	int err;
};

/* The address of an RTM_NEWADDR/RTM_DELADDR message: IFA_LOCAL for IPv4
 * (IFA_ADDRESS is the peer's on point-to-point links), IFA_ADDRESS for
 * IPv6. 0 if it has one. */
static int addr_of(const struct nlmsghdr *nlh, struct xdpct_local_key *k)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const void *local = NULL, *addr = NULL;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return -1;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = mnl_attr_get_payload(a);
	}
	memset(k, 0, sizeof(*k));
	if (ifa->ifa_family == AF_INET && (local || addr)) {
		k->family = 4;
		memcpy(k->addr, local ? local : addr, 4);
		return 0;
	}
	if (ifa->ifa_family == AF_INET6 && addr) {
		k->family = 6;
		memcpy(k->addr, addr, 16);
		return 0;
	}
	return -1;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_set *s = data;
	struct xdpct_local_key k;

	if (nlh->nlmsg_type != RTM_NEWADDR || addr_of(nlh, &k))
		return MNL_CB_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct xdpct_local_key *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = k;
	return MNL_CB_OK;
}

static int addr_dump(struct addr_set *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int seq = time(NULL), portid;
	ssize_t n;
	int r = MNL_CB_OK, ret = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, n, seq, portid, dump_cb, s);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (s->err)
		ret = s->err;
	else if (n < 0 || r < 0)
		ret = -errno;
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

int local_addrs_sync(int fd, unsigned int *count)
{
	struct addr_set s = {};
	struct xdpct_local_key k, next, *cur = NULL;
	__u8 one = 1;
	size_t i;
	int r;

	r = addr_dump(&s);
	if (r)
		goto out;
	for (i = 0; i < s.n; i++) {
		if (bpf_map_update_elem(fd, &s.v[i], &one, BPF_ANY)) {
			r = -errno;
			goto out;
		}
	}
	/* addresses that went since the last sync */
	while (!bpf_map_get_next_key(fd, cur, &next)) {
		bool found = false;

		k = next;
		cur = &k;
		for (i = 0; i < s.n && !found; i++)
			found = !memcmp(&s.v[i], &k, sizeof(k));
		if (!found)
			bpf_map_delete_elem(fd, &k);
	}
	if (count)
		*count = s.n;
out:
	free(s.v);
	return r;
}

struct mnl_socket *local_addrs_watch(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

struct watch_ctx {
	int fd;
	int changes;
};

static int watch_cb(const struct nlmsghdr *nlh, void *data)
{
	struct watch_ctx *w = data;
	struct xdpct_local_key k;
	__u8 one = 1;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    addr_of(nlh, &k))
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWADDR)
		bpf_map_update_elem(w->fd, &k, &one, BPF_ANY);
	else
		bpf_map_delete_elem(w->fd, &k);
	w->changes++;
	return MNL_CB_OK;
}

int local_addrs_watch_read(struct mnl_socket *nl, int fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct watch_ctx w = { .fd = fd };
	ssize_t n;

	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		mnl_cb_run(buf, n, 0, 0, watch_cb, &w);
	if (n < 0 && errno == ENOBUFS) {
		/* notifications lost: the whole set again */
		if (local_addrs_sync(fd, NULL))
			return -1;
		w.changes++;
	}
	return w.changes;
}
