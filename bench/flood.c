// SPDX-License-Identifier: GPL-2.0
/* flood: a TCP flood generator for veth labs. It injects frames with
 * BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): xdp_gen
 * (bench/gen.bpf.c) writes every header field of every frame and returns
 * XDP_TX, which transmits it out of --dev into the veth peer.
 *
 *   flood --dev IF --dmac MAC --dst IPV4 --dport P [--src-net CIDR]
 *         [--mode syn|ack|rst|fin|mixed] [--rate PPS] [--duration S] [--batch N]
 *         [--cpu N] [--sink] [--napi-cpu N] [--watch-cpu N[,N]]
 *         [--watch-comm PREFIX[,PREFIX]] [--peer-ns PATH --peer-dev IF]
 *         [--mss N] [--wscale N]
 *         [--crafted-every K --cookie-key K0:K1 [--cookie-key2 K0:K1]
 *          [--nots-options] [--slot-shift S] [--slot-age 0|1|0,1] [--at-slot N]]
 *   flood --now [--slot-shift S] [--wait-slot N]
 *
 * Frames: SYN with Linux's options (MSS, SACK_PERM, TS, NOP, WS), ACK with
 * NOP NOP TS and a random ack number (a random cookie), bare RST, FIN|ACK
 * laid out as the ACK (fin: a tuple nobody knows closing), or mixed: SYN,
 * ACK, RST in turn, each as its own mode sends it; source
 * address (host bits of --src-net), port, sequence numbers, IP id and TS
 * random per frame.
 * --crafted-every K (ACK mode, K >= 3) with --cookie-key (the defender's
 * SipHash key, two u64 as `bpftool map dump` prints key_cur.k0 and .k1):
 * frame i with i % K == 0 carries a valid cookie (xdpct's bpf/cookie.h),
 * 1 a valid cookie of a stale slot, 2 a valid cookie with one bit the
 * cookie covers flipped (cookie, client ISN, addresses, source port, TSecr
 * option bits), the others a random one; by groups of K, with the
 * timestamp option and without (then the layout --nots-options says).
 * The cookies are those of one time slot of the defender's length
 * (--slot-shift: its xdpct_config.slot_shift): "valid" means made for
 * the slot --slot-age before it (0, 1, or 0,1 for both), "stale" two
 * slots older still. --cookie-key2 makes some of them with a second key.
 * The classes (key, age) come in the proportions 8:4:2:1 (key 1 age 0,
 * age 1, key 2 age 0, age 1; 2:1 when only the ages or the keys vary),
 * so that the defender's totals tell which of them it accepted. The slot
 * is --at-slot N (absolute: CLOCK_MONOTONIC_COARSE >> shift; waited for;
 * exit 3 when it is past or less than 0.1 s of it is left), else the
 * current one, or the next one when the flood does not fit in what is
 * left of it; the flood ends with the slot, 20 ms early (xdp_gen sends
 * nothing outside it: the report counts those as "late").
 * The report counts the crafted frames ("crafted"), by key, age and kind
 * too ("v01": valid, key 0 (--cookie-key), age 1; "s..." stale, "n..."
 * near misses), the near misses to another destination address apart
 * ("near_daddr") and those whose flipped slot bit made them stale
 * ("near_stale") apart, and gives the slot.
 * --now prints the clock in slots ({"now_ns", "slot", "into_ns",
 * "slot_ns"}) and exits; with --wait-slot N, once slot N has begun.
 * --rate 0 (the default) floods as fast as one CPU can; otherwise xdp_gen
 * keeps the schedule itself and the CPU spins either way. --duration
 * bounds the flood (default 1 s, at most 600); SIGTERM/SIGINT end it early
 * and still print the report. --sink attaches xdp_sink to --dev for the
 * duration (the previous XDP program is put back): it counts and drops
 * what the defender sends back. --napi-cpu pins --dev's threaded NAPI
 * kthread. --watch-cpu: busy time of those CPUs over the flood (from
 * /proc/stat); --watch-comm: run time of the threads whose names start
 * with these prefixes (/proc/PID/task/TID/schedstat), e.g. the defender's
 * NAPI kthreads. --peer-ns/--peer-dev: the peer veth's tx_dropped (reply
 * frames our ring refused), read in that namespace.
 * Prints one JSON object: sent, pps, ring_drops (frames the peer's ring
 * refused), delivered, the sink's counts, the CPU figures. Run it inside
 * the attacker's network namespace (nsenter --net=...).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdpct.h"
#include "bench.h"
#include "gen.skel.h"

#define MAX_WATCH 8
#define SLOT_GUARD_NS 20000000ull   /* crafted floods end this early in their slot */
#define SLOT_MIN_LEFT_NS 100000000ull /* --at-slot: at least this much of it */

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("flood: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static volatile sig_atomic_t stop;
static volatile double t_stop;

static double now_s(void);

/* The flood ends here: the running BPF_PROG_RUN returns EINTR. */
static void on_signal(int sig)
{
	(void)sig;
	if (!stop)
		t_stop = now_s();
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The defender's clock (bpf_ktime_get_coarse_ns). */
static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Sleeps until the coarse clock reaches t (it lags CLOCK_MONOTONIC by up to
 * a tick). */
static void sleep_until_coarse(__u64 t)
{
	__u64 now;

	while ((now = coarse_ns()) < t) {
		__u64 d = t - now + 1000000;
		struct timespec ts = { .tv_sec = (time_t)(d / 1000000000ull),
				       .tv_nsec = (long)(d % 1000000000ull) };

		nanosleep(&ts, NULL);
	}
}

static int parse_key(const char *v, unsigned long long *k0, unsigned long long *k1)
{
	char *end;

	*k0 = strtoull(v, &end, 0);
	if (*end != ':')
		return -1;
	*k1 = strtoull(end + 1, &end, 0);
	return *end ? -1 : 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (__u8)v[i];
	}
	return 0;
}

/* tx_dropped of dev: frames the veth could not put in its peer's ring
 * (XDP_TX and redirects included). In the netns nsfd (-1: ours), entered
 * for the lookup only. 32-bit counter: deltas wrap correctly. */
static int self_ns = -1;

static uint32_t tx_dropped(const char *dev, int nsfd)
{
	struct ifaddrs *ifa = NULL, *i;
	uint32_t v = 0;
	int r;

	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
		return 0;
	r = getifaddrs(&ifa);
	if (nsfd >= 0 && setns(self_ns, CLONE_NEWNET))
		die("setns back: %s", strerror(errno));
	if (r)
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && i->ifa_data &&
		    !strcmp(i->ifa_name, dev)) {
			v = ((struct rtnl_link_stats *)i->ifa_data)->tx_dropped;
			break;
		}
	}
	freeifaddrs(ifa);
	return v;
}

