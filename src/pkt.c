/*
 * pkt: find the port a mapping applies to in an IP packet and rewrite it.
 *
 * Every length in the packet is checked against the bytes actually present
 * before it is trusted, and the end of the packet is the one the IP header
 * declares, so trailing bytes in the buffer are never read as payload.  The
 * parser reads only; the rewriter writes only the fields the parser chose.
 * The refusal builder reads the same way and writes only into its own
 * output buffer, after checking that the whole refusal fits.
 */
#include "pkt.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>

/* IPv6 packets carrying more extension headers than this are not rewritten. */
#define PKT_MAX_EXT_HDRS 8

/*
 * The two ends of a transport flow, numbered so that 2 * end is the offset
 * of the end's port in a TCP or UDP header.
 */
enum pkt_end {
	PKT_SRC = 0,
	PKT_DST = 1,
};

/* Where one IP header (outer or quoted) puts the things we need. */
struct pkt_ip {
	uint8_t family;
	uint8_t addr_len;
	uint8_t proto;    /* the transport protocol after any extension header */
	bool fragment;    /* first fragment of a larger datagram */
	size_t addr_off[2]; /* indexed by enum pkt_end */
	size_t l4_off;
	size_t end;       /* one past the last byte of the packet */
};

/*
 * How an IPv6 extension header gives its length: (hdr[1] + extra) * unit
 * bytes, or a fixed 8 bytes for the fragment header whose second byte is
 * reserved.
 */
struct pkt_ext_hdr {
	uint8_t nexthdr;
	uint8_t unit;
	uint8_t extra;
	bool fragment;
};

static const struct pkt_ext_hdr pkt_ext_hdrs[] = {
	{ IPPROTO_HOPOPTS, 8, 1, false },
	{ IPPROTO_ROUTING, 8, 1, false },
	{ IPPROTO_DSTOPTS, 8, 1, false },
	{ IPPROTO_AH, 4, 2, false },
	{ IPPROTO_FRAGMENT, 0, 0, true },
};

struct pkt_family;
struct pkt_l4;

/* Writes the refusal of a TCP or UDP packet; see pkt_build_refusal. */
typedef size_t (*pkt_refuse_fn)(const uint8_t *pkt, const struct pkt_ip *ip,
				const struct pkt_family *fam,
				const struct pkt_l4 *l4, uint8_t *out,
				size_t cap);

static size_t pkt_refuse_tcp(const uint8_t *pkt, const struct pkt_ip *ip,
			     const struct pkt_family *fam,
			     const struct pkt_l4 *l4, uint8_t *out, size_t cap);
static size_t pkt_refuse_udp(const uint8_t *pkt, const struct pkt_ip *ip,
			     const struct pkt_family *fam,
			     const struct pkt_l4 *l4, uint8_t *out, size_t cap);

/*
 * The transports whose ports are rewritten, where their checksum is, and
 * how a packet of theirs is refused.
 */
struct pkt_l4 {
	uint8_t proto;
	uint8_t csum_off;
	uint8_t hdr_len; /* the smallest valid header */
	pkt_refuse_fn refuse;
};

static const struct pkt_l4 pkt_l4s[] = {
	{ IPPROTO_TCP, 16, 20, pkt_refuse_tcp },
	{ IPPROTO_UDP, 6, 8, pkt_refuse_udp },
};

/* The ICMP and ICMPv6 header before the quoted packet. */
#define PKT_ICMP_HDR_LEN 8
#define PKT_ICMP_CSUM_OFF 2

/*
 * The part of an ICMP error that matters here is the start of the quoted
 * transport header: both ports, which is also all RFC 792 guarantees.
 */
#define PKT_QUOTED_L4_LEN 8

/* What a refusal's fresh IP header carries in its TTL or hop limit. */
#define PKT_REFUSAL_TTL 64

/* The TCP flags that decide how a segment is reset. */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_ACK 0x10

typedef bool (*pkt_ip_parse_fn)(const uint8_t *buf, size_t off, size_t limit,
				bool quoted, struct pkt_ip *ip);

/*
 * Writes the IP header of a refusal of total bytes carrying proto, from the
 * refused packet's destination to its source, into out, which is zeroed.
 */
