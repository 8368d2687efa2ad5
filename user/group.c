// SPDX-License-Identifier: GPL-2.0
/* Groups: `xdpct attach IF2 --share IF1` puts the programs on IF2 over
 * IF1's maps (flow tables, ports, lists, counters...) with IF1's cookie
 * key in IF2's own config (its MAC, MSS and TTL are its own), so that a
 * connection whose packets come in on either link (ECMP, failover) has one
 * entry and one key. The member's pin directory holds pins of the shared
 * maps under their names: every command works on it as on IF1. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cmd.h"

int group_members(unsigned int ifindex, char (*names)[16], int max)
{
	char root[PATH_MAX], dir[PATH_MAX + 300];
	struct xdpct_owner o;
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (netns_pin_root(root, sizeof(root)))
		return -EINVAL;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= 16 ||
		    !strncmp(de->d_name, "netns:", 6))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		memset(&o, 0, sizeof(o));
		if (owner_read(dir, &o) || !(o.flags & XDPCT_OWNER_MEMBER) || o.group != ifindex)
			continue;
		snprintf(names[n++], 16, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* fn(config fd, arg) on the config of each interface of names[0..n):
 * what failed is named in a warning (why). -1 if something did. */
static int each_config(char (*names)[16], int n, int (*fn)(int, const void *), const void *arg,
		       const char *why)
{
	char dir[PATH_MAX];
	int fd, r, ret = 0;

	for (int i = 0; i < n; i++) {
		if (default_pin_dir(dir, sizeof(dir), names[i]))
			continue;
		fd = pinned_map(dir, XDPCT_MAP_CONFIG);
		r = fd < 0 ? -errno : fn(fd, arg);
		if (fd >= 0)
			close(fd);
		if (r) {
			warn("%s: %s: %s", names[i], why, r < 0 ? strerror(-r) : "failed");
			ret = -1;
		}
	}
	return ret;
}

static int sync_one(int fd, const void *cfg)
{
	return config_sync_group(fd, cfg);
}

int group_sync(unsigned int ifindex, const struct xdpct_config *cfg)
{
	char names[64][16];
	int n = group_members(ifindex, names, 64);

	return n > 0 ? each_config(names, n, sync_one, cfg, "cannot take the group's key") : 0;
}

int group_pin_shared(const char *primary_dir, const char *dir)
{
	char from[PATH_MAX + 300], to[PATH_MAX + 300];
	struct dirent *de;
	int fd, r = 0;
	DIR *d = opendir(primary_dir);

	if (!d)
		return -errno;
	while ((de = readdir(d)) && !r) {
		/* maps only: the primary's programs and links stay its own */
		if (strncmp(de->d_name, "xdpct_", 6) || !strcmp(de->d_name, XDPCT_MAP_CONFIG) ||
		    !strcmp(de->d_name, XDPCT_MAP_OWNER))
			continue;
		snprintf(from, sizeof(from), "%s/%s", primary_dir, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, de->d_name);
		fd = bpf_obj_get(from);
		if (fd < 0) {
			r = -errno;
			break;
		}
		if (bpf_obj_pin(fd, to))
			r = -errno;
		close(fd);
	}
	closedir(d);
	return r;
}

void group_take_key(struct xdpct_config *cfg, const struct xdpct_config *primary)
{
	memcpy(cfg->keys, primary->keys, sizeof(cfg->keys));
	cfg->key_sel = primary->key_sel;
	cfg->slot_shift = primary->slot_shift;
	cfg->clock_offset_ns = primary->clock_offset_ns;
	cfg->key_epoch = primary->key_epoch;
	cfg->key_set_ns = primary->key_set_ns;
	cfg->flags = (cfg->flags & ~(__u32)(XDPCT_CFG_PREV_KEY | XDPCT_CFG_FLEET)) |
		     (primary->flags & (XDPCT_CFG_PREV_KEY | XDPCT_CFG_FLEET));
	memcpy(cfg->timeout_s, primary->timeout_s, sizeof(cfg->timeout_s));
	cfg->pending_timeout_s = primary->pending_timeout_s;
}

int group_primary_dir(const char *pin_dir, char *buf, size_t len, char *ifname)
{
	struct xdpct_owner o = {};
	char name[IF_NAMESIZE];

	if (owner_read(pin_dir, &o) || !(o.flags & XDPCT_OWNER_MEMBER))
		return -ENOENT;
	if (!if_indextoname(o.group, name))
		return -ENODEV;
	if (ifname)
		snprintf(ifname, IF_NAMESIZE, "%s", name);
	return default_pin_dir(buf, len, name) ? -EINVAL : 0;
}

/* The primary's ifindex of pin_dir's group (itself when not a member), 0
 * when unknown. */
static unsigned int group_of(const char *pin_dir)
{
	struct xdpct_owner o = {};

	if (owner_read(pin_dir, &o))
		return 0;
	return o.flags & XDPCT_OWNER_MEMBER ? o.group : o.ifindex;
}

static int acl_one(int fd, const void *acl_fd)
{
	return acl_flag_sync(fd, *(const int *)acl_fd) ? 1 : 0;
}

void group_acl_sync(const char *pin_dir, int acl_fd)
{
	char names[65][16];
	unsigned int g = group_of(pin_dir);
	int n;

	if (!g || !if_indextoname(g, names[0]))
		return;
	n = group_members(g, names + 1, 64);
	if (n > 0) /* no group: the caller's config is the only one */
		each_config(names, n + 1, acl_one, &acl_fd,
			    "the lists may not apply until their next change");
}

void group_sync_dir(const char *pin_dir)
{
	struct xdpct_owner o = {};
	struct xdpct_config cfg;
	__u32 zero = 0;
	int fd;

	if (owner_read(pin_dir, &o) || (o.flags & XDPCT_OWNER_MEMBER) || !o.ifindex)
		return;
	fd = pinned_map(pin_dir, XDPCT_MAP_CONFIG);
	if (fd < 0)
		return;
	if (!bpf_map_lookup_elem(fd, &zero, &cfg))
		group_sync(o.ifindex, &cfg);
	close(fd);
}
