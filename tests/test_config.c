/*
 * Unit tests for config: a whole table is checked row by row, then each row
 * against the ones before it, and a fault names the row at fault (the
 * later of two) and the earlier one by its index; only a table that passes
 * reaches control.  control_table_replace and control_mapping_list are
 * stubs here: the first records what it was given, the second must not be
 * called.  config_check sorts instead of comparing every pair; a copy of
 * the pairwise check it replaced is the oracle that pins its answers.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "util.h"

static size_t replaced = SIZE_MAX; /* rows the last control_table_replace got */

int control_table_replace(struct control *ctl, struct mapping *rows, size_t n,
			  struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)rows;
	(void)cond;
	(void)err;
	replaced = n;
	return 0;
}

int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, uint64_t *version, struct mapping_error *err)
{
	(void)ctl;
	(void)rows;
	(void)n;
	(void)version;
	(void)err;
	ck_abort_msg("control_mapping_list called");
	return -1;
}

static struct mapping row(const char *addr, uint32_t shared, uint32_t assigned)
{
	struct mapping m;

	memset(&m, 0, sizeof(m));
	m.proto = MAPPING_BOTH;
	snprintf(m.address, sizeof(m.address), "%s", addr);
	m.shared_port = shared;
	m.assigned_port = assigned;
	m.enabled = true;
	return m;
}

START_TEST(check_accepts_and_normalises)
{
	struct mapping rows[] = {
		row("10.0.0.1", 80, 8081),
		row("2001:DB8::0:1", 80, 8081),
		row("Web.Example", 443, 8443),
	};
	struct mapping_error err;
	size_t bad = 0;

	ck_assert(config_check(rows, ARRAY_LEN(rows), &bad, &err));
	ck_assert_uint_eq(bad, SIZE_MAX);
	ck_assert_str_eq(rows[1].address, "2001:db8::1");
	ck_assert_str_eq(rows[2].address, "web.example");
	ck_assert(config_check(rows, 0, &bad, &err));
}
END_TEST

START_TEST(check_names_the_row)
{
	struct mapping rows[] = {
		row("10.0.0.1", 80, 8081),
		row("10.0.0.2", 80, 8082),
		row("10.0.0.1", 80, 9999),
	};
	struct mapping_error err;
	size_t bad = 0;

	/* A duplicate: reported at the later row, naming the earlier by index. */
	ck_assert(!config_check(rows, ARRAY_LEN(rows), &bad, &err));
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(err.status, 409);
	ck_assert_msg(strstr(err.message, "mappings[0]") != NULL, "%s", err.message);
	/* An invalid value is found before any conflict. */
	rows[1].shared_port = 70000;
	ck_assert(!config_check(rows, ARRAY_LEN(rows), &bad, &err));
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(err.status, 422);
	ck_assert_str_eq(err.field, "shared_port");
}
END_TEST

/*
 * The pairwise check config_check used to be, kept as the reference for
 * which conflict is reported and how: for each row, every earlier row in
 * order, the first that mapping_check_conflicts refuses.  Rows must have
 * passed mapping_validate.
 */
static bool pairwise_check(const struct mapping *rows, size_t n, size_t *bad,
			   struct mapping_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct mapping a = rows[i];

		*bad = i;
		a.id = -1 - (int64_t)i;
		for (size_t j = 0; j < i; j++) {
			struct mapping b = rows[j];
			struct mapping_error e;
			const char *rule;

			b.id = -1 - (int64_t)j;
			if (mapping_check_conflicts(&a, &b, 1, &e))
				continue;
			rule = strstr(e.message, " already ");
			return mapping_fail(err, e.status, e.code, e.field,
					    "mappings[%zu] %s", j,
					    rule != NULL ? rule + 1 : e.message);
		}
	}
	*bad = SIZE_MAX;
	return true;
}

static struct mapping row_proto(unsigned proto, const char *addr,
				uint32_t shared, uint32_t assigned)
{
	struct mapping m = row(addr, shared, assigned);

	m.proto = proto;
	return m;
}

/* Checks rows with config_check and expects row bad against "mappings[other]". */
static void expect_conflict(struct mapping *rows, size_t n, size_t want_bad,
			    const char *code, const char *field,
			    const char *message)
{
	struct mapping_error err;
	size_t bad = 0;

	ck_assert(!config_check(rows, n, &bad, &err));
	ck_assert_uint_eq(bad, want_bad);
	ck_assert_int_eq(err.status, 409);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, field);
	ck_assert_str_eq(err.message, message);
}

