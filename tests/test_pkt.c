/*
 * Unit tests for pkt: golden IPv4/IPv6 TCP/UDP packets rewritten in both
 * directions, ICMP errors quoting them, checksum corner cases, the resets
 * and port unreachables that refuse a client, and garbage.
 *
 * The packets are built here and their checksums computed by a reference
 * routine that shares nothing with pkt.c: it sums bytes one at a time in
 * network order and builds the pseudo-header explicitly.  A rewrite is right
 * when the result is byte for byte the packet the builder makes with the new
 * port, and when every checksum in it verifies with the reference routine.
 * A refusal is right when it is byte for byte the packet the builder makes
 * from the expected fields, and its checksums verify the same way.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

#define SHARED_PORT 8080
#define ASSIGNED_PORT 18080
#define PEER_PORT 51234

#define TP_MAX (40 + 65535 + 64)

/* A packet under construction, with what the reference checksum needs. */
struct tpkt {
	uint8_t b[TP_MAX];
	size_t len;     /* the IP length; the buffer may hold more */
	int family;
	size_t nh_off;  /* the byte naming the header after the last one */
	uint8_t proto;  /* the transport protocol */
	size_t l4_off;
};

enum host { LOCAL, PEER, ROUTER };

static const uint8_t hosts4[3][4] = {
	{ 192, 0, 2, 10 },
	{ 198, 51, 100, 20 },
	{ 203, 0, 113, 1 },
};

static const uint8_t hosts6[3][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x20 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 0x01 },
};

static const uint8_t *host_addr(int family, enum host h)
{
	return family == AF_INET ? hosts4[h] : hosts6[h];
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xff);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)(v & 0xffff));
}

/* Reference one's complement sum: byte by byte, even offsets high. */
static uint32_t ref_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t csum_field(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

static size_t src_off(const struct tpkt *p)
{
	return p->family == AF_INET ? 12 : 8;
}

static size_t dst_off(const struct tpkt *p)
{
	return p->family == AF_INET ? 16 : 24;
}

/* The pseudo-header sum (RFC 768/793 for IPv4, RFC 8200 for IPv6). */
static uint32_t ref_pseudo(const struct tpkt *p, size_t l4_len)
{
	uint32_t sum = 0;

	if (p->proto == IPPROTO_ICMP)
		return 0;
	sum = ref_add(sum, p->b + src_off(p), addr_len(p->family));
	sum = ref_add(sum, p->b + dst_off(p), addr_len(p->family));
	sum += p->proto;
	sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
	return sum;
}

/* The length the transport checksum covers. */
static size_t ref_l4_len(const struct tpkt *p)
{
	if (p->proto == IPPROTO_UDP)
		return rd16(p->b + p->l4_off + 4);
	return p->len - p->l4_off;
}

static uint16_t ref_l4_sum(const struct tpkt *p)
{
	size_t n = ref_l4_len(p);

	return ref_fold(ref_add(ref_pseudo(p, n), p->b + p->l4_off, n));
}

static bool ref_l4_ok(const struct tpkt *p)
{
	return ref_l4_sum(p) == 0xffff;
}

static bool ref_ip_ok(const struct tpkt *p)
{
	if (p->family == AF_INET6)
		return true;
	return ref_fold(ref_add(0, p->b, (size_t)(p->b[0] & 0x0f) * 4)) == 0xffff;
}

static void tp_ip(struct tpkt *p, int family, enum host src, enum host dst)
{
	const size_t alen = addr_len(family);

	memset(p, 0, sizeof(*p));
	p->family = family;
	if (family == AF_INET) {
		p->b[0] = 0x45;
		wr16(p->b + 4, 0x1234);
		wr16(p->b + 6, 0x4000);
		p->b[8] = 64;
		p->nh_off = 9;
		p->len = 20;
	} else {
		p->b[0] = 0x60;
		p->b[1] = 0x0a;
		p->b[3] = 0x5c;
		p->b[7] = 64;
		p->nh_off = 6;
		p->len = 40;
	}
	memcpy(p->b + src_off(p), host_addr(family, src), alen);
	memcpy(p->b + dst_off(p), host_addr(family, dst), alen);
}

/* Appends an IPv6 extension header of size bytes, padded with PadN. */
static void tp_ext(struct tpkt *p, uint8_t type, size_t size)
{
	uint8_t *h = p->b + p->len;

	p->b[p->nh_off] = type;
	h[1] = type == IPPROTO_AH ? (uint8_t)(size / 4 - 2)
				  : (uint8_t)(size / 8 - 1);
	if (type == IPPROTO_HOPOPTS || type == IPPROTO_DSTOPTS) {
		h[2] = 1;
		h[3] = (uint8_t)(size - 4);
	}
	p->nh_off = p->len;
	p->len += size;
}

static void tp_frag6(struct tpkt *p, uint16_t offset, bool more)
{
	uint8_t *h = p->b + p->len;

	p->b[p->nh_off] = IPPROTO_FRAGMENT;
	wr16(h + 2, (uint16_t)(offset << 3 | more));
	h[4] = 0xfe;
	h[7] = 0x01;
	p->nh_off = p->len;
	p->len += 8;
}

static void tp_payload(struct tpkt *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p->b[p->len + i] = (uint8_t)(i * 37 + 11);
	p->len += n;
}

static void tp_l4(struct tpkt *p, uint8_t proto, uint16_t sport,
		  uint16_t dport, size_t payload)
{
	uint8_t *h = p->b + p->len;

	p->b[p->nh_off] = proto;
	p->proto = proto;
	p->l4_off = p->len;
	wr16(h, sport);
	wr16(h + 2, dport);
	if (proto == IPPROTO_TCP) {
		memcpy(h + 4, "\x01\x02\x03\x04\x0a\x0b\x0c\x0d", 8);
		h[12] = 0x50;
		h[13] = 0x18;
		wr16(h + 14, 0xfaf0);
		p->len += 20;
	} else {
		p->len += 8;
	}
	tp_payload(p, payload);
}

static void tp_icmp(struct tpkt *p, uint8_t type, uint8_t code, uint16_t mtu,
		    const struct tpkt *inner, size_t quote)
{
	uint8_t *h = p->b + p->len;

	p->proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	p->b[p->nh_off] = p->proto;
	p->l4_off = p->len;
	h[0] = type;
	h[1] = code;
	wr16(h + 6, mtu);
	memcpy(h + 8, inner->b, quote);
	p->len += 8 + quote;
}

static void tp_set_lengths(struct tpkt *p)
{
	if (p->family == AF_INET) {
		wr16(p->b + 2, (uint16_t)p->len);
		wr16(p->b + 10, 0);
		wr16(p->b + 10, (uint16_t)~ref_fold(ref_add(0, p->b, 20)));
	} else {
		wr16(p->b + 4, (uint16_t)(p->len - 40));
	}
	if (p->proto == IPPROTO_UDP)
		wr16(p->b + p->l4_off + 4, (uint16_t)(p->len - p->l4_off));
}

static void tp_set_csum(struct tpkt *p)
{
	uint8_t *field = p->b + p->l4_off + csum_field(p->proto);
	uint16_t c;

	wr16(field, 0);
	c = (uint16_t)~ref_l4_sum(p);
	if (p->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	wr16(field, c);
}

static void tp_finish(struct tpkt *p)
{
	tp_set_lengths(p);
	tp_set_csum(p);
}

/*
 * Puts in the checksum field what the kernel leaves there for
 * CHECKSUM_PARTIAL: the folded pseudo-header sum, not complemented.
 */
static void tp_make_partial(struct tpkt *p)
{
	wr16(p->b + p->l4_off + csum_field(p->proto),
	     ref_fold(ref_pseudo(p, ref_l4_len(p))));
}

static uint16_t tp_csum(const struct tpkt *p)
{
	return rd16(p->b + p->l4_off + csum_field(p->proto));
}

/* A plain TCP/UDP packet to (PKT_IN) or from (PKT_OUT) the given port. */
static void tp_plain(struct tpkt *p, int family, uint8_t proto,
		     enum pkt_dir dir, uint16_t local_port, size_t payload)
{
	if (dir == PKT_IN) {
		tp_ip(p, family, PEER, LOCAL);
		tp_l4(p, proto, PEER_PORT, local_port, payload);
	} else {
		tp_ip(p, family, LOCAL, PEER);
		tp_l4(p, proto, local_port, PEER_PORT, payload);
	}
	tp_finish(p);
}

/*
 * Parses and rewrites p->b[0, n) in a heap copy of exactly n bytes so that
 * the sanitizer sees any access past the end.  Returns what pkt_parse said.
 */
static bool run(struct tpkt *p, size_t n, enum pkt_dir dir,
		struct pkt_key *key, uint16_t port, bool partial)
{
	uint8_t *copy = malloc(n ? n : 1);
	struct pkt_view view;
	bool ok;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p->b, n);
	ok = pkt_parse(copy, n, dir, key, &view);
	if (ok)
		pkt_rewrite(copy, n, &view, port, partial);
	else
		ck_assert_mem_eq(copy, p->b, n);
	memcpy(p->b, copy, n);
	free(copy);
	return ok;
}

static void check_key(const struct pkt_key *key, int family, uint8_t proto,
		      uint16_t port)
{
	struct pkt_key want;

	memset(&want, 0, sizeof(want));
	want.family = (uint8_t)family;
	want.l4proto = proto;
	want.port = port;
	memcpy(want.addr, host_addr(family, LOCAL), addr_len(family));
	ck_assert_mem_eq(key, &want, sizeof(want));
}

static void check_same(const struct tpkt *got, const struct tpkt *want)
{
	ck_assert_uint_eq(got->len, want->len);
	ck_assert_mem_eq(got->b, want->b, got->len);
}

/* Parsing must refuse p for both directions and leave it alone. */
static void check_refused(struct tpkt *p)
{
	struct pkt_key key;

	ck_assert(!run(p, p->len, PKT_IN, &key, 1, false));
	ck_assert(!run(p, p->len, PKT_OUT, &key, 1, false));
}

static const struct plain_case {
	int family;
	uint8_t proto;
	enum pkt_dir dir;
	bool partial;
} plain_cases[] = {
	{ AF_INET, IPPROTO_TCP, PKT_IN, false },
	{ AF_INET, IPPROTO_TCP, PKT_OUT, false },
	{ AF_INET, IPPROTO_UDP, PKT_IN, false },
	{ AF_INET, IPPROTO_UDP, PKT_OUT, false },
	{ AF_INET6, IPPROTO_TCP, PKT_IN, false },
	{ AF_INET6, IPPROTO_TCP, PKT_OUT, false },
	{ AF_INET6, IPPROTO_UDP, PKT_IN, false },
	{ AF_INET6, IPPROTO_UDP, PKT_OUT, false },
	{ AF_INET, IPPROTO_TCP, PKT_IN, true },
	{ AF_INET, IPPROTO_TCP, PKT_OUT, true },
	{ AF_INET, IPPROTO_UDP, PKT_IN, true },
	{ AF_INET, IPPROTO_UDP, PKT_OUT, true },
	{ AF_INET6, IPPROTO_TCP, PKT_IN, true },
	{ AF_INET6, IPPROTO_TCP, PKT_OUT, true },
	{ AF_INET6, IPPROTO_UDP, PKT_IN, true },
	{ AF_INET6, IPPROTO_UDP, PKT_OUT, true },
};

/* Inbound packets go shared -> assigned, outbound ones the other way. */
static uint16_t from_port(enum pkt_dir dir)
{
	return dir == PKT_IN ? SHARED_PORT : ASSIGNED_PORT;
}

static uint16_t to_port(enum pkt_dir dir)
{
	return dir == PKT_IN ? ASSIGNED_PORT : SHARED_PORT;
}

START_TEST(plain_rewrite)
{
	static struct tpkt p, want;
	const struct plain_case *c = &plain_cases[_i];
	struct pkt_key key;

	/* An odd payload length exercises the trailing-byte rule. */
	for (size_t payload = 0; payload < 4; payload++) {
		tp_plain(&p, c->family, c->proto, c->dir, from_port(c->dir),
			 31 + payload);
		tp_plain(&want, c->family, c->proto, c->dir, to_port(c->dir),
			 31 + payload);
		if (c->partial)
			tp_make_partial(&p);
		ck_assert(run(&p, p.len, c->dir, &key, to_port(c->dir),
			      c->partial));
		check_key(&key, c->family, c->proto, from_port(c->dir));
		check_same(&p, &want);
		ck_assert(ref_ip_ok(&p));
		ck_assert(ref_l4_ok(&p));
	}
}
END_TEST

/* A zero UDP checksum means "none" and must stay zero. */
START_TEST(udp_zero_checksum)
{
	static struct tpkt p;
	const int family = _i < 2 ? AF_INET : AF_INET6;
	const bool partial = _i % 2;
	struct pkt_key key;

	tp_plain(&p, family, IPPROTO_UDP, PKT_IN, SHARED_PORT, 20);
	wr16(p.b + p.l4_off + 6, 0);
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, partial));
	ck_assert_uint_eq(rd16(p.b + p.l4_off + 2), ASSIGNED_PORT);
	ck_assert_uint_eq(tp_csum(&p), 0);
}
END_TEST

