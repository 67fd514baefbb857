/*
 * subarg: portshare-sub's command line, parsed without I/O.  The option
 * table (which also drives getopt_long and the usage text in sub.c), the
 * TARGET strings, the HOST:PORT values of --bind and --forward, the
 * seconds of --retry and --refresh, and the hex form of a payload.  Hosts
 * stay text: sub.c resolves them.  Pure: no system call, no allocation,
 * no logging, so the unit tests and the fuzzer link it as it is.
 *
 * Forms accepted (an unbracketed host with two colons or more is an IPv6
 * address and takes no port; brackets are for IPv6 with a port):
 *   TARGET      HOST/PORT  HOST:REGPORT/PORT  [V6]/PORT  [V6]:REGPORT/PORT
 *               V6/PORT (no REGPORT then)
 *   --bind      HOST  HOST:PORT  [V6]  [V6]:PORT  V6
 *   --forward   HOST:PORT  [V6]:PORT
 * Ports are decimal, 1..65535, without sign or blanks.  A host is 1 to
 * SUBARG_HOST_MAX - 1 printable ASCII characters, none of them a blank,
 * '/', '[' or ']'.
 */
#ifndef PORTSHARE_SUBARG_H
#define PORTSHARE_SUBARG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The registration port of contested port p unless given: the seed's Table 1. */
#define SUBARG_REG_OFFSET 13000
/* A host name or address, with its NUL: a DNS name has at most 253. */
#define SUBARG_HOST_MAX 256
/* A target's name for messages: "[HOST]/PORT" with its NUL. */
#define SUBARG_NAME_MAX (SUBARG_HOST_MAX + 8)
/* --retry and --refresh: 0.05 s to an hour, in milliseconds. */
#define SUBARG_SECONDS_MIN_MS 50u
#define SUBARG_SECONDS_MAX_MS 3600000u

/* A HOST[:PORT] value of --bind or --forward. */
struct subarg_hostport {
	char host[SUBARG_HOST_MAX]; /* brackets removed */
	uint16_t port;              /* 0: none given */
};

struct subarg_target {
	char host[SUBARG_HOST_MAX];     /* brackets removed, not resolved */
	uint16_t regport;               /* given, or contested + SUBARG_REG_OFFSET */
	uint16_t contested;
	char name[SUBARG_NAME_MAX];     /* "HOST/PORT" or "[V6]/PORT", for messages */
};

/* What the options set.  SUBARG_OPTS_INIT gives the defaults. */
struct subarg_opts {
	bool has_bind;
	struct subarg_hostport bind;
	const char *address;            /* NULL: not given; else points into argv */
	bool has_forward;
	struct subarg_hostport forward;
	unsigned retry_ms;
	unsigned refresh_ms;            /* 0: no keepalive */
	unsigned long count;            /* 0: no limit */
	bool hex;
	bool framed;
};

#define SUBARG_OPTS_INIT { .retry_ms = 2000, .refresh_ms = 30000 }

/*
 * One option.  set returns false when arg is not a valid value; the caller
 * says so, naming the option and its arg text.  arg is NULL (and set
 * ignores it) for an option without a value.
 */
struct subarg_option {
	const char *name;
	int short_name;
	const char *arg;
	const char *help;
	bool (*set)(struct subarg_opts *o, const char *arg);
};

/*
 * The options, in the order --help lists them; --help itself is sub.c's.
 * The compiler refuses a longer table but not a shorter one, so the unit
 * test checks that every entry is filled.
 */
#define SUBARG_NOPTS 8
extern const struct subarg_option subarg_options[SUBARG_NOPTS];

/* The option with this short name, or NULL. */
const struct subarg_option *subarg_option_find(int short_name);

/*
 * What the options say together, once all are set.  Returns false, with
 * *why pointing to a static sentence, for a combination that makes no
 * sense (--hex with --forward).
 */
bool subarg_check(const struct subarg_opts *o, const char **why);

/* A decimal number 1..max and nothing else: true and *v set, else false. */
bool subarg_number(const char *s, unsigned long max, unsigned long *v);

/* A port, 1..65535: true and *port set, else false. */
bool subarg_port(const char *s, uint16_t *port);

/*
 * Seconds as "D", "D.", "D.D" or ".D" (decimal digits, no sign, no
 * exponent), rounded to the millisecond: SUBARG_SECONDS_MIN_MS to
 * SUBARG_SECONDS_MAX_MS, or exactly zero when zero_ok.  Returns false,
 * leaving *ms alone, for anything else.
 */
bool subarg_seconds(const char *s, bool zero_ok, unsigned *ms);

/*
 * HOST[:PORT] as the header shows, port required when need_port.  Returns
 * false for a host that is empty, too long or holds a character the header
 * excludes, an unclosed bracket or text after it, or a port that is not
 * 1..65535.  *hp is meaningful only on success.
 */
bool subarg_hostport(const char *s, bool need_port, struct subarg_hostport *hp);

/*
 * A TARGET.  Returns false, with *why pointing to a static sentence, for
 * a malformed one or one whose contested port has no default registration
 * port (above 65535 - SUBARG_REG_OFFSET).  *t is meaningful only on
 * success.
 */
bool subarg_target(const char *spec, struct subarg_target *t, const char **why);

/*
 * The --help text: the TARGET forms, then every option of the table and
 * --help, one a line.  Writes it NUL-terminated into out (cap bytes) and
 * returns its length, or 0 when it does not fit.
 */
size_t subarg_usage(char *out, size_t cap);

/* The most subarg_hexline writes for len payload bytes, with the NUL. */
#define SUBARG_HEXLINE_MAX(len) (2 * (size_t)(len) + SUBARG_HOST_MAX + 32)

/*
 * One line of --hex output: len bytes as lowercase hex, then a newline,
 * NUL-terminated.  With an origin (--framed), "ORIGIN PORT LEN HEX" as
 * the man page gives it, without the HEX field for an empty payload.
 * out holds SUBARG_HEXLINE_MAX(len) bytes; origin is shorter than
 * SUBARG_HOST_MAX.  Returns the length written without the NUL.
 */
size_t subarg_hexline(const char *origin, uint16_t origin_port, const uint8_t *p,
		      size_t len, char *out);

#endif
