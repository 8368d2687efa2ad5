/* SPDX-License-Identifier: GPL-2.0 */
/* A network namespace of this process for unit tests that need a kernel
 * socket (re-adoption): lo up, one address per family that is no martian,
 * so that a connection to itself looks to XDP like one from a host. */
#ifndef XDPCT_LIVENS_H
#define XDPCT_LIVENS_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t LIVENS_ADDR4[4];  /* 10.77.0.2 */
extern const uint8_t LIVENS_ADDR6[16]; /* fd77::2 */

/* unshare(CLONE_NEWNET) and the addresses: 0, or -1 with why filled. */
int livens_setup(char *why, size_t wlen);

#endif