/*
 * Chooses a payload word so that the packet with the new port sums to
 * 0xFFFF: its checksum is then 0, which UDP must send as 0xFFFF.
 */
START_TEST(udp_result_zero)
{
	static struct tpkt p;
	const int family = _i < 2 ? AF_INET : AF_INET6;
	const bool partial = _i % 2;
	struct pkt_key key;
	uint16_t sum;

	tp_plain(&p, family, IPPROTO_UDP, PKT_IN, ASSIGNED_PORT, 10);
	wr16(p.b + p.l4_off + 8, 0);
	wr16(p.b + p.l4_off + 6, 0);
	sum = ref_l4_sum(&p);
	ck_assert_uint_ne(sum, 0xffff);
	wr16(p.b + p.l4_off + 8, (uint16_t)~sum);
	ck_assert_uint_eq(ref_l4_sum(&p), 0xffff);

	wr16(p.b + p.l4_off + 2, SHARED_PORT);
	tp_set_csum(&p);
	ck_assert(ref_l4_ok(&p));
	if (partial)
		tp_make_partial(&p);
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, partial));
	ck_assert_uint_eq(rd16(p.b + p.l4_off + 2), ASSIGNED_PORT);
	ck_assert_uint_eq(tp_csum(&p), 0xffff);
	ck_assert(ref_l4_ok(&p));
}
END_TEST

