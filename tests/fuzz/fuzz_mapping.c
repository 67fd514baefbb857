/*
 * libFuzzer harness for mapping.c, compiled directly against the real file:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *         -o build/fuzz_mapping tests/fuzz/fuzz_mapping.c src/mapping.c
 *
 * The whole input is first tried as an address.  Then, when it is long
 * enough, its first eight bytes become a row's proto, ports and flags and the
 * rest an address and a comment separated by the first newline; the row is
 * validated and checked for conflicts.  Besides the sanitizers' findings,
 * the harness aborts when a documented property does not hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mapping.h"

#define HEADER_LEN 8

static void require(int cond)
{
	if (!cond)
		abort();
}

/* A canonical address must be its own canonical form. */
static void check_canonical(const char *address, int family)
{
	char again[MAPPING_ADDRESS_MAX];
	struct mapping_error err;
	int family2 = -1;

	require(strlen(address) < MAPPING_ADDRESS_MAX);
	require(mapping_normalize_address(address, again, &family2, &err));
	require(strcmp(address, again) == 0);
	require(family == family2);
	require(family == 0 || family == AF_INET || family == AF_INET6);
}

static void fuzz_address(const char *s)
{
	char out[MAPPING_ADDRESS_MAX];
	struct mapping_error err;
	int family;

	if (mapping_normalize_address(s, out, &family, &err)) {
		check_canonical(out, family);
		return;
	}
	require(err.status == 422);
	require(strcmp(err.field, "address") == 0);
	require(memchr(err.message, '\0', sizeof(err.message)) != NULL);
}

/*
 * Copies len bytes into a fixed array; with terminate false and enough
 * bytes the array is left without a NUL, as a careless decoder might.
 */
static void fill(char *dst, size_t cap, const uint8_t *src, size_t len,
		 int terminate)
{
	if (len >= cap)
		len = terminate ? cap - 1 : cap;
	memcpy(dst, src, len);
	if (len < cap)
		dst[len] = '\0';
}

static void fuzz_row(const uint8_t *data, size_t size)
{
	struct mapping m, rows[3];
	struct mapping_error err;
	const uint8_t *rest = data + HEADER_LEN;
	size_t rest_len = size - HEADER_LEN;
	const uint8_t *nl = memchr(rest, '\n', rest_len);
	size_t addr_len = nl ? (size_t)(nl - rest) : rest_len;

	memset(&m, 0, sizeof(m));
	m.id = data[7] >> 4;
	m.proto = data[0] & 7;
	m.shared_port = (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	m.assigned_port = (uint32_t)data[4] << 16 | (uint32_t)data[5] << 8 | data[6];
	m.enabled = data[7] & 1;
	fill(m.address, sizeof(m.address), rest, addr_len, !(data[7] & 2));
	if (nl)
		fill(m.comment, sizeof(m.comment), nl + 1, rest_len - addr_len - 1,
		     !(data[7] & 4));

	if (!mapping_validate(&m, &err)) {
		require(err.status == 422);
		return;
	}
	require(m.proto >= MAPPING_TCP && m.proto <= MAPPING_BOTH);
	require(m.shared_port >= 1 && m.shared_port <= 65535);
	require(m.assigned_port >= 1 && m.assigned_port <= 65535);
	require(m.shared_port != m.assigned_port);
	require(strlen(m.comment) < MAPPING_COMMENT_MAX);
	check_canonical(m.address, m.family);

	/* Against itself under another id a valid row is always a duplicate... */
	rows[0] = m;
	rows[0].id = m.id + 1;
	require(!mapping_check_conflicts(&m, rows, 1, &err));
	require(err.status == 409 && strcmp(err.code, "duplicate") == 0);
	/* ...and under its own id it is skipped. */
	rows[0].id = m.id;
	require(mapping_check_conflicts(&m, rows, 1, &err));

	/* Its mirror image collides on both ports at once. */
	rows[1] = m;
	rows[1].id = m.id + 1;
	rows[1].shared_port = m.assigned_port;
	rows[1].assigned_port = m.shared_port;
	rows[2] = rows[1];
	rows[2].id = m.id + 2;
	rows[2].proto = m.proto == MAPPING_TCP ? MAPPING_UDP : MAPPING_TCP;
	require(!mapping_check_conflicts(&m, rows, 3, &err));
	require(err.status == 409 && strcmp(err.code, "port_conflict") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_address(s);
	free(s);
	if (size >= HEADER_LEN)
		fuzz_row(data, size);
	return 0;
}
