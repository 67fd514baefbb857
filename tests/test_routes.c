/*
 * Unit tests for routes: the pure parts only.  routes_find (dispatch, HEAD
 * as GET, the Allow list behind 404 and 405, the {id} capture, the body
 * limit), the strict number parser every API number goes through, the
 * error object every failure is answered with, the answers routes_begin
 * gives from the headers alone, the replies routes_run gives without
 * reaching the control plane (a malformed {id}, the route listing), and
 * the ETag every one of them carries.
 *
 * routes.o refers to the control plane through its handlers, so this file
 * defines the control_* functions; each one fails the test if it is ever
 * called, since no test here may depend on a real control plane, except
 * control_version, which answers TEST_VERSION.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "fctl.h"
#include "gctl.h"
#include "routes.h"
#include "util.h"

/* ---- control plane stubs ---------------------------------------------- */

#define NO_CONTROL(fn) \
	ck_abort_msg("%s called, but this test has no control plane", fn)

int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, uint64_t *version, struct mapping_error *err)
{
	(void)ctl;
	(void)rows;
	(void)n;
	(void)version;
	(void)err;
	NO_CONTROL("control_mapping_list");
	return -1;
}

int control_mapping_get(struct control *ctl, int64_t id,
			struct control_mapping *out, uint64_t *version,
			struct mapping_error *err)
{
	(void)ctl;
	(void)id;
	(void)out;
	(void)version;
	(void)err;
	NO_CONTROL("control_mapping_get");
	return -1;
}

int control_mapping_create(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)m;
	(void)cond;
	(void)err;
	NO_CONTROL("control_mapping_create");
	return -1;
}

int control_mapping_update(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)m;
	(void)cond;
	(void)err;
	NO_CONTROL("control_mapping_update");
	return -1;
}

int control_mapping_delete(struct control *ctl, int64_t id,
			   struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)id;
	(void)cond;
	(void)err;
	NO_CONTROL("control_mapping_delete");
	return -1;
}

int control_table_replace(struct control *ctl, struct mapping *rows, size_t n,
			  struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)rows;
	(void)n;
	(void)cond;
	(void)err;
	NO_CONTROL("control_table_replace");
	return -1;
}

/*
 * The application groups are reached only through control_groups_read and
 * control_groups_write, which fail the test as the functions above do, so
 * gctl's functions, which grouproutes.o names, are never called either.
 * Their parameters go unused, hence the pragma, rather than a page of
 * (void) casts.
 */
int control_groups_read(struct control *ctl, control_groups_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err)
{
	(void)ctl;
	(void)fn;
	(void)arg;
	(void)version;
	(void)err;
	NO_CONTROL("control_groups_read");
	return -1;
}

