// SPDX-License-Identifier: GPL-2.0
/* tcppeer: a real TCP peer for the end-to-end tests (libc only).
 *
 * Protocol (binary mode), one exchange per connection:
 *   client -> server: "XTP1" | seed u32 BE | up u64 BE | down u64 BE, then
 *                     `up` bytes of stream(seed, UP)
 *   server -> client: `down` bytes of stream(seed, DOWN), then the FNV-1a 64
 *                     digest (u64 BE) of the upload it received
 *   the client closes first; the server closes on EOF.
 * HTTP mode (detected from "GET "): GET /<n>[?seed=<s>] answers n bytes of
 * stream(s, DOWN), s defaults to 0, so `tcppeer gen --bytes n` reproduces it.
 *
 * stream(seed, dir) is xorshift64* output, little-endian words, seeded by
 * splitmix64; both sides recompute it instead of storing anything.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "XTP1"
#define HDR_LEN 24
#define CHUNK 65536
#define DIR_UP 0x5550ULL
#define DIR_DOWN 0x444fULL
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static int verbose;

/* ---- deterministic stream and digest ---- */

struct stream {
	uint64_t s;
	uint64_t word;
	unsigned int left; /* unused bytes of word */
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void stream_init(struct stream *st, uint32_t seed, uint64_t dir)
{
	st->s = splitmix64(((uint64_t)seed << 16) ^ dir);
	if (!st->s)
		st->s = 1;
	st->left = 0;
}

static uint64_t stream_next(struct stream *st)
{
	st->s ^= st->s >> 12;
	st->s ^= st->s << 25;
	st->s ^= st->s >> 27;
	return st->s * 0x2545f4914f6cdd1dULL;
}

static void stream_fill(struct stream *st, uint8_t *p, size_t n)
{
	while (n) {
		if (!st->left) {
			st->word = stream_next(st);
			st->left = 8;
		}
		*p++ = (uint8_t)st->word;
		st->word >>= 8;
		st->left--;
		n--;
	}
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	return h;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- helpers ---- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void pause_ms(double ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1e3),
			       .tv_nsec = (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6) };

