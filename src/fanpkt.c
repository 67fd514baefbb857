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

/* Adds n bytes to a one's complement sum; odd parts carry their last byte over. */
static uint32_t fanpkt_sum(uint32_t sum, const uint8_t *p, size_t n, bool *odd,
			   uint8_t *carry)
{
	size_t i = 0;

	if (*odd && n > 0) {
		sum += (uint32_t)(*carry << 8 | p[0]);
		*odd = false;
		i = 1;
	}
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n) {
		*carry = p[i];
		*odd = true;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

size_t fanpkt_build(const struct fanpkt_end *src, const struct fanpkt_end *dst,
		    const uint8_t *const *parts, const size_t *lens, size_t n,
		    uint8_t hdr[FANPKT_HDR_MAX])
{
	const size_t alen = src->family == AF_INET ? 4 : 16;
	const size_t iplen = src->family == AF_INET ? 20 : 40;
	uint8_t *udp = hdr + iplen, carry = 0, pseudo[4];
	size_t payload = 0;
	uint32_t sum = 0;
	bool odd = false;
	uint16_t csum;

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
	sum = fanpkt_sum(sum, src->addr, alen, &odd, &carry);
	sum = fanpkt_sum(sum, dst->addr, alen, &odd, &carry);
	pseudo[0] = 0;
	pseudo[1] = IPPROTO_UDP;
	fanpkt_put16(pseudo + 2, (uint16_t)(8 + payload));
	sum = fanpkt_sum(sum, pseudo, 4, &odd, &carry);
	sum = fanpkt_sum(sum, udp, 8, &odd, &carry);
	for (size_t i = 0; i < n; i++)
		sum = fanpkt_sum(sum, parts[i], lens[i], &odd, &carry);
	if (odd)
		sum = fanpkt_sum(sum + (uint32_t)(carry << 8), NULL, 0, &odd, &carry);
	csum = (uint16_t)~sum;
	fanpkt_put16(udp + 6, csum ? csum : 0xffff);
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
