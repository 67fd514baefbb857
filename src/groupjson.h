/*
 * groupjson: virtual port multiplexing's resources as the REST API reads
 * and writes them: groups, backends, source rules and flows.  A request
 * object is checked against its resource's field table and applied onto
 * the struct the control plane takes; a row with its live counters is
 * encoded as the object the API answers with.  The CIDR and port-range
 * parsers live here too.  Pure: no I/O and no logging, so the unit tests
 * and a fuzzer link it as it is.
 *
 * Every apply function follows mapjson_apply's rules: with partial false
 * (POST, PUT) the required fields must all be there, with partial true
 * (PATCH) only the given fields change; "id" may only repeat the URL's id;
 * counters and other fields the API only shows are unknown fields; every
 * shape error (400: not_object, unknown_field, missing_field,
 * invalid_type, id_mismatch) is found before any value error (422, which
 * names the field).  They return false with err filled and the target
 * possibly half changed; err->field may point into obj, so obj must
 * outlive err.
 */
#ifndef PORTSHARE_GROUPJSON_H
#define PORTSHARE_GROUPJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gctl.h"
#include "groups.h"
#include "mapping.h"

/* The limits the API puts on a group's and a backend's numbers. */
#define GROUPJSON_MAX_WAIT_MS 600000
#define GROUPJSON_MAX_FLOWS 1000000

/* Room for "ffff:...:ffff/128" and its NUL. */
#define GROUPJSON_CIDR_LEN 52
/* Room for "65535-65535" and its NUL. */
#define GROUPJSON_PORTS_LEN 12

/*
 * Resets g to what POST and PUT start from: proto tcp, round robin, no
 * wait, reset on timeout, not the default, any local address.  The caller
 * sets the URL's id.
 */
void groupjson_group_defaults(struct groups_group *g);

/*
 * Applies a group object onto g (see the top of this file).  With partial
 * false, an absent aid becomes the name.  g->id must hold the URL's id, or
 * 0 for POST.
 */
bool groupjson_group_apply(json_t *obj, struct groups_group *g, bool partial,
			   struct mapping_error *err);

/* Resets v to what POST and PUT start from: weight 1, no limit, active. */
void groupjson_backend_defaults(struct gctl_backend_view *v);

/*
 * Applies a backend object onto v->b (see the top of this file).  A body
 * that names a group copies the name into v->group and sets
 * v->b.group_id to 0: the caller resolves the name, under the same lock
 * as its write.  v->b.b.id must hold the URL's id, or 0 for POST.
 */
bool groupjson_backend_apply(json_t *obj, struct gctl_backend_view *v,
			     bool partial, struct mapping_error *err);

/* Resets v to what POST and PUT start from: no port range. */
void groupjson_rule_defaults(struct gctl_rule_view *v);

/* Applies a rule object onto v->r, naming its group as backends do. */
bool groupjson_rule_apply(json_t *obj, struct gctl_rule_view *v, bool partial,
			  struct mapping_error *err);

/*
 * Parses an IPv4 or IPv6 address, optionally followed by "/prefix" (a
 * bare address is a host route: /32 or /128).  The prefix is decimal
 * without a sign or leading zeros.  The bits past the prefix are cleared,
 * so equal networks compare equal.  Returns false with err filled (422
 * invalid_cidr, naming field) for anything else.
 */
bool groupjson_cidr_parse(const char *s, const char *field, uint8_t *family,
			  uint8_t addr[16], uint8_t *prefix_len,
			  struct mapping_error *err);

/* Writes "address/prefix" into buf and returns buf. */
const char *groupjson_cidr_format(uint8_t family, const uint8_t addr[16],
				  uint8_t prefix_len,
				  char buf[GROUPJSON_CIDR_LEN]);

/*
 * Parses "lo-hi" or a single port "p" (lo = hi = p), each in 1..65535 and
 * lo <= hi, decimal without a sign or leading zeros.  Returns false with
 * err filled (422 invalid_ports, naming field) for anything else.
 */
bool groupjson_ports_parse(const char *s, const char *field, uint16_t *lo,
			   uint16_t *hi, struct mapping_error *err);

/* Writes "lo-hi", or "p" when lo = hi, into buf and returns buf. */
const char *groupjson_ports_format(uint16_t lo, uint16_t hi,
				   char buf[GROUPJSON_PORTS_LEN]);

/*
 * Returns the backend object, or NULL when out of memory or when a string
 * in v is not valid UTF-8.
 */
json_t *groupjson_backend_encode(const struct gctl_backend_view *v);

/*
 * Returns the group object with its counters and, under "backends", those
 * of b[0..nb-1] that belong to it (in their order), or NULL.
 */
json_t *groupjson_group_encode(const struct gctl_group_view *v,
			       const struct gctl_backend_view *b, size_t nb);

/* Returns the rule object, or NULL. */
json_t *groupjson_rule_encode(const struct gctl_rule_view *v);

/*
 * Returns the flow object, or NULL.  now is the flow clock (CLOCK_MONOTONIC
 * seconds, truncated to 32 bits like the entry's times), which the caller
 * reads: the ages are now minus the entry's times, modulo 2^32.
 */
json_t *groupjson_flow_encode(const struct gflows_view *f, uint32_t now);

#endif
