/*
 * Unit tests for backend scheduling: the three policies, eligibility
 * (drain, down, max_flows), admission races between threads, and the
 * name tables.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "sched.h"

enum { TEST_MAX = 8 };

/* A group of n backends with the given weights, ids 1..n, ports 9001... */
struct test_group {
	struct sched_backend b[TEST_MAX];
	uint32_t active[TEST_MAX];
	int32_t rr[TEST_MAX];
	size_t n;
};

static void test_group_init(struct test_group *t, size_t n, const uint16_t *weights)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		t->b[i] = (struct sched_backend){
			.id = (int64_t)i + 1, .port = (uint16_t)(9001 + i),
			.weight = weights ? weights[i] : 1, .state = SCHED_ACTIVE,
			.active = &t->active[i],
		};
	}
}

/* The client address of test client number i (an IPv4 address). */
static void test_client(uint8_t addr[16], unsigned i)
{
	memset(addr, 0, 16);
	addr[0] = 10;
	addr[1] = (uint8_t)(i >> 16);
	addr[2] = (uint8_t)(i >> 8);
	addr[3] = (uint8_t)i;
}

/* Picks k times by policy (admitting, so counters grow) and counts per backend. */
static void test_count_picks(struct test_group *t, enum sched_policy p, unsigned k,
			     unsigned *count)
{
	uint8_t addr[16];

	for (unsigned i = 0; i < k; i++) {
		int idx;

		test_client(addr, i);
		idx = sched_admit(p, t->b, t->n, t->rr, addr);
		ck_assert_int_ge(idx, 0);
		count[idx]++;
	}
}

START_TEST(test_round_robin_even)
{
	struct test_group t;
	unsigned count[TEST_MAX] = { 0 };
	int seq[6];

	test_group_init(&t, 3, NULL);
	test_count_picks(&t, SCHED_ROUND_ROBIN, 30, count);
	ck_assert_uint_eq(count[0], 10);
	ck_assert_uint_eq(count[1], 10);
	ck_assert_uint_eq(count[2], 10);
	/* Equal weights: strictly in turn. */
	for (int i = 0; i < 6; i++)
		seq[i] = sched_pick(SCHED_ROUND_ROBIN, t.b, t.n, t.rr, NULL);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(seq[i], seq[i + 3]);
	ck_assert_int_ne(seq[0], seq[1]);
	ck_assert_int_ne(seq[1], seq[2]);
	ck_assert_int_ne(seq[0], seq[2]);
}
END_TEST

START_TEST(test_round_robin_weighted)
{
	static const uint16_t w[] = { 1, 2, 3 };
	struct test_group t;
	unsigned count[TEST_MAX] = { 0 };
	int prev = -1, runs = 0;

	test_group_init(&t, 3, w);
	test_count_picks(&t, SCHED_ROUND_ROBIN, 30, count);
	ck_assert_uint_eq(count[0], 5);
	ck_assert_uint_eq(count[1], 10);
	ck_assert_uint_eq(count[2], 15);
	/* Smooth: within one cycle of 6 the heaviest never runs three times in a row. */
	memset(t.rr, 0, sizeof(t.rr));
	for (int i = 0; i < 6; i++) {
		int idx = sched_pick(SCHED_ROUND_ROBIN, t.b, t.n, t.rr, NULL);

		runs = idx == prev ? runs + 1 : 1;
		ck_assert_int_lt(runs, 3);
		prev = idx;
	}
}
END_TEST

START_TEST(test_round_robin_skips_ineligible)
{
	struct test_group t;
	unsigned count[TEST_MAX] = { 0 };

	test_group_init(&t, 4, NULL);
	t.b[1].state = SCHED_DRAIN;
	t.b[3].state = SCHED_DOWN;
	test_count_picks(&t, SCHED_ROUND_ROBIN, 20, count);
	ck_assert_uint_eq(count[0], 10);
	ck_assert_uint_eq(count[1], 0);
	ck_assert_uint_eq(count[2], 10);
	ck_assert_uint_eq(count[3], 0);
}
END_TEST

