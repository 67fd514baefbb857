/*
 * testapi.h: requests to the REST API as api.c makes them, for the tests
 * of the resources' handlers (test_grouproutes, test_fanroutes): run()
 * finds the route of "METHOD /path?query" and runs it with the token and
 * a JSON body, and check_error() checks the error object every failure is
 * answered with.  The handlers reach a fake control plane that each test
 * defines.  Everything is static inline, so a test may leave out what it
 * does not need.
 */
#ifndef PORTSHARE_TESTAPI_H
#define PORTSHARE_TESTAPI_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "routes.h"
#include "util.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

/* The query string of the request being run: "a=1&b=2", no escapes. */
static const char *query_string;

/*
 * Like libmicrohttpd's, a value stays valid for the whole request: each
 * call takes its own buffer, since a handler reads several parameters.
 */
static inline const char *test_query(void *cls, const char *name)
{
	static char values[8][128];
	static unsigned next;
	char *value = values[next++ % ARRAY_LEN(values)];
	size_t len = strlen(name);
	const char *p = query_string;

	(void)cls;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n > len && strncmp(p, name, len) == 0 && p[len] == '=') {
			snprintf(value, sizeof(values[0]), "%.*s", (int)(n - len - 1),
				 p + len + 1);
			return value;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* Runs one request as api.c does and returns its reply (body owned). */
static inline struct routes_reply run(const char *method, const char *target,
			       const char *body, const char *if_match)
{
	struct routes_request req = {
		.query = test_query,
		.token = TOKEN,
		.authorization = "Bearer " TOKEN,
		.content_type = "application/json",
		.body = body,
		.body_len = body != NULL ? strlen(body) : 0,
		.if_match = if_match,
	};
	char path[256];
	const char *q = strchr(target, '?');
	struct routes_reply r;
	struct routes_match m;

	snprintf(path, sizeof(path), "%.*s",
		 (int)(q != NULL ? (size_t)(q - target) : strlen(target)), target);
	query_string = q != NULL ? q + 1 : NULL;
	memset(&r, 0, sizeof(r));
	ck_assert_msg(routes_find(method, path, &m), "%s %s: no route", method, path);
	routes_run(&m, &req, &r);
	return r;
}

static inline const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static inline json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Checks an error reply: status, code and field, and drops its body. */
static inline void check_error(struct routes_reply *r, unsigned status, const char *code,
			const char *field)
{
	json_t *e = json_object_get(r->body, "error");

	ck_assert_msg(r->status == status, "status %u, want %u", r->status, status);
	ck_assert_str_eq(str(e, "code"), code);
	if (field == NULL)
		ck_assert(json_is_null(json_object_get(e, "field")));
	else
		ck_assert_str_eq(str(e, "field"), field);
	json_decref(r->body);
}

#endif
