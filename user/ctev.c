// SPDX-License-Identifier: GPL-2.0
/* Userspace DESTROY events (user/ctev.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctev.h"
#include "util.h"
#include "emit.skel.h"

struct ctev_emitter {
	struct emit_bpf *skel;
	int fd[3];          /* ring, evsub, gone */
	__u64 checked_ns;   /* last look at xdpct_evsub */
	bool listening;
	struct xdpct_emit_args args;
};

static __u64 now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* as the BPF side's clock */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct ctev_emitter *ctev_emitter_open(const char *pin_dir)
{
	static const char *const names[3] = { XDPCT_MAP_CTEVENTS, XDPCT_MAP_EVSUB,
					      XDPCT_MAP_GONE };
	struct ctev_emitter *em = calloc(1, sizeof(*em));
	struct bpf_map *maps[3];
	int i;

	if (!em)
		return NULL;
	for (i = 0; i < 3; i++)
		em->fd[i] = -1;
	for (i = 0; i < 3; i++) {
		em->fd[i] = pinned_map(pin_dir, names[i]);
		if (em->fd[i] < 0)
			goto fail;
	}
	/* from here on, the maps are there: a failure is worth a word */
	em->skel = emit_bpf__open();
	if (!em->skel)
		goto fail_load;
	maps[0] = em->skel->maps.xdpct_ctevents;
	maps[1] = em->skel->maps.xdpct_evsub;
	maps[2] = em->skel->maps.xdpct_gone;
	for (i = 0; i < 3; i++) {
		/* the pinned maps themselves, never pinned again elsewhere */
		if (bpf_map__set_pin_path(maps[i], NULL) || bpf_map__reuse_fd(maps[i], em->fd[i]))
			goto fail_load;
	}
	if (emit_bpf__load(em->skel))
		goto fail_load;
	return em;
fail_load:
	warn("cannot load the DESTROY event program: removals will not show in xdpct events%s",
	     vhint());
fail:
	ctev_emitter_free(em);
	return NULL;
}

void ctev_emitter_free(struct ctev_emitter *em)
{
	int i;

	if (!em)
		return;
	emit_bpf__destroy(em->skel);
	for (i = 0; i < 3; i++)
		if (em->fd[i] >= 0)
			close(em->fd[i]);
	free(em);
}

bool ctev_listening(struct ctev_emitter *em)
{
	struct xdpct_evsub s;
	__u32 zero = 0;
	__u64 now = now_mono();

	if (!em)
		return false;
	if (now - em->checked_ns < 100000000ull)
		return em->listening;
	em->checked_ns = now;
	em->listening = !bpf_map_lookup_elem(em->fd[1], &zero, &s) && now < s.until_ns;
	return em->listening;
}

void ctev_flush(struct ctev_emitter *em)
{
	if (!em || !em->args.n)
		return;
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &em->args,
		    .ctx_size_in = offsetof(struct xdpct_emit_args, ev) +
				   em->args.n * sizeof(em->args.ev[0]));
	/* a failure loses these events: the reader cannot be told */
	bpf_prog_test_run_opts(bpf_program__fd(em->skel->progs.xdpct_emit), &o);
	em->args.n = 0;
}

/* The next event of the batch, zeroed and timed; NULL while nobody listens. */
static struct xdpct_ct_event *next_event(struct ctev_emitter *em)
{
	struct xdpct_ct_event *e;

	if (!ctev_listening(em))
		return NULL;
	e = &em->args.ev[em->args.n++];
	memset(e, 0, sizeof(*e));
	e->ns = now_mono();
	return e;
}

void ctev_mode(struct ctev_emitter *em, __u16 port, bool on, const struct xdpct_flow *f)
{
	struct xdpct_ct_event *e = next_event(em);

	if (!e)
		return;
	e->key.lport = htons(port);
	e->flow = *f;
	e->type = XDPCT_EV_COOKIES;
	e->reason = on;
	ctev_flush(em);
}

void ctev_destroy(struct ctev_emitter *em, int family, bool observed, const void *key,
		  const struct xdpct_flow *f, int reason)
{
	struct xdpct_ct_event *e = next_event(em);

	if (!e)
		return;
	if (family == 4)
		xdpct_key_from4(key, &e->key);
	else
		xdpct_key_from6(key, &e->key);
	e->flow = *f;
	e->flow.lock = 0;
	e->type = XDPCT_EV_DESTROY;
	e->reason = reason;
	e->old_state = f->state;
	e->evflags = observed ? XDPCT_EVF_OBSERVED : 0;
	if (em->args.n == XDPCT_EMIT_MAX)
		ctev_flush(em);
}
