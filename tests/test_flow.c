/*
 * Unit tests for the flow table: lookups both ways, conflicts, removal
 * against a reference model, expiry per state, the TCP state machine,
 * capacity, a million flows, persistence and repair of the mapped file,
 * flush while flows come and go, and a reader racing the owner.
 *
 * Threads come from C11 <threads.h>: with -Isrc, <pthread.h> would pull in
 * src/sched.h in place of the system's <sched.h>.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"

static const struct flow_timeouts test_timeouts = {
	.tcp_syn = 5, .tcp_established = 100, .tcp_fin_wait = 20,
	.tcp_close = 3, .udp = 30,
};

/* xorshift64*: a fixed seed makes every random test repeatable. */
static uint64_t test_rand_state;

static void test_srand(uint64_t seed)
{
	test_rand_state = seed ? seed : 1;
}

static uint32_t test_rand(uint32_t n)
{
	test_rand_state ^= test_rand_state >> 12;
	test_rand_state ^= test_rand_state << 25;
	test_rand_state ^= test_rand_state >> 27;
	return (uint32_t)((test_rand_state * 2685821657736338717ULL) >> 32) % n;
}

/* A key from small numbers: client address c, service address s. */
static struct flow_key test_key(uint8_t family, uint8_t proto, uint32_t c,
				uint16_t cport, uint32_t s, uint16_t port)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = family;
	k.l4proto = proto;
	k.client_port = cport;
	k.client[0] = 10;
	k.client[1] = (uint8_t)(c >> 16);
	k.client[2] = (uint8_t)(c >> 8);
	k.client[3] = (uint8_t)c;
	k.service[0] = 192;
	k.service[1] = 0;
	k.service[2] = (uint8_t)(s >> 8);
	k.service[3] = (uint8_t)s;
	if (family == AF_INET6)
		k.client[15] = k.service[15] = 6;
	k.port = port;
	return k;
}

/* The outbound form of k: same ends, the backend port. */
static struct flow_key test_out(struct flow_key k, uint16_t backend_port)
{
	k.port = backend_port;
	return k;
}

static struct flow_table *test_table(unsigned parts, uint32_t flows)
{
	struct flow_open_info info;
	struct flow_table *t = flow_open(NULL, parts, flows, NULL, &info);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_NEW);
	ck_assert_uint_eq(info.flows, 0);
	return t;
}

START_TEST(test_lookup_both_directions)
{
	struct flow_table *t = test_table(1, 100);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_key k4 = test_key(AF_INET, IPPROTO_TCP, 1, 40000, 1, 9000);
	struct flow_key k6 = test_key(AF_INET6, IPPROTO_UDP, 1, 40000, 1, 9000);
	const struct flow_entry *e;
	struct flow_key q;
	struct flow_stats st;

	e = flow_insert(p, &k4, 9001, 7, 70, 1000);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->state, FLOW_SYN_SEEN);
	ck_assert_uint_eq(e->created, 1000);
	ck_assert_ptr_nonnull(flow_insert(p, &k6, 9002, 8, 80, 1000));
	e = flow_lookup_in(p, &k4);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->backend_port, 9001);
	ck_assert_uint_eq(e->group, 7);
	ck_assert_uint_eq(e->backend, 70);
	q = test_out(k4, 9001);
	ck_assert_ptr_eq(flow_lookup_out(p, &q), e);
	/* The backend port is not a virtual port, nor the other way round. */
	ck_assert_ptr_null(flow_lookup_in(p, &q));
	ck_assert_ptr_null(flow_lookup_out(p, &k4));
	e = flow_lookup_in(p, &k6);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->state, FLOW_UDP);
	ck_assert_uint_eq(e->backend_port, 9002);
	q = test_out(k6, 9002);
	ck_assert_ptr_eq(flow_lookup_out(p, &q), e);
	/* Any other field of the key misses. */
	q = k4;
	q.client_port++;
	ck_assert_ptr_null(flow_lookup_in(p, &q));
	q = k4;
	q.l4proto = IPPROTO_UDP;
	ck_assert_ptr_null(flow_lookup_in(p, &q));
	q = k4;
	q.service[3]++;
	ck_assert_ptr_null(flow_lookup_in(p, &q));
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, 2);
	ck_assert_uint_eq(st.limit, 100);
	ck_assert_uint_eq(st.inserted, 2);
	flow_remove(p, flow_lookup_in(p, &k4));
	ck_assert_ptr_null(flow_lookup_in(p, &k4));
	ck_assert_ptr_nonnull(flow_lookup_in(p, &k6));
	flow_close(t);
}
END_TEST