/* A 64 KB (GSO-sized) packet, patched and computed in full. */
START_TEST(large_packet)
{
	static struct tpkt p, want;
	const int family = _i < 2 ? AF_INET : AF_INET6;
	const bool partial = _i % 2;
	const size_t payload = 65535 - 20 - (family == AF_INET ? 20 : 0);
	struct pkt_key key;

	tp_plain(&p, family, IPPROTO_TCP, PKT_OUT, ASSIGNED_PORT, payload);
	tp_plain(&want, family, IPPROTO_TCP, PKT_OUT, SHARED_PORT, payload);
	if (partial)
		tp_make_partial(&p);
	ck_assert(run(&p, p.len, PKT_OUT, &key, SHARED_PORT, partial));
	check_key(&key, family, IPPROTO_TCP, ASSIGNED_PORT);
	check_same(&p, &want);
	ck_assert(ref_l4_ok(&p));
}
END_TEST

static const struct icmp_case {
	int family;
	uint8_t type, code;
} icmp_kinds[] = {
	{ AF_INET, 3, 4 },  /* fragmentation needed */
	{ AF_INET6, 2, 0 }, /* packet too big */
};

/*
 * The quoted packet travelled the other way: inbound errors quote what we
 * sent from the shared port, outbound ones what we received on the
 * assigned port.
 */
static void tp_icmp_error(struct tpkt *p, struct tpkt *inner,
			  const struct icmp_case *k, uint8_t proto,
			  enum pkt_dir dir, uint16_t local_port, bool short_quote)
{
	tp_plain(inner, k->family, proto, dir == PKT_IN ? PKT_OUT : PKT_IN,
		 local_port, 12);
	if (dir == PKT_IN)
		tp_ip(p, k->family, ROUTER, LOCAL);
	else
		tp_ip(p, k->family, LOCAL, PEER);
	tp_icmp(p, k->type, k->code, 1280, inner,
		short_quote ? inner->l4_off + 8 : inner->len);
	tp_finish(p);
}

/* Checks the quoted transport checksum against the quoted packet. */
static bool quoted_l4_ok(const struct tpkt *p, const struct tpkt *inner)
{
	static struct tpkt q;

	q = *inner;
	memcpy(q.b, p->b + p->l4_off + 8, inner->len);
	return ref_l4_ok(&q);
}

/*
 * _i selects the case: bit 0 the ICMP kind, bit 1 UDP rather than TCP, bit 2
 * PKT_OUT, bit 3 a quote cut after 8 transport bytes, bit 4 a partial
 * checksum.
 */
START_TEST(icmp_error)
{
	static struct tpkt p, inner, want, want_inner;
	const struct icmp_case *k = &icmp_kinds[_i & 1];
	const uint8_t proto = _i & 2 ? IPPROTO_UDP : IPPROTO_TCP;
	const enum pkt_dir dir = _i & 4 ? PKT_OUT : PKT_IN;
	const bool short_quote = _i & 8;
	const bool partial = _i & 16;
	struct pkt_key key;

	tp_icmp_error(&p, &inner, k, proto, dir, from_port(dir), short_quote);
	tp_icmp_error(&want, &want_inner, k, proto, dir, to_port(dir),
		      short_quote);
	if (partial)
		tp_make_partial(&p);
	ck_assert(run(&p, p.len, dir, &key, to_port(dir), partial));
	check_key(&key, k->family, proto, from_port(dir));
	check_same(&p, &want);
	ck_assert(ref_ip_ok(&p));
	ck_assert(ref_l4_ok(&p));
	if (!short_quote)
		ck_assert(quoted_l4_ok(&p, &want_inner));
}
END_TEST

/*
 * The flow table needs the client's end too: the source of an inbound
 * packet, the destination of an outbound one, and for ICMP errors the far
 * end of the quoted packet; plus a TCP segment's flags.
 */
START_TEST(peer_and_flags)
{
	static struct tpkt p, inner;
	const int family = _i & 1 ? AF_INET6 : AF_INET;
	const enum pkt_dir dir = _i & 2 ? PKT_OUT : PKT_IN;
	const uint8_t proto = _i & 4 ? IPPROTO_UDP : IPPROTO_TCP;
	const bool icmp = _i & 8;
	uint8_t want[16] = { 0 };
	struct pkt_view view;
	struct pkt_key key;

	if (icmp)
		tp_icmp_error(&p, &inner, &icmp_kinds[family == AF_INET6], proto,
			      dir, from_port(dir), false);
	else
		tp_plain(&p, family, proto, dir, from_port(dir), 5);
	if (!icmp && proto == IPPROTO_TCP) {
		p.b[p.l4_off + 13] = 0xc2; /* CWR, ECE and SYN: CWR and ECE are not reported */
		tp_set_csum(&p);
	}
	ck_assert(pkt_parse(p.b, p.len, dir, &key, &view));
	memcpy(want, host_addr(family, PEER), addr_len(family));
	ck_assert_mem_eq(view.peer, want, 16);
	ck_assert_uint_eq(view.peer_port, PEER_PORT);
	ck_assert_uint_eq(key.port, from_port(dir));
	ck_assert_uint_eq(view.tcp_flags, !icmp && proto == IPPROTO_TCP ? 0x02 : 0);
}
END_TEST

START_TEST(icmp_quoted_udp_no_checksum)
{
	static struct tpkt p, inner;
	const struct icmp_case *k = &icmp_kinds[_i];
	size_t quoted_csum;
	struct pkt_key key;

	tp_plain(&inner, k->family, IPPROTO_UDP, PKT_OUT, SHARED_PORT, 12);
	wr16(inner.b + inner.l4_off + 6, 0);
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, k->type, k->code, 1280, &inner, inner.len);
	tp_finish(&p);
	quoted_csum = p.l4_off + 8 + inner.l4_off + 6;

	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false));
	check_key(&key, k->family, IPPROTO_UDP, SHARED_PORT);
	ck_assert_uint_eq(rd16(p.b + quoted_csum), 0);
	ck_assert_uint_eq(rd16(p.b + quoted_csum - 6), ASSIGNED_PORT);
	ck_assert(ref_l4_ok(&p));
}
END_TEST

START_TEST(icmp_refused)
{
	static struct tpkt p, inner, other;
	const struct icmp_case *k = &icmp_kinds[_i];
	const uint8_t echo = k->family == AF_INET ? 8 : 128;

	tp_plain(&inner, k->family, IPPROTO_TCP, PKT_OUT, SHARED_PORT, 12);

	/* Not an error: an echo request that happens to carry a packet. */
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, echo, 0, 0, &inner, inner.len);
	tp_finish(&p);
	check_refused(&p);

	/* Fewer than 8 bytes of the quoted transport header. */
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, k->type, k->code, 1280, &inner, inner.l4_off + 7);
	tp_finish(&p);
	check_refused(&p);

	/* Only the ICMP header. */
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, k->type, k->code, 1280, &inner, 0);
	tp_finish(&p);
	check_refused(&p);

	/* An error quoting an error. */
	tp_ip(&other, k->family, LOCAL, ROUTER);
	tp_icmp(&other, k->type, k->code, 1280, &inner, inner.len);
	tp_finish(&other);
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, k->type, k->code, 1280, &other, other.len);
	tp_finish(&p);
	check_refused(&p);

	/* A quoted packet of the other IP version. */
	tp_plain(&other, k->family == AF_INET ? AF_INET6 : AF_INET,
		 IPPROTO_TCP, PKT_OUT, SHARED_PORT, 12);
	tp_ip(&p, k->family, ROUTER, LOCAL);
	tp_icmp(&p, k->type, k->code, 1280, &other, other.len);
	tp_finish(&p);
	check_refused(&p);

	/* A quoted IPv4 header longer than the quote. */
	if (k->family == AF_INET) {
		other = inner;
		other.b[0] = 0x4f;
		wr16(other.b + 2, 100);
		tp_ip(&p, k->family, ROUTER, LOCAL);
		tp_icmp(&p, k->type, k->code, 1280, &other, other.len);
		tp_finish(&p);
		check_refused(&p);
	}

	/* A quoted non-first fragment has no transport header. */
	if (k->family == AF_INET) {
		wr16(inner.b + 6, 0x2000 | 8);
		tp_ip(&p, k->family, ROUTER, LOCAL);
		tp_icmp(&p, k->type, k->code, 1280, &inner, inner.len);
		tp_finish(&p);
		check_refused(&p);
	}
}
END_TEST

