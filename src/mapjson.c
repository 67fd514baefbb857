/*
 * mapjson: a mapping as the REST API reads and writes it.  One table lists
 * the fields a request may carry, with their JSON type, whether POST and PUT
 * require them and the function that stores each one, so that unknown,
 * missing and mistyped fields are all found by walking that table (jsonfield
 * does the walking, as it does for groupjson and fanjson).  Nothing here
 * does I/O or logs; api.c turns the errors into HTTP answers.
 */
#include "mapjson.h"
#include "jsonfield.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool mapjson_apply_proto(void *obj, const struct jsonfield *f,
				json_t *v, struct mapping_error *err)
{
	struct mapping *m = obj;

	if (mapping_proto_parse(json_string_value(v), &m->proto))
		return true;
	return mapping_fail(err, 422, "invalid_proto", f->name,
			    "proto must be \"tcp\", \"udp\" or \"both\"");
}

/* Copies a string field, refusing one that would not fit rather than cutting it. */
static bool mapjson_copy_string(char *dst, size_t size, const char *name,
				json_t *v, const char *code,
				struct mapping_error *err)
{
	size_t len = json_string_length(v);

	if (len >= size)
		return mapping_fail(err, 422, code, name,
				    "%s is longer than %zu bytes", name, size - 1);
	memcpy(dst, json_string_value(v), len + 1);
	return true;
}

static bool mapjson_apply_address(void *obj, const struct jsonfield *f,
				  json_t *v, struct mapping_error *err)
{
	struct mapping *m = obj;

	return mapjson_copy_string(m->address, sizeof(m->address), f->name, v,
				   "invalid_address", err);
}

static bool mapjson_apply_comment(void *obj, const struct jsonfield *f,
				  json_t *v, struct mapping_error *err)
{
	struct mapping *m = obj;

	return mapjson_copy_string(m->comment, sizeof(m->comment), f->name, v,
				   "invalid_comment", err);
}

static const struct jsonfield mapjson_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct mapping, id, 0, 0, NULL),
	JSONFIELD_CUSTOM("proto", JSONFIELD_STRING, false, false,
			 mapjson_apply_proto),
	JSONFIELD_CUSTOM("address", JSONFIELD_STRING, true, false,
			 mapjson_apply_address),
	JSONFIELD_MEMBER("shared_port", JSONFIELD_INTEGER, true,
			 jsonfield_apply_uint, struct mapping, shared_port, 1,
			 65535, "invalid_port"),
	JSONFIELD_MEMBER("assigned_port", JSONFIELD_INTEGER, true,
			 jsonfield_apply_uint, struct mapping, assigned_port, 1,
			 65535, "invalid_port"),
	JSONFIELD_MEMBER("enabled", JSONFIELD_BOOLEAN, false,
			 jsonfield_apply_bool, struct mapping, enabled, 0, 0,
			 NULL),
	JSONFIELD_CUSTOM("comment", JSONFIELD_STRING, false, false,
			 mapjson_apply_comment),
};

void mapjson_defaults(struct mapping *m)
{
	memset(m, 0, sizeof(*m));
	m->proto = MAPPING_BOTH;
	m->enabled = true;
}

bool mapjson_apply(json_t *obj, struct mapping *m, bool partial,
		   struct mapping_error *err)
{
	return jsonfield_apply(obj, mapjson_fields, ARRAY_LEN(mapjson_fields), m,
			       partial, err);
}

