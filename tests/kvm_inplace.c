/* SPDX-License-Identifier: MIT */
/*
 * The kvm backend converts in place: a real vCPU and the host view see the
 * same guest_memfd pages before, across and after conversions, through the
 * same memslot at the same guest physical address, with no copy made.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "internal.h"
#include "backend/kvm.h"
#include "kvm_vcpu.h"

#define PG     GMEM_PAGE_SIZE
#define SIZE   (1ULL << 20)
#define CODE   0x1000ULL
#define DATA   0x8000ULL
#define SCRATCH 0x9000ULL

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

static int host_touch_faults(volatile uint8_t *p)
{
	if (sigsetjmp(jb, 1))
		return 1;
	(void)*p;
	return 0;
}

/* Pages of the gmem held in memory (the page cache of the guest_memfd). */
static uint64_t resident_pages(struct gmem *g)
{
	unsigned char vec[SIZE / PG];
	uint64_t n = 0;

	TEST_ASSERT(!mincore(g->mem, SIZE, vec), "mincore");
	for (size_t i = 0; i < sizeof(vec); i++)
		n += vec[i] & 1;
	return n;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct gmem_kvm_gmem *kg;
	struct gmem_kvm_vm *kv;
	struct gmem_vm *vm;
	struct gmem *g;
	struct vcpu v;
	const char *why = NULL;
	uint8_t *host;
	uint64_t slot_gpa, res;
	int slot, fd, ok_all, ret;

	TEST_REQUIRE(!gmem_backend_probe("kvm", &why), "kvm backend: %s", why);
	setenv("GMEM_BACKEND", "kvm", 1);
	plan_lazy();
	sigaction(SIGBUS, &sa, NULL);

	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, SIZE, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
	ok(!strcmp(gmem_backend_name(g), "kvm"), "the gmem is a real guest_memfd (backend %s)",
	   gmem_backend_name(g));
	ok_ret(gmem_bind(g, 0), 0, "bound to a memslot at GPA 0");
	host = gmem_mmap(g);
	TEST_ASSERT(host, "host view");
	kv = vm->backend_priv;
	kg = g->backend_priv;
	(void)ioctl(kv->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	memcpy(host + CODE, vcpu_code, sizeof(vcpu_code));
	ret = vcpu_create(&v, kv->kvm_fd, kv->vm_fd, CODE);
	TEST_ASSERT(!ret, "vCPU: %s", strerror(-ret));

	/* Host writes, the vCPU reads. */
	for (unsigned i = 0; i < 64; i++)
		host[DATA + i] = (uint8_t)(0xa0 + i);
	ok_all = 1;
	for (unsigned i = 0; i < 64; i += 7)
		ok_all &= vcpu_read(&v, DATA + i) == 0xa0 + (int)i;
	ok(ok_all, "the vCPU reads what the host wrote through the host view");

	/* The vCPU writes, the host reads. */
	ok_ret(vcpu_write(&v, SCRATCH + 5, 0x5a), 0, "the vCPU writes a byte");
	ok(host[SCRATCH + 5] == 0x5a, "the host reads it in place (0x%02x)", host[SCRATCH + 5]);

	/* Private and back with PRESERVE: same bytes, same page, no copy. */
	slot = kg->slot;
	slot_gpa = kg->slot_gpa;
	fd = g->fd;
	res = resident_pages(g);
	ok_ret(gmem_convert(g, DATA, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "to private, PRESERVE");
	ok(host_touch_faults(host + DATA), "the host view raises SIGBUS on the private page");
	ok_ret(gmem_convert(g, DATA, PG, 0, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "to shared, PRESERVE");
	ok_all = 1;
	for (unsigned i = 0; i < 64; i += 7)
		ok_all &= vcpu_read(&v, DATA + i) == 0xa0 + (int)i;
	ok(ok_all, "the vCPU reads the same bytes at the same GPA");
	ok(host[DATA + 63] == 0xa0 + 63, "and so does the host");
	ok(kg->slot == slot && kg->slot_gpa == slot_gpa && g->fd == fd,
	   "same memslot %d at GPA 0x%llx, same guest_memfd at offset 0", slot,
	   (unsigned long long)slot_gpa);
	ok(resident_pages(g) == res, "no page was added: %llu resident before and after",
	   (unsigned long long)res);

	/* ZERO to shared: both sides read zeros. */
	gmem_convert(g, DATA, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
	ok_ret(gmem_convert(g, DATA, PG, 0, GMEM_CONTENT_ZERO, NULL), 0, "to shared, ZERO");
	ok(vcpu_read(&v, DATA + 1) == 0 && host[DATA + 1] == 0, "the vCPU and the host read zeros");

	/* Hole punch: both sides read zeros, the page is freed. */
	ok_ret(vcpu_write(&v, SCRATCH + 9, 0x77), 0, "the vCPU writes another byte");
	res = resident_pages(g);
	ok_ret(gmem_punch_hole(g, SCRATCH, PG), 0, "punch the page");
	ok(resident_pages(g) == res - 1, "the page is freed (%llu -> %llu resident)",
	   (unsigned long long)res, (unsigned long long)resident_pages(g));
	ok(vcpu_read(&v, SCRATCH + 9) == 0, "the vCPU reads zero after the punch");
	ok(host[SCRATCH + 9] == 0, "the host reads zero");

	/* Rebinding moves the memslot; the vCPU follows the new GPA. */
	host[DATA + 2] = 0x42;
	ok_ret(gmem_bind(g, 0x20000), 0, "rebind at GPA 0x20000");
	memcpy(host + CODE, vcpu_code, sizeof(vcpu_code));
	v.code_gpa = 0x20000 + CODE;
	ok(vcpu_read(&v, 0x20000 + DATA + 2) == 0x42, "the vCPU reads the page at its new GPA");

	/* Reading physical bytes never allocates (guest_memfd refuses read(2),
	 * so the library skips holes). */
	res = resident_pages(g);
	{
		uint8_t b[2 * PG];

		ok_ret(gmem_physical_read(g, 0x40000, b, sizeof(b)), 0, "physical read of a hole");
		ok(b[0] == 0 && b[2 * PG - 1] == 0 && resident_pages(g) == res,
		   "reads zeros and allocates nothing (%llu resident)",
		   (unsigned long long)resident_pages(g));
	}

	vcpu_destroy(&v);
	gmem_vm_destroy(vm);
	done();
}