int control_groups_write(struct control *ctl, control_groups_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err)
{
	(void)ctl;
	(void)fn;
	(void)arg;
	(void)cond;
	(void)err;
	NO_CONTROL("control_groups_write");
	return -1;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define NO_GCTL(name, ...) \
	int name(__VA_ARGS__) { NO_CONTROL(#name); return -1; }
NO_GCTL(gctl_group_list, struct gctl *g, struct gctl_group_view **rows, size_t *n,
	struct mapping_error *err)
NO_GCTL(gctl_group_get, struct gctl *g, int64_t id, struct gctl_group_view *out,
	struct mapping_error *err)
NO_GCTL(gctl_group_by_name, struct gctl *g, const char *name, int64_t *id,
	struct mapping_error *err)
NO_GCTL(gctl_group_create, struct gctl *g, struct groups_group *gr,
	struct mapping_error *err)
NO_GCTL(gctl_group_update, struct gctl *g, const struct groups_group *gr,
	struct mapping_error *err)
NO_GCTL(gctl_group_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NO_GCTL(gctl_backend_list, struct gctl *g, int64_t group_id,
	struct gctl_backend_view **rows, size_t *n, struct mapping_error *err)
NO_GCTL(gctl_backend_get, struct gctl *g, int64_t id,
	struct gctl_backend_view *out, struct mapping_error *err)
NO_GCTL(gctl_backend_create, struct gctl *g, struct groups_backend *b,
	struct mapping_error *err)
NO_GCTL(gctl_backend_update, struct gctl *g, const struct groups_backend *b,
	struct mapping_error *err)
NO_GCTL(gctl_backend_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NO_GCTL(gctl_rule_list, struct gctl *g, int64_t group_id,
	struct gctl_rule_view **rows, size_t *n, struct mapping_error *err)
NO_GCTL(gctl_rule_get, struct gctl *g, int64_t id, struct gctl_rule_view *out,
	struct mapping_error *err)
NO_GCTL(gctl_rule_create, struct gctl *g, struct groups_rule *r,
	struct mapping_error *err)
NO_GCTL(gctl_rule_update, struct gctl *g, const struct groups_rule *r,
	struct mapping_error *err)
NO_GCTL(gctl_rule_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NO_GCTL(gctl_flow_list, struct gctl *g, const struct gflows_filter *f,
	struct gflows_view **rows, size_t *n, size_t *total,
	struct mapping_error *err)
NO_GCTL(gctl_flow_flush, struct gctl *g, size_t *flushed, struct mapping_error *err)
/*
 * UDP fan-out likewise: control_fanout_read and control_fanout_write fail
 * the test, so fctl's functions, which fanroutes.o names, never run.
 */
NO_GCTL(control_fanout_read, struct control *ctl, control_fanout_fn *fn, void *arg,
	uint64_t *version, struct mapping_error *err)
NO_GCTL(control_fanout_write, struct control *ctl, control_fanout_fn *fn, void *arg,
	struct control_cond *cond, struct mapping_error *err)
NO_GCTL(fctl_port_list, struct fctl *f, struct fctl_port_view **rows, size_t *n,
	struct mapping_error *err)
NO_GCTL(fctl_port_get, struct fctl *f, int64_t id, struct fctl_port_view *out,
	struct mapping_error *err)
NO_GCTL(fctl_port_by_number, struct fctl *f, uint16_t port, int64_t *id,
	struct mapping_error *err)
NO_GCTL(fctl_port_create, struct fctl *f, struct fctl_port *p,
	struct mapping_error *err)
NO_GCTL(fctl_port_update, struct fctl *f, const struct fctl_port *p,
	struct mapping_error *err)
NO_GCTL(fctl_port_delete, struct fctl *f, int64_t id, struct mapping_error *err)
NO_GCTL(fctl_sub_list, struct fctl *f, int64_t port_id, struct fctl_sub_view **rows,
	size_t *n, struct mapping_error *err)
NO_GCTL(fctl_sub_get, struct fctl *f, int64_t id, struct fctl_sub_view *out,
	struct mapping_error *err)
NO_GCTL(fctl_sub_create, struct fctl *f, struct fctl_sub *s, struct mapping_error *err)
NO_GCTL(fctl_sub_update, struct fctl *f, const struct fctl_sub *s,
	struct mapping_error *err)
NO_GCTL(fctl_sub_delete, struct fctl *f, int64_t id, struct mapping_error *err)
#pragma GCC diagnostic pop

/* The table version every reply without one of its own is stamped with. */
#define TEST_VERSION 4242
#define TEST_ETAG "\"4242\""

uint64_t control_version(struct control *ctl)
{
	(void)ctl;
	return TEST_VERSION;
}

void control_status_get(struct control *ctl, struct control_status *out)
{
	(void)ctl;
	(void)out;
	NO_CONTROL("control_status_get");
}

/* ---- routes_find ------------------------------------------------------ */

#define MAPPINGS "/api/v1/mappings"
#define GROUPS "/api/v1/groups"
#define BACKENDS "/api/v1/backends"
#define RULES "/api/v1/rules"
#define FLOWS "/api/v1/flows"
#define CONTESTED "/api/v1/contested"
#define SUBSCRIBERS "/api/v1/subscribers"
#define ONE_ALLOW "GET, PUT, PATCH, DELETE"

/*
 * One request and what routes_find must make of it.  param is the {id}
 * segment expected (NULL for none); allow is only checked without a match,
 * since a match always leaves it empty.
 */
static const struct {
	const char *method;
	const char *path;
	bool found;
	bool json_body;
	const char *param;
	const char *allow;
} find_cases[] = {
	/* The collection. */
	{ "GET", MAPPINGS, true, false, NULL, "" },
	{ "HEAD", MAPPINGS, true, false, NULL, "" },
	{ "POST", MAPPINGS, true, true, NULL, "" },
	{ "PUT", MAPPINGS, false, false, NULL, "GET, POST" },
	{ "PATCH", MAPPINGS, false, false, NULL, "GET, POST" },
	{ "DELETE", MAPPINGS, false, false, NULL, "GET, POST" },
	{ "OPTIONS", MAPPINGS, false, false, NULL, "GET, POST" },
	/* Methods are compared exactly, as HTTP defines them. */
	{ "get", MAPPINGS, false, false, NULL, "GET, POST" },
	/* One mapping. */
	{ "GET", MAPPINGS "/42", true, false, "42", "" },
	{ "HEAD", MAPPINGS "/42", true, false, "42", "" },
	{ "PUT", MAPPINGS "/42", true, true, "42", "" },
	{ "PATCH", MAPPINGS "/42", true, true, "42", "" },
	{ "DELETE", MAPPINGS "/42", true, false, "42", "" },
	{ "POST", MAPPINGS "/42", false, false, NULL, ONE_ALLOW },
	{ "TRACE", MAPPINGS "/1", false, false, NULL, ONE_ALLOW },
	/* {id} takes any one segment; routes_run checks it is a number. */
	{ "GET", MAPPINGS "/abc", true, false, "abc", "" },
	{ "DELETE", MAPPINGS "/0", true, false, "0", "" },
	{ "GET", MAPPINGS "/123456789012345678901234", true, false,
	  "123456789012345678901234", "" },
	/* A trailing slash is another path: nothing takes it, so 404. */
	{ "GET", MAPPINGS "/", false, false, NULL, "" },
	{ "POST", MAPPINGS "/", false, false, NULL, "" },
	{ "GET", MAPPINGS "/42/", false, false, NULL, "" },
	{ "DELETE", MAPPINGS "/42/", false, false, NULL, "" },
	{ "GET", MAPPINGS "//", false, false, NULL, "" },
	/* Deeper, shorter or merely similar paths are unknown. */
	{ "GET", MAPPINGS "/42/x", false, false, NULL, "" },
	{ "GET", MAPPINGS "x", false, false, NULL, "" },
	{ "POST", "/api/v1/mapping", false, false, NULL, "" },
	{ "GET", "/API/V1/MAPPINGS", false, false, NULL, "" },
	{ "GET", "/api/v1/nope", false, false, NULL, "" },
	{ "DELETE", "/api/v1/nope", false, false, NULL, "" },
	{ "GET", "/", false, false, NULL, "" },
	{ "GET", "/index.html", false, false, NULL, "" },
	{ "GET", "", false, false, NULL, "" },
	/* The read-only resources. */
	{ "GET", "/healthz", true, false, NULL, "" },
	{ "HEAD", "/healthz", true, false, NULL, "" },
	{ "POST", "/healthz", false, false, NULL, "GET" },
	{ "GET", "/api/v1/", true, false, NULL, "" },
	{ "GET", "/api/v1", false, false, NULL, "" },
	{ "GET", "/api/v1/routes", true, false, NULL, "" },
	{ "DELETE", "/api/v1/routes", false, false, NULL, "GET" },
	{ "GET", "/api/v1/status", true, false, NULL, "" },
	{ "PUT", "/api/v1/status", false, false, NULL, "GET" },
	{ "GET", "/metrics", true, false, NULL, "" },
	{ "POST", "/metrics", false, false, NULL, "GET" },
	{ "GET", "/metrics/", false, false, NULL, "" },
	{ "GET", "/api/v1/openapi.json", true, false, NULL, "" },
	{ "DELETE", "/api/v1/openapi.json", false, false, NULL, "GET" },
	/* The whole table: read and replaced, never patched or deleted. */
	{ "GET", "/api/v1/config", true, false, NULL, "" },
	{ "HEAD", "/api/v1/config", true, false, NULL, "" },
	{ "PUT", "/api/v1/config", true, true, NULL, "" },
	{ "POST", "/api/v1/config", false, false, NULL, "GET, PUT" },
	{ "PATCH", "/api/v1/config", false, false, NULL, "GET, PUT" },
	{ "DELETE", "/api/v1/config", false, false, NULL, "GET, PUT" },
	/* The application groups' resources take the same shapes. */
	{ "GET", GROUPS, true, false, NULL, "" },
	{ "POST", GROUPS, true, true, NULL, "" },
	{ "DELETE", GROUPS, false, false, NULL, "GET, POST" },
	{ "GET", GROUPS "/3", true, false, "3", "" },
	{ "PUT", GROUPS "/3", true, true, "3", "" },
	{ "PATCH", GROUPS "/3", true, true, "3", "" },
	{ "DELETE", GROUPS "/3", true, false, "3", "" },
	{ "POST", GROUPS "/3", false, false, NULL, ONE_ALLOW },
	{ "GET", GROUPS "/3/", false, false, NULL, "" },
	{ "GET", BACKENDS, true, false, NULL, "" },
	{ "POST", BACKENDS, true, true, NULL, "" },
	{ "PATCH", BACKENDS, false, false, NULL, "GET, POST" },
	{ "GET", BACKENDS "/12", true, false, "12", "" },
	{ "PATCH", BACKENDS "/12", true, true, "12", "" },
	{ "DELETE", BACKENDS "/12", true, false, "12", "" },
	{ "POST", BACKENDS "/12", false, false, NULL, ONE_ALLOW },
	{ "GET", RULES, true, false, NULL, "" },
	{ "POST", RULES, true, true, NULL, "" },
	{ "PUT", RULES "/1", true, true, "1", "" },
	{ "DELETE", RULES "/1", true, false, "1", "" },
	{ "POST", RULES "/1", false, false, NULL, ONE_ALLOW },
	/* A segment after {id}: drain and undrain take no body. */
	{ "POST", BACKENDS "/12/drain", true, false, "12", "" },
	{ "POST", BACKENDS "/12/undrain", true, false, "12", "" },
	{ "POST", BACKENDS "/x/drain", true, false, "x", "" },
	{ "GET", BACKENDS "/12/drain", false, false, NULL, "POST" },
	{ "DELETE", BACKENDS "/12/undrain", false, false, NULL, "POST" },
	{ "POST", BACKENDS "//drain", false, false, NULL, "" },
	{ "POST", BACKENDS "/12/drain/", false, false, NULL, "" },
	{ "POST", BACKENDS "/12/drainx", false, false, NULL, "" },
	{ "POST", BACKENDS "/12/dra", false, false, NULL, "" },
	{ "POST", BACKENDS "/12/", false, false, NULL, "" },
	{ "POST", GROUPS "/12/drain", false, false, NULL, "" },
	{ "POST", RULES "/12/drain", false, false, NULL, "" },
	/* Flows are listed and flushed, never written one by one. */
	{ "GET", FLOWS, true, false, NULL, "" },
	{ "HEAD", FLOWS, true, false, NULL, "" },
	{ "DELETE", FLOWS, true, false, NULL, "" },
	{ "POST", FLOWS, false, false, NULL, "GET, DELETE" },
	{ "GET", FLOWS "/1", false, false, NULL, "" },
	/* UDP fan-out's two resources take the same shapes again. */
	{ "GET", CONTESTED, true, false, NULL, "" },
	{ "HEAD", CONTESTED, true, false, NULL, "" },
	{ "POST", CONTESTED, true, true, NULL, "" },
	{ "DELETE", CONTESTED, false, false, NULL, "GET, POST" },
	{ "GET", CONTESTED "/162", true, false, "162", "" },
	{ "PUT", CONTESTED "/162", true, true, "162", "" },
	{ "PATCH", CONTESTED "/162", true, true, "162", "" },
	{ "DELETE", CONTESTED "/162", true, false, "162", "" },
	{ "POST", CONTESTED "/162", false, false, NULL, ONE_ALLOW },
	{ "GET", CONTESTED "/162/", false, false, NULL, "" },
	{ "GET", CONTESTED "/1/subscribers", false, false, NULL, "" },
	{ "GET", SUBSCRIBERS, true, false, NULL, "" },
	{ "POST", SUBSCRIBERS, true, true, NULL, "" },
	{ "PUT", SUBSCRIBERS, false, false, NULL, "GET, POST" },
	{ "GET", SUBSCRIBERS "/3", true, false, "3", "" },
	{ "PUT", SUBSCRIBERS "/3", true, true, "3", "" },
	{ "PATCH", SUBSCRIBERS "/3", true, true, "3", "" },
	{ "DELETE", SUBSCRIBERS "/3", true, false, "3", "" },
	{ "POST", SUBSCRIBERS "/3", false, false, NULL, ONE_ALLOW },
	{ "GET", "/api/v1/subscriber", false, false, NULL, "" },
};

START_TEST(find)
{
	const char *method = find_cases[_i].method;
	const char *path = find_cases[_i].path;
	struct routes_match m;
	bool found;

	/* Garbage first: routes_find must set every field itself. */
	memset(&m, 0xa5, sizeof(m));
	found = routes_find(method, path, &m);
	ck_assert_msg(found == find_cases[_i].found, "%s %s: found %d",
		      method, path, found);
	if (found) {
		ck_assert_msg(m.route != NULL, "%s %s: no route", method, path);
		ck_assert_str_eq(m.allow, "");
	} else {
		ck_assert_msg(m.route == NULL, "%s %s: a route", method, path);
		ck_assert_msg(strcmp(m.allow, find_cases[_i].allow) == 0,
			      "%s %s: allow \"%s\", want \"%s\"", method, path,
			      m.allow, find_cases[_i].allow);
	}
	ck_assert_msg(m.json_body == find_cases[_i].json_body,
		      "%s %s: json_body %d", method, path, m.json_body);
	if (find_cases[_i].param == NULL) {
		ck_assert_ptr_null(m.param);
		ck_assert_uint_eq(m.param_len, 0);
	} else {
		size_t len = strlen(find_cases[_i].param);

		/* The segment is a view into path, not a copy. */
		ck_assert_ptr_nonnull(m.param);
		ck_assert_msg(m.param >= path && m.param + m.param_len <=
			      path + strlen(path), "%s %s: param outside path",
			      method, path);
		ck_assert_uint_eq(m.param_len, len);
		ck_assert_msg(memcmp(m.param, find_cases[_i].param, len) == 0,
			      "%s %s: param \"%.*s\"", method, path,
			      (int)m.param_len, m.param);
	}
}
END_TEST

/* HEAD is served by the very route that serves GET. */
START_TEST(find_head_is_get)
{
	static const char *const paths[] = {
		"/healthz", "/api/v1/", "/api/v1/routes", "/api/v1/status",
		"/metrics", "/api/v1/openapi.json", "/api/v1/config",
		MAPPINGS, MAPPINGS "/7",
	};

	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct routes_match get, head;

		ck_assert(routes_find("GET", paths[i], &get));
		ck_assert(routes_find("HEAD", paths[i], &head));
		ck_assert_msg(get.route == head.route, "%s: HEAD took another route",
			      paths[i]);
		ck_assert_int_eq(get.json_body, head.json_body);
		ck_assert_uint_eq(get.param_len, head.param_len);
	}
}
END_TEST

/* Each method on one mapping reaches its own route; so do GET and POST. */
START_TEST(find_distinct_routes)
{
	static const char *const methods[] = { "GET", "PUT", "PATCH", "DELETE" };
	const struct routes_route *seen[ARRAY_LEN(methods) + 1];
	struct routes_match m;

	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		ck_assert(routes_find(methods[i], MAPPINGS "/9", &m));
		seen[i] = m.route;
		for (size_t k = 0; k < i; k++)
			ck_assert_msg(seen[k] != seen[i], "%s and %s share a route",
				      methods[k], methods[i]);
	}
	ck_assert(routes_find("POST", MAPPINGS, &m));
	seen[ARRAY_LEN(methods)] = m.route;
	ck_assert(routes_find("GET", MAPPINGS, &m));
	for (size_t i = 0; i <= ARRAY_LEN(methods); i++)
		ck_assert_ptr_ne(m.route, seen[i]);
}
END_TEST

/* Only the whole-table import reads more than the default body. */
START_TEST(find_body_max)
{
	struct routes_match m;

	ck_assert(routes_find("PUT", "/api/v1/config", &m));
	ck_assert_uint_eq(m.body_max, ROUTES_CONFIG_BODY_MAX);
	ck_assert(routes_find("POST", MAPPINGS, &m));
	ck_assert_uint_eq(m.body_max, ROUTES_BODY_MAX);
	ck_assert(routes_find("PATCH", MAPPINGS "/3", &m));
	ck_assert_uint_eq(m.body_max, ROUTES_BODY_MAX);
	ck_assert(!routes_find("POST", "/api/v1/config", &m));
	ck_assert_uint_eq(m.body_max, ROUTES_BODY_MAX);
	ck_assert(!routes_find("GET", "/index.html", &m));
	ck_assert_uint_eq(m.body_max, ROUTES_BODY_MAX);
	ck_assert_uint_gt(ROUTES_CONFIG_BODY_MAX, ROUTES_BODY_MAX);
}
END_TEST

/* ---- routes_parse_uint ------------------------------------------------ */

static const struct {
	const char *s;
	uint64_t max;
	bool ok;
	uint64_t value;
} uint_cases[] = {
	{ "0", 10, true, 0 },
	{ "1", 10, true, 1 },
	{ "10", 10, true, 10 },
	{ "1000", 1000, true, 1000 },
	{ "65535", 65535, true, 65535 },
	{ "4294967295", UINT32_MAX, true, UINT32_MAX },
	{ "18446744073709551615", UINT64_MAX, true, UINT64_MAX },
	/* Leading zeros are digits too. */
	{ "007", 10, true, 7 },
	{ "000000000000000000000000000001", 1, true, 1 },
	{ "0", 0, true, 0 },
	{ "00", 0, true, 0 },
	/* Above the bound, including by one and in a single digit. */
	{ "11", 10, false, 0 },
	{ "1001", 1000, false, 0 },
	{ "65536", 65535, false, 0 },
	{ "4294967296", UINT32_MAX, false, 0 },
	{ "1", 0, false, 0 },
	{ "9", 5, false, 0 },
	/* Past 2^64: refused, never wrapped around. */
	{ "18446744073709551616", UINT64_MAX, false, 0 },
	{ "18446744073709551620", UINT64_MAX, false, 0 },
	{ "99999999999999999999", UINT64_MAX, false, 0 },
	{ "184467440737095516150", UINT64_MAX, false, 0 },
	{ "36893488147419103232", UINT64_MAX, false, 0 }, /* 2^65 */
	/* Nothing but digits. */
	{ "", 10, false, 0 },
	{ "+1", 10, false, 0 },
	{ "-1", 10, false, 0 },
	{ "-0", 10, false, 0 },
	{ " 1", 10, false, 0 },
	{ "1 ", 10, false, 0 },
	{ "\t1", 10, false, 0 },
	{ "1\n", 10, false, 0 },
	{ "1a", 100, false, 0 },
	{ "a1", 100, false, 0 },
	{ "0x10", 100, false, 0 },
	{ "1e2", 1000, false, 0 },
	{ "1.0", 10, false, 0 },
	{ "1,000", 10000, false, 0 },
	{ "１", 10, false, 0 }, /* a fullwidth digit one */
};

START_TEST(parse_uint)
{
	const uint64_t untouched = 0x5a5a5a5a5a5a5a5aULL;
	uint64_t v = untouched;
	bool ok = routes_parse_uint(uint_cases[_i].s, uint_cases[_i].max, &v);

	ck_assert_msg(ok == uint_cases[_i].ok, "\"%s\" max %llu: ok %d",
		      uint_cases[_i].s, (unsigned long long)uint_cases[_i].max,
		      ok);
	/* A refused input leaves the output alone. */
	ck_assert_msg(v == (ok ? uint_cases[_i].value : untouched),
		      "\"%s\": value %llu", uint_cases[_i].s,
		      (unsigned long long)v);
}
END_TEST

/* ---- routes_reply_error ----------------------------------------------- */

/* Returns the inner error object after checking the reply's whole shape. */
static json_t *error_object(const struct routes_reply *r)
{
	json_t *e;

	ck_assert_ptr_nonnull(r->body);
	ck_assert(json_is_object(r->body));
	ck_assert_uint_eq(json_object_size(r->body), 1);
	e = json_object_get(r->body, "error");
	ck_assert(json_is_object(e));
	ck_assert_uint_eq(json_object_size(e), 3);
	ck_assert(json_is_string(json_object_get(e, "code")));
	ck_assert(json_is_string(json_object_get(e, "message")));
	ck_assert_ptr_nonnull(json_object_get(e, "field"));
	return e;
}

static const char *error_str(const struct routes_reply *r, const char *key)
{
	return json_string_value(json_object_get(error_object(r), key));
}

START_TEST(reply_error_shape)
{
	struct routes_reply r;
	char *text;

	memset(&r, 0, sizeof(r));
	routes_reply_error(&r, 400, "invalid_query", "limit",
			   "limit must be an integer in 1..%d", 1000);
	ck_assert_uint_eq(r.status, 400);
	ck_assert_str_eq(error_str(&r, "code"), "invalid_query");
	ck_assert_str_eq(error_str(&r, "message"),
			 "limit must be an integer in 1..1000");
	ck_assert_str_eq(error_str(&r, "field"), "limit");
	/* The exact text a client sees, keys in order. */
	text = json_dumps(r.body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(text, "{\"error\":{\"code\":\"invalid_query\","
			 "\"message\":\"limit must be an integer in 1..1000\","
			 "\"field\":\"limit\"}}");
	free(text);
	json_decref(r.body);
}
END_TEST

/* Without a field the key stays, with null: clients need not test for it. */
START_TEST(reply_error_no_field)
{
	static const char *const none[] = { NULL, "" };

	for (size_t i = 0; i < ARRAY_LEN(none); i++) {
		struct routes_reply r;
		json_t *e;

		memset(&r, 0, sizeof(r));
		routes_reply_error(&r, 404, "not_found", none[i], "no such route");
		e = error_object(&r);
		ck_assert(json_is_null(json_object_get(e, "field")));
		ck_assert_str_eq(error_str(&r, "message"), "no such route");
		json_decref(r.body);
	}
}
END_TEST

/*
 * An error replaces whatever the reply held (the old body is released,
 * which the sanitizer build checks), drops Location and ETag, which would
 * describe a success, and keeps Allow for a 405.
 */
START_TEST(reply_error_replaces)
{
	struct routes_reply r;

	memset(&r, 0, sizeof(r));
	r.status = 201;
	r.body = json_pack("{s:i}", "id", 3);
	snprintf(r.location, sizeof(r.location), MAPPINGS "/3");
	snprintf(r.etag, sizeof(r.etag), "\"7\"");
	snprintf(r.allow, sizeof(r.allow), "GET, POST");
	routes_reply_error(&r, 405, "method_not_allowed", NULL,
			   "%s is not allowed here", "PUT");
	ck_assert_uint_eq(r.status, 405);
	ck_assert_str_eq(r.location, "");
	ck_assert_str_eq(r.etag, "");
	ck_assert_str_eq(r.allow, "GET, POST");
	ck_assert_str_eq(error_str(&r, "code"), "method_not_allowed");
	ck_assert_str_eq(error_str(&r, "message"), "PUT is not allowed here");
	ck_assert_ptr_null(json_object_get(r.body, "id"));

	/* A second error replaces the first. */
	routes_reply_error(&r, 500, "internal", "x", "again");
	ck_assert_uint_eq(r.status, 500);
	ck_assert_str_eq(error_str(&r, "code"), "internal");
	ck_assert_str_eq(error_str(&r, "field"), "x");
	json_decref(r.body);
}
END_TEST

/*
 * jansson refuses strings that are not UTF-8; a message quoting a URL must
 * still make a reply, with the offending bytes replaced by '?'.  Valid
 * UTF-8 goes through unchanged.
 */
START_TEST(reply_error_not_utf8)
{
	struct routes_reply r;

	memset(&r, 0, sizeof(r));
	routes_reply_error(&r, 404, "not_found", "a\xffz", "no route for %s",
			   "/x\xc3");
	ck_assert_str_eq(error_str(&r, "message"), "no route for /x?");
	ck_assert_str_eq(error_str(&r, "field"), "a?z");
	routes_reply_error(&r, 422, "invalid_comment", "comment", "caf\xc3\xa9");
	ck_assert_str_eq(error_str(&r, "message"), "caf\xc3\xa9");
	json_decref(r.body);
}
END_TEST

/* A long message is cut at 255 bytes rather than refused. */
START_TEST(reply_error_long_message)
{
	struct routes_reply r;
	char big[1000];

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&r, 0, sizeof(r));
	routes_reply_error(&r, 400, "invalid_json", NULL, "%s", big);
	ck_assert_uint_eq(strlen(error_str(&r, "message")), 255);
	ck_assert(strspn(error_str(&r, "message"), "m") == 255);
	json_decref(r.body);
}
END_TEST

/* ---- routes_run without the control plane ----------------------------- */

static const char *no_query(void *cls, const char *name)
{
	(void)cls;
	(void)name;
	return NULL;
}

/* A malformed {id} is a 404 before any handler (or control) runs. */
static const char *const bad_ids[] = {
	"abc", "0", "00", "-1", "+1", "1x", "0x1",
	"1000000000000000000",          /* 19 digits, past the id range */
	"123456789012345678901234",
};

#define TOKEN "0123456789abcdef0123456789abcdef"

/* A write that passes every shared rule up to the one a test breaks. */
static const struct routes_request good_write = {
	.query = no_query,
	.token = TOKEN,
	.authorization = "Bearer " TOKEN,
	.content_type = "application/json",
	.body = "{}",
	.body_len = 2,
};

START_TEST(run_bad_id)
{
	const struct routes_request req = good_write;
	static const char *const methods[] = { "GET", "PUT", "PATCH", "DELETE" };
	char path[128];

	snprintf(path, sizeof(path), MAPPINGS "/%s", bad_ids[_i]);
	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		struct routes_reply r;
		struct routes_match m;

		memset(&r, 0, sizeof(r));
		ck_assert(routes_find(methods[i], path, &m));
		routes_run(&m, &req, &r);
		ck_assert_msg(r.status == 404, "%s %s: status %u", methods[i],
			      path, r.status);
		ck_assert_str_eq(error_str(&r, "code"), "not_found");
		ck_assert_str_eq(error_str(&r, "field"), "id");
		ck_assert_str_eq(error_str(&r, "message"),
				 "mapping ids are positive integers");
		ck_assert_str_eq(r.etag, TEST_ETAG);
		json_decref(r.body);
	}
}
END_TEST

/* Every resource's bad {id} is a 404 that names the resource. */
START_TEST(run_bad_id_names_noun)
{
	static const struct {
		const char *method;
		const char *path;
		const char *noun;
	} cases[] = {
		{ "GET", GROUPS "/0", "group" },
		{ "DELETE", GROUPS "/x", "group" },
		{ "PATCH", BACKENDS "/-1", "backend" },
		{ "POST", BACKENDS "/abc/drain", "backend" },
		{ "POST", BACKENDS "/0/undrain", "backend" },
		{ "PUT", RULES "/1000000000000000000", "rule" },
		{ "GET", CONTESTED "/0", "contested port" },
		{ "DELETE", SUBSCRIBERS "/1x", "subscriber" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct routes_request req = good_write;
		struct routes_reply r;
		struct routes_match m;
		char want[64];

		memset(&r, 0, sizeof(r));
		ck_assert(routes_find(cases[i].method, cases[i].path, &m));
		routes_run(&m, &req, &r);
		ck_assert_msg(r.status == 404, "%s %s: %u", cases[i].method,
			      cases[i].path, r.status);
		snprintf(want, sizeof(want), "%s ids are positive integers",
			 cases[i].noun);
		ck_assert_str_eq(error_str(&r, "message"), want);
		ck_assert_str_eq(error_str(&r, "field"), "id");
		json_decref(r.body);
	}
}
END_TEST

/* The listing shows the table: every row, and each route find takes. */
START_TEST(run_route_list)
{
	const struct routes_request req = { .query = no_query };
	static const char *const paths[] = { "/api/v1/", "/api/v1/routes" };

	for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
		struct routes_reply r;
		struct routes_match m;
		json_t *routes;
		size_t i;
		json_t *one;

		memset(&r, 0, sizeof(r));
		ck_assert(routes_find("GET", paths[p], &m));
		routes_run(&m, &req, &r);
		ck_assert_uint_eq(r.status, 200);
		/* A reply that describes no particular read has the current version. */
		ck_assert_str_eq(r.etag, TEST_ETAG);
		routes = json_object_get(r.body, "routes");
		ck_assert(json_is_array(routes));
		ck_assert_uint_eq(json_array_size(routes), 48);
		json_array_foreach(routes, i, one) {
			const char *method =
				json_string_value(json_object_get(one, "method"));
			json_t *auth = json_object_get(one, "auth");
			const char *pattern =
				json_string_value(json_object_get(one, "path"));
			const char *summary =
				json_string_value(json_object_get(one, "summary"));
			char path[128];
			char *id;
			struct routes_match found;

			ck_assert_ptr_nonnull(method);
			ck_assert_ptr_nonnull(pattern);
			ck_assert_msg(summary != NULL && summary[0] != '\0',
				      "%s %s: no summary", method, pattern);
			/* Exactly the writes need the token. */
			ck_assert(json_is_boolean(auth));
			ck_assert_int_eq(json_is_true(auth), strcmp(method, "GET") != 0);
			/* Put an id where the pattern has {id}. */
			snprintf(path, sizeof(path), "%s", pattern);
			id = strstr(path, "{id}");
			if (id != NULL)
				memcpy(id, "1234", 4);
			ck_assert_msg(routes_find(method, path, &found),
				      "listed %s %s is not found", method, pattern);
		}
		json_decref(r.body);
	}
}
END_TEST

/*
 * Copies every route that needs the token, as the listing shows it, with
 * {id} filled in.  Returns how many there are.
 */
static size_t token_routes(char paths[][128], char methods[][16], size_t max)
{
	const struct routes_request req = { .query = no_query };
	struct routes_reply r;
	struct routes_match m;
	json_t *one;
	size_t i, n = 0;

	memset(&r, 0, sizeof(r));
	ck_assert(routes_find("GET", "/api/v1/routes", &m));
	routes_run(&m, &req, &r);
	json_array_foreach(json_object_get(r.body, "routes"), i, one) {
		char *id;

		if (!json_is_true(json_object_get(one, "auth")))
			continue;
		ck_assert_uint_lt(n, max);
		snprintf(methods[n], 16, "%s",
			 json_string_value(json_object_get(one, "method")));
		snprintf(paths[n], 128, "%s",
			 json_string_value(json_object_get(one, "path")));
		/* Whatever follows {id} (/drain) stays. */
		id = strstr(paths[n], "{id}");
		if (id != NULL) {
			memmove(id + 1, id + 4, strlen(id + 4) + 1);
			id[0] = '1';
		}
		n++;
	}
	json_decref(r.body);
	return n;
}

/*
 * Without the right token every write is a 401 with the challenge, before
 * any other rule and before control is reached (the stubs would fail).
 */
START_TEST(run_needs_token)
{
	static const char *const bad[] = {
		NULL, "", "Bearer", "Bearer ", "Basic " TOKEN, "bearer " TOKEN "x",
		"Bearer " TOKEN " x", "Bearer 0123456789abcdef0123456789abcdeF",
		"Bearer 0123456789abcdef0123456789abcde", "Token " TOKEN,
	};
	char paths[32][128], methods[32][16];
	size_t n = token_routes(paths, methods, 32);

	ck_assert_uint_eq(n, 28);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k <= ARRAY_LEN(bad); k++) {
			struct routes_request req = good_write;
			struct routes_reply r;
			struct routes_match m;

			/* The last round: the right header, but no token configured. */
			if (k < ARRAY_LEN(bad))
				req.authorization = bad[k];
			else
				req.token = NULL;
			/* Every other rule broken too: the 401 must still win. */
			req.body_too_large = true;
			req.content_type = "text/plain";
			req.if_match = "garbage";
			memset(&r, 0, sizeof(r));
			ck_assert(routes_find(methods[i], paths[i], &m));
			routes_run(&m, &req, &r);
			ck_assert_msg(r.status == 401, "%s %s with \"%s\": %u", methods[i],
				      paths[i], k < ARRAY_LEN(bad) && bad[k] ? bad[k] : "(none)",
				      r.status);
			ck_assert(r.challenge);
			ck_assert_str_eq(error_str(&r, "code"), "unauthorized");
			ck_assert_str_eq(r.etag, TEST_ETAG);
			json_decref(r.body);
		}
	}
}
END_TEST

/* With the token, the shared rules answer in order: 413, 415, 404, 400. */
START_TEST(run_rule_order)
{
	static const struct {
		bool too_large;
		const char *ctype;
		const char *path;
		const char *if_match;
		unsigned status;
		const char *code;
	} cases[] = {
		{ true, "text/plain", MAPPINGS "/x", "bad", 413, "body_too_large" },
		{ false, "text/plain", MAPPINGS "/x", "bad", 415, "unsupported_media_type" },
		{ false, NULL, MAPPINGS "/x", "bad", 415, "unsupported_media_type" },
		{ false, "application/json", MAPPINGS "/x", "bad", 404, "not_found" },
		{ false, "Application/JSON; charset=utf-8", MAPPINGS "/1", "bad", 400,
		  "invalid_header" },
		{ false, "application/json", MAPPINGS "/1", "\"1\" \"2\"", 400,
		  "invalid_header" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct routes_request req = good_write;
		struct routes_reply r;
		struct routes_match m;

		req.body_too_large = cases[i].too_large;
		req.content_type = cases[i].ctype;
		req.if_match = cases[i].if_match;
		memset(&r, 0, sizeof(r));
		ck_assert(routes_find("PUT", cases[i].path, &m));
		routes_run(&m, &req, &r);
		ck_assert_msg(r.status == cases[i].status, "case %zu: %u", i, r.status);
		ck_assert_str_eq(error_str(&r, "code"), cases[i].code);
		ck_assert(!r.challenge);
		ck_assert_str_eq(r.etag, TEST_ETAG);
		json_decref(r.body);
	}
}
END_TEST

/*
 * routes_begin answers from the headers what cannot succeed, with the same
 * rules and error objects as routes_run, and lets the rest read its body.
 */
START_TEST(begin_early_answers)
{
	static const struct {
		const char *method;
		const char *path;
		const char *authorization;
		bool too_large;
		unsigned status;  /* 0: go on and read the body */
		const char *code;
		const char *allow;
	} cases[] = {
		{ "GET", "/api/v1/nothing", NULL, false, 404, "not_found", "" },
		{ "POST", "/api/v1/nothing", NULL, true, 404, "not_found", "" },
		{ "DELETE", MAPPINGS, NULL, false, 405, "method_not_allowed", "GET, POST" },
		{ "POST", "/api/v1/status", "Bearer " TOKEN, false, 405,
		  "method_not_allowed", "GET" },
		{ "POST", MAPPINGS, NULL, true, 401, "unauthorized", "" },
		{ "PUT", "/api/v1/config", "Bearer wrong-token-wrong-token", false, 401,
		  "unauthorized", "" },
		{ "PUT", "/api/v1/config", "Bearer " TOKEN, true, 413, "body_too_large", "" },
		{ "POST", MAPPINGS, "Bearer " TOKEN, true, 413, "body_too_large", "" },
		{ "POST", MAPPINGS, "Bearer " TOKEN, false, 0, NULL, "" },
		{ "PUT", "/api/v1/config", "Bearer " TOKEN, false, 0, NULL, "" },
		{ "GET", MAPPINGS, NULL, false, 0, NULL, "" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct routes_request req = good_write;
		struct routes_reply r;
		struct routes_match m;
		bool go_on;

		req.body = NULL;
		req.body_len = 0;
		req.authorization = cases[i].authorization;
		req.body_too_large = cases[i].too_large;
		memset(&r, 0, sizeof(r));
		routes_find(cases[i].method, cases[i].path, &m);
		go_on = routes_begin(&m, cases[i].method, &req, &r);
		ck_assert_msg(go_on == (cases[i].status == 0), "case %zu: go on %d", i, go_on);
		if (go_on) {
			ck_assert_uint_eq(r.status, 0);
			ck_assert_ptr_null(r.body);
			continue;
		}
		ck_assert_msg(r.status == cases[i].status, "case %zu: %u", i, r.status);
		ck_assert_str_eq(error_str(&r, "code"), cases[i].code);
		ck_assert_str_eq(r.allow, cases[i].allow);
		ck_assert_str_eq(r.etag, TEST_ETAG);
		ck_assert(r.challenge == (cases[i].status == 401));
		json_decref(r.body);
	}
}
END_TEST

/* A 413 names the limit of the route it was sent to. */
START_TEST(begin_names_the_limit)
{
	struct routes_request req = good_write;
	struct routes_reply r;
	struct routes_match m;
	char want[64];

	req.body_too_large = true;
	memset(&r, 0, sizeof(r));
	ck_assert(routes_find("PUT", "/api/v1/config", &m));
	ck_assert(!routes_begin(&m, "PUT", &req, &r));
	snprintf(want, sizeof(want), "exceeds %d bytes", ROUTES_CONFIG_BODY_MAX);
	ck_assert_ptr_nonnull(strstr(error_str(&r, "message"), want));
	json_decref(r.body);
}
END_TEST

/* A stored write that is not live keeps its Location and ETag, and shows what it stored. */
START_TEST(reply_not_live)
{
	struct mapping_error err = { 503, "not_live", "", "stored, not live" };
	struct routes_reply r;

	memset(&r, 0, sizeof(r));
	snprintf(r.location, sizeof(r.location), "/api/v1/mappings/7");
	routes_reply_etag(&r, 99);
	routes_reply_not_live(&r, &err, json_pack("{s:i}", "id", 7));
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.location, "/api/v1/mappings/7");
	ck_assert_str_eq(r.etag, "\"99\"");
	ck_assert_uint_eq(json_object_size(r.body), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(r.body, "error"), "code")), "not_live");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(r.body, "stored"), "id")), 7);
	json_decref(r.body);
	/* A deletion has nothing to show. */
	memset(&r, 0, sizeof(r));
	routes_reply_not_live(&r, &err, NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_uint_eq(json_object_size(r.body), 1);
	json_decref(r.body);
}
END_TEST