typedef void (*pkt_ip_build_fn)(uint8_t *out, const uint8_t *pkt,
				const struct pkt_ip *ip, uint8_t proto,
				size_t total);

static bool pkt_parse_ipv4(const uint8_t *buf, size_t off, size_t limit,
			   bool quoted, struct pkt_ip *ip);
static bool pkt_parse_ipv6(const uint8_t *buf, size_t off, size_t limit,
			   bool quoted, struct pkt_ip *ip);
static void pkt_build_ipv4(uint8_t *out, const uint8_t *pkt,
			   const struct pkt_ip *ip, uint8_t proto,
			   size_t total);
static void pkt_build_ipv6(uint8_t *out, const uint8_t *pkt,
			   const struct pkt_ip *ip, uint8_t proto,
			   size_t total);

/*
 * Per IP version: how to parse its header, which ICMP carries its errors,
 * which ICMP types are errors that quote the offending packet (bit n set
 * for type n), and how to refuse a UDP datagram with a port unreachable no
 * larger than the version lets an ICMP error be.
 */
struct pkt_family {
	uint8_t version;
	uint8_t icmp_proto;
	uint32_t icmp_errors;
	pkt_ip_parse_fn parse;
	uint8_t hdr_len;      /* a header without options or extensions */
	uint8_t unreach_type; /* destination unreachable ... */
	uint8_t unreach_code; /* ... port unreachable */
	bool icmp_pseudo;     /* the ICMP checksum covers a pseudo-header */
	uint16_t error_max;   /* RFC 1812 4.3.2.3, RFC 4443 2.4 (c) */
	pkt_ip_build_fn build;
};

static const struct pkt_family pkt_families[] = {
	{
		.version = 4,
		.icmp_proto = IPPROTO_ICMP,
		/* Destination unreachable, time exceeded, parameter
		 * problem. */
		.icmp_errors = 1u << 3 | 1u << 11 | 1u << 12,
		.parse = pkt_parse_ipv4,
		.hdr_len = 20,
		.unreach_type = 3,
		.unreach_code = 3,
		.icmp_pseudo = false,
		.error_max = 576,
		.build = pkt_build_ipv4,
	},
	{
		.version = 6,
		.icmp_proto = IPPROTO_ICMPV6,
		/* Destination unreachable, packet too big, time exceeded,
		 * parameter problem. */
		.icmp_errors = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4,
		.parse = pkt_parse_ipv6,
		.hdr_len = 40,
		.unreach_type = 1,
		.unreach_code = 4,
		.icmp_pseudo = true,
		.error_max = 1280,
		.build = pkt_build_ipv6,
	},
};

/*
 * Addresses that do not name a single unicast host.  A refusal to or from
 * one would be sent from a group address or to many hosts at once, which
 * RFC 1122 3.2.2 and RFC 4443 2.4 (e) forbid for ICMP errors and RFC 9293
 * 3.10.7.2 for resets of a SYN.
 */
struct pkt_prefix {
	uint8_t family;
	uint8_t bits;
	uint8_t addr[16];
};

static const struct pkt_prefix pkt_not_hosts[] = {
	{ AF_INET, 8, { 0 } },      /* "this network" */
	{ AF_INET, 4, { 224 } },    /* multicast */
	{ AF_INET, 4, { 240 } },    /* class E and the limited broadcast */
	{ AF_INET6, 128, { 0 } },   /* unspecified */
	{ AF_INET6, 8, { 0xff } },  /* multicast */
};

static uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)pkt_get16(p) << 16 | pkt_get16(p + 2);
}

static void pkt_put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p + 2, (uint16_t)v);
}

/*
 * The declared end of a packet is trusted only as far as the bytes go.  The
 * outer packet must be complete, since a truncated one cannot have its
 * checksum fixed; a quoted packet is truncated by design and ends where the
 * ICMP message does.
 */
static bool pkt_clamp_end(size_t declared, size_t limit, bool quoted,
			  size_t *end)
{
	if (declared <= limit)
		*end = declared;
	else if (quoted)
		*end = limit;
	else
		return false;
	return true;
}

