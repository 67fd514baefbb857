/*
 * fanroutes: the contested-port and subscriber handlers (see fanroutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads, several at once.  Every look at
 * fan-out is a small callback that control_fanout_read or
 * control_fanout_write runs under the control plane's lock, so a reader
 * gets its rows and the table version in one go, and a writer's If-Match
 * (c->cond) is checked against the version at the moment of its write.
 * Both resources are handled the same way: one table row per resource
 * (fanroutes_ports, fanroutes_subs) says how to read, write, delete and
 * encode one of them, and the handlers below follow grouproutes.c step for
 * step.  A subscriber names its contested port by number; the number is
 * resolved inside the writing callback, so that it cannot name another
 * port by the time the write lands.  A write that control stored but could
 * not make live yet (503) is still a write: its answer carries the
 * Location, the new ETag and what was stored, beside the error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "fanjson.h"
#include "fanroutes.h"
#include "fctl.h"
#include "mapping.h"

#define FANROUTES_LIST_DEFAULT 100
#define FANROUTES_LIST_MAX 1000

/* One row of either resource. */
union fanroutes_row {
	struct fctl_port_view port;
	struct fctl_sub_view sub;
};

/* How the handlers reach one resource. */
struct fanroutes_kind {
	const char *path;     /* the collection, which a Location extends */
	size_t id_at;         /* where the row's int64_t id is in the union */
	void (*defaults)(union fanroutes_row *row);
	bool (*apply)(json_t *obj, union fanroutes_row *row, bool partial,
		      struct mapping_error *err);
	int (*get)(struct fctl *f, int64_t id, union fanroutes_row *row,
		   struct mapping_error *err);
	/* Creates or updates the row, resolving what the body named. */
	int (*write)(struct fctl *f, union fanroutes_row *row, bool create,
		     struct mapping_error *err);
	int (*remove)(struct fctl *f, int64_t id, struct mapping_error *err);
	/* Returns the row's object, or NULL when out of memory. */
	json_t *(*encode)(const union fanroutes_row *row);
};

/* ---- the two resources ------------------------------------------------ */

static void fanroutes_port_defaults(union fanroutes_row *row)
{
	memset(row, 0, sizeof(*row));
	fanjson_port_defaults(&row->port.p);
}

static bool fanroutes_port_apply(json_t *obj, union fanroutes_row *row,
				 bool partial, struct mapping_error *err)
{
	return fanjson_port_apply(obj, &row->port.p, partial, err);
}

static int fanroutes_port_read(struct fctl *f, int64_t id,
			       union fanroutes_row *row,
			       struct mapping_error *err)
{
	return fctl_port_get(f, id, &row->port, err);
}

static int fanroutes_port_write(struct fctl *f, union fanroutes_row *row,
				bool create, struct mapping_error *err)
{
	return create ? fctl_port_create(f, &row->port.p, err)
		      : fctl_port_update(f, &row->port.p, err);
}

static json_t *fanroutes_port_encode(const union fanroutes_row *row)
{
	return fanjson_port_encode(&row->port);
}

static void fanroutes_sub_defaults(union fanroutes_row *row)
{
	memset(row, 0, sizeof(*row));
	fanjson_sub_defaults(&row->sub);
}

static bool fanroutes_sub_apply(json_t *obj, union fanroutes_row *row,
				bool partial, struct mapping_error *err)
{
	return fanjson_sub_apply(obj, &row->sub, partial, err);
}

static int fanroutes_sub_read(struct fctl *f, int64_t id,
			      union fanroutes_row *row,
			      struct mapping_error *err)
{
	return fctl_sub_get(f, id, &row->sub, err);
}

/*
 * A body that named a contested port left its id at 0 (fanjson.h): the
 * number is looked up here, under the lock of the write that uses it.
 * fctl answers an unknown number with 422 unknown_port, naming
 * contested_port.  registered says who made the subscriber, which no body
 * can change, so an update keeps the stored flag: a PUT, which starts
 * from the defaults, would otherwise clear it.
 */