/* ---- lists and rows, the helpers every resource shares ---------------- */

/* The query string of the page tests: "limit" and "offset" only. */
static const char *page_limit, *page_offset;

static const char *page_query(void *cls, const char *name)
{
	(void)cls;
	return strcmp(name, "limit") == 0	 ? page_limit
	       : strcmp(name, "offset") == 0 ? page_offset
					     : NULL;
}

static const struct {
	const char *limit, *offset;
	const char *field;   /* the 400's field, NULL when the page parses */
	uint64_t want_limit, want_offset;
} page_cases[] = {
	{ NULL, NULL, NULL, ROUTES_LIST_DEFAULT, 0 },
	{ "1", "0", NULL, 1, 0 },
	{ "1000", "4294967295", NULL, ROUTES_LIST_MAX, UINT32_MAX },
	{ "0", NULL, "limit", 0, 0 },
	{ "1001", NULL, "limit", 0, 0 },
	{ "-1", NULL, "limit", 0, 0 },
	{ "ten", "0", "limit", 0, 0 },
	{ NULL, "4294967296", "offset", 0, 0 },
	{ NULL, "-1", "offset", 0, 0 },
	{ NULL, "", "offset", 0, 0 },
	/* limit is read first, so its error is the one answered. */
	{ "0", "x", "limit", 0, 0 },
};

