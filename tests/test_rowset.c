/*
 * Unit tests for rowset, the control plane's in-memory table: rows stay
 * ordered by id through loads, inserts, removals and imports; live state
 * stays with its row; an import keeps the counters of the ids it keeps,
 * gives literals their address and names what the table knew of them, or
 * "resolving", and writes the rows back in the table's order.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rowset.h"
#include "util.h"

/* A row for id: a literal when addr parses as IPv4, else a name. */
static struct mapping row(int64_t id, const char *addr, uint32_t shared)
{
	struct mapping m;
	uint8_t buf[16];

	memset(&m, 0, sizeof(m));
	m.id = id;
	m.proto = MAPPING_TCP;
	snprintf(m.address, sizeof(m.address), "%s", addr);
	m.family = inet_pton(AF_INET, addr, buf) == 1 ? AF_INET : 0;
	m.shared_port = shared;
	m.assigned_port = shared + 1000;
	m.enabled = true;
	return m;
}

/* Loads rows with the given ids, as the store would list them. */
static void load(struct rowset *s, const int64_t *ids, size_t n)
{
	struct mapping *rows = calloc(n + 1, sizeof(*rows));

	ck_assert_ptr_nonnull(rows);
	for (size_t i = 0; i < n; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "10.0.0.%zu", i + 1);
		rows[i] = row(ids[i], addr, (uint32_t)(80 + i));
	}
	ck_assert_int_eq(rowset_load(s, rows, n), 0);
	for (size_t i = 0; i < n; i++)
		rowset_literal(&s->rows[i], &s->live[i].res);
}

