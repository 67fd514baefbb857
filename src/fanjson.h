/*
 * fanjson: UDP fan-out's resources as the REST API reads and writes them:
 * contested ports and their subscribers.  A request object is checked
 * against its resource's field table and applied onto the struct fctl
 * takes; a row with its live counters is encoded as the object the API
 * answers with.  Pure: no I/O and no logging, so the unit tests and a
 * fuzzer link it as it is.
 *
 * Both apply functions follow mapjson_apply's rules: with partial false
 * (POST, PUT) the required fields must all be there, with partial true
 * (PATCH) only the given fields change; "id" may only repeat the URL's id;
 * counters and other fields the API only shows are unknown fields; every
 * shape error (400: not_object, unknown_field, missing_field,
 * invalid_type, id_mismatch) is found before any value error (422, which
 * names the field).  They return false with err filled and the target
 * possibly half changed; err->field may point into obj, so obj must
 * outlive err.
 */
#ifndef PORTSHARE_FANJSON_H
#define PORTSHARE_FANJSON_H

#include <stdbool.h>

#include <jansson.h>

#include "fctl.h"
#include "mapping.h"

/* The most a subscriber's sample_every may be: one datagram in a million. */
#define FANJSON_SAMPLE_MAX 1000000

/*
 * Resets p to what POST and PUT start from: every local address, enabled,
 * the registration port left for fanjson_port_apply to derive.  The caller
 * sets the URL's id.
 */
void fanjson_port_defaults(struct fctl_port *p);

/*
 * Applies a contested port object onto p (see the top of this file).
 * "address" is null (every local address) or an IPv4 or IPv6 literal.
 * With partial false, an absent registration_port becomes port +
 * FCTL_REGISTRATION_OFFSET, and 422 names registration_port when that
 * passes 65535.  p->id must hold the URL's id, or 0 for POST.
 */
bool fanjson_port_apply(json_t *obj, struct fctl_port *p, bool partial,
			struct mapping_error *err);

/* Resets v to what POST and PUT start from: mode raw, every datagram. */
void fanjson_sub_defaults(struct fctl_sub_view *v);

/*
 * Applies a subscriber object onto v->s (see the top of this file).  A
 * body that names its contested port (the port number, "contested_port")
 * sets v->contested_port and clears v->s.port_id to say so: the caller
 * resolves the number (fctl_port_by_number), under the same lock as its
 * write.  "address" is an IP literal, or for mode framed_unix an absolute
 * socket path; "port" is required (400) unless the body's mode is
 * framed_unix, and must then be 0 or absent.  Once applied, the row is
 * checked as a whole (422 naming address or port), so that a PATCH of the
 * mode alone cannot leave an IP subscriber without a port or a Unix one
 * with an address.  v->s.id must hold the URL's id, or 0 for POST.
 */
bool fanjson_sub_apply(json_t *obj, struct fctl_sub_view *v, bool partial,
		       struct mapping_error *err);

/*
 * Returns {id, port, address, registration_port, enabled, subscribers,
 * datagrams, bytes}, or NULL when out of memory.
 */
json_t *fanjson_port_encode(const struct fctl_port_view *v);

/*
 * Returns {id, contested_port, address, port, mode, sample_every,
 * registered, copies, bytes, errors, drops, last_sent}, or NULL when out
 * of memory or when a socket path is not valid UTF-8.
 */
json_t *fanjson_sub_encode(const struct fctl_sub_view *v);

#endif
