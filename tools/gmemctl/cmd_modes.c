/* SPDX-License-Identifier: MIT */
/* gmemctl modes: the content-mode support matrix, asked of real VMs through
 * gmem_vm_content_modes() (the same tables conversions obey). */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "gmem/gmem.h"
#include "gmemctl.h"

static const char *const dir_names[2] = { "to-private", "to-shared" };
static const char *const phase_names[2] = { "pre-finalize", "finalized" };
static const uint64_t mode_bits[3] = {
	GMEM_MODES_UNSPECIFIED, GMEM_CONTENT_ZERO, GMEM_CONTENT_PRESERVE,
};
static const char *const mode_names[3] = { "UNSPECIFIED", "ZERO", "PRESERVE" };

/* modes[dir][phase] for one platform and policy. */
int gmemctl_modes_matrix(const char *platform, const char *policy,
			 uint64_t modes[2][2])
{
	struct gmem_vm *vm;
	int ret;

	ret = gmem_vm_create(&vm, platform, policy);
	if (ret)
		return ret;
	for (int phase = 0; phase < 2 && !ret; phase++) {
		if (phase == 1)
			ret = gmem_vm_finalize(vm);
		for (int dir = 0; dir < 2 && !ret; dir++)
			ret = gmem_vm_content_modes(vm, dir ? 0 : GMEM_ATTR_PRIVATE,
						    &modes[dir][phase]);
	}
	gmem_vm_destroy(vm);
	return ret;
}

static void print_table(FILE *f, const char *platform, const char *policy,
			uint64_t m[2][2], bool color)
{
	fprintf(f, "%s%s%s (policy %s)\n", color ? "\033[1m" : "", platform,
		color ? "\033[0m" : "", policy);
	fprintf(f, "  %-26s %-12s %-5s %-8s\n", "conversion", mode_names[0],
		mode_names[1], mode_names[2]);
	for (int dir = 0; dir < 2; dir++) {
		for (int phase = 0; phase < 2; phase++) {
			char what[40];

			snprintf(what, sizeof(what), "%s, %s", dir_names[dir],
				 phase_names[phase]);
			fprintf(f, "  %-26s", what);
			for (int i = 0; i < 3; i++) {
				bool yes = m[dir][phase] & mode_bits[i];
				int w = i == 0 ? 12 : i == 1 ? 5 : 8;

				if (color)
					fprintf(f, " %s%-*s\033[0m",
						yes ? "\033[32m" : "\033[31m", w,
						yes ? "yes" : "no");
				else
					fprintf(f, " %-*s", w, yes ? "yes" : "no");
			}
			fputc('\n', f);
		}
	}
}

void gmemctl_print_modes(FILE *f, const char *platform, const char *policy,
			 bool color)
{
	uint64_t m[2][2];
	int ret = gmemctl_modes_matrix(platform, policy, m);

	if (ret)
		fprintf(f, "%s: %s\n", platform, strerror(-ret));
	else
		print_table(f, platform, policy, m, color);
}

static void print_json(const char *const *plats, const char *policy,
		       uint64_t (*m)[2][2])
{
	printf("{\"policy\":");
	gmemctl_json_str(stdout, policy);
	printf(",\"platforms\":[");
	for (int p = 0; plats[p]; p++) {
		printf("%s{\"platform\":", p ? "," : "");
		gmemctl_json_str(stdout, plats[p]);
		printf(",\"modes\":[");
		for (int dir = 0, n = 0; dir < 2; dir++)
			for (int phase = 0; phase < 2; phase++, n++) {
				printf("%s{\"direction\":\"%s\",\"phase\":\"%s\"",
				       n ? "," : "", dir_names[dir], phase_names[phase]);
				for (int i = 0; i < 3; i++)
					printf(",\"%s\":%s", mode_names[i],
					       m[p][dir][phase] & mode_bits[i] ? "true" : "false");
				printf("}");
			}
		printf("]}");
	}
	printf("]}\n");
}

static bool known(const char *const *names, const char *s)
{
	for (; *names; names++)
		if (!strcmp(*names, s))
			return true;
	return false;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *platform = NULL, *policy = "seed";
	const char *const *all = gmem_platform_names();
	const char *one[2] = { NULL, NULL };
	const char *const *plats;
	uint64_t m[8][2][2];
	bool json = false;
	int c, n;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': platform = optarg; break;
		case 'q': policy = optarg; break;
		case 'j': json = true; break;
		default:
			return gmemctl_usage_error("modes", "bad option '%s'",
						   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return gmemctl_usage_error("modes", "unexpected argument '%s'", argv[optind]);
	if (platform && !known(all, platform))
		return gmemctl_usage_error("modes", "unknown platform '%s'", platform);
	if (!known(gmem_policy_names(), policy))
		return gmemctl_usage_error("modes", "unknown policy '%s'", policy);
	one[0] = platform;
	plats = platform ? one : all;
	for (n = 0; plats[n] && n < 8; n++) {
		int ret = gmemctl_modes_matrix(plats[n], policy, m[n]);

		if (ret)
			return gmemctl_fail("modes", "%s: %s", plats[n], strerror(-ret));
	}
	if (json) {
		print_json(plats, policy, m);
		return 0;
	}
	for (int p = 0; p < n; p++) {
		if (p)
			putchar('\n');
		print_table(stdout, plats[p], policy, m[p], gmemctl_color(stdout));
	}
	return 0;
}

const struct gmemctl_cmd gmemctl_cmd_modes = {
	.name = "modes",
	.args = "[--platform P] [--policy Q] [--json]",
	.summary = "show which content modes each platform accepts",
	.help = "For each platform (or only P), and the policy Q (seed by default;\n"
		"rfc-v5, upstream), prints whether a conversion to private or to\n"
		"shared, before or after finalize, accepts UNSPECIFIED, ZERO and\n"
		"PRESERVE: the answers of gmem_vm_content_modes(), which are the\n"
		"tables conversions obey.\n",
	.run = run,
};