START_TEST(test_conflicts)
{
	struct flow_table *t = test_table(1, 100);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_key k = test_key(AF_INET, IPPROTO_TCP, 1, 40000, 1, 9000);
	struct flow_key other = test_key(AF_INET, IPPROTO_TCP, 1, 40000, 1, 9100);
	struct flow_key icmp = test_key(AF_INET, IPPROTO_ICMP, 1, 40000, 1, 9100);

	ck_assert_ptr_nonnull(flow_insert(p, &k, 9001, 1, 1, 0));
	/* The same inbound key, whatever the backend. */
	errno = 0;
	ck_assert_ptr_null(flow_insert(p, &k, 9002, 1, 2, 0));
	ck_assert_int_eq(errno, EEXIST);
	/* Another virtual port onto the same backend port: replies would be ambiguous. */
	errno = 0;
	ck_assert_ptr_null(flow_insert(p, &other, 9001, 2, 1, 0));
	ck_assert_int_eq(errno, EEXIST);
	/* The same client port to another virtual port and backend is a flow of its own. */
	ck_assert_ptr_nonnull(flow_insert(p, &other, 9101, 2, 3, 0));
	ck_assert_uint_eq(flow_lookup_in(p, &k)->backend_port, 9001);
	ck_assert_uint_eq(flow_lookup_in(p, &other)->backend_port, 9101);
	errno = 0;
	ck_assert_ptr_null(flow_insert(p, &icmp, 1, 1, 1, 0));
	ck_assert_int_eq(errno, EINVAL);
	flow_close(t);
}
END_TEST

struct test_model_flow {
	struct flow_key key;
	uint16_t backend_port;
	uint32_t group;
	int live;
};

static void test_model_check(struct flow_part *p, const struct test_model_flow *m,
			     size_t n, size_t live)
{
	struct flow_stats st;

	for (size_t i = 0; i < n; i++) {
		struct flow_key out = test_out(m[i].key, m[i].backend_port);
		const struct flow_entry *in = flow_lookup_in(p, &m[i].key);

		if (!m[i].live) {
			ck_assert_ptr_null(in);
			continue;
		}
		ck_assert_ptr_nonnull(in);
		ck_assert_uint_eq(in->group, m[i].group);
		ck_assert_uint_eq(in->backend_port, m[i].backend_port);
		ck_assert_ptr_eq(flow_lookup_out(p, &out), in);
	}
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, live);
}

/*
 * Random inserts and removals against a plain array.  The key space is
 * small (few clients, ports and services) so that flows share home slots,
 * clusters grow long at the limit, and backward shifts happen all the time.
 */
START_TEST(test_random_vs_model)
{
	enum { LIMIT = 1500, CLIENTS = 8, CPORTS = 64, VPORTS = 4, OPS = 60000 };
	static struct test_model_flow m[CLIENTS * CPORTS * VPORTS];
	struct flow_table *t = test_table(1, LIMIT);
	struct flow_part *p = flow_partition(t, 0);
	size_t n = 0, live = 0;

	memset(m, 0, sizeof(m));
	for (uint32_t c = 0; c < CLIENTS; c++)
		for (uint16_t cp = 0; cp < CPORTS; cp++)
			for (uint16_t v = 0; v < VPORTS; v++) {
				m[n].key = test_key(AF_INET, IPPROTO_UDP, c, (uint16_t)(1000 + cp),
						    0, (uint16_t)(53 + v));
				/* Every virtual port of a client port has its own backend. */
				m[n].backend_port = (uint16_t)(5300 + v);
				m[n].group = (uint32_t)n;
				n++;
			}
	test_srand((uint64_t)_i + 42);
	for (int op = 0; op < OPS; op++) {
		struct test_model_flow *f = &m[test_rand((uint32_t)n)];

		if (f->live) {
			flow_remove(p, flow_lookup_in(p, &f->key));
			f->live = 0;
			live--;
		} else {
			const struct flow_entry *e = flow_insert(p, &f->key, f->backend_port,
								 f->group, 0, (uint32_t)op);

			if (live == LIMIT) {
				ck_assert_ptr_null(e);
				ck_assert_int_eq(errno, ENOSPC);
			} else {
				ck_assert_ptr_nonnull(e);
				f->live = 1;
				live++;
			}
		}
		if (op % 997 == 0)
			test_model_check(p, m, n, live);
	}
	test_model_check(p, m, n, live);
	flow_close(t);
}
END_TEST

