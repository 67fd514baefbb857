/*
 * Unit tests for mux: the packet path's decisions for application groups,
 * over a real flow partition, wait queue and group snapshot, with packets
 * built here.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "gctl.h"
#include "groups.h"
#include "mux.h"
#include "pkt.h"

#define VPORT 9000
#define SERVICE "192.0.2.1"

struct fixture {
	struct flow_table *t;
	struct mux *m;
	struct groups *g;
	struct gctl_snap snap;
	int32_t *rr[1];
	uint32_t active[2];
	uint64_t flows[2];
	struct groups_counters gc;
};

/* A TCP or UDP packet from client:cport to SERVICE:dport (or back, when out). */
static size_t mk(uint8_t *b, uint8_t proto, const char *client, uint16_t cport,
		 uint16_t sport, bool out, uint8_t flags)
{
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint8_t c[4], s[4];

	memset(b, 0, 64);
	inet_pton(AF_INET, client, c);
	inet_pton(AF_INET, SERVICE, s);
	b[0] = 0x45;
	b[3] = (uint8_t)(20 + l4);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, out ? s : c, 4);
	memcpy(b + 16, out ? c : s, 4);
	b[20] = (uint8_t)((out ? sport : cport) >> 8);
	b[21] = (uint8_t)(out ? sport : cport);
	b[22] = (uint8_t)((out ? cport : sport) >> 8);
	b[23] = (uint8_t)(out ? cport : sport);
	if (proto == IPPROTO_TCP) {
		b[32] = 0x50;
		b[33] = flags;
	} else {
		b[25] = 8;
	}
	return 20 + l4;
}

static uint16_t port_at(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] << 8 | b[off + 1]);
}

/* Runs one packet through the mux; *port gets the port to write. */
static enum mux_action run(struct fixture *f, uint8_t proto, const char *client,
			   uint16_t cport, uint16_t sport, bool out, uint8_t flags,
			   uint32_t id, int64_t now_ms, uint16_t *port)
{
	uint8_t b[64];
	size_t len = mk(b, proto, client, cport, sport, out, flags);
	enum pkt_dir dir = out ? PKT_OUT : PKT_IN;
	struct pkt_key key;
	struct pkt_view view;

	ck_assert(pkt_parse(b, len, dir, &key, &view));
	*port = 0;
	return mux_packet(f->m, &f->snap, dir, &key, &view, b, len, false, id, now_ms, port);
}

/*
 * One group on VPORT (any address, TCP and UDP) with two backends, 9001
 * and 9002, of max_flows max each; default unless rule_only.
 */
static void setup(struct fixture *f, enum sched_policy policy, uint32_t max,
		  uint32_t max_wait_ms, enum groups_on_timeout on_timeout, bool rule_only)
{
	struct groups_group gr = {
		.id = 1, .name = "web", .aid = "web", .virtual_port = VPORT, .protos = 3,
		.policy = policy, .max_wait_ms = max_wait_ms, .on_timeout = on_timeout,
		.is_default = !rule_only,
	};
	struct groups_backend be[2];
	struct groups_rule rule = { .id = 1, .group_id = 1, .family = AF_INET,
				    .prefix_len = 24 };
	struct groups_input in = { &gr, 1, be, 2, &rule, rule_only ? 1 : 0 };
	struct groups_error err;

	memset(f, 0, sizeof(*f));
	gr.counters = &f->gc;
	inet_pton(AF_INET, "198.51.100.0", rule.addr);
	for (int i = 0; i < 2; i++)
		be[i] = (struct groups_backend){ 1, { .id = 10 + i, .port = (uint16_t)(9001 + i),
						     .weight = 1, .max_flows = max,
						     .active = &f->active[i],
						     .flows = &f->flows[i] } };
	f->g = groups_build(&in, &err);
	ck_assert_msg(f->g != NULL, "%s", err.message);
	f->rr[0] = calloc(2, sizeof(int32_t));
	f->snap = (struct gctl_snap){ f->g, f->rr, 1 };
	f->t = flow_open(NULL, 1, 1024, NULL, NULL);
	ck_assert_ptr_nonnull(f->t);
	f->m = mux_new(flow_partition(f->t, 0), 0, &flow_timeouts_default);
	ck_assert_ptr_nonnull(f->m);
}

