/*
 * Unit tests for fanpkt: the headers of fan-out copies carry complete
 * checksums (checked by summing the whole datagram the way a receiver
 * does), and only whole UDP datagrams are taken apart.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fanpkt.h"

static struct fanpkt_end end(int family, const char *addr, uint16_t port)
{
	struct fanpkt_end e = { .family = (uint8_t)family, .port = port };

	ck_assert_int_eq(inet_pton(family, addr, e.addr), 1);
	return e;
}

/* The one's complement sum a receiver computes over a datagram: 0xffff when whole. */
static uint16_t receiver_sum(const uint8_t *pkt, size_t len)
{
	const size_t iplen = pkt[0] >> 4 == 4 ? 20 : 40;
	const size_t alen = pkt[0] >> 4 == 4 ? 4 : 16;
	const size_t src = pkt[0] >> 4 == 4 ? 12 : 8;
	uint32_t sum = 0;
	size_t udplen = len - iplen;

	for (size_t i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(pkt[src + i] << 8 | pkt[src + i + 1]);
	sum += IPPROTO_UDP + (uint32_t)udplen;
	for (size_t i = 0; i < udplen; i += 2)
		sum += (uint32_t)(pkt[iplen + i] << 8 | (i + 1 < udplen ? pkt[iplen + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(checksums)
{
	const int family = _i & 1 ? AF_INET6 : AF_INET;
	struct fanpkt_end src = end(family, family == AF_INET ? "192.0.2.1" : "2001:db8::1", 13162);
	struct fanpkt_end dst = end(family, family == AF_INET ? "198.51.100.7" : "2001:db8::7", 9162);
	uint8_t frame[5] = { 1, 2, 3, 4, 5 }, payload[300], pkt[FANPKT_HDR_MAX + 400];
	const uint8_t *parts[] = { frame, payload };

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	/* Odd lengths in either part exercise the carried byte. */
	for (size_t f = 0; f < 3; f++) {
		for (size_t p = 0; p < 4; p++) {
			size_t lens[] = { f, 297 + p };
			size_t h = fanpkt_build(&src, &dst, parts, lens, 2, pkt);
			struct fanpkt_udp d;

			ck_assert_uint_eq(h, family == AF_INET ? 28 : 48);
			memcpy(pkt + h, frame, f);
			memcpy(pkt + h + f, payload, lens[1]);
			ck_assert_uint_eq(receiver_sum(pkt, h + f + lens[1]), 0xffff);
			ck_assert(fanpkt_parse(pkt, h + f + lens[1], &d));
			ck_assert_uint_eq(d.len, f + lens[1]);
			ck_assert_uint_eq(d.src.port, 13162);
			ck_assert_uint_eq(d.dst.port, 9162);
			ck_assert_mem_eq(d.src.addr, src.addr, 16);
			ck_assert_mem_eq(d.dst.addr, dst.addr, 16);
		}
	}
}
END_TEST

START_TEST(refused)
{
	struct fanpkt_end v4 = end(AF_INET, "192.0.2.1", 1), v6 = end(AF_INET6, "::1", 1);
	uint8_t hdr[FANPKT_HDR_MAX], pkt[64];
	const uint8_t *parts[] = { pkt };
	size_t big = FANPKT_PAYLOAD_MAX + 1, small = 4;
	struct fanpkt_udp d;
	size_t h;

	ck_assert_uint_eq(fanpkt_build(&v4, &v6, parts, &small, 1, hdr), 0);
	ck_assert_uint_eq(fanpkt_build(&v4, &v4, parts, &big, 1, hdr), 0);
	/* A first fragment: the UDP length promises more than arrived. */
	memset(pkt, 0, sizeof(pkt));
	h = fanpkt_build(&v4, &v4, parts, &small, 1, pkt);
	pkt[h - 3] = 200;
	ck_assert(!fanpkt_parse(pkt, h + small, &d));
	ck_assert(!fanpkt_parse(pkt, 10, &d));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fanpkt");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, checksums, 0, 2);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
