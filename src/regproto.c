/*
 * regproto: the registration protocol's messages, parsed and formatted.
 * See regproto.h for the grammar.  Every function works on the caller's
 * buffers only: no system call, no allocation, no logging.
 */
#include <stdio.h>
#include <string.h>

#include "regproto.h"
#include "util.h"

/*
 * The most fields any message has is five ("301 ERROR. Port Number
 * Missing"); one more slot lets a message with extra fields be told apart
 * from one that merely starts like a longer one.
 */
#define REGPROTO_FIELDS 6

/* A message cut into fields; n counts them all, even past the slots. */
struct regproto_fields {
	const char *at[REGPROTO_FIELDS];
	size_t len[REGPROTO_FIELDS];
	size_t n;
};

/* The verbs a request may start with, in enum regproto_cmd's order. */
static const char *const regproto_verbs[] = {
	[REGPROTO_ADD] = "ADD",
	[REGPROTO_DROP] = "DROP",
};

/*
 * The replies' exact texts.  with_addr marks the one reply that goes on
 * with the primary's address and port; parsing and formatting both read
 * this table, so the two sides cannot drift apart.
 */
static const struct {
	const char *text;
	bool with_addr;
} regproto_replies[REGPROTO_R_COUNT] = {
	[REGPROTO_R_OK] = { "100 OK", false },
	[REGPROTO_R_OK_ADD] = { "100 OK", true },
	[REGPROTO_R_ALREADY] = { "200 ERROR. Already Added", false },
	[REGPROTO_R_NOT_IN_LIST] = { "200 ERROR. Not in List", false },
	[REGPROTO_R_INVALID_ADDR] = { "300 ERROR. Invalid Address", false },
	[REGPROTO_R_PORT_MISSING] = { "301 ERROR. Port Number Missing", false },
	[REGPROTO_R_NOT_PERMITTED] = { "310 ERROR. Not Permitted", false },
	[REGPROTO_R_TOO_MANY] = { "320 ERROR. Too Many Subscribers", false },
	[REGPROTO_R_UNKNOWN] = { "400 ERROR. Unknown Command", false },
};

static const char regproto_shutdown_verb[] = "SHUTDOWN";

static bool regproto_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Cuts len bytes into fields separated by runs of spaces and tabs, after
 * dropping one trailing CR, LF or CR LF.  Returns false when the bytes are
 * not a message at all: empty or blank, longer than REGPROTO_MAX, or
 * holding any byte other than printable ASCII, space and tab (so a CR or
 * LF anywhere but at the very end, a NUL or a UTF-8 sequence).
 */
static bool regproto_split(const char *buf, size_t len, struct regproto_fields *f)
{
	size_t i = 0;

	f->n = 0;
	if (buf == NULL || len == 0 || len > REGPROTO_MAX)
		return false;
	if (buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)buf[k];

		if ((c < 0x20 || c > 0x7e) && c != '\t')
			return false;
	}
	while (i < len) {
		size_t start;

		while (i < len && regproto_is_space(buf[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !regproto_is_space(buf[i]))
			i++;
		if (f->n < REGPROTO_FIELDS) {
			f->at[f->n] = buf + start;
			f->len[f->n] = i - start;
		}
		f->n++;
	}
	return f->n > 0;
}

static bool regproto_field_is(const struct regproto_fields *f, size_t i, const char *word)
{
	size_t n = strlen(word);

	return i < f->n && i < REGPROTO_FIELDS && f->len[i] == n &&
	       memcmp(f->at[i], word, n) == 0;
}

/*
 * A port field: one to five decimal digits worth 1..65535.  Leading zeros
 * are allowed within the five digits.  Returns false for anything else.
 */
static bool regproto_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool regproto_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' || c == '%';
}

static bool regproto_host_span(const char *s, size_t len)
{
	if (len == 0 || len >= REGPROTO_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!regproto_host_char(s[i]))
			return false;
	return true;
}

bool regproto_host_valid(const char *host)
{
	return host != NULL && regproto_host_span(host, strnlen(host, REGPROTO_HOST_MAX));
}

/* Copies field i into host when it fits with its NUL; leaves it "" otherwise. */
static void regproto_copy_host(const struct regproto_fields *f, size_t i, char *host)
{
	if (f->len[i] < REGPROTO_HOST_MAX) {
		memcpy(host, f->at[i], f->len[i]);
		host[f->len[i]] = '\0';
	}
}

