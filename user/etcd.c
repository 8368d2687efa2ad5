// SPDX-License-Identifier: GPL-2.0
/* etcd v3 through its JSON gateway (/v3/kv/..., /v3/lease/...). HTTP/1.0
 * so that every answer ends with the connection: no chunked bodies. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "etcd.h"

#define RESP_MAX 65536

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < len; i += 3) {
		unsigned int v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) |
				 (i + 2 < len ? p[i + 2] : 0);

		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_chars[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

long b64_decode(const char *in, size_t len, void *out, size_t cap)
{
	unsigned char *o = out;
	unsigned int v = 0, bits = 0;
	size_t i, n = 0;

	for (i = 0; i < len && in[i] != '='; i++) {
		const char *c = strchr(b64_chars, in[i]);

		if (!c || !in[i])
			return -1;
		v = v << 6 | (unsigned int)(c - b64_chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			o[n++] = v >> bits & 0xff;
		}
	}
	return n;
}

int json_field(const char *json, const char *name, char *out, size_t len)
{
	char pat[80];
	const char *p, *end;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		end = strchr(++p, '"');
	} else {
		end = p + strcspn(p, ",}] \n");
	}
	if (!end)
		return -1;
	n = end - p;
	if (n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int etcd_init(struct etcd *e, const char *list, int timeout_ms)
{
	const char *p = list;

	memset(e, 0, sizeof(*e));
	e->timeout_ms = timeout_ms;
	while (*p) {
		size_t n = strcspn(p, ",");
		char one[300], orig[300], *host, *port;

		if (n == 0 || n >= sizeof(one) || e->n == ETCD_MAX_ENDPOINTS) {
			snprintf(e->err, sizeof(e->err), "bad etcd endpoint list '%s'", list);
			return -1;
		}
		memcpy(one, p, n);
		one[n] = '\0';
		memcpy(orig, one, n + 1);
		p += n + (p[n] == ',');
		host = one;
		if (!strncmp(host, "https://", 8)) {
			snprintf(e->err, sizeof(e->err),
				 "etcd endpoint '%.120s': https is not supported (http on a trusted network)", one);
			return -1;
		}
		if (!strncmp(host, "http://", 7))
			host += 7;
		host[strcspn(host, "/")] = '\0';
		if (*host == '[') {
			char *close = strchr(host, ']');

			if (!close || close[1] != ':')
				goto bad;
			*close = '\0';
			host++;
			port = close + 2;
		} else {
			port = strrchr(host, ':');
			if (!port)
				goto bad;
			*port++ = '\0';
		}
		if (!*host || !*port || strlen(port) >= sizeof(e->ep[0].port) ||
		    strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
			goto bad;
		if (strlen(host) >= sizeof(e->ep[0].host))
			goto bad;
		snprintf(e->ep[e->n].host, sizeof(e->ep[0].host), "%.255s", host);
		snprintf(e->ep[e->n].port, sizeof(e->ep[0].port), "%s", port);
		e->n++;
		continue;
bad:
		snprintf(e->err, sizeof(e->err), "bad etcd endpoint '%.150s' (http://HOST:PORT)", orig);
		return -1;
	}
	if (!e->n) {
		snprintf(e->err, sizeof(e->err), "no etcd endpoint given");
		return -1;
	}
	return 0;
}

static long long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* One request to endpoint i: the body of a 200 answer into buf. */
static int post_one(struct etcd *e, int i, const char *path, const char *body, char *buf,
		    size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL, *a;
	struct timespec deadline;
	char req[1024];
	size_t got = 0, reqlen, sent = 0;
	int fd = -1, status, r;
	char *hdr_end;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += e->timeout_ms / 1000;
	deadline.tv_nsec += (e->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	r = getaddrinfo(e->ep[i].host, e->ep[i].port, &hints, &ai);
	if (r) {
		snprintf(e->err, sizeof(e->err), "%s: %s", e->ep[i].host, gai_strerror(r));
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		struct pollfd p;

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen) || errno == EINPROGRESS) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			p = (struct pollfd){ .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, ms_left(&deadline) > 0 ? ms_left(&deadline) : 0) == 1 &&
			    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) && !soerr)
				break;
			errno = soerr ? soerr : ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(e->err, sizeof(e->err), "%s:%s: %s", e->ep[i].host, e->ep[i].port,
			 strerror(errno));
		return -1;
	}
	snprintf(req, sizeof(req),
		 "POST %s HTTP/1.0\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 path, e->ep[i].host, e->ep[i].port, strlen(body));
	reqlen = strlen(req);
	while (sent < reqlen + strlen(body)) {
		const char *from = sent < reqlen ? req + sent : body + (sent - reqlen);
		size_t n = sent < reqlen ? reqlen - sent : strlen(body) - (sent - reqlen);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t w;

		if (poll(&p, 1, ms_left(&deadline) > 0 ? ms_left(&deadline) : 0) != 1)
			goto timeout;
		w = send(fd, from, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN)
			goto io;
		if (w > 0)
			sent += w;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms_left(&deadline) > 0 ? ms_left(&deadline) : 0) != 1)
			goto timeout;
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			goto io;
		if (n == 0)
			break;
		got += n;
		if (got == cap - 1) {
			snprintf(e->err, sizeof(e->err), "%s:%s: answer too long", e->ep[i].host,
				 e->ep[i].port);
			goto fail;
		}
	}
	close(fd);
	buf[got] = '\0';
	hdr_end = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !hdr_end) {
		snprintf(e->err, sizeof(e->err), "%s:%s: not an HTTP answer", e->ep[i].host,
			 e->ep[i].port);
		return -1;
	}
	memmove(buf, hdr_end + 4, strlen(hdr_end + 4) + 1);
	if (status != 200) {
		char msg[120] = "";

		if (json_field(buf, "message", msg, sizeof(msg)))
			json_field(buf, "error", msg, sizeof(msg));
		snprintf(e->err, sizeof(e->err), "%s:%s: HTTP %d %s", e->ep[i].host, e->ep[i].port,
			 status, msg);
		return -1;
	}
	return 0;
