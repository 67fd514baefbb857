/*
 * mapping: what a valid row of the port-sharing table is, and which rows may
 * not live together.  Everything here works on memory only (inet_pton and
 * inet_ntop are pure conversions), so the store, the API, the unit tests and
 * the fuzzer all link this file as it is.
 */
#include "mapping.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

/*
 * Quoted values are cut to this many bytes so that a long hostile value
 * cannot crowd out the explanation in a 256-byte message.
 */
#define QUOTE_MAX 64

static const struct {
	const char *name;
	unsigned proto;
} mapping_protos[] = {
	{ "tcp", MAPPING_TCP },
	{ "udp", MAPPING_UDP },
	{ "both", MAPPING_BOTH },
};

bool mapping_fail(struct mapping_error *err, int status, const char *code,
		  const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

bool mapping_proto_parse(const char *s, unsigned *proto)
{
	for (size_t i = 0; i < ARRAY_LEN(mapping_protos); i++) {
		if (strcmp(s, mapping_protos[i].name) == 0) {
			*proto = mapping_protos[i].proto;
			return true;
		}
	}
	return false;
}

/*
 * Returns "unknown" rather than NULL for a value outside the enum so that a
 * caller can always print the result; the store's CHECK constraint rejects
 * that word if it ever reaches the database.
 */
const char *mapping_proto_name(unsigned proto)
{
	for (size_t i = 0; i < ARRAY_LEN(mapping_protos); i++) {
		if (mapping_protos[i].proto == proto)
			return mapping_protos[i].name;
	}
	return "unknown";
}

/*
 * Copies a user-supplied value for quoting in a message.  Bytes outside
 * printable ASCII become '?' so the message stays valid UTF-8 (the API hands
 * it to a JSON encoder that refuses anything else), and a long value is cut
 * with "..." so the reason after the quote is never lost.
 */
static const char *mapping_quote(const char *in, char out[QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (in[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static bool mapping_address_fail(struct mapping_error *err, const char *in,
				 const char *why)
{
	char q[QUOTE_MAX + 4];

	return mapping_fail(err, 422, "invalid_address", "address",
			    "address \"%s\" %s", mapping_quote(in, q), why);
}

static bool mapping_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/*
 * Checks name (length len, trailing dot already removed) against RFC 1123
 * label rules.  The last label must not be all digits: that is what keeps
 * "1.2.3.999", a broken IPv4 literal, from passing as a host name.
 */
static bool mapping_check_name(const char *in, const char *name, size_t len,
			       struct mapping_error *err)
{
	size_t start = 0;
	bool numeric = true;

	if (len > NAME_MAX_LEN)
		return mapping_address_fail(err, in,
					    "is longer than 253 characters");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (!mapping_is_name_char(name[i]))
				return mapping_address_fail(err, in,
					"is neither an IP address nor a host name "
					"(only letters, digits, '-' and '.' are allowed)");
			if (name[i] < '0' || name[i] > '9')
				numeric = false;
			continue;
		}
		if (i == start)
			return mapping_address_fail(err, in,
						    "has an empty label");
		if (i - start > LABEL_MAX_LEN)
			return mapping_address_fail(err, in,
				"has a label longer than 63 characters");
		if (name[start] == '-' || name[i - 1] == '-')
			return mapping_address_fail(err, in,
				"has a label that starts or ends with '-'");
		if (i < len) {
			start = i + 1;
			numeric = true;
		}
	}
	if (numeric)
		return mapping_address_fail(err, in,
			"is neither an IP address nor a host name "
			"(its last label is all digits)");
	return true;
}

bool mapping_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
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

void mapping_addr_clean(uint8_t family, uint8_t addr[16])
{
	if (family == AF_INET)
		memset(addr + 4, 0, 12);
	else if (family != AF_INET6)
		memset(addr, 0, 16);
}

const char *mapping_addr_text(uint8_t family, const uint8_t addr[16],
			      char buf[INET6_ADDRSTRLEN])
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return inet_ntop(family, addr, buf, INET6_ADDRSTRLEN);
}

/*
 * The input is copied before anything is written to out, so out may be the
 * same buffer as in (mapping_validate relies on that).
 */
bool mapping_normalize_address(const char *in, char out[MAPPING_ADDRESS_MAX],
			       int *family, struct mapping_error *err)
{
	/* Room for a 253-character name plus its optional trailing dot. */
	char buf[MAPPING_ADDRESS_MAX + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t len = strlen(in);

	if (len == 0)
		return mapping_fail(err, 422, "invalid_address", "address",
				    "address is empty");
	if (len >= sizeof(buf))
		return mapping_address_fail(err, in,
					    "is longer than 253 characters");
	memcpy(buf, in, len + 1);

	if (buf[0] == '[') {
		if (len < 2 || buf[len - 1] != ']')
			return mapping_address_fail(err, in,
						    "has an unbalanced '['");
		buf[len - 1] = '\0';
		if (inet_pton(AF_INET6, buf + 1, bin) != 1)
			return mapping_address_fail(err, in,
				"is in brackets but is not an IPv6 address");
		inet_ntop(AF_INET6, bin, out, MAPPING_ADDRESS_MAX);
		*family = AF_INET6;
		return true;
	}
	if (inet_pton(AF_INET, buf, bin) == 1) {
		inet_ntop(AF_INET, bin, out, MAPPING_ADDRESS_MAX);
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, bin) == 1) {
		inet_ntop(AF_INET6, bin, out, MAPPING_ADDRESS_MAX);
		*family = AF_INET6;
		return true;
	}

	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	if (!mapping_check_name(in, buf, len, err))
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = (buf[i] >= 'A' && buf[i] <= 'Z') ? (char)(buf[i] - 'A' + 'a')
							  : buf[i];
	*family = 0;
	return true;
}

static bool mapping_check_port(uint32_t port, const char *field,
			       struct mapping_error *err)
{
	if (port >= 1 && port <= 65535)
		return true;
	return mapping_fail(err, 422, "invalid_port", field,
			    "%s %u is outside 1..65535", field, (unsigned)port);
}

/*
 * Returns the length of the UTF-8 sequence at s (1..4), or 0 when it is
 * malformed, overlong, a surrogate or beyond U+10FFFF.  Comments are echoed
 * back as JSON, which only carries valid UTF-8.
 */
static size_t mapping_utf8_seq_len(const unsigned char *s)
{
	static const struct {
		unsigned char lead_min, lead_max;
		size_t len;
		unsigned char second_min, second_max;
	} seqs[] = {
		{ 0x00, 0x7f, 1, 0, 0 },
		{ 0xc2, 0xdf, 2, 0x80, 0xbf },
		{ 0xe0, 0xe0, 3, 0xa0, 0xbf },
		{ 0xe1, 0xec, 3, 0x80, 0xbf },
		{ 0xed, 0xed, 3, 0x80, 0x9f },
		{ 0xee, 0xef, 3, 0x80, 0xbf },
		{ 0xf0, 0xf0, 4, 0x90, 0xbf },
		{ 0xf1, 0xf3, 4, 0x80, 0xbf },
		{ 0xf4, 0xf4, 4, 0x80, 0x8f },
	};

	for (size_t i = 0; i < ARRAY_LEN(seqs); i++) {
		if (s[0] < seqs[i].lead_min || s[0] > seqs[i].lead_max)
			continue;
		if (seqs[i].len == 1)
			return 1;
		if (s[1] < seqs[i].second_min || s[1] > seqs[i].second_max)
			return 0;
		for (size_t k = 2; k < seqs[i].len; k++) {
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		}
		return seqs[i].len;
	}
	return 0;
}

static bool mapping_check_comment(const char *comment,
				  struct mapping_error *err)
{
	const unsigned char *s = (const unsigned char *)comment;
	size_t len = strnlen(comment, MAPPING_COMMENT_MAX);

	if (len >= MAPPING_COMMENT_MAX)
		return mapping_fail(err, 422, "invalid_comment", "comment",
				    "comment is longer than %d bytes",
				    MAPPING_COMMENT_MAX - 1);
	for (size_t i = 0; i < len;) {
		size_t n = mapping_utf8_seq_len(s + i);

		if (n == 0)
			return mapping_fail(err, 422, "invalid_comment", "comment",
					    "comment is not valid UTF-8 (byte %zu)", i);
		if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			return mapping_fail(err, 422, "invalid_comment", "comment",
					    "comment contains a control character (byte %zu)",
					    i);
		i += n;
	}
	return true;
}

bool mapping_validate(struct mapping *m, struct mapping_error *err)
{
	/*
	 * The struct may come straight from a decoder that filled the array
	 * without terminating it; reading past it would be worse than refusing.
	 */
	if (memchr(m->address, '\0', sizeof(m->address)) == NULL)
		return mapping_fail(err, 422, "invalid_address", "address",
				    "address is longer than 253 characters");
	if (m->proto != MAPPING_TCP && m->proto != MAPPING_UDP &&
	    m->proto != MAPPING_BOTH)
		return mapping_fail(err, 422, "invalid_proto", "proto",
				    "proto must be \"tcp\", \"udp\" or \"both\"");
	if (!mapping_normalize_address(m->address, m->address, &m->family, err))
		return false;
	if (!mapping_check_port(m->shared_port, "shared_port", err) ||
	    !mapping_check_port(m->assigned_port, "assigned_port", err))
		return false;
	if (m->shared_port == m->assigned_port)
		return mapping_fail(err, 422, "same_port", "assigned_port",
				    "assigned_port %u equals shared_port; a mapping "
				    "must move traffic to a different port",
				    (unsigned)m->assigned_port);
	return mapping_check_comment(m->comment, err);
}

/*
 * The four ways two rows on the same address and protocol collide.  m_shared
 * and row_shared pick which port of each side is compared; verb says what
 * the existing row does with that port, and consequence why it matters.
 */
static const struct {
	bool m_shared, row_shared;
	const char *code;
	const char *field;
	const char *verb;
	const char *consequence;
} mapping_conflict_rules[] = {
	{ true, true, "duplicate", "shared_port", "shares", "" },
	{ false, false, "ambiguous_reverse", "assigned_port", "assigns",
	  "; replies from that port could not be told apart" },
	{ true, false, "port_conflict", "shared_port", "assigns",
	  "; one packet would match two mappings" },
	{ false, true, "port_conflict", "assigned_port", "shares",
	  "; one packet would match two mappings" },
};

bool mapping_check_conflicts(const struct mapping *m, const struct mapping *rows,
			     size_t n, struct mapping_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct mapping *r = &rows[i];
		unsigned overlap = r->proto & m->proto;

		if (r->id == m->id || overlap == 0 ||
		    strcmp(r->address, m->address) != 0)
			continue;
		for (size_t k = 0; k < ARRAY_LEN(mapping_conflict_rules); k++) {
			uint32_t mine = mapping_conflict_rules[k].m_shared ?
				m->shared_port : m->assigned_port;
			uint32_t theirs = mapping_conflict_rules[k].row_shared ?
				r->shared_port : r->assigned_port;
			/* IPv6 literals take brackets so the port stays readable. */
			bool v6 = strchr(r->address, ':') != NULL;

			if (mine != theirs)
				continue;
			return mapping_fail(err, 409,
					    mapping_conflict_rules[k].code,
					    mapping_conflict_rules[k].field,
					    "mapping %lld already %s %s %s%s%s:%u%s",
					    (long long)r->id,
					    mapping_conflict_rules[k].verb,
					    mapping_proto_name(overlap), v6 ? "[" : "",
					    r->address, v6 ? "]" : "", (unsigned)theirs,
					    mapping_conflict_rules[k].consequence);
		}
	}
	return true;
}