	while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* 0 ok, -1 error (errno), 1 early EOF */
static int read_all(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void set_timeouts(int fd, double sec)
{
	struct timeval tv = { .tv_sec = (time_t)sec,
			      .tv_usec = (suseconds_t)((sec - (time_t)sec) * 1e6) };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	/* k/m/g suffixes: binary multiples */
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tcppeer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* TCP_INFO as a JSON fragment (no braces). */
static void info_json(int fd, char *buf, size_t len)
{
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) < 0) {
		snprintf(buf, len, "\"tcp_info\":false");
		return;
	}
	snprintf(buf, len,
		 "\"ts\":%s,\"sack\":%s,\"wscale\":%s,\"ecn\":%s,"
		 "\"snd_wscale\":%u,\"rcv_wscale\":%u,\"snd_mss\":%u,\"rcv_mss\":%u,"
		 "\"advmss\":%u,\"pmtu\":%u,\"retrans\":%u",
		 ti.tcpi_options & TCPI_OPT_TIMESTAMPS ? "true" : "false",
		 ti.tcpi_options & TCPI_OPT_SACK ? "true" : "false",
		 ti.tcpi_options & TCPI_OPT_WSCALE ? "true" : "false",
		 ti.tcpi_options & TCPI_OPT_ECN ? "true" : "false",
		 (unsigned)ti.tcpi_snd_wscale, (unsigned)ti.tcpi_rcv_wscale,
		 ti.tcpi_snd_mss, ti.tcpi_rcv_mss, ti.tcpi_advmss, ti.tcpi_pmtu,
		 ti.tcpi_total_retrans);
}

static void addr_str(const struct sockaddr_storage *ss, char *host, size_t hl, unsigned *port)
{
	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, hl, NULL, 0,
			NI_NUMERICHOST))
		snprintf(host, hl, "?");
	/* dual-stack listener: show IPv4 clients as IPv4 */
	if (!strncmp(host, "::ffff:", 7) && strchr(host, '.'))
		memmove(host, host + 7, strlen(host + 7) + 1);
	if (ss->ss_family == AF_INET6)
		*port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	else
		*port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int resolve(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	char ps[16];

	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(addr, ps, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Wait until PATH exists, at most max_s seconds: 0 when it does. */
static int wait_file(const char *path, double max_s)
{
	double end = now_ms() + max_s * 1e3;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };

	while (!file_exists(path)) {
		if (now_ms() > end)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- server ---- */

struct srv_opts {
	const char *addr;
	unsigned port;
	int backlog;
	long count; /* 0 = forever */
	const char *info;
	double timeout;
	double accept_delay; /* s: hold the first pending connection this long */
	double accept_interval; /* s: pause after each accept */
};

static void append_info(const char *file, const char *line)
{
	int fd;

	if (!file)
		return;
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	/* one write per line: O_APPEND keeps concurrent children's lines whole */
	if (write(fd, line, strlen(line)) < 0)
		perror("tcppeer: info");
	close(fd);
}

/* Wait (bounded) for the peer's EOF so that the client is the one to close. */
static void drain_eof(int fd)
{
	uint8_t buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Query value of KEY in "?a=1&b=2 HTTP/1.1" into out (empty if absent). */
static void query_val(const char *query, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), n = 0;
	const char *p = query;

	out[0] = 0;
	while (p && *p && *p != ' ' && *p != '\r') {
		p++; /* '?' or '&' */
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			p += kl + 1;
			while (*p && *p != '&' && *p != ' ' && *p != '\r' && n + 1 < outlen)
				out[n++] = *p++;
			out[n] = 0;
			return;
		}
		p = strpbrk(p, "& \r");
		if (p && *p != '&')
			break;
	}
}

static int serve_http(int fd, const uint8_t *first, char *err, size_t errlen,
		      uint64_t *sent, uint32_t *seedp, double hold_max)
{
	char req[4096], hold[1024], val[64];
	size_t n = 4;
	uint64_t len, rate = 0;
	uint32_t seed = 0;
	char *p, *end, *q;
	double t0;
	uint8_t *buf;
	struct stream st;

	memcpy(req, first, 4);
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);

		if (r <= 0) {
			snprintf(err, errlen, "http: short request");
			return -1;
		}
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = 0;
	p = req + 4;
	if (*p != '/') {
		snprintf(err, errlen, "http: bad path");
		return -1;
	}
	p++;
	end = strpbrk(p, " ?\r\n");
	if (!end) {
		snprintf(err, errlen, "http: bad request line");
		return -1;
	}
	hold[0] = 0;
	if (*end == '?') {
		/* seed=S; rate=BYTES per second; hold=PATH: the last chunk
		 * waits until PATH exists, and pacing stops once it does (a
		 * transfer that outlives the test's events by construction) */
		query_val(end, "seed", val, sizeof(val));
		if (val[0])
			seed = (uint32_t)strtoul(val, NULL, 0);
		query_val(end, "rate", val, sizeof(val));
		if (val[0] && parse_u64(val, &rate)) {
			snprintf(err, errlen, "http: bad rate %s", val);
			return -1;
		}
		query_val(end, "hold", hold, sizeof(hold));
	}
	(void)q;
	*end = 0;
	if (parse_u64(p, &len)) {
		const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
				 "Connection: close\r\n\r\n";
		write_all(fd, nf, strlen(nf));
		snprintf(err, errlen, "http: path is not a length");
		return -1;
	}
	snprintf(req, sizeof(req),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		 "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n", len);
	if (write_all(fd, req, strlen(req))) {
		snprintf(err, errlen, "http: write: %s", strerror(errno));
		return -1;
	}
	buf = malloc(CHUNK);
	if (!buf)
		die("out of memory");
	stream_init(&st, seed, DIR_DOWN);
	*seedp = seed;
	*sent = 0;
	t0 = now_ms();
	while (*sent < len) {
		size_t c = len - *sent < CHUNK ? (size_t)(len - *sent) : CHUNK;
		bool released = !hold[0] || file_exists(hold);

		if (!released && *sent + c >= len && wait_file(hold, hold_max)) {
			snprintf(err, errlen, "http: %s did not appear in %.0f s", hold, hold_max);
			free(buf);
			return -1;
		}
		if (rate && hold[0] && !released) {
			/* paced: this chunk leaves once the rate allows it */
			double due = t0 + (double)*sent * 1e3 / (double)rate;

			while (now_ms() < due && !file_exists(hold))
				pause_ms(due - now_ms() < 10 ? due - now_ms() : 10);
		} else if (rate && !hold[0]) {
			double due = t0 + (double)*sent * 1e3 / (double)rate;

			if (now_ms() < due)
				pause_ms(due - now_ms());
		}
		stream_fill(&st, buf, c);
		if (write_all(fd, buf, c)) {
			snprintf(err, errlen, "http: write: %s", strerror(errno));
			free(buf);
			return -1;
		}
		*sent += c;
	}
	free(buf);
	return 0;
}

static int serve_conn(int fd, const struct srv_opts *o, const struct sockaddr_storage *peer)
{
	uint8_t hdr[HDR_LEN];
	char err[256] = "";
	char host[INET6_ADDRSTRLEN + 8], tinfo[512], line[1024];
	unsigned pport;
	uint64_t up = 0, down = 0, got = 0, sent = 0, h = FNV_OFFSET;
	uint32_t seed = 0;
	bool http = false;
	int ok = 0, r;
	uint8_t *buf = NULL;

	set_timeouts(fd, o->timeout);
	r = read_all(fd, hdr, 4);
	if (r) {
		snprintf(err, sizeof(err), "header: %s", r > 0 ? "early EOF" : strerror(errno));
		goto out;
	}
	if (!memcmp(hdr, "GET ", 4)) {
		http = true;
		if (serve_http(fd, hdr, err, sizeof(err), &sent, &seed, o->timeout) == 0)
			ok = 1;
		shutdown(fd, SHUT_WR);
		drain_eof(fd);
		goto out;
	}
	if (memcmp(hdr, MAGIC, 4)) {
		snprintf(err, sizeof(err), "bad magic");
		goto out;
	}
	r = read_all(fd, hdr + 4, HDR_LEN - 4);
	if (r) {
		snprintf(err, sizeof(err), "header: %s", r > 0 ? "early EOF" : strerror(errno));
		goto out;
	}
	seed = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
	up = get_be64(hdr + 8);
	down = get_be64(hdr + 16);
	buf = malloc(CHUNK);
	if (!buf)
		die("out of memory");
	while (got < up) {
		size_t want = up - got < CHUNK ? (size_t)(up - got) : CHUNK;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, sizeof(err), "upload: %s after %" PRIu64 " bytes",
				 n == 0 ? "early EOF" : strerror(errno), got);
			goto out;
		}
		h = fnv1a(h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	{
		struct stream st;

		stream_init(&st, seed, DIR_DOWN);
		while (sent < down) {
			size_t c = down - sent < CHUNK ? (size_t)(down - sent) : CHUNK;

			stream_fill(&st, buf, c);
			if (write_all(fd, buf, c)) {
				snprintf(err, sizeof(err), "download: %s", strerror(errno));
				goto out;
			}
			sent += c;
		}
	}
	put_be64(hdr, h);
	if (write_all(fd, hdr, 8)) {
		snprintf(err, sizeof(err), "digest: %s", strerror(errno));
		goto out;
	}
	drain_eof(fd);
	ok = 1;
out:
	info_json(fd, tinfo, sizeof(tinfo));
	addr_str(peer, host, sizeof(host), &pport);
	snprintf(line, sizeof(line),
		 "{\"peer\":\"%s\",\"pport\":%u,\"ok\":%s,\"error\":\"%s\",\"http\":%s,"
		 "\"seed\":%u,\"up\":%" PRIu64 ",\"up_digest\":\"%016" PRIx64 "\","
		 "\"down\":%" PRIu64 ",%s}\n",
		 host, pport, ok ? "true" : "false", err, http ? "true" : "false", seed, got,
		 h, sent, tinfo);
	append_info(o->info, line);
	if (verbose || !ok)
		fprintf(stderr, "tcppeer serve: %s", line);
	free(buf);
	close(fd);
	return ok ? 0 : 1;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep, cut short by SIGTERM/SIGINT (nanosleep returns EINTR, stop is set). */
static void sleep_unless_stop(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (!stop && s > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmd_serve(int argc, char **argv)
{
	struct srv_opts o = { .port = 0, .backlog = 4096, .timeout = 30 };
	struct sockaddr_storage ss;
	socklen_t sl;
	int lfd, one = 1, zero = 0;
	long accepted = 0, failed = 0, running = 0;
	bool delayed = false;
	struct sigaction sa;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(a, "-v")) {
			verbose = 1;
			continue;
		}
		if (!strcmp(a, "--http"))
			continue; /* HTTP is detected per connection */
		if (!v)
			die("serve: %s needs a value", a);
		i++;
		if (!strcmp(a, "--port") && !parse_u64(v, &n) && n < 65536)
			o.port = (unsigned)n;
		else if (!strcmp(a, "--addr"))
			o.addr = v;
		else if (!strcmp(a, "--backlog") && !parse_u64(v, &n) && n < 1 << 30)
			o.backlog = (int)n;
		else if (!strcmp(a, "--count") && !parse_u64(v, &n))
			o.count = (long)n;
		else if (!strcmp(a, "--info"))
			o.info = v;
		else if (!strcmp(a, "--timeout") && (o.timeout = atof(v)) > 0)
			;
		else if (!strcmp(a, "--accept-delay") && (o.accept_delay = atof(v)) >= 0)
			;
		else if (!strcmp(a, "--accept-interval") && (o.accept_interval = atof(v)) >= 0)
			;
		else
			die("serve: bad option %s %s", a, v);
	}
	if (!o.port)
		die("serve: --port is required");
	if (o.addr) {
		if (resolve(o.addr, o.port, &ss, &sl))
			die("serve: bad address %s", o.addr);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(o.port);
		sl = sizeof(*s6);
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !o.addr)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
		die("bind port %u: %s", o.port, strerror(errno));
	if (listen(lfd, o.backlog) < 0)
		die("listen: %s", strerror(errno));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	while (!stop && (!o.count || accepted < o.count)) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int st, cfd;
		pid_t pid;

		/* reap finished children without blocking */
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			running--;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				failed++;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (o.accept_delay > 0 && !delayed) {
			/* a connection is ready: let the accept queue fill up */
			delayed = true;
			sleep_unless_stop(o.accept_delay);
			continue;
		}
		cfd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			die("accept: %s", strerror(errno));
		}
		accepted++;
		pid = fork();
		if (pid < 0) {
			perror("tcppeer: fork");
			close(cfd);
			failed++;
			continue;
		}
		if (pid == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			_exit(serve_conn(cfd, &o, &peer));
		}
		running++;
		close(cfd);
		if (o.accept_interval > 0)
			sleep_unless_stop(o.accept_interval);
	}
	close(lfd);
	while (running > 0) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);

		if (pid < 0)
			break;
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	if (verbose)
		fprintf(stderr, "tcppeer serve: %ld connections, %ld failed\n", accepted, failed);
	return failed ? 1 : 0;
}

