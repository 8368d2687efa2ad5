// SPDX-License-Identifier: GPL-2.0
/* tcxprogs IFACE ingress|egress: the ids of the programs on the interface's
 * TCX hook, one a line (this network namespace). For the tests: iproute2
 * 6.1 and bpftool 7.1 do not show TCX. Exit 1 if the query fails. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	__u32 ids[64], n = 64, i;
	unsigned int ifindex;

	if (argc != 3 || (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: tcxprogs IFACE ingress|egress\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcxprogs: no interface %s\n", argv[1]);
		return 1;
	}
	/* BPF_TCX_INGRESS 46, BPF_TCX_EGRESS 47: newer than these headers */
	if (bpf_prog_query(ifindex, strcmp(argv[2], "ingress") ? 47 : 46, 0, NULL, ids, &n)) {
		fprintf(stderr, "tcxprogs: query: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n && i < 64; i++)
		printf("%u\n", ids[i]);
	return 0;
}
