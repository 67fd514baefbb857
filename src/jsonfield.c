/*
 * jsonfield: the field-table engine (see jsonfield.h).  The walk looks at
 * the whole body's shape before it stores a single value, so a client
 * fixes its encoder before its data, and an unknown field is refused
 * rather than ignored, so a misspelt one never passes for an absent one.
 */
#include "jsonfield.h"

#include <inttypes.h>
#include <string.h>

static const char *const jsonfield_kind_names[] = {
	[JSONFIELD_STRING] = "a string",
	[JSONFIELD_INTEGER] = "an integer",
	[JSONFIELD_BOOLEAN] = "a boolean",
};

void *jsonfield_member(void *obj, const struct jsonfield *f)
{
	return (char *)obj + f->offset;
}

/*
 * Stores v into an unsigned member of 1, 2, 4 or 8 bytes; the table's
 * range has been checked, so v fits.
 */
static void jsonfield_store_uint(void *dst, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	if (size == 1)
		memcpy(dst, &u8, 1);
	else if (size == 2)
		memcpy(dst, &u16, 2);
	else if (size == 4)
		memcpy(dst, &u32, 4);
	else
		memcpy(dst, &v, 8);
}

/*
 * json_int_t is 64 bits wide and most members 16 or 32, so the range is
 * checked here on the wide value; a plain assignment would turn -1 or
 * 65536 into a number that looks valid.
 */
bool jsonfield_apply_uint(void *obj, const struct jsonfield *f, json_t *v,
			  struct mapping_error *err)
{
	json_int_t n = json_integer_value(v);

	if (n < f->min || n > f->max)
		return mapping_fail(err, 422,
				    f->code != NULL ? f->code : "invalid_value",
				    f->name,
				    "%s %" JSON_INTEGER_FORMAT " is outside %" PRId64
				    "..%" PRId64, f->name, n, f->min, f->max);
	jsonfield_store_uint(jsonfield_member(obj, f), f->size, (uint64_t)n);
	return true;
}

bool jsonfield_apply_bool(void *obj, const struct jsonfield *f, json_t *v,
			  struct mapping_error *err)
{
	(void)err;
	*(bool *)jsonfield_member(obj, f) = json_is_true(v);
	return true;
}

/*
 * The object's id (at the field's offset) holds the URL's id, 0 for POST,
 * so a body may only repeat it.
 */
bool jsonfield_apply_id(void *obj, const struct jsonfield *f, json_t *v,
			struct mapping_error *err)
{
	int64_t id;

	memcpy(&id, jsonfield_member(obj, f), sizeof(id));
	if (id != 0 && json_integer_value(v) == id)
		return true;
	return mapping_fail(err, 400, "id_mismatch", f->name, id == 0 ?
			    "id is assigned by the server and must not be sent" :
			    "id in the body differs from the id in the URL");
}

static bool jsonfield_kind_is(const struct jsonfield *f, const json_t *v)
{
	if (f->nullable && json_is_null(v))
		return true;
	switch (f->kind) {
	case JSONFIELD_STRING:
		return json_is_string(v);
	case JSONFIELD_INTEGER:
		return json_is_integer(v);
	case JSONFIELD_BOOLEAN:
		return json_is_boolean(v);
	}
	return false;
}

static const struct jsonfield *jsonfield_find(const struct jsonfield *fields,
					      size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

bool jsonfield_shape(json_t *obj, const struct jsonfield *fields, size_t n,
		     bool partial, struct mapping_error *err)
{
	const struct jsonfield *f;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return mapping_fail(err, 400, "not_object", "",
				    "the request body must be a JSON object");
	json_object_foreach(obj, key, v) {
		if (jsonfield_find(fields, n, key) == NULL)
			return mapping_fail(err, 400, "unknown_field", key,
					    "unknown field \"%.64s\"", key);
	}
	for (f = fields; f < fields + n; f++) {
		v = json_object_get(obj, f->name);
		if (v == NULL && f->required && !partial)
			return mapping_fail(err, 400, "missing_field", f->name,
					    "%s is required", f->name);
		if (v != NULL && !jsonfield_kind_is(f, v))
			return mapping_fail(err, 400, "invalid_type", f->name,
					    "%s must be %s%s", f->name,
					    jsonfield_kind_names[f->kind],
					    f->nullable ? " or null" : "");
	}
	return true;
}

bool jsonfield_values(json_t *obj, const struct jsonfield *fields, size_t n,
		      void *target, struct mapping_error *err)
{
	for (const struct jsonfield *f = fields; f < fields + n; f++) {
		json_t *v = json_object_get(obj, f->name);

		if (v != NULL && !f->apply(target, f, v, err))
			return false;
	}
	return true;
}

bool jsonfield_apply(json_t *obj, const struct jsonfield *fields, size_t n,
		     void *target, bool partial, struct mapping_error *err)
{
	return jsonfield_shape(obj, fields, n, partial, err) &&
	       jsonfield_values(obj, fields, n, target, err);
}

bool jsonfield_addr_or_any(json_t *v, uint8_t *family, uint8_t addr[16])
{
	if (json_is_null(v)) {
		*family = 0;
		memset(addr, 0, 16);
		return true;
	}
	return mapping_addr_parse(json_string_value(v), family, addr);
}
