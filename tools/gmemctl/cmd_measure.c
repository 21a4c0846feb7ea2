/* SPDX-License-Identifier: MIT */
/*
 * gmemctl measure snp: the SEV-SNP launch digest a guest will have, from
 * its firmware image, vCPUs and VMM, before it runs.  The options are
 * sev-snp-measure's, with its meanings (docs/measure.md).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gmem/gmem.h"
#include "platform/snp_ovmf.h"
#include "platform/tdx_tdvf.h"
#include "gmemctl.h"

#define CMD "measure"

struct steps {
	struct gmem__snp_measure_step *v;
	size_t n, cap;
	bool oom;
	bool dump_vmsa;		/* write each VMSA to vmsa<N>.bin */
	int dump_errno;
	char dump_path[32];
};

static void dump_vmsa(struct steps *s, const struct gmem__snp_measure_step *st)
{
	FILE *f;

	if (s->dump_errno)
		return;
	snprintf(s->dump_path, sizeof(s->dump_path), "vmsa%u.bin", st->vcpu);
	errno = 0;
	f = fopen(s->dump_path, "wb");
	if (!f || fwrite(st->vmsa, 1, GMEM__SNP_VMSA_SIZE, f) != GMEM__SNP_VMSA_SIZE)
		s->dump_errno = errno ? errno : EIO;
	if (f && fclose(f) && !s->dump_errno)
		s->dump_errno = errno ? errno : EIO;
}

static void add_step(void *arg, const struct gmem__snp_measure_step *st)
{
	struct steps *s = arg;

	if (s->dump_vmsa && st->vmsa)
		dump_vmsa(s, st);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *p = realloc(s->v, cap * sizeof(*s->v));

		if (!p) {
			s->oom = true;
			return;
		}
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = *st;
}

/* The whole file, at most `max` bytes. */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, st.st_size - got);

		if (r <= 0) {
			err = r ? -errno : -EIO;
			free(buf);
			close(fd);
			return err;
		}
		got += r;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

/* SHA-256 of a file, read in pieces (kernels and initrds can be large). */
static int sha256_file(const char *path, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[65536];
	unsigned len = 32;
	ssize_t r;
	int fd, err = 0;

	if (!ctx)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		err = -EIO;
	while (!err && (r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0)
			err = -errno;
		else if (EVP_DigestUpdate(ctx, buf, r) != 1)
			err = -EIO;
	}
	if (!err && EVP_DigestFinal_ex(ctx, out, &len) != 1)
		err = -EIO;
	close(fd);
out:
	EVP_MD_CTX_free(ctx);
	return err;
}

static int sha256_mem(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void print_base64(FILE *f, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
			     (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		fputc(tab[v >> 18 & 63], f);
		fputc(tab[v >> 12 & 63], f);
		fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? tab[v & 63] : '=', f);
	}
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 }, *end;

		if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
			return -EINVAL;
		out[i] = (uint8_t)strtoul(b, &end, 16);
	}
	return 0;
}

/* A whole unsigned number in `base` (0: C prefixes), at most max. */
static int parse_num(const char *s, int base, unsigned long long max,
		     unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || *end || *v > max)
		return -EINVAL;
	return 0;
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case GMEM_SNP_PAGE_NORMAL: return "normal";
	case GMEM_SNP_PAGE_VMSA: return "vmsa";
	case GMEM_SNP_PAGE_ZERO: return "zero";
	case GMEM_SNP_PAGE_UNMEASURED: return "unmeasured";
	case GMEM_SNP_PAGE_SECRETS: return "secrets";
	case GMEM_SNP_PAGE_CPUID: return "cpuid";
	default: return "?";
	}
}

static const char *section_name(unsigned t)
{
	switch (t) {
	case GMEM__OVMF_SEC_MEM: return "snp_sec_mem";
	case GMEM__OVMF_SEC_SECRETS: return "snp_secrets";
	case GMEM__OVMF_SEC_CPUID: return "cpuid";
	case GMEM__OVMF_SEC_SVSM_CAA: return "svsm_caa";
	case GMEM__OVMF_SEC_KERNEL_HASHES: return "snp_kernel_hashes";
	default: return "?";
	}
}

