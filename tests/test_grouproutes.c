/*
 * Unit tests for grouproutes: the groups, backends, rules and flows
 * handlers, reached through routes_find and routes_run as api.c reaches
 * them, against a fake gctl kept in arrays here.  The fake keeps what the
 * handlers rely on (ids, a version that every write bumps, If-Match, 404
 * and 409 answers, a 503 when a test asks for one) and records the flow
 * filter it was given, so that the tests see exactly what the handlers ask
 * for and answer: status, error object, Location, ETag and body.
 *
 * routes.o names the mapping and fan-out handlers too; their control
 * functions fail the test if ever called.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "control.h"
#include "fctl.h"
#include "gctl.h"
#include "routes.h"
#include "testapi.h"
#include "util.h"

#define NO_CONTROL(fn) \
	ck_abort_msg("%s called, but this test has no mappings", fn)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define NO_MAPPINGS(name, ...) \
	int name(__VA_ARGS__) { NO_CONTROL(#name); return -1; }
NO_MAPPINGS(control_mapping_list, struct control *ctl, struct control_mapping **rows,
	    size_t *n, uint64_t *version, struct mapping_error *err)
NO_MAPPINGS(control_mapping_get, struct control *ctl, int64_t id,
	    struct control_mapping *out, uint64_t *version, struct mapping_error *err)
NO_MAPPINGS(control_mapping_create, struct control *ctl, struct mapping *m,
	    struct control_cond *cond, struct mapping_error *err)
NO_MAPPINGS(control_mapping_update, struct control *ctl, struct mapping *m,
	    struct control_cond *cond, struct mapping_error *err)
NO_MAPPINGS(control_mapping_delete, struct control *ctl, int64_t id,
	    struct control_cond *cond, struct mapping_error *err)
NO_MAPPINGS(control_table_replace, struct control *ctl, struct mapping *rows,
	    size_t n, struct control_cond *cond, struct mapping_error *err)
/* UDP fan-out's handlers, which routes.o names too, never reach fctl here. */
NO_MAPPINGS(control_fanout_read, struct control *ctl, control_fanout_fn *fn,
	    void *arg, uint64_t *version, struct mapping_error *err)
NO_MAPPINGS(control_fanout_write, struct control *ctl, control_fanout_fn *fn,
	    void *arg, struct control_cond *cond, struct mapping_error *err)
NO_MAPPINGS(fctl_port_list, struct fctl *f, struct fctl_port_view **rows,
	    size_t *n, struct mapping_error *err)
NO_MAPPINGS(fctl_port_get, struct fctl *f, int64_t id, struct fctl_port_view *out,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_port_by_number, struct fctl *f, uint16_t port, int64_t *id,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_port_create, struct fctl *f, struct fctl_port *p,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_port_update, struct fctl *f, const struct fctl_port *p,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_port_delete, struct fctl *f, int64_t id, struct mapping_error *err)
NO_MAPPINGS(fctl_sub_list, struct fctl *f, int64_t port_id,
	    struct fctl_sub_view **rows, size_t *n, struct mapping_error *err)
NO_MAPPINGS(fctl_sub_get, struct fctl *f, int64_t id, struct fctl_sub_view *out,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_sub_create, struct fctl *f, struct fctl_sub *s,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_sub_update, struct fctl *f, const struct fctl_sub *s,
	    struct mapping_error *err)
NO_MAPPINGS(fctl_sub_delete, struct fctl *f, int64_t id, struct mapping_error *err)
void control_status_get(struct control *ctl, struct control_status *out)
{
	NO_CONTROL("control_status_get");
}
#pragma GCC diagnostic pop

/* ---- the fake control plane ------------------------------------------- */

#define FAKE_MAX 16

static struct {
	uint64_t version;
	int64_t next_id;
	struct gctl_group_view groups[FAKE_MAX];
	struct gctl_backend_view backends[FAKE_MAX];
	struct gctl_rule_view rules[FAKE_MAX];
	size_t ngroups, nbackends, nrules;
	struct gflows_view flows[FAKE_MAX];
	size_t nflows;
	struct gflows_filter filter;  /* the last one gctl_flow_list got */
	bool fail_503;                   /* the next write is stored, not live */
} fake;

