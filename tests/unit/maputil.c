// SPDX-License-Identifier: GPL-2.0
/* tests/unit/maputil.h */
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>

#include "maputil.h"

int map_count(int fd)
{
	uint8_t k[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

void map_clear(int fd)
{
	uint8_t k[64];

	while (!bpf_map_get_next_key(fd, NULL, k))
		if (bpf_map_delete_elem(fd, k))
			break;
}
