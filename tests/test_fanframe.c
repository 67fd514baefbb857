/*
 * Unit tests for fanframe: the 28-byte header against golden bytes, every
 * reason decode refuses a header, and the stream helper on whole, partial,
 * back-to-back and broken frames.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fanframe.h"

/* 192.0.2.10:5353 -> contested port 162, 3 payload bytes. */
static const uint8_t golden_v4[FANFRAME_HDR_LEN] = {
	'P', 'S', 1, 4, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x14, 0xe9, 0x00, 0xa2, 0, 0, 0, 3,
};

/* [2001:db8::1]:65535 -> contested port 13162, 65535 payload bytes. */
static const uint8_t golden_v6[FANFRAME_HDR_LEN] = {
	'P', 'S', 1, 6, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0xff, 0xff, 0x33, 0x6a, 0, 0, 0xff, 0xff,
};

static struct fanframe_hdr v4_hdr(void)
{
	struct fanframe_hdr h = { .family = 4, .origin_port = 5353, .contested_port = 162,
				  .len = 3 };

	memcpy(h.addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
	return h;
}

START_TEST(encode_golden)
{
	struct fanframe_hdr h = v4_hdr();
	uint8_t out[FANFRAME_HDR_LEN];

	ck_assert(fanframe_encode(&h, out));
	ck_assert_mem_eq(out, golden_v4, FANFRAME_HDR_LEN);

	/* Bytes past the first four of an IPv4 address are not written. */
	memset(h.addr + 4, 0xaa, 12);
	ck_assert(fanframe_encode(&h, out));
	ck_assert_mem_eq(out, golden_v4, FANFRAME_HDR_LEN);

	memset(&h, 0, sizeof(h));
	h.family = 6;
	h.addr[0] = 0x20;
	h.addr[1] = 0x01;
	h.addr[2] = 0x0d;
	h.addr[3] = 0xb8;
	h.addr[15] = 1;
	h.origin_port = 65535;
	h.contested_port = 13162;
	h.len = FANFRAME_PAYLOAD_MAX;
	ck_assert(fanframe_encode(&h, out));
	ck_assert_mem_eq(out, golden_v6, FANFRAME_HDR_LEN);
}
END_TEST

START_TEST(encode_refuses)
{
	struct fanframe_hdr h = v4_hdr();
	uint8_t out[FANFRAME_HDR_LEN];

	memset(out, 0x5a, sizeof(out));
	h.family = 0;
	ck_assert(!fanframe_encode(&h, out));
	h.family = 2; /* AF_INET, an easy mistake */
	ck_assert(!fanframe_encode(&h, out));
	h.family = 10; /* AF_INET6 */
	ck_assert(!fanframe_encode(&h, out));
	h.family = 4;
	h.len = FANFRAME_PAYLOAD_MAX + 1;
	ck_assert(!fanframe_encode(&h, out));
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0x5a);
}
END_TEST

START_TEST(decode_golden)
{
	struct fanframe_hdr h;
	uint8_t again[FANFRAME_HDR_LEN];

	ck_assert(fanframe_decode(golden_v4, sizeof(golden_v4), &h));
	ck_assert_uint_eq(h.family, 4);
	ck_assert_mem_eq(h.addr, ((const uint8_t[16]){ 192, 0, 2, 10 }), 16);
	ck_assert_uint_eq(h.origin_port, 5353);
	ck_assert_uint_eq(h.contested_port, 162);
	ck_assert_uint_eq(h.len, 3);
	ck_assert(fanframe_encode(&h, again));
	ck_assert_mem_eq(again, golden_v4, FANFRAME_HDR_LEN);

	ck_assert(fanframe_decode(golden_v6, sizeof(golden_v6), &h));
	ck_assert_uint_eq(h.family, 6);
	ck_assert_uint_eq(h.addr[0], 0x20);
	ck_assert_uint_eq(h.addr[15], 1);
	ck_assert_uint_eq(h.origin_port, 65535);
	ck_assert_uint_eq(h.contested_port, 13162);
	ck_assert_uint_eq(h.len, 65535);
	ck_assert(fanframe_encode(&h, again));
	ck_assert_mem_eq(again, golden_v6, FANFRAME_HDR_LEN);
}
END_TEST

/* One byte of the IPv4 golden header changed, which decode must refuse. */
static const struct {
	size_t off;
	uint8_t value;
} bad_bytes[] = {
	{ 0, 'p' },  { 0, 0 },  { 1, 's' }, { 1, 'P' },
	{ 2, 0 },    { 2, 2 },  { 2, 0xff },
	{ 3, 0 },    { 3, 2 },  { 3, 5 },   { 3, 10 }, { 3, 0xff },
	{ 8, 1 },    { 12, 1 }, { 19, 0x80 },           /* IPv4 padding */
	{ 24, 1 },   { 25, 1 }, { 24, 0x80 },           /* length > 65535 */
};