bool regproto_parse_request(const char *buf, size_t len, struct regproto_request *req)
{
	struct regproto_fields f;

	memset(req, 0, sizeof(*req));
	req->cmd = REGPROTO_UNKNOWN;
	if (!regproto_split(buf, len, &f))
		return false;
	for (size_t v = 0; v < ARRAY_LEN(regproto_verbs); v++)
		if (regproto_field_is(&f, 0, regproto_verbs[v]))
			req->cmd = (enum regproto_cmd)v;
	if (req->cmd == REGPROTO_UNKNOWN || f.n > 4)
		goto unknown;
	if (f.n >= 2)
		regproto_copy_host(&f, 1, req->host);
	if (f.n >= 3)
		req->has_port = regproto_port(f.at[2], f.len[2], &req->port);
	if (f.n == 4) {
		if (!regproto_port(f.at[3], f.len[3], &req->delivery_port))
			goto unknown;
		req->has_delivery = true;
	}
	return true;
unknown:
	memset(req, 0, sizeof(*req));
	req->cmd = REGPROTO_UNKNOWN;
	return true;
}

bool regproto_request_check(const struct regproto_request *req, enum regproto_reply *reply)
{
	if (req->cmd != REGPROTO_ADD && req->cmd != REGPROTO_DROP)
		*reply = REGPROTO_R_UNKNOWN;
	else if (!regproto_host_valid(req->host))
		*reply = REGPROTO_R_INVALID_ADDR;
	else if (!req->has_port)
		*reply = REGPROTO_R_PORT_MISSING;
	else
		return true;
	return false;
}

/* snprintf's result as a length: 0 for an error or when it did not fit. */
static size_t regproto_fit(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t regproto_format_reply(enum regproto_reply reply, const char *addr,
			     uint16_t port, char *out, size_t cap)
{
	if ((unsigned)reply >= REGPROTO_R_COUNT || out == NULL || cap == 0)
		return 0;
	if (!regproto_replies[reply].with_addr)
		return regproto_fit(snprintf(out, cap, "%s", regproto_replies[reply].text), cap);
	if (!regproto_host_valid(addr) || port == 0)
		return 0;
	return regproto_fit(snprintf(out, cap, "%s %s %u", regproto_replies[reply].text,
				     addr, (unsigned)port), cap);
}

size_t regproto_format_request(enum regproto_cmd cmd, const char *host,
			       uint16_t port, uint16_t delivery, char *out,
			       size_t cap)
{
	if ((cmd != REGPROTO_ADD && cmd != REGPROTO_DROP) || !regproto_host_valid(host) ||
	    port == 0 || out == NULL || cap == 0)
		return 0;
	if (delivery == 0)
		return regproto_fit(snprintf(out, cap, "%s %s %u", regproto_verbs[cmd], host,
					     (unsigned)port), cap);
	return regproto_fit(snprintf(out, cap, "%s %s %u %u", regproto_verbs[cmd], host,
				     (unsigned)port, (unsigned)delivery), cap);
}

size_t regproto_format_shutdown(const char *addr, uint16_t port, char *out,
				size_t cap)
{
	if (!regproto_host_valid(addr) || port == 0 || out == NULL || cap == 0)
		return 0;
	return regproto_fit(snprintf(out, cap, "%s %s %u", regproto_shutdown_verb, addr,
				     (unsigned)port), cap);
}

/*
 * Whether the message's first fields are exactly the words of text, and
 * how many there are (through *words).
 */
static bool regproto_starts_with(const struct regproto_fields *f, const char *text,
				 size_t *words)
{
	struct regproto_fields t;

	if (!regproto_split(text, strlen(text), &t) || t.n > f->n)
		return false;
	for (size_t i = 0; i < t.n; i++)
		if (f->len[i] != t.len[i] || memcmp(f->at[i], t.at[i], t.len[i]) != 0)
			return false;
	*words = t.n;
	return true;
}

/* Fields i and i + 1 as an address and a port; false when either is bad. */
static bool regproto_addr_port(const struct regproto_fields *f, size_t i,
			       struct regproto_message *msg)
{
	if (!regproto_host_span(f->at[i], f->len[i]) ||
	    !regproto_port(f->at[i + 1], f->len[i + 1], &msg->port))
		return false;
	regproto_copy_host(f, i, msg->addr);
	return true;
}

bool regproto_parse_message(const char *buf, size_t len, struct regproto_message *msg)
{
	struct regproto_fields f;
	size_t words;

	memset(msg, 0, sizeof(*msg));
	if (!regproto_split(buf, len, &f))
		return false;
	if (regproto_field_is(&f, 0, regproto_shutdown_verb)) {
		msg->shutdown = f.n == 3 && regproto_addr_port(&f, 1, msg);
		if (!msg->shutdown)
			memset(msg, 0, sizeof(*msg));
		return msg->shutdown;
	}
	for (size_t r = 0; r < REGPROTO_R_COUNT; r++) {
		if (!regproto_starts_with(&f, regproto_replies[r].text, &words))
			continue;
		if (!regproto_replies[r].with_addr && f.n == words) {
			msg->reply = (enum regproto_reply)r;
			return true;
		}
		if (regproto_replies[r].with_addr && f.n == words + 2 &&
		    regproto_addr_port(&f, words, msg)) {
			msg->reply = (enum regproto_reply)r;
			return true;
		}
	}
	memset(msg, 0, sizeof(*msg));
	return false;
}
