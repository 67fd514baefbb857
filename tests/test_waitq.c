/*
 * Unit tests for the wait queue: FIFO per group, expiry in deadline order,
 * refusal of retransmissions, capacity, packet size, next deadline.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "waitq.h"

static struct waitq *test_q;

static void test_setup(void)
{
	test_q = malloc(sizeof(*test_q));
	ck_assert_ptr_nonnull(test_q);
	ck_assert_int_eq(waitq_init(test_q, WAITQ_CAP), 0);
}

static void test_teardown(void)
{
	free(test_q);
}

/* Client 10.0.x.y:port to 192.0.2.1:9000 over TCP, x.y from client. */
static struct waitq_info test_info(int64_t group, unsigned client, uint16_t port,
				   int64_t arrival, int64_t deadline)
{
	struct waitq_info in = {
		.group_id = group, .packet_id = client * 100 + port,
		.arrival_ms = arrival, .deadline_ms = deadline,
		.flow = { .family = AF_INET, .l4proto = IPPROTO_TCP, .client_port = port,
			  .client = { 10, 0, (uint8_t)(client >> 8), (uint8_t)client },
			  .service = { 192, 0, 2, 1 }, .port = 9000 },
	};
	return in;
}

/* Pushes a 60-byte "packet" whose bytes all equal tag. */
static int test_push(struct waitq *q, const struct waitq_info *in, uint8_t tag)
{
	uint8_t pkt[60];

	memset(pkt, tag, sizeof(pkt));
	return waitq_push(q, in, pkt, sizeof(pkt));
}

START_TEST(test_fifo_per_group)
{
	struct waitq_entry e;
	struct waitq_info in;

	/* Groups interleaved: A1 B1 A2 B2 A3. */
	for (unsigned i = 0; i < 5; i++) {
		in = test_info(i % 2 ? 2 : 1, i, 1000, 100 + i, 5000);
		ck_assert_int_eq(test_push(test_q, &in, (uint8_t)i), 0);
	}
	ck_assert_uint_eq(waitq_count(test_q), 5);
	ck_assert(waitq_pop_ready(test_q, 2, &e));
	ck_assert_int_eq(e.info.arrival_ms, 101);
	ck_assert_int_eq(e.info.group_id, 2);
	ck_assert_uint_eq(e.len, 60);
	ck_assert_uint_eq(e.packet[0], 1);
	ck_assert_uint_eq(e.packet[59], 1);
	ck_assert_uint_eq(e.info.packet_id, 1 * 100 + 1000);
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_int_eq(e.info.arrival_ms, 100);
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_int_eq(e.info.arrival_ms, 102);
	/* A later arrival keeps its place behind the ones already there. */
	in = test_info(1, 9, 1000, 200, 5000);
	ck_assert_int_eq(test_push(test_q, &in, 9), 0);
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_int_eq(e.info.arrival_ms, 104);
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_int_eq(e.info.arrival_ms, 200);
	ck_assert_uint_eq(e.packet[0], 9);
	ck_assert(!waitq_pop_ready(test_q, 1, &e));
	ck_assert(!waitq_pop_ready(test_q, 7, &e));
	ck_assert(waitq_pop_ready(test_q, 2, &e));
	ck_assert_int_eq(e.info.arrival_ms, 103);
	ck_assert_uint_eq(waitq_count(test_q), 0);
}
END_TEST

