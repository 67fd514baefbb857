/*
 * flow: the flow table of virtual port multiplexing (issue 4).  A new client
 * connection is pinned to one backend port of a group; its flow records that
 * choice so that every later packet is rewritten the same way, virtual to
 * backend port inbound and back outbound, in O(1) both ways.
 *
 * DESIGN.  The table is split into partitions, one per NFQUEUE worker.  The
 * kernel's --queue-balance hashes both directions of a connection to the
 * same queue, so a partition has exactly one writer, its worker (the
 * "owner"), and needs no lock.  The owner looks up, inserts, removes,
 * updates and sweeps; no call it makes allocates, locks or enters the
 * kernel.  Other threads (the control plane) only read:
 *
 *  - flow_foreach copies each entry under a per-entry sequence counter (a
 *    seqlock: the owner makes the counter odd, writes, makes it even; the
 *    reader retries when it saw an odd or changed counter), so every entry
 *    it reports is one the owner wrote whole.  The listing as a whole is not
 *    a snapshot: an entry moved during the walk may be reported twice or
 *    missed.  flow_stats reads counters kept with relaxed atomics.
 *  - A flush (DELETE /api/v1/flows) is a request, not an action:
 *    flow_flush_request bumps a ticket, and the owner's sweeper empties the
 *    partition over its next calls, then publishes the ticket as done.
 *    Every flow that existed when the flush was requested is gone by then;
 *    flows created while it runs may go too.
 *
 * The table lives in one memory-mapped file (MAP_SHARED, kept by the
 * flowfile module), so a restarted daemon maps it again and every flow
 * keeps its backend.  The file carries the layout and the boot it belongs
 * to; a file of another layout or from another boot (whose connections
 * died with it) is reinitialised.  Entries a crash left half written are
 * dropped when the file is opened.
 *
 * Each partition is an open-addressing table with robin hood ordering and
 * backward-shift deletion, so expiry leaves no tombstones behind and lookups
 * stay short at up to 90% load.  One 64-byte slot holds one flow; both
 * directions find it because the hash leaves out the service-side port,
 * which the two directions see differently (virtual inbound, backend
 * outbound).  One client port may hold flows to several virtual ports of
 * one service address, as long as their backend ports differ too: replies
 * from one backend port could not be told apart.
 *
 * Expiry is incremental: the owner calls flow_expire with a small budget,
 * once per batch and also when idle (at least every 100 ms or so, and
 * without pause while flow_flush_pending), so a worker whose queue is quiet
 * must not block in recv indefinitely.
 *
 * Times are seconds on a clock the caller supplies, which must never go
 * backwards within a boot: CLOCK_MONOTONIC or CLOCK_BOOTTIME, whose values
 * carry over a daemon restart, together with the boot id.
 */
#ifndef PORTSHARE_FLOW_H
#define PORTSHARE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* TCP header flag bits, as flow_note_tcp takes them. */
#define FLOW_TCP_FIN 0x01
#define FLOW_TCP_SYN 0x02
#define FLOW_TCP_RST 0x04
#define FLOW_TCP_ACK 0x10

enum flow_state {
	FLOW_SYN_SEEN = 1,   /* TCP: the client's SYN, no answer yet */
	FLOW_ESTABLISHED,    /* TCP: the backend answered */
	FLOW_FIN_IN,         /* TCP: the client sent FIN, the backend not yet */
	FLOW_FIN_OUT,        /* TCP: the backend sent FIN, the client not yet */
	FLOW_CLOSING,        /* TCP: FIN both ways, or RST; kept for a grace */
	FLOW_UDP,            /* UDP: ends on idle timeout only */
	FLOW_STATE_COUNT
};

/*
 * Idle timeouts in seconds, per state.  A flow goes within one sweep pass
 * after last_seen + its state's timeout.
 */
struct flow_timeouts {
	uint32_t tcp_syn;         /* FLOW_SYN_SEEN */
	uint32_t tcp_established; /* FLOW_ESTABLISHED */
	uint32_t tcp_fin_wait;    /* FLOW_FIN_IN, FLOW_FIN_OUT: half-closed */
	uint32_t tcp_close;       /* FLOW_CLOSING: the grace after FIN/RST */
	uint32_t udp;             /* FLOW_UDP */
};