/*
 * Of several conflicts, the one reported is at the lowest row, against
 * the lowest earlier row, by the first rule that applies to the pair,
 * however the rows sort by address or port.
 */
START_TEST(check_reports_first_pair)
{
	/* Rows 3 and 4 conflict, and so do 2 and 0 (by shared port): row 2 wins. */
	struct mapping a[] = {
		row_proto(MAPPING_TCP, "10.0.0.9", 80, 8080),
		row_proto(MAPPING_TCP, "10.0.0.1", 443, 8443),
		row_proto(MAPPING_BOTH, "10.0.0.9", 80, 9090),
		row_proto(MAPPING_UDP, "10.0.0.1", 53, 5353),
		row_proto(MAPPING_UDP, "10.0.0.1", 5353, 53),
	};
	/* Row 3 conflicts with 2 (shared port) and 1 (assigned port): 1 wins. */
	struct mapping b[] = {
		row_proto(MAPPING_TCP, "10.0.0.5", 22, 2222),
		row_proto(MAPPING_TCP, "10.0.0.5", 21, 8080),
		row_proto(MAPPING_BOTH, "10.0.0.5", 80, 81),
		row_proto(MAPPING_TCP, "10.0.0.5", 80, 8080),
	};
	/* Same shared and assigned port: the duplicate rule comes first. */
	struct mapping c[] = {
		row_proto(MAPPING_UDP, "2001:db8::1", 53, 5353),
		row_proto(MAPPING_TCP, "2001:db8::1", 53, 5353),
		row_proto(MAPPING_BOTH, "2001:db8::1", 53, 5353),
	};
	/* One row's shared port is the other's assigned port, both ways. */
	struct mapping d[] = {
		row_proto(MAPPING_TCP, "web.example", 80, 8080),
		row_proto(MAPPING_TCP, "web.example", 8080, 80),
	};
	/* tcp against udp, or another address: no conflict at all. */
	struct mapping e[] = {
		row_proto(MAPPING_TCP, "10.0.0.1", 80, 8080),
		row_proto(MAPPING_UDP, "10.0.0.1", 80, 8080),
		row_proto(MAPPING_TCP, "10.0.0.2", 8080, 80),
	};
	struct mapping_error err;
	size_t bad = 0;

	expect_conflict(a, ARRAY_LEN(a), 2, "duplicate", "shared_port",
			"mappings[0] already shares tcp 10.0.0.9:80");
	expect_conflict(b, ARRAY_LEN(b), 3, "ambiguous_reverse", "assigned_port",
			"mappings[1] already assigns tcp 10.0.0.5:8080; replies from that "
			"port could not be told apart");
	expect_conflict(c, ARRAY_LEN(c), 2, "duplicate", "shared_port",
			"mappings[0] already shares udp [2001:db8::1]:53");
	expect_conflict(d, ARRAY_LEN(d), 1, "port_conflict", "shared_port",
			"mappings[0] already assigns tcp web.example:8080; one packet would "
			"match two mappings");
	ck_assert(config_check(e, ARRAY_LEN(e), &bad, &err));
	ck_assert_uint_eq(bad, SIZE_MAX);
}
END_TEST

/*
 * Random small tables, crowded onto few addresses and ports so that most
 * hold several conflicts: config_check answers exactly what the pairwise
 * check answers, row, status, code, field and message.
 */