static bool pkt_parse_ipv4(const uint8_t *buf, size_t off, size_t limit,
			   bool quoted, struct pkt_ip *ip)
{
	const uint8_t *h = buf + off;
	size_t hdr_len, tot_len;
	uint16_t frag;

	if (limit - off < 20)
		return false;
	hdr_len = (size_t)(h[0] & 0x0f) * 4;
	tot_len = pkt_get16(h + 2);
	frag = pkt_get16(h + 6);
	/* Only the first fragment carries the transport header. */
	if (hdr_len < 20 || tot_len < hdr_len || (frag & 0x1fff) != 0)
		return false;
	if (!pkt_clamp_end(off + tot_len, limit, quoted, &ip->end))
		return false;
	if (ip->end - off < hdr_len)
		return false;
	ip->family = AF_INET;
	ip->addr_len = 4;
	ip->proto = h[9];
	ip->fragment = (frag & 0x2000) != 0;
	ip->addr_off[PKT_SRC] = off + 12;
	ip->addr_off[PKT_DST] = off + 16;
	ip->l4_off = off + hdr_len;
	return true;
}

static const struct pkt_ext_hdr *pkt_find_ext_hdr(uint8_t nexthdr)
{
	for (size_t i = 0; i < sizeof(pkt_ext_hdrs) / sizeof(pkt_ext_hdrs[0]); i++)
		if (pkt_ext_hdrs[i].nexthdr == nexthdr)
			return &pkt_ext_hdrs[i];
	return NULL;
}

static bool pkt_parse_ipv6(const uint8_t *buf, size_t off, size_t limit,
			   bool quoted, struct pkt_ip *ip)
{
	const struct pkt_ext_hdr *ext;
	const uint8_t *h = buf + off;
	size_t payload_len, pos;
	uint8_t nexthdr;
	int walked = 0;

	if (limit - off < 40)
		return false;
	/*
	 * A jumbogram announces a zero payload length and hides its real one
	 * in a hop-by-hop option.  Such packets exceed what NFQUEUE hands over
	 * whole, and taking the zero at its word leaves no room for a
	 * transport header, so they are refused.
	 */
	payload_len = pkt_get16(h + 4);
	if (!pkt_clamp_end(off + 40 + payload_len, limit, quoted, &ip->end))
		return false;
	ip->family = AF_INET6;
	ip->addr_len = 16;
	ip->fragment = false;
	ip->addr_off[PKT_SRC] = off + 8;
	ip->addr_off[PKT_DST] = off + 24;

	/*
	 * Anything that is not a known extension header ends the walk; ESP
	 * and "no next header" end it with a protocol the caller refuses.
	 */
	nexthdr = h[6];
	pos = off + 40;
	while ((ext = pkt_find_ext_hdr(nexthdr)) != NULL) {
		size_t ext_len = 8;

		if (++walked > PKT_MAX_EXT_HDRS || ip->end - pos < 8)
			return false;
		if (ext->fragment) {
			uint16_t frag = pkt_get16(buf + pos + 2);

			if ((frag & 0xfff8) != 0)
				return false;
			ip->fragment = (frag & 1) != 0;
		} else {
			ext_len = ((size_t)buf[pos + 1] + ext->extra) * ext->unit;
		}
		if (ip->end - pos < ext_len)
			return false;
		nexthdr = buf[pos];
		pos += ext_len;
	}
	ip->proto = nexthdr;
	ip->l4_off = pos;
	return true;
}

static const struct pkt_family *pkt_find_family(const uint8_t *buf,
						 size_t off, size_t limit)
{
	if (limit - off < 1)
		return NULL;
	for (size_t i = 0; i < sizeof(pkt_families) / sizeof(pkt_families[0]); i++)
		if (pkt_families[i].version == buf[off] >> 4)
			return &pkt_families[i];
	return NULL;
}

static const struct pkt_l4 *pkt_find_l4(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(pkt_l4s) / sizeof(pkt_l4s[0]); i++)
		if (pkt_l4s[i].proto == proto)
			return &pkt_l4s[i];
	return NULL;
}

/*
 * Checks that the outer TCP or UDP header is whole and returns the length
 * its checksum covers: to the end of the IP packet for TCP, the UDP length
 * for UDP.  A fragment's checksum covers bytes that are not here, so its
 * length is simply what is present.  Returns 0 for a malformed header.
 */
