/*
 * waitq: see waitq.h.  Entries sit in fixed slots; order[] lists the held
 * slots oldest first, so FIFO per group is "the first slot of that group in
 * order[]", and removing from the middle moves at most WAITQ_CAP uint16_t.
 */
#include "util.h"
#include "waitq.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

_Static_assert(sizeof(struct flow_key) == 38, "struct flow_key has no padding");
_Static_assert(WAITQ_CAP <= UINT16_MAX + 1, "slot numbers fit order[]");

/* The flow as compared: IPv4 addresses cleared past their 4 bytes. */
static void waitq_norm(struct flow_key *out, const struct flow_key *in)
{
	*out = *in;
	if (out->family == AF_INET) {
		memset(out->client + 4, 0, 12);
		memset(out->service + 4, 0, 12);
	}
}

/* FNV-1a: a cheap filter in front of the byte comparison. */
static uint64_t waitq_hash(const struct flow_key *f)
{
	return util_fnv1a(f, sizeof(*f));
}

int waitq_init(struct waitq *q, size_t cap)
{
	if (cap < 1 || cap > WAITQ_CAP) {
		errno = EINVAL;
		return -1;
	}
	q->cap = cap;
	q->n = 0;
	/* Popped from the end, so slot 0 is used first. */
	for (size_t i = 0; i < cap; i++)
		q->free_slots[i] = (uint16_t)(cap - 1 - i);
	return 0;
}

/* The position in order[] of the normalised flow f, or q->n. */
static size_t waitq_find(const struct waitq *q, const struct flow_key *f, uint64_t h)
{
	for (size_t i = 0; i < q->n; i++) {
		uint16_t s = q->order[i];

		if (q->flow_hash[s] == h &&
		    memcmp(&q->slots[s].info.flow, f, sizeof(*f)) == 0)
			return i;
	}
	return q->n;
}

bool waitq_contains(const struct waitq *q, const struct flow_key *flow)
{
	struct flow_key f;

	waitq_norm(&f, flow);
	return waitq_find(q, &f, waitq_hash(&f)) < q->n;
}

int waitq_push(struct waitq *q, const struct waitq_info *info,
	       const uint8_t *pkt, size_t len)
{
	struct waitq_entry *e;
	struct flow_key f;
	uint64_t h;
	uint16_t s;

	if (len == 0 || len > WAITQ_PACKET_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	waitq_norm(&f, &info->flow);
	h = waitq_hash(&f);
	if (waitq_find(q, &f, h) < q->n) {
		errno = EEXIST;
		return -1;
	}
	if (q->n == q->cap) {
		errno = ENOSPC;
		return -1;
	}
	s = q->free_slots[q->cap - q->n - 1];
	e = &q->slots[s];
	e->info = *info;
	e->info.flow = f;
	e->len = (uint16_t)len;
	memcpy(e->packet, pkt, len);
	q->group[s] = info->group_id;
	q->deadline[s] = info->deadline_ms;
	q->flow_hash[s] = h;
	q->order[q->n++] = s;
	return 0;
}

/* Hands the entry at order position i to *out and frees its slot. */
static void waitq_take(struct waitq *q, size_t i, struct waitq_entry *out)
{
	uint16_t s = q->order[i];

	*out = q->slots[s];
	memmove(&q->order[i], &q->order[i + 1], (q->n - i - 1) * sizeof(q->order[0]));
	q->n--;
	q->free_slots[q->cap - q->n - 1] = s;
}

bool waitq_pop_ready(struct waitq *q, int64_t group_id, struct waitq_entry *out)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->group[q->order[i]] == group_id) {
			waitq_take(q, i, out);
			return true;
		}
	}
	return false;
}

/* The order[] position of the earliest deadline (the oldest among equals); n > 0. */
static size_t waitq_earliest(const struct waitq *q)
{
	size_t best = 0;

	for (size_t i = 1; i < q->n; i++) {
		if (q->deadline[q->order[i]] < q->deadline[q->order[best]])
			best = i;
	}
	return best;
}

bool waitq_pop_expired(struct waitq *q, int64_t now_ms, struct waitq_entry *out)
{
	size_t i;

	if (q->n == 0)
		return false;
	i = waitq_earliest(q);
	if (q->deadline[q->order[i]] > now_ms)
		return false;
	waitq_take(q, i, out);
	return true;
}

bool waitq_next_deadline(const struct waitq *q, int64_t *deadline_ms)
{
	if (q->n == 0)
		return false;
	*deadline_ms = q->deadline[q->order[waitq_earliest(q)]];
	return true;
}

size_t waitq_count(const struct waitq *q)
{
	return q->n;
}