static int fanroutes_sub_write(struct fctl *f, union fanroutes_row *row,
			       bool create, struct mapping_error *err)
{
	struct fctl_sub_view *v = &row->sub, cur;

	if (!create) {
		if (fctl_sub_get(f, v->s.id, &cur, err) < 0)
			return -1;
		v->s.registered = cur.s.registered;
	}
	if (v->s.port_id == 0 &&
	    fctl_port_by_number(f, v->contested_port, &v->s.port_id, err) < 0)
		return -1;
	return create ? fctl_sub_create(f, &v->s, err)
		      : fctl_sub_update(f, &v->s, err);
}

static json_t *fanroutes_sub_encode(const union fanroutes_row *row)
{
	return fanjson_sub_encode(&row->sub);
}

static const struct fanroutes_kind fanroutes_ports = {
	.path = "/api/v1/contested",
	.id_at = offsetof(union fanroutes_row, port.p.id),
	.defaults = fanroutes_port_defaults,
	.apply = fanroutes_port_apply,
	.get = fanroutes_port_read,
	.write = fanroutes_port_write,
	.remove = fctl_port_delete,
	.encode = fanroutes_port_encode,
};

static const struct fanroutes_kind fanroutes_subs = {
	.path = "/api/v1/subscribers",
	.id_at = offsetof(union fanroutes_row, sub.s.id),
	.defaults = fanroutes_sub_defaults,
	.apply = fanroutes_sub_apply,
	.get = fanroutes_sub_read,
	.write = fanroutes_sub_write,
	.remove = fctl_sub_delete,
	.encode = fanroutes_sub_encode,
};

static int64_t *fanroutes_id(const struct fanroutes_kind *k,
			     union fanroutes_row *row)
{
	return (int64_t *)(void *)((char *)row + k->id_at);
}

/* ---- callbacks run under the control lock ----------------------------- */

struct fanroutes_one {
	const struct fanroutes_kind *k;
	int64_t id;
	union fanroutes_row *row;
	bool create;          /* fanroutes_write_row: create, not update */
};

static int fanroutes_read_row(struct fctl *f, void *arg,
			      struct mapping_error *err)
{
	struct fanroutes_one *one = arg;

	return one->k->get(f, one->id, one->row, err);
}

static int fanroutes_write_row(struct fctl *f, void *arg,
			       struct mapping_error *err)
{
	struct fanroutes_one *one = arg;

	return one->k->write(f, one->row, one->create, err);
}

static int fanroutes_remove_row(struct fctl *f, void *arg,
				struct mapping_error *err)
{
	struct fanroutes_one *one = arg;

	return one->k->remove(f, one->id, err);
}

/* ---- one row ---------------------------------------------------------- */

/* True for control's 503: the write happened, but is not live yet. */
static bool fanroutes_stored(const struct mapping_error *err)
{
	return err->status == 503;
}

/*
 * Answers with the row as fctl now shows it, counters included.  After a
 * write the ETag is the version that write made (version); a read passes
 * 0 and takes the version it read at.  A write that is stored but not
 * live passes its 503 in stored, and the row goes with the error.
 */