struct opts {
	const char *ovmf, *kernel, *initrd, *append, *vcpu_type, *format, *mode;
	const char *vmm_type, *ovmf_hash, *tdvf;
	const char *snp_only;		/* an SEV-SNP option given, for tdx */
	unsigned long long vcpus, sig, family, model, stepping, features;
	bool have_vcpus, have_sig, have_family, have_model, have_stepping;
	bool json, verbose, dump_vmsa;
};

static void print_json(const struct opts *op, const struct gmem__snp_measure_in *in,
		       const struct steps *st, const uint8_t digest[48])
{
	const struct gmem__ovmf *o = in->ovmf;

	printf("{\"platform\":\"snp\",\"digest\":\"");
	print_hex(stdout, digest, 48);
	printf("\",\"ovmf\":{\"path\":");
	gmemctl_json_str(stdout, op->ovmf);
	printf(",\"size\":%zu,\"gpa\":%llu,\"reset_eip\":%u,\"sections\":[",
	       o->size, (unsigned long long)o->gpa, o->reset_eip);
	for (unsigned i = 0; i < o->nsections; i++)
		printf("%s{\"type\":\"%s\",\"gpa\":%u,\"size\":%u}", i ? "," : "",
		       section_name(o->sec[i].type), o->sec[i].gpa, o->sec[i].size);
	printf("]},\"vcpus\":%u,\"vcpu_sig\":%u,\"vmm_type\":\"%s\","
	       "\"guest_features\":%llu,\"kernel\":%s,\"steps\":[",
	       in->vcpus, in->vcpu_sig, gmem__snp_vmm_name(in->vmm),
	       (unsigned long long)in->guest_features, in->kernel ? "true" : "false");
	for (size_t i = 0; i < st->n; i++) {
		const struct gmem__snp_measure_step *s = &st->v[i];

		printf("%s{\"page_type\":\"%s\",\"gpa\":%llu,\"pages\":%llu,",
		       i ? "," : "", type_name(s->page_type),
		       (unsigned long long)s->gpa, (unsigned long long)s->npages);
		if (s->page_type == GMEM_SNP_PAGE_VMSA)
			printf("\"vcpu\":%u,", s->vcpu);
		printf("\"digest\":\"");
		print_hex(stdout, s->digest, 48);
		printf("\"}");
	}
	printf("]}\n");
}

static void print_steps(const struct steps *st)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct gmem__snp_measure_step *s = &st->v[i];

		fprintf(stderr, "%-8s gpa 0x%012llx %6llu page%s", type_name(s->page_type),
			(unsigned long long)s->gpa, (unsigned long long)s->npages,
			s->npages == 1 ? " " : "s");
		if (s->page_type == GMEM_SNP_PAGE_VMSA)
			fprintf(stderr, " vCPU %-4u", s->vcpu);
		else
			fprintf(stderr, "          ");
		fprintf(stderr, " -> ");
		print_hex(stderr, s->digest, 48);
		fputc('\n', stderr);
	}
}

/* The vCPU signature as sev-snp-measure picks it: family/model/stepping,
 * else --vcpu-sig, else --vcpu-type; QEMU needs one, EC2 puts 0 in RDX. */
static int vcpu_sig(const struct opts *op, enum gmem__snp_vmm vmm, uint32_t *sig)
{
	int ret;

	*sig = 0;
	if (op->vcpu_type && gmem__snp_cpu_type_sig(op->vcpu_type, sig))
		return gmemctl_usage_error(CMD, "unknown vCPU type '%s'", op->vcpu_type);
	if (op->have_family || op->have_model || op->have_stepping) {
		if (!op->have_family || !op->have_model || !op->have_stepping)
			return gmemctl_usage_error(CMD, "--vcpu-family, --vcpu-model and --vcpu-stepping go together");
		ret = gmem__snp_cpu_sig(op->family, op->model, op->stepping, sig);
		if (ret)
			return gmemctl_usage_error(CMD, "vCPU family, model or stepping out of range");
		return 0;
	}
	if (op->have_sig) {
		*sig = (uint32_t)op->sig;
		return 0;
	}
	if (op->vcpu_type)
		return 0;	/* *sig set above */
	if (vmm == GMEM__SNP_VMM_QEMU)
		return gmemctl_usage_error(CMD, "missing --vcpu-type, --vcpu-sig or --vcpu-family");
	return 0;
}