START_TEST(test_least_flows_long_lived)
{
	static const uint16_t w[] = { 1, 1, 2 };
	struct test_group t;
	unsigned count[TEST_MAX] = { 0 };

	/* 30 flows that stay open: each admission raises its backend's count. */
	test_group_init(&t, 3, NULL);
	test_count_picks(&t, SCHED_LEAST_FLOWS, 30, count);
	ck_assert_uint_eq(count[0], 10);
	ck_assert_uint_eq(count[1], 10);
	ck_assert_uint_eq(count[2], 10);
	ck_assert_uint_eq(t.active[0], 10);

	/* Weight 2 carries twice the flows. */
	test_group_init(&t, 3, w);
	memset(count, 0, sizeof(count));
	test_count_picks(&t, SCHED_LEAST_FLOWS, 40, count);
	ck_assert_uint_eq(count[0], 10);
	ck_assert_uint_eq(count[1], 10);
	ck_assert_uint_eq(count[2], 20);
}
END_TEST

START_TEST(test_least_flows_follows_closes)
{
	struct test_group t;

	test_group_init(&t, 3, NULL);
	t.active[0] = 5;
	t.active[1] = 2;
	t.active[2] = 2;
	/* Ties go to the lowest index. */
	ck_assert_int_eq(sched_pick(SCHED_LEAST_FLOWS, t.b, t.n, t.rr, NULL), 1);
	/* Flows on backend 0 close: it becomes the least loaded. */
	for (int i = 0; i < 4; i++)
		sched_release(&t.active[0]);
	ck_assert_int_eq(sched_pick(SCHED_LEAST_FLOWS, t.b, t.n, t.rr, NULL), 0);
	/* A drained backend is never chosen, however idle. */
	t.b[0].state = SCHED_DRAIN;
	ck_assert_int_eq(sched_pick(SCHED_LEAST_FLOWS, t.b, t.n, t.rr, NULL), 1);
}
END_TEST

START_TEST(test_source_hash_stable)
{
	struct test_group t;
	uint8_t addr[16];

	test_group_init(&t, 3, NULL);
	for (unsigned c = 0; c < 200; c++) {
		int first;

		test_client(addr, c);
		first = sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, addr);
		ck_assert_int_ge(first, 0);
		/* Same answer whatever the load and the round-robin state. */
		t.active[c % 3] += 7;
		t.rr[c % 3] += 11;
		ck_assert_int_eq(sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, addr), first);
	}
}
END_TEST

START_TEST(test_source_hash_spread_by_weight)
{
	static const uint16_t w[] = { 1, 1, 2 };
	struct test_group t;
	unsigned count[TEST_MAX] = { 0 };
	uint8_t addr[16];

	test_group_init(&t, 3, w);
	for (unsigned c = 0; c < 8000; c++) {
		test_client(addr, c);
		count[sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, addr)]++;
	}
	/* Expected 2000, 2000, 4000: allow 10%. */
	ck_assert_uint_gt(count[0], 1800);
	ck_assert_uint_lt(count[0], 2200);
	ck_assert_uint_gt(count[1], 1800);
	ck_assert_uint_lt(count[1], 2200);
	ck_assert_uint_gt(count[2], 3600);
	ck_assert_uint_lt(count[2], 4400);
}
END_TEST

START_TEST(test_source_hash_minimal_disruption)
{
	enum { CLIENTS = 2000 };
	static int64_t before[CLIENTS];
	struct test_group t, fewer, more;
	unsigned moved = 0;
	uint8_t addr[16];

	test_group_init(&t, 4, NULL);
	for (unsigned c = 0; c < CLIENTS; c++) {
		test_client(addr, c);
		before[c] = t.b[sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, addr)].id;
	}
	/* Remove backend id 2 (index 1): only its own clients move. */
	fewer = t;
	memmove(&fewer.b[1], &fewer.b[2], 2 * sizeof(fewer.b[0]));
	fewer.n = 3;
	for (unsigned c = 0; c < CLIENTS; c++) {
		int64_t id;

		test_client(addr, c);
		id = fewer.b[sched_pick(SCHED_SOURCE_HASH, fewer.b, fewer.n, fewer.rr, addr)].id;
		if (before[c] != 2)
			ck_assert_int_eq(id, before[c]);
		else
			moved++;
	}
	/* About a quarter of the clients were on it. */
	ck_assert_uint_gt(moved, CLIENTS / 4 - 150);
	ck_assert_uint_lt(moved, CLIENTS / 4 + 150);
	/* Marking it down moves exactly the same clients to the same places. */
	t.b[1].state = SCHED_DOWN;
	for (unsigned c = 0; c < CLIENTS; c++) {
		int64_t a, b;

		test_client(addr, c);
		a = t.b[sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, addr)].id;
		b = fewer.b[sched_pick(SCHED_SOURCE_HASH, fewer.b, fewer.n, fewer.rr, addr)].id;
		ck_assert_int_eq(a, b);
	}
	/* Adding a fifth backend: a client either stays or moves to the new one. */
	test_group_init(&more, 5, NULL);
	moved = 0;
	for (unsigned c = 0; c < CLIENTS; c++) {
		int64_t id;

		test_client(addr, c);
		id = more.b[sched_pick(SCHED_SOURCE_HASH, more.b, more.n, more.rr, addr)].id;
		if (id != before[c]) {
			ck_assert_int_eq(id, 5);
			moved++;
		}
	}
	ck_assert_uint_gt(moved, CLIENTS / 5 - 150);
	ck_assert_uint_lt(moved, CLIENTS / 5 + 150);
}
END_TEST

