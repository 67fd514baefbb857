/*
 * grouproutes: the groups, backends, rules and flows handlers (see
 * grouproutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads, several at once.  Every look at
 * the groups is a small callback that control_groups_read or
 * control_groups_write runs under the control plane's lock, so a reader
 * gets its rows and the table version in one go, and a writer's If-Match
 * (c->cond) is checked against the version at the moment of its write.
 * Groups, backends and rules are handled the same way: one description
 * per resource (grouproutes_groups, _backends, _rules) says how to read,
 * write, delete and encode one of them, and routes.c's row handlers
 * (routes_row_*), which every resource of the API shares, drive it.
 * A backend or a rule names its group; the name is resolved inside the
 * writing callback, so that it cannot name another group by the time the
 * write lands.  A write that control stored but could not make live yet
 * (503) is still a write: its answer carries the Location, the new ETag
 * and what was stored, beside the error.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control.h"
#include "gctl.h"
#include "groupjson.h"
#include "grouproutes.h"
#include "mapping.h"
#include "util.h"

/* One row of any of the three resources. */
union grouproutes_row {
	struct gctl_group_view group;
	struct gctl_backend_view backend;
	struct gctl_rule_view rule;
};

/*
 * How the handlers reach one resource: routes.h's description, which the
 * shared row handlers read, and gctl's functions for it, which this
 * file's callbacks run under the control lock.
 */
struct grouproutes_kind {
	struct routes_rows rows;  /* first, so that the callbacks find the rest */
	bool names_group;     /* a backend or a rule: group_at names its group */
	size_t group_at, group_id_at;
	int (*get)(struct gctl *g, int64_t id, union grouproutes_row *row,
		   struct mapping_error *err);
	int (*create)(struct gctl *g, union grouproutes_row *row,
		      struct mapping_error *err);
	int (*update)(struct gctl *g, union grouproutes_row *row,
		      struct mapping_error *err);
	int (*remove)(struct gctl *g, int64_t id, struct mapping_error *err);
	/* Sets *out to the row's object (NULL when out of memory). */
	int (*encode)(struct gctl *g, const union grouproutes_row *row,
		      json_t **out, struct mapping_error *err);
};

/* ---- the three resources ---------------------------------------------- */

static void grouproutes_group_defaults(void *row)
{
	union grouproutes_row *u = row;

	memset(u, 0, sizeof(*u));
	groupjson_group_defaults(&u->group.g);
}

static bool grouproutes_group_apply(json_t *obj, void *row, bool partial,
				    struct mapping_error *err)
{
	return groupjson_group_apply(obj, &((union grouproutes_row *)row)->group.g,
				     partial, err);
}

static int grouproutes_group_read(struct gctl *g, int64_t id,
				  union grouproutes_row *row,
				  struct mapping_error *err)
{
	return gctl_group_get(g, id, &row->group, err);
}

static int grouproutes_group_add(struct gctl *g, union grouproutes_row *row,
				 struct mapping_error *err)
{
	return gctl_group_create(g, &row->group.g, err);
}

static int grouproutes_group_change(struct gctl *g, union grouproutes_row *row,
				    struct mapping_error *err)
{
	return gctl_group_update(g, &row->group.g, err);
}

/* A group shows its backends, so encoding it reads them too. */
static int grouproutes_group_encode(struct gctl *g,
				    const union grouproutes_row *row,
				    json_t **out, struct mapping_error *err)
{
	struct gctl_backend_view *b = NULL;
	size_t n = 0;

	if (gctl_backend_list(g, row->group.g.id, &b, &n, err) < 0)
		return -1;
	*out = groupjson_group_encode(&row->group, b, n);
	free(b);
	return 0;
}

static void grouproutes_backend_defaults(void *row)
{
	union grouproutes_row *u = row;

	memset(u, 0, sizeof(*u));
	groupjson_backend_defaults(&u->backend);
}