START_TEST(page_parse)
{
	const struct routes_request req = { .query = page_query };
	struct routes_call c = { .req = &req };
	struct routes_reply r;
	struct routes_page p;
	bool ok;

	memset(&r, 0, sizeof(r));
	page_limit = page_cases[_i].limit;
	page_offset = page_cases[_i].offset;
	ok = routes_page_parse(&c, &p, &r);
	if (page_cases[_i].field == NULL) {
		ck_assert(ok);
		ck_assert_uint_eq(p.limit, page_cases[_i].want_limit);
		ck_assert_uint_eq(p.offset, page_cases[_i].want_offset);
		ck_assert_uint_eq(p.total, 0);
		ck_assert_ptr_nonnull(p.items);
		ck_assert_ptr_null(r.body);
		json_decref(p.items);
		return;
	}
	ck_assert(!ok);
	ck_assert_uint_eq(r.status, 400);
	ck_assert_str_eq(error_str(&r, "code"), "invalid_query");
	ck_assert_str_eq(error_str(&r, "field"), page_cases[_i].field);
	json_decref(r.body);
}
END_TEST

/* A page shows limit matches from offset on, and counts every match. */
START_TEST(page_take_and_reply)
{
	struct mapping_error err = { 500, "internal", "", "the read failed" };
	struct routes_page p = { .limit = 2, .offset = 1, .items = json_array() };
	struct routes_reply r;
	json_t *items;

	for (int i = 0; i < 5; i++) {
		if (routes_page_take(&p))
			routes_page_append(&p, json_integer(i));
	}
	memset(&r, 0, sizeof(r));
	routes_page_reply(&r, &p, 42, 0, &err);
	ck_assert_ptr_null(p.items);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"42\"");
	items = json_object_get(r.body, "items");
	ck_assert_uint_eq(json_array_size(items), 2);
	ck_assert_int_eq(json_integer_value(json_array_get(items, 0)), 1);
	ck_assert_int_eq(json_integer_value(json_array_get(items, 1)), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(r.body, "total")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(r.body, "limit")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(r.body, "offset")), 1);
	ck_assert_uint_eq(json_object_size(r.body), 4);
	json_decref(r.body);

	/* An offset past the end shows nothing but still counts. */
	p = (struct routes_page){ .limit = 10, .offset = 7, .items = json_array() };
	for (int i = 0; i < 3; i++)
		ck_assert(!routes_page_take(&p));
	ck_assert_uint_eq(p.total, 3);

	/* A failed read answers its error and frees the items. */
	memset(&r, 0, sizeof(r));
	routes_page_reply(&r, &p, 42, -1, &err);
	ck_assert_ptr_null(p.items);
	ck_assert_uint_eq(r.status, 500);
	ck_assert_str_eq(error_str(&r, "message"), "the read failed");
	json_decref(r.body);
}
END_TEST

