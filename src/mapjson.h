/*
 * mapjson: the REST API's JSON, both ways.  A request body is bounded in
 * depth and parsed; a request object is checked against the field table and
 * applied onto a struct mapping; a whole table is decoded from and encoded
 * to the config document; a struct control_mapping is encoded as the object
 * the API answers with.  Pure: no I/O and no logging, so the unit tests and
 * the fuzzer link it as it is.
 */
#ifndef PORTSHARE_MAPJSON_H
#define PORTSHARE_MAPJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control.h"
#include "mapping.h"

/*
 * The flags every request body is parsed with.  Duplicate keys are refused
 * because the field table would otherwise see only one of them.
 */
#define MAPJSON_LOAD_FLAGS JSON_REJECT_DUPLICATES

/*
 * Bodies nested deeper than this are refused before jansson sees them:
 * jansson recurses per level, and no request of this API needs more than
 * three.
 */
#define MAPJSON_MAX_DEPTH 32

/* The largest id a body may carry: ids in URLs have at most 18 digits. */
#define MAPJSON_ID_MAX INT64_C(999999999999999999)

/* Room for mapjson_iso_time's "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define MAPJSON_TIME_LEN 32

/*
 * True when no array or object in the len bytes at buf is nested deeper
 * than max levels (the outermost value is level 1).  It only counts
 * brackets outside strings, skipping escapes, and checks nothing else:
 * malformed JSON is left to the parser.
 */
bool mapjson_depth_ok(const char *buf, size_t len, unsigned max);

/*
 * Parses a request body (buf may be NULL when len is 0) after checking its
 * depth.  Returns the value, or NULL with err filled: 400 too_deep or 400
 * invalid_json with the line and column.
 */
json_t *mapjson_parse(const char *buf, size_t len, struct mapping_error *err);

/*
 * Resets m to the values POST and PUT start from: proto both, enabled,
 * empty comment, everything else zero.  The caller sets the URL's id.
 */
void mapjson_defaults(struct mapping *m);

/*
 * Applies the object obj to m.  With partial false (POST, PUT) the required
 * fields must all be present; with partial true (PATCH) only the given
 * fields change.  m->id must hold the URL's id, or 0 for POST, since a body
 * may only repeat that id.  Every shape error (400: not_object,
 * unknown_field, missing_field, invalid_type, id_mismatch) is found before
 * any value error (422), so a client fixes its encoder before its data.
 * Returns false with err filled and m possibly half changed; err->field may
 * point into obj, so obj must outlive err.
 */
bool mapjson_apply(json_t *obj, struct mapping *m, bool partial,
		   struct mapping_error *err);

/*
 * Decodes the config document {"mappings": [...]} into a new array of n
 * rows (*rows, freed by the caller; NULL on failure).  Every entry is read
 * as a POST body that may also carry its id (1..MAPJSON_ID_MAX, no two
 * alike); an entry without one gets id 0.  "version", as an export carries
 * it, is accepted and ignored.  Values are not validated beyond what
 * mapjson_apply checks (control does that, against each other too).
 * Returns false with err filled; *bad is then the index of the entry at
 * fault and err->field a field inside it, or *bad is SIZE_MAX when the
 * fault is in the document itself.
 */
bool mapjson_config_decode(json_t *root, struct mapping **rows, size_t *n,
			   size_t *bad, struct mapping_error *err);

/* Returns {id, proto, address, shared_port, assigned_port, enabled, comment}. */
json_t *mapjson_encode_row(const struct mapping *m);

/*
 * Returns the config document {"version": version, "mappings": [rows]},
 * or NULL when out of memory.
 */
json_t *mapjson_config_encode(uint64_t version, const struct mapping *rows,
			      size_t n);

/*
 * Returns a new object with the row, its live state and its counters, or
 * NULL when out of memory or when a string in cm is not valid UTF-8.
 */
json_t *mapjson_encode(const struct control_mapping *cm);

/*
 * Writes unix seconds t as ISO-8601 UTC into buf and returns buf; returns
 * NULL when t is 0 (never) or cannot be represented.
 */
const char *mapjson_iso_time(int64_t t, char buf[MAPJSON_TIME_LEN]);

#endif
