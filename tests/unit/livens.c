// SPDX-License-Identifier: GPL-2.0
/* tests/unit/livens.h */
#define _GNU_SOURCE /* unshare() */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "livens.h"

const uint8_t LIVENS_ADDR4[4] = { 10, 77, 0, 2 };
const uint8_t LIVENS_ADDR6[16] = { 0xfd, 0x77, [15] = 2 };

int livens_setup(char *why, size_t wlen)
{
	struct ifreq ifr;
	struct sockaddr_in sin;
	struct in6_ifreq {
		struct in6_addr addr;
		uint32_t prefixlen;
		int ifindex;
	} r6;
	int fd4 = -1, fd6 = -1, ret = -1;

	if (unshare(CLONE_NEWNET)) {
		snprintf(why, wlen, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	fd4 = socket(AF_INET, SOCK_DGRAM, 0);
	fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd4 < 0 || fd6 < 0) {
		snprintf(why, wlen, "socket: %s", strerror(errno));
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd4, SIOCGIFFLAGS, &ifr) || (ifr.ifr_flags |= IFF_UP, ioctl(fd4, SIOCSIFFLAGS, &ifr))) {
		snprintf(why, wlen, "lo up: %s", strerror(errno));
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:1");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, LIVENS_ADDR4, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(fd4, SIOCSIFADDR, &ifr)) {
		snprintf(why, wlen, "10.77.0.2 on lo: %s", strerror(errno));
		goto out;
	}
	memset(&r6, 0, sizeof(r6));
	memcpy(&r6.addr, LIVENS_ADDR6, 16);
	r6.prefixlen = 128;
	r6.ifindex = (int)if_nametoindex("lo");
	if (ioctl(fd6, SIOCSIFADDR, &r6)) {
		snprintf(why, wlen, "fd77::2 on lo: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	return ret;
}