/*
 * A resource of one kind of row kept in an array here, for the shared row
 * handlers: rows are {"n": integer}, and the next write can be made to
 * fail with fake_fail (a 503 still stores it).
 */
struct fake_row {
	int64_t id;
	json_int_t n;
};

static struct {
	struct fake_row rows[4];
	size_t count;
	uint64_t version;
	struct mapping_error fail;
} rowstore;

static void fake_defaults(void *row)
{
	*(struct fake_row *)row = (struct fake_row){ .n = -1 };
}

static bool fake_apply(json_t *obj, void *row, bool partial,
		       struct mapping_error *err)
{
	json_t *n = json_object_get(obj, "n");

	if (n == NULL && partial)
		return true;
	if (!json_is_integer(n))
		return mapping_fail(err, 400, "invalid_field", "n", "n is required");
	((struct fake_row *)row)->n = json_integer_value(n);
	return true;
}

static struct fake_row *fake_find(int64_t id)
{
	for (size_t i = 0; i < rowstore.count; i++) {
		if (rowstore.rows[i].id == id)
			return &rowstore.rows[i];
	}
	return NULL;
}

static int fake_missing(struct mapping_error *err)
{
	mapping_fail(err, 404, "not_found", "id", "no such row");
	return -1;
}

static int fake_read(const struct routes_rows *res, struct control *ctl,
		     int64_t id, void *row, json_t **out, uint64_t *version,
		     struct mapping_error *err)
{
	struct fake_row *f = fake_find(id);