timeout:
	errno = ETIMEDOUT;
io:
	snprintf(e->err, sizeof(e->err), "%s:%s: %s", e->ep[i].host, e->ep[i].port,
		 strerror(errno));
fail:
	close(fd);
	return -1;
}

/* The request on the endpoints in turn, from the last one that answered. */
static int post(struct etcd *e, const char *path, const char *body, char *buf, size_t cap)
{
	char errs[sizeof(e->err)] = "";
	int k;

	for (k = 0; k < e->n; k++) {
		int i = (e->cur + k) % e->n;

		if (!post_one(e, i, path, body, buf, cap)) {
			e->cur = i;
			return 0;
		}
		/* every endpoint's reason, for the log */
		if (k)
			strncat(errs, "; ", sizeof(errs) - strlen(errs) - 1);
		strncat(errs, e->err, sizeof(errs) - strlen(errs) - 1);
	}
	memcpy(e->err, errs, sizeof(errs));
	return -1;
}

int etcd_get(struct etcd *e, const char *key, char *val, size_t len, __u64 *mod_rev)
{
	char body[512], k64[256], v64[1024], rev[32], *buf;
	const char *kvs;
	long n;
	int r = -1;

	buf = malloc(RESP_MAX);
	if (!buf)
		return -1;
	b64_encode(key, strlen(key), k64);
	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", k64);
	if (post(e, "/v3/kv/range", body, buf, RESP_MAX))
		goto out;
	kvs = strstr(buf, "\"kvs\":");
	if (!kvs) {
		r = 0;
		goto out;
	}
	if (json_field(kvs, "value", v64, sizeof(v64)) ||
	    json_field(kvs, "mod_revision", rev, sizeof(rev))) {
		snprintf(e->err, sizeof(e->err), "etcd range: unexpected answer");
		goto out;
	}
	n = b64_decode(v64, strlen(v64), val, len - 1);
	if (n < 0) {
		snprintf(e->err, sizeof(e->err), "etcd range: value of %s too long or not base64", key);
		goto out;
	}
	val[n] = '\0';
	*mod_rev = strtoull(rev, NULL, 10);
	r = 1;
out:
	free(buf);
	return r;
}

/* key and val in base64, as the gateway wants them; -1 if too long. */
static int encode_kv(const char *key, const char *val, char k64[256], char v64[1024])
{
	if (strlen(key) > 180 || strlen(val) > 700)
		return -1;
	b64_encode(key, strlen(key), k64);
	b64_encode(val, strlen(val), v64);
	return 0;
}

