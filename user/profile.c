// SPDX-License-Identifier: GPL-2.0
/* Per-port SYN-ACK profiles (include/xdpct.h): --profile PORTS:SETTINGS
 * into the ports' high bits and xdpct_profiles, and back into words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cmd.h"

#define MSS4_MIN 536
#define MSS6_MIN 1220

static const struct {
	const char *name;
	__u8 bit;
} offs[] = {
	{ "no-sack", XDPCT_PROF_NO_SACK },
	{ "no-ts", XDPCT_PROF_NO_TS },
	{ "no-wscale", XDPCT_PROF_NO_WSCALE },
	{ "no-ecn", XDPCT_PROF_NO_ECN },
};

/* SETTINGS ("mss=1360,no-ecn") into p. 0, or EXIT_USAGE after an error. */
static int settings_parse(const char *cmd, const char *spec, char *s, struct xdpct_profile *p)
{
	unsigned long long v;
	bool mss6_given = false;
	char *tok, *save = NULL;

	memset(p, 0, sizeof(*p));
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (!strncmp(tok, "mss=", 4)) {
			if (parse_u64(tok + 4, MSS4_MIN, 65535, &v))
				return usage_err(cmd, "--profile '%s': bad mss '%s' (%d-65535)", spec,
						 tok + 4, MSS4_MIN);
			p->mss4 = v;
			if (!mss6_given)
				p->mss6 = v - 20 < MSS6_MIN ? MSS6_MIN : v - 20;
			continue;
		}
		if (!strncmp(tok, "auto-rate=", 10)) {
			if (parse_u64(tok + 10, 1, 1000000000, &v))
				return usage_err(cmd, "--profile '%s': bad auto-rate '%s' (1-1000000000 SYNs/s)",
						 spec, tok + 10);
			p->auto_rate = v;
			continue;
		}
		if (!strcmp(tok, "nat") || !strcmp(tok, "proxy")) {
			__u8 h = tok[0] == 'n' ? XDPCT_HANDOVER_NAT : XDPCT_HANDOVER_PROXY;

			if (p->handover && p->handover != h)
				return usage_err(cmd, "--profile '%s': nat and proxy exclude each other",
						 spec);
			p->handover = h;
			continue;
		}
		if (!strncmp(tok, "mss6=", 5)) {
			if (parse_u64(tok + 5, MSS6_MIN, 65535, &v))
				return usage_err(cmd, "--profile '%s': bad mss6 '%s' (%d-65535)", spec,
						 tok + 5, MSS6_MIN);
			p->mss6 = v;
			mss6_given = true;
			continue;
		}
		for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
			if (!strcmp(tok, offs[i].name))
				break;
		if (i == sizeof(offs) / sizeof(offs[0]))
			return usage_err(cmd, "--profile '%s': unknown setting '%s' (mss=N, mss6=N, no-sack, no-ts, no-wscale, no-ecn, auto-rate=N, nat, proxy)",
					 spec, tok);
		p->off |= offs[i].bit;
	}
	if (!p->mss4 && !p->mss6 && !p->off && !p->auto_rate && !p->handover)
		return usage_err(cmd, "--profile '%s': no setting", spec);
	return 0;
}

int profiles_parse(const char *cmd, const char *const *specs, int n, __u8 ports[NUM_PORTS],
		   struct xdpct_profile table[XDPCT_PROFILES_MAX])
{
	static __u8 mine[NUM_PORTS];
	unsigned int used = 1, idx, port;
	struct xdpct_profile p;
	char buf[4096], *colon;

	memset(table, 0, sizeof(*table) * XDPCT_PROFILES_MAX);
	for (int i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", specs[i]);
		colon = strchr(buf, ':');
		if (!colon || colon == buf || !colon[1])
			return usage_err(cmd, "--profile '%s': want PORTS:SETTINGS, e.g. 443:mss=1360,no-ecn",
					 specs[i]);
		*colon = '\0';
		if (settings_parse(cmd, specs[i], colon + 1, &p))
			return EXIT_USAGE;
		memset(mine, 0, sizeof(mine));
		if (parse_ports(buf, mine, 1))
			return EXIT_USAGE;
		/* equal settings share a slot */
		for (idx = 1; idx < used; idx++)
			if (!memcmp(&table[idx], &p, sizeof(p)))
				break;
		if (idx == used) {
			if (used == XDPCT_PROFILES_MAX)
				return usage_err(cmd, "--profile: more than %d different profiles",
						 XDPCT_PROFILES_MAX - 1);
			table[used++] = p;
		}
		for (port = 0; port < NUM_PORTS; port++) {
			if (!mine[port])
				continue;
			if (!(ports[port] & XDPCT_PORT_PROTECT))
				return usage_err(cmd, "--profile '%s': port %u is not protected (--ports)",
						 specs[i], port);
			if (ports[port] >> XDPCT_PORT_PROFILE_SHIFT)
				return usage_err(cmd, "--profile: port %u is in two profiles", port);
			ports[port] |= idx << XDPCT_PORT_PROFILE_SHIFT;
		}
	}
	return 0;
}

