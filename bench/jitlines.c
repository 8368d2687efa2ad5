// SPDX-License-Identifier: GPL-2.0
/* jitlines: where each part of a loaded BPF program's JIT code comes from.
 *
 *   jitlines ID|PINNED_PATH
 *
 * One line per BPF line-info record of the program and its subprograms:
 *   SYMBOL+0xOFFSET <tab> FILE:LINE <tab> SOURCE
 * SYMBOL is the kernel symbol of the (sub)program (/proc/kallsyms), OFFSET
 * where the record's code starts in its JIT image: the form of `perf script
 * -F sym,symoff` samples, which bench/profile_lines.py folds into source
 * lines with this table. (bpftool can print the same only when built with
 * libbfd, which Debian's is not.) Needs root; the program must stay loaded
 * while this runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static int die(const char *what)
{
	fprintf(stderr, "jitlines: %s: %s\n", what, strerror(errno));
	return 1;
}

/* names[j] = the symbol /proc/kallsyms gives the JIT image at addr[j]
 * (one pass over the file), "funcJ" where it has none. */
static void ksyms_at(const __u64 *addr, __u32 n, char (*names)[256])
{
	char line[512], sym[256], type;
	unsigned long long a;
	FILE *f = fopen("/proc/kallsyms", "r");
	__u32 j;

	for (j = 0; j < n; j++)
		snprintf(names[j], sizeof(names[j]), "func%u", j);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3)
			for (j = 0; j < n; j++)
				if (a == addr[j])
					snprintf(names[j], sizeof(names[j]), "%s", sym);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nfunc, nline, i, j;
	__u64 *jline, *ksym;
	__u32 *flen;
	struct bpf_line_info *line;
	struct btf *btf;
	char (*names)[256];
	char *end;
	unsigned long id;
	int fd;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: jitlines ID|PINNED_PATH\n");
		return argc == 2 ? 0 : 2;
	}
	id = strtoul(argv[1], &end, 10);
	fd = *end ? bpf_obj_get(argv[1]) : bpf_prog_get_fd_by_id((__u32)id);
	if (fd < 0)
		return die(argv[1]);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return die("program info");
	nfunc = info.nr_jited_ksyms;
	nline = info.nr_jited_line_info < info.nr_line_info ? info.nr_jited_line_info :
							      info.nr_line_info;
	if (!nfunc || !nline || !info.btf_id) {
		fprintf(stderr, "jitlines: %s: no JIT line info (not JITed, or no BTF)\n", argv[1]);
		return 1;
	}
	jline = calloc(info.nr_jited_line_info, sizeof(*jline));
	line = calloc(info.nr_line_info, sizeof(*line));
	ksym = calloc(nfunc, sizeof(*ksym));
	flen = calloc(nfunc, sizeof(*flen));
	names = calloc(nfunc, sizeof(*names));
	if (!jline || !line || !ksym || !flen || !names)
		return die("calloc");
	{
		struct bpf_prog_info want = {
			.nr_jited_line_info = info.nr_jited_line_info,
			.jited_line_info = (__u64)(unsigned long)jline,
			.jited_line_info_rec_size = sizeof(*jline),
			.nr_line_info = info.nr_line_info,
			.line_info = (__u64)(unsigned long)line,
			.line_info_rec_size = sizeof(*line),
			.nr_jited_ksyms = nfunc,
			.jited_ksyms = (__u64)(unsigned long)ksym,
			.nr_jited_func_lens = nfunc,
			.jited_func_lens = (__u64)(unsigned long)flen,
		};

		len = sizeof(want);
		if (bpf_obj_get_info_by_fd(fd, &want, &len))
			return die("program line info");
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return die("program BTF");
	ksyms_at(ksym, nfunc, names);
	for (i = 0; i < nline; i++) {
		const char *file = btf__name_by_offset(btf, line[i].file_name_off);
		const char *src = btf__name_by_offset(btf, line[i].line_off);
		const char *base;

		for (j = 0; j < nfunc; j++)
			if (jline[i] >= ksym[j] && jline[i] < ksym[j] + flen[j])
				break;
		if (j == nfunc)
			continue;
		base = file ? strrchr(file, '/') : NULL;
		printf("%s+0x%llx\t%s:%u\t", names[j], (unsigned long long)(jline[i] - ksym[j]),
		       base ? base + 1 : file ? file : "?", BPF_LINE_INFO_LINE_NUM(line[i].line_col));
		/* the source line, its leading blanks and tabs off */
		while (src && (*src == ' ' || *src == '\t'))
			src++;
		printf("%s\n", src ? src : "");
	}
	return 0;
}
