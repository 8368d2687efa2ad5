/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands and the pieces they share. */
#ifndef XDPCT_CMD_H
#define XDPCT_CMD_H

#include <stdbool.h>
#include <linux/types.h>

#include "xdpct.h"
#include "util.h"

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_conns(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_synlimit(int argc, char **argv);
int cmd_nat(int argc, char **argv);

/* nat.c: the NAT handover attachments (xdpct_nat) of a pin directory.
 * Print them (text lines after indent, or a JSON array): how many.
 * Remove them all (detach): 0 or -errno. */
int nat_print(FILE *f, const char *pin_dir, bool json, const char *indent);
int nat_remove_all(const char *pin_dir);

/* synlimit.c. RATE[/BURST] and the prefix lengths "IPV4[,IPV6]" (NULL:
 * 24,64) into l: 0, or EXIT_USAGE after a usage error naming cmd. */
int synlimit_parse(const char *cmd, const char *spec, const char *prefixes,
		   struct xdpct_synlimit *l);
/* l into the limit map, the buckets emptied. 0, or -1 after an error. */
int synlimit_write(int limit_fd, int rate_fd, const struct xdpct_synlimit *l);
void synlimit_describe(const struct xdpct_synlimit *l, char *buf, size_t len);
void synlimit_json(FILE *f, const struct xdpct_synlimit *l);

/* profile.c. --profile PORTS:SETTINGS (specs[0..n)) into the protected
 * ports' high bits and table (slot 0: none): 0, or EXIT_USAGE after a
 * usage error naming cmd. */
int profiles_parse(const char *cmd, const char *const *specs, int n, __u8 ports[NUM_PORTS],
		   struct xdpct_profile table[XDPCT_PROFILES_MAX]);
int profiles_write(int fd, const struct xdpct_profile table[XDPCT_PROFILES_MAX]);
int profiles_read(int fd, struct xdpct_profile table[XDPCT_PROFILES_MAX]);
bool profiles_have(const struct xdpct_profile table[XDPCT_PROFILES_MAX], __u8 handover);
/* "mss=1360,mss6=1340,no-ecn" */
void profile_describe(const struct xdpct_profile *p, char *buf, size_t len);
/* "443,8443:mss=1360,mss6=1340 22:no-ts" (none: "none"), or a JSON array */
void profiles_print(FILE *f, const __u8 ports[NUM_PORTS],
		    const struct xdpct_profile table[XDPCT_PROFILES_MAX], bool json);
int cmd_states(int argc, char **argv);
int cmd_evict(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_pin_dir(int argc, char **argv);
int cmd_allow(int argc, char **argv);
int cmd_deny(int argc, char **argv);

/* acl.c: the allow and deny lists (xdpct_acl). */
int acl_parse(const char *arg, struct xdpct_acl_key *k); /* -1 bad, -2 host bits */
void acl_format(const struct xdpct_acl_key *k, char *buf, size_t len);
int acl_parse_list(const char *cmd, const char *opt, const char *list,
		   struct xdpct_acl_key **keys, size_t *n);
int acl_read(int acl_fd, struct xdpct_acl_key **keys, __u8 **actions, size_t *n);
int acl_add(int acl_fd, const struct xdpct_acl_key *keys, size_t n, __u8 action);
int acl_del(int acl_fd, const struct xdpct_acl_key *keys, size_t n, __u8 action);
int acl_flag_sync(int config_fd, int acl_fd);
__u8 acl_lookup(int acl_fd, __u8 family, const __be32 *raddr); /* -1 fd: 0 */
int acl_move_flows(const char *pin_dir, int acl_fd, unsigned int *moved);

/* attach.c: attach to an interface, or, when its pin directory exists,
 * reload: new programs replace the attached ones in place over the
 * pinned maps. Messages on the info stream; one-line errors. */
enum setup_how {
	SETUP_ATTACH, /* tracking options required */
	SETUP_RELOAD, /* must be attached; tracking options optional */
	SETUP_RUN,    /* either; tracking options required to attach */
};
struct setup_opts {
	const char *cmd;       /* for usage errors */
	enum setup_how how;
	const char *ifname;
	const char *ports, *observe;
	bool track_all;
	bool cookie_nots_options; /* XDPCT_CFG_NOTS_OPTIONS; with the above */
	const char *cookie_slot;  /* --cookie-slot SECONDS, or NULL */
	const char *mode;      /* NULL: native, or the current mode on reload */
	const char *max_conns; /* NULL: default, or the pinned size on reload */
	const char *max_observed; /* the same, for the observed tables */
	const char *pin_dir;   /* NULL: XDPCT_PIN_ROOT/IFACE */
	char allow[4096];      /* --allow/--deny, comma-joined when repeated */
	char deny[4096];
	bool acl_too_long;
	const char *share;            /* attach --share IFACE: its maps and key */
	const char *syn_limit;        /* --syn-limit RATE[/BURST], or NULL */
	const char *syn_limit_prefix; /* --syn-limit-prefix IPV4[,IPV6] */
	const char *profiles[XDPCT_PROFILES_MAX]; /* --profile, repeatable */
	int nprofiles;
	bool profiles_too_many;
};
struct setup_result {
	bool reloaded;
	unsigned int ifindex;
	char pin_dir[4096];
};
/* EXIT_OK, EXIT_FAIL or EXIT_USAGE. */
int xdpct_setup(const struct setup_opts *o, struct setup_result *res);
/* The attach options, for the getopt tables of attach, reload and run
 * (long-only ones get codes past any character). */
#define OPT_COOKIE_NOTS 0x101
#define OPT_COOKIE_SLOT 0x102
#define OPT_ALLOW 0x103
#define OPT_DENY 0x104
#define OPT_SYN_LIMIT 0x105
#define OPT_SYN_LIMIT_PREFIX 0x106
#define OPT_PROFILE 0x107
#define OPT_AUTO 0x108      /* run only */
#define OPT_AUTO_RATE 0x109
#define OPT_AUTO_HOLD 0x10a
#define OPT_ETCD 0x1f0      /* run only */
#define OPT_FLEET 0x1f1
#define OPT_ETCD_LEASE 0x1f2
#define OPT_SHARE 0x10b     /* attach only */
#define ATTACH_SHORTOPTS "p:o:am:n:N:d:"
#define ATTACH_LONGOPTS                                   \
	{ "ports", required_argument, NULL, 'p' },        \
	{ "observe", required_argument, NULL, 'o' },      \
	{ "track-all", no_argument, NULL, 'a' },          \
	{ "cookie-nots-options", no_argument, NULL, OPT_COOKIE_NOTS }, \
	{ "cookie-slot", required_argument, NULL, OPT_COOKIE_SLOT }, \
	{ "mode", required_argument, NULL, 'm' },         \
	{ "max-conns", required_argument, NULL, 'n' },    \
	{ "max-observed", required_argument, NULL, 'N' }, \
	{ "pin-dir", required_argument, NULL, 'd' },      \
	{ "allow", required_argument, NULL, OPT_ALLOW },  \
	{ "deny", required_argument, NULL, OPT_DENY },    \
	{ "syn-limit", required_argument, NULL, OPT_SYN_LIMIT }, \
	{ "syn-limit-prefix", required_argument, NULL, OPT_SYN_LIMIT_PREFIX }, \
	{ "profile", required_argument, NULL, OPT_PROFILE }
/* 1 if opt is one of them (stored in o), 0 if not. */
int attach_opt(int opt, const char *arg, struct setup_opts *o);
/* What `xdpct detach` does: EXIT_OK or EXIT_FAIL, messages printed. */
int xdpct_detach(const char *ifname, const char *pin_arg);

/* Whose a pin directory is: a one-entry array pinned as xdpct_owner by
 * attach (user space only; the programs never read it). bpffs is shared by
 * every network namespace, so a directory found there may be another
 * namespace's, or an interface's that was deleted and made again. */
#define XDPCT_MAP_OWNER "xdpct_owner"
enum xdpct_owner_flags {
	XDPCT_OWNER_CLSACT = 1, /* xdpct made the clsact qdisc: detach may remove it */
	XDPCT_OWNER_MEMBER = 2, /* attached with --share: the maps (but the
				 * config) are those of the interface `group` */
};
struct xdpct_owner {
	__u64 netns_cookie;
	__u32 ifindex;
	__u32 flags;    /* enum xdpct_owner_flags */
	__u32 group;    /* XDPCT_OWNER_MEMBER: the ifindex whose maps these are */
	__u32 pad;
};
/* 0 and *o, -ENOENT when the directory has no record (pins of an older
 * xdpct, or iproute2's), or another -errno. */
int owner_read(const char *dir, struct xdpct_owner *o);
/* The directory's verdict for IFACE (ifindex 0: gone) in this namespace:
 * 0 ours, 1 of an earlier interface of that name (stale), -1 another
 * namespace's (a one-line error, unless quiet). Without a record, the
 * config's netns cookie decides; with neither, ours. */
int owner_check(const char *dir, unsigned int ifindex, bool quiet);

/* group.c: interfaces that share one interface's maps and key (attach
 * --share). Members of ifindex in this namespace's default pin root, their
 * names into names[max]: how many (-errno). */
int group_members(unsigned int ifindex, char (*names)[16], int max);
/* The group's part of the primary's config cfg (key, key_sel, slot,
 * epoch; the tracking flags; the timeouts) into every member's config, the
 * key in the order the data path relies on. 0, or -1 after a warning. */
int group_sync(unsigned int ifindex, const struct xdpct_config *cfg);
/* After a change of the (shared) lists: the XDPCT_CFG_ACL flag of every
 * config of pin_dir's group, primary and members (acl_flag_sync). */
void group_acl_sync(const char *pin_dir, int acl_fd);
/* pin_dir's group read from the primary's config, into every member: after
 * a write of the primary's config (attach, reload, config). */
void group_sync_dir(const char *pin_dir);
/* Make dir a member's pin directory: the pins of the primary's maps (all
 * but its config and owner record) under the same names. 0 or -errno. */
int group_pin_shared(const char *primary_dir, const char *dir);
/* The member's config takes the primary's key before it goes live. */
void group_take_key(struct xdpct_config *cfg, const struct xdpct_config *primary);
/* A member's pin directory: its primary's into buf (and its name into
 * ifname, IF_NAMESIZE, unless NULL). 0; -ENOENT: not a member. */
int group_primary_dir(const char *pin_dir, char *buf, size_t len, char *ifname);
/* The group's part of p into the mapped config of a member (config.c). */
int config_sync_group(int config_fd, const struct xdpct_config *p);

/* config.c: fill the config from this netns's sysctls and the MTU of ifname
 * (NULL: assume 1500). A fresh SipHash key; with old enabled, the old key
 * becomes key_prev so cookies already sent stay valid; the old config's
 * timeouts (set by `xdpct run`) are kept. One-line errors. */
int config_build(struct xdpct_config *cfg, const char *ifname,
		 const struct xdpct_config *old);
/* Writes cfg into the config map so that the data path never reads a
 * half-written key (include/xdpct.h): through a mapping, a new key into
 * the unused slot, then key_sel, then the flags. cfg as config_build()
 * makes it (the wanted key in keys[key_sel & 1]); a key equal to the
 * map's newest keeps the map's keys. 0; 1: a new key was wanted but the
 * newest one still signs the current slot's cookies: kept, the rest
 * written (retry after config_key_free_ns()); -1 after a one-line error. */
int config_commit(int config_fd, const struct xdpct_config *cfg);
/* --cookie-slot SECONDS (1-137): the slot shift of the nearest power of
 * two of nanoseconds. 0, or -1 for a bad value. */
int parse_cookie_slot(const char *arg, __u8 *shift);
/* The cookie slot of now on cfg's clock (CLOCK_MONOTONIC_COARSE plus
 * cfg->clock_offset_ns), *ns that clock's nanoseconds. */
__u64 config_slot_now(const struct xdpct_config *cfg, unsigned int shift, __u64 *ns);
/* When a rotation can next commit (CLOCK_MONOTONIC_COARSE ns). */
__u64 config_key_free_ns(const struct xdpct_config *cfg);
/* The interface's MAC and this namespace's netns cookie into cfg; and,
 * with local_fd >= 0, this namespace's addresses into xdpct_local and
 * XDPCT_CFG_LOCAL_ONLY into cfg->flags. One-line error, -1. */
int config_host(struct xdpct_config *cfg, const char *ifname, int local_fd);
/* The config map mmap()ed for stores in an order the data path relies
 * on; NULL after a one-line error. config_unmap() releases it. */
struct xdpct_config *config_map(int config_fd);
void config_unmap(struct xdpct_config *m);
/* Check that the two maps have xdpct's shapes. */
int config_maps_check(int config_fd, int ports_fd);
/* Write the whole ports map, then the config (enabling cookies last). */
int config_write(int config_fd, int ports_fd, const __u8 ports[NUM_PORTS],
		 const struct xdpct_config *cfg);
/* Print the config summary line used by attach and config -v. */
void config_describe(const struct xdpct_config *cfg);
/* The ports from --ports / --observe and --track-all: fills ports (zeroed
 * first) and sets XDPCT_CFG_TRACK_ALL in *cfg_flags. One of the three is
 * required. Returns 0, EXIT_USAGE after a usage error, EXIT_FAIL after a
 * bad list. */
int tracking_parse(const char *cmd, const char *protect, const char *observe,
		   bool track_all, __u8 ports[NUM_PORTS], __u32 *cfg_flags);
/* "protecting ports 80, observing ports 22, tracking all TCP flows" */
void tracking_describe(const __u8 ports[NUM_PORTS], __u32 cfg_flags, char *buf,
		       size_t len);

/* The four flow tables: protected (entries proved by a cookie, a local
 * SYN or a kernel socket) and observed (from unvalidated SYNs), per family.
 * -1: not open. */
struct flow_fds {
	int p4, p6; /* xdpct_flows4/6 */
	int o4, o6; /* xdpct_observed4/6 */
	int acl;    /* xdpct_acl (an allowed remote's flows are observed); -1 */
};

/* local.c: xdpct_local, this namespace's addresses. sync: the map becomes
 * the dump's set (count: addresses). watch: a netlink socket subscribed to
 * address changes (non-blocking); watch_read applies what it got (the
 * number of changes, -1 on error). */
struct mnl_socket;
int local_addrs_sync(int fd, unsigned int *count);
struct mnl_socket *local_addrs_watch(void);
int local_addrs_watch_read(struct mnl_socket *nl, int fd);

/* adopt.c: seed flow entries (flags XDPCT_FLOW_ADOPTED, BPF_NOEXIST) for
 * the TCP sockets of this netns that the ports / track_all make tracked,
 * listeners excepted; loopback addresses are skipped unless ifname is a
 * loopback device. Each entry's bit is set in seen (xdpct_seen; NULL or
 * unmapped: maps of a build without it). *adopted = entries inserted.
 * 0 or -errno. */
struct xdpct_seen;
int adopt_sockets(const struct flow_fds *t, const struct xdpct_seen *seen,
		  const __u8 ports[NUM_PORTS], bool track_all, const char *ifname,
		  unsigned int *adopted);
/* The generic keys of this namespace's TCP sockets (listeners and request
 * sockets aside) whose local port is protected: for the xdpct_seen
 * rebuild. *keys is malloc()ed. 0 or -errno. */
int protected_socket_keys(const __u8 ports[NUM_PORTS], struct xdpct_flow_key **keys,
			  size_t *n);

/* seen.c: the xdpct_seen bitmap (xdpct_seen.h). Errors get one line and
 * return -1. seen_attach_map: mmap() a loaded map (lock: the pin
 * directory). seen_open_pinned: the pinned one; none pinned (maps of a
 * build without it) is no error, s->w stays NULL. seen_rebuild: the keys
 * of both protected tables and the sockets on protected ports (ports_fd
 * < 0: none); no-op without a mapping. */
int seen_attach_map(int map_fd, const char *pin_dir, struct xdpct_seen *s);
int seen_open_pinned(const char *pin_dir, struct xdpct_seen *s);
int seen_rebuild(const struct xdpct_seen *s, int fd4, int fd6, int ports_fd);
int ports_read(int fd, __u8 ports[NUM_PORTS]); /* the ports map, whole */

/* stats.c: the counters summed over CPUs (0 or -errno; -EINVAL: not a
 * stats map), their names ("pass_flow"), help and ids ("V_PASS_FLOW"). */
int stats_read(int fd, __u64 sums[XDPCT_STAT_MAX]);
const char *stat_name(int i);
const char *stat_help_text(int i);
const char *stat_id(int i);

/* TCX (Linux 6.6+): BPF links on the interface's ingress and egress, no
 * qdisc; the attach types libbpf 1.1's headers lack. */
#define XDPCT_TCX_INGRESS 46 /* BPF_TCX_INGRESS */
#define XDPCT_TCX_EGRESS 47  /* BPF_TCX_EGRESS */
/* Whether prog_id runs on the TCX hook: 1, 0, or -errno. */
int tcx_find(int ifindex, bool ingress, __u32 prog_id);

/* tc.c: our filters on a clsact hook, found by program id (or by name when
 * id is 0). Return the number removed or -errno. */
int tc_detach_ours(int ifindex, bool ingress, __u32 prog_id,
		   const char *prog_name);
/* Number of filters on the ingress + egress hooks of clsact, or -errno. */
int tc_count_filters(int ifindex);
/* Handle and priority of the filter running prog_id on a clsact hook:
 * 1 found, 0 not there, -errno. */
int tc_find_ours(int ifindex, bool ingress, __u32 prog_id, __u32 *handle,
		 __u32 *prio);

#endif /* XDPCT_CMD_H */