static void assert_ids(const struct rowset *s, const int64_t *ids, size_t n)
{
	ck_assert_uint_eq(s->n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(s->rows[i].id == ids[i], "row %zu: id %lld, want %lld", i,
			      (long long)s->rows[i].id, (long long)ids[i]);
}

START_TEST(load_find_view)
{
	static const int64_t ids[] = { 3, 7, 20 };
	struct control_mapping cm;
	struct rowset s;

	load(&s, ids, ARRAY_LEN(ids));
	ck_assert_int_eq(rowset_find(&s, 7), 1);
	ck_assert_int_eq(rowset_find(&s, 8), -1);
	s.live[1].counters->packets_in = 5;
	rowset_view(&s, 1, &cm);
	ck_assert_int_eq(cm.m.id, 7);
	ck_assert_uint_eq(cm.packets_in, 5);
	ck_assert(cm.resolved);
	ck_assert_uint_eq(cm.naddrs, 1);
	ck_assert_str_eq(cm.addrs[0], "10.0.0.2");
	rowset_free(&s, true);
}
END_TEST

START_TEST(insert_keeps_order)
{
	static const int64_t ids[] = { 10, 20 };
	static const int64_t want[] = { 5, 10, 15, 20, 21, 22, 23, 24, 25, 26, 27,
					28, 29, 30, 31, 32, 33, 34, 35, 36 };
	struct resolver_result res;
	struct rowset s;
	int64_t add[] = { 15, 5 };

	load(&s, ids, ARRAY_LEN(ids));
	for (size_t i = 0; i < ARRAY_LEN(add); i++) {
		struct mapping m = row(add[i], "10.1.0.1", 90);

		rowset_literal(&m, &res);
		ck_assert_int_eq(rowset_reserve(&s), 0);
		rowset_insert(&s, &m, calloc(1, sizeof(struct table_counters)), &res);
	}
	/* New rows usually come last; enough of them to grow the arrays. */
	for (int64_t id = 21; id <= 36; id++) {
		struct mapping m = row(id, "10.2.0.1", 90);

		rowset_literal(&m, &res);
		ck_assert_int_eq(rowset_reserve(&s), 0);
		rowset_insert(&s, &m, calloc(1, sizeof(struct table_counters)), &res);
	}
	assert_ids(&s, want, ARRAY_LEN(want));
	/* The live state moved with its row. */
	ck_assert_str_eq(s.rows[1].address, "10.0.0.1");
	ck_assert_uint_eq(s.live[0].res.naddrs, 1);
	rowset_free(&s, true);
}
END_TEST

START_TEST(remove_returns_counters)
{
	static const int64_t ids[] = { 1, 2, 3 };
	static const int64_t left[] = { 1, 3 };
	struct table_counters *c;
	struct rowset s;

	load(&s, ids, ARRAY_LEN(ids));
	c = s.live[1].counters;
	ck_assert_ptr_eq(rowset_remove(&s, 1), c);
	assert_ids(&s, left, ARRAY_LEN(left));
	ck_assert_str_eq(s.rows[1].address, "10.0.0.3");
	free(c);
	rowset_free(&s, true);
}
END_TEST

/*
 * An import of ids [9000, 8000, new] ends up 8000, 9000, then the new one,
 * in the table and in the rows handed back; a kept id keeps its counters,
 * and names resolve without DNS.
 */
START_TEST(import_sorts_and_keeps)
{
	static const int64_t ids[] = { 8000, 8500 };
	struct mapping rows[4];
	struct table_counters *kept_counters;
	struct rowset_import im;
	struct rowset cur;
	size_t kept;

	load(&cur, ids, ARRAY_LEN(ids));
	/* Row 8500 is a name the table has resolved already. */
	cur.rows[1] = row(8500, "web.example", 85);
	cur.live[1].res.naddrs = 1;
	kept_counters = cur.live[0].counters;
	kept_counters->packets_out = 11;

	/* As the store hands them back: every id set, in import order. */
	rows[0] = row(9000, "10.9.0.1", 90);
	rows[1] = row(8000, "10.8.0.1", 80);
	rows[2] = row(9001, "web.example", 91);
	rows[3] = row(9002, "new.example", 92);
	ck_assert_int_eq(rowset_import_new(&im, 4), 0);
	ck_assert(rowset_import_take(&im, &cur, rows, 4, &kept));
	ck_assert_uint_eq(kept, 1);

	ck_assert_uint_eq(im.next.n, 4);
	for (size_t i = 0; i < 4; i++) {
		static const int64_t want[] = { 8000, 9000, 9001, 9002 };

		ck_assert_int_eq(im.next.rows[i].id, want[i]);
		ck_assert_int_eq(rows[i].id, want[i]);
		ck_assert_ptr_nonnull(im.next.live[i].counters);
	}
	/* 8000 kept its counters, which cur no longer holds. */
	ck_assert_ptr_eq(im.next.live[0].counters, kept_counters);
	ck_assert_ptr_null(cur.live[0].counters);
	ck_assert_uint_eq(im.next.live[1].counters->packets_out, 0);
	/* The literal is its address; the known name keeps what it had. */
	ck_assert_str_eq(im.next.rows[0].address, "10.8.0.1");
	ck_assert_uint_eq(im.next.live[1].res.naddrs, 1);
	ck_assert_uint_eq(im.next.live[2].res.naddrs, 1);
	/* The new name waits for the resolver. */
	ck_assert_uint_eq(im.next.live[3].res.naddrs, 0);
	ck_assert_str_eq(im.next.live[3].res.error, CONTROL_RESOLVING);
	rowset_import_free(&im);
	rowset_free(&cur, true);
}
END_TEST

/* Literals and known names need no lookup; an import may also be abandoned. */
START_TEST(import_without_lookups)
{
	static const int64_t ids[] = { 1 };
	struct mapping rows[1] = { row(2, "10.3.0.1", 70) };
	struct rowset_import im;
	struct rowset cur;
	size_t kept;

	load(&cur, ids, ARRAY_LEN(ids));
	ck_assert_int_eq(rowset_import_new(&im, 1), 0);
	ck_assert(!rowset_import_take(&im, &cur, rows, 1, &kept));
	ck_assert_uint_eq(kept, 0);
	rowset_import_free(&im);
	/* Freed before the take: its fresh counters go too (ASan checks). */
	ck_assert_int_eq(rowset_import_new(&im, 3), 0);
	rowset_import_free(&im);
	rowset_free(&cur, true);
}
END_TEST

/* rowset_find, a binary search, finds every id and none in between. */
START_TEST(find_every_id)
{
	int64_t ids[100];
	struct rowset s;

	for (size_t i = 0; i < ARRAY_LEN(ids); i++)
		ids[i] = 3 * (int64_t)i + 1;
	load(&s, ids, ARRAY_LEN(ids));
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		ck_assert_int_eq(rowset_find(&s, ids[i]), (ssize_t)i);
		ck_assert_int_eq(rowset_find(&s, ids[i] + 1), -1);
		ck_assert_int_eq(rowset_find(&s, ids[i] + 2), -1);
	}
	ck_assert_int_eq(rowset_find(&s, 0), -1);
	ck_assert_int_eq(rowset_find(&s, INT64_MAX), -1);
	rowset_free(&s, true);
	load(&s, ids, 0);
	ck_assert_int_eq(rowset_find(&s, 1), -1);
	rowset_free(&s, true);
}
END_TEST

