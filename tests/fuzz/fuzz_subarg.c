/*
 * libFuzzer harness for subarg.c, compiled directly against the real file
 * (and regproto.c, which checks --address):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -iquote src \
 *         -o build/fuzz_subarg tests/fuzz/fuzz_subarg.c src/subarg.c src/regproto.c
 *
 * The input, cut at its first NUL as a command line would be, is tried
 * as every kind of value: a TARGET, a --bind and a --forward HOST:PORT,
 * seconds, a number, each option of the table, and the payload of a --hex
 * line.  Whatever parses must satisfy the documented invariants and read
 * back the same once written in its canonical form.  Besides the
 * sanitizers' findings, the harness aborts when one fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subarg.h"

static void require(int cond)
{
	if (!cond)
		abort();
}

/* A host as subarg.h allows it: 1..SUBARG_HOST_MAX - 1 printable, no blank or [ ] /. */
static void require_host(const char *host)
{
	size_t n = strnlen(host, SUBARG_HOST_MAX);

	require(n > 0 && n < SUBARG_HOST_MAX);
	for (size_t i = 0; i < n; i++)
		require(host[i] > ' ' && host[i] <= '~' && strchr("[]/", host[i]) == NULL);
}

static void fuzz_target(const char *s)
{
	struct subarg_target t, again;
	char spec[2 * SUBARG_NAME_MAX], name[SUBARG_NAME_MAX];
	const char *why = "unset";
	bool v6;

	if (!subarg_target(s, &t, &why)) {
		require(why != NULL && why[0] != '\0');
		return;
	}
	require(why == NULL);
	require_host(t.host);
	require(t.contested != 0 && t.regport != 0);
	v6 = strchr(t.host, ':') != NULL;
	snprintf(name, sizeof(name), v6 ? "[%s]/%u" : "%s/%u", t.host, t.contested);
	require(strcmp(name, t.name) == 0);
	snprintf(spec, sizeof(spec), v6 ? "[%s]:%u/%u" : "%s:%u/%u", t.host, t.regport,
		 t.contested);
	require(subarg_target(spec, &again, &why));
	require(strcmp(again.host, t.host) == 0 && again.regport == t.regport &&
		again.contested == t.contested && strcmp(again.name, t.name) == 0);
}

static void fuzz_hostport(const char *s)
{
	struct subarg_hostport hp, again;
	char text[SUBARG_HOST_MAX + 16];
	bool any = subarg_hostport(s, false, &hp);

	if (!any) {
		require(!subarg_hostport(s, true, &again));
		return;
	}
	require_host(hp.host);
	/* --forward takes exactly what --bind takes with a port. */
	require(subarg_hostport(s, true, &again) == (hp.port != 0));
	if (hp.port != 0)
		snprintf(text, sizeof(text), "[%s]:%u", hp.host, hp.port);
	else
		snprintf(text, sizeof(text), "[%s]", hp.host);
	require(subarg_hostport(text, false, &again));
	require(strcmp(again.host, hp.host) == 0 && again.port == hp.port);
}

static void fuzz_numbers(const char *s)
{
	unsigned long v, w;
	unsigned ms, ms0;
	uint16_t port;
	char text[32];

	if (subarg_number(s, ~0UL, &v)) {
		require(v != 0);
		snprintf(text, sizeof(text), "%lu", v);
		require(subarg_number(text, v, &w) && w == v && !subarg_number(text, v - 1, &w));
	}
	if (subarg_port(s, &port))
		require(port != 0);
	if (subarg_seconds(s, false, &ms)) {
		require(ms >= SUBARG_SECONDS_MIN_MS && ms <= SUBARG_SECONDS_MAX_MS);
		require(subarg_seconds(s, true, &ms0) && ms0 == ms);
		snprintf(text, sizeof(text), "%u.%03u", ms / 1000, ms % 1000);
		require(subarg_seconds(text, false, &ms0) && ms0 == ms);
	} else if (subarg_seconds(s, true, &ms0)) {
		require(ms0 == 0);
	}
}

static void fuzz_options(const char *s)
{
	for (size_t i = 0; i < SUBARG_NOPTS; i++) {
		struct subarg_opts o = SUBARG_OPTS_INIT;
		const char *why;

		if (subarg_options[i].set(&o, subarg_options[i].arg ? s : NULL)) {
			require(o.retry_ms != 0);
			if (subarg_check(&o, &why))
				require(why == NULL);
			else
				require(why != NULL);
		}
	}
}

static void fuzz_hexline(const uint8_t *data, size_t size, const char *s)
{
	char *out = malloc(SUBARG_HEXLINE_MAX(size));
	char origin[SUBARG_HOST_MAX];
	size_t n;

	if (out == NULL)
		return;
	n = subarg_hexline(NULL, 0, data, size, out);
	require(n == 2 * size + 1 && strlen(out) == n && out[n - 1] == '\n');
	snprintf(origin, sizeof(origin), "%s", s);
	n = subarg_hexline(origin, 65535, data, size, out);
	require(n < SUBARG_HEXLINE_MAX(size) && out[n - 1] == '\n' && out[n] == '\0');
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the string, so reading past its NUL is caught. */
	size_t len = strnlen((const char *)data, size);
	char *s = malloc(len + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	fuzz_target(s);
	fuzz_hostport(s);
	fuzz_numbers(s);
	fuzz_options(s);
	fuzz_hexline(data, size, s);
	free(s);
	return 0;
}
