/* SPDX-License-Identifier: GPL-2.0 */
/* A small etcd v3 client over its JSON gateway (HTTP/1.0, no TLS): what
 * a fleet needs to share the cookie key, nothing more. Keys and values
 * are byte strings; every call tries the endpoints in turn, starting with
 * the one that answered last, each within a timeout. */
#ifndef XDPCT_ETCD_H
#define XDPCT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define ETCD_MAX_ENDPOINTS 8

struct etcd {
	struct {
		char host[256];
		char port[8];
	} ep[ETCD_MAX_ENDPOINTS];
	int n, cur;
	int timeout_ms;   /* per request and endpoint */
	char err[200];    /* the last failure, for logs */
};

/* "http://HOST:PORT[,http://HOST:PORT...]" (the scheme may be left out;
 * IPv6 as [ADDR]:PORT). -1 with e->err set on a bad list. */
int etcd_init(struct etcd *e, const char *list, int timeout_ms);

/* The value of key: 1 found (*mod_rev its revision), 0 absent, -1 error. */
int etcd_get(struct etcd *e, const char *key, char *val, size_t len, __u64 *mod_rev);
/* Put key = val, attached to lease (0: none). 0, or -1. */
int etcd_put(struct etcd *e, const char *key, const char *val, __s64 lease);
/* The values of the keys under prefix, at most max of them, each cut to
 * len bytes, into vals (max * len bytes): their count, or -1. */
int etcd_get_prefix(struct etcd *e, const char *prefix, char *vals, size_t len, int max);
/* Put key = val if its mod revision is mod_rev (0: only if absent),
 * attached to lease (0: none). 1 done, 0 the comparison failed, -1 error. */
int etcd_put_if(struct etcd *e, const char *key, const char *val, __u64 mod_rev, __s64 lease);
/* Delete key if its value is val (a leader giving up). 1, 0, -1 as above. */
int etcd_delete_if(struct etcd *e, const char *key, const char *val);
/* A lease of ttl seconds: 0 and *id, or -1. */
int etcd_lease_grant(struct etcd *e, int ttl, __s64 *id);
/* 1 renewed, 0 the lease is gone (expired or revoked), -1 error. */
int etcd_lease_keepalive(struct etcd *e, __s64 id);
int etcd_lease_revoke(struct etcd *e, __s64 id);

/* Exposed for the unit tests. */
size_t b64_encode(const void *in, size_t len, char *out); /* out: 4 * ceil(len / 3) + 1 */
/* -1 on a character outside the alphabet or an output over cap. */
long b64_decode(const char *in, size_t len, void *out, size_t cap);
/* The value of the first "name": in a JSON text, a string
 * without its quotes or a bare token, into out. 0 found, -1 not. */
int json_field(const char *json, const char *name, char *out, size_t len);

#endif /* XDPCT_ETCD_H */