static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.version = 100;
	fake.next_id = 1;
}

uint64_t control_version(struct control *ctl)
{
	(void)ctl;
	return fake.version;
}

int control_groups_read(struct control *ctl, control_groups_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err)
{
	(void)ctl;
	if (version != NULL)
		*version = fake.version;
	return fn(NULL, arg, err);
}

int control_groups_write(struct control *ctl, control_groups_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err)
{
	bool ok = cond->n == 0;
	int rc;

	(void)ctl;
	for (size_t i = 0; i < cond->n; i++)
		ok = ok || cond->match[i] == fake.version;
	if (!ok) {
		mapping_fail(err, 412, "precondition_failed", "", "stale");
		return -1;
	}
	rc = fn(NULL, arg, err);
	if (rc == 0 && fake.fail_503) {
		fake.fail_503 = false;
		mapping_fail(err, 503, "not_live", "", "stored, not live");
		rc = -1;
	}
	if (rc == 0 || err->status == 503)
		cond->version = ++fake.version;
	return rc;
}

static int fake_404(struct mapping_error *err)
{
	mapping_fail(err, 404, "not_found", "id", "no such row");
	return -1;
}

/* The handlers must resolve a group's name before they write. */
static int fake_unresolved(struct mapping_error *err)
{
	mapping_fail(err, 500, "internal", "", "group name not resolved");
	return -1;
}

/* Finds the row of id in an array of n views whose id is at id_at. */
#define FAKE_FIND(arr, n, idexpr, id)                                       \
	({                                                                  \
		ssize_t found_ = -1;                                        \
		for (size_t i_ = 0; i_ < (n); i_++)                         \
			if ((arr)[i_].idexpr == (id))                       \
				found_ = (ssize_t)i_;                       \
		found_;                                                     \
	})

static const char *fake_group_name(int64_t id)
{
	ssize_t i = FAKE_FIND(fake.groups, fake.ngroups, g.id, id);

	return i < 0 ? "" : fake.groups[i].g.name;
}

int gctl_group_list(struct gctl *g, struct gctl_group_view **rows, size_t *n,
		    struct mapping_error *err)
{
	(void)g;
	(void)err;
	*rows = calloc(fake.ngroups + 1, sizeof(**rows));
	memcpy(*rows, fake.groups, fake.ngroups * sizeof(**rows));
	*n = fake.ngroups;
	return 0;
}

int gctl_group_get(struct gctl *g, int64_t id, struct gctl_group_view *out,
		   struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.groups, fake.ngroups, g.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	*out = fake.groups[i];
	return 0;
}

int gctl_group_by_name(struct gctl *g, const char *name, int64_t *id,
		       struct mapping_error *err)
{
	(void)g;
	for (size_t i = 0; i < fake.ngroups; i++) {
		if (strcmp(fake.groups[i].g.name, name) == 0) {
			*id = fake.groups[i].g.id;
			return 0;
		}
	}
	mapping_fail(err, 422, "unknown_group", "group", "no group %s", name);
	return -1;
}

int gctl_group_create(struct gctl *g, struct groups_group *gr,
		      struct mapping_error *err)
{
	int64_t id;

	if (gctl_group_by_name(g, gr->name, &id, err) == 0) {
		mapping_fail(err, 409, "duplicate", "name", "taken");
		return -1;
	}
	gr->id = fake.next_id++;
	memset(&fake.groups[fake.ngroups], 0, sizeof(fake.groups[0]));
	fake.groups[fake.ngroups].g = *gr;
	fake.groups[fake.ngroups].c.flows = 10;
	fake.ngroups++;
	return 0;
}

int gctl_group_update(struct gctl *g, const struct groups_group *gr,
		      struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.groups, fake.ngroups, g.id, gr->id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	fake.groups[i].g = *gr;
	return 0;
}

int gctl_group_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.groups, fake.ngroups, g.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	fake.groups[i] = fake.groups[--fake.ngroups];
	return 0;
}