/* The ICMP types that are (and are not) errors quoting a packet. */
START_TEST(icmp_types)
{
	static struct tpkt p, inner;
	const int family = _i < 256 ? AF_INET : AF_INET6;
	const unsigned type = _i % 256;
	const bool error = family == AF_INET
				   ? type == 3 || type == 11 || type == 12
				   : type >= 1 && type <= 4;
	struct pkt_key key;

	tp_plain(&inner, family, IPPROTO_UDP, PKT_IN, ASSIGNED_PORT, 4);
	tp_ip(&p, family, LOCAL, PEER);
	tp_icmp(&p, (uint8_t)type, 0, 0, &inner, inner.len);
	tp_finish(&p);
	ck_assert(run(&p, p.len, PKT_OUT, &key, SHARED_PORT, false) == error);
	if (error)
		ck_assert(ref_l4_ok(&p));
}
END_TEST

/* _i: bit 0 direction, bit 1 partial checksum. */
START_TEST(ipv6_extension_headers)
{
	static const struct {
		uint8_t type;
		size_t size;
	} chains[][3] = {
		{ { IPPROTO_HOPOPTS, 8 }, { IPPROTO_DSTOPTS, 16 }, { 0, 0 } },
		{ { IPPROTO_HOPOPTS, 24 }, { IPPROTO_ROUTING, 8 },
		  { IPPROTO_DSTOPTS, 8 } },
		{ { IPPROTO_AH, 24 }, { 0, 0 }, { 0, 0 } },
	};
	static struct tpkt p, want;
	const enum pkt_dir dir = _i & 1 ? PKT_OUT : PKT_IN;
	const bool partial = _i & 2;
	struct pkt_key key;

	for (size_t c = 0; c < sizeof(chains) / sizeof(chains[0]); c++) {
		for (int w = 0; w < 2; w++) {
			struct tpkt *t = w ? &want : &p;
			uint16_t port = w ? to_port(dir) : from_port(dir);

			if (dir == PKT_IN)
				tp_ip(t, AF_INET6, PEER, LOCAL);
			else
				tp_ip(t, AF_INET6, LOCAL, PEER);
			for (size_t e = 0; e < 3 && chains[c][e].size; e++)
				tp_ext(t, chains[c][e].type, chains[c][e].size);
			if (dir == PKT_IN)
				tp_l4(t, IPPROTO_TCP, PEER_PORT, port, 33);
			else
				tp_l4(t, IPPROTO_TCP, port, PEER_PORT, 33);
			tp_finish(t);
		}
		if (partial)
			tp_make_partial(&p);
		ck_assert(run(&p, p.len, dir, &key, to_port(dir), partial));
		check_key(&key, AF_INET6, IPPROTO_TCP, from_port(dir));
		check_same(&p, &want);
		ck_assert(ref_l4_ok(&p));
	}
}
END_TEST

static void tp_v6_frag(struct tpkt *p, uint16_t offset, bool more)
{
	tp_ip(p, AF_INET6, PEER, LOCAL);
	tp_ext(p, IPPROTO_HOPOPTS, 8);
	tp_frag6(p, offset, more);
	tp_l4(p, IPPROTO_UDP, PEER_PORT, SHARED_PORT, 40);
	tp_finish(p);
}

START_TEST(ipv6_fragments)
{
	static struct tpkt p;
	struct pkt_key key;

	/* First fragment, and an atomic fragment (offset 0, no more). */
	for (int more = 0; more < 2; more++) {
		tp_v6_frag(&p, 0, more);
		ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false));
		check_key(&key, AF_INET6, IPPROTO_UDP, SHARED_PORT);
		ck_assert_uint_eq(rd16(p.b + p.l4_off + 2), ASSIGNED_PORT);
		ck_assert(ref_l4_ok(&p));
	}
	/* A first fragment's UDP length covers the fragments still to come. */
	tp_v6_frag(&p, 0, true);
	wr16(p.b + p.l4_off + 4, 1000);
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false));

	/* Later fragments hold payload that merely looks like a header. */
	tp_v6_frag(&p, 1, true);
	check_refused(&p);
	tp_v6_frag(&p, 185, false);
	check_refused(&p);
}
END_TEST

START_TEST(ipv6_refused)
{
	static struct tpkt p;
	struct pkt_key key;

	/* ESP and "no next header" hide or lack the transport header. */
	tp_plain(&p, AF_INET6, IPPROTO_UDP, PKT_IN, SHARED_PORT, 40);
	p.b[6] = IPPROTO_ESP;
	check_refused(&p);
	p.b[6] = IPPROTO_NONE;
	check_refused(&p);

	/* Eight extension headers are walked, a ninth is too many. */
	for (int n = 8; n <= 9; n++) {
		tp_ip(&p, AF_INET6, PEER, LOCAL);
		for (int e = 0; e < n; e++)
			tp_ext(&p, IPPROTO_DSTOPTS, 8);
		tp_l4(&p, IPPROTO_UDP, PEER_PORT, SHARED_PORT, 4);
		tp_finish(&p);
		ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false) ==
			  (n == 8));
	}

	/* An extension header claiming more bytes than the packet has. */
	tp_ip(&p, AF_INET6, PEER, LOCAL);
	tp_ext(&p, IPPROTO_DSTOPTS, 8);
	tp_l4(&p, IPPROTO_UDP, PEER_PORT, SHARED_PORT, 4);
	tp_finish(&p);
	p.b[41] = 4;
	check_refused(&p);

	/* A zero payload length announces a jumbogram. */
	tp_plain(&p, AF_INET6, IPPROTO_TCP, PKT_IN, SHARED_PORT, 4);
	wr16(p.b + 4, 0);
	check_refused(&p);
}
END_TEST

static void tp_v4_frag(struct tpkt *p, uint16_t frag, size_t l4_bytes)
{
	tp_plain(p, AF_INET, IPPROTO_UDP, PKT_IN, SHARED_PORT, 100);
	p->len = p->l4_off + l4_bytes;
	wr16(p->b + 6, frag);
	wr16(p->b + 2, (uint16_t)p->len);
	wr16(p->b + 10, 0);
	wr16(p->b + 10, (uint16_t)~ref_fold(ref_add(0, p->b, 20)));
}

START_TEST(ipv4_fragments)
{
	static struct tpkt p, whole;
	struct pkt_key key;

	/*
	 * The first fragment of a datagram: its checksum covers the whole
	 * datagram, so put the rewritten part back and check that.
	 */
	tp_plain(&whole, AF_INET, IPPROTO_UDP, PKT_IN, SHARED_PORT, 100);
	tp_v4_frag(&p, 0x2000, 48);
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false));
	check_key(&key, AF_INET, IPPROTO_UDP, SHARED_PORT);
	ck_assert(ref_ip_ok(&p));
	memcpy(whole.b + whole.l4_off, p.b + p.l4_off, 48);
	ck_assert(ref_l4_ok(&whole));

	/* Non-first fragments, with and without more to come. */
	tp_v4_frag(&p, 0x2000 | 6, 48);
	check_refused(&p);
	tp_v4_frag(&p, 6, 48);
	check_refused(&p);
	tp_v4_frag(&p, 0x4000 | 1, 48);
	check_refused(&p);

	/* A first fragment must hold the whole transport header. */
	tp_plain(&p, AF_INET, IPPROTO_TCP, PKT_IN, SHARED_PORT, 100);
	p.len = p.l4_off + 12;
	wr16(p.b + 6, 0x2000);
	wr16(p.b + 2, (uint16_t)p.len);
	check_refused(&p);
}
END_TEST

