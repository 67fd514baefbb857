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

ssize_t rowset_find(const struct rowset *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].id == id)
			return (ssize_t)i;
	return -1;
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

static int rowset_order_cmp(const void *a, const void *b)
{
	const struct rowset_order *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int rowset_import_new(struct rowset_import *im, size_t n)
{
	memset(im, 0, sizeof(*im));
	im->next.rows = calloc(n + 1, sizeof(*im->next.rows));
	im->next.live = calloc(n + 1, sizeof(*im->next.live));
	im->order = calloc(n + 1, sizeof(*im->order));
	im->staged = calloc(n + 1, sizeof(*im->staged));
	im->next.cap = im->n = n;
	if (im->next.rows == NULL || im->next.live == NULL ||
	    im->order == NULL || im->staged == NULL)
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
 * Fills res for an imported row without waiting on DNS (see
 * rowset_import_take).  Returns true when the resolver has a lookup to do.
 */
static bool rowset_import_resolve(const struct rowset *cur,
				  const struct mapping *m,
				  struct resolver_result *res)
{
	if (m->family != 0) {
		rowset_literal(m, res);
		return false;
	}
	for (size_t i = 0; i < cur->n; i++) {
		if (cur->rows[i].family == 0 &&
		    strcmp(cur->rows[i].address, m->address) == 0) {
			*res = cur->live[i].res;
			return res->naddrs == 0;
		}
	}
	memset(res, 0, sizeof(*res));
	snprintf(res->error, sizeof(res->error), "%s", CONTROL_RESOLVING);
	res->temporary = true;
	return true;
}

bool rowset_import_take(struct rowset_import *im, struct rowset *cur,
			struct mapping *rows, size_t n, size_t *kept)
{
	bool lookups = false;

	*kept = 0;
	for (size_t i = 0; i < n; i++) {
		ssize_t j = rowset_find(cur, rows[i].id);

		lookups |= rowset_import_resolve(cur, &rows[i], &im->staged[i].res);
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
	rowset_free(&im->next, true);
	memset(im, 0, sizeof(*im));
}
