/*
 * mapping: the port-sharing table's row, its validation and the conflict
 * rules between rows.  Pure: no I/O, so the store, the API and the unit tests
 * share one definition of what a valid table is.
 */
#ifndef PORTSHARE_MAPPING_H
#define PORTSHARE_MAPPING_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocols are a bit set so that "both" overlaps "tcp" and "udp". */
enum mapping_proto {
	MAPPING_TCP = 1,
	MAPPING_UDP = 2,
	MAPPING_BOTH = 3,
};

#define MAPPING_ADDRESS_MAX 254 /* a DNS name is at most 253 characters */
#define MAPPING_COMMENT_MAX 256

struct mapping {
	int64_t id;            /* 0 until stored */
	unsigned proto;        /* enum mapping_proto */
	char address[MAPPING_ADDRESS_MAX]; /* canonical literal or lower-case name */
	int family;            /* AF_INET, AF_INET6, or 0 for a domain name */
	uint32_t shared_port;  /* wider than 16 bits so 0 and 65536 can be rejected */
	uint32_t assigned_port;
	bool enabled;
	char comment[MAPPING_COMMENT_MAX];
};

/*
 * One precise complaint about a mapping.  status is the HTTP status an API
 * answers with (400, 404, 409, 422); code is a short machine-readable word;
 * field names the offending request field or is "" when none applies.
 */
struct mapping_error {
	int status;
	const char *code;
	const char *field;
	char message[256];
};

/* Fills err; always returns false so callers can write `return mapping_fail(...)`. */
bool mapping_fail(struct mapping_error *err, int status, const char *code,
		  const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "tcp", "udp", "both"; returns false for anything else. */
bool mapping_proto_parse(const char *s, unsigned *proto);
/* The name of a protocol, or "unknown" (never NULL) outside the enum. */
const char *mapping_proto_name(unsigned proto);

/*
 * Parses an IPv4 or IPv6 literal into family and 16 bytes (IPv4 in the
 * first 4, the rest zero): the binary form groups, fan-out and the store
 * keep.  Returns false for anything else, leaving family and addr untouched.
 */
bool mapping_addr_parse(const char *s, uint8_t *family, uint8_t addr[16]);

/*
 * Clears the bytes of addr that family does not use (all of them for 0),
 * so that equal addresses are equal bytes, in the store and in service
 * keys alike.
 */
void mapping_addr_clean(uint8_t family, uint8_t addr[16]);

/*
 * family and addr as a literal in buf, or NULL for family 0, which stands
 * for any local address and which the API shows as null.
 */
const char *mapping_addr_text(uint8_t family, const uint8_t addr[16],
			      char buf[INET6_ADDRSTRLEN]);

/*
 * Canonicalises an address: an IPv4 or IPv6 literal becomes its inet_ntop
 * form and family is set; a syntactically valid domain name (RFC 1123 labels)
 * is lower-cased and family is 0.  Returns false with err filled (field
 * "address") for anything else, leaving out untouched.  out may be in.
 */
bool mapping_normalize_address(const char *in, char out[MAPPING_ADDRESS_MAX],
			       int *family, struct mapping_error *err);

/*
 * Checks one mapping on its own: proto set, address canonical (it
 * normalises m->address in place), ports in 1..65535, shared != assigned,
 * comment length.  Returns false with err filled (422 for semantic errors).
 */
bool mapping_validate(struct mapping *m, struct mapping_error *err);

/*
 * Checks m against the rest of the table (rows with m->id are ignored, so an
 * update can be checked against the table that holds its old version).  For
 * overlapping protocols on the same address it rejects, with 409:
 * - the same shared port (a duplicate);
 * - the same assigned port (the reverse lookup would be ambiguous);
 * - a shared port that is another row's assigned port or the other way round
 *   (one packet would match two rows).
 */
bool mapping_check_conflicts(const struct mapping *m, const struct mapping *rows,
			     size_t n, struct mapping_error *err);

#endif
