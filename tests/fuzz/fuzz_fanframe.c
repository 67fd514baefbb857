/*
 * libFuzzer harness for fanframe.c, compiled directly against the real file:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -iquote src \
 *         -o build/fuzz_fanframe tests/fuzz/fuzz_fanframe.c src/fanframe.c
 *
 * The input is decoded as a header and walked as a stream of frames.  A
 * header that decodes must encode back to the same 28 bytes; the stream
 * helper must agree with decode, never claim more bytes than it was given,
 * and, once it has called a prefix bad, call every longer one bad too.
 * Besides the sanitizers' findings, the harness aborts when one fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanframe.h"

static void require(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_header(const uint8_t *buf, size_t len)
{
	struct fanframe_hdr h;
	uint8_t again[FANFRAME_HDR_LEN];

	if (!fanframe_decode(buf, len, &h))
		return;
	require(len >= FANFRAME_HDR_LEN);
	require(h.family == 4 || h.family == 6);
	require(h.len <= FANFRAME_PAYLOAD_MAX);
	require(fanframe_encode(&h, again));
	require(memcmp(again, buf, FANFRAME_HDR_LEN) == 0);
}

static void fuzz_stream(const uint8_t *buf, size_t len)
{
	struct fanframe_hdr h;
	bool bad = false;
	size_t frame_len;

	/* Every prefix of the first header, then the whole input. */
	for (size_t k = 0; k <= len && k <= FANFRAME_HDR_LEN; k++) {
		bool ok = fanframe_stream_next(buf, k, &frame_len);

		require(!(bad && ok));
		bad = !ok;
	}
	/* Frames one after another, as a reader would consume them. */
	while (len > 0) {
		bool ok = fanframe_stream_next(buf, len, &frame_len);

		if (len >= FANFRAME_HDR_LEN)
			require(ok == fanframe_decode(buf, len, &h));
		if (!ok || frame_len == 0)
			return;
		require(frame_len >= FANFRAME_HDR_LEN && frame_len <= len);
		require(fanframe_decode(buf, len, &h));
		require(frame_len == FANFRAME_HDR_LEN + h.len);
		buf += frame_len;
		len -= frame_len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_header(buf, size);
	fuzz_stream(buf, size);
	free(buf);
	return 0;
}