START_TEST(test_tcp_states)
{
	struct flow_table *t = test_table(1, 100);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_key k = test_key(AF_INET, IPPROTO_TCP, 1, 40000, 1, 9000);
	const struct flow_entry *e = flow_insert(p, &k, 9001, 1, 1, 100);
	const uint8_t syn = FLOW_TCP_SYN, synack = FLOW_TCP_SYN | FLOW_TCP_ACK;
	const uint8_t ack = FLOW_TCP_ACK, fin = FLOW_TCP_FIN | FLOW_TCP_ACK;

	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, syn, 101), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_SYN_SEEN);
	ck_assert_uint_eq(e->last_seen, 101);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_OUT, synack, 102), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_ESTABLISHED);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, ack, 103), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_ESTABLISHED);
	/* A bare SYN on an established flow is not a new connection. */
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, syn, 104), FLOW_TCP_GOES_ON);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, fin, 105), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_FIN_IN);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, fin, 106), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_FIN_IN);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_OUT, fin, 107), FLOW_TCP_CLOSED);
	ck_assert_uint_eq(e->state, FLOW_CLOSING);
	ck_assert_uint_eq(e->last_seen, 107);
	/* The last ACK: still closing, and CLOSED is reported once. */
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, ack, 108), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_CLOSING);
	/* The client opens again from the same port: the caller reschedules. */
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, syn, 109), FLOW_TCP_REUSED);
	ck_assert_uint_eq(e->state, FLOW_CLOSING);
	ck_assert_uint_eq(e->last_seen, 108);
	flow_remove(p, e);

	/* The backend refuses: RST out closes a SYN_SEEN flow. */
	e = flow_insert(p, &k, 9001, 1, 1, 200);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_OUT, FLOW_TCP_RST | FLOW_TCP_ACK, 200),
			 FLOW_TCP_CLOSED);
	flow_remove(p, e);
	/* Backend closes first, then the client: FIN_OUT, then CLOSING. */
	e = flow_insert(p, &k, 9001, 1, 1, 300);
	flow_note_tcp(p, e, PKT_OUT, synack, 300);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_OUT, fin, 301), FLOW_TCP_GOES_ON);
	ck_assert_uint_eq(e->state, FLOW_FIN_OUT);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, fin, 302), FLOW_TCP_CLOSED);
	flow_remove(p, e);
	/* RST in the middle of a connection. */
	e = flow_insert(p, &k, 9001, 1, 1, 400);
	flow_note_tcp(p, e, PKT_OUT, synack, 400);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, FLOW_TCP_RST, 401), FLOW_TCP_CLOSED);
	ck_assert_uint_eq(e->state, FLOW_CLOSING);

	ck_assert_str_eq(flow_state_name(FLOW_SYN_SEEN), "syn_seen");
	ck_assert_str_eq(flow_state_name(FLOW_FIN_OUT), "fin_out");
	ck_assert_str_eq(flow_state_name(FLOW_UDP), "udp");
	ck_assert_str_eq(flow_state_name(0), "unknown");
	ck_assert_str_eq(flow_state_name(FLOW_STATE_COUNT), "unknown");
	flow_close(t);
}
END_TEST

struct test_gone {
	uint32_t groups[16], backends[16];
	uint8_t states[16];
	size_t n;
};

static void test_gone_cb(const struct flow_entry *e, void *arg)
{
	struct test_gone *g = arg;

	ck_assert_uint_lt(g->n, 16);
	g->groups[g->n] = e->group;
	g->backends[g->n] = e->backend;
	g->states[g->n] = e->state;
	g->n++;
}

/* One whole sweep pass (and a bit) at now; returns what went. */
static struct test_gone test_sweep(struct flow_part *p, uint32_t now)
{
	struct test_gone g = { .n = 0 };

	flow_expire(p, now, &test_timeouts, 2 * flow_slots(p) + 64, test_gone_cb, &g);
	return g;
}

