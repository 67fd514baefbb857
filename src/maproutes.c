/*
 * maproutes: the mapping and config handlers (see maproutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads, several at once; control.h
 * serialises them.  A reader takes the rows and the table version in one
 * call, so the ETag it answers describes exactly the rows it shows.  A
 * writer passes the request's If-Match (c->cond) down to control, which
 * checks it under its lock, and answers with the version its write made.
 * A write that control stored but could not make live yet (503) is still
 * a write: its answer carries the Location, the new ETag and what was
 * stored, beside the error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "mapjson.h"
#include "mapping.h"
#include "maproutes.h"
#include "util.h"

#define MAPROUTES_LIST_DEFAULT 100
#define MAPROUTES_LIST_MAX 1000

struct maproutes_filter {
	unsigned proto;                     /* 0: any */
	char address[MAPPING_ADDRESS_MAX];  /* "": any */
	int enabled;                        /* -1: any */
	uint64_t limit, offset;
};

static const struct {
	const char *text;
	int value;
} maproutes_bools[] = { { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 } };

/* Returns false with r filled when a query parameter is malformed. */
static bool maproutes_filter_parse(const struct routes_call *c,
				   struct maproutes_filter *f,
				   struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	const char *s;
	int family;

	memset(f, 0, sizeof(*f));
	f->enabled = -1;
	f->limit = MAPROUTES_LIST_DEFAULT;
	s = routes_query(c, "proto");
	if (s != NULL && !mapping_proto_parse(s, &f->proto)) {
		routes_reply_error(r, 400, "invalid_query", "proto",
				   "proto must be \"tcp\", \"udp\" or \"both\"");
		return false;
	}
	s = routes_query(c, "address");
	if (s != NULL && !mapping_normalize_address(s, f->address, &family, &err)) {
		routes_reply_error(r, 400, "invalid_query", "address", "%s",
				   err.message);
		return false;
	}
	s = routes_query(c, "enabled");
	if (s != NULL) {
		for (size_t i = 0; i < ARRAY_LEN(maproutes_bools); i++) {
			if (strcmp(s, maproutes_bools[i].text) == 0)
				f->enabled = maproutes_bools[i].value;
		}
		if (f->enabled < 0) {
			routes_reply_error(r, 400, "invalid_query", "enabled",
					   "enabled must be true or false");
			return false;
		}
	}
	s = routes_query(c, "limit");
	if (s != NULL && (!routes_parse_uint(s, MAPROUTES_LIST_MAX, &f->limit) ||
			  f->limit == 0)) {
		routes_reply_error(r, 400, "invalid_query", "limit",
				   "limit must be an integer in 1..%d",
				   MAPROUTES_LIST_MAX);
		return false;
	}
	s = routes_query(c, "offset");
	if (s != NULL && !routes_parse_uint(s, UINT32_MAX, &f->offset)) {
		routes_reply_error(r, 400, "invalid_query", "offset",
				   "offset must be a non-negative integer");
		return false;
	}
	return true;
}

/* An address filter matches the stored address or any address it resolves to. */
static bool maproutes_filter_match(const struct maproutes_filter *f,
				   const struct control_mapping *cm)
{
	bool addr = f->address[0] == '\0' || strcmp(f->address, cm->m.address) == 0;

	for (size_t i = 0; !addr && i < cm->naddrs && i < CONTROL_MAX_ADDRS; i++)
		addr = strcmp(f->address, cm->addrs[i]) == 0;
	return addr && (f->proto == 0 || f->proto == cm->m.proto) &&
	       (f->enabled < 0 || f->enabled == (int)cm->m.enabled);
}

void maproutes_list(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping *rows = NULL;
	struct mapping_error err = { 0 };
	struct maproutes_filter f;
	uint64_t total = 0, version;
	json_t *items;
	size_t n = 0;

	if (!maproutes_filter_parse(c, &f, r))
		return;
	if (control_mapping_list(c->req->ctl, &rows, &n, &version, &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!maproutes_filter_match(&f, &rows[i]))
			continue;
		if (items != NULL && total >= f.offset &&
		    total - f.offset < f.limit &&
		    json_array_append_new(items, mapjson_encode(&rows[i])) < 0) {
			json_decref(items);
			items = NULL;
		}
		total++;
	}
	r->status = 200;
	routes_reply_etag(r, version);
	r->body = json_pack("{s:o, s:I, s:I, s:I}", "items", items,
			    "total", (json_int_t)total, "limit", (json_int_t)f.limit,
			    "offset", (json_int_t)f.offset);
out:
	free(rows);
}

/*
 * Answers with the row as control now shows it, counters included.  After
 * a write the ETag is the version that write made (version), even if
 * another write has followed; a read passes 0 and takes the row's own.
 * A write that is stored but not live passes its 503 in stored, and the
 * row goes with the error.
 */
