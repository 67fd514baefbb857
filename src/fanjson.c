/*
 * fanjson: contested ports and subscribers as the REST API reads and
 * writes them (see fanjson.h).  Each resource has one field table: the
 * fields a request may carry, with their JSON type, whether POST and PUT
 * require them, whether null is a value, and how each is stored.  Plain
 * numbers need no code of their own: the table gives the member's offset,
 * size and range.  Unknown, missing and mistyped fields are all found by
 * walking a table, before any value is looked at.  Nothing here does I/O
 * or logs; inet_pton and inet_ntop only convert.
 */
#include "fanjson.h"
#include "mapjson.h"
#include "util.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

enum kind { KIND_STRING, KIND_INTEGER, KIND_BOOLEAN };

static const char *const fanjson_kind_names[] = {
	[KIND_STRING] = "a string",
	[KIND_INTEGER] = "an integer",
	[KIND_BOOLEAN] = "a boolean",
};

struct field;

/* Stores v, of the field's type (or null when the field is nullable), into obj. */
typedef bool field_apply_fn(void *obj, const struct field *f, json_t *v,
			    struct mapping_error *err);

struct field {
	const char *name;
	enum kind kind;
	bool required;        /* by POST and PUT; PATCH requires nothing */
	bool nullable;        /* null is a value: "none" */
	field_apply_fn *apply;
	size_t offset, size;  /* the member apply stores into */
	int64_t min, max;     /* an integer's range */
	const char *code;     /* the 422's code when out of range */
};

/* The member a field stores into. */
static void *fanjson_member(void *obj, const struct field *f)
{
	return (char *)obj + f->offset;
}

/*
 * json_int_t is 64 bits wide and the members 16 or 32, so the range is
 * checked here on the wide value; a plain assignment would turn -1 or
 * 65536 into a number that looks valid.
 */
static bool fanjson_apply_uint(void *obj, const struct field *f, json_t *v,
			       struct mapping_error *err)
{
	json_int_t n = json_integer_value(v);
	void *dst = fanjson_member(obj, f);
	uint16_t u16 = (uint16_t)n;
	uint32_t u32 = (uint32_t)n;

	if (n < f->min || n > f->max)
		return mapping_fail(err, 422, f->code, f->name,
				    "%s %" JSON_INTEGER_FORMAT " is outside %" PRId64
				    "..%" PRId64, f->name, n, f->min, f->max);
	if (f->size == 2)
		memcpy(dst, &u16, 2);
	else
		memcpy(dst, &u32, 4);
	return true;
}

static bool fanjson_apply_bool(void *obj, const struct field *f, json_t *v,
			       struct mapping_error *err)
{
	(void)err;
	*(bool *)fanjson_member(obj, f) = json_is_true(v);
	return true;
}

/*
 * The object's id (at the field's offset) holds the URL's id, 0 for POST,
 * so a body may only repeat it.
 */
static bool fanjson_apply_id(void *obj, const struct field *f, json_t *v,
			     struct mapping_error *err)
{
	int64_t id;

	memcpy(&id, fanjson_member(obj, f), sizeof(id));
	if (id != 0 && json_integer_value(v) == id)
		return true;
	return mapping_fail(err, 400, "id_mismatch", f->name, id == 0 ?
			    "id is assigned by the server and must not be sent" :
			    "id in the body differs from the id in the URL");
}

/* An IPv4 or IPv6 literal into family and 16 bytes (IPv4 in the first 4). */
static bool fanjson_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
	uint8_t bin[16] = { 0 };

	if (inet_pton(AF_INET, s, bin) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, bin) == 1)
		*family = AF_INET6;
	else
		return false;
	memcpy(addr, bin, sizeof(bin));
	return true;
}

/* A contested port's address: null for every local address, or a literal. */
static bool fanjson_apply_port_address(void *obj, const struct field *f,
				       json_t *v, struct mapping_error *err)
{
	struct fctl_port *p = obj;

	if (json_is_null(v)) {
		p->family = 0;
		memset(p->addr, 0, sizeof(p->addr));
		return true;
	}
	if (!fanjson_addr_parse(json_string_value(v), &p->family, p->addr))
		return mapping_fail(err, 422, "invalid_address", f->name,
				    "address must be an IPv4 or IPv6 address, "
				    "or null for every local address");
	return true;
}

