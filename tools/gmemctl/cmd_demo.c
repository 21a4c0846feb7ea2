/* SPDX-License-Identifier: MIT */
/*
 * gmemctl demo: narrates the SEV-SNP CPUID page flow (seven steps, in place,
 * before LAUNCH_FINISH) and a TDX launch and conversion, showing after each
 * step what the attribute, the RMP or S-EPT entry, the host view, the guest
 * view and the physical bytes of the page are; then the content-mode
 * matrix of every platform.  Uses the public API only.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "gmem/gmem.h"
#include "gmem/snp.h"
#include "gmemctl.h"

#define PG GMEM_PAGE_SIZE

static bool color;
static sigjmp_buf sigbus_jmp;

static const char *c_on(const char *code) { return color ? code : ""; }
static const char *c_off(void) { return color ? "\033[0m" : ""; }
#define BOLD  "\033[1m"
#define GREEN "\033[32m"
#define RED   "\033[31m"
#define DIM   "\033[2m"

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Copy n bytes from the host view; false when the touch raised SIGBUS. */
static bool host_read(const volatile uint8_t *p, uint8_t *out, size_t n)
{
	if (sigsetjmp(sigbus_jmp, 1))
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = p[i];
	return true;
}

static void hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(" %02x", b[i]);
}

static const char *vendor_name(const char *plat, int state)
{
	static const char *const rmp[] = { "shared", "assigned", "validated" };
	static const char *const sept[] = { "unmapped", "pending", "mapped" };

	if (!strcmp(plat, "snp"))
		return state >= 0 && state < 3 ? rmp[state] : "?";
	if (!strcmp(plat, "tdx"))
		return state >= 0 && state < 3 ? sept[state] : "?";
	return "-";
}

/* The page at off as the three views see it. */
static void show_page(struct gmem *g, const uint8_t *view, uint64_t off,
		      const char *plat)
{
	struct gmem_memory_fault f;
	struct gmem_page_info pi;
	uint8_t b[16];
	int ret;

	gmem_page_info(g, off, &pi);
	printf("   %spage 0x%05llx: %-7s  %s %s%s\n", c_on(DIM),
	       (unsigned long long)off, pi.attributes ? "PRIVATE" : "shared",
	       !strcmp(plat, "snp") ? "RMP" : "S-EPT",
	       vendor_name(plat, pi.vendor_state), c_off());
	printf("     host view    ");
	if (host_read(view + off, b, sizeof(b)))
		hex(b, sizeof(b));
	else
		printf(" %sSIGBUS%s (private)", c_on(RED), c_off());
	printf("\n     guest view   ");
	ret = gmem_guest_access_fault(g, off, b, sizeof(b), GMEM_ACCESS_READ |
				      (pi.attributes ? GMEM_ACCESS_PRIVATE : 0), &f);
	if (!ret)
		hex(b, sizeof(b));
	else
		printf(" %sfault%s%s%s", c_on(RED), c_off(),
		       f.flags & GMEM_FAULT_NOT_VALIDATED ? " (#VC: not validated)" :
		       f.flags & GMEM_FAULT_NOT_ACCEPTED ? " (not accepted)" : "",
		       ret == -EFAULT ? "" : " (error)");
	printf("\n     physical     ");
	if (!gmem_physical_read(g, off, b, sizeof(b)))
		hex(b, sizeof(b));
	printf("%s\n", pi.encrypted ? "  (ciphertext)" : "");
}

static int step_result(const char *what, int ret, int want)
{
	printf("   %-40s %s%s%s%s\n", what, c_on(ret == want ? GREEN : RED),
	       ret == want ? "" : "unexpected: ", ret ? strerror(-ret) : "ok", c_off());
	return ret == want ? 0 : 1;
}

static void heading(const char *s)
{
	printf("\n%s== %s ==%s\n", c_on(BOLD), s, c_off());
}

/* The CPUID table a VMM would take from KVM_GET_SUPPORTED_CPUID, with one
 * insecure value: CPUID 7.0 EDX bit 0 is reserved. */
static void cpuid_table(struct gmem_snp_cpuid_table *t)
{
	memset(t, 0, sizeof(*t));
	t->count = 3;
	t->fn[0] = (struct gmem_snp_cpuid_fn){ .eax_in = 0, .eax = 0x10,
		.ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 };
	t->fn[1] = (struct gmem_snp_cpuid_fn){ .eax_in = 1, .eax = 0x00a00f11,
		.ebx = 0x00020800, .ecx = 0x7ed8320b, .edx = 0x178bfbff };
	t->fn[2] = (struct gmem_snp_cpuid_fn){ .eax_in = 7, .ebx = 0x219c97a9,
		.ecx = 0x0040069c, .edx = 0x00000011 };
}