static void maproutes_reply_row(const struct routes_call *c,
				struct routes_reply *r, int64_t id,
				unsigned status, uint64_t version,
				const struct mapping_error *stored)
{
	struct mapping_error err = { 0 };
	struct control_mapping cm;
	uint64_t now;

	if (control_mapping_get(c->req->ctl, id, &cm, &now, &err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = status;
	routes_reply_etag(r, version != 0 ? version : now);
	if (stored != NULL)
		routes_reply_not_live(r, stored, mapjson_encode(&cm));
	else
		r->body = mapjson_encode(&cm);
}

/* True for control's 503: the write happened, but is not live yet. */
static bool maproutes_stored(const struct mapping_error *err)
{
	return err->status == 503;
}

void maproutes_create(struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (!mapjson_apply(root, &m, false, &err) ||
	    (control_mapping_create(c->req->ctl, &m, &c->cond, &err) < 0 &&
	     !maproutes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	/* Set first: should reading the row back fail, the error drops it. */
	snprintf(r->location, sizeof(r->location), "/api/v1/mappings/%" PRId64,
		 m.id);
	maproutes_reply_row(c, r, m.id, 201, c->cond.version,
			    maproutes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

void maproutes_get(struct routes_call *c, struct routes_reply *r)
{
	maproutes_reply_row(c, r, c->id, 200, 0, NULL);
}

/* PUT starts from the defaults, PATCH from the stored row. */
static void maproutes_write(struct routes_call *c, struct routes_reply *r,
			    bool partial)
{
	struct mapping_error err = { 0 };
	struct control_mapping cur;
	json_t *root = routes_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (partial) {
		if (control_mapping_get(c->req->ctl, c->id, &cur, NULL, &err) < 0) {
			routes_reply_merror(r, &err);
			goto out;
		}
		m = cur.m;
	}
	m.id = c->id;
	if (!mapjson_apply(root, &m, partial, &err) ||
	    (control_mapping_update(c->req->ctl, &m, &c->cond, &err) < 0 &&
	     !maproutes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	maproutes_reply_row(c, r, c->id, 200, c->cond.version,
			    maproutes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

void maproutes_put(struct routes_call *c, struct routes_reply *r)
{
	maproutes_write(c, r, false);
}

/*
 * A PATCH reads the row, then writes it back changed.  Another write may
 * come in between; a client that must not lose it sends If-Match, which
 * control checks against the version at the moment of the write.
 */
void maproutes_patch(struct routes_call *c, struct routes_reply *r)
{
	maproutes_write(c, r, true);
}

void maproutes_delete(struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };

	if (control_mapping_delete(c->req->ctl, c->id, &c->cond, &err) < 0 &&
	    !maproutes_stored(&err)) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 204;
	routes_reply_etag(r, c->cond.version);
	if (maproutes_stored(&err))
		routes_reply_not_live(r, &err, NULL);
}

/* ---- the whole table -------------------------------------------------- */

void maproutes_config_get(struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	struct mapping *rows = NULL;
	uint64_t version;
	size_t n = 0;

	if (config_export(c->req->ctl, &rows, &n, &version, &err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 200;
	routes_reply_etag(r, version);
	r->body = mapjson_config_encode(version, rows, n);
	free(rows);
}

/*
 * An error about one entry names it in full, "mappings[17].shared_port",
 * so that a client can point at the line of its file.
 */
static void maproutes_reply_entry_error(struct routes_reply *r, size_t bad,
					const struct mapping_error *err)
{
	struct mapping_error named = *err;
	char field[96];

	if (bad != SIZE_MAX) {
		snprintf(field, sizeof(field), "mappings[%zu]%s%s", bad,
			 err->field != NULL && err->field[0] != '\0' ? "." : "",
			 err->field != NULL ? err->field : "");
		named.field = field;
	}
	routes_reply_merror(r, &named);
}

void maproutes_config_put(struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	struct mapping *rows = NULL;
	size_t n = 0, bad = SIZE_MAX;
	json_t *doc;

	if (root == NULL)
		return;
	if (!mapjson_config_decode(root, &rows, &n, &bad, &err) ||
	    (config_replace(c->req->ctl, rows, n, &c->cond, &bad, &err) < 0 &&
	     !maproutes_stored(&err))) {
		maproutes_reply_entry_error(r, bad, &err);
		goto out;
	}
	/*
	 * The answer is what this write stored, new ids included and in the
	 * table's order, under the version it made, even when another write
	 * has followed.
	 */
	r->status = 200;
	routes_reply_etag(r, c->cond.version);
	doc = mapjson_config_encode(c->cond.version, rows, n);
	if (maproutes_stored(&err))
		routes_reply_not_live(r, &err, doc);
	else
		r->body = doc;
out:
	free(rows);
	json_decref(root);
}
