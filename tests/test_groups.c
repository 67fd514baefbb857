/*
 * Unit tests for the group snapshot: service lookup (address-bound and any
 * address), longest-prefix routing over source rules (IPv4, IPv6, port
 * ranges, ties, default group, refusal), the backend layout, validation,
 * and a randomised comparison against a brute-force router.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "groups.h"
#include "mapping.h"

static struct groups_group test_group(int64_t id, int family, const char *addr,
				      uint16_t port, unsigned protos, bool is_default)
{
	struct groups_group g = { .id = id, .family = (uint8_t)family, .virtual_port = port,
				  .protos = protos, .policy = SCHED_ROUND_ROBIN,
				  .max_wait_ms = 1000, .on_timeout = GROUPS_RESET,
				  .is_default = is_default };

	snprintf(g.name, sizeof(g.name), "group-%lld", (long long)id);
	snprintf(g.aid, sizeof(g.aid), "aid-%lld", (long long)id);
	if (family)
		ck_assert_int_eq(inet_pton(family, addr, g.addr), 1);
	return g;
}

/* A rule; lo == hi == 0 means no port range. */
static struct groups_rule test_rule(int64_t id, int64_t group, int family, const char *addr,
				    uint8_t plen, uint16_t lo, uint16_t hi)
{
	struct groups_rule r = { .id = id, .group_id = group, .family = (uint8_t)family,
				 .prefix_len = plen, .has_ports = lo || hi,
				 .port_lo = lo, .port_hi = hi };

	ck_assert_int_eq(inet_pton(family, addr, r.addr), 1);
	return r;
}

static struct groups *test_build(const struct groups_group *g, size_t ng,
				 const struct groups_rule *r, size_t nr)
{
	struct groups_input in = { g, ng, NULL, 0, r, nr };
	struct groups_error err = { "" };
	struct groups *s = groups_build(&in, &err);

	ck_assert_msg(s != NULL, "groups_build: %s", err.message);
	return s;
}

static struct pkt_key test_key(int family, const char *addr, uint8_t l4proto, uint16_t port)
{
	struct pkt_key k;

	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)family;
	k.l4proto = l4proto;
	k.port = port;
	ck_assert_int_eq(inet_pton(family, addr, k.addr), 1);
	return k;
}

/*
 * The id of the group that takes client:cport connecting to dst:port over
 * l4proto, 0 when refused, -1 when there is no such service.
 */
static int64_t test_route(const struct groups *g, int family, const char *dst, uint16_t port,
			  uint8_t l4proto, const char *client, uint16_t cport)
{
	struct pkt_key k = test_key(family, dst, l4proto, port);
	const struct groups_service *s = groups_find_service(g, &k);
	const struct groups_group *gr;
	uint8_t addr[16] = { 0 };

	if (!s)
		return -1;
	ck_assert_int_eq(inet_pton(family, client, addr), 1);
	gr = groups_route(g, s, (uint8_t)family, addr, cport);
	return gr ? gr->id : 0;
}