/* ---- client ---- */

struct cli_opts {
	const char *addr;
	const char *src;
	unsigned port;
	uint64_t up, down;
	long count;
	int parallel;
	double timeout;
	double interval; /* pause between one worker's connections */
	double header_pause; /* pause between the header and the upload */
	const char *hold; /* then wait until this file exists */
	double stagger; /* worker w starts after w * stagger */
	uint32_t seed;
	int json;
};

static void pause_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (s > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t sl, double sec)
{
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, sa, sl) < 0) {
		if (errno != EINPROGRESS)
			return -1;
		int r = poll(&pfd, 1, (int)(sec * 1000));

		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0)
			return -1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			return -1;
		if (err) {
			errno = err;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fl);
	return 0;
}

static int one_conn(const struct cli_opts *o, long idx)
{
	struct sockaddr_storage ss, src;
	socklen_t sl, srcl;
	char err[256] = "", tinfo[512] = "\"tcp_info\":false", line[1024];
	uint8_t hdr[HDR_LEN], *buf = NULL, *exp = NULL;
	uint32_t seed = o->seed + (uint32_t)idx;
	uint64_t hu = FNV_OFFSET, hd = FNV_OFFSET, hexp = FNV_OFFSET, got = 0, srv_digest = 0;
	double t0 = now_ms(), t_conn = -1;
	bool down_ok = false, up_ok = false;
	struct stream st;
	int fd, r;

	if (resolve(o->addr, o->port, &ss, &sl))
		die("connect: bad address %s", o->addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (o->src) {
		if (resolve(o->src, 0, &src, &srcl) || bind(fd, (struct sockaddr *)&src, srcl)) {
			snprintf(err, sizeof(err), "bind %s: %s", o->src, strerror(errno));
			goto out;
		}
	}
	if (connect_timeout(fd, (struct sockaddr *)&ss, sl, o->timeout)) {
		snprintf(err, sizeof(err), "connect: %s", strerror(errno));
		goto out;
	}
	t_conn = now_ms() - t0;
	set_timeouts(fd, o->timeout);
	buf = malloc(CHUNK);
	exp = malloc(CHUNK);
	if (!buf || !exp)
		die("out of memory");

	memcpy(hdr, MAGIC, 4);
	hdr[4] = seed >> 24, hdr[5] = seed >> 16, hdr[6] = seed >> 8, hdr[7] = seed;
	put_be64(hdr + 8, o->up);
	put_be64(hdr + 16, o->down);
	if (write_all(fd, hdr, HDR_LEN)) {
		snprintf(err, sizeof(err), "send header: %s", strerror(errno));
		goto out;
	}
	if (o->header_pause > 0)
		pause_s(o->header_pause);
	if (o->hold && wait_file(o->hold, o->timeout)) {
		snprintf(err, sizeof(err), "hold: %s did not appear in %.0f s", o->hold, o->timeout);
		goto out;
	}
	stream_init(&st, seed, DIR_UP);
	for (uint64_t sent = 0; sent < o->up;) {
		size_t c = o->up - sent < CHUNK ? (size_t)(o->up - sent) : CHUNK;

		stream_fill(&st, buf, c);
		hu = fnv1a(hu, buf, c);
		if (write_all(fd, buf, c)) {
			snprintf(err, sizeof(err), "upload: %s after %" PRIu64 " bytes",
				 strerror(errno), sent);
			goto out;
		}
		sent += c;
	}
	stream_init(&st, seed, DIR_DOWN);
	while (got < o->down) {
		size_t want = o->down - got < CHUNK ? (size_t)(o->down - got) : CHUNK;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, sizeof(err), "download: %s after %" PRIu64 " bytes",
				 n == 0 ? "early EOF" : strerror(errno), got);
			goto out;
		}
		stream_fill(&st, exp, (size_t)n);
		hd = fnv1a(hd, buf, (size_t)n);
		hexp = fnv1a(hexp, exp, (size_t)n);
		got += (uint64_t)n;
	}
	down_ok = hd == hexp;
	r = read_all(fd, hdr, 8);
	if (r) {
		snprintf(err, sizeof(err), "server digest: %s",
			 r > 0 ? "early EOF" : strerror(errno));
		goto out;
	}
	srv_digest = get_be64(hdr);
	up_ok = srv_digest == hu;
	if (!down_ok)
		snprintf(err, sizeof(err), "download digest mismatch");
	else if (!up_ok)
		snprintf(err, sizeof(err), "upload digest mismatch (server saw %016" PRIx64 ")",
			 srv_digest);