/* Run time (ns, /proc/PID/task/TID/schedstat) of every thread whose name
 * starts with one of the prefixes: the server side's NAPI kthreads and
 * ksoftirqd, measured apart from whatever else shares their CPU. */
#define MAX_COMM 8
static unsigned long long comm_runtime(char *const *pfx, int npfx, int *nthreads)
{
	unsigned long long sum = 0;
	struct dirent *d, *t;
	DIR *proc, *task;
	char path[600], comm[32];

	*nthreads = 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", d->d_name);
		task = opendir(path);
		if (!task)
			continue;
		while ((t = readdir(task))) {
			unsigned long long ns = 0;
			bool match = false;
			FILE *f;

			if (t->d_name[0] < '0' || t->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/comm", d->d_name, t->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(comm, sizeof(comm), f))
				for (int i = 0; i < npfx && !match; i++)
					match = !strncmp(comm, pfx[i], strlen(pfx[i]));
			fclose(f);
			if (!match)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/schedstat", d->d_name,
				 t->d_name);
			f = fopen(path, "r");
			if (f && fscanf(f, "%llu", &ns) == 1) {
				sum += ns;
				(*nthreads)++;
			}
			if (f)
				fclose(f);
		}
		closedir(task);
	}
	closedir(proc);
	return sum;
}

struct cpu_times {
	unsigned long long busy, idle, steal;
};