static bool grouproutes_backend_apply(json_t *obj, void *row, bool partial,
				      struct mapping_error *err)
{
	return groupjson_backend_apply(obj, &((union grouproutes_row *)row)->backend,
				       partial, err);
}

static int grouproutes_backend_read(struct gctl *g, int64_t id,
				    union grouproutes_row *row,
				    struct mapping_error *err)
{
	return gctl_backend_get(g, id, &row->backend, err);
}

static int grouproutes_backend_add(struct gctl *g, union grouproutes_row *row,
				   struct mapping_error *err)
{
	return gctl_backend_create(g, &row->backend.b, err);
}

static int grouproutes_backend_change(struct gctl *g,
				      union grouproutes_row *row,
				      struct mapping_error *err)
{
	return gctl_backend_update(g, &row->backend.b, err);
}

static int grouproutes_backend_encode(struct gctl *g,
				      const union grouproutes_row *row,
				      json_t **out, struct mapping_error *err)
{
	(void)g;
	(void)err;
	*out = groupjson_backend_encode(&row->backend);
	return 0;
}

static void grouproutes_rule_defaults(void *row)
{
	union grouproutes_row *u = row;

	memset(u, 0, sizeof(*u));
	groupjson_rule_defaults(&u->rule);
}

static bool grouproutes_rule_apply(json_t *obj, void *row, bool partial,
				   struct mapping_error *err)
{
	return groupjson_rule_apply(obj, &((union grouproutes_row *)row)->rule,
				    partial, err);
}

static int grouproutes_rule_read(struct gctl *g, int64_t id,
				 union grouproutes_row *row,
				 struct mapping_error *err)
{
	return gctl_rule_get(g, id, &row->rule, err);
}

static int grouproutes_rule_add(struct gctl *g, union grouproutes_row *row,
				struct mapping_error *err)
{
	return gctl_rule_create(g, &row->rule.r, err);
}

static int grouproutes_rule_change(struct gctl *g, union grouproutes_row *row,
				   struct mapping_error *err)
{
	return gctl_rule_update(g, &row->rule.r, err);
}

static int grouproutes_rule_encode(struct gctl *g,
				   const union grouproutes_row *row,
				   json_t **out, struct mapping_error *err)
{
	(void)g;
	(void)err;
	*out = groupjson_rule_encode(&row->rule);
	return 0;
}

/* ---- callbacks run under the control lock ----------------------------- */

struct grouproutes_one {
	const struct grouproutes_kind *k;
	int64_t id;
	union grouproutes_row *row;
	json_t **out;         /* grouproutes_read_row: encode the row too */
	bool create;          /* grouproutes_write_row: create, not update */
	enum sched_state state; /* grouproutes_set_state's */
};

static int grouproutes_read_row(struct gctl *g, void *arg,
				struct mapping_error *err)
{
	struct grouproutes_one *one = arg;

	if (one->k->get(g, one->id, one->row, err) < 0)
		return -1;
	return one->out != NULL ? one->k->encode(g, one->row, one->out, err) : 0;
}

/*
 * A body that named a group left its id at 0 (groupjson.h): the name is
 * looked up here, under the lock of the write that uses it.
 */
static int grouproutes_resolve(struct gctl *g, const struct grouproutes_kind *k,
			       union grouproutes_row *row,
			       struct mapping_error *err)
{
	int64_t *group_id = (int64_t *)(void *)((char *)row + k->group_id_at);
	const char *name = (const char *)row + k->group_at;

	if (*group_id != 0 || gctl_group_by_name(g, name, group_id, err) == 0)
		return 0;
	/* gctl answers 422 unknown_group itself; a 404 would name the id. */
	if (err->status == 404)
		mapping_fail(err, 422, "unknown_group", "group",
			     "no group is named \"%.64s\"", name);
	return -1;
}

