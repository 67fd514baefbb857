/*
 * flow: see flow.h for the design.  Here: hashing and probing, the seqlock,
 * the TCP state machine, the sweeper, and the repair of what a crash left
 * in the slots.  The file they live in, its header included, is flowfile's.
 *
 * DESIGN (memory).  The owner writes a slot only in flow_slot_store, with
 * relaxed atomic stores between the counter's two steps; readers copy it
 * with relaxed atomic loads between an acquire load of the counter and an
 * acquire fence.  That is the seqlock as Boehm writes it in C11 ("Can
 * seqlocks get along with programming language memory models?", 2012), so
 * the race a seqlock tolerates is not undefined behaviour.  The owner reads
 * its own slots with plain loads: nobody else writes them.  The counter
 * belongs to the slot, not to the flow, so moving a flow never copies it.
 * The slots are the shared mapping flowfile_open returns; this file writes
 * nothing else in it.
 */
#include <endian.h>
#include <errno.h>
#include <threads.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "flow.h"
#include "flowfile.h"

#define FLOW_WORDS 16
/* The hash covers the key up to, not including, the service-side port. */
#define FLOW_HASHED_BYTES offsetof(struct flow_key, port)
/* A partition refuses new flows at this load, in percent of its slots. */
#define FLOW_LOAD_PERCENT 90
/*
 * Slots per partition are a multiple of this, so partitions are page-aligned
 * (flowfile_slots is).
 */
#define FLOW_SLOT_ALIGN 64
/*
 * Bounds on the owner's work per packet.  No flow sits further than
 * FLOW_DIST_MAX slots from its home, so a lookup probes at most that many;
 * an insert moves at most FLOW_SHIFT_MAX flows.  An insert that would
 * break either is refused like one into a full partition.  With a keyed
 * hash at 90% load neither is reached in practice (see the unit tests).
 */
#define FLOW_DIST_MAX 512
#define FLOW_SHIFT_MAX 4096
#define FLOW_MAX_PARTITIONS 1024
#define FLOW_MAX_FLOWS (1u << 28)
/* A reader gives up on a slot the owner keeps rewriting after this many tries. */
#define FLOW_READ_TRIES 1000

/*
 * The file's format: a file of another version is reset.  Bump it when
 * struct flow_entry, the hash or the probing changes, since a file's flows
 * sit where they were placed, or when flowfile's header does.
 */
#define FLOW_VERSION 1

union flow_slot {
	struct flow_entry e;
	uint32_t w[FLOW_WORDS];
};

_Static_assert(sizeof(struct flow_key) == 38, "flow_key has padding");
_Static_assert(sizeof(struct flow_entry) == 64, "a flow is one cache line");
_Static_assert(sizeof(union flow_slot) == sizeof(struct flow_entry), "slot size");
_Static_assert(offsetof(struct flow_entry, seq) == 0, "seq is word 0");

static const union flow_slot flow_free_slot;

/*
 * One partition's bookkeeping, in process memory.  Cache-line aligned so
 * that workers never share a line.  The counters and the flush ticket are
 * the only fields other threads touch, all through atomics.
 */
struct flow_part {
	union flow_slot *slots;
	uint32_t nslots, limit;
	uint64_t seed[2];
	uint32_t count;
	uint32_t cursor;       /* the sweeper's next slot; it walks downwards */
	uint32_t flush_left;   /* slots the running flush has still to visit */
	uint32_t flush_target; /* the ticket the running flush serves */
	uint32_t flush_req;    /* written by any thread */
	uint32_t flush_done;   /* published by the owner */
	uint64_t inserted, refused, expired, flushed;
} __attribute__((aligned(64)));

struct flow_table {
	struct flowfile *file;
	unsigned nparts;
	struct flow_part *parts;
};

const struct flow_timeouts flow_timeouts_default = {
	.tcp_syn = 60,
	/*
	 * Just over the kernel's default keepalive time (7200 s) and its
	 * first probes, so an idle connection that uses keepalive never
	 * loses its flow.
	 */
	.tcp_established = 7440,
	.tcp_fin_wait = 120,
	.tcp_close = 10,
	.udp = 300,
};

