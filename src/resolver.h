/*
 * resolver: turns a domain name into the addresses a mapping matches.  It
 * blocks (getaddrinfo), so only the control plane calls it, never the packet
 * path.
 */
#ifndef PORTSHARE_RESOLVER_H
#define PORTSHARE_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESOLVER_MAX 8

struct resolver_result {
	size_t naddrs;
	uint8_t family[RESOLVER_MAX]; /* AF_INET or AF_INET6 */
	uint8_t addr[RESOLVER_MAX][16];
	char error[128];              /* set when naddrs is 0 */
	bool temporary;               /* the failure may go away (EAI_AGAIN) */
};

/*
 * Resolves name to at most RESOLVER_MAX distinct IPv4 and IPv6 addresses,
 * sorted so that two lookups of an unchanged name compare equal.  Returns 0,
 * or -1 with out->error saying why (and naddrs 0).
 */
int resolver_lookup(const char *name, struct resolver_result *out);

/* True when a and b hold the same addresses. */
int resolver_same(const struct resolver_result *a, const struct resolver_result *b);

/* Formats address i of r into buf (at least 46 bytes). */
void resolver_format(const struct resolver_result *r, size_t i, char *buf,
		     size_t len);

#endif