static int grouproutes_write_row(struct gctl *g, void *arg,
				 struct mapping_error *err)
{
	struct grouproutes_one *one = arg;

	if (one->k->names_group && grouproutes_resolve(g, one->k, one->row, err) < 0)
		return -1;
	return one->create ? one->k->create(g, one->row, err)
			   : one->k->update(g, one->row, err);
}

static int grouproutes_remove_row(struct gctl *g, void *arg,
				  struct mapping_error *err)
{
	struct grouproutes_one *one = arg;

	return one->k->remove(g, one->id, err);
}

/* Drain and undrain read the backend and write it back in one go. */
static int grouproutes_set_state(struct gctl *g, void *arg,
				 struct mapping_error *err)
{
	struct grouproutes_one *one = arg;

	if (gctl_backend_get(g, one->id, &one->row->backend, err) < 0)
		return -1;
	one->row->backend.b.b.state = one->state;
	return gctl_backend_update(g, &one->row->backend.b, err);
}

/* ---- routes.h's callbacks, the same for the three resources ----------- */

static int grouproutes_rows_read(const struct routes_rows *res,
				 struct control *ctl, int64_t id, void *row,
				 json_t **out, uint64_t *version,
				 struct mapping_error *err)
{
	struct grouproutes_one one = {
		.k = (const struct grouproutes_kind *)res, .id = id, .row = row,
		.out = out,
	};

	return control_groups_read(ctl, grouproutes_read_row, &one, version, err);
}

static int grouproutes_rows_write(const struct routes_rows *res,
				  struct control *ctl, void *row, bool create,
				  struct control_cond *cond,
				  struct mapping_error *err)
{
	struct grouproutes_one one = {
		.k = (const struct grouproutes_kind *)res, .row = row,
		.create = create,
	};

	return control_groups_write(ctl, grouproutes_write_row, &one, cond, err);
}

static int grouproutes_rows_remove(const struct routes_rows *res,
				   struct control *ctl, int64_t id,
				   struct control_cond *cond,
				   struct mapping_error *err)
{
	struct grouproutes_one one = {
		.k = (const struct grouproutes_kind *)res, .id = id,
	};

	return control_groups_write(ctl, grouproutes_remove_row, &one, cond, err);
}

#define GROUPROUTES_ROWS(collection, member, res)                            \
	{                                                                    \
		.path = collection,                                          \
		.id_at = offsetof(union grouproutes_row, member),            \
		.defaults = grouproutes_##res##_defaults,                    \
		.apply = grouproutes_##res##_apply,                          \
		.read = grouproutes_rows_read,                               \
		.write = grouproutes_rows_write,                             \
		.remove = grouproutes_rows_remove,                           \
	}

static const struct grouproutes_kind grouproutes_groups = {
	.rows = GROUPROUTES_ROWS("/api/v1/groups", group.g.id, group),
	.get = grouproutes_group_read,
	.create = grouproutes_group_add,
	.update = grouproutes_group_change,
	.remove = gctl_group_delete,
	.encode = grouproutes_group_encode,
};

static const struct grouproutes_kind grouproutes_backends = {
	.rows = GROUPROUTES_ROWS("/api/v1/backends", backend.b.b.id, backend),
	.names_group = true,
	.group_at = offsetof(union grouproutes_row, backend.group),
	.group_id_at = offsetof(union grouproutes_row, backend.b.group_id),
	.get = grouproutes_backend_read,
	.create = grouproutes_backend_add,
	.update = grouproutes_backend_change,
	.remove = gctl_backend_delete,
	.encode = grouproutes_backend_encode,
};

static const struct grouproutes_kind grouproutes_rules = {
	.rows = GROUPROUTES_ROWS("/api/v1/rules", rule.r.id, rule),
	.names_group = true,
	.group_at = offsetof(union grouproutes_row, rule.group),
	.group_id_at = offsetof(union grouproutes_row, rule.r.group_id),
	.get = grouproutes_rule_read,
	.create = grouproutes_rule_add,
	.update = grouproutes_rule_change,
	.remove = gctl_rule_delete,
	.encode = grouproutes_rule_encode,
};

