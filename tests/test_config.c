/*
 * Unit tests for config: a whole table is checked row by row, then each row
 * against the ones before it, and a fault names the row at fault (the
 * later of two) and the earlier one by its index; only a table that passes
 * reaches control.  control_table_replace and control_mapping_list are
 * stubs here: the first records what it was given, the second must not be
 * called.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, check_accepts_and_normalises);
	tcase_add_test(tc, check_names_the_row);
	tcase_add_test(tc, replace_checks_first);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