	(void)res;
	(void)ctl;
	if (f == NULL)
		return fake_missing(err);
	*(struct fake_row *)row = *f;
	if (out != NULL)
		*out = json_pack("{s:I, s:I}", "id", (json_int_t)f->id, "n", f->n);
	if (version != NULL)
		*version = rowstore.version;
	return 0;
}

/* A failure set in rowstore.fail is answered once; a 503 still writes. */
static int fake_outcome(struct control_cond *cond, struct mapping_error *err)
{
	cond->version = ++rowstore.version;
	if (rowstore.fail.status == 0)
		return 0;
	*err = rowstore.fail;
	memset(&rowstore.fail, 0, sizeof(rowstore.fail));
	return -1;
}

static int fake_write(const struct routes_rows *res, struct control *ctl,
		      void *row, bool create, struct control_cond *cond,
		      struct mapping_error *err)
{
	struct fake_row *w = row, *f;

	(void)res;
	(void)ctl;
	if (rowstore.fail.status != 0 && rowstore.fail.status != 503)
		return fake_outcome(cond, err);
	if (create) {
		w->id = (int64_t)rowstore.count + 1;
		f = &rowstore.rows[rowstore.count++];
	} else if ((f = fake_find(w->id)) == NULL) {
		return fake_missing(err);
	}
	*f = *w;
	return fake_outcome(cond, err);
}

