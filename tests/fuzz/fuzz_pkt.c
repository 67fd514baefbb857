/*
 * libFuzzer harness for pkt.  The first two input bytes are the new port,
 * the rest is the packet.  Every packet is parsed in both directions; an
 * accepted one is rewritten, with and without a partial checksum, in a heap
 * copy of exactly its size so that AddressSanitizer sees any access past
 * the end.  Beyond memory safety the harness checks two properties: the
 * rewrite changes nothing but the port and the checksums the view names, and
 * the rewritten packet parses to the same view with the new port in the key.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_pkt_field(size_t i, size_t off)
{
	return off != 0 && (i == off || i == off + 1);
}

static void fuzz_pkt_rewrite(const uint8_t *pkt, size_t len, enum pkt_dir dir,
			     const struct pkt_key *key,
			     const struct pkt_view *view, uint16_t port,
			     bool partial)
{
	struct pkt_view again_view;
	struct pkt_key again_key;
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		abort();
	memcpy(copy, pkt, len);
	pkt_rewrite(copy, len, view, port, partial);
	for (size_t i = 0; i < len; i++)
		if (copy[i] != pkt[i] && !fuzz_pkt_field(i, view->port_off) &&
		    !fuzz_pkt_field(i, view->csum_off) &&
		    !fuzz_pkt_field(i, view->inner_csum_off))
			abort();

	/*
	 * Ports and checksums do not steer the parser, and a rewritten UDP
	 * checksum is never 0, so the packet must parse the same way again.
	 */
	if (!pkt_parse(copy, len, dir, &again_key, &again_view))
		abort();
	if (again_key.port != port)
		abort();
	again_key.port = key->port;
	if (memcmp(&again_key, key, sizeof(*key)) != 0 ||
	    again_view.port_off != view->port_off ||
	    again_view.csum_off != view->csum_off ||
	    again_view.l4_off != view->l4_off ||
	    again_view.l4_len != view->l4_len ||
	    again_view.inner_csum_off != view->inner_csum_off ||
	    again_view.family != view->family ||
	    again_view.l4proto != view->l4proto ||
	    again_view.icmp_error != view->icmp_error ||
	    again_view.inner_udp != view->inner_udp ||
	    again_view.udp_no_csum != view->udp_no_csum)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pkt;
	uint8_t *exact;
	size_t len;
	uint16_t port;

	if (size < 2)
		return 0;
	port = (uint16_t)(data[0] << 8 | data[1]);
	pkt = data + 2;
	len = size - 2;

	/* Even the parser gets a buffer of exactly the packet's size. */
	exact = malloc(len ? len : 1);
	if (exact == NULL)
		abort();
	memcpy(exact, pkt, len);
	for (int d = 0; d < 2; d++) {
		struct pkt_view view;
		struct pkt_key key;

		if (!pkt_parse(exact, len, (enum pkt_dir)d, &key, &view))
			continue;
		fuzz_pkt_rewrite(exact, len, (enum pkt_dir)d, &key, &view,
				 port, false);
		fuzz_pkt_rewrite(exact, len, (enum pkt_dir)d, &key, &view,
				 port, true);
	}
	free(exact);
	return 0;
}
