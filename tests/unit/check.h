/* SPDX-License-Identifier: GPL-2.0 */
/* Result lines for unit tests, one per check, as tests/run counts them:
 *   ok NAME | FAIL NAME: REASON | skip NAME: REASON | # note
 * A check collects assertions between ck_begin() and ck_end(); the first
 * failed assertion gives the reason (and how many more failed). */
#ifndef XDPCT_CHECK_H
#define XDPCT_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ck_state {
	char name[200];
	char reason[600];
	int open;
	int nfail_cur; /* failed assertions in the open check */
	int n_ok, n_fail, n_skip;
};

static struct ck_state ck __attribute__((unused));

static inline void ck_begin(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void ck_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ck.name, sizeof(ck.name), fmt, ap);
	va_end(ap);
	ck.reason[0] = 0;
	ck.nfail_cur = 0;
	ck.open = 1;
}

static inline void ck_failf(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void ck_failf(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (getenv("CK_VERBOSE")) { /* every failed assertion, to stderr */
		fprintf(stderr, "%s: line %d: ", ck.name, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (ck.nfail_cur++)
		return; /* keep the first reason: later ones are often its echo */
	n = snprintf(ck.reason, sizeof(ck.reason), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(ck.reason + n, sizeof(ck.reason) - n, fmt, ap);
	va_end(ap);
}

/* CK(cond, fmt, ...): record a failure of the open check when cond is false.
 * Evaluates to cond, so callers can stop early. */
#define CK(cond, ...)                                   \
	({                                              \
		bool ck_c_ = !!(cond);                  \
		if (!ck_c_)                             \
			ck_failf(__LINE__, __VA_ARGS__); \
		ck_c_;                                  \
	})

static inline bool ck_failed(void)
{
	return ck.nfail_cur > 0;
}

/* Prints the line of the open check; returns true if it passed. */
static inline bool ck_end(void)
{
	bool good = !ck.nfail_cur;

	if (!ck.open)
		return true;
	ck.open = 0;
	if (good) {
		ck.n_ok++;
		printf("ok %s\n", ck.name);
	} else {
		ck.n_fail++;
		if (ck.nfail_cur > 1)
			printf("FAIL %s: %s (+%d more)\n", ck.name, ck.reason,
			       ck.nfail_cur - 1);
		else
			printf("FAIL %s: %s\n", ck.name, ck.reason);
	}
	return good;
}

static inline void ck_skip(const char *name, const char *reason)
{
	ck.n_skip++;
	printf("skip %s: %s\n", name, reason);
}

static inline void ck_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void ck_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Exit status for main(): 1 if any check failed. */
static inline int ck_finish(const char *suite)
{
	ck_end();
	ck_note("%s: %d ok, %d failed, %d skipped", suite, ck.n_ok, ck.n_fail,
		ck.n_skip);
	return ck.n_fail ? 1 : 0;
}

#endif
