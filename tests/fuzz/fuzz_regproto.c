/*
 * libFuzzer harness for regproto.c, compiled directly against the real file:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -iquote src \
 *         -o build/fuzz_regproto tests/fuzz/fuzz_regproto.c src/regproto.c
 *
 * The input is parsed both as a request (the daemon's side) and as a reply
 * or notice (the subscriber's side).  Whatever parses must satisfy the
 * documented invariants and survive a round trip through the formatters:
 * formatting what was parsed and parsing that again gives the same thing.
 * Besides the sanitizers' findings, the harness aborts when one fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "regproto.h"

static void require(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_request(const char *buf, size_t len)
{
	struct regproto_request req, again;
	enum regproto_reply reply;
	char out[REGPROTO_MAX];
	size_t n;

	if (!regproto_parse_request(buf, len, &req)) {
		require(req.cmd == REGPROTO_UNKNOWN && req.host[0] == '\0');
		return;
	}
	require(memchr(req.host, '\0', sizeof(req.host)) != NULL);
	require(!req.has_port || req.port != 0);
	require(!req.has_delivery || req.delivery_port != 0);
	if (req.cmd == REGPROTO_UNKNOWN)
		require(req.host[0] == '\0' && !req.has_port && !req.has_delivery);
	if (!regproto_request_check(&req, &reply)) {
		require(reply == REGPROTO_R_UNKNOWN || reply == REGPROTO_R_INVALID_ADDR ||
			reply == REGPROTO_R_PORT_MISSING);
		require(regproto_format_reply(reply, NULL, 0, out, sizeof(out)) > 0);
		return;
	}
	n = regproto_format_request(req.cmd, req.host, req.port,
				    req.has_delivery ? req.delivery_port : 0, out, sizeof(out));
	require(n > 0 && n <= REGPROTO_MAX);
	require(regproto_parse_request(out, n, &again));
	require(memcmp(&req, &again, sizeof(req)) == 0);
}

static void fuzz_message(const char *buf, size_t len)
{
	struct regproto_message msg, again;
	char out[REGPROTO_MAX];
	size_t n;

	if (!regproto_parse_message(buf, len, &msg)) {
		require(!msg.shutdown && msg.addr[0] == '\0' && msg.port == 0);
		return;
	}
	require(memchr(msg.addr, '\0', sizeof(msg.addr)) != NULL);
	if (msg.shutdown) {
		n = regproto_format_shutdown(msg.addr, msg.port, out, sizeof(out));
	} else {
		require(msg.reply < REGPROTO_R_COUNT);
		require((msg.reply == REGPROTO_R_OK_ADD) == (msg.port != 0));
		n = regproto_format_reply(msg.reply, msg.addr, msg.port, out, sizeof(out));
	}
	require(n > 0 && n <= REGPROTO_MAX);
	require(regproto_parse_message(out, n, &again));
	require(memcmp(&msg, &again, sizeof(msg)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so reading past them is caught. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_request(buf, size);
	fuzz_message(buf, size);
	free(buf);
	return 0;
}
