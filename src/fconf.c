/*
 * fconf: see fconf.h.  A check looks at one changed row against the rest,
 * O(n), rather than at every pair: a write changes one row, and the
 * configuration was consistent before it.
 */
#include "fconf.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* The highest sample_every: one datagram in a million. */
#define FCONF_SAMPLE_MAX 1000000

ssize_t fconf_port_index(const struct fconf_rows *r, int64_t id)
{
	return util_rows_find(r->ports, r->nports, sizeof(*r->ports),
			      offsetof(struct fconf_port, p.id), id);
}

ssize_t fconf_sub_index(const struct fconf_rows *r, int64_t id)
{
	return util_rows_find(r->subs, r->nsubs, sizeof(*r->subs),
			      offsetof(struct fconf_sub, s.id), id);
}

void fconf_free(struct fconf_rows *r)
{
	free(r->ports);
	free(r->subs);
	memset(r, 0, sizeof(*r));
}

int fconf_copy(const struct fconf_rows *a, struct fconf_rows *out)
{
	memset(out, 0, sizeof(*out));
	out->ports = util_rows_dup(a->ports, a->nports, sizeof(*a->ports));
	out->subs = util_rows_dup(a->subs, a->nsubs, sizeof(*a->subs));
	if (!out->ports || !out->subs) {
		fconf_free(out);
		return -1;
	}
	out->nports = a->nports;
	out->nsubs = a->nsubs;
	return 0;
}

int64_t fconf_next_port_id(const struct fconf_rows *r)
{
	return r->nports ? r->ports[r->nports - 1].p.id + 1 : 1;
}

int64_t fconf_next_sub_id(const struct fconf_rows *r)
{
	return r->nsubs ? r->subs[r->nsubs - 1].s.id + 1 : 1;
}

void fconf_sub_remove(struct fconf_rows *r, size_t k)
{
	util_rows_remove(r->subs, &r->nsubs, sizeof(*r->subs), k);
}

/* Removes port i with its subscribers, as the store's cascade does. */
void fconf_port_remove(struct fconf_rows *r, size_t i)
{
	int64_t id = r->ports[i].p.id;

	util_rows_remove(r->ports, &r->nports, sizeof(*r->ports), i);
	/* Backwards, so that what a removal shifts down was looked at already. */
	for (size_t k = r->nsubs; k-- > 0;)
		if (r->subs[k].s.port_id == id)
			fconf_sub_remove(r, k);
}

size_t fconf_count_subs(const struct fconf_rows *r, int64_t id)
{
	size_t n = 0;

	for (size_t k = 0; k < r->nsubs; k++)
		n += r->subs[k].s.port_id == id;
	return n;
}

int fconf_subs_of(const struct fconf_rows *r, int64_t id, struct fctl_sub **out,
		  size_t *n)
{
	*n = 0;
	*out = malloc((fconf_count_subs(r, id) + 1) * sizeof(**out));
	if (!*out)
		return -1;
	for (size_t k = 0; k < r->nsubs; k++)
		if (r->subs[k].s.port_id == id)
			(*out)[(*n)++] = r->subs[k].s;
	return 0;
}

/* Clears what s's family does not use: the path of an IP target, the address of a path. */
void fconf_sub_clean(struct fctl_sub *s)
{
	size_t len;

	if (s->family != AF_UNIX) {
		mapping_addr_clean(s->family, s->addr);
		memset(s->path, 0, sizeof(s->path));
		return;
	}
	memset(s->addr, 0, sizeof(s->addr));
	len = strnlen(s->path, sizeof(s->path));
	memset(s->path + len, 0, sizeof(s->path) - len);
}

bool fconf_same_target(const struct fctl_sub *a, const struct fctl_sub *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_UNIX)
		return strncmp(a->path, b->path, sizeof(a->path)) == 0;
	return a->port == b->port && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

