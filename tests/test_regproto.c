/*
 * Unit tests for regproto: every reply's exact text, every request parse
 * path, the division of answers between regproto_request_check and the
 * registrar, and the subscriber's side (replies and SHUTDOWN notices).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "regproto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(reply_texts)
{
	static const char *const texts[REGPROTO_R_COUNT] = {
		[REGPROTO_R_OK] = "100 OK",
		[REGPROTO_R_OK_ADD] = "100 OK 192.0.2.1 162",
		[REGPROTO_R_ALREADY] = "200 ERROR. Already Added",
		[REGPROTO_R_NOT_IN_LIST] = "200 ERROR. Not in List",
		[REGPROTO_R_INVALID_ADDR] = "300 ERROR. Invalid Address",
		[REGPROTO_R_PORT_MISSING] = "301 ERROR. Port Number Missing",
		[REGPROTO_R_NOT_PERMITTED] = "310 ERROR. Not Permitted",
		[REGPROTO_R_TOO_MANY] = "320 ERROR. Too Many Subscribers",
		[REGPROTO_R_UNKNOWN] = "400 ERROR. Unknown Command",
	};
	char out[REGPROTO_MAX];
	struct regproto_message msg;

	for (int r = 0; r < REGPROTO_R_COUNT; r++) {
		size_t n = regproto_format_reply((enum regproto_reply)r, "192.0.2.1", 162,
						 out, sizeof(out));

		ck_assert_str_eq(out, texts[r]);
		ck_assert_uint_eq(n, strlen(texts[r]));
		/* Every reply parses back as itself. */
		ck_assert(regproto_parse_message(out, n, &msg));
		ck_assert(!msg.shutdown);
		ck_assert_int_eq(msg.reply, r);
		if (r == REGPROTO_R_OK_ADD) {
			ck_assert_str_eq(msg.addr, "192.0.2.1");
			ck_assert_uint_eq(msg.port, 162);
		} else {
			ck_assert_str_eq(msg.addr, "");
			ck_assert_uint_eq(msg.port, 0);
		}
	}
}
END_TEST

START_TEST(reply_format_limits)
{
	char out[64];

	/* Only OK_ADD reads addr and port. */
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK, NULL, 0, out, sizeof(out)), 6);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK_ADD, "::1", 13162, out,
						sizeof(out)), 16);
	ck_assert_str_eq(out, "100 OK ::1 13162");
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK_ADD, NULL, 162, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK_ADD, "", 162, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK_ADD, "a b", 162, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK_ADD, "h", 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_COUNT, "h", 1, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_reply((enum regproto_reply)-1, "h", 1, out,
						sizeof(out)), 0);
	/* The NUL must fit too. */
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK, NULL, 0, out, 6), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK, NULL, 0, out, 7), 6);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK, NULL, 0, out, 0), 0);
	ck_assert_uint_eq(regproto_format_reply(REGPROTO_R_OK, NULL, 0, NULL, 7), 0);
}
END_TEST

START_TEST(request_format)
{
	char out[REGPROTO_MAX], host[REGPROTO_HOST_MAX];
	struct regproto_request req;

	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "10.0.0.2", 162, 0, out,
						  sizeof(out)), 16);
	ck_assert_str_eq(out, "ADD 10.0.0.2 162");
	regproto_format_request(REGPROTO_DROP, "fe80::1%eth0", 65535, 40000, out, sizeof(out));
	ck_assert_str_eq(out, "DROP fe80::1%eth0 65535 40000");
	ck_assert(regproto_parse_request(out, strlen(out), &req));
	ck_assert_int_eq(req.cmd, REGPROTO_DROP);
	ck_assert_str_eq(req.host, "fe80::1%eth0");
	ck_assert(req.has_port && req.port == 65535);
	ck_assert(req.has_delivery && req.delivery_port == 40000);

	ck_assert_uint_eq(regproto_format_request(REGPROTO_UNKNOWN, "h", 1, 0, out,
						  sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "", 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, NULL, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "h_x", 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "h", 0, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "h", 1, 0, out, 7), 0);
	ck_assert_uint_eq(regproto_format_request(REGPROTO_ADD, "h", 1, 0, out, 8), 7);

	/* The longest host still makes a message the parser takes. */
	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	ck_assert_uint_gt(regproto_format_request(REGPROTO_ADD, host, 65535, 65535, out,
						  sizeof(out)), 0);
	ck_assert(regproto_parse_request(out, strlen(out), &req));
	ck_assert_str_eq(req.host, host);
}
END_TEST