START_TEST(test_service_lookup)
{
	struct groups_group gs[] = {
		test_group(1, AF_INET, "192.0.2.10", 9000, MAPPING_TCP, true),
		test_group(2, 0, NULL, 9000, MAPPING_BOTH, true),
		test_group(3, AF_INET6, "2001:db8::1", 9000, MAPPING_UDP, true),
		test_group(4, AF_INET, "192.0.2.10", 9000, MAPPING_TCP, false),
	};
	struct groups *g = test_build(gs, 4, NULL, 0);
	struct pkt_key k = test_key(AF_INET, "192.0.2.10", IPPROTO_TCP, 9000);
	const struct groups_service *s = groups_find_service(g, &k);
	const struct groups_group *const *members;
	size_t n;

	ck_assert_ptr_nonnull(s);
	members = groups_service_groups(s, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(members[0]->id, 1);
	ck_assert_int_eq(members[1]->id, 4);
	/* The address-bound service wins over any address. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.10", 9000, IPPROTO_TCP, "10.0.0.1", 1), 1);
	/* Another address, or UDP to this one: the any-address group. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.11", 9000, IPPROTO_TCP, "10.0.0.1", 1), 2);
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.10", 9000, IPPROTO_UDP, "10.0.0.1", 1), 2);
	ck_assert_int_eq(test_route(g, AF_INET6, "2001:db8::2", 9000, IPPROTO_TCP, "::1", 1), 2);
	ck_assert_int_eq(test_route(g, AF_INET6, "2001:db8::1", 9000, IPPROTO_UDP, "::1", 1), 3);
	ck_assert_int_eq(test_route(g, AF_INET6, "2001:db8::1", 9000, IPPROTO_TCP, "::1", 1), 2);
	/* No service on another port. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.10", 9001, IPPROTO_TCP, "10.0.0.1", 1), -1);
	k = test_key(AF_INET, "192.0.2.10", IPPROTO_TCP, 9000);
	ck_assert_ptr_null(groups_find_service(NULL, &k));
	ck_assert_uint_eq(groups_count(g), 4);
	groups_free(g);
}
END_TEST

START_TEST(test_lpm_nested_ipv4)
{
	struct groups_group gs[] = {
		test_group(1, 0, NULL, 9000, MAPPING_TCP, false),
		test_group(2, 0, NULL, 9000, MAPPING_TCP, false),
		test_group(3, 0, NULL, 9000, MAPPING_TCP, false),
		test_group(4, 0, NULL, 9000, MAPPING_TCP, false),
		test_group(5, 0, NULL, 9000, MAPPING_TCP, true),
		test_group(6, 0, NULL, 9000, MAPPING_TCP, false),
	};
	struct groups_rule rs[] = {
		test_rule(10, 1, AF_INET, "10.0.0.0", 8, 0, 0),
		test_rule(11, 2, AF_INET, "10.1.0.0", 16, 0, 0),
		test_rule(12, 3, AF_INET, "10.1.2.0", 24, 0, 0),
		test_rule(13, 4, AF_INET, "10.1.2.3", 32, 0, 0),
		/* Host bits past the prefix are ignored. */
		test_rule(14, 6, AF_INET, "172.16.99.99", 12, 0, 0),
	};
	struct groups *g = test_build(gs, 6, rs, 5);

#define R(client) test_route(g, AF_INET, "192.0.2.1", 9000, IPPROTO_TCP, client, 40000)
	ck_assert_int_eq(R("10.1.2.3"), 4);
	ck_assert_int_eq(R("10.1.2.4"), 3);
	ck_assert_int_eq(R("10.1.3.3"), 2);
	ck_assert_int_eq(R("10.2.0.1"), 1);
	ck_assert_int_eq(R("10.255.255.255"), 1);
	ck_assert_int_eq(R("11.0.0.1"), 5);
	ck_assert_int_eq(R("9.255.255.255"), 5);
	ck_assert_int_eq(R("172.31.0.1"), 6);
	ck_assert_int_eq(R("172.32.0.1"), 5);
	/* An IPv6 client matches no IPv4 rule. */
	ck_assert_int_eq(test_route(g, AF_INET6, "2001:db8::1", 9000, IPPROTO_TCP,
				    "::ffff:10.1.2.3", 1), 5);
#undef R
	groups_free(g);
}
END_TEST