/* Each state's name and where its timeout is in struct flow_timeouts. */
static const struct {
	const char *name;
	size_t timeout;
} flow_states[FLOW_STATE_COUNT] = {
	[FLOW_SYN_SEEN] = { "syn_seen", offsetof(struct flow_timeouts, tcp_syn) },
	[FLOW_ESTABLISHED] = { "established", offsetof(struct flow_timeouts, tcp_established) },
	[FLOW_FIN_IN] = { "fin_in", offsetof(struct flow_timeouts, tcp_fin_wait) },
	[FLOW_FIN_OUT] = { "fin_out", offsetof(struct flow_timeouts, tcp_fin_wait) },
	[FLOW_CLOSING] = { "closing", offsetof(struct flow_timeouts, tcp_close) },
	[FLOW_UDP] = { "udp", offsetof(struct flow_timeouts, udp) },
};

/* ---- hashing ------------------------------------------------------------ */

#define FLOW_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void flow_sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = FLOW_ROTL(v[1], 13); v[1] ^= v[0]; v[0] = FLOW_ROTL(v[0], 32);
	v[2] += v[3]; v[3] = FLOW_ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = FLOW_ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = FLOW_ROTL(v[1], 17); v[1] ^= v[2]; v[2] = FLOW_ROTL(v[2], 32);
}

/*
 * SipHash-1-3 (the kernel's hsiphash on 64-bit) with a secret key, because
 * clients choose their addresses and ports: an unkeyed hash would let them
 * pile their flows into one probe sequence.
 */