START_TEST(decode_bad_byte)
{
	uint8_t buf[FANFRAME_HDR_LEN];
	struct fanframe_hdr h;
	size_t frame_len = 99;

	memcpy(buf, golden_v4, sizeof(buf));
	buf[bad_bytes[_i].off] = bad_bytes[_i].value;
	ck_assert(!fanframe_decode(buf, sizeof(buf), &h));
	ck_assert_uint_eq(h.family, 0);
	ck_assert_uint_eq(h.len, 0);
	ck_assert(!fanframe_stream_next(buf, sizeof(buf), &frame_len));
	ck_assert_uint_eq(frame_len, 0);
}
END_TEST

START_TEST(decode_lengths)
{
	uint8_t buf[FANFRAME_HDR_LEN + 4];
	struct fanframe_hdr h;

	memcpy(buf, golden_v4, FANFRAME_HDR_LEN);
	for (size_t len = 0; len < FANFRAME_HDR_LEN; len++)
		ck_assert(!fanframe_decode(buf, len, &h));
	/* decode reads the header only: a missing payload does not matter. */
	ck_assert(fanframe_decode(buf, FANFRAME_HDR_LEN, &h));
	ck_assert(fanframe_decode(buf, sizeof(buf), &h));
	/* The IPv6 address may hold anything, padding bytes included. */
	memcpy(buf, golden_v6, FANFRAME_HDR_LEN);
	memset(buf + 4, 0xff, 16);
	ck_assert(fanframe_decode(buf, FANFRAME_HDR_LEN, &h));
	ck_assert_uint_eq(h.addr[8], 0xff);
}
END_TEST

START_TEST(stream_frames)
{
	/* Two frames back to back: 3 payload bytes, then none. */
	uint8_t buf[2 * FANFRAME_HDR_LEN + 3];
	struct fanframe_hdr h = v4_hdr();
	size_t frame_len;

	ck_assert(fanframe_encode(&h, buf));
	memcpy(buf + FANFRAME_HDR_LEN, "abc", 3);
	h.len = 0;
	ck_assert(fanframe_encode(&h, buf + FANFRAME_HDR_LEN + 3));

	/* Every prefix of the first frame asks for more, without error. */
	for (size_t len = 0; len < FANFRAME_HDR_LEN + 3; len++) {
		frame_len = 99;
		ck_assert_msg(fanframe_stream_next(buf, len, &frame_len), "len %zu", len);
		ck_assert_uint_eq(frame_len, 0);
	}
	for (size_t len = FANFRAME_HDR_LEN + 3; len <= sizeof(buf); len++) {
		ck_assert(fanframe_stream_next(buf, len, &frame_len));
		ck_assert_uint_eq(frame_len, FANFRAME_HDR_LEN + 3);
	}
	/* The second frame is only a header. */
	ck_assert(fanframe_stream_next(buf + 31, FANFRAME_HDR_LEN - 1, &frame_len));
	ck_assert_uint_eq(frame_len, 0);
	ck_assert(fanframe_stream_next(buf + 31, FANFRAME_HDR_LEN, &frame_len));
	ck_assert_uint_eq(frame_len, FANFRAME_HDR_LEN);
}
END_TEST

START_TEST(stream_early_errors)
{
	static const struct {
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "X", 1 }, { "PX", 2 }, { "PS\x02", 3 }, { "PS\x01\x05", 4 },
		{ "PS\x01\x04\x0a\x00\x00\x01\x01", 9 }, /* IPv4 padding, seen early */
		{ "HTTP/1.1 200 OK", 15 },
	};
	size_t frame_len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		frame_len = 99;
		ck_assert_msg(!fanframe_stream_next((const uint8_t *)cases[i].bytes,
						    cases[i].len, &frame_len),
			      "case %zu", i);
		ck_assert_uint_eq(frame_len, 0);
	}
	/* A good start is no error yet. */
	ck_assert(fanframe_stream_next((const uint8_t *)"PS\x01\x06\xff", 5, &frame_len));
	ck_assert(fanframe_stream_next((const uint8_t *)"PS\x01\x04\x0a\x00\x00\x01\x00", 9,
				       &frame_len));
	ck_assert_uint_eq(frame_len, 0);
}
END_TEST

static Suite *fanframe_suite(void)
{
	Suite *s = suite_create("fanframe");
	TCase *tc = tcase_create("fanframe");

	tcase_add_test(tc, encode_golden);
	tcase_add_test(tc, encode_refuses);
	tcase_add_test(tc, decode_golden);
	tcase_add_loop_test(tc, decode_bad_byte, 0, sizeof(bad_bytes) / sizeof(bad_bytes[0]));
	tcase_add_test(tc, decode_lengths);
	tcase_add_test(tc, stream_frames);
	tcase_add_test(tc, stream_early_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fanframe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
