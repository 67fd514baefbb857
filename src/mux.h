/*
 * mux: virtual port multiplexing on the packet path, the decisions of one
 * NFQUEUE worker for packets the static table did not take.  A packet of a
 * known flow is rewritten the way its flow says; a new flow to a virtual
 * service is routed to a group, given a backend by the group's policy,
 * recorded in the worker's flow partition and rewritten; a new flow that no
 * backend can take waits in the worker's wait queue (its verdict comes
 * late) until a slot frees or its deadline passes.
 *
 * DESIGN.  Pure decisions, I/O left to the caller (nfq.c): nothing here
 * makes a system call, allocates after mux_new, locks or logs.  mux_packet
 * says what to do with a packet; mux_late hands back the held packets whose
 * turn has come, each with its verdict, and nfq.c sends the verdicts and any
 * refusal.  One worker owns a mux and calls it inside the read-side section
 * in which it read the snapshot (gctl_read), which it passes in.
 *
 * Counting: a flow holds one slot of its backend's active counter from
 * admission until it closes (FIN both ways or RST: released at once, the
 * flow itself lingers for the close grace) or, when it never closed, until
 * the sweeper removes it.  Group counters (flows, waits, wait_admitted,
 * timeouts, refused) and the backend's flows counter are counted here.
 */
#ifndef PORTSHARE_MUX_H
#define PORTSHARE_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "gctl.h"
#include "pkt.h"
#include "waitq.h"

struct mux;

/* What to do with a packet. */
enum mux_action {
	MUX_PASS,    /* not a group's: accept it untouched */
	MUX_REWRITE, /* rewrite the port pkt_parse chose to *port, accept */
	MUX_HELD,    /* held in the wait queue: give no verdict now */
	MUX_DROP,    /* drop it (a retransmitted SYN of a waiting flow, or a
		      * group that refuses by dropping) */
	MUX_REFUSE,  /* drop it and send the client pkt_build_refusal's answer */
};

/* Per-worker counters, read by other threads with relaxed loads. */
struct mux_stats {
	uint64_t flow_packets; /* packets rewritten through the flow table */
	uint64_t no_route;     /* new flows refused: no rule and no default group */
	uint64_t held;         /* packets in the wait queue now */
};

/*
 * A worker's mux over flow partition p, owned by worker index worker (its
 * round-robin arrays in gctl_snap.rr).  t is copied.  Returns NULL with
 * errno set (ENOMEM).
 */
struct mux *mux_new(struct flow_part *p, unsigned worker,
		    const struct flow_timeouts *t);
void mux_free(struct mux *m);

/*
 * Decides for one packet: dir, key and view as pkt_parse gave them for
 * pkt[0..len), packet_id its NFQUEUE id (kept with it when it is held).
 * Times on CLOCK_MONOTONIC.  On MUX_REWRITE sets *port.  snap may be NULL
 * (no groups yet): packets of flows restored from disk are still rewritten.
 * csum_partial is pkt_rewrite's: a packet about to be held gets its full
 * checksum computed in place first (its port unchanged), because its late
 * verdict carries the packet back and the kernel then takes the checksum
 * as complete.
 */
enum mux_action mux_packet(struct mux *m, const struct gctl_snap *snap,
			   enum pkt_dir dir, const struct pkt_key *key,
			   const struct pkt_view *view, uint8_t *pkt,
			   size_t len, bool csum_partial, uint32_t packet_id,
			   int64_t now_ms, uint16_t *port);

/* A held packet whose wait is over, as mux_late returns it. */
struct mux_late {
	enum mux_action action;  /* MUX_REWRITE (admitted), MUX_DROP or MUX_REFUSE */
	struct waitq_entry e;    /* e.packet is rewritten when admitted */
};

/*
 * Admits held packets whose group has a free backend now, oldest first, and
 * times out those past their deadline, writing at most max of them to
 * out.  Returns how many it wrote; call again while it returns max.
 */
size_t mux_late(struct mux *m, const struct gctl_snap *snap, int64_t now_ms,
		struct mux_late *out, size_t max);

/*
 * Sweeps expired flows (and runs a requested flush) with a budget of about
 * budget slots, releasing their backends.  Returns the flows removed.
 */
size_t mux_expire(struct mux *m, const struct gctl_snap *snap, int64_t now_ms,
		  size_t budget);

/* True while a flush waits or runs: the worker must keep calling mux_expire. */
bool mux_busy(const struct mux *m);

/* Sets *ms to the earliest deadline of a held packet; false when none waits. */
bool mux_next_deadline(const struct mux *m, int64_t *ms);

void mux_stats(const struct mux *m, struct mux_stats *out);

#endif