static int kernel_hashes(const struct opts *op, struct gmem__snp_measure_in *in)
{
	const char *text = op->append ? op->append : "";
	int ret;

	if (!op->kernel)
		return 0;
	in->kernel = true;
	ret = sha256_file(op->kernel, in->kernel_sha256);
	if (ret)
		return gmemctl_fail(CMD, "%s: %s", op->kernel, strerror(-ret));
	ret = op->initrd ? sha256_file(op->initrd, in->initrd_sha256)
			 : sha256_mem("", 0, in->initrd_sha256);
	if (ret)
		return gmemctl_fail(CMD, "%s: %s", op->initrd, strerror(-ret));
	/* The command line is hashed with its terminating NUL. */
	ret = sha256_mem(text, strlen(text) + 1, in->cmdline_sha256);
	if (ret)
		return gmemctl_fail(CMD, "command line: %s", strerror(-ret));
	return 0;
}

static int measure(const struct opts *op)
{
	struct gmem__snp_measure_in in = { .vcpus = (unsigned)op->vcpus,
					   .guest_features = op->features };
	struct steps st = { 0 };
	struct gmem__ovmf *o = NULL;
	uint8_t digest[48], seed[48], *img = NULL;
	const char *why = "";
	bool hash_only = op->mode && !strcmp(op->mode, "snp:ovmf-hash");
	size_t len = 0;
	int ret;

	if (gmem__snp_vmm_parse(op->vmm_type, &in.vmm))
		return gmemctl_usage_error(CMD, "unknown VMM type '%s' (QEMU, ec2)", op->vmm_type);
	if (!hash_only) {
		ret = vcpu_sig(op, in.vmm, &in.vcpu_sig);
		if (ret)
			return ret;
	}
	if (op->ovmf_hash) {
		if (parse_hex(op->ovmf_hash, seed, sizeof(seed)))
			return gmemctl_usage_error(CMD, "--snp-ovmf-hash needs 96 hex digits");
		in.ovmf_hash = seed;
	}
	ret = read_file(op->ovmf, GMEM__OVMF_MAX_SIZE, &img, &len);
	if (ret == -EFBIG)
		return gmemctl_fail(CMD, "%s: image larger than 64 MiB", op->ovmf);
	if (ret == -EINVAL)
		return gmemctl_fail(CMD, "%s: not a regular file", op->ovmf);
	if (ret)
		return gmemctl_fail(CMD, "%s: %s", op->ovmf, strerror(-ret));
	o = malloc(sizeof(*o));
	if (!o) {
		ret = gmemctl_fail(CMD, "%s", strerror(ENOMEM));
		goto out;
	}
	ret = gmem__ovmf_parse(img, len, o, &why);
	if (ret) {
		ret = gmemctl_fail(CMD, "%s: %s", op->ovmf, why);
		goto out;
	}
	in.ovmf = o;
	if (hash_only) {
		ret = gmem__snp_measure_ovmf_hash(o, digest);
	} else {
		ret = kernel_hashes(op, &in);
		if (ret)
			goto out;
		in.step = add_step;
		in.arg = &st;
		st.dump_vmsa = op->dump_vmsa;
		ret = gmem__snp_measure(&in, digest, &why);
	}
	if (!ret && st.dump_errno) {
		ret = gmemctl_fail(CMD, "%s: %s", st.dump_path, strerror(st.dump_errno));
		goto out;
	}
	if (!ret && st.oom)
		ret = -ENOMEM, why = strerror(ENOMEM);
	if (ret) {
		ret = gmemctl_fail(CMD, "%s: %s", op->ovmf, why && *why ? why : strerror(-ret));
		goto out;
	}
	if (op->json && hash_only) {
		printf("{\"platform\":\"snp\",\"mode\":\"snp:ovmf-hash\",\"ovmf\":{\"path\":");
		gmemctl_json_str(stdout, op->ovmf);
		printf(",\"size\":%zu,\"gpa\":%llu},\"ovmf_hash\":\"", o->size,
		       (unsigned long long)o->gpa);
		print_hex(stdout, digest, 48);
		printf("\"}\n");
	} else if (op->json) {
		print_json(op, &in, &st, digest);
	} else {
		if (op->verbose)
			print_steps(&st);
		if (!strcmp(op->format, "base64"))
			print_base64(stdout, digest, 48);
		else
			print_hex(stdout, digest, 48);
		putchar('\n');
	}
	ret = 0;
out:
	free(st.v);
	free(o);
	free(img);
	return ret;
}