json_t *mapjson_encode(const struct control_mapping *cm)
{
	size_t naddrs = cm->naddrs < CONTROL_MAX_ADDRS ? cm->naddrs
						       : CONTROL_MAX_ADDRS;
	json_t *addrs = json_array();
	char hit[MAPJSON_TIME_LEN];

	for (size_t i = 0; addrs != NULL && i < naddrs; i++) {
		if (json_array_append_new(addrs, json_string(cm->addrs[i])) < 0) {
			json_decref(addrs);
			addrs = NULL;
		}
	}
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:b, s:s, s:b, s:o, s:s?,"
			 " s:{s:I, s:I, s:I, s:I, s:s?}}",
			 "id", (json_int_t)cm->m.id,
			 "proto", mapping_proto_name(cm->m.proto),
			 "address", cm->m.address,
			 "shared_port", (json_int_t)cm->m.shared_port,
			 "assigned_port", (json_int_t)cm->m.assigned_port,
			 "enabled", (int)cm->m.enabled,
			 "comment", cm->m.comment,
			 "resolved", (int)cm->resolved,
			 "addresses", addrs,
			 "resolve_error", cm->resolve_error[0] != '\0'
						  ? cm->resolve_error : NULL,
			 "counters",
			 "packets_in", (json_int_t)cm->packets_in,
			 "bytes_in", (json_int_t)cm->bytes_in,
			 "packets_out", (json_int_t)cm->packets_out,
			 "bytes_out", (json_int_t)cm->bytes_out,
			 "last_hit", mapjson_iso_time(cm->last_hit, hit));
}