static bool fanjson_apply_mode(void *obj, const struct field *f, json_t *v,
			       struct mapping_error *err)
{
	struct fctl_sub_view *s = obj;

	if (fctl_mode_parse(json_string_value(v), &s->s.mode))
		return true;
	return mapping_fail(err, 422, "invalid_mode", f->name,
			    "mode must be \"raw\", \"spoof\", \"framed_udp\", "
			    "\"framed_tcp\" or \"framed_unix\"");
}

/*
 * A subscriber's address is read in the light of its mode, which the
 * table applies first: a socket path for framed_unix, an IP literal for
 * the others.  fanjson_sub_check catches a mode changed without its
 * address.
 */
static bool fanjson_apply_sub_address(void *obj, const struct field *f,
				      json_t *v, struct mapping_error *err)
{
	struct fctl_sub_view *s = obj;
	const char *text = json_string_value(v);
	size_t len = json_string_length(v);

	if (s->s.mode != FCTL_FRAMED_UNIX) {
		if (!fanjson_addr_parse(text, &s->s.family, s->s.addr))
			return mapping_fail(err, 422, "invalid_address", f->name,
					    "address must be an IPv4 or IPv6 "
					    "address for mode %s",
					    fctl_mode_name(s->s.mode));
		memset(s->s.path, 0, sizeof(s->s.path));
		return true;
	}
	/* A NUL inside would cut the path short without anyone noticing. */
	if (text[0] != '/' || len >= sizeof(s->s.path) || strlen(text) != len)
		return mapping_fail(err, 422, "invalid_address", f->name,
				    "address must be an absolute socket path of "
				    "at most %zu bytes for mode framed_unix",
				    sizeof(s->s.path) - 1);
	s->s.family = AF_UNIX;
	memset(s->s.addr, 0, sizeof(s->s.addr));
	memset(s->s.path, 0, sizeof(s->s.path));
	memcpy(s->s.path, text, len);
	return true;
}

/* The contested port's number, for the caller to resolve (fanjson.h). */
static bool fanjson_apply_contested(void *obj, const struct field *f,
				    json_t *v, struct mapping_error *err)
{
	struct fctl_sub_view *s = obj;

	if (!fanjson_apply_uint(obj, f, v, err))
		return false;
	s->s.port_id = 0;
	return true;
}

/* A field stored by its own function, which knows where. */
#define FIELD(name, kind, req, nullable, fn) \
	{ name, kind, req, nullable, fn, 0, 0, 0, 0, NULL }
/* A field whose member the table names: an id, a number, a flag. */
#define MEMBER(name, kind, req, fn, type, member, min, max, code)           \
	{ name, kind, req, false, fn, offsetof(type, member),                \
	  sizeof(((type *)0)->member), min, max, code }

static const struct field fanjson_port_fields[] = {
	MEMBER("id", KIND_INTEGER, false, fanjson_apply_id, struct fctl_port,
	       id, 0, 0, NULL),
	MEMBER("port", KIND_INTEGER, true, fanjson_apply_uint, struct fctl_port,
	       port, 1, 65535, "invalid_port"),
	FIELD("address", KIND_STRING, false, true, fanjson_apply_port_address),
	MEMBER("registration_port", KIND_INTEGER, false, fanjson_apply_uint,
	       struct fctl_port, registration_port, 1, 65535,
	       "invalid_registration_port"),
	MEMBER("enabled", KIND_BOOLEAN, false, fanjson_apply_bool,
	       struct fctl_port, enabled, 0, 0, NULL),
};