static const char *tdvf_type_name(unsigned t)
{
	switch (t) {
	case GMEM__TDVF_BFV: return "bfv";
	case GMEM__TDVF_CFV: return "cfv";
	case GMEM__TDVF_TD_HOB: return "td_hob";
	case GMEM__TDVF_TEMP_MEM: return "temp_mem";
	default: return "?";
	}
}

struct tdx_steps {
	struct gmem__tdx_measure_step v[GMEM__TDVF_MAX_SECTIONS];
	unsigned n;
};

static void add_tdx_step(void *arg, const struct gmem__tdx_measure_step *st)
{
	struct tdx_steps *s = arg;

	if (s->n < GMEM__TDVF_MAX_SECTIONS)
		s->v[s->n++] = *st;
}

static void print_digest(const struct opts *op, const uint8_t d[48])
{
	if (!strcmp(op->format, "base64"))
		print_base64(stdout, d, 48);
	else
		print_hex(stdout, d, 48);
	putchar('\n');
}

/* gmemctl measure tdx: MRTD of a TDVF launch. */
static int measure_tdx(const struct opts *op)
{
	struct tdx_steps st = { .n = 0 };
	struct gmem__tdvf *t = NULL;
	uint8_t mrtd[48], *img = NULL;
	const char *why = "";
	size_t len = 0;
	int ret = read_file(op->tdvf, GMEM__OVMF_MAX_SIZE, &img, &len);

	if (ret == -EFBIG)
		return gmemctl_fail(CMD, "%s: image larger than 64 MiB", op->tdvf);
	if (ret == -EINVAL)
		return gmemctl_fail(CMD, "%s: not a regular file", op->tdvf);
	if (ret)
		return gmemctl_fail(CMD, "%s: %s", op->tdvf, strerror(-ret));
	t = malloc(sizeof(*t));
	ret = t ? gmem__tdvf_parse(img, len, t, &why) : -ENOMEM;
	if (!ret)
		ret = gmem__tdx_measure(t, mrtd, add_tdx_step, &st);
	if (ret) {
		ret = gmemctl_fail(CMD, "%s: %s", op->tdvf, why && *why ? why : strerror(-ret));
		goto out;
	}
	if (op->json) {
		printf("{\"platform\":\"tdx\",\"mrtd\":\"");
		print_hex(stdout, mrtd, 48);
		printf("\",\"tdvf\":{\"path\":");
		gmemctl_json_str(stdout, op->tdvf);
		printf(",\"size\":%zu},\"sections\":[", len);
		for (unsigned i = 0; i < st.n; i++) {
			const struct gmem__tdvf_section *s = st.v[i].sec;

			printf("%s{\"type\":\"%s\",\"gpa\":%llu,\"size\":%llu,"
			       "\"data_offset\":%u,\"data_len\":%u,\"attributes\":%u,"
			       "\"pages\":%llu,\"extended\":%s,\"mrtd\":\"", i ? "," : "",
			       tdvf_type_name(s->type), (unsigned long long)s->address,
			       (unsigned long long)s->size, s->data_offset, s->data_len,
			       s->attributes, (unsigned long long)st.v[i].pages,
			       st.v[i].extended ? "true" : "false");
			print_hex(stdout, st.v[i].mrtd, 48);
			printf("\"}");
		}
		printf("]}\n");
	} else {
		for (unsigned i = 0; op->verbose && i < st.n; i++) {
			const struct gmem__tdvf_section *s = st.v[i].sec;

			fprintf(stderr, "%-8s gpa 0x%012llx %6llu page%s %s -> ",
				tdvf_type_name(s->type), (unsigned long long)s->address,
				(unsigned long long)st.v[i].pages, st.v[i].pages == 1 ? " " : "s",
				st.v[i].extended ? "added, extended" : "added         ");
			print_hex(stderr, st.v[i].mrtd, 48);
			fputc('\n', stderr);
		}
		print_digest(op, mrtd);
	}
	ret = 0;
out:
	free(t);
	free(img);
	return ret;
}

