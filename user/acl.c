// SPDX-License-Identifier: GPL-2.0
/* Allow and deny lists of remote prefixes (xdpct_acl, an LPM trie; the
 * longest prefix decides): an allowed source gets no cookies, its flows
 * are tracked as on an observed port; a denied one's segments to a
 * protected port are dropped. `xdpct allow|deny add|del|list|flush`
 * changes them at run time, `attach --allow/--deny` at attach. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "xdpct_seen.h"

/* A key no entry has: get_next_key() starts from the trie's first entry
 * (a NULL key would too, but valgrind takes it for a bad pointer). */
static const struct xdpct_acl_key acl_before_first = { .prefixlen = 0xffffffff };

static const char *acl_name(__u8 action)
{
	return action == XDPCT_ACL_ALLOW ? "allow" : "deny";
}

int acl_parse(const char *arg, struct xdpct_acl_key *k)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(arg, '/');
	unsigned long long len;
	size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
	unsigned int bits, i;

	memset(k, 0, sizeof(*k));
	if (!n || n >= sizeof(addr))
		return -1;
	memcpy(addr, arg, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, k->addr) == 1) {
		k->family = 4;
		bits = 32;
	} else if (inet_pton(AF_INET6, addr, k->addr) == 1) {
		k->family = 6;
		bits = 128;
	} else {
		return -1;
	}
	len = bits;
	if (slash && parse_u64(slash + 1, 0, bits, &len))
		return -1;
	/* host bits set: a typo more often than not (as `ip route` says) */
	for (i = len; i < bits; i++)
		if (k->addr[i / 8] & (0x80 >> (i % 8)))
			return -2;
	k->prefixlen = 8 + len;
	return 0;
}

void acl_format(const struct xdpct_acl_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, k->prefixlen - 8);
}

/* Every entry, in the trie's order; n = how many. */
int acl_read(int acl_fd, struct xdpct_acl_key **keys, __u8 **actions, size_t *n)
{
	struct xdpct_acl_key k, next, *kv = NULL;
	size_t cap = 0;
	__u8 *av = NULL;
	int r = 0;

	*n = 0;
	for (int more = !bpf_map_get_next_key(acl_fd, &acl_before_first, &next); more;
	     more = !bpf_map_get_next_key(acl_fd, &k, &next)) {
		__u8 v;

		k = next;
		if (bpf_map_lookup_elem(acl_fd, &k, &v))
			continue; /* deleted meanwhile */
		if (*n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct xdpct_acl_key *nk = realloc(kv, c * sizeof(*nk));
			__u8 *na = nk ? realloc(av, c) : NULL;

			if (nk)
				kv = nk;
			if (!na) {
				r = -ENOMEM;
				break;
			}
			av = na;
			cap = c;
		}
		kv[*n] = k;
		av[(*n)++] = v;
	}
	if (!r && errno != ENOENT)
		r = -errno; /* the walk stopped on an error, not at the end */
	*keys = kv;
	*actions = av;
	return r;
}

/* XDPCT_CFG_ACL in the config map follows the list: set while it has
 * entries, so that the data path pays no lookup without one. Atomic on
 * the mapped word: config_commit() keeps the bit. */
int acl_flag_sync(int config_fd, int acl_fd)
{
	struct xdpct_acl_key first;
	struct xdpct_config *m;
	bool any = !bpf_map_get_next_key(acl_fd, &acl_before_first, &first);

	m = config_map(config_fd);
	if (!m)
		return -1;
	if (any)
		__atomic_fetch_or(&m->flags, XDPCT_CFG_ACL, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&m->flags, ~(__u32)XDPCT_CFG_ACL, __ATOMIC_SEQ_CST);
	config_unmap(m);
	return 0;
}

/* What the list says of a remote address (0: nothing). */
__u8 acl_lookup(int acl_fd, __u8 family, const __be32 *raddr)
{
	struct xdpct_acl_key k = { .family = family };
	__u8 v;

	if (acl_fd < 0)
		return 0;
	k.prefixlen = 8 + (family == 4 ? 32 : 128);
	memcpy(k.addr, raddr, family == 4 ? 4 : 16);
	return bpf_map_lookup_elem(acl_fd, &k, &v) ? 0 : v;
}

