/*
 * fanpkt: see fanpkt.h.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fanpkt.h"
#include "pkt.h"

#define FANPKT_TTL 64

static void fanpkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t fanpkt_build(const struct fanpkt_end *src, const struct fanpkt_end *dst,
		    const uint8_t *const *parts, const size_t *lens, size_t n,
		    uint8_t hdr[FANPKT_HDR_MAX])
{
	const size_t alen = src->family == AF_INET ? 4 : 16;
	const size_t iplen = src->family == AF_INET ? 20 : 40;
	uint8_t *udp = hdr + iplen, pseudo[4];
	size_t payload = 0, off = 0;
	uint16_t sum, part;

	if (src->family != dst->family ||
	    (src->family != AF_INET && src->family != AF_INET6))
		return 0;
	for (size_t i = 0; i < n; i++)
		payload += lens[i];
	if (payload > FANPKT_PAYLOAD_MAX)
		return 0;
	memset(hdr, 0, iplen + 8);
	if (src->family == AF_INET) {
		hdr[0] = 0x45;
		fanpkt_put16(hdr + 2, (uint16_t)(iplen + 8 + payload));
		hdr[8] = FANPKT_TTL;
		hdr[9] = IPPROTO_UDP;
		memcpy(hdr + 12, src->addr, 4);
		memcpy(hdr + 16, dst->addr, 4);
	} else {
		hdr[0] = 0x60;
		fanpkt_put16(hdr + 4, (uint16_t)(8 + payload));
		hdr[6] = IPPROTO_UDP;
		hdr[7] = FANPKT_TTL;
		memcpy(hdr + 8, src->addr, 16);
		memcpy(hdr + 24, dst->addr, 16);
	}
	fanpkt_put16(udp, src->port);
	fanpkt_put16(udp + 2, dst->port);
	fanpkt_put16(udp + 4, (uint16_t)(8 + payload));
	/* The pseudo-header: both addresses, the protocol and the UDP length. */
	pseudo[0] = 0;
	pseudo[1] = IPPROTO_UDP;
	fanpkt_put16(pseudo + 2, (uint16_t)(8 + payload));
	sum = pkt_csum_sum(src->addr, alen, 0);
	sum = pkt_csum_sum(dst->addr, alen, sum);
	sum = pkt_csum_sum(pseudo, 4, sum);
	sum = pkt_csum_sum(udp, 8, sum);
	for (size_t i = 0; i < n; i++) {
		/* A part at an odd offset has its bytes in the other halves of the words. */
		part = pkt_csum_sum(parts[i], lens[i], 0);
		if (off & 1)
			part = (uint16_t)(part << 8 | part >> 8);
		sum = pkt_csum_sum((const uint8_t *)&part, 2, sum);
		off += lens[i];
	}
	sum = (uint16_t)~sum;
	/* UDP reserves 0 for "no checksum"; 0xFFFF is the same sum. */
	if (sum == 0)
		sum = 0xffff;
	memcpy(udp + 6, &sum, 2);
	return iplen + 8;
}

bool fanpkt_parse(const uint8_t *pkt, size_t len, struct fanpkt_udp *out)
{
	struct pkt_key key;
	struct pkt_view view;
	size_t udp_len;

	if (!pkt_parse(pkt, len, PKT_IN, &key, &view) || view.icmp_error ||
	    view.l4proto != IPPROTO_UDP)
		return false;
	/*
	 * pkt_parse takes a first fragment with what it has; only a datagram
	 * whose UDP length matches what arrived is whole.
	 */
	udp_len = (size_t)(pkt[view.l4_off + 4] << 8 | pkt[view.l4_off + 5]);
	if (udp_len != view.l4_len || udp_len < 8)
		return false;
	memset(out, 0, sizeof(*out));
	out->src.family = out->dst.family = key.family;
	memcpy(out->src.addr, view.peer, 16);
	out->src.port = view.peer_port;
	memcpy(out->dst.addr, key.addr, 16);
	out->dst.port = key.port;
	out->payload = pkt + view.l4_off + 8;
	out->len = udp_len - 8;
	return true;
}