int gctl_backend_list(struct gctl *g, int64_t group_id,
		      struct gctl_backend_view **rows, size_t *n,
		      struct mapping_error *err)
{
	(void)g;
	(void)err;
	*rows = calloc(fake.nbackends + 1, sizeof(**rows));
	*n = 0;
	for (size_t i = 0; i < fake.nbackends; i++) {
		if (group_id != 0 && fake.backends[i].b.group_id != group_id)
			continue;
		(*rows)[*n] = fake.backends[i];
		snprintf((*rows)[*n].group, sizeof((*rows)[*n].group), "%s",
			 fake_group_name(fake.backends[i].b.group_id));
		(*n)++;
	}
	return 0;
}

int gctl_backend_get(struct gctl *g, int64_t id, struct gctl_backend_view *out,
		     struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.backends, fake.nbackends, b.b.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	*out = fake.backends[i];
	snprintf(out->group, sizeof(out->group), "%s",
		 fake_group_name(out->b.group_id));
	return 0;
}

int gctl_backend_create(struct gctl *g, struct groups_backend *b,
			struct mapping_error *err)
{
	(void)g;
	if (b->group_id == 0)
		return fake_unresolved(err);
	b->b.id = fake.next_id++;
	memset(&fake.backends[fake.nbackends], 0, sizeof(fake.backends[0]));
	fake.backends[fake.nbackends].b = *b;
	fake.backends[fake.nbackends].flows = 5;
	fake.nbackends++;
	return 0;
}

int gctl_backend_update(struct gctl *g, const struct groups_backend *b,
			struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.backends, fake.nbackends, b.b.id, b->b.id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	if (b->group_id == 0)
		return fake_unresolved(err);
	fake.backends[i].b = *b;
	return 0;
}

int gctl_backend_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.backends, fake.nbackends, b.b.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	fake.backends[i] = fake.backends[--fake.nbackends];
	return 0;
}

int gctl_rule_list(struct gctl *g, int64_t group_id,
		   struct gctl_rule_view **rows, size_t *n,
		   struct mapping_error *err)
{
	(void)g;
	(void)err;
	*rows = calloc(fake.nrules + 1, sizeof(**rows));
	*n = 0;
	for (size_t i = 0; i < fake.nrules; i++) {
		if (group_id != 0 && fake.rules[i].r.group_id != group_id)
			continue;
		(*rows)[*n] = fake.rules[i];
		snprintf((*rows)[*n].group, sizeof((*rows)[*n].group), "%s",
			 fake_group_name(fake.rules[i].r.group_id));
		(*n)++;
	}
	return 0;
}

int gctl_rule_get(struct gctl *g, int64_t id, struct gctl_rule_view *out,
		  struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.rules, fake.nrules, r.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	*out = fake.rules[i];
	snprintf(out->group, sizeof(out->group), "%s",
		 fake_group_name(out->r.group_id));
	return 0;
}

int gctl_rule_create(struct gctl *g, struct groups_rule *r,
		     struct mapping_error *err)
{
	(void)g;
	(void)err;
	r->id = fake.next_id++;
	memset(&fake.rules[fake.nrules], 0, sizeof(fake.rules[0]));
	fake.rules[fake.nrules++].r = *r;
	return 0;
}

int gctl_rule_update(struct gctl *g, const struct groups_rule *r,
		     struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.rules, fake.nrules, r.id, r->id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	fake.rules[i].r = *r;
	return 0;
}

int gctl_rule_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = FAKE_FIND(fake.rules, fake.nrules, r.id, id);

	(void)g;
	if (i < 0)
		return fake_404(err);
	fake.rules[i] = fake.rules[--fake.nrules];
	return 0;
}

int gctl_flow_list(struct gctl *g, const struct gflows_filter *f,
		   struct gflows_view **rows, size_t *n, size_t *total,
		   struct mapping_error *err)
{
	(void)g;
	(void)err;
	fake.filter = *f;
	*rows = calloc(fake.nflows + 1, sizeof(**rows));
	*n = *total = 0;
	for (size_t i = 0; i < fake.nflows; i++) {
		if (f->group_id != 0 && fake.flows[i].e.group != f->group_id)
			continue;
		if ((*total)++ >= f->offset && *n < f->limit)
			(*rows)[(*n)++] = fake.flows[i];
	}
	return 0;
}

