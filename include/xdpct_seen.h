/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace side of the xdpct_seen bitmap (layout and hash: xdpct.h):
 * mapping it, setting the bit of a key inserted from userspace, and the
 * rebuild. Header-only: the CLI, the unit tests and the test tools share it.
 * Bits are only ever set with atomic ORs and cleared with atomic stores
 * on the mmap()ed array: the BPF programs OR into the same words. */
#ifndef XDPCT_SEEN_H
#define XDPCT_SEEN_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xdpct.h"

struct xdpct_seen {
	__u64 *w;    /* the map's words, mmap()ed; NULL: none */
	size_t len;  /* of the mapping */
	int lock_fd; /* pin directory, flock()ed around a rebuild; -1: none */
	unsigned int shift; /* 2^shift bits per half (the map's size) */
	__u32 words; /* per half */
};

/* The shift of a map of n entries; 0: not an xdpct_seen size. */
static inline unsigned int xdpct_seen_shift_of_entries(__u32 n)
{
	for (unsigned int s = XDPCT_SEEN_SHIFT_MIN; s <= XDPCT_SEEN_SHIFT_MAX; s++)
		if (n == XDPCT_SEEN_ENTRIES_OF(s))
			return s;
	return 0;
}

/* Maps the array behind map_fd (checked to be ours). 0 or -errno:
 * -EINVAL not an xdpct_seen map, else mmap()'s error (a kernel without
 * BPF_F_MMAPABLE arrays). lock_dir: the pin directory, or NULL. */