START_TEST(test_expiry_order)
{
	/* Groups with different max_wait: deadlines out of arrival order. */
	static const int64_t deadlines[] = { 500, 300, 300, 900, 100 };
	static const int64_t expect[] = { 4, 1, 2, 0, 3 }; /* arrival index by deadline */
	struct waitq_entry e;
	int64_t next = 0;

	for (unsigned i = 0; i < 5; i++) {
		struct waitq_info in = test_info((int64_t)i, i, 2000, i, deadlines[i]);

		ck_assert_int_eq(test_push(test_q, &in, (uint8_t)i), 0);
	}
	ck_assert(waitq_next_deadline(test_q, &next));
	ck_assert_int_eq(next, 100);
	/* Nothing is due before its deadline. */
	ck_assert(!waitq_pop_expired(test_q, 99, &e));
	ck_assert_uint_eq(waitq_count(test_q), 5);
	/* Due at its deadline exactly. */
	ck_assert(waitq_pop_expired(test_q, 100, &e));
	ck_assert_int_eq(e.info.arrival_ms, expect[0]);
	ck_assert(!waitq_pop_expired(test_q, 299, &e));
	ck_assert(waitq_next_deadline(test_q, &next));
	ck_assert_int_eq(next, 300);
	/* Everything is due: deadline order, ties oldest first. */
	for (unsigned i = 1; i < 5; i++) {
		ck_assert(waitq_pop_expired(test_q, 10000, &e));
		ck_assert_int_eq(e.info.arrival_ms, expect[i]);
		ck_assert_int_eq(e.info.deadline_ms, deadlines[expect[i]]);
	}
	ck_assert(!waitq_pop_expired(test_q, 10000, &e));
	next = 42;
	ck_assert(!waitq_next_deadline(test_q, &next));
	ck_assert_int_eq(next, 42);
}
END_TEST

