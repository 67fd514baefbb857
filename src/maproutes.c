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

struct maproutes_filter {
	unsigned proto;                     /* 0: any */
	char address[MAPPING_ADDRESS_MAX];  /* "": any */
	int enabled;                        /* -1: any */
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
	struct routes_page p;
	uint64_t version = 0;
	size_t n = 0;
	int rc;

	if (!maproutes_filter_parse(c, &f, r) || !routes_page_parse(c, &p, r))
		return;
	rc = control_mapping_list(c->req->ctl, &rows, &n, &version, &err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (maproutes_filter_match(&f, &rows[i]) && routes_page_take(&p))
			routes_page_append(&p, mapjson_encode(&rows[i]));
	}
	routes_page_reply(r, &p, version, rc, &err);
	free(rows);
}

/* ---- one mapping ------------------------------------------------------ */

static void maproutes_defaults(void *row)
{
	struct control_mapping *cm = row;

	memset(cm, 0, sizeof(*cm));
	mapjson_defaults(&cm->m);
}

static bool maproutes_apply(json_t *obj, void *row, bool partial,
			    struct mapping_error *err)
{
	return mapjson_apply(obj, &((struct control_mapping *)row)->m, partial,
			     err);
}

/*
 * A read takes the row and the table version in one call, so the ETag
 * describes exactly the row it shows.
 */
static int maproutes_read(const struct routes_rows *res, struct control *ctl,
			  int64_t id, void *row, json_t **out,
			  uint64_t *version, struct mapping_error *err)
{
	(void)res;
	if (control_mapping_get(ctl, id, row, version, err) < 0)
		return -1;
	if (out != NULL)
		*out = mapjson_encode(row);
	return 0;
}

static int maproutes_write(const struct routes_rows *res, struct control *ctl,
			   void *row, bool create, struct control_cond *cond,
			   struct mapping_error *err)
{
	struct control_mapping *cm = row;

	(void)res;
	return create ? control_mapping_create(ctl, &cm->m, cond, err)
		      : control_mapping_update(ctl, &cm->m, cond, err);
}

static int maproutes_remove(const struct routes_rows *res, struct control *ctl,
			    int64_t id, struct control_cond *cond,
			    struct mapping_error *err)
{
	(void)res;
	return control_mapping_delete(ctl, id, cond, err);
}

static const struct routes_rows maproutes_rows = {
	.path = "/api/v1/mappings",
	.id_at = offsetof(struct control_mapping, m.id),
	.defaults = maproutes_defaults,
	.apply = maproutes_apply,
	.read = maproutes_read,
	.write = maproutes_write,
	.remove = maproutes_remove,
};

void maproutes_create(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping cm;

	routes_row_create(c, r, &maproutes_rows, &cm);
}

void maproutes_get(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping cm;

	routes_row_get(c, r, &maproutes_rows, &cm);
}

/* PUT starts from the defaults. */
void maproutes_put(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping cm;

	routes_row_write(c, r, &maproutes_rows, &cm, false);
}

/*
 * A PATCH reads the row, then writes it back changed.  Another write may
 * come in between; a client that must not lose it sends If-Match, which
 * control checks against the version at the moment of the write.
 */
void maproutes_patch(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping cm;

	routes_row_write(c, r, &maproutes_rows, &cm, true);
}

void maproutes_delete(struct routes_call *c, struct routes_reply *r)
{
	routes_row_delete(c, r, &maproutes_rows);
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
	     !routes_stored(&err))) {
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
	if (routes_stored(&err))
		routes_reply_not_live(r, &err, doc);
	else
		r->body = doc;
out:
	free(rows);
	json_decref(root);
}
