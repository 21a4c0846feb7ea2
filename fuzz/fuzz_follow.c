/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the messages a child of fork() decodes from its
 * parent (src/follow.c), and the parent's attributes it keeps from them.
 *   - gmem__follow_decode() accepts exactly the well-formed changes (the
 *     right length and type, to_private 0 or 1, whole pages, not empty,
 *     no overflow), and what it accepts encodes back to the same bytes;
 *   - gmem__follow_clip() keeps exactly the part inside the file;
 *   - after every accepted change, the told attributes match a page array
 *     (each page's answer, and the run's end exactly where it changes).
 * Input: one byte for the file size (1..64 pages), then messages of
 * GMEM_FOLLOW_MSG_MAX bytes; the remaining bytes are decoded once at
 * their own (wrong) length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"

#define PG GMEM_FOLLOW_PAGE
#define MAXP 64

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz_follow: ");				\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

static uint64_t field(const uint8_t *m, size_t at, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, m + at, n);	/* little-endian host */
	return v;
}

/* What a well-formed message is, from its bytes. */
static bool well_formed(const uint8_t *m)
{
	uint64_t type = field(m, 0, 4), priv = field(m, 4, 4);
	uint64_t off = field(m, 24, 8), len = field(m, 32, 8);

	return type == 2 && priv <= 1 && len && !((off | len) % PG) &&
	       off + len >= off;
}

static void check_told(const struct gmem_follow_told *t, const bool *model,
		       unsigned np)
{
	for (unsigned p = 0; p < np; p++) {
		uint64_t end = 0, want = p + 1;
		bool priv = gmem__follow_told_private(t, p * PG, &end);

		while (want < np && model[want] == model[p])
			want++;
		if (priv != model[p] || end != want * PG)
			FAIL("page %u: told %d (run to %#llx), model %d (run to %#llx)",
			     p, priv, (unsigned long long)end, model[p],
			     (unsigned long long)(want * PG));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem_follow_told *t;
	bool model[MAXP] = { false };
	unsigned np;

	if (!size)
		return 0;
	np = data[0] % MAXP + 1;
	data++;
	size--;
	if (gmem__follow_told_new(&t, np * PG))
		FAIL("told_new of %u pages", np);
	for (; size >= GMEM_FOLLOW_MSG_MAX;
	     data += GMEM_FOLLOW_MSG_MAX, size -= GMEM_FOLLOW_MSG_MAX) {
		struct gmem_follow_change c;
		uint8_t back[GMEM_FOLLOW_MSG_MAX];
		uint64_t s, e, want_e;
		int r = gmem__follow_decode(data, GMEM_FOLLOW_MSG_MAX, &c);

		if ((r == 0) != well_formed(data) || (r && r != -EINVAL))
			FAIL("decode: %d for a %swell-formed message", r,
			     well_formed(data) ? "" : "not ");
		if (r)
			continue;
		if (gmem__follow_encode(&c, back) != GMEM_FOLLOW_MSG_MAX ||
		    memcmp(back, data, GMEM_FOLLOW_MSG_MAX))
			FAIL("encode(decode(m)) != m");
		want_e = c.off + c.len < np * PG ? c.off + c.len : np * PG;
		if (!gmem__follow_clip(&c, np * PG, &s, &e)) {
			if (c.off < np * PG)
				FAIL("clip: nothing of [%#llx, +%#llx) in %u pages",
				     (unsigned long long)c.off,
				     (unsigned long long)c.len, np);
			continue;
		}
		if (s != c.off || e != want_e || s >= e)
			FAIL("clip: [%#llx, %#llx)", (unsigned long long)s,
			     (unsigned long long)e);
		if (gmem__follow_told_set(t, s, e, c.to_private))
			FAIL("told_set");
		for (uint64_t p = s / PG; p < e / PG; p++)
			model[p] = c.to_private;
		check_told(t, model, np);
	}
	if (size) {
		struct gmem_follow_change c;

		if (gmem__follow_decode(data, size, &c) != -EINVAL)
			FAIL("decode of %zu bytes accepted", size);
	}
	gmem__follow_told_free(t);
	return 0;
}
