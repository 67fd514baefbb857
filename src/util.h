/*
 * util: the few helpers every module may use.  Macros and small inline
 * functions only, so there is no util.c to link.
 */
#ifndef PORTSHARE_UTIL_H
#define PORTSHARE_UTIL_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The number of elements of an array (not of a pointer). */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * FNV-1a over n bytes: cheap and good enough for keys without padding.
 * Callers that index a table by the low bits mix the result further.
 */
static inline uint64_t util_fnv1a(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * The control plane keeps its groups, backends, rules, contested ports and
 * subscribers as arrays of rows ordered by an int64_t id at byte offset
 * id_off.  The index of the row with id, found by binary search, or -1.
 */
static inline ssize_t util_rows_find(const void *rows, size_t n, size_t size,
				     size_t id_off, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t v;

		memcpy(&v, (const char *)rows + mid * size + id_off, sizeof(v));
		if (v == id)
			return (ssize_t)mid;
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Removes row i of *n rows of size bytes, keeping the others in order. */
static inline void util_rows_remove(void *rows, size_t *n, size_t size, size_t i)
{
	memmove((char *)rows + i * size, (char *)rows + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

/*
 * A malloc'd copy of n rows of size bytes with room for one more, so that
 * it is never NULL for n == 0 and an insert needs no reallocation; NULL
 * when out of memory.
 */
static inline void *util_rows_dup(const void *rows, size_t n, size_t size)
{
	void *out = malloc((n + 1) * size);

	/* memcpy from a NULL array, even of 0 bytes, is undefined. */
	if (out && n)
		memcpy(out, rows, n * size);
	return out;
}

/* The index of s in a table of n names, or -1 when it is not there. */
static inline int util_name_find(const char *const *names, size_t n,
				 const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* Name i of a table of n names, or "unknown" for a value outside it. */
static inline const char *util_name_at(const char *const *names, size_t n,
				       unsigned i)
{
	return i < n ? names[i] : "unknown";
}

/*
 * Copies the first plen bits of a 16-byte address (IPv4 in the first 4
 * bytes) and zeroes the rest; out may be addr.  Two 64-bit words rather
 * than 16 bytes, because group routing masks a client's address once per
 * prefix length.
 */
static inline void util_prefix_mask(uint8_t out[16], const uint8_t addr[16],
				    unsigned plen)
{
	uint64_t w[2];

	memcpy(w, addr, sizeof(w));
	for (unsigned i = 0; i < 2; i++) {
		unsigned bits = plen > 64 * i ? plen - 64 * i : 0;
		uint64_t mask = bits >= 64 ? ~0ULL : bits ? ~0ULL << (64 - bits) : 0;

		w[i] &= htobe64(mask);
	}
	memcpy(out, w, sizeof(w));
}

/* True when two 16-byte addresses agree on their first plen bits. */
static inline bool util_prefix_eq(const uint8_t a[16], const uint8_t b[16],
				  unsigned plen)
{
	uint8_t ma[16], mb[16];

	util_prefix_mask(ma, a, plen);
	util_prefix_mask(mb, b, plen);
	return memcmp(ma, mb, sizeof(ma)) == 0;
}

#endif