START_TEST(test_source_hash_ipv6_and_full)
{
	struct test_group t;
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	int first, second;

	test_group_init(&t, 3, NULL);
	a6[15] = 7;
	first = sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, a6);
	ck_assert_int_ge(first, 0);
	/* Its backend full: the client's next choice, still stable. */
	t.b[first].max_flows = 1;
	t.active[first] = 1;
	second = sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, a6);
	ck_assert_int_ge(second, 0);
	ck_assert_int_ne(second, first);
	ck_assert_int_eq(sched_pick(SCHED_SOURCE_HASH, t.b, t.n, t.rr, a6), second);
}
END_TEST

START_TEST(test_drain_down_never_chosen)
{
	struct test_group t;
	uint8_t addr[16];

	for (int p = 0; p < SCHED_POLICY_COUNT; p++) {
		test_group_init(&t, 3, NULL);
		t.b[0].state = SCHED_DRAIN;
		t.b[2].state = SCHED_DOWN;
		for (unsigned c = 0; c < 50; c++) {
			test_client(addr, c);
			ck_assert_int_eq(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), 1);
		}
		t.b[1].state = SCHED_DRAIN;
		ck_assert_int_eq(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), SCHED_NONE);
		ck_assert_uint_eq(t.active[0] + t.active[2], 0);
	}
}
END_TEST

START_TEST(test_max_flows_enforced)
{
	struct test_group t;
	uint8_t addr[16];

	for (int p = 0; p < SCHED_POLICY_COUNT; p++) {
		test_group_init(&t, 2, NULL);
		t.b[0].max_flows = 1;
		t.b[1].max_flows = 1;
		test_client(addr, 1);
		ck_assert_int_ge(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), 0);
		ck_assert_int_ge(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), 0);
		ck_assert_uint_eq(t.active[0], 1);
		ck_assert_uint_eq(t.active[1], 1);
		/* Both full: none available, the caller holds the flow. */
		ck_assert_int_eq(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), SCHED_NONE);
		ck_assert(!sched_eligible(&t.b[0]));
		/* A flow ends: its slot is the one admitted next. */
		sched_release(&t.active[1]);
		ck_assert_int_eq(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), 1);
		ck_assert_int_eq(sched_admit((enum sched_policy)p, t.b, t.n, t.rr, addr), SCHED_NONE);
	}
}
END_TEST

START_TEST(test_none_available)
{
	struct test_group t;

	ck_assert_int_eq(sched_admit(SCHED_ROUND_ROBIN, NULL, 0, NULL, NULL), SCHED_NONE);
	test_group_init(&t, 2, NULL);
	t.b[0].state = SCHED_DOWN;
	t.b[1].state = SCHED_DOWN;
	ck_assert_int_eq(sched_pick(SCHED_LEAST_FLOWS, t.b, t.n, t.rr, NULL), SCHED_NONE);
	ck_assert_int_eq(sched_pick(SCHED_POLICY_COUNT, t.b, t.n, t.rr, NULL), SCHED_NONE);
}
END_TEST