/* Damaged headers that must make the parser refuse the packet. */
START_TEST(malformed)
{
	static struct tpkt p;
	struct pkt_key key;

	tp_plain(&p, AF_INET, IPPROTO_TCP, PKT_IN, SHARED_PORT, 20);
	p.b[0] = 0x44;
	check_refused(&p);
	p.b[0] = 0x55;
	check_refused(&p);
	p.b[0] = 0x4f;
	check_refused(&p);
	p.b[0] = 0x45;
	wr16(p.b + 2, 19);
	check_refused(&p);

	/* TCP data offset below 5 words or past the end of the packet. */
	tp_plain(&p, AF_INET6, IPPROTO_TCP, PKT_IN, SHARED_PORT, 20);
	p.b[p.l4_off + 12] = 0x40;
	check_refused(&p);
	p.b[p.l4_off + 12] = 0xb0;
	check_refused(&p);
	p.b[p.l4_off + 12] = 0xa0;
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, false));

	/* UDP length below its header or past the end of the packet. */
	tp_plain(&p, AF_INET, IPPROTO_UDP, PKT_IN, SHARED_PORT, 20);
	wr16(p.b + p.l4_off + 4, 7);
	check_refused(&p);
	wr16(p.b + p.l4_off + 4, 29);
	check_refused(&p);

	/* Transports other than TCP and UDP. */
	tp_plain(&p, AF_INET, IPPROTO_UDP, PKT_IN, SHARED_PORT, 20);
	p.b[9] = IPPROTO_SCTP;
	check_refused(&p);
	tp_plain(&p, AF_INET6, IPPROTO_UDP, PKT_IN, SHARED_PORT, 20);
	p.b[6] = IPPROTO_GRE;
	check_refused(&p);
}
END_TEST

/* An IPv4 header with options moves the transport header. */
START_TEST(ipv4_options)
{
	static struct tpkt p;
	struct pkt_key key;

	tp_ip(&p, AF_INET, LOCAL, PEER);
	p.b[0] = 0x47;
	memset(p.b + 20, 1, 8); /* NOP options */
	p.len = 28;
	tp_l4(&p, IPPROTO_TCP, ASSIGNED_PORT, PEER_PORT, 9);
	tp_finish(&p);
	wr16(p.b + 10, 0);
	wr16(p.b + 10, (uint16_t)~ref_fold(ref_add(0, p.b, 28)));
	ck_assert(run(&p, p.len, PKT_OUT, &key, SHARED_PORT, false));
	check_key(&key, AF_INET, IPPROTO_TCP, ASSIGNED_PORT);
	ck_assert_uint_eq(rd16(p.b + 28), SHARED_PORT);
	ck_assert(ref_ip_ok(&p));
	ck_assert(ref_l4_ok(&p));
}
END_TEST

/* Builds the golden packets the truncation and garbage tests start from. */
static size_t golden(struct tpkt *set, size_t max)
{
	static struct tpkt inner;
	size_t n = 0;

	for (int f = 0; f < 2 && n + 4 <= max; f++) {
		const int family = f ? AF_INET6 : AF_INET;

		tp_plain(&set[n++], family, IPPROTO_TCP, PKT_IN, SHARED_PORT, 17);
		tp_plain(&set[n++], family, IPPROTO_UDP, PKT_OUT, ASSIGNED_PORT,
			 6);
		tp_icmp_error(&set[n++], &inner, &icmp_kinds[f], IPPROTO_TCP,
			      PKT_IN, SHARED_PORT, false);
		tp_icmp_error(&set[n++], &inner, &icmp_kinds[f], IPPROTO_UDP,
			      PKT_OUT, ASSIGNED_PORT, true);
	}
	if (n < max) {
		tp_ip(&set[n], AF_INET6, PEER, LOCAL);
		tp_ext(&set[n], IPPROTO_HOPOPTS, 8);
		tp_frag6(&set[n], 0, true);
		tp_ext(&set[n], IPPROTO_DSTOPTS, 16);
		tp_l4(&set[n], IPPROTO_TCP, PEER_PORT, SHARED_PORT, 3);
		tp_finish(&set[n++]);
	}
	return n;
}

#define GOLDEN_MAX 9

START_TEST(truncated)
{
	static struct tpkt set[GOLDEN_MAX];
	size_t n = golden(set, GOLDEN_MAX);
	struct pkt_key key;

	for (size_t g = 0; g < n; g++) {
		struct tpkt *p = &set[g];

		ck_assert(run(p, p->len, PKT_IN, &key, 1, false) ||
			  run(p, p->len, PKT_OUT, &key, 1, false));
		for (size_t len = 0; len < p->len; len++) {
			ck_assert(!run(p, len, PKT_IN, &key, 1, false));
			ck_assert(!run(p, len, PKT_OUT, &key, 1, false));
		}
	}
}
END_TEST

/* Bytes after the IP length belong to nobody and are never touched. */
START_TEST(trailing_bytes)
{
	static struct tpkt p, want;
	const struct plain_case *c = &plain_cases[_i];
	struct pkt_key key;

	tp_plain(&p, c->family, c->proto, c->dir, from_port(c->dir), 21);
	tp_plain(&want, c->family, c->proto, c->dir, to_port(c->dir), 21);
	memset(p.b + p.len, 0xa5, 16);
	memset(want.b + want.len, 0xa5, 16);
	if (c->partial)
		tp_make_partial(&p);
	ck_assert(run(&p, p.len + 16, c->dir, &key, to_port(c->dir),
		      c->partial));
	ck_assert_mem_eq(p.b, want.b, p.len + 16);
	ck_assert(ref_l4_ok(&p));
}
END_TEST

/* A UDP datagram shorter than its IP packet (link-layer padding). */
START_TEST(udp_padding)
{
	static struct tpkt p;
	const bool partial = _i;
	struct pkt_key key;

	tp_plain(&p, AF_INET, IPPROTO_UDP, PKT_IN, SHARED_PORT, 15);
	memset(p.b + p.len, 0xee, 5);
	p.len += 5;
	tp_set_lengths(&p);
	wr16(p.b + p.l4_off + 4, 8 + 15);
	tp_set_csum(&p);
	if (partial)
		tp_make_partial(&p);
	ck_assert(run(&p, p.len, PKT_IN, &key, ASSIGNED_PORT, partial));
	ck_assert(ref_l4_ok(&p));
	for (size_t i = p.len - 5; i < p.len; i++)
		ck_assert_uint_eq(p.b[i], 0xee);
}
END_TEST

/* A view that does not fit the buffer it is given changes nothing. */
START_TEST(rewrite_foreign_view)
{
	static struct tpkt p;
	struct pkt_key key;
	struct pkt_view view;
	uint8_t before[128];

	tp_plain(&p, AF_INET, IPPROTO_TCP, PKT_IN, SHARED_PORT, 40);
	ck_assert(pkt_parse(p.b, p.len, PKT_IN, &key, &view));
	memcpy(before, p.b, p.len);
	pkt_rewrite(p.b, p.len - 1, &view, ASSIGNED_PORT, false);
	ck_assert_mem_eq(p.b, before, p.len);
}
END_TEST

