/* SPDX-License-Identifier: MIT */
#include "tap.h"
#include "gmem/gmem.h"
int main(void)
{
	const char *def = NULL, *why = NULL;
	plan_lazy();
	ok(!gmem_backend_default(&def) && !strcmp(def, "native"), "default %s", def ? def : "none");
	gmem_backend_probe("native", &why);
	diag("native: %s", why);
	done();
}
