/*
 * jsonfield: the field-table engine behind the REST API's request bodies.
 * A resource describes the fields a request may carry in one table: each
 * field's JSON type, whether POST and PUT require it, whether null is a
 * value, and the function that stores it.  Plain numbers, flags and ids
 * need no code of their own: the table gives the member's offset, size and
 * range, and the generic appliers below store them.  mapjson, groupjson
 * and fanjson share it, so that every resource answers a bad body with the
 * same errors.  Pure: no I/O and no logging.
 *
 * The rules, as mapjson_apply states them: with partial false (POST, PUT)
 * the required fields must all be there, with partial true (PATCH) only
 * the given fields change; every shape error (400: not_object,
 * unknown_field, missing_field, invalid_type) is found before any value
 * error, which the appliers report (422 naming the field, or 400
 * id_mismatch).  err->field may point into obj, so obj must outlive err.
 */
#ifndef PORTSHARE_JSONFIELD_H
#define PORTSHARE_JSONFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mapping.h"

/* The JSON type a field must have. */
enum jsonfield_kind {
	JSONFIELD_STRING,
	JSONFIELD_INTEGER,
	JSONFIELD_BOOLEAN,
};

struct jsonfield;

/*
 * Stores v, of the field's type (or null when the field is nullable), into
 * obj.  Returns false with err filled when the value is refused.
 */
typedef bool jsonfield_apply_fn(void *obj, const struct jsonfield *f,
				json_t *v, struct mapping_error *err);

struct jsonfield {
	const char *name;
	enum jsonfield_kind kind;
	bool required;              /* by POST and PUT; PATCH requires nothing */
	bool nullable;              /* null is a value: "none" */
	jsonfield_apply_fn *apply;
	size_t offset, size;        /* the member apply stores into */
	int64_t min, max;           /* an integer's range */
	const char *code;           /* the 422's code when out of range, or
				     * NULL for "invalid_value" */
};

/* A field stored by its own function, which knows where. */
#define JSONFIELD_CUSTOM(name, kind, req, nullable, fn) \
	{ name, kind, req, nullable, fn, 0, 0, 0, 0, NULL }

/*
 * A field whose member the table names: an id, a number, a flag, a string.
 * code is the 422's code when an integer is out of min..max (NULL for
 * "invalid_value").
 */
#define JSONFIELD_MEMBER(name, kind, req, fn, type, member, min, max, code) \
	{ name, kind, req, false, fn, offsetof(type, member),                \
	  sizeof(((type *)0)->member), min, max, code }

/* The member of obj that f stores into. */
void *jsonfield_member(void *obj, const struct jsonfield *f);

/*
 * Stores an integer into an unsigned member of 1, 2, 4 or 8 bytes.
 * Returns false with err filled (422 f->code or invalid_value) when it is
 * outside f->min..f->max.
 */
bool jsonfield_apply_uint(void *obj, const struct jsonfield *f, json_t *v,
			  struct mapping_error *err);

/* Stores a boolean into a bool member; never fails. */
bool jsonfield_apply_bool(void *obj, const struct jsonfield *f, json_t *v,
			  struct mapping_error *err);

/*
 * Checks an id against the int64_t member, which holds the URL's id (0
 * for POST): a body may only repeat it.  Returns false with err filled
 * (400 id_mismatch) otherwise.
 */
bool jsonfield_apply_id(void *obj, const struct jsonfield *f, json_t *v,
			struct mapping_error *err);

/*
 * Reads an address field that may be null: null stores family 0 and a
 * zero address (any local address), a string is parsed as an IPv4 or IPv6
 * literal.  Returns false for any other string, which the caller refuses
 * with its own wording.
 */
bool jsonfield_addr_or_any(json_t *v, uint8_t *family, uint8_t addr[16]);

/*
 * Checks obj's shape against the n fields: an object, no unknown field,
 * every required field there unless partial, every field of its type.
 * Returns false with err filled (400) at the first fault.
 */
bool jsonfield_shape(json_t *obj, const struct jsonfield *fields, size_t n,
		     bool partial, struct mapping_error *err);

/*
 * Applies the fields obj carries onto target, in the table's order, so a
 * field may read one the table lists before it.  Returns false with err
 * filled by the first applier that refuses its value.
 */
bool jsonfield_values(json_t *obj, const struct jsonfield *fields, size_t n,
		      void *target, struct mapping_error *err);

/* jsonfield_shape, then jsonfield_values: every 400 before any 422. */
bool jsonfield_apply(json_t *obj, const struct jsonfield *fields, size_t n,
		     void *target, bool partial, struct mapping_error *err);

#endif