START_TEST(test_expiry_per_state)
{
	struct flow_table *t = test_table(1, 100);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_key ksyn = test_key(AF_INET, IPPROTO_TCP, 1, 1, 1, 80);
	struct flow_key kest = test_key(AF_INET, IPPROTO_TCP, 2, 2, 1, 80);
	struct flow_key kfin = test_key(AF_INET, IPPROTO_TCP, 3, 3, 1, 80);
	struct flow_key kclose = test_key(AF_INET, IPPROTO_TCP, 4, 4, 1, 80);
	struct flow_key kudp = test_key(AF_INET6, IPPROTO_UDP, 5, 5, 1, 53);
	const struct flow_entry *e;
	struct test_gone g;
	struct flow_stats st;

	flow_insert(p, &ksyn, 8001, 1, 11, 1000);
	e = flow_insert(p, &kest, 8002, 2, 22, 1000);
	flow_note_tcp(p, e, PKT_OUT, FLOW_TCP_SYN | FLOW_TCP_ACK, 1000);
	e = flow_insert(p, &kfin, 8003, 3, 33, 1000);
	flow_note_tcp(p, e, PKT_OUT, FLOW_TCP_SYN | FLOW_TCP_ACK, 1000);
	flow_note_tcp(p, e, PKT_IN, FLOW_TCP_FIN, 1000);
	e = flow_insert(p, &kclose, 8004, 4, 44, 1000);
	ck_assert_int_eq(flow_note_tcp(p, e, PKT_IN, FLOW_TCP_RST, 1000), FLOW_TCP_CLOSED);
	flow_insert(p, &kudp, 5301, 5, 55, 1000);
	ck_assert_uint_eq(flow_deadline(flow_lookup_in(p, &kudp), &test_timeouts), 1030);

	ck_assert_uint_eq(test_sweep(p, 1002).n, 0);
	/* The close grace (3 s) is over. */
	g = test_sweep(p, 1003);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.groups[0], 4);
	ck_assert_uint_eq(g.backends[0], 44);
	ck_assert_uint_eq(g.states[0], FLOW_CLOSING);
	ck_assert_ptr_null(flow_lookup_in(p, &kclose));
	/* A SYN nobody answered (5 s). */
	ck_assert_uint_eq(test_sweep(p, 1004).n, 0);
	g = test_sweep(p, 1005);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.groups[0], 1);
	ck_assert_uint_eq(g.backends[0], 11);
	/* Traffic keeps a flow: the established one is seen again at 1050. */
	flow_touch(p, flow_lookup_in(p, &kest), 1050);
	/* Half-closed (20 s). */
	ck_assert_uint_eq(test_sweep(p, 1019).n, 0);
	g = test_sweep(p, 1020);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.groups[0], 3);
	ck_assert_uint_eq(g.states[0], FLOW_FIN_IN);
	/* UDP idle (30 s). */
	ck_assert_uint_eq(test_sweep(p, 1029).n, 0);
	g = test_sweep(p, 1030);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.groups[0], 5);
	ck_assert_uint_eq(g.backends[0], 55);
	/* Established idle (100 s after 1050). */
	ck_assert_uint_eq(test_sweep(p, 1149).n, 0);
	g = test_sweep(p, 1150);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.groups[0], 2);
	ck_assert_uint_eq(g.backends[0], 22);
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, 0);
	ck_assert_uint_eq(st.expired, 5);
	flow_close(t);
}
END_TEST

/* A small budget sweeps a little at a time, and every flow still goes. */
START_TEST(test_expiry_budget)
{
	enum { N = 900 };
	struct flow_table *t = test_table(1, 1000);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_stats st;
	size_t removed = 0;
	int calls = 0;

	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = test_key(AF_INET, IPPROTO_UDP, i, 5000, 1, 53);

		ck_assert_ptr_nonnull(flow_insert(p, &k, 5353, 1, 1, 0));
	}
	while (removed < N) {
		size_t r = flow_expire(p, 100, &test_timeouts, 64, NULL, NULL);

		ck_assert_uint_le(r, 64);
		removed += r;
		calls++;
		ck_assert_int_lt(calls, 100);
	}
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, 0);
	flow_close(t);
}
END_TEST

START_TEST(test_full_refuses_and_keeps)
{
	enum { LIMIT = 1000 };
	struct flow_table *t = test_table(1, LIMIT);
	struct flow_part *p = flow_partition(t, 0);
	struct flow_key k;
	struct flow_stats st;

	for (uint32_t i = 0; i < LIMIT; i++) {
		k = test_key(AF_INET, IPPROTO_TCP, i, (uint16_t)(30000 + i), 1, 443);
		ck_assert_ptr_nonnull(flow_insert(p, &k, (uint16_t)(8000 + i % 8), i, i % 8, i));
	}
	for (uint32_t i = 0; i < 10; i++) {
		k = test_key(AF_INET, IPPROTO_TCP, LIMIT + i, 1, 1, 443);
		errno = 0;
		ck_assert_ptr_null(flow_insert(p, &k, 8000, 0, 0, 0));
		ck_assert_int_eq(errno, ENOSPC);
	}
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, LIMIT);
	ck_assert_uint_eq(st.refused, 10);
	for (uint32_t i = 0; i < LIMIT; i++) {
		const struct flow_entry *e;

		k = test_key(AF_INET, IPPROTO_TCP, i, (uint16_t)(30000 + i), 1, 443);
		e = flow_lookup_in(p, &k);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->group, i);
		ck_assert_uint_eq(e->backend, i % 8);
		ck_assert_uint_eq(e->backend_port, 8000 + i % 8);
		ck_assert_uint_eq(e->created, i);
		ck_assert_uint_eq(e->state, FLOW_SYN_SEEN);
	}
	/* One goes, one more fits. */
	k = test_key(AF_INET, IPPROTO_TCP, 0, 30000, 1, 443);
	flow_remove(p, flow_lookup_in(p, &k));
	k = test_key(AF_INET, IPPROTO_TCP, LIMIT, 1, 1, 443);
	ck_assert_ptr_nonnull(flow_insert(p, &k, 8000, 0, 0, 0));
	flow_close(t);
}
END_TEST

