/*
 * Unit tests for jsonfield, on a table of its own rather than a
 * resource's: every 400 and 422 the engine itself produces, word for
 * word; every 400 found before any value is stored; unsigned members of
 * each width; PATCH leaving absent fields alone; fields applied in the
 * table's order.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonfield.h"
#include "util.h"

/* The URL's id of every PUT and PATCH below. */
#define URL_ID 9

struct thing {
	int64_t id;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	bool flag;
	char label[8];
	bool label_null;
	unsigned order;   /* how many fields were applied before label */
	unsigned applied; /* how many fields were applied at all */
};

/* Counts the fields applied, so that label can tell where it came. */
static bool count_uint(void *obj, const struct jsonfield *f, json_t *v,
		       struct mapping_error *err)
{
	struct thing *t = obj;

	t->applied++;
	return jsonfield_apply_uint(obj, f, v, err);
}

/* A nullable string of its own making: null, or a label that fits. */
static bool apply_label(void *obj, const struct jsonfield *f, json_t *v,
			struct mapping_error *err)
{
	struct thing *t = obj;

	t->order = t->applied++;
	if (json_is_null(v)) {
		t->label_null = true;
		return true;
	}
	if (json_string_length(v) >= sizeof(t->label))
		return mapping_fail(err, 422, "invalid_label", f->name,
				    "label is too long");
	memcpy(t->label, json_string_value(v), json_string_length(v) + 1);
	t->label_null = false;
	return true;
}

static const struct jsonfield fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct thing, id, 0, 0, NULL),
	JSONFIELD_MEMBER("u8", JSONFIELD_INTEGER, true, count_uint,
			 struct thing, u8, 0, 255, NULL),
	JSONFIELD_MEMBER("u16", JSONFIELD_INTEGER, false, count_uint,
			 struct thing, u16, 1, 65535, "invalid_port"),
	JSONFIELD_CUSTOM("label", JSONFIELD_STRING, false, true, apply_label),
	JSONFIELD_MEMBER("u32", JSONFIELD_INTEGER, false, count_uint,
			 struct thing, u32, 0, INT64_C(4294967295), NULL),
	JSONFIELD_MEMBER("u64", JSONFIELD_INTEGER, false, count_uint,
			 struct thing, u64, 0, INT64_MAX, NULL),
	JSONFIELD_MEMBER("flag", JSONFIELD_BOOLEAN, false, jsonfield_apply_bool,
			 struct thing, flag, 0, 0, NULL),
};

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_DECODE_ANY, &jerr);

	ck_assert_msg(root != NULL, "cannot parse %s: %s", text, jerr.text);
	return root;
}

static struct thing fresh(int64_t id)
{
	struct thing t;

	memset(&t, 0, sizeof(t));
	t.id = id;
	return t;
}

struct bad_case {
	const char *body;
	int64_t id;
	bool partial;
	int status;
	const char *code;
	const char *field;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "[]", 0, false, 400, "not_object", "",
	  "the request body must be a JSON object" },
	{ "{\"u8\": 1, \"nope\": 2}", 0, false, 400, "unknown_field", "nope",
	  "unknown field \"nope\"" },
	{ "{}", 0, false, 400, "missing_field", "u8", "u8 is required" },
	{ "{\"u8\": \"1\"}", 0, false, 400, "invalid_type", "u8",
	  "u8 must be an integer" },
	{ "{\"u8\": 1, \"label\": 3}", 0, false, 400, "invalid_type", "label",
	  "label must be a string or null" },
	{ "{\"flag\": 1}", 0, true, 400, "invalid_type", "flag",
	  "flag must be a boolean" },
	/* The shape of a later field is found before the value of an earlier one. */
	{ "{\"u8\": 256, \"flag\": 0}", 0, false, 400, "invalid_type", "flag",
	  "flag must be a boolean" },
	{ "{\"id\": 1, \"u8\": 1}", 0, false, 400, "id_mismatch", "id",
	  "id is assigned by the server and must not be sent" },
	{ "{\"id\": 8}", URL_ID, true, 400, "id_mismatch", "id",
	  "id in the body differs from the id in the URL" },
	{ "{\"u8\": 256}", 0, false, 422, "invalid_value", "u8",
	  "u8 256 is outside 0..255" },
	{ "{\"u8\": -1}", 0, false, 422, "invalid_value", "u8",
	  "u8 -1 is outside 0..255" },
	{ "{\"u16\": 0}", 0, true, 422, "invalid_port", "u16",
	  "u16 0 is outside 1..65535" },
	{ "{\"u32\": 4294967296}", 0, true, 422, "invalid_value", "u32",
	  "u32 4294967296 is outside 0..4294967295" },
};

