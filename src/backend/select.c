/* SPDX-License-Identifier: MIT */
/* Backend selection: probe in order native, kvm, emulated; cache the result
 * (libuv style); GMEM_BACKEND forces one and never falls back. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const struct gmem_backend_ops *const gmem__backends[] = {
	&gmem__backend_native,
	&gmem__backend_kvm,
	&gmem__backend_emulated,
	NULL,
};

static const char *const backend_names[] = { "native", "kvm", "emulated", NULL };

struct probe_result {
	int ret;
	const char *why;
};
static struct probe_result probed[3];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe_all(void)
{
	for (int i = 0; gmem__backends[i]; i++) {
		probed[i].why = NULL;
		probed[i].ret = gmem__backends[i]->probe(&probed[i].why);
	}
}

const char *const *gmem_backend_names(void) { return backend_names; }

static int backend_index(const char *name)
{
	for (int i = 0; gmem__backends[i]; i++)
		if (!strcmp(gmem__backends[i]->name, name))
			return i;
	return -1;
}

int gmem_backend_probe(const char *name, const char **why)
{
	int i;

	if (!name)
		return -EFAULT;
	i = backend_index(name);
	if (i < 0) {
		if (why)
			*why = "unknown backend";
		return -EINVAL;
	}
	pthread_once(&probe_once, probe_all);
	if (why)
		*why = probed[i].why;
	return probed[i].ret;
}

int gmem__backend_select(const struct gmem_backend_ops **ops)
{
	const char *forced = getenv("GMEM_BACKEND");
	int i;

	pthread_once(&probe_once, probe_all);
	if (forced && *forced) {
		i = backend_index(forced);
		if (i < 0 || probed[i].ret)
			return -ENODEV;
		*ops = gmem__backends[i];
		return 0;
	}
	for (i = 0; gmem__backends[i]; i++) {
		if (!probed[i].ret) {
			*ops = gmem__backends[i];
			return 0;
		}
	}
	return -ENODEV;
}

int gmem__backend_next(const struct gmem_backend_ops **ops)
{
	const char *forced = getenv("GMEM_BACKEND");
	int i = backend_index((*ops)->name);

	if ((forced && *forced) || i < 0)
		return -ENODEV;
	pthread_once(&probe_once, probe_all);
	for (i++; gmem__backends[i]; i++) {
		if (!probed[i].ret) {
			*ops = gmem__backends[i];
			return 0;
		}
	}
	return -ENODEV;
}

int gmem_backend_default(const char **name)
{
	const struct gmem_backend_ops *ops;
	int ret;

	if (!name)
		return -EFAULT;
	ret = gmem__backend_select(&ops);
	if (!ret)
		*name = ops->name;
	return ret;
}
