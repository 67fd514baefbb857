/*
 * config: see config.h.  It runs on the HTTP threads; control serialises
 * the store and the table, and nothing here keeps state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * One port of one row: the key under which the row can collide with
 * another.  Two rows conflict exactly when they share an address, overlap
 * in protocol and have a port in common (whichever of their two ports it
 * is), so each row is filed under both of its ports and only rows filed
 * under the same key need comparing.
 */
struct config_key {
	const char *address;
	uint32_t port;
	unsigned proto;
	size_t row;
};

/* Orders keys by address, then port, then row, so a run is one key in row order. */
static int config_key_cmp(const void *a, const void *b)
{
	const struct config_key *x = a, *y = b;
	int c = strcmp(x->address, y->address);

	if (c != 0)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

static bool config_key_same(const struct config_key *x,
			    const struct config_key *y)
{
	return x->port == y->port && strcmp(x->address, y->address) == 0;
}

/*
 * Finds the pair the pairwise scan would report first: the lowest row i
 * that conflicts with any earlier row, and the lowest such earlier row j.
 * keys[0..nkeys-1] are sorted (config_key_cmp).  Within one run of equal
 * keys, the earliest row seen so far that speaks TCP and the earliest that
 * speaks UDP are the only candidates for j, since "both" overlaps either.
 * A row is never twice in one run: its two ports differ (mapping_validate).
 * Sets *ri and *rj, or leaves both SIZE_MAX when no rows conflict.
 */
static void config_first_pair(const struct config_key *keys, size_t nkeys,
			      size_t *ri, size_t *rj)
{
	*ri = *rj = SIZE_MAX;
	for (size_t g = 0, end; g < nkeys; g = end) {
		size_t tcp = SIZE_MAX, udp = SIZE_MAX;

		for (end = g; end < nkeys && config_key_same(&keys[g], &keys[end]); end++) {
			const struct config_key *k = &keys[end];
			size_t j = SIZE_MAX;

			if ((k->proto & MAPPING_TCP) && tcp < j)
				j = tcp;
			if ((k->proto & MAPPING_UDP) && udp < j)
				j = udp;
			if (j != SIZE_MAX &&
			    (k->row < *ri || (k->row == *ri && j < *rj))) {
				*ri = k->row;
				*rj = j;
			}
			if ((k->proto & MAPPING_TCP) && tcp == SIZE_MAX)
				tcp = k->row;
			if ((k->proto & MAPPING_UDP) && udp == SIZE_MAX)
				udp = k->row;
		}
	}
}

/*
 * Reports the conflict of row i with the earlier row j, worded as
 * mapping_check_conflicts words it (the first of its rules that applies),
 * but naming j by its index.  Always returns false.
 */
static bool config_conflict(const struct mapping *rows, size_t i, size_t j,
			    struct mapping_error *err)
{
	struct mapping a = rows[i], b = rows[j];
	struct mapping_error e;
	const char *rule;

	/*
	 * Rows get distinct negative ids for the comparison:
	 * mapping_check_conflicts skips a row with the id it checks, and
	 * rows without an id all have 0.
	 */
	a.id = -1 - (int64_t)i;
	b.id = -1 - (int64_t)j;
	if (mapping_check_conflicts(&a, &b, 1, &e))
		return mapping_fail(err, 500, "internal", "",
				    "mappings[%zu] and mappings[%zu] were "
				    "found to conflict, but do not", i, j);
	/*
	 * The message names the other row by its id, a stand-in here: name
	 * it by its index instead.
	 */
	rule = strstr(e.message, " already ");
	return mapping_fail(err, e.status, e.code, e.field, "mappings[%zu] %s",
			    j, rule != NULL ? rule + 1 : e.message);
}

bool config_check(struct mapping *rows, size_t n, size_t *bad,
		  struct mapping_error *err)
{
	struct config_key *keys;
	size_t i, j;

	for (i = 0; i < n; i++) {
		*bad = i;
		if (!mapping_validate(&rows[i], err))
			return false;
	}
	*bad = SIZE_MAX;
	if (n < 2)
		return true;
	/*
	 * Sorting the keys, instead of comparing every pair, is what keeps a
	 * 100 000-row import to a fraction of a second rather than minutes.
	 * calloc checks n * 2 keys for overflow.
	 */
	keys = calloc(n, 2 * sizeof(*keys));
	if (keys == NULL)
		return mapping_fail(err, 500, "internal", "", "out of memory");
	for (i = 0; i < n; i++) {
		keys[2 * i] = (struct config_key){ rows[i].address,
			rows[i].shared_port, rows[i].proto, i };
		keys[2 * i + 1] = (struct config_key){ rows[i].address,
			rows[i].assigned_port, rows[i].proto, i };
	}
	qsort(keys, 2 * n, sizeof(*keys), config_key_cmp);
	config_first_pair(keys, 2 * n, &i, &j);
	free(keys);
	if (i == SIZE_MAX)
		return true;
	*bad = i;
	return config_conflict(rows, i, j, err);
}

int config_replace(struct control *ctl, struct mapping *rows, size_t n,
		   struct control_cond *cond, size_t *bad,
		   struct mapping_error *err)
{
	*bad = SIZE_MAX;
	if (!config_check(rows, n, bad, err))
		return -1;
	return control_table_replace(ctl, rows, n, cond, err);
}

int config_export(struct control *ctl, struct mapping **rows, size_t *n,
		  uint64_t *version, struct mapping_error *err)
{
	struct control_mapping *live = NULL;
	int rc = -1;

	*rows = NULL;
	if (control_mapping_list(ctl, &live, n, version, err) < 0)
		goto out;
	*rows = calloc(*n + 1, sizeof(**rows));
	if (*rows == NULL) {
		mapping_fail(err, 500, "internal", "", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < *n; i++)
		(*rows)[i] = live[i].m;
	rc = 0;
out:
	free(live);
	return rc;
}