static int fake_remove(const struct routes_rows *res, struct control *ctl,
		       int64_t id, struct control_cond *cond,
		       struct mapping_error *err)
{
	struct fake_row *f = fake_find(id);

	(void)res;
	(void)ctl;
	if (f == NULL)
		return fake_missing(err);
	*f = rowstore.rows[--rowstore.count];
	return fake_outcome(cond, err);
}

static const struct routes_rows fake_rows = {
	.path = "/api/v1/fakes",
	.id_at = offsetof(struct fake_row, id),
	.defaults = fake_defaults,
	.apply = fake_apply,
	.read = fake_read,
	.write = fake_write,
	.remove = fake_remove,
};

/* Runs one of the row handlers on body; op is 'C', 'G', 'U', 'P' or 'D'. */
static struct routes_reply row_run(char op, int64_t id, const char *body)
{
	const struct routes_request req = {
		.query = no_query, .body = body, .body_len = body ? strlen(body) : 0,
	};
	struct routes_call c = { .req = &req, .id = id };
	struct routes_reply r;
	struct fake_row row;

	memset(&r, 0, sizeof(r));
	switch (op) {
	case 'C': routes_row_create(&c, &r, &fake_rows, &row); break;
	case 'G': routes_row_get(&c, &r, &fake_rows, &row); break;
	case 'U': routes_row_write(&c, &r, &fake_rows, &row, false); break;
	case 'P': routes_row_write(&c, &r, &fake_rows, &row, true); break;
	default: routes_row_delete(&c, &r, &fake_rows); break;
	}
	return r;
}

