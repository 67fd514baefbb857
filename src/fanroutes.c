/*
 * fanroutes: the contested-port and subscriber handlers (see fanroutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads, several at once.  Every look at
 * fan-out is a small callback that control_fanout_read or
 * control_fanout_write runs under the control plane's lock, so a reader
 * gets its rows and the table version in one go, and a writer's If-Match
 * (c->cond) is checked against the version at the moment of its write.
 * Both resources are handled the same way: one description per resource
 * (fanroutes_ports, fanroutes_subs) says how to read, write, delete and
 * encode one of them, and routes.c's row handlers (routes_row_*), which
 * every resource of the API shares, drive it.  A subscriber names its contested port by number; the number is
 * resolved inside the writing callback, so that it cannot name another
 * port by the time the write lands.  A write that control stored but could
 * not make live yet (503) is still a write: its answer carries the
 * Location, the new ETag and what was stored, beside the error.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "fanjson.h"
#include "fanroutes.h"
#include "fctl.h"
#include "mapping.h"

/* One row of either resource. */
union fanroutes_row {
	struct fctl_port_view port;
	struct fctl_sub_view sub;
};

/*
 * How the handlers reach one resource: routes.h's description, which the
 * shared row handlers read, and fctl's functions for it, which this
 * file's callbacks run under the control lock.
 */
struct fanroutes_kind {
	struct routes_rows rows;  /* first, so that the callbacks find the rest */
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

static void fanroutes_port_defaults(void *row)
{
	union fanroutes_row *u = row;

	memset(u, 0, sizeof(*u));
	fanjson_port_defaults(&u->port.p);
}

static bool fanroutes_port_apply(json_t *obj, void *row, bool partial,
				 struct mapping_error *err)
{
	return fanjson_port_apply(obj, &((union fanroutes_row *)row)->port.p,
				  partial, err);
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

static void fanroutes_sub_defaults(void *row)
{
	union fanroutes_row *u = row;

	memset(u, 0, sizeof(*u));
	fanjson_sub_defaults(&u->sub);
}

static bool fanroutes_sub_apply(json_t *obj, void *row, bool partial,
				struct mapping_error *err)
{
	return fanjson_sub_apply(obj, &((union fanroutes_row *)row)->sub,
				 partial, err);
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

/* ---- routes.h's callbacks, the same for both resources ---------------- */

/* The row is encoded once it is read, outside the lock. */
static int fanroutes_rows_read(const struct routes_rows *res,
			       struct control *ctl, int64_t id, void *row,
			       json_t **out, uint64_t *version,
			       struct mapping_error *err)
{
	struct fanroutes_one one = {
		.k = (const struct fanroutes_kind *)res, .id = id, .row = row,
	};

	if (control_fanout_read(ctl, fanroutes_read_row, &one, version, err) < 0)
		return -1;
	if (out != NULL)
		*out = one.k->encode(row);
	return 0;
}

static int fanroutes_rows_write(const struct routes_rows *res,
				struct control *ctl, void *row, bool create,
				struct control_cond *cond,
				struct mapping_error *err)
{
	struct fanroutes_one one = {
		.k = (const struct fanroutes_kind *)res, .row = row,
		.create = create,
	};

	return control_fanout_write(ctl, fanroutes_write_row, &one, cond, err);
}

static int fanroutes_rows_remove(const struct routes_rows *res,
				 struct control *ctl, int64_t id,
				 struct control_cond *cond,
				 struct mapping_error *err)
{
	struct fanroutes_one one = {
		.k = (const struct fanroutes_kind *)res, .id = id,
	};