static void grouproutes_state(struct routes_call *c, struct routes_reply *r,
			      enum sched_state state)
{
	struct mapping_error err = { 0 };
	union grouproutes_row row;
	struct grouproutes_one one = {
		.k = &grouproutes_backends, .id = c->id, .row = &row, .state = state,
	};

	if (control_groups_write(c->req->ctl, grouproutes_set_state, &one,
				 &c->cond, &err) < 0 &&
	    !routes_stored(&err)) {
		routes_reply_merror(r, &err);
		return;
	}
	routes_row_reply(c, r, &grouproutes_backends.rows, &row, c->id, 200,
			 c->cond.version, routes_stored(&err) ? &err : NULL);
}

/* ---- lists ------------------------------------------------------------ */

/*
 * The id of the group a list filter names, 0 for no filter; *none is set
 * when no group has that name (gctl's 422 unknown_group, or a 404), which
 * matches nothing rather than failing.
 */
static int grouproutes_filter_group(struct gctl *g, const char *name,
				    int64_t *id, bool *none,
				    struct mapping_error *err)
{
	*id = 0;
	*none = false;
	if (name == NULL || gctl_group_by_name(g, name, id, err) == 0)
		return 0;
	if (err->status != 404 && err->status != 422)
		return -1;
	memset(err, 0, sizeof(*err));
	*none = true;
	return 0;
}

struct grouproutes_list {
	const char *name;          /* groups: the name; others: the group's */
	uint64_t virtual_port;     /* groups: 0 for any */
	struct routes_page page;
};

static int grouproutes_list_groups(struct gctl *g, void *arg,
				   struct mapping_error *err)
{
	struct grouproutes_list *l = arg;
	struct gctl_group_view *rows = NULL;
	struct gctl_backend_view *b = NULL;
	size_t n = 0, nb = 0;
	int rc = -1;

	if (gctl_group_list(g, &rows, &n, err) < 0 ||
	    gctl_backend_list(g, 0, &b, &nb, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((l->name != NULL && strcmp(l->name, rows[i].g.name) != 0) ||
		    (l->virtual_port != 0 &&
		     l->virtual_port != rows[i].g.virtual_port))
			continue;
		if (routes_page_take(&l->page))
			routes_page_append(&l->page,
						groupjson_group_encode(&rows[i], b, nb));
	}
	rc = 0;
out:
	free(rows);
	free(b);
	return rc;
}

static int grouproutes_list_backends(struct gctl *g, void *arg,
				     struct mapping_error *err)
{
	struct grouproutes_list *l = arg;
	struct gctl_backend_view *rows = NULL;
	size_t n = 0;
	int64_t id;
	bool none;

	if (grouproutes_filter_group(g, l->name, &id, &none, err) < 0)
		return -1;
	if (none)
		return 0;
	if (gctl_backend_list(g, id, &rows, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (routes_page_take(&l->page))
			routes_page_append(&l->page,
						groupjson_backend_encode(&rows[i]));
	}
	free(rows);
	return 0;
}

static int grouproutes_list_rules(struct gctl *g, void *arg,
				  struct mapping_error *err)
{
	struct grouproutes_list *l = arg;
	struct gctl_rule_view *rows = NULL;
	size_t n = 0;
	int64_t id;
	bool none;

