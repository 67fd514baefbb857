/*
 * mapjson: the REST API's JSON form of a mapping, both ways.  A request
 * object is checked against the field table and applied onto a struct
 * mapping; a struct control_mapping is encoded as the object the API answers
 * with.  Pure: no I/O and no logging, so the unit tests and the fuzzer link
 * it as it is.
 */
#ifndef PORTSHARE_MAPJSON_H
#define PORTSHARE_MAPJSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "control.h"
#include "mapping.h"

/*
 * The flags every request body is parsed with.  Duplicate keys are refused
 * because the field table would otherwise see only one of them.
 */
#define MAPJSON_LOAD_FLAGS JSON_REJECT_DUPLICATES

/* Room for mapjson_iso_time's "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define MAPJSON_TIME_LEN 32

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