enum {
	OPT_OVMF = 256, OPT_VCPUS, OPT_VCPU_TYPE, OPT_VCPU_SIG, OPT_FAMILY, OPT_MODEL,
	OPT_STEPPING, OPT_VMM, OPT_FEATURES, OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_FORMAT,
	OPT_OVMF_HASH, OPT_MODE, OPT_JSON, OPT_DUMP_VMSA, OPT_TDVF,
};

static int num_opt(const char *name, const char *arg, int base,
		   unsigned long long max, unsigned long long *v, bool *have)
{
	if (parse_num(arg, base, max, v))
		return gmemctl_usage_error(CMD, "bad %s '%s'", name, arg);
	if (have)
		*have = true;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ovmf", required_argument, NULL, OPT_OVMF },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "vcpu-type", required_argument, NULL, OPT_VCPU_TYPE },
		{ "vcpu-sig", required_argument, NULL, OPT_VCPU_SIG },
		{ "vcpu-family", required_argument, NULL, OPT_FAMILY },
		{ "vcpu-model", required_argument, NULL, OPT_MODEL },
		{ "vcpu-stepping", required_argument, NULL, OPT_STEPPING },
		{ "vmm-type", required_argument, NULL, OPT_VMM },
		{ "guest-features", required_argument, NULL, OPT_FEATURES },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "output-format", required_argument, NULL, OPT_FORMAT },
		{ "snp-ovmf-hash", required_argument, NULL, OPT_OVMF_HASH },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dump-vmsa", no_argument, NULL, OPT_DUMP_VMSA },
		{ "tdvf", required_argument, NULL, OPT_TDVF },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts op = { .vmm_type = "QEMU", .format = "hex", .features = 0x1 };
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		/* The option as given: "--name value" or "--name=value". */
		if (c != OPT_TDVF && c != OPT_JSON && c != OPT_FORMAT && c != 'v' && c != '?')
			op.snp_only = argv[optind - 1 - (optarg && optarg == argv[optind - 1])];
		switch (c) {
		case OPT_TDVF: op.tdvf = optarg; break;
		case OPT_OVMF: op.ovmf = optarg; break;
		case OPT_VCPUS:
			ret = num_opt("--vcpus", optarg, 10, UINT_MAX, &op.vcpus, &op.have_vcpus);
			break;
		case OPT_VCPU_TYPE: op.vcpu_type = optarg; break;
		case OPT_VCPU_SIG:
			ret = num_opt("--vcpu-sig", optarg, 0, UINT32_MAX, &op.sig, &op.have_sig);
			break;
		case OPT_FAMILY:
			ret = num_opt("--vcpu-family", optarg, 10, UINT_MAX, &op.family, &op.have_family);
			break;
		case OPT_MODEL:
			ret = num_opt("--vcpu-model", optarg, 10, UINT_MAX, &op.model, &op.have_model);
			break;
		case OPT_STEPPING:
			ret = num_opt("--vcpu-stepping", optarg, 10, UINT_MAX, &op.stepping, &op.have_stepping);
			break;
		case OPT_VMM: op.vmm_type = optarg; break;
		case OPT_FEATURES:
			ret = num_opt("--guest-features", optarg, 0, UINT64_MAX, &op.features, NULL);
			break;
		case OPT_KERNEL: op.kernel = optarg; break;
		case OPT_INITRD: op.initrd = optarg; break;
		case OPT_APPEND: op.append = optarg; break;
		case OPT_FORMAT: op.format = optarg; break;
		case OPT_OVMF_HASH: op.ovmf_hash = optarg; break;
		case OPT_MODE: op.mode = optarg; break;
		case OPT_JSON: op.json = true; break;
		case OPT_DUMP_VMSA: op.dump_vmsa = true; break;
		case 'v': op.verbose = true; break;
		default:
			return gmemctl_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (ret)
		return ret;
	if (optind >= argc)
		return gmemctl_usage_error(CMD, "missing the platform (snp, tdx)");
	if (optind + 1 < argc)
		return gmemctl_usage_error(CMD, "unexpected argument '%s'", argv[optind + 1]);
	if (strcmp(argv[optind], "snp") && strcmp(argv[optind], "tdx"))
		return gmemctl_usage_error(CMD, "unknown platform '%s' (snp, tdx)", argv[optind]);
	if (strcmp(op.format, "hex") && strcmp(op.format, "base64"))
		return gmemctl_usage_error(CMD, "unknown output format '%s' (hex, base64)", op.format);
	if (!strcmp(argv[optind], "tdx")) {
		if (op.snp_only)
			return gmemctl_usage_error(CMD, "%s does not apply to tdx", op.snp_only);
		if (!op.tdvf)
			return gmemctl_usage_error(CMD, "missing --tdvf FILE");
		return measure_tdx(&op);
	}
	if (op.tdvf)
		return gmemctl_usage_error(CMD, "--tdvf does not apply to snp");
	if (op.mode && strcmp(op.mode, "snp") && strcmp(op.mode, "snp:ovmf-hash"))
		return gmemctl_usage_error(CMD, "unknown mode '%s' (snp, snp:ovmf-hash)", op.mode);
	if (!op.ovmf)
		return gmemctl_usage_error(CMD, "missing --ovmf FILE");
	if ((op.initrd || op.append) && !op.kernel)
		return gmemctl_usage_error(CMD, "--initrd and --append need --kernel");
	if (!(op.mode && !strcmp(op.mode, "snp:ovmf-hash"))) {
		if (!op.have_vcpus)
			return gmemctl_usage_error(CMD, "missing --vcpus N");
		if (op.vcpus < 1 || op.vcpus > 4096)
			return gmemctl_usage_error(CMD, "--vcpus must be within 1..4096");
	}
	return measure(&op);
}