	return control_fanout_write(ctl, fanroutes_remove_row, &one, cond, err);
}

#define FANROUTES_ROWS(collection, member, res)                              \
	{                                                                    \
		.path = collection,                                          \
		.id_at = offsetof(union fanroutes_row, member),              \
		.defaults = fanroutes_##res##_defaults,                      \
		.apply = fanroutes_##res##_apply,                            \
		.read = fanroutes_rows_read,                                 \
		.write = fanroutes_rows_write,                               \
		.remove = fanroutes_rows_remove,                             \
	}

static const struct fanroutes_kind fanroutes_ports = {
	.rows = FANROUTES_ROWS("/api/v1/contested", port.p.id, port),
	.get = fanroutes_port_read,
	.write = fanroutes_port_write,
	.remove = fctl_port_delete,
	.encode = fanroutes_port_encode,
};

static const struct fanroutes_kind fanroutes_subs = {
	.rows = FANROUTES_ROWS("/api/v1/subscribers", sub.s.id, sub),
	.get = fanroutes_sub_read,
	.write = fanroutes_sub_write,
	.remove = fctl_sub_delete,
	.encode = fanroutes_sub_encode,
};

/* ---- lists ------------------------------------------------------------ */

/* A list's port-number filter (0 for none) and its page. */
struct fanroutes_list {
	uint64_t port;
	struct routes_page page;
};

/*
 * Counts a row whose port number is port when it passes the filter, and
 * returns true when the page shows it.
 */
static bool fanroutes_list_take(struct fanroutes_list *l, uint16_t port)
{
	if (l->port != 0 && l->port != port)
		return false;
	return routes_page_take(&l->page);
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
			routes_page_append(&l->page, fanjson_port_encode(&rows[i]));
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
			routes_page_append(&l->page, fanjson_sub_encode(&rows[i]));
	}
	free(rows);
	return 0;
}

/*
 * Reads the port-number filter called filter and the page, runs one of
 * the list callbacks above and answers its page.
 */
static void fanroutes_list_run(struct routes_call *c, struct routes_reply *r,
			       const char *filter, control_fanout_fn *fn)
{
	struct mapping_error err = { 0 };
	struct fanroutes_list l = { 0 };
	const char *s = routes_query(c, filter);
	uint64_t version = 0;
	int rc;

	if (s != NULL && (!routes_parse_uint(s, 65535, &l.port) || l.port == 0)) {
		routes_reply_error(r, 400, "invalid_query", filter,
				   "%s must be an integer in 1..65535", filter);
		return;
	}
	if (!routes_page_parse(c, &l.page, r))
		return;
	rc = control_fanout_read(c->req->ctl, fn, &l, &version, &err);
	routes_page_reply(r, &l.page, version, rc, &err);
}

/* ---- the handlers the route table names ------------------------------- */

/*
 * Each resource's five handlers of one row only pass its row of the kind
 * table on, with room for a row: fanroutes_ports makes
 * fanroutes_port_create, fanroutes_port_get, fanroutes_port_put,
 * fanroutes_port_patch and fanroutes_port_delete, and fanroutes_subs the
 * fanroutes_sub_ ones.
 */
#define FANROUTES_ROW_HANDLERS(res, kind)                                    \
	void fanroutes_##res##_create(struct routes_call *c,                 \
				      struct routes_reply *r)                \
	{                                                                    \
		union fanroutes_row row;                                     \
		routes_row_create(c, r, &kind.rows, &row);                   \
	}                                                                    \
	void fanroutes_##res##_get(struct routes_call *c,                    \
				   struct routes_reply *r)                   \
	{                                                                    \
		union fanroutes_row row;                                     \
		routes_row_get(c, r, &kind.rows, &row);                      \
	}                                                                    \
	void fanroutes_##res##_put(struct routes_call *c,                    \
				   struct routes_reply *r)                   \
	{                                                                    \
		union fanroutes_row row;                                     \
		routes_row_write(c, r, &kind.rows, &row, false);             \
	}                                                                    \
	void fanroutes_##res##_patch(struct routes_call *c,                  \
				     struct routes_reply *r)                 \
	{                                                                    \
		union fanroutes_row row;                                     \
		routes_row_write(c, r, &kind.rows, &row, true);              \
	}                                                                    \
	void fanroutes_##res##_delete(struct routes_call *c,                 \
				      struct routes_reply *r)                \
	{                                                                    \
		routes_row_delete(c, r, &kind.rows);                         \
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