int profiles_write(int fd, const struct xdpct_profile table[XDPCT_PROFILES_MAX])
{
	for (__u32 i = 0; i < XDPCT_PROFILES_MAX; i++)
		if (bpf_map_update_elem(fd, &i, &table[i], BPF_ANY)) {
			err("cannot write %s: %s", XDPCT_MAP_PROFILES, strerror(errno));
			return -1;
		}
	return 0;
}

void profile_describe(const struct xdpct_profile *p, char *buf, size_t len)
{
	size_t off = 0, i;

	buf[0] = '\0';
	if (p->mss4)
		off += snprintf(buf + off, len - off, "mss=%u", p->mss4);
	if (p->mss6 && off < len)
		off += snprintf(buf + off, len - off, "%smss6=%u", off ? "," : "", p->mss6);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]) && off < len; i++)
		if (p->off & offs[i].bit)
			off += snprintf(buf + off, len - off, "%s%s", off ? "," : "", offs[i].name);
	if (p->auto_rate && off < len)
		off += snprintf(buf + off, len - off, "%sauto-rate=%u", off ? "," : "", p->auto_rate);
	if (p->handover && off < len)
		snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			 p->handover == XDPCT_HANDOVER_NAT ? "nat" : "proxy");
}

bool profiles_have(const struct xdpct_profile table[XDPCT_PROFILES_MAX], __u8 handover)
{
	for (unsigned int i = 1; i < XDPCT_PROFILES_MAX; i++)
		if (table[i].handover == handover)
			return true;
	return false;
}

int profiles_read(int fd, struct xdpct_profile table[XDPCT_PROFILES_MAX])
{
	for (__u32 i = 0; i < XDPCT_PROFILES_MAX; i++)
		if (bpf_map_lookup_elem(fd, &i, &table[i]))
			return -errno;
	return 0;
}

void profiles_print(FILE *f, const __u8 ports[NUM_PORTS],
		    const struct xdpct_profile table[XDPCT_PROFILES_MAX], bool json)
{
	static __u8 mask[NUM_PORTS];
	char pl[256], d[128];
	bool first = true;

	if (json)
		fputc('[', f);
	for (unsigned int idx = 1; idx < XDPCT_PROFILES_MAX; idx++) {
		bool any = false;

		for (unsigned int p = 0; p < NUM_PORTS; p++) {
			mask[p] = (ports[p] >> XDPCT_PORT_PROFILE_SHIFT) == idx &&
				  (ports[p] & XDPCT_PORT_PROTECT);
			any |= mask[p];
		}
		if (!any)
			continue;
		profile_describe(&table[idx], d, sizeof(d));
		if (json) {
			fprintf(f, "%s{\"ports\":", first ? "" : ",");
			json_ports(f, mask, 1);
			fprintf(f, ",\"mss4\":%u,\"mss6\":%u,\"no_sack\":%s,\"no_ts\":%s,"
				   "\"no_wscale\":%s,\"no_ecn\":%s,\"auto_rate\":%u,\"handover\":\"%s\"}",
				table[idx].mss4, table[idx].mss6,
				table[idx].off & XDPCT_PROF_NO_SACK ? "true" : "false",
				table[idx].off & XDPCT_PROF_NO_TS ? "true" : "false",
				table[idx].off & XDPCT_PROF_NO_WSCALE ? "true" : "false",
				table[idx].off & XDPCT_PROF_NO_ECN ? "true" : "false",
				table[idx].auto_rate,
				table[idx].handover == XDPCT_HANDOVER_NAT     ? "nat"
				: table[idx].handover == XDPCT_HANDOVER_PROXY ? "proxy"
									      : "local");
		} else {
			format_ports(mask, 1, pl, sizeof(pl));
			fprintf(f, "%s%s:%s", first ? "" : " ", pl, d);
		}
		first = false;
	}
	if (json)
		fputc(']', f);
	else if (first)
		fputs("none", f);
}