int gctl_flow_flush(struct gctl *g, size_t *flushed, struct mapping_error *err)
{
	(void)g;
	(void)err;
	*flushed = fake.nflows;
	fake.nflows = 0;
	return 0;
}

/* ---- requests (run, check_error: testapi.h) ---------------------------- */

/* Creates a group by name on port; returns its id. */
static int64_t add_group(const char *name, int port)
{
	char body[128];
	struct routes_reply r;
	int64_t id;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"virtual_port\":%d}", name,
		 port);
	r = run("POST", "/api/v1/groups", body, NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	json_decref(r.body);
	return id;
}

static int64_t add_backend(const char *group, int port)
{
	char body[128];
	struct routes_reply r;
	int64_t id;

	snprintf(body, sizeof(body), "{\"group\":\"%s\",\"port\":%d}", group, port);
	r = run("POST", "/api/v1/backends", body, NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	json_decref(r.body);
	return id;
}

/* ---- groups ----------------------------------------------------------- */

START_TEST(group_crud)
{
	struct routes_reply r;
	int64_t id;

	r = run("POST", "/api/v1/groups",
		"{\"name\":\"web\",\"aid\":\"web-v1\",\"virtual_port\":9000,"
		"\"address\":\"10.0.0.1\",\"default\":true}", NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	ck_assert_int_eq(id, 1);
	ck_assert_str_eq(r.location, "/api/v1/groups/1");
	/* The ETag is the version the write made. */
	ck_assert_str_eq(r.etag, "\"101\"");
	ck_assert_str_eq(str(r.body, "aid"), "web-v1");
	ck_assert_str_eq(str(r.body, "address"), "10.0.0.1");
	ck_assert(json_is_true(json_object_get(r.body, "default")));
	ck_assert_int_eq(num(r.body, "flows"), 10);
	ck_assert_uint_eq(json_array_size(json_object_get(r.body, "backends")), 0);
	json_decref(r.body);

	add_backend("web", 9001);
	r = run("GET", "/api/v1/groups/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"102\"");
	ck_assert_uint_eq(json_array_size(json_object_get(r.body, "backends")), 1);
	ck_assert_int_eq(num(json_array_get(json_object_get(r.body, "backends"), 0),
			     "port"), 9001);
	json_decref(r.body);

	/* PATCH changes the name only; PUT goes back to the defaults. */
	r = run("PATCH", "/api/v1/groups/1", "{\"name\":\"www\"}", "\"102\"");
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"103\"");
	ck_assert_str_eq(str(r.body, "name"), "www");
	ck_assert_str_eq(str(r.body, "aid"), "web-v1");
	ck_assert_str_eq(str(r.body, "address"), "10.0.0.1");
	json_decref(r.body);
	r = run("PUT", "/api/v1/groups/1", "{\"name\":\"www\",\"virtual_port\":9001}",
		NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(str(r.body, "aid"), "www");
	ck_assert(json_is_null(json_object_get(r.body, "address")));
	ck_assert(json_is_false(json_object_get(r.body, "default")));
	ck_assert_int_eq(num(r.body, "virtual_port"), 9001);
	json_decref(r.body);

	r = run("DELETE", "/api/v1/groups/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
	ck_assert_ptr_null(r.body);
	ck_assert_str_eq(r.etag, "\"105\"");
	r = run("GET", "/api/v1/groups/1", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("DELETE", "/api/v1/groups/1", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("PATCH", "/api/v1/groups/1", "{}", NULL);
	check_error(&r, 404, "not_found", "id");
	ck_assert_uint_eq(fake.version, 105);
}
END_TEST

/* Refused writes answer the error and change nothing. */
START_TEST(group_errors)
{
	struct routes_reply r;

	add_group("web", 9000);
	r = run("POST", "/api/v1/groups", "{\"name\":\"x\"}", NULL);
	check_error(&r, 400, "missing_field", "virtual_port");
	r = run("POST", "/api/v1/groups", "{\"name\":\"x\",\"virtual_port\":0}", NULL);
	check_error(&r, 422, "invalid_port", "virtual_port");
	r = run("POST", "/api/v1/groups", "{\"name\":\"x\",\"virtual_port\":1,"
		"\"flows\":3}", NULL);
	check_error(&r, 400, "unknown_field", "flows");
	r = run("POST", "/api/v1/groups", "{\"name\":", NULL);
	check_error(&r, 400, "invalid_json", NULL);
	r = run("POST", "/api/v1/groups", "{\"name\":\"web\",\"virtual_port\":1}", NULL);
	check_error(&r, 409, "duplicate", "name");
	r = run("PUT", "/api/v1/groups/1", "{\"name\":\"web\",\"virtual_port\":1,"
		"\"id\":2}", NULL);
	check_error(&r, 400, "id_mismatch", "id");
	r = run("PATCH", "/api/v1/groups/1", "{\"policy\":\"x\"}", "\"1\"");
	check_error(&r, 422, "invalid_policy", "policy");
	/* A stale If-Match on a good body. */
	r = run("PATCH", "/api/v1/groups/1", "{\"policy\":\"least_flows\"}", "\"1\"");
	check_error(&r, 412, "precondition_failed", NULL);
	ck_assert_uint_eq(fake.version, 101);
	ck_assert_uint_eq(fake.ngroups, 1);
	ck_assert_int_eq(fake.groups[0].g.policy, SCHED_ROUND_ROBIN);
}
END_TEST

/* A write stored but not live answers 503 with what it stored. */
START_TEST(not_live)
{
	struct routes_reply r;
	json_t *stored;

	fake.fail_503 = true;
	r = run("POST", "/api/v1/groups", "{\"name\":\"web\",\"virtual_port\":9000}",
		NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.location, "/api/v1/groups/1");
	ck_assert_str_eq(r.etag, "\"101\"");
	ck_assert_str_eq(str(json_object_get(r.body, "error"), "code"), "not_live");
	stored = json_object_get(r.body, "stored");
	ck_assert_str_eq(str(stored, "name"), "web");
	json_decref(r.body);
	fake.fail_503 = true;
	r = run("DELETE", "/api/v1/groups/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.etag, "\"102\"");
	/* A deletion has nothing to show. */
	ck_assert_ptr_null(json_object_get(r.body, "stored"));
	json_decref(r.body);
}
END_TEST

START_TEST(group_list)
{
	static const struct {
		const char *query;
		unsigned status;
		json_int_t total;
		size_t items;
		const char *first;
	} cases[] = {
		{ "", 200, 5, 5, "g1" },
		{ "limit=2&offset=1", 200, 5, 2, "g2" },
		{ "limit=2&offset=4", 200, 5, 1, "g5" },
		{ "offset=5", 200, 5, 0, NULL },
		{ "name=g3", 200, 1, 1, "g3" },
		{ "name=nobody", 200, 0, 0, NULL },
		{ "virtual_port=9000", 200, 3, 3, "g1" },
		{ "virtual_port=9000&offset=2", 200, 3, 1, "g5" },
		{ "virtual_port=9001&name=g2", 200, 1, 1, "g2" },
		{ "limit=0", 400, 0, 0, "limit" },
		{ "limit=1001", 400, 0, 0, "limit" },
		{ "offset=-1", 400, 0, 0, "offset" },
		{ "virtual_port=0", 400, 0, 0, "virtual_port" },
		{ "virtual_port=65536", 400, 0, 0, "virtual_port" },
		{ "virtual_port=http", 400, 0, 0, "virtual_port" },
	};

	for (int i = 1; i <= 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "g%d", i);
		add_group(name, i % 2 ? 9000 : 9001);
	}
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char target[128];
		struct routes_reply r;
		json_t *items;

		snprintf(target, sizeof(target), "/api/v1/groups?%s", cases[i].query);
		r = run("GET", target, NULL, NULL);
		if (cases[i].status == 400) {
			check_error(&r, 400, "invalid_query", cases[i].first);
			continue;
		}
		ck_assert_msg(r.status == 200, "%s: %u", target, r.status);
		ck_assert_str_eq(r.etag, "\"105\"");
		items = json_object_get(r.body, "items");
		ck_assert_msg(num(r.body, "total") == cases[i].total, "%s: total %lld",
			      target, (long long)num(r.body, "total"));
		ck_assert_uint_eq(json_array_size(items), cases[i].items);
		ck_assert_int_eq(num(r.body, "limit"),
				 strstr(target, "limit=2") ? 2 : 100);
		ck_assert(json_is_integer(json_object_get(r.body, "offset")));
		if (cases[i].first != NULL)
			ck_assert_str_eq(str(json_array_get(items, 0), "name"),
					 cases[i].first);
		json_decref(r.body);
	}
}
END_TEST

/* ---- backends and rules ----------------------------------------------- */

START_TEST(backend_group_by_name)
{
	struct routes_reply r;
	int64_t web = add_group("web", 9000), db = add_group("db", 5432), id;

	r = run("POST", "/api/v1/backends", "{\"group\":\"nope\",\"port\":9001}", NULL);
	check_error(&r, 422, "unknown_group", "group");
	ck_assert_uint_eq(fake.nbackends, 0);
	ck_assert_uint_eq(fake.version, 102);

	r = run("POST", "/api/v1/backends", "{\"group\":\"web\",\"port\":9001,"
		"\"weight\":3,\"max_flows\":10}", NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	ck_assert_str_eq(r.location, "/api/v1/backends/3");
	ck_assert_int_eq(num(r.body, "group_id"), web);
	ck_assert_str_eq(str(r.body, "group"), "web");
	ck_assert_int_eq(num(r.body, "weight"), 3);
	ck_assert_str_eq(str(r.body, "state"), "active");
	json_decref(r.body);

	/* PATCH without a group keeps it; with one, moves the backend. */
	r = run("PATCH", "/api/v1/backends/3", "{\"weight\":5}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "group_id"), web);
	ck_assert_int_eq(num(r.body, "weight"), 5);
	ck_assert_int_eq(num(r.body, "max_flows"), 10);
	json_decref(r.body);
	r = run("PATCH", "/api/v1/backends/3", "{\"group\":\"db\"}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "group_id"), db);
	ck_assert_str_eq(str(r.body, "group"), "db");
	json_decref(r.body);
	r = run("PATCH", "/api/v1/backends/3", "{\"group\":\"gone\"}", NULL);
	check_error(&r, 422, "unknown_group", "group");
	r = run("PUT", "/api/v1/backends/3", "{\"port\":9002}", NULL);
	check_error(&r, 400, "missing_field", "group");
	r = run("PUT", "/api/v1/backends/3", "{\"group\":\"web\",\"port\":9002}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "group_id"), web);
	ck_assert_int_eq(num(r.body, "weight"), 1);
	ck_assert_int_eq(num(r.body, "max_flows"), 0);
	json_decref(r.body);
	r = run("DELETE", "/api/v1/backends/3", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
	r = run("GET", "/api/v1/backends/3", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	(void)id;
}
END_TEST

START_TEST(drain_undrain)
{
	struct routes_reply r;

	add_group("web", 9000);
	add_backend("web", 9001);
	r = run("POST", "/api/v1/backends/2/drain", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(str(r.body, "state"), "drain");
	ck_assert_str_eq(r.etag, "\"103\"");
	json_decref(r.body);
	ck_assert_int_eq(fake.backends[0].b.b.state, SCHED_DRAIN);
	r = run("POST", "/api/v1/backends/2/undrain", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(str(r.body, "state"), "active");
	json_decref(r.body);
	/* PATCH reaches the same states. */
	r = run("PATCH", "/api/v1/backends/2", "{\"state\":\"down\"}", NULL);
	ck_assert_str_eq(str(r.body, "state"), "down");
	json_decref(r.body);
	r = run("POST", "/api/v1/backends/2/undrain", NULL, "\"1\"");
	check_error(&r, 412, "precondition_failed", NULL);
	r = run("POST", "/api/v1/backends/9/drain", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	ck_assert_int_eq(fake.backends[0].b.b.state, SCHED_DOWN);
}
END_TEST

START_TEST(rules)
{
	struct routes_reply r;

	add_group("a", 9000);
	add_group("b", 9000);
	r = run("POST", "/api/v1/rules", "{\"group\":\"a\",\"cidr\":\"10.1.2.3/16\","
		"\"source_ports\":\"1024-2047\"}", NULL);
	ck_assert_uint_eq(r.status, 201);
	ck_assert_str_eq(r.location, "/api/v1/rules/3");
	ck_assert_str_eq(str(r.body, "cidr"), "10.1.0.0/16");
	ck_assert_str_eq(str(r.body, "source_ports"), "1024-2047");
	ck_assert_int_eq(num(r.body, "group_id"), 1);
	json_decref(r.body);
	r = run("POST", "/api/v1/rules", "{\"group\":\"b\",\"cidr\":\"2001:db8::1\"}",
		NULL);
	ck_assert_str_eq(str(r.body, "cidr"), "2001:db8::1/128");
	ck_assert(json_is_null(json_object_get(r.body, "source_ports")));
	json_decref(r.body);
	r = run("POST", "/api/v1/rules", "{\"group\":\"c\",\"cidr\":\"10.0.0.0/8\"}",
		NULL);
	check_error(&r, 422, "unknown_group", "group");
	r = run("POST", "/api/v1/rules", "{\"group\":\"a\",\"cidr\":\"10.0.0.0/40\"}",
		NULL);
	check_error(&r, 422, "invalid_cidr", "cidr");
	r = run("PATCH", "/api/v1/rules/3", "{\"source_ports\":null}", NULL);
	ck_assert(json_is_null(json_object_get(r.body, "source_ports")));
	ck_assert_str_eq(str(r.body, "cidr"), "10.1.0.0/16");
	json_decref(r.body);

	r = run("GET", "/api/v1/rules?group=a", NULL, NULL);
	ck_assert_int_eq(num(r.body, "total"), 1);
	ck_assert_str_eq(str(json_array_get(json_object_get(r.body, "items"), 0),
			     "group"), "a");
	json_decref(r.body);
	r = run("GET", "/api/v1/rules", NULL, NULL);
	ck_assert_int_eq(num(r.body, "total"), 2);
	json_decref(r.body);
	/* A group filter that names no group matches nothing. */
	r = run("GET", "/api/v1/rules?group=zzz", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "total"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r.body, "items")), 0);
	json_decref(r.body);
	r = run("GET", "/api/v1/backends?group=zzz&limit=5", NULL, NULL);
	ck_assert_int_eq(num(r.body, "total"), 0);
	ck_assert_int_eq(num(r.body, "limit"), 5);
	json_decref(r.body);
	r = run("DELETE", "/api/v1/rules/4", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
	ck_assert_uint_eq(fake.nrules, 1);
}
END_TEST

/* ---- flows ------------------------------------------------------------ */

static uint32_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}

START_TEST(flow_list)
{
	uint32_t now = mono_now();
	struct routes_reply r;
	json_t *item;

	add_group("web", 9000);
	add_group("db", 5432);
	for (size_t i = 0; i < 3; i++) {
		struct gflows_view *f = &fake.flows[fake.nflows++];

		memset(f, 0, sizeof(*f));
		f->e.state = 2;
		f->e.key.family = AF_INET;
		f->e.key.l4proto = IPPROTO_TCP;
		f->e.key.client_port = (uint16_t)(40000 + i);
		f->e.key.client[0] = 10;
		f->e.key.client[3] = (uint8_t)(5 + i);
		f->e.key.service[0] = 10;
		f->e.key.service[3] = 1;
		f->e.key.port = 9000;
		f->e.backend_port = 9001;
		f->e.group = i == 2 ? 2 : 1;
		f->e.backend = 3;
		f->e.created = now - 12;
		f->e.last_seen = now - 1;
		snprintf(f->group, sizeof(f->group), "%s", i == 2 ? "db" : "web");
	}
	r = run("GET", "/api/v1/flows", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "total"), 3);
	ck_assert_int_eq(num(r.body, "limit"), 100);
	ck_assert_uint_eq(fake.filter.limit, 100);
	ck_assert_int_eq(fake.filter.group_id, 0);
	item = json_array_get(json_object_get(r.body, "items"), 0);
	ck_assert_str_eq(str(item, "client"), "10.0.0.5");
	ck_assert_str_eq(str(item, "address"), "10.0.0.1");
	ck_assert_str_eq(str(item, "state"), "established");
	ck_assert_int_ge(num(item, "created_s_ago"), 12);
	ck_assert_int_le(num(item, "created_s_ago"), 14);
	ck_assert_int_ge(num(item, "idle_s"), 1);
	ck_assert_int_le(num(item, "idle_s"), 3);
	json_decref(r.body);

	r = run("GET", "/api/v1/flows?group=db&backend=3&client=10.0.0.0/8&proto=tcp"
		"&limit=1&offset=0", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "total"), 1);
	ck_assert_int_eq(fake.filter.group_id, 2);
	ck_assert_int_eq(fake.filter.backend_id, 3);
	ck_assert_uint_eq(fake.filter.family, AF_INET);
	ck_assert_uint_eq(fake.filter.prefix_len, 8);
	ck_assert_uint_eq(fake.filter.client[0], 10);
	ck_assert_uint_eq(fake.filter.l4proto, IPPROTO_TCP);
	ck_assert_uint_eq(fake.filter.limit, 1);
	json_decref(r.body);

	r = run("GET", "/api/v1/flows?client=2001:db8::5&proto=udp&offset=2", NULL,
		NULL);
	ck_assert_uint_eq(fake.filter.family, AF_INET6);
	ck_assert_uint_eq(fake.filter.prefix_len, 128);
	ck_assert_uint_eq(fake.filter.l4proto, IPPROTO_UDP);
	ck_assert_uint_eq(fake.filter.offset, 2);
	json_decref(r.body);

	/* An unknown group matches nothing, without asking gctl. */
	fake.filter.limit = 777;
	r = run("GET", "/api/v1/flows?group=nope", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "total"), 0);
	ck_assert_uint_eq(fake.filter.limit, 777);
	json_decref(r.body);

	r = run("GET", "/api/v1/flows?client=10.0.0.0/33", NULL, NULL);
	check_error(&r, 400, "invalid_query", "client");
	r = run("GET", "/api/v1/flows?client=host.example", NULL, NULL);
	check_error(&r, 400, "invalid_query", "client");
	r = run("GET", "/api/v1/flows?proto=both", NULL, NULL);
	check_error(&r, 400, "invalid_query", "proto");
	r = run("GET", "/api/v1/flows?backend=0", NULL, NULL);
	check_error(&r, 400, "invalid_query", "backend");
	r = run("GET", "/api/v1/flows?limit=1001", NULL, NULL);
	check_error(&r, 400, "invalid_query", "limit");
}
END_TEST

START_TEST(flow_flush)
{
	struct routes_reply r;

	fake.nflows = 4;
	r = run("DELETE", "/api/v1/flows", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "flushed"), 4);
	ck_assert_str_eq(r.etag, "\"101\"");
	json_decref(r.body);
	r = run("DELETE", "/api/v1/flows", NULL, "\"3\"");
	check_error(&r, 412, "precondition_failed", NULL);
	fake.fail_503 = true;
	r = run("DELETE", "/api/v1/flows", NULL, NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_int_eq(num(json_object_get(r.body, "stored"), "flushed"), 0);
	json_decref(r.body);
}
END_TEST

static Suite *grouproutes_suite(void)
{
	Suite *s = suite_create("grouproutes");
	TCase *tc = tcase_create("grouproutes");

	tcase_add_checked_fixture(tc, fake_reset, NULL);
	tcase_add_test(tc, group_crud);
	tcase_add_test(tc, group_errors);
	tcase_add_test(tc, not_live);
	tcase_add_test(tc, group_list);
	tcase_add_test(tc, backend_group_by_name);
	tcase_add_test(tc, drain_undrain);
	tcase_add_test(tc, rules);
	tcase_add_test(tc, flow_list);
	tcase_add_test(tc, flow_flush);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(grouproutes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
