/*
 * fanjson: contested ports and subscribers as the REST API reads and
 * writes them (see fanjson.h).  Each resource has one field table: the
 * fields a request may carry, with their JSON type, whether POST and PUT
 * require them, whether null is a value, and how each is stored; jsonfield
 * walks it and stores the plain numbers, flags and ids, so only the
 * values with rules of their own have code here.  Nothing here does I/O
 * or logs; inet_pton and inet_ntop only convert.
 */
#include "fanjson.h"
#include "jsonfield.h"
#include "mapjson.h"
#include "util.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* A contested port's address: null for every local address, or a literal. */
static bool fanjson_apply_port_address(void *obj, const struct jsonfield *f,
				       json_t *v, struct mapping_error *err)
{
	struct fctl_port *p = obj;

	if (!jsonfield_addr_or_any(v, &p->family, p->addr))
		return mapping_fail(err, 422, "invalid_address", f->name,
				    "address must be an IPv4 or IPv6 address, "
				    "or null for every local address");
	return true;
}

static bool fanjson_apply_mode(void *obj, const struct jsonfield *f, json_t *v,
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
static bool fanjson_apply_sub_address(void *obj, const struct jsonfield *f,
				      json_t *v, struct mapping_error *err)
{
	struct fctl_sub_view *s = obj;
	const char *text = json_string_value(v);
	size_t len = json_string_length(v);

	if (s->s.mode != FCTL_FRAMED_UNIX) {
		if (!mapping_addr_parse(text, &s->s.family, s->s.addr))
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
static bool fanjson_apply_contested(void *obj, const struct jsonfield *f,
				    json_t *v, struct mapping_error *err)
{
	struct fctl_sub_view *s = obj;

	if (!jsonfield_apply_uint(obj, f, v, err))
		return false;
	s->s.port_id = 0;
	return true;
}

static const struct jsonfield fanjson_port_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct fctl_port, id, 0, 0, NULL),
	JSONFIELD_MEMBER("port", JSONFIELD_INTEGER, true, jsonfield_apply_uint,
			 struct fctl_port, port, 1, 65535, "invalid_port"),
	JSONFIELD_CUSTOM("address", JSONFIELD_STRING, false, true,
			 fanjson_apply_port_address),
	JSONFIELD_MEMBER("registration_port", JSONFIELD_INTEGER, false,
			 jsonfield_apply_uint, struct fctl_port,
			 registration_port, 1, 65535,
			 "invalid_registration_port"),
	JSONFIELD_MEMBER("enabled", JSONFIELD_BOOLEAN, false,
			 jsonfield_apply_bool, struct fctl_port, enabled, 0, 0,
			 NULL),
};

/* The mode comes before address and port, which are read in its light. */
static const struct jsonfield fanjson_sub_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct fctl_sub_view, s.id, 0, 0, NULL),
	JSONFIELD_MEMBER("contested_port", JSONFIELD_INTEGER, true,
			 fanjson_apply_contested, struct fctl_sub_view,
			 contested_port, 1, 65535, "invalid_port"),
	JSONFIELD_CUSTOM("mode", JSONFIELD_STRING, false, false,
			 fanjson_apply_mode),
	JSONFIELD_CUSTOM("address", JSONFIELD_STRING, true, false,
			 fanjson_apply_sub_address),
	/* Required by POST and PUT unless the mode is framed_unix; see below. */
	JSONFIELD_MEMBER("port", JSONFIELD_INTEGER, false, jsonfield_apply_uint,
			 struct fctl_sub_view, s.port, 0, 65535, "invalid_port"),
	JSONFIELD_MEMBER("sample_every", JSONFIELD_INTEGER, false,
			 jsonfield_apply_uint, struct fctl_sub_view,
			 s.sample_every, 1, FANJSON_SAMPLE_MAX,
			 "invalid_sample_every"),
};

void fanjson_port_defaults(struct fctl_port *p)
{
	memset(p, 0, sizeof(*p));
	p->enabled = true;
}

bool fanjson_port_apply(json_t *obj, struct fctl_port *p, bool partial,
			struct mapping_error *err)
{
	if (!jsonfield_apply(obj, fanjson_port_fields,
			     ARRAY_LEN(fanjson_port_fields), p, partial, err))
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
	if (!jsonfield_shape(obj, fanjson_sub_fields,
			     ARRAY_LEN(fanjson_sub_fields), partial, err))
		return false;
	if (!partial && json_object_get(obj, "port") == NULL &&
	    fanjson_needs_port(obj))
		return mapping_fail(err, 400, "missing_field", "port",
				    "port is required unless mode is framed_unix");
	return jsonfield_values(obj, fanjson_sub_fields,
				ARRAY_LEN(fanjson_sub_fields), v, err) &&
	       fanjson_sub_check(&v->s, err);
}

/* ---- encoding --------------------------------------------------------- */

json_t *fanjson_port_encode(const struct fctl_port_view *v)
{
	char addr[INET6_ADDRSTRLEN];

	return json_pack("{s:I, s:i, s:s?, s:i, s:b, s:I, s:I, s:I}",
			 "id", (json_int_t)v->p.id,
			 "port", (int)v->p.port,
			 "address", mapping_addr_text(v->p.family, v->p.addr, addr),
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
				 : mapping_addr_text(s->family, s->addr, addr),
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