static double test_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct flow_key test_million_key(uint32_t i)
{
	/* A million distinct clients of one service, on IPv6. */
	return test_key(AF_INET6, IPPROTO_TCP, i, (uint16_t)(1024 + i % 60000), 7, 443);
}

/*
 * The loops count instead of asserting: in check's fork mode every passing
 * ck_assert writes to a pipe, which would dominate the times printed.
 */
START_TEST(test_million)
{
	enum { PARTS = 4, PER = 262144, TOTAL = PARTS * PER };
	struct flow_open_info info;
	struct flow_table *t = flow_open(NULL, PARTS, PER, NULL, &info);
	uint32_t failed = 0, wrong = 0;
	double start, insert_s, lookup_s;

	ck_assert_ptr_nonnull(t);
	start = test_seconds();
	for (uint32_t i = 0; i < TOTAL; i++) {
		struct flow_key k = test_million_key(i);

		/* A real worker gets its own partition's flows; here any spread will do. */
		if (!flow_insert(flow_partition(t, i % PARTS), &k, (uint16_t)(8000 + i % 16),
				 i, i % 16, 1))
			failed++;
	}
	insert_s = test_seconds() - start;
	start = test_seconds();
	for (uint32_t i = 0; i < TOTAL; i++) {
		struct flow_key k = test_million_key(i);
		struct flow_part *p = flow_partition(t, i % PARTS);
		const struct flow_entry *e = flow_lookup_in(p, &k);

		if (!e || e->group != i) {
			wrong++;
			continue;
		}
		k.port = e->backend_port;
		if (flow_lookup_out(p, &k) != e)
			wrong++;
	}
	lookup_s = test_seconds() - start;
	ck_assert_uint_eq(failed, 0);
	ck_assert_uint_eq(wrong, 0);
	for (unsigned i = 0; i < PARTS; i++) {
		struct flow_stats st;
		struct flow_key k = test_million_key(TOTAL + i);

		flow_stats(flow_partition(t, i), &st);
		ck_assert_uint_eq(st.flows, PER);
		ck_assert_uint_eq(st.refused, 0);
		/* At the limit, and only there, a partition refuses. */
		ck_assert_ptr_null(flow_insert(flow_partition(t, i), &k, 1, 1, 1, 1));
	}
	printf("flow: sizeof(struct flow_entry) = %zu, %.1f bytes per flow "
	       "(%zu bytes mapped for %u flows)\n", sizeof(struct flow_entry),
	       (double)info.bytes / TOTAL, info.bytes, (unsigned)TOTAL);
	printf("flow: %u inserts in %.3f s (%.0f ns each); %u lookups, each both ways, "
	       "in %.3f s\n", (unsigned)TOTAL, insert_s, insert_s * 1e9 / TOTAL,
	       (unsigned)TOTAL, lookup_s);
	ck_assert_uint_le(sizeof(struct flow_entry), 128);
	ck_assert_uint_le(info.bytes / TOTAL, 128);
	flow_close(t);
}
END_TEST

static char test_dir[64];

