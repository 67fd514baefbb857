/*
 * gstore: see gstore.h.  The three tables differ only in their columns, so
 * each is one store_table (its statements and how a row binds and reads)
 * that store.c's generic code loads, inserts, updates and deletes.
 */
#include "gstore.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "sched.h"
#include "store.h"

/*
 * Binds a group's columns as ?1..?9: name, aid, address, virtual_port,
 * proto, policy, max_wait_ms, on_timeout, is_default.
 */
static void gstore_bind_group(struct store_row *r, const void *row)
{
	const struct groups_group *gr = row;

	store_bind_text(r, 1, gr->name, -1);
	store_bind_text(r, 2, gr->aid, -1);
	store_bind_addr(r, 3, gr->family, gr->addr);
	store_bind_int(r, 4, gr->virtual_port);
	store_bind_text(r, 5, mapping_proto_name(gr->protos), -1);
	store_bind_text(r, 6, sched_policy_name(gr->policy), -1);
	store_bind_int(r, 7, gr->max_wait_ms);
	store_bind_text(r, 8, groups_on_timeout_name(gr->on_timeout), -1);
	store_bind_int(r, 9, gr->is_default ? 1 : 0);
}

static const char *gstore_read_group(const struct store_row *r, void *row)
{
	struct groups_group *gr = row;
	unsigned protos;

	memset(gr, 0, sizeof(*gr));
	gr->id = store_col_int(r, 0);
	if (!store_col_copy(r, 1, gr->name, sizeof(gr->name)))
		return "name";
	if (!store_col_copy(r, 2, gr->aid, sizeof(gr->aid)))
		return "aid";
	if (!store_col_null(r, 3) &&
	    !mapping_addr_parse(store_col_text(r, 3), &gr->family, gr->addr))
		return "address";
	if (!mapping_proto_parse(store_col_text(r, 5), &protos))
		return "proto";
	if (!sched_policy_parse(store_col_text(r, 6), &gr->policy))
		return "policy";
	if (!groups_on_timeout_parse(store_col_text(r, 8), &gr->on_timeout))
		return "on_timeout";
	gr->protos = protos;
	gr->virtual_port = (uint16_t)store_col_int(r, 4);
	gr->max_wait_ms = (uint32_t)store_col_int(r, 7);
	gr->is_default = store_col_int(r, 9) != 0;
	return NULL;
}

/* Binds a backend's columns as ?1..?5: group_id, port, weight, max_flows, state. */
static void gstore_bind_backend(struct store_row *r, const void *row)
{
	const struct groups_backend *b = row;

	store_bind_int(r, 1, b->group_id);
	store_bind_int(r, 2, b->b.port);
	store_bind_int(r, 3, b->b.weight);
	store_bind_int(r, 4, b->b.max_flows);
	store_bind_text(r, 5, sched_state_name(b->b.state), -1);
}

static const char *gstore_read_backend(const struct store_row *r, void *row)
{
	struct groups_backend *b = row;

	memset(b, 0, sizeof(*b));
	b->b.id = store_col_int(r, 0);
	b->group_id = store_col_int(r, 1);
	b->b.port = (uint16_t)store_col_int(r, 2);
	b->b.weight = (uint16_t)store_col_int(r, 3);
	b->b.max_flows = (uint32_t)store_col_int(r, 4);
	return sched_state_parse(store_col_text(r, 5), &b->b.state) ? NULL : "state";
}

/* Binds a rule's columns as ?1..?4: group_id, cidr, port_lo, port_hi. */
static void gstore_bind_rule(struct store_row *r, const void *row)
{
	const struct groups_rule *ru = row;
	char addr[STORE_ADDR_LEN], cidr[STORE_ADDR_LEN + 8];

	store_addr_format(ru->family, ru->addr, addr);
	snprintf(cidr, sizeof(cidr), "%s/%u", addr, ru->prefix_len);
	store_bind_int(r, 1, ru->group_id);
	store_bind_text(r, 2, cidr, -1);
	if (ru->has_ports) {
		store_bind_int(r, 3, ru->port_lo);
		store_bind_int(r, 4, ru->port_hi);
	} else {
		store_bind_null(r, 3);
		store_bind_null(r, 4);
	}
}

/* Parses "address/len" into r.  Returns false for anything else. */
static bool gstore_cidr_parse(const char *s, struct groups_rule *r)
{
	char addr[STORE_ADDR_LEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr) || slash[1] == '\0')
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || len > 128 || !mapping_addr_parse(addr, &r->family, r->addr))
		return false;
	r->prefix_len = (uint8_t)len;
	return true;
}

static const char *gstore_read_rule(const struct store_row *r, void *row)
{
	struct groups_rule *ru = row;

	memset(ru, 0, sizeof(*ru));
	ru->id = store_col_int(r, 0);
	ru->group_id = store_col_int(r, 1);
	if (!gstore_cidr_parse(store_col_text(r, 2), ru))
		return "cidr";
	ru->has_ports = !store_col_null(r, 3);
	if (ru->has_ports) {
		ru->port_lo = (uint16_t)store_col_int(r, 3);
		ru->port_hi = (uint16_t)store_col_int(r, 4);
	}
	return NULL;
}

