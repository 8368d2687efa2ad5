// SPDX-License-Identifier: GPL-2.0
/* conns: list the flow tables (xdpct_flows4/6, xdpct_observed4/6) the way
 * `conntrack -L` lists netfilter's, or as JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "ctev.h"
#include "evict.h"
#include "xdpct_ep.h"

static const char *const state_names[] = XDPCT_CT_STATE_NAMES;
static const char *const ep_names[] = XDPCT_EP_STATE_NAMES;
_Static_assert(sizeof(ep_names) / sizeof(ep_names[0]) == XDPCT_EP_MAX, "a name per end state");
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))
_Static_assert(NSTATES == XDPCT_CT_MAX, "a name per state");

#define BATCH 1024
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's, leaks out of the bpf syscall */
#endif

struct conns_opts {
	bool json;
	int state;      /* -1: any */
	unsigned int port; /* 0: any */
	__u64 now_ns;   /* CLOCK_MONOTONIC == bpf_ktime_get_ns() */
	struct evict_timeouts to; /* the config map's, or the defaults */
	unsigned long shown;
	/* --delete */
	bool del;
	int map_fd, pending_fd;   /* the table being read; xdpct_pending */
	struct ctev_emitter *em;  /* DESTROY events (NULL: none) */
};

static void conns_usage(void)
{
	size_t i;

	printf("Usage: xdpct conns IFACE [-j] [--state STATE] [--port PORT] [--delete]\n"
	       "                   [--pin-dir DIR]\n"
	       "\n"
	       "List the connections in xdpct's flow tables for IFACE, one line each,\n"
	       "like `conntrack -L`:\n"
	       "\n"
	       "  tcp      6 TIMEOUT STATE src= dst= sport= dport= packets= bytes= \\\n"
	       "          src= dst= sport= dport= packets= bytes= [FLAGS] age=Ns \\\n"
	       "          local=STATE remote=STATE\n"
	       "\n"
	       "The first tuple is the direction of the side that opened the\n"
	       "connection, the second the replies. TIMEOUT is the state's timeout\n"
	       "minus the time since the last packet, 0 once expired. The timeouts are\n"
	       "those of `xdpct run` (its --timeout values, which it writes into\n"
	       "%s), netfilter's defaults where no run has set them.\n"
	       "`xdpct run` removes expired entries (`xdpct evict` too, by its own\n"
	       "--timeout values); otherwise they leave only when the LRU needs room\n"
	       "or a new SYN reuses the tuple.\n"
	       "FLAGS: UNREPLIED (the answering side sent nothing),\n"
	       "ASSURED (past the handshake), PENDING (cookie ACK handed to the\n"
	       "listener, child socket not seen yet), COOKIE (opened through a SYN\n"
	       "cookie), ADOPTED (found as a kernel socket at attach).\n"
	       "local= and remote= are each end's own TCP state (RFC 9293: SYN_SENT,\n"
	       "SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT,\n"
	       "CLOSE_WAIT, LAST_ACK, CLOSED) as the segments seen here show it; \"-\"\n"
	       "when unknown (an adopted entry with a FIN). In JSON: local_state and\n"
	       "remote_state (null when unknown).\n"
	       "A last line on stderr counts the entries shown.\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json            a JSON array, one object per connection\n"
	       "  -s, --state STATE     only this state (any case):", XDPCT_MAP_CONFIG);
	for (i = 0; i < NSTATES; i++)
		printf("%s%s", i % 5 ? " " : "\n                          ", state_names[i]);
	printf("\n"
	       "  -p, --port PORT       only connections with PORT at either end\n"
	       "  -D, --delete          remove the entries listed (all without a filter),\n"
	       "                        like conntrack -D: `xdpct events` shows each as\n"
	       "                        DESTROY reason=removed. A live connection's next\n"
	       "                        packet brings its entry back from its socket\n"
	       "  -d, --pin-dir DIR     directory holding %s, %s\n"
	       "                        and %s (default %s/IFACE)\n"
	       "  -h, --help            this help\n",
	       XDPCT_MAP_FLOWS4, XDPCT_MAP_FLOWS6, XDPCT_MAP_CONFIG, XDPCT_PIN_ROOT);
}

static void addr_str(int family, const __be32 *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len))
		snprintf(buf, len, "?");
}