static void fanroutes_reply_row(const struct routes_call *c,
				struct routes_reply *r,
				const struct fanroutes_kind *k, int64_t id,
				unsigned status, uint64_t version,
				const struct mapping_error *stored)
{
	struct mapping_error err = { 0 };
	union fanroutes_row row;
	struct fanroutes_one one = { .k = k, .id = id, .row = &row };
	uint64_t now = 0;
	json_t *body;

	if (control_fanout_read(c->req->ctl, fanroutes_read_row, &one, &now,
				&err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	body = k->encode(&row);
	r->status = status;
	routes_reply_etag(r, version != 0 ? version : now);
	if (stored != NULL)
		routes_reply_not_live(r, stored, body);
	else
		r->body = body;
}

static void fanroutes_create(struct routes_call *c, struct routes_reply *r,
			     const struct fanroutes_kind *k)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	union fanroutes_row row;
	struct fanroutes_one one = { .k = k, .row = &row, .create = true };
	int64_t id;

	if (root == NULL)
		return;
	k->defaults(&row);
	if (!k->apply(root, &row, false, &err) ||
	    (control_fanout_write(c->req->ctl, fanroutes_write_row, &one,
				  &c->cond, &err) < 0 &&
	     !fanroutes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	id = *fanroutes_id(k, &row);
	/* Set first: should reading the row back fail, the error drops it. */
	snprintf(r->location, sizeof(r->location), "%s/%" PRId64, k->path, id);
	fanroutes_reply_row(c, r, k, id, 201, c->cond.version,
			    fanroutes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

/*
 * PUT starts from the defaults, PATCH from the stored row.  Another write
 * may come between a PATCH's read and its write; a client that must not
 * lose it sends If-Match, which control checks at the moment of the write.
 */
static void fanroutes_write(struct routes_call *c, struct routes_reply *r,
			    const struct fanroutes_kind *k, bool partial)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	union fanroutes_row row;
	struct fanroutes_one one = { .k = k, .id = c->id, .row = &row };

	if (root == NULL)
		return;
	k->defaults(&row);
	if (partial && control_fanout_read(c->req->ctl, fanroutes_read_row, &one,
					   NULL, &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	*fanroutes_id(k, &row) = c->id;
	if (!k->apply(root, &row, partial, &err) ||
	    (control_fanout_write(c->req->ctl, fanroutes_write_row, &one,
				  &c->cond, &err) < 0 &&
	     !fanroutes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	fanroutes_reply_row(c, r, k, c->id, 200, c->cond.version,
			    fanroutes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

static void fanroutes_delete(struct routes_call *c, struct routes_reply *r,
			     const struct fanroutes_kind *k)
{
	struct mapping_error err = { 0 };
	struct fanroutes_one one = { .k = k, .id = c->id };

	if (control_fanout_write(c->req->ctl, fanroutes_remove_row, &one,
				 &c->cond, &err) < 0 &&
	    !fanroutes_stored(&err)) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 204;
	routes_reply_etag(r, c->cond.version);
	if (fanroutes_stored(&err))
		routes_reply_not_live(r, &err, NULL);
}

/* ---- lists ------------------------------------------------------------ */

/* A list's filter and page: which matches it shows, and how many matched. */
struct fanroutes_list {
	uint64_t port;        /* the port number filter, 0 for none */
	uint64_t limit, offset, total;
	json_t *items;        /* NULL once out of memory */
};

/*
 * Reads the port-number filter called name and the page.  Returns false
 * with r filled when one of them is malformed.
 */
static bool fanroutes_list_parse(const struct routes_call *c, const char *name,
				 struct fanroutes_list *l,
				 struct routes_reply *r)
{
	const char *s;

	memset(l, 0, sizeof(*l));
	l->limit = FANROUTES_LIST_DEFAULT;
	s = routes_query(c, name);
	if (s != NULL && (!routes_parse_uint(s, 65535, &l->port) || l->port == 0)) {
		routes_reply_error(r, 400, "invalid_query", name,
				   "%s must be an integer in 1..65535", name);
		return false;
	}
	s = routes_query(c, "limit");
	if (s != NULL && (!routes_parse_uint(s, FANROUTES_LIST_MAX, &l->limit) ||
			  l->limit == 0)) {
		routes_reply_error(r, 400, "invalid_query", "limit",
				   "limit must be an integer in 1..%d",
				   FANROUTES_LIST_MAX);
		return false;
	}
	s = routes_query(c, "offset");
	if (s != NULL && !routes_parse_uint(s, UINT32_MAX, &l->offset)) {
		routes_reply_error(r, 400, "invalid_query", "offset",
				   "offset must be a non-negative integer");
		return false;
	}
	l->items = json_array();
	return true;
}

/*
 * Counts a row whose port number is port when it passes the filter, and
 * returns true when the page shows it.
 */
static bool fanroutes_list_take(struct fanroutes_list *l, uint16_t port)
{
	bool shown;

	if (l->port != 0 && l->port != port)
		return false;
	shown = l->total >= l->offset && l->total - l->offset < l->limit;
	l->total++;
	return shown && l->items != NULL;
}

static void fanroutes_list_append(struct fanroutes_list *l, json_t *item)
{
	if (json_array_append_new(l->items, item) < 0) {
		json_decref(l->items);
		l->items = NULL;
	}
}

static int fanroutes_list_ports(struct fctl *f, void *arg,
				struct mapping_error *err)
{
	struct fanroutes_list *l = arg;
	struct fctl_port_view *rows = NULL;
	size_t n = 0;

	if (fctl_port_list(f, &rows, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (fanroutes_list_take(l, rows[i].p.port))
			fanroutes_list_append(l, fanjson_port_encode(&rows[i]));
	}
	free(rows);
	return 0;
}

/*
 * The filter is the contested port's number, matched against every
 * subscriber's: several contested ports may share a number (on different
 * addresses), and the filter lists the subscribers of all of them.
 */
static int fanroutes_list_subs(struct fctl *f, void *arg,
			       struct mapping_error *err)
{
	struct fanroutes_list *l = arg;
	struct fctl_sub_view *rows = NULL;
	size_t n = 0;

	if (fctl_sub_list(f, 0, &rows, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (fanroutes_list_take(l, rows[i].contested_port))
			fanroutes_list_append(l, fanjson_sub_encode(&rows[i]));
	}
	free(rows);
	return 0;
}

/* Runs one of the list callbacks above and answers its page. */
static void fanroutes_list_run(struct routes_call *c, struct routes_reply *r,
			       const char *filter, control_fanout_fn *fn)
{
	struct mapping_error err = { 0 };
	struct fanroutes_list l;
	uint64_t version = 0;

	if (!fanroutes_list_parse(c, filter, &l, r))
		return;
	if (control_fanout_read(c->req->ctl, fn, &l, &version, &err) < 0) {
		json_decref(l.items);
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 200;
	routes_reply_etag(r, version);
	r->body = json_pack("{s:o, s:I, s:I, s:I}", "items", l.items,
			    "total", (json_int_t)l.total,
			    "limit", (json_int_t)l.limit,
			    "offset", (json_int_t)l.offset);
}

/* ---- the handlers the route table names ------------------------------- */

/*
 * Each resource's five handlers of one row only pass its row of the kind
 * table on: fanroutes_ports makes fanroutes_port_create,
 * fanroutes_port_get, fanroutes_port_put, fanroutes_port_patch and
 * fanroutes_port_delete, and fanroutes_subs the fanroutes_sub_ ones.
 */
#define FANROUTES_ROW_HANDLERS(res, kind)                                    \
	void fanroutes_##res##_create(struct routes_call *c,                 \
				      struct routes_reply *r)                \
	{                                                                    \
		fanroutes_create(c, r, &kind);                               \
	}                                                                    \
	void fanroutes_##res##_get(struct routes_call *c,                    \
				   struct routes_reply *r)                   \
	{                                                                    \
		fanroutes_reply_row(c, r, &kind, c->id, 200, 0, NULL);       \
	}                                                                    \
	void fanroutes_##res##_put(struct routes_call *c,                    \
				   struct routes_reply *r)                   \
	{                                                                    \
		fanroutes_write(c, r, &kind, false);                         \
	}                                                                    \
	void fanroutes_##res##_patch(struct routes_call *c,                  \
				     struct routes_reply *r)                 \
	{                                                                    \
		fanroutes_write(c, r, &kind, true);                          \
	}                                                                    \
	void fanroutes_##res##_delete(struct routes_call *c,                 \
				      struct routes_reply *r)                \
	{                                                                    \
		fanroutes_delete(c, r, &kind);                               \
	}

FANROUTES_ROW_HANDLERS(port, fanroutes_ports)
FANROUTES_ROW_HANDLERS(sub, fanroutes_subs)

void fanroutes_port_list(struct routes_call *c, struct routes_reply *r)
{
	fanroutes_list_run(c, r, "port", fanroutes_list_ports);
}

void fanroutes_sub_list(struct routes_call *c, struct routes_reply *r)
{
	fanroutes_list_run(c, r, "contested_port", fanroutes_list_subs);
}
