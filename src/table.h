/*
 * table: the port-sharing table as the packet path sees it, an immutable
 * snapshot with O(1) lookups in both directions.
 *
 * DESIGN.  The control plane builds a complete new snapshot for every change
 * and publishes it with table_publish, which swaps one pointer and frees the
 * old snapshot after an RCU grace period (liburcu, memb flavour).  Workers
 * bracket each receive batch with table_read_begin/table_read_end and never
 * take a lock, allocate or wait on the control plane.  Per-mapping counters
 * live outside the snapshots so they survive rebuilds; the control plane
 * frees a mapping's counters only after the snapshots that point at them are
 * gone (table_publish returns after the grace period).
 */
#ifndef PORTSHARE_TABLE_H
#define PORTSHARE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* Live counters of one mapping, updated with relaxed atomics by workers. */
struct table_counters {
	uint64_t packets_in, bytes_in;
	uint64_t packets_out, bytes_out;
	int64_t last_hit;
};

/* One resolved mapping: a single address and the protocols it covers. */
struct table_rule {
	unsigned protos;       /* bit set: 1 = TCP, 2 = UDP (enum mapping_proto) */
	uint8_t family;
	uint8_t addr[16];
	uint16_t shared_port;
	uint16_t assigned_port;
	struct table_counters *counters;
};

/* What a lookup finds: the port to write and where to count the hit. */
struct table_hit {
	uint16_t new_port;
	struct table_counters *counters;
};

struct table;

/*
 * Builds a snapshot from rules.  When a rule claims a key an earlier rule
 * holds, in either direction, the whole rule is left out (the earlier one
 * wins) and *shadowed (if not NULL) counts it.  Returns NULL with
 * errno set (ENOMEM) on failure.
 */
struct table *table_build(const struct table_rule *rules, size_t n,
			  size_t *shadowed);
void table_free(struct table *t);
size_t table_size(const struct table *t);

/*
 * Looks key up for direction dir: PKT_IN finds rules by (address, shared
 * port) and answers the assigned port, PKT_OUT the other way round.
 * Returns NULL when nothing matches.  t may be NULL (no table yet).
 */
const struct table_hit *table_lookup(const struct table *t, enum pkt_dir dir,
				     const struct pkt_key *key);

/* Counts one rewritten packet of len bytes against hit at time now. */
void table_count(const struct table_hit *hit, enum pkt_dir dir, size_t len,
		 int64_t now);

/* Every thread that calls table_read_begin must register first. */
void table_reader_register(void);
void table_reader_unregister(void);
/* Returns the live snapshot, valid until table_read_end. */
const struct table *table_read_begin(void);
void table_read_end(void);

/*
 * Makes t the live snapshot and frees the previous one once no reader can
 * still hold it.  Called by the control plane only, never concurrently.
 */
void table_publish(struct table *t);

#endif
