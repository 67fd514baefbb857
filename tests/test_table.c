/*
 * Unit tests for the table snapshot: lookups in both directions, protocol
 * bits, shadowed keys, counters, and publishing through RCU.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "table.h"

static struct table_rule test_rule(int family, const char *addr, unsigned protos,
				   uint16_t shared, uint16_t assigned,
				   struct table_counters *c)
{
	struct table_rule r = { .protos = protos, .family = (uint8_t)family,
				.shared_port = shared, .assigned_port = assigned,
				.counters = c };

	ck_assert_int_eq(inet_pton(family, addr, r.addr), 1);
	return r;
}

static struct pkt_key test_key(int family, const char *addr, uint8_t l4proto,
			       uint16_t port)
{
	struct pkt_key k;

	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)family;
	k.l4proto = l4proto;
	k.port = port;
	ck_assert_int_eq(inet_pton(family, addr, k.addr), 1);
	return k;
}

START_TEST(test_lookup_both_directions)
{
	struct table_counters c = { 0 };
	struct table_rule rules[] = {
		test_rule(AF_INET, "198.18.0.1", 1, 80, 8081, &c),
		test_rule(AF_INET6, "2001:db8::2", 3, 80, 8082, &c),
	};
	struct table *t = table_build(rules, 2, NULL);
	struct pkt_key k;
	const struct table_hit *h;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(table_size(t), 3);
	k = test_key(AF_INET, "198.18.0.1", 6, 80);
	h = table_lookup(t, PKT_IN, &k);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->new_port, 8081);
	k = test_key(AF_INET, "198.18.0.1", 6, 8081);
	h = table_lookup(t, PKT_OUT, &k);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->new_port, 80);
	/* The assigned port is not a shared port and the other way round. */
	ck_assert_ptr_null(table_lookup(t, PKT_IN, &k));
	k = test_key(AF_INET, "198.18.0.1", 6, 80);
	ck_assert_ptr_null(table_lookup(t, PKT_OUT, &k));
	/* tcp only: udp does not match. */
	k = test_key(AF_INET, "198.18.0.1", 17, 80);
	ck_assert_ptr_null(table_lookup(t, PKT_IN, &k));
	/* both: tcp and udp match. */
	k = test_key(AF_INET6, "2001:db8::2", 17, 80);
	h = table_lookup(t, PKT_IN, &k);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->new_port, 8082);
	k = test_key(AF_INET6, "2001:db8::2", 6, 8082);
	ck_assert_ptr_nonnull(table_lookup(t, PKT_OUT, &k));
	/* Another address does not match. */
	k = test_key(AF_INET6, "2001:db8::3", 6, 80);
	ck_assert_ptr_null(table_lookup(t, PKT_IN, &k));
	table_free(t);
}
END_TEST

START_TEST(test_empty_and_null)
{
	struct pkt_key k = test_key(AF_INET, "198.18.0.1", 6, 80);
	struct table *t = table_build(NULL, 0, NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(table_lookup(t, PKT_IN, &k));
	ck_assert_ptr_null(table_lookup(NULL, PKT_IN, &k));
	ck_assert_uint_eq(table_size(NULL), 0);
	table_free(t);
}
END_TEST

START_TEST(test_shadowed_first_wins)
{
	struct table_counters a = { 0 }, b = { 0 };
	struct table_rule rules[] = {
		test_rule(AF_INET, "198.18.0.1", 1, 80, 8081, &a),
		test_rule(AF_INET, "198.18.0.1", 1, 80, 8082, &b),
	};
	size_t shadowed = 0;
	struct table *t = table_build(rules, 2, &shadowed);
	struct pkt_key k = test_key(AF_INET, "198.18.0.1", 6, 80);
	const struct table_hit *h = table_lookup(t, PKT_IN, &k);

	ck_assert_uint_eq(shadowed, 1);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->new_port, 8081);
	ck_assert_ptr_eq(h->counters, &a);
	table_free(t);
}
END_TEST

START_TEST(test_shadowed_reverse_is_all_or_nothing)
{
	struct table_counters a = { 0 }, b = { 0 };
	/* b shares a's assigned port: its inbound half alone would be wrong. */
	struct table_rule rules[] = {
		test_rule(AF_INET, "198.18.0.1", 1, 80, 8081, &a),
		test_rule(AF_INET, "198.18.0.1", 1, 443, 8081, &b),
	};
	size_t shadowed = 0;
	struct table *t = table_build(rules, 2, &shadowed);
	struct pkt_key k = test_key(AF_INET, "198.18.0.1", 6, 443);

	ck_assert_uint_eq(shadowed, 1);
	ck_assert_uint_eq(table_size(t), 1);
	ck_assert_ptr_null(table_lookup(t, PKT_IN, &k));
	k = test_key(AF_INET, "198.18.0.1", 6, 8081);
	ck_assert_uint_eq(table_lookup(t, PKT_OUT, &k)->new_port, 80);
	table_free(t);
}
END_TEST

START_TEST(test_many_rules)
{
	enum { N = 20000 };
	struct table_rule *rules = calloc(N, sizeof(*rules));
	struct table *t;

	ck_assert_ptr_nonnull(rules);
	for (unsigned i = 0; i < N; i++) {
		rules[i].protos = 2;
		rules[i].family = AF_INET;
		rules[i].addr[0] = 10;
		rules[i].addr[1] = (uint8_t)(i >> 8);
		rules[i].addr[2] = (uint8_t)i;
		rules[i].shared_port = 53;
		rules[i].assigned_port = (uint16_t)(10000 + i % 1000);
	}
	t = table_build(rules, N, NULL);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(table_size(t), N);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = { .family = AF_INET, .l4proto = 17, .port = 53 };
		const struct table_hit *h;

		memcpy(k.addr, rules[i].addr, 16);
		h = table_lookup(t, PKT_IN, &k);
		ck_assert_ptr_nonnull(h);
		ck_assert_uint_eq(h->new_port, rules[i].assigned_port);
	}
	table_free(t);
	free(rules);
}
END_TEST

START_TEST(test_counters)
{
	struct table_counters c = { 0 };
	struct table_hit h = { 80, &c };

	table_count(&h, PKT_IN, 100, 1000);
	table_count(&h, PKT_IN, 50, 1001);
	table_count(&h, PKT_OUT, 7, 1002);
	ck_assert_uint_eq(c.packets_in, 2);
	ck_assert_uint_eq(c.bytes_in, 150);
	ck_assert_uint_eq(c.packets_out, 1);
	ck_assert_uint_eq(c.bytes_out, 7);
	ck_assert_int_eq(c.last_hit, 1002);
}
END_TEST

START_TEST(test_publish)
{
	struct table_rule r = test_rule(AF_INET, "198.18.0.9", 1, 80, 8080, NULL);
	struct pkt_key k = test_key(AF_INET, "198.18.0.9", 6, 80);
	const struct table *seen;

	table_reader_register();
	table_publish(table_build(&r, 1, NULL));
	seen = table_read_begin();
	ck_assert_ptr_nonnull(table_lookup(seen, PKT_IN, &k));
	table_read_end();
	table_publish(NULL);
	seen = table_read_begin();
	ck_assert_ptr_null(seen);
	table_read_end();
	table_reader_unregister();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_lookup_both_directions);
	tcase_add_test(tc, test_empty_and_null);
	tcase_add_test(tc, test_shadowed_first_wins);
	tcase_add_test(tc, test_shadowed_reverse_is_all_or_nothing);
	tcase_add_test(tc, test_many_rules);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_publish);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