START_TEST(test_claim_release)
{
	uint32_t c = 0;

	ck_assert(sched_claim(&c, 2));
	ck_assert(sched_claim(&c, 2));
	ck_assert(!sched_claim(&c, 2));
	ck_assert_uint_eq(c, 2);
	sched_release(&c);
	ck_assert(sched_claim(&c, 2));
	/* max 0: no limit. */
	for (int i = 0; i < 1000; i++)
		ck_assert(sched_claim(&c, 0));
	ck_assert_uint_eq(c, 1002);
	/* A limit lowered under the current count admits nothing until below it. */
	ck_assert(!sched_claim(&c, 5));
}
END_TEST

enum { RACE_THREADS = 8, RACE_ROUNDS = 20000, RACE_MAX = 3 };

struct race {
	uint32_t counter;
	uint32_t holders; /* claims held right now, counted independently */
	uint32_t worst;   /* the most holders seen at once */
	uint32_t claimed; /* successful claims in the no-release phase */
	pthread_barrier_t start;
};

static void *race_churn(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->start);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		uint32_t h, w;

		if (!sched_claim(&r->counter, RACE_MAX))
			continue;
		h = __atomic_add_fetch(&r->holders, 1, __ATOMIC_SEQ_CST);
		w = __atomic_load_n(&r->worst, __ATOMIC_SEQ_CST);
		while (h > w && !__atomic_compare_exchange_n(&r->worst, &w, h, false,
							     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
		__atomic_sub_fetch(&r->holders, 1, __ATOMIC_SEQ_CST);
		sched_release(&r->counter);
	}
	return NULL;
}

static void *race_grab(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->start);
	for (int i = 0; i < 1000; i++) {
		if (sched_claim(&r->counter, RACE_MAX))
			__atomic_add_fetch(&r->claimed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void race_run(struct race *r, void *(*fn)(void *))
{
	pthread_t th[RACE_THREADS];

	ck_assert_int_eq(pthread_barrier_init(&r->start, NULL, RACE_THREADS), 0);
	for (int i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, fn, r), 0);
	for (int i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&r->start);
}

START_TEST(test_claim_race)
{
	struct race r;

	/* Claims and releases from 8 threads: never more than max held. */
	memset(&r, 0, sizeof(r));
	race_run(&r, race_churn);
	ck_assert_uint_le(r.worst, RACE_MAX);
	ck_assert_uint_ge(r.worst, 1);
	ck_assert_uint_eq(r.counter, 0);
	/* 8000 claims and no release: exactly max succeed. */
	memset(&r, 0, sizeof(r));
	race_run(&r, race_grab);
	ck_assert_uint_eq(r.claimed, RACE_MAX);
	ck_assert_uint_eq(r.counter, RACE_MAX);
}
END_TEST

START_TEST(test_names)
{
	enum sched_policy p;
	enum sched_state s;

	for (int i = 0; i < SCHED_POLICY_COUNT; i++) {
		ck_assert(sched_policy_parse(sched_policy_name((enum sched_policy)i), &p));
		ck_assert_int_eq(p, i);
	}
	for (int i = 0; i < SCHED_STATE_COUNT; i++) {
		ck_assert(sched_state_parse(sched_state_name((enum sched_state)i), &s));
		ck_assert_int_eq(s, i);
	}
	ck_assert(sched_policy_parse("source_hash", &p));
	ck_assert_int_eq(p, SCHED_SOURCE_HASH);
	ck_assert(!sched_policy_parse("wlc", &p));
	ck_assert(!sched_state_parse("Active", &s));
	ck_assert_str_eq(sched_policy_name(SCHED_POLICY_COUNT), "unknown");
	ck_assert_str_eq(sched_state_name(SCHED_STATE_COUNT), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("sched");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_round_robin_even);
	tcase_add_test(tc, test_round_robin_weighted);
	tcase_add_test(tc, test_round_robin_skips_ineligible);
	tcase_add_test(tc, test_least_flows_long_lived);
	tcase_add_test(tc, test_least_flows_follows_closes);
	tcase_add_test(tc, test_source_hash_stable);
	tcase_add_test(tc, test_source_hash_spread_by_weight);
	tcase_add_test(tc, test_source_hash_minimal_disruption);
	tcase_add_test(tc, test_source_hash_ipv6_and_full);
	tcase_add_test(tc, test_drain_down_never_chosen);
	tcase_add_test(tc, test_max_flows_enforced);
	tcase_add_test(tc, test_none_available);
	tcase_add_test(tc, test_claim_release);
	tcase_add_test(tc, test_claim_race);
	tcase_add_test(tc, test_names);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