START_TEST(test_duplicate_refused)
{
	struct waitq_info in = test_info(1, 7, 40000, 10, 1010);
	struct waitq_info again = test_info(1, 7, 40000, 250, 1250);
	struct waitq_info other_port = test_info(1, 7, 40001, 250, 1250);
	struct waitq_entry e;

	ck_assert_int_eq(test_push(test_q, &in, 1), 0);
	ck_assert(waitq_contains(test_q, &in.flow));
	/* The retransmitted SYN: same flow, refused, the first keeps its deadline. */
	errno = 0;
	ck_assert_int_eq(test_push(test_q, &again, 2), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* IPv4 bytes past the address do not make another flow. */
	again.flow.client[9] = 0xee;
	again.flow.service[15] = 0xee;
	ck_assert(waitq_contains(test_q, &again.flow));
	ck_assert_int_eq(test_push(test_q, &again, 2), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* Another source port is another flow. */
	ck_assert(!waitq_contains(test_q, &other_port.flow));
	ck_assert_int_eq(test_push(test_q, &other_port, 3), 0);
	ck_assert_uint_eq(waitq_count(test_q), 2);
	ck_assert(waitq_next_deadline(test_q, &e.info.deadline_ms));
	ck_assert_int_eq(e.info.deadline_ms, 1010);
	/* Once admitted, the flow may wait again. */
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_uint_eq(e.packet[0], 1);
	ck_assert(!waitq_contains(test_q, &in.flow));
	ck_assert_int_eq(test_push(test_q, &in, 4), 0);
}
END_TEST

START_TEST(test_ipv6_flows)
{
	struct waitq_info a = test_info(1, 1, 1000, 0, 100);
	struct waitq_info b;

	a.flow.family = AF_INET6;
	memcpy(a.flow.client, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
	memcpy(a.flow.service, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 16);
	b = a;
	b.flow.client[8] = 1; /* differs past the first 4 bytes: another client */
	ck_assert_int_eq(test_push(test_q, &a, 1), 0);
	ck_assert_int_eq(test_push(test_q, &b, 2), 0);
	ck_assert_int_eq(test_push(test_q, &b, 2), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* UDP is another flow than TCP on the same ports. */
	b.flow.l4proto = IPPROTO_UDP;
	ck_assert_int_eq(test_push(test_q, &b, 3), 0);
	ck_assert_uint_eq(waitq_count(test_q), 3);
}
END_TEST

START_TEST(test_capacity)
{
	struct waitq_entry e;
	struct waitq_info in;

	for (unsigned i = 0; i < WAITQ_CAP; i++) {
		in = test_info(i % 3, i, 5000, i, 100000 + i);
		ck_assert_int_eq(test_push(test_q, &in, (uint8_t)i), 0);
	}
	ck_assert_uint_eq(waitq_count(test_q), WAITQ_CAP);
	in = test_info(0, WAITQ_CAP, 5000, 0, 0);
	errno = 0;
	ck_assert_int_eq(test_push(test_q, &in, 0), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* Full, a retransmission is still told apart from a new flow. */
	in = test_info(0, 3, 5000, 0, 0);
	ck_assert_int_eq(test_push(test_q, &in, 0), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* One out from the middle (group 1's oldest), one in. */
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_int_eq(e.info.arrival_ms, 1);
	in = test_info(1, WAITQ_CAP, 5000, 5000, 1);
	ck_assert_int_eq(test_push(test_q, &in, 0xab), 0);
	ck_assert(waitq_next_deadline(test_q, &e.info.deadline_ms));
	ck_assert_int_eq(e.info.deadline_ms, 1);
	/* Drain everything by expiry: the newcomer first, then by deadline. */
	ck_assert(waitq_pop_expired(test_q, 1 << 30, &e));
	ck_assert_uint_eq(e.packet[0], 0xab);
	for (unsigned i = 0; i < WAITQ_CAP - 1; i++) {
		ck_assert(waitq_pop_expired(test_q, 1 << 30, &e));
		ck_assert_int_eq(e.info.arrival_ms, i == 0 ? 0 : i + 1);
	}
	ck_assert_uint_eq(waitq_count(test_q), 0);
	/* And it fills again to capacity. */
	for (unsigned i = 0; i < WAITQ_CAP; i++) {
		in = test_info(2, i, 6000, i, i);
		ck_assert_int_eq(test_push(test_q, &in, 1), 0);
	}
	ck_assert_int_eq(test_push(test_q, &(struct waitq_info){ .group_id = 2 }, 1), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(test_small_capacity_and_init)
{
	struct waitq_info in;
	struct waitq_entry e;

	ck_assert_int_eq(waitq_init(test_q, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(waitq_init(test_q, WAITQ_CAP + 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(waitq_init(test_q, 2), 0);
	in = test_info(1, 1, 1, 0, 10);
	ck_assert_int_eq(test_push(test_q, &in, 1), 0);
	in = test_info(1, 2, 1, 0, 10);
	ck_assert_int_eq(test_push(test_q, &in, 2), 0);
	in = test_info(1, 3, 1, 0, 10);
	ck_assert_int_eq(test_push(test_q, &in, 3), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(waitq_pop_expired(test_q, 10, &e));
	ck_assert_uint_eq(e.packet[0], 1);
	ck_assert_int_eq(test_push(test_q, &in, 3), 0);
	/* init empties the queue. */
	ck_assert_int_eq(waitq_init(test_q, 2), 0);
	ck_assert_uint_eq(waitq_count(test_q), 0);
	ck_assert(!waitq_contains(test_q, &in.flow));
}
END_TEST

START_TEST(test_packet_size)
{
	struct waitq_info in = test_info(1, 1, 1, 0, 10);
	uint8_t pkt[WAITQ_PACKET_MAX + 1];
	struct waitq_entry e;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	errno = 0;
	ck_assert_int_eq(waitq_push(test_q, &in, pkt, WAITQ_PACKET_MAX + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(waitq_push(test_q, &in, pkt, 0), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(waitq_count(test_q), 0);
	ck_assert_int_eq(waitq_push(test_q, &in, pkt, WAITQ_PACKET_MAX), 0);
	ck_assert(waitq_pop_ready(test_q, 1, &e));
	ck_assert_uint_eq(e.len, WAITQ_PACKET_MAX);
	ck_assert_mem_eq(e.packet, pkt, WAITQ_PACKET_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("waitq");
	TCase *tc = tcase_create("waitq");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, test_fifo_per_group);
	tcase_add_test(tc, test_expiry_order);
	tcase_add_test(tc, test_duplicate_refused);
	tcase_add_test(tc, test_ipv6_flows);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_small_capacity_and_init);
	tcase_add_test(tc, test_packet_size);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
