/* SPDX-License-Identifier: MIT */
/*
 * Scenario verbs that set a scenario up: vm, gmem, bind, finalize.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool in_list(const char *const *l, const char *name)
{
	for (; l && *l; l++)
		if (!strcmp(*l, name))
			return true;
	return false;
}

/* "a, b, c" from a NULL-terminated list, for messages. */
static const char *list_str(const char *const *l)
{
	static char buf[160];
	size_t n = 0;

	buf[0] = '\0';
	for (; l && *l && n < sizeof(buf); l++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? ", " : "", *l);
	return buf;
}

static int p_vm(struct scenario *s, struct step *st)
{
	const char *t;

	if (sc_need(s, &t, "platform"))
		return -1;
	if (strlen(t) > NAME_MAX_LEN)
		return sc_syntax(s, "vm: platform name too long");
	strcpy(st->name, t);
	while ((t = sc_next(s))) {
		if (!strcmp(t, "policy")) {
			if (sc_need(s, &t, "policy name"))
				return -1;
			if (strlen(t) > NAME_MAX_LEN)
				return sc_syntax(s, "vm: policy name too long");
			strcpy(st->word, t);
		} else if (!strcmp(t, "seed")) {
			if (sc_num(s, &st->num, "seed"))
				return -1;
			st->has_len = true;	/* a seed was given */
		} else {
			return sc_syntax(s, "vm: unexpected '%s' (policy NAME, seed N)", t);
		}
	}
	if (!in_list(gmem_platform_names(), st->name))
		return sc_syntax(s, "vm: unknown platform '%s' (%s)", st->name,
				 list_str(gmem_platform_names()));
	if (st->word[0] && !in_list(gmem_policy_names(), st->word))
		return sc_syntax(s, "vm: unknown policy '%s' (%s)", st->word,
				 list_str(gmem_policy_names()));
	if (s->pvm)
		return sc_syntax(s, "vm: one VM per scenario");
	s->pvm = true;
	return 0;
}

static int x_vm(struct scenario *s, struct step *st)
{
	char old[32] = "", *prev = getenv("GMEM_SCRAMBLE_SEED");
	int ret;

	/* The library reads the scramble seed from the environment when the
	 * VM is created; restore it so nothing leaks past this line. */
	if (st->has_len) {
		char seed[32];

		if (prev)
			snprintf(old, sizeof(old), "%s", prev);
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)st->num);
		setenv("GMEM_SCRAMBLE_SEED", seed, 1);
	}
	ret = gmem_vm_create(&s->vm, st->name, st->word[0] ? st->word : NULL);
	if (st->has_len) {
		if (prev)
			setenv("GMEM_SCRAMBLE_SEED", old, 1);
		else
			unsetenv("GMEM_SCRAMBLE_SEED");
	}
	if (ret)
		s->vm = NULL;
	return ret;
}

static int p_gmem(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return sc_syntax(s, "gmem: no VM yet (start with 'vm PLATFORM')");
	if (sc_need(s, &t, "name"))
		return -1;
	if (strlen(t) > NAME_MAX_LEN || (t[0] >= '0' && t[0] <= '9'))
		return sc_syntax(s, "gmem: bad name '%s' (a word of at most %d characters)",
				 t, NAME_MAX_LEN);
	for (unsigned i = 0; i < s->npnames; i++)
		if (!strcmp(s->pnames[i], t))
			return sc_syntax(s, "gmem: '%s' already exists", t);
	if (s->npnames == MAX_GMEMS)
		return sc_syntax(s, "gmem: at most %d gmem files", MAX_GMEMS);
	strcpy(st->name, t);
	sc_accept(s, "size");
	if (sc_num(s, &st->len, "size"))
		return -1;
	if (s->o.max_gmem_size && st->len > s->o.max_gmem_size)
		return sc_syntax(s, "gmem: size above this interpreter's limit");
	while ((t = sc_next(s))) {
		if (!strcmp(t, "mmap"))
			st->flags |= GMEM_FLAG_MMAP;
		else if (!strcmp(t, "shared"))
			st->flags |= GMEM_FLAG_INIT_SHARED;
		else if (!strcmp(t, "flags")) {
			uint64_t f;

			if (sc_num(s, &f, "flags"))
				return -1;
			st->flags |= f;
		} else
			return sc_syntax(s, "gmem: unexpected '%s' (mmap, shared, flags N)", t);
	}
	st->gi = (int)s->npnames;
	strcpy(s->pnames[s->npnames++], st->name);
	return 0;
}

static int x_gmem(struct scenario *s, struct step *st)
{
	struct sgmem *sg = &s->gm[st->gi];
	int ret;

	if (!s->vm)
		return -ENODEV;
	ret = gmem_create(s->vm, st->len, st->flags, &sg->g);
	if (ret) {
		/* The name stays declared; later uses see no file. */
		sg->g = NULL;
		return ret;
	}
	strcpy(sg->name, st->name);
	if ((unsigned)st->gi >= s->ngm)
		s->ngm = (unsigned)st->gi + 1;
	return 0;
}

static int p_bind(struct scenario *s, struct step *st)
{
	return sc_gmem_ref(s, st) || sc_num(s, &st->num, "guest physical address") ||
	       sc_no_more(s) ? -1 : 0;
}

static int x_bind(struct scenario *s, struct step *st)
{
	return gmem_bind(G(s, st)->g, st->num);
}

static int p_finalize(struct scenario *s, struct step *st)
{
	return sc_no_more(s);
}

static int x_finalize(struct scenario *s, struct step *st)
{
	return s->vm ? gmem_vm_finalize(s->vm) : -ENODEV;
}

const struct verb sc_setup_verbs[] = {
	{ .name = "vm", .parse = p_vm, .exec = x_vm, .without_vm = true },
	{ .name = "gmem", .parse = p_gmem, .exec = x_gmem, .makes_gmem = true },
	{ .name = "bind", .parse = p_bind, .exec = x_bind },
	{ .name = "finalize", .parse = p_finalize, .exec = x_finalize },
	{ .name = NULL },
};