/* TCP flags as tcpdump letters, in wire bit order. */
static void tcp_flags_str(__u8 f, char *buf)
{
	static const char letters[] = "FSRPAUEC";
	int i, n = 0;

	for (i = 0; i < 8; i++)
		if (f & (1 << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
}

struct conn_view {
	int family;
	const struct xdpct_flow *f;
	const __be32 *raddr, *laddr;
	__u16 rport, lport;          /* host order */
	int orig;                    /* enum xdpct_side of the opener */
	bool observed;               /* in xdpct_observed4/6 */
	unsigned long timeout, age;
	__u64 idle_ms;
	bool no_counts;              /* an event's flow is its successor's */
};

static int flag_names(const struct conn_view *c, const char *names[6])
{
	const struct xdpct_flow *f = c->f;
	int n = 0;
	bool closing = f->state >= XDPCT_CT_ESTABLISHED && f->state <= XDPCT_CT_CLOSE;

	/* netfilter's ASSURED: the handshake completed. Here: a later state
	 * with an ACK from both sides (a RST|ACK answering a SYN does not
	 * count: the SYN had no ACK), or an entry that started there. */
	if (closing && (((f->tcp_flags[0] & f->tcp_flags[1]) & 0x10) ||
			(f->flags & (XDPCT_FLOW_ADOPTED | XDPCT_FLOW_COOKIE))))
		names[n++] = "ASSURED";
	if (f->flags & XDPCT_FLOW_PENDING)
		names[n++] = "PENDING";
	if (f->flags & XDPCT_FLOW_COOKIE)
		names[n++] = "COOKIE";
	if (f->flags & XDPCT_FLOW_ADOPTED)
		names[n++] = "ADOPTED";
	if (c->observed)
		names[n++] = "OBSERVED";
	return n;
}

static bool unreplied(const struct conn_view *c)
{
	/* an adopted entry counts from adoption: silence proves nothing; a
	 * cookie flow's reply was the SYN-ACK XDP sent */
	return !c->f->packets[c->orig ^ 1] &&
	       !(c->f->flags & (XDPCT_FLOW_ADOPTED | XDPCT_FLOW_COOKIE));
}

static const char *state_name(__u8 s)
{
	return s < NSTATES ? state_names[s] : "UNKNOWN";
}

/* One side's tuple: src is the sender. */
static void print_tuple(const struct conn_view *c, int side)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	bool remote = side == XDPCT_REMOTE;

	addr_str(c->family, remote ? c->raddr : c->laddr, src, sizeof(src));
	addr_str(c->family, remote ? c->laddr : c->raddr, dst, sizeof(dst));
	printf("src=%s dst=%s sport=%u dport=%u ", src, dst,
	       remote ? c->rport : c->lport, remote ? c->lport : c->rport);
	if (!c->no_counts)
		printf("packets=%u bytes=%llu ", c->f->packets[side],
		       (unsigned long long)c->f->bytes[side]);
}

/* One line: pre, the entry, post. */
static void print_text(const struct conn_view *c, const char *pre, const char *post)
{
	const char *names[6];
	int i, n = flag_names(c, names);

	printf("%s%-8s %u %lu %s ", pre, "tcp", 6, c->timeout, state_name(c->f->state));
	print_tuple(c, c->orig);
	if (unreplied(c))
		printf("[UNREPLIED] ");
	print_tuple(c, c->orig ^ 1);
	for (i = 0; i < n; i++)
		printf("[%s] ", names[i]);
	printf("age=%lus local=%s remote=%s%s\n", c->age,
	       ep_names[xdpct_ep_state(c->f, XDPCT_LOCAL)],
	       ep_names[xdpct_ep_state(c->f, XDPCT_REMOTE)], post);
}

static void json_tuple(const struct conn_view *c, int side)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	bool remote = side == XDPCT_REMOTE;

	addr_str(c->family, remote ? c->raddr : c->laddr, src, sizeof(src));
	addr_str(c->family, remote ? c->laddr : c->raddr, dst, sizeof(dst));
	printf("{\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u",
	       src, dst, remote ? c->rport : c->lport, remote ? c->lport : c->rport);
	if (!c->no_counts)
		printf(",\"packets\":%u,\"bytes\":%llu", c->f->packets[side],
		       (unsigned long long)c->f->bytes[side]);
	fputs("}", stdout);
}

static void json_dir(const struct conn_view *c, int side)
{
	const struct xdpct_dir *d = &c->f->dir[side];
	char fl[9];
	bool seen = c->f->flags & (side == XDPCT_REMOTE ? XDPCT_FLOW_SEEN_REMOTE :
							  XDPCT_FLOW_SEEN_LOCAL);

	tcp_flags_str(c->f->tcp_flags[side], fl);
	printf("{\"end\":%u,\"maxend\":%u,\"maxwin\":%u,\"maxack\":%u,\"wscale\":%u,"
	       "\"tcp_flags\":\"%s\",\"seen\":%s}",
	       d->end, d->maxend, d->maxwin, d->maxack, c->f->wscale[side], fl,
	       seen ? "true" : "false");
}