void fconf_target_str(const struct fctl_sub *s, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (s->family == AF_UNIX) {
		snprintf(out, len, "%.*s", (int)sizeof(s->path), s->path);
		return;
	}
	if (inet_ntop(s->family, s->addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	snprintf(out, len, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, s->port);
}

bool fconf_port_defaults(struct fctl_port *p, struct mapping_error *err)
{
	unsigned reg = (unsigned)p->port + FCTL_REGISTRATION_OFFSET;

	if (p->registration_port != 0 || p->port == 0)
		return true;
	if (reg > 65535)
		return mapping_fail(err, 422, "invalid_registration_port", "registration_port",
				    "port %u has no default registration port (%u is past "
				    "65535): give one", p->port, reg);
	p->registration_port = (uint16_t)reg;
	return true;
}

bool fconf_check_port(const struct fconf_rows *r, size_t i, struct mapping_error *err)
{
	const struct fctl_port *p = &r->ports[i].p;

	if (p->port == 0)
		return mapping_fail(err, 422, "invalid_port", "port",
				    "a contested port is 1 to 65535");
	if (p->family != 0 && p->family != AF_INET && p->family != AF_INET6)
		return mapping_fail(err, 422, "invalid_address", "address",
				    "a contested port's address is an IPv4 or IPv6 "
				    "address, or none for every local address");
	if (p->registration_port == 0 || p->registration_port == p->port)
		return mapping_fail(err, 422, "invalid_registration_port", "registration_port",
				    "the registration port is 1 to 65535 and not the "
				    "contested port itself");
	for (size_t j = 0; j < r->nports; j++) {
		const struct fctl_port *o = &r->ports[j].p;

		if (j == i)
			continue;
		if (o->port == p->port)
			return mapping_fail(err, 409, "conflict", "port", "port %u is already "
					    "contested (id %" PRId64 ")", p->port, o->id);
		if (o->registration_port == p->port)
			return mapping_fail(err, 409, "conflict", "port", "port %u is the "
					    "registration port of contested port %u", p->port,
					    o->port);
		if (o->registration_port == p->registration_port || o->port == p->registration_port)
			return mapping_fail(err, 409, "conflict", "registration_port",
					    "registration port %u is already used by "
					    "contested port %u", p->registration_port, o->port);
	}
	return true;
}

/*
 * Checks s's own values and that its contested port exists in r.  Returns
 * true, or false with err filled.
 */
static bool fconf_check_sub_values(const struct fconf_rows *r, const struct fctl_sub *s,
				   struct mapping_error *err)
{
	if (fconf_port_index(r, s->port_id) < 0)
		return mapping_fail(err, 422, "unknown_port", "contested_port",
				    "no contested port with id %" PRId64, s->port_id);
	if ((unsigned)s->mode >= FCTL_MODE_COUNT)
		return mapping_fail(err, 422, "invalid_mode", "mode", "the mode is raw, "
				    "spoof, framed_udp, framed_tcp or framed_unix");
	if (s->mode == FCTL_FRAMED_UNIX) {
		size_t len = strnlen(s->path, sizeof(s->path));

		if (s->family != AF_UNIX || s->path[0] != '/' || len == sizeof(s->path))
			return mapping_fail(err, 422, "invalid_address", "address",
					    "framed_unix takes the absolute path of a socket, "
					    "shorter than %d bytes", FCTL_PATH_MAX);
		if (s->port != 0)
			return mapping_fail(err, 422, "invalid_port", "port",
					    "framed_unix takes no port");
	} else {
		if (s->family != AF_INET && s->family != AF_INET6)
			return mapping_fail(err, 422, "invalid_address", "address",
					    "%s takes an IPv4 or IPv6 address",
					    fctl_mode_name(s->mode));
		if (s->port == 0)
			return mapping_fail(err, 422, "invalid_port", "port",
					    "a subscriber's port is 1 to 65535");
	}
	if (s->sample_every < 1 || s->sample_every > FCONF_SAMPLE_MAX)
		return mapping_fail(err, 422, "invalid_sample_every", "sample_every",
				    "sample_every is 1 to %d", FCONF_SAMPLE_MAX);
	return true;
}

/* A duplicate comes first: the registrar answers it "Already Added", even on a full port. */
bool fconf_check_sub(const struct fconf_rows *r, size_t i, struct mapping_error *err)
{
	const struct fctl_sub *s = &r->subs[i].s;
	size_t others = 0;
	char target[FCTL_PATH_MAX + 8];

	if (!fconf_check_sub_values(r, s, err))
		return false;
	for (size_t j = 0; j < r->nsubs; j++) {
		const struct fctl_sub *o = &r->subs[j].s;

		if (j == i || o->port_id != s->port_id)
			continue;
		if (fconf_same_target(o, s)) {
			fconf_target_str(s, target, sizeof(target));
			return mapping_fail(err, 409, "conflict", "address", "%s is already "
					    "subscribed (id %" PRId64 ")", target, o->id);
		}
		others++;
	}
	if (others >= FCTL_MAX_SUBS)
		return mapping_fail(err, 409, "too_many", "contested_port", "contested port "
				    "%u has %d subscribers already, the most it may have",
				    r->ports[fconf_port_index(r, s->port_id)].p.port,
				    FCTL_MAX_SUBS);
	return true;
}

static int fconf_cmp_port(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

int fconf_enabled_ports(const struct fconf_rows *r, uint16_t **ports, size_t *n)
{
	uint16_t *p = calloc(r->nports + 1, sizeof(*p));
	size_t m = 0, k = 0;

	if (!p)
		return -1;
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i].p.enabled)
			p[m++] = r->ports[i].p.port;
	qsort(p, m, sizeof(*p), fconf_cmp_port);
	for (size_t i = 0; i < m; i++)
		if (k == 0 || p[k - 1] != p[i])
			p[k++] = p[i];
	*ports = p;
	*n = k;
	return 0;
}

/* The pairs of subscribers need no check: the schema's UNIQUE holds that rule. */
int fconf_check_loaded(const struct fconf_rows *r, char *errbuf, size_t errlen)
{
	struct mapping_error err = { 0 };
	size_t *count = calloc(r->nports + 1, sizeof(*count));
	int rc = -1;

	if (!count) {
		snprintf(errbuf, errlen, "fanout: out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->nports; i++) {
		if (!fconf_check_port(r, i, &err)) {
			snprintf(errbuf, errlen, "fanout: contested port %" PRId64 ": %s",
				 r->ports[i].p.id, err.message);
			goto out;
		}
	}
	for (size_t k = 0; k < r->nsubs; k++) {
		const struct fctl_sub *s = &r->subs[k].s;

		if (!fconf_check_sub_values(r, s, &err)) {
			snprintf(errbuf, errlen, "fanout: subscriber %" PRId64 ": %s", s->id,
				 err.message);
			goto out;
		}
		if (++count[fconf_port_index(r, s->port_id)] > FCTL_MAX_SUBS) {
			snprintf(errbuf, errlen, "fanout: contested port %" PRId64 " has more "
				 "than %d subscribers", s->port_id, FCTL_MAX_SUBS);
			goto out;
		}
	}
	rc = 0;
out:
	free(count);
	return rc;
}

