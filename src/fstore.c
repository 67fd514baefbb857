/*
 * fstore: see fstore.h.  The two tables differ only in their columns, so
 * each is one store_table (its statements and how a row binds and reads)
 * that store.c's generic code loads, inserts, updates and deletes, as in
 * gstore.c.
 */
#include "fstore.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mapping.h"
#include "store.h"

/*
 * Binds an address as ?col: NULL for family 0, path for AF_UNIX, the
 * inet_ntop literal otherwise.  An unknown family binds "", which the
 * schema's CHECKs refuse, as they refuse a contested port's "" path.
 */
static void fstore_bind_addr(struct store_row *r, int col, uint8_t family,
			     const uint8_t addr[16], const char *path)
{
	if (family == AF_UNIX)
		store_bind_text(r, col, path, (int)strnlen(path, FCTL_PATH_MAX));
	else
		store_bind_addr(r, col, family, addr);
}

/* Binds a contested port's columns as ?1..?4: port, address, registration_port, enabled. */
static void fstore_bind_port(struct store_row *r, const void *row)
{
	const struct fctl_port *p = row;

	store_bind_int(r, 1, p->port);
	fstore_bind_addr(r, 2, p->family, p->addr, "");
	store_bind_int(r, 3, p->registration_port);
	store_bind_int(r, 4, p->enabled ? 1 : 0);
}

static const char *fstore_read_port(const struct store_row *r, void *row)
{
	struct fctl_port *p = row;

	memset(p, 0, sizeof(*p));
	p->id = store_col_int(r, 0);
	p->port = (uint16_t)store_col_int(r, 1);
	if (!store_col_null(r, 2) &&
	    !mapping_addr_parse(store_col_text(r, 2), &p->family, p->addr))
		return "address";
	p->registration_port = (uint16_t)store_col_int(r, 3);
	p->enabled = store_col_int(r, 4) != 0;
	return NULL;
}

/*
 * Binds a subscriber's columns as ?1..?6: contested_id, mode, address,
 * port, sample_every, registered.
 */
static void fstore_bind_sub(struct store_row *r, const void *row)
{
	const struct fctl_sub *s = row;

	store_bind_int(r, 1, s->port_id);
	store_bind_text(r, 2, fctl_mode_name(s->mode), -1);
	/* A subscriber always has an address: family 0 binds "" for the CHECK to refuse. */
	if (s->family == 0)
		store_bind_text(r, 3, "", -1);
	else
		fstore_bind_addr(r, 3, s->family, s->addr, s->path);
	store_bind_int(r, 4, s->port);
	store_bind_int(r, 5, s->sample_every);
	store_bind_int(r, 6, s->registered ? 1 : 0);
}

/*
 * Reads a subscriber's target: a socket path for framed_unix, an IP
 * literal for every other mode.  Returns false when it is neither.
 */
static bool fstore_read_target(struct fctl_sub *s, const char *text)
{
	size_t len = strlen(text);

	if (s->mode != FCTL_FRAMED_UNIX)
		return mapping_addr_parse(text, &s->family, s->addr);
	if (text[0] != '/' || len >= sizeof(s->path))
		return false;
	memcpy(s->path, text, len + 1);
	s->family = AF_UNIX;
	return true;
}

static const char *fstore_read_sub(const struct store_row *r, void *row)
{
	struct fctl_sub *s = row;
	int64_t every;

	memset(s, 0, sizeof(*s));
	s->id = store_col_int(r, 0);
	s->port_id = store_col_int(r, 1);
	every = store_col_int(r, 5);
	if (!fctl_mode_parse(store_col_text(r, 2), &s->mode))
		return "mode";
	if (!fstore_read_target(s, store_col_text(r, 3)))
		return "address";
	if (every < 1 || every > UINT32_MAX)
		return "sample_every";
	s->port = (uint16_t)store_col_int(r, 4);
	s->sample_every = (uint32_t)every;
	s->registered = store_col_int(r, 6) != 0;
	return NULL;
}

static const struct store_table fstore_ports = {
	"fstore", "contested port", sizeof(struct fctl_port), 4,
	"SELECT id, port, address, registration_port, enabled FROM contested ORDER BY id",
	"INSERT INTO contested (port, address, registration_port, enabled) "
	"VALUES (?1, ?2, ?3, ?4)",
	"UPDATE contested SET port = ?1, address = ?2, registration_port = ?3, "
	"enabled = ?4 WHERE id = ?5",
	"DELETE FROM contested WHERE id = ?1",
	fstore_bind_port, fstore_read_port,
};

static const struct store_table fstore_subs = {
	"fstore", "subscriber", sizeof(struct fctl_sub), 6,
	"SELECT id, contested_id, mode, address, port, sample_every, registered "
	"FROM subscribers ORDER BY id",
	"INSERT INTO subscribers (contested_id, mode, address, port, sample_every, "
	"registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"UPDATE subscribers SET contested_id = ?1, mode = ?2, address = ?3, port = ?4, "
	"sample_every = ?5, registered = ?6 WHERE id = ?7",
	"DELETE FROM subscribers WHERE id = ?1",
	fstore_bind_sub, fstore_read_sub,
};

int fstore_load(struct store *st, struct fstore_all *out, char *errbuf,
		size_t errlen)
{
	void *ports = NULL, *subs = NULL;

	memset(out, 0, sizeof(*out));
	if (store_table_load(st, &fstore_ports, &ports, &out->nports, errbuf,
			     errlen) < 0 ||
	    store_table_load(st, &fstore_subs, &subs, &out->nsubs, errbuf,
			     errlen) < 0)
		goto err;
	out->ports = ports;
	out->subs = subs;
	return 0;
err:
	free(ports);
	free(subs);
	memset(out, 0, sizeof(*out));
	return -1;
}

void fstore_all_free(struct fstore_all *a)
{
	free(a->ports);
	free(a->subs);
	memset(a, 0, sizeof(*a));
}

int fstore_port_insert(struct store *st, struct fctl_port *p, char *errbuf,
		       size_t errlen)
{
	return store_table_insert(st, &fstore_ports, p, &p->id, errbuf, errlen);
}

int fstore_port_update(struct store *st, const struct fctl_port *p,
		       char *errbuf, size_t errlen)
{
	return store_table_update(st, &fstore_ports, p, p->id, errbuf, errlen);
}

int fstore_port_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen)
{
	return store_table_delete(st, &fstore_ports, id, errbuf, errlen);
}

int fstore_sub_insert(struct store *st, struct fctl_sub *s, char *errbuf,
		      size_t errlen)
{
	return store_table_insert(st, &fstore_subs, s, &s->id, errbuf, errlen);
}

int fstore_sub_update(struct store *st, const struct fctl_sub *s,
		      char *errbuf, size_t errlen)
{
	return store_table_update(st, &fstore_subs, s, s->id, errbuf, errlen);
}

int fstore_sub_delete(struct store *st, int64_t id, char *errbuf,
		      size_t errlen)
{
	return store_table_delete(st, &fstore_subs, id, errbuf, errlen);
}
