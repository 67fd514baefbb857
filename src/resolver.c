/*
 * resolver: see resolver.h.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolver.h"

struct resolver_addr {
	uint8_t family;
	uint8_t addr[16];
};

static int resolver_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct resolver_addr));
}

int resolver_lookup(const char *name, struct resolver_result *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct resolver_addr found[RESOLVER_MAX];
	struct addrinfo *res = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(out->error, sizeof(out->error), "%s", gai_strerror(rc));
		out->temporary = rc == EAI_AGAIN;
		return -1;
	}
	for (struct addrinfo *ai = res; ai && n < RESOLVER_MAX; ai = ai->ai_next) {
		struct resolver_addr a = { 0 };
		bool dup = false;

		if (ai->ai_family == AF_INET) {
			a.family = AF_INET;
			memcpy(a.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a.family = AF_INET6;
			memcpy(a.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (size_t i = 0; i < n; i++)
			dup |= memcmp(&found[i], &a, sizeof(a)) == 0;
		if (!dup)
			found[n++] = a;
	}
	freeaddrinfo(res);
	if (n == 0) {
		snprintf(out->error, sizeof(out->error), "no IPv4 or IPv6 address");
		return -1;
	}
	qsort(found, n, sizeof(found[0]), resolver_cmp);
	for (size_t i = 0; i < n; i++) {
		out->family[i] = found[i].family;
		memcpy(out->addr[i], found[i].addr, 16);
	}
	out->naddrs = n;
	return 0;
}

int resolver_same(const struct resolver_result *a, const struct resolver_result *b)
{
	return a->naddrs == b->naddrs &&
	       memcmp(a->family, b->family, a->naddrs) == 0 &&
	       memcmp(a->addr, b->addr, a->naddrs * 16) == 0 &&
	       strcmp(a->error, b->error) == 0;
}

void resolver_format(const struct resolver_result *r, size_t i, char *buf,
		     size_t len)
{
	if (!inet_ntop(r->family[i], r->addr[i], buf, (socklen_t)len))
		snprintf(buf, len, "?");
}