static void teardown(struct fixture *f)
{
	mux_free(f->m);
	flow_close(f->t);
	groups_free(f->g);
	free(f->rr[0]);
}

START_TEST(new_flow_both_ways)
{
	struct fixture f;
	uint16_t port;

	setup(&f, SCHED_ROUND_ROBIN, 0, 0, GROUPS_RESET, false);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x02, 1, 1000, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9001);
	ck_assert_uint_eq(f.active[0], 1);
	ck_assert_uint_eq(f.flows[0], 1);
	ck_assert_uint_eq(f.gc.flows, 1);
	/* The backend's reply goes back out from the virtual port. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, 9001, true, 0x12, 2, 1000, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, VPORT);
	/* Later segments keep the backend; a second client gets the next one. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x10, 3, 1000, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9001);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.8", 40000, VPORT, false, 0x02, 4, 1000, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9002);
	/* FIN both ways releases the backend at once. */
	run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x11, 5, 1000, &port);
	ck_assert_uint_eq(f.active[0], 1);
	run(&f, IPPROTO_TCP, "198.51.100.7", 40000, 9001, true, 0x11, 6, 1000, &port);
	ck_assert_uint_eq(f.active[0], 0);
	teardown(&f);
}
END_TEST

START_TEST(passes_what_is_not_a_group)
{
	struct fixture f;
	uint16_t port;

	setup(&f, SCHED_ROUND_ROBIN, 0, 0, GROUPS_RESET, false);
	/* Another port, a segment of no flow, a reply of no flow. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, 9999, false, 0x02, 1, 0, &port),
			 MUX_PASS);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x10, 2, 0, &port),
			 MUX_PASS);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x12, 3, 0, &port),
			 MUX_PASS);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, 9001, true, 0x10, 4, 0, &port),
			 MUX_PASS);
	ck_assert_uint_eq(f.active[0] + f.active[1], 0);
	teardown(&f);
}
END_TEST

START_TEST(udp_flow_expires)
{
	struct fixture f;
	uint16_t port;

	setup(&f, SCHED_ROUND_ROBIN, 0, 0, GROUPS_RESET, false);
	ck_assert_int_eq(run(&f, IPPROTO_UDP, "198.51.100.7", 5353, VPORT, false, 0, 1, 1000, &port),
			 MUX_REWRITE);
	ck_assert_int_eq(run(&f, IPPROTO_UDP, "198.51.100.7", 5353, VPORT, false, 0, 2, 2000, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9001);
	ck_assert_uint_eq(f.active[0], 1);
	mux_expire(f.m, &f.snap, 2000 + 299 * 1000, 100000);
	ck_assert_uint_eq(f.active[0], 1);
	ck_assert_uint_eq(mux_expire(f.m, &f.snap, 2000 + 301 * 1000, 100000), 1);
	ck_assert_uint_eq(f.active[0], 0);
	teardown(&f);
}
END_TEST

START_TEST(wait_then_admit)
{
	struct fixture f;
	struct mux_late late[4];
	int64_t deadline;
	uint16_t port;

	setup(&f, SCHED_ROUND_ROBIN, 1, 500, GROUPS_RESET, false);
	run(&f, IPPROTO_TCP, "198.51.100.1", 40000, VPORT, false, 0x02, 1, 1000, &port);
	run(&f, IPPROTO_TCP, "198.51.100.2", 40000, VPORT, false, 0x02, 2, 1000, &port);
	ck_assert_uint_eq(f.active[0] + f.active[1], 2);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.3", 40000, VPORT, false, 0x02, 3, 1100, &port),
			 MUX_HELD);
	/* Its retransmission is dropped: the first copy keeps its place. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.3", 40000, VPORT, false, 0x02, 4, 1200, &port),
			 MUX_DROP);
	ck_assert_uint_eq(f.gc.waits, 1);
	ck_assert(mux_next_deadline(f.m, &deadline));
	ck_assert_int_eq(deadline, 1600);
	ck_assert_uint_eq(mux_late(f.m, &f.snap, 1300, late, 4), 0);
	/* The first client resets: its slot goes to the waiting one. */
	run(&f, IPPROTO_TCP, "198.51.100.1", 40000, VPORT, false, 0x04, 5, 1350, &port);
	ck_assert_uint_eq(mux_late(f.m, &f.snap, 1400, late, 4), 1);
	ck_assert_int_eq(late[0].action, MUX_REWRITE);
	ck_assert_uint_eq(late[0].e.info.packet_id, 3);
	ck_assert_uint_eq(port_at(late[0].e.packet, 22), 9001);
	ck_assert_uint_eq(f.gc.wait_admitted, 1);
	ck_assert(!mux_next_deadline(f.m, &deadline));
	/* Its later segments follow the flow the admission made. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.3", 40000, VPORT, false, 0x10, 6, 1500, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9001);
	teardown(&f);
}
END_TEST

START_TEST(wait_times_out)
{
	struct fixture f;
	struct mux_late late[4];
	uint16_t port;
	const enum groups_on_timeout how = _i ? GROUPS_DROP : GROUPS_RESET;

	setup(&f, SCHED_LEAST_FLOWS, 1, 500, how, false);
	run(&f, IPPROTO_TCP, "198.51.100.1", 40000, VPORT, false, 0x02, 1, 1000, &port);
	run(&f, IPPROTO_TCP, "198.51.100.2", 40000, VPORT, false, 0x02, 2, 1000, &port);
	ck_assert_int_eq(run(&f, IPPROTO_UDP, "198.51.100.3", 53, VPORT, false, 0, 3, 1000, &port),
			 MUX_HELD);
	ck_assert_uint_eq(mux_late(f.m, &f.snap, 1499, late, 4), 0);
	ck_assert_uint_eq(mux_late(f.m, &f.snap, 1500, late, 4), 1);
	ck_assert_int_eq(late[0].action, _i ? MUX_DROP : MUX_REFUSE);
	ck_assert_uint_eq(f.gc.timeouts, 1);
	ck_assert_uint_eq(f.active[0] + f.active[1], 2);
	teardown(&f);
}
END_TEST

START_TEST(refusals)
{
	struct fixture f;
	uint16_t port;
	struct mux_stats st;

	/* No wait configured: refused at once, per on_timeout. */
	setup(&f, SCHED_ROUND_ROBIN, 1, 0, GROUPS_RESET, false);
	run(&f, IPPROTO_TCP, "198.51.100.1", 40000, VPORT, false, 0x02, 1, 0, &port);
	run(&f, IPPROTO_TCP, "198.51.100.2", 40000, VPORT, false, 0x02, 2, 0, &port);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.3", 40000, VPORT, false, 0x02, 3, 0, &port),
			 MUX_REFUSE);
	ck_assert_uint_eq(f.gc.refused, 1);
	teardown(&f);

	/* A client no rule takes, with no default group: refused. */
	setup(&f, SCHED_ROUND_ROBIN, 0, 0, GROUPS_RESET, true);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "203.0.113.5", 40000, VPORT, false, 0x02, 1, 0, &port),
			 MUX_REFUSE);
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.5", 40000, VPORT, false, 0x02, 2, 0, &port),
			 MUX_REWRITE);
	mux_stats(f.m, &st);
	ck_assert_uint_eq(st.no_route, 1);
	ck_assert_uint_eq(st.flow_packets, 0);
	teardown(&f);
}
END_TEST

START_TEST(reused_port)
{
	struct fixture f;
	uint16_t port;

	setup(&f, SCHED_ROUND_ROBIN, 0, 0, GROUPS_RESET, false);
	run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x02, 1, 0, &port);
	ck_assert_uint_eq(port, 9001);
	run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x04, 2, 0, &port);
	ck_assert_uint_eq(f.active[0], 0);
	/* A new connection from the same port is a new flow, scheduled anew. */
	ck_assert_int_eq(run(&f, IPPROTO_TCP, "198.51.100.7", 40000, VPORT, false, 0x02, 3, 0, &port),
			 MUX_REWRITE);
	ck_assert_uint_eq(port, 9002);
	ck_assert_uint_eq(f.active[1], 1);
	ck_assert_uint_eq(f.gc.flows, 2);
	teardown(&f);
}
END_TEST

static Suite *mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, new_flow_both_ways);
	tcase_add_test(tc, passes_what_is_not_a_group);
	tcase_add_test(tc, udp_flow_expires);
	tcase_add_test(tc, wait_then_admit);
	tcase_add_loop_test(tc, wait_times_out, 0, 2);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, reused_port);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mux_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