const struct gmemctl_cmd gmemctl_cmd_measure = {
	.name = "measure",
	.args = "snp --ovmf FILE --vcpus N --vcpu-type NAME [options] | tdx --tdvf FILE",
	.summary = "predict a guest's SEV-SNP launch digest or TDX MRTD from its inputs",
	.help = "snp: computes the launch digest an SEV-SNP guest will have: the firmware\n"
		"image's pages, its SEV metadata sections (zero, secrets, CPUID and\n"
		"kernel hashes pages) as a VMM hands them over, and each vCPU's initial\n"
		"VMSA as KVM builds it.  Prints the 48-byte digest as 96 hex digits.\n"
		"The options are sev-snp-measure's (see docs/measure.md):\n"
		"  --ovmf FILE            the firmware image (-bios), loaded to end at 4 GiB\n"
		"  --vcpus N              vCPU count (-smp N)\n"
		"  --vcpu-type NAME       QEMU CPU model: EPYC, EPYC-v1..v4, EPYC-IBPB,\n"
		"                         EPYC-Rome[-v1..v3], EPYC-Milan[-v1,-v2],\n"
		"                         EPYC-Genoa[-v1], EPYC-Turin\n"
		"  --vcpu-sig VALUE       CPUID 1 EAX signature instead of a type\n"
		"  --vcpu-family F --vcpu-model M --vcpu-stepping S   the same, by parts\n"
		"  --vmm-type QEMU|ec2    whose reset state the vCPUs have (default QEMU)\n"
		"  --guest-features HEX   VMSA SEV_FEATURES (default 0x1: SNP active)\n"
		"  --kernel FILE [--initrd FILE] [--append TEXT]\n"
		"                         measured direct boot: the kernel hashes page\n"
		"  --snp-ovmf-hash HEX    the digest of the image's pages, precomputed\n"
		"  --mode snp:ovmf-hash   print that digest alone\n"
		"  --output-format hex|base64\n"
		"  --dump-vmsa            write each vCPU's VMSA to vmsa<N>.bin here\n"
		"  -v, --verbose          each run of pages and the digest after it, on stderr\n"
		"  --json                 digest, image sections and every step as JSON\n"
		"tdx: computes the MRTD of a TD booting the TDVF image FILE as QEMU\n"
		"launches it: each TDVF section's pages added (TDH.MEM.PAGE.ADD), those\n"
		"of sections with MR_EXTEND also extended (TDH.MR.EXTEND).  Takes\n"
		"--output-format, -v and --json.\n"
		"Exit status 1 for a bad or unsuitable image, 2 for a usage error.\n",
	.run = run,
};
