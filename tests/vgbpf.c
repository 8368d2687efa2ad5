// SPDX-License-Identifier: GPL-2.0
/* build/vgbpf.so: preloaded by tests/sanitize.sh into xdpct under valgrind.
 *
 * valgrind 3.19 does not model bpf(BPF_MAP_LOOKUP_BATCH) ("unhandled eBPF
 * command 24"): the keys and values the kernel writes look uninitialised
 * to memcheck, and every later use of them would be reported. This wraps
 * libc's syscall() (libbpf's way into bpf(2)) and, after a batch lookup,
 * tells memcheck what the kernel wrote: `count` keys and values and the
 * u32 batch token of a hash map, nothing else. Every other report stays a
 * report. Outside valgrind the client requests do nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

typedef long (*syscall_fn)(long, ...);

static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int a, b, n = 0;
	char sep;

	if (!f)
		return 1;
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			if (fscanf(f, "%c", &sep) != 1)
				sep = '\n';
		}
		n += b - a + 1;
		if (sep != ',')
			break;
	}
	fclose(f);
	return n > 0 ? n : 1;
}

/* what the kernel wrote for one batch lookup on map_fd */
static void batch_defined(syscall_fn real, const union bpf_attr *attr)
{
	struct bpf_map_info mi;
	union bpf_attr ia;
	size_t vsz;

	memset(&mi, 0, sizeof(mi));
	memset(&ia, 0, sizeof(ia));
	ia.info.bpf_fd = attr->batch.map_fd;
	ia.info.info_len = sizeof(mi);
	ia.info.info = (uintptr_t)&mi;
	if (real(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &ia, sizeof(ia)))
		return;
	vsz = mi.value_size;
	if (mi.type == BPF_MAP_TYPE_PERCPU_HASH || mi.type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	    mi.type == BPF_MAP_TYPE_PERCPU_ARRAY)
		vsz = ((vsz + 7) & ~(size_t)7) * possible_cpus();
	VALGRIND_MAKE_MEM_DEFINED((void *)(uintptr_t)attr->batch.keys,
				  (size_t)attr->batch.count * mi.key_size);
	VALGRIND_MAKE_MEM_DEFINED((void *)(uintptr_t)attr->batch.values,
				  (size_t)attr->batch.count * vsz);
	if (attr->batch.out_batch)
		VALGRIND_MAKE_MEM_DEFINED((void *)(uintptr_t)attr->batch.out_batch,
					  sizeof(uint32_t));
}

long syscall(long nr, ...)
{
	static syscall_fn real;
	long a[6], r;
	va_list ap;
	int e;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	/* valgrind checks BPF_MAP_GET_NEXT_KEY's attr->flags, past the size
	 * libbpf passes (the kernel reads `size` bytes, and libbpf clears
	 * those): the rest of its full-size union is described as defined */
	if (nr == __NR_bpf && a[0] == BPF_MAP_GET_NEXT_KEY && a[1] &&
	    (unsigned long)a[2] < sizeof(union bpf_attr))
		VALGRIND_MAKE_MEM_DEFINED((char *)a[1] + a[2], sizeof(union bpf_attr) - a[2]);
	r = real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	e = errno;
	/* ENOENT: the last batch, with its entries */
	if (nr == __NR_bpf && a[0] == BPF_MAP_LOOKUP_BATCH && (r == 0 || e == ENOENT))
		batch_defined(real, (const union bpf_attr *)a[1]);
	errno = e;
	return r;
}