START_TEST(test_lpm_nested_ipv6)
{
	struct groups_group gs[] = {
		test_group(1, AF_INET6, "2001:db8::80", 443, MAPPING_BOTH, false),
		test_group(2, AF_INET6, "2001:db8::80", 443, MAPPING_BOTH, false),
		test_group(3, AF_INET6, "2001:db8::80", 443, MAPPING_BOTH, false),
		test_group(4, AF_INET6, "2001:db8::80", 443, MAPPING_BOTH, false),
		test_group(5, AF_INET6, "2001:db8::80", 443, MAPPING_BOTH, false),
	};
	struct groups_rule rs[] = {
		test_rule(1, 1, AF_INET6, "2001:db8::", 32, 0, 0),
		test_rule(2, 2, AF_INET6, "2001:db8:aa::", 48, 0, 0),
		test_rule(3, 3, AF_INET6, "2001:db8:aa:1::", 64, 0, 0),
		test_rule(4, 4, AF_INET6, "2001:db8:aa:1::7", 128, 0, 0),
		test_rule(5, 5, AF_INET6, "::", 0, 0, 0),
		/* /127 ends in the middle of the last byte. */
		test_rule(6, 2, AF_INET6, "2001:db8:aa:1::8", 127, 0, 0),
	};
	struct groups *g = test_build(gs, 5, rs, 6);

#define R(client, proto) test_route(g, AF_INET6, "2001:db8::80", 443, proto, client, 50000)
	ck_assert_int_eq(R("2001:db8:aa:1::7", IPPROTO_TCP), 4);
	ck_assert_int_eq(R("2001:db8:aa:1::7", IPPROTO_UDP), 4);
	ck_assert_int_eq(R("2001:db8:aa:1::6", IPPROTO_TCP), 3);
	ck_assert_int_eq(R("2001:db8:aa:1::8", IPPROTO_TCP), 2);
	ck_assert_int_eq(R("2001:db8:aa:1::9", IPPROTO_TCP), 2);
	ck_assert_int_eq(R("2001:db8:aa:1::a", IPPROTO_TCP), 3);
	ck_assert_int_eq(R("2001:db8:aa:2::1", IPPROTO_TCP), 2);
	ck_assert_int_eq(R("2001:db8:ab::1", IPPROTO_TCP), 1);
	/* ::/0 catches every other IPv6 client: no default needed. */
	ck_assert_int_eq(R("2001:db9::1", IPPROTO_UDP), 5);
#undef R
	/* Another address of the host has no service on this port. */
	ck_assert_int_eq(test_route(g, AF_INET6, "2001:db8::81", 443, IPPROTO_TCP, "::1", 1), -1);
	groups_free(g);
}
END_TEST