out:
	if (fd >= 0) {
		info_json(fd, tinfo, sizeof(tinfo));
		close(fd);
	}
	free(buf);
	free(exp);
	{
		bool ok = !err[0] && down_ok && up_ok;
		int len;

		if (o->json)
			len = snprintf(line, sizeof(line),
				       "{\"conn\":%ld,\"ok\":%s,\"error\":\"%s\",\"connect_ms\":%.3f,"
				       "\"total_ms\":%.3f,\"seed\":%u,\"up\":%" PRIu64 ",\"down\":%" PRIu64
				       ",\"down_digest\":\"%016" PRIx64 "\",\"down_digest_ok\":%s,"
				       "\"up_digest\":\"%016" PRIx64 "\",\"up_digest_ok\":%s,%s}\n",
				       idx, ok ? "true" : "false", err, t_conn, now_ms() - t0, seed,
				       o->up, got, hd, down_ok ? "true" : "false", hu,
				       up_ok ? "true" : "false", tinfo);
		else
			len = snprintf(line, sizeof(line), "conn %ld %s%s%s connect %.3f ms %s\n",
				       idx, ok ? "ok" : "FAILED", err[0] ? ": " : "", err, t_conn,
				       tinfo);
		if (len > 0)
			write_all(1, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
		return ok ? 0 : 1;
	}
}

