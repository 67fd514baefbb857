/*
 * fanframe: the framed delivery header of UDP fan-out, the seed's (003,
 * FIG. 4, step 100) "header that includes ... the origin of the packet
 * and ... the size of the data", ahead of the copied payload.  Pure: no
 * I/O, no allocation, no logging, so unit tests and fuzzers link it alone.
 *
 * A frame is a 28-byte header followed by the payload, every integer in
 * network byte order:
 *
 *   offset  size  field
 *        0     2  magic, the ASCII letters "PS" (0x50 0x53)
 *        2     1  version, 1
 *        3     1  family of the origin: 4 (IPv4) or 6 (IPv6)
 *        4    16  origin address: IPv6 as it is, IPv4 in the first four
 *                 bytes and the other twelve zero
 *       20     2  origin port: the copied datagram's source port
 *       22     2  contested port: the copied datagram's destination port
 *       24     4  payload length, 0..FANFRAME_PAYLOAD_MAX
 *       28     -  the payload, exactly that many bytes
 *
 * Over UDP (framed_udp) each datagram carries one frame whose length
 * field equals the datagram's length less 28.  Over TCP frames follow one
 * another on the stream; fanframe_stream_next finds where each ends.
 */
#ifndef PORTSHARE_FANFRAME_H
#define PORTSHARE_FANFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FANFRAME_HDR_LEN 28
#define FANFRAME_VERSION 1
/*
 * The largest payload a frame may announce: no UDP datagram carries more,
 * and a bound lets a stream reader size its buffer once.
 */
#define FANFRAME_PAYLOAD_MAX 65535u

/* A decoded header; ports and length in host byte order. */
struct fanframe_hdr {
	uint8_t family;          /* 4 or 6 */
	uint8_t addr[16];        /* the origin address, network byte order */
	uint16_t origin_port;
	uint16_t contested_port;
	uint32_t len;            /* payload bytes after the header */
};

/*
 * Writes h as the 28 header bytes.  Of addr only the first four bytes are
 * used for family 4; the rest of the field is written as zeros.  Returns
 * false, writing nothing, when the family is not 4 or 6 or len exceeds
 * FANFRAME_PAYLOAD_MAX, so that every header it writes decodes.
 */
bool fanframe_encode(const struct fanframe_hdr *h, uint8_t out[FANFRAME_HDR_LEN]);

/*
 * Reads the header at the start of buf (len bytes; the payload need not
 * follow).  Returns false for fewer than FANFRAME_HDR_LEN bytes, a wrong
 * magic or version, a family other than 4 or 6, an IPv4 address whose
 * twelve padding bytes are not zero, or a length over
 * FANFRAME_PAYLOAD_MAX; h is then cleared.
 */
bool fanframe_decode(const uint8_t *buf, size_t len, struct fanframe_hdr *h);

/*
 * For a byte stream: how long the frame starting at buf is.  Returns true
 * with *frame_len set to the header plus payload length when buf's len
 * bytes hold the whole frame, or to 0 when more bytes are needed.  Returns
 * false, with *frame_len 0, as soon as the bytes there are show a bad
 * header (even before all 28 have arrived): the stream cannot be
 * resynchronised and should be closed.
 */
bool fanframe_stream_next(const uint8_t *buf, size_t len, size_t *frame_len);

#endif