static size_t pkt_l4_len(const uint8_t *buf, const struct pkt_ip *ip,
			 const struct pkt_l4 *l4)
{
	const uint8_t *h = buf + ip->l4_off;
	size_t avail = ip->end - ip->l4_off;
	size_t len;

	if (avail < l4->hdr_len)
		return 0;
	if (l4->proto == IPPROTO_TCP) {
		len = (size_t)(h[12] >> 4) * 4;
		return len >= l4->hdr_len && len <= avail ? avail : 0;
	}
	if (ip->fragment)
		return avail;
	len = pkt_get16(h + 4);
	return len >= l4->hdr_len && len <= avail ? len : 0;
}

/* Fills key with end's address and port, and view's peer with the other end's. */
static void pkt_fill_key(const uint8_t *buf, const struct pkt_ip *ip,
			 enum pkt_end end, struct pkt_key *key,
			 struct pkt_view *view)
{
	const enum pkt_end other = end == PKT_SRC ? PKT_DST : PKT_SRC;

	memset(key, 0, sizeof(*key));
	key->family = ip->family;
	key->l4proto = ip->proto;
	key->port = pkt_get16(buf + ip->l4_off + 2 * (size_t)end);
	memcpy(key->addr, buf + ip->addr_off[end], ip->addr_len);
	memset(view->peer, 0, sizeof(view->peer));
	memcpy(view->peer, buf + ip->addr_off[other], ip->addr_len);
	view->peer_port = pkt_get16(buf + ip->l4_off + 2 * (size_t)other);
}

/*
 * An ICMP error quotes a packet that travelled the other way, so the end
 * whose port is mapped is swapped relative to a plain packet.
 */
static bool pkt_parse_icmp_error(const uint8_t *buf, const struct pkt_ip *ip,
				 const struct pkt_family *fam,
				 enum pkt_end end, struct pkt_key *key,
				 struct pkt_view *view)
{
	const struct pkt_l4 *l4;
	struct pkt_ip quoted;
	size_t csum_off;
	uint8_t type;

	if (ip->end - ip->l4_off < PKT_ICMP_HDR_LEN)
		return false;
	type = buf[ip->l4_off];
	if (type >= 32 || (fam->icmp_errors & 1u << type) == 0)
		return false;
	if (pkt_find_family(buf, ip->l4_off + PKT_ICMP_HDR_LEN, ip->end) != fam)
		return false;
	if (!fam->parse(buf, ip->l4_off + PKT_ICMP_HDR_LEN, ip->end, true,
			&quoted))
		return false;
	l4 = pkt_find_l4(quoted.proto);
	if (l4 == NULL || quoted.end - quoted.l4_off < PKT_QUOTED_L4_LEN)
		return false;

	view->port_off = quoted.l4_off + 2 * (size_t)end;
	view->csum_off = ip->l4_off + PKT_ICMP_CSUM_OFF;
	view->l4_off = ip->l4_off;
	view->l4_len = ip->end - ip->l4_off;
	view->inner_csum_off = 0;
	view->inner_udp = quoted.proto == IPPROTO_UDP;
	view->icmp_error = true;
	view->udp_no_csum = false;
	/*
	 * ICMP quotes as much as fits, so the quoted checksum may be cut off;
	 * a quoted UDP checksum of 0 means the datagram had none.
	 */
	csum_off = quoted.l4_off + l4->csum_off;
	if (quoted.end >= csum_off + 2 &&
	    !(view->inner_udp && pkt_get16(buf + csum_off) == 0))
		view->inner_csum_off = csum_off;
	view->tcp_flags = 0;
	pkt_fill_key(buf, &quoted, end, key, view);
	return true;
}

bool pkt_parse(const uint8_t *buf, size_t len, enum pkt_dir dir,
	       struct pkt_key *key, struct pkt_view *view)
{
	const enum pkt_end end = dir == PKT_IN ? PKT_DST : PKT_SRC;
	const struct pkt_family *fam;
	const struct pkt_l4 *l4;
	struct pkt_ip ip;
	size_t l4_len;

	fam = pkt_find_family(buf, 0, len);
	if (fam == NULL || !fam->parse(buf, 0, len, false, &ip))
		return false;
	view->family = ip.family;
	view->l4proto = ip.proto;
	if (ip.proto == fam->icmp_proto)
		return pkt_parse_icmp_error(buf, &ip, fam,
					    end == PKT_DST ? PKT_SRC : PKT_DST,
					    key, view);

