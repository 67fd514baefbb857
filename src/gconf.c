/*
 * gconf: see gconf.h.  A check looks at one changed row against the rest,
 * O(n), rather than at every pair: a write changes one row, and the
 * configuration was consistent before it.
 */
#include "gconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "groups.h"
#include "util.h"

/* The characters a group name may use. */
static const char gconf_name_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

ssize_t gconf_group_index(const struct gstore_all *a, int64_t id)
{
	return util_rows_find(a->groups, a->ngroups, sizeof(*a->groups),
			  offsetof(struct groups_group, id), id);
}

ssize_t gconf_backend_index(const struct gstore_all *a, int64_t id)
{
	return util_rows_find(a->backends, a->nbackends, sizeof(*a->backends),
			  offsetof(struct groups_backend, b.id), id);
}

ssize_t gconf_rule_index(const struct gstore_all *a, int64_t id)
{
	return util_rows_find(a->rules, a->nrules, sizeof(*a->rules),
			  offsetof(struct groups_rule, id), id);
}

int gconf_copy(const struct gstore_all *a, struct gstore_all *out)
{
	memset(out, 0, sizeof(*out));
	out->groups = util_rows_dup(a->groups, a->ngroups, sizeof(*a->groups));
	out->backends = util_rows_dup(a->backends, a->nbackends, sizeof(*a->backends));
	out->rules = util_rows_dup(a->rules, a->nrules, sizeof(*a->rules));
	if (!out->groups || !out->backends || !out->rules) {
		gstore_all_free(out);
		return -1;
	}
	out->ngroups = a->ngroups;
	out->nbackends = a->nbackends;
	out->nrules = a->nrules;
	return 0;
}

int64_t gconf_next_group_id(const struct gstore_all *a)
{
	return a->ngroups ? a->groups[a->ngroups - 1].id + 1 : 1;
}

int64_t gconf_next_backend_id(const struct gstore_all *a)
{
	return a->nbackends ? a->backends[a->nbackends - 1].b.id + 1 : 1;
}

int64_t gconf_next_rule_id(const struct gstore_all *a)
{
	return a->nrules ? a->rules[a->nrules - 1].id + 1 : 1;
}

void gconf_group_remove(struct gstore_all *a, size_t i)
{
	int64_t id = a->groups[i].id;

	util_rows_remove(a->groups, &a->ngroups, sizeof(*a->groups), i);
	/* Backwards, so that what a removal shifts down was looked at already. */
	for (size_t b = a->nbackends; b-- > 0;)
		if (a->backends[b].group_id == id)
			gconf_backend_remove(a, b);
	for (size_t r = a->nrules; r-- > 0;)
		if (a->rules[r].group_id == id)
			gconf_rule_remove(a, r);
}

void gconf_backend_remove(struct gstore_all *a, size_t i)
{
	util_rows_remove(a->backends, &a->nbackends, sizeof(*a->backends), i);
}

void gconf_rule_remove(struct gstore_all *a, size_t i)
{
	util_rows_remove(a->rules, &a->nrules, sizeof(*a->rules), i);
}

bool gconf_check_group(const struct gstore_all *a, size_t i,
		       struct mapping_error *err)
{
	const struct groups_group *gr = &a->groups[i];
	size_t len = strnlen(gr->name, sizeof(gr->name));

	if (len == 0 || len >= sizeof(gr->name) || strspn(gr->name, gconf_name_chars) != len)
		return mapping_fail(err, 422, "invalid_name", "name", "a group name is 1 to "
				    "63 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
	len = strnlen(gr->aid, sizeof(gr->aid));
	if (len == 0 || len >= sizeof(gr->aid))
		return mapping_fail(err, 422, "invalid_aid", "aid", "an aid is 1 to 63 characters");
	for (size_t j = 0; j < a->ngroups; j++) {
		const struct groups_group *o = &a->groups[j];

		if (j == i)
			continue;
		if (strcmp(o->name, gr->name) == 0)
			return mapping_fail(err, 409, "conflict", "name", "group %" PRId64
					    " is already named \"%s\"", o->id, gr->name);
		/* groups_build would refuse it too, but could not say 409. */
		if (gr->is_default && o->is_default && o->family == gr->family &&
		    memcmp(o->addr, gr->addr, sizeof(gr->addr)) == 0 &&
		    o->virtual_port == gr->virtual_port && (o->protos & gr->protos))
			return mapping_fail(err, 409, "conflict", "default", "group %" PRId64
					    " (\"%s\") is already the default for port %u",
					    o->id, o->name, gr->virtual_port);
	}
	return true;
}

static bool gconf_unknown_group(int64_t id, struct mapping_error *err)
{
	return mapping_fail(err, 422, "unknown_group", "group", "no group with id %" PRId64, id);
}

bool gconf_check_backend(const struct gstore_all *a, size_t i,
			 struct mapping_error *err)
{
	const struct groups_backend *b = &a->backends[i];

	if (gconf_group_index(a, b->group_id) < 0)
		return gconf_unknown_group(b->group_id, err);
	for (size_t j = 0; j < a->nbackends; j++) {
		if (j != i && a->backends[j].group_id == b->group_id &&
		    a->backends[j].b.port == b->b.port)
			return mapping_fail(err, 409, "conflict", "port", "backend %" PRId64
					    " of this group already has port %u",
					    a->backends[j].b.id, b->b.port);
	}
	return true;
}

bool gconf_check_rule(const struct gstore_all *a, size_t i,
		      struct mapping_error *err)
{
	if (gconf_group_index(a, a->rules[i].group_id) < 0)
		return gconf_unknown_group(a->rules[i].group_id, err);
	return true;
}

bool gconf_check_all(const struct gstore_all *a, struct mapping_error *err)
{
	struct groups_input in = { a->groups, a->ngroups, a->backends, a->nbackends,
				   a->rules, a->nrules };
	struct groups_error gerr = { "" };
	struct groups *g = groups_build(&in, &gerr);

	if (g) {
		groups_free(g);
		return true;
	}
	if (errno != EINVAL)
		return mapping_fail(err, 500, "internal", "", "out of memory");
	return mapping_fail(err, 422, "invalid", "", "%s", gerr.message);
}

static int gconf_cmp_port(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* Sorts ports[0..n) and drops the duplicates.  Returns how many are left. */
static size_t gconf_uniq(uint16_t *ports, size_t n)
{
	size_t k = 0;

	qsort(ports, n, sizeof(*ports), gconf_cmp_port);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || ports[k - 1] != ports[i])
			ports[k++] = ports[i];
	return k;
}

int gconf_ports(const struct gstore_all *a, uint16_t **vports, size_t *nv,
		uint16_t **bports, size_t *nb)
{
	uint16_t *v = calloc(a->ngroups + 1, sizeof(*v));
	uint16_t *b = calloc(a->nbackends + 1, sizeof(*b));

	if (!v || !b) {
		free(v);
		free(b);
		return -1;
	}
	for (size_t i = 0; i < a->ngroups; i++)
		v[i] = a->groups[i].virtual_port;
	for (size_t i = 0; i < a->nbackends; i++)
		b[i] = a->backends[i].b.port;
	*nv = gconf_uniq(v, a->ngroups);
	*nb = gconf_uniq(b, a->nbackends);
	*vports = v;
	*bports = b;
	return 0;
}
