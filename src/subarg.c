/*
 * subarg: portshare-sub's command line without I/O; see subarg.h for the
 * forms.  Every parser here works on the text alone, so a host that will
 * not resolve passes: sub.c finds that out, and says so.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "regproto.h"
#include "subarg.h"

bool subarg_number(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (*s == '\0')
		return false;
	/* By hand rather than strtoul, which takes blanks, signs and 0x. */
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (n > (ULONG_MAX - (unsigned long)(*s - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n == 0 || n > max)
		return false;
	*v = n;
	return true;
}

bool subarg_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (!subarg_number(s, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

bool subarg_seconds(const char *s, bool zero_ok, unsigned *ms)
{
	/* Whole seconds beyond this are out of range whatever follows. */
	const unsigned long cap = SUBARG_SECONDS_MAX_MS / 1000 + 1;
	unsigned long whole = 0, frac = 0;
	unsigned places = 0;
	bool digits = false, nonzero = false, round_up = false;

	for (; *s >= '0' && *s <= '9'; s++) {
		digits = true;
		nonzero |= *s != '0';
		if (whole <= cap)
			whole = whole * 10 + (unsigned long)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, places++) {
			digits = true;
			nonzero |= *s != '0';
			if (places < 3)
				frac = frac * 10 + (unsigned long)(*s - '0');
			else if (places == 3)
				round_up = *s >= '5';
		}
	}
	if (!digits || *s != '\0')
		return false;
	for (; places < 3; places++)
		frac *= 10;
	if (whole > cap)
		return false;
	whole = whole * 1000 + frac + (round_up ? 1 : 0);
	if (!nonzero && zero_ok) {
		*ms = 0;
		return true;
	}
	if (!nonzero || whole < SUBARG_SECONDS_MIN_MS || whole > SUBARG_SECONDS_MAX_MS)
		return false;
	*ms = (unsigned)whole;
	return true;
}

/*
 * Splits HOST[:PORT] into hp->host and the port text *port (NULL without
 * one).  Returns false for the refusals subarg_hostport lists but the
 * port's value, which the caller checks.
 */
static bool subarg_split(const char *s, struct subarg_hostport *hp, const char **port)
{
	const char *start = s, *end, *colon = strchr(s, ':');
	size_t n;

	*port = NULL;
	if (s[0] == '[') {
		start = s + 1;
		end = strchr(start, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		if (end[1] == ':')
			*port = end + 2;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		end = colon;
		*port = colon + 1;
	} else {
		end = s + strlen(s);
	}
	n = (size_t)(end - start);
	if (n == 0 || n >= sizeof(hp->host))
		return false;
	/* No name or address holds these, and getaddrinfo need not see them. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)start[i];

		if (c <= ' ' || c > '~' || strchr("[]/", c) != NULL)
			return false;
	}
	memcpy(hp->host, start, n);
	hp->host[n] = '\0';
	return true;
}

bool subarg_hostport(const char *s, bool need_port, struct subarg_hostport *hp)
{
	const char *port;

	if (!subarg_split(s, hp, &port))
		return false;
	hp->port = 0;
	if (port == NULL)
		return !need_port;
	return subarg_port(port, &hp->port);
}

bool subarg_target(const char *spec, struct subarg_target *t, const char **why)
{
	struct subarg_hostport hp;
	char text[SUBARG_NAME_MAX];
	const char *slash = strrchr(spec, '/'), *port;
	size_t n;

	*why = "expected HOST[:REGPORT]/PORT";
	if (slash == NULL || !subarg_port(slash + 1, &t->contested))
		return false;
	n = (size_t)(slash - spec);
	if (n >= sizeof(text))
		return false;
	memcpy(text, spec, n);
	text[n] = '\0';
	if (!subarg_split(text, &hp, &port))
		return false;
	if (port != NULL && !subarg_port(port, &t->regport))
		return false;
	if (port == NULL && t->contested > 65535 - SUBARG_REG_OFFSET) {
		*why = "no default registration port above 52535: give HOST:REGPORT/PORT";
		return false;
	}
	if (port == NULL)
		t->regport = (uint16_t)(t->contested + SUBARG_REG_OFFSET);
	memcpy(t->host, hp.host, sizeof(t->host));
	snprintf(t->name, sizeof(t->name), strchr(t->host, ':') ? "[%s]/%u" : "%s/%u", t->host,
		 t->contested);
	*why = NULL;
	return true;
}

size_t subarg_hexline(const char *origin, uint16_t origin_port, const uint8_t *p,
		      size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	if (origin != NULL)
		n = (size_t)snprintf(out, SUBARG_HOST_MAX + 32, "%.*s %u %zu%s",
				     SUBARG_HOST_MAX - 1, origin, origin_port, len,
				     len > 0 ? " " : "");
	for (size_t i = 0; i < len; i++) {
		out[n++] = digits[p[i] >> 4];
		out[n++] = digits[p[i] & 15];
	}
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

/* The setters of the option table: false for a bad value, leaving o as it was. */

static bool subarg_opt_bind(struct subarg_opts *o, const char *arg)
{
	struct subarg_hostport hp;

	if (!subarg_hostport(arg, false, &hp))
		return false;
	o->bind = hp;
	o->has_bind = true;
	return true;
}

/* The address goes into ADD and DROP, so it must be one regproto can write. */
static bool subarg_opt_address(struct subarg_opts *o, const char *arg)
{
	if (!regproto_host_valid(arg))
		return false;
	o->address = arg;
	return true;
}

static bool subarg_opt_retry(struct subarg_opts *o, const char *arg)
{
	return subarg_seconds(arg, false, &o->retry_ms);
}

static bool subarg_opt_refresh(struct subarg_opts *o, const char *arg)
{
	return subarg_seconds(arg, true, &o->refresh_ms);
}

static bool subarg_opt_hex(struct subarg_opts *o, const char *arg)
{
	(void)arg;
	o->hex = true;
	return true;
}

static bool subarg_opt_framed(struct subarg_opts *o, const char *arg)
{
	(void)arg;
	o->framed = true;
	return true;
}

static bool subarg_opt_forward(struct subarg_opts *o, const char *arg)
{
	struct subarg_hostport hp;

	if (!subarg_hostport(arg, true, &hp))
		return false;
	o->forward = hp;
	o->has_forward = true;
	return true;
}

static bool subarg_opt_count(struct subarg_opts *o, const char *arg)
{
	return subarg_number(arg, ULONG_MAX - 1, &o->count);
}

const struct subarg_option subarg_options[SUBARG_NOPTS] = {
	{ "bind", 'b', "ADDR[:PORT]", "local address and port to receive on (default: any address, an ephemeral port)", subarg_opt_bind },
	{ "address", 'a', "ADDR", "the address to name in ADD and DROP (default: the --bind address, else the local address toward each target)", subarg_opt_address },
	{ "retry", 'r', "SECONDS", "send ADD this often until it is answered, 0.05-3600 (default 2)", subarg_opt_retry },
	{ "refresh", 'R', "SECONDS", "while registered, send ADD again this often; unanswered for --retry seconds, register again; 0 never, else 0.05-3600 (default 30)", subarg_opt_refresh },
	{ "hex", 'x', NULL, "print one line of hex per datagram instead of its bytes", subarg_opt_hex },
	{ "framed", 'f', NULL, "copies carry the framed header (mode framed_udp): strip it; with --hex print ORIGIN_ADDR ORIGIN_PORT LEN HEX", subarg_opt_framed },
	{ "forward", 'F', "HOST:PORT", "send each payload to this UDP port instead of stdout", subarg_opt_forward },
	{ "count", 'c', "N", "deregister and exit after N datagrams", subarg_opt_count },
};

const struct subarg_option *subarg_option_find(int short_name)
{
	for (size_t i = 0; i < SUBARG_NOPTS; i++)
		if (subarg_options[i].short_name == short_name)
			return &subarg_options[i];
	return NULL;
}

/* Appends to out like snprintf; false, with out cut short, when it does not fit. */
__attribute__((format(printf, 4, 5)))
static bool subarg_append(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= cap)
		return false;
	va_start(ap, fmt);
	w = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *n)
		return false;
	*n += (size_t)w;
	return true;
}

size_t subarg_usage(char *out, size_t cap)
{
	size_t n = 0;
	bool ok = subarg_append(out, cap, &n, "usage: portshare-sub [options] TARGET...\n"
		"  TARGET is HOST/CONTESTED_PORT or HOST:REGPORT/CONTESTED_PORT, an IPv6 HOST\n"
		"  in brackets ([::1]:13162/162); REGPORT defaults to CONTESTED_PORT + %d.\n",
		SUBARG_REG_OFFSET);

	for (size_t i = 0; ok && i < SUBARG_NOPTS; i++) {
		const struct subarg_option *opt = &subarg_options[i];
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opt->name, opt->arg ? " " : "",
			 opt->arg ? opt->arg : "");
		ok = subarg_append(out, cap, &n, "  -%c, %-22s %s\n", opt->short_name, left,
				   opt->help);
	}
	return ok && subarg_append(out, cap, &n, "  -h, --help\n") ? n : 0;
}

bool subarg_check(const struct subarg_opts *o, const char **why)
{
	*why = NULL;
	if (o->hex && o->has_forward) {
		*why = "--hex and --forward exclude each other";
		return false;
	}
	return true;
}