START_TEST(check_matches_pairwise)
{
	static const char *const addrs[] = { "10.0.0.1", "10.0.0.2", "2001:db8::1",
					     "web.example" };
	static const unsigned protos[] = { MAPPING_TCP, MAPPING_UDP, MAPPING_BOTH };
	unsigned seed = 12345, conflicts = 0;

	for (int round = 0; round < 20000; round++) {
		struct mapping rows[12];
		size_t n = (size_t)(rand_r(&seed) % (ARRAY_LEN(rows) + 1));
		struct mapping_error got, want;
		size_t got_bad = 0, want_bad = 0;
		bool ok, want_ok;

		for (size_t i = 0; i < n; i++) {
			uint32_t shared = 1 + (uint32_t)(rand_r(&seed) % 5);
			uint32_t assigned = 1 + (uint32_t)(rand_r(&seed) % 5);

			if (assigned == shared)
				assigned = shared % 5 + 1;
			rows[i] = row_proto(protos[rand_r(&seed) % ARRAY_LEN(protos)],
					    addrs[rand_r(&seed) % ARRAY_LEN(addrs)],
					    shared, assigned);
		}
		ok = config_check(rows, n, &got_bad, &got);
		want_ok = pairwise_check(rows, n, &want_bad, &want);
		ck_assert_int_eq(ok, want_ok);
		ck_assert_uint_eq(got_bad, want_bad);
		if (ok)
			continue;
		conflicts++;
		ck_assert_int_eq(got.status, want.status);
		ck_assert_str_eq(got.code, want.code);
		ck_assert_str_eq(got.field, want.field);
		ck_assert_str_eq(got.message, want.message);
	}
	/* The tables must actually exercise the conflict rules. */
	ck_assert_uint_gt(conflicts, 10000);
}
END_TEST

/* Row i of a big table: a distinct address, shared port 80, its own assigned port. */
static struct mapping big_row(size_t i)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu", i / 62500,
		 i / 250 % 250, i % 250 + 1);
	return row(addr, 80, 1024 + (uint32_t)(i % 60000));
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * 100 000 distinct rows pass, and a conflict planted in the last row is
 * found and named.  The time is printed, not asserted: the pairwise check
 * took minutes here, which the test's timeout would catch anyway.
 */
START_TEST(check_big_table)
{
	enum { BIG = 100000 };
	struct mapping *rows = calloc(BIG, sizeof(*rows));
	struct mapping_error err;
	size_t bad = 0;
	double t;

	ck_assert_ptr_nonnull(rows);
	for (size_t i = 0; i < BIG; i++)
		rows[i] = big_row(i);
	t = now_seconds();
	ck_assert_msg(config_check(rows, BIG, &bad, &err), "%s", err.message);
	printf("config_check: %d distinct rows in %.3f s\n", BIG, now_seconds() - t);
	ck_assert_uint_eq(bad, SIZE_MAX);

	/* The last row takes row 4242's address and assigned port. */
	snprintf(rows[BIG - 1].address, sizeof(rows[BIG - 1].address), "%s",
		 rows[4242].address);
	rows[BIG - 1].shared_port = 8;
	rows[BIG - 1].assigned_port = rows[4242].assigned_port;
	t = now_seconds();
	ck_assert(!config_check(rows, BIG, &bad, &err));
	printf("config_check: %d rows, conflict at the end, in %.3f s\n", BIG,
	       now_seconds() - t);
	ck_assert_uint_eq(bad, BIG - 1);
	ck_assert_int_eq(err.status, 409);
	ck_assert_str_eq(err.code, "ambiguous_reverse");
	ck_assert_str_eq(err.field, "assigned_port");
	ck_assert_msg(strncmp(err.message, "mappings[4242] already assigns both 10.0.16.243:5266;",
			      strlen("mappings[4242] already assigns both 10.0.16.243:5266;")) == 0,
		      "%s", err.message);
	free(rows);
}
END_TEST

START_TEST(replace_checks_first)
{
	struct mapping rows[] = { row("10.0.0.1", 80, 80) };
	struct mapping_error err;
	size_t bad = 0;

	replaced = SIZE_MAX;
	ck_assert_int_eq(config_replace(NULL, rows, 1, NULL, &bad, &err), -1);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(replaced, SIZE_MAX);
	rows[0].assigned_port = 8080;
	ck_assert_int_eq(config_replace(NULL, rows, 1, NULL, &bad, &err), 0);
	ck_assert_uint_eq(bad, SIZE_MAX);
	ck_assert_uint_eq(replaced, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config"), *big;
	SRunner *sr;
	int failed;

	tcase_add_test(tc, check_accepts_and_normalises);
	tcase_add_test(tc, check_names_the_row);
	tcase_add_test(tc, check_reports_first_pair);
	tcase_add_test(tc, check_matches_pairwise);
	tcase_add_test(tc, replace_checks_first);
	suite_add_tcase(s, tc);
	/* Room for slow sanitizer builds; the time itself is printed. */
	big = tcase_create("big");
	tcase_set_timeout(big, 120);
	tcase_add_test(big, check_big_table);
	suite_add_tcase(s, big);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
