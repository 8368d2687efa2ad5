// SPDX-License-Identifier: GPL-2.0
/* Prometheus metrics of `xdpct run`. HTTP is libmicrohttpd's (Debian's
 * libmicrohttpd12): we only bind the socket, so that a port in use is an
 * error before anything is attached, and render the text. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <microhttpd.h>

#include "cmd.h"
#include "auto.h"
#include "metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_src *src;
};

int metrics_listen(const char *arg, int *usage)
{
	char host[256], port[8];
	const char *colon, *h = arg;
	size_t hlen;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	unsigned long long p;
	int fd = -1, r, one = 1, e = 0;

	*usage = 1;
	colon = strrchr(arg, ':');
	if (!colon) {
		err("bad --metrics '%s': expected ADDR:PORT, [ADDR6]:PORT or :PORT", arg);
		return -1;
	}
	hlen = colon - arg;
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		h = arg + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
	    parse_u64(colon + 1, 1, 65535, &p)) {
		err("bad --metrics '%s': expected ADDR:PORT with a port in 1-65535", arg);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
	snprintf(port, sizeof(port), "%llu", p);
	r = getaddrinfo(hlen ? host : NULL, port, &hints, &res);
	if (r) {
		err("bad --metrics '%s': %s", arg, gai_strerror(r));
		return -1;
	}
	*usage = 0;
	/* the IPv6 wildcard first when there is one: it takes IPv4 too */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 64))
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		err("cannot listen on %s for --metrics: %s", arg, strerror(e));
	return fd;
}

/* ---- the text ---- */

static void fleet_metrics(FILE *f, const struct fleet_stats *st);

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the exposition format wants it: \, " and newline
 * escaped (an interface name may hold the first two). */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* The series of one histogram; label: "" or `by="wheel",` (comma included). */
static void histogram_series(FILE *f, const char *name, const char *label,
			     const struct evict_hist *h)
{
	size_t ll = strlen(label);
	int i;

	for (i = 0; i < EVICT_NBUCKETS; i++)
		fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, label, evict_buckets[i],
			(unsigned long long)h->le[i]);
	fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, label, (unsigned long long)h->count);
	/* the label without its trailing comma */
	fprintf(f, "%s_sum%s%.*s%s %.9g\n", name, ll ? "{" : "", ll ? (int)ll - 1 : 0, label,
		ll ? "}" : "", h->sum);
	fprintf(f, "%s_count%s%.*s%s %llu\n", name, ll ? "{" : "", ll ? (int)ll - 1 : 0, label,
		ll ? "}" : "", (unsigned long long)h->count);
}

static void histogram(FILE *f, const char *name, const char *help,
		      const struct evict_hist *h)
{
	family(f, name, "histogram", help);
	histogram_series(f, name, "", h);
}

/* "V_PASS_NOT_TCP" / "pass_not_tcp" -> verdict "pass", reason "not_tcp" */
static void split_verdict(const char *name, char *verdict, size_t vlen,
			  const char **reason)
{
	const char *u = strchr(name, '_');
	size_t n = u ? (size_t)(u - name) : strlen(name);

	snprintf(verdict, vlen, "%.*s", (int)n, name);
	*reason = u ? u + 1 : "";
}

/* The BPF programs' counters: xdpct_xdp_packets_total, the verdicts
 * (xdpct_packets_total{verdict,reason}: each packet once), and one
 * metric per other counter (xdpct_NAME_total: each its own meaning). With
 * ifname, every series carries interface="..." (`xdpct stats
 * --prometheus`: textfiles of several interfaces side by side). */
void metrics_counters(FILE *f, const __u64 *sums, const char *ifname)
{
	char verdict[16], name[96];
	const char *reason;
	int i;

#define LABELS(more)                                                   \
	do {                                                           \
		if (ifname) {                                          \
			fputs("{interface=\"", f);                     \
			label_value(f, ifname);                        \
			fputs(more ? "\"," : "\"}", f);                 \
		} else if (more) {                                     \
			fputc('{', f);                                 \
		}                                                      \
	} while (0)
	family(f, "xdpct_xdp_packets_total", "counter", "Packets seen by the XDP program");
	fputs("xdpct_xdp_packets_total", f);
	LABELS(0);
	fprintf(f, " %llu\n", (unsigned long long)sums[XDPCT_STAT_XDP_PACKETS]);
	family(f, "xdpct_packets_total", "counter",
	       "XDP verdicts by reason: each packet counts once (verdict pass, tx or drop)");
	for (i = 0; i < XDPCT_STAT_MAX; i++) {
		if (strncmp(stat_id(i), "V_", 2))
			continue;
		split_verdict(stat_name(i), verdict, sizeof(verdict), &reason);
		fputs("xdpct_packets_total", f);
		LABELS(1);
		fprintf(f, "verdict=\"%s\",reason=\"%s\"} %llu\n", verdict, reason,
			(unsigned long long)sums[i]);
	}
	for (i = 0; i < XDPCT_STAT_MAX; i++) {
		if (!strncmp(stat_id(i), "V_", 2) || i == XDPCT_STAT_XDP_PACKETS)
			continue;
		snprintf(name, sizeof(name), "xdpct_%s_total", stat_name(i));
		family(f, name, "counter", stat_help_text(i));
		fputs(name, f);
		LABELS(0);
		fprintf(f, " %llu\n", (unsigned long long)sums[i]);
	}
#undef LABELS
}