	if (grouproutes_filter_group(g, l->name, &id, &none, err) < 0)
		return -1;
	if (none)
		return 0;
	if (gctl_rule_list(g, id, &rows, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (routes_page_take(&l->page))
			routes_page_append(&l->page,
						groupjson_rule_encode(&rows[i]));
	}
	free(rows);
	return 0;
}

/* Runs one of the list callbacks above and answers its page. */
static void grouproutes_list_run(struct routes_call *c, struct routes_reply *r,
			     control_groups_fn *fn, struct grouproutes_list *l)
{
	struct mapping_error err = { 0 };
	uint64_t version = 0;
	int rc;

	if (!routes_page_parse(c, &l->page, r))
		return;
	rc = control_groups_read(c->req->ctl, fn, l, &version, &err);
	routes_page_reply(r, &l->page, version, rc, &err);
}

/* ---- flows ------------------------------------------------------------ */

struct grouproutes_flows {
	const char *group;         /* the group filter's name, or NULL */
	struct gflows_filter f;
	struct gflows_view *rows;
	size_t n, total;
};

static int grouproutes_list_flows(struct gctl *g, void *arg,
				  struct mapping_error *err)
{
	struct grouproutes_flows *fl = arg;
	bool none;

	if (grouproutes_filter_group(g, fl->group, &fl->f.group_id, &none,
				     err) < 0)
		return -1;
	if (none)
		return 0;
	return gctl_flow_list(g, &fl->f, &fl->rows, &fl->n, &fl->total, err);
}

static const struct {
	const char *name;
	uint8_t l4proto;
} grouproutes_protos[] = { { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP } };

/* Returns false with r filled when a filter is malformed. */
static bool grouproutes_flow_filter(const struct routes_call *c,
				    struct grouproutes_flows *fl,
				    struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	uint64_t v;
	const char *s;

	fl->group = routes_query(c, "group");
	s = routes_query(c, "backend");
	if (s != NULL) {
		if (!routes_parse_uint(s, INT64_MAX, &v) || v == 0) {
			routes_reply_error(r, 400, "invalid_query", "backend",
					   "backend must be a backend id");
			return false;
		}
		fl->f.backend_id = (int64_t)v;
	}
	s = routes_query(c, "client");
	if (s != NULL && !groupjson_cidr_parse(s, "client", &fl->f.family,
					       fl->f.client, &fl->f.prefix_len,
					       &err)) {
		routes_reply_error(r, 400, "invalid_query", "client", "%s",
				   err.message);
		return false;
	}
	s = routes_query(c, "proto");
	for (size_t i = 0; s != NULL && i < ARRAY_LEN(grouproutes_protos); i++) {
		if (strcmp(s, grouproutes_protos[i].name) == 0)
			fl->f.l4proto = grouproutes_protos[i].l4proto;
	}
	if (s != NULL && fl->f.l4proto == 0) {
		routes_reply_error(r, 400, "invalid_query", "proto",
				   "proto must be \"tcp\" or \"udp\"");
		return false;
	}
	return true;
}

void grouproutes_flow_list(struct routes_call *c, struct routes_reply *r)
{
	struct grouproutes_flows fl = { 0 };
	struct mapping_error err = { 0 };
	struct routes_page p;
	struct timespec ts;
	uint64_t version = 0;
	uint32_t now;
	int rc;

	if (!routes_page_parse(c, &p, r))
		return;
	if (!grouproutes_flow_filter(c, &fl, r)) {
		json_decref(p.items);
		return;
	}
	fl.f.offset = (size_t)p.offset;
	fl.f.limit = (size_t)p.limit;
	rc = control_groups_read(c->req->ctl, grouproutes_list_flows, &fl,
				 &version, &err);
	/*
	 * The entries' times are CLOCK_MONOTONIC seconds cut to 32 bits, as
	 * the workers write them; the ages are taken against the same clock.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint32_t)ts.tv_sec;
	for (size_t i = 0; rc == 0 && i < fl.n && p.items != NULL; i++)
		routes_page_append(&p, groupjson_flow_encode(&fl.rows[i], now));
	p.total = fl.total;
	routes_page_reply(r, &p, version, rc, &err);
	free(fl.rows);
}

static int grouproutes_flush(struct gctl *g, void *arg,
			     struct mapping_error *err)
{
	return gctl_flow_flush(g, arg, err);
}

void grouproutes_flow_flush(struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	size_t flushed = 0;
	json_t *body;

	if (control_groups_write(c->req->ctl, grouproutes_flush, &flushed,
				 &c->cond, &err) < 0 &&
	    !routes_stored(&err)) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 200;
	routes_reply_etag(r, c->cond.version);
	body = json_pack("{s:I}", "flushed", (json_int_t)flushed);
	/* A worker that did not finish in time still flushes, later. */
	if (routes_stored(&err))
		routes_reply_not_live(r, &err, body);
	else
		r->body = body;
}

/* ---- the handlers the route table names ------------------------------- */

/*
 * Each resource's five handlers of one row only pass its row of the kind
 * table on, with room for a row: grouproutes_groups makes
 * grouproutes_group_create, grouproutes_group_get, grouproutes_group_put,
 * grouproutes_group_patch and grouproutes_group_delete, and so on.
 */
#define GROUPROUTES_ROW_HANDLERS(res, kind)                                  \
	void grouproutes_##res##_create(struct routes_call *c,               \
					struct routes_reply *r)              \
	{                                                                    \
		union grouproutes_row row;                                   \
		routes_row_create(c, r, &kind.rows, &row);                   \
	}                                                                    \
	void grouproutes_##res##_get(struct routes_call *c,                  \
				     struct routes_reply *r)                 \
	{                                                                    \
		union grouproutes_row row;                                   \
		routes_row_get(c, r, &kind.rows, &row);                      \
	}                                                                    \
	void grouproutes_##res##_put(struct routes_call *c,                  \
				     struct routes_reply *r)                 \
	{                                                                    \
		union grouproutes_row row;                                   \
		routes_row_write(c, r, &kind.rows, &row, false);             \
	}                                                                    \
	void grouproutes_##res##_patch(struct routes_call *c,                \
				       struct routes_reply *r)               \
	{                                                                    \
		union grouproutes_row row;                                   \
		routes_row_write(c, r, &kind.rows, &row, true);              \
	}                                                                    \
	void grouproutes_##res##_delete(struct routes_call *c,               \
					struct routes_reply *r)              \
	{                                                                    \
		routes_row_delete(c, r, &kind.rows);                         \
	}

