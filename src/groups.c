/*
 * groups: see groups.h for the model and the design.
 *
 * Layout of a snapshot.  Groups sorted by id; all backends in one array,
 * each group's run contiguous and sorted by id.  Services (one per address,
 * port and protocol) in an open-addressing hash keyed by struct pkt_key,
 * family 0 standing for any local address.  Source rules become one entry
 * per (rule, service of its group), with the address masked to the prefix,
 * sorted by (service, family, prefix length, address) so that the rules of
 * one prefix form a run; within a run, rules with a port range come first,
 * each kind by ascending id, which is the tie-break order.  A second hash
 * maps (service, family, prefix length, address) to its run.
 *
 * Longest-prefix match walks the prefix lengths present on the service for
 * the client's family (a 129-bit set), longest first, masks the client's
 * address and probes the run hash: O(distinct prefix lengths) probes, each
 * O(1), whatever the number of rules.  Within a run the scan is linear; it
 * is longer than one only for rules on the same prefix told apart by port.
 */
#include "groups.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "util.h"

/* One source rule on one service. */
struct groups_entry {
	int64_t id;
	const struct groups_group *group;
	uint32_t service;
	uint8_t fam;      /* groups_fam index */
	uint8_t plen;
	bool has_ports;
	uint16_t port_lo, port_hi;
	uint8_t addr[16]; /* masked to plen */
};

/* A run of entries with one (service, family, prefix, address); count 0: empty slot. */
struct groups_run {
	uint32_t start, count;
};

struct groups_service {
	struct pkt_key key;
	uint32_t index;
	const struct groups_group *def;
	const struct groups_service *any; /* the any-address fallback, or NULL */
	const struct groups_group **members;
	size_t nmembers;
	uint64_t plens[2][3]; /* per groups_fam: prefix lengths 0..128 in use */
};

struct groups {
	struct groups_group *groups; /* ascending id */
	size_t ngroups;
	struct sched_backend *backends;
	size_t nbackends;
	uint32_t *backend_by_id;     /* backend indices, ascending id */
	uint32_t *backend_group;     /* group index of each backend */
	struct groups_service *services;
	size_t nservices;
	uint32_t *service_slots;     /* service index + 1; 0: empty */
	size_t service_mask;
	const struct groups_group **members;
	struct groups_entry *entries;
	size_t nentries;
	struct groups_run *runs;
	size_t run_mask;
};

/* The protocol bits of struct groups_group, and the IP protocol of each. */
static const struct {
	unsigned bit;
	uint8_t l4proto;
} groups_protos[] = {
	{ 1, IPPROTO_TCP },
	{ 2, IPPROTO_UDP },
};

/* The address families a rule may have, with their address widths. */
static const struct {
	uint8_t family;
	uint8_t bits;
} groups_fams[] = {
	{ AF_INET, 32 },
	{ AF_INET6, 128 },
};

/* Indexed by enum groups_on_timeout. */
static const char *const groups_on_timeouts[] = {
	[GROUPS_RESET] = "reset",
	[GROUPS_DROP] = "drop",
};

_Static_assert(ARRAY_LEN(groups_on_timeouts) == GROUPS_ON_TIMEOUT_COUNT,
	       "one name per timeout action");

/* Sets errno to EINVAL, fills err and returns -1, for `return groups_fail(...)`. */
__attribute__((format(printf, 2, 3)))
static int groups_fail(struct groups_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* Allocates n zeroed elements of size; never NULL for n 0, so that NULL means ENOMEM. */
static void *groups_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		errno = ENOMEM;
	return p;
}

/* The groups_fams index of family, or -1. */
static int groups_fam(uint8_t family)
{
	for (size_t i = 0; i < ARRAY_LEN(groups_fams); i++) {
		if (groups_fams[i].family == family)
			return (int)i;
	}
	return -1;
}

/* The splitmix64 finaliser: every input bit moves about half the output. */
static uint64_t groups_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * A hash of seed (the small fields of a key) and a 16-byte address, on
 * whole words: routing computes one per prefix length, so this is its cost.
 */
