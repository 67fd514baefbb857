/*
 * table: see table.h for the design.  Each direction is an open-addressing
 * hash table with linear probing, sized to a power of two at most half full,
 * so a lookup touches one or two cache lines and never allocates.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "table.h"
#include "util.h"

struct table_slot {
	struct pkt_key key;
	struct table_hit hit;
	bool used;
};

struct table_dir {
	struct table_slot *slots;
	size_t mask;
};

struct table {
	struct table_dir dir[2]; /* indexed by enum pkt_dir */
	size_t nkeys;
};

static struct table *table_live;

/*
 * FNV-1a over the key bytes, then a final mix so that keys differing only in
 * the port spread over the whole table.  struct pkt_key has no padding.
 */
static size_t table_hash(const struct pkt_key *k)
{
	uint64_t h = util_fnv1a(k, sizeof(*k));

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h;
}

static const struct table_slot *table_find(const struct table_dir *d,
					   const struct pkt_key *k)
{
	size_t i = table_hash(k) & d->mask;

	while (d->slots[i].used) {
		if (memcmp(&d->slots[i].key, k, sizeof(*k)) == 0)
			return &d->slots[i];
		i = (i + 1) & d->mask;
	}
	return NULL;
}

/* Inserts a key the caller has checked is absent. */
static void table_insert(struct table_dir *d, const struct pkt_key *k,
			 const struct table_hit *hit)
{
	size_t i = table_hash(k) & d->mask;

	while (d->slots[i].used)
		i = (i + 1) & d->mask;
	d->slots[i].key = *k;
	d->slots[i].hit = *hit;
	d->slots[i].used = true;
}

static void table_key(struct pkt_key *k, const struct table_rule *r,
		      uint8_t l4proto, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = r->family;
	k->l4proto = l4proto;
	k->port = port;
	memcpy(k->addr, r->addr, sizeof(k->addr));
}

/* The protocol bits of struct table_rule, and the IP protocol of each. */
static const struct {
	unsigned bit;
	uint8_t l4proto;
} table_protos[] = {
	{ 1, 6 },  /* TCP */
	{ 2, 17 }, /* UDP */
};

struct table *table_build(const struct table_rule *rules, size_t n,
			  size_t *shadowed)
{
	struct table *t;
	size_t cap = 16, lost = 0;

	/* Each rule yields at most two keys per direction. */
	while (cap < 4 * n + 2)
		cap <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	for (int d = 0; d < 2; d++) {
		t->dir[d].slots = calloc(cap, sizeof(struct table_slot));
		if (!t->dir[d].slots) {
			table_free(t);
			errno = ENOMEM;
			return NULL;
		}
		t->dir[d].mask = cap - 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct table_rule *r = &rules[i];

		for (size_t p = 0; p < sizeof(table_protos) / sizeof(table_protos[0]); p++) {
			struct pkt_key kin, kout;
			struct table_hit in = { r->assigned_port, r->counters };
			struct table_hit out = { r->shared_port, r->counters };

			if (!(r->protos & table_protos[p].bit))
				continue;
			table_key(&kin, r, table_protos[p].l4proto, r->shared_port);
			table_key(&kout, r, table_protos[p].l4proto, r->assigned_port);
			/*
			 * A rule goes in both ways or not at all: rewriting only one
			 * direction would break every connection it touches.
			 */
			if (table_find(&t->dir[PKT_IN], &kin) || table_find(&t->dir[PKT_OUT], &kout)) {
				lost++;
				continue;
			}
			table_insert(&t->dir[PKT_IN], &kin, &in);
			table_insert(&t->dir[PKT_OUT], &kout, &out);
			t->nkeys++;
		}
	}
	if (shadowed)
		*shadowed = lost;
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	free(t->dir[0].slots);
	free(t->dir[1].slots);
	free(t);
}

size_t table_size(const struct table *t)
{
	return t ? t->nkeys : 0;
}

const struct table_hit *table_lookup(const struct table *t, enum pkt_dir dir,
				     const struct pkt_key *key)
{
	const struct table_slot *s;

	if (!t)
		return NULL;
	s = table_find(&t->dir[dir], key);
	return s ? &s->hit : NULL;
}

void table_count(const struct table_hit *hit, enum pkt_dir dir, size_t len,
		 int64_t now)
{
	struct table_counters *c = hit->counters;

	if (!c)
		return;
	if (dir == PKT_IN) {
		__atomic_fetch_add(&c->packets_in, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->bytes_in, len, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&c->packets_out, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->bytes_out, len, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&c->last_hit, now, __ATOMIC_RELAXED);
}

void table_reader_register(void)
{
	urcu_memb_register_thread();
}

void table_reader_unregister(void)
{
	urcu_memb_unregister_thread();
}

const struct table *table_read_begin(void)
{
	urcu_memb_read_lock();
	return rcu_dereference(table_live);
}

void table_read_end(void)
{
	urcu_memb_read_unlock();
}

void table_publish(struct table *t)
{
	struct table *old = rcu_xchg_pointer(&table_live, t);

	urcu_memb_synchronize_rcu();
	table_free(old);
}