/*
 * Names repeat, in the table and in the import: every imported row with a
 * name takes what the first row of the table with that name holds, and
 * only a name the table lacks, or could not resolve, waits for a lookup.
 */
START_TEST(import_names_take_first)
{
	static const int64_t ids[] = { 1, 2, 3, 4 };
	struct mapping rows[6];
	struct rowset_import im;
	struct rowset cur;
	size_t kept;

	load(&cur, ids, ARRAY_LEN(ids));
	cur.rows[0] = row(1, "b.example", 80);
	cur.live[0].res.naddrs = 1;
	cur.rows[1] = row(2, "a.example", 80);
	cur.live[1].res.naddrs = 2;
	cur.rows[2] = row(3, "a.example", 81);
	cur.live[2].res.naddrs = 3;
	cur.rows[3] = row(4, "down.example", 80);
	cur.live[3].res.naddrs = 0;
	snprintf(cur.live[3].res.error, sizeof(cur.live[3].res.error), "no answer");

	rows[0] = row(10, "a.example", 90);
	rows[1] = row(11, "b.example", 90);
	rows[2] = row(12, "10.4.0.1", 90);
	rows[3] = row(13, "a.example", 91);
	rows[4] = row(14, "b.example", 91);
	rows[5] = row(15, "a.example", 92);
	ck_assert_int_eq(rowset_import_new(&im, ARRAY_LEN(rows)), 0);
	ck_assert(!rowset_import_take(&im, &cur, rows, ARRAY_LEN(rows), &kept));
	ck_assert_uint_eq(kept, 0);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		static const size_t want[] = { 2, 1, 1, 2, 1, 2 };

		ck_assert_msg(im.next.live[i].res.naddrs == want[i], "row %zu: %zu addresses",
			      i, (size_t)im.next.live[i].res.naddrs);
	}
	rowset_import_free(&im);

	/* A name the table could not resolve is looked up again. */
	rows[0] = row(20, "down.example", 90);
	rows[1] = row(21, "b.example", 90);
	ck_assert_int_eq(rowset_import_new(&im, 2), 0);
	ck_assert(rowset_import_take(&im, &cur, rows, 2, &kept));
	ck_assert_uint_eq(im.next.live[0].res.naddrs, 0);
	ck_assert_str_eq(im.next.live[0].res.error, "no answer");
	ck_assert_uint_eq(im.next.live[1].res.naddrs, 1);
	rowset_import_free(&im);
	rowset_free(&cur, true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rowset");
	TCase *tc = tcase_create("rowset");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, load_find_view);
	tcase_add_test(tc, find_every_id);
	tcase_add_test(tc, insert_keeps_order);
	tcase_add_test(tc, remove_returns_counters);
	tcase_add_test(tc, import_sorts_and_keeps);
	tcase_add_test(tc, import_without_lookups);
	tcase_add_test(tc, import_names_take_first);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
