// SPDX-License-Identifier: GPL-2.0
/* Finding our TC filters again after xdpct has exited. libbpf's tc API
 * needs the handle and priority of a filter; the kernel picked them at
 * attach time, so list the hook's filters over rtnetlink and match the
 * BPF program id (or name). Other users' filters stay untouched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"

#define MAX_FILTERS 64

struct tc_filter {
	__u32 handle;
	__u32 prio;
	__u32 prog_id;        /* 0: not a BPF filter */
	char prog_name[64];   /* "name:[id]" as libbpf/tc set it */
};

struct tc_dump {
	struct tc_filter f[MAX_FILTERS];
	int n;
	int total;            /* filters seen, kept or not */
};

static int bpf_opts_cb(const struct nlattr *a, void *data)
{
	struct tc_filter *f = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_BPF_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			f->prog_id = mnl_attr_get_u32(a);
		break;
	case TCA_BPF_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(f->prog_name, sizeof(f->prog_name), "%s",
				 mnl_attr_get_str(a));
		break;
	}
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tc_dump *d = data;
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct tc_filter f = {};
	const struct nlattr *a;
	bool is_bpf = false;

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return MNL_CB_OK;
	/* Handle 0 heads each priority's list; the filters follow. */
	if (!tcm->tcm_handle)
		return MNL_CB_OK;
	d->total++;
	f.handle = tcm->tcm_handle;
	f.prio = TC_H_MAJ(tcm->tcm_info) >> 16;
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			is_bpf = !strcmp(mnl_attr_get_str(a), "bpf");
		else if (mnl_attr_get_type(a) == TCA_OPTIONS)
			mnl_attr_parse_nested(a, bpf_opts_cb, &f);
	}
	if (is_bpf && d->n < MAX_FILTERS)
		d->f[d->n++] = f;
	return MNL_CB_OK;
}

static int tc_dump(int ifindex, bool ingress, struct tc_dump *d)
{
	char *buf;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq = time(NULL), portid;
	const size_t bufsz = 32768;
	int r = 0;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT,
				    ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, bufsz)) > 0) {
		r = mnl_cb_run(buf, n, seq, portid, filter_cb, d);
		if (r <= MNL_CB_STOP)
			break;
	}
	/* No clsact qdisc: no filters. */
	if (r < 0)
		r = (errno == EINVAL || errno == ENOENT) ? 0 : -errno;
	else
		r = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

static bool name_matches(const char *tc_name, const char *prog_name)
{
	size_t len = strlen(prog_name);

	/* libbpf names a filter "prog:[id]", tc "file:[sec]". */
	return !strncmp(tc_name, prog_name, len) &&
	       (tc_name[len] == '\0' || tc_name[len] == ':');
}

int tc_detach_ours(int ifindex, bool ingress, __u32 prog_id,
		   const char *prog_name)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	struct tc_dump *d;
	int i, r, removed = 0;

	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = tc_dump(ifindex, ingress, d);
	if (r)
		goto out;
	for (i = 0; i < d->n; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = d->f[i].handle,
				    .priority = d->f[i].prio);
		bool ours = prog_id ? d->f[i].prog_id == prog_id :
				      name_matches(d->f[i].prog_name, prog_name);

		if (!ours)
			continue;
		r = bpf_tc_detach(&hook, &o);
		if (r)
			goto out;
		removed++;
	}
	r = removed;
out:
	free(d);
	return r;
}

int tcx_find(int ifindex, bool ingress, __u32 prog_id)
{
	__u32 ids[64], n = 64, i;

	if (bpf_prog_query(ifindex, ingress ? XDPCT_TCX_INGRESS : XDPCT_TCX_EGRESS, 0, NULL,
			   ids, &n))
		return -errno;
	for (i = 0; i < n && i < 64; i++)
		if (ids[i] == prog_id)
			return 1;
	return 0;
}

int tc_count_filters(int ifindex)
{
	struct tc_dump *d;
	int r, total = 0;

	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = tc_dump(ifindex, true, d);
	total += d->total;
	if (!r)
		r = tc_dump(ifindex, false, d);
	total += d->total;
	free(d);
	return r ? r : total;
}

int tc_find_ours(int ifindex, bool ingress, __u32 prog_id, __u32 *handle,
		 __u32 *prio)
{
	struct tc_dump *d;
	int i, r;

	if (!prog_id)
		return 0;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = tc_dump(ifindex, ingress, d);
	if (!r) {
		for (i = 0; i < d->n; i++) {
			if (d->f[i].prog_id != prog_id)
				continue;
			*handle = d->f[i].handle;
			*prio = d->f[i].prio;
			r = 1;
			break;
		}
	}
	free(d);
	return r;
}
