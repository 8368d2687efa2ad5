/* SPDX-License-Identifier: GPL-2.0 */
/* Hash map helpers of the unit tests (64-byte buffers hold any of our
 * keys). */
#ifndef XDPCT_MAPUTIL_H
#define XDPCT_MAPUTIL_H

/* Entries of one hash map. */
int map_count(int fd);
/* Every entry out. */
void map_clear(int fd);

#endif
