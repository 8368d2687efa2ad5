// SPDX-License-Identifier: GPL-2.0
/* The kernel's BTF names what the BPF object will ask for: looking there
 * first turns the verifier's bare "Invalid argument" on an older kernel
 * into one line that says what is missing and which kernel has it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe.h"
#include "util.h"

#define KERNEL_HINT "Linux 6.9 or later (Debian 12: the bookworm-backports kernel; Debian 13 has it)"

static const struct {
	const char *name;
	int kind;
	const char *what;
} needs[] = {
	/* the cookie handover to the listener (TC ingress) */
	{ "bpf_sk_assign_tcp_reqsk", BTF_KIND_FUNC, "kfunc" },
	{ "bpf_tcp_req_attrs", BTF_KIND_STRUCT, "struct" },
};

int probe_kernel(void)
{
	const char *file = getenv("XDPCT_KERNEL_BTF");
	struct utsname u = {};
	struct btf *btf;
	size_t i;

	uname(&u);
	btf = file && *file ? btf__parse(file, NULL) : btf__load_vmlinux_btf();
	if (!btf) {
		err("kernel %s: no BTF (%s: %s): xdpct needs %s with CONFIG_DEBUG_INFO_BTF",
		    u.release, file && *file ? file : "/sys/kernel/btf/vmlinux",
		    strerror(errno), KERNEL_HINT);
		return -1;
	}
	for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		if (btf__find_by_name_kind(btf, needs[i].name, needs[i].kind) >= 0)
			continue;
		err("kernel %s lacks the %s %s: xdpct needs %s", u.release, needs[i].what,
		    needs[i].name, KERNEL_HINT);
		btf__free(btf);
		return -1;
	}
	btf__free(btf);
	return 0;
}