static bool key_eq(const struct xdpct_acl_key *a, const struct xdpct_acl_key *b)
{
	return a->prefixlen == b->prefixlen && a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int acl_find(const struct xdpct_acl_key *have, size_t nhave,
		    const struct xdpct_acl_key *k)
{
	for (size_t j = 0; j < nhave; j++)
		if (key_eq(k, &have[j]))
			return (int)j;
	return -1;
}

/* Adds keys[0..n) to the action's list, or removes them from it: all or
 * none. A prefix in the other list cannot be added, one not in this list
 * cannot be removed (one line naming it); one already in it is kept. (A
 * trie lookup finds the longest prefix, not the same one: the entries
 * are compared.) */
static int acl_change(int acl_fd, const struct xdpct_acl_key *keys, size_t n, __u8 action,
		      bool add)
{
	struct xdpct_acl_key *have;
	size_t nhave, i;
	__u8 *acts;
	char p[64];
	int j, r = acl_read(acl_fd, &have, &acts, &nhave);

	if (r) {
		err("cannot read %s: %s", XDPCT_MAP_ACL, strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		j = acl_find(have, nhave, &keys[i]);
		acl_format(&keys[i], p, sizeof(p));
		if (add && j >= 0 && acts[j] != action) {
			err("%s is in the %s list ('xdpct %s del' first)", p, acl_name(acts[j]),
			    acl_name(acts[j]));
			r = -1;
			goto out;
		}
		if (!add && (j < 0 || acts[j] != action)) {
			err("%s is not in the %s list", p, acl_name(action));
			r = -1;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (add ? !bpf_map_update_elem(acl_fd, &keys[i], &action, BPF_ANY) :
			  !bpf_map_delete_elem(acl_fd, &keys[i]) || errno == ENOENT)
			continue;
		acl_format(&keys[i], p, sizeof(p));
		err("cannot %s %s: %s", add ? "add" : "remove", p,
		    add && (errno == ENOSPC || errno == E2BIG) ? "the lists are full (65536 prefixes)" :
								  strerror(errno));
		r = -1;
		break;
	}
out:
	free(have);
	free(acts);
	return r;
}

int acl_add(int acl_fd, const struct xdpct_acl_key *keys, size_t n, __u8 action)
{
	return acl_change(acl_fd, keys, n, action, true);
}

int acl_del(int acl_fd, const struct xdpct_acl_key *keys, size_t n, __u8 action)
{
	return acl_change(acl_fd, keys, n, action, false);
}

/* A comma-separated list of prefixes: 0, or -1 after a one-line usage
 * error naming the bad one. */
int acl_parse_list(const char *cmd, const char *opt, const char *list,
		   struct xdpct_acl_key **keys, size_t *n)
{
	char *dup = strdup(list), *save = NULL, *tok;
	size_t cap = 8;
	int r = 0;

	*n = 0;
	*keys = malloc(cap * sizeof(**keys));
	if (!dup || !*keys) {
		free(dup);
		err("out of memory");
		return -1;
	}
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int e;

		if (*n == cap) {
			struct xdpct_acl_key *nk = realloc(*keys, cap * 2 * sizeof(*nk));

			if (!nk) {
				err("out of memory");
				r = -1;
				break;
			}
			*keys = nk;
			cap *= 2;
		}
		e = acl_parse(tok, &(*keys)[*n]);
		if (e) {
			usage_err(cmd, e == -2 ? "%s '%s': host bits set past the prefix length" :
						 "%s '%s': not an IPv4 or IPv6 prefix (ADDR or ADDR/LEN)",
				  opt, tok);
			r = -1;
			break;
		}
		(*n)++;
	}
	if (!r && !*n) {
		usage_err(cmd, "%s: no prefix given", opt);
		r = -1;
	}
	free(dup);
	return r;
}

/* An entry's table follows the lists: an allowed remote's flows on a
 * protected port are observed ones. After a change, those in the wrong
 * table move (value copied with its lock free, then the old one
 * deleted), so no connection is dropped for want of its entry. */
struct flow_tables {
	int p[2], o[2];  /* [0] IPv4, [1] IPv6 */
	size_t ksz[2];
};

static int move_flows(int from, int to, size_t ksz, int fam, int acl_fd,
		      const __u8 *ports, bool to_observed, const struct xdpct_seen *seen,
		      unsigned int *moved)
{
	union { struct xdpct_flow4_key k4; struct xdpct_flow6_key k6; } k, next;
	size_t n = 0, cap = 0, i;
	char *keys = NULL;
	int r = 0;

	/* keys first: deleting while walking a hash restarts the walk */
	for (int more = !bpf_map_get_next_key(from, NULL, &next); more;
	     more = !bpf_map_get_next_key(from, &k, &next)) {
		const __be32 *raddr = fam == 4 ? &next.k4.raddr : next.k6.raddr;
		__u16 lport = ntohs(fam == 4 ? next.k4.lport : next.k6.lport);
		bool allowed = acl_lookup(acl_fd, fam, raddr) == XDPCT_ACL_ALLOW;

		k = next;
		if (!(ports[lport] & XDPCT_PORT_PROTECT) || allowed != to_observed)
			continue;
		if (n == cap) {
			char *nk = realloc(keys, (cap = cap ? cap * 2 : 64) * ksz);

			if (!nk) {
				r = -ENOMEM;
				goto out;
			}
			keys = nk;
		}
		memcpy(keys + n++ * ksz, &next, ksz);
	}
	for (i = 0; i < n; i++) {
		void *key = keys + i * ksz;
		struct xdpct_flow f;

		if (bpf_map_lookup_elem(from, key, &f))
			continue; /* gone meanwhile */
		/* into the protected tables only connections whose handshake
		 * completed: an observed entry may come from a spoofed SYN, and
		 * those must never push out a protected connection */
		if (!to_observed && (f.state < XDPCT_CT_ESTABLISHED || f.state >= XDPCT_CT_SYN_SENT2 ||
				     !(f.tcp_flags[0] & f.tcp_flags[1] & 0x10)))
			continue;
		f.lock = 0;
		if (bpf_map_update_elem(to, key, &f, BPF_NOEXIST) && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		if (!to_observed && fam == 4)
			xdpct_seen_set4(seen, key);
		else if (!to_observed)
			xdpct_seen_set6(seen, key);
		bpf_map_delete_elem(from, key);
		(*moved)++;
	}
out:
	free(keys);
	return r;
}

int acl_move_flows(const char *pin_dir, int acl_fd, unsigned int *moved)
{
	static const char *const pnames[2] = { XDPCT_MAP_FLOWS4, XDPCT_MAP_FLOWS6 };
	static const char *const onames[2] = { XDPCT_MAP_OBS4, XDPCT_MAP_OBS6 };
	static const size_t ksz[2] = { sizeof(struct xdpct_flow4_key),
				       sizeof(struct xdpct_flow6_key) };
	static __u8 ports[NUM_PORTS];
	struct xdpct_seen seen = { .lock_fd = -1 };
	int pf = -1, p = -1, o = -1, r = 0;

	*moved = 0;
	pf = pinned_map(pin_dir, XDPCT_MAP_PORTS);
	if (pf < 0 || ports_read(pf, ports)) {
		r = -errno;
		goto out;
	}
	if (seen_open_pinned(pin_dir, &seen)) {
		r = -EINVAL;
		goto out;
	}
	for (int i = 0; i < 2 && !r; i++) {
		p = pinned_map(pin_dir, pnames[i]);
		o = pinned_map(pin_dir, onames[i]);
		if (p < 0 || o < 0) {
			r = -errno;
			break;
		}
		r = move_flows(p, o, ksz[i], i ? 6 : 4, acl_fd, ports, true, NULL, moved);
		if (!r)
			r = move_flows(o, p, ksz[i], i ? 6 : 4, acl_fd, ports, false, &seen,
				       moved);
		close(p);
		close(o);
		p = o = -1;
	}
out:
	if (p >= 0)
		close(p);
	if (o >= 0)
		close(o);
	if (pf >= 0)
		close(pf);
	xdpct_seen_close(&seen);
	return r;
}

static void acl_usage(const char *cmd)
{
	bool allow = !strcmp(cmd, "allow");

	printf("Usage: xdpct %s add IFACE PREFIX...\n"
	       "       xdpct %s del IFACE PREFIX...\n"
	       "       xdpct %s list IFACE [-j]\n"
	       "       xdpct %s flush IFACE\n"
	       "       (--pin-dir DIR in place of IFACE: maps pinned by `ip link`/`tc`)\n"
	       "\n"
	       "%s\n"
	       "PREFIX is ADDR or ADDR/LEN, IPv4 or IPv6 (10.0.0.0/8, 2001:db8::/32,\n"
	       "192.0.2.7); the longest prefix of either list decides. Changes apply\n"
	       "at once to the running programs: no reload. Connections that change\n"
	       "tables (allowed now, or no longer) move with their entries.\n"
	       "\n"
	       "Options:\n"
	       "  -d, --pin-dir DIR   the pin directory (default %s/IFACE)\n"
	       "  -j, --json          list as a JSON array of prefixes\n"
	       "  -h, --help          this help\n",
	       cmd, cmd, cmd, cmd,
	       allow ? "Sources whose SYNs to protected ports go to the kernel, never a cookie:\n"
		       "their connections are tracked as on an observed port (never dropped\n"
		       "by xdpct). For known clients, monitoring, peers behind a NAT that\n"
		       "strips options; a spoofed allowed source reaches the listener as\n"
		       "without xdpct (the kernel's own SYN cookies protect it)."
		     : "Sources whose every segment to a protected port is dropped (counted in\n"
		       "drop_denied), established connections included. Other ports, and a\n"
		       "router's transit traffic (--local-only), are not xdpct's to filter.",
	       XDPCT_PIN_ROOT);
}

static int acl_print(int acl_fd, __u8 action, bool json)
{
	struct xdpct_acl_key *keys;
	size_t n, i, shown = 0;
	__u8 *acts;
	char p[64];
	int r = acl_read(acl_fd, &keys, &acts, &n);

	if (r) {
		err("cannot read %s: %s", XDPCT_MAP_ACL, strerror(-r));
		return EXIT_FAIL;
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		if (acts[i] != action)
			continue;
		acl_format(&keys[i], p, sizeof(p));
		if (json) {
			printf("%s", shown ? "," : "");
			json_string(stdout, p);
		} else {
			printf("%s\n", p);
		}
		shown++;
	}
	if (json)
		printf("]\n");
	free(keys);
	free(acts);
	return EXIT_OK;
}

static int acl_flush(int acl_fd, __u8 action, size_t *removed)
{
	struct xdpct_acl_key *keys;
	size_t n, i;
	__u8 *acts;
	int r = acl_read(acl_fd, &keys, &acts, &n);

	*removed = 0;
	if (r) {
		err("cannot read %s: %s", XDPCT_MAP_ACL, strerror(-r));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (acts[i] == action && !bpf_map_delete_elem(acl_fd, &keys[i]))
			(*removed)++;
	free(keys);
	free(acts);
	return 0;
}

/* `xdpct allow|deny add|del|list|flush`. */
static int cmd_acl(__u8 action, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd = acl_name(action), *op, *ifname = NULL, *pin_arg = NULL;
	char pin_dir[PATH_MAX], list[4096] = "";
	struct xdpct_acl_key *keys = NULL;
	int c, acl_fd = -1, config_fd = -1, ret = EXIT_FAIL, first;
	unsigned int moved = 0, ifindex;
	bool json = false;
	size_t n = 0, removed = 0;

	while ((c = getopt_long(argc, argv, ":d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': pin_arg = optarg; break;
		case 'j': json = true; break;
		case 'h': acl_usage(cmd); return EXIT_OK;
		default: return getopt_usage_err(cmd, c, argv);
		}
	}
	if (optind >= argc)
		return usage_err(cmd, "missing action: add, del, list or flush");
	op = argv[optind++];
	if (strcmp(op, "add") && strcmp(op, "del") && strcmp(op, "list") && strcmp(op, "flush"))
		return usage_err(cmd, "unknown action '%s' (add, del, list or flush)", op);
	if (!pin_arg) {
		if (optind >= argc)
			return usage_err(cmd, "missing interface (or --pin-dir)");
		ifname = argv[optind++];
	}
	first = optind;
	if (!strcmp(op, "add") || !strcmp(op, "del")) {
		if (first >= argc)
			return usage_err(cmd, "%s: missing PREFIX", op);
		for (int i = first; i < argc; i++) {
			size_t l = strlen(list);

			snprintf(list + l, sizeof(list) - l, "%s%s", l ? "," : "", argv[i]);
		}
		if (strlen(list) >= sizeof(list) - 1)
			return usage_err(cmd, "too many prefixes at once");
		if (acl_parse_list(cmd, "PREFIX", list, &keys, &n)) {
			free(keys);
			return EXIT_USAGE;
		}
	} else if (first < argc) {
		return usage_err(cmd, "unexpected argument '%s'", argv[first]);
	}
	if (json && strcmp(op, "list")) {
		free(keys);
		return usage_err(cmd, "--json goes with list");
	}

	if (check_caps(XDPCT_CAPS_MAPS))
		goto out;
	if (pin_arg) {
		snprintf(pin_dir, sizeof(pin_dir), "%s", pin_arg);
	} else {
		if (check_ifname(ifname, &ifindex) ||
		    default_pin_dir(pin_dir, sizeof(pin_dir), ifname))
			goto out;
	}
	acl_fd = pinned_map(pin_dir, XDPCT_MAP_ACL);
	if (acl_fd < 0) {
		if (!path_exists(pin_dir))
			err("xdpct is not attached to %s (no %s)", ifname ? ifname : pin_dir, pin_dir);
		else
			err("cannot open %s/%s: %s (maps of an xdpct without lists: 'xdpct reload')",
			    pin_dir, XDPCT_MAP_ACL, strerror(errno));
		goto out;
	}
	if (!strcmp(op, "list")) {
		ret = acl_print(acl_fd, action, json);
		goto out;
	}
	config_fd = pinned_map(pin_dir, XDPCT_MAP_CONFIG);
	if (config_fd < 0) {
		err("cannot open %s/%s: %s", pin_dir, XDPCT_MAP_CONFIG, strerror(errno));
		goto out;
	}
	if (!strcmp(op, "add") ? acl_add(acl_fd, keys, n, action) :
	    !strcmp(op, "del") ? acl_del(acl_fd, keys, n, action) :
				 acl_flush(acl_fd, action, &removed))
		goto out;
	/* the flag first: the data path must see the new list before the
	 * moved entries are where it will look */
	if (acl_flag_sync(config_fd, acl_fd))
		goto out;
	group_acl_sync(pin_dir, acl_fd); /* the lists are the group's */
	c = acl_move_flows(pin_dir, acl_fd, &moved);
	if (c)
		warn("cannot move the flows of the changed sources: %s", strerror(-c));
	if (!strcmp(op, "flush"))
		info("%s list of %s: %zu prefix%s removed; %u flow%s moved", cmd,
		     ifname ? ifname : pin_dir, removed, removed == 1 ? "" : "es", moved,
		     moved == 1 ? "" : "s");
	else
		info("%s list of %s: %zu prefix%s %s; %u flow%s moved", cmd,
		     ifname ? ifname : pin_dir, n, n == 1 ? "" : "es",
		     !strcmp(op, "add") ? "added" : "removed", moved, moved == 1 ? "" : "s");
	ret = EXIT_OK;
out:
	free(keys);
	if (acl_fd >= 0)
		close(acl_fd);
	if (config_fd >= 0)
		close(config_fd);
	return ret;
}

int cmd_allow(int argc, char **argv)
{
	return cmd_acl(XDPCT_ACL_ALLOW, argc, argv);
}

int cmd_deny(int argc, char **argv)
{
	return cmd_acl(XDPCT_ACL_DENY, argc, argv);
}
