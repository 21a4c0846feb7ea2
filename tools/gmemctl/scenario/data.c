/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter: the data streams writes store and
 * expectations compare with, the host view with its SIGBUS turned into an
 * error, and ranges (`all`) resolved against a file at run time.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gmem/snp.h"
#include "internal.h"

/* ---- data streams ------------------------------------------------------- */

/* The sample CPUID table a VMM might build from KVM_GET_SUPPORTED_CPUID:
 * leaf 7 EDX bit 0 is reserved, so the firmware rejects and corrects it. */
static void cpuid_sample(struct gmem_snp_cpuid_table *t, bool fixed)
{
	static const struct gmem_snp_cpuid_fn fns[] = {
		{ .eax_in = 0x0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
		{ .eax_in = 0x1, .eax = 0x00a00f11, .ebx = 0x00020800, .ecx = 0x7ed8320b, .edx = 0x178bfbff },
		{ .eax_in = 0x7, .ecx_in = 0, .ebx = 0x219c97a9, .ecx = 0x0040069c, .edx = 0x00000011 },
		{ .eax_in = 0x80000000, .eax = 0x80000021 },
	};

	memset(t, 0, sizeof(*t));
	t->count = sizeof(fns) / sizeof(fns[0]);
	memcpy(t->fn, fns, sizeof(fns));
	if (fixed)
		(void)gmem_snp_cpuid_check(t, NULL);
}

/* Bytes [pos, pos+n) of the stream d (text and tables repeat). */
void sc_data_fill(const struct data *d, uint64_t pos, uint8_t *buf, size_t n)
{
	/* The two CPUID pages, built once (the table needs its alignment). */
	static union {
		struct gmem_snp_cpuid_table t;
		uint8_t b[PAGE];
	} page[2];
	static bool ready[2];

	switch (d->kind) {
	case D_BYTE:
		memset(buf, d->byte, n);
		break;
	case D_TEXT:
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)d->text[(pos + i) % d->tlen];
		break;
	case D_CPUID:
	case D_CPUID_FIXED: {
		int k = d->kind == D_CPUID_FIXED;

		if (!ready[k]) {
			_Static_assert(sizeof(struct gmem_snp_cpuid_table) <= PAGE,
				       "table fits a page");
			memset(page[k].b, 0, PAGE);
			cpuid_sample(&page[k].t, k);
			ready[k] = true;
		}
		for (size_t i = 0; i < n; i++)
			buf[i] = page[k].b[(pos + i) % PAGE];
		break;
	}
	case D_ZERO:
	case D_NONE:
	default:
		memset(buf, 0, n);
		break;
	}
}

void sc_data_describe(const struct data *d, char *buf, size_t n)
{
	switch (d->kind) {
	case D_BYTE: snprintf(buf, n, "pattern 0x%02x", d->byte); break;
	case D_TEXT: snprintf(buf, n, "text \"%.40s\"", d->text); break;
	case D_CPUID: snprintf(buf, n, "cpuid-table"); break;
	case D_CPUID_FIXED: snprintf(buf, n, "cpuid-fixed"); break;
	default: snprintf(buf, n, "zero"); break;
	}
}

/* ---- host view and SIGBUS ----------------------------------------------- */

/* volatile: a builtin memcpy reads no globals, so the store before it
 * would otherwise be dropped as dead. */
static __thread sigjmp_buf *volatile bus_jmp;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* memcpy that turns a SIGBUS (a private page in the host view) into
 * -EFAULT instead of killing the process. */
int sc_guarded_copy(void *dst, const void *src, size_t n)
{
	struct sigaction sa, old;
	sigjmp_buf jb;
	volatile int bus = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old))
		return -errno;
	if (sigsetjmp(jb, 1) == 0) {
		bus_jmp = &jb;
		memcpy(dst, src, n);
	} else {
		bus = 1;
	}
	bus_jmp = NULL;
	sigaction(SIGBUS, &old, NULL);
	return bus ? -EFAULT : 0;
}

int sc_host_view(struct sgmem *sg, uint8_t **view)
{
	if (!sg->view) {
		sg->view = gmem_mmap(sg->g);
		if (!sg->view)
			return errno ? -errno : -ENODEV;
	}
	*view = sg->view;
	return 0;
}

/* ---- resolving ranges at run time --------------------------------------- */

/* `all` and accesses that must fit the file; conversions pass raw values
 * so the library's own checks are what the scenario sees. */
uint64_t sc_len_of(struct scenario *s, struct step *st)
{
	if (st->len == UINT64_MAX && st->gi >= 0)
		return gmem_size(G(s, st)->g) - st->off;
	return st->len;
}

bool sc_fits(struct scenario *s, struct step *st, uint64_t len)
{
	uint64_t size = gmem_size(G(s, st)->g);

	return st->off <= size && len <= size - st->off;
}