/* TCP flags, spelled out for the reset cases. */
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* The sequence and acknowledgment numbers tp_l4 gives a TCP segment. */
#define TP_SEQ 0x01020304u
#define TP_ACK 0x0a0b0c0du

/*
 * Wraps a refusal written by pkt_build_refusal into r so that the reference
 * checksums can verify it.  The refusal has no IPv4 options and no IPv6
 * extension headers, so its transport header follows the fixed header.
 */
static void wrap_refusal(const uint8_t *out, size_t n, struct tpkt *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->b, out, n);
	r->len = n;
	r->family = out[0] >> 4 == 4 ? AF_INET : AF_INET6;
	r->nh_off = r->family == AF_INET ? 9 : 6;
	r->proto = out[r->nh_off];
	r->l4_off = r->family == AF_INET ? 20 : 40;
}

/*
 * Builds the refusal of p->b[0, n) from a heap copy of exactly n bytes into
 * a heap buffer of exactly cap bytes, so that the sanitizer sees any access
 * past either end, and wraps it into r.  The input must stay as it was, and
 * an output the builder declines must stay untouched.  Returns the length.
 */
static size_t refuse(const struct tpkt *p, size_t n, size_t cap,
		     struct tpkt *r)
{
	uint8_t *in = malloc(n ? n : 1);
	uint8_t *out = malloc(cap ? cap : 1);
	size_t got;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	memcpy(in, p->b, n);
	memset(out, 0xa5, cap);
	got = pkt_build_refusal(in, n, out, cap);
	ck_assert_uint_le(got, cap);
	ck_assert_uint_le(got, PKT_REFUSAL_MAX);
	ck_assert_mem_eq(in, p->b, n);
	if (got == 0) {
		for (size_t i = 0; i < cap; i++)
			ck_assert_uint_eq(out[i], 0xa5);
	} else {
		wrap_refusal(out, got, r);
	}
	free(in);
	free(out);
	return got;
}

/* The IP header every refusal carries: LOCAL to PEER, nothing optional. */
static void tp_reply_ip(struct tpkt *p, int family)
{
	tp_ip(p, family, LOCAL, PEER);
	if (family == AF_INET) {
		wr16(p->b + 4, 0);
	} else {
		p->b[1] = 0;
		p->b[3] = 0;
	}
}

/* The reset a refusal of a client's segment to SHARED_PORT must be. */
static void tp_rst(struct tpkt *p, int family, uint8_t flags, uint32_t seq,
		   uint32_t ack)
{
	uint8_t *h;

	tp_reply_ip(p, family);
	tp_l4(p, IPPROTO_TCP, SHARED_PORT, PEER_PORT, 0);
	h = p->b + p->l4_off;
	wr32(h + 4, seq);
	wr32(h + 8, ack);
	h[13] = flags;
	wr16(h + 14, 0);
	tp_finish(p);
}

/* A client's segment to SHARED_PORT with opts bytes of TCP options. */
static void tp_client_tcp(struct tpkt *p, int family, uint8_t flags,
			  uint32_t seq, size_t opts, size_t payload)
{
	uint8_t *h;

	tp_plain(p, family, IPPROTO_TCP, PKT_IN, SHARED_PORT, opts + payload);
	h = p->b + p->l4_off;
	wr32(h + 4, seq);
	h[12] = (uint8_t)((20 + opts) / 4 << 4);
	h[13] = flags;
	tp_set_csum(p);
}

static const struct rst_case {
	uint8_t flags;
	uint32_t seq;
	size_t opts, payload;
	uint8_t want_flags;
	uint32_t want_seq, want_ack;
} rst_cases[] = {
	/* Without ACK: acknowledge all the segment occupied. */
	{ SYN, TP_SEQ, 0, 0, RST | ACK, 0, TP_SEQ + 1 },
	{ SYN, TP_SEQ, 20, 0, RST | ACK, 0, TP_SEQ + 1 },
	{ SYN, TP_SEQ, 12, 10, RST | ACK, 0, TP_SEQ + 11 },
	{ SYN | FIN, TP_SEQ, 0, 3, RST | ACK, 0, TP_SEQ + 5 },
	{ SYN, 0xffffffffu, 0, 0, RST | ACK, 0, 0 },
	{ PSH, TP_SEQ, 0, 7, RST | ACK, 0, TP_SEQ + 7 },
	{ 0, TP_SEQ, 0, 0, RST | ACK, 0, TP_SEQ },
	/* With ACK: take the sequence number from it. */
	{ ACK, TP_SEQ, 0, 0, RST, TP_ACK, 0 },
	{ SYN | ACK, TP_SEQ, 0, 0, RST, TP_ACK, 0 },
	{ PSH | ACK, TP_SEQ, 0, 20, RST, TP_ACK, 0 },
	{ FIN | ACK, TP_SEQ, 0, 0, RST, TP_ACK, 0 },
};

#define N_RST_CASES (int)(sizeof(rst_cases) / sizeof(rst_cases[0]))

/* _i: the case times two, plus one for IPv6. */
START_TEST(refuse_tcp)
{
	static struct tpkt p, r, want;
	const struct rst_case *c = &rst_cases[_i / 2];
	const int family = _i % 2 ? AF_INET6 : AF_INET;

	tp_client_tcp(&p, family, c->flags, c->seq, c->opts, c->payload);
	tp_rst(&want, family, c->want_flags, c->want_seq, c->want_ack);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), want.len);
	check_same(&r, &want);
	ck_assert(ref_ip_ok(&r));
	ck_assert(ref_l4_ok(&r));
	ck_assert_uint_eq(r.b[r.l4_off + 13], c->want_flags);
	ck_assert_uint_eq(rd32(r.b + r.l4_off + 4), c->want_seq);
	ck_assert_uint_eq(rd32(r.b + r.l4_off + 8), c->want_ack);
}
END_TEST

/* The client's transport packet to SHARED_PORT for a UDP refusal. */
static void tp_client_udp(struct tpkt *p, int family, size_t payload)
{
	tp_plain(p, family, IPPROTO_UDP, PKT_IN, SHARED_PORT, payload);
}

/* The port unreachable that must refuse p, quoting quote bytes of it. */
static void tp_unreach(struct tpkt *want, const struct tpkt *p, size_t quote)
{
	tp_reply_ip(want, p->family);
	if (p->family == AF_INET)
		tp_icmp(want, 3, 3, 0, p, quote);
	else
		tp_icmp(want, 1, 4, 0, p, quote);
	tp_finish(want);
}

/*
 * Datagram sizes around the limit: everything fits up to 576 bytes of ICMP
 * for IPv4 and 1280 for IPv6, so the quote holds 548 or 1232 bytes.
 */
static const size_t udp_payloads[] = { 0, 13, 519, 520, 521, 1183, 1184,
				       1185, 3000, 65000 };

#define N_UDP_PAYLOADS (int)(sizeof(udp_payloads) / sizeof(udp_payloads[0]))