static const char *test_path(void)
{
	static char path[96];

	if (!test_dir[0]) {
		strcpy(test_dir, "/tmp/test_flow.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(test_dir));
	}
	snprintf(path, sizeof(path), "%s/flows", test_dir);
	return path;
}

static void test_cleanup(void)
{
	if (test_dir[0]) {
		unlink(test_path());
		rmdir(test_dir);
		test_dir[0] = '\0';
	}
}

static const char test_boot_a[] = "aaaaaaaa-0000-4000-8000-000000000001";
static const char test_boot_b[] = "aaaaaaaa-0000-4000-8000-000000000002";

/* Fills partition i of t with n flows; flow j of it has group i * 10000 + j. */
static void test_fill(struct flow_table *t, unsigned parts, uint32_t n)
{
	for (unsigned i = 0; i < parts; i++)
		for (uint32_t j = 0; j < n; j++) {
			struct flow_key k = test_key(AF_INET, IPPROTO_TCP, i * 10000 + j,
						     (uint16_t)(2000 + j), 3, 80);
			const struct flow_entry *e = flow_insert(flow_partition(t, i), &k,
								 (uint16_t)(8080 + j % 3),
								 i * 10000 + j, j % 3, 500 + j);

			ck_assert_ptr_nonnull(e);
			if (j % 2)
				flow_note_tcp(flow_partition(t, i), e, PKT_OUT,
					      FLOW_TCP_SYN | FLOW_TCP_ACK, 600 + j);
		}
}

/* Counts the flows test_fill made that are still there, whole. */
static uint32_t test_found(struct flow_table *t, unsigned parts, uint32_t n)
{
	uint32_t found = 0;

	for (unsigned i = 0; i < parts; i++)
		for (uint32_t j = 0; j < n; j++) {
			struct flow_key k = test_key(AF_INET, IPPROTO_TCP, i * 10000 + j,
						     (uint16_t)(2000 + j), 3, 80);
			const struct flow_entry *e = flow_lookup_in(flow_partition(t, i), &k);

			if (!e)
				continue;
			ck_assert_uint_eq(e->group, i * 10000 + j);
			ck_assert_uint_eq(e->backend, j % 3);
			ck_assert_uint_eq(e->backend_port, 8080 + j % 3);
			ck_assert_uint_eq(e->created, 500 + j);
			ck_assert_uint_eq(e->last_seen, j % 2 ? 600 + j : 500 + j);
			ck_assert_uint_eq(e->state, j % 2 ? FLOW_ESTABLISHED : FLOW_SYN_SEEN);
			k.port = e->backend_port;
			ck_assert_ptr_eq(flow_lookup_out(flow_partition(t, i), &k), e);
			found++;
		}
	return found;
}

START_TEST(test_persistence)
{
	struct flow_open_info info;
	struct flow_table *t, *again;
	struct stat sb;

	t = flow_open(test_path(), 2, 1000, test_boot_a, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_NEW);
	ck_assert_int_eq(stat(test_path(), &sb), 0);
	ck_assert_uint_eq((size_t)sb.st_size, info.bytes);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	/* Its blocks are allocated: no sparse file. */
	ck_assert_uint_ge((size_t)sb.st_blocks * 512, info.bytes);
	test_fill(t, 2, 800);
	/* One daemon at a time. */
	errno = 0;
	again = flow_open(test_path(), 2, 1000, test_boot_a, NULL);
	ck_assert_ptr_null(again);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	flow_close(t);

	t = flow_open(test_path(), 2, 1000, test_boot_a, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_RESTORED);
	ck_assert_uint_eq(info.flows, 1600);
	ck_assert_uint_eq(info.dropped, 0);
	ck_assert_uint_eq(test_found(t, 2, 800), 1600);
	flow_close(t);

	/* Another boot: the connections are gone, and so are the flows. */
	t = flow_open(test_path(), 2, 1000, test_boot_b, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_REBOOT);
	ck_assert_uint_eq(info.flows, 0);
	ck_assert_uint_eq(test_found(t, 2, 800), 0);
	test_fill(t, 2, 800);
	flow_close(t);

	/* Another layout: reinitialised. */
	t = flow_open(test_path(), 3, 1000, test_boot_b, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_LAYOUT);
	ck_assert_uint_eq(info.flows, 0);
	ck_assert_uint_eq(test_found(t, 3, 800), 0);
	flow_close(t);
	t = flow_open(test_path(), 3, 2000, test_boot_b, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_LAYOUT);
	flow_close(t);
	/* No boot id: not checked. */
	t = flow_open(test_path(), 3, 2000, NULL, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_RESTORED);
	flow_close(t);
	test_cleanup();
}
END_TEST

/* A file whose first page is garbage is reinitialised, not trusted. */
START_TEST(test_bad_header)
{
	struct flow_open_info info;
	struct flow_table *t = flow_open(test_path(), 1, 100, NULL, &info);
	char junk[64];
	int fd;

	ck_assert_ptr_nonnull(t);
	test_fill(t, 1, 50);
	flow_close(t);
	memset(junk, 'x', sizeof(junk));
	fd = open(test_path(), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 0), sizeof(junk));
	close(fd);
	t = flow_open(test_path(), 1, 100, NULL, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_LAYOUT);
	ck_assert_uint_eq(test_found(t, 1, 50), 0);
	flow_close(t);
	test_cleanup();
}
END_TEST

/*
 * What a crash leaves behind: a flow in two slots (killed in the middle of
 * a shift) and a slot half written (odd counter).  The slots are at the
 * end of the file, 64 bytes each, after the header page.
 */