static void render(FILE *f, struct metrics_src *s)
{
	static const char *const state_names[] = XDPCT_CT_STATE_NAMES;
	__u64 sums[XDPCT_STAT_MAX];
	struct evict_totals t;
	struct xdpct_config cfg;
	__u32 zero = 0;
	bool have_stats = !stats_read(s->fd_stats, sums);
	bool have_cfg = !bpf_map_lookup_elem(s->fd_config, &zero, &cfg);
	int i, m, fam;

	evict_totals_get(s->ev, &t);

	family(f, "xdpct_info", "gauge", "xdpct run on an interface (value 1)");
	fputs("xdpct_info{interface=\"", f);
	label_value(f, s->ifname);
	fprintf(f, "\",mode=\"%s\",version=\"%s\"} 1\n", s->mode, XDPCT_VERSION);
	family(f, "xdpct_start_time_seconds", "gauge",
	       "Unix time at which this xdpct run started");
	fprintf(f, "xdpct_start_time_seconds %.3f\n", s->start_time);

	if (have_stats)
		metrics_counters(f, sums, NULL);

	family(f, "xdpct_connections", "gauge",
	       "Flow entries by family and state, at the last eviction pass");
	for (fam = 0; fam < 2; fam++)
		for (i = 0; i < XDPCT_CT_MAX; i++)
			fprintf(f, "xdpct_connections{family=\"ipv%d\",state=\"%s\"} %llu\n",
				fam ? 6 : 4, evict_reason_name(i),
				(unsigned long long)t.conns[fam][i]);
	(void)state_names;
	family(f, "xdpct_connections_pending", "gauge",
	       "Cookie flows whose listener child socket does not exist yet");
	fprintf(f, "xdpct_connections_pending %llu\n", (unsigned long long)t.pending_flows);
	family(f, "xdpct_map_entries", "gauge", "Entries in each map, at the last eviction pass");
	for (m = 0; m < EV_MAPS; m++)
		fprintf(f, "xdpct_map_entries{map=\"%s\"} %llu\n", evict_map_name(m),
			(unsigned long long)t.entries[m]);
	family(f, "xdpct_map_capacity", "gauge", "Maximum entries of each map");
	for (m = 0; m < EV_MAPS; m++)
		fprintf(f, "xdpct_map_capacity{map=\"%s\"} %u\n", evict_map_name(m),
			t.max_entries[m]);
	family(f, "xdpct_map_fill_ratio", "gauge", "Entries / capacity of each map (0-1)");
	for (m = 0; m < EV_MAPS; m++)
		fprintf(f, "xdpct_map_fill_ratio{map=\"%s\"} %.6g\n", evict_map_name(m),
			t.max_entries[m] ? (double)t.entries[m] / t.max_entries[m] : 0);

	family(f, "xdpct_evictions_total", "counter",
	       "Entries removed by xdpct run, by map and reason (a state: its timeout; pending: "
	       "cookie flow past the cookie's validity; orphan, done: pending entry without a "
	       "pending flow)");
	for (m = 0; m < EV_MAPS; m++) {
		int lo = m == EV_PENDING ? EVR_PENDING : 0;
		int hi = m == EV_PENDING ? EVR_MAX : EVR_PENDING + 1;

		for (i = lo; i < hi; i++)
			fprintf(f, "xdpct_evictions_total{map=\"%s\",reason=\"%s\"} %llu\n",
				evict_map_name(m), evict_reason_name(i),
				(unsigned long long)t.evicted[m][i]);
	}
	histogram(f, "xdpct_eviction_pass_duration_seconds",
		  "Duration of an eviction pass over all maps", &t.pass_s);
	family(f, "xdpct_eviction_last_pass_duration_seconds", "gauge",
	       "Duration of the last eviction pass");
	fprintf(f, "xdpct_eviction_last_pass_duration_seconds %.9g\n", t.last_pass_s);
	family(f, "xdpct_eviction_lag_seconds", "histogram",
	       "Time from an entry's expiry to its removal, by the timer wheel or by a pass");
	histogram_series(f, "xdpct_eviction_lag_seconds", "by=\"pass\",", &t.lag_s[EVB_PASS]);
	histogram_series(f, "xdpct_eviction_lag_seconds", "by=\"wheel\",", &t.lag_s[EVB_WHEEL]);
	family(f, "xdpct_eviction_pass_interval_seconds", "gauge",
	       "Time between eviction passes now (--evict-interval, stretched for long passes)");
	fprintf(f, "xdpct_eviction_pass_interval_seconds %.6g\n", t.pass_interval_s);
	family(f, "xdpct_wheel_enabled", "gauge",
	       "1 if TIME_WAIT and CLOSE entries go by the timer wheel, 0 with passes only");
	fprintf(f, "xdpct_wheel_enabled %d\n", t.wheel_on ? 1 : 0);
	family(f, "xdpct_wheel_events_total", "counter",
	       "Close events (a flow entered TIME_WAIT or CLOSE) read from the ring buffer");
	fprintf(f, "xdpct_wheel_events_total %llu\n", (unsigned long long)t.wheel_events);
	family(f, "xdpct_wheel_entries", "gauge", "Flows scheduled in the timer wheel");
	fprintf(f, "xdpct_wheel_entries %llu\n", (unsigned long long)t.wheel_entries);
	family(f, "xdpct_wheel_checks_total", "counter",
	       "Wheel entries that came due, by outcome: evicted, refreshed (a packet since: "
	       "rescheduled), reopened (a SYN reused the tuple), gone (already removed)");
	{
		static const char *const oc[WH_MAX] = { "evicted", "refreshed", "reopened", "gone" };

		for (i = 0; i < WH_MAX; i++)
			fprintf(f, "xdpct_wheel_checks_total{outcome=\"%s\"} %llu\n", oc[i],
				(unsigned long long)t.wheel_checks[i]);
	}
	family(f, "xdpct_wheel_seconds_total", "counter",
	       "Time spent reading close events and evicting from the wheel");
	fprintf(f, "xdpct_wheel_seconds_total %.9g\n", t.wheel_s);
	family(f, "xdpct_timeout_seconds", "gauge",
	       "Timeouts in force: idle time per state; pending: cookie flows, from the cookie ACK");
	for (i = 1; i < XDPCT_CT_MAX; i++)
		fprintf(f, "xdpct_timeout_seconds{state=\"%s\"} %llu\n", evict_reason_name(i),
			(unsigned long long)(s->to->ns[i] / 1000000000ull));
	fprintf(f, "xdpct_timeout_seconds{state=\"pending\"} %.3f\n", s->to->pending_ns / 1e9);

	if (s->autoctl)
		auto_metrics(f, s->autoctl);
	if (s->fd_evsub >= 0) {
		struct xdpct_evsub es;
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		if (!bpf_map_lookup_elem(s->fd_evsub, &zero, &es)) {
			family(f, "xdpct_ctevents_reader", "gauge",
			       "1 while an `xdpct events` reader listens (events are sent only then)");
			fprintf(f, "xdpct_ctevents_reader %d\n",
				(__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec < es.until_ns);
			family(f, "xdpct_ctevents_lost_total", "counter",
			       "Connection tracking events lost: the ring buffer was full");
			fprintf(f, "xdpct_ctevents_lost_total %llu\n", (unsigned long long)es.lost);
		}
	}
	if (s->fd_acl >= 0) {
		struct xdpct_acl_key *keys;
		size_t n = 0, na = 0;
		__u8 *acts;

		if (!acl_read(s->fd_acl, &keys, &acts, &n)) {
			for (size_t i = 0; i < n; i++)
				na += acts[i] == XDPCT_ACL_ALLOW;
			family(f, "xdpct_acl_prefixes", "gauge",
			       "Prefixes in the allow and deny lists");
			fprintf(f, "xdpct_acl_prefixes{list=\"allow\"} %zu\n", na);
			fprintf(f, "xdpct_acl_prefixes{list=\"deny\"} %zu\n", n - na);
		}
		free(keys);
		free(acts);
	}
	if (have_cfg) {
		__u64 now = mono_ns();

		family(f, "xdpct_cookie_key_age_seconds", "gauge",
		       "Time since the SYN-cookie key was last rotated");
		fprintf(f, "xdpct_cookie_key_age_seconds %.3f\n",
			now > cfg.key_set_ns ? (now - cfg.key_set_ns) / 1e9 : 0);
		family(f, "xdpct_cookie_key_epoch", "gauge",
		       "Rotations of the SYN-cookie key since attach");
		fprintf(f, "xdpct_cookie_key_epoch %u\n", cfg.key_epoch);
	}
	family(f, "xdpct_cookie_key_rotations_total", "counter",
	       "SYN-cookie key rotations made by this xdpct run");
	fprintf(f, "xdpct_cookie_key_rotations_total %llu\n",
		(unsigned long long)__atomic_load_n(&s->key_rotations, __ATOMIC_RELAXED));
	family(f, "xdpct_cookie_key_rotate_period_seconds", "gauge",
	       "Period of the SYN-cookie key rotation");
	fprintf(f, "xdpct_cookie_key_rotate_period_seconds %llu\n",
		(unsigned long long)(s->key_rotate_ns / 1000000000ull));
	if (s->fleet)
		fleet_metrics(f, s->fleet);
}

/* One series without labels: its family's lines, then the value. */
static void series(FILE *f, const char *name, const char *type, const char *help, long long v)
{
	family(f, name, type, help);
	fprintf(f, "%s %lld\n", name, v);
}

/* --etcd: whether etcd answers and who rotates the fleet's key. */
static void fleet_metrics(FILE *f, const struct fleet_stats *st)
{
	__u64 last = __atomic_load_n(&st->last_contact_ns, __ATOMIC_RELAXED), now = mono_ns();
	int leader = __atomic_load_n(&st->leader, __ATOMIC_RELAXED);

	series(f, "xdpct_fleet_etcd_up", "gauge",
	       "1 if etcd answered the fleet's last request, 0 if not (keys kept)",
	       __atomic_load_n(&st->etcd_up, __ATOMIC_RELAXED) > 0);
	series(f, "xdpct_fleet_leader", "gauge", "1 if this box rotates the fleet's key", leader);
	series(f, "xdpct_fleet_key_epoch", "gauge", "Epoch of the fleet key installed",
	       __atomic_load_n(&st->epoch, __ATOMIC_RELAXED));
	series(f, "xdpct_fleet_etcd_errors_total", "counter", "etcd requests that failed",
	       __atomic_load_n(&st->etcd_errors, __ATOMIC_RELAXED));
	series(f, "xdpct_fleet_rotations_total", "counter",
	       "Fleet key rotations this box wrote as the leader",
	       __atomic_load_n(&st->rotations, __ATOMIC_RELAXED));
	series(f, "xdpct_fleet_key_installs_total", "counter",
	       "Fleet keys installed into this box's maps",
	       __atomic_load_n(&st->installs, __ATOMIC_RELAXED));
	series(f, "xdpct_fleet_members", "gauge",
	       "Members with a live lease, as the leader last counted them (0: not the leader)",
	       leader ? __atomic_load_n(&st->members, __ATOMIC_RELAXED) : 0);
	series(f, "xdpct_fleet_members_in_step", "gauge",
	       "Members that have installed the fleet's current record (leader's count)",
	       leader ? __atomic_load_n(&st->in_step, __ATOMIC_RELAXED) : 0);
	family(f, "xdpct_fleet_etcd_last_contact_seconds", "gauge",
	       "Time since etcd last answered (-1: never)");
	if (last)
		fprintf(f, "xdpct_fleet_etcd_last_contact_seconds %.3f\n",
			now > last ? (now - last) / 1e9 : 0);
	else
		fprintf(f, "xdpct_fleet_etcd_last_contact_seconds -1\n");
}

char *metrics_render(struct metrics_src *src, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	render(f, src);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mem)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mem);
	enum MHD_Result ret;

	if (!r) {
		if (mem == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				code == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT(s) (char *)(s), sizeof(s) - 1, MHD_RESPMEM_PERSISTENT

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_data_size,
			       void **con_cls)
{
	struct metrics *m = cls;
	size_t len;
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT("only GET\n"));
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, TEXT("xdpct: metrics at /metrics\n"));
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, TEXT("not found; metrics at /metrics\n"));
	body = metrics_render(m->src, &len);
	if (!body)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT("out of memory\n"));
	return reply(c, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (verbose < 2)
		return;
	fputs("xdpct: metrics: ", stderr);
	vfprintf(stderr, fmt, ap);
}

struct metrics *metrics_start(int fd, struct metrics_src *src)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		close(fd);
		err("metrics: out of memory");
		return NULL;
	}
	m->src = src;
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
				NULL, NULL, handler, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first */
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_END);
	if (!m->d) {
		close(fd);
		free(m);
		err("cannot start the metrics server (libmicrohttpd)");
		return NULL;
	}
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d); /* closes the listening socket */
	free(m);
}