	l4 = pkt_find_l4(ip.proto);
	if (l4 == NULL)
		return false;
	l4_len = pkt_l4_len(buf, &ip, l4);
	if (l4_len == 0)
		return false;
	view->port_off = ip.l4_off + 2 * (size_t)end;
	view->csum_off = ip.l4_off + l4->csum_off;
	view->l4_off = ip.l4_off;
	view->l4_len = l4_len;
	view->inner_csum_off = 0;
	view->inner_udp = false;
	view->icmp_error = false;
	/*
	 * A zero UDP checksum means "none" for IPv4, and for IPv6 tunnels that
	 * RFC 6935 lets omit it; patching it would turn a packet without a
	 * checksum into one with a wrong checksum.
	 */
	view->udp_no_csum = ip.proto == IPPROTO_UDP &&
			    pkt_get16(buf + view->csum_off) == 0;
	view->tcp_flags = ip.proto == IPPROTO_TCP ? (uint8_t)(buf[ip.l4_off + 13] & 0x3f) : 0;
	pkt_fill_key(buf, &ip, end, key, view);
	return true;
}

/*
 * RFC 1624, equation 3: HC' = ~(~HC + ~m + m'), all in one's complement
 * arithmetic on values read in network order.
 */
static uint16_t pkt_csum_replace(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint32_t)(uint16_t)~check + (uint16_t)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Patches the checksum at off for one 16-bit word changing value. */
static void pkt_csum_patch(uint8_t *buf, size_t off, uint16_t from,
			   uint16_t to, bool udp)
{
	uint16_t check = pkt_csum_replace(pkt_get16(buf + off), from, to);

	/* UDP reserves 0 for "no checksum"; 0xFFFF is the same sum. */
	if (udp && check == 0)
		check = 0xffff;
	pkt_put16(buf + off, check);
}

