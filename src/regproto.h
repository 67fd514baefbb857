/*
 * regproto: the registration protocol of UDP fan-out, byte for byte as the
 * seed (003, Tables 2 and 3) gives it, on both sides: the daemon parses
 * requests and formats replies; portshare-sub formats requests and parses
 * replies and SHUTDOWN notices.  Pure: no I/O, no allocation, no logging,
 * so the unit tests and the fuzzer link it as it is.
 *
 * One message per UDP datagram, printable ASCII, fields separated by
 * single or repeated spaces or tabs (leading and trailing ones too); the
 * message may end in one CR, LF or CR LF, which is ignored.  Any other
 * control byte, a CR or LF elsewhere, a NUL or a non-ASCII byte makes the
 * datagram no message at all.  Words are case-sensitive, uppercase as the
 * seed writes them: "add" is an unknown command and "100 ok" no reply.
 * Requests:
 *   ADD <ipAddress|hostname> <portNum> [<deliveryPort>]
 *   DROP <ipAddress|hostname> <portNum> [<deliveryPort>]
 * portNum is the contested port.  The optional third field is this
 * implementation's extension: the port the copies go to, instead of the
 * source port the request came from.  Replies (Table 2):
 *   100 OK <PrimaryIPaddr> <primaryIPport>     (ADD)
 *   100 OK                                    (DROP)
 *   200 ERROR. Already Added
 *   200 ERROR. Not in List
 *   300 ERROR. Invalid Address
 *   301 ERROR. Port Number Missing
 * and this implementation's own refusals, which the seed has no words for:
 *   310 ERROR. Not Permitted          (an address not the requester's own)
 *   320 ERROR. Too Many Subscribers
 *   400 ERROR. Unknown Command
 * Notice (Table 3), from the daemon to each subscriber:
 *   SHUTDOWN <primaryIPaddr> <primaryIPport>
 */
#ifndef PORTSHARE_REGPROTO_H
#define PORTSHARE_REGPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest message either side sends or accepts, in bytes. */
#define REGPROTO_MAX 512
/* A host name or address field, with its NUL. */
#define REGPROTO_HOST_MAX 256

enum regproto_cmd {
	REGPROTO_ADD,
	REGPROTO_DROP,
	REGPROTO_UNKNOWN, /* anything else: answered REGPROTO_R_UNKNOWN */
};

struct regproto_request {
	enum regproto_cmd cmd;
	char host[REGPROTO_HOST_MAX]; /* "" when missing */
	bool has_port;                /* false: answer 301 */
	uint16_t port;                /* the contested port, 1..65535 */
	bool has_delivery;
	uint16_t delivery_port;       /* 1..65535 when has_delivery */
};

/*
 * Parses one request of len bytes (not NUL-terminated).  Returns false
 * only for a message that is not a request at all (empty or blank, over
 * REGPROTO_MAX, or not printable ASCII, see above): the daemon drops
 * those unanswered.  Otherwise fills req: an unknown verb gives
 * REGPROTO_UNKNOWN; a missing or malformed portNum (not one to five
 * digits worth 1..65535) gives has_port false; a malformed deliveryPort,
 * or more than four fields, make the request REGPROTO_UNKNOWN, with every
 * other member cleared.  host is the second field as it came, whatever
 * its characters, or "" when it is missing or too long for host[].
 */
bool regproto_parse_request(const char *buf, size_t len,
			    struct regproto_request *req);

/*
 * Whether host is plausible as a host name or an IP literal: 1 to
 * REGPROTO_HOST_MAX - 1 characters, each a letter, a digit, '-', '.', ':'
 * or '%' (a scope, as in fe80::1%eth0).  Syntax only: nothing is resolved.
 */
bool regproto_host_valid(const char *host);

/* Every reply, as an index into the table of their exact texts. */
enum regproto_reply {
	REGPROTO_R_OK,             /* "100 OK" (DROP) */
	REGPROTO_R_OK_ADD,         /* "100 OK <addr> <port>" (ADD) */
	REGPROTO_R_ALREADY,        /* "200 ERROR. Already Added" */
	REGPROTO_R_NOT_IN_LIST,    /* "200 ERROR. Not in List" */
	REGPROTO_R_INVALID_ADDR,   /* "300 ERROR. Invalid Address" */
	REGPROTO_R_PORT_MISSING,   /* "301 ERROR. Port Number Missing" */
	REGPROTO_R_NOT_PERMITTED,  /* "310 ERROR. Not Permitted" */
	REGPROTO_R_TOO_MANY,       /* "320 ERROR. Too Many Subscribers" */
	REGPROTO_R_UNKNOWN,        /* "400 ERROR. Unknown Command" */
	REGPROTO_R_COUNT
};

/*
 * Who answers what.  This module decides everything a request's text
 * alone decides; regproto_request_check gives those answers, in this
 * order of precedence:
 *   400 Unknown Command   an unknown verb, a bad deliveryPort, extra fields
 *   300 Invalid Address   a missing host, or one regproto_host_valid refuses
 *   301 Port Number Missing  a missing or malformed portNum
 * It returns true when the request is well formed, else false with *reply
 * set.  The registrar decides the rest from a well-formed request: 300
 * again for a host that does not resolve or is no usable address, 310,
 * 320, the 200s and the 100 OKs, and which contested ports it serves.
 */
bool regproto_request_check(const struct regproto_request *req,
			    enum regproto_reply *reply);

/*
 * The three formatters write their message into out (cap bytes) without
 * a newline (the seed's messages have none) but NUL-terminated, and return
 * its length without the NUL.  They return 0, leaving nothing meaningful
 * in out, when it does not fit with its NUL, for an out-of-range enum
 * value, or when a host or address fails regproto_host_valid or a port is
 * 0, so that whatever they write the other side can parse.
 *
 * regproto_format_reply: addr and port fill REGPROTO_R_OK_ADD's fields
 * (the contested address as text and port) and are ignored otherwise.
 */
size_t regproto_format_reply(enum regproto_reply reply, const char *addr,
			     uint16_t port, char *out, size_t cap);

/* Writes "ADD host port" or "DROP host port" (+ " delivery" when non-zero). */
size_t regproto_format_request(enum regproto_cmd cmd, const char *host,
			       uint16_t port, uint16_t delivery, char *out,
			       size_t cap);

/* Writes "SHUTDOWN addr port". */
size_t regproto_format_shutdown(const char *addr, uint16_t port, char *out,
				size_t cap);

/*
 * What a subscriber receives on its registration socket: a reply (with,
 * for 100 OK to an ADD, the primary's address and port) or a SHUTDOWN
 * notice.  Returns false for anything else (such as a copy of a datagram),
 * with *msg cleared.  A reply must be one of the table's texts word for
 * word, with nothing after it but, for "100 OK", exactly an address and a
 * port; SHUTDOWN takes exactly an address and a port.  Addresses must pass
 * regproto_host_valid and ports be 1..65535.  reply means nothing for a
 * shutdown.  Raw copies come from the same port as replies, so a copied
 * datagram that happens to read like a message parses as one: the
 * subscriber weighs what it gets against its own state.
 */
struct regproto_message {
	bool shutdown;             /* a SHUTDOWN notice */
	enum regproto_reply reply; /* when not a shutdown */
	char addr[REGPROTO_HOST_MAX];
	uint16_t port;             /* with addr: from 100 OK <a> <p> or SHUTDOWN */
};
bool regproto_parse_message(const char *buf, size_t len,
			    struct regproto_message *msg);

#endif
