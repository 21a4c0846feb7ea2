/* SPDX-License-Identifier: MIT */
/*
 * A TD's memory from launch to a shared buffer:
 *   - the VMM writes the firmware image into gmem, converts it to private
 *     with PRESERVE and adds it in place (TDH.MEM.PAGE.ADD + TDH.MR.EXTEND);
 *   - finalize (TDH.MR.FINALIZE) and print MRTD;
 *   - the guest accepts and writes a private buffer;
 *   - the buffer becomes shared for I/O with ZERO: the S-EPT unmap already
 *     cleared those pages, so no memset is done (see the counters);
 *   - PRESERVE to-shared is refused: TDX cannot keep the bytes;
 *   - and the buffer goes back to private.
 * Uses the public API only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gmem/gmem.h>

#define FW_OFF   0
#define FW_LEN   (16 * GMEM_PAGE_SIZE)
#define BUF_OFF  (64 * GMEM_PAGE_SIZE)
#define BUF_LEN  (32 * GMEM_PAGE_SIZE)

static int check(int ret, const char *what)
{
	printf("   %-44s %s\n", what, ret ? strerror(-ret) : "ok");
	return ret;
}

int main(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	struct gmem_stats st;
	uint8_t *host, mrtd[48], msg[32] = "private guest data";
	uint64_t err_off;
	int ret;

	if ((ret = gmem_vm_create(&vm, "tdx", NULL)) ||
	    (ret = gmem_create(vm, 1 << 20, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g))) {
		fprintf(stderr, "setup: %s\n", strerror(-ret));
		return 1;
	}
	host = gmem_mmap(g);
	if (!host) {
		perror("gmem_mmap");
		return 1;
	}
	printf("TDX guest, 1 MiB of gmem, backend %s\n", gmem_backend_name(g));

	printf("1. load and measure the firmware in place\n");
	for (uint64_t i = 0; i < FW_LEN; i++)
		host[FW_OFF + i] = (uint8_t)(i * 7);
	if (check(gmem_convert(g, FW_OFF, FW_LEN, GMEM_ATTR_PRIVATE,
			       GMEM_CONTENT_PRESERVE, &err_off), "to private, PRESERVE") ||
	    check(gmem_tdx_page_add(g, FW_OFF, FW_LEN, 1), "TDH.MEM.PAGE.ADD + TDH.MR.EXTEND"))
		return 1;

	printf("2. finalize\n");
	if (check(gmem_vm_finalize(vm), "TDH.MR.FINALIZE") || gmem_tdx_mrtd(vm, mrtd))
		return 1;
	printf("   MRTD ");
	for (int i = 0; i < 48; i++)
		printf("%02x", mrtd[i]);
	printf("\n");

	printf("3. the guest accepts a private buffer and writes it\n");
	if (check(gmem_convert(g, BUF_OFF, BUF_LEN, GMEM_ATTR_PRIVATE, 0, &err_off),
		  "to private") ||
	    check(gmem_guest_access(g, BUF_OFF, msg, sizeof(msg),
				    GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE),
		  "guest private write (accepts the page)"))
		return 1;
	for (uint64_t off = BUF_OFF + GMEM_PAGE_SIZE; off < BUF_OFF + BUF_LEN; off += GMEM_PAGE_SIZE)
		gmem_guest_access(g, off, msg, 1, GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE);

	printf("4. share the buffer for I/O\n");
	ret = gmem_convert(g, BUF_OFF, BUF_LEN, 0, GMEM_CONTENT_PRESERVE, &err_off);
	printf("   %-44s %s (error_offset 0x%llx)\n", "to shared, PRESERVE",
	       strerror(-ret), (unsigned long long)err_off);
	if (ret != -EOPNOTSUPP)
		return 1;
	if (check(gmem_convert(g, BUF_OFF, BUF_LEN, 0, GMEM_CONTENT_ZERO, &err_off),
		  "to shared, ZERO"))
		return 1;
	gmem_get_stats(g, &st);
	printf("   pages zeroed by memset: %llu, memset skipped (S-EPT unmap "
	       "cleared them): %llu\n", (unsigned long long)st.pages_zeroed,
	       (unsigned long long)st.pages_zero_skipped);
	printf("   the host reads %s\n",
	       host[BUF_OFF] == 0 && host[BUF_OFF + BUF_LEN - 1] == 0 ? "zeros" : "DATA");
	if (host[BUF_OFF] || st.pages_zero_skipped != BUF_LEN / GMEM_PAGE_SIZE)
		return 1;

	printf("5. and back to private\n");
	if (check(gmem_convert(g, BUF_OFF, BUF_LEN, GMEM_ATTR_PRIVATE,
			       GMEM_CONTENT_ZERO, &err_off), "to private, ZERO"))
		return 1;
	gmem_vm_destroy(vm);
	return 0;
}