static const struct store_table gstore_groups = {
	"gstore", "group", sizeof(struct groups_group), 9,
	"SELECT id, name, aid, address, virtual_port, proto, policy, max_wait_ms, "
	"on_timeout, is_default FROM groups ORDER BY id",
	"INSERT INTO groups (name, aid, address, virtual_port, proto, policy, "
	"max_wait_ms, on_timeout, is_default) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	"UPDATE groups SET name = ?1, aid = ?2, address = ?3, virtual_port = ?4, "
	"proto = ?5, policy = ?6, max_wait_ms = ?7, on_timeout = ?8, "
	"is_default = ?9 WHERE id = ?10",
	"DELETE FROM groups WHERE id = ?1",
	gstore_bind_group, gstore_read_group,
};

static const struct store_table gstore_backends = {
	"gstore", "backend", sizeof(struct groups_backend), 5,
	"SELECT id, group_id, port, weight, max_flows, state FROM backends ORDER BY id",
	"INSERT INTO backends (group_id, port, weight, max_flows, state) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	"UPDATE backends SET group_id = ?1, port = ?2, weight = ?3, max_flows = ?4, "
	"state = ?5 WHERE id = ?6",
	"DELETE FROM backends WHERE id = ?1",
	gstore_bind_backend, gstore_read_backend,
};

static const struct store_table gstore_rules = {
	"gstore", "rule", sizeof(struct groups_rule), 4,
	"SELECT id, group_id, cidr, port_lo, port_hi FROM rules ORDER BY id",
	"INSERT INTO rules (group_id, cidr, port_lo, port_hi) VALUES (?1, ?2, ?3, ?4)",
	"UPDATE rules SET group_id = ?1, cidr = ?2, port_lo = ?3, port_hi = ?4 "
	"WHERE id = ?5",
	"DELETE FROM rules WHERE id = ?1",
	gstore_bind_rule, gstore_read_rule,
};

int gstore_load(struct store *st, struct gstore_all *out, char *errbuf,
		size_t errlen)
{
	void *groups = NULL, *backends = NULL, *rules = NULL;

	memset(out, 0, sizeof(*out));
	if (store_table_load(st, &gstore_groups, &groups, &out->ngroups, errbuf,
			     errlen) < 0 ||
	    store_table_load(st, &gstore_backends, &backends, &out->nbackends,
			     errbuf, errlen) < 0 ||
	    store_table_load(st, &gstore_rules, &rules, &out->nrules, errbuf,
			     errlen) < 0)
		goto err;
	out->groups = groups;
	out->backends = backends;
	out->rules = rules;
	return 0;
err:
	free(groups);
	free(backends);
	free(rules);
	memset(out, 0, sizeof(*out));
	return -1;
}

void gstore_all_free(struct gstore_all *a)
{
	free(a->groups);
	free(a->backends);
	free(a->rules);
	memset(a, 0, sizeof(*a));
}

int gstore_group_insert(struct store *st, struct groups_group *gr,
			char *errbuf, size_t errlen)
{
	return store_table_insert(st, &gstore_groups, gr, &gr->id, errbuf, errlen);
}

int gstore_group_update(struct store *st, const struct groups_group *gr,
			char *errbuf, size_t errlen)
{
	return store_table_update(st, &gstore_groups, gr, gr->id, errbuf, errlen);
}

int gstore_group_delete(struct store *st, int64_t id, char *errbuf,
			size_t errlen)
{
	return store_table_delete(st, &gstore_groups, id, errbuf, errlen);
}

int gstore_backend_insert(struct store *st, struct groups_backend *b,
			  char *errbuf, size_t errlen)
{
	return store_table_insert(st, &gstore_backends, b, &b->b.id, errbuf, errlen);
}

int gstore_backend_update(struct store *st, const struct groups_backend *b,
			  char *errbuf, size_t errlen)
{
	return store_table_update(st, &gstore_backends, b, b->b.id, errbuf, errlen);
}

int gstore_backend_delete(struct store *st, int64_t id, char *errbuf,
			  size_t errlen)
{
	return store_table_delete(st, &gstore_backends, id, errbuf, errlen);
}

int gstore_rule_insert(struct store *st, struct groups_rule *r, char *errbuf,
		       size_t errlen)
{
	return store_table_insert(st, &gstore_rules, r, &r->id, errbuf, errlen);
}

int gstore_rule_update(struct store *st, const struct groups_rule *r,
		       char *errbuf, size_t errlen)
{
	return store_table_update(st, &gstore_rules, r, r->id, errbuf, errlen);
}

int gstore_rule_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen)
{
	return store_table_delete(st, &gstore_rules, id, errbuf, errlen);
}