START_TEST(test_repair_after_crash)
{
	enum { N = 800 };
	struct flow_open_info info;
	struct flow_table *t = flow_open(test_path(), 1, 1000, NULL, &info);
	size_t slots = flow_slots(flow_partition(t, 0)), base, dup = 0, torn = 0;
	struct flow_entry *all;
	int fd;

	ck_assert_ptr_nonnull(t);
	test_fill(t, 1, N);
	flow_close(t);
	base = info.bytes - slots * sizeof(struct flow_entry);
	all = malloc(slots * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	fd = open(test_path(), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, all, slots * sizeof(*all), (off_t)base),
			 (ssize_t)(slots * sizeof(*all)));
	/* Duplicate the last flow of a cluster into the free slot after it. */
	for (size_t i = 0; i + 1 < slots && !dup; i++)
		if (all[i].dist && !all[i + 1].dist) {
			struct flow_entry copy = all[i];

			copy.dist++;
			ck_assert_int_eq(pwrite(fd, &copy, sizeof(copy),
						(off_t)(base + (i + 1) * sizeof(copy))),
					 sizeof(copy));
			dup = i + 1;
		}
	/* Tear another flow: an odd counter and a half-new backend. */
	for (size_t i = slots - 1; i > 0 && !torn; i--)
		if (all[i].dist && i != dup && i + 1 != dup) {
			struct flow_entry half = all[i];

			half.seq |= 1;
			half.backend = 12345;
			ck_assert_int_eq(pwrite(fd, &half, sizeof(half),
						(off_t)(base + i * sizeof(half))),
					 sizeof(half));
			torn = i;
		}
	ck_assert_uint_ne(dup, 0);
	ck_assert_uint_ne(torn, 0);
	close(fd);
	free(all);

	t = flow_open(test_path(), 1, 1000, NULL, &info);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(info.status, FLOW_OPEN_RESTORED);
	ck_assert_uint_eq(info.dropped, 2);
	ck_assert_uint_eq(info.flows, N - 1);
	/* test_found checks every field of every flow left. */
	ck_assert_uint_eq(test_found(t, 1, N), N - 1);
	flow_close(t);
	test_cleanup();
}
END_TEST

struct test_flush_seen {
	uint8_t *old;  /* how often each old flow was reported */
	size_t news;   /* new flows reported */
};

static void test_flush_cb(const struct flow_entry *e, void *arg)
{
	struct test_flush_seen *s = arg;

	if (e->group < 1000000)
		s->old[e->group]++;
	else
		s->news++;
}

/*
 * A flush in small steps while new flows come and go at a load near the
 * limit, so that inserts keep shifting flows across the sweeper's cursor.
 * Every flow that predates the request goes, and is reported once.
 */
START_TEST(test_flush_while_busy)
{
	enum { LIMIT = 4000, OLD = 3000, NEWS = 2000 };
	struct flow_table *t = test_table(1, LIMIT);
	struct flow_part *p = flow_partition(t, 0);
	struct test_flush_seen seen = { calloc(OLD, 1), 0 };
	struct flow_stats st;
	uint32_t ticket;
	size_t new_count = 0, removed_news = 0;
	int rounds = 0;

	ck_assert_ptr_nonnull(seen.old);
	test_srand((uint64_t)_i + 7);
	for (uint32_t i = 0; i < OLD; i++) {
		struct flow_key k = test_key(AF_INET, IPPROTO_UDP, i % 97, (uint16_t)i, 0, 53);

		ck_assert_ptr_nonnull(flow_insert(p, &k, 5353, i, 0, 0));
	}
	ck_assert(!flow_flush_pending(p));
	ticket = flow_flush_request(p);
	ck_assert(flow_flush_pending(p));
	ck_assert(!flow_flush_done(p, ticket));
	while (!flow_flush_done(p, ticket)) {
		for (int j = 0; j < 8; j++) {
			uint32_t n = test_rand(NEWS);
			struct flow_key k = test_key(AF_INET, IPPROTO_UDP, 1000 + n % 89,
						     (uint16_t)n, 0, 53);
			const struct flow_entry *e = flow_lookup_in(p, &k);

			if (e) {
				flow_remove(p, e);
				removed_news++;
			} else if (flow_insert(p, &k, 5353, 1000000 + n, 0, 0)) {
				new_count++;
			}
		}
		flow_expire(p, 0, &test_timeouts, 1 + test_rand(40), test_flush_cb, &seen);
		ck_assert_int_lt(++rounds, 100000);
	}
	ck_assert(!flow_flush_pending(p));
	for (uint32_t i = 0; i < OLD; i++) {
		struct flow_key k = test_key(AF_INET, IPPROTO_UDP, i % 97, (uint16_t)i, 0, 53);

		ck_assert_ptr_null(flow_lookup_in(p, &k));
		ck_assert_uint_eq(seen.old[i], 1);
	}
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flushed, OLD + seen.news);
	ck_assert_uint_eq(st.flows, new_count - removed_news - seen.news);
	ck_assert_uint_eq(st.expired, 0);
	/* A later request gets a later ticket, done after another pass. */
	ck_assert(flow_flush_done(p, ticket));
	ticket = flow_flush_request(p);
	ck_assert(!flow_flush_done(p, ticket));
	flow_expire(p, 0, &test_timeouts, flow_slots(p) + 1, test_flush_cb, &seen);
	ck_assert(flow_flush_done(p, ticket));
	flow_stats(p, &st);
	ck_assert_uint_eq(st.flows, 0);
	free(seen.old);
	flow_close(t);
}
END_TEST

