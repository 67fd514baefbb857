/*
 * mapjson: a mapping as the REST API reads and writes it.  One table lists
 * the fields a request may carry, with their JSON type, whether POST and PUT
 * require them and the function that stores each one, so that unknown,
 * missing and mistyped fields are all found by walking that table.  Nothing
 * here does I/O or logs; api.c turns the errors into HTTP answers.
 */
#include "mapjson.h"

#include <string.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum kind { KIND_STRING, KIND_INTEGER, KIND_BOOLEAN };

static const char *const mapjson_kind_names[] = {
	[KIND_STRING] = "a string",
	[KIND_INTEGER] = "an integer",
	[KIND_BOOLEAN] = "a boolean",
};

struct field {
	const char *name;
	enum kind kind;
	bool required; /* by POST and PUT; PATCH requires nothing */
	bool (*apply)(struct mapping *m, const char *name, json_t *v,
		      struct mapping_error *err);
};

/* m->id holds the URL's id (0 for POST), so a body may only repeat it. */
static bool mapjson_apply_id(struct mapping *m, const char *name, json_t *v,
			     struct mapping_error *err)
{
	if (m->id != 0 && json_integer_value(v) == m->id)
		return true;
	return mapping_fail(err, 400, "id_mismatch", name, m->id == 0 ?
			    "id is assigned by the server and must not be sent" :
			    "id in the body differs from the id in the URL");
}

static bool mapjson_apply_proto(struct mapping *m, const char *name, json_t *v,
				struct mapping_error *err)
{
	if (mapping_proto_parse(json_string_value(v), &m->proto))
		return true;
	return mapping_fail(err, 422, "invalid_proto", name,
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

static bool mapjson_apply_address(struct mapping *m, const char *name,
				  json_t *v, struct mapping_error *err)
{
	return mapjson_copy_string(m->address, sizeof(m->address), name, v,
				   "invalid_address", err);
}

static bool mapjson_apply_comment(struct mapping *m, const char *name,
				  json_t *v, struct mapping_error *err)
{
	return mapjson_copy_string(m->comment, sizeof(m->comment), name, v,
				   "invalid_comment", err);
}

/*
 * json_int_t is 64 bits wide and the struct's ports 32, so the range is
 * checked here on the wide value; a plain assignment would turn -1 or
 * 4294967376 into a port that looks valid.
 */
static bool mapjson_apply_port(uint32_t *port, const char *name, json_t *v,
			       struct mapping_error *err)
{
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > 65535)
		return mapping_fail(err, 422, "invalid_port", name,
				    "%s %" JSON_INTEGER_FORMAT " is outside 1..65535",
				    name, n);
	*port = (uint32_t)n;
	return true;
}

static bool mapjson_apply_shared(struct mapping *m, const char *name, json_t *v,
				 struct mapping_error *err)
{
	return mapjson_apply_port(&m->shared_port, name, v, err);
}

static bool mapjson_apply_assigned(struct mapping *m, const char *name,
				   json_t *v, struct mapping_error *err)
{
	return mapjson_apply_port(&m->assigned_port, name, v, err);
}

static bool mapjson_apply_enabled(struct mapping *m, const char *name,
				  json_t *v, struct mapping_error *err)
{
	(void)name;
	(void)err;
	m->enabled = json_is_true(v);
	return true;
}

static const struct field mapjson_fields[] = {
	{ "id", KIND_INTEGER, false, mapjson_apply_id },
	{ "proto", KIND_STRING, false, mapjson_apply_proto },
	{ "address", KIND_STRING, true, mapjson_apply_address },
	{ "shared_port", KIND_INTEGER, true, mapjson_apply_shared },
	{ "assigned_port", KIND_INTEGER, true, mapjson_apply_assigned },
	{ "enabled", KIND_BOOLEAN, false, mapjson_apply_enabled },
	{ "comment", KIND_STRING, false, mapjson_apply_comment },
};

static const struct field *mapjson_field_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(mapjson_fields); i++) {
		if (strcmp(mapjson_fields[i].name, name) == 0)
			return &mapjson_fields[i];
	}
	return NULL;
}

static bool mapjson_kind_is(enum kind kind, const json_t *v)
{
	switch (kind) {
	case KIND_STRING:
		return json_is_string(v);
	case KIND_INTEGER:
		return json_is_integer(v);
	case KIND_BOOLEAN:
		return json_is_boolean(v);
	}
	return false;
}

void mapjson_defaults(struct mapping *m)
{
	memset(m, 0, sizeof(*m));
	m->proto = MAPPING_BOTH;
	m->enabled = true;
}

bool mapjson_apply(json_t *obj, struct mapping *m, bool partial,
		   struct mapping_error *err)
{
	const struct field *f;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return mapping_fail(err, 400, "not_object", "",
				    "the request body must be a JSON object");
	json_object_foreach(obj, key, v) {
		if (mapjson_field_find(key) == NULL)
			return mapping_fail(err, 400, "unknown_field", key,
					    "unknown field \"%.64s\"", key);
	}
	for (f = mapjson_fields;
	     f < mapjson_fields + ARRAY_LEN(mapjson_fields); f++) {
		v = json_object_get(obj, f->name);
		if (v == NULL && f->required && !partial)
			return mapping_fail(err, 400, "missing_field", f->name,
					    "%s is required", f->name);
		if (v != NULL && !mapjson_kind_is(f->kind, v))
			return mapping_fail(err, 400, "invalid_type", f->name,
					    "%s must be %s", f->name,
					    mapjson_kind_names[f->kind]);
	}
	for (f = mapjson_fields;
	     f < mapjson_fields + ARRAY_LEN(mapjson_fields); f++) {
		v = json_object_get(obj, f->name);
		if (v != NULL && !f->apply(m, f->name, v, err))
			return false;
	}
	return true;
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

const char *mapjson_iso_time(int64_t t, char buf[MAPJSON_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, MAPJSON_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return buf;
}
