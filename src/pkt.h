/*
 * pkt: parse an IP packet (as NFQUEUE hands it over, starting at the IP header)
 * and rewrite one transport port in it, keeping every checksum correct.
 *
 * Pure functions over a buffer: no system call, no allocation, no logging, so
 * the unit tests and the fuzzer link this file alone.  The packet path is
 * parse -> (caller looks the key up) -> rewrite.
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
 * Where the rewrite has to touch the buffer; filled by pkt_parse and only
 * meaningful to pkt_rewrite.  Offsets are from the start of the buffer.
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

#endif