int etcd_get_prefix(struct etcd *e, const char *prefix, char *vals, size_t len, int max)
{
	char body[1024], k64[256], end64[256], end[200], v64[1024], *buf;
	const char *p;
	size_t pl = strlen(prefix);
	int n = -1;

	if (!pl || pl >= sizeof(end))
		return -1;
	buf = malloc(RESP_MAX);
	if (!buf)
		return -1;
	/* range_end: the prefix with its last byte one higher */
	memcpy(end, prefix, pl + 1);
	end[pl - 1]++;
	b64_encode(prefix, pl, k64);
	b64_encode(end, pl, end64);
	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"range_end\":\"%s\"}", k64, end64);
	if (post(e, "/v3/kv/range", body, buf, RESP_MAX))
		goto out;
	n = 0;
	p = strstr(buf, "\"kvs\":");
	while (p && n < max && (p = strstr(p, "\"value\":"))) {
		long got;

		if (json_field(p, "value", v64, sizeof(v64)))
			break;
		got = b64_decode(v64, strlen(v64), vals + n * len, len - 1);
		if (got < 0)
			got = 0;
		vals[n * len + got] = '\0';
		n++;
		p += 8;
	}
out:
	free(buf);
	return n;
}

int etcd_put(struct etcd *e, const char *key, const char *val, __s64 lease)
{
	char body[2048], k64[256], v64[1024], buf[1024];

	if (encode_kv(key, val, k64, v64))
		return -1;
	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\",\"lease\":\"%lld\"}", k64,
		 v64, (long long)lease);
	return post(e, "/v3/kv/put", body, buf, sizeof(buf));
}

static int txn(struct etcd *e, const char *body)
{
	char buf[4096], ok[8];

	if (post(e, "/v3/kv/txn", body, buf, sizeof(buf)))
		return -1;
	/* proto3 JSON leaves false out */
	return !json_field(buf, "succeeded", ok, sizeof(ok)) && !strcmp(ok, "true");
}

int etcd_put_if(struct etcd *e, const char *key, const char *val, __u64 mod_rev, __s64 lease)
{
	char body[2048], k64[256], v64[1024];

	if (encode_kv(key, val, k64, v64))
		return -1;
	snprintf(body, sizeof(body),
		 "{\"compare\":[{\"key\":\"%s\",\"target\":\"%s\",\"%s\":\"%llu\"}],"
		 "\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\",\"lease\":\"%lld\"}}]}",
		 k64, mod_rev ? "MOD" : "CREATE", mod_rev ? "mod_revision" : "create_revision",
		 (unsigned long long)mod_rev, k64, v64, (long long)lease);
	return txn(e, body);
}

int etcd_delete_if(struct etcd *e, const char *key, const char *val)
{
	char body[2048], k64[256], v64[1024];

	if (encode_kv(key, val, k64, v64))
		return -1;
	snprintf(body, sizeof(body),
		 "{\"compare\":[{\"key\":\"%s\",\"target\":\"VALUE\",\"value\":\"%s\"}],"
		 "\"success\":[{\"request_delete_range\":{\"key\":\"%s\"}}]}",
		 k64, v64, k64);
	return txn(e, body);
}

int etcd_lease_grant(struct etcd *e, int ttl, __s64 *id)
{
	char body[64], buf[1024], v[32];

	snprintf(body, sizeof(body), "{\"TTL\":\"%d\"}", ttl);
	if (post(e, "/v3/lease/grant", body, buf, sizeof(buf)))
		return -1;
	if (json_field(buf, "ID", v, sizeof(v))) {
		snprintf(e->err, sizeof(e->err), "etcd lease grant: no ID in the answer");
		return -1;
	}
	*id = strtoll(v, NULL, 10);
	return 0;
}

int etcd_lease_keepalive(struct etcd *e, __s64 id)
{
	char body[64], buf[1024], v[32];

	snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", (long long)id);
	if (post(e, "/v3/lease/keepalive", body, buf, sizeof(buf)))
		return -1;
	/* a lease that is gone answers without a TTL (0 is left out) */
	return !json_field(buf, "TTL", v, sizeof(v)) && strtoll(v, NULL, 10) > 0;
}

int etcd_lease_revoke(struct etcd *e, __s64 id)
{
	char body[64], buf[1024];

	snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", (long long)id);
	return post(e, "/v3/lease/revoke", body, buf, sizeof(buf));
}
