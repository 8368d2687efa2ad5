/* SPDX-License-Identifier: GPL-2.0 */
/* What the running kernel must offer before xdpct loads anything. */
#ifndef XDPCT_PROBE_H
#define XDPCT_PROBE_H

/* 0, or -1 after a one-line error naming the missing piece and the
 * kernel that has it. XDPCT_KERNEL_BTF=FILE reads the kernel's BTF from
 * FILE instead of /sys/kernel/btf/vmlinux (to check another kernel's, and
 * for the tests). */
int probe_kernel(void);

#endif
