/*
 * util: the few helpers every module may use.  Macros and small inline
 * functions only, so there is no util.c to link.
 */
#ifndef PORTSHARE_UTIL_H
#define PORTSHARE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

#endif
