/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "platform/platform.h"

static const struct gmem_platform *const platforms[] = {
	&gmem__plat_default,
	&gmem__plat_sw_protected,
	&gmem__plat_snp,
	&gmem__plat_tdx,
	&gmem__plat_pkvm,
	NULL,
};

const struct gmem_platform *gmem__platform_find(const char *name)
{
	for (const struct gmem_platform *const *p = platforms; *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}