/* The mode comes before address and port, which are read in its light. */
static const struct field fanjson_sub_fields[] = {
	MEMBER("id", KIND_INTEGER, false, fanjson_apply_id,
	       struct fctl_sub_view, s.id, 0, 0, NULL),
	MEMBER("contested_port", KIND_INTEGER, true, fanjson_apply_contested,
	       struct fctl_sub_view, contested_port, 1, 65535, "invalid_port"),
	FIELD("mode", KIND_STRING, false, false, fanjson_apply_mode),
	FIELD("address", KIND_STRING, true, false, fanjson_apply_sub_address),
	/* Required by POST and PUT unless the mode is framed_unix; see below. */
	MEMBER("port", KIND_INTEGER, false, fanjson_apply_uint,
	       struct fctl_sub_view, s.port, 0, 65535, "invalid_port"),
	MEMBER("sample_every", KIND_INTEGER, false, fanjson_apply_uint,
	       struct fctl_sub_view, s.sample_every, 1, FANJSON_SAMPLE_MAX,
	       "invalid_sample_every"),
};

static bool fanjson_kind_is(const struct field *f, const json_t *v)
{
	if (f->nullable && json_is_null(v))
		return true;
	switch (f->kind) {
	case KIND_STRING:
		return json_is_string(v);
	case KIND_INTEGER:
		return json_is_integer(v);
	case KIND_BOOLEAN:
		return json_is_boolean(v);
	}
	return false;
}

/* Checks obj's shape against the table: the 400s, before any value. */
static bool fanjson_shape(json_t *obj, const struct field *fields, size_t n,
			  bool partial, struct mapping_error *err)
{
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(obj))
		return mapping_fail(err, 400, "not_object", "",
				    "the request body must be a JSON object");
	json_object_foreach(obj, key, v) {
		for (i = 0; i < n && strcmp(fields[i].name, key) != 0; i++)
			;
		if (i == n)
			return mapping_fail(err, 400, "unknown_field", key,
					    "unknown field \"%.64s\"", key);
	}
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, fields[i].name);
		if (v == NULL && fields[i].required && !partial)
			return mapping_fail(err, 400, "missing_field",
					    fields[i].name, "%s is required",
					    fields[i].name);
		if (v != NULL && !fanjson_kind_is(&fields[i], v))
			return mapping_fail(err, 400, "invalid_type",
					    fields[i].name, "%s must be %s%s",
					    fields[i].name,
					    fanjson_kind_names[fields[i].kind],
					    fields[i].nullable ? " or null" : "");
	}
	return true;
}

/* Applies the fields obj carries, in the table's order. */
static bool fanjson_values(json_t *obj, const struct field *fields, size_t n,
			   void *target, struct mapping_error *err)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, fields[i].name);

		if (v != NULL && !fields[i].apply(target, &fields[i], v, err))
			return false;
	}
	return true;
}

void fanjson_port_defaults(struct fctl_port *p)
{
	memset(p, 0, sizeof(*p));
	p->enabled = true;
}

bool fanjson_port_apply(json_t *obj, struct fctl_port *p, bool partial,
			struct mapping_error *err)
{
	if (!fanjson_shape(obj, fanjson_port_fields,
			   ARRAY_LEN(fanjson_port_fields), partial, err) ||
	    !fanjson_values(obj, fanjson_port_fields,
			    ARRAY_LEN(fanjson_port_fields), p, err))
		return false;
	/*
	 * The seed's Table 1 pairs each contested port with one 13000 above
	 * it; derived here rather than by fctl so that the answer to a PUT
	 * shows the port it will actually use.
	 */
	if (!partial && json_object_get(obj, "registration_port") == NULL) {
		if (p->port > 65535 - FCTL_REGISTRATION_OFFSET)
			return mapping_fail(err, 422,
					    "invalid_registration_port",
					    "registration_port",
					    "port %u + %d passes 65535: give a "
					    "registration_port", (unsigned)p->port,
					    FCTL_REGISTRATION_OFFSET);
		p->registration_port =
			(uint16_t)(p->port + FCTL_REGISTRATION_OFFSET);
	}
	if (p->registration_port == p->port)
		return mapping_fail(err, 422, "invalid_registration_port",
				    "registration_port",
				    "registration_port must differ from port");
	return true;
}

void fanjson_sub_defaults(struct fctl_sub_view *v)
{
	memset(v, 0, sizeof(*v));
	v->s.mode = FCTL_RAW;
	v->s.sample_every = 1;
}

/*
 * Whether a POST or PUT body needs a port: every mode but framed_unix
 * does.  Read from the body's own text, so that it is a shape check (400)
 * found before any value; a mode that is no mode is the value error it
 * will be reported as.
 */