static void json_ep(const char *name, enum xdpct_ep_state s)
{
	if (s == XDPCT_EP_UNKNOWN)
		printf("%snull", name);
	else
		printf("%s\"%s\"", name, ep_names[s]);
}

/* One object: head (fields that come first, with their comma), then the
 * entry's. */
static void print_json(const struct conn_view *c, const char *head)
{
	const char *names[7];
	int i, n = flag_names(c, names);

	if (unreplied(c))
		names[n++] = "UNREPLIED";
	printf("{%s\"family\":\"ipv%d\",\"proto\":\"tcp\",\"state\":\"%s\",\"orig\":",
	       head, c->family, state_name(c->f->state));
	json_tuple(c, c->orig);
	fputs(",\"reply\":", stdout);
	json_tuple(c, c->orig ^ 1);
	printf(",\"timeout\":%lu,\"age\":%lu,\"idle_ms\":%llu,\"flags\":[", c->timeout,
	       c->age, (unsigned long long)c->idle_ms);
	for (i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", names[i]);
	fputs("]", stdout);
	json_ep(",\"local_state\":", xdpct_ep_state(c->f, XDPCT_LOCAL));
	json_ep(",\"remote_state\":", xdpct_ep_state(c->f, XDPCT_REMOTE));
	fputs(",\"remote\":", stdout);
	json_dir(c, XDPCT_REMOTE);
	fputs(",\"local\":", stdout);
	json_dir(c, XDPCT_LOCAL);
	fputs("}", stdout);
}

/* The view of an entry at o->now_ns; false: the filters leave it out. */
static bool view_of(const struct conns_opts *o, int family, bool observed, const void *key,
		    const struct xdpct_flow *f, struct conn_view *cv)
{
	struct conn_view c = { .family = family, .f = f, .observed = observed };
	__u32 idle_ticks, now_s = o->now_ns / 1000000000ull;
	unsigned long idle_s;

	if (family == 4) {
		const struct xdpct_flow4_key *k = key;

		c.raddr = &k->raddr;
		c.laddr = &k->laddr;
		c.rport = ntohs(k->rport);
		c.lport = ntohs(k->lport);
	} else {
		const struct xdpct_flow6_key *k = key;

		c.raddr = k->raddr;
		c.laddr = k->laddr;
		c.rport = ntohs(k->rport);
		c.lport = ntohs(k->lport);
	}
	if (o->state >= 0 && f->state != o->state)
		return false;
	if (o->port && c.rport != o->port && c.lport != o->port)
		return false;
	c.orig = (f->flags & XDPCT_FLOW_REMOTE_OPENED) ? XDPCT_REMOTE : XDPCT_LOCAL;
	/* last_tick is 32 bits of ns >> 20: it wraps every ~52 days of
	 * uptime, so the difference is taken modulo 2^32 */
	idle_ticks = (__u32)(o->now_ns >> XDPCT_TICK_SHIFT) - f->last_tick;
	c.idle_ms = ((__u64)idle_ticks << XDPCT_TICK_SHIFT) / 1000000;
	idle_s = c.idle_ms / 1000;
	if (f->state < NSTATES) {
		unsigned long tmo = o->to.ns[f->state] / 1000000000ull;

		c.timeout = tmo > idle_s ? tmo - idle_s : 0;
	}
	c.age = now_s >= f->first_s ? now_s - f->first_s : 0;
	*cv = c;
	return true;
}

static void show(struct conns_opts *o, int family, bool observed, const void *key,
		 const struct xdpct_flow *f)
{
	struct conn_view c;

	if (!view_of(o, family, observed, key, f, &c))
		return;
	if (o->del) {
		if (bpf_map_delete_elem(o->map_fd, key))
			return; /* gone meanwhile */
		ctev_destroy(o->em, family, observed, key, f, XDPCT_DR_REMOVED);
		if ((f->flags & XDPCT_FLOW_PENDING) && !observed && o->pending_fd >= 0) {
			struct xdpct_flow_key pk;

			if (family == 4)
				xdpct_key_from4(key, &pk);
			else
				xdpct_key_from6(key, &pk);
			bpf_map_delete_elem(o->pending_fd, &pk);
		}
	}
	if (o->json) {
		if (o->shown)
			fputs(",\n", stdout);
		print_json(&c, "");
	} else {
		print_text(&c, "", "");
	}
	o->shown++;
}

void conns_print_event(const struct xdpct_ct_event *e, const struct evict_timeouts *to,
		       bool json, const char *head)
{
	static const char *const reasons[XDPCT_DR_MAX] = XDPCT_DR_NAMES;
	static const char *const types[] = { "?", "NEW", "UPDATE", "DESTROY" };
	struct conns_opts o = { .state = -1, .now_ns = e->ns, .to = *to };
	struct xdpct_flow4_key k4;
	struct xdpct_flow6_key k6;
	struct xdpct_flow f = e->flow;
	const char *type = types[e->type <= XDPCT_EV_DESTROY ? e->type : 0];
	const char *reason = reasons[e->reason < XDPCT_DR_MAX ? e->reason : 0];
	char pre[64], post[64], jhead[512];
	struct conn_view c;
	const void *key;

	if (e->key.family == 4) {
		xdpct_key_to4(&e->key, &k4);
		key = &k4;
	} else {
		xdpct_key_to6(&e->key, &k6);
		key = &k6;
	}
	if (e->type == XDPCT_EV_DESTROY)
		f.state = e->old_state; /* the state it went in */
	view_of(&o, e->key.family, e->evflags & XDPCT_EVF_OBSERVED, key, &f, &c);
	c.no_counts = e->evflags & XDPCT_EVF_NO_COUNTS;
	if (e->type == XDPCT_EV_DESTROY)
		c.timeout = 0;
	if (json) {
		snprintf(jhead, sizeof(jhead), "%s\"event\":\"%s\",", head, type);
		if (e->type == XDPCT_EV_UPDATE)
			snprintf(jhead + strlen(jhead), sizeof(jhead) - strlen(jhead),
				 "\"old_state\":\"%s\",", state_name(e->old_state));
		if (e->type == XDPCT_EV_DESTROY)
			snprintf(jhead + strlen(jhead), sizeof(jhead) - strlen(jhead),
				 "\"reason\":\"%s\",", reason);
		print_json(&c, jhead);
		fputs("\n", stdout);
		return;
	}
	snprintf(pre, sizeof(pre), "%s%*s[%s] ", head, (int)(7 - strlen(type)), "", type);
	post[0] = '\0';
	if (e->type == XDPCT_EV_DESTROY)
		snprintf(post, sizeof(post), " reason=%s", reason);
	print_text(&c, pre, post);
}

/* Every entry of one flow table: batch lookups where the kernel has them,
 * else the classic get_next_key walk. 0 or -errno. */
static int dump_map(int fd, int family, bool observed, struct conns_opts *o)
{
	size_t ksz = family == 4 ? sizeof(struct xdpct_flow4_key) :
				   sizeof(struct xdpct_flow6_key);
	struct xdpct_flow *vals;
	char *keys, cur[64], next[64];
	__u32 count, i, batch_tok = 0;
	bool first = true, batch = true;
	int r = 0;

	keys = calloc(BATCH, ksz);
	vals = calloc(BATCH, sizeof(*vals));
	if (!keys || !vals) {
		r = -ENOMEM;
		goto out;
	}
	while (batch) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		count = BATCH;
		/* the hash map's batch token is a bucket index (u32) */
		r = bpf_map_lookup_batch(fd, first ? NULL : &batch_tok, &batch_tok,
					 keys, vals, &count, &bo);
		if (r && errno != ENOENT) {
			if (first && (errno == EINVAL || errno == ENOTSUPP ||
				      errno == EOPNOTSUPP)) {
				batch = false; /* not supported: walk */
				break;
			}
			r = -errno;
			goto out;
		}
		for (i = 0; i < count; i++)
			show(o, family, observed, keys + i * ksz, &vals[i]);
		first = false;
		if (r) { /* ENOENT: that was the last batch */
			r = 0;
			goto out;
		}
	}
	/* get_next_key from NULL starts at the first key */
	r = bpf_map_get_next_key(fd, NULL, next);
	while (!r) {
		struct xdpct_flow f;

		memcpy(cur, next, ksz);
		if (!bpf_map_lookup_elem(fd, cur, &f))
			show(o, family, observed, cur, &f);
		r = bpf_map_get_next_key(fd, cur, next);
	}
	r = errno == ENOENT ? 0 : -errno;
out:
	free(keys);
	free(vals);
	return r;
}

