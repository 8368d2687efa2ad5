// SPDX-License-Identifier: GPL-2.0
/* The timer wheel of `xdpct run` (see wheel.h). Each slot is an array:
 * adding appends, expiring compacts in place; no allocation per entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wheel.h"

#define MAX_SLOTS 65536 /* 100 ms slots: 109 min; longer takes rounds */

int wheel_init(struct wheel *w, __u64 slot_ns, __u64 span_ns, __u64 now)
{
	__u64 n = span_ns / slot_ns + 2; /* + the current and a partial slot */

	memset(w, 0, sizeof(*w));
	w->slot_ns = slot_ns;
	w->nslots = n > MAX_SLOTS ? MAX_SLOTS : (__u32)n;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	if (!w->slots)
		return -ENOMEM;
	w->cursor = now / slot_ns;
	return 0;
}

void wheel_free(struct wheel *w)
{
	__u32 i;

	if (!w->slots)
		return;
	for (i = 0; i < w->nslots; i++)
		free(w->slots[i].v);
	free(w->slots);
	w->slots = NULL;
	w->size = 0;
}

int wheel_add(struct wheel *w, const struct xdpct_flow_key *key, __u64 due_ns)
{
	__u64 abs = due_ns / w->slot_ns;
	struct wheel_slot *s;

	if (abs < w->cursor) /* already due: the next expiry looks at cursor */
		abs = w->cursor;
	s = &w->slots[abs % w->nslots];
	if (s->n == s->cap) {
		__u32 cap = s->cap ? s->cap * 2 : 16;
		void *p = realloc(s->v, (size_t)cap * sizeof(*s->v));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n].key = *key;
	s->v[s->n].due_ns = due_ns;
	s->n++;
	w->size++;
	return 0;
}

/* Moves what is due from one slot; -ENOMEM leaves the rest in place. */
static int expire_slot(struct wheel *w, struct wheel_slot *s, __u64 now,
		       struct wheel_ent **out, size_t *cap, size_t *n)
{
	__u32 i, keep = 0;
	int r = 0;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].due_ns > now || r) { /* a later round, or later in this slot */
			s->v[keep++] = s->v[i];
			continue;
		}
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 256;
			void *p = realloc(*out, c * sizeof(**out));

			if (!p) {
				r = -ENOMEM;
				s->v[keep++] = s->v[i];
				continue;
			}
			*out = p;
			*cap = c;
		}
		(*out)[(*n)++] = s->v[i];
	}
	w->size -= s->n - keep;
	s->n = keep;
	/* give back what a burst left behind */
	if (s->cap > 64 && s->n < s->cap / 4) {
		__u32 c = s->n * 2 > 16 ? s->n * 2 : 16;
		void *p = realloc(s->v, (size_t)c * sizeof(*s->v));

		if (p) {
			s->v = p;
			s->cap = c;
		}
	}
	return r;
}

long wheel_expire(struct wheel *w, __u64 now, struct wheel_ent **out, size_t *cap)
{
	__u64 last = now / w->slot_ns, s;
	size_t n = 0;
	int r = 0;

	if (last < w->cursor)
		return 0;
	/* late by a whole turn or more (a stalled loop): every slot once */
	s = last - w->cursor >= w->nslots ? last - w->nslots + 1 : w->cursor;
	for (; s <= last && !r; s++)
		r = expire_slot(w, &w->slots[s % w->nslots], now, out, cap, &n);
	if (r)
		return n ? (long)n : r; /* the rest stays: the next call */
	/* the current slot stays current: it may hold entries due later in it */
	w->cursor = last;
	return (long)n;
}