static inline int xdpct_seen_map(int map_fd, const char *lock_dir, struct xdpct_seen *s)
{
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len))
		return -errno;
	s->shift = xdpct_seen_shift_of_entries(mi.max_entries);
	if (mi.type != BPF_MAP_TYPE_ARRAY || mi.key_size != 4 || mi.value_size != 8 ||
	    !s->shift || !(mi.map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	s->words = 1u << (s->shift - 6);
	if (pg <= 0)
		pg = 4096;
	s->len = ((size_t)mi.max_entries * sizeof(__u64) + (size_t)pg - 1) / (size_t)pg *
		 (size_t)pg;
	p = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	s->w = p;
	if (lock_dir)
		s->lock_fd = open(lock_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* The pinned map of a pin directory. -ENOENT: none pinned there. */
static inline int xdpct_seen_open(const char *pin_dir, struct xdpct_seen *s)
{
	char path[4200];
	int fd, r;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XDPCT_MAP_SEEN);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = xdpct_seen_map(fd, pin_dir, s);
	close(fd); /* the mapping holds the map */
	return r;
}

static inline void xdpct_seen_close(struct xdpct_seen *s)
{
	if (s->w)
		munmap(s->w, s->len);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->w = NULL;
	s->lock_fd = -1;
}

/* The index of a key's word in a half (0 or 1), and the bit in it. */
static inline __u32 xdpct_seen_index(const struct xdpct_seen *s, unsigned int half, __u32 bit)
{
	return XDPCT_SEEN_HDR_WORDS + half * s->words +
	       (bit >> (XDPCT_SEEN_SHIFT_MAX - s->shift)) / 64;
}

static inline __u64 xdpct_seen_mask(const struct xdpct_seen *s, __u32 bit)
{
	return 1ULL << ((bit >> (XDPCT_SEEN_SHIFT_MAX - s->shift)) & 63);
}

/* The same for the key's summary bit (xdpct.h). */
static inline __u32 xdpct_seen_sum_index(const struct xdpct_seen *s, unsigned int half, __u32 bit)
{
	return XDPCT_SEEN_HDR_WORDS + 2 * s->words + half * XDPCT_SEEN_SUM_WORDS +
	       (bit >> (XDPCT_SEEN_SHIFT_MAX - XDPCT_SEEN_SUM_SHIFT)) / 64;
}

static inline __u64 xdpct_seen_sum_mask(__u32 bit)
{
	return 1ULL << ((bit >> (XDPCT_SEEN_SHIFT_MAX - XDPCT_SEEN_SUM_SHIFT)) & 63);
}

static inline __u64 xdpct_seen_hdr(const struct xdpct_seen *s)
{
	return __atomic_load_n(&s->w[0], __ATOMIC_ACQUIRE);
}

/* A key's bit in both halves: call after the entry is inserted. Nothing
 * before the first rebuild (no filter yet: its walk finds the entry). */
static inline void xdpct_seen_set(const struct xdpct_seen *s, __u32 bit)
{
	__u64 m;

	if (!s || !s->w || !(xdpct_seen_hdr(s) >> XDPCT_SEEN_SHIFT_POS))
		return;
	m = xdpct_seen_mask(s, bit);
	__atomic_fetch_or(&s->w[xdpct_seen_index(s, 0, bit)], m, __ATOMIC_RELAXED);
	__atomic_fetch_or(&s->w[xdpct_seen_index(s, 1, bit)], m, __ATOMIC_SEQ_CST);
	m = xdpct_seen_sum_mask(bit);
	__atomic_fetch_or(&s->w[xdpct_seen_sum_index(s, 0, bit)], m, __ATOMIC_RELAXED);
	__atomic_fetch_or(&s->w[xdpct_seen_sum_index(s, 1, bit)], m, __ATOMIC_SEQ_CST);
}

static inline void xdpct_seen_set4(const struct xdpct_seen *s, const struct xdpct_flow4_key *k)
{
	xdpct_seen_set(s, xdpct_seen_bit4(k));
}

static inline void xdpct_seen_set6(const struct xdpct_seen *s, const struct xdpct_flow6_key *k)
{
	xdpct_seen_set(s, xdpct_seen_bit6(k));
}

static inline unsigned int xdpct_seen_active(const struct xdpct_seen *s)
{
	return xdpct_seen_hdr(s) & XDPCT_SEEN_ACTIVE;
}

/* Whether a key's bit is set in one half (not its summary bit). */
static inline bool xdpct_seen_in(const struct xdpct_seen *s, unsigned int half, __u32 bit)
{
	return __atomic_load_n(&s->w[xdpct_seen_index(s, half, bit)], __ATOMIC_RELAXED) &
	       xdpct_seen_mask(s, bit);
}

/* Whether a key's summary bit is set in one half. */
static inline bool xdpct_seen_sum_in(const struct xdpct_seen *s, unsigned int half, __u32 bit)
{
	return __atomic_load_n(&s->w[xdpct_seen_sum_index(s, half, bit)], __ATOMIC_RELAXED) &
	       xdpct_seen_sum_mask(bit);
}

/* What the BPF programs conclude: the bit in the half they read, or true
 * while the filter is not valid. */
static inline bool xdpct_seen_test(const struct xdpct_seen *s, __u32 bit)
{
	__u64 h = xdpct_seen_hdr(s);

	if (!(h & XDPCT_SEEN_VALID) || (h >> XDPCT_SEEN_SHIFT_POS) != s->shift)
		return true;
	return xdpct_seen_sum_in(s, h & XDPCT_SEEN_ACTIVE, bit) &&
	       xdpct_seen_in(s, h & XDPCT_SEEN_ACTIVE, bit);
}

/* Both halves empty and valid: no key has a bit (tests, a fresh start). */
static inline void xdpct_seen_reset(const struct xdpct_seen *s)
{
	memset(s->w + XDPCT_SEEN_HDR_WORDS, 0,
	       (2 * (size_t)s->words + 2 * XDPCT_SEEN_SUM_WORDS) * sizeof(__u64));
	__atomic_store_n(&s->w[0], (__u64)s->shift << XDPCT_SEEN_SHIFT_POS | XDPCT_SEEN_VALID,
			 __ATOMIC_SEQ_CST);
}

/* ---- the rebuild: begin, mark every key in the tables, end ---- */

/* Locks out other rebuilders, clears the inactive half; returns it. The
 * first rebuild writes the map's size into the header first: inserters set
 * bits from then on, while readers still look up every tuple. */
static inline unsigned int xdpct_seen_rebuild_begin(const struct xdpct_seen *s)
{
	unsigned int half, i;
	__u64 h;

	if (s->lock_fd >= 0)
		while (flock(s->lock_fd, LOCK_EX) && errno == EINTR)
			;
	h = xdpct_seen_hdr(s);
	if ((h >> XDPCT_SEEN_SHIFT_POS) != s->shift) {
		h = (__u64)s->shift << XDPCT_SEEN_SHIFT_POS;
		__atomic_store_n(&s->w[0], h, __ATOMIC_SEQ_CST);
	}
	half = (h & XDPCT_SEEN_VALID) ? (h & XDPCT_SEEN_ACTIVE) ^ 1 : 1;
	for (i = 0; i < s->words; i++)
		__atomic_store_n(&s->w[XDPCT_SEEN_HDR_WORDS + half * s->words + i], 0,
				 __ATOMIC_RELAXED);
	for (i = 0; i < XDPCT_SEEN_SUM_WORDS; i++)
		__atomic_store_n(&s->w[XDPCT_SEEN_HDR_WORDS + 2 * s->words +
				       half * XDPCT_SEEN_SUM_WORDS + i],
				 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return half;
}

static inline void xdpct_seen_mark(const struct xdpct_seen *s, unsigned int half, __u32 bit)
{
	__atomic_fetch_or(&s->w[xdpct_seen_index(s, half, bit)], xdpct_seen_mask(s, bit),
			  __ATOMIC_RELAXED);
	__atomic_fetch_or(&s->w[xdpct_seen_sum_index(s, half, bit)], xdpct_seen_sum_mask(bit),
			  __ATOMIC_RELAXED);
}

/* done: every key of both tables was marked: the rebuilt half goes live.
 * Otherwise (a walk failed) the active half stays. Unlocks. */
static inline void xdpct_seen_rebuild_end(const struct xdpct_seen *s, unsigned int half,
					  bool done)
{
	if (done)
		__atomic_store_n(&s->w[0],
				 (__u64)s->shift << XDPCT_SEEN_SHIFT_POS | XDPCT_SEEN_VALID | half,
				 __ATOMIC_SEQ_CST);
	if (s->lock_fd >= 0)
		flock(s->lock_fd, LOCK_UN);
}

/* Marks every key of one flow table (key_size 12: IPv4, 36: IPv6) with
 * batch lookups. 0 or -errno. */
static inline int xdpct_seen_mark_table(const struct xdpct_seen *s, unsigned int half,
					int fd, bool v6)
{
	enum { CHUNK = 4096 };
	size_t ksz = v6 ? sizeof(struct xdpct_flow6_key) : sizeof(struct xdpct_flow4_key);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 tok = 0, n, i;
	bool first = true;
	char *keys = malloc(CHUNK * ksz);
	void *vals = malloc(CHUNK * sizeof(struct xdpct_flow));
	int r, ret = 0;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = CHUNK;
		r = bpf_map_lookup_batch(fd, first ? NULL : &tok, &tok, keys, vals, &n, &bo);
		if (r && errno != ENOENT) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			const void *k = keys + (size_t)i * ksz;

			xdpct_seen_mark(s, half, v6 ? xdpct_seen_bit6(k) : xdpct_seen_bit4(k));
		}
		if (r)
			break;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* Marks the flow keys of n generic keys (the sockets of the kernel on
 * protected ports). */
static inline void xdpct_seen_mark_keys(const struct xdpct_seen *s, unsigned int half,
					const struct xdpct_flow_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].family == 4) {
			struct xdpct_flow4_key k4;

			xdpct_key_to4(&keys[i], &k4);
			xdpct_seen_mark(s, half, xdpct_seen_bit4(&k4));
		} else {
			struct xdpct_flow6_key k6;

			xdpct_key_to6(&keys[i], &k6);
			xdpct_seen_mark(s, half, xdpct_seen_bit6(&k6));
		}
	}
}

/* A whole rebuild over both protected flow tables and n more keys.
 * 0 or -errno (nothing changed). */
static inline int xdpct_seen_rebuild(const struct xdpct_seen *s, int fd4, int fd6,
				     const struct xdpct_flow_key *keys, size_t n)
{
	unsigned int half;
	int r;

	if (!s || !s->w)
		return -EINVAL;
	half = xdpct_seen_rebuild_begin(s);
	r = xdpct_seen_mark_table(s, half, fd4, false);
	if (!r)
		r = xdpct_seen_mark_table(s, half, fd6, true);
	if (!r)
		xdpct_seen_mark_keys(s, half, keys, n);
	xdpct_seen_rebuild_end(s, half, !r);
	return r;
}

#endif /* XDPCT_SEEN_H */