/* 60 s SYN, 7440 s established, 120 s FIN wait, 10 s close, 300 s UDP. */
extern const struct flow_timeouts flow_timeouts_default;

/*
 * A flow's key.  IPv4 addresses use the first 4 bytes, the rest must be
 * zero; so must any unused byte (build keys from a zeroed struct).  In the
 * table, port is the virtual port.  For flow_lookup_out it is the backend
 * port: the packet's source port, with client its destination and service
 * its source.
 */
struct flow_key {
	uint8_t family;       /* AF_INET or AF_INET6 */
	uint8_t l4proto;      /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t client_port; /* host byte order, like every port here */
	uint8_t client[16];
	uint8_t service[16];  /* the local address the client connected to */
	uint16_t port;
};

/*
 * One flow, exactly one 64-byte slot of the mapped file.  Callers read the
 * fields; only flow_* functions write them.  seq and dist are the table's.
 */
struct flow_entry {
	uint32_t seq;          /* seqlock: odd while the owner writes */
	uint16_t dist;         /* probe distance + 1; 0: free slot */
	uint8_t state;         /* enum flow_state */
	uint8_t spare;         /* zero */
	struct flow_key key;   /* key.port: the virtual port */
	uint16_t backend_port;
	uint32_t group;        /* the group's id */
	uint32_t backend;      /* the backend's id */
	uint32_t created;      /* seconds, the caller's clock */
	uint32_t last_seen;
};

struct flow_table;
struct flow_part;

enum flow_open_status {
	FLOW_OPEN_NEW,      /* a new file, or no file (anonymous mapping) */
	FLOW_OPEN_RESTORED, /* the file's flows are back */
	FLOW_OPEN_LAYOUT,   /* the file had another layout: reinitialised */
	FLOW_OPEN_REBOOT,   /* the file is from another boot: reinitialised */
};

struct flow_open_info {
	enum flow_open_status status;
	size_t flows;   /* flows found in the file, after dropping */
	size_t dropped; /* entries a crash left inconsistent, dropped */
	size_t bytes;   /* the mapping's size */
};

/*
 * Opens (creating it if needed) the table in the file at path, mode 0600,
 * with partitions partitions of at most flows_per_part flows each; or, when
 * path is NULL, an anonymous table that lives as long as the process.  The
 * file is locked for as long as the table is open and its blocks are
 * allocated up front, so a full disk fails here rather than as SIGBUS on
 * the packet path.  boot_id (see flow_boot_id; 36 characters at most)
 * tells a table from an earlier boot; NULL skips that check.  info (if not
 * NULL) says what was found, for the caller to log.  After a restore, the
 * caller rebuilds its per-backend flow counts with flow_foreach.
 *
 * Returns NULL with errno set: EINVAL for 0 or more than 1024 partitions, 0
 * or more than 2^28 flows per partition; EWOULDBLOCK when another process
 * has the file open; or what open, ftruncate, posix_fallocate, mmap or
 * getrandom failed with.
 */
struct flow_table *flow_open(const char *path, unsigned partitions,
			     uint32_t flows_per_part, const char *boot_id,
			     struct flow_open_info *info);
/* Unmaps the table; its file keeps the flows.  t may be NULL. */
void flow_close(struct flow_table *t);

/* A boot id's characters, with the terminating NUL. */
#define FLOW_BOOT_ID_SIZE 37

/* Reads the kernel's boot id (a UUID).  Returns 0, or -1 with errno set. */
int flow_boot_id(char id[FLOW_BOOT_ID_SIZE]);

unsigned flow_partitions(const struct flow_table *t);
/* Partition i < flow_partitions(t), to be owned by exactly one worker. */
struct flow_part *flow_partition(struct flow_table *t, unsigned i);

/*
 * Owner only.  The flow whose inbound key (key->port: the virtual port) or
 * outbound key (key->port: the backend port) matches, or NULL.  The pointer
 * is valid until the owner next inserts, removes or sweeps.
 */
const struct flow_entry *flow_lookup_in(const struct flow_part *p,
					const struct flow_key *key);
const struct flow_entry *flow_lookup_out(const struct flow_part *p,
					 const struct flow_key *key);