START_TEST(shutdown_format)
{
	char out[REGPROTO_MAX];
	struct regproto_message msg;

	ck_assert_uint_eq(regproto_format_shutdown("198.51.100.7", 161, out, sizeof(out)), 25);
	ck_assert_str_eq(out, "SHUTDOWN 198.51.100.7 161");
	ck_assert(regproto_parse_message(out, strlen(out), &msg));
	ck_assert(msg.shutdown);
	ck_assert_str_eq(msg.addr, "198.51.100.7");
	ck_assert_uint_eq(msg.port, 161);
	ck_assert_uint_eq(regproto_format_shutdown("", 161, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_shutdown("h", 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(regproto_format_shutdown("h", 1, out, 12), 0);
	ck_assert_uint_eq(regproto_format_shutdown("h", 1, out, 13), 12);
}
END_TEST

/* A request case: the text, and what the parse and the check make of it. */
struct req_case {
	const char *in;
	int parsed;         /* regproto_parse_request's result */
	enum regproto_cmd cmd;
	const char *host;
	int has_port;
	unsigned port;
	int has_delivery;
	unsigned delivery;
	int well_formed;    /* regproto_request_check's result */
	enum regproto_reply reply; /* its answer when not well formed */
};

#define OK_REQ(in, cmd, host, port) \
	{ in, 1, cmd, host, 1, port, 0, 0, 1, 0 }

static const struct req_case req_cases[] = {
	OK_REQ("ADD 10.0.0.2 162", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ("DROP 10.0.0.2 162", REGPROTO_DROP, "10.0.0.2", 162),
	OK_REQ("ADD host.example 1", REGPROTO_ADD, "host.example", 1),
	OK_REQ("ADD h 65535", REGPROTO_ADD, "h", 65535),
	OK_REQ("ADD h 00162", REGPROTO_ADD, "h", 162),
	OK_REQ("ADD 2001:db8::1 427", REGPROTO_ADD, "2001:db8::1", 427),
	OK_REQ("ADD fe80::1%eth0 427", REGPROTO_ADD, "fe80::1%eth0", 427),
	OK_REQ("ADD my-host 67", REGPROTO_ADD, "my-host", 67),
	/* Blanks: runs of spaces and tabs, leading and trailing. */
	OK_REQ("ADD  10.0.0.2   162", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ("ADD\t10.0.0.2\t162", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ(" \tADD \t10.0.0.2 \t 162 \t", REGPROTO_ADD, "10.0.0.2", 162),
	/* One trailing CR, LF or CR LF. */
	OK_REQ("ADD 10.0.0.2 162\n", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ("ADD 10.0.0.2 162\r", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ("ADD 10.0.0.2 162\r\n", REGPROTO_ADD, "10.0.0.2", 162),
	OK_REQ("ADD 10.0.0.2 162 \r\n", REGPROTO_ADD, "10.0.0.2", 162),
	/* The delivery port extension. */
	{ "ADD 10.0.0.2 162 40000", 1, REGPROTO_ADD, "10.0.0.2", 1, 162, 1, 40000, 1, 0 },
	{ "DROP h 162 1", 1, REGPROTO_DROP, "h", 1, 162, 1, 1, 1, 0 },
	/* Missing or malformed portNum: 301. */
	{ "ADD 10.0.0.2", 1, REGPROTO_ADD, "10.0.0.2", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "DROP 10.0.0.2\r\n", 1, REGPROTO_DROP, "10.0.0.2", 0, 0, 0, 0, 0,
	  REGPROTO_R_PORT_MISSING },
	{ "ADD h 0", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h 65536", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h 99999", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h 000162", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h abc", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h 162abc", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h -1", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h +162", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	{ "ADD h 0x10", 1, REGPROTO_ADD, "h", 0, 0, 0, 0, 0, REGPROTO_R_PORT_MISSING },
	/* A bad portNum beside a good deliveryPort is still a missing port. */
	{ "ADD h abc 5", 1, REGPROTO_ADD, "h", 0, 0, 1, 5, 0, REGPROTO_R_PORT_MISSING },
	/* No host: 300 comes before 301. */
	{ "ADD", 1, REGPROTO_ADD, "", 0, 0, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "DROP \r\n", 1, REGPROTO_DROP, "", 0, 0, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	/* Hosts with characters outside the set are kept as text: 300. */
	{ "ADD h_x 162", 1, REGPROTO_ADD, "h_x", 1, 162, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "ADD [::1] 162", 1, REGPROTO_ADD, "[::1]", 1, 162, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "ADD a/b 162", 1, REGPROTO_ADD, "a/b", 1, 162, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "ADD a,b 162", 1, REGPROTO_ADD, "a,b", 1, 162, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "ADD \"h\" 162", 1, REGPROTO_ADD, "\"h\"", 1, 162, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	{ "DROP h! x", 1, REGPROTO_DROP, "h!", 0, 0, 0, 0, 0, REGPROTO_R_INVALID_ADDR },
	/* Bad deliveryPort, extra fields, unknown or lowercase verbs: 400. */
	{ "ADD h 162 0", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162 65536", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162 x", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162 1 2", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162 1 2 3 4 5 6 7", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "add h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "Add h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "drop h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADDX h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "AD h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "SHUTDOWN h 162", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "100 OK", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "HELLO", 1, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	/* Not a request at all: dropped unanswered. */
	{ "", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "   \t ", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "\r\n", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162\n\n", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162\n\r", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h\n162", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h\r162", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h 162\v", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h\x7f 162", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD h\xc3\xa9 162", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "ADD \xff 162", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
	{ "\x1b[2J", 0, REGPROTO_UNKNOWN, "", 0, 0, 0, 0, 0, REGPROTO_R_UNKNOWN },
};

START_TEST(request_parse)
{
	const struct req_case *c = &req_cases[_i];
	struct regproto_request req;
	enum regproto_reply reply = REGPROTO_R_COUNT;
	bool parsed = regproto_parse_request(c->in, strlen(c->in), &req);

	ck_assert_msg(parsed == (bool)c->parsed, "parse of '%s'", c->in);
	ck_assert_msg(req.cmd == c->cmd, "cmd of '%s': %d", c->in, req.cmd);
	ck_assert_str_eq(req.host, c->host);
	ck_assert_int_eq(req.has_port, c->has_port);
	ck_assert_uint_eq(req.port, c->port);
	ck_assert_int_eq(req.has_delivery, c->has_delivery);
	ck_assert_uint_eq(req.delivery_port, c->delivery);
	if (!parsed)
		return;
	ck_assert_msg(regproto_request_check(&req, &reply) == (bool)c->well_formed,
		      "check of '%s'", c->in);
	if (!c->well_formed)
		ck_assert_msg(reply == c->reply, "reply to '%s': %d", c->in, reply);
	else
		ck_assert_int_eq(reply, REGPROTO_R_COUNT);
}
END_TEST

START_TEST(request_lengths)
{
	char buf[REGPROTO_MAX + 2];
	struct regproto_request req;
	enum regproto_reply reply;
	size_t n;

	/* Exactly REGPROTO_MAX bytes is a message; one more is not. */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "ADD h 162", 9);
	ck_assert(regproto_parse_request(buf, REGPROTO_MAX, &req));
	ck_assert_int_eq(req.cmd, REGPROTO_ADD);
	ck_assert(!regproto_parse_request(buf, REGPROTO_MAX + 1, &req));
	ck_assert_int_eq(req.cmd, REGPROTO_UNKNOWN);
	ck_assert(!regproto_parse_request(NULL, 0, &req));

	/* A host of 255 characters is kept; 256 leave host empty: 300. */
	memcpy(buf, "ADD ", 4);
	memset(buf + 4, 'a', REGPROTO_HOST_MAX - 1);
	n = 4 + REGPROTO_HOST_MAX - 1;
	memcpy(buf + n, " 162", 4);
	ck_assert(regproto_parse_request(buf, n + 4, &req));
	ck_assert_uint_eq(strlen(req.host), REGPROTO_HOST_MAX - 1);
	ck_assert(regproto_request_check(&req, &reply));
	buf[n] = 'a';
	memcpy(buf + n + 1, " 162", 4);
	ck_assert(regproto_parse_request(buf, n + 5, &req));
	ck_assert_str_eq(req.host, "");
	ck_assert(req.has_port && req.port == 162);
	ck_assert(!regproto_request_check(&req, &reply));
	ck_assert_int_eq(reply, REGPROTO_R_INVALID_ADDR);

	/* The length given counts, not a NUL: "ADD h 16" of "ADD h 162". */
	ck_assert(regproto_parse_request("ADD h 162", 8, &req));
	ck_assert_uint_eq(req.port, 16);
	ck_assert(!regproto_parse_request("ADD h\0 162", 10, &req));
}
END_TEST

START_TEST(host_syntax)
{
	static const char *const good[] = {
		"a", "10.0.0.1", "::1", "::ffff:10.0.0.1", "fe80::1%eth0",
		"Host-1.EXAMPLE.org", "-", ".", "%",
	};
	static const char *const bad[] = {
		"", "a b", "a\tb", "a_b", "[::1]", "a/b", "a@b", "é", "a\n", "*",
	};
	char longest[REGPROTO_HOST_MAX + 1];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_msg(regproto_host_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!regproto_host_valid(bad[i]), "%s", bad[i]);
	ck_assert(!regproto_host_valid(NULL));
	memset(longest, 'a', sizeof(longest));
	longest[REGPROTO_HOST_MAX - 1] = '\0';
	ck_assert(regproto_host_valid(longest));
	longest[REGPROTO_HOST_MAX - 1] = 'a';
	longest[REGPROTO_HOST_MAX] = '\0';
	ck_assert(!regproto_host_valid(longest));
}
END_TEST

/* A subscriber-side case: the text and what regproto_parse_message says. */
struct msg_case {
	const char *in;
	int parsed;
	int shutdown;
	enum regproto_reply reply;
	const char *addr;
	unsigned port;
};

static const struct msg_case msg_cases[] = {
	{ "100 OK", 1, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK\r\n", 1, 0, REGPROTO_R_OK, "", 0 },
	{ "  100\tOK  ", 1, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK 10.0.0.1 162", 1, 0, REGPROTO_R_OK_ADD, "10.0.0.1", 162 },
	{ "100  OK\t2001:db8::1  162\n", 1, 0, REGPROTO_R_OK_ADD, "2001:db8::1", 162 },
	{ "200 ERROR. Already Added", 1, 0, REGPROTO_R_ALREADY, "", 0 },
	{ "200  ERROR.  Already  Added\r\n", 1, 0, REGPROTO_R_ALREADY, "", 0 },
	{ "200 ERROR. Not in List", 1, 0, REGPROTO_R_NOT_IN_LIST, "", 0 },
	{ "300 ERROR. Invalid Address", 1, 0, REGPROTO_R_INVALID_ADDR, "", 0 },
	{ "301 ERROR. Port Number Missing", 1, 0, REGPROTO_R_PORT_MISSING, "", 0 },
	{ "310 ERROR. Not Permitted", 1, 0, REGPROTO_R_NOT_PERMITTED, "", 0 },
	{ "320 ERROR. Too Many Subscribers", 1, 0, REGPROTO_R_TOO_MANY, "", 0 },
	{ "400 ERROR. Unknown Command", 1, 0, REGPROTO_R_UNKNOWN, "", 0 },
	{ "SHUTDOWN 10.0.0.1 162", 1, 1, REGPROTO_R_OK, "10.0.0.1", 162 },
	{ "SHUTDOWN\t::1\t13162\r\n", 1, 1, REGPROTO_R_OK, "::1", 13162 },
	/* Anything else, such as a copied datagram, is no message. */
	{ "100 OK 10.0.0.1", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK 10.0.0.1 0", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK 10.0.0.1 65536", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK a_b 162", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK 10.0.0.1 162 x", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 ok", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK.", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "200 ERROR. Already", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "200 ERROR. Already Added!", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "200 ERROR. Already Added now", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "200 error. already added", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "300 ERROR. Not in List", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "SHUTDOWN", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "SHUTDOWN 10.0.0.1", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "SHUTDOWN 10.0.0.1 162 1", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "SHUTDOWN 10.0.0.1 0", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "SHUTDOWN a_b 162", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "shutdown 10.0.0.1 162", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "ADD 10.0.0.1 162", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "\x30\x82\x01\x0a", 0, 0, REGPROTO_R_OK, "", 0 },
	{ "100 OK\n\n", 0, 0, REGPROTO_R_OK, "", 0 },
};

START_TEST(message_parse)
{
	const struct msg_case *c = &msg_cases[_i];
	struct regproto_message msg;

	ck_assert_msg(regproto_parse_message(c->in, strlen(c->in), &msg) == (bool)c->parsed,
		      "parse of '%s'", c->in);
	ck_assert_int_eq(msg.shutdown, c->shutdown);
	ck_assert_int_eq(msg.reply, c->reply);
	ck_assert_str_eq(msg.addr, c->addr);
	ck_assert_uint_eq(msg.port, c->port);
}
END_TEST

START_TEST(message_lengths)
{
	char buf[REGPROTO_MAX + 1];
	struct regproto_message msg;
	size_t n;

	/* An address of 256 characters does not fit msg.addr: no message. */
	memcpy(buf, "SHUTDOWN ", 9);
	memset(buf + 9, 'a', REGPROTO_HOST_MAX);
	n = 9 + REGPROTO_HOST_MAX;
	memcpy(buf + n, " 1", 2);
	ck_assert(!regproto_parse_message(buf, n + 2, &msg));
	memcpy(buf + n - 1, " 1", 2);
	ck_assert(regproto_parse_message(buf, n + 1, &msg));
	ck_assert_uint_eq(strlen(msg.addr), REGPROTO_HOST_MAX - 1);

	/* Over REGPROTO_MAX, even a good reply padded with blanks is none. */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "100 OK", 6);
	ck_assert(regproto_parse_message(buf, REGPROTO_MAX, &msg));
	ck_assert(!regproto_parse_message(buf, REGPROTO_MAX + 1, &msg));
	ck_assert(!regproto_parse_message(NULL, 0, &msg));
}
END_TEST

static Suite *regproto_suite(void)
{
	Suite *s = suite_create("regproto");
	TCase *tc = tcase_create("regproto");

	tcase_add_test(tc, reply_texts);
	tcase_add_test(tc, reply_format_limits);
	tcase_add_test(tc, request_format);
	tcase_add_test(tc, shutdown_format);
	tcase_add_loop_test(tc, request_parse, 0, ARRAY_SIZE(req_cases));
	tcase_add_test(tc, request_lengths);
	tcase_add_test(tc, host_syntax);
	tcase_add_loop_test(tc, message_parse, 0, ARRAY_SIZE(msg_cases));
	tcase_add_test(tc, message_lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regproto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