static int convert(struct gmem *g, uint64_t off, uint64_t attrs,
		   uint64_t mode, int want)
{
	uint64_t eo = 0;
	int ret = gmem_convert(g, off, PG, attrs, mode, &eo);
	char what[64];
	int bad;

	snprintf(what, sizeof(what), "set %s, %s", attrs ? "PRIVATE" : "SHARED",
		 mode == GMEM_CONTENT_PRESERVE ? "PRESERVE" :
		 mode == GMEM_CONTENT_ZERO ? "ZERO" : "UNSPECIFIED");
	bad = step_result(what, ret, want);

	if (ret)
		printf("   %serror_offset 0x%llx%s\n", c_on(DIM), (unsigned long long)eo, c_off());
	return bad;
}

static int demo_snp(void)
{
	const uint64_t off = 2 * PG;
	struct gmem_snp_cpuid_table mine, fixed;
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *view, digest[48];
	unsigned fw = 0;
	int bad = 0, ret;

	heading("SEV-SNP: the CPUID page, converted in place before LAUNCH_FINISH");
	if ((ret = gmem_vm_create(&vm, "snp", NULL)) ||
	    (ret = gmem_create(vm, 16 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g)) ||
	    (ret = gmem_bind(g, 0x80000000ULL)) || !(view = gmem_mmap(g)))
		return gmemctl_fail("demo", "SNP setup: %s", strerror(ret ? -ret : errno));
	printf("   16 pages of gmem at GPA 0x80000000, backend %s\n", gmem_backend_name(g));

	printf("%s1.%s The VMM writes the CPUID table into shared gmem memory\n", c_on(BOLD), c_off());
	cpuid_table(&mine);
	memcpy(view + off, &mine, sizeof(mine));
	show_page(g, view, off, "snp");

	printf("%s2.%s Set PRIVATE with PRESERVE: the bytes stay, the host loses access\n", c_on(BOLD), c_off());
	bad |= convert(g, off, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, 0);
	show_page(g, view, off, "snp");

	printf("%s3.%s SNP_LAUNCH_UPDATE (CPUID): the firmware finds an insecure value\n", c_on(BOLD), c_off());
	ret = gmem_snp_launch_update(g, off, PG, GMEM_SNP_PAGE_CPUID, &fw);
	bad |= step_result("SNP_LAUNCH_UPDATE", ret, -EIO);
	printf("   firmware error 0x%x (SEV_RET_INVALID_PARAM); it corrected the page,\n"
	       "   which stays shared in the RMP, and did not extend the digest\n", fw);
	show_page(g, view, off, "snp");

	printf("%s4.%s Set SHARED with PRESERVE: the VMM gets the page back unchanged\n", c_on(BOLD), c_off());
	bad |= convert(g, off, 0, GMEM_CONTENT_PRESERVE, 0);
	show_page(g, view, off, "snp");

	printf("%s5.%s The VMM reads the corrected table and checks it\n", c_on(BOLD), c_off());
	memcpy(&fixed, view + off, sizeof(fixed));
	for (uint32_t i = 0; i < mine.count; i++) {
		const struct gmem_snp_cpuid_fn *a = &mine.fn[i], *b = &fixed.fn[i];

		if (!memcmp(a, b, sizeof(*a)))
			continue;
		printf("   CPUID 0x%x.%u: provided %08x %08x %08x %08x\n"
		       "               firmware %08x %08x %08x %08x\n",
		       a->eax_in, a->ecx_in, a->eax, a->ebx, a->ecx, a->edx,
		       b->eax, b->ebx, b->ecx, b->edx);
		if (a->eax_in <= 1) {
			printf("   %sthe VMM refuses a changed vendor or signature%s\n", c_on(RED), c_off());
			bad = 1;
		}
	}
	printf("   accepted: only a reserved bit was cleared\n");

	printf("%s6.%s Set PRIVATE with PRESERVE again\n", c_on(BOLD), c_off());
	bad |= convert(g, off, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, 0);

	printf("%s7.%s SNP_LAUNCH_UPDATE (CPUID) succeeds: measured, encrypted in place\n", c_on(BOLD), c_off());
	bad |= step_result("SNP_LAUNCH_UPDATE", gmem_snp_launch_update(g, off, PG, GMEM_SNP_PAGE_CPUID, &fw), 0);
	show_page(g, view, off, "snp");
	bad |= step_result("SNP_LAUNCH_FINISH", gmem_vm_finalize(vm), 0);
	gmem_snp_launch_digest(vm, digest);
	printf("   launch digest\n    ");
	hex(digest, 24);
	printf("\n    ");
	hex(digest + 24, 24);
	printf("\n");

	printf("   After finalize, PRESERVE to shared keeps the physical bytes: the host\n"
	       "   sees ciphertext, never the guest's plaintext\n");
	bad |= convert(g, off, 0, GMEM_CONTENT_PRESERVE, 0);
	show_page(g, view, off, "snp");
	gmem_vm_destroy(vm);
	return bad;
}

