/*
 * rowset: see rowset.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowset.h"

int rowset_load(struct rowset *s, struct mapping *rows, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->n = s->cap = n;
	s->live = calloc(n + 1, sizeof(*s->live));
	for (size_t i = 0; s->live != NULL && i < n; i++) {
		s->live[i].counters = calloc(1, sizeof(struct table_counters));
		if (s->live[i].counters == NULL) {
			s->n = i;
			rowset_free(s, true);
			return -1;
		}
	}
	if (s->live == NULL) {
		rowset_free(s, true);
		return -1;
	}
	return 0;
}

void rowset_free(struct rowset *s, bool counters)
{
	for (size_t i = 0; counters && s->live != NULL && i < s->n; i++)
		free(s->live[i].counters);
	free(s->live);
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* Rows are ordered by id (see rowset.h), so a binary search finds one. */
ssize_t rowset_find(const struct rowset *s, int64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->rows[lo].id == id ? (ssize_t)lo : -1;
}

int rowset_reserve(struct rowset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16;
	struct rowset_live *live;
	struct mapping *rows;

	if (s->n < s->cap)
		return 0;
	/* Each array is kept as soon as it has grown, so a failure loses nothing. */
	rows = realloc(s->rows, cap * sizeof(*rows));
	if (rows == NULL)
		return -1;
	s->rows = rows;
	live = realloc(s->live, cap * sizeof(*live));
	if (live == NULL)
		return -1;
	s->live = live;
	s->cap = cap;
	return 0;
}

void rowset_insert(struct rowset *s, const struct mapping *m,
		   struct table_counters *counters,
		   const struct resolver_result *res)
{
	size_t at = s->n;

	/* New rows get the highest id so far: the loop rarely moves at all. */
	while (at > 0 && s->rows[at - 1].id > m->id)
		at--;
	memmove(&s->rows[at + 1], &s->rows[at], (s->n - at) * sizeof(*s->rows));
	memmove(&s->live[at + 1], &s->live[at], (s->n - at) * sizeof(*s->live));
	s->rows[at] = *m;
	s->live[at] = (struct rowset_live){ counters, *res };
	s->n++;
}

struct table_counters *rowset_remove(struct rowset *s, size_t i)
{
	struct table_counters *counters = s->live[i].counters;

	memmove(&s->rows[i], &s->rows[i + 1], (s->n - i - 1) * sizeof(*s->rows));
	memmove(&s->live[i], &s->live[i + 1], (s->n - i - 1) * sizeof(*s->live));
	s->n--;
	return counters;
}

void rowset_literal(const struct mapping *m, struct resolver_result *res)
{
	memset(res, 0, sizeof(*res));
	res->naddrs = 1;
	res->family[0] = (uint8_t)m->family;
	inet_pton(m->family, m->address, res->addr[0]);
}

void rowset_view(const struct rowset *s, size_t i, struct control_mapping *out)
{
	const struct rowset_live *l = &s->live[i];
	const struct table_counters *c = l->counters;

	memset(out, 0, sizeof(*out));
	out->m = s->rows[i];
	/* The workers add to the counters concurrently, hence atomic loads. */
	out->packets_in = __atomic_load_n(&c->packets_in, __ATOMIC_RELAXED);
	out->bytes_in = __atomic_load_n(&c->bytes_in, __ATOMIC_RELAXED);
	out->packets_out = __atomic_load_n(&c->packets_out, __ATOMIC_RELAXED);
	out->bytes_out = __atomic_load_n(&c->bytes_out, __ATOMIC_RELAXED);
	out->last_hit = __atomic_load_n(&c->last_hit, __ATOMIC_RELAXED);
	out->resolved = l->res.naddrs > 0;
	snprintf(out->resolve_error, sizeof(out->resolve_error), "%s", l->res.error);
	out->naddrs = l->res.naddrs;
	for (size_t a = 0; a < l->res.naddrs && a < CONTROL_MAX_ADDRS; a++)
		resolver_format(&l->res, a, out->addrs[a], sizeof(out->addrs[a]));
}

/* ---- imports ---------------------------------------------------------- */

/* A row's place in the new table: its id, and where it was in the import. */
struct rowset_order {
	int64_t id;
	size_t at;
};

/*
 * An imported row with a name, for finding what the table knows of that
 * name without a scan per row.  from, kept on the first entry of a run of
 * equal names only, is the index in the current table of the first row
 * with that name, or -1.
 */
struct rowset_name {
	const char *address;
	size_t at;
	ssize_t from;
};

