/*
 * waitq: the bounded wait queue of one worker, holding the SYNs (and first
 * UDP datagrams) of new flows that no backend could take yet.  NFQUEUE lets
 * a verdict come late, so a held packet costs the kernel nothing but its
 * queue slot; the worker gives the verdict when a slot frees (admit) or
 * when the entry's deadline passes (reset or drop, per the group).
 *
 * Pure: the caller allocates struct waitq (236 KiB at WAITQ_CAP) and
 * owns the clock; nothing here allocates, blocks, logs or makes a system
 * call.  One worker owns a queue, so there is no locking.
 *
 * Cost: every operation is O(n) in the entries held, n <= WAITQ_CAP, over
 * compact per-slot arrays (group ids, deadlines, flow hashes: 8 bytes each)
 * rather than the entries themselves, so a full queue costs a scan of 8 KiB.
 * The queue is empty unless the service is saturated, and the scans then
 * replace what a heap and per-group lists would save with much less code.
 */
#ifndef PORTSHARE_WAITQ_H
#define PORTSHARE_WAITQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define WAITQ_CAP 1024
/* A SYN with every option is at most 60 + 60 bytes of IPv4 and TCP header. */
#define WAITQ_PACKET_MAX 128

/* What the caller knows about a held packet. */
struct waitq_info {
	int64_t group_id;
	uint32_t packet_id;  /* NFQUEUE's id, for the late verdict */
	int64_t arrival_ms;  /* the caller's clock, like deadline_ms */
	int64_t deadline_ms; /* arrival plus the group's max_wait_ms */
	/*
	 * The flow the packet opens, the key its flow gets once admitted
	 * (port: the virtual port).  Compared as bytes: two entries with
	 * equal keys are the same flow (a retransmitted SYN).  Unlike the
	 * flow table, waitq clears the bytes past an IPv4 address itself.
	 */
	struct flow_key flow;
};

/* A held packet as the pop functions hand it back. */
struct waitq_entry {
	struct waitq_info info;
	uint16_t len;
	uint8_t packet[WAITQ_PACKET_MAX];
};

/* Allocated by the caller; the fields are private to waitq.c. */
struct waitq {
	size_t cap, n;
	uint16_t order[WAITQ_CAP];      /* held slots in arrival order */
	uint16_t free_slots[WAITQ_CAP]; /* a stack of the cap - n free slots */
	int64_t group[WAITQ_CAP];       /* per slot: compact copies for scans */
	int64_t deadline[WAITQ_CAP];
	uint64_t flow_hash[WAITQ_CAP];
	struct waitq_entry slots[WAITQ_CAP];
};

/* Empties q and sets its capacity.  Returns -1 (EINVAL) unless 1 <= cap <= WAITQ_CAP. */
int waitq_init(struct waitq *q, size_t cap);

/*
 * Holds a copy of pkt[0..len) with info.  Returns 0, or -1 with errno:
 *  - EEXIST: this flow is already waiting (a retransmission: drop it, the
 *    first copy keeps its place); checked before fullness, so that a
 *    retransmission never earns the client a refusal;
 *  - ENOSPC: the queue is full (answer per the group's on_timeout);
 *  - EMSGSIZE: len is 0 or over WAITQ_PACKET_MAX.
 */
int waitq_push(struct waitq *q, const struct waitq_info *info,
	       const uint8_t *pkt, size_t len);

/* Whether flow is waiting. */
bool waitq_contains(const struct waitq *q, const struct flow_key *flow);

/*
 * Takes the oldest entry of group_id into *out, for admission when one of
 * the group's backends has room.  Returns false when the group has none.
 */
bool waitq_pop_ready(struct waitq *q, int64_t group_id, struct waitq_entry *out);

/*
 * Takes the entry with the earliest deadline into *out if that deadline is
 * at or before now_ms (ties: the oldest first).  Returns false when nothing
 * has expired; call it until then.
 */
bool waitq_pop_expired(struct waitq *q, int64_t now_ms, struct waitq_entry *out);

/*
 * Sets *deadline_ms to the earliest deadline held, for the worker's receive
 * timeout.  Returns false, leaving it alone, when the queue is empty.
 */
bool waitq_next_deadline(const struct waitq *q, int64_t *deadline_ms);

size_t waitq_count(const struct waitq *q);

#endif