START_TEST(bad_body)
{
	const struct bad_case *c = &bad_cases[_i];
	struct thing t = fresh(c->id);
	struct mapping_error err;
	json_t *obj = parse(c->body);

	ck_assert_msg(!jsonfield_apply(obj, fields, ARRAY_LEN(fields), &t,
				       c->partial, &err), "%s accepted", c->body);
	ck_assert_int_eq(err.status, c->status);
	ck_assert_str_eq(err.code, c->code);
	ck_assert_str_eq(err.field, c->field);
	ck_assert_str_eq(err.message, c->message);
	json_decref(obj);
}
END_TEST

START_TEST(every_width)
{
	struct thing t = fresh(URL_ID);
	struct mapping_error err;
	json_t *obj = parse("{\"id\": 9, \"u8\": 255, \"u16\": 65535, "
			    "\"u32\": 4294967295, \"u64\": 9223372036854775807, "
			    "\"flag\": true, \"label\": \"seven\"}");

	ck_assert(jsonfield_apply(obj, fields, ARRAY_LEN(fields), &t, false,
				  &err));
	ck_assert_int_eq(t.id, URL_ID);
	ck_assert_uint_eq(t.u8, 255);
	ck_assert_uint_eq(t.u16, 65535);
	ck_assert_uint_eq(t.u32, UINT32_C(4294967295));
	ck_assert(t.u64 == (uint64_t)INT64_MAX);
	ck_assert(t.flag);
	ck_assert_str_eq(t.label, "seven");
	/* u8 and u16 come before label in the table, u32 and u64 after. */
	ck_assert_uint_eq(t.order, 2);
	ck_assert_uint_eq(t.applied, 5);
	json_decref(obj);
}
END_TEST

START_TEST(patch_leaves_the_rest)
{
	struct thing t = fresh(URL_ID);
	struct mapping_error err;
	json_t *obj = parse("{\"label\": null}");

	t.u8 = 7;
	t.u32 = 70000;
	t.flag = true;
	ck_assert(jsonfield_apply(obj, fields, ARRAY_LEN(fields), &t, true,
				  &err));
	ck_assert(t.label_null);
	ck_assert_uint_eq(t.u8, 7);
	ck_assert_uint_eq(t.u32, 70000);
	ck_assert(t.flag);
	json_decref(obj);
}
END_TEST

/* A shape error leaves the target untouched: nothing is stored before it. */
START_TEST(shape_before_values)
{
	struct thing t = fresh(0);
	struct mapping_error err;
	json_t *obj = parse("{\"u8\": 5, \"label\": \"x\", \"flag\": \"no\"}");

	ck_assert(!jsonfield_apply(obj, fields, ARRAY_LEN(fields), &t, false,
				   &err));
	ck_assert_uint_eq(t.u8, 0);
	ck_assert_uint_eq(t.applied, 0);
	ck_assert(!jsonfield_shape(obj, fields, ARRAY_LEN(fields), false, &err));
	ck_assert_str_eq(err.code, "invalid_type");
	json_decref(obj);
}
END_TEST

/* A value error stops the walk at that field, in the table's order. */
START_TEST(values_stop_at_the_first)
{
	struct thing t = fresh(0);
	struct mapping_error err;
	json_t *obj = parse("{\"u8\": 5, \"label\": \"too long!\", \"u32\": 1}");

	ck_assert(!jsonfield_values(obj, fields, ARRAY_LEN(fields), &t, &err));
	ck_assert_str_eq(err.code, "invalid_label");
	ck_assert_uint_eq(t.u8, 5);
	ck_assert_uint_eq(t.u32, 0);
	json_decref(obj);
}
END_TEST

static Suite *jsonfield_suite(void)
{
	Suite *s = suite_create("jsonfield");
	TCase *tc = tcase_create("jsonfield");

	tcase_add_loop_test(tc, bad_body, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, every_width);
	tcase_add_test(tc, patch_leaves_the_rest);
	tcase_add_test(tc, shape_before_values);
	tcase_add_test(tc, values_stop_at_the_first);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonfield_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