static uint64_t flow_siphash(const uint64_t seed[2], const uint8_t *p, size_t len)
{
	uint64_t v[4] = {
		seed[0] ^ 0x736f6d6570736575ULL, seed[1] ^ 0x646f72616e646f6dULL,
		seed[0] ^ 0x6c7967656e657261ULL, seed[1] ^ 0x7465646279746573ULL,
	};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		m = le64toh(m);
		v[3] ^= m;
		flow_sipround(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= last;
	flow_sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 3; r++)
		flow_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * The slot a key's probe sequence starts at.  Multiply-shift instead of a
 * mask lets the slot count be any number, so a partition is sized to its
 * flow limit rather than rounded up to a power of two (which would cost up
 * to twice the memory per flow).
 */
static uint32_t flow_home(const struct flow_part *p, const struct flow_key *k)
{
	uint64_t h = flow_siphash(p->seed, (const uint8_t *)k, FLOW_HASHED_BYTES);

	return (uint32_t)(((h >> 32) * p->nslots) >> 32);
}

static uint32_t flow_next(const struct flow_part *p, uint32_t i)
{
	return i + 1 == p->nslots ? 0 : i + 1;
}

static uint32_t flow_prev(const struct flow_part *p, uint32_t i)
{
	return i == 0 ? p->nslots - 1 : i - 1;
}

/* The distance from a to b going up, modulo the slot count. */
static uint32_t flow_span(const struct flow_part *p, uint32_t a, uint32_t b)
{
	return b >= a ? b - a : b + p->nslots - a;
}

/* ---- seqlock ------------------------------------------------------------ */

/* Writes everything but the counter of src into slot s. */
static void flow_slot_store(union flow_slot *s, const union flow_slot *src)
{
	__atomic_store_n(&s->e.seq, s->e.seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (int k = 1; k < FLOW_WORDS; k++)
		__atomic_store_n(&s->w[k], src->w[k], __ATOMIC_RELAXED);
	__atomic_store_n(&s->e.seq, s->e.seq + 1, __ATOMIC_RELEASE);
}

/* Sets a flow's state and last_seen, the fields that change in place. */
static void flow_slot_update(union flow_slot *s, uint8_t state, uint32_t last_seen)
{
	union flow_slot tmp = *s;

	tmp.e.state = state;
	tmp.e.last_seen = last_seen;
	flow_slot_store(s, &tmp);
}

/*
 * Copies slot s into out as one write left it.  Returns false when the
 * owner kept it busy for FLOW_READ_TRIES tries (preempted mid-write, say).
 */
static bool flow_slot_read(const union flow_slot *s, union flow_slot *out)
{
	for (int tries = 0; tries < FLOW_READ_TRIES; tries++) {
		uint32_t seq = __atomic_load_n(&s->e.seq, __ATOMIC_ACQUIRE);

		if (!(seq & 1)) {
			for (int k = 1; k < FLOW_WORDS; k++)
				out->w[k] = __atomic_load_n(&s->w[k], __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&s->e.seq, __ATOMIC_RELAXED) == seq) {
				out->e.seq = seq;
				return true;
			}
		}
		if (tries >= 16)
			thrd_yield();
	}
	return false;
}

/* Owner-written counters: a plain increment, published for readers. */
static void flow_bump(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static void flow_set_count(struct flow_part *p, uint32_t n)
{
	__atomic_store_n(&p->count, n, __ATOMIC_RELAXED);
}

/* ---- the table ---------------------------------------------------------- */

/* Same client, same service address, same protocol: same home slot. */
static bool flow_same_ends(const struct flow_entry *e, const struct flow_key *k)
{
	return memcmp(&e->key, k, FLOW_HASHED_BYTES) == 0;
}

/*
 * The slot of the flow matching k, comparing k->port with the virtual port
 * (out false) or the backend port (out true), or -1.  Robin hood order keeps
 * the flows of one home together and the homes ascending along a cluster,
 * so the search stops at the first flow nearer its home than the probe is.
 */
static int64_t flow_find(const struct flow_part *p, const struct flow_key *k,
			 bool out)
{
	uint32_t i = flow_home(p, k);

	for (uint32_t d = 1; d <= FLOW_DIST_MAX; d++) {
		const struct flow_entry *e = &p->slots[i].e;

		if (e->dist < d)
			return -1;
		if (e->dist == d && flow_same_ends(e, k) &&
		    (out ? e->backend_port : e->key.port) == k->port)
			return i;
		i = flow_next(p, i);
	}
	return -1;
}

static const struct flow_entry *flow_at(const struct flow_part *p, int64_t i)
{
	return i < 0 ? NULL : &p->slots[i].e;
}

const struct flow_entry *flow_lookup_in(const struct flow_part *p,
					const struct flow_key *key)
{
	return flow_at(p, flow_find(p, key, false));
}

const struct flow_entry *flow_lookup_out(const struct flow_part *p,
					 const struct flow_key *key)
{
	return flow_at(p, flow_find(p, key, true));
}

/* Moves the flow in slot from to slot to, whose distance differs by delta. */
static void flow_move(struct flow_part *p, uint32_t to, uint32_t from, int delta)
{
	union flow_slot tmp = p->slots[from];

	tmp.e.dist = (uint16_t)(tmp.e.dist + delta);
	flow_slot_store(&p->slots[to], &tmp);
}

/*
 * Removes the flow in slot i and pulls the rest of its cluster one slot
 * back towards home, so no tombstone is left.  Returns how many flows moved.
 */
static uint32_t flow_delete_at(struct flow_part *p, uint32_t i)
{
	uint32_t j = flow_next(p, i), moved = 0;

	while (p->slots[j].e.dist > 1) {
		flow_move(p, i, j, -1);
		i = j;
		j = flow_next(p, j);
		moved++;
	}
	flow_slot_store(&p->slots[i], &flow_free_slot);
	flow_set_count(p, p->count - 1);
	return moved;
}

/* The state a new flow of l4proto starts in, or 0 for other protocols. */
static uint8_t flow_first_state(uint8_t l4proto)
{
	return l4proto == IPPROTO_TCP ? FLOW_SYN_SEEN : l4proto == IPPROTO_UDP ? FLOW_UDP : 0;
}

/*
 * Inserts a new flow as robin hood ordering wants it: after the flows of
 * its home, shifting the rest of the cluster up by one slot into the first
 * free one.  The checks come first, so a refused insert changes nothing.
 */
const struct flow_entry *flow_insert(struct flow_part *p,
				     const struct flow_key *key,
				     uint16_t backend_port, uint32_t group,
				     uint32_t backend, uint32_t now)
{
	union flow_slot n;
	uint32_t pos, end, d = 1;
	uint8_t state = flow_first_state(key->l4proto);

	if (!state) {
		errno = EINVAL;
		return NULL;
	}
	if (p->count >= p->limit)
		goto full;
	pos = flow_home(p, key);
	while (p->slots[pos].e.dist >= d) {
		const struct flow_entry *e = &p->slots[pos].e;

		if (e->dist == d && flow_same_ends(e, key) &&
		    (e->key.port == key->port || e->backend_port == backend_port)) {
			errno = EEXIST;
			return NULL;
		}
		if (++d > FLOW_DIST_MAX)
			goto full;
		pos = flow_next(p, pos);
	}
	for (end = pos; p->slots[end].e.dist; end = flow_next(p, end))
		if (p->slots[end].e.dist >= FLOW_DIST_MAX ||
		    flow_span(p, pos, end) >= FLOW_SHIFT_MAX)
			goto full;

	/*
	 * The sweeper must not lose the flow at its cursor to the shift: it
	 * follows it up, with one more slot to visit if a flush runs.
	 */
	if (flow_span(p, pos, p->cursor) < flow_span(p, pos, end)) {
		p->cursor = flow_next(p, p->cursor);
		if (p->flush_left)
			p->flush_left++;
	}
	for (uint32_t j = end; j != pos; j = flow_prev(p, j))
		flow_move(p, j, flow_prev(p, j), 1);

	n.e = (struct flow_entry){ .dist = (uint16_t)d, .state = state, .key = *key,
				   .backend_port = backend_port, .group = group,
				   .backend = backend, .created = now, .last_seen = now };
	flow_slot_store(&p->slots[pos], &n);
	flow_set_count(p, p->count + 1);
	flow_bump(&p->inserted);
	return &p->slots[pos].e;
full:
	flow_bump(&p->refused);
	errno = ENOSPC;
	return NULL;
}

static uint32_t flow_index(const struct flow_part *p, const struct flow_entry *e)
{
	return (uint32_t)((const union flow_slot *)e - p->slots);
}

void flow_remove(struct flow_part *p, const struct flow_entry *e)
{
	flow_delete_at(p, flow_index(p, e));
}

void flow_touch(struct flow_part *p, const struct flow_entry *e, uint32_t now)
{
	union flow_slot *s = &p->slots[flow_index(p, e)];

	/* Most packets of a flow fall in the second it was last seen. */
	if (s->e.last_seen != now)
		flow_slot_update(s, s->e.state, now);
}

/* ---- TCP state machine -------------------------------------------------- */

/* What a segment means to the state machine, ignoring direction. */
enum flow_seg {
	FLOW_SEG_OTHER,
	FLOW_SEG_SYN,    /* SYN without ACK: a client opening */
	FLOW_SEG_SYNACK,
	FLOW_SEG_FIN,
	FLOW_SEG_RST,
	FLOW_SEG_COUNT
};

/* Stays in the same state. */
#define FLOW_KEEP 0
/* A new connection on the tuple of a closing one. */
#define FLOW_REUSE 0xff

/*
 * The next state by [state][direction][segment].  The backend answering
 * establishes the flow; a FIN each way or a RST closes it; a bare SYN from
 * the client once the old connection is closing opens a new one, which the
 * caller schedules afresh (as IPVS does with conn_reuse_mode).
 */
static const uint8_t flow_tcp_next[FLOW_STATE_COUNT][2][FLOW_SEG_COUNT] = {
	[FLOW_SYN_SEEN] = {
		[PKT_IN] = { [FLOW_SEG_FIN] = FLOW_FIN_IN, [FLOW_SEG_RST] = FLOW_CLOSING },
		[PKT_OUT] = { FLOW_ESTABLISHED, FLOW_ESTABLISHED, FLOW_ESTABLISHED,
			      FLOW_FIN_OUT, FLOW_CLOSING },
	},
	[FLOW_ESTABLISHED] = {
		[PKT_IN] = { [FLOW_SEG_FIN] = FLOW_FIN_IN, [FLOW_SEG_RST] = FLOW_CLOSING },
		[PKT_OUT] = { [FLOW_SEG_FIN] = FLOW_FIN_OUT, [FLOW_SEG_RST] = FLOW_CLOSING },
	},
	[FLOW_FIN_IN] = {
		[PKT_IN] = { [FLOW_SEG_SYN] = FLOW_REUSE, [FLOW_SEG_RST] = FLOW_CLOSING },
		[PKT_OUT] = { [FLOW_SEG_FIN] = FLOW_CLOSING, [FLOW_SEG_RST] = FLOW_CLOSING },
	},
	[FLOW_FIN_OUT] = {
		[PKT_IN] = { [FLOW_SEG_SYN] = FLOW_REUSE, [FLOW_SEG_FIN] = FLOW_CLOSING,
			     [FLOW_SEG_RST] = FLOW_CLOSING },
		[PKT_OUT] = { [FLOW_SEG_RST] = FLOW_CLOSING },
	},
	[FLOW_CLOSING] = {
		[PKT_IN] = { [FLOW_SEG_SYN] = FLOW_REUSE },
	},
};

static enum flow_seg flow_segment(uint8_t flags)
{
	if (flags & FLOW_TCP_RST)
		return FLOW_SEG_RST;
	if (flags & FLOW_TCP_SYN)
		return flags & FLOW_TCP_ACK ? FLOW_SEG_SYNACK : FLOW_SEG_SYN;
	if (flags & FLOW_TCP_FIN)
		return FLOW_SEG_FIN;
	return FLOW_SEG_OTHER;
}

enum flow_tcp_event flow_note_tcp(struct flow_part *p,
				  const struct flow_entry *e, enum pkt_dir dir,
				  uint8_t flags, uint32_t now)
{
	union flow_slot *s = &p->slots[flow_index(p, e)];
	uint8_t next = FLOW_KEEP;

	if (s->e.state < FLOW_STATE_COUNT)
		next = flow_tcp_next[s->e.state][dir == PKT_OUT][flow_segment(flags)];
	if (next == FLOW_REUSE)
		return FLOW_TCP_REUSED;
	if (next == FLOW_KEEP) {
		flow_touch(p, e, now);
		return FLOW_TCP_GOES_ON;
	}
	flow_slot_update(s, next, now);
	return next == FLOW_CLOSING ? FLOW_TCP_CLOSED : FLOW_TCP_GOES_ON;
}

uint32_t flow_deadline(const struct flow_entry *e, const struct flow_timeouts *t)
{
	uint32_t timeout = 0;

	if (e->state < FLOW_STATE_COUNT && flow_states[e->state].name)
		memcpy(&timeout, (const char *)t + flow_states[e->state].timeout,
		       sizeof(timeout));
	return e->last_seen + timeout;
}

const char *flow_state_name(unsigned state)
{
	if (state < FLOW_STATE_COUNT && flow_states[state].name)
		return flow_states[state].name;
	return "unknown";
}

/* ---- sweeper and flush -------------------------------------------------- */

/* Modulo 2^32, so a clock past 2^32 seconds still works. */
static bool flow_is_due(const struct flow_entry *e, const struct flow_timeouts *t,
			uint32_t now)
{
	return (int32_t)(now - flow_deadline(e, t)) >= 0;
}

/*
 * Starts a flush pass just below a free slot.  The pass walks down, clearing
 * as it goes; deletions only pull flows down into free slots and a flow
 * never moves below its home, so no flow that predates the flush can slip
 * from above the start into the part already walked.  Inserts that push a
 * flow up past the cursor are followed in flow_insert.
 */
static void flow_flush_start(struct flow_part *p, uint32_t ticket)
{
	uint32_t i = p->cursor;

	/* There is a free slot: the count never passes the limit. */
	while (p->slots[i].e.dist)
		i = flow_next(p, i);
	p->cursor = flow_prev(p, i);
	p->flush_left = p->nslots;
	p->flush_target = ticket;
}

size_t flow_expire(struct flow_part *p, uint32_t now,
		   const struct flow_timeouts *t, size_t budget,
		   flow_gone_fn *fn, void *arg)
{
	uint32_t ticket = __atomic_load_n(&p->flush_req, __ATOMIC_ACQUIRE);
	size_t work = 0, removed = 0;

	if (ticket != p->flush_target)
		flow_flush_start(p, ticket);
	/* An empty partition has nothing to sweep: a host without groups pays nothing. */
	if (p->count == 0 && p->flush_left == 0)
		return 0;
	while (work < budget) {
		uint32_t i = p->cursor;
		struct flow_entry *e = &p->slots[i].e;
		bool flushing = p->flush_left > 0;

		/*
		 * Walking down, a deletion pulls only flows already looked at
		 * into slot i, so moving on to i - 1 skips nothing.
		 */
		if (e->dist && (flushing || flow_is_due(e, t, now))) {
			if (fn)
				fn(e, arg);
			flow_bump(flushing ? &p->flushed : &p->expired);
			work += flow_delete_at(p, i);
			removed++;
		}
		p->cursor = flow_prev(p, i);
		work++;
		if (flushing && --p->flush_left == 0)
			__atomic_store_n(&p->flush_done, p->flush_target, __ATOMIC_RELEASE);
	}
	return removed;
}

uint32_t flow_slots(const struct flow_part *p)
{
	return p->nslots;
}

uint32_t flow_flush_request(struct flow_part *p)
{
	return __atomic_add_fetch(&p->flush_req, 1, __ATOMIC_ACQ_REL);
}

bool flow_flush_done(const struct flow_part *p, uint32_t ticket)
{
	return (int32_t)(__atomic_load_n(&p->flush_done, __ATOMIC_ACQUIRE) - ticket) >= 0;
}

bool flow_flush_pending(const struct flow_part *p)
{
	return p->flush_left > 0 ||
	       __atomic_load_n(&p->flush_req, __ATOMIC_ACQUIRE) != p->flush_target;
}

/* ---- readers ------------------------------------------------------------ */

int flow_foreach(const struct flow_part *p,
		 int (*fn)(const struct flow_entry *e, void *arg), void *arg)
{
	for (uint32_t i = 0; i < p->nslots; i++) {
		union flow_slot copy;
		int rc;

		if (!flow_slot_read(&p->slots[i], &copy) || !copy.e.dist)
			continue;
		rc = fn(&copy.e, arg);
		if (rc)
			return rc;
	}
	return 0;
}

void flow_stats(const struct flow_part *p, struct flow_stats *st)
{
	st->flows = __atomic_load_n(&p->count, __ATOMIC_RELAXED);
	st->limit = p->limit;
	st->inserted = __atomic_load_n(&p->inserted, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&p->refused, __ATOMIC_RELAXED);
	st->expired = __atomic_load_n(&p->expired, __ATOMIC_RELAXED);
	st->flushed = __atomic_load_n(&p->flushed, __ATOMIC_RELAXED);
}

unsigned flow_partitions(const struct flow_table *t)
{
	return t->nparts;
}

struct flow_part *flow_partition(struct flow_table *t, unsigned i)
{
	return &t->parts[i];
}

/* ---- restore ------------------------------------------------------------ */

/*
 * Whether the flow in slot i is one the table can find: a known protocol
 * and state, the distance its position says, and both lookups leading to
 * this very slot (a crash in the middle of a shift leaves one flow in two
 * slots; the second copy is the one dropped).
 */
static bool flow_slot_sound(const struct flow_part *p, uint32_t i)
{
	const struct flow_entry *e = &p->slots[i].e;
	uint8_t first = flow_first_state(e->key.l4proto);
	struct flow_key out = e->key;

	if (!first || e->state >= FLOW_STATE_COUNT ||
	    !flow_states[e->state].name || (e->state == FLOW_UDP) != (first == FLOW_UDP))
		return false;
	if (e->dist > FLOW_DIST_MAX ||
	    flow_span(p, flow_home(p, &e->key), i) != (uint32_t)e->dist - 1u)
		return false;
	out.port = e->backend_port;
	return flow_find(p, &e->key, false) == i && flow_find(p, &out, true) == i;
}

/*
 * Drops what flow_slot_sound rejects and counts the rest.  A partition
 * holding more than its limit (only a damaged file can) is emptied, since
 * every loop here relies on a free slot.  Returns how many flows went.
 */
static size_t flow_part_repair(struct flow_part *p)
{
	size_t dropped = 0;
	uint32_t i, n = 0;

	/*
	 * A crash mid-write leaves a counter odd.  Even them all before any
	 * write (which would flip them), and mark the torn flows with state 0
	 * for flow_slot_sound to reject.
	 */
	for (i = 0; i < p->nslots; i++) {
		union flow_slot *s = &p->slots[i];

		if (s->e.seq & 1) {
			s->e.seq++;
			s->e.state = 0;
		}
		if (s->e.dist)
			n++;
	}
	if (n > p->limit) {
		memset(p->slots, 0, (size_t)p->nslots * sizeof(*p->slots));
		return n;
	}
	flow_set_count(p, n);
	for (i = 0; i < p->nslots;) {
		union flow_slot *s = &p->slots[i];

		if (s->e.dist && !flow_slot_sound(p, i)) {
			/* The slot is refilled from above: look at it again. */
			flow_delete_at(p, i);
			dropped++;
			continue;
		}
		i++;
	}
	return dropped;
}

/* ---- open and close ----------------------------------------------------- */

int flow_boot_id(char id[FLOW_BOOT_ID_SIZE])
{
	return flowfile_boot_id(id);
}

struct flow_table *flow_open(const char *path, unsigned partitions,
			     uint32_t flows_per_part, const char *boot_id,
			     struct flow_open_info *info)
{
	struct flowfile_layout layout;
	struct flow_table *t;
	enum flow_open_status status;
	union flow_slot *base;
	uint64_t slots, seed[2];
	size_t dropped = 0, flows = 0;
	int saved;

	if (partitions == 0 || partitions > FLOW_MAX_PARTITIONS ||
	    flows_per_part == 0 || flows_per_part > FLOW_MAX_FLOWS) {
		errno = EINVAL;
		return NULL;
	}
	slots = ((uint64_t)flows_per_part * 100 + FLOW_LOAD_PERCENT - 1) / FLOW_LOAD_PERCENT;
	slots = (slots + FLOW_SLOT_ALIGN - 1) / FLOW_SLOT_ALIGN * FLOW_SLOT_ALIGN;
	layout = (struct flowfile_layout){
		.version = FLOW_VERSION, .entry_size = sizeof(union flow_slot),
		.partitions = partitions, .slots = (uint32_t)slots,
		.limit = flows_per_part, .boot_id = boot_id,
	};

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nparts = partitions;
	t->parts = aligned_alloc(64, partitions * sizeof(struct flow_part));
	if (!t->parts)
		goto err;
	t->file = flowfile_open(path, &layout, &status);
	if (!t->file)
		goto err;
	memset(t->parts, 0, partitions * sizeof(struct flow_part));
	base = flowfile_slots(t->file);
	flowfile_seed(t->file, seed);
	for (unsigned i = 0; i < partitions; i++) {
		struct flow_part *p = &t->parts[i];

		p->slots = base + (size_t)i * slots;
		p->nslots = (uint32_t)slots;
		p->limit = flows_per_part;
		memcpy(p->seed, seed, sizeof(p->seed));
		if (status == FLOW_OPEN_RESTORED)
			dropped += flow_part_repair(p);
		flows += p->count;
	}
	if (info) {
		info->status = status;
		info->flows = flows;
		info->dropped = dropped;
		info->bytes = flowfile_size(t->file);
	}
	return t;
err:
	saved = errno;
	flow_close(t);
	errno = saved;
	return NULL;
}

void flow_close(struct flow_table *t)
{
	if (!t)
		return;
	flowfile_close(t->file);
	free(t->parts);
	free(t);
}