static int rowset_order_cmp(const void *a, const void *b)
{
	const struct rowset_order *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Orders by name, then by place in the import, so the order is total. */
static int rowset_name_cmp(const void *a, const void *b)
{
	const struct rowset_name *x = a, *y = b;
	int c = strcmp(x->address, y->address);

	return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

int rowset_import_new(struct rowset_import *im, size_t n)
{
	memset(im, 0, sizeof(*im));
	im->next.rows = calloc(n + 1, sizeof(*im->next.rows));
	im->next.live = calloc(n + 1, sizeof(*im->next.live));
	im->order = calloc(n + 1, sizeof(*im->order));
	im->names = calloc(n + 1, sizeof(*im->names));
	im->staged = calloc(n + 1, sizeof(*im->staged));
	im->next.cap = im->n = n;
	if (im->next.rows == NULL || im->next.live == NULL ||
	    im->order == NULL || im->names == NULL || im->staged == NULL)
		goto err;
	for (size_t i = 0; i < n; i++) {
		im->staged[i].counters = calloc(1, sizeof(struct table_counters));
		if (im->staged[i].counters == NULL)
			goto err;
	}
	return 0;
err:
	rowset_import_free(im);
	return -1;
}

/*
 * Returns the index in names[0..n-1] (sorted by rowset_name_cmp) of the
 * first entry for address, or n when there is none.
 */
static size_t rowset_name_find(const struct rowset_name *names, size_t n,
			       const char *address)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(names[mid].address, address) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(names[lo].address, address) == 0 ? lo : n;
}

/*
 * Fills im->staged[].res for every imported row without waiting on DNS (see
 * rowset_import_take): a literal is its own address; a name takes what the
 * first row of cur with that name holds.  The imported names are sorted
 * and each of cur's names is looked up among them, so that an import of n
 * names into a table of m costs O((n + m) log n), not O(n * m).  Returns
 * true when the resolver has a lookup to do.
 */
static bool rowset_import_resolve(struct rowset_import *im,
				  const struct rowset *cur,
				  const struct mapping *rows, size_t n)
{
	struct rowset_name *names = im->names;
	size_t nnames = 0;
	bool lookups = false;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].family != 0)
			rowset_literal(&rows[i], &im->staged[i].res);
		else
			names[nnames++] = (struct rowset_name){ rows[i].address, i, -1 };
	}
	if (nnames == 0)
		return false;
	qsort(names, nnames, sizeof(*names), rowset_name_cmp);
	for (size_t i = 0; i < cur->n; i++) {
		size_t k;

		if (cur->rows[i].family != 0)
			continue;
		k = rowset_name_find(names, nnames, cur->rows[i].address);
		if (k < nnames && names[k].from < 0)
			names[k].from = (ssize_t)i;
	}
	for (size_t k = 0, first = 0; k < nnames; k++) {
		struct resolver_result *res = &im->staged[names[k].at].res;

		if (k > 0 && strcmp(names[k].address, names[first].address) != 0)
			first = k;
		if (names[first].from >= 0) {
			*res = cur->live[names[first].from].res;
			lookups |= res->naddrs == 0;
			continue;
		}
		memset(res, 0, sizeof(*res));
		snprintf(res->error, sizeof(res->error), "%s", CONTROL_RESOLVING);
		res->temporary = true;
		lookups = true;
	}
	return lookups;
}

bool rowset_import_take(struct rowset_import *im, struct rowset *cur,
			struct mapping *rows, size_t n, size_t *kept)
{
	bool lookups = rowset_import_resolve(im, cur, rows, n);

	*kept = 0;
	for (size_t i = 0; i < n; i++) {
		/* cur is ordered by id: a binary search, not a scan per row. */
		ssize_t j = rowset_find(cur, rows[i].id);

		im->order[i] = (struct rowset_order){ rows[i].id, i };
		if (j < 0)
			continue;
		free(im->staged[i].counters);
		im->staged[i].counters = cur->live[j].counters;
		cur->live[j].counters = NULL;
		(*kept)++;
	}
	qsort(im->order, n, sizeof(*im->order), rowset_order_cmp);
	for (size_t k = 0; k < n; k++) {
		size_t at = im->order[k].at;

		im->next.rows[k] = rows[at];
		im->next.live[k] = im->staged[at];
		im->staged[at].counters = NULL;
	}
	memcpy(rows, im->next.rows, n * sizeof(*rows));
	im->next.n = n;
	return lookups;
}

void rowset_import_free(struct rowset_import *im)
{
	/* Before the take, staged holds the counters; after it, next does. */
	for (size_t i = 0; im->staged != NULL && i < im->n; i++)
		free(im->staged[i].counters);
	free(im->staged);
	free(im->order);
	free(im->names);
	rowset_free(&im->next, true);
	memset(im, 0, sizeof(*im));
}