static int cmd_connect(int argc, char **argv)
{
	struct cli_opts o = { .count = 1, .parallel = 1, .timeout = 10, .up = 0, .down = 0 };
	long failed = 0;
	bool seeded = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(a, "--json")) {
			o.json = 1;
			continue;
		}
		if (!strcmp(a, "-v")) {
			verbose = 1;
			continue;
		}
		if (!v)
			die("connect: %s needs a value", a);
		i++;
		if (!strcmp(a, "--addr"))
			o.addr = v;
		else if (!strcmp(a, "--src"))
			o.src = v;
		else if (!strcmp(a, "--port") && !parse_u64(v, &n) && n && n < 65536)
			o.port = (unsigned)n;
		else if (!strcmp(a, "--up") && !parse_u64(v, &n))
			o.up = n;
		else if (!strcmp(a, "--down") && !parse_u64(v, &n))
			o.down = n;
		else if (!strcmp(a, "--count") && !parse_u64(v, &n) && n)
			o.count = (long)n;
		else if (!strcmp(a, "--parallel") && !parse_u64(v, &n) && n && n <= 256)
			o.parallel = (int)n;
		else if (!strcmp(a, "--timeout") && (o.timeout = atof(v)) > 0)
			;
		else if (!strcmp(a, "--interval") && (o.interval = atof(v)) >= 0)
			;
		else if (!strcmp(a, "--header-pause") && (o.header_pause = atof(v)) >= 0)
			;
		else if (!strcmp(a, "--hold"))
			o.hold = v;
		else if (!strcmp(a, "--stagger") && (o.stagger = atof(v)) >= 0)
			;
		else if (!strcmp(a, "--seed") && !parse_u64(v, &n)) {
			o.seed = (uint32_t)n;
			seeded = true;
		} else
			die("connect: bad option %s %s", a, v);
	}
	if (!o.addr || !o.port)
		die("connect: --addr and --port are required");
	if (!seeded)
		o.seed = (uint32_t)splitmix64((uint64_t)getpid() << 32 ^ (uint64_t)time(NULL));
	if (o.parallel > o.count)
		o.parallel = (int)o.count;

	if (o.parallel == 1) {
		for (long i = 0; i < o.count; i++) {
			if (i)
				pause_s(o.interval);
			failed += one_conn(&o, i);
		}
	} else {
		pid_t pids[256];

		for (int w = 0; w < o.parallel; w++) {
			pids[w] = fork();
			if (pids[w] < 0)
				die("fork: %s", strerror(errno));
			if (pids[w] == 0) {
				long f = 0;

				pause_s(w * o.stagger);
				for (long i = w; i < o.count; i += o.parallel) {
					if (i != w)
						pause_s(o.interval);
					f += one_conn(&o, i);
				}
				_exit(f > 250 ? 250 : (int)f);
			}
		}
		for (int w = 0; w < o.parallel; w++) {
			int st;

			if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st))
				failed++;
			else
				failed += WEXITSTATUS(st);
		}
	}
	if (verbose || !o.json)
		fprintf(stderr, "tcppeer connect: %ld connections, %ld failed\n", o.count, failed);
	return failed ? 1 : 0;
}

