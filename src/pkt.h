/*
 * pkt: parse an IP packet (as NFQUEUE hands it over, starting at the IP header)
 * and rewrite one transport port in it, keeping every checksum correct.
 *
 * Pure functions over a buffer: no system call, no allocation, no logging, so
 * the unit tests and the fuzzer link this file alone.  The packet path is
 * parse -> (caller looks the key up) -> rewrite, or, when a new connection
 * finds no backend in time, build_refusal.
 */
#ifndef PORTSHARE_PKT_H
#define PORTSHARE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Which side of a mapping a packet is on.  PKT_IN: a packet travelling to the
 * shared port (its destination is looked up).  PKT_OUT: a packet leaving the
 * assigned port (its source is looked up).
 */
enum pkt_dir {
	PKT_IN = 0,
	PKT_OUT = 1,
};

/* The tuple the caller looks up in the mapping table. */
struct pkt_key {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t l4proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;    /* host byte order */
	uint8_t addr[16]; /* IPv4 uses the first 4 bytes, the rest is zero */
};

/*
 * Where the rewrite has to touch the buffer, and the rest of the flow's
 * tuple; filled by pkt_parse.  Offsets are from the start of the buffer.
 */
struct pkt_view {
	size_t port_off;      /* the 16-bit port field to replace */
	size_t csum_off;      /* the transport checksum covering that port */
	size_t l4_off;        /* start of the outer transport header */
	size_t l4_len;        /* outer transport header + payload length */
	size_t inner_csum_off; /* ICMP errors: the quoted checksum, 0 if absent */
	uint8_t family;
	uint8_t l4proto;      /* outer: TCP, UDP, ICMP or ICMPv6 */
	bool icmp_error;      /* the port is inside a quoted packet */
	bool inner_udp;       /* ICMP errors: the quoted packet is UDP */
	bool udp_no_csum;     /* UDP with checksum 0 (none): leave it 0 */
	/*
	 * For the flow table: the far end of the flow the key names, that is
	 * the client (the source for PKT_IN, the destination for PKT_OUT; for
	 * an ICMP error, the other end of the quoted packet), laid out like
	 * key.addr, and the flags of a TCP segment (0 for anything else).
	 */
	uint8_t peer[16];
	uint16_t peer_port;
	uint8_t tcp_flags;
};

/*
 * Parses buf and fills key (the tuple to look up for direction dir) and view.
 * For a TCP or UDP packet the key is (destination address, destination port)
 * for PKT_IN and (source address, source port) for PKT_OUT.  For an ICMP or
 * ICMPv6 error that quotes a TCP/UDP packet the key comes from the quoted
 * packet, which travelled the other way: (quoted source) for PKT_IN and
 * (quoted destination) for PKT_OUT.
 *
 * Returns false, leaving the packet alone, for anything that is not a
 * complete first fragment of TCP/UDP (or an ICMP error quoting one): short or
 * garbage buffers, non-first fragments, other protocols.
 */
bool pkt_parse(const uint8_t *buf, size_t len, enum pkt_dir dir,
	       struct pkt_key *key, struct pkt_view *view);

/*
 * Replaces the port that pkt_parse selected with new_port (host byte order)
 * and fixes the checksums.  csum_partial is true when the kernel flagged the
 * packet NFQA_SKB_CSUMNOTREADY: its checksum field holds only the
 * pseudo-header sum, so the full checksum is computed over the segment (as
 * the kernel's skb_checksum_help would) instead of patched.  Otherwise the
 * update is incremental (RFC 1624).  A UDP checksum of 0 (none) stays 0 and
 * a computed UDP checksum of 0 is sent as 0xFFFF.  len must be the length
 * given to pkt_parse; a view that does not fit it changes nothing.
 */
void pkt_rewrite(uint8_t *buf, size_t len, const struct pkt_view *view,
		 uint16_t new_port, bool csum_partial);

/*
 * Adds the one's complement sum (RFC 1071) of n bytes at p to sum and
 * returns the result folded to 16 bits.  The words are read in the
 * machine's byte order, which the one's complement sum does not depend on:
 * the result is the network-order sum laid out in that same order, so its
 * complement is stored with memcpy, not a byte-order conversion.  A
 * trailing odd byte counts as if followed by a zero; a part that starts at
 * an odd offset of the summed whole has its sum byte-swapped before it is
 * added.  For pkt_rewrite and for fan-out copies (fanpkt.h).
 */
uint16_t pkt_csum_sum(const uint8_t *p, size_t n, uint16_t sum);

/*
 * The largest packet pkt_build_refusal writes: an ICMPv6 error filled to the
 * IPv6 minimum MTU.  An output buffer of this size always suffices.
 */
#define PKT_REFUSAL_MAX 1280

/*
 * Writes into out the packet that refuses pkt, a TCP segment or UDP datagram
 * as it arrived from a client (before any rewrite), so that the client fails
 * at once instead of retrying into silence.  The refusal goes from pkt's
 * destination (address and port) to its source, with a fresh IP header: no
 * IPv4 options, no IPv6 extension headers, TTL or hop limit 64, and for IPv4
 * DF set with ID 0.  Every checksum in it is complete, so it can go out
 * through a raw socket that includes the IP header.
 *
 * TCP gets a reset as RFC 9293 section 3.10.7.1 builds it: if the segment
 * had ACK set, RST with seq = its ack number; otherwise RST|ACK with seq 0
 * and ack = its seq + payload length (+1 for SYN, +1 for FIN).  No options,
 * window 0.
 *
 * UDP gets an ICMP port unreachable (IPv4 type 3 code 3, ICMPv6 type 1
 * code 4) quoting as much of pkt, from its IP header on, as fits in 576
 * bytes for IPv4 (RFC 1812) and 1280 for IPv6 (RFC 4443).
 *
 * Returns the length written, at most PKT_REFUSAL_MAX, or 0 with out left
 * untouched when pkt must not or cannot be refused:
 *  - it is not a complete TCP or UDP packet by pkt_parse's rules (so an
 *    ICMP error is never answered);
 *  - it is a TCP segment with RST set (RFC 9293 never answers a reset) or
 *    in a fragment (its length, which the ack counts, is unknown);
 *  - an address at either end is not one unicast host: multicast, IPv4
 *    0.0.0.0/8 and 240.0.0.0/4 (with 255.255.255.255), IPv6 "::".  A
 *    directed broadcast looks unicast without the routing table, so a
 *    caller that accepts those must screen them;
 *  - cap is below the refusal's length.
 * pkt and out must not overlap.
 */
size_t pkt_build_refusal(const uint8_t *pkt, size_t len, uint8_t *out,
			 size_t cap);

#endif