GROUPROUTES_ROW_HANDLERS(group, grouproutes_groups)
GROUPROUTES_ROW_HANDLERS(backend, grouproutes_backends)
GROUPROUTES_ROW_HANDLERS(rule, grouproutes_rules)

void grouproutes_group_list(struct routes_call *c, struct routes_reply *r)
{
	struct grouproutes_list l = { .name = routes_query(c, "name") };
	const char *port = routes_query(c, "virtual_port");

	if (port != NULL && (!routes_parse_uint(port, 65535, &l.virtual_port) ||
			     l.virtual_port == 0)) {
		routes_reply_error(r, 400, "invalid_query", "virtual_port",
				   "virtual_port must be an integer in 1..65535");
		return;
	}
	grouproutes_list_run(c, r, grouproutes_list_groups, &l);
}

void grouproutes_backend_list(struct routes_call *c, struct routes_reply *r)
{
	struct grouproutes_list l = { .name = routes_query(c, "group") };

	grouproutes_list_run(c, r, grouproutes_list_backends, &l);
}

void grouproutes_backend_drain(struct routes_call *c, struct routes_reply *r)
{
	grouproutes_state(c, r, SCHED_DRAIN);
}

void grouproutes_backend_undrain(struct routes_call *c, struct routes_reply *r)
{
	grouproutes_state(c, r, SCHED_ACTIVE);
}

void grouproutes_rule_list(struct routes_call *c, struct routes_reply *r)
{
	struct grouproutes_list l = { .name = routes_query(c, "group") };

	grouproutes_list_run(c, r, grouproutes_list_rules, &l);
}