/* /proc/stat, USER_HZ ticks: busy = user+nice+system+irq+softirq */
static int cpu_read(int cpu, struct cpu_times *t)
{
	char name[16], line[512];
	FILE *f = fopen("/proc/stat", "r");
	int ok = -1;

	if (!f)
		return -1;
	snprintf(name, sizeof(name), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };

		if (strncmp(line, name, strlen(name)))
			continue;
		if (sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 7) {
			t->busy = v[0] + v[1] + v[2] + v[5] + v[6];
			t->idle = v[3] + v[4];
			t->steal = v[7];
			ok = 0;
		}
		break;
	}
	fclose(f);
	return ok;
}

/* Pins the threaded NAPI kthreads of dev ("napi/DEV-ID", the name cut to
 * 15 characters) to cpu. Returns how many were found. */
static int pin_napi(const char *dev, int cpu)
{
	char want[32], path[64], comm[32];
	struct dirent *d;
	cpu_set_t set;
	DIR *proc;
	int n = 0;

	snprintf(want, sizeof(want), "napi/%s-", dev);
	want[15] = 0; /* TASK_COMM_LEN - 1 */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		FILE *f;
		pid_t pid = (pid_t)atoi(d->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, want, strlen(want)) &&
		    !sched_setaffinity(pid, sizeof(set), &set))
			n++;
		fclose(f);
	}
	closedir(proc);
	return n;
}

static struct {
	int ifindex;
	__u32 old_id; /* XDP program on --dev before the sink */
	int old_fd;   /* held: replaced, it would be freed */
	bool attached;
} sink_st = { .old_fd = -1 };