/*
 * Owner only.  Records a new flow (key->port: the virtual port) pinned to
 * backend_port of backend in group, in state FLOW_SYN_SEEN for TCP and
 * FLOW_UDP for UDP, created and last seen at now.  Returns the entry, valid
 * like a lookup's, or NULL with errno set and nothing changed: ENOSPC when
 * the partition is full (counted in flow_stats.refused), EEXIST when a flow
 * already holds the inbound or the outbound key, EINVAL for a protocol
 * other than TCP and UDP.
 */
const struct flow_entry *flow_insert(struct flow_part *p,
				     const struct flow_key *key,
				     uint16_t backend_port, uint32_t group,
				     uint32_t backend, uint32_t now);

/* Owner only.  Removes the flow e (from a lookup or insert on p). */
void flow_remove(struct flow_part *p, const struct flow_entry *e);

/* Owner only.  Marks the flow e as seen at now (any packet). */
void flow_touch(struct flow_part *p, const struct flow_entry *e, uint32_t now);

enum flow_tcp_event {
	FLOW_TCP_GOES_ON, /* nothing for the caller to do */
	FLOW_TCP_CLOSED,  /* just entered FLOW_CLOSING: release the backend */
	FLOW_TCP_REUSED,  /* a bare SYN on a closing flow: a new connection */
};

/*
 * Owner only.  Moves the TCP flow e on by one segment (not an ICMP error
 * quoting one: flow_touch that): dir is the segment's direction (PKT_IN
 * from the client), flags its TCP flags.  On FLOW_TCP_REUSED the flow is
 * left as it is: the caller removes it (releasing its backend unless it was
 * FLOW_CLOSING) and schedules the segment as a new flow.  Otherwise e is
 * marked as seen at now.
 */
enum flow_tcp_event flow_note_tcp(struct flow_part *p,
				  const struct flow_entry *e, enum pkt_dir dir,
				  uint8_t flags, uint32_t now);

/* last_seen + the timeout of e's state. */
uint32_t flow_deadline(const struct flow_entry *e, const struct flow_timeouts *t);

/* "syn_seen", "established", "fin_in", "fin_out", "closing", "udp", or "unknown". */
const char *flow_state_name(unsigned state);

/*
 * Called with each flow the sweeper removes, just before it goes: fn must
 * release the flow's backend unless the flow is FLOW_CLOSING (released on
 * FLOW_TCP_CLOSED already), and must not call into the table.
 */
typedef void flow_gone_fn(const struct flow_entry *e, void *arg);

/*
 * Owner only.  Sweeps on from where the last call stopped, removing flows
 * whose deadline (flow_deadline) has passed at now, or every flow while a
 * flush runs, and stops after about budget units of work (a slot looked at,
 * an entry moved).  A full pass over the partition takes flow_slots(p)
 * units or a little more.  Returns how many flows it removed.
 */
size_t flow_expire(struct flow_part *p, uint32_t now,
		   const struct flow_timeouts *t, size_t budget,
		   flow_gone_fn *fn, void *arg);

/* Slots in p: the work of one sweep pass. */
uint32_t flow_slots(const struct flow_part *p);

/*
 * Any thread.  Asks the owner to remove every flow of p and returns a
 * ticket for flow_flush_done.  The owner does the work in flow_expire.
 */
uint32_t flow_flush_request(struct flow_part *p);
/* Any thread.  True once the flush of ticket (or a later one) is done. */
bool flow_flush_done(const struct flow_part *p, uint32_t ticket);
/* Owner.  True while a flush waits or runs: keep sweeping, don't sleep. */
bool flow_flush_pending(const struct flow_part *p);

/*
 * Any thread.  Calls fn with a consistent copy of each flow of p, until fn
 * returns non-zero; returns that value, or 0.  See DESIGN for what a
 * listing concurrent with the owner's writes may show.
 */
int flow_foreach(const struct flow_part *p,
		 int (*fn)(const struct flow_entry *e, void *arg), void *arg);

struct flow_stats {
	uint32_t flows;    /* in the partition now */
	uint32_t limit;    /* the most it takes */
	uint64_t inserted; /* flows created */
	uint64_t refused;  /* inserts refused: the partition was full (or, never
			    * seen at 90% load, too crowded around the slot) */
	uint64_t expired;  /* removed by the sweeper on timeout */
	uint64_t flushed;  /* removed by a flush */
};

/* Any thread.  Relaxed reads: each counter is exact, not all at one time. */
void flow_stats(const struct flow_part *p, struct flow_stats *st);

#endif