/* _i: the payload size times two, plus one for IPv6. */
START_TEST(refuse_udp)
{
	static struct tpkt p, r, want;
	const int family = _i % 2 ? AF_INET6 : AF_INET;
	const size_t payload = udp_payloads[_i / 2];
	const size_t limit = family == AF_INET ? 576 : 1280;
	const size_t room = limit - (family == AF_INET ? 28 : 48);
	size_t quote;

	tp_client_udp(&p, family, payload);
	quote = p.len < room ? p.len : room;
	tp_unreach(&want, &p, quote);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), want.len);
	check_same(&r, &want);
	ck_assert(ref_ip_ok(&r));
	ck_assert(ref_l4_ok(&r));
	ck_assert_mem_eq(r.b + r.l4_off + 8, p.b, quote);
	ck_assert_uint_eq(r.len, p.len < room ? r.l4_off + 8 + p.len : limit);
}
END_TEST

/*
 * The fresh header drops IPv4 options and IPv6 extension headers but keeps
 * the addresses behind them; a UDP refusal quotes the original whole.
 * _i: bit 0 IPv6, bit 1 UDP.
 */
START_TEST(refuse_past_options)
{
	static struct tpkt p, r, want;
	const bool udp = _i & 2;

	if (_i & 1) {
		tp_ip(&p, AF_INET6, PEER, LOCAL);
		tp_ext(&p, IPPROTO_HOPOPTS, 8);
		tp_ext(&p, IPPROTO_DSTOPTS, 16);
	} else {
		tp_ip(&p, AF_INET, PEER, LOCAL);
		p.b[0] = 0x47;
		memset(p.b + 20, 1, 8);
		p.len = 28;
	}
	tp_l4(&p, udp ? IPPROTO_UDP : IPPROTO_TCP, PEER_PORT, SHARED_PORT, 9);
	if (!udp)
		p.b[p.l4_off + 13] = SYN;
	tp_finish(&p);
	if (p.family == AF_INET) {
		wr16(p.b + 10, 0);
		wr16(p.b + 10, (uint16_t)~ref_fold(ref_add(0, p.b, 28)));
	}

	if (udp)
		tp_unreach(&want, &p, p.len);
	else
		tp_rst(&want, p.family, RST | ACK, 0, TP_SEQ + 10);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), want.len);
	check_same(&r, &want);
	ck_assert(ref_ip_ok(&r));
	ck_assert(ref_l4_ok(&r));
}
END_TEST

/* Bytes after the IP length are not part of the datagram and not quoted. */
START_TEST(refuse_udp_trailing_bytes)
{
	static struct tpkt p, r, want;
	const int family = _i ? AF_INET6 : AF_INET;

	tp_client_udp(&p, family, 21);
	memset(p.b + p.len, 0xee, 16);
	tp_unreach(&want, &p, p.len);
	ck_assert_uint_eq(refuse(&p, p.len + 16, PKT_REFUSAL_MAX, &r),
			  want.len);
	check_same(&r, &want);
	ck_assert(ref_l4_ok(&r));
}
END_TEST

/* The first fragment of a datagram is quoted like a whole one. */
START_TEST(refuse_fragments)
{
	static struct tpkt p, r, want;

	tp_v4_frag(&p, 0x2000, 48);
	tp_unreach(&want, &p, p.len);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), want.len);
	check_same(&r, &want);

	tp_v6_frag(&p, 0, true);
	tp_unreach(&want, &p, p.len);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), want.len);
	check_same(&r, &want);
	ck_assert(ref_l4_ok(&r));

	/* A TCP segment cut into fragments has no known length to ack. */
	tp_client_tcp(&p, AF_INET, SYN, TP_SEQ, 0, 40);
	wr16(p.b + 6, 0x2000);
	wr16(p.b + 10, 0);
	wr16(p.b + 10, (uint16_t)~ref_fold(ref_add(0, p.b, 20)));
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
}
END_TEST

/*
 * A reset is never answered, and only TCP and UDP are refused.  _i: IPv6.
 */
START_TEST(refuse_declined)
{
	static struct tpkt p, inner, r;
	const int family = _i ? AF_INET6 : AF_INET;

	tp_client_tcp(&p, family, RST, TP_SEQ, 0, 0);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	tp_client_tcp(&p, family, RST | ACK, TP_SEQ, 0, 0);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	tp_client_tcp(&p, family, SYN | RST, TP_SEQ, 0, 0);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);

	/* An ICMP error, even one quoting a refusable packet. */
	tp_icmp_error(&p, &inner, &icmp_kinds[_i], IPPROTO_UDP, PKT_IN,
		      SHARED_PORT, false);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);

	/* Other transports. */
	tp_client_udp(&p, family, 20);
	p.b[family == AF_INET ? 9 : 6] = IPPROTO_SCTP;
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	if (family == AF_INET6) {
		p.b[6] = IPPROTO_ESP;
		ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	}

	/* Malformed transport headers. */
	tp_client_tcp(&p, family, SYN, TP_SEQ, 0, 8);
	p.b[p.l4_off + 12] = 0xf0;
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	tp_client_udp(&p, family, 8);
	wr16(p.b + p.l4_off + 4, 17);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
}
END_TEST

/*
 * Every prefix of a refusable packet is declined.  _i: bit 0 IPv6, bit 1
 * UDP.
 */
START_TEST(refuse_truncated)
{
	static struct tpkt p, r;
	const int family = _i & 1 ? AF_INET6 : AF_INET;

	if (_i & 2)
		tp_client_udp(&p, family, 30);
	else
		tp_client_tcp(&p, family, SYN, TP_SEQ, 12, 5);
	ck_assert_uint_gt(refuse(&p, p.len, PKT_REFUSAL_MAX, &r), 0);
	for (size_t n = 0; n < p.len; n++)
		ck_assert_uint_eq(refuse(&p, n, PKT_REFUSAL_MAX, &r), 0);
}
END_TEST

/*
 * A buffer one byte short is left alone; one of exactly the size is used.
 * _i: bit 0 IPv6, bit 1 UDP, bit 2 a datagram whose quote is cut.
 */
START_TEST(refuse_small_cap)
{
	static struct tpkt p, r;
	const int family = _i & 1 ? AF_INET6 : AF_INET;
	size_t need;

	if (_i & 2)
		tp_client_udp(&p, family, _i & 4 ? 2000 : 30);
	else
		tp_client_tcp(&p, family, SYN, TP_SEQ, 0, 0);
	need = refuse(&p, p.len, PKT_REFUSAL_MAX, &r);
	ck_assert_uint_gt(need, 0);
	ck_assert_uint_eq(refuse(&p, p.len, need, &r), need);
	ck_assert_uint_eq(refuse(&p, p.len, need - 1, &r), 0);
	ck_assert_uint_eq(refuse(&p, p.len, 0, &r), 0);
}
END_TEST

/*
 * Addresses that are not one unicast host are never answered, at either
 * end; the loopback address and the edges of the forbidden ranges are.
 */
static const struct addr_case {
	int family;
	bool dst;
	uint8_t addr[16];
	bool refused;
} addr_cases[] = {
	{ AF_INET, true, { 224, 0, 0, 251 }, true },
	{ AF_INET, true, { 239, 255, 255, 250 }, true },
	{ AF_INET, true, { 255, 255, 255, 255 }, true },
	{ AF_INET, false, { 0, 0, 0, 0 }, true },
	{ AF_INET, false, { 0, 1, 2, 3 }, true },
	{ AF_INET, false, { 224, 0, 0, 1 }, true },
	{ AF_INET, false, { 240, 0, 0, 1 }, true },
	{ AF_INET, false, { 1, 0, 0, 0 }, false },
	{ AF_INET, false, { 223, 255, 255, 255 }, false },
	{ AF_INET, true, { 127, 0, 0, 1 }, false },
	{ AF_INET6, true, { 0xff, 0x02, [15] = 1 }, true },
	{ AF_INET6, false, { 0xff, 0x05, [15] = 2 }, true },
	{ AF_INET6, false, { 0 }, true },
	{ AF_INET6, false, { [15] = 1 }, false },
	{ AF_INET6, true, { 0xfe, 0xff, [15] = 1 }, false },
};