static size_t groups_hash(uint64_t seed, const uint8_t addr[16])
{
	uint64_t hi, lo;

	memcpy(&hi, addr, 8);
	memcpy(&lo, addr + 8, 8);
	return (size_t)(groups_mix(hi ^ seed) ^ groups_mix(lo ^ 0x9e3779b97f4a7c15ULL));
}

static size_t groups_service_hash(const struct pkt_key *k)
{
	return groups_hash((uint64_t)k->family << 24 | (uint64_t)k->l4proto << 16 | k->port,
			   k->addr);
}

static size_t groups_run_hash(uint32_t service, int fam, unsigned plen,
			      const uint8_t addr[16])
{
	return groups_hash((uint64_t)service << 16 | (uint64_t)fam << 8 | plen, addr);
}

/* The smallest power of two that is at least 2n, so tables stay half empty. */
static size_t groups_table_size(size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	return cap;
}

static int groups_cmp_id(const void *a, const void *b)
{
	int64_t x = ((const struct groups_group *)a)->id;
	int64_t y = ((const struct groups_group *)b)->id;

	return (x > y) - (x < y);
}

/* The index of the group with id, or -1. */
static ssize_t groups_index(const struct groups *g, int64_t id)
{
	size_t lo = 0, hi = g->ngroups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->groups[mid].id == id)
			return (ssize_t)mid;
		if (g->groups[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Copies, checks and sorts the groups; the address is normalised to its family. */
static int groups_build_groups(struct groups *g, const struct groups_input *in,
			       struct groups_error *err)
{
	g->groups = groups_alloc(in->ngroups, sizeof(*g->groups));
	if (!g->groups)
		return -1;
	g->ngroups = in->ngroups;
	for (size_t i = 0; i < in->ngroups; i++) {
		struct groups_group *gr = &g->groups[i];
		int fam;

		*gr = in->groups[i];
		gr->backends = NULL;
		gr->nbackends = 0;
		gr->first_backend = 0;
		if (!memchr(gr->name, 0, sizeof(gr->name)) || !memchr(gr->aid, 0, sizeof(gr->aid)))
			return groups_fail(err, "group %lld: name or aid too long", (long long)gr->id);
		fam = groups_fam(gr->family);
		if (gr->family != 0 && fam < 0)
			return groups_fail(err, "group %lld: unknown address family %u",
					   (long long)gr->id, gr->family);
		/* Service keys are compared as bytes: clear what the family does not use. */
		if (gr->family == 0)
			memset(gr->addr, 0, sizeof(gr->addr));
		else
			util_prefix_mask(gr->addr, gr->addr, groups_fams[fam].bits);
		if (gr->virtual_port == 0)
			return groups_fail(err, "group %lld: virtual port 0", (long long)gr->id);
		if (gr->protos == 0 || (gr->protos & ~3u))
			return groups_fail(err, "group %lld: bad protocol set %u",
					   (long long)gr->id, gr->protos);
		if ((unsigned)gr->policy >= SCHED_POLICY_COUNT)
			return groups_fail(err, "group %lld: unknown policy", (long long)gr->id);
		if ((unsigned)gr->on_timeout >= GROUPS_ON_TIMEOUT_COUNT)
			return groups_fail(err, "group %lld: unknown timeout action",
					   (long long)gr->id);
	}
	qsort(g->groups, g->ngroups, sizeof(*g->groups), groups_cmp_id);
	for (size_t i = 1; i < g->ngroups; i++) {
		if (g->groups[i].id == g->groups[i - 1].id)
			return groups_fail(err, "group %lld: duplicate id", (long long)g->groups[i].id);
	}
	return 0;
}

/* A backend while sorting: its group index and where it is in the input. */
struct groups_backend_ref {
	int64_t id;
	uint32_t group;
	uint32_t input;
};

static int groups_cmp_backend_group(const void *a, const void *b)
{
	const struct groups_backend_ref *x = a, *y = b;

	if (x->group != y->group)
		return (x->group > y->group) - (x->group < y->group);
	return (x->id > y->id) - (x->id < y->id);
}

static int groups_cmp_backend_id(const void *a, const void *b)
{
	const struct groups_backend_ref *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int groups_check_backend(const struct groups *g, const struct groups_backend *in,
				ssize_t gi, struct groups_error *err)
{
	const struct sched_backend *b = &in->b;

	if (gi < 0)
		return groups_fail(err, "backend %lld: no group %lld", (long long)b->id,
				   (long long)in->group_id);
	if (b->port == 0)
		return groups_fail(err, "backend %lld: port 0", (long long)b->id);
	if (b->weight < SCHED_WEIGHT_MIN || b->weight > SCHED_WEIGHT_MAX)
		return groups_fail(err, "backend %lld: weight %u outside %d..%d", (long long)b->id,
				   b->weight, SCHED_WEIGHT_MIN, SCHED_WEIGHT_MAX);
	if ((unsigned)b->state >= SCHED_STATE_COUNT)
		return groups_fail(err, "backend %lld: unknown state", (long long)b->id);
	if (!b->active)
		return groups_fail(err, "backend %lld: no flow counter", (long long)b->id);
	if (g->groups[gi].nbackends == SCHED_MAX_BACKENDS)
		return groups_fail(err, "group %lld: more than %d backends",
				   (long long)in->group_id, SCHED_MAX_BACKENDS);
	return 0;
}

/* Places the backends in group runs and indexes them by id. */
static int groups_build_backends(struct groups *g, const struct groups_input *in,
				 struct groups_error *err)
{
	struct groups_backend_ref *refs;
	size_t n = in->nbackends;
	int rc = -1;

	refs = groups_alloc(n, sizeof(*refs));
	g->backends = groups_alloc(n, sizeof(*g->backends));
	g->backend_by_id = groups_alloc(n, sizeof(*g->backend_by_id));
	g->backend_group = groups_alloc(n, sizeof(*g->backend_group));
	if (!refs || !g->backends || !g->backend_by_id || !g->backend_group)
		goto out;
	g->nbackends = n;
	for (size_t i = 0; i < n; i++) {
		ssize_t gi = groups_index(g, in->backends[i].group_id);

		if (groups_check_backend(g, &in->backends[i], gi, err) < 0)
			goto out;
		g->groups[gi].nbackends++;
		refs[i] = (struct groups_backend_ref){ in->backends[i].b.id, (uint32_t)gi,
						       (uint32_t)i };
	}
	qsort(refs, n, sizeof(*refs), groups_cmp_backend_group);
	for (size_t i = 0; i < n; i++) {
		struct groups_group *gr = &g->groups[refs[i].group];

		g->backends[i] = in->backends[refs[i].input].b;
		g->backend_group[i] = refs[i].group;
		if (!gr->backends) {
			gr->backends = &g->backends[i];
			gr->first_backend = i;
		}
		/* From here on, input is the backend's place in the snapshot. */
		refs[i].input = (uint32_t)i;
	}
	qsort(refs, n, sizeof(*refs), groups_cmp_backend_id);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && refs[i].id == refs[i - 1].id) {
			groups_fail(err, "backend %lld: duplicate id", (long long)refs[i].id);
			goto out;
		}
		g->backend_by_id[i] = refs[i].input;
	}
	rc = 0;
out:
	free(refs);
	return rc;
}

static void groups_service_key(struct pkt_key *k, const struct groups_group *gr,
			       uint8_t l4proto)
{
	memset(k, 0, sizeof(*k));
	k->family = gr->family;
	k->l4proto = l4proto;
	k->port = gr->virtual_port;
	memcpy(k->addr, gr->addr, sizeof(k->addr));
}

/* The slot that holds key, or the empty slot where it would go. */
static uint32_t *groups_service_slot(const struct groups *g, const struct pkt_key *k)
{
	size_t i = groups_service_hash(k) & g->service_mask;

	while (g->service_slots[i]) {
		const struct groups_service *s = &g->services[g->service_slots[i] - 1];

		if (memcmp(&s->key, k, sizeof(*k)) == 0)
			break;
		i = (i + 1) & g->service_mask;
	}
	return &g->service_slots[i];
}

static const struct groups_service *groups_service_get(const struct groups *g,
							const struct pkt_key *k)
{
	uint32_t slot = *groups_service_slot(g, k);

	return slot ? &g->services[slot - 1] : NULL;
}

/*
 * Makes the services, their member lists and defaults, and links each
 * address-bound service to its any-address fallback.
 */
static int groups_build_services(struct groups *g, struct groups_error *err)
{
	size_t cap = ARRAY_LEN(groups_protos) * g->ngroups, next = 0;
	size_t slots = groups_table_size(cap);

	g->services = groups_alloc(cap, sizeof(*g->services));
	g->service_slots = groups_alloc(slots, sizeof(*g->service_slots));
	g->members = groups_alloc(cap, sizeof(*g->members));
	if (!g->services || !g->service_slots || !g->members)
		return -1;
	g->service_mask = slots - 1;
	/* First pass: the services and how many groups each has. */
	for (size_t i = 0; i < g->ngroups; i++) {
		const struct groups_group *gr = &g->groups[i];

		for (size_t p = 0; p < ARRAY_LEN(groups_protos); p++) {
			struct pkt_key k;
			uint32_t *slot;
			struct groups_service *s;

			if (!(gr->protos & groups_protos[p].bit))
				continue;
			groups_service_key(&k, gr, groups_protos[p].l4proto);
			slot = groups_service_slot(g, &k);
			if (!*slot) {
				s = &g->services[g->nservices];
				s->key = k;
				s->index = (uint32_t)g->nservices;
				*slot = (uint32_t)++g->nservices;
			}
			s = &g->services[*slot - 1];
			if (gr->is_default && s->def)
				return groups_fail(err, "groups %lld and %lld: both default for port %u",
						   (long long)s->def->id, (long long)gr->id,
						   gr->virtual_port);
			if (gr->is_default)
				s->def = gr;
			s->nmembers++;
		}
	}
	for (size_t i = 0; i < g->nservices; i++) {
		g->services[i].members = &g->members[next];
		next += g->services[i].nmembers;
		g->services[i].nmembers = 0;
	}
	/* Second pass: the members, in group (so id) order. */
	for (size_t i = 0; i < g->ngroups; i++) {
		for (size_t p = 0; p < ARRAY_LEN(groups_protos); p++) {
			struct pkt_key k;
			struct groups_service *s;

			if (!(g->groups[i].protos & groups_protos[p].bit))
				continue;
			groups_service_key(&k, &g->groups[i], groups_protos[p].l4proto);
			s = &g->services[*groups_service_slot(g, &k) - 1];
			s->members[s->nmembers++] = &g->groups[i];
		}
	}
	for (size_t i = 0; i < g->nservices; i++) {
		struct groups_service *s = &g->services[i];
		struct pkt_key k = { .l4proto = s->key.l4proto, .port = s->key.port };

		if (s->key.family != 0)
			s->any = groups_service_get(g, &k);
	}
	return 0;
}

static int groups_cmp_entry(const void *a, const void *b)
{
	const struct groups_entry *x = a, *y = b;
	int c;

	if (x->service != y->service)
		return (x->service > y->service) - (x->service < y->service);
	if (x->fam != y->fam)
		return x->fam - y->fam;
	if (x->plen != y->plen)
		return x->plen - y->plen;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->has_ports != y->has_ports)
		return x->has_ports ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Whether entry e heads the run for (service, fam, plen, addr). */
static bool groups_entry_is(const struct groups_entry *e, uint32_t service, int fam,
			    unsigned plen, const uint8_t addr[16])
{
	return e->service == service && e->fam == fam && e->plen == plen &&
	       memcmp(e->addr, addr, 16) == 0;
}

static const struct groups_run *groups_run_find(const struct groups *g, uint32_t service,
						int fam, unsigned plen,
						const uint8_t addr[16])
{
	size_t i = groups_run_hash(service, fam, plen, addr) & g->run_mask;

	while (g->runs[i].count) {
		if (groups_entry_is(&g->entries[g->runs[i].start], service, fam, plen, addr))
			return &g->runs[i];
		i = (i + 1) & g->run_mask;
	}
	return NULL;
}

static int groups_check_rule(const struct groups *g, const struct groups_rule *r,
			     ssize_t gi, struct groups_error *err)
{
	int fam = groups_fam(r->family);

	if (gi < 0)
		return groups_fail(err, "rule %lld: no group %lld", (long long)r->id,
				   (long long)r->group_id);
	if (fam < 0)
		return groups_fail(err, "rule %lld: unknown address family %u",
				   (long long)r->id, r->family);
	if (r->prefix_len > groups_fams[fam].bits)
		return groups_fail(err, "rule %lld: prefix /%u too long", (long long)r->id,
				   r->prefix_len);
	if (g->groups[gi].family != 0 && g->groups[gi].family != r->family)
		return groups_fail(err, "rule %lld: address family differs from group %lld's",
				   (long long)r->id, (long long)r->group_id);
	if (r->has_ports && r->port_lo > r->port_hi)
		return groups_fail(err, "rule %lld: port range %u-%u is empty", (long long)r->id,
				   r->port_lo, r->port_hi);
	return 0;
}

static int groups_cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Refuses duplicate rule ids, which would make the tie-break ambiguous. */
static int groups_check_rule_ids(const struct groups_input *in, struct groups_error *err)
{
	int64_t *ids = groups_alloc(in->nrules, sizeof(*ids));
	int rc = 0;

	if (!ids)
		return -1;
	for (size_t i = 0; i < in->nrules; i++)
		ids[i] = in->rules[i].id;
	qsort(ids, in->nrules, sizeof(*ids), groups_cmp_int64);
	for (size_t i = 1; i < in->nrules && rc == 0; i++) {
		if (ids[i] == ids[i - 1])
			rc = groups_fail(err, "rule %lld: duplicate id", (long long)ids[i]);
	}
	free(ids);
	return rc;
}

/* Places every rule on every service of its group and indexes the runs. */
static int groups_build_rules(struct groups *g, const struct groups_input *in,
			      struct groups_error *err)
{
	size_t nruns = 0, slots;

	if (groups_check_rule_ids(in, err) < 0)
		return -1;
	g->entries = groups_alloc(ARRAY_LEN(groups_protos) * in->nrules, sizeof(*g->entries));
	if (!g->entries)
		return -1;
	for (size_t i = 0; i < in->nrules; i++) {
		const struct groups_rule *r = &in->rules[i];
		ssize_t gi = groups_index(g, r->group_id);
		int fam;

		if (groups_check_rule(g, r, gi, err) < 0)
			return -1;
		fam = groups_fam(r->family);
		for (size_t p = 0; p < ARRAY_LEN(groups_protos); p++) {
			struct groups_entry *e = &g->entries[g->nentries];
			struct groups_service *s;
			struct pkt_key k;

			if (!(g->groups[gi].protos & groups_protos[p].bit))
				continue;
			groups_service_key(&k, &g->groups[gi], groups_protos[p].l4proto);
			s = &g->services[*groups_service_slot(g, &k) - 1];
			*e = (struct groups_entry){
				.id = r->id, .group = &g->groups[gi], .service = s->index,
				.fam = (uint8_t)fam, .plen = r->prefix_len,
				.has_ports = r->has_ports, .port_lo = r->port_lo,
				.port_hi = r->port_hi,
			};
			util_prefix_mask(e->addr, r->addr, r->prefix_len);
			s->plens[fam][r->prefix_len / 64] |= 1ULL << (r->prefix_len % 64);
			g->nentries++;
		}
	}
	qsort(g->entries, g->nentries, sizeof(*g->entries), groups_cmp_entry);
	for (size_t i = 0; i < g->nentries; i++) {
		const struct groups_entry *e = &g->entries[i];

		if (i == 0 || !groups_entry_is(&g->entries[i - 1], e->service, e->fam, e->plen,
					       e->addr))
			nruns++;
	}
	slots = groups_table_size(nruns);
	g->runs = groups_alloc(slots, sizeof(*g->runs));
	if (!g->runs)
		return -1;
	g->run_mask = slots - 1;
	for (size_t i = 0; i < g->nentries;) {
		const struct groups_entry *e = &g->entries[i];
		size_t j = i + 1, h;

		while (j < g->nentries && groups_entry_is(&g->entries[j], e->service, e->fam,
							  e->plen, e->addr))
			j++;
		h = groups_run_hash(e->service, e->fam, e->plen, e->addr) & g->run_mask;
		while (g->runs[h].count)
			h = (h + 1) & g->run_mask;
		g->runs[h] = (struct groups_run){ (uint32_t)i, (uint32_t)(j - i) };
		i = j;
	}
	return 0;
}

struct groups *groups_build(const struct groups_input *in, struct groups_error *err)
{
	struct groups *g = groups_alloc(1, sizeof(*g));
	int saved;

	if (!g)
		return NULL;
	if (groups_build_groups(g, in, err) < 0 || groups_build_backends(g, in, err) < 0 ||
	    groups_build_services(g, err) < 0 || groups_build_rules(g, in, err) < 0)
		goto err;
	return g;
err:
	saved = errno;
	groups_free(g);
	errno = saved;
	return NULL;
}

void groups_free(struct groups *g)
{
	if (!g)
		return;
	free(g->groups);
	free(g->backends);
	free(g->backend_by_id);
	free(g->backend_group);
	free(g->services);
	free(g->service_slots);
	free(g->members);
	free(g->entries);
	free(g->runs);
	free(g);
}

size_t groups_count(const struct groups *g)
{
	return g ? g->ngroups : 0;
}

size_t groups_backend_count(const struct groups *g)
{
	return g ? g->nbackends : 0;
}

const struct groups_group *groups_at(const struct groups *g, size_t i)
{
	return g && i < g->ngroups ? &g->groups[i] : NULL;
}

const struct groups_service *groups_find_service(const struct groups *g,
						 const struct pkt_key *key)
{
	struct pkt_key any = { .l4proto = key->l4proto, .port = key->port };
	const struct groups_service *s;

	if (!g)
		return NULL;
	s = groups_service_get(g, key);
	return s ? s : groups_service_get(g, &any);
}

const struct groups_group *const *groups_service_groups(const struct groups_service *s,
							size_t *n)
{
	*n = s->nmembers;
	return s->members;
}

/* Longest-prefix match over one service's rules, then its default. */
static const struct groups_group *groups_route_one(const struct groups *g,
						   const struct groups_service *s, int fam,
						   const uint8_t addr[16], uint16_t port)
{
	for (int w = 2; w >= 0; w--) {
		uint64_t bits = s->plens[fam][w];

		while (bits) {
			int b = 63 - __builtin_clzll(bits);
			unsigned plen = (unsigned)(w * 64 + b);
			const struct groups_run *run;
			uint8_t masked[16];

			bits &= ~(1ULL << b);
			util_prefix_mask(masked, addr, plen);
			run = groups_run_find(g, s->index, fam, plen, masked);
			if (!run)
				continue;
			for (uint32_t i = run->start; i < run->start + run->count; i++) {
				const struct groups_entry *e = &g->entries[i];

				if (!e->has_ports || (port >= e->port_lo && port <= e->port_hi))
					return e->group;
			}
		}
	}
	return s->def;
}

const struct groups_group *groups_route(const struct groups *g,
					const struct groups_service *s,
					uint8_t family, const uint8_t addr[16],
					uint16_t port)
{
	int fam = groups_fam(family);

	if (!g || fam < 0)
		return NULL;
	for (; s; s = s->any) {
		const struct groups_group *gr = groups_route_one(g, s, fam, addr, port);

		if (gr)
			return gr;
	}
	return NULL;
}

const struct groups_group *groups_find(const struct groups *g, int64_t id)
{
	ssize_t i;

	if (!g)
		return NULL;
	i = groups_index(g, id);
	return i < 0 ? NULL : &g->groups[i];
}

const struct sched_backend *groups_find_backend(const struct groups *g, int64_t id,
						const struct groups_group **group)
{
	size_t lo = 0, hi;

	if (!g)
		return NULL;
	hi = g->nbackends;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t b = g->backend_by_id[mid];

		if (g->backends[b].id == id) {
			if (group)
				*group = &g->groups[g->backend_group[b]];
			return &g->backends[b];
		}
		if (g->backends[b].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool groups_on_timeout_parse(const char *s, enum groups_on_timeout *t)
{
	int i = util_name_find(groups_on_timeouts, ARRAY_LEN(groups_on_timeouts), s);

	if (i < 0)
		return false;
	*t = (enum groups_on_timeout)i;
	return true;
}

const char *groups_on_timeout_name(enum groups_on_timeout t)
{
	return util_name_at(groups_on_timeouts, ARRAY_LEN(groups_on_timeouts), (unsigned)t);
}
