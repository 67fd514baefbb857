/*
 * fanframe: the framed delivery header, encoded and decoded.  See
 * fanframe.h for the byte layout.
 */
#include <string.h>

#include "fanframe.h"

#define FANFRAME_MAGIC0 'P'
#define FANFRAME_MAGIC1 'S'
#define FANFRAME_OFF_FAMILY 3
#define FANFRAME_OFF_ADDR 4
#define FANFRAME_OFF_ORIGIN_PORT 20
#define FANFRAME_OFF_CONTESTED_PORT 22
#define FANFRAME_OFF_LEN 24
/* IPv4 fills the first four bytes of the address field. */
#define FANFRAME_V4_LEN 4

static void fanframe_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fanframe_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t fanframe_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t fanframe_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool fanframe_encode(const struct fanframe_hdr *h, uint8_t out[FANFRAME_HDR_LEN])
{
	if ((h->family != 4 && h->family != 6) || h->len > FANFRAME_PAYLOAD_MAX)
		return false;
	memset(out, 0, FANFRAME_HDR_LEN);
	out[0] = FANFRAME_MAGIC0;
	out[1] = FANFRAME_MAGIC1;
	out[2] = FANFRAME_VERSION;
	out[FANFRAME_OFF_FAMILY] = h->family;
	memcpy(out + FANFRAME_OFF_ADDR, h->addr,
	       h->family == 4 ? FANFRAME_V4_LEN : sizeof(h->addr));
	fanframe_put16(out + FANFRAME_OFF_ORIGIN_PORT, h->origin_port);
	fanframe_put16(out + FANFRAME_OFF_CONTESTED_PORT, h->contested_port);
	fanframe_put32(out + FANFRAME_OFF_LEN, h->len);
	return true;
}

/*
 * Checks the fixed bytes among the first len (which may be fewer than a
 * header): magic, version, family and, for IPv4, the zero padding.
 * Returns false as soon as one of the bytes present is wrong.
 */
static bool fanframe_prefix_ok(const uint8_t *buf, size_t len)
{
	static const uint8_t lead[] = { FANFRAME_MAGIC0, FANFRAME_MAGIC1, FANFRAME_VERSION };

	for (size_t i = 0; i < len && i < sizeof(lead); i++)
		if (buf[i] != lead[i])
			return false;
	if (len <= FANFRAME_OFF_FAMILY)
		return true;
	if (buf[FANFRAME_OFF_FAMILY] == 6)
		return true;
	if (buf[FANFRAME_OFF_FAMILY] != 4)
		return false;
	for (size_t i = FANFRAME_OFF_ADDR + FANFRAME_V4_LEN;
	     i < len && i < FANFRAME_OFF_ORIGIN_PORT; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

bool fanframe_decode(const uint8_t *buf, size_t len, struct fanframe_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < FANFRAME_HDR_LEN || !fanframe_prefix_ok(buf, FANFRAME_HDR_LEN) ||
	    fanframe_get32(buf + FANFRAME_OFF_LEN) > FANFRAME_PAYLOAD_MAX)
		return false;
	h->family = buf[FANFRAME_OFF_FAMILY];
	memcpy(h->addr, buf + FANFRAME_OFF_ADDR, sizeof(h->addr));
	h->origin_port = fanframe_get16(buf + FANFRAME_OFF_ORIGIN_PORT);
	h->contested_port = fanframe_get16(buf + FANFRAME_OFF_CONTESTED_PORT);
	h->len = fanframe_get32(buf + FANFRAME_OFF_LEN);
	return true;
}

bool fanframe_stream_next(const uint8_t *buf, size_t len, size_t *frame_len)
{
	struct fanframe_hdr h;

	*frame_len = 0;
	if (len < FANFRAME_HDR_LEN)
		return fanframe_prefix_ok(buf, len);
	if (!fanframe_decode(buf, len, &h))
		return false;
	if (len - FANFRAME_HDR_LEN >= h.len)
		*frame_len = FANFRAME_HDR_LEN + h.len;
	return true;
}