static int demo_tdx(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	struct gmem_stats st;
	uint8_t *view, mrtd[48];
	int bad = 0, ret;

	heading("TDX: a measured page, then a guest buffer shared for I/O");
	if ((ret = gmem_vm_create(&vm, "tdx", NULL)) ||
	    (ret = gmem_create(vm, 16 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g)) ||
	    (ret = gmem_bind(g, 0x100000)) || !(view = gmem_mmap(g)))
		return gmemctl_fail("demo", "TDX setup: %s", strerror(ret ? -ret : errno));

	printf("%s1.%s The VMM loads firmware into shared memory, converts it with\n"
	       "   PRESERVE and adds it in place (TDH.MEM.PAGE.ADD + TDH.MR.EXTEND)\n", c_on(BOLD), c_off());
	memcpy(view, "TDVF firmware...", 16);
	bad |= convert(g, 0, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, 0);
	bad |= step_result("TDH.MEM.PAGE.ADD + TDH.MR.EXTEND", gmem_tdx_page_add(g, 0, PG, 1), 0);
	show_page(g, view, 0, "tdx");
	bad |= step_result("TDH.MR.FINALIZE", gmem_vm_finalize(vm), 0);
	gmem_tdx_mrtd(vm, mrtd);
	printf("   MRTD\n    ");
	hex(mrtd, 24);
	printf("\n    ");
	hex(mrtd + 24, 24);
	printf("\n");

	printf("%s2.%s The guest accepts a private page (TDH.MEM.PAGE.AUG) and writes it\n", c_on(BOLD), c_off());
	bad |= convert(g, 4 * PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_UNSPECIFIED, 0);
	bad |= step_result("guest private write (accepts the page)",
			   gmem_guest_access(g, 4 * PG, "guest I/O buffer", 16,
					     GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE), 0);
	show_page(g, view, 4 * PG, "tdx");

	printf("%s3.%s Shared with PRESERVE? The S-EPT unmap clears the page: refused\n", c_on(BOLD), c_off());
	bad |= convert(g, 4 * PG, 0, GMEM_CONTENT_PRESERVE, -EOPNOTSUPP);

	printf("%s4.%s Shared with ZERO: the unmap already cleared it, no memset needed\n", c_on(BOLD), c_off());
	bad |= convert(g, 4 * PG, 0, GMEM_CONTENT_ZERO, 0);
	gmem_get_stats(g, &st);
	printf("   pages zeroed by memset %llu, memset skipped %llu\n",
	       (unsigned long long)st.pages_zeroed, (unsigned long long)st.pages_zero_skipped);
	show_page(g, view, 4 * PG, "tdx");
	gmem_vm_destroy(vm);
	return bad;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	const char *platform = NULL, *backend = "?";
	int c, bad = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			platform = optarg;
		else
			return gmemctl_usage_error("demo", "bad option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return gmemctl_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	if (platform && strcmp(platform, "snp") && strcmp(platform, "tdx"))
		return gmemctl_usage_error("demo", "platform must be snp or tdx");
	color = gmemctl_color(stdout);
	sigaction(SIGBUS, &sa, &old);
	gmem_backend_default(&backend);
	printf("%slibgmem: guest_memfd in-place conversion%s (backend %s)\n",
	       c_on(BOLD), c_off(), backend);
	printf("Each step shows the page's attribute, its RMP or S-EPT entry, and\n"
	       "its bytes as the host view, the guest and the memory see them.\n");
	if (!platform || !strcmp(platform, "snp"))
		bad |= demo_snp();
	if (!platform || !strcmp(platform, "tdx"))
		bad |= demo_tdx();
	heading("Content modes accepted per platform (policy seed)");
	for (const char *const *p = gmem_platform_names(); *p; p++) {
		if (platform && strcmp(platform, *p))
			continue;
		gmemctl_print_modes(stdout, *p, "seed", color);
	}
	sigaction(SIGBUS, &old, NULL);
	return bad ? 1 : 0;
}

const struct gmemctl_cmd gmemctl_cmd_demo = {
	.name = "demo",
	.args = "[--platform snp|tdx]",
	.summary = "narrate the SEV-SNP CPUID flow and a TDX conversion",
	.help = "Runs the seven-step SEV-SNP CPUID page flow (in place, before\n"
		"LAUNCH_FINISH) and a TDX launch and conversion on libgmem's platform\n"
		"models, showing after each step the page's attribute, RMP or S-EPT\n"
		"state, host view (SIGBUS when private), guest view and physical\n"
		"bytes; then the content-mode matrix of the platforms.  Exit status 1\n"
		"if any step does not behave as described.\n",
	.run = run,
};