static int open_flow_map(const char *pin_dir, const char *name, size_t key_size,
			 const char *ifname, bool pin_given)
{
	char path[PATH_MAX + 32];
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT && !pin_given)
			err("xdpct is not attached to %s (no %s)", ifname, path);
		else
			err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) || mi.key_size != key_size ||
	    mi.value_size != sizeof(struct xdpct_flow) ||
	    (mi.type != BPF_MAP_TYPE_LRU_HASH && mi.type != BPF_MAP_TYPE_HASH)) {
		err("%s is not an xdpct flow table (hash of %zu -> %zu bytes)", path,
		    key_size, sizeof(struct xdpct_flow));
		close(fd);
		return -1;
	}
	return fd;
}

int cmd_conns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "delete", no_argument, NULL, 'D' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct conns_opts o = { .state = -1, .pending_fd = -1 };
	char pin_dir[PATH_MAX];
	const char *ifname, *pin_arg = NULL, *state_arg = NULL, *port_arg = NULL;
	unsigned long long port;
	struct timespec ts;
	int opt, fd4 = -1, fd6 = -1, fo4 = -1, fo6 = -1, r, ret = EXIT_FAIL;
	size_t i;

	while ((opt = getopt_long(argc, argv, ":js:p:Dd:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 's': state_arg = optarg; break;
		case 'p': port_arg = optarg; break;
		case 'D': o.del = true; break;
		case 'd': pin_arg = optarg; break;
		case 'v': verbose++; break;
		case 'h': conns_usage(); return EXIT_OK;
		default: return getopt_usage_err("conns", opt, argv);
		}
	}
	if (optind >= argc)
		return usage_err("conns", "missing interface name");
	ifname = argv[optind++];
	if (optind < argc)
		return usage_err("conns", "unexpected argument '%s'", argv[optind]);
	if (state_arg) {
		for (i = 0; i < NSTATES; i++)
			if (!strcasecmp(state_arg, state_names[i]))
				o.state = i;
		if (o.state < 0)
			return usage_err("conns", "unknown state '%s'", state_arg);
	}
	if (port_arg) {
		if (parse_u64(port_arg, 1, 65535, &port))
			return usage_err("conns", "bad port '%s' (1-65535)", port_arg);
		o.port = port;
	}

	if (pin_arg)
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	else if (default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
		return EXIT_FAIL;
	fd4 = open_flow_map(pin_dir, XDPCT_MAP_FLOWS4, sizeof(struct xdpct_flow4_key),
			    ifname, pin_arg);
	if (fd4 < 0)
		goto out;
	fd6 = open_flow_map(pin_dir, XDPCT_MAP_FLOWS6, sizeof(struct xdpct_flow6_key),
			    ifname, pin_arg);
	if (fd6 < 0)
		goto out;
	fo4 = open_flow_map(pin_dir, XDPCT_MAP_OBS4, sizeof(struct xdpct_flow4_key),
			    ifname, pin_arg);
	if (fo4 < 0)
		goto out;
	fo6 = open_flow_map(pin_dir, XDPCT_MAP_OBS6, sizeof(struct xdpct_flow6_key),
			    ifname, pin_arg);
	if (fo6 < 0)
		goto out;

	timeouts_read_pinned(pin_dir, &o.to);
	if (o.del) {
		o.pending_fd = pinned_map(pin_dir, XDPCT_MAP_PENDING);
		o.em = ctev_emitter_open(pin_dir);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	o.now_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (o.json)
		fputs("[\n", stdout);
	o.map_fd = fd4;
	r = dump_map(fd4, 4, false, &o);
	o.map_fd = fd6;
	if (!r)
		r = dump_map(fd6, 6, false, &o);
	o.map_fd = fo4;
	if (!r)
		r = dump_map(fo4, 4, true, &o);
	o.map_fd = fo6;
	if (!r)
		r = dump_map(fo6, 6, true, &o);
	ctev_flush(o.em);
	if (o.json)
		fputs(o.shown ? "\n]\n" : "]\n", stdout);
	fflush(stdout);
	if (r) {
		err("cannot read the flow tables in %s: %s", pin_dir, strerror(-r));
		goto out;
	}
	fprintf(stderr, "xdpct: %lu flow entr%s%s\n", o.shown, o.shown == 1 ? "y" : "ies",
		o.del ? " deleted" : "");
	ret = EXIT_OK;
out:
	ctev_emitter_free(o.em);
	if (o.pending_fd >= 0)
		close(o.pending_fd);
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	if (fo4 >= 0)
		close(fo4);
	if (fo6 >= 0)
		close(fo6);
	return ret;
}