bool mapjson_depth_ok(const char *buf, size_t len, unsigned max)
{
	bool in_string = false, escaped = false;
	unsigned depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			/* A quote after a backslash does not end the string. */
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

json_t *mapjson_parse(const char *buf, size_t len, struct mapping_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (buf == NULL)
		buf = "";
	if (!mapjson_depth_ok(buf, len, MAPJSON_MAX_DEPTH)) {
		mapping_fail(err, 400, "too_deep", "",
			     "the JSON body is nested deeper than %d levels",
			     MAPJSON_MAX_DEPTH);
		return NULL;
	}
	root = json_loadb(buf, len, MAPJSON_LOAD_FLAGS, &jerr);
	if (root == NULL)
		mapping_fail(err, 400, "invalid_json", "",
			     "invalid JSON at line %d, column %d: %s",
			     jerr.line, jerr.column, jerr.text);
	return root;
}

/* The keys of the config document, besides which none is accepted. */
static const char *const mapjson_config_keys[] = { "mappings", "version" };

/* Checks the document around the entries; returns the array or NULL. */
static json_t *mapjson_config_shape(json_t *root, struct mapping_error *err)
{
	json_t *list, *v;
	const char *key;
	bool known;

	if (!json_is_object(root)) {
		mapping_fail(err, 400, "not_object", "",
			     "the request body must be a JSON object");
		return NULL;
	}
	json_object_foreach(root, key, v) {
		known = false;
		for (size_t i = 0; i < ARRAY_LEN(mapjson_config_keys); i++)
			known = known || strcmp(key, mapjson_config_keys[i]) == 0;
		if (!known) {
			mapping_fail(err, 400, "unknown_field", key,
				     "unknown field \"%.64s\"", key);
			return NULL;
		}
	}
	v = json_object_get(root, "version");
	if (v != NULL && !json_is_integer(v)) {
		mapping_fail(err, 400, "invalid_type", "version",
			     "version must be an integer");
		return NULL;
	}
	list = json_object_get(root, "mappings");
	if (list == NULL)
		mapping_fail(err, 400, "missing_field", "mappings",
			     "mappings is required");
	else if (!json_is_array(list))
		mapping_fail(err, 400, "invalid_type", "mappings",
			     "mappings must be an array");
	return json_is_array(list) ? list : NULL;
}

/*
 * The ids an import has seen so far, with the entry that carried each: an
 * open-addressing set of at least twice as many slots as entries, so that
 * a duplicate is found in O(1) rather than by comparing every earlier
 * entry, and still reported at the first entry that repeats an id.
 */
struct mapjson_ids {
	struct {
		int64_t id; /* 0: a free slot */
		size_t entry;
	} *slots;
	size_t mask;
};

static bool mapjson_ids_init(struct mapjson_ids *ids, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	ids->slots = calloc(cap, sizeof(*ids->slots));
	ids->mask = cap - 1;
	return ids->slots != NULL;
}

/* The slot of id: where it is, or the free one where it would go. */
static size_t mapjson_ids_slot(const struct mapjson_ids *ids, int64_t id)
{
	size_t i = (size_t)util_fnv1a(&id, sizeof(id)) & ids->mask;

	while (ids->slots[i].id != 0 && ids->slots[i].id != id)
		i = (i + 1) & ids->mask;
	return i;
}

/* Reads entry i's optional id into *id (0 when absent). */
static bool mapjson_config_id(json_t *entry, struct mapjson_ids *ids,
			      size_t i, int64_t *id, struct mapping_error *err)
{
	size_t slot;

	json_t *v = json_object_get(entry, "id");
	json_int_t n;

	*id = 0;
	if (v == NULL)
		return true;
	if (!json_is_integer(v))
		return mapping_fail(err, 400, "invalid_type", "id",
				    "id must be an integer");
	n = json_integer_value(v);
	if (n < 1 || n > MAPJSON_ID_MAX)
		return mapping_fail(err, 422, "invalid_id", "id",
				    "id %" JSON_INTEGER_FORMAT " is outside 1..%" PRId64,
				    n, MAPJSON_ID_MAX);
	slot = mapjson_ids_slot(ids, (int64_t)n);
	if (ids->slots[slot].id == n)
		return mapping_fail(err, 422, "duplicate_id", "id",
				    "id %" JSON_INTEGER_FORMAT
				    " is also the id of mappings[%zu]", n,
				    ids->slots[slot].entry);
	ids->slots[slot].id = (int64_t)n;
	ids->slots[slot].entry = i;
	*id = (int64_t)n;
	return true;
}

bool mapjson_config_decode(json_t *root, struct mapping **rows, size_t *n,
			   size_t *bad, struct mapping_error *err)
{
	json_t *list = mapjson_config_shape(root, err);
	struct mapjson_ids ids = { NULL, 0 };
	struct mapping *out = NULL;
	json_t *entry;
	size_t i;

	*rows = NULL;
	*n = 0;
	*bad = SIZE_MAX;
	if (list == NULL)
		return false;
	out = calloc(json_array_size(list) + 1, sizeof(*out));
	if (out == NULL || !mapjson_ids_init(&ids, json_array_size(list))) {
		free(out);
		free(ids.slots);
		return mapping_fail(err, 500, "internal", "", "out of memory");
	}
	json_array_foreach(list, i, entry) {
		int64_t id;

		*bad = i;
		if (!json_is_object(entry)) {
			mapping_fail(err, 400, "not_object", "",
				     "every entry of mappings must be a JSON object");
			goto fail;
		}
		if (!mapjson_config_id(entry, &ids, i, &id, err))
			goto fail;
		mapjson_defaults(&out[i]);
		out[i].id = id;
		if (!mapjson_apply(entry, &out[i], false, err))
			goto fail;
	}
	free(ids.slots);
	*bad = SIZE_MAX;
	*rows = out;
	*n = json_array_size(list);
	return true;
fail:
	free(ids.slots);
	free(out);
	return false;
}

json_t *mapjson_encode_row(const struct mapping *m)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:b, s:s}",
			 "id", (json_int_t)m->id,
			 "proto", mapping_proto_name(m->proto),
			 "address", m->address,
			 "shared_port", (json_int_t)m->shared_port,
			 "assigned_port", (json_int_t)m->assigned_port,
			 "enabled", (int)m->enabled,
			 "comment", m->comment);
}

json_t *mapjson_config_encode(uint64_t version, const struct mapping *rows,
			      size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < n; i++) {
		if (json_array_append_new(list, mapjson_encode_row(&rows[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return json_pack("{s:I, s:o}", "version", (json_int_t)version,
			 "mappings", list);
}

const char *mapjson_iso_time(int64_t t, char buf[MAPJSON_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, MAPJSON_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return buf;
}