struct test_reader {
	const struct flow_part *p;
	int stop;
	unsigned long seen, torn, passes;
};

/* Every field of a test flow follows from its key, so a torn copy shows. */
static uint32_t test_group_of(const struct flow_key *k)
{
	return (uint32_t)k->client[3] << 16 | k->client_port;
}

static int test_reader_cb(const struct flow_entry *e, void *arg)
{
	struct test_reader *r = arg;
	uint32_t g = test_group_of(&e->key);

	r->seen++;
	if (e->seq & 1 || e->group != g || e->backend != ~g ||
	    e->backend_port != (uint16_t)(g ^ 0x5a5a) || e->last_seen < e->created ||
	    e->state != FLOW_UDP || e->key.port != 53)
		r->torn++;
	return 0;
}

static int test_reader_main(void *arg)
{
	struct test_reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		flow_foreach(r->p, test_reader_cb, r);
		r->passes++;
	}
	return 0;
}

START_TEST(test_concurrent_reader)
{
	enum { LIMIT = 2000, OPS = 200000 };
	struct flow_table *t = test_table(1, LIMIT);
	struct flow_part *p = flow_partition(t, 0);
	struct test_reader r = { .p = p };
	thrd_t th;

	test_srand(99);
	ck_assert_int_eq(thrd_create(&th, test_reader_main, &r), thrd_success);
	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t n = test_rand(3 * LIMIT);
		struct flow_key k = test_key(AF_INET, IPPROTO_UDP, n % 200, (uint16_t)n, 0, 53);
		uint32_t g = test_group_of(&k);
		const struct flow_entry *e = flow_lookup_in(p, &k);

		if (!e)
			flow_insert(p, &k, (uint16_t)(g ^ 0x5a5a), g, ~g, op / 64);
		else if (test_rand(3) == 0)
			flow_touch(p, e, op / 64);
		else
			flow_remove(p, e);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(thrd_join(th, NULL), thrd_success);
	printf("flow: reader made %lu passes over %lu flows during %d writes, %lu torn\n",
	       r.passes, r.seen, OPS, r.torn);
	ck_assert_uint_gt(r.passes, 0);
	ck_assert_uint_eq(r.torn, 0);
	flow_close(t);
}
END_TEST

static int test_count_cb(const struct flow_entry *e, void *arg)
{
	size_t *n = arg;

	(void)e;
	return ++*n == 3 ? 42 : 0;
}

START_TEST(test_foreach_stops)
{
	struct flow_table *t = test_table(2, 100);
	size_t n = 0;

	test_fill(t, 2, 10);
	ck_assert_int_eq(flow_foreach(flow_partition(t, 1), test_count_cb, &n), 42);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(flow_partitions(t), 2);
	flow_close(t);
}
END_TEST

START_TEST(test_open_errors)
{
	char id[FLOW_BOOT_ID_SIZE];

	errno = 0;
	ck_assert_ptr_null(flow_open(NULL, 0, 100, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(flow_open(NULL, 1025, 100, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(flow_open(NULL, 1, 0, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(flow_open(NULL, 1, (1u << 28) + 1, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(flow_open("/nonexistent/dir/flows", 1, 100, NULL, NULL));
	ck_assert_int_eq(errno, ENOENT);
	flow_close(NULL);
	ck_assert_int_eq(flow_boot_id(id), 0);
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert_int_eq(id[8], '-');
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");
	TCase *big = tcase_create("million");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lookup_both_directions);
	tcase_add_test(tc, test_conflicts);
	tcase_add_loop_test(tc, test_random_vs_model, 0, 3);
	tcase_add_test(tc, test_tcp_states);
	tcase_add_test(tc, test_expiry_per_state);
	tcase_add_test(tc, test_expiry_budget);
	tcase_add_test(tc, test_full_refuses_and_keeps);
	tcase_add_test(tc, test_persistence);
	tcase_add_test(tc, test_bad_header);
	tcase_add_test(tc, test_repair_after_crash);
	tcase_add_loop_test(tc, test_flush_while_busy, 0, 4);
	tcase_add_test(tc, test_concurrent_reader);
	tcase_add_test(tc, test_foreach_stops);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	/* Sanitizer builds are several times slower. */
	tcase_set_timeout(big, 300);
	tcase_add_test(big, test_million);
	suite_add_tcase(s, big);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