static bool fanjson_needs_port(json_t *obj)
{
	const char *mode = json_string_value(json_object_get(obj, "mode"));

	return mode == NULL || strcmp(mode, fctl_mode_name(FCTL_FRAMED_UNIX)) != 0;
}

/* The row as a whole: address and port agree with the mode. */
static bool fanjson_sub_check(const struct fctl_sub *s, struct mapping_error *err)
{
	if (s->mode == FCTL_FRAMED_UNIX) {
		if (s->family != AF_UNIX)
			return mapping_fail(err, 422, "invalid_address", "address",
					    "mode framed_unix needs an absolute "
					    "socket path as address");
		if (s->port != 0)
			return mapping_fail(err, 422, "invalid_port", "port",
					    "port must be 0 or absent for mode "
					    "framed_unix");
		return true;
	}
	if (s->family != AF_INET && s->family != AF_INET6)
		return mapping_fail(err, 422, "invalid_address", "address",
				    "mode %s needs an IPv4 or IPv6 address",
				    fctl_mode_name(s->mode));
	if (s->port == 0)
		return mapping_fail(err, 422, "invalid_port", "port",
				    "mode %s needs a port in 1..65535",
				    fctl_mode_name(s->mode));
	return true;
}

bool fanjson_sub_apply(json_t *obj, struct fctl_sub_view *v, bool partial,
		       struct mapping_error *err)
{
	if (!fanjson_shape(obj, fanjson_sub_fields, ARRAY_LEN(fanjson_sub_fields),
			   partial, err))
		return false;
	if (!partial && json_object_get(obj, "port") == NULL &&
	    fanjson_needs_port(obj))
		return mapping_fail(err, 400, "missing_field", "port",
				    "port is required unless mode is framed_unix");
	return fanjson_values(obj, fanjson_sub_fields,
			      ARRAY_LEN(fanjson_sub_fields), v, err) &&
	       fanjson_sub_check(&v->s, err);
}

/* ---- encoding --------------------------------------------------------- */

/* An address as text, or NULL (JSON null) for family 0. */
static const char *fanjson_addr_format(uint8_t family, const uint8_t addr[16],
				       char buf[INET6_ADDRSTRLEN])
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return inet_ntop(family, addr, buf, INET6_ADDRSTRLEN);
}

json_t *fanjson_port_encode(const struct fctl_port_view *v)
{
	char addr[INET6_ADDRSTRLEN];

	return json_pack("{s:I, s:i, s:s?, s:i, s:b, s:I, s:I, s:I}",
			 "id", (json_int_t)v->p.id,
			 "port", (int)v->p.port,
			 "address", fanjson_addr_format(v->p.family, v->p.addr, addr),
			 "registration_port", (int)v->p.registration_port,
			 "enabled", (int)v->p.enabled,
			 "subscribers", (json_int_t)v->nsubs,
			 "datagrams", (json_int_t)v->c.datagrams,
			 "bytes", (json_int_t)v->c.bytes);
}

json_t *fanjson_sub_encode(const struct fctl_sub_view *v)
{
	const struct fctl_sub *s = &v->s;
	char addr[INET6_ADDRSTRLEN], sent[MAPJSON_TIME_LEN];

	return json_pack("{s:I, s:i, s:s?, s:i, s:s, s:I, s:b, s:I, s:I, s:I,"
			 " s:I, s:s?}",
			 "id", (json_int_t)s->id,
			 "contested_port", (int)v->contested_port,
			 "address", s->family == AF_UNIX
				 ? s->path
				 : fanjson_addr_format(s->family, s->addr, addr),
			 "port", (int)s->port,
			 "mode", fctl_mode_name(s->mode),
			 "sample_every", (json_int_t)s->sample_every,
			 "registered", (int)s->registered,
			 "copies", (json_int_t)v->c.copies,
			 "bytes", (json_int_t)v->c.bytes,
			 "errors", (json_int_t)v->c.errors,
			 "drops", (json_int_t)v->c.drops,
			 "last_sent", mapjson_iso_time(v->c.last_sent, sent));
}