static json_int_t row_n(const struct routes_reply *r)
{
	return json_integer_value(json_object_get(r->body, "n"));
}

/* The row handlers: status, Location, ETag and body of every outcome. */
START_TEST(row_handlers)
{
	struct routes_reply r;

	memset(&rowstore, 0, sizeof(rowstore));
	rowstore.version = 10;

	r = row_run('C', 0, "{\"n\": 5}");
	ck_assert_uint_eq(r.status, 201);
	ck_assert_str_eq(r.location, "/api/v1/fakes/1");
	ck_assert_str_eq(r.etag, "\"11\"");
	ck_assert_int_eq(row_n(&r), 5);
	json_decref(r.body);

	r = row_run('C', 0, "{}");
	ck_assert_uint_eq(r.status, 400);
	ck_assert_str_eq(error_str(&r, "field"), "n");
	ck_assert_uint_eq(rowstore.count, 1);
	json_decref(r.body);

	r = row_run('C', 0, "{");
	ck_assert_uint_eq(r.status, 400);
	json_decref(r.body);

	/* A read takes the version it read at. */
	r = row_run('G', 1, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"11\"");
	ck_assert_str_eq(r.location, "");
	json_decref(r.body);

	r = row_run('G', 9, NULL);
	ck_assert_uint_eq(r.status, 404);
	json_decref(r.body);

	/* PATCH keeps what the body leaves out; PUT starts from the defaults. */
	r = row_run('P', 1, "{}");
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"12\"");
	ck_assert_int_eq(row_n(&r), 5);
	json_decref(r.body);
	r = row_run('U', 1, "{}");
	ck_assert_uint_eq(r.status, 400);
	json_decref(r.body);
	r = row_run('U', 1, "{\"n\": 7}");
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(row_n(&r), 7);
	json_decref(r.body);
	r = row_run('P', 9, "{}");
	ck_assert_uint_eq(r.status, 404);
	json_decref(r.body);

	/* Stored but not live: the row goes with the 503, Location kept. */
	rowstore.fail = (struct mapping_error){ 503, "not_live", "", "later" };
	r = row_run('C', 0, "{\"n\": 8}");
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.location, "/api/v1/fakes/2");
	ck_assert_str_eq(r.etag, "\"14\"");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(r.body, "stored"), "n")), 8);
	json_decref(r.body);

	/* Any other failure is the answer, without Location or ETag. */
	rowstore.fail = (struct mapping_error){ 412, "precondition_failed", "",
						"changed" };
	r = row_run('U', 1, "{\"n\": 9}");
	ck_assert_uint_eq(r.status, 412);
	ck_assert_str_eq(r.etag, "");
	json_decref(r.body);

	r = row_run('D', 1, NULL);
	ck_assert_uint_eq(r.status, 204);
	ck_assert_ptr_null(r.body);
	ck_assert_str_eq(r.etag, "\"16\"");
	r = row_run('D', 1, NULL);
	ck_assert_uint_eq(r.status, 404);
	json_decref(r.body);
	rowstore.fail = (struct mapping_error){ 503, "not_live", "", "later" };
	r = row_run('D', 2, NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_ptr_null(json_object_get(r.body, "stored"));
	json_decref(r.body);
	ck_assert_uint_eq(rowstore.count, 0);
}
END_TEST

/* A read never asks for the token; the API document is a web file. */
START_TEST(run_openapi_is_a_file)
{
	const struct routes_request req = { .query = no_query };
	struct routes_reply r;
	struct routes_match m;

	memset(&r, 0, sizeof(r));
	ck_assert(routes_find("GET", "/api/v1/openapi.json", &m));
	routes_run(&m, &req, &r);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.file, "openapi.json");
	ck_assert_ptr_null(r.body);
}
END_TEST

/* ---- routes_parse_if_match -------------------------------------------- */

static const struct {
	const char *header;
	bool ok;
	size_t n;
	uint64_t match[3];
} if_match_cases[] = {
	{ NULL, true, 0, { 0 } },
	{ "*", true, 0, { 0 } },
	{ " * ", true, 0, { 0 } },
	{ "\"42\"", true, 1, { 42 } },
	{ " \"42\" ", true, 1, { 42 } },
	{ "\"1\", \"2\",\"3\"", true, 3, { 1, 2, 3 } },
	{ "\"18446744073709551615\"", true, 1, { UINT64_MAX } },
	/* Tags that can never match are kept, as 0, so the write gets 412. */
	{ "W/\"42\"", true, 1, { 0 } },
	{ "\"abc\"", true, 1, { 0 } },
	{ "\"\"", true, 1, { 0 } },
	{ "\"-1\"", true, 1, { 0 } },
	{ "\"18446744073709551616\"", true, 1, { 0 } },
	{ "\"7\", W/\"8\"", true, 2, { 7, 0 } },
	/* Malformed. */
	{ "", false, 0, { 0 } },
	{ "42", false, 0, { 0 } },
	{ "\"42", false, 0, { 0 } },
	{ "\"1\" \"2\"", false, 0, { 0 } },
	{ "*, \"1\"", false, 0, { 0 } },
	{ "**", false, 0, { 0 } },
	{ "W/42", false, 0, { 0 } },
	{ "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"", false, 0, { 0 } },
};

START_TEST(parse_if_match)
{
	struct control_cond cond;
	bool ok;

	memset(&cond, 0xa5, sizeof(cond));
	ok = routes_parse_if_match(if_match_cases[_i].header, &cond);
	ck_assert_msg(ok == if_match_cases[_i].ok, "[%s]: ok %d",
		      if_match_cases[_i].header ? if_match_cases[_i].header : "NULL",
		      ok);
	if (!ok)
		return;
	ck_assert_uint_eq(cond.n, if_match_cases[_i].n);
	for (size_t i = 0; i < cond.n; i++)
		ck_assert_uint_eq(cond.match[i], if_match_cases[_i].match[i]);
}
END_TEST

static Suite *routes_suite(void)
{
	Suite *s = suite_create("routes");
	TCase *tc = tcase_create("routes");

	tcase_add_loop_test(tc, find, 0, ARRAY_LEN(find_cases));
	tcase_add_test(tc, find_head_is_get);
	tcase_add_test(tc, find_distinct_routes);
	tcase_add_test(tc, find_body_max);
	tcase_add_loop_test(tc, parse_uint, 0, ARRAY_LEN(uint_cases));
	tcase_add_test(tc, reply_error_shape);
	tcase_add_test(tc, reply_error_no_field);
	tcase_add_test(tc, reply_error_replaces);
	tcase_add_test(tc, reply_error_not_utf8);
	tcase_add_test(tc, reply_error_long_message);
	tcase_add_loop_test(tc, run_bad_id, 0, ARRAY_LEN(bad_ids));
	tcase_add_test(tc, run_bad_id_names_noun);
	tcase_add_test(tc, run_route_list);
	tcase_add_test(tc, run_needs_token);
	tcase_add_test(tc, run_rule_order);
	tcase_add_test(tc, run_openapi_is_a_file);
	tcase_add_test(tc, begin_early_answers);
	tcase_add_test(tc, begin_names_the_limit);
	tcase_add_test(tc, reply_not_live);
	tcase_add_loop_test(tc, page_parse, 0, ARRAY_LEN(page_cases));
	tcase_add_test(tc, page_take_and_reply);
	tcase_add_test(tc, row_handlers);
	tcase_add_loop_test(tc, parse_if_match, 0, ARRAY_LEN(if_match_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(routes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