uint16_t pkt_csum_sum(const uint8_t *p, size_t n, uint16_t sum)
{
	uint64_t acc = sum;
	uint32_t w32;
	uint16_t w16;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		n -= 2;
	}
	if (n == 1) {
		/* A trailing odd byte is summed as if followed by a zero. */
		uint8_t last[2] = { p[0], 0 };

		memcpy(&w16, last, 2);
		acc += w16;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/*
 * Fills in the checksum over [off, off + n) the way the kernel would have
 * for a CHECKSUM_PARTIAL packet: the checksum field already holds the
 * pseudo-header sum, so summing the segment with that field in place and
 * storing the complement yields the full checksum.  Taking the pseudo-header
 * from the field rather than rebuilding it keeps the kernel's view of it,
 * including the final destination of an IPv6 routing header.
 *
 * The sum is in the machine's byte order (see pkt_csum_sum), so it is
 * stored back as the same native word.
 */
static void pkt_csum_complete(uint8_t *buf, size_t off, size_t n,
			      size_t csum_off, bool udp)
{
	uint16_t check = (uint16_t)~pkt_csum_sum(buf + off, n, 0);

	if (udp && check == 0)
		check = 0xffff;
	memcpy(buf + csum_off, &check, 2);
}

void pkt_rewrite(uint8_t *buf, size_t len, const struct pkt_view *view,
		 uint16_t new_port, bool csum_partial)
{
	bool udp = view->l4proto == IPPROTO_UDP;
	uint16_t old_port;

	/*
	 * A view that does not fit this buffer was parsed from another one;
	 * writing through it could land out of bounds, so it is ignored.
	 */
	if (view->l4_off > len || view->l4_len > len - view->l4_off)
		return;

	old_port = pkt_get16(buf + view->port_off);
	pkt_put16(buf + view->port_off, new_port);

	if (view->icmp_error && view->inner_csum_off != 0) {
		/*
		 * The quoted checksum is part of the ICMP payload, so its
		 * change is folded into the ICMP checksum like the port's.
		 */
		uint16_t inner_old = pkt_get16(buf + view->inner_csum_off);
		uint16_t inner_new;

		pkt_csum_patch(buf, view->inner_csum_off, old_port, new_port,
			       view->inner_udp);
		inner_new = pkt_get16(buf + view->inner_csum_off);
		if (!csum_partial)
			pkt_csum_patch(buf, view->csum_off, inner_old,
				       inner_new, false);
	}

	if (view->udp_no_csum)
		return;
	/*
	 * The kernel never hands over a fragment with a partial checksum:
	 * fragmenting needs the checksum complete first.  So the whole
	 * segment is here whenever csum_partial is set.
	 */
	if (csum_partial)
		pkt_csum_complete(buf, view->l4_off, view->l4_len,
				  view->csum_off, udp);
	else
		pkt_csum_patch(buf, view->csum_off, old_port, new_port, udp);
}

static bool pkt_prefix_match(const uint8_t *addr, const struct pkt_prefix *pf)
{
	const size_t whole = pf->bits / 8;
	const unsigned rest = pf->bits % 8;
	const uint8_t mask = (uint8_t)(0xff00u >> rest); /* top rest bits */

	if (memcmp(addr, pf->addr, whole) != 0)
		return false;
	return rest == 0 || ((addr[whole] ^ pf->addr[whole]) & mask) == 0;
}

static bool pkt_is_host(const uint8_t *pkt, const struct pkt_ip *ip,
			enum pkt_end end)
{
	const uint8_t *addr = pkt + ip->addr_off[end];

	for (size_t i = 0; i < sizeof(pkt_not_hosts) / sizeof(pkt_not_hosts[0]);
	     i++)
		if (pkt_not_hosts[i].family == ip->family &&
		    pkt_prefix_match(addr, &pkt_not_hosts[i]))
			return false;
	return true;
}

static void pkt_build_ipv4(uint8_t *out, const uint8_t *pkt,
			   const struct pkt_ip *ip, uint8_t proto,
			   size_t total)
{
	out[0] = 0x45;
	pkt_put16(out + 2, (uint16_t)total);
	/*
	 * DF makes the refusal an atomic datagram, whose ID RFC 6864 lets be
	 * 0.  Forbidding fragmentation costs nothing in practice: a refusal
	 * is at most the 576 bytes RFC 791 has every host accept.
	 */
	pkt_put16(out + 6, 0x4000);
	out[8] = PKT_REFUSAL_TTL;
	out[9] = proto;
	memcpy(out + 12, pkt + ip->addr_off[PKT_DST], 4);
	memcpy(out + 16, pkt + ip->addr_off[PKT_SRC], 4);
	pkt_csum_complete(out, 0, 20, 10, false);
}

static void pkt_build_ipv6(uint8_t *out, const uint8_t *pkt,
			   const struct pkt_ip *ip, uint8_t proto,
			   size_t total)
{
	out[0] = 0x60;
	pkt_put16(out + 4, (uint16_t)(total - 40));
	out[6] = proto;
	out[7] = PKT_REFUSAL_TTL;
	memcpy(out + 8, pkt + ip->addr_off[PKT_DST], 16);
	memcpy(out + 24, pkt + ip->addr_off[PKT_SRC], 16);
}

/*
 * Stores at csum_off the folded pseudo-header sum (RFC 9293 3.1, RFC 8200
 * 8.1) of l4_len bytes of proto going from pkt's destination to its source,
 * so that pkt_csum_complete turns it into the full checksum.
 */
static void pkt_put_pseudo(uint8_t *out, size_t csum_off, const uint8_t *pkt,
			   const struct pkt_ip *ip, uint8_t proto,
			   size_t l4_len)
{
	uint32_t sum = proto + (uint32_t)l4_len;

	for (enum pkt_end end = PKT_SRC; end <= PKT_DST; end++)
		for (size_t i = 0; i < ip->addr_len; i += 2)
			sum += pkt_get16(pkt + ip->addr_off[end] + i);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	pkt_put16(out + csum_off, (uint16_t)sum);
}

/*
 * RFC 9293 3.10.7.1: a reset answering a segment with ACK takes its
 * sequence number from that ACK; otherwise it acknowledges everything the
 * segment occupied, so that a client in SYN-SENT finds the ACK acceptable
 * and gives up at once.  A fragment's payload length is unknown, so a
 * fragment is not answered.
 */
static size_t pkt_refuse_tcp(const uint8_t *pkt, const struct pkt_ip *ip,
			     const struct pkt_family *fam,
			     const struct pkt_l4 *l4, uint8_t *out, size_t cap)
{
	const uint8_t *h = pkt + ip->l4_off;
	const uint8_t flags = h[13];
	const size_t total = fam->hdr_len + (size_t)l4->hdr_len;
	uint8_t *t = out + fam->hdr_len;
	uint32_t seq = 0, ack = 0;
	uint8_t reply_flags = PKT_TCP_RST;

	if (ip->fragment || (flags & PKT_TCP_RST) != 0 || cap < total)
		return 0;
	if ((flags & PKT_TCP_ACK) != 0) {
		seq = pkt_get32(h + 8);
	} else {
		const size_t doff = (size_t)(h[12] >> 4) * 4;
		const size_t payload = ip->end - ip->l4_off - doff;

		ack = pkt_get32(h + 4) + (uint32_t)payload +
		      ((flags & PKT_TCP_SYN) != 0) +
		      ((flags & PKT_TCP_FIN) != 0);
		reply_flags |= PKT_TCP_ACK;
	}

	memset(out, 0, total);
	fam->build(out, pkt, ip, IPPROTO_TCP, total);
	pkt_put16(t, pkt_get16(h + 2));
	pkt_put16(t + 2, pkt_get16(h));
	pkt_put32(t + 4, seq);
	pkt_put32(t + 8, ack);
	t[12] = (uint8_t)(l4->hdr_len / 4 << 4);
	t[13] = reply_flags;
	pkt_put_pseudo(out, fam->hdr_len + (size_t)l4->csum_off, pkt, ip,
		       IPPROTO_TCP, l4->hdr_len);
	pkt_csum_complete(out, fam->hdr_len, l4->hdr_len,
			  fam->hdr_len + (size_t)l4->csum_off, false);
	return total;
}

/*
 * The quote starts at the refused packet's IP header and stops at the end
 * its IP header declares, so link-layer padding is not quoted.
 */
static size_t pkt_refuse_udp(const uint8_t *pkt, const struct pkt_ip *ip,
			     const struct pkt_family *fam,
			     const struct pkt_l4 *l4, uint8_t *out, size_t cap)
{
	const size_t room = (size_t)fam->error_max - fam->hdr_len -
			    PKT_ICMP_HDR_LEN;
	const size_t quote = ip->end < room ? ip->end : room;
	const size_t l4_len = PKT_ICMP_HDR_LEN + quote;
	const size_t total = fam->hdr_len + l4_len;
	uint8_t *icmp = out + fam->hdr_len;

	/* The signature is the table's; a UDP header is only quoted. */
	(void)l4;
	if (cap < total)
		return 0;
	memset(out, 0, fam->hdr_len + PKT_ICMP_HDR_LEN);
	fam->build(out, pkt, ip, fam->icmp_proto, total);
	icmp[0] = fam->unreach_type;
	icmp[1] = fam->unreach_code;
	memcpy(icmp + PKT_ICMP_HDR_LEN, pkt, quote);
	if (fam->icmp_pseudo)
		pkt_put_pseudo(out, fam->hdr_len + PKT_ICMP_CSUM_OFF, pkt, ip,
			       fam->icmp_proto, l4_len);
	pkt_csum_complete(out, fam->hdr_len, l4_len,
			  fam->hdr_len + PKT_ICMP_CSUM_OFF, false);
	return total;
}

size_t pkt_build_refusal(const uint8_t *pkt, size_t len, uint8_t *out,
			 size_t cap)
{
	const struct pkt_family *fam;
	const struct pkt_l4 *l4;
	struct pkt_ip ip;

	fam = pkt_find_family(pkt, 0, len);
	if (fam == NULL || !fam->parse(pkt, 0, len, false, &ip))
		return 0;
	l4 = pkt_find_l4(ip.proto);
	if (l4 == NULL || pkt_l4_len(pkt, &ip, l4) == 0)
		return 0;
	if (!pkt_is_host(pkt, &ip, PKT_SRC) || !pkt_is_host(pkt, &ip, PKT_DST))
		return 0;
	return l4->refuse(pkt, &ip, fam, l4, out, cap);
}