#define N_ADDR_CASES (int)(sizeof(addr_cases) / sizeof(addr_cases[0]))

/* _i: the case times two, plus one for UDP. */
START_TEST(refuse_addresses)
{
	static struct tpkt p, r;
	const struct addr_case *c = &addr_cases[_i / 2];

	if (_i % 2)
		tp_client_udp(&p, c->family, 4);
	else
		tp_client_tcp(&p, c->family, SYN, TP_SEQ, 0, 0);
	memcpy(p.b + (c->dst ? dst_off(&p) : src_off(&p)), c->addr,
	       addr_len(c->family));
	tp_finish(&p);
	ck_assert_uint_eq(refuse(&p, p.len, PKT_REFUSAL_MAX, &r) == 0,
			  c->refused);
	if (!c->refused) {
		ck_assert(ref_ip_ok(&r));
		ck_assert(ref_l4_ok(&r));
		ck_assert_mem_eq(r.b + src_off(&r),
				 p.b + dst_off(&p), addr_len(c->family));
		ck_assert_mem_eq(r.b + dst_off(&r),
				 p.b + src_off(&p), addr_len(c->family));
	}
}
END_TEST

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * Builds the refusal of buf into a heap buffer of a random size, which it
 * must fit.  Since the builder parses like pkt_parse, a refusal may only
 * come from a packet accepted in both directions, and its checksums must
 * verify with the reference routine.  Returns whether one was built.
 */
static bool fuzz_refusal(const uint8_t *buf, size_t len, int accepted)
{
	static struct tpkt r;
	size_t cap = (size_t)(rng() % (PKT_REFUSAL_MAX + 64));
	uint8_t *out = malloc(cap ? cap : 1);
	size_t n;

	if (out == NULL)
		ck_abort_msg("out of memory");
	n = pkt_build_refusal(buf, len, out, cap);
	if (n > cap)
		ck_abort_msg("refusal of %zu bytes in %zu", n, cap);
	if (n > 0) {
		if (accepted != 2)
			ck_abort_msg("refusal of an unparsed packet");
		wrap_refusal(out, n, &r);
		if (!ref_ip_ok(&r) || !ref_l4_ok(&r))
			ck_abort_msg("refusal checksum wrong");
	}
	free(out);
	return n > 0;
}

static long refusals;

/*
 * Parses buf in both directions; where it is accepted, rewrites a copy and
 * checks that only the port and the checksums the view names changed.
 * Then checks its refusal with fuzz_refusal.  Returns how many directions
 * were accepted.  Check's assertions record every success, so the hot path
 * tests with plain ifs.
 */
static int fuzz_one(const uint8_t *buf, size_t len)
{
	int accepted = 0;

	for (int d = 0; d < 2; d++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct pkt_view view;
		struct pkt_key key;

		if (copy == NULL)
			ck_abort_msg("out of memory");
		memcpy(copy, buf, len);
		if (!pkt_parse(copy, len, (enum pkt_dir)d, &key, &view)) {
			if (memcmp(copy, buf, len) != 0)
				ck_abort_msg("refused packet changed");
			free(copy);
			continue;
		}
		accepted++;
		pkt_rewrite(copy, len, &view, (uint16_t)rng(), rng() & 1);
		for (size_t i = 0; i < len; i++) {
			const size_t allowed[3] = { view.port_off, view.csum_off,
						    view.inner_csum_off };
			bool ok = copy[i] == buf[i];

			for (int a = 0; a < 3 && !ok; a++)
				ok = allowed[a] != 0 && (i == allowed[a] ||
							 i == allowed[a] + 1);
			if (!ok)
				ck_abort_msg("byte %zu changed", i);
		}
		free(copy);
	}
	refusals += fuzz_refusal(buf, len, accepted);
	return accepted;
}

START_TEST(garbage)
{
	static struct tpkt set[GOLDEN_MAX];
	static uint8_t buf[256];
	size_t n = golden(set, GOLDEN_MAX);
	long accepted = 0;

	for (size_t g = 0; g < n; g++)
		ck_assert_uint_le(set[g].len, sizeof(buf));
	rng_state = 0x9e3779b97f4a7c15ull;
	refusals = 0;
	for (int iter = 0; iter < 100000; iter++) {
		size_t len = rng() % sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		/* Give most buffers a plausible version nibble. */
		if (len > 0 && iter % 4 != 0)
			buf[0] = (uint8_t)((iter % 2 ? 0x40 : 0x60) |
					   (buf[0] & 0x0f));
		fuzz_one(buf, len);
	}
	for (int iter = 0; iter < 100000; iter++) {
		const struct tpkt *g = &set[rng() % n];
		size_t len = g->len;
		int flips = 1 + (int)(rng() % 4);

		memcpy(buf, g->b, len);
		for (int f = 0; f < flips; f++)
			buf[rng() % len] ^= (uint8_t)(1 + rng() % 255);
		if (rng() % 8 == 0)
			len = rng() % (len + 1);
		accepted += fuzz_one(buf, len);
	}
	/*
	 * The mutations must reach the rewriter and the refusal builder often
	 * enough to matter.
	 */
	ck_assert_int_gt(accepted, 10000);
	ck_assert_int_gt(refusals, 10000);
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("pkt");
	const int nplain = (int)(sizeof(plain_cases) / sizeof(plain_cases[0]));

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, plain_rewrite, 0, nplain);
	tcase_add_loop_test(tc, udp_zero_checksum, 0, 4);
	tcase_add_loop_test(tc, udp_result_zero, 0, 4);
	tcase_add_loop_test(tc, large_packet, 0, 4);
	tcase_add_loop_test(tc, icmp_error, 0, 32);
	tcase_add_loop_test(tc, peer_and_flags, 0, 16);
	tcase_add_loop_test(tc, icmp_quoted_udp_no_checksum, 0, 2);
	tcase_add_loop_test(tc, icmp_refused, 0, 2);
	tcase_add_loop_test(tc, icmp_types, 0, 512);
	tcase_add_loop_test(tc, ipv6_extension_headers, 0, 4);
	tcase_add_test(tc, ipv6_fragments);
	tcase_add_test(tc, ipv6_refused);
	tcase_add_test(tc, ipv4_fragments);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, ipv4_options);
	tcase_add_test(tc, truncated);
	tcase_add_loop_test(tc, trailing_bytes, 0, nplain);
	tcase_add_loop_test(tc, udp_padding, 0, 2);
	tcase_add_test(tc, rewrite_foreign_view);
	tcase_add_loop_test(tc, refuse_tcp, 0, 2 * N_RST_CASES);
	tcase_add_loop_test(tc, refuse_udp, 0, 2 * N_UDP_PAYLOADS);
	tcase_add_loop_test(tc, refuse_past_options, 0, 4);
	tcase_add_loop_test(tc, refuse_udp_trailing_bytes, 0, 2);
	tcase_add_test(tc, refuse_fragments);
	tcase_add_loop_test(tc, refuse_declined, 0, 2);
	tcase_add_loop_test(tc, refuse_truncated, 0, 4);
	tcase_add_loop_test(tc, refuse_small_cap, 0, 8);
	tcase_add_loop_test(tc, refuse_addresses, 0, 2 * N_ADDR_CASES);
	tcase_add_test(tc, garbage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
