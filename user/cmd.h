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

/* config.c: fill the config from this netns's sysctls and the MTU of ifname
 * (NULL: assume 1500). A fresh SipHash key; with old enabled, the old key
 * becomes key_prev so cookies already sent stay valid. One-line errors. */
int config_build(struct xdpct_config *cfg, const char *ifname,
		 const struct xdpct_config *old);
/* Check that the two maps have xdpct's shapes. */
int config_maps_check(int config_fd, int ports_fd);
/* Write the whole ports map, then the config (enabling cookies last). */
int config_write(int config_fd, int ports_fd, const __u8 ports[NUM_PORTS],
		 const struct xdpct_config *cfg);
/* Print the config summary line used by attach and config -v. */
void config_describe(const struct xdpct_config *cfg);

/* tc.c: our filters on a clsact hook, found by program id (or by name when
 * id is 0). Return the number removed or -errno. */
int tc_detach_ours(int ifindex, bool ingress, __u32 prog_id,
		   const char *prog_name);
/* Number of filters on the ingress + egress hooks of clsact, or -errno. */
int tc_count_filters(int ifindex);

#endif /* XDPCT_CMD_H */
