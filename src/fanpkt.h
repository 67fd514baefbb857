/*
 * fanpkt: the IP and UDP headers of fan-out copies.  Copies leave through a
 * raw socket (IPPROTO_RAW, the header included), which lets one socket send
 * from any source: the registration port for raw and framed copies, the
 * original sender for spoofed ones, and to IPv4 and IPv6 subscribers alike.
 *
 * Pure: no system call, no allocation, no logging.
 */
#ifndef PORTSHARE_FANPKT_H
#define PORTSHARE_FANPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv6 header and a UDP header; an IPv4 one is shorter. */
#define FANPKT_HDR_MAX (40 + 8)
/* The largest UDP payload a copy may carry: 65535 - 8 (UDP) - 40 (IPv6). */
#define FANPKT_PAYLOAD_MAX (65535 - 48)

/* One end of a copy: IPv4 in the first 4 bytes of addr. */
struct fanpkt_end {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/*
 * Writes into hdr the IP and UDP headers of a datagram from src to dst
 * whose payload is the n parts parts[i] of lens[i] bytes, with a complete
 * UDP checksum (a computed 0 is sent as 0xFFFF).  IPv4 headers get TTL 64,
 * DF clear and ID 0 (the kernel fills it), IPv6 hop limit 64.  Returns the
 * header length, or 0 when the families differ, a family is unknown or the
 * payload exceeds FANPKT_PAYLOAD_MAX.
 */
size_t fanpkt_build(const struct fanpkt_end *src, const struct fanpkt_end *dst,
		    const uint8_t *const *parts, const size_t *lens, size_t n,
		    uint8_t hdr[FANPKT_HDR_MAX]);

/*
 * The UDP datagram in an IP packet (as NFLOG hands it over): its source and
 * destination and where its payload lies.  Returns false for anything but
 * a whole UDP datagram (a first fragment is refused: the copy would be cut).
 */
struct fanpkt_udp {
	struct fanpkt_end src, dst;
	const uint8_t *payload;
	size_t len;
};
bool fanpkt_parse(const uint8_t *pkt, size_t len, struct fanpkt_udp *out);

#endif