/* ---- gen: the stream on stdout, for checks with other clients ---- */

static int cmd_gen(int argc, char **argv)
{
	uint64_t bytes = 0, n, seed = 0;
	uint64_t dir = DIR_DOWN;
	struct stream st;
	uint8_t *buf;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("gen: %s needs a value", a);
		i++;
		if (!strcmp(a, "--bytes") && !parse_u64(v, &n))
			bytes = n;
		else if (!strcmp(a, "--seed") && !parse_u64(v, &n))
			seed = n;
		else if (!strcmp(a, "--dir") && (!strcmp(v, "up") || !strcmp(v, "down")))
			dir = !strcmp(v, "up") ? DIR_UP : DIR_DOWN;
		else
			die("gen: bad option %s %s", a, v);
	}
	buf = malloc(CHUNK);
	if (!buf)
		die("out of memory");
	stream_init(&st, (uint32_t)seed, dir);
	while (bytes) {
		size_t c = bytes < CHUNK ? (size_t)bytes : CHUNK;

		stream_fill(&st, buf, c);
		if (write_all(1, buf, c))
			die("gen: write: %s", strerror(errno));
		bytes -= c;
	}
	free(buf);
	return 0;
}

static void usage(void)
{
	fputs("usage:\n"
	      "  tcppeer serve --port P [--addr A] [--backlog N] [--count N] [--info FILE]\n"
	      "                [--timeout S] [--accept-delay S] [--accept-interval S] [-v]\n"
	      "  tcppeer connect --addr A --port P [--up BYTES] [--down BYTES] [--count N]\n"
	      "                [--parallel N] [--interval S] [--timeout S] [--seed S]\n"
	      "                [--src A] [--stagger S] [--header-pause S] [--hold FILE] [--json]\n"
	      "  tcppeer gen --bytes N [--seed S] [--dir up|down]\n"
	      "BYTES take k/m/g suffixes. serve also answers HTTP GET\n"
	      "/<n>[?seed=S][&rate=BYTES][&hold=FILE]: rate paces the body (per second);\n"
	      "with hold, the last 64 KiB wait until FILE exists and pacing ends then\n"
	      "(at most the serve --timeout).\n"
	      "--accept-delay: once a connection is pending, wait S before accepting\n"
	      "(the accept queue fills); --accept-interval: pause S after each accept.\n"
	      "--stagger: parallel worker w starts after w * S.\n"
	      "--header-pause: wait S between the 24-byte header and the upload;\n"
	      "--hold: then wait until FILE exists (at most --timeout).\n",
	      stderr);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 2, argv + 2);
	if (!strcmp(argv[1], "connect"))
		return cmd_connect(argc - 2, argv + 2);
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc - 2, argv + 2);
	usage();
	return 2;
}
