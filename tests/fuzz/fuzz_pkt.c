/*
 * libFuzzer harness for pkt.  The first two input bytes are the new port,
 * the rest is the packet.  Every packet is parsed in both directions; an
 * accepted one is rewritten, with and without a partial checksum, in a heap
 * copy of exactly its size so that AddressSanitizer sees any access past
 * the end.  Beyond memory safety the harness checks two properties: the
 * rewrite changes nothing but the port and the checksums the view names, and
 * the rewritten packet parses to the same view with the new port in the key.
 *
 * Every packet is also refused into heap buffers of exactly the size the
 * same two bytes choose and of sizes around the refusal's length, so that
 * AddressSanitizer sees a write past them.  A declined refusal leaves the
 * buffer alone; a refusal comes only from a packet accepted in both
 * directions and parses back to the refused packet's inbound key, as the
 * reply that travels the other way.
 */
#include <netinet/in.h>
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

/*
 * A TCP reset always parses; an ICMP error parses when its quote holds the
 * refused packet's transport ports, which may lie past the quote behind a
 * long chain of IPv6 extension headers.
 */
static bool fuzz_pkt_refusal_parses(const uint8_t *out, size_t n,
				    const struct pkt_view *in_view)
{
	const size_t hdr_len = out[0] >> 4 == 4 ? 20 : 40;

	return out[hdr_len == 20 ? 9 : 6] == IPPROTO_TCP ||
	       in_view->l4_off + 8 <= n - hdr_len - 8;
}

/*
 * Refuses pkt into a heap buffer of exactly cap bytes, filled with a marker
 * first.  The refusal must be full's first n bytes when cap holds them and
 * must be declined, leaving every marker in place, when it does not.
 */
static void fuzz_pkt_refuse_cap(const uint8_t *pkt, size_t len, size_t cap,
				const uint8_t *full, size_t n)
{
	uint8_t *out = malloc(cap ? cap : 1);
	size_t got;

	if (out == NULL)
		abort();
	memset(out, 0xa5, cap);
	got = pkt_build_refusal(pkt, len, out, cap);
	if (got != (cap >= n ? n : 0) || memcmp(out, full, got) != 0)
		abort();
	for (size_t i = got; i < cap; i++)
		if (out[i] != 0xa5)
			abort();
	free(out);
}

/*
 * Refuses pkt with room for the largest refusal, then with the cap the seed
 * chooses, and with caps of exactly the refusal's length and one byte less,
 * where an off-by-one write would land.
 */
static void fuzz_pkt_refuse(const uint8_t *pkt, size_t len, uint16_t seed,
			    int accepted, const struct pkt_key *in_key,
			    const struct pkt_view *in_view)
{
	uint8_t *full = malloc(PKT_REFUSAL_MAX);
	struct pkt_view view;
	struct pkt_key key;
	bool parsed;
	size_t n;

	if (full == NULL)
		abort();
	n = pkt_build_refusal(pkt, len, full, PKT_REFUSAL_MAX);
	if (n > PKT_REFUSAL_MAX)
		abort();
	fuzz_pkt_refuse_cap(pkt, len, seed % (PKT_REFUSAL_MAX + 64), full, n);
	if (n == 0) {
		fuzz_pkt_refuse_cap(pkt, len, 0, full, n);
		free(full);
		return;
	}
	fuzz_pkt_refuse_cap(pkt, len, n - 1, full, n);
	fuzz_pkt_refuse_cap(pkt, len, n, full, n);
	if (accepted != 2)
		abort();
	parsed = pkt_parse(full, n, PKT_OUT, &key, &view);
	if (parsed != fuzz_pkt_refusal_parses(full, n, in_view))
		abort();
	if (parsed && (memcmp(&key, in_key, sizeof(key)) != 0 ||
		       view.icmp_error != (in_view->l4proto == IPPROTO_UDP)))
		abort();
	free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_view in_view;
	struct pkt_key in_key;
	const uint8_t *pkt;
	uint8_t *exact;
	int accepted = 0;
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
		accepted++;
		if (d == PKT_IN) {
			in_key = key;
			in_view = view;
		}
		fuzz_pkt_rewrite(exact, len, (enum pkt_dir)d, &key, &view,
				 port, false);
		fuzz_pkt_rewrite(exact, len, (enum pkt_dir)d, &key, &view,
				 port, true);
	}
	fuzz_pkt_refuse(exact, len, port, accepted, &in_key, &in_view);
	free(exact);
	return 0;
}