START_TEST(test_port_ranges_and_ties)
{
	struct groups_group gs[] = {
		test_group(1, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
		test_group(2, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
		test_group(3, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
		test_group(4, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
		test_group(5, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
		test_group(6, AF_INET, "192.0.2.1", 53, MAPPING_UDP, false),
	};
	struct groups_rule rs[] = {
		test_rule(5, 1, AF_INET, "10.0.0.0", 8, 0, 0),
		test_rule(7, 2, AF_INET, "10.0.0.0", 8, 1000, 1999),
		test_rule(3, 3, AF_INET, "10.0.0.0", 8, 1500, 2500),
		test_rule(8, 4, AF_INET, "10.1.0.0", 16, 5000, 5001),
		/* Two plain rules on one prefix: the lower id wins. */
		test_rule(20, 5, AF_INET, "10.9.0.0", 16, 0, 0),
		test_rule(19, 6, AF_INET, "10.9.0.0", 16, 0, 0),
	};
	struct groups *g = test_build(gs, 6, rs, 6);

#define R(client, port) test_route(g, AF_INET, "192.0.2.1", 53, IPPROTO_UDP, client, port)
	/* Port rules beat the plain rule of the same prefix, lower id first. */
	ck_assert_int_eq(R("10.0.0.1", 1600), 3);
	ck_assert_int_eq(R("10.0.0.1", 1200), 2);
	ck_assert_int_eq(R("10.0.0.1", 1000), 2);
	ck_assert_int_eq(R("10.0.0.1", 2500), 3);
	ck_assert_int_eq(R("10.0.0.1", 2501), 1);
	ck_assert_int_eq(R("10.0.0.1", 999), 1);
	/* A longer prefix whose ports do not match gives way to a shorter one. */
	ck_assert_int_eq(R("10.1.0.1", 80), 1);
	ck_assert_int_eq(R("10.1.0.1", 5000), 4);
	ck_assert_int_eq(R("10.1.0.1", 5001), 4);
	ck_assert_int_eq(R("10.1.0.1", 1700), 3);
	ck_assert_int_eq(R("10.9.1.1", 1700), 6);
	/* No rule, no default: refused. */
	ck_assert_int_eq(R("11.0.0.1", 1700), 0);
#undef R
	groups_free(g);
}
END_TEST

START_TEST(test_default_and_fallback)
{
	struct groups_group gs[] = {
		test_group(1, AF_INET, "192.0.2.1", 9000, MAPPING_TCP, false),
		test_group(2, 0, NULL, 9000, MAPPING_TCP, false),
		test_group(3, 0, NULL, 9000, MAPPING_TCP, true),
		test_group(4, AF_INET, "192.0.2.2", 9000, MAPPING_TCP, true),
		test_group(5, AF_INET, "192.0.2.3", 9000, MAPPING_TCP, false),
	};
	struct groups_rule rs[] = {
		test_rule(1, 1, AF_INET, "10.0.0.0", 8, 0, 0),
		test_rule(2, 2, AF_INET, "10.1.0.0", 16, 0, 0),
		test_rule(3, 4, AF_INET, "10.0.0.0", 8, 0, 0),
	};
	struct groups *g = test_build(gs, 5, rs, 3);

	/* The address-bound service's own rule wins, even over a longer any-address one. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.1", 9000, IPPROTO_TCP, "10.1.0.1", 1), 1);
	/* Unmatched there: the any-address service's rules, then its default. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.1", 9000, IPPROTO_TCP, "11.1.0.1", 1), 3);
	/* An address-bound default stops the fallback. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.2", 9000, IPPROTO_TCP, "10.1.0.1", 1), 4);
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.2", 9000, IPPROTO_TCP, "11.0.0.1", 1), 4);
	/* A service with no rules and no default falls back too. */
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.3", 9000, IPPROTO_TCP, "10.1.0.1", 1), 2);
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.9", 9000, IPPROTO_TCP, "10.1.0.1", 1), 2);
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.9", 9000, IPPROTO_TCP, "12.0.0.1", 1), 3);
	groups_free(g);
}
END_TEST

START_TEST(test_refuse_without_default)
{
	struct groups_group gs[] = {
		test_group(1, AF_INET, "192.0.2.1", 9000, MAPPING_TCP, false),
	};
	struct groups_rule rs[] = {
		test_rule(1, 1, AF_INET, "10.0.0.0", 8, 0, 0),
	};
	struct groups *g = test_build(gs, 1, rs, 1);
	struct pkt_key k = test_key(AF_INET, "192.0.2.1", IPPROTO_TCP, 9000);
	uint8_t addr[16] = { 10, 0, 0, 1 };

	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.1", 9000, IPPROTO_TCP, "10.0.0.1", 1), 1);
	ck_assert_int_eq(test_route(g, AF_INET, "192.0.2.1", 9000, IPPROTO_TCP, "11.0.0.1", 1), 0);
	/* An unknown client family is refused, not guessed. */
	ck_assert_ptr_null(groups_route(g, groups_find_service(g, &k), 0, addr, 1));
	ck_assert_ptr_null(groups_route(NULL, NULL, AF_INET, addr, 1));
	groups_free(g);
}
END_TEST

START_TEST(test_backends)
{
	struct groups_group gs[] = {
		test_group(7, 0, NULL, 9000, MAPPING_TCP, true),
		test_group(3, 0, NULL, 8000, MAPPING_TCP, true),
		test_group(5, 0, NULL, 7000, MAPPING_TCP, true),
	};
	uint32_t active[4] = { 0 };
	struct groups_backend bs[] = {
		{ 7, { .id = 40, .port = 9003, .weight = 1, .active = &active[0] } },
		{ 3, { .id = 10, .port = 8001, .weight = 2, .active = &active[1] } },
		{ 7, { .id = 20, .port = 9001, .weight = 3, .state = SCHED_DRAIN,
		       .active = &active[2] } },
		{ 7, { .id = 30, .port = 9002, .weight = 1000, .max_flows = 5,
		       .active = &active[3] } },
	};
	struct groups_input in = { gs, 3, bs, 4, NULL, 0 };
	struct groups *g = groups_build(&in, NULL);
	const struct groups_group *g7, *g3, *g5, *owner = NULL;
	const struct sched_backend *b;

	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(groups_backend_count(g), 4);
	g3 = groups_find(g, 3);
	g5 = groups_find(g, 5);
	g7 = groups_find(g, 7);
	ck_assert_ptr_nonnull(g3);
	ck_assert_ptr_nonnull(g5);
	ck_assert_ptr_nonnull(g7);
	ck_assert_ptr_null(groups_find(g, 4));
	/* Groups in id order, backends in id order within their group. */
	ck_assert_uint_eq(g3->nbackends, 1);
	ck_assert_uint_eq(g3->first_backend, 0);
	ck_assert_uint_eq(g5->nbackends, 0);
	ck_assert_uint_eq(g7->nbackends, 3);
	ck_assert_uint_eq(g7->first_backend, 1);
	ck_assert_int_eq(g7->backends[0].id, 20);
	ck_assert_int_eq(g7->backends[1].id, 30);
	ck_assert_int_eq(g7->backends[2].id, 40);
	ck_assert_int_eq(g7->backends[0].state, SCHED_DRAIN);
	ck_assert_uint_eq(g7->backends[1].max_flows, 5);
	ck_assert_ptr_eq(g7->backends[1].active, &active[3]);
	ck_assert_str_eq(g7->name, "group-7");
	ck_assert_str_eq(g7->aid, "aid-7");
	b = groups_find_backend(g, 30, &owner);
	ck_assert_ptr_eq(b, &g7->backends[1]);
	ck_assert_ptr_eq(owner, g7);
	ck_assert_ptr_eq(groups_find_backend(g, 10, NULL), &g3->backends[0]);
	ck_assert_ptr_null(groups_find_backend(g, 11, NULL));
	ck_assert_ptr_null(groups_find_backend(NULL, 10, NULL));
	groups_free(g);
}
END_TEST

START_TEST(test_empty)
{
	struct groups_input in = { 0 };
	struct groups *g = groups_build(&in, NULL);
	struct pkt_key k = test_key(AF_INET, "192.0.2.1", IPPROTO_TCP, 9000);

	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_null(groups_find_service(g, &k));
	ck_assert_uint_eq(groups_count(g), 0);
	ck_assert_uint_eq(groups_backend_count(g), 0);
	ck_assert_ptr_null(groups_find(g, 1));
	groups_free(g);
	groups_free(NULL);
}
END_TEST

/* Builds with one thing wrong and checks the refusal names it. */
static void test_refused(const struct groups_input *in, const char *needle)
{
	struct groups_error err = { "" };

	errno = 0;
	ck_assert_ptr_null(groups_build(in, &err));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err.message, needle) != NULL, "\"%s\" lacks \"%s\"",
		      err.message, needle);
}

START_TEST(test_validation)
{
	uint32_t active = 0;
	struct groups_group gs[] = {
		test_group(1, AF_INET, "192.0.2.1", 9000, MAPPING_TCP, true),
		test_group(2, 0, NULL, 9000, MAPPING_BOTH, false),
	};
	struct groups_backend b = { 1, { .id = 1, .port = 9001, .weight = 1, .active = &active } };
	struct groups_rule r = test_rule(1, 1, AF_INET, "10.0.0.0", 8, 0, 0);
	struct groups_input in = { gs, 2, &b, 1, &r, 1 };
	struct groups_group bad[2];
	struct groups_backend bb[2];
	struct groups_rule rr[2];
	struct groups *g = groups_build(&in, NULL);

	ck_assert_ptr_nonnull(g);
	groups_free(g);

	memcpy(bad, gs, sizeof(gs));
	in.groups = bad;
	bad[1].id = 1;
	test_refused(&in, "duplicate");
	memcpy(bad, gs, sizeof(gs));
	bad[1] = test_group(2, AF_INET, "192.0.2.1", 9000, MAPPING_BOTH, true);
	test_refused(&in, "both default");
	memcpy(bad, gs, sizeof(gs));
	bad[1].family = 99;
	test_refused(&in, "family");
	memcpy(bad, gs, sizeof(gs));
	bad[1].virtual_port = 0;
	test_refused(&in, "port 0");
	memcpy(bad, gs, sizeof(gs));
	bad[1].protos = 4;
	test_refused(&in, "protocol");
	memcpy(bad, gs, sizeof(gs));
	bad[1].policy = SCHED_POLICY_COUNT;
	test_refused(&in, "policy");
	memcpy(bad, gs, sizeof(gs));
	bad[1].on_timeout = GROUPS_ON_TIMEOUT_COUNT;
	test_refused(&in, "timeout");
	memcpy(bad, gs, sizeof(gs));
	memset(bad[1].name, 'x', sizeof(bad[1].name));
	test_refused(&in, "too long");
	in.groups = gs;

	in.backends = bb;
	bb[0] = b;
	bb[0].b.weight = 0;
	test_refused(&in, "weight");
	bb[0].b.weight = SCHED_WEIGHT_MAX + 1;
	test_refused(&in, "weight");
	bb[0] = b;
	bb[0].group_id = 9;
	test_refused(&in, "no group 9");
	bb[0] = b;
	bb[0].b.active = NULL;
	test_refused(&in, "counter");
	bb[0] = b;
	bb[0].b.state = SCHED_STATE_COUNT;
	test_refused(&in, "state");
	bb[0] = b;
	bb[0].b.port = 0;
	test_refused(&in, "port 0");
	bb[0] = b;
	bb[1] = b;
	bb[1].group_id = 2;
	in.nbackends = 2;
	test_refused(&in, "duplicate");
	in.backends = &b;
	in.nbackends = 1;

	in.rules = rr;
	rr[0] = r;
	rr[0].prefix_len = 33;
	test_refused(&in, "too long");
	rr[0] = test_rule(1, 1, AF_INET6, "2001:db8::", 32, 0, 0);
	test_refused(&in, "family differs");
	rr[0] = r;
	rr[0].family = AF_UNIX;
	test_refused(&in, "family");
	rr[0] = test_rule(1, 2, AF_INET, "10.0.0.0", 8, 2000, 1000);
	test_refused(&in, "empty");
	rr[0] = r;
	rr[0].group_id = 3;
	test_refused(&in, "no group 3");
	rr[0] = r;
	rr[1] = test_rule(1, 2, AF_INET6, "2001:db8::", 32, 0, 0);
	in.nrules = 2;
	test_refused(&in, "duplicate");
	/* The error is optional. */
	errno = 0;
	ck_assert_ptr_null(groups_build(&in, NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_backend_limit)
{
	enum { N = SCHED_MAX_BACKENDS + 1 };
	struct groups_group gr = test_group(1, 0, NULL, 80, MAPPING_TCP, true);
	struct groups_backend *bs = calloc(N, sizeof(*bs));
	uint32_t active = 0;
	struct groups_input in = { &gr, 1, bs, N - 1, NULL, 0 };
	struct groups *g;

	ck_assert_ptr_nonnull(bs);
	for (int i = 0; i < N; i++)
		bs[i] = (struct groups_backend){ 1, { .id = i, .port = (uint16_t)(1000 + i),
						      .weight = 1, .active = &active } };
	g = groups_build(&in, NULL);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(groups_find(g, 1)->nbackends, SCHED_MAX_BACKENDS);
	groups_free(g);
	in.nbackends = N;
	test_refused(&in, "more than");
	free(bs);
}
END_TEST

/*
 * The reference router: every rule compared in turn, the best kept by
 * (longer prefix, has ports, lower id).
 */
static int64_t test_brute_route(const struct groups_rule *rs, size_t n, const uint8_t addr[4],
				uint16_t port)
{
	const struct groups_rule *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct groups_rule *r = &rs[i];
		uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			     (uint32_t)addr[2] << 8 | addr[3];
		uint32_t p = (uint32_t)r->addr[0] << 24 | (uint32_t)r->addr[1] << 16 |
			     (uint32_t)r->addr[2] << 8 | r->addr[3];
		uint32_t mask = r->prefix_len ? ~0u << (32 - r->prefix_len) : 0;

		if ((a & mask) != (p & mask))
			continue;
		if (r->has_ports && (port < r->port_lo || port > r->port_hi))
			continue;
		if (!best || r->prefix_len > best->prefix_len ||
		    (r->prefix_len == best->prefix_len &&
		     (r->has_ports > best->has_ports ||
		      (r->has_ports == best->has_ports && r->id < best->id))))
			best = r;
	}
	return best ? best->group_id : 100;
}

START_TEST(test_many_rules_match_brute_force)
{
	enum { GROUPS = 100, RULES = 5000, LOOKUPS = 20000 };
	struct groups_group *gs = calloc(GROUPS + 1, sizeof(*gs));
	struct groups_rule *rs = calloc(RULES, sizeof(*rs));
	struct groups *g;
	unsigned seed = 12345;

	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(rs);
	for (int i = 0; i < GROUPS; i++)
		gs[i] = test_group(i, 0, NULL, 9000, MAPPING_TCP, false);
	gs[GROUPS] = test_group(100, 0, NULL, 9000, MAPPING_TCP, true);
	/* Rules crowd into 10.0.0.0/12 so that prefixes nest and collide. */
	for (int i = 0; i < RULES; i++) {
		struct groups_rule *r = &rs[i];

		r->id = RULES - i;
		r->group_id = rand_r(&seed) % GROUPS;
		r->family = AF_INET;
		r->prefix_len = (uint8_t)(8 + rand_r(&seed) % 25);
		r->addr[0] = 10;
		r->addr[1] = (uint8_t)(rand_r(&seed) % 16);
		r->addr[2] = (uint8_t)(rand_r(&seed) % 4);
		r->addr[3] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 4 == 0) {
			r->has_ports = true;
			r->port_lo = (uint16_t)(rand_r(&seed) % 60000);
			r->port_hi = (uint16_t)(r->port_lo + rand_r(&seed) % 5000);
		}
	}
	g = test_build(gs, GROUPS + 1, rs, RULES);
	for (int i = 0; i < LOOKUPS; i++) {
		struct pkt_key k = test_key(AF_INET, "192.0.2.1", IPPROTO_TCP, 9000);
		uint8_t addr[16] = { 10, (uint8_t)(rand_r(&seed) % 17), (uint8_t)(rand_r(&seed) % 5),
				     (uint8_t)rand_r(&seed) };
		uint16_t port = (uint16_t)rand_r(&seed);
		const struct groups_group *gr;

		gr = groups_route(g, groups_find_service(g, &k), AF_INET, addr, port);
		ck_assert_ptr_nonnull(gr);
		ck_assert_int_eq(gr->id, test_brute_route(rs, RULES, addr, port));
	}
	groups_free(g);
	free(rs);
	free(gs);
}
END_TEST

START_TEST(test_on_timeout_names)
{
	enum groups_on_timeout t;

	ck_assert(groups_on_timeout_parse("reset", &t));
	ck_assert_int_eq(t, GROUPS_RESET);
	ck_assert(groups_on_timeout_parse("drop", &t));
	ck_assert_int_eq(t, GROUPS_DROP);
	ck_assert(!groups_on_timeout_parse("reject", &t));
	ck_assert_str_eq(groups_on_timeout_name(GROUPS_DROP), "drop");
	ck_assert_str_eq(groups_on_timeout_name(GROUPS_ON_TIMEOUT_COUNT), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("groups");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_service_lookup);
	tcase_add_test(tc, test_lpm_nested_ipv4);
	tcase_add_test(tc, test_lpm_nested_ipv6);
	tcase_add_test(tc, test_port_ranges_and_ties);
	tcase_add_test(tc, test_default_and_fallback);
	tcase_add_test(tc, test_refuse_without_default);
	tcase_add_test(tc, test_backends);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_backend_limit);
	tcase_add_test(tc, test_many_rules_match_brute_force);
	tcase_add_test(tc, test_on_timeout_names);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