static void sink_detach(void)
{
	if (!sink_st.attached)
		return;
	sink_st.attached = false;
	if (sink_st.old_fd >= 0) {
		if (bpf_xdp_attach(sink_st.ifindex, sink_st.old_fd, XDP_FLAGS_DRV_MODE, NULL))
			fprintf(stderr, "flood: could not put back XDP program %u\n", sink_st.old_id);
		close(sink_st.old_fd);
		sink_st.old_fd = -1;
	} else {
		bpf_xdp_detach(sink_st.ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
}

/* Modes beyond enum gen_mode (bench.h), the same values in bench/gen.bpf.c */
#define GEN_FIN 3
#define GEN_MIXED 4
#define GEN_NMODES 5

static const char *mode_name[GEN_NMODES] = { "syn", "ack", "rst", "fin", "mixed" };
/* the frame BPF_PROG_RUN hands xdp_gen: mixed gets the longest, and
 * xdp_gen shrinks it to the ACK's or the RST's */
static const int mode_len[GEN_NMODES] = { GEN_LEN_SYN, GEN_LEN_ACK, GEN_LEN_RST, GEN_LEN_ACK,
					  GEN_LEN_SYN };

int main(int argc, char **argv)
{
	const char *dev = NULL, *dmac_s = NULL, *dst_s = NULL, *src_s = "10.201.0.0/16";
	double rate = 0, duration = 1;
	unsigned dport = 0, batch = 64, mss = 1460, wscale = 7, plen;
	int mode = GEN_SYN, cpu = -1, napi_cpu = -1, nwatch = 0, watch[MAX_WATCH];
	const char *peer_ns = NULL, *peer_dev = NULL;
	char *comm[MAX_COMM];
	int ncomm = 0, peer_fd = -1, nthr0 = 0, nthr1 = 0;
	unsigned long long rt0 = 0, rt1 = 0;
	uint32_t pdrop0 = 0, pdrop1 = 0;
	bool use_sink = false, nots_options = false;
	unsigned long long key0 = 0, key1 = 0, key2_0 = 0, key2_1 = 0;
	unsigned long long at_slot = 0, wait_slot = 0, craft_slot = 0;
	unsigned crafted_every = 0, slot_shift = 0, ages = 1, shift;
	bool have_key = false, have_key2 = false, have_at = false, print_now = false;
	struct cpu_times c0[MAX_WATCH], c1[MAX_WATCH];
	struct sink_counts s0, s1;
	struct gen_bpf *skel;
	struct xdp_md ctx_in = { 0 };
	__u8 frame[128] = { 0 };
	struct in_addr dst, src;
	struct ifreq ifr;
	struct rusage ru0, ru1;
	uint32_t drop0, drop1;
	double t0, t1;
	__u64 f0, sent = 0;
	int fd, napi_pinned = 0, err, prog_fd;
	long hz = sysconf(_SC_CLK_TCK);
	char *slash;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--sink")) {
			use_sink = true;
			continue;
		}
		if (!strcmp(a, "--nots-options")) {
			nots_options = true;
			continue;
		}
		if (!strcmp(a, "--now")) {
			print_now = true;
			continue;
		}
		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--dmac"))
			dmac_s = v;
		else if (!strcmp(a, "--dst"))
			dst_s = v;
		else if (!strcmp(a, "--src-net"))
			src_s = v;
		else if (!strcmp(a, "--dport"))
			dport = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--rate"))
			rate = atof(v);
		else if (!strcmp(a, "--duration"))
			duration = atof(v);
		else if (!strcmp(a, "--batch"))
			batch = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--cpu"))
			cpu = atoi(v);
		else if (!strcmp(a, "--napi-cpu"))
			napi_cpu = atoi(v);
		else if (!strcmp(a, "--mss"))
			mss = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--wscale"))
			wscale = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--peer-ns"))
			peer_ns = v;
		else if (!strcmp(a, "--peer-dev"))
			peer_dev = v;
		else if (!strcmp(a, "--slot-shift"))
			slot_shift = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--crafted-every"))
			crafted_every = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--cookie-key")) {
			if (parse_key(v, &key0, &key1))
				die("bad --cookie-key %s (K0:K1)", v);
			have_key = true;
		} else if (!strcmp(a, "--cookie-key2")) {
			if (parse_key(v, &key2_0, &key2_1))
				die("bad --cookie-key2 %s (K0:K1)", v);
			have_key2 = true;
		} else if (!strcmp(a, "--slot-age")) {
			if (!strcmp(v, "0"))
				ages = 1;
			else if (!strcmp(v, "1"))
				ages = 2;
			else if (!strcmp(v, "0,1"))
				ages = 3;
			else
				die("bad --slot-age %s (0, 1 or 0,1)", v);
		} else if (!strcmp(a, "--at-slot")) {
			at_slot = strtoull(v, NULL, 0);
			have_at = true;
		} else if (!strcmp(a, "--wait-slot"))
			wait_slot = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--watch-comm")) {
			char *s = strdup(v), *tok, *sp = NULL;

			for (tok = strtok_r(s, ",", &sp); tok && ncomm < MAX_COMM;
			     tok = strtok_r(NULL, ",", &sp)) {
				comm[ncomm] = strdup(tok);
				if (strlen(comm[ncomm]) > 15) /* TASK_COMM_LEN - 1 */
					comm[ncomm][15] = 0;
				ncomm++;
			}
			free(s);
		} else if (!strcmp(a, "--watch-cpu")) {
			char *s = strdup(v), *tok, *sp = NULL;

			for (tok = strtok_r(s, ",", &sp); tok && nwatch < MAX_WATCH;
			     tok = strtok_r(NULL, ",", &sp))
				watch[nwatch++] = atoi(tok);
			free(s);
		} else if (!strcmp(a, "--mode")) {
			for (mode = 0; mode < GEN_NMODES && strcmp(v, mode_name[mode]); mode++)
				;
			if (mode == GEN_NMODES)
				die("bad mode %s (syn, ack, rst, fin, mixed)", v);
		} else
			die("unknown option %s", a);
	}
	shift = xdpct_slot_shift(slot_shift);
	if (print_now) {
		__u64 now;

		sleep_until_coarse(wait_slot << shift);
		now = coarse_ns();
		printf("{\"now_ns\":%llu,\"slot\":%llu,\"into_ns\":%llu,\"slot_ns\":%llu}\n",
		       (unsigned long long)now, (unsigned long long)(now >> shift),
		       (unsigned long long)(now & ((1ull << shift) - 1)), 1ull << shift);
		return 0;
	}
	if (!dev || !dmac_s || !dst_s || !dport || dport > 65535)
		die("usage: flood --dev IF --dmac MAC --dst IPV4 --dport P [--src-net CIDR] "
		    "[--mode syn|ack|rst|fin|mixed] [--rate PPS|0] [--duration S] [--batch N] "
		    "[--cpu N] [--sink] [--napi-cpu N] [--watch-cpu N,...] [--mss N] [--wscale N] "
		    "[--crafted-every K --cookie-key K0:K1 [--cookie-key2 K0:K1] [--nots-options] "
		    "[--slot-shift S] [--slot-age 0|1|0,1] [--at-slot N]]; or flood --now "
		    "[--slot-shift S] [--wait-slot N]");
	if (rate < 0 || duration <= 0 || duration > 600 || !batch || batch > 256 || mss > 65535 ||
	    wscale > 14)
		die("rate >= 0, 0 < duration <= 600, 1 <= batch <= 256, mss, wscale <= 14");
	if (crafted_every && (crafted_every < 3 || mode != GEN_ACK || !have_key))
		die("--crafted-every K: K >= 3, --mode ack, and --cookie-key K0:K1");
	if (!crafted_every && (have_key2 || have_at))
		die("--cookie-key2 and --at-slot go with --crafted-every");
	if (inet_pton(AF_INET, dst_s, &dst) != 1)
		die("bad IPv4 destination %s", dst_s);
	{
		char net[64];

		snprintf(net, sizeof(net), "%s", src_s);
		slash = strchr(net, '/');
		if (!slash)
			die("bad source net %s", src_s);
		*slash = 0;
		plen = (unsigned)atoi(slash + 1);
		if (inet_pton(AF_INET, net, &src) != 1 || plen > 32)
			die("bad source net %s", src_s);
	}

	if (peer_ns) {
		self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		peer_fd = open(peer_ns, O_RDONLY | O_CLOEXEC);
		if (self_ns < 0 || peer_fd < 0 || !peer_dev)
			die("--peer-ns %s (with --peer-dev): %s", peer_ns, strerror(errno));
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("cpu %d: %s", cpu, strerror(errno));
	}

	skel = gen_bpf__open();
	if (!skel)
		die("open: %s", strerror(errno));
	if (parse_mac(dmac_s, skel->rodata->cfg.dmac))
		die("bad MAC %s", dmac_s);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("interface %s: %s", dev, strerror(errno));
	close(fd);
	memcpy(skel->rodata->cfg.smac, ifr.ifr_hwaddr.sa_data, 6);
	{
		__u32 mask = plen ? ~0u << (32 - plen) : 0;

		skel->rodata->cfg.saddr_base = src.s_addr & htonl(mask);
		skel->rodata->cfg.saddr_rnd = htonl(~mask);
	}
	skel->rodata->cfg.daddr = dst.s_addr;
	skel->rodata->cfg.dport = htons((__u16)dport);
	skel->rodata->cfg.mss = (__u16)mss;
	skel->rodata->cfg.wscale = (__u8)wscale;
	skel->rodata->cfg.mode = (__u8)mode;
	skel->rodata->cfg.key0 = key0;
	skel->rodata->cfg.key1 = key1;
	skel->rodata->cfg.key2_0 = key2_0;
	skel->rodata->cfg.key2_1 = key2_1;
	skel->rodata->cfg.two_keys = have_key2;
	skel->rodata->cfg.ages = (__u8)ages;
	skel->rodata->cfg.guard_ns = SLOT_GUARD_NS;
	skel->rodata->cfg.crafted_every = crafted_every;
	skel->rodata->cfg.slot_shift = slot_shift;
	skel->rodata->cfg.nots_options = nots_options;
	if (rate > 0) {
		skel->rodata->cfg.gap_ns = (__u64)(1e9 / rate);
		skel->rodata->cfg.burst_ns = skel->rodata->cfg.gap_ns * 32;
	}
	if (gen_bpf__load(skel))
		die("load: %s", strerror(errno));
	prog_fd = bpf_program__fd(skel->progs.xdp_gen);
	ctx_in.data_end = (__u32)mode_len[mode]; /* the kernel wants data_end == size */
	ctx_in.ingress_ifindex = if_nametoindex(dev);
	if (!ctx_in.ingress_ifindex)
		die("interface %s: %s", dev, strerror(errno));

	{
		struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
	}

	if (use_sink) {
		sink_st.ifindex = (int)ctx_in.ingress_ifindex;
		bpf_xdp_query_id(sink_st.ifindex, XDP_FLAGS_DRV_MODE, &sink_st.old_id);
		if (sink_st.old_id)
			sink_st.old_fd = bpf_prog_get_fd_by_id(sink_st.old_id);
		err = bpf_xdp_attach(sink_st.ifindex, bpf_program__fd(skel->progs.xdp_sink),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			die("attach sink to %s: %s", dev, strerror(-err));
		sink_st.attached = true;
		atexit(sink_detach);
	}
	if (napi_cpu >= 0) {
		/* the kthread appears with the XDP program; give it a moment */
		for (int i = 0; i < 20 && !(napi_pinned = pin_napi(dev, napi_cpu)); i++)
			usleep(10000);
	}
	usleep(100000); /* let the lab settle: NAPI up, neighbours */
	if (crafted_every) {
		/* one slot for the whole flood: the defender's verdicts then
		 * follow from the keys it assigns to that slot and its age */
		__u64 now = coarse_ns(), cur = now >> shift, left, dur_ns = (__u64)(duration * 1e9);

		craft_slot = have_at ? at_slot : cur;
		if (!have_at && ((cur + 1) << shift) - now < dur_ns + SLOT_GUARD_NS)
			craft_slot = cur + 1;
		if (craft_slot < cur) {
			fprintf(stderr, "flood: slot %llu is past (now %llu)\n", craft_slot,
				(unsigned long long)cur);
			exit(3);
		}
		sleep_until_coarse(craft_slot << shift);
		now = coarse_ns();
		left = ((craft_slot + 1) << shift) - SLOT_GUARD_NS;
		left = left > now ? left - now : 0;
		if (left < dur_ns && left < SLOT_MIN_LEFT_NS) {
			fprintf(stderr, "flood: %.3f s left of slot %llu\n", left / 1e9, craft_slot);
			exit(3);
		}
		if (left < dur_ns)
			duration = left / 1e9;
		skel->bss->craft_slot = craft_slot;
	}

	memset(&s0, 0, sizeof(s0));
	s0 = skel->bss->sink;
	f0 = skel->bss->gen_frames;
	drop0 = tx_dropped(dev, -1);
	if (peer_fd >= 0)
		pdrop0 = tx_dropped(peer_dev, peer_fd);
	rt0 = comm_runtime(comm, ncomm, &nthr0);
	for (int i = 0; i < nwatch; i++)
		cpu_read(watch[i], &c0[i]);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();

	/* One call for the whole flood, ended by SIGALRM (EINTR): every call
	 * costs ~24 ms of page-pool teardown on this kernel, and xdp_gen paces
	 * itself. Loop only if a call ever runs out of repeats. */
	{
		struct itimerval it = { .it_value = { .tv_sec = (time_t)duration,
						      .tv_usec = (suseconds_t)((duration -
							(time_t)duration) * 1e6) } };

		if (setitimer(ITIMER_REAL, &it, NULL))
			die("setitimer: %s", strerror(errno));
	}
	while (!stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = (__u32)mode_len[mode], .ctx_in = &ctx_in,
			    .ctx_size_in = sizeof(ctx_in), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = batch, .repeat = 1 << 30);

		/* live mode reports no retval: xdp_gen counts what it sent */
		if (bpf_prog_test_run_opts(prog_fd, &o) && errno != EINTR)
			die("BPF_PROG_RUN (live frames): %s", strerror(errno));
		if (!stop && skel->bss->gen_frames == f0 && skel->bss->gen_idle == 0)
			die("xdp_gen sent nothing (frame too short?)");
	}
	t1 = t_stop > 0 ? t_stop : now_s();
	getrusage(RUSAGE_SELF, &ru1);
	for (int i = 0; i < nwatch; i++)
		cpu_read(watch[i], &c1[i]);
	rt1 = comm_runtime(comm, ncomm, &nthr1);
	sent = skel->bss->gen_frames - f0;
	usleep(200000); /* replies in flight */
	drop1 = tx_dropped(dev, -1);
	if (peer_fd >= 0)
		pdrop1 = tx_dropped(peer_dev, peer_fd);
	s1 = skel->bss->sink;
	sink_detach();

	{
		double el = t1 - t0, gen_cpu;
		__u64 dropped = (uint32_t)(drop1 - drop0);
		__u64 delivered = sent > dropped ? sent - dropped : 0;

		gen_cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
				   ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			  (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
			   ru0.ru_stime.tv_usec) / 1e6;
		printf("{\"mode\":\"%s\",\"target_pps\":%.0f,\"duration_s\":%.3f,\"elapsed_s\":%.4f,"
		       "\"sent\":%llu,\"pps\":%.0f,\"ring_drops\":%llu,\"delivered\":%llu,"
		       "\"delivered_pps\":%.0f,\"gen_cpu_s\":%.3f,\"napi_pinned\":%d",
		       mode_name[mode], rate, duration, el, (unsigned long long)sent,
		       el > 0 ? sent / el : 0.0, (unsigned long long)dropped,
		       (unsigned long long)delivered, el > 0 ? delivered / el : 0.0, gen_cpu,
		       napi_pinned);
		if (use_sink)
			printf(",\"sink\":{\"frames\":%llu,\"tcp\":%llu,\"synack\":%llu,\"rst\":%llu,"
			       "\"syn\":%llu},\"synack_pps\":%.0f,\"reply_pps\":%.0f",
			       (unsigned long long)(s1.frames - s0.frames),
			       (unsigned long long)(s1.tcp - s0.tcp),
			       (unsigned long long)(s1.synack - s0.synack),
			       (unsigned long long)(s1.rst - s0.rst),
			       (unsigned long long)(s1.syn - s0.syn),
			       el > 0 ? (s1.synack - s0.synack) / el : 0.0,
			       el > 0 ? (s1.tcp - s0.tcp) / el : 0.0);
		if (peer_fd >= 0)
			printf(",\"reply_ring_drops\":%u", (uint32_t)(pdrop1 - pdrop0));
		if (crafted_every) {
			const struct crafted_counts *k = &skel->bss->crafted;

			printf(",\"crafted\":{\"valid\":%llu,\"stale\":%llu,\"near\":%llu,"
			       "\"near_daddr\":%llu,\"near_stale\":%llu,\"random\":%llu,\"ts\":%llu,\"late\":%llu,"
			       "\"slot\":%llu",
			       (unsigned long long)k->valid, (unsigned long long)k->stale,
			       (unsigned long long)k->near, (unsigned long long)k->near_daddr,
			       (unsigned long long)k->near_stale,
			       (unsigned long long)k->random,
			       (unsigned long long)k->ts, (unsigned long long)k->late, craft_slot);
			for (int ki = 0; ki < 2; ki++)
				for (int ai = 0; ai < 2; ai++)
					printf(",\"v%d%d\":%llu,\"s%d%d\":%llu,\"n%d%d\":%llu", ki, ai,
					       (unsigned long long)k->by[ki][ai][CK_VALID], ki, ai,
					       (unsigned long long)k->by[ki][ai][CK_STALE], ki, ai,
					       (unsigned long long)k->by[ki][ai][CK_NEAR]);
			printf("}");
		}
		if (ncomm)
			printf(",\"threads_cpu_s\":%.4f,\"threads\":%d", (double)(rt1 - rt0) / 1e9,
			       nthr1 < nthr0 ? nthr1 : nthr0);
		printf(",\"cpu\":{");
		for (int i = 0; i < nwatch; i++) {
			unsigned long long b = c1[i].busy - c0[i].busy, id = c1[i].idle - c0[i].idle,
					   st = c1[i].steal - c0[i].steal;

			printf("%s\"%d\":{\"busy_s\":%.3f,\"idle_s\":%.3f,\"steal_s\":%.3f,"
			       "\"busy_frac\":%.4f}",
			       i ? "," : "", watch[i], (double)b / hz, (double)id / hz,
			       (double)st / hz, b + id ? (double)b / (b + id) : 0.0);
		}
		printf("},\"stopped\":%s}\n", stop ? "true" : "false");
	}
	gen_bpf__destroy(skel);
	return 0;
}
